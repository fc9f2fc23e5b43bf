//! Criterion benches of the nightly pipeline's per-group stages.
//!
//! Workload: one series of 28 days at a 5-minute step (8,064 slots) with daily and weekly
//! cycles and deterministic noise; forecasts are 48 h (576 steps) at levels 50/80/90/95.
//!
//!     cargo bench --bench pipeline

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use prescale_core::{CapacityBounds, GridPolicy, Level, MetricId, RawSample, Series};
use prescale_forecast::{BuildOptions, ModelSpec, Season};
use prescale_plan::{PlanSettings, plan_group};
use prescale_store::MetricStore;
use std::hint::black_box;

const STEP: i64 = 300;
const DAYS: usize = 28;

fn load(i: usize) -> f64 {
    let day = (i % 288) as f64 / 288.0;
    let weekday = (i / 288) % 7;
    let weekly = if weekday >= 5 { 0.6 } else { 1.0 };
    // A cheap deterministic noise: a hash of the index mapped to [-1, 1).
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    let noise = h as f64 / (1u64 << 24) as f64 * 2.0 - 1.0;
    (1000.0 + 800.0 * (std::f64::consts::TAU * (day - 0.3)).sin()) * weekly + 60.0 * noise
}

fn history() -> Series {
    let start = Utc.with_ymd_and_hms(2026, 10, 26, 0, 0, 0).single().expect("valid date");
    Series::new(start, STEP, (0..DAYS * 288).map(load).collect()).expect("valid series")
}

fn levels() -> Vec<Level> {
    [50.0, 80.0, 90.0, 95.0].iter().map(|l| Level::new(*l).expect("valid level")).collect()
}

fn bench(c: &mut Criterion) {
    let h = history();
    let lv = levels();
    let model = ModelSpec::SeasonalNaive { season: Season::Auto }.build();
    // (the 28-day seasonal-naive bench below is the walking skeleton's baseline)
    c.bench_function("forecast/seasonal-naive fit+predict 28d→48h", |b| {
        b.iter(|| model.fit(black_box(&h)).and_then(|m| m.predict(576, &lv)).expect("forecast"))
    });

    // The engine and each of its models on the workload: 14 days at 5 minutes, 48 h ahead.
    let two_weeks = h.tail(14 * 288);
    let mut group = c.benchmark_group("forecast 14d@5min→48h");
    group.sample_size(10);
    for (name, spec) in [
        ("auto (full selection)", ModelSpec::Auto),
        ("mstl", ModelSpec::Mstl { weekly: true }),
        ("profile", ModelSpec::Profile { season: Season::Day, days: 7, level: Default::default() }),
        ("ets", ModelSpec::Ets),
        ("median", ModelSpec::Median { window_days: 1.0 }),
        ("ridge", ModelSpec::Ridge),
        ("seasonal-naive", ModelSpec::SeasonalNaive { season: Season::Auto }),
    ] {
        // As `forecast show --input` builds it: weekends learnt where two agree.
        let m = spec.build_with(&BuildOptions::default());
        group.bench_function(name, |b| {
            b.iter(|| m.fit(black_box(&two_weeks)).and_then(|f| f.predict(576, &lv)).expect("forecast"))
        });
    }
    group.finish();

    let f = model.fit(&h).and_then(|m| m.predict(576, &lv)).expect("forecast");
    let settings = PlanSettings {
        bounds: CapacityBounds::new(2, 60).expect("bounds"),
        capacity_per_instance: 100.0,
        ..PlanSettings::default()
    };
    let now = h.end();
    c.bench_function("plan/plan_group 576 steps", |b| {
        b.iter(|| plan_group("bench", "prod", Some(black_box(&f)), &settings, now))
    });

    let raw: Vec<RawSample> = h.iter().map(|(t, v)| RawSample::new(t, v)).collect();
    let tail = &raw[raw.len() - 14 * 288..];
    let id = MetricId::new("bench", "requests");
    c.bench_function("store/re-ingest 14d into 28d series", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = MetricStore::open(dir.path()).expect("store");
                store
                    .ingest(&id, &raw, STEP, &GridPolicy::default(), prescale_core::Aggregate::Mean, "bench")
                    .expect("ingest");
                (dir, store)
            },
            |(dir, store)| {
                store
                    .ingest(&id, tail, STEP, &GridPolicy::default(), prescale_core::Aggregate::Mean, "bench")
                    .expect("re-ingest");
                drop(dir);
            },
            criterion::BatchSize::PerIteration,
        )
    });
}

/// Issue 7's replay: 4 weeks of 1-minute load (40,320 minutes, daily and weekly cycles, noise),
/// all seven policies, the real forecast (`auto`, on 5-minute means) and plan every midnight
/// after two days: 26 nightly fits, on the machine's cores (the default) and on one.
fn replay(c: &mut Criterion) {
    let start = Utc.with_ymd_and_hms(2026, 10, 26, 0, 0, 0).single().expect("valid date");
    let minutes: Vec<f64> = (0..DAYS * 1440).map(|i| load(i / 5)).collect();
    let trace = Series::new(start, 60, minutes).expect("valid series");
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    let cores = prescale_core::par::default_threads();
    for threads in [cores, std::num::NonZeroUsize::MIN] {
        let settings = prescale_sim::SimSettings { threads, ..prescale_sim::SimSettings::default() };
        let name = format!("replay 4w@1min, 7 policies, nightly forecast+plan, {threads} thread(s)");
        group.bench_function(name, |b| {
            b.iter(|| prescale_sim::simulate(black_box(&trace), &settings).expect("simulate"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, replay);
criterion_main!(benches);
