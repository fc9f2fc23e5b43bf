//! `OUT/audit.jsonl`: the lines a run appends, and what later runs read of them (the plan last
//! applied to a group, changes without an outcome, what prescale put on a group and its bounds).

use super::*;

/// One line of `OUT/audit.jsonl`: one change `--execute` is about to make (`attempting`, written
/// and synced before the call) or made (`applied` or `failed`), with the object before and after
/// it. An `attempting` line with no outcome after it is a change a crash interrupted; the next
/// `--execute` run appends it again as `interrupted` ([`interrupted`]).
#[derive(Serialize)]
pub(crate) struct AuditEntry<'a> {
    /// When the change was made (wall clock).
    at: DateTime<Utc>,
    /// The run's instant (`--now`), which the plan was made for.
    as_of: DateTime<Utc>,
    /// `apply` or `revert`.
    run: &'a str,
    /// The plan applied; absent for a revert.
    plan_id: Option<&'a str>,
    group: &'a str,
    sink: &'a str,
    /// `create`, `replace` or `delete`.
    op: &'static str,
    /// `scheduled_action` or `policy`.
    object: &'static str,
    name: &'a str,
    /// The object before the change; null when it was created.
    before: Option<ChangedObject<'a>>,
    /// The object after the change; null when it was deleted.
    after: Option<ChangedObject<'a>>,
    /// `attempting`, then `applied`, `failed`, or `unknown` (the group's call failed as a whole);
    /// `interrupted`, appended by a later run, where a crash left no outcome.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// With an error: whether it passes by itself (the service was busy or silent), or what it
    /// refused needs its cause mended first.
    #[serde(skip_serializing_if = "Option::is_none")]
    transient: Option<bool>,
    /// Guardrail breaches this run was allowed to make (`--allow-guardrail-breach`).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    guardrail_overrides: &'a [String],
    /// A revert of prescale's floors alone (`apply --revert --floors-only`): its policies and
    /// alarms stayed on the group.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    floors_only: bool,
}

/// In the store: the path of the audit log of the last run that wrote to its groups.
pub(super) const AUDIT_POINTER: &str = "apply.audit-log";

/// The `--out` an audit log is in.
pub(crate) fn out_of(log: &Path) -> &Path {
    log.parent().unwrap_or(Path::new("."))
}

/// How a warning about the store's other audit log (`other`, [`other_audit_log`]) begins.
pub(super) fn logged_elsewhere(ctx: &Ctx, other: &Path) -> String {
    format!(
        "the last run that wrote to the groups of the store {} logged its changes to {}",
        ctx.store_dir.display(),
        other.display()
    )
}

/// The audit log the store's last writing run used, when it is not this run's (`OUT/audit.jsonl`)
/// and still there: a run with another --out (a cron job's and an operator's by hand) would
/// otherwise revert and look for interrupted changes with half the record.
pub(crate) fn other_audit_log(ctx: &Ctx) -> Option<std::path::PathBuf> {
    let noted = std::fs::read_to_string(ctx.store_dir.join(AUDIT_POINTER)).ok()?;
    let noted = Path::new(noted.trim());
    let ours = ctx.out.join("audit.jsonl");
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
    };
    (noted.is_file() && !same(noted, &ours)).then(|| noted.to_path_buf())
}

/// The plan the runs logging to an audit log last applied to a group (since its last revert).
pub(super) struct AppliedPlan {
    pub(super) plan_id: String,
    pub(super) group: String,
    pub(super) at: String,
    /// Whether a change of it is known to have reached the group (else its run was interrupted,
    /// or AWS did not answer, after it was sent: it may have).
    pub(super) certain: bool,
}

/// What the runs logging to an audit log last put of each of prescale's scheduled actions, by
/// (sink, group) and name: the contents the action may have on the group (the last one applied,
/// and any put after it whose outcome is not known); an empty list where it was deleted.
pub(super) type Written =
    std::collections::HashMap<(String, String), std::collections::HashMap<String, Vec<ScheduledAction>>>;

/// What the runs logging to an audit log certainly put, by (sink, group) and action name.
pub(super) type Placed =
    std::collections::HashMap<(String, String), std::collections::HashMap<String, ScheduledAction>>;

