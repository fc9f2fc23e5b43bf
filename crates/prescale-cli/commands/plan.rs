//! `plan` and `event`: forecasts (shaped by events) into capacity plans, and what-if trials.

use super::*;

/// The part of a forecast from `now` on, or why it cannot be used.
pub(crate) fn usable(forecast: Forecast, now: DateTime<Utc>) -> Result<Forecast, String> {
    if let Some(why) = unusable(&forecast, now) {
        return Err(why);
    }
    from_now(forecast, now)
}

/// `forecast` without its steps before `now` (one [`unusable`] passed).
pub(crate) fn from_now(forecast: Forecast, now: DateTime<Utc>) -> Result<Forecast, String> {
    let skip = ((now - forecast.start).num_seconds().max(0) / forecast.step_secs.max(1)) as usize;
    if skip == 0 {
        return Ok(forecast);
    }
    let cut = |v: &Vec<f64>| v[skip..].to_vec();
    let intervals = forecast
        .intervals
        .iter()
        .map(|iv| prescale_core::Interval { level: iv.level, lower: cut(&iv.lower), upper: cut(&iv.upper) })
        .collect();
    let mut cutted =
        Forecast::new(forecast.model.clone(), forecast.ts(skip), forecast.step_secs, cut(&forecast.point), intervals)
            .map_err(|e| e.to_string())?;
    cutted.keep_fit_of(&forecast);
    Ok(cutted)
}

/// Why a stored forecast cannot be planned from at `now`: it ended before now, or was fitted on
/// data from after it. `None` when it can ([`usable`] then drops its steps before now).
pub(crate) fn unusable(forecast: &Forecast, now: DateTime<Utc>) -> Option<String> {
    let end = forecast.ts(forecast.len());
    if end <= now {
        return Some(format!(
            "the latest forecast ended at {end}, before now: it is stale (it starts where its history ended: \
             ingest newer data, then run `prescale forecast fit`; replaying past data, pass --now with a time \
             inside it to every command)"
        ));
    }
    (forecast.start > now + Duration::seconds(forecast.step_secs.max(1))).then(|| {
        format!(
            "the stored forecast starts at {}, after now ({now}): it was fitted on data from after now (run \
             `prescale forecast fit` at this --now, or without --now for today's; a look at another time takes its \
             own --store)",
            forecast.start
        )
    })
}

/// Whether a forecast may set floors: enough measured history and a backtest on its own history
/// that is not worse than `[trust]` allows. The reason when not. (Stale load is not judged here:
/// its group is left out of the plan before its forecast is read, see [`plan_groups`].)
pub(crate) fn trusted(
    forecast: &Forecast,
    history: Result<&Series, &str>,
    t: &crate::config::TrustConfig,
) -> Result<(), String> {
    let h = history.map_err(|why| format!("its load series cannot be read: {why}"))?;
    let observed: Vec<DateTime<Utc>> = h.iter().filter(|(_, v)| v.is_finite()).map(|(ts, _)| ts).collect();
    let (Some(first), Some(last)) = (observed.first(), observed.last()) else {
        return Err("the load series holds no measured value".into());
    };
    let hours = (*last - *first).num_minutes() as f64 / 60.0;
    if hours < t.min_history_hours {
        return Err(format!(
            "the load series holds {hours:.1} h of history, less than [trust] min_history_hours = {}",
            t.min_history_hours
        ));
    }
    let weighted = forecast.weighted_mase();
    // Scores with no backtest behind them (no origin fitted in the history): the error is unknown,
    // and floors from it would be a guess held all night.
    if !forecast.scores.is_empty() && weighted.is_none() {
        return Err(format!(
            "its models could not be backtested on the {hours:.1} h of history (no origin fits in it), so its error \
             is unknown; floors are planned once a backtest can check them (about two days of history)"
        ));
    }
    if let Some(m) = weighted.filter(|m| *m > t.max_backtest_mase) {
        return Err(format!(
            "its backtest MASE on the series' own history (its candidates' weighted, as `forecast show` prints it) is \
             {m:.2}, above [trust] max_backtest_mase = {}",
            t.max_backtest_mase
        ));
    }
    Ok(())
}

