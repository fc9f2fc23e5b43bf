//! Prediction intervals from the series' own backtest errors (split-conformal style).
//!
//! The errors of rolling-origin backtests are the sample (relative to the forecast's size when the
//! caller scales them). Few origins fit in a training window, so the errors of one horizon step are
//! too few for a 95 % quantile: [`pooled_symmetric`] pools each step's neighbours over every origin
//! and takes the level-quantile of |error| as a symmetric half-width.
//!
//! Two corrections make those quantiles hold on the future rather than on the past:
//! - **recency**: origin `i` (0 the most recent) weighs `decay^i`. Recent errors are the more
//!   representative ones: the series drifts, and an old origin's model saw less history than the
//!   forecast's will.
//! - **tails**: errors within one origin move together (an incident or a level shift spoils a
//!   whole window), so ten origins are about ten draws, too few for a tail quantile. Above 80 %, the
//!   half-width is at least the 80 % one extrapolated with an exponential (Laplace) tail,
//!   `q(L) ≥ q(0.8) · ln(1/(1−L)) / ln 5` (1.86 × at 95 %), the shape of operational errors.

use prescale_core::Level;

/// Offsets to add to the point forecast, per level: `(level, lower, upper)`, `lower ≤ 0 ≤ upper`.
pub type Offsets = Vec<(Level, Vec<f64>, Vec<f64>)>;

/// Errors of one backtest origin: `errors[h]` = actual − forecast at step `h` (shorter than the
/// horizon when the origin is near the end of the history).
pub type OriginErrors = Vec<f64>;

/// Where the Laplace tail takes over from the empirical quantile (see the module notes).
const TAIL_FROM: f64 = 0.8;

/// How the backtest errors are pooled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pooling {
    /// Steps within ± this share of the backtested horizon around a step are pooled with it.
    pub share: f64,
    /// Origin `i` (0 = the first in the slice, the most recent) weighs `decay^i`; 1 weighs all alike.
    pub decay: f64,
    /// Above [`TAIL_FROM`], extrapolate the tail from the 80 % quantile (see the module notes).
    pub laplace_tail: bool,
    /// The smallest half-width allowed.
    pub floor: f64,
}

