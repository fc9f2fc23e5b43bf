//! Scoring whole forecasters (point and intervals) by rolling-origin backtests: what
//! `prescale backtest` reports. Each origin's fit sees only the training window before it.

use chrono::{DateTime, Duration, Utc};
use prescale_core::{Level, Series};

use crate::backtest::mase_scale;
use crate::point::Calendar;
use crate::{ForecastError, Forecaster, ModelSpec};

/// How to backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalSettings {
    /// Origins, most recent first: `E − horizon`, `E − 2·horizon`, … with `E` the end of the
    /// history, so test windows do not overlap.
    pub origins: usize,
    /// Forecast horizon.
    pub horizon: Duration,
    /// Training window before each origin.
    pub train: Duration,
    /// Interval levels scored.
    pub levels: Vec<Level>,
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            origins: 3,
            horizon: Duration::hours(48),
            train: Duration::days(14),
            levels: [0.8, 0.95].iter().filter_map(|l| Level::new(*l).ok()).collect(),
        }
    }
}

/// Scores of one model on one series, averaged over its origins.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scores {
    /// The model spec's name as configured (`auto`, `mstl`, …).
    pub model: String,
    /// Model ids the fits resolved to, per origin, the latest origin first (as they are scored;
    /// [`Scores::per_origin`] names each origin's, oldest first).
    pub fitted: Vec<String>,
    /// Origins scored.
    pub origins: usize,
    /// Mean absolute error / mean |y(t) − y(t − 1 day)| of the training window.
    pub mase: f64,
    /// Symmetric MAPE, in percent.
    pub smape: f64,
    /// Sum |error| / sum |actual|.
    pub wape: f64,
    /// Share of actuals inside each interval: (level, coverage).
    pub coverage: Vec<(f64, f64)>,
    /// Mean interval width / mean |actual|: (level, width).
    pub width: Vec<(f64, f64)>,
    /// Mean pinball loss over the interval bounds' quantiles and the median, / the MASE scale.
    pub pinball: f64,
    /// The MASE at each origin scored, oldest first (`mase` is their mean).
    pub per_origin: Vec<OriginMase>,
    /// Each origin's forecast beside what happened (for plots and the backtest Parquet file).
    #[serde(skip)]
    pub runs: Vec<OriginRun>,
    /// The warnings of the fit at the most recent origin scored (a history under two weeks, a
    /// level shift, …), as `forecast show` would give them there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One origin's MASE; `None` where its training window never changed (no scale), or no actual
/// after it was measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OriginMase {
    /// The origin (the first forecast step).
    pub origin: DateTime<Utc>,
    /// Mean absolute error over its measured actuals / its scale.
    pub mase: Option<f64>,
    /// The model id the fit at this origin resolved to.
    pub fitted: String,
}

/// One origin of a backtest: the forecast made there and the actuals after it.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginRun {
    /// The origin (the first forecast step).
    pub origin: DateTime<Utc>,
    /// The forecast.
    pub forecast: prescale_core::Forecast,
    /// The actuals of the same steps (NaN where missing).
    pub actual: Vec<f64>,
    /// The MASE's scale at this origin: the mean |y(t) − y(t − 1 day)| of its training window,
    /// of lag 1 where that is 0 ([`crate::backtest::mase_scale`]); 0 where the window never
    /// changed (no MASE there).
    pub scale: f64,
}

impl OriginRun {
    /// This origin's MASE, as [`Scores::mase`] averages it.
    pub fn mase(&self) -> Option<f64> {
        let errors: Vec<f64> = self
            .actual
            .iter()
            .zip(&self.forecast.point)
            .filter(|(y, _)| y.is_finite())
            .map(|(y, p)| (y - p).abs())
            .collect();
        (!errors.is_empty() && self.scale > 0.0 && self.scale.is_finite())
            .then(|| errors.iter().sum::<f64>() / errors.len() as f64 / self.scale)
    }
}

/// The origins of a history ending at `end`.
pub fn origins(end: DateTime<Utc>, s: &EvalSettings) -> Vec<DateTime<Utc>> {
    (1..=s.origins as i32).map(|k| end - s.horizon * k).collect()
}

