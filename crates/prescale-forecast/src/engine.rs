//! The forecasting engine: point models, combined by their rolling-origin backtests on the
//! series' own history, with intervals calibrated on the combination's own backtest errors.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use prescale_core::{Forecast, Interval, Level, Series};

use crate::backtest::{self, Origins, mase_scale};
use crate::conformal::{self, OriginErrors};
use crate::point::{Calendar, Clock, PointModel};
use crate::{FittedModel, ForecastError, Forecaster, prepare_history};

/// How the engine backtests and combines.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    /// Horizon the backtests score, in hours.
    pub horizon_hours: f64,
    /// Hours between backtest origins.
    pub spacing_hours: f64,
    /// At most this many origins (all of them weigh the candidates and calibrate the intervals).
    pub origins: usize,
    /// The most recent this-many origins weigh the candidates.
    pub evidence_origins: usize,
    /// In the intervals, origin `i` (0 the most recent) weighs `interval_decay^i`.
    pub interval_decay: f64,
    /// Above 80 %, intervals are at least the 80 % one extrapolated with the errors' own tail
    /// shape, and add the level shifts of the training window ([`conformal`] has the reasons).
    pub tail: bool,
    /// An origin needs this many days of history before it (one day when the history is short).
    pub min_origin_days: f64,
    /// A fit sees at most this many days of history.
    pub train_days: f64,
    /// How fast backtest evidence overrides the prior (weight ∝ prior · exp(−eta · S)).
    pub eta: f64,
    /// Evidence counts in full once its mean over the origins is this many standard errors from
    /// zero, and in proportion below (see [`significant_evidence`]); 0 counts it always in full.
    pub evidence_significance: f64,
    /// Intervals pool the backtest errors of the steps within ± this share of the horizon.
    pub pool_share: f64,
    /// For non-negative series, errors are measured relative to `|forecast| + relative × the
    /// typical level`, so intervals scale with the load; `None` measures them absolutely.
    pub relative: Option<f64>,
    /// With evidence from at least this many origins, where no candidate other than the robust
    /// ones ([`PointModel::robust_level`]) beat the reference over them (`S < 0`), only the
    /// robust candidates are weighed; 0 turns this off. See [`Engine`].
    pub robust_gate_origins: usize,
    /// Where the whole last day of the history lies at a level the earlier days never reached (a
    /// lasting level shift, [`Engine`]), only the robust candidates are weighed: the backtests
    /// saw the old level, and the models that carry its cycle and smoothed level carry it on.
    pub level_shift_gate: bool,
    /// Where the history's daily cycle is more noise than signal (its profile keeps under half
    /// of itself), a candidate other than the robust ones beats the reference, for the gate of
    /// [`EngineSettings::robust_gate_origins`], only by a mean log ratio `evidence_significance`
    /// standard errors below zero.
    pub weak_cycle_gate: bool,
    /// Look for a dominant period other than the day ([`crate::seasons::detect_period`]) once
    /// per fit, and add the profile and MSTL at that period to the candidates when found.
    pub detect_period: bool,
    /// Threads the candidates' backtests run on (default 1); the fit is the same whatever the number.
    pub threads: std::num::NonZeroUsize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            horizon_hours: 48.0,
            spacing_hours: 24.0,
            origins: 10,
            evidence_origins: 10,
            interval_decay: 0.8,
            tail: true,
            min_origin_days: 3.0,
            train_days: 28.0,
            eta: 1.0,
            evidence_significance: 2.0,
            pool_share: 0.25,
            relative: Some(0.5),
            robust_gate_origins: 3,
            level_shift_gate: true,
            weak_cycle_gate: true,
            detect_period: false,
            threads: std::num::NonZeroUsize::MIN,
        }
    }
}

/// How the warning for a history under two weeks ends (the weekend wrapper adds to it).
pub(crate) const DAILY_ONLY: &str = "daily seasonality only";

/// A score per candidate, as shown to users and stored with forecasts.
pub type CandidateScore = prescale_core::ModelScore;

/// A candidate model of the engine and its prior weight.
#[derive(Debug)]
pub struct Candidate {
    /// The point model.
    pub model: Box<dyn PointModel>,
    /// Prior weight: the share it gets when the backtests cannot tell the candidates apart.
    pub prior: f64,
}

/// The engine as a [`Forecaster`]: every candidate is backtested at rolling origins on the
/// series' own history and compared, origin by origin, with the reference candidate; weights are
/// `prior · exp(−eta · S)` with `S` the sum over origins of log(MAE / reference MAE), scaled down
/// where the origins disagree ([`significant_evidence`]): evidence grows with the number of
/// origins and with their agreement, and a short, noisy history leaves the prior in charge.
///
/// The priors favour the models that carry a cycle and follow the level; they must still show it.
/// Where, over at least [`EngineSettings::robust_gate_origins`] origins, none of them did better
/// than the reference (a recent median), the series has no cycle or level dynamics these models
/// can use, only noise, bursts and shifts they chase: then only the robust candidates (medians,
/// profiles on a median level) are weighed. So they are where the whole last day lies at a level
/// the earlier days never reached ([`EngineSettings::level_shift_gate`]): after a lasting shift the
/// backtests speak of the old level, and the smoothed levels and cycles fitted to it carry it on.
#[derive(Debug)]
pub struct Engine {
    /// Name shown for the engine, e.g. `auto`.
    pub name: String,
    /// The candidates.
    pub candidates: Arc<Vec<Candidate>>,
    /// Index of the reference candidate (always backtestable: e.g. the recent median).
    pub reference: usize,
    /// Backtest settings.
    pub settings: EngineSettings,
}

/// An interval reaches at most this many times the history's span from the point. One span
/// cost the shared NAB series' hourly 95 % intervals 0.923 → 0.909 of their actuals (test
/// windows that shift further than the history did); one and a half leaves every coverage as
/// it was and still bounds the intervals after a shift (a CPU series at 99 % whose 95 %
/// interval reached 1,021 reaches 245, `--max 100` clipping the rest).
pub(crate) const SPAN_REACH: f64 = 1.5;

#[derive(Debug)]
struct FittedEngine {
    id: String,
    values: Vec<f64>,
    cal: Calendar,
    start: DateTime<Utc>,
    step_secs: i64,
    non_negative: bool,
    warnings: Vec<String>,
    members: Vec<(usize, f64)>,
    /// Members whose shape over the day is scaled by this share about their median (after a
    /// lasting level shift, as far as the day since it shows that shape).
    shapes: Vec<(usize, f64)>,
    candidates: Arc<Vec<Candidate>>,
    /// Candidates added for this series (a detected period), indexed after `candidates`.
    extra: Arc<Vec<Candidate>>,
    errors: Vec<OriginErrors>,
    floor: f64,
    /// With no backtest origin at all, the history's own spread and its degrees of freedom: each
    /// interval is at least Student's t one of that spread, since there are no errors to say how
    /// far the future may stray (see `history_spread`).
    spread: Option<(f64, f64)>,
    /// Errors are relative to `|forecast| + this` (None: absolute errors).
    relative: Option<f64>,
    /// How far an interval may reach from the point on either side: [`SPAN_REACH`] times the
    /// history's span (its largest value less its smallest). Relative errors learnt at a low
    /// level would otherwise be scaled up by a forecast at a high one, after a shift, far past
    /// anything the series ever did.
    reach_cap: f64,
    pooling: conformal::Pooling,
    /// How far the level moved in the training window, in the units of `errors`.
    shifts: conformal::LevelShifts,
    scores: Vec<CandidateScore>,
    /// The blend's own backtest score ([`Forecast::blend_mase`]) at each origin it was scored at.
    blend: Vec<f64>,
}

