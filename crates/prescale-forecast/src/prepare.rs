use prescale_core::Series;

use crate::ForecastError;

/// A gap longer than this (in seconds) breaks the history: what lies before it is not used.
/// Neither a line nor a repeated day can stand for more than a week of load, and a series that
/// comes back after that long (a group recreated, a metric renamed back) is often another load.
pub(crate) const BREAK_SECS: i64 = 7 * 86_400;

/// Gaps longer than this (in seconds) are filled from the day before rather than by a straight
/// line, where the history holds a day before them: a line across a night and a morning would
/// teach the models a day without its cycle.
pub(crate) const SEASONAL_FILL_SECS: i64 = SEASONAL_FILL_HOURS * 3600;

/// Gaps longer than this many hours are filled from the same time the day before, shorter ones
/// by interpolation.
pub const SEASONAL_FILL_HOURS: i64 = 2;

/// A history made ready for a model: every slot finite.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The values, gap-free.
    pub values: Vec<f64>,
    /// True when every observed value was >= 0 (counts, CPU): forecasts are clipped at 0.
    pub non_negative: bool,
    /// What was repaired, for the user.
    pub warnings: Vec<String>,
}

/// Fills the missing slots that the store left (long gaps) so models see a gap-free history.
/// Missing slots at the start are dropped; so is everything before a gap longer than
/// `BREAK_SECS` (a week). Interior gaps up to `SEASONAL_FILL_SECS` (two hours) are
/// interpolated linearly; longer ones take the same slots a day before, tilted so that they meet
/// the values on both sides of the gap (linearly where no day precedes the gap, or the step does
/// not divide a day). Missing slots at the end are carried forward from the last value. Each
/// repair is reported.
///
/// # Errors
/// [`ForecastError::TooShort`] when the history has fewer than `min_len` observed points;
/// [`ForecastError::BrokenHistory`] when it breaks off for more than a week and holds under two
/// days after the gap.
pub fn prepare_history(history: &Series, min_len: usize) -> Result<Prepared, ForecastError> {
    let v = history.values();
    let step = history.step_secs().max(1);
    let mut warnings = Vec::new();
    let mut first = v.iter().position(|x| x.is_finite()).unwrap_or(0);
    if first > 0 {
        warnings.push(format!("dropped {first} missing slots at the start of the history"));
    }
    // The last gap longer than a week, if any, with observed values on both sides.
    let break_slots = (BREAK_SECS / step).max(1) as usize;
    let last_observed = v.iter().rposition(|x| x.is_finite()).unwrap_or(0);
    let cut = history.gaps().into_iter().rfind(|g| g.start > first && g.end <= last_observed && g.len() > break_slots);
    if let Some(std::ops::Range { start: a, end: b }) = cut {
        let days = |slots: usize| slots as f64 * step as f64 / 86_400.0;
        // Spans as every other message says them (tenths of a day, rounded down), so that the
        // gap, the days after it and the history's length agree.
        let span = |slots: usize| crate::engine::duration_text(slots as f64 * step as f64);
        let after = days(last_observed + 1 - b);
        if after < 2.0 {
            return Err(ForecastError::BrokenHistory { gap_days: days(b - a), after_hours: after * 24.0 });
        }
        warnings.push(format!(
            "the history breaks off for {} ({} to {}): only the {} after the gap are used, the {} before it are \
             not (a gap that long cannot be filled in; if the series is another load since, that is right; if not, \
             ingest the missing days)",
            span(b - a),
            history.ts(a).format("%Y-%m-%d %H:%M"),
            history.ts(b).format("%Y-%m-%d %H:%M"),
            span(last_observed + 1 - b),
            span(a - first)
        ));
        first = b;
    }
    let observed = v[first..].iter().filter(|x| x.is_finite()).count();
    if observed < min_len.max(1) {
        return Err(ForecastError::TooShort { needed: min_len.max(1), got: observed });
    }
    let mut values: Vec<f64> = v[first..].to_vec();
    let non_negative = values.iter().filter(|x| x.is_finite()).all(|x| *x >= 0.0);
    let missing = values.iter().filter(|x| !x.is_finite()).count();
    if missing > 0 {
        // Missing slots at the end: the series stopped reporting before the history ends.
        let tail = values.iter().rev().take_while(|x| !x.is_finite()).count();
        // A gap filled before and over for two days, a small share of the history, was said on
        // the days it was new (and where the file is read): not again on every fit that spans it.
        let since = values.iter().rev().take_while(|x| x.is_finite()).count() as i64 * step;
        let old_gap = tail == 0 && since > 2 * 86_400 && missing * 10 < values.len();
        let (linear, seasonal) = fill(&mut values, history.steps_per_day(), (SEASONAL_FILL_SECS / step) as usize);
        let mut how = Vec::new();
        if linear > tail {
            how.push(format!("{} by interpolation", linear - tail));
        }
        if seasonal > 0 {
            how.push(format!("{seasonal} from the day before (gaps over {} h)", SEASONAL_FILL_SECS / 3600));
        }
        if tail > 0 {
            how.push(format!(
                "the last {tail} carried forward from the last value, at {} (the series stopped reporting then: \
                 is its source still up?)",
                history.ts(first + values.len() - tail - 1).format("%Y-%m-%d %H:%M UTC")
            ));
        }
        if !old_gap {
            warnings.push(format!("filled {missing} missing slots of the history: {}", how.join(", ")));
        }
        if non_negative {
            // A tilted day can dip below zero where the history cannot.
            values.iter_mut().for_each(|x| *x = x.max(0.0));
        }
    }
    if values.iter().all(|x| *x == values[0]) {
        warnings.push(format!(
            "every value of the history is {}: the forecast repeats it with zero-width intervals (an idle group, or a \
             metric that stopped changing? check it is the load you mean)",
            values[0]
        ));
    }
    Ok(Prepared { values, non_negative, warnings })
}

