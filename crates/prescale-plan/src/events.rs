//! Events: pre-event scale-up. A stored [`Event`] shapes the group's forecast during its window
//! before the planner sees it, so the usual schedule (floors a lead time ahead of demand, hold
//! time, limits) ramps capacity up before the event and brings it down after.

use chrono::{DateTime, Duration, Utc};
use prescale_core::{
    DecisionKind, Event, EventEffect, Forecast, GroupPlan, Interval, PlanDecision, ScheduledAction, Series,
};

use crate::schedule::{PlanSettings, floor_action, fnv1a, plan_group};

/// A digest of the events a plan of `group` made at `now` is shaped by: the group's stored events
/// not over by then, starting before `until` (the plan's last action: one after it changes
/// nothing planned), and within the limits of a new one (those the planner reads). Kept on the
/// plan ([`GroupPlan::events_digest`]), so that `apply` can tell, per group, that an event was
/// added, removed or replaced since the plan was written.
pub fn events_digest<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    group: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> String {
    // Its name, window and effect, in the store's order: what plans it, not how it is stored.
    let text: String = planned_with(events, group, now, until)
        .map(|e| {
            let effect = serde_json::to_string(e.effect()).unwrap_or_default();
            format!("{}|{}|{}|{effect}\n", e.name(), e.start().timestamp(), e.end().timestamp())
        })
        .collect();
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// The events of `group` a plan made at `now` and acting until `until` is made with: those not
/// over by `now`, starting before `until`, within the limits of an event ([`events_digest`]
/// digests them, [`prescale_core::GroupPlan::events`] names them).
pub fn planned_with<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    group: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> impl Iterator<Item = &'a Event> {
    let group = group.to_string();
    events
        .into_iter()
        .filter(move |e| e.group() == group && e.end() > now && e.start() < until && e.beyond_limits().is_none())
}

/// What an event did to a forecast.
#[derive(Debug, Clone, PartialEq)]
pub enum EventOutcome {
    /// It shaped `steps` steps of the forecast.
    Applied {
        /// Steps of the forecast inside the event's window.
        steps: usize,
        /// True when part of the window lies beyond the forecast's end.
        partial: bool,
        /// The factor applied (multiplier and peak events).
        factor: Option<f64>,
        /// Steps a `like` event had no history for (kept as forecast).
        missing: usize,
    },
    /// It ended before now: ignored.
    Past,
    /// It starts at or after the forecast's end: not planned yet (a later run will).
    BeyondHorizon,
    /// There is no forecast to shape.
    NoForecast,
    /// A `like` event without the group's history, or whose window has no value in it.
    NoHistory,
}

/// The decision's reason for an event that raises the forecast, until the plan shows whether it
/// raised the floors ([`plan_with_events`]).
const RISES: &str = "the floors rise the lead time ahead of its start and come back down after its end";

/// Said in the decision of an event whose `--peak` lies below what the forecast already holds in
/// its window: it lowers the floors, which a person should hear of (`nightly --strict` looks for
/// it).
pub const LOWERS: &str = "the event lowers the floors during it";

/// Whether a plan's decision is an event's that moved the group's floors (up or down); an event
/// ignored, not planned, not yet in the horizon or within the floors planned without it moved
/// nothing.
pub fn moved_floors(d: &PlanDecision) -> bool {
    d.kind == DecisionKind::EventMoved
}

/// An event and what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct EventReport {
    /// The event.
    pub event: Event,
    /// What it did.
    pub outcome: EventOutcome,
}

impl EventReport {
    /// The report as a plan decision naming the event and what it did, its times on the group's
    /// clock where it has a zone (with their UTC instants).
    pub fn decision(&self, tz: Option<chrono_tz::Tz>) -> PlanDecision {
        let e = &self.event;
        let at = |t: DateTime<Utc>| crate::schedule::local(t, tz);
        let window = match tz {
            None => format!("{} to {}", e.start().format("%Y-%m-%d %H:%M"), e.end().format("%Y-%m-%d %H:%M UTC")),
            Some(_) => format!("{} to {}", at(e.start()), at(e.end())),
        };
        let what = match &self.outcome {
            EventOutcome::Applied { steps, factor, .. } => {
                let how = match (e.effect(), factor) {
                    (EventEffect::Multiplier { factor }, _) => format!("forecast ×{factor}"),
                    (EventEffect::Peak { peak }, Some(f)) => format!("forecast scaled ×{f:.3} to peak {peak}"),
                    (EventEffect::Peak { peak }, None) => format!("forecast set to {peak}"),
                    (EventEffect::Like { from, to }, _) => format!(
                        "forecast replaced by the history of {} to {}",
                        from.format("%Y-%m-%d %H:%M"),
                        to.format("%Y-%m-%d %H:%M UTC")
                    ),
                };
                format!("event {}: {how} from {window} ({steps} step{})", e.label(), if *steps == 1 { "" } else { "s" })
            }
            EventOutcome::Past => {
                format!("event {} ignored: it ended at {}", e.label(), at(e.end()))
            }
            EventOutcome::BeyondHorizon | EventOutcome::NoForecast | EventOutcome::NoHistory => {
                format!("event {} ({window}) not yet planned", e.label())
            }
        };
        let why = match &self.outcome {
            EventOutcome::Applied { partial, missing, factor, .. } => {
                let mut why = match (e.effect(), factor) {
                    // A peak below what the forecast already holds there lowers it: said, since
                    // an event is usually planned to raise capacity.
                    (EventEffect::Peak { peak }, Some(f)) if *f < 1.0 => format!(
                        "the forecast already peaked at {:.0} in its window, above the event's {peak}, so {LOWERS} \
                         (raise --peak, or remove the event, if the load will reach the forecast anyway)",
                        peak / f
                    ),
                    (_, Some(f)) if *f < 1.0 => {
                        "the floors come down for its window (a factor under 1) and back up after its end".to_string()
                    }
                    _ => RISES.to_string(),
                };
                if *partial {
                    why.push_str("; only its part within the forecast horizon is planned, a later run plans the rest");
                }
                if *missing > 0 {
                    why.push_str(&format!(
                        "; {missing} steps had no history in the --like window and keep the forecast"
                    ));
                }
                why
            }
            EventOutcome::Past => "it is over, and not planned; kept, it keeps its hours out of what the forecasts \
                                   learn as the series' own load (without it a weekly model repeats them): remove it \
                                   with `prescale event remove` once it is older than [forecast] train_days"
                .into(),
            EventOutcome::BeyondHorizon => {
                "it starts after the forecast horizon; a run closer to it (within the horizon) plans it".into()
            }
            EventOutcome::NoForecast => "there is no forecast to shape for this group".into(),
            EventOutcome::NoHistory => {
                "the --like window has no stored history of this group (ingest it, or re-add the event)".into()
            }
        };
        PlanDecision::new(DecisionKind::Event, what, why)
    }
}

