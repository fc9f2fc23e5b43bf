//! The subcommands. Each stage is a function that returns what it did, so `nightly` chains them
//! and the printers in `output.rs` show them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, DurationRound, Utc};
use prescale_aws::{AutoScalingSink, AwsOptions, CloudWatchQuery, CloudWatchSource};
use prescale_core::{
    ActionSink, ApplyReport, CapacityBounds, CapacityPlan, Change, ChangedObject, Event, EventEffect, Forecast,
    GridPolicy, GroupPlan, GroupState, Level, MetricId, MetricSource, PLAN_FORMAT, RawSample, Series, TimeRange,
    regularize,
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
    BacktestArgs, Cli, Command, DemoCmd, EventAddArgs, EventCmd, EventEffectArgs, ForecastCmd, Format, Global,
    GroupFilter, NightlyArgs, PlanArgs, ShowArgs, SimulateArgs, output,
};

/// Everything a command needs, resolved once: flag > env > file > default.
pub struct Ctx {
    pub config: Config,
    pub demo: bool,
    pub store_dir: PathBuf,
    pub out: PathBuf,
    pub now: DateTime<Utc>,
}

fn context(g: &Global) -> Result<Ctx> {
    let (config, demo) = match &g.config {
        Some(p) => (Config::load(p)?, false),
        None if Path::new("prescale.toml").exists() => (Config::load(Path::new("prescale.toml"))?, false),
        None => (Config::demo()?, true),
    };
    let store_dir = match &g.store {
        Some(s) => s.clone(),
        None if demo => g.out.join(&config.store.dir),
        None => config.resolve(&config.store.dir),
    };
    let now = match &g.now {
        Some(s) => prescale_store::parse_timestamp(s)
            .with_context(|| format!("--now {s:?} is not a timestamp (use RFC 3339, e.g. 2026-11-23T03:00:00Z)"))?,
        None if demo => crate::demo::demo_now(),
        None => Utc::now(),
    };
    if demo {
        info!("no --config and no ./prescale.toml: running the built-in demo ({})", config.base_dir.display());
    }
    Ok(Ctx { config, demo, store_dir, out: g.out.clone(), now })
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(DemoCmd::Generate { dir }) => {
            for f in crate::demo::generate(&dir)? {
                println!("wrote {f}");
            }
            Ok(())
        }
        Command::Forecast(ForecastCmd::Show(args)) if args.input.is_some() => show_input(&cli.global, &args),
        Command::Forecast(ForecastCmd::Show(args)) => show_group(&context(&cli.global)?, &args),
        Command::Ingest(f) => {
            let ctx = context(&cli.global)?;
            let done = ingest(&ctx, &f)?;
            output::ingest(&mut std::io::stdout().lock(), &done)?;
            Ok(())
        }
        Command::Forecast(ForecastCmd::Fit(f)) => {
            let ctx = context(&cli.global)?;
            let fits = fit(&ctx, &f)?;
            output::fits(&mut std::io::stdout().lock(), &fits)?;
            Ok(())
        }
        Command::Plan(args) => {
            let ctx = context(&cli.global)?;
            if args.what_if { what_if(&ctx, &args) } else { plan_cmd(&ctx, &args) }
        }
        Command::Event(cmd) => event_cmd(&context(&cli.global)?, cmd),
        Command::Apply(args) if args.revert => {
            let ctx = context(&cli.global)?;
            let results = revert(&ctx, &args.groups, args.execute)?;
            output::applied(&mut std::io::stdout().lock(), &results, args.execute, None)?;
            if !args.execute {
                eprintln!("dry run: nothing was changed; rerun with --execute to remove these objects");
            }
            fail_on_partial(&results)
        }
        Command::Apply(args) => {
            let ctx = context(&cli.global)?;
            let path = args.plan.clone().unwrap_or_else(|| ctx.out.join("plan.json"));
            let mut plan = read_plan(&path)?;
            select_plan_groups(&mut plan, &args.groups, &path)?;
            let overrides = guard(&ctx, &plan, args.allow_guardrail_breach)?;
            let results = apply(&ctx, &plan, args.execute, &overrides)?;
            output::applied(&mut std::io::stdout().lock(), &results, args.execute, None)?;
            fail_on_partial(&results)
        }
        Command::Nightly(args) => nightly(&context(&cli.global)?, &args),
        Command::Backtest(args) => backtest(&cli.global, &args),
        Command::Simulate(args) => simulate(&cli.global, &args),
    }
}

fn selected<'a>(ctx: &'a Ctx, f: &GroupFilter) -> Result<Vec<&'a GroupConfig>> {
    for name in &f.groups {
        if !ctx.config.groups.iter().any(|g| &g.name == name) {
            let known: Vec<&str> = ctx.config.groups.iter().map(|g| g.name.as_str()).collect();
            bail!("no group {name:?} in {}; known groups: {}", ctx.config.origin, known.join(", "));
        }
    }
    Ok(ctx.config.groups.iter().filter(|g| f.groups.is_empty() || f.groups.contains(&g.name)).collect())
}

// ---------------------------------------------------------------------------------------------
// ingest

fn source(ctx: &Ctx, groups: &[&GroupConfig]) -> Result<Box<dyn MetricSource>> {
    let c = &ctx.config;
    let files = || -> Vec<(MetricId, PathBuf)> {
        groups
            .iter()
            .flat_map(|g| {
                g.metrics
                    .iter()
                    .filter_map(move |m| m.file.as_ref().map(|f| (MetricId::new(&g.name, &m.name), c.resolve(f))))
            })
            .collect()
    };
    Ok(match c.ingest.source {
        SourceKind::Csv => Box::new(CsvSource::new(files())),
        SourceKind::Parquet => Box::new(ParquetSource::new(files())),
        SourceKind::Cloudwatch => {
            let queries = groups
                .iter()
                .flat_map(|g| {
                    g.metrics.iter().map(move |m| CloudWatchQuery {
                        id: MetricId::new(&g.name, &m.name),
                        namespace: m.namespace.clone().unwrap_or_default(),
                        metric_name: m.metric_name.clone().unwrap_or_default(),
                        dimensions: m.dimensions.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                        stat: m.stat.clone().unwrap_or_else(|| "Average".into()),
                    })
                })
                .collect();
            Box::new(CloudWatchSource::new(queries, &aws_options(c))?)
        }
    })
}

fn aws_options(c: &Config) -> AwsOptions {
    AwsOptions { region: c.aws.region.clone(), max_attempts: c.aws.max_attempts }
}

