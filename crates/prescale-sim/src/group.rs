//! The simulated Auto Scaling group and its reactive policies: target tracking and step scaling.

use prescale_plan::{StepSettings, StepUnit};

/// A group's instances, each with the minute from which it serves. Launch order is kept, and
/// scale-in removes the newest instance first (booting ones before serving ones), which is what
/// lets capacity launched for a later peak survive a short dip.
#[derive(Debug, Clone, Default)]
pub struct Group {
    ready_at: Vec<u64>,
    /// Every change of the desired capacity: (minute, +1 up / -1 down).
    pub actions: Vec<(u64, i8)>,
}

impl Group {
    /// A group of `n` instances that serve from minute 0 (a warm group at the start of the trace).
    pub fn warm(n: u32) -> Self {
        Self { ready_at: vec![0; n as usize], actions: Vec::new() }
    }

    /// Instances paid for: serving and booting.
    pub fn desired(&self) -> u32 {
        self.ready_at.len() as u32
    }

    /// Instances that serve at minute `t`.
    pub fn serving(&self, t: u64) -> u32 {
        // `ready_at` is sorted (see `set_desired`), so the serving ones are a prefix.
        self.ready_at.partition_point(|r| *r <= t) as u32
    }

    /// Whether instances launched by minute `t` do not serve yet. Auto Scaling blocks a dynamic
    /// policy's scale-in until new instances have warmed up (its scheduled actions are not
    /// blocked).
    pub fn booting(&self, t: u64) -> bool {
        self.serving(t) < self.desired()
    }

    /// Sets the desired capacity at minute `t`: new instances serve `boot` minutes later; removed
    /// ones go at once, newest first.
    pub fn set_desired(&mut self, n: u32, t: u64, boot: u64) {
        let have = self.desired();
        // Minutes only move forward and the boot time is fixed, so appending keeps `ready_at`
        // sorted, which `serving` relies on.
        debug_assert!(self.ready_at.last().is_none_or(|l| *l <= t + boot));
        if n > have {
            self.ready_at.extend(std::iter::repeat_n(t + boot, (n - have) as usize));
            self.actions.push((t, 1));
        } else if n < have {
            self.ready_at.truncate(n as usize);
            self.actions.push((t, -1));
        }
    }
}

/// A reactive scaling policy: what it would set in a minute, and what it does after a scale-in.
pub trait Reactive {
    /// The capacity the policy would set at the start of minute `t`, within `[floor, max]`, or
    /// `None` when it would not act.
    fn propose(&self, g: &Group, t: u64, floor: u32, max: u32) -> Option<u32>;

    /// Records that the group scaled in at minute `t` by this policy.
    fn scaled_in(&mut self, t: u64);

    /// The policy's action at the start of minute `t`, applied to the group (see
    /// [`Reactive::propose`]); no scale-in while instances boot ([`Group::booting`]).
    fn act(&mut self, g: &mut Group, t: u64, floor: u32, max: u32, boot: u64) {
        let have = g.desired();
        if let Some(n) = self.propose(g, t, floor, max).filter(|n| *n > have || !g.booting(t)) {
            g.set_desired(n, t, boot);
            if n < have {
                self.scaled_in(t);
            }
        }
    }
}

/// A CloudWatch metric's periods: the readings of `period` minutes averaged into one datapoint,
/// complete at the end of the period's last minute. Periods start on the clock's marks (:00, :05,
/// … for 5 minutes), as CloudWatch's do: a trace that starts between two has a shorter first
/// period. With 1-minute periods each minute's reading is its datapoint.
#[derive(Debug, Clone)]
struct Periods {
    period: u32,
    /// Minutes still to come in the current period.
    left: u32,
    minutes: u32,
    utilization: f64,
    need: f64,
}

impl Periods {
    /// Periods of `period` minutes, the first minute fed `phase` minutes after a mark.
    fn new(period: u32, phase: u32) -> Self {
        let period = period.max(1);
        Self { period, left: period - phase % period, minutes: 0, utilization: 0.0, need: 0.0 }
    }

