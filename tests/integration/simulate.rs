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
    // On basic monitoring's 5-minute periods the alarm needs three datapoints: 15 minutes.
    let json = ok(prescale()
        .args(["simulate", "--capacity", "100", "--max", "50", "--policies", "reactive", "--format", "json"])
        .args(["--metric-period-mins", "5", "--input"])
        .arg(&p));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["settings"]["metric_period_mins"], 5, "{json}");
    assert_eq!(int(policy(&policies(&json), "reactive"), "under_provisioned_minutes"), 5 + 15, "{json}");
    let (code, table, err) =
        run(prescale().args(["simulate", "--capacity", "100", "--policies", "reactive", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(table.contains("alarms on 1-minute periods (detailed monitoring's; --metric-period-mins 5"), "{table}");
    // On a spike at 5-minute periods the alarm alone passes the 5-minute target, and the step
    // alarms of 60 s are read at the metric's period, as the header says.
    let (code, table, err) =
        run(prescale().args(["simulate", "--scenario", "spike", "--metric-period-mins", "5", "--boot-mins", "2"]));
    assert_eq!(code, 0, "{err}");
    assert!(table.contains("its alarm alone takes 15 min on 5-minute periods, so no boot time meets it"), "{table}");
    assert!(
        table.contains("the step alarms' 60-s periods read at 5 minutes, as step period_secs = 300 would"),
        "{table}"
    );
}

#[test]
fn the_demo_trace_prescale_beats_reactive_and_the_oracle_bounds_everyone() {
    let (code, table, err) = run(prescale().args(["simulate", "--price", "0.1", "--input"]).arg(demo_trace()));
    assert_eq!(code, 0, "{err}");
    println!("{table}");
    for name in ["reactive", "step", "static", "scheduled", "aws-style", "prescale", "oracle", "instance-h", "$"] {
        assert!(table.contains(name), "{name} missing:\n{table}");
    }
    // The replay's default floors are not what `prescale plan` writes by default: said, with how
    // to replay the plan's.
    assert!(
        table.contains("prescale at P90 ≤ 100 % (point left to target tracking)")
            && table.contains("by default it sizes the P90 at the target: --quantile-utilization 0.7 replays that"),
        "{table}"
    );
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
    // under-provisioned minute). The default floors (the P90 at full capacity, the expected load
    // left to target tracking) bind only ahead of rises: within 5 % of reactive's instance-hours,
    // with fewer minutes above the target, and about as many reversals (measured 730 against 725:
    // above its floors prescale scales as reactive does; the floors held through the first weeks'
    // weekends saved it 7 % of them before the engine learnt a single weekend, at 1 % more hours).
    let ih = |p: &Value| float(p, "instance_hours");
    assert!(ih(prescale_) <= 1.05 * ih(reactive), "prescale {prescale_}\nreactive {reactive}");
    assert!(float(prescale_, "share_above_target") < float(reactive, "share_above_target"), "{prescale_}");
    let reversals = |p: &Value| int(p, "reversals_within_hour") as f64;
    assert!(reversals(prescale_) <= 1.02 * reversals(reactive), "{prescale_}");
    // The P90 at the target (the floors also hold the expected load at the target) buys far fewer
    // minutes above the target and far less thrashing, at more instance-hours.
    let held = ok(prescale()
        .args(["simulate", "--format", "json", "--quantile-utilization", "0.7", "--input"])
        .arg(demo_trace()));
    let held = policies(&held);
    let held = policy(&held, "prescale");
    assert!(
        float(held, "share_above_target") < float(reactive, "share_above_target") / 2.0,
        "prescale {held}\nreactive {reactive}"
    );
    assert!(int(held, "reversals_within_hour") < int(reactive, "reversals_within_hour") / 2);
    assert!(ih(held) > ih(prescale_), "{held}\n{prescale_}");
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
    // Six days of the demo trace: four nightly plans, fitted on one thread and then on three (the
    // nights' fits finish out of order there; the plans must not).
    let text = std::fs::read_to_string(demo_trace()).unwrap();
    let short = tmp.path().join("short.csv");
    std::fs::write(&short, text.lines().take(1 + 6 * 288).collect::<Vec<_>>().join("\n")).unwrap();
    let (a, b) = (tmp.path().join("a.parquet"), tmp.path().join("b.parquet"));
    let run = |threads: &str, out: &std::path::Path| {
        ok(prescale()
            .args(["simulate", "--format", "json", "--threads", threads, "--input"])
            .arg(&short)
            .arg("--timeseries")
            .arg(out))
    };
    let (once, twice) = (run("1", &a), run("3", &b));
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
        let serving = serving.as_any().downcast_ref::<arrow_array::Int32Array>().unwrap();
        let capacity = col("capacity");
        let capacity = capacity.as_any().downcast_ref::<arrow_array::Float64Array>().unwrap();
        for i in 0..batch.num_rows() {
            policies_seen.insert(policy.value(i).to_string());
            assert_eq!(capacity.value(i), f64::from(serving.value(i)) * cap);
        }
        rows += batch.num_rows();
    }
    assert_eq!(rows, 7 * 6 * 1440);
    assert_eq!(policies_seen.len(), 7);
    let v: Value = serde_json::from_str(&once).unwrap();
    assert_eq!(v["nights"].as_array().unwrap().len(), 4, "{once}");
    assert_eq!(v["settings"]["capacity_source"], "p95/10");
}

#[test]
fn bad_input_is_refused_or_repaired_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let day: Vec<String> = (0..1440).map(|m| (100 + m % 60).to_string()).collect();
    let p = trace(tmp.path(), "day.csv", 60, &day);
    let cases: [(&[&str], &str); 8] = [
        (&["--min", "5", "--max", "2"], "min 5, max 2"),
        (&["--capacity", "0"], "capacity per instance must be a positive number, got 0"),
        (&["--capacity=-3"], "capacity per instance must be a positive number, got -3"),
        (&["--target", "1.5"], "target utilization must be in (0, 1], got 1.5"),
        (&["--target", "1.5"], "hint: a fraction of an instance's capacity, above 0 and at most 1: 0.7 for 70 %"),
        (&["--target", "70"], "hint: give it as a fraction: 0.7 for 70 %"),
        (&["--target", "1", "--saturating-metric", "true"], "so target tracking would never scale out"),
        (&[], "need 2 days of history before their first nightly forecast, plus a day"),
    ];
    for (args, want) in cases {
        let (code, _, err) = run(prescale().arg("simulate").args(args).arg("--input").arg(&p));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected {want:?} in:\n{err}");
    }
    let help = ok(prescale().args(["simulate", "--help"]));
    assert!(help.contains("benches/simulate-nab.sh") && help.contains("--scenario"), "{help}");
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
    // The NaN row was dropped and its slot interpolated as the file was read: said too.
    let read = v["trace"]["input_repairs"].to_string();
    assert!(
        read.contains("1 missing or non-finite (NaN, N/A, inf) dropped") && read.contains("1 slot interpolated"),
        "{json}"
    );
    // The negative value is held at the value before it, not read as a minute without load.
    let demand: Vec<f64> =
        timeseries_demand(&tmp.path().join("bad.parquet"), &p, &["--policies", "reactive", "--input"]);
    assert_eq!(demand[20], demand[19], "{:?}", &demand[18..22]);
    // A gap longer than the reading interpolates (an hour by default) is held too; the file marks
    // every held minute, and only those.
    let mut gappy = day.clone();
    gappy[20] = "-50".into();
    gappy[600..690].iter_mut().for_each(|v| *v = "NaN".into());
    let p = trace(tmp.path(), "gappy.csv", 60, &gappy);
    let path = tmp.path().join("gappy.parquet");
    let json = ok(prescale()
        .args(["simulate", "--format", "json", "--policies", "reactive", "--timeseries"])
        .arg(&path)
        .arg("--chart")
        .arg(tmp.path().join("gappy.svg"))
        .arg("--input")
        .arg(&p));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (v["trace"]["repaired_missing"].as_u64(), v["trace"]["repaired_negative"].as_u64()),
        (Some(90), Some(1))
    );
    let rows = timeseries(&path);
    // Its settings are on the Arrow schema too, where pandas and pyarrow readers look.
    let schema =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .schema()
            .clone();
    assert_eq!(schema.metadata().get("prescale.schema").map(String::as_str), Some("simulations/v2"), "{schema:?}");
    let held: Vec<usize> = rows.iter().enumerate().filter(|(_, r)| r.4).map(|(m, _)| m).collect();
    let want: Vec<usize> = std::iter::once(20).chain(600..690).collect();
    assert_eq!(held, want);
    assert!(rows[600..690].iter().all(|r| r.1 == rows[599].1), "held at the value before the gap");
    // What the policy paid in the held minutes and the hour after each is counted apart, so that
    // costs can be compared on the measured minutes alone, and the table says them.
    let after: Vec<bool> = (0..rows.len()).map(|m| rows[m.saturating_sub(60)..=m].iter().any(|r| r.4)).collect();
    let paid_held: i64 = rows.iter().zip(&after).filter(|(_, a)| **a).map(|(r, _)| i64::from(r.3)).sum();
    let reactive = policy(v["policies"].as_array().unwrap(), "reactive");
    assert!((float(reactive, "instance_hours_held") - paid_held as f64 / 60.0).abs() < 1e-9, "{reactive}");
    assert!(float(reactive, "instance_hours_held") > 0.0, "{reactive}");
    let table = ok(prescale().args(["simulate", "--policies", "reactive", "--input"]).arg(&p));
    // What prescale buys against reactive, in a line under the table, from the same figures (on
    // three days of a daily cycle: prescale plans from the second).
    let cycle: Vec<String> = (0..3 * 288)
        .map(|i| format!("{:.0}", 1000.0 + 800.0 * (i as f64 * std::f64::consts::TAU / 288.0).sin()))
        .collect();
    let days = trace(tmp.path(), "days.csv", 300, &cycle);
    let run_both = |extra: &[&str]| {
        ok(prescale()
            .args(["simulate", "--policies", "reactive,prescale", "--min-history-days", "1"])
            .args(extra)
            .arg("--input")
            .arg(&days))
    };
    let series = tmp.path().join("days.parquet");
    let with_prescale = run_both(&["--timeseries", series.to_str().unwrap()]);
    // The floor in force each minute is in the time series: prescale's groups never run below
    // theirs, and reactive's is its minimum throughout.
    let floors = floor_column(&series);
    let rows = timeseries(&series);
    assert_eq!(floors.len(), rows.len());
    assert!(rows.iter().zip(&floors).all(|(r, f)| r.3 >= *f), "instances below the floor");
    assert!(rows.iter().zip(&floors).filter(|(r, _)| r.0 == "reactive").all(|(_, f)| *f == 1));
    assert!(rows.iter().zip(&floors).any(|(r, f)| r.0 == "prescale" && *f > 1), "prescale planned no floor");
    let both = policies(&run_both(&["--format", "json"]));
    let (re, pr) = (policy(&both, "reactive"), policy(&both, "prescale"));
    let against = with_prescale
        .lines()
        .find(|l| l.starts_with("prescale against reactive: instance-hours"))
        .expect(&with_prescale);
    let change = (float(pr, "instance_hours") / float(re, "instance_hours") - 1.0) * 100.0;
    assert!(
        against.contains(&format!("{change:+.1} %"))
            && against.contains(&format!(
                "reversals within an hour {} against {}",
                int(pr, "reversals_within_hour"),
                int(re, "reversals_within_hour")
            )),
        "{against}"
    );
    let measured = float(reactive, "instance_hours") - float(reactive, "instance_hours_held");
    let line = table.lines().find(|l| l.starts_with("instance-hours on the measured minutes alone")).expect(&table);
    let shown: f64 = line.rsplit("reactive ").next().unwrap().replace(',', "").trim().parse().expect(line);
    assert!((shown - measured).abs() <= 0.05 * measured.max(1.0), "{line}: {measured}");
    // The chart marks them too: two runs (the glitch, the gap) in the one panel, and says how many.
    let svg = std::fs::read_to_string(tmp.path().join("gappy.svg")).unwrap();
    assert_eq!(svg.matches(r#"class="held""#).count(), 2, "{svg}");
    assert!(svg.contains("grey on top: 91 min held (missing or negative in the trace)"), "{svg}");
    // A trace that resumes after its gap at three times the level held: the policies' catching up
    // with that step is counted apart; without the gap the same step is load, and is not.
    let stepped = |gap: bool| -> Vec<String> {
        (0..1440)
            .map(|m| match m {
                600..690 if gap => "NaN".into(),
                m if m >= 690 => (300 + m % 60).to_string(),
                m => (100 + m % 60).to_string(),
            })
            .collect()
    };
    let held_of = |name: &str, gap: bool| {
        let p = trace(tmp.path(), name, 60, &stepped(gap));
        let v: Value = serde_json::from_str(&ok(prescale()
            .args(["simulate", "--format", "json", "--policies", "reactive", "--capacity", "50", "--input"])
            .arg(&p)))
        .unwrap();
        let r = &v["policies"][0];
        (r["under_provisioned_minutes"].as_u64().unwrap(), r["under_provisioned_minutes_held"].as_u64().unwrap())
    };
    let (under, held) = held_of("resumes.csv", true);
    assert!(under > 0 && held == under, "{under} {held}");
    let (under, held) = held_of("steps.csv", false);
    assert!(under > 0 && held == 0, "{under} {held}");

    // An output named as the input would replace the trace: refused, the trace unchanged.
    let before = std::fs::read(&p).unwrap();
    let (code, _, err) =
        run(prescale().args(["simulate", "--policies", "reactive", "--timeseries"]).arg(&p).arg("--input").arg(&p));
    assert!(code == 2 || code == 1, "{err}");
    let copy = tmp.path().join("gappy-copy.parquet");
    std::fs::copy(&path, &copy).unwrap();
    let copied = std::fs::read(&copy).unwrap();
    let (code, _, err) = run(prescale()
        .args(["simulate", "--policies", "reactive", "--timeseries"])
        .arg(&copy)
        .arg("--input")
        .arg(&copy));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is the --input trace itself"), "{err}");
    assert_eq!(std::fs::read(&copy).unwrap(), copied);
    assert_eq!(std::fs::read(&p).unwrap(), before);
    // An output that cannot be written is said before the replay, naming its flag: a file where
    // its folder should be, a folder of its name.
    let (code, text, err) = run(prescale()
        .args(["simulate", "--policies", "reactive", "--input"])
        .arg(&copy)
        .arg("--timeseries")
        .arg(copy.join("x.parquet")));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the --timeseries folder") && err.contains("is a file, not a folder"), "{err}");
    assert!(text.is_empty() && !err.contains("replaying"), "{text}\n{err}");
    let folder = tmp.path().join("charts.svg");
    std::fs::create_dir(&folder).unwrap();
    let (code, _, err) =
        run(prescale().args(["simulate", "--policies", "reactive", "--input"]).arg(&copy).arg("--chart").arg(&folder));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--chart") && err.contains("is a folder"), "{err}");
    // A pseudo-file is not a stream: `/proc` takes no file, said before the replay too.
    let (code, text, err) = run(prescale()
        .args(["simulate", "--policies", "reactive", "--timeseries", "/proc/prescale-test.parquet", "--input"])
        .arg(&copy));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot write in the --timeseries folder /proc"), "{err}");
    assert!(text.is_empty() && !err.contains("replaying"), "{text}\n{err}");
    // A percentage (an average CPU) replayed as total load is said, not with --capacity.
    let cpu: Vec<String> = (0..2880).map(|m| format!("{}", 30 + (m / 60) % 24 * 2)).collect();
    let cpu = trace(tmp.path(), "cpu.csv", 60, &cpu);
    let (code, _, err) = run(prescale().args(["simulate", "--policies", "reactive,oracle", "--input"]).arg(&cpu));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("if it is a percentage (an average CPU), it is per instance"), "{err}");
    let (code, _, err) =
        run(prescale().args(["simulate", "--policies", "reactive", "--capacity", "10", "--input"]).arg(&cpu));
    assert!(code == 0 && !err.contains("percentage"), "{err}");
    // A fraction given as a percentage is told the fraction.
    for (flag, value, hint) in [("--target", "70", "0.7 for 70 %"), ("--quantile", "90", "0.9 for P90")] {
        let (code, _, err) =
            run(prescale().args(["simulate", "--policies", "reactive", flag, value, "--input"]).arg(&p));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(hint), "{flag} {value}: {err}");
    }
    // No trace at all names the three ways to give one.
    let (code, _, err) = run(prescale().arg("simulate"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--input FILE") && err.contains("--group NAME") && err.contains("--scenario"), "{err}");
    // A trace idle 95 % of the time is sized on its peak: not one instance for every policy.
    let sparse: Vec<String> = (0..1440).map(|m| if m % 100 == 50 { "1000".into() } else { "0".into() }).collect();
    let p = trace(tmp.path(), "sparse.csv", 60, &sparse);
    let json = ok(prescale()
        .args(["simulate", "--format", "json", "--capacity", "100", "--policies", "reactive,oracle", "--input"])
        .arg(&p));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["settings"]["max_size"], 150, "10 × the peak's 15 instances at 70 %: {json}");
    // An export at 5 minutes, then at 1 (CloudWatch keeps older data coarser): said, with what it
    // means for counts.
    let start = 1_767_571_200;
    let mut csv = String::from("ts,value\n");
    for i in 0..(3 * 288) {
        csv.push_str(&format!("{},500\n", start + 300 * i));
    }
    for i in 0..(2 * 1440) {
        csv.push_str(&format!("{},100\n", start + 3 * 86_400 + 60 * i));
    }
    let mixed = tmp.path().join("mixed.csv");
    std::fs::write(&mixed, csv).unwrap();
    let (code, _, err) = run(prescale().args(["simulate", "--policies", "reactive", "--input"]).arg(&mixed));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("are 300 s apart where the file's step is 60 s") && err.contains("5× the others"), "{err}");
    // Zone flags that would be ignored are refused.
    let (code, _, err) = run(prescale().args(["simulate", "--scenario", "spike", "--time-zone", "America/New_York"]));
    assert!(code == 1 && err.contains("--time-zone, --daily-clock and --file-time-zone are for --input"), "{err}");
    // Samples missing here and there (every 15th minute) are gaps, not a coarser step.
    let holes: Vec<String> = (0..4 * 1440).map(|m| if m % 15 == 7 { "NaN".into() } else { "100".into() }).collect();
    let p = trace(tmp.path(), "holes.csv", 60, &holes);
    let (code, _, err) = run(prescale().args(["simulate", "--policies", "reactive", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("where the file's step is"), "{err}");
    // Nor is a whole day missing: one long gap is no step.
    let gap: Vec<String> =
        (0..4 * 1440).map(|m| if (1440..2880).contains(&m) { "NaN".into() } else { "100".into() }).collect();
    let p_gap = trace(tmp.path(), "gap.csv", 60, &gap);
    let (code, _, err) = run(prescale().args(["simulate", "--policies", "reactive", "--input"]).arg(&p_gap));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("where the file's step is"), "{err}");
    // A trace down a pipe is read once, as CSV (its name says nothing of its content).
    let mut child = prescale()
        .args(["simulate", "--policies", "reactive", "--format", "json", "--input", "/dev/stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &std::fs::read(&p).unwrap()).unwrap();
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    // A single value a million times the rest is said to be a likely glitch, and replayed.
    let mut glitch = day.clone();
    glitch[700] = "1e8".into();
    let p = trace(tmp.path(), "glitch.csv", 60, &glitch);
    let (code, _, err) = run(prescale().args(["simulate", "--policies", "reactive,static", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("its 95th percentile: a glitch") && err.contains("2026-01-05 11:40 UTC"), "{err}");
    // Static sized on a trace no longer than the history the forecasts wait for knows the future:
    // said; a longer one is not.
    assert!(err.contains("no longer than --min-history-days (2 days)"), "{err}");
    // At a 5-minute step, at the stamp of its slot (the first of the five minutes it fills).
    let mut five: Vec<String> = (0..3 * 288).map(|i| (100 + i % 12).to_string()).collect();
    five[140] = "1e8".into();
    let p = trace(tmp.path(), "glitch5.csv", 300, &five);
    let (code, _, err) = run(prescale().args(["simulate", "--policies", "reactive,static", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(at 2026-01-05 11:40 UTC) is"), "{err}");
    assert!(!err.contains("no longer than --min-history-days"), "{err}");
    // Three days from 00:05: the first forecast (at the fourth midnight) leaves four minutes.
    let three: Vec<String> = (0..3 * 1440).map(|m| (100 + m % 60).to_string()).collect();
    let mut csv = String::from("ts,value\n");
    for (i, v) in three.iter().enumerate() {
        csv.push_str(&format!("{},{v}\n", 1_767_571_200 + 300 + 60 * i as i64));
    }
    let p = tmp.path().join("short.csv");
    std::fs::write(&p, csv).unwrap();
    let (code, _, err) = run(prescale().args(["simulate", "--policies", "reactive,prescale", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("h of the trace follow it: the prescale and aws-style rows are mostly their reactive"),
        "{err}"
    );
    // A store that is not there is said, and not created by the asking.
    let nostore = tmp.path().join("nostore");
    let (code, _, err) = run(prescale().args(["simulate", "--group", "web-prod", "--store"]).arg(&nostore));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no metric store at") && err.contains("prescale ingest --group web-prod"), "{err}");
    assert!(!nostore.exists());
    // Stamps 97 s and 60 s apart in turn follow no one step: replayed on the median's grid, with
    // the count of rows averaged away and the hint to resample.
    let mut csv = String::from("ts,value\n");
    let mut t = 1_767_571_200i64;
    for i in 0..2000 {
        csv.push_str(&format!("{t},{}\n", 100 + i % 7));
        t += if i % 2 == 0 { 97 } else { 60 };
    }
    let p = tmp.path().join("irregular.csv");
    std::fs::write(&p, csv).unwrap();
    let (code, _, err) =
        run(prescale().args(["simulate", "--policies", "reactive", "--capacity", "100", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("were averaged: the stamps follow no one step; resample the file"), "{err}");
    // Two series in one file (every stamp twice, at different loads) are said as such: split it.
    let mut csv = String::from("ts,value\n");
    for i in 0..3000i64 {
        let t = 1_767_571_200 + 60 * i;
        csv.push_str(&format!("{t},{}\n{t},{}\n", 100 + i % 7, 500 + i % 5));
    }
    let p2 = tmp.path().join("two-hosts.csv");
    std::fs::write(&p2, csv).unwrap();
    let (code, _, err) =
        run(prescale().args(["simulate", "--policies", "reactive", "--capacity", "100", "--input"]).arg(&p2));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("3000 of the 6000 rows repeat the stamp of another row") && err.contains("split the file"),
        "{err}"
    );
    assert!(!err.contains("follow no one step"), "{err}");
    // --now does not move a replay of a file or a load test: a typo is refused, a time said unused.
    let (code, _, err) = run(prescale().args(["simulate", "--now", "garbage", "--input"]).arg(&p));
    assert!(code == 1 && err.contains("--now \"garbage\" is not a timestamp"), "{err}");
    let (code, _, err) = run(prescale()
        .args(["simulate", "--policies", "reactive", "--capacity", "100", "--now", "2026-01-06T00:00:00Z", "--input"])
        .arg(&p));
    assert!(code == 0 && err.contains("is not used by a replay of --input or --scenario"), "{err}");
    // A load test's generated trace holds four days of history: more is refused in its terms.
    let (code, _, err) = run(prescale().args(["simulate", "--scenario", "spike", "--min-history-days", "5"]));
    assert!(code == 1 && err.contains("a load test's generated trace holds 4 days of history"), "{err}");
    // Step flags with no policy that has a step policy are said to be ignored.
    let (code, _, err) = run(prescale()
        .args(["simulate", "--policies", "reactive", "--capacity", "100", "--step-in-percent", "50", "--input"])
        .arg(&p));
    assert!(code == 0 && err.contains("--step-in-percent shape the step policy") && err.contains("ignored"), "{err}");
}

/// The demand column of the `--timeseries` file a run of `args` and `input` writes to `path`.
fn timeseries_demand(path: &Path, input: &Path, args: &[&str]) -> Vec<f64> {
    ok(prescale().arg("simulate").args(args).arg(input).arg("--timeseries").arg(path));
    timeseries(path).into_iter().map(|r| r.1).collect()
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
    assert_eq!((s["capacity_source"].as_str(), s["capacity_per_instance"].as_f64()), (Some("group"), Some(2500.0)));
    assert_eq!((s["min_size"].as_u64(), s["max_size"].as_u64()), (Some(4), Some(60)));
    // The steps out its plan writes for CPU, as replayed: sized, then doubling near 100 %.
    let steps = s["step"]["out_steps"].as_array().unwrap();
    assert_eq!((steps[0]["add"].as_u64(), steps.last().unwrap()["add"].as_u64()), (Some(20), Some(100)), "{s}");
    assert_eq!(s["metric_period_mins"], 1, "{s}");
    assert_eq!((s["quantile"].as_f64(), s["headroom"].as_f64()), (Some(0.9), Some(0.1)));
    // Its instances take its warm-up (300 s) to serve; worker-dev's 180 s are 3 minutes.
    assert_eq!(s["boot_mins"], 5, "{s}");
    ok(prescale().args(["ingest", "--group", "worker-dev", "--out"]).arg(&out));
    let worker = ok(prescale()
        .args(["simulate", "--group", "worker-dev", "--policies", "reactive", "--format", "json", "--out"])
        .arg(&out));
    assert_eq!(serde_json::from_str::<Value>(&worker).unwrap()["settings"]["boot_mins"], 3, "{worker}");
    assert_eq!(v["trace"]["minutes"], 28 * 1440);
    assert_eq!(int(policy(&policies(&json), "oracle"), "under_provisioned_minutes"), 0);
    // The plan's step scaling is prescale's fallback by default; the forecasts fit on the series.
    assert_eq!((s["step"]["enabled"].as_bool(), s["transform"].as_str()), (Some(true), Some("none")), "{s}");
    // Its target tracking runs on CPU at 60 %, replayed as 70 % of the capacity: CPU's 100 % is
    // 70 / 60 of the capacity, where the metric stops reading the load; --saturating-metric false
    // reads all of it.
    let ceiling = s["metric_ceiling"].as_f64().unwrap();
    assert!((ceiling - 0.7 * 100.0 / 60.0).abs() < 1e-9, "{s}");
    let open = ok(prescale()
        .args(["simulate", "--group", "web-prod", "--policies", "reactive", "--format", "json"])
        .args(["--saturating-metric", "false", "--out"])
        .arg(&out));
    assert!(serde_json::from_str::<Value>(&open).unwrap()["settings"].get("metric_ceiling").is_none());

    // The group's forecast and fallback settings reach the replay: a log transform, holidays in
    // the group's zone, its daily cycle on that zone's clock, step scaling off, prices in its
    // currency.
    let cfg = crate::common::demo_config_text()
        .replace("# holidays = [", "holidays = [")
        .replace("# transform = \"box-cox\"", "transform = \"log\"")
        .replace(
            "target_value = 60.0, warmup_secs = 300 }",
            "target_value = 60.0, warmup_secs = 300, step = { enabled = false } }\ntime_zone = \"Europe/Berlin\"\n\
             daily_clock = \"local\"",
        )
        .replace("[plan]", "[cost]\ninstance_hour_price = 0.1\ncurrency = \"EUR\"\n\n[plan]");
    let cfg_path = tmp.path().join("prescale.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    ok(prescale().arg("--config").arg(&cfg_path).arg("--out").arg(&out).args(["ingest", "--group", "web-prod"]));
    let args = ["simulate", "--group", "web-prod", "--policies", "reactive,prescale", "--min-history-days", "26"];
    let mut c = prescale();
    c.arg("--config").arg(&cfg_path).arg("--out").arg(&out).args(args).args(["--format", "json"]);
    let json = ok(&mut c);
    let v: Value = serde_json::from_str(&json).unwrap();
    let s = &v["settings"];
    assert_eq!(
        (s["step"]["enabled"].as_bool(), s["transform"].as_str(), s["holidays"].as_u64()),
        (Some(false), Some("log"), Some(2)),
        "{s}"
    );
    assert_eq!(v["nights"].as_array().map(Vec::len), Some(2), "{v}");
    assert!(v["nights"].as_array().unwrap().iter().all(|n| n["error"].is_null()), "{v}");
    assert!(
        v["nights"].as_array().unwrap().iter().all(|n| n["model"].as_str().is_some_and(|m| m.starts_with("local:"))),
        "{v}"
    );
    assert_eq!((s["currency"].as_str(), s["local_clock"].as_str()), (Some("EUR"), Some("Europe/Berlin")), "{s}");
    let mut c = prescale();
    c.arg("--config").arg(&cfg_path).arg("--out").arg(&out).args(args).args(["--step-scaling", "true"]);
    let table = ok(&mut c);
    assert!(table.contains("prescale's fallback: target tracking and step scaling out (at 84 %)"), "{table}");
    // The demo forecasts with `auto`, which learns the holidays' effect: the table says how many.
    assert!(table.contains("fit on the log, 2 holidays, the daily cycle on the clock of Europe/Berlin)"), "{table}");
    assert!(table.contains("EUR on demand") && !table.contains("$ on demand"), "{table}");

    // Step alarms of 300 s are written for basic monitoring: the replay reads 5-minute periods;
    // target tracking on a load balancer's requests, which it publishes per minute, keeps 1.
    let cpu = "reactive = { metric = \"ASGAverageCPUUtilization\", target_value = 60.0, warmup_secs = 300 }";
    let basic = [
        (r#"reactive = { metric = "ASGAverageCPUUtilization", target_value = 60.0, step = { period_secs = 300 } }"#, 5),
        (
            r#"reactive = { metric = "ALBRequestCountPerTarget", target_value = 600.0, resource_label = "app/w/1/targetgroup/t/2", step = { period_secs = 300 } }"#,
            1,
        ),
    ];
    for (reactive, want) in basic {
        let text = crate::common::demo_config_text();
        assert!(text.contains(cpu), "the demo's web-prod reads CPU");
        std::fs::write(&cfg_path, text.replace(cpu, reactive)).unwrap();
        ok(prescale().arg("--config").arg(&cfg_path).arg("--out").arg(&out).args(["ingest", "--group", "web-prod"]));
        let mut c = prescale();
        c.arg("--config").arg(&cfg_path).arg("--out").arg(&out);
        c.args(["simulate", "--group", "web-prod", "--policies", "reactive", "--format", "json"]);
        let v: Value = serde_json::from_str(&ok(&mut c)).unwrap();
        assert_eq!(v["settings"]["metric_period_mins"], want, "{reactive}: {}", v["settings"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Load-test scenarios and the chart

/// The record batches of a `--timeseries` file, in file order.
fn batches(path: &Path) -> Vec<arrow_array::RecordBatch> {
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Reads a `--timeseries` file: (policy, demand, serving, instances, held) per row, in file order.
fn timeseries(path: &Path) -> Vec<(String, f64, i32, i32, bool)> {
    let mut rows = Vec::new();
    for batch in batches(path) {
        let col = |name: &str| batch.column_by_name(name).unwrap().clone();
        let (policy, demand, serving, paid) = (col("policy"), col("demand"), col("serving"), col("instances"));
        let policy = policy.as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
        let demand = demand.as_any().downcast_ref::<arrow_array::Float64Array>().unwrap();
        let serving = serving.as_any().downcast_ref::<arrow_array::Int32Array>().unwrap();
        let paid = paid.as_any().downcast_ref::<arrow_array::Int32Array>().unwrap();
        let held = col("held");
        let held = held.as_any().downcast_ref::<arrow_array::BooleanArray>().unwrap();
        for i in 0..batch.num_rows() {
            rows.push((policy.value(i).to_string(), demand.value(i), serving.value(i), paid.value(i), held.value(i)));
        }
    }
    rows
}

/// The `floor` column of a `--timeseries` file, in its rows' order.
fn floor_column(path: &Path) -> Vec<i32> {
    let mut out = Vec::new();
    for batch in batches(path) {
        let col = batch.column_by_name("floor").unwrap().clone();
        let col = col.as_any().downcast_ref::<arrow_array::Int32Array>().unwrap();
        out.extend((0..batch.num_rows()).map(|i| col.value(i)));
    }
    out
}

/// Minutes from the trace start (2026-01-05 00:00 UTC) to an RFC 3339 instant in the JSON.
fn minute_of(v: &Value) -> usize {
    let t = chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    ((t.timestamp() - 1_767_571_200) / 60) as usize
}

#[test]
fn each_scenario_has_its_defining_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let ts = tmp.path().join("sc.parquet");
    let json = ok(prescale()
        .args(["simulate", "--scenario", "all", "--policies", "reactive", "--format", "json", "--timeseries"])
        .arg(&ts));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["target_scale_out_mins"], 5);
    let scenarios = v["scenarios"].as_array().unwrap();
    let names: Vec<&str> = scenarios.iter().map(|s| s["shape"]["scenario"].as_str().unwrap()).collect();
    assert_eq!(names, ["ramp", "spike", "sustained", "scale-down"]);
    for sc in scenarios {
        let name = sc["shape"]["scenario"].as_str().unwrap();
        // One file per scenario; the oracle is added as the yardstick of thrashing.
        let rows = timeseries(&tmp.path().join(format!("sc-{name}.parquet")));
        let d: Vec<f64> = rows.iter().filter(|r| r.0 == "reactive").map(|r| r.1).collect();
        assert_eq!(rows.len(), 2 * d.len(), "{name}: reactive and oracle");
        assert_eq!(d.len(), 5 * 1440, "{name}: four ordinary days and the test day");
        let shape = &sc["shape"];
        let (onset, rise, peak, end) = (
            minute_of(&shape["onset"]),
            minute_of(&shape["rise_end"]),
            minute_of(&shape["peak_end"]),
            minute_of(&shape["end"]),
        );
        let base = shape["base_load"].as_f64().unwrap();
        assert_eq!(onset, 4 * 1440 + 12 * 60, "{name}: noon of the fifth day");
        // The forecasts saw only ordinary days: nothing before the test day comes near its peak.
        let ordinary_peak = d[..4 * 1440].iter().copied().fold(0.0, f64::max);
        assert!(ordinary_peak < 1.1 * 2000.0 && shape["peak_load"].as_f64().unwrap() > 3.0 * ordinary_peak, "{name}");
        assert!(d[onset - 15..onset].iter().all(|x| *x == base), "{name}: 15 minutes at the base before the onset");
        match name {
            "ramp" => {
                // Up by the same step every minute for an hour, to 5×, held half an hour, then down.
                assert_eq!(rise - onset, 60);
                for t in onset..rise {
                    assert!((d[t] - d[t - 1] - 4.0 * base / 60.0).abs() < 1e-6, "ramp at {t}: {} {}", d[t - 1], d[t]);
                }
                assert!(d[rise..peak].iter().all(|x| *x == 5.0 * base));
                assert!(d[peak..end].windows(2).all(|w| w[1] < w[0]));
            }
            "spike" => {
                // 10× from one minute to the next, held until the end, then ordinary traffic.
                assert_eq!(d[onset], 10.0 * d[onset - 1]);
                assert!(d[onset..end].iter().all(|x| *x == 10.0 * base));
                assert!(d[end] < 2.0 * base);
            }
            "sustained" => {
                assert!(end - rise >= 240);
                assert!(d[rise..end].iter().all(|x| *x == 4.0 * base), "four hours at 4×");
            }
            "scale-down" => {
                // An hour at 5×, then down to the base from one minute to the next, for three hours.
                assert!(d[peak - 60..peak].iter().all(|x| *x == 5.0 * base));
                assert_eq!(d[peak], base);
                assert_eq!(end - peak, 180);
                assert!(d[peak..end].iter().all(|x| *x == base));
            }
            other => panic!("unexpected scenario {other}"),
        }
    }
}

#[test]
fn a_spike_is_met_after_the_alarm_and_the_boot_and_prescale_relies_on_its_fallback() {
    let scenario = |boot: &str, policies: &str| -> Value {
        let json = ok(prescale().args([
            "simulate",
            "--scenario",
            "spike",
            "--format",
            "json",
            "--boot-mins",
            boot,
            "--policies",
            policies,
        ]));
        serde_json::from_str::<Value>(&json).unwrap()["scenarios"][0].clone()
    };
    let sc = scenario("5", "reactive,static,prescale");
    let results = sc["results"].as_array().unwrap();
    let reactive = policy(results, "reactive");
    // By hand: 10 instances serve the base 1,750 at 70 % of 250. From 12:00 the 17,500 per minute
    // breach the target; the alarm fires after 3 minutes (12:03) and sets 100 instances, which serve
    // 5 minutes later (12:08). 12:00–12:07 are short, by 17,500 − 10 × 250 = 60 instances.
    assert_eq!(sc["peak_need"], 100);
    assert_eq!(int(reactive, "scale_out_mins"), 8, "{reactive}");
    assert_eq!(int(reactive, "under_provisioned_minutes"), 8, "{reactive}");
    assert_eq!(int(reactive, "worst_shortfall_instances"), 60, "{reactive}");
    assert_eq!(float(reactive, "worst_shortfall"), 15_000.0);
    assert_eq!(
        (reactive["kept_up"].as_bool(), reactive["scale_out_within_target"].as_bool()),
        (Some(false), Some(false))
    );
    // Static capacity never catches up with the peak.
    let st = policy(results, "static");
    assert!(st["scale_out_mins"].is_null() && int(st, "under_provisioned_minutes") == 20, "{st}");
    // prescale's nightly forecast saw ordinary days only: its floors stay far below the test's need,
    // and its reactive fallback scales out exactly as target tracking alone does.
    // (The ordinary peak, 2,000, needs 12 instances at 70 %; its P90 at full capacity about 9.)
    let planned = int(&sc, "prescale_planned_peak");
    assert!((8..=15).contains(&planned), "{sc}");
    let pre = policy(results, "prescale");
    assert_eq!(int(pre, "scale_out_mins"), 8, "{pre}");
    // The oracle was added, launched ahead, and is never short.
    assert_eq!(int(policy(results, "oracle"), "under_provisioned_minutes"), 0);
    // A 2-minute boot: 3 + 2 = 5 minutes, within the target.
    let sc = scenario("2", "reactive");
    let reactive = policy(sc["results"].as_array().unwrap(), "reactive");
    assert_eq!(int(reactive, "scale_out_mins"), 5, "{reactive}");
    assert_eq!(reactive["scale_out_within_target"], true);
    // The table says why 5 minutes are missed at a 5-minute boot, and what meets them.
    let table = ok(prescale().args(["simulate", "--scenario", "spike", "--policies", "reactive"]));
    println!("{table}");
    assert!(table.contains("acts after 3 breaching minutes") && table.contains("--boot-mins 2"), "{table}");
    // A maximum below the test's peak is named as what decides it, not the policies.
    let capped = ok(prescale().args(["simulate", "--scenario", "spike", "--policies", "reactive", "--max", "20"]));
    assert!(capped.contains("MaxSize 20 cannot serve it even at full capacity"), "{capped}");
}

#[test]
fn scenarios_are_deterministic_to_the_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for i in 0..2 {
        let (ts, chart) = (tmp.path().join(format!("{i}.parquet")), tmp.path().join(format!("{i}.svg")));
        let json = ok(prescale()
            .args(["simulate", "--scenario", "scale-down", "--policies", "reactive,step,prescale", "--format", "json"])
            .arg("--timeseries")
            .arg(&ts)
            .arg("--chart")
            .arg(&chart));
        outs.push((json, std::fs::read(&ts).unwrap(), std::fs::read(&chart).unwrap()));
    }
    assert!(outs[0] == outs[1], "two runs differ");
    // The replay's settings travel with its time series, for the notebook to recompute the table.
    let file = std::fs::File::open(tmp.path().join("0.parquet")).unwrap();
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let kv: std::collections::HashMap<String, String> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
        .collect();
    assert_eq!(kv.get("prescale.target_utilization").map(String::as_str), Some("0.7"), "{kv:?}");
    assert_eq!(kv.get("prescale.boot_mins").map(String::as_str), Some("5"), "{kv:?}");
    let v: Value = serde_json::from_str(&outs[0].0).unwrap();
    // And the load test's window, for its kept-up and scale-out columns: from the onset to an
    // hour after the test.
    let shape = &v["scenarios"][0]["shape"];
    let end = chrono::DateTime::parse_from_rfc3339(shape["end"].as_str().unwrap()).unwrap();
    let window_end = (end + chrono::Duration::hours(1)).to_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let meta = |k: &str| kv.get(&format!("prescale.{k}")).cloned();
    assert_eq!(
        (meta("scenario"), meta("onset"), meta("peak_end"), meta("window_end"), meta("scale_out_target_mins")),
        (
            Some("scale-down".into()),
            shape["onset"].as_str().map(Into::into),
            shape["peak_end"].as_str().map(Into::into),
            Some(window_end),
            Some("5".into())
        ),
        "{kv:?}"
    );
    // Three nightly plans (after 2, 3 and 4 days), all fitted.
    let nights = v["scenarios"][0]["replay"]["nights"].as_array().unwrap();
    assert_eq!(nights.len(), 3);
    assert!(nights.iter().all(|n| n["error"].is_null()), "{nights:?}");
    let svg = parse_svg(&String::from_utf8(outs[0].2.clone()).unwrap());
    assert_eq!(svg.panels, ["reactive", "step", "prescale", "oracle"]);
}

/// What the chart tests look at in an SVG document.
struct Svg {
    width: f64,
    height: f64,
    panels: Vec<String>,
    /// (class, every point of the path's d).
    paths: Vec<(String, Vec<(f64, f64)>)>,
    /// Panel frames: (y, height).
    frames: Vec<(f64, f64)>,
}

/// Parses an SVG with a real XML tokenizer, insisting that every element closes in order.
fn parse_svg(text: &str) -> Svg {
    let mut stack: Vec<String> = Vec::new();
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut svg = Svg { width: 0.0, height: 0.0, panels: vec![], paths: vec![], frames: vec![] };
    let mut element = String::new();
    let mut roots = 0;
    let finish = |name: &str, attrs: &[(String, String)], svg: &mut Svg| {
        let get = |k: &str| attrs.iter().find(|a| a.0 == k).map(|a| a.1.clone());
        match name {
            "svg" => {
                let vb: Vec<f64> = get("viewBox").unwrap().split(' ').map(|x| x.parse().unwrap()).collect();
                assert_eq!(&vb[..2], [0.0, 0.0]);
                (svg.width, svg.height) = (vb[2], vb[3]);
            }
            "g" if get("class").as_deref() == Some("panel") => svg.panels.push(get("data-policy").unwrap()),
            "path" => svg.paths.push((get("class").unwrap_or_default(), path_points(&get("d").unwrap()))),
            "rect" if get("stroke").as_deref() == Some("#999") => {
                svg.frames.push((get("y").unwrap().parse().unwrap(), get("height").unwrap().parse().unwrap()))
            }
            _ => {}
        }
    };
    for token in xmlparser::Tokenizer::from(text) {
        match token.expect("well-formed XML") {
            xmlparser::Token::ElementStart { local, .. } => {
                if stack.is_empty() {
                    roots += 1;
                }
                element = local.to_string();
                attrs.clear();
            }
            xmlparser::Token::Attribute { local, value, .. } => attrs.push((local.to_string(), value.to_string())),
            xmlparser::Token::ElementEnd { end, .. } => match end {
                xmlparser::ElementEnd::Open => {
                    finish(&element, &attrs, &mut svg);
                    stack.push(element.clone());
                }
                xmlparser::ElementEnd::Empty => finish(&element, &attrs, &mut svg),
                xmlparser::ElementEnd::Close(_, name) => {
                    assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "mismatched </{name}>")
                }
            },
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1);
    svg
}

/// The points of a path's `d` (M x,y, L x,y, H x, V y, Z).
fn path_points(d: &str) -> Vec<(f64, f64)> {
    let (mut pts, mut cur) = (Vec::new(), (0.0, 0.0));
    let mut rest = d;
    while let Some(c) = rest.chars().next() {
        let end = rest[1..].find(|ch: char| ch.is_ascii_alphabetic()).map_or(rest.len(), |i| i + 1);
        let arg = &rest[1..end];
        let nums: Vec<f64> = arg.split([',', ' ']).filter(|x| !x.is_empty()).map(|x| x.parse().unwrap()).collect();
        cur = match c {
            'M' | 'L' => (nums[0], nums[1]),
            'H' => (nums[0], cur.1),
            'V' => (cur.0, nums[0]),
            'Z' => cur,
            other => panic!("unexpected path command {other} in {d}"),
        };
        pts.push(cur);
        rest = &rest[end..];
    }
    pts
}

#[test]
fn the_chart_has_a_panel_per_policy_inside_its_view_box_and_keeps_a_one_minute_spike() {
    let tmp = tempfile::tempdir().unwrap();
    // Four weeks at one minute, flat at 100 but for one minute at 1,000 in the middle.
    let load: Vec<String> = (0..28 * 1440).map(|m| if m == 20_000 { "1000" } else { "100" }.to_string()).collect();
    let p = trace(tmp.path(), "flat.csv", 60, &load);
    let chart = tmp.path().join("out/chart.svg");
    ok(prescale()
        .args(["simulate", "--capacity", "100", "--policies", "reactive,static,oracle", "--input"])
        .arg(&p)
        .arg("--chart")
        .arg(&chart));
    let text = std::fs::read_to_string(&chart).unwrap();
    // A chart named as another format is refused, not SVG under a .png name; so is a time series
    // named as CSV: it would be Parquet under a .csv name.
    for (flag, name, want) in
        [("--chart", "c.png", "name it FILE.svg"), ("--timeseries", "t.csv", "name it FILE.parquet")]
    {
        let (code, _, err) = run(prescale()
            .args(["simulate", "--capacity", "100", "--input"])
            .arg(&p)
            .arg(flag)
            .arg(tmp.path().join(name)));
        assert!(code == 1 && err.contains(want) && !tmp.path().join(name).exists(), "{flag}: {err}");
    }
    let svg = parse_svg(&text);
    assert_eq!(svg.panels, ["reactive", "static", "oracle"]);
    assert_eq!(svg.frames.len(), 3);
    for t in ["demand", "serving capacity", "time (UTC)", "load (the trace's units per step)", "2026-01-"] {
        assert!(text.contains(t), "{t} missing");
    }
    assert_eq!(svg.paths.len(), 6, "demand and capacity per panel");
    for (class, pts) in &svg.paths {
        assert!(pts.len() > 100, "{class}: one column per pixel, not one point per minute or too few");
        for (x, y) in pts {
            assert!((0.0..=svg.width).contains(x) && (0.0..=svg.height).contains(y), "{class}: ({x}, {y}) outside");
        }
    }
    // The scale's top is the oracle's 15 instances × 100 = 1,500 (a round figure already), so the
    // one spike minute among 40,320 still reaches 1,000 / 1,500 of every panel's height.
    for (i, (y0, h)) in svg.frames.iter().enumerate() {
        let demand = &svg.paths[2 * i].1;
        assert_eq!(svg.paths[2 * i].0, "demand");
        let top = demand.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        assert!((y0 + h - top - h * 1000.0 / 1500.0).abs() < 0.11, "panel {i}: spike drawn at {top}");
    }
}

#[test]
fn spot_share_prices_a_second_dollar_column_and_bad_prices_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let day: Vec<String> = (0..1440).map(|m| (100 + m % 60).to_string()).collect();
    let p = trace(tmp.path(), "day.csv", 60, &day);
    let base = ["simulate", "--policies", "reactive,oracle", "--format", "json", "--price", "0.1"];
    let json = ok(prescale().args(base).args(["--spot-share", "0.6", "--spot-price", "0.03", "--input"]).arg(&p));
    for r in policies(&json) {
        let h = float(&r, "instance_hours");
        assert!((float(&r, "dollars") - 0.1 * h).abs() < 1e-9, "{r}");
        assert!((float(&r, "dollars_spot_mix") - h * (0.6 * 0.03 + 0.4 * 0.1)).abs() < 1e-9, "{r}");
    }
    // A discount gives the same figures as the price it implies.
    let discounted =
        ok(prescale().args(base).args(["--spot-share", "0.6", "--spot-discount", "0.7", "--input"]).arg(&p));
    for (a, b) in policies(&json).iter().zip(&policies(&discounted)) {
        assert!((float(a, "dollars_spot_mix") - float(b, "dollars_spot_mix")).abs() < 1e-9);
    }
    let table = ok(prescale()
        .args(["simulate", "--policies", "reactive", "--price", "0.1", "--spot-share", "0.6", "--spot-discount", "0.7"])
        .arg("--input")
        .arg(&p));
    assert!(
        table.contains("$ on demand")
            && table.contains("$ spot mix")
            && table.contains("60 % of instance-hours on spot")
    );
    let cases: [(&[&str], &str); 7] = [
        (
            &["--spot-share", "1.5", "--price", "0.1", "--spot-price", "0.03"],
            "spot share must be a fraction in [0, 1], got 1.5",
        ),
        (&["--spot-share", "0.5", "--price", "0.1"], "needs the on-demand price and the spot price"),
        (
            &["--spot-share", "0.5", "--spot-discount", "0.7"],
            "--spot-discount needs an on-demand price to discount: --price",
        ),
        (
            &["--price", "0.1", "--spot-discount", "1.2", "--spot-share", "0.5"],
            "--spot-discount 1.2 must be a fraction in [0, 1)",
        ),
        (
            &["--price", "0.1", "--spot-price", "0.2", "--spot-share", "0.5"],
            "spot price 0.2 is above the on-demand price 0.1",
        ),
        (&["--price=-1"], "on-demand price must be a number of dollars per instance-hour from 0 to 1000000, got -1"),
        (
            &["--price", "1e306"],
            "price must be a number of dollars per instance-hour from 0 to 1000000, got 100000000000",
        ),
    ];
    for (args, want) in cases {
        let (code, _, err) =
            run(prescale().args(["simulate", "--policies", "reactive"]).args(args).arg("--input").arg(&p));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected {want:?} in:\n{err}");
    }
}

#[test]
fn with_the_step_policy_owning_scale_in_prescale_reverses_less_and_holds_more() {
    // Three days of 1-minute load that hovers around the target with noise: target tracking
    // scales in after 15 quiet minutes and out again, over and over.
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = prescale_core::SplitMix64(7);
    let load: Vec<String> = (0..3 * 1440).map(|_| format!("{:.1}", 1000.0 * (0.75 + 0.5 * rng.uniform()))).collect();
    let p = trace(tmp.path(), "noisy.csv", 60, &load);
    let run_with = |owns: &str, extra: &[&str]| {
        let json = ok(prescale()
            .args(["simulate", "--capacity", "100", "--policies", "reactive,prescale", "--format", "json"])
            .args(["--step-owns-scale-in", owns])
            .args(extra)
            .arg("--input")
            .arg(&p));
        let ps = policies(&json);
        let p = policy(&ps, "prescale");
        (
            int(p, "reversals_within_hour"),
            float(p, "instance_hours"),
            int(policy(&ps, "reactive"), "reversals_within_hour"),
        )
    };
    let (default, owned) = (run_with("false", &[]), run_with("true", &[]));
    // A narrower dead band: scale in below 85 % of the target instead of 60 %.
    let narrow = run_with("true", &["--step-in-below", "0.85"]);
    let table =
        ok(prescale().args(["simulate", "--capacity", "100", "--step-owns-scale-in", "true", "--input"]).arg(&p));
    assert!(table.contains("target tracking out only and step scaling"), "{table}");
    println!(
        "prescale reversals / instance-hours: target tracking scales in {default:?}, the step policy does {owned:?}"
    );
    assert_eq!(default.2, owned.2, "reactive is not affected");
    assert!(default.0 > 0 && owned.0 * 2 <= default.0, "reversals {} vs {}", owned.0, default.0);
    assert!(owned.1 >= default.1, "instance-hours {} vs {}", owned.1, default.1);
    println!("… scaling in below 85 % of the target {narrow:?}");
    assert!(narrow.1 < owned.1, "a narrower dead band holds less: {} vs {}", narrow.1, owned.1);
    let table = ok(prescale()
        .args(["simulate", "--capacity", "100", "--step-owns-scale-in", "true", "--step-in-below", "0.85", "--input"])
        .arg(&p));
    assert!(table.contains("the only scale-in below 60 % for 15 min"), "59.5 % shown rounded: {table}");
    let table = ok(prescale()
        .args(["simulate", "--capacity", "100", "--step-in-periods", "60", "--policies", "prescale"])
        .args(["--step-owns-scale-in", "true", "--input"])
        .arg(&p));
    assert!(table.contains("the only scale-in below 35 % for 60 min"), "{table}");
    // Without it, target tracking scales in and the line says the step policy only scales out.
    let table = ok(prescale()
        .args(["simulate", "--capacity", "100", "--step-in-periods", "60", "--policies", "prescale", "--input"])
        .arg(&p));
    assert!(table.contains("target tracking and step scaling out (at 84 %)"), "{table}");
    let (code, _, err) = run(prescale().args(["simulate", "--step-in-below", "1.5", "--input"]).arg(&p));
    assert_eq!(code, 1);
    assert!(err.contains("--step-in-below 1.5 must lie between 0 and 1.000"), "{err}");
}

#[test]
fn a_longer_scale_in_window_skips_the_short_lulls_and_keeps_the_long_ones() {
    // Three days of 1-minute load in blocks: 40 minutes high, a 40-minute lull, 40 high, a
    // 90-minute lull. Scaling in after 15 low minutes follows every lull and scales out again
    // after it; after 60, only the long lulls.
    let tmp = tempfile::tempdir().unwrap();
    let cycle: Vec<f64> = [(40, 1000.0), (40, 500.0), (40, 1000.0), (90, 500.0)]
        .iter()
        .flat_map(|(n, v)| std::iter::repeat_n(*v, *n))
        .collect();
    let load: Vec<String> = cycle.iter().cycle().take(3 * 1440).map(|v| format!("{v:.1}")).collect();
    let p = trace(tmp.path(), "lulls.csv", 60, &load);
    let run_with = |periods: &str| {
        let json = ok(prescale()
            .args(["simulate", "--capacity", "100", "--policies", "reactive,prescale", "--format", "json"])
            .args(["--step-owns-scale-in", "true", "--step-in-below", "0.85", "--step-in-periods", periods])
            .arg("--input")
            .arg(&p));
        let ps = policies(&json);
        let p = policy(&ps, "prescale");
        (int(p, "reversals_within_hour"), float(p, "instance_hours"), int(p, "scaling_actions"))
    };
    let (quick, slow) = (run_with("15"), run_with("60"));
    println!("prescale reversals / instance-hours / actions: in after 15 low minutes {quick:?}, after 60 {slow:?}");
    assert!(slow.0 < quick.0, "a longer window reverses less: {} vs {}", slow.0, quick.0);
    assert!(slow.1 > quick.1, "and holds more: {} vs {}", slow.1, quick.1);
    assert!(slow.2 < quick.2, "fewer actions: {} vs {}", slow.2, quick.2);
    // The high load needs 15 instances at the 70 % target (1,000 / 70): held throughout, 15 × 72 h.
    assert!(slow.1 < 15.0 * 72.0, "it still scales in, in the long lulls: {}", slow.1);
}

#[test]
fn a_chart_to_dev_stdout_goes_down_the_pipe_or_into_the_file_and_replaces_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let values: Vec<String> = (0..1440).map(|m| format!("{}", 100 + (m / 60) * 10)).collect();
    let p = trace(tmp.path(), "day.csv", 60, &values);
    let args = |c: &mut std::process::Command| {
        c.args(["simulate", "--policies", "reactive", "--chart", "/dev/stdout", "--input"]).arg(&p);
    };
    // Down a pipe (the test reads stdout through one): the chart, whole, and the table.
    let mut c = prescale();
    args(&mut c);
    let text = ok(&mut c);
    assert!(text.contains("reactive") && text.contains("<svg") && text.contains("</svg>"), "{text}");
    // Into a file the shell opened (`> out.txt`): the file keeps the table, the chart is appended,
    // and the file is the same file (not renamed over).
    let out = tmp.path().join("out.txt");
    std::fs::write(&out, "before\n").unwrap();
    let file = std::fs::OpenOptions::new().append(true).open(&out).unwrap();
    let inode = |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let before = inode(&out);
    let mut c = prescale();
    args(&mut c);
    let status = c.stdout(file).status().unwrap();
    assert!(status.success());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("before\n") && written.contains("reactive") && written.contains("<svg"), "{written}");
    assert_eq!(inode(&out), before, "the file was replaced");
}

#[test]
fn a_configuration_given_with_a_file_sets_the_plan_and_trust_settings_of_the_replay() {
    // `--config` with `--input`: the configuration's lead time, minimum hold, unskilled rule and
    // forecast window reach the replay (as they do with --group), each flag still first.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = crate::common::demo_config_text().replace(
        "lead_time_mins = 10\nmin_hold_mins = 60",
        "lead_time_mins = 30\nmin_hold_mins = 120\nfloor_mean_mins = 60",
    ) + "\n[trust]\nunskilled = \"none\"\n";
    assert!(cfg.contains("lead_time_mins = 30") && cfg.contains("unskilled = \"none\""), "{cfg}");
    let path = tmp.path().join("prescale.toml");
    std::fs::write(&path, cfg).unwrap();
    let settings = |extra: &[&str]| -> Value {
        let json = ok(prescale()
            .arg("--config")
            .arg(&path)
            .args(["simulate", "--policies", "reactive", "--format", "json", "--input"])
            .arg(demo_trace())
            .args(extra));
        serde_json::from_str::<Value>(&json).unwrap()["settings"].clone()
    };
    let s = settings(&[]);
    assert_eq!((s["lead_time_mins"].as_u64(), s["unskilled"].as_str()), (Some(30), Some("none")), "{s}");
    assert_eq!((s["train_days"].as_u64(), s["horizon_hours"].as_u64()), (Some(28), Some(48)), "{s}");
    assert_eq!((s["min_hold_mins"].as_u64(), s["floor_mean_mins"].as_u64()), (Some(120), Some(60)), "{s}");
    let s = settings(&["--lead-time-mins", "15", "--unskilled", "trust", "--floor-mean-mins", "30"]);
    assert_eq!((s["lead_time_mins"].as_u64(), s["unskilled"].as_str()), (Some(15), Some("trust")), "{s}");
    assert_eq!(s["floor_mean_mins"].as_u64(), Some(30), "{s}");
    // Out of its range, in the configuration: refused, with the range.
    std::fs::write(
        &path,
        std::fs::read_to_string(&path).unwrap().replace("floor_mean_mins = 60", "floor_mean_mins = 0"),
    )
    .unwrap();
    let (code, _, err) = crate::common::run(prescale().arg("--config").arg(&path).args(["plan"]));
    assert!(code == 1 && err.contains("[plan] floor_mean_mins = 0 must be between 1 and 1440 minutes"), "{err}");
}
