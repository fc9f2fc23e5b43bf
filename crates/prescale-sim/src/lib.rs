#![doc = include_str!("../README.md")]

pub mod chart;
mod error;
pub mod group;
pub mod scenario;

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, DurationRound, Timelike, Utc, Weekday};
use prescale_core::{CapacityBounds, GroupPlan, GroupState, Level, ScheduledAction, Series};
use prescale_forecast::transform::{Bounds, Transform};
use prescale_forecast::{BuildOptions, ModelSpec};
use prescale_plan::{MaxBreach, PlanSettings, ReactiveSettings, StepSettings, plan_group};
use serde::Serialize;

pub use error::SimError;
use group::{Fallback, Group, Reactive, StepScaling, TargetTracking};

/// A scaling policy the simulator replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Target tracking alone, as Auto Scaling runs it (see [`group::TargetTracking`]).
    Reactive,
    /// Step scaling alone, as the plan writes it: aggressive out, conservative in (see
    /// [`group::StepScaling`]).
    Step,
    /// A fixed capacity sized for the peak of the training history.
    Static,
    /// A fixed daily schedule: up at 08:00, down at 22:00, on the clock of
    /// [`SimSettings::schedule_zone`] (UTC without one).
    Scheduled,
    /// AWS-style predictive scaling: hourly floors from the point forecast, plus target tracking.
    AwsStyle,
    /// prescale: the real planner's floors from the real forecast, re-planned nightly, plus the
    /// plan's reactive fallback (target tracking, and step scaling unless it is disabled).
    Prescale,
    /// The minimum capacity that serves the true load at the target, launched a boot time ahead.
    Oracle,
}

impl Policy {
    /// Every policy, in the order they are reported.
    pub const ALL: [Policy; 7] = [
        Policy::Reactive,
        Policy::Step,
        Policy::Static,
        Policy::Scheduled,
        Policy::AwsStyle,
        Policy::Prescale,
        Policy::Oracle,
    ];

    /// The name used on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Reactive => "reactive",
            Policy::Step => "step",
            Policy::Static => "static",
            Policy::Scheduled => "scheduled",
            Policy::AwsStyle => "aws-style",
            Policy::Prescale => "prescale",
            Policy::Oracle => "oracle",
        }
    }

    /// Whether the policy needs the nightly forecast.
    pub fn forecasts(self) -> bool {
        matches!(self, Policy::AwsStyle | Policy::Prescale)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Policy::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
            format!("unknown policy {s:?}; choose from {}", names.join(", "))
        })
    }
}

/// What to simulate. [`SimSettings::default`] holds the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSettings {
    /// Load (in the trace's units per step) one instance serves at 100 % utilization. `None`:
    /// sized so that the trace's 95th percentile needs exactly 10 instances at the target.
    pub capacity_per_instance: Option<f64>,
    /// Utilization every policy sizes for, in (0, 1] (default 0.7).
    pub target_utilization: f64,
    /// The group's `MinSize` (default 1, at least 1).
    pub min_size: u32,
    /// The group's `MaxSize`. `None`: 10 × the instances the trace's 95th percentile needs.
    pub max_size: Option<u32>,
    /// Minutes from launch until an instance serves (default 5).
    pub boot_mins: u32,
    /// Price of one on-demand instance-hour, for the dollar column.
    pub price_per_hour: Option<f64>,
    /// The currency of the prices (a configuration's `[cost] currency`), for labels; `None`: `$`.
    pub currency: Option<String>,
    /// Share of the instance-hours run on spot instances, in [0, 1], for a second dollar figure
    /// (needs `price_per_hour` and `spot_price_per_hour`).
    pub spot_share: Option<f64>,
    /// Price of one spot instance-hour, at most the on-demand price.
    pub spot_price_per_hour: Option<f64>,
    /// The forecast quantile prescale's floors are sized for (default 0.9).
    pub quantile: f64,
    /// Utilization the quantile's load may reach (see `PlanSettings::quantile_utilization`);
    /// `None` sizes it at the target (default 1.0: the full capacity).
    pub quantile_utilization: Option<f64>,
    /// Whether the floors also hold the point forecast at the target (see
    /// `PlanSettings::point_at_target`; default false: the expected load is left to target
    /// tracking).
    pub point_at_target: bool,
    /// What a forecast that did not beat the flat median in its own backtests does (see
    /// `PlanSettings::unskilled`; default: trusted).
    pub unskilled: prescale_plan::Unskilled,
    /// Extra capacity on prescale's floors, as a fraction (default 0; `[environments] headroom`).
    pub headroom: f64,
    /// How long before the demand the planned capacity is in place (default 10 min).
    pub lead_time_mins: u32,
    /// The planner's minimum hold of a lower floor (default 60 min).
    pub min_hold_mins: u32,
    /// Floors sized for the mean load of blocks of this many minutes rather than step by step
    /// (`[plan] floor_mean_mins`; default none).
    pub floor_mean_mins: Option<u32>,
    /// A floor of the night before that starts at most this many minutes before a planned rise
    /// or after a planned fall, with its sizes, stays in place of it, as `apply` keeps it
    /// (`prescale_plan::keep_in_place`; default 15, `[apply] keep_within_mins`; 0: none).
    pub keep_within_mins: u32,
    /// Days of history before the first nightly forecast (default 2); before it the forecasting
    /// policies run their target tracking alone.
    pub min_history_days: u32,
    /// Days of history each nightly fit sees at most (default 28).
    pub train_days: u32,
    /// Forecast horizon of each nightly run in hours (default 48).
    pub horizon_hours: u32,
    /// A trace at a finer step is averaged to this many minutes for the nightly fits (default
    /// 5; `[forecast] min_step_mins`), as `prescale forecast fit` does.
    pub forecast_min_step_mins: u32,
    /// Minutes between two scale-ins of target tracking (default 0: EC2 Auto Scaling's target
    /// tracking takes no cooldown; scale-in waits for booting instances instead).
    pub scale_in_cooldown_mins: u32,
    /// The highest utilization (load over the serving capacity) the reactive policies' metric can
    /// read, as CPU utilization reads at most 100 % (default `None`: a load per instance, such as
    /// requests per target, which reads the whole demand however far above the capacity it is). A
    /// saturated metric hides how much more load there is: target tracking then grows the group by
    /// at most `ceiling / target` per round, and the step policy sees the breach at the ceiling.
    /// `1.0` where the metric's full scale is the capacity; a group whose CPU target value is not
    /// `100 × target_utilization` reads 100 % CPU at `target_utilization × 100 / target_value`.
    pub metric_ceiling: Option<f64>,
    /// The period of the CloudWatch metric the reactive policies' alarms read, in minutes: 1 with
    /// detailed monitoring, 5 with basic monitoring (EC2's default). Target tracking's alarms
    /// count datapoints of it (3 above the target, 15 below 90 % of it: 15 and 75 minutes at 5),
    /// and the step policy's alarms read at least it. `None`: the monitoring the plan's step
    /// alarms are written for: 1 for `step.period_secs` under 300 (the default 60 needs detailed
    /// monitoring), else 5. A trace of a longer step holds each value over its minutes, so a
    /// 1-minute metric reads it as a 5-minute one would, a period sooner.
    pub metric_period_mins: Option<u32>,
    /// The step scaling the plan writes beside target tracking (`[groups.reactive.step]`; default
    /// the plan's default): the `step` policy alone, and prescale's fallback with target tracking
    /// when `enabled`.
    pub step: StepSettings,
    /// The forecasting model (default `auto`).
    pub model: ModelSpec,
    /// How the nightly forecasts are built beyond the model: holiday flags, transform, bounds
    /// (default none; `simulate --group` takes the config's, as `prescale forecast fit` does).
    pub forecast: BuildOptions,
    /// The policies to compare (default: all).
    pub policies: Vec<Policy>,
    /// The zone whose clock the `scheduled` policy's 08:00–22:00 day and weekdays follow, as a
    /// team would set its schedule (default `None`: UTC; `--time-zone`, or a group's time_zone).
    pub schedule_zone: Option<chrono_tz::Tz>,
    /// Threads the nightly fits run on (default: the machine's cores). The nights are planned
    /// one after the other in order, so the report is the same whatever the threads.
    pub threads: std::num::NonZeroUsize,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            capacity_per_instance: None,
            target_utilization: 0.7,
            min_size: 1,
            max_size: None,
            boot_mins: 5,
            price_per_hour: None,
            currency: None,
            spot_share: None,
            spot_price_per_hour: None,
            quantile: 0.9,
            quantile_utilization: Some(1.0),
            point_at_target: false,
            unskilled: prescale_plan::Unskilled::Trust,
            headroom: 0.0,
            lead_time_mins: 10,
            min_hold_mins: 60,
            floor_mean_mins: None,
            keep_within_mins: 15,
            min_history_days: 2,
            train_days: 28,
            horizon_hours: 48,
            forecast_min_step_mins: 5,
            scale_in_cooldown_mins: 0,
            metric_ceiling: None,
            metric_period_mins: None,
            step: StepSettings::default(),
            model: ModelSpec::Auto,
            forecast: BuildOptions::default(),
            policies: Policy::ALL.to_vec(),
            schedule_zone: None,
            threads: prescale_core::par::default_threads(),
        }
    }
}

