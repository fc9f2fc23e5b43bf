//! `apply` and `revert`: plans written to the groups, with an audit log.

use super::*;

mod applied;
mod audit;

pub(crate) use applied::*;
pub(crate) use audit::*;

/// The sink for a context: Auto Scaling, or the local stand-in groups saved in a JSON file.
pub(crate) enum Sink {
    Aws(AutoScalingSink),
    /// `as_of`: the latest moment a run that changed the stand-in ran at (its `--now` or clock),
    /// kept in the file with each group ([`STAND_IN_AS_OF`]).
    Local {
        inner: RecordingSink,
        path: PathBuf,
        as_of: DateTime<Utc>,
    },
}

/// The key beside each group of the local stand-in's file that holds the moment of the latest run
/// that changed it: a run at an earlier `--now` reads groups whose actions up to then already ran.
const STAND_IN_AS_OF: &str = "as_of";

impl Sink {
    pub(crate) fn open(ctx: &Ctx) -> Result<Self> {
        Self::open_for(ctx, true)
    }

    /// [`Sink::open`]; `replays`: whether a `--now` earlier than the stand-in's last change is
    /// worth a warning (not for a revert, which takes prescale's objects down whenever it runs).
    pub(crate) fn open_for(ctx: &Ctx, replays: bool) -> Result<Self> {
        let c = &ctx.config;
        Ok(match c.apply.sink {
            SinkKind::Autoscaling => {
                plain_endpoint();
                Sink::Aws(AutoScalingSink::new(&aws_options(c))?.stop_when(crate::stop::asked))
            }
            SinkKind::Local => {
                let path = ctx.out.join(&c.apply.local_state);
                let existed = path.exists();
                // What the stand-in says of itself, once per run (a nightly run opens it to plan
                // and to apply).
                static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
                let say = !SAID.swap(true, std::sync::atomic::Ordering::Relaxed);
                let not_state = || format!("{} is not a local group state file; move it aside", path.display());
                let (mut groups, ran_to): (Vec<GroupState>, Option<DateTime<Utc>>) = if existed {
                    let text =
                        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                    let values: Vec<serde_json::Value> = serde_json::from_str(&text).with_context(not_state)?;
                    // Files written before the stand-in kept it have no moment: any --now reads them.
                    let ran_to = values
                        .iter()
                        .filter_map(|v| v.get(STAND_IN_AS_OF)?.as_str()?.parse::<DateTime<Utc>>().ok())
                        .max();
                    let groups = values
                        .into_iter()
                        .map(serde_json::from_value)
                        .collect::<std::result::Result<_, _>>()
                        .with_context(not_state)?;
                    (groups, ran_to)
                } else {
                    // The stand-in lives under --out: a run with another --out than the runs that
                    // changed it starts new groups, which hold nothing of prescale's. Said.
                    if let Some(other) = other_audit_log(ctx).filter(|_| say) {
                        let theirs = out_of(&other).join(&c.apply.local_state);
                        if theirs.is_file() {
                            warn!(
                                "the local stand-in {} is new, its groups as configured: the groups the store's last \
                                 writing run changed are in {}\nhint: --out {}",
                                path.display(),
                                theirs.display(),
                                out_of(&other).display()
                            );
                        }
                    }
                    (Vec::new(), None)
                };
                // A configured group the stand-in does not hold yet (all of them at first, one
                // added to the configuration later) starts as configured, with nothing of prescale's.
                let missing: Vec<&GroupConfig> =
                    c.groups.iter().filter(|g| !groups.iter().any(|s| s.group == g.name)).collect();
                for g in missing {
                    if existed {
                        info!("{}: added to the local stand-in {} as configured", g.name, path.display());
                    }
                    groups.push(GroupState::bare(&g.name, CapacityBounds::new(g.min_size, g.max_size)?, g.min_size));
                }
                // What Auto Scaling did meanwhile: the actions whose time came ran and are gone.
                let now = ctx.write_now();
                // A run at an earlier --now than one that changed the stand-in (a replay started
                // again from an earlier day) reads its groups as that run left them: the actions
                // that ran by then are gone, and are not put back by going back in time.
                if let Some(t) = ran_to.filter(|t| *t - now >= chrono::Duration::minutes(1))
                    && say
                    && replays
                {
                    warn!(
                        "the local stand-in {} was last changed by a run as of {}, after this run's {}: the scheduled \
                         actions it ran by then are gone from it, and going back in time does not put them back\n\
                         hint: to replay from {}, move {} aside (the stand-in starts again from the configuration)",
                        path.display(),
                        t.format("%Y-%m-%d %H:%M UTC"),
                        now.format("%Y-%m-%d %H:%M UTC"),
                        now.format("%Y-%m-%d %H:%M UTC"),
                        path.display()
                    );
                }
                for g in &mut groups {
                    let ran = run_due(g, now);
                    if ran > 0 && say {
                        info!(
                            "{}: {ran} scheduled action{} of the local stand-in ran by {}: its bounds are {}–{}, desired {}",
                            g.group,
                            if ran == 1 { "" } else { "s" },
                            now.format("%Y-%m-%d %H:%M UTC"),
                            g.bounds.min(),
                            g.bounds.max(),
                            g.desired
                        );
                    }
                    // And what its target tracking did: the desired capacity it holds for the
                    // latest load (only up, where its scale-in is disabled).
                    let Some(gc) = c.groups.iter().find(|gc| gc.name == g.group) else { continue };
                    let Some(t) = tracked(ctx, gc, g, now) else { continue };
                    let wanted = match (t.scale_in, t.step_in_stops_at) {
                        (true, _) => t.need,
                        // The step policy scales in, by the night down to where its alarm stops.
                        (false, Some(stop)) => t.need.max(g.desired.min(stop)),
                        (false, None) => t.need.max(g.desired),
                    };
                    let desired = wanted.clamp(g.bounds.min(), g.bounds.max());
                    if desired != g.desired && say {
                        let held = match desired {
                            d if d > wanted => format!(", held at its MinSize {d}"),
                            d if d < wanted => format!(", held at its MaxSize {d}"),
                            d if d > t.need && !t.scale_in => {
                                ", where the step policy's scale-in stops (target tracking's is disabled)".to_string()
                            }
                            _ => String::new(),
                        };
                        info!(
                            "{}: the local stand-in's target tracking holds {} (was {}): the load of {} ({}) needs \
                             {}{held}",
                            g.group,
                            crate::output::counted(desired as usize, "instance"),
                            g.desired,
                            t.at.format("%Y-%m-%d %H:%M UTC"),
                            crate::output::num(t.load),
                            t.need
                        );
                    }
                    g.desired = desired;
                }
                Sink::Local { inner: RecordingSink::new(groups), path, as_of: ran_to.map_or(now, |t| t.max(now)) }
            }
        })
    }

    pub(crate) fn sink(&mut self) -> &mut dyn ActionSink {
        match self {
            Sink::Aws(s) => s,
            Sink::Local { inner, .. } => inner,
        }
    }

    pub(crate) fn save(&self) -> Result<()> {
        if let Sink::Local { inner, path, as_of } = self {
            let as_of = serde_json::Value::from(as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            let groups = inner
                .groups
                .values()
                .map(|g| {
                    let mut v = serde_json::to_value(g)?;
                    if let Some(o) = v.as_object_mut() {
                        o.insert(STAND_IN_AS_OF.to_string(), as_of.clone());
                    }
                    Ok(v)
                })
                .collect::<Result<Vec<_>>>()?;
            write_file_atomic(path, &serde_json::to_vec_pretty(&groups)?)?;
        }
        Ok(())
    }
}

/// What a stand-in group's target tracking holds by `now` ([`tracked`]).
struct Tracked {
    /// Instances the load needs at the target utilization.
    need: u32,
    /// The latest measured load and its time.
    load: f64,
    at: DateTime<Utc>,
    /// Whether the policy may scale in (not `DisableScaleIn`).
    scale_in: bool,
    /// Where its scale-in is disabled and prescale's step-in alarm owns it: the group size at
    /// which the load no longer breaches that alarm (it removes instances down to it).
    step_in_stops_at: Option<u32>,
}

/// What a stand-in group's target tracking holds by `now`: the instances the latest measured load
/// of the group needs at its target utilization (as target tracking sizes it: no planning
/// headroom), and where its scale-in is disabled, where prescale's step-in alarm stops scaling in. `None` where target tracking would not act: no target-tracking policy of prescale's
/// on the group, `AlarmNotification` suspended, or no load measured within `[trust]
/// max_data_age_mins` of `now` (the desired capacity stays as it was).
fn tracked(ctx: &Ctx, gc: &GroupConfig, g: &GroupState, now: DateTime<Utc>) -> Option<Tracked> {
    let (scale_in, target_value) = g.policies.iter().find_map(|p| match &p.kind {
        prescale_core::PolicyKind::TargetTracking { disable_scale_in, target_value, .. }
            if p.name.starts_with(prescale_core::OWNED_PREFIX) =>
        {
            Some((!disable_scale_in, *target_value))
        }
        _ => None,
    })?;
    if g.suspended.iter().any(|p| p == "AlarmNotification") {
        return None;
    }
    let (series, observed) = MetricStore::for_reading(&ctx.store_dir).read_observed(&Config::load_id(gc)).ok()?;
    let (at, load) = series
        .iter()
        .zip(&observed)
        .filter(|((ts, v), o)| **o && v.is_finite() && *ts <= now)
        .map(|(slot, _)| slot)
        .last()?;
    if (now - at).num_minutes() > ctx.config.trust.max_data_age_mins {
        return None;
    }
    let mut settings = ctx.config.plan_settings(gc).ok()?;
    settings.headroom = 0.0;
    let need = settings.instances(load, settings.target_utilization).min(f64::from(u32::MAX)) as u32;
    // The step-in alarm's threshold as a share of the target (it is set as one): the group stops
    // shrinking where the load per instance reaches it.
    let [_, step_in] = prescale_core::step_alarm_names(&gc.name);
    // (The alarm fires below the threshold: it goes on removing instances while that leaves the
    // load per instance under it, so it stops at the most instances that do not.)
    let per = settings.capacity_per_instance * settings.target_utilization;
    let step_in_stops_at = g
        .alarms
        .iter()
        .find(|a| a.name == step_in && a.actions_enabled)
        .map(|a| a.threshold / target_value)
        .filter(|share| *share > 0.0 && *share < 1.0 && per > 0.0)
        .map(|share| (load.max(0.0) / (per * share) * (1.0 + 1e-12)).floor().min(f64::from(u32::MAX)) as u32);
    Some(Tracked { need, load, at, scale_in, step_in_stops_at })
}

/// Runs the one-time scheduled actions of a stand-in group whose time has come by `now`, in order,
/// as Auto Scaling does: each sets the bounds it names (one that would leave MinSize above MaxSize
/// fails) and its desired capacity, the desired capacity kept within the bounds, and is deleted.
/// While the group's `ScheduledActions` process is suspended they pass without effect (Auto
/// Scaling does not run an action whose time passed during a suspension once it is resumed).
/// Returns how many ran.
fn run_due(g: &mut GroupState, now: DateTime<Utc>) -> usize {
    let suspended = g.suspended.iter().any(|p| p == "ScheduledActions");
    let (mut due, later): (Vec<ScheduledAction>, Vec<ScheduledAction>) = std::mem::take(&mut g.scheduled_actions)
        .into_iter()
        .partition(|a| a.recurrence.is_none() && a.start_time <= now);
    g.scheduled_actions = later;
    if suspended {
        return 0;
    }
    due.sort_by_key(|a| a.start_time);
    for a in &due {
        let (min, max) = (a.min_size.unwrap_or(g.bounds.min()), a.max_size.unwrap_or(g.bounds.max()));
        if let Ok(bounds) = CapacityBounds::new(min, max) {
            g.bounds = bounds;
            g.desired = a.desired_capacity.unwrap_or(g.desired).clamp(min, max);
        }
    }
    due.len()
}

/// What apply did (or would do) for one group.
#[derive(Debug, Serialize)]
pub struct GroupApply {
    pub group: String,
    pub sink: String,
    /// `apply` or `revert`.
    pub run: &'static str,
    pub changes: Vec<Change>,
    pub report: Option<ApplyReport>,
    pub error: Option<String>,
    /// Whether `error` passes by itself (the service was busy or did not answer).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub error_transient: bool,
    /// Things the user should know that are not changes (e.g. a MaxSize a revert cannot restore).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why the group's plan cannot work as written even once applied (its MaxSize below the
    /// floors: those actions fail when they run). Among the notes too; it fails the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unworkable: Option<String>,
    /// The first floor's rise over what the group runs, beyond `max_step_up` ([`first_step_up`]).
    /// Among the notes too; it fails `nightly --strict`.
    #[serde(skip)]
    pub first_step: Option<String>,
    /// What a person should look at that the run went on from: actions whose MaxSize was left
    /// out, as it would cut the instances the group runs ([`spare_running`]), and AWS's
    /// predictive scaling scaling the group beside the floors ([`predictive_beside`]). Among the
    /// notes too; they fail `nightly --strict`.
    #[serde(skip)]
    pub for_a_person: Vec<String>,
}

impl GroupApply {
    /// Whether none of the group was tried: the run stopped before it, or the service's calls
    /// failed on an earlier group as every call would.
    pub fn not_attempted(&self) -> bool {
        self.error.as_deref().is_some_and(|e| e.starts_with("not attempted"))
    }

