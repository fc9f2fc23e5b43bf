use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::source::BoxError;
use crate::{CapacityBounds, MetricAlarm, ReactivePolicy, ScheduledAction};

/// What an Auto Scaling group holds now, as far as planning cares: all of its scheduled actions
/// and policies, prescale's and everybody else's (the diff decides what is prescale's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// Group name.
    pub group: String,
    /// Current `MinSize` / `MaxSize`.
    pub bounds: CapacityBounds,
    /// Current `DesiredCapacity`.
    pub desired: u32,
    /// All scheduled actions of the group.
    pub scheduled_actions: Vec<ScheduledAction>,
    /// All scaling policies of the group.
    pub policies: Vec<ReactivePolicy>,
    /// The CloudWatch alarms prescale owns that belong to the group (those that trigger one of
    /// its policies, or are named for it). Others' alarms are not read: they are never touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<MetricAlarm>,
    /// Auto Scaling processes suspended on the group (`ScheduledActions`, `AlarmNotification`,
    /// `Launch`, …): while they are, the plan's floors or alarms do nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspended: Vec<String>,
}

impl GroupState {
    /// A group with these bounds and desired capacity and nothing else on it: no scheduled
    /// action, policy, alarm or suspended process.
    pub fn bare(group: impl Into<String>, bounds: CapacityBounds, desired: u32) -> Self {
        Self {
            group: group.into(),
            bounds,
            desired,
            scheduled_actions: Vec::new(),
            policies: Vec::new(),
            alarms: Vec::new(),
            suspended: Vec::new(),
        }
    }

    /// What the group runs: the larger of its `MinSize` and its desired capacity (a floor at or
    /// below it launches no instance).
    pub fn running(&self) -> u32 {
        self.bounds.min().max(self.desired)
    }
}

/// One instance launch of a group, as Auto Scaling's scaling activities record it: from the
/// launch activity's start to its end (the instance in service, lifecycle hooks included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Launch {
    /// When the launch started.
    pub start: chrono::DateTime<chrono::Utc>,
    /// When it ended successfully.
    pub end: chrono::DateTime<chrono::Utc>,
}

/// One change to a group, as the diff of a plan against a [`GroupState`] produces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[expect(
    clippy::large_enum_variant,
    reason = "a run holds a few hundred changes at most: boxing the alarms would save nothing that counts"
)]
pub enum Change {
    /// Create a scheduled action, or replace the one with the same name.
    PutScheduledAction {
        /// The action as planned.
        new: ScheduledAction,
        /// The action it replaces, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old: Option<ScheduledAction>,
    },
    /// Delete a scheduled action prescale owns and no longer plans.
    DeleteScheduledAction {
        /// The action.
        old: ScheduledAction,
    },
    /// Create or replace a scaling policy.
    PutPolicy {
        /// The policy as planned.
        new: ReactivePolicy,
        /// The policy it replaces, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old: Option<ReactivePolicy>,
    },
    /// Delete a scaling policy prescale owns and no longer plans.
    DeletePolicy {
        /// The policy.
        old: ReactivePolicy,
    },
    /// Create or replace a CloudWatch alarm (its action is the ARN of the policy it names).
    PutAlarm {
        /// The alarm as planned.
        new: MetricAlarm,
        /// The alarm it replaces, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old: Option<MetricAlarm>,
    },
    /// Delete a CloudWatch alarm prescale owns and no longer plans.
    DeleteAlarm {
        /// The alarm.
        old: MetricAlarm,
    },
    /// Set the group's `MinSize` / `MaxSize` (a revert puts back bounds that prescale's own
    /// scheduled actions left raised). Never lowers `MaxSize` below the desired capacity.
    SetBounds {
        /// The bounds as they are.
        old: CapacityBounds,
        /// The bounds to set.
        new: CapacityBounds,
    },
}

