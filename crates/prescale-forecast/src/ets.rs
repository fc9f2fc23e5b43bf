//! Exponential smoothing (augurs' AutoETS): the level and trend model of the `ets` spec.
//!
//! AutoETS here is non-seasonal (error, trend and damping chosen by AICc among the additive
//! models): a seasonal ETS with a 288-step day is slow to fit and fragile. The day's cycle is
//! handled the way the profile models handle it: [`Ets::deseasonalised`] removes the robust,
//! noise-shrunk daily profile first and adds it back to the forecast; the raw form forecasts
//! the series as it is. The `ets` spec backtests both on the series' own history and weighs
//! them by their errors, like the `auto` engine does its candidates.

use augurs::ets::AutoETS;
use augurs::prelude::{Fit, Predict};

use crate::ForecastError;
use crate::point::{
    Calendar, PointModel, block_means, check_len, clean, deseasonalise, hour_slots, median, shrunk_profile, slot,
};

/// Non-seasonal AutoETS on hourly means (of the series, or of what remains after its daily
/// profile is removed), spread back over the steps of each hour.
///
/// ETS models level and trend; within an hour its forecast would be flat anyway. Fitting the
/// hourly means costs a twelfth at a 5-minute step and keeps the smoothing weights from being
/// tuned to minute-by-minute noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ets {
    /// Remove the robust daily profile (7 days, incident-cleaned, shrunk by its noise) first.
    pub deseasonalised: bool,
}

/// Hourly blocks AutoETS needs at least (it refuses fewer than 9 points for a trend model).
const MIN_BLOCKS: usize = 12;

impl Ets {
    fn block(cal: Calendar) -> usize {
        (cal.steps_per_day / 24).max(1)
    }
}

impl PointModel for Ets {
    fn name(&self) -> String {
        if self.deseasonalised { "ets+profile(day,7d)".into() } else { "ets".into() }
    }

    /// Twelve hours raw; two days when a daily profile is removed.
    fn min_history(&self, cal: Calendar) -> usize {
        let raw = MIN_BLOCKS * Self::block(cal);
        if self.deseasonalised { raw.max(2 * cal.steps_per_day) } else { raw }
    }

    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        check_len(y.len(), self.min_history(cal))?;
        let (n, m, b) = (y.len(), cal.steps_per_day, Self::block(cal));
        if self.deseasonalised {
            let x = clean(y, m);
            let p = shrunk_profile(&x, m, 7, hour_slots(cal));
            let level = ets_forecast(&block_means(&deseasonalise(&x, &p), b), horizon.div_ceil(b))?;
            return Ok((0..horizon).map(|h| level[h / b] + slot(&p, n, n + h)).collect());
        }
        let level = ets_forecast(&block_means(y, b), horizon.div_ceil(b))?;
        Ok((0..horizon).map(|h| level[h / b]).collect())
    }
}

