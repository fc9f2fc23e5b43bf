//! The comparison as an SVG chart, written as plain text: one panel per policy on a shared time
//! axis and a shared load scale, demand as a grey area, the policy's serving capacity as a line,
//! the under-provisioned stretches as red marks under each panel, and the minutes the trace was
//! missing (replayed at the value before them) as grey marks along its top.
//!
//! A trace longer than the plot is wide is drawn one pixel column per run of minutes, with the
//! highest demand and the highest capacity of the column, so a one-minute spike in a four-week
//! trace stays visible. Coordinates are rounded to 0.1 px, so the same report gives the same bytes.

use std::fmt::Write as _;
use std::ops::Range;

use chrono::{DateTime, Duration, Utc};

use crate::{Policy, SimReport};

/// What to draw besides the report.
#[derive(Debug, Clone, Default)]
pub struct ChartOptions {
    /// The chart's title (the trace's name, say).
    pub title: String,
    /// The minutes to draw (`None`: the whole trace).
    pub range: Option<Range<usize>>,
    /// Vertical marks: (minute, label), e.g. a load test's onset.
    pub markers: Vec<(usize, String)>,
}

/// Width of the chart in px.
pub const WIDTH: f64 = 1200.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 64.0;
const PANEL: f64 = 110.0;
const GAP: f64 = 30.0;
const BOTTOM: f64 = 56.0;

