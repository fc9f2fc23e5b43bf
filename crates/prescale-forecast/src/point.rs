//! Point forecasters: the building blocks of every model. Each takes a gap-free history and
//! returns point forecasts only; intervals come from the series' own backtest residuals
//! ([`crate::conformal`]), the same way for every model.

use std::borrow::Cow;

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::prelude::{Fit, Predict};

use crate::ForecastError;

/// What a point model knows about the series besides its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// Steps per day (24 hourly, 288 at 5 minutes).
    pub steps_per_day: usize,
    /// Where the history lies on the clock, when known. Only models with clock features
    /// ([`crate::flags::Flags`]) use it.
    pub clock: Option<Clock>,
}

/// The clock time of a history's first value and its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Seconds since the Unix epoch of the first value's slot.
    pub start_secs: i64,
    /// Seconds per step.
    pub step_secs: i64,
}

impl Calendar {
    /// A calendar of `steps_per_day` steps a day, not placed on the clock.
    pub const fn new(steps_per_day: usize) -> Self {
        Self { steps_per_day, clock: None }
    }

    /// The calendar of the history from its `offset`-th value on.
    pub fn shifted(self, offset: usize) -> Self {
        let clock = self.clock.map(|c| Clock { start_secs: c.start_secs + offset as i64 * c.step_secs, ..c });
        Self { clock, ..self }
    }

    /// The clock time (seconds since the epoch) of position `i` of the history, when known.
    pub fn secs_at(self, i: usize) -> Option<i64> {
        self.clock.map(|c| c.start_secs + i as i64 * c.step_secs)
    }
}

/// A point forecaster over a gap-free, finite history.
pub trait PointModel: Send + Sync + std::fmt::Debug {
    /// Model id, e.g. `mstl(day,week)`.
    fn name(&self) -> String;

    /// The shortest history (in steps) the model can forecast from.
    fn min_history(&self, cal: Calendar) -> usize;

    /// Forecasts `horizon` steps after the end of `y`.
    ///
    /// # Errors
    /// [`ForecastError::TooShort`] below [`PointModel::min_history`]; [`ForecastError::Model`] when
    /// an underlying model fails.
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError>;

    /// Whether a fit to `n` steps of history models the week (weekly models fall back to their
    /// daily form on less than two weeks).
    fn weekly_at(&self, _n: usize, _cal: Calendar) -> bool {
        false
    }

    /// The id of the model as a fit to `n` steps of history runs it: a weekly model's id and `as
    /// daily` where [`PointModel::weekly_at`] says it falls back to its daily form.
    fn name_at(&self, _n: usize, _cal: Calendar) -> String {
        self.name()
    }

    /// Whether the model's level is a median of the recent past (a flat median, or a robust
    /// profile on a median level): slow but robust to incidents, bursts and level shifts. The
    /// engine keeps only these where nothing else beat its reference in the backtests.
    fn robust_level(&self) -> bool {
        false
    }
}

pub(crate) fn check_len(n: usize, needed: usize) -> Result<(), ForecastError> {
    if n < needed.max(1) { Err(ForecastError::TooShort { needed: needed.max(1), got: n }) } else { Ok(()) }
}

/// Median of a slice (NaN-free); 0 for an empty slice.
pub(crate) fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    // The middle value found by selection, not a sort: the same values a sort puts there.
    let mut s = v.to_vec();
    let m = s.len() / 2;
    let (below, &mut mid, _) = s.select_nth_unstable_by(m, f64::total_cmp);
    if v.len() % 2 == 1 {
        mid
    } else {
        let lower = below.iter().copied().max_by(f64::total_cmp).unwrap_or(mid);
        0.5 * (lower + mid)
    }
}

