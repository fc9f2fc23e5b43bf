//! Prediction intervals from the series' own backtest errors (split-conformal style).
//!
//! The errors of rolling-origin backtests are the sample (relative to the forecast's size when the
//! caller scales them). Few origins fit in a training window, so the errors of one horizon step are
//! too few for a 95 % quantile: [`pooled_symmetric`] pools each step's neighbours over every origin
//! and takes the level-quantile of |error| as a symmetric half-width.

use prescale_core::Level;

/// Offsets to add to the point forecast, per level: `(level, lower, upper)`, `lower ≤ 0 ≤ upper`.
pub type Offsets = Vec<(Level, Vec<f64>, Vec<f64>)>;

/// Errors of one backtest origin: `errors[h]` = actual − forecast at step `h` (shorter than the
/// horizon when the origin is near the end of the history).
pub type OriginErrors = Vec<f64>;

/// Symmetric interval offsets: for step `h`, the level-quantile of |error| over every origin's
/// errors at the steps within ± `share` of the backtested horizon around `h` (all errors when
/// fewer than five are there). Errors of neighbouring steps are alike, and pooling them gives
/// enough of them for a 95 % quantile from a handful of origins. `floor` is the smallest
/// half-width allowed.
pub fn pooled_symmetric(errors: &[OriginErrors], horizon: usize, levels: &[Level], share: f64, floor: f64) -> Offsets {
    let backtested = errors.iter().map(Vec::len).max().unwrap_or(0);
    let k = ((share * backtested as f64).round() as usize).max(1);
    let all: Vec<f64> = errors.iter().flatten().map(|v| v.abs()).filter(|v| v.is_finite()).collect();
    let mut per_step: Vec<Vec<f64>> = Vec::with_capacity(horizon);
    for h in 0..horizon {
        let mut pool: Vec<f64> = errors
            .iter()
            .flat_map(|e| e.iter().enumerate().filter(|(i, _)| i.abs_diff(h) <= k).map(|(_, v)| v.abs()))
            .filter(|v| v.is_finite())
            .collect();
        if pool.len() < 5 {
            pool = all.clone();
        }
        pool.sort_by(f64::total_cmp);
        per_step.push(pool);
    }
    levels
        .iter()
        .map(|&l| {
            let half: Vec<f64> = per_step
                .iter()
                .map(|pool| {
                    let q = if pool.is_empty() {
                        floor * gaussian_z(l.value()) * 1.25
                    } else {
                        quantile_sorted(pool, l.value())
                    };
                    q.max(floor)
                })
                .collect();
            (l, half.iter().map(|v| -v).collect(), half)
        })
        .collect()
}

fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The two-sided standard normal quantile for coverage `p` (Acklam-free rational approximation
/// of Abramowitz–Stegun 26.2.23, error < 5e-4: plenty for a fallback width).
fn gaussian_z(p: f64) -> f64 {
    let q = (1.0 - p) / 2.0;
    let t = (-2.0 * q.max(1e-12).ln()).sqrt();
    t - (2.515_517 + 0.802_853 * t + 0.010_328 * t * t)
        / (1.0 + 1.432_788 * t + 0.189_269 * t * t + 0.001_308 * t.powi(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(v: f64) -> Level {
        Level::new(v).unwrap()
    }

    #[test]
    fn gaussian_quantiles_are_close() {
        assert!((gaussian_z(0.95) - 1.96).abs() < 1e-2);
        assert!((gaussian_z(0.8) - 1.2816).abs() < 1e-2);
    }

    #[test]
    fn covers_what_it_promises_on_exchangeable_errors() {
        // Deterministic pseudo-random errors growing with the horizon.
        let mut x = 12345u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let h = 48;
        let make = |next: &mut dyn FnMut() -> f64| (0..h).map(|i| next() * (1.0 + i as f64 / 24.0)).collect::<Vec<_>>();
        let train: Vec<OriginErrors> = (0..8).map(|_| make(&mut next)).collect();
        let off = pooled_symmetric(&train, h, &[lv(0.8), lv(0.95)], 0.25, 0.0);
        let test: Vec<OriginErrors> = (0..400).map(|_| make(&mut next)).collect();
        for (l, lo, hi) in &off {
            let inside = test.iter().flat_map(|e| e.iter().enumerate()).filter(|(i, v)| **v >= lo[*i] && **v <= hi[*i]);
            let cov = inside.count() as f64 / (400 * h) as f64;
            assert!((cov - l.value()).abs() < 0.06, "level {} covered {cov}", l.value());
            assert!(lo.iter().zip(hi).all(|(a, b)| *a <= 0.0 && *b >= 0.0));
        }
        // Nested: the 95 % offsets contain the 80 %.
        assert!(off[1].1.iter().zip(&off[0].1).all(|(a, b)| a <= b));
        assert!(off[1].2.iter().zip(&off[0].2).all(|(a, b)| a >= b));
    }

    #[test]
    fn no_errors_still_gives_finite_intervals() {
        let off = pooled_symmetric(&[], 5, &[lv(0.9)], 0.25, 2.0);
        assert!(off[0].1.iter().all(|v| v.is_finite() && *v < 0.0));
    }
}
