use aws_sdk_autoscaling::error::DisplayErrorContext;
use aws_sdk_autoscaling::types::{
    MetricType, PredefinedMetricSpecification, ScheduledUpdateGroupActionRequest, TargetTrackingConfiguration,
};
use prescale_core::{
    ActionSink, ApplyReport, CapacityBounds, Change, GroupState, PolicyKind, ReactivePolicy, ScheduledAction, SinkError,
};

use crate::{AwsOptions, RuntimeError, load_config, runtime, to_chrono, to_smithy};

const BATCH: usize = 50;

/// [`ActionSink`] over the Auto Scaling API.
#[derive(Debug)]
pub struct AutoScalingSink {
    rt: tokio::runtime::Runtime,
    client: aws_sdk_autoscaling::Client,
    region: String,
}

fn api_err<E>(group: &str, operation: &str, e: E) -> SinkError
where
    E: std::error::Error + Send + Sync + 'static,
{
    SinkError::Api {
        group: group.into(),
        operation: operation.into(),
        message: DisplayErrorContext(&e).to_string(),
        source: Box::new(e),
    }
}

fn size(v: Option<i32>) -> Option<u32> {
    v.and_then(|x| u32::try_from(x).ok())
}

impl AutoScalingSink {
    /// A sink with the standard SDK configuration chain.
    ///
    /// # Errors
    /// [`RuntimeError`] when no async runtime can be started.
    pub fn new(opts: &AwsOptions) -> Result<Self, RuntimeError> {
        let rt = runtime()?;
        let config = load_config(&rt, opts);
        let region = config.region().map_or_else(|| "(no region)".to_string(), ToString::to_string);
        Ok(Self { client: aws_sdk_autoscaling::Client::new(&config), rt, region })
    }

