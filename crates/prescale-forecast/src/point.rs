//! Point forecasters: the building blocks of every model. Each takes a gap-free history and
//! returns point forecasts only; intervals come from the series' own backtest residuals
//! ([`crate::conformal`]), the same way for every model.

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::prelude::{Fit, Predict};

use crate::ForecastError;

/// What a point model knows about the series besides its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// Steps per day (24 hourly, 288 at 5 minutes).
    pub steps_per_day: usize,
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
}

fn check_len(n: usize, needed: usize) -> Result<(), ForecastError> {
    if n < needed.max(1) { Err(ForecastError::TooShort { needed: needed.max(1), got: n }) } else { Ok(()) }
}

/// Median of a slice (NaN-free); 0 for an empty slice.
pub(crate) fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 { s[m] } else { 0.5 * (s[m - 1] + s[m]) }
}

/// Repeats the last `days` days (1 = yesterday, 7 = last week).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeasonalNaivePoint {
    /// Season length in days.
    pub days: usize,
}

impl PointModel for SeasonalNaivePoint {
    fn name(&self) -> String {
        match self.days {
            1 => "seasonal-naive(day)".into(),
            7 => "seasonal-naive(week)".into(),
            d => format!("seasonal-naive({d}d)"),
        }
    }
    fn min_history(&self, cal: Calendar) -> usize {
        self.days * cal.steps_per_day
    }
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        let m = self.min_history(cal).max(1);
        check_len(y.len(), m)?;
        let n = y.len();
        Ok((0..horizon).map(|h| y[n + h - (h / m + 1) * m]).collect())
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
}

/// A robust seasonal profile: for each slot of the season, the median over the last `seasons`
/// seasons, shifted to the current level by the median deviation over the last day. One bad day
/// (an incident) moves no slot of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeasonalProfile {
    /// Season length in days (1 or 7).
    pub season_days: usize,
    /// How many past seasons the median is taken over (at most what the history holds).
    pub seasons: usize,
}

impl PointModel for SeasonalProfile {
    fn name(&self) -> String {
        let s = if self.season_days == 7 { "week" } else { "day" };
        format!("profile({s},{})", self.seasons)
    }
    fn min_history(&self, cal: Calendar) -> usize {
        2 * self.season_days * cal.steps_per_day
    }
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        let m = (self.season_days * cal.steps_per_day).max(1);
        check_len(y.len(), 2 * m)?;
        let n = y.len();
        let k = self.seasons.clamp(1, n / m);
        // profile[j] = median of y at the slots that are j steps into a season, counted back from
        // the end (so profile index 0 is the slot right after the end of the history).
        let profile: Vec<f64> = (0..m)
            .map(|j| {
                let vals: Vec<f64> = (1..=k).map(|s| y[n + j - s * m]).collect();
                median(&vals)
            })
            .collect();
        // Level: median of y minus the profile over the last day (or season, if shorter).
        let w = cal.steps_per_day.clamp(1, m);
        let dev: Vec<f64> = (n - w..n).map(|t| y[t] - profile[(t + m - n % m) % m]).collect();
        let shift = median(&dev);
        Ok((0..horizon).map(|h| profile[h % m] + shift).collect())
    }
}

/// MSTL (augurs): STL decomposition with a daily season, and a weekly one when the history holds
/// two weeks, plus a non-seasonal ETS on the deseasonalised series for level and trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mstl {
    /// Also fit a weekly season when the history holds two full weeks.
    pub weekly: bool,
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
        if self.weekly { "mstl(day,week)".into() } else { "mstl(day)".into() }
    }
    fn min_history(&self, cal: Calendar) -> usize {
        2 * cal.steps_per_day
    }
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        check_len(y.len(), self.min_history(cal))?;
        let periods = self.periods(y.len(), cal);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURLY: Calendar = Calendar { steps_per_day: 24 };

    fn daily(days: usize) -> Vec<f64> {
        (0..days * 24).map(|t| 100.0 + 50.0 * (std::f64::consts::TAU * (t % 24) as f64 / 24.0).sin()).collect()
    }

    #[test]
    fn profile_ignores_one_incident_day_and_follows_a_level_shift() {
        let mut y = daily(7);
        for v in &mut y[3 * 24..4 * 24] {
            *v *= 5.0; // an incident
        }
        let f = SeasonalProfile { season_days: 1, seasons: 7 }.forecast(&y, HOURLY, 24).unwrap();
        let truth = &daily(1);
        assert!(f.iter().zip(truth).all(|(a, b)| (a - b).abs() < 1e-9), "{f:?}");
        let shifted: Vec<f64> = y.iter().enumerate().map(|(t, v)| if t >= 6 * 24 { v + 40.0 } else { *v }).collect();
        let g = SeasonalProfile { season_days: 1, seasons: 3 }.forecast(&shifted, HOURLY, 24).unwrap();
        assert!((g[5] - (truth[5] + 40.0)).abs() < 1e-9, "{} vs {}", g[5], truth[5] + 40.0);
    }

    #[test]
    fn mstl_follows_a_daily_cycle_at_large_magnitudes() {
        let y: Vec<f64> = daily(14).iter().map(|v| 1e9 + 1e6 * v).collect();
        let f = Mstl { weekly: false }.forecast(&y, HOURLY, 48).unwrap();
        let truth: Vec<f64> = daily(2).iter().map(|v| 1e9 + 1e6 * v).collect();
        let mae = f.iter().zip(&truth).map(|(a, b)| (a - b).abs()).sum::<f64>() / 48.0;
        assert!(mae < 1e6, "MAE {mae}");
    }

    #[test]
    fn short_histories_are_refused_with_the_numbers() {
        let e = Mstl { weekly: true }.forecast(&[1.0; 30], HOURLY, 5).unwrap_err();
        assert_eq!(e, ForecastError::TooShort { needed: 48, got: 30 });
        assert_eq!(RecentMedian { window_days: 1.0 }.forecast(&[1.0, 5.0, 3.0], HOURLY, 2).unwrap(), vec![3.0; 2]);
    }
}
