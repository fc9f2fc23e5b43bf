use std::collections::BTreeMap;

use prescale_core::{ActionSink, ApplyReport, Change, GroupState, SinkError};

/// An in-memory [`ActionSink`]: groups as plain data, and a record of every change applied. It is
/// the reference behaviour the Auto Scaling sink is tested against, the offline target of the
/// demo (the CLI saves its groups to a JSON file), and a test double that needs no server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingSink {
    /// The groups and what they hold.
    pub groups: BTreeMap<String, GroupState>,
    /// Every change applied, with its group, in order.
    pub recorded: Vec<(String, Change)>,
}

/// What a [`RecordingSink`] calls itself (its [`ActionSink::describe`]).
pub const LOCAL_SINK: &str = "local recording sink";

impl RecordingSink {
    /// A sink holding `groups`.
    pub fn new(groups: impl IntoIterator<Item = GroupState>) -> Self {
        Self { groups: groups.into_iter().map(|g| (g.group.clone(), g)).collect(), recorded: Vec::new() }
    }
}

impl ActionSink for RecordingSink {
    /// The same whatever groups it holds: the audit log keys what was written by sink and group,
    /// so a name that changed with a group added would hide what the runs before put there.
    fn describe(&self) -> String {
        LOCAL_SINK.to_string()
    }

    fn read_state(&mut self, group: &str) -> Result<GroupState, SinkError> {
        self.groups
            .get(group)
            .cloned()
            .ok_or_else(|| SinkError::GroupNotFound { group: group.into(), place: "the local stand-in".into() })
    }

    fn apply(&mut self, group: &str, changes: &[Change]) -> Result<ApplyReport, SinkError> {
        let state = self
            .groups
            .get_mut(group)
            .ok_or_else(|| SinkError::GroupNotFound { group: group.into(), place: "the local stand-in".into() })?;
        let mut report = ApplyReport::default();
        for c in changes {
            match c {
                // Auto Scaling refuses a new action beyond its limit per group.
                Change::PutScheduledAction { new, .. }
                    if state.scheduled_actions.len() >= crate::MAX_ACTIONS_PER_GROUP
                        && !state.scheduled_actions.iter().any(|a| a.name == new.name) =>
                {
                    report.fail(c.clone(), "LimitExceeded: too many scheduled actions", false);
                    continue;
                }
                Change::PutScheduledAction { new, .. } => {
                    state.scheduled_actions.retain(|a| a.name != new.name);
                    state.scheduled_actions.push(new.clone());
                }
                Change::DeleteScheduledAction { old } => state.scheduled_actions.retain(|a| a.name != old.name),
                Change::PutPolicy { new, .. } => {
                    state.policies.retain(|p| p.name != new.name);
                    state.policies.push(new.clone());
                }
                Change::DeletePolicy { old } => state.policies.retain(|p| p.name != old.name),
                Change::PutAlarm { new, .. } => {
                    state.alarms.retain(|a| a.name != new.name);
                    state.alarms.push(new.clone());
                }
                Change::DeleteAlarm { old } => state.alarms.retain(|a| a.name != old.name),
                // As Auto Scaling does, the desired capacity moves within the new bounds.
                Change::SetBounds { new, .. } => {
                    state.bounds = *new;
                    state.desired = state.desired.clamp(new.min(), new.max());
                }
            }
            self.recorded.push((group.to_string(), c.clone()));
            report.applied.push(c.clone());
        }
        state.scheduled_actions.sort_by(|a, b| a.start_time.cmp(&b.start_time).then(a.name.cmp(&b.name)));
        Ok(report)
    }
}
