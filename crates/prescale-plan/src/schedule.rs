use chrono::{DateTime, Duration, DurationRound, Offset, Utc};
use chrono_tz::Tz;
use prescale_core::{
    CapacityBounds, DecisionKind, Forecast, ForecastSummary, GroupPlan, OWNED_PREFIX, PlanDecision, ScheduledAction,
};
use serde::{Deserialize, Serialize};

use crate::reactive::{PREDEFINED_METRICS, StepSettings, Warmup, reactive};

/// Auto Scaling allows at most this many scheduled actions per group.
pub const MAX_ACTIONS_PER_GROUP: usize = 125;
/// `BatchPutScheduledUpdateGroupAction` takes at most this many actions per call.
pub const MAX_ACTIONS_PER_BATCH: usize = 50;

/// The reactive fallback policy's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReactiveSettings {
    /// Predefined metric of the target-tracking policy: `ASGAverageCPUUtilization`,
    /// `ALBRequestCountPerTarget`, `ASGAverageNetworkIn`, `ASGAverageNetworkOut`.
    pub metric: String,
    /// Target value of that metric (percent for CPU, requests per target per minute for ALB).
    pub target_value: f64,
    /// ALB resource label (`app/<lb>/<id>/targetgroup/<tg>/<id>`), needed for `ALBRequestCountPerTarget`.
    pub resource_label: Option<String>,
    /// Seconds a new instance needs before it serves (boot + warm-up), used when the group's
    /// boot time cannot be measured from its recent launches.
    pub warmup_secs: u32,
    /// Step scaling beside target tracking (on by default).
    pub step: StepSettings,
    /// The warm-up measured from the group's launches (see [`crate::measured_warmup`]), set by
    /// the caller that can read them; `None` uses `warmup_secs`. Not a configuration key.
    #[serde(skip)]
    pub measured: Option<Warmup>,
    /// The period the step alarms' metric holds a datapoint in (see
    /// [`prescale_core::ActionSink::published_every`]), set by the caller that can read it:
    /// where it is longer than `step.period_secs`, the alarms are written at it
    /// ([`crate::published_period`]); `None` keeps the configured period. Not a configuration key.
    #[serde(skip)]
    pub published: Option<crate::MetricPeriod>,
}

impl Default for ReactiveSettings {
    fn default() -> Self {
        Self {
            metric: "ASGAverageCPUUtilization".into(),
            target_value: 70.0,
            resource_label: None,
            warmup_secs: 300,
            step: StepSettings::default(),
            measured: None,
            published: None,
        }
    }
}

impl ReactiveSettings {
    /// Checks that the policies these settings write can work: a positive target (for CPU a percent
    /// from 1 to under 100, so that target tracking can scale out and a step alarm above it can
    /// fire), the target group's label with `ALBRequestCountPerTarget` (Auto Scaling refuses the
    /// policy without it), and the step settings ([`StepSettings::validate`]). The error names the
    /// key under `reactive.`.
    ///
    /// # Errors
    /// What is wrong, and what to write instead.
    pub fn validate(&self) -> Result<(), String> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    /// Every mistake of [`ReactiveSettings::validate`]: the target's, the metric's and then the
    /// step settings' ([`StepSettings::problems`], judged only on a target that is one).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let target = self.target_value;
        if !(target.is_finite() && target > 0.0) {
            out.push(format!(
                "target_value = {target} must be a positive number (the metric's value target tracking holds, e.g. \
                 60 for 60 % CPU)"
            ));
        } else if self.metric == "ASGAverageCPUUtilization" && !(1.0..100.0).contains(&target) {
            out.push(format!(
                "target_value = {target} for ASGAverageCPUUtilization must be a percent from 1 to under 100 ({})",
                if target < 1.0 {
                    format!("{:.0} for {:.0} %, not the fraction", target * 100.0, target * 100.0)
                } else {
                    "CPU never goes above 100 %: target tracking could not scale out, nor a step alarm above it fire"
                        .to_string()
                }
            ));
        }
        // Target tracking is written with a predefined metric: Auto Scaling knows these four.
        if !PREDEFINED_METRICS.contains(&self.metric.as_str()) {
            out.push(format!(
                "metric = {:?} is not a predefined metric of target tracking: use one of {} (a step policy alone \
                 cannot stand in for it: target tracking is always written)",
                self.metric,
                PREDEFINED_METRICS.join(", ")
            ));
        }
        if self.metric == "ALBRequestCountPerTarget" {
            let label = self.resource_label.as_deref().unwrap_or_default();
            // app/<load-balancer>/<id>/targetgroup/<target-group>/<id>
            let parts: Vec<&str> = label.split('/').collect();
            if parts.len() != 6 || parts[0] != "app" || parts[3] != "targetgroup" || parts.iter().any(|p| p.is_empty())
            {
                out.push(format!(
                    "metric = \"ALBRequestCountPerTarget\" needs reactive.resource_label, the target group's label \
                     \"app/<load-balancer>/<id>/targetgroup/<target-group>/<id>\"{}",
                    if self.resource_label.is_some() { format!(", not {label:?}") } else { String::new() }
                ));
            }
        } else if self.resource_label.is_some() {
            out.push(format!(
                "resource_label names an ALB target group, for metric = \"ALBRequestCountPerTarget\" only; \
                 remove it for metric = {:?}",
                self.metric
            ));
        }
        if out.is_empty() {
            out.extend(self.step.problems(&self.metric, self.resource_label.as_deref(), target));
        }
        out
    }
}

/// What the planner does with a forecast that did no better than the flat median of the last day
/// in its own backtests ([`skill`] at 1 or above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unskilled {
    /// Plan from it as from any other.
    #[default]
    Trust,
    /// Size its floors for the median (P50) instead of the configured quantile: its interval's
    /// upper end is a guess about a shape it has not shown it knows.
    Median,
    /// Write no floors: the reactive policy alone.
    None,
}

/// What the planner does when the forecast needs more instances than the group's `MaxSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxBreach {
    /// Floors stop at `MaxSize`; the plan says how many steps were cut and by how much.
    #[default]
    Clamp,
    /// Floors may go up to `MaxSize + buffer`: the actions of such a peak also set `MaxSize` to
    /// `MaxSize + buffer`, and the first action after it puts `MaxSize` back.
    Raise {
        /// How far above the configured `MaxSize` the group may go (at least 1).
        buffer: u32,
    },
}

impl MaxBreach {
    /// What lets the floors hold more than `MaxSize` allows them now, for the notes that say a
    /// load needs more.
    pub fn remedy(self) -> &'static str {
        match self {
            MaxBreach::Clamp => "raise max_size, or set max_breach = \"raise\" with a max_breach_buffer",
            MaxBreach::Raise { .. } => "raise max_size or max_breach_buffer",
        }
    }
}

/// On which clock a zoned group's forecast learnt the daily cycle (its `daily_clock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CycleClock {
    /// On UTC (`daily_clock = "utc"`, or a group without `time_zone`).
    #[default]
    Utc,
    /// On the zone's clock, where a daylight-saving change does not move it (`"local"`).
    Local,
    /// On the zone's clock where its history showed the load follows it, else on UTC (`"auto"`):
    /// the forecast's model id says which it took (`local:…`).
    ByData,
}

/// Everything the planner needs to know about one group, resolved from configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSettings {
    /// The group's configured `[min, max]`; floors are clamped into it.
    pub bounds: CapacityBounds,
    /// Load (in the forecast metric's units per step) one instance serves at 100 % utilization.
    pub capacity_per_instance: f64,
    /// Utilization the floors are sized for, in (0, 1].
    pub target_utilization: f64,
    /// The forecast quantile the floors are sized for (0.9 = P90).
    pub quantile: f64,
    /// Utilization the quantile's load may reach, in `[target_utilization, 1]`; the point
    /// forecast is still sized at the target. `None` sizes the quantile at the target
    /// (`ceil(q / (capacity × target))`). With `Some(1.0)`, a step's floor is the larger of "the
    /// point forecast at the target" and "the P`q` load at full capacity": the floor expects to run
    /// at the target and is under-provisioned only when the load is above its P`q`.
    pub quantile_utilization: Option<f64>,
    /// With `quantile_utilization` above the target: whether the floor also holds the point
    /// forecast at the target (`true`), or leaves the expected load to the reactive policy and
    /// only guarantees that the P`q` load fits at `quantile_utilization` (`false`). Target
    /// tracking keeps the expected load at the target above such a floor as it does without one;
    /// the floor then binds only where the forecast sees a rise faster than it can follow.
    pub point_at_target: bool,
    /// What a forecast that did no better than the flat median of the last day in its own
    /// backtests (see [`skill`]) does.
    pub unskilled: Unskilled,
    /// Extra capacity on top, as a fraction (0.1 = 10 %).
    pub headroom: f64,
    /// How long before the demand its capacity must be in place (boot + warm-up + buffer).
    pub lead_time: Duration,
    /// A floor that steps down must stay down at least this long, else the dip is filled.
    pub min_hold: Duration,
    /// Floors sized for the mean of the forecast's load over blocks of this length (from the
    /// forecast's start, as AWS's predictive scaling sizes each hour for its mean load), rather
    /// than step by step: a peak shorter than a block is left to the reactive policy. `None`:
    /// step by step.
    pub floor_mean: Option<Duration>,
    /// At most this many scheduled actions per group (≤ 125, the Auto Scaling limit).
    pub max_actions: usize,
    /// The reactive fallback policy.
    pub reactive: ReactiveSettings,
    /// Clamp floors to `MaxSize`, or raise `MaxSize` for the peak.
    pub max_breach: MaxBreach,
    /// Guardrail: no action raises the floor by more than this many instances over the action
    /// before it. The planner ramps up earlier instead (see [`plan_group`]).
    pub max_step_up: Option<u32>,
    /// Time zone written with every action (Auto Scaling's `TimeZone`); `None` is UTC.
    pub time_zone: Option<Tz>,
    /// On which clock the forecast learnt the daily cycle, for the plan's note on a change of
    /// `time_zone`'s offset.
    pub daily_clock: CycleClock,
    /// How far back the history the forecast learnt from reaches (`[forecast] train_days`): the
    /// plan's note on a daylight-saving change in it looks that far back.
    pub history: Duration,
    /// The instances the group runs as it is planned (its `MinSize` or, when higher, its desired
    /// capacity), where known, and when that was read (the wall clock: a nightly run plans
    /// minutes after its `now`). With `max_step_up`, the first floors' rise over it is ramped from
    /// then on ([`plan_group`]).
    pub running: Option<(u32, DateTime<Utc>)>,
}

impl PlanSettings {
    /// The instances' boot and warm-up time the plan uses: measured from the group's launches
    /// where known, else `warmup_secs`.
    pub fn warmup(&self) -> Warmup {
        self.reactive
            .measured
            .clone()
            .unwrap_or_else(|| Warmup { secs: self.reactive.warmup_secs, why: "configured warmup_secs".into() })
    }

    /// How long before the demand a floor's action runs: `lead_time`, or the warm-up where that
    /// is longer (instances launched at the action serve only after it).
    pub fn lead(&self) -> Duration {
        self.lead_time.max(Duration::minutes(i64::from(self.warmup().secs.div_ceil(60))))
    }

