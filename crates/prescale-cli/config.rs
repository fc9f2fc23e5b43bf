//! `prescale.toml`: one file, one section per stage. Precedence: flag > environment variable >
//! file > default (flags and variables are resolved by clap in `main.rs`, the file here).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::Duration;
use prescale_core::{CapacityBounds, GridPolicy, Level, MetricId};
use prescale_forecast::transform::{Bounds, Transform};
use prescale_forecast::{BuildOptions, ModelSpec, Weekends};
use prescale_plan::{Guardrails, MaxBreach, PlanSettings, ReactiveSettings};
use serde::Deserialize;
use tracing::warn;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the metric store and forecasts live.
    #[serde(default)]
    pub store: StoreConfig,
    /// AWS client settings.
    #[serde(default)]
    pub aws: AwsConfig,
    /// Where metrics come from.
    #[serde(default)]
    pub ingest: IngestConfig,
    /// How forecasts are made.
    #[serde(default)]
    pub forecast: ForecastConfig,
    /// How plans are made.
    #[serde(default)]
    pub plan: PlanConfig,
    /// Where plans go.
    #[serde(default)]
    pub apply: ApplyConfig,
    /// Limits every plan must respect; `apply` refuses a plan that breaks one.
    #[serde(default)]
    pub guardrails: Guardrails,
    /// When a forecast is trusted enough to write floors from it.
    #[serde(default)]
    pub trust: TrustConfig,
    /// Prices, for the cost column of `plan --what-if`.
    #[serde(default)]
    pub cost: CostConfig,
    /// Per-environment planning settings (`prod`, `staging`, `dev`, …).
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// The Auto Scaling groups prescale manages.
    #[serde(default)]
    pub groups: Vec<GroupConfig>,
    /// Directory of the file, to resolve relative paths in it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Where the configuration came from, for messages.
    #[serde(skip)]
    pub origin: String,
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of the metric store and the forecast table (relative to the config file).
    pub dir: PathBuf,
    /// Days of each series' history the metric store keeps before its newest slot; older slots
    /// are left out as an ingest rewrites the series. Unset: all of it.
    pub retention_days: Option<i64>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { dir: PathBuf::from("prescale-store"), retention_days: None }
    }
}

/// Whether `s` names a CloudWatch statistic: the five basic ones, `IQM`, a percentile `pNN` /
/// `pNN.N…` (0–100), or an extended one (`tm`, `wm`, `tc`, `ts`, `pr`, either case) followed by a
/// percentile number or a bracketed range such as `TM(10%:90%)`.
fn cloudwatch_statistic(s: &str) -> bool {
    // Digits with at most one decimal point, between 0 and 100.
    let number = |n: &str| {
        let (int, frac) = n.split_once('.').unwrap_or((n, "0"));
        !int.is_empty()
            && int.len() <= 3
            && !frac.is_empty()
            && frac.len() <= 10
            && (int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit())
            && n.parse::<f64>().is_ok_and(|v| (0.0..=100.0).contains(&v))
    };
    let range = |r: &str| r.len() > 2 && r.starts_with('(') && r.ends_with(')') && r[1..r.len() - 1].contains(':');
    let extended = ["tm", "wm", "tc", "ts", "pr"]
        .iter()
        .any(|p| s.get(..2).is_some_and(|head| head.eq_ignore_ascii_case(p)) && (number(&s[2..]) || range(&s[2..])));
    matches!(s, "Average" | "Sum" | "Minimum" | "Maximum" | "SampleCount" | "IQM")
        || s.strip_prefix('p').is_some_and(number)
        || extended
}

/// `[aws]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// Region; unset uses the standard chain (`AWS_REGION`, profile).
    pub region: Option<String>,
    /// Attempts per API call, with backoff for throttling (default 5).
    pub max_attempts: Option<u32>,
    /// Seconds one attempt at an API call may take before it is abandoned and retried (default 60).
    pub timeout_secs: Option<u64>,
}

/// Kinds of metric source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// CloudWatch `GetMetricData`.
    Cloudwatch,
    /// CSV files (`file` per metric).
    Csv,
    /// Parquet files (`file` per metric).
    Parquet,
}

impl SourceKind {
    /// Its name in the configuration (`[ingest] source = "…"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Cloudwatch => "cloudwatch",
            Self::Csv => "csv",
            Self::Parquet => "parquet",
        }
    }
}

/// `[ingest]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Where samples come from.
    pub source: SourceKind,
    /// How much history CloudWatch is asked for, in days.
    pub lookback_days: i64,
    /// Sample period in seconds (CloudWatch `Period`, and the grid of the store).
    pub period_secs: i64,
    /// How raw samples are put on the grid.
    pub grid: GridPolicy,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self { source: SourceKind::Cloudwatch, lookback_days: 15, period_secs: 300, grid: GridPolicy::default() }
    }
}

/// `[forecast]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForecastConfig {
    /// Forecast horizon in hours.
    pub horizon_hours: i64,
    /// Interval levels to forecast, in percent.
    pub levels: Vec<f64>,
    /// History used to fit, in days (the most recent part of the store).
    pub train_days: i64,
    /// The model: a table (`{ kind = "profile", days = 14 }`), or a kind's name alone (`"mstl"`,
    /// as `--model` takes it) for its defaults.
    #[serde(deserialize_with = "model_or_kind")]
    pub model: ModelSpec,
    /// A stored series at a finer step is averaged to this many minutes before it is fitted
    /// (plans change capacity a few dozen times in 48 h; 1-minute fits cost 5× more for nothing).
    pub min_step_mins: i64,
    /// Holidays, as `"YYYY-MM-DD"` dates, each a whole day in the group's `time_zone` (UTC when
    /// unset). The engine's models learn their effect from the history as a ratio to an ordinary
    /// day; `ridge` takes them, with the events of the event store, as features; `seasonal-naive`
    /// ignores them.
    pub holidays: Vec<String>,
    /// Fit on the log or Box–Cox transform of each series (`none`, `log`, `box-cox`).
    pub transform: Transform,
    /// Learn how weekends (Saturday and Sunday in the group's `time_zone`) differ from weekdays,
    /// as a ratio, where two weekends of the history agree (a single one halfway, where it stands out);
    /// `false` forecasts them as any day.
    pub weekends: bool,
    /// Which of a group's series `forecast fit` (and the nightly run) fits: `all` (every
    /// configured metric, for `forecast show --metric`), or `plan` (only the load its plan reads:
    /// a third of the fitting where each group has three metrics).
    pub fit_metrics: FitMetrics,
}

/// `[forecast] fit_metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FitMetrics {
    /// Every configured metric of a group.
    #[default]
    All,
    /// Only the series the group's plan reads.
    Plan,
}

impl ForecastConfig {
    /// The holidays as dates.
    pub fn holiday_dates(&self) -> Result<Vec<chrono::NaiveDate>> {
        parse_dates(&self.holidays).context("[forecast] holidays")
    }
}

/// Seconds the zone's clocks move for summer time (0 for a zone without it): its mid-January and
/// mid-July offsets apart.
pub fn summer_shift_size(tz: chrono_tz::Tz) -> i64 {
    let [a, b] = midwinter_midsummer_offsets(tz);
    (a - b).abs()
}

/// The weekends and the clock of a series in `tz` (UTC when `None`), for [`BuildOptions`]: its
/// Saturdays and Sundays at the zone's winter offset when `weekends`, its daily cycle on the
/// zone's standard-time clock with `DailyClock::Local` (and with `DailyClock::Auto` where the
/// history shows the load follows it); the rest default.
pub fn zone_options(tz: Option<chrono_tz::Tz>, weekends: bool, clock: DailyClock) -> BuildOptions {
    BuildOptions {
        weekends: Weekends::learn_if(weekends, tz.map_or(0, winter_offset)),
        clock: tz.and_then(|tz| match clock {
            DailyClock::Utc => None,
            DailyClock::Local => Some(local_clock(tz)),
            DailyClock::Auto => Some(local_clock(tz).by_data()),
        }),
        ..BuildOptions::default()
    }
}

/// The zone's clock for fitting on its standard time ([`BuildOptions::clock`]): at each instant,
/// the seconds its clock runs ahead of its standard (winter) offset, which is found once.
pub fn local_clock(tz: chrono_tz::Tz) -> prescale_forecast::clock::LocalClock {
    use chrono::{Offset, TimeZone};
    let winter = winter_offset(tz);
    prescale_forecast::clock::LocalClock::new(tz.name(), move |t| {
        i64::from(tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc()) - winter
    })
}

/// A zone's winter offset from UTC in seconds (the smaller of mid-January's and mid-July's,
/// whichever hemisphere): daylight saving time moves a weekend by an hour at most, and a fixed
/// offset keeps fits reproducible.
fn winter_offset(tz: chrono_tz::Tz) -> i64 {
    let [a, b] = midwinter_midsummer_offsets(tz);
    a.min(b)
}

/// The zone's offsets from UTC in seconds on 15 January and 15 July (2026, at noon UTC): in one
/// of them it keeps standard time, whichever hemisphere it is in.
fn midwinter_midsummer_offsets(tz: chrono_tz::Tz) -> [i64; 2] {
    use chrono::{Offset, TimeZone};
    [1, 7].map(|m| {
        chrono::NaiveDate::from_ymd_opt(2026, m, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map_or(0, |t| i64::from(tz.offset_from_utc_datetime(&t).fix().local_minus_utc()))
    })
}

/// The most instances a group's configuration may allow (`max_size`, and `max_breach_buffer` on
/// top): more is a typo, and Auto Scaling's sizes are 32-bit.
const MAX_GROUP_SIZE: u64 = 100_000;

/// `[forecast] model` as a table, or as the name of a kind (its settings at their defaults).
fn model_or_kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ModelSpec, D::Error> {
    use serde::de::Error as _;
    match toml::Value::deserialize(d)? {
        toml::Value::String(kind) => serde_json::from_value(serde_json::json!({ "kind": kind })).map_err(|_| {
            D::Error::custom(format!(
                "unknown model {kind:?}: use auto, mstl, profile, ets, median, seasonal-naive or ridge (a kind's \
                 settings in a table: model = {{ kind = \"profile\", days = 14 }})"
            ))
        }),
        table @ toml::Value::Table(_) => table.try_into().map_err(D::Error::custom),
        other => Err(D::Error::custom(format!(
            "{other} is no model: give a kind's name (model = \"mstl\") or a table (model = {{ kind = \"mstl\" }})"
        ))),
    }
}

/// A list where the configuration takes a table of settings (`grid = [3600]`, `reactive =
/// ["ASGAverageCPUUtilization", 5.0]`): serde reads a list into a struct by position, so such a
/// value would be taken without a word, its values landing on whichever keys come first. Each
/// list of plain values is tried as an empty table instead: a key that takes a list refuses a
/// table ("invalid type: map"), one that takes a table does not. A list of lists is tried item
/// by item (`out_steps = [[0, 10]]`: each item a table of settings). A key under many groups is
/// tried once, at its first list: its type is the same in each. Every such list found, one
/// mistake each.
fn check_lists_for_tables(text: &str) -> Vec<anyhow::Error> {
    /// Every list of plain values, by its path (keys and list indices) and that path as said (a
    /// listed table by its `name`, `"web-prod"`, else by its place, `#2`).
    fn lists(
        v: &toml::Value,
        path: &mut Vec<String>,
        shown: &mut Vec<String>,
        found: &mut Vec<(Vec<String>, Vec<String>)>,
    ) {
        match v {
            toml::Value::Table(t) => {
                for (k, x) in t {
                    path.push(k.clone());
                    shown.push(k.clone());
                    lists(x, path, shown, found);
                    path.pop();
                    shown.pop();
                }
            }
            toml::Value::Array(a) if a.iter().any(|x| x.is_table() || x.is_array()) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(i.to_string());
                    shown.push(
                        x.get("name").and_then(toml::Value::as_str).map_or(format!("#{}", i + 1), |n| format!("{n:?}")),
                    );
                    lists(x, path, shown, found);
                    path.pop();
                    shown.pop();
                }
            }
            toml::Value::Array(_) => found.push((path.clone(), shown.clone())),
            _ => {}
        }
    }
    fn at<'v>(v: &'v mut toml::Value, path: &[String]) -> Option<&'v mut toml::Value> {
        path.iter().try_fold(v, |v, k| match v {
            toml::Value::Table(t) => t.get_mut(k),
            toml::Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        })
    }
    let Ok(raw) = text.parse::<toml::Table>() else { return Vec::new() };
    let raw = toml::Value::Table(raw);
    let mut mistakes = Vec::new();
    let mut found = Vec::new();
    lists(&raw, &mut Vec::new(), &mut Vec::new(), &mut found);
    let mut tried = std::collections::HashSet::new();
    for (path, shown) in found {
        // The key's place without the list indices (`groups.suspended_on_purpose`).
        let place: Vec<&str> = path.iter().map(String::as_str).filter(|k| k.parse::<usize>().is_err()).collect();
        if !tried.insert(place.join(".")) {
            continue;
        }
        let mut probe = raw.clone();
        if let Some(v) = at(&mut probe, &path) {
            *v = toml::Value::Table(toml::Table::new());
        }
        // A table with a key it cannot do without says so; any other error is not this key's.
        let takes_a_table = match probe.try_into::<Config>() {
            Ok(_) => true,
            Err(e) => e.to_string().contains("missing field"),
        };
        if takes_a_table {
            // An item of a list of tables written as a list (`out_steps = [[0, 10]]`): the list named.
            let item = path.last().is_some_and(|k| k.parse::<usize>().is_ok());
            let named = &path[..path.len() - usize::from(item)];
            let key = named.last().cloned().unwrap_or_default();
            // Where it is: `ingest`, or `groups "web-prod"` for a listed table with a name.
            let within = &shown[..named.len().saturating_sub(1)];
            let within = if within.is_empty() { String::new() } else { format!(" (in {})", within.join(" ")) };
            mistakes.push(if item {
                anyhow::anyhow!(
                    "`{key}`{within} is a list of tables of settings, not of lists: a list would be read by position \
                     onto its first keys; write each item with its keys, e.g. `{key} = [{{ … }}, {{ … }}]`"
                )
            } else {
                anyhow::anyhow!(
                    "`{key}`{within} takes a table of settings, not a list: a list would be read by position onto \
                     its first keys; write it with its keys, e.g. `{key} = {{ … }}` or a [{}] section",
                    place.join(".")
                )
            });
        }
    }
    mistakes
}