/// ln(MAE of last week's values / MAE of the day before's) over the last week of history; 0 with
/// less than two weeks.
fn weekly_evidence(y: &[f64], cal: Calendar) -> f64 {
    let (n, d) = (y.len(), cal.steps_per_day);
    if n < 14 * d || d == 0 {
        return 0.0;
    }
    let week: Vec<f64> = (n - 7 * d..n).map(|t| y[t] - y[t - 7 * d]).collect();
    let day: Vec<f64> = (n - 7 * d..n).map(|t| y[t] - y[t - d]).collect();
    let (w, dd) = (mae(&week), mae(&day));
    if w > 0.0 && dd > 0.0 { (w / dd).ln() } else { 0.0 }
}

/// A candidate's evidence `S` from its per-origin log ratios `r` (log of its MAE over the
/// reference's): their sum, scaled down by how consistently the origins agree. With `t` the mean's
/// distance from zero in standard errors, the sum counts in full from `|t| = significance` and by
/// `|t| / significance` below it, so a lead won at one origin and lost at the next (the usual case
/// on bursty series, where one incident decides an origin) leaves the prior more of a say than a
/// lead that holds at every origin. One origin gives no spread to judge by and counts in full.
pub fn significant_evidence(r: &[f64], significance: f64) -> f64 {
    let sum = r.iter().sum::<f64>();
    if r.len() < 2 || significance <= 0.0 {
        return sum;
    }
    // No spread: a mean off zero is infinitely many standard errors from it, and counts in full.
    sum * (mean_in_standard_errors(r).abs() / significance).min(1.0)
}

/// The share `λ` in [0, 1] (steps of 0.05) of a forecast's shape, its deviations from its median,
/// that fits the actual day's deviations from its median with the smallest absolute error.
fn shape_share(actual: &[f64], forecast: &[f64]) -> f64 {
    let k = actual.len().min(forecast.len());
    if k < 2 {
        return 1.0;
    }
    let (a, f) = (&actual[..k], &forecast[..k]);
    let (ma, mf) = (crate::point::median(a), crate::point::median(f));
    let loss = |l: f64| a.iter().zip(f).map(|(x, p)| (x - ma - l * (p - mf)).abs()).sum::<f64>();
    (0..=20)
        .map(|j| f64::from(j) / 20.0)
        .map(|l| (l, loss(l)))
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .map_or(1.0, |(l, _)| l)
}

/// The mean of `r` over its standard error (infinite for a mean off zero with no spread, 0 for
/// fewer than two values or none at all).
fn mean_in_standard_errors(r: &[f64]) -> f64 {
    let k = r.len();
    if k < 2 {
        return 0.0;
    }
    let mean = r.iter().sum::<f64>() / k as f64;
    let se = (r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1) as f64 / k as f64).sqrt();
    if se > 0.0 {
        mean / se
    } else if mean == 0.0 {
        0.0
    } else {
        mean.signum() * f64::INFINITY
    }
}

fn mae(e: &[f64]) -> f64 {
    if e.is_empty() { f64::NAN } else { e.iter().map(|v| v.abs()).sum::<f64>() / e.len() as f64 }
}

/// Whole days since a level shift that [`level_shift`] looks back for: under a week, after which
/// the 7-day profiles are mostly at the new level themselves.
const LASTING_SHIFT_DAYS: usize = 6;

/// A lasting level shift at the end of the history, `k` whole days ago (1 to
/// [`LASTING_SHIFT_DAYS`], the fewest that fits): the median of the last day, and those of both
/// its halves, and the medians of the other days since the shift, lie outside the range of the
/// days before the day before them (that one may hold the shift itself): their daily medians and
/// the 10th to 90th percentile of their values, on the same side, by more than three times the
/// typical change between those daily medians: the days since are at a level the earlier days
/// never reached. Returns the days since (`k`, or `k + 1` where the day left out lies beyond the
/// range as well) and that distance of the last day in those changes. Over more than
/// one day, only with a whole week before to judge by (a weekday's level after a first weekend,
/// or a week's busy days, are not a shift), and a steady trend never fits (the first day since
/// lies two of its daily steps past the range, not three). Not judged on a last day that lies
/// mostly on a weekend (Saturday and Sunday, UTC): a first weekend looks like a shift.
fn level_shift(y: &[f64], cal: Calendar) -> Option<(usize, f64)> {
    let m = cal.steps_per_day;
    let n = y.len();
    if m < 2 || n < 4 * m {
        return None;
    }
    if let Some(c) = cal.clock {
        let weekend = (n - m..n).filter(|i| crate::holiday::is_weekend(c.start_secs + *i as i64 * c.step_secs)).count();
        if weekend * 2 >= m {
            return None;
        }
    }
    let median = crate::point::upper_median;
    let days: Vec<f64> = (0..n / m).map(|d| median(&y[n - (d + 1) * m..n - d * m])).collect();
    (1..=LASTING_SHIFT_DAYS).find_map(|k| {
        // The k days since, the day that may hold the shift, and at least two days before (a
        // week over more than one day since).
        if days.len() < k + 1 + if k == 1 { 2 } else { 7 } {
            return None;
        }
        let before = &days[k + 1..];
        let changes: Vec<f64> = before.windows(2).map(|w| (w[0] - w[1]).abs()).collect();
        let typical = median(&changes);
        // The range of those days' medians and of the bulk of their values (10th to 90th
        // percentile): a rise within a daily cycle's usual span (a busy Monday after a weekend)
        // is not a new level.
        let mut earlier: Vec<f64> = y[..n - (k + 1) * m].to_vec();
        earlier.sort_by(f64::total_cmp);
        let q = |p: f64| earlier[((earlier.len() - 1) as f64 * p).round() as usize];
        let (lo, hi) = before.iter().fold((q(0.1), q(0.9)), |(a, b), x| (a.min(*x), b.max(*x)));
        let outside = |x: f64| {
            if x > hi {
                x - hi
            } else if x < lo {
                x - lo
            } else {
                0.0
            }
        };
        // The whole last day (its median and that of each half) and each other day since,
        // beyond the range on the same side.
        let mut parts = vec![outside(days[0]), outside(median(&y[n - m..n - m / 2])), outside(median(&y[n - m / 2..]))];
        parts.extend(days[1..k].iter().map(|d| outside(*d)));
        let day = parts[0];
        let beyond = |p: f64| p.signum() == day.signum() && p.abs() > 3.0 * typical;
        // The day left out may lie at the new level as a whole too: then it is one of the days
        // since.
        let since = if beyond(outside(days[k])) { k + 1 } else { k };
        (day != 0.0 && parts.iter().all(|p| beyond(*p)))
            .then(|| (since, if typical > 0.0 { day.abs() / typical } else { f64::INFINITY }))
    })
}

