//! Transforms and physical bounds around any forecaster.
//!
//! [`Transformed`] fits its inner forecaster to `T(y)` and maps the forecast back with `T⁻¹`.
//! `T` is increasing, so every quantile maps to the same quantile: the point (a median) stays a
//! median, intervals stay nested with `lower ≤ point ≤ upper`, and they become asymmetric the way
//! count data are (wider above than below). Then everything is clipped to the metric's physical
//! bounds (a CPU percentage never exceeds 100, a count is never negative).
//!
//! - `log`: `T(y) = ln(y + c)`; multiplicative cycles and errors become additive.
//! - `box-cox`: `T(y) = ((y + c)^λ − 1) / λ` with `λ ∈ [0, 1]` chosen by Guerrero's method on the
//!   history (the `λ` that makes the spread of each day proportional to its level^(1−λ), i.e.
//!   the coefficient of variation of `sd_d / mean_d^(1−λ)` over days `d` smallest); `λ = 0` is the
//!   log, `λ = 1` no transform at all.
//!
//! `c` is 0 for a positive series and 1 % of the mean for one with zeros; a series with negative
//! values is fitted untransformed, with a warning.

use prescale_core::{Forecast, Series};
use serde::{Deserialize, Serialize};

use crate::{FittedModel, ForecastError, Forecaster, Rewrite, Rewritten};

/// The transform of [`Transformed`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transform {
    /// The series as it is.
    #[default]
    None,
    /// The natural log.
    Log,
    /// Box–Cox with `λ` by Guerrero's method.
    BoxCox,
}

/// Physical bounds of a metric: forecasts and intervals are clipped to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// The smallest possible value (e.g. 0 for a count).
    #[serde(default)]
    pub min: Option<f64>,
    /// The largest possible value (e.g. 100 for a CPU percentage).
    #[serde(default)]
    pub max: Option<f64>,
}

impl Bounds {
    /// Checks that the bounds are finite and `min < max`.
    ///
    /// # Errors
    /// A message saying which bound is wrong.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [("min", self.min), ("max", self.max)] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(format!("bound {name} must be a finite number"));
            }
        }
        if let (Some(a), Some(b)) = (self.min, self.max)
            && a >= b
        {
            return Err(format!("bounds min = {a} and max = {b}: min must be below max"));
        }
        Ok(())
    }

    pub(crate) fn clip(&self, v: f64) -> f64 {
        let v = self.min.map_or(v, |m| v.max(m));
        self.max.map_or(v, |m| v.min(m))
    }

    pub(crate) fn is_none(&self) -> bool {
        self.min.is_none() && self.max.is_none()
    }
}

/// A forecaster fitted on a transformed series, its forecast mapped back and clipped to bounds.
#[derive(Debug)]
pub struct Transformed {
    /// The forecaster of the transformed series.
    pub inner: Box<dyn Forecaster>,
    /// The transform.
    pub transform: Transform,
    /// The metric's physical bounds.
    pub bounds: Bounds,
}

/// The history with values beyond the metric's physical bounds taken to the bound (errors of the
/// source: a counter reset, a CPU of 104 %), and a warning; `None` when every value is within.
/// More than half of them outside means the bounds do not fit the metric: an error that says so.
pub(crate) fn within_bounds(
    history: &Series,
    bounds: &Bounds,
    warnings: &mut Vec<String>,
) -> Result<Option<Series>, ForecastError> {
    let outside = history.values().iter().filter(|v| v.is_finite() && bounds.clip(**v) != **v).count();
    if outside == 0 {
        return Ok(None);
    }
    let finite_count = history.values().iter().filter(|v| v.is_finite()).count();
    let bounds_text = format!(
        "{}{}",
        bounds.min.map(|m| format!(", min {m}")).unwrap_or_default(),
        bounds.max.map(|m| format!(", max {m}")).unwrap_or_default()
    );
    if outside * 2 > finite_count {
        return Err(ForecastError::BadInput(format!(
            "{outside} of {finite_count} values of the history lie outside the metric's bounds{bounds_text}: the \
             bounds do not fit this metric\nhint: check them against its unit (a CPU fraction of 0–1 is not a \
             percentage; --min/--max, or min/max of its [[groups.metrics]])"
        )));
    }
    warnings.push(format!(
        "{outside} of {finite_count} values of the history lie outside the metric's bounds{bounds_text}: fitted at \
         the bound, as the forecast is clipped (check the bounds against the metric's unit)"
    ));
    let v = history.values().iter().map(|v| if v.is_finite() { bounds.clip(*v) } else { *v }).collect();
    Series::new(history.start(), history.step_secs(), v)
        .map(Some)
        .map_err(|e| ForecastError::Model(format!("bounds: {e}")))
}

