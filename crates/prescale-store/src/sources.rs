//! The CSV and Parquet metric sources.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use prescale_core::{MetricId, MetricSource, RawSample, SourceError, TimeRange};

const TS_NAMES: [&str; 4] = ["ts", "timestamp", "time", "date"];

/// Metric values must stay below this magnitude (exclusive). Real metrics stay far below it; a
/// value near `f64::MAX` is a unit or export error, and sums and squares of it overflow.
pub const MAX_ABS_VALUE: f64 = 1e100;

/// The error for a finite value beyond [`MAX_ABS_VALUE`], if `v` is one.
fn too_large(v: f64) -> Option<String> {
    (v.is_finite() && v.abs() >= MAX_ABS_VALUE).then(|| {
        format!(
            "value {v:e} is beyond what prescale computes with (|value| < 1e100)\nhint: check the metric's unit and \
             export, or rescale it (bytes as GB, say)"
        )
    })
}

/// Epoch time in seconds, or in milliseconds, microseconds or nanoseconds as their size says:
/// below 1e11 (the year 5138) seconds, below 1e14 milliseconds, below 1e17 microseconds, else
/// nanoseconds. So milliseconds before 1973-03-03 (below 1e11) would read as seconds: real
/// metric exports are not that old.
fn from_epoch(n: i64) -> Option<DateTime<Utc>> {
    if n < 100_000_000_000 {
        Utc.timestamp_opt(n, 0).single()
    } else if n < 100_000_000_000_000 {
        Utc.timestamp_millis_opt(n).single()
    } else if n < 100_000_000_000_000_000 {
        Utc.timestamp_micros(n).single()
    } else {
        Some(Utc.timestamp_nanos(n))
    }
}

/// Parses a timestamp as metric exports write them: RFC 3339 with a zone or offset
/// (`2026-01-05T10:00:00Z`, `…+01:00`, also `+0100` and after a space), naive date-times taken as
/// UTC (`2026-01-05 10:00:00`, `2026-01-05T10:00:00`, fractional seconds allowed), or Unix epoch
/// time: seconds (a fraction allowed), or milliseconds, microseconds or nanoseconds as their size
/// says (13, 16 or 19 digits for today's dates).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    // An offset with or without its colon (`+01:00`, `+0100`, as `date +%z` writes it), after
    // the time or a space.
    for fmt in
        ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f %z"]
    {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok().and_then(from_epoch);
    }
    // Epoch seconds with a fraction (`1766966100.5`).
    if let Some((secs, frac)) = s.split_once('.')
        && !secs.is_empty()
        && secs.len() <= 11
        && secs.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.len() <= 9
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        let nanos: u32 = format!("{frac:0<9}").parse().ok()?;
        return Utc.timestamp_opt(secs.parse().ok()?, nanos).single();
    }
    None
}

fn in_range(range: Option<TimeRange>, ts: DateTime<Utc>) -> bool {
    range.is_none_or(|r| ts >= r.start && ts < r.end)
}

