use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Version tag of the plan document; readers refuse other versions.
pub const PLAN_FORMAT: &str = "prescale.plan/v1";

/// A group's size bounds, validated: `min <= max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawBounds")]
pub struct CapacityBounds {
    min: u32,
    max: u32,
}

#[derive(Deserialize)]
struct RawBounds {
    min: u32,
    max: u32,
}

impl TryFrom<RawBounds> for CapacityBounds {
    type Error = CoreError;
    fn try_from(r: RawBounds) -> Result<Self, CoreError> {
        CapacityBounds::new(r.min, r.max)
    }
}

impl CapacityBounds {
    /// Bounds `[min, max]`.
    ///
    /// # Errors
    /// [`CoreError::BadBounds`] when `min > max`.
    pub fn new(min: u32, max: u32) -> Result<Self, CoreError> {
        if min > max { Err(CoreError::BadBounds { min, max }) } else { Ok(Self { min, max }) }
    }
    /// Lower bound.
    pub fn min(self) -> u32 {
        self.min
    }
    /// Upper bound.
    pub fn max(self) -> u32 {
        self.max
    }
    /// `n` clamped into the bounds.
    pub fn clamp(self, n: u32) -> u32 {
        n.clamp(self.min, self.max)
    }
}

/// One Auto Scaling scheduled action (a one-time action at `start_time`). prescale sets the floor
/// (`min_size`) and leaves the reactive policy free to add capacity above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledAction {
    /// Unique name within the group; prescale's start with [`crate::OWNED_PREFIX`].
    pub name: String,
    /// When it takes effect (UTC).
    pub start_time: DateTime<Utc>,
    /// New `MinSize`, if the action sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u32>,
    /// New `MaxSize`, if the action sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u32>,
    /// New `DesiredCapacity`, if the action sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_capacity: Option<u32>,
    /// IANA time zone written with the action (Auto Scaling's `TimeZone`), e.g. `Europe/Berlin`;
    /// absent means UTC. `start_time` is the same instant either way: Auto Scaling takes
    /// `StartTime` in UTC and uses the zone for recurrences and to show the time in the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// A cron recurrence (Auto Scaling's `Recurrence`). prescale writes one-time actions only: a
    /// recurrence on one of its actions was added by hand, and the diff takes it off again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<String>,
}

impl ScheduledAction {
    /// A one-time action at `start_time` that sets only the floor (`MinSize`), in UTC.
    pub fn floor(name: impl Into<String>, start_time: DateTime<Utc>, min_size: u32) -> Self {
        Self {
            name: name.into(),
            start_time,
            min_size: Some(min_size),
            max_size: None,
            desired_capacity: None,
            time_zone: None,
            recurrence: None,
        }
    }

    /// The time zone as Auto Scaling treats it: `None` for UTC, however it was spelled
    /// (`UTC`, `Etc/UTC`, absent), so that a group that reports `Etc/UTC` for an action written
    /// without a zone does not look changed.
    pub fn zone(&self) -> Option<&str> {
        self.time_zone
            .as_deref()
            .filter(|z| !matches!(*z, "UTC" | "Etc/UTC" | "Etc/UCT" | "UCT" | "Universal" | "Zulu"))
    }
}

/// A reactive scaling policy attached to the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReactivePolicy {
    /// Policy name; prescale's start with [`crate::OWNED_PREFIX`].
    pub name: String,
    /// What kind of policy, with its settings.
    #[serde(flatten)]
    pub kind: PolicyKind,
}

/// The kinds of reactive policy prescale writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PolicyKind {
    /// Target tracking on a predefined metric.
    TargetTracking {
        /// Predefined metric type, e.g. `ASGAverageCPUUtilization` or `ALBRequestCountPerTarget`.
        metric: String,
        /// Resource label, required by `ALBRequestCountPerTarget`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource_label: Option<String>,
        /// Target value of the metric.
        target_value: f64,
        /// Seconds before a new instance counts in the group's metrics.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimated_instance_warmup_secs: Option<u32>,
        /// Whether the policy may only scale out.
        #[serde(default)]
        disable_scale_in: bool,
    },
    /// Step scaling: a CloudWatch alarm ([`MetricAlarm`], whose action is this policy) triggers
    /// it, and the step whose bounds hold the metric's breach of the alarm threshold applies.
    StepScaling {
        /// `ChangeInCapacity` (instances) or `PercentChangeInCapacity` (percent of the group).
        adjustment_type: String,
        /// The steps, by breach of the alarm threshold (metric value minus threshold).
        steps: Vec<StepAdjustment>,
        /// With `PercentChangeInCapacity`: change at least this many instances.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_adjustment_magnitude: Option<u32>,
        /// Seconds before a new instance counts in the group's metrics (and against the next step).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimated_instance_warmup_secs: Option<u32>,
    },
    /// A policy of a kind prescale does not write (simple, predictive scaling, or a target
    /// tracking policy on a customized metric); read from a group so the diff can leave it alone.
    Other {
        /// The API's policy type, e.g. `StepScaling`.
        policy_type: String,
    },
}

