//! `pause` and `resume`: groups an operator tells prescale to leave alone for a while, and what
//! `plan`, `nightly` and `apply` do with them.

use super::*;
use prescale_store::{Pause, PauseStore};

/// The pauses of the store that hold at the run's instant; a pauses file that cannot be read
/// stops the run: going on would undo what an operator paused.
pub(crate) fn active_pauses(ctx: &Ctx) -> Result<Vec<Pause>> {
    PauseStore::new(&ctx.store_dir).holding_at(ctx.now).context(
        "the pauses (`prescale pause`) cannot be read, so this run cannot tell which groups an operator paused: \
         nothing was planned, changed, paused or resumed",
    )
}

/// Of `pauses`, those of the groups `f` selects.
pub(crate) fn paused_among(pauses: Vec<Pause>, f: &GroupFilter) -> Vec<Pause> {
    pauses.into_iter().filter(|p| f.groups.is_empty() || f.groups.contains(&p.group)).collect()
}

/// What a run that found every group it would plan paused says, on stdout: it plans and changes
/// nothing, and leaves the plan file as it was.
pub(crate) fn all_paused_line(paused: &[Pause], plan_file: &Path) -> String {
    let names: Vec<&str> = paused.iter().map(|p| p.group.as_str()).collect();
    format!(
        "every group this run would plan is paused ({}): nothing planned or changed; {} left as it was",
        names.join(", "),
        plan_file.display()
    )
}

/// How a paused group is said on every run that leaves it out.
pub(crate) fn paused_line(p: &Pause) -> String {
    format!(
        "{}: paused until {} (since {}{}): not planned; prescale leaves the group as it is, its floors in place \
         (`prescale resume --group {}` ends the pause)",
        p.group,
        p.until.format("%Y-%m-%d %H:%M UTC"),
        p.since.format("%Y-%m-%d %H:%M UTC"),
        if p.reason.is_empty() { String::new() } else { format!(", {:?}", p.reason) },
        prescale_plan::shell_word(&p.group)
    )
}

/// Takes the paused groups out of a plan about to be applied (one written before the pause), each
/// said.
pub(crate) fn leave_paused_out(ctx: &Ctx, groups: &mut Vec<GroupPlan>) -> Result<()> {
    let pauses = active_pauses(ctx)?;
    groups.retain(|g| match pauses.iter().find(|p| p.group == g.group) {
        Some(p) => {
            warn!("{}", paused_line(p));
            false
        }
        None => true,
    });
    Ok(())
}

/// The instant before which ended pauses are dropped from the file: the earlier of the run's and
/// the clock's, so that neither a run at a later `--now` nor one at an earlier drops a pause that
/// still holds for the other.
fn ended_before(ctx: &Ctx) -> DateTime<Utc> {
    ctx.now.min(Utc::now())
}

pub(crate) fn pause_cmd(ctx: &Ctx, args: &PauseArgs) -> Result<()> {
    let store = PauseStore::new(&ctx.store_dir);
    let mut out = crate::output::stdout();
    if args.groups.is_empty() && !args.all {
        let pauses = active_pauses(ctx)?;
        if pauses.is_empty() {
            writeln!(out, "no group is paused")?;
        }
        for p in &pauses {
            writeln!(out, "{}", paused_entry(p))?;
        }
        return Ok(());
    }
    let groups: Vec<String> =
        selected(ctx, &GroupFilter { groups: args.groups.clone() })?.into_iter().map(|g| g.name.clone()).collect();
    let until = match &args.until {
        Some(t) => super::plan::parse_time_in("--until", t, Some(("", chrono_tz::UTC)))?,
        None => {
            let d = args.duration.as_deref().unwrap_or("24h");
            ctx.now + super::parse_horizon(d).with_context(|| format!("--for {d:?}"))?
        }
    };
    if until <= ctx.now {
        bail!(
            "--until {} is not after now ({}): a pause that ended already holds nothing back",
            until.format("%Y-%m-%d %H:%M UTC"),
            ctx.now.format("%Y-%m-%d %H:%M UTC")
        );
    }
    // A pause runs from the run's instant: --now (or a stray PRESCALE_NOW) behind the clock
    // would write one the nightly job, on the clock, finds over.
    if !ctx.demo && until <= Utc::now() {
        bail!(
            "the pause would end at {}, before the clock ({}): --now (or PRESCALE_NOW) is behind it\nhint: unset \
             PRESCALE_NOW, or give --until a time ahead",
            until.format("%Y-%m-%d %H:%M UTC"),
            Utc::now().format("%Y-%m-%d %H:%M UTC")
        );
    }
    store.pause(&groups, ctx.now, until, &args.reason, ended_before(ctx))?;
    for g in &groups {
        writeln!(
            out,
            "paused {g} until {}: plan, nightly and apply leave it as it is (prescale's floors on it still run at \
             their times); `prescale resume --group {}` ends it sooner",
            until.format("%Y-%m-%d %H:%M UTC"),
            prescale_plan::shell_word(g)
        )?;
    }
    let names: Vec<String> = groups.iter().map(|g| format!("--group {}", prescale_plan::shell_word(g))).collect();
    writeln!(
        out,
        "to take prescale's floors down now and keep its scaling policies: prescale{} apply --revert --floors-only \
         {} --execute",
        run_flags(ctx),
        names.join(" ")
    )?;
    Ok(())
}

/// A pause as `prescale pause` lists it.
fn paused_entry(p: &Pause) -> String {
    format!(
        "{}  until {}  since {}{}",
        p.group,
        p.until.format("%Y-%m-%d %H:%M UTC"),
        p.since.format("%Y-%m-%d %H:%M UTC"),
        if p.reason.is_empty() { String::new() } else { format!("  {}", p.reason) }
    )
}

/// The global flags a command printed for the operator needs to reach this run's groups and
/// audit log: `--config demo` for the demo (whose groups `--execute` takes only when named), and
/// this run's `--out` (a revert reads the audit log there). A configuration or store named by the
/// environment is the operator's to keep.
fn run_flags(ctx: &Ctx) -> String {
    let demo = if ctx.demo { " --config demo" } else { "" };
    format!("{demo} --out {}", prescale_plan::shell_word(&ctx.out.display().to_string()))
}

pub(crate) fn resume_cmd(ctx: &Ctx, args: &ResumeArgs) -> Result<()> {
    let store = PauseStore::new(&ctx.store_dir);
    let groups: Vec<String> =
        if args.all { active_pauses(ctx)?.into_iter().map(|p| p.group).collect() } else { args.groups.clone() };
    let ended = store.resume(&groups, ctx.now, ended_before(ctx))?;
    let mut out = crate::output::stdout();
    for g in &groups {
        if ended.iter().any(|p| &p.group == g) {
            writeln!(out, "resumed {g}: the next plan (the nightly run's) plans it again")?;
        } else {
            warn!("{g} was not paused (`prescale pause` lists the pauses)");
        }
    }
    if groups.is_empty() {
        writeln!(out, "no group was paused")?;
    }
    Ok(())
}