/// Hours at the end of the history compared with the same hours of the days before.
const RECENT_HOURS: f64 = 3.0;

/// What the history's values say that a user should hear before trusting a forecast from it, in
/// the metric's own units (before any transform): a few values a thousand times its typical size
/// (a unit mistake, a glitch), and a drop or a rise at the end of the history. The drop: the mean of the
/// last three hours under half the median of the same hours over the previous days of the same
/// kind (weekdays, or Saturday and Sunday, UTC; at least three of them, up to seven, within two
/// weeks), at hours whose usual load is at least half the history's median. The models start from
/// where the series is now, so an outage, a stopped agent or a deploy under way pulls the
/// forecast, and the floors planned from it, down. Hours that are low every such day (nights,
/// weekends) are no drop. (A few negatives are [`rare_negatives`]'s.)
pub fn history_warnings(history: &Series) -> Vec<String> {
    let v = history.values();
    let mut out = Vec::new();
    out.extend(spikes(v));
    out.extend(recent_change(history));
    out
}

/// A few values below zero (one in twenty at most) in a series otherwise at zero or above: a
/// counter reset, a difference of a rate, a glitch, not load. Left as they are, they would make
/// the series one that may be negative (no weekends learnt, errors in absolute terms, intervals
/// twice as wide or more). The documented repair: they are read as missing (filled as gaps are) and
/// the forecast is clipped at zero, as `--min 0` would. Returns the history and bounds to fit
/// with and what was done; `None` without such values, or when a lower bound is given (a metric
/// that may be negative says so with its own).
pub fn rare_negatives(
    history: &Series,
    bounds: &crate::transform::Bounds,
) -> Option<(Series, crate::transform::Bounds, String)> {
    let v = history.values();
    let negative = if bounds.min.is_some() { 0 } else { v.iter().filter(|x| **x < 0.0).count() };
    let finite = v.iter().filter(|x| x.is_finite()).count();
    if negative == 0 || negative * 20 > finite || bounds.max.is_some_and(|m| m <= 0.0) {
        return None;
    }
    let values: Vec<f64> = v.iter().map(|x| if *x < 0.0 { f64::NAN } else { *x }).collect();
    let repaired = Series::new(history.start(), history.step_secs(), values).ok()?;
    Some((
        repaired,
        crate::transform::Bounds { min: Some(0.0), ..*bounds },
        format!(
            "{negative} of {finite} values are below zero in a series otherwise at zero or above (a counter reset, a \
             difference of a rate, a glitch?): read as missing, and the forecast is clipped at zero, as --min 0 \
             would; if the metric can be negative, give its own lower bound (--min, or min in its [[groups.metrics]])"
        ),
    ))
}

