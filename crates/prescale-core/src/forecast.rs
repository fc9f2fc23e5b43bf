use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The coverage of a central prediction interval, strictly inside (0, 1): 0.8 is the interval that
/// should hold 80 % of future values, bounded by the 10 % and 90 % quantiles.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Level(f64);

impl Level {
    /// A level from a fraction (`0.8`) or a percentage (`80`).
    ///
    /// # Errors
    /// [`CoreError::BadLevel`] outside (0, 1) after reading percentages.
    pub fn new(v: f64) -> Result<Self, CoreError> {
        let f = if (1.0..100.0).contains(&v) { v / 100.0 } else { v };
        if f > 0.0 && f < 1.0 { Ok(Self(f)) } else { Err(CoreError::BadLevel(v)) }
    }
    /// The fraction, e.g. 0.8.
    pub fn value(self) -> f64 {
        self.0
    }
    /// The level as a whole percentage label, e.g. `80` (`97.5` stays `97.5`).
    pub fn label(self) -> String {
        let p = self.0 * 100.0;
        if (p - p.round()).abs() < 1e-9 { format!("{}", p.round() as i64) } else { format!("{p}") }
    }
    /// Quantiles of the lower and upper bound: (1 - l) / 2 and (1 + l) / 2.
    pub fn quantiles(self) -> (f64, f64) {
        ((1.0 - self.0) / 2.0, (1.0 + self.0) / 2.0)
    }
}

impl TryFrom<f64> for Level {
    type Error = CoreError;
    fn try_from(v: f64) -> Result<Self, CoreError> {
        Level::new(v)
    }
}

impl From<Level> for f64 {
    fn from(l: Level) -> f64 {
        l.0
    }
}

/// A central prediction interval at one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Its level.
    pub level: Level,
    /// Lower bound per step.
    pub lower: Vec<f64>,
    /// Upper bound per step.
    pub upper: Vec<f64>,
}

/// The prefix of [`Forecast::model`] for a forecast whose daily cycle was learnt on a time zone's
/// local (standard-time) clock and moved back to UTC (`local:mstl`).
pub const ON_LOCAL_CLOCK: &str = "local:";

/// The prefix of [`Forecast::model`] for a forecast that covers both UTC and a time zone's local
/// clock, where the history cannot tell which the load follows (`local|utc:mstl`).
pub const ON_EITHER_CLOCK: &str = "local|utc:";

/// A forecast on a regular grid: point forecast (the median) and intervals at several levels.
///
/// Invariants, enforced by [`Forecast::new`]: all values finite; per step,
/// `lower(l) <= point <= upper(l)`, and a wider level never gives a narrower interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Model that produced it (e.g. `seasonal-naive(week)`).
    pub model: String,
    /// Timestamp of the first step.
    pub start: DateTime<Utc>,
    /// Step in seconds.
    pub step_secs: i64,
    /// Point forecast per step.
    pub point: Vec<f64>,
    /// Intervals, sorted by level, narrowest first.
    pub intervals: Vec<Interval>,
    /// How the candidate models scored in the in-sample backtests behind this forecast, and
    /// their weights in it (empty for a model fitted without backtests).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scores: Vec<ModelScore>,
    /// The load of a weekend as a share of the weekdays' beside it, when the fit learnt one and
    /// forecast weekends with it (None: weekends were forecast as any day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekend_ratio: Option<f64>,
    /// The blend's own backtest score, where the forecast weighs several candidates: their
    /// weighted forecasts combined at the same origins as [`ModelScore::mase`] (the median over
    /// them). The weights were chosen at those origins: an in-sample figure. None for a single
    /// model, and in forecasts stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend_mase: Option<f64>,
    /// The origins [`Forecast::blend_mase`] is the median over (those where every member
    /// forecast). None where it is, and in forecasts stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend_origins: Option<usize>,
}

mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() { s.serialize_f64(*v) } else { s.serialize_none() }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// One candidate model's rolling-origin backtest on the series' own history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelScore {
    /// Model id.
    pub model: String,
    /// Mean absolute error / MASE scale (mean |y(t) − y(t − 1 day)| of the training window), the
    /// median over the backtest's origins (the engine's candidates; a single model's own backtest
    /// may give the mean); NaN when the model could not be backtested (`null` in JSON, which has
    /// no NaN).
    #[serde(with = "nan_as_null")]
    pub mase: f64,
    /// Origins it was scored at.
    pub origins: usize,
    /// Weight in the forecast (0 = left out).
    pub weight: f64,
    /// The candidate the others were compared with (the engine's flat median of the last day).
    /// Absent in forecasts stored before it was recorded: read as false.
    #[serde(default)]
    pub reference: bool,
}

impl Forecast {
    /// Builds a forecast and repairs what floating point can break: intervals are sorted by level,
    /// bounds are widened where needed so they nest and contain the point.
    ///
    /// # Errors
    /// [`CoreError::Length`] when a vector's length differs from the point forecast's.
    pub fn new(
        model: impl Into<String>,
        start: DateTime<Utc>,
        step_secs: i64,
        point: Vec<f64>,
        mut intervals: Vec<Interval>,
    ) -> Result<Self, CoreError> {
        let n = point.len();
        for iv in &intervals {
            for (what, v) in [("interval lower", &iv.lower), ("interval upper", &iv.upper)] {
                if v.len() != n {
                    return Err(CoreError::Length { what, expected: n, got: v.len() });
                }
            }
        }
        intervals.sort_by(|a, b| a.level.0.total_cmp(&b.level.0));
        intervals.dedup_by(|a, b| a.level == b.level);
        let mut point = point;
        for (i, p) in point.iter_mut().enumerate() {
            if !p.is_finite() {
                *p = 0.0;
            }
            let (mut lo, mut hi) = (*p, *p);
            for iv in &mut intervals {
                let l = &mut iv.lower[i];
                let u = &mut iv.upper[i];
                if !l.is_finite() {
                    *l = lo;
                }
                if !u.is_finite() {
                    *u = hi;
                }
                *l = l.min(lo);
                *u = u.max(hi);
                lo = *l;
                hi = *u;
            }
        }
        Ok(Self {
            model: model.into(),
            start,
            step_secs,
            point,
            intervals,
            scores: Vec::new(),
            weekend_ratio: None,
            blend_mase: None,
            blend_origins: None,
        })
    }

    /// The same forecast with `f(step, value)` applied to the point and to every interval bound
    /// (a back-transform, a scaling of some steps); its model, clock, scores and weekend ratio kept, its
    /// invariants restored as [`Forecast::new`] does.
    ///
    /// # Errors
    /// As [`Forecast::new`].
    pub fn map_values(self, f: impl Fn(usize, f64) -> f64) -> Result<Self, CoreError> {
        let map = |v: &[f64]| -> Vec<f64> { v.iter().enumerate().map(|(i, x)| f(i, *x)).collect() };
        let intervals = self
            .intervals
            .iter()
            .map(|iv| Interval { level: iv.level, lower: map(&iv.lower), upper: map(&iv.upper) })
            .collect();
        let mut out = Self::new(self.model.clone(), self.start, self.step_secs, map(&self.point), intervals)?;
        out.keep_fit_of(&self);
        Ok(out)
    }

    /// The candidates' backtest MASEs weighed by their weights in the forecast (those scored);
    /// `None` without a weighed score (no backtests, or none that fitted).
    pub fn weighted_mase(&self) -> Option<f64> {
        let scored = || self.scores.iter().filter(|s| s.mase.is_finite());
        let weight: f64 = scored().map(|s| s.weight).sum();
        (weight > 0.0).then(|| scored().map(|s| s.weight * s.mase).sum::<f64>() / weight)
    }

    /// Takes what the fit said of itself (its candidates' scores, the weekend ratio, the blend's
    /// score) from `from`, the forecast this one was rebuilt from (cut, shaped, moved).
    pub fn keep_fit_of(&mut self, from: &Forecast) {
        self.scores.clone_from(&from.scores);
        self.weekend_ratio = from.weekend_ratio;
        self.blend_mase = from.blend_mase;
        self.blend_origins = from.blend_origins;
    }

    /// Keeps the first `len` steps, point and bounds alike (all of them when there are fewer).
    pub fn truncate(&mut self, len: usize) {
        self.point.truncate(len);
        for iv in &mut self.intervals {
            iv.lower.truncate(len);
            iv.upper.truncate(len);
        }
    }