    /// Its changes by what came of them: (made, or to make in a dry run; failed or not attempted;
    /// sent without an answer in time, which may have been made). A group that failed as a whole
    /// (`error`: not read, not written, not attempted) made none. The one count of the group's
    /// line, the run's line and the line after an `--execute`.
    pub fn tally(&self) -> (usize, usize, usize) {
        if self.error.is_some() {
            return (0, 0, 0);
        }
        let failed = self.report.as_ref().map_or(0, |r| r.failed.len()).min(self.changes.len());
        let unanswered = self.report.as_ref().map_or(0, ApplyReport::unanswered).min(failed);
        (self.changes.len() - failed, failed - unanswered, unanswered)
    }
}

/// Keeps only the plan's groups named with `--group`.
pub(crate) fn select_plan_groups(plan: &mut CapacityPlan, groups: &[String], path: &Path) -> Result<()> {
    for name in groups {
        if !plan.groups.iter().any(|g| &g.group == name) {
            let known: Vec<&str> = plan.groups.iter().map(|g| g.group.as_str()).collect();
            bail!("group {name:?} is not in the plan {}; it has: {}", path.display(), known.join(", "));
        }
    }
    if !groups.is_empty() {
        plan.groups.retain(|g| groups.contains(&g.group));
    }
    Ok(())
}

/// How old a plan may be when it is applied: a nightly plan is replaced the next night, and an
/// older one's floors are for hours that have passed (applying it would delete today's).
const MAX_PLAN_AGE_HOURS: i64 = 24;

/// Checks that a plan file is one `prescale plan` could have written for this configuration
/// before anything is applied: a plan is a file, and files get edited, copied between groups and
/// left lying around. The error names the group and object, and nothing is applied.
pub(crate) fn check_plan(ctx: &Ctx, plan: &CapacityPlan) -> Result<()> {
    let hint = "hint: run `prescale plan` again (plans are not edited by hand)";
    let age = ctx.now - plan.created_at;
    let at = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    if age > Duration::hours(MAX_PLAN_AGE_HOURS) {
        bail!(
            "plan {} was made at {}, {:.1} h before now ({}): its floors are for hours that have passed, and \
             applying it would delete today's\n{hint}",
            plan.plan_id,
            at(plan.created_at),
            age.num_minutes() as f64 / 60.0,
            at(ctx.now)
        );
    }
    if age < -Duration::minutes(5) {
        bail!(
            "plan {} was made for {}, after now ({}): it was planned with a later --now (or PRESCALE_NOW) than this \
             run's, and its floors would replace today's\nhint: apply with the --now it was planned for, or plan again",
            plan.plan_id,
            at(plan.created_at),
            at(ctx.now)
        );
    }
    // Hours old: its actions already due are not written (their time has passed); the floor in
    // force now goes in at once. Said, so that a missing 09:00 action is not a mystery.
    if age >= Duration::hours(1) {
        let soon = prescale_plan::due_before(ctx.now);
        let passed: usize =
            plan.groups.iter().map(|g| g.scheduled_actions.iter().filter(|a| a.start_time < soon).count()).sum();
        say!(
            "note: plan {} was made at {}, {:.1} h before now: {passed} of its actions are due already and are not \
             written; the floor each group should have now is set at once (`prescale plan` again plans from now)",
            plan.plan_id,
            at(plan.created_at),
            age.num_minutes() as f64 / 60.0
        );
    }
    let ceilings = ctx.config.ceilings()?;
    // The id names the copy an --execute keeps, and the audit log's lines.
    if !prescale_plan::is_plan_id(&plan.plan_id) {
        bail!("plan id {:?} is not one prescale writes (like 20261123T0000Z-38a8f025)\n{hint}", plan.plan_id);
    }
    if plan.groups.is_empty() {
        bail!("plan {} holds no group\n{hint}", plan.plan_id);
    }
    let mut seen = std::collections::HashSet::new();
    for g in &plan.groups {
        let name = &g.group;
        if !seen.insert(name) {
            bail!("plan {} lists group {name:?} twice\n{hint}", plan.plan_id);
        }
        let Some(c) = ctx.config.groups.iter().find(|c| &c.name == name) else {
            bail!(
                "group {name:?} of plan {} is not in {}: prescale applies plans only to the groups it is configured \
                 for, within their bounds and guardrails\n{hint}",
                plan.plan_id,
                ctx.config.origin
            );
        };
        if (g.bounds.min(), g.bounds.max()) != (c.min_size, c.max_size) {
            bail!(
                "group {name:?}: the plan was made for min {} and max {}, {} says min_size = {} and max_size = {}\n{hint}",
                g.bounds.min(),
                g.bounds.max(),
                ctx.config.origin,
                c.min_size,
                c.max_size
            );
        }
        let owned = |kind: &str, object: &str| -> Result<()> {
            if !object.starts_with(prescale_core::OWNED_PREFIX) {
                bail!(
                    "group {name:?}: {kind} {object:?} is not named {}…: prescale writes only its own objects and \
                     leaves everyone else's alone\n{hint}",
                    prescale_core::OWNED_PREFIX
                );
            }
            Ok(())
        };
        let mut names = std::collections::HashSet::new();
        for a in &g.scheduled_actions {
            owned("scheduled action", &a.name)?;
            if !names.insert(&a.name) {
                bail!("group {name:?}: scheduled action {:?} appears twice\n{hint}", a.name);
            }
            if a.start_time < plan.created_at {
                bail!(
                    "group {name:?}: scheduled action {:?} starts at {}, before the plan was made\n{hint}",
                    a.name,
                    a.start_time.format("%Y-%m-%d %H:%M UTC")
                );
            }
            if let Some(floor) = a.min_size.filter(|m| *m < c.min_size) {
                bail!(
                    "group {name:?}: scheduled action {:?} sets MinSize {floor}, below the group's min_size {}\n{hint}",
                    a.name,
                    c.min_size
                );
            }
            if let (Some(lo), Some(hi)) = (a.min_size, a.max_size)
                && hi < lo
            {
                bail!("group {name:?}: scheduled action {:?} sets MaxSize {hi} below MinSize {lo}\n{hint}", a.name);
            }
            // prescale sets MaxSize only to raise it for a peak (max_breach = "raise") and to put
            // it back; never the desired capacity.
            let ceiling = ceilings.get(name).copied().unwrap_or(c.max_size);
            if let Some(hi) = a.max_size.filter(|m| *m != c.max_size && *m != ceiling) {
                bail!(
                    "group {name:?}: scheduled action {:?} sets MaxSize {hi}; prescale sets it only to max_size = {} \
                     or, with max_breach = \"raise\", to {ceiling}\n{hint}",
                    a.name,
                    c.max_size
                );
            }
            if a.desired_capacity.is_some() {
                bail!(
                    "group {name:?}: scheduled action {:?} sets a desired capacity, which prescale never does\n{hint}",
                    a.name
                );
            }
        }
        // What the configuration makes of the group's reactive fallback: a plan's policies and
        // alarms are those, as far as no measurement changes them (warm-ups, alarm periods).
        let (policies, alarms) = prescale_plan::reactive_as_configured(name, &c.reactive);
        for p in &g.policies {
            owned("policy", &p.name)?;
            if let prescale_core::PolicyKind::TargetTracking { target_value, .. } = &p.kind
                && !(target_value.is_finite() && *target_value > 0.0)
            {
                bail!("group {name:?}: policy {:?} tracks a target of {target_value}\n{hint}", p.name);
            }
            let Some(want) = policies.iter().find(|w| w.name == p.name) else {
                bail!("group {name:?}: policy {:?} is not one {} makes for it\n{hint}", p.name, ctx.config.origin);
            };
            if let Some(what) = reactive_differs(&p.kind, &want.kind) {
                bail!("group {name:?}: policy {:?} {what}, not as {} makes it\n{hint}", p.name, ctx.config.origin);
            }
        }
        if let Some(raised) = g.raised_max.filter(|m| Some(m) != ceilings.get(name)) {
            bail!("group {name:?}: the plan raises MaxSize to {raised}, not to the configured ceiling\n{hint}");
        }
        let alarm_names = prescale_core::step_alarm_names(name);
        for a in &g.alarms {
            owned("alarm", &a.name)?;
            if !alarm_names.contains(&a.name) {
                bail!(
                    "group {name:?}: alarm {:?} is not one of the group's ({})\n{hint}",
                    a.name,
                    alarm_names.join(", ")
                );
            }
            if a.dimensions.get("AutoScalingGroupName").is_some_and(|d| d != name) {
                bail!(
                    "group {name:?}: alarm {:?} watches group {:?}\n{hint}",
                    a.name,
                    a.dimensions["AutoScalingGroupName"]
                );
            }
            if let Some(want) = alarms.iter().find(|w| w.name == a.name) {
                let same = (&a.namespace, &a.metric_name, &a.dimensions, &a.statistic, &a.comparison)
                    == (&want.namespace, &want.metric_name, &want.dimensions, &want.statistic, &want.comparison)
                    && (&a.treat_missing_data, &a.policy, a.actions_enabled)
                        == (&want.treat_missing_data, &want.policy, want.actions_enabled)
                    && a.threshold.is_finite()
                    && a.period_secs >= 10
                    && a.evaluation_periods >= 1;
                if !same {
                    bail!(
                        "group {name:?}: alarm {:?} watches {} {} {} {} {} (missing data {}) for {}, not as {} \
                         makes it ({} {} {} {} for {})\n{hint}",
                        a.name,
                        a.namespace,
                        a.metric_name,
                        a.statistic,
                        a.comparison,
                        a.threshold,
                        a.treat_missing_data,
                        a.policy,
                        ctx.config.origin,
                        want.namespace,
                        want.metric_name,
                        want.statistic,
                        want.comparison,
                        want.policy
                    );
                }
            } else {
                bail!("group {name:?}: alarm {:?} is not one {} makes for it\n{hint}", a.name, ctx.config.origin);
            }
            if !g.policies.iter().any(|p| p.name == a.policy) {
                bail!(
                    "group {name:?}: alarm {:?} triggers policy {:?}, which the plan does not hold\n{hint}",
                    a.name,
                    a.policy
                );
            }
        }
    }
    Ok(())
}

/// How a plan's policy `got` differs from the one the configuration makes, `want`, in what no
/// measurement changes (a warm-up does): the target tracked and its metric, and which way and by
/// which unit each step scales. `None` where they agree.
fn reactive_differs(got: &prescale_core::PolicyKind, want: &prescale_core::PolicyKind) -> Option<String> {
    use prescale_core::PolicyKind::{StepScaling, TargetTracking};
    match (got, want) {
        (
            TargetTracking { metric, resource_label, target_value, disable_scale_in, .. },
            TargetTracking { metric: m, resource_label: r, target_value: t, disable_scale_in: d, .. },
        ) => ((metric, resource_label, disable_scale_in) != (m, r, d) || target_value != t).then(|| {
            format!("tracks {metric} = {target_value}{}", if *disable_scale_in { " without scale-in" } else { "" })
        }),
        (StepScaling { adjustment_type, steps, .. }, StepScaling { adjustment_type: a, steps: s, .. }) => {
            // Out adds, in removes: the configured policy's first step says which.
            let out = s.first().is_some_and(|st| st.adjustment > 0);
            let wrong_way = steps.iter().any(|st| (st.adjustment > 0) != out || st.adjustment == 0);
            (adjustment_type != a || wrong_way || steps.len() != s.len())
                .then(|| format!("scales by {adjustment_type} in {} steps", steps.len()))
        }
        _ => Some("is another kind of policy".into()),
    }
}

/// The guardrail breaches of `groups`, with the configured groups they leave out counted as they
/// stand for `max_fleet_size` ([`others_in_place`]).
pub(crate) fn breaches(ctx: &Ctx, groups: &[GroupPlan]) -> Result<Vec<Breach>> {
    let mut all = groups.to_vec();
    all.extend(others_in_place(ctx, groups)?);
    Ok(prescale_plan::guardrails::check(&all, &ctx.config.guardrails, &ctx.config.ceilings()?))
}

/// Checks the plan against the configured guardrails: an error naming every breach, unless
/// `allow` (then each is logged and returned, for the audit log).
pub(crate) fn guard(ctx: &Ctx, plan: &CapacityPlan, allow: bool) -> Result<Vec<String>> {
    let all = breaches(ctx, &plan.groups)?;
    let found: Vec<String> = all.iter().map(ToString::to_string).collect();
    if found.is_empty() {
        return Ok(found);
    }
    // A fleet's peak that an event makes: the event named beside it, as the cause to look at.
    let cause = all.iter().find_map(|b| fleet_events(ctx, plan, b)).map(|c| format!("\n  {c}")).unwrap_or_default();
    if allow {
        for b in &found {
            warn!("guardrail overridden (--allow-guardrail-breach): {b}{cause}");
        }
        return Ok(found);
    }
    // A fleet over its limit may rather be planned within it than refused.
    let scale = if all.iter().any(|b| matches!(b, Breach::MaxFleetSize { .. }))
        && ctx.config.guardrails.fleet_breach != prescale_plan::FleetBreach::Scale
    {
        "; for the fleet's limit, fleet_breach = \"scale\" in [guardrails] has the planner take the floors down to \
         fit it instead"
    } else {
        ""
    };
    bail!(
        "plan {} breaks {} guardrail{} of {}; nothing was applied:\n  {}{cause}\nhint: check the forecast and the \
         plan (`prescale plan`), raise the limit in [guardrails], or rerun with --allow-guardrail-breach to apply it \
         anyway (with a dry run, to see the diff first){scale}",
        plan.plan_id,
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        ctx.config.origin,
        found.join("\n  ")
    )
}

/// For a `max_fleet_size` breach: the stored events within which the groups' peaks fall, in a
/// line, or `None` when none does.
fn fleet_events(ctx: &Ctx, plan: &CapacityPlan, b: &Breach) -> Option<String> {
    let Breach::MaxFleetSize { peaks, .. } = b else { return None };
    let events = EventStore::new(&ctx.store_dir).load().ok()?;
    let lead = Duration::hours(2);
    let parts: Vec<String> = peaks
        .iter()
        .filter_map(|(group, action, _)| {
            let at = plan
                .groups
                .iter()
                .find(|g| &g.group == group)?
                .scheduled_actions
                .iter()
                .find(|a| &a.name == action)?
                .start_time;
            let within: Vec<String> = events
                .iter()
                .filter(|e| e.group() == group && e.start() - lead <= at && at < e.end())
                .map(prescale_core::Event::label)
                .collect();
            (!within.is_empty()).then(|| {
                format!(
                    "{group}'s peak falls in event{} {}",
                    if within.len() == 1 { "" } else { "s" },
                    within.join(", ")
                )
            })
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "({}: `prescale event list` shows them, and `prescale plan --what-if` what each costs)",
            parts.join("; ")
        )
    })
}

