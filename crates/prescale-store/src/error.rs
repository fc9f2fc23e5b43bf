use std::path::PathBuf;

use thiserror::Error;

/// Errors of the metric store and the forecast table.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// File system error.
    #[error("{action} {path}")]
    Io {
        /// What was being done ("cannot write", …).
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Parquet encoding or decoding failed.
    #[error("Parquet error in {path}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Arrow error while building or reading a batch.
    #[error("Arrow error in {path}")]
    Arrow {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// A stored file is not of the schema this version reads.
    #[error(
        "{path} has schema {found:?}, expected {expected:?}\nhint: it was written by another prescale version or is not a prescale file; move it aside and re-ingest"
    )]
    Schema {
        /// The file.
        path: PathBuf,
        /// Schema tag found.
        found: String,
        /// Schema tag expected.
        expected: &'static str,
    },
    /// New samples have another step than the stored series.
    #[error(
        "{id}: stored at a {stored}s step, new samples are at {new}s\nhint: ingest with the stored period, or remove {path} to start the series anew"
    )]
    StepMismatch {
        /// Series.
        id: String,
        /// Stored step.
        stored: i64,
        /// New step.
        new: i64,
        /// The stored file.
        path: PathBuf,
    },
    /// The series is not in the store.
    #[error("no stored series {id} (looked for {path})\nhint: run `prescale ingest` first")]
    NotFound {
        /// Series.
        id: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Domain validation failed.
    #[error(transparent)]
    Core(#[from] prescale_core::CoreError),
}
