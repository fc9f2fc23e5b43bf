//! Load tests as operators run them: generated traces with a few days of ordinary traffic and one
//! unforecast test on the last day, replayed under every policy and measured around the test.
//!
//! Every trace starts Monday 2026-01-05 00:00 UTC at a 1-minute step. Days 0–3 are ordinary
//! traffic: a daily cycle `1500 − 500·cos(2π(h − 4)/24)` (1,000 at 04:00, 2,000 at 16:00 UTC) with
//! ±3 % deterministic noise (SplitMix64, seed 7). Day 4 is the test day: ordinary traffic until
//! 11:45, then the load generator holds the base `B` (the noise-free cycle at 12:00, 1,750) for 15
//! minutes, runs the test from 12:00 (the onset), and hands back to ordinary traffic at its end;
//! the trace ends at midnight. Within the test the load is exact (no noise), as a load generator
//! sends it. The shapes, as multiples of `B` over the minutes `τ` since the onset:
//!
//! | shape | load | rise ends / peak ends / test ends |
//! |---|---|---|
//! | `ramp` | `1 + 4(τ+1)/60` for 60 min, 5 for 30 min, back down to 1 over 30 min | 60 / 90 / 120 |
//! | `spike` | 10 from the first minute (10× in one minute), for 20 min | 0 / 20 / 20 |
//! | `sustained` | `1 + 3(τ+1)/5` for 5 min, 4 for 4 h | 5 / 245 / 245 |
//! | `scale-down` | `1 + 4(τ+1)/10` for 10 min, 5 for 1 h, then 1 from one minute to the next for 3 h | 10 / 70 / 250 |
//!
//! The nightly forecasts see days 0–3 only, so no plan foresees the test: the forecasting policies
//! meet it with their reactive fallback, which is what a load test checks.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use prescale_core::Series;
use prescale_core::SplitMix64;
use serde::Serialize;

use crate::group::SCALE_IN_THRESHOLD;
use crate::{Policy, SimError, SimReport, SimSettings, instances_for, simulate};

/// Days of ordinary traffic before the test day.
pub const HISTORY_DAYS: i64 = 4;
/// The onset of every test: 12:00 UTC on the test day.
pub const ONSET_HOUR: i64 = 12;
/// Minutes the load generator holds the base load before the onset.
pub const LEAD_IN_MINS: i64 = 15;
/// Minutes after the end of a test that still count towards its figures (the scale-in and any
/// thrashing it causes).
pub const AFTER_MINS: u64 = 60;
/// The scale-out time the reactive fallback should reach: capacity in place within 5 minutes.
pub const SCALE_OUT_TARGET_MINS: u64 = 5;
/// Load one instance serves at 100 % in the scenarios unless `--capacity` says otherwise: the
/// ordinary peak (2,000) then needs 12 instances at a 70 % target, the night 6.
pub const CAPACITY: f64 = 250.0;

/// A standard load-test shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// A gradual ramp to 5× over an hour.
    Ramp,
    /// 10× in one minute, for 20 minutes.
    Spike,
    /// 4× for four hours.
    Sustained,
    /// An hour at 5×, then back to the base at once for three hours.
    ScaleDown,
}

