use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// One observation as a source delivered it: any timestamp, any value (NaN and inf included).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawSample {
    /// When, in UTC.
    pub ts: DateTime<Utc>,
    /// What was measured.
    pub value: f64,
}

impl RawSample {
    /// A sample.
    pub fn new(ts: DateTime<Utc>, value: f64) -> Self {
        Self { ts, value }
    }
}

/// Values on a regular UTC grid: `values[i]` belongs to `start + i * step`.
/// A missing slot holds `NaN`; every other value is finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    start: DateTime<Utc>,
    step_secs: i64,
    values: Vec<f64>,
}

/// The step of a series of step `from` after [`Series::coarsen`] to `to`: `to` when it is a larger
/// multiple of `from`, else `from` (the series stays as it is).
pub fn coarsened_step(from: i64, to: i64) -> i64 {
    if to > from && from > 0 && to % from == 0 { to } else { from }
}

impl Series {
    /// A series on the grid `start + i * step_secs`. Non-finite values become missing (`NaN`).
    ///
    /// # Errors
    /// [`CoreError::BadStep`] when `step_secs` is not positive.
    pub fn new(start: DateTime<Utc>, step_secs: i64, mut values: Vec<f64>) -> Result<Self, CoreError> {
        if step_secs <= 0 {
            return Err(CoreError::BadStep(step_secs));
        }
        for v in &mut values {
            if !v.is_finite() {
                *v = f64::NAN;
            }
        }
        Ok(Self { start, step_secs, values })
    }

    /// Timestamp of the first slot.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }
    /// Grid step in seconds.
    pub fn step_secs(&self) -> i64 {
        self.step_secs
    }
    /// The values; `NaN` marks a missing slot.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
    /// Number of slots.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// True when there are no slots.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// Timestamp of slot `i`.
    pub fn ts(&self, i: usize) -> DateTime<Utc> {
        self.start + Duration::seconds(self.step_secs * i as i64)
    }
    /// Timestamp one step after the last slot: where a forecast starts.
    pub fn end(&self) -> DateTime<Utc> {
        self.ts(self.values.len())
    }
    /// Number of missing slots.
    pub fn missing(&self) -> usize {
        self.values.iter().filter(|v| v.is_nan()).count()
    }
    /// The runs of missing slots, in order, as index ranges.
    pub fn gaps(&self) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::new();
        let mut at = 0;
        for run in self.values.chunk_by(|a, b| a.is_nan() == b.is_nan()) {
            if run[0].is_nan() {
                out.push(at..at + run.len());
            }
            at += run.len();
        }
        out
    }
    /// Slots per day at this step (0 when the step does not divide a day).
    pub fn steps_per_day(&self) -> usize {
        if 86_400 % self.step_secs == 0 { (86_400 / self.step_secs) as usize } else { 0 }
    }
    /// The last `n` slots (all of them when `n` exceeds the length).
    pub fn tail(&self, n: usize) -> Series {
        let skip = self.values.len().saturating_sub(n);
        Series { start: self.ts(skip), step_secs: self.step_secs, values: self.values[skip..].to_vec() }
    }
    /// The slots with timestamps in `[from, to)`.
    pub fn window(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Series {
        let idx = |t: DateTime<Utc>| -> usize {
            let d = (t - self.start).num_seconds();
            if d <= 0 { 0 } else { (((d + self.step_secs - 1) / self.step_secs) as usize).min(self.values.len()) }
        };
        let (a, b) = (idx(from), idx(to).max(idx(from)));
        Series { start: self.ts(a), step_secs: self.step_secs, values: self.values[a..b].to_vec() }
    }
    /// The series averaged onto a coarser grid of `step_secs` (aligned to multiples of it since
    /// the Unix epoch): each slot is the mean of the finite values in it (missing when there are
    /// none), a partial last slot is left out. Unchanged when `step_secs` is not a larger
    /// multiple of this series' step.
    pub fn coarsen(&self, step_secs: i64) -> Series {
        if coarsened_step(self.step_secs, step_secs) == self.step_secs || self.values.is_empty() {
            return self.clone();
        }
        let block = |t: DateTime<Utc>| t.timestamp().div_euclid(step_secs);
        let first = block(self.start);
        let per = (step_secs / self.step_secs) as usize;
        let mut sums: Vec<(f64, usize, usize)> = Vec::new(); // (sum, finite values, slots)
        for (i, v) in self.values.iter().enumerate() {
            let b = (block(self.ts(i)) - first) as usize;
            if sums.len() <= b {
                sums.resize(b + 1, (0.0, 0, 0));
            }
            let e = &mut sums[b];
            e.2 += 1;
            if v.is_finite() {
                e.0 += v;
                e.1 += 1;
            }
        }
        // The last block is partial when it has fewer slots than a full one and the series ends
        // before the block does.
        if sums.last().is_some_and(|e| e.2 < per) && self.end().timestamp() % step_secs != 0 {
            sums.pop();
        }
        let start = DateTime::<Utc>::from_timestamp(first * step_secs, 0).unwrap_or(self.start);
        Series {
            start,
            step_secs,
            values: sums.iter().map(|&(sum, n, _)| if n > 0 { sum / n as f64 } else { f64::NAN }).collect(),
        }
    }
    /// The series as `(timestamp, value)` pairs, missing slots included.
    pub fn iter(&self) -> impl Iterator<Item = (DateTime<Utc>, f64)> + '_ {
        self.values.iter().enumerate().map(|(i, v)| (self.ts(i), *v))
    }
}