/// One step of a step-scaling policy: when the metric's breach of the alarm threshold lies in
/// `[lower, upper)` (unbounded where absent), change the capacity by `adjustment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepAdjustment {
    /// Lower bound of the breach (inclusive); absent is minus infinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<f64>,
    /// Upper bound of the breach (exclusive); absent is infinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    /// Change in instances or percent, by the policy's adjustment type (negative scales in).
    pub adjustment: i32,
}

/// A CloudWatch metric alarm that triggers one of the group's step-scaling policies. Alarms live
/// in CloudWatch, not in the group: prescale's are named `prescale-<group>-…`, and a group's are
/// those whose action is one of its policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricAlarm {
    /// Alarm name (unique in the region); prescale's start with [`crate::OWNED_PREFIX`].
    pub name: String,
    /// CloudWatch namespace of the metric, e.g. `AWS/EC2`.
    pub namespace: String,
    /// Metric name, e.g. `CPUUtilization`.
    pub metric_name: String,
    /// Metric dimensions, e.g. `AutoScalingGroupName`.
    pub dimensions: std::collections::BTreeMap<String, String>,
    /// Statistic over each period: `Average`, `Sum`, `Maximum`, ….
    pub statistic: String,
    /// Period of the statistic, in seconds.
    pub period_secs: u32,
    /// How many consecutive periods must breach before the alarm fires.
    pub evaluation_periods: u32,
    /// Threshold, in the metric's units.
    pub threshold: f64,
    /// `GreaterThanOrEqualToThreshold`, `LessThanThreshold`, ….
    pub comparison: String,
    /// Name of the group's policy the alarm triggers (its ARN is the alarm action); empty when
    /// the alarm's action is no policy of the group.
    pub policy: String,
    /// How periods without data count: `missing` (CloudWatch's default: they are skipped),
    /// `notBreaching`, `breaching` or `ignore`.
    #[serde(default = "missing_data_default")]
    pub treat_missing_data: String,
    /// Whether the alarm's actions run when it fires (`ActionsEnabled`): prescale's always do; an
    /// alarm whose actions were disabled by hand (`aws cloudwatch disable-alarm-actions`) watches
    /// and never scales, and the diff turns them back on.
    #[serde(default = "actions_enabled_default")]
    pub actions_enabled: bool,
    /// The alarm's other actions, as read from CloudWatch (a team's SNS notification added to
    /// prescale's alarm): not prescale's, never a difference, and kept when the alarm is put again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_actions: Vec<String>,
}

fn missing_data_default() -> String {
    "missing".into()
}

fn actions_enabled_default() -> bool {
    true
}

/// Names of the step-scaling alarms prescale writes for `group` (alarms are per region, not per
/// group, so they carry the group's name): scale-out, then scale-in.
pub fn step_alarm_names(group: &str) -> [String; 2] {
    [format!("{}{group}-step-out", crate::OWNED_PREFIX), format!("{}{group}-step-in", crate::OWNED_PREFIX)]
}

/// One decision the planner made, with the reason it gives the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDecision {
    /// What was decided.
    pub what: String,
    /// Why.
    pub why: String,
    /// Which of the decisions that code reading the plan acts on this is (`--strict`, the
    /// `--quiet` line, `plan --what-if`); their words are for people and may change. Absent for
    /// a note.
    #[serde(default, skip_serializing_if = "DecisionKind::is_note")]
    pub kind: DecisionKind,
}

impl PlanDecision {
    /// A decision of `kind`.
    pub fn new(kind: DecisionKind, what: impl Into<String>, why: impl Into<String>) -> Self {
        Self { what: what.into(), why: why.into(), kind }
    }

    /// A decision nothing reads but people.
    pub fn note(what: impl Into<String>, why: impl Into<String>) -> Self {
        Self::new(DecisionKind::Note, what, why)
    }
}

/// What a [`PlanDecision`] is about, for the code that reads plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionKind {
    /// The scheduled floors as written: how many, between which sizes, sized how. Every plan
    /// with a forecast has one.
    Floors,
    /// No scheduled floors: the reactive policy alone scales the group.
    NoFloors,
    /// The group's forecast was not used (stale, implausible, failed), and why.
    ForecastNotUsed,
    /// The floor put back to `MinSize` (at the forecast's end, or at once without one).
    FloorBack,
    /// Floors cut at `MaxSize` (or at `MaxSize` plus `max_breach_buffer`) where the forecast
    /// needs more.
    Clamped,
    /// `MaxSize` raised for a peak and put back after it (`max_breach = "raise"`).
    MaxRaised,
    /// The floors taken down to fit `[guardrails] max_fleet_size` (`fleet_breach = "scale"`).
    FleetScaled,
    /// A planned event that moved no floors: past, not yet planned, or within the floors planned
    /// without it.
    Event,
    /// A planned event that moved the group's floors, up or down.
    EventMoved,
    /// Anything else: said to people only (and a kind this build does not know, from a newer
    /// prescale).
    #[default]
    #[serde(other)]
    Note,
}

impl DecisionKind {
    /// Whether this is [`DecisionKind::Note`] (left out of the plan's JSON).
    pub fn is_note(&self) -> bool {
        *self == Self::Note
    }
}

