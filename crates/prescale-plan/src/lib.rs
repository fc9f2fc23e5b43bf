#![doc = include_str!("../README.md")]

mod diff;
mod recording;
mod schedule;

pub use diff::{diff, is_owned};
pub use recording::RecordingSink;
pub use schedule::{MAX_ACTIONS_PER_BATCH, MAX_ACTIONS_PER_GROUP, PlanSettings, ReactiveSettings, plan_group, plan_id};