/// Symmetric interval offsets: for step `h`, the level-quantile of |error| over every origin's
/// errors at the steps within ± `share` of the backtested horizon around `h` (all errors when
/// fewer than five are there), weighted by origin recency, with the tail correction above 80 %.
/// Errors of neighbouring steps are alike, and pooling them gives enough of them for a quantile
/// from a handful of origins. `errors` are ordered most recent first.
pub fn pooled_symmetric(errors: &[OriginErrors], horizon: usize, levels: &[Level], pool: Pooling) -> Offsets {
    let backtested = errors.iter().map(Vec::len).max().unwrap_or(0);
    let k = ((pool.share * backtested as f64).round() as usize).max(1);
    let weight = |origin: usize| pool.decay.clamp(0.0, 1.0).powi(origin.min(i32::MAX as usize) as i32);
    let mut sorted_all: Vec<(f64, f64)> = errors
        .iter()
        .enumerate()
        .flat_map(|(o, e)| e.iter().map(move |v| (v.abs(), o)))
        .filter(|(v, _)| v.is_finite())
        .map(|(v, o)| (v, weight(o)))
        .collect();
    sorted_all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut per_step: Vec<Vec<(f64, f64)>> = Vec::with_capacity(horizon);
    for h in 0..horizon {
        let lo = h.saturating_sub(k);
        let mut p: Vec<(f64, f64)> = errors
            .iter()
            .enumerate()
            .flat_map(|(o, e)| {
                e.iter().enumerate().skip(lo).take(h + k + 1 - lo).map(move |(_, v)| (v.abs(), weight(o)))
            })
            .filter(|(v, _)| v.is_finite())
            .collect();
        if p.len() < 5 {
            p = sorted_all.clone();
        } else {
            p.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        per_step.push(p);
    }
    levels
        .iter()
        .map(|&l| {
            let half: Vec<f64> = per_step
                .iter()
                .map(|p| {
                    let q = if p.is_empty() {
                        pool.floor * gaussian_z(l.value()) * 1.25
                    } else {
                        let q = weighted_quantile(p, l.value());
                        if pool.laplace_tail && l.value() > TAIL_FROM {
                            let ratio = (1.0 / (1.0 - l.value())).ln() / (1.0 / (1.0 - TAIL_FROM)).ln();
                            q.max(weighted_quantile(p, TAIL_FROM) * ratio)
                        } else {
                            q
                        }
                    };
                    q.max(pool.floor)
                })
                .collect();
            (l, half.iter().map(|v| -v).collect(), half)
        })
        .collect()
}

/// The `q`-quantile of values sorted ascending with weights: the smallest value whose cumulative
/// weight reaches `q` of the total, interpolated linearly between neighbours (equal weights give
/// the usual linear-interpolation quantile).
fn weighted_quantile(sorted: &[(f64, f64)], q: f64) -> f64 {
    let total: f64 = sorted.iter().map(|p| p.1).sum();
    if sorted.len() == 1 || total <= 0.0 {
        return sorted[0].0;
    }
    // Position of each value on [0, 1]: the midpoint of its weight, rescaled so that the first
    // sits at 0 and the last at 1 (with equal weights: i / (n − 1)).
    let (w0, wl) = (sorted[0].1, sorted[sorted.len() - 1].1);
    let span = total - (w0 + wl) / 2.0;
    let target = q.clamp(0.0, 1.0) * span;
    let mut cum = 0.0;
    for i in 1..sorted.len() {
        let step = (sorted[i - 1].1 + sorted[i].1) / 2.0;
        if cum + step >= target {
            let t = if step > 0.0 { (target - cum) / step } else { 0.0 };
            return sorted[i - 1].0 + (sorted[i].0 - sorted[i - 1].0) * t;
        }
        cum += step;
    }
    sorted[sorted.len() - 1].0
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

    fn pooling(decay: f64, laplace_tail: bool, floor: f64) -> Pooling {
        Pooling { share: 0.25, decay, laplace_tail, floor }
    }

    /// Deterministic pseudo-random uniforms on (0, 1) (never 0: their logs are taken).
    fn uniforms(seed: u64) -> impl FnMut() -> f64 {
        let mut rng = prescale_core::SplitMix64(seed);
        move || rng.uniform().max(f64::MIN_POSITIVE)
    }

    fn coverage(off: &Offsets, test: &[OriginErrors]) -> Vec<f64> {
        let n: usize = test.iter().map(Vec::len).sum();
        off.iter()
            .map(|(_, lo, hi)| {
                let inside =
                    test.iter().flat_map(|e| e.iter().enumerate()).filter(|(i, v)| **v >= lo[*i] && **v <= hi[*i]);
                inside.count() as f64 / n as f64
            })
            .collect()
    }

    #[test]
    fn covers_what_it_promises_on_exchangeable_laplace_errors() {
        // Laplace errors growing with the horizon: the shape the tail correction assumes, so the
        // empirical and the extrapolated quantiles agree and both hold.
        let mut u = uniforms(12345);
        let h = 48;
        let mut make = || {
            (0..h)
                .map(|i| {
                    let (a, b) = (u(), u());
                    let sign = if b < 0.5 { -1.0 } else { 1.0 };
                    sign * -a.ln() * (1.0 + i as f64 / 24.0)
                })
                .collect::<Vec<_>>()
        };
        let train: Vec<OriginErrors> = (0..10).map(|_| make()).collect();
        let levels = [lv(0.5), lv(0.8), lv(0.9), lv(0.95)];
        let off = pooled_symmetric(&train, h, &levels, pooling(1.0, true, 0.0));
        let test: Vec<OriginErrors> = (0..400).map(|_| make()).collect();
        for ((l, lo, hi), cov) in off.iter().zip(coverage(&off, &test)) {
            assert!((cov - l.value()).abs() < 0.04, "level {} covered {cov}", l.value());
            assert!(lo.iter().zip(hi).all(|(a, b)| *a <= 0.0 && *b >= 0.0));
        }
        // Nested: each level's offsets contain the one below.
        for w in off.windows(2) {
            assert!(w[1].1.iter().zip(&w[0].1).all(|(a, b)| a <= b));
            assert!(w[1].2.iter().zip(&w[0].2).all(|(a, b)| a >= b));
        }
    }

    #[test]
    fn a_tail_seen_in_too_few_origins_is_extrapolated() {
        // Uniform errors on (−1, 1) have no tail: the empirical 95 % half-width is 0.95, the
        // extrapolated one 0.8 · ln 20 / ln 5 ≈ 1.49; the 80 % half-width is left alone.
        let mut u = uniforms(7);
        let train: Vec<OriginErrors> = (0..10).map(|_| (0..200).map(|_| 2.0 * u() - 1.0).collect()).collect();
        let levels = [lv(0.8), lv(0.95)];
        let plain = pooled_symmetric(&train, 10, &levels, pooling(1.0, false, 0.0));
        let tail = pooled_symmetric(&train, 10, &levels, pooling(1.0, true, 0.0));
        assert!((plain[1].2[0] - 0.95).abs() < 0.05, "{}", plain[1].2[0]);
        let want = plain[0].2[0] * 20f64.ln() / 5f64.ln();
        assert!((tail[1].2[0] - want).abs() < 1e-9 && want > 1.45, "{} vs {want}", tail[1].2[0]);
        assert_eq!(plain[0], tail[0]);
    }

    #[test]
    fn recent_origins_weigh_more() {
        // The most recent origin's errors are 1, the nine older ones' 3: with equal weights the
        // median half-width is 3, with decay 0.5 the recent origin holds half the weight.
        let train: Vec<OriginErrors> = (0..10).map(|o| vec![if o == 0 { 1.0 } else { 3.0 }; 20]).collect();
        let even = pooled_symmetric(&train, 1, &[lv(0.3)], pooling(1.0, false, 0.0));
        let recent = pooled_symmetric(&train, 1, &[lv(0.3)], pooling(0.5, false, 0.0));
        assert_eq!(even[0].2[0], 3.0);
        assert_eq!(recent[0].2[0], 1.0);
    }

    #[test]
    fn weighted_quantiles_match_the_plain_ones_with_equal_weights() {
        let v: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0].iter().map(|x| (*x, 1.0)).collect();
        assert_eq!(weighted_quantile(&v, 0.0), 1.0);
        assert_eq!(weighted_quantile(&v, 1.0), 8.0);
        assert!((weighted_quantile(&v, 0.5) - 3.0).abs() < 1e-12);
        assert!((weighted_quantile(&v, 0.9) - 6.8).abs() < 1e-12);
    }

    #[test]
    fn no_errors_still_gives_finite_intervals() {
        let off = pooled_symmetric(&[], 5, &[lv(0.9)], pooling(0.8, true, 2.0));
        assert!(off[0].1.iter().all(|v| v.is_finite() && *v < 0.0));
    }
}
