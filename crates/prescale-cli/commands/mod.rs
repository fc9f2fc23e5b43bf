//! The subcommands. Each stage is a function that returns what it did, so `nightly` chains them
//! and the printers in `output.rs` show them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, DurationRound, Utc};
use prescale_aws::{AutoScalingSink, AwsOptions, CloudWatchQuery, CloudWatchSource};
use prescale_core::{
    ActionSink, ApplyReport, CapacityBounds, CapacityPlan, Change, ChangedObject, DecisionKind, Event, EventEffect,
    Forecast, GridPolicy, GroupPlan, GroupState, Level, MetricId, MetricSource, PLAN_FORMAT, RawSample,
    ScheduledAction, Series, TimeRange, regularize,
};
use prescale_forecast::flags::Flags;
use prescale_forecast::transform::Bounds;
use prescale_forecast::{BuildOptions, ModelSpec};
use prescale_plan::{Breach, EventPlan, RecordingSink, diff, plan_id, plan_with_events};
use prescale_store::{CsvSource, EventStore, ForecastTable, IngestSummary, MetricStore, ParquetSource};
use serde::Serialize;
use tracing::{info, warn};

use crate::config::{Config, GroupConfig, SinkKind, SourceKind};
use crate::{
    BacktestArgs, Cli, Command, DemoCmd, EventAddArgs, EventCmd, EventEffectArgs, ForecastCmd, Global, GroupFilter,
    NightlyArgs, PauseArgs, PlanArgs, ReportFormat, ResumeArgs, ShowArgs, SimulateArgs, ZoneArgs, output,
};

mod apply;
mod backtest;
mod forecast;
mod ingest;
mod nightly;
mod pause;
mod plan;
mod simulate;

pub(crate) use apply::*;
pub(crate) use backtest::*;
pub(crate) use forecast::*;
pub(crate) use ingest::*;
pub(crate) use nightly::*;
pub(crate) use pause::*;
pub(crate) use plan::*;
pub(crate) use simulate::*;

/// Everything a command needs, resolved once: flag > env > file > default.
pub struct Ctx {
    pub config: Config,
    pub demo: bool,
    pub store_dir: PathBuf,
    pub out: PathBuf,
    pub now: DateTime<Utc>,
    /// `now` is the wall clock at start (no `--now`, not the demo): instants that must lie in
    /// the future when written (scheduled actions' start times) are then taken from the clock
    /// at the time of writing, minutes of ingest and fitting later.
    pub clock: bool,
    /// Threads the fits run on (`--threads`).
    pub threads: std::num::NonZeroUsize,
}

impl Ctx {
    /// The instant a write to a group is judged against: the clock now, when the run follows
    /// it, else the run's fixed `now`.
    pub fn write_now(&self) -> DateTime<Utc> {
        if self.clock { Utc::now().max(self.now) } else { self.now }
    }
}

/// The AWS SDK's error kinds, shown as causes of their own.
const SDK_WRAPPERS: [&str; 8] = [
    "service error",
    "dispatch failure",
    "unhandled error",
    "other",
    "io error",
    "response error",
    "construction failure",
    "timeout error",
];

/// Series named in a line: the first six, then how many more.
pub(crate) fn series_named(ids: &[MetricId]) -> String {
    let mut names: Vec<String> = ids.iter().take(6).map(MetricId::to_string).collect();
    if ids.len() > 6 {
        names.push(format!("{} more", ids.len() - 6));
    }
    names.join(", ")
}

/// An error and its causes on one line, as `{:#}` joins them, with the `hint:` a cause carries
/// moved after the last cause: the causes say what happened, the hint what to do about it, and
/// the reader should not find a hint followed by more of the failure.
pub(crate) fn explain(e: &anyhow::Error) -> String {
    let (mut what, mut hints) = (Vec::new(), Vec::new());
    for cause in e.chain() {
        let text = cause.to_string();
        // The AWS SDK's wrappers name a kind, not a cause; and a cause the message before it
        // already quotes is said once.
        if SDK_WRAPPERS.contains(&text.as_str()) || what.iter().any(|w: &String| w.contains(&text)) {
            continue;
        }
        match text.split_once("\nhint: ") {
            Some((w, h)) => {
                what.push(w.to_string());
                hints.push(h.to_string());
            }
            None => what.push(text),
        }
    }
    let mut out = what.join(": ");
    for h in hints {
        out.push_str("\nhint: ");
        out.push_str(&h);
    }
    out
}