/// A shift within the last day: the median of its last half lies beyond the range of the days
/// before it, their daily medians and the 10th to 90th percentile of their values (the range of
/// [`level_shift`], with no margin: this only keeps the usual weighing). The last day's median
/// straddles such a shift, and a smoothed level has followed it.
fn shift_within_last_day(y: &[f64], cal: Calendar) -> bool {
    let m = cal.steps_per_day;
    let n = y.len();
    if m < 2 || n < 2 * m {
        return false;
    }
    let median = crate::point::upper_median;
    let earlier = &y[..n - m];
    let days: Vec<f64> =
        (0..earlier.len() / m).map(|d| median(&earlier[earlier.len() - (d + 1) * m..earlier.len() - d * m])).collect();
    let mut sorted = earlier.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    let (lo, hi) = days.iter().fold((q(0.1), q(0.9)), |(a, b), x| (a.min(*x), b.max(*x)));
    let last = median(&y[n - m / 2..]);
    last > hi || last < lo
}

/// A span of time for people (a history's length, a clock's skew): days in tenths (rounded down:
/// 13.99 days must not read "14.0 days, less than two weeks"), under a day in hours, under an hour
/// in minutes ("0.0 days" of 45 minutes reads as none).
pub fn duration_text(secs: f64) -> String {
    let days = days_tenths(secs);
    if days >= 1.0 {
        format!("{days:.1} days")
    } else if secs >= 3600.0 {
        format!("{:.1} h", secs / 3600.0)
    } else {
        format!("{:.0} min", secs / 60.0)
    }
}

/// `secs` in days, to the tenth below.
fn days_tenths(secs: f64) -> f64 {
    (secs / 8_640.0 + 1e-9).floor() / 10.0
}

fn steps(hours: f64, step_secs: i64) -> usize {
    ((hours * 3600.0 / step_secs.max(1) as f64).round() as usize).max(1)
}

