use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMillisecondType;
use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, TimeZone, Utc};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use prescale_core::{GridPolicy, GridReport, MetricId, RawSample, Series, regularize};

use crate::atomic::write_atomic;
use crate::{StoreError, path_component};

/// Schema tag of the metric store files.
pub const METRICS_SCHEMA: &str = "metrics/v1";

/// What one ingest did to one stored series.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestSummary {
    /// The series.
    pub id: MetricId,
    /// Slots stored before.
    pub before: usize,
    /// Slots stored after.
    pub after: usize,
    /// Stored slots whose value the new samples replaced by another (a slot measured again at
    /// the same value is not counted).
    pub replaced: usize,
    /// How the new samples were regularised; its `interpolated` and `missing` count the slots
    /// this ingest left filled in or missing in the stored series (beside stored measurements
    /// and between them and the new samples), not in the new samples alone.
    pub grid: GridReport,
    /// The stored file.
    pub path: PathBuf,
    /// What a change of the file's `file_time_zone` did to the stored slots (`None`: no change).
    pub zone_change: Option<ZoneChange>,
    /// The kind of source the stored slots came from (`csv`, `parquet`, `cloudwatch`, …: the
    /// first word of their provenance) when this ingest's is another, or both CloudWatch
    /// provenances whole where they name another metric (region, statistic, …); the series goes on.
    pub source_change: Option<(String, String)>,
    /// Measured slots left out as older than the store's retention before the newest slot
    /// ([`MetricStore::retaining`]).
    pub pruned: usize,
}

/// Where an ingest's samples come from, as the stored file records it.
#[derive(Debug, Clone, Copy)]
pub struct Provenance<'a> {
    /// A short description, its first word the kind (`csv /data/web.csv`, `cloudwatch us-east-1`).
    pub source: &'a str,
    /// For a file source, the zone its stamps without an offset are read in (UTC unless the
    /// metric's `file_time_zone` names one); `None` for a source whose stamps are instants.
    pub file_time_zone: Option<chrono_tz::Tz>,
    /// The samples are the whole series (one derived again from inputs whose stored slots moved):
    /// they replace what is stored rather than merge into it.
    pub whole: bool,
}

impl<'a> From<&'a str> for Provenance<'a> {
    fn from(source: &'a str) -> Self {
        Self { source, file_time_zone: None, whole: false }
    }
}

impl<'a> From<&'a String> for Provenance<'a> {
    fn from(source: &'a String) -> Self {
        Self::from(source.as_str())
    }
}

/// A file's stamps read in another zone than the stored series was (its `file_time_zone` set or
/// changed): what the stored slots' values say about it. Stamps without an offset, read in the
/// wrong zone, put every slot whole hours off; the file's rows, read again, match the stored
/// values either where they are (the stamps carried their offset, and the zone changes nothing)
/// or on the new zone's clock (they did not, and the stored slots move there).
#[derive(Debug, Clone, PartialEq)]
pub enum ZoneChange {
    /// The stored slots the file's rows match on the new zone's clock (and not where they are)
    /// moved there: each one's wall-clock time in the old zone read in the new one, as the file's
    /// stamps now are. Slots the file gives no evidence about stay where they are.
    Moved {
        /// The zone the stored slots had been read in.
        from: String,
        /// The zone they were moved to.
        to: String,
        /// Stored slots moved.
        moved: usize,
        /// Stored slots the file's rows do not cover on either clock, left where they are: on
        /// the old clock if they came from stamps without an offset too.
        unverified: usize,
    },
    /// Kept where they are: the file's rows match them there.
    Kept {
        /// The zone the stored slots had been read in.
        from: String,
        /// The zone the file is read in now.
        to: String,
    },
    /// Kept where they are, not knowing: the file's rows share no slot with them either way.
    Unknown {
        /// The zone the stored slots had been read in.
        from: String,
        /// The zone the file is read in now.
        to: String,
    },
}

/// The zone a file source's stamps without an offset were read in, in the stored metadata.
const FILE_TIME_ZONE_KEY: &str = "prescale.file_time_zone";

/// Where the stored slot `k` (ms since epoch) lands when the wall-clock time it was read as in
/// `was` is read in `now` (the first pass of an hour `now`'s clocks repeat): on the slot the new
/// samples' `binning` puts such a stamp in, as theirs are. `None` at a time `now`'s clocks skip.
fn restamped(
    k: i64,
    was: chrono_tz::Tz,
    now: chrono_tz::Tz,
    step_ms: i64,
    binning: prescale_core::Binning,
) -> Option<i64> {
    Utc.timestamp_millis_opt(k)
        .single()
        .and_then(|t| now.from_local_datetime(&t.with_timezone(&was).naive_local()).earliest())
        .map(|t| binning.slot(t.timestamp_millis(), step_ms) * step_ms)
}

/// The stored `slots` (ms since epoch) of a file source's series, when its stamps without an
/// offset are read in `now` and were read in another zone (the one `meta` records, or UTC for a
/// series stored before it was recorded). Each stored slot is judged by the new samples'
/// measured slots (`fresh`, ms and value): it matches where it is, or on `now`'s clock, or
/// neither (the file does not cover it). Where more match on `now`'s clock than in place, those
/// slots move there; the others stay (a history whose older part came from instants is not
/// shifted with the newer part read on the wrong clock). What happened, if the zones differ (a
/// series stored before the zone was recorded is said nothing about unless it moves).
fn reread_in_zone(
    slots: &mut BTreeMap<i64, f64>,
    meta: &HashMap<String, String>,
    now: Option<chrono_tz::Tz>,
    fresh: impl Fn() -> Vec<(i64, f64)>,
    step_secs: i64,
    binning: prescale_core::Binning,
) -> Option<ZoneChange> {
    let recorded = meta.get(FILE_TIME_ZONE_KEY).and_then(|z| z.parse::<chrono_tz::Tz>().ok());
    let from_files = meta.get("prescale.source").is_some_and(|s| s.starts_with("csv") || s.starts_with("parquet"));
    let was = recorded.or(from_files.then_some(chrono_tz::UTC))?;
    let now = now.filter(|now| *now != was)?;
    let fresh: HashMap<i64, f64> = fresh().into_iter().collect();
    let same = |k: i64, v: f64| fresh.get(&k).is_some_and(|o| (o - v).abs() <= 1e-9 * v.abs().max(1.0));
    let step_ms = step_secs * 1000;
    let (mut here, mut unverified, mut moving) = (0, 0, Vec::new());
    for (&k, &v) in slots.iter() {
        let to = restamped(k, was, now, step_ms, binning);
        if same(k, v) {
            here += 1;
        } else if let Some(to) = to.filter(|to| same(*to, v)) {
            moving.push((k, to, v));
        } else if !fresh.contains_key(&k) && to.is_none_or(|to| !fresh.contains_key(&to)) {
            unverified += 1;
        }
    }
    let (from, to) = (was.name().to_string(), now.name().to_string());
    if moving.len() > here {
        for (k, _, _) in &moving {
            slots.remove(k);
        }
        for (_, to, v) in &moving {
            slots.insert(*to, *v);
        }
        Some(ZoneChange::Moved { from, to, moved: moving.len(), unverified })
    } else if recorded.is_none() {
        None
    } else if here > 0 {
        Some(ZoneChange::Kept { from, to })
    } else {
        Some(ZoneChange::Unknown { from, to })
    }
}

