//! Ingest from CloudWatch and apply to Auto Scaling through a real AWS-compatible server (moto on
//! loopback, started by `tests/run.sh`, which exports `PRESCALE_TEST_AWS_ENDPOINT`).

use std::path::Path;

use aws_sdk_autoscaling::types::ScheduledUpdateGroupAction;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::common::{ok, prescale, run};

struct Aws {
    region: &'static str,
    rt: tokio::runtime::Runtime,
    asg: aws_sdk_autoscaling::Client,
    cw: aws_sdk_cloudwatch::Client,
}

/// Clients for the test server, or `None` (a skip) outside `tests/run.sh`; under `CI=true` a
/// missing server fails the test.
fn aws() -> Option<Aws> {
    aws_in("us-east-1")
}

/// Clients for one region of the test server. moto keeps scheduled actions and policies by name
/// per region, not per group (Auto Scaling keeps them per group): tests that run at the same
/// time and write objects of the same name (`prescale-target-tracking`) each take a region.
fn aws_in(region: &'static str) -> Option<Aws> {
    let endpoint = crate::common::from_test_command("PRESCALE_TEST_AWS_ENDPOINT")?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let creds = aws_sdk_autoscaling::config::Credentials::new("testing", "testing", None, None, "test");
    let config = rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new(region))
            .credentials_provider(creds)
            .load(),
    );
    Some(Aws {
        region,
        asg: aws_sdk_autoscaling::Client::new(&config),
        cw: aws_sdk_cloudwatch::Client::new(&config),
        rt,
    })
}

impl Aws {
    fn create_group(&self, name: &str, min: i32, max: i32) {
        let lc = format!("{name}-lc");
        self.rt
            .block_on(
                self.asg
                    .create_launch_configuration()
                    .launch_configuration_name(&lc)
                    .image_id("ami-12c6146b")
                    .instance_type("t3.micro")
                    .send(),
            )
            .unwrap();
        self.rt
            .block_on(
                self.asg
                    .create_auto_scaling_group()
                    .auto_scaling_group_name(name)
                    .launch_configuration_name(&lc)
                    .min_size(min)
                    .max_size(max)
                    .desired_capacity(min)
                    .availability_zones(format!("{}a", self.region))
                    .send(),
            )
            .unwrap();
    }

    /// The group's MaxSize and desired capacity, set as by hand.
    fn set_capacity(&self, name: &str, max: i32, desired: i32) {
        self.rt
            .block_on(
                self.asg
                    .update_auto_scaling_group()
                    .auto_scaling_group_name(name)
                    .max_size(max)
                    .desired_capacity(desired)
                    .send(),
            )
            .unwrap();
    }

    /// AWS's predictive scaling on the group (CPU's metric pair), in `mode`, as a team puts it.
    fn put_predictive(&self, group: &str, name: &str, mode: aws_sdk_autoscaling::types::PredictiveScalingMode) {
        use aws_sdk_autoscaling::types::{
            PredefinedMetricPairType, PredictiveScalingConfiguration, PredictiveScalingMetricSpecification,
            PredictiveScalingPredefinedMetricPair,
        };
        let pair = PredictiveScalingPredefinedMetricPair::builder()
            .predefined_metric_type(PredefinedMetricPairType::AsgcpuUtilization);
        let spec = PredictiveScalingMetricSpecification::builder()
            .target_value(50.0)
            .predefined_metric_pair_specification(pair.build());
        let config = PredictiveScalingConfiguration::builder().metric_specifications(spec.build()).mode(mode).build();
        self.rt
            .block_on(
                self.asg
                    .put_scaling_policy()
                    .auto_scaling_group_name(group)
                    .policy_name(name)
                    .policy_type("PredictiveScaling")
                    .predictive_scaling_configuration(config)
                    .send(),
            )
            .unwrap();
    }

    /// Somebody else's one-time scheduled action: prescale must never touch it.
    fn put_foreign_action(&self, group: &str, name: &str, at: DateTime<Utc>, min_size: i32) {
        self.rt
            .block_on(
                self.asg
                    .put_scheduled_update_group_action()
                    .auto_scaling_group_name(group)
                    .scheduled_action_name(name)
                    .start_time(aws_smithy_types::DateTime::from_secs(at.timestamp()))
                    .min_size(min_size)
                    .send(),
            )
            .unwrap();
    }

    fn actions(&self, group: &str) -> Vec<ScheduledUpdateGroupAction> {
        let out =
            self.rt.block_on(self.asg.describe_scheduled_actions().auto_scaling_group_name(group).send()).unwrap();
        out.scheduled_update_group_actions().to_vec()
    }

    fn policies(&self, group: &str) -> Vec<(String, String)> {
        let out = self.rt.block_on(self.asg.describe_policies().auto_scaling_group_name(group).send()).unwrap();
        out.scaling_policies()
            .iter()
            .map(|p| (p.policy_name().unwrap_or_default().to_string(), p.policy_type().unwrap_or_default().to_string()))
            .collect()
    }

    /// Every alarm of the region: name, metric, threshold, evaluation periods, actions and period.
    fn alarms(&self) -> Vec<(String, String, f64, i32, Vec<String>, i32)> {
        let out = self.rt.block_on(self.cw.describe_alarms().send()).unwrap();
        out.metric_alarms()
            .iter()
            .map(|a| {
                (
                    a.alarm_name().unwrap_or_default().to_string(),
                    a.metric_name().unwrap_or_default().to_string(),
                    a.threshold().unwrap_or(f64::NAN),
                    a.evaluation_periods().unwrap_or(0),
                    a.alarm_actions().to_vec(),
                    a.period().unwrap_or(0),
                )
            })
            .collect()
    }

    /// Somebody else's alarm on the group's CPU, triggering `action` (an ARN) if given: prescale
    /// must never touch it.
    fn put_foreign_alarm(&self, group: &str, name: &str, action: Option<String>) {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
        self.rt
            .block_on(
                self.cw
                    .put_metric_alarm()
                    .alarm_name(name)
                    .namespace("AWS/EC2")
                    .metric_name("CPUUtilization")
                    .dimensions(Dimension::builder().name("AutoScalingGroupName").value(group).build())
                    .statistic(Statistic::Average)
                    .period(300)
                    .evaluation_periods(3)
                    .threshold(95.0)
                    .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                    .set_alarm_actions(action.map(|a| vec![a]))
                    .send(),
            )
            .unwrap();
    }

    /// The group's scaling policy `name`, as Auto Scaling describes it.
    fn policy(&self, group: &str, name: &str) -> aws_sdk_autoscaling::types::ScalingPolicy {
        let out = self.rt.block_on(self.asg.describe_policies().auto_scaling_group_name(group).send()).unwrap();
        out.scaling_policies().iter().find(|p| p.policy_name() == Some(name)).expect("policy").clone()
    }

    /// Whether the group's target-tracking policy `name` has scale-in disabled.
    fn disables_scale_in(&self, group: &str, name: &str) -> bool {
        self.policy(group, name).target_tracking_configuration().and_then(|t| t.disable_scale_in()).unwrap_or(false)
    }

    fn policy_arn(&self, group: &str, name: &str) -> String {
        self.policy(group, name).policy_arn().unwrap().to_string()
    }

    /// Puts `values` (one per 5 minutes, ending just before `end`) as a metric.
    fn put_metric(&self, namespace: &str, name: &str, dim: (&str, &str), end: DateTime<Utc>, values: &[f64]) {
        self.put_metric_every(5, namespace, name, dim, end, values);
    }

    /// Puts `values` (one per `mins` minutes, ending just before `end`) as a metric.
    fn put_metric_every(
        &self,
        mins: i64,
        namespace: &str,
        name: &str,
        dim: (&str, &str),
        end: DateTime<Utc>,
        values: &[f64],
    ) {
        let start = end - Duration::minutes(mins * values.len() as i64);
        let data: Vec<MetricDatum> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let t = start + Duration::minutes(mins * i as i64);
                MetricDatum::builder()
                    .metric_name(name)
                    .dimensions(Dimension::builder().name(dim.0).value(dim.1).build())
                    .timestamp(aws_smithy_types::DateTime::from_secs(t.timestamp()))
                    .value(*v)
                    .unit(StandardUnit::Count)
                    .build()
            })
            .collect();
        for chunk in data.chunks(500) {
            self.rt
                .block_on(self.cw.put_metric_data().namespace(namespace).set_metric_data(Some(chunk.to_vec())).send())
                .unwrap();
        }
    }
}

