//! Holidays for the engine's models (`Holidays` wraps any forecaster): their effect learnt from
//! the history, taken out of it before the model sees it, and put back into the forecast of the
//! holidays ahead.
//!
//! A holiday's effect is one ratio: the median over the history's holidays of each holiday's
//! typical load over the typical load of the same slots on ordinary days around it (the same
//! weekday a week before and after, else the day before and after); typical is the median, or for
//! a small count (whole numbers up to 10, whose median is one of a few values), and where both
//! medians stand on a knife edge, the mean less the highest and lowest tenth. Dividing the history's
//! holiday slots by it makes them ordinary days, so a holiday neither drags a smoothed level down
//! nor bends a profile, and the backtests see ordinary days; multiplying the forecast's holiday
//! steps (and their interval bounds) by it forecasts the holiday. A ratio, not a difference:
//! intervals are relative to the forecast's size, and a holiday's load is a share of a day's.
//! Series that can go negative keep their holidays as they are (a ratio means nothing there).
//!
//! Weekends are handled the same way, as their own kind of day: each weekend of the history gives
//! the ratio of its typical load (Saturday and Sunday, in the group's zone) to the typical load of
//! the Friday and Monday beside it. Where at least two weekends are in the history and all of them
//! lie on the same side of 1 (every weekend quieter than its weekdays, or every one busier), the
//! median ratio is the weekend effect: the history's weekends are divided by it and the forecast's
//! multiplied by it. A weekly profile needs two weeks and fits 7 × 24 slots to them; this is one
//! number that two weekends can show, and that every model, the medians included, then respects.
//! Where the weekends disagree (no weekly cycle, or an incident on one of them) nothing changes.
//! A history with a single weekend that gives a ratio (five days to under two weeks, or a longer
//! one whose other weekends were holidays) cannot show agreement: its one
//! ratio is taken halfway, as its square root (half the effect in log terms: one weekend is as
//! much evidence as the prior of no weekend effect at all). A weekend's load against one
//! Friday, or a Monday after a holiday, is a rough measure, and the level of the next week
//! rests on it: taken whole it made forecasts after a weekend far worse on real traffic, while
//! ignoring it leaves every Monday forecast at Sunday's level.
//! A holiday on a weekend is both: the weekend's ratio times the holiday's, which is a share of
//! an ordinary day of its own weekday.
//!
//! Where two weekends or more agree, the weekend also gets a shape over the day: per local hour,
//! its load over the weekdays' beside it, relative to the ratio (pooled with the hour either side,
//! shrunk towards 1 by the weekends' number, see `weekend_shape`). Traffic with commute peaks on
//! weekdays and a flat weekend is then forecast as a flat weekend, not a weekday scaled down.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::Duration;
use prescale_core::{Forecast, Series};

use crate::flags::Flags;
use crate::point::median;
use crate::transform::Bounds;
use crate::{FittedModel, ForecastError, Forecaster, Rewrite, Rewritten};

/// A holiday on a weekday or on a weekend (Saturday or Sunday at the middle of its span, in the
/// zone of [`SpecialDays`]):
/// a holiday changes a weekday's load far more than a Sunday's, so each kind has its own ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayKind {
    /// Monday to Friday.
    Weekday,
    /// Saturday or Sunday.
    Weekend,
}

impl DayKind {
    fn label(self) -> &'static str {
        match self {
            DayKind::Weekday => "weekday",
            DayKind::Weekend => "weekend",
        }
    }

    /// The ordinary day a holiday of this kind is compared with.
    fn ordinary_day(self) -> &'static str {
        match self {
            DayKind::Weekday => "weekday",
            DayKind::Weekend => "weekend day",
        }
    }
}

/// What sets a slot's day apart from an ordinary weekday: a holiday (of its kind), a weekend, or
/// both (a holiday on a Saturday).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Day {
    /// The holiday the slot is in, if any.
    pub holiday: Option<DayKind>,
    /// Whether the slot is on a Saturday or Sunday (when weekends are learnt at all).
    pub weekend: bool,
    /// The local hour (0–23) of the slot's middle, for the weekend's shape over the day.
    pub hour: u8,
}

impl Day {
    /// Neither a holiday nor a weekend.
    pub fn ordinary(self) -> bool {
        self.holiday.is_none() && !self.weekend
    }
}

/// The kind of the holiday at `secs`, if `secs` is in one: by the local weekday (at `offset`
/// seconds from UTC) of the holiday's middle.
fn kind_at(flags: &Flags, secs: i64, offset: i64) -> Option<DayKind> {
    let (a, b) = flags.holiday_span(secs)?;
    Some(if is_weekend(a + (b - a) / 2 + offset) { DayKind::Weekend } else { DayKind::Weekday })
}

/// Whether local time `secs` (seconds since the epoch, shifted by the zone's offset) is on a
/// Saturday or Sunday. Day 0, 1970-01-01, was a Thursday: five days after a Saturday.
pub(crate) fn is_weekend(secs: i64) -> bool {
    (secs.div_euclid(86_400) + 5).rem_euclid(7) < 2
}

/// One kind's learnt effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ratio {
    /// A holiday's load over an ordinary day's of the same weekday; a weekend's over the weekdays
    /// beside it.
    pub ratio: f64,
    /// The holidays (or weekends) of the history it was learnt from.
    pub learnt_from: usize,
}

/// What one fit learnt about holidays, per kind of day, and about weekends.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct HolidayEffect {
    /// From holidays on weekdays.
    pub weekday: Option<Ratio>,
    /// From holidays on weekends.
    pub weekend: Option<Ratio>,
    /// From ordinary weekends, against the weekdays beside them (when they agree, see the module).
    pub weekends: Option<Ratio>,
    /// Per local hour, the weekend's load over the weekdays' beside it, relative to `weekends`'
    /// ratio: a weekend whose day runs another shape (no commute peaks) is not a weekday scaled.
    pub weekend_shape: Option<[f64; 24]>,
}

impl HolidayEffect {
    /// The effect for a holiday of `kind`, when the history held one to learn it from.
    pub fn of(&self, kind: DayKind) -> Option<Ratio> {
        match kind {
            DayKind::Weekday => self.weekday,
            DayKind::Weekend => self.weekend,
        }
    }

    /// A slot's load over an ordinary weekday's: the weekend's ratio (where learnt) times the
    /// holiday's (where learnt; a holiday's ratio is to an ordinary day of its own weekday).
    pub fn factor(&self, day: Day) -> f64 {
        let shape = |s: [f64; 24]| s[usize::from(day.hour) % 24];
        let weekend = if day.weekend {
            self.weekends.map_or(1.0, |r| r.ratio * self.weekend_shape.map_or(1.0, shape))
        } else {
            1.0
        };
        let holiday = day.holiday.and_then(|k| self.of(k)).map_or(1.0, |r| r.ratio);
        weekend * holiday
    }
}

/// Bounds on the ratio: a "holiday" a fiftieth or fifty times an ordinary day is a data error.
const RATIO_RANGE: (f64, f64) = (0.02, 50.0);

/// Runs of consecutive slots with the same `Some` key (each `(start, end, key)`, end exclusive).
fn runs<K: Copy + PartialEq>(keys: impl IntoIterator<Item = Option<K>>) -> Vec<(usize, usize, K)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, K)> = None;
    // A `None` after the last slot closes the last run.
    for (i, key) in keys.into_iter().chain(std::iter::once(None)).enumerate() {
        if let Some((s, k0)) = open
            && key != Some(k0)
        {
            out.push((s, i, k0));
            open = None;
        }
        if open.is_none() {
            open = key.map(|k| (i, k));
        }
    }
    out
}