pub fn ingest(ctx: &Ctx, f: &GroupFilter) -> Result<Vec<IngestSummary>> {
    let groups = selected(ctx, f)?;
    let c = &ctx.config;
    let period = c.ingest.period_secs;
    let mut src = source(ctx, &groups)?;
    let range = match c.ingest.source {
        SourceKind::Cloudwatch => {
            let end = ctx.now.duration_trunc(Duration::seconds(period)).unwrap_or(ctx.now);
            Some(TimeRange { start: end - Duration::days(c.ingest.lookback_days), end, step_secs: period })
        }
        _ => None,
    };
    info!("ingesting {} groups from {}", groups.len(), src.describe());
    let fetched =
        src.fetch(range).with_context(|| format!("ingest from {} failed; the store is unchanged", src.describe()))?;
    let store = MetricStore::open(&ctx.store_dir)?;
    let mut done = Vec::new();
    for (id, raw) in fetched {
        if raw.is_empty() {
            warn!("{id}: the source returned no samples; nothing stored (check the metric's name and dimensions)");
            continue;
        }
        let s = store
            .ingest(&id, &raw, period, &c.ingest.grid, &src.describe())
            .with_context(|| format!("cannot store {id}"))?;
        info!("{id}: {} samples, {} slots stored", s.grid.samples, s.after);
        done.push(s);
    }
    // Per-instance load × instances = the group's total load, stored as its own series.
    for g in &groups {
        let Some(inst) = &g.instances_metric else { continue };
        let total = Config::load_id(g);
        let (Ok(load), Ok(count)) =
            (store.read(&MetricId::new(&g.name, &g.load_metric)), store.read(&MetricId::new(&g.name, inst)))
        else {
            warn!("{total}: needs both {} and {inst} in the store; not derived", g.load_metric);
            continue;
        };
        let counts: std::collections::HashMap<DateTime<Utc>, f64> = count.iter().collect();
        let raw: Vec<RawSample> = load
            .iter()
            .filter_map(|(ts, v)| counts.get(&ts).map(|n| RawSample::new(ts, v * n)))
            .filter(|s| s.value.is_finite())
            .collect();
        if raw.is_empty() {
            warn!("{total}: {} and {inst} share no measured slot; not derived", g.load_metric);
            continue;
        }
        let source = format!("derived: {} x {inst}", g.load_metric);
        done.push(
            store
                .ingest(&total, &raw, period, &c.ingest.grid, &source)
                .with_context(|| format!("cannot store {total}"))?,
        );
    }
    Ok(done)
}