    /// Instances that serve `load` at `utilization` with the headroom, whole (unbounded: a
    /// capacity in the wrong units makes this huge, which is how callers tell).
    pub fn instances(&self, load: f64, utilization: f64) -> f64 {
        // Less a hair before the ceiling: 700 × 1.1 / 70 is 11.000000000000002 in floating point,
        // and exact multiples must not buy a whole instance more.
        (self.instances_exact(load, utilization) * (1.0 - 1e-12)).ceil()
    }

    /// [`PlanSettings::instances`] before rounding up: the share of instances `load` needs.
    pub fn instances_exact(&self, load: f64, utilization: f64) -> f64 {
        let per = (self.capacity_per_instance * utilization).max(f64::MIN_POSITIVE);
        load.max(0.0) * (1.0 + self.headroom.max(0.0)) / per
    }

    /// The highest floor the plan may set: `MaxSize`, plus the buffer with [`MaxBreach::Raise`].
    pub fn ceiling(&self) -> u32 {
        match self.max_breach {
            MaxBreach::Clamp => self.bounds.max(),
            MaxBreach::Raise { buffer } => self.bounds.max().saturating_add(buffer),
        }
    }
}

impl Default for PlanSettings {
    fn default() -> Self {
        Self {
            bounds: CapacityBounds::new(1, 10).unwrap_or_else(|_| unreachable!()),
            capacity_per_instance: 1.0,
            target_utilization: 0.7,
            quantile: 0.9,
            quantile_utilization: None,
            point_at_target: true,
            unskilled: Unskilled::Trust,
            headroom: 0.0,
            lead_time: Duration::minutes(10),
            min_hold: Duration::hours(1),
            floor_mean: None,
            max_actions: 48,
            reactive: ReactiveSettings::default(),
            max_breach: MaxBreach::Clamp,
            max_step_up: None,
            time_zone: None,
            daily_clock: CycleClock::Utc,
            history: Duration::days(28),
            running: None,
        }
    }
}

/// A run of steps with one floor.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    start: usize,
    len: usize,
    level: u32,
}

fn segments(levels: &[u32]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for (i, &l) in levels.iter().enumerate() {
        match out.last_mut() {
            Some(s) if s.level == l => s.len += 1,
            _ => out.push(Segment { start: i, len: 1, level: l }),
        }
    }
    out
}

fn coalesce(segs: &mut Vec<Segment>) {
    let mut out: Vec<Segment> = Vec::with_capacity(segs.len());
    for s in segs.drain(..) {
        match out.last_mut() {
            Some(p) if p.level == s.level => p.len += s.len,
            _ => out.push(s),
        }
    }
    *segs = out;
}

/// Merges the cheapest neighbouring pair of segments (fewest extra instance-steps when the lower
/// is raised to the higher) until at most `budget` are left.
fn merge_to(segs: &mut Vec<Segment>, budget: usize) {
    while segs.len() > budget.max(1) {
        let Some(k) = (0..segs.len() - 1).min_by_key(|&k| {
            let (a, b) = (segs[k], segs[k + 1]);
            let lower = if a.level < b.level { a } else { b };
            u64::from(a.level.abs_diff(b.level)) * lower.len as u64
        }) else {
            break;
        };
        let level = segs[k].level.max(segs[k + 1].level);
        segs[k].level = level;
        segs[k + 1].level = level;
        coalesce(segs);
    }
}

/// The per-step levels of `segs`.
fn expand(segs: &[Segment]) -> Vec<u32> {
    segs.iter().flat_map(|s| std::iter::repeat_n(s.level, s.len)).collect()
}

/// Guardrail `max_step_up`: a rise of more than `up` instances from one step to the next is
/// ramped, each step before it at most `up` below the next, so capacity arrives in stages and
/// still in time. Returns how many steps were raised.
fn ramp(levels: &mut [u32], up: u32) -> usize {
    let mut raised = 0;
    for i in (1..levels.len()).rev() {
        let need = levels[i].saturating_sub(up);
        if levels[i - 1] < need {
            levels[i - 1] = need;
            raised += 1;
        }
    }
    raised
}

impl PlanSettings {
    /// How the floors are sized (`required`), for the plan's summary.
    pub fn sizing(&self) -> prescale_core::Sizing {
        let raised = self.quantile_utilization.filter(|u| *u > self.target_utilization).map(|u| u.min(1.0));
        prescale_core::Sizing {
            capacity_per_instance: self.capacity_per_instance,
            quantile_utilization: raised.unwrap_or(self.target_utilization),
            point_utilization: raised.filter(|_| self.point_at_target).map(|_| self.target_utilization),
            headroom: self.headroom.max(0.0),
        }
    }
}

/// Instances needed per step for the forecast quantile (unclamped), as the plan sizes its floors;
/// see [`PlanSettings::quantile_utilization`].
pub fn required(forecast: &Forecast, s: &PlanSettings) -> Vec<u32> {
    let need = |load: f64, utilization: f64| {
        let n = s.instances(load, utilization);
        if n.is_finite() { n.min(f64::from(u32::MAX)) as u32 } else { u32::MAX }
    };
    let q = forecast.quantile(s.quantile);
    match s.quantile_utilization.filter(|u| *u > s.target_utilization) {
        None => q.iter().map(|v| need(*v, s.target_utilization)).collect(),
        Some(u) if !s.point_at_target => q.iter().map(|v| need(*v, u.min(1.0))).collect(),
        Some(u) => q
            .iter()
            .zip(&forecast.point)
            .map(|(v, p)| need(*v, u.min(1.0)).max(need(*p, s.target_utilization)))
            .collect(),
    }
}

/// [`required`] for the mean load of each block of `block` steps from the forecast's start (the
/// quantile's and the point's alike), each step of a block its block's.
fn required_by_blocks(forecast: &Forecast, s: &PlanSettings, block: usize) -> Vec<u32> {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let means = |v: &[f64]| -> Vec<f64> {
        v.chunks(block.max(1)).flat_map(|c| std::iter::repeat_n(mean(c), c.len())).collect()
    };
    // A quantile is interpolated between the bounds with the same weights at every step, so the
    // blocks' means of the bounds give the blocks' means of the quantile.
    let mut blocked = forecast.clone();
    blocked.point = means(&forecast.point);
    for iv in &mut blocked.intervals {
        iv.lower = means(&iv.lower);
        iv.upper = means(&iv.upper);
    }
    required(&blocked, s)
}

/// How the forecast did in its own backtests against the engine's reference candidate, the flat
/// median of the last day: the weighted mean MASE of the candidates that make it up over the
/// reference's. Below 1 the forecast's shape carried information the level alone did not; at 1 or
/// above it did not. `None` when the forecast carries no scores (a single model fitted without
/// backtests) or no reference among them. Forecasts stored before the reference was flagged name
/// it `median(…)`.
pub fn skill(f: &Forecast) -> Option<f64> {
    let flagged = f.scores.iter().any(|c| c.reference);
    let flat = f
        .scores
        .iter()
        .filter(|c| c.mase.is_finite())
        .filter(|c| if flagged { c.reference } else { c.model.starts_with("median(") })
        .map(|c| c.mase)
        .next()?;
    f.weighted_mase().filter(|_| flat > 0.0).map(|m| m / flat)
}

