//! The CSV and Parquet metric sources.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type, Float16Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use prescale_core::{MetricId, MetricSource, RawSample, SourceError, TimeRange};

const TS_NAMES: [&str; 4] = ["ts", "timestamp", "time", "date"];

/// The stamps a file's text may hold, for the hint after one that cannot be read.
const STAMP_FORMATS: &str = "use RFC 3339 (2026-01-05T10:00:00Z), `YYYY-MM-DD HH:MM:SS` (taken as UTC, or with an \
                             offset such as +01:00 or +0100), a date as YYYYMMDD (a time after it as HH, HHMM or \
                             HHMMSS), or epoch seconds (a fraction allowed), milliseconds, microseconds or \
                             nanoseconds from 1990 on";

/// Metric values must stay below this magnitude (exclusive). Real metrics stay far below it; a
/// value near `f64::MAX` is a unit or export error, and sums and squares of it overflow.
pub const MAX_ABS_VALUE: f64 = 1e100;

/// What a file's header lacks of the columns prescale reads, by the positions found.
fn lacks(ts: Option<usize>, value: Option<usize>) -> &'static str {
    match (ts, value) {
        (None, None) => "a timestamp column (ts, timestamp, time or date) and a value column (value)",
        (None, _) => "a timestamp column (ts, timestamp, time or date)",
        _ => "a value column (value)",
    }
}

/// The error for a finite value beyond [`MAX_ABS_VALUE`], if `v` is one.
fn too_large(v: f64) -> Option<String> {
    (v.is_finite() && v.abs() >= MAX_ABS_VALUE).then(|| beyond(&format!("{v:e}")))
}

/// The error for a value beyond [`MAX_ABS_VALUE`], as `shown`.
fn beyond(shown: &str) -> String {
    format!(
        "value {shown} is beyond what prescale computes with (|value| < 1e100)\nhint: check the metric's unit and \
         export, or rescale it (bytes as GB, say)"
    )
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

/// A field as an error message quotes it: at most 80 characters (a field of megabytes, a file
/// read as one line, would fill the terminal).
fn clipped(field: &str) -> String {
    match field.char_indices().nth(80) {
        Some((at, _)) => format!("{}… ({} characters)", &field[..at], field.chars().count()),
        None => field.to_string(),
    }
}

/// What to do about a file whose columns (`names`) have a timestamp (at `ti`) but no `value`: the
/// one other column renamed, or the one of the others that holds the load (a CloudWatch or
/// monitoring export: `Timestamp,Average,Unit`, `timestamp,cpu,mem`), or one added.
fn load_column_hint(names: &[&str], ti: usize) -> String {
    let others: Vec<String> =
        names.iter().enumerate().filter(|(j, n)| *j != ti && !n.is_empty()).map(|(_, n)| format!("`{n}`")).collect();
    match (names.len(), others.as_slice()) {
        (2, [other]) => format!("rename the column {other} to `value` (the load of each row)"),
        (_, []) => "add a column named `value` with the load of each row".to_string(),
        _ => format!("rename the column that holds the load (of {}) to `value`", others.join(", ")),
    }
}

/// A date and time written as digits (`YYYYMMDD`, `YYYYMMDDHH`, `YYYYMMDDHHMM`,
/// `YYYYMMDDHHMMSS`), from 1990 to 2199; `None` for other digits.
fn compact_stamp(digits: &str) -> Option<NaiveDateTime> {
    let padded = match digits.len() {
        8 => format!("{digits}000000"),
        10 => format!("{digits}0000"),
        12 => format!("{digits}00"),
        14 => digits.to_string(),
        _ => return None,
    };
    NaiveDateTime::parse_from_str(&padded, "%Y%m%d%H%M%S").ok().filter(|n| (1990..2200).contains(&n.year()))
}

/// Whether an epoch number's instant can be a metric's stamp: from 1990 on. Before it, the
/// number is an hour of the day, a date as YYYYMMDD or a row number read as seconds after 1970.
fn plausible_epoch(t: DateTime<Utc>) -> bool {
    t.year() >= 1990
}

/// Parses a timestamp as metric exports write them: RFC 3339 with a zone or offset
/// (`2026-01-05T10:00:00Z`, `…+01:00`, also `+0100` and after a space), naive date-times taken as
/// UTC (`2026-01-05 10:00:00`, `2026-01-05T10:00:00`, fractional seconds allowed), or Unix epoch
/// time: seconds (a fraction allowed), or milliseconds, microseconds or nanoseconds as their size
/// says (13, 16 or 19 digits for today's dates).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    parse_stamp(s).map(|st| match st {
        Stamp::Exact(t) => t,
        Stamp::Naive(n) => Utc.from_utc_datetime(&n),
    })
}

/// A timestamp as written: an instant, or a wall-clock time with no offset.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp {
    Exact(DateTime<Utc>),
    Naive(NaiveDateTime),
}

fn parse_stamp(s: &str) -> Option<Stamp> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(Stamp::Exact(d.with_timezone(&Utc)));
    }
    // Wall-clock date-times without an offset: ISO 8601's extended forms (seconds and their
    // fraction optional) and its basic one (`20260105T100000`).
    let naive = |t: &str| {
        [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M",
            "%Y%m%dT%H%M%S",
            "%Y%m%dT%H%M",
        ]
        .into_iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(t, fmt).ok())
    };
    if let Some(n) = naive(s) {
        return Some(Stamp::Naive(n));
    }
    // An offset with or without its colon (`+01:00`, `+0100`, as `date +%z` writes it), after
    // the time or a space.
    for fmt in
        ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f %z"]
    {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(Stamp::Exact(d.with_timezone(&Utc)));
        }
    }
    // A date alone: its midnight.
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(Stamp::Naive);
    }
    // Any of the wall-clock forms with a `Z` after it (or after a space): UTC.
    if let Some(n) = s.strip_suffix('Z').map(str::trim_end).filter(|u| !u.ends_with('Z')).and_then(naive) {
        return Some(Stamp::Exact(Utc.from_utc_datetime(&n)));
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        // A date and time written as digits (an export's YYYYMMDD, YYYYMMDDHH, YYYYMMDDHHMM or
        // YYYYMMDDHHMMSS), from 1990 to 2199: as epoch numbers they would be seconds after 2033
        // (ten digits), milliseconds before 2002 (twelve) or after 2600 (fourteen), which no
        // export holds today. Any other number is epoch time, from 1990 on: before it an hour of
        // the day or a row number, no metric's stamp.
        if let Some(n) = compact_stamp(s) {
            return Some(Stamp::Naive(n));
        }
        return s.parse::<i64>().ok().and_then(from_epoch).filter(|t| plausible_epoch(*t)).map(Stamp::Exact);
    }
    // A whole epoch number written as a float (`1794528000000.0`, pandas' `to_csv` of a column of
    // milliseconds with a missing one): read as the integer.
    if let Some((whole, zeros)) = s.split_once('.')
        && (12..=19).contains(&whole.len())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && !zeros.is_empty()
        && zeros.bytes().all(|b| b == b'0')
    {
        return whole.parse::<i64>().ok().and_then(from_epoch).filter(|t| plausible_epoch(*t)).map(Stamp::Exact);
    }
    // Epoch seconds with a fraction (`1766966100.5`).
    if let Some((secs, frac)) = s.split_once('.')
        && (9..=11).contains(&secs.len())
        && secs.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.len() <= 9
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        let nanos: u32 = format!("{frac:0<9}").parse().ok()?;
        return Utc.timestamp_opt(secs.parse().ok()?, nanos).single().map(Stamp::Exact);
    }
    None
}

/// Reads a file's stamps that carry no offset as wall-clock times of one zone (a metric's
/// `file_time_zone`), in file order: a stamp of the hour a clock repeats when it goes back is read
/// as the pass nearer the stamp before it (a file in time order, oldest or newest first, walks
/// through both passes); a time the clock skips is an error.
/// Without a zone they are UTC.
#[derive(Debug, Clone, Default)]
struct Stamper {
    zone: Option<chrono_tz::Tz>,
    last: Option<DateTime<Utc>>,
    /// Stamps of a repeated hour, read by their neighbours in the file.
    ambiguous: usize,
    /// The file's first stamp, where it lies in a repeated hour (no stamp before it to read it
    /// by), and the pass it was read as.
    first_repeated: Option<(NaiveDateTime, DateTime<Utc>)>,
    /// The direction of the file's last step in time (1 forward, -1 back, 0 none yet), and
    /// whether it ever turned: a file that does is not in time order.
    direction: i8,
    turned: bool,
    /// The file's last step between two stamps, in seconds (not counting a repeated stamp).
    step: Option<i64>,
    /// Stamps read as wall-clock times (without an offset), and as instants (with one, or epoch
    /// numbers).
    walls: usize,
    exacts: usize,
    /// Without a zone: the wall-clock stamp before, and the first step between two that looks
    /// like a clock change of local stamps read as UTC ([`Stamper::local_clock`]), with how many.
    prev_wall: Option<NaiveDateTime>,
    clock_change: Option<ClockChange>,
    clock_changes: usize,
    /// Steps forward and back between those stamps: the file's direction is the more common.
    forward: usize,
    back: usize,
    /// The last ordinary step between them (in the file's direction, at most an hour): a clock
    /// change moves it by exactly an hour.
    usual: Option<i64>,
    /// Per date, whether any zone's clocks change within a day of it: the zones are looked
    /// through only on such dates, once each.
    change_dates: std::collections::HashMap<chrono::NaiveDate, bool>,
}

/// A step between two stamps without an offset, read as UTC, where some zones' clocks change:
/// the hour they skip (`skipped`) or repeat, and the zones.
#[derive(Debug, Clone)]
struct ClockChange {
    from: NaiveDateTime,
    to: NaiveDateTime,
    skipped: bool,
    zones: Vec<chrono_tz::Tz>,
}

/// Zones named first when a clock change fits many (the rest are counted).
const USUAL_ZONES: [&str; 12] = [
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Santiago",
];

/// The zones whose clocks skip the wall-clock time `t` (`skipped`), or repeat it.
fn zones_changing_at(t: NaiveDateTime, skipped: bool) -> Vec<chrono_tz::Tz> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .filter(|z| match z.from_local_datetime(&t) {
            chrono::LocalResult::None => skipped,
            chrono::LocalResult::Ambiguous(..) => !skipped,
            chrono::LocalResult::Single(_) => false,
        })
        .collect()
}

impl Stamper {
    /// Stamps without an offset in `zone` (UTC for `None`).
    fn new(zone: Option<chrono_tz::Tz>) -> Self {
        Self { zone, ..Self::default() }
    }