/// `[forecast] model`'s keys beyond those of its kind: serde's `deny_unknown_fields` does not reach
/// the kinds without settings (`{ kind = "auto", transform = "log" }` would drop the transform
/// without a word). The kind's keys are those the parsed model writes back.
fn check_model_keys(text: &str, model: &ModelSpec) -> Result<()> {
    let raw: toml::Table = text.parse().context("the configuration is not TOML")?;
    let Some(toml::Value::Table(given)) = raw.get("forecast").and_then(|f| f.get("model")) else {
        return Ok(());
    };
    let known = toml::Value::try_from(model).context("the model cannot be written back")?;
    let known = known.as_table().context("the model is not a table")?;
    if let Some(key) = given.keys().find(|k| !known.contains_key(*k)) {
        let others: Vec<&str> = known.keys().map(String::as_str).filter(|k| *k != "kind").collect();
        bail!(
            "[forecast] model: unknown key `{key}` for kind = {}: {}{}",
            known.get("kind").map_or_else(String::new, ToString::to_string),
            if others.is_empty() {
                "it takes no other key".to_string()
            } else {
                format!("it takes {}", others.join(", "))
            },
            if ["transform", "weekends", "holidays", "fit_metrics"].contains(&key.as_str()) {
                format!("; `{key}` is a key of [forecast] itself")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// Dates written `YYYY-MM-DD`.
pub fn parse_dates(dates: &[String]) -> Result<Vec<chrono::NaiveDate>> {
    dates
        .iter()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .with_context(|| format!("{d:?} is not a date: write it as \"YYYY-MM-DD\", e.g. \"2026-12-25\""))
        })
        .collect()
}

impl Default for ForecastConfig {
    fn default() -> Self {
        Self {
            horizon_hours: 48,
            levels: vec![50.0, 80.0, 90.0, 95.0],
            train_days: 28,
            model: ModelSpec::default(),
            min_step_mins: 5,
            holidays: Vec::new(),
            transform: Transform::None,
            weekends: true,
            fit_metrics: FitMetrics::All,
        }
    }
}

/// `[plan]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanConfig {
    /// Minutes before demand that capacity must be in place (instance boot + warm-up + buffer).
    pub lead_time_mins: i64,
    /// A floor that steps down must stay down at least this many minutes.
    pub min_hold_mins: i64,
    /// Size the floors for the mean load of blocks of this many minutes (60: each hour's mean, as
    /// AWS's predictive scaling sizes its hours) rather than step by step; a peak shorter than a
    /// block is left to the reactive policy. Unset: step by step.
    pub floor_mean_mins: Option<i64>,
    /// At most this many scheduled actions per group (Auto Scaling allows 125).
    pub max_actions: usize,
}

impl Default for PlanConfig {
    fn default() -> Self {
        Self { lead_time_mins: 10, min_hold_mins: 60, floor_mean_mins: None, max_actions: 48 }
    }
}

/// `[cost]`: what an instance-hour costs, so `plan --what-if` can show the cost of an event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostConfig {
    /// Price of one instance-hour (e.g. 0.0832 for an m6i.large on demand); unset shows
    /// instance-hours only.
    pub instance_hour_price: Option<f64>,
    /// Currency of the price, as shown (`USD`).
    pub currency: String,
}

impl CostConfig {
    /// The currency when it is not dollars (`USD` in any case), for labels that say `$` otherwise.
    pub fn non_dollar_currency(&self) -> Option<String> {
        (!self.currency.trim().eq_ignore_ascii_case("usd")).then(|| self.currency.trim().to_string())
    }
}

impl Default for CostConfig {
    fn default() -> Self {
        Self { instance_hour_price: None, currency: "USD".into() }
    }
}

/// `[trust]`: below these, the plan writes no floors and relies on the reactive policy alone.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    /// The load series must hold at least this many hours of measured data.
    pub min_history_hours: f64,
    /// Its newest measured point may be at most this many minutes older than now.
    pub max_data_age_mins: i64,
    /// The stored forecast may have been fitted at most this many hours before now (a nightly
    /// run fits one a day): older, `forecast fit` has stopped, and the group is left out of the
    /// plan with its floors in place rather than planned on the forecast's last hours.
    pub max_forecast_age_hours: f64,
    /// The forecast's backtest MASE on its own history (weighted over its models) may be at most
    /// this; 1 is the typical error of "same time yesterday".
    pub max_backtest_mase: f64,
    /// A forecast whose models did no better in their backtests than the flat median of the last
    /// day (weighted MASE at or above the median's): `trust` (plan from it), `median` (floors for
    /// its P50), `none` (no floors).
    pub unskilled: prescale_plan::Unskilled,
}

impl Default for TrustConfig {
    fn default() -> Self {
        Self {
            min_history_hours: 24.0,
            max_data_age_mins: 180,
            max_forecast_age_hours: 26.0,
            max_backtest_mase: 3.0,
            unskilled: prescale_plan::Unskilled::Trust,
        }
    }
}

/// Kinds of action sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// The Auto Scaling API.
    Autoscaling,
    /// A local JSON file that stands in for the groups (demo, offline trials).
    Local,
}

/// `[apply]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApplyConfig {
    /// Where plans are applied.
    pub sink: SinkKind,
    /// For `sink = "local"`: the JSON file holding the stand-in groups (relative to the output dir).
    pub local_state: PathBuf,
    /// A floor the group already holds from an earlier apply stands in for a planned one with the
    /// same sizes that it precedes (a rise) or follows (a fall) by at most this many minutes,
    /// rather than being deleted and put again (`prescale_plan::keep_in_place`). 0 writes every
    /// floor as planned.
    pub keep_within_mins: u32,
}

impl Default for ApplyConfig {
    fn default() -> Self {
        Self { sink: SinkKind::Autoscaling, local_state: PathBuf::from("local-asg-state.json"), keep_within_mins: 15 }
    }
}

/// `[environments.NAME]`: what differs between prod, staging and dev.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvironmentConfig {
    /// Forecast quantile the floors are sized for (P90 = 0.9).
    pub quantile: f64,
    /// Utilization the quantile's load may reach, in [target_utilization, 1]; the point forecast
    /// stays at the target. Absent: the quantile is sized at the target.
    pub quantile_utilization: Option<f64>,
    /// With `quantile_utilization`: whether the floor also holds the point forecast at the target
    /// (true), or leaves the expected load to target tracking (false: the floor binds only where
    /// the P`quantile` load would not fit at `quantile_utilization`, i.e. ahead of rises).
    pub point_at_target: bool,
    /// Utilization the floors are sized for, in (0, 1].
    pub target_utilization: f64,
    /// Extra capacity as a fraction (0.1 = 10 %).
    pub headroom: f64,
}

impl Default for EnvironmentConfig {
    fn default() -> Self {
        Self {
            quantile: 0.9,
            quantile_utilization: None,
            point_at_target: true,
            target_utilization: 0.7,
            headroom: 0.0,
        }
    }
}

/// What to do when the forecast needs more than `max_size` (`max_breach`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaxBreachMode {
    /// Floors stop at `max_size`.
    #[default]
    Clamp,
    /// Scheduled actions raise `MaxSize` by `max_breach_buffer` for the peak and restore it after.
    Raise,
}

/// `[[groups]]`: one Auto Scaling group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    /// The Auto Scaling group name.
    pub name: String,
    /// Environment whose settings apply (a key of `[environments]`).
    #[serde(default = "default_env")]
    pub environment: String,
    /// Smallest size prescale may plan.
    pub min_size: u32,
    /// Largest size prescale may plan.
    pub max_size: u32,
    /// The metric that sizes capacity (a `name` of this group's `[[groups.metrics]]`).
    pub load_metric: String,
    /// When set, `load_metric` is a per-instance metric (average CPU %, ALB
    /// `RequestCountPerTarget`) and this metric of the group (e.g. `GroupInServiceInstances`) counts
    /// the instances: their product, the group's total load, is what is forecast and planned.
    #[serde(default)]
    pub instances_metric: Option<String>,
    /// Load, in that metric's units per period, that one instance serves at 100 % utilization
    /// (for a per-instance CPU metric: 100).
    pub capacity_per_instance: f64,
    /// Overrides the environment's quantile.
    pub quantile: Option<f64>,
    /// Overrides the environment's target utilization.
    pub target_utilization: Option<f64>,
    /// Price of one of this group's instance-hours; overrides `[cost] instance_hour_price`.
    #[serde(default)]
    pub instance_hour_price: Option<f64>,
    /// The reactive fallback policy.
    #[serde(default)]
    pub reactive: ReactiveSettings,
    /// When the forecast needs more than `max_size`: `clamp` (default) or `raise`.
    #[serde(default)]
    pub max_breach: MaxBreachMode,
    /// With `max_breach = "raise"`: how many instances above `max_size` the group may go; the
    /// peak's actions set `MaxSize` to `max_size` + this, and the next action sets it back.
    #[serde(default)]
    pub max_breach_buffer: Option<u32>,
    /// How long before the demand this group's floors are in place, where not `[plan]
    /// lead_time_mins` (AWS's predictive scaling sets its buffer time per policy).
    #[serde(default)]
    pub lead_time_mins: Option<i64>,
    /// IANA time zone written with the group's scheduled actions (e.g. `Europe/Berlin`);
    /// unset writes them in UTC. The actions' instants are the same either way.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The clock the forecast learns the daily cycle on: `utc` (load from everywhere, or machines'
    /// schedules in UTC), `local`, the `time_zone`'s standard time, for load that follows its local
    /// clocks (office hours), whose rise moves by an hour in UTC with daylight saving, or `auto`
    /// (the default): the local clock where the history crosses a change of the zone's offset and
    /// its last week follows that clock clearly better than UTC (see `EitherClock`).
    #[serde(default)]
    pub daily_clock: DailyClock,
    /// Auto Scaling processes the group's owners keep suspended on purpose (e.g.
    /// `["AlarmNotification"]` during a migration): `apply` still says each run that they stop the
    /// plan's floors or fallback, but does not fail for them. Any other suspended process that
    /// stops the plan fails the run, as a deploy tool's leftover would.
    #[serde(default)]
    pub suspended_on_purpose: Vec<String>,
    /// Where this group's metrics come from, when not `[ingest] source` (a fleet with groups in
    /// CloudWatch and groups fed from exported files, under one store and one `max_fleet_size`).
    #[serde(default)]
    pub source: Option<SourceKind>,
    /// The metrics to ingest for this group.
    pub metrics: Vec<MetricConfig>,
}

/// The Auto Scaling processes whose suspension `apply` checks: those that stop the plan's floors
/// (`ScheduledActions`), its fallback (`AlarmNotification`), any scale-out (`Launch`) or scale-in
/// (`Terminate`); with what each stops while suspended, and whether that stops the plan from
/// protecting the group (all but `Terminate`: no scale-in is a cost, not a risk).
pub const CHECKED_PROCESSES: [(&str, &str, bool); 4] = [
    ("ScheduledActions", "the floors do not run", true),
    ("AlarmNotification", "target tracking and the step alarms scale nothing", true),
    ("Launch", "no instance is added", true),
    ("Terminate", "no instance is removed", false),
];

fn default_env() -> String {
    "prod".into()
}

/// See [`GroupConfig::daily_clock`] (and `--daily-clock` of a file's forecast, backtest and replay).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DailyClock {
    /// The daily cycle on whichever clock, the zone's or UTC, the history's last week follows
    /// clearly better (where it crosses a change of the zone's offset); where it cannot tell, the
    /// forecast covers both.
    #[default]
    Auto,
    /// The daily cycle on UTC.
    Utc,
    /// The daily cycle on the zone's standard-time clock (a group's `time_zone`, a file's
    /// `--time-zone`).
    Local,
}

/// `[[groups.metrics]]`: one metric of a group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricConfig {
    /// prescale's name for it (`requests`, `cpu`, …): the series id in the store.
    pub name: String,
    /// CloudWatch namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// CloudWatch metric name.
    #[serde(default)]
    pub metric_name: Option<String>,
    /// CloudWatch statistic (default `Average`).
    #[serde(default)]
    pub stat: Option<String>,
    /// CloudWatch dimensions.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// For CSV/Parquet sources: the file (relative to the config file).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// For CSV/Parquet sources: the IANA zone of the file's stamps that carry no offset (an export
    /// in local time); UTC when unset. Stamps with an offset or `Z` are exact either way.
    #[serde(default)]
    pub file_time_zone: Option<String>,
    /// The smallest value the metric can take (forecasts are clipped to it; e.g. 0).
    #[serde(default)]
    pub min: Option<f64>,
    /// The largest value the metric can take (e.g. 100 for a CPU percentage).
    #[serde(default)]
    pub max: Option<f64>,
}

impl GroupConfig {
    /// The group's `time_zone` (`None`: UTC), as the configuration's check read it.
    pub fn zone(&self) -> Option<chrono_tz::Tz> {
        self.time_zone.as_deref().and_then(|z| parse_time_zone(z).ok())
    }
}

impl MetricConfig {
    /// The zone of the file's stamps without an offset (`None`: UTC), as the configuration's check
    /// read it.
    pub fn file_zone(&self) -> Option<chrono_tz::Tz> {
        self.file_time_zone.as_deref().and_then(|z| parse_time_zone(z).ok())
    }

