//! A linear model on lags, rolling statistics and calendar terms: ridge regression (linfa's
//! elastic net with no L1 part) fitted to the series' own history, forecasting the whole horizon
//! directly (one model per horizon bucket, no recursion).
//!
//! Every training row is an (origin `t`, step ahead `h`) pair sampled from the history. Its
//! features are computed at `t` only, its target is the value at `t + h`, and everything is
//! measured from the level at `t` (the mean of the cleaned day before it) in units of the series'
//! typical day-over-day change, so one set of coefficients serves every level and scale. The
//! model learns corrections to a baseline, that level plus the daily shape at the target's time
//! of day: the penalty shrinks it towards that robust forecast, not towards a flat line.
//! See `models/README.md` for the feature list and why.

use linfa::Dataset;
use linfa::traits::Fit;
use linfa_elasticnet::ElasticNet;
use ndarray::{Array1, Array2};
use prescale_core::SplitMix64;

use std::sync::Arc;

use crate::ForecastError;
use crate::flags::Flags;
use crate::point::{Calendar, PointModel, check_len, clean, median};

/// Ridge penalties tried by the inner validation (on standardised features: `1.0` halves a
/// coefficient that the data alone would set, `0.01` leaves it nearly as it is).
const PENALTIES: [f64; 3] = [0.01, 0.1, 1.0];
/// Harmonics of the daily and the weekly cycle among the calendar terms.
const DAY_HARMONICS: usize = 3;
const WEEK_HARMONICS: usize = 2;
/// Features besides the calendar terms (see [`History::features`]).
const BASE_FEATURES: usize = 13;
const FEATURES: usize = BASE_FEATURES + 2 * DAY_HARMONICS + 2 * WEEK_HARMONICS;
/// Index of the daily shape among the features: the baseline the model corrects.
const SHAPE: usize = 7;

/// Ridge regression on lagged values, rolling statistics and calendar terms, direct over the
/// horizon: one model per horizon bucket (the next hour, up to 6 h, up to a day, beyond), each
/// fitted to pairs sampled from the history, the penalty chosen on its most recent quarter.
#[derive(Debug, Clone, PartialEq)]
pub struct Ridge {
    /// Training rows per horizon bucket (sampled (origin, step) pairs).
    pub rows_per_bucket: usize,
    /// Holidays and events: four features (a holiday at the target, at the slots its day-old and
    /// week-old lags come from, an event at the target), learnt from the history like
    /// any other, and known for the future. Used when the calendar places the history on the
    /// clock; without a holiday or an event in the history they carry no weight.
    pub flags: Option<Arc<Flags>>,
}

impl Default for Ridge {
    fn default() -> Self {
        Self { rows_per_bucket: 400, flags: None }
    }
}

/// The cleaned history with prefix sums, for window means in O(1).
struct History {
    x: Vec<f64>,
    prefix: Vec<f64>,
    /// Steps per day.
    m: usize,
    /// Steps per hour (at least 1).
    hour: usize,
    /// The unit of every value feature: the mean absolute day-over-day change.
    scale: f64,
    /// The history's calendar (for the clock of the flags).
    cal: Calendar,
    /// Holidays and events, when known.
    flags: Option<Arc<Flags>>,
    /// Whether the history is two weeks or longer (weekly terms are zero otherwise).
    weekly: bool,
}

/// What is known at an origin `t`, shared by every step ahead from it.
struct Origin {
    t: usize,
    level: f64,
    stats: [f64; 5],
}

impl History {
    fn new(y: &[f64], cal: Calendar, flags: Option<Arc<Flags>>) -> Self {
        let m = cal.steps_per_day.max(1);
        let x = clean(y, m);
        let mut prefix = Vec::with_capacity(x.len() + 1);
        prefix.push(0.0);
        for v in &x {
            prefix.push(prefix[prefix.len() - 1] + v);
        }
        let lag = if x.len() > m { m } else { 1 };
        let diffs: Vec<f64> = (lag..x.len()).map(|i| (x[i] - x[i - lag]).abs()).collect();
        let mut scale = if diffs.is_empty() { 0.0 } else { diffs.iter().sum::<f64>() / diffs.len() as f64 };
        if !(scale.is_finite() && scale > 0.0) {
            // A constant series: any unit will do, the features are all zero.
            let typical = x.iter().map(|v| v.abs()).sum::<f64>() / x.len().max(1) as f64;
            scale = if typical.is_finite() && typical > 0.0 { typical } else { 1.0 };
        }
        Self { weekly: x.len() >= 14 * m, hour: (m / 24).max(1), x, prefix, m, scale, cal, flags }
    }

