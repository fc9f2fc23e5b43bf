use prescale_core::{Change, GroupPlan, GroupState, OWNED_PREFIX, ReactivePolicy, ScheduledAction};

/// True for objects prescale created (and so may change or delete).
pub fn is_owned(name: &str) -> bool {
    name.starts_with(OWNED_PREFIX)
}

fn same_action(a: &ScheduledAction, b: &ScheduledAction) -> bool {
    // Auto Scaling keeps start times to the second.
    a.start_time.timestamp() == b.start_time.timestamp()
        && a.min_size == b.min_size
        && a.max_size == b.max_size
        && a.desired_capacity == b.desired_capacity
}

fn same_policy(a: &ReactivePolicy, b: &ReactivePolicy) -> bool {
    a == b
}

/// The changes that make `state` match `plan`, for prescale's own objects only: planned objects
/// that are missing or differ are put, owned objects the plan no longer has are deleted, and
/// objects of anyone else are never touched. Deletions come first, so the group never holds more
/// scheduled actions than the plan plus what others own.
pub fn diff(state: &GroupState, plan: &GroupPlan) -> Vec<Change> {
    let mut deletes = Vec::new();
    let mut puts = Vec::new();
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
    for new in &plan.scheduled_actions {
        let old = state.scheduled_actions.iter().find(|a| a.name == new.name);
        if !old.is_some_and(|o| same_action(o, new)) {
            puts.push(Change::PutScheduledAction { new: new.clone(), old: old.cloned() });
        }
    }
    for new in &plan.policies {
        let old = state.policies.iter().find(|p| p.name == new.name);
        if !old.is_some_and(|o| same_policy(o, new)) {
            puts.push(Change::PutPolicy { new: new.clone(), old: old.cloned() });
        }
    }
    deletes.extend(puts);
    deletes
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use prescale_core::{CapacityBounds, Forecast};

    use crate::{PlanSettings, RecordingSink, plan_group};
    use prescale_core::ActionSink;

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
        let foreign = ScheduledAction {
            name: "team-nightly-batch".into(),
            start_time: t0 + Duration::hours(3),
            min_size: Some(7),
            max_size: None,
            desired_capacity: None,
        };
        let stale = ScheduledAction {
            name: format!("{OWNED_PREFIX}floor-old"),
            start_time: t0,
            min_size: Some(4),
            max_size: None,
            desired_capacity: None,
        };
        let mut sink = RecordingSink::new([GroupState {
            group: "g".into(),
            bounds: s.bounds,
            desired: 1,
            scheduled_actions: vec![foreign.clone(), stale],
            policies: vec![],
        }]);
        let state = sink.read_state("g").unwrap();
        let changes = diff(&state, &plan);
        assert!(matches!(changes[0], Change::DeleteScheduledAction { .. }));
        assert_eq!(changes.len(), 1 + plan.scheduled_actions.len() + plan.policies.len());
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
}
