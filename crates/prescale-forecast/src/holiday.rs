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

use chrono::{Datelike, Duration};
use prescale_core::{Forecast, Level, Series};

use crate::flags::Flags;
use crate::point::median;
use crate::transform::Bounds;
use crate::{FittedModel, ForecastError, Forecaster};

/// A holiday on a weekday or on a weekend (Saturday or Sunday at the middle of its span, in UTC):
/// a holiday changes a weekday's load far more than a Sunday's, so each kind has its own ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// Monday to Friday.
    Weekday,
    /// Saturday or Sunday.
    Weekend,
}

impl DayKind {
    fn label(self) -> &'static str {
        match self {
            DayKind::Weekday => "weekday",
            DayKind::Weekend => "weekend",
        }
    }
}

/// The kind of the holiday at `secs`, if `secs` is in one.
pub fn kind_at(flags: &Flags, secs: i64) -> Option<DayKind> {
    let (a, b) = flags.holiday_span(secs)?;
    let mid = chrono::DateTime::from_timestamp(a + (b - a) / 2, 0)?;
    Some(if mid.weekday().num_days_from_monday() >= 5 { DayKind::Weekend } else { DayKind::Weekday })
}

/// One kind's learnt effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// A holiday's load over an ordinary day's of the same weekday.
    pub ratio: f64,
    /// The holidays of the history it was learnt from.
    pub learnt_from: usize,
}

/// What one fit learnt about holidays, per kind of day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HolidayEffect {
    /// From holidays on weekdays.
    pub weekday: Option<Ratio>,
    /// From holidays on weekends.
    pub weekend: Option<Ratio>,
}

impl HolidayEffect {
    /// The effect for a holiday of `kind`, when the history held one to learn it from.
    pub fn of(&self, kind: DayKind) -> Option<Ratio> {
        match kind {
            DayKind::Weekday => self.weekday,
            DayKind::Weekend => self.weekend,
        }
    }
}

/// Bounds on the ratio: a "holiday" a fiftieth or fifty times an ordinary day is a data error.
const RATIO_RANGE: (f64, f64) = (0.02, 50.0);

/// Runs of consecutive holiday slots of one kind (each `(start, end, kind)`, end exclusive).
fn runs(kinds: &[Option<DayKind>]) -> Vec<(usize, usize, DayKind)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, DayKind)> = None;
    for i in 0..=kinds.len() {
        let kind = kinds.get(i).copied().flatten();
        if let Some((s, k0)) = open
            && kind != Some(k0)
        {
            out.push((s, i, k0));
            open = None;
        }
        if open.is_none() {
            open = kind.map(|k| (i, k));
        }
    }
    out
}

/// Learns the holidays' effect from the history `y` of `steps_per_day` steps a day, whose slots
/// fall on the holidays `kinds` ([`ahead`] from its first slot), per kind of day: `None` when no holiday of at least
/// half a day lies in it with ordinary days around it, or the series is not positive there.
pub fn learn(y: &[f64], steps_per_day: usize, kinds: &[Option<DayKind>]) -> Option<HolidayEffect> {
    let (n, m) = (y.len(), steps_per_day.max(1));
    let ordinary = |j: usize| j < n && kinds.get(j).is_some_and(Option::is_none) && y[j].is_finite();
    let ratios: Vec<(DayKind, f64)> = runs(kinds)
        .into_iter()
        .filter(|(s, e, _)| e - s >= m.div_ceil(2))
        .filter_map(|(s, e, kind)| {
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
            (a >= 0.0 && b > 0.0).then(|| (kind, (a / b).clamp(RATIO_RANGE.0, RATIO_RANGE.1)))
        })
        .collect();
    let of = |kind: DayKind| {
        let r: Vec<f64> = ratios.iter().filter(|(k, _)| *k == kind).map(|(_, r)| *r).collect();
        (!r.is_empty()).then(|| Ratio { ratio: median(&r), learnt_from: r.len() })
    };
    let effect = HolidayEffect { weekday: of(DayKind::Weekday), weekend: of(DayKind::Weekend) };
    (effect != HolidayEffect::default()).then_some(effect)
}

