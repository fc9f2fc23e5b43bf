//! Fitting on a local clock. The models learn the daily cycle by the slot of the day on the
//! series' grid, which is UTC: for load that follows a zone's local clocks (office hours), the
//! days after a daylight-saving change have their rise an hour off the days before it. Moved to
//! the zone's standard-time clock first (each slot shifted by the hour its local clock runs
//! ahead of standard time), every day has its rise in the same slot; the forecast is made on that
//! clock and moved back to UTC.
//!
//! `shift(t)` is the seconds the local clock runs ahead of the zone's standard time at `t` (0 in
//! winter, 3,600 in summer time), which the caller knows from the zone. [`LocalClock`] carries it
//! in [`crate::BuildOptions::clock`], and [`crate::ModelSpec::build_with`] then wraps the model in
//! [`OnLocalClock`], so `forecast fit`, `backtest` and the simulator's nightly fits all move the
//! history the same way; the holidays (UTC spans of local days) move with it.
//!
//! Whether a load follows local clocks is the data's to say: a clock [`LocalClock::by_data`] is
//! taken only where the history crosses a change of the zone's offset and the model fitted on it
//! forecasts the history's last week clearly better than the same model on UTC ([`EitherClock`]).
//! Elsewhere the two clocks differ by a constant, so the fit on UTC is the same forecast.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use prescale_core::{Forecast, Interval, Level, ON_EITHER_CLOCK, ON_LOCAL_CLOCK, Series};

use crate::transform::Bounds;
use crate::{CandidateScore, FittedModel, ForecastError, Forecaster, Rewrite, Rewritten};

/// A zone's daylight saving, as the shift of its clock ahead of its standard time at each
/// instant, in seconds. Named for messages; two clocks are equal when their names are.
#[derive(Clone)]
pub struct LocalClock {
    name: String,
    shift: Arc<dyn Fn(DateTime<Utc>) -> i64 + Send + Sync>,
    by_data: bool,
}

impl LocalClock {
    /// The clock called `name` (a zone, e.g. `America/New_York`) whose summer time runs `shift(t)`
    /// seconds ahead of its standard time at `t`.
    pub fn new(name: impl Into<String>, shift: impl Fn(DateTime<Utc>) -> i64 + Send + Sync + 'static) -> Self {
        Self { name: name.into(), shift: Arc::new(shift), by_data: false }
    }

    /// The same clock, taken only where the history shows the load follows it ([`EitherClock`]).
    #[must_use]
    pub fn by_data(self) -> Self {
        Self { by_data: true, ..self }
    }

    /// Whether the clock is taken only where the history shows the load follows it.
    pub fn is_by_data(&self) -> bool {
        self.by_data
    }

    /// The clock's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Seconds the clock runs ahead of its standard time at `t`.
    pub fn shift(&self, t: DateTime<Utc>) -> i64 {
        (self.shift)(t)
    }

    /// Seconds since the epoch `secs` as they read on the standard-time clock the history is
    /// moved to (`secs + shift`): where a UTC span's ends lie there.
    pub fn on_standard_clock(&self, secs: i64) -> i64 {
        DateTime::from_timestamp(secs, 0).map_or(secs, |t| secs + self.shift(t))
    }
}

impl std::fmt::Debug for LocalClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalClock({}{})", self.name, if self.by_data { ", by data" } else { "" })
    }
}

impl PartialEq for LocalClock {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.by_data == other.by_data
    }
}

/// A model on a zone's clock or on UTC, whichever the history shows its load follows: where the
/// history crosses a change of the zone's offset, both are fitted without the history's last week
/// (a whole week: its weekdays' rises tell the clocks apart, where a weekend's quiet days would
/// not) and, where one of them forecasts that week clearly nearer than the other (mean absolute
/// error on UTC, [`LOCAL_MARGIN`]), it is fitted on the whole history.
///
/// Where the history cannot tell (it crosses no change; it is under two weeks, a week held out and
/// a week to learn from; its week since the change holds no weekday's rise; or the two clocks
/// forecast that week alike), the forecast covers both clocks wherever they differ: its intervals
/// reach from the lower of the two forecasts' bounds to the higher of their upper ones, and its
/// point is their mean (the model id reads `local|utc:…`). A history that crosses no change
/// differs between the clocks by a constant, so the fit on UTC says both: the two differ only
/// after a change within the horizon (the night before the clocks change), where the local clock's
/// forecast is the UTC one moved by the change. Fitted on one clock alone, the floors of that
/// night would rise an hour late, or fall an hour early, for load that follows the other.
/// A history the clock cannot move (see [`OnLocalClock`]) goes to UTC.
#[derive(Debug)]
pub struct EitherClock {
    /// The model on the zone's clock, and the same model on UTC (its `on_utc`).
    pub local: OnLocalClock,
}

/// The days [`EitherClock`] holds out to choose the clock.
const HELD_OUT_DAYS: i64 = 7;

/// How much nearer the zone's clock must forecast the held-out week to be taken: its mean absolute
/// error below this share of UTC's (a clock the data do not clearly favour stays UTC).
pub const LOCAL_MARGIN: f64 = 0.95;

