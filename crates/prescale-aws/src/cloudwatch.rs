use std::collections::HashMap;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use chrono::{DateTime, Duration, Utc};
use prescale_core::{MetricId, MetricSource, RawSample, SourceError, TimeRange};

use crate::{
    AwsOptions, Limits, RuntimeError, describe, load_config, no_answer, runtime, to_chrono, to_smithy, transient,
};

/// CloudWatch accepts at most this many queries in one `GetMetricData` request.
pub const MAX_QUERIES_PER_REQUEST: usize = 500;
/// One `GetMetricData` request returns at most this many data points.
pub const MAX_DATAPOINTS_PER_REQUEST: i64 = 100_800;

/// One CloudWatch metric to ingest as a prescale series.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudWatchQuery {
    /// Where it is stored.
    pub id: MetricId,
    /// CloudWatch namespace (`AWS/EC2`, `AWS/ApplicationELB`, a custom one).
    pub namespace: String,
    /// Metric name (`CPUUtilization`, `RequestCount`, …).
    pub metric_name: String,
    /// Dimensions (`AutoScalingGroupName = web-prod`, `LoadBalancer = app/…`).
    pub dimensions: Vec<(String, String)>,
    /// Statistic (`Average`, `Sum`, `Maximum`, `p90`, …).
    pub stat: String,
    /// Where the history already stored for it ends: an ingest says the long silences of a
    /// count's last day, so those before a day ahead of this were said by the runs that stored
    /// them. `None` (a new series, or one started again): every silence in the window is new.
    pub stored_until: Option<DateTime<Utc>>,
}

/// [`MetricSource`] over CloudWatch `GetMetricData`.
#[derive(Debug)]
pub struct CloudWatchSource {
    rt: tokio::runtime::Runtime,
    client: aws_sdk_cloudwatch::Client,
    queries: Vec<CloudWatchQuery>,
    region: String,
    limits: Limits,
}

impl CloudWatchSource {
    /// A source for `queries`, with the standard SDK configuration chain.
    ///
    /// # Errors
    /// [`RuntimeError`] when no async runtime can be started.
    pub fn new(queries: Vec<CloudWatchQuery>, opts: &AwsOptions) -> Result<Self, RuntimeError> {
        let rt = runtime()?;
        let (config, limits) = load_config(&rt, opts);
        let region = config.region().map_or_else(|| "(no region)".to_string(), ToString::to_string);
        let client = aws_sdk_cloudwatch::Client::from_conf(
            aws_sdk_cloudwatch::config::Builder::from(&config).interceptor(crate::CredentialsGate).build(),
        );
        Ok(Self { rt, client, queries, region, limits })
    }
}

/// The CloudWatch metric `namespace` / `name` with `dimensions` (name, value), as a query names it.
pub(crate) fn metric<'a>(
    namespace: &str,
    name: &str,
    dimensions: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Metric {
    Metric::builder()
        .namespace(namespace)
        .metric_name(name)
        .set_dimensions(Some(
            dimensions.into_iter().map(|(n, v)| Dimension::builder().name(n).value(v).build()).collect(),
        ))
        .build()
}

/// Splits `n_queries` metrics over `range` into requests `(query indices, window)` that respect
/// CloudWatch's limits: at most [`MAX_QUERIES_PER_REQUEST`] queries, and at most
/// [`MAX_DATAPOINTS_PER_REQUEST`] points (queries × steps of the window) per request.
pub fn split_requests(n_queries: usize, range: TimeRange) -> Vec<(std::ops::Range<usize>, TimeRange)> {
    let step = range.step_secs.max(1);
    let mut out = Vec::new();
    let mut q = 0;
    while q < n_queries {
        let batch = (n_queries - q).min(MAX_QUERIES_PER_REQUEST);
        let steps_per_window = (MAX_DATAPOINTS_PER_REQUEST / batch as i64).max(1);
        let window = Duration::seconds(steps_per_window * step);
        let mut start = range.start;
        while start < range.end {
            let end = (start + window).min(range.end);
            out.push((q..q + batch, TimeRange { start, end, step_secs: step }));
            start = end;
        }
        q += batch;
    }
    out
}

