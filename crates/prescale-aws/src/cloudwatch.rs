use std::collections::HashMap;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use chrono::Duration;
use prescale_core::{MetricId, MetricSource, RawSample, SourceError, TimeRange};

use crate::{AwsOptions, RuntimeError, describe, load_config, no_answer, runtime, to_chrono, to_smithy};

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
}

/// [`MetricSource`] over CloudWatch `GetMetricData`.
#[derive(Debug)]
pub struct CloudWatchSource {
    rt: tokio::runtime::Runtime,
    client: aws_sdk_cloudwatch::Client,
    queries: Vec<CloudWatchQuery>,
    region: String,
}

impl CloudWatchSource {
    /// A source for `queries`, with the standard SDK configuration chain.
    ///
    /// # Errors
    /// [`RuntimeError`] when no async runtime can be started.
    pub fn new(queries: Vec<CloudWatchQuery>, opts: &AwsOptions) -> Result<Self, RuntimeError> {
        let rt = runtime()?;
        let config = load_config(&rt, opts);
        let region = config.region().map_or_else(|| "(no region)".to_string(), ToString::to_string);
        let client = aws_sdk_cloudwatch::Client::new(&config);
        Ok(Self { rt, client, queries, region })
    }
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
        for (qs, window) in split_requests(self.queries.len(), range) {
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
                let metric = Metric::builder()
                    .namespace(&q.namespace)
                    .metric_name(&q.metric_name)
                    .set_dimensions(Some(
                        q.dimensions.iter().map(|(n, v)| Dimension::builder().name(n).value(v).build()).collect(),
                    ))
                    .build();
                let stat = MetricStat::builder().metric(metric).period(window.step_secs as i32).stat(&q.stat).build();
                request = request
                    .metric_data_queries(MetricDataQuery::builder().id(id).metric_stat(stat).return_data(true).build());
            }
            let pages =
                self.rt.block_on(request.into_paginator().send().collect::<Result<Vec<_>, _>>()).map_err(|e| {
                    // The SDK's error follows as the cause; the message says what it means and what to do.
                    let message = match no_answer(&e) {
                        Some((what, check)) => format!("{what}\nhint: {check}, and retry"),
                        None if e.as_service_error().is_some_and(|s| s.code().is_none()) => describe(&e),
                        None => format!(
                            "{}\nhint: check credentials (the standard AWS chain), the region and permission \
                             cloudwatch:GetMetricData",
                            describe(&e)
                        ),
                    };
                    SourceError::Api { operation: "GetMetricData".into(), message, source: Box::new(e) }
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
                let filled = fill_empty_periods(s, range.step_secs, range.end - PUBLISH_LAG);
                if filled > 0 {
                    tracing::info!(
                        "{}: {filled} periods without a datapoint stored as 0 ({} of {}: CloudWatch sends no \
                         datapoint for a period in which nothing was counted)",
                        q.id,
                        q.stat,
                        q.metric_name
                    );
                }
            }
        }
        Ok(self.queries.iter().zip(samples).map(|(q, s)| (q.id.clone(), s)).collect())
    }
}

/// How long after a period ends CloudWatch may still be publishing it: a period that ended
/// less than this before the query's end is not taken as empty.
pub const PUBLISH_LAG: Duration = Duration::minutes(15);

/// Whether a statistic counts events (`Sum`, `SampleCount`), for which a period with no datapoint
/// holds none: CloudWatch publishes no datapoint for an ALB that served no request.
pub fn counts_events(stat: &str) -> bool {
    stat.eq_ignore_ascii_case("Sum") || stat.eq_ignore_ascii_case("SampleCount")
}

/// Adds a 0 for every period of `step_secs` without a sample, from the first sample (before it
/// the metric may not have existed) to the last period that ended by `until`; returns how many.
/// The samples are sorted by time.
pub fn fill_empty_periods(samples: &mut Vec<RawSample>, step_secs: i64, until: chrono::DateTime<chrono::Utc>) -> usize {
    samples.sort_by_key(|s| s.ts);
    let (Some(first), true) = (samples.first().map(|s| s.ts), step_secs > 0) else { return 0 };
    let step = Duration::seconds(step_secs);
    let mut zeros = Vec::new();
    let mut next = samples.iter().map(|s| s.ts).peekable();
    let mut t = first;
    while t + step <= until {
        while next.peek().is_some_and(|&u| u < t) {
            next.next();
        }
        if next.peek().is_none_or(|&u| u >= t + step) {
            zeros.push(RawSample::new(t, 0.0));
        }
        t += step;
    }
    let n = zeros.len();
    if n > 0 {
        samples.extend(zeros);
        samples.sort_by_key(|s| s.ts);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn periods_without_a_count_are_zero_between_the_first_sample_and_the_publishing_lag() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let at = |m: i64| t0 + Duration::minutes(m);
        // 5-minute sums at 00:00, 00:05, then nothing until 00:30; the query ends at 01:00.
        let mut s = vec![RawSample::new(at(30), 7.0), RawSample::new(at(0), 3.0), RawSample::new(at(5), 4.0)];
        let n = fill_empty_periods(&mut s, 300, at(60) - PUBLISH_LAG);
        // 00:10–00:25 are empty, and 00:35, 00:40 ended by 00:45; 00:45 may still be published.
        assert_eq!(n, 6);
        let got: Vec<(i64, f64)> = s.iter().map(|x| ((x.ts - t0).num_minutes(), x.value)).collect();
        assert_eq!(
            got,
            [(0, 3.0), (5, 4.0), (10, 0.0), (15, 0.0), (20, 0.0), (25, 0.0), (30, 7.0), (35, 0.0), (40, 0.0)]
        );
        // Nothing before the first sample (the metric may be new), nothing for no samples.
        let mut none = Vec::new();
        assert_eq!(fill_empty_periods(&mut none, 300, at(60)), 0);
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
