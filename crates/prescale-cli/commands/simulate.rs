//! `simulate`: traces and load tests replayed under every policy.

use super::*;

/// The simulate flags that override the step scaling prescale's fallback replays (the
/// defaults, or the group's `[groups.reactive.step]`), set on `s`; said to be ignored where no
/// policy replayed has step scaling.
pub(crate) fn step_flags(args: &SimulateArgs, s: &mut prescale_sim::SimSettings) -> Result<()> {
    unused_step_flags(args, &s.policies);
    let (target, ceiling) = (s.target_utilization, s.metric_ceiling);
    let step = &mut s.step;
    if let Some(on) = args.step_scaling {
        step.enabled = on;
    }
    if let Some(on) = args.step_owns_scale_in {
        step.owns_scale_in = on;
    }
    if step.owns_scale_in && !step.enabled {
        let by = if args.step_owns_scale_in == Some(true) {
            "--step-owns-scale-in true"
        } else {
            "the group's [groups.reactive.step] owns_scale_in = true"
        };
        bail!(
            "{by} needs step scaling, which {} turns off: with target tracking's scale-in disabled and no step \
             policy, nothing would scale the group in\nhint: drop one of the two",
            if args.step_scaling == Some(false) { "--step-scaling false" } else { "the group's configuration" }
        );
    }
    if let Some(pct) = args.step_in_percent {
        step.in_unit = prescale_plan::StepUnit::Percent;
        step.in_remove = pct;
    }
    if let Some(n) = args.step_in_periods {
        step.in_evaluation_periods = n;
        // A plan raises the scale-in window to cover the group's warm-up; the replay, to its boot
        // time. (Said only where a step policy is replayed: else the flag's warning above.)
        let window = step.in_window_mins(s.boot_mins.saturating_mul(60));
        let asked = (u64::from(n) * u64::from(step.period_secs.max(1))).div_ceil(60);
        let replayed = s
            .policies
            .iter()
            .any(|p| *p == prescale_sim::Policy::Step || (*p == prescale_sim::Policy::Prescale && step.enabled));
        if window > asked && replayed {
            warn!(
                "--step-in-periods {n} ({asked} min) is raised to {window} min, the replay's boot time: a scale-in \
                 alarm shorter than it would remove instances before the ones launched for the load serve (a plan \
                 raises it to the group's warm-up the same way)"
            );
        }
    }
    if let Some(f) = args.step_in_below {
        // The simulator reads thresholds in percent of an instance's capacity.
        let (out, _) = prescale_sim::group::StepScaling::thresholds(step, target, ceiling);
        let below = (out / (target * 100.0)).min(1.0);
        if !(f > 0.0 && f < below) {
            bail!(
                "--step-in-below {f} must lie between 0 and {below:.3} (a share of the {:.0} % target, below which \
                 the step policy scales in; at or above 1 it would scale in while target tracking scales out): e.g. \
                 0.8 scales in below 80 % of the target",
                target * 100.0
            );
        }
        step.in_threshold = Some(f * target * 100.0);
    }
    Ok(())
}

/// A trace whose peak is a thousand times its 95th percentile or more holds a glitch more likely
/// than load (a counter reset, a unit slip): replayed as load all the same, and said, since every
/// policy's shortfall at that minute is then about the glitch. From the replay's own 95th
/// percentile and demand.
fn glitch_warning(report: &prescale_sim::SimReport, label: &str) {
    let p95 = report.trace.p95;
    // The first minute of the peak: a 5-minute value fills five minutes, and it is the slot's stamp
    // that the file shows.
    let Some((minute, &peak)) = report.demand.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
    else {
        return;
    };
    if p95 > 0.0 && peak >= 1000.0 * p95 {
        let at = report.trace.start + chrono::Duration::minutes(minute as i64);
        warn!(
            "{label}: its peak {peak:.4e} (at {}) is {:.0}× its 95th percentile: a glitch (a counter reset, a unit \
             slip)? It is replayed as load; remove the row if it is not",
            at.format("%Y-%m-%d %H:%M UTC"),
            peak / p95
        );
    }
}

