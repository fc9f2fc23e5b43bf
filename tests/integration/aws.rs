//! Ingest from CloudWatch and apply to Auto Scaling through a real AWS-compatible server (moto on
//! loopback, started by `tests/run.sh`, which exports `PRESCALE_TEST_AWS_ENDPOINT`).

use std::path::Path;

use aws_sdk_autoscaling::types::ScheduledUpdateGroupAction;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::common::{ok, prescale, run};

struct Aws {
    rt: tokio::runtime::Runtime,
    asg: aws_sdk_autoscaling::Client,
    cw: aws_sdk_cloudwatch::Client,
}

/// Clients for the test server, or `None` (a skip) outside `tests/run.sh`; under `CI=true` a
/// missing server fails the test.
fn aws() -> Option<Aws> {
    let Ok(endpoint) = std::env::var("PRESCALE_TEST_AWS_ENDPOINT") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no moto server: run the tests with tests/run.sh"
        );
        eprintln!("skipping: PRESCALE_TEST_AWS_ENDPOINT is not set (run the tests with tests/run.sh)");
        return None;
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let creds = aws_sdk_autoscaling::config::Credentials::new("testing", "testing", None, None, "test");
    let config = rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .load(),
    );
    Some(Aws { asg: aws_sdk_autoscaling::Client::new(&config), cw: aws_sdk_cloudwatch::Client::new(&config), rt })
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
                    .availability_zones("us-east-1a")
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

    /// Puts `values` (one per 5 minutes, ending just before `end`) as a metric.
    fn put_metric(&self, namespace: &str, name: &str, dim: (&str, &str), end: DateTime<Utc>, values: &[f64]) {
        let start = end - Duration::minutes(5 * values.len() as i64);
        let data: Vec<MetricDatum> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let t = start + Duration::minutes(5 * i as i64);
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
    aws.put_metric(
        "AWS/ApplicationELB",
        "RequestCount",
        ("LoadBalancer", &format!("app/{group}/0123456789abcdef")),
        now,
        &load,
    );
    let cpu: Vec<f64> = load.iter().map(|l| 20.0 + l / 200.0).collect();
    aws.put_metric("AWS/EC2", "CPUUtilization", ("AutoScalingGroupName", group), now, &cpu);
    // Somebody else's scheduled action: prescale must never touch it.
    aws.rt
        .block_on(
            aws.asg
                .put_scheduled_update_group_action()
                .auto_scaling_group_name(group)
                .scheduled_action_name("team-batch-window")
                .start_time(aws_smithy_types::DateTime::from_secs((now + Duration::hours(3)).timestamp()))
                .min_size(2)
                .send(),
        )
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), group, "");
    let out = tmp.path().join("out");
    let nightly = |execute: bool| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg).arg("--out").arg(&out).arg("--now").arg(now.to_rfc3339()).arg("nightly");
        if execute {
            c.arg("--execute");
        }
        ok(&mut c)
    };

    // 1. Dry run: the diff is printed, the group is unchanged.
    let text = nightly(false);
    assert!(text.contains(&format!("{group}/requests")) && text.contains(&format!("{group}/cpu")), "{text}");
    assert!(text.contains("+ action prescale-floor-") && text.contains("+ policy prescale-target-tracking"), "{text}");
    assert_eq!(aws.actions(group).len(), 1);
    assert!(aws.policies(group).is_empty());
    // Both metrics landed in the store, on the grid, without gaps.
    let store = prescale_store::MetricStore::open(tmp.path().join("store")).unwrap();
    let req = store.read(&prescale_core::MetricId::new(group, "requests")).unwrap();
    assert_eq!(req.len(), 4 * 288);
    assert_eq!(req.missing(), 0);
    assert!((req.values()[100] - load[100]).abs() < 1e-6);

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
    assert_eq!(
        aws.policies(group),
        vec![("prescale-target-tracking".to_string(), "TargetTrackingScaling".to_string())]
    );

    // 3. Again: nothing to do.
    let text = nightly(true);
    assert!(text.contains("no changes: the group already matches the plan"), "{text}");
    assert_eq!(aws.actions(group).len(), actions.len());
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
    let (code, out, err) = run(prescale()
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .arg("--now")
        .arg(now.to_rfc3339())
        .args(["nightly", "--execute"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("not found"), "{out}");
    assert!(err.contains("failed"), "{err}");
}