    fn read_actions(&self, group: &str) -> Result<Vec<ScheduledAction>, SinkError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .rt
                .block_on(
                    self.client
                        .describe_scheduled_actions()
                        .auto_scaling_group_name(group)
                        .set_next_token(token.clone())
                        .send(),
                )
                .map_err(|e| api_err(group, "DescribeScheduledActions", e))?;
            for a in page.scheduled_update_group_actions() {
                let (Some(name), Some(start)) = (a.scheduled_action_name(), a.start_time().and_then(to_chrono)) else {
                    continue;
                };
                out.push(ScheduledAction {
                    name: name.to_string(),
                    start_time: start,
                    min_size: size(a.min_size()),
                    max_size: size(a.max_size()),
                    desired_capacity: size(a.desired_capacity()),
                    time_zone: a.time_zone().map(str::to_string),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    fn read_policies(&self, group: &str) -> Result<Vec<ReactivePolicy>, SinkError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .rt
                .block_on(
                    self.client.describe_policies().auto_scaling_group_name(group).set_next_token(token.clone()).send(),
                )
                .map_err(|e| api_err(group, "DescribePolicies", e))?;
            for p in page.scaling_policies() {
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
                    _ => PolicyKind::Other { policy_type },
                };
                out.push(ReactivePolicy { name: name.to_string(), kind });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// Puts a run of scheduled actions in batches of 50; returns (applied, failed) changes.
    fn put_actions(&self, group: &str, changes: &[&Change], report: &mut ApplyReport) {
        for chunk in changes.chunks(BATCH) {
            let mut req = self.client.batch_put_scheduled_update_group_action().auto_scaling_group_name(group);
            for c in chunk {
                let Change::PutScheduledAction { new, .. } = c else { continue };
                let r = ScheduledUpdateGroupActionRequest::builder()
                    .scheduled_action_name(&new.name)
                    .start_time(to_smithy(new.start_time))
                    .set_min_size(new.min_size.map(|v| v as i32))
                    .set_max_size(new.max_size.map(|v| v as i32))
                    .set_desired_capacity(new.desired_capacity.map(|v| v as i32))
                    // StartTime is always the UTC instant; TimeZone only says how to show it
                    // (and would govern a recurrence, which prescale does not write).
                    .set_time_zone(new.zone().map(str::to_string))
                    .build();
                req = req.scheduled_update_group_actions(r);
            }
            match self.rt.block_on(req.send()) {
                Ok(out) => {
                    let failed = out.failed_scheduled_update_group_actions();
                    for c in chunk {
                        match failed.iter().find(|f| f.scheduled_action_name() == Some(c.object_name())) {
                            Some(f) => report.failed.push((
                                (*c).clone(),
                                format!("{}: {}", f.error_code().unwrap_or("error"), f.error_message().unwrap_or("")),
                            )),
                            None => report.applied.push((*c).clone()),
                        }
                    }
                }
                Err(e) => {
                    let msg = format!("BatchPutScheduledUpdateGroupAction: {}", DisplayErrorContext(&e));
                    report.failed.extend(chunk.iter().map(|c| ((*c).clone(), msg.clone())));
                }
            }
        }
    }

    fn delete_actions(&self, group: &str, changes: &[&Change], report: &mut ApplyReport) {
        for chunk in changes.chunks(BATCH) {
            let names: Vec<String> = chunk.iter().map(|c| c.object_name().to_string()).collect();
            let req = self
                .client
                .batch_delete_scheduled_action()
                .auto_scaling_group_name(group)
                .set_scheduled_action_names(Some(names));
            match self.rt.block_on(req.send()) {
                Ok(out) => {
                    let failed = out.failed_scheduled_actions();
                    for c in chunk {
                        match failed.iter().find(|f| f.scheduled_action_name() == Some(c.object_name())) {
                            Some(f) => report.failed.push((
                                (*c).clone(),
                                format!("{}: {}", f.error_code().unwrap_or("error"), f.error_message().unwrap_or("")),
                            )),
                            None => report.applied.push((*c).clone()),
                        }
                    }
                }
                Err(e) => {
                    let msg = format!("BatchDeleteScheduledAction: {}", DisplayErrorContext(&e));
                    report.failed.extend(chunk.iter().map(|c| ((*c).clone(), msg.clone())));
                }
            }
        }
    }

    fn put_policy(&self, group: &str, p: &ReactivePolicy) -> Result<(), String> {
        let PolicyKind::TargetTracking {
            metric,
            resource_label,
            target_value,
            estimated_instance_warmup_secs,
            disable_scale_in,
        } = &p.kind
        else {
            return Err(format!("prescale does not write policies of kind {:?}", p.kind));
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
            .set_estimated_instance_warmup(estimated_instance_warmup_secs.map(|v| v as i32));
        self.rt.block_on(req.send()).map(|_| ()).map_err(|e| format!("PutScalingPolicy: {}", DisplayErrorContext(&e)))
    }
}

impl ActionSink for AutoScalingSink {
    fn describe(&self) -> String {
        format!("autoscaling {}", self.region)
    }

    fn read_state(&mut self, group: &str) -> Result<GroupState, SinkError> {
        let out = self
            .rt
            .block_on(self.client.describe_auto_scaling_groups().auto_scaling_group_names(group).send())
            .map_err(|e| api_err(group, "DescribeAutoScalingGroups", e))?;
        let g = out
            .auto_scaling_groups()
            .iter()
            .find(|g| g.auto_scaling_group_name() == Some(group))
            .ok_or_else(|| SinkError::GroupNotFound { group: group.into() })?;
        let (min, max) = (size(g.min_size()).unwrap_or(0), size(g.max_size()).unwrap_or(0));
        let bounds = CapacityBounds::new(min, max.max(min)).map_err(|e| SinkError::Local(e.to_string()))?;
        Ok(GroupState {
            group: group.into(),
            bounds,
            desired: size(g.desired_capacity()).unwrap_or(min),
            scheduled_actions: self.read_actions(group)?,
            policies: self.read_policies(group)?,
        })
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
                Change::PutScheduledAction { .. } => self.put_actions(group, &run, &mut report),
                Change::DeleteScheduledAction { .. } => self.delete_actions(group, &run, &mut report),
                Change::PutPolicy { .. } | Change::DeletePolicy { .. } => {
                    for c in run {
                        let r = match c {
                            Change::PutPolicy { new, .. } => self.put_policy(group, new),
                            Change::DeletePolicy { old } => self
                                .rt
                                .block_on(
                                    self.client
                                        .delete_policy()
                                        .auto_scaling_group_name(group)
                                        .policy_name(&old.name)
                                        .send(),
                                )
                                .map(|_| ())
                                .map_err(|e| format!("DeletePolicy: {}", DisplayErrorContext(&e))),
                            _ => Ok(()),
                        };
                        match r {
                            Ok(()) => report.applied.push(c.clone()),
                            Err(m) => report.failed.push((c.clone(), m)),
                        }
                    }
                }
            }
            i = j;
        }
        Ok(report)
    }
}
