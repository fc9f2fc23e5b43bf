//! `forecast fit` and `forecast show`: the groups' forecasts, and ad-hoc ones for a file.

use super::*;

/// One fitted series.
#[derive(Debug, Serialize)]
pub struct Fit {
    pub id: MetricId,
    pub model: String,
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub forecast: Forecast,
}

/// The levels to forecast: the configured ones plus the interval whose upper bound is each
/// environment's planning quantile, so the planner never extrapolates a tail.
pub(crate) fn fit_levels(c: &Config) -> Vec<Level> {
    let mut levels = c.levels();
    for g in &c.groups {
        let q = g.quantile.unwrap_or_else(|| c.environments.get(&g.environment).map_or(0.9, |e| e.quantile));
        if let Ok(l) = Level::new(2.0 * q - 1.0)
            && !levels.iter().any(|x| (x.value() - l.value()).abs() < 1e-9)
        {
            levels.push(l);
        }
    }
    levels
}

/// How a file's series is forecast: the configuration's holidays, transform and weekends (the
/// defaults without one), no bounds; in the zone of `--time-zone` (UTC without it, a file belonging
/// to no group), on its clock with `--daily-clock local`. `holidays` are added to the
/// configuration's; `weekends` overrides its `[forecast] weekends`.
pub(crate) fn file_options(
    c: Option<&Config>,
    zone: &ZoneArgs,
    holidays: &[chrono::NaiveDate],
    weekends: Option<bool>,
    now: DateTime<Utc>,
) -> Result<BuildOptions> {
    let tz = zone.zone()?;
    let mut days = holidays.to_vec();
    if let Some(c) = c {
        days.extend(c.forecast.holiday_dates()?);
    }
    let zoned = crate::config::zone_options(
        tz,
        weekends.unwrap_or(c.is_none_or(|c| c.forecast.weekends)),
        zone.daily_clock.unwrap_or_default(),
    );
    Ok(BuildOptions {
        flags: forecast_flags(&days, tz, &[], now),
        weekends: zoned.weekends,
        clock: zoned.clock,
        ..c.map(generated_options).unwrap_or_default()
    })
}

/// How a generated series (a load test's) is forecast under a configuration: as a file's, without
/// holidays (its days are no calendar's).
pub(crate) fn generated_options(c: &Config) -> BuildOptions {
    BuildOptions {
        transform: c.forecast.transform,
        ..crate::config::zone_options(None, c.forecast.weekends, crate::config::DailyClock::Utc)
    }
}

/// Holidays (whole local days in `tz`, UTC when `None`) and the windows of past events, as the
/// models' flags. Events are cut at `now`: in the history they let a model tell their load from
/// ordinary load; ahead, the planner applies them to the forecast (a flag there would count them
/// twice).
pub(crate) fn forecast_flags(
    holidays: &[chrono::NaiveDate],
    tz: Option<chrono_tz::Tz>,
    events: &[&Event],
    now: DateTime<Utc>,
) -> Option<Arc<Flags>> {
    use chrono::TimeZone as _;
    let midnight = |d: chrono::NaiveDate| -> Option<i64> {
        let local = d.and_hms_opt(0, 0, 0)?;
        let at = |l: chrono::NaiveDateTime| match tz {
            Some(z) => z.from_local_datetime(&l).earliest().map(|t| t.timestamp()),
            None => Some(l.and_utc().timestamp()),
        };
        // A zone that skips midnight (a DST change at 00:00) starts the day an hour later.
        at(local).or_else(|| at(local + Duration::hours(1)))
    };
    let days: Vec<(i64, i64)> =
        holidays.iter().filter_map(|d| Some((midnight(*d)?, midnight(d.succ_opt()?)?))).collect();
    let past: Vec<(i64, i64)> = events
        .iter()
        .filter(|e| e.start() < now)
        .map(|e| (e.start().timestamp(), e.end().min(now).timestamp()))
        .collect();
    let flags = Flags::new(days, past);
    (!flags.is_empty()).then(|| Arc::new(flags))
}

/// A series' forecast, with its warnings and the backtest scores its model was chosen or blended
/// by (one line each, for `-v`).
pub(crate) struct SeriesFit {
    pub forecast: Forecast,
    pub warnings: Vec<String>,
    pub scores: Vec<String>,
}

pub(crate) fn fit_series(
    model: &ModelSpec,
    history: &Series,
    horizon: usize,
    levels: &[Level],
    options: &BuildOptions,
    counts: bool,
) -> Result<SeriesFit> {
    // A few negatives in a series otherwise at zero or above are read as --min 0 would.
    let repaired = prescale_forecast::rare_negatives(history, &options.bounds);
    let (history, options) = match &repaired {
        Some((read, bounds, _)) => (read, &BuildOptions { bounds: *bounds, ..options.clone() }),
        None => (history, options),
    };
    let fitted = model.build_with(options).fit(history)?;
    let f = fitted.predict(horizon, levels)?;
    let scores = fitted
        .scores()
        .iter()
        .map(|sc| {
            format!("backtest {}: MASE {:.3} over {} origins, weight {:.2}", sc.model, sc.mase, sc.origins, sc.weight)
        })
        .collect();
    // What the values themselves say, in the metric's units (a transform's are not).
    let mut warnings: Vec<String> = repaired.as_ref().map(|(_, _, w)| w.clone()).into_iter().collect();
    warnings.extend(prescale_forecast::many_negatives(history, &options.bounds));
    warnings.extend(prescale_forecast::history_warnings(history));
    warnings.extend(fitted.warnings());
    if !counts {
        warnings.extend(percent_hint(history, &f, &options.bounds));
    }
    Ok(SeriesFit { forecast: f, warnings, scores })
}

/// A forecast without a maximum whose intervals pass 100 on a history that never left 0–100 and
/// reached past half of it (a CPU percentage, most likely), or pass 1 on a history of fractions
/// that never left 0–1 and reached past a half (a CPU share, a ratio): said, with how to clip it.
/// Never assumed: a count may be small too (a fraction is told from small counts by its values
/// that are no whole numbers).
fn percent_hint(history: &Series, f: &Forecast, bounds: &Bounds) -> Option<String> {
    if bounds.max.is_some() {
        return None;
    }
    let finite = || history.values().iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let reach = f.intervals.iter().flat_map(|iv| iv.upper.iter().copied()).fold(f64::NEG_INFINITY, f64::max);
    if lo >= 0.0 && hi <= 1.0 && hi > 0.5 && reach > 1.0 && finite().any(|v| v.fract() != 0.0) {
        return Some(format!(
            "the intervals reach {reach:.2}, above 1, on a history of fractions that never left 0–{hi:.2}: if the \
             metric is a share of 1 (CPU as a fraction, a ratio), say so (--max 1, or max = 1 in its \
             [[groups.metrics]]) and they are clipped there"
        ));
    }
    (lo >= 0.0 && hi <= 100.0 && hi > 50.0 && reach > 100.0).then(|| {
        format!(
            "the intervals reach {reach:.1}, above 100, on a history that never left 0–{hi:.1}: if the metric is a \
             percentage (CPU), say so (--max 100, or max = 100 in its [[groups.metrics]]) and they are clipped there"
        )
    })
}