fn config(dir: &Path, group: &str, extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[store]
dir = "store"
[ingest]
source = "cloudwatch"
lookback_days = 5
period_secs = 300
[forecast]
horizon_hours = 24
# The noisy seasonal naive repeats every wiggle of the load: many floor changes, so more than one
# batch of 50 actions (the engine's smoother forecast needs fewer).
model = {{ kind = "seasonal-naive", season = "day" }}
[plan]
lead_time_mins = 10
min_hold_mins = 0
max_actions = 120
[apply]
sink = "autoscaling"
[environments.prod]
quantile = 0.9
target_utilization = 0.7
{extra}
[[groups]]
name = "{group}"
environment = "prod"
min_size = 1
max_size = 30
load_metric = "requests"
capacity_per_instance = 500.0
reactive = {{ metric = "ASGAverageCPUUtilization", target_value = 55.0, warmup_secs = 300 }}
[[groups.metrics]]
name = "requests"
namespace = "AWS/ApplicationELB"
metric_name = "RequestCount"
stat = "Sum"
dimensions = {{ LoadBalancer = "app/{group}/0123456789abcdef" }}
[[groups.metrics]]
name = "cpu"
namespace = "AWS/EC2"
metric_name = "CPUUtilization"
dimensions = {{ AutoScalingGroupName = "{group}" }}
"#
    );
    let p = dir.join("prescale.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// `prescale nightly` with the configuration `cfg`, outputs in `out`, as of `now`.
fn nightly_at(cfg: &Path, out: &Path, now: DateTime<Utc>) -> std::process::Command {
    let mut c = prescale();
    c.arg("--config").arg(cfg).arg("--out").arg(out).arg("--now").arg(now.to_rfc3339()).arg("nightly");
    c
}

#[test]
fn cloudwatch_to_autoscaling_dry_run_then_execute_then_no_op() {
    let Some(aws) = aws() else { return };
    let group = "itest-web";
    aws.create_group(group, 1, 30);
    let now = Utc::now().duration_trunc(Duration::minutes(5)).unwrap();
    // Four days of a noisy daily cycle: a sawtooth-ish load that needs many floor changes.
    let load: Vec<f64> = (0..4 * 288)
        .map(|i| {
            let h = (i % 288) as f64 / 12.0;
            4000.0
                + 3000.0 * (std::f64::consts::TAU * (h - 8.0) / 24.0).sin()
                + 400.0 * ((i * 7919 % 13) as f64 - 6.0) / 6.0
        })
        .collect();
    // Two hours without a request (no datapoint at all, as CloudWatch publishes for an idle
    // load balancer), 13 h ago: stored as zeros, not as a gap the forecast would fill with load,
    // and said (a publisher that stopped looks the same).
    // And three hours without, three days ago: a series' first ingest says that one too (its
    // longest); the runs after say their last day's (they stored the older ones, and said them).
    let (idle, older) = (1000..1024, 200..236);
    let lb = format!("app/{group}/0123456789abcdef");
    let ending = |i: usize| now - Duration::minutes(5 * (load.len() - i) as i64);
    let requests = ("LoadBalancer", lb.as_str());
    aws.put_metric("AWS/ApplicationELB", "RequestCount", requests, ending(older.start), &load[..older.start]);
    aws.put_metric("AWS/ApplicationELB", "RequestCount", requests, ending(idle.start), &load[older.end..idle.start]);
    aws.put_metric("AWS/ApplicationELB", "RequestCount", requests, now, &load[idle.end..]);
    let cpu: Vec<f64> = load.iter().map(|l| 20.0 + l / 200.0).collect();
    aws.put_metric("AWS/EC2", "CPUUtilization", ("AutoScalingGroupName", group), now, &cpu);
    // Somebody else's scheduled action and alarm: prescale must never touch them.
    aws.put_foreign_action(group, "team-batch-window", now + Duration::hours(3), 2);
    aws.put_foreign_alarm(group, "team-web-cpu-high", None);

    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), group, "");
    let out = tmp.path().join("out");
    let nightly = |execute: bool| {
        let mut c = nightly_at(&cfg, &out, now);
        if execute {
            c.args(["--execute", "--allow-clock-skew"]);
        }
        ok(&mut c)
    };

    // 1. Dry run: the diff is printed, the group is unchanged.
    let (code, text, err) = run(&mut nightly_at(&cfg, &out, now));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("60 periods without a datapoint stored as 0") && err.contains("the longest 3.0 h"), "{err}");
    let (code, _, again) = run(&mut nightly_at(&cfg, &out, now));
    assert!(code == 0 && again.contains("the longest 2.0 h") && !again.contains("the longest 3.0 h"), "{again}");
    assert!(text.contains(&format!("{group}/requests")) && text.contains(&format!("{group}/cpu")), "{text}");
    assert!(text.contains("+ action prescale-floor-") && text.contains("+ policy prescale-target-tracking"), "{text}");
    assert!(text.contains("+ policy prescale-step-out: step scaling [+0, +6.6) +20 % [+6.6, +13.2) +32 %"), "{text}");
    assert!(text.contains("+ alarm prescale-itest-web-step-out: AWS/EC2 CPUUtilization Average"), "{text}");
    // The group's CPU comes every 5 minutes (basic monitoring): 60-s alarms would never scale
    // out, so they are written at 300 s, and the run says why.
    assert!(
        err.contains(
            "itest-web: its step alarms are written every 300 s, not every 60 s: AWS/EC2 CPUUtilization's \
             datapoints filled only 300-s periods in the last day (basic monitoring)"
        ) && err.contains("enable detailed monitoring"),
        "{err}"
    );
    assert_eq!(aws.actions(group).len(), 1);
    assert!(aws.policies(group).is_empty());
    assert!(aws.alarms().iter().all(|a| !a.0.starts_with("prescale-itest-web")));
    // Both metrics landed in the store, on the grid, without gaps.
    let store = prescale_store::MetricStore::open(tmp.path().join("store")).unwrap();
    let req = store.read(&prescale_core::MetricId::new(group, "requests")).unwrap();
    assert_eq!(req.len(), 4 * 288);
    assert_eq!(req.missing(), 0);
    assert!((req.values()[100] - load[100]).abs() < 1e-6);
    assert!(req.values()[idle.clone()].iter().all(|v| *v == 0.0), "idle periods of a Sum are zeros");
    assert!((req.values()[idle.end] - load[idle.end]).abs() < 1e-6);

    // 2. Execute: the group holds the plan, the foreign action survives.
    let text = nightly(true);
    assert!(text.contains("Applied"), "{text}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let planned = plan["groups"][0]["scheduled_actions"].as_array().unwrap();
    assert!(planned.len() > 50, "the test wants more than one batch of 50, got {}", planned.len());
    let actions = aws.actions(group);
    let ours: Vec<_> =
        actions.iter().filter(|a| a.scheduled_action_name().unwrap_or("").starts_with("prescale-")).collect();
    assert_eq!(ours.len(), planned.len());
    assert!(actions.iter().any(|a| a.scheduled_action_name() == Some("team-batch-window") && a.min_size() == Some(2)));
    for p in planned {
        let a = ours.iter().find(|a| a.scheduled_action_name() == p["name"].as_str()).expect("planned action missing");
        assert_eq!(a.min_size().map(i64::from), p["min_size"].as_i64());
    }
    let mut policies = aws.policies(group);
    policies.sort();
    assert_eq!(
        policies,
        [("prescale-step-out", "StepScaling"), ("prescale-target-tracking", "TargetTrackingScaling")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // The step policy out has its alarm, whose action is the policy's ARN; target tracking scales
    // in, so no step policy in beside it. The warm-up was not measured (moto records no scaling
    // activities): the configured 300 s.
    let alarms = aws.alarms();
    let alarm = |name: &str| alarms.iter().find(|a| a.0 == name).cloned().expect("alarm missing");
    let out = alarm("prescale-itest-web-step-out");
    // Out at 1.2 × the target (66), in below half of it (27.5).
    assert_eq!((out.1.as_str(), out.2, out.3, out.5), ("CPUUtilization", 66.0, 2, 300));
    assert_eq!(out.4, vec![aws.policy_arn(group, "prescale-step-out")]);
    assert!(alarms.iter().all(|a| a.0 != "prescale-itest-web-step-in"), "{alarms:?}");
    assert!(
        plan["groups"][0]["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["what"] == "warm-up 300 s" && d["why"] == "configured warmup_secs, no launches seen")
    );
    let foreign = alarm("team-web-cpu-high");

    // 3. Again: nothing to do, and the foreign alarm is as it was.
    let text = nightly(true);
    assert!(text.contains("no changes: the group already matches the plan"), "{text}");
    assert_eq!(aws.actions(group).len(), actions.len());
    assert_eq!(alarm("team-web-cpu-high"), foreign);

    // 3a. A team's notification added to prescale's scale-out alarm: theirs, no difference, and
    // kept when the alarm is put again (3b puts it with its policy).
    let pager = "arn:aws:sns:us-east-1:123456789012:team-pager";
    {
        let out = aws.rt.block_on(aws.cw.describe_alarms().alarm_names("prescale-itest-web-step-out").send()).unwrap();
        let a = out.metric_alarms()[0].clone();
        let mut actions = a.alarm_actions().to_vec();
        actions.push(pager.to_string());
        aws.rt
            .block_on(
                aws.cw
                    .put_metric_alarm()
                    .alarm_name(a.alarm_name().unwrap())
                    .set_namespace(a.namespace().map(str::to_string))
                    .set_metric_name(a.metric_name().map(str::to_string))
                    .set_dimensions(Some(a.dimensions().to_vec()))
                    .set_statistic(a.statistic().cloned())
                    .set_period(a.period())
                    .set_evaluation_periods(a.evaluation_periods())
                    .set_threshold(a.threshold())
                    .set_comparison_operator(a.comparison_operator().cloned())
                    .set_treat_missing_data(a.treat_missing_data().map(str::to_string))
                    .set_alarm_actions(Some(actions))
                    .send(),
            )
            .unwrap();
    }
    let text = nightly(true);
    assert!(text.contains("no changes: the group already matches the plan"), "{text}");

    // 3b. The step-out policy's aggregation edited by hand: the next apply says so and puts it back.
    let edited = aws.policy(group, "prescale-step-out");
    aws.rt
        .block_on(
            aws.asg
                .put_scaling_policy()
                .auto_scaling_group_name(group)
                .policy_name("prescale-step-out")
                .policy_type("StepScaling")
                .adjustment_type(edited.adjustment_type().unwrap())
                .metric_aggregation_type("Maximum")
                .set_step_adjustments(Some(edited.step_adjustments().to_vec()))
                .set_min_adjustment_magnitude(edited.min_adjustment_magnitude())
                .set_estimated_instance_warmup(edited.estimated_instance_warmup())
                .send(),
        )
        .unwrap();
    let text = nightly(true);
    assert!(
        text.contains("~ policy prescale-step-out: step scaling")
            && text.contains("(was prescale-step-out: StepScaling with MetricAggregationType Maximum)"),
        "{text}"
    );
    assert_eq!(aws.policy(group, "prescale-step-out").metric_aggregation_type(), Some("Average"));
    let step_out = aws.alarms().into_iter().find(|a| a.0 == "prescale-itest-web-step-out").unwrap();
    assert!(text.contains("~ alarm prescale-itest-web-step-out"), "put again with its policy: {text}");
    assert!(step_out.4.contains(&pager.to_string()), "the team's notification is kept: {:?}", step_out.4);
    assert!(step_out.4.contains(&aws.policy_arn(group, "prescale-step-out")), "{:?}", step_out.4);

    // 3c. The scale-out alarm's actions disabled by hand (it would fire and scale nothing): the
    // next apply shows it and turns them back on.
    let enabled = |aws: &Aws, name: &str| {
        let out = aws.rt.block_on(aws.cw.describe_alarms().alarm_names(name).send()).unwrap();
        out.metric_alarms()[0].actions_enabled()
    };
    aws.rt.block_on(aws.cw.disable_alarm_actions().alarm_names("prescale-itest-web-step-out").send()).unwrap();
    assert_eq!(enabled(&aws, "prescale-itest-web-step-out"), Some(false));
    let text = nightly(true);
    assert!(
        text.contains("~ alarm prescale-itest-web-step-out")
            && text.contains("(actions disabled: it fires and scales nothing)"),
        "{text}"
    );
    assert_eq!(enabled(&aws, "prescale-itest-web-step-out"), Some(true));
    let text = nightly(true);
    assert!(text.contains("no changes: the group already matches the plan"), "{text}");

    // 3d. Scheduled actions and alarm notifications suspended on the group (a deploy tool's
    // leftover): nothing to change, but the plan does nothing while they are, so every run says
    // so and exits 1; prescale leaves them for whoever suspended them.
    let procs = || ["ScheduledActions", "AlarmNotification"].map(String::from).to_vec();
    let suspend = || {
        aws.rt
            .block_on(
                aws.asg.suspend_processes().auto_scaling_group_name(group).set_scaling_processes(Some(procs())).send(),
            )
            .unwrap();
    };
    let resume = || {
        aws.rt
            .block_on(
                aws.asg.resume_processes().auto_scaling_group_name(group).set_scaling_processes(Some(procs())).send(),
            )
            .unwrap();
    };
    suspend();
    let (code, text, err) =
        run(nightly_at(&cfg, &tmp.path().join("out"), now).args(["--execute", "--allow-clock-skew"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        err.contains(
            "Auto Scaling processes ScheduledActions, AlarmNotification are suspended on the group: the floors \
                      do not run, target tracking and the step alarms scale nothing"
        ) && err.contains(
            "aws autoscaling resume-processes --auto-scaling-group-name itest-web --scaling-processes \
                             ScheduledActions AlarmNotification"
        ),
        "{err}"
    );
    // Kept suspended on purpose, as the group's configuration says: said, and the run passes.
    let text = std::fs::read_to_string(&cfg).unwrap().replacen(
        "environment = \"prod\"",
        "environment = \"prod\"\nsuspended_on_purpose = [\"ScheduledActions\", \"AlarmNotification\"]",
        1,
    );
    let on_purpose = tmp.path().join("on-purpose.toml");
    std::fs::write(&on_purpose, text).unwrap();
    let (code, text, err) =
        run(nightly_at(&on_purpose, &tmp.path().join("out"), now).args(["--execute", "--allow-clock-skew"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(err.contains("on purpose, as the group's suspended_on_purpose says"), "{err}");
    resume();
    let text = nightly(true);
    assert!(text.contains("no changes: the group already matches the plan") && !text.contains("suspended"), "{text}");
    // The list outlived its reason: said, so that a later leftover does not pass unsaid.
    let (code, _, err) =
        run(nightly_at(&on_purpose, &tmp.path().join("out"), now).args(["--execute", "--allow-clock-skew"]));
    assert!(
        code == 0
            && err.contains(
                "suspended_on_purpose lists ScheduledActions, AlarmNotification but the group has them not suspended"
            ),
        "{err}"
    );

    // 3e. A recurrence added by hand to one of prescale's actions (it would fire every morning):
    // the diff shows it and the action comes back one-time.
    let mine = aws
        .actions(group)
        .into_iter()
        .find(|a| a.scheduled_action_name().unwrap_or("").starts_with("prescale-floor-"))
        .unwrap();
    let name = mine.scheduled_action_name().unwrap().to_string();
    aws.rt
        .block_on(
            aws.asg
                .put_scheduled_update_group_action()
                .auto_scaling_group_name(group)
                .scheduled_action_name(&name)
                .set_start_time(mine.start_time().cloned())
                .set_min_size(mine.min_size())
                .recurrence("0 9 * * *")
                .send(),
        )
        .unwrap();
    let recurrence = |aws: &Aws| {
        aws.actions(group)
            .iter()
            .find(|a| a.scheduled_action_name() == Some(name.as_str()))
            .and_then(|a| a.recurrence().map(str::to_string))
    };
    assert_eq!(recurrence(&aws).as_deref(), Some("0 9 * * *"));
    let text = nightly(true);
    assert!(text.contains(&format!("~ action {name}")) && text.contains("recurring \"0 9 * * *\""), "{text}");
    assert_eq!(recurrence(&aws), None);
    assert!(aws.actions(group).iter().any(|a| a.scheduled_action_name() == Some(name.as_str())), "put back");
    let text = nightly(true);
    assert!(text.contains("no changes: the group already matches the plan"), "{text}");

    // 4. The step policy owns scale-in, 20 % of the group at a time: target tracking is rewritten
    // with scale-in disabled and the scale-in step and its alarm are put; the run after finds
    // both as planned, and back to target tracking's scale-in they go.
    let base = std::fs::read_to_string(&cfg).unwrap();
    let owned = base.replace(
        "warmup_secs = 300 }",
        "warmup_secs = 300, step = { owns_scale_in = true, in_unit = \"percent\", in_remove = 20 } }",
    );
    std::fs::write(&cfg, owned).unwrap();
    let text = nightly(true);
    assert!(text.contains("~ policy prescale-target-tracking") && text.contains("scale-in disabled"), "{text}");
    assert!(text.contains("+ policy prescale-step-in: step scaling [-inf, +0) -20 %"), "{text}");
    assert!(text.contains("+ alarm prescale-itest-web-step-in"), "{text}");
    assert!(aws.disables_scale_in(group, "prescale-target-tracking"));
    let text = nightly(true);
    assert!(text.contains("no changes: the group already matches the plan"), "{text}");
    std::fs::write(&cfg, base).unwrap();
    let text = nightly(true);
    assert!(
        text.contains("~ policy prescale-target-tracking") && !aws.disables_scale_in(group, "prescale-target-tracking"),
        "{text}"
    );
    assert!(
        text.contains("- policy prescale-step-in") && text.contains("- alarm prescale-itest-web-step-in"),
        "{text}"
    );

    // 5. Step scaling turned off: its policies and alarms go, target tracking and the others stay.
    let off = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("warmup_secs = 300 }", "warmup_secs = 300, step = { enabled = false } }");
    std::fs::write(&cfg, off).unwrap();
    let text = nightly(true);
    assert!(
        text.contains("- alarm prescale-itest-web-step-out") && text.contains("- policy prescale-step-out"),
        "{text}"
    );
    assert_eq!(
        aws.policies(group),
        vec![("prescale-target-tracking".to_string(), "TargetTrackingScaling".to_string())]
    );
    let names: Vec<String> = aws.alarms().into_iter().map(|a| a.0).collect();
    assert!(!names.iter().any(|n| n.starts_with("prescale-itest-web")), "{names:?}");
    assert_eq!(alarm("team-web-cpu-high"), foreign);

    // 6. The CPU's statistic changed under the same series: another quantity, stored on and said
    // with both metrics named; the requests, asked as before, say nothing.
    let maximum = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("metric_name = \"CPUUtilization\"\n", "metric_name = \"CPUUtilization\"\nstat = \"Maximum\"\n");
    std::fs::write(&cfg, maximum).unwrap();
    let mut ingest = prescale();
    ingest.arg("--config").arg(&cfg).arg("--now").arg(now.to_rfc3339()).arg("ingest");
    let (code, _, err) = run(&mut ingest);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "{group}/cpu: its stored history came from cloudwatch us-east-1 AWS/EC2 CPUUtilization Average \
             [AutoScalingGroupName={group}], this run's samples from cloudwatch us-east-1 AWS/EC2 CPUUtilization \
             Maximum"
        )),
        "{err}"
    );
    assert_eq!(err.matches("its stored history came from").count(), 1, "{err}");
}

#[test]
fn a_missing_group_is_a_clear_error_and_changes_nothing_elsewhere() {
    let Some(aws) = aws() else { return };
    let group = "itest-missing";
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), group, "");
    let now = Utc::now().duration_trunc(Duration::minutes(5)).unwrap();
    aws.put_metric(
        "AWS/ApplicationELB",
        "RequestCount",
        ("LoadBalancer", &format!("app/{group}/0123456789abcdef")),
        now,
        &vec![1000.0; 3 * 288],
    );
    let (code, out, err) =
        run(nightly_at(&cfg, &tmp.path().join("out"), now).args(["--execute", "--allow-clock-skew"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("not found"), "{out}");
    assert!(err.contains("failed"), "{err}");
    // Its CPU metric has no data in CloudWatch: named, and said as a series no plan reads.
    assert!(err.contains(&format!("{group}/cpu: the source returned no samples")), "{err}");
    assert!(
        err.contains(&format!("{group}/cpu could not be stored (see the warnings above); no plan reads it")),
        "{err}"
    );
}

#[test]
fn a_count_read_as_an_average_and_a_group_metric_not_collected_are_said_with_their_remedy() {
    let Some(aws) = aws() else { return };
    let group = "itest-stat";
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), group, "");
    // The request count with no statistic (Average, by default), and the group's instances from
    // AWS/AutoScaling, which publishes them only once metrics collection is enabled (never, here).
    let text = std::fs::read_to_string(&cfg).unwrap().replace("stat = \"Sum\"\n", "")
        + "[[groups.metrics]]\nname = \"instances\"\nnamespace = \"AWS/AutoScaling\"\n\
           metric_name = \"GroupInServiceInstances\"\ndimensions = { AutoScalingGroupName = \"itest-stat\" }\n\
           [[groups.metrics]]\nname = \"depth\"\nnamespace = \"Custom/Jobs\"\nmetric_name = \"Workers\"\n\
           dimensions = { Queue = \"itest-stat\" }\n";
    std::fs::write(&cfg, text).unwrap();
    let now = Utc::now().duration_trunc(Duration::minutes(5)).unwrap();
    // An ALB's RequestCount read as an Average: 1 in every period.
    let lb = format!("app/{group}/0123456789abcdef");
    aws.put_metric("AWS/ApplicationELB", "RequestCount", ("LoadBalancer", &lb), now, &vec![1.0; 288]);
    // A gauge that held still (workers at 3): no count, no such warning every night.
    aws.put_metric("Custom/Jobs", "Workers", ("Queue", group), now, &vec![3.0; 288]);
    let mut ingest = prescale();
    ingest.arg("--config").arg(&cfg).arg("--now").arg(now.to_rfc3339()).arg("ingest");
    let (code, _, err) = run(&mut ingest);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "{group}/requests: every datapoint CloudWatch returned for RequestCount with stat Average is 1"
        )) && err.contains("stat = \"Sum\""),
        "{err}"
    );
    assert!(!err.contains(&format!("{group}/depth: every datapoint")), "{err}");
    assert!(
        err.contains(&format!("{group}/instances: the source returned no samples"))
            && err.contains(&format!("aws autoscaling enable-metrics-collection --auto-scaling-group-name {group}")),
        "{err}"
    );
    // The CPU (EC2's, no data here either) gets no such hint: it is no group metric.
    let cpu = err.lines().find(|l| l.contains(&format!("{group}/cpu: the source returned no samples"))).unwrap();
    assert!(!cpu.contains("enable-metrics-collection"), "{cpu}");
}