/// The Parquet metric store: one file per series under `ROOT/metrics/v1/`.
#[derive(Debug, Clone)]
pub struct MetricStore {
    root: PathBuf,
    /// How much history an ingest keeps before a series' newest slot (`None`: all of it).
    retention: Option<chrono::Duration>,
}

pub(crate) fn writer_props(meta: HashMap<String, String>) -> WriterProperties {
    // In key order, so the same data writes the same bytes.
    let sorted: std::collections::BTreeMap<String, String> = meta.into_iter().collect();
    let kv = sorted.into_iter().map(|(k, v)| parquet::file::metadata::KeyValue::new(k, v)).collect();
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_key_value_metadata(Some(kv))
        .build()
}

/// FNV-1a over the words of the stored rows, written with a file as `prescale.checksum` and
/// compared on reading: a byte changed in the data pages (a disk fault) can still decode, to other
/// values, and this writer puts no checksums of its own in the pages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowHash(u64);

impl RowHash {
    pub(crate) const KEY: &'static str = "prescale.checksum";

    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn word(&mut self, w: u64) {
        for b in w.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// A value, with every NaN (a missing slot) the same.
    pub(crate) fn value(&mut self, v: f64) {
        self.word(if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() });
    }

    pub(crate) fn hex(self) -> String {
        format!("{:016x}", self.0)
    }

    /// Checks the file's rows against the checksum in its metadata (files written before it was
    /// kept have none, and are read as they are).
    pub(crate) fn check(self, path: &Path, meta: &HashMap<String, String>) -> Result<(), StoreError> {
        match meta.get(Self::KEY) {
            Some(written) if *written != self.hex() => Err(StoreError::Damaged {
                path: path.into(),
                what: "its rows do not match the checksum written with them (a disk fault or an edit)".into(),
            }),
            _ => Ok(()),
        }
    }
}

fn metric_rows_hash(series: &Series, observed: &[bool]) -> RowHash {
    let mut h = RowHash::new();
    for ((t, v), o) in series.iter().zip(observed) {
        h.word(t.timestamp_millis().cast_unsigned());
        h.value(v);
        h.word(u64::from(*o));
    }
    h
}

pub(crate) fn ts_field() -> Field {
    Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false)
}

/// The metric store's write lock ([`MetricStore::lock_for_writing`]); dropping it (or the
/// process ending) releases it.
#[derive(Debug)]
pub struct WriteLock {
    _lock: crate::lock::FileLock,
}