impl SimSettings {
    /// How long ahead of the demand prescale's and aws-style's floors are launched: the lead
    /// time, or the boot time where that is longer, as the planner's `PlanSettings::lead` (an
    /// instance launched a lead time ahead would serve after the demand came).
    pub fn lead_mins(&self) -> u32 {
        self.lead_time_mins.max(self.boot_mins)
    }
}

/// The settings a simulation ran with, defaults resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    /// Load one instance serves at 100 % utilization.
    pub capacity_per_instance: f64,
    /// `given`, `p95/10` (derived from the trace) or `scenario` (the load tests' default, [`scenario::CAPACITY`]);
    /// a caller that took it from elsewhere may name that (`prescale simulate --group`: `group`).
    pub capacity_source: &'static str,
    /// Target utilization.
    pub target_utilization: f64,
    /// `MinSize`.
    pub min_size: u32,
    /// `MaxSize`.
    pub max_size: u32,
    /// Boot time in minutes.
    pub boot_mins: u32,
    /// Price per on-demand instance-hour.
    pub price_per_hour: Option<f64>,
    /// The prices' currency, when it is not dollars (`dollars` in the results is then in it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Share of instance-hours on spot.
    pub spot_share: Option<f64>,
    /// Price per spot instance-hour.
    pub spot_price_per_hour: Option<f64>,
    /// prescale's forecast quantile.
    pub quantile: f64,
    /// The utilization prescale's quantile is sized at (absent: the target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantile_utilization: Option<f64>,
    /// Whether prescale's floors also hold the point forecast at the target.
    pub point_at_target: bool,
    /// What a forecast that did not beat the flat median does.
    pub unskilled: prescale_plan::Unskilled,
    /// Headroom on prescale's floors.
    pub headroom: f64,
    /// Lead time in minutes, as given.
    pub lead_time_mins: u32,
    /// The lead the floors were launched with: `lead_time_mins`, or the boot time where that is
    /// longer ([`SimSettings::lead_mins`]).
    pub lead_mins: u32,
    /// Minutes a lowered floor must stay down, else the dip is filled.
    pub min_hold_mins: u32,
    /// Minutes of the blocks whose mean load the floors were sized for (none: step by step).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_mean_mins: Option<u32>,
    /// Minutes within which a floor of the night before stays in place of a planned one.
    pub keep_within_mins: u32,
    /// Minimum history before the first nightly forecast, in days.
    pub min_history_days: u32,
    /// Training window of each nightly fit, in days.
    pub train_days: u32,
    /// Forecast horizon in hours.
    pub horizon_hours: u32,
    /// Step the nightly fits see at the finest, in minutes.
    pub forecast_min_step_mins: u32,
    /// Scale-in cooldown in minutes.
    pub scale_in_cooldown_mins: u32,
    /// The utilization at which the reactive policies' metric reads its highest (CPU's 100 %).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_ceiling: Option<f64>,
    /// The period of the metric the reactive policies' alarms read, in minutes.
    pub metric_period_mins: u32,
    /// Step scaling: the `step` policy, and prescale's beside target tracking when enabled (its
    /// steps out as replayed).
    pub step: StepSettings,
    /// Model.
    pub model: ModelSpec,
    /// The transform the nightly forecasts fit on.
    pub transform: Transform,
    /// The bounds the nightly forecasts are clipped to.
    pub bounds: Bounds,
    /// Holidays flagged for the nightly forecasts.
    pub holidays: usize,
    /// The zone on whose standard-time clock the nightly forecasts learn the daily cycle, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_clock: Option<String>,
    /// The zone of the `scheduled` policy's day, when not UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_zone: Option<String>,
}

/// The trace as replayed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceInfo {
    /// First instant.
    pub start: DateTime<Utc>,
    /// End of the replay (exclusive).
    pub end: DateTime<Utc>,
    /// The trace's step in seconds.
    pub step_secs: i64,
    /// Minutes replayed.
    pub minutes: usize,
    /// Missing slots replaced by the last value before them (the first value for leading ones).
    pub repaired_missing: usize,
    /// Negative values (a glitch: load is not negative) held at the value before them, as missing
    /// slots are (the first value for leading ones).
    pub repaired_negative: usize,
    /// What reading the file repaired before the replay saw it (`7 slots interpolated`, `2
    /// duplicates averaged`, …): set by the caller that read it; empty from [`simulate`].
    pub input_repairs: Vec<String>,
    /// The trace's 95th percentile.
    pub p95: f64,
    /// Minutes whose load needs more than `MaxSize` instances at the target: there every policy,
    /// the oracle too, runs above the target (and above full capacity, under-provisioned, where
    /// even `MaxSize` at 100 % cannot serve it).
    pub minutes_beyond_max_size: usize,
}

/// One nightly forecast and plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NightRun {
    /// The instant of the run (midnight UTC, or the first minute after it).
    pub at: DateTime<Utc>,
    /// The fitted model, when the fit succeeded.
    pub model: Option<String>,
    /// prescale's scheduled actions from this run.
    pub prescale_actions: usize,
    /// The highest floor prescale planned.
    pub prescale_peak_floor: u32,
    /// aws-style's hourly floor actions from this run.
    pub aws_actions: usize,
    /// The forecast's skill from its own backtests: its models' weighted MASE over the flat
    /// median's (see `prescale_plan::skill`); below 1 it beat the flat median.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill: Option<f64>,
    /// Why no plan came from this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What one policy did over the trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyResult {
    /// The policy.
    pub policy: Policy,
    /// Instance-hours paid (serving and booting instances).
    pub instance_hours: f64,
    /// Instance-hours × the on-demand price, when a price was given.
    pub dollars: Option<f64>,
    /// The same instance-hours with `spot_share` of them at the spot price and the rest on demand,
    /// when a spot share was given.
    pub dollars_spot_mix: Option<f64>,
    /// Minutes in which demand exceeded the serving instances' full capacity.
    pub under_provisioned_minutes: u64,
    /// Of those, the minutes in a held stretch of the trace (missing or negative there, replayed
    /// at the value before it) or in the [`HELD_AFTERMATH_MINS`] after one: where the trace
    /// resumes at another level, the step is the repair's, not the load's.
    pub under_provisioned_minutes_held: u64,
    /// Of the instance-hours, those paid in the same minutes as
    /// [`under_provisioned_minutes_held`](Self::under_provisioned_minutes_held) counts: what the
    /// policy ran for load the trace did not measure, which a comparison of costs on the measured
    /// minutes alone leaves out.
    #[serde(default)]
    pub instance_hours_held: f64,
    /// The highest utilization of the serving instances over a minute (above 1: demand not served).
    pub peak_utilization: f64,
    /// Share of minutes above the target utilization.
    pub share_above_target: f64,
    /// Changes of the desired capacity.
    pub scaling_actions: u64,
    /// Changes of direction less than an hour after the previous change (thrashing).
    pub reversals_within_hour: u64,
    /// The largest unserved load in one minute, in the trace's units.
    pub worst_shortfall: f64,
    /// The same in instances.
    pub worst_shortfall_instances: u64,
    /// Mean paid instances.
    pub mean_instances: f64,
}

/// The outcome of [`simulate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimReport {
    /// The trace.
    pub trace: TraceInfo,
    /// The settings, defaults resolved.
    pub settings: Resolved,
    /// The nightly forecast runs (empty without a forecasting policy).
    pub nights: Vec<NightRun>,
    /// One result per policy, in the order asked.
    pub policies: Vec<PolicyResult>,
    /// Per policy, per minute: (serving, paid) instances. Not serialized.
    #[serde(skip)]
    pub timeline: Vec<Vec<(u32, u32)>>,
    /// Per policy, every change of the desired capacity: (minute, +1 up / -1 down). Not serialized.
    #[serde(skip)]
    pub actions: Vec<Vec<(u64, i8)>>,
    /// Per policy, per minute: the floor (`MinSize`) in force; `MinSize` throughout for the
    /// policies without scheduled floors. Not serialized.
    #[serde(skip)]
    pub floors: Vec<Vec<u32>>,
    /// Demand per minute. Not serialized.
    #[serde(skip)]
    pub demand: Vec<f64>,
    /// Per minute: whether its demand was held (a slot of the minute was missing or negative in
    /// the trace, replayed at the value before it). Not serialized.
    #[serde(skip)]
    pub held: Vec<bool>,
    /// Per policy, the minutes at which target tracking scaled out on a reading its metric's
    /// ceiling cut ([`SimSettings::metric_ceiling`]): it launched fewer than the load needed. Not
    /// serialized.
    #[serde(skip)]
    pub capped_scale_outs: Vec<Vec<u64>>,
}

/// A scheduled floor: from minute `.0` on, at least `.1` instances.
type Floors = Vec<(u64, u32)>;

struct Night {
    minute: u64,
    prescale: Option<Floors>,
    aws: Option<Floors>,
}

/// The largest group the replay models: each policy's group is replayed minute by minute with
/// its instances' launch times, so a group of billions (a `--capacity` in the wrong units) would
/// exhaust memory rather than say so.
pub const MAX_INSTANCES: u32 = 100_000;

/// The longest metric period the replay takes, in minutes: an hour (target tracking's scale-in
/// would then wait 15 hours).
pub const MAX_METRIC_PERIOD_MINS: u32 = 60;