/// The object a [`Change`] is about, as it was or as it will be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ChangedObject<'a> {
    /// A scheduled action.
    ScheduledAction(&'a ScheduledAction),
    /// A scaling policy.
    Policy(&'a ReactivePolicy),
    /// A CloudWatch alarm.
    Alarm(&'a MetricAlarm),
    /// The group's `MinSize` / `MaxSize`.
    Bounds(&'a CapacityBounds),
}

impl Change {
    /// `"scheduled_action"`, `"policy"`, `"alarm"` or `"bounds"`.
    pub fn object_kind(&self) -> &'static str {
        match self {
            Change::PutScheduledAction { .. } | Change::DeleteScheduledAction { .. } => "scheduled_action",
            Change::PutPolicy { .. } | Change::DeletePolicy { .. } => "policy",
            Change::PutAlarm { .. } | Change::DeleteAlarm { .. } => "alarm",
            Change::SetBounds { .. } => "bounds",
        }
    }

    /// `"create"`, `"replace"` or `"delete"`.
    pub fn verb(&self) -> &'static str {
        match self {
            Change::PutScheduledAction { old: None, .. }
            | Change::PutPolicy { old: None, .. }
            | Change::PutAlarm { old: None, .. } => "create",
            Change::PutScheduledAction { old: Some(_), .. }
            | Change::PutPolicy { old: Some(_), .. }
            | Change::PutAlarm { old: Some(_), .. }
            | Change::SetBounds { .. } => "replace",
            Change::DeleteScheduledAction { .. } | Change::DeletePolicy { .. } | Change::DeleteAlarm { .. } => "delete",
        }
    }

    /// The object before the change (`None` when it is created).
    pub fn before(&self) -> Option<ChangedObject<'_>> {
        match self {
            Change::PutScheduledAction { old, .. } => old.as_ref().map(ChangedObject::ScheduledAction),
            Change::DeleteScheduledAction { old } => Some(ChangedObject::ScheduledAction(old)),
            Change::PutPolicy { old, .. } => old.as_ref().map(ChangedObject::Policy),
            Change::DeletePolicy { old } => Some(ChangedObject::Policy(old)),
            Change::PutAlarm { old, .. } => old.as_ref().map(ChangedObject::Alarm),
            Change::DeleteAlarm { old } => Some(ChangedObject::Alarm(old)),
            Change::SetBounds { old, .. } => Some(ChangedObject::Bounds(old)),
        }
    }

    /// The object after the change (`None` when it is deleted).
    pub fn after(&self) -> Option<ChangedObject<'_>> {
        match self {
            Change::PutScheduledAction { new, .. } => Some(ChangedObject::ScheduledAction(new)),
            Change::PutPolicy { new, .. } => Some(ChangedObject::Policy(new)),
            Change::PutAlarm { new, .. } => Some(ChangedObject::Alarm(new)),
            Change::SetBounds { new, .. } => Some(ChangedObject::Bounds(new)),
            Change::DeleteScheduledAction { .. } | Change::DeletePolicy { .. } | Change::DeleteAlarm { .. } => None,
        }
    }

    /// The name of the object changed.
    pub fn object_name(&self) -> &str {
        match self {
            Change::PutScheduledAction { new, .. } => &new.name,
            Change::DeleteScheduledAction { old } => &old.name,
            Change::PutPolicy { new, .. } => &new.name,
            Change::DeletePolicy { old } => &old.name,
            Change::PutAlarm { new, .. } => &new.name,
            Change::DeleteAlarm { old } => &old.name,
            Change::SetBounds { .. } => "MinSize/MaxSize",
        }
    }
}

/// What an [`ActionSink`] did with a list of changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Changes that took effect.
    pub applied: Vec<Change>,
    /// Changes that did not, with the reason. The next run's diff picks them up again.
    pub failed: Vec<Failed>,
}

/// A change an [`ActionSink`] did not make, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failed {
    /// The change.
    pub change: Change,
    /// Why, in the service's words where it gave them.
    pub error: String,
    /// Whether it passes by itself: the service was busy (throttled, a server error) or did not
    /// answer, or the change was not attempted after such a failure. Otherwise what refused the
    /// change needs its cause mended before a later run can make it.
    pub transient: bool,
    /// The call was sent and its answer never came (a timeout): the service may have made the
    /// change all the same; the next run's diff shows whether it did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unanswered: bool,
    /// The call was never sent: the run was stopped, or an earlier failure held it back. Its
    /// outcome is known (nothing changed), and the next run makes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_attempted: bool,
}

impl ApplyReport {
    /// Records `change` as failed.
    pub fn fail(&mut self, change: Change, error: impl Into<String>, transient: bool) {
        self.failed.push(Failed { change, error: error.into(), transient, unanswered: false, not_attempted: false });
    }