impl Forecaster for Engine {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError> {
        let prepared = prepare_history(history, 2)?;
        let mut warnings = prepared.warnings;
        let cal = Calendar::new(history.steps_per_day().max(1));
        let m = cal.steps_per_day;
        let max_train = steps(self.settings.train_days * 24.0, history.step_secs());
        let y = &prepared.values[prepared.values.len().saturating_sub(max_train)..];
        let n = y.len();
        // The prepared values end where the history does.
        let step = history.step_secs();
        let cal = Calendar {
            clock: Some(Clock { start_secs: history.end().timestamp() - n as i64 * step, step_secs: step }),
            ..cal
        };
        let o = Origins {
            horizon: steps(self.settings.horizon_hours, step),
            spacing: steps(self.settings.spacing_hours, step),
            count: self.settings.origins,
            max_train,
        };
        let min_days = if (n as f64) < (self.settings.min_origin_days + 1.0) * m as f64 {
            1.0
        } else {
            self.settings.min_origin_days
        };
        let min_origin = (min_days * m as f64).round() as usize;
        // Days the history covers (not `n / m`: a step that does not divide a day has `m` = 1).
        let secs = n as f64 * step as f64;
        let days_held = days_tenths(secs);
        let held = duration_text(secs);
        if history.steps_per_day() == 0 {
            warnings.push(format!(
                "the step of {step} s does not divide a day: the models see no daily or weekly season (resample to \
                 1, 5, 10, 15, 30 or 60 minutes for them)"
            ));
        }
        let period = if self.settings.detect_period { crate::seasons::detect_period(y, cal) } else { None };
        let extra = Arc::new(period.map(|p| crate::seasons::period_candidates(p, cal)).unwrap_or_default());
        let cands: &Vec<&Candidate> = &self.candidates.iter().chain(extra.iter()).collect();
        let mut usable: Vec<usize> = (0..cands.len()).filter(|&i| cands[i].model.min_history(cal) <= n).collect();
        // Two days and two weeks of time, not of steps: a step that does not divide a day has
        // `m` = 1, and three points 9 h apart are not three days.
        let short = secs < 2.0 * 86_400.0 - 1e-6;
        if short && history.steps_per_day() == 0 {
            // The seasonal candidates' one-step "day" makes them last-value models: the baseline alone.
            usable.retain(|&i| i == self.reference);
        }
        if short && cands.len() > 1 {
            warnings.push(format!(
                "history holds {held}, less than two days: no seasonal model can be checked, using {}",
                usable.iter().map(|&i| cands[i].model.name()).collect::<Vec<_>>().join(" and ")
            ));
        } else if secs < 14.0 * 86_400.0 - 1e-6 && history.steps_per_day() > 0 && cands.len() > 1 {
            warnings.push(format!("history holds {:.1} days, less than two weeks: the weekly models run in their daily form, {DAILY_ONLY}", days_held));
        }
        if usable.is_empty() {
            return Err(ForecastError::TooShort {
                needed: cands.iter().map(|c| c.model.min_history(cal)).min().unwrap_or(1),
                got: n,
            });
        }
        let mut runs: Vec<backtest::Backtest> = Vec::with_capacity(usable.len());
        prescale_core::par::in_order(
            &usable,
            self.settings.threads,
            |_, &i| backtest::run_at(cands[i].model.as_ref(), y, cal, &o, min_origin),
            |_, bt| runs.push(bt),
        );
        let reference = usable.iter().position(|&i| i == self.reference).unwrap_or(0);
        // Evidence, per candidate and origin (the most recent ones): log(MAE / reference MAE) at
        // the same origin.
        let oldest_evidence =
            runs[reference].origins.iter().take(self.settings.evidence_origins.max(1)).min().copied().unwrap_or(0);
        // A weekly model fitted to two weeks or more cannot be backtested as such at origins with
        // less: there it was scored in its daily form. The week's own evidence then comes from the
        // last week of history: how much better last week predicted it than the day before did
        // (ln r < 0 when the week repeats, > 0 when it does not), added at each origin scored daily.
        let week_log_ratio = weekly_evidence(y, cal);
        let reference_mae: Vec<(usize, f64)> =
            runs[reference].origins.iter().zip(&runs[reference].errors).map(|(&o, e)| (o, mae(e))).collect();
        let log_ratios: Vec<Vec<f64>> = usable
            .iter()
            .zip(&runs)
            .map(|(&i, bt)| {
                let model = cands[i].model.as_ref();
                let weekly_now = model.weekly_at(n, cal);
                bt.origins
                    .iter()
                    .zip(&bt.errors)
                    .filter(|(origin, _)| **origin >= oldest_evidence)
                    .filter_map(|(&origin, e)| {
                        let &(_, base) = reference_mae.iter().find(|(o, _)| *o == origin)?;
                        let own = mae(e);
                        let week = if weekly_now && !model.weekly_at(origin.min(max_train), cal) {
                            week_log_ratio
                        } else {
                            0.0
                        };
                        (base > 0.0 && own.is_finite()).then(|| (own.max(base * 1e-9) / base).ln() + week)
                    })
                    .collect()
            })
            .collect();
        let evidence: Vec<f64> =
            log_ratios.iter().map(|r| significant_evidence(r, self.settings.evidence_significance)).collect();
        // A candidate never scored where the reference was (too little history before every
        // origin for it) has no evidence at all: it gets no weight while the reference has some,
        // rather than a weight from its prior alone (a profile from two days of history is noise).
        let tested: Vec<bool> = runs
            .iter()
            .map(|bt| bt.origins.iter().any(|o| *o >= oldest_evidence && runs[reference].origins.contains(o)))
            .collect();
        // With no evidence for the reference either, the priors alone decide.
        let eligible: Vec<bool> = tested.iter().map(|t| *t || !tested[reference]).collect();
        let untested: Vec<String> =
            usable.iter().zip(&eligible).filter(|(_, e)| !**e).map(|(&i, _)| cands[i].model.name()).collect();
        if !untested.is_empty() {
            warnings.push(format!(
                "{} could not be backtested in {:.1} days of history: left out until they can",
                untested.join(", "),
                days_held
            ));
        }
        // Nothing but the robust candidates beat the reference, over enough origins: keep those.
        let evidence_origins = runs[reference].origins.iter().filter(|o| **o >= oldest_evidence).count();
        let gate = self.settings.robust_gate_origins;
        let robust: Vec<bool> = usable.iter().map(|&i| cands[i].model.robust_level()).collect();
        // Where the daily cycle is more noise than signal (its profile keeps under half of
        // itself), the cycle's models have no lead to give: beating the median means doing so
        // consistently, by the standard errors at which evidence counts in full. Not where the
        // last half-day left the range of the days before (a shift the day's median straddles).
        let weak_cycle = self.settings.weak_cycle_gate
            && crate::point::daily_cycle_share(y, cal).is_some_and(|share| share < 0.5)
            && !shift_within_last_day(y, cal);
        let significance = self.settings.evidence_significance;
        let beat = |r: &[f64], s: f64| -> bool {
            if weak_cycle && significance > 0.0 { mean_in_standard_errors(r) <= -significance } else { s < 0.0 }
        };
        let robust_only = gate > 0
            && evidence_origins >= gate
            && eligible.iter().zip(&robust).any(|(&e, &r)| e && r)
            && usable
                .iter()
                .zip(evidence.iter().zip(&log_ratios))
                .zip(eligible.iter().zip(&robust))
                .all(|((&i, (s, lr)), (&e, &r))| !e || cands[i].prior <= 0.0 || r || !beat(lr, *s));
        let shift = if self.settings.level_shift_gate { level_shift(y, cal) } else { None };
        if let Some((days, k)) = shift {
            let by = if k.is_finite() {
                format!("{k:.0} times their typical day-to-day change")
            } else {
                "their daily medians never changed".to_string()
            };
            let since =
                if days == 1 { "the whole last day lies".to_string() } else { format!("the last {days} days lie") };
            warnings.push(format!(
                "{since} at a level the earlier days never reached ({by}): a level shift, so only the median-level \
                 models are weighed"
            ));
        }
        let shifted = shift.is_some();
        let robust_only = robust_only || (shifted && eligible.iter().zip(&robust).any(|(&e, &r)| e && r));
        let eligible: Vec<bool> = eligible.iter().zip(&robust).map(|(&e, &r)| e && (!robust_only || r)).collect();
        let best = evidence.iter().zip(&eligible).filter(|(_, e)| **e).map(|(s, _)| *s).fold(f64::INFINITY, f64::min);
        let raw: Vec<f64> = usable
            .iter()
            .zip(&evidence)
            .zip(&eligible)
            .map(|((&i, s), &e)| if e { cands[i].prior * (-self.settings.eta * (s - best)).exp() } else { 0.0 })
            .collect();
        let total: f64 = raw.iter().sum();
        let mut weights: Vec<f64> = raw
            .iter()
            .map(|w| if total > 0.0 { w / total } else { 0.0 })
            .map(|w| if w > 1e-4 { w } else { 0.0 })
            .collect();
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            weights = vec![0.0; usable.len()];
            weights[reference] = 1.0;
        } else {
            weights.iter_mut().for_each(|w| *w /= total);
        }
        let members: Vec<(usize, f64)> =
            usable.iter().zip(&weights).filter(|(_, w)| **w > 0.0).map(|(&i, &w)| (i, w)).collect();
        // After a lasting level shift, a daily shape learnt at the old level is kept only as far
        // as the day since the shift shows it: each member's forecast of that day from the origin
        // before it, less its median, scaled to fit the day's own deviations from its median best.
        let shapes: Vec<(usize, f64)> = if shifted {
            usable
                .iter()
                .zip(&runs)
                .zip(&weights)
                .filter(|((_, _), w)| **w > 0.0)
                .filter_map(|((&i, bt), _)| {
                    let p = bt.origins.iter().position(|&o| o + m == n)?;
                    let share = shape_share(&y[n - m..], &bt.forecasts[p]);
                    (share < 1.0).then_some((i, share))
                })
                .collect()
        } else {
            Vec::new()
        };
        // Errors of the combination at each origin: the members that forecast there, reweighted.
        // For a non-negative series they are relative to the forecast's size (plus a share of the
        // typical level), so intervals are narrow in the night and wide at the peak.
        let typical = y.iter().map(|v| v.abs()).sum::<f64>() / n.max(1) as f64;
        let relative = self.settings.relative.filter(|_| prepared.non_negative && typical > 0.0);
        let scale_of = move |p: f64| relative.map_or(1.0, |k| p.abs() + k * typical);
        let mut errors = Vec::new();
        // The blend's own score at each origin where all its members forecast, as the candidates'.
        let mut blend = Vec::new();
        for &origin in &runs[reference].origins {
            let h = o.horizon.min(n - origin);
            let mut comb = vec![0.0; h];
            let mut wsum = 0.0;
            for (j, &w) in weights.iter().enumerate() {
                if w <= 0.0 {
                    continue;
                }
                if let Some(p) = runs[j].origins.iter().position(|&x| x == origin) {
                    for (c, v) in comb.iter_mut().zip(&runs[j].forecasts[p]) {
                        *c += w * v;
                    }
                    wsum += w;
                }
            }
            if members.len() > 1 && (wsum - 1.0).abs() < 1e-9 {
                let e: Vec<f64> = y[origin..origin + h].iter().zip(&comb).map(|(a, p)| a - p).collect();
                let v = mae(&e) / mase_scale(&y[..origin], cal).max(1e-12);
                if v.is_finite() {
                    blend.push(v);
                }
            }
            if wsum > 0.0 {
                errors.push(
                    y[origin..origin + h].iter().zip(&comb).map(|(a, p)| (a - p / wsum) / scale_of(p / wsum)).collect(),
                );
            }
        }
        if errors.len() < 2 {
            warnings.push(format!(
                "{} in {held} of history: intervals are a rough guess",
                match errors.len() {
                    0 => "no backtest origin fits".to_string(),
                    1 => "only 1 backtest origin fits".to_string(),
                    k => format!("only {k} backtest origins fit"),
                },
            ));
        }
        // Each candidate as this fit runs it (a weekly model in its daily form on under two weeks).
        let ran_as = |i: usize| cands[i].model.name_at(n, cal);
        let id = if members.len() == 1 {
            ran_as(members[0].0)
        } else {
            // The members that carry the forecast by name, the rest summed up.
            let mut sorted = members.clone();
            sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
            let mut parts: Vec<String> = sorted
                .iter()
                .filter(|(_, w)| *w >= 0.05)
                .map(|(i, w)| format!("{} {:.0}%", ran_as(*i), w * 100.0))
                .collect();
            let rest: f64 = sorted.iter().filter(|(_, w)| *w < 0.05).map(|(_, w)| w).sum();
            if rest > 0.0 {
                parts.push(format!("{} others {:.0}%", sorted.iter().filter(|(_, w)| *w < 0.05).count(), rest * 100.0));
            }
            let name = match period {
                Some(p) => format!("{}({})", self.name, crate::seasons::period_label(p, 86_400 / m)),
                None => self.name.clone(),
            };
            format!("{name}[{}]", parts.join(" + "))
        };
        let scores = usable
            .iter()
            .zip(&runs)
            .zip(&weights)
            .map(|((&i, bt), &w)| {
                let per: Vec<f64> = bt
                    .origins
                    .iter()
                    .zip(&bt.errors)
                    .map(|(&origin, e)| mae(e) / mase_scale(&y[..origin], cal).max(1e-12))
                    .filter(|v| v.is_finite())
                    .collect();
                // A weekly model this fit runs weekly but whose backtests, at origins with under two
                // weeks behind them, ran it in its daily form: its score is (partly) that form's.
                let model = cands[i].model.as_ref();
                let daily = if model.weekly_at(n, cal) {
                    bt.origins.iter().filter(|&&origin| !model.weekly_at(origin.min(max_train), cal)).count()
                } else {
                    0
                };
                CandidateScore {
                    model: match daily {
                        0 => ran_as(i),
                        k if k == bt.origins.len() => format!("{} (scored as daily)", ran_as(i)),
                        k => format!("{} (scored as daily at {k} of {} origins)", ran_as(i), bt.origins.len()),
                    },
                    // The median over origins: one window that held a glitch (a value 1000 × the
                    // rest, which the forecast rightly missed) does not decide the whole score, nor
                    // the trust the plan puts in it.
                    mase: if per.is_empty() { f64::NAN } else { crate::point::median(&per) },
                    origins: bt.origins.len(),
                    weight: w,
                    reference: i == self.reference,
                }
            })
            .collect();
        let spread = errors.is_empty().then(|| history_spread(y));
        Ok(Box::new(FittedEngine {
            id,
            values: y.to_vec(),
            cal,
            start: history.end(),
            step_secs: history.step_secs(),
            non_negative: prepared.non_negative,
            warnings,
            members,
            shapes,
            candidates: Arc::clone(&self.candidates),
            extra,
            errors,
            // Of the incident-cleaned history: one 1000× spike must not set every interval's width.
            floor: mase_scale(&crate::point::clean(y, m), cal) * 0.05,
            spread,
            relative: relative.map(|k| k * typical),
            reach_cap: {
                let finite = || y.iter().copied().filter(|v| v.is_finite());
                SPAN_REACH * (finite().fold(f64::NEG_INFINITY, f64::max) - finite().fold(f64::INFINITY, f64::min))
            },
            pooling: conformal::Pooling {
                spacing: o.spacing,
                share: self.settings.pool_share,
                decay: self.settings.interval_decay,
                tail: self.settings.tail,
                floor: 0.0,
            },
            shifts: conformal::LevelShifts::from_history(y, m, usize::MAX, scale_of),
            scores,
            blend,
        }))
    }
}

