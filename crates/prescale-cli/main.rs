//! `prescale`: predictive scaling for EC2 Auto Scaling groups.

/// `eprintln!` that never panics: with stderr closed (`prescale plan --what-if 2>&1 | head -3`)
/// the line is lost, not the run (`eprintln!` panics on a write error).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        // A progress line standing on the terminal is wiped first, as the log's writer does.
        crate::commands::Progress::wipe();
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod commands;
mod config;
mod demo;
mod output;
mod stop;
mod tz_links;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Predictive scaling for AWS EC2 Auto Scaling groups: ingest metrics, forecast them with
/// calibrated intervals, plan scheduled capacity floors plus a reactive fallback, and apply the
/// plan idempotently (dry run unless --execute).
///
/// With no --config and no ./prescale.toml, every command runs on the built-in demo (three groups,
/// four weeks of generated 5-minute load under data/demo/), offline, with no AWS account.
/// AWS credentials, region and endpoint come from the SDK's standard chain (environment, profile,
/// instance role); AWS_ENDPOINT_URL sends every call elsewhere, e.g. to a local moto server for a
/// trial.
///
/// The ML model (`--model ridge`, with holiday and event flags) is built but not part of `auto`;
/// `auto` learns configured holidays (`[forecast] holidays`) and weekends (`[forecast] weekends`)
/// as a ratio to an ordinary day;
/// log/Box-Cox transforms are available but off by default (`[forecast] transform`). The commands
/// below are what exists.
#[derive(Debug, Parser)]
#[command(name = "prescale", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Configuration file [default: ./prescale.toml if present, else the built-in demo; a command
    /// that writes to groups (`--execute`) takes the demo only when named: `--config demo`]
    #[arg(long, global = true, env = "PRESCALE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Metric store and forecast directory [default: the config's [store] dir; OUT/store for the demo]
    #[arg(long, global = true, env = "PRESCALE_STORE", value_name = "DIR")]
    store: Option<PathBuf>,
    /// Folder for outputs: plan.json, dry-run changes, the audit log (plan, apply, nightly; simulate and
    /// forecast show write where their own flags say)
    #[arg(long, global = true, env = "PRESCALE_OUT", value_name = "DIR", default_value = "prescale-out")]
    out: PathBuf,
    /// Run as if it were this instant (RFC 3339; a time without an offset is UTC; a replay of a file or
    /// a load test runs on its own clock) [default: now; the
    /// end of the data for the demo]
    #[arg(long, global = true, env = "PRESCALE_NOW", value_name = "TIME")]
    now: Option<String>,
    /// More log output on stderr: -v each step's progress (info), -vv also the AWS SDK's log of
    /// each call it makes and retries (debug; access key ids taken out); PRESCALE_LOG=FILTER sets
    /// any other
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Threads the fits run on: one series each (forecast fit, nightly), one model each (backtest),
    /// one night each (simulate), the candidates' backtests of one file (forecast show --input).
    /// Fewer leave cores to other work; the results are the same whatever the number [default: the
    /// machine's cores]
    #[arg(long, global = true, env = "PRESCALE_THREADS", value_name = "N", value_parser = parse_threads, allow_negative_numbers = true)]
    threads: Option<Threads>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Pull metrics (CloudWatch, CSV or Parquet, from the config) into the Parquet metric store.
    ///
    /// A series that cannot be stored (a damaged stored file, another step) is named with what to
    /// do and left as it was; the others are stored, and the run exits 1. So are the series of a
    /// source that cannot be read (CloudWatch) beside groups that set other sources; where it
    /// serves every group, the run stops with its error and the store unchanged.
    Ingest(GroupFilter),
    /// Fit forecasters and show forecasts.
    #[command(subcommand)]
    Forecast(ForecastCmd),
    /// Score forecasting models by rolling-origin backtests on a group's history or a file.
    Backtest(BacktestArgs),
    /// Turn forecasts into a capacity plan (scheduled floors + reactive policy), written as JSON.
    Plan(PlanArgs),
    /// Planned events (sales, launches, matches) that shape a group's forecast, so capacity rises
    /// ahead of them and comes down after.
    #[command(subcommand)]
    Event(EventCmd),
    /// Leave groups alone for a while (an incident, a migration): no plan is made or applied to
    /// them until the pause ends or `prescale resume`.
    ///
    /// What prescale put on a paused group stays as it is (its floors still run at their times);
    /// to take its floors down now and keep its scaling policies, `prescale apply --revert
    /// --floors-only --group NAME --execute`. Plan, nightly and apply warn of each paused group
    /// on every run and exit 0 for it. Without --group or --all, lists the pauses.
    Pause(PauseArgs),
    /// End the pauses of groups (`prescale pause`): the next plan plans them again.
    Resume(ResumeArgs),
    /// Diff a plan against the groups and, with --execute, apply it; or, with --revert, remove
    /// everything prescale owns from them and put back the bounds its floors left raised. Dry run
    /// by default.
    Apply(ApplyArgs),
    /// The nightly job: ingest, forecast fit, plan and apply (dry run unless --execute).
    ///
    /// A series that cannot be stored keeps what the store held, and a group without a forecast
    /// is planned with its reactive policy alone; a group whose load stopped coming
    /// (`[trust] max_data_age_mins`), whose load is below zero more than one value in twenty (a
    /// sign flipped), or whose stored file is damaged is left out of the plan, so the floors in
    /// place stay. The other groups are planned (and applied), and the run then exits 1 so that
    /// the job's monitoring sees it; so does a group that cannot take its plan (a MaxSize below
    /// its floors, Auto Scaling processes suspended on it), said on every run. A mistake in the
    /// configuration stops the run before anything is read, every mistake listed, exit 1.
    /// A SIGTERM during the writes (a timeout) lets the call in flight finish, attempts nothing
    /// after it and exits 143; before them it stops the run at once (store writes are atomic).
    ///
    /// With --execute a run waits up to two minutes for another that writes to the groups
    /// (STORE/apply.lock, and OUT/apply.lock for another store writing to the same --out), then
    /// fails naming it. Exit codes: 0 done; 1 a failure or a group left out (said on stderr; with
    /// --strict also a plan that needs a person); 2 a bug in prescale; 129, 130, 143 stopped by
    /// SIGHUP, Ctrl-C, SIGTERM.
    Nightly(NightlyArgs),
    /// Replay a load trace minute by minute under reactive, step, static, scheduled, AWS-style,
    /// prescale and oracle scaling, re-forecasting and re-planning every midnight, and compare
    /// them.
    ///
    /// The trace is a file or a group's stored load; the clock is simulated. At every midnight
    /// (UTC) with enough history before it, the real forecast and the real planner run on the
    /// history known at that instant, with no look at what follows; before the first run the
    /// forecasting policies scale by their reactive policies alone. prescale's reactive fallback is
    /// what the plan writes: target tracking and step scaling (the larger capacity wins when both
    /// act; --step-scaling false leaves target tracking alone); aws-style has target tracking.
    /// Every policy sees the same trace and capacity model; each starts warm. Same inputs,
    /// byte-identical output.
    ///
    /// A minute takes the value of the trace's slot it falls in (held constant within a longer step,
    /// the mean of the slots within it for a shorter one). A file's gaps up to [ingest]
    /// grid.max_interpolate_secs (1 h) are interpolated as it is read (the table's "read:" line and
    /// the JSON's input_repairs say so, with duplicates averaged and the like); slots still missing
    /// and negative values (glitches: load is not negative) are held at the last value before them (the JSON counts both);
    /// the forecasts see missing slots as missing. Under-provisioned: demand above the serving instances' full capacity
    /// (capacity × serving instances). Instance-hours count booting instances too.
    ///
    /// Costs: instance-hours, and with --price their on-demand dollars; with --spot-share also the
    /// dollars when that share of the instance-hours runs on spot (at --spot-price, or --price less
    /// --spot-discount). Spot interruptions are not modelled.
    ///
    /// --chart FILE.svg draws demand against each policy's serving capacity, one panel per policy on
    /// a shared time axis (a long trace is drawn per pixel column with the column's highest demand
    /// and capacity, so spikes stay visible; red marks: under-provisioned minutes).
    ///
    /// --scenario runs the standard load tests instead of a trace. Each generated trace (1-minute
    /// step, from Monday 2026-01-05 00:00 UTC) has four days of ordinary traffic (a daily cycle from
    /// 1,000 at 04:00 to 2,000 at 16:00 UTC, ±3 % noise), then on day five the load generator holds
    /// the base B = 1,750 from 11:45 and runs the test from 12:00 (the onset), exact and without noise:
    ///
    /// - ramp: 1× to 5× B over 60 min, 30 min at 5×, down to 1× over 30 min;
    ///
    /// - spike: 10× B from one minute to the next, for 20 min;
    ///
    /// - sustained: up to 4× B in 5 min, held for 4 h;
    ///
    /// - scale-down: up to 5× B in 10 min, held 1 h, then 1× B at once for 3 h.
    ///
    /// Capacity defaults to 250 per instance (the ordinary peak needs 12 instances at 70 %), MaxSize
    /// to twice what the test's peak needs. The nightly forecasts see only ordinary days, so the
    /// forecasting policies meet the test with their reactive fallback. Per scenario and policy, from
    /// the onset to an hour after the test: kept up (no under-provisioned minute), the worst
    /// shortfall, the scale-out time (minutes from the onset until serving capacity covers demand for
    /// the rest of the peak; target: at most 5), the scale-in time after the peak, and reversals
    /// within an hour (thrashing). Target tracking acts after 3 breaching minutes and its instances
    /// serve after the boot, so at a 5-minute boot it needs 8 minutes; --boot-mins 2 meets the target.
    ///
    /// Figures over the load-like NAB series: `bash benches/simulate-nab.sh`; the 4-week 1-minute
    /// replay's speed: `cargo bench --bench pipeline -- simulate` (README, Simulator).
    Simulate(SimulateArgs),
    /// The demo data.
    #[command(subcommand)]
    Demo(DemoCmd),
}