    /// The metric's physical bounds: `min` and `max` as configured, and for CloudWatch's
    /// `CPUUtilization` of `AWS/EC2` and `AWS/RDS` (a percentage of the instance; an ECS service's can pass 100) `max` 100 unless set, for
    /// every statistic but the ones that add samples up (`Sum`, `SampleCount`).
    pub fn bounds(&self) -> Bounds {
        let percent = self.metric_name.as_deref() == Some("CPUUtilization")
            && matches!(self.namespace.as_deref(), Some("AWS/EC2" | "AWS/RDS"))
            && !matches!(self.stat.as_deref(), Some("Sum" | "SampleCount"));
        Bounds { min: self.min, max: self.max.or(percent.then_some(100.0)) }
    }

    /// Whether the metric is a count, by its statistic (`Sum`, `SampleCount`) or its names
    /// (`requests`, `RequestCount`, `NetworkIn` bytes, messages, packets, connections): no
    /// percentage, however its values stay under 100.
    pub fn counts(&self) -> bool {
        const COUNTS: [&str; 7] = ["count", "request", "bytes", "packets", "messages", "connections", "network"];
        let named = |s: &str| {
            let s = s.to_ascii_lowercase();
            COUNTS.iter().any(|w| s.contains(w))
        };
        matches!(self.stat.as_deref(), Some("Sum" | "SampleCount"))
            || named(&self.name)
            || self.metric_name.as_deref().is_some_and(named)
    }
}

/// The built-in demo configuration (its relative paths point into the demo data directory).
pub const DEMO_CONFIG: &str = include_str!("../../data/demo/prescale.toml");