#[test]
fn with_max_step_up_the_first_floors_ramp_up_from_what_the_group_runs() {
    let Some(aws) = aws() else { return };
    let group = "itest-ramp";
    // Its MaxSize above the configured max_size (30): the floors stay within 30, and the diff
    // says that the group is not capped by it.
    aws.create_group(group, 2, 45);
    let now = Utc::now().duration_trunc(Duration::minutes(5)).unwrap();
    // A steady 6,000 requests per 5 minutes: about 18 instances at 500 each and 70 %, against
    // the 2 the group runs.
    let lb = format!("app/{group}/0123456789abcdef");
    aws.put_metric("AWS/ApplicationELB", "RequestCount", ("LoadBalancer", &lb), now, &vec![6000.0; 3 * 288]);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), group, "[guardrails]\nmax_step_up = 4");
    let out = tmp.path().join("out");
    let (code, text, err) = run(&mut nightly_at(&cfg, &out, now));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(text.contains("first floors ramped up from the 2 instances the group runs, by 4 a step"), "{text}");
    assert!(
        text.contains("the group's MaxSize is 45, above the configured max_size 30: prescale's floors stay within 30")
            && text.contains("--auto-scaling-group-name itest-ramp --max-size 30"),
        "{text}"
    );
    assert!(!err.contains("at the first floor"), "{err}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let floors: Vec<u64> = plan["groups"][0]["scheduled_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["min_size"].as_u64().unwrap())
        .collect();
    assert_eq!(&floors[..3], [6, 10, 14], "{floors:?}");
    assert!(floors[3] > 14 && floors[3] <= 18, "{floors:?}");
}

/// A configuration that reads the group's load from a CSV file (so the test picks the dates,
/// daylight-saving changes included) and applies to Auto Scaling on the test server.
fn csv_config(
    dir: &Path,
    region: &str,
    group: &str,
    load: &[(DateTime<Utc>, f64)],
    group_extra: &str,
) -> std::path::PathBuf {
    let csv = dir.join("load.csv");
    let mut text = String::from("ts,value\n");
    for (t, v) in load {
        text.push_str(&format!("{},{v}\n", t.format("%Y-%m-%dT%H:%M:%SZ")));
    }
    std::fs::write(&csv, text).unwrap();
    let cfg = format!(
        r#"
[store]
dir = "store"
[ingest]
source = "csv"
period_secs = 300
[forecast]
horizon_hours = 48
model = {{ kind = "seasonal-naive", season = "day" }}
[plan]
lead_time_mins = 0
min_hold_mins = 0
max_actions = 60
[aws]
region = "{region}"
[apply]
sink = "autoscaling"
[environments.prod]
quantile = 0.5
target_utilization = 1.0
[[groups]]
name = "{group}"
min_size = 1
max_size = 20
load_metric = "requests"
capacity_per_instance = 500.0
reactive = {{ metric = "ASGAverageCPUUtilization", target_value = 55.0, warmup_secs = 300 }}
{group_extra}
[[groups.metrics]]
name = "requests"
file = "{}"
"#,
        csv.display()
    );
    let p = dir.join("prescale.toml");
    std::fs::write(&p, cfg).unwrap();
    p
}

/// Three days of a clean daily step (UTC): 1,000 until 06:30, 3,000 until 07:30, 6,000 until
/// 20:00, then 1,000: floors of 2, 6, 12 and 2 instances at 500 each.
fn daily_steps(end: DateTime<Utc>) -> Vec<(DateTime<Utc>, f64)> {
    (1..=3 * 288)
        .rev()
        .map(|k| {
            let t = end - Duration::minutes(5 * k);
            let m = (t.timestamp().rem_euclid(86_400) / 60) as i32;
            let v = match m {
                m if m < 6 * 60 + 30 => 1000.0,
                m if m < 7 * 60 + 30 => 3000.0,
                m if m < 20 * 60 => 6000.0,
                _ => 1000.0,
            };
            (t, v)
        })
        .collect()
}

fn start_time(a: &ScheduledUpdateGroupAction) -> DateTime<Utc> {
    let t = a.start_time().unwrap();
    DateTime::from_timestamp(t.secs(), 0).unwrap()
}

/// One group in a region of its own on the test server, fed `daily_steps` from a CSV file
/// (`csv_config`'s), its configuration and `--out` in a folder of its own, run as of `now`.
struct CsvGroup {
    aws: Aws,
    group: &'static str,
    now: DateTime<Utc>,
    dir: tempfile::TempDir,
    cfg: std::path::PathBuf,
    out: std::path::PathBuf,
}

impl CsvGroup {
    /// `exists`: whether the group is created in Auto Scaling (min 1, max 20) before the test.
    fn new(region: &'static str, group: &'static str, now: &str, exists: bool, group_extra: &str) -> Option<Self> {
        let aws = aws_in(region)?;
        if exists {
            aws.create_group(group, 1, 20);
        }
        let now = DateTime::parse_from_rfc3339(now).unwrap().to_utc();
        let dir = tempfile::tempdir().unwrap();
        let cfg = csv_config(dir.path(), region, group, &daily_steps(now), group_extra);
        let out = dir.path().join("out");
        Some(Self { aws, group, now, dir, cfg, out })
    }

    /// prescale with this configuration and `--out`, as of `now`.
    fn at(&self, now: DateTime<Utc>) -> std::process::Command {
        let mut c = prescale();
        c.arg("--config").arg(&self.cfg).arg("--out").arg(&self.out).arg("--now").arg(now.to_rfc3339());
        c
    }

    /// prescale with this configuration and `--out`, as of the test's `now`.
    fn command(&self) -> std::process::Command {
        self.at(self.now)
    }

    /// Runs `args` as of the test's `now`: exit code, stdout, stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        run(self.command().args(args))
    }
}

