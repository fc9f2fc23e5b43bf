use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::RawSample;

/// Names one stored series: a metric of an Auto Scaling group (`web-prod` / `requests`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricId {
    /// Auto Scaling group name.
    pub group: String,
    /// prescale's name of the metric within the group (from config, e.g. `cpu`, `requests`).
    pub metric: String,
}

impl MetricId {
    /// An id.
    pub fn new(group: impl Into<String>, metric: impl Into<String>) -> Self {
        Self { group: group.into(), metric: metric.into() }
    }
}

impl std::fmt::Display for MetricId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.group, self.metric)
    }
}

/// A half-open time window `[start, end)` and the step the samples should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
    /// Requested period in seconds (CloudWatch's `Period`; file sources keep their own step).
    pub step_secs: i64,
}

/// Boxed foreign error kept as a source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of a [`MetricSource`].
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A file could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file's content is not what the source expects.
    #[error("{path}: {message}")]
    Parse {
        /// The file (and line, where known).
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The remote API failed (after the SDK's own retries).
    #[error("{operation} failed: {message}")]
    Api {
        /// Operation name, e.g. `GetMetricData`.
        operation: String,
        /// Short description, with a hint where one helps.
        message: String,
        /// The SDK's error, for `{:?}`: not the error's source, as `message` already says what it
        /// does in words (its chain would repeat them, and end in the SDK's debug dump).
        sdk: BoxError,
    },
}

/// Where metric samples come from: CloudWatch, CSV files, Parquet files. A source knows which
/// series it serves (from its configuration) and returns raw samples; regularising them onto a grid
/// and storing them is the caller's job, so every source is treated the same way.
pub trait MetricSource {
    /// A short description for logs and summaries (`cloudwatch us-east-1`, `csv data/demo`).
    fn describe(&self) -> String;

    /// Fetches every series the source serves, within `range` when given (file sources return all
    /// they hold when it is `None`).
    ///
    /// # Errors
    /// [`SourceError`] when the source cannot be read; no partial result is returned.
    fn fetch(&mut self, range: Option<TimeRange>) -> Result<Vec<(MetricId, Vec<RawSample>)>, SourceError>;
}