/// Finds the demo data directory: `./data/demo` of the working directory, else the one of the
/// source tree the binary was built from.
pub fn demo_dir() -> Result<PathBuf> {
    let local = PathBuf::from("data/demo");
    if local.join("prescale.toml").exists() {
        return Ok(local);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");
    if built.join("prescale.toml").exists() {
        return Ok(built);
    }
    bail!(
        "the demo data (data/demo/) is not here\nhint: `prescale demo generate` writes it into ./data/demo, where \
         the demo then runs from; or run prescale from its repository checkout, or give a configuration with --config"
    )
}

/// Whether `secs` is a period CloudWatch answers (and `[ingest] period_secs` takes): 1, 5, 10 or
/// 30 seconds, or whole minutes that divide a day.
pub(crate) fn is_cloudwatch_period(secs: i64) -> bool {
    secs > 0 && 86_400 % secs == 0 && (secs % 60 == 0 || 60 % secs == 0)
}

impl Config {
    /// Parses configuration text; `base_dir` resolves its relative paths.
    pub fn parse(text: &str, base_dir: &Path, origin: &str) -> Result<Self> {
        let parsed: Result<Config> = toml::from_str(text).map_err(|e: toml::de::Error| {
            // A date or time written bare (`2026-12-25`) is a TOML date, not the text expected.
            let bare_date = e.message().contains("invalid type: map, expected a string")
                && e.span().and_then(|sp| text.get(sp)).is_some_and(|v| {
                    v.trim_start_matches(['[', ' ']).starts_with(|c: char| c.is_ascii_digit()) && v.contains('-')
                });
            let hint = if bare_date {
                "\nhint: write dates and times in quotes, e.g. \"2026-12-25\"".to_string()
            } else if e.message().contains("inline table") {
                // `reactive = { … }` and then `[groups.reactive.step]`: TOML closes an inline table.
                "\nhint: a table written inline (`reactive = { … }`) takes nothing added later: write it as a \
                 section of its own (`[groups.reactive]`, its keys on the lines below, then `[groups.reactive.step]`), \
                 or put the rest inside the braces (`reactive = { target_value = 60, step = { enabled = false } }`)"
                    .to_string()
            } else if e.message().starts_with("unknown field `events`") {
                // Events are data with a life of their own (added, listed, removed), not configuration.
                "\nhint: events are not kept in the configuration: `prescale event add --group NAME --name NAME \
                 --start TIME --end TIME --multiplier F` stores one (in STORE/events/v1/events.json), `prescale \
                 event list` shows them, and `prescale plan --what-if` tries one without storing it"
                    .to_string()
            } else {
                nearest_key(e.message()).map_or(String::new(), |k| format!("\nhint: did you mean `{k}`?"))
            };
            anyhow::anyhow!("{}{hint}", e.to_string().trim_end())
        });
        // Lists where tables belong first, alone: what the parse made of them (or failed to, a
        // `reactive = [60.0]` whose first key is a name) is no configuration to judge further.
        let lists = check_lists_for_tables(text);
        if let Err(e) = mistakes(lists, &[]) {
            return Err(e.context(format!("invalid configuration in {origin}")));
        }
        let mut c = parsed.with_context(|| format!("invalid configuration in {origin}"))?;
        c.base_dir = base_dir.to_path_buf();
        c.origin = origin.to_string();
        // A key the model's kind does not take is one of the mistakes, said with the others.
        let found = check_model_keys(text, &c.forecast.model).err().into_iter().collect();
        c.validate(found).with_context(|| format!("invalid configuration in {origin}"))?;
        Ok(c)
    }

    /// Reads a configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read configuration {}: nothing was read, planned or changed (the groups keep the floors the \
                 last run applied, which cover its plan's hours)\nhint: check the path (--config or \
                 PRESCALE_CONFIG) and that the user this job runs as can read it; `prescale nightly` without a \
                 configuration runs the offline demo",
                path.display()
            )
        })?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Self::parse(&text, base, &path.display().to_string())
    }

    /// The demo configuration.
    pub fn demo() -> Result<Self> {
        let dir = demo_dir()?;
        let origin = format!(
            "the built-in demo configuration (a copy of {}: edit that and pass it with --config)",
            dir.join("prescale.toml").display()
        );
        Self::parse(DEMO_CONFIG, &dir, &origin)
    }

    /// Checks the settings together, beside a mistake `found` before; every mistake found is
    /// reported, not only the first (see [`mistakes`]), so that a configuration is mended in one go.
    fn validate(&self, found: Vec<anyhow::Error>) -> Result<()> {
        let mut errs = found;
        // Records a mistake and goes on with the next check.
        macro_rules! fail {
            ($($t:tt)*) => { errs.push(anyhow::anyhow!($($t)*)) };
        }
        // The same for a check that returns its own error.
        macro_rules! check {
            ($r:expr) => {
                if let Err(e) = $r {
                    errs.push(e);
                }
            };
        }
        // A group listed twice is said once (below) and its settings checked on its first listing.
        let (first_of_each, again): (Vec<&GroupConfig>, Vec<&GroupConfig>) = {
            let mut named = std::collections::HashSet::new();
            self.groups.iter().partition(|g| named.insert(&g.name))
        };
        if self.groups.is_empty() {
            fail!("no [[groups]]: name at least one Auto Scaling group");
        }
        for (key, empty) in [
            ("[store] dir", self.store.dir.as_os_str().is_empty()),
            ("[apply] local_state", self.apply.local_state.as_os_str().is_empty()),
            ("[cost] currency", self.cost.currency.trim().is_empty()),
        ] {
            if empty {
                fail!("{key} is empty: give a value, or leave the key out for its default");
            }
        }
        let t = &self.trust;
        // Bounded as the history a store holds is (a century): past them no group could ever plan,
        // or none would ever be held back, and a time that far is no time chrono can add.
        if !(t.min_history_hours.is_finite() && (0.0..=876_600.0).contains(&t.min_history_hours)) {
            fail!(
                "[trust] min_history_hours = {} must be a number of hours from 0 to 876600 (a century; the measured \
                 history a group needs before floors are planned from its forecast; 24 by default)",
                t.min_history_hours
            );
        }
        if !(1..=52_596_000).contains(&t.max_data_age_mins) {
            fail!(
                "[trust] max_data_age_mins = {} must be between 1 and 52596000 (a century; how many minutes old the \
                 newest measured load may be to plan from; 180 by default)",
                t.max_data_age_mins
            );
        }
        if !(t.max_backtest_mase.is_finite() && t.max_backtest_mase > 0.0) {
            fail!(
                "[trust] max_backtest_mase = {} must be a finite number above 0 (the forecast's backtest error, as a \
                 multiple of \"same time yesterday\"'s, up to which floors are planned from it; 3 by default: a very \
                 high value, e.g. 1000, trusts every forecast)",
                t.max_backtest_mase
            );
        }
        if !(t.max_forecast_age_hours.is_finite() && t.max_forecast_age_hours > 0.0) {
            fail!(
                "[trust] max_forecast_age_hours = {} must be a number of hours above 0 (how old a stored forecast may \
                 be to plan from; 26 by default: a nightly run's day and two hours)",
                t.max_forecast_age_hours
            );
        }
        if let Some(r) = &self.aws.region {
            check!(check_region(r));
        }
        if self.aws.max_attempts == Some(0) {
            fail!("[aws] max_attempts = 0 must be at least 1 (attempts per API call, retries included; 5 by default)");
        }
        if let Some(t) = self.aws.timeout_secs
            && !(1..=3600).contains(&t)
        {
            fail!(
                "[aws] timeout_secs = {t} must be between 1 and 3600 (seconds one attempt at an API call may take; 60 by default)"
            );
        }
        for g in &first_of_each {
            for m in &g.metrics {
                if let Some(stat) = &m.stat
                    && !cloudwatch_statistic(stat)
                {
                    fail!(
                        "group {:?} metric {:?}: stat = {stat:?} is not a CloudWatch statistic (Average, Sum, \
                         Minimum, Maximum, SampleCount, a percentile such as p90 or p99.9, or tm99 and the like)",
                        g.name,
                        m.name
                    );
                }
            }
        }
        let p = self.ingest.period_secs;
        if !is_cloudwatch_period(p) {
            fail!(
                "[ingest] period_secs = {p} must be a CloudWatch period: 1, 5, 10, 30 or a multiple of 60 that divides \
                 a day (60, 300, 3600, …)"
            );
        }
        // The newest whole period starts a period or more before now: at or above the data age a
        // plan accepts, every plan would find the load stale.
        if (1..=52_596_000).contains(&self.trust.max_data_age_mins) && p >= self.trust.max_data_age_mins * 60 {
            fail!(
                "[ingest] period_secs = {p} is not under [trust] max_data_age_mins = {} ({} s): the newest whole \
                 period always starts at least a period before now, so every plan would find the load too old; raise \
                 max_data_age_mins above the period (twice it, {}, finds the load fresh whenever in a period the \
                 nightly run starts) or take a shorter period",
                self.trust.max_data_age_mins,
                self.trust.max_data_age_mins.saturating_mul(60),
                (2 * p + 59) / 60
            );
        }
        if self.ingest.grid.max_interpolate_secs < 0 {
            fail!(
                "[ingest] grid.max_interpolate_secs = {} must be 0 or more (seconds of gap filled by interpolation; \
                 0 fills none)",
                self.ingest.grid.max_interpolate_secs
            );
        }
        if !(1..=336).contains(&self.forecast.horizon_hours) {
            fail!(
                "[forecast] horizon_hours = {} must be between 1 and 336 (two weeks; a plan holds at most {} \
                 scheduled actions per group, and nightly runs replace it; 48 by default)",
                self.forecast.horizon_hours,
                prescale_plan::MAX_ACTIONS_PER_GROUP
            );
        } else if self.forecast.horizon_hours < 24 {
            // A nightly run replans once a day: the plan ends at the horizon (the floors back to
            // MinSize), and the hours after it up to the next run have none.
            warn!(
                "[forecast] horizon_hours = {} is shorter than a day: a nightly run's plan ends {0} h after it (the \
                 floors back to MinSize there), and until the next run the group has no floors; an event is planned \
                 only once it starts within {0} h of a run. Run prescale at least every {0} h, or raise horizon_hours \
                 (48 by default)",
                self.forecast.horizon_hours
            );
        }
        if !(2..=3650).contains(&self.forecast.train_days) {
            fail!(
                "[forecast] train_days = {} must be between 2 and 3650 (the days of history a fit sees; 28 by default)",
                self.forecast.train_days
            );
        }
        if let Some(days) = self.store.retention_days.filter(|d| *d > 36_500) {
            fail!("[store] retention_days = {days} is over a century (36,500 days): leave it unset to keep everything");
        }
        if let Some(days) = self.store.retention_days
            && days < self.forecast.train_days.max(self.ingest.lookback_days)
        {
            fail!(
                "[store] retention_days = {days} is shorter than the history a night reads: [forecast] train_days = \
                 {} and [ingest] lookback_days = {}; keep at least the longer of them (a replay with `simulate \
                 --group` sees only what is kept)",
                self.forecast.train_days,
                self.ingest.lookback_days
            );
        }
        if self.forecast.levels.is_empty() {
            fail!("[forecast] levels is empty: give the interval levels to forecast, e.g. [50, 80, 90, 95]");
        }
        for (key, v) in [("lead_time_mins", self.plan.lead_time_mins), ("min_hold_mins", self.plan.min_hold_mins)] {
            if !(0..=1440).contains(&v) {
                fail!("[plan] {key} = {v} must be between 0 and 1440 minutes (a day)");
            }
        }
        if let Some(v) = self.plan.floor_mean_mins.filter(|v| !(1..=1440).contains(v)) {
            fail!(
                "[plan] floor_mean_mins = {v} must be between 1 and 1440 minutes (a day); leave it out to size floors step by step"
            );
        }
        for g in &self.groups {
            if let Some(v) = g.lead_time_mins.filter(|v| !(0..=1440).contains(v)) {
                fail!("group {:?}: lead_time_mins = {v} must be between 0 and 1440 minutes (a day)", g.name);
            }
        }
        for l in &self.forecast.levels {
            check!(Level::new(*l).with_context(|| "[forecast] levels"));
        }
        check!(self.forecast.holiday_dates());
        if !(1..=455).contains(&self.ingest.lookback_days) {
            fail!(
                "[ingest] lookback_days = {} must be between 1 and 455 (CloudWatch keeps 5-minute data 63 days and \
                 hourly data 455; 15 by default, two whole weeks for the weekly models)",
                self.ingest.lookback_days
            );
        }
        for g in &first_of_each {
            let mut names = std::collections::HashSet::new();
            for m in &g.metrics {
                if m.name.trim().is_empty() || m.name.chars().any(char::is_control) {
                    fail!(
                        "group {:?}: a [[groups.metrics]] name is {:?}: give each metric a name (requests, cpu, …), \
                         its series' name in the store",
                        g.name,
                        m.name
                    );
                }
                if !names.insert(m.name.as_str()) {
                    fail!(
                        "group {:?} lists metric {:?} twice: each metric of a group is stored under its name, so \
                         the second would overwrite the first; give each [[groups.metrics]] its own name",
                        g.name,
                        m.name
                    );
                }
                if g.instances_metric.is_some() && m.name == format!("{}-total", g.load_metric) {
                    fail!(
                        "group {:?}: metric {:?} has the name of the total prescale derives from load_metric {:?} \
                         and instances_metric, and the two would overwrite each other; rename the metric",
                        g.name,
                        m.name,
                        g.load_metric
                    );
                }
                check!(m.bounds().validate().map_err(|e| anyhow::anyhow!(
                    "group {:?} metric {:?}: {e}",
                    g.name,
                    m.name
                )));
            }
        }
        let min_step_ok = (1..=1440).contains(&self.forecast.min_step_mins) && 1440 % self.forecast.min_step_mins == 0;
        // The forecast's step, where both settings that make it are valid (the checks that need it
        // are not made on one that is not: its own mistake is said).
        let forecast_step = (is_cloudwatch_period(self.ingest.period_secs) && min_step_ok)
            .then(|| prescale_core::coarsened_step(self.ingest.period_secs, self.forecast.min_step_mins * 60));
        if !min_step_ok {
            fail!(
                "[forecast] min_step_mins = {} must divide a day (1, 2, 3, 5, 10, 15, 30, 60, …, 1440 minutes): the \
                 models learn the daily cycle by the slot of the day (5: finer series are averaged to 5 minutes)",
                self.forecast.min_step_mins
            );
        }
        check!(self.forecast.model.validate().map_err(|e| anyhow::anyhow!("[forecast] model: {e}")));
        if self.plan.max_actions < 2 || self.plan.max_actions > prescale_plan::MAX_ACTIONS_PER_GROUP {
            fail!(
                "[plan] max_actions = {} must be between 2 and {}",
                self.plan.max_actions,
                prescale_plan::MAX_ACTIONS_PER_GROUP
            );
        }
        for (name, e) in &self.environments {
            check!(check_quantile(&format!("[environments.{name}]"), e.quantile));
            let target_ok = check_target(&format!("[environments.{name}]"), e.target_utilization)
                .map_err(|err| errs.push(err))
                .is_ok();
            if !(e.headroom >= 0.0 && e.headroom <= 1.0) {
                fail!(
                    "[environments.{name}] headroom = {} must be a fraction from 0 to 1 (0.1 adds 10 %, 1 doubles the \
                     capacity){}",
                    e.headroom,
                    if e.headroom >= 2.0 && e.headroom <= 100.0 {
                        format!("; for {} % write {}", e.headroom, e.headroom / 100.0)
                    } else {
                        String::new()
                    }
                );
            }
            if !e.point_at_target && e.quantile_utilization.is_none() {
                fail!(
                    "[environments.{name}] point_at_target = false is used only with quantile_utilization (the \
                     floor then leaves the expected load to target tracking); without it the quantile is sized at \
                     the target and the point with it\nhint: add quantile_utilization = 1.0, or remove point_at_target"
                );
            }
            if let Some(u) = e.quantile_utilization
                && target_ok
                && !(u >= e.target_utilization && u <= 1.0)
            {
                fail!(
                    "[environments.{name}] quantile_utilization = {u} must be in [target_utilization, 1] = [{}, 1] \
                     (1.0: the P{:.0} load may use the full capacity; leave it out to size it at the target)",
                    e.target_utilization,
                    e.quantile * 100.0
                );
            }
        }
        if let Some(p) = self.cost.instance_hour_price
            && !(0.0..=prescale_sim::MAX_PRICE).contains(&p)
        {
            fail!("[cost] instance_hour_price = {p} must be a price from 0 to 1000000 per instance-hour, e.g. 0.0832");
        }
        if self.guardrails.max_step_up == Some(0) {
            fail!("[guardrails] max_step_up = 0 would forbid raising any floor: give at least 1, or leave it out");
        }
        if self.guardrails.max_fleet_size == Some(0) {
            fail!("[guardrails] max_fleet_size must be at least 1 (instances), or left out for no limit");
        }
        if self.apply.keep_within_mins > 1440 {
            fail!(
                "[apply] keep_within_mins = {} would keep a floor up to that many minutes before a rise: give at most \
                 1440 (a day; 15 is the default, 0 writes every floor as planned)",
                self.apply.keep_within_mins
            );
        }
        if self.guardrails.fleet_breach == prescale_plan::FleetBreach::Scale && self.guardrails.max_fleet_size.is_none()
        {
            fail!(
                "[guardrails] fleet_breach = \"scale\" scales the floors to fit max_fleet_size, which is not set\nhint: \
                 set max_fleet_size = N (instances), or leave fleet_breach out"
            );
        }
        for g in &again {
            fail!("group {:?} is listed twice", g.name);
        }
        for g in &first_of_each {
            check!(check_group_name(&g.name, g.reactive.step.enabled));
            if g.max_size == 0 {
                fail!("group {:?}: max_size = 0 holds no instance: prescale plans groups with max_size >= 1", g.name);
            } else if g.min_size > g.max_size {
                fail!(
                    "group {:?}: min_size = {} is above max_size = {}: a group holds between its min_size and its \
                     max_size instances\nhint: swap them, or set the group's own bounds (Auto Scaling's MinSize and \
                     MaxSize)",
                    g.name,
                    g.min_size,
                    g.max_size
                );
            }
            let most = u64::from(g.max_size) + u64::from(g.max_breach_buffer.unwrap_or(0));
            if most > MAX_GROUP_SIZE {
                fail!(
                    "group {:?}: max_size = {}{} allows {most} instances, more than prescale plans for one group \
                     ({MAX_GROUP_SIZE}): is it a typo?",
                    g.name,
                    g.max_size,
                    g.max_breach_buffer.map(|b| format!(" plus max_breach_buffer = {b}")).unwrap_or_default()
                );
            }
            // With no [environments] at all a group is in the default one, on the defaults; one that
            // names another expects its settings, which are nowhere.
            if !self.environments.contains_key(&g.environment)
                && (!self.environments.is_empty() || g.environment != default_env())
            {
                // The environments there are (sorted: a map's keys), and the nearest where the name is
                // a typo of one.
                let typed = g.environment.to_ascii_lowercase();
                let near = self
                    .environments
                    .keys()
                    .map(|k| (edit_distance(&typed, k), k))
                    .min()
                    .filter(|(d, _)| *d <= typed.len().div_ceil(2))
                    .map(|(_, k)| format!("did you mean \"{k}\"? "))
                    .unwrap_or_default();
                let listed = if self.environments.is_empty() {
                    String::new()
                } else {
                    let names: Vec<String> = self.environments.keys().map(|k| format!("\"{k}\"")).collect();
                    format!("\nhint: {near}the environments are {}", names.join(", "))
                };
                fail!(
                    "group {:?} names environment {:?}, which has no [environments.{}] section{}{listed}",
                    g.name,
                    g.environment,
                    g.environment,
                    if g.environment == default_env() {
                        " (a group without `environment` is in \"prod\"): add environment = \"…\" to the group, or \
                         an [environments.prod] section"
                    } else {
                        ""
                    }
                );
            }
            if !(g.capacity_per_instance.is_finite() && g.capacity_per_instance > 0.0) {
                fail!(
                    "group {:?}: capacity_per_instance = {} must be a positive number",
                    g.name,
                    g.capacity_per_instance
                );
            }
            if let Some(q) = g.quantile {
                check!(check_quantile(&format!("group {:?}:", g.name), q));
            }
            let target_ok = g
                .target_utilization
                .is_none_or(|t| check_target(&format!("group {:?}:", g.name), t).map_err(|err| errs.push(err)).is_ok());
            // The environment's quantile utilization is checked against its own target; a group's
            // own target must not lie above it either.
            let env = self.environments.get(&g.environment);
            if let (Some(t), Some(u)) = (g.target_utilization, env.and_then(|e| e.quantile_utilization))
                && target_ok
                && u < t
            {
                fail!(
                    "group {:?}: target_utilization = {t} is above its environment's quantile_utilization = {u}: \
                     the quantile's load would be allowed less of an instance than the expected load\nhint: lower \
                     the group's target or raise [environments.{}] quantile_utilization",
                    g.name,
                    g.environment
                );
            }
            let checked: Vec<&str> = CHECKED_PROCESSES.iter().map(|(p, _, _)| *p).collect();
            if let Some(p) = g.suspended_on_purpose.iter().find(|p| !checked.contains(&p.as_str())) {
                fail!(
                    "group {:?}: suspended_on_purpose names {p:?}, not one of the Auto Scaling processes apply checks: \
                     {} (as written, case included); the others it never looks at",
                    g.name,
                    checked.join(", ")
                );
            }
            match (g.max_breach, g.max_breach_buffer) {
                (MaxBreachMode::Raise, None | Some(0)) => fail!(
                    "group {:?}: max_breach = \"raise\" needs max_breach_buffer = N (N >= 1): how many instances \
                     above max_size = {} the scheduled actions may raise MaxSize",
                    g.name,
                    g.max_size
                ),
                (MaxBreachMode::Clamp, Some(_)) => fail!(
                    "group {:?}: max_breach_buffer is only used with max_breach = \"raise\"; add that, or remove \
                     max_breach_buffer",
                    g.name
                ),
                _ => {}
            }
            if let Some(p) = g.instance_hour_price
                && !(0.0..=prescale_sim::MAX_PRICE).contains(&p)
            {
                fail!(
                    "group {:?}: instance_hour_price = {p} must be a price from 0 to 1000000 per instance-hour, e.g. 0.192",
                    g.name
                );
            }
            for e in g.reactive.problems() {
                fail!("group {:?}: reactive.{e}", g.name);
            }
            if g.daily_clock == DailyClock::Local && g.time_zone.is_none() {
                fail!(
                    "group {:?}: daily_clock = \"local\" needs time_zone = \"…\" (the zone whose clocks the load \
                     follows, e.g. \"America/New_York\")",
                    g.name
                );
            }
            if let Some(z) = &g.time_zone {
                match parse_time_zone(z).with_context(|| format!("group {:?}", g.name)) {
                    Err(e) => errs.push(e),
                    Ok(zone) => {
                        // The local clock moves whole slots: the forecast's step must divide the hour (or
                        // the half hour) the zone's clocks move.
                        let moves = summer_shift_size(zone);
                        if let Some(step) = forecast_step
                            && g.daily_clock == DailyClock::Local
                            && moves > 0
                            && moves % step != 0
                        {
                            fail!(
                                "group {:?}: daily_clock = \"local\" moves the history by the {} minutes {z}'s clocks move, \
                                 in whole steps, and the forecast's step is {} minutes ([ingest] period_secs, [forecast] \
                                 min_step_mins)\nhint: a step that divides {} minutes, or daily_clock = \"utc\"",
                                g.name,
                                moves / 60,
                                step / 60,
                                moves / 60
                            );
                        }
                        if let Some(doubt) = zone_doubt(zone, true) {
                            warn!("group {:?}: time_zone = {z:?} {doubt}", g.name);
                        }
                    }
                }
            }
            if !g.metrics.iter().any(|m| m.name == g.load_metric) {
                fail!("group {:?}: load_metric {:?} is not one of its [[groups.metrics]]", g.name, g.load_metric);
            }
            if let Some(inst) = &g.instances_metric
                && (inst == &g.load_metric || !g.metrics.iter().any(|m| &m.name == inst))
            {
                fail!(
                    "group {:?}: instances_metric {inst:?} must be another of its [[groups.metrics]] (the in-service instance count)",
                    g.name
                );
            }
            let source = self.source_of(g);
            // Where the source is set, for the errors: the group's own `source`, or [ingest]'s.
            let set = match g.source {
                Some(k) => format!("its source is \"{}\"", k.name()),
                None if source == SourceKind::Cloudwatch => {
                    "[ingest] source is \"cloudwatch\" (also the default) and the group sets none".to_string()
                }
                None => format!("[ingest] source is \"{}\" and the group sets none", source.name()),
            };
            // How to read the metric from a file instead, for a CloudWatch group.
            let to_files = if g.source.is_some() {
                "set the group's `source = \"csv\"` (or \"parquet\") to read its metrics' files"
            } else {
                "set the group's `source = \"csv\"` (or \"parquet\") to read its metrics' files, or [ingest] source \
                 for every group that sets none"
            };
            for m in &g.metrics {
                match source {
                    SourceKind::Cloudwatch
                        if (m.namespace.is_none() || m.metric_name.is_none()) && m.file.is_some() =>
                    {
                        fail!(
                            "group {:?} metric {:?}: it names a `file` and no namespace and metric_name, but {set}: \
                             CloudWatch reads those\nhint: {to_files}",
                            g.name,
                            m.name
                        )
                    }
                    SourceKind::Cloudwatch if m.namespace.is_none() || m.metric_name.is_none() => {
                        fail!(
                            "group {:?} metric {:?}: {set}, which needs the metric's namespace and metric_name\nhint: \
                             give them, or a `file` and {to_files}",
                            g.name,
                            m.name
                        )
                    }
                    SourceKind::Cloudwatch if m.file_time_zone.is_some() => {
                        fail!(
                            "group {:?} metric {:?}: file_time_zone is for a source of files (\"csv\" or \
                             \"parquet\"), and {set} (CloudWatch's stamps are exact){}",
                            g.name,
                            m.name,
                            if m.file.is_some() {
                                format!("\nhint: to read the file, {to_files}")
                            } else {
                                String::new()
                            }
                        )
                    }
                    SourceKind::Cloudwatch if m.file.is_some() => {
                        // Read nowhere: said, since the user may believe the metric comes from the file
                        // (a metric block copied from a group fed from files).
                        tracing::warn!(
                            "group {:?} metric {:?}: its `file` {} is not read: {set}, so the metric is read from \
                             CloudWatch ({} {})\nhint: to read the file, {to_files}",
                            g.name,
                            m.name,
                            m.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default(),
                            m.namespace.as_deref().unwrap_or_default(),
                            m.metric_name.as_deref().unwrap_or_default()
                        );
                    }
                    SourceKind::Csv | SourceKind::Parquet
                        if m.file.as_ref().is_none_or(|f| f.as_os_str().is_empty()) =>
                    {
                        fail!(
                            "group {:?} metric {:?}: {set}, which reads each metric from a file: set its `file` (a \
                             path relative to this configuration's folder){}",
                            g.name,
                            m.name,
                            if m.file.is_some() { "; it is empty" } else { "" }
                        )
                    }
                    SourceKind::Csv | SourceKind::Parquet if m.namespace.is_some() || m.metric_name.is_some() => {
                        // Read nowhere: said, since the user may believe the metric comes from CloudWatch.
                        tracing::warn!(
                            "group {:?} metric {:?}: namespace and metric_name are for a CloudWatch source; {set}, so \
                             the metric is read from its file, {}",
                            g.name,
                            m.name,
                            m.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default()
                        );
                    }
                    _ => {}
                }
                // (A metric without a namespace or metric_name is said above.)
                if source == SourceKind::Cloudwatch
                    && m.namespace.is_some()
                    && m.metric_name.is_some()
                    && let Some(why) = cloudwatch_names(m)
                {
                    // CloudWatch refuses the whole request, every group's series in it.
                    fail!(
                        "group {:?} metric {:?}: {why}\nhint: copy the names as the CloudWatch console lists the \
                         metric (`aws cloudwatch list-metrics --namespace NS --metric-name NAME` shows them)",
                        g.name,
                        m.name
                    );
                }
                if let Some(z) = &m.file_time_zone {
                    match zone_named(z, &format!("group {:?} metric {:?}: file_time_zone", g.name, m.name)) {
                        Err(e) => errs.push(e),
                        Ok(zone) => {
                            if let Some(doubt) = zone_doubt(zone, false) {
                                warn!("group {:?} metric {:?}: file_time_zone = {z:?} {doubt}", g.name, m.name);
                            }
                        }
                    }
                }
            }
        }
        let groups: Vec<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
        mistakes(errs, &groups)
    }

    /// A path from the file, resolved against the file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.base_dir.join(p) }
    }

    /// Interval levels to forecast.
    pub fn levels(&self) -> Vec<Level> {
        self.forecast.levels.iter().filter_map(|l| Level::new(*l).ok()).collect()
    }

    /// The group's load series: the load metric, or its total over the instances
    /// (`<load>-total`, derived at ingest) when the load metric is per instance.
    pub fn load_id(g: &GroupConfig) -> MetricId {
        match &g.instances_metric {
            Some(_) => MetricId::new(&g.name, format!("{}-total", g.load_metric)),
            None => MetricId::new(&g.name, &g.load_metric),
        }
    }

    /// Whether the group's plan reads the series: its load series, and, `stored`, with a
    /// per-instance load the two metrics its total is derived from at ingest (their forecasts it
    /// does not read). The others are forecast for a person to look at.
    pub fn feeds_plan(g: &GroupConfig, id: &MetricId, stored: bool) -> bool {
        id.group == g.name
            && (*id == Config::load_id(g)
                || (stored
                    && (id.metric == g.load_metric || g.instances_metric.as_deref() == Some(id.metric.as_str()))))
    }

    /// Whether `forecast fit` (and the nightly run) fits the group's series `id`: every one, or
    /// with `[forecast] fit_metrics = "plan"` only the load its plan reads.
    pub fn fits(&self, g: &GroupConfig, id: &MetricId) -> bool {
        self.forecast.fit_metrics == FitMetrics::All || Config::feeds_plan(g, id, false)
    }

    /// Where CloudWatch would answer `[ingest] period_secs` for less than `lookback_days`: it
    /// answers a period only as far back as it keeps data at that resolution (a window that
    /// starts earlier comes back empty, and the history is shorter than asked).
    pub fn beyond_retention(&self) -> Option<String> {
        if !self.groups.iter().any(|g| self.source_of(g) == SourceKind::Cloudwatch) {
            return None;
        }
        let (p, days) = (self.ingest.period_secs, self.ingest.lookback_days);
        let (kept_days, kept, coarser) = match p {
            ..60 => (0, "3 hours", "period_secs = 60 reaches 15 days, 300 reaches 63"),
            _ if p % 300 != 0 => (15, "15 days", "period_secs = 300 reaches 63 days"),
            _ if p % 3600 != 0 => (63, "63 days", "period_secs = 3600 reaches 455 days"),
            _ => return None,
        };
        let shorter = if kept_days > 0 { format!("lookback_days = {kept_days}, or ") } else { String::new() };
        (days > kept_days).then(|| {
            format!(
                "[ingest] period_secs = {p} with lookback_days = {days}: CloudWatch answers {p}-second periods for \
                 the last {kept} only, and no data points for the hours before, so an ingest gets {kept} back (what \
                 the store holds already stays)\nhint: {shorter}a coarser period ({coarser})"
            )
        })
    }

    /// Where the group's metrics come from: its own `source`, else `[ingest] source`.
    pub fn source_of(&self, g: &GroupConfig) -> SourceKind {
        g.source.unwrap_or(self.ingest.source)
    }

    /// Every series stored for the group: its metrics, and the derived total ([`Config::load_id`])
    /// when its load is per instance.
    pub fn series_ids(g: &GroupConfig) -> Vec<MetricId> {
        let mut ids: Vec<MetricId> = g.metrics.iter().map(|m| MetricId::new(&g.name, &m.name)).collect();
        if g.instances_metric.is_some() {
            ids.push(Config::load_id(g));
        }
        ids
    }

    /// Where a group's floors and its target tracking on `ALBRequestCountPerTarget` disagree on
    /// what one instance serves: the floors size `capacity_per_instance × target_utilization`
    /// requests per `period_secs` of a count load (`RequestCount` with `Sum`), target tracking
    /// holds `target_value` per target per minute. More than a quarter apart, the floors hold
    /// the group where target tracking takes it up or down again (AWS's predictive scaling has
    /// one target for both). `None` where they agree or are not in these units.
    pub fn targets_disagree(&self, g: &GroupConfig) -> Option<String> {
        let load = g.metrics.iter().find(|m| m.name == g.load_metric)?;
        // A count per period is read with Sum; a file's unit is not known.
        if g.reactive.metric != "ALBRequestCountPerTarget"
            || g.instances_metric.is_some()
            || load.stat.as_deref() != Some("Sum")
        {
            return None;
        }
        let utilization = self.plan_settings(g).ok()?.target_utilization;
        let period = self.ingest.period_secs as f64;
        let per_minute = g.capacity_per_instance * utilization * 60.0 / period;
        let ratio = g.reactive.target_value / per_minute;
        let fold = ratio.max(1.0 / ratio);
        (fold > 1.25).then(|| {
            format!(
                "its floors size {:.0} requests per instance and minute (capacity_per_instance {} × target_utilization \
                 {utilization} per {period:.0}-s period), its target tracking holds {} per target and minute \
                 (ALBRequestCountPerTarget): they disagree {fold:.1}-fold on what an instance serves, so {}\nhint: \
                 target_value = {per_minute:.0} matches the floors, or capacity_per_instance = {:.0} target tracking",
                per_minute,
                g.capacity_per_instance,
                g.reactive.target_value,
                if ratio > 1.0 {
                    "target tracking takes the group down to the floors, which hold more than it needs"
                } else {
                    "target tracking holds the group above the floors, which are too low to act ahead of the load"
                },
                g.reactive.target_value * period / 60.0 / utilization
            )
        })
    }

    /// Resolved planner settings for a group.
    pub fn plan_settings(&self, g: &GroupConfig) -> Result<PlanSettings> {
        let env = self.environments.get(&g.environment).cloned().unwrap_or_default();
        Ok(PlanSettings {
            bounds: CapacityBounds::new(g.min_size, g.max_size)?,
            capacity_per_instance: g.capacity_per_instance,
            target_utilization: g.target_utilization.unwrap_or(env.target_utilization),
            quantile: g.quantile.unwrap_or(env.quantile),
            quantile_utilization: env.quantile_utilization,
            point_at_target: env.point_at_target,
            unskilled: self.trust.unskilled,
            headroom: env.headroom,
            lead_time: Duration::minutes(g.lead_time_mins.unwrap_or(self.plan.lead_time_mins)),
            min_hold: Duration::minutes(self.plan.min_hold_mins),
            floor_mean: self.plan.floor_mean_mins.map(Duration::minutes),
            max_actions: self.plan.max_actions,
            reactive: g.reactive.clone(),
            max_breach: match (g.max_breach, g.max_breach_buffer) {
                (MaxBreachMode::Raise, Some(buffer)) => MaxBreach::Raise { buffer },
                _ => MaxBreach::Clamp,
            },
            max_step_up: self.guardrails.max_step_up,
            time_zone: g.time_zone.as_deref().map(parse_time_zone).transpose()?,
            daily_clock: match (g.daily_clock, g.time_zone.is_some()) {
                (DailyClock::Local, true) => prescale_plan::CycleClock::Local,
                (DailyClock::Auto, true) => prescale_plan::CycleClock::ByData,
                _ => prescale_plan::CycleClock::Utc,
            },
            history: Duration::days(self.forecast.train_days),
            running: None,
        })
    }

    /// The physical bounds of a group's metric (none for a derived series such as the load of a
    /// per-instance metric times the instances).
    pub fn bounds(&self, g: &GroupConfig, metric: &str) -> Bounds {
        g.metrics.iter().find(|m| m.name == metric).map_or_else(Bounds::default, MetricConfig::bounds)
    }

    /// Whether a group's metric is a count ([`MetricConfig::counts`]).
    pub fn counts(&self, g: &GroupConfig, metric: &str) -> bool {
        g.metrics.iter().find(|m| m.name == metric).is_some_and(MetricConfig::counts)
    }

    /// How a group's metric is forecast beyond the model: `flags` (its holidays and events), the
    /// configured transform, the metric's physical bounds, the weekends in the group's zone `tz`
    /// (its parsed `time_zone`) and, with `daily_clock = "local"`, the daily cycle on that zone's
    /// clock.
    pub fn build_options(
        &self,
        g: &GroupConfig,
        metric: &str,
        flags: Option<std::sync::Arc<prescale_forecast::flags::Flags>>,
        tz: Option<chrono_tz::Tz>,
    ) -> BuildOptions {
        BuildOptions {
            flags,
            transform: self.forecast.transform,
            bounds: self.bounds(g, metric),
            ..zone_options(tz, self.forecast.weekends, g.daily_clock)
        }
    }

    /// The price of one of the group's instance-hours: its own, else `[cost]`'s; `None` when neither
    /// is set.
    pub fn price(&self, group: &str) -> Option<f64> {
        self.groups
            .iter()
            .find(|g| g.name == group)
            .and_then(|g| g.instance_hour_price)
            .or(self.cost.instance_hour_price)
    }

    /// Per configured group, the highest floor a plan may set (`max_size`, plus
    /// `max_breach_buffer` with `max_breach = "raise"`).
    pub fn ceilings(&self) -> Result<BTreeMap<String, u32>> {
        self.groups.iter().map(|g| Ok((g.name.clone(), self.plan_settings(g)?.ceiling()))).collect()
    }
}

