#![doc = include_str!("../README.md")]

pub mod backtest;
pub mod clock;
pub mod conformal;
mod engine;
mod error;
pub mod ets;
pub mod evaluate;
pub mod flags;
pub mod holiday;
mod naive;
pub mod point;
mod prepare;
pub mod ridge;
pub mod seasons;
pub mod synthetic;
pub mod transform;

pub use engine::{Candidate, CandidateScore, Engine, EngineSettings, duration_text, significant_evidence};
pub use error::ForecastError;
pub use naive::{Season, SeasonalNaive};
pub use prepare::{
    Prepared, SEASONAL_FILL_HOURS, history_warnings, many_negatives, mostly_negative, prepare_history, rare_negatives,
};

use std::sync::Arc;

use ets::Ets;
use point::{LevelModel, Mstl, PointModel, ProfileLevel, RecentMedian, SeasonalNaivePoint};
use prescale_core::{Forecast, Series};
use serde::{Deserialize, Serialize};

/// An unfitted model: settings only.
pub trait Forecaster: Send + Sync + std::fmt::Debug {
    /// Model id as shown to users, e.g. `seasonal-naive(auto)`.
    fn name(&self) -> String;

    /// Fits the model to `history` (a regular series; missing slots are handled by the model).
    ///
    /// # Errors
    /// [`ForecastError::TooShort`] and friends when the history cannot support the model.
    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError>;
}

/// A fitted model, ready to forecast from the end of its history.
pub trait FittedModel: Send + std::fmt::Debug {
    /// Model id of the fitted model, resolved choices included (e.g. `seasonal-naive(week)`).
    fn model_id(&self) -> String;

    /// Warnings from fitting (a repaired history, a fallback), for the user.
    fn warnings(&self) -> Vec<String>;

    /// Forecasts `horizon` steps with intervals at every level in `levels`.
    ///
    /// # Errors
    /// [`ForecastError`] when the horizon is zero.
    fn predict(&self, horizon: usize, levels: &[prescale_core::Level]) -> Result<Forecast, ForecastError>;

    /// How the candidate models scored in the backtests behind this fit, and their weights (empty
    /// for models fitted without backtests).
    fn scores(&self) -> Vec<CandidateScore> {
        Vec::new()
    }
}

/// How a wrapper rewrites its inner model's forecast (a transform's inverse, a holiday's ratio).
pub(crate) trait Rewrite: Send + std::fmt::Debug {
    /// The forecast rewritten (its model id is set by [`Rewritten`]).
    fn rewrite(&self, f: Forecast) -> Result<Forecast, ForecastError>;
}

/// A fitted wrapper: the inner model's forecast rewritten, under the wrapper's own id and
/// warnings; the backtest scores are the inner model's.
#[derive(Debug)]
pub(crate) struct Rewritten<R> {
    pub inner: Box<dyn FittedModel>,
    pub id: String,
    pub warnings: Vec<String>,
    pub rewrite: R,
}

impl<R: Rewrite> FittedModel for Rewritten<R> {
    fn model_id(&self) -> String {
        self.id.clone()
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn predict(&self, horizon: usize, levels: &[prescale_core::Level]) -> Result<Forecast, ForecastError> {
        let mut f = self.rewrite.rewrite(self.inner.predict(horizon, levels)?)?;
        f.model.clone_from(&self.id);
        Ok(f)
    }

    fn scores(&self) -> Vec<CandidateScore> {
        self.inner.scores()
    }
}

/// A model chosen in configuration (`[forecast] model = { kind = "auto" }`). Every kind but
/// `seasonal-naive` gets its intervals from its own rolling-origin backtest errors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum ModelSpec {
    /// The engine: every candidate model backtested on the series' own history and combined by
    /// score (see `models/README.md`).
    #[default]
    Auto,
    /// Seasonal naive with empirical intervals.
    SeasonalNaive {
        /// Season length.
        #[serde(default)]
        season: Season,
    },
    /// MSTL (daily and, with two weeks of history, weekly seasons) with an ETS level/trend.
    Mstl {
        /// Fit a weekly season when the history allows.
        #[serde(default = "yes")]
        weekly: bool,
    },
    /// A flat forecast at the median of the recent past.
    Median {
        /// Window in days.
        #[serde(default = "one")]
        window_days: f64,
    },
    /// A robust seasonal profile (per-slot median over past seasons, cleaned of incidents and
    /// shrunk by its noise) on top of a level.
    Profile {
        /// `day` or `week`.
        #[serde(default = "day")]
        season: Season,
        /// Days the profile is taken over.
        #[serde(default = "profile_days")]
        days: usize,
        /// `ses` (smoothed, follows level changes) or `median` (of the last day, robust).
        #[serde(default)]
        level: LevelSpec,
    },
    /// Exponential smoothing (augurs AutoETS, non-seasonal) of hourly means, on the raw series
    /// and with its daily profile removed, the two weighed by their backtests on the series.
    Ets,
    /// Ridge regression on lags, rolling statistics and calendar terms, direct over the horizon
    /// (see `models/README.md`).
    Ridge,
}

