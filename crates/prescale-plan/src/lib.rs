#![doc = include_str!("../README.md")]

mod diff;
mod events;
pub mod guardrails;
mod reactive;
mod recording;
mod report;
mod schedule;

pub use diff::{
    LastSet, bounds_command, diff, due_before, due_now, is_owned, keep_in_place, restore_bounds, revert, same_action,
    shell_word,
};
pub use events::{
    EventOutcome, EventPlan, EventReport, LOWERS, events_digest, instance_hours, moved_bounds, moved_floors,
    peak_floor, plan_with_events, planned_with, shape, steps_in,
};
pub use guardrails::{Breach, FleetBreach, Guardrails};
pub use reactive::{
    IN_BELOW_TARGET, MAX_LAUNCHES, MIN_LAUNCHES, MetricPeriod, OUT_ABOVE_TARGET, OutStep, SATURATED, SIZED_ABOVE_PCT,
    STEP_IN_POLICY, STEP_OUT_POLICY, StepSettings, StepUnit, Warmup, measured_warmup, metric_ceiling, millionths,
    published_per_minute, published_period, reactive_as_configured, step_alarm_to_check,
};
pub use recording::{LOCAL_SINK, RecordingSink};
pub use report::{FloorHours, floor_hours};
pub use schedule::{
    CycleClock, MAX_ACTIONS_PER_BATCH, MAX_ACTIONS_PER_GROUP, MaxBreach, PlanSettings, ReactiveSettings, Unskilled,
    action_zone, content_hash, is_plan_id, local, plan_group, plan_id, required, skill,
};
