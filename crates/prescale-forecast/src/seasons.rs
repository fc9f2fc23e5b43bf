//! Seasons other than the day and the week: detection (augurs' Welch periodogram, refined and
//! checked by autocorrelation) and the profile and MSTL models at the detected period.
//!
//! Load with a 12-hour shift pattern, an 8-hour batch cycle or an hourly job repeats within the
//! day; a daily profile copies such a cycle too, but from a seventh or a twelfth of the samples
//! per slot, and a cycle that does not divide the day (10 h, 30 h) it cannot copy at all.

use augurs::seasons::PeriodogramDetector;

use crate::ForecastError;
use crate::engine::Candidate;
use crate::point::{
    Calendar, PointModel, check_len, clean, deseasonalise, mstl_forecast, shrunk_profile, slot, smoothed_level,
};

/// The shortest period looked for, in steps.
const MIN_PERIOD: usize = 3;
/// A detected period must correlate at least this well with the series one period later…
const MIN_ACF: f64 = 0.3;
/// … and at most this much less well than the day does.
const DAY_MARGIN: f64 = 0.05;

/// Pearson correlation of `x[t]` and `x[t + lag]`; `None` when either part is constant.
fn acf(x: &[f64], lag: usize) -> Option<f64> {
    if lag == 0 || lag + 2 > x.len() {
        return None;
    }
    let (a, b) = (&x[..x.len() - lag], &x[lag..]);
    let len = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / len, b.iter().sum::<f64>() / len);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (u, v) in a.iter().zip(b) {
        sab += (u - ma) * (v - mb);
        saa += (u - ma) * (u - ma);
        sbb += (v - mb) * (v - mb);
    }
    let den = (saa * sbb).sqrt();
    (den > 0.0 && den.is_finite()).then(|| sab / den)
}

/// `x` minus its centred moving average over `w` steps: level shifts and trends go, cycles of a
/// day or shorter (whose mean over a day is about zero) stay.
fn detrend(x: &[f64], w: usize) -> Vec<f64> {
    let n = x.len();
    let mut prefix = vec![0.0; n + 1];
    for (i, v) in x.iter().enumerate() {
        prefix[i + 1] = prefix[i] + v;
    }
    let half = w / 2;
    (0..n)
        .map(|i| {
            let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(n));
            x[i] - (prefix[hi] - prefix[lo]) / (hi - lo) as f64
        })
        .collect()
}

/// The dominant period of `y` in steps, when it is clearly there and is not the day or a
/// multiple of it (those the daily and weekly models cover).
///
/// The strongest peak of the Welch periodogram of the incident-cleaned, detrended series (periods
/// from 3 steps to just under two days) is refined to the lag with the highest autocorrelation
/// within a factor 1.5 of it (the periodogram's bins are coarse at long periods). The period is
/// accepted when that autocorrelation is at least 0.3 and no more than 0.05 below the day's: a
/// daily cycle with a strong second harmonic correlates far worse at 12 h than at 24 h, a true
/// 12-hour cycle equally well; and it must not lie within three hours of a day multiple. Needs three
/// days of history.
pub fn detect_period(y: &[f64], cal: Calendar) -> Option<usize> {
    let (n, m) = (y.len(), cal.steps_per_day);
    if m < 2 * MIN_PERIOD || n < 3 * m {
        return None;
    }
    let x = detrend(&clean(y, m), m);
    let max_period = (n / 3).min(2 * m - 1).min(512);
    let pg = PeriodogramDetector::builder()
        .min_period(MIN_PERIOD as u32)
        .max_period(max_period as u32)
        .build()
        .periodogram(&x);
    let peak = pg.periods.iter().zip(&pg.powers).filter(|(_, p)| p.is_finite()).max_by(|a, b| a.1.total_cmp(b.1))?;
    let p0 = *peak.0 as usize;
    let (lo, hi) = ((p0 * 2 / 3).max(MIN_PERIOD), (p0 * 3 / 2).min(max_period));
    let (period, r) = (lo..=hi).filter_map(|lag| acf(&x, lag).map(|r| (lag, r))).max_by(|a, b| a.1.total_cmp(&b.1))?;
    // Within three hours of a day multiple is the day, with its jitter (a 23-hour "period" is
    // what the coarse periodogram and a noisy autocorrelation make of a daily cycle).
    let tolerance = (m / 8).max(1);
    let days = ((period as f64 / m as f64).round() as usize).max(1);
    if period.abs_diff(days * m) <= tolerance {
        return None;
    }
    let day = acf(&x, m).unwrap_or(0.0);
    (r >= MIN_ACF && r >= day - DAY_MARGIN).then_some(period)
}