/// A group running more than its configured max_size, its MaxSize raised outside prescale (by
/// hand, or by AWS's predictive scaling with `IncreaseMaxCapacity`, which leaves it raised): with
/// max_breach = "raise" the plan's first action puts the configured MaxSize back, and Auto Scaling
/// would terminate instances in service to fit it. That MaxSize is left out (the floors go in),
/// said, and fails `--strict` while it holds. AWS's predictive scaling beside it, scaling too
/// (`ForecastAndScale`), is said and fails `--strict`; only forecasting, it is a note.
#[test]
fn a_max_size_below_what_the_group_runs_is_kept_where_it_is() {
    use aws_sdk_autoscaling::types::PredictiveScalingMode;
    let raise = "max_breach = \"raise\"\nmax_breach_buffer = 10";
    let Some(t) = CsvGroup::new("us-east-2", "itest-maxcut", "2027-05-03T12:00:00Z", false, raise) else { return };
    let (aws, group) = (&t.aws, t.group);
    aws.create_group(group, 1, 20);
    aws.set_capacity(group, 24, 22);
    aws.put_predictive(group, "team-predictive", PredictiveScalingMode::ForecastAndScale);
    // No action of prescale's on the group sets a MaxSize under what it runs.
    let none_cut = |out: &str| {
        let actions = aws.actions(group);
        assert!(actions.iter().any(|a| a.min_size().is_some_and(|m| m > 1)), "the floors went in: {out}");
        let cutting: Vec<&str> = actions
            .iter()
            .filter(|a| a.max_size().is_some_and(|m| m < 22))
            .filter_map(|a| a.scheduled_action_name())
            .collect();
        assert!(cutting.is_empty(), "{cutting:?}\n{out}");
    };
    let said = "MaxSize 20 of prescale-floor-";
    let (code, out, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains(said)
            && err.contains(
                "not set: the group runs 22 instances under its MaxSize 24, and Auto Scaling would terminate 2"
            ),
        "{err}"
    );
    none_cut(&out);
    // While the group runs so many, a dry run changes nothing more and `--strict` fails on it.
    let (code, out, err) = t.run(&["nightly", "--strict", "--allow-clock-skew"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("0 changes") || out.contains("no changes"), "{out}");
    assert!(err.contains(&format!("itest-maxcut: {said}")), "{err}");
    assert!(
        err.contains(
            "itest-maxcut: AWS predictive scaling also scales this group (team-predictive in ForecastAndScale)"
        ),
        "{err}"
    );
    assert!(!out.contains("scaling policies of others (team-predictive"), "{out}");
    aws.put_predictive(group, "team-predictive", PredictiveScalingMode::ForecastOnly);
    // Once it runs no more than max_size, the next run puts MaxSize 20 back.
    aws.set_capacity(group, 24, 5);
    let (code, out, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains(said) && !err.contains("AWS predictive scaling also"), "{err}");
    assert!(out.contains("AWS predictive scaling policy team-predictive is in ForecastOnly"), "{out}");
    assert!(aws.actions(group).iter().any(|a| a.max_size() == Some(20)), "{out}");
    // Running more again: the actions already on the group, which the plan does not change,
    // are kept from cutting it too.
    aws.set_capacity(group, 24, 22);
    let (code, out, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains(said), "{err}");
    none_cut(&out);
    // Handed back: a revert says that nothing of the group's own would scale it.
    let (code, out, err) = t.run(&["apply", "--revert", "--group", group]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(
            "no policy scales this group (its AWS predictive scaling is in ForecastOnly, which only forecasts)"
        ),
        "{out}"
    );
}

/// A MaxSize prescale raised for a peak (max_breach = "raise"), the group running at it: while the
/// plan still sees the peak, its put-back after it is written as planned; once it no longer does
/// (the event removed during it), the plan's first action would put MaxSize back at once and Auto
/// Scaling would terminate instances in service, so that MaxSize is left out and said.
#[test]
fn a_max_size_raised_for_a_peak_the_plan_no_longer_sees_is_not_cut_under_the_running_instances() {
    let raise = "max_breach = \"raise\"\nmax_breach_buffer = 10";
    let Some(t) = CsvGroup::new("ap-east-1", "itest-raised", "2027-05-03T12:00:00Z", true, raise) else { return };
    let (aws, group) = (&t.aws, t.group);
    // A sale from now to 16:00: 3 × 6,000 needs 36 instances, clamped to the ceiling of 30.
    ok(t.command().args(["event", "add", "--group", group, "--name", "sale", "--multiplier", "3"]).args([
        "--start",
        "2027-05-03T12:00:00Z",
        "--end",
        "2027-05-03T16:00:00Z",
    ]));
    let (code, out, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let max_of = |name: &str| {
        aws.actions(group).iter().find(|a| a.scheduled_action_name() == Some(name)).and_then(|a| a.max_size())
    };
    let put_back = aws
        .actions(group)
        .iter()
        .filter(|a| a.max_size() == Some(20))
        .filter_map(|a| a.scheduled_action_name().map(str::to_string))
        .min()
        .expect("the plan puts MaxSize back after the sale");
    assert!(aws.actions(group).iter().any(|a| a.max_size() == Some(30)), "{out}");
    // The raise has run: the group is at MaxSize 30 and runs 30. The plan still sees the sale:
    // its put-back stays as planned, and nothing is said.
    aws.set_capacity(group, 30, 30);
    let (code, out, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("not set: the group runs"), "{err}");
    assert_eq!(max_of(&put_back), Some(20), "{out}");
    // The sale is taken away during it: no action of prescale's sets a MaxSize under the 30 it
    // runs, and the note says why and when MaxSize 20 comes back.
    ok(t.command().args(["event", "remove", "--group", group, "--name", "sale"]));
    let (code, out, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains(
            "not set: the group runs 30 instances under the MaxSize 30 prescale raised for a peak this plan \
             no longer sees"
        ) && err.contains("Auto Scaling would terminate 10 of them in service to fit 20"),
        "{err}"
    );
    let cutting: Vec<String> = aws
        .actions(group)
        .iter()
        .filter(|a| a.max_size().is_some_and(|m| m < 30))
        .filter_map(|a| a.scheduled_action_name().map(str::to_string))
        .collect();
    assert!(cutting.is_empty(), "{cutting:?}\n{out}");
    // Once the group runs no more than its max_size, the next run puts MaxSize 20 back.
    aws.set_capacity(group, 30, 12);
    let (code, out, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("not set: the group runs"), "{err}");
    assert!(aws.actions(group).iter().any(|a| a.max_size() == Some(20)), "{out}");
}

#[test]
fn time_zone_round_trip_across_new_york_spring_forward() {
    // New York skips 02:00-03:00 local on Sunday 14 March 2027 at 07:00 UTC. The plan covers
    // 13 March 12:00 UTC to 15 March 12:00 UTC.
    let zone = r#"time_zone = "America/New_York""#;
    let Some(t) = CsvGroup::new("eu-west-1", "itest-tz", "2027-03-13T12:00:00Z", true, zone) else { return };
    let (aws, group, out) = (&t.aws, t.group, &t.out);
    let nightly = || ok(t.command().args(["nightly", "--execute", "--allow-clock-skew"]));
    let text = nightly();
    assert!(text.contains("Applied"), "{text}");
    let plan_text = ok(t.command().arg("plan"));
    // The floors run the 300 s warm-up ahead of the demand at 06:30 and 07:30 UTC: 06:25 UTC is
    // 01:25 EST, before the change; 07:25 UTC is 03:25 EDT, after it.
    assert!(
        plan_text.contains("prescale-floor-20270314T0625Z at 2027-03-14 01:25 EST (06:25 UTC): MinSize 6"),
        "{plan_text}"
    );
    assert!(
        plan_text.contains("prescale-floor-20270314T0725Z at 2027-03-14 03:25 EDT (07:25 UTC): MinSize 12"),
        "{plan_text}"
    );
    assert!(plan_text.contains("daylight-saving change in America/New_York at 2027-03-14 07:00 UTC (EST to EDT)"));
    // What Auto Scaling holds: StartTime is the UTC instant, TimeZone the group's zone.
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let planned = plan["groups"][0]["scheduled_actions"].as_array().unwrap();
    let held = aws.actions(group);
    assert_eq!(held.len(), planned.len());
    for p in planned {
        let a = held.iter().find(|a| a.scheduled_action_name() == p["name"].as_str()).expect("planned action missing");
        assert_eq!(
            start_time(a).to_rfc3339(),
            DateTime::parse_from_rfc3339(p["start_time"].as_str().unwrap()).unwrap().to_utc().to_rfc3339()
        );
        assert_eq!(a.time_zone(), Some("America/New_York"));
        assert_eq!(a.min_size().map(i64::from), p["min_size"].as_i64());
    }
    let before = held.iter().find(|a| a.scheduled_action_name() == Some("prescale-floor-20270314T0625Z")).unwrap();
    assert_eq!(start_time(before).to_rfc3339(), "2027-03-14T06:25:00+00:00");
    let after = held.iter().find(|a| a.scheduled_action_name() == Some("prescale-floor-20270314T0725Z")).unwrap();
    assert_eq!(start_time(after).to_rfc3339(), "2027-03-14T07:25:00+00:00");
    // Read back with its zone, the group matches the plan: a second run changes nothing.
    let text = nightly();
    assert!(text.contains("no changes: the group already matches the plan"), "{text}");
}

#[test]
fn revert_removes_only_what_prescale_owns_and_is_audited() {
    let Some(t) = CsvGroup::new("us-west-2", "itest-revert", "2027-05-03T12:00:00Z", true, "") else { return };
    let (aws, group, now, cfg, out) = (&t.aws, t.group, t.now, &t.cfg, &t.out);
    // Somebody else's scheduled actions (one of them recurring, given no start) and policy.
    aws.put_foreign_action(group, "team-batch-window", now + Duration::hours(3), 2);
    aws.rt
        .block_on(
            aws.asg
                .put_scheduled_update_group_action()
                .auto_scaling_group_name(group)
                .scheduled_action_name("team-nightly")
                .recurrence("0 2 * * *")
                .min_size(2)
                .send(),
        )
        .unwrap();
    let tt = aws_sdk_autoscaling::types::TargetTrackingConfiguration::builder()
        .predefined_metric_specification(
            aws_sdk_autoscaling::types::PredefinedMetricSpecification::builder()
                .predefined_metric_type(aws_sdk_autoscaling::types::MetricType::AsgAverageNetworkIn)
                .build(),
        )
        .target_value(1e6)
        .build();
    aws.rt
        .block_on(
            aws.asg
                .put_scaling_policy()
                .auto_scaling_group_name(group)
                .policy_name("team-network")
                .policy_type("TargetTrackingScaling")
                .target_tracking_configuration(tt)
                .send(),
        )
        .unwrap();
    aws.put_foreign_alarm(group, "team-revert-cpu-high", None);
    // An alarm named like prescale's that triggers the team's policy: the team's, never removed.
    aws.put_foreign_alarm(group, "prescale-itest-revert-manual", Some(aws.policy_arn(group, "team-network")));
    let run_at = |now: &str, args: &[&str]| run(t.at(now.parse().unwrap()).args(args));
    let run_ = |args: &[&str]| t.run(args);
    // A group whose own MinSize is above the configured min_size, which prescale never managed:
    // the dry run says the plan lowers it.
    aws.rt.block_on(aws.asg.update_auto_scaling_group().auto_scaling_group_name(group).min_size(3).send()).unwrap();
    let (code, text, err) = run_(&["nightly"]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        text.contains("the group's MinSize is 3, above the configured min_size 1, and prescale has nothing on it yet"),
        "{text}"
    );
    let (code, text, err) = run_(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{text}\n{err}");
    // A --now far from the clock is said to time the actions from it.
    assert!(err.contains("the actions are timed from it, and Auto Scaling refuses start times in the past"), "{err}");
    // The others' objects are kept, and said to act beside prescale's.
    assert!(text.contains("2 scheduled actions of others run within this plan's hours: team-"), "{text}");
    assert!(
        text.contains("team-nightly recurring \"0 2 * * *\" in UTC (MinSize 2)")
            && text.contains("team-batch-window at"),
        "{text}"
    );
    assert!(text.contains("scaling policies of others (team-network)"), "{text}");
    let ours = |aws: &Aws| {
        aws.actions(group).iter().filter(|a| a.scheduled_action_name().unwrap_or("").starts_with("prescale-")).count()
    };
    let planned = ours(aws);
    assert!(planned >= 4, "{text}");
    // Ours (target tracking and the step policy out) and the team's.
    assert_eq!(aws.policies(group).len(), 3);
    let ours_alarms =
        |aws: &Aws| aws.alarms().into_iter().filter(|a| a.0.starts_with("prescale-itest-revert-step")).count();
    let manual = |aws: &Aws| aws.alarms().iter().any(|a| a.0 == "prescale-itest-revert-manual");
    assert!(manual(aws), "the team's alarm named prescale-… survives the apply");
    assert_eq!(ours_alarms(aws), 1);
    // Objects of ours: the actions, two policies, one alarm.
    let owned = planned + 2 + 1;
    // Two lines per change: `attempting` before the call, then its outcome.
    let applied_lines = std::fs::read_to_string(out.join("audit.jsonl")).unwrap().lines().count();
    assert_eq!(applied_lines, 2 * owned);
    // A raised MinSize that no floor of prescale's set (none has run yet) and a MaxSize raised by
    // hand are reported, not changed.
    aws.rt
        .block_on(aws.asg.update_auto_scaling_group().auto_scaling_group_name(group).max_size(26).min_size(6).send())
        .unwrap();
    let (code, text, err) = run_(&["apply", "--revert", "--group", group]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        text.contains(
            "MinSize is 6, above the configured min_size 1, and left so: nothing prescale did that took effect"
        )
    );
    assert!(text.contains("--min-size 1") && !text.contains("~ bounds"), "{text}");
    // Without the audit log (another --out), no bound is put back: the note says why, and how.
    let mut c = prescale();
    c.arg("--config").arg(cfg).arg("--out").arg(t.dir.path().join("elsewhere"));
    let (code, text, err) = run(c.args(["--now", "2027-05-03T12:00:00Z", "apply", "--revert", "--group", group]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(text.contains("bounds 6–26, above the configured 1–20, left as they are: there is no audit log at"));
    // The store knows where its writing runs logged, and says so.
    assert!(text.contains(&format!("(run revert with --out {}, where they logged)", out.display())), "{text}");
    assert!(
        err.contains(&format!("logged its changes to {}, not to", out.join("audit.jsonl").display()))
            && err.contains(&format!("hint: --out {}", out.display())),
        "{err}"
    );
    assert!(text.contains(&format!("--auto-scaling-group-name {group} --min-size 1 --max-size 20`")), "{text}");
    // Then prescale's first floor runs: Auto Scaling sets MinSize to it and removes the one-time
    // action.
    let mut mine: Vec<ScheduledUpdateGroupAction> = aws
        .actions(group)
        .into_iter()
        .filter(|a| a.scheduled_action_name().unwrap_or("").starts_with("prescale-"))
        .collect();
    mine.sort_by_key(start_time);
    let (ran, floor) = (&mine[0], mine[0].min_size().unwrap());
    assert!(floor > 1, "{text}");
    aws.rt
        .block_on(
            aws.asg
                .delete_scheduled_action()
                .auto_scaling_group_name(group)
                .scheduled_action_name(ran.scheduled_action_name().unwrap())
                .send(),
        )
        .unwrap();
    aws.rt.block_on(aws.asg.update_auto_scaling_group().auto_scaling_group_name(group).min_size(floor).send()).unwrap();
    let after = (start_time(ran) + Duration::minutes(1)).to_rfc3339();
    let (planned, owned) = (planned - 1, owned - 1);

    // Dry run: lists every object of ours and only those, and the MinSize the floor left, to be
    // put back; changes nothing. MaxSize, raised by hand, stays.
    let (code, text, err) = run_at(&after, &["apply", "--revert", "--group", group]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert_eq!(text.matches("  - action prescale-floor-").count(), planned, "{text}");
    assert!(text.contains(&format!("  ~ bounds MinSize 1 (was {floor}), MaxSize 26\n")), "{text}");
    assert!(text.contains("  - policy prescale-target-tracking"), "{text}");
    assert!(text.contains("  - policy prescale-step-out") && text.contains("  - alarm prescale-itest-revert-step-out"));
    assert!(!text.contains("team-"), "{text}");
    assert!(
        text.contains("MaxSize is 26, above the configured max_size 20, and left so") && text.contains("--max-size 20"),
        "{text}"
    );
    assert!(!text.contains("MinSize is"), "{text}");
    assert!(text.contains("dry run: nothing was changed; rerun with --execute to apply"), "{text}");
    assert_eq!(ours(aws), planned);
    // --keep-bounds: the objects go, the bounds stay, with the command that would lower them.
    let (code, text, err) = run_at(&after, &["apply", "--revert", "--group", group, "--keep-bounds"]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(!text.contains("~ bounds") && text.matches("  - action prescale-floor-").count() == planned, "{text}");
    assert!(
        text.contains(&format!(
            "bounds {floor}–26, above the configured 1–20, left as they are (--keep-bounds). By hand: `aws autoscaling \
             update-auto-scaling-group --auto-scaling-group-name {group} --min-size 1 --max-size 20`"
        )),
        "{text}"
    );

    // Execute: only the others' objects are left, MinSize is back at the configured 1 and
    // MaxSize as it was, and every change is in the audit log.
    let (code, text, err) = run_at(&after, &["apply", "--revert", "--execute"]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        err.contains(&format!("{owned} objects removed in 1 group; bounds put back on 1 of them; each is in")),
        "{err}"
    );
    let g = aws.rt.block_on(aws.asg.describe_auto_scaling_groups().auto_scaling_group_names(group).send()).unwrap();
    let g = &g.auto_scaling_groups()[0];
    assert_eq!((g.min_size(), g.max_size()), (Some(1), Some(26)));
    let left: Vec<String> =
        aws.actions(group).iter().map(|a| a.scheduled_action_name().unwrap_or_default().to_string()).collect();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&"team-batch-window".to_string()) && left.contains(&"team-nightly".to_string()), "{left:?}");
    assert_eq!(aws.policies(group), vec![("team-network".to_string(), "TargetTrackingScaling".to_string())]);
    assert_eq!(ours_alarms(aws), 0);
    assert!(aws.alarms().iter().any(|a| a.0 == "team-revert-cpu-high"), "the foreign alarm survives");
    assert!(manual(aws), "the team's alarm named prescale-… survives the revert");
    let audit = std::fs::read_to_string(out.join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> =
        audit.lines().skip(applied_lines).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().filter(|e| e["outcome"] == "attempting").count(), owned + 1);
    let (bounds, reverts): (Vec<&serde_json::Value>, Vec<&serde_json::Value>) =
        lines.iter().filter(|e| e["outcome"] != "attempting").partition(|e| e["object"] == "bounds");
    assert_eq!(reverts.len(), owned);
    assert_eq!(bounds.len(), 1, "{bounds:?}");
    let b = bounds[0];
    assert!(b["op"] == "replace" && b["outcome"] == "applied" && b["run"] == "revert", "{b}");
    assert_eq!(
        (b["before"]["min"].as_u64(), b["after"]["min"].as_u64()),
        (Some(u64::from(floor.unsigned_abs())), Some(1))
    );
    assert_eq!((b["before"]["max"].as_u64(), b["after"]["max"].as_u64()), (Some(26), Some(26)));
    assert_eq!(reverts.iter().filter(|e| e["object"] == "alarm").count(), 1);
    for e in &reverts {
        assert_eq!(e["run"], "revert");
        assert_eq!(e["op"], "delete");
        assert_eq!(e["outcome"], "applied");
        assert!(e["plan_id"].is_null() && e["after"].is_null());
        assert!(e["before"]["name"].as_str().unwrap().starts_with("prescale-"), "{e}");
        assert_eq!(e["group"], group);
    }
    // The operator raises MinSize to the floor again (an incident): prescale last set 1, so a
    // second revert leaves it, even with a line a crash cut inside a character at the log's end.
    aws.rt.block_on(aws.asg.update_auto_scaling_group().auto_scaling_group_name(group).min_size(floor).send()).unwrap();
    let mut log = std::fs::OpenOptions::new().append(true).open(out.join("audit.jsonl")).unwrap();
    std::io::Write::write_all(&mut log, b"{\"at\":\"2027-05-03T13:00:00Z\",\"group\":\"\xc3").unwrap();
    let (code, text, err) = run_at(&after, &["apply", "--revert", "--group", group]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(!text.contains("~ bounds"), "{text}");
    assert!(text.contains(&format!(
        "MinSize is {floor}, above the configured min_size 1, and left so: prescale last set it to 1"
    )));
    aws.rt.block_on(aws.asg.update_auto_scaling_group().auto_scaling_group_name(group).min_size(1).send()).unwrap();

    // Again: nothing of ours is left to remove, nor to put back.
    let (code, text, _) = run_at(&after, &["apply", "--revert", "--execute"]);
    assert_eq!(code, 0);
    assert!(text.contains("no changes: the group holds nothing of prescale's"), "{text}");
    // (And the cut line, ended by the run.)
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(out.join("audit.jsonl")).unwrap()).lines().count(),
        applied_lines + 2 * (owned + 1) + 1
    );
}

/// A group deleted in AWS after prescale wrote to it: a revert removes the alarms CloudWatch keeps
/// for it, records the revert, and a second one finds nothing left.
#[test]
fn a_revert_of_a_group_deleted_in_aws_removes_the_alarms_it_left_and_is_done() {
    let Some(t) = CsvGroup::new("ap-south-1", "itest-gone", "2027-05-03T12:00:00Z", true, "") else { return };
    let (aws, group, now, out) = (&t.aws, t.group, t.now, &t.out);
    let run_ = |args: &[&str]| t.run(args);
    let (code, text, err) = run_(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{text}\n{err}");
    let ours = |aws: &Aws| aws.alarms().into_iter().filter(|a| a.0.starts_with("prescale-itest-gone")).count();
    assert!(ours(aws) > 0, "the step alarms are on CloudWatch");
    // Not found in another region (a mistake, not a deletion): fails as before, nothing recorded.
    let elsewhere = tempfile::tempdir().unwrap();
    let cfg2 = csv_config(elsewhere.path(), "us-west-1", group, &daily_steps(now), "");
    let (code, text, err) = run(prescale().arg("--config").arg(&cfg2).arg("--out").arg(out).args([
        "--now",
        "2027-05-03T12:00:00Z",
        "apply",
        "--revert",
        "--group",
        group,
        "--execute",
    ]));
    assert!(code == 1 && err.contains("not found in region us-west-1"), "{text}\n{err}");
    assert!(!std::fs::read_to_string(out.join("audit.jsonl")).unwrap().contains("\"object\":\"group\""));
    // Deleted in AWS: its actions and policies go with it, its alarms stay in CloudWatch.
    aws.rt
        .block_on(aws.asg.delete_auto_scaling_group().auto_scaling_group_name(group).force_delete(true).send())
        .unwrap();
    let (code, text, err) = run_(&["apply", "--revert", "--group", group, "--execute"]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        text.contains(
            "its scheduled actions and policies went with it; this revert removes prescale's alarms for it, \
                 which CloudWatch keeps"
        ),
        "{text}"
    );
    assert_eq!(ours(aws), 0, "{text}");
    let log = std::fs::read_to_string(out.join("audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["run"].as_str(), last["object"].as_str(), last["outcome"].as_str()),
        (Some("revert"), Some("group"), Some("applied"))
    );
    // Done: a second revert finds nothing left, and says so.
    let (code, text, err) = run_(&["apply", "--revert", "--group", group, "--execute"]);
    assert!(code == 0 && text.contains("nothing of prescale's is left of it"), "{text}\n{err}");
}

/// A run that fails part-way (the group is not there yet when apply reaches it) says so, exits 1
/// and audits nothing as applied; once the group exists the next run applies the whole plan, and
/// the one after finds nothing to do.
#[test]
fn a_failed_run_is_reported_and_the_next_run_converges() {
    let Some(t) = CsvGroup::new("ap-southeast-2", "itest-late", "2027-05-03T12:00:00Z", false, "") else { return };
    let (aws, group, out) = (&t.aws, t.group, &t.out);
    let nightly = || t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    let (code, text, err) = nightly();
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(text.contains("not found") && err.contains("failed"), "{text}\n{err}");
    // stderr names the group and why, not only "see above": a cron mail may hold stderr alone.
    assert!(err.contains(&format!("\n  {group}: ")) && err.contains("not found"), "{err}");
    // A missing group does not pass by itself: the error says its cause needs mending.
    assert!(err.contains("needs its cause") && !err.contains("converges"), "{err}");
    assert!(aws.actions(group).is_empty());

    aws.create_group(group, 1, 20);
    let (code, text, err) = nightly();
    assert_eq!(code, 0, "{text}\n{err}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let planned = plan["groups"][0]["scheduled_actions"].as_array().unwrap().len();
    assert!(planned > 0);
    assert_eq!(aws.actions(group).len(), planned);
    assert_eq!(aws.policies(group).len(), 2);

    let (code, text, err) = nightly();
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(text.contains("no changes: the group already matches the plan"), "{text}");
    assert_eq!(aws.actions(group).len(), planned);

    // No credentials: no call can be made, and no later run passes until they are set.
    let mut c = t.command();
    c.args(["nightly", "--execute", "--allow-clock-skew"]);
    for v in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] {
        c.env_remove(v);
    }
    c.env("AWS_SHARED_CREDENTIALS_FILE", t.dir.path().join("none")).env("AWS_CONFIG_FILE", t.dir.path().join("none"));
    c.env("AWS_EC2_METADATA_DISABLED", "true");
    let (code, text, err) = run(&mut c);
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("no AWS credentials were found"), "{err}");
    assert!(!err.contains("converges"), "missing credentials do not pass by themselves: {err}");
    assert_eq!(aws.actions(group).len(), planned, "nothing changed");
}

#[test]
fn an_endpoint_that_accepts_and_never_answers_fails_the_run_in_bounded_time() {
    // A server that accepts connections and holds them open without a byte of answer.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    // prescale with `cfg`, talking to the silent server.
    let silent = |cfg: &Path, args: &[&str]| {
        let mut c = prescale();
        c.arg("--config").arg(cfg).arg("--out").arg(tmp.path().join("out"));
        c.args(["--now", "2026-11-23T00:00:00Z"]).args(args);
        c.env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        c.env("AWS_REGION", "us-east-1").env("AWS_EC2_METADATA_DISABLED", "true");
        run(&mut c)
    };
    let cfg = config(tmp.path(), "itest-silent", "[aws]\nmax_attempts = 2\ntimeout_secs = 2");
    let started = std::time::Instant::now();
    let (code, out, err) = silent(&cfg, &["ingest"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("GetMetricData failed: no answer in time") && err.contains("timeout_secs"), "{err}");
    assert!(err.contains("2 attempts of 2 s: [aws] max_attempts and timeout_secs"), "the limits in force: {err}");
    assert!(err.contains("the store is unchanged"), "{err}");
    assert!(!tmp.path().join("store/metrics").exists(), "nothing stored");
    // Two attempts of two seconds, with backoff: nowhere near a hang (a bound, not a benchmark).
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "{:?}", started.elapsed());

    // The nightly job against it, with a second group: it goes on from the (empty) store; with no
    // load stored, a group is planned on its reactive policy only when it holds no floors of an
    // earlier plan, which a silent service cannot tell: both are left out (whatever floors they
    // hold stay), the service asked once rather than per group, and the run exits 1.
    let second = "[[groups]]\nname = \"itest-silent-2\"\nenvironment = \"prod\"\nmin_size = 1\nmax_size = 30\n\
                  load_metric = \"requests\"\ncapacity_per_instance = 500.0\n\
                  reactive = { metric = \"ASGAverageCPUUtilization\", target_value = 55.0 }\n\
                  [[groups.metrics]]\nname = \"requests\"\nnamespace = \"AWS/EC2\"\nmetric_name = \"NetworkIn\"\n";
    let cfg = config(tmp.path(), "itest-silent", &format!("[aws]\nmax_attempts = 1\ntimeout_secs = 2\n{second}"));
    let (code, out, err) = silent(&cfg, &["nightly"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("going on with what the store holds"), "{err}");
    assert!(err.contains("2 groups not planned, their floors in place left as they are"), "{err}");
    assert!(
        err.contains("cannot be read to see whether floors are on it (") && err.contains("no answer in time"),
        "{err}"
    );
    assert!(err.contains("(the service did not answer an earlier call)"), "asked once: {err}");
    assert!(!tmp.path().join("out/plan.json").exists(), "no plan to apply later");
}

/// A loopback proxy to the test server at `upstream` that forwards every request but those of
/// the API actions `stall` (named in the request's form body or path): those it holds open, unanswered,
/// until the client gives up. A service that answers reads and stalls on writes.
fn stalling_proxy(upstream: &str, stall: &'static [&'static str]) -> String {
    proxy(upstream, stall, &[], std::sync::Arc::new(|| false))
}

/// A loopback proxy to the test server at `upstream` that answers each Auto Scaling action of
/// `refuse` with its error code, as Auto Scaling sends it (HTTP 403, its query protocol's error:
/// `AccessDenied` for a role without the permission, `ExpiredToken` for a session that ran out),
/// and forwards every other request.
fn refusing_proxy(upstream: &str, refuse: &'static [(&'static str, &'static str)]) -> String {
    proxy(upstream, &[], refuse, std::sync::Arc::new(|| true))
}

/// A loopback proxy to the test server at `upstream` that holds the first request of the API
/// action `hold` (a write in flight), says so on the first channel, and forwards it once told to
/// on the second; every other request passes.
fn holding_proxy(
    upstream: &str,
    hold: &'static str,
) -> (String, std::sync::mpsc::Receiver<()>, std::sync::mpsc::Sender<()>) {
    let (held, is_held) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held, released) = (std::sync::Mutex::new(held), std::sync::Mutex::new(released));
    let first = std::sync::atomic::AtomicBool::new(true);
    let wait = move || {
        if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            held.lock().unwrap().send(()).unwrap();
            released.lock().unwrap().recv().unwrap();
        }
        true
    };
    let stall: &'static [&'static str] = Box::leak(Box::new([hold]));
    (proxy(upstream, stall, &[], std::sync::Arc::new(wait)), is_held, release)
}

/// A loopback proxy to `upstream` whose requests of the API actions `stall` (named in the form
/// body, or in the path for CloudWatch's CBOR) wait for `forward`: it returns whether to send them on, or to hold them unanswered until
/// the client gives up. Requests of the Auto Scaling actions `refuse` are denied (see
/// [`refusing_proxy`]).
fn proxy(
    upstream: &str,
    stall: &'static [&'static str],
    refuse: &'static [(&'static str, &'static str)],
    forward: std::sync::Arc<dyn Fn() -> bool + Send + Sync>,
) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (upstream, forward) = (upstream.clone(), forward.clone());
            std::thread::spawn(move || {
                let _ = relay(conn, &upstream, stall, refuse, &*forward);
            });
        }
    });
    format!("http://{addr}")
}

