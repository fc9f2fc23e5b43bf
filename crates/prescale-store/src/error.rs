use std::path::PathBuf;

use thiserror::Error;

/// Errors of the metric store, the forecast table and the events file.
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
    #[error("{path}")]
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
    #[error("{}", schema_message(path, found, expected))]
    Schema {
        /// The file.
        path: PathBuf,
        /// Schema tag found.
        found: String,
        /// Schema tag expected.
        expected: &'static str,
    },
    /// A prescale file whose content is damaged: it decodes, but what it holds cannot be what was
    /// written (rows that do not match the checksum written with them, timestamps off the grid,
    /// metadata missing).
    #[error("{path} is damaged: {what}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// A series' file holds another series (copied or moved by hand).
    #[error(
        "{path} holds the series {found}, not {expected}\nhint: it was copied or moved there by hand (or, on a \
         file system that ignores case, two names differ only in case: rename one in the configuration); move it \
         back (or aside) and re-ingest"
    )]
    WrongSeries {
        /// The file.
        path: PathBuf,
        /// The series its metadata names.
        found: String,
        /// The series its place in the store names.
        expected: String,
    },
    /// New samples have another step than the stored series.
    #[error(
        "{id}: stored at a {stored}s step, this ingest asks for {new}s (period_secs), a finer step than the history can give\nhint: set period_secs back to {stored} (a multiple of it stores the history again at that step), or move {path} aside to start the series anew at {new}s (the forecast then has only what the source still returns)"
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
    #[error(
        "no stored series {id} (looked for {path})\nhint: `prescale ingest` stores it; where it just ran (as in \
         `prescale nightly`), its warning for {id} says why it could not"
    )]
    NotFound {
        /// Series.
        id: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A JSON file of the store cannot be read or written.
    #[error(
        "{} is not a valid events file\nhint: fix it by hand (the line and column are on the line above; in events.json, `start` and `end` are RFC 3339 times with an offset, as 2026-11-24T10:00:00Z: one without its offset or seconds is refused, as \"premature end of input\" or \"input contains invalid characters\") or move it aside; prescale never overwrites a file it cannot read",
        path.display()
    )]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The pauses file (`prescale pause`) cannot be read.
    #[error(
        "{} is not a valid pauses file\nhint: mend it by hand (JSON, `prescale.pauses/v1`: each pause a `group`, `since` and `until` as RFC 3339 times, and a `reason`) or move it aside and pause again what should stay paused; prescale never overwrites a file it cannot read",
        path.display()
    )]
    PausesJson {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A JSON file of the store has another format version.
    #[error(
        "{} has format {found:?}, this prescale reads {expected:?}\nhint: it was written by another prescale version; use that version or move the file aside",
        path.display()
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// Format tag found (empty when absent).
        found: String,
        /// Format tag expected.
        expected: &'static str,
    },
    /// A hand-edited events file names an event twice.
    #[error(
        "{} holds two events {what}\nhint: it was edited by hand; remove one of them (event names are unique per \
         group, and so are ids)",
        path.display()
    )]
    EventTwiceInFile {
        /// The file.
        path: PathBuf,
        /// Which: `named "sale" in group web` or `with id …`.
        what: String,
    },
    /// The group already has an event of this name.
    #[error(
        "group {group} already has an event {name:?} ({id})\nhint: choose another --name, or `prescale event remove --group {group} --name {id}` first"
    )]
    DuplicateEvent {
        /// The group.
        group: String,
        /// The stored event's name.
        name: String,
        /// Its id.
        id: String,
    },
    /// No event of the group has this name or id.
    #[error("no event {key:?} in group {group} (stored: {})\nhint: `prescale event list --group {group}` shows names and ids", if known.is_empty() { "none" } else { known })]
    NoEvent {
        /// The group.
        group: String,
        /// The name or id asked for.
        key: String,
        /// The group's events, as `"name" (id)`.
        known: String,
    },
    /// Another process holds the events file's lock and did not let go in time.
    #[error(
        "another prescale process is changing the events: it holds the lock on {path} ({holder})\nhint: no \
         `prescale event` change takes more than a moment, so look for a prescale process that is stuck (`ps`) and \
         retry; the lock is released when that process ends"
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as its content says (`pid 1234 since …`).
        holder: String,
    },
    /// Another process is writing the metric store and did not finish in time.
    #[error(
        "another prescale process is writing the metric store: it holds the lock on {path} ({holder})\nhint: wait \
         for it (a nightly run or a manual ingest) to finish and retry; the lock is released when that process ends"
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as its content says (`pid 1234 since …`).
        holder: String,
    },
    /// Another process is applying a plan to the groups.
    #[error(
        "another prescale process is applying changes to the groups: it holds the lock on {path} ({holder})\nhint: \
         wait for it to finish and retry (its changes are in its audit log); the lock is released when that process \
         ends"
    )]
    Applying {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as its content says (`pid 1234 since …`).
        holder: String,
    },
    /// Domain validation failed.
    #[error(transparent)]
    Core(#[from] prescale_core::CoreError),
}

/// What [`StoreError::Schema`] says: a file of another version of the same kind is that version's
/// (a rollback after an upgrade meets it), not damaged, and moving it aside loses what the
/// source no longer holds; a file of no kind this version knows is not prescale's.
fn schema_message(path: &std::path::Path, found: &str, expected: &str) -> String {
    let kind = |tag: &str| tag.split_once('/').map(|(k, _)| k.to_string());
    let rebuild = match kind(expected).as_deref() {
        Some("metrics") => {
            "`prescale ingest` stores again what the source still holds (CloudWatch: its last 15 days \
                            at 5 minutes; a file: its rows)"
        }
        Some("forecasts") => "`prescale forecast fit` fits it again",
        Some("backtests") => "`prescale backtest` writes it again",
        _ => "the command that wrote it writes it again",
    };
    let path = path.display();
    if kind(found).is_some() && kind(found) == kind(expected) {
        format!(
            "{path} was written by another prescale version ({found}; this one reads {expected})\nhint: run the \
             version that wrote it; to go on with this one, move the file aside (keep it: it is that version's \
             data) and {rebuild}"
        )
    } else {
        format!(
            "{path} has schema {found:?}, expected {expected:?}: not a prescale file of this kind\nhint: move it \
             aside; {rebuild}"
        )
    }
}