/// How [`ModelSpec::build_with`] builds a forecaster beyond its kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildOptions {
    /// Holidays and events (features of `ridge`).
    pub flags: Option<Arc<flags::Flags>>,
    /// Fit on the log or Box–Cox transform of the series ([`transform`]).
    pub transform: transform::Transform,
    /// Clip forecasts and intervals to these.
    pub bounds: transform::Bounds,
    /// Whether the engine's models learn a weekend effect ([`holiday`]), and in which zone.
    pub weekends: Weekends,
    /// Learn the daily cycle on this zone's standard-time clock ([`clock`]); `None`: on UTC.
    pub clock: Option<clock::LocalClock>,
    /// Threads the engine backtests its candidates on (`None`: the calling thread alone, for a
    /// caller that runs several fits at once). The forecast is the same whatever the number.
    pub threads: Option<std::num::NonZeroUsize>,
}

/// Whether the engine's models learn how weekends differ from weekdays ([`holiday`] has how).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weekends {
    /// Learn it where two weekends of the history agree (a single one halfway, where it stands
    /// out); Saturday and Sunday at this offset from
    /// UTC, in seconds (a group's zone; daylight saving time moves a weekend by an hour at most).
    Learn {
        /// Offset from UTC in seconds.
        utc_offset_secs: i64,
    },
    /// Every day is an ordinary day (holidays aside).
    Ignore,
}

impl Default for Weekends {
    fn default() -> Self {
        Weekends::Learn { utc_offset_secs: 0 }
    }
}

impl Weekends {
    /// Learnt at `utc_offset_secs` when `learn`, else ignored.
    pub fn learn_if(learn: bool, utc_offset_secs: i64) -> Self {
        if learn { Weekends::Learn { utc_offset_secs } } else { Weekends::Ignore }
    }

    /// The offset weekends are learnt at, when they are.
    pub fn offset(self) -> Option<i64> {
        match self {
            Weekends::Learn { utc_offset_secs } => Some(utc_offset_secs),
            Weekends::Ignore => None,
        }
    }
}

/// The level model of [`ModelSpec::Profile`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LevelSpec {
    /// Exponential smoothing of hourly medians.
    #[default]
    Ses,
    /// Median of the last day.
    Median,
}

fn profile_days() -> usize {
    7
}

fn yes() -> bool {
    true
}
fn one() -> f64 {
    1.0
}
fn day() -> Season {
    Season::Day
}

/// The candidates of [`ModelSpec::Auto`] and their priors, and the index of the reference.
///
/// The two models that carry a daily cycle robustly (the shrunk profile with a smoothed level,
/// and MSTL on the incident-cleaned history) share the prior; the simple models get a tenth each
/// and win weight only by beating them in the series' own backtests.
pub fn auto_candidates() -> (Vec<Candidate>, usize) {
    let c = |model: Box<dyn PointModel>, prior: f64| Candidate { model, prior };
    (
        vec![
            c(Box::new(RecentMedian { window_days: 1.0 }), 0.1),
            c(Box::new(SeasonalNaivePoint { days: 1, cleaned: true }), 0.1),
            c(Box::new(SeasonalNaivePoint { days: 7, cleaned: true }), 0.1),
            c(Box::new(ProfileLevel { season_days: 1, days: 7, level: LevelModel::Median }), 0.1),
            c(Box::new(ProfileLevel { season_days: 1, days: 7, level: LevelModel::Smoothed }), 1.0),
            c(Box::new(ProfileLevel { season_days: 7, days: 28, level: LevelModel::Smoothed }), 1.0),
            c(Box::new(Mstl { weekly: true, cleaned: true }), 1.0),
        ],
        0,
    )
}

impl ModelSpec {
    /// Whether the model uses the holidays of [`BuildOptions::flags`]: `ridge` learns holidays
    /// and events as features; the engine's models (`auto`, `mstl`, `profile`, `ets`, `median`)
    /// learn a holiday's effect as a ratio (`holiday::Holidays`); `seasonal-naive` ignores them.
    pub fn uses_flags(&self) -> bool {
        !matches!(self, ModelSpec::SeasonalNaive { .. })
    }