/// How [`regularize`] turns raw samples into a [`Series`]. It is written into the metric store
/// with the data, so that every stored point says how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GridPolicy {
    /// Gaps up to this many seconds are filled by linear interpolation between their neighbours;
    /// longer gaps stay missing (forecasters see them as missing, the planner never invents load).
    pub max_interpolate_secs: i64,
}

impl Default for GridPolicy {
    fn default() -> Self {
        Self { max_interpolate_secs: 3600 }
    }
}

impl GridPolicy {
    /// A one-line description of the policy, stored beside the data.
    pub fn describe(&self) -> String {
        format!(
            "snap=nearest-slot, denser samples per period [T,T+step) by the metric's stat (mean by default); \
             duplicates=mean; non-finite=dropped; gaps<={}s=linear; longer gaps=missing",
            self.max_interpolate_secs
        )
    }
}

/// What [`regularize`] did, for the log and for the store's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridReport {
    /// Raw samples given.
    pub samples: usize,
    /// Samples whose timestamp was not on the grid and was moved to the nearest slot.
    pub snapped: usize,
    /// When every sample was off the grid by the same amount (a clock at :02, :07, …), that
    /// offset in milliseconds: the snapping is one shift of the whole series, not a repair of each.
    #[serde(default)]
    pub offset_ms: Option<i64>,
    /// Samples merged into a slot that already had one (averaged).
    pub duplicates: usize,
    /// Samples gathered into the slot whose period holds them, when they are denser than the
    /// grid ([`Binning::Period`]); 0 when they are snapped instead.
    #[serde(default)]
    pub aggregated: usize,
    /// Slots whose samples disagreed by more than half the larger one (e.g. 10 and 100): averaged
    /// like any duplicates, but more likely two series written as one than a repeated reading.
    #[serde(default)]
    pub conflicting: usize,
    /// The first of the `conflicting` slots, to look at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_conflict: Option<DateTime<Utc>>,
    /// Samples dropped because the value was NaN or infinite.
    pub non_finite: usize,
    /// Samples that arrived out of time order (sorted; reported because a source should not do it).
    pub out_of_order: usize,
    /// Empty slots filled by linear interpolation.
    pub interpolated: usize,
    /// Empty slots left missing because their gap was too long.
    pub missing: usize,
}

/// How raw samples map onto a grid: snapped to the nearest slot, or gathered over periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binning {
    /// Each sample to its nearest slot: samples about a step apart, whose stamps jitter around
    /// the grid (a clock a few seconds late).
    Nearest,
    /// Each sample to the slot whose period `[T, T + step)` holds it, as CloudWatch aggregates:
    /// samples denser than the grid (1-minute data stored at 5 minutes). Nearest slots would
    /// centre each slot on its stamp, half a period early. `spacing_ms` is the samples' median
    /// spacing.
    Period {
        /// Median spacing of the samples' distinct stamps, in milliseconds.
        spacing_ms: i64,
    },
}