/// The interval levels of `--levels` (percent or fraction), in the order given, each once.
pub(crate) fn cli_levels(given: &[f64]) -> Result<Vec<Level>> {
    let mut levels: Vec<Level> = Vec::with_capacity(given.len());
    for l in given {
        let level = Level::new(*l)?;
        if !levels.iter().any(|x| (x.value() - level.value()).abs() < 1e-12) {
            levels.push(level);
        }
    }
    Ok(levels)
}

/// The context of a command that changes groups with `--execute`: refused on the demo that runs
/// for want of a configuration (a cron job started in a folder without its own would apply the
/// demo's stand-ins, succeed, and never plan the user's groups). `--config demo` asks for it.
pub(crate) fn context_to_change(g: &Global, execute: bool, allow_skew: bool) -> Result<Ctx> {
    if execute && implicit_demo(g) {
        bail!(
            "--execute without a configuration: no --config, no PRESCALE_CONFIG and no ./prescale.toml in {}; \
             nothing was run\nhint: give --config FILE (or PRESCALE_CONFIG) for your groups; `--config demo` applies \
             the built-in demo's stand-in groups",
            std::env::current_dir().map_or_else(|_| "this folder".to_string(), |d| d.display().to_string())
        );
    }
    let ctx = context(g)?;
    // Actions are timed from --now: a day behind, yesterday's schedule goes to the groups (Auto
    // Scaling runs the past ones at once), hours ahead, the actions due before it are dropped. A
    // stray PRESCALE_NOW in a cron environment is enough; refused before anything runs.
    if execute
        && !allow_skew
        && let Some(off) = clock_skew(&ctx)
    {
        bail!(
            "--now (or PRESCALE_NOW) is {off} the clock: --execute would write a schedule timed for then to the \
             groups; nothing was run\nhint: drop --now (unset PRESCALE_NOW) for a run that writes to the groups; \
             --allow-clock-skew writes it all the same (a test server, a replay against stand-in groups)"
        );
    }
    Ok(ctx)
}

/// How far `--now` lies off the clock (`3.0 h behind`, `1.0 days ahead of`), where that matters: a
/// minute or more, with groups on Auto Scaling (whose scheduled actions run at real times).
pub(crate) fn clock_skew(ctx: &Ctx) -> Option<String> {
    let off = ctx.now - chrono::Utc::now();
    (!ctx.clock && ctx.config.apply.sink == crate::config::SinkKind::Autoscaling && off.num_seconds().abs() >= 60).then(
        || {
            format!(
                "{} {}",
                prescale_forecast::duration_text(off.num_seconds().abs() as f64),
                if off < chrono::Duration::zero() { "behind" } else { "ahead of" }
            )
        },
    )
}

/// The demo runs for want of a configuration: no --config (nor PRESCALE_CONFIG) and no
/// ./prescale.toml.
fn implicit_demo(g: &Global) -> bool {
    g.config.is_none() && !Path::new("prescale.toml").exists()
}

/// `--config demo`: the built-in demo, asked for by name (a file of that name is read instead;
/// a folder of that name, such as one `prescale demo generate demo` wrote, is no configuration).
fn names_the_demo(p: &Path) -> bool {
    p == Path::new(DEMO_CONFIG_NAME) && !p.is_file()
}

/// The name `--config` gives the built-in demo.
pub(crate) const DEMO_CONFIG_NAME: &str = "demo";