/// Why the stored forecast `fc`, fitted at `issued`, is not the one to plan from at now: it ended
/// or starts after now ([`unusable`]), was fitted after now, or is older than `[trust]
/// max_forecast_age_hours` (`forecast fit` stopped). `plan` leaves such a group out with its
/// floors in place; `event add`/`list` and `forecast show` say the same of it.
pub(crate) fn stale_forecast(fc: &Forecast, issued: DateTime<Utc>, ctx: &Ctx) -> Option<String> {
    if let Some(why) = unusable(fc, ctx.now) {
        return Some(why);
    }
    let hours = (ctx.now - issued).num_minutes() as f64 / 60.0;
    let most = ctx.config.trust.max_forecast_age_hours;
    if issued > ctx.now + Duration::minutes(1) {
        return Some(format!(
            "its forecast was fitted at {}, after now ({}): run `prescale forecast fit` at this --now, or without \
             --now for today's (a look at another time takes its own --store)",
            issued.format("%Y-%m-%d %H:%M UTC"),
            ctx.now.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    (hours > most).then(|| {
        format!(
            "its forecast was fitted at {} ({hours:.1} h before now), more than [trust] max_forecast_age_hours = \
             {most}: is `prescale forecast fit` failing?",
            issued.format("%Y-%m-%d %H:%M UTC")
        )
    })
}

/// Why a group's load cannot be planned from because too much of it is below zero over the
/// forecast's training window (`[forecast] train_days` before now): more than one value in twenty
/// ([`prescale_forecast::mostly_negative`]), the most [`prescale_forecast::rare_negatives`] reads
/// as glitches. Such a load is no load (a sign flipped, a counter's difference): its forecast
/// would be below zero too, and a plan from it would take the group's floors down to MinSize.
/// `None` where the load metric's own lower bound (`min`) is below zero: it may be negative, as
/// configured.
fn below_zero(h: &Series, bounds: &Bounds, train_days: i64, now: DateTime<Utc>) -> Option<String> {
    let recent = h.window(now - Duration::days(train_days), now + Duration::seconds(1));
    prescale_forecast::mostly_negative(&recent, bounds).map(|(negative, finite)| {
        format!(
            "{negative} of the {finite} values of its load over the last {train_days} days are below zero, more than \
             one in twenty: a load is not (a sign flipped, a counter's difference?), and a plan from it would take \
             its floors down"
        )
    })
}

/// Why the load series' newest measured value is too old to plan from (`[trust]
/// max_data_age_mins`), if it is.
fn stale(h: &Series, t: &crate::config::TrustConfig, now: DateTime<Utc>) -> Option<String> {
    let last = h.iter().filter(|(_, v)| v.is_finite()).map(|(ts, _)| ts).last()?;
    let age = (now - last).num_minutes();
    (age > t.max_data_age_mins).then(|| {
        format!(
            "the newest measured load is from {} ({:.1} h before now, {}), more than [trust] max_data_age_mins = \
             {}: is ingest failing, or this machine's clock ahead?",
            last.format("%Y-%m-%d %H:%M UTC"),
            age as f64 / 60.0,
            now.format("%Y-%m-%d %H:%M UTC"),
            t.max_data_age_mins
        )
    })
}

/// The plan of the selected groups, and the groups left out of it ([`Held`]): those whose stored
/// load or forecast is there but cannot be read (a damaged file), or whose load stopped coming
/// (older than `[trust] max_data_age_mins`). A plan for them would
/// have no floors and take down the ones in place, at the hour they may be needed; left out,
/// `apply` does not touch them and the floors an earlier plan wrote stay.
pub fn make_plan(ctx: &Ctx, f: &GroupFilter) -> Result<(CapacityPlan, Vec<Held>, Vec<prescale_store::Pause>)> {
    let (plans, held, _, pauses) = plan_groups(ctx, f, None)?;
    let mut groups: Vec<GroupPlan> = plans.into_iter().map(|p| p.plan).collect();
    fit_fleet(ctx, &mut groups)?;
    Ok((plan_document(ctx, groups)?, held, super::paused_among(pauses, f)))
}

/// `[guardrails] fleet_breach = "scale"`: the floors of a run whose peaks, with the configured
/// groups outside it as they stand, pass `max_fleet_size`, taken down to fit
/// ([`prescale_plan::guardrails::fit_fleet`]), said on stderr. Without it, or where the
/// `MinSize`s alone pass the limit, the plan is left as planned and `apply` refuses it.
fn fit_fleet(ctx: &Ctx, groups: &mut [GroupPlan]) -> Result<()> {
    let Some(limit) = ctx.config.guardrails.scaling_limit() else { return Ok(()) };
    use prescale_plan::guardrails::fleet_peak;
    let planned: Vec<u32> = groups.iter().map(fleet_peak).collect();
    match prescale_plan::guardrails::fit_fleet(groups, outside_the_run(ctx, groups)?, limit) {
        Ok(Some(factor)) => {
            // Each scaled group's peak as planned and as scaled, the largest first: who took the
            // fleet over.
            let mut peaks: Vec<(&str, u32, u32)> = groups
                .iter()
                .zip(&planned)
                .map(|(g, &was)| (g.group.as_str(), was, fleet_peak(g)))
                .filter(|(_, was, now)| was != now)
                .collect();
            peaks.sort_by_key(|(_, was, _)| std::cmp::Reverse(*was));
            warn!(
                "max_fleet_size: the run's floors peak above {limit} instances; with fleet_breach = \"scale\" every \
                 planned group's floors above its MinSize are scaled by about ×{factor:.2}: peaks {} (each group's \
                 decisions say how)",
                peaks.iter().map(|(g, was, now)| format!("{g} {was} → {now}")).collect::<Vec<_>>().join(", ")
            )
        }
        Ok(None) => {}
        Err(why) => warn!("max_fleet_size: {why}; the plan is left as planned"),
    }
    Ok(())
}

/// What the configured groups outside a run of `groups` count towards `max_fleet_size`, as they
/// stand ([`super::apply::others_in_place`]).
fn outside_the_run(ctx: &Ctx, groups: &[GroupPlan]) -> Result<u64> {
    let others = super::apply::others_in_place(ctx, groups)?;
    Ok(others.iter().map(|o| u64::from(prescale_plan::guardrails::fleet_peak(o))).sum())
}

/// A group left out of the plan ([`make_plan`]): `group (why)`, and why, which decides the remedy
/// [`held_error`] gives.
#[derive(Debug, Clone)]
pub struct Held {
    what: String,
    why: HeldFor,
}

impl Held {
    /// The group's line in `nightly --quiet`: a group not planned is one of its groups too.
    pub(crate) fn summary_line(&self) -> String {
        format!("{}; not planned, its floors in place left as they are", self.what)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeldFor {
    /// The load stopped coming (from CloudWatch).
    Stale,
    /// The load stopped coming, from a CSV or Parquet file (an export no longer written, or a
    /// recording replayed without --now).
    StaleFile,
    /// Its metric or forecast file cannot be read.
    Damaged,
    /// Its load is not in the store while floors of an earlier plan are on the group.
    Missing,
    /// The plan would need more instances than any group has: a unit mistake.
    Implausible,
    /// Its forecast ended, was fitted after now, or is older than `[trust] max_forecast_age_hours`.
    StaleForecast,
    /// Its last applied plan was made with events the store does not hold: the store was moved
    /// or lost ([`lost_events`]).
    EventsLost,
    /// Its load is below zero too often to be load ([`below_zero`]).
    BelowZero,
}

/// More instances than a plan for one group can mean: the load and `capacity_per_instance` are
/// in different units (per minute and per period, requests and thousands), or an event's peak is.
const IMPLAUSIBLE_INSTANCES: f64 = 100_000.0;

/// Fewer instances than this at a forecast's peak is said: a capacity per instance in other
/// units than the load's, the other way round from [`IMPLAUSIBLE_INSTANCES`].
const TINY_INSTANCES: f64 = 0.01;

/// What the run's own ingest did, for the hints of [`held_error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItsIngest {
    /// A `plan` or `apply` alone: it read the store as an earlier ingest left it.
    NotRun,
    /// A nightly run's ingest stored every series it read.
    Stored,
    /// A nightly run's ingest could not store some series.
    Failed,
}

/// The error that ends a run that left groups out of its plan ([`make_plan`]); `ingest` says what
/// this run's own ingest did, so that the hint for load missing from the store, or stale there,
/// points at what the run knows: a failure of its ingest, a source with nothing newer, or (where it
/// ran none) the last ingest.
pub(crate) fn held_error(held: &[Held], ingest: ItsIngest) -> String {
    let ingest_failed = ingest == ItsIngest::Failed;
    let count = |k: HeldFor| held.iter().filter(|h| h.why == k).count();
    let stale = count(HeldFor::Stale) + count(HeldFor::StaleFile);
    // Recorded files replayed without --now meet this too; a CloudWatch fleet does not.
    let recorded = if count(HeldFor::StaleFile) > 0 {
        "; for recorded files (such as those of `prescale demo generate`), give --now at their end (--now \
         2026-11-23T00:00:00Z for the demo's)"
    } else {
        ""
    };
    // The stale-load hint, with the recorded files' words where they apply.
    let stale_hint: String;
    let mut hints = Vec::new();
    if count(HeldFor::Damaged) > 0 {
        hints.push(
            "for a file that cannot be read (named above, with its own hint): one of another prescale version is \
             that version's (run it instead); a damaged one, moved aside, `prescale ingest` and `prescale forecast \
             fit` rebuild",
        );
    }
    if count(HeldFor::Missing) > 0 && ingest_failed {
        hints.push(
            "for load not in the store, mend what stopped this run's ingest (the warnings on stderr name the source \
             and why), then run again",
        );
    } else if count(HeldFor::Missing) > 0 {
        hints.push(
            "for load not in the store, run `prescale ingest` (`--group NAME` for one), or give --store the \
             store that holds it",
        );
    }
    if count(HeldFor::EventsLost) > 0 {
        hints.push(
            "for events the store does not hold, give the store the earlier runs used (--store, PRESCALE_STORE or \
             [store] dir), or add them again (`prescale event add`, the same group and name); one not wanted any \
             more, added and then removed (`prescale event remove` records it); until then the floors in place, the \
             events' with them, stay (until the events end or their plan's last action has passed)",
        );
    }
    if count(HeldFor::Implausible) > 0 {
        hints.push(
            "check capacity_per_instance: the load one instance serves per period of the load metric, in its units \
             (and the events' --peak, `prescale event list`)",
        );
    }
    if count(HeldFor::BelowZero) > 0 {
        hints.push(
            "for load below zero, mend its source (a sign flipped, a counter's difference, an exporter's bug), then \
             `prescale ingest` (the source's new values replace the stored ones); a metric that is rightly negative \
             is no load to size a group on: name another load_metric",
        );
    }
    if count(HeldFor::StaleForecast) > 0 {
        hints.push(
            "for a stale forecast, run `prescale forecast fit` (the nightly run does; `--group NAME` for one) without \
             --now, or at the plan's --now in a store of its own",
        );
    }
    if stale > 0 && ingest_failed {
        hints.push(
            "for stale load, mend what stopped this run's ingest from storing it (the warnings on stderr say why: a \
             source that fails, or a stored series it cannot merge into, such as one stored at another period_secs), \
             then run again; the floors in place cover the hours their last plan did",
        );
    } else if stale > 0 && ingest == ItsIngest::NotRun {
        stale_hint = format!(
            "for stale load, run `prescale ingest` (or the nightly run) and read what it says: it fetches what the \
             store lacks and warns of a source with nothing newer (an export no longer written, a metric no longer \
             published) or one it cannot read or store; if the last nightly run was stopped or failed, its own \
             output says why; a machine clock that is ahead (`date`) makes load look stale too; the floors in place \
             cover the hours their last plan did (`prescale apply` shows them){recorded}"
        );
        hints.push(&stale_hint);
    } else if stale > 0 {
        stale_hint = format!(
            "for stale load, find why its source stopped: ingest read it without an error, so the source itself has \
             no newer data (a CSV or Parquet export that is no longer written, a CloudWatch metric no longer \
             published: `prescale ingest` warns of it with the source and its newest sample), or this machine's clock is \
             ahead (`date`); then run again; the floors in place cover the hours their last plan did (`prescale \
             apply` shows them){recorded}"
        );
        hints.push(&stale_hint);
    }
    // One line a group: said once, here (the run's last word), not also as it goes.
    format!(
        "{} group{} not planned, {} floors in place left as they are:\n  {}\nhint: {}",
        held.len(),
        if held.len() == 1 { "" } else { "s" },
        if held.len() == 1 { "its" } else { "their" },
        held.iter().map(|h| h.what.as_str()).collect::<Vec<_>>().join("\n  "),
        hints.join("; ")
    )
}

/// A group's events lost with its store ([`lost_events`]): the plan applied last to it, when it
/// was made, and the events (labels) the store does not hold.
struct LostEvents {
    plan_id: String,
    made: DateTime<Utc>,
    gone: Vec<String>,
}

/// Per group, the newest plan `--out` applied to it (of the copies written in the last two weeks:
/// older ones act no more) and the events it was made with that the store holds neither as events
/// nor as removed ([`prescale_store::EventStore::removed`]) and that are not over: a store moved
/// or lost (a `--store` or `PRESCALE_STORE` left out of a cron line, a folder wiped, an events
/// file replaced) starts without them, and a plan from it would take their floors down without a
/// word. Only groups with such events are in the map; a record of removals that cannot be read
/// is said and taken as empty.
fn lost_events(ctx: &Ctx, stored: &[Event]) -> std::collections::HashMap<String, LostEvents> {
    let mut lost = std::collections::HashMap::new();
    let es = EventStore::new(&ctx.store_dir);
    // Read only where an applied plan has events.
    let removed = std::cell::OnceCell::new();
    let removed = || {
        removed.get_or_init(|| {
            es.removed().unwrap_or_else(|e| {
                warn!(
                    "the record of removed events cannot be read ({}): the events it records are taken as lost with a \
             store, not as removed\nhint: mend it by hand (JSON, `prescale.events-removed/v1`) or move it aside; \
             either way a group whose last applied plan has such an event not over is left out, its floors in \
             place, until the event ends or is added and removed again",
                    e.to_string().lines().next().unwrap_or_default()
                );
                Vec::new()
            })
        })
    };
    let mut seen = std::collections::HashSet::new();
    let recent = std::time::SystemTime::now() - super::apply::APPLIED_RECENT;
    let configured = ctx.config.groups.len();
    for plan in super::apply::applied_newest_first(ctx, Some(recent)) {
        if seen.len() >= configured && ctx.config.groups.iter().all(|g| seen.contains(&g.name)) {
            break;
        }
        for g in &plan.groups {
            if !seen.insert(g.group.clone()) {
                continue;
            }
            let until = g.scheduled_actions.last().map_or(plan.created_at, |a| a.start_time);
            // By id, or by name (an event renamed by hand keeps its id; one re-added under its
            // name gets the id of that name).
            let held = |id: &str, name: &str| {
                stored.iter().any(|e| e.group() == g.group && (e.id() == id || e.same_name(name)))
                    || removed().iter().any(|r| r.group == g.group && (r.id == id || r.name == name))
            };
            let gone: Vec<String> = g
                .events
                .iter()
                .filter(|e| until > ctx.now && e.end > ctx.now && !held(&e.id, &e.name))
                .map(|e| format!("{:?} ({})", e.name, e.id))
                .collect();
            if !gone.is_empty() {
                lost.insert(g.group.clone(), LostEvents { plan_id: plan.plan_id.clone(), made: plan.created_at, gone });
            }
        }
    }
    lost
}

/// Why `group` is held for events lost with its store ([`lost_events`]).
fn lost_for(lost: &std::collections::HashMap<String, LostEvents>, group: &str, ctx: &Ctx) -> Option<String> {
    let LostEvents { plan_id, made, gone } = lost.get(group)?;
    Some(format!(
        "plan {} applied last to it (made {}) was made with event{} {} that the store at {} holds neither as events \
         nor as removed: the store the earlier runs used was moved or lost, or its events file replaced, and a plan \
         without {} would take {} floors down",
        plan_id,
        made.format("%Y-%m-%d %H:%M UTC"),
        if gone.len() == 1 { "" } else { "s" },
        gone.join(", "),
        ctx.store_dir.display(),
        if gone.len() == 1 { "it" } else { "them" },
        if gone.len() == 1 { "its" } else { "their" },
    ))
}

/// Once the service did not answer (`Some`), whether that failure passes by itself: the other
/// groups are not asked.
fn note_unreachable(e: &prescale_core::SinkError, unreachable: &mut Option<bool>) {
    if matches!(e, prescale_core::SinkError::Unreachable { .. }) {
        *unreachable = Some(e.is_transient());
    }
}

/// Why a group was not asked, after the service did not answer for an earlier one.
fn not_asked(transient: bool) -> &'static str {
    if transient {
        "the service did not answer an earlier call"
    } else {
        "the service cannot be called as configured: see the earlier call's error"
    }
}

/// What of an earlier plan is on `group`, for one whose load is missing: its scheduled actions
/// but those starting within `events` (spans where an event that needs no load, a peak, sets
/// floors of its own), or why the group cannot be read to tell (a silent service is asked once:
/// `unreachable`). `None` when nothing else of prescale's is scheduled on it.
fn floors_in_place(
    sink: &mut dyn prescale_core::ActionSink,
    group: &str,
    events: &[(DateTime<Utc>, DateTime<Utc>)],
    unreachable: &mut Option<bool>,
) -> Option<String> {
    if let Some(transient) = *unreachable {
        return Some(format!("the group cannot be read to see whether floors are on it ({})", not_asked(transient)));
    }
    let of_events =
        |a: &prescale_core::ScheduledAction| events.iter().any(|(from, to)| (*from..=*to).contains(&a.start_time));
    match sink.read_state(group) {
        Ok(state) => {
            match state.scheduled_actions.iter().filter(|a| prescale_plan::is_owned(&a.name) && !of_events(a)).count() {
                0 => None,
                1 => Some("1 scheduled action of an earlier plan is on it".into()),
                n => Some(format!("{n} scheduled actions of an earlier plan are on it")),
            }
        }
        Err(e) => {
            note_unreachable(&e, unreachable);
            Some(format!(
                "the group cannot be read to see whether floors are on it ({})",
                e.to_string().lines().next().unwrap_or_default()
            ))
        }
    }
}

pub(crate) fn plan_document(ctx: &Ctx, groups: Vec<GroupPlan>) -> Result<CapacityPlan> {
    let content = serde_json::to_vec(&groups)?;
    Ok(CapacityPlan { format: PLAN_FORMAT.into(), plan_id: plan_id(ctx.now, &content), created_at: ctx.now, groups })
}

/// What [`plan_groups`] returns: each group's plan with its events (and the plan without events
/// beside it), the groups left out, and with an event tried, each group's plan with its stored
/// events alone (what the tried event is compared with).
/// The groups planned, those held, the plans without events beside them, and the pauses holding
/// at the run's instant (read once: the groups they name were left out).
pub(crate) type Planned = (Vec<EventPlan>, Vec<Held>, Vec<GroupPlan>, Vec<prescale_store::Pause>);

/// Plans every selected group with its stored events (and `trial`, which replaces a stored event
/// of the same group and name), keeping the plan without events beside each.
pub(crate) fn plan_groups(ctx: &Ctx, f: &GroupFilter, trial: Option<&Event>) -> Result<Planned> {
    let table = ForecastTable::new(&ctx.store_dir);
    let store = MetricStore::for_reading(&ctx.store_dir);
    let mut events = EventStore::new(&ctx.store_dir).load()?;
    // An event outside the limits of a new one (edited into the file by hand, or stored before
    // them) is read, listed and removable, but not planned with.
    events.retain(|e| {
        let Some(why) = e.beyond_limits() else { return true };
        // Said while it matters: a past one changes no plan either way.
        if e.end() > ctx.now && (f.groups.is_empty() || f.groups.iter().any(|g| g == e.group())) {
            warn!(
                "event {} of {} not planned: {why}\nhint: `prescale event remove --group {} --name {}` takes it out; \
                 add it again within the limits",
                e.label(),
                e.group(),
                prescale_plan::shell_word(e.group()),
                prescale_plan::shell_word(e.id())
            );
        }
        false
    });
    // The events as stored, for the plan a tried event is compared with.
    let stored_events = if trial.is_some() { events.clone() } else { Vec::new() };
    if let Some(t) = trial {
        events.retain(|e| !(e.group() == t.group() && (e.id() == t.id() || e.same_name(t.name()))));
        events.push(t.clone());
        // As the store keeps them, so the what-if plans what `plan` will once it is added.
        events.sort_by(|a, b| (a.start(), a.name()).cmp(&(b.start(), b.name())));
    }
    if f.groups.is_empty() {
        for e in events.iter().filter(|e| !ctx.config.groups.iter().any(|g| g.name == e.group())) {
            warn!("event {} names group {}, which is not in {}: not planned", e.label(), e.group(), ctx.config.origin);
        }
    }
    let mut groups = Vec::new();
    let mut held = Vec::new();
    let mut stored = Vec::new();
    let mut sink = Sink::open(ctx)?;
    // Once the service did not answer, the other groups' launches are not asked for; `Some`
    // says whether that failure passes by itself.
    let mut unreachable: Option<bool> = None;
    // The group whose step alarms' metric could not be read: the others are not asked.
    let mut metric_failed: Option<String> = None;
    // The events of --out's applied plans that this store does not hold: read once.
    let lost = lost_events(ctx, &EventStore::new(&ctx.store_dir).load()?);
    // Groups an operator paused (`prescale pause`): left as they are, said, not a failure.
    let pauses = super::active_pauses(ctx)?;
    for g in selected(ctx, f)? {
        if let Some(p) = pauses.iter().find(|p| p.group == g.name) {
            warn!("{}", super::paused_line(p));
            continue;
        }
        let id = Config::load_id(g);
        // Its last applied plan's events are not in this store: a plan without them would take
        // their floors down. Left out, they stay (to that plan's last action).
        if let Some(why) = lost_for(&lost, &g.name, ctx) {
            held.push(Held { what: format!("{}: {why}", g.name), why: HeldFor::EventsLost });
            continue;
        }
        // Why the series cannot be read, on one line: not ingested, or a damaged file.
        let (history, mut damaged) = match store.read(&id) {
            // As known at now: a replay at an earlier --now judges the load it had then (a store
            // that reaches past it would hide a feed that had stopped by then).
            Ok(series) => (Ok(series.window(series.start(), ctx.now + Duration::seconds(1))), None),
            // No load at all. A group never ingested is planned on its reactive policy alone (and
            // its events' own floors); one that holds floors of an earlier plan (a store moved or
            // wiped, a --store that names another, a metric renamed) is left out, or its plan
            // without floors would take them down: so is one that cannot be read to tell. Floors
            // around an event with a peak of its own (the only kind planned without load; its
            // ramp starts at most six hours before its lead time: an hour more is allowed) are
            // that event's, and do not hold the group: the events file is no sign the load was
            // not lost.
            Err(prescale_store::StoreError::NotFound { .. }) => {
                let lead = ctx.config.plan_settings(g).map_or(Duration::minutes(10), |s| s.lead());
                let spans: Vec<_> = events
                    .iter()
                    .filter(|e| e.group() == g.name && e.end() > ctx.now)
                    .filter(|e| matches!(e.effect(), prescale_core::EventEffect::Peak { .. }))
                    .map(|e| (e.start() - lead - Duration::hours(7), e.end() + Duration::hours(1)))
                    .collect();
                if let Some(on_it) = floors_in_place(sink.sink(), &g.name, &spans, &mut unreachable) {
                    held.push(Held {
                        what: format!(
                            "{}: its load {id} is not in the store {}, and {on_it}",
                            g.name,
                            ctx.store_dir.display()
                        ),
                        why: HeldFor::Missing,
                    });
                    continue;
                }
                (Err("it is not in the store (run `prescale ingest`)".to_string()), None)
            }
            Err(e) => {
                let why = explain(&anyhow::Error::from(e)).replace('\n', " ");
                (Err(why.clone()), Some(format!("its load {id}: {why}")))
            }
        };
        // Load that stopped coming (ingest failing): a plan from it would take the floors in place
        // down; left out, they stay, and the run says why. Its forecast is not read.
        if damaged.is_none()
            && let Ok(h) = &history
            && let Some(why) = stale(h, &ctx.config.trust, ctx.now)
        {
            let why_held = match ctx.config.source_of(g) {
                crate::config::SourceKind::Cloudwatch => HeldFor::Stale,
                _ => HeldFor::StaleFile,
            };
            held.push(Held { what: format!("{}: {why}", g.name), why: why_held });
            continue;
        }
        // Load mostly below zero (a broken exporter): left out, its floors stay, and the run
        // fails saying so, where a plan would take them down on a forecast below zero.
        if damaged.is_none()
            && let Ok(h) = &history
            && let Some(why) =
                below_zero(h, &ctx.config.bounds(g, &g.load_metric), ctx.config.forecast.train_days, ctx.now)
        {
            held.push(Held { what: format!("{}: {why}", g.name), why: HeldFor::BelowZero });
            continue;
        }
        let (forecast, why) = match table.read(&id) {
            // A forecast that ended, was fitted after now, or is older than a nightly run's
            // would be: `forecast fit` stopped (or a run at another --now replaced it). A plan
            // from it, or from none, would take the floors in place down: left out, they stay.
            Ok((fc, issued)) => {
                if let Some(why) = stale_forecast(&fc, issued, ctx) {
                    held.push(Held { what: format!("{}: {why}", g.name), why: HeldFor::StaleForecast });
                    continue;
                }
                match usable(fc, ctx.now).and_then(|fc| {
                    trusted(&fc, history.as_ref().map_err(String::as_str), &ctx.config.trust).map(|()| fc)
                }) {
                    Ok(fc) => (Some(fc), None),
                    Err(why) => (None, Some(why)),
                }
            }
            Err(e @ prescale_store::StoreError::NotFound { .. }) => {
                (None, Some(format!("no forecast for {id}: {}", e.to_string().lines().next().unwrap_or_default())))
            }
            // Unreadable (a crash, a disk fault, another version): the cause, and the remedy.
            Err(e) => {
                let why = explain(&anyhow::Error::from(e)).replace('\n', " ");
                damaged.get_or_insert_with(|| format!("its forecast for {id}: {why}"));
                (None, Some(why))
            }
        };
        // Before anything is asked of the service for it: a group left out needs nothing more.
        if let Some(why) = damaged {
            held.push(Held { what: format!("{}: {why}", g.name), why: HeldFor::Damaged });
            continue;
        }
        if let Some(why) = ctx.config.targets_disagree(g) {
            warn!("{}: {why}", g.name);
        }
        let mut settings = ctx.config.plan_settings(g)?;
        // The history the forecast learnt from, for the note on a daylight-saving change in it:
        // `train_days`, or what the store holds where that is less (a group ingested days ago).
        if let (Ok(h), Some(fc)) = (&history, &forecast) {
            settings.history = settings.history.min(fc.start - h.start()).max(Duration::zero());
        }
        // A forecast fitted before the environment's quantile was what it is now (an older
        // version's, or one fitted before the configuration changed) has no bound at it: the
        // floors read it between the levels it has, said until a fit gives it one.
        if let Some(fc) = &forecast
            && (settings.quantile - 0.5).abs() > 1e-9
            && !fc.intervals.iter().any(|iv| (iv.level.quantiles().1 - settings.quantile).abs() < 1e-9)
        {
            let levels: Vec<String> = fc.intervals.iter().map(|iv| iv.level.label()).collect();
            warn!(
                "{}: its stored forecast has no bound at the P{} its floors are sized for (its levels: {}): read \
                 between them until `prescale forecast fit` (or the nightly run) fits it again",
                g.name,
                (settings.quantile * 100.0).round(),
                levels.join(", ")
            );
        }
        let launches = if let Some(transient) = unreachable {
            Err(format!("not asked: {}", not_asked(transient)))
        } else {
            sink.sink().recent_launches(&g.name).map_err(|e| {
                note_unreachable(&e, &mut unreachable);
                e.to_string()
            })
        };
        settings.reactive.measured = Some(match launches {
            Ok(launches) => prescale_plan::measured_warmup(&launches, g.reactive.warmup_secs),
            Err(e) => {
                warn!("{}: cannot read its launches to measure the boot time: {e}", g.name);
                prescale_plan::Warmup {
                    secs: g.reactive.warmup_secs,
                    why: "configured warmup_secs: the group's scaling activities could not be read".into(),
                }
            }
        });
        // How often the step alarms' metric is published: 60-s alarms on a metric of 5-minute
        // datapoints (EC2's basic monitoring) would never scale out, so the plan writes them at
        // the metric's period, or at 300 s where it cannot tell, and says so. Only near the wall
        // clock: CloudWatch keeps 1-minute datapoints 15 days, older ones come every 5 minutes
        // whatever the monitoring. A failed read is not Auto Scaling's: its reads go on; the
        // metric is not asked again for the run's other groups.
        if let Some(alarm) = prescale_plan::step_alarm_to_check(&g.name, &settings.reactive) {
            use prescale_core::Published;
            let found = if (Utc::now() - ctx.now).num_days() >= 14 {
                info!(
                    "{}: --now is two weeks or more before the clock, when CloudWatch no longer holds 1-minute \
                     datapoints: its step alarms are written every {} s as configured",
                    g.name, alarm.period_secs
                );
                None
            } else if let Some(why) = &metric_failed {
                Some(prescale_plan::MetricPeriod::unknown(&alarm, &format!("not asked after {why}")))
            } else if let Some(transient) = unreachable {
                // Not asked (it would wait as long), and not known: as a failed read.
                Some(prescale_plan::MetricPeriod::unknown(&alarm, &format!("not asked: {}", not_asked(transient))))
            } else {
                match sink.sink().published_every(&g.name, &alarm, ctx.now) {
                    Ok(Published::NotRead) => None,
                    Ok(Published::Every(p)) => Some(prescale_plan::MetricPeriod::measured(&alarm, p)),
                    Ok(Published::Starting { minutes }) => Some(prescale_plan::MetricPeriod::starting(&alarm, minutes)),
                    Ok(Published::TooFew { points }) => Some(prescale_plan::MetricPeriod::unknown(
                        &alarm,
                        &format!(
                            "{points} datapoints in the last {} hours: no instances running?",
                            prescale_core::PUBLISHED_WITHIN_HOURS
                        ),
                    )),
                    Err(e) => {
                        let why = e.to_string();
                        metric_failed = Some(format!("{}'s failed read", g.name));
                        Some(prescale_plan::MetricPeriod::unknown(&alarm, &why))
                    }
                }
            };
            settings.reactive.published = found;
            if let (Some(p), Some(found)) =
                (prescale_plan::published_period(&settings.reactive), &settings.reactive.published)
            {
                // The same cause on many groups (no datapoints yet, basic monitoring): in full once.
                let what = format!("step alarms every {p} s, not {} s: {}", alarm.period_secs, found.why)
                    .replace(g.name.as_str(), "GROUP");
                match crate::output::said_before(&what, &g.name) {
                    None => warn!(
                        "{}: its step alarms are written every {p} s, not every {} s: {}",
                        g.name, alarm.period_secs, found.why
                    ),
                    Some(first) => warn!(
                        "{}: its step alarms are written every {p} s, not every {} s, as for {first} above",
                        g.name, alarm.period_secs
                    ),
                }
            }
        }
        // With max_step_up, what the group runs now, so that the first floors ramp up from it
        // (`apply` judges the first floor again against what the group runs then).
        if ctx.config.guardrails.max_step_up.is_some() && unreachable.is_none() {
            match sink.sink().running(&g.name) {
                Ok(running) => settings.running = Some((running, ctx.write_now())),
                Err(e) => {
                    note_unreachable(&e, &mut unreachable);
                    info!("{}: not read, so its first floors are not ramped from what it runs: {e}", g.name);
                }
            }
        }
        // Without a forecast to trust, the events that give their own load (a peak, a past
        // window) are still planned, on a forecast of nothing but them; a multiplier has nothing
        // to scale and is said to be left out (`loud`: and warned of).
        let horizon_end = ctx.now + Duration::hours(ctx.config.forecast.horizon_hours);
        let in_horizon = |e: &Event| e.end() > ctx.now && e.start() < horizon_end;
        // A forecast that did no better than the flat median sets no floors with `[trust] unskilled =
        // "none"`: for the events it is as good as none.
        let unskilled = forecast.as_ref().and_then(prescale_plan::skill).is_some_and(|r| r >= 1.0)
            && settings.unskilled == prescale_plan::Unskilled::None;
        let plan_events = |mut mine: Vec<Event>, loud: bool| {
            // Multipliers left out of a plan of the events alone: named in it, not dropped unsaid.
            let mut unscaled: Vec<Event> = Vec::new();
            let events_only = match &forecast {
                Some(_) if !unskilled => None,
                _ if mine.iter().any(|e| in_horizon(e) && !matches!(e.effect(), EventEffect::Multiplier { .. })) => {
                    for e in mine
                        .iter()
                        .filter(|e| loud && in_horizon(e) && matches!(e.effect(), EventEffect::Multiplier { .. }))
                    {
                        warn!(
                            "{}: event {} not planned: a multiplier scales the forecast, and there is none to trust \
                             ({})",
                            g.name,
                            e.label(),
                            why.as_deref().unwrap_or(if unskilled {
                                "it did no better than the flat median, and [trust] unskilled = \"none\""
                            } else {
                                "no forecast"
                            })
                        );
                    }
                    let (kept, scaling): (Vec<Event>, Vec<Event>) =
                        mine.into_iter().partition(|e| !matches!(e.effect(), EventEffect::Multiplier { .. }));
                    mine = kept;
                    unscaled = scaling.into_iter().filter(in_horizon).collect();
                    let step = prescale_core::coarsened_step(
                        ctx.config.ingest.period_secs,
                        ctx.config.forecast.min_step_mins * 60,
                    );
                    let start = ctx.now.duration_trunc(Duration::seconds(step)).unwrap_or(ctx.now);
                    let n = ((horizon_end - start).num_seconds() / step.max(1)).max(1) as usize;
                    prescale_core::Forecast::new("events-only", start, step, vec![0.0; n], Vec::new()).ok()
                }
                _ => None,
            };
            let mut ep = plan_with_events(
                &g.name,
                &g.environment,
                events_only.as_ref().or(forecast.as_ref()),
                &mine,
                history.as_ref().ok(),
                &settings,
                ctx.now,
            );
            for e in unscaled {
                let d = prescale_core::PlanDecision::new(
                    DecisionKind::Event,
                    format!("event {} not planned", e.label()),
                    "a multiplier scales the forecast, and there is none to trust: the events that give their load \
                     (--peak, --like) are planned alone",
                );
                ep.plan.decisions.push(d.clone());
                ep.decisions.push(d);
                ep.reports
                    .push(prescale_plan::EventReport { event: e, outcome: prescale_plan::EventOutcome::NoForecast });
            }
            if events_only.is_some() {
                ep.plan.decisions.insert(
                    0,
                    prescale_core::PlanDecision::note(
                        "floors for its events only",
                        "the events that give their load (--peak, --like) are planned without a forecast; the \
                         reactive policy scales the rest",
                    ),
                );
            }
            (ep, events_only.is_some())
        };
        let of_group = |list: &[Event]| list.iter().filter(|e| e.group() == g.name).cloned().collect::<Vec<_>>();
        let (mut ep, events_only) = plan_events(of_group(&events), true);
        // What `apply` checks the stored events against, to tell that they changed since.
        let until = ep.plan.scheduled_actions.last().map_or(ctx.now, |a| a.start_time);
        ep.plan.events_digest = Some(prescale_plan::events_digest(&events, &g.name, ctx.now, until));
        ep.plan.events = prescale_plan::planned_with(&events, &g.name, ctx.now, until)
            .map(|e| prescale_core::PlannedEvent { id: e.id().into(), name: e.name().into(), end: e.end() })
            .collect();
        // With an event tried on this group, the plan its stored events make, to compare with
        // (quietly: its warnings are the same run's); on the other groups that is this plan.
        let mut stored_plan = match trial {
            Some(t) if t.group() == g.name => plan_events(of_group(&stored_events), false).0.plan,
            _ => ep.plan.clone(),
        };
        // A plan that would need more instances than any group holds is a unit mistake (a
        // capacity per minute against a load per five, an event's peak in other units): the
        // floors in place stay, and the run says which.
        let need = |p: &GroupPlan| {
            p.forecast
                .as_ref()
                .map_or(0.0, |f| settings.instances(f.peak_quantile.max(f.peak_point), settings.target_utilization))
        };
        let (with, without) = (need(&ep.plan), need(&ep.baseline));
        if with.max(without) > IMPLAUSIBLE_INSTANCES {
            let why = if without > IMPLAUSIBLE_INSTANCES {
                format!(
                    "its forecast peaks at {:.0} and would need {without:.0} instances at capacity_per_instance = {}: a \
                     unit mistake?",
                    ep.baseline.forecast.as_ref().map_or(0.0, |f| f.peak_quantile),
                    settings.capacity_per_instance
                )
            } else {
                // A --peak in instances, or multipliers that compound over the same hours.
                let peaks = ep.reports.iter().any(|r| {
                    matches!(r.event.effect(), EventEffect::Peak { .. })
                        && matches!(r.outcome, prescale_plan::EventOutcome::Applied { .. })
                });
                format!(
                    "its events raise the forecast to {:.0}, which would need {with:.0} instances at \
                     capacity_per_instance = {}: {}",
                    ep.plan.forecast.as_ref().map_or(0.0, |f| f.peak_quantile),
                    settings.capacity_per_instance,
                    if peaks {
                        "an event's --peak in other units?"
                    } else {
                        "check its events' --multiplier and --like windows (multipliers over the same hours \
                         compound); `prescale event list` shows them"
                    }
                )
            };
            held.push(Held { what: format!("{}: {why}", g.name), why: HeldFor::Implausible });
            continue;
        }
        // The other way round: a forecast whose peak needs a hundredth of an instance is as
        // likely a capacity in other units (per hour against a load per five minutes, requests
        // against kilo-requests); the plan stands (MinSize, and the reactive policy), said.
        let peak = ep.baseline.forecast.as_ref().map_or(0.0, |f| f.peak_quantile.max(f.peak_point));
        let share = settings.instances_exact(peak, settings.target_utilization);
        // Judged against what the group runs where that was read (with max_step_up): an idle
        // group at its MinSize is no mistake; without it, only a thousandth of an instance is.
        let runs = settings.running.map(|(r, _)| r);
        let tiny = match runs {
            Some(r) => share < TINY_INSTANCES && r > settings.bounds.min().max(1),
            None => share < TINY_INSTANCES / 10.0,
        };
        if share > 0.0 && tiny {
            warn!(
                "{}: its forecast peaks at {} and needs {share:.2e} instances at capacity_per_instance = {}{}: is \
                 capacity_per_instance in the load metric's units, per period as stored (a unit mistake)? The \
                 floors stay at the least the group may hold and the reactive policy scales it",
                g.name,
                crate::output::num(peak),
                settings.capacity_per_instance,
                runs.map_or(String::new(), |r| format!(", while the group runs {r}"))
            );
        }
        // The stored events' plan a tried event is compared with, held the same way: the nightly
        // run would leave such a plan out, so the comparison is with the plan without events.
        if need(&stored_plan) > IMPLAUSIBLE_INSTANCES {
            stored_plan = ep.baseline.clone();
        }
        // Floors cut at the group's maximum leave load the plan saw unserved: someone should know.
        for d in ep.plan.decisions.iter().filter(|d| d.kind == DecisionKind::Clamped) {
            warn!("{}: {}: {}", g.name, d.what, d.why);
        }
        // So do floors an event's window of history lowers (a window of the wrong day or zone).
        for (r, d) in ep.reports.iter().zip(&ep.decisions) {
            if matches!(r.event.effect(), EventEffect::Like { .. }) && d.why.contains(prescale_plan::LOWERS) {
                warn!("{}: {}: {}", g.name, d.what, d.why);
            }
        }
        // So do floors an event's --peak lowers (a peak given in instances rather than load).
        for r in &ep.reports {
            if let (EventEffect::Peak { peak }, prescale_plan::EventOutcome::Applied { factor: Some(f), .. }) =
                (r.event.effect(), &r.outcome)
                && *f < 1.0
            {
                warn!(
                    "{}: event {} lowers the floors during it: the forecast already peaks at {} there, above its --peak \
                     {} (load in the metric's units, not instances)",
                    g.name,
                    r.event.label(),
                    crate::output::num(peak / f),
                    crate::output::num(*peak)
                );
            }
        }
        for r in &ep.reports {
            if !matches!(r.outcome, prescale_plan::EventOutcome::Applied { .. }) {
                let d = r.decision(settings.time_zone);
                info!("{}: {}: {}", g.name, d.what, d.why);
            }
        }
        for gp in [&mut ep.plan, &mut ep.baseline, &mut stored_plan] {
            if let Some(s) = gp.forecast.as_mut() {
                s.metric = id.metric.clone();
            }
            if let Some(why) = &why {
                gp.decisions.insert(
                    0,
                    prescale_core::PlanDecision::new(DecisionKind::ForecastNotUsed, "forecast not used", why.clone()),
                );
            }
        }
        if let Some(why) = why {
            let what = if events_only { "its events' floors and the reactive policy" } else { "the reactive policy" };
            warn!("{}: {why}; planning {what} only", g.name);
        }
        groups.push(ep);
        if trial.is_some() {
            stored.push(stored_plan);
        }
    }
    Ok((groups, held, stored, pauses))
}

// ---------------------------------------------------------------------------------------------
// events

/// An RFC 3339 time from a flag, in UTC; with the group's time zone, a time without an offset
/// (`2026-11-27T06:00`, `2026-11-27 06:00:00`) is read as that zone's wall clock.
pub(crate) fn parse_time_in(flag: &str, s: &str, tz: Option<(&str, chrono_tz::Tz)>) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Some(t) = super::offset_without_seconds(s) {
        return Ok(t);
    }
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s.trim(), f).ok());
    match (local, tz) {
        (Some(n), Some((group, zone))) => {
            use chrono::TimeZone as _;
            match zone.from_local_datetime(&n) {
                chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
                chrono::LocalResult::Ambiguous(a, b) => bail!(
                    "{flag} {s:?} happens twice in {zone} (group {group:?}'s time_zone), when the clocks go back: at \
                     {} and at {}\nhint: give the offset, e.g. {}",
                    a.with_timezone(&Utc).format("%H:%M UTC"),
                    b.with_timezone(&Utc).format("%H:%M UTC"),
                    a.to_rfc3339()
                ),
                chrono::LocalResult::None => {
                    // The first local minute after it that the clocks show: where the skip ends (an
                    // hour in most zones, 30 minutes in some).
                    let resumes = (1..=180)
                        .map(|m| n + Duration::minutes(m))
                        .find(|t| !matches!(zone.from_local_datetime(t), chrono::LocalResult::None));
                    let hint = resumes.map_or_else(
                        || "give a later time, or the offset".to_string(),
                        |r| {
                            format!(
                                "the clocks go on at {}: give that or a later time, or the offset",
                                r.format("%H:%M")
                            )
                        },
                    );
                    bail!(
                        "{flag} {s:?} does not exist in {zone} (group {group:?}'s time_zone): the clocks skip it\nhint: {hint}"
                    )
                }
            }
        }
        (Some(_), None) => bail!(
            "{flag} {s:?} has no offset and the group has no time_zone to read it in\nhint: write it as \
             2026-11-27T06:00:00Z (UTC) or 2026-11-27T07:00:00+01:00, or set time_zone on the group (e.g. \
             \"Europe/Berlin\") to give local times"
        ),
        (None, _) => bail!(
            "{flag} {s:?} is not an RFC 3339 time; write it as 2026-11-27T06:00:00Z (UTC) or \
             2026-11-27T07:00:00+01:00 (with an offset)"
        ),
    }
}

