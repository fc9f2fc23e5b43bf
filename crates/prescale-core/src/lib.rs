#![doc = include_str!("../README.md")]

mod clock;
mod error;
mod event;
mod forecast;
pub mod par;
mod plan;
mod rng;
mod series;
mod sink;
mod source;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::CoreError;
pub use event::{Event, EventEffect};
pub use forecast::{Forecast, Interval, Level, ModelScore, ON_EITHER_CLOCK, ON_LOCAL_CLOCK};
pub use plan::{
    CapacityBounds, CapacityPlan, DecisionKind, ForecastSummary, GroupPlan, MetricAlarm, PLAN_FORMAT, PlanDecision,
    PlannedEvent, PolicyKind, ReactivePolicy, ScheduledAction, Sizing, StepAdjustment, step_alarm_names,
};
pub use rng::SplitMix64;
pub use series::{
    Aggregate, Binning, GridPolicy, GridReport, MAX_GAP_DAYS, RawSample, Series, coarsened_step, median_spacing_ms,
    regularize, regularize_as, regularize_binned,
};
pub use sink::{
    ActionSink, ApplyReport, Change, ChangedObject, Failed, GroupState, Launch, PUBLISHED_FILL, PUBLISHED_JUDGED_MINS,
    PUBLISHED_MIN_POINTS, PUBLISHED_SILENCE_MINS, PUBLISHED_WITHIN_HOURS, Published, SinkError, publication,
};
pub use source::{MetricId, MetricSource, SourceError, TimeRange};

/// Names of every object prescale creates in an Auto Scaling group start with this prefix.
/// Objects without it are never read as ours, never changed and never deleted.
pub const OWNED_PREFIX: &str = "prescale-";