/// The mistakes a configuration's checks found as one error: none is `Ok`, one is itself, and
/// several are numbered, each with its hint on an indented line of its own (a `hint:` at the start
/// of a line is the whole error's, which [`crate::commands::explain`] moves to the end). The
/// sections' mistakes come first, then each group's together, in the order of `groups`.
fn mistakes(mut errs: Vec<anyhow::Error>, groups: &[&str]) -> Result<()> {
    if errs.len() <= 1 {
        return errs.pop().map_or(Ok(()), Err);
    }
    let group_of = |e: &anyhow::Error| {
        let text = e.to_string();
        groups.iter().position(|g| text.starts_with(&format!("group {g:?}"))).map_or(0, |i| i + 1)
    };
    errs.sort_by_cached_key(group_of);
    let mut out = format!("{} mistakes, each to mend:", errs.len());
    // A mistake's further lines (its hint) start under its text, past the widest number.
    let indent = " ".repeat(errs.len().to_string().len() + 4);
    for (i, e) in errs.iter().enumerate() {
        let text = format!("{e:#}");
        let mut lines = text.lines();
        let n = format!("{}.", i + 1);
        let width = indent.len() - 3;
        out.push_str(&format!("\n  {n:<width$} {}", lines.next().unwrap_or_default()));
        for l in lines {
            out.push_str(&format!("\n{indent}{l}"));
        }
    }
    Err(anyhow::anyhow!(out))
}

/// A forecast quantile the floors are sized for, where `at` names the setting's place.
fn check_quantile(at: &str, q: f64) -> Result<()> {
    if !(0.5..1.0).contains(&q) {
        bail!("{at} quantile = {q} must be in [0.5, 1) (0.9 plans for the P90 forecast)");
    }
    Ok(())
}

/// A target utilization, where `at` names the setting's place.
fn check_target(at: &str, t: f64) -> Result<()> {
    if !(t > 0.0 && t <= 1.0) {
        bail!("{at} target_utilization = {t} must be in (0, 1] (0.7: instances run at 70 %)");
    }
    Ok(())
}

/// An IANA time zone name as Auto Scaling takes it (`Europe/Berlin`, `America/New_York`, `UTC`).
pub fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz> {
    zone_named(name, "time_zone =")
}