/// The values below zero and the finite values of `history`, where more than one value in twenty
/// is below zero and `bounds` do not say the metric may be negative (a `min` below zero): more
/// than [`rare_negatives`] reads as glitches. For a load (requests, CPU) a broken metric (a sign
/// flipped, a counter's difference); `plan` leaves a group with such a load out.
pub fn mostly_negative(history: &Series, bounds: &crate::transform::Bounds) -> Option<(usize, usize)> {
    if bounds.min.is_some_and(|m| m < 0.0) {
        return None;
    }
    let v = history.values();
    let negative = v.iter().filter(|x| **x < 0.0).count();
    let finite = v.iter().filter(|x| x.is_finite()).count();
    (negative > 0 && negative * 20 > finite).then_some((negative, finite))
}

/// [`mostly_negative`], said as a warning of a fit: fitted as they are, with what `plan` makes of
/// such a load.
pub fn many_negatives(history: &Series, bounds: &crate::transform::Bounds) -> Option<String> {
    mostly_negative(history, bounds).map(|(negative, finite)| {
        format!(
            "{negative} of {finite} values are below zero, more than one in twenty: fitted as they are (its intervals \
             reach below zero); a load (requests, CPU) is never negative, so if this is one its source is broken (a \
             sign flipped, a counter's difference), and `plan` leaves a group with such a load out; if the metric \
             can be negative, say so with its lower bound (--min, or min in its [[groups.metrics]])"
        )
    })
}

/// A few values a thousand times the series' typical size or more (its median absolute value):
/// a unit mistake or a glitch more often than load. The engine's models see them clipped as incidents,
/// but the user should hear of them.
fn spikes(v: &[f64]) -> Option<String> {
    let abs: Vec<f64> = v.iter().filter(|x| x.is_finite()).map(|x| x.abs()).collect();
    let typical = crate::point::upper_median(&abs);
    if typical.is_nan() || typical <= 0.0 {
        return None;
    }
    let big: Vec<f64> = abs.iter().copied().filter(|x| *x >= 1000.0 * typical).collect();
    let top = big.iter().copied().fold(0.0, f64::max);
    // Rare ones only: where more than 1 % of the values are that high, the series is bursty by
    // nature (network bytes at a tiny median), not glitched.
    (!big.is_empty() && big.len() * 100 <= abs.len()).then(|| {
        format!(
            "{} value{} of the history at 1000 × its median size ({}) or more, up to {}: a unit mistake or a glitch? \
             The engine's models treat them as incidents (they do not come back in the forecast); a single model \
             (--model) may not",
            big.len(),
            if big.len() == 1 { "" } else { "s" },
            fmt_value(typical),
            fmt_value(top)
        )
    })
}

/// The last [`RECENT_HOURS`] of a history against the same hours of the days before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Departure {
    /// The mean of the last hours.
    pub last: f64,
    /// The median over the days before (of the same kind) of the same hours' mean.
    pub usual: f64,
    /// How many days that median is over.
    pub days: usize,
    /// Whether the last hours are a weekend's (Saturday or Sunday, UTC).
    pub weekend: bool,
    /// The last hours over twice the usual, and above it by half the history's median.
    pub rise: bool,
    /// The last hours under half the usual, at hours whose usual load is at least half the
    /// history's median.
    pub drop: bool,
}

