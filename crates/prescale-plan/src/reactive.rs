//! The reactive fallback: target tracking plus step scaling (aggressive out, conservative in),
//! with the instance warm-up taken from the group's measured boot time when there is one.

use std::collections::BTreeMap;

use prescale_core::{
    Launch, MetricAlarm, OWNED_PREFIX, PlanDecision, PolicyKind, ReactivePolicy, StepAdjustment, step_alarm_names,
};
use serde::{Deserialize, Serialize};

use crate::ReactiveSettings;

/// How a step changes the group's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepUnit {
    /// Percent of the group's current capacity (`PercentChangeInCapacity`), at least one instance.
    #[default]
    Percent,
    /// Instances (`ChangeInCapacity`).
    Instances,
}

impl StepUnit {
    /// Auto Scaling's `AdjustmentType` for the unit.
    pub fn adjustment_type(self) -> &'static str {
        match self {
            Self::Percent => "PercentChangeInCapacity",
            Self::Instances => "ChangeInCapacity",
        }
    }

    /// The `MinAdjustmentMagnitude` written with it: at least one instance for a percent change.
    pub fn min_adjustment_magnitude(self) -> Option<u32> {
        (self == Self::Percent).then_some(1)
    }
}

/// One scale-out step: from `above_pct` percent over the alarm threshold on, add `add`.
/// Percent of the threshold rather than metric units, so the same steps fit CPU percent and
/// requests per target alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutStep {
    /// The step applies from the metric this many percent above the threshold on (the first
    /// step starts at 0).
    pub above_pct: f64,
    /// Percent of the group or instances to add, by `out_unit`.
    pub add: u32,
}

/// The default scale-out threshold of step scaling, as a multiple of the target value. Above the
/// target, because target tracking sizes the group to sit just under the target: a step alarm at
/// the target itself fires on the first two noisy minutes after every scale-in of target tracking,
/// adds 20–50 %, which target tracking removes again 15 minutes later (the simulator counted 407
/// direction reversals in six days of a daily cycle against 282 without step scaling; at 1.2,
/// 287). Breaches smaller than 20 % are left to target tracking; a spike goes far beyond. On a
/// metric that cannot exceed a ceiling (CPU: 100 %, see [`metric_ceiling`]) the default is at most
/// halfway from the target to the ceiling, so that a high target (80: 90, not 96) still leaves the
/// steps room to fire before the metric saturates.
pub const OUT_ABOVE_TARGET: f64 = 1.2;

/// Where the default scale-out steps start, in percent above the scale-out threshold
/// ([`StepSettings::out_steps`]): finer near the threshold, where most breaches are.
pub const SIZED_ABOVE_PCT: [f64; 8] = [0.0, 10.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0];

/// The share of a metric's ceiling from which a reading is taken for saturation (the load may be
/// any amount above what it reads): CPU from 98 %.
pub const SATURATED: f64 = 0.98;

/// The step policy's default scale-in threshold, as a share of the target value: half. Removing
/// one of `n` instances raises the others' load by `n / (n − 1)`, twice for a group of two, so
/// below half the target every group of two or more stays below the target after the step
/// removes one, and target tracking has nothing to scale out again. At 60 % a group of two at
/// 35–42 % lost one instance, ran the other at 70–84 %, and target tracking added it back three
/// minutes later: a reversal every twenty minutes all night (`prescale simulate` on hourly
/// freeway traffic whose nights need one or two instances: 63 reversals against 15).
pub const IN_BELOW_TARGET: f64 = 0.5;

/// The predefined metrics of target tracking (`PredefinedMetricType`), the only ones the plan
/// writes it with.
pub const PREDEFINED_METRICS: [&str; 4] =
    ["ASGAverageCPUUtilization", "ASGAverageNetworkIn", "ASGAverageNetworkOut", "ALBRequestCountPerTarget"];

/// A threshold rounded to millionths, so that 1.2 × 70 reads 84 in alarms and diffs, not
/// 84.00000000000001.
pub fn millionths(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Whether a target-tracking metric is published every minute whatever the instances'
/// monitoring: a load balancer's requests per target are; EC2's CPU and network come every 5
/// minutes without detailed monitoring.
pub fn published_per_minute(metric: &str) -> bool {
    metric == "ALBRequestCountPerTarget"
}

/// The highest value a target-tracking metric can take: 100 for CPU percent, none for counts and
/// bytes.
pub fn metric_ceiling(metric: &str) -> Option<f64> {
    (metric == "ASGAverageCPUUtilization").then_some(100.0)
}

/// Step-scaling settings of a group (`[groups.reactive.step]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StepSettings {
    /// Write the step-scaling policies and their alarms (`false` keeps target tracking alone).
    pub enabled: bool,
    /// Period of the alarms' statistic in seconds (60 needs detailed monitoring; 300 otherwise).
    pub period_secs: u32,
    /// Scale-out alarm threshold in the metric's units; unset is [`OUT_ABOVE_TARGET`] × the
    /// target value.
    pub out_threshold: Option<f64>,
    /// Periods above the threshold before scaling out.
    pub out_evaluation_periods: u32,
    /// `percent` (of the group, at least one instance) or `instances`.
    pub out_unit: StepUnit,
    /// The scale-out steps, by how far the metric is above the threshold, in increasing
    /// `above_pct` from 0; unset: steps sized to the load each interval reads
    /// ([`StepSettings::out_steps`]).
    pub out_steps: Option<Vec<OutStep>>,
    /// Scale-in alarm threshold; unset is half the target value ([`IN_BELOW_TARGET`]).
    pub in_threshold: Option<f64>,
    /// Periods below the threshold before scaling in; raised to cover the warm-up when that is
    /// longer. While the metric stays below, Auto Scaling removes again each minute.
    pub in_evaluation_periods: u32,
    /// Removed per scale-in, by `in_unit`.
    pub in_remove: u32,
    /// `instances` (the default) or `percent` (of the group's capacity, at least one instance,
    /// rounded down otherwise, as Auto Scaling rounds a `PercentChangeInCapacity`).
    pub in_unit: StepUnit,
    /// Scale-in is the step policy's alone: target tracking only scales out (`DisableScaleIn`).
    /// Conservative in: fewer direction reversals (target tracking scales in after 15 minutes
    /// below 90 % of the target, the step policy only below `in_threshold`), at the price of
    /// capacity held longer. Off by default.
    pub owns_scale_in: bool,
}

impl Default for StepSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            period_secs: 60,
            out_threshold: None,
            out_evaluation_periods: 2,
            out_unit: StepUnit::Percent,
            out_steps: None,
            in_threshold: None,
            in_evaluation_periods: 15,
            in_remove: 1,
            in_unit: StepUnit::Instances,
            owns_scale_in: false,
        }
    }
}