/// Shapes `forecast` by `events` (those of one group); `history` is the
/// group's stored load, needed by `like` events only. Returns the shaped forecast (the input
/// when no event applies) and one report per event.
///
/// During an event's window `[start, end)`, taken to whole steps outward (every step it touches):
/// - multiplier `k`: the point forecast and every interval bound are multiplied by `k`;
/// - peak `N`: likewise, with `k = N / (peak of the point forecast within the window)`; a window
///   whose forecast is nowhere positive is set to `N`;
/// - like `[from, to)`: each step takes the history value at the same offset from `from`
///   (repeating the window if the event is longer), as it was then (no rescaling to today's level:
///   add a multiplier event over the same window for growth); its interval bounds keep their
///   ratio to the point forecast (their distance, where the point forecast is not positive).
///
/// Overlapping events compose by kind, whatever their order or names: every `like` first (in the
/// given order), then the multipliers, then the peaks; so a multiplier over a `like`'s window
/// scales the past shape, and a peak sets the top of what the others made.
pub fn shape(
    forecast: &Forecast,
    events: &[Event],
    history: Option<&Series>,
    now: DateTime<Utc>,
) -> (Forecast, Vec<EventReport>) {
    let mut f = forecast.clone();
    let end = f.ts(f.len());
    // By kind, then as given: a `like` sets the window's shape, multipliers scale it, a peak sets
    // its top; so the effect of overlapping events does not hang on their names or starts.
    let rank = |e: &Event| match e.effect() {
        EventEffect::Like { .. } => 0,
        EventEffect::Multiplier { .. } => 1,
        EventEffect::Peak { .. } => 2,
    };
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| rank(&events[i]));
    let mut outcomes = vec![EventOutcome::Past; events.len()];
    for i in order {
        let e = &events[i];
        outcomes[i] = if e.end() <= now {
            EventOutcome::Past
        } else if f.is_empty() {
            EventOutcome::NoForecast
        } else if e.start() >= end {
            EventOutcome::BeyondHorizon
        } else {
            apply(&mut f, e, history)
        };
    }
    let reports: Vec<EventReport> =
        events.iter().zip(outcomes).map(|(e, outcome)| EventReport { event: e.clone(), outcome }).collect();
    // Rebuild through the constructor, which keeps the interval invariants (nesting, point inside).
    let (point, intervals) = (std::mem::take(&mut f.point), std::mem::take(&mut f.intervals));
    let shaped = Forecast::new(f.model.clone(), f.start, f.step_secs, point, intervals)
        .map(|mut s| {
            s.keep_fit_of(&f);
            s
        })
        .unwrap_or_else(|_| forecast.clone());
    (shaped, reports)
}

/// Indices of the forecast steps the window `[from, to)` touches, the one it starts in included.
pub fn steps_in(f: &Forecast, from: DateTime<Utc>, to: DateTime<Utc>) -> std::ops::Range<usize> {
    let step = f.step_secs.max(1);
    // Outward: every step the window touches, the step it starts in included (a window shorter
    // than a step shapes that step rather than none).
    let idx = |t: DateTime<Utc>, up: bool| -> usize {
        let d = (t - f.start).num_seconds();
        let k = if up { d + step - 1 } else { d }.div_euclid(step);
        usize::try_from(k).unwrap_or(0).min(f.len())
    };
    let (a, b) = (idx(from, false), idx(to, true));
    a..b.max(a)
}

fn scale(f: &mut Forecast, range: std::ops::Range<usize>, k: f64) {
    for i in range {
        f.point[i] *= k;
        for iv in &mut f.intervals {
            iv.lower[i] *= k;
            iv.upper[i] *= k;
        }
    }
}

fn apply(f: &mut Forecast, e: &Event, history: Option<&Series>) -> EventOutcome {
    let range = steps_in(f, e.start(), e.end());
    let partial = e.end() > f.ts(f.len());
    let steps = range.len();
    match *e.effect() {
        EventEffect::Multiplier { factor } => {
            scale(f, range, factor);
            EventOutcome::Applied { steps, partial, factor: Some(factor), missing: 0 }
        }
        EventEffect::Peak { peak } => {
            let top = f.point[range.clone()].iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if top > 0.0 {
                let k = peak / top;
                scale(f, range, k);
                EventOutcome::Applied { steps, partial, factor: Some(k), missing: 0 }
            } else {
                set(f, range, |_| Some(peak));
                EventOutcome::Applied { steps, partial, factor: None, missing: 0 }
            }
        }
        EventEffect::Like { from, to } => {
            let Some(h) = history.map(|h| h.window(from, to)).filter(|w| w.values().iter().any(|v| v.is_finite()))
            else {
                return EventOutcome::NoHistory;
            };
            let period = (to - from).num_seconds().max(1);
            let event_start = e.start();
            let start = f.start;
            let step = f.step_secs;
            let missing = set(f, range, |i| {
                let t = start + Duration::seconds(step * i as i64);
                let offset = (t - event_start).num_seconds().rem_euclid(period);
                let at = from + Duration::seconds(offset);
                let j = (at - h.start()).num_seconds().div_euclid(h.step_secs().max(1));
                usize::try_from(j).ok().and_then(|j| h.values().get(j)).copied().filter(|v| v.is_finite())
            });
            EventOutcome::Applied { steps, partial, factor: None, missing }
        }
    }
}

/// An interval's bounds around the point `from` moved with it to `to`: the same ratio to the
/// point where it is positive, the same distance otherwise; still around `to`.
pub fn moved_bounds(lower: f64, upper: f64, from: f64, to: f64) -> (f64, f64) {
    let moved = |b: f64| if from > 0.0 { b / from * to } else { b - from + to };
    (moved(lower).min(to), moved(upper).max(to))
}

/// Sets the point forecast of each step of `range` to `value(i)`, moving the interval bounds with
/// it (same ratio to the point where the point is positive, same distance otherwise); a step
/// without a value keeps its forecast. Returns how many steps had none.
fn set(f: &mut Forecast, range: std::ops::Range<usize>, value: impl Fn(usize) -> Option<f64>) -> usize {
    let mut missing = 0;
    for i in range {
        let Some(v) = value(i) else {
            missing += 1;
            continue;
        };
        let p = f.point[i];
        for iv in &mut f.intervals {
            let Interval { lower, upper, .. } = iv;
            (lower[i], upper[i]) = moved_bounds(lower[i], upper[i], p, v);
        }
        f.point[i] = v;
    }
    missing
}

/// A group's plan with its events, and the plan without them (for `plan --what-if`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventPlan {
    /// The plan from the shaped forecast; its decisions name every event and what it did.
    pub plan: GroupPlan,
    /// The plan from the forecast as it was.
    pub baseline: GroupPlan,
    /// What each event did.
    pub reports: Vec<EventReport>,
    /// One decision per event, as in the plan's decisions.
    pub decisions: Vec<PlanDecision>,
}