/// [`Departure`] of the values `v` at `m` steps a day of `step` seconds, `ts(i)` the epoch second
/// of value `i` (`None`: not on the clock, every day of one kind). The days compared are those of
/// the same kind as the last value's (weekdays, or Saturday and Sunday), at least three of them,
/// up to seven, within two weeks. `None` where there are too few.
pub(crate) fn departure(v: &[f64], m: usize, step: i64, ts: &dyn Fn(usize) -> Option<i64>) -> Option<Departure> {
    let k = ((RECENT_HOURS * 3600.0 / step as f64).round() as usize).max(1);
    let n = v.len();
    if m == 0 || k > m || n < k + m {
        return None;
    }
    // A window at least half measured: one sample among missing ones (a day of rows lost) says
    // nothing of the level.
    let mean = |a: usize| {
        let x: Vec<f64> = v[a..a + k].iter().copied().filter(|x| x.is_finite()).collect();
        (2 * x.len() >= k).then(|| x.iter().sum::<f64>() / x.len() as f64)
    };
    // A window's kind of day is that of most of its slots: the last hours before a Monday's
    // first are Sunday's, compared with other Sundays' evenings, not with weekdays'.
    let weekend = |a: usize| 2 * (a..a + k).filter(|i| ts(*i).is_some_and(crate::holiday::is_weekend)).count() > k;
    let kind = weekend(n - k);
    let days: Vec<f64> = (1..=14)
        .take_while(|d| n >= k + d * m)
        .filter(|d| weekend(n - k - d * m) == kind)
        .filter_map(|d| mean(n - k - d * m))
        .take(7)
        .collect();
    let last = mean(n - k)?;
    if days.len() < 3 {
        return None;
    }
    let median = crate::point::upper_median;
    let usual = median(&days);
    let all: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let typical = median(&all);
    Some(Departure {
        last,
        usual,
        days: days.len(),
        weekend: kind,
        rise: usual >= 0.0 && last > 2.0 * usual && last - usual >= 0.5 * typical && typical > 0.0,
        drop: usual > 0.0 && last < usual / 2.0 && usual >= 0.5 * typical,
    })
}

/// A change at the end of the history: the drop of [`history_warnings`], or a rise, the mean of
/// the last three hours over twice the same hours' median of the days before and above it by at
/// least half the history's median (a rise in hours that are low every day is no news).
fn recent_change(history: &Series) -> Option<String> {
    let d = departure(history.values(), history.steps_per_day(), history.step_secs(), &|i| {
        Some(history.ts(i).timestamp())
    })?;
    let Departure { last, usual, days, weekend, .. } = d;
    let kind = if weekend { "weekend days" } else { "weekdays" };
    if d.rise {
        return Some(format!(
            "the last {RECENT_HOURS} h of the history average {}, {} the same hours' median over the {} {kind} \
             before ({}): an incident, a launch, a unit change? The backtests that weigh the models and size the \
             intervals never saw such a level: some models take it for the new level, some for an incident, and the \
             forecast lies between with intervals that need not cover either; check the source, and plan a rise that \
             lasts with `prescale event add` until a day of it is in the history",
            fmt_value(last),
            // A ratio to a usual of nothing (hours idle every day) says nothing: above it.
            if usual > 0.0 && last / usual < 1e6 { format!("{} ×", fmt_ratio(last / usual)) } else { "above".into() },
            days,
            fmt_value(usual)
        ));
    }
    d.drop.then(|| {
        format!(
            "the last {RECENT_HOURS} h of the history average {}, {:.0} % of the same hours' median over the {} {} \
             before ({}): an outage, a stopped agent, a deploy under way? Models that follow the last hours \
             take it for the new level; check the source, and if the load comes back while the forecast and its \
             floors stay low, set a floor with `prescale event add`",
            fmt_value(last),
            100.0 * last / usual,
            days,
            kind,
            fmt_value(usual)
        )
    })
}

/// A ratio of 2 or more: `2.4`, `37`, `1200`.
fn fmt_ratio(r: f64) -> String {
    if r < 10.0 { format!("{r:.1}") } else { fmt_value(r.round()) }
}