/// Whether the flags ask for an effect.
fn has_effect(a: &EventEffectArgs) -> bool {
    a.multiplier.is_some() || a.peak.is_some() || a.like.is_some()
}

/// The effect the flags ask for, if any (clap lets at most one through); `--like` times without
/// an offset are read in `tz`, the group's zone.
pub(crate) fn effect(a: &EventEffectArgs, tz: Option<(&str, chrono_tz::Tz)>) -> Result<Option<EventEffect>> {
    Ok(match (a.multiplier, a.peak, &a.like) {
        (Some(factor), None, None) => Some(EventEffect::Multiplier { factor }),
        (None, Some(peak), None) => Some(EventEffect::Peak { peak }),
        (None, None, Some(w)) => {
            let (from, to) = w.split_once("..").with_context(|| {
                format!(
                    "--like {w:?}: give a past window as START..END, e.g. 2025-11-28T00:00:00Z..2025-11-29T00:00:00Z"
                )
            })?;
            Some(EventEffect::Like {
                from: parse_time_in("--like start", from, tz)?,
                to: parse_time_in("--like end", to, tz)?,
            })
        }
        (None, None, None) => None,
        _ => bail!("give only one of --multiplier, --peak and --like"),
    })
}

/// Builds and checks an event against the configuration, the store and now; with the group's
/// time zone, in which times without an offset were read. `past`: an event that has ended may be
/// recorded (`event add`: its hours are kept out of what the fits learn) as long as the training
/// window still holds it; otherwise (a what-if) one that has ended is refused.
pub(crate) fn build_event(
    ctx: &Ctx,
    group: &str,
    name: &str,
    start: &str,
    end: &str,
    fx: &EventEffectArgs,
    past: bool,
) -> Result<(Event, Option<chrono_tz::Tz>)> {
    let g = selected(ctx, &GroupFilter { groups: vec![group.to_string()] })?[0];
    let tz = match g.time_zone.as_deref() {
        Some(z) => Some((g.name.as_str(), crate::config::parse_time_zone(z)?)),
        None => None,
    };
    let fx = effect(fx, tz)?.context(
        "say what the event does: --multiplier FACTOR, --peak LOAD or --like START..END (a past window of the group)",
    )?;
    let (start, end) = (parse_time_in("--start", start, tz)?, parse_time_in("--end", end, tz)?);
    let event = Event::new(group, name, start, end, fx)?;
    let window_start = ctx.now - Duration::days(ctx.config.forecast.train_days);
    if past && end <= ctx.now && end > window_start {
        // Recorded: not planned, its hours kept out of what the fits learn.
    } else if past && end <= ctx.now {
        bail!(
            "event {:?} ended at {}, before the {} days of history the fits read ([forecast] train_days, from {}): \
             recording it would change nothing\nhint: check the dates ({})",
            name,
            end.format("%Y-%m-%d %H:%M UTC"),
            ctx.config.forecast.train_days,
            window_start.format("%Y-%m-%d %H:%M UTC"),
            match tz {
                Some((_, z)) => format!("a time without an offset is read in the group's time_zone, {z}"),
                None => "RFC 3339; Z is UTC".to_string(),
            }
        );
    } else if end <= ctx.now {
        bail!(
            "event {:?} ends at {}, which is not after now ({}): there is nothing left to plan\nhint: check the \
             dates ({})",
            name,
            end.format("%Y-%m-%d %H:%M UTC"),
            ctx.now.format("%Y-%m-%d %H:%M UTC"),
            match tz {
                Some((_, z)) => format!("a time without an offset is read in the group's time_zone, {z}"),
                None => "RFC 3339; Z is UTC".to_string(),
            }
        );
    }
    if let EventEffect::Like { from, to } = *event.effect()
        && end > ctx.now
    {
        let id = Config::load_id(g);
        if to > ctx.now {
            bail!(
                "--like window ends at {}, after now ({}): it must be a past window of {id}'s stored history",
                to.format("%Y-%m-%d %H:%M UTC"),
                ctx.now.format("%Y-%m-%d %H:%M UTC")
            );
        }
        let history = MetricStore::for_reading(&ctx.store_dir).read(&id).with_context(|| {
            format!(
                "--like needs the stored history of {id}\nhint: run `prescale ingest --group {}` first",
                prescale_plan::shell_word(group)
            )
        })?;
        if from < history.start() || to > history.end() {
            bail!(
                "--like window {} .. {} is not inside the stored history of {id}, which covers {} .. {}\nhint: \
                 pick a window inside it, or ingest more history",
                from.format("%Y-%m-%d %H:%M"),
                to.format("%Y-%m-%d %H:%M UTC"),
                history.start().format("%Y-%m-%d %H:%M"),
                history.end().format("%Y-%m-%d %H:%M UTC")
            );
        }
        if !history.window(from, to).values().iter().any(|v| v.is_finite()) {
            bail!("--like window holds no stored value of {id} (a gap in the history); pick another window");
        }
    }
    Ok((event, tz.map(|(_, z)| z)))
}