/// Says so when step-scaling flags were given but no policy asked for replays a step policy
/// (`step`, or prescale's fallback): they would be accepted and change nothing.
fn unused_step_flags(args: &SimulateArgs, policies: &[prescale_sim::Policy]) {
    use prescale_sim::Policy;
    if args.saturating_metric.is_some()
        && !policies.iter().any(|p| !matches!(p, Policy::Static | Policy::Scheduled | Policy::Oracle))
    {
        warn!(
            "--saturating-metric shapes what the reactive policies read, and none of the policies replayed has one \
             (static, scheduled and the oracle do not look at the metric)"
        );
    }
    if policies.iter().any(|p| matches!(p, Policy::Step | Policy::Prescale)) {
        return;
    }
    let given: Vec<&str> = [
        (args.step_scaling.is_some(), "--step-scaling"),
        (args.step_owns_scale_in.is_some(), "--step-owns-scale-in"),
        (args.step_in_percent.is_some(), "--step-in-percent"),
        (args.step_in_periods.is_some(), "--step-in-periods"),
        (args.step_in_below.is_some(), "--step-in-below"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, flag)| *flag)
    .collect();
    if !given.is_empty() {
        warn!(
            "{} shape the step policy and prescale's fallback, and none of the policies replayed ({}) has one: \
             ignored (add step or prescale to --policies)",
            given.join(", "),
            policies.iter().map(|p| p.name()).collect::<Vec<_>>().join(",")
        );
    }
}

/// What a configuration sets in every replay: its model and its forecasts' training window,
/// horizon and coarsest step, `[plan] lead_time_mins` and `min_hold_mins`, `[trust] unskilled`
/// and `[apply] keep_within_mins` (each unless its flag is given), and its `[cost]` currency and
/// the price `price` (`--price`, else the configured one: `[cost]`'s, or the group's with
/// `--group`).
fn from_config(s: &mut prescale_sim::SimSettings, args: &SimulateArgs, price: Option<f64>, c: &Config) {
    s.model = c.forecast.model.clone();
    let mins = |v: i64, default: u32| u32::try_from(v.max(0)).unwrap_or(default);
    s.train_days = mins(c.forecast.train_days.max(1), 28);
    s.horizon_hours = mins(c.forecast.horizon_hours.max(1), 48);
    s.forecast_min_step_mins = mins(c.forecast.min_step_mins.max(1), 5);
    s.lead_time_mins = args.lead_time_mins.unwrap_or(mins(c.plan.lead_time_mins, 10));
    s.min_hold_mins = args.min_hold_mins.unwrap_or(mins(c.plan.min_hold_mins, 60));
    s.floor_mean_mins = args.floor_mean_mins.or(c.plan.floor_mean_mins.and_then(|v| u32::try_from(v).ok()));
    s.unskilled = args.unskilled.unwrap_or(c.trust.unskilled);
    s.keep_within_mins = args.keep_within_mins.unwrap_or(c.apply.keep_within_mins);
    s.currency = c.cost.non_dollar_currency();
    s.price_per_hour = price;
}

/// The spot price: `--spot-price`, or `--spot-discount` off the on-demand `price` in force.
fn spot_price(args: &SimulateArgs, price: Option<f64>) -> Result<Option<f64>> {
    match (args.spot_price, args.spot_discount) {
        (Some(p), _) => Ok(Some(p)),
        (None, Some(d)) => match price {
            // Rounded to a millionth: 0.1 × (1 − 0.7) is 0.030000000000000006 in binary.
            Some(price) => Ok(Some((price * (1.0 - d) * 1e6).round() / 1e6)),
            None => bail!(
                "--spot-discount needs an on-demand price to discount: --price, or with --group or --config the \
                 configured instance_hour_price"
            ),
        },
        (None, None) => Ok(None),
    }
}