/// Reads a CSV file of `timestamp,value` rows (header required; the timestamp column may be named
/// `ts`, `timestamp`, `time` or `date`, other columns are ignored). Empty values and `NaN` are
/// kept as NaN samples, which [`prescale_core::regularize`] counts and drops. Any other unreadable
/// row is an error that names its line: a half-read file is never stored.
///
/// # Errors
/// [`SourceError::Io`] or [`SourceError::Parse`].
pub fn read_csv_samples(path: &Path) -> Result<Vec<RawSample>, SourceError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|source| SourceError::Io { path: shown.clone(), source })?;
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(file);
    let parse_err = |line: u64, message: String| SourceError::Parse { path: format!("{shown}:{line}"), message };
    let headers = rdr.headers().map_err(|e| parse_err(1, format!("cannot read the header: {e}")))?.clone();
    // The names in their order of preference: `ts` wins over a `date` column before it.
    let find = |names: &[&str]| names.iter().find_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n)));
    let (ti, vi) = (find(&TS_NAMES), find(&["value"]));
    let (Some(ti), Some(vi)) = (ti, vi) else {
        let lacks = match (ti, vi) {
            (None, None) => "a timestamp column (ts, timestamp, time or date) and a value column (value)",
            (None, _) => "a timestamp column (ts, timestamp, time or date)",
            _ => "a value column (value)",
        };
        let names: Vec<&str> = headers.iter().collect();
        let hint = if names.is_empty() {
            return Err(parse_err(
                1,
                "the file is empty\nhint: it needs a header such as `timestamp,value`, then one row per sample".into(),
            ));
        } else if names.iter().all(|n| n.is_empty()) {
            "the first line names no column: it must be a header such as `timestamp,value`".into()
        } else if let [one] = names.as_slice()
            && let Some(sep) = [';', '\t', '|'].into_iter().find(|c| one.contains(*c))
        {
            format!(
                "the fields are separated by {sep:?}: prescale reads comma-separated files (convert it, e.g. `tr \
                 {:?} ',' < FILE`, where no value holds a comma)",
                sep.to_string()
            )
        } else if let (Some(ti), None, 2) = (ti, vi, names.len()) {
            format!("rename the column `{}` to `value` (the load of each row)", names[1 - ti])
        } else {
            "the file must start with a header such as `timestamp,value`".into()
        };
        return Err(parse_err(1, format!("header {names:?} lacks {lacks}\nhint: {hint}")));
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| parse_err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.iter().all(str::is_empty) {
            continue;
        }
        // More fields than the header names (empty ones after a trailing comma aside): a value
        // written with a decimal comma (`1,2`) or an unquoted field would be read wrong, so the row
        // is refused rather than guessed at.
        if rec.iter().skip(headers.len()).any(|f| !f.is_empty()) {
            return Err(parse_err(
                line,
                format!(
                    "{} fields where the header names {}: {:?}\nhint: write decimals with a point (1.2, not 1,2) and \
                     quote any field that holds a comma",
                    rec.len(),
                    headers.len(),
                    rec.iter().collect::<Vec<_>>().join(",")
                ),
            ));
        }
        let ts_text = rec.get(ti).unwrap_or("");
        let ts = parse_timestamp(ts_text).ok_or_else(|| {
            parse_err(line, format!("cannot read timestamp {ts_text:?}\nhint: use RFC 3339 (2026-01-05T10:00:00Z), `YYYY-MM-DD HH:MM:SS` (taken as UTC, or with an offset such as +01:00 or +0100) or epoch seconds (a fraction allowed), milliseconds, microseconds or nanoseconds"))
        })?;
        let v_text = rec.get(vi).unwrap_or("");
        let value = if v_text.is_empty() || v_text.eq_ignore_ascii_case("nan") || v_text.eq_ignore_ascii_case("null") {
            f64::NAN
        } else {
            v_text.parse::<f64>().map_err(|_| parse_err(line, format!("cannot read value {v_text:?} as a number")))?
        };
        if let Some(message) = too_large(value) {
            return Err(parse_err(line, message));
        }
        out.push(RawSample::new(ts, value));
    }
    Ok(out)
}

