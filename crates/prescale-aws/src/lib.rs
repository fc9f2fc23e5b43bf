#![doc = include_str!("../README.md")]

mod autoscaling;
mod cloudwatch;

pub use autoscaling::AutoScalingSink;
pub use cloudwatch::{
    CloudWatchQuery, CloudWatchSource, MAX_DATAPOINTS_PER_REQUEST, MAX_QUERIES_PER_REQUEST, counts_events,
    split_requests,
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

/// The attempts and the time per attempt a client was configured with, kept beside it for the
/// hint of a call that got no answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    attempt: std::time::Duration,
    attempts: u32,
}

impl Limits {
    /// What the hint of a call that got no answer says of the limits in force.
    pub(crate) fn hint(self) -> String {
        let (n, secs) = (self.attempts, self.attempt.as_secs());
        format!("{n} attempt{} of {secs} s: [aws] max_attempts and timeout_secs", if n == 1 { "" } else { "s" })
    }
}

/// The SDK configuration for `opts`, and the limits it sets.
pub(crate) fn load_config(rt: &tokio::runtime::Runtime, opts: &AwsOptions) -> (SdkConfig, Limits) {
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
    (rt.block_on(loader.load()), Limits { attempt, attempts: opts.attempts() })
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
/// endpoint). `None` for an answer (an error the service gave). `limits` are the client's, named
/// in the hint of a timeout.
pub(crate) fn no_answer<E, R>(e: &SdkError<E, R>, limits: Limits) -> Option<(String, String)>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    Some(match no_answer_kind(e)? {
        NoAnswer::Timeout => (
            "no answer in time".into(),
            format!(
                "the endpoint accepted the call but did not answer ({}); check the network path to it \
                 (AWS_ENDPOINT_URL if set)",
                limits.hint()
            ),
        ),
        NoAnswer::NoCredentials => (
            "no AWS credentials were found".into(),
            "set AWS_PROFILE (a profile of ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run \
             where an instance or task role applies"
                .into(),
        ),
        NoAnswer::NoRegion => {
            ("no AWS region is set".into(), "set [aws] region in the configuration, or AWS_REGION".into())
        }
        NoAnswer::Unreachable => (
            format!("the endpoint could not be reached ({})", chain(e).last().map_or("", String::as_str)),
            "check the network, the region and AWS_ENDPOINT_URL if set".into(),
        ),
    })
}

/// Why a call got no answer from the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoAnswer {
    /// It did not answer in time.
    Timeout,
    /// It could not be reached.
    Unreachable,
    /// No call could be made: no credentials were found.
    NoCredentials,
    /// No call could be made: no region is set.
    NoRegion,
}

impl NoAnswer {
    /// Whether it passes by itself (a timeout, an unreachable endpoint), where missing
    /// credentials or a missing region wait for a person.
    pub(crate) fn passes(self) -> bool {
        matches!(self, Self::Timeout | Self::Unreachable)
    }
}

/// Why the call got no answer, if it got none ([`no_answer`] says it for people).
pub(crate) fn no_answer_kind<E, R>(e: &SdkError<E, R>) -> Option<NoAnswer>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if gated(e).is_some() {
        return None;
    }
    let causes = || chain(e).join(": ").to_lowercase();
    match e {
        SdkError::TimeoutError(_) => Some(NoAnswer::Timeout),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) if causes().contains("credential") => {
            Some(NoAnswer::NoCredentials)
        }
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) if causes().contains("region") => {
            Some(NoAnswer::NoRegion)
        }
        SdkError::DispatchFailure(_) => Some(NoAnswer::Unreachable),
        _ => None,
    }
}