/// Plans one group with its events: [`shape`], then [`plan_group`] on the shaped forecast, with a
/// decision per event (what it did, and the highest floor during it against the plan without
/// it).
pub fn plan_with_events(
    group: &str,
    environment: &str,
    forecast: Option<&Forecast>,
    events: &[Event],
    history: Option<&Series>,
    s: &PlanSettings,
    now: DateTime<Utc>,
) -> EventPlan {
    let baseline = plan_group(group, environment, forecast, s, now);
    if events.is_empty() {
        return EventPlan { plan: baseline.clone(), baseline, reports: Vec::new(), decisions: Vec::new() };
    }
    let empty;
    let f = match forecast {
        Some(f) => f,
        None => {
            empty = Forecast::new("none", now, 300, Vec::new(), Vec::new())
                .unwrap_or_else(|_| unreachable!("an empty forecast has no lengths to disagree"));
            &empty
        }
    };
    let (shaped, reports) = shape(f, events, history, now);
    let applied = reports.iter().any(|r| matches!(r.outcome, EventOutcome::Applied { .. }));
    let mut plan = if applied { plan_group(group, environment, Some(&shaped), s, now) } else { baseline.clone() };
    hold_through_events(&mut plan, &reports, s);
    let mut notes = Vec::new();
    let applied_count = reports.iter().filter(|r| matches!(r.outcome, EventOutcome::Applied { .. })).count();
    // The instances the shaped forecast needs per step, unclamped: what an event asks beyond MaxSize.
    let needs = if applied { crate::schedule::required(&shaped, s) } else { Vec::new() };
    for r in &reports {
        let mut d = r.decision(s.time_zone);
        if let EventOutcome::Applied { factor, .. } = r.outcome {
            // With other events applied, against the plan with them alone: theirs may be the
            // floors in this one's window (they overlap it, or their floors are held or raised
            // ahead into it). With none, the plan without events is that plan.
            let other_plan;
            let without_plan = if applied_count > 1 {
                let others: Vec<Event> = events.iter().filter(|e| e.id() != r.event.id()).cloned().collect();
                let (f, _) = shape(f, &others, history, now);
                other_plan = plan_group(group, environment, Some(&f), s, now);
                &other_plan
            } else {
                &baseline
            };
            let start = r.event.start().max(now);
            // Where the event raises the floors that serve its load by the most, and where it cuts
            // them by the most, instant by instant (the highest floor against the highest would
            // hide a rise under another event's higher floor elsewhere in the window).
            // (With the first instant each is at.)
            let raised_at = largest_cut(without_plan, &plan, start, r.event.end(), s.lead());
            let cut_at = largest_cut(&plan, without_plan, start, r.event.end(), s.lead());
            let (raised, cut) = (raised_at.map(|(x, y, _)| (x, y)), cut_at.map(|(x, y, _)| (x, y)));
            // An event that lowers the forecast: the lowest floor during it, with and without. A
            // window of history (`like`) has no factor: lower where its floors are only cut.
            let lowers = factor.map_or(raised.is_none() && cut.is_some(), |f| f < 1.0);
            // Floors can rise from now at the earliest: an event under way is planned from now. The
            // floors that serve its load are those set from the lead time ahead of its start to the
            // lead time ahead of its end (the one then is for the load after it).
            let from = if lowers { start } else { (r.event.start() - s.lead()).max(now) };
            let until =
                if lowers { r.event.end() } else { (r.event.end() - s.lead()).max(from + Duration::seconds(1)) };
            // The floor that serves its load at the most during it (at the least, where it lowers
            // them), with it and without: what it needs is judged against the first.
            let floor_in = |p: &GroupPlan| served_in(p, start, r.event.end(), s.lead(), lowers);
            let (held, held_without) = (floor_in(&plan), floor_in(without_plan));
            // Lowered: the largest cut at one instant, not the lowest floor against the lowest
            // (another event lowering part of the window hides this one's cut elsewhere). Raised
            // where the highest floors are the same: the largest rise at one instant.
            let (with, without) = match (lowers, cut, raised) {
                (true, Some(c), _) => c,
                (false, _, Some((w, x))) if held <= held_without => (x, w),
                _ => (held, held_without),
            };
            // Where that is the largest rise at one instant (the highest floors the same with and
            // without it): the instant, so that "without it" is not read as the highest floor.
            let rise_at = raised_at.filter(|_| !lowers && held <= held_without).map(|(_, _, t)| t);
            // From when the floors differ from the plan without it, as written (a ramp, a merge or
            // an event starting within the lead time moves that from `start − lead`).
            // Looked for from six hours before the lead: a ramp starts there at the earliest, and a
            // merge elsewhere in the horizon is not this event's doing. Floors lowered start with
            // the event (no ramp leads a fall): a floor that differs before it was merged
            // otherwise, not lowered by it.
            let search = if lowers { from } else { (from - Duration::hours(6)).max(now) };
            let rise = if lowers { None } else { rise_start(&plan, without_plan, search, from, until) };
            let since = rise.or_else(|| first_difference(&plan, without_plan, search, until, lowers)).unwrap_or(from);
            // When the event's own floor is in place, where the floors began to move before it.
            let at_peak = plan
                .scheduled_actions
                .iter()
                .filter(|a| a.start_time >= since && a.start_time < until && a.min_size == Some(with))
                .map(|a| a.start_time)
                .min()
                .filter(|t| !lowers && *t > since);
            // The event's need beyond what the group may hold: the floors cannot cover it.
            let need = if lowers {
                0
            } else {
                needs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| shaped.ts(*i) >= r.event.start() && shaped.ts(*i) < r.event.end())
                    .map(|(_, n)| *n)
                    .max()
                    .unwrap_or(0)
            };
            let unchanged = if lowers { cut.is_none() } else { raised.is_none() };
            // A window of history with less load in it than the forecast holds there: said as a
            // peak below the forecast is (an event is planned to raise capacity, and a window
            // picked from the wrong day or zone takes the floors down).
            if lowers && !unchanged && factor.is_none() {
                d.why = d.why.replacen(
                    RISES,
                    &format!(
                        "the history it is like held less load than the forecast there, so {LOWERS} (give a window of \
                         load like the event's, or remove the event, if the load will reach the forecast anyway)"
                    ),
                    1,
                );
            }
            if unchanged {
                // Its load fits the floors planned without it, or they are at the most the group
                // may hold already (or a lower one is held up by a neighbour's): no "rise" or
                // "from" to speak of.
                d.what.push_str(&format!(
                    "; the floors during it stay as without it{} ({with} instances at {})",
                    if applied_count > 1 { " and with the other events" } else { "" },
                    if lowers { "the lowest" } else { "the highest" }
                ));
                let instead = if need > held {
                    "the floors are at what the group's MaxSize lets them hold already"
                } else {
                    "its load needs no more than the floors planned without it"
                };
                d.why = d.why.replacen(RISES, instead, 1);
            } else {
                if r.event.start() <= now {
                    d.why = d.why.replacen(
                        RISES,
                        "it is under way: the floors rise from now and come back down after its end",
                        1,
                    );
                }
                d.kind = DecisionKind::EventMoved;
                d.what.push_str(&format!(
                    "; floors {} {with} instances from {}{} (without it: {without}{}{})",
                    if lowers { "down to" } else { "up to" },
                    since.format("%Y-%m-%d %H:%M UTC"),
                    at_peak.map_or(String::new(), |t| format!(", at {with} from {}", t.format("%Y-%m-%d %H:%M UTC"))),
                    rise_at.map_or(String::new(), |t| format!(
                        " at {}, where it raises them most; at the highest {held} with it, {held_without} without",
                        t.format("%Y-%m-%d %H:%M UTC")
                    )),
                    if applied_count > 1 { ", with the other events" } else { "" }
                ));
            }
            if need > held {
                d.what.push_str(&format!(
                    "; it needs {need} at its P{:.0}: {} short of what the group's MaxSize lets the floors hold",
                    s.quantile * 100.0,
                    need - held
                ));
                d.why.push_str(&format!("; {} to plan for all of it", s.max_breach.remedy()));
            }
            // A window of history that raises the floors at some hours and lowers them at others (a
            // window an hour or three off, read in another zone): the cut is said as a lowering
            // is, where it is a tenth of the floor without it or more (a window's own noise
            // against the forecast is not).
            if !lowers
                && factor.is_none()
                && let Some((w, x, t)) = cut_at
                && 10 * (x - w) >= x
            {
                d.why.push_str(&format!(
                    "; {LOWERS} at some hours too: at {}, to {w} against {x} without it (the history it is like \
                     held less load than the forecast there: a window a few hours off, or read in another zone?)",
                    t.format("%Y-%m-%d %H:%M UTC")
                ));
            }
            if unchanged {
                notes.push(d);
                continue;
            }
            // Said only where now leaves less than the lead before the start.
            if !lowers
                && r.event.start() > now
                && r.event.start() - s.lead() < now + Duration::minutes(1)
                && since > r.event.start() - s.lead()
            {
                d.why.push_str(&format!(
                    "; in place {} min before its start, not the {} min lead time ahead: it starts too soon after \
                     now for more",
                    (r.event.start() - since).num_minutes().max(0),
                    s.lead().num_minutes()
                ));
            }
        }
        notes.push(d);
    }
    // Event decisions first: they explain the rest of the plan.
    let at = usize::from(!plan.decisions.is_empty());
    plan.decisions.splice(at..at, notes.iter().cloned());
    EventPlan { plan, baseline, reports, decisions: notes }
}