impl Scenario {
    /// Every scenario, in the order they are reported.
    pub const ALL: [Scenario; 4] = [Scenario::Ramp, Scenario::Spike, Scenario::Sustained, Scenario::ScaleDown];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ramp => "ramp",
            Scenario::Spike => "spike",
            Scenario::Sustained => "sustained",
            Scenario::ScaleDown => "scale-down",
        }
    }

    /// One line on the shape, for the report.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::Ramp => "gradual ramp: 1× to 5× the base over 60 min, 30 min at 5×, down over 30 min",
            Scenario::Spike => "sudden spike: 10× the base from one minute to the next, for 20 min",
            Scenario::Sustained => "sustained peak: up to 4× the base in 5 min, held for 4 h",
            Scenario::ScaleDown => "scale-down after peak: 5× the base for 1 h, then back to 1× at once for 3 h",
        }
    }

    /// (rise ends, peak ends, test ends) in minutes after the onset.
    fn phases(self) -> (i64, i64, i64) {
        match self {
            Scenario::Ramp => (60, 90, 120),
            Scenario::Spike => (0, 20, 20),
            Scenario::Sustained => (5, 245, 245),
            Scenario::ScaleDown => (10, 70, 250),
        }
    }

    /// The test load as a multiple of the base `τ` minutes after the onset (`None` outside the test).
    fn multiple(self, tau: i64) -> Option<f64> {
        let (_, _, end) = self.phases();
        if tau < -LEAD_IN_MINS || tau >= end {
            return None;
        }
        if tau < 0 {
            return Some(1.0);
        }
        let t = tau as f64;
        Some(match self {
            Scenario::Ramp if tau < 60 => 1.0 + 4.0 * (t + 1.0) / 60.0,
            Scenario::Ramp if tau < 90 => 5.0,
            Scenario::Ramp => 5.0 - 4.0 * (t - 89.0) / 30.0,
            Scenario::Spike => 10.0,
            Scenario::Sustained if tau < 5 => 1.0 + 3.0 * (t + 1.0) / 5.0,
            Scenario::Sustained => 4.0,
            Scenario::ScaleDown if tau < 10 => 1.0 + 4.0 * (t + 1.0) / 10.0,
            Scenario::ScaleDown if tau < 70 => 5.0,
            Scenario::ScaleDown => 1.0,
        })
    }

    /// The scenario's timing and levels.
    pub fn shape(self) -> Shape {
        let (rise, peak, end) = self.phases();
        let start = trace_start();
        let onset = start + Duration::days(HISTORY_DAYS) + Duration::hours(ONSET_HOUR);
        let base = ordinary(ONSET_HOUR as f64);
        let top = (0..end).filter_map(|t| self.multiple(t)).fold(0.0, f64::max);
        Shape {
            scenario: self,
            description: self.description(),
            onset,
            rise_end: onset + Duration::minutes(rise),
            peak_end: onset + Duration::minutes(peak),
            end: onset + Duration::minutes(end),
            base_load: base,
            peak_load: base * top,
        }
    }

    /// The scenario's trace: four days of ordinary traffic, then the test day (1-minute step).
    pub fn trace(self) -> Series {
        let start = trace_start();
        let onset = (HISTORY_DAYS * 1440 + ONSET_HOUR * 60) as usize;
        let base = ordinary(ONSET_HOUR as f64);
        let mut rng = SplitMix64(7);
        let values = (0..(HISTORY_DAYS as usize + 1) * 1440)
            .map(|m| {
                // Draw for every minute, so the noise of ordinary traffic does not depend on the shape.
                let noise = 1.0 + 0.03 * (2.0 * rng.uniform() - 1.0);
                match self.multiple(m as i64 - onset as i64) {
                    Some(k) => base * k,
                    None => (ordinary((m % 1440) as f64 / 60.0) * noise).round(),
                }
            })
            .collect();
        // A 1-minute grid from a fixed start is always valid.
        Series::new(start, 60, values).unwrap_or_else(|_| unreachable!("a 1-minute grid is regular"))
    }

    /// The settings a scenario runs with: `s` with [`CAPACITY`] unless a capacity is given, and a
    /// `MaxSize` of twice what the test's peak needs unless one is given, so the test measures
    /// scaling, not the maximum; the oracle is added to the policies when missing, as the yardstick
    /// of thrashing.
    pub fn settings(self, s: &SimSettings) -> SimSettings {
        let mut policies = s.policies.clone();
        if !policies.is_empty() && !policies.contains(&Policy::Oracle) {
            policies.push(Policy::Oracle);
        }
        let cap = s.capacity_per_instance.unwrap_or(CAPACITY);
        let per = cap * s.target_utilization;
        let peak = self.shape().peak_load;
        let max = s.max_size.unwrap_or_else(|| instances_for(peak, per).saturating_mul(2).max(s.min_size));
        SimSettings { capacity_per_instance: Some(cap), max_size: Some(max), policies, ..s.clone() }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scenario::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Scenario::ALL.iter().map(|p| p.name()).collect();
            format!("unknown scenario {s:?}; choose from {} or all", names.join(", "))
        })
    }
}

/// 2026-01-05 00:00 UTC, a Monday.
pub fn trace_start() -> DateTime<Utc> {
    Utc.timestamp_opt(1_767_571_200, 0).single().unwrap_or_default()
}

/// Ordinary traffic at hour `h` of the day, without noise.
fn ordinary(h: f64) -> f64 {
    1500.0 - 500.0 * (std::f64::consts::TAU * (h - 4.0) / 24.0).cos()
}