/// How the samples of one period make its slot's value, when samples are denser than the grid
/// ([`Binning::Period`]); the metric's statistic says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggregate {
    /// The mean of the samples (an average, a rate, a percentile's best stand-in).
    #[default]
    Mean,
    /// The period's total (a count per period, CloudWatch's `Sum`): the sum of its samples (a
    /// source that sends nothing for a minute without requests counts it as none).
    Sum,
    /// The largest sample.
    Max,
    /// The smallest sample.
    Min,
}

impl Aggregate {
    /// The aggregate of a CloudWatch statistic: `Sum` and `SampleCount` add up, `Maximum` and
    /// `Minimum` take the extreme, anything else (`Average`, percentiles) the mean.
    pub fn of_statistic(stat: &str) -> Self {
        match stat {
            "Sum" | "SampleCount" => Self::Sum,
            "Maximum" => Self::Max,
            "Minimum" => Self::Min,
            _ => Self::Mean,
        }
    }
}

/// The median spacing in milliseconds of the distinct stamps of the samples with a finite value
/// (`None` under two of them): how far apart a source sends its samples.
pub fn median_spacing_ms(raw: &[RawSample]) -> Option<i64> {
    let mut ms: Vec<i64> = raw.iter().filter(|s| s.value.is_finite()).map(|s| s.ts.timestamp_millis()).collect();
    ms.sort_unstable();
    ms.dedup();
    let mut d: Vec<i64> = ms.windows(2).map(|w| w[1] - w[0]).collect();
    if d.is_empty() {
        return None;
    }
    let mid = d.len() / 2;
    Some(*d.select_nth_unstable(mid).1)
}

impl Binning {
    /// [`Binning::Period`] when the samples' median spacing (of distinct stamps) is under 90 % of
    /// `step_secs` (samples at the step with jittering stamps stay [`Binning::Nearest`]).
    pub fn for_samples(raw: &[RawSample], step_secs: i64) -> Self {
        match median_spacing_ms(raw) {
            Some(median) if median * 10 < step_secs * 1000 * 9 => Self::Period { spacing_ms: median },
            _ => Self::Nearest,
        }
    }

    /// The slot (index since the Unix epoch) of an instant in milliseconds, on a grid of `step_ms`.
    pub fn slot(self, ms: i64, step_ms: i64) -> i64 {
        match self {
            Self::Nearest => (ms + step_ms / 2).div_euclid(step_ms),
            Self::Period { .. } => ms.div_euclid(step_ms),
        }
    }

    /// With [`Binning::Period`], the slots (ms since the epoch) at either end of the samples
    /// whose period they cover only in part: the first sample is a spacing or more after its
    /// slot's start, or the last a spacing or more before its slot's end (a file that starts or
    /// stops mid-period). Their value rests on part of the period only.
    pub fn partial_ends(self, raw: &[RawSample], step_secs: i64) -> Vec<i64> {
        let Self::Period { spacing_ms } = self else { return Vec::new() };
        let step_ms = step_secs * 1000;
        let finite = raw.iter().filter(|s| s.value.is_finite()).map(|s| s.ts.timestamp_millis());
        let (Some(first), Some(last)) = (finite.clone().min(), finite.max()) else { return Vec::new() };
        let mut out = Vec::new();
        if first.rem_euclid(step_ms) >= spacing_ms {
            out.push(first.div_euclid(step_ms) * step_ms);
        }
        if last.div_euclid(step_ms) * step_ms + step_ms - last > spacing_ms {
            out.push(last.div_euclid(step_ms) * step_ms);
        }
        out
    }
}

/// Puts raw samples onto the grid of `step_secs` (multiples of the step since the Unix epoch):
/// each sample goes to its nearest slot, or, when the samples are denser than the grid, to the
/// slot whose period holds it ([`Binning`]); samples sharing a slot are averaged,
/// non-finite values are dropped, and empty slots are filled or left missing according to `policy`.
///
/// # Errors
/// [`CoreError::BadStep`] for a non-positive step, [`CoreError::Empty`] when no finite sample remains.
pub fn regularize(raw: &[RawSample], step_secs: i64, policy: &GridPolicy) -> Result<(Series, GridReport), CoreError> {
    regularize_as(raw, step_secs, policy, Aggregate::Mean)
}