/// Learns the holidays' and weekends' effect from the history `y` of `steps_per_day` steps a day,
/// whose slots fall on the days `days` ([`SpecialDays::ahead`] from its first slot), per kind of
/// day: `None` when no holiday of at least half a day lies in it with ordinary days around it, no
/// two weekends agree and there is more than one (see the module), or the series is not positive there.
///
/// Weekends first, each (holidays left out) against the ordinary weekdays beside it. Holidays then
/// on the history with the learnt weekends taken out, each against the days around it that are no
/// holidays, the same weekday a week away where the history has it, else a day away; where no
/// weekend ratio was learnt, only days of the same sort (weekend or weekday) count. So a Saturday
/// holiday's ratio is to an ordinary Saturday's, whether the weekends were learnt or not.
pub(crate) fn learn(y: &[f64], steps_per_day: usize, days: &[Day]) -> Option<HolidayEffect> {
    let m = steps_per_day.max(1);
    // Of the history as measured: once weekends are divided out, its counts are fractions.
    let discrete = small_count(y);
    let weekend_runs = spans(runs(days.iter().map(|d| (d.weekend && d.holiday.is_none()).then_some(()))));
    let weekends = run_ratios(y, m, &weekend_runs, discrete, |_, j| days[j].ordinary());
    let agree = weekends.len() >= 2 && (weekends.iter().all(|r| *r < 1.0) || weekends.iter().all(|r| *r > 1.0));
    let weekends = match weekends.as_slice() {
        [one] if single_weekend_stands_out(y, m, days, &weekend_runs, discrete, *one) => ratio(&[one.sqrt()]),
        [_] => None,
        _ if agree => ratio(&weekends),
        _ => None,
    };
    let weekend_shape = weekends.filter(|r| r.learnt_from >= 2).and_then(|r| weekend_shape(y, m, days, r));
    let plain = HolidayEffect { weekends, weekend_shape, ..HolidayEffect::default() };
    let learnt = weekends.is_some();
    let y: Cow<[f64]> = if learnt { Cow::Owned(remove(y, days, plain)) } else { Cow::Borrowed(y) };
    let holiday_runs = runs(days.iter().map(|d| d.holiday));
    let holidays = |kind: DayKind| {
        let of_kind = spans(holiday_runs.iter().copied().filter(|r| r.2 == kind));
        ratio(&run_ratios(&y, m, &of_kind, discrete, |i, j| {
            days[j].holiday.is_none() && (learnt || days[j].weekend == days[i].weekend)
        }))
    };
    let effect = HolidayEffect {
        weekday: holidays(DayKind::Weekday),
        weekend: holidays(DayKind::Weekend),
        weekends,
        weekend_shape,
    };
    (effect != HolidayEffect::default()).then_some(effect)
}

/// The weekend's shape over the day ([`HolidayEffect::weekend_shape`]) from `r.learnt_from`
/// agreeing weekends: per local hour (pooled with the hour either side), the mean load of the
/// ordinary weekend slots over that of the ordinary weekday slots a day before or after them,
/// over `r`'s ratio, shrunk towards 1 by the weekends' number (`n` weekends: the power
/// `(n − 1) / n`, half the shape from two) and held within ¼–4. Values beyond the series' own
/// extremes ([`incident_bounds`]) count at those bounds: one incident on a Saturday night (a
/// 500× spike) is no shape of the weekend's. None where an hour has no weekday load to compare
/// with, or the series steps by more than an hour.
fn weekend_shape(y: &[f64], m: usize, days: &[Day], r: Ratio) -> Option<[f64; 24]> {
    if m < 24 || r.ratio <= 0.0 {
        return None;
    }
    let (lo, hi) = incident_bounds(y)?;
    let (mut own, mut other) = ([(0.0, 0usize); 24], [(0.0, 0usize); 24]);
    for i in 0..y.len().min(days.len()) {
        if !(days[i].weekend && days[i].holiday.is_none() && y[i].is_finite()) {
            continue;
        }
        let h = usize::from(days[i].hour) % 24;
        own[h] = (own[h].0 + y[i].clamp(lo, hi), own[h].1 + 1);
        for j in [i.checked_sub(m), Some(i + m)].into_iter().flatten() {
            if j < y.len() && j < days.len() && days[j].ordinary() && y[j].is_finite() {
                other[h] = (other[h].0 + y[j].clamp(lo, hi), other[h].1 + 1);
            }
        }
    }
    let mean = |a: &[(f64, usize); 24], h: usize| {
        let (s, n) = [23, 0, 1].iter().map(|d| a[(h + d) % 24]).fold((0.0, 0), |(s, n), (x, k)| (s + x, n + k));
        (n > 0).then(|| s / n as f64)
    };
    let power = (r.learnt_from as f64 - 1.0) / r.learnt_from as f64;
    let mut shape = [1.0; 24];
    for (h, v) in shape.iter_mut().enumerate() {
        let (a, b) = (mean(&own, h)?, mean(&other, h)?);
        if !(b > 0.0 && a >= 0.0) {
            return None;
        }
        *v = ((a / b / r.ratio).max(1e-9).powf(power)).clamp(0.25, 4.0);
    }
    Some(shape)
}

/// Where a value of `y` stops being load and becomes an incident: beyond the 1st and 99th
/// percentiles by twice their distance from the median, and by the median's size at least (a
/// flat series keeps a rare burst of up to twice its level). A bursty series keeps its bursts
/// (they make its 99th percentile); a one-off spike hundreds of times the load does not count.
fn incident_bounds(y: &[f64]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = y.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| crate::point::quantile_sorted(&v, p);
    let (low, mid, high) = (q(0.01), q(0.5), q(0.99));
    let floor = mid.abs();
    Some((low - (2.0 * (mid - low)).max(floor), high + (2.0 * (high - mid)).max(floor)))
}

/// Whether the history's one weekend (ratio `one` to the weekdays beside it) differs from them
/// as a weekend would: against the weekday before it and against the one after it (each where
/// the history has it) it lies on the same side as `one`, and further than any two successive
/// weekdays lie apart ([`weekday_swing`]). A level shift on the weekend is higher than the
/// Friday and lower than the Monday: no weekend effect.
fn single_weekend_stands_out(
    y: &[f64],
    m: usize,
    days: &[Day],
    runs: &[(usize, usize)],
    discrete: bool,
    one: f64,
) -> bool {
    let swing = weekday_swing(y, m, days);
    let before = run_ratios(y, m, runs, discrete, |i, j| j < i && days[j].ordinary());
    let after = run_ratios(y, m, runs, discrete, |i, j| j > i && days[j].ordinary());
    before.iter().chain(&after).all(|r| (r.ln() * one.ln()) > 0.0 && r.ln().abs() > swing) && one.ln().abs() > swing
}

/// How far apart two successive ordinary weekdays' loads lie at most, as |ln| of the ratio of
/// their medians (each day the `m` slots from the start of a run of ordinary days): a single
/// weekend's ratio is believed only beyond it. Infinite with no two such days.
fn weekday_swing(y: &[f64], m: usize, days: &[Day]) -> f64 {
    let mut swing = f64::INFINITY;
    for (s, e) in spans(runs(days.iter().map(|d| d.ordinary().then_some(())))) {
        let medians: Vec<f64> = (s..e)
            .step_by(m)
            .filter(|a| a + m <= e)
            .map(|a| median(&y[a..a + m].iter().copied().filter(|v| v.is_finite()).collect::<Vec<_>>()))
            .collect();
        for w in medians.windows(2).filter(|w| w[0] > 0.0 && w[1] > 0.0) {
            let r = (w[1] / w[0]).ln().abs();
            swing = if swing.is_finite() { swing.max(r) } else { r };
        }
    }
    swing
}

/// The `(start, end)` of each run.
fn spans<K>(runs: impl IntoIterator<Item = (usize, usize, K)>) -> Vec<(usize, usize)> {
    runs.into_iter().map(|(s, e, _)| (s, e)).collect()
}

/// The median of `r` and how many it holds, when there is one.
fn ratio(r: &[f64]) -> Option<Ratio> {
    (!r.is_empty()).then(|| Ratio { ratio: median(r), learnt_from: r.len() })
}

