use prescale_core::{Forecast, Interval, Level, Series};
use serde::{Deserialize, Serialize};

use crate::point::quantile_sorted;
use crate::{FittedModel, ForecastError, Forecaster, prepare_history};

/// Season length of [`SeasonalNaive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Season {
    /// A week when the history holds two full weeks, else a day when it holds two full days,
    /// else the last value (with a warning).
    #[default]
    Auto,
    /// One day.
    Day,
    /// One week.
    Week,
}

/// Seasonal naive: tomorrow looks like today (or next week like this week). Intervals come from the
/// history's own errors of the same model: for a step k seasons ahead, the empirical quantiles of
/// `y[t] - y[t - k * season]`, so they widen with the horizon as the data say they should.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeasonalNaive {
    /// Season length.
    pub season: Season,
}

#[derive(Debug)]
struct FittedNaive {
    id: String,
    values: Vec<f64>,
    period: usize,
    start: chrono::DateTime<chrono::Utc>,
    step_secs: i64,
    non_negative: bool,
    warnings: Vec<String>,
}

impl Forecaster for SeasonalNaive {
    fn name(&self) -> String {
        format!("seasonal-naive({})", season_name(self.season))
    }

    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError> {
        let prepared = prepare_history(history, 2)?;
        let mut warnings = prepared.warnings;
        let n = prepared.values.len();
        let day = history.steps_per_day().max(1);
        let (season, period) = match self.season {
            Season::Day => (Season::Day, day),
            Season::Week => (Season::Week, 7 * day),
            Season::Auto if n >= 14 * day => (Season::Week, 7 * day),
            Season::Auto if n >= 2 * day => (Season::Day, day),
            Season::Auto => {
                warnings.push(format!(
                    "history holds {n} points, less than two days: forecasting the last value (no seasonality)"
                ));
                (Season::Auto, 1)
            }
        };
        if n < 2 * period {
            return Err(ForecastError::TooShort { needed: 2 * period, got: n });
        }
        let id =
            if period == 1 { "naive(last)".to_string() } else { format!("seasonal-naive({})", season_name(season)) };
        Ok(Box::new(FittedNaive {
            id,
            values: prepared.values,
            period,
            start: history.end(),
            step_secs: history.step_secs(),
            non_negative: prepared.non_negative,
            warnings,
        }))
    }
}

fn season_name(s: Season) -> &'static str {
    match s {
        Season::Auto => "auto",
        Season::Day => "day",
        Season::Week => "week",
    }
}

impl FittedModel for FittedNaive {
    fn model_id(&self) -> String {
        self.id.clone()
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn predict(&self, horizon: usize, levels: &[Level]) -> Result<Forecast, ForecastError> {
        if horizon == 0 {
            return Err(ForecastError::ZeroHorizon);
        }
        let (y, m, n) = (&self.values, self.period, self.values.len());
        let point: Vec<f64> = (0..horizon).map(|h| y[n + h - (h / m + 1) * m]).collect();
        // Errors k seasons ahead, k = 1..=K; with too few of them for large k, the k = 1 errors
        // are widened by sqrt(k) (a random walk over seasons), which is what the data show on
        // average and never narrower than one season ahead.
        let k_max = (horizon - 1) / m + 1;
        let mut errors: Vec<Vec<f64>> = Vec::with_capacity(k_max);
        for k in 1..=k_max {
            let lag = k * m;
            let mut e: Vec<f64> = if n > lag + 10 { (lag..n).map(|t| y[t] - y[t - lag]).collect() } else { Vec::new() };
            e.sort_by(f64::total_cmp);
            errors.push(e);
        }
        let base = errors[0].clone();
        let mut intervals = Vec::with_capacity(levels.len());
        for &level in levels {
            let (ql, qu) = level.quantiles();
            let mut lower = Vec::with_capacity(horizon);
            let mut upper = Vec::with_capacity(horizon);
            for (h, p) in point.iter().enumerate() {
                let k = h / m + 1;
                let e = &errors[k - 1];
                let (dl, du) = if e.len() >= 30 {
                    (quantile_sorted(e, ql), quantile_sorted(e, qu))
                } else {
                    let s = (k as f64).sqrt();
                    (quantile_sorted(&base, ql) * s, quantile_sorted(&base, qu) * s)
                };
                let (mut lo, mut hi) = (p + dl.min(0.0), p + du.max(0.0));
                if self.non_negative {
                    lo = lo.max(0.0);
                    hi = hi.max(0.0);
                }
                lower.push(lo);
                upper.push(hi);
            }
            intervals.push(Interval { level, lower, upper });
        }
        Ok(Forecast::new(self.id.clone(), self.start, self.step_secs, point, intervals)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn hourly(values: Vec<f64>) -> Series {
        Series::new(Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap(), 3600, values).unwrap()
    }

    fn levels() -> Vec<Level> {
        [0.5, 0.8, 0.9, 0.95].iter().map(|l| Level::new(*l).unwrap()).collect()
    }

    #[test]
    fn repeats_the_last_day_and_picks_the_season_by_length() {
        let v: Vec<f64> = (0..72).map(|h| (h % 24) as f64).collect();
        let m = SeasonalNaive::default().fit(&hourly(v)).unwrap();
        assert_eq!(m.model_id(), "seasonal-naive(day)");
        let f = m.predict(30, &levels()).unwrap();
        assert_eq!(f.point[0], 0.0);
        assert_eq!(f.point[23], 23.0);
        assert_eq!(f.point[29], 5.0);
        assert_eq!(f.start, Utc.with_ymd_and_hms(2026, 1, 8, 0, 0, 0).unwrap());
        let v: Vec<f64> = (0..24 * 15).map(|h| (h % 24) as f64).collect();
        assert_eq!(SeasonalNaive::default().fit(&hourly(v)).unwrap().model_id(), "seasonal-naive(week)");
    }

    #[test]
    fn short_history_falls_back_with_a_warning_and_empty_is_an_error() {
        let m = SeasonalNaive::default().fit(&hourly(vec![3.0, 4.0, 5.0])).unwrap();
        assert_eq!(m.model_id(), "naive(last)");
        assert!(!m.warnings().is_empty());
        assert_eq!(m.predict(2, &levels()).unwrap().point, vec![5.0, 5.0]);
        assert!(SeasonalNaive::default().fit(&hourly(vec![f64::NAN; 5])).is_err());
        assert!(SeasonalNaive { season: Season::Week }.fit(&hourly(vec![1.0; 48])).is_err());
    }

    proptest! {
        #[test]
        fn intervals_nest_and_stay_finite(values in proptest::collection::vec(prop_oneof![0.0..1e6f64, Just(f64::NAN)], 50..200), h in 1usize..100) {
            prop_assume!(values.iter().filter(|v| v.is_finite()).count() >= 2);
            let m = SeasonalNaive::default().fit(&hourly(values)).unwrap();
            let f = m.predict(h, &levels()).unwrap();
            for i in 0..h {
                let mut lo = f.point[i];
                let mut hi = f.point[i];
                prop_assert!(f.point[i].is_finite() && f.point[i] >= 0.0);
                for iv in &f.intervals {
                    prop_assert!(iv.lower[i] <= lo && iv.upper[i] >= hi);
                    prop_assert!(iv.lower[i] >= 0.0 && iv.upper[i].is_finite());
                    lo = iv.lower[i];
                    hi = iv.upper[i];
                }
            }
        }
    }
}