/// Serves one client connection of [`proxy`]: each request goes to the upstream over a
/// connection of its own (`Connection: close`), and the answer back. It reads bodies by their
/// `Content-Length`, which is how the SDK sends these calls; a chunked body or an `Expect:
/// 100-continue` would need more, and fails the test rather than hang it.
fn relay(
    client: std::net::TcpStream,
    upstream: &str,
    stall: &[&str],
    refuse: &[(&str, &str)],
    forward: &(dyn Fn() -> bool + Send + Sync),
) -> std::io::Result<()> {
    use std::io::{BufRead, Read, Write};
    let mut reader = std::io::BufReader::new(client.try_clone()?);
    let mut client = client;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line == "\r\n" {
                break;
            }
            head.push(line);
        }
        let lower: Vec<String> = head.iter().map(|l| l.to_ascii_lowercase()).collect();
        assert!(
            !lower.iter().any(|l| l.starts_with("transfer-encoding:") || l.starts_with("expect:")),
            "the test proxy reads Content-Length bodies only: {head:?}"
        );
        let len = head
            .iter()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let text = String::from_utf8_lossy(&body);
        // Auto Scaling names the action in its form body, CloudWatch (CBOR) in the path.
        let named = |a: &str| text.contains(&format!("Action={a}&")) || head[0].contains(&format!("/operation/{a} "));
        if let Some((action, code)) = refuse.iter().find(|(a, _)| named(a)) {
            let message = match *code {
                "AccessDenied" => {
                    format!(
                        "User: arn:aws:iam::123456789012:user/prescale is not authorized to perform: autoscaling:{action}"
                    )
                }
                _ => "The security token included in the request is expired".to_string(),
            };
            let body = format!(
                "<ErrorResponse xmlns=\"https://autoscaling.amazonaws.com/doc/2011-01-01/\"><Error><Type>Sender</Type>\
                 <Code>{code}</Code><Message>{message}</Message></Error><RequestId>itest-refused</RequestId>\
                 </ErrorResponse>"
            );
            write!(
                client,
                "HTTP/1.1 403 Forbidden\r\nx-amzn-RequestId: itest-refused\r\nContent-Type: text/xml\r\nContent-Length: \
                 {}\r\n\r\n{body}",
                body.len()
            )?;
            continue;
        }
        if stall.iter().any(|a| named(a)) && !forward() {
            // Hold the connection without a byte of answer until the client closes it.
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
            return Ok(());
        }
        let mut up = std::net::TcpStream::connect(upstream)?;
        for l in head.iter().filter(|l| !l.to_ascii_lowercase().starts_with("connection:")) {
            up.write_all(l.as_bytes())?;
        }
        up.write_all(b"Connection: close\r\n\r\n")?;
        up.write_all(&body)?;
        let mut answer = Vec::new();
        up.read_to_end(&mut answer)?;
        client.write_all(&answer)?;
    }
}