/// An event's status ([`event_status`], with what `event list` adds) as one word for scripts:
/// `planned`, `partly_planned`, `beyond_horizon`, `not_planned`, `past`, `past_unread`,
/// `outside_limits` or `group_not_configured`.
fn event_state(status: &str) -> &'static str {
    [
        ("planned", "planned"),
        ("partly", "partly_planned"),
        ("beyond the horizon", "beyond_horizon"),
        ("past, before", "past_unread"),
        ("past", "past"),
        ("outside the limits", "outside_limits"),
        ("group not configured", "group_not_configured"),
    ]
    .into_iter()
    .find(|(prefix, _)| status.starts_with(prefix))
    .map_or("not_planned", |(_, state)| state)
}

/// What an event command says of a group, read once however many events it has: its stored
/// forecast, whether `plan` would set floors from it ([`trusted`]), and how much of the history
/// the fits read its events cover.
pub(crate) struct GroupFacts {
    pub(crate) stored: Stored,
    /// The group's stored load (`None`: none, or it cannot be read).
    load: Option<Series>,
    trusted: bool,
    coverage: Option<Coverage>,
}

/// The slots of the history a fit reads (`forecast::fit_history`) under the group's events
/// before now, in days: the fits keep them out of what they learn only up to a quarter
/// (`forecast::without_events`).
#[derive(Clone, Copy)]
struct Coverage {
    covered_days: f64,
    days: f64,
    over_a_quarter: bool,
}