pub(crate) fn context(g: &Global) -> Result<Ctx> {
    let (config, demo) = match &g.config {
        Some(p) if names_the_demo(p) => (Config::demo()?, true),
        Some(p) => (Config::load(p)?, false),
        None if implicit_demo(g) => (Config::demo()?, true),
        None => (Config::load(Path::new("prescale.toml"))?, false),
    };
    let store_dir = match &g.store {
        Some(s) => s.clone(),
        None if demo => g.out.join(&config.store.dir),
        None => config.resolve(&config.store.dir),
    };
    let (now, clock) = match &g.now {
        Some(s) => (parse_now(s)?, false),
        None if demo => (crate::demo::demo_now(), false),
        None => (Utc::now(), true),
    };
    if implicit_demo(g) {
        // Said at every level: a cron job started in a folder without its configuration would
        // otherwise run the demo, touch nothing of the user's, and succeed.
        warn!(
            "no --config, no PRESCALE_CONFIG and no ./prescale.toml here: running the built-in demo ({}), whose groups \
             are a local stand-in, not yours",
            config.base_dir.display()
        );
    }
    // A file where the store's folder should be stops every command the same way: said once, here.
    if store_dir.exists() && !store_dir.is_dir() {
        bail!(
            "the metric store {} is a file, not a folder\nhint: give --store (or [store] dir, or PRESCALE_STORE) a \
             folder; the store is created there",
            store_dir.display()
        );
    }
    Ok(Ctx { config, demo, store_dir, out: g.out.clone(), now, clock, threads: threads(g) })
}

/// The threads the fits run on: `--threads`, else the machine's cores.
pub(crate) fn threads(g: &Global) -> std::num::NonZeroUsize {
    g.threads.and_then(|t| t.0).unwrap_or_else(prescale_core::par::default_threads)
}