/// What an apply reads of the audit log of its `--out`, in one pass: empty without a log, and a
/// line that does not parse is skipped, as everywhere the log is read (a log that cannot be read
/// judges nothing; the revert, which needs it, says why).
#[derive(Default)]
pub(super) struct AuditHistory {
    /// By group of the plan: the plan last applied to it since its last revert.
    pub(super) applied: std::collections::BTreeMap<String, AppliedPlan>,
    /// By group and plan id: the plans whose changes were sent and have no outcome on record
    /// (their run killed, AWS not answering), each with those changes: they may be on the group.
    pub(super) pending: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, (AppliedPlan, std::collections::BTreeSet<String>)>,
    >,
    /// [`Written`] for the plan's groups (empty where not asked for).
    pub(super) written: Written,
    /// Beside it, by (sink, group) and name: the scheduled actions whose last line is a put
    /// applied, so certainly put (and not deleted) by the runs logging here.
    pub(super) placed: Placed,
    /// By (group, sink), for groups the configuration no longer names: whether its last recorded
    /// run there was a revert (a revert through another region's sink does not count).
    pub(super) unconfigured: std::collections::BTreeMap<(String, String), bool>,
}

impl AuditHistory {
    /// The log of `ctx`'s `--out`, for the plan's `groups` (with what the runs put on them where
    /// `written`) and for every group the configuration no longer names.
    pub(super) fn read(ctx: &Ctx, groups: &[String], written: bool) -> Self {
        let ours: std::collections::HashSet<&str> = groups.iter().map(String::as_str).collect();
        let configured: std::collections::HashSet<&str> = ctx.config.groups.iter().map(|g| g.name.as_str()).collect();
        let mut history = Self::default();
        let _ = each_audit_entry(
            &ctx.out.join("audit.jsonl"),
            |g| ours.contains(g) || !configured.contains(g),
            |e, sink, group| {
                if ours.contains(group) {
                    history.note_applied(e, group);
                    if written {
                        history.note_written(e, sink, group);
                    }
                }
                if !configured.contains(group) {
                    history.unconfigured.insert(
                        (group.to_string(), sink.to_string()),
                        // A revert of the floors alone leaves prescale's policies on the group.
                        e["run"] == "revert" && e["floors_only"] != true,
                    );
                }
            },
        );
        history
    }