pub(crate) fn simulate(g: &Global, args: &SimulateArgs) -> Result<()> {
    if let Some(path) = &args.chart
        && !is_stream(path)
        && !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg"))
    {
        bail!(
            "--chart {}: the chart is drawn as SVG, and the file should say so\nhint: name it FILE.svg (convert it \
             with any SVG tool, e.g. `rsvg-convert -o chart.png chart.svg`, for a PNG)",
            path.display()
        );
    }
    if let Some(path) = &args.timeseries
        && !is_stream(path)
        && !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        bail!(
            "--timeseries {}: the time series is written as Parquet, and the file should say so\nhint: name it \
             FILE.parquet (notebooks/simulate.ipynb reads it; for CSV, read it with pandas or duckdb and write it out)",
            path.display()
        );
    }
    // Before the replay: a path that cannot be written would lose its minutes.
    for (flag, out) in [("--timeseries", &args.timeseries), ("--chart", &args.chart)] {
        if let Some(out) = out {
            super::writable_file(out, flag)?;
        }
    }
    args.zone.for_input_only(args.input.is_some())?;
    // An output written over the trace it replays would lose the trace.
    if let Some(input) = &args.input {
        for (flag, out) in [("--timeseries", &args.timeseries), ("--chart", &args.chart)] {
            if let Some(out) = out
                && same_file(input, out)
            {
                bail!(
                    "{flag} {} is the --input trace itself: writing it would replace the trace\nhint: name another \
                     file for {flag}",
                    out.display()
                );
            }
        }
    }
    if let Some(d) = args.spot_discount
        && !(0.0..1.0).contains(&d)
    {
        bail!("--spot-discount {d} must be a fraction in [0, 1) (0.7: spot costs 30 % of the on-demand price)");
    }
    let mut s = prescale_sim::SimSettings {
        capacity_per_instance: args.capacity,
        target_utilization: args.target.unwrap_or(0.7),
        min_size: args.min.unwrap_or(1),
        max_size: args.max,
        boot_mins: args.boot_mins.unwrap_or(5),
        price_per_hour: args.price,
        spot_share: args.spot_share,
        quantile: args.quantile.unwrap_or(0.9),
        quantile_utilization: args.quantile_utilization.or(Some(1.0)),
        point_at_target: args.point_at_target.unwrap_or(false),
        unskilled: args.unskilled.unwrap_or_default(),
        lead_time_mins: args.lead_time_mins.unwrap_or(10),
        min_hold_mins: args.min_hold_mins.unwrap_or(60),
        floor_mean_mins: args.floor_mean_mins,
        keep_within_mins: args.keep_within_mins.unwrap_or(15),
        min_history_days: args.min_history_days,
        scale_in_cooldown_mins: args.cooldown_mins,
        metric_ceiling: args.saturating_metric.unwrap_or(false).then_some(1.0),
        metric_period_mins: args.metric_period_mins,
        // Each once, in the order given (`reactive,reactive` is one row).
        policies: args.policies.iter().fold(Vec::new(), |mut v, p| {
            if !v.contains(p) {
                v.push(*p);
            }
            v
        }),
        threads: super::threads(g),
        ..prescale_sim::SimSettings::default()
    };
    // A replay of a file or a load test runs on the trace's own clock; only a group's stored load
    // is read as of --now (through the context). Checked all the same: a typo is not silently fine.
    if args.group.is_none()
        && let Some(text) = &g.now
    {
        super::parse_now(text)?;
        warn!(
            "--now (or PRESCALE_NOW) {text} is not used by a replay of --input or --scenario: the replay runs on the \
             trace's own clock, each night seeing the trace up to that night (cut the file to replay part of it)"
        );
    }
    if let Some(choice) = args.scenario {
        let history = prescale_sim::scenario::HISTORY_DAYS;
        if s.policies.iter().any(|p| p.forecasts()) && i64::from(s.min_history_days) > history {
            bail!(
                "--min-history-days {}: a load test's generated trace holds {history} days of history before its test \
                 day\nhint: give at most {history}, or leave it out",
                s.min_history_days
            );
        }
        if let Some(p) = &g.config {
            let c = Config::load(p)?;
            from_config(&mut s, args, args.price.or(c.cost.instance_hour_price), &c);
            s.forecast = generated_options(&c);
        }
        step_flags(args, &mut s)?;
        s.spot_price_per_hour = spot_price(args, s.price_per_hour)?;
        return scenarios(args, &s, &choice.scenarios());
    }
    let mut input_repairs = Vec::new();
    let (trace, label) = match (&args.input, &args.group) {
        (Some(path), _) => {
            let config = g.config.as_deref().map(Config::load).transpose()?;
            s.forecast = file_options(config.as_ref(), &args.zone, &[], None, Utc::now())?;
            s.schedule_zone = args.zone.zone()?;
            if let Some(c) = &config {
                from_config(&mut s, args, args.price.or(c.cost.instance_hour_price), c);
            }
            let (series, repairs) =
                super::forecast::read_input_repaired(path, config.as_ref(), args.zone.file_zone()?)?;
            input_repairs = repairs;
            // A percentage (an average CPU) is per instance: as a group's total load it replays the
            // shape, not what the group served. Said, not refused (a trace of anything is a shape).
            let finite = || series.values().iter().copied().filter(|v| v.is_finite());
            let (lo, hi) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
            if args.capacity.is_none() && lo >= 0.0 && hi <= 100.0 && hi > 50.0 {
                warn!(
                    "{}: its values stay within 0–{hi:.0}: if it is a percentage (an average CPU), it is per \
                     instance, and replayed as the group's total load it gives the load's shape, not what the group \
                     served\nhint: replay the total (the average × the instances in service, or a request count) with \
                     --capacity in its units",
                    path.display()
                );
            }
            (series, path.display().to_string())
        }
        (None, Some(name)) => {
            let ctx = reading_context(g)?;
            let gc = selected(&ctx, &GroupFilter { groups: vec![name.clone()] })?[0];
            let id = Config::load_id(gc);
            // Opening a store creates it: a mistyped --store would be left behind, empty.
            if !ctx.store_dir.is_dir() {
                bail!(
                    "no metric store at {}: nothing to replay for group {name}\nhint: run `prescale ingest --group \
                     {name}` (or `prescale nightly`) first, or give --store the folder that holds it",
                    ctx.store_dir.display()
                );
            }
            let series = MetricStore::for_reading(&ctx.store_dir).read(&id).with_context(|| {
                format!(
                    "no stored load for {id}\nhint: run `prescale ingest --group {}` (or `prescale nightly`) first",
                    prescale_plan::shell_word(name)
                )
            })?;
            let ps = ctx.config.plan_settings(gc)?;
            let capacity = args.capacity.unwrap_or(ps.capacity_per_instance);
            s.capacity_per_instance = Some(capacity);
            s.target_utilization = args.target.unwrap_or(ps.target_utilization);
            s.quantile = args.quantile.unwrap_or(ps.quantile);
            s.quantile_utilization = args.quantile_utilization.or(ps.quantile_utilization);
            s.point_at_target = args.point_at_target.unwrap_or(ps.point_at_target);
            s.min_size = args.min.unwrap_or(gc.min_size.max(1));
            if args.min.is_none() && gc.min_size == 0 {
                warn!(
                    "group {name}: min_size = 0 is replayed with a minimum of 1 instance (the simulator's groups \
                     always serve; a group scaled to zero would fail every request until one boots)"
                );
            }
            s.max_size = args.max.or(Some(ps.bounds.max()));
            s.headroom = ps.headroom;
            s.step = prescale_sim::replayed_step(&ps.reactive, s.target_utilization);
            // A metric published per minute whatever the instances' monitoring (a load
            // balancer's requests): its alarms read 1-minute periods unless told.
            if prescale_plan::published_per_minute(&ps.reactive.metric) {
                s.metric_period_mins = args.metric_period_mins.or(Some(1));
            }
            s.schedule_zone = ps.time_zone;
            // CPU's 100 % in the replay's units: its target value stands for the target utilization.
            let full = prescale_plan::metric_ceiling(&ps.reactive.metric)
                .filter(|_| ps.reactive.target_value > 0.0)
                .map(|c| s.target_utilization * c / ps.reactive.target_value);
            s.metric_ceiling =
                if args.saturating_metric.unwrap_or(full.is_some()) { Some(full.unwrap_or(1.0)) } else { None };
            // The replay's metric is the load over the serving capacity, not the group's own.
            say!(
                "note: utilization here is {id} over {} per instance ({}); the plan's target tracking on {} = {} is \
                 replayed as {:.0} % of it ({}), its step alarms at the same ratio",
                crate::output::num(capacity),
                if args.capacity.is_some() { "--capacity" } else { "the group's capacity_per_instance" },
                ps.reactive.metric,
                ps.reactive.target_value,
                s.target_utilization * 100.0,
                if args.target.is_some() { "--target" } else { "the group's target_utilization" }
            );
            // The group's warm-up is how long its instances take to count: the boot replayed.
            s.boot_mins = args.boot_mins.unwrap_or(gc.reactive.warmup_secs.div_ceil(60));
            from_config(&mut s, args, args.price.or(ctx.config.price(name)), &ctx.config);
            // The group's own lead time, where it has one.
            s.lead_time_mins = args.lead_time_mins.unwrap_or(u32::try_from(ps.lead_time.num_minutes()).unwrap_or(10));
            // As `forecast fit` builds the group's forecasts, less its events (the replay does not
            // apply them ahead either).
            let flags = forecast_flags(&ctx.config.forecast.holiday_dates()?, ps.time_zone, &[], ctx.now);
            let events = EventStore::new(&ctx.store_dir).load().map(|v| v.iter().filter(|e| e.group() == name).count());
            if let Ok(n @ 1..) = events {
                say!(
                    "note: {name}'s {n} stored event{} not applied: the replay plans from its forecasts alone \
                     (`prescale plan --what-if --group {}` shows what they do to the floors)",
                    if n == 1 { " is" } else { "s are" },
                    prescale_plan::shell_word(name)
                );
            }
            s.forecast = ctx.config.build_options(gc, &id.metric, flags, ps.time_zone);
            (series, id.to_string())
        }
        (None, None) => bail!(
            "nothing to replay\nhint: give --input FILE (a CSV or Parquet trace of ts,value), --group NAME (a group's \
             stored load) or --scenario ramp|spike|sustained|scale-down|all (the standard load tests)"
        ),
    };
    step_flags(args, &mut s)?;
    s.spot_price_per_hour = spot_price(args, s.price_per_hour)?;
    // Each night's forecast and plan is the long part: said as it happens (-v), and on a terminal
    // as a progress line that the table then replaces.
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // In a log, a line every half minute or more, so that a long replay is seen to go on.
    let mut said = std::time::Instant::now();
    let mut progress = |n: &prescale_sim::NightRun, done: usize, total: usize| {
        if tty {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
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
        if tty && done < total {
            let _ =
                write!(std::io::stderr(), "replaying {label}: night {done} of {total} ({})", n.at.format("%Y-%m-%d"));
        } else if !tty && done == 1 && total > 1 {
            // A log (cron, CI) gets one line, not a counter: the replay's seconds are accounted for.
            say!("replaying {label}: {total} nights, each a forecast and a plan from the trace up to it");
            said = std::time::Instant::now();
        } else if !tty && done < total && said.elapsed() >= super::LOG_EVERY {
            say!("replaying {label}: night {done} of {total} ({}) done", n.at.format("%Y-%m-%d"));
            said = std::time::Instant::now();
        }
    };
    let mut report = prescale_sim::simulate_with_progress(&trace, &s, &mut progress)
        .with_context(|| format!("cannot simulate {label}"))?;
    report.trace.input_repairs = input_repairs;
    // A group's capacity per instance is its configuration's, not given on the command line.
    if args.group.is_some() && args.capacity.is_none() {
        report.settings.capacity_source = "group";
    }
    glitch_warning(&report, &label);
    // A replay that has its first forecast in its last hours compares the reactive fallbacks, not
    // the forecasts: said, not refused (the other rows stand).
    if let Some(first) = report.nights.first().map(|n| n.at)
        && report.trace.end - first < chrono::Duration::days(1)
        && s.policies.iter().any(|p| matches!(p, prescale_sim::Policy::Prescale | prescale_sim::Policy::AwsStyle))
    {
        warn!(
            "{label}: the first forecast is at {} and only {:.1} h of the trace follow it: the prescale and aws-style \
             rows are mostly their reactive fallback\nhint: replay a trace at least a day longer than \
             --min-history-days ({} days)",
            first.format("%Y-%m-%d %H:%M UTC"),
            (report.trace.end - first).num_minutes() as f64 / 60.0,
            s.min_history_days
        );
    }
    // Static and scheduled are sized on the first min-history-days; a shorter trace sizes them on
    // all of it, the load they then serve included: said, as the README says it.
    let minutes = (report.trace.end - report.trace.start).num_minutes();
    if minutes <= i64::from(s.min_history_days) * 1440
        && s.policies.iter().any(|p| matches!(p, prescale_sim::Policy::Static | prescale_sim::Policy::Scheduled))
    {
        warn!(
            "{label}: the trace is no longer than --min-history-days ({} days): the static and scheduled rows are \
             sized on all of it, the load they serve included (they know the future here)",
            s.min_history_days
        );
    }
    // The report first: a file that cannot be written after all (a full disk) costs that file.
    let out = &mut crate::output::stdout();
    match args.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        ReportFormat::Table => {
            // A group's own sizing, unless a flag sets it.
            let planned = args.group.is_some() && args.quantile_utilization.is_none() && args.point_at_target.is_none();
            output::simulation(out, &label, &report, planned)?
        }
    }
    if let Some(path) = &args.timeseries {
        write_timeseries(path, &report, &[]).context("--timeseries: not written")?;
        say!("timeseries: {}", path.display());
    }
    if let Some(path) = &args.chart {
        let o = prescale_sim::chart::ChartOptions { title: label.clone(), ..Default::default() };
        write_file_atomic(path, prescale_sim::chart::svg(&report, &o).as_bytes()).context("--chart: not written")?;
        say!("chart: {}", path.display());
    }
    Ok(())
}