impl EitherClock {
    /// Whether the load of `history` follows the local clock: its last week forecast clearly better
    /// on it than on UTC (`Some(true)`), or clearly better on UTC (`Some(false)`). `None` where
    /// there is nothing to choose (no change of offset in the history, too short a history, a step
    /// the clock cannot move, a fit that fails) or the two forecast the week alike.
    pub fn follows_local_clock(&self, history: &Series) -> Option<bool> {
        self.judge(history, &self.shifts(history))
    }

    /// The clock's shift at each slot of `history`.
    fn shifts(&self, history: &Series) -> Vec<i64> {
        (0..history.len()).map(|i| self.local.clock.shift(history.ts(i))).collect()
    }

    /// [`EitherClock::follows_local_clock`] with the history's `shifts` at hand.
    fn judge(&self, history: &Series, shifts: &[i64]) -> Option<bool> {
        let step = history.step_secs();
        // No change to choose across, or no whole slots to move (as `to_standard_clock` needs).
        if shifts.iter().all(|s| Some(s) == shifts.first()) || shifts.iter().any(|s| s % step.max(1) != 0) {
            return None;
        }
        let held = usize::try_from(HELD_OUT_DAYS * 86_400 / step.max(1)).ok()?.max(1);
        if history.len() < 2 * held {
            return None;
        }
        let cut = history.len() - held;
        let train = Series::new(history.start(), step, history.values()[..cut].to_vec()).ok()?;
        let actual = &history.values()[cut..];
        let error = |model: &dyn Forecaster| -> Option<f64> {
            let f = model.fit(&train).ok()?.predict(held, &[]).ok()?;
            let (sum, n) = f
                .point
                .iter()
                .zip(actual)
                .filter(|(p, a)| p.is_finite() && a.is_finite())
                .fold((0.0, 0usize), |(s, n), (p, a)| (s + (p - a).abs(), n + 1));
            (n > 0).then(|| sum / n as f64)
        };
        let (local, utc) = (error(&self.local)?, error(self.local.on_utc.as_ref())?);
        if local < LOCAL_MARGIN * utc {
            Some(true)
        } else if utc < LOCAL_MARGIN * local {
            Some(false)
        } else {
            None
        }
    }
}

impl Forecaster for EitherClock {
    fn name(&self) -> String {
        self.local.on_utc.name()
    }

    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError> {
        let shifts = self.shifts(history);
        match self.judge(history, &shifts) {
            Some(true) => return self.local.fit(history),
            Some(false) => return self.local.on_utc.fit(history),
            None => {}
        }
        let utc = self.local.on_utc.fit(history)?;
        let clock = &self.local.clock;
        let step = history.step_secs().max(1);
        if history.is_empty() || shifts.iter().any(|s| s % step != 0) {
            return Ok(utc);
        }
        // Across a change in the history the two fits differ everywhere; else the local one is the
        // UTC one moved by each change ahead.
        let local = if shifts.iter().all(|s| Some(s) == shifts.first()) {
            None
        } else {
            match self.local.fit(history) {
                Ok(f) => Some(f),
                Err(_) => return Ok(utc),
            }
        };
        // Why the forecast covers both clocks, said where it does.
        let held = usize::try_from(HELD_OUT_DAYS * 86_400 / step).unwrap_or(usize::MAX);
        let why = if local.is_some() && history.len() < 2 * held {
            "the history crosses a daylight-saving change, but is under two weeks long (a week to learn from, a \
             week to judge by), too short to show whether the load follows UTC or"
        } else if local.is_some() {
            "the history crosses a daylight-saving change, but fitted without its last week on each clock, the two \
             forecast that week alike (within 5 %; a week since the change without a weekday's rise tells them \
             apart no better), so it does not show whether the load follows UTC or"
        } else {
            "the forecast crosses a daylight-saving change, and the history, which crosses none, cannot show whether \
             the load follows UTC or"
        };
        let keep = ((7200 / step) as usize).clamp(1, history.len());
        let first = history.len() - keep;
        let tail = Series::new(history.ts(first), step, history.values()[first..].to_vec())
            .map_err(|e| ForecastError::BadInput(format!("the history's last hours: {e}")))?;
        Ok(Box::new(FittedOnEitherClock {
            utc,
            local,
            clock: clock.clone(),
            start: history.end(),
            step,
            last_shift: shifts[shifts.len() - 1],
            why,
            tail,
            bounds: self.local.bounds,
            covered: std::sync::OnceLock::new(),
        }))
    }
}

/// A fit whose history cannot tell which clock the load follows: see [`EitherClock`].
#[derive(Debug)]
struct FittedOnEitherClock {
    utc: Box<dyn FittedModel>,
    /// The fit on the local clock, where the history crosses a change (else the UTC fit says it).
    local: Option<Box<dyn FittedModel>>,
    clock: LocalClock,
    /// Where the forecast starts: the end of the history.
    start: DateTime<Utc>,
    step: i64,
    /// The clock's shift at the history's last slot.
    last_shift: i64,
    /// Why the history cannot tell the clocks apart, for the warning where the forecast covers both.
    why: &'static str,
    /// The history's last two hours: after the clocks go back, the local clock's first steps are
    /// readings the history holds.
    tail: Series,
    /// The series' physical bounds, for the steps taken from the history.
    bounds: Bounds,
    /// The warning of the first forecast that covered both clocks, or whose step could not follow
    /// the change ahead and stayed on UTC.
    covered: std::sync::OnceLock<String>,
}