impl MetricStore {
    /// Opens (creating if needed) a store rooted at `root`.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the directory cannot be created.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, StoreError> {
        let root = root.as_ref().to_path_buf();
        let dir = root.join("metrics").join("v1");
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            action: "cannot create",
            path: dir,
            source,
        })?;
        Ok(Self { root, retention: None })
    }

    /// The store whose ingests keep `keep` of each series' history before its newest slot, and
    /// leave older slots out as they rewrite the series (`None`: all of it). Counted from the
    /// newest slot, not the clock: a feed that stopped keeps the history it had.
    #[must_use]
    pub fn retaining(self, keep: Option<chrono::Duration>) -> Self {
        Self { retention: keep, ..self }
    }

    /// A store rooted at `root` for reading only: nothing is created, so a mistyped `--store` for
    /// a command that only reads leaves no empty store behind; a series in a store that does not
    /// exist is [`StoreError::NotFound`], as one the store does not hold.
    pub fn for_reading(root: impl AsRef<Path>) -> Self {
        Self { root: root.as_ref().to_path_buf(), retention: None }
    }

    /// Takes the store's write lock (an exclusive lock held by the operating system on
    /// `metrics/v1/.write.lock`), waiting up to `wait` for another process to let go: each series
    /// is read, merged and replaced whole, so two writers at once would each drop the other's new
    /// rows. The lock goes with the process: one that is killed releases it. The file stays, and
    /// says who took the lock last. Dropping the returned guard releases it.
    ///
    /// # Errors
    /// [`StoreError::Busy`] when another process holds it longer than `wait`.
    pub fn lock_for_writing(&self, wait: std::time::Duration) -> Result<WriteLock, StoreError> {
        self.write_lock(wait, true)
    }

    /// [`Self::lock_for_writing`] that says nothing while it waits: for a writer that takes the
    /// lock again and again (once per file it reads) and has said it waits once already.
    ///
    /// # Errors
    /// As [`Self::lock_for_writing`].
    pub fn lock_for_writing_quietly(&self, wait: std::time::Duration) -> Result<WriteLock, StoreError> {
        self.write_lock(wait, false)
    }

    fn write_lock(&self, wait: std::time::Duration, say_wait: bool) -> Result<WriteLock, StoreError> {
        match crate::lock::acquire(&self.root.join("metrics").join("v1").join(".write.lock"), wait, say_wait) {
            Ok(lock) => Ok(WriteLock { _lock: lock }),
            Err(crate::lock::NotTaken::Held { path, holder }) => Err(StoreError::Busy { path, holder }),
            Err(crate::lock::NotTaken::Io(e)) => Err(e),
        }
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of a series.
    pub fn path(&self, id: &MetricId) -> PathBuf {
        self.root
            .join("metrics")
            .join("v1")
            .join(path_component(&id.group))
            .join(format!("{}.parquet", path_component(&id.metric)))
    }

    /// Every stored series, sorted.
    ///
    /// # Errors
    /// [`StoreError`] when a stored file cannot be read.
    pub fn list(&self) -> Result<Vec<MetricId>, StoreError> {
        let dir = self.root.join("metrics").join("v1");
        let mut out = Vec::new();
        let groups = std::fs::read_dir(&dir).map_err(|source| StoreError::Io {
            action: "cannot list",
            path: dir.clone(),
            source,
        })?;
        for g in groups.flatten() {
            let Ok(files) = std::fs::read_dir(g.path()) else { continue };
            for f in files.flatten() {
                let p = f.path();
                if p.extension().is_some_and(|e| e == "parquet") && !f.file_name().to_string_lossy().starts_with('.') {
                    let (id, _, _, _) = read_file(&p)?;
                    out.push(id);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Reads a stored series.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is not stored; other variants for unreadable files.
    pub fn read(&self, id: &MetricId) -> Result<Series, StoreError> {
        self.read_observed(id).map(|(series, _)| series)
    }

    /// A stored series with, per slot, whether it was measured (false: filled by the grid policy).
    ///
    /// # Errors
    /// As [`MetricStore::read`].
    pub fn read_observed(&self, id: &MetricId) -> Result<(Series, Vec<bool>), StoreError> {
        let path = self.path(id);
        if !path.exists() {
            return Err(StoreError::NotFound { id: id.to_string(), path });
        }
        let (_, series, observed, _) = read_own(&path, id)?;
        Ok((series, observed))
    }

    /// Merges raw samples into the stored series and writes it back atomically.
    ///
    /// The stored measured points and the new samples are combined slot by slot (a new sample of a
    /// slot replaces the stored value; duplicates within the new samples are averaged) and the
    /// union is regularised again, so gaps between old and new data are filled or marked missing by
    /// the same `policy`. Interpolated values are never carried over as if measured.
    ///
    /// Samples denser than the step are gathered over each slot's period by `aggregate` (the
    /// metric's statistic); a slot at either end of them that they cover only in part
    /// ([`prescale_core::Binning::partial_ends`]) is stored where the slot was empty but never
    /// replaces a stored measurement, which rests on the whole period.
    ///
    /// A file source's zone for stamps without an offset is recorded with the series; when it
    /// differs from the zone the stored slots were read in (a `file_time_zone` set after an
    /// ingest read local stamps as UTC), the stored slots move to the new zone's clock where the
    /// new samples match them better there than where they are ([`ZoneChange`]). A series stored
    /// before the zone was recorded counts as read in UTC: a move needs the same evidence.
    ///
    /// # Errors
    /// [`StoreError::StepMismatch`] when the series is stored at another step; I/O and Parquet errors.
    pub fn ingest<'a>(
        &self,
        id: &MetricId,
        raw: &[RawSample],
        step_secs: i64,
        policy: &GridPolicy,
        aggregate: prescale_core::Aggregate,
        source: impl Into<Provenance<'a>>,
    ) -> Result<IngestSummary, StoreError> {
        let source = source.into();
        let path = self.path(id);
        let binning = prescale_core::Binning::for_samples(raw, step_secs);
        let (new_series, mut grid) = prescale_core::regularize_binned(raw, step_secs, policy, aggregate, binning)?;
        let partial = binning.partial_ends(raw, step_secs);
        // Only the slots that held a measurement in the new data replace stored values.
        let new_observed = observed_slots(raw, step_secs, binning);
        let mut slots: BTreeMap<i64, f64> = BTreeMap::new();
        let mut before = 0;
        let mut zone_change = None;
        let mut source_change = None;
        // The stored slots the grid policy filled in (true) or left missing (false).
        let mut gaps_before: HashMap<i64, bool> = HashMap::new();
        if path.exists() {
            let (_, mut old, mut observed, meta) = read_own(&path, id)?;
            let kind = |s: &str| s.split_whitespace().next().unwrap_or_default().to_string();
            if let Some(was) = meta.get("prescale.source").filter(|s| !s.trim().is_empty()) {
                if kind(was) != kind(source.source) {
                    source_change = Some((kind(was), kind(source.source)));
                } else if kind(was) == "cloudwatch" && other_cloudwatch_metric(was, source.source) {
                    source_change = Some((was.clone(), source.source.to_string()));
                }
            }
            if old.step_secs() != step_secs {
                // A coarser period (300 s to 600 s) re-stores the history at it, each slot the
                // statistic over the stored slots it spans; a finer one cannot be made from it.
                if step_secs < old.step_secs() || step_secs % old.step_secs() != 0 {
                    return Err(StoreError::StepMismatch {
                        id: id.to_string(),
                        stored: old.step_secs(),
                        new: step_secs,
                        path,
                    });
                }
                let from = old.step_secs();
                // The series as it was stays beside it, untouched: the way back to the finer step.
                let kept_aside = PathBuf::from(format!("{}.step{from}s", path.display()));
                keep_aside(&path, &kept_aside, id, from, old.end())?;
                let (kept, left) = coarsen_stored(&mut old, &mut observed, step_secs, aggregate)?;
                tracing::warn!(
                    "{id}: stored at a {from}s step, ingested now at {step_secs}s (period_secs): its history is stored \
                     again at {step_secs}s, each slot the {} of the {} stored ones it spans: {kept} slots, {left} left \
                     out where one of those was not measured; the series as it was is kept as {} (to go back, set \
                     period_secs = {from} and move it over {}){}",
                    match aggregate {
                        prescale_core::Aggregate::Sum => "sum",
                        prescale_core::Aggregate::Max => "largest",
                        prescale_core::Aggregate::Min => "smallest",
                        _ => "mean",
                    },
                    step_secs / from,
                    kept_aside.display(),
                    path.display(),
                    // A count per period grows with the period: what is sized per period must too.
                    if aggregate == prescale_core::Aggregate::Sum {
                        format!(
                            ". A sum: each slot now holds {n} times the load of one before, so a load per instance \
                             given per period (capacity_per_instance) must be {n} times as large, or the plan sizes \
                             {n} times the floors",
                            n = step_secs / from
                        )
                    } else {
                        String::new()
                    }
                );
            }
            before = old.len();
            gaps_before = old
                .iter()
                .zip(&observed)
                .filter(|(_, obs)| !**obs)
                .map(|((ts, v), _)| (ts.timestamp_millis(), v.is_finite()))
                .collect();
            for ((ts, v), obs) in old.iter().zip(observed).filter(|_| !source.whole) {
                if obs && v.is_finite() {
                    slots.insert(ts.timestamp_millis(), v);
                }
            }
            let fresh = || {
                new_series
                    .iter()
                    .map(|(ts, v)| (ts.timestamp_millis(), v))
                    .filter(|(k, v)| v.is_finite() && new_observed.contains(k) && !partial.contains(k))
                    .collect::<Vec<_>>()
            };
            zone_change = reread_in_zone(&mut slots, &meta, source.file_time_zone, fresh, step_secs, binning);
        }
        let mut replaced = 0;
        for (ts, v) in new_series.iter() {
            let k = ts.timestamp_millis();
            if !v.is_finite() || !new_observed.contains(&k) || (partial.contains(&k) && slots.contains_key(&k)) {
                continue;
            }
            // A slot measured again at the same value is not a change.
            if slots.insert(k, v).is_some_and(|old| old != v) {
                replaced += 1;
            }
        }
        // Older than the retention before the newest slot: left out of the rewrite.
        let mut pruned = 0;
        if let (Some(keep), Some((&newest, _))) = (self.retention, slots.last_key_value()) {
            let kept = slots.split_off(&(newest - keep.num_milliseconds()));
            pruned = slots.len();
            slots = kept;
        }
        let merged: Vec<RawSample> = slots
            .iter()
            .filter_map(|(ms, v)| Utc.timestamp_millis_opt(*ms).single().map(|t| RawSample::new(t, *v)))
            .collect();
        let (series, _) = regularize(&merged, step_secs, policy)?;
        let observed: Vec<bool> = series.iter().map(|(t, _)| slots.contains_key(&t.timestamp_millis())).collect();
        // What this ingest filled in or left missing in the store: the new samples' own grid
        // counts gaps that stored measurements cover, and none between them and the stored slots.
        let (mut filled, mut missing) = (0, 0);
        for ((t, v), _) in series.iter().zip(&observed).filter(|(_, obs)| !**obs) {
            if gaps_before.get(&t.timestamp_millis()) != Some(&v.is_finite()) {
                if v.is_finite() { filled += 1 } else { missing += 1 }
            }
        }
        (grid.interpolated, grid.missing) = (filled, missing);
        let mut meta = HashMap::from([
            ("prescale.schema".to_string(), METRICS_SCHEMA.to_string()),
            ("prescale.group".to_string(), id.group.clone()),
            ("prescale.metric".to_string(), id.metric.clone()),
            ("prescale.step_secs".to_string(), step_secs.to_string()),
            ("prescale.grid_policy".to_string(), policy.describe()),
            ("prescale.source".to_string(), source.source.to_string()),
        ]);
        // The zone the stored slots are on: the file's now, but where nothing told whether they
        // moved, the old one stays recorded, so that a later file that covers them decides.
        let zone = match &zone_change {
            Some(ZoneChange::Unknown { from, .. }) => Some(from.clone()),
            _ => source.file_time_zone.map(|z| z.name().to_string()),
        };
        if let Some(zone) = zone {
            meta.insert(FILE_TIME_ZONE_KEY.to_string(), zone);
        }
        write_series(&path, &series, &observed, meta)?;
        Ok(IngestSummary {
            id: id.clone(),
            before,
            after: series.len(),
            replaced,
            grid,
            path,
            zone_change,
            source_change,
            pruned,
        })
    }
}

/// Whether two CloudWatch provenances (`cloudwatch REGION NAMESPACE METRIC STAT [DIMENSIONS]`)
/// name another metric: another region, namespace, name, statistic or dimensions, which a
/// configuration changed under the same series (a `Sum` where an `Average` was is another
/// quantity). One stored before the metric was recorded (`cloudwatch REGION`) is judged by its
/// region alone.
fn other_cloudwatch_metric(was: &str, now: &str) -> bool {
    let (was, now): (Vec<&str>, Vec<&str>) = (was.split_whitespace().collect(), now.split_whitespace().collect());
    if was.len() <= 2 || now.len() <= 2 { was.get(1) != now.get(1) } else { was != now }
}

/// Slots (ms since epoch) that received at least one finite raw sample, under the `binning` that
/// regularised them.
fn observed_slots(
    raw: &[RawSample],
    step_secs: i64,
    binning: prescale_core::Binning,
) -> std::collections::HashSet<i64> {
    let step_ms = step_secs * 1000;
    raw.iter()
        .filter(|s| s.value.is_finite())
        .map(|s| binning.slot(s.ts.timestamp_millis(), step_ms) * step_ms)
        .collect()
}

fn write_series(
    path: &Path,
    series: &Series,
    observed: &[bool],
    mut meta: HashMap<String, String>,
) -> Result<(), StoreError> {
    meta.insert(RowHash::KEY.into(), metric_rows_hash(series, observed).hex());
    write_rows(path, series, observed, meta)
}

/// Writes the rows with `meta` as it is.
fn write_rows(
    path: &Path,
    series: &Series,
    observed: &[bool],
    meta: HashMap<String, String>,
) -> Result<(), StoreError> {
    // The metadata on the Arrow schema too, as [`crate::atomic::write_table`] writes it: pandas and
    // pyarrow readers see the schema's, not the footer's.
    let schema = Arc::new(
        Schema::new(vec![
            ts_field(),
            Field::new("value", DataType::Float64, true),
            Field::new("observed", DataType::Boolean, false),
        ])
        .with_metadata(meta.clone()),
    );
    let ts: Vec<i64> = series.iter().map(|(t, _)| t.timestamp_millis()).collect();
    let values: Vec<Option<f64>> = series.values().iter().map(|v| v.is_finite().then_some(*v)).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
        Arc::new(Float64Array::from(values)),
        Arc::new(BooleanArray::from(observed.to_vec())),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|source| StoreError::Arrow { path: path.into(), source })?;
    write_atomic(path, |f| {
        let mut w = ArrowWriter::try_new(f, schema, Some(writer_props(meta)))
            .map_err(|source| StoreError::Parquet { path: path.into(), source })?;
        w.write(&batch).map_err(|source| StoreError::Parquet { path: path.into(), source })?;
        w.close().map_err(|source| StoreError::Parquet { path: path.into(), source })?;
        Ok(())
    })
}

/// Reads the key-value metadata of a Parquet file, checking its schema tag.
pub(crate) fn open_checked(
    path: &Path,
    expected: &'static str,
) -> Result<(ParquetRecordBatchReaderBuilder<File>, HashMap<String, String>), StoreError> {
    let f = File::open(path).map_err(|source| StoreError::Io { action: "cannot open", path: path.into(), source })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|source| StoreError::Parquet { path: path.into(), source })?;
    let meta: HashMap<String, String> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| kv.iter().filter_map(|e| e.value.clone().map(|v| (e.key.clone(), v))).collect())
        .unwrap_or_default();
    let found = meta.get("prescale.schema").cloned().unwrap_or_default();
    if found != expected {
        return Err(StoreError::Schema { path: path.into(), found, expected });
    }
    Ok((builder, meta))
}