    /// Records `change` as not attempted ([`Failed::not_attempted`]).
    pub fn skip(&mut self, change: Change, error: impl Into<String>, transient: bool) {
        self.failed.push(Failed { change, error: error.into(), transient, unanswered: false, not_attempted: true });
    }

    /// How many of the failed changes were never sent ([`Failed::not_attempted`]).
    pub fn not_attempted(&self) -> usize {
        self.failed.iter().filter(|f| f.not_attempted).count()
    }

    /// How many of the failed changes were sent and not answered ([`Failed::unanswered`]).
    pub fn unanswered(&self) -> usize {
        self.failed.iter().filter(|f| f.unanswered).count()
    }

    /// Records `change` as sent and not answered ([`Failed::unanswered`]): its outcome is unknown.
    pub fn no_answer(&mut self, change: Change, error: impl Into<String>) {
        self.failed.push(Failed {
            change,
            error: error.into(),
            transient: true,
            unanswered: true,
            not_attempted: false,
        });
    }
}

/// Errors of an [`ActionSink`] that stop it from working on a group at all.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The group does not exist.
    #[error("Auto Scaling group {group:?} not found in {place} (check the name and the region)")]
    GroupNotFound {
        /// The group.
        group: String,
        /// Where it was looked for (`region eu-west-1`, the local stand-in's file).
        place: String,
    },
    /// An API call failed after the SDK's retries.
    #[error("{operation} on group {group:?} failed: {message}")]
    Api {
        /// The group.
        group: String,
        /// Operation name.
        operation: String,
        /// Short description.
        message: String,
        /// Whether the service was busy (throttled, a server error): a later run may pass.
        transient: bool,
        /// The SDK's error.
        #[source]
        source: BoxError,
    },
    /// The service did not answer in time or could not be reached (or no call could be made: no
    /// credentials, no region), after the SDK's retries: every other group would fail alike.
    #[error("{operation} on group {group:?} failed: {message}")]
    Unreachable {
        /// The group.
        group: String,
        /// Operation name.
        operation: String,
        /// Short description, with what to check.
        message: String,
        /// Whether a later run may pass with nothing mended: a timeout or a network fault, not
        /// credentials or a region that are not set.
        transient: bool,
        /// The SDK's error.
        #[source]
        source: BoxError,
    },
    /// Local state could not be read or written (recording sinks).
    #[error("{0}")]
    Local(String),
}

impl SinkError {
    /// Whether a later run may pass with nothing mended: the service was busy or did not answer.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { transient, .. } | Self::Api { transient, .. } => *transient,
            Self::GroupNotFound { .. } | Self::Local(_) => false,
        }
    }
}

/// Where a plan goes: Auto Scaling itself, or a recorder for dry runs, the demo and tests.
pub trait ActionSink {
    /// A short description for summaries (`autoscaling us-east-1`, `dry-run`).
    fn describe(&self) -> String;

    /// Reads the group's current state.
    ///
    /// # Errors
    /// [`SinkError`] when the group cannot be read.
    fn read_state(&mut self, group: &str) -> Result<GroupState, SinkError>;

    /// What the group runs: the larger of its `MinSize` and its desired capacity. Its state's by
    /// default; a sink whose whole state takes several calls reads the group alone.
    ///
    /// # Errors
    /// [`SinkError`] when the group cannot be read.
    fn running(&mut self, group: &str) -> Result<u32, SinkError> {
        self.read_state(group).map(|s| s.running())
    }

    /// Carries out `changes` in order. A change that fails is reported in
    /// [`ApplyReport::failed`] and the rest still run, so that a failure half-way leaves a state
    /// the next run converges from.
    ///
    /// # Errors
    /// [`SinkError`] only when nothing could be attempted.
    fn apply(&mut self, group: &str, changes: &[Change]) -> Result<ApplyReport, SinkError>;

    /// What of prescale's a group that no longer exists left behind: its alarms, which CloudWatch
    /// keeps when the group is deleted (its scheduled actions and policies go with it). None
    /// from a sink that keeps nothing apart from its groups.
    ///
    /// # Errors
    /// [`SinkError`] when they cannot be read.
    fn leftovers(&mut self, group: &str) -> Result<Vec<MetricAlarm>, SinkError> {
        let _ = group;
        Ok(Vec::new())
    }