    /// Mean of `x[a..b]` clipped to `[0, limit)`; `None` when that is empty.
    fn mean(&self, a: isize, b: isize, limit: usize) -> Option<f64> {
        let a = a.max(0) as usize;
        let b = (b.max(0) as usize).min(limit);
        (b > a).then(|| (self.prefix[b] - self.prefix[a]) / (b - a) as f64)
    }

    /// The position of the target `tau`'s slot in the most recent season of `period` steps
    /// that lies before the origin `t`, `skip` seasons further back.
    fn slot_at(&self, tau: usize, t: usize, period: usize, skip: usize) -> Option<usize> {
        let k = if tau < t { 1 } else { (tau - t) / period + 1 } + skip;
        tau.checked_sub(k * period)
    }

    /// The mean around `c` (± half an hour), seen from origin `t`.
    fn around(&self, c: usize, t: usize) -> Option<f64> {
        let half = (self.hour / 2) as isize;
        self.mean(c as isize - half, c as isize + half + 1, t)
    }

    /// The typical deviation of the target's time of day from its day's mean: the median over up
    /// to 7 days before the origin of the value around the slot minus the mean of the day
    /// centred on it. Level-free, so it carries the daily shape while the level comes from the
    /// origin; a median, so one incident day does not bend it.
    fn shape(&self, tau: usize, t: usize) -> Option<f64> {
        let half_day = (self.m / 2) as isize;
        let devs: Vec<f64> = (0..7)
            .filter_map(|k| {
                let c = self.slot_at(tau, t, self.m, k)?;
                let v = self.around(c, t)?;
                // The whole day around the slot, or the last whole day before the origin.
                let end = (c as isize + half_day).min(t as isize);
                let day = self.mean(end - self.m as isize, end, t)?;
                Some(v - day)
            })
            .collect();
        (!devs.is_empty()).then(|| median(&devs))
    }

    fn origin(&self, t: usize) -> Origin {
        let day = &self.x[t.saturating_sub(self.m)..t];
        let mean_day = day.iter().sum::<f64>() / day.len().max(1) as f64;
        // The level is the day's mean (of the cleaned history): the daily shape is measured from
        // day means too.
        let level = mean_day;
        let sd = (day.iter().map(|v| (v - mean_day).powi(2)).sum::<f64>() / day.len().max(1) as f64).sqrt();
        let z = |v: f64| (v - level) / self.scale;
        let ti = t as isize;
        let recent = |steps: usize| self.mean(ti - steps as isize, ti, t).map_or(0.0, z);
        Origin {
            t,
            level,
            stats: [z(self.x[t - 1]), recent(self.hour), recent(6 * self.hour), z(mean_day), sd / self.scale],
        }
    }

    /// The feature row of target `o.t + h`: the origin's statistics (last value, means of the
    /// last hour, 6 h and day, the day's standard deviation), the same slot a day before and a
    /// week before, the daily shape at the target's time of day ([`History::shape`]), the step
    /// ahead in days, the flags ([`Ridge::flags`]: zero without them), and Fourier terms of the
    /// target's time of day and of week.
    fn features(&self, o: &Origin, h: usize, out: &mut Vec<f64>) {
        let tau = o.t + h;
        let z = |v: f64| (v - o.level) / self.scale;
        let day = self.slot_at(tau, o.t, self.m, 0).and_then(|c| self.around(c, o.t));
        // Under two weeks most rows would have no week-old value: the day-old one stands in for all.
        let week =
            if self.weekly { self.slot_at(tau, o.t, 7 * self.m, 0).and_then(|c| self.around(c, o.t)) } else { None };
        let week = week.or(day);
        out.extend_from_slice(&o.stats);
        out.push(day.map_or(0.0, z));
        out.push(week.map_or(0.0, z));
        out.push(self.shape(tau, o.t).map_or(0.0, |v| v / self.scale));
        out.push(h as f64 / self.m as f64);
        let flag = |secs: Option<i64>| match (&self.flags, secs) {
            (Some(f), Some(t)) => f.at(t),
            _ => Default::default(),
        };
        // The lags' sources: a holiday there makes the lag a poor guide to an ordinary day.
        let source = |period: usize| flag(self.slot_at(tau, o.t, period, 0).and_then(|c| self.cal.secs_at(c)));
        let at = flag(self.cal.secs_at(tau));
        let week_source = if self.weekly { source(7 * self.m) } else { source(self.m) };
        let one = |b: bool| if b { 1.0 } else { 0.0 };
        out.extend_from_slice(&[one(at.holiday), one(source(self.m).holiday), one(week_source.holiday), one(at.event)]);
        // The phase is counted from the start of this history: with whole harmonic pairs the
        // fit is the same whatever the clock time of that start (a shift rotates each pair).
        let phase = |period: usize| std::f64::consts::TAU * (tau % period) as f64 / period as f64;
        for k in 1..=DAY_HARMONICS {
            let a = k as f64 * phase(self.m);
            out.extend_from_slice(&[a.sin(), a.cos()]);
        }
        for k in 1..=WEEK_HARMONICS {
            let a = k as f64 * phase(7 * self.m);
            if self.weekly { out.extend_from_slice(&[a.sin(), a.cos()]) } else { out.extend_from_slice(&[0.0, 0.0]) }
        }
    }
}