type Stored = (MetricId, Series, Vec<bool>, HashMap<String, String>);

/// [`read_file`], checking that the file holds the series `id` its place in the store names.
/// The stored series `old` (and which of its slots were measured) moved onto the coarser grid of
/// `step_secs`, a multiple of its step: each slot the `aggregate` of the stored slots it spans,
/// kept where all of them were measured (a sum over part of a period would read as a dip). Returns
/// how many slots were kept and how many left out.
fn coarsen_stored(
    old: &mut Series,
    observed: &mut Vec<bool>,
    step_secs: i64,
    aggregate: prescale_core::Aggregate,
) -> Result<(usize, usize), StoreError> {
    let per = usize::try_from(step_secs / old.step_secs()).unwrap_or(1).max(1);
    let mut slots: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    let mut spans: BTreeMap<i64, usize> = BTreeMap::new();
    for ((ts, v), obs) in old.iter().zip(observed.iter()) {
        let k = ts.timestamp().div_euclid(step_secs) * step_secs;
        *spans.entry(k).or_default() += 1;
        if *obs && v.is_finite() {
            slots.entry(k).or_default().push(v);
        }
    }
    let whole: BTreeMap<i64, f64> = slots
        .into_iter()
        .filter(|(k, vs)| vs.len() == per && spans.get(k) == Some(&per))
        .map(|(k, vs)| {
            let v = match aggregate {
                prescale_core::Aggregate::Sum => vs.iter().sum(),
                prescale_core::Aggregate::Max => vs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                prescale_core::Aggregate::Min => vs.iter().copied().fold(f64::INFINITY, f64::min),
                _ => vs.iter().sum::<f64>() / vs.len() as f64,
            };
            (k, v)
        })
        .collect();
    let left = spans.len() - whole.len();
    let (Some(first), Some(last)) = (spans.keys().next().copied(), spans.keys().next_back().copied()) else {
        return Ok((0, 0));
    };
    let n = usize::try_from((last - first) / step_secs + 1).unwrap_or(0);
    let start = Utc.timestamp_opt(first, 0).single().ok_or(prescale_core::CoreError::Empty)?;
    let values: Vec<f64> =
        (0..n).map(|i| whole.get(&(first + i as i64 * step_secs)).copied().unwrap_or(f64::NAN)).collect();
    *observed = values.iter().map(|v| v.is_finite()).collect();
    *old = Series::new(start, step_secs, values)?;
    Ok((whole.len(), left))
}