/// A role without a permission prescale needs (`AccessDenied`): a first apply whose target
/// tracking is refused puts no floors (they would hold the group at their height with nothing of
/// prescale's to scale it back in), a revert whose deletes of the floors are refused keeps the
/// policy that scales in after them, and once the permission is there the next run does the
/// rest; refused credentials stop the run's writes; a refused step policy out holds nothing back.
#[test]
fn a_refused_scale_in_policy_holds_back_the_floors_and_a_refused_floor_delete_keeps_it() {
    let Some(t) = CsvGroup::new("eu-west-2", "itest-denied", "2027-05-03T12:00:00Z", true, "") else { return };
    let (aws, group) = (&t.aws, t.group);
    let endpoint = std::env::var("PRESCALE_TEST_AWS_ENDPOINT").unwrap();
    let ours = || {
        let floors = aws
            .actions(group)
            .iter()
            .filter(|a| a.scheduled_action_name().unwrap_or("").starts_with("prescale-"))
            .count();
        (floors, aws.policies(group).len())
    };
    let denied = |refuse: &'static [(&'static str, &'static str)], args: &[&str]| {
        run(t.command().env("AWS_ENDPOINT_URL", refusing_proxy(&endpoint, refuse)).args(args))
    };
    let (code, text, err) =
        denied(&[("PutScalingPolicy", "AccessDenied")], &["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(text.contains("AccessDenied") && text.contains("autoscaling:PutScalingPolicy"), "{text}");
    let held = text.lines().find(|l| l.contains("NOT ATTEMPTED: the polic")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        held.contains("prescale-target-tracking") && held.contains("would hold the group at their height"),
        "{held}"
    );
    assert_eq!(ours(), (0, 0), "no floors without the policy: {text}");
    // With the permission: policies and floors go in together.
    let (code, text, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{text}\n{err}");
    let (floors, policies) = ours();
    assert!(floors > 0 && policies > 0, "{text}");
    // A revert refused the floors' delete keeps the policy that scales in after them.
    let (code, text, err) = denied(
        &[("BatchDeleteScheduledAction", "AccessDenied")],
        &["apply", "--revert", "--group", group, "--execute"],
    );
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        text.contains(&format!(
            "NOT ATTEMPTED: {floors} of prescale's scheduled actions could not be deleted, and this policy scales"
        )),
        "{text}"
    );
    // Target tracking stays; the step policy out, which never scales in, goes with its alarm.
    assert_eq!((ours(), policies), ((floors, 1), 2), "{text}");
    let (code, text, err) = t.run(&["apply", "--revert", "--group", group, "--execute"]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert_eq!(ours(), (0, 0), "{text}");
    // A session that expires as the run writes: said with what to do, and nothing sent after it.
    let (code, text, err) =
        denied(&[("PutScalingPolicy", "ExpiredToken")], &["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        text.contains("ExpiredToken") && text.contains("the session's credentials expired: refresh them"),
        "{text}"
    );
    assert!(text.contains("NOT ATTEMPTED: every call fails alike since PutScalingPolicy: ExpiredToken"), "{text}");
    assert_eq!(ours(), (0, 0), "{text}");
    // Credentials refused at a read before the writes (the boot time's): no call of any stage is
    // sent after it, and what to do is said once.
    let (code, text, err) =
        denied(&[("DescribeScalingActivities", "ExpiredToken")], &["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 1, "{text}\n{err}");
    assert_eq!((text.clone() + &err).matches("refresh them").count(), 1, "{text}\n{err}");
    // With the request's id, as AWS support asks for it.
    assert!(err.contains("(HTTP 403, request itest-refused); the session's credentials expired"), "{err}");
    assert!(
        text.contains(
            "not sent: AWS refused this run's credentials earlier (ExpiredToken on DescribeScalingActivities)"
        ),
        "{text}"
    );
    assert_eq!(ours(), (0, 0), "{text}");
    // A refused policy that only scales out (the step policy, turned on later) holds nothing back:
    // target tracking, in place, scales the group in after the floors.
    let text = std::fs::read_to_string(&t.cfg).unwrap();
    let no_step = text.replace("warmup_secs = 300 }", "warmup_secs = 300, step = { enabled = false } }");
    assert_ne!(no_step, text);
    std::fs::write(&t.cfg, &no_step).unwrap();
    let (code, out, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!((code, ours().1), (0, 1), "{out}\n{err}");
    let names: Vec<String> =
        aws.actions(group).iter().filter_map(|a| a.scheduled_action_name().map(str::to_string)).collect();
    aws.rt
        .block_on(
            aws.asg
                .batch_delete_scheduled_action()
                .auto_scaling_group_name(group)
                .set_scheduled_action_names(Some(names))
                .send(),
        )
        .unwrap();
    std::fs::write(&t.cfg, &text).unwrap();
    let (code, out, err) =
        denied(&[("PutScalingPolicy", "AccessDenied")], &["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("policy prescale-step-out") && !out.contains("ATTEMPTED: the polic"), "{out}");
    assert_eq!(ours(), (floors, 1), "the floors went in beside target tracking: {out}");
}

/// Two new groups on the same load from a CSV (`csv_config`'s) in a region of their own, with
/// `attempts` attempts of `timeout_secs` per call, and their nightly run at 2027-05-03 12:00 UTC.
struct TwoGroups {
    aws: Aws,
    names: [&'static str; 2],
    _dir: tempfile::TempDir,
    cfg: std::path::PathBuf,
    out: std::path::PathBuf,
}

impl TwoGroups {
    fn new(region: &'static str, names: [&'static str; 2], attempts: u32, timeout_secs: u32) -> Option<Self> {
        let [first, second] = names;
        let CsvGroup { aws, dir, cfg, out, .. } = CsvGroup::new(region, first, "2027-05-03T12:00:00Z", true, "")?;
        aws.create_group(second, 1, 20);
        let text = std::fs::read_to_string(&cfg).unwrap().replace(
            &format!("region = \"{region}\""),
            &format!("region = \"{region}\"\nmax_attempts = {attempts}\ntimeout_secs = {timeout_secs}"),
        );
        let load = dir.path().join("load.csv");
        let text = format!(
            "{text}\n[[groups]]\nname = \"{second}\"\nmin_size = 1\nmax_size = 20\nload_metric = \"requests\"\n\
             capacity_per_instance = 500.0\n\
             reactive = {{ metric = \"ASGAverageCPUUtilization\", target_value = 55.0, warmup_secs = 300 }}\n\
             [[groups.metrics]]\nname = \"requests\"\nfile = \"{}\"\n",
            load.display()
        );
        std::fs::write(&cfg, text).unwrap();
        Some(Self { aws, names, _dir: dir, cfg, out })
    }

    /// `nightly --execute` against `endpoint`.
    fn nightly(&self, endpoint: &str) -> std::process::Command {
        let mut c = prescale();
        c.arg("--config").arg(&self.cfg).arg("--out").arg(&self.out).args(["--now", "2027-05-03T12:00:00Z"]);
        c.env("AWS_ENDPOINT_URL", endpoint).args(["nightly", "--execute", "--allow-clock-skew"]);
        c
    }

    /// The audit log's lines, from line `skip` on.
    fn audit(&self, skip: usize) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.out.join("audit.jsonl"))
            .unwrap()
            .lines()
            .skip(skip)
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// SIGTERM while a write is in flight (a cron or systemd timeout): the call finishes and its
/// outcome is logged, nothing after it is attempted (the group's policies and alarms, the next
/// group), the run says what it left and exits 143 as a killed run would, and the next run
/// makes the rest.
#[test]
fn sigterm_during_the_writes_finishes_the_call_in_flight_and_attempts_nothing_after_it() {
    // Calls wait long enough for the test to hold one while it signals.
    let Some(t) = TwoGroups::new("eu-central-1", ["itest-term-a", "itest-term-b"], 1, 60) else { return };
    let ([first, second], aws) = (t.names, &t.aws);
    let nightly = |endpoint: &str| t.nightly(endpoint);
    let endpoint = std::env::var("PRESCALE_TEST_AWS_ENDPOINT").unwrap();
    // The group's first call is its first policy (the fallback goes before the floors).
    let (code, text, err) = signalled_mid_write(nightly, &endpoint, "PutScalingPolicy", Then::Answer);
    assert_eq!(code, Some(143), "{text}\n{err}");
    assert!(err.contains("prescale: stopped by SIGTERM after the call in flight"), "{err}");
    assert!(text.contains("  NOT ATTEMPTED: the run was stopped (SIGTERM) before it was sent"), "{text}");
    assert!(text.contains("error: not attempted: the run was stopped (SIGTERM) before this group's changes"), "{text}");
    // stderr counts the group not attempted apart from the changes, and names it.
    assert!(err.contains(" not attempted and 1 group not attempted; "), "{err}");
    assert!(err.contains(&format!("\n  {second}: not attempted: the run was stopped (SIGTERM)")), "{err}");
    // The held call went through: the first group has that policy and no floors, the second nothing.
    assert_eq!(aws.policies(first).len(), 1, "{text}");
    assert!(aws.actions(first).is_empty() && aws.actions(second).is_empty(), "{text}");
    // Every change the run started has its outcome: the policy applied, the rest not attempted;
    // the second group was not started.
    let audit = t.audit(0);
    let count = |object: &str, o: &str| {
        audit.iter().filter(|e| e["group"] == first && e["object"] == object && e["outcome"] == o).count()
    };
    assert_eq!(count("policy", "applied"), 1, "{audit:?}");
    let started: usize = ["scheduled_action", "policy", "alarm"].iter().map(|o| count(o, "attempting")).sum();
    let skipped = started - 1;
    assert!(text.contains(&format!("{skipped} of {started} changes not made: {skipped} not attempted")), "{text}");
    // The first group's changes after the call in flight were not tried, and none failed: so
    // counted, not as failures.
    assert!(err.contains(&format!("{skipped} changes not attempted and 1 group not attempted; ")), "{err}");
    assert!(!err.contains("changes or groups failed"), "{err}");
    let floors = count("scheduled_action", "attempting");
    assert!(floors > 0 && count("scheduled_action", "failed") == floors, "{audit:?}");
    assert!(
        audit
            .iter()
            .filter(|e| e["outcome"] == "failed")
            .all(|e| e["transient"] == true && e["error"].as_str().unwrap().contains("stopped (SIGTERM)")),
        "{audit:?}"
    );
    assert!(!audit.iter().any(|e| e["group"] == second), "{audit:?}");

    // A second SIGTERM stops at once, mid-call: the policy in flight has no outcome on record.
    let before = audit.len();
    let (code, text, err) = signalled_mid_write(nightly, &endpoint, "PutScalingPolicy", Then::SignalAgain);
    assert_eq!(code, Some(143), "{text}\n{err}");
    assert!(err.contains("prescale: SIGTERM: again: stopped at once, in the middle of a call"), "{err}");
    // The next run marks it interrupted, finds what took effect on the groups and makes the rest.
    let (code, text, err) = run(&mut nightly(&endpoint));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        err.contains("had no outcome (that run stopped while making") && err.contains("marked `interrupted`"),
        "{err}"
    );
    let audit = t.audit(before);
    let applied =
        |object: &str| audit.iter().any(|e| e["group"] == first && e["object"] == object && e["outcome"] == "applied");
    // (The policy in flight took effect on the service: the rest of the first group is its alarm
    // and floors.)
    assert!(applied("alarm") && applied("scheduled_action"), "{audit:?}");
    assert!(audit.iter().any(|e| e["group"] == second && e["outcome"] == "applied"));
    assert_eq!(aws.policies(second).len(), 2);
}

/// Under `nohup` (SIGHUP ignored on purpose), a session that drops during the writes does not
/// stop the run: it stays ignored, and the run ends as it would have.
#[test]
fn a_sighup_ignored_under_nohup_stays_ignored_through_the_writes() {
    let Some(t) = TwoGroups::new("eu-west-3", ["itest-nohup-a", "itest-nohup-b"], 1, 60) else { return };
    let endpoint = std::env::var("PRESCALE_TEST_AWS_ENDPOINT").unwrap();
    let (proxy, held, release) = holding_proxy(&endpoint, "BatchPutScheduledUpdateGroupAction");
    let run_ = t.nightly(&proxy);
    let mut c = std::process::Command::new("nohup");
    c.arg(run_.get_program()).args(run_.get_args()).current_dir(run_.get_current_dir().unwrap());
    for (k, v) in run_.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let child = c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    held.recv_timeout(std::time::Duration::from_secs(300)).expect("the first group's floors reach the service");
    let hup = std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap();
    assert!(hup.success());
    // Time for a handler to take it, were one installed.
    std::thread::sleep(std::time::Duration::from_millis(500));
    release.send(()).unwrap();
    let out = child.wait_with_output().unwrap();
    let (text, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");
    assert!(!err.contains("SIGHUP") && !text.contains("NOT ATTEMPTED"), "{text}\n{err}");
    assert!(!t.aws.policies(t.names[1]).is_empty(), "the second group was applied too");
}

/// What [`signalled_mid_write`] does once the run has said it finishes the call in flight.
#[derive(Clone, Copy, PartialEq)]
enum Then {
    /// Lets the call through.
    Answer,
    /// Signals again, and lets the call through once the run has exited.
    SignalAgain,
    /// Never answers it, and signals late in its attempt.
    Never,
}

/// SIGTERM while a write goes unanswered: the call gets one attempt's time, then the run stops
/// without its retries (which would send it again long after the stop, past a supervisor's
/// grace), records it as possibly made, and exits 143.
#[test]
fn sigterm_leaves_an_unanswered_call_after_one_attempts_time_without_its_retries() {
    // Three attempts of two seconds: a retry would reach the service, which answers it.
    let Some(t) = TwoGroups::new("ap-northeast-1", ["itest-term-stall-a", "itest-term-stall-b"], 3, 2) else { return };
    let ([first, second], aws, out) = (t.names, &t.aws, &t.out);
    let nightly = |endpoint: &str| t.nightly(endpoint);
    let endpoint = std::env::var("PRESCALE_TEST_AWS_ENDPOINT").unwrap();
    // An earlier dry run's list of changes: no longer what is left once a run writes, even one cut off.
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(out.join("dry-run-changes.json"), "[]").unwrap();
    let (code, text, err) = signalled_mid_write(nightly, &endpoint, "BatchPutScheduledUpdateGroupAction", Then::Never);
    assert_eq!(code, Some(143), "{text}\n{err}");
    assert!(!out.join("dry-run-changes.json").exists(), "{text}\n{err}");
    // Its retry refused after its attempt timed out, or (on a slow machine) left at the end of
    // the grace.
    assert!(
        text.contains(
            "no answer within 2 s of the stop (SIGTERM), and its retries were not sent: it may have been made"
        ) || text.contains(
            "its attempt failed and its retries were not sent after the stop (SIGTERM): it may have been made"
        ),
        "{text}"
    );
    // No retry went out, even one whose backoff ended within the grace (the stop gate refuses
    // it): the held call was the only one, and it never reached the service.
    assert!(aws.actions(first).is_empty() && aws.actions(second).is_empty(), "{text}");
    let audit = std::fs::read_to_string(out.join("audit.jsonl")).unwrap();
    let unknown = audit.lines().filter(|l| l.contains("\"outcome\":\"unknown\"")).count();
    let attempting = audit.lines().filter(|l| l.contains("\"outcome\":\"attempting\"")).count();
    assert!(unknown > 0 && audit.lines().count() == 2 * attempting, "{audit}");
}

/// Runs `command` against a proxy to `endpoint` that holds the first call of the API action
/// `hold`; once it is held, sends the run SIGTERM, waits for the run to say it finishes the call
/// in flight, and goes on as `then` says. Returns the exit code, stdout and stderr.
fn signalled_mid_write(
    command: impl Fn(&str) -> std::process::Command,
    endpoint: &str,
    hold: &'static str,
    then: Then,
) -> (Option<i32>, String, String) {
    use std::io::{BufRead, Read};
    let (proxy, held, release) = holding_proxy(endpoint, hold);
    let mut child =
        command(&proxy).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reading = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let (line, lines) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = line.send(l);
        }
    });
    held.recv_timeout(std::time::Duration::from_secs(300)).unwrap_or_else(|_| panic!("no {hold} call came"));
    if let Then::Never = then {
        // Late in the held attempt (of 2 s; 0.8 s before it times out): its retry's backoff (under
        // a second) ends within the grace the stop gives the call in flight (2 s from the stop),
        // so only the stop gate keeps the retry unsent.
        std::thread::sleep(std::time::Duration::from_millis(1200));
    }
    let term = || {
        let killed = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(killed.success());
    };
    term();
    // The call in flight goes on only once the run has said it stops after it.
    let mut err = String::new();
    while !err.contains("finishing the call in flight") {
        let l = lines.recv_timeout(std::time::Duration::from_secs(60)).unwrap_or_else(|_| panic!("{err}"));
        err.push_str(&l);
        err.push('\n');
    }
    match then {
        Then::Answer => release.send(()).unwrap(),
        Then::SignalAgain => term(),
        Then::Never => {}
    }
    let code = child.wait().unwrap().code();
    match then {
        Then::SignalAgain => release.send(()).unwrap(),
        // The held call stays unanswered for the rest of the test.
        Then::Never => std::mem::forget(release),
        Then::Answer => {}
    }
    err.extend(lines.iter().map(|l| l + "\n"));
    (code, reading.join().unwrap(), err)
}

/// A service that answers reads but never answers a write: the run stops writing at the first
/// unanswered call (the group's other changes and the next group's are not attempted, rather than
/// each waiting the whole retry budget), exits 1 in bounded time with every change audited, and
/// the next run against a service that answers converges.
#[test]
fn a_service_that_stalls_on_writes_stops_the_apply_at_the_first_call_and_the_next_run_converges() {
    // One attempt of two seconds per call.
    let Some(t) = TwoGroups::new("ca-central-1", ["itest-stall-a", "itest-stall-b"], 1, 2) else { return };
    let ([first, second], aws) = (t.names, &t.aws);
    let nightly = |endpoint: &str| run(&mut t.nightly(endpoint));
    let endpoint = std::env::var("PRESCALE_TEST_AWS_ENDPOINT").unwrap();
    let proxy = stalling_proxy(&endpoint, &["BatchPutScheduledUpdateGroupAction", "PutScalingPolicy"]);
    let started = std::time::Instant::now();
    let (code, text, err) = nightly(&proxy);
    let took = started.elapsed();
    assert_eq!(code, 1, "{text}\n{err}");
    // Sent and not answered: it may have gone through, and the run says so (not "failed").
    // The first call is the first group's first policy (the fallback goes before the floors).
    assert!(text.contains("MAY HAVE BEEN MADE: PutScalingPolicy: no answer in time"), "{text}");
    assert!(text.contains("NO ANSWER, MAY HAVE BEEN MADE") && text.contains("the next dry run shows which"), "{text}");
    assert!(text.contains("NOT ATTEMPTED: every call fails alike since PutScalingPolicy: no answer in time"), "{text}");
    // Nothing reached the groups' schedules.
    assert!(aws.actions(first).is_empty() && aws.actions(second).is_empty());
    // Every change of the run is on record: intended, then failed, and none as applied past the
    // stall.
    let audit = t.audit(0);
    let outcome = |group: &str, o: &str| audit.iter().filter(|e| e["group"] == group && e["outcome"] == o).count();
    for group in [first, second] {
        let attempted = outcome(group, "attempting");
        assert!(attempted > 0, "{group}: {audit:?}");
        let ended = outcome(group, "applied") + outcome(group, "failed") + outcome(group, "unknown");
        assert_eq!(ended, attempted, "{group}: {audit:?}");
        let actions = audit.iter().filter(|e| {
            e["group"] == group
                && e["object"] == "scheduled_action"
                && matches!(e["outcome"].as_str(), Some("failed" | "unknown"))
        });
        assert!(actions.count() > 0, "{group}: {audit:?}");
    }
    // The first group's stalled policy is on record as unknown: sent, unanswered.
    assert!(outcome(first, "unknown") > 0, "{audit:?}");
    // The second group's changes were none of them tried: the service had stopped answering.
    let second_failed: Vec<&serde_json::Value> =
        audit.iter().filter(|e| e["group"] == second && e["outcome"] == "failed").collect();
    assert_eq!(second_failed.len(), outcome(second, "attempting"), "{audit:?}");
    assert!(second_failed.iter().all(|e| e["error"].as_str().unwrap_or("").starts_with("not attempted")), "{audit:?}");
    // A silent service passes by itself: every failure says so, and so does the run's closing error.
    assert!(
        audit
            .iter()
            .filter(|e| matches!(e["outcome"].as_str(), Some("failed" | "unknown")))
            .all(|e| e["transient"] == true),
        "{audit:?}"
    );
    assert!(err.contains("the next run converges"), "{err}");
    // One unanswered call of two seconds, not one per batch and policy of each group (a bound,
    // not a benchmark: the eight stalled calls of the two groups would wait 16 s).
    assert!(took < std::time::Duration::from_secs(12), "{took:?}");

    // The service answers again: the next run applies every change of both groups. (moto keeps
    // scheduled actions and policies by name per region, not per group, so the two groups' objects
    // of the same name are one there: the store's state is checked for the group written last,
    // and the audit for both.)
    let before = audit.len();
    let (code, text, err) = nightly(&endpoint);
    assert_eq!(code, 0, "{text}\n{err}");
    let audit = t.audit(before);
    for group in [first, second] {
        let count = |o: &str| audit.iter().filter(|e| e["group"] == group && e["outcome"] == o).count();
        assert!(count("attempting") > 0 && count("applied") == count("attempting"), "{group}: {audit:?}");
    }
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.out.join("plan.json")).unwrap()).unwrap();
    let planned = plan["groups"][1]["scheduled_actions"].as_array().unwrap().len();
    assert!(planned > 0);
    assert_eq!(aws.actions(second).len(), planned);
    assert_eq!(aws.policies(second).len(), 2);
}

#[test]
fn a_plan_that_would_pass_the_groups_action_limit_changes_nothing_and_says_why() {
    // Auto Scaling holds at most 125 scheduled actions per group, its owners' included; moto does
    // not enforce it, so this is prescale's own check, made before any write.
    let Some(t) = CsvGroup::new("sa-east-1", "itest-limit", "2027-05-03T12:00:00Z", true, "") else { return };
    let (aws, group) = (&t.aws, t.group);
    for k in 0..120 {
        aws.put_foreign_action(group, &format!("team-{k}"), t.now + Duration::days(3) + Duration::minutes(k), 2);
    }
    let (code, text, err) = t.run(&["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 1, "{text}\n{err}");
    let all = format!("{text}\n{err}");
    assert!(
        all.contains("and the 120 others already on the group make") && all.contains("over Auto Scaling's 125"),
        "{all}"
    );
    assert!(all.contains("set [plan] max_actions to at most 5"), "{all}");
    // On stderr too, with its hint: under --quiet that is all a cron job's mail has.
    assert!(
        err.contains("over Auto Scaling's 125 per group: nothing was changed on it (set [plan] max_actions"),
        "{err}"
    );
    assert!(!err.contains("service refused"), "prescale refused it, not the service: {err}");
    let ours =
        aws.actions(group).iter().filter(|a| a.scheduled_action_name().unwrap_or("").starts_with("prescale-")).count();
    assert_eq!(ours, 0, "nothing written");
    assert_eq!(aws.policies(group).len(), 0, "nor the policies: the group's changes are not started");
}

/// A loopback endpoint that answers every call with CloudWatch's `Throttling` error, as the Smithy
/// RPC v2 CBOR protocol carries it (the code in the body's `__type` and the query-compatible
/// header): a service busy through every retry.
fn throttling_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{BufRead, Read, Write};
                let mut reader = std::io::BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                // CBOR: {"__type": "Throttling", "message": "Rate exceeded"}
                let mut cbor = vec![0xa2, 0x66];
                cbor.extend_from_slice(b"__type");
                cbor.push(0x6a);
                cbor.extend_from_slice(b"Throttling");
                cbor.push(0x67);
                cbor.extend_from_slice(b"message");
                cbor.push(0x6d);
                cbor.extend_from_slice(b"Rate exceeded");
                let head = format!(
                    "HTTP/1.1 400 Bad Request\r\nsmithy-protocol: rpc-v2-cbor\r\nContent-Type: application/cbor\r\n\
                     x-amzn-query-error: Throttling;Sender\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    cbor.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&cbor);
            });
        }
    });
    format!("http://{addr}")
}