/// [`GroupFacts`] of `group`, whose stored forecast is `stored` ([`stored_forecast`]) and whose
/// events are among `events`: one read of its load.
pub(crate) fn group_facts(
    ctx: &Ctx,
    group: &str,
    stored: Stored,
    series: Result<Series, String>,
    events: &[Event],
) -> GroupFacts {
    // As `plan` judges it: the load as known at now.
    let trusted = stored.as_ref().is_some_and(|(f, _)| {
        let history = series.as_ref().map(|h| h.window(h.start(), ctx.now + Duration::seconds(1)));
        trusted(f, history.as_ref().map_err(|e| e.as_str()), &ctx.config.trust).is_ok()
    });
    let coverage = series.as_ref().ok().map(|series| {
        let history = super::forecast::fit_history(series, &ctx.config, ctx.now);
        let mine: Vec<&Event> = events.iter().filter(|e| e.group() == group).collect();
        let covered = super::forecast::slots_under_events(&history, &mine, ctx.now).len();
        let days = |slots: usize| slots as f64 * history.step_secs() as f64 / 86_400.0;
        Coverage {
            covered_days: days(covered),
            days: days(history.len()),
            over_a_quarter: super::forecast::over_a_quarter(covered, history.len()),
        }
    });
    GroupFacts { stored, load: series.ok(), trusted, coverage }
}

/// `group`'s stored load, or why there is none.
fn stored_load(ctx: &Ctx, group: &str) -> Result<Series, String> {
    let g = ctx.config.groups.iter().find(|g| g.name == group).ok_or_else(|| format!("no group {group:?}"))?;
    MetricStore::for_reading(&ctx.store_dir).read(&Config::load_id(g)).map_err(|e| e.to_string())
}

/// A group's stored forecast and when it was fitted, read once for what an event command says of
/// it (`None`: no group of that name, no forecast, or one that cannot be read).
pub(crate) type Stored = Option<(Forecast, DateTime<Utc>)>;

/// [`Stored`] for `group`.
pub(crate) fn stored_forecast(ctx: &Ctx, group: &str) -> Stored {
    let g = ctx.config.groups.iter().find(|g| g.name == group)?;
    ForecastTable::new(&ctx.store_dir).read(&Config::load_id(g)).ok()
}

/// Where an event stands for the next plan; `stored`: its group's ([`stored_forecast`]).
pub(crate) fn event_status(ctx: &Ctx, e: &Event, facts: &GroupFacts) -> &'static str {
    let stored = &facts.stored;
    if !ctx.config.groups.iter().any(|g| g.name == e.group()) {
        return "group not configured";
    }
    // The plan's horizon is its forecast's: fitted at the nightly run, it ends there plus
    // horizon_hours, before now plus horizon_hours in the afternoon.
    let stale = stored.as_ref().is_some_and(|(f, issued)| stale_forecast(f, *issued, ctx).is_some());
    let forecast = stored.as_ref().map(|(f, _)| f).filter(|_| !stale);
    let horizon_end =
        forecast.as_ref().map_or(ctx.now + Duration::hours(ctx.config.forecast.horizon_hours), |f| f.ts(f.len()));
    if e.beyond_limits().is_some() {
        "outside the limits of an event: not planned (`prescale plan` says why)"
    } else if e.end() <= ctx.now - Duration::days(ctx.config.forecast.train_days) {
        "past, before the training window: nothing reads it now (`prescale event remove` takes it out)"
    } else if e.end() <= ctx.now && facts.coverage.is_some_and(|c| c.over_a_quarter) {
        "past: not planned; with the group's other events it covers over a quarter of the history the fits read, \
         which they leave as it is"
    } else if e.end() <= ctx.now {
        // Not planned, but the fits read its hours as the event's (`without_events`).
        "past: not planned; it keeps its hours out of what the forecasts learn (remove it once it is older than \
         [forecast] train_days)"
    } else if stale {
        // `plan` leaves the group out, its floors in place, until a fresh forecast.
        "not planned while the group's forecast is stale (`prescale plan` says why; the nightly run ingests and fits \
         it again)"
    } else if e.start() >= horizon_end {
        "beyond the horizon: not yet planned"
    } else if matches!(e.effect(), EventEffect::Multiplier { .. }) && forecast.is_none() {
        "not planned: a multiplier scales the forecast, and the group has none in force (`prescale forecast fit`)"
    } else if matches!(e.effect(), EventEffect::Multiplier { .. }) && !facts.trusted {
        // The plan sets no floors from a forecast it does not trust (too little history, a
        // backtest worse than [trust] allows), so there is nothing for the multiplier to scale.
        "not planned: a multiplier scales the forecast, and the group's is not trusted to set floors (`prescale \
         plan` says why)"
    } else if e.end() > horizon_end {
        "partly planned: its hours within the horizon, a later run plans the rest"
    } else {
        "planned"
    }
}