    /// Notes the step from the stamp before to `t`.
    fn step_to(&mut self, t: DateTime<Utc>) {
        if let Some(l) = self.last {
            let d = match t.cmp(&l) {
                std::cmp::Ordering::Greater => 1,
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
            };
            if d != 0 {
                self.turned |= self.direction != 0 && d != self.direction;
                self.direction = d;
                self.step = Some((t - l).num_seconds().abs());
            }
        }
        self.last = Some(t);
    }

    /// Why stamps of a repeated hour may be an hour off: read by their neighbours in a file
    /// that is not in time order.
    fn doubt(&self) -> Option<String> {
        (self.ambiguous > 0 && self.turned).then(|| {
            format!(
                "{} stamp{} of an hour {}'s clocks repeat (when they go back) {} read by the rows beside {} in the \
                 file, but the file is not in time order: some may be an hour off\nhint: sort the file by time, or \
                 write its stamps with their offset",
                self.ambiguous,
                if self.ambiguous == 1 { "" } else { "s" },
                self.zone.map_or("the zone".to_string(), |z| z.name().to_string()),
                if self.ambiguous == 1 { "was" } else { "were" },
                if self.ambiguous == 1 { "it" } else { "them" }
            )
        })
    }

    /// Says, for the file `shown`, what the stamps read leave in doubt: a zone's clock change, a
    /// first stamp in a repeated hour, a zone given to stamps that carry their own offset, and
    /// local stamps read as UTC.
    fn warn_doubts(&self, shown: &str) {
        for doubt in [self.doubt(), self.first_repeated(), self.unused_zone(), self.mixed(), self.local_clock()]
            .into_iter()
            .flatten()
        {
            tracing::warn!("{shown}: {doubt}");
        }
    }

    /// Why the file's first stamp may be an hour off: it lies in an hour the zone's clocks repeat,
    /// with no stamp before it to tell the passes apart (a rolling export that starts there).
    fn first_repeated(&self) -> Option<String> {
        let (n, t) = self.first_repeated?;
        Some(format!(
            "its first stamp, {}, is in the hour {}'s clocks repeat (when they go back): read as the first pass ({} \
             UTC), with no row before it to tell; if the file starts in the second pass, its rows in that hour are an \
             hour early\nhint: write the stamps with their offset, or start the export outside that hour",
            n.format("%Y-%m-%d %H:%M"),
            self.zone.map_or("the zone".to_string(), |z| z.name().to_string()),
            t.format("%H:%M")
        ))
    }

    /// Why the zone given for the stamps without an offset changed nothing: every stamp read
    /// carried its own offset, or was an epoch number or a zoned timestamp. Not for UTC, the
    /// default written out, which changes nothing either way (a warning every night for it
    /// would be noise in a cron mail).
    fn unused_zone(&self) -> Option<String> {
        (self.walls == 0 && self.last.is_some()).then_some(())?;
        let utc = |z: &chrono_tz::Tz| {
            let name = z.name().trim_start_matches("Etc/");
            ["UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich"].contains(&name)
        };
        self.zone.filter(|z| !utc(z)).map(|z| {
            format!(
                "its stamps all carry their offset (Z, +01:00) or are epoch numbers: the zone {z} given \
                 for stamps without one (file_time_zone, --file-time-zone) changes nothing\nhint: drop it, or check \
                 that this is the file meant"
            )
        })
    }

    /// Why a file whose stamps are partly instants (an offset, `Z`, epoch numbers) and partly
    /// wall-clock times may be shifted: two writers, one of them on local time, read as UTC (or
    /// the zone given) where it carries no offset.
    fn mixed(&self) -> Option<String> {
        (self.walls > 0 && self.exacts > 0).then(|| {
            format!(
                "{} of its stamps carry no offset and {} do (Z, +01:00, or epoch numbers): those without are read as \
                 {}, so if they are another zone's wall-clock time, their rows are shifted against the others\nhint: \
                 write every stamp with its offset, or give the zone of those without (--file-time-zone ZONE, \
                 file_time_zone in a configuration)",
                self.walls,
                self.exacts,
                self.zone.map_or("UTC".to_string(), |z| format!("{z} time")),
            )
        })
    }

    /// The instant of `text`; `None` for text that is no timestamp, an error for a wall-clock time
    /// the zone skips.
    fn read(&mut self, text: &str) -> Option<Result<DateTime<Utc>, String>> {
        Some(match parse_stamp(text)? {
            Stamp::Exact(t) => {
                self.exacts += 1;
                self.step_to(t);
                Ok(t)
            }
            Stamp::Naive(n) => self.wall(n),
        })
    }

    /// Why stamps without an offset, read as UTC, may be local time: they step over an hour
    /// some zones' clocks skip, or repeat one, where they go back.
    fn local_clock(&self) -> Option<String> {
        let c = self.clock_change.as_ref()?;
        // Zones people run in first; the file's own is one of them, not necessarily the first.
        let mut named: Vec<&str> =
            USUAL_ZONES.iter().copied().filter(|u| c.zones.iter().any(|z| z.name() == *u)).take(4).collect();
        if named.is_empty() {
            named.extend(c.zones.iter().take(4).map(|z| z.name()));
        }
        let others = c.zones.len().saturating_sub(named.len());
        let fmt = |t: NaiveDateTime| t.format("%Y-%m-%d %H:%M").to_string();
        Some(format!(
            "its stamps carry no offset and are read as UTC, but they {} {} to {}, where the clocks of {}{} {}: is the \
             file in local time? Read as UTC, the rows after it are an hour off from those before{}\nhint: give the \
             file's own zone, one of those, with --file-time-zone ZONE (file_time_zone in a configuration; e.g. \
             --file-time-zone {}), or write the stamps with their offset",
            if c.skipped { "jump from" } else { "step back from" },
            fmt(c.from),
            fmt(c.to),
            named.join(", "),
            if others > 0 { format!(" (and {others} other zones)") } else { String::new() },
            if c.skipped { "skip an hour" } else { "repeat an hour" },
            if self.clock_changes > 1 {
                format!(" ({} such steps in the file)", self.clock_changes)
            } else {
                String::new()
            },
            named[0]
        ))
    }

    /// Without a zone: notes a step from the wall-clock stamp before to `n` that a clock change
    /// of local stamps would make (in the file's direction by more than an hour, over a time some
    /// zones skip; against it or in place by under an hour, within an hour some zones repeat).
    fn note_clock_change(&mut self, n: NaiveDateTime) {
        if self.zone.is_some() {
            return;
        }
        let Some(prev) = self.prev_wall.replace(n) else { return };
        let direction = match self.forward.cmp(&self.back) {
            std::cmp::Ordering::Greater => 1,
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
        };
        match n.cmp(&prev) {
            std::cmp::Ordering::Greater => self.forward += 1,
            std::cmp::Ordering::Less => self.back += 1,
            std::cmp::Ordering::Equal => {}
        }
        // The file's direction so far (its first step's own before there is one).
        let direction = if direction == 0 { (n - prev).num_seconds().signum() } else { direction };
        let d = (n - prev).num_seconds() * direction;
        let Some(usual) = self.usual else {
            self.usual = Some(d).filter(|d| (1..=3600).contains(d));
            return;
        };
        if (1..=3600).contains(&d) {
            self.usual = Some(d);
        }
        // An ordinary step moved by exactly an hour, on a date some zone's clocks change.
        if d != usual + 3600 && d != usual - 3600 {
            return;
        }
        let (early, late) = (prev.min(n), prev.max(n));
        let date = late.date();
        let changes = *self.change_dates.entry(date).or_insert_with(|| {
            let day =
                |k: i64| (date + chrono::Duration::days(k)).and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
            let (Some(a), Some(b)) = (day(-1), day(2)) else { return false };
            chrono_tz::TZ_VARIANTS.iter().any(|z| {
                use chrono::Offset as _;
                a.with_timezone(z).offset().fix() != b.with_timezone(z).offset().fix()
            })
        });
        if !changes {
            return;
        }
        let change = if d == usual + 3600 {
            // The stamp after the earlier one, where the clock went forward: skipped.
            let skipped_at = early + chrono::Duration::seconds((late - early).num_seconds() - 3600);
            Some((true, zones_changing_at(skipped_at, true)))
        } else if d <= 0 {
            let zones: Vec<chrono_tz::Tz> = zones_changing_at(late, false)
                .into_iter()
                .filter(|z| z.from_local_datetime(&early).single().is_none())
                .collect();
            Some((false, zones))
        } else {
            None
        };
        if let Some((skipped, zones)) = change.filter(|(_, z)| !z.is_empty()) {
            self.clock_changes += 1;
            self.clock_change.get_or_insert(ClockChange { from: prev, to: n, skipped, zones });
        }
    }

    /// The instant of the wall-clock time `n` (UTC without a zone).
    fn wall(&mut self, n: NaiveDateTime) -> Result<DateTime<Utc>, String> {
        self.walls += 1;
        self.note_clock_change(n);
        let t = match self.zone {
            None => Ok(Utc.from_utc_datetime(&n)),
            Some(tz) => match tz.from_local_datetime(&n) {
                chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
                // The repeated hour: the pass nearer where the file's next stamp would be (the
                // stamp before plus its last step, in its direction: a file in time order, oldest
                // or newest first, steps from one pass to the next, and at a 30-minute or hourly
                // step the stamp before lies as near the one pass as the other); before a step is
                // known, the pass nearer the stamp before. A duplicate row or two swapped ones stay
                // in their pass (nearer the step than the other pass is).
                chrono::LocalResult::Ambiguous(first, second) => {
                    self.ambiguous += 1;
                    let (first, second) = (first.with_timezone(&Utc), second.with_timezone(&Utc));
                    if self.last.is_none() {
                        self.first_repeated = Some((n, first));
                    }
                    let next = match (self.last, self.step) {
                        (Some(l), Some(step)) if self.direction != 0 => {
                            Some(l + chrono::Duration::seconds(step * i64::from(self.direction)))
                        }
                        (l, _) => l,
                    };
                    Ok(match next {
                        Some(n) if (second - n).abs() < (first - n).abs() => second,
                        _ => first,
                    })
                }
                chrono::LocalResult::None => Err(format!(
                    "\"{n}\" is not a time of {tz}: its clocks skip it (they go forward there)\nhint: stamps without an \
                     offset are read in that zone's wall-clock time (a metric's file_time_zone, or --file-time-zone); \
                     check the zone, or write the stamps with their offset"
                )),
            },
        };
        if let Ok(t) = t {
            self.step_to(t);
        }
        t
    }
}

fn in_range(range: Option<TimeRange>, ts: DateTime<Utc>) -> bool {
    range.is_none_or(|r| ts >= r.start && ts < r.end)
}