/// [`regularize`], with samples denser than the grid made into each slot's value by `aggregate`
/// (the metric's statistic: a count per period adds up) instead of their mean.
///
/// # Errors
/// As [`regularize`].
pub fn regularize_as(
    raw: &[RawSample],
    step_secs: i64,
    policy: &GridPolicy,
    aggregate: Aggregate,
) -> Result<(Series, GridReport), CoreError> {
    regularize_binned(raw, step_secs, policy, aggregate, Binning::for_samples(raw, step_secs))
}

/// Samples further apart than this, with nothing between them, are not one history: the grid
/// between them would be empty, and from a stray stamp (epoch 0, a wrong year) millions of slots
/// long. [`regularize`] refuses them ([`CoreError::StrayStamp`]).
pub const MAX_GAP_DAYS: i64 = 366;

/// [`regularize_as`] with the samples' [`Binning`] given (by a caller that needs it too, e.g.
/// for [`Binning::partial_ends`]): it must be `Binning::for_samples(raw, step_secs)`.
///
/// # Errors
/// As [`regularize`].
pub fn regularize_binned(
    raw: &[RawSample],
    step_secs: i64,
    policy: &GridPolicy,
    aggregate: Aggregate,
    binning: Binning,
) -> Result<(Series, GridReport), CoreError> {
    if step_secs <= 0 {
        return Err(CoreError::BadStep(step_secs));
    }
    let mut report = GridReport { samples: raw.len(), ..GridReport::default() };
    report.out_of_order = raw.windows(2).filter(|w| w[1].ts < w[0].ts).count();
    let step_ms = step_secs * 1000;
    // (slot index since epoch, value)
    let mut slots: Vec<(i64, f64)> = Vec::with_capacity(raw.len());
    // The one offset every sample shares, `Some(0)` while none is off the grid, `None` once two differ.
    let mut offset: Option<Option<i64>> = None;
    for s in raw {
        if !s.value.is_finite() {
            report.non_finite += 1;
            continue;
        }
        let ms = s.ts.timestamp_millis();
        let slot = binning.slot(ms, step_ms);
        let off = ms.rem_euclid(step_ms);
        if off != 0 && binning == Binning::Nearest {
            report.snapped += 1;
        }
        offset = match offset {
            None => Some(Some(off)),
            Some(Some(o)) if o == off => Some(Some(o)),
            _ => Some(None),
        };
        slots.push((slot, s.value));
    }
    if slots.is_empty() {
        return Err(CoreError::Empty);
    }
    report.offset_ms = offset.flatten().filter(|o| *o != 0 && binning == Binning::Nearest);
    slots.sort_by_key(|(slot, _)| *slot);
    // A grid from a stray stamp (epoch 0, a wrong year) to the rest would hold millions of
    // empty slots, or not fit in memory at all.
    if let Some(w) = slots.windows(2).find(|w| (w[1].0 - w[0].0) * step_ms > MAX_GAP_DAYS * 86_400_000) {
        // Named by the samples' own stamps on either side, not their slots (a step of years puts
        // a slot far from its sample).
        let (a, b) = (w[0].0, w[1].0);
        let stamps =
            raw.iter().filter(|s| s.value.is_finite()).map(|s| (binning.slot(s.ts.timestamp_millis(), step_ms), s.ts));
        let before = stamps.clone().filter(|(slot, _)| *slot <= a).map(|(_, t)| t).max();
        let after = stamps.filter(|(slot, _)| *slot >= b).map(|(_, t)| t).min();
        let at = |slot: i64| Utc.timestamp_millis_opt(slot * step_ms).single().unwrap_or_default();
        return Err(CoreError::StrayStamp {
            before: before.unwrap_or_else(|| at(a)),
            after: after.unwrap_or_else(|| at(b)),
        });
    }
    let first = slots[0].0;
    let last = slots[slots.len() - 1].0;
    let n = (last - first + 1) as usize;
    let mut sum = vec![0.0; n];
    let mut count = vec![0u32; n];
    let (mut lo, mut hi) = (vec![f64::INFINITY; n], vec![f64::NEG_INFINITY; n]);
    for (slot, v) in slots {
        let i = (slot - first) as usize;
        if binning != Binning::Nearest {
            report.aggregated += 1;
        } else if count[i] > 0 {
            report.duplicates += 1;
        }
        sum[i] += v;
        count[i] += 1;
        lo[i] = lo[i].min(v);
        hi[i] = hi[i].max(v);
    }
    // Samples of one period differ as load does; only repeated readings of one instant can
    // disagree (two series written as one source).
    report.conflicting = if binning != Binning::Nearest {
        let mut stamps: Vec<(i64, f64)> =
            raw.iter().filter(|s| s.value.is_finite()).map(|s| (s.ts.timestamp_millis(), s.value)).collect();
        stamps.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let groups = stamps.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1);
        let mut conflicting = 0;
        for g in groups {
            report.duplicates += g.len() - 1;
            let (lo, hi) = (g[0].1, g[g.len() - 1].1);
            if hi - lo > 0.5 * hi.abs().max(lo.abs()) {
                conflicting += 1;
                report.first_conflict = report.first_conflict.or(Utc.timestamp_millis_opt(g[0].0).single());
            }
        }
        conflicting
    } else {
        let disagrees = |i: &usize| count[*i] > 1 && hi[*i] - lo[*i] > 0.5 * hi[*i].abs().max(lo[*i].abs());
        let first_at = (0..n).find(disagrees);
        report.first_conflict = first_at.and_then(|i| Utc.timestamp_millis_opt((first + i as i64) * step_ms).single());
        first_at.map_or(0, |i| (i..n).filter(disagrees).count())
    };
    let mut values: Vec<f64> = (0..n)
        .map(|i| match (count[i], aggregate, binning) {
            (0, ..) => f64::NAN,
            (_, _, Binning::Nearest) | (_, Aggregate::Mean, _) => sum[i] / f64::from(count[i]),
            (_, Aggregate::Sum, _) => sum[i],
            (_, Aggregate::Max, _) => hi[i],
            (_, Aggregate::Min, _) => lo[i],
        })
        .collect();
    let max_gap_slots = (policy.max_interpolate_secs / step_secs).max(0) as usize;
    let (filled, left) = fill_gaps(&mut values, max_gap_slots);
    report.interpolated = filled;
    report.missing = left;
    let start = Utc.timestamp_millis_opt(first * step_ms).single().ok_or(CoreError::Empty)?;
    Ok((Series { start, step_secs, values }, report))
}