#[derive(Debug, Args, Clone, Default)]
struct GroupFilter {
    /// Only these groups (repeatable) [default: all groups of the config]
    #[arg(long = "group", value_name = "NAME")]
    groups: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum ForecastCmd {
    /// Fit the configured model to every group's stored series and write forecasts to Parquet.
    Fit(GroupFilter),
    /// Print a forecast: a group's latest (from `forecast fit`) or, with --input, an ad-hoc one.
    Show(Box<ShowArgs>),
}

/// The zone of a file's load (`--input`), as a group's `time_zone` and `daily_clock` say it.
#[derive(Debug, Args)]
struct ZoneArgs {
    /// For --input: the IANA zone the load lives in (e.g. America/New_York): holidays are its whole
    /// local days and weekends its Saturdays and Sundays, as with a group's time_zone (and
    /// simulate's scheduled policy keeps 08:00–22:00 there); the file's stamps without an offset
    /// are still read as UTC (see --file-time-zone) [default: UTC]
    #[arg(long, value_name = "ZONE", requires = "input")]
    time_zone: Option<String>,
    /// For --input: the IANA zone in which the file's stamps without an offset are written (an
    /// export in local wall-clock time, e.g. Europe/Berlin), as a metric's file_time_zone; stamps
    /// with an offset or Z are read as they say. A repeated autumn hour is read by its neighbours;
    /// a stamp in the spring hour the clocks skip is refused, as no such time exists there
    /// [default: UTC]
    #[arg(long, value_name = "ZONE", requires = "input")]
    file_time_zone: Option<String>,
    /// For --input: learn the daily cycle on --time-zone's standard-time clock (local: for load that
    /// follows its office hours, whose rise moves by an hour in UTC with daylight saving), on UTC
    /// (utc), or on the one the file's last week follows clearly better where it crosses a change of
    /// the zone's offset (auto), as a group's daily_clock [default: auto]
    #[arg(long, value_enum, value_name = "CLOCK", requires = "time_zone")]
    daily_clock: Option<config::DailyClock>,
}

impl ZoneArgs {
    /// The flags shape a file's forecasts only: with a group (its configured zone and clock) or a
    /// load test they would be ignored, so they are refused. (clap's `requires` is not enforced
    /// across a flattened struct.)
    fn for_input_only(&self, input: bool) -> anyhow::Result<()> {
        if !input && (self.time_zone.is_some() || self.daily_clock.is_some() || self.file_time_zone.is_some()) {
            anyhow::bail!(
                "--time-zone, --daily-clock and --file-time-zone are for --input: a group's forecasts follow its \
                 configured time_zone and daily_clock, its stored load its metrics' file_time_zone (and simulate's \
                 load tests are generated in UTC)\nhint: drop them; a group's zone is its time_zone in the \
                 configuration"
            );
        }
        Ok(())
    }