/// A fitted transform: `T(y) = ((y + shift)^λ − 1) / λ`, or `ln(y + shift)` for `λ = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Fitted {
    lambda: f64,
    shift: f64,
}

impl Fitted {
    fn forward(&self, y: f64) -> f64 {
        let v = (y + self.shift).max(f64::MIN_POSITIVE);
        if self.lambda == 0.0 { v.ln() } else { (v.powf(self.lambda) - 1.0) / self.lambda }
    }

    fn inverse(&self, z: f64) -> f64 {
        let v = if self.lambda == 0.0 {
            z.exp()
        } else {
            // Below −1/λ there is no preimage: the transform's floor, i.e. y + shift = 0.
            (self.lambda * z + 1.0).max(0.0).powf(1.0 / self.lambda)
        };
        // The transform is fitted on non-negative histories only; the shift that lets it take
        // their zeros is no licence to go below them.
        let y = v - self.shift;
        // A NaN stays one (`max` would make it a zero forecast).
        if y < 0.0 { 0.0 } else { y }
    }
}

/// Guerrero's `λ` in [0, 1] (steps of 0.05): blocks of `period` values, the `λ` whose
/// `sd / mean^(1−λ)` varies least across blocks. 1 (no transform) with fewer than two blocks.
pub fn guerrero_lambda(y: &[f64], period: usize) -> f64 {
    let period = period.max(2);
    let blocks: Vec<(f64, f64)> = y
        .chunks_exact(period)
        .filter_map(|b| {
            let mean = b.iter().sum::<f64>() / b.len() as f64;
            let sd = (b.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (b.len() - 1) as f64).sqrt();
            (mean > 0.0 && sd.is_finite()).then_some((mean, sd))
        })
        .collect();
    if blocks.len() < 2 {
        return 1.0;
    }
    let cv = |lambda: f64| {
        let r: Vec<f64> = blocks.iter().map(|(m, s)| s / m.powf(1.0 - lambda)).collect();
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        let sd = (r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64).sqrt();
        if mean > 0.0 { sd / mean } else { f64::INFINITY }
    };
    let mut best = (f64::INFINITY, 1.0);
    for k in 0..=20 {
        let lambda = f64::from(k) * 0.05;
        let c = cv(lambda);
        if c < best.0 - 1e-12 {
            best = (c, lambda);
        }
    }
    best.1
}

/// What a fitted transform does to its inner model's forecasts.
#[derive(Debug)]
struct Inverse {
    transform: Option<Fitted>,
    bounds: Bounds,
    /// With a transform, the values back in the series' units stay within the history's range
    /// widened by [`crate::engine::SPAN_REACH`] of its span on either side: the inner model's
    /// reach is in the transform's units, where a log's zeros (at the shift of 1 % of the mean)
    /// lie far below the rest, and its exponential took a count of 0, 1 and 2 to 30,000.
    reach: Option<(f64, f64)>,
}