/// For `max_fleet_size`: the configured groups this run does not plan or apply (`--group`), as
/// they stand: their MinSize and prescale's floors still to come. Applying groups one at a time
/// would otherwise let each run see only its own part of the fleet. A group that cannot be read is
/// warned about and left out of the sum.
pub(crate) fn others_in_place(ctx: &Ctx, planned: &[GroupPlan]) -> Result<Vec<GroupPlan>> {
    if ctx.config.guardrails.max_fleet_size.is_none() {
        return Ok(Vec::new());
    }
    let others: Vec<&str> =
        ctx.config.groups.iter().map(|g| g.name.as_str()).filter(|n| !planned.iter().any(|p| p.group == *n)).collect();
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let mut sink = Sink::open(ctx)?;
    let mut out = Vec::new();
    for name in others {
        match sink.sink().read_state(name) {
            Ok(state) => out.push(GroupPlan {
                group: format!("{name} (in place)"),
                environment: String::new(),
                bounds: state.bounds,
                raised_max: None,
                forecast: None,
                required: Vec::new(),
                // Its highest floor to come is all the fleet's sum needs (and one action has no
                // rise for max_step_up to judge: that group's schedule is not this run's).
                scheduled_actions: state
                    .scheduled_actions
                    .into_iter()
                    .filter(|a| prescale_plan::is_owned(&a.name) && a.start_time > ctx.now)
                    .max_by_key(|a| a.min_size)
                    .into_iter()
                    .collect(),
                policies: Vec::new(),
                alarms: Vec::new(),
                decisions: Vec::new(),
                events_digest: None,
                events: Vec::new(),
            }),
            Err(e) => warn!(
                "max_fleet_size: group {name} (not in this run) cannot be read, so its floors are not counted: {e}"
            ),
        }
    }
    Ok(out)
}

/// Applies `plan` (dry run unless `execute`). `overrides` are the guardrail breaches the user
/// allowed; they go into the audit log. `edited`: the plan file was edited since prescale wrote
/// it ([`edited_hash`] of it as read, before any `--group` selection), which names its kept copy.
pub fn apply(
    ctx: &Ctx,
    plan: &CapacityPlan,
    execute: bool,
    overrides: &[String],
    edited: Option<u32>,
) -> Result<Vec<GroupApply>> {
    let groups: Vec<String> = plan.groups.iter().map(|g| g.group.clone()).collect();
    // Written all the same (--allow-clock-skew; refused without): behind the clock by a minute,
    // the first action (a minute after --now) is already past.
    if execute && let Some(off) = super::clock_skew(ctx) {
        warn!(
            "--now (or PRESCALE_NOW) is {off} the clock, written as asked (--allow-clock-skew): the actions are timed \
             from it, and Auto Scaling refuses start times in the past and runs the others at their real time"
        );
    }
    // One run changing the groups at a time, from here: what the audit log holds is read after
    // any run this one waited for has logged its changes.
    if execute {
        hold_apply_lock(ctx)?;
    }
    // What the runs logging here did, in one reading of the log (a fleet's holds its lines by the
    // hundred thousand). What they put on the groups is not judged where the store's last
    // writing run logged elsewhere (said where it matters).
    let history = AuditHistory::read(ctx, &groups, other_audit_log(ctx).is_none());
    // A plan older than one the runs logging here already applied (read before this run waited
    // for one that applied a newer, or an old file named with --plan) would put back floors for
    // hours the newer plan replaced.
    if let Some(newer) = history.newer_than(plan) {
        let how = if newer.certain {
            format!("which a run applied to {} at {}", newer.group, newer.at)
        } else {
            format!(
                "which a run began to apply to {} at {} and did not see through (killed, or AWS did not answer): its \
                 changes may be on the group",
                newer.group, newer.at
            )
        };
        let why = format!(
            "plan {} is older than plan {}, {how}: applying it would replace that plan's floors with its own, for \
             hours the newer plan replaced",
            plan.plan_id, newer.plan_id
        );
        // Made after this machine's clock says it is: the clock is behind (or was ahead then).
        let made =
            chrono::NaiveDateTime::parse_from_str(newer.plan_id.split('-').next().unwrap_or_default(), "%Y%m%dT%H%MZ")
                .ok()
                .map(|t| t.and_utc());
        let clock =
            made.filter(|m| ctx.clock && *m > Utc::now() + Duration::minutes(5)).map_or_else(String::new, |m| {
                format!(
                    "; that plan was made at {}, after this machine's clock ({}): is the clock behind (`date`)?",
                    m.format("%Y-%m-%d %H:%M UTC"),
                    Utc::now().format("%Y-%m-%d %H:%M UTC")
                )
            });
        if execute {
            bail!(
                "{why}{clock}\nhint: apply the newest plan, or run `prescale plan` again (it plans from now); a run \
                 that waited for another's lock meets this when that run applied a newer plan, a replay at an earlier \
                 --now needs an --out of its own, and a clock behind needs setting right (the newer plan's floors stay \
                 until then)"
            );
        }
        warn!("{why}{clock}");
    }
    // A group the runs logging here wrote to and that the configuration no longer names keeps
    // prescale's floors, policies and alarms: no plan has it, so no run takes them down.
    // (Not a `--strict` failure: a second configuration writing to the same --out has groups this
    // one does not name.)
    for group in &history.unconfigured_written() {
        warn!(
            "{group}: prescale's runs logging to {} wrote to it, and it is no longer in {}: its floors, policies \
             and alarms stay on it until reverted\nhint: `prescale apply --revert --group {} --execute` takes them \
             down, and puts back a bound its floors left raised to what the last plan applied to it was \
             configured with",
            ctx.out.join("audit.jsonl").display(),
            ctx.config.origin,
            prescale_plan::shell_word(group)
        );
    }
    // What the runs logging here put on the groups: a floor of prescale's that differs from what
    // they put under its name was changed by another prescale (or by hand), which a run here
    // undoes and which undoes it. Not judged for names this log never saw (a new or rotated log).
    let (history_written, placed) = (history.written, history.placed);
    // What prescale last set on the groups' bounds, read from the log only for a group whose
    // MinSize is above its configured one ([`hand_raised_min`]).
    let record = std::cell::OnceCell::new();
    let record = || record.get_or_init(|| bounds_record(&ctx.out.join("audit.jsonl"), &groups).ok().flatten());
    let changes = |name: &str, state: &GroupState, sink: &str| {
        // Gone before their time: Auto Scaling removes a one-time action once it ran, not
        // before; one still to run that is no longer there was deleted (by hand, a tool).
        // (Not on the local stand-in: it runs its actions by the latest --now it saw, which a
        // replay at an earlier one is behind.)
        if let Some(p) = placed.get(&(sink.to_string(), name.to_string())).filter(|_| sink != prescale_plan::LOCAL_SINK)
        {
            let gone = gone_before_time(state, p, ctx.now.max(Utc::now()));
            if gone > 0 {
                warn!(
                    "{name}: {gone} of prescale's scheduled floors that the runs logging to {} put on it and that \
                     have not run yet are no longer there: deleted by hand or by another tool? The plan puts them \
                     back\nhint: to keep a group without prescale's floors, take it out of the configuration and \
                     `prescale apply --revert --group {}`",
                    ctx.out.join("audit.jsonl").display(),
                    prescale_plan::shell_word(name)
                );
            }
        }
        if let Some(w) = history_written.get(&(sink.to_string(), name.to_string())) {
            let strange = not_written_here(state, w);
            if strange > 0 {
                warn!(
                    "{name}: {strange} of prescale's scheduled actions on it differ from what the runs logging to {} \
                     put there: another prescale writes this group (another store, --out or host), or a person changed \
                     them; two writers undo each other's floors\nhint: give each group one nightly job, and make \
                     changes by hand with `prescale apply` from the same --out",
                    ctx.out.join("audit.jsonl").display()
                );
            }
        }
        // Actions whose time has passed are not written again (see `due_now`). Judged by the
        // clock as the group is read: a nightly run's ingest and fit take minutes, and Auto
        // Scaling refuses a start time in the past.
        let now = ctx.write_now();
        let within = Duration::minutes(i64::from(ctx.config.apply.keep_within_mins));
        let Some(gp) = plan.groups.iter().find(|g| g.group == name) else { return (vec![], vec![]) };
        // Floors moved by a few minutes since the last apply stay as they are where that is on
        // the safe side (see `keep_in_place`).
        let (written, kept) = prescale_plan::keep_in_place(&prescale_plan::due_now(gp, state, now), state, now, within);
        hand_raised_min(
            ctx,
            name,
            sink,
            state,
            &written,
            history_written.get(&(sink.to_string(), name.to_string())),
            &record,
        );
        let notes = (kept > 0)
            .then(|| {
                format!(
                    "{kept} planned floor{} not written: the group holds {} already, or one up to {} min sooner for \
                     a rise or later for a fall ([apply] keep_within_mins)",
                    if kept == 1 { "" } else { "s" },
                    if kept == 1 { "it" } else { "them" },
                    ctx.config.apply.keep_within_mins
                )
            })
            .into_iter()
            .collect();
        (diff(state, &written), notes)
    };
    let run =
        Run { kind: "apply", plan_id: Some(&plan.plan_id), plan: Some((plan, edited)), overrides, floors_only: false };
    carry_out(ctx, run, &groups, changes, execute)
}