/// The spread of a history too short for a backtest, as a prediction interval of one more value
/// wants it: the robust spread (1.4826 × the median absolute deviation), or under 30 values the
/// standard deviation where larger (three values' MAD may be a tenth of their range), times
/// `√(1 + 1/n)`; and its `n − 1` degrees of freedom.
fn history_spread(y: &[f64]) -> (f64, f64) {
    let finite: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
    let n = finite.len() as f64;
    if finite.is_empty() {
        return (0.0, 1.0);
    }
    let (_, robust) = crate::point::median_and_spread(&finite);
    let mean = finite.iter().sum::<f64>() / n;
    let sd = if n > 1.0 { (finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
    let s = if n < 30.0 { robust.max(sd) } else { robust };
    (s * (1.0 + 1.0 / n).sqrt(), n - 1.0)
}

impl FittedModel for FittedEngine {
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
        let mut point = vec![0.0; horizon];
        let mut total = 0.0;
        let mut last_err = None;
        for &(i, w) in &self.members {
            let model = match self.candidates.get(i) {
                Some(c) => &c.model,
                None => &self.extra[i - self.candidates.len()].model,
            };
            let shape = self.shapes.iter().find(|(j, _)| *j == i).map(|(_, s)| *s);
            let m = self.cal.steps_per_day;
            let reach = if shape.is_some() { horizon.max(m) } else { horizon };
            match model.forecast(&self.values, self.cal, reach) {
                Ok(mut f) => {
                    if let Some(share) = shape {
                        let level = crate::point::median(&f[..m.min(f.len())]);
                        f.iter_mut().for_each(|v| *v = level + share * (*v - level));
                    }
                    for (p, v) in point.iter_mut().zip(&f) {
                        *p += w * v;
                    }
                    total += w;
                }
                Err(e) => last_err = Some(e),
            }
        }
        if total <= 0.0 {
            return Err(last_err.unwrap_or(ForecastError::Model("no model could forecast".into())));
        }
        for p in &mut point {
            *p /= total;
            if self.non_negative {
                *p = p.max(0.0);
            }
        }
        let offsets = conformal::pooled_symmetric(&self.errors, horizon, levels, self.pooling, &self.shifts);
        let scale = |p: f64| self.relative.map_or(1.0, |c| p.abs() + c);
        let intervals = offsets
            .into_iter()
            .map(|(level, lo, hi)| {
                let clip = |v: f64| if self.non_negative { v.max(0.0) } else { v };
                let least = self
                    .spread
                    .map_or(self.floor, |(s, df)| self.floor.max(conformal::student_t(level.value(), df) * s));
                // How far below (`lo` ≤ 0) and above (`hi` ≥ 0) the point, in the errors' units.
                let reach = |p: f64, d: f64| (d.abs() * scale(p)).min(self.reach_cap.max(least)).max(least);
                Interval {
                    level,
                    lower: point.iter().zip(&lo).map(|(p, d)| clip(p - reach(*p, d.min(0.0)))).collect(),
                    upper: point.iter().zip(&hi).map(|(p, d)| clip(p + reach(*p, d.max(0.0)))).collect(),
                }
            })
            .collect();
        let mut f = Forecast::new(self.id.clone(), self.start, self.step_secs, point, intervals)?;
        f.scores = self.scores.clone();
        f.blend_mase = (!self.blend.is_empty()).then(|| crate::point::median(&self.blend));
        f.blend_origins = (!self.blend.is_empty()).then_some(self.blend.len());
        Ok(f)
    }

    fn scores(&self) -> Vec<CandidateScore> {
        self.scores.clone()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use prescale_core::{Level, Series};
    use proptest::prelude::*;

    use crate::ModelSpec;

    fn hourly(values: Vec<f64>) -> Series {
        Series::new(Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap(), 3600, values).unwrap()
    }

    fn levels() -> Vec<Level> {
        [0.5, 0.8, 0.95].iter().map(|l| Level::new(*l).unwrap()).collect()
    }

    #[test]
    fn three_values_give_an_interval_as_wide_as_three_values_say() {
        // Their median absolute deviation is 0.21 where they span 2.5: a normal interval of it
        // held ±0.6 (a review's three rows); a t interval of their deviation, 48 steps ahead, more.
        let fitted = ModelSpec::Auto.build().fit(&hourly(vec![55.363, 57.669, 55.152])).unwrap();
        assert!(fitted.warnings().iter().any(|w| w.contains("rough guess")), "{:?}", fitted.warnings());
        let f = fitted.predict(48, &levels()).unwrap();
        let (lo, hi) = (f.intervals[2].lower[0], f.intervals[2].upper[0]);
        assert!(lo < 55.152 - 2.0 && hi > 57.669 + 2.0, "95 %: {lo} .. {hi}");
        assert!(f.intervals[1].upper[0] < hi && f.intervals[0].upper[0] < f.intervals[1].upper[0], "nested");
        assert_eq!(super::history_spread(&[5.0; 400]), (0.0, 399.0));
    }

    #[test]
    fn a_blend_says_its_own_score_and_a_single_model_none() {
        let s = crate::synthetic::Shape::web(7, 21, 300).series();
        let fitted = ModelSpec::Auto.build().fit(&s).unwrap();
        let members = fitted.scores().iter().filter(|c| c.weight > 0.0).count();
        let f = fitted.predict(12, &levels()).unwrap();
        assert!(members > 1, "the web series is blended: {}", f.model);
        let blend = f.blend_mase.expect("a blend's own score");
        let origins = f.blend_origins.expect("the origins of the blend's score");
        let most = fitted.scores().iter().map(|c| c.origins).max().unwrap_or(0);
        assert!((2..=most).contains(&origins), "{origins} of {most}");
        assert!(blend.is_finite() && blend > 0.0, "{blend}");
        // Not a member's score passed on: the combination's own errors.
        assert!(fitted.scores().iter().all(|c| c.mase != blend), "{blend} {:?}", fitted.scores());
        let single = ModelSpec::Mstl { weekly: true }.build().fit(&s).unwrap().predict(12, &levels()).unwrap();
        assert_eq!((single.blend_mase, single.blend_origins), (None, None));
    }

    #[test]
    fn three_points_nine_hours_apart_are_under_two_days_and_get_the_baseline() {
        // A step that does not divide a day counts one step per "day": three of them read as
        // three days, and seven candidates were blended (a review's 8 h 55 min grid).
        let s = Series::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), 32_100, vec![5.0, 6.0, 7.0]).unwrap();
        let fitted = ModelSpec::Auto.build().fit(&s).unwrap();
        let w = fitted.warnings();
        assert!(w.iter().any(|w| w.contains("less than two days") && w.ends_with("using median(1d)")), "{w:?}");
        assert!(!w.iter().any(|w| w.contains("less than two weeks")), "{w:?}");
        let f = fitted.predict(3, &levels()).unwrap();
        assert_eq!(f.model, "median(1d)");
        assert!((5.0..=7.0).contains(&f.point[0]), "{}", f.point[0]);
    }

    #[test]
    fn a_weekly_model_on_under_two_weeks_is_named_as_it_ran() {
        // Ten days of an hourly daily cycle: the weekly candidates run in their daily form, and
        // the id and the scores say so (they read as weekly models beside that warning).
        let v: Vec<f64> =
            (0..240).map(|h| 100.0 + 50.0 * (f64::from(h % 24) / 24.0 * std::f64::consts::TAU).sin()).collect();
        let fitted = ModelSpec::Auto.build().fit(&hourly(v)).unwrap();
        assert!(fitted.warnings().iter().any(|w| w.contains("weekly models run in their daily form")));
        let scores = fitted.scores();
        let weekly: Vec<&str> = scores.iter().map(|c| c.model.as_str()).filter(|m| m.contains("week")).collect();
        assert!(!weekly.is_empty() && weekly.iter().all(|m| m.ends_with(" as daily")), "{weekly:?}");
        assert!(
            !fitted.model_id().contains("week") || fitted.model_id().contains(" as daily"),
            "{}",
            fitted.model_id()
        );
    }

    fn check(f: &prescale_core::Forecast, non_negative: bool) {
        for i in 0..f.len() {
            let (mut lo, mut hi) = (f.point[i], f.point[i]);
            assert!(f.point[i].is_finite());
            for iv in &f.intervals {
                assert!(iv.lower[i].is_finite() && iv.upper[i].is_finite());
                assert!(iv.lower[i] <= lo && iv.upper[i] >= hi, "intervals nest around the point");
                if non_negative {
                    assert!(iv.lower[i] >= 0.0);
                }
                (lo, hi) = (iv.lower[i], iv.upper[i]);
            }
        }
    }

    #[test]
    fn bad_inputs_give_a_forecast_with_a_warning_or_a_clear_error() {
        let auto = ModelSpec::Auto.build();
        let run = |v: Vec<f64>| auto.fit(&hourly(v)).and_then(|m| Ok((m.predict(48, &levels())?, m.warnings())));
        // Constant and all-zero series: exactly flat forecasts and zero-width intervals, with a
        // warning, for every model (no NaN from zero scales, no rounding noise from MSTL).
        for v in [5.0, 0.0] {
            for spec in [ModelSpec::Auto, ModelSpec::Mstl { weekly: true }, ModelSpec::Ets, ModelSpec::Ridge] {
                let fitted = spec.build().fit(&hourly(vec![v; 24 * 14])).unwrap();
                let f = fitted.predict(48, &levels()).unwrap();
                check(&f, true);
                let exact = |x: &[f64]| x.iter().all(|p| *p == v);
                assert!(exact(&f.point), "{spec:?} on {v}: {:?}", f.point);
                assert!(f.intervals.iter().all(|iv| exact(&iv.lower) && exact(&iv.upper)), "{spec:?} on {v}: {f:?}");
                assert!(fitted.warnings().iter().any(|w| w.contains(&format!("every value of the history is {v}"))));
            }
        }
        // Very short: a forecast, and a warning that says why it is simple.
        let (f, w) = run(vec![3.0, 4.0, 5.0]).unwrap();
        check(&f, true);
        assert!(w.iter().any(|w| w.contains("less than two")), "{w:?}");
        // Nothing usable: an error with the numbers, not a panic.
        let e = run(vec![f64::NAN; 10]).unwrap_err();
        assert!(e.to_string().contains("history too short"), "{e}");
        // A long gap, NaN and inf: repaired and reported.
        let mut v: Vec<f64> = (0..24 * 14).map(|t| 100.0 + 50.0 * ((t % 24) as f64 / 3.8).sin()).collect();
        for x in &mut v[100..172] {
            *x = f64::NAN;
        }
        v[200] = f64::INFINITY;
        let (f, w) = run(v.clone()).unwrap();
        check(&f, true);
        assert!(w.iter().any(|w| w.contains("filled")), "{w:?}");
        // A 1000× spike does not become the forecast.
        v[300] = 100_000.0;
        let (f, _) = run(v).unwrap();
        check(&f, true);
        assert!(f.point.iter().all(|p| *p < 500.0), "the spike leaked into the forecast");
    }

    #[test]
    fn a_whole_last_day_at_a_new_level_is_a_shift_and_the_median_models_take_it() {
        // Hourly load from Monday 2026-01-05 00:00 (the test calendar): a daily cycle around 100
        // with a little noise, the last `after` hours at `level`.
        let series = |days: usize, after: usize, level: f64| -> Vec<f64> {
            (0..days * 24)
                .map(|h| {
                    let base = if h + after >= days * 24 { level } else { 100.0 };
                    base + 10.0 * ((h % 24) as f64 / 24.0 * std::f64::consts::TAU).sin()
                        + ((h * 7919) % 13) as f64 * 0.3
                })
                .collect()
        };
        let cal = super::Calendar {
            steps_per_day: 24,
            clock: Some(super::Clock { start_secs: hourly(vec![0.0]).start().timestamp(), step_secs: 3600 }),
        };
        // Ten days ending on a Thursday; the last 30 hours at a third of the load: a shift.
        let shifted = series(10, 30, 33.0);
        assert!(super::level_shift(&shifted, cal).is_some_and(|(days, k)| days == 1 && k > 3.0));
        // The same drop 13 hours before the end: half the last day is still at the old level.
        assert_eq!(super::level_shift(&series(10, 13, 33.0), cal), None);
        // A rise within the cycle's usual span is not a shift.
        assert_eq!(super::level_shift(&series(10, 30, 105.0), cal), None);
        // A last day on a weekend is not judged: eleven days from a Monday end with a Thursday,
        // thirteen with a Saturday.
        assert!(super::level_shift(&series(11, 30, 33.0), cal).is_some());
        assert_eq!(super::level_shift(&series(13, 30, 33.0), cal), None);
        // Three days at three times the load after three weeks (24 days from a Monday end on a
        // Wednesday): a shift three days ago, which the one-day test no longer sees (the day
        // before the last lies at the new level too).
        let lasting = series(24, 72, 300.0);
        assert!(
            super::level_shift(&lasting, cal).is_some_and(|(days, _)| days == 3),
            "{:?}",
            super::level_shift(&lasting, cal)
        );
        // The same three days after under a week of history are not judged (a week's busy days
        // after a first weekend look the same).
        assert_eq!(super::level_shift(&series(9, 72, 300.0), cal), None);
        // A steady rise, ten a day, is a trend, not a shift, however long.
        let trend: Vec<f64> =
            series(24, 0, 100.0).iter().enumerate().map(|(h, v)| v + 10.0 * (h / 24) as f64).collect();
        assert_eq!(super::level_shift(&trend, cal), None);
        // The forecast after the lasting shift is at the new level, not between the two.
        let f = ModelSpec::Auto.build().fit(&hourly(lasting)).unwrap();
        assert!(f.warnings().iter().any(|w| w.contains("the last 3 days lie at a level")), "{:?}", f.warnings());
        let p = f.predict(24, &levels()).unwrap().point;
        assert!(p.iter().all(|p| (p - 300.0).abs() < 30.0), "{p:?}");
        // The engine then weighs the median-level models only, and says why.
        let fitted = ModelSpec::Auto.build().fit(&hourly(shifted)).unwrap();
        assert!(fitted.warnings().iter().any(|w| w.contains("a level shift")), "{:?}", fitted.warnings());
        let id = fitted.model_id();
        assert!(!id.contains("ses") && !id.contains("mstl") && id.contains("median"), "{id}");
        let f = fitted.predict(24, &levels()).unwrap();
        assert!(f.point.iter().all(|p| (p - 33.0).abs() < 15.0), "{:?}", f.point);
    }

    #[test]
    fn no_interval_reaches_further_than_one_and_a_half_spans_of_the_history() {
        // Twelve days of a noisy cycle around 20, whose level wanders by a day's worth now and
        // then (large relative errors at a low level), then two days at ten times that: the
        // relative errors scaled by the new level would reach far past anything seen.
        let mut rng = prescale_core::SplitMix64(11);
        let v: Vec<f64> = (0..24 * 14)
            .map(|h| {
                let base = if h >= 24 * 12 {
                    200.0
                } else if (h / 24) % 3 == 0 {
                    35.0
                } else {
                    20.0
                };
                base + 4.0 * ((h % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + 3.0 * rng.uniform()
            })
            .collect();
        let span =
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max) - v.iter().copied().fold(f64::INFINITY, f64::min);
        let f = ModelSpec::Auto.build().fit(&hourly(v)).unwrap().predict(48, &levels()).unwrap();
        check(&f, true);
        for iv in &f.intervals {
            for (i, p) in f.point.iter().enumerate() {
                assert!(
                    iv.upper[i] - p <= super::SPAN_REACH * span + 1e-9,
                    "{} at step {i}: {} around {p}",
                    iv.level.value(),
                    iv.upper[i]
                );
                assert!(p - iv.lower[i] <= super::SPAN_REACH * span + 1e-9);
            }
        }
    }

    #[test]
    fn a_level_shift_in_the_history_widens_the_tail_only() {
        // Two weeks of a daily cycle with noise; the second series moved its level up by half on
        // day 2, before every backtest window: the backtest errors barely see it, the daily
        // levels of the training window do, and its 95 % interval reaches further beyond its
        // 80 % one.
        let series = |shift: bool| {
            let mut rng = prescale_core::SplitMix64(3);
            let v: Vec<f64> = (0..24 * 14)
                .map(|t| {
                    let level = if shift && t >= 48 { 150.0 } else { 100.0 };
                    level * (1.0 + 0.3 * ((t % 24) as f64 / 3.8).sin()) + 5.0 * (rng.uniform() - 0.5)
                })
                .collect();
            v
        };
        let tail_over_body = |v: Vec<f64>| {
            let f = ModelSpec::Auto.build().fit(&hourly(v)).unwrap().predict(48, &levels()).unwrap();
            check(&f, true);
            let width = |iv: &prescale_core::Interval| {
                iv.upper.iter().zip(&iv.lower).map(|(u, l)| u - l).sum::<f64>() / iv.upper.len() as f64
            };
            width(&f.intervals[2]) / width(&f.intervals[1])
        };
        let (calm, shifted) = (tail_over_body(series(false)), tail_over_body(series(true)));
        assert!(shifted > 1.3 * calm, "95 % / 80 % width: {shifted} after a shift, {calm} without");
    }

    #[test]
    fn where_nothing_beats_the_median_only_the_robust_models_are_weighed() {
        // Two weeks of hourly load: noise around a steady level with excursions of a few hours
        // that come back (no cycle), and the same with a daily cycle on top. Without the cycle
        // the models that follow the level chase the excursions and none beats the recent
        // median over the backtests: only the medians are left. With it the cycle's models carry
        // the forecast.
        let series = |cycle: f64| {
            let mut rng = prescale_core::SplitMix64(11);
            let mut excursion = 0usize;
            (0..24 * 14)
                .map(|t| {
                    if excursion == 0 && rng.uniform() < 1.0 / 20.0 {
                        excursion = 3 + (rng.uniform() * 6.0) as usize;
                    }
                    let bump = if excursion > 0 { 50.0 } else { 0.0 };
                    excursion = excursion.saturating_sub(1);
                    100.0 * (1.0 + cycle * ((t % 24) as f64 / 3.8).sin()) + 10.0 * (rng.uniform() - 0.5) + bump
                })
                .collect::<Vec<f64>>()
        };
        let weighed = |cycle: f64| {
            let fitted = ModelSpec::Auto.build().fit(&hourly(series(cycle))).unwrap();
            check(&fitted.predict(48, &levels()).unwrap(), true);
            fitted.scores().into_iter().filter(|s| s.weight > 0.0).map(|s| s.model).collect::<Vec<String>>()
        };
        let flat = weighed(0.0);
        assert!(
            !flat.is_empty() && flat.iter().all(|m| m.starts_with("median(") || m.ends_with("+median")),
            "no cycle: {flat:?}"
        );
        let daily = weighed(0.4);
        assert!(daily.iter().any(|m| m.contains("+ses") || m.starts_with("mstl")), "a daily cycle: {daily:?}");
    }

    #[test]
    fn a_shape_is_kept_as_far_as_the_day_shows_it_and_a_shift_within_the_last_day_is_seen() {
        use super::{mean_in_standard_errors as t, shape_share, shift_within_last_day};
        let day: Vec<f64> = (0..24).map(|h| if (8..20).contains(&h) { 10.0 } else { 0.0 }).collect();
        // The actual day has the forecast's shape, half of it, or none (flat).
        assert_eq!(shape_share(&day, &day), 1.0);
        let half: Vec<f64> = day.iter().map(|v| 100.0 + v / 2.0).collect();
        assert!((shape_share(&half, &day) - 0.5).abs() < 1e-9);
        assert_eq!(shape_share(&[7.0; 24], &day), 0.0);
        assert_eq!(shape_share(&[1.0], &day), 1.0, "one value shows no shape: kept");
        // Consistency in standard errors: none for one value, infinite with no spread.
        assert_eq!(t(&[-0.3]), 0.0);
        assert_eq!(t(&[-0.2, -0.2]), f64::NEG_INFINITY);
        assert!((t(&[-0.1, -0.3]) - -2.0).abs() < 1e-9, "{}", t(&[-0.1, -0.3]));
        // Four flat days at 100 (± 1), then the last half-day at 40: a shift within the last day.
        let cal = crate::point::Calendar { steps_per_day: 24, clock: None };
        let mut y: Vec<f64> = (0..96).map(|i| 100.0 + f64::from(i % 3) - 1.0).collect();
        y.extend(std::iter::repeat_n(100.0, 12));
        assert!(!shift_within_last_day(&y, cal));
        y.extend(std::iter::repeat_n(40.0, 12));
        assert!(shift_within_last_day(&y, cal));
        assert!(!shift_within_last_day(&y[..30], cal), "under two days: none");
    }

    #[test]
    fn evidence_that_the_origins_disagree_on_counts_for_less() {
        use super::significant_evidence as s;
        // The same total lead, −0.5: held at every origin, or won by one origin and lost a little
        // at the others.
        let steady = [-0.1; 5];
        let one_window = [-0.9, 0.1, 0.1, 0.1, 0.1];
        assert_eq!(s(&steady, 2.0), steady.iter().sum::<f64>(), "no spread: counts in full");
        let noisy = s(&one_window, 2.0);
        // mean −0.1, standard error 0.2: half a standard error, a quarter of the way to 2.
        assert!((noisy - -0.5 * 0.25).abs() < 1e-12, "{noisy}");
        assert!(noisy < 0.0, "the sign stays");
        // A lead 7 standard errors from zero counts in full; 0 turns the scaling off; one origin has no spread.
        let clear = [-0.3, -0.2, -0.4, -0.3];
        assert_eq!(s(&clear, 2.0), clear.iter().sum::<f64>());
        assert_eq!(s(&one_window, 0.0), one_window.iter().sum::<f64>());
        assert_eq!(s(&[0.7], 2.0), 0.7);
        assert_eq!(s(&[], 2.0), 0.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn engine_intervals_are_finite_and_nested(
            values in proptest::collection::vec(prop_oneof![4 => 0.0..1e4f64, 1 => Just(f64::NAN), 1 => Just(0.0)], 30..24 * 9),
            h in 1usize..60,
        ) {
            prop_assume!(values.iter().filter(|v| v.is_finite()).count() >= 2);
            let m = ModelSpec::Auto.build().fit(&hourly(values)).unwrap();
            let f = m.predict(h, &levels()).unwrap();
            prop_assert_eq!(f.len(), h);
            check(&f, true);
        }

        #[test]
        fn engine_with_weekends_keeps_intervals_finite_and_nested(
            values in proptest::collection::vec(prop_oneof![6 => 0.0..1e4f64, 1 => Just(f64::NAN), 1 => Just(0.0)], 24 * 4..24 * 17),
            weekend in 0.05..3.0f64,
            h in 1usize..60,
        ) {
            prop_assume!(values.iter().filter(|v| v.is_finite()).count() >= 2);
            // From Monday 2026-01-05: slots 120–167 and 288–335 are weekends, scaled by `weekend`.
            let values: Vec<f64> = values
                .iter()
                .enumerate()
                .map(|(t, v)| if (t / 24) % 7 >= 5 { v * weekend } else { *v })
                .collect();
            let model = ModelSpec::Auto.build_with(&crate::BuildOptions::default());
            let f = model.fit(&hourly(values)).unwrap().predict(h, &levels()).unwrap();
            prop_assert_eq!(f.len(), h);
            check(&f, true);
        }
    }
}