pub(crate) fn event_cmd(ctx: &Ctx, cmd: EventCmd) -> Result<()> {
    let store = EventStore::new(&ctx.store_dir);
    let mut out = crate::output::stdout();
    match cmd {
        EventCmd::Add(EventAddArgs { group, name, start, end, effect: fx }) => {
            let (event, zone) = build_event(ctx, &group, &name, &start, &end, &fx, true)?;
            // Before it is stored: a load no group could serve is refused here, not at 3 a.m. (An
            // event that has ended is not planned: only its hours matter.)
            let stored = stored_forecast(ctx, &group);
            let load = stored_load(ctx, &group);
            let notes = if event.end() > ctx.now {
                capacity_notes(ctx, &group, &event, &stored, load.as_ref().ok(), &store.load()?)?.notes
            } else {
                Vec::new()
            };
            store.add(event.clone())?;
            // The group's events with it, read once for what is said of them below.
            let events = store.load()?;
            let facts = group_facts(ctx, &group, stored, load, &events);
            let ahead = (event.start() - ctx.now).num_days();
            if ahead > 180 {
                warn!(
                    "event {}: it starts {ahead} days from now ({}): a typo in the year? (`prescale event remove --group \
                     {group} --name …` takes it out)",
                    event.label(),
                    event.start().format("%Y-%m-%d")
                );
            }
            // An end a year or a month off (2027 for 2026) makes a sale of a day last all that
            // time, and every nightly plan shapes its floors for it.
            let days = (event.end() - event.start()).num_days();
            if days > 31 {
                warn!(
                    "event {}: it lasts {days} days, to {}: a typo in the end's year or month? Every nightly plan \
                     shapes the group's forecast for all of it (`prescale event remove --group {word} --name …` \
                     takes it out)",
                    event.label(),
                    event.end().format("%Y-%m-%d"),
                    word = prescale_plan::shell_word(&group)
                );
            }
            let over_quarter = event.start() < ctx.now && facts.coverage.is_some_and(|c| c.over_a_quarter);
            if let Some(Coverage { covered_days: covered, days: window, .. }) = facts.coverage.filter(|_| over_quarter)
            {
                warn!(
                    "event {}: with the group's other events it covers {covered:.1} of the {window:.1} days of history \
                     the fits read (at most [forecast] train_days), over a quarter: the fits leave that history as it \
                     is, events' hours included (too little of the series' own would be left)",
                    event.label(),
                );
            }
            let status = event_status(ctx, &event, &facts);
            writeln!(
                out,
                "added event {} to {group}: {} from {} to {} ({})",
                event.label(),
                event.effect().describe(),
                event.start().format("%Y-%m-%d %H:%M"),
                event.end().format("%Y-%m-%d %H:%M UTC"),
                status
            )?;
            let next = match status {
                "planned" => "`prescale plan` (and the nightly run) now plans it",
                s if s.starts_with("past") && over_quarter => {
                    "the fits leave the history as it is while the group's events cover over a quarter of it (above)"
                }
                s if s.starts_with("past") => {
                    "the next `prescale forecast fit` (and nightly run) learns its hours of the load as the same hours \
                     a week before (else a day before), so a weekly model does not replay it"
                }
                s if s.starts_with("partly") => {
                    "`prescale plan` (and the nightly run) now plans its hours within the horizon, the nightly runs after \
                     the rest"
                }
                s if s.contains("not trusted") => {
                    "a plan scales the group's forecast once it is trusted (more history, or a backtest within [trust] \
                     max_backtest_mase); or give the load itself with --peak"
                }
                s if s.starts_with("not planned while") => {
                    "the nightly run plans it once the group's forecast is fresh again (`prescale forecast fit`)"
                }
                s if s.starts_with("not planned") => {
                    "the nightly run plans it once the group has a forecast (it ingests and fits one), or give the load \
                     itself with --peak"
                }
                _ => "the nightly run plans it once it starts within the forecast horizon",
            };
            if let Some(z) = zone {
                writeln!(
                    out,
                    "in {z}, the group's time_zone: from {} to {}",
                    event.start().with_timezone(&z).format("%Y-%m-%d %H:%M %Z"),
                    event.end().with_timezone(&z).format("%Y-%m-%d %H:%M %Z")
                )?;
            }
            writeln!(out, "stored in {}; {next}", store.path().display())?;
            let overlapping: Vec<String> = events
                .iter()
                .filter(|o| {
                    o.group() == group && o.id() != event.id() && o.start() < event.end() && event.start() < o.end()
                })
                .map(Event::label)
                .collect();
            // The forecast's step: the ingest period, coarsened to [forecast] min_step_mins.
            let step =
                prescale_core::coarsened_step(ctx.config.ingest.period_secs, ctx.config.forecast.min_step_mins * 60);
            if (event.end() - event.start()).num_seconds() < step {
                writeln!(
                    out,
                    "note: it lasts less than the forecast's {step} s step: the forecast is shaped by whole steps, so \
                     it applies to the whole of every step it touches"
                )?;
            }
            if !overlapping.is_empty() {
                writeln!(
                    out,
                    "note: it overlaps {}; where they overlap their effects compound: a --like's window first, then \
                     multipliers scale it, then a --peak sets its top",
                    overlapping.join(", ")
                )?;
            }
            for note in notes {
                writeln!(out, "note: {note}")?;
            }
        }
        EventCmd::List { group, json } => {
            if let Some(g) = &group {
                selected(ctx, &GroupFilter { groups: vec![g.clone()] })?;
            }
            let events: Vec<Event> =
                store.load()?.into_iter().filter(|e| group.as_deref().is_none_or(|g| e.group() == g)).collect();
            let zone = |e: &Event| ctx.config.groups.iter().find(|g| g.name == e.group())?.zone();
            // Each group's forecast and load read once, however many events it has.
            let mut facts: std::collections::HashMap<&str, GroupFacts> = std::collections::HashMap::new();
            for e in &events {
                facts.entry(e.group()).or_insert_with(|| {
                    group_facts(ctx, e.group(), stored_forecast(ctx, e.group()), stored_load(ctx, e.group()), &events)
                });
            }
            // A planned event the floors cannot cover says by how much, and one that lowers them
            // says so (as `event add` did).
            let status = |e: &Event| {
                let status = event_status(ctx, e, &facts[e.group()]);
                let notes =
                    (status == "planned" || status.starts_with("partly") || status.starts_with("beyond")).then(|| {
                        let f = &facts[e.group()];
                        capacity_notes(ctx, e.group(), e, &f.stored, f.load.as_ref(), &events)
                    });
                // A load no group could hold (`event add` refuses such an event now): every plan
                // leaves the group out, as the check says.
                if let Some(Err(e)) = &notes {
                    return format!("not planned: {}", e.to_string().lines().next().unwrap_or_default());
                }
                let notes = notes.and_then(Result::ok);
                let mut said = status.to_string();
                if let Some(c) = notes.as_ref()
                    && let Some(n) = c.short
                {
                    // Beyond the stored forecast, from the history: as estimated as the softer note.
                    let (about, estimate) = if c.estimated { ("about ", " (an estimate)") } else { ("", "") };
                    // Without a forecast of its hours, the load at full capacity (the least any
                    // plan needs) and at the target (what the floors will be sized near).
                    let basis = c
                        .short_at_target
                        .filter(|m| *m > n)
                        .map_or(String::new(), |m| format!(" at full capacity, {m} at the target"));
                    said.push_str(&format!(
                        "; {about}{n} instances short of what MaxSize lets the floors hold{basis}{estimate}"
                    ));
                } else if let Some(c) = notes.as_ref()
                    && let Some(n) = c.short_at_target
                {
                    said.push_str(&format!(
                        "; about {n} instances beyond MaxSize at the target{}",
                        if c.estimated { " (an estimate)" } else { "" }
                    ));
                }
                if notes.is_some_and(|c| c.lowers) {
                    said.push_str("; its --peak lowers the floors (the forecast peaks above it)");
                }
                said
            };
            let rows: Vec<(&Event, String, Option<chrono_tz::Tz>)> =
                events.iter().map(|e| (e, status(e), zone(e))).collect();
            if json {
                // For scripts: the stored event as the events file holds it, with its status.
                let doc: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(e, status, zone)| {
                        serde_json::json!({
                            "group": e.group(),
                            "id": e.id(),
                            "name": e.name(),
                            "start": e.start().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            "end": e.end().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            "effect": e.effect(),
                            "state": event_state(status),
                            "status": status,
                            "time_zone": zone.map(|z| z.name()),
                        })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                output::events(&mut out, &rows, group.as_deref(), ctx.now)?;
            }
        }
        EventCmd::Remove { group, name } => {
            // An event of a group no longer configured can still be removed; an unknown group
            // with no event at all is most likely a typo, and the error says which groups exist.
            let removed = store.remove(&group, &name);
            if matches!(&removed, Err(prescale_store::StoreError::NoEvent { known, .. }) if known.is_empty())
                && !ctx.config.groups.iter().any(|g| g.name == group)
            {
                selected(ctx, &GroupFilter { groups: vec![group.clone()] })?;
            }
            let gone = removed?;
            writeln!(out, "removed event {} from {group}", gone.label())?;
            // Floors an applied plan raised for it are on the group until a plan without it is.
            if gone.end() > ctx.now {
                writeln!(
                    out,
                    "floors an applied plan raised for it stay on the group until a plan without it is applied: \
                     `prescale nightly` does, or `prescale plan` and `prescale apply` now"
                )?;
            }
        }
    }
    Ok(())
}

/// What `event add` says of an event's capacity, and what `event list` says of it beside
/// "planned".
struct CapacityNotes {
    /// The notes, for people.
    notes: Vec<String>,
    /// The instances it needs beyond what the group's MaxSize lets the floors hold, where it does.
    short: Option<u32>,
    /// Without a forecast of its hours: the instances its load needs at the target beyond what
    /// MaxSize lets the floors hold (where `short`, the least at full capacity, is `None`).
    short_at_target: Option<u32>,
    /// Its --peak lies below what the forecast already holds in its window: it lowers the floors.
    lowers: bool,
    /// The load is estimated from the history (a multiplier beyond the stored forecast).
    estimated: bool,
}

/// What the event's load means for the group, as far as it is known when it is added (a
/// `--peak` as given; a multiplier times the stored forecast's highest point in its window; a
/// `--like` window's highest stored value): said at once, not first at the next plan. A peak no
/// group could serve (a unit mistake, which would leave the group out of every plan) is refused;
/// one that needs more than MaxSize lets the floors hold, or a `--peak` below what the forecast
/// already holds there (it lowers the floors), is noted. A multiplier beyond the stored forecast
/// is sized on the same hours of the history's latest week, said as an estimate (never refused
/// on it); with neither (no forecast, no such history): nothing said, `plan` says it. `events`: the stored events (the group's, at least).
fn capacity_notes(
    ctx: &Ctx,
    group: &str,
    e: &Event,
    stored: &Stored,
    load: Option<&Series>,
    events: &[Event],
) -> Result<CapacityNotes> {
    let g = selected(ctx, &GroupFilter { groups: vec![group.to_string()] })?[0];
    let id = Config::load_id(g);
    let load_history = || load;
    let highest = |v: &[f64]| {
        v.iter().copied().filter(|x| x.is_finite()).fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
    };
    // The stored forecast's highest point in the event's window.
    let forecast_top = || {
        // Every step the event touches, as the plan shapes them.
        stored.as_ref().and_then(|(f, _)| highest(&f.point[prescale_plan::steps_in(f, e.start(), e.end())]))
    };
    // The group's other stored events.
    let others: Vec<Event> = events
        .iter()
        .filter(|o| o.group() == group && o.id() != e.id() && o.beyond_limits().is_none())
        .cloned()
        .collect();
    // For a --peak, the forecast as the other events that `plan` applies before any peak shape it
    // (`--like` windows and multipliers: one over the same hours raises what the peak is set
    // against).
    let before: Vec<Event> =
        others.iter().filter(|o| !matches!(o.effect(), EventEffect::Peak { .. })).cloned().collect();
    let shaped_top = || {
        let (f, _) = stored.as_ref()?;
        if before.is_empty() {
            return forecast_top();
        }
        let (f, _) = prescale_plan::shape(f, &before, load_history(), ctx.now);
        highest(&f.point[prescale_plan::steps_in(&f, e.start(), e.end())])
    };
    let s = ctx.config.plan_settings(g)?;
    let mut notes = Vec::new();
    let mut lowers = false;
    // How the load was estimated where the forecast does not show it.
    let mut estimated: Option<String> = None;
    let load = match *e.effect() {
        EventEffect::Peak { peak } => {
            if let Some(top) = shaped_top().filter(|top| peak < *top) {
                lowers = true;
                notes.push(format!(
                    "the forecast{} already peaks at {} in its window, above the event's --peak {}: the event lowers \
                     the floors during it. --peak is the load at its top, in the units of {id} (not instances); to raise \
                     the floors give a higher one, or --multiplier",
                    if before.is_empty() { "" } else { ", with the group's other events," },
                    crate::output::num(top),
                    crate::output::num(peak)
                ));
            }
            Some(peak)
        }
        // Beyond the stored forecast, the same hours of the latest week the history holds, as a
        // weekly seasonal naive forecast would have them: an estimate, said as one.
        EventEffect::Multiplier { factor } => forecast_top().map(|top| top * factor).or_else(|| {
            let h = load_history()?;
            let week = Duration::weeks(1);
            let back = ((e.end() - h.end()).num_seconds().max(0) + week.num_seconds() - 1) / week.num_seconds();
            let back = week * i32::try_from(back.max(1)).ok()?;
            let (from, to) = (e.start() - back, e.end() - back);
            let top = highest(h.window(from.max(h.start()), to).values()).filter(|_| from >= h.start())?;
            estimated = Some(format!(
                "{factor} × {}, the highest load of the same hours {} before; the forecast does not reach the event yet",
                crate::output::num(top),
                if back == week { "a week".to_string() } else { format!("{} weeks", back.num_weeks()) },
            ));
            Some(top * factor)
        }),
        EventEffect::Like { from, to } => {
            load_history().and_then(|h| highest(h.window(from, to).values()))
        }
    };
    let Some(load) = load.filter(|l| *l > 0.0) else {
        return Ok(CapacityNotes { notes, short: None, short_at_target: None, lowers, estimated: false });
    };
    let at_target = s.instances(load, s.target_utilization);
    // An estimate (beyond the forecast) is no reason to refuse the event: the plan judges it
    // once the forecast reaches it.
    if at_target > IMPLAUSIBLE_INSTANCES && estimated.is_none() {
        let hint = match *e.effect() {
            EventEffect::Peak { .. } => format!(
                "give --peak in the units of {id} (the load the forecast shows, `prescale forecast show --group \
                 {group}`), not instances"
            ),
            EventEffect::Multiplier { factor } => format!(
                "--multiplier {factor} scales the forecast's load; check the factor (`prescale forecast show --group \
                 {group}` shows the load it scales)"
            ),
            EventEffect::Like { .. } => {
                "the --like window's stored load peaks that high: pick a window without the glitch, or give --peak"
                    .to_string()
            }
        };
        bail!(
            "event {}: its load at the top, about {}, would need {} instances at capacity_per_instance = {} and the \
             {:.0} % target{}: no group holds that many, so every plan would leave {group} out\nhint: {hint}",
            e.label(),
            crate::output::num(load),
            crate::output::num(at_target.ceil()),
            crate::output::num(s.capacity_per_instance),
            s.target_utilization * 100.0,
            with_headroom(s.headroom)
        );
    }
    let ceiling = s.ceiling();
    let remedy = s.max_breach.remedy();
    // With a forecast in force, the floors the plan would size for the event's window (its
    // quantile at the environment's utilization), as `plan` will say; without one, the load at
    // full capacity, the least any plan needs.
    let forecast = stored
        .clone()
        .filter(|(f, issued)| stale_forecast(f, *issued, ctx).is_none())
        .and_then(|(f, _)| usable(f, ctx.now).ok())
        // Beyond its end the forecast says nothing of the event: the load at full capacity below.
        .filter(|f| e.start() < f.ts(f.len()));
    if let Some(f) = forecast {
        let history = load_history();
        // With the group's stored events, as the plan shapes them (a --peak over the same hours
        // sets their top whatever this one multiplies).
        let mut all = others.clone();
        all.push(e.clone());
        let (shaped, reports) = prescale_plan::shape(&f, &all, history, ctx.now);
        let applied = reports
            .iter()
            .any(|r| r.event.id() == e.id() && matches!(r.outcome, prescale_plan::EventOutcome::Applied { .. }));
        let need = prescale_plan::required(&shaped, &s)[prescale_plan::steps_in(&shaped, e.start(), e.end())]
            .iter()
            .copied()
            .max();
        // Events over the same hours compound (multipliers multiply): one that is plausible alone
        // may take the group past what any plan holds, and every plan would then leave it out.
        if let Some(n) = need.filter(|n| f64::from(*n) > IMPLAUSIBLE_INSTANCES) {
            let over: Vec<String> =
                others.iter().filter(|o| o.start() < e.end() && o.end() > e.start()).map(Event::label).collect();
            let with = if over.is_empty() {
                String::new()
            } else {
                format!(" with the group's other events over its hours ({})", over.join(", "))
            };
            bail!(
                "event {}:{with} the forecast's P{:.0} in its window needs {} instances at capacity_per_instance = {} \
                 and the {:.0} % target{}: no group holds that many, so every plan would leave {group} out\nhint: \
                 events over the same hours compound (multipliers multiply, a --like window or --peak sets the load \
                 they scale); `prescale event list --group {word}` shows them, and `prescale event remove --group \
                 {word} --name …` takes out the one in error",
                e.label(),
                s.quantile * 100.0,
                crate::output::num(f64::from(n)),
                crate::output::num(s.capacity_per_instance),
                s.target_utilization * 100.0,
                with_headroom(s.headroom),
                word = prescale_plan::shell_word(group)
            );
        }
        let short = need.filter(|n| applied && *n > ceiling);
        if let Some(need) = short {
            notes.push(format!(
                "with it the forecast needs {need} instances at its P{:.0} in its window (as `prescale plan` sizes \
                 floors{}), more than the {ceiling} the group's MaxSize lets the floors hold: {remedy} (`prescale \
                 plan --what-if --group {word}` shows the floors)",
                s.quantile * 100.0,
                with_headroom(s.headroom),
                word = prescale_plan::shell_word(group)
            ));
        }
        return Ok(CapacityNotes {
            notes,
            short: short.map(|n| n - ceiling),
            short_at_target: None,
            lowers,
            estimated: false,
        });
    }
    let beyond =
        |n: f64| (n > f64::from(ceiling)).then(|| (n - f64::from(ceiling)).ceil().min(f64::from(u32::MAX)) as u32);
    let full = s.instances(load, 1.0);
    let (short, short_at_target) = (beyond(full), beyond(at_target));
    let basis = estimated.as_ref().map_or(String::new(), |how| format!(" ({how})"));
    if short.is_some() {
        notes.push(format!(
            "its peak load, about {}{basis}, needs {full:.0} instances even at full capacity{} ({at_target:.0} at the \
             {:.0} % target), more than the {ceiling} the group's MaxSize lets the floors hold: {remedy} (`prescale \
             plan --what-if --group {word}` shows the floors)",
            crate::output::num(load),
            with_headroom(s.headroom),
            s.target_utilization * 100.0,
            word = prescale_plan::shell_word(group)
        ));
    } else if short_at_target.is_some() {
        // Floors are sized once the forecast reaches the event; until then what is known is that
        // at MaxSize the group would run above its target at the top of the load.
        notes.push(format!(
            "its peak load, about {}{basis}, needs {} instances at the {:.0} % target{} ({full:.0} at full capacity), \
             more than the {ceiling} the group's MaxSize lets the floors hold: at MaxSize the group runs above its \
             target then, and the plan sizes the floors at its P{:.0} once the forecast reaches the event; {remedy}",
            crate::output::num(load),
            at_target.ceil(),
            s.target_utilization * 100.0,
            with_headroom(s.headroom),
            s.quantile * 100.0
        ));
    } else {
        // Within the group's bounds: what it will take, for a planner budgeting ahead of the
        // forecast (the floors come with the first nightly run whose forecast reaches it).
        notes.push(format!(
            "its peak load, about {}{basis}, needs {} instances at the {:.0} % target{} ({full:.0} at full capacity), \
             within what the group may hold; the plan sizes the floors at its P{:.0} once a forecast reaches the \
             event (`prescale plan --what-if` shows them then)",
            crate::output::num(load),
            at_target.ceil(),
            s.target_utilization * 100.0,
            with_headroom(s.headroom),
            s.quantile * 100.0
        ));
    }
    Ok(CapacityNotes { notes, short, short_at_target, lowers, estimated: estimated.is_some() })
}

/// ", with its 10 % headroom" where the environment adds one (instances are counted with it).
fn with_headroom(headroom: f64) -> String {
    if headroom > 0.0 { format!(", with its {:.0} % headroom", headroom * 100.0) } else { String::new() }
}

/// One group of `plan --what-if`: the plan with and without the events.
#[derive(Debug)]
pub struct WhatIf {
    pub group: String,
    pub events: Vec<String>,
    /// How many of `events` shaped the forecast (the others are past, beyond the horizon, or
    /// found nothing to shape).
    pub applied: usize,
    pub peak_without: u32,
    pub peak_with: u32,
    pub hours_without: f64,
    pub hours_with: f64,
    /// Price of one of the group's instance-hours (its own, else `[cost]`'s).
    pub price: Option<f64>,
    /// Instance-hours the plan with the events holds past the horizon, to the end of an event
    /// that runs past it, if no later run replans them.
    pub held_past: f64,
    pub decisions: Vec<prescale_core::PlanDecision>,
}

pub(crate) fn what_if(ctx: &Ctx, args: &PlanArgs) -> Result<()> {
    let trial = match (&args.start, &args.end) {
        (Some(start), Some(end)) => {
            let [group] = args.filter.groups.as_slice() else {
                bail!("--what-if with an event to try needs exactly one --group: the event's group");
            };
            Some(build_event(ctx, group, &args.name, start, end, &args.effect, false)?.0)
        }
        _ if has_effect(&args.effect) => bail!("an event to try needs --start and --end as well"),
        _ => None,
    };
    if let Some(t) = &trial
        && let Some(old) = EventStore::new(&ctx.store_dir)
            .load()?
            .into_iter()
            .find(|e| e.group() == t.group() && (e.id() == t.id() || e.same_name(t.name())))
    {
        say!(
            "note: the event tried replaces the stored {} ({} to {}) in this what-if; the store keeps it",
            old.label(),
            old.start().format("%Y-%m-%d %H:%M"),
            old.end().format("%Y-%m-%d %H:%M UTC")
        );
    }
    let (plans, held, stored, _) = plan_groups(ctx, &args.filter, trial.as_ref())?;
    // A trial the forecast does not reach yet changes no floor: its table reads +0, so what it
    // will take is said, as `event add` says it.
    if let Some(t) = &trial
        && plans.iter().flat_map(|p| &p.reports).any(|r| {
            r.event.id() == t.id()
                && matches!(
                    r.outcome,
                    prescale_plan::EventOutcome::BeyondHorizon | prescale_plan::EventOutcome::NoForecast
                )
        })
    {
        let events = EventStore::new(&ctx.store_dir).load()?;
        let load = stored_load(ctx, t.group()).ok();
        let notes = capacity_notes(ctx, t.group(), t, &stored_forecast(ctx, t.group()), load.as_ref(), &events)?.notes;
        say!(
            "note: event {} lies beyond the forecast, so the plan does not hold it yet (the table's +0):\n  {}",
            t.label(),
            notes.join("\n  ")
        );
    }
    if plans.is_empty() && !held.is_empty() {
        // No group to compare: an empty table would read as "no change".
        bail!("{}\n(nothing was tried: no group could be planned)", held_error(&held, ItsIngest::NotRun));
    }
    // With an event to try, "without" is the plan the stored events make (the nightly run's, as
    // the event would change it), not the plan without any event: what the event tried costs.
    let rows: Vec<WhatIf> = plans
        .iter()
        .map(|p| {
            let without = stored.iter().find(|s| s.group == p.plan.group).unwrap_or(&p.baseline);
            // Each plan's floors integrated once: over the horizon, and held past it.
            let hours = |g: &GroupPlan| prescale_plan::floor_hours(g).map_or((0.0, 0.0), |h| (h.planned, h.held_past));
            (p, without, hours(&p.plan), hours(without))
        })
        .map(|(p, without, with_h, without_h)| WhatIf {
            group: p.plan.group.clone(),
            events: p
                .reports
                .iter()
                .map(|r| {
                    let mut l = r.event.label();
                    if trial.as_ref().is_some_and(|t| t.id() == r.event.id() && t.group() == r.event.group()) {
                        l.push_str(" [trial]");
                    }
                    l
                })
                .collect(),
            applied: p
                .reports
                .iter()
                .filter(|r| matches!(r.outcome, prescale_plan::EventOutcome::Applied { .. }))
                .count(),
            peak_without: prescale_plan::peak_floor(without),
            peak_with: prescale_plan::peak_floor(&p.plan),
            hours_without: without_h.0,
            hours_with: with_h.0,
            price: ctx.config.price(&p.plan.group),
            // Beyond what the plan compared with holds there (the stored events' own, in a trial).
            held_past: with_h.1 - without_h.1,
            // The events' decisions, and the plan's own where MaxSize cut the floors (the group
            // cannot follow the forecast there, events or not).
            decisions: p
                .decisions
                .iter()
                .chain(
                    p.plan
                        .decisions
                        .iter()
                        .filter(|d| matches!(d.kind, DecisionKind::Clamped | DecisionKind::MaxRaised)),
                )
                .fold(Vec::new(), |mut v: Vec<prescale_core::PlanDecision>, d| {
                    if !v.iter().any(|x| x.what == d.what) {
                        v.push(d.clone());
                    }
                    v
                }),
        })
        .collect();
    let mut out = crate::output::stdout();
    if args.json {
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "group": r.group, "events": r.events, "events_applied": r.applied,
                    "peak_floor_without": r.peak_without, "peak_floor_with": r.peak_with,
                    "instance_hours_without": r.hours_without, "instance_hours_with": r.hours_with,
                    "extra_instance_hours": r.hours_with - r.hours_without,
                    "without": if trial.is_some() { "the stored events" } else { "no event" },
                    "instance_hour_price": r.price,
                    "extra_cost": r.price.map(|p| p * (r.hours_with - r.hours_without)),
                    "instance_hours_held_past_horizon": r.held_past,
                    "decisions": r.decisions.iter().map(|d| serde_json::json!({"what": d.what, "why": d.why})).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        // The horizon the floors were planned over: the forecasts' (fitted before now, they end
        // before now + horizon_hours).
        let horizon_end = plans
            .iter()
            .filter_map(|p| p.plan.forecast.as_ref().map(|f| f.to))
            .max()
            .unwrap_or(ctx.now + Duration::hours(ctx.config.forecast.horizon_hours));
        output::what_if(&mut out, &rows, &ctx.config.cost, horizon_end, trial.is_some())?;
    }
    // The limits `apply` holds the plan to, with the events tried: said here, before anyone
    // stores the event and finds the nightly run refused.
    let mut shaped: Vec<GroupPlan> = plans.iter().map(|p| p.plan.clone()).collect();
    // With --group, the fleet's other groups count as the nightly run would plan them (it plans
    // them all, and a max_fleet_size broken fails it whole), not as they stand; quietly, as
    // their own warnings are not this what-if's.
    if ctx.config.guardrails.max_fleet_size.is_some() && !args.filter.groups.is_empty() {
        let names = ctx.config.groups.iter().map(|g| g.name.clone()).filter(|n| !args.filter.groups.contains(n));
        let others = GroupFilter { groups: names.collect() };
        if !others.groups.is_empty() {
            let quiet = tracing::subscriber::NoSubscriber::default();
            if let Ok((more, ..)) = tracing::subscriber::with_default(quiet, || plan_groups(ctx, &others, None)) {
                shaped.extend(more.into_iter().map(|p| p.plan));
            }
        }
    }
    // With fleet_breach = "scale", whether the plan could take the floors down to fit.
    let scales = match ctx.config.guardrails.scaling_limit() {
        Some(limit) => {
            prescale_plan::guardrails::fit_fleet(&mut shaped.clone(), outside_the_run(ctx, &shaped)?, limit).is_ok()
        }
        None => false,
    };
    for b in breaches(ctx, &shaped)? {
        if scales && matches!(b, Breach::MaxFleetSize { .. }) {
            say!(
                "note: guardrail: {b}; with fleet_breach = \"scale\" the plan takes the floors down to fit it (the \
                 table's figures are before that)"
            );
        } else {
            say!("note: guardrail: {b}; `prescale apply` would refuse this plan without --allow-guardrail-breach");
        }
    }
    say!("what-if: nothing was written, no event was stored and no group was changed");
    if !held.is_empty() {
        // As `plan`: the groups left out are not in the table, and the run says so.
        bail!("{}", held_error(&held, ItsIngest::NotRun));
    }
    Ok(())
}

/// Writes an output file whole (a temporary file of this process, synced, renamed into place):
/// two runs on one `--out` or a power cut leave the old file or the new one.
pub(crate) fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(prescale_store::write_file_atomic(path, bytes)?)
}

