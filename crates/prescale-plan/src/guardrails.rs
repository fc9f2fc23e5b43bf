//! Guardrails: limits a plan must respect before `apply` touches a group. The planner keeps to
//! them by itself where it can (it ramps rises instead of jumping); `apply` checks again,
//! because a plan file may come from another version, another configuration or an editor.

use std::collections::BTreeMap;
use std::fmt;

use prescale_core::{DecisionKind, GroupPlan};
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
    /// What a run whose peaks pass `max_fleet_size` does (default: `apply` refuses it).
    pub fleet_breach: FleetBreach,
}

/// What a run whose floors' peaks add up to more than `max_fleet_size` does (`[guardrails]
/// fleet_breach`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetBreach {
    /// `apply` refuses the whole run and every group's floors in place stay: a person decides
    /// whether the forecasts or the limit are wrong.
    #[default]
    Refuse,
    /// The planner takes every planned group's floors above its `MinSize` down by one factor so
    /// that the peaks fit ([`fit_fleet`]); each group's decisions say so (asked for, it does not
    /// fail `nightly --strict`).
    Scale,
}

impl Guardrails {
    /// `max_fleet_size` where the planner scales the floors to fit it (`fleet_breach = "scale"`).
    pub fn scaling_limit(&self) -> Option<u32> {
        self.max_fleet_size.filter(|_| self.fleet_breach == FleetBreach::Scale)
    }
}

/// What a group counts towards `max_fleet_size`: its highest planned floor, at least its `MinSize`.
pub fn fleet_peak(g: &GroupPlan) -> u32 {
    g.scheduled_actions.iter().filter_map(|a| a.min_size).max().unwrap_or(0).max(g.bounds.min())
}

/// The start of the decision [`fit_fleet`] adds to each group it scales
/// ([`DecisionKind::FleetScaled`]).
pub const FLEET_SCALED: &str = "floors scaled to fit max_fleet_size";

