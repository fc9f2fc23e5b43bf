//! `nightly`: ingest, fit, plan and apply in one run, and what of it needs a person.

use super::*;

pub(crate) fn nightly(ctx: &Ctx, args: &NightlyArgs) -> Result<()> {
    // A cron or systemd timeout before the writes: said, not an exit 143 without a word.
    crate::stop::watch();
    if args.quiet {
        super::Progress::quiet();
    }
    // Before minutes of ingest and fitting: an output folder that cannot be written fails now.
    super::writable_dir(&ctx.out, "output", "--out DIR, or PRESCALE_OUT")?;
    let mut out = crate::output::stdout();
    if ctx.demo && !args.quiet {
        writeln!(
            out,
            "prescale demo: built-in configuration and data in {}, now = {}, outputs in {}\n",
            ctx.config.base_dir.display(),
            ctx.now.format("%Y-%m-%d %H:%M UTC"),
            ctx.out.display()
        )?;
    }
    // A series that could not be stored keeps what the store held; one without a forecast is
    // planned with its reactive policy alone, and the summary says so. Either makes the run exit
    // 1 once everything else is done, so a batch job's monitoring sees it, when the plan reads the
    // series; a metric no plan reads (a group's CPU beside its request count) is warned about and
    // fails the run only with --strict: it cost no floor.
    let (ingested, not_stored, _) = ingest(ctx, &args.filter, true)?;
    if !args.quiet {
        output::ingest(&mut out, &ingested)?;
    }
    let (fits, not_fitted) = fit(ctx, &args.filter, &not_stored)?;
    let planned =
        |stored: bool| move |id: &MetricId| ctx.config.groups.iter().any(|g| Config::feeds_plan(g, id, stored));
    let (not_stored, aside_stored): (Vec<MetricId>, Vec<MetricId>) = not_stored.into_iter().partition(planned(true));
    let (not_fitted, aside_fitted): (Vec<MetricId>, Vec<MetricId>) = not_fitted.into_iter().partition(planned(false));
    // A series the plan needed stored (a per-instance load's instance count) and could not have
    // is no forecast "no plan reads": said once, among those not stored.
    let aside_fitted: Vec<MetricId> = aside_fitted.into_iter().filter(|id| !not_stored.contains(id)).collect();
    // A series not stored that got no forecast either (the store held none of it, or a damaged
    // file): said once, among those not stored.
    let (never, not_fitted): (Vec<MetricId>, Vec<MetricId>) =
        not_fitted.into_iter().partition(|id| not_stored.contains(id));
    // Named in the closing line: which groups were planned from what the store held.
    let stored_names = match never.len() {
        0 => series_named(&not_stored),
        n if n == not_stored.len() => format!("{}, so no forecast either", series_named(&not_stored)),
        _ => format!("{}; without a forecast either: {}", series_named(&not_stored), series_named(&never)),
    };
    let fitted_names = series_named(&not_fitted);
    // The groups whose load this run could not store: planned from what the store held.
    let from_store: Vec<String> = not_stored.iter().map(|id| id.group.clone()).collect();
    let (not_stored, not_fitted) = (not_stored.len(), not_fitted.len());
    let its_ingest = if not_stored > 0 { ItsIngest::Failed } else { ItsIngest::Stored };
    let (plan, held, paused) = make_plan(ctx, &args.filter)?;
    if args.quiet {
        for h in &held {
            writeln!(out, "{}", h.summary_line())?;
        }
        for p in &paused {
            writeln!(
                out,
                "{}: paused until {}; not planned, left as it is",
                p.group,
                p.until.format("%Y-%m-%d %H:%M UTC")
            )?;
        }
    }
    let path = ctx.out.join("plan.json");
    // Every group paused (`prescale pause --all` in an incident): nothing to plan, and no failure.
    if plan.groups.is_empty() && held.is_empty() && !paused.is_empty() {
        writeln!(out, "{}", all_paused_line(&paused, &path))?;
        return Ok(());
    }
    // Every group left out (a damaged store file): nothing to write or apply, the floors stay.
    if plan.groups.is_empty() && !held.is_empty() {
        bail!("{}", held_error(&held, its_ingest));
    }
    // Before the plan is written: a run that waits for another one changing the groups, and gives
    // up, leaves that run's plan in place.
    if args.execute
        && let Err(e) = hold_apply_lock(ctx)
    {
        // Only a wait that ran out means another run: a lock that cannot be taken at all (a store
        // or --out the job's user cannot write) is said as what it is.
        let waited =
            matches!(e.downcast_ref::<prescale_store::StoreError>(), Some(prescale_store::StoreError::Applying { .. }));
        return Err(if waited {
            e.context("its plan was not written (OUT/plan.json is still the other run's) and nothing was applied")
        } else {
            anyhow::anyhow!(
                "{e:#}\nnothing was applied and OUT/plan.json was not written: the apply lock cannot be taken\nhint: \
                 make the store ({}) and --out ({}) writable for the user this job runs as (`ls -ld` them), then run \
                 again",
                ctx.store_dir.display(),
                ctx.out.display()
            )
        });
    }
    write_plan(&plan, &path).map_err(|e| {
        anyhow::anyhow!(
            "{e:#}\nnothing was applied: the plan could not be written\nhint: make room on the disk that holds {dir} \
             (`df -h {dir}`) or make it writable for the user this job runs as (`ls -ld {dir}`), then run again",
            dir = ctx.out.display()
        )
    })?;
    check_plan(ctx, &plan)?;
    let overrides = guard(ctx, &plan, args.allow_guardrail_breach)?;
    let results = apply(ctx, &plan, args.execute, &overrides, None)?;
    if args.quiet {
        // The files hold the rest; the plan's id is what the audit log's lines carry.
        output::summary_lines(&mut out, &plan, &results, args.execute, &from_store)?;
        writeln!(out, "{}", output::fleet_line(&plan, held.len(), &results, args.execute))?;
        writeln!(out, "plan {}: {}", plan.plan_id, path.display())?;
    } else {
        output::summary(&mut out, &plan, &fits, &results, args.execute)?;
        // The groups left out have no row in the table: each its line (stderr says it too).
        for h in &held {
            writeln!(out, "{}", h.summary_line())?;
        }
        writeln!(out, "\n{}", output::fleet_line(&plan, held.len(), &results, args.execute))?;
        writeln!(out, "plan:      {}  (JSON: every floor, policy and reason)", path.display())?;
        // Kept only where the run changed something (a run that changed nothing keeps none).
        let kept = applied_path(ctx, &plan.plan_id, None);
        if args.execute && kept.exists() {
            writeln!(out, "kept:      {}  (the plan this run applies, kept after later runs)", kept.display())?;
        }
        if args.execute {
            writeln!(out, "audit log: {}", ctx.out.join("audit.jsonl").display())?;
        } else {
            writeln!(out, "full diff: {}", ctx.out.join("dry-run-changes.json").display())?;
        }
    }
    if !args.execute {
        // A group whose changes were worked out was read, whatever stopped it after.
        let read = results.iter().any(|r| r.error.is_none() || !r.changes.is_empty());
        writeln!(
            out,
            "dry run: nothing was changed; {}",
            if read {
                "rerun with --execute to apply"
            } else {
                "no group could be read, so nothing could be diffed: mend the errors below first"
            }
        )?;
    }
    let mut problems: Vec<String> =
        fail_on_partial(&results, args.execute).err().map(|e| e.to_string()).into_iter().collect();
    // What the plan reads first, the series no plan reads after: the run's first line (after
    // `error:`) is the one that matters.
    let aside = unplanned_failures(&aside_stored, &aside_fitted);
    if not_stored + not_fitted > 0 {
        let covered = if held.is_empty() {
            "the plan covers every group"
        } else {
            "the plan covers every group it could read (below)"
        };
        let what = match (not_stored, not_fitted) {
            (0, f) => format!("{f} series got no forecast ({fitted_names})"),
            (n, 0) => format!("{n} series could not be stored ({stored_names})"),
            (n, f) => {
                format!("{n} series could not be stored ({stored_names}) and {f} got no forecast ({fitted_names})")
            }
        };
        problems.push(format!(
            "{what} (see the warnings above); {covered}, those from what the store held or with their reactive policy \
             alone"
        ));
    }
    if !held.is_empty() {
        problems.push(held_error(&held, its_ingest));
    }
    if let Some(aside) = aside {
        if args.strict { problems.push(aside) } else { warn!("{aside}") }
    }
    if args.strict {
        problems.extend(needs_a_person(&plan, &results, args.execute));
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}

/// The series no plan reads that `nightly` could not store or fit, in a line, or `None`.
fn unplanned_failures(not_stored: &[MetricId], not_fitted: &[MetricId]) -> Option<String> {
    let list = |ids: Vec<&MetricId>, what: &str| {
        (!ids.is_empty())
            .then(|| format!("{} {what}", ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(", ")))
    };
    // A series not stored got no forecast either: said once.
    let unfitted: Vec<&MetricId> = not_fitted.iter().filter(|id| !not_stored.contains(id)).collect();
    let n = not_stored.len() + unfitted.len();
    let parts: Vec<String> =
        [list(not_stored.iter().collect(), "could not be stored"), list(unfitted, "got no forecast")]
            .into_iter()
            .flatten()
            .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "{} (see the warnings above); no plan reads {} (a group plans from its load_metric), so the plan is \
             whole and `forecast show` has what the store held; `nightly --strict` fails on it",
            parts.join("; "),
            if n == 1 { "it" } else { "them" }
        )
    })
}