pub(crate) fn write_plan(plan: &CapacityPlan, path: &Path) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(plan)?;
    bytes.push(b'\n');
    write_file_atomic(path, &bytes)
}

/// Whether a plan's content still makes its id ([`plan_id`]): a plan edited by hand since prescale
/// wrote it does not (nor one written by a prescale whose plans hold other fields).
pub(crate) fn content_makes_id(plan: &CapacityPlan) -> bool {
    serde_json::to_vec(&plan.groups).is_ok_and(|c| plan_id(plan.created_at, &c) == plan.plan_id)
}

pub(crate) fn read_plan(path: &Path) -> Result<CapacityPlan> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read plan {}: {e}\nhint: run `prescale plan` first, or pass --plan FILE",
            path.display()
        )
    })?;
    let plan: CapacityPlan =
        serde_json::from_str(&text).with_context(|| format!("{} is not a valid prescale plan", path.display()))?;
    if plan.format != PLAN_FORMAT {
        bail!(
            "{} has format {:?}; this prescale reads {PLAN_FORMAT:?}\nhint: apply it with the prescale version that \
             wrote it, or run `prescale plan` with this one (it plans from now)",
            path.display(),
            plan.format
        );
    }
    for g in &plan.groups {
        if g.scheduled_actions.len() > prescale_plan::MAX_ACTIONS_PER_GROUP {
            bail!(
                "plan for {} has {} scheduled actions; Auto Scaling allows {}",
                g.group,
                g.scheduled_actions.len(),
                prescale_plan::MAX_ACTIONS_PER_GROUP
            );
        }
    }
    Ok(plan)
}