/// With `fleet_breach = "scale"`: where the peaks of `plans` and `fixed` (what the groups outside
/// the run count, as they stand) add up to more than `limit`, each plan's floors above its
/// `MinSize` are scaled down by about one factor, `room / excess` (`room`: the limit less `fixed`
/// and the planned groups' `MinSize`s; `excess`: the sum of their peaks above `MinSize`), so that
/// the peaks add up to the limit: each group's peak gets its share of `room` rounded down, the
/// instances left over go to the largest remainders, and its other floors scale with its peak,
/// rounded down. An action left setting what the one before it sets is dropped, and each scaled
/// group gets a decision saying so. Returns the factor, `None` where the peaks fit, and an error,
/// with nothing changed, where the `MinSize`s alone pass the limit.
pub fn fit_fleet(plans: &mut [GroupPlan], fixed: u64, limit: u32) -> Result<Option<f64>, String> {
    let total: u64 = fixed + plans.iter().map(|g| u64::from(fleet_peak(g))).sum::<u64>();
    if total <= u64::from(limit) {
        return Ok(None);
    }
    let mins: u64 = plans.iter().map(|g| u64::from(g.bounds.min())).sum();
    // Each peak above its MinSize.
    let over: Vec<u64> = plans.iter().map(|g| u64::from(fleet_peak(g) - g.bounds.min())).collect();
    let excess: u64 = over.iter().sum();
    let Some(room) = u64::from(limit).checked_sub(fixed + mins).filter(|_| excess > 0) else {
        return Err(format!(
            "the run's MinSizes ({mins}) and the groups outside it ({fixed}) already add up to more than \
             [guardrails] max_fleet_size = {limit}: no scaling of the floors fits it"
        ));
    };
    let factor = room as f64 / excess as f64;
    // Each peak's excess gets its share of the room, in whole instances: rounded down, then one
    // more for the largest remainders until the room is used (exact in integers).
    let mut targets: Vec<u64> = over.iter().map(|e| e * room / excess).collect();
    let mut by_remainder: Vec<usize> = (0..plans.len()).filter(|&i| over[i] > 0).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(over[i] * room % excess));
    let left = room - targets.iter().sum::<u64>();
    for &i in by_remainder.iter().take(usize::try_from(left).unwrap_or(usize::MAX)) {
        targets[i] += 1;
    }
    for (g, (&over, &target)) in plans.iter_mut().zip(over.iter().zip(&targets)) {
        let (min, peak) = (g.bounds.min(), fleet_peak(g));
        // A group whose share is its whole peak (rounded up to it) keeps its floors as planned.
        if target >= over {
            continue;
        }
        let scale = |n: u32| min + u32::try_from(u64::from(n - min) * target / over).unwrap_or(0);
        for a in &mut g.scheduled_actions {
            for size in [&mut a.min_size, &mut a.desired_capacity] {
                if let Some(n) = size.filter(|n| *n > min) {
                    *size = Some(scale(n));
                }
            }
        }
        // A MaxSize raised for floors that no longer pass it goes back to the configured one.
        let lowered_max = g.raised_max.is_some() && fleet_peak(g) <= g.bounds.max();
        if lowered_max {
            for a in &mut g.scheduled_actions {
                a.max_size = a.max_size.map(|m| m.min(g.bounds.max()));
            }
            g.raised_max = None;
        }
        let mut kept: Vec<prescale_core::ScheduledAction> = Vec::with_capacity(g.scheduled_actions.len());
        for a in std::mem::take(&mut g.scheduled_actions) {
            let same = |b: &prescale_core::ScheduledAction| {
                (b.min_size, b.max_size, b.desired_capacity) == (a.min_size, a.max_size, a.desired_capacity)
                    && b.recurrence.is_none()
                    && a.recurrence.is_none()
            };
            if !kept.last().is_some_and(same) {
                kept.push(a);
            }
        }
        g.scheduled_actions = kept;
        // The floors' own decision says them as they are now.
        let written = crate::schedule::floors_summary(&g.scheduled_actions);
        if let Some(d) = g.decisions.iter_mut().find(|d| d.kind == DecisionKind::Floors) {
            d.what = format!("{written} (after the fleet's scaling; planned: {})", d.what);
        }
        // Events whose floors these are: cut with the rest, and their decisions say so.
        let events = g.decisions.iter().filter(|d| crate::moved_floors(d)).count();
        for d in g.decisions.iter_mut().filter(|d| crate::moved_floors(d)) {
            d.what.push_str(&format!(" (before the fleet's scaling, ×{:.2} here)", target as f64 / over as f64));
        }
        g.decisions.push(prescale_core::PlanDecision::new(
            DecisionKind::FleetScaled,
            format!("{FLEET_SCALED}: peak {peak} → {}", fleet_peak(g)),
            format!(
                "the run's floors peak at {total} instances over the fleet{}, more than [guardrails] max_fleet_size = \
                 {limit}; with fleet_breach = \"scale\" every planned group's floors above its MinSize are scaled by \
                 about one factor, ×{factor:.2} (its own ×{:.2}, in whole instances){}{}; its reactive policy covers \
                 the rest, up to its MaxSize",
                if fixed > 0 {
                    format!(" ({fixed} of them the groups outside this run, as they stand)")
                } else {
                    String::new()
                },
                target as f64 / over as f64,
                match events {
                    0 => String::new(),
                    1 => ", the floors its event sets too".to_string(),
                    _ => ", the floors its events set too".to_string(),
                },
                if lowered_max {
                    format!("; its MaxSize is no longer raised, the floors within {}", g.bounds.max())
                } else {
                    String::new()
                }
            ),
        ));
    }
    Ok(Some(factor))
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
                let peak = fleet_peak(g);
                match g.scheduled_actions.iter().find(|a| a.min_size == Some(peak)) {
                    Some(a) if peak > g.bounds.min() => (g.group.clone(), a.name.clone(), peak),
                    _ => (g.group.clone(), "MinSize".into(), peak),
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
            events: Vec::new(),
        }
    }

    #[test]
    fn each_limit_names_the_group_the_action_and_the_limit() {
        let groups = [plan("web", &[4, 9, 20, 2]), plan("api", &[10, 12, 2])];
        let none = BTreeMap::new();
        assert!(check(&groups, &Guardrails::default(), &none).is_empty());
        let limits = Guardrails { max_step_up: Some(5), max_fleet_size: Some(30), ..Guardrails::default() };
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
        assert!(
            check(&ok, &Guardrails { max_step_up: Some(5), max_fleet_size: Some(14), ..Guardrails::default() }, &none)
                .is_empty()
        );
    }

    #[test]
    fn fleet_scaling_takes_every_groups_floors_above_min_size_down_by_one_factor() {
        let floors = |g: &GroupPlan| -> Vec<u32> { g.scheduled_actions.iter().filter_map(|a| a.min_size).collect() };
        let limits = Guardrails { max_fleet_size: Some(30), ..Guardrails::default() };
        let none = BTreeMap::new();
        let mut groups = [plan("web", &[4, 9, 20, 2]), plan("api", &[10, 12, 2])];
        let before = groups.clone();
        // Peaks 20 + 12 over 30: the 28 instances above the MinSizes (2 + 2) get 26, 16.7 and 9.3
        // of them, 17 and 9 in whole instances; the other floors scale with their group's peak.
        let factor = fit_fleet(&mut groups, 0, 30).unwrap().unwrap();
        assert!((factor - 26.0 / 28.0).abs() < 1e-12);
        assert_eq!(floors(&groups[0]), [3, 8, 19, 2]);
        assert_eq!(floors(&groups[1]), [9, 11, 2]);
        assert!(check(&groups, &limits, &none).is_empty());
        let d = &groups[0].decisions[0];
        assert!(d.what.starts_with(FLEET_SCALED) && d.what.ends_with("peak 20 → 19"), "{}", d.what);
        assert!(d.why.contains("peak at 32 instances") && d.why.contains("×0.93 (its own ×0.94"), "{}", d.why);
        // The groups outside the run count as they stand; within the limit nothing moves.
        let mut fits = before.clone();
        assert_eq!(fit_fleet(&mut fits, 0, 32), Ok(None));
        assert_eq!(fits, before);
        let mut crowded = before.clone();
        fit_fleet(&mut crowded, 10, 30).unwrap();
        assert!(check(&[&crowded[..], &[plan("other", &[10])]].concat(), &limits, &none).is_empty());
        // MinSizes alone over the limit: no scaling fits, nothing changes.
        let mut none_fits = before.clone();
        let why = fit_fleet(&mut none_fits, 27, 30).unwrap_err();
        assert!(why.contains("MinSizes (4) and the groups outside it (27)"), "{why}");
        assert_eq!(none_fits, before);
        // An action left setting the floor of the one before it goes.
        let mut flat = [plan("a", &[3, 5, 9])];
        fit_fleet(&mut flat, 0, 3).unwrap();
        assert_eq!(floors(&flat[0]), [2, 3]);
        // A MaxSize raised for a peak the scaling brings within the configured one goes back to it.
        let mut raised = plan("r", &[4, 50, 4]);
        raised.raised_max = Some(55);
        raised.scheduled_actions[1].max_size = Some(55);
        raised.scheduled_actions[2].max_size = Some(40);
        let mut raised = [raised];
        fit_fleet(&mut raised, 0, 30).unwrap();
        assert_eq!(floors(&raised[0]), [3, 30, 3]);
        assert_eq!(raised[0].raised_max, None);
        assert!(raised[0].scheduled_actions.iter().all(|a| a.max_size.is_none_or(|m| m == 40)));
        assert!(raised[0].decisions[0].why.contains("no longer raised"), "{:?}", raised[0].decisions);
    }

    proptest::proptest! {
        #[test]
        fn fleet_scaling_fits_the_limit_and_only_lowers_floors(
            groups in proptest::collection::vec((0u32..5, proptest::collection::vec(0u32..40, 1..8)), 1..5),
            fixed in 0u64..20,
            limit in 0u32..120,
        ) {
            let mut plans: Vec<GroupPlan> = groups
                .iter()
                .enumerate()
                .map(|(i, (min, floors))| {
                    let floors: Vec<u32> = floors.iter().map(|f| f.max(min)).copied().collect();
                    GroupPlan { bounds: CapacityBounds::new(*min, 60).unwrap(), ..plan(&format!("g{i}"), &floors) }
                })
                .collect();
            let before = plans.clone();
            let at = |g: &GroupPlan, t| g.scheduled_actions.iter().filter(|a| a.start_time <= t).filter_map(|a| a.min_size).next_back();
            let peaks = |p: &[GroupPlan]| fixed + p.iter().map(|g| u64::from(fleet_peak(g))).sum::<u64>();
            let mins = fixed + plans.iter().map(|g| u64::from(g.bounds.min())).sum::<u64>();
            match fit_fleet(&mut plans, fixed, limit) {
                Ok(None) => {
                    proptest::prop_assert!(peaks(&before) <= u64::from(limit));
                    proptest::prop_assert_eq!(&plans, &before);
                }
                Ok(Some(factor)) => {
                    proptest::prop_assert!(factor < 1.0);
                    proptest::prop_assert_eq!(peaks(&plans), u64::from(limit));
                    for (g, old) in plans.iter().zip(&before) {
                        // Never above the plan's floor nor below MinSize, and no rise steeper
                        // than the plan's (max_step_up holds).
                        let mut last: Option<(u32, u32)> = None;
                        for a in &old.scheduled_actions {
                            let (now, then) = (at(g, a.start_time).unwrap(), a.min_size.unwrap());
                            proptest::prop_assert!(now <= then && now >= g.bounds.min());
                            if let Some((was_now, was_then)) = last {
                                proptest::prop_assert!(now.saturating_sub(was_now) <= then.saturating_sub(was_then));
                            }
                            last = Some((now, then));
                        }
                        if g != old {
                            for w in g.scheduled_actions.windows(2) {
                                proptest::prop_assert!(w[0].min_size != w[1].min_size);
                            }
                        }
                    }
                }
                Err(_) => {
                    proptest::prop_assert!(mins > u64::from(limit));
                    proptest::prop_assert_eq!(&plans, &before);
                }
            }
        }
    }
}