/// `nightly --strict`: what of a plan that went through a person should look at, in a line: the
/// groups planned without floors (no forecast, or one `[trust]` refused), those whose floors
/// `MaxSize` cut where the forecast needs more, events whose `--peak` lowers the floors or whose
/// floors the fleet's scaling cut, and a first floor that rises over what the group runs by more
/// than `max_step_up`.
fn needs_a_person(plan: &CapacityPlan, results: &[GroupApply], execute: bool) -> Option<String> {
    let mut lines = Vec::new();
    for r in results {
        for said in r.first_step.iter().chain(&r.for_a_person) {
            lines.push(format!("{}: {said}", r.group));
        }
    }
    for g in &plan.groups {
        if g.forecast.is_none() {
            // The plan's own reason: why the forecast was not used, else why there are no floors.
            let why = [DecisionKind::ForecastNotUsed, DecisionKind::NoFloors]
                .iter()
                .find_map(|k| g.decisions.iter().find(|d| d.kind == *k))
                .map_or("no forecast to plan from".to_string(), |d| d.why.clone());
            lines.push(format!("{}: no floors: {why}", g.group));
        }
        for d in g.decisions.iter().filter(|d| d.kind == DecisionKind::Clamped) {
            lines.push(format!("{}: {}", g.group, d.what));
        }
        for d in g.decisions.iter().filter(|d| d.why.contains(prescale_plan::LOWERS)) {
            lines.push(format!("{}: {}: {}", g.group, d.what, prescale_plan::LOWERS));
        }
        // The fleet's scaling, asked for, passes; but not an event's floors cut by it unsaid: a
        // person planned that capacity.
        let scaled = g.decisions.iter().any(|d| d.kind == DecisionKind::FleetScaled);
        for d in g.decisions.iter().filter(|d| scaled && prescale_plan::moved_floors(d)) {
            lines.push(format!("{}: {}: its floors cut to fit [guardrails] max_fleet_size", g.group, d.what));
        }
    }
    (!lines.is_empty()).then(|| {
        format!(
            "--strict: {} thing{} in the plan need{} a person (the plan was written{}):\n  {}",
            lines.len(),
            if lines.len() == 1 { "" } else { "s" },
            if lines.len() == 1 { "s" } else { "" },
            if execute { " and applied" } else { "" },
            lines.join("\n  ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::needs_a_person;
    use prescale_core::{CapacityBounds, CapacityPlan, DecisionKind, ForecastSummary, GroupPlan, PlanDecision};

    #[test]
    fn strict_reads_the_decisions_by_their_kind_not_their_words() {
        let t0 = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let forecast = ForecastSummary {
            model: "auto".into(),
            metric: "requests".into(),
            quantile: 0.9,
            from: t0,
            to: t0 + chrono::Duration::hours(48),
            peak_point: 1.0,
            peak_at: t0,
            peak_quantile: 1.0,
            sizing: None,
            time_zone: None,
        };
        let group = |name: &str, decisions: Vec<PlanDecision>| GroupPlan {
            group: name.into(),
            environment: "prod".into(),
            bounds: CapacityBounds::new(2, 20).unwrap(),
            raised_max: None,
            forecast: Some(forecast.clone()),
            required: vec![],
            scheduled_actions: vec![],
            policies: vec![],
            alarms: vec![],
            decisions,
            events_digest: None,
            events: Vec::new(),
        };
        let d = PlanDecision::new;
        let busy = vec![
            d(DecisionKind::Clamped, "clamped 3 steps to MaxSize 20", "…"),
            d(DecisionKind::EventMoved, "event sale: floors up to 20", "…"),
            d(DecisionKind::Event, "event later (…) not yet planned", "…"),
            d(DecisionKind::FleetScaled, "floors scaled to fit max_fleet_size: peak 20 → 15", "…"),
        ];
        let plan = CapacityPlan {
            format: prescale_core::PLAN_FORMAT.into(),
            plan_id: "p".into(),
            created_at: t0,
            groups: vec![
                // Worded like a clamp, but a note: nothing to say.
                group(
                    "calm",
                    vec![d(DecisionKind::Floors, "4 scheduled floors", "…"), PlanDecision::note("clamped", "…")],
                ),
                group("busy", busy.clone()),
                // An event's floors moved, the fleet's scaling not asked for: nothing to say.
                group("moved", busy[1..3].to_vec()),
                GroupPlan {
                    forecast: None,
                    ..group("none", vec![d(DecisionKind::NoFloors, "no scheduled floors", "no forecast to trust")])
                },
            ],
        };
        let said = needs_a_person(&plan, &[], false).unwrap();
        let lines: Vec<&str> = said.lines().skip(1).map(str::trim).collect();
        assert_eq!(
            lines,
            [
                "busy: clamped 3 steps to MaxSize 20",
                "busy: event sale: floors up to 20: its floors cut to fit [guardrails] max_fleet_size",
                "none: no floors: no forecast to trust",
            ],
            "{said}"
        );
    }
}
