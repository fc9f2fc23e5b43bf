use chrono::{DateTime, Duration, DurationRound, Utc};
use prescale_core::{
    CapacityBounds, Forecast, ForecastSummary, GroupPlan, OWNED_PREFIX, PlanDecision, PolicyKind, ReactivePolicy,
    ScheduledAction,
};
use serde::{Deserialize, Serialize};

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
    /// Seconds a new instance needs before it serves (boot + warm-up).
    pub warmup_secs: u32,
}

impl Default for ReactiveSettings {
    fn default() -> Self {
        Self { metric: "ASGAverageCPUUtilization".into(), target_value: 70.0, resource_label: None, warmup_secs: 300 }
    }
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
    /// Extra capacity on top, as a fraction (0.1 = 10 %).
    pub headroom: f64,
    /// How long before the demand its capacity must be in place (boot + warm-up + buffer).
    pub lead_time: Duration,
    /// A floor that steps down must stay down at least this long, else the dip is filled.
    pub min_hold: Duration,
    /// At most this many scheduled actions per group (≤ 125, the Auto Scaling limit).
    pub max_actions: usize,
    /// The reactive fallback policy.
    pub reactive: ReactiveSettings,
}

impl Default for PlanSettings {
    fn default() -> Self {
        Self {
            bounds: CapacityBounds::new(1, 10).unwrap_or_else(|_| unreachable!()),
            capacity_per_instance: 1.0,
            target_utilization: 0.7,
            quantile: 0.9,
            headroom: 0.0,
            lead_time: Duration::minutes(10),
            min_hold: Duration::hours(1),
            max_actions: 48,
            reactive: ReactiveSettings::default(),
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

/// Instances needed per step for the forecast quantile (unclamped).
fn required(forecast: &Forecast, s: &PlanSettings) -> Vec<u32> {
    let per = (s.capacity_per_instance * s.target_utilization).max(f64::MIN_POSITIVE);
    forecast
        .quantile(s.quantile)
        .iter()
        .map(|q| {
            let need = (q.max(0.0) * (1.0 + s.headroom.max(0.0)) / per).ceil();
            if need.is_finite() { need.min(f64::from(u32::MAX)) as u32 } else { u32::MAX }
        })
        .collect()
}

/// Makes the plan for one group. With no forecast (none made, or not trusted) the plan holds no
/// scheduled actions and relies on the reactive policy alone; every choice is recorded in
/// [`GroupPlan::decisions`].
pub fn plan_group(
    group: &str,
    environment: &str,
    forecast: Option<&Forecast>,
    s: &PlanSettings,
    now: DateTime<Utc>,
) -> GroupPlan {
    let mut decisions = Vec::new();
    let mut decide = |what: String, why: String| decisions.push(PlanDecision { what, why });
    let policies = vec![reactive_policy(s)];
    decide(
        format!("reactive fallback: target tracking on {} at {}", s.reactive.metric, s.reactive.target_value),
        format!("covers load the forecast did not see; instance warm-up {} s", s.reactive.warmup_secs),
    );
    let Some(f) = forecast.filter(|f| !f.is_empty()) else {
        decide(
            "no scheduled floors".into(),
            "no forecast to trust for this group: the reactive policy alone scales it".into(),
        );
        return GroupPlan {
            group: group.into(),
            environment: environment.into(),
            bounds: s.bounds,
            forecast: None,
            required: Vec::new(),
            scheduled_actions: Vec::new(),
            policies,
            decisions,
        };
    };
    let step = f.step_secs.max(1);
    let raw_required = required(f, s);
    let clamped: Vec<u32> = raw_required.iter().map(|r| s.bounds.clamp(*r)).collect();
    let over = raw_required.iter().filter(|r| **r > s.bounds.max()).count();
    if over > 0 {
        decide(
            format!("clamped {over} steps to MaxSize {}", s.bounds.max()),
            format!(
                "the P{:.0} forecast needs up to {} instances; raise max_size to plan for it",
                s.quantile * 100.0,
                raw_required.iter().max().copied().unwrap_or(0)
            ),
        );
    }
    // Lead: the floor at step i covers the demand of steps i ..= i + lead, so capacity is in place
    // `lead_time` before the demand it serves.
    let lead_steps = (s.lead_time.num_seconds().max(0) + step - 1) / step;
    let lead_steps = lead_steps as usize;
    let n = clamped.len();
    let floors: Vec<u32> =
        (0..n).map(|i| clamped[i..(i + lead_steps + 1).min(n)].iter().copied().max().unwrap_or(0)).collect();
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
            format!("filled {filled} short dips"),
            format!("a floor only steps down when it can stay down for {} min", s.min_hold.num_minutes()),
        );
    }
    // Limits: merge the cheapest neighbouring pair (fewest extra instance-steps when the lower
    // segment is raised to the higher) until the schedule, plus its closing action, fits.
    let budget = s.max_actions.clamp(2, MAX_ACTIONS_PER_GROUP) - 1;
    let before = segs.len();
    while segs.len() > budget {
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
        coalesce(&mut segs);
    }
    if segs.len() < before {
        decide(
            format!("merged {before} floor changes into {}", segs.len()),
            format!("at most {} scheduled actions per group (Auto Scaling allows {MAX_ACTIONS_PER_GROUP})", budget + 1),
        );
    }
    // Actions: Auto Scaling refuses start times in the past, so a floor already due starts at the
    // next whole minute after `now`.
    let earliest = (now + Duration::minutes(1)).duration_round_up(Duration::minutes(1)).unwrap_or(now);
    let mut actions: Vec<ScheduledAction> = Vec::new();
    for seg in &segs {
        let at = f.ts(seg.start).max(earliest);
        if let Some(last) = actions.last_mut().filter(|a| a.start_time >= at) {
            last.min_size = Some(seg.level);
            continue;
        }
        actions.push(floor_action(at, seg.level));
    }
    let end = f.ts(n);
    if actions.last().and_then(|a| a.min_size) != Some(s.bounds.min()) && end > earliest {
        actions.push(floor_action(end, s.bounds.min()));
        decide(
            format!("floor back to MinSize {} at {}", s.bounds.min(), end.format("%Y-%m-%d %H:%M UTC")),
            "the forecast ends there; if the next nightly run does not come, the group does not stay scaled up".into(),
        );
    }
    let peak_i = f.point.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
    let q = f.quantile(s.quantile);
    decide(
        format!(
            "{} scheduled floors between {} and {} instances",
            actions.len(),
            floors.iter().min().copied().unwrap_or(0),
            floors.iter().max().copied().unwrap_or(0)
        ),
        format!(
            "sized for the P{:.0} forecast at {:.0} % of {} per instance, in place {} min ahead of demand",
            s.quantile * 100.0,
            s.target_utilization * 100.0,
            s.capacity_per_instance,
            s.lead_time.num_minutes()
        ),
    );
    GroupPlan {
        group: group.into(),
        environment: environment.into(),
        bounds: s.bounds,
        forecast: Some(ForecastSummary {
            model: f.model.clone(),
            metric: String::new(),
            quantile: s.quantile,
            from: f.start,
            to: end,
            peak_point: f.point.get(peak_i).copied().unwrap_or(0.0),
            peak_at: f.ts(peak_i),
            peak_quantile: q.iter().copied().fold(0.0, f64::max),
        }),
        required: clamped,
        scheduled_actions: actions,
        policies,
        decisions,
    }
}

fn floor_action(at: DateTime<Utc>, level: u32) -> ScheduledAction {
    ScheduledAction {
        name: format!("{OWNED_PREFIX}floor-{}", at.format("%Y%m%dT%H%MZ")),
        start_time: at,
        min_size: Some(level),
        max_size: None,
        desired_capacity: None,
    }
}

fn reactive_policy(s: &PlanSettings) -> ReactivePolicy {
    ReactivePolicy {
        name: format!("{OWNED_PREFIX}target-tracking"),
        kind: PolicyKind::TargetTracking {
            metric: s.reactive.metric.clone(),
            resource_label: s.reactive.resource_label.clone(),
            target_value: s.reactive.target_value,
            estimated_instance_warmup_secs: Some(s.reactive.warmup_secs),
            disable_scale_in: false,
        },
    }
}

/// A short, stable id for a plan: its creation time and a hash of its content, so the same input
/// gives the same id and the audit trail can tell plans apart.
pub fn plan_id(created_at: DateTime<Utc>, content: &[u8]) -> String {
    // FNV-1a: stable across platforms and Rust versions, unlike std's DefaultHasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in content {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{}-{:08x}", created_at.format("%Y%m%dT%H%MZ"), h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use prescale_core::{Interval, Level};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
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
        assert!(plan.decisions.iter().any(|d| d.what.contains("filled 1 short dips")));
    }

    #[test]
    fn no_forecast_means_reactive_only() {
        let plan = plan_group("g", "dev", None, &settings(1, 5), t0());
        assert!(plan.scheduled_actions.is_empty());
        assert_eq!(plan.policies.len(), 1);
        assert!(plan.decisions.iter().any(|d| d.why.contains("reactive policy alone")));
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
                let in_place_by = demand_at - s.lead_time;
                let floor = plan.scheduled_actions.iter().rfind(|a| a.start_time <= in_place_by.max(plan.scheduled_actions[0].start_time)).and_then(|a| a.min_size).unwrap();
                prop_assert!(floor >= *r, "step {} needs {} but floor is {}", i, r, floor);
            }
            // Monotone in q: a higher quantile never plans less capacity at any step.
            let higher = plan_group("g", "prod", Some(&f), &PlanSettings { quantile: (q + 0.05).min(0.999), ..s.clone() }, t0());
            for (a, b) in plan.required.iter().zip(&higher.required) {
                prop_assert!(b >= a);
            }
        }
    }
}