/// Warns where a group's `MinSize` is above its configured one and above what prescale's runs
/// logging to this `--out` last set (a person raised it, an incident's surge), and the first of
/// prescale's floors to run once `plan` is applied lowers it: the raise lasts only until then.
/// Said with what holds capacity up instead. Judged only where the log knows every floor of
/// prescale's on the group (`written`: after a rotation it may not) and the value is none that
/// prescale's runs put (so the log's bounds record, read for it, is read only then).
fn hand_raised_min<'r>(
    ctx: &Ctx,
    name: &str,
    sink: &str,
    state: &GroupState,
    plan: &GroupPlan,
    written: Option<&std::collections::HashMap<String, Vec<ScheduledAction>>>,
    record: &dyn Fn() -> &'r Option<BoundsRecord>,
) {
    let (current, configured) = (state.bounds.min(), plan.bounds.min());
    let Some(written) = written.filter(|_| current > configured) else { return };
    let known = state
        .scheduled_actions
        .iter()
        .filter(|a| prescale_plan::is_owned(&a.name))
        .all(|a| written.contains_key(&a.name));
    let put = written.values().flatten().any(|a| a.min_size == Some(current));
    if !known || put {
        return;
    }
    let Some(record) = record().as_ref() else { return };
    let last = last_set(record.get(&(sink.to_string(), name.to_string())), state, ctx.now.max(Utc::now()));
    if last.min.iter().max().is_none_or(|m| current <= *m) {
        return;
    }
    // The first of prescale's floors to run once the plan is applied (its actions are then the
    // group's), where it lowers MinSize.
    let Some(a) = plan.scheduled_actions.iter().filter(|a| a.min_size.is_some()).min_by_key(|a| a.start_time) else {
        return;
    };
    if a.min_size.is_none_or(|m| m >= current) {
        return;
    }
    let last: Vec<String> = last.min.iter().map(u32::to_string).collect();
    warn!(
        "{name}: MinSize is {current}, above what prescale's runs last set ({}): raised by hand or by another tool? \
         prescale's floor {} at {} sets it to {}, and the raise lasts until then\nhint: to hold capacity up, \
         `prescale event add --group {} --name … --start … --end … --peak N` (the plan's floors then hold it); to \
         keep the raise as it is, `prescale pause --group {}` and then `prescale apply --revert --floors-only \
         --keep-bounds --group {} --execute` (a pause alone leaves prescale's floors on the group, and they run)",
        last.join(" or "),
        a.name,
        prescale_plan::local(a.start_time, prescale_plan::action_zone(a)),
        a.min_size.unwrap_or_default(),
        prescale_plan::shell_word(name),
        prescale_plan::shell_word(name),
        prescale_plan::shell_word(name)
    );
}

/// `AWS_ENDPOINT_URL` in plain `http://` to a host other than this machine: every call, its
/// signature and the session token go over the network unencrypted. Said once a run.
fn plain_endpoint() {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Ok(url) = std::env::var("AWS_ENDPOINT_URL") else { return };
    let Some(rest) = url.strip_prefix("http://") else { return };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host =
        host.rsplit_once(':').filter(|(h, port)| !h.is_empty() && port.parse::<u16>().is_ok()).map_or(host, |(h, _)| h);
    let local = matches!(host, "localhost" | "[::1]") || host.starts_with("127.");
    if !local && !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
        warn!(
            "AWS_ENDPOINT_URL is {url}: every Auto Scaling and CloudWatch call goes there, not to AWS, unencrypted (the \
             session token with it)\nhint: unset it to reach AWS, or give an https:// endpoint"
        );
    }
}

/// Removes every object prescale owns from `groups`; when empty, from every configured group and
/// every group the `--out`'s audit log shows prescale wrote to since its last revert, configured
/// or not.
pub fn revert(
    ctx: &Ctx,
    groups: &[String],
    execute: bool,
    keep_bounds: bool,
    floors_only: bool,
) -> Result<Vec<GroupApply>> {
    let mut targets: Vec<String> =
        if groups.is_empty() { ctx.config.groups.iter().map(|g| g.name.clone()).collect() } else { groups.to_vec() };
    if groups.is_empty() {
        // A group taken out of the configuration keeps prescale's objects until a revert takes
        // them down: a revert of everything is one.
        for name in AuditHistory::read(ctx, &[], false).unconfigured_written() {
            warn!(
                "{name} is no longer in {}, and prescale's runs logging to {} wrote to it: reverting it too, by name",
                ctx.config.origin,
                ctx.out.join("audit.jsonl").display()
            );
            targets.push(name);
        }
    }
    for name in groups {
        if !ctx.config.groups.iter().any(|g| &g.name == name) {
            // A group taken out of the configuration may still hold prescale's objects; a typo
            // would be an Auto Scaling call on a name nobody meant, so it is said, with the names.
            warn!(
                "{name} is not in {} (its groups: {}): reverting it anyway, by name, as a group taken out of the \
                 configuration may still hold prescale's objects",
                ctx.config.origin,
                ctx.config.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ")
            );
        }
    }
    // What prescale last set on each group's bounds, from the audit log: a bound its actions left
    // raised goes back to the configured one, and only such a bound. Read at the first group, once
    // the run holds the apply lock (a nightly run writing meanwhile has logged what it set). A log
    // that cannot be read leaves the bounds, said, and the dry run goes on to show the rest (an
    // --execute also needs to append to it, and stops before any change where it cannot).
    let log = ctx.out.join("audit.jsonl");
    let record: std::cell::OnceCell<std::result::Result<Option<BoundsRecord>, String>> = std::cell::OnceCell::new();
    let record = || record.get_or_init(|| bounds_record(&log, &targets).map_err(|e| format!("{e:#}")));
    // Said by the audit log as it opens when the revert writes.
    let elsewhere = other_audit_log(ctx);
    if let Some(other) = elsewhere.as_ref().filter(|_| !execute && !keep_bounds) {
        warn!(
            "{}, not to {}: this revert sees only what its --out's log records\nhint: --out {}",
            logged_elsewhere(ctx, other),
            log.display(),
            out_of(other).display()
        );
    }
    let rerun = match &elsewhere {
        Some(other) => format!("run revert with --out {}, where they logged", out_of(other).display()),
        None => "run revert with the --out of the runs that applied".to_string(),
    };
    // An action of prescale's that is no longer on the group and whose time has passed has run
    // (Auto Scaling removes a one-time action once it ran): passed by --now or by the clock,
    // whichever is later, so a --now left behind the clock (a stray PRESCALE_NOW) does not take
    // floors that ran today for ones still to come, and leave their MinSize raised. (The local
    // stand-in runs its actions by --now: one timed after it is still on the group, which
    // `last_set` leaves out whatever the clock says.)
    let now = ctx.now.max(Utc::now());
    // A group a later plan would be applied to again: one configured and not paused.
    // (Pauses that cannot be read are said, and no pause is suggested: it would fail too.)
    let pauses = prescale_store::PauseStore::new(&ctx.store_dir)
        .holding_at(ctx.now)
        .inspect_err(|e| warn!("the pauses cannot be read: {e}"))
        .ok();
    let paused = |name: &str| pauses.iter().flatten().any(|p| p.group == name);
    let changes = |name: &str, state: &GroupState, sink: &str| {
        let mut changes = prescale_plan::revert(state);
        // Only the floors: prescale's scaling policies and alarms stay, so the group still scales.
        if floors_only {
            changes.retain(|c| matches!(c, Change::DeleteScheduledAction { .. }));
        }
        let again = (!changes.is_empty()
            && pauses.is_some()
            && ctx.config.groups.iter().any(|g| g.name == name)
            && !paused(name))
        .then(|| {
            format!(
                "the next plan applied to {name} (the nightly run's) puts prescale's {} back: `prescale pause \
                     --group {}` first keeps prescale off it until the pause ends or `prescale resume`",
                if floors_only { "floors" } else { "objects" },
                prescale_plan::shell_word(name)
            )
        });
        let configured = ctx.config.groups.iter().find(|g| g.name == name).map(|g| (g.min_size, g.max_size));
        // Taken out of the configuration: the bounds the last plan applied to it held (those it was
        // configured with then), where this --out kept one.
        let (configured, from_plan) = match configured.map(|(min, max)| CapacityBounds::new(min, max)) {
            Some(Ok(b)) => (Some(b), None),
            _ => match last_applied_bounds(ctx, name) {
                Some((b, id)) => (Some(b), Some(id)),
                None => (None, None),
            },
        };
        let Some(configured) = configured else {
            let note = format!(
                "bounds {}–{} left as they are: {name} has no min_size / max_size in {} to put back, nor a plan \
                 applied to it in {}; if prescale's floors raised them, `aws autoscaling \
                 update-auto-scaling-group --auto-scaling-group-name {} --min-size N --max-size M` with the group's \
                 own",
                state.bounds.min(),
                state.bounds.max(),
                ctx.config.origin,
                ctx.out.join("applied").display(),
                prescale_plan::shell_word(name)
            );
            let notes = if changes.is_empty() { vec![] } else { vec![note] };
            return (changes, notes);
        };
        let mut notes: Vec<String> = again.into_iter().collect();
        // The bounds above the configured ones, and the command that puts them back (never a
        // MaxSize below the group's instances: where they fill it, once they have scaled in).
        let raised = state.bounds.min() > configured.min() || state.bounds.max() > configured.max();
        let min = (state.bounds.min() > configured.min()).then_some(configured.min());
        let max =
            (state.bounds.max() > configured.max().max(state.desired)).then(|| configured.max().max(state.desired));
        let by_hand = || match (min, max) {
            (None, None) => format!(
                "once the group has scaled in to {} instances or fewer, `{}`",
                configured.max(),
                prescale_plan::bounds_command(name, None, Some(configured.max()))
            ),
            _ => format!("`{}`", prescale_plan::bounds_command(name, min, max)),
        };
        // `why` follows "left as they are".
        let left = |why: String| {
            format!(
                "bounds {}–{}, above the configured {}–{}, left as they are{why}. By hand: {}",
                state.bounds.min(),
                state.bounds.max(),
                configured.min(),
                configured.max(),
                by_hand()
            )
        };
        if let Some(id) = from_plan.as_ref().filter(|_| raised) {
            notes.push(format!(
                "{name} is not in {}: its bounds are judged against {}–{}, as plan {id}, the last applied to it, was \
                 configured",
                ctx.config.origin,
                configured.min(),
                configured.max()
            ));
        }
        match (raised, keep_bounds) {
            (false, _) => {}
            (true, true) => notes.push(left(" (--keep-bounds)".into())),
            (true, false) => match record() {
                Err(e) => notes.push(left(format!(": {e}, which tells whether prescale's actions set them"))),
                Ok(None) => notes.push(left(format!(
                    ": there is no audit log at {} to tell whether prescale's actions set them ({rerun})",
                    log.display()
                ))),
                Ok(Some(record)) => {
                    let last = last_set(record.get(&(sink.to_string(), name.to_string())), state, now);
                    let (bounds, said) = prescale_plan::restore_bounds(state, configured, last);
                    changes.extend(bounds);
                    notes.extend(said);
                }
            },
        }
        // Handed back: with prescale's policies gone and none of the group's own that acts (AWS's
        // predictive scaling in ForecastOnly only forecasts), nothing scales it, in or out.
        let removes_policies = changes.iter().any(|c| matches!(c, Change::DeletePolicy { .. }));
        let acting = state
            .policies
            .iter()
            .any(|p| !prescale_plan::is_owned(&p.name) && predictive_mode(p) != Some("ForecastOnly"));
        if removes_policies && !acting {
            let only = state.policies.iter().any(|p| predictive_mode(p) == Some("ForecastOnly"));
            notes.push(format!(
                "once prescale's policies are removed no policy scales this group{}: it stays at the {} instances it \
                 runs (desired capacity), whatever the load. Put back what scaled it before (target tracking, or the \
                 predictive policy in ForecastAndScale), or set it by hand (`aws autoscaling set-desired-capacity \
                 --auto-scaling-group-name {} --desired-capacity N`)",
                if only { " (its AWS predictive scaling is in ForecastOnly, which only forecasts)" } else { "" },
                state.desired,
                prescale_plan::shell_word(name)
            ));
        }
        (changes, notes)
    };
    let run = Run { kind: "revert", plan_id: None, plan: None, overrides: &[], floors_only };
    carry_out(ctx, run, &targets, changes, execute)
}

/// The scheduled actions `changes` put.
fn put_actions(changes: &[Change]) -> impl Iterator<Item = &prescale_core::ScheduledAction> {
    changes.iter().filter_map(|c| match c {
        Change::PutScheduledAction { new, .. } => Some(new),
        _ => None,
    })
}

/// Why `changes` cannot start on a group: Auto Scaling holds at most 125 scheduled actions per
/// group, its owners' included, and a plan that would pass that fails part-way.
fn over_action_limit(state: &GroupState, changes: &[Change]) -> Option<String> {
    let (mut ours, theirs) = state
        .scheduled_actions
        .iter()
        .fold((0usize, 0usize), |(o, t), a| if prescale_plan::is_owned(&a.name) { (o + 1, t) } else { (o, t + 1) });
    for c in changes {
        match c {
            Change::PutScheduledAction { old: None, .. } => ours += 1,
            Change::DeleteScheduledAction { .. } => ours = ours.saturating_sub(1),
            _ => {}
        }
    }
    let limit = prescale_plan::MAX_ACTIONS_PER_GROUP;
    if ours + theirs <= limit {
        return None;
    }
    let room = limit.saturating_sub(theirs);
    let hint = if room >= 2 {
        format!("set [plan] max_actions to at most {room} (or remove scheduled actions the group no longer needs)")
    } else {
        "remove scheduled actions the group no longer needs: a plan needs room for at least 2".to_string()
    };
    Some(format!(
        "the plan's {ours} scheduled actions and the {theirs} others already on the group make {}, over Auto \
         Scaling's {limit} per group: nothing was changed on it\nhint: {hint}",
        ours + theirs
    ))
}

