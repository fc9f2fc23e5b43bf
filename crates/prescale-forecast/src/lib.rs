#![doc = include_str!("../README.md")]

mod error;
mod naive;
mod prepare;

pub use error::ForecastError;
pub use naive::{Season, SeasonalNaive};
pub use prepare::{Prepared, prepare_history};

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
}

/// A model chosen in configuration (`[forecast] model = { kind = "seasonal-naive", season = "auto" }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum ModelSpec {
    /// Seasonal naive with empirical intervals.
    SeasonalNaive {
        /// Season length.
        #[serde(default)]
        season: Season,
    },
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec::SeasonalNaive { season: Season::Auto }
    }
}

impl ModelSpec {
    /// The forecaster this spec describes.
    pub fn build(&self) -> Box<dyn Forecaster> {
        match self {
            ModelSpec::SeasonalNaive { season } => Box::new(SeasonalNaive { season: *season }),
        }
    }
}