/// Reads a CSV file of `timestamp,value` rows (header required; the timestamp column may be named
/// `ts`, `timestamp`, `time` or `date`, other columns are ignored). Empty values and the usual
/// missing-value marks (`NaN`, `NA`, `N/A`, `#N/A`, `NULL`, `None`, any case) are kept as NaN samples, which [`prescale_core::regularize`] counts and drops. Any other unreadable
/// row is an error that names its line: a half-read file is never stored.
///
/// # Errors
/// [`SourceError::Io`] or [`SourceError::Parse`].
pub fn read_csv_samples(path: &Path) -> Result<Vec<RawSample>, SourceError> {
    read_csv_samples_in(path, None)
}

/// [`read_csv_samples`] with the stamps that carry no offset read as wall-clock times of `zone`,
/// in file order: a stamp of the hour a clock repeats when it goes back is read as the pass nearer
/// the stamp before it (a file in time order, oldest or newest first, walks through both passes);
/// a time the clock skips is an error naming its line.
///
/// # Errors
/// As [`read_csv_samples`].
pub fn read_csv_samples_in(path: &Path, zone: Option<chrono_tz::Tz>) -> Result<Vec<RawSample>, SourceError> {
    read_csv(path, zone, u64::MAX)
}

/// Bytes of `file` up to and including its last line end, when its last line has none (a
/// writer may be in the middle of it); `None` when it ends with one, is empty, or holds no line
/// end at all.
fn unterminated_tail(file: &mut File) -> std::io::Result<Option<u64>> {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    let found = if last[0] == b'\n' {
        None
    } else {
        // Back through the file a block at a time to the last line end.
        let mut end = len;
        let mut found = None;
        while end > 0 && found.is_none() {
            let start = end.saturating_sub(64 * 1024);
            let mut block = vec![0u8; (end - start) as usize];
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(&mut block)?;
            found = block.iter().rposition(|b| *b == b'\n').map(|i| start + i as u64 + 1);
            end = start;
        }
        found
    };
    file.seek(SeekFrom::Start(0))?;
    Ok(found)
}

/// "UTF-16" where `head` (a file's first bytes) starts with a UTF-16 byte-order mark, or holds
/// NULs as ASCII written in UTF-16 does.
fn utf16(head: &[u8]) -> Option<&'static str> {
    // ASCII in UTF-16 without a mark: every second byte a NUL, the others not.
    let nuls = |parity: usize| head.iter().skip(parity).step_by(2).filter(|b| **b == 0).count();
    let half = head.len() / 2;
    let alternating =
        head.len() >= 8 && (nuls(0) == 0 && nuls(1) * 10 >= half * 9 || nuls(1) == 0 && nuls(0) * 10 >= half * 9);
    match head {
        [0xFF, 0xFE, ..] => Some("UTF-16 (little-endian)"),
        [0xFE, 0xFF, ..] => Some("UTF-16 (big-endian)"),
        _ if alternating => Some("UTF-16"),
        _ => None,
    }
}

