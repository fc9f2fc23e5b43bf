use thiserror::Error;

/// Errors of fitting and forecasting.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ForecastError {
    /// Not enough history.
    #[error(
        "history too short: {got} usable points, at least {needed} needed\nhint: ingest more history (two weeks or more is best)"
    )]
    TooShort {
        /// Points needed.
        needed: usize,
        /// Points available.
        got: usize,
    },
    /// Zero horizon.
    #[error("the forecast horizon must be at least one step")]
    ZeroHorizon,
    /// An underlying model failed to fit or forecast.
    #[error("model failed: {0}")]
    Model(String),
    /// Domain validation failed.
    #[error(transparent)]
    Core(#[from] prescale_core::CoreError),
}