    pub(super) fn note_applied(&mut self, e: &serde_json::Value, group: &str) {
        // A change is logged `attempting` before it is sent, then with its outcome. One sent whose
        // outcome is not on record (its run killed: `attempting` alone, or `interrupted` once the
        // next run said so; AWS not answering: `unknown`) may have reached the group: an older
        // plan must not replace it either. One that failed, or was not sent, did not. A revert
        // clears the record only where it took effect.
        let outcome = e["outcome"].as_str().unwrap_or_default();
        match (e["run"].as_str(), e["plan_id"].as_str()) {
            (Some("revert"), _) if outcome == "applied" => {
                self.applied.remove(group);
                self.pending.remove(group);
            }
            (Some("apply"), Some(id)) => {
                // Made only for the lines that keep a record: every line of a log read whole passes here.
                let record = |certain| {
                    let at = e["at"].as_str().unwrap_or_default();
                    let at = DateTime::parse_from_rfc3339(at).map_or_else(
                        |_| at.to_string(),
                        |t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    );
                    AppliedPlan { plan_id: id.to_string(), group: group.to_string(), at, certain }
                };
                let change = format!("{}/{}/{}", e["object"], e["name"], e["op"]);
                match outcome {
                    "attempting" | "interrupted" | "unknown" => {
                        let plans = self.pending.entry(group.to_string()).or_default();
                        plans
                            .entry(id.to_string())
                            .or_insert_with(|| (record(false), Default::default()))
                            .1
                            .insert(change);
                    }
                    _ => {
                        if let Some(plans) = self.pending.get_mut(group)
                            && let Some((_, open)) = plans.get_mut(id)
                        {
                            open.remove(&change);
                            if open.is_empty() {
                                plans.remove(id);
                            }
                        }
                        if outcome == "applied" {
                            self.applied.insert(group.to_string(), record(true));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn note_written(&mut self, e: &serde_json::Value, sink: &str, group: &str) {
        // A revert that found the group deleted: what was put on it went with it (a group made
        // again under its name starts with nothing of prescale's).
        if e["object"] == "group" && e["outcome"] == "applied" {
            let key = (sink.to_string(), group.to_string());
            self.placed.remove(&key);
            self.written.remove(&key);
            return;
        }
        let Some(name) = e["name"].as_str().filter(|_| e["object"] == "scheduled_action") else { return };
        let applied = e["outcome"] == "applied";
        let placed = self.placed.entry((sink.to_string(), group.to_string())).or_default();
        match (e["op"].as_str(), serde_json::from_value::<ScheduledAction>(e["after"].clone())) {
            (Some("create" | "replace"), Ok(after)) if applied => {
                placed.insert(name.to_string(), after);
            }
            _ => {
                placed.remove(name);
            }
        }
        let may =
            self.written.entry((sink.to_string(), group.to_string())).or_default().entry(name.to_string()).or_default();
        match (e["op"].as_str(), serde_json::from_value::<ScheduledAction>(e["after"].clone())) {
            (Some("delete"), _) if applied => may.clear(),
            (Some("create" | "replace"), Ok(after)) => {
                if applied {
                    may.clear();
                }
                may.push(after);
            }
            _ => {}
        }
    }

    /// The newest plan applied to one of `plan`'s groups since that group's last revert, where it
    /// was made after `plan` (plan ids begin with the minute they were made); of the newest, the
    /// first group by name, so that the message is the same run to run.
    pub(super) fn newer_than(&self, plan: &CapacityPlan) -> Option<&AppliedPlan> {
        let made = |id: &str| id.split('-').next().unwrap_or_default().to_string();
        let ours = made(&plan.plan_id);
        // Known applied first: of one plan both applied and in doubt, it is said as applied.
        self.applied
            .values()
            .chain(self.pending.values().flat_map(|plans| plans.values().map(|(record, _)| record)))
            .filter(|a| made(&a.plan_id) > ours)
            .reduce(|a, b| if made(&b.plan_id) > made(&a.plan_id) { b } else { a })
    }

    /// The groups the log records changes to that the configuration no longer names, but those
    /// whose last recorded run was a revert (it took prescale's objects down).
    pub(super) fn unconfigured_written(&self) -> Vec<String> {
        let mut groups: Vec<String> =
            self.unconfigured.iter().filter(|(_, reverted)| !**reverted).map(|((g, _), _)| g.clone()).collect();
        groups.dedup();
        groups
    }
}

/// Calls `f` with each line of the audit log at `path` that parses and is of one of `groups`,
/// with its sink and group. Read as bytes, line by line: a line cut inside a character (a crash
/// cut it) is skipped like any other that does not parse. `Ok(false)` when there is no log.
pub(super) fn each_audit_line(
    path: &Path,
    groups: &[String],
    f: impl FnMut(&serde_json::Value, &str, &str),
) -> Result<bool> {
    // A set: a fleet's log holds its groups' lines by the hundred thousand.
    let groups: std::collections::HashSet<&str> = groups.iter().map(String::as_str).collect();
    each_audit_entry(path, |g| groups.contains(g), f)
}

/// [`each_audit_line`] for the groups `keep` takes.
pub(super) fn each_audit_entry(
    path: &Path,
    keep: impl Fn(&str) -> bool,
    mut f: impl FnMut(&serde_json::Value, &str, &str),
) -> Result<bool> {
    use std::io::BufRead as _;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("cannot read audit log {}", path.display())),
    };
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line.with_context(|| format!("cannot read audit log {}", path.display()))?;
        let Ok(e) = serde_json::from_slice::<serde_json::Value>(&line) else { continue };
        if let (Some(sink), Some(group)) = (e["sink"].as_str(), e["group"].as_str())
            && keep(group)
        {
            // Before 2026-12-06 the stand-in named itself with its count of groups
            // ("local recording sink (3 groups)"): the same stand-in as it is called now.
            let sink = if sink.starts_with(prescale_plan::LOCAL_SINK) { prescale_plan::LOCAL_SINK } else { sink };
            f(&e, sink, group);
        }
    }
    Ok(true)
}

/// How many of prescale's scheduled actions on a group, of the names the runs logging to this
/// audit log put or deleted (`written`: their record for the group), differ from everything they
/// left there: changed by another prescale (another store, `--out` or host writing the same
/// group) or by hand. A name the log never saw is not judged: a floor put before the log was
/// rotated (or under another sink's name) would read as another writer's.
pub(super) fn not_written_here(
    state: &GroupState,
    written: &std::collections::HashMap<String, Vec<ScheduledAction>>,
) -> usize {
    state
        .scheduled_actions
        .iter()
        .filter(|a| prescale_plan::is_owned(&a.name))
        .filter(|a| written.get(&a.name).is_some_and(|may| !may.iter().any(|w| prescale_plan::same_action(w, a))))
        .count()
}

/// How many of prescale's scheduled actions the runs logging to this audit log certainly put on
/// a group and did not delete (`placed`) are not on it though their time is still more than a
/// minute ahead of `now`: deleted by something else.
pub(super) fn gone_before_time(
    state: &GroupState,
    placed: &std::collections::HashMap<String, ScheduledAction>,
    now: DateTime<Utc>,
) -> usize {
    placed
        .iter()
        .filter(|(name, a)| {
            a.start_time > now + Duration::minutes(1) && !state.scheduled_actions.iter().any(|s| &s.name == *name)
        })
        .count()
}

/// One entry of the audit log that set a group's bounds, or may have: a scheduled action of
/// prescale's put (`action`: its name; in force from its start time, once it has run), or a
/// revert's bounds change (as of its run, only the bounds it changed). `certain`: its outcome is
/// `applied`; otherwise it was sent without an answer or cut off, and may not have been made.
pub(super) struct BoundsEntry {
    at: chrono::DateTime<chrono::Utc>,
    action: Option<String>,
    min: Option<u32>,
    max: Option<u32>,
    certain: bool,
}

/// [`BoundsEntry`]s by (sink, group).
pub(super) type BoundsRecord = std::collections::HashMap<(String, String), Vec<BoundsEntry>>;

/// The audit log at `path`, for `groups`, by (sink, group): the scheduled actions of prescale's
/// put (applied, or possibly: sent without an answer, interrupted, or attempted with no outcome
/// yet, as a run killed before the next one marked it) and not deleted since, and the bounds
/// changes of reverts. `None` when there is no log. A line that does not parse (a crash cut it)
/// is skipped.
pub(super) fn bounds_record(path: &Path, groups: &[String]) -> Result<Option<BoundsRecord>> {
    // By (sink, group, object, name): a change attempted, until its outcome's line.
    let mut pending: std::collections::HashMap<(String, String, String, String), BoundsEntry> =
        std::collections::HashMap::new();
    let mut actions = std::collections::HashMap::new();
    let mut out = BoundsRecord::new();
    // Per action name, what it may have set: a change applied settles it, one whose outcome is
    // not known adds a value (a replace sent without an answer leaves the value before it or its
    // own, whichever went in).
    type Actions = std::collections::HashMap<(String, String, String), Vec<BoundsEntry>>;
    pub(super) fn made(
        out: &mut BoundsRecord,
        actions: &mut Actions,
        key: (String, String, String, String),
        entry: BoundsEntry,
    ) {
        let (sink, group, object, name) = key;
        if object == "bounds" {
            out.entry((sink, group)).or_default().push(entry);
        } else {
            let list = actions.entry((sink, group, name)).or_default();
            if entry.certain {
                list.clear();
            }
            list.push(entry);
        }
    }
    let logged = each_audit_line(path, groups, |e, sink, group| {
        let (Some(object), Some(op), Some(name)) = (e["object"].as_str(), e["op"].as_str(), e["name"].as_str()) else {
            return;
        };
        let key = (sink.to_string(), group.to_string(), object.to_string(), name.to_string());
        let outcome = e["outcome"].as_str().unwrap_or_default();
        if outcome != "attempting" {
            pending.remove(&key);
        }
        let size = |v: &serde_json::Value, k: &str| v[k].as_u64().and_then(|v| u32::try_from(v).ok());
        let at = |v: &serde_json::Value| v.as_str().and_then(|t| t.parse().ok());
        let certain = outcome == "applied";
        let entry = match (object, op) {
            ("scheduled_action", "create" | "replace") => at(&e["after"]["start_time"]).map(|start| BoundsEntry {
                at: start,
                action: Some(name.to_string()),
                min: size(&e["after"], "min_size"),
                max: size(&e["after"], "max_size"),
                certain,
            }),
            ("scheduled_action", "delete") => {
                if certain {
                    actions.remove(&(key.0, key.1, key.3));
                }
                return;
            }
            ("bounds", _) => {
                let (before, after) = (&e["before"], &e["after"]);
                let changed = |k: &str| size(after, k).filter(|v| Some(*v) != size(before, k));
                // At the run's instant (`--now`), the clock its actions' start times are set by.
                at(&e["as_of"]).or_else(|| at(&e["at"])).map(|when| BoundsEntry {
                    at: when,
                    action: None,
                    min: changed("min"),
                    max: changed("max"),
                    certain,
                })
            }
            _ => None,
        };
        let Some(entry) = entry else { return };
        match outcome {
            "attempting" => {
                pending.insert(key, entry);
            }
            "applied" | "unknown" | "interrupted" => made(&mut out, &mut actions, key, entry),
            _ => {}
        }
    })?;
    if !logged {
        return Ok(None);
    }
    // Attempted with no outcome: a run killed before it wrote one (the next --execute marks it
    // interrupted), or one writing now.
    for (key, entry) in pending {
        made(&mut out, &mut actions, key, entry);
    }
    for ((sink, group, _), list) in actions {
        out.entry((sink, group)).or_default().extend(list);
    }
    Ok(Some(out))
}

/// What prescale last set on a group's bounds by `now` ([`prescale_plan::LastSet`]): of its
/// actions, those that have run (their time has passed and they are no longer on the group, as
/// Auto Scaling removes a one-time action once it ran), and its reverts' bounds changes; those
/// whose outcome is not known as values the bounds may have.
pub(super) fn last_set(
    record: Option<&Vec<BoundsEntry>>,
    state: &GroupState,
    now: DateTime<Utc>,
) -> prescale_plan::LastSet {
    let on_group = |name: &str| state.scheduled_actions.iter().any(|a| a.name == name);
    let mut set: Vec<&BoundsEntry> = record
        .into_iter()
        .flatten()
        .filter(|e| e.at <= now && e.action.as_deref().is_none_or(|n| !on_group(n)))
        .collect();
    set.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.action.cmp(&b.action)));
    set.iter().fold(prescale_plan::LastSet::default(), |last, e| last.then(e.min, e.max, e.certain))
}

/// One change's line of the audit log: the change, its outcome, and with an error whether it is
/// transient.
pub(super) type Outcome<'c> = (&'c Change, &'static str, Option<(&'c str, bool)>);

