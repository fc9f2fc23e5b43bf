//! The plans an `--execute` applied, kept in `OUT/applied/`: written before the first change,
//! pruned after, and read back by later runs (a revert of a group taken out of the
//! configuration, the events-lost check).

use super::*;

/// The bounds of `group` in the newest plan kept in `OUT/applied/` that holds it, with that
/// plan's id: what the group was configured with when prescale last applied a plan to it (for a
/// revert of a group taken out of the configuration). Copies that cannot be read are passed over.
pub(super) fn last_applied_bounds(ctx: &Ctx, group: &str) -> Option<(CapacityBounds, String)> {
    applied_newest_first(ctx, None).find_map(|plan| {
        let g = plan.groups.iter().find(|g| g.group == group)?;
        Some((g.bounds, plan.plan_id.clone()))
    })
}

/// The plans kept in `OUT/applied/`, the newest first, those written since `since` where given;
/// copies that cannot be read are passed over. Newest by the minute the plan was made (its id's
/// first part, in its file name), then by the time the copy was written: to one group an apply
/// never sends a plan older than one applied to it before ([`AuditHistory::newer_than`]), so for
/// each group the first plan holding it is the one applied last, and a restore of the folder that
/// gives every copy the same time (`cp -r`) keeps that order. Two cases break the assumption: after
/// a revert, an older plan may be applied again (the newer one still sorts first for two weeks),
/// and a plan made at a `--now` ahead of the clock sorts first until its minute comes; the
/// events-lost check may then read the wrong plan as a group's last.
pub(crate) fn applied_newest_first(
    ctx: &Ctx,
    since: Option<std::time::SystemTime>,
) -> impl Iterator<Item = CapacityPlan> {
    let mut kept: Vec<(String, std::time::SystemTime, PathBuf)> = std::fs::read_dir(ctx.out.join("applied"))
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let path = e.path();
            (path.extension()? == "json").then_some(())?;
            let name = path.file_name()?.to_str()?;
            // A file of another name (a person's) sorts before every plan prescale kept.
            let made = if is_plan_id_name(name) { name[..14].to_string() } else { String::new() };
            Some((made, e.metadata().ok()?.modified().ok()?, path))
        })
        .filter(|(_, at, _)| since.is_none_or(|s| *at >= s))
        .collect();
    kept.sort();
    kept.into_iter().rev().filter_map(|(_, _, path)| super::plan::read_plan(&path).ok())
}

/// How many applied plans `OUT/applied/` keeps: two months of nightly runs (and every one of the
/// last [`APPLIED_RECENT`]).
pub(super) const APPLIED_KEPT: usize = 60;

/// How far back the plans kept in `OUT/applied/` are all kept, and read for events lost with a
/// store: two weeks, longer than a plan's horizon and the events it holds floors to.
pub(crate) const APPLIED_RECENT: std::time::Duration = std::time::Duration::from_secs(14 * 86_400);

/// Where an `--execute` keeps the plan it applies: `OUT/applied/PLAN_ID.json`, or, for a plan
/// edited since prescale wrote it (`edited`: [`edited_hash`]), `OUT/applied/PLAN_ID-edited-HASH.json`,
/// so that the plan as written keeps its own copy.
pub(crate) fn applied_path(ctx: &Ctx, plan_id: &str, edited: Option<u32>) -> PathBuf {
    let name = match edited {
        None => plan_id.to_string(),
        Some(hash) => format!("{plan_id}-edited-{hash:08x}"),
    };
    ctx.out.join("applied").join(format!("{name}.json"))
}

/// `None` for a plan as prescale wrote it (its content makes its id), else the hash of its
/// content: a plan edited by hand since (or written by another prescale version).
pub(crate) fn edited_hash(plan: &CapacityPlan) -> Option<u32> {
    (!super::plan::content_makes_id(plan))
        .then(|| prescale_plan::content_hash(&serde_json::to_vec(&plan.groups).unwrap_or_default()))
}