/// `[guardrails] max_step_up` for the first of prescale's actions to run once `changes` are made
/// (the plan's own check judges each later one against the one before): the floor it sets over
/// what the group runs when read, its MinSize or, when higher, its desired capacity (a floor at
/// or below the instances in service launches none). A plan made elsewhere, or a forecast far
/// above the load the group serves (a unit mistake), would otherwise raise it in one jump.
fn first_step_up(ctx: &Ctx, state: &GroupState, changes: &[Change]) -> Option<String> {
    let limit = ctx.config.guardrails.max_step_up?;
    let touched: std::collections::HashSet<&str> = changes.iter().map(Change::object_name).collect();
    let kept = state
        .scheduled_actions
        .iter()
        .filter(|a| prescale_plan::is_owned(&a.name) && !touched.contains(a.name.as_str()));
    let now = ctx.write_now();
    let first = put_actions(changes).chain(kept).filter(|a| a.start_time > now).min_by_key(|a| a.start_time)?;
    let to = first.min_size?;
    let from = state.running();
    (to > from && to - from > limit).then(|| {
        format!(
            "guardrail max_step_up at the first floor: action {} raises the floor from the {from} instances the group \
             runs now (MinSize {}, desired {}) to {to} (+{}), more than [guardrails] max_step_up = {limit}",
            first.name,
            state.bounds.min(),
            state.desired,
            to - from
        )
    })
}

/// prescale's actions still to run, in `changes` or already on the group, that lower the group's
/// MaxSize below the instances it runs now (its desired capacity): Auto Scaling lowers the
/// desired capacity with it, terminating instances in service. A MaxSize above the configured
/// one (raised by hand, or by AWS's predictive scaling with `IncreaseMaxCapacity`, which leaves
/// it raised) would meet the plan's first action with `max_breach = "raise"`, which puts the
/// configured one back. Each such action is written with the group's MaxSize as it is (its floor
/// stays), and the note says so; the next run that finds the group running no more puts the
/// configured one back. Where the group's MaxSize is prescale's own raise (`max_size` plus
/// `max_breach_buffer`; a MaxSize raised by hand to exactly that is taken for it), an action
/// that puts it back after one of the plan's own holding it there ends a peak the plan still
/// sees, and goes as planned; one with no such action before it ends a peak the plan no longer
/// sees (an event removed during it, a lower forecast) and is spared as the others are. `None`
/// when none is spared.
fn spare_running(
    ctx: &Ctx,
    state: &GroupState,
    changes: &mut Vec<Change>,
    planned: Option<&prescale_core::GroupPlan>,
) -> Option<String> {
    let now = ctx.write_now();
    let (running, current) = (state.desired, state.bounds.max());
    let ceiling =
        ctx.config.groups.iter().find(|g| g.name == state.group).and_then(|g| ctx.config.plan_settings(g).ok());
    let prescale_raise =
        ceiling.is_some_and(|ps| ps.ceiling() == current && ps.max_breach != prescale_plan::MaxBreach::Clamp);
    // prescale's actions already on the group that no change replaces would cut it as well.
    let touched: std::collections::HashSet<String> = changes.iter().map(|c| c.object_name().to_string()).collect();
    let stored: Vec<Change> = state
        .scheduled_actions
        .iter()
        .filter(|a| prescale_plan::is_owned(&a.name) && !touched.contains(&a.name))
        .map(|a| Change::PutScheduledAction { new: a.clone(), old: Some(a.clone()) })
        .collect();
    changes.extend(stored);
    // Left as it is (a revert then leaves it too: prescale set nothing), unless the plan raises
    // it for a peak: then set to the group's own, to take that raise back to it.
    let raises = put_actions(changes).any(|a| a.max_size.is_some_and(|m| m > current));
    let due = prescale_plan::due_before(now);
    // The first of the plan's own actions that holds prescale's raise (one the group holds
    // already, which no change writes, counts: a peak under way whose raise has run): a put-back
    // after it ends a peak the plan sees.
    let held_from = prescale_raise
        .then(|| {
            let own = planned.map_or(&[][..], |p| p.scheduled_actions.as_slice());
            own.iter().chain(put_actions(changes)).filter(|a| a.max_size == Some(current)).map(|a| a.start_time).min()
        })
        .flatten();
    let mut spared: Vec<(String, u32)> = Vec::new();
    for c in changes.iter_mut() {
        if let Change::PutScheduledAction { new, .. } = c
            && new.start_time >= due
            && held_from.is_none_or(|held| new.start_time <= held)
            && let Some(max) = new.max_size.filter(|m| *m < running && *m < current)
        {
            new.max_size = raises.then_some(current);
            spared.push((new.name.clone(), max));
        }
    }
    // A put that now does what the group's action already does is no change.
    changes.retain(
        |c| !matches!(c, Change::PutScheduledAction { new, old: Some(old) } if prescale_plan::same_action(new, old)),
    );
    let (first, max) = spared.first()?.clone();
    let more = match spared.len() {
        1 => String::new(),
        n => format!(" (and {} more action{})", n - 1, if n == 2 { "" } else { "s" }),
    };
    let terminate = running - max;
    if prescale_raise {
        return Some(format!(
            "MaxSize {max} of {first}{more} not set: the group runs {running} instances under the MaxSize {current} \
             prescale raised for a peak this plan no longer sees (an event removed or cut short, a lower forecast), \
             and Auto Scaling would terminate {terminate} of them in service to fit {max}; the floors go in with \
             MaxSize {current} kept, target tracking scales the group in as its load falls, and the next run puts \
             MaxSize {max} back once the group runs no more than that; while its load keeps it above, the raise \
             stays (to cap it now, `aws autoscaling update-auto-scaling-group --auto-scaling-group-name {word} \
             --max-size {max}`, which terminates what runs above it)",
            word = prescale_plan::shell_word(&state.group)
        ));
    }
    Some(format!(
        "MaxSize {max} of {first}{more} not set: the group runs {running} instances under its MaxSize {current}, and \
         Auto Scaling would terminate {terminate} of them in service to fit {max}; the floors go in with the group's \
         MaxSize as it is, and the next run sets MaxSize {max} once the group runs no more than that. If {current} \
         is the group's limit now, set max_size = {current} in the configuration"
    ))
}

/// The mode of an AWS predictive scaling policy as read from the group (`PredictiveScaling
/// ForecastOnly`), or `None` for any other policy.
fn predictive_mode(p: &prescale_core::ReactivePolicy) -> Option<&str> {
    match &p.kind {
        prescale_core::PolicyKind::Other { policy_type } => policy_type.strip_prefix("PredictiveScaling "),
        _ => None,
    }
}

/// AWS's predictive scaling in `ForecastAndScale` on the group: it schedules capacity ahead of
/// its own forecast beside prescale's floors, and Auto Scaling runs the group at the larger of
/// the two each hour, so the group pays for whichever forecast is higher. Said with how to put
/// it in `ForecastOnly` (it keeps forecasting, to compare). `None` otherwise.
fn predictive_beside(state: &GroupState) -> Option<String> {
    let scaling: Vec<(&str, &str)> = state
        .policies
        .iter()
        .filter_map(|p| predictive_mode(p).filter(|m| *m != "ForecastOnly").map(|m| (p.name.as_str(), m)))
        .collect();
    let first = prescale_plan::shell_word(scaling.first()?.0);
    let names: Vec<String> =
        scaling.iter().map(|(name, mode)| format!("{} in {mode}", crate::output::printable(name))).collect();
    Some(format!(
        "AWS predictive scaling also scales this group ({names}): it sets capacity ahead of its \
         own forecast beside prescale's floors, and the group runs at the larger of the two, so it pays for \
         whichever forecast is higher. While prescale plans the group, put {them} in ForecastOnly (the console's \
         \"Forecast only\", or `aws autoscaling put-scaling-policy --auto-scaling-group-name {group} --policy-name \
         {first} --policy-type PredictiveScaling` with its configuration and \"Mode\": \"ForecastOnly\"): it goes on \
         forecasting, to compare with `prescale forecast show --group {group}`",
        names = names.join(", "),
        them = if scaling.len() == 1 { "it" } else { "them" },
        group = prescale_plan::shell_word(&state.group),
    ))
}

/// Floors are planned within the configured bounds: a group whose MaxSize is lower cannot take
/// the higher ones (Auto Scaling fails such an action when it runs). Judged on the group's
/// actions once the changes are made: its own that no change touches, and the ones put.
fn max_below_floors(state: &GroupState, changes: &[Change]) -> Option<String> {
    let touched: std::collections::HashSet<&str> = changes.iter().map(Change::object_name).collect();
    let scheduled = state
        .scheduled_actions
        .iter()
        .filter(|a| prescale_plan::is_owned(&a.name) && !touched.contains(a.name.as_str()));
    let top =
        put_actions(changes).chain(scheduled).filter(|a| a.max_size.is_none()).filter_map(|a| a.min_size).max()?;
    (top > state.bounds.max()).then(|| {
        format!(
            "the group's MaxSize is {}, below floors of up to {top} in this plan: those actions will fail when they \
             run. Set max_size in the configuration to the group's, or raise the group's MaxSize",
            state.bounds.max()
        )
    })
}

/// Auto Scaling processes suspended on the group, said with what they stop and how to resume
/// them: `(blocking, other)`. Those that stop the plan from protecting the group (its floors,
/// `ScheduledActions`; its alarms, `AlarmNotification`; any scale-out, `Launch`) are blocking
/// and fail the run, unless the group's configuration lists them as suspended `on_purpose`;
/// `Terminate` (no scale-in: a cost, not a risk, and often suspended on purpose) and those listed
/// are said only. A deploy tool that suspends them and dies leaves them so; prescale does not
/// resume them (whoever suspended them may still need them so).
fn suspended_processes(group: &str, state: &GroupState, on_purpose: &[String]) -> (Option<String>, Option<String>) {
    let word = prescale_plan::shell_word(group);
    let listed = |p: &str| on_purpose.iter().any(|o| o == p);
    let say = |blocking: bool| {
        let hit: Vec<(&str, &str)> = crate::config::CHECKED_PROCESSES
            .iter()
            .filter(|(p, _, b)| (*b && !listed(p)) == blocking && state.suspended.iter().any(|s| s == p))
            .map(|(p, e, _)| (*p, *e))
            .collect();
        let names: Vec<&str> = hit.iter().map(|(p, _)| *p).collect();
        let (one, it) = if names.len() == 1 { ("", "it") } else { ("es", "them") };
        (!hit.is_empty()).then(|| {
            format!(
                "Auto Scaling process{one} {} suspended on the group: {} ({}); resume {it} once whoever suspended {it} \
                 is done: aws autoscaling resume-processes --auto-scaling-group-name {word} --scaling-processes {}",
                if names.len() == 1 { format!("{} is", names[0]) } else { format!("{} are", names.join(", ")) },
                hit.iter().map(|(_, e)| *e).collect::<Vec<_>>().join(", "),
                match (blocking, names.iter().all(|p| listed(p))) {
                    (true, _) => "a deploy tool's leftover? If on purpose, list it in the group's suspended_on_purpose",
                    (false, true) => "on purpose, as the group's suspended_on_purpose says",
                    (false, false) => "on purpose, or a deploy tool's leftover?",
                },
                names.join(" ")
            )
        })
    };
    (say(true), say(false))
}