/// `OUT/audit.jsonl`, open for appending, with what every line of the run shares.
pub(super) struct AuditLog<'a> {
    file: std::fs::File,
    path: PathBuf,
    as_of: DateTime<Utc>,
    run: Run<'a>,
}

impl<'a> AuditLog<'a> {
    pub(super) fn open(ctx: &Ctx, run: Run<'a>, groups: &[String]) -> Result<Self> {
        std::fs::create_dir_all(&ctx.out).with_context(|| format!("cannot create {}", ctx.out.display()))?;
        let path = ctx.out.join("audit.jsonl");
        let new_log = !path.exists();
        // A link another user placed there is not appended through.
        if let Ok(m) = std::fs::symlink_metadata(&path)
            && m.file_type().is_symlink()
            && let Some(e) = prescale_store::placed_by_another(&path, &m)
        {
            bail!("{e}; nothing was changed");
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| {
            anyhow::anyhow!(
                "cannot open audit log {p}; nothing was changed: {e}\nhint: make it (and {dir}) writable for the \
                     user this job runs as (`ls -l {p}`), then run again",
                p = path.display(),
                dir = ctx.out.display()
            )
        })?;
        let other = other_audit_log(ctx);
        if let Some(other) = &other {
            warn!(
                "{}, this one logs to {}: apply --revert and the check for an interrupted run read only the log in \
                 their --out\nhint: keep one --out for the runs that write (--out {})",
                logged_elsewhere(ctx, other),
                path.display(),
                out_of(other).display()
            );
        }
        // Where the store's writing runs log, for the next run with another --out to be told; a
        // log this run starts (an operator's run from another folder) does not take the place of
        // one that holds the record.
        if !(new_log && other.is_some()) {
            let absolute = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
            let pointer = ctx.store_dir.join(AUDIT_POINTER);
            if let Err(e) = prescale_store::write_file_atomic(&pointer, absolute.to_string_lossy().as_bytes()) {
                warn!("cannot note the audit log's place in {}: {e}", pointer.display());
            }
        }
        let mut log = Self { file, path, as_of: ctx.now, run };
        if let Some((tail, cut)) = log_tail(&log.path) {
            // A line a crash or a full disk cut short is ended, so the next one is whole.
            if cut {
                log.file.write_all(b"\n").with_context(|| format!("cannot write audit log {}", log.path.display()))?;
            }
            log.close_interrupted(interrupted(&tail), groups)?;
        }
        Ok(log)
    }