/// Replays `trace` minute by minute under every policy of `s` and measures each.
///
/// The trace is load per step on a regular grid. Each minute takes the value of the slot it falls
/// in (held constant within a step longer than a minute; the mean of the slots within it for a
/// shorter step). Missing slots (those the caller's reading left missing: the CLI interpolates
/// gaps up to `[ingest] grid.max_interpolate_secs` first) and negative values (glitches) are held
/// at the last value before them, and missing for the forecasts;
/// the report counts both. The forecasting policies see at each midnight (UTC) only the slots that
/// ended by then, with missing slots left missing.
///
/// # Errors
/// [`SimError`] for contradictory settings, an empty trace, or a trace too short for the first
/// nightly forecast when a forecasting policy is asked for.
pub fn simulate(trace: &Series, s: &SimSettings) -> Result<SimReport, SimError> {
    simulate_with_progress(trace, s, &mut |_, _, _| {})
}

/// [`simulate`], calling `progress(night, done, total)` after each nightly forecast and plan (the
/// long part of a replay): for a progress line on long traces.
///
/// # Errors
/// As [`simulate`].
pub fn simulate_with_progress(
    trace: &Series,
    s: &SimSettings,
    progress: &mut dyn FnMut(&NightRun, usize, usize),
) -> Result<SimReport, SimError> {
    if s.policies.is_empty() {
        return Err(SimError::NoPolicy);
    }
    if !(s.target_utilization > 0.0 && s.target_utilization <= 1.0) {
        return Err(SimError::BadTarget(s.target_utilization));
    }
    // A metric that reads at most its ceiling never reads above a target there: target tracking
    // would never scale out, and the comparison would be with a group that does nothing.
    if let Some(ceiling) = s.metric_ceiling.filter(|c| s.target_utilization >= *c) {
        return Err(SimError::TargetAtCeiling { target: s.target_utilization, ceiling });
    }
    if !(0.5..1.0).contains(&s.quantile) {
        return Err(SimError::BadQuantile(s.quantile));
    }
    if let Some(u) = s.quantile_utilization
        && !(u >= s.target_utilization && u <= 1.0)
    {
        return Err(SimError::BadQuantileUtilization { got: u, target: s.target_utilization });
    }
    if !(s.headroom >= 0.0 && s.headroom.is_finite()) {
        return Err(SimError::BadHeadroom(s.headroom));
    }
    if let Some(c) = s.capacity_per_instance
        && !(c > 0.0 && c.is_finite())
    {
        return Err(SimError::BadCapacity(c));
    }
    if let Some(max) = s.max_size
        && (s.min_size == 0 || s.min_size > max)
    {
        return Err(SimError::BadBounds { min: s.min_size, max });
    }
    if s.min_size == 0 {
        return Err(SimError::ZeroMinimum);
    }
    validate_prices(s)?;
    let step = trace.step_secs();
    if step <= 0 {
        return Err(SimError::BadStep(step));
    }
    let metric_mins = match s.metric_period_mins {
        Some(m) if !(1..=MAX_METRIC_PERIOD_MINS).contains(&m) => return Err(SimError::BadMetricPeriod(m)),
        Some(m) => m,
        None if s.step.period_secs >= 300 => 5,
        None => 1,
    };
    // Load cannot be negative: such a value is a glitch of the source (a counter reset), not a
    // moment without load. Read as 0 it would drain the replayed groups to their minimum for a
    // step and count the load's return as under-provisioned minutes; so it is missing, for the
    // forecasts as for the replay, which holds the value before it.
    let history: Vec<f64> = trace.values().iter().map(|v| if *v < 0.0 { f64::NAN } else { *v }).collect();
    let repaired_negative = trace.values().iter().filter(|v| **v < 0.0).count();
    let first = history.iter().copied().find(|v| v.is_finite()).ok_or(SimError::Empty)?;
    let mut last = first;
    let mut repaired_missing = 0;
    let slots: Vec<f64> = trace
        .values()
        .iter()
        .zip(&history)
        .map(|(raw, v)| {
            if v.is_finite() {
                last = *v;
            } else if raw.is_nan() || *raw >= 0.0 {
                repaired_missing += 1;
            }
            last
        })
        .collect();
    let held_slots: Vec<f64> = history.iter().map(|v| if v.is_finite() { 0.0 } else { 1.0 }).collect();
    let history = Series::new(trace.start(), step, history).map_err(|_| SimError::BadStep(step))?;
    let demand = minutes(&slots, step);
    // A minute is held when any slot it averages was: a minute's mean of slots is its `minutes` value.
    let held: Vec<bool> = minutes(&held_slots, step).into_iter().map(|h| h > 0.0).collect();
    if demand.is_empty() {
        return Err(SimError::UnderAMinute { secs: step * trace.len() as i64 });
    }
    let n = demand.len() as u64;
    let p95 = percentile(&slots, 0.95);
    let (cap, capacity_source) = match s.capacity_per_instance {
        Some(c) => (c, "given"),
        None if p95 > 0.0 => (p95 / (10.0 * s.target_utilization), "p95/10"),
        None => return Err(SimError::NoDefaultCapacity(p95)),
    };
    let per = cap * s.target_utilization;
    let instances = |load: f64| instances_for(load, per);
    // A group's instances are replayed one by one: its maximum bounds the work. Without a given
    // maximum, a peak that needs more than the replay models at a given capacity means a capacity
    // in the wrong units; at the derived one (a tenth of the 95th percentile) it is an outlier of
    // the trace, and the default maximum (ten times the 95th percentile's need) bounds the group.
    if s.min_size > MAX_INSTANCES {
        return Err(SimError::MinTooLarge { min: s.min_size, limit: MAX_INSTANCES });
    }
    if let Some(max) = s.max_size.filter(|m| *m > MAX_INSTANCES) {
        return Err(SimError::MaxTooLarge { max, limit: MAX_INSTANCES });
    }
    let peak = slots.iter().copied().fold(0.0f64, f64::max);
    if s.max_size.is_none() && s.capacity_per_instance.is_some() && instances(peak) >= MAX_INSTANCES {
        return Err(SimError::too_large(peak, cap, s.target_utilization));
    }
    // A trace idle most of the time (its 95th percentile 0) is sized on its peak instead: ten
    // times nothing would pin every policy at the minimum.
    let base = match instances(p95) {
        0 => instances(peak),
        n => n,
    };
    let max = s.max_size.unwrap_or_else(|| base.saturating_mul(10).clamp(s.min_size, MAX_INSTANCES));
    let bounds = CapacityBounds::new(s.min_size, max).map_err(|_| SimError::BadBounds { min: s.min_size, max })?;
    let settings = Resolved {
        capacity_per_instance: cap,
        capacity_source,
        target_utilization: s.target_utilization,
        min_size: s.min_size,
        max_size: max,
        boot_mins: s.boot_mins,
        price_per_hour: s.price_per_hour,
        currency: s.currency.clone(),
        spot_share: s.spot_share,
        spot_price_per_hour: s.spot_price_per_hour,
        quantile: s.quantile,
        quantile_utilization: s.quantile_utilization,
        point_at_target: s.point_at_target,
        unskilled: s.unskilled,
        headroom: s.headroom,
        lead_time_mins: s.lead_time_mins,
        lead_mins: s.lead_mins(),
        min_hold_mins: s.min_hold_mins,
        floor_mean_mins: s.floor_mean_mins,
        keep_within_mins: s.keep_within_mins,
        min_history_days: s.min_history_days,
        train_days: s.train_days,
        horizon_hours: s.horizon_hours,
        forecast_min_step_mins: s.forecast_min_step_mins,
        scale_in_cooldown_mins: s.scale_in_cooldown_mins,
        metric_ceiling: s.metric_ceiling,
        metric_period_mins: metric_mins,
        // The steps out as replayed, the defaults' sized ones included.
        step: StepSettings {
            out_steps: Some(s.step.out_steps(s.target_utilization * 100.0, s.metric_ceiling.map(|c| c * 100.0))),
            ..s.step.clone()
        },
        model: s.model.clone(),
        transform: s.forecast.transform,
        bounds: s.forecast.bounds,
        holidays: s.forecast.flags.as_ref().map_or(0, |f| f.counts().0),
        local_clock: s.forecast.clock.as_ref().map(|c| {
            if c.is_by_data() {
                format!("{}, where its history shows the load follows it (both clocks where it cannot tell)", c.name())
            } else {
                c.name().to_string()
            }
        }),
        schedule_zone: s.schedule_zone.map(|z| z.name().to_string()),
    };
    let start = trace.start();
    let at = |m: u64| start + Duration::minutes(m as i64);
    let forecasting: Vec<&str> = s.policies.iter().filter(|p| p.forecasts()).map(|p| p.name()).collect();
    if !forecasting.is_empty() && n < u64::from(s.min_history_days + 1) * 1440 {
        return Err(SimError::TooShortForForecast {
            got_hours: n as f64 / 60.0,
            history_days: s.min_history_days,
            policies: forecasting.join(", "),
        });
    }
    let ctx = Ctx { s, bounds, cap, per, boot: u64::from(s.boot_mins), start, metric_mins };
    let (nights, night_runs): (Vec<Night>, Vec<NightRun>) = if forecasting.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        nightly(&ctx, &history, n, progress).into_iter().unzip()
    };
    // Static and scheduled are sized on what the first nightly forecast sees: the first
    // min_history_days of the trace.
    let train_end = ((u64::from(s.min_history_days) * 1440).min(n)) as usize;
    let train = &demand[..train_end.max(1)];
    let need = |load: f64| bounds.clamp(instances(load));
    let static_n = need(train.iter().copied().fold(0.0, f64::max));
    let (day_n, night_n) = schedule_levels(train, start, s.schedule_zone);
    let (day_n, night_n) = (need(day_n), need(night_n));
    let needs: Vec<u32> = demand.iter().map(|d| need(*d)).collect();
    let mut policies = Vec::new();
    let mut timeline = Vec::new();
    let mut actions = Vec::new();
    let mut floors = Vec::new();
    let mut capped_scale_outs = Vec::new();
    // The held minutes and the hour after each held stretch: where the trace resumes at another
    // level than the one held, a policy's shortfall there is the repair's step, not load's.
    let mut after_held = held.clone();
    let mut since: Option<usize> = None;
    for (t, flag) in after_held.iter_mut().enumerate() {
        if held[t] {
            since = Some(0);
        } else if let Some(k) = since.as_mut() {
            *k += 1;
            *flag = *k <= HELD_AFTERMATH_MINS;
        }
    }
    for &p in &s.policies {
        let mut floor_tl = Vec::new();
        let mut capped = Vec::new();
        let (g, tl) =
            match p {
                Policy::Reactive | Policy::Prescale | Policy::AwsStyle => {
                    let plans: Vec<(u64, &Floors)> = nights
                        .iter()
                        .filter_map(|nt| {
                            let floors = match p {
                                Policy::Prescale => nt.prescale.as_ref(),
                                Policy::AwsStyle => nt.aws.as_ref(),
                                _ => None,
                            };
                            floors.map(|f| (nt.minute, f))
                        })
                        .collect();
                    let step = p == Policy::Prescale && s.step.enabled;
                    let run = tracked(&ctx, &demand, &needs, &plans, step);
                    floor_tl = run.floors;
                    capped = run.capped;
                    (run.group, run.timeline)
                }
                Policy::Step => stepped(&ctx, &demand, &needs),
                Policy::Static => fixed(&demand, ctx.boot, |_| static_n),
                Policy::Scheduled => fixed(&demand, ctx.boot, |m| {
                    if scheduled_day(at(m), s.schedule_zone).is_some() { day_n } else { night_n }
                }),
                Policy::Oracle => {
                    // The need of the next boot minutes, so what serves at t was launched by t − boot.
                    let w = ctx.boot as usize + 1;
                    let ahead: Vec<u32> = (0..needs.len())
                        .map(|t| needs[t..(t + w).min(needs.len())].iter().copied().max().unwrap_or(0))
                        .collect();
                    fixed(&demand, ctx.boot, |m| ahead[m as usize])
                }
            };
        policies.push(measure(p, &demand, &tl, &g, &ctx, &after_held));
        if floor_tl.is_empty() {
            floor_tl = vec![bounds.min(); tl.len()];
        }
        floors.push(floor_tl);
        timeline.push(tl);
        actions.push(g.actions);
        capped_scale_outs.push(capped);
    }
    Ok(SimReport {
        trace: TraceInfo {
            start,
            end: at(n),
            step_secs: step,
            minutes: demand.len(),
            repaired_missing,
            repaired_negative,
            input_repairs: Vec::new(),
            p95,
            minutes_beyond_max_size: demand.iter().filter(|d| instances(**d) > bounds.max()).count(),
        },
        settings,
        nights: night_runs,
        policies,
        timeline,
        actions,
        floors,
        demand,
        held,
        capped_scale_outs,
    })
}