/// Backtests `spec` on `series`, built as `forecast show --input` builds it by default (no
/// holidays or transform, weekends learnt in UTC). Origins without two days of training before
/// them, or where the fit fails, are skipped; an error only when no origin could be scored.
///
/// # Errors
/// When no origin could be scored: the first fit's or forecast's error, else
/// [`ForecastError::BadInput`] saying how much measured history an origin needs.
pub fn evaluate(name: &str, spec: &ModelSpec, series: &Series, s: &EvalSettings) -> Result<Scores, ForecastError> {
    evaluate_with(name, spec, &crate::BuildOptions::default(), series, s)
}

/// [`evaluate`] with the model built with `options` (a group's holidays, transform, bounds and
/// weekends, as `forecast fit` builds it).
///
/// # Errors
/// When no origin could be scored: the first fit's or forecast's error, else
/// [`ForecastError::BadInput`] saying how much measured history an origin needs.
pub fn evaluate_with(
    name: &str,
    spec: &ModelSpec,
    options: &crate::BuildOptions,
    series: &Series,
    s: &EvalSettings,
) -> Result<Scores, ForecastError> {
    evaluate_observed(name, spec, options, series, s, &|_| {})
}

/// [`evaluate_with`], calling `each_origin` as each of the `s.origins` origins is done, scored or
/// skipped (from the most recent back): progress for a backtest that takes minutes.
///
/// # Errors
/// As [`evaluate_with`].
pub fn evaluate_observed(
    name: &str,
    spec: &ModelSpec,
    options: &crate::BuildOptions,
    series: &Series,
    s: &EvalSettings,
    each_origin: &dyn Fn(DateTime<Utc>),
) -> Result<Scores, ForecastError> {
    scored(name, spec.build_with(options).as_ref(), series, s, each_origin)
}

/// [`evaluate`] for any forecaster.
///
/// # Errors
/// When no origin could be scored: the first fit's or forecast's error, else
/// [`ForecastError::BadInput`] saying how much measured history an origin needs.
pub fn evaluate_forecaster(
    name: &str,
    forecaster: &dyn Forecaster,
    series: &Series,
    s: &EvalSettings,
) -> Result<Scores, ForecastError> {
    scored(name, forecaster, series, s, &|_| {})
}

/// Calls its origin's observer when dropped: at the end of an origin's turn, however it ends.
struct OriginDone<'a>(&'a dyn Fn(DateTime<Utc>), DateTime<Utc>);

impl Drop for OriginDone<'_> {
    fn drop(&mut self) {
        (self.0)(self.1);
    }
}

fn scored(
    name: &str,
    forecaster: &dyn Forecaster,
    series: &Series,
    s: &EvalSettings,
    each_origin: &dyn Fn(DateTime<Utc>),
) -> Result<Scores, ForecastError> {
    let cal = Calendar::new(series.steps_per_day().max(1));
    let step = series.step_secs();
    let h = (s.horizon.num_seconds() / step).max(1) as usize;
    // A whole number of steps, so that every origin falls on a slot (90 min of hourly data is one
    // step; an origin at half past would train on a slot not yet whole).
    let s = &EvalSettings { horizon: Duration::seconds(h as i64 * step), ..s.clone() };
    let mut acc = Acc::default();
    let mut fitted = Vec::new();
    let mut runs = Vec::new();
    let mut warnings = None;
    // The first fit or forecast error, which says why where no origin could be scored.
    let mut failed: Option<ForecastError> = None;
    for origin in origins(series.end(), s) {
        let _done = OriginDone(each_origin, origin);
        let train = series.window(origin - s.train, origin);
        let actual = series.window(origin, origin + s.horizon);
        // Two days of measured history before it, a measured value in its last day (an origin in
        // a longer gap would be forecast from filled-in values, as no forecast made then was),
        // and a measured value after it to score.
        let measured = |w: &Series| w.values().iter().filter(|v| v.is_finite()).count();
        let last_day = train.values().len().saturating_sub(cal.steps_per_day);
        if measured(&train) < 2 * cal.steps_per_day
            || !train.values()[last_day..].iter().any(|v| v.is_finite())
            || measured(&actual) == 0
        {
            continue;
        }
        let fitted_at = forecaster.fit(&train).and_then(|m| Ok((m.predict(h.min(actual.len()), &s.levels)?, m)));
        let (f, model) = match fitted_at {
            Ok(fit) => fit,
            Err(e) => {
                failed.get_or_insert(e);
                continue;
            }
        };
        // A training window that never changed has no scale: its origin gets no MASE (nor a
        // scaled pinball loss) rather than one of 10¹² (shown as "-" when no origin has one).
        let scale = mase_scale(train.values(), cal);
        // The origins run from the most recent back: the first scored is the latest.
        warnings.get_or_insert_with(|| model.warnings());
        fitted.push(model.model_id());
        acc.add(&f, actual.values(), scale, &s.levels);
        runs.push(OriginRun { origin, actual: actual.values()[..f.len()].to_vec(), forecast: f, scale });
    }
    if fitted.is_empty() {
        // A model that failed where the history sufficed says why; else the history is too short
        // for any origin, counted in measured points (a gap in the only origin's two days
        // leaves it unscored, however long the file is).
        if let Some(e) = failed {
            return Err(e);
        }
        let measured = series.values().iter().filter(|v| v.is_finite()).count();
        let needed = 2 * cal.steps_per_day + h;
        return Err(ForecastError::BadInput(format!(
            "too short to backtest: {measured} measured point{} of {} slots; an origin needs two whole days measured \
             before it and its {}-step horizon after it ({needed} slots), and none has{}\nhint: give more history \
             (two weeks or more is best: ingest more for a group, a longer file for --input), or a shorter --horizon",
            if measured == 1 { "" } else { "s" },
            series.len(),
            h,
            if measured < series.len() { " (a missing slot in an origin's two days counts against it)" } else { "" }
        )));
    }
    let mut scores = acc.finish(name, fitted, &s.levels, runs);
    scores.warnings = warnings.unwrap_or_default();
    Ok(scores)
}