/// Fits and stores a forecast for every metric of the selected groups. A series that cannot be
/// read or fitted is warned about and counted: the second value is the series that got no forecast.
/// A series of `reported` (the run's ingest could not store them, and said why) that is not in
/// the store is counted without a warning of its own.
pub fn fit(ctx: &Ctx, f: &GroupFilter, reported: &[MetricId]) -> Result<(Vec<Fit>, Vec<MetricId>)> {
    let c = &ctx.config;
    let store = MetricStore::open(&ctx.store_dir)?;
    let table = ForecastTable::new(&ctx.store_dir);
    let levels = fit_levels(c);
    let holidays = c.forecast.holiday_dates()?;
    if !holidays.is_empty() && !c.forecast.model.uses_flags() {
        warn!(
            "[forecast] holidays: {} dates, ignored by the seasonal-naive model; every other model learns \
             their effect (a known event ahead is planned with `prescale event add`)",
            holidays.len()
        );
    }
    // Events only sharpen the ridge model's view of the history: a store that cannot be read
    // costs them, not the forecast.
    let events = EventStore::new(&ctx.store_dir).load().unwrap_or_else(|e| {
        warn!("events not used as forecast features: {e}");
        Vec::new()
    });
    let groups = selected(ctx, f)?;
    // What each group's series are fitted with; the series, one item each for the threads.
    let mut setups = Vec::new();
    let mut items = Vec::new();
    for (k, g) in groups.iter().enumerate() {
        let tz = g.time_zone.as_deref().map(crate::config::parse_time_zone).transpose()?;
        let mine: Vec<&Event> = events.iter().filter(|e| e.group() == g.name).collect();
        let flags = forecast_flags(&holidays, tz, &mine, ctx.now);
        setups.push(GroupSetup { group: g, tz, events: mine, flags });
        let (mine, left): (Vec<MetricId>, Vec<MetricId>) =
            Config::series_ids(g).into_iter().partition(|id| ctx.config.fits(g, id));
        if !left.is_empty() {
            info!(
                "{}: not fitted ([forecast] fit_metrics = \"plan\": only the load the plan reads)",
                series_named(&left)
            );
        }
        items.extend(mine.into_iter().map(|id| (k, id)));
    }
    let shared = Fitting { ctx, store: &store, table: &table, reported, levels: &levels };
    let mut out = Vec::new();
    let mut failed = Vec::new();
    let mut progress = Progress::new("fitting", items.len());
    // Reading and fitting run on the threads; what they found is said, and the forecasts stored,
    // here in the series' order, so a run says the same whatever its threads.
    let work = |_: usize, (k, id): &(usize, MetricId)| fit_stored(&shared, &setups[*k], id);
    prescale_core::par::in_order(&items, ctx.threads, work, |i, done: SeriesOutcome| {
        let id = &items[i].1;
        progress.step(id);
        for note in &done.notes {
            match note {
                Note::Info(m) => info!("{id}: {m}"),
                Note::Warn(m) => warn!("{id}: {m}"),
            }
        }
        let Some(SeriesFit { forecast, warnings, .. }) = done.fit else {
            failed.push(id.clone());
            return;
        };
        // A forecast that cannot be stored (a folder made read-only, a full disk) costs its
        // series alone: the plan reads what the store held before, and the run counts it as
        // failed.
        if let Err(e) = table.write(id, &forecast, ctx.now) {
            let then = "until then the plan uses the forecast stored before, if any";
            let hint = super::ingest::full_disk_then(&e, then).unwrap_or_else(|| {
                "\nhint: the plan uses the forecast stored before, if any; make the store's forecasts folder \
                 writable for this user"
                    .to_string()
            });
            warn!("{id}: no forecast stored: {}{hint}", explain(&anyhow::Error::from(e)).replace('\n', " "));
            failed.push(id.clone());
            return;
        }
        out.push(Fit { id: id.clone(), model: forecast.model.clone(), warnings, forecast });
    });
    Ok((out, failed))
}

/// What one stored series' reading and fitting found, said in order by [`fit`]'s caller thread.
struct SeriesOutcome {
    /// Said before anything else of the series, with its id.
    notes: Vec<Note>,
    /// The forecast to store; `None`: the series got none (its notes say why).
    fit: Option<SeriesFit>,
}

enum Note {
    Info(String),
    Warn(String),
}

/// What every series of a [`fit`] run is read and fitted with.
struct Fitting<'a> {
    ctx: &'a Ctx,
    store: &'a MetricStore,
    table: &'a ForecastTable,
    /// Series the run's ingest could not store, and said why.
    reported: &'a [MetricId],
    levels: &'a [Level],
}

/// What a group's series are fitted with.
struct GroupSetup<'a> {
    group: &'a crate::config::GroupConfig,
    tz: Option<chrono_tz::Tz>,
    /// The group's stored events.
    events: Vec<&'a Event>,
    flags: Option<Arc<Flags>>,
}

/// Reads a group's stored series and fits it (on a thread of [`fit`]'s): nothing is written.
fn fit_stored(run: &Fitting<'_>, setup: &GroupSetup<'_>, id: &MetricId) -> SeriesOutcome {
    let Fitting { ctx, store, table, reported, levels } = *run;
    let g = setup.group;
    let c = &ctx.config;
    let mut notes = Vec::new();
    let none = |notes| SeriesOutcome { notes, fit: None };
    let series = match store.read(id) {
        Ok(s) => s,
        Err(e @ prescale_store::StoreError::NotFound { .. }) => {
            notes.push(if reported.contains(id) {
                Note::Info("no forecast: not stored (its ingest warning above says why)".into())
            } else {
                Note::Warn(format!("no forecast: {e}"))
            });
            return none(notes);
        }
        Err(e) => {
            // Errors that carry their own hint (another schema, another series) say it.
            let hint = super::ingest::damaged_hint(c, g, &e).unwrap_or_default();
            notes.push(Note::Warn(format!("no forecast: {}{hint}", explain(&anyhow::Error::from(e)))));
            return none(notes);
        }
    };
    let history = fit_history(&series, c, ctx.now);
    // The load under the group's events so far is theirs: a weekly model would replay a launch a
    // week later, and one under way would be shaped by its event twice.
    let history = if *id == Config::load_id(g) {
        let (h, replaced) = without_events(history, &setup.events, ctx.now);
        if replaced > 0 {
            notes.push(Note::Info(format!(
                "{replaced} slots under its events so far learnt as the same hours of the week (or day) before: the \
                 event's load is not the series' own"
            )));
        }
        h
    } else {
        history
    };
    // From the newest slot's stamp, as ingest and plan judge it.
    let age = ctx.now - history.ts(history.len().saturating_sub(1));
    if age > Duration::minutes(c.trust.max_data_age_mins) {
        notes.push(Note::Warn(format!(
            "its newest data is from {}, {:.1} h before now: the forecast starts after it, in the past (is ingest \
             running? `prescale plan` leaves such a group's floors as they are until its data is fresh again)",
            history.ts(history.len().saturating_sub(1)).format("%Y-%m-%d %H:%M UTC"),
            age.num_minutes() as f64 / 60.0
        )));
    }
    // A run at an earlier --now (a dry run to look at yesterday) does not replace today's
    // forecast (fitted within two days of the clock): the next plan would take the day-old one
    // for it. A run on the clock replaces any; a replay of older data, its own.
    if !ctx.clock
        && let Ok((_, issued)) = table.read(id)
        && issued > ctx.now
        && issued > Utc::now() - Duration::days(2)
    {
        notes.push(Note::Warn(format!(
            "no forecast stored: the store holds one fitted at {}, after --now ({}), kept rather than replaced by one \
             from an earlier time\nhint: a run at another --now (a replay, a look at the past) takes its own --store",
            issued.format("%Y-%m-%d %H:%M UTC"),
            ctx.now.format("%Y-%m-%d %H:%M UTC")
        )));
        return none(notes);
    }
    let step = history.step_secs();
    let horizon = ((c.forecast.horizon_hours * 3600 + step - 1) / step) as usize;
    let options = c.build_options(g, &id.metric, setup.flags.clone(), setup.tz);
    match fit_series(&c.forecast.model, &history, horizon, levels, &options, c.counts(g, &id.metric)) {
        Ok(fit) => {
            notes.extend(fit.scores.iter().map(|l| Note::Info(l.clone())));
            notes.extend(fit.warnings.iter().map(|w| Note::Warn(w.clone())));
            SeriesOutcome { notes, fit: Some(fit) }
        }
        Err(e) => {
            notes.push(Note::Warn(format!("no forecast: {}", explain(&e))));
            none(notes)
        }
    }
}