struct Ctx<'a> {
    s: &'a SimSettings,
    bounds: CapacityBounds,
    cap: f64,
    per: f64,
    boot: u64,
    start: DateTime<Utc>,
    /// The period of the reactive policies' metric, in minutes.
    metric_mins: u32,
}

impl Ctx<'_> {
    /// What the reactive policies read at the end of a minute: the serving instances'
    /// utilization, and the instances target tracking sets for it (`need`, the true demand's,
    /// unless the metric saturates at 100 % and so understates the demand).
    fn reading(&self, demand: f64, serving: u32, need: u32) -> (f64, u32) {
        let u = utilization(demand, serving, self.cap);
        let Some(ceiling) = self.s.metric_ceiling.filter(|c| u > *c) else { return (u, need) };
        // Instances that boot report nothing; none serving (a group at zero, which the replay's
        // minimum of one never is) reads as one at the ceiling.
        let seen = f64::from(serving.max(1)) * self.cap * ceiling;
        (ceiling, self.bounds.clamp(instances_for(seen, self.per)).min(need))
    }

    /// How many minutes past one of its marks (:00, :05, … for 5 minutes) a period of `period`
    /// minutes is at the trace's first minute: CloudWatch's periods start on the clock's marks.
    fn phase(&self, period: u32) -> u32 {
        (self.start.timestamp().div_euclid(60).rem_euclid(i64::from(period.max(1)))) as u32
    }

    /// The step policy the replay runs, its periods on the clock's marks.
    fn step_policy(&self) -> StepScaling {
        let st = StepScaling::new(
            &self.s.step,
            self.s.target_utilization,
            self.s.boot_mins,
            self.metric_mins,
            self.s.metric_ceiling,
        );
        let phase = self.phase(st.period_mins());
        st.from_phase(phase)
    }

    fn minute(&self, t: DateTime<Utc>) -> u64 {
        ((t - self.start).num_seconds().max(0) as u64).div_ceil(60)
    }
}

/// The trace's slot values per minute: held within longer steps, averaged within shorter ones.
fn minutes(slots: &[f64], step: i64) -> Vec<f64> {
    let step = step as u64;
    let n = (slots.len() as u64 * step / 60) as usize;
    (0..n)
        .map(|m| {
            let t = m as u64 * 60;
            if step >= 60 {
                slots[(t / step) as usize]
            } else {
                let (a, b) = (t.div_ceil(step) as usize, ((t + 60).div_ceil(step) as usize).min(slots.len()));
                let w = &slots[a..b.max(a + 1)];
                w.iter().sum::<f64>() / w.len() as f64
            }
        })
        .collect()
}

/// The `q` quantile (nearest rank) of the finite values.
fn percentile(v: &[f64], q: f64) -> f64 {
    let mut x: Vec<f64> = v.iter().copied().filter(|v| v.is_finite()).collect();
    if x.is_empty() {
        return 0.0;
    }
    x.sort_by(f64::total_cmp);
    x[((q * x.len() as f64).ceil() as usize).clamp(1, x.len()) - 1]
}

/// `t` on `zone`'s clock (UTC without one) when it lies in the scheduled policy's day, 08:00 to
/// 22:00 there; `None` in its night.
fn scheduled_day(t: DateTime<Utc>, zone: Option<chrono_tz::Tz>) -> Option<DateTime<chrono_tz::Tz>> {
    let local = t.with_timezone(&zone.unwrap_or(chrono_tz::UTC));
    (8..22).contains(&local.hour()).then_some(local)
}

/// The scheduled policy's day and night load: the 95th percentile of the weekday daily peaks
/// between 08:00 and 22:00 on `zone`'s clock (UTC without one; every day's when the window holds
/// no weekday), and the 95th percentile of the load between 22:00 and 08:00.
fn schedule_levels(train: &[f64], start: DateTime<Utc>, zone: Option<chrono_tz::Tz>) -> (f64, f64) {
    let mut peaks: Vec<(bool, f64)> = Vec::new();
    let mut nights = Vec::new();
    let mut day = None;
    for (m, d) in train.iter().enumerate() {
        let Some(t) = scheduled_day(start + Duration::minutes(m as i64), zone) else {
            nights.push(*d);
            continue;
        };
        let weekday = !matches!(t.weekday(), Weekday::Sat | Weekday::Sun);
        if day != Some(t.date_naive()) {
            day = Some(t.date_naive());
            peaks.push((weekday, *d));
        } else if let Some(p) = peaks.last_mut() {
            p.1 = p.1.max(*d);
        }
    }
    let week: Vec<f64> = peaks.iter().filter(|p| p.0).map(|p| p.1).collect();
    let all: Vec<f64> = peaks.iter().map(|p| p.1).collect();
    let day = percentile(if week.is_empty() { &all } else { &week }, 0.95);
    let night = if nights.is_empty() { day } else { percentile(&nights, 0.95) };
    (day, night)
}