/// What the diff of a group should say beside its changes (`kind`: `apply` or `revert`): bounds
/// of the group that the plan or a revert leaves at odds with the configuration, and others'
/// objects that act beside prescale's.
fn group_notes(ctx: &Ctx, kind: &str, group: &str, state: &GroupState, changes: &[Change]) -> Vec<String> {
    let mut notes = Vec::new();
    let g = ctx.config.groups.iter().find(|g| g.name == group);
    // Whether prescale has anything on the group (what a revert would remove): a group it never
    // managed has bounds that are its owners', not a floor's.
    let owned = !prescale_plan::revert(state).is_empty();
    if kind == "apply" {
        // Others' scheduled actions within the plan's hours change MinSize under prescale's
        // floors (the later action wins until the next one), and others' policies scale beside.
        let last = put_actions(changes)
            .map(|a| a.start_time)
            .chain(state.scheduled_actions.iter().filter(|a| prescale_plan::is_owned(&a.name)).map(|a| a.start_time))
            .max();
        let within: Vec<String> = state
            .scheduled_actions
            .iter()
            .filter(|a| {
                !prescale_plan::is_owned(&a.name) && (a.recurrence.is_some() || last.is_some_and(|l| a.start_time <= l))
            })
            .map(|a| {
                let sizes: Vec<String> =
                    [("MinSize", a.min_size), ("MaxSize", a.max_size), ("desired", a.desired_capacity)]
                        .iter()
                        .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
                        .collect();
                // A recurring action runs by its cron, whatever its first start.
                let when = match &a.recurrence {
                    Some(r) => format!(
                        "recurring \"{r}\"{}",
                        a.zone().map(|z| format!(" in {z}")).unwrap_or_else(|| " in UTC".into())
                    ),
                    None => format!("at {}", prescale_plan::local(a.start_time, prescale_plan::action_zone(a))),
                };
                format!("{} {when} ({})", a.name, sizes.join(", "))
            })
            .collect();
        if !within.is_empty() {
            notes.push(format!(
                "{} scheduled action{} of others run{} within this plan's hours: {}. Auto Scaling keeps the last one \
                 that ran, so until prescale's next action it sets the group, floor or not{}; to hold capacity up \
                 for a time, `prescale event add --group {} … --peak N` has prescale's floors hold it",
                within.len(),
                if within.len() == 1 { "" } else { "s" },
                if within.len() == 1 { "s" } else { "" },
                within.join("; "),
                // One of prescale's at the same minute: which runs first is not promised.
                if state.scheduled_actions.iter().chain(put_actions(changes)).any(|a| {
                    prescale_plan::is_owned(&a.name)
                        && state.scheduled_actions.iter().any(|o| {
                            !prescale_plan::is_owned(&o.name) && o.recurrence.is_none() && o.start_time == a.start_time
                        })
                }) {
                    " (one of them starts in the same minute as one of prescale's: Auto Scaling does not say which \
                     runs first)"
                } else {
                    ""
                },
                prescale_plan::shell_word(group)
            ));
        }
        let policies: Vec<&str> = state
            .policies
            .iter()
            .filter(|p| !prescale_plan::is_owned(&p.name) && predictive_mode(p).is_none())
            .map(|p| p.name.as_str())
            .collect();
        // AWS's predictive scaling only forecasting changes nothing (in ForecastAndScale it is
        // said as one to look at: `predictive_beside`).
        for p in state.policies.iter().filter(|p| predictive_mode(p) == Some("ForecastOnly")) {
            notes.push(format!(
                "AWS predictive scaling policy {} is in ForecastOnly: it forecasts and changes nothing; prescale's \
                 floors are what act ahead of the load",
                p.name
            ));
        }
        if !policies.is_empty() {
            notes.push(format!(
                "the group also has scaling policies of others ({}): Auto Scaling scales out on whichever asks for \
                 the most capacity and in only when all of them agree",
                policies.join(", ")
            ));
        }
        if let Some(g) = g
            && !owned
            && let Some(lowest) = put_actions(changes).filter_map(|a| a.min_size).min()
            && state.bounds.min() > g.min_size
            && lowest < state.bounds.min()
        {
            let min = state.bounds.min();
            notes.push(format!(
                "the group's MinSize is {min}, above the configured min_size {}, and prescale has nothing on it yet: \
                 this plan lowers it (to {lowest}). If {min} is a floor the group must keep, set min_size = {min} in \
                 the configuration",
                g.min_size
            ));
        }
        // With max_breach = "raise" every plan sets the configured MaxSize: a group whose own
        // MaxSize lies above anything prescale sets is lowered, which the owners should know.
        if let Some(g) = g
            && let Ok(ps) = ctx.config.plan_settings(g)
            && let Some(sets) = put_actions(changes).filter_map(|a| a.max_size).min()
            && state.bounds.max() > ps.ceiling()
        {
            let max = state.bounds.max();
            notes.push(format!(
                "the group's MaxSize is {max}, above anything prescale sets (max_size {}, {} for a peak): this plan \
                 sets it to {sets}, which also caps the reactive policies. If {max} is the group's limit, set \
                 max_size = {max} in the configuration",
                g.max_size,
                ps.ceiling()
            ));
        }
        // With max_breach = "clamp" no plan sets MaxSize: a configured max_size below the group's
        // caps prescale's floors, not the group, which its reactive policies can still grow to
        // its own MaxSize (a max_size lowered to cap the cost does not, by itself).
        if let Some(g) = g
            && let Ok(ps) = ctx.config.plan_settings(g)
            && ps.max_breach == prescale_plan::MaxBreach::Clamp
            && state.bounds.max() > g.max_size
            && (owned || put_actions(changes).next().is_some())
        {
            let (max, cap) = (state.bounds.max(), g.max_size);
            notes.push(format!(
                "the group's MaxSize is {max}, above the configured max_size {cap}: prescale's floors stay within \
                 {cap}, but the reactive policies can still grow the group to {max}. If {cap} is to cap the group, \
                 `{}`; if {max} is its limit, set max_size = {max} in the configuration",
                prescale_plan::bounds_command(group, None, Some(cap))
            ));
        }
    }
    // Others' names come from AWS as they were given: a newline or an escape in one is shown
    // escaped, not as a line of its own or a terminal's command.
    notes.iter().map(|n| crate::output::printable(n)).collect()
}

#[derive(Clone, Copy)]
pub(crate) struct Run<'a> {
    kind: &'static str,
    plan_id: Option<&'a str>,
    /// The plan an `apply` run makes, kept as applied ([`keep_applied`]) before its first change,
    /// and whether it was edited ([`edited_hash`]).
    plan: Option<(&'a CapacityPlan, Option<u32>)>,
    overrides: &'a [String],
    /// A revert of prescale's floors alone (`--floors-only`): its policies and alarms stay.
    floors_only: bool,
}

/// How long `apply --execute` waits for another run applying changes to finish.
const APPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The apply locks, once this process holds them: kept until the process ends.
static APPLY_LOCK: std::sync::Mutex<Vec<(PathBuf, prescale_store::FileLock)>> = std::sync::Mutex::new(Vec::new());

/// Takes `STORE/apply.lock`, and `OUT/apply.lock` where `--out` is another folder, for this run,
/// waiting up to [`APPLY_WAIT`] for another run that changes the groups, and keeps them until the
/// process ends; taken again, they are already held. The store's keeps two runs on one store
/// from writing to its groups at once; the out folder's, two runs on different stores from
/// writing one audit log (each would read the other's changes under way as a crashed run's) and
/// one local stand-in. A `nightly --execute` takes them before it writes its plan, so a run that
/// waits and gives up has replaced neither `OUT/plan.json` nor kept a plan as applied.
pub(crate) fn hold_apply_lock(ctx: &Ctx) -> Result<()> {
    let mut held = APPLY_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let where_ = |dir: &Path| dir.canonicalize().or_else(|_| std::path::absolute(dir)).unwrap_or_else(|_| dir.into());
    let (store, out) = (where_(&ctx.store_dir), where_(&ctx.out));
    // In one order whatever the flags (by path): two runs, even with --store and --out swapped,
    // cannot each hold the one the other waits for.
    let mut paths = vec![store, out];
    paths.sort();
    paths.dedup();
    // One wait for both: the two minutes the help gives, not two minutes each.
    let deadline = std::time::Instant::now() + APPLY_WAIT;
    for path in paths.into_iter().map(|dir| dir.join("apply.lock")) {
        if held.iter().any(|(p, _)| *p == path) {
            continue;
        }
        // Another run holding it is said before the wait, so a log shows why this one stands still.
        let lock = match prescale_store::lock_run(&path, std::time::Duration::ZERO) {
            Err(prescale_store::StoreError::Applying { holder, .. }) => {
                let wait = deadline.saturating_duration_since(std::time::Instant::now());
                let secs = wait.as_secs_f64().round() as u64;
                if secs == 0 {
                    return Err(prescale_store::StoreError::Applying { path: path.clone(), holder }.into());
                }
                say!(
                    "waiting up to {} for the run changing the groups now ({holder}, {})",
                    if secs.is_multiple_of(60) { format!("{} min", secs / 60) } else { format!("{secs} s") },
                    path.display()
                );
                let lock = prescale_store::lock_run(&path, wait)?;
                say!("… it ended: this run goes on");
                lock
            }
            taken => taken?,
        };
        held.push((path, lock));
    }
    Ok(())
}

/// Releases the apply locks [`hold_apply_lock`] took, at the end of the run: their files are
/// emptied.
pub(crate) fn release_apply_lock() {
    APPLY_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
}