impl MetricSource for CloudWatchSource {
    fn describe(&self) -> String {
        format!("cloudwatch {}", self.region)
    }

    fn fetch(&mut self, range: Option<TimeRange>) -> Result<Vec<(MetricId, Vec<RawSample>)>, SourceError> {
        let range = range.ok_or_else(|| SourceError::Parse {
            path: "cloudwatch".into(),
            message: "CloudWatch needs a time range (set [ingest] lookback)".into(),
        })?;
        let mut samples: Vec<Vec<RawSample>> = vec![Vec::new(); self.queries.len()];
        let requests = split_requests(self.queries.len(), range);
        let total = requests.len();
        for (n, (qs, window)) in requests.into_iter().enumerate() {
            // Said at -v: a long lookback at a short period is many requests, each seconds long.
            tracing::info!(
                "GetMetricData {} of {total}: {} series, {} to {}",
                n + 1,
                qs.len(),
                window.start.format("%Y-%m-%d %H:%M"),
                window.end.format("%Y-%m-%d %H:%M UTC")
            );
            let asked = qs.clone();
            let mut ids: HashMap<String, usize> = HashMap::new();
            let mut request = self
                .client
                .get_metric_data()
                .start_time(to_smithy(window.start))
                .end_time(to_smithy(window.end))
                .scan_by(ScanBy::TimestampAscending);
            for i in qs {
                let q = &self.queries[i];
                let id = format!("m{i}");
                ids.insert(id.clone(), i);
                let dims = q.dimensions.iter().map(|(n, v)| (n.as_str(), v.as_str()));
                let metric = metric(&q.namespace, &q.metric_name, dims);
                let stat = MetricStat::builder().metric(metric).period(window.step_secs as i32).stat(&q.stat).build();
                request = request
                    .metric_data_queries(MetricDataQuery::builder().id(id).metric_stat(stat).return_data(true).build());
            }
            let pages =
                self.rt.block_on(request.into_paginator().send().collect::<Result<Vec<_>, _>>()).map_err(|e| {
                    crate::note_refusal("GetMetricData", &e);
                    // The SDK's error follows as the cause; the message says what it means and what to do.
                    let message = match no_answer(&e, self.limits) {
                        Some((what, check)) => format!("{what}\nhint: {check}, and retry"),
                        None if e.as_service_error().is_some_and(|s| s.code().is_none()) => describe(&e, self.limits),
                        // The request's parameters refused (an empty name, a statistic or
                        // dimension CloudWatch does not take): the metric, not the credentials.
                        None if refused_parameters(&e) => {
                            let text = describe(&e, self.limits);
                            let which = refused_member(&text)
                                .and_then(|n| asked.clone().nth(n.checked_sub(1)?))
                                .map(|i| format!(" (the series {})", self.queries[i].id))
                                .unwrap_or_default();
                            format!(
                                "{text}\nhint: CloudWatch refused a metric as asked{which}: check its namespace, \
                                 metric_name, dimensions and stat in the configuration against `aws cloudwatch \
                                 list-metrics`; every series in the same request waits on it"
                            )
                        }
                        // Throttled or failing past the SDK's retries: not a credentials problem.
                        None if transient(&e) => format!(
                            "{}\nhint: CloudWatch was busy or failing through every attempt ({}); it passes by itself: \
                             the next run reads the same hours again, or raise [aws] max_attempts",
                            describe(&e, self.limits),
                            self.limits.hint()
                        ),
                        // The credentials themselves were refused: describe says what to do.
                        None if crate::refused_credentials(&e) => describe(&e, self.limits),
                        None => format!(
                            "{}\nhint: check credentials (the standard AWS chain), the region and permission \
                             cloudwatch:GetMetricData",
                            describe(&e, self.limits)
                        ),
                    };
                    SourceError::Api { operation: "GetMetricData".into(), message, sdk: Box::new(e) }
                })?;
            for out in &pages {
                for r in out.metric_data_results() {
                    let Some(&i) = r.id().and_then(|id| ids.get(id)) else { continue };
                    for (t, v) in r.timestamps().iter().zip(r.values()) {
                        if let Some(ts) = to_chrono(t) {
                            samples[i].push(RawSample::new(ts, *v));
                        }
                    }
                }
            }
        }
        for (q, s) in self.queries.iter().zip(samples.iter_mut()) {
            if counts_events(&q.stat) {
                let filled = fill_empty_periods(s, range.step_secs);
                let step = Duration::seconds(range.step_secs);
                // The longest silence not said yet: each night's ingest fetches days again and
                // says its last day's; on a series' first ingest, the whole window's.
                let new_from = q.stored_until.map_or(range.start, |t| t - Duration::days(1));
                let recent = filled
                    .runs
                    .iter()
                    .filter(|(_, b)| *b + step > new_from.min(range.end - Duration::days(1)))
                    .max_by_key(|(a, b)| *b - *a)
                    .copied();
                match recent {
                    // An hour or more without a count: an idle service, or a publisher that
                    // stopped, whose zeros would pull the forecast down. Said without -v.
                    Some((a, b)) if b - a + step >= LONG_SILENCE => tracing::warn!(
                        "{}: {} periods without a datapoint stored as 0 ({} of {}: CloudWatch sends none for a period \
                         with nothing counted), the longest {:.1} h from {} to {}: right for an idle service, wrong \
                         if what publishes {} stopped then",
                        q.id,
                        filled.count,
                        q.stat,
                        q.metric_name,
                        (b - a + step).num_minutes() as f64 / 60.0,
                        a.format("%Y-%m-%d %H:%M"),
                        (b + step).format("%Y-%m-%d %H:%M UTC"),
                        q.metric_name
                    ),
                    _ if filled.count > 0 => tracing::info!(
                        "{}: {} periods without a datapoint between two that have one stored as 0 ({} of {}: \
                         CloudWatch sends no datapoint for a period in which nothing was counted)",
                        q.id,
                        filled.count,
                        q.stat,
                        q.metric_name
                    ),
                    _ => {}
                }
            }
        }
        Ok(self.queries.iter().zip(samples).map(|(q, s)| (q.id.clone(), s)).collect())
    }
}