    /// The zone the load lives in, `--time-zone` (`None`: UTC).
    fn zone(&self) -> anyhow::Result<Option<chrono_tz::Tz>> {
        static SAID: std::sync::Once = std::sync::Once::new();
        flag_zone(self.time_zone.as_deref(), "--time-zone", &SAID)
    }

    /// The zone of the file's stamps without an offset (`None`: UTC).
    fn file_zone(&self) -> anyhow::Result<Option<chrono_tz::Tz>> {
        static SAID: std::sync::Once = std::sync::Once::new();
        flag_zone(self.file_time_zone.as_deref(), "--file-time-zone", &SAID)
    }
}

/// The zone a `flag` names, its doubt (a fixed offset, an alias) warned of once, however often a
/// command asks (`said`).
fn flag_zone(name: Option<&str>, flag: &str, said: &'static std::sync::Once) -> anyhow::Result<Option<chrono_tz::Tz>> {
    let zone = name.map(|z| config::zone_named(z, flag)).transpose()?;
    if let Some(doubt) = zone.and_then(|z| config::zone_doubt(z, false)) {
        said.call_once(|| tracing::warn!("{flag} {:?} {doubt}", name.unwrap_or_default()));
    }
    Ok(zone)
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// Group whose latest forecast to show
    #[arg(long, conflicts_with = "input")]
    group: Option<String>,
    /// Metric of the group [default: the group's load metric]
    #[arg(long, requires = "group")]
    metric: Option<String>,
    /// Fit and forecast this CSV or Parquet file of `ts,value` (or `timestamp,value`) rows (`-`:
    /// standard input) instead;
    /// with --now, only its rows before that instant (a forecast as it would have been made then).
    /// Every model fits on the file's last 28 days ([forecast] train_days with --config; the days
    /// before are left out, said) (`prescale backtest --input` trains on 14 by default: its
    /// --train 28d scores what this prints); a pipe on standard input is read as CSV
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Forecast horizon, e.g. 48h, 2d, 90m (at most 14d) [default: 48h for --input; all the
    /// stored forecast holds for --group, which this shortens]
    #[arg(long, allow_hyphen_values = true)]
    horizon: Option<String>,
    /// Interval levels in percent, comma-separated [default: 80,95 for --input; for --group, the
    /// configured [forecast] levels the stored forecast holds]
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = level_number)]
    levels: Vec<f64>,
    /// With --group: the forecast as the plan uses it, shaped by the group's stored events within it
    /// (without: the model's forecast, and a note naming those events)
    #[arg(long, requires = "group", conflicts_with = "input")]
    events: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Model for --input: auto, mstl, profile, ets, median, seasonal-naive, ridge, or config (the config's
    /// [forecast] model) [default: config with --config, else auto]
    #[arg(long, requires = "input", conflicts_with = "group")]
    model: Option<String>,
    /// Holidays for --input, comma-separated YYYY-MM-DD (whole days in --time-zone, UTC without it;
    /// added to the config's [forecast] holidays). Every model but seasonal-naive learns their effect from the history
    #[arg(long, requires = "input", conflicts_with = "group", value_delimiter = ',')]
    holidays: Vec<String>,
    /// Fit on a transform of the series for --input: none, log or box-cox (λ by Guerrero's
    /// method) [default: the config's [forecast] transform, else none]
    #[arg(long, requires = "input", conflicts_with = "group", value_parser = parse_transform)]
    transform: Option<prescale_forecast::transform::Transform>,
    /// Learn how weekends (Saturday and Sunday, UTC or --time-zone) differ from weekdays, for --input, where two
    /// weekends of the history agree, or halfway from a single one that stands out [default: the
    /// config's [forecast] weekends, else true]
    #[arg(long, requires = "input", conflicts_with = "group")]
    weekends: Option<bool>,
    /// The smallest value the metric can take, for --input (forecasts are clipped to it)
    #[arg(long, requires = "input", conflicts_with = "group", allow_negative_numbers = true)]
    min: Option<f64>,
    /// The largest value the metric can take, for --input (e.g. 100 for a CPU percentage)
    #[arg(long, requires = "input", conflicts_with = "group", allow_negative_numbers = true)]
    max: Option<f64>,
    /// Fit --input on its means over this many minutes where its step is finer (a divisor of a
    /// day): what the nightly job does at [forecast] min_step_mins (5), several times faster on
    /// 1-minute data; the rows are then at that step, the values means of the file's [default:
    /// the file's own step; a step under a minute, 1]
    #[arg(long, requires = "input", conflicts_with = "group", value_name = "MINUTES")]
    min_step_mins: Option<i64>,
    #[command(flatten)]
    zone: ZoneArgs,
}

#[derive(Debug, Args)]
struct BacktestArgs {
    #[command(flatten)]
    filter: GroupFilter,
    /// Backtest this CSV or Parquet file of `ts,value` rows (`-`: standard input) instead of the
    /// groups' stored load
    #[arg(long, value_name = "FILE", conflicts_with = "groups")]
    input: Option<PathBuf>,
    /// Models to score, comma-separated: auto, mstl, profile, ets, median, seasonal-naive, ridge, config
    #[arg(long, value_delimiter = ',', default_value = "auto,mstl,profile,median,seasonal-naive")]
    models: Vec<String>,
    /// Origins: the last N non-overlapping horizons of the history (fewer where the history is
    /// too short for N, with a warning)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
    origins: u16,
    /// Forecast horizon from each origin, e.g. 48h
    #[arg(long, default_value = "48h", allow_hyphen_values = true)]
    horizon: String,
    /// Training window before each origin, e.g. 14d [default: a group's [forecast] train_days, what
    /// `forecast fit` fits on; 14d for --input, as the shared protocol scores, where `forecast show
    /// --input` fits on 28: 28d scores that]
    #[arg(long)]
    train: Option<String>,
    /// Interval levels scored, in percent
    #[arg(long, value_delimiter = ',', default_value = "80,95", allow_negative_numbers = true, value_parser = level_number)]
    levels: Vec<f64>,
    /// Output format of the scores
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Every origin's forecast beside the actuals, as Parquet [default: OUT/backtest.parquet]
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Fit --input on its means over this many minutes where its step is finer (a divisor of a
    /// day): what the nightly job does at [forecast] min_step_mins (5), several times faster on
    /// 1-minute data; the rows are then at that step, the values means of the file's [default:
    /// the file's own step; a step under a minute, 1]
    #[arg(long, requires = "input", conflicts_with = "groups", value_name = "MINUTES")]
    min_step_mins: Option<i64>,
    #[command(flatten)]
    zone: ZoneArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A readable table
    Table,
    /// CSV (forecast show: ts,mean,lo<L>,hi<L>,…, `mean` the point forecast, a robust centre nearer
    /// the median than the mean of skewed load; backtest: one row per series and model)
    Csv,
    /// JSON
    Json,
}

/// How a report that is not a table of rows (a simulation) is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    /// A readable table
    Table,
    /// JSON: one object per policy (the Parquet time series has the rows: --timeseries)
    Json,
}

/// `plan --help`'s heading of the options that try an event, apart from the options every command takes.
const WHAT_IF: &str = "Trying an event (--what-if)";

/// Stored events (`prescale event add`) shape each group's forecast before it is planned; the
/// plan's decisions name every event and what it did.
#[derive(Debug, Args)]
struct PlanArgs {
    #[command(flatten)]
    filter: GroupFilter,
    /// Where to write the plan [default: OUT/plan.json]
    #[arg(long, value_name = "FILE", conflicts_with = "what_if")]
    output: Option<PathBuf>,
    /// Also print the plan JSON to stdout
    #[arg(long)]
    json: bool,
    /// Show, per group, the plan with and without the events: peak floor, instance-hours over the
    /// horizon, the extra instance-hours the events cause (and their cost with the group's
    /// instance_hour_price, else [cost]'s). Writes nothing. With --start, --end and an effect, tries that event
    /// (of the one --group) on top of the stored ones without storing it
    #[arg(long, help_heading = WHAT_IF)]
    what_if: bool,
    /// With --what-if: name of the event to try
    #[arg(long, requires = "what_if", default_value = "what-if", help_heading = WHAT_IF)]
    name: String,
    /// With --what-if: start of the event to try (RFC 3339)
    #[arg(long, value_name = "TIME", requires_all = ["what_if", "end"], help_heading = WHAT_IF)]
    start: Option<String>,
    /// With --what-if: end of the event to try (RFC 3339)
    #[arg(long, value_name = "TIME", requires = "start", help_heading = WHAT_IF)]
    end: Option<String>,
    /// With --what-if: what the event to try does
    #[command(flatten, next_help_heading = WHAT_IF)]
    effect: EventEffectArgs,
}

/// When an event is and what it does to the forecast.
#[derive(Debug, Args, Clone)]
#[group(id = "effect_group", multiple = false)]
struct EventEffectArgs {
    /// Multiply the forecast (point and every interval bound) by this factor during the event
    #[arg(long, value_name = "FACTOR", allow_negative_numbers = true)]
    multiplier: Option<f64>,
    /// Scale the forecast so that its peak during the event is this load (in the group's load
    /// metric, per step)
    #[arg(long, value_name = "LOAD", allow_negative_numbers = true)]
    peak: Option<f64>,
    /// Give the event the shape of a past window of the group's stored history, START..END (RFC
    /// 3339), aligned by the offset from its start and repeated if the event is longer; the load is
    /// taken as it was (add --multiplier in another event for growth)
    #[arg(long, value_name = "START..END")]
    like: Option<String>,
}

#[derive(Debug, Subcommand)]
enum EventCmd {
    /// Store an event of a group. During [start, end) the forecast is multiplied (--multiplier),
    /// scaled to a peak (--peak) or replaced by the shape of a past window (--like); `plan` then
    /// raises the floors the lead time ahead of the start and lowers them after the end. One that
    /// has ended (within [forecast] train_days) is recorded, not planned: its hours are kept out of
    /// what the fits learn. Events live in STORE/events/v1/events.json.
    Add(EventAddArgs),
    /// List the stored events, with whether the next plan covers them.
    List {
        /// Only this group's events
        #[arg(long, value_name = "NAME")]
        group: Option<String>,
        /// Print them as JSON (an array, one object per event: group, id, name, start, end, effect,
        /// state — planned, partly_planned, beyond_horizon, not_planned, past, past_unread,
        /// outside_limits, group_not_configured —, status, time_zone) instead of the table
        #[arg(long)]
        json: bool,
    },
    /// Remove a stored event.
    Remove {
        /// The event's group
        #[arg(long, value_name = "NAME")]
        group: String,
        /// The event's name or id (`prescale event list` shows both)
        #[arg(long, value_name = "NAME|ID")]
        name: String,
    },
}

#[derive(Debug, Args)]
struct EventAddArgs {
    /// The group the event concerns
    #[arg(long, value_name = "NAME")]
    group: String,
    /// A name, unique within the group ("Black Friday")
    #[arg(long)]
    name: String,
    /// Start of the event (RFC 3339, UTC or with an offset: 2026-11-27T06:00:00Z, 2026-11-27T07:00:00+01:00;
    /// without an offset, 2026-11-27T06:00, in the group's time_zone when it has one)
    #[arg(long, value_name = "TIME")]
    start: String,
    /// End of the event, exclusive (as --start)
    #[arg(long, value_name = "TIME")]
    end: String,
    #[command(flatten)]
    effect: EventEffectArgs,
}

/// Every executed change is appended to OUT/audit.jsonl: when, the run (apply or revert), the
/// plan id, the group, and the object before and after the change.
///
/// A SIGTERM, Ctrl-C or SIGHUP during the writes lets the call in flight finish, attempts nothing
/// after it and exits 143 (130, 129); a second one stops at once.
///
/// A plan that breaks a [guardrails] limit of the configuration (max_step_up, max_fleet_size, or a
/// floor above a group's max_size and max_breach_buffer) is refused, naming the group, the action
/// and the limit, unless --allow-guardrail-breach. So is a plan made more than 24 h before now,
/// and one older than a plan already applied to one of its groups (per OUT/audit.jsonl). An
/// --execute of a plan written before an event of one of its groups was added, removed or
/// replaced is refused, unless --allow-events-changed.
///
/// With --execute a run waits up to two minutes for another that writes to the groups
/// (STORE/apply.lock, OUT/apply.lock), then fails naming it. Exit codes: 0 done; 1 a failure (a
/// group that could not take its changes, the others applied); 2 a bug in prescale; 129, 130,
/// 143 stopped by SIGHUP, Ctrl-C, SIGTERM.
#[derive(Debug, Args)]
struct ApplyArgs {
    /// The plan to apply [default: OUT/plan.json]
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Only these groups (repeatable) [default: every group of the plan; with --revert, of the
    /// config]
    #[arg(long = "group", value_name = "NAME")]
    groups: Vec<String>,
    /// Make the changes. Without it, prints the diff and records it in OUT/dry-run-changes.json
    #[arg(long)]
    execute: bool,
    /// Instead of applying a plan, remove every scheduled action, scaling policy and alarm
    /// prescale owns (names starting with `prescale-`; an alarm also triggers one of prescale's
    /// policies or bears its step-alarm name) from the groups, and put back a MinSize / MaxSize
    /// that prescale's floors left raised (what it last set, per OUT/audit.jsonl; never a MaxSize below
    /// the group's instances); nothing else is touched. Dry run unless --execute
    #[arg(long, conflicts_with_all = ["plan", "allow_guardrail_breach"])]
    revert: bool,
    /// With --revert, leave MinSize / MaxSize as they are, even where prescale's floors left them
    /// raised (to hold the capacity the group has now); the notes print the command that lowers
    /// them later
    #[arg(long, requires = "revert")]
    keep_bounds: bool,
    /// Apply a plan even though it breaks a [guardrails] limit (each breach is logged and
    /// recorded with the changes in the audit log)
    #[arg(long)]
    allow_guardrail_breach: bool,
    /// With --execute, write even though --now (or PRESCALE_NOW) is a minute or more off the
    /// clock: the actions are timed from --now, a schedule for another hour (a test server, a
    /// replay against a stand-in)
    #[arg(long)]
    allow_clock_skew: bool,
    /// With --execute, apply the plan even though the stored events of one of its groups were
    /// added, removed or replaced after it was written: it sets their floors as they were before
    /// (without it such a run is refused; a dry run says so)
    #[arg(long, conflicts_with = "revert")]
    allow_events_changed: bool,
    /// With --revert, remove only prescale's scheduled actions (its floors), and put back the
    /// bounds they left raised: its scaling policies and alarms stay, so the group still scales
    #[arg(long, requires = "revert")]
    floors_only: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("paused").args(["groups", "all"]).multiple(false))]
struct PauseArgs {
    /// The group to pause (repeatable)
    #[arg(long = "group", value_name = "NAME", conflicts_with = "all")]
    groups: Vec<String>,
    /// Every configured group
    #[arg(long)]
    all: bool,
    /// How long the pause lasts, from now (48h, 90m, 7d) [default: 24h]
    #[arg(long = "for", value_name = "DURATION", conflicts_with = "until", requires = "paused")]
    duration: Option<String>,
    /// When the pause ends instead (RFC 3339; without an offset, UTC)
    #[arg(long, value_name = "TIME", requires = "paused")]
    until: Option<String>,
    /// Why, for the warnings of the runs it holds back and the pause list
    #[arg(long, value_name = "TEXT", default_value = "", requires = "paused")]
    reason: String,
}

#[derive(Debug, Args)]
struct ResumeArgs {
    /// The group whose pause ends (repeatable)
    #[arg(long = "group", value_name = "NAME", required_unless_present = "all", conflicts_with = "all")]
    groups: Vec<String>,
    /// Every paused group
    #[arg(long)]
    all: bool,
}

#[derive(Debug, Args)]
struct NightlyArgs {
    #[command(flatten)]
    filter: GroupFilter,
    /// Apply the plan. Without it, the last step is a dry run that only prints the diff
    #[arg(long)]
    execute: bool,
    /// Apply the plan even though it breaks a [guardrails] limit (see `prescale apply --help`)
    #[arg(long)]
    allow_guardrail_breach: bool,
    /// With --execute, apply even though --now (or PRESCALE_NOW) is a minute or more off the
    /// clock (see `prescale apply --help`)
    #[arg(long)]
    allow_clock_skew: bool,
    /// One line per group on stdout (its floors, model and changes) and one for the whole run,
    /// instead of the tables, the details and the diff: for a cron job's mail. Warnings and errors
    /// on stderr are the same, without the progress lines a log gets every half minute;
    /// everything is in OUT/plan.json and the audit log
    #[arg(long, short)]
    quiet: bool,
    /// Also exit 1 when a group's plan needs a person though it went through: no floors because
    /// its forecast is missing or not trusted ([trust]), floors cut at MaxSize where the forecast
    /// needs more, an event whose --peak lowers the floors, a first floor that rises over what
    /// the group runs by more than [guardrails] max_step_up, or a metric no plan reads (not the
    /// load_metric) that could not be stored or fitted. For a cron wrapper that pages on the exit
    /// code; the plan is written (and, with --execute, applied) all the same
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Args)]
// A negative number is a value to refuse with its reason (`--capacity -5`), not a flag.
#[command(allow_negative_numbers = true)]
struct SimulateArgs {
    /// The trace: a CSV or Parquet file of `ts,value` (or `timestamp,value`) rows, any regular step
    /// (`-`: standard input)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["group", "scenario"])]
    input: Option<PathBuf>,
    /// Run a generated load test instead of a trace (see above), or all four
    #[arg(long, value_enum, value_name = "SHAPE", conflicts_with = "group")]
    scenario: Option<ScenarioChoice>,
    /// Replay this group's stored load instead (its stored events are not applied); its config
    /// gives the defaults of --capacity, --target, --min, --max, --quantile and --lead-time-mins,
    /// and the headroom and model
    #[arg(long, value_name = "NAME")]
    group: Option<String>,
    /// Load one instance serves at 100 % utilization, in the trace's units per step [default:
    /// sized so that the trace's 95th percentile needs 10 instances at the target]
    #[arg(long, value_name = "LOAD")]
    capacity: Option<f64>,
    /// Target utilization of every policy, in (0, 1] [default: 0.7, or the group's]
    #[arg(long, value_name = "FRACTION")]
    target: Option<f64>,
    /// The group's MinSize, at least 1 [default: 1, or the group's min_size]
    #[arg(long)]
    min: Option<u32>,
    /// The group's MaxSize [default: the group's max_size; for a file, 10 × the instances the trace's 95th
    /// percentile needs, or its peak needs where the 95th percentile is 0]
    #[arg(long)]
    max: Option<u32>,
    /// Minutes from launch until an instance serves [default: 5; with --group, the group's
    /// warmup_secs in whole minutes, rounded up]
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(0..=1440))]
    boot_mins: Option<u32>,
    /// Price of one on-demand instance-hour, for a dollar column [default with --group: the
    /// group's instance_hour_price, else [cost]'s; with --input and --config: [cost]'s]
    #[arg(long, value_name = "DOLLARS")]
    price: Option<f64>,
    /// Share of the instance-hours run on spot, in [0, 1], for a second dollar column (needs
    /// --price and --spot-price or --spot-discount)
    #[arg(long, value_name = "FRACTION")]
    spot_share: Option<f64>,
    /// Price of one spot instance-hour, at most --price
    #[arg(long, value_name = "DOLLARS", conflicts_with = "spot_discount")]
    spot_price: Option<f64>,
    /// Spot price as a discount on --price, in [0, 1) (0.7: spot costs 30 % of on-demand)
    #[arg(long, value_name = "FRACTION")]
    spot_discount: Option<f64>,
    /// The forecast quantile prescale's floors are sized for, in [0.5, 1) [default: 0.9, or the
    /// group's]
    #[arg(long)]
    quantile: Option<f64>,
    /// Utilization the quantile's load may reach, in [target, 1] [default: 1.0, or the
    /// environment's quantile_utilization (absent there: the quantile at the target)]
    #[arg(long, value_name = "FRACTION")]
    quantile_utilization: Option<f64>,
    /// With a quantile utilization: whether the floors also hold the point forecast at the
    /// target (true) or leave the expected load to target tracking (false) [default: false, or the
    /// environment's point_at_target]
    #[arg(long, value_name = "BOOL")]
    point_at_target: Option<bool>,
    /// What a forecast that did not beat the flat median of the last day in its own backtests
    /// does: trust (plan from it), median (floors for its P50), none (no floors) [default: trust,
    /// or the config's [trust] unskilled]
    #[arg(long, value_name = "trust|median|none", value_parser = parse_unskilled)]
    unskilled: Option<prescale_plan::Unskilled>,
    /// Whether prescale's reactive fallback has the plan's step scaling beside target tracking
    /// [default: true, or the group's [groups.reactive.step] enabled]
    #[arg(long, value_name = "BOOL")]
    step_scaling: Option<bool>,
    /// Whether the step policy alone scales prescale's fallback in, target tracking only out
    /// (DisableScaleIn): fewer reversals, more instance-hours; without it target tracking scales
    /// in and the step policy only out, so the --step-in-* settings apply to the `step` policy
    /// alone [default: false, or the group's [groups.reactive.step] owns_scale_in]
    #[arg(long, value_name = "BOOL")]
    step_owns_scale_in: Option<bool>,
    /// The step policy's scale-in removes this percent of the group (at least one instance)
    /// instead of `in_remove` instances [default: the group's [groups.reactive.step] in_unit and
    /// in_remove, else one instance]
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(1..=100))]
    step_in_percent: Option<u32>,
    /// The step policy scales in below this fraction of the target utilization, e.g. 0.8: the
    /// dead band between it and the target is what stops thrashing, at the price of capacity
    /// (above 0.5, removing one of two instances runs the other above the target)
    /// [default: 0.5, or the group's [groups.reactive.step] in_threshold]
    #[arg(long, value_name = "FRACTION")]
    step_in_below: Option<f64>,
    /// The step policy scales in after this many alarm periods below its threshold (of the
    /// step's period_secs, 60 by default; at least the boot time), e.g. 60: scale-in no sooner
    /// than an hour after the load fell [default: the group's [groups.reactive.step]
    /// in_evaluation_periods, else 15]
    #[arg(long, value_name = "PERIODS", value_parser = clap::value_parser!(u32).range(1..=1440))]
    step_in_periods: Option<u32>,
    /// Minutes a lowered floor must stay down, else the dip is filled [default: 60, or the config's
    /// [plan] min_hold_mins]
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(0..=1440))]
    min_hold_mins: Option<u32>,
    /// Size prescale's floors for the mean load of blocks of this many minutes (60: each hour's
    /// mean) rather than step by step [default: step by step, or the config's [plan]
    /// floor_mean_mins]
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(1..=1440))]
    floor_mean_mins: Option<u32>,
    /// Each night, a floor of the night before that starts at most this many minutes before a
    /// planned rise (after a planned fall), with its sizes, stays in place of it, as `apply` keeps
    /// it; 0: every night's floors as planned [default: 15, or the config's [apply]
    /// keep_within_mins]
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(0..=1440))]
    keep_within_mins: Option<u32>,
    /// Minutes before the demand prescale's and aws-style's floors are launched; the boot time
    /// where that is longer, as the planner does (the header says the lead used) [default: 10, or
    /// the config's [plan] lead_time_mins, or with --group the group's lead_time_mins]
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(0..=1440))]
    lead_time_mins: Option<u32>,
    /// Days of history before the first nightly forecast (at least 1; the forecast needs two days to
    /// fit more than a median)
    #[arg(long, value_name = "DAYS", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=3650))]
    min_history_days: u32,
    /// Minutes between two scale-ins of target tracking (EC2 Auto Scaling's target tracking takes
    /// none: a scale-in waits for the instances still booting, as in every policy here)
    #[arg(long, value_name = "MINUTES", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1440))]
    cooldown_mins: u32,
    /// Period of the CloudWatch metric the reactive policies' alarms read, in minutes: 1 with
    /// detailed monitoring, 5 with basic monitoring (EC2's default); target tracking scales out
    /// after 3 datapoints above the target and in after 15 below 90 % of it (15 and 75 minutes at
    /// 5), and the step policy's alarms read at least this period [default: the monitoring the
    /// plan's step alarms are written for: 1 for a step period_secs under 300 (the default 60
    /// needs detailed monitoring), else 5]
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(1..=60))]
    metric_period_mins: Option<u32>,
    /// Whether the reactive policies' metric reads at most 100 %, as CPU utilization does (true):
    /// above full capacity it hides how much more load there is, so target tracking grows the
    /// group by at most 1 / target per round; false reads the whole demand, as requests per target
    /// do [default: false; with --group, true where its reactive metric is ASGAverageCPUUtilization]
    #[arg(long, value_name = "BOOL")]
    saturating_metric: Option<bool>,
    /// Policies to compare, comma-separated: reactive, step, static, scheduled, aws-style, prescale,
    /// oracle
    #[arg(long, value_delimiter = ',', default_value = "reactive,step,static,scheduled,aws-style,prescale,oracle")]
    policies: Vec<prescale_sim::Policy>,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
    /// Also write demand and capacity per policy and minute to this Parquet file (columns policy,
    /// ts, demand, held, serving, instances, capacity, floor: the MinSize in force). With --scenario all, one file per scenario (FILE with -ramp, -spike, … before the extension)
    #[arg(long, value_name = "FILE")]
    timeseries: Option<PathBuf>,
    /// Also draw demand against serving capacity per policy as an SVG chart (with --scenario, the
    /// test day around the test; with --scenario all, one file per scenario as for --timeseries)
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    #[command(flatten)]
    zone: ZoneArgs,
}