/// Training rows of one horizon bucket, oldest origin first.
struct Rows {
    x: Vec<f64>,
    y: Vec<f64>,
    origins: Vec<usize>,
}

/// A fitted bucket model on standardised features.
struct Linear {
    mean: Vec<f64>,
    sd: Vec<f64>,
    /// Each feature's range in the training rows: a new row is clipped to it, so a feature
    /// beyond anything seen in training (a burst of volatility) cannot extrapolate.
    range: Vec<(f64, f64)>,
    w: Vec<f64>,
    b: f64,
}

impl Linear {
    fn predict(&self, f: &[f64]) -> f64 {
        self.b
            + f.iter()
                .zip(&self.mean)
                .zip(&self.sd)
                .zip(&self.w)
                .zip(&self.range)
                .map(|((((v, mu), sd), w), (lo, hi))| if *sd > 0.0 { w * (v.clamp(*lo, *hi) - mu) / sd } else { 0.0 })
                .sum::<f64>()
    }
}

fn fit_linear(rows: &Rows, take: &[usize], penalty: f64) -> Result<Linear, ForecastError> {
    let n = take.len();
    let mut mean = [0.0; FEATURES];
    let mut sd = [0.0; FEATURES];
    for &r in take {
        for (j, m) in mean.iter_mut().enumerate() {
            *m += rows.x[r * FEATURES + j] / n as f64;
        }
    }
    for &r in take {
        for (j, s) in sd.iter_mut().enumerate() {
            *s += (rows.x[r * FEATURES + j] - mean[j]).powi(2) / n as f64;
        }
    }
    let sd: Vec<f64> = sd.iter().map(|v| if *v > 1e-12 { v.sqrt() } else { 0.0 }).collect();
    let mut range = vec![(f64::INFINITY, f64::NEG_INFINITY); FEATURES];
    for &r in take {
        for (j, (lo, hi)) in range.iter_mut().enumerate() {
            let v = rows.x[r * FEATURES + j];
            (*lo, *hi) = (lo.min(v), hi.max(v));
        }
    }
    let mut data = Vec::with_capacity(n * FEATURES);
    for &r in take {
        for j in 0..FEATURES {
            data.push(if sd[j] > 0.0 { (rows.x[r * FEATURES + j] - mean[j]) / sd[j] } else { 0.0 });
        }
    }
    let records = Array2::from_shape_vec((n, FEATURES), data)
        .map_err(|e| ForecastError::Model(format!("ridge: feature matrix: {e}")))?;
    let targets = Array1::from_iter(take.iter().map(|&r| rows.y[r]));
    let model = ElasticNet::ridge()
        .penalty(penalty)
        // Coordinate descent: a thousandth of the target's sum of squares is close enough for a
        // forecast, and bounds the cost of nearly collinear lags.
        .max_iterations(100)
        .tolerance(1e-3)
        .fit(&Dataset::new(records, targets))
        .map_err(|e| ForecastError::Model(format!("ridge: {e}")))?;
    let w = model.hyperplane().to_vec();
    let b = model.intercept();
    if !b.is_finite() || w.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::Model("ridge: the fit did not converge to finite coefficients".into()));
    }
    Ok(Linear { mean: mean.to_vec(), sd, range, w, b })
}