impl StepSettings {
    /// Whether the step policy alone scales in (written, and `owns_scale_in`): target tracking
    /// then only scales out.
    pub fn scales_in_alone(&self) -> bool {
        self.enabled && self.owns_scale_in
    }

    /// Checks the settings; the message names the key and what it must be (the first of
    /// [`StepSettings::problems`]).
    ///
    /// # Errors
    /// A message when a value is out of range.
    pub fn validate(&self, metric: &str, resource_label: Option<&str>, target: f64) -> Result<(), String> {
        self.problems(metric, resource_label, target).into_iter().next().map_or(Ok(()), Err)
    }

    /// Every mistake in the settings, each message naming its key and what it must be; none is
    /// judged on a value already refused (the alarms' window on a refused period, the steps of a
    /// list that does not start at 0), and the two thresholds are one question, said once.
    pub fn problems(&self, metric: &str, resource_label: Option<&str>, target: f64) -> Vec<String> {
        let mut out = Vec::new();
        if !self.enabled {
            if self.owns_scale_in {
                out.push(
                    "step.owns_scale_in = true needs step.enabled = true: with target tracking's scale-in \
                     disabled and no step policy, nothing would scale the group in"
                        .into(),
                );
            }
            return out;
        }
        if alarm_metric("g", metric, resource_label).is_none_or(|(_, _, d, _)| d.values().any(String::is_empty)) {
            out.push(format!(
                "step scaling needs a CloudWatch metric to alarm on for metric {metric:?}; it knows {} (the last \
                 with a resource_label naming the target group)",
                PREDEFINED_METRICS.join(", ")
            ));
        }
        let period_ok = self.period_secs != 0 && self.period_secs.is_multiple_of(60);
        if !period_ok {
            out.push(format!(
                "step.period_secs = {} must be a multiple of 60: the metrics the alarms watch (EC2, ALB) are published \
                 per minute at best (60 with detailed monitoring, 300 with basic)",
                self.period_secs
            ));
        }
        if self.out_evaluation_periods == 0 || self.in_evaluation_periods == 0 {
            out.push("step.out_evaluation_periods and step.in_evaluation_periods must be at least 1".into());
        } else if period_ok {
            for (key, periods) in [
                ("out_evaluation_periods", self.out_evaluation_periods),
                ("in_evaluation_periods", self.in_evaluation_periods),
            ] {
                let longest = max_alarm_window_secs(self.period_secs);
                if u64::from(periods) * u64::from(self.period_secs) > longest {
                    out.push(format!(
                        "step.{key} = {periods} × period_secs = {} looks back further than CloudWatch lets an alarm \
                         with that period ({longest} s)",
                        self.period_secs
                    ));
                }
            }
        }
        match &self.out_steps {
            None if self.out_unit == StepUnit::Instances => out.push(
                "step.out_unit = \"instances\" needs step.out_steps: the default steps are percents of the \
                 group (e.g. out_steps = [{ above_pct = 0, add = 1 }, { above_pct = 20, add = 3 }])"
                    .into(),
            ),
            None => {}
            Some(steps) => {
                if steps.first().is_none_or(|s| s.above_pct != 0.0) {
                    out.push("step.out_steps must start with a step at above_pct = 0 (the alarm threshold)".into());
                } else if steps.iter().any(|s| !s.above_pct.is_finite())
                    || steps.windows(2).any(|w| w[1].above_pct <= w[0].above_pct)
                    || steps.iter().any(|s| s.add == 0)
                {
                    out.push(
                        "step.out_steps need strictly increasing `above_pct` values and `add` of at least 1".into(),
                    );
                }
            }
        }
        if self.in_remove == 0 {
            out.push("step.in_remove must be at least 1 (instances or percent removed per scale-in)".into());
        } else if self.in_unit == StepUnit::Percent && self.in_remove > 100 {
            out.push(format!(
                "step.in_remove = {} with in_unit = \"percent\" would remove more than the group; use at most 100",
                self.in_remove
            ));
        }
        if let Some(p) = self.threshold_problem(metric, target) {
            out.push(p);
        }
        out
    }

    /// What is wrong with the two thresholds at `target`, the first thing found: they are judged
    /// against each other, so one mistake would read as several.
    fn threshold_problem(&self, metric: &str, target: f64) -> Option<String> {
        let (out, inn) = self.thresholds(target, metric_ceiling(metric));
        if !(out.is_finite() && inn.is_finite() && inn >= 0.0 && inn < out) {
            return Some(format!(
                "step.in_threshold: the scale-in threshold ({inn}) must lie below the scale-out threshold ({out}), \
                 or the two alarms would fight"
            ));
        }
        if inn >= target {
            return Some(format!(
                "step.in_threshold: the scale-in threshold ({inn}) must lie below the target ({target}): above it \
                 target tracking scales out while the step policy scales in"
            ));
        }
        if inn <= 0.0 {
            return Some(format!(
                "step.in_threshold = {inn}: the metric never falls below it, so the step policy would never scale in{}; \
                 give a value above 0 (the default is half the target, {})",
                if self.owns_scale_in { ", and with owns_scale_in nothing else does" } else { "" },
                target * IN_BELOW_TARGET
            ));
        }
        if out <= target {
            return Some(format!(
                "step.out_threshold = {out} must lie above the target ({target}): at or below it the alarm fires while \
                 target tracking holds the group at its target, and every step it adds is scaled in again (the \
                 default is 20 % above the target)"
            ));
        }
        if let Some(c) = metric_ceiling(metric)
            && out > c
        {
            return Some(format!(
                "step.out_threshold = {out} is above what {metric} can reach ({c}): the alarm would never fire; give \
                 a value between the target ({target}) and {c}"
            ));
        }
        None
    }

    /// Periods the scale-in alarm waits: `in_evaluation_periods`, raised to cover a warm-up of
    /// `warmup_secs` (how long the load stays low before the first removal).
    pub fn in_periods(&self, warmup_secs: u32) -> u32 {
        let period = self.period_secs.max(1);
        let longest = u32::try_from(max_alarm_window_secs(period) / u64::from(period)).unwrap_or(u32::MAX).max(1);
        self.in_evaluation_periods.max(warmup_secs.div_ceil(period).min(longest))
    }

    /// The same settings with the alarms' period `period_secs`, their evaluation periods kept
    /// (as `step.period_secs` set to it would) within the longest window CloudWatch allows.
    pub fn at_period(&self, period_secs: u32) -> Self {
        let period = period_secs.max(1);
        let longest = u32::try_from(max_alarm_window_secs(period) / u64::from(period)).unwrap_or(u32::MAX).max(1);
        Self {
            period_secs: period,
            out_evaluation_periods: self.out_evaluation_periods.min(longest),
            in_evaluation_periods: self.in_evaluation_periods.min(longest),
            ..self.clone()
        }
    }