fn colour(p: Policy) -> &'static str {
    match p {
        Policy::Reactive => "#1f77b4",
        Policy::Step => "#9467bd",
        Policy::Static => "#8c564b",
        Policy::Scheduled => "#e377c2",
        Policy::AwsStyle => "#ff7f0e",
        Policy::Prescale => "#2ca02c",
        Policy::Oracle => "#17becf",
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k at or above `v` (1 for nothing to draw).
fn nice(v: f64) -> f64 {
    if !(v > 0.0 && v.is_finite()) {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|k| k * p)
        .find(|x| *x >= v * (1.0 - 1e-12))
        .unwrap_or(10.0 * p)
}

fn label(v: f64) -> String {
    if v >= 1e15 {
        format!("{v:.1e}")
    } else if v >= 1e12 {
        format!("{}T", significant(v / 1e12, 6))
    } else if v >= 1e9 {
        format!("{}G", significant(v / 1e9, 6))
    } else if v >= 1e6 {
        format!("{}M", significant(v / 1e6, 6))
    } else if v >= 1e3 {
        format!("{}k", significant(v / 1e3, 6))
    } else {
        significant(v, 6)
    }
}

/// `v` to `digits` significant digits, without trailing zeros: `0.30000000000000004` is `0.3`,
/// a capacity of 0.00756 stays `0.00756`.
fn significant(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() { "0".into() } else { format!("{v}") };
    }
    let decimals = (digits - 1 - v.abs().log10().floor() as i32).clamp(0, 15) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A whole number with thousands separators (`6,492`).
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// The time-axis tick interval in minutes: the smallest that gives at most 8 ticks.
fn tick_minutes(span: usize) -> i64 {
    [10, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160, 40320]
        .into_iter()
        .find(|m| span as i64 / m <= 8)
        .unwrap_or(80640)
}

/// Per pixel column of `range`: (first minute, end minute).
fn columns(range: &Range<usize>, width: usize) -> Vec<(usize, usize)> {
    let n = range.len();
    let c = n.min(width).max(1);
    (0..c).map(|i| (range.start + i * n / c, range.start + (i + 1) * n / c)).filter(|(a, b)| b > a).collect()
}

/// The maximal runs `[i, j)` of `true` in `flags`.
fn runs(flags: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        if flags[i] {
            let j = (i..flags.len()).find(|j| !flags[*j]).unwrap_or(flags.len());
            out.push((i, j));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The chart of `r` as an SVG document.
pub fn svg(r: &SimReport, o: &ChartOptions) -> String {
    let len = r.demand.len();
    let range = o.range.clone().map(|x| x.start.min(len)..x.end.min(len)).filter(|x| !x.is_empty()).unwrap_or(0..len);
    let cap = r.settings.capacity_per_instance;
    let plot_w = WIDTH - LEFT - RIGHT;
    let cols = columns(&range, plot_w as usize);
    let n_cols = cols.len().max(1) as f64;
    let x_of = |i: usize| LEFT + i as f64 * plot_w / n_cols;
    let x_minute = |m: usize| LEFT + (m.saturating_sub(range.start)) as f64 * plot_w / range.len().max(1) as f64;
    let demand: Vec<f64> = cols.iter().map(|(a, b)| r.demand[*a..*b].iter().copied().fold(0.0, f64::max)).collect();
    let capacity: Vec<Vec<f64>> = r
        .timeline
        .iter()
        .map(|tl| {
            cols.iter().map(|(a, b)| tl[*a..*b].iter().map(|x| f64::from(x.0) * cap).fold(0.0, f64::max)).collect()
        })
        .collect();
    let short: Vec<Vec<bool>> = r
        .timeline
        .iter()
        .map(|tl| {
            cols.iter().map(|(a, b)| (*a..*b).any(|t| r.demand[t] > f64::from(tl[t].0) * cap * (1.0 + 1e-9))).collect()
        })
        .collect();
    // Minutes the trace was missing, replayed at the value before: marked along each panel's top.
    let held: Vec<bool> = cols.iter().map(|(a, b)| (*a..*b).any(|t| r.held.get(t).copied().unwrap_or(false))).collect();
    let top = capacity.iter().flatten().chain(&demand).copied().fold(0.0, f64::max);
    let y_max = nice(top);
    let k = r.policies.len();
    let height = TOP + k as f64 * (PANEL + GAP) + BOTTOM - GAP;
    let panel_top = |p: usize| TOP + p as f64 * (PANEL + GAP);
    let y_of = |p: usize, v: f64| panel_top(p) + PANEL - (v / y_max).clamp(0.0, 1.0) * PANEL;
    let t_of = |m: usize| r.trace.start + Duration::minutes(m as i64);

    let mut s = String::new();
    let w = &mut s;
    // Writing to a String cannot fail.
    let _ = writeln!(
        w,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(w, r#"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="white"/>"#);
    let _ = writeln!(w, r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"#, escape(&o.title));
    let sub = format!(
        "{} to {} UTC · capacity {} per instance · target {:.0} % · boot {} min",
        t_of(range.start).format("%Y-%m-%d %H:%M"),
        t_of(range.end).format("%Y-%m-%d %H:%M"),
        if cap >= 100.0 { thousands(cap.round()) } else { significant(cap, 3) },
        r.settings.target_utilization * 100.0,
        r.settings.boot_mins
    );
    let held_minutes = r.held.get(range.clone()).map_or(0, |h| h.iter().filter(|x| **x).count());
    let sub = if held_minutes > 0 {
        let what = if r.trace.repaired_negative > 0 { "missing or negative" } else { "missing" };
        format!("{sub} · grey on top: {held_minutes} min held ({what} in the trace)")
    } else {
        sub
    };
    let _ = writeln!(w, r##"<text x="{LEFT}" y="36" fill="#444">{}</text>"##, escape(&sub));
    // Legend.
    let lx = WIDTH - RIGHT - 420.0;
    let _ = writeln!(
        w,
        r##"<g class="legend"><rect x="{lx}" y="42" width="14" height="10" fill="#bbbbbb"/><text x="{}" y="51">demand</text><line x1="{}" y1="47" x2="{}" y2="47" stroke="#333" stroke-width="2"/><text x="{}" y="51">serving capacity (colour per policy)</text><rect x="{}" y="44" width="14" height="6" fill="#d62728"/><text x="{}" y="51">under-provisioned</text></g>"##,
        lx + 18.0,
        lx + 80.0,
        lx + 100.0,
        lx + 104.0,
        lx + 310.0,
        lx + 328.0
    );
    // Time ticks, aligned to UTC.
    let every = tick_minutes(range.len());
    let first = t_of(range.start);
    let epoch_min = first.timestamp().div_euclid(60);
    let offset = (every - epoch_min.rem_euclid(every)) % every;
    let ticks: Vec<usize> =
        (0..).map(|i| range.start + (offset + i * every) as usize).take_while(|m| *m < range.end).collect();
    let fmt = |t: DateTime<Utc>| {
        if every >= 1440 { t.format("%Y-%m-%d").to_string() } else { t.format("%m-%d %H:%M").to_string() }
    };
    for (p, result) in r.policies.iter().enumerate() {
        let y0 = panel_top(p);
        let _ = writeln!(w, r#"<g class="panel" data-policy="{}">"#, result.policy);
        let (mut under, mut paid) = (0u64, 0u64);
        for t in range.clone() {
            let (serving, d) = r.timeline[p][t];
            paid += u64::from(d);
            if r.demand[t] > f64::from(serving) * cap * (1.0 + 1e-9) {
                under += 1;
            }
        }
        let _ = writeln!(
            w,
            r##"<text x="{LEFT}" y="{:.1}" font-weight="bold" fill="{}">{}</text><text x="{:.1}" y="{:.1}" fill="#444">{:.0} instance-h · {} min under-provisioned from {} to {} (the view)</text>"##,
            y0 - 6.0,
            colour(result.policy),
            result.policy,
            LEFT + 80.0,
            y0 - 6.0,
            // As the table rounds it (a half to even: 4,372.5 is 4372 in both).
            paid as f64 / 60.0,
            under,
            fmt(t_of(range.start)),
            fmt(t_of(range.end))
        );
        let _ = writeln!(
            w,
            r##"<rect x="{LEFT}" y="{y0:.1}" width="{plot_w}" height="{PANEL}" fill="none" stroke="#999"/>"##
        );
        for v in [0.0, y_max / 2.0, y_max] {
            let y = y_of(p, v);
            let _ = writeln!(
                w,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT + plot_w,
                LEFT - 4.0,
                y + 4.0,
                label(v)
            );
        }
        for m in &ticks {
            let x = x_minute(*m);
            let _ =
                writeln!(w, r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/>"##, y0 + PANEL);
        }
        // Demand as an area, capacity as a step line.
        let mut d = format!("M{LEFT:.1},{:.1}", y0 + PANEL);
        let mut c = String::new();
        for (i, v) in demand.iter().enumerate() {
            let _ = write!(d, "V{:.1}H{:.1}", y_of(p, *v), x_of(i + 1));
            let y = y_of(p, capacity[p][i]);
            if i == 0 {
                let _ = write!(c, "M{LEFT:.1},{y:.1}H{:.1}", x_of(1));
            } else {
                let _ = write!(c, "V{y:.1}H{:.1}", x_of(i + 1));
            }
        }
        let _ = write!(d, "V{:.1}Z", y0 + PANEL);
        let _ = writeln!(w, r##"<path class="demand" d="{d}" fill="#bbbbbb" stroke="none"/>"##);
        let _ = writeln!(
            w,
            r#"<path class="capacity" d="{c}" fill="none" stroke="{}" stroke-width="1.2"/>"#,
            colour(result.policy)
        );
        let width = |i: usize, j: usize| (x_of(j) - x_of(i)).max(1.0).min(LEFT + plot_w - x_of(i));
        for (i, j) in runs(&short[p]) {
            let _ = writeln!(
                w,
                r##"<rect class="under" x="{:.1}" y="{:.1}" width="{:.1}" height="5" fill="#d62728"/>"##,
                x_of(i),
                y0 + PANEL - 5.0,
                width(i, j)
            );
        }
        for (i, j) in runs(&held) {
            let _ = writeln!(
                w,
                r##"<rect class="held" x="{:.1}" y="{y0:.1}" width="{:.1}" height="4" fill="#777777"/>"##,
                x_of(i),
                width(i, j)
            );
        }
        for (m, text) in &o.markers {
            if range.contains(m) {
                let x = x_minute(*m);
                let _ = writeln!(
                    w,
                    r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{:.1}" stroke="#d62728" stroke-dasharray="3,3"/><text x="{:.1}" y="{:.1}" fill="#d62728">{}</text>"##,
                    y0 + PANEL,
                    x + 3.0,
                    y0 + 11.0,
                    escape(text)
                );
            }
        }
        let _ = writeln!(w, "</g>");
    }
    // The time axis under the last panel, and the axis titles.
    let y_axis = panel_top(k.saturating_sub(1)) + PANEL;
    for m in &ticks {
        let x = x_minute(*m);
        let _ = writeln!(
            w,
            r##"<line x1="{x:.1}" y1="{y_axis:.1}" x2="{x:.1}" y2="{:.1}" stroke="#444"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            y_axis + 5.0,
            y_axis + 18.0,
            fmt(t_of(*m))
        );
    }
    let _ = writeln!(
        w,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time (UTC)</text>"#,
        LEFT + plot_w / 2.0,
        y_axis + 38.0
    );
    let mid = TOP + (height - TOP - BOTTOM) / 2.0;
    let _ = writeln!(
        w,
        r#"<text x="16" y="{mid:.1}" text-anchor="middle" transform="rotate(-90 16 {mid:.1})">load (the trace's units per step)</text>"#
    );
    let _ = writeln!(w, "</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_read_with_thousands_separators() {
        assert_eq!(thousands(6492.0), "6,492");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(100.0), "100");
        assert_eq!(thousands(-2500.0), "-2,500");
    }

    #[test]
    fn labels_carry_no_floating_point_noise() {
        assert_eq!(label(0.1 * 3.0), "0.3");
        assert_eq!(label(0.15000000000000002), "0.15");
        assert_eq!(label(2_500.0), "2.5k");
        assert_eq!(label(1_500_000.0), "1.5M");
        assert_eq!(label(1e12), "1T");
        assert_eq!(label(2.5e9), "2.5G");
        assert_eq!(label(3e20), "3.0e20");
        assert_eq!(label(40.0), "40");
        assert_eq!(significant(0.00756, 3), "0.00756");
        assert_eq!(significant(12.345, 3), "12.3");
    }

    #[test]
    fn nice_rounds_up_to_a_readable_scale() {
        assert_eq!(nice(17_500.0), 20_000.0);
        assert_eq!(nice(2_400.0), 2_500.0);
        assert_eq!(nice(26_500.0), 30_000.0);
        assert_eq!(nice(1_000.0), 1_000.0);
        assert_eq!(nice(0.0), 1.0);
    }

    #[test]
    fn columns_cover_the_range_once() {
        let c = columns(&(10..40_330), 1090);
        assert_eq!(c.len(), 1090);
        assert_eq!(c[0].0, 10);
        assert_eq!(c.last().map(|x| x.1), Some(40_330));
        assert!(c.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!(columns(&(0..5), 1090), vec![(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]);
        assert_eq!(tick_minutes(40_320), 10080);
        assert_eq!(tick_minutes(300), 60);
    }
}