/// The `q`-quantile of values sorted ascending, by linear interpolation at position `q·(n − 1)`;
/// 0 for no values.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The upper of the two middle values of a slice (its median when its length is odd), NaN-free
/// and not empty: a value of the slice itself, for rules that compare against observed levels.
pub(crate) fn upper_median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// Repeats the last `days` days (1 = yesterday, 7 = last week).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeasonalNaivePoint {
    /// Season length in days.
    pub days: usize,
    /// Repeat the incident-cleaned history ([`clean`]) rather than the raw one: a spike of the
    /// last season is not forecast to come back.
    pub cleaned: bool,
}

impl PointModel for SeasonalNaivePoint {
    fn name(&self) -> String {
        let season = match self.days {
            1 => "day".into(),
            7 => "week".into(),
            d => format!("{d}d"),
        };
        if self.cleaned { format!("seasonal-naive({season},cleaned)") } else { format!("seasonal-naive({season})") }
    }
    /// One day: a weekly season with less than two weeks of history falls back to the day.
    fn min_history(&self, cal: Calendar) -> usize {
        if self.days >= 7 { cal.steps_per_day } else { self.days.max(1) * cal.steps_per_day }
    }
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        check_len(y.len(), self.min_history(cal))?;
        let days = if self.days >= 7 && !self.weekly_at(y.len(), cal) { 1 } else { self.days };
        let m = (days * cal.steps_per_day).max(1);
        check_len(y.len(), m)?;
        let n = y.len();
        let x = if self.cleaned { Cow::Owned(clean(y, cal.steps_per_day)) } else { Cow::Borrowed(y) };
        Ok((0..horizon).map(|h| x[n + h - (h / m + 1) * m]).collect())
    }
    fn weekly_at(&self, n: usize, cal: Calendar) -> bool {
        self.days >= 7 && n >= 14 * cal.steps_per_day
    }
    fn name_at(&self, n: usize, cal: Calendar) -> String {
        if self.days >= 7 && !self.weekly_at(n, cal) { format!("{} as daily", self.name()) } else { self.name() }
    }
}

/// A flat forecast at the median of the last `window_days` days: robust to incidents and level
/// shifts, blind to cycles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecentMedian {
    /// Window in days.
    pub window_days: f64,
}

impl PointModel for RecentMedian {
    fn name(&self) -> String {
        format!("median({}d)", self.window_days)
    }
    fn min_history(&self, _cal: Calendar) -> usize {
        1
    }
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        check_len(y.len(), 1)?;
        let w = ((self.window_days * cal.steps_per_day as f64).round() as usize).clamp(1, y.len());
        Ok(vec![median(&y[y.len() - w..]); horizon])
    }
    fn robust_level(&self) -> bool {
        true
    }
}

/// MSTL (augurs): STL decomposition with a daily season, and a weekly one when the history holds
/// two weeks, plus a non-seasonal ETS on the deseasonalised series for level and trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mstl {
    /// Also fit a weekly season when the history holds two full weeks.
    pub weekly: bool,
    /// Fit to the incident-cleaned history ([`clean`]).
    pub cleaned: bool,
}

impl Mstl {
    fn periods(&self, n: usize, cal: Calendar) -> Vec<usize> {
        let d = cal.steps_per_day;
        let mut p = Vec::new();
        if d >= 2 && n >= 2 * d {
            p.push(d);
        }
        if self.weekly && d >= 2 && n >= 14 * d {
            p.push(7 * d);
        }
        p
    }
}

impl PointModel for Mstl {
    fn name(&self) -> String {
        let c = if self.cleaned { ",cleaned" } else { "" };
        if self.weekly { format!("mstl(day,week{c})") } else { format!("mstl(day{c})") }
    }
    fn min_history(&self, cal: Calendar) -> usize {
        2 * cal.steps_per_day
    }
    fn weekly_at(&self, n: usize, cal: Calendar) -> bool {
        self.periods(n, cal).len() > 1
    }
    fn name_at(&self, n: usize, cal: Calendar) -> String {
        if self.weekly && !self.weekly_at(n, cal) { format!("{} as daily", self.name()) } else { self.name() }
    }
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        check_len(y.len(), self.min_history(cal))?;
        let periods = self.periods(y.len(), cal);
        if periods.is_empty() {
            // A step that does not divide a day leaves no daily season to decompose.
            return Err(ForecastError::Model(
                "MSTL needs a daily season, and the series' step does not divide a day\nhint: resample the series \
                 to 1, 5, 10, 15, 30 or 60 minutes, or leave --model out (`auto` forecasts it without one)"
                    .into(),
            ));
        }
        mstl_forecast(y, periods, self.cleaned.then_some(cal.steps_per_day), horizon)
    }
}