/// What an SDK error means, for people, on one line: a call not answered as [`no_answer`] says;
/// an error the service gave by its code and message; an answer that is not an AWS one by its
/// HTTP status (never the SDK's debug dump of the response).
pub(crate) fn describe<E>(e: &SdkError<E, HttpResponse>, limits: Limits) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    if let Some(g) = gated(e) {
        return g.to_string();
    }
    if let Some((what, check)) = no_answer(e, limits) {
        return format!("{what}: {check}");
    }
    match e {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            // The request's id, which AWS support asks for and CloudTrail lists the call by.
            let id = se
                .err()
                .meta()
                .extra("aws_request_id")
                .or_else(|| se.raw().headers().get("x-amzn-requestid"))
                .map(|id| format!(", request {id}"))
                .unwrap_or_default();
            match (se.err().code(), se.err().message().map(redacted)) {
                (Some(code), Some(message)) => match credentials_refused(code) {
                    Some(todo) => format!("{code}: {message} (HTTP {status}{id}); {todo}"),
                    None => format!("{code}: {message} (HTTP {status}{id})"),
                },
                (Some(code), None) => format!("{code} (HTTP {status}{id})"),
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

/// A service's error message as it may be shown and logged: a `SignatureDoesNotMatch` quotes the
/// request it expected, the session token among its signed headers; that part is left out, and
/// a token anywhere else is redacted.
fn redacted(message: &str) -> String {
    let mut text = message.to_string();
    for quoted in ["The Canonical String", "The String-to-Sign"] {
        if let Some(i) = text.find(quoted) {
            text.truncate(i);
            text = format!("{} (the request it quotes is left out)", text.trim_end());
        }
    }
    for key in ["x-amz-security-token:", "X-Amz-Security-Token="] {
        let mut from = 0;
        while let Some(i) = text[from..].to_ascii_lowercase().find(&key.to_ascii_lowercase()).map(|i| i + from) {
            let start = i + key.len();
            let end =
                text[start..].find(|c: char| c.is_whitespace() || "'\"&".contains(c)).map_or(text.len(), |e| start + e);
            text.replace_range(start..end, "** redacted **");
            from = start;
        }
    }
    text
}

/// Whether a call's failure passes by itself: the service did not answer, answered with a server
/// error, or said it is busy ([`busy`]).
pub(crate) fn transient<E>(e: &SdkError<E, HttpResponse>) -> bool
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    no_answer_kind(e).is_some_and(NoAnswer::passes)
        || matches!(e, SdkError::ServiceError(se)
            if se.raw().status().is_server_error() || se.raw().status().as_u16() == 429
                || se.err().code().is_some_and(busy))
}

/// What an AWS error code that refuses the caller's credentials (not a permission: who is calling)
/// says to do, or `None` for any other code. Every later call fails alike, until a person
/// mends them.
pub(crate) fn credentials_refused(code: &str) -> Option<&'static str> {
    Some(match code {
        "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" => {
            "the session's credentials expired: refresh them (`aws sso login`, or a new role session) and give the \
             role's sessions a duration longer than the run"
        }
        "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidAccessKeyId" | "InvalidToken" => {
            "AWS does not know the access key the standard AWS chain found (AWS_ACCESS_KEY_ID, AWS_PROFILE, the \
             instance or task role, in that order): check which one is set and that it was not deleted or rotated"
        }
        "SignatureDoesNotMatch" | "IncompleteSignature" | "InvalidSignatureException" => {
            "the secret key does not match the access key the standard AWS chain found (AWS_SECRET_ACCESS_KEY, \
             AWS_PROFILE's): check the pair"
        }
        "RequestExpired" => "AWS refused the request's time: check this machine's clock (it must be within 5 minutes)",
        _ => return None,
    })
}

/// Whether the service refused the call's credentials ([`credentials_refused`]), or the call was
/// not sent because it refused them earlier in the run ([`CredentialsGate`]).
pub(crate) fn refused_credentials<E, R>(e: &SdkError<E, R>) -> bool
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug + 'static,
{
    gated(e).is_some()
        || matches!(e, SdkError::ServiceError(se) if se.err().code().and_then(credentials_refused).is_some())
}

/// The first refusal of the run's credentials by any service, `ExpiredToken on GetMetricData`:
/// every later call would be refused alike (they come from the same chain), so none is sent.
static REFUSED: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Remembers a refusal of the credentials behind call `op`'s error `e`, the run's first: no call
/// of any client is sent after it ([`CredentialsGate`]). A run that goes on would send one
/// failing call per group and stage (a burst of failed sign-ins in the account's trail), and say
/// the same error as many times.
pub(crate) fn note_refusal<E: ProvideErrorMetadata, R>(op: &str, e: &SdkError<E, R>) {
    if let SdkError::ServiceError(se) = e
        && let Some(code) = se.err().code().filter(|c| credentials_refused(c).is_some())
    {
        let _ = REFUSED.set(format!("{code} on {op}"));
    }
}