/// AutoETS (additive, non-seasonal) forecast of `x` for `h` steps. A constant `x` is forecast
/// flat (ETS has no likelihood to maximise there); large values are centred and scaled first.
fn ets_forecast(x: &[f64], h: usize) -> Result<Vec<f64>, ForecastError> {
    let centre = median(x);
    let scale = x.iter().map(|v| (v - centre).abs()).sum::<f64>() / x.len().max(1) as f64;
    if !(scale.is_finite() && scale > f64::EPSILON * centre.abs().max(1.0)) {
        return Ok(vec![x.last().copied().unwrap_or(centre); h]);
    }
    // Centred data are not all positive, so the search stays among additive-error models: the
    // multiplicative ones need positive data and double the fits.
    let z: Vec<f64> = x.iter().map(|v| (v - centre) / scale).collect();
    let fitted = AutoETS::non_seasonal().fit(&z).map_err(|e| ForecastError::Model(format!("ETS: {e}")))?;
    let f = fitted.predict(h, None).map_err(|e| ForecastError::Model(format!("ETS: {e}")))?;
    if f.point.len() != h || f.point.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::Model("ETS returned a non-finite forecast".into()));
    }
    Ok(f.point.iter().map(|v| v * scale + centre).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURLY: Calendar = Calendar::new(24);
    const FIVE_MIN: Calendar = Calendar::new(288);

    fn noise(len: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 33) as f64 / (1u64 << 31) as f64 - 0.5
            })
            .collect()
    }

    fn mae(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
    }

    #[test]
    fn raw_ets_follows_a_trend_and_the_seasonal_form_a_daily_cycle() {
        // A steady climb with noise: the flat median lags, ETS with a trend does not.
        let e = noise(24 * 10 + 48, 3);
        let y: Vec<f64> = (0..24 * 10 + 48).map(|t| 100.0 + 2.0 * t as f64 + 5.0 * e[t]).collect();
        let (train, test) = y.split_at(24 * 10);
        let f = Ets { deseasonalised: false }.forecast(train, HOURLY, 48).unwrap();
        let flat = vec![median(&train[train.len() - 24..]); 48];
        assert!(mae(&f, test) < 0.25 * mae(&flat, test), "ETS {} vs flat {}", mae(&f, test), mae(&flat, test));

        // A daily cycle: removing the profile first forecasts it, raw ETS cannot.
        let e = noise(24 * 16, 5);
        let y: Vec<f64> = (0..24 * 16)
            .map(|t| 500.0 + 200.0 * (std::f64::consts::TAU * (t % 24) as f64 / 24.0).sin() + 10.0 * e[t])
            .collect();
        let (train, test) = y.split_at(24 * 14);
        let s = Ets { deseasonalised: true }.forecast(train, HOURLY, 48).unwrap();
        let r = Ets { deseasonalised: false }.forecast(train, HOURLY, 48).unwrap();
        assert!(mae(&s, test) < 15.0, "deseasonalised ETS MAE {}", mae(&s, test));
        assert!(mae(&s, test) < 0.2 * mae(&r, test), "{} vs raw {}", mae(&s, test), mae(&r, test));
    }

    #[test]
    fn five_minute_steps_are_fitted_on_hourly_means_and_spread_back() {
        let e = noise(288 * 7, 11);
        let y: Vec<f64> = (0..288 * 7)
            .map(|t| 1e6 + 4e5 * (std::f64::consts::TAU * (t % 288) as f64 / 288.0).cos() + 1e4 * e[t])
            .collect();
        let f = Ets { deseasonalised: true }.forecast(&y, FIVE_MIN, 576).unwrap();
        assert_eq!(f.len(), 576);
        let truth: Vec<f64> =
            (0..576).map(|t| 1e6 + 4e5 * (std::f64::consts::TAU * (t % 288) as f64 / 288.0).cos()).collect();
        assert!(mae(&f, &truth) < 2e4, "MAE {}", mae(&f, &truth));
    }

    #[test]
    fn constant_zero_and_short_histories_give_a_flat_forecast_or_a_clear_error() {
        for v in [0.0, 7.5, -3.0, 1e12] {
            for deseasonalised in [false, true] {
                let f = Ets { deseasonalised }.forecast(&vec![v; 24 * 3], HOURLY, 30).unwrap();
                assert!(f.iter().all(|p| (p - v).abs() <= 1e-9 * v.abs().max(1.0)), "{v}: {f:?}");
            }
        }
        let e = Ets { deseasonalised: false }.forecast(&[1.0; 5], HOURLY, 3).unwrap_err();
        assert_eq!(e, ForecastError::TooShort { needed: 12, got: 5 });
        let e = Ets { deseasonalised: true }.forecast(&[1.0; 30], HOURLY, 3).unwrap_err();
        assert_eq!(e, ForecastError::TooShort { needed: 48, got: 30 });
        let e = Ets { deseasonalised: false }.forecast(&[1.0; 100], FIVE_MIN, 3).unwrap_err();
        assert_eq!(e, ForecastError::TooShort { needed: 144, got: 100 });
        // One spike in an otherwise flat series: finite.
        let mut y = vec![10.0; 48];
        y[20] = 1e6;
        let f = Ets { deseasonalised: false }.forecast(&y, HOURLY, 24).unwrap();
        assert!(f.iter().all(|p| p.is_finite()));
    }
}