/// A scenario's timing and levels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shape {
    /// The scenario.
    pub scenario: Scenario,
    /// What it does.
    pub description: &'static str,
    /// The first minute of the test.
    pub onset: DateTime<Utc>,
    /// The end of the rise (the onset itself for the spike).
    pub rise_end: DateTime<Utc>,
    /// The end of the peak: the load falls from here.
    pub peak_end: DateTime<Utc>,
    /// The end of the test: ordinary traffic again from here.
    pub end: DateTime<Utc>,
    /// The base load `B` the shape multiplies.
    pub base_load: f64,
    /// The highest load of the test.
    pub peak_load: f64,
}

/// How one policy met a load test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestResult {
    /// The policy.
    pub policy: Policy,
    /// No under-provisioned minute from the onset to an hour after the test.
    pub kept_up: bool,
    /// Minutes from the onset to an hour after the test in which demand exceeded serving capacity.
    pub under_provisioned_minutes: u64,
    /// The largest unserved load in one minute of that window, in the trace's units.
    pub worst_shortfall: f64,
    /// The same in instances.
    pub worst_shortfall_instances: u64,
    /// Minutes from the onset until serving capacity covers the demand for the rest of the peak
    /// (0: it never fell short); `None`: it had not caught up by the end of the peak.
    pub scale_out_mins: Option<u64>,
    /// Whether `scale_out_mins` is within [`SCALE_OUT_TARGET_MINS`].
    pub scale_out_within_target: bool,
    /// Minutes from the end of the peak until the paid instances are down, for the rest of the
    /// window, to what the load needs at the scale-in threshold (90 % of the target); `None`: still
    /// above it at the window's end.
    pub scale_in_mins: Option<u64>,
    /// Direction reversals less than an hour after the previous change, from the onset to an hour
    /// after the test.
    pub reversals_within_hour: u64,
    /// Whether it reversed direction within an hour more often in that window than the oracle,
    /// which follows the load exactly: the reversals beyond those the load's own rise and fall force.
    pub thrashed: bool,
    /// Scale-outs in that window made on a reading the metric's ceiling cut (CPU at 100 %): each
    /// launched fewer instances than the load needed ([`SimSettings::metric_ceiling`]).
    pub capped_scale_outs: u64,
    /// Instance-hours paid in that window.
    pub instance_hours: f64,
    /// The same in dollars at the on-demand price, when given.
    pub dollars: Option<f64>,
    /// The same with the spot share, when given.
    pub dollars_spot_mix: Option<f64>,
}

/// One scenario's replay and its figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioReport {
    /// The shape and its timing.
    pub shape: Shape,
    /// Instances the test's peak needs at the target.
    pub peak_need: u32,
    /// The oracle's direction reversals within an hour around the test: those the load forces.
    pub oracle_reversals: u64,
    /// The highest floor prescale's plan for the test day holds (its nightly forecast saw only
    /// ordinary days); `None` without the prescale policy or a plan.
    pub prescale_planned_peak: Option<u32>,
    /// The figures per policy, from the onset to an hour after the test.
    pub results: Vec<TestResult>,
    /// The whole replay.
    pub replay: SimReport,
}

/// Generates `scenario`'s trace, replays it under the policies of `s` (with
/// [`Scenario::settings`]) and measures each around the test.
///
/// # Errors
/// [`SimError`] for settings `simulate` refuses.
pub fn run(scenario: Scenario, s: &SimSettings) -> Result<ScenarioReport, SimError> {
    let given = s.capacity_per_instance.is_some();
    let max_given = s.max_size.is_some();
    let s = scenario.settings(s);
    // A maximum derived from the capacity (twice the peak's need) past what the replay models:
    // the capacity's scale is wrong, not a --max nobody gave.
    if let (false, Some(max), Some(cap)) = (max_given, s.max_size, s.capacity_per_instance)
        && max > crate::MAX_INSTANCES
    {
        return Err(SimError::too_large(scenario.shape().peak_load, cap, s.target_utilization));
    }
    let mut replay = simulate(&scenario.trace(), &s)?;
    if !given {
        replay.settings.capacity_source = "scenario";
    }
    Ok(measure(scenario.shape(), &s, replay))
}

