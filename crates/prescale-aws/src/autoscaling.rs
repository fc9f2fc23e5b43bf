use aws_sdk_autoscaling::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_autoscaling::types::{
    FailedScheduledUpdateGroupActionRequest, MetricType, PredefinedMetricSpecification, ScalingActivityStatusCode,
    ScheduledUpdateGroupActionRequest, StepAdjustment as AwsStep, TargetTrackingConfiguration,
};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use prescale_core::{
    ActionSink, ApplyReport, CapacityBounds, Change, GroupState, Launch, MetricAlarm, OWNED_PREFIX, PolicyKind,
    ReactivePolicy, ScheduledAction, SinkError, StepAdjustment,
};

use crate::{
    AwsOptions, CredentialsGate, HttpResponse, Limits, RuntimeError, busy, describe, load_config, no_answer, runtime,
    to_chrono, to_smithy, transient,
};

const BATCH: usize = 50;

/// [`ActionSink`] over the Auto Scaling API, and CloudWatch for the step policies' alarms.
#[derive(Debug)]
pub struct AutoScalingSink {
    rt: tokio::runtime::Runtime,
    client: aws_sdk_autoscaling::Client,
    cw: aws_sdk_cloudwatch::Client,
    region: String,
    limits: Limits,
    /// The first call the service did not answer (timed out or unreachable): later changes are
    /// not attempted, since each would wait as long.
    stalled: std::cell::RefCell<Option<Why>>,
    /// Whether the run was asked to stop, and by what (`SIGTERM`): later changes are not
    /// attempted ([`AutoScalingSink::stop_when`]).
    stop: Option<fn() -> Option<&'static str>>,
}

/// Refuses every attempt of a call once the run was asked to stop, before it is sent: a retry
/// sent after the stop would make a change nobody waits for (the SDK's backoff and attempts
/// outlast a supervisor's grace), and a read after it only delays the exit. The in-flight
/// attempt is not touched: it answers, or its attempt timeout ends it.
#[derive(Debug)]
struct StopGate {
    asked: fn() -> Option<&'static str>,
}

/// In an operation's configuration once its first attempt went out.
#[derive(Debug, Clone)]
struct Sent;

impl aws_smithy_types::config_bag::Storable for Sent {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// An attempt [`StopGate`] refused; `retry`: an attempt of the call went out before it.
#[derive(Debug, thiserror::Error)]
#[error("not sent: the run was stopped ({signal})")]
struct Stopped {
    signal: &'static str,
    retry: bool,
}

impl aws_sdk_autoscaling::config::Intercept for StopGate {
    fn name(&self) -> &'static str {
        "prescale stop gate"
    }

    fn read_before_attempt(
        &self,
        _: &aws_sdk_autoscaling::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_autoscaling::config::RuntimeComponents,
        cfg: &mut aws_sdk_autoscaling::config::ConfigBag,
    ) -> Result<(), aws_sdk_autoscaling::error::BoxError> {
        let retry = cfg.load::<Sent>().is_some();
        match (self.asked)() {
            Some(signal) => Err(Box::new(Stopped { signal, retry })),
            None => {
                cfg.interceptor_state().store_put(Sent);
                Ok(())
            }
        }
    }
}

/// The attempt [`StopGate`] refused behind `e`, if that is why the call failed.
fn stopped_by<E: std::error::Error + 'static>(e: &E) -> Option<&Stopped> {
    crate::cause_of(e)
}

/// Whether an alarm action is the ARN of one of prescale's scaling policies of `group`
/// (`arn:…:scalingPolicy:<id>:autoScalingGroupName/<group>:policyName/prescale-…`). An alarm
/// that triggers somebody else's policy of the group is theirs, whatever its name.
fn prescale_policy_of(action: &str, group: &str) -> bool {
    action
        .split_once(&format!(":autoScalingGroupName/{group}:policyName/"))
        .is_some_and(|(_, policy)| policy.starts_with(OWNED_PREFIX))
}

fn size(v: Option<i32>) -> Option<u32> {
    v.and_then(|x| u32::try_from(x).ok())
}

/// Why a call failed, for the report: the words, and whether it passes by itself.
#[derive(Debug, Clone)]
struct Why {
    text: String,
    transient: bool,
    fate: Fate,
}

/// What became of a change whose call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Refused or failed: not made.
    Failed,
    /// Sent, and no answer came in time: it may have been made.
    Unanswered,
    /// Never sent (the run was stopped, or an earlier failure held it back): not made, and the
    /// next run makes it.
    NotSent,
}

impl Why {
    /// A change not sent: the run was stopped before it ([`StopGate`]).
    fn not_sent(s: &Stopped) -> Self {
        Self {
            text: format!("not attempted: the run was stopped ({}) before it was sent", s.signal),
            transient: true,
            fate: Fate::NotSent,
        }
    }

    /// A failure that needs its cause mended.
    fn refused(text: String) -> Self {
        Self { text, transient: false, fate: Fate::Failed }
    }

    /// Records `change` as its fate says: failed, unanswered, or not attempted.
    fn record(&self, report: &mut ApplyReport, change: Change) {
        match self.fate {
            Fate::Failed => report.fail(change, self.text.clone(), self.transient),
            Fate::Unanswered => report.no_answer(change, self.text.clone()),
            Fate::NotSent => report.skip(change, self.text.clone(), self.transient),
        }
    }
}

/// Records one batch call's outcome per change: applied, or failed with the item's own error (a
/// batch call answers per item) or with the call's error (as [`AutoScalingSink::fail`] words it)
/// for every change of the chunk.
fn record_batch(
    report: &mut ApplyReport,
    chunk: &[&Change],
    outcome: Result<&[FailedScheduledUpdateGroupActionRequest], Why>,
) {
    match outcome {
        Ok(failed) => {
            for c in chunk {
                match failed.iter().find(|f| f.scheduled_action_name() == Some(c.object_name())) {
                    Some(f) => {
                        let (text, transient) = item_error(f);
                        report.fail((*c).clone(), text, transient);
                    }
                    None => report.applied.push((*c).clone()),
                }
            }
        }
        Err(why) => fail_all(report, chunk, &why),
    }
}

