//! `backtest`: rolling-origin scores per model and series.

use super::*;

pub(crate) fn model_spec(name: &str, configured: Option<&ModelSpec>) -> Result<ModelSpec> {
    if name == "config" {
        return configured.cloned().context("the model `config` is the configuration's [forecast] model, and there is no configuration: give --config FILE, or name a model");
    }
    serde_json::from_value(serde_json::json!({ "kind": name })).map_err(|_| {
        anyhow::anyhow!("unknown model {name:?}: use auto, mstl, profile, ets, median, seasonal-naive, ridge or config")
    })
}

pub(crate) fn backtest(g: &Global, args: &BacktestArgs) -> Result<()> {
    use prescale_forecast::evaluate::{EvalSettings, evaluate_observed};
    args.zone.for_input_only(args.input.is_some())?;
    // Before the fits: an output that cannot be written would lose them.
    let path = args.output.clone().unwrap_or_else(|| g.out.join("backtest.parquet"));
    if let Some(out) = &args.output {
        // The scores are Parquet, and a name that says otherwise (a `.csv`) is most often the
        // --input file given twice.
        if let Some(input) = args.input.as_ref().filter(|i| super::same_file(i, out)) {
            bail!(
                "--output {} is the --input file itself: writing it would replace the series\nhint: name another \
                 file for --output (FILE.parquet)",
                input.display()
            );
        }
        if !super::is_stream(out) && !out.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
            bail!(
                "--output {}: the scores are written as Parquet, and the file should say so\nhint: name it \
                 FILE.parquet (notebooks/backtest.ipynb reads it; `--format csv` prints them as CSV)",
                out.display()
            );
        }
    }
    match &args.output {
        Some(out) => super::writable_file(out, "--output")?,
        None => super::writable_dir(&g.out, "output", "--out DIR, or PRESCALE_OUT")?,
    }
    // A group's models are scored on the window `forecast fit` fits them on; a file's on 14 days.
    let train = args.train.as_deref().map(parse_horizon).transpose().context("--train")?;
    let mut settings = EvalSettings {
        origins: usize::from(args.origins),
        horizon: parse_horizon(&args.horizon)?,
        train: train.unwrap_or(Duration::days(14)),
        levels: cli_levels(&args.levels)?,
    };
    if let Some(text) = args.train.as_deref().filter(|_| settings.train < Duration::days(2)) {
        bail!(
            "--train {text} is under two days: every model needs two days of history before an origin\nhint: give \
             --train 2d or more (the default is what the engine fits on: a group's [forecast] train_days, 14d for a \
             file)"
        );
    }
    // Each series is backtested with the models built as `forecast fit` builds them: the
    // configured holidays (events aside: they are not known at past origins), transform, bounds
    // and weekends.
    let mut series: Vec<(String, Series, BuildOptions)> = Vec::new();
    let configured;
    if let Some(path) = &args.input {
        let config = g.config.as_deref().map(Config::load).transpose()?;
        let now = g.now.as_deref().map(parse_now).transpose()?.unwrap_or_else(Utc::now);
        let options = file_options(config.as_ref(), &args.zone, &[], None, now)?;
        // With --now, the file as it stood then: no origin sees a row after it.
        let (input, _) =
            super::forecast::read_input_as_of(path, config.as_ref(), args.zone.file_zone()?, g.now.as_deref(), false)?;
        let (input, _) = super::forecast::coarsen_input(input, args.min_step_mins, path)?;
        if input.step_secs() < 300 && input.len() > 20_000 && args.min_step_mins.is_none() {
            say!(
                "{}: {} slots of {} s: each origin fits for seconds (the nightly job fits on 5-minute means: \
                 --min-step-mins 5 scores that, several times faster)",
                path.display(),
                crate::output::count(input.len() as u64),
                input.step_secs()
            );
        }
        series.push((path.display().to_string(), input, options));
        configured = config.map(|c| c.forecast.model);
    } else {
        let ctx = reading_context(g)?;
        configured = Some(ctx.config.forecast.model.clone());
        if train.is_none() {
            settings.train = Duration::days(ctx.config.forecast.train_days);
        }
        let store = MetricStore::for_reading(&ctx.store_dir);
        let holidays = ctx.config.forecast.holiday_dates()?;
        for gc in selected(&ctx, &args.filter)? {
            let id = Config::load_id(gc);
            let s = store.read(&id).map_err(|e| match e {
                prescale_store::StoreError::NotFound { path, .. } => anyhow::anyhow!(
                    "no stored series {id} (looked for {})\nhint: run `prescale ingest` first, or pass --input FILE",
                    path.display()
                ),
                e => {
                    let hint = super::ingest::damaged_hint(&ctx.config, gc, &e).unwrap_or_default();
                    anyhow::Error::from(e).context(format!("cannot read the stored series {id}{hint}"))
                }
            })?;
            // The history known at now (--now in a replay): no origin sees what came after it.
            let known = if ctx.now < s.end() { Some(s.window(s.start(), ctx.now)) } else { None };
            let s = if let Some(known) = known.filter(|k| k.len() < s.len()) {
                if known.is_empty() {
                    bail!(
                        "the stored series {id} starts at {}, after now ({}): no history to backtest\nhint: give a \
                         --now inside it, or none",
                        s.start().format("%Y-%m-%d %H:%M UTC"),
                        ctx.now.format("%Y-%m-%d %H:%M UTC")
                    );
                }
                say!(
                    "{id}: backtested on its history before {} ({} stored after it left out)",
                    ctx.now.format("%Y-%m-%d %H:%M UTC"),
                    crate::output::count((s.len() - known.len()) as u64) + " slots"
                );
                known
            } else {
                s
            };
            // On the step the nightly job fits at, so the scores are those of what it fits.
            let m = ctx.config.forecast.min_step_mins;
            let coarse = s.coarsen(m * 60);
            if coarse.step_secs() != s.step_secs() {
                say!(
                    "{id}: backtested on {m}-minute means of its {} s steps, as the nightly job fits it ([forecast] \
                     min_step_mins)",
                    s.step_secs()
                );
            }
            let s = coarse;
            let tz = gc.time_zone.as_deref().map(crate::config::parse_time_zone).transpose()?;
            let flags = forecast_flags(&holidays, tz, &[], ctx.now);
            let options = ctx.config.build_options(gc, &id.metric, flags, tz);
            series.push((id.to_string(), s, options));
        }
    }
    let specs: Vec<(String, ModelSpec)> = args
        .models
        .iter()
        .enumerate()
        // A model named twice is backtested once.
        .filter(|(i, m)| !args.models[..*i].contains(m))
        .map(|(_, m)| Ok((m.clone(), model_spec(m, configured.as_ref())?)))
        .collect::<Result<_>>()?;
    let mut results = Vec::new();
    for (name, s, options) in &mut series {
        // As `forecast fit` and `forecast show` read it: a few negatives as --min 0 would.
        if let Some((read, bounds, why)) = prescale_forecast::rare_negatives(s, &options.bounds) {
            warn!("{name}: {why}");
            *s = read;
            options.bounds = bounds;
        }
        let (name, s, options) = (&*name, &*s, &*options);
        let mut rows = Vec::new();
        say!("backtesting {name} ({} models × {} origins) …", specs.len(), settings.origins);
        if settings.horizon.num_seconds() < s.step_secs() {
            bail!(
                "{name}: --horizon {} is shorter than the series' step ({} s): no step to forecast\nhint: give a \
                 horizon of one step or more, e.g. --horizon 48h",
                args.horizon,
                s.step_secs()
            );
        }
        if settings.horizon.num_seconds() % s.step_secs() != 0 {
            let steps = settings.horizon.num_seconds() / s.step_secs();
            warn!(
                "{name}: --horizon {} is not a whole number of the series' {} s steps: backtested at {steps} step{} \
                 ({} min), so that each origin falls on a slot",
                args.horizon,
                s.step_secs(),
                if steps == 1 { "" } else { "s" },
                steps * s.step_secs() / 60
            );
        }
        let mut failed = Vec::new();
        // Each model's origins counted as they are done, on whichever thread: a backtest of weeks
        // of 1-minute data takes minutes before its first model's line.
        let progress = std::sync::Mutex::new(super::Progress::new("backtested", specs.len() * settings.origins));
        // The models on the threads, said and kept in the order asked for.
        let work = |_: usize, (m, spec): &(String, ModelSpec)| {
            let started = std::time::Instant::now();
            let each = |origin: chrono::DateTime<chrono::Utc>| {
                let item = format!("{m} origin {}", origin.format("%Y-%m-%d %H:%M UTC"));
                progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner).step(&item);
            };
            (evaluate_observed(m, spec, options, s, &settings, &each), started.elapsed())
        };
        prescale_core::par::in_order(&specs, super::threads(g), work, |i, (scored, took)| {
            let m = &specs[i].0;
            match scored {
                Ok(sc) => {
                    say!("  {m}: {} origins in {:.1} s", sc.runs.len(), took.as_secs_f64());
                    // As `forecast show` says them of the same fit: at the most recent origin.
                    for w in &sc.warnings {
                        warn!("{name}: {m}, fitted at the latest origin scored: {w}");
                    }
                    rows.push(sc);
                }
                Err(e) => failed.push((m, e.to_string())),
            }
        });
        // A history too short for one origin fails every model alike: said once, with what to try.
        let held = Duration::seconds(s.len() as i64 * s.step_secs());
        if rows.is_empty() && held < settings.horizon + Duration::days(2) {
            let hint = if held > Duration::days(2) + Duration::hours(1) {
                if args.input.is_some() {
                    "backtest a shorter horizon from fewer origins (e.g. --horizon 12h --origins 1), or give a file \
                     with more history"
                } else {
                    "backtest a shorter horizon from fewer origins (e.g. --horizon 12h --origins 1), or ingest more \
                     history"
                }
            } else if args.input.is_some() {
                "a file with more history: two days plus the horizon at the least (two days and some hours with a \
                 short --horizon)"
            } else {
                "ingest more history: two days plus the horizon at the least (two days and some hours with a short \
                 --horizon)"
            };
            bail!(
                "{name}: no model could be backtested: the history holds {}, and an origin needs two days of \
                 history before it and --horizon {} after it\nhint: {hint}",
                prescale_forecast::duration_text(held.num_seconds() as f64),
                args.horizon
            );
        }
        let fitted = rows.iter().map(|r| r.runs.len()).max().unwrap_or(0);
        if !rows.is_empty() && fitted < settings.origins {
            warn!(
                "{name}: {fitted} of the {} origins asked for fit in {:.1} days of history (each needs two days \
                 of measured history before it, a measured value in the day before it, and --horizon {} after it \
                 with a value to score, a separate stretch of the history for each)",
                settings.origins,
                held.num_seconds() as f64 / 86_400.0,
                args.horizon
            );
        }
        // Every model failing for the same reason (a gap in the only origin's training days): once.
        if rows.is_empty() && failed.len() > 1 && failed.iter().all(|(_, e)| *e == failed[0].1) {
            bail!("{name}: no model could be backtested: {}", failed[0].1);
        }
        for (m, e) in &failed {
            warn!("{name}: {m}: {e}");
        }
        if rows.is_empty() {
            bail!("{name}: no model could be backtested at any origin (the warnings above say why)");
        }
        results.push((name.clone(), rows));
    }
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
                    scale: r.scale,
                })
            })
        })
        .collect();
    // What a reader needs to score the rows again as this run did.
    let meta = [
        ("version", env!("CARGO_PKG_VERSION").to_string()),
        ("horizon_secs", settings.horizon.num_seconds().to_string()),
        ("train_secs", settings.train.num_seconds().to_string()),
        ("origins", settings.origins.to_string()),
        ("now", g.now.clone().unwrap_or_else(|| "none (the end of each series)".into())),
        (
            "mase",
            "MAE / mase_scale, the origin's mean |y(t) - y(t - 1 day)| (of lag 1 where that is 0), averaged over \
             origins"
                .into(),
        ),
    ];
    // The scores first: a file that cannot be written after all (a full disk) costs that file.
    output::backtest(&mut crate::output::stdout(), &results, args.format)?;
    prescale_store::write_backtests(&path, &runs, &settings.levels, &meta)
        .with_context(|| format!("the forecasts beside actuals were not written to {}", path.display()))?;
    say!("forecasts beside actuals: {}", path.display());
    Ok(())
}
