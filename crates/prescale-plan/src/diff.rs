use chrono::{DateTime, Duration, Utc};
use prescale_core::{
    CapacityBounds, Change, GroupPlan, GroupState, MetricAlarm, OWNED_PREFIX, ReactivePolicy, ScheduledAction,
};

use crate::MAX_ACTIONS_PER_GROUP;

/// True for objects prescale created (and so may change or delete).
pub fn is_owned(name: &str) -> bool {
    name.starts_with(OWNED_PREFIX)
}

/// What an action sets: its bounds, desired capacity and zone.
fn sizes(a: &ScheduledAction) -> (Option<u32>, Option<u32>, Option<u32>, Option<&str>) {
    (a.min_size, a.max_size, a.desired_capacity, a.zone())
}

/// True where two scheduled actions do the same thing at the same time (names aside): what the
/// diff leaves in place.
pub fn same_action(a: &ScheduledAction, b: &ScheduledAction) -> bool {
    // Auto Scaling keeps start times to the second.
    a.start_time.timestamp() == b.start_time.timestamp() && sizes(a) == sizes(b) && a.recurrence == b.recurrence
}

fn same_policy(a: &ReactivePolicy, b: &ReactivePolicy) -> bool {
    a == b
}

/// The changes that make `state` match `plan`, for prescale's own objects only: planned objects
/// that are missing or differ are put, owned objects the plan no longer has are deleted, and
/// objects of anyone else are never touched. Puts come first and deletions after, so a run that
/// stops part-way (killed, throttled, out of time) leaves the old floors in place rather than
/// none: only when the new actions and the old would pass Auto Scaling's
/// [`MAX_ACTIONS_PER_GROUP`] at once do that many stale actions go first, those starting last.
/// Alarms are put after the policies they trigger and deleted before them (an alarm's action is
/// its policy's ARN); the scheduled actions are put after both, so the reactive fallback is in
/// place before the floors. An alarm whose policy is put again is put again too, so its action names
/// the policy as it now is.
pub fn diff(state: &GroupState, plan: &GroupPlan) -> Vec<Change> {
    let mut deletes = Vec::new();
    let mut puts = Vec::new();
    for old in state.alarms.iter().filter(|a| is_owned(&a.name)) {
        if !plan.alarms.iter().any(|a| a.name == old.name) {
            deletes.push(Change::DeleteAlarm { old: old.clone() });
        }
    }
    for old in state.scheduled_actions.iter().filter(|a| is_owned(&a.name)) {
        if !plan.scheduled_actions.iter().any(|a| a.name == old.name) {
            deletes.push(Change::DeleteScheduledAction { old: old.clone() });
        }
    }
    for old in state.policies.iter().filter(|p| is_owned(&p.name)) {
        if !plan.policies.iter().any(|p| p.name == old.name) {
            deletes.push(Change::DeletePolicy { old: old.clone() });
        }
    }
    for new in &plan.policies {
        let old = state.policies.iter().find(|p| p.name == new.name);
        if !old.is_some_and(|o| same_policy(o, new)) {
            puts.push(Change::PutPolicy { new: new.clone(), old: old.cloned() });
        }
    }
    for new in &plan.alarms {
        let old = state.alarms.iter().find(|a| a.name == new.name);
        let policy_put = puts.iter().any(|c| matches!(c, Change::PutPolicy { new: p, .. } if p.name == new.policy));
        // Others' actions on the alarm are theirs: kept by the put, never a difference.
        let same = old.is_some_and(|o| MetricAlarm { other_actions: Vec::new(), ..o.clone() } == *new);
        if policy_put || !same {
            puts.push(Change::PutAlarm { new: new.clone(), old: old.cloned() });
        }
    }
    // The floors after the reactive fallback: a run that stops part-way on a group's first apply
    // leaves the policies without the floors, not floors with nothing to scale for load they missed.
    for new in &plan.scheduled_actions {
        let old = state.scheduled_actions.iter().find(|a| a.name == new.name);
        if !old.is_some_and(|o| same_action(o, new)) {
            puts.push(Change::PutScheduledAction { new: new.clone(), old: old.cloned() });
        }
    }
    // Stale actions that go before the puts: one at a new action's very second (one action per
    // start time, as the planner keeps its own: were both held at once, Auto Scaling could refuse
    // the new one and run the old), then, where the new actions and the old would pass the limit
    // at once, as many as make room, those that start last (whose loss matters least should the
    // run stop before its puts).
    let put_at: std::collections::HashSet<i64> = puts
        .iter()
        .filter_map(|c| match c {
            Change::PutScheduledAction { new, .. } => Some(new.start_time.timestamp()),
            _ => None,
        })
        .collect();
    fn stale(c: &Change) -> Option<&ScheduledAction> {
        match c {
            Change::DeleteScheduledAction { old } => Some(old),
            _ => None,
        }
    }
    let (collide, mut room): (Vec<&ScheduledAction>, Vec<&ScheduledAction>) =
        deletes.iter().filter_map(stale).partition(|a| put_at.contains(&a.start_time.timestamp()));
    let added = puts.iter().filter(|c| matches!(c, Change::PutScheduledAction { old: None, .. })).count();
    let over = (state.scheduled_actions.len() + added).saturating_sub(MAX_ACTIONS_PER_GROUP + collide.len());
    room.sort_by_key(|a| std::cmp::Reverse(a.start_time));
    let early: std::collections::HashSet<String> =
        collide.into_iter().chain(room.into_iter().take(over)).map(|a| a.name.clone()).collect();
    let (mut first, deletes): (Vec<Change>, Vec<Change>) =
        deletes.into_iter().partition(|c| stale(c).is_some_and(|a| early.contains(&a.name)));
    first.extend(puts);
    first.extend(deletes);
    first
}

/// Actions starting before this are due at `now` ([`due_now`]): a minute on, in whole seconds (as
/// Auto Scaling keeps start times, and as the files show them).
pub fn due_before(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now) + Duration::minutes(1)
}