    /// Adds a minute's reading (utilization, and the instances that would serve it at the
    /// target); the period's datapoint when the minute completes it: the mean utilization, and
    /// the mean need rounded up.
    fn push(&mut self, utilization: f64, need: u32) -> Option<(f64, u32)> {
        self.minutes += 1;
        self.utilization += utilization;
        self.need += f64::from(need);
        self.left -= 1;
        if self.left > 0 {
            return None;
        }
        let n = f64::from(self.minutes);
        let datapoint = (self.utilization / n, (self.need / n - 1e-9).ceil().max(0.0) as u32);
        *self = Self::new(self.period, 0);
        Some(datapoint)
    }
}

/// Target tracking as Auto Scaling runs it: the high alarm fires after 3 consecutive datapoints
/// above the target, the low alarm after 15 consecutive datapoints below 90 % of it (Auto
/// Scaling's own low-alarm threshold, which keeps a group sized exactly at the target from
/// flapping), of the metric's period: 1 minute by default (detailed monitoring: 3 and 15
/// minutes), 5 with basic monitoring ([`TargetTracking::on_periods`]: 15 and 75 minutes). While an
/// alarm is in alarm the policy is invoked every minute and sets `ceil(in-service × utilization /
/// target)` instances; a scale-out only adds, a scale-in only removes, and scale-in waits out a
/// cooldown after the previous scale-in. Instances still booting report no metric, so
/// utilization is measured on the serving instances only.
#[derive(Debug, Clone)]
pub struct TargetTracking {
    target: f64,
    cooldown: u64,
    /// Whether it scales in at all (`DisableScaleIn` is its negation).
    scale_in: bool,
    metric: Periods,
    above: u32,
    below: u32,
    last_scale_in: Option<u64>,
    need: u32,
}

/// Consecutive breaching datapoints before a scale-out (minutes, on a 1-minute metric).
pub const SCALE_OUT_PERIODS: u32 = 3;
/// Consecutive datapoints below the low threshold before a scale-in.
pub const SCALE_IN_PERIODS: u32 = 15;
/// The low alarm's threshold as a fraction of the target.
pub const SCALE_IN_THRESHOLD: f64 = 0.9;

impl TargetTracking {
    /// A policy tracking `target` utilization, with a scale-in cooldown of `cooldown` minutes.
    pub fn new(target: f64, cooldown: u64) -> Self {
        Self {
            target,
            cooldown,
            scale_in: true,
            metric: Periods::new(1, 0),
            above: 0,
            below: 0,
            last_scale_in: None,
            need: 0,
        }
    }

    /// The same policy on a metric of `minutes`-minute periods (5 with basic monitoring), fed
    /// from `phase` minutes after a period's mark on: its alarms count datapoints of that period.
    pub fn on_periods(self, minutes: u32, phase: u32) -> Self {
        Self { metric: Periods::new(minutes, phase), ..self }
    }

    /// The same policy scaling out only (`DisableScaleIn`), when `scale_in` is false.
    pub fn scaling_in(self, scale_in: bool) -> Self {
        Self { scale_in, ..self }
    }

    /// Feeds the metric of the minute that just ended: `utilization` of the serving instances and
    /// `need`, the instances the policy would set for it. The alarms see it when it completes a
    /// period: the period's mean.
    pub fn observe(&mut self, utilization: f64, need: u32) {
        let Some((utilization, need)) = self.metric.push(utilization, need) else { return };
        self.above = if utilization > self.target { self.above + 1 } else { 0 };
        self.below = if utilization < self.target * SCALE_IN_THRESHOLD { self.below + 1 } else { 0 };
        self.need = need;
    }
}