/// Makes the plan for one group. With no forecast (none made, or not trusted) the plan holds no
/// floors, only one action that puts `MinSize` back at once, and relies on the reactive policy
/// alone; every choice is recorded in
/// [`GroupPlan::decisions`].
pub fn plan_group(
    group: &str,
    environment: &str,
    forecast: Option<&Forecast>,
    s: &PlanSettings,
    now: DateTime<Utc>,
) -> GroupPlan {
    let warmup = s.warmup();
    let (policies, alarms, mut decisions) = reactive(group, &s.reactive, &warmup);
    let mut decide = |kind: DecisionKind, what: String, why: String| decisions.push(PlanDecision::new(kind, what, why));
    let lead = s.lead();
    if lead > s.lead_time {
        decide(
            DecisionKind::Note,
            format!(
                "floors in place {} min ahead of demand, not lead_time_mins = {}",
                lead.num_minutes(),
                s.lead_time.num_minutes()
            ),
            format!(
                "the instances take {} s to boot and warm up ({}): an action {} min ahead would have them serve after \
                 the demand came; raise [plan] lead_time_mins to at least the warm-up",
                warmup.secs,
                warmup.why,
                s.lead_time.num_minutes()
            ),
        );
    }
    let skill_ratio = forecast.and_then(skill);
    let no_skill = skill_ratio.is_some_and(|r| r >= 1.0);
    let unskilled = no_skill && s.unskilled == Unskilled::None;
    let Some(f) = forecast.filter(|f| !f.is_empty() && !unskilled) else {
        let why = match skill_ratio.filter(|_| unskilled) {
            Some(r) => format!(
                "the forecast did no better than the flat median of the last day in its own backtests (MASE \
                 {r:.2} × the median's): floors from it would hold a level that target tracking follows as well; the \
                 reactive policy alone scales it"
            ),
            None => "no forecast to trust for this group: the reactive policy alone scales it".into(),
        };
        decide(DecisionKind::NoFloors, "no scheduled floors".into(), why);
        // An earlier plan's floor that already started stays in force until an action lowers it,
        // and replacing that plan removes its closing action: put MinSize back now.
        let earliest = (now + Duration::minutes(1)).duration_round_up(Duration::minutes(1)).unwrap_or(now);
        decide(
            DecisionKind::FloorBack,
            format!("floor back to MinSize {} at {}", s.bounds.min(), local(earliest, s.time_zone)),
            "so that a floor an earlier plan may have raised does not stay up without a forecast behind it".into(),
        );
        let mut back = floor_action(earliest, s.bounds.min(), s.time_zone);
        if s.ceiling() > s.bounds.max() {
            // A MaxSize an earlier plan raised goes back too (see below).
            back.max_size = Some(s.bounds.max());
        }
        return GroupPlan {
            group: group.into(),
            environment: environment.into(),
            bounds: s.bounds,
            raised_max: None,
            forecast: None,
            required: Vec::new(),
            scheduled_actions: vec![back],
            policies,
            alarms,
            decisions,
            events_digest: None,
            events: Vec::new(),
        };
    };
    let step = f.step_secs.max(1);
    let median;
    let s = match skill_ratio {
        Some(r) if no_skill && s.unskilled == Unskilled::Median && s.quantile > 0.5 => {
            decide(
                DecisionKind::Note,
                "floors sized for the median (P50)".into(),
                format!(
                    "the forecast did no better than the flat median of the last day in its own backtests (MASE {r:.2} \
                     × the median's): its P{:.0} is a guess about a shape it has not shown it knows",
                    s.quantile * 100.0
                ),
            );
            median = PlanSettings { quantile: 0.5, ..s.clone() };
            &median
        }
        _ => s,
    };
    let raw_required = required(f, s);
    let (max, ceiling) = (s.bounds.max(), s.ceiling());
    let sized = match s.floor_mean {
        Some(block) if block.num_seconds() > step => {
            decide(
                DecisionKind::Note,
                format!("floors sized for each {} min's mean load", block.num_minutes()),
                "[plan] floor_mean_mins: a peak of the forecast shorter than that is left to the reactive policy"
                    .into(),
            );
            required_by_blocks(f, s, (block.num_seconds() / step) as usize)
        }
        _ => raw_required.clone(),
    };
    let clamped: Vec<u32> = sized.iter().map(|r| (*r).clamp(s.bounds.min(), ceiling)).collect();
    let peak_need = raw_required.iter().max().copied().unwrap_or(0);
    let pct = s.quantile * 100.0;
    let above_max = raw_required.iter().filter(|r| **r > max).count();
    let above_ceiling = raw_required.iter().filter(|r| **r > ceiling).count();
    // When: the first and the last of the steps above `limit`, for an operator to check.
    let when = |limit: u32| {
        let first = raw_required.iter().position(|r| *r > limit)?;
        let last = raw_required.iter().rposition(|r| *r > limit)?;
        let (a, b) = (f.ts(first), f.ts(last));
        let to = if a.date_naive() == b.date_naive() { "%H:%M" } else { "%Y-%m-%d %H:%M" };
        Some(format!(", from {} to {} UTC", a.format("%Y-%m-%d %H:%M"), b.format(to)))
    };
    match s.max_breach {
        MaxBreach::Clamp if above_max > 0 => decide(
            DecisionKind::Clamped,
            format!("clamped {above_max} steps to MaxSize {max}"),
            format!(
                "the P{pct:.0} forecast needs up to {peak_need} instances{}; {}, to plan for it",
                when(max).unwrap_or_default(),
                MaxBreach::Clamp.remedy()
            ),
        ),
        MaxBreach::Raise { buffer } if above_max > 0 => {
            decide(
                DecisionKind::MaxRaised,
                format!("MaxSize raised from {max} to {ceiling} for the peak, and put back to {max} after it"),
                format!(
                    "the P{pct:.0} forecast needs up to {peak_need} instances for {above_max} steps, above max_size \
                     {max}; max_breach = \"raise\" allows {buffer} more"
                ),
            );
            if above_ceiling > 0 {
                decide(
                    DecisionKind::Clamped,
                    format!("clamped {above_ceiling} steps to {ceiling} (max_size + max_breach_buffer)"),
                    format!(
                        "the P{pct:.0} forecast needs up to {peak_need} instances{}; raise max_breach_buffer to plan \
                         for it",
                        when(ceiling).unwrap_or_default()
                    ),
                );
            }
        }
        _ => {}
    }
    // Lead: the floor at step i covers the demand of steps i ..= i + lead, so capacity is in place
    // `lead_time` before the demand it serves.
    let lead_steps = (lead.num_seconds().max(0) + step - 1) / step;
    let lead_steps = lead_steps as usize;
    // What that is in minutes: the lead rounded up to whole steps of the forecast.
    let ahead_mins = lead_steps as i64 * step / 60;
    let n = clamped.len();
    let mut floors: Vec<u32> =
        (0..n).map(|i| clamped[i..(i + lead_steps + 1).min(n)].iter().copied().max().unwrap_or(0)).collect();
    // Guardrail: a rise bigger than max_step_up is ramped, one step of the grid earlier per
    // max_step_up instances, so capacity arrives in stages and still in time.
    let step_up = s.max_step_up.map(|n| n.max(1));
    let mut ramped = step_up.map_or(0, |up| ramp(&mut floors, up));
    let mut segs = segments(&floors);
    // Hysteresis: a dip shorter than min_hold between two higher floors is filled, so the floor
    // never steps down and up again within the hold time.
    let hold_steps = (s.min_hold.num_seconds().max(0) / step) as usize;
    let mut filled = 0;
    loop {
        let valley = (1..segs.len().saturating_sub(1)).find(|&k| {
            segs[k].len < hold_steps && segs[k].level < segs[k - 1].level && segs[k].level < segs[k + 1].level
        });
        let Some(k) = valley else { break };
        segs[k].level = segs[k - 1].level.min(segs[k + 1].level);
        filled += 1;
        coalesce(&mut segs);
    }
    if filled > 0 {
        decide(
            DecisionKind::Note,
            format!("filled {filled} short dip{}", if filled == 1 { "" } else { "s" }),
            format!("a floor only steps down when it can stay down for {} min", s.min_hold.num_minutes()),
        );
    }
    // Limits: merge the cheapest neighbouring pair (fewest extra instance-steps when the lower
    // segment is raised to the higher) until the schedule, plus its closing action, fits.
    // Merging raises the lower of two neighbours, which can open a rise above max_step_up again:
    // that rise is ramped step by step just before it, as above (not by raising the whole
    // segment before it, hours of capacity for a rise at its end), and where the ramp's actions
    // no longer fit, the merge runs again to fewer segments.
    let budget = s.max_actions.clamp(2, MAX_ACTIONS_PER_GROUP) - 1;
    let before = segs.len();
    let cost = |v: &[Segment]| v.iter().map(|s| u64::from(s.level) * s.len as u64).sum::<u64>();
    let unmerged_cost = cost(&segs);
    // The schedule merged to `budget` segments, its rises ramped under max_step_up, and how many
    // ramp steps that took.
    let fit = |budget: usize| -> (Vec<Segment>, usize) {
        let mut merged = segs.clone();
        merge_to(&mut merged, budget);
        let Some(up) = step_up else { return (merged, 0) };
        // Where the ramps cannot all fit (more rises than actions to ramp them), raising the
        // segments before a rise is what is left; of the two, the one with fewer instance-steps.
        let mut coarse = merged;
        let mut levels: Vec<u32> = coarse.iter().map(|s| s.level).collect();
        let coarse_ramped = ramp(&mut levels, up);
        for (seg, level) in coarse.iter_mut().zip(levels) {
            seg.level = level;
        }
        coalesce(&mut coarse);
        // Fewer merged segments until their ramps fit too; one segment always does. (Where
        // the merge opened no rise above the limit there is nothing to ramp.)
        let mut fit = budget;
        let fine = if coarse_ramped == 0 {
            None
        } else {
            loop {
                let mut m = segs.clone();
                merge_to(&mut m, fit);
                let mut levels = expand(&m);
                let k = ramp(&mut levels, up);
                let r = segments(&levels);
                if r.len() <= budget || fit <= 1 {
                    break Some((r, k)).filter(|(r, _)| r.len() <= budget);
                }
                fit = fit.saturating_sub(r.len() - budget).max(1);
            }
        };
        match fine {
            Some((f, k)) if cost(&f) <= cost(&coarse) => (f, k),
            _ => (coarse, coarse_ramped),
        }
    };
    let (mut chosen, k) = fit(budget);
    ramped += k;
    // The first floor's rise over what the group runs as it is planned: no ramp can start before
    // now, so above max_step_up it rises from now on, by max_step_up a grid step, and the floors
    // it holds back come that much later. Where those steps do not fit in the actions left, the
    // rest of the schedule is merged to fewer; where they never fit, the rise stays (`apply`
    // says it).
    let earliest = (now + Duration::minutes(1)).duration_round_up(Duration::minutes(1)).unwrap_or(now);
    let mut ramped_in = None;
    if let (Some(up), Some((run, read_at))) = (step_up, s.running) {
        // The ramp starts at the first minute a write after the read can set (`apply` moves the
        // actions already due there, as one). The first slot at or after it; the slots before
        // it are that first action's. Where that action comes before the slot (less than a grid
        // step before it), the slot holds the same step: stages a grid step apart, not a first
        // one a minute before the second.
        let anchor = crate::diff::due_before(read_at).max(earliest);
        let i0 = (0..n).find(|&i| f.ts(i) >= anchor).unwrap_or(n);
        let cap = |i: usize| {
            let steps = if i < i0 { 1 } else { i - i0 + 1 };
            run.saturating_add(up.saturating_mul(u32::try_from(steps).unwrap_or(u32::MAX))).max(s.bounds.min())
        };
        let over = |levels: &[u32], i: usize| levels[i].saturating_sub(cap(i));
        let first = expand(&chosen);
        if (0..first.len()).any(|i| over(&first, i) > 0) {
            let (unramped, unramped_k) = (chosen.clone(), ramped);
            let mut room = budget;
            loop {
                let levels = expand(&chosen);
                let c = segments(&levels.iter().enumerate().map(|(i, l)| (*l).min(cap(i))).collect::<Vec<_>>());
                if c.len() <= budget {
                    // The floor held back most, and where the ramp meets the floors planned.
                    let over = |i: usize| over(&levels, i);
                    let worst = (0..n).max_by_key(|&i| (over(i), std::cmp::Reverse(i))).unwrap_or(0);
                    let met = (0..n).rev().find(|&i| over(i) > 0).map_or(n, |i| i + 1);
                    ramped_in = Some((levels[worst], worst, met));
                    chosen = c;
                    break;
                }
                if room <= 1 {
                    // The steps never fit: the schedule as it was, its first rise said by `apply`.
                    (chosen, ramped) = (unramped, unramped_k);
                    break;
                }
                room = room.saturating_sub(c.len() - budget).max(1);
                let (again, k) = fit(room);
                chosen = again;
                ramped = ramped.max(k);
            }
        }
    }
    segs = chosen;
    if ramped > 0 {
        decide(
            DecisionKind::Note,
            format!("ramped floor rises in steps of at most {} instances", step_up.unwrap_or(0)),
            format!(
                "guardrail max_step_up = {}: capacity rises earlier, in stages, instead of in one jump",
                step_up.unwrap_or(0)
            ),
        );
    }
    if segs.len() < before {
        // What merging costs: the floors raised over the unmerged schedule's, in instance-hours.
        let extra = cost(&segs).saturating_sub(unmerged_cost) as f64 * step as f64 / 3600.0;
        let all = before + 1;
        decide(
            DecisionKind::Note,
            format!("merged {before} floor changes into {} (+{extra:.0} instance-hours)", segs.len()),
            format!(
                "at most {} scheduled actions per group (Auto Scaling allows {MAX_ACTIONS_PER_GROUP}); {}",
                budget + 1,
                if all <= MAX_ACTIONS_PER_GROUP {
                    format!("[plan] max_actions = {all} keeps every change")
                } else {
                    "the floors that differ least were joined".to_string()
                }
            ),
        );
    }
    if let (Some((floor, at, met)), Some((run, _)), Some(up)) = (ramped_in, s.running, step_up) {
        decide(
            DecisionKind::Note,
            format!(
                "first floors ramped up from the {run} instances the group runs, by {up} a step, to meet the plan's \
                 at {}",
                local(f.ts(met).max(earliest), s.time_zone)
            ),
            format!(
                "guardrail max_step_up = {up}: the floor of {floor} at {} rises from the {run} instances the group runs \
                 when planned (MinSize or desired capacity) faster than that, and no ramp can start before now",
                local(f.ts(at).max(earliest), s.time_zone)
            ),
        );
    }
    // Actions: Auto Scaling refuses start times in the past, so a floor already due starts at the
    // next whole minute after `now`; `earliest` (above).
    let mut actions: Vec<ScheduledAction> = Vec::new();
    for seg in &segs {
        let at = f.ts(seg.start).max(earliest);
        if let Some(last) = actions.last_mut().filter(|a| a.start_time >= at) {
            last.min_size = Some(seg.level);
            continue;
        }
        actions.push(floor_action(at, seg.level, s.time_zone));
    }
    // The forecast's end, or a minute after the last action where it ends sooner (a forecast
    // that ends within the minute still gets its floor back).
    let end = match actions.last() {
        Some(last) if f.ts(n) <= last.start_time => last.start_time + Duration::minutes(1),
        _ => f.ts(n).max(earliest),
    };
    if actions.last().and_then(|a| a.min_size) != Some(s.bounds.min()) {
        actions.push(floor_action(end, s.bounds.min(), s.time_zone));
        decide(
            DecisionKind::FloorBack,
            format!("floor back to MinSize {} at {}", s.bounds.min(), local(end, s.time_zone)),
            "the forecast ends there; if the next nightly run does not come, the group does not stay scaled up".into(),
        );
    }
    // Auto Scaling refuses MinSize above MaxSize, so every action of a peak above MaxSize carries
    // the raised MaxSize, and the first one after it carries the configured MaxSize again.
    let mut raised = false;
    for a in &mut actions {
        if a.min_size.unwrap_or(0) > max {
            a.max_size = Some(ceiling);
            raised = true;
        } else if raised {
            a.max_size = Some(max);
            raised = false;
        }
    }
    // An earlier plan may have raised MaxSize for a peak this one no longer sees (a lower
    // forecast, an event removed): replacing that plan deletes its pending restoring action. So
    // where raising is allowed, a plan that does not start raised sets the configured MaxSize
    // with its first action; where the group already has it, that action changes nothing.
    if ceiling > max
        && let Some(first) = actions.first_mut().filter(|a| a.max_size.is_none())
    {
        first.max_size = Some(max);
        decide(
            DecisionKind::Note,
            format!("MaxSize {max} with the first action ({})", local(first.start_time, s.time_zone)),
            "max_breach = \"raise\": a MaxSize an earlier plan raised for a peak is put back, even where this plan \
             raises none"
                .into(),
        );
    }
    let raised_max = actions.iter().any(|a| a.max_size == Some(ceiling) && ceiling > max).then_some(ceiling);
    if let Some(tz) = s.time_zone {
        decide(
            DecisionKind::Note,
            format!("actions written with TimeZone {}", tz.name()),
            "StartTime stays the UTC instant (Auto Scaling takes it in UTC only); the zone is how the console \
             shows it"
                .into(),
        );
        // The forecast learns the daily cycle on the UTC clock (unless made on the local one):
        // after a change of the zone's offset, load that follows the local clock comes an hour off
        // the days before it.
        let on_local = f.model.starts_with(prescale_core::ON_LOCAL_CLOCK);
        // Covering both clocks (`EitherClock`, where the history cannot tell which one the load follows).
        let on_both = f.model.starts_with(prescale_core::ON_EITHER_CLOCK);
        if s.daily_clock != CycleClock::Local
            && let Some(change) = offset_change(tz, f.start - s.history, f.start)
        {
            let days = s.history.num_days();
            let what = format!(
                "the history the forecast learnt from ({days} day{}) crosses a daylight-saving change in {} at \
                 {change}",
                if days == 1 { "" } else { "s" },
                tz.name()
            );
            let by_data = s.daily_clock == CycleClock::ByData;
            let why = if by_data && on_both {
                format!(
                    "the history's last week could not tell whether the load follows UTC or {}'s clock (under two \
                     weeks of history, no weekday since the change, or the two forecast it alike; daily_clock = \
                     \"auto\"): the forecast covers both, its intervals from the lower of the two forecasts' bounds \
                     to the higher, so the floors rise with the earlier clock and fall with the later (daily_clock = \
                     \"local\" or \"utc\" on the group settles it)",
                    tz.name()
                )
            } else if by_data && on_local {
                format!(
                    "the forecast learnt the daily cycle on {}'s clock: fitted without the history's last week, it \
                     forecast that week clearly nearer than on UTC, so the load follows local clocks (daily_clock = \
                     \"auto\")",
                    tz.name()
                )
            } else if by_data && !step_follows(tz, f.start - s.history, f.start, f.step_secs) {
                format!(
                    "the forecast learnt the daily cycle in UTC (daily_clock = \"auto\"): its step ({} min) cannot \
                     follow {}'s change of clock, so it stays on UTC, and where the load follows local clocks the \
                     floors after the change come off by the change; target tracking and the step policy cover the \
                     difference (a forecast whose step divides the change follows it)",
                    f.step_secs / 60,
                    tz.name()
                )
            } else if by_data {
                format!(
                    "the forecast learnt the daily cycle in UTC (daily_clock = \"auto\"): fitted without the \
                     history's last week, it forecast that week clearly nearer on UTC than on {}'s clock (or the fit \
                     on that clock failed: the forecast's warnings say so), so the load is taken to follow UTC; where \
                     it follows local clocks and the floors come an hour off, target tracking and the step policy \
                     cover the difference (daily_clock = \"local\" on the group always learns the cycle on its local \
                     clock)",
                    tz.name()
                )
            } else {
                "the forecast learns the daily cycle in UTC (daily_clock = \"utc\"): where the load follows local \
                 clocks (office hours), its rise comes an hour off the days before the change, and the profiles that \
                 look back weeks keep some of the old timing, so for some weeks the floors may be an hour late or \
                 early, or the forecast's backtests fail [trust] and no floors are planned; target tracking and the \
                 step policy cover the difference (daily_clock = \"auto\" or \"local\" on the group learns the \
                 cycle on its local clock)"
                    .to_string()
            };
            decide(DecisionKind::Note, what, why);
        }
        if let (Some(first), Some(last)) = (actions.first(), actions.last())
            && let Some(change) = offset_change(tz, first.start_time, last.start_time)
        {
            // What the forecast after the change follows: said here too, where the history's last
            // weeks cross no change (the night before it) and the note above is not made.
            let cycle = match s.daily_clock {
                _ if on_both => format!(
                    "; after it the forecast covers both UTC and {}'s clock, as the history cannot show which the load \
                     follows: the floors rise with the earlier and fall with the later (daily_clock = \"local\" or \
                     \"utc\" on the group settles it)",
                    tz.name()
                ),
                _ if on_local => format!("; the forecast follows {}'s clock across it", tz.name()),
                CycleClock::Local => String::new(),
                CycleClock::ByData if !step_follows(tz, first.start_time, last.start_time, f.step_secs) => format!(
                    "; the forecast's daily cycle stays on UTC across it: its step ({} min) cannot follow the clock's \
                     change",
                    f.step_secs / 60
                ),
                CycleClock::ByData => {
                    "; the forecast's daily cycle stays on UTC across it: the history shows the load follows UTC (or \
                     the fit on the local clock failed: the forecast's warnings say so)"
                        .into()
                }
                CycleClock::Utc => format!(
                    "; the forecast's daily cycle stays on UTC across it: for load that follows {}'s clock (office \
                     hours) the floors after it come an hour off (daily_clock = \"local\" on the group follows it)",
                    tz.name()
                ),
            };
            decide(
                DecisionKind::Note,
                format!("the schedule crosses a daylight-saving change in {} at {change}", tz.name()),
                format!(
                    "action times are UTC instants, so none moves, repeats or disappears with the local clock; names \
                     stay in UTC so the repeated local hour cannot collide{cycle}"
                ),
            );
        }
    }
    let peak_i = f.peak_step();
    let q = f.quantile(s.quantile);
    decide(DecisionKind::Floors, floors_summary(&actions), {
        // The capacity each instance is sized at, with the headroom that adds to every floor.
        let per = if s.headroom > 0.0 {
            format!("{} per instance, plus {:.0} % headroom", s.capacity_per_instance, s.headroom * 100.0)
        } else {
            format!("{} per instance", s.capacity_per_instance)
        };
        match s.quantile_utilization.filter(|u| *u > s.target_utilization) {
            None => format!(
                "sized for the P{:.0} forecast at {:.0} % of {per}, in place {ahead_mins} min ahead of demand",
                s.quantile * 100.0,
                s.target_utilization * 100.0,
            ),
            Some(u) if !s.point_at_target => format!(
                "sized for the P{:.0} forecast at {:.0} % of {per}, in place {ahead_mins} min ahead of demand; the \
                     expected load is left to target tracking",
                s.quantile * 100.0,
                u.min(1.0) * 100.0,
            ),
            Some(u) => format!(
                "sized for the point forecast at {:.0} % and the P{:.0} forecast at {:.0} % of {per}, in place \
                     {ahead_mins} min ahead of demand",
                s.target_utilization * 100.0,
                s.quantile * 100.0,
                u.min(1.0) * 100.0,
            ),
        }
    });
    GroupPlan {
        group: group.into(),
        environment: environment.into(),
        bounds: s.bounds,
        raised_max,
        forecast: Some(ForecastSummary {
            model: f.model.clone(),
            metric: String::new(),
            quantile: s.quantile,
            from: f.start,
            to: end,
            peak_point: f.point.get(peak_i).copied().unwrap_or(0.0),
            peak_at: f.ts(peak_i),
            peak_quantile: q.iter().copied().fold(0.0, f64::max),
            sizing: Some(s.sizing()),
            time_zone: s.time_zone.map(|z| z.name().to_string()),
        }),
        required: clamped,
        scheduled_actions: actions,
        policies,
        alarms,
        decisions,
        events_digest: None,
        events: Vec::new(),
    }
}

