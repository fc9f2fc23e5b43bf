//! Holidays for the engine's models ([`Holidays`] wraps any forecaster): their effect learnt from
//! the history, taken out of it before the model sees it, and put back into the forecast of the
//! holidays ahead.
//!
//! A holiday's effect is one ratio: the median over the history's holidays of each holiday's
//! median load over the median load of the same slots on ordinary days around it (the same
//! weekday a week before and after, else the day before and after). Dividing the history's
//! holiday slots by it makes them ordinary days, so a holiday neither drags a smoothed level down
//! nor bends a profile, and the backtests see ordinary days; multiplying the forecast's holiday
//! steps (and their interval bounds) by it forecasts the holiday. A ratio, not a difference:
//! intervals are relative to the forecast's size, and a holiday's load is a share of a day's.
//! Series that can go negative keep their holidays as they are (a ratio means nothing there).

use std::sync::Arc;

use chrono::Duration;
use prescale_core::{Forecast, Interval, Level, Series};

use crate::flags::Flags;
use crate::point::{Calendar, Clock, median};
use crate::transform::Bounds;
use crate::{FittedModel, ForecastError, Forecaster};

/// What one fit learnt about holidays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HolidayEffect {
    /// A holiday's load over an ordinary day's.
    pub ratio: f64,
    /// The holidays of the history it was learnt from.
    pub learnt_from: usize,
}

/// Bounds on the ratio: a "holiday" a fiftieth or fifty times an ordinary day is a data error.
const RATIO_RANGE: (f64, f64) = (0.02, 50.0);