/// The plan's scheduled actions as they can be written at `now`. Auto Scaling refuses a start time
/// in the past, and runs each action at its time and then deletes it: so the actions of a plan
/// whose times have passed (applied some minutes or hours after it was made) are not written
/// again. Of those, only the last one matters, the floor that should hold now: it is left as it
/// is while the group still has it pending, dropped when the group's bounds already are what it
/// sets (it ran), and otherwise written to start a minute from now.
pub fn due_now(plan: &GroupPlan, state: &GroupState, now: DateTime<Utc>) -> GroupPlan {
    let soon = due_before(now);
    let (past, future): (Vec<&ScheduledAction>, Vec<&ScheduledAction>) =
        plan.scheduled_actions.iter().partition(|a| a.start_time < soon);
    let mut actions = Vec::with_capacity(future.len() + 1);
    // The MaxSize the passed actions leave in force (the last one that set it): it goes with the
    // floor that is written now, else with the next action, or it would be lost with the actions
    // not written again (a plan's first action may put back a MaxSize an earlier plan raised).
    let max_in_force =
        past.iter().filter(|a| a.max_size.is_some()).max_by_key(|a| a.start_time).and_then(|a| a.max_size);
    let mut future: Vec<ScheduledAction> = future.into_iter().cloned().collect();
    if let Some(current) = past.iter().max_by_key(|a| a.start_time) {
        let current = &ScheduledAction { max_size: current.max_size.or(max_in_force), ..(*current).clone() };
        let pending = state
            .scheduled_actions
            .iter()
            // A recurrence added by hand is no pending one-time floor: it is written again.
            .find(|o| {
                o.name == current.name && o.start_time >= now && sizes(o) == sizes(current) && o.recurrence.is_none()
            });
        let in_force = current.min_size.is_none_or(|m| m == state.bounds.min())
            && current.max_size.is_none_or(|m| m == state.bounds.max())
            && current.desired_capacity.is_none();
        // A future action at `soon` itself takes over there (one action per start time), with
        // the MaxSize in force where it sets none.
        let taken = future.iter().any(|a| a.start_time <= soon);
        match pending {
            Some(old) => actions.push(old.clone()),
            None if in_force => {}
            None if taken => {
                if let Some(next) = future.first_mut().filter(|a| a.max_size.is_none()) {
                    next.max_size = current.max_size;
                }
            }
            None => actions.push(ScheduledAction { start_time: soon, ..current.clone() }),
        }
    }
    actions.extend(future);
    GroupPlan { scheduled_actions: actions, ..plan.clone() }
}

/// The plan with the floors the group already holds kept where they are, when one is near enough
/// and on the safe side. A nightly plan over a steady load moves many of yesterday's floors by a
/// few minutes; writing each again (a deletion and a put) is API calls, audit lines and a window
/// where a run cut off leaves both. An action prescale put before, still to come, that sets the
/// same sizes as a planned one stands in for it where it starts at most `within` *before* a
/// planned rise or at most `within` *after* a planned fall (a floor up sooner or down later,
/// never a floor short of the plan's), between the planned actions before and after it. Whether
/// an action rises or falls is judged against the one before it, the first against the group's
/// `MinSize`; one that also changes `MaxSize` is kept only where that does not lower the ceiling
/// sooner or raise it later. A pending action named like a planned one stands in for another only once that one
/// was itself replaced (names are start times, so a ramp moved by a step keeps its steps), and a
/// planned action the group holds as it is stays. And where the group already runs at the floor
/// of a planned rise due within `within` (a kept rise that ran), the floor planned for the minutes
/// before it, which would take the group down and up again, is not written (`plan` as [`due_now`]
/// leaves it, `now` when the group was read), and neither is a first action due within `within`
/// that sets the bounds the group already has, where no earlier action of prescale's is pending.
/// Returns the plan as written and how many actions were kept, or left out for those reasons.
/// `within` zero keeps none.
pub fn keep_in_place(plan: &GroupPlan, state: &GroupState, now: DateTime<Utc>, within: Duration) -> (GroupPlan, usize) {
    if within <= Duration::zero() {
        return (plan.clone(), 0);
    }
    let mut actions: &[ScheduledAction] = &plan.scheduled_actions;
    let mut kept = 0;
    // The group at the floor of a rise just ahead, above the floor planned until then.
    if let [first, next, ..] = actions
        && first.start_time <= due_before(now)
        && next.start_time - now <= within
        && first.min_size.zip(next.min_size).is_some_and(|(a, b)| a < b)
        && next.min_size == Some(state.bounds.min())
        && first.max_size.is_none_or(|m| m == state.bounds.max())
        && first.desired_capacity.is_none()
    {
        actions = &actions[1..];
        kept += 1;
    }
    // The first action, due within `within`, setting what the group's bounds already are (the
    // opening floor of a plan made at the floor in force, a rise a kept floor made early): a write
    // that changes nothing. Written all the same where the group holds it already (leaving it is
    // no write), or where an action prescale put before comes first (it runs unless deleted, and a
    // run cut off before its deletions would leave it in force).
    if let [first, ..] = actions
        && first.start_time - now <= within
        && first.min_size.is_none_or(|m| m == state.bounds.min())
        && first.max_size.is_none_or(|m| m == state.bounds.max())
        && first.min_size.or(first.max_size).is_some()
        && first.desired_capacity.is_none()
        && first.recurrence.is_none()
        && !state.scheduled_actions.iter().any(|o| o.name == first.name)
        && !state
            .scheduled_actions
            .iter()
            .any(|o| is_owned(&o.name) && o.start_time > now && o.start_time <= first.start_time)
    {
        actions = &actions[1..];
        kept += 1;
    }
    let planned: std::collections::HashSet<&str> = actions.iter().map(|a| a.name.as_str()).collect();
    let pending: Vec<&ScheduledAction> = state
        .scheduled_actions
        .iter()
        .filter(|o| is_owned(&o.name) && o.recurrence.is_none() && o.start_time > now)
        .collect();
    // Planned names that a kept action replaced: the pending action of that name is free.
    let mut freed: Vec<&str> = Vec::new();
    let mut used: Vec<&str> = Vec::new();
    let mut out: Vec<ScheduledAction> = Vec::with_capacity(actions.len());
    let mut before = (state.bounds.min(), None::<DateTime<Utc>>);
    // The MaxSize in force before each action: one moved sooner or later must not lower the
    // ceiling sooner (a rise that also puts a raised MaxSize back) or raise it later.
    let mut max_before = state.bounds.max();
    for (i, new) in actions.iter().enumerate() {
        let next = actions.get(i + 1).map(|a| a.start_time);
        let holds = state.scheduled_actions.iter().any(|o| o.name == new.name && same_action(o, new));
        let keep = new.min_size.filter(|_| !holds && new.recurrence.is_none()).and_then(|floor| {
            let rises = floor > before.0 && new.max_size.is_none_or(|m| m >= max_before);
            let falls = floor < before.0 && new.max_size.is_none_or(|m| m <= max_before);
            pending
                .iter()
                .filter(|o| !used.contains(&o.name.as_str()) && sizes(o) == sizes(new))
                .filter(|o| !planned.contains(o.name.as_str()) || freed.contains(&o.name.as_str()))
                .filter(|o| before.1.is_none_or(|t| o.start_time > t) && next.is_none_or(|t| o.start_time < t))
                .filter(|o| {
                    let early = new.start_time - o.start_time;
                    (rises && early >= Duration::zero() && early <= within)
                        || (falls && early <= Duration::zero() && -early <= within)
                })
                .min_by_key(|o| (new.start_time - o.start_time).abs())
        });
        let action = match keep {
            Some(old) => {
                used.push(&old.name);
                freed.push(&new.name);
                (*old).clone()
            }
            None => new.clone(),
        };
        before = (new.min_size.unwrap_or(before.0), Some(action.start_time));
        max_before = new.max_size.unwrap_or(max_before);
        out.push(action);
    }
    kept += used.len();
    (GroupPlan { scheduled_actions: out, ..plan.clone() }, kept)
}