/// A period as people say it: `12h`, `90m`, or `7x45s`.
pub fn period_label(period: usize, step_secs: usize) -> String {
    let secs = period * step_secs;
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{period}x{step_secs}s")
    }
}

/// The candidates the engine adds for a detected period: the profile with a smoothed level and
/// MSTL, at that period, with the same prior as their daily forms.
pub fn period_candidates(period: usize, cal: Calendar) -> Vec<Candidate> {
    let step_secs = 86_400 / cal.steps_per_day.max(1);
    vec![
        Candidate { model: Box::new(PeriodProfile { period, step_secs }), prior: 1.0 },
        Candidate { model: Box::new(PeriodMstl { period, step_secs }), prior: 1.0 },
    ]
}

/// The robust profile of [`crate::point::ProfileLevel`] at another period: per-slot medians
/// over the cycles of the last week, cleaned of incidents, shrunk by their noise, on a level
/// smoothed from hourly medians.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodProfile {
    /// Period in steps.
    pub period: usize,
    /// The series' step in seconds (for the name).
    pub step_secs: usize,
}

impl PointModel for PeriodProfile {
    fn name(&self) -> String {
        format!("profile({})+ses", period_label(self.period, self.step_secs))
    }
    fn min_history(&self, cal: Calendar) -> usize {
        (2 * self.period).max(cal.steps_per_day)
    }
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        check_len(y.len(), self.min_history(cal))?;
        let (n, m, p) = (y.len(), cal.steps_per_day, self.period.max(1));
        let per_hour = (3600 / (86_400 / m.max(1))).max(1);
        let x = clean(y, p);
        // Smooth over an hour, but never over more than an eighth of the cycle.
        let k = per_hour.min(p / 8).max(1) | 1;
        let cycles = (7 * m / p).max(2);
        let profile = shrunk_profile(&x, p, cycles, k);
        let level = smoothed_level(&deseasonalise(&x, &profile), cal);
        Ok((0..horizon).map(|h| level + slot(&profile, n, n + h)).collect())
    }
}

/// MSTL at a detected period (and the day as well when the period does not divide it), on the
/// incident-cleaned history, with an ETS level and trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodMstl {
    /// Period in steps.
    pub period: usize,
    /// The series' step in seconds (for the name).
    pub step_secs: usize,
}

impl PeriodMstl {
    fn periods(&self, n: usize, cal: Calendar) -> Vec<usize> {
        let (m, p) = (cal.steps_per_day, self.period.max(1));
        let mut periods = vec![p];
        if !m.is_multiple_of(p) && n >= 2 * m {
            periods.push(m);
        }
        periods
    }
}

impl PointModel for PeriodMstl {
    fn name(&self) -> String {
        format!("mstl({},cleaned)", period_label(self.period, self.step_secs))
    }
    fn min_history(&self, cal: Calendar) -> usize {
        (2 * self.period).max(cal.steps_per_day)
    }
    fn forecast(&self, y: &[f64], cal: Calendar, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        check_len(y.len(), self.min_history(cal))?;
        mstl_forecast(y, self.periods(y.len(), cal), Some(self.period.max(1)), horizon)
    }
}

#[cfg(test)]
mod tests {
    use prescale_core::SplitMix64 as Rng;

    use super::*;
    use crate::point::{LevelModel, ProfileLevel};
    use crate::synthetic::Shape;

    const HOURLY: Calendar = Calendar::new(24);
    const FIVE_MIN: Calendar = Calendar::new(288);

    /// A cycle of `period_hours` (a sharp shift peak, not a sine) with noise, at `cal`'s step,
    /// and the cycle without the noise.
    fn cycle_and_truth(days: usize, cal: Calendar, period_hours: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut r = Rng(seed);
        let step_h = 24.0 / cal.steps_per_day as f64;
        (0..days * cal.steps_per_day)
            .map(|i| {
                let phase = (i as f64 * step_h / period_hours).fract();
                let truth = 200.0 * if phase < 0.25 { 3.0 } else { 1.0 + phase };
                (truth * (1.0 + 0.15 * r.normal()), truth)
            })
            .unzip()
    }

    fn cycle(days: usize, cal: Calendar, period_hours: f64, seed: u64) -> Vec<f64> {
        cycle_and_truth(days, cal, period_hours, seed).0
    }

    fn mae(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
    }