/// Forecasts and plans at every midnight with enough history before it, on the history known then.
fn nightly(
    ctx: &Ctx,
    history: &Series,
    n: u64,
    progress: &mut dyn FnMut(&NightRun, usize, usize),
) -> Vec<(Night, NightRun)> {
    let s = ctx.s;
    let step = history.step_secs();
    let first = ctx.start + Duration::days(i64::from(s.min_history_days));
    let mut night = first.duration_trunc(Duration::days(1)).unwrap_or(first);
    if night < first {
        night += Duration::days(1);
    }
    let mut q_levels = vec![Level::new(0.8).unwrap_or_else(|_| unreachable!())];
    if let Ok(l) = Level::new(2.0 * s.quantile - 1.0)
        && (l.value() - 0.8).abs() > 1e-9
    {
        q_levels.push(l);
    }
    let settings = PlanSettings {
        bounds: ctx.bounds,
        capacity_per_instance: ctx.cap,
        target_utilization: s.target_utilization,
        quantile: s.quantile,
        quantile_utilization: s.quantile_utilization,
        point_at_target: s.point_at_target,
        unskilled: s.unskilled,
        headroom: s.headroom,
        lead_time: Duration::minutes(i64::from(s.lead_time_mins)),
        min_hold: Duration::minutes(i64::from(s.min_hold_mins)),
        floor_mean: s.floor_mean_mins.map(|m| Duration::minutes(i64::from(m))),
        max_actions: 48,
        reactive: ReactiveSettings {
            target_value: s.target_utilization * 100.0,
            warmup_secs: s.boot_mins * 60,
            step: s.step.clone(),
            ..ReactiveSettings::default()
        },
        max_breach: MaxBreach::Clamp,
        max_step_up: None,
        time_zone: None,
        daily_clock: match &s.forecast.clock {
            Some(c) if c.is_by_data() => prescale_plan::CycleClock::ByData,
            Some(_) => prescale_plan::CycleClock::Local,
            None => prescale_plan::CycleClock::Utc,
        },
        history: Duration::days(i64::from(s.train_days)),
        running: None,
    };
    let model = s.model.build_with(&s.forecast);
    let mut at = Vec::new();
    while ctx.minute(night) < n {
        at.push(night);
        night += Duration::days(1);
    }
    let total = at.len();
    let mut out = Vec::with_capacity(total);
    // The floors written the night before, which tonight's apply keeps where they are near
    // enough (`keep_in_place`): as pending actions, after the floor in force at the night (as the
    // replay runs them: one at the night's own minute is replaced before it runs).
    let within = Duration::minutes(i64::from(s.keep_within_mins));
    let kept_in_place = |plan: GroupPlan, last: Option<&GroupPlan>, night: DateTime<Utc>| match last {
        Some(last) if within > Duration::zero() => {
            let (past, pending): (Vec<&ScheduledAction>, Vec<&ScheduledAction>) =
                last.scheduled_actions.iter().partition(|a| a.start_time < night);
            let in_force = past.iter().rev().find_map(|a| a.min_size).unwrap_or(ctx.bounds.min());
            let state = GroupState {
                scheduled_actions: pending.into_iter().cloned().collect(),
                ..GroupState::bare(
                    plan.group.clone(),
                    CapacityBounds::new(in_force, ctx.bounds.max().max(in_force)).unwrap_or(ctx.bounds),
                    in_force,
                )
            };
            prescale_plan::keep_in_place(&plan, &state, night, within).0
        }
        _ => plan,
    };
    // Each night's fit sees only slots that ended by then (ts + step <= night): independent of
    // the others, so they run on several threads; the plans, each kept in place against the one
    // before, follow in order.
    let fit = |_: usize, night: &DateTime<Utc>| {
        let night = *night;
        let known = history
            .window(night - Duration::days(i64::from(s.train_days)), night - Duration::seconds(step - 1))
            .coarsen(i64::from(s.forecast_min_step_mins) * 60);
        let fit_step = known.step_secs();
        let horizon = ((i64::from(s.horizon_hours) * 3600 + fit_step - 1) / fit_step).max(1) as usize;
        model.fit(&known).and_then(|f| f.predict(horizon, &q_levels))
    };
    let mut last: Option<GroupPlan> = None;
    prescale_core::par::in_order(&at, s.threads, fit, |i, forecast| {
        let night = at[i];
        let minute = ctx.minute(night);
        let (night_plan, run) = match forecast {
            Ok(f) => {
                let plan = kept_in_place(plan_group("sim", "sim", Some(&f), &settings, night), last.as_ref(), night);
                last = Some(plan.clone());
                let floors: Floors = plan
                    .scheduled_actions
                    .iter()
                    .filter_map(|a| a.min_size.map(|m| (ctx.minute(a.start_time), m)))
                    .collect();
                let aws = aws_floors(ctx, &f, night);
                let run = NightRun {
                    at: night,
                    model: Some(f.model.clone()),
                    prescale_actions: floors.len(),
                    prescale_peak_floor: floors.iter().map(|f| f.1).max().unwrap_or(0),
                    aws_actions: aws.len(),
                    skill: prescale_plan::skill(&f),
                    error: None,
                };
                (Night { minute, prescale: Some(floors), aws: Some(aws) }, run)
            }
            Err(e) => {
                let run = NightRun {
                    at: night,
                    model: None,
                    prescale_actions: 0,
                    prescale_peak_floor: 0,
                    aws_actions: 0,
                    skill: None,
                    error: Some(e.to_string()),
                };
                (Night { minute, prescale: None, aws: None }, run)
            }
        };
        progress(&run, out.len() + 1, total);
        out.push((night_plan, run));
    });
    out
}

/// A group's step scaling as the replay runs it at `target` utilization: the thresholds the plan
/// writes (the configured ones, else its defaults for the group's metric, CPU's bound at 100
/// included), in the group's metric units against its target-tracking `target_value`, become
/// percent utilization at the same ratio to the target (the replay's metric is utilization, its
/// target value `target × 100`).
pub fn replayed_step(reactive: &ReactiveSettings, target: f64) -> StepSettings {
    let scale = target * 100.0 / reactive.target_value;
    let (out, inn) = reactive.step.thresholds(reactive.target_value, prescale_plan::metric_ceiling(&reactive.metric));
    // 84 × 75 / 70 reads 90.
    let at = |x: f64| prescale_plan::millionths(x * scale);
    // The steps the plan writes for the group's metric, which the replay's utilization reads the
    // same way.
    let ceiling = prescale_plan::metric_ceiling(&reactive.metric);
    let steps = reactive.step.out_steps(reactive.target_value, ceiling);
    StepSettings {
        out_threshold: Some(at(out)),
        in_threshold: Some(at(inn)),
        out_steps: Some(steps),
        ..reactive.step.clone()
    }
}

/// The highest price per instance-hour taken (dollars): far above any instance's, low enough
/// that a trace's instance-hours times it stays a number.
pub const MAX_PRICE: f64 = 1e6;

/// Checks the prices: each from 0 to [`MAX_PRICE`]; a spot share in [0, 1] comes with both
/// prices, and the spot price is at most the on-demand one.
fn validate_prices(s: &SimSettings) -> Result<(), SimError> {
    for (what, p) in [("on-demand", s.price_per_hour), ("spot", s.spot_price_per_hour)] {
        if let Some(p) = p
            && !(0.0..=MAX_PRICE).contains(&p)
        {
            return Err(SimError::BadPrice { what, price: p });
        }
    }
    match (s.spot_share, s.price_per_hour, s.spot_price_per_hour) {
        (Some(f), _, _) if !(0.0..=1.0).contains(&f) => Err(SimError::BadSpotShare(f)),
        (Some(_), None, None) => Err(SimError::SpotWithoutPrices {
            missing: "both are",
            hint: "--price DOLLARS and --spot-price DOLLARS (or --spot-discount FRACTION)",
        }),
        (Some(_), None, Some(_)) => {
            Err(SimError::SpotWithoutPrices { missing: "the on-demand price is", hint: "--price DOLLARS" })
        }
        (Some(_), Some(_), None) => Err(SimError::SpotWithoutPrices {
            missing: "the spot price is",
            hint: "--spot-price DOLLARS (or --spot-discount FRACTION)",
        }),
        (None, _, Some(_)) => Err(SimError::SpotPriceWithoutShare),
        (_, Some(od), Some(sp)) if sp > od => Err(SimError::SpotAboveOnDemand { spot: sp, on_demand: od }),
        _ => Ok(()),
    }
}

/// Dollars for `hours` instance-hours with the spot share at the spot price and the rest on demand.
fn spot_mix_dollars(s: &SimSettings, hours: f64) -> Option<f64> {
    let (share, od, sp) = (s.spot_share?, s.price_per_hour?, s.spot_price_per_hour?);
    Some(hours * (share * sp + (1.0 - share) * od))
}