/// A floor action. Its name is made from the UTC instant, never the local time: in the hour a
/// zone repeats when daylight saving ends, two actions have the same local time.
pub(crate) fn floor_action(at: DateTime<Utc>, level: u32, tz: Option<Tz>) -> ScheduledAction {
    let mut a = ScheduledAction::floor(format!("{OWNED_PREFIX}floor-{}", at.format("%Y%m%dT%H%MZ")), at, level);
    a.time_zone = tz.map(|z| z.name().to_string());
    a
}

/// The zone an action's times are shown in: its `TimeZone` where prescale knows the name (`None`
/// for UTC, and for a name chrono-tz does not know, which is shown as it is).
pub fn action_zone(a: &ScheduledAction) -> Option<Tz> {
    a.zone().and_then(|z| z.parse::<Tz>().ok())
}

/// `t` for people: UTC, or local time with its zone abbreviation and the UTC instant (with its
/// date where that is another day: `2026-04-15 08:50 +1030 (2026-04-14 22:20 UTC)`).
pub fn local(t: DateTime<Utc>, tz: Option<Tz>) -> String {
    match tz {
        None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        Some(z) => {
            let there = t.with_timezone(&z);
            let utc = if there.date_naive() == t.date_naive() { t.format("%H:%M") } else { t.format("%Y-%m-%d %H:%M") };
            format!("{} ({utc} UTC)", there.format("%Y-%m-%d %H:%M %Z"))
        }
    }
}