/// Whether a statistic counts events (`Sum`, `SampleCount`), for which a period with no datapoint
/// holds none: CloudWatch publishes no datapoint for an ALB that served no request.
pub fn counts_events(stat: &str) -> bool {
    prescale_core::Aggregate::of_statistic(stat) == prescale_core::Aggregate::Sum
}

/// Zeros [`fill_empty_periods`] added: how many, and each run of them (its first and last
/// period), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filled {
    /// Periods stored as 0.
    pub count: usize,
    /// The runs of them: first and last period of each.
    pub runs: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// A run of filled zeros at least this long is warned about: an idle hour is rare on a
/// service's count, a publisher that stopped is not.
const LONG_SILENCE: Duration = Duration::hours(1);

/// Adds a 0 for every period of `step_secs` without a sample between two samples, and returns
/// how many ([`Filled`]); the samples end sorted by time. Only between samples: after the last one the feed
/// may have stopped (the stale-data check must see that), before the first the metric may not
/// have existed. And only where most samples are a period apart: samples further apart (5-minute
/// data asked for at 1 minute) are not zeros in between, and ingest warns of the period.
pub fn fill_empty_periods(samples: &mut Vec<RawSample>, step_secs: i64) -> Filled {
    samples.sort_by_key(|s| s.ts);
    if step_secs <= 0 || prescale_core::median_spacing_ms(samples).is_none_or(|ms| ms * 2 > step_secs * 3000) {
        return Filled::default();
    }
    let step = Duration::seconds(step_secs);
    let mut zeros = Vec::new();
    let mut runs = Vec::new();
    for w in samples.windows(2) {
        let first = w[0].ts + step;
        let mut t = first;
        // Up to half a period before the next sample (whose own period that is).
        while t + step <= w[1].ts + Duration::seconds(step_secs / 2) {
            zeros.push(RawSample::new(t, 0.0));
            t += step;
        }
        if t > first {
            runs.push((first, t - step));
        }
    }
    let count = zeros.len();
    if count > 0 {
        samples.extend(zeros);
        samples.sort_by_key(|s| s.ts);
    }
    Filled { count, runs }
}