    #[test]
    fn a_six_hour_cycle_is_detected_and_forecast_better_than_by_the_daily_profile() {
        for (seed, cal, hours, days) in
            [(1, HOURLY, 6.0, 14), (2, FIVE_MIN, 12.0, 10), (3, HOURLY, 10.0, 14), (4, FIVE_MIN, 1.0, 7)]
        {
            let (y, truth) = cycle_and_truth(days + 2, cal, hours, seed);
            let m = cal.steps_per_day;
            // Scored against the cycle itself: the noise is the same for every model.
            let (train, test) = (&y[..days * m], &truth[days * m..]);
            let expected = (hours * m as f64 / 24.0).round() as usize;
            assert_eq!(detect_period(train, cal), Some(expected), "{hours} h at {m} steps a day");
            let step_secs = 86_400 / m;
            let own = PeriodProfile { period: expected, step_secs }.forecast(train, cal, 2 * m).unwrap();
            let daily = ProfileLevel { season_days: 1, days: 7, level: LevelModel::Smoothed }
                .forecast(train, cal, 2 * m)
                .unwrap();
            let (a, b) = (mae(&own, test), mae(&daily, test));
            println!("{hours} h: own period MAE {a:.1}, daily profile {b:.1}");
            assert!(a < b, "{hours} h: own period MAE {a:.1}, daily profile {b:.1}");
            let mstl = PeriodMstl { period: expected, step_secs }.forecast(train, cal, 2 * m).unwrap();
            assert!(mae(&mstl, test) < b * 1.1, "{hours} h: MSTL at the period {:.1}", mae(&mstl, test));
        }
        assert_eq!(PeriodMstl { period: 144, step_secs: 300 }.name(), "mstl(12h,cleaned)");
        assert_eq!(PeriodProfile { period: 10, step_secs: 3600 }.name(), "profile(10h)+ses");
    }

    #[test]
    fn daily_and_weekly_series_and_noise_keep_the_day() {
        for seed in 0..8 {
            for step in [3600, 300] {
                let s = Shape::web(seed, 28, step).series();
                let cal = Calendar::new((86_400 / step) as usize);
                assert_eq!(detect_period(s.values(), cal), None, "web seed {seed} at {step} s");
            }
        }
        // A day with two peaks (a strong 12-hour harmonic) is still a day.
        let mut r = Rng(9);
        let y: Vec<f64> = (0..24 * 14)
            .map(|t| {
                let a = std::f64::consts::TAU * (t % 24) as f64 / 24.0;
                100.0 + 20.0 * a.sin() + 40.0 * (2.0 * a).cos() + 5.0 * r.normal()
            })
            .collect();
        assert_eq!(detect_period(&y, HOURLY), None);
        let noise: Vec<f64> = (0..24 * 14).map(|_| 50.0 + r.normal()).collect();
        assert_eq!(detect_period(&noise, HOURLY), None);
        // Too short to tell, constant, zero: nothing.
        assert_eq!(detect_period(&cycle(2, HOURLY, 6.0, 4), HOURLY), None);
        assert_eq!(detect_period(&[3.0; 24 * 14], HOURLY), None);
        assert_eq!(detect_period(&[0.0; 288 * 7], FIVE_MIN), None);
    }

    #[test]
    fn the_engine_adds_the_period_and_names_it() {
        use chrono::{TimeZone, Utc};
        let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let s = prescale_core::Series::new(start, 3600, cycle(21, HOURLY, 8.0, 5)).unwrap();
        let fitted = crate::ModelSpec::Auto.build().fit(&s).unwrap();
        let id = fitted.model_id();
        assert!(id.contains("8h"), "{id}");
        let scores = fitted.scores();
        assert!(scores.iter().any(|c| c.model == "profile(8h)+ses" && c.weight > 0.0), "{scores:?}");
        // A plain web series: the candidate list of `auto` as it is.
        let web = Shape::web(3, 21, 3600).series();
        let names: Vec<String> =
            crate::ModelSpec::Auto.build().fit(&web).unwrap().scores().into_iter().map(|c| c.model).collect();
        let (base, _) = crate::auto_candidates();
        let bare: Vec<&str> = names.iter().map(|n| n.split(" (scored as daily").next().unwrap_or(n)).collect();
        assert_eq!(bare, base.iter().map(|c| c.model.name()).collect::<Vec<_>>());
        // Three weeks of history: the weekly models run weekly, but their earliest backtest origins
        // had under two weeks behind them and ran them daily, which their scores say.
        for n in &names {
            assert_eq!(n.contains("week"), n.ends_with(" origins)"), "{names:?}");
        }
    }
}