    /// The first step at the point forecast's peak (a flat window peaks where it begins); 0 when
    /// it has none.
    pub fn peak_step(&self) -> usize {
        self.point.iter().enumerate().rev().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i)
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.point.len()
    }
    /// True for an empty forecast.
    pub fn is_empty(&self) -> bool {
        self.point.is_empty()
    }
    /// Timestamp of step `i`.
    pub fn ts(&self, i: usize) -> DateTime<Utc> {
        self.start + Duration::seconds(self.step_secs * i as i64)
    }
    /// The interval at `level`, if forecast.
    pub fn interval(&self, level: Level) -> Option<&Interval> {
        self.intervals.iter().find(|iv| (iv.level.0 - level.0).abs() < 1e-9)
    }

    /// The `q` quantile per step, read from the intervals: q = 0.5 is the point forecast, q = 0.9
    /// the upper bound of the 80 % interval. Between the quantiles that were forecast, values are
    /// interpolated linearly in q; beyond the widest interval the widest bound is used (so asking
    /// for more than was forecast never invents a tail, and the caller should forecast the levels
    /// it needs).
    pub fn quantile(&self, q: f64) -> Vec<f64> {
        let q = q.clamp(0.0, 1.0);
        (0..self.len())
            .map(|i| {
                // Knots (quantile, value), ascending in both.
                let mut knots: Vec<(f64, f64)> = Vec::with_capacity(2 * self.intervals.len() + 1);
                for iv in self.intervals.iter().rev() {
                    knots.push((iv.level.quantiles().0, iv.lower[i]));
                }
                knots.push((0.5, self.point[i]));
                for iv in &self.intervals {
                    knots.push((iv.level.quantiles().1, iv.upper[i]));
                }
                if q <= knots[0].0 {
                    return knots[0].1;
                }
                for w in knots.windows(2) {
                    let ((q0, v0), (q1, v1)) = (w[0], w[1]);
                    if q <= q1 {
                        return v0 + (v1 - v0) * (q - q0) / (q1 - q0);
                    }
                }
                knots[knots.len() - 1].1
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn fc() -> Forecast {
        let iv =
            |l: f64, d: f64| Interval { level: Level::new(l).unwrap(), lower: vec![10.0 - d], upper: vec![10.0 + d] };
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Forecast::new("m", t, 300, vec![10.0], vec![iv(0.95, 4.0), iv(0.8, 2.0)]).unwrap()
    }

    #[test]
    fn quantiles_read_the_right_bounds() {
        let f = fc();
        assert_eq!(f.intervals[0].level.value(), 0.8);
        assert_eq!(f.quantile(0.5), vec![10.0]);
        assert_eq!(f.quantile(0.9), vec![12.0]);
        assert_eq!(f.quantile(0.975), vec![14.0]);
        assert_eq!(f.quantile(0.999), vec![14.0]);
        assert!((f.quantile(0.7)[0] - 11.0).abs() < 1e-9);
        assert_eq!(f.quantile(0.1), vec![8.0]);
    }

    #[test]
    fn levels_accept_percent_and_reject_nonsense() {
        assert_eq!(Level::new(80.0).unwrap().value(), 0.8);
        assert_eq!(Level::new(0.95).unwrap().label(), "95");
        assert!(Level::new(0.0).is_err());
        assert!(Level::new(100.0).is_err());
        assert!(Level::new(-3.0).is_err());
    }

    #[test]
    fn broken_bounds_are_repaired_to_nest() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let iv =
            |l: f64, lo: f64, hi: f64| Interval { level: Level::new(l).unwrap(), lower: vec![lo], upper: vec![hi] };
        let f = Forecast::new("m", t, 300, vec![5.0], vec![iv(0.8, 6.0, 4.0), iv(0.95, 5.5, f64::NAN)]).unwrap();
        assert_eq!((f.intervals[0].lower[0], f.intervals[0].upper[0]), (5.0, 5.0));
        assert_eq!((f.intervals[1].lower[0], f.intervals[1].upper[0]), (5.0, 5.0));
    }
}