/// Whether a progress line stands on the terminal (one loop shows one at a time).
static PROGRESS_SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether progress stays out of a log (`nightly --quiet`: a cron job's mail holds stderr).
static PROGRESS_QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Progress through a long loop on stderr: a line rewritten in place on a terminal; in a log (no
/// terminal) a line every half minute or more, unless [`Progress::quiet`], and an `info` line per
/// step (`-v`). Every log line wipes the terminal's first ([`Progress::wipe`], called by the log's
/// writer), so warnings from anywhere stay clean, and so does the end of the loop.
pub(crate) struct Progress {
    what: &'static str,
    total: usize,
    done: usize,
    started: std::time::Instant,
    /// When a line last went to a log at the default level.
    said: std::time::Instant,
    tty: bool,
}

/// How often a log gets a progress line without `-v`.
pub(crate) const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

impl Progress {
    pub(crate) fn new(what: &'static str, total: usize) -> Self {
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let now = std::time::Instant::now();
        Self { what, total, done: 0, started: now, said: now, tty }
    }

    /// Keeps progress out of a log from now on (a terminal still shows its line).
    pub(crate) fn quiet() {
        PROGRESS_QUIET.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn step(&mut self, item: &dyn std::fmt::Display) {
        self.done += 1;
        // What is left at the pace so far: said once a tenth is done (the first items are no
        // guide; a fleet's series take alike long).
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = (self.done * 10 >= self.total && self.done < self.total)
            .then(|| elapsed / self.done as f64 * (self.total - self.done) as f64)
            .map_or(String::new(), |left| match left {
                l if l >= 90.0 => format!(", about {:.0} min left", l / 60.0),
                l => format!(", about {l:.0} s left"),
            });
        let line = format!("{} {}/{} {item} ({elapsed:.0} s so far{left})", self.what, self.done, self.total);
        if self.tty {
            // Cursor back to the start, so that a wipe clears it before a warning.
            let _ = write!(std::io::stderr(), "\x1b[2K{line}\r");
            PROGRESS_SHOWN.store(true, std::sync::atomic::Ordering::SeqCst);
        } else if self.said.elapsed() >= LOG_EVERY && !PROGRESS_QUIET.load(std::sync::atomic::Ordering::SeqCst) {
            // A long run in a log (a fleet's fits take minutes) shows it is alive.
            self.said = std::time::Instant::now();
            say!("{line}");
        } else {
            info!("{line}");
        }
    }

    /// Wipes the progress line from the terminal, if one stands there: before any log line, a
    /// message of the signal handler, and at the end of the loop.
    pub(crate) fn wipe() {
        if PROGRESS_SHOWN.swap(false, std::sync::atomic::Ordering::SeqCst) {
            let _ = write!(std::io::stderr(), "\x1b[2K");
        }
    }
}

/// The end of the loop, early (an error) or not, leaves no line behind.
impl Drop for Progress {
    fn drop(&mut self) {
        Self::wipe();
    }
}

/// Parses a horizon such as `48h`, `2d`, `90m`, `1w`, `3600s`, `1.5h` or `2d12h` (parts added up);
/// a bare number is hours.
pub fn parse_horizon(s: &str) -> Result<Duration> {
    let s = s.trim();
    let usage = || format!("horizon {s:?}: expected a number and a unit (s, m, h, d or w), e.g. 48h, 1.5h or 2d12h");
    if s.starts_with('-') {
        bail!("horizon {s:?} must be a positive duration such as 48h, 2d or 90m");
    }
    if s.is_empty() {
        bail!("{}", usage());
    }
    let mut rest = s;
    let mut secs = 0.0f64;
    while !rest.is_empty() {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (num, after) = rest.split_at(end);
        let n: f64 = num.parse().ok().filter(|n: &f64| n.is_finite()).with_context(usage)?;
        let unit_end = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let per = match unit {
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            // A bare number is hours; only as the whole horizon, not as a part of one.
            "" if rest.len() == s.len() => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "" => bail!("{}", usage()),
            other => bail!("horizon {s:?}: unknown unit {other:?} (use s, m, h, d or w)"),
        };
        secs += n * per;
        rest = next;
    }
    if secs > 3650.0 * 86_400.0 {
        bail!("horizon {s:?} is longer than ten years");
    }
    let d = Duration::milliseconds((secs * 1000.0).round() as i64);
    if d < Duration::seconds(1) {
        bail!("horizon {s:?} must be one second or more");
    }
    Ok(d)
}

/// The stored load a fit reads at `now`: its last `[forecast] train_days`, at the step the fits
/// take (`[forecast] min_step_mins`).
pub(crate) fn fit_history(series: &Series, c: &Config, now: DateTime<Utc>) -> Series {
    series.window(now - Duration::days(c.forecast.train_days), now).coarsen(c.forecast.min_step_mins * 60)
}

/// The slots of `history` under `events` before `now`.
pub(crate) fn slots_under_events(history: &Series, events: &[&Event], now: DateTime<Utc>) -> Vec<usize> {
    (0..history.len())
        .filter(|i| {
            let t = history.ts(*i);
            events.iter().any(|e| e.start() <= t && t < e.end() && t < now)
        })
        .collect()
}

/// Whether `covered` of `len` slots under events are too many to learn as the week before's
/// ([`without_events`]): over a quarter.
pub(crate) fn over_a_quarter(covered: usize, len: usize) -> bool {
    4 * covered > len
}

/// `history` with the slots under `events` up to `now` replaced by the same slot a week before
/// (else a day before) where that is measured and under no event, and how many were replaced. An
/// event's load is what the event made (a launch, a sale): learnt as the series' own, a weekly
/// model repeats it a week later, and one under way is shaped by its event again. Left as it is
/// where the events cover over a quarter of the history (there is too little of the series' own).
pub(crate) fn without_events(history: Series, events: &[&Event], now: DateTime<Utc>) -> (Series, usize) {
    let under = |i: usize| {
        let t = history.ts(i);
        events.iter().any(|e| e.start() <= t && t < e.end() && t < now)
    };
    let covered = slots_under_events(&history, events, now);
    if covered.is_empty() || over_a_quarter(covered.len(), history.len()) {
        return (history, 0);
    }
    let day = usize::try_from(86_400 / history.step_secs().max(1)).unwrap_or(usize::MAX).max(1);
    let v = history.values();
    let mut out = v.to_vec();
    let mut replaced = 0;
    for &i in &covered {
        let from =
            [7 * day, day].into_iter().filter_map(|back| i.checked_sub(back)).find(|j| v[*j].is_finite() && !under(*j));
        if let Some(j) = from {
            out[i] = v[j];
            replaced += 1;
        }
    }
    match Series::new(history.start(), history.step_secs(), out) {
        Ok(s) => (s, replaced),
        Err(_) => (history, 0),
    }
}

/// The spacings, in seconds, of raw samples' distinct timestamps, smallest first.
pub(crate) fn spacings(raw: &[RawSample]) -> Vec<i64> {
    let mut ts: Vec<i64> = raw.iter().map(|s| s.ts.timestamp()).collect();
    ts.sort_unstable();
    ts.dedup();
    let mut d: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    d.sort_unstable();
    d
}

/// The grid step of raw samples: the median spacing of their distinct timestamps (missing samples
/// lengthen only the spacings they sit in), taken to the nearest whole minute when it lies within
/// 5 % of one, so stamps a few seconds off a 5-minute grid are on that grid while a 90-second
/// step stays 90 seconds.
pub(crate) fn infer_step(raw: &[RawSample]) -> Option<i64> {
    let d = spacings(raw);
    let median = *d.get(d.len() / 2)?;
    let minute = (median + 30) / 60 * 60;
    let step = if minute > 0 && (median - minute).abs() * 20 <= minute { minute } else { median };
    Some(step).filter(|s| *s > 0)
}

/// A stretch of the file at a coarser step than `step` (its own): the longest run of successive
/// stamps a same multiple `k ≥ 2` of `step` apart, when it spans at least six hours and six
/// intervals (an export whose older part CloudWatch keeps at 5 minutes and newer part at 1).
/// Scattered missing samples and single long gaps make no such run. Returns `(k, intervals, first, last)`.
fn coarser_stretch(raw: &[RawSample], step: i64) -> Option<(i64, usize, DateTime<Utc>, DateTime<Utc>)> {
    let mut ts: Vec<i64> = raw.iter().filter(|s| s.value.is_finite()).map(|s| s.ts.timestamp()).collect();
    ts.sort_unstable();
    ts.dedup();
    // (k, intervals, first, last) of the run going on and of the longest so far.
    let mut run: Option<(i64, usize, i64, i64)> = None;
    let mut best: Option<(i64, usize, i64, i64)> = None;
    for w in ts.windows(2) {
        let d = w[1] - w[0];
        let k = (d >= 2 * step && d % step == 0).then_some(d / step);
        run = match (k, run) {
            (Some(k), Some((rk, n, first, _))) if rk == k => Some((k, n + 1, first, w[1])),
            (Some(k), _) => Some((k, 1, w[0], w[1])),
            (None, _) => None,
        };
        if let Some(r) = run
            && best.is_none_or(|b| r.3 - r.2 > b.3 - b.2)
        {
            best = Some(r);
        }
    }
    // Six intervals at the least: one long gap (a day missing, a stray old row) is a gap, not a step.
    let (k, n, first, last) = best.filter(|b| b.1 >= 6 && b.3 - b.2 >= 6 * 3600)?;
    Some((k, n, DateTime::from_timestamp(first, 0)?, DateTime::from_timestamp(last, 0)?))
}

/// A CSV or Parquet file of `ts,value` read onto its own grid ([`infer_step`]) under ingest's
/// grid policy (the configuration's `[ingest] grid`, or the default without one), repairing what it
/// must and saying so; with the repairs it made, as warned (`7 slots interpolated`, …), for
/// reports that carry them.
pub(crate) fn read_input_repaired(
    path: &Path,
    config: Option<&Config>,
    zone: Option<chrono_tz::Tz>,
) -> Result<(Series, Vec<String>)> {
    read_input_as_of(path, config, zone, None, false)
}

/// [`read_input_repaired`], keeping only the rows stamped before `now` (`--now` given as the text after
/// the flag): the file as it stood then, so that no later row fills or shapes its end. With
/// `keep_phase`, stamps that all lie one offset off the epoch's grid (hourly at :30) keep their
/// phase, so that a forecast's rows follow the file's (`forecast show`; a replay keeps the grid,
/// whose midnights its nightly plans run at).
pub(crate) fn read_input_as_of(
    path: &Path,
    config: Option<&Config>,
    zone: Option<chrono_tz::Tz>,
    now: Option<&str>,
    keep_phase: bool,
) -> Result<(Series, Vec<String>)> {
    // `-` is standard input, as in most tools (CSV; Parquet through a file or `/dev/stdin`).
    let path = if path == Path::new("-") { Path::new("/dev/stdin") } else { path };
    let default = GridPolicy::default();
    let grid = config.map_or(&default, |c| &c.ingest.grid);
    // The content of a regular file decides, not its name: a Parquet file starts with `PAR1`. (A
    // pipe, `<(…)`, is read once, as its name says.)
    let named_parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let regular = path.metadata().is_ok_and(|m| m.is_file());
    let content = prescale_store::file_content(path);
    let starts_par1 = content == prescale_store::FileContent::Parquet;
    // A compressed export is neither: said, with what to do, rather than a UTF-8 error.
    if content == prescale_store::FileContent::Gzip {
        bail!(
            "{}\nhint: or read it through a pipe (`--input <(gunzip -c {})`)",
            prescale_store::gzip_error(path),
            path.display()
        );
    }
    if regular && named_parquet && !starts_par1 {
        warn!("{}: named .parquet but not a Parquet file (no PAR1 at its start): read as CSV", path.display());
    } else if !named_parquet && starts_par1 {
        warn!("{}: a Parquet file under another name: read as Parquet", path.display());
    }
    let mut raw = if starts_par1 || (named_parquet && !regular) {
        prescale_store::read_parquet_samples_in(path, zone)?
    } else {
        prescale_store::read_csv_samples_in(path, zone)?
    };
    if let Some(text) = now {
        raw = as_of(raw, text, path)?;
    }
    // Samples a few milliseconds apart would be averaged into whole seconds without a word.
    let mut ms: Vec<i64> = raw.iter().map(|s| s.ts.timestamp_millis()).collect();
    ms.sort_unstable();
    ms.dedup();
    let mut gaps: Vec<i64> = ms.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    if let Some(&median) = gaps.get(gaps.len() / 2).filter(|m| **m < 500) {
        bail!(
            "{}: its samples lie {median} ms apart (the median spacing): prescale's steps are whole seconds\nhint: \
             aggregate the file to a step of a second or more first",
            path.display()
        );
    }
    let step = infer_step(&raw).with_context(|| {
        format!(
            "{}: {}; nothing to forecast from\nhint: a forecast needs rows over at least two days (two weeks for the \
             weekly cycle), one per sample",
            path.display(),
            match (raw.is_empty(), now) {
                (true, _) => "no rows below its header".to_string(),
                (false, None) => "one timestamp in all its rows".into(),
                (false, Some(t)) => format!("one timestamp in its rows before --now {t}"),
            }
        )
    })?;
    // A week, a month or a year per value: the models' cycles are the day and the week, their
    // windows days long (14 days of training hold two yearly values), and a forecast from it
    // would be a guess with a model's name on it.
    if step > 86_400 {
        let days = step as f64 / 86_400.0;
        bail!(
            "{}: its samples lie {} days apart (the median spacing): prescale forecasts load at a step of a day or \
             less, whose daily and weekly cycles its models learn from days to weeks of history\nhint: give the \
             metric at its own step (CloudWatch keeps 1-minute data for 15 days, 5-minute for 63, hourly for 455)",
            path.display(),
            if step % 86_400 == 0 { format!("{days:.0}") } else { format!("{days:.1}") }
        );
    }
    if let Some((k, n, first, last)) = coarser_stretch(&raw, step) {
        warn!(
            "{}: {n} of its samples between {} and {} are {} s apart where the file's step is {step} s: the slots \
             between them are filled as gaps are; if the values are counts per step (a Sum), those are {k}× the \
             others\nhint: give the file at one step (e.g. the coarser one, its finer rows gathered)",
            path.display(),
            first.format("%Y-%m-%d %H:%M UTC"),
            last.format("%Y-%m-%d %H:%M UTC"),
            k * step
        );
    }
    // Longer gaps than the policy fills stay missing: each command then says what it does with them.
    let (series, report) = regularize(&raw, step, grid).map_err(|e| match e {
        prescale_core::CoreError::Empty if raw.iter().all(|r| !r.value.is_finite()) => anyhow::anyhow!(
            "{}: none of its {} rows holds a number (every value is empty, NaN or infinite): there is nothing to \
             forecast\nhint: check that the value column is the metric's (a file of a metric with no data has only \
             empty values)",
            path.display(),
            crate::output::count(raw.len() as u64)
        ),
        e => anyhow::Error::new(e).context(path.display().to_string()),
    })?;
    // Stamps that all lie the same offset off the epoch's grid (hourly at :30) keep their phase:
    // the forecast's rows then follow the file's, not the grid's half a step later.
    let first_finite = raw.iter().filter(|s| s.value.is_finite()).map(|s| s.ts).min();
    let grid_start = series.start();
    let (series, kept_phase) = match (report.offset_ms, first_finite) {
        (Some(_), Some(first)) if keep_phase && (first - series.start()).num_seconds().abs() < step => {
            (Series::new(first, step, series.values().to_vec())?, true)
        }
        _ => (series, false),
    };
    // Rows at the end without a value (NaN, empty, inf): the series ends at its last value, and
    // the forecast starts after it, before the file's last row. Said, not filled: how long the
    // source has been silent is the user's to judge, and a stray row a year on must not become
    // a year of invented load. A row counts where its stamp lands on the grid (the nearest slot),
    // and is named by its own stamp, as in the file.
    let last_row = raw.iter().map(|s| s.ts).max();
    let last_value = raw.iter().filter(|s| s.value.is_finite()).map(|s| s.ts).max();
    if let (Some(last), Some(valued)) = (last_row, last_value)
        && last > valued
        && ((last - series.start()).num_milliseconds() as f64 / (step * 1000) as f64).round() >= series.len() as f64
    {
        let rows = raw.iter().filter(|s| s.ts > valued).count();
        warn!(
            "{}: {} after its last value ({}) {} no value (up to {}): the series ends there, and a forecast from it at \
             the file's step starts at {}",
            path.display(),
            if rows == 1 { "the row".to_string() } else { format!("the {rows} rows") },
            valued.format("%Y-%m-%dT%H:%M:%SZ"),
            if rows == 1 { "has" } else { "have" },
            last.format("%Y-%m-%dT%H:%M:%SZ"),
            series.end().format("%Y-%m-%dT%H:%M:%SZ"),
        );
    }
    // Where the longest gap is, to look at in the file.
    let longest = series
        .gaps()
        .into_iter()
        .max_by_key(|gap| (gap.len(), std::cmp::Reverse(gap.start)))
        .map(|gap| {
            format!(
                "; the longest {} from {}",
                prescale_forecast::duration_text((gap.len() as i64 * step) as f64),
                series.ts(gap.start).format("%Y-%m-%d %H:%M UTC")
            )
        })
        .unwrap_or_default();
    let missing = format!(
        "missing (gaps over {} s, [ingest] grid.max_interpolate_secs: a forecast fills them, from the same time \
         the day before where over {} h, and a replay holds the value before them{longest})",
        grid.max_interpolate_secs,
        prescale_forecast::SEASONAL_FILL_HOURS
    );
    let r = &report;
    // Regular stamps a fixed offset past the grid (a clock at :02, :07, …) are one repair, said once.
    let (snapped_noun, snapped) = match r.offset_ms {
        // Stamps go to the nearest slot: past its middle, to the next one.
        Some(ms) if 2 * ms >= step * 1000 => (
            Some("stamp"),
            format!(
                "snapped (every one {} s before a slot, moved forward onto it)",
                (step * 1000 - ms) as f64 / 1000.0
            ),
        ),
        Some(ms) => {
            (Some("stamp"), format!("snapped (every one {} s past a slot, moved back onto it)", ms as f64 / 1000.0))
        }
        None => (None, "off the grid snapped to it".to_string()),
    };
    let conflicting = format!(
        "whose duplicates disagreed by more than half (two series in one file?{})",
        // At the file's own stamp where the series keeps the file's phase (a slot of the grid is
        // a stamp of the file moved onto it).
        r.first_conflict
            .map(|t| format!(" the first at {}", (t + (series.start() - grid_start)).format("%Y-%m-%d %H:%M:%S UTC")))
            .unwrap_or_default()
    );
    // (count, what is counted where a noun says it, what was done).
    let repairs: Vec<String> = [
        (if kept_phase { 0 } else { r.snapped }, snapped_noun, snapped.as_str()),
        (r.duplicates, Some("duplicate"), "averaged"),
        (r.conflicting, Some("slot"), conflicting.as_str()),
        (r.non_finite, None, "missing or non-finite (NaN, N/A, inf) dropped"),
        (r.out_of_order, None, "out of order sorted"),
        (r.interpolated, Some("slot"), "interpolated"),
        (r.missing, Some("slot"), missing.as_str()),
    ]
    .iter()
    .filter(|(count, ..)| *count > 0)
    .map(|(count, noun, what)| match noun {
        Some(noun) => format!("{} {what}", crate::output::counted(*count, noun)),
        None => format!("{count} {what}"),
    })
    .collect();
    if !repairs.is_empty() {
        // Many rows sharing a slot: the stamps follow no one step (97 s and 60 s in turn), and
        // the grid of the median spacing averages a share of them away.
        // Rows that repeat another's stamp exactly (`ms`: the distinct stamps): two series in one
        // file (two hosts, two metrics) rather than a clock off its step.
        let repeated = raw.len() - ms.len();
        let hint = if r.duplicates * 20 > raw.len() && repeated * 2 >= r.duplicates {
            format!(
                "\nhint: {repeated} of the {} rows repeat the stamp of another row: if the file holds two or more \
                 series (hosts, metrics), their average is forecast; split the file, one series each (or their sum \
                 per stamp, for a fleet's load)",
                raw.len()
            )
        } else if r.offset_ms.is_none() && r.duplicates * 20 > raw.len() {
            format!(
                "\nhint: {} of the {} rows fell into a slot with another and were averaged: the stamps follow no \
                 one step; resample the file to a regular step first (e.g. a mean per minute) to keep them apart",
                r.duplicates,
                raw.len()
            )
        } else {
            String::new()
        };
        warn!("{}: repaired the input onto a {step} s grid: {}{hint}", path.display(), repairs.join(", "));
    }
    Ok((series, repairs))
}

/// The rows of a file known at `--now`: those stamped before it, so that a forecast can be made
/// as it would have been then (the forecast starts after the last of them).
fn as_of(raw: Vec<RawSample>, text: &str, path: &Path) -> Result<Vec<RawSample>> {
    let now = super::parse_now(text)?;
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let (first, last) = match (raw.iter().map(|s| s.ts).min(), raw.iter().map(|s| s.ts).max()) {
        (Some(a), Some(b)) => (a, b),
        _ => return Ok(raw),
    };
    if now <= first {
        bail!(
            "--now {text} is not after the first row of {} ({}): nothing was known then\nhint: give an instant \
             after it (the file's rows run to {}), or leave --now out to forecast from the file's end",
            path.display(),
            fmt(first),
            fmt(last)
        );
    }
    let total = raw.len();
    let step = infer_step(&raw).unwrap_or(0);
    let known: Vec<RawSample> = raw.into_iter().filter(|s| s.ts < now).collect();
    let newest = known.iter().map(|s| s.ts).max().unwrap_or(first);
    if known.len() == total {
        // The row of the last slot before --now is the usual case (a nightly run just after it).
        if (now - last).num_seconds() > 2 * step {
            warn!(
                "{}: --now {text} is {} min after the file's last row ({}): the forecast starts at the file's end, \
                 not at --now, so its first hours are already past",
                path.display(),
                (now - last).num_minutes(),
                fmt(last)
            );
        }
    } else {
        info!(
            "{}: forecasting as of {}: {} of its {total} rows known then, the later ones left out",
            path.display(),
            fmt(now),
            known.len()
        );
    }
    if now - newest > Duration::hours(1) && known.len() < total {
        warn!(
            "{}: the last row before --now {text} is at {} (a gap in the file): the forecast starts after it, as a \
             forecast made then would have",
            path.display(),
            fmt(newest)
        );
    }
    Ok(known)
}

pub(crate) fn show_input(g: &Global, args: &ShowArgs) -> Result<()> {
    let path = args.input.as_deref().unwrap_or(Path::new("-"));
    let config = g.config.as_deref().map(Config::load).transpose()?;
    let (series, mut repairs) =
        read_input_as_of(path, config.as_ref(), args.zone.file_zone()?, g.now.as_deref(), true)?;
    let (series, left_out) = coarsen_input(series, args.min_step_mins, path)?;
    repairs.extend(left_out);
    // Fitted on the training window a group's forecast fits on (`[forecast] train_days`, 28 by
    // default), so that a longer export forecasts as `forecast fit` would: older days would
    // otherwise reach the forecast through what is learnt on the whole file (its weekends).
    let train_days =
        config.as_ref().map_or(crate::config::ForecastConfig::default().train_days, |c| c.forecast.train_days);
    let from = series.end() - Duration::days(train_days);
    let series = if series.start() < from {
        let kept = series.window(from, series.end());
        let said = format!(
            "fitted on its last {train_days} days ([forecast] train_days, as `forecast fit` fits): the {} slots \
             before {} left out",
            series.len() - kept.len(),
            kept.start().format("%Y-%m-%d %H:%M UTC")
        );
        say!("note: {}: {said}", path.display());
        repairs.push(said);
        kept
    } else {
        series
    };
    let step = series.step_secs();
    let text = args.horizon.as_deref().unwrap_or("48h");
    let horizon = parse_horizon(text)?;
    if horizon > Duration::days(14) {
        bail!(
            "--horizon {text} is beyond two weeks: the intervals are calibrated on 48 h backtests and carried out from \
             there, so further out they would mean little\nhint: forecast at most 14d (336h), as [forecast] \
             horizon_hours allows"
        );
    }
    let steps = ((horizon.num_seconds() + step - 1) / step) as usize;
    if horizon.num_seconds() < step {
        warn!("--horizon {text} is shorter than the series' step ({step} s): one step is forecast");
    } else if horizon.num_seconds() % step != 0 {
        let total = steps as i64 * step;
        let reach = match (total % 3600, total % 60) {
            (0, _) => format!("{}h", total / 3600),
            (_, 0) => format!("{}m", total / 60),
            _ => format!("{total}s"),
        };
        warn!(
            "--horizon {text} is not a whole number of the series' {step} s steps: {steps} steps are forecast ({reach})"
        );
    }
    let levels = if args.levels.is_empty() { cli_levels(&[80.0, 95.0])? } else { cli_levels(&args.levels)? };
    let configured = config.as_ref().map(|c| c.forecast.model.clone());
    let model = match args.model.as_deref() {
        Some(name) => model_spec(name, configured.as_ref())?,
        None => configured.unwrap_or_default(),
    };
    let holidays = crate::config::parse_dates(&args.holidays).context("--holidays")?;
    let mut options = file_options(config.as_ref(), &args.zone, &holidays, args.weekends, series.end())?;
    // One series: its candidates' backtests on the threads.
    options.threads = Some(super::threads(g));
    let (days, _) = options.flags.as_ref().map_or((0, 0), |f| f.counts());
    if days > 0 && !model.uses_flags() {
        warn!("{days} holidays ignored by the seasonal-naive model; every other model learns their effect");
    }
    let bounds = Bounds { min: args.min, max: args.max };
    bounds.validate().map_err(|e| anyhow::anyhow!("--min/--max: {e}"))?;
    options.bounds = bounds;
    if let Some(t) = args.transform {
        options.transform = t;
    }

    // A long history fits for seconds: said, so a silent terminal is not taken for a hang, with
    // the faster way the nightly job fits where the step is finer than its.
    let started = std::time::Instant::now();
    let long = series.len() > 20_000;
    if long {
        let faster = if step < 300 && 300 % step == 0 && args.min_step_mins.is_none() {
            " (the nightly job fits on 5-minute means: --min-step-mins 5 does so here, several times faster)"
        } else {
            ""
        };
        say!(
            "fitting {} slots of {step} s ({:.0} days) from {} …{faster}",
            crate::output::count(series.len() as u64),
            series.len() as f64 * step as f64 / 86_400.0,
            path.display()
        );
    }
    let SeriesFit { forecast, warnings, scores } = fit_series(&model, &series, steps, &levels, &options, false)?;
    for line in &scores {
        info!("{line}");
    }
    if long {
        say!("… fitted in {:.1} s", started.elapsed().as_secs_f64());
    }
    for w in &warnings {
        warn!("{}: {w}", path.display());
    }
    beyond_backtests(&forecast, forecast.start);
    // What was forecast, for the JSON document: the file, the history fitted and its repairs.
    let at = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let context = serde_json::json!({
        "input": path.display().to_string(),
        "history": {
            "first": at(series.start()),
            "last": at(series.ts(series.len().saturating_sub(1))),
            "step_secs": series.step_secs(),
            "slots": series.len(),
            "missing": series.values().iter().filter(|v| v.is_nan()).count(),
        },
        "input_repairs": repairs,
        // What the fit said of the data (stderr says it too): a level shift, intervals that are a
        // rough guess, a percentage that passes 100, …
        "warnings": warnings,
        "time_zone": args.zone.zone()?.map(|z| z.name().to_string()),
    });
    let context = context.as_object().cloned().unwrap_or_default();
    output::forecast(&mut crate::output::stdout(), &forecast, &levels, args.format, None, &[], context)
}

/// `--min-step-mins`: the input averaged onto that step where its own is finer, and said.
/// With the repair it made, for `forecast show`'s JSON (`input_repairs`): the file's last values
/// left out where they fill only a part of a slot. A file whose step is under a minute is fitted
/// on whole minutes without it: Auto Scaling acts on minutes, and the fit's robust daily profile costs
/// its window (a quarter of a day in steps) per step, minutes for a week of 10-second readings.
pub(crate) fn coarsen_input(series: Series, mins: Option<i64>, path: &Path) -> Result<(Series, Option<String>)> {
    // The fewest whole minutes that hold whole steps (45 s steps: 3 minutes), where they divide a day.
    let step = series.step_secs();
    let minutes = (step > 0 && step < 60).then(|| step / gcd(step, 60)).filter(|m| 1440 % m == 0);
    let by_default = mins.is_none() && minutes.is_some();
    let Some(m) = mins.or(minutes) else { return Ok((series, None)) };
    if !(1..=1440).contains(&m) || 1440 % m != 0 {
        bail!(
            "--min-step-mins {m} must divide a day (1, 2, 3, 5, 10, 15, 30, 60, …, 1440), as [forecast] min_step_mins"
        );
    }
    let coarse = series.coarsen(m * 60);
    let mut repair = None;
    if coarse.step_secs() != series.step_secs() {
        say!(
            "{}: fitted on {m}-minute means of its {} s steps ({}): {} slots",
            path.display(),
            series.step_secs(),
            if by_default {
                "a step under a minute is fitted on whole minutes, as Auto Scaling acts on them; --min-step-mins sets \
                 a coarser one"
            } else {
                "--min-step-mins"
            },
            crate::output::count(coarse.len() as u64)
        );
        // A last slot the file fills only in part is left out (its mean would be of a part of
        // the slot): the forecast starts with that slot, before the file's last values.
        let left_out = series.window(coarse.end(), series.end());
        let values = left_out.values().iter().filter(|v| v.is_finite()).count();
        if values > 0 {
            let said = format!(
                "its last {} (from {}) fill only a part of the {m}-minute slot from {} and {} left out: the forecast \
                 starts with that slot",
                crate::output::counted(values, "value"),
                left_out.start().format("%Y-%m-%d %H:%M UTC"),
                coarse.end().format("%Y-%m-%d %H:%M UTC"),
                if values == 1 { "is" } else { "are" },
            );
            warn!("{}: {said}", path.display());
            repair = Some(said);
        }
    } else if m * 60 < series.step_secs() {
        warn!("--min-step-mins {m} is finer than the file's own {} s step: fitted at its step", series.step_secs());
    } else if m * 60 > series.step_secs() {
        let step = series.step_secs();
        // The fewest whole minutes that hold whole steps (3 for 90 s), if they divide a day.
        let hint = if 1440 % (step / gcd(step, 60)) == 0 {
            "a multiple of it that divides a day".to_string()
        } else {
            // 7 s readings: no whole number of minutes holds whole steps and divides a day.
            format!(
                "no number of minutes that divides a day holds whole {step} s steps: resample the file to whole \
                 minutes (or to 10, 15, 20 or 30 s) before reading it"
            )
        };
        warn!(
            "--min-step-mins {m} is not a whole number of the file's {step} s steps: fitted at its step\nhint: {hint}"
        );
    }
    Ok((coarse, repair))
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Beyond the engine's backtest horizon (48 h from the forecast's first step, `origin`) its
/// intervals are those of all its backtest errors pooled, no wider further out: said where the
/// rows shown reach past it.
fn beyond_backtests(f: &prescale_core::Forecast, origin: DateTime<Utc>) {
    let hours = prescale_forecast::EngineSettings::default().horizon_hours;
    let reach = origin + Duration::seconds((hours * 3600.0) as i64);
    if f.ts(f.len()) > reach {
        say!(
            "note: the intervals are calibrated on {hours:.0} h backtests; beyond {} they hold the backtests' \
             errors pooled over all {hours:.0} h, no wider further out: read the later days' bounds as a guide",
            reach.format("%Y-%m-%d %H:%M UTC")
        );
    }
}

pub(crate) fn show_group(ctx: &Ctx, args: &ShowArgs) -> Result<()> {
    args.zone.for_input_only(false)?;
    let name = args.group.as_deref().context("give --group NAME (a group of the config) or --input FILE")?;
    let g = selected(ctx, &GroupFilter { groups: vec![name.to_string()] })?[0];
    let id = match &args.metric {
        Some(m) => MetricId::new(name, m),
        None => Config::load_id(g),
    };
    let known = Config::series_ids(g);
    if !known.contains(&id) {
        bail!(
            "group {name} has no metric {:?}\nhint: its metrics are {}",
            args.metric.as_deref().unwrap_or_default(),
            known.iter().map(|k| k.metric.clone()).collect::<Vec<_>>().join(", ")
        );
    }
    // Left out by [forecast] fit_metrics = "plan": a forecast of it is none, or one from before.
    let left_unfitted = !ctx.config.fits(g, &id);
    let (forecast, issued) = ForecastTable::new(&ctx.store_dir).read(&id).map_err(|e| match e {
        prescale_store::StoreError::NotFound { path, .. } if left_unfitted => anyhow::anyhow!(
            "no forecast for {id} (looked for {}): [forecast] fit_metrics = \"plan\" in {} fits only the load the plan \
             reads ({})\nhint: `fit_metrics = \"all\"` fits every metric, or `prescale forecast show --input` a file \
             of it",
            path.display(),
            ctx.config.origin,
            Config::load_id(g).metric
        ),
        prescale_store::StoreError::NotFound { path, .. } => anyhow::anyhow!(
            "no forecast for {id} (looked for {})\nhint: run `prescale forecast fit` (or `prescale nightly`) first",
            path.display()
        ),
        prescale_store::StoreError::Damaged { path, what } => anyhow::anyhow!(
            "cannot read the forecast for {id}: {} is damaged: {what}\nhint: move it aside (`mv {1} {1}.damaged`); \
             `prescale forecast fit --group {2}` (or the next `prescale nightly`) writes it anew",
            path.display(),
            prescale_plan::shell_word(&path.display().to_string()),
            prescale_plan::shell_word(name)
        ),
        e => anyhow::Error::from(e).context(format!("cannot read the forecast for {id}")),
    })?;
    info!("{id}: forecast issued {issued} by {}", forecast.model);
    // From now on, as the plan reads it (a forecast fitted at the nightly run has its first hours
    // behind it in the afternoon, and --horizon counts from now); one that ended or starts after
    // now is shown whole. One the plan would not use (those, or one fitted after now or too long
    // ago) says so.
    let backtested_from = forecast.start;
    if left_unfitted {
        // Fitted before fit_metrics = "plan": no run refits it, and no plan reads it.
        warn!(
            "{id}: a forecast fitted {} and not refitted since: [forecast] fit_metrics = \"plan\" in {} fits only the \
             load the plan reads ({}); `fit_metrics = \"all\"` fits this metric again",
            issued.format("%Y-%m-%d %H:%M UTC"),
            ctx.config.origin,
            Config::load_id(g).metric
        );
    } else if let Some(why) = super::plan::stale_forecast(&forecast, issued, ctx) {
        warn!("{id}: {why}; `prescale plan` leaves the group out, its floors in place");
    }
    let mut forecast = match super::plan::unusable(&forecast, ctx.now) {
        Some(_) => forecast,
        None => {
            let began = forecast.start;
            let cut = super::plan::from_now(forecast, ctx.now).map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
            if cut.start > began {
                say!(
                    "note: from now: the stored forecast began at {} ({} earlier); the rows before now are left out",
                    began.format("%Y-%m-%d %H:%M UTC"),
                    prescale_forecast::duration_text((cut.start - began).num_seconds() as f64)
                );
            }
            cut
        }
    };
    // Cut to --horizon first: the events said below are those within the rows shown.
    if let Some(text) = &args.horizon {
        let step = forecast.step_secs.max(1);
        let asked = parse_horizon(text)?;
        let steps = usize::try_from((asked.num_seconds() + step - 1) / step).unwrap_or(usize::MAX);
        if steps > forecast.len() {
            // horizon_hours goes up to two weeks: beyond, no setting makes such a forecast.
            let raise = if asked > Duration::days(14) {
                "; a stored forecast reaches two weeks at most ([forecast] horizon_hours up to 336)".to_string()
            } else {
                format!(", or raise [forecast] horizon_hours in {} and run `prescale forecast fit`", ctx.config.origin)
            };
            bail!(
                "the stored forecast for {id} covers {} steps of {step} s ({:.0} h), less than --horizon {text}\nhint: \
                 ask for that or less{raise}",
                forecast.len(),
                forecast.len() as f64 * step as f64 / 3600.0,
            );
        }
        forecast.truncate(steps);
    }
    // The stored forecast is the model's; the plan shapes it by the group's events first, and
    // --events shows it so (and the JSON and table name them).
    let mut shaped_by: Vec<String> = Vec::new();
    if id == Config::load_id(g) {
        let end = forecast.ts(forecast.len());
        // An events file that cannot be read is never taken for none: `plan` refuses it too.
        let stored = match EventStore::new(&ctx.store_dir).load() {
            Ok(events) => events,
            Err(e) if args.events => {
                return Err(anyhow::Error::from(e).context("--events: the group's events cannot be read"));
            }
            Err(e) => {
                warn!("the stored events cannot be read, and `prescale plan` refuses to plan until they can: {e}");
                Vec::new()
            }
        };
        let within = |e: &Event| e.group() == name && e.end() > forecast.start && e.start() < end;
        // As the plan leaves them out (and says so).
        let mut left_out = 0;
        for e in stored.iter().filter(|e| within(e)) {
            if let Some(why) = e.beyond_limits().filter(|_| args.events) {
                say!("note: event {} is not planned, nor shown: {why}", e.label());
                left_out += 1;
            }
        }
        let shaping: Vec<Event> = stored.into_iter().filter(|e| within(e) && e.beyond_limits().is_none()).collect();
        let labels = shaping.iter().map(Event::label).collect::<Vec<_>>().join(", ");
        if shaping.is_empty() {
            if args.events && left_out == 0 {
                say!("note: no stored event of {name} falls within this forecast: it is the model's as it stands");
            } else if args.events {
                say!("note: so this forecast is the model's as it stands");
            }
        } else if args.events {
            let history = MetricStore::for_reading(&ctx.store_dir).read(&id).ok();
            let (shaped, reports) = prescale_plan::shape(&forecast, &shaping, history.as_ref(), ctx.now);
            forecast = shaped;
            shaped_by = reports
                .iter()
                .filter(|r| matches!(r.outcome, prescale_plan::EventOutcome::Applied { .. }))
                .map(|r| r.event.label())
                .collect();
            say!(
                "note: shaped by the group's events as the plan shapes it ({} of the {} within this forecast's hours: \
                 {labels}); without --events, the model's forecast",
                shaped_by.len(),
                reports.len()
            );
            let tz = g.zone();
            for r in reports.iter().filter(|r| !matches!(r.outcome, prescale_plan::EventOutcome::Applied { .. })) {
                let d = r.decision(tz);
                say!("note: {}: {}", d.what, d.why);
            }
        } else {
            say!(
                "note: this is the model's forecast; the plan shapes it by the group's events within it first \
                 ({labels}): `--events` shows it so, `prescale plan --what-if --group {}` their effect on the floors",
                prescale_plan::shell_word(name)
            );
        }
    } else if args.events {
        bail!("--events shapes the group's load metric ({}), which its events scale; {} has none", g.load_metric, id);
    }
    // Without --levels, the configured [forecast] levels the forecast holds (it also holds the
    // planning quantiles' own), or all it holds when it holds none of them.
    let levels = if args.levels.is_empty() {
        let stored: Vec<Level> = forecast.intervals.iter().map(|iv| iv.level).collect();
        let configured: Vec<Level> = ctx
            .config
            .levels()
            .into_iter()
            .filter(|l| stored.iter().any(|s| (s.value() - l.value()).abs() < 1e-9))
            .collect();
        if configured.is_empty() { stored } else { configured }
    } else {
        cli_levels(&args.levels)?
    };
    stored_levels_hold(&id, &forecast, &levels, &ctx.config.origin)?;
    beyond_backtests(&forecast, backtested_from);
    let context = serde_json::json!({ "group": name, "metric": id.metric, "time_zone": g.time_zone });
    let context = context.as_object().cloned().unwrap_or_default();
    output::forecast(&mut crate::output::stdout(), &forecast, &levels, args.format, Some(issued), &shaped_by, context)
}

/// A stored forecast holds the intervals it was fitted with: a level beyond the widest of them has
/// no bounds to read (they would be the widest's under another label), and one narrower is read by
/// interpolation between the stored quantiles, which the user is told.
fn stored_levels_hold(id: &MetricId, f: &prescale_core::Forecast, asked: &[Level], origin: &str) -> Result<()> {
    let stored: Vec<Level> = f.intervals.iter().map(|iv| iv.level).collect();
    let list = stored.iter().map(|l| l.label()).collect::<Vec<_>>().join(", ");
    let widest = stored.iter().map(|l| l.value()).fold(0.0, f64::max);
    for l in asked {
        if f.interval(*l).is_some() {
            continue;
        }
        if l.value() > widest + 1e-9 {
            bail!(
                "the stored forecast for {id} holds the {list} % intervals: {} % is wider than any of them, and its \
                 bounds cannot be read from it\nhint: add {} to [forecast] levels in {origin} and run `prescale \
                 forecast fit` (or `prescale nightly`), or ask for {} % or less",
                l.label(),
                l.label(),
                Level::new(widest).map_or_else(|_| "a stored level".to_string(), |w| w.label())
            );
        }
        warn!(
            "{id}: the {} % bounds are read by interpolation from the stored point forecast and {list} % \
             intervals (linear in the quantile); fit with it in [forecast] levels for its own",
            l.label()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use prescale_core::EventEffect;

    #[test]
    fn horizons_read_units_decimals_and_compounds() {
        let h = |s: &str| parse_horizon(s).map(|d| d.num_seconds()).map_err(|e| e.to_string());
        assert_eq!(h("48h"), Ok(172_800));
        assert_eq!(h("48"), Ok(172_800), "a bare number is hours");
        assert_eq!(h("1.5h"), Ok(5_400));
        assert_eq!(h("2d12h"), Ok(216_000));
        assert_eq!(h("1w"), Ok(604_800));
        assert_eq!(h("90min"), Ok(5_400));
        for bad in ["", "PT1H", "h", "2d12", "1.2.3h", "-1h", "0h", "48x", "9999999999999d"] {
            let e = h(bad).unwrap_err();
            assert!(e.starts_with("horizon"), "{bad:?}: {e}");
            assert!(!e.contains("cannot parse"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn the_step_is_the_median_spacing_near_whole_minutes_taken_to_them() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
        let at = |secs: &[i64]| -> Vec<RawSample> {
            secs.iter().map(|s| RawSample::new(t0 + Duration::seconds(*s), 1.0)).collect()
        };
        // Stamps up to 30 s off a 5-minute grid (median spacing 289 s): 300 s.
        assert_eq!(infer_step(&at(&[30, 289, 604, 889, 1210, 1499])), Some(300));
        // Every 10th sample missing: still 300 s.
        let sparse: Vec<i64> = (0..100).filter(|i| i % 10 != 9).map(|i| 300 * i).collect();
        assert_eq!(infer_step(&at(&sparse)), Some(300));
        assert_eq!(infer_step(&at(&[0, 300, 600, 1200])), Some(300));
        assert_eq!(infer_step(&at(&[0, 90, 180, 270])), Some(90), "not a whole minute, and not near one");
        assert_eq!(infer_step(&at(&[0, 10, 20, 30])), Some(10), "under a minute, seconds stand");
        assert_eq!(infer_step(&at(&[0, 3600, 7200])), Some(3600));
        assert_eq!(infer_step(&at(&[0])), None);
    }

    #[test]
    fn holidays_are_local_days_and_events_stop_at_now() {
        let utc = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
        let christmas = chrono::NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
        let sale = Event::new("web", "sale", utc(20, 6), utc(22, 6), EventEffect::Multiplier { factor: 2.0 }).unwrap();
        let later =
            Event::new("web", "launch", utc(28, 0), utc(29, 0), EventEffect::Multiplier { factor: 3.0 }).unwrap();
        let now = utc(21, 6);
        let f = forecast_flags(&[christmas], Some(chrono_tz::America::New_York), &[&sale, &later], now).unwrap();
        // Christmas in New York is 05:00–05:00 UTC.
        assert!(!f.at(utc(25, 4).timestamp()).holiday);
        assert!(f.at(utc(25, 5).timestamp()).holiday);
        assert!(f.at(utc(26, 4).timestamp()).holiday);
        assert!(!f.at(utc(26, 5).timestamp()).holiday);
        // The sale is flagged up to now only; the launch, ahead, not at all (the planner applies it).
        assert!(f.at(utc(21, 5).timestamp()).event);
        assert!(!f.at(utc(21, 7).timestamp()).event);
        assert!(!f.at(utc(28, 12).timestamp()).event);
        assert_eq!(f.counts(), (1, 1));
        // In UTC the day is midnight to midnight; nothing at all gives no flags.
        let f = forecast_flags(&[christmas], None, &[], now).unwrap();
        assert!(f.at(utc(25, 0).timestamp()).holiday && !f.at(utc(26, 0).timestamp()).holiday);
        assert!(forecast_flags(&[], None, &[&later], now).is_none());
    }

    #[test]
    fn the_load_under_events_so_far_is_learnt_as_the_week_before() {
        let utc = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
        // Three weeks of hourly load, each hour's value its hour of the week; a launch doubled
        // Dec 15 10:00–14:00, a sale is under way since Dec 21 20:00, and one is still to come.
        let start = utc(1, 0);
        let v: Vec<f64> = (0..21 * 24).map(|i| (i % 168) as f64).collect();
        let mut seen = v.clone();
        let at = |t: DateTime<Utc>| ((t - start).num_hours()) as usize;
        (at(utc(15, 10))..at(utc(15, 14))).for_each(|i| seen[i] *= 2.0);
        (at(utc(21, 20))..seen.len()).for_each(|i| seen[i] *= 3.0);
        let history = Series::new(start, 3600, seen).unwrap();
        let launch =
            Event::new("web", "launch", utc(15, 10), utc(15, 14), EventEffect::Multiplier { factor: 2.0 }).unwrap();
        let sale = Event::new("web", "sale", utc(21, 20), utc(23, 0), EventEffect::Multiplier { factor: 3.0 }).unwrap();
        let ahead =
            Event::new("web", "later", utc(25, 0), utc(26, 0), EventEffect::Multiplier { factor: 3.0 }).unwrap();
        let (h, replaced) = without_events(history.clone(), &[&launch, &sale, &ahead], utc(22, 0));
        assert_eq!(replaced, 4 + 4);
        assert_eq!(h.values(), &v[..], "each slot under an event is the week before's");
        // Events covering over a quarter of the history leave it as it is.
        let long = Event::new("web", "month", utc(1, 0), utc(10, 0), EventEffect::Multiplier { factor: 2.0 }).unwrap();
        let (h, replaced) = without_events(history.clone(), &[&long], utc(22, 0));
        assert_eq!((replaced, h.values()), (0, history.values()));
    }
}