/// Summary of the forecast a group plan was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastSummary {
    /// Model id.
    pub model: String,
    /// Metric the capacity is sized on.
    pub metric: String,
    /// The quantile the floors are sized for (e.g. 0.9).
    pub quantile: f64,
    /// Forecast horizon covered by the plan.
    pub from: DateTime<Utc>,
    /// End of the horizon (exclusive).
    pub to: DateTime<Utc>,
    /// Peak of the point forecast, and when.
    pub peak_point: f64,
    /// When the point forecast peaks.
    pub peak_at: DateTime<Utc>,
    /// Peak of the planning quantile.
    pub peak_quantile: f64,
    /// How the floors were sized from the forecast (absent in plans written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizing: Option<Sizing>,
    /// The group's time zone (IANA name), in which people read the peak's time; absent on UTC and
    /// in plans written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// How a plan's floors were sized: a step's floor is the instances that serve its `quantile`
/// (the summary's) at `quantile_utilization` of `capacity_per_instance`, and its point forecast
/// at `point_utilization` where that is set, whichever is more, each times `1 + headroom`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sizing {
    /// Load one instance serves at 100 %, in the metric's units per step.
    pub capacity_per_instance: f64,
    /// The share of an instance's capacity the quantile is sized at.
    pub quantile_utilization: f64,
    /// The share the point forecast is sized at (the target utilization), where it is sized too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_utilization: Option<f64>,
    /// Added to every floor (0.1 = 10 % more instances' worth of load).
    pub headroom: f64,
}

/// The plan for one Auto Scaling group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupPlan {
    /// Auto Scaling group name.
    pub group: String,
    /// Environment (prod, staging, dev, …) whose settings were used.
    pub environment: String,
    /// The group's configured bounds. Floors lie in `[min, max]`, or in `[min, raised_max]` when
    /// `raised_max` is set.
    pub bounds: CapacityBounds,
    /// With `max_breach = "raise"`: the `MaxSize` the actions of a peak above `bounds.max` set
    /// (and the ceiling of their floors); the first action after the peak puts `MaxSize` back to
    /// `bounds.max`. Absent when the plan never goes above `bounds.max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raised_max: Option<u32>,
    /// The forecast behind the plan; absent when there was none to trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastSummary>,
    /// Required capacity per forecast step (before the schedule's lead time and merging).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<u32>,
    /// The scheduled actions, in time order.
    pub scheduled_actions: Vec<ScheduledAction>,
    /// Reactive policies that cover what the forecast misses.
    pub policies: Vec<ReactivePolicy>,
    /// The CloudWatch alarms that trigger the step-scaling policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<MetricAlarm>,
    /// Every decision, with its reason.
    pub decisions: Vec<PlanDecision>,
    /// A digest of the group's stored events the plan was made with, so that `apply` can tell
    /// that they changed since; absent in plans written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_digest: Option<String>,
    /// The group's stored events the plan was made with (those [`GroupPlan::events_digest`]
    /// covers): a later run whose store holds none of them, nor a record of their removal, takes
    /// its store for another (moved or lost) and leaves the group's floors as they are. Empty in
    /// plans without events and in plans written before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<PlannedEvent>,
}

/// An event a plan was made with, as [`GroupPlan::events`] names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedEvent {
    /// Its id (`ev-…`, derived from its group and name).
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it ends.
    pub end: DateTime<Utc>,
}

/// The plan document written by `prescale plan` and read by `prescale apply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityPlan {
    /// Always [`PLAN_FORMAT`].
    pub format: String,
    /// Identifies the plan in the audit trail.
    pub plan_id: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// One entry per group.
    pub groups: Vec<GroupPlan>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decisions_kind_is_written_by_name_and_a_note_an_older_plans_or_an_unknown_one_reads_as_a_note() {
        let moved = PlanDecision::new(DecisionKind::EventMoved, "event sale: …", "…");
        let json = serde_json::to_string(&moved).unwrap();
        assert!(json.contains(r#""kind":"event-moved""#), "{json}");
        assert_eq!(serde_json::from_str::<PlanDecision>(&json).unwrap(), moved);
        let note = serde_json::to_string(&PlanDecision::note("warm-up 240 s", "…")).unwrap();
        assert!(!note.contains("kind"), "{note}");
        let old: PlanDecision = serde_json::from_str(r#"{"what":"clamped 3 steps to MaxSize 9","why":"…"}"#).unwrap();
        assert!(old.kind.is_note());
        let newer: PlanDecision = serde_json::from_str(r#"{"what":"x","why":"y","kind":"spot-mix"}"#).unwrap();
        assert!(newer.kind.is_note());
    }

    #[test]
    fn bounds_refuse_min_above_max_even_from_json() {
        assert!(CapacityBounds::new(3, 2).is_err());
        let r: Result<CapacityBounds, _> = serde_json::from_str(r#"{"min":5,"max":1}"#);
        assert!(r.is_err());
        let b: CapacityBounds = serde_json::from_str(r#"{"min":1,"max":5}"#).unwrap();
        assert_eq!(b.clamp(9), 5);
    }
}