fn mae_of(model: &Linear, rows: &Rows, take: &[usize]) -> f64 {
    take.iter().map(|&r| (rows.y[r] - model.predict(&rows.x[r * FEATURES..(r + 1) * FEATURES])).abs()).sum()
}

impl Ridge {
    /// Bucket edges in steps ahead (0-based): the next hour, up to 6 h, up to a day, beyond.
    fn buckets(h: &History) -> [(usize, usize); 4] {
        let e1 = h.hour;
        let e2 = (6 * h.hour).min(h.m).max(e1);
        let e3 = h.m.max(e2);
        [(0, e1), (e1, e2), (e2, e3), (e3, 2 * h.m.max(1))]
    }

    fn sample(&self, hist: &History, lo: usize, hi: usize, rng: &mut SplitMix64) -> Rows {
        let n = hist.x.len();
        // Origins see three days of history, as the engine's backtest origins do, so that the
        // rows look like the forecast's own (a shape over several days); fewer (at least one) when
        // the history is under five days.
        let first = (3 * hist.m).min(n.saturating_sub(2 * hist.m)).max(hist.m);
        let mut rows = Rows { x: Vec::new(), y: Vec::new(), origins: Vec::new() };
        // The largest step that still leaves an origin with a target inside the history.
        let hi = hi.min(n.saturating_sub(first));
        if hi <= lo {
            return rows;
        }
        let mut pairs: Vec<(usize, usize)> = (0..self.rows_per_bucket)
            .map(|_| {
                let h = lo + (rng.uniform() * (hi - lo) as f64) as usize;
                let span = n - h - first;
                (first + (rng.uniform() * span as f64) as usize, h)
            })
            .collect();
        pairs.sort_unstable();
        let mut cache: Option<Origin> = None;
        let mut f = Vec::with_capacity(FEATURES);
        for (t, h) in pairs {
            if cache.as_ref().is_none_or(|o| o.t != t) {
                cache = Some(hist.origin(t));
            }
            let Some(o) = cache.as_ref() else { continue };
            f.clear();
            hist.features(o, h, &mut f);
            rows.x.extend_from_slice(&f);
            rows.y.push((hist.x[t + h] - o.level) / hist.scale - f[SHAPE]);
            rows.origins.push(t);
        }
        // Winsorise the targets: a pair whose origin lies before a level shift or an incident and
        // whose target after it is unpredictable from the features, and under a squared loss a
        // few of them would steer every coefficient.
        let (centre, spread) = crate::point::median_and_spread(&rows.y);
        if spread > 0.0 {
            for v in &mut rows.y {
                *v = v.clamp(centre - 4.0 * spread, centre + 4.0 * spread);
            }
        }
        rows
    }
}

impl PointModel for Ridge {
    fn name(&self) -> String {
        "ridge".into()
    }