/// One item's failure in a batch answer: `CODE: message`, and whether it passes by itself.
fn item_error(f: &FailedScheduledUpdateGroupActionRequest) -> (String, bool) {
    (
        format!("{}: {}", f.error_code().unwrap_or("error"), f.error_message().unwrap_or("")),
        f.error_code().is_some_and(busy),
    )
}

/// Records every change of `changes` as failed for the same reason.
fn fail_all(report: &mut ApplyReport, changes: &[&Change], why: &Why) {
    for c in changes {
        why.record(report, (*c).clone());
    }
}

impl AutoScalingSink {
    /// A sink with the standard SDK configuration chain.
    ///
    /// # Errors
    /// [`RuntimeError`] when no async runtime can be started.
    pub fn new(opts: &AwsOptions) -> Result<Self, RuntimeError> {
        let rt = runtime()?;
        let (config, limits) = load_config(&rt, opts);
        let region = config.region().map_or_else(|| "(no region)".to_string(), ToString::to_string);
        Ok(Self {
            client: aws_sdk_autoscaling::Client::from_conf(
                aws_sdk_autoscaling::config::Builder::from(&config).interceptor(CredentialsGate).build(),
            ),
            cw: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(&config).interceptor(CredentialsGate).build(),
            ),
            rt,
            region,
            limits,
            stalled: std::cell::RefCell::new(None),
            stop: None,
        })
    }

    /// Checks `asked` before each call and each attempt of one: once it names what asked the run
    /// to stop (a signal), the call in flight has its attempt's time to finish, no attempt of any
    /// call is sent after it (a retry neither: an interceptor refuses it), and the changes after it are
    /// reported not attempted.
    #[must_use]
    pub fn stop_when(self, asked: fn() -> Option<&'static str>) -> Self {
        let client = aws_sdk_autoscaling::Client::from_conf(
            self.client.config().to_builder().interceptor(StopGate { asked }).build(),
        );
        let cw = aws_sdk_cloudwatch::Client::from_conf(
            self.cw.config().to_builder().interceptor(StopGate { asked }).build(),
        );
        Self { stop: Some(asked), client, cw, ..self }
    }

    /// The error of call `operation` on `group` that stops work on the group: [`SinkError::Unreachable`]
    /// where the service gave no answer.
    fn api_err<E>(&self, group: &str, operation: &str, e: SdkError<E, HttpResponse>) -> SinkError
    where
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        if let Some(s) = stopped_by(&e) {
            // A read refused once the run was stopped: nothing to record, the run is ending.
            let (group, operation, message) = (group.into(), operation.into(), s.to_string());
            return SinkError::Api { group, operation, message, transient: true, source: Box::new(e) };
        }
        crate::note_refusal(operation, &e);
        let (group, operation, message) = (group.into(), operation.into(), describe(&e, self.limits));
        let transient = transient(&e);
        // Refused credentials fail every other group's calls alike, as a missing endpoint does.
        if no_answer(&e, self.limits).is_some() || crate::refused_credentials(&e) {
            SinkError::Unreachable { group, operation, message, transient, source: Box::new(e) }
        } else {
            SinkError::Api { group, operation, message, transient, source: Box::new(e) }
        }
    }

    /// The failure of call `op`, for the report; a timeout or an unreachable endpoint is
    /// remembered, and no later change is attempted.
    fn fail<E: std::error::Error + ProvideErrorMetadata + 'static>(
        &self,
        op: &str,
        e: &SdkError<E, HttpResponse>,
    ) -> Why {
        // A call sent and not answered in time may have been made: said so, not "failed". So may
        // a write whose endpoint went away: the group was read from it a moment before, and the
        // SDK's error is its last attempt's (a refused connection), where an earlier attempt may
        // have been sent and its answer lost with the connection.
        crate::note_refusal(op, e);
        let kind = crate::no_answer_kind(e);
        let unanswered = matches!(kind, Some(crate::NoAnswer::Timeout | crate::NoAnswer::Unreachable));
        let why = Why {
            text: format!("{op}: {}", describe(e, self.limits)),
            transient: transient(e),
            // Not sent at all where the credentials were refused before it.
            fate: if crate::gated(e).is_some() {
                Fate::NotSent
            } else if unanswered {
                Fate::Unanswered
            } else {
                Fate::Failed
            },
        };
        // Refused credentials fail every later call alike, as a missing endpoint does.
        if kind.is_some() || crate::refused_credentials(e) {
            self.stalled.borrow_mut().get_or_insert_with(|| why.clone());
        }
        why
    }

    /// Sends a write and waits for its answer, or says why it failed. Once the run is asked to
    /// stop (a signal), the call in flight gets one attempt's time to answer and is then left,
    /// and [`StopGate`] refuses its retries: they would send it again long after the stop (five
    /// attempts of a minute outlast a supervisor's grace). Left, or refused a retry after a
    /// failed attempt, it may have been made.
    fn write<T, E>(
        &self,
        op: &str,
        call: impl std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, Why>
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        const POLL: std::time::Duration = std::time::Duration::from_millis(100);
        let (stop, grace) = (self.stop, self.limits.attempt);
        let answer = self.rt.block_on(async move {
            let mut call = std::pin::pin!(call);
            let Some(asked) = stop else { return Some(call.await) };
            loop {
                match tokio::time::timeout(POLL, &mut call).await {
                    Ok(out) => return Some(out),
                    Err(_) if asked().is_some() => break,
                    Err(_) => {}
                }
            }
            tokio::time::timeout(grace, call).await.ok()
        });
        match answer {
            Some(out) => out.map_err(|e| match stopped_by(&e) {
                // Its first attempt went out and failed (no answer, or a busy service), and the
                // stop refused the retry: it may have been made.
                Some(s) if s.retry => Why {
                    text: format!(
                        "{op}: its attempt failed and its retries were not sent after the stop ({}): it may have \
                         been made",
                        s.signal
                    ),
                    transient: true,
                    fate: Fate::Unanswered,
                },
                Some(s) => Why::not_sent(s),
                None => self.fail(op, &e),
            }),
            None => Err(Why {
                text: format!(
                    "{op}: no answer within {} s of the stop ({}), and its retries were not sent: it may have been made",
                    grace.as_secs(),
                    stop.and_then(|asked| asked()).unwrap_or("a signal")
                ),
                transient: true,
                fate: Fate::Unanswered,
            }),
        }
    }

    /// Why a change whose write needs a read first failed at that read: not sent once the run was
    /// stopped, else failed as [`AutoScalingSink::fail`] words it, never possibly made (only the
    /// read went out unanswered).
    fn read_failed<E: std::error::Error + ProvideErrorMetadata + 'static>(
        &self,
        op: &str,
        e: &SdkError<E, HttpResponse>,
    ) -> Why {
        match stopped_by(e) {
            Some(s) => Why::not_sent(s),
            None => Why { fate: Fate::Failed, ..self.fail(op, e) },
        }
    }

    /// Why a change is not attempted, once the run was asked to stop.
    fn stopped(&self) -> Option<Why> {
        self.stop.and_then(|asked| asked()).map(|signal| Why::not_sent(&Stopped { signal, retry: false }))
    }

    /// Why a change is not attempted: the run was asked to stop, or the service stopped
    /// answering (as the first call that got no answer, transient or not).
    fn not_attempted(&self) -> Option<Why> {
        self.stopped().or_else(|| self.stalled_since())
    }

    fn stalled_since(&self) -> Option<Why> {
        self.stalled.borrow().as_ref().map(|first| Why {
            text: format!("not attempted: every call fails alike since {}", first.text),
            transient: first.transient,
            // Not sent: its outcome is known (nothing), whatever the first call's was.
            fate: Fate::NotSent,
        })
    }

    /// `UpdateAutoScalingGroup` with the bounds that change, and only those: a bound left out
    /// stays as the group's owners have it.
    ///
    /// After a revert's deletes; held back where one of them failed (a floor left on the group
    /// would raise MinSize again), and a MaxSize going down is read again just before: a group
    /// that scaled out above it since it was read (an alarm firing, a floor that ran) would have
    /// instances in service terminated.
    fn set_bounds(
        &self,
        group: &str,
        old: CapacityBounds,
        new: CapacityBounds,
        report: &ApplyReport,
    ) -> Result<(), Why> {
        // A floor left on the group would raise MinSize again (an alarm or a policy cannot).
        if let Some(f) = report.failed.iter().find(|f| matches!(f.change, Change::DeleteScheduledAction { .. })) {
            return Err(Why {
                text: format!(
                    "not attempted: the delete of scheduled action {} was not made, and it could raise the bounds \
                     again; the next revert puts them back",
                    f.change.object_name()
                ),
                transient: f.transient,
                fate: Fate::NotSent,
            });
        }
        // MaxSize stays where the group now runs more than the new one allows.
        let mut kept_max = None;
        if new.max() < old.max() {
            let out = self
                .rt
                .block_on(self.client.describe_auto_scaling_groups().auto_scaling_group_names(group).send())
                .map_err(|e| self.read_failed("DescribeAutoScalingGroups", &e))?;
            let desired = out
                .auto_scaling_groups()
                .iter()
                .find(|g| g.auto_scaling_group_name() == Some(group))
                .and_then(|g| size(g.desired_capacity()));
            kept_max = desired.filter(|d| *d > new.max());
        }
        let mut req = self.client.update_auto_scaling_group().auto_scaling_group_name(group);
        if new.min() != old.min() {
            req = req.min_size(aws_int(new.min()));
        }
        if new.max() != old.max() && kept_max.is_none() {
            req = req.max_size(aws_int(new.max()));
        }
        if let Some(desired) = kept_max {
            if new.min() != old.min() {
                self.write("UpdateAutoScalingGroup", req.send())?;
            }
            // Not made in full: said as a failure that passes by itself (the group scales in).
            return Err(Why {
                text: format!(
                    "{}MaxSize not lowered to {}: the group's desired capacity is {desired} now (it scaled out since it \
                     was read), and lowering it would terminate instances in service; the next revert puts it back \
                     once the group has scaled in",
                    if new.min() == old.min() { String::new() } else { format!("MinSize put back to {}; ", new.min()) },
                    new.max()
                ),
                transient: true,
                fate: Fate::Failed,
            });
        }
        self.write("UpdateAutoScalingGroup", req.send()).map(|_| ())
    }

    fn read_actions(&self, group: &str) -> Result<Vec<ScheduledAction>, SinkError> {
        let all = self
            .rt
            .block_on(
                self.client
                    .describe_scheduled_actions()
                    .auto_scaling_group_name(group)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>(),
            )
            .map_err(|e| self.api_err(group, "DescribeScheduledActions", e))?;
        Ok(all
            .iter()
            .filter_map(|a| {
                // A recurring action of somebody else's may come without a start time: it is kept
                // (it counts towards the group's limit and acts beside the plan), its start at the
                // epoch, which no plan hour precedes.
                let start = a
                    .start_time()
                    .and_then(to_chrono)
                    .or_else(|| a.recurrence().map(|_| chrono::DateTime::<chrono::Utc>::UNIX_EPOCH));
                let (Some(name), Some(start)) = (a.scheduled_action_name(), start) else {
                    return None;
                };
                Some(ScheduledAction {
                    name: name.to_string(),
                    start_time: start,
                    min_size: size(a.min_size()),
                    max_size: size(a.max_size()),
                    desired_capacity: size(a.desired_capacity()),
                    time_zone: a.time_zone().map(str::to_string),
                    recurrence: a.recurrence().map(str::to_string),
                })
            })
            .collect())
    }

    /// The group's policies, each with its ARN.
    fn read_policies(&self, group: &str) -> Result<Vec<(ReactivePolicy, String)>, SinkError> {
        let mut out = Vec::new();
        let all = self
            .rt
            .block_on(
                self.client
                    .describe_policies()
                    .auto_scaling_group_name(group)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>(),
            )
            .map_err(|e| self.api_err(group, "DescribePolicies", e))?;
        for p in &all {
            let Some(name) = p.policy_name() else { continue };
            let policy_type = p.policy_type().unwrap_or("SimpleScaling").to_string();
            let tt = p.target_tracking_configuration();
            let spec = tt.and_then(|t| t.predefined_metric_specification());
            let metric = spec.and_then(|s| s.predefined_metric_type());
            let kind = match (policy_type.as_str(), tt, spec, metric) {
                ("TargetTrackingScaling", Some(t), Some(s), Some(m)) => PolicyKind::TargetTracking {
                    metric: m.as_str().to_string(),
                    resource_label: s.resource_label().map(str::to_string),
                    target_value: t.target_value().unwrap_or(0.0),
                    estimated_instance_warmup_secs: size(p.estimated_instance_warmup()),
                    disable_scale_in: t.disable_scale_in().unwrap_or(false),
                },
                // prescale writes its step policies with the Average; one edited to another
                // aggregation by hand reads as a different kind, which the next apply puts back.
                ("StepScaling", ..) if p.metric_aggregation_type().is_some_and(|a| a != "Average") => {
                    PolicyKind::Other {
                        policy_type: format!(
                            "StepScaling with MetricAggregationType {}",
                            p.metric_aggregation_type().unwrap_or_default()
                        ),
                    }
                }
                ("StepScaling", ..) => PolicyKind::StepScaling {
                    adjustment_type: p.adjustment_type().unwrap_or("ChangeInCapacity").to_string(),
                    steps: p
                        .step_adjustments()
                        .iter()
                        .map(|s| StepAdjustment {
                            lower: s.metric_interval_lower_bound(),
                            upper: s.metric_interval_upper_bound(),
                            adjustment: s.scaling_adjustment().unwrap_or(0),
                        })
                        .collect(),
                    min_adjustment_magnitude: size(p.min_adjustment_magnitude()),
                    estimated_instance_warmup_secs: size(p.estimated_instance_warmup()),
                },
                // AWS's predictive scaling, with its mode (ForecastOnly unless set): only one that
                // scales acts beside prescale's floors.
                ("PredictiveScaling", ..) => PolicyKind::Other {
                    policy_type: format!(
                        "PredictiveScaling {}",
                        p.predictive_scaling_configuration()
                            .and_then(|c| c.mode())
                            .map_or("ForecastOnly", |m| m.as_str())
                    ),
                },
                _ => PolicyKind::Other { policy_type },
            };
            let arn = p.policy_arn().unwrap_or_default().to_string();
            out.push((ReactivePolicy { name: name.to_string(), kind }, arn));
        }
        Ok(out)
    }

    /// Puts a run of scheduled actions in batches of 50; returns (applied, failed) changes.
    fn put_actions(&self, group: &str, changes: &[&Change], report: &mut ApplyReport) {
        for chunk in changes.chunks(BATCH) {
            if let Some(why) = self.not_attempted() {
                fail_all(report, chunk, &why);
                continue;
            }
            // A put leaves the fields it does not give as they were: an action of ours with a
            // recurrence added by hand is deleted first, so that it comes back a one-time action.
            let recurring: Vec<String> = chunk
                .iter()
                .filter_map(|c| match c {
                    Change::PutScheduledAction { new, old: Some(o) } if o.recurrence.is_some() => {
                        Some(new.name.clone())
                    }
                    _ => None,
                })
                .collect();
            let mut chunk: Vec<&Change> = chunk.to_vec();
            if !recurring.is_empty() {
                match self.batch_delete(group, recurring.clone()) {
                    Err(why) => {
                        fail_all(report, &chunk, &why);
                        continue;
                    }
                    // An action not deleted keeps its recurrence through a put: it fails here,
                    // with the reason, and the next run tries again.
                    Ok(failed) => {
                        for f in &failed {
                            let Some(name) = f.scheduled_action_name() else { continue };
                            if let Some(i) = chunk.iter().position(|c| c.object_name() == name) {
                                let (text, transient) = item_error(f);
                                report.fail(
                                    chunk.remove(i).clone(),
                                    format!(
                                        "its recurrence could not be taken off (BatchDeleteScheduledAction: {text})"
                                    ),
                                    transient,
                                );
                            }
                        }
                    }
                }
            }
            let chunk = &chunk[..];
            let failed_before = report.failed.len();
            let mut req = self.client.batch_put_scheduled_update_group_action().auto_scaling_group_name(group);
            for c in chunk {
                let Change::PutScheduledAction { new, .. } = c else { continue };
                let r = ScheduledUpdateGroupActionRequest::builder()
                    .scheduled_action_name(&new.name)
                    .start_time(to_smithy(new.start_time))
                    .set_min_size(new.min_size.map(aws_int))
                    .set_max_size(new.max_size.map(aws_int))
                    .set_desired_capacity(new.desired_capacity.map(aws_int))
                    // StartTime is always the UTC instant; TimeZone only says how to show it
                    // (and would govern a recurrence, which prescale does not write).
                    .set_time_zone(new.zone().map(str::to_string))
                    .build();
                req = req.scheduled_update_group_actions(r);
            }
            let out = self.write("BatchPutScheduledUpdateGroupAction", req.send());
            let failed = out.as_ref().map(|o| o.failed_scheduled_update_group_actions()).map_err(Why::clone);
            record_batch(report, chunk, failed);
            // A put that failed after its recurring action was deleted leaves no action at that
            // hour: said with the failure, not read as "the old one is still there".
            for f in &mut report.failed[failed_before..] {
                if let Some(hint) = past_start_hint(&f.error) {
                    f.error.push_str(hint);
                }
                if recurring.iter().any(|n| n == f.change.object_name()) {
                    f.error.push_str(
                        " (the recurring action of that name was deleted first: the group holds none at that hour until \
                         the next run puts it)",
                    );
                }
            }
        }
    }

    fn delete_actions(&self, group: &str, changes: &[&Change], report: &mut ApplyReport) {
        for chunk in changes.chunks(BATCH) {
            if let Some(why) = self.not_attempted() {
                fail_all(report, chunk, &why);
                continue;
            }
            let names: Vec<String> = chunk.iter().map(|c| c.object_name().to_string()).collect();
            let failed = self.batch_delete(group, names);
            record_batch(report, chunk, failed.as_deref().map_err(Why::clone));
        }
    }

    /// Deletes the scheduled actions `names` of `group` in one call: the items that failed, or
    /// why the call did.
    fn batch_delete(
        &self,
        group: &str,
        names: Vec<String>,
    ) -> Result<Vec<FailedScheduledUpdateGroupActionRequest>, Why> {
        let req = self
            .client
            .batch_delete_scheduled_action()
            .auto_scaling_group_name(group)
            .set_scheduled_action_names(Some(names));
        self.write("BatchDeleteScheduledAction", req.send()).map(|o| o.failed_scheduled_actions().to_vec())
    }

    /// prescale's alarms (named `prescale-…`) that belong to `group`: their action is one of its
    /// policies, or they carry the names prescale gives the group's alarms. Nobody else's alarm
    /// is read, so none can be changed.
    fn read_alarms(&self, group: &str, policies: &[(ReactivePolicy, String)]) -> Result<Vec<MetricAlarm>, SinkError> {
        let mut out = Vec::new();
        let pages = self
            .rt
            .block_on(
                self.cw
                    .describe_alarms()
                    .alarm_name_prefix(OWNED_PREFIX)
                    .into_paginator()
                    .send()
                    .collect::<Result<Vec<_>, _>>(),
            )
            .map_err(|e| self.api_err(group, "DescribeAlarms", e))?;
        for page in &pages {
            for a in page.metric_alarms() {
                let Some(name) = a.alarm_name() else { continue };
                let actions = a.alarm_actions();
                let policy = actions
                    .iter()
                    .find_map(|act| policies.iter().find(|(_, arn)| arn == act).map(|(p, _)| p.name.clone()))
                    .unwrap_or_default();
                // Prescale's policies of the group among its actions, and the others' (kept by a put).
                let (ours, other_actions): (Vec<String>, Vec<String>) =
                    actions.iter().cloned().partition(|act| prescale_policy_of(act, group));
                if ours.is_empty() && !owned_alarm_name(group, name) {
                    continue;
                }
                out.push(MetricAlarm {
                    name: name.to_string(),
                    namespace: a.namespace().unwrap_or_default().to_string(),
                    metric_name: a.metric_name().unwrap_or_default().to_string(),
                    dimensions: a
                        .dimensions()
                        .iter()
                        .map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string()))
                        .collect(),
                    statistic: a.statistic().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    period_secs: size(a.period()).unwrap_or(0),
                    evaluation_periods: size(a.evaluation_periods()).unwrap_or(0),
                    threshold: a.threshold().unwrap_or(f64::NAN),
                    comparison: a.comparison_operator().map(|c| c.as_str().to_string()).unwrap_or_default(),
                    policy,
                    treat_missing_data: a.treat_missing_data().unwrap_or("missing").to_string(),
                    actions_enabled: a.actions_enabled().unwrap_or(true),
                    other_actions,
                });
            }
        }
        Ok(out)
    }

    fn put_alarm(&self, group: &str, a: &MetricAlarm) -> Result<(), Why> {
        let out = self
            .rt
            .block_on(self.client.describe_policies().auto_scaling_group_name(group).policy_names(&a.policy).send())
            .map_err(|e| self.read_failed("DescribePolicies", &e))?;
        let arn = out
            .scaling_policies()
            .iter()
            .find(|p| p.policy_name() == Some(a.policy.as_str()))
            .and_then(|p| p.policy_arn())
            .ok_or_else(|| {
                Why::refused(format!("alarm {} triggers policy {}, which the group does not hold", a.name, a.policy))
            })?;
        let mut req = self
            .cw
            .put_metric_alarm()
            .alarm_name(&a.name)
            .alarm_description(format!("prescale: {} of Auto Scaling group {group}", a.policy))
            .namespace(&a.namespace)
            .metric_name(&a.metric_name)
            .statistic(Statistic::from(a.statistic.as_str()))
            .period(aws_int(a.period_secs))
            .evaluation_periods(aws_int(a.evaluation_periods))
            .threshold(a.threshold)
            .comparison_operator(ComparisonOperator::from(a.comparison.as_str()))
            .treat_missing_data(&a.treat_missing_data)
            .actions_enabled(a.actions_enabled)
            .alarm_actions(arn);
        for other in &a.other_actions {
            req = req.alarm_actions(other);
        }
        for (k, v) in &a.dimensions {
            req = req.dimensions(Dimension::builder().name(k).value(v).build());
        }
        self.write("PutMetricAlarm", req.send()).map(|_| ())
    }

    fn delete_alarm(&self, name: &str) -> Result<(), Why> {
        self.write("DeleteAlarms", self.cw.delete_alarms().alarm_names(name).send()).map(|_| ())
    }

    fn put_policy(&self, group: &str, p: &ReactivePolicy) -> Result<(), Why> {
        if let PolicyKind::StepScaling {
            adjustment_type,
            steps,
            min_adjustment_magnitude,
            estimated_instance_warmup_secs,
        } = &p.kind
        {
            let steps = steps
                .iter()
                .map(|s| {
                    AwsStep::builder()
                        .set_metric_interval_lower_bound(s.lower)
                        .set_metric_interval_upper_bound(s.upper)
                        .scaling_adjustment(s.adjustment)
                        .build()
                })
                .collect();
            let req = self
                .client
                .put_scaling_policy()
                .auto_scaling_group_name(group)
                .policy_name(&p.name)
                .policy_type("StepScaling")
                .adjustment_type(adjustment_type)
                .metric_aggregation_type("Average")
                .set_step_adjustments(Some(steps))
                .set_min_adjustment_magnitude(min_adjustment_magnitude.map(aws_int))
                .set_estimated_instance_warmup(estimated_instance_warmup_secs.map(aws_int));
            return self.write("PutScalingPolicy", req.send()).map(|_| ());
        }
        let PolicyKind::TargetTracking {
            metric,
            resource_label,
            target_value,
            estimated_instance_warmup_secs,
            disable_scale_in,
        } = &p.kind
        else {
            return Err(Why::refused(format!("prescale does not write policies of kind {:?}", p.kind)));
        };
        let spec = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::from(metric.as_str()))
            .set_resource_label(resource_label.clone())
            .build();
        let tt = TargetTrackingConfiguration::builder()
            .predefined_metric_specification(spec)
            .target_value(*target_value)
            .disable_scale_in(*disable_scale_in)
            .build();
        let req = self
            .client
            .put_scaling_policy()
            .auto_scaling_group_name(group)
            .policy_name(&p.name)
            .policy_type("TargetTrackingScaling")
            .target_tracking_configuration(tt)
            .set_estimated_instance_warmup(estimated_instance_warmup_secs.map(aws_int));
        self.write("PutScalingPolicy", req.send()).map(|_| ())
    }
}

