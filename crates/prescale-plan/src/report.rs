//! What a plan costs in instance-hours, against a group kept at its peak all the time.

use prescale_core::GroupPlan;

/// Instance-hours of a plan's floors over its forecast horizon, and of a static group sized for
/// the plan's highest floor over the same time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloorHours {
    /// Hours covered (the forecast horizon).
    pub hours: f64,
    /// Instance-hours of the scheduled floors (the group's minimum before the first action).
    pub planned: f64,
    /// Instance-hours of a static group at the highest floor.
    pub static_peak: f64,
    /// Instance-hours of floors held past the horizon (an event that runs past it keeps the
    /// horizon's last floor to its end), if no later run replans them; 0 without.
    pub held_past: f64,
}

/// The floors' instance-hours, or `None` for a plan without a forecast (reactive only).
pub fn floor_hours(plan: &GroupPlan) -> Option<FloorHours> {
    let f = plan.forecast.as_ref()?;
    let (from, to) = (f.from, f.to);
    let mut floor = plan.bounds.min();
    let mut t = from;
    let mut planned = 0.0;
    let mut peak = floor;
    for a in &plan.scheduled_actions {
        let Some(size) = a.min_size else { continue };
        let at = a.start_time.clamp(from, to);
        planned += f64::from(floor) * (at - t).num_seconds() as f64 / 3600.0;
        (t, floor) = (at, size);
        if a.start_time < to {
            peak = peak.max(size);
        }
    }
    planned += f64::from(floor) * (to - t).num_seconds().max(0) as f64 / 3600.0;
    let hours = (to - from).num_seconds() as f64 / 3600.0;
    // Past the horizon: each floor in force there, up to the last action (the one back to MinSize).
    let mut held_past = 0.0;
    let mut floor_then = plan.bounds.min();
    let mut since = to;
    for a in &plan.scheduled_actions {
        let Some(size) = a.min_size else { continue };
        if a.start_time > to {
            held_past += f64::from(floor_then) * (a.start_time - since).num_seconds() as f64 / 3600.0;
            since = a.start_time;
        }
        floor_then = size;
    }
    Some(FloorHours { hours, planned, static_peak: f64::from(peak) * hours, held_past })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use prescale_core::{CapacityBounds, ForecastSummary, ScheduledAction};

    #[test]
    fn floors_are_integrated_over_the_horizon() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let action = |h: i64, n: u32| ScheduledAction {
            name: format!("prescale-floor-{h}"),
            start_time: t0 + Duration::hours(h),
            min_size: Some(n),
            max_size: None,
            desired_capacity: None,
            time_zone: None,
            recurrence: None,
        };
        let plan = GroupPlan {
            group: "g".into(),
            environment: "prod".into(),
            bounds: CapacityBounds::new(2, 20).unwrap(),
            forecast: Some(ForecastSummary {
                model: "m".into(),
                metric: "requests".into(),
                quantile: 0.9,
                from: t0,
                to: t0 + Duration::hours(10),
                peak_point: 1.0,
                peak_at: t0,
                peak_quantile: 1.0,
                sizing: None,
                time_zone: None,
            }),
            required: vec![],
            scheduled_actions: vec![action(2, 10), action(4, 4), action(10, 2)],
            policies: vec![],
            alarms: vec![],
            decisions: vec![],
            raised_max: None,
            events_digest: None,
            events: Vec::new(),
        };
        let h = floor_hours(&plan).unwrap();
        // 2 h at the minimum 2, 2 h at 10, 6 h at 4 = 4 + 20 + 24.
        assert_eq!(h.planned, 48.0);
        assert_eq!(h.static_peak, 100.0);
        assert_eq!(h.hours, 10.0);
    }
}
