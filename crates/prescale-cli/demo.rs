//! The deterministic generator of the demo data in `data/demo/`: four weeks of 5-minute load for
//! three groups, with daily and weekly cycles, noise, a slow trend, one launch event and a few
//! defects a real export has (a gap, a NaN). Same code, same bytes: a test checks the committed
//! files against it.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

/// End of the demo data (exclusive) and the demo's clock: "now" for the demo pipeline.
pub fn demo_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).single().unwrap_or_default()
}

const DAYS: i64 = 28;
const STEP_MIN: i64 = 5;

use prescale_core::SplitMix64 as Rng;

struct Shape {
    file: &'static str,
    seed: u64,
    base: f64,
    /// (hour of peak, width in hours, height) bumps of the daily cycle, UTC.
    bumps: &'static [(f64, f64, f64)],
    floor: f64,
    weekend: f64,
    noise: f64,
    /// (start, hours, multiplier) of an event.
    event: Option<(DateTime<Utc>, f64, f64)>,
    /// Slots to leave out (a gap in the export) and a slot written as NaN.
    gap: Option<(i64, i64)>,
    nan_at: Option<i64>,
}

fn shapes() -> Vec<Shape> {
    let launch = Utc.with_ymd_and_hms(2026, 11, 12, 13, 0, 0).single().unwrap_or_default();
    vec![
        Shape {
            file: "web-prod-requests.csv",
            seed: 1,
            base: 30_000.0,
            bumps: &[(10.0, 2.5, 0.9), (15.5, 3.0, 1.0), (20.0, 2.0, 0.45)],
            floor: 0.22,
            weekend: 0.62,
            noise: 0.05,
            event: Some((launch, 6.0, 2.4)),
            gap: None,
            nan_at: None,
        },
        Shape {
            file: "api-staging-requests.csv",
            seed: 2,
            base: 3_000.0,
            bumps: &[(9.0, 2.0, 0.8), (14.0, 3.5, 1.0)],
            floor: 0.15,
            weekend: 0.35,
            noise: 0.08,
            event: None,
            gap: Some((10 * 288 + 100, 8)),
            nan_at: Some(15 * 288 + 40),
        },
        Shape {
            file: "worker-dev-jobs.csv",
            seed: 3,
            base: 600.0,
            bumps: &[(2.0, 1.5, 1.0), (13.0, 4.0, 0.3)],
            floor: 0.1,
            weekend: 0.9,
            noise: 0.1,
            event: None,
            gap: None,
            nan_at: None,
        },
    ]
}

fn daily(shape: &Shape, hour: f64) -> f64 {
    let mut v = shape.floor;
    for (peak, width, height) in shape.bumps {
        // Distance on the 24-hour circle, so a bump near midnight wraps.
        let d = ((hour - peak).rem_euclid(24.0)).min((peak - hour).rem_euclid(24.0));
        v += height * (-0.5 * (d / width).powi(2)).exp();
    }
    v
}

fn render(shape: &Shape) -> String {
    let start = demo_now() - Duration::days(DAYS);
    let mut rng = Rng(shape.seed);
    let mut ar = 0.0;
    let mut out = String::from("timestamp,value\n");
    for i in 0..(DAYS * 24 * 60 / STEP_MIN) {
        let t = start + Duration::minutes(i * STEP_MIN);
        let hour = f64::from(t.hour()) + f64::from(t.minute()) / 60.0;
        let weekend = t.weekday().number_from_monday() >= 6;
        let trend = 1.0 + 0.004 * (i as f64 / 288.0);
        ar = 0.9 * ar + shape.noise * 0.45 * rng.normal();
        let white = shape.noise * rng.normal();
        let mut v =
            shape.base * daily(shape, hour) * if weekend { shape.weekend } else { 1.0 } * trend * (1.0 + ar + white);
        if let Some((at, hours, mult)) = shape.event {
            let h = (t - at).num_minutes() as f64 / 60.0;
            if (0.0..hours).contains(&h) {
                // Ramp up over the first hour and down over the last.
                let ramp = (h.min(hours - h)).clamp(0.0, 1.0);
                v *= 1.0 + (mult - 1.0) * ramp;
            }
        }
        if shape.gap.is_some_and(|(a, n)| i >= a && i < a + n) {
            continue;
        }
        let ts = t.format("%Y-%m-%dT%H:%M:%SZ");
        if shape.nan_at == Some(i) {
            let _ = writeln!(out, "{ts},NaN");
        } else {
            let _ = writeln!(out, "{ts},{}", v.max(0.0).round());
        }
    }
    out
}

/// Writes the demo CSV files into `dir`, and the demo's configuration where `dir` has none (so
/// that `data/demo` made in any folder is a demo the binary finds there, away from its checkout;
/// an edited configuration is kept).
pub fn generate(dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for s in shapes() {
        let p = dir.join(s.file);
        // As the store writes its files: a full disk or a kill leaves the old file, not half a new one.
        prescale_store::write_file_atomic(&p, render(&s).as_bytes())
            .with_context(|| format!("cannot write {}", p.display()))?;
        written.push(p.display().to_string());
    }
    let config = dir.join("prescale.toml");
    if !config.exists() {
        prescale_store::write_file_atomic(&config, crate::config::DEMO_CONFIG.as_bytes())
            .with_context(|| format!("cannot write {}", config.display()))?;
        written.push(config.display().to_string());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_makes_a_whole_demo_and_keeps_an_edited_configuration() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data/demo");
        let written = generate(&dir).unwrap();
        assert_eq!(written.len(), shapes().len() + 1, "{written:?}");
        assert_eq!(std::fs::read_to_string(dir.join("prescale.toml")).unwrap(), crate::config::DEMO_CONFIG);
        std::fs::write(dir.join("prescale.toml"), "# edited").unwrap();
        assert_eq!(generate(&dir).unwrap().len(), shapes().len());
        assert_eq!(std::fs::read_to_string(dir.join("prescale.toml")).unwrap(), "# edited");
    }

    #[test]
    fn committed_demo_data_is_what_the_generator_makes() {
        let dir = crate::config::demo_dir().unwrap();
        for s in shapes() {
            let committed = std::fs::read_to_string(dir.join(s.file)).unwrap();
            assert!(committed == render(&s), "{} differs from the generator; run `prescale demo generate`", s.file);
        }
    }
}