/// `--scenario` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ScenarioChoice {
    /// A gradual ramp to 5× over an hour
    Ramp,
    /// 10× in one minute, for 20 minutes
    Spike,
    /// 4× for four hours
    Sustained,
    /// An hour at 5×, then back to 1× at once for three hours
    ScaleDown,
    /// All four, one after the other
    All,
}

impl ScenarioChoice {
    fn scenarios(self) -> Vec<prescale_sim::scenario::Scenario> {
        use prescale_sim::scenario::Scenario;
        match self {
            ScenarioChoice::Ramp => vec![Scenario::Ramp],
            ScenarioChoice::Spike => vec![Scenario::Spike],
            ScenarioChoice::Sustained => vec![Scenario::Sustained],
            ScenarioChoice::ScaleDown => vec![Scenario::ScaleDown],
            ScenarioChoice::All => Scenario::ALL.to_vec(),
        }
    }
}

#[derive(Debug, Subcommand)]
enum DemoCmd {
    /// Regenerate the demo CSV files (deterministic: the same bytes every time), and its
    /// prescale.toml where there is none (an edited one is kept).
    Generate {
        /// Directory to write to
        #[arg(long, default_value = "data/demo")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    // A panic is a bug: exit code 2 (expected failures exit 1).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        say!("prescale hit a bug; please report it with the command line above.");
        std::process::exit(2);
    }));
    // A usage error (an unknown flag, a value out of range) is an expected failure like any
    // other: exit 1, keeping 2 for bugs. Help and version exit 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let level = match cli.global.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    // prescale's own crates log at `info` at most; -vv adds the AWS SDK's calls and retries.
    let sdk = if cli.global.verbose >= 2 { ",aws_smithy_runtime=debug,aws_config=info" } else { "" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRESCALE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("prescale={level},prescale_aws={level},prescale_store={level}{sdk}"))
    });
    tracing_subscriber::fmt()
        // A progress line on the terminal is wiped before every log line.
        .with_writer(|| {
            commands::Progress::wipe();
            RedactedStderr
        })
        .with_ansi(std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .with_target(false)
        // A log line that cannot be written (stderr closed) is lost; reporting that on stderr
        // would panic.
        .log_internal_errors(false)
        .init();
    let result = commands::run(cli);
    // The apply lock is held for the whole run in a static, which is never dropped: released
    // here, so its file is emptied as every other lock's is.
    commands::release_apply_lock();
    if let Err(e) = &result {
        say!("error: {}", commands::explain(e));
    }
    // Stopped by a signal during the writes: the output above (and the audit log) says what was done; the exit code
    // is the signal's, as if killed by it, so that a supervisor sees the run did not finish.
    if let Some(code) = stop::exit_code() {
        say!(
            "prescale: stopped by {} after the call in flight; what was made is said above and in the audit log, \
             and running the command again makes the rest, if any",
            stop::asked().unwrap_or("a signal")
        );
        return ExitCode::from(code);
    }
    if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// `--threads` as given: a number, or none (`PRESCALE_THREADS=` set empty, as a cron file may).
#[derive(Debug, Clone, Copy)]
struct Threads(Option<std::num::NonZeroUsize>);

/// `--threads` (or PRESCALE_THREADS): a whole number, 1 or more; empty is unset.
fn parse_threads(s: &str) -> Result<Threads, String> {
    if s.trim().is_empty() {
        return Ok(Threads(None));
    }
    s.trim().parse::<std::num::NonZeroUsize>().map(|n| Threads(Some(n))).map_err(|_| {
        format!(
            "the threads (--threads or PRESCALE_THREADS) are a whole number, 1 or more (this machine has {}); \
             leave it unset for all of them",
            prescale_core::par::default_threads()
        )
    })
}

fn parse_transform(s: &str) -> Result<prescale_forecast::transform::Transform, String> {
    use prescale_forecast::transform::Transform;
    match s {
        "none" => Ok(Transform::None),
        "log" => Ok(Transform::Log),
        "box-cox" | "boxcox" => Ok(Transform::BoxCox),
        other => Err(format!("unknown transform {other:?}: use none, log or box-cox")),
    }
}

fn parse_unskilled(s: &str) -> Result<prescale_plan::Unskilled, String> {
    match s {
        "trust" => Ok(prescale_plan::Unskilled::Trust),
        "median" => Ok(prescale_plan::Unskilled::Median),
        "none" => Ok(prescale_plan::Unskilled::None),
        _ => Err(format!("{s:?}: choose trust, median or none")),
    }
}

/// One interval level of `--levels`, spaces around it allowed (`--levels "80, 95"`).
fn level_number(s: &str) -> Result<f64, String> {
    s.trim().parse::<f64>().map_err(|e| format!("{s:?} is not a number ({e}); write levels like 80,95"))
}

/// stderr for log lines, with the AWS access key ids taken out: at -vv the SDK's debug log prints
/// the credentials it resolved (their secret redacted, the key id not), and a log kept by cron or
/// pasted into a ticket should not carry it. The log writes each line whole, in one call.
struct RedactedStderr;

impl std::io::Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact_key_ids(&line).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// `text` with every access key id after `access_key_id: "` (the SDK's debug form) or
/// `Credential=` (a signed request's header or query) replaced.
fn redact_key_ids(text: &str) -> std::borrow::Cow<'_, str> {
    // The debug form, the same inside a quoted string (its quotes escaped), and a signature's.
    const MARKS: [(&str, char); 3] = [("access_key_id: \"", '"'), ("access_key_id: \\\"", '\\'), ("Credential=", '/')];
    if !MARKS.iter().any(|(mark, _)| text.contains(mark)) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, mark, end)) =
        MARKS.iter().filter_map(|&(mark, end)| rest.find(mark).map(|at| (at, mark, end))).min_by_key(|m| m.0)
    {
        let from = at + mark.len();
        out.push_str(&rest[..from]);
        rest = &rest[from..];
        let len = rest.find(|c: char| c == end || c.is_whitespace()).unwrap_or(rest.len());
        if len > 0 {
            out.push_str("** redacted **");
        }
        rest = &rest[len..];
    }
    out.push_str(rest);
    out.into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn access_key_ids_are_taken_out_of_log_lines() {
        let line = r#"DEBUG resolving endpoint Identity { data: Credentials { provider_name: "EnvironmentVariable", access_key_id: "AKIAZZTESTKEYID00001", secret_access_key: "** redacted **" } } authorization: AWS4-HMAC-SHA256 Credential=AKIAZZTESTKEYID00001/20261207/eu-west-1/monitoring/aws4_request, SignedHeaders=host"#;
        let out = super::redact_key_ids(line);
        assert!(!out.contains("AKIAZZ"), "{out}");
        assert!(out.contains(r#"access_key_id: "** redacted **", secret_access_key"#), "{out}");
        assert!(out.contains("Credential=** redacted **/20261207/eu-west-1/"), "{out}");
        // One quoted twice (a debug form inside a string) is taken out too; a group's name of a
        // key id's shape is not a key id.
        let twice = r#"params: "Credentials { access_key_id: \"AKIAZZTESTKEYID00001\" }" ASIAPACIFICSTAGING01"#;
        let out = super::redact_key_ids(twice).into_owned();
        assert!(!out.contains("AKIAZZ") && out.contains(r#"access_key_id: \"** redacted **\" }"#), "{out}");
        assert!(out.ends_with("ASIAPACIFICSTAGING01"), "{out}");
        // A line without a key id is left as it is, and an empty value stays empty.
        assert_eq!(
            super::redact_key_ids("INFO reading 1/1 cloudwatch eu-west-1"),
            "INFO reading 1/1 cloudwatch eu-west-1"
        );
        assert_eq!(super::redact_key_ids(r#"access_key_id: "" x"#), r#"access_key_id: "" x"#);
    }

    use clap::Parser as _;

    #[test]
    fn threads_that_are_not_a_count_get_the_reason() {
        for bad in ["-1", "0", "abc", "2.5"] {
            let e = super::Cli::try_parse_from(["prescale", "--threads", bad, "nightly"]).unwrap_err().to_string();
            assert!(e.contains("whole number, 1 or more"), "--threads {bad}: {e}");
        }
        let cli = super::Cli::try_parse_from(["prescale", "--threads", "3", "nightly"]).unwrap();
        assert_eq!(cli.global.threads.and_then(|t| t.0).map(std::num::NonZeroUsize::get), Some(3));
    }
}