    /// An earlier run stopped mid-change left `attempting` lines with no outcome: each gets one,
    /// `interrupted`, so the log reads whole. What of them landed on this run's `groups` is read
    /// from those groups now, and this run's own changes start from it; the other groups' are
    /// read by the next run that covers them.
    pub(super) fn close_interrupted(&mut self, open: Vec<serde_json::Value>, groups: &[String]) -> Result<()> {
        if open.is_empty() {
            return Ok(());
        }
        let named = |v: &serde_json::Value| v["group"].as_str().unwrap_or_default().to_string();
        let mut ours: Vec<String> = open.iter().map(named).filter(|g| groups.contains(g)).collect();
        let mut others: Vec<String> = open.iter().map(named).filter(|g| !groups.contains(g)).collect();
        for list in [&mut ours, &mut others] {
            list.sort();
            list.dedup();
        }
        let this_run = match self.run.kind {
            "revert" => "this revert reads them again and removes what of prescale's landed",
            _ => "this run reads them again, and its changes start from what they hold now",
        };
        let mut parts = Vec::new();
        if !ours.is_empty() {
            parts.push(format!("{}: {this_run}", ours.join(", ")));
        }
        if !others.is_empty() {
            parts.push(format!(
                "{}: not in this run; the next run that covers {} reads what landed",
                others.join(", "),
                if others.len() == 1 { "it" } else { "them" }
            ));
        }
        warn!(
            "{} (that run stopped while making {}: a crash, a kill, or a write to this log that failed); marked \
             `interrupted` there. {}",
            no_outcome(&self.path, &open),
            if open.len() == 1 { "it" } else { "them" },
            parts.join("; ")
        );
        let at = serde_json::to_value(Utc::now())?;
        let mut text = String::new();
        for mut v in open {
            v["at"] = at.clone();
            v["outcome"] = "interrupted".into();
            v["error"] = "the run stopped before this change's outcome was recorded".into();
            text.push_str(&serde_json::to_string(&v)?);
            text.push('\n');
        }
        let what = || format!("cannot write audit log {}", self.path.display());
        self.file.write_all(text.as_bytes()).with_context(what)?;
        self.file.sync_all().with_context(what)
    }