    /// Minutes the scale-in alarm's window lasts with a warm-up of `warmup_secs` (see
    /// [`StepSettings::in_periods`]), at least one.
    pub fn in_window_mins(&self, warmup_secs: u32) -> u64 {
        (u64::from(self.in_periods(warmup_secs)) * u64::from(self.period_secs.max(1))).div_ceil(60).max(1)
    }

    /// The scale-out steps for a target-tracking `target` value on a metric bounded by `ceiling`:
    /// the configured ones, else steps sized to the load: from each of [`SIZED_ABOVE_PCT`] above
    /// the threshold, the percent that brings the group back to the target at that interval's
    /// lowest reading (what target tracking would set, a period sooner; 20 % at the default
    /// threshold, 32 % from 10 % above it, …; at least 10 %). On a metric with a ceiling (CPU's
    /// 100 %), from [`SATURATED`] of the ceiling the reading no longer says how much more load
    /// there is: from there the step at least doubles the group (+100 %, or the sized step where
    /// that is more, for a low threshold), and the sized steps above stop.
    pub fn out_steps(&self, target: f64, ceiling: Option<f64>) -> Vec<OutStep> {
        if let Some(steps) = &self.out_steps {
            return steps.clone();
        }
        let (out, _) = self.thresholds(target, ceiling);
        let ratio = if target > 0.0 { out / target } else { 1.0 };
        let sized = |above: f64| (100.0 * (ratio * (1.0 + above / 100.0) - 1.0) - 1e-9).ceil().clamp(10.0, 1e6) as u32;
        // Percent above the threshold from which the metric reads saturation, to millionths: the
        // step's bound is then 98 % itself (a tenth of a percent would put it at 97.992 or 98.028).
        let saturated = ceiling.filter(|_| out > 0.0).map(|c| millionths(100.0 * (SATURATED * c / out - 1.0)));
        if saturated.is_some_and(|s| s <= 0.0) {
            return vec![OutStep { above_pct: 0.0, add: 100 }];
        }
        let mut steps: Vec<OutStep> = SIZED_ABOVE_PCT
            .iter()
            .filter(|a| saturated.is_none_or(|s| **a < s))
            .map(|a| OutStep { above_pct: *a, add: sized(*a) })
            .collect();
        if let Some(s) = saturated {
            steps.push(OutStep { above_pct: s, add: sized(s).max(100) });
        }
        steps
    }

    /// The (scale-out, scale-in) alarm thresholds for a target-tracking `target` value on a
    /// metric bounded by `ceiling`: the configured ones, else [`OUT_ABOVE_TARGET`] × the target
    /// (at most halfway to the ceiling: at the ceiling for a target there, which 20 % above could
    /// never reach) and [`IN_BELOW_TARGET`] × the target.
    pub fn thresholds(&self, target: f64, ceiling: Option<f64>) -> (f64, f64) {
        let out = match ceiling {
            Some(c) if c >= target => (OUT_ABOVE_TARGET * target).min((target + c) / 2.0),
            _ => OUT_ABOVE_TARGET * target,
        };
        (
            self.out_threshold.unwrap_or_else(|| millionths(out)),
            self.in_threshold.unwrap_or_else(|| millionths(IN_BELOW_TARGET * target)),
        )
    }
}

/// The instance warm-up the policies use, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Warmup {
    /// Seconds.
    pub secs: u32,
    /// Where the value comes from, for the plan's decision.
    pub why: String,
}

/// Launches needed before the measured boot time replaces the configured one.
pub const MIN_LAUNCHES: usize = 3;
/// At most this many of the most recent launches are measured.
pub const MAX_LAUNCHES: usize = 20;

/// The warm-up from a group's recent launches: the 90th percentile (nearest rank) of the boot
/// times of its latest [`MAX_LAUNCHES`] launches, when there are at least [`MIN_LAUNCHES`];
/// otherwise the configured `warmup_secs`. The P90 rather than the mean: a policy that counts an
/// instance before it serves scales too little, so the slow launches matter, while one outlier
/// among twenty does not move it.
pub fn measured_warmup(launches: &[Launch], configured: u32) -> Warmup {
    let mut secs: Vec<i64> =
        launches.iter().take(MAX_LAUNCHES).map(|l| (l.end - l.start).num_seconds()).filter(|s| *s >= 0).collect();
    if secs.len() < MIN_LAUNCHES {
        let seen = match secs.len() {
            0 => "no launches seen".to_string(),
            n => format!("only {n} launches seen, {MIN_LAUNCHES} needed to measure"),
        };
        return Warmup { secs: configured, why: format!("configured warmup_secs, {seen}") };
    }
    secs.sort_unstable();
    // Nearest rank: the smallest value with at least 90 % of the launches at or below it.
    let rank = (secs.len() * 9).div_ceil(10).max(1);
    let p90 = secs[rank - 1];
    Warmup {
        secs: u32::try_from(p90).unwrap_or(u32::MAX),
        why: format!("P90 boot time of the group's last {} launches", secs.len()),
    }
}

/// The CloudWatch metric (namespace, name, dimensions, statistic) behind a predefined
/// target-tracking metric, for the step policies' alarms.
fn alarm_metric(
    group: &str,
    metric: &str,
    resource_label: Option<&str>,
) -> Option<(&'static str, &'static str, BTreeMap<String, String>, &'static str)> {
    let asg = || BTreeMap::from([("AutoScalingGroupName".to_string(), group.to_string())]);
    match metric {
        "ASGAverageCPUUtilization" => Some(("AWS/EC2", "CPUUtilization", asg(), "Average")),
        "ASGAverageNetworkIn" => Some(("AWS/EC2", "NetworkIn", asg(), "Average")),
        "ASGAverageNetworkOut" => Some(("AWS/EC2", "NetworkOut", asg(), "Average")),
        // The label is app/<lb>/<id>/targetgroup/<tg>/<id>; the metric's dimension is the part
        // from `targetgroup/` on.
        "ALBRequestCountPerTarget" => {
            let tg = resource_label.and_then(|l| l.find("targetgroup/").map(|i| l[i..].to_string()))?;
            Some(("AWS/ApplicationELB", "RequestCountPerTarget", BTreeMap::from([("TargetGroup".into(), tg)]), "Sum"))
        }
        _ => None,
    }
}

