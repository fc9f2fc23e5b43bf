#![doc = include_str!("../README.md")]

mod autoscaling;
mod cloudwatch;

pub use autoscaling::AutoScalingSink;
pub use cloudwatch::{
    CloudWatchQuery, CloudWatchSource, MAX_DATAPOINTS_PER_REQUEST, MAX_QUERIES_PER_REQUEST, split_requests,
};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Settings for the AWS clients.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// Region; `None` uses the SDK chain (`AWS_REGION`, profile).
    pub region: Option<String>,
    /// Attempts per call, retries with exponential backoff included (default 5).
    pub max_attempts: Option<u32>,
}

/// Error building a runtime for the AWS clients.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the async runtime for AWS calls")]
pub struct RuntimeError(#[source] std::io::Error);

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, RuntimeError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(RuntimeError)
}

pub(crate) fn load_config(rt: &tokio::runtime::Runtime, opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(opts.max_attempts.unwrap_or(5)));
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    rt.block_on(loader.load())
}

pub(crate) fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub(crate) fn to_smithy(t: chrono::DateTime<chrono::Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}