/// MSTL with the given periods (none: ETS alone) and an ETS trend, on `y` cleaned of incidents
/// around a profile of period `clean_period` (when given).
pub(crate) fn mstl_forecast(
    y: &[f64],
    periods: Vec<usize>,
    clean_period: Option<usize>,
    horizon: usize,
) -> Result<Vec<f64>, ForecastError> {
    let cleaned;
    let y = if let Some(m) = clean_period {
        cleaned = clean(y, m);
        &cleaned[..]
    } else {
        y
    };
    // A constant history has nothing to decompose (STL and ETS would return rounding noise).
    if y.iter().all(|v| *v == y[0]) {
        return Ok(vec![y.first().copied().unwrap_or(0.0); horizon]);
    }
    // augurs' STL works in f32: centre and scale first so large counts keep their precision.
    let centre = median(y);
    let scale = y.iter().map(|v| (v - centre).abs()).sum::<f64>() / y.len() as f64;
    let scale = if scale > 0.0 && scale.is_finite() { scale } else { 1.0 };
    let z: Vec<f64> = y.iter().map(|v| (v - centre) / scale).collect();
    let model = MSTLModel::new(periods, AutoETS::non_seasonal().into_trend_model());
    let fitted = model.fit(&z).map_err(|e| ForecastError::Model(format!("MSTL: {e}")))?;
    let f = fitted.predict(horizon, None).map_err(|e| ForecastError::Model(format!("MSTL: {e}")))?;
    if f.point.len() != horizon || f.point.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::Model("MSTL returned a non-finite forecast".into()));
    }
    Ok(f.point.iter().map(|v| v * scale + centre).collect())
}

/// Circular moving average of odd width `k` (a profile wraps around midnight).
fn smooth_circular(p: &[f64], k: usize) -> Vec<f64> {
    let m = p.len();
    if k <= 1 || m == 0 {
        return p.to_vec();
    }
    let half = (k / 2).min(m / 2);
    (0..m)
        .map(|i| {
            let sum: f64 = (0..=2 * half).map(|j| p[(i + m + j - half) % m]).sum();
            sum / (2 * half + 1) as f64
        })
        .collect()
}

/// A daily profile aligned to the end of `z`: `p[i]` is the typical deviation from the day's
/// median at positions `n − j·m + i`. The per-slot median over the last `days` whole days (all
/// when `None`) of each day's values minus that day's median; zero with fewer than two days.
fn robust_profile(z: &[f64], m: usize, days: Option<usize>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = z.len();
    let nd = days.map_or(n / m.max(1), |d| d.min(n / m.max(1)));
    if m == 0 || nd < 2 {
        return (vec![0.0; m], Vec::new());
    }
    let rows: Vec<Vec<f64>> = (0..nd)
        .map(|d| {
            let day = &z[n - (nd - d) * m..n - (nd - d - 1) * m];
            let med = median(day);
            day.iter().map(|v| v - med).collect()
        })
        .collect();
    let p = (0..m).map(|i| median(&rows.iter().map(|r| r[i]).collect::<Vec<_>>())).collect();
    (p, rows)
}

/// The end-aligned profile's value at absolute position `idx` of a history of length `n`.
pub(crate) fn slot(p: &[f64], n: usize, idx: usize) -> f64 {
    let m = p.len();
    p[(idx + m - n % m) % m]
}