/// Linear interpolation of interior runs of NaN no longer than `max_gap`; returns (filled, left).
fn fill_gaps(values: &mut [f64], max_gap: usize) -> (usize, usize) {
    let (mut filled, mut left) = (0, 0);
    let mut i = 0;
    while i < values.len() {
        if !values[i].is_nan() {
            i += 1;
            continue;
        }
        let a = i;
        while i < values.len() && values[i].is_nan() {
            i += 1;
        }
        let len = i - a;
        // Runs touching an end have only one neighbour; they cannot occur after regularize
        // (first and last slots hold samples) but can in stored series.
        if a > 0 && i < values.len() && len <= max_gap {
            let (lo, hi) = (values[a - 1], values[i]);
            for (k, v) in values[a..i].iter_mut().enumerate() {
                let w = (k + 1) as f64 / (len + 1) as f64;
                *v = lo + (hi - lo) * w;
            }
            filled += len;
        } else {
            left += len;
        }
    }
    (filled, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::minutes(min)
    }

    #[test]
    fn coarsen_averages_finite_values_per_aligned_block_and_drops_a_partial_last_one() {
        // 1-minute slots from 00:02 to 00:14; 00:06 missing.
        let mut v: Vec<f64> = (2..15).map(f64::from).collect();
        v[4] = f64::NAN;
        let s = Series::new(t(2), 60, v).unwrap();
        let c = s.coarsen(300);
        assert_eq!((c.start(), c.step_secs()), (t(0), 300));
        // 00:00 block: 2, 3, 4; 00:05: 5, 7, 8, 9 (6 missing); 00:10: 10..=14.
        assert_eq!(c.values(), &[3.0, 7.25, 12.0]);
        // Ending at 00:12 the last block is partial and left out.
        assert_eq!(s.window(t(0), t(12)).coarsen(300).values(), &[3.0, 7.25]);
        // Not a larger multiple: unchanged (Debug, as NaN != NaN).
        assert_eq!(format!("{:?}", s.coarsen(90)), format!("{s:?}"));
        assert_eq!(format!("{:?}", s.coarsen(60)), format!("{s:?}"));
        // A block with nothing finite is missing.
        let gap = Series::new(t(0), 60, vec![f64::NAN; 5]).unwrap().coarsen(300);
        assert!(gap.values()[0].is_nan());
    }

    #[test]
    fn duplicates_are_averaged_and_order_does_not_matter() {
        let raw = [RawSample::new(t(5), 4.0), RawSample::new(t(0), 1.0), RawSample::new(t(5), 6.0)];
        let (s, r) = regularize(&raw, 300, &GridPolicy::default()).unwrap();
        assert_eq!(s.values(), &[1.0, 5.0]);
        assert_eq!(s.start(), t(0));
        assert_eq!((r.duplicates, r.out_of_order, r.offset_ms), (1, 1, None));
        // Every stamp two minutes past the grid: one offset, each sample snapped.
        let shifted: Vec<RawSample> = (0..4).map(|i| RawSample::new(t(5 * i + 2), 1.0)).collect();
        let (_, r) = regularize(&shifted, 300, &GridPolicy::default()).unwrap();
        assert_eq!((r.snapped, r.offset_ms), (4, Some(120_000)));
        // 4 and 6 are one reading twice; 10 and 100 in one slot are two series.
        assert_eq!(r.conflicting, 0);
        let raw = [RawSample::new(t(0), 10.0), RawSample::new(t(0), 100.0), RawSample::new(t(5), 7.0)];
        let (s, r) = regularize(&raw, 300, &GridPolicy::default()).unwrap();
        assert_eq!(s.values(), &[55.0, 7.0]);
        assert_eq!((r.duplicates, r.conflicting, r.first_conflict), (1, 1, Some(t(0))));
    }

    #[test]
    fn a_stray_stamp_far_from_the_rest_is_refused_not_gridded() {
        let rest: Vec<RawSample> = (0..4).map(|i| RawSample::new(t(5 * i), 1.0)).collect();
        // Epoch 0 before 2026 would be six million empty slots at 5 minutes; year 1 would not fit
        // in memory.
        for stray in ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "2099-01-01T00:00:00Z"] {
            let at = DateTime::parse_from_rfc3339(stray).unwrap().to_utc();
            let mut raw = rest.clone();
            raw.push(RawSample::new(at, 5.0));
            let e = regularize(&raw, 300, &GridPolicy::default()).unwrap_err();
            assert!(matches!(e, CoreError::StrayStamp { .. }), "{stray}: {e}");
            assert!(e.to_string().contains("days apart") && e.to_string().contains("hint:"), "{e}");
        }
        // Two samples ten years apart, on a step of that length: named by their own stamps, not
        // by the slots the epoch's grid puts them in.
        let (a, b) = (t(0) - Duration::days(3653), t(0));
        let e = regularize(&[RawSample::new(a, 5.0), RawSample::new(b, 6.0)], 3653 * 86_400, &GridPolicy::default())
            .unwrap_err();
        assert!(matches!(e, CoreError::StrayStamp { before, after } if before == a && after == b), "{e}");
        // Up to a year apart is one history with a long gap.
        let mut raw = rest.clone();
        raw.push(RawSample::new(t(0) + Duration::days(MAX_GAP_DAYS), 5.0));
        assert!(regularize(&raw, 300, &GridPolicy::default()).is_ok());
    }

    #[test]
    fn dense_samples_are_averaged_over_the_period_each_slot_begins() {
        // 1-minute samples 00:00..00:14 valued by their minute, onto a 5-minute grid: the slot of
        // 00:00 holds minutes 0–4 (as CloudWatch's 5-minute datapoint at 00:00 does), not 58–2.
        let raw: Vec<RawSample> = (0..15).map(|m| RawSample::new(t(m), m as f64)).collect();
        assert_eq!(Binning::for_samples(&raw, 300), Binning::Period { spacing_ms: 60_000 });
        let (s, r) = regularize(&raw, 300, &GridPolicy::default()).unwrap();
        assert_eq!((s.start(), s.values()), (t(0), &[2.0, 7.0, 12.0][..]));
        assert_eq!((r.aggregated, r.duplicates, r.snapped, r.offset_ms), (15, 0, 0, None));
        // Stamps 20 s late still belong to their minute's period.
        let late: Vec<RawSample> = raw.iter().map(|x| RawSample::new(x.ts + Duration::seconds(20), x.value)).collect();
        assert_eq!(regularize(&late, 300, &GridPolicy::default()).unwrap().0.values(), &[2.0, 7.0, 12.0]);
        // A count per minute adds up over the period (minutes 0–4 of slot 0 sum to 10); a minute
        // without a sample counts as none (sources send nothing for a minute without requests).
        let (s, _) = regularize_as(&raw[..14], 300, &GridPolicy::default(), Aggregate::Sum).unwrap();
        assert_eq!(s.values(), &[10.0, 35.0, 46.0]);
        // Two hosts written as one file, both every minute: their counts add up too, and
        // readings of one instant that disagree are counted as such.
        let two: Vec<RawSample> =
            raw.iter().flat_map(|x| [RawSample::new(x.ts, 10.0), RawSample::new(x.ts, 100.0)]).collect();
        let (s, r) = regularize_as(&two, 300, &GridPolicy::default(), Aggregate::Sum).unwrap();
        assert_eq!(s.values(), &[550.0, 550.0, 550.0]);
        assert_eq!((r.duplicates, r.conflicting), (15, 15));
        let (s, _) = regularize_as(&raw, 300, &GridPolicy::default(), Aggregate::Max).unwrap();
        assert_eq!(s.values(), &[4.0, 9.0, 14.0]);
        assert_eq!(Aggregate::of_statistic("SampleCount"), Aggregate::Sum);
        assert_eq!(Aggregate::of_statistic("p99"), Aggregate::Mean);
        // Starting at minute 2 and ending at minute 12: both end slots hold part of their period.
        let part = &raw[2..13];
        assert_eq!(
            Binning::for_samples(part, 300).partial_ends(part, 300),
            [t(0), t(10)].map(|x| x.timestamp_millis())
        );
        assert!(Binning::for_samples(&raw, 300).partial_ends(&raw, 300).is_empty());
        // Three-minute samples are denser than a 5-minute grid too: gathered over periods.
        let three: Vec<RawSample> = (0..10).map(|m| RawSample::new(t(3 * m), 1.0)).collect();
        assert_eq!(Binning::for_samples(&three, 300), Binning::Period { spacing_ms: 180_000 });
        // At their own step, or a step apart with jitter, samples snap to the nearest slot.
        let jitter = [RawSample::new(t(4), 1.0), RawSample::new(t(10) + Duration::seconds(20), 2.0)];
        assert_eq!(Binning::for_samples(&jitter, 300), Binning::Nearest);
        let (s, r) = regularize(&jitter, 300, &GridPolicy::default()).unwrap();
        assert_eq!((s.start(), s.len(), r.snapped, r.aggregated), (t(5), 2, 2, 0));
    }

    #[test]
    fn long_gaps_stay_missing_and_nan_is_dropped() {
        let mut raw = vec![RawSample::new(t(0), 1.0), RawSample::new(t(5), f64::NAN)];
        raw.push(RawSample::new(t(120), 2.0));
        let policy = GridPolicy { max_interpolate_secs: 600 };
        let (s, r) = regularize(&raw, 300, &policy).unwrap();
        assert_eq!(s.len(), 25);
        assert_eq!(r.non_finite, 1);
        assert_eq!(r.missing, 23);
        assert_eq!(s.missing(), 23);
        assert_eq!(
            Series::new(s.start(), 60, vec![f64::NAN, 1.0, f64::NAN, f64::INFINITY, 2.0, f64::NAN]).unwrap().gaps(),
            [0..1, 2..4, 5..6]
        );
        assert!(Series::new(s.start(), 60, vec![1.0]).unwrap().gaps().is_empty());
    }

    #[test]
    fn all_nan_is_an_error() {
        let raw = [RawSample::new(t(0), f64::NAN)];
        assert_eq!(regularize(&raw, 300, &GridPolicy::default()), Err(CoreError::Empty));
        assert_eq!(regularize(&[], 0, &GridPolicy::default()), Err(CoreError::BadStep(0)));
    }

    #[test]
    fn window_and_tail() {
        let s = Series::new(t(0), 300, (0..10).map(f64::from).collect()).unwrap();
        assert_eq!(s.window(t(10), t(20)).values(), &[2.0, 3.0]);
        assert_eq!(s.tail(3).start(), t(35));
        assert_eq!(s.end(), t(50));
    }
}