impl FittedOnEitherClock {
    /// The UTC forecast of `horizon` steps, and the local clock's where it differs, from a UTC
    /// forecast of the history that crosses no change.
    fn moved(&self, horizon: usize, levels: &[Level]) -> Result<(Forecast, Option<Forecast>), ForecastError> {
        let at = |i: usize| self.start + Duration::seconds(self.step * i as i64);
        let changes: Vec<i64> = (0..horizon).map(|i| self.clock.shift(at(i)) - self.last_shift).collect();
        if changes.iter().all(|&c| c == 0) {
            return Ok((self.utc.predict(horizon, levels)?, None));
        }
        // A step that does not divide the change (hourly load where the clocks move by 30
        // minutes) has no whole slots to move: UTC, said.
        if changes.iter().any(|c| c % self.step != 0) {
            let _ = self.covered.set(format!(
                "the forecast crosses a daylight-saving change of {}, and its step of {} s does not divide the time \
                 the clocks move there: its daily cycle after the change stays on UTC (a step that divides it can \
                 follow the local clock)",
                self.clock.name(),
                self.step
            ));
            return Ok((self.utc.predict(horizon, levels)?, None));
        }
        let extra = changes.iter().map(|c| (c / self.step).unsigned_abs() as usize).max().unwrap_or(0);
        let long = self.utc.predict(horizon + extra, levels)?;
        // UTC step i on the local clock: the UTC forecast's step i + the change's steps, or the
        // history's reading where that lies before the forecast.
        let shift = |t| self.clock.shift(t) - self.last_shift;
        let local = back_on_utc(&long, self.start, horizon, &shift, &self.tail, &self.bounds)?;
        let mut utc = long;
        utc.truncate(horizon);
        Ok((utc, Some(local)))
    }
}

/// The id and the backtest scores (which `[trust]` judges) are the UTC fit's: where the history
/// cannot tell the clocks apart, the two fits' backtests are alike.
impl FittedModel for FittedOnEitherClock {
    fn model_id(&self) -> String {
        self.utc.model_id()
    }

    fn warnings(&self) -> Vec<String> {
        let mut w = self.utc.warnings();
        w.extend(self.covered.get().cloned());
        w
    }

    fn predict(&self, horizon: usize, levels: &[Level]) -> Result<Forecast, ForecastError> {
        let (utc, local) = match &self.local {
            Some(local) => (self.utc.predict(horizon, levels)?, Some(local.predict(horizon, levels)?)),
            None => self.moved(horizon, levels)?,
        };
        let Some(local) = local.filter(|l| l.len() == utc.len() && l.intervals.len() == utc.intervals.len()) else {
            return Ok(utc);
        };
        let _ = self.covered.set(format!(
            "{} {}'s clock (daily_clock = \"auto\"): the forecast covers both where they differ, from the lower \
             of their bounds to the higher (daily_clock = \"local\" or \"utc\" settles it)",
            self.why,
            self.clock.name()
        ));
        let point = utc.point.iter().zip(&local.point).map(|(a, b)| 0.5 * (a + b)).collect();
        let intervals = utc
            .intervals
            .iter()
            .zip(&local.intervals)
            .map(|(a, b)| Interval {
                level: a.level,
                lower: a.lower.iter().zip(&b.lower).map(|(x, y)| x.min(*y)).collect(),
                upper: a.upper.iter().zip(&b.upper).map(|(x, y)| x.max(*y)).collect(),
            })
            .collect();
        let mut f =
            Forecast::new(format!("{ON_EITHER_CLOCK}{}", utc.model), utc.start, utc.step_secs, point, intervals)
                .map_err(|e| ForecastError::Model(format!("the forecast on both clocks: {e}")))?;
        f.keep_fit_of(&utc);
        Ok(f)
    }

    fn scores(&self) -> Vec<CandidateScore> {
        self.utc.scores()
    }
}

/// A forecaster fitted on the standard-time clock of [`LocalClock`] and forecasting on UTC: the
/// inner model sees the history moved by [`to_standard_clock`] (its holidays moved alike by
/// [`crate::ModelSpec::build_with`]), its forecast comes back by [`from_standard_clock`]. Its id
/// is the inner one's behind `local:`. A series whose step does not divide the clock's shift (a
/// 3-hour step, or hourly data in a zone that moves by 30 minutes) has no whole slots to move: it
/// is fitted on UTC by `on_utc` (the same model with its holidays where they are), under its own
/// id, with a warning.
#[derive(Debug)]
pub struct OnLocalClock {
    /// The model, built with holidays on the standard-time clock.
    pub inner: Box<dyn Forecaster>,
    /// The same model with its holidays on UTC, for a series that cannot be moved.
    pub on_utc: Box<dyn Forecaster>,
    /// The zone's clock.
    pub clock: LocalClock,
    /// The series' physical bounds, for the steps a forecast takes from the history (see
    /// [`from_standard_clock`]).
    pub bounds: Bounds,
}