    /// Checks the model's settings; the message names the key and its range.
    ///
    /// # Errors
    /// What is out of range, and what to give instead.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            ModelSpec::Median { window_days } if !(window_days.is_finite() && (0.01..=365.0).contains(window_days)) => {
                Err(format!(
                    "window_days = {window_days} must be a number of days from 0.01 to 365 (1: the median of the last \
                     day)"
                ))
            }
            ModelSpec::Profile { season, days, .. } => {
                let least = if *season == Season::Week { 7 } else { 1 };
                if (least..=365).contains(days) {
                    Ok(())
                } else {
                    Err(format!(
                        "days = {days} must be from {least} (one {} season) to 365: the profile is taken over that many \
                         days (7 for a daily profile, 28 for a weekly one)",
                        if *season == Season::Week { "weekly" } else { "daily" }
                    ))
                }
            }
            _ => Ok(()),
        }
    }

    /// The forecaster this spec describes.
    pub fn build(&self) -> Box<dyn Forecaster> {
        self.build_model(None, None)
    }

    /// The forecaster this spec describes, with the options: holidays and events for the models
    /// that use them ([`ModelSpec::uses_flags`]), a transform and physical bounds around it, on a
    /// zone's standard-time clock when [`BuildOptions::clock`] is set.
    pub fn build_with(&self, options: &BuildOptions) -> Box<dyn Forecaster> {
        if let Some(clock) = &options.clock {
            // The model sees the history on the standard-time clock: its holidays (local days as
            // UTC spans) move with it.
            let moved = BuildOptions {
                flags: options.flags.as_ref().map(|f| Arc::new(f.moved(|t| clock.on_standard_clock(t)))),
                clock: None,
                ..options.clone()
            };
            let on_utc = BuildOptions { clock: None, ..options.clone() };
            let local = clock::OnLocalClock {
                inner: self.build_with(&moved),
                on_utc: self.build_with(&on_utc),
                clock: clock.clone(),
                bounds: options.bounds,
            };
            if clock.is_by_data() {
                return Box::new(clock::EitherClock { local });
            }
            return Box::new(local);
        }
        let flags = options.flags.clone().filter(|f| !f.is_empty());
        // The engine's models take holidays and weekends as a ratio to an ordinary day, on the
        // untransformed series; ridge takes them (and events, and the day of the week) as its own
        // features; seasonal naive stays the plain baseline.
        let days = holiday::SpecialDays {
            flags: flags.clone().filter(|f| f.counts().0 > 0),
            weekends: options.weekends.offset(),
        };
        let special = !matches!(self, ModelSpec::Ridge | ModelSpec::SeasonalNaive { .. })
            && (days.flags.is_some() || days.weekends.is_some());
        // Under the special days' wrapper, which checks the bounds on the history as measured and
        // clips the forecast to them, the inner model sees the history with those days divided by
        // their ratio: no maximum of the metric holds there, the minimum (a ratio keeps the sign) does.
        let bounds = if special { transform::Bounds { max: None, ..options.bounds } } else { options.bounds };
        let inner = self.build_model(flags, options.threads);
        let model: Box<dyn Forecaster> =
            if options.transform == transform::Transform::None && bounds == transform::Bounds::default() {
                inner
            } else {
                Box::new(transform::Transformed { inner, transform: options.transform, bounds })
            };
        if !special {
            return model;
        }
        Box::new(holiday::Holidays { inner: model, days, bounds: options.bounds })
    }

    fn build_model(
        &self,
        flags: Option<Arc<flags::Flags>>,
        threads: Option<std::num::NonZeroUsize>,
    ) -> Box<dyn Forecaster> {
        let settings =
            EngineSettings { threads: threads.unwrap_or(std::num::NonZeroUsize::MIN), ..EngineSettings::default() };
        let single = |name: String, model: Box<dyn PointModel>| -> Box<dyn Forecaster> {
            Box::new(Engine {
                name,
                candidates: Arc::new(vec![Candidate { model, prior: 1.0 }]),
                reference: 0,
                settings: settings.clone(),
            })
        };
        match self {
            ModelSpec::Auto => {
                let (candidates, reference) = auto_candidates();
                Box::new(Engine {
                    name: "auto".into(),
                    candidates: Arc::new(candidates),
                    reference,
                    settings: EngineSettings { detect_period: true, ..settings.clone() },
                })
            }
            ModelSpec::Ets => Box::new(Engine {
                name: "ets".into(),
                candidates: Arc::new(vec![
                    Candidate { model: Box::new(Ets { deseasonalised: false }), prior: 1.0 },
                    Candidate { model: Box::new(Ets { deseasonalised: true }), prior: 1.0 },
                ]),
                reference: 0,
                settings: settings.clone(),
            }),
            ModelSpec::Ridge => single("ridge".into(), Box::new(ridge::Ridge { flags, ..ridge::Ridge::default() })),
            ModelSpec::SeasonalNaive { season } => Box::new(SeasonalNaive { season: *season }),
            ModelSpec::Mstl { weekly } => single("mstl".into(), Box::new(Mstl { weekly: *weekly, cleaned: true })),
            ModelSpec::Median { window_days } => {
                single("median".into(), Box::new(RecentMedian { window_days: *window_days }))
            }
            ModelSpec::Profile { season, days, level } => single(
                "profile".into(),
                Box::new(ProfileLevel {
                    season_days: if *season == Season::Week { 7 } else { 1 },
                    days: *days,
                    level: match level {
                        LevelSpec::Ses => LevelModel::Smoothed,
                        LevelSpec::Median => LevelModel::Median,
                    },
                }),
            ),
        }
    }
}
