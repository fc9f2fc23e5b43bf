//! The simulated Auto Scaling group and the reactive target-tracking policy.

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

/// Target tracking as Auto Scaling runs it on a metric with 1-minute periods: the high alarm fires
/// after 3 consecutive minutes above the target, the low alarm after 15 consecutive minutes below
/// 90 % of it (Auto Scaling's own low-alarm threshold, which keeps a group sized exactly at the
/// target from flapping). While an alarm is in alarm the policy is invoked every minute and sets
/// `ceil(in-service × utilization / target)` instances; a scale-out only adds, a scale-in only
/// removes, and scale-in waits out a cooldown after the previous scale-in. Instances still booting
/// report no metric, so utilization is measured on the serving instances only.
#[derive(Debug, Clone)]
pub struct TargetTracking {
    target: f64,
    cooldown: u64,
    above: u32,
    below: u32,
    last_scale_in: Option<u64>,
    need: u32,
}

/// Consecutive breaching minutes before a scale-out.
pub const SCALE_OUT_PERIODS: u32 = 3;
/// Consecutive minutes below the low threshold before a scale-in.
pub const SCALE_IN_PERIODS: u32 = 15;
/// The low alarm's threshold as a fraction of the target.
pub const SCALE_IN_THRESHOLD: f64 = 0.9;

impl TargetTracking {
    /// A policy tracking `target` utilization, with a scale-in cooldown of `cooldown` minutes.
    pub fn new(target: f64, cooldown: u64) -> Self {
        Self { target, cooldown, above: 0, below: 0, last_scale_in: None, need: 0 }
    }

    /// Feeds the metric of the minute that just ended: `utilization` of the serving instances and
    /// `need`, the instances the policy would set for it.
    pub fn observe(&mut self, utilization: f64, need: u32) {
        self.above = if utilization > self.target { self.above + 1 } else { 0 };
        self.below = if utilization < self.target * SCALE_IN_THRESHOLD { self.below + 1 } else { 0 };
        self.need = need;
    }

    /// The policy's action at the start of minute `t`, on what it observed so far, applied to the
    /// group within `[floor, max]` (the floor itself is applied by the caller).
    pub fn act(&mut self, g: &mut Group, t: u64, floor: u32, max: u32, boot: u64) {
        let need = self.need.clamp(floor.min(max), max);
        if self.above >= SCALE_OUT_PERIODS && need > g.desired() {
            g.set_desired(need, t, boot);
        } else if self.below >= SCALE_IN_PERIODS
            && need < g.desired()
            && self.last_scale_in.is_none_or(|l| t >= l + self.cooldown)
        {
            g.set_desired(need, t, boot);
            self.last_scale_in = Some(t);
        }
    }
}

/// Step scaling, aggressive out and conservative in, on the same 1-minute metric of the serving
/// instances. Out: after 2 consecutive minutes above the target, add a share of the serving
/// instances by how far above it the metric is: 20 % below +10 points, 50 % below +30 points, 100 %
/// beyond (at least one instance). Instances still booting count against a further step, as Auto
/// Scaling counts warming instances: the group grows to `serving + step` only where that exceeds
/// what it has. In: after 15 consecutive minutes below 60 % of the target, remove 10 % (at least
/// one), then wait for another 15 such minutes.
#[derive(Debug, Clone)]
pub struct StepScaling {
    target: f64,
    above: u32,
    below: u32,
    utilization: f64,
}

/// Consecutive breaching minutes before a step out.
pub const STEP_OUT_PERIODS: u32 = 2;
/// Consecutive low minutes before a step in.
pub const STEP_IN_PERIODS: u32 = 15;

impl StepScaling {
    /// A policy stepping around `target` utilization.
    pub fn new(target: f64) -> Self {
        Self { target, above: 0, below: 0, utilization: 0.0 }
    }

    /// Feeds the utilization of the minute that just ended.
    pub fn observe(&mut self, utilization: f64) {
        self.above = if utilization > self.target { self.above + 1 } else { 0 };
        self.below = if utilization < self.target * 0.6 { self.below + 1 } else { 0 };
        self.utilization = utilization;
    }

    /// The action at the start of minute `t`, within `[floor, max]`.
    pub fn act(&mut self, g: &mut Group, t: u64, floor: u32, max: u32, boot: u64) {
        let serving = g.serving(t.saturating_sub(1));
        if self.above >= STEP_OUT_PERIODS {
            let over = self.utilization - self.target;
            let share = if over < 0.1 {
                0.2
            } else if over < 0.3 {
                0.5
            } else {
                1.0
            };
            let add = ((f64::from(serving) * share).ceil() as u32).max(1);
            let want = serving.saturating_add(add).clamp(floor.min(max), max);
            if want > g.desired() {
                g.set_desired(want, t, boot);
            }
        } else if self.below >= STEP_IN_PERIODS {
            let remove = ((f64::from(g.desired()) * 0.1).ceil() as u32).max(1);
            let want = g.desired().saturating_sub(remove).max(floor);
            if want < g.desired() {
                g.set_desired(want, t, boot);
            }
            self.below = 0;
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

    #[test]
    fn step_scaling_steps_out_by_the_breach_and_in_by_a_tenth() {
        let mut g = Group::warm(4);
        let mut st = StepScaling::new(0.7);
        st.observe(0.75);
        st.act(&mut g, 1, 1, 100, 5);
        assert_eq!(g.desired(), 4, "one breaching minute is not enough");
        st.observe(0.75);
        st.act(&mut g, 2, 1, 100, 5);
        assert_eq!(g.desired(), 5, "+20 % of 4, rounded up");
        // Still breaching while the new one boots: the booting instance counts against the step.
        st.observe(0.75);
        st.act(&mut g, 3, 1, 100, 5);
        assert_eq!(g.desired(), 5);
        st.observe(3.0);
        st.act(&mut g, 4, 1, 100, 5);
        assert_eq!(g.desired(), 8, "+100 % of the 4 serving");
        let mut g = Group::warm(30);
        let mut st = StepScaling::new(0.7);
        for t in 0..15 {
            st.observe(0.1);
            st.act(&mut g, t + 1, 1, 100, 5);
        }
        assert_eq!(g.desired(), 27);
        st.observe(0.1);
        st.act(&mut g, 16, 1, 100, 5);
        assert_eq!(g.desired(), 27, "another 15 minutes first");
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
    }
}