impl Reactive for TargetTracking {
    /// A scale-out only adds; a scale-in only removes, and waits out the cooldown.
    fn propose(&self, g: &Group, t: u64, floor: u32, max: u32) -> Option<u32> {
        let need = self.need.clamp(floor.min(max), max);
        let out = self.above >= SCALE_OUT_PERIODS && need > g.desired();
        let scale_in = self.scale_in
            && self.below >= SCALE_IN_PERIODS
            && need < g.desired()
            && self.last_scale_in.is_none_or(|l| t >= l + self.cooldown);
        (out || scale_in).then_some(need)
    }

    /// Starts the scale-in cooldown.
    fn scaled_in(&mut self, t: u64) {
        self.last_scale_in = Some(t);
    }
}

/// Step scaling as prescale's plan writes it ([`StepSettings`]): a scale-out alarm after
/// `out_evaluation_periods` periods at or above the out threshold adds a step by how far above it
/// the metric is (percent of the serving instances, at least one, or instances), and a scale-in
/// alarm after `in_evaluation_periods` periods below the in threshold (at least the warm-up)
/// removes `in_remove` instances, and again each minute while the metric stays below it (CloudWatch
/// repeats an Auto Scaling action each minute its alarm holds). Thresholds are read
/// as fractions of the target value, so the same settings fit CPU percent and requests per target;
/// the metric is the utilization of the serving instances averaged over the alarms' period
/// (`period_secs`, in whole minutes, at least the metric's own period). Instances still booting
/// count against a further step, as
/// Auto Scaling counts warming instances: the group grows to `serving + step` only where that
/// exceeds what it has. Step policies take no cooldown.
#[derive(Debug, Clone)]
pub struct StepScaling {
    out_at: f64,
    in_at: f64,
    metric: Periods,
    /// Datapoints at or above `out_at` before a scale-out, below `in_at` before a scale-in.
    out_periods: u32,
    in_periods: u32,
    percent: bool,
    /// (fraction above `out_at` from which the step applies, add), increasing.
    steps: Vec<(f64, u32)>,
    in_remove: u32,
    /// `in_remove` is percent of the group's capacity (at least one instance, rounded down).
    in_percent: bool,
    /// Whether it scales in at all: the plan writes its scale-in beside target tracking only
    /// where it owns scale-in ([`StepSettings::scales_in_alone`]).
    scale_in: bool,
    above: u32,
    below: u32,
    utilization: f64,
}

impl StepScaling {
    /// Step scaling beside target tracking at `target` utilization, with thresholds in percent
    /// utilization (the target's value is `target × 100`), new instances booting for `boot_mins`,
    /// on a metric of `metric_mins`-minute periods: alarms of a shorter period than the metric's
    /// read it at the metric's (an alarm of 60 s on a 5-minute metric would find most of its
    /// periods empty, so the plan's users set 300 there). Its default steps are sized as the plan
    /// sizes them for a metric that reads at most `ceiling` (a utilization, 1.0 for CPU's 100 %;
    /// `None`: the whole demand). Its periods start on the clock's marks: see
    /// [`StepScaling::from_phase`].
    pub fn new(settings: &StepSettings, target: f64, boot_mins: u32, metric_mins: u32, ceiling: Option<f64>) -> Self {
        let (out, inn) = Self::thresholds(settings, target, ceiling);
        let steps = settings.out_steps(target * 100.0, ceiling.map(|c| c * 100.0));
        let settings = &Self::alarm_settings(settings, metric_mins);
        Self {
            out_at: out / 100.0,
            in_at: inn / 100.0,
            metric: Periods::new(settings.period_secs.div_ceil(60), 0),
            out_periods: settings.out_evaluation_periods.max(1),
            in_periods: settings.in_periods(boot_mins.saturating_mul(60)).max(1),
            percent: settings.out_unit == StepUnit::Percent,
            steps: steps.iter().map(|s| (s.above_pct / 100.0, s.add)).collect(),
            in_remove: settings.in_remove.max(1),
            in_percent: settings.in_unit == StepUnit::Percent,
            scale_in: true,
            above: 0,
            below: 0,
            utilization: 0.0,
        }
    }