// ---------------------------------------------------------------------------------------------
// forecast

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
fn fit_levels(c: &Config) -> Vec<Level> {
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

/// Holidays (whole local days in `tz`, UTC when `None`) and the windows of past events, as the
/// models' flags. Events are cut at `now`: in the history they let a model tell their load from
/// ordinary load; ahead, the planner applies them to the forecast (a flag there would count them
/// twice).
fn forecast_flags(
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

fn fit_series(
    model: &ModelSpec,
    history: &Series,
    horizon: usize,
    levels: &[Level],
    options: &BuildOptions,
) -> Result<(Forecast, Vec<String>)> {
    let fitted = model.build_with(options).fit(history)?;
    let f = fitted.predict(horizon, levels)?;
    for sc in fitted.scores() {
        info!("backtest {}: MASE {:.3} over {} origins, weight {:.2}", sc.model, sc.mase, sc.origins, sc.weight);
    }
    Ok((f, fitted.warnings()))
}

pub fn fit(ctx: &Ctx, f: &GroupFilter) -> Result<Vec<Fit>> {
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
    let mut out = Vec::new();
    for g in selected(ctx, f)? {
        let tz = g.time_zone.as_deref().map(crate::config::parse_time_zone).transpose()?;
        let mine: Vec<&Event> = events.iter().filter(|e| e.group() == g.name).collect();
        let flags = forecast_flags(&holidays, tz, &mine, ctx.now);
        let mut ids: Vec<MetricId> = g.metrics.iter().map(|m| MetricId::new(&g.name, &m.name)).collect();
        if g.instances_metric.is_some() {
            ids.push(Config::load_id(g));
        }
        for id in ids {
            let series = match store.read(&id) {
                Ok(s) => s,
                Err(e) => {
                    warn!("{id}: {e}");
                    continue;
                }
            };
            let history = series
                .window(ctx.now - Duration::days(c.forecast.train_days), ctx.now)
                .coarsen(c.forecast.min_step_mins * 60);
            let step = history.step_secs();
            let horizon = ((c.forecast.horizon_hours * 3600 + step - 1) / step) as usize;
            let options = c.build_options(g, &id.metric, flags.clone());
            match fit_series(&c.forecast.model, &history, horizon, &levels, &options) {
                Ok((forecast, warnings)) => {
                    for w in &warnings {
                        warn!("{id}: {w}");
                    }
                    table.write(&id, &forecast, ctx.now)?;
                    out.push(Fit { id, model: forecast.model.clone(), warnings, forecast });
                }
                Err(e) => warn!("{id}: no forecast: {e:#}"),
            }
        }
    }
    Ok(out)
}

/// Parses a horizon such as `48h`, `2d`, `90m`, `1w` or `3600s`.
pub fn parse_horizon(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().with_context(|| format!("horizon {s:?}: expected a number and a unit, e.g. 48h"))?;
    let d = match unit {
        "s" => Duration::seconds(n),
        "m" | "min" => Duration::minutes(n),
        "h" | "" => Duration::hours(n),
        "d" => Duration::days(n),
        "w" => Duration::weeks(n),
        other => bail!("horizon {s:?}: unknown unit {other:?} (use s, m, h, d or w)"),
    };
    if d <= Duration::zero() {
        bail!("horizon {s:?} must be positive");
    }
    Ok(d)
}

/// The grid step of raw samples: the median spacing of their distinct timestamps.
fn infer_step(raw: &[RawSample]) -> Option<i64> {
    let mut ts: Vec<i64> = raw.iter().map(|s| s.ts.timestamp()).collect();
    ts.sort_unstable();
    ts.dedup();
    let mut d: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    Some(d[d.len() / 2]).filter(|s| *s > 0)
}

/// Reads a CSV or Parquet file of `ts,value` onto its own grid (the median spacing), repairing
/// what it must and saying so.
fn read_input(path: &Path) -> Result<Series> {
    let raw = match path.extension().and_then(|e| e.to_str()) {
        Some("parquet") => prescale_store::read_parquet_samples(path)?,
        _ => prescale_store::read_csv_samples(path)?,
    };
    let step = infer_step(&raw)
        .with_context(|| format!("{}: fewer than two distinct timestamps; nothing to forecast from", path.display()))?;
    let (series, report) = regularize(&raw, step, &GridPolicy { max_interpolate_secs: i64::MAX / 4 })?;
    if report.duplicates + report.non_finite + report.interpolated + report.out_of_order > 0 {
        warn!(
            "{}: repaired the input: {} duplicates averaged, {} non-finite dropped, {} out of order, {} slots interpolated",
            path.display(),
            report.duplicates,
            report.non_finite,
            report.out_of_order,
            report.interpolated
        );
    }
    Ok(series)
}

fn show_input(g: &Global, args: &ShowArgs) -> Result<()> {
    let path = args.input.as_deref().unwrap_or(Path::new("-"));
    let series = read_input(path)?;
    let step = series.step_secs();
    let horizon = parse_horizon(&args.horizon)?;
    let steps = ((horizon.num_seconds() + step - 1) / step) as usize;
    let levels: Vec<Level> = args.levels.iter().map(|l| Level::new(*l)).collect::<Result<_, _>>()?;
    let config = g.config.as_deref().map(Config::load).transpose()?;
    let configured = config.as_ref().map(|c| c.forecast.model.clone());
    let model = match args.model.as_deref() {
        Some(name) => model_spec(name, configured.as_ref())?,
        None => configured.unwrap_or_default(),
    };
    let mut holidays = crate::config::parse_dates(&args.holidays).context("--holidays")?;
    if let Some(c) = &config {
        holidays.extend(c.forecast.holiday_dates()?);
    }
    if !holidays.is_empty() && !model.uses_flags() {
        warn!("{} holidays ignored by the seasonal-naive model; every other model learns their effect", holidays.len());
    }
    let bounds = Bounds { min: args.min, max: args.max };
    bounds.validate().map_err(|e| anyhow::anyhow!("--min/--max: {e}"))?;
    let options = BuildOptions {
        flags: forecast_flags(&holidays, None, &[], series.end()),
        transform: args.transform.or(config.as_ref().map(|c| c.forecast.transform)).unwrap_or_default(),
        bounds,
        // A file belongs to no group and so to no time zone: weekends in UTC.
        weekends: match args.weekends.or(config.as_ref().map(|c| c.forecast.weekends)) {
            Some(false) => prescale_forecast::Weekends::Ignore,
            _ => prescale_forecast::Weekends::default(),
        },
    };
    let (forecast, warnings) = fit_series(&model, &series, steps, &levels, &options)?;
    for w in warnings {
        warn!("{}: {w}", path.display());
    }
    output::forecast(&mut std::io::stdout().lock(), &forecast, &levels, args.format)
}

fn show_group(ctx: &Ctx, args: &ShowArgs) -> Result<()> {
    let name = args.group.as_deref().context("give --group NAME (a group of the config) or --input FILE")?;
    let g = selected(ctx, &GroupFilter { groups: vec![name.to_string()] })?[0];
    let id = match &args.metric {
        Some(m) => MetricId::new(name, m),
        None => Config::load_id(g),
    };
    let (forecast, issued) = ForecastTable::new(&ctx.store_dir).read(&id).with_context(|| {
        format!("no forecast for {id}\nhint: run `prescale forecast fit` (or `prescale nightly`) first")
    })?;
    info!("{id}: forecast issued {issued} by {}", forecast.model);
    let levels: Vec<Level> = args.levels.iter().map(|l| Level::new(*l)).collect::<Result<_, _>>()?;
    output::forecast(&mut std::io::stdout().lock(), &forecast, &levels, args.format)
}

// ---------------------------------------------------------------------------------------------
// plan

/// The part of a forecast from `now` on, or why it cannot be used.
fn usable(forecast: Forecast, now: DateTime<Utc>) -> Result<Forecast, String> {
    let end = forecast.ts(forecast.len());
    if end <= now {
        return Err(format!(
            "the latest forecast ended at {end}, before now: it is stale (run `prescale forecast fit`)"
        ));
    }
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
    cutted.scores = forecast.scores;
    Ok(cutted)
}

/// Whether a forecast may set floors: enough measured history, fresh data, and a backtest on its
/// own history that is not worse than `[trust]` allows. The reason when not.
fn trusted(
    forecast: &Forecast,
    history: Option<&Series>,
    t: &crate::config::TrustConfig,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let Some(h) = history else {
        return Err("the load series is not in the store (run `prescale ingest`)".into());
    };
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
    let age = (now - *last).num_minutes();
    if age > t.max_data_age_mins {
        return Err(format!(
            "the newest measured load is {} min old (at {last}), more than [trust] max_data_age_mins = {}: is ingest failing?",
            age, t.max_data_age_mins
        ));
    }
    let weighted: f64 = forecast.scores.iter().filter(|s| s.mase.is_finite()).map(|s| s.weight * s.mase).sum();
    let weight: f64 = forecast.scores.iter().filter(|s| s.mase.is_finite()).map(|s| s.weight).sum();
    if weight > 0.0 && weighted / weight > t.max_backtest_mase {
        return Err(format!(
            "its backtest MASE on the series' own history is {:.2}, above [trust] max_backtest_mase = {}",
            weighted / weight,
            t.max_backtest_mase
        ));
    }
    Ok(())
}

pub fn make_plan(ctx: &Ctx, f: &GroupFilter) -> Result<CapacityPlan> {
    let groups = plan_groups(ctx, f, None)?.into_iter().map(|p| p.plan).collect();
    plan_document(ctx, groups)
}

fn plan_document(ctx: &Ctx, groups: Vec<GroupPlan>) -> Result<CapacityPlan> {
    let content = serde_json::to_vec(&groups)?;
    Ok(CapacityPlan { format: PLAN_FORMAT.into(), plan_id: plan_id(ctx.now, &content), created_at: ctx.now, groups })
}

/// Plans every selected group with its stored events (and `trial`, which replaces a stored event
/// of the same group and name), keeping the plan without events beside each.
fn plan_groups(ctx: &Ctx, f: &GroupFilter, trial: Option<&Event>) -> Result<Vec<EventPlan>> {
    let table = ForecastTable::new(&ctx.store_dir);
    let store = MetricStore::open(&ctx.store_dir)?;
    let mut events = EventStore::new(&ctx.store_dir).load()?;
    if let Some(t) = trial {
        events.retain(|e| !(e.group() == t.group() && e.id() == t.id()));
        events.push(t.clone());
        events.sort_by_key(Event::start);
    }
    if f.groups.is_empty() {
        for e in events.iter().filter(|e| !ctx.config.groups.iter().any(|g| g.name == e.group())) {
            warn!("event {} names group {}, which is not in {}: not planned", e.label(), e.group(), ctx.config.origin);
        }
    }
    let mut groups = Vec::new();
    let mut sink = Sink::open(ctx)?;
    for g in selected(ctx, f)? {
        let mut settings = ctx.config.plan_settings(g)?;
        settings.reactive.measured = Some(match sink.sink().recent_launches(&g.name) {
            Ok(launches) => prescale_plan::measured_warmup(&launches, g.reactive.warmup_secs),
            Err(e) => {
                warn!("{}: cannot read its launches to measure the boot time: {e}", g.name);
                prescale_plan::Warmup {
                    secs: g.reactive.warmup_secs,
                    why: "configured warmup_secs: the group's scaling activities could not be read".into(),
                }
            }
        });
        let id = Config::load_id(g);
        let history = store.read(&id).ok();
        let (forecast, why) = match table.read(&id) {
            Ok((fc, _)) => match usable(fc, ctx.now)
                .and_then(|fc| trusted(&fc, history.as_ref(), &ctx.config.trust, ctx.now).map(|()| fc))
            {
                Ok(fc) => (Some(fc), None),
                Err(why) => (None, Some(why)),
            },
            Err(e) => {
                (None, Some(format!("no forecast for {id}: {}", e.to_string().lines().next().unwrap_or_default())))
            }
        };
        let mine: Vec<Event> = events.iter().filter(|e| e.group() == g.name).cloned().collect();
        let mut ep =
            plan_with_events(&g.name, &g.environment, forecast.as_ref(), &mine, history.as_ref(), &settings, ctx.now);
        for r in &ep.reports {
            if !matches!(r.outcome, prescale_plan::EventOutcome::Applied { .. }) {
                let d = r.decision();
                info!("{}: {}: {}", g.name, d.what, d.why);
            }
        }
        for gp in [&mut ep.plan, &mut ep.baseline] {
            if let Some(s) = gp.forecast.as_mut() {
                s.metric = id.metric.clone();
            }
            if let Some(why) = &why {
                gp.decisions
                    .insert(0, prescale_core::PlanDecision { what: "forecast not used".into(), why: why.clone() });
            }
        }
        if let Some(why) = why {
            warn!("{}: {why}; planning the reactive policy only", g.name);
        }
        groups.push(ep);
    }
    Ok(groups)
}

// ---------------------------------------------------------------------------------------------
// events

/// An RFC 3339 time from a flag, in UTC.
fn parse_time(flag: &str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).map(|t| t.with_timezone(&Utc)).with_context(|| {
        format!(
            "{flag} {s:?} is not an RFC 3339 time; write it as 2026-11-27T06:00:00Z (UTC) or \
             2026-11-27T07:00:00+01:00 (with an offset)"
        )
    })
}

/// The effect the flags ask for, if any (clap lets at most one through).
fn effect(a: &EventEffectArgs) -> Result<Option<EventEffect>> {
    Ok(match (a.multiplier, a.peak, &a.like) {
        (Some(factor), None, None) => Some(EventEffect::Multiplier { factor }),
        (None, Some(peak), None) => Some(EventEffect::Peak { peak }),
        (None, None, Some(w)) => {
            let (from, to) = w.split_once("..").with_context(|| {
                format!(
                    "--like {w:?}: give a past window as START..END, e.g. 2025-11-28T00:00:00Z..2025-11-29T00:00:00Z"
                )
            })?;
            Some(EventEffect::Like { from: parse_time("--like start", from)?, to: parse_time("--like end", to)? })
        }
        (None, None, None) => None,
        _ => bail!("give only one of --multiplier, --peak and --like"),
    })
}

/// Builds and checks an event against the configuration, the store and now.
fn build_event(ctx: &Ctx, group: &str, name: &str, start: &str, end: &str, fx: Option<EventEffect>) -> Result<Event> {
    let g = selected(ctx, &GroupFilter { groups: vec![group.to_string()] })?[0];
    let fx = fx.context(
        "say what the event does: --multiplier FACTOR, --peak LOAD or --like START..END (a past window of the group)",
    )?;
    let (start, end) = (parse_time("--start", start)?, parse_time("--end", end)?);
    let event = Event::new(group, name, start, end, fx)?;
    if end <= ctx.now {
        bail!(
            "event {:?} ends at {}, which is not after now ({}): there is nothing left to plan\nhint: check the \
             dates (RFC 3339; without an offset, Z is UTC)",
            name,
            end.format("%Y-%m-%d %H:%M UTC"),
            ctx.now.format("%Y-%m-%d %H:%M UTC")
        );
    }
    if let EventEffect::Like { from, to } = *event.effect() {
        let id = Config::load_id(g);
        if to > ctx.now {
            bail!(
                "--like window ends at {}, after now ({}): it must be a past window of {id}'s stored history",
                to.format("%Y-%m-%d %H:%M UTC"),
                ctx.now.format("%Y-%m-%d %H:%M UTC")
            );
        }
        let history = MetricStore::open(&ctx.store_dir)?.read(&id).with_context(|| {
            format!("--like needs the stored history of {id}\nhint: run `prescale ingest --group {group}` first")
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
    Ok(event)
}

/// Where an event stands for the next plan.
fn event_status(ctx: &Ctx, e: &Event) -> &'static str {
    if !ctx.config.groups.iter().any(|g| g.name == e.group()) {
        "group not configured"
    } else if e.end() <= ctx.now {
        "past: ignored"
    } else if e.start() >= ctx.now + Duration::hours(ctx.config.forecast.horizon_hours) {
        "beyond the horizon: not yet planned"
    } else {
        "planned"
    }
}

fn event_cmd(ctx: &Ctx, cmd: EventCmd) -> Result<()> {
    let store = EventStore::new(&ctx.store_dir);
    let mut out = std::io::stdout().lock();
    match cmd {
        EventCmd::Add(EventAddArgs { group, name, start, end, effect: fx }) => {
            let event = build_event(ctx, &group, &name, &start, &end, effect(&fx)?)?;
            store.add(event.clone())?;
            writeln!(
                out,
                "added event {} to {group}: {} from {} to {} ({})",
                event.label(),
                event.effect().describe(),
                event.start().format("%Y-%m-%d %H:%M"),
                event.end().format("%Y-%m-%d %H:%M UTC"),
                event_status(ctx, &event)
            )?;
            writeln!(out, "stored in {}; `prescale plan` now plans it", store.path().display())?;
        }
        EventCmd::List { group } => {
            if let Some(g) = &group {
                selected(ctx, &GroupFilter { groups: vec![g.clone()] })?;
            }
            let events: Vec<Event> =
                store.load()?.into_iter().filter(|e| group.as_deref().is_none_or(|g| e.group() == g)).collect();
            let rows: Vec<(&Event, &str)> = events.iter().map(|e| (e, event_status(ctx, e))).collect();
            output::events(&mut out, &rows, ctx.now)?;
        }
        EventCmd::Remove { group, name } => {
            let gone = store.remove(&group, &name)?;
            writeln!(out, "removed event {} from {group}", gone.label())?;
        }
    }
    Ok(())
}

/// One group of `plan --what-if`: the plan with and without the events.
#[derive(Debug)]
pub struct WhatIf {
    pub group: String,
    pub events: Vec<String>,
    pub peak_without: u32,
    pub peak_with: u32,
    pub hours_without: f64,
    pub hours_with: f64,
    /// Price of one of the group's instance-hours (its own, else `[cost]`'s).
    pub price: Option<f64>,
    pub decisions: Vec<prescale_core::PlanDecision>,
}

fn what_if(ctx: &Ctx, args: &PlanArgs) -> Result<()> {
    let fx = effect(&args.effect)?;
    let trial = match (&args.start, &args.end) {
        (Some(start), Some(end)) => {
            let [group] = args.filter.groups.as_slice() else {
                bail!("--what-if with an event to try needs exactly one --group: the event's group");
            };
            Some(build_event(ctx, group, &args.name, start, end, fx)?)
        }
        _ if fx.is_some() => bail!("an event to try needs --start and --end as well"),
        _ => None,
    };
    let plans = plan_groups(ctx, &args.filter, trial.as_ref())?;
    let rows: Vec<WhatIf> = plans
        .iter()
        .map(|p| WhatIf {
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
            peak_without: prescale_plan::peak_floor(&p.baseline),
            peak_with: prescale_plan::peak_floor(&p.plan),
            hours_without: prescale_plan::instance_hours(&p.baseline),
            hours_with: prescale_plan::instance_hours(&p.plan),
            price: ctx.config.price(&p.plan.group),
            decisions: p.decisions.clone(),
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "group": r.group, "events": r.events,
                    "peak_floor_without": r.peak_without, "peak_floor_with": r.peak_with,
                    "instance_hours_without": r.hours_without, "instance_hours_with": r.hours_with,
                    "extra_instance_hours": r.hours_with - r.hours_without,
                    "instance_hour_price": r.price,
                    "extra_cost": r.price.map(|p| p * (r.hours_with - r.hours_without)),
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        output::what_if(
            &mut out,
            &rows,
            &ctx.config.cost,
            ctx.now + Duration::hours(ctx.config.forecast.horizon_hours),
        )?;
    }
    eprintln!("what-if: nothing was written, no event was stored and no group was changed");
    Ok(())
}

fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("out")));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn write_plan(plan: &CapacityPlan, path: &Path) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(plan)?;
    bytes.push(b'\n');
    write_file_atomic(path, &bytes)
}

fn read_plan(path: &Path) -> Result<CapacityPlan> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read plan {}\nhint: run `prescale plan` first, or pass --plan FILE", path.display())
    })?;
    let plan: CapacityPlan =
        serde_json::from_str(&text).with_context(|| format!("{} is not a valid prescale plan", path.display()))?;
    if plan.format != PLAN_FORMAT {
        bail!("{} has format {:?}; this prescale reads {PLAN_FORMAT:?}", path.display(), plan.format);
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

fn plan_cmd(ctx: &Ctx, args: &PlanArgs) -> Result<()> {
    if effect(&args.effect)?.is_some() {
        bail!(
            "--multiplier, --peak and --like try an event with `prescale plan --what-if`; to store one, use \
             `prescale event add`"
        );
    }
    let plan = make_plan(ctx, &args.filter)?;
    let path = args.output.clone().unwrap_or_else(|| ctx.out.join("plan.json"));
    write_plan(&plan, &path)?;
    for b in breaches(ctx, &plan.groups)? {
        warn!("guardrail: {b}; `prescale apply` will refuse this plan without --allow-guardrail-breach");
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &plan)?;
        writeln!(out)?;
    } else {
        output::plan(&mut out, &plan)?;
        writeln!(out, "plan written to {}", path.display())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// apply

/// The sink for a context: Auto Scaling, or the local stand-in groups saved in a JSON file.
enum Sink {
    Aws(AutoScalingSink),
    Local { inner: RecordingSink, path: PathBuf },
}

impl Sink {
    fn open(ctx: &Ctx) -> Result<Self> {
        let c = &ctx.config;
        Ok(match c.apply.sink {
            SinkKind::Autoscaling => Sink::Aws(AutoScalingSink::new(&aws_options(c))?),
            SinkKind::Local => {
                let path = ctx.out.join(&c.apply.local_state);
                let groups: Vec<GroupState> = if path.exists() {
                    let text =
                        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                    serde_json::from_str(&text)
                        .with_context(|| format!("{} is not a local group state file; move it aside", path.display()))?
                } else {
                    c.groups
                        .iter()
                        .map(|g| -> Result<GroupState> {
                            Ok(GroupState {
                                group: g.name.clone(),
                                bounds: CapacityBounds::new(g.min_size, g.max_size)?,
                                desired: g.min_size,
                                scheduled_actions: Vec::new(),
                                policies: Vec::new(),
                                alarms: Vec::new(),
                            })
                        })
                        .collect::<Result<_>>()?
                };
                Sink::Local { inner: RecordingSink::new(groups), path }
            }
        })
    }

    fn sink(&mut self) -> &mut dyn ActionSink {
        match self {
            Sink::Aws(s) => s,
            Sink::Local { inner, .. } => inner,
        }
    }

    fn save(&self) -> Result<()> {
        if let Sink::Local { inner, path } = self {
            let groups: Vec<&GroupState> = inner.groups.values().collect();
            write_file_atomic(path, &serde_json::to_vec_pretty(&groups)?)?;
        }
        Ok(())
    }
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
    /// Things the user should know that are not changes (e.g. a MaxSize a revert cannot restore).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One line of `OUT/audit.jsonl`: one change `--execute` attempted, with the object before and
/// after it.
#[derive(Serialize)]
struct AuditEntry<'a> {
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
    /// `applied` or `failed`.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// Guardrail breaches this run was allowed to make (`--allow-guardrail-breach`).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    guardrail_overrides: &'a [String],
}

/// Keeps only the plan's groups named with `--group`.
fn select_plan_groups(plan: &mut CapacityPlan, groups: &[String], path: &Path) -> Result<()> {
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

fn breaches(ctx: &Ctx, groups: &[GroupPlan]) -> Result<Vec<Breach>> {
    Ok(prescale_plan::guardrails::check(groups, &ctx.config.guardrails, &ctx.config.ceilings()?))
}

/// Checks the plan against the configured guardrails: an error naming every breach, unless
/// `allow` (then each is logged and returned, for the audit log).
fn guard(ctx: &Ctx, plan: &CapacityPlan, allow: bool) -> Result<Vec<String>> {
    let found: Vec<String> = breaches(ctx, &plan.groups)?.iter().map(ToString::to_string).collect();
    if found.is_empty() {
        return Ok(found);
    }
    if allow {
        for b in &found {
            warn!("guardrail overridden (--allow-guardrail-breach): {b}");
        }
        return Ok(found);
    }
    bail!(
        "plan {} breaks {} guardrail{} of {}; nothing was applied:\n  {}\nhint: check the forecast and the plan \
         (`prescale plan`), raise the limit in [guardrails], or rerun with --allow-guardrail-breach to apply it anyway \
         (with a dry run, to see the diff first)",
        plan.plan_id,
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        ctx.config.origin,
        found.join("\n  ")
    )
}

/// Applies `plan` (dry run unless `execute`). `overrides` are the guardrail breaches the user
/// allowed; they go into the audit log.
pub fn apply(ctx: &Ctx, plan: &CapacityPlan, execute: bool, overrides: &[String]) -> Result<Vec<GroupApply>> {
    let groups: Vec<String> = plan.groups.iter().map(|g| g.group.clone()).collect();
    let changes = |name: &str, state: &GroupState| {
        plan.groups.iter().find(|g| g.group == name).map(|gp| diff(state, gp)).unwrap_or_default()
    };
    carry_out(ctx, Run { kind: "apply", plan_id: Some(&plan.plan_id), overrides }, &groups, changes, execute)
}

/// Removes every object prescale owns from `groups` (all configured groups when empty).
pub fn revert(ctx: &Ctx, groups: &[String], execute: bool) -> Result<Vec<GroupApply>> {
    let targets: Vec<String> =
        if groups.is_empty() { ctx.config.groups.iter().map(|g| g.name.clone()).collect() } else { groups.to_vec() };
    for name in &targets {
        if !ctx.config.groups.iter().any(|g| &g.name == name) {
            info!("{name} is not in {}: reverting it anyway, by name", ctx.config.origin);
        }
    }
    carry_out(
        ctx,
        Run { kind: "revert", plan_id: None, overrides: &[] },
        &targets,
        |_, s| prescale_plan::revert(s),
        execute,
    )
}

struct Run<'a> {
    kind: &'static str,
    plan_id: Option<&'a str>,
    overrides: &'a [String],
}

/// Reads each group, works out its changes, and (with `execute`) makes them and appends them to
/// the audit log; without, records them in `OUT/dry-run-changes.json`.
fn carry_out(
    ctx: &Ctx,
    run: Run<'_>,
    groups: &[String],
    changes_for: impl Fn(&str, &GroupState) -> Vec<Change>,
    execute: bool,
) -> Result<Vec<GroupApply>> {
    let mut sink = Sink::open(ctx)?;
    let name = sink.sink().describe();
    let mut results = Vec::new();
    for group in groups {
        let mut r = GroupApply {
            group: group.clone(),
            sink: name.clone(),
            run: run.kind,
            changes: vec![],
            report: None,
            error: None,
            notes: vec![],
        };
        let state = match sink.sink().read_state(group) {
            Ok(s) => s,
            Err(e) => {
                r.error = Some(e.to_string());
                results.push(r);
                continue;
            }
        };
        r.changes = changes_for(group, &state);
        if run.kind == "revert"
            && let Some(g) = ctx.config.groups.iter().find(|g| &g.name == group)
            && state.bounds.max() > g.max_size
        {
            r.notes.push(format!(
                "MaxSize is {}, above the configured max_size {}: a prescale action that raised it for a peak has \
                 run, and revert removes the action that would have put it back. Revert changes no group setting; \
                 restore it with `aws autoscaling update-auto-scaling-group --auto-scaling-group-name {group} \
                 --max-size {}`",
                state.bounds.max(),
                g.max_size,
                g.max_size
            ));
        }
        if execute && !r.changes.is_empty() {
            match sink.sink().apply(group, &r.changes) {
                Ok(rep) => r.report = Some(rep),
                Err(e) => r.error = Some(e.to_string()),
            }
        }
        results.push(r);
    }
    std::fs::create_dir_all(&ctx.out).with_context(|| format!("cannot create {}", ctx.out.display()))?;
    if execute {
        sink.save()?;
        let path = ctx.out.join("audit.jsonl");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open audit log {}", path.display()))?;
        let at = Utc::now();
        for r in &results {
            let Some(rep) = &r.report else { continue };
            let attempted = rep.applied.iter().map(|c| (c, None)).chain(rep.failed.iter().map(|(c, e)| (c, Some(e))));
            for (change, error) in attempted {
                let entry = AuditEntry {
                    at,
                    as_of: ctx.now,
                    run: run.kind,
                    plan_id: run.plan_id,
                    group: &r.group,
                    sink: &r.sink,
                    op: change.verb(),
                    object: change.object_kind(),
                    name: change.object_name(),
                    before: change.before(),
                    after: change.after(),
                    outcome: if error.is_some() { "failed" } else { "applied" },
                    error: error.map(String::as_str),
                    guardrail_overrides: run.overrides,
                };
                writeln!(log, "{}", serde_json::to_string(&entry)?)
                    .with_context(|| format!("cannot write audit log {}", path.display()))?;
            }
        }
        log.sync_all().with_context(|| format!("cannot write audit log {}", path.display()))?;
    } else {
        let path = ctx.out.join("dry-run-changes.json");
        write_file_atomic(&path, &serde_json::to_vec_pretty(&results)?)?;
    }
    Ok(results)
}

fn fail_on_partial(results: &[GroupApply]) -> Result<()> {
    let failed: usize = results
        .iter()
        .map(|r| r.report.as_ref().map_or(0, |rep| rep.failed.len()) + usize::from(r.error.is_some()))
        .sum();
    if failed > 0 {
        bail!("{failed} changes or groups failed (see above); the next run converges from what was applied");
    }
    Ok(())
}

fn nightly(ctx: &Ctx, args: &NightlyArgs) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if ctx.demo {
        writeln!(
            out,
            "prescale demo: built-in configuration and data in {}, now = {}, outputs in {}\n",
            ctx.config.base_dir.display(),
            ctx.now.format("%Y-%m-%d %H:%M UTC"),
            ctx.out.display()
        )?;
    }
    let ingested = ingest(ctx, &args.filter)?;
    output::ingest(&mut out, &ingested)?;
    let fits = fit(ctx, &args.filter)?;
    let plan = make_plan(ctx, &args.filter)?;
    let path = ctx.out.join("plan.json");
    write_plan(&plan, &path)?;
    let overrides = guard(ctx, &plan, args.allow_guardrail_breach)?;
    let results = apply(ctx, &plan, args.execute, &overrides)?;
    output::summary(&mut out, &plan, &fits, &results, args.execute)?;
    writeln!(out, "\nplan:      {}  (JSON: every floor, policy and reason)", path.display())?;
    if args.execute {
        writeln!(out, "audit log: {}", ctx.out.join("audit.jsonl").display())?;
    } else {
        writeln!(out, "full diff: {}", ctx.out.join("dry-run-changes.json").display())?;
        writeln!(out, "dry run: nothing was changed; rerun with --execute to apply")?;
    }
    fail_on_partial(&results)
}

// ---------------------------------------------------------------------------------------------
// backtest

fn model_spec(name: &str, configured: Option<&ModelSpec>) -> Result<ModelSpec> {
    if name == "config" {
        return configured.cloned().context("--models config needs a configuration (--config FILE)");
    }
    serde_json::from_value(serde_json::json!({ "kind": name })).map_err(|_| {
        anyhow::anyhow!("unknown model {name:?}: use auto, mstl, profile, ets, median, seasonal-naive, ridge or config")
    })
}

fn backtest(g: &Global, args: &BacktestArgs) -> Result<()> {
    use prescale_forecast::evaluate::{EvalSettings, evaluate_with};
    let settings = EvalSettings {
        origins: args.origins.max(1),
        horizon: parse_horizon(&args.horizon)?,
        train: parse_horizon(&args.train).context("--train")?,
        levels: args.levels.iter().map(|l| Level::new(*l)).collect::<Result<_, _>>()?,
    };
    // Each series is backtested with the models built as `forecast fit` builds them: the
    // configured holidays (events aside: they are not known at past origins), transform, bounds
    // and weekends.
    let mut series: Vec<(String, Series, BuildOptions)> = Vec::new();
    let configured;
    if let Some(path) = &args.input {
        let config = g.config.as_deref().map(Config::load).transpose()?;
        let options = match &config {
            // A file belongs to no group and so to no time zone: UTC.
            Some(c) => BuildOptions {
                flags: forecast_flags(&c.forecast.holiday_dates()?, None, &[], Utc::now()),
                transform: c.forecast.transform,
                weekends: c.forecast.weekends_in(0),
                ..BuildOptions::default()
            },
            None => BuildOptions::default(),
        };
        configured = config.map(|c| c.forecast.model);
        series.push((path.display().to_string(), read_input(path)?, options));
    } else {
        let ctx = context(g)?;
        configured = Some(ctx.config.forecast.model.clone());
        let store = MetricStore::open(&ctx.store_dir)?;
        let holidays = ctx.config.forecast.holiday_dates()?;
        for gc in selected(&ctx, &args.filter)? {
            let id = Config::load_id(gc);
            let s = store.read(&id).with_context(|| {
                format!("no stored series {id}\nhint: run `prescale ingest` first, or pass --input FILE")
            })?;
            let tz = gc.time_zone.as_deref().map(crate::config::parse_time_zone).transpose()?;
            let flags = forecast_flags(&holidays, tz, &[], ctx.now);
            let options = ctx.config.build_options(gc, &id.metric, flags);
            series.push((id.to_string(), s, options));
        }
    }
    let specs: Vec<(String, ModelSpec)> =
        args.models.iter().map(|m| Ok((m.clone(), model_spec(m, configured.as_ref())?))).collect::<Result<_>>()?;
    let mut results = Vec::new();
    for (name, s, options) in &series {
        let mut rows = Vec::new();
        eprintln!("backtesting {name} ({} models × {} origins) …", specs.len(), settings.origins);
        for (m, spec) in &specs {
            match evaluate_with(m, spec, options, s, &settings) {
                Ok(sc) => rows.push(sc),
                Err(e) => warn!("{name}: {m}: {e}"),
            }
        }
        if rows.is_empty() {
            bail!("{name}: no model could be backtested: the history needs {} plus two days", args.horizon);
        }
        results.push((name.clone(), rows));
    }
    let path = args.output.clone().unwrap_or_else(|| g.out.join("backtest.parquet"));
    let runs: Vec<prescale_store::BacktestRun<'_>> = results
        .iter()
        .flat_map(|(name, rows)| {
            rows.iter().flat_map(move |sc| {
                sc.runs.iter().zip(&sc.fitted).map(move |(r, fitted)| prescale_store::BacktestRun {
                    series: name,
                    model: &sc.model,
                    fitted,
                    origin: r.origin,
                    forecast: &r.forecast,
                    actual: &r.actual,
                })
            })
        })
        .collect();
    prescale_store::write_backtests(&path, &runs, &settings.levels)?;
    output::backtest(&mut std::io::stdout().lock(), &results, args.format)?;
    eprintln!("forecasts beside actuals: {}", path.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// simulate

/// The simulate flags that override the step scaling prescale's fallback replays (the
/// defaults, or the group's `[groups.reactive.step]`).
fn step_flags(args: &SimulateArgs, target: f64, step: &mut prescale_plan::StepSettings) -> Result<()> {
    if let Some(on) = args.step_scaling {
        step.enabled = on;
    }
    if let Some(on) = args.step_owns_scale_in {
        step.owns_scale_in = on;
    }
    if let Some(pct) = args.step_in_percent {
        step.in_unit = prescale_plan::StepUnit::Percent;
        step.in_remove = pct;
    }
    if let Some(f) = args.step_in_below {
        // The simulator reads thresholds in percent of an instance's capacity.
        let (out, _) = step.thresholds(target * 100.0, Some(100.0));
        let below = out / (target * 100.0);
        if !(f > 0.0 && f < below) {
            bail!(
                "--step-in-below {f} must lie between 0 and {below:.3}, where the step policy scales out \
                 ({out:.1} % utilization at the {:.0} % target): e.g. 0.8 scales in below 80 % of the target",
                target * 100.0
            );
        }
        step.in_threshold = Some(f * target * 100.0);
    }
    Ok(())
}

fn simulate(g: &Global, args: &SimulateArgs) -> Result<()> {
    let spot_price = match (args.spot_price, args.spot_discount) {
        (Some(p), _) => Some(p),
        (None, Some(d)) => {
            if !(0.0..1.0).contains(&d) {
                bail!("--spot-discount {d} must be a fraction in [0, 1) (0.7: spot costs 30 % of the on-demand price)");
            }
            let Some(price) = args.price else {
                bail!("--spot-discount needs --price, the on-demand price it discounts");
            };
            Some(price * (1.0 - d))
        }
        (None, None) => None,
    };
    let mut s = prescale_sim::SimSettings {
        capacity_per_instance: args.capacity,
        target_utilization: args.target.unwrap_or(0.7),
        min_size: args.min.unwrap_or(1),
        max_size: args.max,
        boot_mins: args.boot_mins,
        price_per_hour: args.price,
        spot_share: args.spot_share,
        spot_price_per_hour: spot_price,
        quantile: args.quantile.unwrap_or(0.9),
        quantile_utilization: args.quantile_utilization.or(Some(1.0)),
        point_at_target: args.point_at_target.unwrap_or(false),
        unskilled: args.unskilled.unwrap_or_default(),
        lead_time_mins: args.lead_time_mins.unwrap_or(10),
        min_hold_mins: args.min_hold_mins.unwrap_or(60),
        min_history_days: args.min_history_days,
        scale_in_cooldown_mins: args.cooldown_mins,
        policies: args.policies.clone(),
        ..prescale_sim::SimSettings::default()
    };
    if let Some(choice) = args.scenario {
        if let Some(p) = &g.config {
            s.model = Config::load(p)?.forecast.model;
        }
        step_flags(args, s.target_utilization, &mut s.step)?;
        return scenarios(args, &s, &choice.scenarios());
    }
    let (trace, label) = match (&args.input, &args.group) {
        (Some(path), _) => {
            if let Some(p) = &g.config {
                let c = Config::load(p)?;
                // Holidays in UTC: a trace belongs to no group and so to no time zone.
                let flags = forecast_flags(&c.forecast.holiday_dates()?, None, &[], Utc::now());
                s.forecast = BuildOptions {
                    flags,
                    transform: c.forecast.transform,
                    weekends: c.forecast.weekends_in(0),
                    ..BuildOptions::default()
                };
                s.model = c.forecast.model;
            }
            (read_input(path)?, path.display().to_string())
        }
        (None, Some(name)) => {
            let ctx = context(g)?;
            let gc = selected(&ctx, &GroupFilter { groups: vec![name.clone()] })?[0];
            let id = Config::load_id(gc);
            let series = MetricStore::open(&ctx.store_dir)?.read(&id).with_context(|| {
                format!(
                    "no stored load for {id}\nhint: run `prescale ingest --group {name}` (or `prescale nightly`) first"
                )
            })?;
            let ps = ctx.config.plan_settings(gc)?;
            s.capacity_per_instance = args.capacity.or(Some(ps.capacity_per_instance));
            s.target_utilization = args.target.unwrap_or(ps.target_utilization);
            s.quantile = args.quantile.unwrap_or(ps.quantile);
            s.quantile_utilization = args.quantile_utilization.or(ps.quantile_utilization);
            s.point_at_target = args.point_at_target.unwrap_or(ps.point_at_target);
            s.unskilled = args.unskilled.unwrap_or(ps.unskilled);
            s.min_size = args.min.unwrap_or(gc.min_size.max(1));
            s.max_size = args.max.or(Some(ps.bounds.max()));
            s.headroom = ps.headroom;
            s.step = prescale_sim::replayed_step(&ps.reactive, s.target_utilization);
            s.lead_time_mins =
                args.lead_time_mins.unwrap_or(u32::try_from(ps.lead_time.num_minutes().max(0)).unwrap_or(10));
            s.min_hold_mins =
                args.min_hold_mins.unwrap_or(u32::try_from(ps.min_hold.num_minutes().max(0)).unwrap_or(60));
            s.train_days = u32::try_from(ctx.config.forecast.train_days.max(1)).unwrap_or(28);
            s.horizon_hours = u32::try_from(ctx.config.forecast.horizon_hours.max(1)).unwrap_or(48);
            s.forecast_min_step_mins = u32::try_from(ctx.config.forecast.min_step_mins.max(1)).unwrap_or(5);
            s.model = ctx.config.forecast.model.clone();
            // As `forecast fit` builds the group's forecasts, less its events (the replay does not
            // apply them ahead either).
            let flags = forecast_flags(&ctx.config.forecast.holiday_dates()?, ps.time_zone, &[], ctx.now);
            s.forecast = ctx.config.build_options(gc, &id.metric, flags);
            s.price_per_hour = args.price.or(ctx.config.price(name));
            (series, id.to_string())
        }
        (None, None) => bail!("give --input FILE (a CSV or Parquet trace) or --group NAME (a group of the config)"),
    };
    step_flags(args, s.target_utilization, &mut s.step)?;
    let report = prescale_sim::simulate(&trace, &s).with_context(|| format!("cannot simulate {label}"))?;
    for n in &report.nights {
        match &n.error {
            Some(e) => warn!("{}: no forecast at {}: {e}; the floors of the previous night stay", label, n.at),
            None => info!(
                "{} plan at {}: {} floors up to {} instances ({})",
                label,
                n.at,
                n.prescale_actions,
                n.prescale_peak_floor,
                n.model.as_deref().unwrap_or("-")
            ),
        }
    }
    if let Some(path) = &args.timeseries {
        write_timeseries(path, &report)?;
    }
    if let Some(path) = &args.chart {
        let o = prescale_sim::chart::ChartOptions { title: label.clone(), ..Default::default() };
        write_file_atomic(path, prescale_sim::chart::svg(&report, &o).as_bytes())?;
        eprintln!("chart: {}", path.display());
    }
    let out = &mut std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
            Ok(())
        }
        Format::Table => output::simulation(out, &label, &report),
        Format::Csv => bail!("--format csv is not offered for simulate; use table or json"),
    }
}

fn write_timeseries(path: &Path, report: &prescale_sim::SimReport) -> Result<()> {
    let runs: Vec<prescale_store::SimulationRun> = report
        .policies
        .iter()
        .zip(&report.timeline)
        .map(|(p, tl)| prescale_store::SimulationRun { policy: p.policy.name(), instances: tl })
        .collect();
    prescale_store::write_simulations(
        path,
        report.trace.start,
        &report.demand,
        report.settings.capacity_per_instance,
        &runs,
    )?;
    info!("wrote {} rows to {}", runs.len() * report.demand.len(), path.display());
    Ok(())
}

/// `path` itself for one scenario; `stem-NAME.ext` beside it for several.
fn scenario_path(path: &Path, name: &str, several: bool) -> PathBuf {
    if !several {
        return path.to_path_buf();
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("simulation");
    let file = match path.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{stem}-{name}.{ext}"),
        None => format!("{stem}-{name}"),
    };
    path.with_file_name(file)
}

/// `simulate --scenario`: the load tests, one replay each.
fn scenarios(
    args: &SimulateArgs,
    s: &prescale_sim::SimSettings,
    which: &[prescale_sim::scenario::Scenario],
) -> Result<()> {
    use prescale_sim::scenario;
    let several = which.len() > 1;
    let mut reports = Vec::new();
    for sc in which {
        let r = scenario::run(*sc, s).with_context(|| format!("cannot run the {sc} scenario"))?;
        if let Some(path) = &args.timeseries {
            write_timeseries(&scenario_path(path, sc.name(), several), &r.replay)?;
        }
        if let Some(path) = &args.chart {
            let path = scenario_path(path, sc.name(), several);
            let start = r.replay.trace.start;
            let minute = |t: DateTime<Utc>| (t - start).num_minutes().max(0) as usize;
            let (onset, peak_end, end) = (minute(r.shape.onset), minute(r.shape.peak_end), minute(r.shape.end));
            let mut markers = vec![(onset, "onset".to_string())];
            if peak_end != end {
                markers.push((peak_end, "peak ends".to_string()));
            }
            markers.push((end, "test ends".to_string()));
            let o = prescale_sim::chart::ChartOptions {
                title: format!("load test: {}", r.shape.description),
                range: Some(onset.saturating_sub(120)..end + 180),
                markers,
            };
            write_file_atomic(&path, prescale_sim::chart::svg(&r.replay, &o).as_bytes())?;
            eprintln!("chart: {}", path.display());
        }
        reports.push(r);
    }
    let out = &mut std::io::stdout().lock();
    match args.format {
        Format::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                target_scale_out_mins: u64,
                scenarios: &'a [scenario::ScenarioReport],
            }
            let doc = Doc { target_scale_out_mins: scenario::SCALE_OUT_TARGET_MINS, scenarios: &reports };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
            Ok(())
        }
        Format::Table => output::scenarios(out, &reports),
        Format::Csv => bail!("--format csv is not offered for simulate; use table or json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use prescale_core::EventEffect;

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
}
