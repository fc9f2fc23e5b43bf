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

    /// The group's recent successful instance launches, newest first, to measure its boot time.
    /// Sinks that keep no history have none.
    ///
    /// # Errors
    /// [`SinkError`] when the history cannot be read.
    fn recent_launches(&mut self, group: &str) -> Result<Vec<Launch>, SinkError> {
        let _ = group;
        Ok(Vec::new())
    }

    /// How often the metric `alarm` reads was published in the [`PUBLISHED_WITHIN_HOURS`]
    /// hours before `until`, in seconds: the shortest spacing of its datapoints asked for per
    /// minute (60 for EC2's metrics with detailed monitoring, 300 with basic). `None` where it
    /// cannot tell: too few datapoints ([`PUBLISHED_MIN_POINTS`]), or a sink that reads no
    /// metrics.
    ///
    /// # Errors
    /// [`SinkError`] when the metric cannot be read.
    fn published_every(
        &mut self,
        group: &str,
        alarm: &MetricAlarm,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<u32>, SinkError> {
        let _ = (group, alarm, until);
        Ok(None)
    }
}

/// The hours of a metric's datapoints [`ActionSink::published_every`] reads: within the 15 days
/// CloudWatch keeps 1-minute data, and long enough for a quiet hour.
pub const PUBLISHED_WITHIN_HOURS: i64 = 3;

/// The fewest datapoints from which [`ActionSink::published_every`] judges a metric's spacing.
pub const PUBLISHED_MIN_POINTS: usize = 6;

/// The spacing of a metric's datapoint times (sorted or not, in seconds since any origin) that
/// [`ActionSink::published_every`] answers: the shortest between two, when there are at least
/// [`PUBLISHED_MIN_POINTS`]. A metric published every minute has two a minute apart somewhere in
/// the window unless it missed every other minute.
pub fn published_spacing(times: &[i64]) -> Option<u32> {
    let mut t = times.to_vec();
    t.sort_unstable();
    t.dedup();
    if t.len() < PUBLISHED_MIN_POINTS {
        return None;
    }
    t.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0).min().and_then(|d| u32::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_spacing_is_the_shortest_between_its_datapoints() {
        // Basic monitoring: every 5 minutes, one period missed.
        let basic: Vec<i64> = (0..36).filter(|i| *i != 7).map(|i| i * 300).collect();
        assert_eq!(published_spacing(&basic), Some(300));
        // Detailed: per minute with gaps, out of order and repeated.
        let mut detailed: Vec<i64> = (0..180).filter(|i| i % 3 != 0).map(|i| i * 60).collect();
        detailed.reverse();
        detailed.push(120);
        assert_eq!(published_spacing(&detailed), Some(60));
        // Too few to tell, repeats counted once.
        assert_eq!(published_spacing(&[0, 300, 600, 900, 1200]), None);
        assert_eq!(published_spacing(&[0, 0, 0, 0, 0, 0, 60]), None);
    }
}