/// The figures of a replay of `shape`'s trace.
pub fn measure(shape: Shape, s: &SimSettings, replay: SimReport) -> ScenarioReport {
    let start = replay.trace.start;
    let minute = |t: DateTime<Utc>| ((t - start).num_minutes().max(0) as usize).min(replay.demand.len());
    let (onset, peak_end) = (minute(shape.onset), minute(shape.peak_end));
    let window_end = (minute(shape.end) + AFTER_MINS as usize).min(replay.demand.len());
    let r = &replay.settings;
    let (cap, target) = (r.capacity_per_instance, r.target_utilization);
    let peak_need = instances_for(shape.peak_load, cap * target);
    let reversals_of = |actions: &[(u64, i8)]| {
        actions
            .windows(2)
            .filter(|w| w[0].1 != w[1].1 && w[1].0 - w[0].0 < 60 && (onset as u64..window_end as u64).contains(&w[1].0))
            .count() as u64
    };
    let forced = replay
        .policies
        .iter()
        .zip(&replay.actions)
        .find(|(p, _)| p.policy == Policy::Oracle)
        .map_or(0, |(_, a)| reversals_of(a));
    let results: Vec<TestResult> = replay
        .policies
        .iter()
        .zip(&replay.timeline)
        .zip(&replay.actions)
        .zip(&replay.capped_scale_outs)
        .map(|(((p, tl), actions), capped)| {
            let short = |t: usize| replay.demand[t] > f64::from(tl[t].0) * cap * (1.0 + 1e-9);
            let (mut under, mut worst) = (0, 0.0_f64);
            for t in (onset..window_end).filter(|t| short(*t)) {
                under += 1;
                worst = worst.max(replay.demand[t] - f64::from(tl[t].0) * cap);
            }
            let scale_out = match (onset..peak_end.max(onset + 1)).rev().find(|t| short(*t)) {
                None => Some(0),
                Some(last) if last + 1 < peak_end.max(onset + 1) => Some((last + 1 - onset) as u64),
                Some(_) => None,
            };
            // Down for good: from the minute after the last one above what the load needs.
            let high = |t: usize| {
                let low = instances_for(replay.demand[t], cap * target * SCALE_IN_THRESHOLD);
                tl[t].1 > low.max(r.min_size)
            };
            let scale_in = match (peak_end..window_end).rev().find(|t| high(*t)) {
                None => Some(0),
                Some(last) if last + 1 < window_end => Some((last + 1 - peak_end) as u64),
                Some(_) => None,
            };
            let reversals = reversals_of(actions);
            let paid: u64 = tl[onset..window_end].iter().map(|x| u64::from(x.1)).sum();
            let hours = paid as f64 / 60.0;
            TestResult {
                policy: p.policy,
                kept_up: under == 0,
                under_provisioned_minutes: under,
                worst_shortfall: worst,
                worst_shortfall_instances: (worst / cap - 1e-9).ceil().max(0.0) as u64,
                scale_out_mins: scale_out,
                scale_out_within_target: scale_out.is_some_and(|m| m <= SCALE_OUT_TARGET_MINS),
                scale_in_mins: scale_in,
                reversals_within_hour: reversals,
                thrashed: reversals > forced,
                capped_scale_outs: capped.iter().filter(|t| (onset as u64..window_end as u64).contains(t)).count()
                    as u64,
                instance_hours: hours,
                dollars: s.price_per_hour.map(|p| p * hours),
                dollars_spot_mix: crate::spot_mix_dollars(s, hours),
            }
        })
        .collect();
    let test_day = shape.onset - Duration::hours(ONSET_HOUR);
    let prescale_planned_peak = replay
        .policies
        .iter()
        .any(|p| p.policy == Policy::Prescale)
        .then(|| replay.nights.iter().find(|n| n.at == test_day && n.error.is_none()).map(|n| n.prescale_peak_floor))
        .flatten();
    ScenarioReport { shape, peak_need, oracle_reversals: forced, prescale_planned_peak, results, replay }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_starts_at_noon_of_the_fifth_day_from_the_base() {
        for sc in Scenario::ALL {
            let tr = sc.trace();
            assert_eq!(tr.len(), 5 * 1440);
            let onset = 4 * 1440 + 12 * 60;
            let v = tr.values();
            assert!(v[onset - LEAD_IN_MINS as usize..onset].iter().all(|x| *x == 1750.0), "{sc}");
            assert!(v[onset] > 1750.0, "{sc}");
            // Ordinary days do not depend on the shape.
            assert_eq!(&v[..4 * 1440], &Scenario::Ramp.trace().values()[..4 * 1440]);
        }
        assert_eq!(Scenario::Spike.shape().peak_load, 17_500.0);
        assert_eq!("scale-down".parse(), Ok(Scenario::ScaleDown));
        assert!("burst".parse::<Scenario>().unwrap_err().contains("ramp, spike, sustained, scale-down or all"));
    }

    #[test]
    fn a_capacity_in_the_wrong_units_is_said_as_such_not_as_a_maximum_nobody_gave() {
        let s = SimSettings {
            policies: vec![Policy::Reactive],
            capacity_per_instance: Some(0.01),
            ..SimSettings::default()
        };
        let e = run(Scenario::Spike, &s).unwrap_err().to_string();
        assert!(
            e.starts_with("at a capacity of 0.01 per instance the trace's peak needs") && !e.contains("--max "),
            "{e}"
        );
        // A maximum given is the user's own, and said as such.
        let e = run(Scenario::Spike, &SimSettings { max_size: Some(crate::MAX_INSTANCES + 1), ..s })
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("--max {}", crate::MAX_INSTANCES + 1)), "{e}");
    }

    #[test]
    fn scale_in_counts_until_the_group_is_down_for_good() {
        let s = SimSettings { policies: vec![Policy::Reactive, Policy::Step], ..SimSettings::default() };
        let r = run(Scenario::Ramp, &s).unwrap();
        let at = |p: Policy| r.results.iter().find(|x| x.policy == p).unwrap().scale_in_mins;
        // The ramp's load is still 5× at the peak's end: the group is not down at once.
        let reactive = at(Policy::Reactive).expect("target tracking scales in within the hour");
        assert!(reactive > 0);
        // From then on, no minute of the window holds more than the load needs at 90 % of the target.
        let k = r.replay.policies.iter().position(|p| p.policy == Policy::Reactive).unwrap();
        let start = r.replay.trace.start;
        let minute = |t: DateTime<Utc>| (t - start).num_minutes() as usize;
        let (from, to) = (minute(r.shape.peak_end) + reactive as usize, minute(r.shape.end) + AFTER_MINS as usize);
        let (cap, target) = (r.replay.settings.capacity_per_instance, r.replay.settings.target_utilization);
        for t in from..to {
            let need = instances_for(r.replay.demand[t], cap * target * SCALE_IN_THRESHOLD).max(1);
            assert!(r.replay.timeline[k][t].1 <= need, "minute {t}");
        }
        // The step policy alone removes one instance a quarter of an hour: still above it.
        assert_eq!(at(Policy::Step), None);
    }

    #[test]
    fn a_metric_that_reads_at_most_100_percent_hides_a_spike_from_target_tracking() {
        let s = SimSettings { policies: vec![Policy::Reactive], ..SimSettings::default() };
        let open = run(Scenario::Spike, &s).unwrap();
        let cpu = run(Scenario::Spike, &SimSettings { metric_ceiling: Some(1.0), ..s }).unwrap();
        assert!(cpu.replay.settings.metric_ceiling == Some(1.0) && open.replay.settings.metric_ceiling.is_none());
        // Requests per target read the whole spike: one action to the peak's need. CPU reads
        // 100 %: each action grows the group by at most 1 / 0.7, and it falls behind.
        let first_rise = |r: &ScenarioReport| {
            let start = r.replay.trace.start;
            let onset = (r.shape.onset - start).num_minutes() as usize;
            let tl = &r.replay.timeline[0];
            let before = tl[onset].1;
            let after = tl[onset..].iter().map(|x| x.1).find(|d| *d > before).unwrap();
            (before, after)
        };
        assert_eq!(first_rise(&open).1, open.peak_need);
        let (before, after) = first_rise(&cpu);
        assert_eq!(after, (f64::from(before) / 0.7).ceil() as u32, "from {before}");
        let (o, c) = (&open.results[0], &cpu.results[0]);
        assert!(c.under_provisioned_minutes > o.under_provisioned_minutes, "{c:?} {o:?}");
        // The scale-outs the ceiling cut are counted (none where the metric reads it all).
        assert!(c.capped_scale_outs >= 2 && o.capped_scale_outs == 0, "{c:?} {o:?}");
        assert!(o.scale_out_mins.is_some() && c.scale_out_mins.is_none_or(|m| m > o.scale_out_mins.unwrap()));
    }
}