/// Creates `dir` if need be and checks that a file can be written in it (a probe, removed again),
/// so that a run that writes its results there at the end does not fail only then.
pub(crate) fn writable_dir(dir: &Path, what: &str, flag: &str) -> Result<()> {
    let hint = format!("hint: give a folder this user can write ({flag})");
    if dir.exists() && !dir.is_dir() {
        bail!("the {what} folder {} is a file, not a folder\n{hint}", dir.display());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the {what} folder {}\n{hint}", dir.display()))?;
    // Made new, so a link standing at the name is not written through.
    let probe = dir.join(format!(".prescale-probe-{}", std::process::id()));
    let _ = std::fs::remove_file(&probe);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| format!("cannot write in the {what} folder {}\n{hint}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    // A folder every user can write: another could place links at the names prescale writes.
    if let Ok(m) = std::fs::metadata(dir)
        && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o002 != 0
    {
        // A shared folder such as /tmp (sticky) stays so: a folder of prescale's own inside it.
        let sticky = std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o1000 != 0;
        let remedy = if sticky {
            format!("give it a folder of its own, not a shared one ({flag}, e.g. a folder made with `mkdir -m 700`)")
        } else {
            format!(
                "give it a folder of its own: `chmod o-w {}` where the folder is prescale's, else another ({flag})",
                prescale_plan::shell_word(&dir.display().to_string())
            )
        };
        warn!(
            "the {what} folder {} can be written by every user: another could place links there that this run's \
             files would be written through\nhint: {remedy}",
            dir.display()
        );
    }
    Ok(())
}

/// Whether two paths name one existing file (through links, `./`, `..`).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A stream rather than a file (`/dev/stdout`, a pipe, a device): its name says nothing of its
/// format, so the extension checks leave it alone. Judged by what the path is, not where (but
/// for the process's own descriptors): a pseudo-file under `/proc` (`/proc/version`) is a file
/// no output can be written to, which the up-front check says, and a name that does not exist
/// yet is a file to be made.
pub(crate) fn is_stream(path: &Path) -> bool {
    // A process's own descriptors are streams whatever the shell opened on them (`> out.txt`).
    let descriptor = ["/dev/stdout", "/dev/stderr", "/dev/fd", "/proc/self/fd"].iter().any(|d| path.starts_with(d));
    descriptor || std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Checks, before a long run, that the output file `flag` names can be written (its folder is
/// made as [`writable_dir`] makes it): a folder of that name, a file where its folder should be or
/// a folder this user cannot write is said now, not after minutes of work. A stream passes.
pub(crate) fn writable_file(path: &Path, flag: &str) -> Result<()> {
    if is_stream(path) {
        return Ok(());
    }
    if path.is_dir() {
        bail!("{flag} {} is a folder\nhint: name a file in it for {flag}", path.display());
    }
    writable_dir(
        path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")),
        flag,
        &format!("{flag} FILE"),
    )
}

/// The instant `--now` names.
pub(crate) fn parse_now(s: &str) -> Result<DateTime<Utc>> {
    let now = prescale_store::parse_timestamp(s)
        .or_else(|| offset_without_seconds(s))
        .with_context(|| format!("--now {s:?} is not a timestamp (use RFC 3339, e.g. 2026-11-23T03:00:00Z)"))?;
    // Years of history before it and a horizon after it are counted from it.
    if !(1970..=9000).contains(&chrono::Datelike::year(&now)) {
        bail!("--now {s:?} is outside the years 1970 to 9000 that prescale plans in");
    }
    Ok(now)
}

/// A time with an offset but without seconds (`2026-11-27T06:00Z`, `2026-11-27 07:00+01:00`).
pub(crate) fn offset_without_seconds(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim().replacen(' ', "T", 1);
    let t = t.strip_suffix('Z').map_or(t.clone(), |u| format!("{u}+00:00"));
    DateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M%:z").ok().map(|t| t.with_timezone(&Utc))
}

/// The context of a command that reads what an earlier run stored (forecasts, events, the
/// stand-in groups): the demo keeps its store under `--out`, so such a command with another
/// `--out` than the run that filled it (the README's tour after `nightly --out out/demo`) finds
/// nothing and plans nothing. Said where the demo's store is not there.
pub(crate) fn reading_context(g: &Global) -> Result<Ctx> {
    let ctx = context(g)?;
    // Any group's load or forecast, where the store keeps them (events alone, an `event add` with
    // this --out, are no load to plan from).
    let (metrics, forecasts) =
        (prescale_store::MetricStore::for_reading(&ctx.store_dir), ForecastTable::new(&ctx.store_dir));
    let filled = ctx
        .config
        .groups
        .iter()
        .map(Config::load_id)
        .any(|id| metrics.path(&id).exists() || forecasts.path(&id).exists());
    if ctx.demo && g.store.is_none() && !filled {
        warn!(
            "the demo's store {} holds no load and no forecasts: the demo keeps its store, like its plan, under \
             --out ({}), so this run sees nothing a run with another --out made\nhint: give the --out of the run that \
             filled it (after `prescale nightly --out out/demo`: --out out/demo, or export PRESCALE_OUT=out/demo)",
            ctx.store_dir.display(),
            ctx.out.display()
        );
    }
    Ok(ctx)
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(DemoCmd::Generate { dir }) => {
            let mut out = crate::output::stdout();
            for f in crate::demo::generate(&dir)? {
                writeln!(out, "wrote {f}")?;
            }
            Ok(())
        }
        Command::Forecast(ForecastCmd::Show(args)) if args.input.is_some() => show_input(&cli.global, &args),
        Command::Forecast(ForecastCmd::Show(args)) => show_group(&reading_context(&cli.global)?, &args),
        Command::Ingest(f) => {
            let ctx = context(&cli.global)?;
            let (done, failed, asked) = ingest(&ctx, &f, false)?;
            output::ingest(&mut crate::output::stdout(), &done)?;
            if !failed.is_empty() {
                bail!("{} of {asked} series could not be stored (see the warnings above)", failed.len());
            }
            Ok(())
        }
        Command::Forecast(ForecastCmd::Fit(f)) => {
            let ctx = context(&cli.global)?;
            let (fits, failed) = fit(&ctx, &f, &[])?;
            output::fits(&mut crate::output::stdout(), &fits)?;
            if !failed.is_empty() {
                bail!(
                    "{} series got no forecast (see the warnings above){}",
                    failed.len(),
                    if fits.is_empty() { "" } else { "; the others were stored" }
                );
            }
            Ok(())
        }
        Command::Plan(args) => {
            let ctx = reading_context(&cli.global)?;
            if args.what_if { what_if(&ctx, &args) } else { plan_cmd(&ctx, &args) }
        }
        Command::Event(cmd) => event_cmd(&reading_context(&cli.global)?, cmd),
        Command::Pause(args) => pause_cmd(&reading_context(&cli.global)?, &args),
        Command::Resume(args) => resume_cmd(&reading_context(&cli.global)?, &args),
        Command::Apply(args) if args.revert => {
            // Removing is not timed: --now says only which of prescale's actions have run
            // (whose raised bounds a revert puts back), and the clock does when it is later.
            let ctx = context_to_change(&cli.global, args.execute, true)?;
            let results = revert(&ctx, &args.groups, args.execute, args.keep_bounds, args.floors_only)?;
            output::applied(&mut crate::output::stdout(), &results, args.execute, None)?;
            if args.execute {
                made_line(&ctx, &results, "removed");
            } else {
                // With the report, on stdout, as `apply` and `nightly` end theirs.
                let mut out = crate::output::stdout();
                if results.iter().any(|r| !r.changes.is_empty()) {
                    writeln!(out, "dry run: nothing was changed; rerun with --execute to apply")?;
                } else if results.iter().all(|r| r.error.is_none()) {
                    writeln!(out, "dry run: prescale has nothing in these groups to remove")?;
                }
            }
            fail_on_partial(&results, args.execute)
        }
        Command::Apply(args) => {
            let ctx = context_to_change(&cli.global, args.execute, args.allow_clock_skew)?;
            let path = args.plan.clone().unwrap_or_else(|| ctx.out.join("plan.json"));
            if args.plan.is_none() && !path.exists() {
                // --out is read from the current folder, not the configuration's: a run from
                // another folder looks for the plan where none was written.
                let absolute = std::path::absolute(&ctx.out).unwrap_or_else(|_| ctx.out.clone());
                let elsewhere = apply::other_audit_log(&ctx);
                bail!(
                    "no plan at {} (--out is {}, relative to the current folder)\nhint: {}run `prescale plan` first, \
                     or pass --plan FILE",
                    path.display(),
                    absolute.display(),
                    elsewhere.map_or(String::new(), |log| format!(
                        "the store's last run that wrote to the groups used --out {}: give that, or ",
                        apply::out_of(&log).display()
                    ))
                );
            }
            let mut plan = read_plan(&path)?;
            // A copy `--execute` kept (a part of a plan, merged) is no plan edited by hand.
            let kept_copy = path.parent().is_some_and(|d| d.ends_with("applied"));
            let edited = if kept_copy { None } else { apply::edited_hash(&plan) };
            if edited.is_some() {
                warn!(
                    "{} is not what prescale wrote under its id {} (edited by hand since, or written by another \
                     prescale version): {}",
                    path.display(),
                    plan.plan_id,
                    if args.execute {
                        format!(
                            "applied as it is; the audit log's lines carry that id, and {} keeps it as applied",
                            apply::applied_path(&ctx, &plan.plan_id, edited).display()
                        )
                    } else {
                        "diffed as it is".to_string()
                    }
                );
            }
            select_plan_groups(&mut plan, &args.groups, &path)?;
            let before = plan.groups.len();
            leave_paused_out(&ctx, &mut plan.groups)?;
            if before > 0 && plan.groups.is_empty() {
                writeln!(
                    crate::output::stdout(),
                    "every group of plan {} to apply is paused: nothing was changed",
                    plan.plan_id
                )?;
                return Ok(());
            }
            events_changed_since(&ctx, &plan, &path, args.execute, args.allow_events_changed)?;
            check_plan(&ctx, &plan)?;
            let overrides = guard(&ctx, &plan, args.allow_guardrail_breach)?;
            let results = apply(&ctx, &plan, args.execute, &overrides, edited)?;
            output::applied(&mut crate::output::stdout(), &results, args.execute, None)?;
            if args.execute {
                made_line(&ctx, &results, "made");
            } else if results.iter().any(|r| !r.changes.is_empty()) {
                writeln!(crate::output::stdout(), "dry run: nothing was changed; rerun with --execute to apply")?;
            }
            fail_on_partial(&results, args.execute)
        }
        Command::Nightly(args) => nightly(&context_to_change(&cli.global, args.execute, args.allow_clock_skew)?, &args),
        Command::Backtest(args) => backtest(&cli.global, &args),
        Command::Simulate(args) => simulate(&cli.global, &args),
    }
}

/// The plan's groups whose stored events changed after the plan was written (an event added,
/// removed or replaced that the plan was not made with): applying it sets their floors as they
/// were before. A dry run, and an `--execute` with `allow` (`--allow-events-changed`), warns; an
/// `--execute` otherwise is refused before it reads a group, so an `event add` followed by an
/// `apply --execute` of the plan made before it does not put the floors up without the event.
/// Plans written before they kept a digest of their events are not checked; stored events that
/// cannot be read are warned of.
fn events_changed_since(ctx: &Ctx, plan: &CapacityPlan, path: &Path, execute: bool, allow: bool) -> Result<()> {
    let events = match EventStore::new(&ctx.store_dir).load() {
        Ok(events) => events,
        Err(e) if execute && !allow => {
            bail!(
                "the stored events could not be read to check plan {} against them: {e}\nnothing was changed; \
                 --allow-events-changed applies the plan as it is",
                plan.plan_id
            );
        }
        Err(e) => {
            warn!("the stored events could not be read to check the plan against them: {e}");
            return Ok(());
        }
    };
    let changed: Vec<&str> = plan
        .groups
        .iter()
        .filter(|g| {
            let until = g.scheduled_actions.last().map_or(plan.created_at, |a| a.start_time);
            g.events_digest
                .as_ref()
                .is_some_and(|d| *d != prescale_plan::events_digest(&events, &g.group, plan.created_at, until))
        })
        .map(|g| g.group.as_str())
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let said = format!(
        "the stored events of {} changed after plan {} was written ({}): it does not hold them, and applying it sets \
         the floors as they were before",
        changed.join(", "),
        plan.plan_id,
        path.display()
    );
    if execute && !allow {
        bail!(
            "{said}; nothing was changed\nhint: `prescale plan` (or `prescale nightly`) first, for a plan with the \
             events; --allow-events-changed applies this one as it is"
        );
    }
    warn!("{said}\nhint: `prescale plan` (or `prescale nightly`) first");
    Ok(())
}

pub(crate) fn selected<'a>(ctx: &'a Ctx, f: &GroupFilter) -> Result<Vec<&'a GroupConfig>> {
    for name in &f.groups {
        if !ctx.config.groups.iter().any(|g| &g.name == name) {
            let known: Vec<&str> = ctx.config.groups.iter().map(|g| g.name.as_str()).collect();
            bail!("no group {name:?} in {}; {}", ctx.config.origin, known_groups(&known, name));
        }
    }
    Ok(ctx.config.groups.iter().filter(|g| f.groups.is_empty() || f.groups.contains(&g.name)).collect())
}

/// What to say of the groups there are, for a name that is none of them: the nearest names (a
/// typo's), and every name where there are few; a fleet's hundreds are counted, not listed.
fn known_groups(known: &[&str], name: &str) -> String {
    // Edits between two names (insertions, deletions, substitutions), by characters.
    let distance = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut diagonal = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let next = (row[j + 1] + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
                diagonal = row[j + 1];
                row[j + 1] = next;
            }
        }
        row[b.len()]
    };
    let lower = name.to_lowercase();
    // The nearest: in a fleet of numbered names every one is within a few edits, and the first
    // three configured would crowd out the one meant (api-prod-07 for api-prod-07x).
    let mut near: Vec<(usize, &str)> = known
        .iter()
        .map(|k| (distance(&k.to_lowercase(), &lower), *k))
        .filter(|(d, _)| *d <= (name.chars().count() / 4).max(1))
        .collect();
    let nearest = near.iter().map(|(d, _)| *d).min().unwrap_or(0);
    near.retain(|(d, _)| *d == nearest);
    let near: Vec<&str> = near.into_iter().take(3).map(|(_, k)| k).collect();
    let mean = if near.is_empty() { String::new() } else { format!("did you mean {}? ", near.join(" or ")) };
    if known.len() <= 12 {
        format!("{mean}known groups: {}", known.join(", "))
    } else {
        format!(
            "{mean}it configures {} groups (the first {}, the last {})",
            known.len(),
            known[0],
            known[known.len() - 1]
        )
    }
}