/// Runs of consecutive holiday slots in `0..n` (each `(start, end)`, end exclusive).
fn runs(n: usize, cal: Calendar, flags: &Flags) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..=n {
        let h = i < n && cal.secs_at(i).is_some_and(|t| flags.at(t).holiday);
        match (h, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Learns the holidays' effect from the history `y` (placed on the clock by `cal`): `None` when
/// no holiday of at least half a day lies in it with ordinary days around it, or the series is
/// not positive there.
pub fn learn(y: &[f64], cal: Calendar, flags: &Flags) -> Option<HolidayEffect> {
    let (n, m) = (y.len(), cal.steps_per_day.max(1));
    let holiday = |i: usize| cal.secs_at(i).is_some_and(|t| flags.at(t).holiday);
    let ordinary = |j: usize| j < n && !holiday(j) && y[j].is_finite();
    let ratios: Vec<f64> = runs(n, cal, flags)
        .into_iter()
        .filter(|(s, e)| e - s >= m.div_ceil(2))
        .filter_map(|(s, e)| {
            let own: Vec<f64> = y[s..e].iter().copied().filter(|v| v.is_finite()).collect();
            let around = |lag: usize| -> Vec<f64> {
                (s..e)
                    .flat_map(|i| [i.checked_sub(lag), Some(i + lag)])
                    .flatten()
                    .filter(|&j| ordinary(j))
                    .map(|j| y[j])
                    .collect()
            };
            let mut reference = around(7 * m);
            if reference.len() < (e - s) / 2 {
                reference = around(m);
            }
            if own.is_empty() || reference.is_empty() {
                return None;
            }
            let (a, b) = (median(&own), median(&reference));
            (a >= 0.0 && b > 0.0).then(|| (a / b).clamp(RATIO_RANGE.0, RATIO_RANGE.1))
        })
        .collect();
    (!ratios.is_empty()).then(|| HolidayEffect { ratio: median(&ratios), learnt_from: ratios.len() })
}

/// `y` with its holiday slots divided by the effect's ratio: ordinary days.
pub fn remove(y: &[f64], cal: Calendar, flags: &Flags, effect: HolidayEffect) -> Vec<f64> {
    let mut out = y.to_vec();
    for (s, e) in runs(y.len(), cal, flags) {
        out[s..e].iter_mut().for_each(|v| *v /= effect.ratio);
    }
    out
}

/// The steps of a forecast starting at `start_secs` (step `h` at `start_secs + h · step_secs`)
/// that fall on a holiday.
pub fn ahead(start_secs: i64, step_secs: i64, horizon: usize, flags: &Flags) -> Vec<bool> {
    (0..horizon).map(|h| flags.at(start_secs + h as i64 * step_secs).holiday).collect()
}

/// How far ahead of a fit a holiday is announced in its warnings: the default horizon.
const ANNOUNCE_HOURS: i64 = 48;

/// A forecaster with holidays: the history's holidays divided by their learnt ratio before
/// `inner` fits it, the forecast's holiday steps multiplied by it (and clipped to `bounds`). A
/// history with no holiday to learn from (or with negative values) is fitted as it is, and a
/// holiday within the next 48 h is then forecast as an ordinary day, with a warning that says so.
#[derive(Debug)]
pub struct Holidays {
    /// The model (with its transform, if any).
    pub inner: Box<dyn Forecaster>,
    /// The holidays; events in them are ignored (the planner applies events).
    pub flags: Arc<Flags>,
    /// Physical bounds, applied again after a holiday's ratio.
    pub bounds: Bounds,
}

#[derive(Debug)]
struct FittedHolidays {
    inner: Box<dyn FittedModel>,
    flags: Arc<Flags>,
    effect: Option<HolidayEffect>,
    bounds: Bounds,
    warnings: Vec<String>,
}

fn calendar(history: &Series) -> Calendar {
    Calendar {
        steps_per_day: history.steps_per_day().max(1),
        clock: Some(Clock { start_secs: history.start().timestamp(), step_secs: history.step_secs() }),
    }
}

impl Forecaster for Holidays {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError> {
        let cal = calendar(history);
        let values = history.values();
        let positive = values.iter().filter(|v| v.is_finite()).all(|v| *v >= 0.0);
        let effect = if positive { learn(values, cal, &self.flags) } else { None };
        let inner = match effect {
            Some(e) => {
                let series = Series::new(history.start(), history.step_secs(), remove(values, cal, &self.flags, e))
                    .map_err(|e| ForecastError::Model(format!("holidays: {e}")))?;
                self.inner.fit(&series)?
            }
            None => self.inner.fit(history)?,
        };
        let mut warnings = inner.warnings();
        let step = history.step_secs().max(1);
        let next = ahead(history.end().timestamp(), step, (ANNOUNCE_HOURS * 3600 / step) as usize, &self.flags);
        if let Some(first) = next.iter().position(|h| *h) {
            let when = (history.end() + Duration::seconds(first as i64 * step)).format("%Y-%m-%d %H:%M UTC");
            warnings.push(match effect {
                Some(e) => format!(
                    "holiday ahead from {when}: forecast at {:.2} × an ordinary day's load, as learnt from {} \
                     holiday{} in the history",
                    e.ratio,
                    e.learnt_from,
                    if e.learnt_from == 1 { "" } else { "s" }
                ),
                None if !positive => format!(
                    "holiday ahead from {when}: forecast as an ordinary day (a series with negative values has no \
                     holiday ratio)"
                ),
                None => format!(
                    "holiday ahead from {when}: forecast as an ordinary day, since the history holds no holiday to \
                     learn its effect from (`prescale event add` shapes a known day)"
                ),
            });
        }
        Ok(Box::new(FittedHolidays { inner, flags: Arc::clone(&self.flags), effect, bounds: self.bounds, warnings }))
    }
}

impl FittedModel for FittedHolidays {
    fn model_id(&self) -> String {
        self.inner.model_id()
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn predict(&self, horizon: usize, levels: &[Level]) -> Result<Forecast, ForecastError> {
        let f = self.inner.predict(horizon, levels)?;
        let Some(effect) = self.effect else { return Ok(f) };
        // A holiday's load is the ratio's share of an ordinary day's, and so are its interval
        // bounds (the engine's intervals are relative to the forecast's size).
        let on = ahead(f.start.timestamp(), f.step_secs, f.point.len(), &self.flags);
        if !on.iter().any(|h| *h) {
            return Ok(f);
        }
        let scale = |v: &[f64]| -> Vec<f64> {
            v.iter().zip(&on).map(|(x, h)| if *h { self.bounds.clip(x * effect.ratio) } else { *x }).collect()
        };
        let intervals = f
            .intervals
            .iter()
            .map(|iv| Interval { level: iv.level, lower: scale(&iv.lower), upper: scale(&iv.upper) })
            .collect();
        let mut out = Forecast::new(f.model.clone(), f.start, f.step_secs, scale(&f.point), intervals)?;
        out.scores = f.scores;
        Ok(out)
    }

    fn scores(&self) -> Vec<crate::CandidateScore> {
        self.inner.scores()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::Clock;

    const DAY: i64 = 86_400;

    fn cal(n_days_before_epoch: i64) -> Calendar {
        Calendar { steps_per_day: 24, clock: Some(Clock { start_secs: n_days_before_epoch * DAY, step_secs: 3600 }) }
    }

    /// Three weeks of hourly load, 100 on weekdays with a daily shape; `holidays` (day indices)
    /// at `share` of it.
    fn series(holidays: &[usize], share: f64) -> Vec<f64> {
        (0..21 * 24)
            .map(|t| {
                let day = t / 24;
                let base = 100.0 + 30.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
                if holidays.contains(&day) { base * share } else { base }
            })
            .collect()
    }

    fn flags(days: &[i64]) -> Flags {
        Flags::new(days.iter().map(|d| (d * DAY, (d + 1) * DAY)).collect(), vec![(0, 5 * DAY)])
    }

    #[test]
    fn learns_the_ratio_and_removes_it_from_the_history() {
        let y = series(&[9, 16], 0.4);
        let f = flags(&[9, 16, 30]);
        let effect = learn(&y, cal(0), &f).unwrap();
        assert!((effect.ratio - 0.4).abs() < 1e-9, "{effect:?}");
        assert_eq!(effect.learnt_from, 2);
        let clean = remove(&y, cal(0), &f, effect);
        let plain = series(&[], 1.0);
        assert!(clean.iter().zip(&plain).all(|(a, b)| (a - b).abs() < 1e-9), "ordinary days after removal");
        // Events are not holidays; a holiday ahead is found at its steps.
        let steps = ahead(30 * DAY - 3600, 3600, 26, &f);
        assert_eq!(steps.iter().filter(|h| **h).count(), 24);
        assert!(!steps[0] && steps[1] && steps[24] && !steps[25]);
    }

    #[test]
    fn nothing_to_learn_from_gives_none() {
        let y = series(&[], 1.0);
        // No holiday in the history, one ahead only.
        assert_eq!(learn(&y, cal(0), &flags(&[25])), None);
        // A history off the clock sees no holidays.
        assert_eq!(learn(&y, Calendar::new(24), &flags(&[3])), None);
        // A holiday in a series that is zero around it: no ratio.
        let zeros = vec![0.0; 21 * 24];
        assert_eq!(learn(&zeros, cal(0), &flags(&[9])), None);
        // A few hours of a holiday at the end of the history are too little to learn from.
        let y = series(&[20], 0.4);
        let f = Flags::new(vec![(20 * DAY + 20 * 3600, 21 * DAY + 20 * 3600)], vec![]);
        assert_eq!(learn(&y, cal(0), &f), None);
    }
}