    /// The (scale-out, scale-in) thresholds of `settings` in percent utilization of the serving
    /// capacity (100 is full) at `target`, as the plan sets them for a metric that reads at most
    /// `ceiling` (a utilization; `None`: the whole demand, as requests per target do).
    pub fn thresholds(settings: &StepSettings, target: f64, ceiling: Option<f64>) -> (f64, f64) {
        settings.thresholds(target * 100.0, ceiling.map(|c| c * 100.0))
    }

    /// `settings` with the alarms' period at least `metric_mins` minutes, as they are replayed:
    /// as the plan writes them for a metric published that often ([`StepSettings::at_period`]).
    pub fn alarm_settings(settings: &StepSettings, metric_mins: u32) -> StepSettings {
        settings.at_period(settings.period_secs.max(metric_mins.saturating_mul(60)))
    }

    /// The same policy scaling out only, when `scale_in` is false.
    pub fn scaling_in(self, scale_in: bool) -> Self {
        Self { scale_in, ..self }
    }

    /// The period its alarms read, in minutes.
    pub fn period_mins(&self) -> u32 {
        self.metric.period
    }

    /// The same policy fed from `phase` minutes after one of its periods' marks on (a trace that
    /// starts at :02 on 5-minute periods: 2).
    pub fn from_phase(self, phase: u32) -> Self {
        Self { metric: Periods::new(self.metric.period, phase), ..self }
    }

    /// Feeds the utilization of the minute that just ended; the alarms see it when it completes
    /// their period: the period's mean.
    pub fn observe(&mut self, utilization: f64) {
        let Some((utilization, _)) = self.metric.push(utilization, 0) else { return };
        self.above = if utilization >= self.out_at { self.above + 1 } else { 0 };
        self.below = if utilization < self.in_at { self.below + 1 } else { 0 };
        self.utilization = utilization;
    }
}

impl Reactive for StepScaling {
    fn propose(&self, g: &Group, t: u64, floor: u32, max: u32) -> Option<u32> {
        if self.above >= self.out_periods {
            let serving = g.serving(t.saturating_sub(1));
            let over = if self.out_at > 0.0 { (self.utilization - self.out_at) / self.out_at } else { f64::INFINITY };
            let add = self.steps.iter().rev().find(|s| over >= s.0).or(self.steps.first()).map_or(1, |s| s.1);
            let add = if self.percent { percent_change(serving, add) } else { add };
            let want = serving.saturating_add(add).clamp(floor.min(max), max);
            (want > g.desired()).then_some(want)
        } else if self.scale_in && self.below >= self.in_periods {
            let remove = if self.in_percent { percent_change(g.desired(), self.in_remove) } else { self.in_remove };
            let want = g.desired().saturating_sub(remove).max(floor);
            (want < g.desired()).then_some(want)
        } else {
            None
        }
    }

    /// Nothing to wait for: the alarm stays in alarm while the metric stays low, and CloudWatch
    /// invokes an Auto Scaling action again each minute it holds, so the policy removes
    /// `in_remove` a minute until the metric is back above its threshold.
    fn scaled_in(&mut self, _t: u64) {}
}

/// `percent` % of `n` instances as Auto Scaling applies a `PercentChangeInCapacity`: rounded
/// towards zero (12.7 is 12), and at least one (the `MinAdjustmentMagnitude` the plan writes).
fn percent_change(n: u32, percent: u32) -> u32 {
    ((f64::from(n) * f64::from(percent) / 100.0).floor() as u32).max(1)
}

/// The reactive policies of a group together, as Auto Scaling runs several: when more than one
/// would act in the same minute, the one that leaves the larger capacity wins, out and in alike.
#[derive(Debug, Clone)]
pub struct Fallback {
    /// Target tracking, when the group has it.
    pub tracking: Option<TargetTracking>,
    /// Step scaling, when the group has it.
    pub step: Option<StepScaling>,
}