/// [`read_csv_samples_in`] of the first `limit` bytes of the file.
fn read_csv(path: &Path, zone: Option<chrono_tz::Tz>, limit: u64) -> Result<Vec<RawSample>, SourceError> {
    let mut stamper = Stamper::new(zone);
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|source| SourceError::Io { path: shown.clone(), source })?;
    let parse_err = |line: u64, message: String| SourceError::Parse { path: format!("{shown}:{line}"), message };
    // The first bytes, read and put back in front (a pipe cannot be sought).
    let mut file = std::io::Read::take(file, limit);
    let mut first = Vec::with_capacity(64);
    std::io::Read::read_to_end(&mut std::io::Read::take(std::io::Read::by_ref(&mut file), 64), &mut first)
        .map_err(|source| SourceError::Io { path: shown.clone(), source })?;
    if FileContent::of(&first) == FileContent::Parquet {
        // Parquet is read from a file it can seek in; a pipe is read as CSV.
        let hint = if path == Path::new("/dev/stdin") || path == Path::new("-") {
            "Parquet is not read from a pipe: write it to a file and give its path (FILE.parquet)"
        } else {
            "name it with the .parquet extension (or give the metric's file as such), and prescale reads it as Parquet"
        };
        return Err(parse_err(1, format!("the file is Parquet, not CSV\nhint: {hint}")));
    }
    if let Some(kind) = utf16(&first) {
        return Err(parse_err(
            1,
            format!(
                "the file is {kind} text: prescale reads UTF-8 (or ASCII)\nhint: convert it, e.g. `iconv -f UTF-16 -t \
                 UTF-8 FILE > FILE.utf8.csv` (spreadsheets write UTF-16 as \"Unicode text\"; choose \"CSV UTF-8\")"
            ),
        ));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(std::io::Read::chain(&first[..], file));
    // Read as bytes, each field taken as UTF-8 where it is and with U+FFFD for the bytes that are
    // not: a column prescale does not read (`région` in Latin-1, from a spreadsheet) costs
    // nothing, and a timestamp or value that is not UTF-8 is refused as any unreadable one.
    let headers = rdr.byte_headers().map_err(|e| parse_err(1, format!("cannot read the header: {e}")))?.clone();
    let headers = csv::StringRecord::from_byte_record_lossy(headers);
    // The names in their order of preference: `ts` wins over a `date` column before it.
    let find = |names: &[&str]| names.iter().find_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n)));
    // A spreadsheet's stamp split in two columns (`Date,Time,value`): the time alone would be read
    // as the stamp, and refused with a misleading error.
    let named = |n: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(n));
    if let (Some(d), Some(t), None, None) = (named("date"), named("time"), named("ts"), named("timestamp")) {
        return Err(parse_err(
            1,
            format!(
                "the timestamp is split in two columns, `{}` and `{}`: prescale reads one\nhint: join them into one \
                 column named `timestamp` (`2026-01-05 10:00:00`, or with an offset: `2026-01-05T10:00:00+01:00`)",
                &headers[d], &headers[t]
            ),
        ));
    }
    let (ti, vi) = (find(&TS_NAMES), find(&["value"]));
    let (Some(ti), Some(vi)) = (ti, vi) else {
        let lacks = lacks(ti, vi);
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
        } else if let (Some(ti), None) = (ti, vi) {
            load_column_hint(&names, ti)
        } else {
            "the file must start with a header such as `timestamp,value`".into()
        };
        return Err(parse_err(1, format!("header {:?} lacks {lacks}\nhint: {hint}", clipped(&names.join(",")))));
    };
    // A column named twice (`ts,value,value`, two exports pasted side by side): which one is
    // the load only the file's author knows.
    for i in [ti, vi] {
        let twice: Vec<usize> = (0..headers.len()).filter(|j| headers[*j].eq_ignore_ascii_case(&headers[i])).collect();
        if twice.len() > 1 {
            return Err(parse_err(
                1,
                format!(
                    "the header names the column `{}` {} times (columns {}): which one to read is not known\nhint: \
                     keep one of them, or rename the others",
                    &headers[i],
                    twice.len(),
                    twice.iter().map(|j| (j + 1).to_string()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for rec in rdr.byte_records() {
        let rec = rec.map_err(|e| parse_err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let rec = csv::StringRecord::from_byte_record_lossy(rec);
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
                    clipped(&rec.iter().collect::<Vec<_>>().join(","))
                ),
            ));
        }
        let ts_text = rec.get(ti).unwrap_or("");
        let ts = stamper.read(ts_text).transpose().map_err(|e| parse_err(line, e))?.ok_or_else(|| {
            // A first row of words where a stamp and a number belong: a second header line
            // (units, or the names again), as some exports write.
            let words = |f: &str| !f.is_empty() && f.parse::<f64>().is_err() && f.chars().any(char::is_alphabetic);
            if out.is_empty() && words(ts_text) && rec.get(vi).is_some_and(words) {
                return parse_err(
                    line,
                    format!(
                        "cannot read timestamp {ts_text:?}: the row {:?} reads as a second header line\nhint: prescale \
                         reads one header line (such as `timestamp,value`); delete the lines between it and the first \
                         row of data",
                        clipped(&rec.iter().collect::<Vec<_>>().join(","))
                    ),
                );
            }
            // No stamp at all (pandas writes a missing one so, and a column of epoch numbers with
            // one missing as floats): what to do about the row, not the formats.
            if ts_text.is_empty() {
                return parse_err(
                    line,
                    format!(
                        "the row has no timestamp\nhint: every row needs its time: drop the rows without one before \
                         writing the file (in pandas, `df.dropna(subset=[{:?}])`), or fill them; a row whose value is \
                         empty is read as a gap",
                        &headers[ti]
                    ),
                );
            }
            parse_err(line, format!("cannot read timestamp {:?}\nhint: {STAMP_FORMATS}", clipped(ts_text)))
        })?;
        // A row that stops before its value column (`2026-01-05T10:00:00Z` alone) is cut short, not
        // a value left empty (`…Z,`): refused like any row that cannot be read.
        let Some(v_text) = rec.get(vi) else {
            return Err(parse_err(
                line,
                format!(
                    "{} field{} where the header names {}: the row stops before its value\nhint: an empty value is \
                     written `TIMESTAMP,` (read as missing); a row cut short is a damaged file",
                    rec.len(),
                    if rec.len() == 1 { "" } else { "s" },
                    headers.len()
                ),
            ));
        };
        // The missing-value marks exports write: pandas (`NaN`, `NA`), R (`NA`), SQL (`NULL`),
        // Python (`None`), spreadsheets (`N/A`, `#N/A`).
        let missing = ["nan", "null", "na", "n/a", "#n/a", "none"];
        let value = if v_text.is_empty() || missing.iter().any(|m| v_text.eq_ignore_ascii_case(m)) {
            f64::NAN
        } else {
            v_text.parse::<f64>().map_err(|_| {
                // `1,103` is a thousand and more with a separator, or 1.103 with a decimal comma:
                // only the export knows, so the hint names both.
                let hint = if v_text.contains(',') && v_text.bytes().any(|b| b.is_ascii_digit()) {
                    "write numbers without a thousands separator and with a decimal point (1103 for 1,103 \
                     thousands; 1.5 for 1,5 with a decimal comma)"
                } else {
                    "the value column holds numbers (12, 0.5, 1e6); an empty field or NaN for a missing one"
                };
                parse_err(line, format!("cannot read value {:?} as a number\nhint: {hint}", clipped(v_text)))
            })?
        };
        // A number written out (not `inf`) too large for a float reads as an infinity: refused as
        // the large finite ones are, not dropped as a missing value.
        let overflowed = value.is_infinite() && v_text.bytes().any(|b| b.is_ascii_digit());
        if let Some(message) = too_large(value).or_else(|| overflowed.then(|| beyond(&clipped(v_text)))) {
            return Err(parse_err(line, message));
        }
        out.push(RawSample::new(ts, value));
    }
    stamper.warn_doubts(&shown);
    Ok(out)
}

/// Reads a Parquet file with a timestamp column (`ts`/`timestamp`/`time`/`date`, of any Arrow
/// timestamp unit, or text as [`parse_timestamp`] reads it) and a numeric `value` column.
/// Null values are read as NaN.
///
/// # Errors
/// [`SourceError::Io`] or [`SourceError::Parse`].
pub fn read_parquet_samples(path: &Path) -> Result<Vec<RawSample>, SourceError> {
    read_parquet_samples_in(path, None)
}

/// [`read_parquet_samples`] with text stamps that carry no offset, and timestamps of a column
/// with no zone, in `zone`, as [`read_csv_samples_in`] reads them.
///
/// # Errors
/// As [`read_parquet_samples`].
pub fn read_parquet_samples_in(path: &Path, zone: Option<chrono_tz::Tz>) -> Result<Vec<RawSample>, SourceError> {
    let mut stamper = Stamper::new(zone);
    let shown = path.display().to_string();
    let err = |message: String| SourceError::Parse { path: shown.clone(), message };
    let file = File::open(path).map_err(|source| SourceError::Io { path: shown.clone(), source })?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(format!("not a readable Parquet file: {e}")))?;
    let reader = builder.build().map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    let mut rows_before = 0;
    for batch in reader {
        let batch = batch.map_err(|e| {
            // A codec this build leaves out (brotli, lz4, gzip): what to write instead.
            let hint = if e.to_string().contains("Disabled feature") {
                "\nhint: prescale reads Parquet compressed with zstd or snappy, or uncompressed: write the file with one \
                 of those (e.g. pyarrow's write_table(..., compression=\"zstd\"))"
            } else {
                ""
            };
            err(format!("{e}{hint}"))
        })?;
        let schema = batch.schema();
        let find = |names: &[&str]| {
            names.iter().find_map(|n| schema.fields().iter().position(|f| f.name().eq_ignore_ascii_case(n)))
        };
        let (ti, vi) = (find(&TS_NAMES), find(&["value"]));
        let (Some(ti), Some(vi)) = (ti, vi) else {
            let found: Vec<String> =
                schema.fields().iter().map(|f| format!("{} ({})", f.name(), f.data_type())).collect();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let hint = ti.map_or(String::new(), |ti| format!("\nhint: {}", load_column_hint(&names, ti)));
            return Err(err(format!(
                "lacks {}; it has {}{hint}",
                lacks(ti, vi),
                if found.is_empty() { "no column".to_string() } else { found.join(", ") }
            )));
        };
        let ts = stamps(batch.column(ti).as_ref(), &mut stamper).map_err(&err)?;
        let values = numbers(batch.column(vi).as_ref()).map_err(&err)?;
        for (i, (t, v)) in ts.into_iter().zip(values).enumerate() {
            // Rows counted from 1 over the whole file, as a reader of the file would count them.
            let row = rows_before + i + 1;
            let t = t.ok_or_else(|| {
                // Text that is no stamp prescale reads (`25/04/2018 00:00`): quoted, as a CSV's is.
                match text_at(batch.column(ti).as_ref(), i) {
                    Some(text) => {
                        err(format!("row {row}: cannot read timestamp {:?}\nhint: {STAMP_FORMATS}", clipped(&text)))
                    }
                    None => err(format!(
                        "row {row} has a null or unreadable timestamp\nhint: every row needs its time: drop the rows \
                         without one before writing the file (in pandas, `df.dropna(subset=[{:?}])`), or fill them; \
                         a row whose value is null is read as a gap",
                        batch.schema().field(ti).name()
                    )),
                }
            })?;
            if let Some(message) = too_large(v) {
                return Err(err(format!("row {row}: {message}")));
            }
            out.push(RawSample::new(t, v));
        }
        rows_before += batch.num_rows();
    }
    stamper.warn_doubts(&shown);
    Ok(out)
}

/// A dictionary-encoded column (pandas' categoricals, say) as the plain column it stands for.
fn decoded(col: &dyn Array) -> Result<Option<arrow_array::ArrayRef>, String> {
    let Some(dict) = col.as_any_dictionary_opt() else { return Ok(None) };
    arrow_select::take::take(dict.values().as_ref(), dict.keys(), None).map(Some).map_err(|e| e.to_string())
}

/// Row `i` of a text column (plain, large, a view, or dictionary-encoded), as [`stamps`] reads
/// it; `None` for a null or a column of another type.
fn text_at(col: &dyn Array, i: usize) -> Option<String> {
    if let Ok(Some(plain)) = decoded(col) {
        return text_at(plain.as_ref(), i);
    }
    col.is_valid(i).then_some(())?;
    match col.data_type() {
        DataType::Utf8 => Some(col.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Some(col.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Some(col.as_string_view().value(i).to_string()),
        _ => None,
    }
}

/// The timestamp column's instants, in row order (`None` for a null or unreadable one). A
/// column of timestamps without a zone holds wall-clock times when `wall` (a zone was given).
fn stamps(col: &dyn Array, stamper: &mut Stamper) -> Result<Vec<Option<DateTime<Utc>>>, String> {
    if let Some(plain) = decoded(col)? {
        return stamps(plain.as_ref(), stamper);
    }
    // An infinite float, or one past an integer's range, is no missing stamp (a NaN is): said.
    if let Some(floats) = col.as_primitive_opt::<Float64Type>()
        && let Some((row, x)) =
            floats.iter().enumerate().find_map(|(i, x)| x.filter(|x| !x.is_nan() && x.abs() >= 9.2e18).map(|x| (i, x)))
    {
        return Err(format!(
            "row {}: timestamp {x} is no epoch time (seconds, milli-, micro- or nanoseconds since 1970)",
            row + 1
        ));
    }
    if let Some(read) = epoch_stamps(col) {
        // Dates and times written as digits (a CSV's are read as such) read as epoch numbers
        // after 2033: refused as integers, not taken for instants years ahead.
        let as_digits = |t: &DateTime<Utc>| {
            [t.timestamp(), t.timestamp_millis()].into_iter().any(|n| compact_stamp(&n.to_string()).is_some())
        };
        let mut all = read.iter().flatten().peekable();
        if all.peek().is_some() && all.all(as_digits) {
            return Err(format!(
                "its timestamp column holds numbers ({}) that read as dates and times written as digits \
                 (YYYYMMDDHH…), not epoch times\nhint: write the stamps as a timestamp, as text (a CSV reads such \
                 digits), or as epoch seconds",
                col.data_type()
            ));
        }
        if let Some(t) = read.iter().flatten().find(|t| !plausible_epoch(**t)) {
            return Err(format!(
                "its timestamp column holds numbers ({}) that read as epoch times before 1990 (the first: {}): an \
                 hour of the day, a date as YYYYMMDD, a row number?\nhint: write the stamps as a timestamp or as \
                 epoch seconds (or milli-, micro-, nanoseconds)",
                col.data_type(),
                t.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        return Ok(read);
    }
    let texts = |it: &mut dyn Iterator<Item = Option<&str>>, stamper: &mut Stamper| {
        it.map(|s| s.and_then(|s| stamper.read(s)).transpose()).collect::<Result<Vec<_>, String>>()
    };
    Ok(match col.data_type() {
        DataType::Timestamp(unit, column_zone) => {
            // A column without a zone holds wall-clock times (pandas writes local ones so): read in
            // the file's zone where one is given, as UTC otherwise, and watched for a clock change
            // either way, as a CSV's stamps without an offset are.
            let wall = column_zone.is_none();
            let (vals, nulls): (Vec<i64>, Vec<bool>) = match unit {
                TimeUnit::Second => collect_i64(col.as_primitive::<TimestampSecondType>()),
                TimeUnit::Millisecond => collect_i64(col.as_primitive::<TimestampMillisecondType>()),
                TimeUnit::Microsecond => collect_i64(col.as_primitive::<TimestampMicrosecondType>()),
                TimeUnit::Nanosecond => collect_i64(col.as_primitive::<TimestampNanosecondType>()),
            };
            let to_ms: fn(i64) -> i64 = match unit {
                TimeUnit::Second => |v| v * 1000,
                TimeUnit::Millisecond => |v| v,
                TimeUnit::Microsecond => |v| v / 1000,
                TimeUnit::Nanosecond => |v| v / 1_000_000,
            };
            vals.iter()
                .zip(nulls)
                .map(|(v, null)| match Utc.timestamp_millis_opt(to_ms(*v)).single() {
                    Some(t) if !null && wall => stamper.wall(t.naive_utc()).map(Some),
                    Some(t) if !null => Ok(Some(t)),
                    _ => Ok(None),
                })
                .collect::<Result<_, _>>()?
        }
        DataType::Utf8 => texts(&mut col.as_string::<i32>().iter(), stamper)?,
        DataType::LargeUtf8 => texts(&mut col.as_string::<i64>().iter(), stamper)?,
        DataType::Utf8View => texts(&mut col.as_string_view().iter(), stamper)?,
        // Dates (a daily series): each day's midnight, UTC.
        DataType::Date32 => col
            .as_primitive::<arrow_array::types::Date32Type>()
            .iter()
            .map(|d| d.and_then(|d| Utc.timestamp_opt(i64::from(d) * 86_400, 0).single()))
            .collect(),
        // Dates as milliseconds (pandas' and Spark's `date64`): the same midnights.
        DataType::Date64 => col
            .as_primitive::<arrow_array::types::Date64Type>()
            .iter()
            .map(|d| d.and_then(|ms| Utc.timestamp_millis_opt(ms).single()))
            .collect(),
        // 24 bits of mantissa: epoch seconds of today to 128 s, milliseconds to days.
        DataType::Float32 | DataType::Float16 => {
            return Err(format!(
                "its timestamp column holds {} floats, which cannot hold epoch times to the second\nhint: write \
                 the stamps as a timestamp, as epoch seconds in integers or 64-bit floats, or as text",
                if col.data_type() == &DataType::Float32 { "32-bit" } else { "16-bit" }
            ));
        }
        other => {
            return Err(format!(
                "timestamp column has type {other}; expected a timestamp, a date, text or epoch numbers (integers or \
                 64-bit floats)"
            ));
        }
    })
}

/// A numeric timestamp column's epoch numbers, read as a CSV's are: seconds, milliseconds, micro-
/// or nanoseconds by size; 64-bit floats too (pandas writes integers with a missing one so),
/// seconds with a fraction as a CSV's `1766966100.5`; `None` for a column of another type.
fn epoch_stamps(col: &dyn Array) -> Option<Vec<Option<DateTime<Utc>>>> {
    Some(match col.data_type() {
        DataType::Float64 => col.as_primitive::<Float64Type>().iter().map(|v| v.and_then(float_epoch)).collect(),
        DataType::Int64 => epochs::<Int64Type>(col, Some),
        DataType::Int32 => epochs::<Int32Type>(col, |x| Some(x.into())),
        DataType::Int16 => epochs::<Int16Type>(col, |x| Some(x.into())),
        DataType::Int8 => epochs::<Int8Type>(col, |x| Some(x.into())),
        DataType::UInt64 => epochs::<UInt64Type>(col, |x| i64::try_from(x).ok()),
        DataType::UInt32 => epochs::<UInt32Type>(col, |x| Some(x.into())),
        DataType::UInt16 => epochs::<UInt16Type>(col, |x| Some(x.into())),
        DataType::UInt8 => epochs::<UInt8Type>(col, |x| Some(x.into())),
        _ => return None,
    })
}

/// An epoch number written as a float: as [`from_epoch`] reads an integer, a fraction of a
/// second kept (below 10^11, as a CSV's `1766966100.5`) and one of a smaller unit rounded;
/// `None` for a NaN (a missing stamp) or one past an integer's range.
fn float_epoch(x: f64) -> Option<DateTime<Utc>> {
    // Past i64's range (9.2e18): no instant (refused by [`stamps`] before).
    if !(-9.2e18..9.2e18).contains(&x) {
        return None;
    }
    // A negative one reads as before 1970, refused as an integer's is.
    if x.fract() == 0.0 || x < 0.0 {
        return from_epoch(x as i64);
    }
    if x < 1e11 {
        let nanos = ((x.fract() * 1e9).round() as u32).min(999_999_999);
        Utc.timestamp_opt(x.trunc() as i64, nanos).single()
    } else {
        // Milli-, micro- or nanoseconds by size: a fraction of the unit is no part of a slot.
        from_epoch(x.round() as i64)
    }
}

/// An integer column of type `T` as epoch stamps ([`from_epoch`]), by `f` to an `i64`; nulls and
/// what `f` or the epoch cannot hold as `None`.
fn epochs<T: arrow_array::ArrowPrimitiveType>(
    col: &dyn Array,
    f: impl Fn(T::Native) -> Option<i64>,
) -> Vec<Option<DateTime<Utc>>> {
    col.as_primitive::<T>().iter().map(|v| v.and_then(&f).and_then(from_epoch)).collect()
}

/// The value column as floats, nulls as NaN.
fn numbers(col: &dyn Array) -> Result<Vec<f64>, String> {
    if let Some(plain) = decoded(col)? {
        return numbers(plain.as_ref());
    }
    // A decimal of `scale` digits after the point (a SQL export's NUMERIC).
    let per = |scale: &i8| 10f64.powi(i32::from(*scale));
    Ok(match col.data_type() {
        DataType::Float64 => floats::<Float64Type>(col, |x| x),
        DataType::Float32 => floats::<Float32Type>(col, f64::from),
        DataType::Float16 => floats::<Float16Type>(col, f64::from),
        DataType::Int64 => floats::<Int64Type>(col, |x| x as f64),
        DataType::Int32 => floats::<Int32Type>(col, f64::from),
        DataType::Int16 => floats::<Int16Type>(col, f64::from),
        DataType::Int8 => floats::<Int8Type>(col, f64::from),
        DataType::UInt64 => floats::<UInt64Type>(col, |x| x as f64),
        DataType::UInt32 => floats::<UInt32Type>(col, f64::from),
        DataType::UInt16 => floats::<UInt16Type>(col, f64::from),
        DataType::UInt8 => floats::<UInt8Type>(col, f64::from),
        DataType::Decimal32(_, scale) => floats::<Decimal32Type>(col, |x| f64::from(x) / per(scale)),
        DataType::Decimal64(_, scale) => floats::<Decimal64Type>(col, |x| x as f64 / per(scale)),
        DataType::Decimal128(_, scale) => floats::<Decimal128Type>(col, |x| x as f64 / per(scale)),
        DataType::Decimal256(_, scale) => {
            floats::<Decimal256Type>(col, |x| x.to_string().parse::<f64>().map_or(f64::NAN, |v| v / per(scale)))
        }
        other => {
            return Err(format!(
                "value column has type {other}; expected a number (floating point, integer or decimal)\nhint: \
                 write the value column as a number (e.g. float64)"
            ));
        }
    })
}

fn collect_i64<T: arrow_array::ArrowPrimitiveType<Native = i64>>(
    a: &arrow_array::PrimitiveArray<T>,
) -> (Vec<i64>, Vec<bool>) {
    (a.values().to_vec(), (0..a.len()).map(|i| a.is_null(i)).collect())
}

/// A numeric column of type `T` as floats by `f`, nulls as NaN.
fn floats<T: arrow_array::ArrowPrimitiveType>(col: &dyn Array, f: impl Fn(T::Native) -> f64) -> Vec<f64> {
    col.as_primitive::<T>().iter().map(|v| v.map_or(f64::NAN, &f)).collect()
}

/// What a file holds, by its first bytes rather than its name or the configured source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileContent {
    /// A Parquet file (it starts with `PAR1`).
    Parquet,
    /// A gzip-compressed file, which prescale does not read.
    Gzip,
    /// Anything else: read as CSV. Also a pipe or a file that cannot be opened here (the reader
    /// names what is wrong with it).
    Text,
}

impl FileContent {
    /// What a file holds by its first bytes `head`.
    fn of(head: &[u8]) -> Self {
        match head {
            [b'P', b'A', b'R', b'1', ..] => FileContent::Parquet,
            [0x1f, 0x8b, ..] => FileContent::Gzip,
            _ => FileContent::Text,
        }
    }
}

/// What `path` holds by its first bytes ([`FileContent`]); a pipe is not read ahead.
pub fn file_content(path: &Path) -> FileContent {
    if !path.metadata().is_ok_and(|m| m.is_file()) {
        return FileContent::Text;
    }
    let mut magic = [0u8; 4];
    match File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut magic)) {
        Ok(n) => FileContent::of(&magic[..n]),
        Err(_) => FileContent::Text,
    }
}

/// The error for a gzip-compressed `path`, with what to do.
pub fn gzip_error(path: &Path) -> SourceError {
    SourceError::Parse {
        path: path.display().to_string(),
        message: format!(
            "a gzip-compressed file: prescale reads CSV or Parquet as they are\nhint: decompress it first (`gunzip -k \
             {}`) and read the result",
            path.display()
        ),
    }
}

/// Metric files, one series per file, read by `read` (CSV or Parquet), their stamps without an
/// offset in `zone`.
#[derive(Debug, Clone)]
struct Files {
    files: Vec<(MetricId, PathBuf)>,
    zone: Option<chrono_tz::Tz>,
}

impl Files {
    /// `csv /abs/path.csv` for one file (what the metric store keeps as a series' source), `csv (3
    /// files)` for more.
    fn describe(&self, kind: &str) -> String {
        match self.files.as_slice() {
            [(_, path)] => format!("{kind} {}", std::path::absolute(path).unwrap_or_else(|_| path.clone()).display()),
            files => format!("{kind} ({} files)", files.len()),
        }
    }

    /// Reads every file, each by its content ([`file_content`]): a Parquet file among CSV ones
    /// (`parquet` false, a source of `"csv"`) or the other way round is read for what it
    /// is, and said, as `forecast show --input` does; a gzip-compressed one is an error that says
    /// so.
    fn fetch(&self, range: Option<TimeRange>, parquet: bool) -> Result<Vec<(MetricId, Vec<RawSample>)>, SourceError> {
        self.files
            .iter()
            .map(|(id, path)| {
                // Looked at once: a regular file's kind by content and, for CSV, its age.
                let regular = path.metadata().ok().filter(std::fs::Metadata::is_file);
                let as_parquet = match (file_content(path), parquet) {
                    (FileContent::Gzip, _) => return Err(gzip_error(path)),
                    (FileContent::Parquet, false) => {
                        tracing::warn!(
                            "{}: a Parquet file where the source is \"csv\": read as Parquet",
                            path.display()
                        );
                        true
                    }
                    (FileContent::Text, true) if regular.is_some() => {
                        tracing::warn!(
                            "{}: not a Parquet file (no PAR1 at its start) where the source is \"parquet\": read \
                             as CSV",
                            path.display()
                        );
                        false
                    }
                    _ => parquet,
                };
                let mut raw = if as_parquet {
                    read_parquet_samples_in(path, self.zone)?
                } else {
                    // A last line without its line end in a file written in the last minute may be a
                    // write in progress (`6` of `6415`): left for the next run, which reads it
                    // whole, and said. A file at rest is read as it is: many writers end their last
                    // line without one.
                    let io = |source| SourceError::Io { path: path.display().to_string(), source };
                    let writing = regular
                        .and_then(|m| m.modified().ok())
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age < std::time::Duration::from_secs(60));
                    let tail = if writing {
                        File::open(path).and_then(|mut f| unterminated_tail(&mut f)).map_err(io)?
                    } else {
                        None
                    };
                    if tail.is_some() {
                        tracing::warn!(
                            "{}: its last line has no line end and the file changed under a minute ago (a write in \
                             progress?): that line is left for the next run",
                            path.display()
                        );
                    }
                    read_csv(path, self.zone, tail.unwrap_or(u64::MAX))?
                };
                raw.retain(|s| in_range(range, s.ts));
                // Held while stored: without the room its growth left over (up to as much again).
                raw.shrink_to_fit();
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
        Self(Files { files, zone: None })
    }

    /// Its files' stamps without an offset read in `zone` (see [`read_csv_samples_in`]).
    #[must_use]
    pub fn in_zone(mut self, zone: Option<chrono_tz::Tz>) -> Self {
        self.0.zone = zone;
        self
    }
}

impl MetricSource for CsvSource {
    fn describe(&self) -> String {
        self.0.describe("csv")
    }
    fn fetch(&mut self, range: Option<TimeRange>) -> Result<Vec<(MetricId, Vec<RawSample>)>, SourceError> {
        self.0.fetch(range, false)
    }
}

/// Parquet files as a [`MetricSource`], one series per file (see [`read_parquet_samples`]).
#[derive(Debug, Clone)]
pub struct ParquetSource(Files);

impl ParquetSource {
    /// A source reading each `(series, file)`.
    pub fn new(files: Vec<(MetricId, PathBuf)>) -> Self {
        Self(Files { files, zone: None })
    }

    /// Its files' wall-clock stamps read in `zone` (see [`read_parquet_samples_in`]).
    #[must_use]
    pub fn in_zone(mut self, zone: Option<chrono_tz::Tz>) -> Self {
        self.0.zone = zone;
        self
    }
}

impl MetricSource for ParquetSource {
    fn describe(&self) -> String {
        self.0.describe("parquet")
    }
    fn fetch(&mut self, range: Option<TimeRange>) -> Result<Vec<(MetricId, Vec<RawSample>)>, SourceError> {
        self.0.fetch(range, true)
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
            // pandas' to_csv of milli- or microseconds in a column with a missing one.
            "1392822000000.0",
            "1392822000000000.000",
        ] {
            assert_eq!(parse_timestamp(s), Some(want), "{s}");
        }
        assert_eq!(parse_timestamp("19/02/2014"), None);
        assert_eq!(parse_timestamp("1392822000.25"), Some(want + chrono::Duration::milliseconds(250)));
        assert_eq!(parse_timestamp("1392822000."), None);
        assert_eq!(parse_timestamp("1392822000000.5"), None, "half a millisecond is no slot's");
        // A daily export's YYYYMMDD is its date's midnight; numbers that read as epoch times
        // before 1990 (an hour of the day, a row number) are no stamp.
        assert_eq!(parse_timestamp("20260105"), Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single());
        assert_eq!(parse_timestamp("5"), None);
        assert_eq!(parse_timestamp("20261305"), None, "no 13th month, and 1970 as epoch seconds");
        // Hours, minutes and seconds written on as digits, not epoch seconds of 2034.
        let at = |s: &str| parse_timestamp(s).map(|t| t.to_rfc3339());
        assert_eq!(at("2024030113").as_deref(), Some("2024-03-01T13:00:00+00:00"));
        assert_eq!(at("202403011330").as_deref(), Some("2024-03-01T13:30:00+00:00"));
        assert_eq!(at("20240301133005").as_deref(), Some("2024-03-01T13:30:05+00:00"));
        assert_eq!(at("1790000000").as_deref(), Some("2026-09-21T14:13:20+00:00"), "epoch seconds of today");
        // ISO 8601's other forms.
        assert_eq!(at("2024-03-01").as_deref(), Some("2024-03-01T00:00:00+00:00"));
        assert_eq!(at("2024-03-01T13:30Z").as_deref(), Some("2024-03-01T13:30:00+00:00"));
        assert_eq!(at("2024-03-01T13:30:00 Z").as_deref(), Some("2024-03-01T13:30:00+00:00"));
        assert_eq!(at("20240301T133000Z").as_deref(), Some("2024-03-01T13:30:00+00:00"));
        assert_eq!(at("2024-03-01ZZ"), None);
        assert!(parse_timestamp("631152000").is_some(), "1990-01-01 as epoch seconds");
        assert_eq!(parse_timestamp("45678.5"), None, "a spreadsheet's serial date is no epoch time");
    }

    #[test]
    fn local_stamps_read_in_their_zone_across_both_clock_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dublin.csv");
        // Dublin's clocks go back at 02:00 IST on 2026-10-25: 01:00–01:55 comes twice.
        let mut text = String::from("ts,value\n2026-10-25 00:55:00,1\n");
        for pass in 0..2 {
            for m in (0..60).step_by(5) {
                text.push_str(&format!("2026-10-25 01:{m:02}:00,{pass}\n"));
            }
        }
        text.push_str("2026-10-25 02:00:00,2\n2026-10-25T01:00:00Z,3\n");
        std::fs::write(&p, &text).unwrap();
        let zone: chrono_tz::Tz = "Europe/Dublin".parse().unwrap();
        let s = read_csv_samples_in(&p, Some(zone)).unwrap();
        let start = Utc.with_ymd_and_hms(2026, 10, 24, 23, 55, 0).unwrap();
        let want: Vec<DateTime<Utc>> = (0..26).map(|i| start + chrono::Duration::minutes(5 * i)).collect();
        assert_eq!(s[..26].iter().map(|x| x.ts).collect::<Vec<_>>(), want, "one regular 5-minute run in UTC");
        assert_eq!(s[26].ts, Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap(), "an exact stamp stays exact");
        // Newest first, the same stamps are the same instants.
        let mut lines: Vec<&str> = text.lines().skip(1).take(26).collect();
        lines.reverse();
        std::fs::write(&p, format!("ts,value\n{}\n", lines.join("\n"))).unwrap();
        let mut back: Vec<DateTime<Utc>> = read_csv_samples_in(&p, Some(zone)).unwrap().iter().map(|x| x.ts).collect();
        back.reverse();
        assert_eq!(back, want, "newest first");
        // In time order, either way, the repeated hour is read without a doubt; shuffled, it is
        // read all the same but said to be in doubt.
        let stamps = |lines: &[&str]| {
            let mut st = Stamper::new(Some(zone));
            for l in lines {
                st.read(l.split(',').next().unwrap()).unwrap().unwrap();
            }
            st.doubt()
        };
        assert_eq!(stamps(&lines), None);
        lines.reverse();
        assert_eq!(stamps(&lines), None);
        lines.swap(3, 20);
        let doubt = stamps(&lines).expect("a shuffled file is in doubt");
        assert!(
            doubt.contains("24 stamps of an hour Europe/Dublin's clocks repeat") && doubt.contains("sort the file")
        );
        // At 30 minutes and hourly the stamp before lies as near the one pass as the other: the
        // file's direction reads it, oldest or newest first.
        // From 01:00 CEST to 03:00 CET or later: the repeated hour inside, on both sides.
        for step in [30, 60] {
            let n = (240 / step) as usize;
            let want: Vec<DateTime<Utc>> = (0..n as i64)
                .map(|k| Utc.with_ymd_and_hms(2026, 10, 24, 23, 0, 0).unwrap() + chrono::Duration::minutes(step * k))
                .collect();
            let local: Vec<String> = want
                .iter()
                .map(|t| t.with_timezone(&chrono_tz::Europe::Berlin).format("%Y-%m-%d %H:%M:%S").to_string())
                .collect();
            for newest_first in [false, true] {
                let mut st = Stamper::new(Some(chrono_tz::Europe::Berlin));
                let order: Vec<usize> = if newest_first { (0..n).rev().collect() } else { (0..n).collect() };
                let read: Vec<DateTime<Utc>> = order.iter().map(|&i| st.read(&local[i]).unwrap().unwrap()).collect();
                let expected: Vec<DateTime<Utc>> = order.iter().map(|&i| want[i]).collect();
                assert_eq!(read, expected, "every {step} min, newest first: {newest_first}; {local:?}");
                assert_eq!(st.doubt(), None);
                assert_eq!(st.first_repeated(), None, "its first stamp is outside the repeated hour");
            }
        }
        // At 5 minutes, a duplicate row or two swapped ones in the repeated hour stay in their pass.
        let five: Vec<DateTime<Utc>> = (0..36)
            .map(|k| Utc.with_ymd_and_hms(2026, 10, 24, 23, 30, 0).unwrap() + chrono::Duration::minutes(5 * k))
            .collect();
        let wall =
            |t: &DateTime<Utc>| t.with_timezone(&chrono_tz::Europe::Berlin).format("%Y-%m-%d %H:%M:%S").to_string();
        for (i, j) in [(10, 10), (10, 11), (22, 23)] {
            let mut rows: Vec<usize> = (0..36).collect();
            if i == j {
                rows.insert(i, i);
            } else {
                rows.swap(i, j);
            }
            let mut st = Stamper::new(Some(chrono_tz::Europe::Berlin));
            let read: Vec<DateTime<Utc>> = rows.iter().map(|&k| st.read(&wall(&five[k])).unwrap().unwrap()).collect();
            let want: Vec<DateTime<Utc>> = rows.iter().map(|&k| five[k]).collect();
            assert_eq!(read, want, "rows {i} and {j}");
        }
        // A file that starts in the repeated hour is read as its first pass, and said to be.
        let mut st = Stamper::new(Some(chrono_tz::Europe::Berlin));
        st.read("2026-10-25 02:30:00").unwrap().unwrap();
        let said = st.first_repeated().expect("said");
        assert!(said.contains("2026-10-25 02:30") && said.contains("first pass (00:30 UTC)"), "{said}");
        std::fs::write(&p, &text).unwrap();
        // Read as UTC (no zone), the repeated hour is duplicates.
        let utc = read_csv_samples(&p).unwrap();
        assert_eq!(utc[1].ts, utc[13].ts);
        // Its clocks skip 01:00–01:59 on 2026-03-29: such a stamp is an error naming its line.
        std::fs::write(&p, "ts,value\n2026-03-29 00:55:00,1\n2026-03-29 01:30:00,1\n").unwrap();
        let e = read_csv_samples_in(&p, Some(zone)).unwrap_err().to_string();
        assert!(e.contains("dublin.csv:3") && e.contains("clocks skip it"), "{e}");
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
            // A CloudWatch export's columns, and a spreadsheet's stamp split in two.
            ("Timestamp,Average,Unit\n2014-02-19 15:00:00,1,Percent\n", "(of `Average`, `Unit`) to `value`"),
            ("Date,Time,value\n2014-02-19,15:00:00,1\n", "split in two columns, `Date` and `Time`"),
            ("Date,Time,Average\n2014-02-19,15:00:00,1\n", "split in two columns, `Date` and `Time`"),
        ] {
            std::fs::write(&p, text).unwrap();
            let e = read_csv_samples(&p).unwrap_err().to_string();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        // A row without a stamp (pandas' to_csv of a missing one): what to do about the row.
        std::fs::write(&p, "ts,value\n1392822000000.0,1\n,2\n1392822600000.0,3\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(
            e.contains("x.csv:3") && e.contains("the row has no timestamp") && e.contains("dropna(subset=[\"ts\"])")
        );
        // A decimal comma makes a third field: refused with its line, not read as 1.
        std::fs::write(&p, "ts,value\n2014-02-19 15:00:00,1\n2014-02-19 15:05:00,1,2\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:3") && e.contains("3 fields where the header names 2"), "{e}");
        // A row cut short before its value: refused, an empty value is the way to say missing.
        std::fs::write(&p, "ts,value\n2014-02-19 15:00:00,1\n2014-02-19 15:05:00\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:3") && e.contains("stops before its value"), "{e}");
        std::fs::write(&p, "ts,value\n2014-02-19 15:00:00,1\n2014-02-19 15:05:00,1.7e308\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:3") && e.contains("1.7e308"), "{e}");
        // Beyond even a float's range: refused the same way, not dropped as an infinity (which
        // `inf` written out is).
        for big in ["1e400", "-1E400"] {
            std::fs::write(&p, format!("ts,value\n2014-02-19 15:00:00,1\n2014-02-19 15:05:00,{big}\n")).unwrap();
            let e = read_csv_samples(&p).unwrap_err().to_string();
            assert!(e.contains("x.csv:3") && e.contains(&format!("value {big} is beyond")), "{e}");
        }
        std::fs::write(&p, "ts,value\n2014-02-19 15:00:00,1\n2014-02-19 15:05:00,inf\n").unwrap();
        assert!(read_csv_samples(&p).unwrap()[1].value.is_infinite());
        // A value that is no number says what one looks like; a quoted decimal comma, how to write it.
        for (value, says) in
            [("abc", "the value column holds numbers"), ("\"1,5\"", "1.5 for 1,5 with a decimal comma")]
        {
            std::fs::write(&p, format!("ts,value\n2014-02-19 15:00:00,{value}\n")).unwrap();
            let e = read_csv_samples(&p).unwrap_err().to_string();
            assert!(e.contains("x.csv:2") && e.contains("cannot read value") && e.contains(says), "{e}");
        }
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
    fn utf16_and_a_second_header_line_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        let text = "ts,value\n2014-02-19 15:00:00,1\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, says) in [
            ([&[0xFF, 0xFE][..], &le].concat(), "UTF-16 (little-endian)"),
            ([&[0xFE, 0xFF][..], &be].concat(), "UTF-16 (big-endian)"),
            (le.clone(), "is UTF-16 text"),
        ] {
            std::fs::write(&p, &bytes).unwrap();
            let e = read_csv_samples(&p).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("iconv"), "{e}");
        }
        // A Parquet file named .csv is said to be one; other binary data is no UTF-16.
        std::fs::write(&p, b"PAR1\x15\x04\x15\x00\x00\x00\x00\x00").unwrap();
        assert!(read_csv_samples(&p).unwrap_err().to_string().contains("the file is Parquet"));
        std::fs::write(&p, [0u8; 64]).unwrap();
        assert!(!read_csv_samples(&p).unwrap_err().to_string().contains("UTF-16"));
        // UTF-8 with its byte-order mark, as spreadsheets write "CSV UTF-8", reads.
        std::fs::write(&p, [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat()).unwrap();
        assert_eq!(read_csv_samples(&p).unwrap().len(), 1);
        // Latin-1 in a column prescale does not read (a spreadsheet's export) costs nothing; in the
        // value, it is a value that cannot be read, with its line.
        std::fs::write(&p, b"ts,value,r\xe9gion\n2014-02-19 15:00:00,1,Z\xfcrich\n".as_slice()).unwrap();
        assert_eq!(read_csv_samples(&p).unwrap().len(), 1);
        std::fs::write(&p, b"ts,value\n2014-02-19 15:00:00,1\xb5\n".as_slice()).unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:2") && e.contains("cannot read value"), "{e}");
        // A column named twice is not guessed at.
        std::fs::write(&p, "ts,value,Value\n2014-02-19 15:00:00,1,2\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:1") && e.contains("the column `value` 2 times (columns 2, 3)"), "{e}");
        std::fs::write(&p, "ts,value\ntime,requests per second\n2014-02-19 15:00:00,1\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:2") && e.contains("second header line"), "{e}");
        // Further down, a row of words is a damaged row, not a header.
        std::fs::write(&p, "ts,value\n2014-02-19 15:00:00,1\ntime,requests\n").unwrap();
        let e = read_csv_samples(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:3") && !e.contains("second header line"), "{e}");
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

    #[test]
    fn parquet_values_of_any_integer_or_decimal_type_are_read() {
        use arrow_array::{ArrayRef, Decimal128Array, Int64Array, RecordBatch, UInt64Array};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.parquet");
        let write_with = |ts: ArrayRef, values: ArrayRef| {
            let batch = RecordBatch::try_from_iter([("ts", ts), ("value", values)]).unwrap();
            let mut w = parquet::arrow::ArrowWriter::try_new(File::create(&p).unwrap(), batch.schema(), None).unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
        };
        let write = |values: ArrayRef| {
            let stamps = (0..values.len() as i64).map(|i| 1_392_822_000 + 300 * i).collect::<Vec<_>>();
            write_with(std::sync::Arc::new(Int64Array::from(stamps)), values);
        };
        let values = || read_parquet_samples(&p).unwrap().iter().map(|s| s.value).collect::<Vec<_>>();
        write(std::sync::Arc::new(UInt64Array::from(vec![Some(7), None])));
        assert_eq!(values()[0], 7.0);
        assert!(values()[1].is_nan());
        // NUMERIC(10, 2): 1234 is 12.34.
        write(std::sync::Arc::new(Decimal128Array::from(vec![1234, -5]).with_precision_and_scale(10, 2).unwrap()));
        assert_eq!(values(), [12.34, -0.05]);
        // The narrow and wide decimals too (Parquet stores them as the same logical type).
        write(std::sync::Arc::new(
            arrow_array::Decimal64Array::from(vec![1234, -5]).with_precision_and_scale(12, 2).unwrap(),
        ));
        assert_eq!(values(), [12.34, -0.05]);
        type Wide = <arrow_array::types::Decimal256Type as arrow_array::ArrowPrimitiveType>::Native;
        write(std::sync::Arc::new(
            arrow_array::Decimal256Array::from(vec![Wide::from_i128(1234), Wide::from_i128(-1)])
                .with_precision_and_scale(40, 2)
                .unwrap(),
        ));
        assert_eq!(values(), [12.34, -0.01]);
        // A dictionary-encoded column (a pandas categorical) reads as the values it stands for,
        // in row order; a null key is a missing value.
        let keys = arrow_array::Int8Array::from(vec![Some(1), None, Some(0)]);
        let dict = arrow_array::DictionaryArray::try_new(
            keys,
            std::sync::Arc::new(arrow_array::Float64Array::from(vec![2.0, 5.5])),
        );
        write(std::sync::Arc::new(dict.unwrap()));
        let got = values();
        assert_eq!((got[0], got[2]), (5.5, 2.0));
        assert!(got[1].is_nan());
        // Stamps as dictionary-encoded text, or as 32-bit epoch seconds, in row order.
        let texts = ["2014-02-19T15:10:00Z", "2014-02-19T15:00:00Z"];
        let keys = arrow_array::Int32Array::from(vec![1, 0]);
        let dict = arrow_array::DictionaryArray::try_new(
            keys,
            std::sync::Arc::new(arrow_array::StringArray::from(texts.to_vec())),
        );
        let two = || std::sync::Arc::new(arrow_array::Float64Array::from(vec![1.0, 2.0]));
        write_with(std::sync::Arc::new(dict.unwrap()), two());
        let stamps = || read_parquet_samples(&p).unwrap().iter().map(|s| s.ts).collect::<Vec<_>>();
        assert_eq!(stamps(), [parse_timestamp(texts[1]).unwrap(), parse_timestamp(texts[0]).unwrap()]);
        let want = [parse_timestamp(texts[1]).unwrap(), parse_timestamp(texts[0]).unwrap()];
        write_with(std::sync::Arc::new(arrow_array::Int32Array::from(vec![1_392_822_000, 1_392_822_600])), two());
        assert_eq!(stamps(), want);
        write_with(std::sync::Arc::new(arrow_array::UInt32Array::from(vec![1_392_822_000, 1_392_822_600])), two());
        assert_eq!(stamps(), want);
        write_with(
            std::sync::Arc::new(arrow_array::UInt64Array::from(vec![1_392_822_000_000, 1_392_822_600_000])),
            two(),
        );
        assert_eq!(stamps(), want, "milliseconds");
        // Dates, as days (date32) or as milliseconds (date64, as pandas and Spark write them).
        let days = [parse_timestamp("2014-02-19").unwrap(), parse_timestamp("2014-02-20").unwrap()];
        write_with(std::sync::Arc::new(arrow_array::Date32Array::from(vec![16_120, 16_121])), two());
        assert_eq!(stamps(), days);
        write_with(
            std::sync::Arc::new(arrow_array::Date64Array::from(vec![16_120 * 86_400_000, 16_121 * 86_400_000])),
            two(),
        );
        assert_eq!(stamps(), days);
        // Dates and times as digits, ten of them, are no epoch seconds of 2034: refused.
        write_with(std::sync::Arc::new(arrow_array::Int64Array::from(vec![2_024_030_113, 2_024_030_114])), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("dates and times written as digits"), "{e}");
        // Dates as YYYYMMDD are no epoch (1970) either; nor are hours of the day.
        write_with(std::sync::Arc::new(arrow_array::Int32Array::from(vec![20_240_304, 20_240_305])), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("dates and times written as digits"), "{e}");
        write_with(std::sync::Arc::new(arrow_array::Int32Array::from(vec![13, 14])), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("epoch times before 1990 (the first: 1970-01-01") && e.contains("YYYYMMDD"), "{e}");
        // Stamps as text prescale does not read: quoted, with the formats it does.
        let dmy = arrow_array::StringArray::from(vec!["25/04/2018 00:00", "25/04/2018 00:05"]);
        write_with(std::sync::Arc::new(dmy), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("row 1: cannot read timestamp \"25/04/2018 00:00\"") && e.contains("RFC 3339"), "{e}");
        // … as text views and dictionary-encoded text are (both were said as null stamps).
        let view = arrow_array::StringViewArray::from(vec!["2014-02-19T15:00:00Z", "25/04/2018 00:05"]);
        write_with(std::sync::Arc::new(view), two());
        let read_back = ParquetRecordBatchReaderBuilder::try_new(File::open(&p).unwrap()).unwrap();
        assert_eq!(read_back.schema().field(0).data_type(), &DataType::Utf8View);
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("row 2: cannot read timestamp \"25/04/2018 00:05\""), "{e}");
        let dict = arrow_array::DictionaryArray::try_new(
            arrow_array::Int32Array::from(vec![0, 1]),
            std::sync::Arc::new(arrow_array::StringArray::from(vec!["2014-02-19T15:00:00Z", "19.02.2014 15:05"])),
        );
        write_with(std::sync::Arc::new(dict.unwrap()), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("row 2: cannot read timestamp \"19.02.2014 15:05\""), "{e}");
        // A null stamp names its column, whatever the column's type.
        write_with(std::sync::Arc::new(arrow_array::Int64Array::from(vec![Some(1_392_822_000), None])), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("row 2 has a null or unreadable timestamp") && e.contains("subset=[\"ts\"]"), "{e}");
        // Epoch seconds as 64-bit floats (pandas writes integers with a missing one so), whole or
        // with a fraction as a CSV's, and milliseconds by their size; a NaN is a missing stamp.
        let floats = |v: Vec<Option<f64>>| std::sync::Arc::new(arrow_array::Float64Array::from(v));
        write_with(floats(vec![Some(1_392_822_000.0), Some(1_392_822_600.0)]), two());
        assert_eq!(stamps(), want);
        write_with(floats(vec![Some(1_392_822_000_000.0), Some(1_392_822_600_000.0)]), two());
        assert_eq!(stamps(), want, "milliseconds");
        write_with(floats(vec![Some(1_392_822_000.5), Some(1_392_822_600.0)]), two());
        assert_eq!(stamps()[0], want[0] + chrono::Duration::milliseconds(500));
        write_with(floats(vec![Some(1_392_822_000.0), Some(f64::NAN)]), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("row 2 has a null or unreadable timestamp"), "{e}");
        // As integers, floats that are hours of the day are refused, not read as 1970.
        write_with(floats(vec![Some(13.0), Some(14.0)]), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("holds numbers (Float64) that read as epoch times before 1990"), "{e}");
        // A negative one reads as before 1970, as an integer's; an infinite one is no missing stamp.
        write_with(floats(vec![Some(-1.0), Some(1_392_822_600.0)]), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("read as epoch times before 1990 (the first: 1969-12-31 23:59:59 UTC)"), "{e}");
        write_with(floats(vec![Some(1_392_822_000.0), Some(f64::INFINITY)]), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("row 2: timestamp inf is no epoch time"), "{e}");
        // 32-bit floats hold epoch seconds of today to 128 s: refused, with what to write.
        write_with(std::sync::Arc::new(arrow_array::Float32Array::from(vec![1.392_822e9, 1.392_823e9])), two());
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("32-bit floats, which cannot hold epoch times to the second"), "{e}");
        // A file of stamps alone: a column to add, not one to rename.
        let batch = RecordBatch::try_from_iter([(
            "ts",
            std::sync::Arc::new(Int64Array::from(vec![1_392_822_000])) as ArrayRef,
        )])
        .unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(File::create(&p).unwrap(), batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("add a column named `value` with the load of each row"), "{e}");
        // Text is not a number: the error says what to write.
        write(std::sync::Arc::new(arrow_array::StringArray::from(vec!["1", "2"])));
        let e = read_parquet_samples(&p).unwrap_err().to_string();
        assert!(e.contains("value column has type Utf8") && e.contains("write the value column as a number"), "{e}");
    }

    #[test]
    fn a_parquet_timestamp_column_without_a_zone_is_watched_for_a_clock_change_as_csv_stamps_are() {
        // pandas writes local wall-clock times as `timestamp[ms]` without a zone: Berlin's spring
        // change jumps from 01:55 to 03:00.
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap().and_utc().timestamp_millis();
        let walls = ["2026-03-29 01:50", "2026-03-29 01:55", "2026-03-29 03:00", "2026-03-29 03:05"].map(at);
        let col = arrow_array::TimestampMillisecondArray::from(walls.to_vec());
        let mut st = Stamper::new(None);
        let read = stamps(&col, &mut st).unwrap();
        assert_eq!(read.iter().flatten().map(|t| t.timestamp_millis()).collect::<Vec<_>>(), walls, "read as UTC");
        assert!(st.local_clock().is_some_and(|s| s.contains("Europe/Berlin")), "{:?}", st.local_clock());
        // With the column's zone, they are instants: nothing to doubt.
        let mut st = Stamper::new(None);
        stamps(&col.clone().with_timezone("UTC"), &mut st).unwrap();
        assert_eq!(st.local_clock(), None);
    }

    #[test]
    fn local_stamps_read_as_utc_are_told_by_the_hour_their_clocks_skip_or_repeat() {
        let read = |zone: Option<chrono_tz::Tz>, stamps: &[&str]| {
            let mut st = Stamper::new(zone);
            for s in stamps {
                st.read(s).unwrap().unwrap();
            }
            st.local_clock()
        };
        // Berlin's spring change at 5 minutes, oldest and newest first.
        let spring = ["2026-03-29 01:50:00", "2026-03-29 01:55:00", "2026-03-29 03:00:00", "2026-03-29 03:05:00"];
        let said = read(None, &spring).unwrap();
        assert!(said.contains("jump from 2026-03-29 01:55 to 2026-03-29 03:00"), "{said}");
        assert!(said.contains("Europe/Berlin") && said.contains("skip an hour"), "{said}");
        assert!(said.contains("--file-time-zone Europe/"), "{said}");
        let mut newest_first = spring;
        newest_first.reverse();
        assert!(read(None, &newest_first).is_some_and(|s| s.contains("Europe/Berlin")));
        // Its autumn change: one step back, counted once (the steps after it go forward again).
        let autumn = ["2026-10-25 02:50:00", "2026-10-25 02:55:00", "2026-10-25 02:00:00", "2026-10-25 02:05:00"];
        let said = read(None, &autumn).unwrap();
        assert!(said.contains("step back from 2026-10-25 02:55 to 2026-10-25 02:00"), "{said}");
        assert!(said.contains("repeat an hour") && !said.contains("such steps"), "{said}");
        // New York's spring change, hourly.
        let said = read(None, &["2026-03-08 00:00:00", "2026-03-08 01:00:00", "2026-03-08 03:00:00"]).unwrap();
        assert!(said.contains("America/New_York"), "{said}");
        // The same steps with their zone given, or with offsets: nothing to say; an hour's gap on
        // a day no clock changes neither.
        assert_eq!(read(Some(chrono_tz::Europe::Berlin), &["2026-03-29 01:55:00", "2026-03-29 03:00:00"]), None);
        assert_eq!(
            read(None, &["2026-03-29T01:55:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:05:00+02:00"]),
            None
        );
        assert_eq!(read(None, &["2026-05-12 01:50:00", "2026-05-12 01:55:00", "2026-05-12 03:00:00"]), None);
        // A gap that is not one step and an hour (an outage from 00:20 to 02:00 UTC that day) is
        // no clock change; an hourly file's repeated stamp in Berlin's autumn hour is one.
        assert_eq!(read(None, &["2026-03-29 00:15:00", "2026-03-29 00:20:00", "2026-03-29 02:00:00"]), None);
        let hourly = ["2026-10-25 01:00:00", "2026-10-25 02:00:00", "2026-10-25 02:00:00", "2026-10-25 03:00:00"];
        assert!(read(None, &hourly).is_some_and(|s| s.contains("repeat an hour") && s.contains("Europe/Berlin")));
    }

    #[test]
    fn a_zone_for_stamps_without_an_offset_is_said_to_change_nothing_where_every_stamp_has_one() {
        let berlin = Some(chrono_tz::Europe::Berlin);
        let mut st = Stamper::new(berlin);
        for text in ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", "1704070800"] {
            st.read(text).unwrap().unwrap();
        }
        assert!(st.unused_zone().is_some_and(|w| w.contains("Europe/Berlin") && w.contains("changes nothing")));
        assert_eq!(st.mixed(), None, "every stamp an instant");
        st.read("2024-01-01 03:00:00").unwrap().unwrap();
        assert_eq!(st.unused_zone(), None, "one stamp read in the zone");
        // One stamp without an offset among those with one: the file mixes them, and says so.
        assert!(
            st.mixed().is_some_and(|w| w.starts_with("1 of its stamps carry no offset and 3 do")),
            "{:?}",
            st.mixed()
        );
        let mut utc = Stamper::new(None);
        for text in ["2024-01-01 00:00:00", "2024-01-01 01:00:00"] {
            utc.read(text).unwrap().unwrap();
        }
        assert_eq!(utc.mixed(), None, "no stamp with an offset");
        assert_eq!(Stamper::new(None).unused_zone(), None);
        // UTC written out (the default) changes nothing either way: not said every night.
        for utc in [chrono_tz::UTC, chrono_tz::Etc::UTC, chrono_tz::Etc::GMT] {
            let mut st = Stamper::new(Some(utc));
            st.read("2024-01-01T00:00:00Z").unwrap().unwrap();
            assert_eq!(st.unused_zone(), None, "{utc}");
        }
    }

    #[test]
    fn the_usual_missing_value_marks_read_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        let marks = ["", "NaN", "NA", "n/a", "#N/A", "NULL", "None"];
        let rows: String =
            marks.iter().enumerate().map(|(i, m)| format!("{},{m}\n", 1_392_822_000 + 300 * i)).collect();
        std::fs::write(&p, format!("ts,value\n{rows}1392824100,5\n")).unwrap();
        let got = read_csv_samples(&p).unwrap();
        assert_eq!(got.iter().filter(|s| s.value.is_nan()).count(), marks.len());
        assert_eq!(got.last().unwrap().value, 5.0);
        // A dash is not one of them: a value that lost its digits is an error naming its line.
        std::fs::write(&p, "ts,value\n1392822000,-\n").unwrap();
        assert!(read_csv_samples(&p).unwrap_err().to_string().contains("x.csv:2"));
    }

    #[test]
    fn a_last_line_without_its_line_end_waits_for_the_next_run() {
        // Caught while its writer was at `6` of `6415` (the file changed under a minute ago): an
        // ingest leaves it for the next run; the rows before it are read, and so is the line once
        // it ends.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "ts,value\n2014-02-19T15:00:00Z,6400\n2014-02-19T15:05:00Z,6").unwrap();
        let mut src = CsvSource::new(vec![(MetricId::new("g", "m"), p.clone())]);
        let values = |src: &mut CsvSource| src.fetch(None).unwrap()[0].1.iter().map(|s| s.value).collect::<Vec<_>>();
        assert_eq!(values(&mut src), [6400.0]);
        std::fs::write(&p, "ts,value\n2014-02-19T15:00:00Z,6400\n2014-02-19T15:05:00Z,6415\n").unwrap();
        assert_eq!(values(&mut src), [6400.0, 6415.0]);
        // A file at rest (written over a minute ago) is read whole: its writer ends no line.
        std::fs::write(&p, "ts,value\n2014-02-19T15:00:00Z,6400\n2014-02-19T15:05:00Z,6").unwrap();
        let f = File::options().write(true).open(&p).unwrap();
        f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(120)).unwrap();
        drop(f);
        assert_eq!(values(&mut src), [6400.0, 6.0]);
        // Read as a person's file (`forecast show --input`), the last line counts as it is.
        std::fs::write(&p, "ts,value\n2014-02-19T15:00:00Z,6400\n2014-02-19T15:05:00Z,6").unwrap();
        assert_eq!(read_csv_samples(&p).unwrap().len(), 2);
        // Longer than a read block, the line end is still found.
        let long: String = (0..10_000).map(|i| format!("{},{i}\n", 1_392_822_000 + 300 * i)).collect();
        std::fs::write(&p, format!("ts,value\n{long}{},1", 1_392_822_000 + 300 * 10_000)).unwrap();
        assert_eq!(values(&mut src).len(), 10_000);
    }
}