/// Keeps the series at `path` (its step `from`, its slots up to `end`) as `aside` before it is
/// stored again at a coarser step: the way back to the finer one. Written as the store writes its
/// files (a temporary file, synced, renamed into place) and read back whole before the series is
/// rewritten, so that a full disk or a kill leaves no half copy that a later run takes for the
/// history (the series is not rewritten then). A copy already there that reads back whole, of the
/// series at that step up to its end or later, is kept (an earlier change's); one that does not (a
/// copy cut short by a crash before this was written so, or an older one) is replaced.
fn keep_aside(path: &Path, aside: &Path, id: &MetricId, from: i64, end: DateTime<Utc>) -> Result<(), StoreError> {
    if aside.exists()
        && let Ok((_, kept, _, _)) = read_own(aside, id)
        && kept.step_secs() == from
        && kept.end() >= end
    {
        return Ok(());
    }
    let bytes =
        std::fs::read(path).map_err(|source| StoreError::Io { action: "cannot read", path: path.into(), source })?;
    crate::atomic::write_file_atomic(aside, &bytes)?;
    match read_own(aside, id) {
        Ok((_, kept, _, _)) if kept.step_secs() == from => Ok(()),
        Ok(_) => Err(StoreError::Io {
            action: "cannot keep a copy (it does not read back at the series' step) at",
            path: aside.into(),
            source: std::io::Error::other("a copy that differs from the series"),
        }),
        Err(e) => Err(e),
    }
}

fn read_own(path: &Path, id: &MetricId) -> Result<Stored, StoreError> {
    let stored = read_file(path)?;
    if &stored.0 != id {
        return Err(StoreError::WrongSeries {
            path: path.into(),
            found: stored.0.to_string(),
            expected: id.to_string(),
        });
    }
    Ok(stored)
}