/// The median of `v` and its robust spread around it: 1.4826 × the median absolute deviation, the
/// standard deviation for normal data that outliers do not move.
pub(crate) fn median_and_spread(v: &[f64]) -> (f64, f64) {
    let centre = median(v);
    (centre, 1.4826 * median(&v.iter().map(|x| (x - centre).abs()).collect::<Vec<_>>()))
}

/// Centred rolling median over `w` points (fewer at the edges): the window kept sorted as it
/// slides (a value in, a value out, each by a binary search), not sorted again at every point:
/// a quarter of a day is 361 points at 1 minute, 5,400 at 1 second. The same values as
/// [`median`] of each window, to the bit.
fn rolling_median(x: &[f64], w: usize) -> Vec<f64> {
    let (n, half) = (x.len(), w / 2);
    let mut window: Vec<f64> = x[..(half + 1).min(n)].to_vec();
    window.sort_by(f64::total_cmp);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let m = window.len() / 2;
        out.push(if window.len() % 2 == 1 { window[m] } else { 0.5 * (window[m - 1] + window[m]) });
        if let Some(&v) = x.get(i + half + 1) {
            let at = window.partition_point(|y| y.total_cmp(&v).is_lt());
            window.insert(at, v);
        }
        if i >= half {
            let v = x[i - half];
            if let Ok(at) = window.binary_search_by(|y| y.total_cmp(&v)) {
                window.remove(at);
            }
        }
    }
    out
}

/// Winsorises incidents out of a history: around a robust daily profile plus a rolling median of
/// what remains (a quarter of a day wide), residuals beyond 4 robust standard deviations are
/// clipped to ±4σ. Level shifts survive (the rolling median follows them); spikes do not.
pub fn clean(z: &[f64], m: usize) -> Vec<f64> {
    let n = z.len();
    if m < 2 || n < 2 * m {
        return z.to_vec();
    }
    let (p, _) = robust_profile(z, m, None);
    let s: Vec<f64> = (0..n).map(|i| slot(&p, n, i)).collect();
    let d: Vec<f64> = z.iter().zip(&s).map(|(a, b)| a - b).collect();
    let lev = rolling_median(&d, (m / 4).max(3) | 1);
    let r: Vec<f64> = d.iter().zip(&lev).map(|(a, b)| a - b).collect();
    let mut sigma = 1.4826 * median(&r.iter().map(|v| v.abs()).collect::<Vec<_>>());
    if !(sigma.is_finite() && sigma > 0.0) {
        sigma = 1.4826 * r.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
        if !(sigma.is_finite() && sigma > 0.0) {
            return z.to_vec();
        }
    }
    (0..n).map(|i| s[i] + lev[i] + r[i].clamp(-4.0 * sigma, 4.0 * sigma)).collect()
}

/// A robust profile over the last `days` days, smoothed over `k` slots and shrunk towards zero by
/// how much of it is sampling noise: `λ = max(0, 1 − noise / mean(p²))`, where
/// `noise = (π/2)·σ² / (days·k)` is the variance of a median of `days` values averaged over `k`
/// slots and `σ` the robust spread of the day-by-slot deviations around the profile; and, when a
/// test on held-out days leaves less than half of it ([`held_out_shrinkage`]: more noise than
/// signal), at most that. A series with no daily cycle gets a flat profile, not a copy of its
/// noise.
pub(crate) fn shrunk_profile(z: &[f64], m: usize, days: usize, k: usize) -> Vec<f64> {
    shrunk_profile_and_share(z, m, days, k).0
}

/// How much of the daily profile of the last week ([`ProfileLevel`]'s, on the incident-cleaned
/// history) survives its noise and held-out tests: 1 a cycle that is all signal, under ½ one
/// that is more noise than signal, 0 none. `None` under two whole days.
pub(crate) fn daily_cycle_share(y: &[f64], cal: Calendar) -> Option<f64> {
    let m = cal.steps_per_day;
    if m < 2 || y.len() < 2 * m {
        return None;
    }
    Some(shrunk_profile_and_share(&clean(y, m), m, 7, hour_slots(cal)).1)
}