    /// Appends the line of a revert that found the group gone (deleted in AWS), `why` as the
    /// service said it: `object` `group`, `op` `delete`, `outcome` `applied` (what prescale had
    /// on it went with it, or was removed just before), so that no run asks for its revert again.
    pub(super) fn gone(&mut self, group: &str, sink: &str, why: &str) -> Result<()> {
        let entry = AuditEntry {
            at: Utc::now(),
            as_of: self.as_of,
            run: self.run.kind,
            plan_id: self.run.plan_id,
            group,
            sink,
            op: "delete",
            object: "group",
            name: group,
            before: None,
            after: None,
            outcome: "applied",
            error: Some(why),
            transient: None,
            guardrail_overrides: self.run.overrides,
            floors_only: self.run.floors_only,
        };
        let text = serde_json::to_string(&entry)? + "\n";
        let what = || format!("cannot write audit log {}", self.path.display());
        self.file.write_all(text.as_bytes()).with_context(what)?;
        self.file.sync_all().with_context(what)
    }

    /// Appends one line per change with its outcome, then syncs.
    pub(super) fn write<'c>(
        &mut self,
        group: &str,
        sink: &str,
        lines: impl Iterator<Item = Outcome<'c>>,
    ) -> Result<()> {
        let at = Utc::now();
        let mut text = String::new();
        for (change, outcome, error) in lines {
            let (error, transient) = (error.map(|e| e.0), error.map(|e| e.1));
            let entry = AuditEntry {
                at,
                as_of: self.as_of,
                run: self.run.kind,
                plan_id: self.run.plan_id,
                group,
                sink,
                op: change.verb(),
                object: change.object_kind(),
                name: change.object_name(),
                before: change.before(),
                after: change.after(),
                outcome,
                error,
                transient,
                guardrail_overrides: self.run.overrides,
                floors_only: self.run.floors_only,
            };
            text.push_str(&serde_json::to_string(&entry)?);
            text.push('\n');
        }
        let what = || format!("cannot write audit log {}", self.path.display());
        self.file.write_all(text.as_bytes()).with_context(what)?;
        self.file.sync_all().with_context(what)
    }
}