/// Reads a Parquet file with a timestamp column (`ts`/`timestamp`/`time`/`date`, of any Arrow
/// timestamp unit, or text as [`parse_timestamp`] reads it) and a numeric `value` column.
/// Null values are read as NaN.
///
/// # Errors
/// [`SourceError::Io`] or [`SourceError::Parse`].
pub fn read_parquet_samples(path: &Path) -> Result<Vec<RawSample>, SourceError> {
    let shown = path.display().to_string();
    let err = |message: String| SourceError::Parse { path: shown.clone(), message };
    let file = File::open(path).map_err(|source| SourceError::Io { path: shown.clone(), source })?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(format!("not a readable Parquet file: {e}")))?;
    let reader = builder.build().map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    let mut rows_before = 0;
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        let schema = batch.schema();
        let find = |names: &[&str]| {
            names.iter().find_map(|n| schema.fields().iter().position(|f| f.name().eq_ignore_ascii_case(n)))
        };
        let (Some(ti), Some(vi)) = (find(&TS_NAMES), find(&["value"])) else {
            let found: Vec<String> =
                schema.fields().iter().map(|f| format!("{} ({})", f.name(), f.data_type())).collect();
            return Err(err(format!(
                "needs a timestamp column (ts, timestamp, time or date) and a value column (value); it has {}",
                if found.is_empty() { "no column".to_string() } else { found.join(", ") }
            )));
        };
        let tcol = batch.column(ti);
        let ts: Vec<Option<DateTime<Utc>>> = match tcol.data_type() {
            DataType::Timestamp(unit, _) => {
                let (vals, nulls): (Vec<i64>, Vec<bool>) = match unit {
                    TimeUnit::Second => collect_i64(tcol.as_primitive::<TimestampSecondType>()),
                    TimeUnit::Millisecond => collect_i64(tcol.as_primitive::<TimestampMillisecondType>()),
                    TimeUnit::Microsecond => collect_i64(tcol.as_primitive::<TimestampMicrosecondType>()),
                    TimeUnit::Nanosecond => collect_i64(tcol.as_primitive::<TimestampNanosecondType>()),
                };
                let to_ms: fn(i64) -> i64 = match unit {
                    TimeUnit::Second => |v| v * 1000,
                    TimeUnit::Millisecond => |v| v,
                    TimeUnit::Microsecond => |v| v / 1000,
                    TimeUnit::Nanosecond => |v| v / 1_000_000,
                };
                vals.iter()
                    .zip(nulls)
                    .map(|(v, null)| if null { None } else { Utc.timestamp_millis_opt(to_ms(*v)).single() })
                    .collect()
            }
            DataType::Utf8 => tcol.as_string::<i32>().iter().map(|s| s.and_then(parse_timestamp)).collect(),
            DataType::LargeUtf8 => tcol.as_string::<i64>().iter().map(|s| s.and_then(parse_timestamp)).collect(),
            // Epoch numbers, read as a CSV's are: seconds, milliseconds, micro- or nanoseconds by size.
            DataType::Int64 => tcol.as_primitive::<Int64Type>().iter().map(|v| v.and_then(from_epoch)).collect(),
            other => {
                return Err(err(format!(
                    "timestamp column has type {other}; expected a timestamp, text or epoch numbers (Int64)"
                )));
            }
        };
        let vcol = batch.column(vi);
        let values: Vec<f64> = match vcol.data_type() {
            DataType::Float64 => vcol.as_primitive::<Float64Type>().iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
            DataType::Float32 => {
                vcol.as_primitive::<Float32Type>().iter().map(|v| v.map_or(f64::NAN, f64::from)).collect()
            }
            DataType::Int64 => {
                vcol.as_primitive::<Int64Type>().iter().map(|v| v.map_or(f64::NAN, |x| x as f64)).collect()
            }
            DataType::Int32 => vcol.as_primitive::<Int32Type>().iter().map(|v| v.map_or(f64::NAN, f64::from)).collect(),
            other => return Err(err(format!("value column has type {other}; expected a number"))),
        };
        for (i, (t, v)) in ts.into_iter().zip(values).enumerate() {
            // Rows counted from 1 over the whole file, as a reader of the file would count them.
            let row = rows_before + i + 1;
            let t = t.ok_or_else(|| err(format!("row {row} has a null or unreadable timestamp")))?;
            if let Some(message) = too_large(v) {
                return Err(err(format!("row {row}: {message}")));
            }
            out.push(RawSample::new(t, v));
        }
        rows_before += batch.num_rows();
    }
    Ok(out)
}

fn collect_i64<T: arrow_array::ArrowPrimitiveType<Native = i64>>(
    a: &arrow_array::PrimitiveArray<T>,
) -> (Vec<i64>, Vec<bool>) {
    (a.values().to_vec(), (0..a.len()).map(|i| a.is_null(i)).collect())
}

/// Metric files, one series per file, read by `read` (CSV or Parquet).
#[derive(Debug, Clone)]
struct Files {
    files: Vec<(MetricId, PathBuf)>,
}

impl Files {
    fn fetch(
        &self,
        range: Option<TimeRange>,
        read: fn(&Path) -> Result<Vec<RawSample>, SourceError>,
    ) -> Result<Vec<(MetricId, Vec<RawSample>)>, SourceError> {
        self.files
            .iter()
            .map(|(id, path)| {
                let mut raw = read(path)?;
                raw.retain(|s| in_range(range, s.ts));
                Ok((id.clone(), raw))
            })
            .collect()
    }
}

/// CSV files as a [`MetricSource`], one series per file (see [`read_csv_samples`]).
#[derive(Debug, Clone)]
pub struct CsvSource(Files);

impl CsvSource {
    /// A source reading each `(series, file)`.
    pub fn new(files: Vec<(MetricId, PathBuf)>) -> Self {
        Self(Files { files })
    }
}

impl MetricSource for CsvSource {
    fn describe(&self) -> String {
        format!("csv ({} files)", self.0.files.len())
    }
    fn fetch(&mut self, range: Option<TimeRange>) -> Result<Vec<(MetricId, Vec<RawSample>)>, SourceError> {
        self.0.fetch(range, read_csv_samples)
    }
}