/// The scale-out alarm the plan writes for `r` as configured (before any measurement), for a
/// caller to ask how often its metric is published ([`prescale_core::ActionSink::published_every`]);
/// `None` without step scaling, and for a metric published every minute whatever the instances'
/// monitoring ([`published_per_minute`]): nothing to ask.
pub fn step_alarm_to_check(group: &str, r: &ReactiveSettings) -> Option<MetricAlarm> {
    if published_per_minute(&r.metric) {
        return None;
    }
    let warmup = Warmup { secs: r.warmup_secs, why: String::new() };
    let unmeasured = ReactiveSettings { published: None, ..r.clone() };
    reactive(group, &unmeasured, &warmup).1.into_iter().next()
}

/// The policies and alarms a plan writes for `r` as configured (its configured warm-up, the
/// configured alarm period), for a caller to check a plan from elsewhere against: what the
/// measurements change (warm-ups, an alarm's period and the thresholds summed over it) aside,
/// the plan's must be these.
pub fn reactive_as_configured(group: &str, r: &ReactiveSettings) -> (Vec<ReactivePolicy>, Vec<MetricAlarm>) {
    let warmup = Warmup { secs: r.warmup_secs, why: String::new() };
    let unmeasured = ReactiveSettings { published: None, measured: None, ..r.clone() };
    let (policies, alarms, _) = reactive(group, &unmeasured, &warmup);
    (policies, alarms)
}

/// The period the step alarms are written at where their metric holds a datapoint only in longer
/// periods than `step.period_secs` ([`ReactiveSettings::published`]), in whole minutes; `None`
/// where the configured period stands.
pub fn published_period(r: &ReactiveSettings) -> Option<u32> {
    let published = r.published.as_ref().filter(|_| r.step.enabled && !published_per_minute(&r.metric))?;
    let p = published.secs.div_ceil(60).saturating_mul(60);
    (p > r.step.period_secs).then_some(p)
}

/// The period the step alarms' metric holds a datapoint in, and how that was found, for the
/// plan's decision ([`ReactiveSettings::published`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPeriod {
    /// Seconds: 60 for a metric published every minute, 300 for one every 5 minutes, or one not
    /// known.
    pub secs: u32,
    /// Why, with what keeps the alarms per minute.
    pub why: String,
}

impl MetricPeriod {
    /// `alarm`'s metric measured to fill periods of `published` seconds.
    pub fn measured(alarm: &MetricAlarm, published: u32) -> Self {
        let ec2 = alarm.namespace == "AWS/EC2";
        let why = format!(
            "{} {}'s datapoints filled only {published}-s periods in the last day{}: {}-s alarms would find most of \
             their periods empty, and the scale-out alarm, which counts an empty period as not breaching, could not \
             breach {} periods running; {}, or set [groups.reactive.step] period_secs = {published} to keep these \
             alarms (and no longer be told)",
            alarm.namespace,
            alarm.metric_name,
            if ec2 && published >= 300 { " (basic monitoring)" } else { "" },
            alarm.period_secs,
            alarm.evaluation_periods,
            per_minute_remedy(ec2)
        );
        Self { secs: published, why }
    }

    /// `alarm`'s metric published every minute for the newest `minutes` only, every 5 minutes
    /// before (detailed monitoring just turned on): 300 s until three hours of it are in.
    pub fn starting(alarm: &MetricAlarm, minutes: u32) -> Self {
        let why = format!(
            "{} {} has come every minute for the last {minutes} minutes only, every 5 minutes before (detailed \
             monitoring turned on?): the alarms stay at 300 s until three hours of per-minute datapoints are in, and \
             the next plan after that writes them every {} s; nothing to do",
            alarm.namespace, alarm.metric_name, alarm.period_secs
        );
        Self { secs: 300, why }
    }

    /// `alarm`'s metric not measured (`reason`): 300 s, which a datapoint every 5 minutes fills
    /// whatever the monitoring. A 300-s alarm on a metric published every minute is slower; a
    /// 60-s one on basic monitoring would never scale out.
    pub fn unknown(alarm: &MetricAlarm, reason: &str) -> Self {
        let why = format!(
            "how often {} {} is published could not be told ({reason}): 300-s periods hold a datapoint whatever the \
             monitoring, while {}-s alarms on basic monitoring's 5-minute datapoints would not scale out; the next \
             plan that reads the metric every minute writes them every {} s",
            alarm.namespace, alarm.metric_name, alarm.period_secs, alarm.period_secs
        );
        Self { secs: 300, why }
    }
}

/// How to get a metric every minute.
fn per_minute_remedy(ec2: bool) -> &'static str {
    if ec2 {
        "enable detailed monitoring for alarms every minute (instance monitoring in the launch template or launch \
         configuration, for new instances; `aws ec2 monitor-instances`, or an instance refresh, for those running)"
    } else {
        "publish the metric every minute for alarms every minute"
    }
}

/// The longest window a CloudWatch alarm may evaluate (`EvaluationPeriods × Period`) with a
/// period of `period_secs`: a day for periods under an hour, seven days for longer ones.
pub fn max_alarm_window_secs(period_secs: u32) -> u64 {
    if period_secs >= 3600 { 7 * 86_400 } else { 86_400 }
}

/// Name of the scale-out step policy (policies are per group in Auto Scaling).
pub const STEP_OUT_POLICY: &str = "prescale-step-out";
/// Name of the scale-in step policy.
pub const STEP_IN_POLICY: &str = "prescale-step-in";