#[derive(Debug, Default)]
struct Acc {
    smape: Vec<f64>,
    abs_err: f64,
    abs_act: f64,
    inside: Vec<usize>,
    width: Vec<f64>,
    n: usize,
    pinball: Vec<f64>,
}

fn pinball(q: f64, y: f64, f: f64) -> f64 {
    if y >= f { q * (y - f) } else { (1.0 - q) * (f - y) }
}

impl Acc {
    fn add(&mut self, f: &prescale_core::Forecast, actual: &[f64], scale: f64, levels: &[Level]) {
        if self.inside.is_empty() {
            self.inside = vec![0; levels.len()];
            self.width = vec![0.0; levels.len()];
        }
        let (mut sm, mut pb, mut k) = (0.0, 0.0, 0usize);
        for (i, &y) in actual.iter().enumerate().take(f.len()) {
            if !y.is_finite() {
                continue;
            }
            let p = f.point[i];
            let d = y.abs() + p.abs();
            sm += if d > 0.0 { 200.0 * (y - p).abs() / d } else { 0.0 };
            self.abs_err += (y - p).abs();
            self.abs_act += y.abs();
            let mut losses = vec![pinball(0.5, y, p)];
            for (j, l) in levels.iter().enumerate() {
                let (ql, qu) = l.quantiles();
                let (lo, hi) = (f.quantile(ql)[i], f.quantile(qu)[i]);
                if y >= lo && y <= hi {
                    self.inside[j] += 1;
                }
                self.width[j] += hi - lo;
                losses.push(pinball(ql, y, lo));
                losses.push(pinball(qu, y, hi));
            }
            pb += losses.iter().sum::<f64>() / losses.len() as f64;
            k += 1;
        }
        if k > 0 {
            if scale > 0.0 && scale.is_finite() {
                self.pinball.push(pb / k as f64 / scale);
            }
            self.smape.push(sm / k as f64);
            self.n += k;
        }
    }