impl Fallback {
    /// Feeds the metric of the minute that just ended to every policy.
    pub fn observe(&mut self, utilization: f64, need: u32) {
        if let Some(tt) = &mut self.tracking {
            tt.observe(utilization, need);
        }
        if let Some(st) = &mut self.step {
            st.observe(utilization);
        }
    }

    /// The policies' action at the start of minute `t`, within `[floor, max]`.
    pub fn act(&mut self, g: &mut Group, t: u64, floor: u32, max: u32, boot: u64) {
        let have = g.desired();
        let tt = self.tracking.as_ref().and_then(|p| p.propose(g, t, floor, max));
        let st = self.step.as_ref().and_then(|p| p.propose(g, t, floor, max));
        let out = tt.into_iter().chain(st).filter(|n| *n > have).max();
        if let Some(n) = out {
            g.set_desired(n, t, boot);
            return;
        }
        // Scale-in waits for the instances still booting, whichever policy asks.
        let Some(n) = tt.into_iter().chain(st).filter(|n| *n < have).max().filter(|_| !g.booting(t)) else {
            return;
        };
        g.set_desired(n, t, boot);
        if tt == Some(n)
            && let Some(p) = &mut self.tracking
        {
            p.scaled_in(t);
        }
        if st == Some(n)
            && let Some(p) = &mut self.step
        {
            p.scaled_in(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_in_removes_the_newest_and_new_instances_boot() {
        let mut g = Group::warm(2);
        g.set_desired(4, 10, 5);
        assert_eq!((g.desired(), g.serving(14), g.serving(15)), (4, 2, 4));
        g.set_desired(3, 12, 5);
        assert_eq!((g.serving(14), g.serving(15)), (2, 3));
        assert_eq!(g.actions, vec![(10, 1), (12, -1)]);
    }

    #[test]
    fn target_tracking_waits_for_three_breaching_minutes() {
        let mut g = Group::warm(1);
        let mut tt = TargetTracking::new(0.7, 5);
        for t in 0..2 {
            tt.observe(1.5, 3);
            tt.act(&mut g, t + 1, 1, 10, 5);
        }
        assert_eq!(g.desired(), 1);
        tt.observe(1.5, 3);
        tt.act(&mut g, 3, 1, 10, 5);
        assert_eq!(g.desired(), 3);
        // A lower need never scales out downwards, and the max holds.
        tt.observe(5.0, 50);
        tt.act(&mut g, 4, 1, 10, 5);
        assert_eq!(g.desired(), 10);
    }

    /// Feeds `tt` the minutes `minutes` at `u` (need `need`), acting on `g` after each (floor 1,
    /// max 10, a 5-minute boot).
    fn tracked_for(tt: &mut TargetTracking, g: &mut Group, minutes: std::ops::Range<u64>, u: f64, need: u32) {
        for t in minutes {
            tt.observe(u, need);
            tt.act(g, t + 1, 1, 10, 5);
        }
    }

    /// Feeds `st` the minutes `minutes` at `u`, acting on `g` after each (floor 1, max 100).
    fn stepped_for(st: &mut StepScaling, g: &mut Group, minutes: std::ops::Range<u64>, u: f64) {
        for t in minutes {
            st.observe(u);
            st.act(g, t + 1, 1, 100, 5);
        }
    }

    #[test]
    fn on_five_minute_periods_alarms_count_datapoints_of_the_periods_mean() {
        // Scale-out after 3 datapoints: 15 minutes, not 3.
        let (mut g, mut tt) = (Group::warm(1), TargetTracking::new(0.7, 0).on_periods(5, 0));
        tracked_for(&mut tt, &mut g, 0..14, 1.5, 3);
        assert_eq!(g.desired(), 1, "two datapoints and four minutes of the third");
        tracked_for(&mut tt, &mut g, 14..15, 1.5, 3);
        assert_eq!(g.desired(), 3);
        // Periods start on the clock's marks: fed from 2 minutes past one, the first datapoint
        // comes after 3 minutes, the third after 13.
        let (mut g, mut tt) = (Group::warm(1), TargetTracking::new(0.7, 0).on_periods(5, 2));
        tracked_for(&mut tt, &mut g, 0..12, 1.5, 3);
        assert_eq!(g.desired(), 1);
        tracked_for(&mut tt, &mut g, 12..13, 1.5, 3);
        assert_eq!(g.desired(), 3);
        // A datapoint is its period's mean: one hot minute among five quiet ones breaches nothing
        // (on 1-minute periods its minute would count).
        let (mut g, mut tt) = (Group::warm(2), TargetTracking::new(0.7, 0).on_periods(5, 0));
        for t in 0..15 {
            let (u, need) = if t % 5 == 4 { (2.0, 6) } else { (0.65, 2) };
            tt.observe(u, need);
            tt.act(&mut g, t + 1, 1, 10, 5);
        }
        assert_eq!(g.desired(), 3, "three datapoints of mean 0.92 (need 2.8): scaled out to 3, not to 6");
        // Scale-in after 15 datapoints: 75 minutes.
        let (mut g, mut tt) = (Group::warm(10), TargetTracking::new(0.7, 0).on_periods(5, 0));
        tracked_for(&mut tt, &mut g, 0..74, 0.1, 2);
        assert_eq!(g.desired(), 10);
        tracked_for(&mut tt, &mut g, 74..75, 0.1, 2);
        assert_eq!(g.desired(), 2);
        // The step policy's 60-second alarms read a 5-minute metric at its period: 2 datapoints
        // before a scale-out, and its scale-in, invoked each minute its alarm holds, removes one a
        // minute until the next datapoint says otherwise.
        let (mut g, mut st) = (Group::warm(10), StepScaling::new(&StepSettings::default(), 0.7, 5, 5, None));
        stepped_for(&mut st, &mut g, 0..9, 0.9);
        assert_eq!(g.desired(), 10);
        stepped_for(&mut st, &mut g, 9..10, 0.9);
        assert_eq!(g.desired(), 12, "+20 % after 10 minutes (0.9 is 7 % above 0.84)");
        let (mut g, mut st) = (Group::warm(20), StepScaling::new(&StepSettings::default(), 0.7, 5, 5, None));
        stepped_for(&mut st, &mut g, 0..78, 0.1);
        // 15 datapoints below (75 minutes), then one a minute for minutes 75 to 78.
        assert_eq!(g.desired(), 16);
    }

    #[test]
    fn step_scaling_steps_out_by_the_breach_and_in_by_the_plans_settings() {
        // The default thresholds: out at 1.2 × the target of 0.7, in below half of it.
        let st0 = StepScaling::new(&StepSettings::default(), 0.7, 5, 1, None);
        let mut g = Group::warm(4);
        let mut st = st0.clone();
        st.observe(0.83);
        st.act(&mut g, 1, 1, 100, 5);
        st.observe(0.83);
        st.act(&mut g, 2, 1, 100, 5);
        assert_eq!(g.desired(), 4, "below the threshold of 0.84, target tracking's business");
        st.observe(0.86);
        st.act(&mut g, 3, 1, 100, 5);
        assert_eq!(g.desired(), 4, "one breaching minute is not enough");
        st.observe(0.86);
        st.act(&mut g, 4, 1, 100, 5);
        assert_eq!(g.desired(), 5, "+20 % of 4 is under one instance: one; 0.86 is 2 % above the threshold");
        // Still breaching while the new one boots: the booting instance counts against the step.
        st.observe(0.86);
        st.act(&mut g, 5, 1, 100, 5);
        assert_eq!(g.desired(), 5);
        // The steps are sized to the load the breach reads (a metric without a ceiling here).
        st.observe(1.3);
        st.act(&mut g, 6, 1, 100, 5);
        assert_eq!(g.desired(), 7, "+80 % of the 4 serving from 50 % above: 1.3 needs 7.4 at 0.7");
        st.observe(3.0);
        st.act(&mut g, 7, 1, 100, 5);
        assert_eq!(g.desired(), 12, "+200 % of the 4 serving from 150 % above");
        // Over one instance, a percent change is rounded down, as Auto Scaling does: 44 % of 5 adds 2.
        let (mut g, mut st) = (Group::warm(5), st0.clone());
        for t in 0..2 {
            st.observe(1.05);
            st.act(&mut g, t + 1, 1, 100, 5);
        }
        assert_eq!(g.desired(), 7, "+2.2 rounded down");
        // On a metric that reads at most 100 % (CPU), from 98 % the group doubles.
        let (mut g, mut st) = (Group::warm(5), StepScaling::new(&StepSettings::default(), 0.7, 5, 1, Some(1.0)));
        stepped_for(&mut st, &mut g, 0..2, 0.99);
        assert_eq!(g.desired(), 10);
        // In: one instance after 15 minutes below half the target, then 15 more minutes.
        let mut g = Group::warm(30);
        let mut st = st0.clone();
        for t in 0..15 {
            st.observe(0.1);
            st.act(&mut g, t + 1, 1, 100, 5);
        }
        assert_eq!(g.desired(), 29);
        st.observe(0.1);
        st.act(&mut g, 16, 1, 100, 5);
        assert_eq!(g.desired(), 28, "the alarm still holds: one more a minute");
        // Back above the threshold, the alarm is OK: no further removal.
        st.observe(0.4);
        st.act(&mut g, 17, 1, 100, 5);
        assert_eq!(g.desired(), 28);
        // The plan's own settings: instances, 5-minute periods, a longer boot than the in window.
        let s = StepSettings {
            period_secs: 300,
            out_unit: StepUnit::Instances,
            out_evaluation_periods: 1,
            in_evaluation_periods: 2,
            in_remove: 3,
            ..StepSettings::default()
        };
        let mut st = StepScaling::new(&s, 0.7, 20, 1, None);
        let mut g = Group::warm(10);
        for t in 0..4 {
            st.observe(0.86);
            st.act(&mut g, t + 1, 1, 100, 5);
        }
        assert_eq!(g.desired(), 10, "a 5-minute period needs 5 breaching minutes");
        st.observe(0.86);
        st.act(&mut g, 5, 1, 100, 5);
        assert_eq!(g.desired(), 30, "+20 instances");
        // (A new policy: the old one's alarm holds its breaching datapoint until the next.)
        let (mut g, mut st) = (Group::warm(10), StepScaling::new(&s, 0.7, 20, 1, None));
        for t in 0..19 {
            st.observe(0.1);
            st.act(&mut g, t + 1, 8, 100, 5);
        }
        assert_eq!(g.desired(), 10, "the in window covers the 20-minute boot");
        st.observe(0.1);
        st.act(&mut g, 20, 8, 100, 5);
        assert_eq!(g.desired(), 8, "three removed, but not below the floor");
        // In percent of the group: 20 % of 30 is 6, of 4 is 0.8, rounded down but at least one.
        let pct = StepSettings { in_unit: StepUnit::Percent, in_remove: 20, ..StepSettings::default() };
        for (have, left) in [(30, 24), (4, 3)] {
            let (mut g, mut st) = (Group::warm(have), StepScaling::new(&pct, 0.7, 5, 1, None));
            for t in 0..15 {
                st.observe(0.1);
                st.act(&mut g, t + 1, 1, 100, 5);
            }
            assert_eq!(g.desired(), left, "20 % of {have}");
        }
    }

    #[test]
    fn with_both_policies_the_larger_capacity_wins() {
        let mut f = Fallback {
            tracking: Some(TargetTracking::new(0.7, 5)),
            step: Some(StepScaling::new(&StepSettings::default(), 0.7, 5, 1, None)),
        };
        let mut g = Group::warm(10);
        // 3 minutes at 1.0: step (2 minutes, 19 % above 0.84: +32 %, 13) and target tracking (3
        // minutes, need 15).
        f.observe(1.0, 15);
        f.act(&mut g, 1, 1, 100, 5);
        assert_eq!(g.desired(), 10);
        f.observe(1.0, 15);
        f.act(&mut g, 2, 1, 100, 5);
        assert_eq!(g.desired(), 13, "step first");
        f.observe(1.0, 15);
        f.act(&mut g, 3, 1, 100, 5);
        assert_eq!(g.desired(), 15, "then target tracking's need");
        f.observe(1.0, 12);
        f.act(&mut g, 4, 1, 100, 5);
        assert_eq!(g.desired(), 15, "a lower need does not scale in");
        // At 0.8 only target tracking acts.
        let mut g = Group::warm(10);
        for t in 0..3 {
            f.observe(0.8, 12);
            f.act(&mut g, 5 + t, 1, 100, 5);
        }
        assert_eq!((g.desired(), g.actions.len()), (12, 1));
        // Low for 15 minutes: target tracking wants 3, step wants one fewer: the larger wins.
        let mut g = Group::warm(12);
        for t in 0..15 {
            f.observe(0.1, 3);
            f.act(&mut g, 10 + t, 1, 100, 5);
        }
        assert_eq!(g.desired(), 11);
        assert_eq!(g.actions, vec![(24, -1)]);
        // Each minute after, the step alarm, still holding, removes one more: the larger capacity
        // of the two, so it wins over target tracking's 3 while it acts.
        f.observe(0.1, 3);
        f.act(&mut g, 25, 1, 100, 5);
        assert_eq!(g.desired(), 10);
        f.observe(0.1, 3);
        f.act(&mut g, 26, 1, 100, 5);
        assert_eq!(g.desired(), 9);
        // While instances boot, neither scales in (Auto Scaling blocks it until they warm up).
        let mut g = Group::warm(12);
        g.set_desired(14, 30, 5);
        for t in 31..35 {
            f.observe(0.1, 3);
            f.act(&mut g, t, 1, 100, 5);
        }
        assert_eq!(g.desired(), 14);
        f.observe(0.1, 3);
        f.act(&mut g, 35, 1, 100, 5);
        assert!(g.desired() < 14, "the new ones serve from minute 35");
    }

    #[test]
    fn scale_in_needs_fifteen_quiet_minutes_and_respects_cooldown_and_floor() {
        let mut g = Group::warm(10);
        let mut tt = TargetTracking::new(0.7, 5);
        for t in 0..14 {
            tt.observe(0.1, 2);
            tt.act(&mut g, t + 1, 1, 10, 5);
        }
        assert_eq!(g.desired(), 10);
        tt.observe(0.1, 2);
        tt.act(&mut g, 15, 4, 10, 5);
        assert_eq!(g.desired(), 4, "not below the floor");
        tt.observe(0.1, 2);
        tt.act(&mut g, 16, 1, 10, 5);
        assert_eq!(g.desired(), 4, "cooldown");
        tt.observe(0.1, 2);
        tt.act(&mut g, 20, 1, 10, 5);
        assert_eq!(g.desired(), 2);
        // With scale-in disabled it never scales in, and still scales out.
        let (mut g, mut tt) = (Group::warm(10), TargetTracking::new(0.7, 5).scaling_in(false));
        for t in 0..30 {
            tt.observe(0.1, 2);
            tt.act(&mut g, t + 1, 1, 20, 5);
        }
        assert_eq!(g.desired(), 10, "DisableScaleIn");
        for t in 30..33 {
            tt.observe(0.95, 14);
            tt.act(&mut g, t + 1, 1, 20, 5);
        }
        assert_eq!(g.desired(), 14, "scale-out still works");
    }
}