/// An event that runs past the forecast's end would have the plan's closing action (MinSize back
/// to the minimum at the horizon's end) fall inside it: if the next run does not come, the group
/// would sit at its minimum through a known event. The floor at the horizon's end is held to the
/// end of such an event instead (one that raises the forecast), and the closing action moves there.
fn hold_through_events(plan: &mut GroupPlan, reports: &[EventReport], s: &PlanSettings) {
    let Some(horizon) = plan.forecast.as_ref().map(|f| f.to) else { return };
    let until = reports
        .iter()
        .filter(|r| {
            matches!(r.outcome, EventOutcome::Applied { partial: true, factor, .. } if factor.is_none_or(|f| f >= 1.0))
        })
        .map(|r| r.event.end())
        .max();
    let Some(until) = until.filter(|u| *u > horizon) else { return };
    let Some(close) = plan.scheduled_actions.last_mut() else { return };
    if close.start_time != horizon || close.min_size != Some(s.bounds.min()) {
        return;
    }
    *close = ScheduledAction { max_size: close.max_size, ..floor_action(until, s.bounds.min(), s.time_zone) };
    let when = crate::schedule::local(until, s.time_zone);
    for d in plan.decisions.iter_mut().filter(|d| d.kind == DecisionKind::FloorBack) {
        d.what = format!("floor back to MinSize {} at {when}", s.bounds.min());
        d.why = "the end of an event that runs past the forecast's end: the floor at the forecast's end holds \
                 until then, so a nightly run that does not come leaves the group at that floor through the event, \
                 not at its minimum (the forecast does not reach the event's later hours, which may need more); the \
                 next run plans them"
            .into();
    }
}

/// Where the floors `a` holds above `b`'s into an event began: the start of the unbroken stretch
/// of higher floors (judged at both plans' actions in `[search, to)`) that holds at the first
/// such instant from `from` on; `None` where `a` is nowhere higher from
/// `from` on. A floor merged higher hours before, with the same floors again between it and the
/// event's rise, is not where the event's floors began.
fn rise_start(
    a: &GroupPlan,
    b: &GroupPlan,
    search: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut at: Vec<DateTime<Utc>> = a
        .scheduled_actions
        .iter()
        .chain(&b.scheduled_actions)
        .map(|x| x.start_time)
        .filter(|t| *t >= search && *t < to)
        .collect();
    at.sort_unstable();
    at.dedup();
    let mut run = None;
    for t in at {
        if floor_at(a, t) > floor_at(b, t) {
            let began = *run.get_or_insert(t);
            if t >= from {
                return Some(began);
            }
        } else {
            run = None;
        }
    }
    None
}

/// The first instant in `[from, to)` at which `a` holds a higher floor than `b` (a lower one, with
/// `lower`): at one of `a`'s actions' times. (A merge elsewhere can leave `a` a little lower
/// before an event that raises it: not where the event's floors begin.)
fn first_difference(
    a: &GroupPlan,
    b: &GroupPlan,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    lower: bool,
) -> Option<DateTime<Utc>> {
    // At `a`'s own actions: a merge in `b` alone (where `a` holds a floor it had) is no move of `a`'s.
    a.scheduled_actions
        .iter()
        .map(|x| x.start_time)
        .filter(|t| *t >= from && *t < to)
        .find(|t| if lower { floor_at(a, *t) < floor_at(b, *t) } else { floor_at(a, *t) > floor_at(b, *t) })
}

/// The floor in force at `t`: the last action at or before `t` (the first action before it).
fn floor_at(plan: &GroupPlan, t: DateTime<Utc>) -> u32 {
    let a = &plan.scheduled_actions;
    a.iter().rfind(|x| x.start_time <= t).or(a.first()).and_then(|x| x.min_size).unwrap_or(plan.bounds.min())
}

/// The floor that serves load at `t`: raised at least `lead` before (instances take that long to
/// serve) and not yet lowered.
fn serving_at(plan: &GroupPlan, t: DateTime<Utc>, lead: Duration) -> u32 {
    floor_at(plan, t - lead).min(floor_at(plan, t))
}

/// The highest floor that serves load in `[from, to)` ([`serving_at`]; the lowest with `lowest`):
/// what an event's own window holds, not the floor raised the lead time before its end for the
/// load after it, nor the one in force before a drop at its start.
fn served_in(plan: &GroupPlan, from: DateTime<Utc>, to: DateTime<Utc>, lead: Duration, lowest: bool) -> u32 {
    let changes = plan.scheduled_actions.iter().flat_map(|a| [a.start_time, a.start_time + lead]);
    let at = std::iter::once(from).chain(changes.filter(|t| *t > from && *t < to));
    let floors = at.map(|t| serving_at(plan, t, lead));
    if lowest { floors.min() } else { floors.max() }.unwrap_or_else(|| floor_at(plan, from))
}