    /// The scores, with `runs`' own MASEs (each origin's, in the order scored, averaged) and the runs.
    fn finish(self, name: &str, fitted: Vec<String>, levels: &[Level], runs: Vec<OriginRun>) -> Scores {
        let mean = |v: &[f64]| if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
        let n = self.n.max(1) as f64;
        let mean_act = self.abs_act / n;
        let mut per_origin: Vec<OriginMase> = runs
            .iter()
            .zip(&fitted)
            .map(|(r, m)| OriginMase { origin: r.origin, mase: r.mase(), fitted: m.clone() })
            .collect();
        let mase = mean(&per_origin.iter().filter_map(|o| o.mase).collect::<Vec<f64>>());
        per_origin.sort_by_key(|o| o.origin);
        Scores {
            model: name.to_string(),
            origins: fitted.len(),
            fitted,
            mase,
            smape: mean(&self.smape),
            wape: if self.abs_act > 0.0 { self.abs_err / self.abs_act } else { f64::NAN },
            coverage: levels.iter().zip(&self.inside).map(|(l, c)| (l.value(), *c as f64 / n)).collect(),
            width: levels
                .iter()
                .zip(&self.width)
                .map(|(l, w)| (l.value(), if mean_act > 0.0 { w / n / mean_act } else { f64::NAN }))
                .collect(),
            pinball: mean(&self.pinball),
            per_origin,
            runs,
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_perfect_cycle_scores_near_zero_and_origins_do_not_overlap() {
        let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let v: Vec<f64> =
            (0..24 * 21).map(|t| 100.0 + 40.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin()).collect();
        let series = Series::new(start, 3600, v).unwrap();
        let s = EvalSettings::default();
        let o = origins(series.end(), &s);
        assert_eq!(o[0] - o[1], s.horizon);
        let sn =
            evaluate("seasonal-naive", &ModelSpec::SeasonalNaive { season: crate::Season::Day }, &series, &s).unwrap();
        assert_eq!(sn.origins, 3);
        assert!(sn.mase < 1e-9 && sn.wape < 1e-9, "{sn:?}");
        let med = evaluate("median", &ModelSpec::Median { window_days: 1.0 }, &series, &s).unwrap();
        assert!(med.mase > 0.3, "a flat forecast of a cycle has errors: {med:?}");
        // The per-origin scores are what the mean is of, oldest first.
        let each: Vec<f64> = med.per_origin.iter().filter_map(|o| o.mase).collect();
        assert_eq!(each.len(), med.origins);
        assert!((each.iter().sum::<f64>() / each.len() as f64 - med.mase).abs() < 1e-12);
        assert!(med.per_origin.windows(2).all(|w| w[0].origin < w[1].origin));
        assert!(med.coverage.iter().all(|(_, c)| (0.0..=1.0).contains(c)));
    }

    #[test]
    fn a_constant_training_window_has_no_mase_rather_than_a_huge_one() {
        // Idle (constant) for two weeks, then a step: no origin's training window ever changed.
        let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let v: Vec<f64> = (0..24 * 21).map(|t| if t < 24 * 19 { 5.0 } else { 9.0 }).collect();
        let s = EvalSettings::default();
        let sc = evaluate("median", &ModelSpec::Median { window_days: 1.0 }, &Series::new(start, 3600, v).unwrap(), &s)
            .unwrap();
        assert!(sc.mase.is_nan() && sc.pinball.is_nan(), "{sc:?}");
        assert!(sc.smape > 0.0 && sc.wape > 0.0, "the unscaled scores still say it missed: {sc:?}");
    }

    #[test]
    fn a_horizon_between_steps_is_backtested_at_whole_steps() {
        // 90 minutes of hourly data: one step, and every origin on the hour.
        let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let series = Series::new(start, 3600, (0..24 * 5).map(|t| 100.0 + (t % 24) as f64).collect()).unwrap();
        let s = EvalSettings { horizon: Duration::minutes(90), ..EvalSettings::default() };
        let sc = evaluate("median", &ModelSpec::Median { window_days: 1.0 }, &series, &s).unwrap();
        assert_eq!(sc.runs.len(), 3);
        for r in &sc.runs {
            assert_eq!((r.origin - start).num_seconds() % 3600, 0, "{}", r.origin);
            assert_eq!(r.forecast.len(), 1);
        }
    }

    #[test]
    fn an_origin_in_a_long_gap_or_before_one_is_not_scored() {
        // Three weeks of a daily cycle with days 13 to 16 missing: the origin at day 17 (48 h
        // before the last origin, day 19) follows the gap with nothing measured in its last day,
        // and the one at day 15 has nothing after it to score; only day 19's is scored.
        let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let v: Vec<f64> = (0..24 * 21)
            .map(|t| if (24 * 13..24 * 17).contains(&t) { f64::NAN } else { 100.0 + (t % 24) as f64 })
            .collect();
        let series = Series::new(start, 3600, v).unwrap();
        let sn = evaluate(
            "seasonal-naive",
            &ModelSpec::SeasonalNaive { season: crate::Season::Day },
            &series,
            &EvalSettings::default(),
        )
        .unwrap();
        assert_eq!(sn.runs.iter().map(|r| r.origin).collect::<Vec<_>>(), [start + Duration::days(19)], "{sn:?}");
    }
}