impl AutoScalingSink {
    /// The group as DescribeAutoScalingGroups has it.
    fn describe_group(&mut self, group: &str) -> Result<aws_sdk_autoscaling::types::AutoScalingGroup, SinkError> {
        let out = self
            .rt
            .block_on(self.client.describe_auto_scaling_groups().auto_scaling_group_names(group).send())
            .map_err(|e| self.api_err(group, "DescribeAutoScalingGroups", e))?;
        out.auto_scaling_groups()
            .iter()
            .find(|g| g.auto_scaling_group_name() == Some(group))
            .cloned()
            .ok_or_else(|| SinkError::GroupNotFound { group: group.into(), place: format!("region {}", self.region) })
    }
}

impl ActionSink for AutoScalingSink {
    fn describe(&self) -> String {
        format!("autoscaling {}", self.region)
    }

    fn read_state(&mut self, group: &str) -> Result<GroupState, SinkError> {
        let g = self.describe_group(group)?;
        let (min, max) = (size(g.min_size()).unwrap_or(0), size(g.max_size()).unwrap_or(0));
        let bounds = CapacityBounds::new(min, max.max(min)).map_err(|e| SinkError::Local(e.to_string()))?;
        let policies = self.read_policies(group)?;
        let mut alarms = self.read_alarms(group, &policies)?;
        // In a fixed order, whatever the service's: diffs, reverts and their reports read the same
        // run after run (actions by time, the rest by name).
        let mut scheduled_actions = self.read_actions(group)?;
        scheduled_actions.sort_by(|a, b| a.start_time.cmp(&b.start_time).then_with(|| a.name.cmp(&b.name)));
        let mut policies: Vec<_> = policies.into_iter().map(|(p, _)| p).collect();
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        alarms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(GroupState {
            group: group.into(),
            bounds,
            desired: size(g.desired_capacity()).unwrap_or(min),
            scheduled_actions,
            policies,
            alarms,
            suspended: g.suspended_processes().iter().filter_map(|p| p.process_name().map(str::to_string)).collect(),
        })
    }

