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
use aws_sdk_autoscaling::error::{ProvideErrorMetadata, SdkError};

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

/// The limits of the clients last configured (seconds per attempt, attempts), for the hint of a
/// call that got no answer: one run configures its clients once, from one `[aws]` section.
static LIMITS: std::sync::Mutex<Option<(u64, u32)>> = std::sync::Mutex::new(None);

pub(crate) fn load_config(rt: &tokio::runtime::Runtime, opts: &AwsOptions) -> SdkConfig {
    let attempt = opts.attempt_timeout();
    if let Ok(mut l) = LIMITS.lock() {
        *l = Some((attempt.as_secs(), opts.attempts()));
    }
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

/// The HTTP answer behind an SDK error (both SDKs use the same type).
pub(crate) type HttpResponse = aws_sdk_autoscaling::config::http::HttpResponse;

/// The texts of an error and its causes, each once (the SDK repeats itself down the chain).
fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !out.iter().any(|o| o.contains(&text)) {
            out.push(text);
        }
        next = err.source();
    }
    out
}

/// For a call that never got an answer from the service: what happened, and what to check.
/// Every other call would fail alike (no credentials, no region, an unreachable or silent
/// endpoint). `None` for an answer (an error the service gave).
pub(crate) fn no_answer<E, R>(e: &SdkError<E, R>) -> Option<(String, String)>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let causes = || chain(e).join(": ").to_lowercase();
    match e {
        SdkError::TimeoutError(_) => {
            let limits = match LIMITS.lock().ok().and_then(|l| *l) {
                Some((secs, n)) => format!(
                    "{n} attempt{} of {secs} s: [aws] max_attempts and timeout_secs",
                    if n == 1 { "" } else { "s" }
                ),
                None => "[aws] timeout_secs per attempt, max_attempts attempts".into(),
            };
            Some((
                "no answer in time".into(),
                format!(
                    "the endpoint accepted the call but did not answer ({limits}); check the network path to it \
                     (AWS_ENDPOINT_URL if set)"
                ),
            ))
        }
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) if causes().contains("credential") => Some((
            "no AWS credentials were found".into(),
            "set AWS_PROFILE (a profile of ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run \
             where an instance or task role applies"
                .into(),
        )),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) if causes().contains("region") => {
            Some(("no AWS region is set".into(), "set [aws] region in the configuration, or AWS_REGION".into()))
        }
        SdkError::DispatchFailure(_) => Some((
            format!("the endpoint could not be reached ({})", chain(e).last().map_or("", String::as_str)),
            "check the network, the region and AWS_ENDPOINT_URL if set".into(),
        )),
        _ => None,
    }
}

/// What an SDK error means, for people, on one line: a call not answered as [`no_answer`] says;
/// an error the service gave by its code and message; an answer that is not an AWS one by its
/// HTTP status (never the SDK's debug dump of the response).
pub(crate) fn describe<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    if let Some((what, check)) = no_answer(e) {
        return format!("{what}: {check}");
    }
    match e {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            match (se.err().code(), se.err().message()) {
                (Some(code), Some(message)) => format!("{code}: {message} (HTTP {status})"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                _ => {
                    // The parser's complaint, where it says more than "Error".
                    let why =
                        chain(se.err()).pop().filter(|w| w.len() > 8).map(|w| format!(" ({w})")).unwrap_or_default();
                    format!(
                        "HTTP {status} with an answer that is not an AWS error{why}; is the endpoint (AWS_ENDPOINT_URL \
                         if set) an AWS one?"
                    )
                }
            }
        }
        _ => chain(e).join(": "),
    }
}

pub(crate) fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub(crate) fn to_smithy(t: chrono::DateTime<chrono::Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}