/// [`shrunk_profile`] and the share `λ` of the profile it keeps.
fn shrunk_profile_and_share(z: &[f64], m: usize, days: usize, k: usize) -> (Vec<f64>, f64) {
    let (p, rows) = robust_profile(z, m, Some(days));
    if rows.len() < 2 {
        return (p, 0.0);
    }
    let dev: Vec<f64> = rows.iter().flat_map(|r| r.iter().zip(&p).map(|(v, q)| (v - q).abs())).collect();
    let sigma = 1.4826 * median(&dev);
    let mut p = smooth_circular(&p, k);
    let mid = median(&p);
    for v in &mut p {
        *v -= mid;
    }
    let ms = p.iter().map(|v| v * v).sum::<f64>() / m as f64;
    if ms <= 0.0 {
        return (p, 0.0);
    }
    let noise = std::f64::consts::FRAC_PI_2 * sigma * sigma / (rows.len() * k) as f64;
    let by_noise = (1.0 - noise / ms).max(0.0);
    // A profile that held-out days show to be more noise than signal is cut down to what they
    // leave of it. Above that the noise bound decides: a held-out test also shrinks a real cycle
    // whose days differ (weekends, holidays), and a forecast of ordinary days needs it whole.
    // (When the noise bound leaves nothing, there is nothing to test.)
    let held = if by_noise > 0.0 { held_out_shrinkage(&rows, k) } else { 1.0 };
    let lambda = if held < 0.5 { by_noise.min(held) } else { by_noise };
    (p.iter().map(|v| v * lambda).collect(), lambda)
}