/// The audit log's last 4 MiB, from its first whole line (the whole log when shorter), and
/// whether its last line is cut short (no newline at its end). `None` when it cannot be read.
pub(super) fn log_tail(path: &Path) -> Option<(Vec<u8>, bool)> {
    use std::io::{Read as _, Seek as _};
    const TAIL: u64 = 4 << 20;
    let mut bytes = Vec::new();
    let mut f = std::fs::File::open(path).ok()?;
    let start = f.metadata().ok()?.len().saturating_sub(TAIL);
    f.seek(std::io::SeekFrom::Start(start)).ok()?;
    f.read_to_end(&mut bytes).ok()?;
    let cut = bytes.last().is_some_and(|c| *c != b'\n');
    // From the first whole line: bytes, so a cut character or a stray byte costs its own line only.
    let from = if start > 0 { bytes.iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| i + 1) } else { 0 };
    bytes.drain(..from);
    Some((bytes, cut))
}

/// How the changes an earlier run left without an outcome (`open`, [`interrupted`]) in the log at
/// `path` are said: `PATH: 2 changes of an earlier run (as of …) had no outcome`.
pub(super) fn no_outcome(path: &Path, open: &[serde_json::Value]) -> String {
    format!(
        "{}: {} change{} of an earlier run (as of {}) had no outcome",
        path.display(),
        open.len(),
        if open.len() == 1 { "" } else { "s" },
        open.first().and_then(|v| v["as_of"].as_str()).unwrap_or("?")
    )
}