/// The changes that remove everything prescale owns from a group: every alarm, scheduled action
/// and policy whose name starts with [`OWNED_PREFIX`] (alarms first, before the policies they
/// trigger), and nothing else.
pub fn revert(state: &GroupState) -> Vec<Change> {
    let alarms = state.alarms.iter().filter(|a| is_owned(&a.name));
    let actions = state.scheduled_actions.iter().filter(|a| is_owned(&a.name));
    let policies = state.policies.iter().filter(|p| is_owned(&p.name));
    alarms
        .map(|a| Change::DeleteAlarm { old: a.clone() })
        .chain(actions.map(|a| Change::DeleteScheduledAction { old: a.clone() }))
        .chain(policies.map(|p| Change::DeletePolicy { old: p.clone() }))
        .collect()
}

/// A group's name as a shell word, for the commands prescale prints: Auto Scaling allows spaces
/// and quotes in it.
pub fn shell_word(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c)) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

/// What prescale last set on a group's bounds, as its audit log records it: by the last of its
/// scheduled actions that ran and set it, or a revert's change to it. A change whose outcome is
/// not known (sent without an answer, or cut off) may or may not have been made, so each bound
/// holds every value it may have left: the last known one and those of the uncertain changes
/// after it (empty: nothing on record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastSet {
    /// The `MinSize` values prescale may have last set.
    pub min: Vec<u32>,
    /// The `MaxSize` values prescale may have last set.
    pub max: Vec<u32>,
}

impl LastSet {
    /// `self` after a change that set `min` / `max` (`None`: left it), made for sure or perhaps.
    #[must_use]
    pub fn then(mut self, min: Option<u32>, max: Option<u32>, certain: bool) -> Self {
        for (values, v) in [(&mut self.min, min), (&mut self.max, max)] {
            if let Some(v) = v {
                if certain {
                    values.clear();
                }
                if !values.contains(&v) {
                    values.push(v);
                }
            }
        }
        self
    }
}

/// The AWS CLI command that sets `group`'s `MinSize` and / or `MaxSize`, for a note that leaves
/// it to an operator.
pub fn bounds_command(group: &str, min: Option<u32>, max: Option<u32>) -> String {
    let mut out = format!("aws autoscaling update-auto-scaling-group --auto-scaling-group-name {}", shell_word(group));
    for (flag, v) in [("min-size", min), ("max-size", max)] {
        if let Some(v) = v {
            out.push_str(&format!(" --{flag} {v}"));
        }
    }
    out
}

