//! Guardrails: limits a plan must respect before `apply` touches a group. The planner keeps to
//! them by itself where it can (it ramps rises instead of jumping); `apply` checks again,
//! because a plan file may come from another version, another configuration or an editor.

use std::collections::BTreeMap;
use std::fmt;

use prescale_core::GroupPlan;
use serde::{Deserialize, Serialize};

/// The `[guardrails]` section: limits on what one run may do. Unset means no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Guardrails {
    /// No scheduled action may raise a group's floor by more than this many instances over the
    /// action before it. Lowering is not limited: a lower floor removes no instance by itself.
    pub max_step_up: Option<u32>,
    /// The sum over the groups of one run of each group's highest planned floor may not exceed
    /// this many instances.
    pub max_fleet_size: Option<u32>,
}

/// One way a plan breaks a guardrail; its text names the group, the action and the limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "guardrail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Breach {
    /// An action raises the floor by more than `max_step_up`.
    MaxStepUp {
        /// The group.
        group: String,
        /// The action that raises the floor.
        action: String,
        /// Floor before it (the previous action's).
        from: u32,
        /// Floor it sets.
        to: u32,
        /// The limit.
        limit: u32,
    },
    /// The highest planned floors of the run add up to more than `max_fleet_size`.
    MaxFleetSize {
        /// Each group's highest floor, and the action that sets it.
        peaks: Vec<(String, String, u32)>,
        /// Their sum.
        total: u64,
        /// The limit.
        limit: u32,
    },
    /// An action sets a floor above the group's configured ceiling (`max_size`, plus the
    /// `max_breach_buffer` when raising is allowed).
    AboveCeiling {
        /// The group.
        group: String,
        /// The action.
        action: String,
        /// Floor it sets.
        floor: u32,
        /// The ceiling from the configuration.
        ceiling: u32,
    },
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Breach::MaxStepUp { group, action, from, to, limit } => write!(
                f,
                "group {group}: action {action} raises the floor from {from} to {to} (+{}), more than \
                 [guardrails] max_step_up = {limit}",
                to - from
            ),
            Breach::MaxFleetSize { peaks, total, limit } => {
                let parts: Vec<String> = peaks.iter().map(|(g, a, n)| format!("{g} {n} ({a})")).collect();
                write!(
                    f,
                    "the run plans {total} instances at the groups' peaks, more than [guardrails] max_fleet_size = \
                     {limit}: {}",
                    parts.join(", ")
                )
            }
            Breach::AboveCeiling { group, action, floor, ceiling } => write!(
                f,
                "group {group}: action {action} sets the floor to {floor}, above its configured ceiling {ceiling} \
                 (max_size, plus max_breach_buffer with max_breach = \"raise\")"
            ),
        }
    }
}

/// Every guardrail `groups` break. `ceilings` holds, per group known to the configuration, the
/// highest floor it allows; groups missing from it are not checked against a ceiling.
pub fn check(groups: &[GroupPlan], limits: &Guardrails, ceilings: &BTreeMap<String, u32>) -> Vec<Breach> {
    let mut out = Vec::new();
    for g in groups {
        if let Some(limit) = limits.max_step_up {
            for w in g.scheduled_actions.windows(2) {
                let (Some(from), Some(to)) = (w[0].min_size, w[1].min_size) else { continue };
                if to > from && to - from > limit {
                    out.push(Breach::MaxStepUp { group: g.group.clone(), action: w[1].name.clone(), from, to, limit });
                }
            }
        }
        if let Some(&ceiling) = ceilings.get(&g.group) {
            for a in &g.scheduled_actions {
                if let Some(floor) = a.min_size.filter(|m| *m > ceiling) {
                    out.push(Breach::AboveCeiling { group: g.group.clone(), action: a.name.clone(), floor, ceiling });
                }
            }
        }
    }
    if let Some(limit) = limits.max_fleet_size {
        let peaks: Vec<(String, String, u32)> = groups
            .iter()
            .map(|g| {
                let peak = g.scheduled_actions.iter().filter(|a| a.min_size.is_some()).max_by_key(|a| a.min_size);
                match peak {
                    Some(a) if a.min_size.unwrap_or(0) > g.bounds.min() => {
                        (g.group.clone(), a.name.clone(), a.min_size.unwrap_or(0))
                    }
                    _ => (g.group.clone(), "MinSize".into(), g.bounds.min()),
                }
            })
            .collect();
        let total: u64 = peaks.iter().map(|p| u64::from(p.2)).sum();
        if total > u64::from(limit) {
            out.push(Breach::MaxFleetSize { peaks, total, limit });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use prescale_core::{CapacityBounds, ScheduledAction};

    fn plan(group: &str, floors: &[u32]) -> GroupPlan {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        GroupPlan {
            group: group.into(),
            environment: "prod".into(),
            bounds: CapacityBounds::new(2, 40).unwrap(),
            raised_max: None,
            forecast: None,
            required: vec![],
            scheduled_actions: floors
                .iter()
                .enumerate()
                .map(|(i, f)| ScheduledAction::floor(format!("prescale-floor-{i}"), t0 + Duration::hours(i as i64), *f))
                .collect(),
            policies: vec![],
            alarms: vec![],
            decisions: vec![],
            events_digest: None,
        }
    }

    #[test]
    fn each_limit_names_the_group_the_action_and_the_limit() {
        let groups = [plan("web", &[4, 9, 20, 2]), plan("api", &[10, 12, 2])];
        let none = BTreeMap::new();
        assert!(check(&groups, &Guardrails::default(), &none).is_empty());
        let limits = Guardrails { max_step_up: Some(5), max_fleet_size: Some(30) };
        let ceilings = BTreeMap::from([("web".to_string(), 18)]);
        let b = check(&groups, &limits, &ceilings);
        let text: Vec<String> = b.iter().map(ToString::to_string).collect();
        assert_eq!(b.len(), 3, "{text:#?}");
        assert!(
            text[0].contains("group web: action prescale-floor-2 raises the floor from 9 to 20 (+11)"),
            "{}",
            text[0]
        );
        assert!(text[0].contains("max_step_up = 5"));
        assert!(text[1].contains("sets the floor to 20, above its configured ceiling 18"), "{}", text[1]);
        assert!(text[2].contains("32 instances") && text[2].contains("max_fleet_size = 30"), "{}", text[2]);
        assert!(text[2].contains("web 20 (prescale-floor-2)") && text[2].contains("api 12 (prescale-floor-1)"));
        // Steps down and exactly the limit are fine.
        let ok = [plan("web", &[4, 9, 14, 2])];
        assert!(check(&ok, &Guardrails { max_step_up: Some(5), max_fleet_size: Some(14) }, &none).is_empty());
    }
}