/// `y` with its holiday slots (`kinds`, see [`learn`]) divided by their kind's ratio (where one was
/// learnt): ordinary days.
pub fn remove(y: &[f64], kinds: &[Option<DayKind>], effect: HolidayEffect) -> Vec<f64> {
    let mut out = y.to_vec();
    for (s, e, kind) in runs(kinds) {
        if let Some(r) = effect.of(kind) {
            out[s..e].iter_mut().for_each(|v| *v /= r.ratio);
        }
    }
    out
}

/// For each step of a forecast starting at `start_secs` (step `h` at `start_secs + h ·
/// step_secs`), the kind of the holiday it falls on, if any.
pub fn ahead(start_secs: i64, step_secs: i64, horizon: usize, flags: &Flags) -> Vec<Option<DayKind>> {
    (0..horizon).map(|h| kind_at(flags, start_secs + h as i64 * step_secs)).collect()
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

impl Forecaster for Holidays {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError> {
        let values = history.values();
        let positive = values.iter().filter(|v| v.is_finite()).all(|v| *v >= 0.0);
        let kinds = ahead(history.start().timestamp(), history.step_secs(), values.len(), &self.flags);
        let effect = if positive { learn(values, history.steps_per_day(), &kinds) } else { None };
        let inner = match effect {
            Some(e) => {
                let series = Series::new(history.start(), history.step_secs(), remove(values, &kinds, e))
                    .map_err(|e| ForecastError::Model(format!("holidays: {e}")))?;
                self.inner.fit(&series)?
            }
            None => self.inner.fit(history)?,
        };
        let mut warnings = inner.warnings();
        let step = history.step_secs().max(1);
        let next = ahead(history.end().timestamp(), step, (ANNOUNCE_HOURS * 3600 / step) as usize, &self.flags);
        if let Some((first, kind)) = next.iter().enumerate().find_map(|(h, k)| k.map(|k| (h, k))) {
            let when = (history.end() + Duration::seconds(first as i64 * step)).format("%Y-%m-%d %H:%M UTC");
            warnings.push(match effect.and_then(|e| e.of(kind)) {
                Some(r) => format!(
                    "holiday ahead from {when}: forecast at {:.2} × an ordinary {}'s load, as learnt from {} {} \
                     holiday{} in the history",
                    r.ratio,
                    if kind == DayKind::Weekday { "weekday" } else { "weekend day" },
                    r.learnt_from,
                    kind.label(),
                    if r.learnt_from == 1 { "" } else { "s" }
                ),
                None if !positive => format!(
                    "holiday ahead from {when}: forecast as an ordinary day (a series with negative values has no \
                     holiday ratio)"
                ),
                None => format!(
                    "holiday ahead from {when}: forecast as an ordinary day, since the history holds no {} holiday \
                     to learn its effect from (`prescale event add` shapes a known day)",
                    kind.label()
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
        let on: Vec<Option<f64>> = ahead(f.start.timestamp(), f.step_secs, f.point.len(), &self.flags)
            .into_iter()
            .map(|k| k.and_then(|k| effect.of(k)).map(|r| r.ratio))
            .collect();
        if on.iter().all(Option::is_none) {
            return Ok(f);
        }
        Ok(f.map_values(|i, x| on[i].map_or(x, |r| self.bounds.clip(x * r)))?)
    }

    fn scores(&self) -> Vec<crate::CandidateScore> {
        self.inner.scores()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::{Calendar, Clock};

    const DAY: i64 = 86_400;
    /// 1970-01-05, a Monday, in days since the epoch.
    const MONDAY: i64 = 4;

    fn cal(start_day: i64) -> Calendar {
        Calendar { steps_per_day: 24, clock: Some(Clock { start_secs: start_day * DAY, step_secs: 3600 }) }
    }

    /// Three weeks of hourly load from a Monday with a daily shape; `holidays` (day indices from
    /// that Monday, with their share of an ordinary day's load).
    fn series(holidays: &[(i64, f64)]) -> Vec<f64> {
        (0..21 * 24)
            .map(|t| {
                let base = 100.0 + 30.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
                holidays.iter().find(|(d, _)| *d == (t / 24) as i64).map_or(base, |(_, share)| base * share)
            })
            .collect()
    }

    /// The holidays of the slots of `y` placed by `cal` (none off the clock).
    fn slots(n: usize, cal: Calendar, flags: &Flags) -> Vec<Option<DayKind>> {
        cal.clock.map_or_else(|| vec![None; n], |c| ahead(c.start_secs, c.step_secs, n, flags))
    }

    /// [`learn`] on the slots of `y` placed by `cal`.
    fn learnt(y: &[f64], cal: Calendar, flags: &Flags) -> Option<HolidayEffect> {
        learn(y, cal.steps_per_day, &slots(y.len(), cal, flags))
    }

    fn flags(days: &[i64]) -> Flags {
        let span = |d: &i64| ((MONDAY + d) * DAY, (MONDAY + d + 1) * DAY);
        Flags::new(days.iter().map(span).collect(), vec![(0, 30 * DAY)])
    }

    #[test]
    fn learns_a_ratio_per_kind_of_day_and_removes_it_from_the_history() {
        // Two Wednesdays at 0.4 of a Wednesday, a Saturday at 0.9 of a Saturday.
        let y = series(&[(2, 0.4), (9, 0.4), (12, 0.9)]);
        let f = flags(&[2, 9, 12, 22, 26]);
        let effect = learnt(&y, cal(MONDAY), &f).unwrap();
        let (wd, we) = (effect.weekday.unwrap(), effect.weekend.unwrap());
        assert!((wd.ratio - 0.4).abs() < 1e-9 && wd.learnt_from == 2, "{effect:?}");
        assert!((we.ratio - 0.9).abs() < 1e-9 && we.learnt_from == 1, "{effect:?}");
        let clean = remove(&y, &slots(y.len(), cal(MONDAY), &f), effect);
        let plain = series(&[]);
        assert!(clean.iter().zip(&plain).all(|(a, b)| (a - b).abs() < 1e-9), "ordinary days after removal");
        // Ahead: Tuesday of the fourth week is a weekday holiday, the Saturday after a weekend one;
        // events are not holidays.
        let steps = ahead((MONDAY + 22) * DAY - 3600, 3600, 26, &f);
        assert_eq!(steps.iter().filter(|k| **k == Some(DayKind::Weekday)).count(), 24);
        assert!(steps[0].is_none() && steps[1].is_some() && steps[24].is_some() && steps[25].is_none());
        assert_eq!(ahead((MONDAY + 26) * DAY, 3600, 1, &f), vec![Some(DayKind::Weekend)]);
    }

    #[test]
    fn nothing_to_learn_from_gives_none() {
        let y = series(&[]);
        // No holiday in the history, one ahead only.
        assert_eq!(learnt(&y, cal(MONDAY), &flags(&[25])), None);
        // A history off the clock sees no holidays.
        assert_eq!(learnt(&y, Calendar::new(24), &flags(&[3])), None);
        // A holiday in a series that is zero around it: no ratio.
        let zeros = vec![0.0; 21 * 24];
        assert_eq!(learnt(&zeros, cal(MONDAY), &flags(&[9])), None);
        // A few hours of a holiday at the end of the history are too little to learn from.
        let y = series(&[(20, 0.4)]);
        let f = Flags::new(vec![((MONDAY + 20) * DAY + 20 * 3600, (MONDAY + 21) * DAY + 20 * 3600)], vec![]);
        assert_eq!(learnt(&y, cal(MONDAY), &f), None);
        // Weekday holidays say nothing about a weekend one.
        let effect = learnt(&series(&[(2, 0.4)]), cal(MONDAY), &flags(&[2])).unwrap();
        assert!(effect.weekday.is_some() && effect.of(DayKind::Weekend).is_none());
    }
}
