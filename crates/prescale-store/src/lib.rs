#![doc = include_str!("../README.md")]

mod atomic;
mod backtests;
mod error;
mod events;
mod forecasts;
mod lock;
mod metrics;
mod pauses;
mod simulations;
mod sources;

pub use atomic::{placed_by_another, write_file_atomic};
pub use backtests::{BACKTESTS_SCHEMA, BacktestRun, write_backtests};
pub use error::StoreError;
pub use events::{EVENTS_FORMAT, EventStore, REMOVED_FORMAT, RemovedEvent};
pub use forecasts::{FORECASTS_SCHEMA, ForecastTable};
pub use lock::{FileLock, lock_run};
pub use metrics::{IngestSummary, METRICS_SCHEMA, MetricStore, Provenance, WriteLock, ZoneChange};
pub use pauses::{PAUSES_FORMAT, Pause, PauseStore};
pub use simulations::{SIMULATIONS_SCHEMA, SimulationRun, write_simulations};
pub use sources::{
    CsvSource, FileContent, ParquetSource, file_content, gzip_error, parse_timestamp, read_csv_samples,
    read_csv_samples_in, read_parquet_samples, read_parquet_samples_in,
};

/// Percent-encodes a name so it is one safe path component on every file system.
pub(crate) fn path_component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_components_are_safe() {
        assert_eq!(super::path_component("web-prod"), "web-prod");
        assert_eq!(super::path_component("../a/b c"), "%2E.%2Fa%2Fb%20c");
    }
}