/// One ratio per run (at least half a day long): its median load over the median load of the
/// slots `j` around it that are `ordinary(i, j)` for its slot `i`, the same slots a week away,
/// else a day away (a week away from a weekend is another weekend: its weekdays are the day
/// before and after). None for a run with nothing around it, or where the loads are not positive.
/// For a small count ([`small_count`]), or where both medians stand on a knife edge
/// ([`on_edge`]), the ratio of the loads' means less their highest and lowest tenth
/// ([`trimmed_mean`]).
fn run_ratios(
    y: &[f64],
    m: usize,
    runs: &[(usize, usize)],
    discrete: bool,
    ordinary: impl Fn(usize, usize) -> bool,
) -> Vec<f64> {
    let n = y.len();
    let ordinary = |i: usize, j: usize| j < n && ordinary(i, j) && y[j].is_finite();
    runs.iter()
        .filter(|(s, e)| e - s >= m.div_ceil(2))
        .filter_map(|&(s, e)| {
            let own: Vec<f64> = y[s..e].iter().copied().filter(|v| v.is_finite()).collect();
            let around = |lag: usize| -> Vec<f64> {
                (s..e)
                    .flat_map(|i| [i.checked_sub(lag), Some(i + lag)].into_iter().flatten().map(move |j| (i, j)))
                    .filter(|&(i, j)| ordinary(i, j))
                    .map(|(_, j)| j)
                    .map(|j| y[j])
                    .collect()
            };
            let mut reference = around(7 * m);
            if reference.len() < (e - s) / 2 {
                reference = around(m);
            }
            if own.is_empty() || reference.is_empty() {
                return None;
            }
            let of = |a: f64, b: f64| (a >= 0.0 && b > 0.0).then(|| (a / b).clamp(RATIO_RANGE.0, RATIO_RANGE.1));
            // A small count (0, 1, 2, …) has medians that are one of its few values (0 against 1
            // for a weekend of fewer ones): their ratio says nothing. Nor where both
            // medians sit on a knife edge. The trimmed means' then; elsewhere one steady median is
            // information (a weekend closed most of its hours).
            if discrete || (on_edge(&own) && on_edge(&reference)) {
                of(trimmed_mean(&own, LOAD_TRIM), trimmed_mean(&reference, LOAD_TRIM))
            } else {
                of(median(&own), median(&reference))
            }
        })
        .collect()
}

/// `y` with each slot divided by its day's factor ([`HolidayEffect::factor`]): ordinary weekdays.
pub(crate) fn remove(y: &[f64], days: &[Day], effect: HolidayEffect) -> Vec<f64> {
    y.iter().zip(days).map(|(v, d)| v / effect.factor(*d)).collect()
}

/// Which days are special: the holidays of a calendar, and weekends (Saturday and Sunday at this
/// offset from UTC in seconds, e.g. 3600 for UTC+1), each when given.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpecialDays {
    /// The holidays; events in them are ignored (the planner applies events).
    pub flags: Option<Arc<Flags>>,
    /// Weekends, at this offset from UTC.
    pub weekends: Option<i64>,
}

impl SpecialDays {
    /// The day of the slot starting at `secs`, `step_secs` long, judged by its middle (a daily
    /// slot at a negative offset is the local day it mostly covers): its holiday, and whether it
    /// is a weekend. Without weekends the holidays' kind is judged in UTC.
    pub fn at(&self, secs: i64, step_secs: i64) -> Day {
        let middle = secs + step_secs.max(0) / 2;
        let offset = self.weekends.unwrap_or(0);
        let holiday = self.flags.as_deref().and_then(|f| kind_at(f, middle, offset));
        let hour = u8::try_from((middle + offset).rem_euclid(86_400) / 3600).unwrap_or(0);
        Day { holiday, weekend: self.weekends.is_some() && is_weekend(middle + offset), hour }
    }

    /// The days of the slots of a series or forecast starting at `start_secs`, one per step.
    pub fn ahead(&self, start_secs: i64, step_secs: i64, horizon: usize) -> Vec<Day> {
        (0..horizon).map(|h| self.at(start_secs + h as i64 * step_secs, step_secs)).collect()
    }
}

/// The model id of a fit of `inner` that learnt the weekend ratio `r` (the ratio itself is
/// [`Forecast::weekend_ratio`]).
fn weekends_id(r: f64, inner: &str) -> String {
    format!("weekends({r:.2}):{inner}")
}

/// How far ahead of a fit a holiday is announced in its warnings: the default horizon.
const ANNOUNCE_HOURS: i64 = 48;

/// A forecaster with holidays and weekends: the history's special days divided by their learnt
/// ratio before `inner` fits it, the forecast's special steps multiplied by it (and clipped to
/// `bounds`). A history with nothing to learn from (or with negative values) is fitted as it is,
/// and a holiday within the next 48 h is then forecast as an ordinary day, with a warning that
/// says so.
#[derive(Debug)]
pub(crate) struct Holidays {
    /// The model (with its transform, if any).
    pub inner: Box<dyn Forecaster>,
    /// The holidays and the weekends' zone.
    pub days: SpecialDays,
    /// Physical bounds, applied again after a ratio.
    pub bounds: Bounds,
}

/// The level of the day of `m` steps ending at `end` in `y`: the mean of its finite values less
/// their highest and lowest tenth (a glitch in it, a value 1000 × the rest, is no change of level).
/// `None` on a holiday, or where half its values or more are missing.
fn day_level(y: &[f64], m: usize, days: &[Day], end: usize) -> Option<f64> {
    let span = end - m..end;
    if days[span.clone()].iter().any(|d| d.holiday.is_some()) {
        return None;
    }
    let v: Vec<f64> = y[span].iter().copied().filter(|v| v.is_finite()).collect();
    (v.len() * 2 > m).then(|| trimmed_mean(&v, 0.1))
}

/// The ratio of the last day of `y` (its last `m` steps, no holiday) to the same weekday one, two
/// and three weeks before it (those of them in the history and not holidays, two at least), when
/// it stands out as an unannounced holiday or an incident day would: below ⅔ or above 1½ of their
/// median, and further from every one of them than a quarter. A week's ordinary wander stays
/// inside. Days are compared by their mean load less its highest and lowest tenth (a median of a
/// day idle half the time is any value of its ramp; a whole mean follows one glitch).
fn last_day_stands_out(y: &[f64], m: usize, days: &[Day]) -> Option<f64> {
    let n = y.len();
    if m == 0 || n < 15 * m || days.len() != n {
        return None;
    }
    let level = |end: usize| day_level(y, m, days, end);
    let last = level(n)?;
    let before: Vec<f64> =
        (1..=3).filter_map(|w| n.checked_sub(7 * w * m).filter(|e| *e >= m)).filter_map(level).collect();
    if before.len() < 2 || last <= 0.0 || before.iter().any(|b| *b <= 0.0) {
        return None;
    }
    let r = last / crate::point::median(&before);
    let low = r < 2.0 / 3.0 && before.iter().all(|b| last * 1.25 < *b);
    let high = r > 1.5 && before.iter().all(|b| *b * 1.25 < last);
    (low || high).then_some(r)
}

/// Whole days before the last one (which [`last_day_stands_out`] judges) that ran at under a
/// third of the same weekday in every other week of `y` (at least two, each over three times the
/// day's level): an outage, a stopped agent, traffic moved away for a day. Their backtest errors
/// and level changes widen the intervals above and below alike, and so the floors, while they
/// are in the history. `(end of the day in y, ratio to the median of the others)`, the most
/// recent first; a configured holiday is none.
fn outage_days(y: &[f64], m: usize, days: &[Day]) -> Vec<(usize, f64)> {
    let n = y.len();
    if m == 0 || n < 15 * m || days.len() != n {
        return Vec::new();
    }
    let level = |end: usize| day_level(y, m, days, end);
    let whole = n / m;
    let mut found = Vec::new();
    // Days counted back from the end: the last one is judged elsewhere.
    for back in 1..whole {
        let end = n - back * m;
        let Some(day) = level(end) else { continue };
        let others: Vec<f64> = (1..=whole / 7 + 1)
            .flat_map(|w| [end.checked_sub(7 * w * m), end.checked_add(7 * w * m)])
            .flatten()
            .filter(|e| *e >= m && *e <= n)
            .filter_map(level)
            .collect();
        if others.len() < 2 || others.iter().any(|o| *o <= 0.0) || day < 0.0 {
            continue;
        }
        let r = day / crate::point::median(&others);
        if r < 1.0 / 3.0 && others.iter().all(|o| day * 3.0 < *o) {
            found.push((end, r));
        }
    }
    found
}

