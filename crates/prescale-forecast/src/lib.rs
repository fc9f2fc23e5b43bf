#![doc = include_str!("../README.md")]

pub mod backtest;
pub mod conformal;
mod engine;
mod error;
pub mod evaluate;
mod naive;
pub mod point;
mod prepare;

pub use engine::{CandidateScore, Combiner, Engine, EngineSettings, InverseScore};
pub use error::ForecastError;
pub use naive::{Season, SeasonalNaive};
pub use prepare::{Prepared, prepare_history};

use std::sync::Arc;

use point::{Mstl, PointModel, RecentMedian, SeasonalNaivePoint, SeasonalProfile};
use prescale_core::{Forecast, Level, Series};
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
    fn predict(&self, horizon: usize, levels: &[Level]) -> Result<Forecast, ForecastError>;

    /// How the candidate models scored in the backtests behind this fit, and their weights (empty
    /// for models fitted without backtests).
    fn scores(&self) -> Vec<CandidateScore> {
        Vec::new()
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
    /// A robust seasonal profile (per-slot median over past seasons, moved to the current level).
    Profile {
        /// `day` or `week`.
        #[serde(default = "day")]
        season: Season,
        /// Seasons the median is taken over.
        #[serde(default = "seven")]
        seasons: usize,
    },
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
fn seven() -> usize {
    7
}

/// The candidates of [`ModelSpec::Auto`].
pub fn auto_candidates() -> Vec<Box<dyn PointModel>> {
    vec![
        Box::new(SeasonalNaivePoint { days: 1 }),
        Box::new(SeasonalNaivePoint { days: 7 }),
        Box::new(RecentMedian { window_days: 1.0 }),
        Box::new(SeasonalProfile { season_days: 1, seasons: 7 }),
        Box::new(Mstl { weekly: true }),
    ]
}

impl ModelSpec {
    /// The forecaster this spec describes.
    pub fn build(&self) -> Box<dyn Forecaster> {
        let single = |name: String, m: Box<dyn PointModel>| -> Box<dyn Forecaster> {
            Box::new(Engine {
                name,
                candidates: Arc::new(vec![m]),
                combiner: Box::new(InverseScore { ratio: f64::INFINITY }),
                settings: EngineSettings::default(),
            })
        };
        match self {
            ModelSpec::Auto => Box::new(Engine {
                name: "auto".into(),
                candidates: Arc::new(auto_candidates()),
                combiner: Box::new(InverseScore { ratio: 1.2 }),
                settings: EngineSettings::default(),
            }),
            ModelSpec::SeasonalNaive { season } => Box::new(SeasonalNaive { season: *season }),
            ModelSpec::Mstl { weekly } => single("mstl".into(), Box::new(Mstl { weekly: *weekly })),
            ModelSpec::Median { window_days } => {
                single("median".into(), Box::new(RecentMedian { window_days: *window_days }))
            }
            ModelSpec::Profile { season, seasons } => single(
                "profile".into(),
                Box::new(SeasonalProfile {
                    season_days: if *season == Season::Week { 7 } else { 1 },
                    seasons: *seasons,
                }),
            ),
        }
    }
}