/// The first instant in `(from, to]` at which `tz`'s UTC offset changes, found by bisection
/// (offsets change at most a few times a year; a 48 h horizon holds at most one change).
fn offset_change(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<String> {
    let off = |t| offset_secs(tz, t);
    let (mut lo, mut hi) = latest_change_within(tz, from, to)?;
    while hi - lo > Duration::minutes(1) {
        let mid = lo + (hi - lo) / 2;
        if off(mid) == off(lo) { lo = mid } else { hi = mid }
    }
    let hi = hi.duration_trunc(Duration::minutes(1)).unwrap_or(hi);
    Some(format!(
        "{} ({} to {})",
        hi.format("%Y-%m-%d %H:%M UTC"),
        lo.with_timezone(&tz).format("%Z"),
        hi.with_timezone(&tz).format("%Z")
    ))
}

/// Whether a forecast at `step_secs` can follow the change of `tz`'s offset between `from` and
/// `to` (the change is a whole number of its steps; Lord Howe's 30 minutes at an hourly step is
/// not): a forecast on the local clock is the UTC one moved by whole steps.
fn step_follows(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>, step_secs: i64) -> bool {
    latest_change_within(tz, from, to)
        .is_none_or(|(lo, hi)| step_secs <= 0 || (offset_secs(tz, hi) - offset_secs(tz, lo)) % step_secs == 0)
}

/// Seconds `tz`'s clock runs ahead of UTC at `t`.
fn offset_secs(tz: Tz, t: DateTime<Utc>) -> i64 {
    i64::from(t.with_timezone(&tz).offset().fix().local_minus_utc())
}

/// A fortnight within `from..to` at whose two ends `tz`'s offsets differ, the latest: a long
/// history (`train_days` of months) crosses both of a year's changes, and its two ends alone
/// would show no change.
fn latest_change_within(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let off = |t| offset_secs(tz, t);
    let mut hi = to;
    while hi > from {
        let lo = (hi - Duration::days(14)).max(from);
        if off(lo) != off(hi) {
            return Some((lo, hi));
        }
        hi = lo;
    }
    None
}

/// A short, stable id for a plan: its creation time and a hash of its content, so the same input
/// gives the same id and the audit trail can tell plans apart.
pub fn plan_id(created_at: DateTime<Utc>, content: &[u8]) -> String {
    format!("{}-{:08x}", created_at.format("%Y%m%dT%H%MZ"), fnv1a(content) as u32)
}

/// The hash a plan id carries of its content ([`plan_id`]), for naming content beside it.
pub fn content_hash(content: &[u8]) -> u32 {
    fnv1a(content) as u32
}

/// Whether `id` has the shape [`plan_id`] gives (`20261123T0000Z-38a8f025`): safe as a file name.
pub fn is_plan_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 23
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..13].iter().all(u8::is_ascii_digit)
        && &b[13..15] == b"Z-"
        && b[15..].iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// FNV-1a: stable across platforms and Rust versions, unlike std's DefaultHasher.