/// The mean of the finite values of `v` less the highest and lowest `share` of them: robust to a
/// few incidents as a median is, without a median's jumps where most values are equal (a count of
/// 0 or 1, a day idle half the time: its median is any value of its ramp). NaN with none.
fn trimmed_mean(v: &[f64], share: f64) -> f64 {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let cut = ((v.len() as f64 * share) as usize).min(v.len().saturating_sub(1) / 2);
    let kept = &v[cut..v.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Whether `y` is a small count: all but a twentieth of its finite values whole numbers from 0 to
/// [`SMALL_COUNT`] (jobs, errors, orders per step at a low rate), whose medians jump between a few
/// values; a burst above it or a gap filled between two counts does not change that. A count
/// averaged over `k` periods (1-minute counts stored as 5-minute means: multiples of 0.2) is one
/// too, for the `k` of [`AVERAGED_OVER`].
fn small_count(y: &[f64]) -> bool {
    let finite: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
    !finite.is_empty()
        && AVERAGED_OVER.iter().any(|&k| {
            let k = f64::from(k);
            let whole = finite
                .iter()
                .filter(|v| (0.0..=SMALL_COUNT).contains(*v) && ((*v * k) - (*v * k).round()).abs() < 1e-6)
                .count();
            whole * 20 >= finite.len() * 19
        })
}

/// The periods a [`small_count`] may be averaged over: a 5-minute step's minutes, a 15-minute
/// step's 5 minutes, an hour's 5-minute steps, and the like. Not 10 or 11: any gauge to one
/// decimal would read as tenths of a count.
const AVERAGED_OVER: [u8; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 12];

/// The highest value of a [`small_count`].
const SMALL_COUNT: f64 = 10.0;

/// Whether the median of `v` stands on a knife edge: its 40th and 60th percentiles lie apart by
/// more than half the larger of them (0 and 1 for a count of zeros and ones near half and half;
/// a few percent apart on a load that varies smoothly).
fn on_edge(v: &[f64]) -> bool {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return false;
    }
    v.sort_by(f64::total_cmp);
    let (a, b) = (crate::point::quantile_sorted(&v, 0.4), crate::point::quantile_sorted(&v, 0.6));
    b - a > 0.5 * a.abs().max(b.abs())
}

/// Trimmed off each end of the loads a weekend's ratio compares where their medians cannot
/// ([`run_ratios`]): a tenth, as a day's level is judged (on counts of 0 and 1, a wider trim
/// stretches their difference: a quarter off each end reads 11 / 13 as 0.71).
const LOAD_TRIM: f64 = 0.1;

/// What a fit's holidays and weekends do to its inner model's forecasts.
#[derive(Debug)]
struct PutBack {
    days: SpecialDays,
    effect: Option<HolidayEffect>,
    bounds: Bounds,
}

impl Forecaster for Holidays {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError> {
        // The bounds are judged on the history as measured: a weekend divided by its ratio may
        // pass the metric's maximum without any value having done so (the inner model is built
        // without that maximum; the forecast is clipped to it once the ratio is put back).
        let mut bounds_warnings = Vec::new();
        let clipped = crate::transform::within_bounds(history, &self.bounds, &mut bounds_warnings)?;
        let history = clipped.as_ref().unwrap_or(history);
        let values = history.values();
        let positive = values.iter().filter(|v| v.is_finite()).all(|v| *v >= 0.0);
        // A step that does not divide the day has no days to compare.
        let whole_days = history.steps_per_day() >= 1;
        // The history's days, where they can tell anything: for the effects and the last day.
        let days = (positive && whole_days)
            .then(|| self.days.ahead(history.start().timestamp(), history.step_secs(), values.len()));
        let effect = days.as_deref().and_then(|days| learn(values, history.steps_per_day(), days));
        let inner = match (effect, &days) {
            (Some(e), Some(days)) => {
                let series = Series::new(history.start(), history.step_secs(), remove(values, days, e))
                    .map_err(|e| ForecastError::Model(format!("holidays: {e}")))?;
                self.inner.fit(&series)?
            }
            _ => self.inner.fit(history)?,
        };
        let mut warnings = bounds_warnings;
        warnings.extend(inner.warnings());
        // Under two weeks the engine fits no weekly season; a weekend ratio is still learnt where
        // two weekends agree (or from one, halfway), and the warning says so.
        if let Some(r) = effect.and_then(|e| e.weekends) {
            for w in warnings.iter_mut().filter(|w| w.ends_with(crate::engine::DAILY_ONLY)) {
                w.push_str(&if r.learnt_from == 1 {
                    // Decimals enough to tell the half from the whole (0.995 and 0.99, not 0.99 twice).
                    let whole = r.ratio * r.ratio;
                    let hundredths = |x: f64| (x * 100.0).round();
                    let d =
                        if hundredths(r.ratio) == hundredths(whole) || (r.ratio - 1.0).abs() < 0.01 { 3 } else { 2 };
                    format!(
                        ", and weekends at {:.d$} × the weekdays beside them, half the effect of the history's one \
                         weekend ({whole:.d$})",
                        r.ratio
                    )
                } else {
                    format!(
                        ", and weekends at {:.2} × the weekdays beside them, as {} weekends agreed",
                        r.ratio, r.learnt_from
                    )
                });
            }
        }
        let step = history.step_secs().max(1);
        if let Some(days) = &days {
            // The last whole day in the group's zone (the holidays' and weekends' days).
            let (m, offset) = (history.steps_per_day(), self.days.weekends.unwrap_or(0));
            let local = (history.start().timestamp() + offset).div_euclid(step);
            let first = usize::try_from((-local).rem_euclid(m as i64)).unwrap_or(0);
            // No whole day (a history under a day, or one that does not reach a midnight): nothing to compare.
            let whole = values.len().saturating_sub(first) / m.max(1) * m;
            let end = first + whole;
            if let Some(r) = (whole > 0).then(|| last_day_stands_out(&values[..end], m, &days[..end])).flatten() {
                let day = history.start() + Duration::seconds((end - m) as i64 * step + offset);
                warnings.push(format!(
                    "the history's last day ({}) ran at {r:.2} × the load of the same weekday in the weeks before: \
                     the forecast moves towards it (its models weigh it as a change of level, each as far as its \
                     backtests trust it). If it was a holiday, add it to [forecast] \
                     holidays (forecast show: --holidays {}) and the days after it are forecast as ordinary ones",
                    day.format("%A %Y-%m-%d"),
                    day.format("%Y-%m-%d")
                ));
            }
            // Earlier days far below their weekday: said, the three most recent, with how to keep
            // them out of the fits.
            let outages = if whole > 0 { outage_days(&values[..end], m, &days[..end]) } else { Vec::new() };
            for (day_end, r) in outages.iter().take(3) {
                let start = history.start() + Duration::seconds((*day_end - m) as i64 * step);
                let stop = start + Duration::days(1);
                let local = start + Duration::seconds(offset);
                warnings.push(format!(
                    "the history's {} ran at {r:.2} × the load of the same weekday in its other weeks: an outage, or \
                     traffic moved away that day? Its backtest errors widen the intervals, above as below, and so \
                     the floors, while it is in the history. If it was an incident, record it as a past event: \
                     `prescale event add --group GROUP --name outage --start {} --end {} --multiplier 1` keeps its \
                     hours out of the fits{}",
                    local.format("%A %Y-%m-%d"),
                    start.format("%Y-%m-%dT%H:%M:%SZ"),
                    stop.format("%Y-%m-%dT%H:%M:%SZ"),
                    if outages.len() > 3 { format!(" ({} more such days)", outages.len() - 3) } else { String::new() }
                ));
            }
        }
        let next = self.days.ahead(history.end().timestamp(), step, (ANNOUNCE_HOURS * 3600 / step) as usize);
        if let Some((first, kind)) = next.iter().enumerate().find_map(|(h, d)| d.holiday.map(|k| (h, k))) {
            let when = (history.end() + Duration::seconds(first as i64 * step)).format("%Y-%m-%d %H:%M UTC");
            warnings.push(match effect.and_then(|e| e.of(kind)) {
                Some(r) => format!(
                    "holiday ahead from {when}: forecast at {:.2} × an ordinary {}'s load, as learnt from {} {} \
                     holiday{} in the history",
                    r.ratio,
                    kind.ordinary_day(),
                    r.learnt_from,
                    kind.label(),
                    if r.learnt_from == 1 { "" } else { "s" }
                ),
                None if !positive => format!(
                    "holiday ahead from {when}: forecast as an ordinary day (a series with negative values has no \
                     holiday ratio)"
                ),
                None => format!(
                    "holiday ahead from {when}: forecast as an ordinary {}, since the history holds no {} holiday \
                     to learn its effect from (`prescale event add` shapes a known day)",
                    kind.ordinary_day(),
                    kind.label()
                ),
            });
        }
        let id = match effect.and_then(|e| e.weekends) {
            Some(r) => weekends_id(r.ratio, &inner.model_id()),
            None => inner.model_id(),
        };
        let rewrite = PutBack { days: self.days.clone(), effect, bounds: self.bounds };
        Ok(Box::new(Rewritten { inner, id, warnings, rewrite }))
    }
}

impl Rewrite for PutBack {
    /// A holiday's or weekend's load is its factor's share of an ordinary weekday's, and so are
    /// its interval bounds (the engine's intervals are relative to the forecast's size).
    /// Every step is clipped to the bounds: the inner model was fitted without the maximum.
    fn rewrite(&self, mut f: Forecast) -> Result<Forecast, ForecastError> {
        let clip = |f: Forecast| -> Result<Forecast, ForecastError> {
            if self.bounds.is_none() { Ok(f) } else { Ok(f.map_values(|_, x| self.bounds.clip(x))?) }
        };
        let Some(effect) = self.effect else { return clip(f) };
        f.weekend_ratio = effect.weekends.map(|r| r.ratio);
        let factors: Vec<f64> = self
            .days
            .ahead(f.start.timestamp(), f.step_secs, f.point.len())
            .into_iter()
            .map(|d| effect.factor(d))
            .collect();
        if factors.iter().all(|r| *r == 1.0) {
            return clip(f);
        }
        Ok(f.map_values(|i, x| self.bounds.clip(x * factors[i]))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::{Calendar, Clock};

    const DAY: i64 = 86_400;
    /// 1970-01-05, a Monday, in days since the epoch.
    const MONDAY: i64 = 4;

    fn cal(start_day: i64) -> Calendar {
        Calendar { steps_per_day: 24, clock: Some(Clock { start_secs: start_day * DAY, step_secs: 3600 }) }
    }

    /// Three weeks of hourly load from a Monday with a daily shape; `holidays` (day indices from
    /// that Monday, with their share of an ordinary day's load).
    fn series(holidays: &[(i64, f64)]) -> Vec<f64> {
        (0..21 * 24)
            .map(|t| {
                let base = 100.0 + 30.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
                holidays.iter().find(|(d, _)| *d == (t / 24) as i64).map_or(base, |(_, share)| base * share)
            })
            .collect()
    }

    /// The holidays of a calendar alone.
    fn holidays(flags: &Flags) -> SpecialDays {
        SpecialDays { flags: Some(Arc::new(flags.clone())), weekends: None }
    }

    /// The holidays of the slots of `y` placed by `cal` (none off the clock).
    fn slots(n: usize, cal: Calendar, flags: &Flags) -> Vec<Day> {
        cal.clock.map_or_else(|| vec![Day::default(); n], |c| holidays(flags).ahead(c.start_secs, c.step_secs, n))
    }

    /// [`learn`] on the slots of `y` placed by `cal`.
    fn learnt(y: &[f64], cal: Calendar, flags: &Flags) -> Option<HolidayEffect> {
        learn(y, cal.steps_per_day, &slots(y.len(), cal, flags))
    }

    fn flags(days: &[i64]) -> Flags {
        let span = |d: &i64| ((MONDAY + d) * DAY, (MONDAY + d + 1) * DAY);
        Flags::new(days.iter().map(span).collect(), vec![(0, 30 * DAY)])
    }

    #[test]
    fn learns_a_ratio_per_kind_of_day_and_removes_it_from_the_history() {
        // Two Wednesdays at 0.4 of a Wednesday, a Saturday at 0.9 of a Saturday.
        let y = series(&[(2, 0.4), (9, 0.4), (12, 0.9)]);
        let f = flags(&[2, 9, 12, 22, 26]);
        let effect = learnt(&y, cal(MONDAY), &f).unwrap();
        let (wd, we) = (effect.weekday.unwrap(), effect.weekend.unwrap());
        assert!((wd.ratio - 0.4).abs() < 1e-9 && wd.learnt_from == 2, "{effect:?}");
        assert!((we.ratio - 0.9).abs() < 1e-9 && we.learnt_from == 1, "{effect:?}");
        let clean = remove(&y, &slots(y.len(), cal(MONDAY), &f), effect);
        let plain = series(&[]);
        assert!(clean.iter().zip(&plain).all(|(a, b)| (a - b).abs() < 1e-9), "ordinary days after removal");
        // Ahead: Tuesday of the fourth week is a weekday holiday, the Saturday after a weekend one;
        // events are not holidays.
        let steps = holidays(&f).ahead((MONDAY + 22) * DAY - 3600, 3600, 26);
        assert_eq!(steps.iter().filter(|d| d.holiday == Some(DayKind::Weekday)).count(), 24);
        assert!(steps[0].ordinary() && !steps[1].ordinary() && !steps[24].ordinary() && steps[25].ordinary());
        let weekend_holiday = Day { holiday: Some(DayKind::Weekend), weekend: false, hour: 0 };
        assert_eq!(holidays(&f).ahead((MONDAY + 26) * DAY, 3600, 1), vec![weekend_holiday]);
    }

    #[test]
    fn a_forecast_says_the_weekend_ratio_its_fit_learnt() {
        let quiet: Vec<(i64, f64)> = [5, 6, 12, 13, 19, 20].iter().map(|d| (*d, 0.6)).collect();
        let start = chrono::DateTime::from_timestamp(MONDAY * DAY, 0).unwrap();
        let fit = |y: Vec<f64>| {
            let model = Holidays {
                inner: crate::ModelSpec::Median { window_days: 1.0 }.build(),
                days: weekends(0),
                bounds: Bounds::default(),
            };
            let history = Series::new(start, 3600, y).unwrap();
            model.fit(&history).unwrap().predict(48, &[prescale_core::Level::new(0.8).unwrap()]).unwrap()
        };
        let f = fit(series(&quiet));
        assert!(f.weekend_ratio.is_some_and(|r| (r - 0.6).abs() < 1e-9), "{:?}", f.weekend_ratio);
        assert!(f.model.starts_with("weekends(0.60):"), "{}", f.model);
        // The history ends on a Sunday, so the two days ahead are weekdays: the forecast still
        // says the ratio its fit learnt. Without weekends to learn, it says none.
        let plain = fit(series(&[]));
        assert_eq!(plain.weekend_ratio, None);
        assert!(!plain.model.contains("weekends"), "{}", plain.model);
    }

    #[test]
    fn a_fit_names_its_last_local_day_when_it_stands_out() {
        // Three weeks from a Monday, the last day (Sunday, day 20) at half its load, and the
        // history cut ten hours into the next day: the last whole day is still day 20.
        let mut y = series(&[(20, 0.5)]);
        y.extend(series(&[])[..10].iter().copied());
        let start = chrono::DateTime::from_timestamp(MONDAY * DAY, 0).unwrap();
        let fit = |y: &[f64], days: SpecialDays| {
            let model = Holidays {
                inner: crate::ModelSpec::Median { window_days: 1.0 }.build(),
                days,
                bounds: Bounds::default(),
            };
            model.fit(&Series::new(start, 3600, y.to_vec()).unwrap()).unwrap().warnings()
        };
        let w = fit(&y, SpecialDays::default());
        assert!(
            w.iter()
                .any(|w| w.contains("last day (Sunday 1970-01-25) ran at 0.50") && w.contains("--holidays 1970-01-25")),
            "{w:?}"
        );
        // Configured as a holiday, it is no longer news.
        let w = fit(&y, holidays(&flags(&[20])));
        assert!(!w.iter().any(|w| w.contains("last day")), "{w:?}");
    }

    #[test]
    fn a_history_that_reaches_no_midnight_is_forecast() {
        // Under a day of 5-minute points from 11:15 (a group added that morning): no whole local
        // day to compare, a forecast all the same (it once sliced past the history's end).
        let start = chrono::DateTime::from_timestamp(MONDAY * DAY + 11 * 3600 + 900, 0).unwrap();
        for n in [2, 20, 114, 150] {
            let model =
                Holidays { inner: crate::ModelSpec::Auto.build(), days: weekends(0), bounds: Bounds::default() };
            let y: Vec<f64> = (0..n).map(|t| 50.0 + (t % 7) as f64).collect();
            let fitted = model.fit(&Series::new(start, 300, y).unwrap()).unwrap();
            let f = fitted.predict(24, &[prescale_core::Level::new(0.8).unwrap()]).unwrap();
            assert!(f.point.iter().all(|p| p.is_finite()), "{n} points: {f:?}");
        }
    }

    /// Weekends alone, at `offset` from UTC.
    fn weekends(offset: i64) -> SpecialDays {
        SpecialDays { flags: None, weekends: Some(offset) }
    }

    #[test]
    fn a_count_of_zeros_and_ones_learns_the_weekend_its_days_have() {
        // Three weeks of hourly counts of 0 or 1 from a Monday: 1 in the 13 middle hours of a
        // weekday and the 11 middle hours of a weekend day, a weekend at 11 / 13 = 0.85 of its
        // weekdays. Each weekend's median is 0 and its weekdays' 1: the ratio of medians was 0,
        // 1/50 at the least, and the forecast divided the weekends by it.
        let y: Vec<f64> = (0..21 * 24)
            .map(|t| {
                let ones = if (t / 24) % 7 >= 5 { 11 } else { 13 };
                let hour = t % 24;
                f64::from(u8::from(hour >= (24 - ones) / 2 && hour < (24 - ones) / 2 + ones))
            })
            .collect();
        let kinds = weekends(0).ahead(MONDAY * DAY, 3600, y.len());
        let r = learn(&y, 24, &kinds).and_then(|e| e.weekends).unwrap();
        assert!((0.75..1.0).contains(&r.ratio) && r.learnt_from == 3, "{r:?}");
        // A weekend of 8 such hours against 13 (0.62): its median is 0 however the weekdays'
        // sits; the means less their ends give about half. One closed all weekend: nothing.
        let ratio = |weekend_ones: usize| {
            let y: Vec<f64> = (0..21 * 24)
                .map(|t| {
                    let ones = if (t / 24) % 7 >= 5 { weekend_ones } else { 13 };
                    let hour = t % 24;
                    f64::from(u8::from(hour >= (24 - ones) / 2 && hour < (24 - ones) / 2 + ones))
                })
                .collect();
            learn(&y, 24, &kinds).and_then(|e| e.weekends).unwrap().ratio
        };
        assert!((0.45..0.8).contains(&ratio(8)), "{}", ratio(8));
        assert!(ratio(0) <= RATIO_RANGE.0 + 1e-12, "{}", ratio(0));
        // Still a small count with a burst of 12 in it, or a gap filled halfway between 0 and 1;
        // and a holiday, after the weekends were divided out of it (fractions), too.
        let mut y: Vec<f64> = (0..21 * 24)
            .map(|t| {
                let ones = if (t / 24) % 7 >= 5 { 8 } else { 13 };
                let hour = t % 24;
                f64::from(u8::from(hour >= (24 - ones) / 2 && hour < (24 - ones) / 2 + ones))
            })
            .collect();
        y[2 * 24 + 12] = 12.0;
        y[3 * 24 + 5] = 0.5;
        let r = learn(&y, 24, &kinds).and_then(|e| e.weekends).unwrap().ratio;
        assert!((0.45..0.8).contains(&r), "{r}");
        // Wednesday of the second week a holiday at 8 ones, as a weekend day.
        let hol = 9;
        for (hour, v) in y[hol * 24..(hol + 1) * 24].iter_mut().enumerate() {
            *v = f64::from(u8::from((8..16).contains(&hour)));
        }
        let flags = flags(&[hol as i64]);
        let days: Vec<Day> =
            SpecialDays { flags: Some(Arc::new(flags)), weekends: Some(0) }.ahead(MONDAY * DAY, 3600, y.len());
        let e = learn(&y, 24, &days).unwrap();
        let h = e.weekday.unwrap().ratio;
        assert!((0.45..0.8).contains(&h), "holiday {h}: {e:?}");
    }

    #[test]
    fn a_small_count_averaged_over_its_periods_learns_the_weekend_its_counts_do() {
        // Hourly counts at a low rate, a weekend's median 0; and the same counts as means over
        // five periods (stored 5-minute means of 1-minute counts: multiples of 0.2). A weekend's
        // ratio does not depend on the unit: the means learnt 1/50 where the counts learnt 0.3.
        let counts: Vec<f64> = (0..21 * 24)
            .map(|t: usize| {
                let (weekday, weekend) = ([0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 1.0], [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 2.0]);
                if (t / 24) % 7 >= 5 { weekend[(t * 3) % 7] } else { weekday[(t * 3) % 7] }
            })
            .collect();
        let kinds = weekends(0).ahead(MONDAY * DAY, 3600, counts.len());
        let ratio = |y: &[f64]| learn(y, 24, &kinds).and_then(|e| e.weekends).unwrap().ratio;
        let of_counts = ratio(&counts);
        assert!((0.2..0.5).contains(&of_counts), "{of_counts}");
        let means: Vec<f64> = counts.iter().map(|c| c / 5.0).collect();
        assert!((ratio(&means) - of_counts).abs() < 1e-9, "{} against {of_counts}", ratio(&means));
        // Means of a smooth load to one decimal above the small count's range are not one.
        assert!(!small_count(&counts.iter().map(|c| 12.0 + c / 10.0).collect::<Vec<_>>()));
        assert!(small_count(&means) && !small_count(&counts.iter().map(|c| c / 13.0).collect::<Vec<_>>()));
        // A gauge to one decimal (0.1 to 3.0) is no count of tenths.
        assert!(!small_count(&(0..500).map(|i| f64::from(1 + i % 30) / 10.0).collect::<Vec<_>>()));
    }

    #[test]
    fn weekends_that_agree_are_learnt_and_removed_and_others_are_left_alone() {
        let quiet: Vec<(i64, f64)> = [5, 6, 12, 13, 19, 20].iter().map(|d| (*d, 0.6)).collect();
        let y = series(&quiet);
        let kinds = weekends(0).ahead(MONDAY * DAY, 3600, y.len());
        assert_eq!(kinds.iter().filter(|d| d.weekend).count(), 6 * 24);
        let effect = learn(&y, 24, &kinds).unwrap();
        let r = effect.weekends.unwrap();
        assert!((r.ratio - 0.6).abs() < 1e-9 && r.learnt_from == 3, "{effect:?}");
        assert!(effect.weekday.is_none() && effect.weekend.is_none());
        let clean = remove(&y, &kinds, effect);
        assert!(clean.iter().zip(&series(&[])).all(|(a, b)| (a - b).abs() < 1e-9), "ordinary days after removal");
        // One weekend quieter, one busier: no weekly cycle to learn.
        let y = series(&[(5, 0.6), (6, 0.6), (12, 1.3), (13, 1.3)]);
        assert_eq!(learn(&y, 24, &kinds), None);
        // A single weekend counts halfway: the square root of its ratio.
        let y = series(&[(5, 0.6), (6, 0.6)]);
        let short = &y[..10 * 24];
        let one = learn(short, 24, &kinds[..10 * 24]).and_then(|e| e.weekends).unwrap();
        assert!((one.ratio - 0.6f64.sqrt()).abs() < 1e-9 && one.learnt_from == 1, "{one:?}");
        // … but not a level shift on the weekend (above the Friday, below the Monday) …
        let shift: Vec<(i64, f64)> = (5..10).map(|d| (d, if d < 7 { 1.15 } else { 1.3 })).collect();
        assert_eq!(learn(&series(&shift)[..10 * 24], 24, &kinds[..10 * 24]), None);
        // … nor a weekend no further from its weekdays than they lie from each other.
        let wander = series(&[(1, 1.2), (5, 0.9), (6, 0.9)]);
        assert_eq!(learn(&wander[..10 * 24], 24, &kinds[..10 * 24]), None);
        let clear = series(&[(1, 1.2), (5, 0.7), (6, 0.7)]);
        assert!(learn(&clear[..10 * 24], 24, &kinds[..10 * 24]).is_some_and(|e| e.weekends.is_some()));
        // The ratio of a weekend needs weekdays beside it: a history of weekends alone has none.
        let sat = (MONDAY + 5) * DAY;
        assert_eq!(learn(&[50.0; 48], 24, &weekends(0).ahead(sat, 3600, 48)), None);
    }

    #[test]
    fn a_weekend_holiday_is_a_share_of_a_saturday_with_or_without_weekends_learnt() {
        // Weekends at 0.6 of a weekday; the second Saturday a holiday at 0.3 of a Saturday.
        let mut days: Vec<(i64, f64)> = [5, 6, 13, 19, 20].iter().map(|d| (*d, 0.6)).collect();
        days.push((12, 0.18));
        let y = series(&days);
        let special = SpecialDays { flags: Some(Arc::new(flags(&[12]))), weekends: Some(0) };
        let kinds = special.ahead(MONDAY * DAY, 3600, y.len());
        let effect = learn(&y, 24, &kinds).unwrap();
        let (we, hol) = (effect.weekends.unwrap(), effect.weekend.unwrap());
        assert!((we.ratio - 0.6).abs() < 1e-9 && we.learnt_from == 3, "{effect:?}");
        assert!((hol.ratio - 0.3).abs() < 1e-9, "to an ordinary Saturday's load: {effect:?}");
        let clean = remove(&y, &kinds, effect);
        assert!(clean.iter().zip(&series(&[])).all(|(a, b)| (a - b).abs() < 1e-9), "weekdays all through");
        // Put back: the holiday Saturday at 0.6 × 0.3 of a weekday; with no weekend holiday in
        // the history, an ordinary Saturday's 0.6.
        let saturday = Day { holiday: Some(DayKind::Weekend), weekend: true, hour: 0 };
        assert!((effect.factor(saturday) - 0.18).abs() < 1e-9);
        let unlearnt = HolidayEffect { weekend: None, ..effect };
        assert!((unlearnt.factor(saturday) - 0.6).abs() < 1e-9, "forecast as an ordinary Saturday");
        // Weekends that disagree are left as they are, and the holiday is the same share of the
        // Saturdays around it.
        let mut days: Vec<(i64, f64)> = [5, 6].iter().map(|d| (*d, 0.6)).collect();
        days.extend([(13, 1.4), (19, 0.6), (20, 0.6), (12, 0.18)]);
        let effect = learn(&series(&days), 24, &kinds).unwrap();
        assert!(effect.weekends.is_none(), "{effect:?}");
        assert!((effect.weekend.unwrap().ratio - 0.3).abs() < 1e-9, "{effect:?}");
    }

    #[test]
    fn a_short_history_learns_its_one_weekend_halfway_even_beside_a_holiday() {
        // Eight days from a Monday: the Saturday a holiday at half a Sunday's load, no Saturday a
        // week away to compare with. The weekend's ratio comes from its Sunday alone, halfway
        // (√0.6); the holiday Saturday is then forecast near its true 0.3 of a weekday. (Where
        // weekends are not learnt, a holiday is compared with weekend days only: see the test
        // above with weekends that disagree.)
        let y: Vec<f64> = series(&[(5, 0.3), (6, 0.6)])[..8 * 24].to_vec();
        let special = SpecialDays { flags: Some(Arc::new(flags(&[5]))), weekends: Some(0) };
        let effect = learn(&y, 24, &special.ahead(MONDAY * DAY, 3600, y.len())).unwrap();
        let weekends = effect.weekends.unwrap();
        assert!((weekends.ratio - 0.6f64.sqrt()).abs() < 1e-9 && weekends.learnt_from == 1, "{effect:?}");
        let saturday = Day { holiday: Some(DayKind::Weekend), weekend: true, hour: 0 };
        assert!((effect.factor(saturday) - 0.3).abs() < 0.06, "{}: {effect:?}", effect.factor(saturday));
    }

    #[test]
    fn weekends_follow_the_zone_and_a_holiday_can_be_on_one() {
        let sat = (MONDAY + 5) * DAY;
        let weekend = |d: Day| d.weekend;
        // Saturday 00:30 UTC is still Friday at UTC−1, and already Saturday at UTC+1 at 23:30 UTC.
        assert!(weekend(weekends(0).at(sat + 1800, 60)));
        assert!(!weekend(weekends(-3600).at(sat + 1800, 60)));
        assert!(weekend(weekends(3600).at(sat - 1800, 60)));
        assert!(!weekend(weekends(0).at(sat + 2 * DAY, 60)), "Monday");
        // A daily slot counts by its middle: Saturday 00:00 UTC at UTC−5 is mostly Saturday.
        assert!(weekend(weekends(-5 * 3600).at(sat, DAY)));
        assert!(!weekend(weekends(-5 * 3600).at(sat, 3600)), "an hourly one is still Friday");
        // A holiday on a weekend is both; a Sunday after it only a weekend.
        let days = SpecialDays { flags: Some(Arc::new(flags(&[5]))), weekends: Some(0) };
        assert_eq!(days.at(sat + 1800, 60), Day { holiday: Some(DayKind::Weekend), weekend: true, hour: 0 });
        assert_eq!(days.at(sat + DAY, 60), Day { holiday: None, weekend: true, hour: 0 });
        // A Monday holiday at UTC+13 starts on Sunday in UTC, and is still a weekday holiday.
        let nz = 13 * 3600;
        let monday = (MONDAY + 7) * DAY - nz;
        let f = Flags::new(vec![(monday, monday + DAY)], vec![]);
        let days = SpecialDays { flags: Some(Arc::new(f)), weekends: Some(nz) };
        assert_eq!(days.at(monday, 3600), Day { holiday: Some(DayKind::Weekday), weekend: false, hour: 0 });
    }

    #[test]
    fn a_last_day_unlike_its_weekday_is_found_unless_it_is_a_holiday() {
        let c = cal(MONDAY);
        let none = flags(&[]);
        // Three weeks: day 20 (a Sunday) at half its load; day 13 and 6 ordinary.
        let y = series(&[(20, 0.5)]);
        let r = last_day_stands_out(&y, 24, &slots(y.len(), c, &none)).unwrap();
        assert!((r - 0.5).abs() < 0.02, "{r}");
        assert_eq!(
            last_day_stands_out(&series(&[(20, 1.6)]), 24, &slots(y.len(), c, &none)).map(|r| r > 1.5),
            Some(true)
        );
        // An ordinary last day, a dip within a week's wander, or a configured holiday: nothing.
        for (y, f) in [(series(&[]), &none), (series(&[(20, 0.8)]), &none), (y.clone(), &flags(&[20]))] {
            assert_eq!(last_day_stands_out(&y, 24, &slots(y.len(), c, f)), None);
        }
        // One earlier week like it (an incident then too): not unlike its weekday.
        let y = series(&[(13, 0.5), (20, 0.5)]);
        assert_eq!(last_day_stands_out(&y, 24, &slots(y.len(), c, &none)), None);
        // Under 15 days there are not two earlier weeks to compare with.
        assert_eq!(last_day_stands_out(&y[7 * 24..], 24, &slots(14 * 24, c, &none)), None);
        // One glitch in an ordinary last day (an hour at 1000 × its load) is no change of level.
        let mut y = series(&[]);
        let at = y.len() - 4;
        y[at] *= 1000.0;
        assert_eq!(last_day_stands_out(&y, 24, &slots(y.len(), c, &none)), None);
    }

    #[test]
    fn an_earlier_day_far_below_its_weekday_is_found_as_an_outage() {
        let c = cal(MONDAY);
        let none = flags(&[]);
        // Three weeks: day 10 (a Thursday) near zero.
        let y = series(&[(10, 0.01)]);
        let found = outage_days(&y, 24, &slots(y.len(), c, &none));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 11 * 24);
        assert!(found[0].1 < 0.02, "{found:?}");
        // A holiday-like dip (half), a configured holiday, the last day (judged elsewhere) and an
        // ordinary history: none.
        for (y, f) in [
            (series(&[(10, 0.5)]), &none),
            (series(&[(10, 0.01)]), &flags(&[10])),
            (series(&[(20, 0.01)]), &none),
            (series(&[]), &none),
        ] {
            assert_eq!(outage_days(&y, 24, &slots(y.len(), c, f)), vec![], "{:?}", &y[..3]);
        }
        // The same weekday low in another week too: a weekly pattern, not an outage.
        let y = series(&[(3, 0.01), (10, 0.01)]);
        assert_eq!(outage_days(&y, 24, &slots(y.len(), c, &none)), vec![]);
    }

    #[test]
    fn a_weekend_divided_by_its_ratio_may_pass_the_maximum_without_a_warning() {
        // A CPU at 90 % on weekdays and 45–65 % at weekends (ratio about 0.6): divided by it, the
        // weekends' 60s read beyond 100, though no value ever passed it.
        let mut rng = prescale_core::SplitMix64(5);
        let y: Vec<f64> = (0..21 * 24)
            .map(|t| if t / 24 % 7 >= 5 { 55.0 + 20.0 * (rng.uniform() - 0.5) } else { 88.0 + 4.0 * rng.uniform() })
            .collect();
        assert!(y.iter().all(|v| *v <= 100.0));
        let y_max_weekend = (0..y.len()).filter(|t| t / 24 % 7 >= 5).map(|t| y[t]).fold(0.0, f64::max);
        let options = crate::BuildOptions {
            bounds: Bounds { min: Some(0.0), max: Some(100.0) },
            weekends: crate::Weekends::Learn { utc_offset_secs: 0 },
            ..crate::BuildOptions::default()
        };
        let start = chrono::DateTime::from_timestamp(MONDAY * DAY, 0).unwrap();
        let fitted = crate::ModelSpec::Auto
            .build_with(&options)
            .fit(&prescale_core::Series::new(start, 3600, y).unwrap())
            .unwrap();
        let id = fitted.model_id();
        let ratio: f64 = id.strip_prefix("weekends(").and_then(|r| r.split(')').next()).unwrap().parse().unwrap();
        assert!(y_max_weekend / ratio > 100.0, "{id}: the weekends divided stay below 100");
        assert!(
            !fitted.warnings().iter().any(|w| w.contains("outside the metric's bounds")),
            "{:?}",
            fitted.warnings()
        );
        let f = fitted.predict(7 * 24, &[prescale_core::Level::new(0.95).unwrap()]).unwrap();
        assert!(f.intervals[0].upper.iter().chain(&f.point).all(|v| *v <= 100.0), "clipped to the maximum");
        // A value that did pass it is still said, once.
        let mut over = (0..21 * 24).map(|t| if t / 24 % 7 >= 5 { 65.0 } else { 90.0 }).collect::<Vec<f64>>();
        over[30] = 104.0;
        let fitted = crate::ModelSpec::Auto
            .build_with(&options)
            .fit(&prescale_core::Series::new(start, 3600, over).unwrap())
            .unwrap();
        let warnings = fitted.warnings();
        let said: Vec<&String> = warnings.iter().filter(|w| w.contains("outside the metric's bounds")).collect();
        assert_eq!(said.len(), 1, "{:?}", fitted.warnings());
        assert!(said[0].starts_with("1 of 504 values"), "{said:?}");
    }

    #[test]
    fn a_weekend_of_another_shape_is_learnt_by_the_hour() {
        // Three weeks from a Monday: weekdays at 100 with commute peaks of 300 (07–09, 16–18),
        // weekends flat at 60.
        let y: Vec<f64> = (0..21 * 24)
            .map(|t| match (t / 24 % 7 >= 5, t % 24) {
                (true, _) => 60.0,
                (false, 7..=9 | 16..=18) => 300.0,
                _ => 100.0,
            })
            .collect();
        let days = weekends(0).ahead(MONDAY * DAY, 3600, y.len());
        let effect = learn(&y, 24, &days).unwrap();
        assert!(effect.weekend_shape.is_some(), "{effect:?}");
        let sat = |hour: u8| effect.factor(Day { holiday: None, weekend: true, hour });
        let r = effect.weekends.unwrap().ratio;
        // At night a weekend runs at the weekdays' 60 %; at the commute peak far below it.
        assert!((sat(3) - 0.6).abs() < 0.05, "{} (ratio {r})", sat(3));
        assert!(sat(8) < 0.6 * r && sat(8) > 60.0 / 300.0, "{} (ratio {r})", sat(8));
        // A weekend of the weekdays' shape keeps the one ratio.
        let flat: Vec<f64> = (0..21 * 24).map(|t| if t / 24 % 7 >= 5 { 60.0 } else { 100.0 }).collect();
        let effect = learn(&flat, 24, &days).unwrap();
        assert!(effect.weekend_shape.unwrap().iter().all(|v| (v - 1.0).abs() < 1e-9), "{effect:?}");
        // One incident on a Saturday night (500 times the load for an hour) is no shape of the
        // weekend's: Sunday's first hours are not forecast four times higher.
        let mut spiked = flat.clone();
        spiked[(7 + 5) * 24 + 23] *= 500.0;
        let effect = learn(&spiked, 24, &days).unwrap();
        assert!(effect.weekend_shape.unwrap().iter().all(|v| (v - 1.0).abs() < 0.1), "{effect:?}");
        // The 1st, 50th and 99th percentiles are 60, 100 and 100: at least the median's size beyond.
        assert_eq!(incident_bounds(&spiked), Some((-40.0, 200.0)));
    }

    #[test]
    fn nothing_to_learn_from_gives_none() {
        let y = series(&[]);
        // No holiday in the history, one ahead only.
        assert_eq!(learnt(&y, cal(MONDAY), &flags(&[25])), None);
        // A history off the clock sees no holidays.
        assert_eq!(learnt(&y, Calendar::new(24), &flags(&[3])), None);
        // A holiday in a series that is zero around it: no ratio.
        let zeros = vec![0.0; 21 * 24];
        assert_eq!(learnt(&zeros, cal(MONDAY), &flags(&[9])), None);
        // A few hours of a holiday at the end of the history are too little to learn from.
        let y = series(&[(20, 0.4)]);
        let f = Flags::new(vec![((MONDAY + 20) * DAY + 20 * 3600, (MONDAY + 21) * DAY + 20 * 3600)], vec![]);
        assert_eq!(learnt(&y, cal(MONDAY), &f), None);
        // Weekday holidays say nothing about a weekend one.
        let effect = learnt(&series(&[(2, 0.4)]), cal(MONDAY), &flags(&[2])).unwrap();
        assert!(effect.weekday.is_some() && effect.of(DayKind::Weekend).is_none());
    }
}