/// True for CloudWatch's refusals of a request's parameters (HTTP 400 with a code such as
/// `InvalidParameterValue`), which no credentials or retry mend.
fn refused_parameters<E: ProvideErrorMetadata, R>(e: &aws_sdk_cloudwatch::error::SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|s| s.code()).is_some_and(|c| {
        matches!(c, "InvalidParameterValue" | "InvalidParameterCombination" | "MissingParameter" | "ValidationError")
    })
}

/// The query CloudWatch's refusal names, 1-based in the request (`MetricDataQueries.member.2`).
fn refused_member(text: &str) -> Option<usize> {
    let rest = &text[text.find("MetricDataQueries.member.")? + "MetricDataQueries.member.".len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_query_it_refuses() {
        let text = "InvalidParameterValue: The value  for parameter MetricDataQueries.member.2.MetricStat.Metric.Namespace \
                    is not valid.";
        assert_eq!(refused_member(text), Some(2));
        assert_eq!(refused_member("InvalidParameterValue: bad period"), None);
    }
    use chrono::{TimeZone, Utc};

    #[test]
    fn periods_without_a_count_between_two_that_have_one_are_zero() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let at = |m: i64| t0 + Duration::minutes(m);
        let sample = |m: i64, v: f64| RawSample::new(at(m), v);
        // 5-minute sums at 00:00, 00:05, nothing until 00:30, then 00:35 and 00:40.
        let mut s = vec![sample(30, 7.0), sample(0, 3.0), sample(5, 4.0), sample(35, 1.0), sample(40, 2.0)];
        let filled = fill_empty_periods(&mut s, 300);
        assert_eq!((filled.count, filled.runs), (4, vec![(at(10), at(25))]));
        let got: Vec<(i64, f64)> = s.iter().map(|x| ((x.ts - t0).num_minutes(), x.value)).collect();
        assert_eq!(
            got,
            [(0, 3.0), (5, 4.0), (10, 0.0), (15, 0.0), (20, 0.0), (25, 0.0), (30, 7.0), (35, 1.0), (40, 2.0)]
        );
        // Nothing after the last sample (a feed that stopped is not a quiet night), nothing for
        // fewer than two samples.
        let mut one = vec![sample(0, 1.0)];
        assert_eq!(fill_empty_periods(&mut one, 300), Filled::default());
        // 5-minute data asked for at 1 minute: the four minutes between are not zeros.
        let mut coarse: Vec<RawSample> = (0..12).map(|k| sample(5 * k, 9.0)).collect();
        assert_eq!(fill_empty_periods(&mut coarse, 60).count, 0);
        assert_eq!(coarse.len(), 12);
        assert!(counts_events("Sum") && counts_events("SampleCount") && !counts_events("Average"));
    }

    #[test]
    fn requests_respect_both_limits_and_cover_everything() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let range = TimeRange { start, end: start + Duration::days(14), step_secs: 60 };
        for n in [1, 3, 25, 499, 500, 501, 1200] {
            let reqs = split_requests(n, range);
            let mut covered = vec![Duration::zero(); n];
            for (qs, w) in &reqs {
                assert!(qs.len() <= MAX_QUERIES_PER_REQUEST);
                let points = (w.end - w.start).num_seconds() / 60 * qs.len() as i64;
                assert!(points <= MAX_DATAPOINTS_PER_REQUEST, "{n}: {points}");
                for q in qs.clone() {
                    covered[q] += w.end - w.start;
                }
            }
            assert!(covered.iter().all(|c| *c == Duration::days(14)));
        }
    }
}