impl Forecaster for OnLocalClock {
    fn name(&self) -> String {
        format!("{ON_LOCAL_CLOCK}{}", self.inner.name())
    }

    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError> {
        let clock = self.clock.clone();
        let Some(moved) = to_standard_clock(history, &|t| clock.shift(t)) else {
            let warning = format!(
                "the daily cycle is learnt on UTC, not on {}'s clock: its step of {} s does not divide the time its \
                 clocks move, so its slots cannot be moved (a step of an hour or less can)",
                clock.name(),
                history.step_secs()
            );
            let inner = self.on_utc.fit(history)?;
            let (id, mut warnings) = (inner.model_id(), inner.warnings());
            warnings.push(warning);
            return Ok(Box::new(Rewritten { inner, id, warnings, rewrite: AsItIs }));
        };
        let inner = self.inner.fit(&moved)?;
        // The moved history's last two hours: after the clocks go back, its end lies up to an hour
        // past the UTC history's, and a forecast starting there takes those steps from it.
        let step = history.step_secs();
        let keep = ((7200 / step.max(1)) as usize).clamp(1, moved.len());
        let first = moved.len() - keep;
        let tail = Series::new(moved.ts(first), step, moved.values()[first..].to_vec())
            .map_err(|e| ForecastError::BadInput(format!("the history on the local clock: {e}")))?;
        Ok(Box::new(FittedOnLocalClock { inner, clock, start: history.end(), step, tail, bounds: self.bounds }))
    }
}

/// A forecast left as it is (a fit on UTC that only adds a warning).
#[derive(Debug)]
struct AsItIs;

impl Rewrite for AsItIs {
    fn rewrite(&self, f: Forecast) -> Result<Forecast, ForecastError> {
        Ok(f)
    }
}

#[derive(Debug)]
struct FittedOnLocalClock {
    inner: Box<dyn FittedModel>,
    clock: LocalClock,
    /// Where the UTC forecast starts: the end of the UTC history.
    start: DateTime<Utc>,
    step: i64,
    /// The last two hours of the history on the standard clock.
    tail: Series,
    bounds: Bounds,
}

impl FittedModel for FittedOnLocalClock {
    fn model_id(&self) -> String {
        format!("{ON_LOCAL_CLOCK}{}", self.inner.model_id())
    }

    fn warnings(&self) -> Vec<String> {
        self.inner.warnings()
    }

    fn predict(&self, horizon: usize, levels: &[Level]) -> Result<Forecast, ForecastError> {
        // Steps enough for the largest shift more on that clock: the UTC horizon's last steps lie
        // up to an hour (two, for a double summer time) ahead of it there.
        let extra = (7200 / self.step.max(1)) as usize + 1;
        let on_clock = self.inner.predict(horizon + extra, levels)?;
        let f = back_on_utc(&on_clock, self.start, horizon, &|t| self.clock.shift(t), &self.tail, &self.bounds)?;
        Ok(Forecast { model: self.model_id(), ..f })
    }

    fn scores(&self) -> Vec<CandidateScore> {
        self.inner.scores()
    }
}

/// [`from_standard_clock`] with the history's last hours as `known`, within `bounds`: steps taken
/// from the history carry the first step's interval around a reading, which may pass a bound (the
/// forecast's own steps are within them already).
fn back_on_utc(
    on_clock: &Forecast,
    start: DateTime<Utc>,
    len: usize,
    shift: &dyn Fn(DateTime<Utc>) -> i64,
    known: &Series,
    bounds: &Bounds,
) -> Result<Forecast, ForecastError> {
    let mut f = from_standard_clock(on_clock, start, len, shift, Some(known)).ok_or_else(|| {
        ForecastError::BadInput("the forecast on the local clock could not be moved back to UTC".into())
    })?;
    let clip = |v: &mut Vec<f64>| v.iter_mut().for_each(|x| *x = bounds.clip(*x));
    clip(&mut f.point);
    for iv in &mut f.intervals {
        clip(&mut iv.lower);
        clip(&mut iv.upper);
    }
    Ok(f)
}

/// `series` on the standard-time clock: the value of UTC slot `t` moves to slot `t + shift(t)`.
/// The hour the clocks skip, which no reading lands in, is drawn straight between its neighbours
/// (it is the clock's gap, not the data's: a model would fill it alike, and warn of missing
/// data); the hour they repeat holds the mean of its two readings; a missing reading stays
/// missing. `None` where a shift is not a whole number of steps (a step longer than the shift):
/// such a series has no hour to move, and is fitted as it is.
pub fn to_standard_clock(series: &Series, shift: &dyn Fn(DateTime<Utc>) -> i64) -> Option<Series> {
    let step = series.step_secs();
    if series.is_empty() || step <= 0 {
        return None;
    }
    let shifts: Vec<i64> = (0..series.len()).map(|i| shift(series.ts(i))).collect();
    if shifts.iter().any(|s| s % step != 0) {
        return None;
    }
    let start = series.start() + Duration::seconds(shifts[0]);
    let slot = |i: usize| -> i64 { (series.ts(i) + Duration::seconds(shifts[i]) - start).num_seconds() / step };
    let n = (0..series.len()).map(slot).max().unwrap_or(0).max(0) as usize + 1;
    // Per slot on that clock: the sum and count of its finite readings, and whether any reading
    // (missing ones too) lands in it.
    let (mut sum, mut count, mut landed) = (vec![0.0; n], vec![0u32; n], vec![false; n]);
    for (i, v) in series.values().iter().enumerate() {
        let Ok(k) = usize::try_from(slot(i)) else { continue };
        landed[k] = true;
        if v.is_finite() {
            sum[k] += v;
            count[k] += 1;
        }
    }
    let mut values: Vec<f64> =
        sum.iter().zip(&count).map(|(s, c)| if *c > 0 { s / f64::from(*c) } else { f64::NAN }).collect();
    // The skipped hour: between the last value before it and the first after it.
    let mut k = 0;
    while k < n {
        if landed[k] {
            k += 1;
            continue;
        }
        let end = (k..n).find(|&j| landed[j]).unwrap_or(n);
        let before = values[..k].iter().rev().find(|v| v.is_finite()).copied();
        let after = values[end..].iter().find(|v| v.is_finite()).copied();
        let gap = (end - k + 1) as f64;
        for (j, v) in values[k..end].iter_mut().enumerate() {
            *v = match (before, after) {
                (Some(a), Some(b)) => a + (b - a) * (j + 1) as f64 / gap,
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => f64::NAN,
            };
        }
        k = end;
    }
    Series::new(start, step, values).ok()
}