impl Forecaster for Transformed {
    fn name(&self) -> String {
        match self.transform {
            Transform::None => self.inner.name(),
            Transform::Log => format!("log({})", self.inner.name()),
            Transform::BoxCox => format!("box-cox({})", self.inner.name()),
        }
    }

    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError> {
        let mut warnings = Vec::new();
        let clipped = within_bounds(history, &self.bounds, &mut warnings)?;
        let history = clipped.as_ref().unwrap_or(history);
        let finite: Vec<f64> = history.values().iter().copied().filter(|v| v.is_finite()).collect();
        let fitted = match self.transform {
            Transform::None => None,
            _ if finite.iter().any(|v| *v < 0.0) => {
                warnings.push(format!(
                    "the history has negative values: fitted without the {} transform",
                    if self.transform == Transform::Log { "log" } else { "box-cox" }
                ));
                None
            }
            _ if finite.is_empty() => None,
            // A constant history (all zero, an idle group) has no spread to stabilise: fitted as
            // it is, so its forecast and warnings speak of its own value.
            _ if finite.iter().all(|v| *v == finite[0]) => None,
            t => {
                let mean = finite.iter().sum::<f64>() / finite.len() as f64;
                let shift = if finite.iter().any(|v| *v <= 0.0) { 0.01 * mean.max(f64::MIN_POSITIVE) } else { 0.0 };
                let lambda = match t {
                    Transform::BoxCox => {
                        let shifted: Vec<f64> = finite.iter().map(|v| v + shift).collect();
                        guerrero_lambda(&shifted, history.steps_per_day().max(2))
                    }
                    _ => 0.0,
                };
                Some(Fitted { lambda, shift })
            }
        };
        let series = match fitted {
            Some(f) => {
                let z: Vec<f64> =
                    history.values().iter().map(|v| if v.is_finite() { f.forward(*v) } else { f64::NAN }).collect();
                Series::new(history.start(), history.step_secs(), z)
                    .map_err(|e| ForecastError::Model(format!("transform: {e}")))?
            }
            None => history.clone(),
        };
        let inner = self.inner.fit(&series)?;
        warnings.extend(inner.warnings());
        let id = match fitted {
            Some(f) if self.transform == Transform::BoxCox => format!("box-cox({:.2}):{}", f.lambda, inner.model_id()),
            Some(_) => format!("log:{}", inner.model_id()),
            None => inner.model_id(),
        };
        let reach = fitted.map(|_| {
            let (lo, hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
            let out = crate::engine::SPAN_REACH * (hi - lo);
            (lo - out, hi + out)
        });
        let rewrite = Inverse { transform: fitted, bounds: self.bounds, reach };
        Ok(Box::new(Rewritten { inner, id, warnings, rewrite }))
    }
}

impl Rewrite for Inverse {
    /// Back to the series' units, clipped to its bounds.
    fn rewrite(&self, f: Forecast) -> Result<Forecast, ForecastError> {
        if self.transform.is_none() && self.bounds.is_none() {
            return Ok(f);
        }
        let reach = |v: f64| self.reach.map_or(v, |(lo, hi)| v.clamp(lo, hi));
        Ok(f.map_values(|_, v| self.bounds.clip(reach(self.transform.map_or(v, |t| t.inverse(v)))))?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use prescale_core::{Level, SplitMix64};

    use super::*;
    use crate::ModelSpec;

    fn lv(v: f64) -> Level {
        Level::new(v).unwrap()
    }

    #[test]
    fn transforms_round_trip() {
        for f in [
            Fitted { lambda: 0.0, shift: 0.0 },
            Fitted { lambda: 0.35, shift: 2.0 },
            Fitted { lambda: 1.0, shift: 0.0 },
        ] {
            for y in [0.5, 3.0, 1234.5] {
                assert!((f.inverse(f.forward(y)) - y).abs() < 1e-9 * y.max(1.0), "{f:?} {y}");
            }
        }
    }

    #[test]
    fn guerrero_finds_the_log_for_multiplicative_noise_and_none_for_additive() {
        // Days at very different levels; noise proportional to the level, or constant.
        let mut rng = SplitMix64(99);
        let mut noise = || rng.uniform() - 0.5;
        let levels = [10.0, 100.0, 1000.0, 50.0, 500.0, 20.0];
        let mult: Vec<f64> =
            levels.iter().flat_map(|l| (0..24).map(|_| l * (1.0 + 0.3 * noise())).collect::<Vec<_>>()).collect();
        let add: Vec<f64> =
            levels.iter().flat_map(|l| (0..24).map(|_| l + 5.0 * noise()).collect::<Vec<_>>()).collect();
        assert!(guerrero_lambda(&mult, 24) <= 0.1, "{}", guerrero_lambda(&mult, 24));
        assert!(guerrero_lambda(&add, 24) >= 0.9, "{}", guerrero_lambda(&add, 24));
        assert_eq!(guerrero_lambda(&add[..24], 24), 1.0);
    }

    fn series(values: Vec<f64>) -> Series {
        Series::new(Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap(), 3600, values).unwrap()
    }

    #[test]
    fn log_intervals_are_asymmetric_nested_and_bounded() {
        // A daily cycle with multiplicative noise, a CPU-like metric bounded at 100.
        let mut rng = SplitMix64(7);
        let mut noise = || rng.uniform() - 0.5;
        let y: Vec<f64> = (0..24 * 14)
            .map(|i| {
                let base = 40.0 + 35.0 * (std::f64::consts::TAU * (i % 24) as f64 / 24.0).sin();
                (base * (1.0 + 0.6 * noise())).min(100.0)
            })
            .collect();
        let t = Transformed {
            inner: ModelSpec::Auto.build(),
            transform: Transform::Log,
            bounds: Bounds { min: Some(0.0), max: Some(100.0) },
        };
        let fitted = t.fit(&series(y)).unwrap();
        assert!(fitted.model_id().starts_with("log:auto"), "{}", fitted.model_id());
        let f = fitted.predict(48, &[lv(0.8), lv(0.95)]).unwrap();
        let mut wider_above = 0;
        for i in 0..48 {
            let (p, lo, hi) = (f.point[i], f.intervals[1].lower[i], f.intervals[1].upper[i]);
            assert!(lo >= 0.0 && hi <= 100.0 && lo <= p && p <= hi, "step {i}: {lo} {p} {hi}");
            assert!(f.intervals[0].lower[i] >= lo && f.intervals[0].upper[i] <= hi);
            if hi - p > p - lo || hi == 100.0 {
                wider_above += 1;
            }
        }
        assert!(wider_above >= 40, "log intervals should be wider above: {wider_above} of 48");
    }

    #[test]
    fn a_count_with_zeros_is_forecast_at_zero_or_above_without_bounds() {
        // Requests per hour, idle at night (zeros: the transform shifts them), no bounds given.
        let mut rng = SplitMix64(3);
        let y: Vec<f64> = (0..24 * 14)
            .map(|i| if (i % 24) < 7 { 0.0 } else { (200.0 * (1.0 + 0.8 * (rng.uniform() - 0.5))).round() })
            .collect();
        for transform in [Transform::Log, Transform::BoxCox] {
            let t = Transformed { inner: ModelSpec::Auto.build(), transform, bounds: Bounds::default() };
            let fitted = t.fit(&series(y.clone())).unwrap();
            let f = fitted.predict(48, &[lv(0.8), lv(0.95)]).unwrap();
            let lowest = f.intervals[1].lower.iter().chain(&f.point).fold(f64::INFINITY, |a, b| a.min(*b));
            assert!(lowest >= 0.0, "{transform:?}: {lowest} below the count's zero");
        }
        // A count of zeros and ones: the log's zeros sit far below its ones (at 1 % of the mean),
        // and the back-transformed bounds went to thousands. They stay within the history's range
        // and one and a half of its span beyond.
        let mut rng = SplitMix64(5);
        let ones: Vec<f64> = (0..24 * 14)
            .map(|i| f64::from(u8::from(rng.uniform() < 0.2 + 0.6 * f64::from(u8::from(i % 24 >= 8)))))
            .collect();
        for transform in [Transform::Log, Transform::BoxCox] {
            let t = Transformed { inner: ModelSpec::Auto.build(), transform, bounds: Bounds::default() };
            let f = t.fit(&series(ones.clone())).unwrap().predict(48, &[lv(0.8), lv(0.95)]).unwrap();
            let highest = f.intervals[1].upper.iter().fold(0.0_f64, |a, b| a.max(*b));
            assert!(highest <= 1.0 + 1.5 + 1e-9, "{transform:?}: {highest}");
        }
        assert_eq!(Fitted { lambda: 0.0, shift: 2.0 }.inverse(f64::NEG_INFINITY), 0.0);
    }

    #[test]
    fn negative_values_are_fitted_untransformed_with_a_warning() {
        let y: Vec<f64> = (0..24 * 4).map(|i| (i % 24) as f64 - 5.0).collect();
        let t = Transformed { inner: ModelSpec::Auto.build(), transform: Transform::BoxCox, bounds: Bounds::default() };
        let fitted = t.fit(&series(y)).unwrap();
        assert!(fitted.warnings().iter().any(|w| w.contains("negative values")), "{:?}", fitted.warnings());
        assert!(!fitted.model_id().starts_with("box-cox"));
    }

    #[test]
    fn bad_bounds_are_refused() {
        assert!(Bounds { min: Some(5.0), max: Some(5.0) }.validate().is_err());
        assert!(Bounds { min: None, max: Some(f64::NAN) }.validate().is_err());
        assert!(Bounds { min: Some(0.0), max: Some(100.0) }.validate().is_ok());
    }
}