/// Where in `[from, to)` `a` serves load with fewer instances than `b` by the most ([`serving_at`]):
/// `a`'s floor and `b`'s there, and the first instant of that; `None` where `a` is nowhere lower.
fn largest_cut(
    a: &GroupPlan,
    b: &GroupPlan,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    lead: Duration,
) -> Option<(u32, u32, DateTime<Utc>)> {
    let changes =
        a.scheduled_actions.iter().chain(&b.scheduled_actions).flat_map(|x| [x.start_time, x.start_time + lead]);
    let mut at: Vec<DateTime<Utc>> = std::iter::once(from).chain(changes.filter(|t| *t > from && *t < to)).collect();
    at.sort_unstable();
    at.into_iter()
        .map(|t| (serving_at(a, t, lead), serving_at(b, t, lead), t))
        .filter(|(x, y, _)| x < y)
        // The largest cut, the earliest where several are as large.
        .max_by_key(|(x, y, t)| (y - x, std::cmp::Reverse(*t)))
}

/// The highest floor of the plan (its minimum size when it has no action).
pub fn peak_floor(plan: &GroupPlan) -> u32 {
    plan.scheduled_actions.iter().filter_map(|a| a.min_size).max().unwrap_or(plan.bounds.min())
}

/// Instance-hours the plan's floors hold over its forecast horizon ([`crate::floor_hours`]; 0
/// without a forecast). The reactive policy may add more on top; this is what the schedule
/// commits to.
pub fn instance_hours(plan: &GroupPlan) -> f64 {
    crate::floor_hours(plan).map_or(0.0, |h| h.planned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use prescale_core::{CapacityBounds, Level};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()
    }
    fn at(mins: i64) -> DateTime<Utc> {
        t0() + Duration::minutes(mins)
    }

    /// 48 steps of 5 minutes (4 h): point 100 + i, 80 % interval ±10.
    fn fc() -> Forecast {
        let point: Vec<f64> = (0..48).map(|i| 100.0 + f64::from(i)).collect();
        let iv = Interval {
            level: Level::new(0.8).unwrap(),
            lower: point.iter().map(|p| p - 10.0).collect(),
            upper: point.iter().map(|p| p + 10.0).collect(),
        };
        Forecast::new("t", t0(), 300, point, vec![iv]).unwrap()
    }

    fn ev(name: &str, start: i64, end: i64, effect: EventEffect) -> Event {
        Event::new("g", name, at(start), at(end), effect).unwrap()
    }

    #[test]
    fn the_events_digest_changes_with_what_a_plan_at_now_reads_alone() {
        let sale = ev("sale", 60, 120, EventEffect::Multiplier { factor: 2.0 });
        let past = ev("past", -120, -60, EventEffect::Multiplier { factor: 2.0 });
        let other = Event::new("h", "launch", at(60), at(120), EventEffect::Peak { peak: 500.0 }).unwrap();
        let base = events_digest([&sale], "g", t0(), at(600));
        // Another group's event and one over before now change nothing.
        assert_eq!(events_digest([&sale, &past, &other], "g", t0(), at(600)), base);
        // Added, moved or removed: a new digest.
        assert_ne!(
            events_digest([&sale, &ev("more", 200, 260, EventEffect::Peak { peak: 9.0 })], "g", t0(), at(600)),
            base
        );
        assert_ne!(
            events_digest([&ev("sale", 60, 180, EventEffect::Multiplier { factor: 2.0 })], "g", t0(), at(600)),
            base
        );
        assert_ne!(events_digest([&past], "g", t0(), at(600)), base);
        assert_eq!(events_digest([&other], "g", t0(), at(600)), events_digest([], "g", t0(), at(600)));
        // One starting after the plan's last action plans nothing yet.
        let later = ev("later", 700, 800, EventEffect::Multiplier { factor: 3.0 });
        assert_eq!(events_digest([&sale, &later], "g", t0(), at(600)), base);
    }

    #[test]
    fn multiplier_scales_point_and_every_bound_inside_the_window_only() {
        let f = fc();
        let (s, r) = shape(&f, &[ev("x", 60, 120, EventEffect::Multiplier { factor: 3.0 })], None, t0());
        assert_eq!(r[0].outcome, EventOutcome::Applied { steps: 12, partial: false, factor: Some(3.0), missing: 0 });
        for i in 0..48 {
            let k = if (12..24).contains(&i) { 3.0 } else { 1.0 };
            assert_eq!(s.point[i], f.point[i] * k, "step {i}");
            assert_eq!(s.intervals[0].lower[i], f.intervals[0].lower[i] * k);
            assert_eq!(s.intervals[0].upper[i], f.intervals[0].upper[i] * k);
        }
        assert!(r[0].decision(None).what.contains("forecast ×3 from 2026-11-23 01:00 to 2026-11-23 02:00 UTC"));
    }

    #[test]
    fn peak_scales_so_the_window_peaks_at_n() {
        let f = fc();
        let (s, r) = shape(&f, &[ev("x", 60, 120, EventEffect::Peak { peak: 246.0 })], None, t0());
        // The window's point peak is 123 (step 23): ×2.
        let EventOutcome::Applied { factor: Some(k), .. } = r[0].outcome else { panic!("{:?}", r[0]) };
        assert!((k - 2.0).abs() < 1e-12);
        let top = s.point[12..24].iter().copied().fold(0.0, f64::max);
        assert!((top - 246.0).abs() < 1e-9);
        assert!((s.intervals[0].upper[23] - 266.0).abs() < 1e-9, "bounds scale too");
        assert_eq!(s.point[24], f.point[24]);
        assert!(r[0].decision(None).why.starts_with("the floors rise"), "{:?}", r[0].decision(None));
        // A peak below the forecast's lowers it, and the decision says so.
        let (s, r) = shape(&f, &[ev("x", 60, 120, EventEffect::Peak { peak: 61.5 })], None, t0());
        assert!((s.point[23] - 61.5).abs() < 1e-9);
        let why = r[0].decision(None).why;
        assert!(why.contains("already peaked at 123 in its window, above the event's 61.5"), "{why}");
        assert!(why.contains("lowers the floors"), "{why}");
        let (_, r) = shape(&f, &[ev("x", 60, 120, EventEffect::Multiplier { factor: 0.5 })], None, t0());
        assert!(r[0].decision(None).why.starts_with("the floors come down"), "{:?}", r[0].decision(None));
        // A window with no positive forecast is set to N.
        let zero = Forecast::new("t", t0(), 300, vec![0.0; 12], vec![]).unwrap();
        let (s, _) = shape(&zero, &[ev("x", 0, 30, EventEffect::Peak { peak: 50.0 })], None, t0());
        assert_eq!(&s.point[..7], &[50.0, 50.0, 50.0, 50.0, 50.0, 50.0, 0.0]);
    }

    #[test]
    fn like_takes_the_past_shape_aligned_by_offset_and_repeats_it() {
        let f = fc();
        // History: one day at 5 minutes; 1,000 + slot index.
        let hstart = t0() - Duration::days(7);
        let h = Series::new(hstart, 300, (0..288).map(|i| 1000.0 + f64::from(i)).collect()).unwrap();
        // Past window: 30 minutes from 02:00 a week ago (slots 24..30); event: 1 h from 01:00.
        let e = ev(
            "x",
            60,
            120,
            EventEffect::Like { from: hstart + Duration::hours(2), to: hstart + Duration::minutes(150) },
        );
        let (s, r) = shape(&f, &[e], Some(&h), t0());
        assert_eq!(r[0].outcome, EventOutcome::Applied { steps: 12, partial: false, factor: None, missing: 0 });
        let want: Vec<f64> = (0..12).map(|k| 1024.0 + f64::from(k % 6)).collect();
        assert_eq!(&s.point[12..24], want.as_slice());
        // Bounds keep their ratio to the point: 10 / 112 of it at step 12.
        let ratio = f.intervals[0].upper[12] / f.point[12];
        assert!((s.intervals[0].upper[12] - 1024.0 * ratio).abs() < 1e-9);
        assert!(s.intervals[0].lower[12] <= s.point[12] && s.point[12] <= s.intervals[0].upper[12]);
        assert_eq!(s.point[11], f.point[11]);
        // Without the history it is not planned, and says why.
        let (s2, r2) = shape(&f, &[r[0].event.clone()], None, t0());
        assert_eq!(r2[0].outcome, EventOutcome::NoHistory);
        assert_eq!(s2, f);
        // A gap in the window keeps the forecast for those steps, and counts them.
        let mut vals: Vec<f64> = h.values().to_vec();
        vals[25] = f64::NAN;
        let gappy = Series::new(hstart, 300, vals).unwrap();
        let (s3, r3) = shape(&f, &[r[0].event.clone()], Some(&gappy), t0());
        assert!(matches!(r3[0].outcome, EventOutcome::Applied { missing: 2, .. }), "{:?}", r3[0]);
        assert_eq!(s3.point[13], f.point[13]);
    }

    #[test]
    fn overlapping_events_compose_by_kind_whatever_their_order() {
        let f = fc();
        let hstart = t0() - Duration::days(7);
        let h = Series::new(hstart, 300, vec![1000.0; 288]).unwrap();
        let like = ev("b like", 60, 120, EventEffect::Like { from: hstart, to: hstart + Duration::hours(1) });
        let grow = ev("a growth", 60, 120, EventEffect::Multiplier { factor: 1.5 });
        let top = ev("c top", 60, 120, EventEffect::Peak { peak: 3000.0 });
        // The growth scales the replayed window, in either order; reports stay in the given order.
        for events in [vec![grow.clone(), like.clone()], vec![like.clone(), grow.clone()]] {
            let (s, r) = shape(&f, &events, Some(&h), t0());
            assert_eq!(s.point[12], 1500.0, "{events:?}");
            assert_eq!(r[0].event, events[0]);
        }
        // A peak sets the top of what the others made, before or after them in the list.
        for events in [vec![top.clone(), grow.clone(), like.clone()], vec![like, grow, top]] {
            let (s, _) = shape(&f, &events, Some(&h), t0());
            assert!((s.point[12] - 3000.0).abs() < 1e-9, "{events:?}");
        }
    }

    #[test]
    fn past_and_far_events_are_reported_and_change_nothing() {
        let f = fc();
        let events = [
            ev("old", -120, -60, EventEffect::Multiplier { factor: 3.0 }),
            ev("far", 60 * 24, 60 * 26, EventEffect::Multiplier { factor: 3.0 }),
            ev("edge", 200, 300, EventEffect::Multiplier { factor: 2.0 }),
        ];
        let (s, r) = shape(&f, &events, None, t0());
        assert_eq!(r[0].outcome, EventOutcome::Past);
        assert_eq!(r[1].outcome, EventOutcome::BeyondHorizon);
        assert!(matches!(r[2].outcome, EventOutcome::Applied { steps: 8, partial: true, .. }));
        assert_eq!(&s.point[..40], &f.point[..40]);
        assert!(r[0].decision(None).what.contains("ignored"));
        assert!(r[1].decision(None).what.contains("not yet planned") && r[1].decision(None).why.contains("horizon"));
        assert!(r[2].decision(None).why.contains("only its part within the forecast horizon"));
    }

    /// A flat load of 1,000 for 8 h, at 100 per instance (10 instances).
    fn flat_and_settings() -> (Forecast, PlanSettings) {
        let f = Forecast::new("t", t0(), 300, vec![1000.0; 96], vec![]).unwrap();
        let s = PlanSettings {
            bounds: CapacityBounds::new(1, 100).unwrap(),
            capacity_per_instance: 100.0,
            target_utilization: 1.0,
            quantile: 0.5,
            lead_time: Duration::minutes(10),
            ..PlanSettings::default()
        };
        (f, s)
    }

    #[test]
    fn an_event_that_lowers_the_forecast_says_how_low_the_floors_go() {
        let (f, s) = flat_and_settings();
        let s = PlanSettings { min_hold: Duration::zero(), ..s };
        let e = ev("maintenance", 120, 240, EventEffect::Multiplier { factor: 0.4 });
        let p = plan_with_events("g", "prod", Some(&f), &[e], None, &s, t0());
        let d = &p.plan.decisions[1];
        assert!(d.what.contains("floors down to 4 instances from 2026-11-23 02:00 UTC (without it: 10)"), "{d:?}");
    }

    #[test]
    fn a_like_window_that_raises_some_hours_and_lowers_others_says_both() {
        // The forecast is flat at 1,000 (10 instances). The window's history holds 2,000 for its
        // first hour and 500 for its second: the event raises the floors to 20, then lowers them
        // to 5, which is said as a lowering (for the CLI's warning and --strict).
        let (f, s) = flat_and_settings();
        let s = PlanSettings { min_hold: Duration::zero(), ..s };
        let hstart = t0() - Duration::days(7);
        let h = Series::new(hstart, 300, (0..288).map(|i| if i < 12 { 2000.0 } else { 500.0 }).collect()).unwrap();
        let e = ev("wrong hours", 120, 240, EventEffect::Like { from: hstart, to: hstart + Duration::hours(2) });
        let p = plan_with_events("g", "prod", Some(&f), &[e], Some(&h), &s, t0());
        let d = &p.decisions[0];
        assert!(d.what.contains("floors up to 20 instances"), "{d:?}");
        assert!(
            d.why.contains(&format!("{LOWERS} at some hours too: at 2026-11-23 03:00 UTC, to 5 against 10 without it")),
            "{d:?}"
        );
        // A window whose load is a little below the forecast's at some hours (its own noise) is
        // not: 95 instances against 100 at 10 each.
        let fine = PlanSettings { capacity_per_instance: 10.0, bounds: CapacityBounds::new(1, 1000).unwrap(), ..s };
        let h = Series::new(hstart, 300, (0..288).map(|i| if i < 12 { 2000.0 } else { 950.0 }).collect()).unwrap();
        let e = ev("close", 120, 240, EventEffect::Like { from: hstart, to: hstart + Duration::hours(2) });
        let p = plan_with_events("g", "prod", Some(&f), &[e], Some(&h), &fine, t0());
        assert!(p.decisions[0].what.contains("floors up to 200 instances"), "{:?}", p.decisions[0]);
        assert!(!p.decisions[0].why.contains(LOWERS), "{:?}", p.decisions[0]);
        // A tenth is said: 90 against 100.
        let h = Series::new(hstart, 300, (0..288).map(|i| if i < 12 { 2000.0 } else { 900.0 }).collect()).unwrap();
        let e = ev("a tenth", 120, 240, EventEffect::Like { from: hstart, to: hstart + Duration::hours(2) });
        let p = plan_with_events("g", "prod", Some(&f), &[e], Some(&h), &fine, t0());
        assert!(p.decisions[0].why.contains("to 90 against 100 without it"), "{:?}", p.decisions[0]);
    }

    #[test]
    fn a_lowering_event_beside_another_names_its_own_cut() {
        // "quiet" lowers 02:00-04:00 to 0.6 (6 instances); "quieter" lowers 03:00-04:00 to 0.4 on
        // its own. Without quiet, the floors are 10 to 03:00 and 4 after: the lowest floor in
        // quiet's window is 4 with it and without it, which read as no cut; its cut is 10 -> 6.
        let (f, s) = flat_and_settings();
        let s = PlanSettings { min_hold: Duration::zero(), ..s };
        let quiet = ev("quiet", 120, 240, EventEffect::Multiplier { factor: 0.6 });
        let quieter = ev("quieter", 180, 240, EventEffect::Peak { peak: 400.0 });
        let p = plan_with_events("g", "prod", Some(&f), &[quiet, quieter], None, &s, t0());
        let d = p.decisions.iter().find(|d| d.what.contains("\"quiet\"")).unwrap();
        assert!(d.what.contains("floors down to 6 instances") && d.what.contains("(without it: 10"), "{d:?}");
    }

    #[test]
    fn an_event_is_said_to_begin_where_it_raises_the_floors_not_where_a_merge_lowered_them() {
        let (f, s) = flat_and_settings();
        let without = plan_group("g", "prod", Some(&f), &s, t0());
        let mut with = without.clone();
        // A merge left the plan with the event one lower at 01:00, and the event raises it at 02:00.
        let at = |m: i64, n: u32| ScheduledAction::floor(format!("prescale-floor-{m}"), t0() + Duration::minutes(m), n);
        with.scheduled_actions = vec![at(1, 10), at(60, 9), at(120, 30), at(240, 10)];
        assert_eq!(
            first_difference(&with, &without, t0(), at(300, 0).start_time, false),
            Some(t0() + Duration::minutes(120))
        );
        assert_eq!(
            first_difference(&with, &without, t0(), at(300, 0).start_time, true),
            Some(t0() + Duration::minutes(60))
        );
    }

    #[test]
    fn an_event_past_the_horizon_holds_its_floor_to_its_end() {
        let (f, s) = flat_and_settings();
        // The forecast ends at 08:00; the sale runs from 06:00 to 11:00.
        let e = ev("sale", 360, 660, EventEffect::Multiplier { factor: 3.0 });
        let p = plan_with_events("g", "prod", Some(&f), &[e], None, &s, t0());
        let last = p.plan.scheduled_actions.last().unwrap();
        assert_eq!((last.start_time, last.min_size), (at(660), Some(s.bounds.min())), "{:?}", p.plan.scheduled_actions);
        assert_eq!(last.name, "prescale-floor-20261123T1100Z");
        let before = &p.plan.scheduled_actions[p.plan.scheduled_actions.len() - 2];
        assert_eq!(before.min_size, Some(30), "the event's floor holds until then");
        // 30 instances for the 3 h from the forecast's end to the event's: beyond the horizon's hours.
        let hours = crate::floor_hours(&p.plan).unwrap();
        assert!((hours.held_past - 90.0).abs() < 1e-9, "{hours:?}");
        let d = p.plan.decisions.iter().find(|d| d.what.starts_with("floor back to MinSize")).unwrap();
        assert!(d.what.contains("2026-11-23 11:00 UTC") && d.why.contains("runs past the forecast's end"), "{d:?}");
        // A lowering event past the horizon does not hold anything.
        let low = ev("quiet", 360, 660, EventEffect::Multiplier { factor: 0.5 });
        let p = plan_with_events("g", "prod", Some(&f), &[low], None, &s, t0());
        assert_eq!(p.plan.scheduled_actions.last().unwrap().start_time, at(480));
    }

    #[test]
    fn an_events_decision_names_the_floors_that_serve_its_load() {
        // A launch (×3) and an outage (×0.1) over the same two hours: 300 of load, 3 instances,
        // and back to 10 the lead time before their end, for the load after them. The launch's
        // floors are 3 against the outage's alone 1, not the 10 that follow them.
        let (f, s) = flat_and_settings();
        let (launch, outage) = (
            ev("launch", 120, 240, EventEffect::Multiplier { factor: 3.0 }),
            ev("outage", 120, 240, EventEffect::Multiplier { factor: 0.1 }),
        );
        let p = plan_with_events("g", "prod", Some(&f), &[launch, outage], None, &s, t0());
        let what = |name: &str| p.decisions.iter().find(|d| d.what.contains(name)).unwrap().what.clone();
        assert!(what("launch").contains("floors up to 3 instances from 2026-11-23 02:00 UTC"), "{}", what("launch"));
        assert!(what("outage").contains("floors down to 3 instances from 2026-11-23 02:00 UTC"), "{}", what("outage"));
        // An event whose load the floors already hold says so, not that they rise.
        let small = ev("small", 120, 240, EventEffect::Multiplier { factor: 1.0 });
        let p = plan_with_events("g", "prod", Some(&f), &[small], None, &s, t0());
        assert!(
            p.decisions[0].what.contains("the floors during it stay as without it (10 instances"),
            "{:?}",
            p.decisions
        );
        assert!(!p.decisions[0].why.contains("rise"), "{:?}", p.decisions[0]);
        // At MaxSize already without it: the floors stay, and the event is said to be short.
        let capped = PlanSettings { bounds: CapacityBounds::new(1, 10).unwrap(), ..s };
        let big = ev("big", 120, 240, EventEffect::Multiplier { factor: 3.0 });
        let p = plan_with_events("g", "prod", Some(&f), &[big], None, &capped, t0());
        let d = &p.decisions[0];
        assert!(
            d.what.contains("stay as without it (10 instances") && d.what.contains("needs 30 at its P50: 20 short"),
            "{d:?}"
        );
        assert!(d.why.contains("at what the group's MaxSize lets them hold already"), "{d:?}");
    }

    #[test]
    fn the_plan_ramps_up_lead_time_ahead_and_comes_down_after() {
        let (f, s) = flat_and_settings();
        let e = ev("Black Friday", 120, 240, EventEffect::Multiplier { factor: 3.0 });
        let p = plan_with_events("g", "prod", Some(&f), &[e], None, &s, t0());
        let floors: Vec<(i64, u32)> = p
            .plan
            .scheduled_actions
            .iter()
            .map(|a| ((a.start_time - t0()).num_minutes(), a.min_size.unwrap()))
            .collect();
        assert_eq!(floors, [(1, 10), (110, 30), (240, 10), (480, 1)]);
        assert_eq!(peak_floor(&p.baseline), 10);
        assert_eq!(peak_floor(&p.plan), 30);
        let d = &p.plan.decisions[1];
        assert!(
            d.what.starts_with("event \"Black Friday\" (ev-")
                && d.what.contains("floors up to 30 instances from 2026-11-23 01:50 UTC (without it: 10)"),
            "{d:?}"
        );
        // The group's minimum (1) for the first minute, 10 instances for 8 h minus 1 min, plus 20
        // more for 130 min.
        let base = instance_hours(&p.baseline);
        assert!((base - (1.0 + 10.0 * 479.0) / 60.0).abs() < 1e-9, "{base}");
        assert!((instance_hours(&p.plan) - base - 20.0 * 130.0 / 60.0).abs() < 1e-9);
        // Without events the plan is the plan.
        let none = plan_with_events("g", "prod", Some(&f), &[], None, &s, t0());
        assert_eq!(none.plan, plan_group("g", "prod", Some(&f), &s, t0()));
        // Without a forecast the event is reported, not planned.
        let e = ev("x", 120, 240, EventEffect::Multiplier { factor: 3.0 });
        let nf = plan_with_events("g", "prod", None, &[e], None, &s, t0());
        assert_eq!(nf.plan.scheduled_actions.len(), 1, "only MinSize back: {:?}", nf.plan.scheduled_actions);
        assert_eq!(nf.plan.scheduled_actions[0].min_size, Some(s.bounds.min()));
        assert!(nf.plan.decisions.iter().any(|d| d.what.contains("not yet planned") && d.why.contains("no forecast")));

        // Two overlapping events compound: each is measured against the plan with the other alone.
        let (a, b) = (
            ev("sale", 120, 240, EventEffect::Multiplier { factor: 3.0 }),
            ev("launch", 180, 300, EventEffect::Multiplier { factor: 2.0 }),
        );
        let p = plan_with_events("g", "prod", Some(&f), &[a, b], None, &s, t0());
        assert_eq!(peak_floor(&p.plan), 60);
        let what = |name: &str| p.decisions.iter().find(|d| d.what.contains(name)).unwrap().what.clone();
        assert!(
            what("sale").contains("floors up to 60 instances")
                && what("sale").contains("(without it: 20, with the other events)"),
            "{}",
            what("sale")
        );
        assert!(what("launch").contains("(without it: 30, with the other events)"), "{}", what("launch"));
        // An event right after another is measured against the plan with that one, by the floors
        // that serve its own window: the other's come down at its end, and this one holds 15
        // where the plan with the other alone goes back to 10 (not the other's 30, in force
        // while this one's instances are raised ahead of it).
        let (a, b) = (
            ev("first", 120, 180, EventEffect::Multiplier { factor: 3.0 }),
            ev("next", 180, 210, EventEffect::Multiplier { factor: 1.5 }),
        );
        let p = plan_with_events("g", "prod", Some(&f), &[a, b], None, &s, t0());
        let what = |name: &str| p.decisions.iter().find(|d| d.what.contains(name)).unwrap().what.clone();
        assert!(
            what("next").contains(
                "floors up to 15 instances from 2026-11-23 03:00 UTC (without it: 10, with the other events)"
            ),
            "{}",
            what("next")
        );
        // A window shorter than a step shapes the step it falls in.
        let e = ev("blip", 121, 122, EventEffect::Multiplier { factor: 2.0 });
        let (shaped, r) = shape(&f, &[e], None, t0());
        assert!(matches!(r[0].outcome, EventOutcome::Applied { steps: 1, .. }), "{:?}", r[0]);
        assert_eq!((shaped.point[23], shaped.point[24], shaped.point[25]), (1000.0, 2000.0, 1000.0));
        // An event under way is planned from now, not from before it.
        let e = ev("now", -30, 60, EventEffect::Multiplier { factor: 3.0 });
        let p = plan_with_events("g", "prod", Some(&f), &[e], None, &s, t0());
        assert!(p.decisions[0].what.contains("from 2026-11-23 00:01 UTC (without it: 10)"), "{:?}", p.decisions[0]);
        // One that starts within the lead time of now is said to have less.
        let e = ev("soon", 5, 60, EventEffect::Multiplier { factor: 3.0 });
        let p = plan_with_events("g", "prod", Some(&f), &[e], None, &s, t0());
        assert!(
            p.decisions[0].why.contains("in place 4 min before its start, not the 10 min lead"),
            "{:?}",
            p.decisions[0]
        );
    }

    proptest! {
        /// An event changes the forecast inside its window only, keeps every interval invariant,
        /// and a factor of at least 1 never plans less capacity than the plan without it, at any
        /// step; with the lead time, the floor is raised ahead of the event's demand.
        #[test]
        fn events_change_only_their_window_and_never_plan_less(
            point in proptest::collection::vec(0.0..5000.0f64, 12..300),
            spread in 0.0..0.5f64,
            from in 0i64..300, len in 1i64..300, factor in 1.0..5.0f64, peak_mode in any::<bool>(),
            lead in 0i64..40,
        ) {
            let n = point.len();
            let iv = Interval {
                level: Level::new(0.8).unwrap(),
                lower: point.iter().map(|p| p * (1.0 - spread)).collect(),
                upper: point.iter().map(|p| p * (1.0 + spread)).collect(),
            };
            let f = Forecast::new("t", t0(), 300, point, vec![iv]).unwrap();
            let (start, end) = (at(5 * from), at(5 * (from + len)));
            let top = f.point[(from as usize).min(n)..((from + len) as usize).min(n)].iter().copied().fold(0.0, f64::max);
            let effect = if peak_mode && top > 0.0 {
                EventEffect::Peak { peak: top * factor }
            } else {
                EventEffect::Multiplier { factor }
            };
            let e = Event::new("g", "e", start, end, effect).unwrap();
            let (shaped, _) = shape(&f, std::slice::from_ref(&e), None, t0());
            for i in 0..n {
                let inside = f.ts(i) >= start && f.ts(i) < end;
                if !inside {
                    prop_assert_eq!(shaped.point[i], f.point[i]);
                    prop_assert_eq!(shaped.intervals[0].upper[i], f.intervals[0].upper[i]);
                } else {
                    prop_assert!(shaped.point[i] >= f.point[i] - 1e-9);
                }
                let iv = &shaped.intervals[0];
                prop_assert!(iv.lower[i] <= shaped.point[i] && shaped.point[i] <= iv.upper[i]);
            }
            let s = PlanSettings {
                bounds: CapacityBounds::new(1, 100).unwrap(),
                capacity_per_instance: 100.0,
                lead_time: Duration::minutes(lead),
                ..PlanSettings::default()
            };
            let p = plan_with_events("g", "prod", Some(&f), &[e], None, &s, t0());
            for (a, b) in p.baseline.required.iter().zip(&p.plan.required) {
                prop_assert!(b >= a);
            }
            // The floor in force lead time before each step covers that step's shaped need.
            let first = p.plan.scheduled_actions[0].start_time;
            for (i, r) in p.plan.required.iter().enumerate() {
                let by = (f.ts(i) - s.lead()).max(first);
                prop_assert!(floor_at(&p.plan, by) >= *r, "step {} needs {}", i, r);
            }
        }
    }
}
