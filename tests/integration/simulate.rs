//! `prescale simulate`: the replay of a trace under every policy, through the binary.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{ok, prescale, run};

fn demo_trace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/web-prod-requests.csv")
}

/// Writes `values` as a CSV trace starting at 2026-01-05 00:00 UTC (a Monday) with `step` seconds.
fn trace(dir: &Path, name: &str, step: i64, values: &[String]) -> PathBuf {
    let start = 1_767_571_200; // 2026-01-05T00:00:00Z
    let mut csv = String::from("ts,value\n");
    for (i, v) in values.iter().enumerate() {
        csv.push_str(&format!("{},{v}\n", start + step * i as i64));
    }
    let p = dir.join(name);
    std::fs::write(&p, csv).unwrap();
    p
}

fn policies(json: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).unwrap();
    v["policies"].as_array().unwrap().clone()
}

fn policy<'a>(ps: &'a [Value], name: &str) -> &'a Value {
    ps.iter().find(|p| p["policy"] == name).unwrap_or_else(|| panic!("no {name} in {ps:?}"))
}

fn int(p: &Value, field: &str) -> u64 {
    p[field].as_u64().unwrap_or_else(|| panic!("{field} in {p}"))
}

fn float(p: &Value, field: &str) -> f64 {
    p[field].as_f64().unwrap_or_else(|| panic!("{field} in {p}"))
}

#[test]
fn reactive_lags_a_step_by_boot_plus_three_minutes_and_the_oracle_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let load: Vec<String> = (0..240).map(|m| if m < 120 { "100" } else { "1000" }.to_string()).collect();
    let p = trace(tmp.path(), "step.csv", 60, &load);
    for boot in [5u64, 10] {
        let json = ok(prescale()
            .args(["simulate", "--capacity", "100", "--max", "50", "--policies", "reactive,oracle", "--format", "json"])
            .args(["--boot-mins", &boot.to_string(), "--input"])
            .arg(&p));
        let ps = policies(&json);
        let (reactive, oracle) = (policy(&ps, "reactive"), policy(&ps, "oracle"));
        // Three breaching minutes, then the boot: the step is unserved for exactly that long.
        assert_eq!(int(reactive, "under_provisioned_minutes"), boot + 3, "{reactive}");
        // 1000 at 70 % of 100 needs 15 instances; the group had 2 (100 at 70 %).
        assert_eq!(int(reactive, "worst_shortfall_instances"), 8, "{reactive}");
        assert_eq!(int(oracle, "under_provisioned_minutes"), 0, "{oracle}");
        assert!(float(oracle, "instance_hours") > 0.0);
    }
}

#[test]
fn the_demo_trace_prescale_beats_reactive_and_the_oracle_bounds_everyone() {
    let (code, table, err) = run(prescale().args(["simulate", "--price", "0.1", "--input"]).arg(demo_trace()));
    assert_eq!(code, 0, "{err}");
    println!("{table}");
    for name in ["reactive", "step", "static", "scheduled", "aws-style", "prescale", "oracle", "instance-h", "$"] {
        assert!(table.contains(name), "{name} missing:\n{table}");
    }
    let json = ok(prescale().args(["simulate", "--format", "json", "--input"]).arg(demo_trace()));
    let v: Value = serde_json::from_str(&json).unwrap();
    // 28 days at 5 minutes; forecasts from the third midnight on, every one of them fitted.
    assert_eq!(v["trace"]["minutes"], 28 * 1440);
    let nights = v["nights"].as_array().unwrap();
    assert_eq!(nights.len(), 26);
    assert!(nights.iter().all(|n| n["error"].is_null() && n["prescale_actions"].as_u64().unwrap() > 0));
    let ps = policies(&json);
    let (reactive, prescale_, oracle) = (policy(&ps, "reactive"), policy(&ps, "prescale"), policy(&ps, "oracle"));
    // At a 70 % target the 43 % spare capacity absorbs reactive's lag on this trace (both have no
    // under-provisioned minute); prescale's floors show as far fewer minutes above the target and
    // far less thrashing.
    assert!(
        float(prescale_, "share_above_target") < float(reactive, "share_above_target") / 2.0,
        "prescale {prescale_}\nreactive {reactive}"
    );
    assert!(int(prescale_, "reversals_within_hour") < int(reactive, "reversals_within_hour") / 2);
    assert_eq!(int(oracle, "under_provisioned_minutes"), 0, "{oracle}");
    assert_eq!(float(oracle, "share_above_target"), 0.0, "{oracle}");
    for p in &ps {
        assert!(int(prescale_, "under_provisioned_minutes") <= int(p, "under_provisioned_minutes"), "{p}");
        assert!(
            float(oracle, "instance_hours") <= float(p, "instance_hours"),
            "the oracle is the lower bound:\n{oracle}\n{p}"
        );
    }
    // At a 90 % target (the same instance counts: capacity is sized from the target) the lag shows
    // as load above capacity, and prescale's floors prevent most of it.
    let json = ok(prescale()
        .args(["simulate", "--format", "json", "--target", "0.9", "--policies", "reactive,prescale", "--input"])
        .arg(demo_trace()));
    let ps = policies(&json);
    let under = |p: &str| int(policy(&ps, p), "under_provisioned_minutes");
    println!("target 0.9: under-provisioned minutes reactive {}, prescale {}", under("reactive"), under("prescale"));
    assert!(under("reactive") > 100, "{ps:?}");
    assert!(under("prescale") < under("reactive") / 2, "{ps:?}");
}