/// The reactive policies and alarms for a group, with the decisions that explain them.
pub(crate) fn reactive(
    group: &str,
    r: &ReactiveSettings,
    warmup: &Warmup,
) -> (Vec<ReactivePolicy>, Vec<MetricAlarm>, Vec<PlanDecision>) {
    let w = warmup.secs;
    let mut decisions = vec![
        PlanDecision::note(
            format!("reactive fallback: target tracking on {} at {}", r.metric, r.target_value),
            format!("covers load the forecast did not see; instance warm-up {w} s"),
        ),
        PlanDecision::note(format!("warm-up {w} s"), warmup.why.clone()),
    ];
    let mut policies = vec![ReactivePolicy {
        name: format!("{OWNED_PREFIX}target-tracking"),
        kind: PolicyKind::TargetTracking {
            metric: r.metric.clone(),
            resource_label: r.resource_label.clone(),
            target_value: r.target_value,
            estimated_instance_warmup_secs: Some(w),
            disable_scale_in: r.step.scales_in_alone(),
        },
    }];
    let s = &r.step;
    if s.scales_in_alone() {
        decisions.push(PlanDecision::note(
            "target tracking scales out only (DisableScaleIn); the step policy scales in",
            "step.owns_scale_in = true: conservative in, fewer reversals for capacity held longer",
        ));
    }
    if !s.enabled {
        decisions.push(PlanDecision::note("no step scaling", "step.enabled = false: target tracking alone reacts"));
        return (policies, Vec::new(), decisions);
    }
    let Some((namespace, metric_name, dimensions, statistic)) =
        alarm_metric(group, &r.metric, r.resource_label.as_deref())
    else {
        decisions.push(PlanDecision::note(
            "no step scaling",
            format!("no CloudWatch metric is known for {}; target tracking alone reacts", r.metric),
        ));
        return (policies, Vec::new(), decisions);
    };
    // Alarms of shorter periods than the metric fills find most of them empty: the scale-out
    // alarm, which counts an empty period as not breaching, would never hold for two.
    let raised = published_period(r).map(|p| s.at_period(p));
    if let (Some(at), Some(published)) = (&raised, &r.published) {
        decisions.push(PlanDecision::note(
            format!(
                "step alarms every {} s, not step.period_secs = {} (out after {} × {} s)",
                at.period_secs, s.period_secs, at.out_evaluation_periods, at.period_secs
            ),
            published.why.clone(),
        ));
    }
    let s = raised.as_ref().unwrap_or(s);
    // A Sum alarm (ALB requests per target) counts over its period, while target tracking's
    // target for that metric is per minute: over a 5-minute period the thresholds are five times
    // the per-minute ones, or scale-out would fire at a fifth of the target.
    let per_period = if statistic == "Sum" { f64::from(s.period_secs.max(1)) / 60.0 } else { 1.0 };
    let (out_threshold, in_threshold) = {
        let (o, i) = s.thresholds(r.target_value, metric_ceiling(&r.metric));
        (o * per_period, i * per_period)
    };
    if per_period != 1.0 {
        decisions.push(PlanDecision::note(
            format!("step alarms' thresholds × {per_period} for {}-s periods", s.period_secs),
            format!("{metric_name} is summed over each alarm period; the target value is per minute"),
        ));
    }
    let out_steps = s.out_steps(r.target_value, metric_ceiling(&r.metric));
    let steps: Vec<StepAdjustment> = out_steps
        .iter()
        .enumerate()
        .map(|(i, st)| StepAdjustment {
            lower: Some(millionths(out_threshold * st.above_pct / 100.0)),
            upper: out_steps.get(i + 1).map(|n| millionths(out_threshold * n.above_pct / 100.0)),
            adjustment: i32::try_from(st.add).unwrap_or(i32::MAX),
        })
        .collect();
    policies.push(ReactivePolicy {
        name: STEP_OUT_POLICY.into(),
        kind: PolicyKind::StepScaling {
            adjustment_type: s.out_unit.adjustment_type().into(),
            steps,
            min_adjustment_magnitude: s.out_unit.min_adjustment_magnitude(),
            estimated_instance_warmup_secs: Some(w),
        },
    });
    let in_percent = s.in_unit == StepUnit::Percent;
    // Beside target tracking's own scale-in, a step policy in would hold the group up: both
    // alarms hold after a peak, Auto Scaling takes the policy that leaves the larger capacity,
    // and CloudWatch invokes the step one each minute, so the group would come down one step a
    // minute instead of to what the load needs. Written only where it alone scales in.
    let step_in = s.scales_in_alone();
    if step_in {
        policies.push(ReactivePolicy {
            name: STEP_IN_POLICY.into(),
            kind: PolicyKind::StepScaling {
                adjustment_type: s.in_unit.adjustment_type().into(),
                steps: vec![StepAdjustment {
                    lower: None,
                    upper: Some(0.0),
                    adjustment: -i32::try_from(s.in_remove).unwrap_or(i32::MAX),
                }],
                min_adjustment_magnitude: s.in_unit.min_adjustment_magnitude(),
                estimated_instance_warmup_secs: None,
            },
        });
    }
    // Step policies take no cooldown: the metric must stay low for the scale-in alarm's window,
    // at least the warm-up, before the first removal, so instances launched by a scale-out serve
    // (and lower the metric) before a scale-in is judged; while it stays low, CloudWatch invokes
    // the policy again each minute (and Auto Scaling blocks scale-in while instances warm up).
    let period = s.period_secs.max(1);
    let in_periods = s.in_periods(w);
    let [out_name, in_name] = step_alarm_names(group);
    // A period without data: never a reason to scale out; for a count (`Sum`, `SampleCount`:
    // a load balancer publishes no point for a minute without requests) a low one, so the
    // scale-in alarm counts it as breaching; for an average (CPU) it tells nothing and is skipped.
    let counted = matches!(statistic, "Sum" | "SampleCount");
    let alarm = |name: String, periods: u32, threshold: f64, comparison: &str, policy: &str| MetricAlarm {
        name,
        namespace: namespace.into(),
        metric_name: metric_name.into(),
        dimensions: dimensions.clone(),
        statistic: statistic.into(),
        period_secs: period,
        evaluation_periods: periods,
        threshold,
        comparison: comparison.into(),
        policy: policy.into(),
        treat_missing_data: match (policy, counted) {
            (STEP_IN_POLICY, true) => "breaching",
            (STEP_IN_POLICY, false) => "missing",
            _ => "notBreaching",
        }
        .into(),
        actions_enabled: true,
        other_actions: Vec::new(),
    };
    let mut alarms = vec![alarm(
        out_name,
        s.out_evaluation_periods,
        out_threshold,
        "GreaterThanOrEqualToThreshold",
        STEP_OUT_POLICY,
    )];
    if step_in {
        alarms.push(alarm(in_name, in_periods, in_threshold, "LessThanThreshold", STEP_IN_POLICY));
    }
    let unit = if s.out_unit == StepUnit::Percent { " %" } else { "" };
    // Percents to a tenth, as people read them (the policy's bounds are exact).
    let out_steps: Vec<String> = out_steps
        .iter()
        .map(|st| format!("+{}{unit} from {} % above", st.add, (st.above_pct * 10.0).round() / 10.0))
        .collect();
    decisions.push(PlanDecision::note(
        format!(
            "step scaling out: {metric_name} {statistic} >= {out_threshold} for {} × {period} s: {}",
            s.out_evaluation_periods,
            out_steps.join(", ")
        ),
        "aggressive out: scales by the size of the breach, faster than target tracking, for load the forecast \
              missed",
    ));
    if !step_in {
        decisions.push(PlanDecision::note(
            "no step scaling in: target tracking scales in",
            "a step policy in beside it would keep the group up after a peak (Auto Scaling takes the policy that \
             leaves the larger capacity, and the step one acts each minute its alarm holds); step.owns_scale_in = \
             true gives scale-in to the step policy alone",
        ));
        return (policies, alarms, decisions);
    }
    decisions.push(PlanDecision::note(
        format!(
            "step scaling in: {metric_name} {statistic} < {in_threshold} for {in_periods} × {period} s: -{}{}",
            s.in_remove,
            match (in_percent, s.in_remove) {
                (true, _) => " % (at least 1 instance)",
                (false, 1) => " instance",
                (false, _) => " instances",
            }
        ),
        if in_periods > s.in_evaluation_periods {
            format!(
                "conservative in; the window is raised from {} periods to cover the {w} s warm-up (the load stays \
                 low that long before the first removal)",
                s.in_evaluation_periods
            )
        } else {
            format!("conservative in; the window covers the {w} s warm-up (the load stays low that long before the first removal)")
        },
    ));
    (policies, alarms, decisions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn launches(secs: &[i64]) -> Vec<Launch> {
        let t = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        secs.iter()
            .enumerate()
            .map(|(i, s)| {
                let start = t + Duration::hours(i as i64);
                Launch { start, end: start + Duration::seconds(*s) }
            })
            .collect()
    }

    #[test]
    fn warmup_is_the_p90_of_recent_launches_or_the_configured_value() {
        let w = measured_warmup(&[], 300);
        assert_eq!((w.secs, w.why.as_str()), (300, "configured warmup_secs, no launches seen"));
        let w = measured_warmup(&launches(&[100, 200]), 300);
        assert_eq!(w.secs, 300);
        assert!(w.why.contains("only 2 launches seen"), "{}", w.why);
        // Ten launches: the 9th smallest is the P90; the one slow outlier does not set it.
        let w = measured_warmup(&launches(&[90, 100, 110, 120, 130, 140, 150, 160, 170, 900]), 300);
        assert_eq!(w.secs, 170);
        assert_eq!(w.why, "P90 boot time of the group's last 10 launches");
        // Only the newest 20 count.
        let mut secs = vec![60; 20];
        secs.extend([1000; 30]);
        assert_eq!(measured_warmup(&launches(&secs), 300).secs, 60);
        // Three launches are enough: the P90 is the largest.
        assert_eq!(measured_warmup(&launches(&[200, 240, 220]), 300).secs, 240);
    }

    #[test]
    fn step_alarms_are_written_at_the_period_their_metric_is_published() {
        let w = Warmup { secs: 300, why: "test".into() };
        let owning = StepSettings { owns_scale_in: true, ..StepSettings::default() };
        let r = ReactiveSettings { step: owning, ..ReactiveSettings::default() };
        let asked = step_alarm_to_check("web", &r).expect("an alarm on the group's CPU");
        assert_eq!((asked.metric_name.as_str(), asked.period_secs), ("CPUUtilization", 60));
        // Basic monitoring: the alarms at 300 s, their periods' counts kept (as period_secs = 300).
        let basic = ReactiveSettings { published: Some(MetricPeriod::measured(&asked, 300)), ..r.clone() };
        assert_eq!(published_period(&basic), Some(300));
        let (_, alarms, decisions) = reactive("web", &basic, &w);
        let periods: Vec<(u32, u32)> = alarms.iter().map(|a| (a.period_secs, a.evaluation_periods)).collect();
        assert_eq!(periods, [(300, 2), (300, 15)]);
        let said = "step alarms every 300 s, not step.period_secs = 60 (out after 2 × 300 s)";
        let d = decisions.iter().find(|d| d.what == said).expect("said");
        assert!(
            d.why.contains("(basic monitoring)") && d.why.contains("could not breach 2 periods running"),
            "{}",
            d.why
        );
        assert!(
            d.why.contains("aws ec2 monitor-instances") && d.why.contains("period_secs = 300 to keep"),
            "{}",
            d.why
        );
        let starting = MetricPeriod::starting(&asked, 70);
        assert!(starting.secs == 300 && starting.why.contains("last 70 minutes only"), "{}", starting.why);
        let configured = StepSettings { period_secs: 300, ..r.step.clone() };
        let (_, same, _) = reactive("web", &ReactiveSettings { step: configured, ..r.clone() }, &w);
        assert_eq!(alarms, same, "the same alarms as step.period_secs = 300");
        // Not known (a failed read, no instances): 300 s, which any monitoring fills, said why.
        let unknown = ReactiveSettings { published: Some(MetricPeriod::unknown(&asked, "AccessDenied")), ..r.clone() };
        let (_, alarms, decisions) = reactive("web", &unknown, &w);
        assert!(alarms.iter().all(|a| a.period_secs == 300), "{alarms:?}");
        assert!(decisions.iter().any(|d| d.what == said && d.why.contains("(AccessDenied)")), "{decisions:?}");
        // Per minute, or not asked: as configured, said nothing; 90 s rounds up to whole minutes.
        for published in [None, Some(MetricPeriod::measured(&asked, 60))] {
            let r = ReactiveSettings { published, ..r.clone() };
            assert_eq!(published_period(&r), None);
            let (_, alarms, decisions) = reactive("web", &r, &w);
            assert!(alarms.iter().all(|a| a.period_secs == 60));
            assert!(!decisions.iter().any(|d| d.what.starts_with("step alarms every")), "{decisions:?}");
        }
        let odd = ReactiveSettings { published: Some(MetricPeriod::measured(&asked, 90)), ..r.clone() };
        assert_eq!(published_period(&odd), Some(120));
        // Configured longer than published: kept.
        let long = StepSettings { period_secs: 600, ..r.step.clone() };
        assert_eq!(published_period(&ReactiveSettings { step: long, ..basic.clone() }), None);
        // A load balancer's requests per target are per minute whatever the monitoring; no step
        // policy, nothing to ask.
        let alb = ReactiveSettings {
            metric: "ALBRequestCountPerTarget".into(),
            resource_label: Some("app/lb/123/targetgroup/tg/456".into()),
            ..basic.clone()
        };
        assert!(step_alarm_to_check("web", &alb).is_none() && published_period(&alb).is_none());
        let off = ReactiveSettings { step: StepSettings { enabled: false, ..r.step.clone() }, ..r.clone() };
        assert!(step_alarm_to_check("web", &off).is_none());
        // The evaluation periods kept within CloudWatch's day.
        let long_in = StepSettings { in_evaluation_periods: 1000, ..StepSettings::default() };
        assert_eq!(long_in.at_period(300).in_evaluation_periods, 288);
        let custom = MetricAlarm { namespace: "Custom/App".into(), ..asked.clone() };
        assert!(MetricPeriod::measured(&custom, 120).why.contains("publish the metric every minute"));
    }

    #[test]
    fn step_policies_and_alarms_follow_the_settings() {
        let w = Warmup { secs: 1200, why: "test".into() };
        // By default target tracking scales in, and no step policy in beside it (it would keep
        // the group up, one step a minute, as Auto Scaling takes the larger capacity).
        let (policies, alarms, decisions) = reactive("web", &ReactiveSettings::default(), &w);
        assert_eq!((policies.len(), alarms.len()), (2, 1));
        assert!(decisions.iter().any(|d| d.what == "no step scaling in: target tracking scales in"), "{decisions:?}");
        // With the step policy owning scale-in, both of its policies and alarms.
        let owning = StepSettings { owns_scale_in: true, ..StepSettings::default() };
        let r = ReactiveSettings { step: owning.clone(), ..ReactiveSettings::default() };
        let (policies, alarms, decisions) = reactive("web", &r, &w);
        assert_eq!(policies.len(), 3);
        assert_eq!(alarms.len(), 2);
        let out = &alarms[0];
        assert_eq!(out.name, "prescale-web-step-out");
        assert_eq!((out.namespace.as_str(), out.metric_name.as_str()), ("AWS/EC2", "CPUUtilization"));
        assert_eq!(out.dimensions.get("AutoScalingGroupName").map(String::as_str), Some("web"));
        assert_eq!((out.threshold, out.evaluation_periods, out.policy.as_str()), (84.0, 2, STEP_OUT_POLICY));
        // The scale-in window covers the 1,200 s warm-up: 20 periods of 60 s, not the configured 15.
        let inn = &alarms[1];
        assert_eq!((inn.threshold, inn.evaluation_periods, inn.comparison.as_str()), (35.0, 20, "LessThanThreshold"));
        // No CPU data tells nothing: neither alarm acts on it.
        assert_eq!((out.treat_missing_data.as_str(), inn.treat_missing_data.as_str()), ("notBreaching", "missing"));
        let PolicyKind::StepScaling { steps, adjustment_type, estimated_instance_warmup_secs, .. } = &policies[1].kind
        else {
            panic!("{:?}", policies[1])
        };
        assert_eq!(adjustment_type, "PercentChangeInCapacity");
        assert_eq!(*estimated_instance_warmup_secs, Some(1200));
        assert_eq!(steps.len(), 3, "{steps:?}");
        // Sized to the load from 0 and 10 % above the threshold of 84 (1.2 × 70), and the group
        // doubled from 98 % CPU (16.67 % above it): breaches from 0, 8.4 and 14 points.
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
        assert!(close(steps[0].lower, 0.0) && close(steps[0].upper, 8.4) && steps[0].adjustment == 20, "{steps:?}");
        assert!(close(steps[1].lower, 8.4) && close(steps[1].upper, 14.0) && steps[1].adjustment == 32, "{steps:?}");
        assert!(close(steps[2].lower, 14.0) && steps[2].upper.is_none() && steps[2].adjustment == 100, "{steps:?}");
        assert!(decisions.iter().any(|d| d.why.contains("raised from 15 periods")), "{decisions:?}");

        let off = ReactiveSettings { step: StepSettings { enabled: false, ..StepSettings::default() }, ..r.clone() };
        let (policies, alarms, _) = reactive("web", &off, &w);
        assert_eq!((policies.len(), alarms.len()), (1, 0));

        // Target tracking scales in by default; with the step policy owning scale-in it only
        // scales out, and the plan says so.
        let disabled = |p: &ReactivePolicy| matches!(p.kind, PolicyKind::TargetTracking { disable_scale_in: true, .. });
        assert!(!disabled(&reactive("web", &ReactiveSettings::default(), &w).0[0]));
        let owned =
            ReactiveSettings { step: StepSettings { owns_scale_in: true, ..StepSettings::default() }, ..r.clone() };
        let (policies, alarms, decisions) = reactive("web", &owned, &w);
        assert!(disabled(&policies[0]) && alarms.len() == 2, "{policies:?}");
        assert!(decisions.iter().any(|d| d.what.contains("DisableScaleIn")), "{decisions:?}");
        // A scale-in step in percent of the group, at least one instance.
        let pct = StepSettings { in_unit: StepUnit::Percent, in_remove: 20, ..owning.clone() };
        let (policies, _, decisions) = reactive("web", &ReactiveSettings { step: pct, ..r.clone() }, &w);
        let PolicyKind::StepScaling { adjustment_type, steps, min_adjustment_magnitude, .. } = &policies[2].kind else {
            panic!("{:?}", policies[2])
        };
        assert_eq!(
            (adjustment_type.as_str(), steps[0].adjustment, *min_adjustment_magnitude),
            ("PercentChangeInCapacity", -20, Some(1))
        );
        assert!(decisions.iter().any(|d| d.what.contains("-20 % (at least 1 instance)")), "{decisions:?}");

        let alb = ReactiveSettings {
            metric: "ALBRequestCountPerTarget".into(),
            resource_label: Some("app/lb/123/targetgroup/tg/456".into()),
            target_value: 1000.0,
            ..r.clone()
        };
        let (_, alarms, _) = reactive("web", &alb, &w);
        assert_eq!(alarms[0].dimensions.get("TargetGroup").map(String::as_str), Some("targetgroup/tg/456"));
        assert_eq!(alarms[0].statistic, "Sum");
        assert_eq!((alarms[0].threshold, alarms[1].threshold), (1200.0, 500.0), "per minute, as the target");
        // A minute without requests publishes no point: it is low load, the scale-in alarm's breach.
        assert_eq!(
            (alarms[0].treat_missing_data.as_str(), alarms[1].treat_missing_data.as_str()),
            ("notBreaching", "breaching")
        );
        // Over 5-minute periods the Sum alarms count five minutes of requests, and so do the
        // steps' bounds (relative to the threshold); an Average alarm is not scaled.
        let five = ReactiveSettings { step: StepSettings { period_secs: 300, ..alb.step.clone() }, ..alb.clone() };
        let (policies, alarms, decisions) = reactive("web", &five, &w);
        assert_eq!((alarms[0].threshold, alarms[1].threshold), (6000.0, 2500.0));
        let PolicyKind::StepScaling { steps, .. } = &policies[1].kind else { panic!("{:?}", policies[1]) };
        assert_eq!(steps[1].lower, Some(600.0), "10 % above 6000");
        assert!(decisions.iter().any(|d| d.what.contains("× 5 for 300-s periods")), "{decisions:?}");
        let cpu = ReactiveSettings { step: StepSettings { period_secs: 300, ..StepSettings::default() }, ..r.clone() };
        assert_eq!(reactive("web", &cpu, &w).1[0].threshold, 84.0);
    }

    #[test]
    fn the_default_step_out_threshold_leaves_room_below_a_ceiling() {
        let s = StepSettings::default();
        // CPU: 1.2 × the target, at most halfway to 100.
        assert_eq!(s.thresholds(70.0, metric_ceiling("ASGAverageCPUUtilization")), (84.0, 35.0));
        assert_eq!(s.thresholds(80.0, metric_ceiling("ASGAverageCPUUtilization")), (90.0, 40.0));
        // A target at the ceiling: the alarm at the ceiling, not 20 % above what CPU can reach.
        assert_eq!(s.thresholds(100.0, metric_ceiling("ASGAverageCPUUtilization")), (100.0, 50.0));
        // Requests per target have no ceiling.
        assert_eq!(s.thresholds(1000.0, metric_ceiling("ALBRequestCountPerTarget")), (1200.0, 500.0));
        // A configured threshold is taken as it is.
        let set = StepSettings { out_threshold: Some(97.0), ..s };
        assert_eq!(set.thresholds(80.0, Some(100.0)).0, 97.0);
    }

    #[test]
    fn default_out_steps_add_what_the_load_each_interval_reads_needs() {
        let s = StepSettings::default();
        let at = |steps: &[OutStep]| steps.iter().map(|x| (x.above_pct, x.add)).collect::<Vec<_>>();
        // Requests per target read the whole load: at 1.2 × the target × (1 + above) the group
        // needs 1.2 × (1 + above) of itself at the target.
        let requests = s.out_steps(1000.0, None);
        assert_eq!(
            at(&requests),
            [(0.0, 20), (10.0, 32), (20.0, 44), (30.0, 56), (50.0, 80), (75.0, 110), (100.0, 140), (150.0, 200)]
        );
        // CPU saturates: from 98 % the group doubles, whatever the step sized below it.
        assert_eq!(at(&s.out_steps(70.0, Some(100.0))), [(0.0, 20), (10.0, 32), (16.666667, 100)]);
        assert_eq!(
            at(&s.out_steps(50.0, Some(100.0))),
            [(0.0, 20), (10.0, 32), (20.0, 44), (30.0, 56), (50.0, 80), (63.333333, 100)]
        );
        // Near the ceiling the threshold lies halfway to it (95 for 90): a step of 10 % at least,
        // and the doubling from 98; a threshold that reads saturation already doubles at once.
        assert_eq!(at(&s.out_steps(90.0, Some(100.0))), [(0.0, 10), (3.157895, 100)]);
        assert_eq!(at(&s.out_steps(97.0, Some(100.0))), [(0.0, 100)]);
        // A threshold at the target adds at least 10 %; configured steps are taken as they are.
        let at_target = StepSettings { out_threshold: Some(1000.0), ..s.clone() };
        assert_eq!(
            at_target.out_steps(1000.0, None)[..2],
            [OutStep { above_pct: 0.0, add: 10 }, OutStep { above_pct: 10.0, add: 10 }]
        );
        let mine = vec![OutStep { above_pct: 0.0, add: 3 }];
        assert_eq!(StepSettings { out_steps: Some(mine.clone()), ..s.clone() }.out_steps(70.0, Some(100.0)), mine);
        // Instances need steps of their own.
        let bad = StepSettings { out_unit: StepUnit::Instances, ..s };
        assert!(bad.validate("ASGAverageCPUUtilization", None, 70.0).unwrap_err().contains("needs step.out_steps"));
    }

    #[test]
    fn bad_step_settings_say_what_to_fix() {
        let ok = StepSettings::default();
        assert!(ok.validate("ASGAverageCPUUtilization", None, 70.0).is_ok());
        assert!(ok.validate("Custom", None, 70.0).unwrap_err().contains("a CloudWatch metric to alarm on"));
        assert!(ok.validate("ALBRequestCountPerTarget", None, 900.0).unwrap_err().contains("resource_label"));
        assert!(ok.validate("ALBRequestCountPerTarget", Some("app/a/1/targetgroup/t/2"), 900.0).is_ok());
        let bad = StepSettings { in_threshold: Some(85.0), ..ok.clone() };
        assert!(bad.validate("ASGAverageCPUUtilization", None, 70.0).unwrap_err().contains("below the scale-out"));
        let bad = StepSettings { in_threshold: Some(75.0), ..ok.clone() };
        assert!(bad.validate("ASGAverageCPUUtilization", None, 70.0).unwrap_err().contains("below the target (70)"));
        let bad = StepSettings { out_steps: Some(vec![OutStep { above_pct: 5.0, add: 1 }]), ..ok.clone() };
        assert!(bad.validate("ASGAverageCPUUtilization", None, 70.0).unwrap_err().contains("above_pct = 0"));
        let bad = StepSettings { period_secs: 45, ..ok.clone() };
        assert!(bad.validate("ASGAverageCPUUtilization", None, 70.0).unwrap_err().contains("period_secs = 45"));
        let bad = StepSettings { period_secs: 30, ..ok.clone() };
        assert!(bad.validate("ASGAverageCPUUtilization", None, 70.0).unwrap_err().contains("per minute at best"));
        let bad = StepSettings { period_secs: 300, in_evaluation_periods: 400, ..ok.clone() };
        assert!(
            bad.validate("ASGAverageCPUUtilization", None, 70.0).unwrap_err().contains("in_evaluation_periods = 400")
        );
        // A warm-up over a day does not stretch the scale-in window past what CloudWatch takes.
        assert_eq!(StepSettings { period_secs: 300, ..ok.clone() }.in_periods(200_000), 288);
        // Hourly periods may look back a week.
        let hourly = StepSettings { period_secs: 3600, in_evaluation_periods: 48, ..ok.clone() };
        assert!(hourly.validate("ASGAverageCPUUtilization", None, 70.0).is_ok());
        assert_eq!(hourly.in_periods(1_000_000), 168);
        let bad = StepSettings { in_unit: StepUnit::Percent, in_remove: 150, ..ok.clone() };
        assert!(bad.validate("ASGAverageCPUUtilization", None, 70.0).unwrap_err().contains("at most 100"));
        // Every mistake at once, none judged on a value already refused: a period that is not one
        // is not also a window too long, a list that does not start at 0 is said once.
        let bad = StepSettings {
            period_secs: 90,
            in_evaluation_periods: 100_000,
            in_remove: 0,
            out_steps: Some(vec![OutStep { above_pct: 5.0, add: 0 }]),
            ..ok.clone()
        };
        let all = bad.problems("ASGAverageCPUUtilization", None, 70.0);
        assert_eq!(all.len(), 3, "{all:#?}");
        assert!(
            all[0].contains("period_secs = 90") && all[1].contains("above_pct = 0") && all[2].contains("in_remove")
        );
        let orphan = StepSettings { enabled: false, owns_scale_in: true, ..ok.clone() };
        assert!(orphan.validate("ASGAverageCPUUtilization", None, 70.0).unwrap_err().contains("nothing would scale"));
        let off = StepSettings { enabled: false, period_secs: 45, ..ok };
        assert!(off.validate("Custom", None, 70.0).is_ok());
    }
}