/// Why CloudWatch would refuse a metric's names (its limits: a namespace and a metric name of 1 to
/// 255 characters, at most 30 dimensions, each named in 1 to 255 and valued in 1 to 1,024), or
/// `None`. An empty one is most often a variable that expanded to nothing.
fn cloudwatch_names(m: &MetricConfig) -> Option<String> {
    let chars = |s: &str| s.chars().count();
    let sized = |what: &str, s: &str, max: usize| {
        if s.trim().is_empty() {
            Some(format!("its {what} is empty"))
        } else if s.trim() != s {
            Some(format!("its {what} {s:?} begins or ends with a space, which CloudWatch keeps as part of it"))
        } else if chars(s) > max {
            Some(format!("its {what} is {} characters long, over CloudWatch's {max}", chars(s)))
        } else {
            None
        }
    };
    if m.dimensions.len() > 30 {
        return Some(format!("it has {} dimensions, over CloudWatch's 30", m.dimensions.len()));
    }
    sized("namespace", m.namespace.as_deref().unwrap_or_default(), 255)
        .or_else(|| sized("metric_name", m.metric_name.as_deref().unwrap_or_default(), 255))
        .or_else(|| {
            m.dimensions.iter().find_map(|(k, v)| {
                sized("dimension name", k, 255).or_else(|| sized(&format!("dimension {k:?}'s value"), v, 1024))
            })
        })
}

/// [`parse_time_zone`] for a value given as `key` (`time_zone =`, `--time-zone`), which the
/// error names.
pub fn zone_named(name: &str, key: &str) -> Result<chrono_tz::Tz> {
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        anyhow::anyhow!(
            "{key} {name:?} is not an IANA time zone name; use a name such as \"Europe/Berlin\", \
             \"America/New_York\" or \"UTC\" (the tz database's names, case as written there)"
        )
    })
}

/// What may be meant otherwise by a zone's name, said after it (`time_zone = "EST" …`), or `None`:
/// a fixed offset where people mean a place's clocks (`EST`, `Etc/GMT+5`: no daylight saving; a
/// file exported on New York's clocks steps between EST and EDT), an `Etc/GMT±N` name, whose sign
/// the tz database counts the other way, and, where the name goes to Auto Scaling (`to_aws`), a
/// link of the tz database (`US/Eastern`, `Asia/Calcutta`), not the canonical name Auto Scaling's
/// `TimeZone` is documented to take.
pub fn zone_doubt(zone: chrono_tz::Tz, to_aws: bool) -> Option<String> {
    let name = zone.name();
    let fixed = match name {
        "EST" => Some("America/New_York"),
        "MST" => Some("America/Denver (or America/Phoenix, which keeps no summer time)"),
        "HST" => Some("Pacific/Honolulu"),
        _ => None,
    };
    if let Some(meant) = fixed {
        return Some(format!(
            "is a fixed offset all year, without daylight saving; for the local clocks there use {meant}"
        ));
    }
    if let Some(n) = name.strip_prefix("Etc/GMT").and_then(|n| n.parse::<i32>().ok()).filter(|n| *n != 0) {
        let (east, west) = if n > 0 { ("behind", "ahead of") } else { ("ahead of", "behind") };
        // Etc/GMT-13 and -14 exist (UTC+13, +14), their opposites do not.
        let opposite =
            if n.abs() <= 12 { format!(" (Etc/GMT{:+} is {} h {west} it)", -n, n.abs()) } else { String::new() };
        return Some(format!(
            "runs {} h {east} UTC all year: the tz database's Etc/GMT names count the other way round{opposite}, \
             and keep no daylight saving; for a place's clocks use its Area/Location name (e.g. Europe/Berlin)",
            n.abs()
        ));
    }
    // `UTC` is a link too (to Etc/UTC), but the one everyone writes.
    let target = crate::tz_links::LINKS
        .binary_search_by(|(link, _)| (*link).cmp(name))
        .ok()
        .map(|i| crate::tz_links::LINKS[i].1)
        .filter(|_| to_aws && name != "UTC")?;
    Some(format!(
        "is an alias in the tz database, of {target} (the same clocks): Auto Scaling documents a scheduled \
         action's TimeZone as a canonical name; if it refuses this one, write {target}"
    ))
}

/// AWS regions as of 2026 (commercial, GovCloud, China and the European Sovereign Cloud): a region outside this list is
/// warned about, not refused, since AWS opens new ones.
const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "ca-central-1",
    "ca-west-1",
    "mx-central-1",
    "sa-east-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "cn-north-1",
    "cn-northwest-1",
];

/// A group's name is its Auto Scaling group's (1 to 255 characters), and with step scaling on it
/// is part of the names of prescale's two CloudWatch alarms, which may hold 255 characters too:
/// refused here rather than by the API halfway through an apply.
fn check_group_name(name: &str, step_alarms: bool) -> Result<()> {
    let len = name.chars().count();
    if name.trim().is_empty() || len > 255 {
        bail!(
            "group name {name:?} must be the Auto Scaling group's name: 1 to 255 characters, not blank (it has {len})"
        );
    }
    if name.chars().any(char::is_control) {
        bail!("group name {name:?} holds a control character, which no Auto Scaling group name can");
    }
    if step_alarms {
        let longest = prescale_core::step_alarm_names(name).into_iter().map(|a| a.chars().count()).max().unwrap_or(0);
        if longest > 255 {
            bail!(
                "group {:?}…: the names of its step-scaling alarms ({}<group>-step-out) would be {longest} \
                 characters, over CloudWatch's 255\nhint: set [groups.reactive.step] enabled = false for this group \
                 (target tracking alone), or use a shorter group name",
                name.chars().take(40).collect::<String>(),
                prescale_core::OWNED_PREFIX
            );
        }
    }
    Ok(())
}

/// `[aws] region`: a name that cannot be a region (`US-EAST-1`, `us-east`, `useast1`) is refused;
/// a well-formed one that is not a known region (`us-eats-1`) is warned about with the nearest
/// known one: with a typo every call fails to reach an endpoint, which says little of why.
fn check_region(r: &str) -> Result<()> {
    let parts: Vec<&str> = r.split('-').collect();
    let shaped = parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u32>().is_ok();
    let nearest = nearest_region(r);
    if !shaped {
        bail!(
            "[aws] region = {r:?} is not an AWS region name (such as us-east-1 or eu-west-2; nearest known: {nearest})"
        );
    }
    if !KNOWN_REGIONS.contains(&r) {
        warn!(
            "[aws] region = {r:?} is not a region prescale knows; if it is a typo for {nearest}, every AWS call will \
             fail to reach an endpoint"
        );
    }
    Ok(())
}

/// For serde's "unknown field `capacity_per_instace`, expected one of `a`, `b`, …": the expected
/// key nearest the unknown one, when it is near enough to be a typo (at most a third of it wrong).
fn nearest_key(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    let expected = expected.strip_prefix(", expected ")?;
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|k| (edit_distance(&unknown.to_ascii_lowercase(), k), k))
        .filter(|(d, _)| *d > 0 && *d <= unknown.len().div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The known region nearest to `r` by edit distance, case aside.
fn nearest_region(r: &str) -> &'static str {
    let r = r.to_ascii_lowercase();
    KNOWN_REGIONS.iter().min_by_key(|k| edit_distance(&r, k)).copied().unwrap_or("us-east-1")
}