fn read_file(path: &Path) -> Result<Stored, StoreError> {
    let (builder, meta) = open_checked(path, METRICS_SCHEMA)?;
    let bad = |what: &str| StoreError::Damaged { path: path.into(), what: what.to_string() };
    let step: i64 = meta.get("prescale.step_secs").and_then(|s| s.parse().ok()).ok_or_else(|| bad("no step"))?;
    let id = MetricId::new(
        meta.get("prescale.group").cloned().ok_or_else(|| bad("no group"))?,
        meta.get("prescale.metric").cloned().ok_or_else(|| bad("no metric"))?,
    );
    let reader = builder.build().map_err(|source| StoreError::Parquet { path: path.into(), source })?;
    let (mut ts, mut values, mut observed) = (Vec::new(), Vec::new(), Vec::new());
    for batch in reader {
        let batch = batch.map_err(|source| StoreError::Arrow { path: path.into(), source })?;
        let t = batch.column_by_name("ts").ok_or_else(|| bad("no ts column"))?;
        let v = batch.column_by_name("value").ok_or_else(|| bad("no value column"))?;
        let o = batch.column_by_name("observed").ok_or_else(|| bad("no observed column"))?;
        let t = t.as_primitive_opt::<TimestampMillisecondType>().ok_or_else(|| bad("ts of another type"))?;
        let v = v.as_primitive_opt::<arrow_array::types::Float64Type>().ok_or_else(|| bad("value of another type"))?;
        let o = o.as_boolean_opt().ok_or_else(|| bad("observed of another type"))?;
        ts.extend(t.values().iter().copied());
        values.extend(v.iter().map(|x| x.unwrap_or(f64::NAN)));
        observed.extend(o.iter().map(|x| x.unwrap_or(false)));
    }
    let start_ms = *ts.first().ok_or_else(|| bad("no rows"))?;
    if ts.windows(2).any(|w| w[1] - w[0] != step * 1000) {
        return Err(bad("its timestamps are off the grid"));
    }
    let start = Utc.timestamp_millis_opt(start_ms).single().ok_or_else(|| bad("bad timestamp"))?;
    if observed.len() != values.len() {
        return Err(bad("columns of different lengths"));
    }
    let series = Series::new(start, step, values)?;
    metric_rows_hash(&series, &observed).check(path, &meta)?;
    Ok((id, series, observed, meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t(min: i64) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 2, 0, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn samples(range: std::ops::Range<i64>, offset: f64) -> Vec<RawSample> {
        range.map(|i| RawSample::new(t(5 * i), i as f64 + offset)).collect()
    }

    #[test]
    fn a_new_file_time_zone_moves_the_stored_slots_only_where_the_samples_match_them_there() {
        // A day of 5-minute samples stored from stamps read in UTC; the same rows read in Berlin
        // (one hour ahead of UTC in February) land an hour earlier.
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let (id, p, mean) = (MetricId::new("web", "requests"), GridPolicy::default(), prescale_core::Aggregate::Mean);
        let (utc, berlin) = (Some(chrono_tz::UTC), Some(chrono_tz::Europe::Berlin));
        let from = |zone| Provenance { source: "csv (1 files)", file_time_zone: zone, whole: false };
        let hour_early = |raw: &[RawSample]| -> Vec<RawSample> {
            raw.iter().map(|s| RawSample::new(s.ts - Duration::hours(1), s.value)).collect()
        };
        let day = samples(0..288, 0.0);
        store.ingest(&id, &day, 300, &p, mean, from(utc)).unwrap();
        let s = store.ingest(&id, &hour_early(&day), 300, &p, mean, from(berlin)).unwrap();
        assert!(
            matches!(s.zone_change, Some(ZoneChange::Moved { moved: 288, unverified: 0, .. })),
            "{:?}",
            s.zone_change
        );
        let moved = store.read(&id).unwrap();
        assert_eq!((moved.start(), moved.len(), s.replaced), (t(-60), 288, 0), "moved whole, none stored twice");
        // Recorded: the same zone again is no change.
        assert_eq!(store.ingest(&id, &hour_early(&day), 300, &p, mean, from(berlin)).unwrap().zone_change, None);
        // Back to UTC where the samples match the slots where they are (stamps with an offset):
        // kept. A file that shares no slot with them on either clock cannot tell: kept, and said.
        let s = store.ingest(&id, &hour_early(&day), 300, &p, mean, from(utc)).unwrap();
        assert!(matches!(s.zone_change, Some(ZoneChange::Kept { .. })), "{:?}", s.zone_change);
        assert_eq!(store.read(&id).unwrap().start(), t(-60));
        let later = samples(1000..1010, 0.0);
        let s = store.ingest(&id, &later, 300, &p, mean, from(berlin)).unwrap();
        assert!(matches!(s.zone_change, Some(ZoneChange::Unknown { .. })), "{:?}", s.zone_change);
        assert_eq!(store.read(&id).unwrap().start(), t(-60));
        // The old zone stays recorded where nothing told: the next file is judged again.
        let s = store.ingest(&id, &later, 300, &p, mean, from(berlin)).unwrap();
        assert!(matches!(s.zone_change, Some(ZoneChange::Kept { .. })), "{:?}", s.zone_change);
        // A source of instants (CloudWatch) records no zone and moves nothing.
        assert_eq!(store.ingest(&id, &later, 300, &p, mean, "cloudwatch").unwrap().zone_change, None);
        // A file's series stored before the zone was recorded counts as read in UTC: moved on the
        // same evidence, and nothing said where the samples match it in place.
        for (metric, rows, want_moved) in [("old-utc", hour_early(&day), true), ("old-berlin", day.clone(), false)] {
            let old = MetricId::new("web", metric);
            store.ingest(&old, &day, 300, &p, mean, "csv (1 files)").unwrap();
            let s = store.ingest(&old, &rows, 300, &p, mean, from(berlin)).unwrap();
            assert_eq!(matches!(s.zone_change, Some(ZoneChange::Moved { .. })), want_moved, "{metric}");
            assert!(want_moved || s.zone_change.is_none(), "{:?}", s.zone_change);
        }
    }

    #[test]
    fn only_the_slots_a_file_shows_on_the_new_clock_move() {
        // Two days stored as UTC: the first from stamps with their offset (right), the second from
        // Berlin's wall clock read as UTC (an hour late). The file, now read in Berlin,
        // holds the second day only: that day moves, the first stays where it is.
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let (id, p, mean) = (MetricId::new("web", "requests"), GridPolicy::default(), prescale_core::Aggregate::Mean);
        let from = |zone| Provenance { source: "csv (1 files)", file_time_zone: Some(zone), whole: false };
        let (first, second) = (samples(0..288, 0.0), samples(288..576, 0.5));
        let misread: Vec<RawSample> =
            second.iter().map(|s| RawSample::new(s.ts + Duration::hours(1), s.value)).collect();
        store.ingest(&id, &[first.clone(), misread].concat(), 300, &p, mean, from(chrono_tz::UTC)).unwrap();
        let s = store.ingest(&id, &second, 300, &p, mean, from(chrono_tz::Europe::Berlin)).unwrap();
        assert!(matches!(s.zone_change, Some(ZoneChange::Moved { moved: 288, .. })), "{:?}", s.zone_change);
        let stored = store.read(&id).unwrap();
        let want: Vec<f64> = first.iter().chain(&second).map(|s| s.value).collect();
        assert_eq!((stored.start(), stored.values()), (t(0), want.as_slice()), "the first day where it was");

        // A zone half an hour off the hour, hourly data: the moved slots land where the file's
        // stamps snap to, so they match there (St John's is 3 h 30 min behind UTC).
        let id = MetricId::new("web", "hourly");
        let hourly: Vec<RawSample> = (0..48).map(|i| RawSample::new(t(60 * i), 100.0 + i as f64)).collect();
        store.ingest(&id, &hourly, 3600, &p, mean, from(chrono_tz::UTC)).unwrap();
        let read_right: Vec<RawSample> =
            hourly.iter().map(|s| RawSample::new(s.ts + Duration::minutes(210), s.value)).collect();
        let s = store.ingest(&id, &read_right, 3600, &p, mean, from(chrono_tz::America::St_Johns)).unwrap();
        assert!(matches!(s.zone_change, Some(ZoneChange::Moved { moved: 48, .. })), "{:?}", s.zone_change);
        assert_eq!((store.read(&id).unwrap().len(), s.replaced), (48, 0), "{s:?}");

        // A series derived again whole (its inputs moved) replaces what is stored, on the old
        // clock before them included.
        let total = MetricId::new("web", "total");
        store.ingest(&total, &samples(0..24, 0.0), 300, &p, mean, "derived").unwrap();
        let again = Provenance { source: "derived", file_time_zone: None, whole: true };
        let s = store.ingest(&total, &samples(12..36, 0.5), 300, &p, mean, again).unwrap();
        let stored = store.read(&total).unwrap();
        assert_eq!((s.before, stored.start(), stored.len(), stored.values()[0]), (24, t(60), 24, 12.5));
    }

    #[test]
    fn a_store_with_retention_leaves_out_what_is_older_than_it_before_the_newest_slot() {
        let dir = tempfile::tempdir().unwrap();
        let mean = prescale_core::Aggregate::Mean;
        let (id, p) = (MetricId::new("g", "m"), GridPolicy::default());
        let store = MetricStore::open(dir.path()).unwrap();
        store.ingest(&id, &samples(0..100, 0.0), 300, &p, mean, "test").unwrap();
        // Ten hours kept: the slots from 10 h before the newest (149 × 5 min) on.
        let keeping = MetricStore::open(dir.path()).unwrap().retaining(Some(chrono::Duration::hours(10)));
        let s = keeping.ingest(&id, &samples(100..150, 0.0), 300, &p, mean, "test").unwrap();
        let stored = keeping.read(&id).unwrap();
        assert_eq!((s.before, s.after, s.pruned), (100, 121, 29));
        assert_eq!((stored.start(), stored.values()[0]), (t(5 * 29), 29.0));
        // Read back whole: the file was rewritten with its checksum.
        assert_eq!(store.read(&id).unwrap().len(), 121);
        // Nothing newer comes: nothing more is left out, the history stays.
        let s = keeping.ingest(&id, &samples(140..150, 0.0), 300, &p, mean, "test").unwrap();
        assert_eq!((s.after, s.pruned), (121, 0));
    }

    #[test]
    fn overlapping_ingest_keeps_every_slot_once_and_new_values_win() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let id = MetricId::new("g", "m");
        let p = GridPolicy::default();
        let a = store.ingest(&id, &samples(0..100, 0.0), 300, &p, prescale_core::Aggregate::Mean, "test").unwrap();
        assert_eq!((a.before, a.after, a.replaced), (0, 100, 0));
        let b = store.ingest(&id, &samples(50..150, 0.5), 300, &p, prescale_core::Aggregate::Mean, "test").unwrap();
        assert_eq!((b.before, b.after, b.replaced), (100, 150, 50));
        // The same samples again change nothing.
        let c = store.ingest(&id, &samples(50..150, 0.5), 300, &p, prescale_core::Aggregate::Mean, "test").unwrap();
        assert_eq!((c.before, c.after, c.replaced), (150, 150, 0));
        let s = store.read(&id).unwrap();
        assert_eq!(s.len(), 150);
        assert_eq!(s.values()[49], 49.0);
        assert_eq!(s.values()[50], 50.5);
        assert_eq!(store.list().unwrap(), vec![id]);
    }

    /// A store in `dir` holding one series of 20 slots, its id and file, and that file as read.
    fn one_series(dir: &Path) -> (MetricStore, MetricId, PathBuf, Stored) {
        let store = MetricStore::open(dir).unwrap();
        let id = MetricId::new("g", "m");
        store
            .ingest(&id, &samples(0..20, 0.0), 300, &GridPolicy::default(), prescale_core::Aggregate::Mean, "test")
            .unwrap();
        let path = store.path(&id);
        let stored = read_own(&path, &id).unwrap();
        (store, id, path, stored)
    }

    #[test]
    fn rows_that_do_not_match_their_checksum_are_refused_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id, path, (_, series, observed, meta)) = one_series(dir.path());
        assert!(meta.contains_key(RowHash::KEY));
        // One value changed under the same metadata, as a flipped byte that still decodes leaves it.
        let mut values = series.values().to_vec();
        values[7] = 1e300;
        let changed = Series::new(series.start(), series.step_secs(), values).unwrap();
        write_rows(&path, &changed, &observed, meta.clone()).unwrap();
        let e = store.read(&id).unwrap_err();
        assert!(matches!(e, StoreError::Damaged { .. }), "{e}");
        assert!(e.to_string().contains("do not match the checksum"), "{e}");
        // A file written before the checksum was kept is read as it is.
        let mut old = meta;
        old.remove(RowHash::KEY);
        write_rows(&path, &series, &observed, old).unwrap();
        assert_eq!(store.read(&id).unwrap().values(), series.values());
    }

    #[test]
    fn a_file_of_another_version_is_said_to_be_that_versions_not_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id, path, (_, series, observed, meta)) = one_series(dir.path());
        for (tag, says) in [
            ("metrics/v2", "was written by another prescale version (metrics/v2; this one reads metrics/v1)"),
            ("forecasts/v1", "has schema \"forecasts/v1\", expected \"metrics/v1\": not a prescale file of this kind"),
            ("something", "has schema \"something\", expected \"metrics/v1\": not a prescale file of this kind"),
        ] {
            let mut other = meta.clone();
            other.insert("prescale.schema".into(), tag.into());
            write_rows(&path, &series, &observed, other).unwrap();
            let before = std::fs::read(&path).unwrap();
            let e = store.read(&id).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("`prescale ingest` stores again"), "{tag}: {e}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "left as it is");
        }
    }

    #[test]
    fn a_file_copied_onto_another_series_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let (web, jobs) = (MetricId::new("web", "requests"), MetricId::new("worker", "jobs"));
        let p = GridPolicy::default();
        store.ingest(&web, &samples(0..10, 0.0), 300, &p, prescale_core::Aggregate::Mean, "test").unwrap();
        store.ingest(&jobs, &samples(0..10, 100.0), 300, &p, prescale_core::Aggregate::Mean, "test").unwrap();
        std::fs::copy(store.path(&jobs), store.path(&web)).unwrap();
        let bytes = std::fs::read(store.path(&web)).unwrap();
        let e = store.read(&web).unwrap_err().to_string();
        assert!(e.contains("holds the series") && e.contains("worker"), "{e}");
        assert!(matches!(store.read(&web), Err(StoreError::WrongSeries { .. })));
        assert!(
            store.ingest(&web, &samples(10..12, 0.0), 300, &p, prescale_core::Aggregate::Mean, "test").is_err(),
            "nothing merged into it"
        );
        assert_eq!(std::fs::read(store.path(&web)).unwrap(), bytes);
    }

    #[test]
    fn a_period_covered_in_part_never_replaces_a_whole_one_and_counts_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let id = MetricId::new("web", "requests");
        let minutes = |r: std::ops::Range<i64>| -> Vec<RawSample> {
            r.map(|m| RawSample::new(t(0) + Duration::minutes(m), 10.0 * m as f64)).collect()
        };
        let ingest = |raw: &[RawSample]| {
            store.ingest(&id, raw, 300, &GridPolicy::default(), prescale_core::Aggregate::Sum, "test").unwrap()
        };
        // Minutes 0–14: three whole periods, each the sum of its five minutes.
        ingest(&minutes(0..15));
        assert_eq!(store.read(&id).unwrap().values(), &[100.0, 350.0, 600.0]);
        // A later file from minute 13: the period 10–14 it covers in part keeps its whole sum;
        // the periods after it are new and stored, the last one with the one minute it holds.
        let s = ingest(&minutes(13..21));
        assert_eq!(s.replaced, 0);
        assert_eq!(store.read(&id).unwrap().values(), &[100.0, 350.0, 600.0, 850.0, 200.0]);
        // The whole period again replaces it.
        let s = ingest(&minutes(20..25));
        assert_eq!(s.replaced, 1);
        assert_eq!(store.read(&id).unwrap().values()[4], 1100.0);
    }

    #[test]
    fn gap_between_ingests_is_filled_by_policy_and_not_stored_as_observed() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let id = MetricId::new("g", "m");
        let p = GridPolicy { max_interpolate_secs: 900 };
        store.ingest(&id, &samples(0..10, 0.0), 300, &p, prescale_core::Aggregate::Mean, "test").unwrap();
        store.ingest(&id, &samples(12..20, 0.0), 300, &p, prescale_core::Aggregate::Mean, "test").unwrap();
        let path = store.path(&id);
        let (_, s, observed, meta) = read_file(&path).unwrap();
        assert_eq!(s.values()[10], 10.0);
        assert!(!observed[10] && !observed[11] && observed[12]);
        assert!(meta["prescale.grid_policy"].contains("gaps<=900s"));
        // A later ingest that measures slot 10 replaces the interpolated value.
        store.ingest(&id, &[RawSample::new(t(50), 99.0)], 300, &p, prescale_core::Aggregate::Mean, "test").unwrap();
        assert_eq!(store.read(&id).unwrap().values()[10], 99.0);
    }

    #[test]
    fn an_ingest_counts_the_slots_it_filled_in_the_store_not_in_its_own_samples() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let id = MetricId::new("g", "m");
        let p = GridPolicy { max_interpolate_secs: 900 };
        let ingest =
            |raw: &[RawSample]| store.ingest(&id, raw, 300, &p, prescale_core::Aggregate::Mean, "test").unwrap();
        let counts = |s: IngestSummary| (s.grid.interpolated, s.grid.missing);
        assert_eq!(counts(ingest(&samples(0..10, 0.0))), (0, 0));
        assert_eq!(counts(ingest(&samples(14..18, 0.0))), (0, 4), "10 to 13: 20 minutes, too long to fill");
        // The slot between the stored ones and the new ones is filled in, none of the new
        // samples' own is (their gap at 15 and 16 is measured in the store already).
        let mut later = samples(11..30, 0.0);
        later.retain(|s| s.ts != t(75) && s.ts != t(80));
        assert_eq!(counts(ingest(&later)), (1, 0));
        // A gap too long to fill is counted missing once; the slots already so are not again.
        assert_eq!(counts(ingest(&samples(40..42, 0.0))), (0, 10));
        assert_eq!(counts(ingest(&samples(41..43, 0.0))), (0, 0));
    }

    #[test]
    fn a_coarser_period_stores_the_history_again_at_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let id = MetricId::new("g", "count");
        let sum = prescale_core::Aggregate::Sum;
        // Eight 5-minute counts (0, 1, …, 7), one of them (5) never measured.
        let mut five = samples(0..8, 0.0);
        five.retain(|s| s.ts != t(25));
        store.ingest(&id, &five, 300, &GridPolicy { max_interpolate_secs: 0 }, sum, "test").unwrap();
        let stored_before = std::fs::read(store.path(&id)).unwrap();
        // Now at 10 minutes: the stored pairs add up, the pair with the unmeasured slot is left
        // out, the new samples follow.
        let ten: Vec<RawSample> = (4..6).map(|i| RawSample::new(t(10 * i), 100.0 + i as f64)).collect();
        store.ingest(&id, &ten, 600, &GridPolicy { max_interpolate_secs: 0 }, sum, "test").unwrap();
        let s = store.read(&id).unwrap();
        assert_eq!(s.step_secs(), 600);
        // The series as it was is kept beside it, byte for byte the way back.
        let aside = std::path::PathBuf::from(format!("{}.step300s", store.path(&id).display()));
        assert_eq!(std::fs::read(&aside).unwrap(), stored_before);
        assert_eq!(s.start(), t(0));
        let v: Vec<f64> = s.values().to_vec();
        assert_eq!(v[..2], [1.0, 5.0], "{v:?}");
        assert!(v[2].is_nan(), "{v:?}");
        assert_eq!(v[3..], [13.0, 104.0, 105.0], "{v:?}");
        // A finer period cannot be made from it.
        let err = store
            .ingest(&id, &samples(0..4, 0.0), 300, &GridPolicy { max_interpolate_secs: 0 }, sum, "test")
            .unwrap_err();
        assert!(matches!(err, StoreError::StepMismatch { stored: 600, new: 300, .. }));
        // A copy cut short (a full disk, a kill, in a build that copied in place) is not taken
        // for the history: it is written again, whole, before the series is stored at the
        // coarser step.
        let other = MetricId::new("g", "other");
        store.ingest(&other, &five, 300, &GridPolicy { max_interpolate_secs: 0 }, sum, "test").unwrap();
        let whole = std::fs::read(store.path(&other)).unwrap();
        let aside = std::path::PathBuf::from(format!("{}.step300s", store.path(&other).display()));
        std::fs::write(&aside, &whole[..whole.len() / 2]).unwrap();
        store.ingest(&other, &ten, 600, &GridPolicy { max_interpolate_secs: 0 }, sum, "test").unwrap();
        assert_eq!(std::fs::read(&aside).unwrap(), whole);
        assert_eq!(store.read(&other).unwrap().step_secs(), 600);
    }

    #[test]
    fn step_mismatch_and_foreign_files_are_refused_without_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let id = MetricId::new("g", "m");
        store
            .ingest(&id, &samples(0..10, 0.0), 300, &GridPolicy::default(), prescale_core::Aggregate::Mean, "test")
            .unwrap();
        let before = std::fs::read(store.path(&id)).unwrap();
        let err = store
            .ingest(&id, &samples(0..10, 0.0), 60, &GridPolicy::default(), prescale_core::Aggregate::Mean, "test")
            .unwrap_err();
        assert!(matches!(err, StoreError::StepMismatch { stored: 300, new: 60, .. }));
        assert_eq!(std::fs::read(store.path(&id)).unwrap(), before);
        std::fs::write(store.path(&MetricId::new("g", "junk")), b"not parquet").unwrap();
        assert!(store.read(&MetricId::new("g", "junk")).is_err());
    }

    #[test]
    fn a_crash_before_rename_leaves_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let id = MetricId::new("g", "m");
        store
            .ingest(&id, &samples(0..10, 0.0), 300, &GridPolicy::default(), prescale_core::Aggregate::Mean, "test")
            .unwrap();
        let path = store.path(&id);
        let r = write_atomic(&path, |f| {
            use std::io::Write;
            f.write_all(b"half a file").unwrap();
            Err(StoreError::NotFound { id: "simulated crash".into(), path: path.clone() })
        });
        assert!(r.is_err());
        assert_eq!(store.read(&id).unwrap().len(), 10);
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1);
        // A writer killed before its rename leaves its temporary file: the next write of that
        // file removes it once its process is gone, and leaves a live writer's alone.
        let dead = path.with_file_name(".m.parquet.tmp-4294967294");
        // The test runner's parent process: alive while the test runs.
        let live = path.with_file_name(format!(".m.parquet.tmp-{}", std::os::unix::process::parent_id()));
        // A dead pid's file written just now: another pid namespace's writer (a container sharing
        // the store), at work.
        let other = path.with_file_name(".m.parquet.tmp-4294967293");
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for (p, text) in [(&dead, "half"), (&live, "being written"), (&other, "being written")] {
            std::fs::write(p, text).unwrap();
        }
        for p in [&dead, &live] {
            std::fs::File::options().write(true).open(p).unwrap().set_modified(hour_ago).unwrap();
        }
        store
            .ingest(&id, &samples(10..12, 0.0), 300, &GridPolicy::default(), prescale_core::Aggregate::Mean, "test")
            .unwrap();
        assert!(!dead.exists(), "a dead writer's temporary file is removed");
        assert!(live.exists(), "a live writer's is left alone");
        assert!(other.exists(), "so is a fresh one of a pid this namespace does not run");
        assert_eq!(store.read(&id).unwrap().len(), 12);
    }

    #[test]
    fn one_writer_at_a_time_and_a_dead_writers_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let wait = std::time::Duration::from_millis(100);
        let held = store.lock_for_writing(wait).unwrap();
        // The lock is the operating system's, per open file: a second one waits, then says who holds it.
        let e = store.lock_for_writing(wait).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, StoreError::Busy { .. }), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())) && msg.contains("released when that process ends"),
            "{msg}"
        );
        drop(held);
        let again = store.lock_for_writing(wait).unwrap();
        drop(again);
        // A lock file left by a process that died (whatever it says, even nothing) holds nothing.
        let path = dir.path().join("metrics/v1/.write.lock");
        for left in ["pid 1 since 2026-11-23T00:00:00Z\n", ""] {
            std::fs::write(&path, left).unwrap();
            let taken = store.lock_for_writing(std::time::Duration::ZERO).unwrap();
            assert!(std::fs::read_to_string(&path).unwrap().starts_with(&format!("pid {} ", std::process::id())));
            drop(taken);
        }
        // The lock file is not a series.
        assert!(store.list().unwrap().is_empty());
    }
}