/// The first refusal of this run's credentials (`ExpiredToken on GetMetricData`), if AWS refused
/// them: no AWS call is sent after it, and what could not be read or changed says so.
pub(crate) fn credentials_refused_in_run() -> Option<&'static str> {
    REFUSED.get().map(String::as_str)
}

/// Refuses every attempt of a call, before it is sent, once AWS refused the run's credentials
/// ([`note_refusal`]).
#[derive(Debug)]
pub(crate) struct CredentialsGate;

/// A call [`CredentialsGate`] did not send.
#[derive(Debug, thiserror::Error)]
#[error("not sent: AWS refused this run's credentials earlier ({first}), and would refuse it alike")]
pub(crate) struct Gated {
    first: &'static str,
}

impl aws_sdk_autoscaling::config::Intercept for CredentialsGate {
    fn name(&self) -> &'static str {
        "prescale credentials gate"
    }

    fn read_before_attempt(
        &self,
        _: &aws_sdk_autoscaling::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_autoscaling::config::RuntimeComponents,
        _: &mut aws_sdk_autoscaling::config::ConfigBag,
    ) -> Result<(), aws_sdk_autoscaling::error::BoxError> {
        match credentials_refused_in_run() {
            Some(first) => Err(Box::new(Gated { first })),
            None => Ok(()),
        }
    }
}

/// The first error of type `T` in `e`'s chain of causes: what one of prescale's interceptors
/// refused behind an SDK error.
pub(crate) fn cause_of<'a, T: std::error::Error + 'static>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        next = err.source();
    }
    None
}

/// The call [`CredentialsGate`] did not send behind `e`, if that is why it failed.
pub(crate) fn gated<E: std::error::Error + 'static, R: std::fmt::Debug + 'static>(
    e: &SdkError<E, R>,
) -> Option<&Gated> {
    cause_of(e)
}

/// Whether an AWS error code says the service is busy or the resource is in the middle of another
/// change: the same call passes later. (Throttling left after the SDK's own retries, Auto Scaling's
/// contention and activity in progress, a server-side failure.)
pub(crate) fn busy(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "ResourceContention"
            | "ScalingActivityInProgress"
            | "ThrottledException"
            | "EC2ThrottledException"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "RequestTimeout"
            | "RequestTimeoutException"
            | "ServiceUnavailable"
            | "InternalFailure"
            | "InternalError"
    )
}

pub(crate) fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub(crate) fn to_smithy(t: chrono::DateTime<chrono::Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

#[cfg(test)]
mod tests {
    use super::{HttpResponse, SdkError, transient};
    use aws_sdk_autoscaling::error::ErrorMetadata;
    use aws_sdk_autoscaling::operation::put_scaling_policy::PutScalingPolicyError;
    use aws_smithy_types::body::SdkBody;

    fn answer(status: u16, code: &str) -> SdkError<PutScalingPolicyError, HttpResponse> {
        let err = PutScalingPolicyError::generic(ErrorMetadata::builder().code(code).message("…").build());
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn a_session_token_in_an_error_message_is_never_shown() {
        let quoted = "The request signature we calculated does not match the signature you provided.\n\nThe \
                      Canonical String for this request should have been\n'POST\n/\n\nhost:x\n\
                      x-amz-security-token:SECRETTOKEN\n'";
        let shown = super::redacted(quoted);
        assert!(!shown.contains("SECRETTOKEN") && shown.ends_with("(the request it quotes is left out)"), "{shown}");
        let shown = super::redacted("denied for X-Amz-Security-Token=SECRETTOKEN&x=1 and x-amz-security-token:ABC def");
        assert_eq!(
            shown,
            "denied for X-Amz-Security-Token=** redacted **&x=1 and x-amz-security-token:** redacted ** def"
        );
    }

    #[test]
    fn a_busy_service_passes_by_itself_a_refusal_does_not() {
        assert!(transient(&answer(400, "Throttling")));
        assert!(transient(&answer(400, "ResourceContention")));
        assert!(transient(&answer(503, "SomethingNew")), "a server error, whatever its code");
        assert!(!transient(&answer(400, "ValidationError")));
        assert!(!transient(&answer(400, "LimitExceeded")), "a limit of the account is not a busy service");
        assert!(!transient(&answer(403, "AccessDenied")));
    }
}
