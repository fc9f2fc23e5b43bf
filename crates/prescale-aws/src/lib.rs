#![doc = include_str!("../README.md")]

mod autoscaling;
mod cloudwatch;

pub use autoscaling::AutoScalingSink;
pub use cloudwatch::{
    CloudWatchQuery, CloudWatchSource, MAX_DATAPOINTS_PER_REQUEST, MAX_QUERIES_PER_REQUEST, split_requests,
};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_autoscaling::error::{DisplayErrorContext, SdkError};

/// Settings for the AWS clients.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// Region; `None` uses the SDK chain (`AWS_REGION`, profile).
    pub region: Option<String>,
    /// Attempts per call, retries with exponential backoff included (default 5).
    pub max_attempts: Option<u32>,
    /// Seconds one attempt may take, answer included, before it is abandoned (and retried);
    /// default [`DEFAULT_TIMEOUT_SECS`]. A call as a whole may take `max_attempts` times this.
    pub timeout_secs: Option<u64>,
}

/// Seconds an attempt at an AWS call may take by default: CloudWatch and Auto Scaling answer in
/// seconds, so a minute means an endpoint that accepted the connection and went silent.
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// Seconds to wait for a connection to the endpoint.
const CONNECT_TIMEOUT_SECS: u64 = 10;

impl AwsOptions {
    fn attempts(&self) -> u32 {
        self.max_attempts.unwrap_or(5).max(1)
    }
    fn attempt_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS).max(1))
    }
}

/// Error building a runtime for the AWS clients.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the async runtime for AWS calls")]
pub struct RuntimeError(#[source] std::io::Error);

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, RuntimeError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(RuntimeError)
}

pub(crate) fn load_config(rt: &tokio::runtime::Runtime, opts: &AwsOptions) -> SdkConfig {
    let attempt = opts.attempt_timeout();
    // Without these only the connection is bounded: an endpoint that accepts and never answers
    // would hold a nightly run forever.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(attempt.min(std::time::Duration::from_secs(CONNECT_TIMEOUT_SECS)))
        .operation_attempt_timeout(attempt)
        // Every attempt, and the standard retry's backoff (at most 20 s) before each retry.
        .operation_timeout((attempt + std::time::Duration::from_secs(20)) * opts.attempts())
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(opts.attempts()))
        .timeout_config(timeouts);
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    rt.block_on(loader.load())
}

/// For a call the service did not answer (a timeout, an unreachable endpoint): what happened, and
/// what to check. `None` for an answer (an error the service gave).
pub(crate) fn no_answer<E, R>(e: &SdkError<E, R>) -> Option<(&'static str, &'static str)> {
    match e {
        SdkError::TimeoutError(_) => Some((
            "no answer in time",
            "the endpoint accepted the call but did not answer ([aws] timeout_secs per attempt, max_attempts \
             attempts); check the network path to it (AWS_ENDPOINT_URL if set)",
        )),
        SdkError::DispatchFailure(_) => {
            Some(("the endpoint could not be reached", "check the network, the region and AWS_ENDPOINT_URL if set"))
        }
        _ => None,
    }
}

/// What an SDK error means, for people, on one line: a call not answered as [`no_answer`] says,
/// an error the service gave in the SDK's own words.
pub(crate) fn describe<E: std::error::Error + 'static, R: std::fmt::Debug>(e: &SdkError<E, R>) -> String {
    match no_answer(e) {
        Some((what, check)) => format!("{what}: {check}"),
        None => DisplayErrorContext(e).to_string(),
    }
}

pub(crate) fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub(crate) fn to_smithy(t: chrono::DateTime<chrono::Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}