    /// The group's recent successful instance launches, newest first, to measure its boot time.
    /// Sinks that keep no history have none.
    ///
    /// # Errors
    /// [`SinkError`] when the history cannot be read.
    fn recent_launches(&mut self, group: &str) -> Result<Vec<Launch>, SinkError> {
        let _ = group;
        Ok(Vec::new())
    }

    /// Whether the metric `alarm` reads filled every minute in the [`PUBLISHED_WITHIN_HOURS`]
    /// hours before `until` (EC2's metrics with detailed monitoring) or only every 5 minutes
    /// (basic monitoring), from its datapoints asked for per minute ([`publication`]).
    /// [`Published::NotRead`] from a sink that reads no metrics.
    ///
    /// # Errors
    /// [`SinkError`] when the metric cannot be read.
    fn published_every(
        &mut self,
        group: &str,
        alarm: &MetricAlarm,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<Published, SinkError> {
        let _ = (group, alarm, until);
        Ok(Published::NotRead)
    }
}

/// How often a metric is published, as [`ActionSink::published_every`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The sink reads no metrics (the local stand-in, the demo).
    NotRead,
    /// Too few datapoints to tell ([`PUBLISHED_MIN_POINTS`]): no instances running, the metric
    /// not published.
    TooFew {
        /// The datapoints there were.
        points: usize,
    },
    /// Periods of this many seconds hold a datapoint: 60 (detailed monitoring) or 300.
    Every(u32),
    /// Every minute for the newest `minutes` only, fewer than [`PUBLISHED_JUDGED_MINS`], every 5
    /// before: detailed monitoring just turned on. Judged as 300 until its three hours are in.
    Starting {
        /// The minutes of per-minute datapoints so far.
        minutes: u32,
    },
}

/// The hours of a metric's datapoints [`ActionSink::published_every`] reads: a day, so that a
/// quiet night or an hour without instances does not leave it unknown, within the 15 days
/// CloudWatch keeps 1-minute data.
pub const PUBLISHED_WITHIN_HOURS: i64 = 24;

/// The fewest datapoints, in stretches of at least two, from which [`publication`] judges a
/// metric.
pub const PUBLISHED_MIN_POINTS: usize = 6;

/// The share of its minutes a metric must fill to count as published every minute: detailed
/// monitoring misses a minute now and then, basic monitoring fills one in five (two instances
/// reporting at different offsets, two in five).
pub const PUBLISHED_FILL: f64 = 0.9;

/// A silence longer than this (minutes) between two datapoints is a time without instances, not
/// minutes the metric left empty: not counted.
pub const PUBLISHED_SILENCE_MINS: i64 = 15;

/// The minutes of the newest datapoints [`publication`] judges: the monitoring as it is now, not
/// as it was before a change that day.
pub const PUBLISHED_JUDGED_MINS: i64 = 180;