/// The changes the audit log's newest run (in `tail`, [`log_tail`]) holds as `attempting` with no
/// outcome line after them: a run stopped mid-change (a crash, a kill).
pub(super) fn interrupted(tail: &[u8]) -> Vec<serde_json::Value> {
    let lines = tail.split(|b| *b == b'\n');
    // A line that does not parse (cut by a crash) is skipped. Only the newest run counts: an
    // older one's were closed by the run after it.
    let key = |v: &serde_json::Value, fields: &[&str]| {
        fields.iter().map(|k| v[*k].to_string()).collect::<Vec<_>>().join("\u{1f}")
    };
    let mut open: Vec<(String, serde_json::Value)> = Vec::new();
    let mut last_run = None;
    for line in lines {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else { continue };
        let run = key(&v, &["as_of", "run", "plan_id"]);
        if last_run.as_ref() != Some(&run) {
            open.clear();
            last_run = Some(run);
        }
        let change = key(&v, &["group", "op", "object", "name"]);
        open.retain(|(k, _)| *k != change);
        if v["outcome"] == "attempting" {
            open.push((change, v));
        }
    }
    open.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    use prescale_core::ScheduledAction;

    #[test]
    fn a_change_without_a_known_outcome_may_have_set_the_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let line = |object: &str, op: &str, name: &str, outcome: &str, extra: &str| {
            format!(
                r#"{{"sink":"autoscaling us-east-1","group":"web","object":"{object}","op":"{op}","name":"{name}","outcome":"{outcome}",{extra}}}"#
            )
        };
        let put = |min: u32| format!(r#""after":{{"start_time":"2027-01-01T0{min}:00:00Z","min_size":{min}}}"#);
        let lines = [
            // A floor of 3 that ran; a floor of 5 attempted by a run killed before its outcome (the
            // next --execute marks it interrupted; a revert may read the log first).
            line("scheduled_action", "create", "prescale-floor-3", "attempting", &put(3)),
            line("scheduled_action", "create", "prescale-floor-3", "applied", &put(3)),
            line("scheduled_action", "create", "prescale-floor-5", "attempting", &put(5)),
            // A floor of 7 the service refused: it set nothing.
            line("scheduled_action", "create", "prescale-floor-7", "attempting", &put(7)),
            line("scheduled_action", "create", "prescale-floor-7", "failed", &put(7)),
            // Another group's, and a line a crash cut.
            line("scheduled_action", "create", "prescale-floor-9", "applied", &put(9)).replace("\"web\"", "\"api\""),
            r#"{"sink":"autoscaling us-east-1","group":"web","obj"#.to_string(),
        ];
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let state = prescale_core::GroupState::bare("web", prescale_core::CapacityBounds::new(5, 20).unwrap(), 5);
        let now = "2027-01-02T00:00:00Z".parse().unwrap();
        // The MinSize values the log at `path` says prescale may have last set on web.
        let mins = || {
            let record = super::bounds_record(&path, &["web".to_string()]).unwrap().unwrap();
            super::last_set(record.get(&("autoscaling us-east-1".to_string(), "web".to_string())), &state, now).min
        };
        assert_eq!(mins(), [3, 5]);
        // A revert's change to 1 sent without an answer: 1, or still 3 or 5.
        let bounds = r#""before":{"min":5,"max":20},"after":{"min":1,"max":20},"as_of":"2027-01-01T12:00:00Z""#;
        let revert = |outcome: &str| {
            let attempt = line("bounds", "replace", "MinSize/MaxSize", "attempting", bounds);
            format!(
                "{}\n{attempt}\n{}\n",
                lines.join("\n"),
                line("bounds", "replace", "MinSize/MaxSize", outcome, bounds)
            )
        };
        std::fs::write(&path, revert("unknown")).unwrap();
        assert_eq!(mins(), [3, 5, 1]);
        // A later night's replace of the floor of 3 with 4, sent without an answer: 3 or 4.
        let replace = format!(
            "{}\n{}\n",
            line("scheduled_action", "replace", "prescale-floor-3", "attempting", &put(4)),
            line("scheduled_action", "replace", "prescale-floor-3", "unknown", &put(4))
        )
        .replace("T04:00", "T03:00");
        std::fs::write(&path, lines.join("\n") + "\n" + &replace).unwrap();
        assert_eq!(mins(), [3, 4, 5]);
        // Applied, it settles the question.
        std::fs::write(&path, revert("applied")).unwrap();
        assert_eq!(mins(), [1]);
        // The local stand-in's lines of before 2026-12-06 named it with its count of groups: read
        // as the stand-in's under its name now, whatever the count was.
        let local = lines[..2].iter().map(|l| l.replace("autoscaling us-east-1", "local recording sink (3 groups)"));
        std::fs::write(&path, local.collect::<Vec<_>>().join("\n") + "\n").unwrap();
        let record = super::bounds_record(&path, &["web".to_string()]).unwrap().unwrap();
        let key = (prescale_plan::LOCAL_SINK.to_string(), "web".to_string());
        assert_eq!(super::last_set(record.get(&key), &state, now).min, [3]);
    }

    #[test]
    fn floors_put_and_gone_before_their_time_are_counted() {
        let t = |h: i64| chrono::DateTime::from_timestamp(1_790_000_000 + h * 3600, 0).unwrap();
        let line = |name: &str, op: &str, outcome: &str, at: i64| {
            serde_json::json!({"object": "scheduled_action", "name": name, "op": op, "outcome": outcome,
                "after": ScheduledAction::floor(name, t(at), 3)})
        };
        let mut h = super::AuditHistory::default();
        for (name, op, outcome, at) in [
            ("prescale-floor-a", "create", "attempting", 5),
            ("prescale-floor-a", "create", "applied", 5),
            // Put, then deleted by prescale itself: not counted.
            ("prescale-floor-b", "create", "applied", 6),
            ("prescale-floor-b", "delete", "applied", 6),
            // A crash cut its put: not certainly there.
            ("prescale-floor-c", "create", "attempting", 7),
            // Its time has passed: it ran, and Auto Scaling removed it.
            ("prescale-floor-d", "create", "applied", -1),
            // Still on the group.
            ("prescale-floor-e", "create", "applied", 8),
        ] {
            h.note_written(&line(name, op, outcome, at), "autoscaling", "web");
        }
        let state = prescale_core::GroupState {
            scheduled_actions: vec![ScheduledAction::floor("prescale-floor-e", t(8), 3)],
            ..prescale_core::GroupState::bare("web", prescale_core::CapacityBounds::new(1, 20).unwrap(), 2)
        };
        let placed = &h.placed[&("autoscaling".to_string(), "web".to_string())];
        // Only floor-a: put for certain, not deleted by prescale, still to run, and not there.
        assert_eq!(super::gone_before_time(&state, placed, t(0)), 1);
        // Once its time has come, it may have run.
        assert_eq!(super::gone_before_time(&state, placed, t(5)), 0);
        // A revert that found the group deleted: nothing of prescale's is on it any more.
        h.note_written(
            &serde_json::json!({"object": "group", "op": "delete", "outcome": "applied"}),
            "autoscaling",
            "web",
        );
        let key = ("autoscaling".to_string(), "web".to_string());
        assert!(h.placed.get(&key).is_none_or(|p| super::gone_before_time(&state, p, t(0)) == 0));
        assert!(!h.written.contains_key(&key));
    }
}