    /// Two days: a day of statistics before the first origin, a day of targets after it.
    fn min_history(&self, cal: Calendar) -> usize {
        (2 * cal.steps_per_day).max(2 * FEATURES)
    }

    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        check_len(y.len(), self.min_history(cal))?;
        let hist = History::new(y, cal, self.flags.clone());
        let mut rng = SplitMix64(0x5EED ^ y.len() as u64);
        let buckets = Self::buckets(&hist);
        let sets: Vec<Rows> = buckets.iter().map(|&(lo, hi)| self.sample(&hist, lo, hi, &mut rng)).collect();
        let min_rows = 4 * FEATURES;
        // The penalty: the one with the smallest error over every bucket's most recent quarter
        // of origins, each bucket fitted on the rest.
        let mut best = (f64::INFINITY, PENALTIES[PENALTIES.len() - 1]);
        for &penalty in &PENALTIES {
            let mut total = 0.0;
            let mut any = false;
            for rows in &sets {
                let k = rows.y.len();
                if k < 2 * min_rows {
                    continue;
                }
                let cut = rows.origins[k * 3 / 4];
                let (fit, hold): (Vec<usize>, Vec<usize>) = (0..k).partition(|&r| rows.origins[r] < cut);
                if fit.len() < min_rows || hold.is_empty() {
                    continue;
                }
                if let Ok(model) = fit_linear(rows, &fit, penalty) {
                    total += mae_of(&model, rows, &hold) / hold.len() as f64;
                    any = true;
                }
            }
            if any && total < best.0 {
                best = (total, penalty);
            }
        }
        let models: Vec<Option<Linear>> = sets
            .iter()
            .map(|rows| {
                let all: Vec<usize> = (0..rows.y.len()).collect();
                (all.len() >= min_rows).then(|| fit_linear(rows, &all, best.1).ok()).flatten()
            })
            .collect();
        if models.iter().all(Option::is_none) {
            return Err(ForecastError::TooShort { needed: self.min_history(cal) + hist.m, got: y.len() });
        }
        // Clip to the history's range widened by half its width on either side (and at zero for
        // a non-negative series): a linear model must not extrapolate without bound.
        let (lo, hi) = hist.x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        let width = hi - lo;
        let floor = if y.iter().all(|v| *v >= 0.0) { (lo - 0.5 * width).max(0.0) } else { lo - 0.5 * width };
        let ceiling = hi + 0.5 * width;
        let origin = hist.origin(hist.x.len());
        let mut f = Vec::with_capacity(FEATURES);
        (0..horizon)
            .map(|h| {
                let b = buckets.iter().rposition(|&(lo, _)| h >= lo).unwrap_or(0);
                // A bucket without enough rows borrows the nearest shorter one's model (or the
                // nearest longer one's when there is none).
                let model = models[..=b]
                    .iter()
                    .rev()
                    .chain(models[b + 1..].iter())
                    .flatten()
                    .next()
                    .ok_or_else(|| ForecastError::Model("ridge: no bucket model".into()))?;
                f.clear();
                hist.features(&origin, h, &mut f);
                let v = origin.level + hist.scale * (f[SHAPE] + model.predict(&f));
                if v.is_finite() {
                    Ok(v.clamp(floor, ceiling.max(floor)))
                } else {
                    Err(ForecastError::Model("ridge returned a non-finite forecast".into()))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::RecentMedian;
    use crate::synthetic;

    const HOURLY: Calendar = Calendar::new(24);

    fn mae(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
    }

    #[test]
    fn bad_inputs_give_finite_forecasts_or_a_clear_error() {
        let r = Ridge::default();
        for v in [5.0, 0.0] {
            let f = r.forecast(&vec![v; 24 * 14], HOURLY, 48).unwrap();
            assert!(f.iter().all(|p| (p - v).abs() < 1e-9), "constant {v}: {f:?}");
        }
        let e = r.forecast(&[1.0; 30], HOURLY, 5).unwrap_err();
        assert_eq!(e, ForecastError::TooShort { needed: 48, got: 30 });
        // Exactly the minimum, and a horizon longer than any bucket trained on.
        let y: Vec<f64> = (0..48).map(|t| (t % 24) as f64).collect();
        let f = r.forecast(&y, HOURLY, 24 * 5).unwrap();
        assert!(f.len() == 24 * 5 && f.iter().all(|p| p.is_finite() && *p >= 0.0), "{f:?}");
        // Five-minute steps, negative values, a spike.
        let mut y: Vec<f64> = (0..288 * 9).map(|t| -50.0 + 10.0 * ((t % 288) as f64 / 40.0).sin()).collect();
        y[1000] = 1e6;
        let f = r.forecast(&y, Calendar::new(288), 576).unwrap();
        assert!(f.iter().all(|p| p.is_finite() && *p < 0.0), "{f:?}");
    }

    #[test]
    fn ridge_beats_a_flat_median_on_weekly_web_traffic() {
        let series = synthetic::Shape::web(42, 21, 3600).series();
        let (train, test) = series.values().split_at(series.len() - 48);
        let f = Ridge::default().forecast(train, HOURLY, 48).unwrap();
        let flat = RecentMedian { window_days: 1.0 }.forecast(train, HOURLY, 48).unwrap();
        let (ridge, median) = (mae(&f, test), mae(&flat, test));
        assert!(ridge < 0.6 * median, "ridge MAE {ridge} vs flat median {median}");
    }

    #[test]
    fn a_level_shift_moves_the_forecast() {
        let mut rng = SplitMix64(7);
        let mut y: Vec<f64> =
            (0..24 * 10).map(|t| 100.0 + 20.0 * ((t % 24) as f64 / 3.8).sin() + 5.0 * rng.normal()).collect();
        let n = y.len();
        for v in &mut y[n - 30..] {
            *v += 200.0;
        }
        let f = Ridge::default().forecast(&y, HOURLY, 24).unwrap();
        let mean = f.iter().sum::<f64>() / 24.0;
        assert!(mean > 250.0, "forecast stays at the old level: {f:?}");
    }
}