/// After `apply --execute` (`made`) or `apply --revert --execute` (`removed`): how many changes
/// went through in how many groups, and where each is on record.
fn made_line(ctx: &Ctx, results: &[GroupApply], verb: &str) {
    // A group with no report (its changes never went out) changed nothing.
    let done = |r: &GroupApply| if r.report.is_some() { r.tally().0 } else { 0 };
    let made: usize = results.iter().map(done).sum();
    let changed = results.iter().filter(|r| done(r) > 0).count();
    // A revert may also put back bounds prescale's actions left raised: said apart.
    let bounds = results
        .iter()
        .filter_map(|r| r.report.as_ref())
        .flat_map(|p| &p.applied)
        .filter(|c| matches!(c, Change::SetBounds { .. }))
        .count();
    if made > 0 {
        let groups = |n: usize| if n == 1 { "1 group".to_string() } else { format!("{n} groups") };
        let what = match (verb, made - bounds) {
            (_, 0) => None,
            ("removed", 1) => Some("1 object removed".to_string()),
            ("removed", n) => Some(format!("{n} objects removed")),
            (_, 1) => Some(format!("1 change {verb}")),
            (_, n) => Some(format!("{n} changes {verb}")),
        };
        // (A group's bounds are one change.)
        let line = match (what, bounds) {
            (Some(what), 0) => format!("{what} in {}", groups(changed)),
            (Some(what), b) => format!("{what} in {}; bounds put back on {b} of them", groups(changed)),
            (None, b) => format!("bounds put back on {}", groups(b)),
        };
        say!("{line}; each is in {}", ctx.out.join("audit.jsonl").display());
    } else if results.iter().any(|r| r.report.as_ref().is_some_and(|p| p.unanswered() > 0)) {
        say!("no change confirmed: calls without an answer in time may have been made (the next dry run shows which)");
    } else {
        say!("no change made");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_that_is_no_group_gets_the_nearest_and_a_fleet_is_counted() {
        let few = ["web-prod", "api-staging", "worker-dev"];
        assert_eq!(
            super::known_groups(&few, "web-prd"),
            "did you mean web-prod? known groups: web-prod, api-staging, worker-dev"
        );
        assert_eq!(super::known_groups(&few, "x"), "known groups: web-prod, api-staging, worker-dev");
        let names: Vec<String> = (0..150).map(|k| format!("g{k:04}")).collect();
        let fleet: Vec<&str> = names.iter().map(String::as_str).collect();
        let said = super::known_groups(&fleet, "G0042x");
        assert_eq!(said, "did you mean g0042? it configures 150 groups (the first g0000, the last g0149)");
        assert!(!super::known_groups(&fleet, "web").contains("did you mean"));
        // Numbered names are all within a few edits of each other: the nearest are named, not
        // the first configured.
        let numbered: Vec<String> = (1..=20).map(|i| format!("api-prod-{i:02}")).collect();
        let numbered: Vec<&str> = numbered.iter().map(String::as_str).collect();
        for typo in ["api-prod-07x", "API-PROD-07"] {
            assert!(super::known_groups(&numbered, typo).starts_with("did you mean api-prod-07? "), "{typo}");
        }
        assert!(super::known_groups(&numbered, "api-prod-7").starts_with("did you mean api-prod-07 or api-prod-17? "));
    }
}