pub(crate) fn fnv1a(content: &[u8]) -> u64 {
    content.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// The plan's decision on its floors as written (merged, ramped, the closing one included), as the
/// diff shows them: `48 scheduled floors between 4 and 31 instances`.
pub(crate) fn floors_summary(actions: &[ScheduledAction]) -> String {
    let levels = || actions.iter().filter_map(|a| a.min_size);
    let (lo, hi) = (levels().min().unwrap_or(0), levels().max().unwrap_or(0));
    let n = actions.len();
    let floors = if n == 1 { "scheduled floor" } else { "scheduled floors" };
    if lo == hi {
        format!("{n} {floors} of {lo} instance{}", if lo == 1 { "" } else { "s" })
    } else {
        format!("{n} {floors} between {lo} and {hi} instances")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use prescale_core::{Interval, Level, PolicyKind};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_local_time_names_its_utc_day_where_that_is_another() {
        let t = Utc.with_ymd_and_hms(2026, 4, 14, 22, 20, 0).unwrap();
        assert_eq!(local(t, Some(chrono_tz::Australia::Lord_Howe)), "2026-04-15 08:50 +1030 (2026-04-14 22:20 UTC)");
        assert_eq!(local(t, Some(chrono_tz::Europe::Berlin)), "2026-04-15 00:20 CEST (2026-04-14 22:20 UTC)");
        assert_eq!(local(t, Some(chrono_tz::America::New_York)), "2026-04-14 18:20 EDT (22:20 UTC)");
        assert_eq!(local(t, None), "2026-04-14 22:20 UTC");
    }

    fn forecast(point: Vec<f64>, spread: f64) -> Forecast {
        let n = point.len();
        let iv = Interval {
            level: Level::new(0.8).unwrap(),
            lower: point.iter().map(|p| p - spread).collect(),
            upper: point.iter().map(|p| p + spread).collect(),
        };
        let _ = n;
        Forecast::new("test", t0(), 300, point, vec![iv]).unwrap()
    }

    fn settings(min: u32, max: u32) -> PlanSettings {
        PlanSettings {
            bounds: CapacityBounds::new(min, max).unwrap(),
            capacity_per_instance: 100.0,
            target_utilization: 1.0,
            ..PlanSettings::default()
        }
    }

    #[test]
    fn short_dips_are_filled_and_long_ones_kept() {
        // 1000 for an hour, 200 for 30 min, 1000 for an hour, 200 for 3 h.
        let mut p = vec![1000.0; 12];
        p.extend(vec![200.0; 6]);
        p.extend(vec![1000.0; 12]);
        p.extend(vec![200.0; 36]);
        let s = PlanSettings { quantile: 0.5, ..settings(1, 50) };
        let plan = plan_group("g", "prod", Some(&forecast(p, 0.0)), &s, t0());
        let levels: Vec<u32> = plan.scheduled_actions.iter().map(|a| a.min_size.unwrap()).collect();
        assert_eq!(levels, vec![10, 2, 1]);
        assert!(plan.decisions.iter().any(|d| d.what.contains("filled 1 short dip")));
    }

    #[test]
    fn the_quantile_may_use_the_full_capacity_while_the_point_stays_at_the_target() {
        // Point 1,000, P90 1,200 (the 80 % interval's upper end),
        // 100 per instance, target 0.5: the classic floor is ceil(1200 / 50) = 24; at full
        // capacity the P90 needs 12 and the point at the target 20, so the floor is 20.
        let f = forecast(vec![1000.0; 24], 200.0);
        let classic = PlanSettings { target_utilization: 0.5, ..settings(1, 50) };
        let split = PlanSettings { quantile_utilization: Some(1.0), ..classic.clone() };
        // The first action sets the floor over the horizon (the last returns to MinSize after it).
        let floors = |s: &PlanSettings| -> Vec<u32> {
            plan_group("g", "prod", Some(&f), s, t0()).scheduled_actions.iter().filter_map(|a| a.min_size).collect()
        };
        assert_eq!(floors(&classic), vec![24, 1]);
        assert_eq!(floors(&split), vec![20, 1]);
        // A wide interval: the P90 at full capacity binds (3,000 / 100 = 30 > 1,000 / 50 = 20).
        let wide = forecast(vec![1000.0; 24], 2000.0);
        let plan = plan_group("g", "prod", Some(&wide), &split, t0());
        assert_eq!(plan.scheduled_actions.iter().filter_map(|a| a.min_size).collect::<Vec<_>>(), vec![30, 1]);
        assert!(plan.decisions.iter().any(|d| d.why.contains("point forecast at 50 % and the P90 forecast at 100 %")));
        // Equal to the target, it is the classic formula.
        let same = PlanSettings { quantile_utilization: Some(0.5), ..classic.clone() };
        assert_eq!(floors(&same), floors(&classic));
    }

    #[test]
    fn leaving_the_point_to_tracking_sizes_the_quantile_alone_at_full_capacity() {
        // Point 1,000, P90 1,200, 100 per instance, target 0.5: with the point at the target the
        // floor is 20 (see above); left to target tracking, it is the P90 at full capacity, 12.
        let f = forecast(vec![1000.0; 24], 200.0);
        let s = PlanSettings {
            target_utilization: 0.5,
            quantile_utilization: Some(1.0),
            point_at_target: false,
            ..settings(1, 50)
        };
        let floors = |f: &Forecast| -> Vec<u32> {
            plan_group("g", "prod", Some(f), &s, t0()).scheduled_actions.iter().filter_map(|a| a.min_size).collect()
        };
        assert_eq!(floors(&f), vec![12, 1]);
        // A wide interval: 3,000 at full capacity, 30, as with the point at the target.
        assert_eq!(floors(&forecast(vec![1000.0; 24], 2000.0)), vec![30, 1]);
        // A rise the floor must lead: 1,000 for an hour, then 2,000 (P90 2,200: 22 instances),
        // in place by the lead time (10 min = 2 steps) before it.
        let mut p = vec![1000.0; 12];
        p.extend(vec![2000.0; 12]);
        let plan = plan_group("g", "prod", Some(&forecast(p, 200.0)), &s, t0());
        let at: Vec<(i64, u32)> =
            plan.scheduled_actions.iter().map(|a| ((a.start_time - t0()).num_minutes(), a.min_size.unwrap())).collect();
        assert_eq!(at, vec![(1, 12), (50, 22), (120, 1)]);
        assert!(plan.decisions.iter().any(|d| d.why.contains("expected load is left to target tracking")));
    }

    #[test]
    fn floors_sized_for_each_blocks_mean_leave_a_short_peak_to_the_reactive_policy() {
        // P90 1,200 for two hours at full capacity (12 instances), but 4,200 for one step (42).
        let mut p = vec![1000.0; 24];
        p[3] = 4000.0;
        let f = forecast(p, 200.0);
        let s = PlanSettings {
            target_utilization: 0.5,
            quantile_utilization: Some(1.0),
            point_at_target: false,
            ..settings(1, 50)
        };
        let at = |s: &PlanSettings| -> Vec<(i64, u32)> {
            let plan = plan_group("g", "prod", Some(&f), s, t0());
            plan.scheduled_actions.iter().map(|a| ((a.start_time - t0()).num_minutes(), a.min_size.unwrap())).collect()
        };
        assert_eq!(at(&s).iter().map(|a| a.1).max(), Some(42));
        // Each hour's mean: (11 × 1,200 + 4,200) / 12 = 1,450 → 15; then 1,200 → 12.
        let hourly = PlanSettings { floor_mean: Some(Duration::hours(1)), ..s.clone() };
        assert_eq!(at(&hourly), vec![(1, 15), (60, 12), (120, 1)]);
        let said = plan_group("g", "prod", Some(&f), &hourly, t0()).decisions;
        assert!(said.iter().any(|d| d.what == "floors sized for each 60 min's mean load"), "{said:?}");
        // A block no longer than the forecast's step is step by step.
        let fine = PlanSettings { floor_mean: Some(Duration::minutes(5)), ..s.clone() };
        assert_eq!(at(&fine), at(&s));
    }

    fn scored(scores: &[(&str, f64, f64)]) -> Forecast {
        let mut f = forecast(vec![1000.0; 24], 200.0);
        f.scores = scores
            .iter()
            .map(|(m, mase, w)| prescale_core::ModelScore {
                model: (*m).into(),
                mase: *mase,
                origins: 5,
                weight: *w,
                reference: *m == "median(1d)",
            })
            .collect();
        f
    }

    #[test]
    fn skill_is_the_weighted_mase_over_the_flat_median() {
        // (0.2 × 1.0 + 0.8 × 0.8) / 1.0
        let good = scored(&[("median(1d)", 1.0, 0.2), ("profile", 0.8, 0.8)]);
        assert!((skill(&good).unwrap() - 0.84).abs() < 1e-12);
        // A candidate without a backtest (NaN) counts for nothing.
        let nan = scored(&[("median(1d)", 2.0, 0.5), ("mstl", f64::NAN, 0.2), ("profile", 3.0, 0.3)]);
        assert!((skill(&nan).unwrap() - (0.5 * 2.0 + 0.3 * 3.0) / 0.8 / 2.0).abs() < 1e-12);
        assert_eq!(skill(&scored(&[])), None, "no backtests, no verdict");
        assert_eq!(skill(&scored(&[("profile", 0.8, 1.0)])), None, "no flat median to compare with");
        // The flag decides, not the name; a forecast stored before the flag falls back to the name.
        let mut renamed = scored(&[("median(1d)", 2.0, 0.5), ("median(3d)", 1.0, 0.5)]);
        renamed.scores[0].model = "flat".into();
        assert!((skill(&renamed).unwrap() - 0.75).abs() < 1e-12);
        renamed.scores.iter_mut().for_each(|c| c.reference = false);
        assert!((skill(&renamed).unwrap() - 1.5).abs() < 1e-12, "median(3d) by its name");
    }

    #[test]
    fn a_forecast_no_better_than_the_flat_median_writes_no_floors_or_median_ones_when_asked() {
        let s = PlanSettings { unskilled: Unskilled::None, ..settings(1, 50) };
        let floors = |f: &Forecast, s: &PlanSettings| plan_group("g", "prod", Some(f), s, t0()).scheduled_actions.len();
        let good = scored(&[("median(1d)", 1.0, 0.2), ("profile", 0.8, 0.8)]);
        assert_eq!(floors(&good, &s), 2);
        // (0.5 × 1.0 + 0.5 × 1.2) / 1.0 = 1.1: no better than the median.
        let flat = scored(&[("median(1d)", 1.0, 0.5), ("profile", 1.2, 0.5)]);
        let plan = plan_group("g", "prod", Some(&flat), &s, t0());
        assert_eq!(levels(&plan), vec![(Some(1), None)], "only MinSize back, at once");
        assert!(plan.forecast.is_none());
        assert_eq!(plan.policies.len(), 2, "the reactive policy stays");
        assert!(plan.decisions.iter().any(|d| d.why.contains("MASE 1.10 × the median's")), "{:#?}", plan.decisions);
        // Not weighed, or no scores to weigh: floors as before.
        assert_eq!(floors(&flat, &PlanSettings { unskilled: Unskilled::Trust, ..s.clone() }), 2);
        // Or sized for the median: point 1,000 at 100 per instance is 10 instances, not the P90's 12.
        let median =
            plan_group("g", "prod", Some(&flat), &PlanSettings { unskilled: Unskilled::Median, ..s.clone() }, t0());
        assert_eq!(levels(&median), vec![(Some(10), None), (Some(1), None)]);
        assert!(median.decisions.iter().any(|d| d.what == "floors sized for the median (P50)"));
        let good =
            plan_group("g", "prod", Some(&good), &PlanSettings { unskilled: Unskilled::Median, ..s.clone() }, t0());
        assert_eq!(levels(&good), vec![(Some(12), None), (Some(1), None)], "a skilled forecast keeps its P90");
        assert_eq!(floors(&scored(&[]), &s), 2);
    }

    #[test]
    fn no_forecast_means_reactive_only() {
        let plan = plan_group("g", "dev", None, &settings(1, 5), t0());
        // One action only: MinSize back at the next minute, so a floor an earlier plan raised
        // does not stay in force.
        assert_eq!(levels(&plan), vec![(Some(1), None)]);
        assert_eq!(plan.scheduled_actions[0].start_time, t0() + Duration::minutes(1));
        assert!(plan.decisions.iter().any(|d| d.what.starts_with("floor back to MinSize 1")));
        // Target tracking and the step policy out (target tracking scales in), with its alarm.
        assert_eq!(plan.policies.len(), 2);
        assert_eq!(plan.alarms.len(), 1);
        assert!(plan.alarms.iter().all(|a| plan.policies.iter().any(|p| p.name == a.policy)));
        assert!(plan.decisions.iter().any(|d| d.why.contains("reactive policy alone")));
        assert!(plan.decisions.iter().any(|d| d.what == "warm-up 300 s" && d.why == "configured warmup_secs"));
        let mut measured = settings(1, 5);
        measured.reactive.measured =
            Some(crate::Warmup { secs: 240, why: "P90 boot time of the group's last 12 launches".into() });
        let plan = plan_group("g", "dev", None, &measured, t0());
        assert!(plan.decisions.iter().any(|d| d.what == "warm-up 240 s" && d.why.contains("12 launches")));
        assert!(plan.policies.iter().all(|p| match &p.kind {
            PolicyKind::TargetTracking { estimated_instance_warmup_secs: w, .. } => *w == Some(240),
            PolicyKind::StepScaling { estimated_instance_warmup_secs: w, .. } =>
                p.name.ends_with("-in") || *w == Some(240),
            _ => false,
        }));
    }

    #[test]
    fn past_actions_move_to_the_next_minute() {
        let plan = plan_group(
            "g",
            "prod",
            Some(&forecast(vec![500.0; 24], 0.0)),
            &PlanSettings { quantile: 0.5, ..settings(1, 50) },
            t0() + Duration::seconds(90),
        );
        assert_eq!(plan.scheduled_actions[0].start_time, t0() + Duration::minutes(3));
    }

    fn levels(plan: &GroupPlan) -> Vec<(Option<u32>, Option<u32>)> {
        plan.scheduled_actions.iter().map(|a| (a.min_size, a.max_size)).collect()
    }

    #[test]
    fn above_max_is_clamped_by_default_and_raised_then_restored_when_asked() {
        // 2 h at 1,000, 1 h at 9,000 (90 instances at 100 each), 3 h at 1,000.
        let mut p = vec![1000.0; 24];
        p.extend(vec![9000.0; 12]);
        p.extend(vec![1000.0; 36]);
        let f = forecast(p, 0.0);
        let base = PlanSettings { quantile: 0.5, lead_time: Duration::zero(), ..settings(2, 60) };
        let clamp = plan_group("g", "prod", Some(&f), &base, t0());
        assert_eq!(levels(&clamp), vec![(Some(10), None), (Some(60), None), (Some(10), None), (Some(2), None)]);
        assert_eq!(clamp.raised_max, None);
        assert!(
            clamp.decisions.iter().any(|d| d.what == "clamped 12 steps to MaxSize 60"
                && d.why.contains("needs up to 90 instances, from 2026-01-05 02:00 to 02:55 UTC;")),
            "{:#?}",
            clamp.decisions
        );

        let raise = PlanSettings { max_breach: MaxBreach::Raise { buffer: 40 }, ..base.clone() };
        let plan = plan_group("g", "prod", Some(&f), &raise, t0());
        // The peak's action raises MaxSize with MinSize (Auto Scaling refuses min > max); the
        // next one restores it; the others leave MaxSize alone.
        // The first action also sets the configured MaxSize: an earlier plan may have raised it.
        assert_eq!(
            levels(&plan),
            vec![(Some(10), Some(60)), (Some(90), Some(100)), (Some(10), Some(60)), (Some(2), None)]
        );
        assert_eq!(plan.raised_max, Some(100));
        assert!(
            plan.decisions.iter().any(|d| d.what.contains("MaxSize raised from 60 to 100")),
            "{:#?}",
            plan.decisions
        );
        // A buffer too small for the peak clamps at max_size + buffer, and says so.
        let small = PlanSettings { max_breach: MaxBreach::Raise { buffer: 5 }, ..base };
        let plan = plan_group("g", "prod", Some(&f), &small, t0());
        assert_eq!(plan.scheduled_actions[1].min_size, Some(65));
        assert!(plan.decisions.iter().any(|d| d.what.contains("clamped 12 steps to 65")));
    }

    #[test]
    fn a_forecast_ending_within_the_minute_still_brings_the_floor_back() {
        let f = forecast(vec![1000.0; 12], 0.0);
        let s = PlanSettings { quantile: 0.5, ..settings(2, 60) };
        // Planned 30 s before the forecast ends: the floor starts at the first whole minute a
        // minute from now, and the action that puts MinSize back follows a minute later.
        let now = f.ts(12) - Duration::seconds(30);
        let plan = plan_group("g", "prod", Some(&f), &s, now);
        let at: Vec<i64> = plan.scheduled_actions.iter().map(|a| (a.start_time - f.ts(12)).num_seconds()).collect();
        assert_eq!((levels(&plan), at), (vec![(Some(10), None), (Some(2), None)], vec![60, 120]));
    }

    #[test]
    fn exact_multiples_buy_no_extra_instance() {
        // 700 × 1.1 / (100 × 0.7) is 11 exactly, 11.000000000000002 in floating point.
        let f = forecast(vec![700.0; 12], 0.0);
        let s = PlanSettings { quantile: 0.5, headroom: 0.1, target_utilization: 0.7, ..settings(1, 60) };
        let plan = plan_group("g", "prod", Some(&f), &s, t0());
        assert_eq!(plan.required, vec![11; 12]);
        // The decision names the headroom, without which 700 / 70 reads as 10 instances.
        assert!(plan.decisions.iter().any(|d| d.why.contains("at 70 % of 100 per instance, plus 10 % headroom")));
        // A flat forecast peaks where it begins, not at its last step.
        assert_eq!(plan.forecast.as_ref().map(|f| f.peak_at), Some(f.start));
        // The summary carries the sizing, so 11 can be checked from the plan alone.
        let sizing = prescale_core::Sizing {
            capacity_per_instance: 100.0,
            quantile_utilization: 0.7,
            point_utilization: None,
            headroom: 0.1,
        };
        assert_eq!(plan.forecast.as_ref().and_then(|f| f.sizing.clone()), Some(sizing));
    }

    #[test]
    fn floors_run_the_warm_up_ahead_where_it_is_longer_than_the_lead_time() {
        // Demand rises at 02:00 (step 24 of 5 minutes); instances need 20 minutes to serve.
        let mut p = vec![500.0; 24];
        p.extend(vec![2000.0; 24]);
        let f = forecast(p, 0.0);
        let mut s = PlanSettings { quantile: 0.5, lead_time: Duration::minutes(10), ..settings(2, 60) };
        let rise = |s: &PlanSettings| {
            let plan = plan_group("g", "prod", Some(&f), s, t0());
            let a = plan.scheduled_actions.iter().find(|a| a.min_size == Some(20)).unwrap().start_time;
            ((a - t0()).num_minutes(), plan.decisions)
        };
        assert_eq!(rise(&s).0, 110, "lead_time (10 min) covers the configured 300 s warm-up");
        s.reactive.warmup_secs = 1200;
        let (at, decisions) = rise(&s);
        assert_eq!(at, 100, "20 min ahead: in service when the demand comes");
        assert!(decisions.iter().any(|d| d.what == "floors in place 20 min ahead of demand, not lead_time_mins = 10"));
        s.reactive.measured = Some(crate::Warmup { secs: 1800, why: "P90 boot time".into() });
        assert_eq!(rise(&s).0, 90, "a measured warm-up counts as the configured one does");
    }

    #[test]
    fn a_plan_without_a_peak_above_max_size_puts_a_raised_max_size_back() {
        // Last night's plan raised MaxSize for a peak; tonight's forecast has none, and replacing
        // that plan deletes its restoring action. With raising allowed, tonight's first action
        // sets the configured MaxSize (a no-op where the group has it); with clamping, none does.
        let f = forecast(vec![1000.0; 48], 0.0);
        let clamp = PlanSettings { quantile: 0.5, lead_time: Duration::zero(), ..settings(2, 60) };
        let raise = PlanSettings { max_breach: MaxBreach::Raise { buffer: 40 }, ..clamp.clone() };
        let plan = plan_group("g", "prod", Some(&f), &raise, t0());
        assert_eq!(levels(&plan), vec![(Some(10), Some(60)), (Some(2), None)]);
        assert_eq!(plan.raised_max, None);
        assert!(plan.decisions.iter().any(|d| d.what.starts_with("MaxSize 60 with the first action")));
        assert_eq!(levels(&plan_group("g", "prod", Some(&f), &clamp, t0())), vec![(Some(10), None), (Some(2), None)]);
        // No forecast to trust: the one action that puts MinSize back puts MaxSize back too.
        assert_eq!(levels(&plan_group("g", "prod", None, &raise, t0())), vec![(Some(2), Some(60))]);
        assert_eq!(levels(&plan_group("g", "prod", None, &clamp, t0())), vec![(Some(2), None)]);
    }

    #[test]
    fn max_step_up_ramps_the_rise_earlier_instead_of_jumping() {
        let mut p = vec![200.0; 24];
        p.extend(vec![2000.0; 24]);
        let f = forecast(p, 0.0);
        let s =
            PlanSettings { quantile: 0.5, max_step_up: Some(5), lead_time: Duration::minutes(10), ..settings(2, 60) };
        let plan = plan_group("g", "prod", Some(&f), &s, t0());
        let floors: Vec<u32> = plan.scheduled_actions.iter().map(|a| a.min_size.unwrap()).collect();
        assert_eq!(floors, vec![2, 5, 10, 15, 20, 2]);
        // 20 is in place at 01:50, lead time before the demand at 02:00; the ramp is one grid
        // step per 5 instances before it.
        let at: Vec<i64> = plan.scheduled_actions.iter().map(|a| (a.start_time - t0()).num_minutes()).collect();
        assert_eq!(at, vec![1, 95, 100, 105, 110, 240], "the first moves to the next minute after now");
        assert!(plan.decisions.iter().any(|d| d.what.contains("ramped floor rises in steps of at most 5")));
        assert!(
            crate::guardrails::check(
                std::slice::from_ref(&plan),
                &crate::Guardrails { max_step_up: Some(5), ..crate::Guardrails::default() },
                &Default::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn the_first_floors_ramp_up_from_what_the_group_runs_when_planned() {
        // 20 instances from the start for a group running 2, max_step_up 5, planned at 00:00:30.
        let f = forecast(vec![2000.0; 48], 0.0);
        let now = t0() + Duration::seconds(30);
        let s = PlanSettings { quantile: 0.5, max_step_up: Some(5), running: Some((2, now)), ..settings(2, 60) };
        let plan = plan_group("g", "prod", Some(&f), &s, now);
        let floors: Vec<u32> = plan.scheduled_actions.iter().map(|a| a.min_size.unwrap()).collect();
        let at: Vec<i64> = plan.scheduled_actions.iter().map(|a| (a.start_time - t0()).num_minutes()).collect();
        assert_eq!(floors, vec![7, 12, 17, 20, 2], "{at:?}");
        // The first action, at the first minute a write can set, holds the grid's first slot too:
        // stages at least a grid step apart, not the second a few minutes after the first.
        assert_eq!(at, vec![2, 10, 15, 20, 240], "one step a grid step after the first slot's");
        let d = plan.decisions.iter().find(|d| d.what.contains("first floors ramped up from the 2 instances")).unwrap();
        assert!(d.what.contains("by 5 a step") && d.why.contains("floor of 20"), "{d:?}");
        // A group already running 17 needs one step; one running 20 none; without what it runs, or
        // without the guardrail, the plan opens at 20.
        let opens = |running: Option<u32>, step: Option<u32>| {
            let s = PlanSettings { running: running.map(|r| (r, now)), max_step_up: step, ..s.clone() };
            plan_group("g", "prod", Some(&f), &s, now)
                .scheduled_actions
                .iter()
                .map(|a| a.min_size.unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(opens(Some(17), Some(5)), vec![20, 2]);
        assert_eq!(opens(Some(14), Some(5)), vec![19, 20, 2]);
        assert_eq!(opens(None, Some(5)), vec![20, 2]);
        assert_eq!(opens(Some(2), None), vec![20, 2]);
        // Where the steps do not fit in the actions left, the rest is merged to fewer.
        let jagged: Vec<f64> = (0..288).map(|i| if i % 24 < 12 { 2000.0 } else { 500.0 }).collect();
        let f = forecast(jagged, 0.0);
        let tight = PlanSettings { max_actions: 8, min_hold: Duration::minutes(5), ..s.clone() };
        let plan = plan_group("g", "prod", Some(&f), &tight, now);
        assert!(plan.scheduled_actions.len() <= 8, "{:?}", plan.scheduled_actions);
        let limits = crate::Guardrails { max_step_up: Some(5), ..crate::Guardrails::default() };
        assert!(crate::guardrails::check(std::slice::from_ref(&plan), &limits, &Default::default()).is_empty());
        assert_eq!(plan.scheduled_actions[0].min_size, Some(7), "{:?}", plan.scheduled_actions);
        // Where the steps can never fit (2 actions), the schedule stays as it would be without the
        // group's state; `apply` says the first rise.
        let two = PlanSettings { max_actions: 2, ..s.clone() };
        let f = forecast(vec![2000.0; 48], 0.0);
        let without = plan_group("g", "prod", Some(&f), &PlanSettings { running: None, ..two.clone() }, now);
        assert_eq!(plan_group("g", "prod", Some(&f), &two, now).scheduled_actions, without.scheduled_actions);
        // Read minutes after the run's now (a nightly run that ingested and fitted first): the ramp
        // starts at the first minute after the read, where `apply` writes what is due.
        let late =
            PlanSettings { running: Some((2, t0() + Duration::minutes(7) + Duration::seconds(20))), ..s.clone() };
        let plan = plan_group("g", "prod", Some(&f), &late, now);
        let steps: Vec<(i64, u32)> =
            plan.scheduled_actions.iter().map(|a| ((a.start_time - t0()).num_minutes(), a.min_size.unwrap())).collect();
        // (The first action, due by then, is written at 00:08 by `apply`; the next stage comes a
        // whole grid step after the slot at 00:10 it holds too.)
        assert_eq!(&steps[..4], [(2, 7), (15, 12), (20, 17), (25, 20)], "{steps:?}");
        // A forecast that starts after the first minute (a source stamped at the period's start):
        // its first slot is the first step.
        let ahead = forecast(vec![2000.0; 48], 0.0);
        let before = t0() - Duration::minutes(3);
        let s = PlanSettings { running: Some((2, before)), ..s.clone() };
        let floors: Vec<u32> = plan_group("g", "prod", Some(&ahead), &s, before)
            .scheduled_actions
            .iter()
            .map(|a| a.min_size.unwrap())
            .collect();
        assert_eq!(&floors[..4], [7, 12, 17, 20]);
    }

    #[test]
    fn a_merged_schedule_ramps_its_rises_just_before_them_not_over_the_night() {
        // A night at 300 (3 instances), a day at 2600–3400 (26–34) whose jagged top needs merging
        // to fit 20 actions, and max_step_up 3: the morning's ramp takes 9 actions, which fit.
        let p: Vec<f64> =
            (0..288).map(|i| if (96..228).contains(&i) { 2600.0 + 400.0 * (i % 3) as f64 } else { 300.0 }).collect();
        let f = forecast(p, 0.0);
        let s = PlanSettings {
            quantile: 0.5,
            max_step_up: Some(3),
            max_actions: 20,
            lead_time: Duration::minutes(5),
            ..settings(1, 60)
        };
        let plan = plan_group("g", "prod", Some(&f), &s, t0());
        assert!(plan.scheduled_actions.len() <= 20);
        let limits = crate::Guardrails { max_step_up: Some(3), ..crate::Guardrails::default() };
        assert!(crate::guardrails::check(std::slice::from_ref(&plan), &limits, &Default::default()).is_empty());
        // The night stays at its 3 until the ramp, which starts at most 10 steps before the rise
        // (27 instances by 3, and the lead), not hours earlier with the whole night raised.
        let at = |t: DateTime<Utc>| {
            plan.scheduled_actions.iter().rfind(|a| a.start_time <= t).and_then(|a| a.min_size).unwrap_or(0)
        };
        assert_eq!(at(t0() + Duration::hours(7)), 3, "{:?}", plan.scheduled_actions);
        assert!(at(t0() + Duration::hours(8) - Duration::minutes(5)) >= 26);
        // The summary names the floors as written.
        let summary = plan.decisions.iter().find(|d| d.what.contains("scheduled floors")).unwrap();
        let top = plan.scheduled_actions.iter().filter_map(|a| a.min_size).max().unwrap();
        assert!(summary.what.contains(&format!("between 1 and {top}")), "{}", summary.what);
        // With too few actions for the ramp, the night before the rise is raised, and the merge
        // says what it costs and the max_actions that keeps every change.
        let tight = PlanSettings { max_actions: 6, ..s };
        let plan = plan_group("g", "prod", Some(&f), &tight, t0());
        assert!(plan.scheduled_actions.len() <= 6);
        assert!(crate::guardrails::check(std::slice::from_ref(&plan), &limits, &Default::default()).is_empty());
        let d = plan.decisions.iter().find(|d| d.what.starts_with("merged ")).expect("said");
        assert!(d.what.contains(" instance-hours)") && d.why.contains("keeps every change"), "{d:?}");
        assert!(plan.decisions.iter().any(|d| d.what.starts_with("ramped floor rises")));
    }

    /// Settings that put an action exactly at each change of demand, in time zone `name` (no
    /// lead time, and instances that serve at once).
    fn zoned(name: &str) -> (Tz, PlanSettings) {
        let tz: Tz = name.parse().unwrap();
        let mut s = PlanSettings {
            quantile: 0.5,
            lead_time: Duration::zero(),
            min_hold: Duration::zero(),
            time_zone: Some(tz),
            ..settings(1, 60)
        };
        s.reactive.warmup_secs = 0;
        (tz, s)
    }

    #[test]
    fn time_zone_keeps_utc_instants_across_the_autumn_change_in_berlin() {
        // Berlin leaves summer time on Sunday 25 October 2026 at 01:00 UTC (03:00 CEST becomes
        // 02:00 CET), so 00:30 UTC and 01:30 UTC are both 02:30 local.
        let start = Utc.with_ymd_and_hms(2026, 10, 24, 23, 0, 0).unwrap();
        let point: Vec<f64> = (0..48)
            .map(|i| {
                if (30..42).contains(&i) {
                    3000.0
                } else if i >= 18 {
                    1500.0
                } else {
                    500.0
                }
            })
            .collect();
        let f = Forecast::new("t", start, 300, point, vec![]).unwrap();
        let (tz, s) = zoned("Europe/Berlin");
        let plan = plan_group("g", "prod", Some(&f), &s, start);
        let at: Vec<String> =
            plan.scheduled_actions.iter().map(|a| a.start_time.format("%d %H:%M").to_string()).collect();
        assert_eq!(at, ["24 23:01", "25 00:30", "25 01:30", "25 02:30", "25 03:00"]);
        assert_eq!(levels(&plan).iter().map(|l| l.0.unwrap()).collect::<Vec<_>>(), [5, 15, 30, 15, 1]);
        // The two actions of the repeated hour have the same local wall time, different offsets
        // and different names.
        let local: Vec<String> = plan.scheduled_actions.iter().map(|a| super::local(a.start_time, Some(tz))).collect();
        assert_eq!(local[1], "2026-10-25 02:30 CEST (00:30 UTC)");
        assert_eq!(local[2], "2026-10-25 02:30 CET (01:30 UTC)");
        assert_ne!(plan.scheduled_actions[1].name, plan.scheduled_actions[2].name);
        assert!(plan.scheduled_actions.iter().all(|a| a.time_zone.as_deref() == Some("Europe/Berlin")));
        assert!(
            plan.decisions.iter().any(|d| d
                .what
                .contains("daylight-saving change in Europe/Berlin at 2026-10-25 01:00 UTC (CEST to CET)")),
            "{:#?}",
            plan.decisions
        );
        // That change is not in the history before the forecast: nothing said of it.
        assert!(!plan.decisions.iter().any(|d| d.what.contains("the history the forecast learnt from")));
        // Three days after it, it is: the daily cycle learnt in UTC may be an hour off.
        let later = Forecast::new("t", start + Duration::days(3), 300, f.point.clone(), vec![]).unwrap();
        let after = plan_group("g", "prod", Some(&later), &s, start + Duration::days(3));
        assert!(
            after.decisions.iter().any(|d| d
                .what
                .contains("the history the forecast learnt from (28 days) crosses a daylight-saving change")
                && d.why.contains("an hour late or early")),
            "{:#?}",
            after.decisions
        );
        // What the plan says of the history, by how far back it reaches: 240 days cross this change
        // and the spring one before it, and it is said all the same; the last two days, none.
        let noted = |days: i64| {
            let settings = PlanSettings { history: Duration::days(days), ..s.clone() };
            let plan = plan_group("g", "prod", Some(&later), &settings, start + Duration::days(3));
            plan.decisions.into_iter().find(|d| d.what.contains("the history the forecast learnt from")).map(|d| d.what)
        };
        let long = noted(240).unwrap_or_default();
        assert!(long.contains("(240 days) crosses a daylight-saving change in Europe/Berlin at 2026-10-25"), "{long}");
        assert_eq!(noted(2), None);
        // Without a zone: the same instants, written in UTC.
        let utc = plan_group("g", "prod", Some(&f), &PlanSettings { time_zone: None, ..s }, start);
        assert!(utc.scheduled_actions.iter().all(|a| a.time_zone.is_none()));
        let instants = |p: &GroupPlan| p.scheduled_actions.iter().map(|a| a.start_time).collect::<Vec<_>>();
        assert_eq!(instants(&utc), instants(&plan));
    }

    #[test]
    fn a_step_that_cannot_follow_the_change_is_named_as_the_reason_for_utc() {
        // Lord Howe moves its clocks by 30 minutes (Sunday 4 October 2026, 15:30 UTC): an hourly
        // forecast cannot follow it, a 5-minute one can.
        let start = Utc.with_ymd_and_hms(2026, 10, 6, 13, 0, 0).unwrap();
        let (_, s) = zoned("Australia/Lord_Howe");
        let s = PlanSettings { daily_clock: CycleClock::ByData, ..s };
        let why = |step: i64| {
            let n = (48 * 3600 / step) as usize;
            let f = Forecast::new("t", start, step, vec![800.0; n], vec![]).unwrap();
            let plan = plan_group("g", "prod", Some(&f), &s, start);
            let d = plan.decisions.iter().find(|d| d.what.contains("the history the forecast learnt from")).cloned();
            d.expect("the change in the history is said").why
        };
        let hourly = why(3600);
        assert!(hourly.contains("its step (60 min) cannot follow"), "{hourly}");
        let five = why(300);
        assert!(five.contains("clearly nearer on UTC") && !five.contains("cannot follow"), "{five}");
    }

    #[test]
    fn new_york_spring_forward_has_no_missing_or_doubled_action() {
        // New York skips 02:00-03:00 local on Sunday 14 March 2027 (07:00 UTC).
        let start = Utc.with_ymd_and_hms(2027, 3, 14, 5, 0, 0).unwrap();
        let point: Vec<f64> = (0..48).map(|i| if (18..30).contains(&i) { 2000.0 } else { 500.0 }).collect();
        let f = Forecast::new("t", start, 300, point, vec![]).unwrap();
        let (tz, s) = zoned("America/New_York");
        let plan = plan_group("g", "prod", Some(&f), &s, start);
        let local: Vec<String> = plan.scheduled_actions.iter().map(|a| super::local(a.start_time, Some(tz))).collect();
        // 06:30 UTC is 01:30 EST; 07:30 UTC is 03:30 EDT (02:30 never happens that night).
        assert_eq!(
            local[..3],
            [
                "2027-03-14 00:01 EST (05:01 UTC)",
                "2027-03-14 01:30 EST (06:30 UTC)",
                "2027-03-14 03:30 EDT (07:30 UTC)"
            ]
        );
        assert!(
            plan.decisions.iter().any(|d| d.what.contains("2027-03-14 07:00 UTC (EST to EDT)")),
            "{:#?}",
            plan.decisions
        );
    }

    proptest! {
        #[test]
        fn schedule_invariants(point in proptest::collection::vec(0.0..5000.0f64, 1..600), spread in 0.0..500.0f64,
                               min in 0u32..5, extra in 0u32..40, q in 0.5..0.99f64, max_actions in 2usize..200) {
            let s = PlanSettings { quantile: q, max_actions, ..settings(min, min + extra) };
            let f = forecast(point, spread);
            let plan = plan_group("g", "prod", Some(&f), &s, t0());
            prop_assert!(plan.scheduled_actions.len() <= max_actions.min(MAX_ACTIONS_PER_GROUP));
            // One action per start time, in order, all within bounds.
            for w in plan.scheduled_actions.windows(2) {
                prop_assert!(w[0].start_time < w[1].start_time);
            }
            for a in &plan.scheduled_actions {
                let m = a.min_size.unwrap();
                prop_assert!(m >= min && m <= min + extra);
            }
            // The floor in force at any time covers the (clamped) requirement of every step that
            // starts within the lead time after it.
            let req = &plan.required;
            for (i, r) in req.iter().enumerate() {
                let demand_at = f.ts(i);
                let in_place_by = demand_at - s.lead();
                let floor = plan.scheduled_actions.iter().rfind(|a| a.start_time <= in_place_by.max(plan.scheduled_actions[0].start_time)).and_then(|a| a.min_size).unwrap();
                prop_assert!(floor >= *r, "step {} needs {} but floor is {}", i, r, floor);
            }
            // Monotone in q: a higher quantile never plans less capacity at any step.
            let higher = plan_group("g", "prod", Some(&f), &PlanSettings { quantile: (q + 0.05).min(0.999), ..s.clone() }, t0());
            for (a, b) in plan.required.iter().zip(&higher.required) {
                prop_assert!(b >= a);
            }
        }

        #[test]
        fn guardrails_hold_on_random_inputs(point in proptest::collection::vec(0.0..8000.0f64, 1..600),
                                            min in 0u32..5, extra in 0u32..40, step_up in proptest::option::of(1u32..12),
                                            buffer in proptest::option::of(1u32..30), max_actions in 2usize..126,
                                            lead in 0i64..40, hold in 0i64..120,
                                            running in proptest::option::of((0u32..40, 0i64..20))) {
            let max_breach = buffer.map_or(MaxBreach::Clamp, |buffer| MaxBreach::Raise { buffer });
            let s = PlanSettings {
                quantile: 0.5, max_actions, max_step_up: step_up, max_breach,
                lead_time: Duration::minutes(lead), min_hold: Duration::minutes(hold),
                running: running.map(|(r, late)| (r, t0() + Duration::minutes(late))),
                ..settings(min, min + extra)
            };
            let f = forecast(point, 0.0);
            let plan = plan_group("g", "prod", Some(&f), &s, t0());
            // The first floors ramp up from what the group runs: the first action rises at most
            // max_step_up over it, or, where the steps never fit, the plan is the one without it.
            let unramped = plan_group("g", "prod", Some(&f), &PlanSettings { running: None, ..s.clone() }, t0());
            let ramped_in = plan.scheduled_actions != unramped.scheduled_actions;
            if let (Some(up), Some((r, _))) = (step_up, running) {
                let first = plan.scheduled_actions[0].min_size.unwrap();
                prop_assert!(first <= (r + up).max(min) || !ramped_in, "{} over {}: {:?}", first, r, plan.scheduled_actions);
            }
            let (max, ceiling) = (s.bounds.max(), s.ceiling());
            // The planner's own output never breaks a guardrail it was given.
            let limits = crate::Guardrails { max_step_up: step_up, ..crate::Guardrails::default() };
            let ceilings = std::collections::BTreeMap::from([("g".to_string(), ceiling)]);
            let breaches = crate::guardrails::check(std::slice::from_ref(&plan), &limits, &ceilings);
            prop_assert!(breaches.is_empty(), "{:?}", breaches);
            prop_assert!(plan.scheduled_actions.len() <= max_actions);
            let mut raised = false;
            for (i, a) in plan.scheduled_actions.iter().enumerate() {
                let m = a.min_size.unwrap();
                prop_assert!(m >= min && m <= ceiling);
                // Every action is valid for Auto Scaling on its own: MinSize never above the
                // MaxSize in force, MaxSize raised only with raise, restored after the peak.
                let max_in_force = a.max_size.unwrap_or(if raised { ceiling } else { max });
                prop_assert!(m <= max_in_force, "{:?}", a);
                match a.max_size {
                    Some(x) if x == ceiling && ceiling > max => { prop_assert!(buffer.is_some()); raised = true }
                    // … or reasserted by the first action where raising is allowed (an earlier
                    // plan may have raised it).
                    Some(x) => { prop_assert_eq!(x, max); prop_assert!(raised || (i == 0 && ceiling > max)); raised = false }
                    None => prop_assert!(!raised || m > max),
                }
            }
            prop_assert!(!raised, "MaxSize is put back before the plan ends");
            prop_assert_eq!(plan.raised_max.is_some(), plan.scheduled_actions.iter().any(|a| a.min_size.unwrap() > max));
            // Ramping only adds capacity: the floor in force still covers each step's demand
            // (where the first floors ramp up from what the group runs, they hold it back).
            if let Some(first) = plan.scheduled_actions.first().filter(|_| !ramped_in) {
                for (i, r) in plan.required.iter().enumerate() {
                    let by = (f.ts(i) - s.lead()).max(first.start_time);
                    let floor = plan.scheduled_actions.iter().rfind(|a| a.start_time <= by).and_then(|a| a.min_size).unwrap();
                    prop_assert!(floor >= *r, "step {} needs {} but floor is {}", i, r, floor);
                }
            }
        }
    }
}