    fn running(&mut self, group: &str) -> Result<u32, SinkError> {
        let g = self.describe_group(group)?;
        let min = size(g.min_size()).unwrap_or(0);
        Ok(min.max(size(g.desired_capacity()).unwrap_or(min)))
    }

    fn recent_launches(&mut self, group: &str) -> Result<Vec<Launch>, SinkError> {
        let mut out = Vec::new();
        // Newest first; the first few hundred activities hold enough launches.
        let mut activities = self
            .client
            .describe_scaling_activities()
            .auto_scaling_group_name(group)
            .into_paginator()
            .page_size(100)
            .items()
            .send();
        for _ in 0..500 {
            let Some(a) = self.rt.block_on(activities.next()) else { break };
            let a = a.map_err(|e| self.api_err(group, "DescribeScalingActivities", e))?;
            let launch = a.description().is_some_and(|d| d.starts_with("Launching"));
            let ok = a.status_code() == Some(&ScalingActivityStatusCode::Successful);
            if let (true, true, Some(start), Some(end)) =
                (launch, ok, a.start_time().and_then(to_chrono), a.end_time().and_then(to_chrono))
            {
                out.push(Launch { start, end });
                if out.len() >= 20 {
                    break;
                }
            }
        }
        Ok(out)
    }

    fn published_every(
        &mut self,
        group: &str,
        alarm: &MetricAlarm,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<prescale_core::Published, SinkError> {
        use aws_sdk_cloudwatch::types::{MetricDataQuery, MetricStat, ScanBy};
        let start = until - chrono::Duration::hours(prescale_core::PUBLISHED_WITHIN_HOURS);
        let dims = alarm.dimensions.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let metric = crate::cloudwatch::metric(&alarm.namespace, &alarm.metric_name, dims);
        // Asked per minute: a metric published every five minutes answers one datapoint in five.
        let stat = MetricStat::builder().metric(metric).period(60).stat(&alarm.statistic).build();
        let query = MetricDataQuery::builder().id("published").metric_stat(stat).return_data(true).build();
        let request = self
            .cw
            .get_metric_data()
            .start_time(to_smithy(start))
            .end_time(to_smithy(until))
            .scan_by(ScanBy::TimestampAscending)
            .metric_data_queries(query);
        let pages = self
            .rt
            .block_on(request.into_paginator().send().collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.api_err(group, "GetMetricData", e))?;
        let times: Vec<i64> = pages
            .iter()
            .flat_map(|p| p.metric_data_results())
            .flat_map(|r| r.timestamps())
            .map(aws_smithy_types::DateTime::secs)
            .collect();
        Ok(prescale_core::publication(&times))
    }

    fn leftovers(&mut self, group: &str) -> Result<Vec<MetricAlarm>, SinkError> {
        // Its policies are gone, and their ARNs with them: the alarms prescale names for it.
        self.read_alarms(group, &[])
    }

    fn apply(&mut self, group: &str, changes: &[Change]) -> Result<ApplyReport, SinkError> {
        let mut report = ApplyReport::default();
        // Consecutive changes of the same kind go out as one batch call, keeping the diff's order.
        let mut i = 0;
        while i < changes.len() {
            let kind = std::mem::discriminant(&changes[i]);
            let mut j = i;
            while j < changes.len() && std::mem::discriminant(&changes[j]) == kind {
                j += 1;
            }
            let run: Vec<&Change> = changes[i..j].iter().collect();
            match &changes[i] {
                Change::PutScheduledAction { .. } => match no_fallback(&report) {
                    Some(why) => fail_all(&mut report, &run, &why),
                    None => self.put_actions(group, &run, &mut report),
                },
                Change::DeleteScheduledAction { .. } => match self.stopped().or_else(|| held_back(&report)) {
                    Some(why) => fail_all(&mut report, &run, &why),
                    None => self.delete_actions(group, &run, &mut report),
                },
                Change::PutPolicy { .. }
                | Change::DeletePolicy { .. }
                | Change::PutAlarm { .. }
                | Change::DeleteAlarm { .. }
                | Change::SetBounds { .. } => {
                    for c in run {
                        if let Some(why) = self.not_attempted() {
                            why.record(&mut report, c.clone());
                            continue;
                        }
                        // An alarm whose policy did not go in fails as that policy did.
                        let policy_failed = match c {
                            Change::PutAlarm { new, .. } => report.failed.iter().find(
                                |f| matches!(&f.change, Change::PutPolicy { new: p, .. } if p.name == new.policy),
                            ),
                            _ => None,
                        };
                        if let Some(f) = policy_failed {
                            let (text, transient) = (
                                format!("not attempted: its policy {} did not go in", f.change.object_name()),
                                f.transient,
                            );
                            report.fail(c.clone(), text, transient);
                            continue;
                        }
                        if let Change::DeletePolicy { old } = c
                            && let Some(why) = policy_kept(&report, old)
                        {
                            why.record(&mut report, c.clone());
                            continue;
                        }
                        let r = match c {
                            // The alarm's other actions as it stands (a team's notification) go
                            // with it: a put replaces the whole list.
                            Change::PutAlarm { new, old } => self.put_alarm(
                                group,
                                &MetricAlarm {
                                    other_actions: old.as_ref().map(|o| o.other_actions.clone()).unwrap_or_default(),
                                    ..new.clone()
                                },
                            ),
                            Change::DeleteAlarm { old } => self.delete_alarm(&old.name),
                            Change::PutPolicy { new, .. } => self.put_policy(group, new),
                            Change::DeletePolicy { old } => self
                                .write(
                                    "DeletePolicy",
                                    self.client
                                        .delete_policy()
                                        .auto_scaling_group_name(group)
                                        .policy_name(&old.name)
                                        .send(),
                                )
                                .map(|_| ()),
                            Change::SetBounds { old, new } => self.set_bounds(group, *old, *new, &report),
                            _ => Ok(()),
                        };
                        match r {
                            Ok(()) => report.applied.push(c.clone()),
                            Err(why) => why.record(&mut report, c.clone()),
                        }
                    }
                }
            }
            i = j;
        }
        Ok(report)
    }
}

/// Whether a policy scales the group in: target tracking unless its scale-in is disabled, a step
/// policy with a step that removes instances.
fn scales_in(p: &prescale_core::ReactivePolicy) -> bool {
    match &p.kind {
        prescale_core::PolicyKind::TargetTracking { disable_scale_in, .. } => !disable_scale_in,
        prescale_core::PolicyKind::StepScaling { steps, .. } => steps.iter().any(|s| s.adjustment < 0),
        _ => false,
    }
}

/// Why the plan's floors are not put: a new policy that would scale the group in (none of its
/// name was there) failed to go in, so floors would raise the group with nothing of prescale's to
/// scale it back in after them (lowering `MinSize` does not lower the desired capacity). They go in
/// with it on the run that puts it. A policy that only scales out (the step policy out), or one
/// whose earlier version stays in place, holds nothing back.
fn no_fallback(report: &ApplyReport) -> Option<Why> {
    let refused: Vec<_> = report
        .failed
        .iter()
        .filter(|f| {
            !f.unanswered
                && !f.not_attempted
                && matches!(&f.change, Change::PutPolicy { new, old: None } if scales_in(new))
        })
        .collect();
    (!refused.is_empty()).then(|| Why {
        text: format!(
            "not attempted: {} {} not go in, and floors without {} would hold the group at their height (nothing of \
             prescale's would scale it back in); they go in with {}",
            if refused.len() == 1 { "the policy" } else { "the policies" },
            refused.iter().map(|f| f.change.object_name()).collect::<Vec<_>>().join(" and ") + " did",
            if refused.len() == 1 { "it" } else { "them" },
            if refused.len() == 1 { "it" } else { "them" },
        ),
        transient: refused.iter().all(|f| f.transient),
        fate: Fate::NotSent,
    })
}

/// Why a policy's delete is held back: a scheduled action of prescale's that this apply was
/// deleting is still on the group (its delete was sent and failed), and the policy scales the
/// group back in after it; or an alarm that triggers the policy is still there. The delete goes
/// with theirs on a later run.
fn policy_kept(report: &ApplyReport, policy: &prescale_core::ReactivePolicy) -> Option<Why> {
    let floors = report
        .failed
        .iter()
        .filter(|f| !f.not_attempted && matches!(f.change, Change::DeleteScheduledAction { .. }))
        .filter(|_| scales_in(policy))
        .collect::<Vec<_>>();
    let alarms = report
        .failed
        .iter()
        .filter(|f| matches!(&f.change, Change::DeleteAlarm { old } if old.policy == policy.name))
        .collect::<Vec<_>>();
    let (text, kept) = if !floors.is_empty() {
        (
            format!(
                "not attempted: {} of prescale's scheduled actions could not be deleted, and this policy scales the \
                 group back in after them; it is deleted with them",
                floors.len()
            ),
            floors,
        )
    } else if !alarms.is_empty() {
        (
            format!(
                "not attempted: its alarm {} could not be deleted, and would be left triggering no policy; it is \
                 deleted with it",
                alarms[0].change.object_name()
            ),
            alarms,
        )
    } else {
        return None;
    };
    Some(Why { text, transient: kept.iter().all(|f| f.transient), fate: Fate::NotSent })
}

/// Why the stale scheduled actions are kept: some of the plan's own did not go in, and the old
/// floors are better than none until a run puts the new ones. They pass when those failures do.
fn held_back(report: &ApplyReport) -> Option<Why> {
    let puts: Vec<_> = report.failed.iter().filter(|f| matches!(f.change, Change::PutScheduledAction { .. })).collect();
    (!puts.is_empty()).then(|| Why {
        text: format!(
            "not attempted: {} of the plan's scheduled actions did not go in, so the ones they replace stay until a \
             run puts them",
            puts.len()
        ),
        transient: puts.iter().all(|f| f.transient),
        fate: Fate::NotSent,
    })
}

/// An alarm whose action names none of prescale's policies of the group still belongs to it when
/// it carries a name prescale gives the group's alarms (`prescale-<group>-step-…`): its policy may
/// have been deleted by hand, which leaves the alarm without an action, or its action pointed
/// elsewhere, which the plan puts back. Any other `prescale-` name is not enough: an alarm of
/// that name triggering somebody else's policy is theirs.
fn owned_alarm_name(group: &str, name: &str) -> bool {
    prescale_core::step_alarm_names(group).iter().any(|n| n == name)
}

/// A count as the SDK's `i32`; beyond its range (no configuration gets there: sizes are checked
/// far below it) the largest, which Auto Scaling refuses, rather than a wrapped negative.
fn aws_int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// What to add to Auto Scaling's refusal of a start time as past: prescale writes its first
/// action a minute after this machine's now (`due_now`), so the machine's clock is most likely
/// behind AWS's. `None` for any other error.
fn past_start_hint(error: &str) -> Option<&'static str> {
    error.to_ascii_lowercase().contains("start time is in the past").then_some(
        " (prescale writes its first action a minute after its now: with --now behind the clock \
         (--allow-clock-skew) that is past; otherwise this machine's clock is likely behind AWS's, so compare \
         `date -u` with a time server, `timedatectl` or `chronyc tracking`, and set it right)",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_start_time_refused_as_past_points_at_the_clock() {
        let refused = "BatchPutScheduledUpdateGroupAction: ValidationError: Given start time is in the past";
        assert!(super::past_start_hint(refused).is_some_and(|h| h.contains("clock is likely behind AWS's")));
        assert_eq!(super::past_start_hint("ValidationError: MinSize above MaxSize"), None);
    }

    use super::*;

    #[test]
    fn stale_actions_stay_when_a_new_one_failed() {
        let t = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let put = Change::PutScheduledAction { new: ScheduledAction::floor("prescale-floor-a", t, 3), old: None };
        let mut report = ApplyReport::default();
        report.applied.push(put.clone());
        assert!(held_back(&report).is_none());
        report.fail(put.clone(), "Throttling: Rate exceeded", true);
        let why = held_back(&report).unwrap();
        assert!(why.text.contains("1 of the plan's scheduled actions"), "{why:?}");
        assert!(why.transient, "held back behind a throttled put: passes when it does");
        report.fail(put, "ValidationError: MinSize above MaxSize", false);
        assert!(!held_back(&report).unwrap().transient, "held back behind a refused put: needs it mended");
    }

    #[test]
    fn an_alarm_belongs_to_a_group_by_its_policy_or_its_name_never_by_a_prefix() {
        let arn = "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:c322761b:autoScalingGroupName/web:policyName/prescale-step-out";
        assert!(prescale_policy_of(arn, "web"));
        assert!(!prescale_policy_of(arn, "we") && !prescale_policy_of(arn, "web-2"));
        // Somebody else's policy of the group: their alarm, even named prescale-….
        let theirs = arn.replace("policyName/prescale-step-out", "policyName/ops-simple");
        assert!(!prescale_policy_of(&theirs, "web"));
        // Without one of prescale's policies, only prescale's own names for its alarms count: the
        // group "web" never claims "web-step"'s alarms, nor a prescale-… alarm of another name.
        assert!(owned_alarm_name("web", "prescale-web-step-out"));
        assert!(!owned_alarm_name("web", "prescale-web-step-step-out"));
        assert!(!owned_alarm_name("web", "prescale-web-manual"));
        assert!(!owned_alarm_name("web", "team-web-step-out"));
    }
}
