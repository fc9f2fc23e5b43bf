use thiserror::Error;

/// Errors from validating domain values.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CoreError {
    /// An interval level outside (0, 1).
    #[error(
        "interval level {0} is neither a percentage in [1, 100) nor a fraction in (0, 1): write 80 (or 0.8) for an 80 % interval"
    )]
    BadLevel(f64),
    /// A grid step that is not a positive number of seconds.
    #[error("grid step must be a positive number of seconds, got {0}")]
    BadStep(i64),
    /// Group bounds with min above max.
    #[error("capacity bounds are contradictory: min {min} > max {max}")]
    BadBounds {
        /// Lower bound.
        min: u32,
        /// Upper bound.
        max: u32,
    },
    /// No samples at all.
    #[error("no finite samples to build a series from")]
    Empty,
    /// Lengths of parallel vectors disagree.
    #[error("{what}: expected {expected} values, got {got}")]
    Length {
        /// Which vector.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// Two successive samples lie more than [`crate::MAX_GAP_DAYS`] apart with nothing between.
    #[error(
        "samples at {before} and {after} lie {} days apart with nothing between: a stray stamp (epoch 0, a wrong \
         year) or two histories in one\nhint: remove the rows on the side of the gap that does not belong (a stored \
         series on the other side of it can be moved aside to start afresh)",
        (*after - *before).num_days()
    )]
    StrayStamp {
        /// The sample before the gap.
        before: chrono::DateTime<chrono::Utc>,
        /// The sample after it.
        after: chrono::DateTime<chrono::Utc>,
    },
    /// An event that cannot be planned.
    #[error("event {name:?}: {reason}")]
    BadEvent {
        /// The event's name.
        name: String,
        /// What is wrong and what to do.
        reason: String,
    },
}