/// How often a metric with datapoints at `times` (seconds since any origin, in any order) is
/// published: every minute where its newest datapoints (their stretches, split at silences of
/// more than [`PUBLISHED_SILENCE_MINS`], from the newest back until they span
/// [`PUBLISHED_JUDGED_MINS`]) fill at least [`PUBLISHED_FILL`] of their minutes, else every 300
/// s, the period a datapoint every 5 minutes fills whatever the offsets the instances report at.
/// A stretch of one datapoint tells nothing; fewer than [`PUBLISHED_MIN_POINTS`] in the others is
/// [`Published::TooFew`]. What a 60-s alarm sees is the share of minutes filled, not the shortest
/// spacing: two instances on basic monitoring can report a minute apart.
pub fn publication(times: &[i64]) -> Published {
    let mut minutes: Vec<i64> = times.iter().map(|t| t.div_euclid(60)).collect();
    minutes.sort_unstable();
    minutes.dedup();
    let together = |k: usize| minutes[k] - minutes[k - 1] <= PUBLISHED_SILENCE_MINS;
    let (mut filled, mut spanned) = (0usize, 0i64);
    let mut end = minutes.len();
    while end > 0 && spanned < PUBLISHED_JUDGED_MINS {
        // The newest stretch before `end`, as far back as the judged minutes reach.
        let mut start = end - 1;
        while start > 0 && together(start) && spanned + minutes[end - 1] - minutes[start - 1] < PUBLISHED_JUDGED_MINS {
            start -= 1;
        }
        if let [first, .., last] = &minutes[start..end] {
            filled += end - start;
            spanned += last - first + 1;
        }
        // On past the rest of the stretch, to the silence before it.
        end = start;
        while end > 0 && together(end) {
            end -= 1;
        }
    }
    if filled < PUBLISHED_MIN_POINTS {
        return Published::TooFew { points: minutes.len() };
    }
    if filled as f64 >= PUBLISHED_FILL * spanned as f64 {
        return Published::Every(60);
    }
    // The newest stretch of datapoints at most two minutes apart, filling its minutes: detailed
    // monitoring turned on within the judged minutes (a quarter of an hour of it at least).
    let newest = minutes[minutes.len() - 1];
    let mut start = minutes.len() - 1;
    while start > 0 && minutes[start] - minutes[start - 1] <= 2 {
        start -= 1;
    }
    let run = newest - minutes[start] + 1;
    let points = minutes.len() - start;
    if run >= 15 && points as f64 >= PUBLISHED_FILL * run as f64 {
        return Published::Starting { minutes: u32::try_from(run).unwrap_or(u32::MAX) };
    }
    Published::Every(300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_is_per_minute_where_its_datapoints_fill_the_minutes() {
        let mins = |m: &[i64]| m.iter().map(|m| m * 60).collect::<Vec<i64>>();
        // Basic monitoring: every 5 minutes, one period missed.
        let basic: Vec<i64> = (0..36).filter(|i| *i != 7).map(|i| i * 5).collect();
        assert_eq!(publication(&mins(&basic)), Published::Every(300));
        // Two instances on basic monitoring, reporting two minutes apart; an instance replaced
        // by one reporting a minute later: still 5-minute periods.
        let staggered: Vec<i64> = (0..36).flat_map(|i| [i * 5, i * 5 + 2]).collect();
        assert_eq!(publication(&mins(&staggered)), Published::Every(300));
        let replaced: Vec<i64> = (0..36).map(|i| i * 5 + i64::from(i >= 20)).chain([100]).collect();
        assert_eq!(publication(&mins(&replaced)), Published::Every(300));
        // Detailed: every minute but a few, out of order, repeated, seconds off the minute; a
        // night without instances (a silence of hours) is not counted against it.
        let mut detailed: Vec<i64> = (0..180).filter(|i| i % 25 != 0).map(|i| i * 60 + 7).collect();
        detailed.extend((600..660).map(|i| i * 60));
        detailed.reverse();
        detailed.push(120 * 60 + 7);
        assert_eq!(publication(&detailed), Published::Every(60));
        // Five instances on basic monitoring, one a minute: every minute filled.
        let five: Vec<i64> = (0..60).flat_map(|i| (0..5).map(move |k| i * 5 + k)).collect();
        assert_eq!(publication(&mins(&five)), Published::Every(60));
        // Detailed monitoring turned on two hours ago... and on for three: judged on the newest.
        let turned_on: Vec<i64> = (0..200).map(|i| i * 5).chain(1000..1120).collect();
        assert_eq!(publication(&mins(&turned_on)), Published::Starting { minutes: 120 });
        let ten: Vec<i64> = (0..200).map(|i| i * 5).chain(1000..1010).collect();
        assert_eq!(publication(&mins(&ten)), Published::Every(300), "ten minutes tell nothing yet");
        // Four instances on basic monitoring, one a minute but the fifth: four minutes in five.
        let four: Vec<i64> = (0..60).flat_map(|i| (0..4).map(move |k| i * 5 + k)).collect();
        assert_eq!(publication(&mins(&four)), Published::Every(300));
        let on: Vec<i64> = (0..200).map(|i| i * 5).chain(1000..1180).collect();
        assert_eq!(publication(&mins(&on)), Published::Every(60));
        // Too few to tell; datapoints alone between silences tell nothing.
        assert_eq!(publication(&mins(&[0, 5, 10, 15, 20])), Published::TooFew { points: 5 });
        assert_eq!(publication(&mins(&[0, 0, 30, 60, 90, 120, 150])), Published::TooFew { points: 6 });
        assert_eq!(publication(&[]), Published::TooFew { points: 0 });
    }
}