/// The bounds a revert puts back, with a note for each raised bound it leaves. A bound above the
/// configured one goes back to it only where it is what prescale last set (`last`):
/// anything else set it since (an operator, another tool) and it stays. `MaxSize` never goes
/// below the desired capacity, which would terminate instances in service; `MinSize` only goes
/// down, which removes none by itself. The notes give the command that does by hand what is left.
pub fn restore_bounds(state: &GroupState, configured: CapacityBounds, last: LastSet) -> (Option<Change>, Vec<String>) {
    let (now, mut notes) = (state.bounds, Vec::new());
    let command = |min: Option<u32>, max: Option<u32>| bounds_command(&state.group, min, max);
    let by_whom = |set: &[u32]| match set {
        [] => "nothing prescale did that took effect is on record as setting it".to_string(),
        values => format!(
            "prescale last set it to {}, so something else set it since",
            values.iter().map(u32::to_string).collect::<Vec<_>>().join(" or ")
        ),
    };
    let mut min = now.min();
    if now.min() > configured.min() {
        if last.min.contains(&now.min()) {
            min = configured.min();
        } else {
            notes.push(format!(
                "MinSize is {}, above the configured min_size {}, and left so: {}. If it should go, `{}`",
                now.min(),
                configured.min(),
                by_whom(&last.min),
                command(Some(configured.min()), None)
            ));
        }
    }
    let mut max = now.max();
    if now.max() > configured.max() {
        if !last.max.contains(&now.max()) {
            notes.push(format!(
                "MaxSize is {}, above the configured max_size {}, and left so: {}. If it should go, `{}`",
                now.max(),
                configured.max(),
                by_whom(&last.max),
                command(None, Some(configured.max()))
            ));
        } else if configured.max() < state.desired.max(min) {
            notes.push(format!(
                "MaxSize is {}, raised by prescale for a peak, and left so: the configured max_size {} is below the \
                 group's desired capacity {}, and lowering it would terminate instances in service. Once the group \
                 has scaled in, `{}`",
                now.max(),
                configured.max(),
                state.desired,
                command(None, Some(configured.max()))
            ));
        } else {
            max = configured.max();
        }
    }
    let change =
        CapacityBounds::new(min, max).ok().filter(|b| *b != now).map(|new| Change::SetBounds { old: now, new });
    (change, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use prescale_core::{CapacityBounds, Forecast};

    use crate::{PlanSettings, RecordingSink, plan_group};
    use prescale_core::ActionSink;

    #[test]
    fn actions_whose_time_passed_are_not_written_again() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 12, 0, 0).unwrap();
        let name = |h: i64| format!("{OWNED_PREFIX}floor-{h}");
        let plan = GroupPlan {
            group: "g".into(),
            environment: "prod".into(),
            bounds: CapacityBounds::new(2, 40).unwrap(),
            raised_max: None,
            forecast: None,
            required: vec![],
            scheduled_actions: [(-3, 5), (-1, 8), (2, 12)]
                .iter()
                .map(|&(h, n)| ScheduledAction::floor(name(h), t0 + Duration::hours(h), n))
                .collect(),
            policies: vec![],
            alarms: vec![],
            decisions: vec![],
            events_digest: None,
            events: Vec::new(),
        };
        let state = |min: u32, actions: Vec<ScheduledAction>| GroupState {
            group: "g".into(),
            bounds: CapacityBounds::new(min, 40).unwrap(),
            desired: min,
            scheduled_actions: actions,
            policies: vec![],
            alarms: vec![],
            suspended: vec![],
        };
        let times = |p: &GroupPlan| -> Vec<(String, DateTime<Utc>, Option<u32>)> {
            p.scheduled_actions.iter().map(|a| (a.name.clone(), a.start_time, a.min_size)).collect()
        };
        // Applied three hours late to a group at MinSize 2: the floor that should hold now (8, an
        // hour ago) starts a minute from now; the one before it is gone; the future one stays.
        let late = due_now(&plan, &state(2, vec![]), t0);
        assert_eq!(
            times(&late),
            [(name(-1), t0 + Duration::minutes(1), Some(8)), (name(2), t0 + Duration::hours(2), Some(12))]
        );
        // It ran (the group is at 8 and Auto Scaling deleted it): not written again.
        assert_eq!(times(&due_now(&plan, &state(8, vec![]), t0)), [(name(2), t0 + Duration::hours(2), Some(12))]);
        // Written a minute ahead and still pending: left as it is, so a second apply changes nothing.
        let after = state(2, late.scheduled_actions.clone());
        assert!(diff(&after, &due_now(&plan, &after, t0 + Duration::seconds(20))).is_empty());
        // Applied on time, nothing moves.
        let on_time = due_now(&plan, &state(2, vec![]), t0 - Duration::hours(4));
        assert_eq!(on_time.scheduled_actions, plan.scheduled_actions);
        // A MaxSize set by a passed action that is not written again goes with the one that is.
        let mut raised = plan.clone();
        raised.scheduled_actions[0].max_size = Some(40);
        let late = due_now(&raised, &state(2, vec![]), t0);
        assert_eq!(late.scheduled_actions[0].max_size, Some(40), "{late:?}");
        assert_eq!(late.scheduled_actions[0].min_size, Some(8));
        // Applied a minute before the next action: it takes over there, and the passed one is
        // not moved onto the same instant.
        let at = t0 + Duration::hours(2) - Duration::minutes(1);
        assert_eq!(times(&due_now(&plan, &state(2, vec![]), at)), [(name(2), t0 + Duration::hours(2), Some(12))]);
        // … taking the MaxSize in force with it.
        assert_eq!(due_now(&raised, &state(2, vec![]), at).scheduled_actions[0].max_size, Some(40));
    }

    #[test]
    fn floors_in_place_a_little_before_a_rise_or_after_a_fall_are_kept() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let at = |m: i64, n: u32| {
            let t = t0 + Duration::minutes(m);
            ScheduledAction::floor(format!("{OWNED_PREFIX}floor-{}", t.format("%H%M")), t, n)
        };
        let plan = |actions: Vec<ScheduledAction>| GroupPlan {
            scheduled_actions: actions,
            policies: vec![],
            alarms: vec![],
            ..plan_group("g", "prod", None, &PlanSettings::default(), t0)
        };
        let group = |actions: Vec<ScheduledAction>| GroupState {
            group: "g".into(),
            bounds: CapacityBounds::new(2, 40).unwrap(),
            desired: 2,
            scheduled_actions: actions,
            policies: vec![],
            alarms: vec![],
            suspended: vec![],
        };
        let names = |p: &GroupPlan| -> Vec<String> { p.scheduled_actions.iter().map(|a| a.name.clone()).collect() };
        // Last night's floors: up to 5 at 08:55, 7 at 12:00, down to 2 at 17:05.
        let old = vec![at(535, 5), at(720, 7), at(1025, 2)];
        // Tonight's: up to 5 at 09:00, 6 at 12:05, down to 2 at 17:00.
        let new = plan(vec![at(540, 5), at(725, 6), at(1020, 2)]);
        let within = Duration::minutes(15);
        let (kept, n) = keep_in_place(&new, &group(old.clone()), t0, within);
        // The rise five minutes sooner and the fall five minutes later stay; 7 is no 6.
        assert_eq!(n, 2);
        assert_eq!(names(&kept), [old[0].name.clone(), new.scheduled_actions[1].name.clone(), old[2].name.clone()]);
        let changes = diff(&group(old.clone()), &kept);
        assert_eq!(changes.len(), 2, "one put and one deletion: {changes:?}");
        // Never a floor short of the plan's: a rise later or a fall sooner is written anew.
        let late = vec![at(545, 5), at(1015, 2)];
        let new2 = plan(vec![at(540, 5), at(1020, 2)]);
        assert_eq!(keep_in_place(&new2, &group(late.clone()), t0, within).1, 0);
        // … as is one further than `within`, one past a neighbouring planned action, one with
        // other sizes, one not prescale's, one that ran, and any with `within` zero.
        assert_eq!(keep_in_place(&new2, &group(vec![at(520, 5)]), t0, within).1, 0);
        let crowded = plan(vec![at(530, 3), at(540, 5)]);
        assert_eq!(keep_in_place(&crowded, &group(vec![at(525, 5)]), t0, within).1, 0);
        let mut raised = at(535, 5);
        raised.max_size = Some(50);
        assert_eq!(keep_in_place(&new2, &group(vec![raised]), t0, within).1, 0);
        let foreign = ScheduledAction { name: "team-floor".into(), ..at(535, 5) };
        assert_eq!(keep_in_place(&new2, &group(vec![foreign]), t0, within).1, 0);
        assert_eq!(keep_in_place(&new2, &group(vec![at(535, 5)]), t0 + Duration::minutes(536), within).1, 0);
        assert_eq!(keep_in_place(&new2, &group(vec![at(535, 5)]), t0, Duration::zero()).1, 0);
        // The first action rises or falls against the group's MinSize: at MinSize 6, 5 is a fall.
        let mut at_six = group(vec![at(535, 5)]);
        at_six.bounds = CapacityBounds::new(6, 40).unwrap();
        assert_eq!(keep_in_place(&new2, &at_six, t0, within).1, 0);
        // A ramp moved a step later keeps every step, though each old name is a new one's.
        let ramp_old = vec![at(600, 3), at(605, 4), at(610, 5)];
        let ramp = plan(vec![at(605, 3), at(610, 4), at(615, 5)]);
        let (moved, n) = keep_in_place(&ramp, &group(ramp_old.clone()), t0, within);
        assert_eq!(n, 3);
        assert_eq!(moved.scheduled_actions, ramp_old);
        assert!(diff(&group(ramp_old.clone()), &moved).is_empty());
        // A planned action the group holds as it is stays, not traded for a sooner one.
        let held = plan(vec![at(540, 5)]);
        assert_eq!(keep_in_place(&held, &group(vec![at(530, 5), at(540, 5)]), t0, within).0, held);
        // A kept rise to 5 ran ten minutes early, at 08:50: applied at 08:55, the floor planned until
        // the rise at 09:00 (2, written a minute ahead by `due_now`) would take the group down
        // for five minutes; it is not written, and nor is the rise, which sets what the group has.
        let mut ran = group(vec![]);
        ran.bounds = CapacityBounds::new(5, 40).unwrap();
        let late = plan(vec![at(536, 2), at(540, 5), at(900, 2)]);
        let (written, n) = keep_in_place(&late, &ran, t0 + Duration::minutes(535), within);
        assert_eq!((n, names(&written)), (2, vec![late.scheduled_actions[2].name.clone()]));
        // Not where the rise is further off than `within`, nor where the group is not at its floor.
        let early = plan(vec![at(521, 2), at(540, 5)]);
        assert_eq!(keep_in_place(&early, &ran, t0 + Duration::minutes(520), within).1, 0);
        // (At MinSize 2 the opening 2 is a write that changes nothing; the rise is written.)
        let (written, _) = keep_in_place(&late, &group(vec![]), t0 + Duration::minutes(535), within);
        assert_eq!(names(&written), names(&late)[1..]);
        // A plan's opening floor a minute ahead at the group's MinSize changes nothing: not
        // written; but where an earlier action of prescale's is pending, or the group holds it,
        // it is.
        let opening = plan(vec![at(1, 2), at(540, 5)]);
        let (written, n) = keep_in_place(&opening, &group(vec![]), t0, within);
        assert_eq!((n, names(&written)), (1, vec![opening.scheduled_actions[1].name.clone()]));
        let mut stale = at(0, 3);
        stale.start_time += Duration::seconds(30);
        assert_eq!(keep_in_place(&opening, &group(vec![stale]), t0, within).1, 0);
        assert_eq!(keep_in_place(&opening, &group(vec![at(1, 2)]), t0, within).0, opening);
        // A rise that also puts a raised MaxSize back is not kept sooner: the ceiling would fall
        // before the plan's time.
        let ceiling = |mut a: ScheduledAction, m: u32| {
            a.max_size = Some(m);
            a
        };
        let lowering = plan(vec![ceiling(at(400, 2), 45), ceiling(at(540, 5), 40)]);
        let mut raised = group(vec![ceiling(at(535, 5), 40)]);
        raised.bounds = CapacityBounds::new(2, 45).unwrap();
        assert_eq!(keep_in_place(&lowering, &raised, t0, within).1, 0);
        // A second apply of the kept plan changes nothing.
        let mut sink = RecordingSink::new([group(old)]);
        let before = sink.read_state("g").unwrap();
        sink.apply("g", &diff(&before, &kept)).unwrap();
        let after = sink.read_state("g").unwrap();
        assert!(diff(&after, &keep_in_place(&new, &after, t0, within).0).is_empty());
    }

    #[test]
    fn second_apply_is_a_no_op_and_foreign_objects_survive() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let point: Vec<f64> = (0..288).map(|i| 200.0 + 800.0 * f64::from(u8::from((96..200).contains(&i)))).collect();
        let f = Forecast::new("t", t0, 300, point, vec![]).unwrap();
        let s = PlanSettings {
            bounds: CapacityBounds::new(1, 20).unwrap(),
            capacity_per_instance: 100.0,
            quantile: 0.5,
            ..PlanSettings::default()
        };
        let plan = plan_group("g", "prod", Some(&f), &s, t0);
        let foreign = ScheduledAction::floor("team-nightly-batch", t0 + Duration::hours(3), 7);
        let stale = ScheduledAction::floor(format!("{OWNED_PREFIX}floor-old"), t0, 4);
        let mut sink = RecordingSink::new([GroupState {
            group: "g".into(),
            bounds: s.bounds,
            desired: 1,
            scheduled_actions: vec![foreign.clone(), stale],
            policies: vec![],
            alarms: vec![],
            suspended: vec![],
        }]);
        let state = sink.read_state("g").unwrap();
        let changes = diff(&state, &plan);
        // The stale floor goes last, once the new ones are in.
        assert!(matches!(changes.last(), Some(Change::DeleteScheduledAction { .. })), "{changes:?}");
        assert_eq!(changes.len(), 1 + plan.scheduled_actions.len() + plan.policies.len() + plan.alarms.len());
        sink.apply("g", &changes).unwrap();
        let state = sink.read_state("g").unwrap();
        assert!(diff(&state, &plan).is_empty());
        assert!(state.scheduled_actions.contains(&foreign));
        // A changed plan replaces only what changed.
        let mut plan2 = plan.clone();
        plan2.scheduled_actions[0].min_size = Some(9);
        let changes = diff(&state, &plan2);
        assert_eq!(changes.len(), 1);
        assert!(matches!(&changes[0], Change::PutScheduledAction { old: Some(_), .. }));
    }

    #[test]
    fn stale_actions_go_after_the_new_ones_unless_the_group_would_pass_its_limit() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let at = |m: i64, n: u32, name: &str| {
            ScheduledAction::floor(format!("{OWNED_PREFIX}{name}"), t0 + Duration::minutes(m), n)
        };
        let plan = GroupPlan {
            scheduled_actions: (0..48).map(|i| at(30 * i + 7, 3, &format!("new-{i}"))).collect(),
            ..plan_group("g", "prod", None, &PlanSettings::default(), t0)
        };
        let group = |stale: usize| GroupState {
            group: "g".into(),
            bounds: plan.bounds,
            desired: 1,
            scheduled_actions: (0..stale).map(|i| at(10 * i as i64, 2, &format!("old-{i:03}"))).collect(),
            policies: plan.policies.clone(),
            alarms: plan.alarms.clone(),
            suspended: vec![],
        };
        let kinds = |c: &[Change]| -> Vec<&'static str> {
            c.iter()
                .map(|c| match c {
                    Change::PutScheduledAction { .. } => "put",
                    Change::DeleteScheduledAction { .. } => "delete",
                    _ => "other",
                })
                .collect()
        };
        // Room for both: every put, then every delete.
        let changes = diff(&group(20), &plan);
        assert_eq!(kinds(&changes), [vec!["put"; 48], vec!["delete"; 20]].concat());
        // 100 old and 48 new would make 148: 23 stale actions go first, the 23 that start last.
        let state = group(100);
        let changes = diff(&state, &plan);
        assert_eq!(kinds(&changes), [vec!["delete"; 23], vec!["put"; 48], vec!["delete"; 77]].concat());
        let early: Vec<&str> = changes[..23].iter().map(Change::object_name).collect();
        let latest: Vec<String> = (77..100).map(|i| format!("{OWNED_PREFIX}old-{i:03}")).collect();
        assert_eq!(early, latest);
        let mut sink = RecordingSink::new([state]);
        let report = sink.apply("g", &changes).unwrap();
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert!(diff(&sink.read_state("g").unwrap(), &plan).is_empty());
        // A stale action at a new one's very second goes first: one action per start time.
        let mut clash = group(3);
        clash.scheduled_actions[1].start_time = plan.scheduled_actions[5].start_time;
        let changes = diff(&clash, &plan);
        assert_eq!(kinds(&changes), [vec!["delete"], vec!["put"; 48], vec!["delete"; 2]].concat());
        assert_eq!(changes[0].object_name(), format!("{OWNED_PREFIX}old-001"));
        // Deletions first would have had the same end; puts first without room would not.
        let mut sink = RecordingSink::new([group(100)]);
        let mut puts_first = changes.clone();
        puts_first.sort_by_key(|c| matches!(c, Change::DeleteScheduledAction { .. }));
        assert!(!sink.apply("g", &puts_first).unwrap().failed.is_empty(), "the recording sink keeps the limit");
    }

    #[test]
    fn a_revert_puts_back_only_the_bounds_prescale_left_raised_and_never_maxsize_below_desired() {
        let configured = CapacityBounds::new(1, 20).unwrap();
        let group = |min: u32, max: u32, desired: u32| GroupState {
            group: "web tier".into(),
            bounds: CapacityBounds::new(min, max).unwrap(),
            desired,
            scheduled_actions: vec![],
            policies: vec![],
            alarms: vec![],
            suspended: vec![],
        };
        let set = |min: Option<u32>, max: Option<u32>| LastSet::default().then(min, max, true);
        // As configured: nothing to do or say.
        assert_eq!(restore_bounds(&group(1, 20, 4), configured, set(Some(12), None)), (None, vec![]));
        // MinSize where prescale's last floor left it goes back; MaxSize (nobody raised it) stays.
        let (change, notes) = restore_bounds(&group(12, 20, 12), configured, set(Some(12), None));
        assert_eq!(change, Some(Change::SetBounds { old: CapacityBounds::new(12, 20).unwrap(), new: configured }));
        assert!(notes.is_empty(), "{notes:?}");
        // MinSize set since by something else: left, with the command, the name quoted for a shell.
        let (change, notes) = restore_bounds(&group(6, 20, 6), configured, set(Some(12), None));
        assert_eq!(change, None);
        assert!(
            notes[0].contains("MinSize is 6") && notes[0].contains("last set it to 12, so something else set it since")
        );
        assert!(notes[0].contains("--auto-scaling-group-name 'web tier' --min-size 1"), "{notes:?}");
        // No action of prescale's ran: left too.
        let (change, notes) = restore_bounds(&group(6, 20, 6), configured, LastSet::default());
        assert!(change.is_none() && notes[0].contains("nothing prescale did that took effect"), "{notes:?}");
        // A peak's raised MaxSize goes back with the floor when the group's instances fit under
        // the configured one...
        let (change, notes) = restore_bounds(&group(2, 26, 20), configured, set(Some(2), Some(26)));
        assert_eq!(change, Some(Change::SetBounds { old: CapacityBounds::new(2, 26).unwrap(), new: configured }));
        assert!(notes.is_empty(), "{notes:?}");
        // ... and not while the group runs more: lowering it would terminate instances in
        // service. MinSize goes back all the same.
        let (change, notes) = restore_bounds(&group(24, 26, 24), configured, set(Some(24), Some(26)));
        let new = CapacityBounds::new(1, 26).unwrap();
        assert_eq!(change, Some(Change::SetBounds { old: CapacityBounds::new(24, 26).unwrap(), new }));
        assert!(notes[0].contains("desired capacity 24") && notes[0].contains("--max-size 20"), "{notes:?}");
        // A MaxSize not prescale's stays, whatever the floor does.
        let (change, notes) = restore_bounds(&group(12, 26, 12), configured, set(Some(12), Some(22)));
        let new = CapacityBounds::new(1, 26).unwrap();
        assert_eq!(change, Some(Change::SetBounds { old: CapacityBounds::new(12, 26).unwrap(), new }));
        assert!(
            notes[0].contains("MaxSize is 26") && notes[0].contains("last set it to 22, so something else"),
            "{notes:?}"
        );
        // A revert's change to 1 sent without an answer may not have been made: 12, which prescale
        // set before it, is still prescale's and goes back.
        let uncertain = set(Some(12), None).then(Some(1), None, false);
        assert_eq!(uncertain.min, [12, 1]);
        let (change, notes) = restore_bounds(&group(12, 20, 12), configured, uncertain.clone());
        assert_eq!(change, Some(Change::SetBounds { old: CapacityBounds::new(12, 20).unwrap(), new: configured }));
        assert!(notes.is_empty(), "{notes:?}");
        let (change, notes) = restore_bounds(&group(6, 20, 6), configured, uncertain.clone());
        assert!(change.is_none() && notes[0].contains("last set it to 12 or 1, so something else"), "{notes:?}");
        // A change made for sure settles it.
        assert_eq!(uncertain.then(Some(8), None, true).min, [8]);
    }

    #[test]
    fn alarms_follow_their_policies_in_the_diff_and_in_revert() {
        // The step policy owning scale-in: two alarms, each with its policy.
        let mut settings = PlanSettings::default();
        settings.reactive.step.owns_scale_in = true;
        let plan = plan_group("g", "prod", None, &settings, Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap());
        assert_eq!(plan.alarms.len(), 2);
        let mut sink = RecordingSink::new([GroupState {
            group: "g".into(),
            bounds: plan.bounds,
            desired: 1,
            scheduled_actions: vec![],
            policies: vec![],
            alarms: vec![],
            suspended: vec![],
        }]);
        let changes = diff(&sink.read_state("g").unwrap(), &plan);
        let order: Vec<&str> = changes.iter().map(Change::object_kind).collect();
        // Without a forecast the plan's one action puts MinSize back (see `plan_group`).
        assert_eq!(
            order,
            ["policy", "policy", "policy", "alarm", "alarm", "scheduled_action"],
            "alarms after their policies, floors after the fallback"
        );
        sink.apply("g", &changes).unwrap();
        let state = sink.read_state("g").unwrap();
        assert!(diff(&state, &plan).is_empty());
        // A changed step policy is put again, and so is its alarm (its action is the new ARN).
        let mut changed = plan.clone();
        if let prescale_core::PolicyKind::StepScaling { estimated_instance_warmup_secs, .. } =
            &mut changed.policies[1].kind
        {
            *estimated_instance_warmup_secs = Some(999);
        }
        let changes = diff(&state, &changed);
        let names: Vec<&str> = changes.iter().map(Change::object_name).collect();
        assert_eq!(names, ["prescale-step-out", "prescale-g-step-out"]);
        // Revert deletes the alarms before the policies they trigger.
        let order: Vec<&str> = revert(&state).iter().map(Change::object_kind).collect();
        assert_eq!(order, ["alarm", "alarm", "scheduled_action", "policy", "policy", "policy"]);
    }

    mod properties {
        use super::*;
        use crate::MaxBreach;
        use prescale_core::{PolicyKind, ReactivePolicy};
        use proptest::prelude::*;

        fn t0() -> chrono::DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 3, 27, 0, 0, 0).unwrap()
        }

        fn policy(name: &str, target: f64) -> ReactivePolicy {
            ReactivePolicy {
                name: name.into(),
                kind: PolicyKind::TargetTracking {
                    metric: "ASGAverageCPUUtilization".into(),
                    resource_label: None,
                    target_value: target,
                    estimated_instance_warmup_secs: Some(60),
                    disable_scale_in: false,
                },
            }
        }

        prop_compose! {
            fn random_plan()(point in proptest::collection::vec(0.0..6000.0f64, 1..400),
                             step_up in proptest::option::of(1u32..10), buffer in proptest::option::of(1u32..20),
                             berlin in any::<bool>(), max_actions in 2usize..126) -> prescale_core::GroupPlan {
                let f = Forecast::new("t", t0(), 300, point, vec![]).unwrap();
                let s = PlanSettings {
                    bounds: CapacityBounds::new(1, 30).unwrap(),
                    capacity_per_instance: 100.0,
                    quantile: 0.5,
                    max_actions,
                    max_step_up: step_up,
                    max_breach: buffer.map_or(MaxBreach::Clamp, |buffer| MaxBreach::Raise { buffer }),
                    time_zone: berlin.then_some(chrono_tz::Europe::Berlin),
                    ..PlanSettings::default()
                };
                plan_group("g", "prod", Some(&f), &s, t0())
            }
        }

        prop_compose! {
            /// What a group may hold before: foreign objects, stale objects of ours, and objects
            /// of ours that share a name with the plan's but differ.
            fn random_state(plan: prescale_core::GroupPlan)(
                foreign in proptest::collection::vec((0i64..3000, 0u32..20), 0..5),
                stale in proptest::collection::vec((0i64..3000, 0u32..20), 0..5),
                changed in proptest::collection::vec((any::<prop::sample::Index>(), 0u32..20), 0..5),
                foreign_policy in any::<bool>(), stale_policy in any::<bool>(),
                foreign_alarm in any::<bool>(), stale_alarm in any::<bool>(), changed_alarm in any::<bool>(),
            ) -> (prescale_core::GroupPlan, GroupState) {
                let mut actions: Vec<ScheduledAction> = foreign.iter().enumerate()
                    .map(|(i, (m, n))| ScheduledAction::floor(format!("team-{i}"), t0() + Duration::minutes(*m), *n)).collect();
                actions.extend(stale.iter().enumerate()
                    .map(|(i, (m, n))| ScheduledAction::floor(format!("{OWNED_PREFIX}old-{i}"), t0() + Duration::minutes(*m), *n)));
                if !plan.scheduled_actions.is_empty() {
                    for (ix, n) in &changed {
                        let mut a = ix.get(&plan.scheduled_actions).clone();
                        a.min_size = Some(*n);
                        actions.retain(|x| x.name != a.name);
                        actions.push(a);
                    }
                }
                let mut policies = Vec::new();
                if foreign_policy { policies.push(policy("team-cpu", 50.0)); }
                if stale_policy { policies.push(policy(&format!("{OWNED_PREFIX}target-tracking"), 12.0)); }
                let mut alarms = Vec::new();
                if let Some(a) = plan.alarms.first() {
                    if foreign_alarm { alarms.push(prescale_core::MetricAlarm { name: "team-cpu-high".into(), ..a.clone() }); }
                    if stale_alarm { alarms.push(prescale_core::MetricAlarm { name: format!("{OWNED_PREFIX}g-old"), ..a.clone() }); }
                    if changed_alarm { alarms.push(prescale_core::MetricAlarm { threshold: a.threshold + 1.0, ..a.clone() }); }
                }
                let state = GroupState { group: "g".into(), bounds: plan.bounds, desired: 1, scheduled_actions: actions, policies, alarms, suspended: vec![] };
                (plan.clone(), state)
            }
        }

        type Objects = (Vec<ScheduledAction>, Vec<ReactivePolicy>, Vec<prescale_core::MetricAlarm>);

        fn foreign(s: &GroupState) -> Objects {
            let mut a: Vec<_> = s.scheduled_actions.iter().filter(|a| !is_owned(&a.name)).cloned().collect();
            a.sort_by(|x, y| x.name.cmp(&y.name));
            (
                a,
                s.policies.iter().filter(|p| !is_owned(&p.name)).cloned().collect(),
                s.alarms.iter().filter(|p| !is_owned(&p.name)).cloned().collect(),
            )
        }

        proptest! {
            #[test]
            fn applying_a_plan_twice_changes_nothing_the_second_time((plan, state) in random_plan().prop_flat_map(random_state)) {
                let mut sink = RecordingSink::new([state.clone()]);
                let first = diff(&state, &plan);
                sink.apply("g", &first).unwrap();
                let after = sink.read_state("g").unwrap();
                prop_assert!(diff(&after, &plan).is_empty(), "{:?}", diff(&after, &plan));
                // Auto Scaling reports `Etc/UTC` for an action written without a zone: still the same.
                let mut reported = after.clone();
                for a in &mut reported.scheduled_actions {
                    a.time_zone.get_or_insert_with(|| "Etc/UTC".into());
                }
                prop_assert!(diff(&reported, &plan).is_empty());
                // The group holds exactly the plan's objects of ours, and everybody else's untouched.
                prop_assert_eq!(foreign(&after), foreign(&state));
                let mut ours: Vec<_> = after.scheduled_actions.iter().filter(|a| is_owned(&a.name)).cloned().collect();
                ours.sort_by_key(|a| a.start_time);
                prop_assert_eq!(&ours, &plan.scheduled_actions);
                let mut alarms: Vec<_> = after.alarms.iter().filter(|a| is_owned(&a.name)).cloned().collect();
                alarms.sort_by(|x, y| x.name.cmp(&y.name));
                let mut planned = plan.alarms.clone();
                planned.sort_by(|x, y| x.name.cmp(&y.name));
                prop_assert_eq!(alarms, planned);
                // Revert leaves only the others' objects, and a second revert has nothing to do.
                sink.apply("g", &revert(&after)).unwrap();
                let reverted = sink.read_state("g").unwrap();
                prop_assert_eq!(foreign(&reverted), foreign(&state));
                prop_assert!(reverted.scheduled_actions.iter().all(|a| !is_owned(&a.name)));
                prop_assert!(reverted.policies.iter().all(|p| !is_owned(&p.name)));
                prop_assert!(reverted.alarms.iter().all(|a| !is_owned(&a.name)));
                prop_assert!(revert(&reverted).is_empty());
            }

            #[test]
            fn floors_kept_in_place_are_never_short_of_the_plans(
                min in 0u32..6,
                old in proptest::collection::btree_map(0i64..60, 0u32..9, 0..12),
                new in proptest::collection::btree_map(0i64..60, 0u32..9, 1..12),
                now in 0i64..30,
                within in 0i64..40,
            ) {
                // Floors on a 5-minute grid over five hours, from `now` on.
                let at = |slot: i64, floor: u32| {
                    let t = t0() + Duration::minutes(5 * slot + 1);
                    ScheduledAction::floor(format!("{OWNED_PREFIX}floor-{}", t.format("%H%M")), t, floor)
                };
                let now = t0() + Duration::minutes(5 * now);
                let state = GroupState {
                    group: "g".into(),
                    bounds: CapacityBounds::new(min, 40).unwrap(),
                    desired: min,
                    scheduled_actions: old.iter().map(|(&s, &f)| at(s, f)).filter(|a| a.start_time > now).collect(),
                    policies: vec![],
                    alarms: vec![],
                    suspended: vec![],
                };
                let plan = GroupPlan {
                    scheduled_actions: new.iter().map(|(&s, &f)| at(s, f.max(min))).collect(),
                    policies: vec![],
                    alarms: vec![],
                    ..plan_group("g", "prod", None, &PlanSettings::default(), t0())
                };
                let plan = due_now(&plan, &state, now);
                let (kept, _) = keep_in_place(&plan, &state, now, Duration::minutes(within));
                let floor = |p: &GroupPlan, t| {
                    p.scheduled_actions.iter().filter(|a| a.start_time <= t).filter_map(|a| a.min_size).next_back().unwrap_or(min)
                };
                for minute in 0..=320 {
                    let t = now + Duration::minutes(minute);
                    prop_assert!(floor(&kept, t) >= floor(&plan, t), "at {t}: {kept:?} against {plan:?}");
                }
                // Written, then planned the same again: nothing to change.
                let mut sink = RecordingSink::new([state.clone()]);
                sink.apply("g", &diff(&state, &kept)).unwrap();
                let after = sink.read_state("g").unwrap();
                prop_assert!(diff(&after, &keep_in_place(&plan, &after, now, Duration::minutes(within)).0).is_empty());
            }
        }
    }
}