/// A forecast made on the standard-time clock (`on_clock`, which follows the series
/// [`to_standard_clock`] made), as `len` steps from `start` on UTC: UTC step `t` takes the
/// standard-clock step `t + shift(t)`.
///
/// A forecast that starts within the hour the clocks repeat in autumn has UTC steps before the
/// first one `on_clock` holds: their standard-clock steps are in the history already, read in
/// the hour's first pass (the same wall-clock time an hour before). Those steps take that reading
/// from `known` (the history on the standard clock), with the first step's interval around it;
/// without it, or where it is missing, they take `on_clock`'s first step.
pub fn from_standard_clock(
    on_clock: &Forecast,
    start: DateTime<Utc>,
    len: usize,
    shift: &dyn Fn(DateTime<Utc>) -> i64,
    known: Option<&Series>,
) -> Option<Forecast> {
    let step = on_clock.step_secs.max(1);
    if on_clock.is_empty() {
        return None;
    }
    let last = on_clock.len() - 1;
    // Per UTC step: the forecast step it takes, and the known reading it takes instead, if any.
    let index: Vec<(usize, Option<f64>)> = (0..len)
        .map(|i| {
            let t = start + Duration::seconds(step * i as i64);
            let on = t + Duration::seconds(shift(t));
            let k = (on - on_clock.start).num_seconds().div_euclid(step);
            let reading = known.filter(|_| k < 0).and_then(|h| {
                let j = usize::try_from((on - h.start()).num_seconds().div_euclid(step)).ok()?;
                h.values().get(j).copied().filter(|v| v.is_finite())
            });
            (k.clamp(0, last as i64) as usize, reading)
        })
        .collect();
    let point: Vec<f64> = index.iter().map(|&(k, r)| r.unwrap_or(on_clock.point[k])).collect();
    // An interval keeps its distance from the point: around a known reading, the first step's.
    let pick =
        |v: &[f64]| index.iter().map(|&(k, r)| r.map_or(v[k], |r| r + v[k] - on_clock.point[k])).collect::<Vec<f64>>();
    let intervals = on_clock
        .intervals
        .iter()
        .map(|iv| Interval { level: iv.level, lower: pick(&iv.lower), upper: pick(&iv.upper) })
        .collect();
    let mut f = Forecast::new(on_clock.model.clone(), start, step, point, intervals).ok()?;
    f.keep_fit_of(on_clock);
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike};

    /// New York's summer time from 2027-03-14 07:00 UTC.
    fn ny(t: DateTime<Utc>) -> i64 {
        if t >= Utc.with_ymd_and_hms(2027, 3, 14, 7, 0, 0).unwrap() { 3600 } else { 0 }
    }

    #[test]
    fn office_hours_keep_their_slot_across_the_change_and_come_back_on_utc() {
        // Hourly load, 1,000 from 08:00 to 18:00 New York time (13:00–23:00 UTC in winter,
        // 12:00–22:00 in summer), 100 otherwise, ten days around the change.
        let start = Utc.with_ymd_and_hms(2027, 3, 9, 5, 0, 0).unwrap();
        let values: Vec<f64> = (0..240)
            .map(|i| {
                let t = start + Duration::hours(i);
                let local = (t + Duration::seconds(ny(t)) - Duration::hours(5)).format("%H").to_string();
                let h: u32 = local.parse().unwrap();
                if (8..18).contains(&h) { 1000.0 } else { 100.0 }
            })
            .collect();
        let s = Series::new(start, 3600, values).unwrap();
        let clock = to_standard_clock(&s, &ny).unwrap();
        // On the standard clock every rise is in the same slot: 13:00 "UTC" (08:00 EST).
        let rises: Vec<String> = (1..clock.len())
            .filter(|&i| clock.values()[i] == 1000.0 && clock.values()[i - 1] == 100.0)
            .map(|i| clock.ts(i).format("%H").to_string())
            .collect();
        assert_eq!(rises.len(), 10, "{rises:?}");
        assert!(rises.iter().all(|h| h == "13"), "{rises:?}");
        // The skipped hour is drawn between its neighbours (100 at night on both sides): nothing is
        // missing, so no model warns of a gap in the data.
        assert!(clock.values().iter().all(|v| v.is_finite()));
        assert_eq!(clock.len(), 241, "the skipped hour is a slot more");
        let mut gappy = s.values().to_vec();
        gappy[3] = f64::NAN;
        let with_gap = to_standard_clock(&Series::new(start, 3600, gappy).unwrap(), &ny).unwrap();
        assert_eq!(with_gap.values().iter().filter(|v| v.is_nan()).count(), 1, "the data's own gap stays");
        // A forecast on that clock, moved back, rises at 12:00 UTC in summer.
        let f_start = clock.end();
        let point: Vec<f64> = (0..30)
            .map(|i| {
                if (13..23).contains(&((f_start + Duration::hours(i)).format("%H").to_string().parse::<i64>().unwrap()))
                {
                    1000.0
                } else {
                    100.0
                }
            })
            .collect();
        let on_clock = Forecast::new("m", f_start, 3600, point, Vec::new()).unwrap();
        let back = from_standard_clock(&on_clock, s.end(), 24, &ny, None).unwrap();
        assert_eq!(back.start, s.end());
        let rise = (0..24).find(|&i| back.point[i] == 1000.0).map(|i| back.ts(i).format("%H").to_string());
        assert_eq!(rise.as_deref(), Some("12"));
        // A shift that is not a whole number of steps (a daily series): nothing to move.
        let daily = Series::new(start, 86_400, vec![1.0; 10]).unwrap();
        assert!(to_standard_clock(&daily, &ny).is_none());
    }

    #[test]
    fn a_forecast_starting_in_the_repeated_autumn_hour_takes_its_first_pass_from_the_history() {
        // New York's clocks go back at 2027-11-07 06:00 UTC (02:00 EDT → 01:00 EST): 01:00–02:00
        // is lived twice. Load at 15 minutes equal to the local minute of the day, history to
        // 06:30 UTC, half an hour into the second pass.
        let back_at = Utc.with_ymd_and_hms(2027, 11, 7, 6, 0, 0).unwrap();
        let ny_autumn = |t: DateTime<Utc>| if t < back_at { 3600 } else { 0 };
        let local_minute = |t: DateTime<Utc>| {
            let l = t + Duration::seconds(ny_autumn(t)) - Duration::hours(5);
            f64::from(l.hour() * 60 + l.minute())
        };
        let start = back_at - Duration::hours(24);
        let history: Vec<f64> = (0..98).map(|i| local_minute(start + Duration::minutes(15 * i))).collect();
        let s = Series::new(start, 900, history).unwrap();
        assert_eq!(s.end(), back_at + Duration::minutes(30));
        let moved = to_standard_clock(&s, &ny_autumn).unwrap();
        // The moved history runs to the end of the repeated hour: its last half hour was read once.
        assert_eq!(moved.end(), back_at + Duration::hours(1));
        // A forecast on that clock from there: the local minute again, with an interval of ±10.
        let point: Vec<f64> = (0..12).map(|i| local_minute(moved.end() + Duration::minutes(15 * i))).collect();
        let iv = Interval {
            level: Level::new(80.0).unwrap(),
            lower: point.iter().map(|v| v - 10.0).collect(),
            upper: point.iter().map(|v| v + 10.0).collect(),
        };
        let on_clock = Forecast::new("m", moved.end(), 900, point, vec![iv]).unwrap();
        let f = from_standard_clock(&on_clock, s.end(), 6, &ny_autumn, Some(&moved)).unwrap();
        // 06:30 and 06:45 UTC are 01:30 and 01:45 EST: the first pass's readings at that wall-clock
        // time, with the first step's interval around them; then the forecast from 02:00 on.
        assert_eq!(f.point, [90.0, 105.0, 120.0, 135.0, 150.0, 165.0]);
        assert_eq!(f.intervals[0].lower[..2], [80.0, 95.0]);
        assert_eq!(f.intervals[0].upper[..2], [100.0, 115.0]);
        // Without the history, those steps hold the forecast's first (02:00), as before.
        let held = from_standard_clock(&on_clock, s.end(), 6, &ny_autumn, None).unwrap();
        assert_eq!(held.point[..3], [120.0, 120.0, 120.0]);
    }

    type Span = (DateTime<Utc>, DateTime<Utc>);

    /// Two holidays as whole New York days in summer time (04:00 to 04:00 UTC), one in May's
    /// history and one ahead, and options on New York's clock with them (weekends ignored).
    fn ny_holidays() -> ([Span; 2], crate::BuildOptions) {
        let day = |d: u32| Utc.with_ymd_and_hms(2027, 5, d, 4, 0, 0).unwrap();
        let holidays = [(day(3), day(4)), (day(21), day(22))];
        let options = crate::BuildOptions {
            flags: Some(std::sync::Arc::new(crate::flags::Flags::new(
                holidays.iter().map(|(a, b)| (a.timestamp(), b.timestamp())).collect(),
                Vec::new(),
            ))),
            weekends: crate::Weekends::Ignore,
            clock: Some(LocalClock::new("test/New_York", ny)),
            ..crate::BuildOptions::default()
        };
        (holidays, options)
    }

    #[test]
    fn a_model_built_on_a_local_clock_keeps_holidays_on_their_local_days() {
        use crate::ModelSpec;
        // Hourly load at about 100, 10 on the holidays.
        let (holidays, options) = ny_holidays();
        let day = |d: u32| Utc.with_ymd_and_hms(2027, 5, d, 4, 0, 0).unwrap();
        let start = Utc.with_ymd_and_hms(2027, 4, 1, 4, 0, 0).unwrap();
        let values: Vec<f64> = (0..49 * 24)
            .map(|i| {
                let t = start + Duration::hours(i);
                if holidays.iter().any(|(a, b)| *a <= t && t < *b) { 10.0 } else { 100.0 + (i % 7) as f64 * 0.5 }
            })
            .collect();
        let s = Series::new(start, 3600, values).unwrap();
        let fitted = ModelSpec::Median { window_days: 1.0 }.build_with(&options).fit(&s).unwrap();
        let f = fitted.predict(48, &[]).unwrap();
        assert!(f.model.starts_with("local:"), "{}", f.model);
        assert_eq!(f.start, day(20));
        // The holiday ahead starts at its local midnight, 04:00 UTC (step 24), not an hour before:
        // the holidays moved to the standard-time clock with the history.
        assert!(f.point[23] > 90.0, "23:00 the evening before: {}", f.point[23]);
        assert!(f.point[24] < 20.0 && f.point[47] < 20.0, "on the holiday: {} {}", f.point[24], f.point[47]);
    }

    /// Hourly load, 1,000 from 08:00 to 18:00 and 100 otherwise on the clock `hour_of(t)` reads,
    /// for `days` days from 2027-03-01 05:00 UTC (New York's clocks change on the 14th).
    fn office_hours(days: i64, hour_of: impl Fn(DateTime<Utc>) -> u32) -> Series {
        let start = Utc.with_ymd_and_hms(2027, 3, 1, 5, 0, 0).unwrap();
        let values = (0..days * 24)
            .map(|i| if (8..18).contains(&hour_of(start + Duration::hours(i))) { 1000.0 } else { 100.0 })
            .collect();
        Series::new(start, 3600, values).unwrap()
    }

    /// Options on New York's clock, taken where the history shows the load follows it; weekends
    /// ignored.
    fn ny_by_data() -> crate::BuildOptions {
        crate::BuildOptions {
            weekends: crate::Weekends::Ignore,
            clock: Some(LocalClock::new("test/New_York", ny).by_data()),
            ..crate::BuildOptions::default()
        }
    }

    #[test]
    fn the_data_say_whether_the_load_follows_the_local_clock() {
        use crate::ModelSpec;
        let options = ny_by_data();
        let profile = ModelSpec::Profile { season: crate::Season::Day, days: 14, level: Default::default() };
        let model = profile.build_with(&options);
        let fit = |s: &Series| model.fit(s).unwrap().predict(24, &[]).unwrap();
        let rise = |f: &Forecast| (0..f.len()).find(|&i| f.point[i] > 500.0).map(|i| f.ts(i).hour());
        // Office hours in New York: from the 14th on, they open at 12:00 UTC, not 13:00.
        let local = |t: DateTime<Utc>| (t + Duration::seconds(ny(t)) - Duration::hours(5)).hour();
        let f = fit(&office_hours(20, local));
        assert!(f.model.starts_with("local:"), "{}", f.model);
        assert_eq!(rise(&f), Some(12));
        // The same hours on UTC (13:00 to 23:00): the change moves nothing, and UTC is kept.
        let utc = |t: DateTime<Utc>| (t - Duration::hours(5)).hour();
        let f = fit(&office_hours(20, utc));
        assert!(!f.model.starts_with("local:"), "{}", f.model);
        assert_eq!(rise(&f), Some(13));
        // Under two weeks of history, though it crosses the change: too little to tell, UTC.
        let all = office_hours(24, local);
        let from = 10 * 24 + 1;
        let short = Series::new(all.ts(from), 3600, all.values()[from..].to_vec()).unwrap();
        assert!(short.start() < Utc.with_ymd_and_hms(2027, 3, 14, 7, 0, 0).unwrap() && short.len() < 14 * 24);
        let f = fit(&short);
        assert!(f.model.starts_with("local|utc:"), "too little to tell: both clocks covered, {}", f.model);
        let top = |f: &Forecast, i: usize| f.intervals.last().map_or(f.point[i], |iv| iv.upper[i]);
        assert!(top(&f, 12) > 500.0 || rise(&f) == Some(12), "the earlier rise is covered");
        // Office hours on weekdays only, run on a Monday: the week held out has five rises, not a
        // weekend's none (two days held out would have chosen by noise).
        let weekdays = |t: DateTime<Utc>| {
            let l = t + Duration::seconds(ny(t)) - Duration::hours(5);
            if l.weekday().number_from_monday() <= 5 { l.hour() } else { 0 }
        };
        let monday = office_hours(21, weekdays);
        assert_eq!((monday.end() - Duration::hours(5)).weekday(), chrono::Weekday::Mon);
        let f = fit(&monday);
        assert!(f.model.starts_with("local:"), "{}", f.model);
    }

    #[test]
    fn a_forecast_across_a_change_the_history_cannot_judge_covers_both_clocks() {
        use crate::ModelSpec;
        let options = ny_by_data();
        let on_utc = crate::BuildOptions { clock: None, ..options.clone() };
        let profile = ModelSpec::Profile { season: crate::Season::Day, days: 7, level: Default::default() };
        let level = Level::new(80.0).unwrap();
        // Office hours in New York (13:00–23:00 UTC in winter), thirteen days up to 05:00 UTC on
        // the 14th: the history crosses no change, the next 48 hours cross the one at 07:00.
        let local = |t: DateTime<Utc>| (t + Duration::seconds(ny(t)) - Duration::hours(5)).hour();
        let history = office_hours(13, local);
        let fitted = profile.build_with(&options).fit(&history).unwrap();
        let f = fitted.predict(48, &[level]).unwrap();
        let alone = profile.build_with(&on_utc).fit(&history).unwrap().predict(48, &[level]).unwrap();
        assert!(f.model.starts_with("local|utc:"), "{}", f.model);
        assert!(fitted.warnings().iter().any(|w| w.contains("covers both")), "{:?}", fitted.warnings());
        // Before the change the two clocks agree: the UTC fit's forecast, to the digit.
        let change = Utc.with_ymd_and_hms(2027, 3, 14, 7, 0, 0).unwrap();
        let before = (0..48).take_while(|&i| f.ts(i) < change).count();
        assert_eq!(f.point[..before], alone.point[..before]);
        // The next day (the 15th, from 05:00 UTC, steps 24–47): the upper bound is up from the
        // local rise at 12:00 UTC to the UTC fall after 23:00, the lower one only where both are.
        let (upper, lower) = (&f.intervals[0].upper, &f.intervals[0].lower);
        assert_eq!(f.ts(24 + 7).hour(), 12);
        assert!(upper[24 + 7] > 500.0 && lower[24 + 7] < 500.0, "12:00: {} {}", lower[31], upper[31]);
        assert!(upper[24 + 17] > 500.0 && lower[24 + 17] < 500.0, "22:00: {} {}", lower[41], upper[41]);
        assert!(lower[24 + 8] > 500.0 && upper[24 + 6] < 500.0, "13:00 both, 11:00 neither");
        for (i, p) in f.point.iter().enumerate() {
            assert!(lower[i] <= *p && *p <= upper[i], "step {i}");
        }
        // A clock that moves by 30 minutes (Lord Howe's) and hourly load: no whole slots to move,
        // so UTC's forecast, said.
        let half_hour = move |t: DateTime<Utc>| if t >= change { 1800 } else { 0 };
        let options_30 = crate::BuildOptions {
            clock: Some(LocalClock::new("test/Lord_Howe", half_hour).by_data()),
            ..options.clone()
        };
        let fitted = profile.build_with(&options_30).fit(&history).unwrap();
        let f = fitted.predict(48, &[level]).unwrap();
        let alone = profile.build_with(&on_utc).fit(&history).unwrap().predict(48, &[level]).unwrap();
        assert_eq!((f.model.as_str(), &f.point), (alone.model.as_str(), &alone.point));
        assert!(fitted.warnings().iter().any(|w| w.contains("does not divide")), "{:?}", fitted.warnings());
        // Ten days: neither the history nor the horizon crosses a change, and the forecast is UTC's.
        let calm = office_hours(10, local);
        let f = profile.build_with(&options).fit(&calm).unwrap().predict(48, &[level]).unwrap();
        let alone = profile.build_with(&on_utc).fit(&calm).unwrap().predict(48, &[level]).unwrap();
        assert_eq!((f.model.as_str(), &f.point), (alone.model.as_str(), &alone.point));
    }

    #[test]
    fn a_step_the_clock_cannot_move_is_fitted_on_utc_with_its_holidays_and_a_warning() {
        use crate::ModelSpec;
        // Three-hour load: no slot can move by New York's hour.
        let (holidays, options) = ny_holidays();
        let start = Utc.with_ymd_and_hms(2027, 4, 1, 0, 0, 0).unwrap();
        let values: Vec<f64> = (0..49 * 8)
            .map(|i| {
                // A slot is the holiday's when its middle is.
                let t = start + Duration::hours(3 * i) + Duration::minutes(90);
                if holidays.iter().any(|(a, b)| *a <= t && t < *b) { 10.0 } else { 100.0 + (i % 5) as f64 }
            })
            .collect();
        let s = Series::new(start, 3 * 3600, values).unwrap();
        let fitted = ModelSpec::Median { window_days: 1.0 }.build_with(&options).fit(&s).unwrap();
        assert!(fitted.warnings().iter().any(|w| w.contains("learnt on UTC, not on test/New_York's clock")));
        let f = fitted.predict(16, &[]).unwrap();
        assert!(!f.model.starts_with("local:"), "{}", f.model);
        // The holiday ahead on its UTC span: the slot from 00:00 ordinary, the one from 03:00 (its
        // middle at 04:30) on the holiday; moved by the clock's hour, 04:30 would read 03:30.
        assert_eq!(f.ts(9), Utc.with_ymd_and_hms(2027, 5, 21, 3, 0, 0).unwrap());
        assert!(f.point[8] > 90.0 && f.point[9] < 20.0, "{} {}", f.point[8], f.point[9]);
    }
}
