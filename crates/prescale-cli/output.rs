//! Printers: data to stdout, readable without colour.

use std::io::Write;

use anyhow::Result;
use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{Cell, CellAlignment, Table};
use prescale_core::{
    CapacityPlan, Change, DecisionKind, Forecast, GroupPlan, Level, MetricId, PolicyKind, ScheduledAction,
};
use prescale_store::IngestSummary;

use crate::Format;
use crate::commands::{Fit, GroupApply, WhatIf};
use crate::config::CostConfig;

/// Standard output for the commands' reports. A reader that goes away (`prescale nightly | head`)
/// does not stop the run: the rest of its output is dropped, and the run ends as it would have,
/// with its exit code (a broken pipe used to end it at the first line that did not fit, with
/// success, before anything was applied).
pub fn stdout() -> Stdout {
    Stdout(std::io::stdout().lock())
}

/// See [`stdout`].
pub struct Stdout(std::io::StdoutLock<'static>);

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(buf.len());
        }
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(buf.len())
            }
            other => other,
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            other => other,
        }
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(header.iter().map(Cell::new));
    t
}

fn right(t: &mut Table, from: usize) {
    for i in from..t.column_count() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// Digits with their thousands separated: `1257` is `1,257`.
fn grouped(digits: &str) -> String {
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A warning a fleet's groups may each earn (the same broken exporter, the same alarm period):
/// said in full for the first, then shortened for the others, which name it (`as for web-1
/// above`), so that 200 copies of one cause do not bury another group's own. `None` for the
/// first to say `what` in this run; else that first one's name.
pub fn said_before(what: &str, who: &str) -> Option<String> {
    static SAID: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match said.iter().find(|(w, _)| w == what) {
        Some((_, first)) => Some(first.clone()),
        None => {
            said.push((what.to_string(), who.to_string()));
            None
        }
    }
}

/// A count for people: thousands separated.
pub fn count(n: u64) -> String {
    grouped(&n.to_string())
}

/// `n` of `noun` with the noun in the number's form: `1 slot`, `2 slots`.
pub fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// A percentage for a table's column: as [`num`] from 1 up, with three decimals below 1 and
/// "< 0.001" below that (not a float's exponent beside its neighbours' decimals).
fn percent(v: f64) -> String {
    match v {
        0.0 => "0".into(),
        v if v > 0.0 && v < 0.001 => "< 0.001".into(),
        v if v.abs() < 1.0 => format!("{v:.3}"),
        v => num(v),
    }
}

/// A number for people: thousands separated, few decimals.
pub fn num(v: f64) -> String {
    num_like(v, v)
}

/// Decimals for numbers of `typical`'s size: none from 100, one from 1, three below (`None`:
/// too small or too large for fixed decimals, three significant digits instead).
fn decimals_for(typical: f64) -> Option<usize> {
    let t = typical.abs();
    if t != 0.0 && !(0.01..1e15).contains(&t) {
        None
    } else if t >= 100.0 {
        Some(0)
    } else if t >= 1.0 {
        Some(1)
    } else {
        Some(3)
    }
}

/// `v` with the decimals a number of `typical`'s size gets, so that a column reads alike (a
/// forecast of 7.0 with a lower bound of 0.0, not 0.000).
pub fn num_like(v: f64, typical: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    // Tiny and huge magnitudes in three significant digits: a series in the thousandths would
    // read as all zeros, one near 1e97 as a hundred digits.
    let decimals = match (decimals_for(v), decimals_for(typical)) {
        // A zero reads as one among numbers too small for fixed decimals.
        (_, None) if v == 0.0 => return "0".into(),
        (None, _) if v.abs() >= 1.0 => None,
        (_, None) => None,
        (_, Some(d)) => Some(d),
    };
    let Some(decimals) = decimals else {
        return format!("{v:.2e}");
    };
    // Zero has no sign (-0.0 prints as 0.000).
    let v = if v == 0.0 { 0.0 } else { v };
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let grouped = grouped(int);
    // A value that rounds to zero at the column's decimals has no sign either.
    let sign = if v < 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) { "-" } else { "" };
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

pub fn ingest(out: &mut impl Write, done: &[IngestSummary]) -> Result<()> {
    if done.is_empty() {
        writeln!(out, "Ingested into the metric store: nothing (the warnings on stderr say why)")?;
        return Ok(());
    }
    let mut t = table(&[
        "series",
        "samples",
        "stored before",
        "after",
        "replaced",
        "snapped",
        "duplicates",
        "NaN dropped",
        "interpolated",
        "missing",
    ]);
    for s in done {
        let g = &s.grid;
        t.add_row(vec![
            s.id.to_string(),
            g.samples.to_string(),
            s.before.to_string(),
            s.after.to_string(),
            s.replaced.to_string(),
            match g.offset_ms {
                // The offset past the slot before them; each went to its nearest slot, forward or back.
                Some(ms) => format!("{} (all {} s past a slot, to the nearest)", g.snapped, ms as f64 / 1000.0),
                None => g.snapped.to_string(),
            },
            if g.conflicting > 0 {
                format!("{} ({} slots disagree)", g.duplicates, g.conflicting)
            } else {
                g.duplicates.to_string()
            },
            g.non_finite.to_string(),
            g.interpolated.to_string(),
            g.missing.to_string(),
        ]);
    }
    right(&mut t, 1);
    writeln!(out, "Ingested into the metric store:\n{t}")?;
    let pruned: Vec<&IngestSummary> = done.iter().filter(|s| s.pruned > 0).collect();
    if !pruned.is_empty() {
        writeln!(
            out,
            "pruned: {} slots older than [store] retention_days before their series' newest, from {}",
            count(pruned.iter().map(|s| s.pruned as u64).sum()),
            crate::commands::series_named(&pruned.iter().map(|s| s.id.clone()).collect::<Vec<_>>())
        )?;
    }
    if done.iter().any(|s| s.grid.conflicting > 0) {
        let first: Vec<String> = done
            .iter()
            .filter_map(|s| s.grid.first_conflict.map(|t| format!("{} at {}", s.id, t.format("%Y-%m-%d %H:%M:%S UTC"))))
            .collect();
        writeln!(
            out,
            "slots disagree: readings of one time slot that differ by more than half the larger one were averaged; \
             two series written as one source (two hosts, two dimensions) look like this (the first: {})",
            first.join(", ")
        )?;
    }
    let averaged: Vec<MetricId> = done.iter().filter(|s| s.grid.aggregated > 0).map(|s| s.id.clone()).collect();
    if !averaged.is_empty() {
        // A fleet's series all come so from a finer export: named by count, not one by one.
        let which = if averaged.len() == done.len() && done.len() > 1 {
            format!("all {} series", done.len())
        } else {
            crate::commands::series_named(&averaged)
        };
        writeln!(
            out,
            "gathered: {which} came denser than [ingest] period_secs; each slot holds the samples of its period \
             [T, T + period), as CloudWatch aggregates: their mean, or as the metric's stat says (Sum: the period's \
             total; Maximum, Minimum) (not counted as duplicates)"
        )?;
    }
    Ok(())
}

pub fn fits(out: &mut impl Write, fits: &[Fit]) -> Result<()> {
    if fits.is_empty() {
        writeln!(out, "No forecast written.")?;
        return Ok(());
    }
    let mut t = table(&["series", "model", "from", "steps", "warnings"]);
    for f in fits {
        t.add_row(vec![
            f.id.to_string(),
            f.model.clone(),
            f.forecast.start.format("%Y-%m-%d %H:%M").to_string(),
            f.forecast.len().to_string(),
            f.warnings.join("; "),
        ]);
    }
    writeln!(out, "Forecasts written:\n{t}")?;
    Ok(())
}

/// A forecast's rows; `issued`, when it was fitted (a stored forecast), is said beside its model;
/// `context` (what was forecast: the group and metric, or the input file, its history and its
/// repairs; its `time_zone`, which the table adds a column of local times for) goes into the JSON
/// document beside them.
pub fn forecast(
    out: &mut impl Write,
    f: &Forecast,
    levels: &[Level],
    format: Format,
    issued: Option<chrono::DateTime<chrono::Utc>>,
    shaped_by: &[String],
    context: serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    // RFC 3339 ends with the year 9999 (chrono writes `+10000-01-01T…`, which no reader takes).
    if let Some(last) = f.len().checked_sub(1).map(|i| f.ts(i)).filter(|t| chrono::Datelike::year(t) > 9999) {
        anyhow::bail!(
            "the forecast reaches {}, past the year 9999 that ISO-8601 timestamps can write\nhint: check the \
             input's timestamps (a history ending at the end of 9999 is most often a placeholder date)",
            last.format("%Y-%m-%d")
        );
    }
    // Bounds for a requested level that was not forecast come from the quantile read-out.
    let bounds: Vec<(Level, Vec<f64>, Vec<f64>)> = levels
        .iter()
        .map(|l| match f.interval(*l) {
            Some(iv) => (*l, iv.lower.clone(), iv.upper.clone()),
            None => {
                let (ql, qu) = l.quantiles();
                (*l, f.quantile(ql), f.quantile(qu))
            }
        })
        .collect();
    let mut header = vec!["ts".to_string(), "mean".to_string()];
    for (l, _, _) in &bounds {
        header.push(format!("lo{}", l.label()));
        header.push(format!("hi{}", l.label()));
    }
    let row = |i: usize| -> Vec<f64> {
        let mut r = vec![f.point[i]];
        for (_, lo, hi) in &bounds {
            r.push(lo[i]);
            r.push(hi[i]);
        }
        r
    };
    match format {
        Format::Csv => {
            writeln!(out, "{}", header.join(","))?;
            for i in 0..f.len() {
                let vals: Vec<String> = row(i).iter().map(|v| v.to_string()).collect();
                writeln!(out, "{},{}", f.ts(i).format("%Y-%m-%dT%H:%M:%SZ"), vals.join(","))?;
            }
        }
        Format::Json => {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> = (0..f.len())
                .map(|i| {
                    let mut m = serde_json::Map::new();
                    m.insert("ts".into(), f.ts(i).format("%Y-%m-%dT%H:%M:%SZ").to_string().into());
                    for (k, v) in header[1..].iter().zip(row(i)) {
                        m.insert(k.clone(), v.into());
                    }
                    m
                })
                .collect();
            let mut doc = serde_json::json!({
                "model": f.model,
                "issued": issued.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                "step_secs": f.step_secs,
                "weekend_ratio": f.weekend_ratio,
                // The events that shaped these rows (`forecast show --events`), as the plan shapes them.
                "shaped_by_events": shaped_by,
                "backtest": f.scores,
                // The blend's own score at the same origins (null for a single model).
                "blend_mase": f.blend_mase,
                "blend_origins": f.blend_origins,
                "levels": bounds.iter().map(|(l, ..)| l.label()).collect::<Vec<_>>(),
                "rows": rows
            });
            if let Some(m) = doc.as_object_mut() {
                m.extend(context);
            }
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
        }
        Format::Table => {
            // The group's (or --time-zone's) wall clock beside UTC, for a planner who thinks in it.
            let zone = context.get("time_zone").and_then(|z| z.as_str()).and_then(|z| z.parse::<chrono_tz::Tz>().ok());
            let mut h: Vec<&str> = header.iter().map(String::as_str).collect();
            if zone.is_some() {
                h.insert(1, "local");
            }
            let mut t = table(&h);
            // Seconds where the grid has them (a 10 s step, stamps at :30), so no two rows read alike.
            let stamp = if f.step_secs % 60 != 0 || f.start.timestamp() % 60 != 0 {
                "%Y-%m-%d %H:%M:%S"
            } else {
                "%Y-%m-%d %H:%M"
            };
            // One precision for the whole table, from the forecast's typical size.
            let mut sizes: Vec<f64> = f.point.iter().map(|v| v.abs()).filter(|v| v.is_finite()).collect();
            sizes.sort_by(f64::total_cmp);
            let typical = sizes.get(sizes.len() / 2).copied().unwrap_or(0.0);
            for i in 0..f.len() {
                let mut cells = vec![f.ts(i).format(stamp).to_string()];
                if let Some(z) = zone {
                    cells.push(f.ts(i).with_timezone(&z).format("%a %H:%M %Z").to_string());
                }
                cells.extend(row(i).into_iter().map(|v| num_like(v, typical)));
                t.add_row(cells);
            }
            right(&mut t, if zone.is_some() { 2 } else { 1 });
            writeln!(
                out,
                "model {} · {} step{} of {} s · times in UTC{}{}{}",
                f.model,
                f.len(),
                if f.len() == 1 { "" } else { "s" },
                f.step_secs,
                zone.map(|z| format!(" (local: {})", z.name())).unwrap_or_default(),
                issued.map(|t| format!(" · fitted {}", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default(),
                if shaped_by.is_empty() { String::new() } else { format!(" · shaped by {}", shaped_by.join(", ")) }
            )?;
            if let Some(r) = f.weekend_ratio {
                writeln!(
                    out,
                    "weekends: forecast at {r:.2} × the load of the weekdays beside them, as the history's weekends \
                     ran ([forecast] weekends = false, or --weekends false, forecasts them as any day)"
                )?;
            }
            if !f.scores.is_empty() {
                let parts: Vec<String> = f
                    .scores
                    .iter()
                    .map(|s| {
                        let w = if s.weight > 0.0 { format!(" ×{:.2}", s.weight) } else { String::new() };
                        format!(
                            "{} {}{w}",
                            s.model,
                            if s.mase.is_finite() { format!("{:.2}", s.mase) } else { "-".into() }
                        )
                    })
                    .collect();
                // The figure [trust] reads, and the blend's own at the origins that chose its weights.
                let weighted = match f.weighted_mase() {
                    Some(m) if f.scores.len() > 1 => format!("; weighted {m:.2} ([trust] max_backtest_mase reads it)"),
                    _ => String::new(),
                };
                let blend = f.blend_mase.map_or_else(String::new, |m| {
                    let over = f.blend_origins.map_or_else(|| "the origins".to_string(), |n| counted(n, "origin"));
                    format!("; the weighted blend itself {m:.2}, median over {over} that chose its weights")
                });
                let blend = format!("{weighted}{blend}");
                writeln!(
                    out,
                    "backtest MASE on its own history, learnt weekends and holidays taken out (1 = the error of \
                     same time yesterday there; `prescale backtest` scores the series as it is, lower on weekly \
                     traffic), median over origins (weight): {}{blend}",
                    parts.join(" · ")
                )?;
                // The weights weigh each origin's error against the reference's (a sum of log
                // ratios), which a median of MASEs over origins does not show.
                if f.scores.len() > 1 && f.scores.iter().any(|s| s.reference) {
                    writeln!(
                        out,
                        "weights: prior × exp(−Σ over origins of ln(MAE / the median's MAE)), the sum scaled down where \
                         the origins disagree; where nothing but the medians beat the median, the medians alone"
                    )?;
                }
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}

/// `text` with its control characters (a newline, an escape) written as escapes: names that come
/// from AWS or a plan file as they were given are shown as text, not as lines or terminal
/// commands of their own.
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

fn action_line(a: &ScheduledAction) -> String {
    let a = &ScheduledAction { name: printable(&a.name), ..a.clone() };
    let mut parts = Vec::new();
    if let Some(v) = a.min_size {
        parts.push(format!("MinSize {v}"));
    }
    if let Some(v) = a.max_size {
        parts.push(format!("MaxSize {v}"));
    }
    if let Some(v) = a.desired_capacity {
        parts.push(format!("Desired {v}"));
    }
    // A zone Auto Scaling would refuse shows as its name; the config check refuses it earlier.
    let tz = prescale_plan::action_zone(a);
    let zone = match (a.zone(), tz) {
        (Some(z), None) => format!(" [TimeZone {z}]"),
        _ => String::new(),
    };
    // A recurring action read without a start time stands at the epoch: said by its recurrence.
    if let Some(r) = &a.recurrence
        && a.start_time.timestamp() == 0
    {
        return format!("{} recurring \"{r}\"{zone}: {}", a.name, parts.join(", "));
    }
    let recurring = a.recurrence.as_ref().map(|r| format!(", recurring \"{r}\"")).unwrap_or_default();
    format!("{} at {}{zone}: {}{recurring}", a.name, prescale_plan::local(a.start_time, tz), parts.join(", "))
}

fn policy_line(p: &prescale_core::ReactivePolicy) -> String {
    let p = &prescale_core::ReactivePolicy { name: printable(&p.name), ..p.clone() };
    match &p.kind {
        PolicyKind::TargetTracking {
            metric, target_value, estimated_instance_warmup_secs, disable_scale_in, ..
        } => {
            format!(
                "{}: target tracking {metric} = {target_value}, {}{}",
                p.name,
                estimated_instance_warmup_secs.map_or(
                    "no warm-up set (the group's default instance warm-up, else its cooldown, counts)".into(),
                    |w| format!("warm-up {w} s")
                ),
                if *disable_scale_in { ", scale-in disabled (the step policy scales in)" } else { "" }
            )
        }
        PolicyKind::StepScaling { adjustment_type, steps, estimated_instance_warmup_secs, .. } => {
            let unit = if adjustment_type == "PercentChangeInCapacity" { " %" } else { "" };
            let steps: Vec<String> = steps
                .iter()
                .map(|s| {
                    let bound = |b: Option<f64>, inf: &str| b.map_or(inf.to_string(), |v| format!("{v:+}"));
                    format!("[{}, {}) {:+}{unit}", bound(s.lower, "-inf"), bound(s.upper, "+inf"), s.adjustment)
                })
                .collect();
            let warm = estimated_instance_warmup_secs.map_or(String::new(), |w| format!(", warm-up {w} s"));
            format!("{}: step scaling {}{warm}", p.name, steps.join(" "))
        }
        PolicyKind::Other { policy_type } => format!("{}: {policy_type}", p.name),
        _ => p.name.clone(),
    }
}

fn alarm_line(a: &prescale_core::MetricAlarm) -> String {
    let op = match a.comparison.as_str() {
        "GreaterThanOrEqualToThreshold" => ">=",
        "GreaterThanThreshold" => ">",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "<=",
        other => other,
    };
    let dims: Vec<String> = a.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{}: {} {} {} [{}] {op} {} for {} × {} s → {}{}",
        a.name,
        a.namespace,
        a.metric_name,
        a.statistic,
        dims.join(","),
        a.threshold,
        a.evaluation_periods,
        a.period_secs,
        if a.policy.is_empty() { "(no policy of the group)" } else { &a.policy },
        if a.actions_enabled { "" } else { " (actions disabled: it fires and scales nothing)" }
    )
}

/// `~ what new  (was old)`, the old one where it reads differently (an alarm is put again with
/// its policy even when it did not change).
fn changed(what: &str, new: String, old: String) -> String {
    if new == old { format!("~ {what} {new}") } else { format!("~ {what} {new}  (was {old})") }
}

pub fn change_line(c: &Change) -> String {
    match c {
        Change::PutScheduledAction { new, old: None } => format!("+ action {}", action_line(new)),
        Change::PutScheduledAction { new, old: Some(o) } => {
            format!("~ action {}  (was {})", action_line(new), action_line(o))
        }
        Change::DeleteScheduledAction { old } => format!("- action {}", action_line(old)),
        Change::PutPolicy { new, old: None } => format!("+ policy {}", policy_line(new)),
        Change::PutPolicy { new, old: Some(o) } => changed("policy", policy_line(new), policy_line(o)),
        Change::DeletePolicy { old } => format!("- policy {}", policy_line(old)),
        Change::PutAlarm { new, old: None } => format!("+ alarm {}", alarm_line(new)),
        Change::PutAlarm { new, old: Some(o) } => changed("alarm", alarm_line(new), alarm_line(o)),
        Change::DeleteAlarm { old } => format!("- alarm {}", alarm_line(old)),
        Change::SetBounds { new, old } => {
            let bound = |what: &str, new: u32, old: u32| {
                if new == old { format!("{what} {new}") } else { format!("{what} {new} (was {old})") }
            };
            format!("~ bounds {}, {}", bound("MinSize", new.min(), old.min()), bound("MaxSize", new.max(), old.max()))
        }
    }
}

fn group_plan(out: &mut impl Write, g: &GroupPlan, compact: bool) -> Result<()> {
    let raised = g.raised_max.map_or(String::new(), |m| format!(" (MaxSize raised to {m} for the peak)"));
    writeln!(out, "\n{} ({}), bounds {}–{}{raised}", g.group, g.environment, g.bounds.min(), g.bounds.max())?;
    // A group's forecast and actions carry its time zone: its forecast's peak and its floors read
    // on its clock (a plan written before the forecast kept it, by its actions').
    let zone = g
        .forecast
        .as_ref()
        .and_then(|f| f.time_zone.as_deref())
        .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
        .or_else(|| g.scheduled_actions.iter().find_map(prescale_plan::action_zone));
    if let Some(f) = &g.forecast {
        let at = f.peak_at.with_timezone(&zone.unwrap_or(chrono_tz::UTC)).format("%Y-%m-%d %H:%M %Z");
        writeln!(
            out,
            "  forecast {} of {}: peak {} at {at}, P{:.0} peak {}",
            f.model,
            f.metric,
            num(f.peak_point),
            f.quantile * 100.0,
            num(f.peak_quantile)
        )?;
    }
    if compact {
        // One line per day: "Mon 11-23 UTC  07:50→12  20:10→4"; for a group with a time zone, its
        // days and times on its clock ("Mon 03-30 CEST  08:50→29"), a time whose offset is not the
        // line's (the night the clocks change) with its own abbreviation.
        let mut day = None;
        let mut line = String::new();
        let mut line_zone = String::new();
        for a in &g.scheduled_actions {
            let t = a.start_time.with_timezone(&zone.unwrap_or(chrono_tz::UTC));
            let (d, weekday, abbreviation, time) =
                (t.date_naive(), t.format("%a %m-%d").to_string(), t.format("%Z").to_string(), t.format("%H:%M"));
            if day != Some(d) {
                if !line.is_empty() {
                    writeln!(out, "{line}")?;
                }
                line = format!("  floors {weekday} {abbreviation} ");
                line_zone.clone_from(&abbreviation);
                day = Some(d);
            }
            let size = a.min_size.map_or("-".into(), |v| v.to_string());
            let own = if abbreviation == line_zone { String::new() } else { format!(" {abbreviation}") };
            line.push_str(&format!(" {time}{own}→{size}"));
        }
        if !line.is_empty() {
            writeln!(out, "{line}")?;
        }
    } else {
        for a in &g.scheduled_actions {
            writeln!(out, "  floor  {}", action_line(a))?;
        }
    }
    for p in &g.policies {
        writeln!(out, "  policy {}", policy_line(p))?;
    }
    for a in &g.alarms {
        writeln!(out, "  alarm  {}", alarm_line(a))?;
    }
    for d in &g.decisions {
        writeln!(out, "  why    {}: {}", d.what, d.why)?;
    }
    Ok(())
}

pub fn plan(out: &mut impl Write, plan: &CapacityPlan) -> Result<()> {
    writeln!(out, "Plan {} (made {})", plan.plan_id, plan.created_at.format("%Y-%m-%d %H:%M UTC"))?;
    for g in &plan.groups {
        group_plan(out, g, false)?;
    }
    Ok(())
}

/// The diff per group; with `limit`, at most that many changes per group and a count of the rest.
pub fn applied(out: &mut impl Write, results: &[GroupApply], execute: bool, limit: Option<usize>) -> Result<()> {
    for r in results {
        // A group that could not be read had nothing applied to it: its title says what was tried.
        let verb = match (r.run, execute && r.error.is_none()) {
            ("revert", true) => "reverted on",
            ("revert", false) if execute => "revert on",
            ("revert", false) => "revert dry run against",
            (_, true) => "applied to",
            (_, false) if execute => "apply to",
            (_, false) => "dry run against",
        };
        writeln!(out, "\n{} ({verb} {}):", r.group, r.sink)?;
        if let Some(e) = &r.error {
            writeln!(out, "  error: {e}")?;
            continue;
        }
        for n in &r.notes {
            writeln!(out, "  note: {n}")?;
        }
        if r.changes.is_empty() && r.run == "revert" {
            writeln!(out, "  no changes: the group holds nothing of prescale's")?;
        } else if r.changes.is_empty() {
            writeln!(out, "  no changes: the group already matches the plan")?;
        }
        // With a limit, policy and alarm changes are always shown and scheduled actions are capped.
        let is_policy =
            |c: &&Change| !matches!(c, Change::PutScheduledAction { .. } | Change::DeleteScheduledAction { .. });
        let mut listed: Vec<&Change> = r.changes.iter().filter(is_policy).collect();
        let actions: Vec<&Change> = r.changes.iter().filter(|c| !is_policy(c)).collect();
        let cap = limit.unwrap_or(usize::MAX).min(actions.len());
        // A failed change is listed whatever the cap: it is what someone has to look at.
        let is_failed = |c: &Change| r.report.as_ref().is_some_and(|rep| rep.failed.iter().any(|f| f.change == *c));
        if limit.is_some() {
            listed.extend(actions.iter().enumerate().filter(|(i, c)| *i < cap || is_failed(c)).map(|(_, c)| *c));
        } else {
            listed = r.changes.iter().collect();
        }
        let shown = listed.len();
        for c in listed {
            let failed = r.report.as_ref().and_then(|rep| rep.failed.iter().find(|f| f.change == *c));
            match failed {
                Some(f) if f.unanswered => {
                    writeln!(out, "  {}  NO ANSWER, MAY HAVE BEEN MADE: {}", change_line(c), f.error)?;
                }
                // Not sent (the run stopped, or the service before it): said as what it is.
                Some(f) if f.not_attempted => {
                    let why = f.error.strip_prefix("not attempted: ").unwrap_or(&f.error);
                    writeln!(out, "  {}  NOT ATTEMPTED: {why}", change_line(c))?;
                }
                Some(f) => writeln!(out, "  {}  FAILED: {}", change_line(c), f.error)?,
                None => writeln!(out, "  {}", change_line(c))?,
            }
        }
        if shown < r.changes.len() {
            writeln!(out, "  … and {} more", r.changes.len() - shown)?;
        }
        if let Some(rep) = &r.report
            && !rep.failed.is_empty()
        {
            let unknown = rep.unanswered();
            let skipped = rep.not_attempted();
            if skipped > 0 {
                let refused = rep.failed.len() - skipped;
                writeln!(
                    out,
                    "  {} of {} changes not made: {}{skipped} not attempted",
                    rep.failed.len(),
                    r.changes.len(),
                    match (refused, unknown) {
                        (0, _) => String::new(),
                        (n, 0) => format!("{n} FAILED, "),
                        (n, u) => format!(
                            "{n} FAILED ({u} without an answer in time: they may have been made, the next dry run shows \
                             which), "
                        ),
                    }
                )?;
            } else if unknown > 0 {
                writeln!(
                    out,
                    "  {} of {} changes FAILED, {unknown} of them without an answer in time: they may have been made \
                     (the next dry run shows which)",
                    rep.failed.len(),
                    r.changes.len()
                )?;
            } else {
                writeln!(out, "  {} of {} changes FAILED", rep.failed.len(), r.changes.len())?;
            }
        }
    }
    Ok(())
}

/// The nightly summary: per group the model, the forecast peak with its interval, the planned
/// actions, the instance-hours their floors hold against a fleet fixed at the peak's floor, and the diff.
pub fn summary(
    out: &mut impl Write,
    plan: &CapacityPlan,
    fits: &[Fit],
    results: &[GroupApply],
    execute: bool,
) -> Result<()> {
    let mut t = table(&[
        "group",
        "env",
        "model",
        "forecast peak (UTC)",
        "80 % interval",
        "95 % interval",
        "floors",
        "floor inst-h vs fixed at peak",
        "changes",
    ]);
    for g in &plan.groups {
        let fit =
            fits.iter().find(|f| f.id.group == g.group && g.forecast.as_ref().is_some_and(|s| s.metric == f.id.metric));
        let (peak, i80, i95) = match fit {
            Some(f) => {
                let fc = &f.forecast;
                let i = fc.peak_step();
                let iv = |l: f64| {
                    Level::new(l)
                        .ok()
                        .and_then(|l| fc.interval(l))
                        .map_or("-".into(), |iv| format!("{} – {}", num(iv.lower[i]), num(iv.upper[i])))
                };
                (format!("{} at {}", num(fc.point[i]), fc.ts(i).format("%a %H:%M")), iv(0.8), iv(0.95))
            }
            None => ("no forecast".into(), "-".into(), "-".into()),
        };
        // Events shaped the forecast the plan used (its peak over the plan's horizon is not the
        // fit's): the plan's peak is shown, with the fit's intervals at that step moved as the
        // events move them (`prescale_plan::moved_bounds`).
        let fit_peak = |f: &Fit, from| {
            let fc = &f.forecast;
            (0..fc.len()).filter(|&i| fc.ts(i) >= from).map(|i| fc.point[i]).fold(f64::NEG_INFINITY, f64::max)
        };
        let (peak, i80, i95) = match (fit, &g.forecast) {
            (Some(f), Some(s)) if (s.peak_point - fit_peak(f, s.from)).abs() > 1e-9 * s.peak_point.abs().max(1.0) => {
                let fc = &f.forecast;
                let (new, j) = (s.peak_point, (0..fc.len()).find(|&j| fc.ts(j) == s.peak_at));
                // A plan of the events alone (the fit was not trusted) has no intervals of the fit's.
                let own = s.model != "events-only";
                let iv = |l: f64| {
                    let (Some(j), Some(iv), true) = (j, Level::new(l).ok().and_then(|l| fc.interval(l)), own) else {
                        return "-".to_string();
                    };
                    let (lo, hi) = prescale_plan::moved_bounds(iv.lower[j], iv.upper[j], fc.point[j], new);
                    format!("{} – {}", num(lo), num(hi))
                };
                (format!("{} at {} (events)", num(new), s.peak_at.format("%a %H:%M")), iv(0.8), iv(0.95))
            }
            _ => (peak, i80, i95),
        };
        let floors = match (
            g.scheduled_actions.iter().filter_map(|a| a.min_size).min(),
            g.scheduled_actions.iter().filter_map(|a| a.min_size).max(),
        ) {
            (Some(lo), Some(hi)) => {
                let n = g.scheduled_actions.len();
                format!("{n} action{}, {lo}–{hi}", if n == 1 { "" } else { "s" })
            }
            _ => "none (reactive only)".into(),
        };
        let changes = results.iter().find(|r| r.group == g.group).map_or("-".into(), |r| match &r.error {
            Some(_) => "error".into(),
            None => r.changes.len().to_string(),
        });
        t.add_row(vec![
            g.group.clone(),
            g.environment.clone(),
            g.forecast.as_ref().map_or("-".into(), |f| short_model(&f.model)),
            peak,
            i80,
            i95,
            floors,
            prescale_plan::floor_hours(g).map_or("-".into(), |h| {
                // Rounded first: a change under half a percent reads "+0 %", not "-0 %".
                let pct = ((h.planned / h.static_peak.max(1e-9) - 1.0) * 100.0).round();
                format!("{} vs {} ({:+.0} %)", num(h.planned), num(h.static_peak), pct + 0.0)
            }),
            changes,
        ]);
    }
    right(&mut t, 3);
    writeln!(out, "\nPlan {}:\n{t}", plan.plan_id)?;
    for g in &plan.groups {
        group_plan(out, g, true)?;
    }
    writeln!(out, "\n{}:", if execute { "Applied" } else { "Dry-run diff" })?;
    applied(out, results, execute, Some(SUMMARY_CHANGES))
}

/// `nightly --quiet`: a line per group, for a cron job's mail.
/// `from_store`: groups whose load this run could not store (planned from what the store held).
pub fn summary_lines(
    out: &mut impl Write,
    plan: &CapacityPlan,
    results: &[GroupApply],
    execute: bool,
    from_store: &[String],
) -> Result<()> {
    for g in &plan.groups {
        let levels = || g.scheduled_actions.iter().filter_map(|a| a.min_size);
        let floors = match (levels().min(), levels().max()) {
            (Some(lo), Some(hi)) if g.forecast.is_some() => {
                let n = g.scheduled_actions.len();
                let range = if lo == hi { format!("{lo}") } else { format!("{lo}–{hi}") };
                format!("{n} floor{} {range}", if n == 1 { "" } else { "s" })
            }
            _ => "no floors (reactive only)".into(),
        };
        // Floors cut at MaxSize where the forecast needs more: the cron mail says so, not only stderr.
        // … and taken down to fit the fleet's limit.
        let floors = [DecisionKind::Clamped, DecisionKind::FleetScaled].iter().fold(floors, |floors, kind| {
            match g.decisions.iter().find(|d| d.kind == *kind) {
                Some(d) => format!("{floors}, {}", d.what),
                None => floors,
            }
        });
        // Events that moved its floors (the plan's lines for them say how).
        let moved = g.decisions.iter().filter(|d| prescale_plan::moved_floors(d)).count();
        let floors = match moved {
            0 => floors,
            1 => format!("{floors}, 1 event moving them"),
            n => format!("{floors}, {n} events moving them"),
        };
        let floors = if from_store.contains(&g.group) {
            format!("{floors}, its load not ingested this run: planned from what the store held")
        } else {
            floors
        };
        let model = g.forecast.as_ref().map_or(String::new(), |f| format!(" ({})", short_model(&f.model)));
        let changes = match results.iter().find(|r| r.group == g.group) {
            // Stopped before its turn, or behind a group whose calls failed: nothing was tried.
            Some(r) if r.not_attempted() => "not attempted (see stderr)".to_string(),
            Some(r) if r.error.is_some() => "failed (see stderr)".to_string(),
            Some(r) => {
                let (n, failed, unanswered) = r.tally();
                let verb = if execute { "applied" } else { "to apply (dry run)" };
                let mut text = if n == 0 {
                    "no changes".into()
                } else {
                    format!("{n} change{} {verb}", if n == 1 { "" } else { "s" })
                };
                if failed > 0 {
                    text.push_str(&format!(", {failed} failed (see stderr)"));
                }
                if unanswered > 0 {
                    text.push_str(&format!(", {unanswered} unanswered, may have been made (see stderr)"));
                }
                text
            }
            None => "-".into(),
        };
        writeln!(out, "{}: {floors}{model}; {changes}", g.group)?;
    }
    Ok(())
}

/// The whole run in a line, for a fleet whose groups' lines run to hundreds: groups planned (with
/// floors, or on their reactive policy alone), left out, and the changes made or to make.
pub fn fleet_line(plan: &CapacityPlan, held: usize, results: &[GroupApply], execute: bool) -> String {
    let floors = plan
        .groups
        .iter()
        .filter(|g| g.forecast.is_some() && g.scheduled_actions.iter().any(|a| a.min_size.is_some()))
        .count();
    let planned = plan.groups.len();
    let plural = |n: usize, one: &str, many: &str| format!("{} {}", count(n as u64), if n == 1 { one } else { many });
    let mut line = format!(
        "{}: {} planned ({floors} with floors, {} on {} reactive policy alone)",
        plural(planned + held, "group", "groups"),
        count(planned as u64),
        count((planned - floors) as u64),
        if planned - floors == 1 { "its" } else { "their" },
    );
    if held > 0 {
        line.push_str(&format!(", {} left out with floors in place (see stderr)", count(held as u64)));
    }
    let skipped = results.iter().filter(|r| r.not_attempted()).count();
    let errored = results.iter().filter(|r| r.error.is_some()).count() - skipped;
    let (made, failed, unanswered) =
        results.iter().map(GroupApply::tally).fold((0, 0, 0), |(m, f, u), (a, b, c)| (m + a, f + b, u + c));
    line.push_str(&format!(
        "; {} {}",
        plural(made, "change", "changes"),
        if execute { "applied" } else { "to apply (dry run)" }
    ));
    if failed > 0 {
        line.push_str(&format!(", {} not made", count(failed as u64)));
    }
    if unanswered > 0 {
        line.push_str(&format!(", {} unanswered, may have been made", count(unanswered as u64)));
    }
    if errored > 0 {
        line.push_str(&format!(", {} that could not be read or written", plural(errored, "group", "groups")));
    }
    if skipped > 0 {
        line.push_str(&format!(", {} not attempted", plural(skipped, "group", "groups")));
    }
    if failed + unanswered + errored + skipped > 0 {
        line.push_str(" (see stderr)");
    }
    line
}

/// Changes per group the nightly summary prints; the full list is in the files it names.
pub const SUMMARY_CHANGES: usize = 6;

/// `prescale backtest`: per series, one row per model; the lowest MASE is marked.
pub fn backtest(
    out: &mut impl Write,
    results: &[(String, Vec<prescale_forecast::evaluate::Scores>)],
    format: Format,
) -> Result<()> {
    match format {
        Format::Table => {}
        Format::Json => {
            let doc: Vec<_> =
                results.iter().map(|(s, rows)| serde_json::json!({ "series": s, "models": rows })).collect();
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
            return Ok(());
        }
        Format::Csv => return backtest_csv(out, results),
    }
    for (name, rows) in results {
        let levels: Vec<f64> = rows[0].coverage.iter().map(|(l, _)| *l).collect();
        let mut header =
            vec!["model".to_string(), "fit at the last origin".into(), "MASE".into(), "sMAPE %".into(), "WAPE".into()];
        for kind in ["cov", "width"] {
            header.extend(levels.iter().map(|l| format!("{kind}{}", level_label(*l))));
        }
        header.push("pinball".into());
        let h: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut t = table(&h);
        let best = rows.iter().map(|r| r.mase).filter(|v| v.is_finite()).fold(f64::INFINITY, f64::min);
        // A score that is undefined on this series (a WAPE of an all-zero one: 0 / 0) is a dash.
        let fixed = |v: f64, decimals: usize| if v.is_finite() { format!("{v:.decimals$}") } else { "-".into() };
        for r in rows {
            let fitted = r.fitted.first().cloned().unwrap_or_default();
            let mark = if r.mase == best { " *" } else { "" };
            let mut cells =
                vec![format!("{}{mark}", r.model), fitted, fixed(r.mase, 3), fixed(r.smape, 1), fixed(r.wape, 3)];
            cells.extend(r.coverage.iter().map(|(_, c)| fixed(*c, 2)));
            cells.extend(r.width.iter().map(|(_, w)| fixed(*w, 2)));
            cells.push(fixed(r.pinball, 3));
            t.add_row(cells);
        }
        right(&mut t, 2);
        // How many actuals a coverage is counted on: a handful of steps says little.
        let scored = rows[0].runs.iter().flat_map(|r| &r.actual).filter(|v| v.is_finite()).count();
        writeln!(
            out,
            "{name}: {}, {} scored · MASE = MAE / mean |y(t) − y(t − 1 day)| of each origin's training window, \
             averaged over the origins · * = lowest MASE\n{t}",
            counted(rows[0].origins, "origin"),
            counted(scored, "step")
        )?;
        // Per origin: one window (a holiday, an incident) can make a mean.
        let mut origins: Vec<chrono::DateTime<chrono::Utc>> =
            rows.iter().flat_map(|r| r.per_origin.iter().map(|o| o.origin)).collect();
        origins.sort();
        origins.dedup();
        if origins.len() > 1 {
            let mut header = vec!["origin (UTC)".to_string()];
            header.extend(rows.iter().map(|r| r.model.clone()));
            let h: Vec<&str> = header.iter().map(String::as_str).collect();
            let mut t = table(&h);
            for at in &origins {
                let cell = |r: &prescale_forecast::evaluate::Scores| {
                    r.per_origin.iter().find(|o| o.origin == *at).and_then(|o| o.mase)
                };
                let low = rows.iter().filter_map(cell).fold(f64::INFINITY, f64::min);
                let mut cells = vec![at.format("%Y-%m-%d %H:%M").to_string()];
                cells.extend(rows.iter().map(|r| match cell(r) {
                    Some(v) if v == low => format!("{v:.3} *"),
                    Some(v) => format!("{v:.3}"),
                    None => "-".into(),
                }));
                t.add_row(cells);
            }
            right(&mut t, 1);
            writeln!(
                out,
                "MASE per origin (over its whole horizon, from the first step forecast, the time shown; * = lowest \
                 there):\n{t}"
            )?;
        }
        // An interval that is a line (a model without a spread, a series flat at the origin)
        // covers nothing: its coverage and pinball are not the model's calibration.
        for r in rows {
            let levels: Vec<Level> = r
                .runs
                .first()
                .map(|run| run.forecast.intervals.iter().map(|iv| iv.level).collect())
                .unwrap_or_default();
            for level in levels {
                let (flat, all) = r.runs.iter().fold((0usize, 0usize), |(f, a), run| {
                    let Some(i) = run.forecast.interval(level) else { return (f, a) };
                    let n = i.lower.len();
                    (f + i.lower.iter().zip(&i.upper).filter(|(l, u)| l == u).count(), a + n)
                });
                if all > 0 && flat * 4 > all {
                    writeln!(
                        out,
                        "note: {}: its {} % interval has no width at {:.0} % of the steps (the bounds equal the point): \
                         its coverage there is not a calibration",
                        r.model,
                        level_label(level.value()),
                        100.0 * flat as f64 / all as f64
                    )?;
                }
            }
        }
    }
    if let Some((_, rows)) = results.first() {
        let levels: Vec<String> = rows[0].coverage.iter().map(|(l, _)| level_label(*l)).collect();
        writeln!(
            out,
            "cov{L}: share of actuals inside the {L} % interval (calibrated: close to {L} %), over every step of \
             every origin · width{L}: its mean width / the mean |actual| · pinball: mean quantile loss of the \
             intervals' bounds and the point, on the MASE's scale (lower is better, width and coverage in one number; \
             it depends on the levels asked, so compare it between runs with the same --levels). MASE, sMAPE and \
             pinball are means over the origins. A model that is lowest on a group's series over many origins can \
             be set as [forecast] model; auto, the default, weighs them all on each series' own backtests every fit, \
             and a single model ahead of it over a few origins may be ahead by chance",
            L = levels.join("/")
        )?;
    }
    Ok(())
}

/// A level (0.995) as its columns name it (`99.5`, `95`).
fn level_label(l: f64) -> String {
    Level::new(l).map_or_else(|_| l.to_string(), |l| l.label())
}

/// `prescale backtest --format csv`: one row per series and model, the table's columns (every
/// level's coverage and width), the model fitted at the last origin in full; undefined scores NaN.
fn backtest_csv(out: &mut impl Write, results: &[(String, Vec<prescale_forecast::evaluate::Scores>)]) -> Result<()> {
    let levels: Vec<f64> =
        results.first().map(|(_, rows)| rows[0].coverage.iter().map(|(l, _)| *l).collect()).unwrap_or_default();
    let mut header = ["series", "model", "fitted", "origins", "mase", "smape", "wape"].join(",");
    for kind in ["cov", "width"] {
        for l in &levels {
            header.push_str(&format!(",{kind}{}", level_label(*l)));
        }
    }
    writeln!(out, "{header},pinball")?;
    // Undefined scores as `forecast show --format csv` writes a missing value: NaN.
    let cell = |v: f64| if v.is_finite() { v.to_string() } else { "NaN".into() };
    let quoted =
        |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    for (series, rows) in results {
        for r in rows {
            let mut cells = vec![
                quoted(series),
                quoted(&r.model),
                quoted(r.fitted.first().map_or("", String::as_str)),
                r.origins.to_string(),
                cell(r.mase),
                cell(r.smape),
                cell(r.wape),
            ];
            cells.extend(r.coverage.iter().map(|(_, c)| cell(*c)));
            cells.extend(r.width.iter().map(|(_, w)| cell(*w)));
            cells.push(cell(r.pinball));
            writeln!(out, "{}", cells.join(","))?;
        }
    }
    Ok(())
}

/// A blend's id cut to its leading member for tables: `auto[mstl(day) 80% + …]`.
fn short_model(id: &str) -> String {
    match id.split_once(" + ") {
        Some((head, _)) if id.ends_with(']') => format!("{head} + …]"),
        _ => id.to_string(),
    }
}

/// Where the replay's capacity per instance came from, as the table says it: the JSON keeps the
/// short token (`given`, `p95/10`), the table the rule a reader can check.
/// The line that says on what period of the metric the reactive policies' alarms act, where a
/// policy replayed has alarms.
fn alarm_periods(out: &mut impl Write, r: &prescale_sim::SimReport) -> Result<()> {
    use prescale_sim::Policy;
    let p = r.settings.metric_period_mins;
    let has = |x: Policy| r.policies.iter().any(|y| y.policy == x);
    if !(has(Policy::Reactive) || has(Policy::AwsStyle) || has(Policy::Prescale) || has(Policy::Step)) {
        return Ok(());
    }
    let (out_n, in_n) = (prescale_sim::group::SCALE_OUT_PERIODS, prescale_sim::group::SCALE_IN_PERIODS);
    let monitoring = match p {
        1 => "detailed monitoring's; --metric-period-mins 5 for basic monitoring's",
        5 => "basic monitoring's; --metric-period-mins 1 for detailed monitoring's",
        _ => "as given",
    };
    // A step alarm of a shorter period than the metric's would find most of its periods empty:
    // the replay reads it at the metric's, as the period_secs that fits would.
    let stepped = has(Policy::Step) || (has(Policy::Prescale) && r.settings.step.enabled);
    let replayed = prescale_sim::group::StepScaling::alarm_settings(&r.settings.step, p).period_secs;
    let raised = if stepped && replayed > r.settings.step.period_secs {
        format!(
            "; the step alarms' {}-s periods read at {p} minutes, as step period_secs = {replayed} would (on a \
             {p}-minute metric they would find most of their periods empty)",
            r.settings.step.period_secs
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "alarms on {p}-minute periods ({monitoring}): target tracking out after {} min above the target, in after {} \
         min below 90 % of it{raised}",
        out_n * p,
        in_n * p
    )?;
    Ok(())
}

fn capacity_source(token: &str) -> &str {
    match token {
        "p95/10" => "the trace's p95 needs 10 instances at the target",
        "scenario" => "the load tests' default; --capacity sets another",
        "group" => "the group's capacity_per_instance",
        other => other,
    }
}

/// The simulator's comparison: a line on the trace and settings, one row per policy. `planned`:
/// the floors are sized as a configured group's plan sizes them (`simulate --group` without
/// sizing flags), not by the replay's defaults.
pub fn simulation(out: &mut impl Write, label: &str, r: &prescale_sim::SimReport, planned: bool) -> Result<()> {
    let (t, s) = (&r.trace, &r.settings);
    writeln!(
        out,
        "{label}: {} to {}, step {} s, {} minutes replayed",
        t.start.format("%Y-%m-%d %H:%M"),
        t.end.format("%Y-%m-%d %H:%M UTC"),
        t.step_secs,
        t.minutes
    )?;
    let has = |p: prescale_sim::Policy| r.policies.iter().any(|x| x.policy == p);
    write!(
        out,
        "capacity {} per instance ({}), target {:.0} %{}, instances {}–{}, boot {} min",
        num(s.capacity_per_instance),
        capacity_source(s.capacity_source),
        s.target_utilization * 100.0,
        if s.metric_ceiling.is_some() { " of a metric that reads at most 100 %, as CPU does" } else { "" },
        s.min_size,
        s.max_size,
        s.boot_mins,
    )?;
    // The lead both forecasting policies' floors are launched with, and why where it is not the
    // lead time.
    let aws = has(prescale_sim::Policy::AwsStyle);
    // aws-style launches at most an hour ahead (AWS's SchedulingBufferTime is under an hour).
    let capped = aws && s.lead_mins > prescale_sim::AWS_MAX_BUFFER_MINS;
    let lead = if s.lead_mins > s.lead_time_mins {
        format!(
            "{} min (the boot time{}: a lead time of {} min would serve late)",
            s.lead_mins,
            if aws && !capped && has(prescale_sim::Policy::Prescale) { ", aws-style's too" } else { "" },
            s.lead_time_mins
        )
    } else {
        format!("{} min", s.lead_mins)
    };
    let aws_lead = format!(
        "{} min, the longest SchedulingBufferTime AWS takes{}",
        prescale_sim::AWS_MAX_BUFFER_MINS,
        if s.lead_mins > s.lead_time_mins { ": its instances serve after the hour begins" } else { "" }
    );
    let lead =
        if capped && has(prescale_sim::Policy::Prescale) { format!("{lead}; aws-style's {aws_lead}") } else { lead };
    if !has(prescale_sim::Policy::Prescale) {
        if aws {
            let lead = if capped { aws_lead } else { lead };
            writeln!(out, ", aws-style with lead {lead}")?;
        } else {
            writeln!(out)?;
        }
    } else {
        writeln!(
            out,
            ", prescale at P{:.0}{} with lead {lead}",
            s.quantile * 100.0,
            s.quantile_utilization
                .map(|u| format!(
                    " ≤ {:.0} %{}",
                    u * 100.0,
                    if s.point_at_target { " (point at the target)" } else { " (point left to target tracking)" }
                ))
                .unwrap_or_default()
                + match s.unskilled {
                    prescale_plan::Unskilled::Trust => "",
                    prescale_plan::Unskilled::Median => ", P50 where the forecast did not beat the flat median",
                    prescale_plan::Unskilled::None => ", no floors where the forecast did not beat the flat median",
                }
                + &s.floor_mean_mins.map(|m| format!(", floors for each {m} min's mean load")).unwrap_or_default(),
        )?;
        // What `prescale plan` writes unless an environment opts in: the replay's default is not it.
        // (At the target itself the floors are the plan's default: the point lies below the quantile.
        // A group replayed with its environment's sizing is its plan's.)
        if let Some(u) = s.quantile_utilization.filter(|u| *u > s.target_utilization + 1e-9 && !planned) {
            writeln!(
                out,
                "(prescale plan sizes floors so only for an environment with quantile_utilization = {}{}; by default \
                 it sizes the P{:.0} at the target: --quantile-utilization {} replays that)",
                u,
                if s.point_at_target { "" } else { ", point_at_target = false" },
                s.quantile * 100.0,
                s.target_utilization
            )?;
        }
    }
    let (step_out, step_in) =
        prescale_sim::group::StepScaling::thresholds(&s.step, s.target_utilization, s.metric_ceiling);
    let alarms = prescale_sim::group::StepScaling::alarm_settings(&s.step, s.metric_period_mins);
    let in_mins = alarms.in_window_mins(s.boot_mins.saturating_mul(60));
    alarm_periods(out, r)?;
    // Utilization is demand over the serving capacity: above 100 % only while demand exceeds it
    // (a CPU alarm could never reach that).
    let over = if step_out > 100.0 { ": demand above the serving capacity" } else { "" };
    if !(has(prescale_sim::Policy::Prescale) || has(prescale_sim::Policy::Step)) {
        // No policy here has the fallback the next line describes.
    } else if !has(prescale_sim::Policy::Prescale) {
        // The step policy alone: its thresholds, not prescale's fallback.
        writeln!(
            out,
            "the step policy: step scaling alone (out at {step_out:.0} %{over}, in below {step_in:.0} % for {in_mins} \
             min)"
        )?;
    } else if s.step.scales_in_alone() {
        writeln!(
            out,
            "prescale's fallback: target tracking out only and step scaling (out at {step_out:.0} %{over}, the only \
             scale-in below {step_in:.0} % for {in_mins} min)"
        )?;
    } else if s.step.enabled {
        // As the plan writes it: no step policy in beside target tracking's own scale-in.
        writeln!(out, "prescale's fallback: target tracking and step scaling out (at {step_out:.0} %{over})")?;
    } else {
        writeln!(out, "prescale's fallback: target tracking alone (step scaling off)")?;
    }
    if !r.nights.is_empty() {
        let ok = r.nights.iter().filter(|n| n.error.is_none()).count();
        let mut extra = String::new();
        match s.transform {
            prescale_forecast::transform::Transform::None => {}
            prescale_forecast::transform::Transform::Log => extra += ", fit on the log",
            prescale_forecast::transform::Transform::BoxCox => extra += ", fit on the Box–Cox transform",
        }
        if s.holidays > 0 && s.model.uses_flags() {
            extra += &format!(", {} holidays", s.holidays);
        } else if s.holidays > 0 {
            extra += &format!(", {} holidays ignored by seasonal-naive", s.holidays);
        }
        if let Some(zone) = &s.local_clock {
            extra += &format!(", the daily cycle on the clock of {zone}");
        }
        writeln!(
            out,
            "nightly forecast and plan: {ok} of {} midnights from {} (after {} day{} of history{extra})",
            r.nights.len(),
            r.nights[0].at.format("%Y-%m-%d"),
            s.min_history_days,
            if s.min_history_days == 1 { "" } else { "s" }
        )?;
    }
    if !t.input_repairs.is_empty() {
        writeln!(out, "read: {}", t.input_repairs.join(", "))?;
    }
    let held: Vec<String> = [(t.repaired_missing, "missing slot"), (t.repaired_negative, "negative value")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| counted(*n, what))
        .collect();
    if !held.is_empty() {
        writeln!(out, "repaired: {} held at the value before (at the first value, before it)", held.join(" and "))?;
    }
    let priced = s.price_per_hour.is_some();
    let spot = s.spot_share.is_some();
    let cur = s.currency.as_deref().unwrap_or("$");
    if let (Some(share), Some(od), Some(sp)) = (s.spot_share, s.price_per_hour, s.spot_price_per_hour) {
        writeln!(
            out,
            "prices: on demand {} {cur}/h; spot mix: {:.0} % of instance-hours on spot at {} {cur}/h",
            num(od),
            share * 100.0,
            num(sp)
        )?;
    }
    let (on_demand, spot_mix) = (format!("{cur} on demand"), format!("{cur} spot mix"));
    let mut header = vec!["policy", "instance-h"];
    if priced {
        header.push(&on_demand);
    }
    if spot {
        header.push(&spot_mix);
    }
    header.extend([
        "under-prov. min",
        "peak util %",
        "min > target %",
        "actions",
        "reversals < 1 h",
        "worst shortfall (inst.)",
    ]);
    let mut tb = table(&header);
    for p in &r.policies {
        let mut row = vec![p.policy.to_string(), num(p.instance_hours)];
        row.extend(p.dollars.map(num));
        row.extend(p.dollars_spot_mix.map(num));
        // Counts as people read them (1,257), like the instance-hours beside them.
        row.extend([
            count(p.under_provisioned_minutes),
            num(p.peak_utilization * 100.0),
            percent(p.share_above_target * 100.0),
            count(p.scaling_actions),
            count(p.reversals_within_hour),
            count(p.worst_shortfall_instances),
        ]);
        tb.add_row(row);
    }
    right(&mut tb, 1);
    writeln!(out, "{tb}")?;
    // What prescale buys against reactive, in a line: the comparison the table is read for.
    let find = |p: prescale_sim::Policy| r.policies.iter().find(|x| x.policy == p);
    if let (Some(re), Some(pr)) = (find(prescale_sim::Policy::Reactive), find(prescale_sim::Policy::Prescale)) {
        let change = |a: f64, b: f64| {
            if b > 0.0 { format!("{:+.1} %", (a / b - 1.0) * 100.0) } else { "-".to_string() }
        };
        let money = match (pr.dollars, re.dollars) {
            (Some(a), Some(b)) => {
                // Money to the cent (a difference of a fraction of one read in exponent form).
                format!(", {cur} {}", if a >= b { format!("+{:.2}", a - b) } else { format!("-{:.2}", b - a) })
            }
            _ => String::new(),
        };
        writeln!(
            out,
            "prescale against reactive: instance-hours {} ({} against {}{money}), under-provisioned minutes {} \
             against {}, reversals within an hour {} against {}",
            change(pr.instance_hours, re.instance_hours),
            num(pr.instance_hours),
            num(re.instance_hours),
            count(pr.under_provisioned_minutes),
            count(re.under_provisioned_minutes),
            count(pr.reversals_within_hour),
            count(re.reversals_within_hour)
        )?;
    }
    // Shortfalls where the trace resumes after a held stretch are the repair's step, not load's.
    let after_held: Vec<String> = r
        .policies
        .iter()
        .filter(|p| p.under_provisioned_minutes_held > 0)
        .map(|p| format!("{} {}", p.policy, count(p.under_provisioned_minutes_held)))
        .collect();
    if !after_held.is_empty() {
        writeln!(
            out,
            "of the under-provisioned minutes, in held stretches of the trace or the hour after one: {} (where the \
             trace resumes at another level than the one held, the step is the repair's, not the load's)",
            after_held.join(", ")
        )?;
    }
    // The cost of minutes the trace did not measure: the policies planned and scaled for a load
    // the repair made up, and a ranking on their instance-hours may be the held stretches'.
    if r.policies.iter().any(|p| p.instance_hours_held > 0.0) {
        let measured: Vec<String> = r
            .policies
            .iter()
            .map(|p| format!("{} {}", p.policy, num((p.instance_hours - p.instance_hours_held).max(0.0))))
            .collect();
        writeln!(
            out,
            "instance-hours on the measured minutes alone (the held stretches and the hour after each left out, as \
             the costs above do not): {}",
            measured.join(", ")
        )?;
    }
    // The oracle holds the target wherever the group's bounds let it.
    if let Some(o) = r.policies.iter().find(|p| p.policy == prescale_sim::Policy::Oracle)
        && o.share_above_target > 0.0
    {
        writeln!(
            out,
            "oracle above the target for {} % of the minutes: there the load needs more than MaxSize {} instances at \
             the target",
            percent(o.share_above_target * 100.0),
            s.max_size
        )?;
    }
    Ok(())
}

/// `simulate --scenario`: per load test, a line on the shape and one row per policy.
pub fn scenarios(out: &mut impl Write, reports: &[prescale_sim::scenario::ScenarioReport]) -> Result<()> {
    use prescale_sim::Policy;
    use prescale_sim::scenario::SCALE_OUT_TARGET_MINS;
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let (sh, s) = (&r.shape, &r.replay.settings);
        writeln!(out, "{}: {}", sh.scenario, sh.description)?;
        writeln!(
            out,
            "base {}, peak {} (needs {} instances at {:.0} %); onset {}; figures from the onset to {} (an hour after the test)",
            num(sh.base_load),
            num(sh.peak_load),
            num(f64::from(r.peak_need)),
            s.target_utilization * 100.0,
            sh.onset.format("%Y-%m-%d %H:%M UTC"),
            (sh.end + chrono::Duration::minutes(prescale_sim::scenario::AFTER_MINS as i64)).format("%H:%M"),
        )?;
        writeln!(
            out,
            "capacity {} per instance ({}), instances {}–{}, boot {} min",
            num(s.capacity_per_instance),
            capacity_source(s.capacity_source),
            s.min_size,
            s.max_size,
            s.boot_mins
        )?;
        alarm_periods(out, &r.replay)?;
        if let Some(floor) = r.prescale_planned_peak {
            let fallback = if s.step.enabled { "target tracking and step scaling" } else { "target tracking" };
            if floor > s.min_size {
                writeln!(
                    out,
                    "prescale's plan for the test day (forecast on the ordinary days only) holds floors up to {floor} \
                     instances: the test is met by its reactive fallback ({fallback})"
                )?;
            } else {
                writeln!(
                    out,
                    "prescale's plan for the test day (forecast on the ordinary days only) holds no floor above the \
                     group's minimum ({}): what the minimum does not cover is met by its reactive fallback ({fallback})",
                    s.min_size
                )?;
            }
        }
        let priced = r.results.iter().any(|x| x.dollars.is_some());
        let spot = r.results.iter().any(|x| x.dollars_spot_mix.is_some());
        let mut header = vec![
            "policy",
            "kept up",
            "under-prov. min",
            "worst shortfall (inst.)",
            "scale-out min",
            "≤ 5 min",
            "scale-in min",
            "reversals < 1 h",
            "thrashed",
            "instance-h",
        ];
        let cur = s.currency.as_deref().unwrap_or("$");
        let (on_demand, spot_mix) = (format!("{cur} on demand"), format!("{cur} spot mix"));
        if priced {
            header.push(&on_demand);
        }
        if spot {
            header.push(&spot_mix);
        }
        let mut tb = table(&header);
        let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
        for x in &r.results {
            let mut row = vec![
                x.policy.to_string(),
                yes(x.kept_up),
                count(x.under_provisioned_minutes),
                count(x.worst_shortfall_instances),
                x.scale_out_mins.map_or("not in the peak".into(), count),
                yes(x.scale_out_within_target),
                x.scale_in_mins.map_or("never".into(), count),
                count(x.reversals_within_hour),
                yes(x.thrashed),
                num(x.instance_hours),
            ];
            row.extend(x.dollars.map(num));
            row.extend(x.dollars_spot_mix.map(num));
            tb.add_row(row);
        }
        right(&mut tb, 1);
        writeln!(out, "{tb}")?;
        // The group's maximum, not the policies, decides a test whose peak needs more.
        let beyond_max = sh.peak_load > f64::from(s.max_size) * s.capacity_per_instance * (1.0 + 1e-9);
        if beyond_max {
            writeln!(
                out,
                "the peak needs {} instances at the target and MaxSize {} cannot serve it even at full capacity: no \
                 policy, the oracle included, keeps up; raise --max to test scaling rather than the maximum",
                num(f64::from(r.peak_need)),
                s.max_size
            )?;
        } else if r.peak_need > s.max_size {
            writeln!(
                out,
                "the peak needs {} instances at the target and MaxSize is {}: at the peak every policy runs above the \
                 target",
                num(f64::from(r.peak_need)),
                s.max_size
            )?;
        }
        let reactive = r.results.iter().find(|x| x.policy == Policy::Reactive);
        if let Some(ceiling) = s.metric_ceiling
            && !beyond_max
            && let Some(reactive) = reactive
            && reactive.scale_out_mins.is_none_or(|m| m > SCALE_OUT_TARGET_MINS)
            && reactive.capped_scale_outs > 0
        {
            // Where a scale-out launched fewer than the load needed because the metric read its
            // ceiling, no boot time mends it: the metric no longer says how far the load is above.
            let step_sooner = r.results.iter().any(|x| {
                (x.policy == Policy::Step || (x.policy == Policy::Prescale && s.step.enabled))
                    && x.scale_out_mins.is_some_and(|m| reactive.scale_out_mins.is_none_or(|r| m < r))
            });
            writeln!(
                out,
                "target tracking {}: its metric reads at most 100 %, so each of its rounds grows the group by at most \
                 ×{:.2}, a breach and a boot apart, whatever the boot time ({} of its scale-outs launched fewer than the \
                 load needed); a metric that reads the demand (requests per target){} gets there sooner",
                reactive.scale_out_mins.map_or("never caught up in the peak".to_string(), |m| format!(
                    "took {m} min, over the {SCALE_OUT_TARGET_MINS}-minute target"
                )),
                ceiling / s.target_utilization,
                reactive.capped_scale_outs,
                if step_sooner { " or the step policy's larger steps, as above," } else { "" },
            )?;
        } else if let Some(reactive) = reactive
            && let Some(m) = reactive.scale_out_mins
            && m > SCALE_OUT_TARGET_MINS
        {
            let alarm = u64::from(prescale_sim::group::SCALE_OUT_PERIODS) * u64::from(s.metric_period_mins);
            let best = SCALE_OUT_TARGET_MINS.saturating_sub(alarm);
            let rise = (sh.rise_end - sh.onset).num_minutes();
            // The boot that meets the target is for a jump at once (the spike); a load that climbs
            // for longer waits the alarm again on each step of the climb.
            if alarm >= SCALE_OUT_TARGET_MINS && sh.scenario == prescale_sim::scenario::Scenario::Spike {
                writeln!(
                    out,
                    "target tracking took {m} min, over the {SCALE_OUT_TARGET_MINS}-minute target: its alarm alone \
                     takes {alarm} min on {}-minute periods, so no boot time meets it (1-minute periods need detailed \
                     monitoring)",
                    s.metric_period_mins
                )?;
            } else if u64::from(s.boot_mins) > best && sh.scenario == prescale_sim::scenario::Scenario::Spike {
                writeln!(
                    out,
                    "target tracking took {m} min, over the {SCALE_OUT_TARGET_MINS}-minute target: it acts after {alarm} \
                     breaching minutes and its instances serve {} min after launch; on a spike a boot of at most {best} \
                     min (--boot-mins {best}) meets the target",
                    s.boot_mins,
                )?;
            } else {
                writeln!(
                    out,
                    "target tracking took {m} min, over the {SCALE_OUT_TARGET_MINS}-minute target: the load rises for \
                     {rise} min and each step of its rise waits {alarm} breaching minutes and the {} min boot",
                    s.boot_mins,
                )?;
            }
        }
    }
    writeln!(
        out,
        "\nscale-out: minutes from the onset until serving capacity covers demand for the rest of the peak \
         (target ≤ {SCALE_OUT_TARGET_MINS}); scale-in: minutes from the end of the peak until the paid instances are down for good \
         to what the load needs at 90 % of the target (never: not by the end of the figures); thrashed: more direction reversals less than an hour after \
         the previous change than the oracle, which follows the load exactly (the oracle's own count: those the \
         load forces)"
    )?;
    Ok(())
}

/// `event list`: one row per event, with where it stands for the next plan.
pub fn events(
    out: &mut impl Write,
    rows: &[(&prescale_core::Event, String, Option<chrono_tz::Tz>)],
    group: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if rows.is_empty() {
        writeln!(
            out,
            "no events stored{}; add one with `prescale event add`",
            match group {
                Some(g) => format!(" for {g}"),
                None => String::new(),
            }
        )?;
        return Ok(());
    }
    // A group with a time_zone also reads its events on its own clock, as it was given them.
    let zoned = rows.iter().any(|(_, _, z)| z.is_some());
    let mut header = vec!["group", "id", "name", "start (UTC)", "end (UTC)"];
    if zoned {
        header.push("local (the group's time_zone)");
    }
    header.extend(["effect", "status"]);
    let mut t = table(&header);
    for (e, status, zone) in rows {
        let mut cells = vec![
            e.group().to_string(),
            e.id().to_string(),
            e.name().to_string(),
            e.start().format("%Y-%m-%d %H:%M").to_string(),
            e.end().format("%Y-%m-%d %H:%M").to_string(),
        ];
        if zoned {
            cells.push(zone.map_or("-".into(), |z| {
                format!(
                    "{} to {}",
                    e.start().with_timezone(&z).format("%Y-%m-%d %H:%M %Z"),
                    e.end().with_timezone(&z).format("%Y-%m-%d %H:%M %Z")
                )
            }));
        }
        cells.extend([e.effect().describe(), status.clone()]);
        t.add_row(cells);
    }
    writeln!(out, "Events (as of {}):\n{t}", now.format("%Y-%m-%d %H:%M UTC"))?;
    Ok(())
}

/// `plan --what-if`: per group, the plan with and without its events.
pub fn what_if(
    out: &mut impl Write,
    rows: &[WhatIf],
    cost: &CostConfig,
    horizon_end: chrono::DateTime<chrono::Utc>,
    tried: bool,
) -> Result<()> {
    let mut header =
        vec!["group", "events", "peak floor without", "with", "instance-hours without", "with", "extra instance-hours"];
    if tried {
        header[2] = "peak floor as stored";
        header[4] = "instance-hours as stored";
    }
    // Prices are per group (its own, else [cost]'s): the column shows when any group has one.
    let priced = rows.iter().any(|r| r.price.is_some());
    let cost_header = priced.then(|| format!("extra cost ({})", cost.currency));
    if let Some(h) = &cost_header {
        header.push(h);
    }
    let mut t = table(&header);
    for r in rows {
        let extra = r.hours_with - r.hours_without;
        // The difference of the two columns as shown, so that the row adds up.
        let tenth = |v: f64| (v * 10.0).round() / 10.0;
        let shown = tenth(r.hours_with) - tenth(r.hours_without);
        let mut cells = vec![
            r.group.clone(),
            if r.applied == r.events.len() {
                r.events.len().to_string()
            } else {
                format!("{} of {}", r.applied, r.events.len())
            },
            r.peak_without.to_string(),
            r.peak_with.to_string(),
            format!("{:.1}", r.hours_without),
            format!("{:.1}", r.hours_with),
            format!("{shown:+.1}"),
        ];
        if priced {
            cells.push(r.price.map_or("-".into(), |p| format!("{:+.2}", extra * p)));
        }
        t.add_row(cells);
    }
    right(&mut t, 1);
    let compared = if tried {
        "the plan with the event tried against the plan the stored events make (the extra is the tried event's)"
    } else {
        "the plan with and without the events"
    };
    writeln!(
        out,
        "What if: {compared}, floors over the forecast horizon (to {}):\n{t}",
        horizon_end.format("%Y-%m-%d %H:%M UTC")
    )?;
    if rows.iter().any(|r| r.applied != r.events.len()) {
        writeln!(
            out,
            "(n of m events: only n shaped this forecast; the others are past, start beyond the horizon or \
             found nothing to shape, as said below)"
        )?;
    }
    for r in rows.iter().filter(|r| r.held_past.abs() >= 0.05) {
        writeln!(
            out,
            "({}: {} runs past the horizon, and the floor at its end holds to the event's end: {:+.1} \
             instance-hours, not in the table, if no later run replans them{})",
            r.group,
            if tried { "the event tried" } else { "an event" },
            r.held_past,
            r.price.map_or(String::new(), |p| format!(", {:+.2} {}", p * r.held_past, cost.currency))
        )?;
    }
    if !priced {
        writeln!(out, "(set [cost] instance_hour_price, or a group's instance_hour_price, to see the cost)")?;
    } else if rows.iter().any(|r| r.price.is_none()) {
        writeln!(out, "(-: the group has no instance_hour_price and [cost] sets none)")?;
    }
    for r in rows.iter().filter(|r| !r.decisions.is_empty()) {
        writeln!(out, "\n{}:", r.group)?;
        for d in &r.decisions {
            writeln!(out, "  {}: {}", d.what, d.why)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_warning_many_groups_earn_is_said_in_full_once_then_names_the_first() {
        assert_eq!(super::said_before("test: a cause", "g1"), None);
        assert_eq!(super::said_before("test: a cause", "g2").as_deref(), Some("g1"));
        assert_eq!(super::said_before("test: a cause", "g3").as_deref(), Some("g1"));
        assert_eq!(super::said_before("test: another cause", "g3"), None);
    }

    #[test]
    fn a_zoned_groups_floors_lines_read_on_its_clock() {
        use chrono::TimeZone as _;
        let floor = |h: u32, m: u32, size: u32| {
            let mut a = prescale_core::ScheduledAction::floor(
                "f",
                chrono::Utc.with_ymd_and_hms(2026, 10, 24, h, m, 0).unwrap()
                    + chrono::Duration::days(i64::from(h < 12)),
                size,
            );
            a.time_zone = Some("Europe/Berlin".into());
            a
        };
        let g = prescale_core::GroupPlan {
            group: "web".into(),
            environment: "prod".into(),
            bounds: prescale_core::CapacityBounds::new(1, 40).unwrap(),
            raised_max: None,
            forecast: Some(prescale_core::ForecastSummary {
                model: "mstl".into(),
                metric: "requests".into(),
                quantile: 0.9,
                from: chrono::Utc.with_ymd_and_hms(2026, 10, 24, 22, 0, 0).unwrap(),
                to: chrono::Utc.with_ymd_and_hms(2026, 10, 26, 22, 0, 0).unwrap(),
                peak_point: 900.0,
                peak_at: chrono::Utc.with_ymd_and_hms(2026, 10, 25, 10, 0, 0).unwrap(),
                peak_quantile: 1000.0,
                sizing: None,
                time_zone: None,
            }),
            required: Vec::new(),
            // Sat 22:30 UTC (Sun 00:30 CEST); Sun 00:30 and 01:30 UTC, either side of the change
            // (02:30 CEST, 02:30 CET); Sun 06:50 UTC (07:50 CET).
            scheduled_actions: vec![floor(22, 30, 3), floor(0, 30, 2), floor(1, 30, 2), floor(6, 50, 29)],
            policies: Vec::new(),
            alarms: Vec::new(),
            decisions: Vec::new(),
            events_digest: None,
            events: Vec::new(),
        };
        let mut out = Vec::new();
        super::group_plan(&mut out, &g, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("  floors Sun 10-25 CEST  00:30→3 02:30→2 02:30 CET→2 07:50 CET→29\n"), "{text}");
        assert!(text.contains("peak 900 at 2026-10-25 11:00 CET, P90 peak 1,000\n"), "{text}");
        let utc = prescale_core::GroupPlan {
            scheduled_actions: g
                .scheduled_actions
                .iter()
                .map(|a| prescale_core::ScheduledAction { time_zone: None, ..a.clone() })
                .collect(),
            ..g
        };
        let mut out = Vec::new();
        super::group_plan(&mut out, &utc, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("  floors Sat 10-24 UTC  22:30→3\n  floors Sun 10-25 UTC  00:30→2 01:30→2 06:50→29\n"),
            "{text}"
        );
        assert!(text.contains("peak 900 at 2026-10-25 10:00 UTC, P90 peak 1,000\n"), "{text}");
        // A zoned group without floors: the peak on its clock all the same, from the forecast's zone.
        let calm = prescale_core::GroupPlan {
            scheduled_actions: Vec::new(),
            forecast: utc
                .forecast
                .clone()
                .map(|f| prescale_core::ForecastSummary { time_zone: Some("Europe/Berlin".into()), ..f }),
            ..utc
        };
        let mut out = Vec::new();
        super::group_plan(&mut out, &calm, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("peak 900 at 2026-10-25 11:00 CET, P90 peak 1,000\n"), "{text}");
    }

    #[test]
    fn a_recurring_action_without_a_start_is_said_by_its_recurrence() {
        let mut a = prescale_core::ScheduledAction::floor("team-hold", chrono::DateTime::UNIX_EPOCH, 4);
        a.recurrence = Some("0 7 * * MON-FRI".into());
        assert_eq!(super::action_line(&a), "team-hold recurring \"0 7 * * MON-FRI\": MinSize 4");
        a.start_time = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(
            super::action_line(&a).contains("at 2027-01-15 08:00 UTC: MinSize 4, recurring"),
            "{}",
            super::action_line(&a)
        );
    }

    #[test]
    fn numbers_read_at_every_magnitude() {
        use super::num;
        assert_eq!(num(1234.4), "1,234");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(0.1234), "0.123");
        assert_eq!(num(0.000_46), "4.60e-4", "not 0.000");
        assert_eq!(num(-0.0), "0.000", "no sign on zero");
        assert_eq!(num(1.3e97), "1.30e97");
        assert_eq!(num(f64::NAN), "-");
    }

    #[test]
    fn a_column_reads_at_its_typical_size() {
        use super::num_like;
        assert_eq!(num_like(0.0, 7.0), "0.0", "not 0.000 beside 7.0");
        assert_eq!(num_like(0.04, 7.0), "0.0");
        assert_eq!(num_like(-0.04, 7.0), "0.0", "no sign on what rounds to zero");
        assert_eq!(num_like(1234.5, 7.0), "1,234.5");
        assert_eq!(num_like(12.3, 1234.0), "12");
        assert_eq!(num_like(0.5, 0.2), "0.500");
        assert_eq!(num_like(0.000_46, 0.2), "0.000", "a column of tenths keeps its decimals");
        assert_eq!(num_like(0.3, 0.000_4), "3.00e-1", "a column of thousandths in significant digits");
        assert_eq!(num_like(2e17, 7.0), "2.00e17");
        assert_eq!(num_like(0.0, 0.000_4), "0", "not 0.00e0");
    }
}