/// CloudWatch throttling through every retry: ingest fails with what it is (busy, passes by
/// itself, the attempts it had) and keeps the store as it was, not a hint to check credentials.
#[test]
fn cloudwatch_throttled_past_its_retries_is_said_to_pass_by_itself() {
    let Some(_aws) = aws() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), "itest-throttled", "[aws]\nmax_attempts = 2");
    let (code, text, err) = run(prescale()
        .arg("--config")
        .arg(&cfg)
        .env("AWS_ENDPOINT_URL", throttling_endpoint())
        .args(["--now", "2027-05-03T12:00:00Z", "ingest"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        err.contains("Throttling") && err.contains("CloudWatch was busy or failing through every attempt"),
        "{err}"
    );
    assert!(err.contains("2 attempts of") && err.contains("raise [aws] max_attempts"), "{err}");
    assert!(!err.contains("check credentials"), "{err}");
    // Said once, in words: not again as the SDK's error chain and its debug dump.
    assert!(!err.contains("unhandled error") && !err.contains("Error {"), "{err}");
}

#[test]
fn step_alarms_follow_how_often_the_groups_metric_is_published() {
    let Some(aws) = aws() else { return };
    let now = Utc::now().duration_trunc(Duration::minutes(5)).unwrap();
    let load: Vec<f64> = (0..2 * 288).map(|i| 3000.0 + 1000.0 * ((i % 288) as f64 / 288.0)).collect();
    // A group with its load, its CPU every 5 minutes until `hours` ago, then `recent` (batches of
    // datapoints every so many minutes over minutes of the last three hours); its nightly dry
    // run's step alarm (period, evaluation periods) and stderr.
    let nightly = |group: &str, hours: i64, recent: &[(i64, std::ops::Range<i64>)]| -> ((i64, i64), String) {
        aws.create_group(group, 1, 30);
        let lb = format!("app/{group}/0123456789abcdef");
        aws.put_metric("AWS/ApplicationELB", "RequestCount", ("LoadBalancer", &lb), now, &load);
        let dim = ("AutoScalingGroupName", group);
        let older: Vec<f64> = load[..load.len() - 36].iter().map(|l| l / 100.0).collect();
        aws.put_metric("AWS/EC2", "CPUUtilization", dim, now - Duration::hours(hours), &older);
        for (every, minutes) in recent {
            let values: Vec<f64> = minutes.clone().step_by(*every as usize).map(|m| 40.0 + (m % 7) as f64).collect();
            let end = now - Duration::minutes(180 - minutes.start - *every * values.len() as i64);
            aws.put_metric_every(*every, "AWS/EC2", "CPUUtilization", dim, end, &values);
        }
        let tmp = tempfile::tempdir().unwrap();
        let cfg = config(tmp.path(), group, "");
        let out = tmp.path().join("out");
        let (code, text, err) = run(&mut nightly_at(&cfg, &out, now));
        assert_eq!(code, 0, "{text}\n{err}");
        let plan: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
        let a = &plan["groups"][0]["alarms"][0];
        // The plan's decisions say it wherever the alarms are not at the configured 60 s.
        let said = plan["groups"][0]["decisions"].as_array().unwrap().iter().any(|d| {
            d["what"] == "step alarms every 300 s, not step.period_secs = 60 (out after 2 × 300 s)"
                && d["why"].as_str().is_some_and(|w| w.contains("AWS/EC2 CPUUtilization"))
        });
        assert_eq!(said, a["period_secs"] != 60, "{group}: {}", plan["groups"][0]["decisions"]);
        ((a["period_secs"].as_i64().unwrap(), a["evaluation_periods"].as_i64().unwrap()), err)
    };
    // Detailed monitoring: every minute for the last three hours but three: as configured.
    let (alarm, err) = nightly("itest-detailed", 3, &[(1, 0..80), (1, 83..180)]);
    assert_eq!(alarm, (60, 2));
    assert!(!err.contains("its step alarms are written every"), "{err}");
    // Two instances on basic monitoring reporting two minutes apart: datapoints 2 and 3 minutes
    // apart, two minutes in five filled: 5-minute periods.
    let (alarm, err) = nightly("itest-staggered", 3, &[(5, 0..180), (5, 2..180)]);
    assert_eq!(alarm, (300, 2));
    assert!(err.contains("itest-staggered: its step alarms are written every 300 s, not every 60 s"), "{err}");
    // Detailed monitoring turned on 70 minutes ago: 300 s until three hours of it are in, said so.
    let (alarm, err) = nightly("itest-turned-on", 3, &[(5, 0..110), (1, 110..180)]);
    assert_eq!(alarm, (300, 2));
    assert!(err.contains("CPUUtilization has come every minute for the last 70 minutes only"), "{err}");
    assert!(
        !err.contains(
            "itest-turned-on: its step alarms are written every 300 s, not every 60 s: AWS/EC2 \
                            CPUUtilization's datapoints filled"
        ),
        "{err}"
    );
    // A group whose CPU stopped a day ago (no instances): not known, written at 300 s, said why.
    let (alarm, err) = nightly("itest-quiet", 25, &[]);
    assert_eq!(alarm, (300, 2));
    assert!(
        err.contains(
            "itest-quiet: its step alarms are written every 300 s, not every 60 s: how often AWS/EC2 \
                      CPUUtilization is published could not be told (0 datapoints in the last 24 hours"
        ),
        "{err}"
    );
}

/// CloudWatch not answering the plan's read of the step alarms' metric: the alarms are written at
/// 300 s, the other groups' metric is not asked, and Auto Scaling's reads and writes go on.
#[test]
fn a_metric_read_that_is_not_answered_writes_the_step_alarms_at_five_minutes_and_the_run_goes_on() {
    let Some(t) = TwoGroups::new("eu-north-1", ["itest-cwstall-a", "itest-cwstall-b"], 1, 2) else { return };
    let [first, second] = t.names;
    let endpoint = std::env::var("PRESCALE_TEST_AWS_ENDPOINT").unwrap();
    let (code, text, err) = run(&mut t.nightly(&stalling_proxy(&endpoint, &["GetMetricData"])));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        err.contains(&format!(
            "{first}: its step alarms are written every 300 s, not every 60 s: how often AWS/EC2 CPUUtilization is \
             published could not be told (GetMetricData on group \"{first}\" failed"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("could not be told (not asked after {first}'s failed read)")), "{err}");
    assert!(!err.contains("cannot read its launches") && !err.contains("not asked: the service"), "{err}");
    let alarms = t.aws.alarms();
    for group in [first, second] {
        let out = alarms.iter().find(|a| a.0 == format!("prescale-{group}-step-out")).expect("alarm written");
        assert_eq!((out.3, out.5), (2, 300), "{out:?}");
    }
}

#[test]
fn groups_from_cloudwatch_and_from_files_share_one_store_and_a_cloudwatch_outage_costs_only_its_groups() {
    let Some(aws) = aws() else { return };
    let (cw_group, file_group) = ("itest-mixed-cw", "itest-mixed-files");
    let now = Utc::now().duration_trunc(Duration::minutes(5)).unwrap();
    let load: Vec<f64> = (0..2 * 288).map(|i| 2000.0 + 1000.0 * ((i % 288) as f64 / 288.0)).collect();
    let lb = format!("app/{cw_group}/0123456789abcdef");
    aws.put_metric("AWS/ApplicationELB", "RequestCount", ("LoadBalancer", &lb), now, &load);
    let cpu: Vec<f64> = load.iter().map(|l| l / 100.0).collect();
    aws.put_metric("AWS/EC2", "CPUUtilization", ("AutoScalingGroupName", cw_group), now, &cpu);
    let tmp = tempfile::tempdir().unwrap();
    // [ingest] source is CloudWatch; the second group is fed from an exported file.
    let cfg = config(tmp.path(), cw_group, "[aws]\nmax_attempts = 2");
    let csv = |end: DateTime<Utc>| {
        let mut text = String::from("ts,value\n");
        for k in (1..=2 * 288).rev() {
            let t = end - Duration::minutes(5 * k);
            text.push_str(&format!("{},{}\n", t.format("%Y-%m-%dT%H:%M:%SZ"), 800 + k % 7));
        }
        std::fs::write(tmp.path().join("files-requests.csv"), text).unwrap();
    };
    csv(now);
    let mut text = std::fs::read_to_string(&cfg).unwrap().replace("sink = \"autoscaling\"", "sink = \"local\"");
    text.push_str(&format!(
        "[[groups]]\nname = \"{file_group}\"\nsource = \"csv\"\nmin_size = 1\nmax_size = 10\nload_metric = \
         \"requests\"\ncapacity_per_instance = 500.0\n[[groups.metrics]]\nname = \"requests\"\nfile = \
         \"files-requests.csv\"\n"
    ));
    std::fs::write(&cfg, text).unwrap();
    let store = || prescale_store::MetricStore::open(tmp.path().join("store")).unwrap();
    let len = |g: &str| store().read(&prescale_core::MetricId::new(g, "requests")).unwrap().len();

    let (code, text, err) =
        run(prescale().arg("--config").arg(&cfg).args(["-v", "--now", &now.to_rfc3339(), "ingest"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(err.contains("ingesting 2 groups from cloudwatch") && err.contains(" and csv (1 files)"), "{err}");
    for id in [format!("{cw_group}/requests"), format!("{cw_group}/cpu"), format!("{file_group}/requests")] {
        assert!(text.contains(&id), "{id} not stored:\n{text}");
    }
    assert_eq!((len(cw_group), len(file_group)), (2 * 288, 2 * 288));
    // Each series' origin is stored with it: the file's path, CloudWatch's region.
    let origin = |g: &str| {
        let path = tmp.path().join(format!("store/metrics/v1/{g}/requests.parquet"));
        let file = std::fs::File::open(path).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        use parquet::file::reader::FileReader as _;
        let kv = reader.metadata().file_metadata().key_value_metadata().cloned().unwrap_or_default();
        kv.into_iter().find(|e| e.key == "prescale.source").and_then(|e| e.value).unwrap_or_default()
    };
    assert!(
        origin(file_group).starts_with("csv ") && origin(file_group).ends_with("files-requests.csv"),
        "{}",
        origin(file_group)
    );
    assert!(origin(cw_group).starts_with("cloudwatch"), "{}", origin(cw_group));

    // An hour later CloudWatch throttles every call: a manual ingest stores the file's new rows,
    // keeps the CloudWatch group's series as stored, and exits 1 naming them.
    let later = now + Duration::hours(1);
    csv(later);
    let (code, text, err) = run(prescale()
        .arg("--config")
        .arg(&cfg)
        .env("AWS_ENDPOINT_URL", throttling_endpoint())
        .args(["--now", &later.to_rfc3339(), "ingest"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        err.contains("ingest from cloudwatch us-east-1 failed: ") && err.contains("2 of 3 series could not be stored"),
        "{err}"
    );
    assert_eq!((len(cw_group), len(file_group)), (2 * 288, 2 * 288 + 12), "{err}");
    // So does the nightly job, which then plans both (the local stand-in: no AWS).
    let later = now + Duration::hours(2);
    csv(later);
    let (code, text, err) = run(prescale()
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .env("AWS_ENDPOINT_URL", throttling_endpoint())
        .args(["--now", &later.to_rfc3339(), "nightly", "--execute", "--quiet"]));
    assert!(
        err.contains("ingest from cloudwatch us-east-1 failed")
            && err.contains(
                "going on with what the store holds, if anything, for its 2 series: itest-mixed-cw/requests, \
                 itest-mixed-cw/cpu; the other groups' sources are read"
            ),
        "{text}\n{err}"
    );
    // The CloudWatch group's load was not stored: the run says so and exits 1 once all is done.
    assert_eq!(code, 1, "{text}\n{err}");
    let line = |g: &str| text.lines().find(|l| l.starts_with(&format!("{g}:"))).unwrap_or_default().to_string();
    assert!(line(cw_group).contains("its load not ingested this run: planned from what the store held"), "{text}");
    assert!(!line(file_group).contains("not ingested"), "{text}");
    assert!(
        err.contains(
            "1 series could not be stored (itest-mixed-cw/requests) (see the warnings above); the plan covers"
        ),
        "{err}"
    );
    assert_eq!((len(cw_group), len(file_group)), (2 * 288, 2 * 288 + 24), "{err}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out/plan.json")).unwrap()).unwrap();
    let planned: Vec<&str> = plan["groups"].as_array().unwrap().iter().filter_map(|g| g["group"].as_str()).collect();
    assert_eq!(planned, [cw_group, file_group], "{err}");
}