/// Reads each group, works out its changes, and (with `execute`) makes them and appends them to
/// the audit log; without, records them in `OUT/dry-run-changes.json`.
pub(crate) fn carry_out(
    ctx: &Ctx,
    run: Run<'_>,
    groups: &[String],
    changes_for: impl Fn(&str, &GroupState, &str) -> (Vec<Change>, Vec<String>),
    execute: bool,
) -> Result<Vec<GroupApply>> {
    // One run changing the groups at a time: two would each make (and log) the same changes. Taken
    // before the groups are read (the local stand-in's file is read as it opens: one read before
    // another run's writes would be saved over them).
    if execute {
        hold_apply_lock(ctx)?;
    }
    let mut sink = Sink::open_for(ctx, run.kind != "revert")?;
    let name = sink.sink().describe();
    // The audit log is opened before the first change: a run that cannot log changes nothing.
    let mut audit = if execute { Some(AuditLog::open(ctx, run, groups)?) } else { None };
    let kept_new = match (execute, run.plan) {
        (true, Some((plan, edited))) => keep_applied(ctx, plan, edited)?,
        _ => false,
    };
    // Whether the audit log got a change of this run.
    let mut logged = false;
    // A dry run after a run cut off mid-change: said, as the next --execute will (which marks them);
    // one beside a run making its changes now (it holds the out folder's lock, whatever its
    // store) sees that run's, not a crash.
    if !execute && let Some((tail, _)) = log_tail(&ctx.out.join("audit.jsonl")) {
        let open = interrupted(&tail);
        let running = match prescale_store::lock_run(&ctx.out.join("apply.lock"), std::time::Duration::ZERO) {
            Err(prescale_store::StoreError::Applying { holder, .. }) => Some(holder),
            _ => None,
        };
        if let (Some(holder), false) = (&running, open.is_empty()) {
            warn!(
                "another run ({holder}) is making changes now: this dry run reads the groups as they stand, part way \
                 through it"
            );
        } else if !open.is_empty() {
            let them = if open.len() == 1 { "it" } else { "them" };
            warn!(
                "{}: that run stopped while making {them} (a crash, a kill). This dry run reads the groups as they \
                 are, so its diff shows what is left; the next --execute marks {them} `interrupted` and makes the rest",
                no_outcome(&ctx.out.join("audit.jsonl"), &open)
            );
        }
    }
    // An earlier dry run's list of changes no longer says what is left to do once this run
    // writes (nor after it, if it is cut off): gone before the first change.
    let stale = ctx.out.join("dry-run-changes.json");
    if execute && stale.exists() {
        let _ = std::fs::remove_file(&stale);
    }
    // From here a SIGTERM or Ctrl-C lets the call in flight finish and its outcome be logged.
    let _writing = execute.then(crate::stop::writing);
    let mut log_error: Option<anyhow::Error> = None;
    // Once the service did not answer, the other groups are not tried: each would wait as long.
    // (The first such group, and whether its failure passes by itself.)
    let mut unreachable: Option<(String, bool)> = None;
    let mut results = Vec::new();
    // A fleet's groups take seconds each (a read, then the writes): a line on a terminal says
    // where the run is, wiped before a warning and at the end.
    let verb = match (run.kind, execute) {
        ("revert", true) => "reverting",
        (_, true) => "applying",
        _ => "reading",
    };
    // A group a revert does not find is taken as deleted in AWS only where this --out's log shows
    // prescale wrote to it through this very sink (same region): elsewhere it is a wrong region,
    // account or name, which must fail as such, not pass as reverted. Read once, and only when a
    // revert meets such a group.
    let written_here: std::cell::OnceCell<std::collections::HashSet<String>> = std::cell::OnceCell::new();
    let written_here = |group: &str| {
        written_here
            .get_or_init(|| {
                let mut seen = std::collections::HashSet::new();
                let _ = each_audit_line(&ctx.out.join("audit.jsonl"), groups, |_, sink, group| {
                    if sink == name {
                        seen.insert(group.to_string());
                    }
                });
                seen
            })
            .contains(group)
    };
    let mut progress = super::Progress::new(verb, groups.len());
    for group in groups {
        let mut r = GroupApply {
            group: group.clone(),
            sink: name.clone(),
            run: run.kind,
            changes: vec![],
            report: None,
            error: None,
            error_transient: false,
            notes: vec![],
            unworkable: None,
            first_step: None,
            for_a_person: vec![],
        };
        // Asked to stop before the group's first write: none of it is attempted (nor logged).
        let stopped = |r: &mut GroupApply| {
            let signal = crate::stop::asked()?;
            r.error = Some(format!(
                "not attempted: the run was stopped ({signal}) before this group's changes; run again to make them"
            ));
            r.error_transient = true;
            Some(())
        };
        if stopped(&mut r).is_some() {
            results.push(r);
            continue;
        }
        if let Some((first, transient)) = &unreachable {
            r.error = Some(format!(
                "not attempted: the calls for group {first} failed as every call would (see there); {}",
                if *transient { "the next run tries again" } else { "the next run tries again once that is mended" }
            ));
            r.error_transient = *transient;
            results.push(r);
            continue;
        }
        // Counted from here: a group not attempted (the run stopped, the service gone) is no step.
        progress.step(group);
        // A revert of a group that no longer exists (deleted in AWS): its scheduled actions and
        // policies went with it; what CloudWatch keeps of prescale's (its alarms) is removed, and
        // the revert is on record, so that no run asks for it again.
        let mut gone = None;
        let state = match sink.sink().read_state(group) {
            Ok(s) => s,
            Err(e @ prescale_core::SinkError::GroupNotFound { .. }) if run.kind == "revert" && written_here(group) => {
                match sink.sink().leftovers(group) {
                    Ok(alarms) => {
                        gone = Some(e.to_string());
                        GroupState {
                            alarms,
                            ..GroupState::bare(group.clone(), CapacityBounds::new(0, 0).expect("0–0 is a range"), 0)
                        }
                    }
                    Err(e) => {
                        r.error_transient = e.is_transient();
                        r.error = Some(e.to_string());
                        results.push(r);
                        continue;
                    }
                }
            }
            Err(e) => {
                if matches!(e, prescale_core::SinkError::Unreachable { .. }) {
                    unreachable = Some((group.clone(), e.is_transient()));
                }
                r.error_transient = e.is_transient();
                r.error = Some(match e {
                    // Deleted on purpose, it keeps failing every night until it is reverted.
                    prescale_core::SinkError::GroupNotFound { .. } => format!(
                        "{e}; if it was deleted on purpose (and this is the region prescale wrote it in), take it out \
                         of {} and revert it by name (`prescale apply --revert --group NAME --execute`): that removes \
                         the alarms prescale left for it",
                        ctx.config.origin
                    ),
                    e => e.to_string(),
                });
                results.push(r);
                continue;
            }
        };
        if let Some(why) = &gone {
            r.changes = state.alarms.iter().map(|a| Change::DeleteAlarm { old: a.clone() }).collect();
            r.notes.push(format!(
                "{}: its scheduled actions and policies went with it{}",
                why.split(" (check").next().unwrap_or(why),
                if r.changes.is_empty() {
                    "; nothing of prescale's is left of it"
                } else {
                    "; this revert removes prescale's alarms for it, which CloudWatch keeps"
                }
            ));
        } else {
            let notes;
            (r.changes, notes) = changes_for(group, &state, &name);
            r.notes = group_notes(ctx, run.kind, group, &state, &r.changes);
            r.notes.extend(notes);
        }
        if run.kind == "apply" {
            let on_purpose =
                ctx.config.groups.iter().find(|g| g.name == *group).map_or(&[][..], |g| &g.suspended_on_purpose);
            let (suspended, scale_in_off) = suspended_processes(group, &state, on_purpose);
            // A list that outlived its reason would let a later leftover pass unsaid.
            let stale: Vec<&str> =
                on_purpose.iter().filter(|p| !state.suspended.contains(p)).map(String::as_str).collect();
            if !stale.is_empty() {
                let note = format!(
                    "suspended_on_purpose lists {} but the group has {} suspended: drop {} from the list once its \
                     reason is over, or a deploy tool's leftover would pass unsaid",
                    stale.join(", "),
                    if stale.len() == 1 { "it not" } else { "them not" },
                    if stale.len() == 1 { "it" } else { "them" }
                );
                warn!("{group}: {note}");
                r.notes.push(note);
            }
            if let Some(note) = scale_in_off {
                warn!("{group}: {note}");
                r.notes.insert(0, note);
            }
            let why: Vec<String> = [max_below_floors(&state, &r.changes), suspended].into_iter().flatten().collect();
            r.unworkable = (!why.is_empty()).then(|| why.join("; and "));
            if let Some(note) = &r.unworkable {
                // Said on every run while it holds (also a run with nothing to change), and on
                // stderr: it needs someone to act.
                warn!("{group}: {note}");
                r.notes.insert(0, note.clone());
            }
            // Said on every run, whatever else stops the group's changes.
            if let Some(note) = predictive_beside(&state) {
                warn!("{group}: {note}");
                r.notes.insert(0, note.clone());
                r.for_a_person.push(note);
            }
            if let Some(error) = over_action_limit(&state, &r.changes) {
                r.error = Some(error);
                r.changes.clear();
                results.push(r);
                continue;
            }
            // Before the limits on the floors: what is written is judged.
            let planned = run.plan.and_then(|(p, _)| p.groups.iter().find(|g| g.group == *group));
            if let Some(note) = spare_running(ctx, &state, &mut r.changes, planned) {
                warn!("{group}: {note}");
                r.notes.insert(0, note.clone());
                r.for_a_person.push(note);
            }
            // Said, not refused: the planner cannot ramp before now, and a group whose floors sit
            // above what target tracking holds (P90 at the target) would be refused every night.
            r.first_step = first_step_up(ctx, &state, &r.changes);
            if let Some(breach) = &r.first_step {
                let note = format!(
                    "{breach}; written all the same, as no ramp can start before now (the rises after it keep to the \
                     limit): check the forecast and the plan (`prescale plan`) if the group should not grow so fast"
                );
                warn!("{}: {note}", r.group);
                r.notes.insert(0, note);
            }
        }
        if execute && !r.changes.is_empty() && stopped(&mut r).is_some() {
            results.push(r);
            continue;
        }
        if let Some(log) = audit.as_mut()
            && !r.changes.is_empty()
        {
            // Written and synced before the call: a crash during it leaves the intent on record.
            // A log that cannot be written stops the run before the next change.
            if let Err(e) = log.write(&r.group, &r.sink, r.changes.iter().map(|c| (c, "attempting", None))) {
                log_error = Some(e);
                break;
            }
            logged = true;
            match sink.sink().apply(group, &r.changes) {
                Ok(rep) => r.report = Some(rep),
                Err(e) => {
                    r.error_transient = e.is_transient();
                    r.error = Some(e.to_string());
                }
            }
            // The local stand-in keeps its groups in a file: saved before the log says
            // "applied", so a run killed after this group has its changes in both or neither.
            if let Err(e) = sink.save() {
                r.error = Some(format!("{e:#}"));
                r.error_transient = false;
                r.report = None;
            }
            let error = r.error.clone();
            let outcomes: Vec<Outcome> = match &r.report {
                Some(rep) => rep
                    .applied
                    .iter()
                    .map(|c| (c, "applied", None))
                    .chain(rep.failed.iter().map(|f| {
                        // Sent and not answered in time: it may have been made.
                        let status = if f.unanswered { "unknown" } else { "failed" };
                        (&f.change, status, Some((f.error.as_str(), f.transient)))
                    }))
                    .collect(),
                // The group's changes failed as a whole, possibly part-way: the next dry run shows
                // which of them took effect.
                None => {
                    r.changes.iter().map(|c| (c, "unknown", error.as_deref().map(|e| (e, r.error_transient)))).collect()
                }
            };
            if let Err(e) = log.write(&r.group, &r.sink, outcomes.into_iter()) {
                log_error = Some(e);
                results.push(r);
                break;
            }
        }
        // Once its alarms are gone too (or there were none), the gone group's revert is done.
        if let (Some(log), Some(why)) = (audit.as_mut(), &gone)
            && r.error.is_none()
            && r.report.as_ref().is_none_or(|rep| rep.failed.is_empty())
            && let Err(e) = log.gone(&r.group, &r.sink, why)
        {
            log_error = Some(e);
            results.push(r);
            break;
        }
        results.push(r);
    }
    std::fs::create_dir_all(&ctx.out).with_context(|| format!("cannot create {}", ctx.out.display()))?;
    if let (true, Some((plan, edited))) = (execute, run.plan) {
        drop_or_prune_applied(ctx, plan, edited, kept_new, logged);
    }
    if execute {
        // What was changed is kept even when the log failed part-way; where that fails too (a
        // full disk), the log's failure is still said with it.
        let saved = sink.save();
        if let Some(e) = log_error {
            let e = match saved {
                Err(s) => e.context(format!("{s:#}")),
                Ok(()) => e,
            };
            return Err(e.context(
                "the run stopped: the changes made so far are in the groups, and the next dry run lists what is left",
            ));
        }
        saved?;
    } else {
        let path = ctx.out.join("dry-run-changes.json");
        write_file_atomic(&path, &serde_json::to_vec_pretty(&results)?)?;
    }
    Ok(results)
}

pub(crate) fn fail_on_partial(results: &[GroupApply], execute: bool) -> Result<()> {
    let unworkable: Vec<String> =
        results.iter().filter_map(|r| r.unworkable.as_ref().map(|u| format!("{}: {u}", r.group))).collect();
    let mut text = failed_changes(results, execute).unwrap_or_default();
    if !unworkable.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!(
            "{} group{} cannot take {} plan as written:\n  {}",
            unworkable.len(),
            if unworkable.len() == 1 { "" } else { "s" },
            if unworkable.len() == 1 { "its" } else { "their" },
            unworkable.join("\n  ")
        ));
    }
    if text.is_empty() { Ok(()) } else { bail!("{text}") }
}

/// How many distinct reasons a failed run lists; the rest are counted.
const REASONS_SAID: usize = 8;

/// What failed, when anything did: each reason once, with the groups it stopped.
fn failed_changes(results: &[GroupApply], execute: bool) -> Option<String> {
    let not_attempted = results.iter().filter(|r| r.not_attempted()).count();
    let failed: usize = results
        .iter()
        .map(|r| r.report.as_ref().map_or(0, |rep| rep.failed.len()) + usize::from(r.error.is_some()))
        .sum::<usize>()
        - not_attempted;
    if failed + not_attempted == 0 {
        return None;
    }
    // What failed, here too: a cron job's mail may hold stderr only.
    // Each reason once, with every group it stopped (a fleet stopped part way has a hundred alike).
    let mut why: Vec<(String, Vec<&str>)> = Vec::new();
    fn add<'a>(why: &mut Vec<(String, Vec<&'a str>)>, group: &'a str, reason: String) {
        // Without the group's own name, which the line already begins with: a fleet in the wrong
        // region has one reason (`Auto Scaling group not found in …`), not one per group.
        let reason = reason.replace(&format!("on group {group:?}"), "on the group").replace(&format!(" {group:?}"), "");
        // Nor each call's request id: a permission missing for the fleet is one reason.
        let reason = match reason.split_once(", request ") {
            Some((before, after)) => format!("{before}{}", after.find(')').map_or("", |i| &after[i..])),
            None => reason,
        };
        match why.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, groups)) => groups.push(group),
            None => why.push((reason, vec![group])),
        }
    }
    for r in results {
        if let Some(e) = &r.error {
            // With its hint: under --quiet this line is all a cron job's mail has of it.
            let hint = e.lines().find_map(|l| l.strip_prefix("hint: ")).map_or(String::new(), |h| format!(" ({h})"));
            add(&mut why, &r.group, format!("{}{hint}", e.lines().next().unwrap_or_default()));
        }
        // The first change that failed for its own reason, else the first not attempted.
        let first =
            r.report.as_ref().and_then(|rep| rep.failed.iter().find(|f| !f.not_attempted).or(rep.failed.first()));
        if let (Some(rep), Some(prescale_core::Failed { change, error: e, .. })) = (&r.report, first) {
            let (n, skipped) = (rep.failed.len(), rep.not_attempted());
            add(
                &mut why,
                &r.group,
                format!(
                    "{} {}, the first {} {}: {}",
                    crate::output::counted(n, "change"),
                    match (skipped, rep.unanswered()) {
                        (0, _) => "failed".to_string(),
                        (k, _) if k == n => "not attempted".to_string(),
                        (k, 0) => format!("not made ({k} not attempted)"),
                        (k, u) =>
                            format!("not confirmed ({k} not attempted, {u} without an answer: they may have been made)"),
                    },
                    change.object_kind(),
                    change.object_name(),
                    e.lines().next().unwrap_or_default()
                ),
            );
        }
    }
    let mut list: String = why
        .iter()
        .take(REASONS_SAID)
        .map(|(reason, groups)| {
            let named = match groups.len() {
                0..=4 => groups.join(", "),
                n => format!("{} and {} more groups", groups[..3].join(", "), n - 3),
            };
            format!("\n  {named}: {reason}")
        })
        .collect();
    // A cron job's mail, not a log: the other reasons are counted, and `-v` has each group's.
    if why.len() > REASONS_SAID {
        let rest = &why[REASONS_SAID..];
        let mut groups: Vec<&str> = rest.iter().flat_map(|(_, g)| g.iter().copied()).collect();
        groups.sort_unstable();
        groups.dedup();
        list.push_str(&format!(
            "\n  and {} other reasons, in {} (a run without --quiet shows each group's)",
            rest.len(),
            crate::output::counted(groups.len(), "group")
        ));
    }
    // Changes a group did not send after one of its own failed (or the run was stopped) are
    // counted apart from those that failed: they were never tried.
    let skipped: usize = results.iter().map(|r| r.report.as_ref().map_or(0, ApplyReport::not_attempted)).sum();
    let failed = failed.saturating_sub(skipped);
    let counted = crate::output::counted;
    let mut parts = Vec::new();
    if failed > 0 {
        let what = if failed == 1 { "change or group" } else { "changes or groups" };
        parts.push(format!("{failed} {what} failed"));
    }
    if skipped > 0 {
        parts.push(format!("{} not attempted", counted(skipped, "change")));
    }
    if not_attempted > 0 {
        parts.push(format!("{} not attempted", counted(not_attempted, "group")));
    }
    let counted = match parts.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    // A busy or silent service passes; a change it refused for what it is does not, by itself.
    let refused = results.iter().any(|r| {
        (r.error.is_some() && !r.error_transient)
            || r.report.as_ref().is_some_and(|rep| rep.failed.iter().any(|f| !f.transient))
    });
    let reverting = results.iter().all(|r| r.run == "revert");
    let unanswered: usize = results.iter().map(|r| r.report.as_ref().map_or(0, ApplyReport::unanswered)).sum();
    let unknown = if unanswered > 0 {
        format!(" ({unanswered} of them sent without an answer in time: they may have been made)")
    } else {
        String::new()
    };
    Some(if execute {
        format!(
            "{counted}{unknown}; {}:{list}",
            match (reverting, refused) {
                (false, true) => {
                    "the next run tries again from what was applied, and what was refused needs its cause (below) \
                     mended first"
                }
                (false, false) => "the next run converges from what was applied",
                (true, true) => {
                    "revert again to remove what is left of prescale's, once what was refused (below) is mended"
                }
                (true, false) => "revert again to remove what is left of prescale's",
            }
        )
    } else {
        let groups = failed + not_attempted;
        format!("{groups} {} failed; nothing was changed:{list}", if groups == 1 { "group" } else { "groups" })
    })
}