pub(crate) fn plan_cmd(ctx: &Ctx, args: &PlanArgs) -> Result<()> {
    if has_effect(&args.effect) {
        bail!(
            "--multiplier, --peak and --like try an event with `prescale plan --what-if`; to store one, use \
             `prescale event add`"
        );
    }
    let path = args.output.clone().unwrap_or_else(|| ctx.out.join("plan.json"));
    super::writable_dir(
        path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")),
        "plan's",
        if args.output.is_some() { "--output FILE" } else { "--out DIR, or PRESCALE_OUT" },
    )?;
    let (plan, held, paused) = make_plan(ctx, &args.filter)?;
    if plan.groups.is_empty() && !held.is_empty() {
        bail!("{}\n(no plan written: {} is left as it was)", held_error(&held, ItsIngest::NotRun), path.display());
    }
    if plan.groups.is_empty() && !paused.is_empty() {
        writeln!(crate::output::stdout(), "{}", super::all_paused_line(&paused, &path))?;
        return Ok(());
    }
    write_plan(&plan, &path)?;
    for b in breaches(ctx, &plan.groups)? {
        warn!("guardrail: {b}; `prescale apply` will refuse this plan without --allow-guardrail-breach");
    }
    let mut out = crate::output::stdout();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &plan)?;
        writeln!(out)?;
    } else {
        output::plan(&mut out, &plan)?;
        writeln!(out, "plan written to {}", path.display())?;
    }
    if !held.is_empty() {
        bail!("{}", held_error(&held, ItsIngest::NotRun));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use prescale_core::ModelScore;

    #[test]
    fn the_stale_load_hint_names_recorded_files_only_where_a_file_is_stale() {
        let held = |why| vec![Held { what: "web: its load is stale".into(), why }];
        for ingest in [ItsIngest::NotRun, ItsIngest::Stored] {
            let cloudwatch = held_error(&held(HeldFor::Stale), ingest);
            assert!(cloudwatch.contains("for stale load") && !cloudwatch.contains("recorded files"), "{cloudwatch}");
            let files = held_error(&held(HeldFor::StaleFile), ingest);
            assert!(files.contains("for stale load") && files.contains("for recorded files"), "{files}");
        }
    }

    #[test]
    fn a_forecast_no_backtest_could_check_sets_no_floors() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        // 26 hours of history, ending now: enough for [trust] min_history_hours, too little for an origin.
        let history = Series::new(now - chrono::Duration::hours(26), 300, vec![10.0; 26 * 12]).unwrap();
        let score = |mase: f64| ModelScore { model: "m".into(), mase, origins: 0, weight: 1.0, reference: false };
        let mut fc = Forecast::new("auto", now, 300, vec![10.0; 12], vec![]).unwrap();
        let t = crate::config::TrustConfig::default();
        fc.scores = vec![score(f64::NAN)];
        let why = trusted(&fc, Ok(&history), &t).unwrap_err();
        assert!(why.contains("could not be backtested on the 25.9 h of history"), "{why}");
        fc.scores = vec![score(1.0)];
        assert_eq!(trusted(&fc, Ok(&history), &t), Ok(()));
        // A forecast that carries no scores at all (a single model's, stored by an older version) is judged as before.
        fc.scores = vec![];
        assert_eq!(trusted(&fc, Ok(&history), &t), Ok(()));
    }
}