/// A file name `OUT/applied/` holds a kept plan under: a plan id (`20261123T0000Z-38a8f025`),
/// `-edited-HASH` for an edited one ([`applied_path`]), and `.json`.
pub(super) fn is_plan_id_name(name: &str) -> bool {
    name.strip_suffix(".json").is_some_and(|stem| {
        stem.get(..23).is_some_and(prescale_plan::is_plan_id)
            && (stem.len() == 23 || stem[23..].starts_with("-edited-"))
    })
}

/// Keeps the plan an `--execute` applies at [`applied_path`], before its first change, so the
/// audit log's `plan_id` names a file that still says what the groups were given (their floors'
/// reasons, the forecast they came from) after a later dry run has replaced `OUT/plan.json`. A run
/// that applies a part of a plan (`apply --group`) adds its groups to the copy of the same plan
/// (a plan's id is its content's, so a group's plan under one id is the same, unless the file was
/// edited: then the groups as last applied). A plan that cannot be kept changes nothing, as an
/// audit log that cannot be written does not. Returns whether the copy is new: a run that made no
/// change removes it again ([`drop_or_prune_applied`]).
pub(super) fn keep_applied(ctx: &Ctx, plan: &CapacityPlan, edited: Option<u32>) -> Result<bool> {
    let path = applied_path(ctx, &plan.plan_id, edited);
    let new = !path.exists();
    let dir = path.parent().expect("a file in a folder");
    let cannot = |e: &dyn std::fmt::Display| {
        anyhow::anyhow!(
            "cannot keep the plan to apply at {}: {e}; nothing was changed\nhint: make {} writable (an --execute \
             keeps each plan it applies there, named by the plan id its audit lines carry)",
            path.display(),
            dir.display()
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| cannot(&e))?;
    let mut kept = plan.clone();
    // A copy of the same plan that a run of other groups kept: its other groups stay, in its
    // order (this run's replace theirs of the same name: the same, unless the plan was edited).
    if let Ok(mut earlier) = read_plan(&path) {
        for g in &mut earlier.groups {
            if let Some(now) = kept.groups.iter().find(|k| k.group == g.group) {
                *g = now.clone();
            }
        }
        let new: Vec<GroupPlan> =
            kept.groups.into_iter().filter(|g| !earlier.groups.iter().any(|e| e.group == g.group)).collect();
        earlier.groups.extend(new);
        kept = earlier;
    }
    write_plan(&kept, &path).map_err(|e| cannot(&e))?;
    Ok(new)
}

/// After an `--execute`: a copy [`keep_applied`] made for a run whose audit log got no change
/// (every group failed at its read, or had nothing to change) is removed again, as no audit line
/// names it; after one that logged changes, beyond the newest [`APPLIED_KEPT`] the oldest copies
/// are: a string of nights that change nothing does not push out the plans the log names.
pub(super) fn drop_or_prune_applied(ctx: &Ctx, plan: &CapacityPlan, edited: Option<u32>, new: bool, logged: bool) {
    let path = applied_path(ctx, &plan.plan_id, edited);
    if !logged {
        if new && let Err(e) = std::fs::remove_file(&path) {
            warn!("cannot remove {}, a copy of a plan that changed nothing: {e}", path.display());
        }
        return;
    }
    let dir = path.parent().expect("a file in a folder");
    // Plan ids start with their time (`20261123T0000Z-…`): by name is oldest first. Only such
    // names are removed; anything else a person put there stays.
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut copies: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(is_plan_id_name))
        .collect();
    copies.sort();
    // Never the copy just kept (an older plan applied again sorts first).
    copies.retain(|p| *p != path);
    let excess = (copies.len() + 1).saturating_sub(APPLIED_KEPT);
    // Nor one of the last two weeks, however many: the events-lost check reads each group's
    // last applied plan among them (`plan::lost_events`).
    let recent = std::time::SystemTime::now() - APPLIED_RECENT;
    let written = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    for old in copies[..excess.min(copies.len())].iter().filter(|p| written(p).is_none_or(|t| t < recent)) {
        if let Err(e) = std::fs::remove_file(old) {
            warn!("cannot remove the applied plan {} (beyond the newest {APPLIED_KEPT}): {e}", old.display());
        }
    }
}
