//! Rolling-origin backtests on a series' own history.
//!
//! Origins step back from the end of the history by `spacing` steps. Each fit sees only the
//! history before its origin (at most `max_train` steps of it), and is scored on what followed, up
//! to `horizon` steps, so the most recent origins are scored on shorter stretches. Nothing after an
//! origin is ever seen by the fit made at it.

use crate::conformal::OriginErrors;
use crate::point::{Calendar, PointModel};

/// Where and how long to backtest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origins {
    /// Steps forecast from each origin.
    pub horizon: usize,
    /// Steps between origins.
    pub spacing: usize,
    /// At most this many origins.
    pub count: usize,
    /// A fit sees at most this many steps before its origin.
    pub max_train: usize,
}

impl Origins {
    /// The origins (indices into the history: the fit sees `y[..o]`) that leave `min_train`
    /// steps of history before them, most recent first.
    pub fn positions(&self, n: usize, min_train: usize) -> Vec<usize> {
        let spacing = self.spacing.max(1);
        (1..=self.count).map_while(|k| n.checked_sub(k * spacing)).filter(|&o| o >= min_train.max(1)).collect()
    }
}

/// One model's backtest: its errors per origin, and the origins' scales.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// The origins, most recent first.
    pub origins: Vec<usize>,
    /// Forecasts per origin (as long as the actuals after the origin, at most the horizon).
    pub forecasts: Vec<Vec<f64>>,
    /// `actual − forecast` per origin and step.
    pub errors: Vec<OriginErrors>,
}

/// Runs `model` at every origin; an origin where the model fails is skipped (and reported by the
/// returned origin list being shorter).
/// Only origins with at least `min_origin` steps of history before them are used.
pub fn run_at(model: &dyn PointModel, y: &[f64], cal: Calendar, o: &Origins, min_origin: usize) -> Backtest {
    let mut bt = Backtest { origins: Vec::new(), forecasts: Vec::new(), errors: Vec::new() };
    for origin in o.positions(y.len(), model.min_history(cal).max(min_origin)) {
        let start = origin.saturating_sub(o.max_train);
        let h = o.horizon.min(y.len() - origin);
        if let Ok(f) = model.forecast(&y[start..origin], cal.shifted(start), h) {
            let e: Vec<f64> = f.iter().zip(&y[origin..origin + h]).map(|(p, a)| a - p).collect();
            bt.origins.push(origin);
            bt.forecasts.push(f);
            bt.errors.push(e);
        }
    }
    bt
}

/// The MASE scale of a training window: mean |y(t) − y(t − 1 day)|, or of lag 1 when that is 0
/// or the window is shorter than a day and a step. Pairs with a missing (non-finite) value are
/// skipped, never closed up: a gap must not pair a value with another time of day.
pub fn mase_scale(y: &[f64], cal: Calendar) -> f64 {
    let mean_abs_diff = |lag: usize| -> f64 {
        if y.len() <= lag || lag == 0 {
            return 0.0;
        }
        let (sum, n) = (lag..y.len())
            .map(|t| (y[t] - y[t - lag]).abs())
            .filter(|d| d.is_finite())
            .fold((0.0, 0usize), |(s, n), d| (s + d, n + 1));
        if n == 0 { 0.0 } else { sum / n as f64 }
    };
    let d = mean_abs_diff(cal.steps_per_day);
    if d > 0.0 && d.is_finite() { d } else { mean_abs_diff(1) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::RecentMedian;

    #[test]
    fn origins_leave_room_for_training_and_never_peek() {
        let o = Origins { horizon: 10, spacing: 5, count: 4, max_train: 100 };
        assert_eq!(o.positions(30, 12), vec![25, 20, 15]);
        let y: Vec<f64> = (0..30).map(f64::from).collect();
        let cal = Calendar::new(4);
        let bt = run_at(&RecentMedian { window_days: 0.25 }, &y, cal, &o, 0);
        // A one-step median forecasts the last value seen before the origin, never a later one.
        for (origin, f) in bt.origins.iter().zip(&bt.forecasts) {
            assert!(f.iter().all(|v| *v == (*origin - 1) as f64), "{origin}: {f:?}");
        }
        assert_eq!(bt.errors[0].len(), 5, "the most recent origin is scored on what there is");
    }

    #[test]
    fn scale_is_the_daily_difference() {
        let cal = Calendar::new(2);
        assert_eq!(mase_scale(&[1.0, 5.0, 2.0, 7.0], cal), 1.5);
        assert_eq!(mase_scale(&[3.0, 3.0, 3.0, 4.0], cal), 0.5);
        // A gap is skipped where it is: 1→2, 5→7 and 7→8, not 7→8 and 2→8 of the gap closed up.
        assert_eq!(mase_scale(&[1.0, 5.0, 2.0, 7.0, f64::NAN, 8.0], cal), 4.0 / 3.0);
    }
}