/// Parquet files as a [`MetricSource`], one series per file (see [`read_parquet_samples`]).
#[derive(Debug, Clone)]
pub struct ParquetSource(Files);

impl ParquetSource {
    /// A source reading each `(series, file)`.
    pub fn new(files: Vec<(MetricId, PathBuf)>) -> Self {
        Self(Files { files })
    }
}

impl MetricSource for ParquetSource {
    fn describe(&self) -> String {
        format!("parquet ({} files)", self.0.files.len())
    }
    fn fetch(&mut self, range: Option<TimeRange>) -> Result<Vec<(MetricId, Vec<RawSample>)>, SourceError> {
        self.0.fetch(range, read_parquet_samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_the_forms_exports_use() {
        let want = Utc.with_ymd_and_hms(2014, 2, 19, 15, 0, 0).unwrap();
        for s in [
            "2014-02-19T15:00:00Z",
            "2014-02-19 15:00:00",
            "2014-02-19T16:00:00+01:00",
            "1392822000",
            "1392822000000",
            "1392822000000000",
            "1392822000000000000",
            "2014-02-19T15:00:00.000",
            "2014-02-19T16:00:00+0100",
            "2014-02-19 15:00:00+0000",
            "2014-02-19 10:00:00 -0500",
            "1392822000.0",
        ] {
            assert_eq!(parse_timestamp(s), Some(want), "{s}");
        }
        assert_eq!(parse_timestamp("19/02/2014"), None);
        assert_eq!(parse_timestamp("1392822000.25"), Some(want + chrono::Duration::milliseconds(250)));
        assert_eq!(parse_timestamp("1392822000."), None);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "timestamp,value\n2014-02-19 15:00:00,1\n2014-02-19 15:05:00,abc\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:3") && e.contains("abc"), "{e}");
        std::fs::write(&p, "when,value\n2014-02-19 15:00:00,1\n").unwrap();
        assert!(read_csv_samples(&p).unwrap_err().to_string().contains("lacks a timestamp column"));
        std::fs::write(&p, "time,load\n2014-02-19 15:00:00,1\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("lacks a value column") && !e.contains("timestamp column"), "{e}");
        // What is wrong with a header says how to mend it.
        for (text, says) in [
            ("", "the file is empty"),
            ("ts;value\n2014-02-19 15:00:00;1\n", "separated by ';'"),
            ("date,requests\n2014-02-19 15:00:00,1\n", "rename the column `requests` to `value`"),
        ] {
            std::fs::write(&p, text).unwrap();
            let e = read_csv_samples(&p).unwrap_err().to_string();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        // A decimal comma makes a third field: refused with its line, not read as 1.
        std::fs::write(&p, "ts,value\n2014-02-19 15:00:00,1\n2014-02-19 15:05:00,1,2\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:3") && e.contains("3 fields where the header names 2"), "{e}");
        std::fs::write(&p, "ts,value\n2014-02-19 15:00:00,1\n2014-02-19 15:05:00,1.7e308\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:3") && e.contains("1.7e308"), "{e}");
        std::fs::write(&p, "ts,value\n2014-02-19 15:00:00,NaN\n2014-02-19 15:05:00,\n2014-02-19 15:10:00,2.5\n")
            .unwrap();
        let s = read_csv_samples(&p).unwrap();
        assert_eq!(s.len(), 3);
        assert!(s[0].value.is_nan() && s[1].value.is_nan());
        // An export with a `date` column before its `ts` one: `ts` is the timestamp.
        std::fs::write(&p, "date,ts,value\n2014-02-19,2014-02-19 15:00:00,1\n").unwrap();
        let s = read_csv_samples(&p).unwrap();
        assert_eq!(s[0].ts, Utc.with_ymd_and_hms(2014, 2, 19, 15, 0, 0).unwrap());
    }

    #[test]
    fn csv_source_filters_by_range() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "ts,value\n2014-02-19T15:00:00Z,1\n2014-02-19T15:05:00Z,2\n2014-02-19T15:10:00Z,3\n")
            .unwrap();
        let mut src = CsvSource::new(vec![(MetricId::new("g", "m"), p)]);
        let start = parse_timestamp("2014-02-19T15:05:00Z").unwrap();
        let range = TimeRange { start, end: start + chrono::Duration::minutes(5), step_secs: 300 };
        let got = src.fetch(Some(range)).unwrap();
        assert_eq!(got[0].1, vec![RawSample::new(start, 2.0)]);
    }
}