#[test]
fn the_same_inputs_give_byte_identical_output() {
    let tmp = tempfile::tempdir().unwrap();
    // Four days of the demo trace: two nightly plans.
    let text = std::fs::read_to_string(demo_trace()).unwrap();
    let short = tmp.path().join("short.csv");
    std::fs::write(&short, text.lines().take(1 + 4 * 288).collect::<Vec<_>>().join("\n")).unwrap();
    let (a, b) = (tmp.path().join("a.parquet"), tmp.path().join("b.parquet"));
    let once = ok(prescale().args(["simulate", "--format", "json", "--input"]).arg(&short).arg("--timeseries").arg(&a));
    let twice =
        ok(prescale().args(["simulate", "--format", "json", "--input"]).arg(&short).arg("--timeseries").arg(&b));
    assert_eq!(once, twice);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The time series: one row per policy and minute, capacity = serving × capacity per instance.
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&a).unwrap())
            .unwrap()
            .build()
            .unwrap();
    let cap = serde_json::from_str::<Value>(&once).unwrap()["settings"]["capacity_per_instance"].as_f64().unwrap();
    let (mut rows, mut policies_seen) = (0, std::collections::BTreeSet::new());
    for batch in reader {
        let batch = batch.unwrap();
        let col = |name: &str| batch.column_by_name(name).unwrap().clone();
        let policy = col("policy");
        let policy = policy.as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
        let serving = col("serving");
        let serving = serving.as_any().downcast_ref::<arrow_array::UInt32Array>().unwrap();
        let capacity = col("capacity");
        let capacity = capacity.as_any().downcast_ref::<arrow_array::Float64Array>().unwrap();
        for i in 0..batch.num_rows() {
            policies_seen.insert(policy.value(i).to_string());
            assert_eq!(capacity.value(i), f64::from(serving.value(i)) * cap);
        }
        rows += batch.num_rows();
    }
    assert_eq!(rows, 7 * 4 * 1440);
    assert_eq!(policies_seen.len(), 7);
    let v: Value = serde_json::from_str(&once).unwrap();
    assert_eq!(v["nights"].as_array().unwrap().len(), 2, "{once}");
    assert_eq!(v["settings"]["capacity_source"], "p95/10");
}

#[test]
fn bad_input_is_refused_or_repaired_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let day: Vec<String> = (0..1440).map(|m| (100 + m % 60).to_string()).collect();
    let p = trace(tmp.path(), "day.csv", 60, &day);
    let cases: [(&[&str], &str); 5] = [
        (&["--min", "5", "--max", "2"], "min 5, max 2"),
        (&["--capacity", "0"], "capacity per instance must be a positive number, got 0"),
        (&["--capacity=-3"], "capacity per instance must be a positive number, got -3"),
        (&["--target", "1.5"], "target utilization must be in (0, 1], got 1.5"),
        (&[], "need 2 days of history before their first nightly forecast, plus a day"),
    ];
    for (args, want) in cases {
        let (code, _, err) = run(prescale().arg("simulate").args(args).arg("--input").arg(&p));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected {want:?} in:\n{err}");
    }
    let help = ok(prescale().args(["simulate", "--help"]));
    assert!(help.contains("Not built yet (issue 7)") && help.contains("--scenario"), "{help}");
    // Without the forecasting policies one day is enough.
    let json = ok(prescale()
        .args(["simulate", "--format", "json", "--policies", "reactive,static,oracle", "--input"])
        .arg(&p));
    assert_eq!(policies(&json).len(), 3);
    // Missing and negative values are repaired and counted.
    let mut bad = day.clone();
    bad[10] = "NaN".into();
    bad[20] = "-50".into();
    let p = trace(tmp.path(), "bad.csv", 60, &bad);
    let json = ok(prescale().args(["simulate", "--format", "json", "--policies", "reactive", "--input"]).arg(&p));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["trace"]["repaired_negative"], 1, "{json}");
}

#[test]
fn a_group_replays_its_stored_load_with_its_configured_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let (code, _, err) =
        run(prescale().args(["simulate", "--group", "web-prod", "--policies", "reactive", "--out"]).arg(&out));
    assert_eq!(code, 1);
    assert!(err.contains("hint: run `prescale ingest --group web-prod`"), "{err}");
    ok(prescale().args(["ingest", "--group", "web-prod", "--out"]).arg(&out));
    let json = ok(prescale()
        .args(["simulate", "--group", "web-prod", "--policies", "reactive,oracle", "--format", "json", "--out"])
        .arg(&out));
    let v: Value = serde_json::from_str(&json).unwrap();
    // data/demo/prescale.toml: web-prod is prod (P90, 70 %, 10 % headroom), 4..=60, 2,500 per instance.
    let s = &v["settings"];
    assert_eq!((s["capacity_source"].as_str(), s["capacity_per_instance"].as_f64()), (Some("given"), Some(2500.0)));
    assert_eq!((s["min_size"].as_u64(), s["max_size"].as_u64()), (Some(4), Some(60)));
    assert_eq!((s["quantile"].as_f64(), s["headroom"].as_f64()), (Some(0.9), Some(0.1)));
    assert_eq!(v["trace"]["minutes"], 28 * 1440);
    assert_eq!(int(policy(&policies(&json), "oracle"), "under_provisioned_minutes"), 0);
}
