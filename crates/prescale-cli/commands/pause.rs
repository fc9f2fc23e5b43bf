//! `pause` and `resume`: groups an operator tells prescale to leave alone for a while, and what
//! `plan`, `nightly` and `apply` do with them.

use super::*;
use prescale_store::{Pause, PauseStore};

/// The pauses of the store that hold at the run's instant; a pauses file that cannot be read
/// stops the run: going on would undo what an operator paused.
pub(crate) fn active_pauses(ctx: &Ctx) -> Result<Vec<Pause>> {
    let store = PauseStore::new(&ctx.store_dir);
    let pauses = store.load().with_context(|| {
        format!(
            "the pauses (`prescale pause`) cannot be read, so this run cannot tell which groups an operator paused; \
             nothing was planned or changed\nhint: mend {} (JSON, `prescale.pauses/v1`), or move it aside and pause \
             again what should stay paused",
            store.path().display()
        )
    })?;
    Ok(pauses.into_iter().filter(|p| p.holds_at(ctx.now)).collect())
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

pub(crate) fn pause_cmd(ctx: &Ctx, args: &PauseArgs) -> Result<()> {
    let store = PauseStore::new(&ctx.store_dir);
    let mut out = crate::output::stdout();
    if args.groups.is_empty() && !args.all {
        let pauses = active_pauses(ctx)?;
        if pauses.is_empty() {
            writeln!(out, "no group is paused")?;
        }
        for p in &pauses {
            writeln!(
                out,
                "{}  until {}  since {}{}",
                p.group,
                p.until.format("%Y-%m-%d %H:%M UTC"),
                p.since.format("%Y-%m-%d %H:%M UTC"),
                if p.reason.is_empty() { String::new() } else { format!("  {}", p.reason) }
            )?;
        }
        return Ok(());
    }
    let groups: Vec<String> =
        selected(ctx, &GroupFilter { groups: args.groups.clone() })?.into_iter().map(|g| g.name.clone()).collect();
    let until = match &args.until {
        Some(t) => super::plan::parse_time_in("--until", t, None)?,
        None => ctx.now + super::parse_horizon(&args.duration).with_context(|| format!("--for {:?}", args.duration))?,
    };
    if until <= ctx.now {
        bail!(
            "--until {} is not after now ({}): a pause that ended already holds nothing back",
            until.format("%Y-%m-%d %H:%M UTC"),
            ctx.now.format("%Y-%m-%d %H:%M UTC")
        );
    }
    store.pause(&groups, ctx.now, until, &args.reason)?;
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
        "to take prescale's floors down now and keep its scaling policies: prescale apply --revert --floors-only {} \
         --execute",
        names.join(" ")
    )?;
    Ok(())
}

pub(crate) fn resume_cmd(ctx: &Ctx, args: &ResumeArgs) -> Result<()> {
    let store = PauseStore::new(&ctx.store_dir);
    let groups: Vec<String> =
        if args.all { active_pauses(ctx)?.into_iter().map(|p| p.group).collect() } else { args.groups.clone() };
    let ended = store.resume(&groups, ctx.now)?;
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