/// Instances that serve `load` when each serves `per` (rounded up, never negative).
fn instances_for(load: f64, per: f64) -> u32 {
    (load.max(0.0) / per - 1e-9).ceil().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// The longest AWS predictive scaling launches ahead of an hour: its `SchedulingBufferTime` must
/// be under the forecast's interval of 3,600 seconds.
pub const AWS_MAX_BUFFER_MINS: u32 = 59;

/// AWS predictive scaling as AWS describes it: a point forecast (no interval) of each hour's
/// load, the sum of the hour's data points (so the hour's mean load, at a forecast's finer step),
/// and as that hour's minimum capacity the instances that hold it at the target; launched as far
/// ahead as prescale's floors ([`SimSettings::lead_mins`]), at most [`AWS_MAX_BUFFER_MINS`]; no
/// smoothing, no hold.
fn aws_floors(ctx: &Ctx, f: &prescale_core::Forecast, now: DateTime<Utc>) -> Floors {
    let lead = Duration::minutes(i64::from(ctx.s.lead_mins().min(AWS_MAX_BUFFER_MINS)));
    // (hour, sum of the point forecast, steps of the forecast in it)
    let mut load: Vec<(DateTime<Utc>, f64, u32)> = Vec::new();
    for (i, p) in f.point.iter().enumerate() {
        let h = f.ts(i).duration_trunc(Duration::hours(1)).unwrap_or(f.ts(i));
        match load.last_mut() {
            Some((t, sum, n)) if *t == h => {
                *sum += p.max(0.0);
                *n += 1;
            }
            _ => load.push((h, p.max(0.0), 1)),
        }
    }
    let hours = load.into_iter().map(|(h, sum, n)| (h, ctx.bounds.clamp(instances_for(sum / f64::from(n), ctx.per))));
    let mut floors: Floors = Vec::new();
    let earliest = ctx.minute(now) + 1;
    for (h, need) in hours {
        let m = ctx.minute(h - lead).max(earliest);
        match floors.last_mut() {
            Some(l) if l.1 == need => {}
            Some(l) if l.0 >= m => l.1 = need,
            _ => floors.push((m, need)),
        }
    }
    let end = ctx.minute(f.ts(f.len()));
    if floors.last().is_some_and(|l| l.1 != ctx.bounds.min()) {
        floors.push((end, ctx.bounds.min()));
    }
    floors
}

/// Target tracking (with step scaling beside it when `step`) above a floor; the floor comes from
/// the nightly plans (none: `MinSize`). A new plan replaces the actions of the previous one that
/// have not started; the floor in force stays until the first new action, as when `apply`
/// replaces a group's scheduled actions.
fn tracked(ctx: &Ctx, demand: &[f64], needs: &[u32], plans: &[(u64, &Floors)], step: bool) -> Tracked {
    let (min, max) = (ctx.bounds.min(), ctx.bounds.max());
    let mut g = Group::warm(needs[0]);
    let mut tt = Fallback {
        // With the step policy owning scale-in, target tracking only scales out (DisableScaleIn).
        tracking: Some(
            TargetTracking::new(ctx.s.target_utilization, u64::from(ctx.s.scale_in_cooldown_mins))
                .on_periods(ctx.metric_mins, ctx.phase(ctx.metric_mins))
                .scaling_in(!(step && ctx.s.step.scales_in_alone())),
        ),
        // Its scale-in only where the plan writes it: where it alone scales in.
        step: step.then(|| ctx.step_policy().scaling_in(ctx.s.step.scales_in_alone())),
    };
    let mut floor = min;
    let mut pending: VecDeque<(u64, u32)> = VecDeque::new();
    let mut plans = plans.iter().peekable();
    let mut tl = Vec::with_capacity(demand.len());
    let mut floors = Vec::with_capacity(demand.len());
    // Whether the last reading was cut by the metric's ceiling, and the scale-outs made on one.
    let (mut cut, mut capped) = (false, Vec::new());
    for (t, d) in demand.iter().enumerate() {
        let t = t as u64;
        while let Some((_, f)) = plans.next_if(|(m, _)| *m <= t) {
            pending = f.iter().copied().collect();
        }
        while let Some((_, f)) = pending.pop_front_if(|(m, _)| *m <= t) {
            floor = f.clamp(min, max);
        }
        let before = g.desired();
        tt.act(&mut g, t, floor, max, ctx.boot);
        if cut && g.desired() > before {
            capped.push(t);
        }
        if g.desired() < floor {
            g.set_desired(floor, t, ctx.boot);
        }
        let serving = g.serving(t);
        tl.push((serving, g.desired()));
        floors.push(floor);
        let (u, need) = ctx.reading(*d, serving, needs[t as usize]);
        cut = need < needs[t as usize];
        tt.observe(u, need);
    }
    Tracked { group: g, timeline: tl, floors, capped }
}

/// A replay of target tracking above floors ([`tracked`]).
struct Tracked {
    group: Group,
    /// Per minute: (serving, paid) instances.
    timeline: Vec<(u32, u32)>,
    /// Per minute: the floor in force.
    floors: Vec<u32>,
    /// The minutes of scale-outs made on a reading the metric's ceiling cut.
    capped: Vec<u64>,
}

/// Step scaling alone, between `MinSize` and `MaxSize`.
fn stepped(ctx: &Ctx, demand: &[f64], needs: &[u32]) -> (Group, Vec<(u32, u32)>) {
    let (min, max) = (ctx.bounds.min(), ctx.bounds.max());
    let mut g = Group::warm(needs[0]);
    let mut st = ctx.step_policy();
    let mut tl = Vec::with_capacity(demand.len());
    for (t, d) in demand.iter().enumerate() {
        let t = t as u64;
        st.act(&mut g, t, min, max, ctx.boot);
        let serving = g.serving(t);
        tl.push((serving, g.desired()));
        st.observe(ctx.reading(*d, serving, needs[t as usize]).0);
    }
    (g, tl)
}

/// A capacity set per minute with no feedback: the instances of minute 0 serve at once, later ones
/// after the boot time.
fn fixed(demand: &[f64], boot: u64, level: impl Fn(u64) -> u32) -> (Group, Vec<(u32, u32)>) {
    let mut g = Group::warm(level(0));
    let tl = (0..demand.len() as u64)
        .map(|t| {
            g.set_desired(level(t), t, boot);
            (g.serving(t), g.desired())
        })
        .collect();
    (g, tl)
}

fn utilization(demand: f64, serving: u32, cap: f64) -> f64 {
    if serving == 0 { if demand > 0.0 { f64::MAX } else { 0.0 } } else { demand / (f64::from(serving) * cap) }
}

/// How long after a held stretch of the trace a policy's shortfall is counted as the held
/// stretch's ([`PolicyResult::under_provisioned_minutes_held`]), in minutes.
pub const HELD_AFTERMATH_MINS: usize = 60;

fn measure(p: Policy, demand: &[f64], tl: &[(u32, u32)], g: &Group, ctx: &Ctx, after_held: &[bool]) -> PolicyResult {
    let cap = ctx.cap;
    let minutes = demand.len().max(1) as f64;
    let paid: u64 = tl.iter().map(|(_, d)| u64::from(*d)).sum();
    let instance_hours = paid as f64 / 60.0;
    let paid_held: u64 = tl
        .iter()
        .enumerate()
        .filter(|(t, _)| after_held.get(*t).copied().unwrap_or(false))
        .map(|(_, (_, d))| u64::from(*d))
        .sum();
    let (mut under, mut under_held, mut above, mut peak, mut worst) = (0, 0, 0, 0.0_f64, 0.0_f64);
    for (t, (d, (serving, _))) in demand.iter().zip(tl).enumerate() {
        let u = utilization(*d, *serving, cap);
        let capacity = f64::from(*serving) * cap;
        if *d > capacity * (1.0 + 1e-9) {
            under += 1;
            under_held += u64::from(after_held.get(t).copied().unwrap_or(false));
            worst = worst.max(d - capacity);
        }
        if u > ctx.s.target_utilization * (1.0 + 1e-9) {
            above += 1;
        }
        peak = peak.max(u);
    }
    let reversals = g.actions.windows(2).filter(|w| w[0].1 != w[1].1 && w[1].0 - w[0].0 < 60).count() as u64;
    PolicyResult {
        policy: p,
        instance_hours,
        dollars: ctx.s.price_per_hour.map(|pr| pr * instance_hours),
        dollars_spot_mix: spot_mix_dollars(ctx.s, instance_hours),
        under_provisioned_minutes: under,
        under_provisioned_minutes_held: under_held,
        instance_hours_held: paid_held as f64 / 60.0,
        peak_utilization: peak,
        share_above_target: f64::from(above) / minutes,
        scaling_actions: g.actions.len() as u64,
        reversals_within_hour: reversals,
        worst_shortfall: worst,
        worst_shortfall_instances: (worst / cap - 1e-9).ceil().max(0.0) as u64,
        mean_instances: paid as f64 / minutes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
    }

    fn settings(policies: &[Policy]) -> SimSettings {
        SimSettings {
            capacity_per_instance: Some(100.0),
            max_size: Some(100),
            policies: policies.to_vec(),
            ..SimSettings::default()
        }
    }

    /// A daily cycle with a sharp morning ramp, at a 5-minute step.
    fn daily(days: usize) -> Series {
        let v = (0..days * 288)
            .map(|i| {
                let h = (i % 288) as f64 / 12.0;
                let noise = ((i * 7919) % 13) as f64 * 10.0;
                if (9.0..18.0).contains(&h) { 3000.0 + noise } else { 300.0 + noise }
            })
            .collect();
        Series::new(t0(), 300, v).unwrap()
    }

    #[test]
    fn minutes_hold_long_steps_and_average_short_ones() {
        assert_eq!(minutes(&[1.0, 2.0], 120), vec![1.0, 1.0, 2.0, 2.0]);
        assert_eq!(minutes(&[1.0, 3.0, 5.0, 7.0], 30), vec![2.0, 6.0]);
        assert_eq!(minutes(&[4.0], 90), vec![4.0]);
    }

    #[test]
    fn the_schedule_keeps_its_hours_on_the_given_zones_clock() {
        // Load at 3,000 from 00:00 to 08:00 UTC (09:00 to 17:00 in Tokyo), 300 otherwise.
        let v = (0..4 * 288).map(|i| if (i % 288) < 96 { 3000.0 } else { 300.0 }).collect();
        let trace = Series::new(t0(), 300, v).unwrap();
        let paid = |zone: Option<chrono_tz::Tz>, hour: usize| {
            let s = SimSettings { schedule_zone: zone, ..settings(&[Policy::Scheduled]) };
            let r = simulate(&trace, &s).unwrap();
            r.timeline[0][3 * 1440 + hour * 60].1
        };
        // On Tokyo's clock the day (08:00–22:00 there, 23:00–13:00 UTC) holds the load's hours and
        // is sized for them until 22:00 there (13:00 UTC); on UTC's the day is sized for the low
        // load, and the night (22:00–08:00 UTC) for the peak it holds.
        let tokyo = Some(chrono_tz::Asia::Tokyo);
        assert!(paid(tokyo, 10) > 3 * paid(None, 10), "19:00 in Tokyo: {} against {}", paid(tokyo, 10), paid(None, 10));
        assert!(paid(tokyo, 15) < paid(tokyo, 10) && paid(None, 4) > paid(None, 15));
        let s = SimSettings { schedule_zone: tokyo, ..settings(&[Policy::Scheduled]) };
        assert_eq!(simulate(&trace, &s).unwrap().settings.schedule_zone.as_deref(), Some("Asia/Tokyo"));
    }

    #[test]
    fn the_schedule_moves_with_its_zones_summer_time() {
        // Ten days of 5-minute load from Monday 2026-03-02, busy in New York office hours; its
        // clocks go forward on Sunday 8 March, so 08:00 there is 13:00 UTC before, 12:00 after.
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        let ny = chrono_tz::America::New_York;
        let v = (0..10 * 288)
            .map(|i| {
                let t = (start + Duration::minutes(5 * i as i64)).with_timezone(&ny);
                if (8..18).contains(&t.hour()) { 3000.0 } else { 300.0 }
            })
            .collect();
        let trace = Series::new(start, 300, v).unwrap();
        let s = SimSettings { schedule_zone: Some(ny), ..settings(&[Policy::Scheduled]) };
        let r = simulate(&trace, &s).unwrap();
        // From the night (06:00 UTC, 01:00 or 02:00 there), the minute the schedule goes up.
        let night = |day: usize| r.timeline[0][day * 1440 + 360].1;
        let up = |day: usize| (360..1440).find(|m| r.timeline[0][day * 1440 + m].1 > night(day));
        assert_eq!((up(4), up(9)), (Some(13 * 60), Some(12 * 60)), "Friday 6 and Wednesday 11 March");
    }

    #[test]
    fn alarms_read_the_metric_period_the_step_alarms_are_written_for_unless_told() {
        let trace = daily(3);
        let run = |period: Option<u32>| {
            let s = SimSettings { metric_period_mins: period, ..settings(&[Policy::Reactive]) };
            simulate(&trace, &s)
        };
        let (basic, detailed) = (run(Some(5)).unwrap(), run(None).unwrap());
        assert_eq!((basic.settings.metric_period_mins, detailed.settings.metric_period_mins), (5, 1));
        assert_eq!(run(Some(1)).unwrap().policies, detailed.policies, "60-second step alarms: 1 minute");
        // Step alarms of 5 minutes are written for basic monitoring.
        let step = StepSettings { period_secs: 300, ..StepSettings::default() };
        let s = SimSettings { step, ..settings(&[Policy::Reactive]) };
        assert_eq!(simulate(&trace, &s).unwrap().policies, basic.policies);
        // Each morning ramp waits 15 minutes for target tracking rather than 3, and each evening's
        // scale-in 75 rather than 15.
        let (b, d) = (&basic.policies[0], &detailed.policies[0]);
        assert!(b.under_provisioned_minutes >= d.under_provisioned_minutes + 3 * 10, "{b:?}\n{d:?}");
        assert!(b.instance_hours > d.instance_hours, "{b:?}\n{d:?}");
        assert!(matches!(run(Some(0)), Err(SimError::BadMetricPeriod(0))));
        assert!(matches!(run(Some(61)), Err(SimError::BadMetricPeriod(61))));
    }

    #[test]
    fn metric_periods_start_on_the_clocks_marks() {
        // Load jumps tenfold at 00:10 on a trace that starts at 00:02: the 5-minute datapoints end
        // at 00:05, 00:10, 00:15 …, so the third breaching one ends at 00:25 and the launch serves
        // at 00:30: 20 minutes short (periods from 00:02 would have seen the jump in the one
        // ending at 00:12, and been short 17).
        let values: Vec<f64> = (0..3 * 1440).map(|i| if i < 8 { 100.0 } else { 1000.0 }).collect();
        let trace = Series::new(t0() + Duration::minutes(2), 60, values).unwrap();
        let s = SimSettings { metric_period_mins: Some(5), ..settings(&[Policy::Reactive]) };
        let r = simulate(&trace, &s).unwrap();
        assert_eq!(r.policies[0].under_provisioned_minutes, 20, "{:?}", r.policies[0]);
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.95), 95.0);
        assert_eq!(percentile(&[f64::NAN, 3.0], 0.5), 3.0);
    }

    #[test]
    fn the_oracle_never_under_provisions_and_pays_least() {
        let r = simulate(&daily(4), &settings(&[Policy::Reactive, Policy::Static, Policy::Oracle])).unwrap();
        let oracle = &r.policies[2];
        assert_eq!(oracle.under_provisioned_minutes, 0);
        assert_eq!(oracle.share_above_target, 0.0);
        for p in &r.policies {
            assert!(oracle.instance_hours <= p.instance_hours, "{oracle:?} vs {p:?}");
        }
        // The reactive policy lags every morning ramp by more than the boot time.
        assert!(r.policies[0].under_provisioned_minutes >= 4 * 6, "{:?}", r.policies[0]);
        assert_eq!(r.trace.minutes_beyond_max_size, 0);
        // Bounded below the day's need (3,000+ at 70 % of 100 needs 43 or more), the oracle runs
        // above the target exactly in the minutes the trace says need more than MaxSize.
        let capped = SimSettings { max_size: Some(40), ..settings(&[Policy::Oracle]) };
        let r = simulate(&daily(2), &capped).unwrap();
        let above = r.policies[0].share_above_target * r.trace.minutes as f64;
        assert_eq!(r.trace.minutes_beyond_max_size, 2 * 9 * 60);
        assert!((above - r.trace.minutes_beyond_max_size as f64).abs() < 0.5, "{above}");
    }

    #[test]
    fn static_and_scheduled_are_sized_on_the_first_days_only() {
        let mut s = daily(4);
        // A day-3 surge that no training day saw.
        let v: Vec<f64> = s.values().iter().enumerate().map(|(i, v)| if i / 288 == 3 { v * 2.0 } else { *v }).collect();
        s = Series::new(t0(), 300, v).unwrap();
        let r = simulate(&s, &settings(&[Policy::Static, Policy::Scheduled])).unwrap();
        // Peak 3120 at 70 of 100 per instance: 45 instances, all trace long.
        assert_eq!(r.timeline[0][0], (45, 45));
        assert!(r.policies[0].under_provisioned_minutes > 0);
        assert_eq!(r.policies[0].scaling_actions, 0);
        // Scheduled: the night level at midnight, the day level from 08:05 (booted) to 22:00.
        let sched = &r.timeline[1];
        assert!(sched[0].0 < 10);
        assert_eq!(sched[8 * 60 + 5].0, 45);
        assert_eq!(r.policies[1].scaling_actions, 8);
    }

    #[test]
    fn prescale_replans_nightly_and_beats_reactive_on_a_daily_cycle() {
        let policies = [Policy::Reactive, Policy::Prescale, Policy::AwsStyle];
        let r = simulate(&daily(6), &settings(&policies)).unwrap();
        assert_eq!(r.nights.len(), 4, "{:?}", r.nights);
        assert!(r.nights.iter().all(|n| n.error.is_none() && n.prescale_actions > 0), "{:?}", r.nights);
        // A cycle this regular is far better forecast than by a flat median: every night trusted.
        assert!(r.nights.iter().all(|n| n.skill.is_some_and(|k| k < 0.5)), "{:?}", r.nights);
        let (reactive, prescale) = (&r.policies[0], &r.policies[1]);
        // The default floor is the P90 at full capacity, with no margin: where the forecast
        // smooths the 10× morning step the floor is an instance or two short for a few minutes,
        // but still ahead of reactive.
        assert!(prescale.under_provisioned_minutes < reactive.under_provisioned_minutes, "{prescale:?}\n{reactive:?}");
        // With the point forecast held at the target as well, the floors have the target's
        // spare capacity as margin: far fewer under-provisioned minutes, and the floor binds
        // through the day, so target tracking and step scaling stop chasing the noise.
        let held = simulate(&daily(6), &SimSettings { point_at_target: true, ..settings(&policies) }).unwrap();
        let held = &held.policies[1];
        assert!(held.under_provisioned_minutes < reactive.under_provisioned_minutes / 2, "{held:?}\n{reactive:?}");
        assert!(held.reversals_within_hour < prescale.reversals_within_hour / 2, "{held:?}\n{prescale:?}");
    }

    #[test]
    fn aws_style_launches_its_floors_as_far_ahead_as_prescale_within_awss_limit() {
        // A boot longer than the lead time: the planner launches prescale's floors a boot time
        // ahead (else they serve late), and aws-style's go as far ahead, whatever the lead time.
        let policies = [Policy::AwsStyle, Policy::Prescale];
        let at = |lead: u32| {
            let s = SimSettings { boot_mins: 30, lead_time_mins: lead, ..settings(&policies) };
            simulate(&daily(4), &s).unwrap()
        };
        let figures = |p: &PolicyResult| (p.instance_hours, p.under_provisioned_minutes);
        let (short, long) = (at(10), at(30));
        assert_eq!((short.settings.lead_time_mins, short.settings.lead_mins), (10, 30));
        for (a, b) in short.policies.iter().zip(&long.policies) {
            assert_eq!(figures(a), figures(b), "{a:?}\n{b:?}");
        }
        // A lead time longer than the boot is its own; aws-style's stops at 59 minutes, the
        // longest SchedulingBufferTime AWS takes.
        let (hour, longer) = (at(AWS_MAX_BUFFER_MINS), at(120));
        assert_eq!(longer.settings.lead_mins, 120);
        assert_eq!(figures(&longer.policies[0]), figures(&hour.policies[0]), "{:?}", longer.policies);
        assert!(longer.policies[1].instance_hours > hour.policies[1].instance_hours, "{:?}", longer.policies);
        assert!(at(45).policies[0].instance_hours < hour.policies[0].instance_hours);
    }

    #[test]
    fn aws_style_sizes_each_hour_by_its_mean_load_as_awss_hourly_forecast_does() {
        // One 5-minute spike in an hour of 200 per step: AWS sums the hour's data points, so its
        // capacity holds the hour's mean (450 → 5 instances at 100 each), not the spike's 3,200.
        let s = settings(&[Policy::AwsStyle]);
        let bounds = CapacityBounds::new(1, 100).unwrap();
        let ctx = Ctx { s: &s, bounds, cap: 100.0 / 0.7, per: 100.0, boot: 5, start: t0(), metric_mins: 1 };
        let mut point = vec![200.0; 24];
        point[3] = 3200.0;
        let f = prescale_core::Forecast::new("test", t0() + Duration::hours(1), 300, point, Vec::new()).unwrap();
        let floors = aws_floors(&ctx, &f, t0());
        // Launched the lead ahead (10 minutes) of each hour, back to the minimum at the end.
        assert_eq!(floors, vec![(50, 5), (110, 2), (180, 1)]);
    }

    #[test]
    fn a_spot_share_prices_its_part_of_the_hours_at_the_spot_price() {
        let mut s = settings(&[Policy::Oracle]);
        (s.price_per_hour, s.spot_share, s.spot_price_per_hour) = (Some(0.1), Some(0.25), Some(0.02));
        let r = simulate(&daily(1), &s).unwrap();
        let p = &r.policies[0];
        let want = p.instance_hours * (0.25 * 0.02 + 0.75 * 0.1);
        assert!((p.dollars_spot_mix.unwrap() - want).abs() < 1e-9, "{p:?}");
        assert!(p.dollars_spot_mix < p.dollars);
        // All on demand and all on spot are the two ends.
        assert_eq!(spot_mix_dollars(&SimSettings { spot_share: Some(0.0), ..s.clone() }, 10.0), Some(1.0));
        assert_eq!(spot_mix_dollars(&SimSettings { spot_share: Some(1.0), ..s.clone() }, 10.0), Some(0.2));
        let bad = |f: fn(&mut SimSettings)| {
            let mut x = s.clone();
            f(&mut x);
            validate_prices(&x).unwrap_err()
        };
        assert_eq!(
            bad(|x| x.spot_share = Some(f64::NAN)).to_string().lines().next(),
            Some("the spot share must be a fraction in [0, 1], got NaN")
        );
        // The message names what is missing, not what was given.
        let missing = |e: SimError| e.to_string().lines().next().unwrap_or_default().to_string();
        assert!(missing(bad(|x| x.spot_price_per_hour = None)).ends_with("the spot price is missing"));
        assert!(missing(bad(|x| x.price_per_hour = None)).ends_with("the on-demand price is missing"));
        assert!(
            missing(bad(|x| {
                x.price_per_hour = None;
                x.spot_price_per_hour = None;
            }))
            .ends_with("both are missing")
        );
        assert_eq!(bad(|x| x.spot_share = None), SimError::SpotPriceWithoutShare);
        assert_eq!(
            bad(|x| x.spot_price_per_hour = Some(0.5)),
            SimError::SpotAboveOnDemand { spot: 0.5, on_demand: 0.1 }
        );
        assert!(matches!(
            bad(|x| x.price_per_hour = Some(f64::INFINITY)),
            SimError::BadPrice { what: "on-demand", .. }
        ));
    }

    #[test]
    fn a_groups_step_thresholds_keep_their_ratio_to_the_target() {
        // Requests per target: out at 1,500 and in below 500 against a target of 1,000.
        let alb = ReactiveSettings {
            metric: "ALBRequestCountPerTarget".into(),
            target_value: 1000.0,
            step: StepSettings { out_threshold: Some(1500.0), in_threshold: Some(500.0), ..StepSettings::default() },
            ..ReactiveSettings::default()
        };
        let s = replayed_step(&alb, 0.6);
        let (out, inn) = s.thresholds(60.0, Some(100.0));
        assert!((out - 90.0).abs() < 1e-9 && (inn - 30.0).abs() < 1e-9, "{out} {inn}");
        assert_eq!((s.enabled, s.in_remove), (true, 1));
        // Unset thresholds are the plan's defaults for the group's metric, at the same ratio: CPU at
        // a target of 70 alarms at 84 (1.2 ×) and 35, so a replay at 75 % at 90 and 37.5; at a
        // target of 80 at 90 (halfway to 100, not 96), so a replay at 85 % at 95.625.
        let cpu = |target_value: f64, at: f64| {
            let d = replayed_step(&ReactiveSettings { target_value, ..ReactiveSettings::default() }, at);
            (d.out_threshold, d.in_threshold, StepSettings { out_threshold: None, in_threshold: None, ..d })
        };
        // And the steps the plan writes for CPU: sized below 98 %, doubling from there.
        let steps = StepSettings::default().out_steps(70.0, Some(100.0));
        assert_eq!(steps.last().map(|s| s.add), Some(100));
        assert_eq!(
            cpu(70.0, 0.75),
            (Some(90.0), Some(37.5), StepSettings { out_steps: Some(steps), ..StepSettings::default() })
        );
        assert_eq!(cpu(80.0, 0.85).0, Some(95.625));
    }

    #[test]
    fn bad_settings_are_refused() {
        let s = daily(1);
        let bad = |f: fn(&mut SimSettings)| {
            let mut x = settings(&[Policy::Reactive]);
            f(&mut x);
            simulate(&s, &x).unwrap_err()
        };
        assert_eq!(bad(|x| x.min_size = 0), SimError::BadBounds { min: 0, max: 100 });
        assert_eq!(bad(|x| x.max_size = Some(0)), SimError::BadBounds { min: 1, max: 0 });
        assert!(bad(|x| x.capacity_per_instance = Some(f64::NAN)).to_string().contains("positive"));
        assert_eq!(bad(|x| x.quantile = 0.3), SimError::BadQuantile(0.3));
        assert_eq!(
            bad(|x| x.quantile_utilization = Some(0.5)),
            SimError::BadQuantileUtilization { got: 0.5, target: 0.7 }
        );
        assert_eq!(bad(|x| x.policies.clear()), SimError::NoPolicy);
        assert!(matches!(bad(|x| x.policies = vec![Policy::Prescale]), SimError::TooShortForForecast { .. }));
        let tiny = |x: &mut SimSettings| {
            x.capacity_per_instance = Some(1e-6);
            x.max_size = None;
        };
        assert!(matches!(bad(tiny), SimError::TooLarge { .. }));
        // At the derived capacity, one outlier a million times the load is a glitch of the trace:
        // the default maximum bounds the group and the replay runs.
        let mut glitch = s.values().to_vec();
        glitch[100] = 1e12;
        let glitchy = Series::new(s.start(), s.step_secs(), glitch).unwrap();
        let derived = SimSettings { capacity_per_instance: None, max_size: None, ..settings(&[Policy::Reactive]) };
        let r = simulate(&glitchy, &derived).unwrap();
        assert!(r.settings.max_size <= 100, "{:?}", r.settings);
        // With a maximum given, the group is bounded and the replay runs (under-provisioned).
        let mut bounded = settings(&[Policy::Reactive]);
        bounded.capacity_per_instance = Some(1e-6);
        assert!(simulate(&s, &bounded).is_ok());
        assert_eq!(
            bad(|x| x.max_size = Some(MAX_INSTANCES + 1)),
            SimError::MaxTooLarge { max: MAX_INSTANCES + 1, limit: MAX_INSTANCES }
        );
        // A minimum above it, without a maximum (the default one stops at the limit): refused
        // as such, not a bug.
        assert_eq!(
            bad(|x| {
                x.min_size = MAX_INSTANCES + 1;
                x.max_size = None;
            }),
            SimError::MinTooLarge { min: MAX_INSTANCES + 1, limit: MAX_INSTANCES }
        );
        assert_eq!(
            bad(|x| {
                x.min_size = 0;
                x.max_size = None;
            }),
            SimError::ZeroMinimum
        );
        let empty = Series::new(t0(), 300, vec![f64::NAN; 10]).unwrap();
        assert_eq!(simulate(&empty, &settings(&[Policy::Reactive])), Err(SimError::Empty));
        // Values, but not a minute of them: said so, not called unusable.
        let short = Series::new(t0(), 20, vec![5.0, 5.0]).unwrap();
        assert_eq!(simulate(&short, &settings(&[Policy::Reactive])), Err(SimError::UnderAMinute { secs: 40 }));
    }
}