/// How much of a profile survives a test on days it did not see: each day is predicted by the
/// profile of the other days, and `λ` (in [0, 1], steps of 0.05) scales that held-out profile to
/// leave the smallest absolute deviations, summed over the days. A held-out profile rests on one
/// day fewer than the full one; with signal-to-noise ratio `s`, `λ = s / (s + 1/(r−1))` for `r`
/// days, so the full profile's is `1 / (1 + (r−1)/r · (1/λ − 1))`, below ½ when `r·s < 1`.
///
/// The noise bound of [`shrunk_profile`] assumes independent deviations. Wandering levels and
/// incidents that last hours are not independent, and a profile made of them predicts no other
/// day: this cuts it down.
fn held_out_shrinkage(rows: &[Vec<f64>], k: usize) -> f64 {
    let (r, m) = (rows.len(), rows.first().map_or(0, Vec::len));
    if r < 2 || m == 0 {
        return 1.0;
    }
    let held_out: Vec<Vec<f64>> = (0..r)
        .map(|d| {
            let others = |i: usize| -> Vec<f64> {
                rows.iter().enumerate().filter(|(e, _)| *e != d).map(|(_, row)| row[i]).collect()
            };
            let q: Vec<f64> = (0..m).map(|i| median(&others(i))).collect();
            let mut q = smooth_circular(&q, k);
            let mid = median(&q);
            q.iter_mut().for_each(|v| *v -= mid);
            q
        })
        .collect();
    let loss = |lambda: f64| -> f64 {
        rows.iter()
            .zip(&held_out)
            .map(|(row, q)| row.iter().zip(q).map(|(v, p)| (v - lambda * p).abs()).sum::<f64>())
            .sum()
    };
    let held = (0..=20)
        .map(|j| f64::from(j) / 20.0)
        .map(|lambda| (lambda, loss(lambda)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(1.0, |(lambda, _)| lambda);
    if held <= 0.0 {
        return 0.0;
    }
    let r = r as f64;
    1.0 / (1.0 + (r - 1.0) / r * (1.0 / held - 1.0))
}

/// Simple exponential smoothing: the final level, with the smoothing weight chosen by the
/// smallest one-step squared error (golden-section search on (0, 1)) and the first value as the
/// initial level.
pub(crate) fn ses_level(x: &[f64]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let run = |alpha: f64| -> (f64, f64) {
        let mut level = x[0];
        let mut sse = 0.0;
        for v in &x[1..] {
            let e = v - level;
            sse += e * e;
            level += alpha * e;
        }
        (sse, level)
    };
    let (mut a, mut b) = (1e-4, 1.0 - 1e-4);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    for _ in 0..40 {
        if run(c).0 < run(d).0 {
            b = d;
        } else {
            a = c;
        }
        c = b - g * (b - a);
        d = a + g * (b - a);
    }
    run(0.5 * (a + b)).1
}

/// Steps in an hour, odd (a centred smoothing window), at least 1.
pub(crate) fn hour_slots(cal: Calendar) -> usize {
    let step_secs = 86_400 / cal.steps_per_day.max(1);
    ((3600.0 / step_secs as f64).round() as usize).max(1) | 1
}

/// `x` less the profile `p` aligned to its end (see [`slot`]).
pub(crate) fn deseasonalise(x: &[f64], p: &[f64]) -> Vec<f64> {
    let n = x.len();
    x.iter().enumerate().map(|(i, v)| v - slot(p, n, i)).collect()
}

/// The level of a deseasonalised history: exponential smoothing of its hourly medians, aligned to
/// the end so that the level has the same dynamics at every step (see [`block_medians`] for why
/// not means).
pub(crate) fn smoothed_level(d: &[f64], cal: Calendar) -> f64 {
    let step_secs = 86_400 / cal.steps_per_day.max(1);
    ses_level(&block_medians(d, (3600 / step_secs).max(1)))
}

/// `summary` of consecutive blocks of `b` steps, aligned to the end of `d` (a partial block at
/// the start is dropped).
fn blocks(d: &[f64], b: usize, summary: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let (n, b) = (d.len(), b.max(1));
    (0..n / b)
        .map(|j| {
            let end = n - (n / b - 1 - j) * b;
            summary(&d[end - b..end])
        })
        .collect()
}

/// Means of consecutive blocks of `b` steps, aligned to the end of `d`.
pub(crate) fn block_means(d: &[f64], b: usize) -> Vec<f64> {
    blocks(d, b, |w| w.iter().sum::<f64>() / w.len() as f64)
}

/// Medians of consecutive blocks of `b` steps, aligned to the end of `d`. A level smoothed from
/// them estimates the typical value, which is what minimises absolute errors: on bursty series
/// (a few very large values in every hour) the hourly mean sits far above almost every value.
pub(crate) fn block_medians(d: &[f64], b: usize) -> Vec<f64> {
    blocks(d, b, median)
}

/// How [`ProfileLevel`] places the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelModel {
    /// Median of the deseasonalised last day: robust, slow.
    Median,
    /// Exponential smoothing of the deseasonalised hourly medians: follows level changes.
    Smoothed,
}

/// A robust daily profile (shrunk by its noise, from an incident-cleaned history) on top of a
/// level model of what remains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileLevel {
    /// Season of the profile in days: 1 (a daily profile) or 7 (a weekly one).
    pub season_days: usize,
    /// Days the profile is taken over.
    pub days: usize,
    /// The level model.
    pub level: LevelModel,
}

