use thiserror::Error;

/// Errors of fitting and forecasting.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ForecastError {
    /// Not enough history.
    #[error(
        "history too short: {got} usable point{}, at least {needed} needed\nhint: give more history (two weeks or \
         more is best: ingest more for a group, a longer file for --input); of the models, `auto` needs the least",
        if *.got == 1 { "" } else { "s" }
    )]
    TooShort {
        /// Points needed.
        needed: usize,
        /// Points available.
        got: usize,
    },
    /// A history that breaks off for more than a week and holds too little after the gap.
    #[error(
        "the history breaks off for {gap_days:.0} days and holds only {after_hours:.1} h since: too little to \
         forecast from, and the days before the gap are too old to stand for now\nhint: wait until two days have \
         come in since the gap (a plan meanwhile leaves the group to its reactive policy), or ingest the missing days"
    )]
    BrokenHistory {
        /// Length of the gap, in days.
        gap_days: f64,
        /// History after the gap, in hours.
        after_hours: f64,
    },
    /// The history contradicts the settings it is fitted with (bounds it mostly lies outside).
    #[error("{0}")]
    BadInput(String),
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