#[cfg(test)]
mod tests {
    use super::{GroupApply, failed_changes, run_due};
    use prescale_core::{ApplyReport, CapacityBounds, Change, GroupState, ScheduledAction};

    #[test]
    fn a_plan_read_back_makes_its_id_again() {
        // Full-precision floats (a forecast's peaks) read back to the same bits, so a plan's
        // content hashes to its id after a round trip through its file.
        for i in 1..5000_u32 {
            let x = f64::from(i) * 1.234_567_890_123_456_7 / 7.0 + 1e-9 * f64::from(i % 13);
            let back: f64 = serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap();
            assert_eq!(x.to_bits(), back.to_bits(), "{x}");
        }
    }

    #[test]
    fn the_stand_in_runs_the_actions_whose_time_came_as_auto_scaling_does() {
        let t0 = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let at = |m: i64, min: u32| {
            ScheduledAction::floor(format!("prescale-floor-{m}"), t0 + chrono::Duration::minutes(m), min)
        };
        let raise = ScheduledAction { max_size: Some(30), ..at(20, 25) };
        let daily = ScheduledAction { recurrence: Some("0 8 * * *".into()), ..at(5, 9) };
        let mut g = GroupState {
            scheduled_actions: vec![at(30, 4), at(10, 6), raise, daily.clone(), at(60, 8)],
            ..GroupState::bare("g", CapacityBounds::new(2, 20).unwrap(), 3)
        };
        let mut paused = GroupState { suspended: vec!["ScheduledActions".into()], ..g.clone() };
        // By t0 + 30 min: 6, then 25 with MaxSize 30, then 4 ran in turn; the desired capacity
        // follows MinSize up and stays where it is above it.
        assert_eq!(run_due(&mut g, t0 + chrono::Duration::minutes(30)), 3);
        assert_eq!((g.bounds.min(), g.bounds.max(), g.desired), (4, 30, 25));
        let left: Vec<&str> = g.scheduled_actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(left, [daily.name.as_str(), "prescale-floor-60"], "a recurrence stays");
        // An action that would leave MinSize above MaxSize fails, and is gone all the same.
        g.scheduled_actions.push(at(45, 40));
        assert_eq!(run_due(&mut g, t0 + chrono::Duration::minutes(50)), 1);
        assert_eq!((g.bounds.min(), g.bounds.max()), (4, 30));
        // Suspended, nothing runs, and what passed meanwhile does not run later: only the recurrence stays.
        assert_eq!(run_due(&mut paused, t0 + chrono::Duration::hours(2)), 0);
        assert_eq!((paused.bounds.min(), paused.desired), (2, 3));
        assert_eq!(paused.scheduled_actions, [daily]);
    }

    fn group(failures: &[(&str, bool)], error: Option<(&str, bool)>) -> GroupApply {
        let t = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let mut report = ApplyReport::default();
        let mut changes = vec![];
        for (i, (why, transient)) in failures.iter().enumerate() {
            let c = Change::PutScheduledAction {
                new: ScheduledAction::floor(format!("prescale-floor-{i}"), t, 3),
                old: None,
            };
            changes.push(c.clone());
            report.fail(c, *why, *transient);
        }
        GroupApply {
            group: "web".into(),
            sink: "autoscaling".into(),
            run: "apply",
            changes,
            report: error.is_none().then_some(report),
            error: error.map(|(e, _)| e.to_string()),
            error_transient: error.is_some_and(|(_, t)| t),
            notes: vec![],
            unworkable: None,
            first_step: None,
            for_a_person: vec![],
        }
    }

    #[test]
    fn a_busy_or_silent_service_passes_a_refusal_does_not() {
        let converges = "the next run converges";
        let mut busy = group(&[("Throttling: Rate exceeded (HTTP 400)", true)], None);
        let t = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let skipped = Change::PutScheduledAction { new: ScheduledAction::floor("prescale-floor-9", t, 3), old: None };
        busy.changes.push(skipped.clone());
        busy.report.as_mut().unwrap().skip(
            skipped,
            "not attempted: the run was stopped (SIGTERM) before it was sent",
            true,
        );
        let message = failed_changes(&[busy], true).unwrap();
        assert!(message.contains(converges), "{message}");
        // The first reason given is the change's own failure, and the count says what was skipped.
        assert!(
            message.contains(
                "web: 2 changes not made (1 not attempted), the first scheduled_action prescale-floor-0: Throttling"
            ),
            "{message}"
        );
        let silent = group(&[], Some(("DescribeAutoScalingGroups on group \"web\" failed: no answer in time", true)));
        assert!(failed_changes(&[silent], true).unwrap().contains(converges));
        // One refusal among busy failures, in any group, needs its cause mended.
        let refused =
            group(&[("Throttling", true), ("ValidationError: MinSize above MaxSize (HTTP 400)", false)], None);
        let message = failed_changes(&[group(&[("Throttling", true)], None), refused], true).unwrap();
        assert!(message.contains("needs its cause") && !message.contains(converges), "{message}");
        let missing = group(&[], Some(("Auto Scaling group \"web\" not found", false)));
        assert!(!failed_changes(&[missing], true).unwrap().contains(converges));
        assert_eq!(failed_changes(&[group(&[], None)], true), None);
    }

    #[test]
    fn a_group_that_failed_as_a_whole_made_none_of_its_changes() {
        let t = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let floor = |i: usize| Change::PutScheduledAction {
            new: ScheduledAction::floor(format!("prescale-floor-{i}"), t, 3),
            old: None,
        };
        // Its writes failed whole (a stand-in that could not save): no report, nothing made.
        let mut whole = group(&[], Some(("cannot save the local stand-in", false)));
        whole.changes = vec![floor(0), floor(1)];
        assert_eq!(whole.tally(), (0, 0, 0));
        // One made, one refused, one sent without an answer.
        let mut some = group(&[("ValidationError", false)], None);
        some.changes.extend([floor(1), floor(2)]);
        some.report.as_mut().unwrap().no_answer(floor(2), "no answer in time");
        assert_eq!(some.tally(), (1, 1, 1));
        // A dry run: every change is to make.
        let mut dry = group(&[], None);
        dry.report = None;
        dry.changes = vec![floor(0)];
        assert_eq!(dry.tally(), (1, 0, 0));
    }

    #[test]
    fn a_fleet_stopped_part_way_says_each_reason_once_with_its_groups() {
        let stopped =
            "not attempted: the run was stopped (SIGTERM) before this group's changes; run again to make them";
        let mut results = vec![group(&[("Throttling", true)], None)];
        for k in 0..97 {
            let mut g = group(&[], Some((stopped, true)));
            g.group = format!("g{k:04}");
            results.push(g);
        }
        let message = failed_changes(&results, true).unwrap();
        assert!(message.starts_with("1 change or group failed and 97 groups not attempted; "), "{message}");
        assert!(message.contains(&format!("\n  g0000, g0001, g0002 and 94 more groups: {stopped}")), "{message}");
        assert_eq!(message.matches(stopped).count(), 1, "{message}");
        assert!(message.contains("\n  web: 1 change failed, the first"), "{message}");
        assert!(!message.contains("see above"), "{message}");
        // A reason that names its group is one reason for all of them (a fleet in the wrong
        // region), and past eight reasons the rest are counted.
        let mut results: Vec<GroupApply> = (0..6)
            .map(|k| {
                let name = format!("grp-{k:02}");
                let mut g =
                    group(&[], Some((&format!("Auto Scaling group {name:?} not found in region eu-west-1"), false)));
                g.group = name;
                g
            })
            .collect();
        for k in 0..12 {
            let mut g = group(
                &[],
                Some((&format!("PutScheduledUpdateGroupAction on group \"x{k}\" failed: quirk {k}"), false)),
            );
            g.group = format!("x{k}");
            results.push(g);
        }
        let message = failed_changes(&results, true).unwrap();
        assert!(
            message.contains(
                "\n  grp-00, grp-01, grp-02 and 3 more groups: Auto Scaling group not found in region eu-west-1"
            ),
            "{message}"
        );
        assert_eq!(message.matches("not found").count(), 1, "{message}");
        assert!(message.contains("\n  x0: PutScheduledUpdateGroupAction on the group failed: quirk 0"), "{message}");
        assert!(
            message.contains("\n  and 5 other reasons, in 5 groups (a run without --quiet shows each group's)"),
            "{message}"
        );
        assert!(!message.contains("quirk 7"), "{message}");
        // A permission missing for the fleet is one reason, whatever each call's request id.
        let denied: Vec<GroupApply> = (0..5)
            .map(|k| {
                let why = format!(
                    "DescribeScheduledActions on group \"d{k}\" failed: AccessDenied: not authorized (HTTP 403, request \
                     req-{k}); hint"
                );
                let mut g = group(&[], Some((&why, false)));
                g.group = format!("d{k}");
                g
            })
            .collect();
        let message = failed_changes(&denied, true).unwrap();
        assert!(
            message.contains(
                "\n  d0, d1, d2 and 2 more groups: DescribeScheduledActions on the group failed: AccessDenied: \
                 not authorized (HTTP 403); hint"
            ),
            "{message}"
        );
    }
    #[test]
    fn processes_suspended_on_purpose_are_said_and_do_not_fail_the_run() {
        let state = prescale_core::GroupState {
            suspended: vec!["AlarmNotification".into(), "Terminate".into()],
            ..prescale_core::GroupState::bare("web", prescale_core::CapacityBounds::new(2, 20).unwrap(), 2)
        };
        // A deploy tool's leftover stops the fallback: blocking, with how to resume it.
        let (blocking, other) = super::suspended_processes("web", &state, &[]);
        let blocking = blocking.unwrap();
        assert!(
            blocking.contains("AlarmNotification is suspended") && blocking.contains("suspended_on_purpose"),
            "{blocking}"
        );
        assert!(other.unwrap().contains("Terminate is suspended"));
        // Listed by the group's owners: said beside Terminate, not blocking.
        let (blocking, other) = super::suspended_processes("web", &state, &["AlarmNotification".into()]);
        let other = other.unwrap();
        assert!(blocking.is_none() && other.contains("AlarmNotification, Terminate are suspended"), "{other}");
    }
}