impl PointModel for ProfileLevel {
    fn name(&self) -> String {
        let season = if self.season_days >= 7 { "week" } else { "day" };
        match self.level {
            LevelModel::Median => format!("profile({season},{}d)+median", self.days),
            LevelModel::Smoothed => format!("profile({season},{}d)+ses", self.days),
        }
    }
    /// Two days: a weekly profile with less than two weeks of history is a daily one (its
    /// backtests at short origins then score the daily profile it falls back to).
    fn min_history(&self, cal: Calendar) -> usize {
        2 * cal.steps_per_day
    }
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        check_len(y.len(), self.min_history(cal))?;
        let (n, m) = (y.len(), cal.steps_per_day);
        let x = clean(y, m);
        let season = if self.weekly_at(n, cal) { 7 } else { 1 };
        let p = shrunk_profile(&x, season * m, (self.days / season).max(2), hour_slots(cal));
        let d = deseasonalise(&x, &p);
        let level = match self.level {
            LevelModel::Median => median(&d[n - m..]),
            LevelModel::Smoothed => smoothed_level(&d, cal),
        };
        Ok((0..horizon).map(|h| level + slot(&p, n, n + h)).collect())
    }
    fn weekly_at(&self, n: usize, cal: Calendar) -> bool {
        self.season_days >= 7 && n >= 14 * cal.steps_per_day
    }
    fn name_at(&self, n: usize, cal: Calendar) -> String {
        if self.season_days >= 7 && !self.weekly_at(n, cal) { format!("{} as daily", self.name()) } else { self.name() }
    }
    fn robust_level(&self) -> bool {
        self.level == LevelModel::Median
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURLY: Calendar = Calendar::new(24);

    #[test]
    fn mstl_on_a_step_that_does_not_divide_a_day_says_what_to_do() {
        // A 7-minute step: no daily season (one step per "day" in the calendar).
        let y: Vec<f64> = (0..1000).map(|i| 50.0 + (i % 17) as f64).collect();
        let e = Mstl { weekly: true, cleaned: true }.forecast(&y, Calendar::new(1), 10).unwrap_err();
        assert!(e.to_string().contains("does not divide a day") && e.to_string().contains("resample"), "{e}");
        // On an hourly step it forecasts.
        let f = Mstl { weekly: false, cleaned: true }.forecast(&y[..96], HOURLY, 10).unwrap();
        assert_eq!(f.len(), 10);
    }

    proptest::proptest! {
        /// The sliding window gives each point the median of its window, to the bit: with ties,
        /// signed zeros, windows wider than the series and the narrower windows at its edges; and
        /// the median by selection is the sorted middle's.
        #[test]
        fn the_rolling_median_is_each_windows_median(
            x in proptest::collection::vec(proptest::strategy::Strategy::prop_map(proptest::prop_oneof![-3i32..4, -1000i32..1000], |v| f64::from(v) / 4.0), 0..300),
            w in 1usize..80,
            negative_zero in proptest::bool::ANY,
        ) {
            let mut x = x;
            if negative_zero && !x.is_empty() {
                x[0] = -0.0;
            }
            let half = w / 2;
            let naive: Vec<f64> = (0..x.len())
                .map(|i: usize| median(&x[i.saturating_sub(half)..(i + half + 1).min(x.len())]))
                .collect();
            let sliding = rolling_median(&x, w);
            let sorted = |v: &[f64]| {
                let mut s = v.to_vec();
                s.sort_by(f64::total_cmp);
                let m = s.len() / 2;
                if s.is_empty() { 0.0 } else if s.len() % 2 == 1 { s[m] } else { 0.5 * (s[m - 1] + s[m]) }
            };
            proptest::prop_assert_eq!(median(&x).to_bits(), sorted(&x).to_bits());
            proptest::prop_assert_eq!(
                naive.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                sliding.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }

    fn daily(days: usize) -> Vec<f64> {
        (0..days * 24).map(|t| 100.0 + 50.0 * (std::f64::consts::TAU * (t % 24) as f64 / 24.0).sin()).collect()
    }

    #[test]
    fn profile_ignores_one_incident_day_and_follows_a_level_shift() {
        let mut y = daily(7);
        for v in &mut y[3 * 24..3 * 24 + 3] {
            *v *= 5.0; // an incident
        }
        let model = ProfileLevel { season_days: 1, days: 7, level: LevelModel::Median };
        let f = model.forecast(&y, HOURLY, 24).unwrap();
        let truth = &daily(1);
        let mae = f.iter().zip(truth).map(|(a, b)| (a - b).abs()).sum::<f64>() / 24.0;
        assert!(mae < 1.0, "MAE {mae}: {f:?}");
        let shifted: Vec<f64> = y.iter().enumerate().map(|(t, v)| if t >= 5 * 24 { v + 40.0 } else { *v }).collect();
        let g = ProfileLevel { season_days: 1, days: 7, level: LevelModel::Smoothed }
            .forecast(&shifted, HOURLY, 24)
            .unwrap();
        let mae = g.iter().zip(truth).map(|(a, b)| (a - b - 40.0).abs()).sum::<f64>() / 24.0;
        assert!(mae < 3.0, "after a level shift, MAE {mae}: {g:?}");
    }

    #[test]
    fn a_profile_of_pure_noise_is_shrunk_flat() {
        let mut x = 7u64;
        let y: Vec<f64> = (0..24 * 14)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                100.0 + ((x >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 20.0
            })
            .collect();
        let f = ProfileLevel { season_days: 1, days: 7, level: LevelModel::Median }.forecast(&y, HOURLY, 24).unwrap();
        let spread = f.iter().cloned().fold(f64::MIN, f64::max) - f.iter().cloned().fold(f64::MAX, f64::min);
        assert!(spread < 4.0, "noise (±10) copied into the profile: spread {spread}");
    }

    #[test]
    fn a_profile_of_wandering_levels_is_shrunk_flat_and_a_real_cycle_kept() {
        // Hours-long excursions at random times of day, no daily cycle: the deviations are
        // correlated within a day, so the independent-noise bound alone keeps 69 % of them.
        let mut rng = prescale_core::SplitMix64(11);
        let mut level = 0.0;
        let wander: Vec<f64> = (0..24 * 7)
            .map(|_| {
                level = 0.9 * level + 10.0 * (rng.uniform() - 0.5);
                100.0 + level
            })
            .collect();
        let spread =
            |p: &[f64]| p.iter().cloned().fold(f64::MIN, f64::max) - p.iter().cloned().fold(f64::MAX, f64::min);
        let p = shrunk_profile(&wander, 24, 7, 1);
        let (raw, _) = robust_profile(&wander, 24, Some(7));
        assert!(spread(&p) < 0.5 * spread(&raw), "profile {:.1} of raw {:.1}", spread(&p), spread(&raw));
        // The same excursions on top of a daily cycle: the cycle stays.
        let cycle: Vec<f64> = daily(7).iter().zip(&wander).map(|(c, w)| c + w - 100.0).collect();
        let p = shrunk_profile(&cycle, 24, 7, 1);
        assert!(spread(&p) > 80.0, "a ±50 cycle kept {:.1}", spread(&p));
    }

    #[test]
    fn mstl_follows_a_daily_cycle_at_large_magnitudes() {
        let y: Vec<f64> = daily(14).iter().map(|v| 1e9 + 1e6 * v).collect();
        let f = Mstl { weekly: false, cleaned: false }.forecast(&y, HOURLY, 48).unwrap();
        let truth: Vec<f64> = daily(2).iter().map(|v| 1e9 + 1e6 * v).collect();
        let mae = f.iter().zip(&truth).map(|(a, b)| (a - b).abs()).sum::<f64>() / 48.0;
        assert!(mae < 1e6, "MAE {mae}");
    }

    #[test]
    fn short_histories_are_refused_with_the_numbers() {
        let e = Mstl { weekly: true, cleaned: false }.forecast(&[1.0; 30], HOURLY, 5).unwrap_err();
        assert_eq!(e, ForecastError::TooShort { needed: 48, got: 30 });
        assert_eq!(RecentMedian { window_days: 1.0 }.forecast(&[1.0, 5.0, 3.0], HOURLY, 2).unwrap(), vec![3.0; 2]);
    }
}