/// Levenshtein distance in bytes (region names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_people_may_mean_otherwise_are_said_with_the_one_to_write() {
        let doubt = |name: &str, to_aws: bool| zone_doubt(name.parse().unwrap(), to_aws);
        assert!(doubt("EST", false).unwrap().contains("America/New_York"));
        let gmt = doubt("Etc/GMT+1", false).unwrap();
        assert!(gmt.contains("runs 1 h behind UTC") && gmt.contains("Etc/GMT-1 is 1 h ahead of it"), "{gmt}");
        assert!(doubt("Etc/GMT-5", false).unwrap().contains("runs 5 h ahead of UTC"));
        assert!(!doubt("Etc/GMT-14", false).unwrap().contains("Etc/GMT+14"), "no such zone to name");
        // An alias goes to Auto Scaling as written: the canonical name it stands for.
        let alias = doubt("US/Eastern", true).unwrap();
        assert!(alias.contains("an alias in the tz database, of America/New_York"), "{alias}");
        assert!(doubt("Asia/Calcutta", true).unwrap().contains("of Asia/Kolkata"));
        assert!(doubt("Australia/NSW", true).unwrap().contains("of Australia/Sydney"));
        assert!(doubt("US/Eastern", false).is_none(), "a file's zone is read, not sent");
        for fine in ["Europe/Berlin", "America/New_York", "UTC", "Etc/UTC", "Asia/Kolkata", "Australia/Lord_Howe"] {
            assert!(doubt(fine, true).is_none(), "{fine}");
        }
        // The table is sorted, as its search needs, and names zones chrono-tz knows.
        let links = crate::tz_links::LINKS;
        assert!(links.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(links.iter().all(|(a, b)| a.parse::<chrono_tz::Tz>().is_ok() && b.parse::<chrono_tz::Tz>().is_ok()));
    }

    #[test]
    fn a_count_is_told_by_its_statistic_or_its_names() {
        let metric = |toml: &str| toml::from_str::<MetricConfig>(toml).unwrap().counts();
        assert!(metric(r#"name = "requests""#));
        assert!(metric(
            r#"name = "lb"
metric_name = "RequestCountPerTarget""#
        ));
        assert!(metric(
            r#"name = "load"
stat = "Sum""#
        ));
        assert!(!metric(
            r#"name = "cpu"
metric_name = "CPUUtilization""#
        ));
        assert!(!metric(r#"name = "load""#));
    }

    #[test]
    fn events_written_into_the_configuration_are_pointed_at_event_add() {
        let text = "[[events]]\ngroup = \"web\"\nname = \"sale\"\n";
        let e = format!("{:#}", Config::parse(text, Path::new("."), "x").unwrap_err());
        assert!(
            e.contains("unknown field `events`") && e.contains("hint: events are not kept in the configuration"),
            "{e}"
        );
        assert!(e.contains("`prescale event add --group NAME"), "{e}");
    }

    #[test]
    fn a_misspelt_key_gets_the_nearest_one() {
        let msg = "unknown field `capacity_per_instace`, expected one of `name`, `capacity_per_instance`, `min_size`";
        assert_eq!(nearest_key(msg), Some("capacity_per_instance"));
        assert_eq!(nearest_key("unknown field `enable`, expected `enabled` or `owns_scale_in`"), Some("enabled"));
        // Nothing near: no guess.
        assert_eq!(nearest_key("unknown field `colour`, expected one of `name`, `min_size`"), None);
        assert_eq!(nearest_key("invalid type: map, expected a string"), None);
    }

    #[test]
    fn a_region_that_cannot_be_one_is_refused_and_an_unknown_one_gets_the_nearest() {
        for ok in ["us-east-1", "eu-west-2", "us-gov-west-1", "ap-southeast-7", "eusc-de-east-1", "xx-middle-9"] {
            assert!(check_region(ok).is_ok(), "{ok}");
        }
        for (bad, nearest) in [("US-EAST-1", "us-east-1"), ("us-east", "us-east-1"), ("euwest1", "eu-west-1"), ("", "")]
        {
            let e = check_region(bad).unwrap_err().to_string();
            assert!(e.contains("is not an AWS region name") && e.contains(nearest), "{bad}: {e}");
        }
        assert_eq!(nearest_region("us-eats-1"), "us-east-1");
        assert_eq!(nearest_region("eu-centrl-1"), "eu-central-1");
        assert_eq!(nearest_region("ap-northeast-4"), "ap-northeast-1");
    }

    #[test]
    fn a_section_below_an_inline_table_gets_how_to_write_it() {
        let inline = DEMO_CONFIG.replacen(
            "name = \"web-prod\"",
            "name = \"web-prod\"\nreactive = { target_value = 60 }\n[groups.reactive.step]\nenabled = false\n",
            1,
        );
        let e = format!("{:#}", Config::parse(&inline, Path::new("."), "x").unwrap_err());
        assert!(e.contains("inline table") && e.contains("hint: a table written inline"), "{e}");
    }

    #[test]
    fn a_model_may_be_named_by_its_kind_alone() {
        let named = DEMO_CONFIG.replacen("model = { kind = \"auto\" }", "model = \"mstl\"", 1);
        assert_ne!(named, DEMO_CONFIG);
        let c = Config::parse(&named, Path::new("."), "x").unwrap();
        assert_eq!(c.forecast.model, ModelSpec::Mstl { weekly: true });
        let bad = DEMO_CONFIG.replacen("model = { kind = \"auto\" }", "model = \"msl\"", 1);
        let e = format!("{:#}", Config::parse(&bad, Path::new("."), "x").unwrap_err());
        assert!(e.contains("unknown model \"msl\": use auto, mstl") && e.contains("kind = \"profile\""), "{e}");
        let number = DEMO_CONFIG.replacen("model = { kind = \"auto\" }", "model = 5", 1);
        let e = format!("{:#}", Config::parse(&number, Path::new("."), "x").unwrap_err());
        assert!(e.contains("5 is no model: give a kind's name"), "{e}");
    }

    fn long_name(n: usize) -> String {
        format!("name = \"{}\"", "w".repeat(n))
    }

    #[test]
    fn demo_config_parses_and_bad_ones_say_why() {
        let c = Config::demo().unwrap();
        assert!(c.groups.len() >= 3);
        let bad = DEMO_CONFIG.replacen("min_size = ", "min_size = 900 #", 1);
        let e = format!("{:#}", Config::parse(&bad, Path::new("."), "x").unwrap_err());
        assert!(e.contains("min_size = 900 is above max_size = "), "{e}");
        let typo = format!("{DEMO_CONFIG}\n[plan]\nlead_time = 3\n");
        assert!(Config::parse(&typo, Path::new("."), "x").is_err());
        // Values out of range are refused by name, not planned with.
        for (from, to, says) in [
            ("lead_time_mins = 10", "lead_time_mins = -10", "lead_time_mins = -10"),
            ("train_days = 28", "train_days = 4294967295", "train_days = 4294967295 must be between 2 and 3650"),
            ("dir = ", "retention_days = 99999999999\ndir = ", "retention_days = 99999999999 is over a century"),
            (
                "name = \"web-prod\"",
                "name = \"web-prod\"\nlead_time_mins = 2000",
                "\"web-prod\": lead_time_mins = 2000",
            ),
            ("headroom = 0.1", "headroom = -0.5", "headroom = -0.5"),
            ("headroom = 0.1", "headroom = inf", "headroom = inf"),
            ("max_interpolate_secs = 3600", "max_interpolate_secs = -1", "max_interpolate_secs = -1"),
            ("train_days = 28", "train_days = 0", "train_days = 0"),
            ("[store]", "[trust]\nmax_data_age_mins = 200000000000000\n[store]", "max_data_age_mins = 200000000000000"),
            (
                "grid = { max_interpolate_secs = 3600 }",
                "grid = [1, 2, 3]",
                "`grid` (in ingest) takes a table of settings, not a list",
            ),
            (
                "reactive = { metric = \"ASGAverageCPUUtilization\", target_value = 60.0, warmup_secs = 300 }",
                "reactive = [\"ASGAverageCPUUtilization\", 5.0]",
                "`reactive` (in groups \"web-prod\") takes a table of settings, not a list",
            ),
            (
                "reactive = { metric = \"ASGAverageCPUUtilization\", target_value = 60.0, warmup_secs = 300 }",
                "reactive = [60.0]",
                "`reactive` (in groups \"web-prod\") takes a table of settings, not a list",
            ),
            (
                "warmup_secs = 300 }",
                "warmup_secs = 300, step = { out_steps = [[0, 10], [50, 30]] } }",
                "`out_steps` (in groups \"web-prod\" reactive step) is a list of tables of settings, not of lists",
            ),
            ("[store]", "[trust]\nmin_history_hours = inf\n[store]", "min_history_hours = inf"),
            ("[store]", "[trust]\nmax_backtest_mase = nan\n[store]", "max_backtest_mase = NaN"),
            ("period_secs = 300", "period_secs = 86400", "period_secs = 86400 is not under [trust] max_data_age_mins"),
            ("levels = [50, 80, 90, 95]", "levels = []", "levels is empty"),
            ("horizon_hours = 48", "horizon_hours = 100000", "horizon_hours = 100000"),
            ("name = \"web-prod\"", "name = \"web-prod\"\nquantile = 1.5", "quantile = 1.5 must be in [0.5, 1)"),
            ("name = \"web-prod\"", "name = \"web-prod\"\ntarget_utilization = 3.0", "target_utilization = 3 must be"),
            ("period_secs = 300", "period_secs = 300\nlookback_days = 0", "lookback_days = 0 must be"),
            ("name = \"web-prod\"", "name = \" \"", "1 to 255 characters, not blank"),
            (
                "name = \"web-prod\"",
                "name = \"web-prod\"\ndaily_clock = \"local\"",
                "daily_clock = \"local\" needs time_zone",
            ),
            ("name = \"web-prod\"", "name = \"web\\nprod\"", "control character"),
            ("name = \"web-prod\"", &long_name(240), "would be 258 characters, over CloudWatch's 255"),
            ("name = \"web-prod\"", &long_name(256), "(it has 256)"),
            (
                "file = \"web-prod-requests.csv\"",
                "file = \"web-prod-requests.csv\"\n[[groups.metrics]]\nname = \"requests\"\nfile = \"x.csv\"",
                "lists metric \"requests\" twice",
            ),
            // Settings that were taken without a word and planned with.
            (
                "model = { kind = \"auto\" }",
                "model = { kind = \"auto\", transform = \"log\" }",
                "unknown key `transform` for kind = \"auto\": it takes no other key; `transform` is a key of [forecast] itself",
            ),
            ("model = { kind = \"auto\" }", "model = { kind = \"median\", window = 2 }", "unknown field `window`"),
            (
                "model = { kind = \"auto\" }",
                "model = { kind = \"median\", window_days = -2 }",
                "window_days = -2 must be",
            ),
            ("model = { kind = \"auto\" }", "model = { kind = \"profile\", days = 0 }", "days = 0 must be from 1"),
            (
                "model = { kind = \"auto\" }",
                "model = { kind = \"profile\", season = \"week\", days = 3 }",
                "days = 3 must be from 7",
            ),
            ("train_days = 28", "train_days = 28\nmin_step_mins = 7", "min_step_mins = 7 must divide a day"),
            (
                "max_size = 60",
                "max_size = 60\nmax_breach = \"raise\"\nmax_breach_buffer = 4294967295",
                "allows 4294967355 instances",
            ),
            ("max_size = 60", "max_size = 4000000", "max_size = 4000000 allows 4000000 instances"),
            ("headroom = 0.1", "headroom = 5", "for 5 % write 0.05"),
            (
                "headroom = 0.1",
                "headroom = 0.1\npoint_at_target = false",
                "point_at_target = false is used only with quantile_utilization",
            ),
            ("dir = \"store\"", "dir = \"\"", "[store] dir is empty"),
            ("local_state = \"demo-asg-state.json\"", "local_state = \"\"", "[apply] local_state is empty"),
            ("[plan]", "[cost]\ncurrency = \" \"\n[plan]", "[cost] currency is empty"),
            ("name = \"requests\"", "name = \"\"", "a [[groups.metrics]] name is \"\""),
        ] {
            let bad = DEMO_CONFIG.replacen(from, to, 1);
            assert_ne!(bad, DEMO_CONFIG, "{from}");
            let e = format!("{:#}", Config::parse(&bad, Path::new("."), "x").unwrap_err());
            assert!(e.contains(says), "{to}: {e}");
        }
        // Lists where tables belong are said together, and alone: a list read by position makes
        // settings nobody wrote (resource_label from the third item), not mistakes to report.
        let lists = DEMO_CONFIG.replacen("grid = { max_interpolate_secs = 3600 }", "grid = [3600]", 1).replacen(
            "reactive = { metric = \"ASGAverageCPUUtilization\", target_value = 60.0, warmup_secs = 300 }",
            "reactive = [\"ASGAverageCPUUtilization\", 60.0, \"\", 300]",
            1,
        );
        let e = format!("{:#}", Config::parse(&lists, Path::new("."), "x").unwrap_err());
        assert!(e.contains("2 mistakes, each to mend:") && e.contains("`grid` (in ingest)"), "{e}");
        assert!(e.contains("`reactive` (in groups \"web-prod\")") && !e.contains("resource_label"), "{e}");
    }

    #[test]
    fn every_mistake_is_reported_at_once_each_with_its_hint() {
        let bad = DEMO_CONFIG
            .replacen("train_days = 28", "train_days = 1", 1)
            .replacen("min_size = 4", "min_size = 80", 1)
            .replacen("environment = \"staging\"", "environment = \"stagin\"", 1);
        let e = Config::parse(&bad, Path::new("."), "x").unwrap_err();
        let text = crate::commands::explain(&e);
        assert!(text.starts_with("invalid configuration in x: 3 mistakes, each to mend:\n"), "{text}");
        for (i, says) in
            ["train_days = 1 must be", "min_size = 80 is above max_size = 60", "names environment \"stagin\""]
                .iter()
                .enumerate()
        {
            assert!(text.contains(&format!("\n  {}. ", i + 1)) && text.contains(says), "{says}: {text}");
        }
        // Each hint stays under its own mistake, not moved to the end as a whole error's hint.
        assert!(!text.contains("\nhint:"), "{text}");
        assert!(text.contains("\n     hint: did you mean \"staging\"?"), "{text}");
        let min = text.find("min_size = 80").unwrap();
        let swap = text.find("hint: swap them").unwrap();
        assert!(min < swap && swap < text.find("stagin").unwrap(), "{text}");
        // A check that needs a step is not made on one that is not (period_secs = 0 is itself
        // the mistake said), and never divides by it.
        let no_step = DEMO_CONFIG.replacen("period_secs = 300", "period_secs = 0", 1).replacen(
            "name = \"web-prod\"",
            "name = \"web-prod\"\ntime_zone = \"Europe/Berlin\"\ndaily_clock = \"local\"",
            1,
        );
        let e = format!("{:#}", Config::parse(&no_step, Path::new("."), "x").unwrap_err());
        assert!(e.contains("period_secs = 0 must be a CloudWatch period") && !e.contains("mistakes"), "{e}");
        // One mistake is one message: no check is made on a value already refused, and a group
        // listed twice is checked once.
        let local = "name = \"web-prod\"\ntime_zone = \"Europe/Berlin\"\ndaily_clock = \"local\"";
        let qu = "target_utilization = 0.7\nquantile_utilization = 1.0\npoint_at_target = false";
        let web = DEMO_CONFIG[DEMO_CONFIG.find("[[groups]]").unwrap()..].split("\n[[groups]]").next().unwrap();
        for (changes, says) in [
            (vec![("period_secs = 300", "period_secs = 7"), ("name = \"web-prod\"", local)], "period_secs = 7"),
            (vec![("period_secs = 300", "period_secs = 3601"), ("name = \"web-prod\"", local)], "period_secs = 3601"),
            (
                vec![("train_days = 28", "train_days = 28\nmin_step_mins = 7"), ("name = \"web-prod\"", local)],
                "min_step_mins = 7",
            ),
            (
                vec![
                    ("train_days = 28", "train_days = 28\nmin_step_mins = 200000000000000000"),
                    ("name = \"web-prod\"", local),
                ],
                "min_step_mins = 200000000000000000",
            ),
            (
                vec![(
                    "target_utilization = 0.7",
                    "target_utilization = 1.5\nquantile_utilization = 1.0\npoint_at_target = false",
                )],
                "target_utilization = 1.5",
            ),
            (
                vec![
                    ("target_utilization = 0.7", qu),
                    ("name = \"web-prod\"", "name = \"web-prod\"\ntarget_utilization = 1.2"),
                ],
                "target_utilization = 1.2",
            ),
            (vec![("max_size = 60", "max_size = 0")], "max_size = 0 holds no instance"),
            (vec![("horizon_hours = 48", "horizon_hours = 0")], "horizon_hours = 0"),
        ] {
            let mut bad = DEMO_CONFIG.to_string();
            for (from, to) in &changes {
                assert!(bad.contains(from), "{from}");
                bad = bad.replacen(from, to, 1);
            }
            let e = format!("{:#}", Config::parse(&bad, Path::new("."), "x").unwrap_err());
            assert!(e.contains(says) && !e.contains("mistakes"), "{changes:?}: {e}");
        }
        let twice = format!("{DEMO_CONFIG}\n{}", web.replacen("max_size = 60", "max_size = 0", 1));
        let e = format!("{:#}", Config::parse(&twice, Path::new("."), "x").unwrap_err());
        assert!(e.contains("\"web-prod\" is listed twice") && !e.contains("max_size = 0"), "{e}");
        let twice =
            format!("{DEMO_CONFIG}\n{}", web.replacen("name = \"requests\"", "name = \"requests\"\nstat = \"Avg\"", 1));
        let e = format!("{:#}", Config::parse(&twice, Path::new("."), "x").unwrap_err());
        assert!(e.contains("\"web-prod\" is listed twice") && !e.contains("Avg"), "{e}");
        // The sections' mistakes first, then each group's together, whichever check found them.
        let scattered = DEMO_CONFIG
            .replacen("name = \"requests\"", "name = \"requests\"\nstat = \"Avg\"", 1)
            .replacen("min_size = 1", "min_size = 9", 1)
            .replacen("min_size = 4", "min_size = 80", 1)
            .replacen("train_days = 28", "train_days = 1", 1);
        let e = format!("{:#}", Config::parse(&scattered, Path::new("."), "x").unwrap_err());
        let at = |what: &str| e.find(what).unwrap_or_else(|| panic!("{what}: {e}"));
        assert!(
            at("1. [forecast] train_days = 1") < at("2. group \"web-prod\" metric \"requests\": stat = \"Avg\"")
                && at("2. group") < at("3. group \"web-prod\": min_size = 80")
                && at("3. group") < at("4. group \"api-staging\": min_size = 9"),
            "{e}"
        );
        // A key the model's kind does not take, with the others.
        let model = DEMO_CONFIG
            .replacen("model = { kind = \"auto\" }", "model = { kind = \"auto\", transform = \"log\" }", 1)
            .replacen("train_days = 28", "train_days = 1", 1);
        assert_ne!(model, DEMO_CONFIG.replacen("train_days = 28", "train_days = 1", 1));
        let e = format!("{:#}", Config::parse(&model, Path::new("."), "x").unwrap_err());
        assert!(
            e.contains("2 mistakes") && e.contains("unknown key `transform`") && e.contains("train_days = 1"),
            "{e}"
        );
        // A group's step settings too, each mistake under its key.
        let steps = DEMO_CONFIG.replacen(
            "warmup_secs = 300 }",
            "warmup_secs = 300, step = { period_secs = 90, in_remove = 0 } }",
            1,
        );
        assert_ne!(steps, DEMO_CONFIG);
        let e = format!("{:#}", Config::parse(&steps, Path::new("."), "x").unwrap_err());
        assert!(
            e.contains("2 mistakes")
                && e.contains("reactive.step.period_secs = 90")
                && e.contains("reactive.step.in_remove"),
            "{e}"
        );
        // A CloudWatch metric without its names is said once, not also as an empty name.
        let cw = DEMO_CONFIG.replacen("source = \"csv\"", "source = \"cloudwatch\"", 1);
        let e = format!("{:#}", Config::parse(&cw, Path::new("."), "x").unwrap_err());
        assert!(e.contains("3 mistakes") && !e.contains("is empty"), "{e}");
    }

    #[test]
    fn a_local_clock_needs_a_step_that_divides_the_shift() {
        let local = DEMO_CONFIG.replacen(
            "name = \"web-prod\"",
            "name = \"web-prod\"\ntime_zone = \"America/New_York\"\ndaily_clock = \"local\"",
            1,
        );
        assert!(Config::parse(&local, Path::new("."), "x").is_ok());
        let coarse = local.replacen("train_days = 28", "train_days = 28\nmin_step_mins = 180", 1);
        let e = format!("{:#}", Config::parse(&coarse, Path::new("."), "x").unwrap_err());
        assert!(e.contains("moves the history by the 60 minutes America/New_York's clocks move"), "{e}");
        assert!(e.contains("the forecast's step is 180 minutes"), "{e}");
        // A zone without summer time has nothing to move; Lord Howe moves by half an hour.
        let tokyo = coarse.replacen("America/New_York", "Asia/Tokyo", 1);
        assert!(Config::parse(&tokyo, Path::new("."), "x").is_ok());
        let lord_howe = local.replacen("America/New_York", "Australia/Lord_Howe", 1).replacen(
            "train_days = 28",
            "train_days = 28\nmin_step_mins = 60",
            1,
        );
        let e = format!("{:#}", Config::parse(&lord_howe, Path::new("."), "x").unwrap_err());
        assert!(e.contains("by the 30 minutes"), "{e}");
    }

    #[test]
    fn a_metric_named_as_the_derived_total_is_refused() {
        let bad = DEMO_CONFIG
            .replacen("name = \"web-prod\"", "name = \"web-prod\"\ninstances_metric = \"inst\"", 1)
            .replacen(
                "file = \"web-prod-requests.csv\"",
                "file = \"web-prod-requests.csv\"\n[[groups.metrics]]\nname = \"inst\"\nfile = \"i.csv\"\n\
             [[groups.metrics]]\nname = \"requests-total\"\nfile = \"t.csv\"",
                1,
            );
        let e = format!("{:#}", Config::parse(&bad, Path::new("."), "x").unwrap_err());
        assert!(e.contains("has the name of the total prescale derives"), "{e}");
    }

    #[test]
    fn a_groups_lead_time_replaces_the_fleets() {
        let own = DEMO_CONFIG.replacen("name = \"web-prod\"", "name = \"web-prod\"\nlead_time_mins = 25", 1);
        let c = Config::parse(&own, Path::new("."), "x").unwrap();
        let lead = |name: &str| c.plan_settings(c.groups.iter().find(|g| g.name == name).unwrap()).unwrap().lead_time;
        assert_eq!((lead("web-prod"), lead("api-staging")), (Duration::minutes(25), Duration::minutes(10)));
    }

    #[test]
    fn floors_and_target_tracking_on_requests_per_target_are_checked_for_the_same_unit() {
        let text = include_str!("prescale.example.toml");
        let mut c = Config::parse(text, Path::new("."), "x").unwrap();
        // 3000 per 5 minutes at 70 % is 420 a minute, as its target tracking holds.
        let web = c.groups.iter().position(|g| g.name == "web-prod").unwrap();
        assert_eq!(c.targets_disagree(&c.groups[web]), None);
        // Only target tracking on requests per target, and a count load, are compared.
        assert!(c.groups.iter().filter(|g| g.name != "web-prod").all(|g| c.targets_disagree(g).is_none()));
        c.groups[web].capacity_per_instance = 900.0;
        let w = c.targets_disagree(&c.groups[web]).unwrap();
        assert!(
            w.contains("floors size 126 requests per instance and minute")
                && w.contains("disagree 3.3-fold")
                && w.contains("target tracking takes the group down to the floors")
                && w.contains("target_value = 126 matches the floors, or capacity_per_instance = 3000"),
            "{w}"
        );
        c.groups[web].capacity_per_instance = 9000.0;
        assert!(c.targets_disagree(&c.groups[web]).unwrap().contains("target tracking holds the group above"));
    }

    #[test]
    fn a_lookback_beyond_what_cloudwatch_keeps_at_the_period_is_said() {
        let text = include_str!("prescale.example.toml");
        let with = |period: i64, days: i64| {
            let mut c = Config::parse(text, Path::new("."), "x").unwrap();
            (c.ingest.period_secs, c.ingest.lookback_days) = (period, days);
            c.beyond_retention()
        };
        assert_eq!(with(300, 15), None);
        assert_eq!(with(60, 15), None);
        let w = with(60, 30).unwrap();
        assert!(w.contains("for the last 15 days only") && w.contains("period_secs = 300 reaches 63 days"), "{w}");
        assert!(with(300, 90).unwrap().contains("for the last 63 days only"));
        assert!(with(1, 2).unwrap().contains("for the last 3 hours only"));
        assert_eq!(with(3600, 455), None);
        // Files are read as far back as they go.
        let mut files = Config::parse(text, Path::new("."), "x").unwrap();
        files.ingest.source = SourceKind::Csv;
        files.groups.iter_mut().for_each(|g| g.source = None);
        files.ingest.period_secs = 60;
        files.ingest.lookback_days = 30;
        assert_eq!(files.beyond_retention(), None);
    }

    #[test]
    fn names_cloudwatch_would_refuse_are_refused_with_the_config() {
        let text = include_str!("prescale.example.toml");
        for (from, to, says) in [
            ("namespace = \"AWS/ApplicationELB\"", "namespace = \"\"", "its namespace is empty"),
            ("metric_name = \"RequestCount\"", "metric_name = \" \"", "its metric_name is empty"),
            ("metric_name = \"RequestCount\"", "metric_name = \"RequestCount \"", "ends with a space"),
            (
                "{ LoadBalancer = \"app/web-prod/50dc6c495c0c9188\" }",
                "{ LoadBalancer = \"\" }",
                "\"LoadBalancer\"'s value is empty",
            ),
            ("{ LoadBalancer = \"app/web-prod/50dc6c495c0c9188\" }", "{ \"\" = \"x\" }", "its dimension name is empty"),
        ] {
            let bad = text.replacen(from, to, 1);
            assert_ne!(bad, text, "{from}");
            let e = format!("{:#}", Config::parse(&bad, Path::new("."), "x").unwrap_err());
            assert!(e.contains(says) && e.contains("aws cloudwatch list-metrics"), "{to}: {e}");
        }
    }

    #[test]
    fn example_config_parses_with_several_environments() {
        let text = include_str!("prescale.example.toml");
        let c = Config::parse(text, Path::new("."), "prescale.example.toml").unwrap();
        assert_eq!(c.ingest.source, SourceKind::Cloudwatch);
        assert_eq!(c.apply.sink, SinkKind::Autoscaling);
        let envs: std::collections::BTreeSet<_> = c.groups.iter().map(|g| g.environment.as_str()).collect();
        assert_eq!(envs.len(), 3, "{envs:?}");
        let prod = c.plan_settings(&c.groups[0]).unwrap();
        let dev = c.plan_settings(c.groups.iter().find(|g| g.environment == "dev").unwrap()).unwrap();
        assert!(prod.quantile > dev.quantile && prod.bounds.max() > dev.bounds.max());
        let api = c.plan_settings(c.groups.iter().find(|g| g.name == "api-prod").unwrap()).unwrap();
        assert_eq!(api.quantile, 0.95, "the group's own quantile overrides its environment's");
        assert_eq!(api.max_breach, MaxBreach::Raise { buffer: 30 });
        assert_eq!(api.ceiling(), 150);
        assert_eq!(prod.time_zone.map(|z| z.name()), Some("Europe/Dublin"));
        assert_eq!(prod.max_step_up, Some(10));
        assert_eq!(c.guardrails.max_fleet_size, Some(200));
        // Step settings: the web tier's are written out (the defaults), dev turns them off.
        assert_eq!(prod.reactive.step, prescale_plan::StepSettings::default());
        assert_eq!(prod.reactive.metric, "ALBRequestCountPerTarget");
        assert!(!c.groups.iter().find(|g| g.name == "worker-dev").unwrap().reactive.step.enabled);
        // Prices: the group's own, else [cost]'s.
        assert_eq!(c.price("api-prod"), Some(0.192));
        assert_eq!(c.price("web-prod"), Some(0.0832));
        // CloudWatch's CPUUtilization is a percentage: bounded at 100 unless set; the request
        // count is not bounded, and a CPU summed over samples is not a percentage.
        let web = &c.groups[0];
        assert_eq!(c.bounds(web, "cpu").max, Some(100.0));
        assert_eq!(c.bounds(web, "requests").max, None);
        let summed = text.replacen(
            "metric_name = \"CPUUtilization\"\nstat = \"Average\"",
            "metric_name = \"CPUUtilization\"\nstat = \"Sum\"",
            1,
        );
        let c2 = Config::parse(&summed, Path::new("."), "x").unwrap();
        assert_eq!(c2.bounds(&c2.groups[0], "cpu").max, None);
        // A statistic CloudWatch does not know, and [aws] settings out of range, are refused by name.
        let parse = |t: &str| Config::parse(t, Path::new("."), "x").map_err(|e| format!("{e:#}"));
        for stat in ["p99.9", "Sum", "tm99", "TM(10%:90%)", "IQM", "p0", "wm99.5"] {
            assert!(parse(&text.replace("stat = \"Sum\"", &format!("stat = {stat:?}"))).is_ok(), "{stat}");
        }
        for (from, to, says) in [
            ("stat = \"Sum\"", "stat = \"Bogus\"", "stat = \"Bogus\" is not a CloudWatch statistic"),
            ("stat = \"Sum\"", "stat = \"p101\"", "stat = \"p101\""),
            ("stat = \"Sum\"", "stat = \"prank\"", "stat = \"prank\""),
            ("stat = \"Sum\"", "stat = \"p1e1\"", "stat = \"p1e1\""),
            ("stat = \"Sum\"", "stat = \"wm(1:2\"", "stat = \"wm(1:2\""),
            ("max_attempts = 5", "max_attempts = 0", "max_attempts = 0 must be at least 1"),
            ("timeout_secs = 60", "timeout_secs = 0", "timeout_secs = 0 must be between 1 and 3600"),
        ] {
            let bad = text.replacen(from, to, 1);
            assert_ne!(bad, text, "{from}");
            let e = parse(&bad).unwrap_err();
            assert!(e.contains(says), "{to}: {e}");
        }
    }

    #[test]
    fn weekends_are_learnt_in_the_groups_standard_time_unless_turned_off() {
        let text = include_str!("prescale.example.toml");
        let mut c = Config::parse(text, Path::new("."), "prescale.example.toml").unwrap();
        let offset = |c: &Config, zone: Option<&str>| {
            let mut g = c.groups[0].clone();
            g.time_zone = zone.map(str::to_string);
            let tz = g.time_zone.as_deref().map(|z| parse_time_zone(z).unwrap());
            c.build_options(&g, "cpu", None, tz).weekends
        };
        let learn = |secs| Weekends::Learn { utc_offset_secs: secs };
        assert_eq!(offset(&c, None), learn(0));
        assert_eq!(offset(&c, Some("America/New_York")), learn(-5 * 3600), "EST, whatever the date");
        assert_eq!(offset(&c, Some("Asia/Tokyo")), learn(9 * 3600));
        assert_eq!(offset(&c, Some("Australia/Sydney")), learn(10 * 3600), "AEST, not summer's AEDT");
        assert_eq!(offset(&c, Some("Europe/Dublin")), learn(0), "GMT, not summer's IST");
        c.forecast.weekends = false;
        assert_eq!(offset(&c, Some("Asia/Tokyo")), Weekends::Ignore);
    }

    #[test]
    fn bad_step_settings_name_the_group_and_the_key() {
        let web = "reactive = { metric = \"ASGAverageCPUUtilization\", target_value = 60.0, warmup_secs = 300 }";
        assert!(DEMO_CONFIG.contains(web));
        for (extra, want) in [
            ("reactive = { metric = \"Custom\", target_value = 5.0 }", "is not a predefined metric of target tracking"),
            (
                "reactive = { metric = \"ASGAverageCPUUtilisation\", target_value = 60.0, step = { enabled = false } }",
                "is not a predefined metric of target tracking",
            ),
            (
                "reactive = { metric = \"ALBRequestCountPerTarget\", target_value = 400.0, resource_label = \"web-prod\" }",
                "<target-group>/<id>\", not \"web-prod\"",
            ),
            (
                "reactive = { target_value = 60.0, resource_label = \"app/lb/1/targetgroup/tg/2\" }",
                "for metric = \"ALBRequestCountPerTarget\" only",
            ),
            (
                "reactive = { target_value = 60.0, step = { owns_scale_in = true, in_threshold = 0.0 } }",
                "with owns_scale_in nothing else does",
            ),
            ("reactive = { target_value = 60.0, step = { out_threshold = 150.0 } }", "the alarm would never fire"),
            ("reactive = { target_value = 60.0, step = { out_threshold = 40.0 } }", "must lie above the target (60)"),
            ("reactive = { target_value = 0.7 }", "70 for 70 %, not the fraction"),
            ("reactive = { target_value = 150.0 }", "CPU never goes above 100 %"),
            (
                "reactive = { metric = \"ALBRequestCountPerTarget\", target_value = 60.0, step = { enabled = false } }",
                "needs reactive.resource_label",
            ),
            ("reactive = { target_value = 50.0, step = { period_secs = 45 } }", "step.period_secs = 45"),
            ("reactive = { target_value = 50.0, step = { in_threshold = 60.0 } }", "below the scale-out threshold"),
            ("reactive = { target_value = 50.0, step = { out_steps = [] } }", "above_pct = 0"),
            ("reactive = { target_value = 50.0, step = { enable = false } }", "unknown field `enable`"),
            (&format!("{web}\ninstance_hour_price = -1.0"), "instance_hour_price = -1"),
        ] {
            let text = DEMO_CONFIG.replacen(web, extra, 1);
            let e = format!("{:#}", Config::parse(&text, Path::new("."), "x").unwrap_err());
            assert!(e.contains(want) && (e.contains("web-prod") || e.contains("unknown")), "{want}: {e}");
        }
    }
}