fn fmt_value(v: f64) -> String {
    if v.abs() >= 1e15 {
        // Not a hundred digits of float noise: three significant ones.
        format!("{v:.2e}")
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Fills every run of non-finite values after the first finite one; returns how many slots were
/// filled linearly and how many from the day before. A run longer than `seasonal_over` slots with
/// a whole day of slots before it takes `y[t − day]` plus a correction that goes linearly from
/// the offset at its start to the offset at its end, so it meets its neighbours; a run at the end
/// has no neighbour after it and is carried forward.
fn fill(values: &mut [f64], day: usize, seasonal_over: usize) -> (usize, usize) {
    let (mut linear, mut seasonal) = (0, 0);
    let mut last = 0usize;
    let mut i = 0;
    while i < values.len() {
        if values[i].is_finite() {
            last = i;
            i += 1;
            continue;
        }
        let a = i;
        while i < values.len() && !values[i].is_finite() {
            i += 1;
        }
        let len = i - a;
        let lo = values[last];
        let hi = if i < values.len() { values[i] } else { lo };
        let w = |k: usize| (k + 1) as f64 / (len + 1) as f64;
        if day > 0 && len > seasonal_over && a > day && i < values.len() {
            // The day before, repeated across the run (a run longer than a day repeats its own
            // first day), then tilted from the offset at its start to the offset at its end.
            let mut base = Vec::with_capacity(len);
            for k in 0..len {
                base.push(if k >= day { base[k - day] } else { values[a + k - day] });
            }
            let start_off = lo - values[a - 1 - day];
            let end_off = hi - if i - day >= a { base[i - day - a] } else { values[i - day] };
            for (k, b) in base.iter().enumerate() {
                values[a + k] = b + start_off * (1.0 - w(k)) + end_off * w(k);
            }
            seasonal += len;
        } else {
            for k in 0..len {
                values[a + k] = lo + (hi - lo) * w(k);
            }
            linear += len;
        }
    }
    (linear, seasonal)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    /// Hourly load with a daily cycle between 20 and 100 (non-negative, like a request count).
    fn cycle(days: usize) -> Vec<f64> {
        (0..days * 24).map(|h| 60.0 - 40.0 * ((h % 24) as f64 / 24.0 * std::f64::consts::TAU).cos()).collect()
    }

    fn series(values: Vec<f64>) -> Series {
        Series::new(Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(), 3600, values).unwrap()
    }

    #[test]
    fn a_last_hours_mostly_missing_are_no_rise_nor_drop() {
        // Eight days of the cycle, the last day's rows lost but its first hour's, doubled: one
        // sample among missing ones says nothing of the level.
        let mut v = cycle(8);
        let n = v.len();
        v[n - 3..].iter_mut().for_each(|x| *x = f64::NAN);
        v[n - 3] = 2.5 * cycle(1)[21];
        assert!(recent_change(&series(v.clone())).is_none());
        // Measured, the same rise is said.
        let mut whole = cycle(8);
        whole[n - 3..].iter_mut().for_each(|x| *x *= 2.5);
        assert!(recent_change(&series(whole)).is_some_and(|w| w.contains("an incident")));
    }

    #[test]
    fn a_gap_of_hours_takes_the_day_before_and_meets_both_sides() {
        let truth = cycle(7);
        let mut v = truth.clone();
        // Twelve hours missing, from 06:00 to 17:00 on the sixth day: a line would join 05:00 and
        // 18:00 straight across the day's peak.
        let gap = 5 * 24 + 6..5 * 24 + 18;
        v[gap.clone()].iter_mut().for_each(|x| *x = f64::NAN);
        let p = prepare_history(&series(v.clone()), 2).unwrap();
        assert!(p.warnings.iter().any(|w| w.contains("12 from the day before")), "{:?}", p.warnings);
        let worst = gap.clone().map(|i| (p.values[i] - truth[i]).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-9, "a repeating day is filled exactly, off by {worst}");
        // The same gap filled by a line is far off at the peak: the test can tell the two apart.
        let (lo, hi) = (truth[gap.start - 1], truth[gap.end]);
        let line = |k: usize| lo + (hi - lo) * (k + 1) as f64 / 13.0;
        let line_worst = gap.clone().enumerate().map(|(k, i)| (line(k) - truth[i]).abs()).fold(0.0, f64::max);
        assert!(line_worst > 30.0, "{line_worst}");
        // On a day at a higher level the fill is tilted to meet both neighbours.
        let mut up = truth.clone();
        up.iter_mut().skip(5 * 24).for_each(|x| *x += 10.0);
        up[gap.clone()].iter_mut().for_each(|x| *x = f64::NAN);
        let p = prepare_history(&series(up), 2).unwrap();
        let worst = gap.map(|i| (p.values[i] - truth[i] - 10.0).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-9, "{worst}");
        assert!(p.non_negative);
    }

    #[test]
    fn short_gaps_and_gaps_without_a_day_before_are_interpolated() {
        let truth = cycle(4);
        let mut v = truth.clone();
        v[80] = f64::NAN; // one hour, on the last day
        v[5..11].iter_mut().for_each(|x| *x = f64::NAN); // six hours on the first day: no day before
        let p = prepare_history(&series(v.clone()), 2).unwrap();
        assert!(
            p.warnings.iter().any(|w| w.contains("7 by interpolation") && !w.contains("day before")),
            "{:?}",
            p.warnings
        );
        assert!((p.values[80] - (truth[79] + truth[81]) / 2.0).abs() < 1e-9);
        assert!((p.values[8] - (truth[4] + (truth[11] - truth[4]) * 4.0 / 7.0)).abs() < 1e-9);
        // Without the recent hour, the first day's gap is more than two days old and a small share
        // of the history: filled alike, not said on every fit again.
        v[80] = truth[80];
        let p = prepare_history(&series(v), 2).unwrap();
        assert!(p.warnings.iter().all(|w| !w.contains("filled")), "{:?}", p.warnings);
        assert!((p.values[8] - (truth[4] + (truth[11] - truth[4]) * 4.0 / 7.0)).abs() < 1e-9);
    }

    #[test]
    fn a_series_that_stopped_reporting_and_stray_negatives_are_named() {
        let mut v = cycle(4);
        let n = v.len();
        v[n - 5..].iter_mut().for_each(|x| *x = f64::NAN);
        v[10] = -3.0;
        let p = prepare_history(&series(v.clone()), 2).unwrap();
        let w = p.warnings.join("\n");
        assert!(w.contains("filled 5 missing slots of the history: the last 5 carried forward"), "{w}");
        assert!(w.contains("at 2026-03-05 18:00 UTC") && !w.contains("by interpolation"), "{w}");
        assert!(!p.non_negative && p.values[n - 1] == v[n - 6]);
        let (read, bounds, w) = rare_negatives(&series(v.clone()), &Default::default()).unwrap();
        assert!(w.contains("1 of 91 values are below zero") && bounds.min == Some(0.0), "{w}");
        assert!(read.values()[10].is_nan() && read.values()[11] == v[11] && read.len() == v.len());
        // A lower bound given decides; a series that is often negative (a balance, a temperature)
        // is not questioned.
        let given = crate::transform::Bounds { min: Some(-10.0), max: None };
        assert!(rare_negatives(&series(v), &given).is_none());
        let swing: Vec<f64> = cycle(4).iter().map(|x| x - 60.0).collect();
        assert!(rare_negatives(&series(swing), &Default::default()).is_none());
    }

    #[test]
    fn a_rare_value_a_thousand_times_the_median_is_named_and_bursty_series_are_not() {
        let mut v = cycle(14);
        v[100] = 1e9;
        let w = history_warnings(&series(v.clone())).join("\n");
        assert!(
            w.contains("1 value of the history at 1000 × its median size") && w.contains("up to 1000000000"),
            "{w}"
        );
        // One value in twenty that high is the series' nature (bursts on a tiny median), not a glitch.
        for x in v.iter_mut().step_by(20) {
            *x = 1e9;
        }
        assert!(!history_warnings(&series(v)).join(" ").contains("median size"));
    }

    #[test]
    fn a_drop_at_the_end_of_the_history_is_warned_about_and_quiet_nights_and_weekends_are_not() {
        // From Monday 2026-03-02: weekdays cycle between 10 (03:00) and 190 (15:00), weekends at a
        // fifth of that; three weeks and two days, the history ending on a Tuesday at 18:00.
        let load = |h: usize| {
            let day = 100.0 - 90.0 * ((h % 24) as f64 / 24.0 * std::f64::consts::TAU).cos();
            if (h / 24) % 7 >= 5 { day / 5.0 } else { day }
        };
        let mut v: Vec<f64> = (0..24 * 23 - 6).map(load).collect();
        let n = v.len();
        let warned = |v: &[f64]| history_warnings(&series(v.to_vec())).join("\n");
        assert_eq!(warned(&v), "", "an ordinary afternoon");
        // An outage over the last three hours: a twentieth of the load.
        v[n - 3..].iter_mut().for_each(|x| *x *= 0.05);
        let w = warned(&v);
        assert!(w.contains("5 % of the same hours' median over the 7 weekdays before"), "{w}");
        // Ending at 05:00 the quietest hours are low every day; a Saturday afternoon is quiet
        // every Saturday: neither is a drop.
        assert_eq!(warned(&(0..24 * 22 + 5).map(load).collect::<Vec<_>>()), "");
        assert_eq!(warned(&(0..24 * 19 + 15).map(load).collect::<Vec<_>>()), "");
        // The first hour of a Monday after a quiet Sunday evening: the window is mostly Sunday's,
        // like the Sundays' before, not a drop from the weekdays' evenings.
        let flat = |h: usize| if (h / 24) % 7 >= 5 { 20.0 } else { 100.0 };
        assert_eq!(warned(&(0..24 * 21 + 1).map(flat).collect::<Vec<_>>()), "");
        // Under three days of the same kind before, nothing to compare with.
        assert_eq!(warned(&v[n - 60..]), "");
        // A rise: the last three hours at a hundred times the load.
        let mut up: Vec<f64> = (0..24 * 23 - 6).map(load).collect();
        up[n - 3..].iter_mut().for_each(|x| *x *= 100.0);
        let w = warned(&up);
        assert!(
            w.contains("100 × the same hours' median over the 7 weekdays before") && w.contains("event add"),
            "{w}"
        );
        // Hours idle every day that now carry load: above their usual nothing, not "inf ×" it.
        let mut woke: Vec<f64> = (0..24 * 23 - 6).map(|h| if h % 24 >= 15 { 0.0 } else { load(h) }).collect();
        woke[n - 3..].iter_mut().for_each(|x| *x = 150.0);
        let w = warned(&woke);
        assert!(w.contains("average 150, above the same hours' median") && !w.contains("inf"), "{w}");
        // Twice a quiet hour's load is still a quiet hour: no news. Ending at 03:00 the load is 10
        // to 23, a fraction of the history's median.
        let mut night: Vec<f64> = (0..24 * 22 + 3).map(load).collect();
        let m = night.len();
        night[m - 3..].iter_mut().for_each(|x| *x *= 2.5);
        assert_eq!(warned(&night), "");
    }

    #[test]
    fn a_fill_never_goes_below_zero_on_a_series_that_never_does() {
        // The neighbour's own day before far above it: tilted down by that much, the day before
        // the gap would cross zero.
        let mut v = cycle(3);
        v[48..58].iter_mut().for_each(|x| *x = f64::NAN);
        v[23] = 500.0;
        v[47] = 0.0;
        let p = prepare_history(&series(v), 2).unwrap();
        assert!(p.values.iter().all(|x| x.is_finite() && *x >= 0.0), "{:?}", &p.values[44..60]);
    }

    #[test]
    fn a_gap_of_more_than_a_week_breaks_the_history_there() {
        // Ten days, 300 days missing, then five days at another level.
        let mut v = cycle(10);
        v.extend(std::iter::repeat_n(f64::NAN, 300 * 24));
        v.extend(cycle(5).iter().map(|x| x * 3.0));
        let p = prepare_history(&series(v.clone()), 2).unwrap();
        assert_eq!(p.values.len(), 5 * 24, "only the days after the gap");
        assert!(p.values.iter().all(|x| *x >= 60.0 - 40.0 * 3.0 - 1e-9));
        let w = p.warnings.join("\n");
        assert!(
            w.contains("breaks off for 300.0 days") && w.contains("5.0 days after") && w.contains("10.0 days before"),
            "{w}"
        );
        // A gap of six days is filled, not cut.
        let mut v = cycle(10);
        v[3 * 24..9 * 24].iter_mut().for_each(|x| *x = f64::NAN);
        let p = prepare_history(&series(v), 2).unwrap();
        assert_eq!(p.values.len(), 10 * 24);
        assert!(!p.warnings.join(" ").contains("breaks off"));
        // Under two days after the break: an error that says why, not a forecast from the old
        // days nor from a few hours.
        let mut v = cycle(10);
        v.extend(std::iter::repeat_n(f64::NAN, 8 * 24));
        v.extend(cycle(2)[..40].iter());
        let e = prepare_history(&series(v), 2).unwrap_err();
        assert!(matches!(e, ForecastError::BrokenHistory { after_hours: 40.0, .. }), "{e}");
        assert!(e.to_string().contains("breaks off for 8 days and holds only 40.0 h since"), "{e}");
    }
}