/// Writes `report`'s `simulations/v2` file; `more` metadata (name, value) beside the replay's settings.
pub(crate) fn write_timeseries(path: &Path, report: &prescale_sim::SimReport, more: &[(&str, String)]) -> Result<()> {
    let runs: Vec<prescale_store::SimulationRun> = report
        .policies
        .iter()
        .zip(&report.timeline)
        .enumerate()
        .map(|(i, (p, tl))| prescale_store::SimulationRun {
            policy: p.policy.name(),
            instances: tl,
            floors: report.floors.get(i).map_or(&[], Vec::as_slice),
        })
        .collect();
    prescale_store::write_simulations(
        path,
        report.trace.start,
        &report.demand,
        &report.held,
        report.settings.capacity_per_instance,
        &runs,
        &[
            ("capacity_per_instance", report.settings.capacity_per_instance.to_string()),
            ("target_utilization", report.settings.target_utilization.to_string()),
            ("min_size", report.settings.min_size.to_string()),
            ("max_size", report.settings.max_size.to_string()),
            ("boot_mins", report.settings.boot_mins.to_string()),
        ]
        .into_iter()
        .chain(more.iter().cloned())
        .collect::<Vec<_>>(),
    )?;
    info!("wrote {} rows to {}", runs.len() * report.demand.len(), path.display());
    Ok(())
}

/// `path` itself for one scenario; `stem-NAME.ext` beside it for several.
pub(crate) fn scenario_path(path: &Path, name: &str, several: bool) -> PathBuf {
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
pub(crate) fn scenarios(
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
            // The test's window, for readers that recompute the table's kept-up and scale-out columns.
            let at = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let window_end = r.shape.end + chrono::Duration::minutes(scenario::AFTER_MINS as i64);
            let more = [
                ("scenario", sc.name().to_string()),
                ("onset", at(r.shape.onset)),
                ("peak_end", at(r.shape.peak_end)),
                ("test_end", at(r.shape.end)),
                ("window_end", at(window_end)),
                ("scale_out_target_mins", scenario::SCALE_OUT_TARGET_MINS.to_string()),
                ("scale_in_threshold", prescale_sim::group::SCALE_IN_THRESHOLD.to_string()),
            ];
            let path = scenario_path(path, sc.name(), several);
            write_timeseries(&path, &r.replay, &more)?;
            say!("timeseries: {}", path.display());
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
            say!("chart: {}", path.display());
        }
        reports.push(r);
    }
    let out = &mut crate::output::stdout();
    match args.format {
        ReportFormat::Json => {
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
        ReportFormat::Table => output::scenarios(out, &reports),
    }
}
