//! The `prescale` binary as users run it.

use std::path::Path;

use crate::common::{assert_configs_refused, demo_config_text, ok, prescale, run, shared_data};

fn demo_plan_actions(out: &Path) -> usize {
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["format"], "prescale.plan/v1");
    plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let n = |k: &str| g[k].as_array().map_or(0, Vec::len);
            n("scheduled_actions") + n("policies") + n("alarms")
        })
        .sum()
}

#[test]
fn the_nightly_run_says_and_writes_the_same_whatever_its_threads() {
    // The series are fitted on the threads, said and stored in order: one thread and three give
    // the same store, plan and diff to the byte, and the same log but for its clock.
    let tmp = tempfile::tempdir().unwrap();
    let runs: Vec<(String, String)> = ["1", "3"]
        .iter()
        .map(|t| {
            let out = tmp.path().join(format!("t{t}"));
            let (code, text, err) = run(prescale().args(["-v", "nightly", "--threads", t, "--out"]).arg(&out));
            assert_eq!(code, 0, "{err}");
            let at = out.display().to_string();
            // Each log line's own time and the seconds so far (and left) differ; nothing else may.
            let err: Vec<String> = err
                .lines()
                .map(|l| {
                    let l = l.split_once("Z ").map_or(l, |(_, rest)| rest).replace(&at, "OUT");
                    match l.rsplit_once(" (") {
                        Some((head, tail)) if tail.contains(" s so far") => head.to_string(),
                        _ => l,
                    }
                })
                .collect();
            (text.replace(&at, "OUT"), err.join("\n"))
        })
        .collect();
    assert_eq!(runs[0].0, runs[1].0);
    assert_eq!(runs[0].1, runs[1].1);
    assert!(runs[0].1.contains("web-prod/requests: backtest"), "{}", runs[0].1);
    let files = |dir: &std::path::Path| {
        let mut found = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                } else {
                    found.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
                }
            }
        }
        found.sort();
        found
    };
    let (one, three) = (files(&tmp.path().join("t1")), files(&tmp.path().join("t3")));
    assert!(
        one.iter().filter(|(p, _)| p.starts_with("store/forecasts")).count() >= 3,
        "{:?}",
        one.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(one.len(), three.len());
    for ((p, a), (q, b)) in one.iter().zip(&three) {
        assert_eq!(p, q);
        assert!(a == b, "{} differs between one thread and three", p.display());
    }
}

#[test]
fn demo_nightly_is_a_dry_run_then_executes_once_and_converges() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    // Before any run there is no forecast to show, and the error says which command makes one.
    let (code, _, err) = run(prescale().args(["forecast", "show", "--group", "web-prod", "--out"]).arg(&out));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no forecast for web-prod") && err.contains("prescale forecast fit") && !err.contains("ingest"),
        "{err}"
    );
    // The demo keeps its store under --out: one without load is said (a tour's command run with
    // another --out than the nightly run's found nothing, silently), also after an event stored there.
    let store_said = format!("the demo's store {} holds no load and no forecasts", out.join("store").display());
    assert!(err.contains(&store_said) && err.contains("--out out/demo, or export PRESCALE_OUT=out/demo"), "{err}");
    ok(prescale()
        .args(["event", "add", "--group", "web-prod", "--name", "x", "--start", "2026-11-24T10:00:00Z"])
        .args(["--end", "2026-11-24T11:00:00Z", "--multiplier", "1.5", "--out"])
        .arg(&out));
    let (_, _, err) = run(prescale().args(["plan", "--what-if", "--out"]).arg(&out));
    assert!(err.contains(&store_said), "{err}");
    ok(prescale().args(["event", "remove", "--group", "web-prod", "--name", "x", "--out"]).arg(&out));
    let text = ok(prescale().args(["nightly", "--out"]).arg(&out));
    for g in ["web-prod", "api-staging", "worker-dev"] {
        assert!(text.contains(g), "{g} missing from the summary:\n{text}");
    }
    assert!(text.contains("Dry-run diff") && text.contains("+ action prescale-floor-"), "{text}");
    assert!(text.contains("dry run: nothing was changed"));
    // Every object of the plan is a change on the new stand-in groups, but for an opening floor a
    // minute ahead that sets the MinSize a group already has (a write that changes nothing).
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let no_ops = plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| {
            let first = &g["scheduled_actions"][0];
            first["min_size"] == g["bounds"]["min"] && first.get("max_size").is_none()
        })
        .count();
    assert!(no_ops > 0, "the demo's groups open at their MinSize: {plan}");
    let changes = demo_plan_actions(&out) - no_ops;
    assert!(changes > 10);
    // The dry run changed nothing: the stand-in groups were never written.
    assert!(!out.join("demo-asg-state.json").exists());
    let dry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("dry-run-changes.json")).unwrap()).unwrap();
    let recorded: usize = dry.as_array().unwrap().iter().map(|g| g["changes"].as_array().unwrap().len()).sum();
    assert_eq!(recorded, changes);

    // --execute on the demo that runs for want of a configuration is refused (a cron job in the
    // wrong folder would apply the stand-ins and succeed); `--config demo` asks for it.
    let (code, text, err) = run(prescale().args(["nightly", "--execute", "--out"]).arg(&out));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("--execute without a configuration") && err.contains("`--config demo`"), "{err}");
    assert!(text.is_empty(), "nothing was run: {text}");
    // A folder named demo where it runs (here the output folder) is no configuration:
    // `--config demo` is still the built-in one.
    let text =
        ok(prescale().current_dir(tmp.path()).args(["--config", "demo", "nightly", "--execute", "--out"]).arg(&out));
    assert!(text.contains("Applied"), "{text}");
    // Each change is logged (and synced) as `attempting` before the call, then with its outcome.
    let audit = std::fs::read_to_string(out.join("audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 2 * changes);
    let outcomes: Vec<serde_json::Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let count = |o: &str| outcomes.iter().filter(|e| e["outcome"] == o).count();
    assert_eq!((count("attempting"), count("applied")), (changes, changes), "{audit}");
    assert!(!out.join("dry-run-changes.json").exists(), "the dry run's list is no longer what is left to do");
    // The plan applied is kept under its id, which every audit line carries: a later dry run,
    // which replaces plan.json, does not lose what the groups were given.
    let plan_json = std::fs::read_to_string(out.join("plan.json")).unwrap();
    let id = serde_json::from_str::<serde_json::Value>(&plan_json).unwrap()["plan_id"].as_str().unwrap().to_string();
    assert!(outcomes.iter().all(|e| e["plan_id"] == id.as_str()), "{audit}");
    let kept = out.join("applied").join(format!("{id}.json"));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), plan_json);
    assert!(text.contains(&format!("kept:      {}", kept.display())), "{text}");
    let later = ["--config", "demo", "--now", "2026-11-23T01:00:00Z", "nightly", "--out"];
    ok(prescale().args(later).arg(&out));
    assert_ne!(std::fs::read_to_string(out.join("plan.json")).unwrap(), plan_json, "the dry run's plan is another");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), plan_json, "the applied plan is kept as it was");
    // An output folder that cannot be written fails at once, before ingest and fitting.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let (code, text, err) = run(prescale().args(["nightly", "--out"]).arg(&file));
    assert_eq!((code, text.as_str()), (1, ""), "{err}");
    assert!(err.contains("the output folder") && err.contains("is a file, not a folder"), "{err}");
    // Second run: the store already holds every point, the groups match the plan.
    let text = ok(prescale().args(["--config", "demo", "nightly", "--execute", "--out"]).arg(&out));
    assert_eq!(text.matches("no changes: the group already matches the plan").count(), 3, "{text}");
    assert_eq!(std::fs::read_to_string(out.join("audit.jsonl")).unwrap().lines().count(), 2 * changes);
    // A run that changes nothing keeps no copy: no audit line names it.
    std::fs::remove_file(&kept).unwrap();
    let part =
        |g: &str| ok(prescale().args(["--config", "demo", "apply", "--execute", "--group", g, "--out"]).arg(&out));
    let text = part("web-prod");
    assert!(!kept.exists() && !text.contains("kept:"), "{text}");
    // A part of a plan applied (`apply --group`) adds its groups to the copy of the same plan.
    for g in ["web-prod", "worker-dev"] {
        ok(prescale().args(["--config", "demo", "apply", "--revert", "--execute", "--group", g, "--out"]).arg(&out));
    }
    let groups = || -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
        v["groups"].as_array().unwrap().iter().map(|g| g["group"].as_str().unwrap().to_string()).collect()
    };
    part("web-prod");
    assert_eq!(groups(), ["web-prod"]);
    part("worker-dev");
    assert_eq!(groups(), ["web-prod", "worker-dev"]);
    // The stored forecast can be shown per group, at the levels it was fitted with.
    let csv = ok(prescale().args(["forecast", "show", "--group", "web-prod", "--format", "csv", "--out"]).arg(&out));
    assert_eq!(csv.lines().next(), Some("ts,mean,lo50,hi50,lo80,hi80,lo90,hi90,lo95,hi95"));
    assert_eq!(csv.lines().count(), 1 + 48 * 12);
    // The blend's own score is stored with it.
    let json = ok(prescale().args(["forecast", "show", "--group", "web-prod", "--format", "json", "--out"]).arg(&out));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        doc["model"].as_str().unwrap().contains('+')
            && doc["blend_mase"].as_f64().is_some_and(|m| m > 0.0)
            && doc["blend_origins"].as_u64().is_some_and(|n| n >= 2),
        "{json}"
    );
    // A level wider than the stored ones has no bounds in the file: refused, not the widest's
    // bounds under its label; one between two stored levels is read between them, with a warning.
    let (code, _, err) =
        run(prescale().args(["forecast", "show", "--group", "web-prod", "--levels", "99", "--out"]).arg(&out));
    assert_eq!(code, 1);
    assert!(err.contains("95 % intervals: 99 % is wider") && err.contains("[forecast] levels"), "{err}");
    let (code, text, err) = run(prescale()
        .args(["forecast", "show", "--group", "web-prod", "--levels", "85", "--format", "csv", "--out"])
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with("ts,mean,lo85,hi85") && err.contains("85 % bounds are read by interpolation"), "{err}");
    // The fitting flags are --input's: with --group they are refused, not ignored (levels, the
    // horizon and the format apply to both).
    for flag in [
        &["--model", "mstl"][..],
        &["--max", "5"],
        &["--holidays", "2026-11-24"],
        &["--weekends", "false"],
        &["--min-step-mins", "60"],
    ] {
        let (code, _, err) =
            run(prescale().args(["forecast", "show", "--group", "web-prod"]).args(flag).arg("--out").arg(&out));
        assert_eq!(code, 1, "{flag:?}: {err}");
        assert!(err.contains("cannot be used with"), "{flag:?}: {err}");
    }
    // No store warning once the nightly run filled it; a horizon past what any stored forecast
    // reaches is not told to raise horizon_hours.
    let (code, _, err) =
        run(prescale().args(["forecast", "show", "--group", "web-prod", "--horizon", "15d", "--out"]).arg(&out));
    assert!(code == 1 && err.contains("a stored forecast reaches two weeks at most"), "{err}");
    assert!(!err.contains("raise [forecast] horizon_hours") && !err.contains("holds no load"), "{err}");
    // … and so are a group's --events with a file, and backtest's --min-step-mins with a group.
    for args in [
        &["forecast", "show", "--input", "x.csv", "--events"][..],
        &["backtest", "--group", "web-prod", "--min-step-mins", "60"],
    ] {
        let (code, _, err) = run(prescale().args(args).arg("--out").arg(&out));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("cannot be used with"), "{args:?}: {err}");
    }
    // Levels with spaces after their commas, as people type them.
    ok(prescale().args(["forecast", "show", "--group", "web-prod", "--levels", "80, 95", "--out"]).arg(&out));
}

#[test]
fn stages_run_one_by_one_with_a_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg_path = tmp.path().join("prescale.toml");
    std::fs::write(&cfg_path, demo_config_text()).unwrap();
    let out = tmp.path().join("out");
    let base = |args: &[&str]| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg_path).arg("--out").arg(&out).args(["--now", "2026-11-23T00:00:00Z"]).args(args);
        c
    };
    let text = ok(&mut base(&["ingest", "--group", "web-prod"]));
    assert!(text.contains("web-prod/requests") && !text.contains("api-staging"), "{text}");
    // Relative store dir in the config resolves next to the config file.
    assert!(tmp.path().join("store/metrics/v1/web-prod/requests.parquet").exists());
    let text = ok(&mut base(&["ingest", "--group", "web-prod"]));
    assert!(text.contains("8064"), "re-ingest keeps the slots once:\n{text}");
    let text = ok(&mut base(&["forecast", "fit", "--group", "web-prod"]));
    // The engine picked its blend by backtests; the scores are stored with the forecast.
    assert!(text.contains("auto[") || text.contains("mstl(") || text.contains("profile("), "{text}");
    let (stored, _) = prescale_store::ForecastTable::new(tmp.path().join("store"))
        .read(&prescale_core::MetricId::new("web-prod", "requests"))
        .unwrap();
    assert!(stored.scores.len() >= 5, "{:?}", stored.scores);
    assert!((stored.scores.iter().map(|s| s.weight).sum::<f64>() - 1.0).abs() < 1e-6);
    let text = ok(&mut base(&["plan", "--group", "web-prod"]));
    assert!(text.contains("why") && text.contains("plan written to"), "{text}");
    let text = ok(&mut base(&["apply"]));
    assert!(text.contains("dry run against"), "{text}");
    // A group that was never ingested has no forecast: reactive only, with the reason.
    let (code, text, err) = run(&mut base(&["plan", "--group", "api-staging"]));
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("no forecast") && text.contains("reactive"), "{text}");
    let (code, _, err) = run(&mut base(&["plan", "--group", "nope"]));
    assert_eq!(code, 1);
    assert!(err.contains("no group \"nope\"") && err.contains("known groups"), "{err}");
    // Its forecast has bounds at the configured levels and the environment's quantile; one
    // changed since (P85, not P90) is read between them, and said until a fit.
    let (code, _, err) = run(&mut base(&["plan", "--group", "web-prod"]));
    assert!(code == 0 && !err.contains("no bound at"), "{err}");
    std::fs::write(&cfg_path, demo_config_text().replacen("quantile = 0.9", "quantile = 0.85", 1)).unwrap();
    let (code, _, err) = run(&mut base(&["plan", "--group", "web-prod"]));
    assert!(
        code == 0
            && err.contains(
                "web-prod: its stored forecast has no bound at the P85 its floors are sized for (its levels: 50, 60, 80, \
                 90, 95)"
            ),
        "{err}"
    );
    ok(&mut base(&["forecast", "fit", "--group", "web-prod"]));
    let (code, _, err) = run(&mut base(&["plan", "--group", "web-prod"]));
    assert!(code == 0 && !err.contains("no bound at"), "{err}");
    // A forecast file of another schema (another version's) is refitted over, and said.
    let forecast = tmp.path().join("store/forecasts/v1/web-prod/requests.parquet");
    std::fs::copy(tmp.path().join("store/metrics/v1/web-prod/requests.parquet"), &forecast).unwrap();
    let (code, _, err) = run(&mut base(&["forecast", "fit", "--group", "web-prod"]));
    assert!(code == 0 && err.contains("replacing a file of schema \"metrics/v1\", no forecast,"), "{err}");
    let (code, _, err) = run(&mut base(&["forecast", "fit", "--group", "web-prod"]));
    assert!(code == 0 && !err.contains("replacing a"), "{err}");
}

#[test]
fn an_apply_lock_that_cannot_be_taken_is_said_as_such_not_as_another_run() {
    // The lock's path taken by a folder: it cannot be opened, as in a store the job's user cannot
    // write (which root, running the tests, would write all the same).
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("store/apply.lock")).unwrap();
    let (code, text, err) = run(prescale().args(["--config", "demo", "nightly", "--execute", "--out"]).arg(&out));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        err.contains("nothing was applied and OUT/plan.json was not written: the apply lock cannot be taken")
            && err.contains("writable for the user this job runs as"),
        "{err}"
    );
    assert!(!err.contains("other run") && !out.join("plan.json").exists(), "{err}");
}

#[test]
fn a_metric_no_plan_reads_fails_the_nightly_only_with_strict() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg_path = tmp.path().join("prescale.toml");
    let good = demo_config_text();
    // web-prod also records its CPU, from a file that holds no sample yet.
    let demo_file = format!("{}/data/demo/web-prod-requests.csv", env!("CARGO_MANIFEST_DIR"));
    let with_cpu = good.replacen(
        &format!("file = \"{demo_file}\"\n"),
        &format!("file = \"{demo_file}\"\n[[groups.metrics]]\nname = \"cpu\"\nfile = \"cpu.csv\"\nmax = 100\n"),
        1,
    );
    assert_ne!(with_cpu, good, "the demo config names web-prod's file in full");
    std::fs::write(&cfg_path, with_cpu).unwrap();
    std::fs::write(tmp.path().join("cpu.csv"), "ts,value\n").unwrap();
    let out = tmp.path().join("out");
    let nightly = |extra: &[&str]| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg_path).arg("--out").arg(&out).args(["--now", "2026-11-23T00:00:00Z", "nightly"]);
        run(c.args(extra))
    };
    let said = "web-prod/cpu could not be stored (see the warnings above); no plan reads it";
    // The plan is whole: the run warns and succeeds.
    let (code, text, err) = nightly(&[]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(err.contains("web-prod/cpu: the source returned no samples") && err.contains(said), "{err}");
    // Said by ingest, not again by the forecast stage.
    assert!(!err.contains("web-prod/cpu: no forecast"), "{err}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let floors = |g: &str| {
        plan["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["group"] == g)
            .map(|p| p["scheduled_actions"].as_array().unwrap().len())
    };
    assert!(floors("web-prod").unwrap() > 2, "{plan}");
    // --strict fails on it, with the same line.
    let (code, text, err) = nightly(&["--strict"]);
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains(said), "{err}");
}

#[test]
fn configuration_changes_over_the_weeks_keep_the_groups_planned() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("prescale.toml");
    let good = demo_config_text();
    let out = tmp.path().join("out");
    let run_at = |text: &str, args: &[&str]| {
        std::fs::write(&cfg, text).unwrap();
        let mut c = prescale();
        c.arg("--config").arg(&cfg).arg("--out").arg(&out).args(["--now", "2026-11-23T00:00:00Z"]).args(args);
        run(&mut c)
    };
    let (code, _, err) = run_at(&good, &["nightly"]);
    assert_eq!(code, 0, "{err}");
    // A coarser period: the stored 5-minute history is stored again at 10 minutes, and planned.
    let coarser = good.replacen("period_secs = 300", "period_secs = 600", 1);
    assert_ne!(coarser, good);
    let (code, text, err) = run_at(&coarser, &["nightly"]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(err.contains("web-prod/requests: stored at a 300s step, ingested now at 600s"), "{err}");
    let store = prescale_store::MetricStore::for_reading(tmp.path().join("store"));
    let stored = store.read(&prescale_core::MetricId::new("web-prod", "requests")).unwrap();
    assert_eq!(stored.step_secs(), 600);
    assert!(stored.len() > 4000, "four weeks at 10 minutes: {}", stored.len());
    // Back to a finer one: refused with the way back, the series as it was.
    let (code, _, err) = run_at(&good, &["ingest"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("set period_secs back to 600"), "{err}");
    // A group added to the configuration joins the local stand-in; a metric renamed is said.
    let more = format!(
        "{}\n[[groups]]\nname = \"batch\"\nenvironment = \"dev\"\nmin_size = 0\nmax_size = 6\nload_metric = \"jobs\"\n\
         capacity_per_instance = 400.0\n[[groups.metrics]]\nname = \"jobs\"\nfile = \"{}/data/demo/worker-dev-jobs.csv\"\n",
        coarser.replacen("name = \"requests\"\nfile", "name = \"alb\"\nfile", 1).replacen(
            "load_metric = \"requests\"",
            "load_metric = \"alb\"",
            1
        ),
        env!("CARGO_MANIFEST_DIR")
    );
    let (code, text, err) = run_at(&more, &["nightly", "--execute", "--allow-clock-skew"]);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(text.contains("batch"), "{text}");
    assert!(
        err.contains("web-prod: the store also holds requests of metrics its configuration no longer names"),
        "{err}"
    );
}

#[test]
fn a_file_that_cannot_be_read_costs_its_series_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg_path = tmp.path().join("prescale.toml");
    let good = demo_config_text();
    std::fs::write(&cfg_path, &good).unwrap();
    let out = tmp.path().join("out");
    let ingest = || {
        let mut c = prescale();
        c.arg("--config").arg(&cfg_path).arg("--out").arg(&out).args(["--now", "2026-11-23T00:00:00Z", "ingest"]);
        run(&mut c)
    };
    let (code, _, err) = ingest();
    assert_eq!(code, 0, "{err}");
    let stored = tmp.path().join("store/metrics/v1/web-prod/requests.parquet");
    let before = std::fs::read(&stored).unwrap();
    // web-prod's file goes missing: it is named, keeps what the store holds, and the other
    // groups are ingested; exit 1.
    let moved = good.replacen("web-prod-requests.csv", "web-prod-requests-gone.csv", 1);
    assert_ne!(moved, good, "the demo config names web-prod's file");
    std::fs::write(&cfg_path, moved).unwrap();
    let (code, text, err) = ingest();
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("web-prod/requests: not stored") && err.contains("web-prod-requests-gone.csv"), "{err}");
    assert!(err.contains("1 of 3 series could not be stored"), "{err}");
    assert!(text.contains("api-staging/requests") && text.contains("worker-dev/jobs"), "{text}");
    assert_eq!(std::fs::read(&stored).unwrap(), before, "the stored series is unchanged");
    // A compressed export is named as such, with what to do (not a UTF-8 error), and costs its
    // series alone.
    let gz = tmp.path().join("web-prod-requests.csv.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x01]).unwrap();
    // web-prod's `file = "…/web-prod-requests.csv"` pointed at `to`.
    let demo_file = format!("{}/data/demo/web-prod-requests.csv", env!("CARGO_MANIFEST_DIR"));
    assert!(good.contains(&demo_file), "the demo config names web-prod's file in full");
    let point = |to: &std::path::Path| good.replacen(&demo_file, &to.display().to_string(), 1);
    std::fs::write(&cfg_path, point(&gz)).unwrap();
    let (code, text, err) = ingest();
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("a gzip-compressed file") && err.contains("gunzip -k"), "{err}");
    assert!(err.contains("1 of 3 series could not be stored"), "{err}");
    // A Parquet file of `ts,value` where the configuration reads CSV: read for what it is, and said.
    let pq = tmp.path().join("web-prod-requests.data");
    std::fs::copy(&stored, &pq).unwrap();
    std::fs::write(&cfg_path, point(&pq)).unwrap();
    let (code, text, err) = ingest();
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(err.contains("a Parquet file where the source is \"csv\": read as Parquet"), "{err}");
    // Stored again, with the file it came from as its source.
    let before = std::fs::read(&stored).unwrap();

    // The store's write lock cannot be taken (here its file cannot be opened): ingest alone fails
    // with a hint; the nightly job plans from what the store holds.
    std::fs::write(&cfg_path, &good).unwrap();
    let lock = tmp.path().join("store/metrics/v1/.write.lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).unwrap();
    let (code, _, err) = ingest();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no load was stored; the metric store is unchanged") && err.contains("can be written"),
        "{err}"
    );
    let mut c = prescale();
    c.arg("--config").arg(&cfg_path).arg("--out").arg(&out).args(["--now", "2026-11-23T00:00:00Z", "nightly"]);
    let (code, text, err) = run(&mut c);
    assert_eq!(code, 1, "the series not stored fail the run: {text}\n{err}");
    assert!(err.contains("going on with what the store holds"), "{err}");
    assert!(out.join("plan.json").exists() && text.contains("web-prod"), "{text}\n{err}");
    assert_eq!(std::fs::read(&stored).unwrap(), before, "the stored series is unchanged");
}

#[test]
fn a_file_being_read_does_not_hold_the_store_from_another_writer() {
    // worker-dev's file is a pipe whose writer has not written yet: the ingest that reads it sits
    // there, after storing the groups before it. Another ingest of the same store (a manual one
    // beside the nightly job) stores its group meanwhile, not waiting for that reading.
    let tmp = tempfile::tempdir().unwrap();
    let cfg_path = tmp.path().join("prescale.toml");
    let pipe = tmp.path().join("worker-dev-jobs.pipe");
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");
    let cfg = demo_config_text();
    let worker = format!("{}/worker-dev-jobs.csv", demo.display());
    assert!(cfg.contains(&worker), "the demo config names worker-dev's file in full");
    std::fs::write(&cfg_path, cfg.replacen(&worker, &pipe.display().to_string(), 1)).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(&pipe).status().unwrap().success());
    let ingest = |group: Option<&str>| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg_path).args(["--now", "2026-11-23T00:00:00Z", "ingest"]);
        if let Some(g) = group {
            c.args(["--group", g]);
        }
        c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        c
    };
    let reading = ingest(None).spawn().unwrap();
    // Opening the pipe to write waits for its reader: then the first ingest is at that file.
    let mut writer = std::fs::OpenOptions::new().write(true).open(&pipe).unwrap();
    let (code, text, err) = run(&mut ingest(Some("web-prod")));
    assert_eq!(code, 0, "stored beside the reading ingest: {text}\n{err}");
    assert!(!err.contains("waiting up to"), "{err}");
    std::io::Write::write_all(&mut writer, &std::fs::read(demo.join("worker-dev-jobs.csv")).unwrap()).unwrap();
    drop(writer);
    let done = reading.wait_with_output().unwrap();
    let (text, err) = (String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr));
    assert!(done.status.success(), "{text}\n{err}");
    for series in ["web-prod/requests", "api-staging/requests", "worker-dev/jobs"] {
        assert!(text.contains(series), "{series}: {text}");
        assert!(tmp.path().join(format!("store/metrics/v1/{series}.parquet")).exists(), "{series}");
    }
}

#[test]
fn a_file_time_zone_set_after_local_stamps_were_stored_as_utc_moves_them_to_its_clock() {
    // The demo's web-prod load exported in New York's wall-clock time without an offset (its
    // autumn hour twice), ingested as UTC: stored 4–5 h early. Setting file_time_zone moves the
    // stored slots to New York's clock (the file's rows match them there), so that the store
    // holds what ingesting the UTC file holds; a file whose stamps carry their offset keeps its
    // slots where they are when a zone is set for it.
    use chrono::TimeZone;
    let tmp = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/web-prod-requests.csv");
    let utc_text = std::fs::read_to_string(&demo).unwrap();
    let local = tmp.path().join("web-prod-local.csv");
    let mut text = String::from("timestamp,value\n");
    for line in utc_text.lines().skip(1) {
        let (ts, v) = line.split_once(',').unwrap();
        let t = chrono::DateTime::parse_from_rfc3339(ts).unwrap().with_timezone(&chrono_tz::America::New_York);
        text.push_str(&format!("{},{v}\n", t.format("%Y-%m-%dT%H:%M:%S")));
    }
    std::fs::write(&local, text).unwrap();
    let demo_file = demo.display().to_string();
    let config = |dir: &str, file: &Path, zone: Option<&str>| {
        let cfg = tmp.path().join(format!("{dir}.toml"));
        let zone = zone.map(|z| format!("\nfile_time_zone = \"{z}\"")).unwrap_or_default();
        let text = demo_config_text()
            .replacen(&format!("{demo_file}\""), &format!("{}\"{zone}", file.display()), 1)
            .replacen("dir = \"store\"", &format!("dir = \"{dir}\""), 1);
        std::fs::write(&cfg, text).unwrap();
        cfg
    };
    let ingest = |cfg: &Path| {
        let mut c = prescale();
        c.arg("--config").arg(cfg).args(["--now", "2026-11-23T00:00:00Z", "ingest", "--group", "web-prod"]);
        run(&mut c)
    };
    let id = prescale_core::MetricId::new("web-prod", "requests");
    let stored = |dir: &str| prescale_store::MetricStore::open(tmp.path().join(dir)).unwrap().read(&id).unwrap();
    let (code, _, err) = ingest(&config("reference", &demo, None));
    assert_eq!(code, 0, "{err}");
    let reference = stored("reference");
    assert_eq!(reference.start(), chrono::Utc.with_ymd_and_hms(2026, 10, 26, 0, 0, 0).unwrap());

    let (code, _, err) = ingest(&config("local", &local, None));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("5 h behind UTC"), "the lag is said: {err}");
    let early = stored("local");
    assert_eq!(early.start(), chrono::Utc.with_ymd_and_hms(2026, 10, 25, 20, 0, 0).unwrap(), "4 h early (EDT)");
    let fixed = config("local", &local, Some("America/New_York"));
    let (code, text, err) = ingest(&fixed);
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        err.contains("read from stamps in UTC, and the file's are now read in America/New_York")
            && err.contains("moved there"),
        "{err}"
    );
    let moved = stored("local");
    assert_eq!((moved.start(), moved.values()), (reference.start(), reference.values()), "as if read right first");
    // Recorded: the next ingest has nothing to move.
    let (code, _, err) = ingest(&fixed);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("moved there") && !err.contains("stored slots"), "{err}");
    assert_eq!(stored("local").values(), reference.values());

    // Stamps with their offset: a zone set later changes nothing, and the slots stay.
    let (code, _, err) = ingest(&config("reference", &demo, Some("America/New_York")));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("moved there"), "{err}");
    let kept = stored("reference");
    assert_eq!((kept.start(), kept.values()), (reference.start(), reference.values()));
}

#[test]
fn a_closed_stderr_loses_lines_not_the_run() {
    // `prescale plan --what-if 2>&1 | head -3`: the reader gone before the notes on stderr, which
    // panicked (exit 134) where stdout's lines are dropped.
    let tmp = tempfile::tempdir().unwrap();
    let mut c = prescale();
    c.arg("--out").arg(tmp.path()).args(["plan", "--what-if"]);
    let mut child = c
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run prescale");
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn bad_configuration_is_refused_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/prescale.toml")).unwrap();
    let cases = [
        (demo.replacen("max_size = 60", "max_size = 2", 1), "group \"web-prod\": min_size = 4 is above max_size = 2"),
        // An environment misspelt: the nearest one, and the ones there are.
        (
            demo.replacen("environment = \"dev\"", "environment = \"develop\"", 1),
            "hint: did you mean \"dev\"? the environments are \"dev\", \"prod\", \"staging\"",
        ),
        (demo.replacen("lead_time_mins = 10", "lead_time = 10", 1), "unknown field `lead_time`"),
        (demo.replacen("quantile = 0.9", "quantile = 1.5", 1), "quantile = 1.5"),
        (
            demo.replacen("quantile = 0.9", "quantile = 0.9\nquantile_utilization = 0.5", 1),
            "quantile_utilization = 0.5 must be in [target_utilization, 1]",
        ),
        (demo.replacen("load_metric = \"requests\"", "load_metric = \"cpu\"", 1), "load_metric \"cpu\""),
        (demo.replacen("capacity_per_instance = 2500.0", "capacity_per_instance = 0.0", 1), "capacity_per_instance"),
        (demo.replacen("train_days = 28", "train_days = 28\nholidays = [\"25.12.2026\"]", 1), "YYYY-MM-DD"),
        (
            demo.replacen("train_days = 28", "train_days = 28\nholidays = [2026-12-25]", 1),
            "write dates and times in quotes, e.g. \"2026-12-25\"",
        ),
        (demo.replacen("train_days = 28", "train_days = 28\ntransform = \"sqrt\"", 1), "unknown variant `sqrt`"),
        (
            demo.replacen(
                "file = \"web-prod-requests.csv\"",
                "file = \"web-prod-requests.csv\"\nmin = 10.0\nmax = 1.0",
                1,
            ),
            "min must be below max",
        ),
        (
            demo.replacen(
                "file = \"web-prod-requests.csv\"",
                "file = \"web-prod-requests.csv\"\nfile_time_zone = \"CET+1\"",
                1,
            ),
            "file_time_zone \"CET+1\" is not an IANA time zone name",
        ),
        (
            demo.replacen("name = \"web-prod\"", "name = \"web-prod\"\nsuspended_on_purpose = [\"Alarms\"]", 1),
            "suspended_on_purpose names \"Alarms\", not one of the Auto Scaling processes apply checks",
        ),
        // A group that names an environment no section defines, where none is defined at all.
        (
            {
                let lines: Vec<&str> = demo.lines().collect();
                let (from, to) = (
                    lines.iter().position(|l| l.starts_with("[environments.prod]")).unwrap(),
                    lines.iter().position(|l| l.starts_with("[[groups]]")).unwrap(),
                );
                [&lines[..from], &lines[to..]].concat().join("\n")
            },
            "names environment \"staging\", which has no [environments.staging] section",
        ),
        (demo.replacen("file = \"web-prod-requests.csv\"", "file = \"\"", 1), "set its `file`"),
        // Files named with no [ingest] source: the default, CloudWatch, is said, and how to read them.
        (
            demo.replacen("source = \"csv\"\n", "", 1),
            "it names a `file` and no namespace and metric_name, but [ingest] source is \"cloudwatch\" (also the default) \
             and the group sets none: CloudWatch reads those",
        ),
        // A group's own source overrides [ingest]'s, and the error says which one it was.
        (
            demo.replacen("name = \"api-staging\"\n", "name = \"api-staging\"\nsource = \"cloudwatch\"\n", 1),
            "group \"api-staging\" metric \"requests\": it names a `file` and no namespace and metric_name, but its source \
             is \"cloudwatch\"",
        ),
    ];
    assert_configs_refused(tmp.path(), &cases);
    let (code, _, err) = run(prescale().args(["--config", "/nonexistent/prescale.toml", "plan"]));
    assert_eq!(code, 1);
    assert!(err.contains("cannot read configuration"), "{err}");
    let (code, _, err) = run(prescale().args(["apply", "--plan", "/nonexistent/plan.json"]));
    assert_eq!(code, 1);
    assert!(err.contains("run `prescale plan` first"), "{err}");
}

#[test]
fn forecast_show_reads_any_csv_and_prints_the_requested_levels() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("load.csv");
    let mut text = String::from("timestamp,value\n");
    for h in 0..(24 * 5) {
        // One duplicate row, one NaN, one missing hour: repaired, with a warning.
        if h == 30 {
            continue;
        }
        let v = if h == 50 { "NaN".to_string() } else { format!("{}", 100 + (h % 24) * 10) };
        text.push_str(&format!("2026-01-{:02} {:02}:00:00,{v}\n", 1 + h / 24, h % 24));
        if h == 60 {
            text.push_str(&format!("2026-01-{:02} {:02}:00:00,{v}\n", 1 + h / 24, h % 24));
        }
    }
    std::fs::write(&p, text).unwrap();
    let (code, out, err) = run(prescale()
        .args(["forecast", "show", "--horizon", "48h", "--levels", "50,90", "--format", "csv", "--input"])
        .arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("repaired the input"), "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("ts,mean,lo50,hi50,lo90,hi90"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 48);
    assert!(rows[0].starts_with("2026-01-06T00:00:00Z,"), "{}", rows[0]);
    for r in &rows {
        let v: Vec<f64> = r.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
        assert!(v.iter().all(|x| x.is_finite()));
        assert!(v[3] <= v[1] && v[1] <= v[0] && v[0] <= v[2] && v[2] <= v[4], "{r}");
    }
    let (code, out, _) =
        run(prescale().args(["forecast", "show", "--horizon", "3h", "--format", "table", "--input"]).arg(&p));
    assert_eq!(code, 0);
    assert!(out.contains("lo80") && out.contains("hi95") && out.contains("2026-01-06 02:00"), "{out}");
    // The engine's table says how its weights come about.
    assert!(out.contains("median over origins (weight)") && out.contains("weights: prior × exp"), "{out}");
    // The JSON document says what was forecast: the file, the history and its repairs.
    let json = ok(prescale().args(["forecast", "show", "--horizon", "3h", "--format", "json", "--input"]).arg(&p));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(doc["input"].as_str().unwrap().ends_with("load.csv"), "{json}");
    assert_eq!(doc["history"]["step_secs"], 3600, "{json}");
    assert_eq!(doc["history"]["last"], "2026-01-05T23:00:00Z", "{json}");
    assert_eq!(doc["levels"], serde_json::json!(["80", "95"]), "{json}");
    let repairs: Vec<&str> = doc["input_repairs"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(repairs.iter().any(|r| r.contains("duplicate")) && repairs.iter().any(|r| r.contains("interpolated")));
    // A blend of candidates says its own score, beside theirs, in the JSON and in the table.
    let members = doc["backtest"].as_array().unwrap().iter().filter(|c| c["weight"].as_f64().unwrap() > 0.0).count();
    assert!(members > 1, "{json}");
    assert!(doc["blend_mase"].as_f64().is_some_and(|m| m.is_finite() && m >= 0.0), "{json}");
    let origins = doc["blend_origins"].as_u64().unwrap();
    assert!(origins >= 2, "{json}");
    assert!(
        out.contains(&format!(
            "; the weighted blend itself 0.00, median over {origins} origins that chose its weights"
        )),
        "{out}"
    );
    // … and the weighted MASE [trust] reads, which a single model has no line of weights for.
    assert!(out.contains("; weighted 0.00 ([trust] max_backtest_mase reads it)"), "{out}");
    let single = ok(prescale().args(["forecast", "show", "--horizon", "3h", "--model", "mstl", "--input"]).arg(&p));
    assert!(!single.contains("weights: prior") && !single.contains("the weighted blend"), "{single}");
    // With a zone, the table shows its wall clock beside UTC (the CSV stays in UTC).
    let table = ok(prescale()
        .args(["forecast", "show", "--horizon", "3h", "--format", "table", "--time-zone", "Europe/Berlin", "--input"])
        .arg(&p));
    assert!(table.contains("times in UTC (local: Europe/Berlin)") && table.contains("Tue 01:00 CET"), "{table}");
    // A gap longer than the grid fills is located.
    let gappy = tmp.path().join("gappy.csv");
    let rows: String = (0..(24 * 5))
        .filter(|h| !(29..32).contains(h))
        .map(|h| format!("2026-01-{:02} {:02}:00:00,{}\n", 1 + h / 24, h % 24, 100 + (h % 24) * 10))
        .collect();
    std::fs::write(&gappy, format!("ts,value\n{rows}")).unwrap();
    let (code, _, err) = run(prescale().args(["forecast", "show", "--horizon", "1h", "--input"]).arg(&gappy));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("3 slots missing") && err.contains("the longest 3.0 h from 2026-01-02 05:00 UTC"), "{err}");
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "ts,value\n2026-01-01 00:00:00,1\nyesterday,2\n").unwrap();
    let (code, _, err) = run(prescale().args(["forecast", "show", "--input"]).arg(&bad));
    assert_eq!(code, 1);
    assert!(err.contains("bad.csv:3") && err.contains("yesterday"), "{err}");
    // A 1-minute file fitted on 5-minute means, as the nightly job fits: rows at 5 minutes, each
    // near the mean of the file's minutes (a ramp within every 5 minutes, so means differ from
    // the first minute's value); a step that does not divide a day is refused.
    let fine = tmp.path().join("fine.csv");
    let mut text = String::from("ts,value\n");
    for m in 0..(4 * 1440) {
        text.push_str(&format!("{},{}\n", 1_767_225_600 + m * 60, 1000 + (m % 5) * 10 + ((m / 60) % 24) * 20));
    }
    std::fs::write(&fine, text).unwrap();
    let (code, out, err) = run(prescale()
        .args(["forecast", "show", "--horizon", "1h", "--format", "csv", "--min-step-mins", "5", "--input"])
        .arg(&fine));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("fitted on 5-minute means of its 60 s steps"), "{err}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 12, "{out}");
    assert!(rows[0].starts_with("2026-01-05T00:00:00Z,") && rows[1].starts_with("2026-01-05T00:05:00Z,"), "{out}");
    let first: f64 = rows[0].split(',').nth(1).unwrap().parse().unwrap();
    assert!((first - 1020.0).abs() < 15.0, "the 5-minute mean at midnight is 1020: {first}");
    assert!(!err.contains("left out"), "no part of a slot: {err}");
    // Three minutes more: a part of the next 5-minute slot, left out and said.
    let mut text = std::fs::read_to_string(&fine).unwrap();
    for m in (4 * 1440)..(4 * 1440 + 3) {
        text.push_str(&format!("{},{}\n", 1_767_225_600 + m * 60, 1000));
    }
    std::fs::write(&fine, text).unwrap();
    let (code, out, err) = run(prescale()
        .args(["forecast", "show", "--horizon", "1h", "--format", "csv", "--min-step-mins", "5", "--input"])
        .arg(&fine));
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().nth(1).unwrap().starts_with("2026-01-05T00:00:00Z,"), "{out}");
    assert!(
        err.contains(
            "its last 3 values (from 2026-01-05 00:00 UTC) fill only a part of the 5-minute slot from 2026-01-05 \
             00:00 UTC and are left out: the forecast starts with that slot"
        ),
        "{err}"
    );
    // … and so does the JSON, among the input's repairs.
    let (code, out, err) = run(prescale()
        .args(["forecast", "show", "--horizon", "1h", "--format", "json", "--min-step-mins", "5", "--input"])
        .arg(&fine));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let repairs = doc["input_repairs"].as_array().unwrap_or_else(|| panic!("{out}"));
    assert!(repairs.iter().any(|r| r.as_str().is_some_and(|r| r.starts_with("its last 3 values"))), "{repairs:?}");
    let (code, _, err) = run(prescale().args(["forecast", "show", "--min-step-mins", "7", "--input"]).arg(&fine));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--min-step-mins 7 must divide a day"), "{err}");
}

#[test]
fn one_glitch_in_the_history_does_not_cost_a_group_its_floors() {
    // One sample of web-prod's load 1,000 × its median five days before now: its backtest windows
    // that hold it score badly, the others do not, and the plan keeps its floors.
    let tmp = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");
    let csv = std::fs::read_to_string(demo.join("web-prod-requests.csv")).unwrap();
    let glitched: String = csv
        .lines()
        .map(|l| {
            if l.starts_with("2026-11-18T00:00:00Z,") {
                "2026-11-18T00:00:00Z,30000000".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(glitched.trim_end(), csv.trim_end(), "the demo's stamp format changed");
    let file = tmp.path().join("web-prod-requests.csv");
    std::fs::write(&file, glitched + "\n").unwrap();
    let cfg = tmp.path().join("prescale.toml");
    let text = demo_config_text()
        .replace(&format!("{}/web-prod-requests.csv", demo.display()), &file.display().to_string())
        .replace("dir = \"store\"", &format!("dir = \"{}\"", tmp.path().join("store").display()));
    std::fs::write(&cfg, text).unwrap();
    let (code, out, err) = run(prescale()
        .args(["--now", "2026-11-23T00:00:00Z", "--out"])
        .arg(tmp.path().join("out"))
        .arg("--config")
        .arg(&cfg)
        .args(["nightly", "--quiet"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1000 × its median size"), "the glitch is said: {err}");
    let line = out.lines().find(|l| l.starts_with("web-prod:")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains(" floors ") && !line.contains("no floors"), "{line}\n{err}");
}

#[test]
fn a_forecast_that_cannot_be_stored_costs_its_group_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    ok(prescale().arg("--out").arg(&out).arg("nightly"));
    // web-prod's forecasts folder replaced by a file: its forecast cannot be written.
    let folder = out.join("store/forecasts/v1/web-prod");
    std::fs::remove_dir_all(&folder).unwrap();
    std::fs::write(&folder, "not a folder").unwrap();
    let (code, text, err) = run(prescale().arg("--out").arg(&out).args(["nightly", "--quiet"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("web-prod/requests: no forecast stored") && err.contains("1 series got no forecast"), "{err}");
    for g in ["api-staging", "worker-dev"] {
        let line = text.lines().find(|l| l.starts_with(&format!("{g}:"))).unwrap_or_else(|| panic!("{text}"));
        assert!(line.contains(" floors ") && !line.contains("no floors"), "{line}");
    }
    assert_eq!(std::fs::read_to_string(&folder).unwrap(), "not a folder");
    // A file where the whole store should be: said as such, with the flag to give.
    let (code, _, err) = run(prescale().arg("--out").arg(&out).arg("--store").arg(&folder).arg("nightly"));
    assert!(code == 1 && err.contains("is a file, not a folder") && err.contains("give --store"), "{err}");
}

#[test]
fn forecast_show_says_when_the_stored_forecast_was_fitted_and_when_it_is_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    ok(prescale().arg("--out").arg(&out).args(["ingest", "--group", "web-prod"]));
    ok(prescale().arg("--out").arg(&out).args(["forecast", "fit", "--group", "web-prod"]));
    let show = |now: &str, format: &str| {
        run(prescale().arg("--out").arg(&out).args(["--now", now, "forecast", "show", "--group", "web-prod"]).args([
            "--horizon",
            "10m",
            "--format",
            format,
        ]))
    };
    let (code, json, err) = show("2026-11-23T00:00:00Z", "json");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(code == 0 && !err.contains("stale"), "{err}");
    assert_eq!(v["issued"], "2026-11-23T00:00:00Z", "{json}");
    let (code, table, err) = show("2026-12-30T00:00:00Z", "table");
    assert!(code == 0 && err.contains("the latest forecast ended at") && err.contains("it is stale"), "{err}");
    assert!(table.contains("fitted 2026-11-23 00:00 UTC"), "{table}");
    let (_, _, err) = show("2026-11-01T00:00:00Z", "csv");
    assert!(err.contains("after now") && err.contains("fitted on data from after now"), "{err}");
    // In the afternoon, the rows from now on, as the plan reads them (--horizon counts from now).
    let (code, csv, err) = show("2026-11-23T14:02:00Z", "csv");
    assert!(code == 0 && err.contains("note: from now: the stored forecast began at 2026-11-23 00:00 UTC"), "{err}");
    let first = csv.lines().nth(1).unwrap_or_default();
    assert!(first.starts_with("2026-11-23T14:00:00Z"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "10 minutes from 14:00: {csv}");
    // A 10-second grid is fitted on its 1-minute means (Auto Scaling acts on minutes).
    let file = tmp.path().join("fast.csv");
    let rows: String = (0..3 * 8640).map(|i| format!("{},{}\n", 1_767_571_200 + 10 * i, 100 + i % 7)).collect();
    std::fs::write(&file, format!("ts,value\n{rows}")).unwrap();
    let (code, table, err) =
        run(prescale().args(["forecast", "show", "--horizon", "3m", "--format", "table", "--input"]).arg(&file));
    assert!(code == 0 && err.contains("fitted on 1-minute means of its 10 s steps"), "{err}");
    for at in ["00:00", "00:01", "00:02"] {
        assert!(table.contains(&format!("2026-01-08 {at} ")), "{at}: {table}");
    }
    // A horizon under one step forecasts one step, and says so.
    let (code, csv, err) =
        run(prescale().args(["forecast", "show", "--horizon", "1s", "--format", "csv", "--input"]).arg(&file));
    assert!(
        code == 0 && csv.lines().count() == 2 && err.contains("shorter than the series' step (60 s)"),
        "{csv}\n{err}"
    );
    // Samples milliseconds apart are refused, not averaged into seconds without a word.
    let ms = tmp.path().join("ms.csv");
    let rows: String = (0..5000).map(|i| format!("{},{}\n", 1_767_571_200_000i64 + i, i % 7)).collect();
    std::fs::write(&ms, format!("ts,value\n{rows}")).unwrap();
    let (code, _, err) = run(prescale().args(["forecast", "show", "--input"]).arg(&ms));
    assert!(code == 1 && err.contains("its samples lie 1 ms apart") && err.contains("aggregate"), "{err}");
    // One value a year (leap years and all) is refused with the step prescale forecasts at, not
    // forecast from the one yearly value a 14-day window holds; a daily series is forecast.
    let yearly = tmp.path().join("yearly.csv");
    let rows: String = (2000..2026).map(|y| format!("{y}-01-01T00:00:00Z,{}\n", 100 + y - 2000)).collect();
    std::fs::write(&yearly, format!("ts,value\n{rows}")).unwrap();
    for cmd in [&["forecast", "show"][..], &["backtest"][..]] {
        let (code, _, err) = run(prescale().args(cmd).arg("--input").arg(&yearly));
        assert!(code == 1 && err.contains("its samples lie 365 days apart") && err.contains("a day or less"), "{err}");
    }
    let daily = tmp.path().join("daily.csv");
    let rows: String =
        (0..120).map(|d| format!("{},{}\n", 1_767_571_200 + 86_400 * d, 100 + 20 * (d % 7 / 5))).collect();
    std::fs::write(&daily, format!("ts,value\n{rows}")).unwrap();
    let csv = ok(prescale().args(["forecast", "show", "--horizon", "7d", "--format", "csv", "--input"]).arg(&daily));
    assert_eq!(csv.lines().count(), 8, "{csv}");
    // A gzip-compressed export is named as such, with what to do.
    let gz = tmp.path().join("fast.csv.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]).unwrap();
    let (code, _, err) = run(prescale().args(["forecast", "show", "--input"]).arg(&gz));
    assert!(code == 1 && err.contains("a gzip-compressed file") && err.contains("gunzip -k"), "{err}");
}

#[test]
fn backtest_with_now_sees_only_the_history_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (full, cut) = (tmp.path().join("full.csv"), tmp.path().join("cut.csv"));
    let mut text = String::from("ts,value\n");
    let mut before = text.clone();
    for h in 0..(24 * 12) {
        let row = format!("2026-01-{:02}T{:02}:00:00Z,{}\n", 1 + h / 24, h % 24, 100 + (h % 24) * 10 + (h * 7) % 13);
        if h < 24 * 8 {
            before.push_str(&row);
        }
        text.push_str(&row);
    }
    std::fs::write(&full, text).unwrap();
    std::fs::write(&cut, before).unwrap();
    let scores = |file: &Path, extra: &[&str]| {
        ok(prescale()
            .args(extra)
            .args(["backtest", "--models", "median", "--origins", "2", "--format", "csv", "--out"])
            .arg(tmp.path().join("bt"))
            .arg("--input")
            .arg(file))
        .replace(&file.display().to_string(), "FILE")
    };
    // The file as it stood at --now scores as the file cut there, and not as the whole file.
    let at_now = scores(&full, &["--now", "2026-01-09T00:00:00Z"]);
    assert_eq!(at_now, scores(&cut, &[]));
    assert_ne!(at_now, scores(&full, &[]));
    // The table says how many actuals its scores stand on, and which intervals are lines: on a
    // day that repeats exactly, seasonal naive's errors are all 0.
    let periodic = tmp.path().join("periodic.csv");
    let rows: String = (0..24 * 12)
        .map(|h| format!("2026-01-{:02}T{:02}:00:00Z,{}\n", 1 + h / 24, h % 24, 100 + (h % 24) * 10))
        .collect();
    std::fs::write(&periodic, format!("ts,value\n{rows}")).unwrap();
    let table = ok(prescale()
        .args(["backtest", "--models", "median,seasonal-naive", "--origins", "2", "--horizon", "6h", "--out"])
        .arg(tmp.path().join("bt"))
        .arg("--input")
        .arg(&periodic));
    assert!(table.contains("2 origins, 12 steps scored"), "{table}");
    assert!(table.contains("note: seasonal-naive: its 80 % interval has no width at 100 % of the steps"), "{table}");
    assert!(!table.contains("note: median:"), "{table}");
    // Each origin's MASE, per model, the lowest marked: seasonal naive's, 0 on a repeating day.
    let per_origin = table.split("MASE per origin").nth(1).unwrap_or_else(|| panic!("{table}"));
    assert_eq!(per_origin.matches("0.000 *").count(), 2, "{table}");
    assert!(per_origin.contains("2026-01-12 12:00") && per_origin.contains("2026-01-12 18:00"), "{table}");
    let json = ok(prescale()
        .args(["backtest", "--models", "median", "--origins", "2", "--horizon", "6h", "--format", "json", "--out"])
        .arg(tmp.path().join("bt"))
        .arg("--input")
        .arg(&periodic));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let model = &doc[0]["models"][0];
    let each: Vec<f64> = model["per_origin"].as_array().unwrap().iter().map(|o| o["mase"].as_f64().unwrap()).collect();
    assert_eq!(each.len(), 2, "{json}");
    assert!((each.iter().sum::<f64>() / 2.0 - model["mase"].as_f64().unwrap()).abs() < 1e-9, "{json}");
    // The Parquet rows carry each origin's MASE scale and the run's settings: the table's MASE is
    // their MAE over it, averaged over the origins.
    // The input named as the output is refused, and stays; so is a name that is not Parquet's.
    let before = std::fs::read(&full).unwrap();
    let (code, _, err) =
        run(prescale().args(["backtest", "--models", "median", "--output"]).arg(&full).arg("--input").arg(&full));
    assert!(code == 1 && err.contains("is the --input file itself"), "{err}");
    assert_eq!(std::fs::read(&full).unwrap(), before);
    let (code, _, err) = run(prescale()
        .args(["backtest", "--models", "median", "--output"])
        .arg(tmp.path().join("bt.csv"))
        .arg("--input")
        .arg(&full));
    assert!(code == 1 && err.contains("the scores are written as Parquet"), "{err}");
    let file = tmp.path().join("bt.parquet");
    let csv = ok(prescale()
        .args(["backtest", "--models", "median", "--origins", "2", "--horizon", "6h", "--format", "csv", "--output"])
        .arg(&file)
        .arg("--input")
        .arg(&full));
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap())
            .unwrap();
    let meta = reader.schema().metadata().clone();
    assert_eq!(meta.get("prescale.horizon_secs").map(String::as_str), Some("21600"), "{meta:?}");
    assert_eq!(meta.get("prescale.train_secs").map(String::as_str), Some("1209600"), "{meta:?}");
    let mut per_origin: std::collections::BTreeMap<i64, (f64, f64, usize)> = Default::default();
    for batch in reader.build().unwrap() {
        let batch = batch.unwrap();
        let col = |name: &str| {
            batch.column_by_name(name).unwrap().as_any().downcast_ref::<arrow_array::Float64Array>().unwrap().clone()
        };
        let origin = batch
            .column_by_name("origin")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::TimestampMillisecondArray>()
            .unwrap()
            .clone();
        let (actual, point, scale) = (col("actual"), col("point"), col("mase_scale"));
        for i in 0..batch.num_rows() {
            let e = per_origin.entry(origin.value(i)).or_insert((0.0, scale.value(i), 0));
            e.0 += (actual.value(i) - point.value(i)).abs();
            e.2 += 1;
        }
    }
    let mase: f64 = per_origin.values().map(|(err, scale, n)| err / *n as f64 / scale).sum::<f64>() / 2.0;
    let printed: f64 = csv.lines().nth(1).unwrap().split(',').nth(4).unwrap().parse().unwrap();
    assert!((mase - printed).abs() < 1e-6 * printed.max(1.0), "{mase} against {printed}: {csv}");
    // The fit's warnings, as `forecast show` gives them, at the most recent origin.
    let (code, _, err) = run(prescale()
        .args(["backtest", "--models", "auto", "--origins", "1", "--horizon", "6h", "--out"])
        .arg(tmp.path().join("bt"))
        .arg("--input")
        .arg(&periodic));
    assert!(
        code == 0
            && err.contains("auto, fitted at the latest origin scored: history holds")
            && err.contains("less than two weeks"),
        "{err}"
    );
    // A group's stored history likewise, and said.
    let out = tmp.path().join("demo");
    ok(prescale().arg("--out").arg(&out).arg("ingest"));
    let (code, text, err) = run(prescale().arg("--out").arg(&out).args([
        "--now",
        "2026-11-10T00:00:00Z",
        "backtest",
        "--group",
        "web-prod",
        "--models",
        "median",
        "--format",
        "csv",
    ]));
    assert!(code == 0 && err.contains("backtested on its history before 2026-11-10 00:00 UTC"), "{err}");
    let (_, all, _) = run(prescale()
        .arg("--out")
        .arg(&out)
        .args(["backtest", "--group", "web-prod", "--models", "median", "--format", "csv"]));
    assert_ne!(text, all);
    let (code, _, err) = run(prescale().arg("--out").arg(&out).args([
        "--now",
        "2020-01-01T00:00:00Z",
        "backtest",
        "--group",
        "web-prod",
    ]));
    assert!(code == 1 && err.contains("after now") && err.contains("no history to backtest"), "{err}");
    // On the step the nightly job fits at ([forecast] min_step_mins), not the store's own.
    let coarse = tmp.path().join("coarse.toml");
    std::fs::write(&coarse, demo_config_text().replacen("[forecast]", "[forecast]\nmin_step_mins = 15", 1)).unwrap();
    ok(prescale().arg("--config").arg(&coarse).arg("--out").arg(&out).arg("ingest"));
    let (code, text, err) = run(prescale().arg("--config").arg(&coarse).arg("--out").arg(&out).args([
        "backtest",
        "--group",
        "web-prod",
        "--models",
        "median",
        "--origins",
        "2",
    ]));
    assert!(code == 0 && err.contains("backtested on 15-minute means of its 300 s steps"), "{err}");
    // Two origins of 48 h at 15 minutes.
    assert!(text.contains("2 origins, 384 steps scored"), "{text}");
    // A --now before every row of a recorded file: said as such, not as an empty file.
    let (code, _, err) =
        run(prescale().arg("--out").arg(tmp.path().join("early")).args(["--now", "2020-01-01T00:00:00Z", "ingest"]));
    assert!(code == 1 && err.contains("rows of the file are after now") && err.contains("is --now"), "{err}");
    assert!(!err.contains("holds no row with a value"), "{err}");
}

#[test]
fn a_gap_in_the_only_origins_training_days_is_said_once_with_what_to_try() {
    // Four days of hourly load (48 h of training before the one 48-h origin, 48 h to score) with
    // three hours missing on the second day: the origin has under two days measured before it.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("gap.csv");
    let mut text = String::from("ts,value\n");
    for h in (0..96).filter(|h| !(33..36).contains(h)) {
        text.push_str(&format!("2026-01-{:02}T{:02}:00:00Z,{}\n", 5 + h / 24, h % 24, 100 + (h % 24) * 10));
    }
    std::fs::write(&file, text).unwrap();
    let backtest = |extra: &[&str]| {
        run(prescale()
            .args(["backtest", "--models", "median,seasonal-naive", "--out"])
            .arg(tmp.path().join("bt"))
            .args(extra)
            .arg("--input")
            .arg(&file))
    };
    let (code, _, err) = backtest(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no model could be backtested: too short to backtest: 93 measured points of 96 slots")
            && err.contains("a missing slot in an origin's two days counts against it")
            && err.contains("or a shorter --horizon")
            && err.matches("too short to backtest").count() == 1,
        "{err}"
    );
    // The repair line says what fills the gap where.
    assert!(err.contains("a forecast fills them, from the same time the day before where over 2 h"), "{err}");
    // A shorter horizon leaves the origins two measured days.
    let (code, _, err) = backtest(&["--horizon", "12h", "--origins", "1"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_ridge_model_is_chosen_by_name_in_forecast_show_and_backtest() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("load.csv");
    let mut text = String::from("ts,value\n");
    for h in 0..(24 * 9) {
        text.push_str(&format!("2026-01-{:02}T{:02}:00:00Z,{}\n", 1 + h / 24, h % 24, 100 + (h % 24) * 10 + h % 7));
    }
    std::fs::write(&p, text).unwrap();
    let (code, out, err) = run(prescale()
        .args(["forecast", "show", "--model", "ridge", "--horizon", "24h", "--format", "table", "--input"])
        .arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("model ridge"), "{out}");
    let (code, out, err) = run(prescale()
        .args(["backtest", "--models", "ridge,median", "--origins", "2", "--out"])
        .arg(tmp.path().join("bt"))
        .arg("--input")
        .arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ridge") && out.contains("median"), "{out}");
    // The same scores as CSV: a header, then one row per model, numbers that parse.
    let csv = ok(prescale()
        .args(["backtest", "--models", "ridge,median", "--origins", "2", "--format", "csv", "--out"])
        .arg(tmp.path().join("bt"))
        .arg("--input")
        .arg(&p));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "series,model,fitted,origins,mase,smape,wape,cov80,cov95,width80,width95,pinball", "{csv}");
    assert_eq!(lines.len(), 3, "{csv}");
    for (row, model) in lines[1..].iter().zip(["ridge", "median"]) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!((cells.len(), cells[1], cells[3]), (12, model, "2"), "{row}");
        assert!(cells[4..].iter().all(|c| c.parse::<f64>().is_ok()), "{row}");
    }
    let (code, _, err) = run(prescale()
        .args(["backtest", "--models", "ridgee", "--out"])
        .arg(tmp.path().join("bt"))
        .arg("--input")
        .arg(&p));
    assert_eq!(code, 1);
    assert!(err.contains("unknown model") && err.contains("ridge"), "{err}");
}

#[test]
fn transforms_and_bounds_in_forecast_show() {
    // A CPU-like percentage near its ceiling: a daily cycle peaking at 95 %.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("cpu.csv");
    let mut text = String::from("ts,value\n");
    for h in 0..(24 * 10) {
        let v = 60.0 + 35.0 * (std::f64::consts::TAU * (h % 24) as f64 / 24.0).sin() + (h % 7) as f64 * 0.7;
        text.push_str(&format!("2026-01-{:02}T{:02}:00:00Z,{v:.2}\n", 1 + h / 24, h % 24));
    }
    std::fs::write(&p, text).unwrap();
    let rows = |extra: &[&str]| -> (String, Vec<Vec<f64>>) {
        let (code, out, err) = run(prescale()
            .args(["forecast", "show", "--horizon", "24h", "--format", "csv", "--levels", "80,99"])
            .args(extra)
            .arg("--input")
            .arg(&p));
        assert_eq!(code, 0, "{err}");
        let rows = out.lines().skip(1).map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect()).collect();
        (err, rows)
    };
    let (err, plain) = rows(&[]);
    assert!(plain.iter().any(|r| r[4] > 100.0), "the 99 % interval should reach past 100 unbounded");
    // Which is said, with how to clip it; with a maximum it is not.
    assert!(err.contains("above 100, on a history that never left 0–") && err.contains("--max 100"), "{err}");
    let (err, bounded) = rows(&["--transform", "box-cox", "--min", "0", "--max", "100"]);
    assert!(!err.contains("above 100, on a history"), "{err}");
    // The same load as a share of 1 is told so at 1; a small count (whole numbers) is not.
    for (name, scale, whole, said) in [("share.csv", 0.01, false, true), ("count.csv", 0.01, true, false)] {
        let f = tmp.path().join(name);
        let mut text = String::from("ts,value\n");
        for h in 0..(24 * 10) {
            let v = 60.0 + 35.0 * (std::f64::consts::TAU * (h % 24) as f64 / 24.0).sin() + (h % 7) as f64 * 0.7;
            let v = if whole { (v * scale).round() } else { v * scale };
            text.push_str(&format!("2026-01-{:02}T{:02}:00:00Z,{v}\n", 1 + h / 24, h % 24));
        }
        std::fs::write(&f, text).unwrap();
        let (code, _, err) =
            run(prescale().args(["forecast", "show", "--horizon", "24h", "--levels", "80,99", "--input"]).arg(&f));
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            err.contains("above 1, on a history of fractions") && err.contains("--max 1,"),
            said,
            "{name}: {err}"
        );
    }
    for r in &bounded {
        // mean, lo80, hi80, lo99, hi99: nested, inside [0, 100].
        assert!(r[3] >= 0.0 && r[3] <= r[1] && r[1] <= r[0] && r[0] <= r[2] && r[2] <= r[4] && r[4] <= 100.0, "{r:?}");
    }
    // A ceiling the history crosses (a unit error, or a CPU read past 100 %) is said, and the
    // models see the history at the bound: the forecast is no lower than at a ceiling of 100.
    let (err, tight) = rows(&["--max", "80"]);
    assert!(
        err.contains("values of the history lie outside the metric's bounds, max 80: fitted at the bound"),
        "{err}"
    );
    assert!(tight.iter().all(|r| r[4] <= 80.0) && tight.iter().any(|r| r[0] > 75.0), "{tight:?}");
    let (code, _, err) = run(prescale().args(["forecast", "show", "--transform", "sqrt", "--input"]).arg(&p));
    assert_eq!(code, 1, "a usage error is an expected failure, not a bug");
    assert!(err.contains("none, log or box-cox"), "{err}");
    // Bounds that most of the history lies outside are a unit mistake, refused.
    let (code, _, err) = run(prescale().args(["forecast", "show", "--min", "2000", "--input"]).arg(&p));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("240 of 240 values of the history lie outside the metric's bounds, min 2000"), "{err}");
    let (code, _, err) = run(prescale().args(["forecast", "show", "--min", "5", "--max", "1", "--input"]).arg(&p));
    assert_eq!(code, 1);
    assert!(err.contains("min must be below max"), "{err}");
}

#[test]
fn holidays_reach_ridge_and_the_engine_from_forecast_show() {
    // Hourly traffic from Monday 2026-01-05 with weekend-like holidays on two weekdays of the
    // history and on the first day ahead (2026-02-17, day 43).
    let mut shape = prescale_forecast::synthetic::Shape::web(3, 43, 3600);
    shape.incidents.clear();
    shape.level_shift = None;
    shape.holidays = vec![22, 31];
    let series = shape.series();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("load.csv");
    let mut text = String::from("ts,value\n");
    for (i, v) in series.values().iter().enumerate() {
        text.push_str(&format!("{},{v}\n", series.ts(i).to_rfc3339()));
    }
    std::fs::write(&p, text).unwrap();
    let first_day_mean = |model: &str, extra: &[&str]| {
        let (code, out, err) = run(prescale()
            .args(["forecast", "show", "--model", model, "--horizon", "24h", "--format", "csv"])
            .args(extra)
            .arg("--input")
            .arg(&p));
        assert_eq!(code, 0, "{err}");
        let means: Vec<f64> = out.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
        assert_eq!(means.len(), 24, "{out}");
        (means.iter().sum::<f64>() / 24.0, err)
    };
    // Ridge takes them as features, the engine (`auto`, the default) learns their ratio to an
    // ordinary day, on the untransformed series when it fits a transform, and says so.
    for (model, transform) in [("ridge", "none"), ("auto", "none"), ("auto", "log")] {
        let t = ["--transform", transform];
        let (plain, _) = first_day_mean(model, &t);
        let (holiday, err) =
            first_day_mean(model, &[&t[..], &["--holidays", "2026-01-27,2026-02-05,2026-02-17"]].concat());
        assert!(
            holiday < 0.9 * plain,
            "{model}, {transform}: the holiday ahead was not forecast lower: {holiday} vs {plain}"
        );
        if model == "auto" {
            assert!(
                err.contains("holiday ahead from 2026-02-17 00:00 UTC") && err.contains("2 weekday holidays"),
                "{err}"
            );
        }
    }
    let (code, _, err) =
        run(prescale().args(["forecast", "show", "--model", "ridge", "--holidays", "2026-02-30", "--input"]).arg(&p));
    assert_eq!(code, 1);
    assert!(err.contains("--holidays") && err.contains("YYYY-MM-DD"), "{err}");
}

#[test]
fn weekends_are_learnt_by_default_and_forecast_lower_unless_turned_off() {
    // Hourly traffic with quiet weekends, from Sunday 2026-01-11 to the end of Friday 01-23: 13
    // days, too few for a weekly season, with two weekends (one of them a lone Sunday); the 48 h
    // ahead are a weekend.
    let mut shape = prescale_forecast::synthetic::Shape::web(4, 21, 3600);
    shape.incidents.clear();
    shape.level_shift = None;
    shape.holidays.clear();
    let series = shape.series();
    let (start, n) = (6 * 24, 19 * 24);
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("load.csv");
    let mut text = String::from("ts,value\n");
    for i in start..n {
        text.push_str(&format!("{},{}\n", series.ts(i).to_rfc3339(), series.values()[i]));
    }
    std::fs::write(&p, text).unwrap();
    let truth = &series.values()[n..];
    let forecast = |extra: &[&str]| {
        let out = ok(prescale()
            .args(["forecast", "show", "--horizon", "48h", "--format", "csv"])
            .args(extra)
            .arg("--input")
            .arg(&p));
        let means: Vec<f64> = out.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
        assert_eq!(means.len(), 48, "{out}");
        means.iter().zip(truth).map(|(f, y)| (f - y).abs()).sum::<f64>() / 48.0
    };
    let (learnt, ignored) = (forecast(&[]), forecast(&["--weekends", "false"]));
    assert!(
        learnt < 0.6 * ignored,
        "weekend at {:.2} of a weekday: MAE {learnt:.1} learnt vs {ignored:.1} ignored",
        shape.weekend
    );
    let (code, table, err) = run(prescale().args(["forecast", "show", "--horizon", "2h", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("daily seasonality only, and weekends at 0."), "13 days, two weekends: {err}");
    assert!(
        table.contains("weekends(0.") && table.contains("weekends: forecast at 0."),
        "the model id and the table say what was learnt: {table}"
    );
    let json = |extra: &[&str]| -> serde_json::Value {
        let out = ok(prescale()
            .args(["forecast", "show", "--horizon", "2h", "--format", "json"])
            .args(extra)
            .arg("--input")
            .arg(&p));
        serde_json::from_str(&out).unwrap()
    };
    let ratio = json(&[])["weekend_ratio"].as_f64().expect("the JSON says the weekend ratio");
    assert!(
        table.contains(&format!("weekends: forecast at {ratio:.2} ×")) && (ratio - shape.weekend).abs() < 0.15,
        "JSON {ratio}, shape {:.2}: {table}",
        shape.weekend
    );
    assert!(json(&["--weekends", "false"])["weekend_ratio"].is_null());
    let table = ok(prescale().args(["forecast", "show", "--horizon", "2h", "--weekends", "false", "--input"]).arg(&p));
    assert!(!table.contains("weekends("), "{table}");
}

#[test]
fn forecast_show_on_real_series_gives_finite_nested_intervals() {
    let Some(shared) = shared_data() else { return };
    for f in [
        "nab/realTweets/Twitter_volume_AAPL.csv",
        "nab/realKnownCause/cpu_utilization_asg_misconfiguration.csv",
        "cloudmon/mongodb-application-rps/mongo-01.csv",
    ] {
        let out = ok(prescale()
            .args(["forecast", "show", "--horizon", "48h", "--format", "csv", "--input"])
            .arg(shared.join(f)));
        let rows: Vec<Vec<f64>> =
            out.lines().skip(1).map(|r| r.split(',').skip(1).map(|x| x.parse().unwrap()).collect()).collect();
        assert!(rows.len() >= 48, "{f}");
        for v in rows {
            assert!(v.iter().all(|x| x.is_finite()), "{f}");
            assert!(v[3] <= v[1] && v[1] <= v[0] && v[0] <= v[2] && v[2] <= v[4], "{f}: {v:?}");
        }
    }
}

#[test]
fn help_names_every_stage() {
    let out = ok(prescale().arg("--help"));
    for cmd in ["ingest", "forecast", "plan", "event", "apply", "nightly"] {
        assert!(out.contains(cmd), "{out}");
    }
    let out = ok(prescale().args(["forecast", "--help"]));
    assert!(out.contains("fit") && out.contains("show"));
    let out = ok(prescale().args(["event", "--help"]));
    assert!(out.contains("add") && out.contains("list") && out.contains("remove"), "{out}");
    let out = ok(prescale().args(["plan", "--help"]));
    assert!(out.contains("--what-if") && out.contains("--multiplier"), "{out}");
}

#[test]
fn stale_data_leaves_the_groups_out_and_a_poor_backtest_means_no_floors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    // The demo's data end at 2026-11-23 00:00; six hours later the newest point is too old: ingest
    // has stopped. A plan from it would take the floors in place down before the morning ramp, so
    // the groups are left out (their floors stay) and the run fails, for monitoring to see.
    let (code, text, err) = run(prescale().args(["nightly", "--now", "2026-11-23T06:00:00Z", "--out"]).arg(&out));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        err.contains("the newest measured load is from 2026-11-22 23:55 UTC (6.1 h before now, 2026-11-23 06:00 UTC)"),
        "{err}"
    );
    assert!(err.contains("web-prod/requests: its newest data is from 2026-11-22 23:55 UTC, 6.1 h before now"), "{err}");
    assert!(err.contains("3 groups not planned, their floors in place left as they are"), "{err}");
    assert!(err.contains("web-prod/requests: the source's newest sample is from 2026-11-22 23:55 UTC"), "{err}");
    assert!(!out.join("plan.json").exists(), "no plan from stale load");
    // A recorded file replayed at a --now inside it is read as it stood then: its later rows are
    // left out, and the rest stored.
    let early = tmp.path().join("early");
    let (code, _, err) = run(prescale().args(["ingest", "--now", "2026-11-22T21:00:00Z", "--out"]).arg(&early));
    assert_eq!(code, 0, "{err}");
    assert!(early.join("store/metrics/v1/web-prod/requests.parquet").exists(), "{err}");
    // At the clock's now, rows after it (local time written without an offset?) are said where the
    // source is read, and the series is not stored: shifted stamps would replace good slots.
    let soon = chrono::Utc::now() + chrono::Duration::hours(2);
    let mut csv = String::from("ts,value\n");
    for i in 0..(3 * 288) {
        csv.push_str(&format!("{},100\n", (soon - chrono::Duration::minutes(5 * i)).format("%Y-%m-%dT%H:%M:00Z")));
    }
    let file = tmp.path().join("ahead.csv");
    std::fs::write(&file, csv).unwrap();
    let cfg = tmp.path().join("ahead.toml");
    let web = format!("file = \"{}\"", file.display());
    std::fs::write(
        &cfg,
        demo_config_text().replacen(
            &demo_config_text().lines().find(|l| l.contains("web-prod-requests.csv")).unwrap().to_string(),
            &web,
            1,
        ),
    )
    .unwrap();
    let (code, _, err) =
        run(prescale().arg("--config").arg(&cfg).args(["ingest", "--group", "web-prod", "--out"]).arg(&early));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("web-prod/requests: not stored, its stored data is unchanged: 2")
            && err.contains("samples after now"),
        "{err}"
    );
    assert!(err.contains("time zone right?"), "{err}");
    // Stamps that lag now by whole hours may be local time read as UTC: said beside a stopped feed.
    let (_, _, err) = run(prescale()
        .args(["ingest", "--group", "web-prod", "--now", "2026-11-23T05:00:00Z", "--out"])
        .arg(tmp.path().join("late")));
    assert!(
        err.contains("has it stopped updating (csv ")
            && err.contains(
                "web-prod-requests.csv)? Or are its stamps local time, 5 h behind UTC, written without an offset?"
            ),
        "{err}"
    );
    // A reader that goes away at once (`prescale nightly | head -1` in a cron job) does not turn
    // the run into a success, nor stop it halfway.
    let mut child = prescale()
        .args(["nightly", "--now", "2026-11-23T06:00:00Z", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{err}");
    assert!(err.contains("3 groups not planned"), "{err}");
    let mut child = prescale()
        .args(["nightly", "--now", "2026-11-23T00:00:00Z", "--out"])
        .arg(tmp.path().join("piped"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(tmp.path().join("piped/dry-run-changes.json").exists(), "the run went on to its end");
    // A what-if trial at that hour leaves the same groups out, and fails the same way.
    let (code, text, err) =
        run(prescale().args(["--now", "2026-11-23T06:00:00Z", "--out"]).arg(&out).args(["plan", "--what-if"]));
    assert!(code == 1 && err.contains("3 groups not planned"), "{text}\n{err}");
    // With no group to compare, no empty table that would read as "no change".
    assert!(text.trim().is_empty() && err.contains("nothing was tried"), "{text}\n{err}");
    // The forecasts were made: a metric the group does not have is named as such, with its own.
    let (code, _, err) =
        run(prescale().arg("--out").arg(&out).args(["forecast", "show", "--group", "web-prod", "--metric", "nope"]));
    assert!(
        code == 1 && err.contains("group web-prod has no metric \"nope\"") && err.contains("are requests"),
        "{err}"
    );
    // A backtest threshold no forecast can meet: the same, with the backtest as the reason.
    let cfg = tmp.path().join("strict.toml");
    let text =
        demo_config_text().replace("dir = \"store\"", &format!("dir = \"{}\"", tmp.path().join("store").display()));
    std::fs::write(&cfg, format!("{text}\n[trust]\nmax_backtest_mase = 0.01\n")).unwrap();
    let text = ok(prescale()
        .args(["--now", "2026-11-23T00:00:00Z", "--out"])
        .arg(tmp.path().join("strict"))
        .arg("--config")
        .arg(&cfg)
        .arg("nightly"));
    assert!(text.contains("above [trust] max_backtest_mase = 0.01"), "{text}");
    // With --strict the same run, plan written all the same, exits 1 for a person to look.
    let (code, _, err) = run(prescale()
        .args(["--now", "2026-11-23T00:00:00Z", "--out"])
        .arg(tmp.path().join("strict"))
        .arg("--config")
        .arg(&cfg)
        .args(["nightly", "--quiet", "--strict"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--strict: 3 things in the plan need a person"), "{err}");
    assert!(err.contains("web-prod: no floors: its backtest MASE"), "{err}");
}

#[test]
fn a_per_instance_metric_is_planned_on_the_groups_total_load() {
    let tmp = tempfile::tempdir().unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-16T00:00:00Z").unwrap().to_utc();
    let (mut cpu, mut inst) = (String::from("ts,value\n"), String::from("ts,value\n"));
    let mut totals = Vec::new();
    for i in 0..7 * 288 {
        let t = start + chrono::Duration::minutes(5 * i);
        let day = (i % 288) as f64 / 288.0;
        let total = 400.0 + 300.0 * (std::f64::consts::TAU * (day - 0.25)).sin(); // CPU-% summed over instances
        let n = (total / 60.0).ceil().max(2.0); // what a reactive policy at 60 % would have run
        // Half an hour of CPU missing: interpolated in its store, not measured.
        if !(200..206).contains(&i) {
            cpu.push_str(&format!("{},{}\n", t.to_rfc3339(), total / n));
        }
        inst.push_str(&format!("{},{n}\n", t.to_rfc3339()));
        totals.push(total);
    }
    std::fs::write(tmp.path().join("cpu.csv"), cpu).unwrap();
    std::fs::write(tmp.path().join("inst.csv"), inst).unwrap();
    let cfg = tmp.path().join("prescale.toml");
    std::fs::write(
        &cfg,
        r#"
[store]
dir = "store"
[ingest]
source = "csv"
[apply]
sink = "local"
[[groups]]
name = "cpu-group"
min_size = 1
max_size = 40
load_metric = "cpu"
instances_metric = "instances"
capacity_per_instance = 100.0
target_utilization = 0.7
quantile = 0.9
[[groups.metrics]]
name = "cpu"
file = "cpu.csv"
[[groups.metrics]]
name = "instances"
file = "inst.csv"
"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let text = ok(prescale().arg("--config").arg(&cfg).arg("--out").arg(&out).args([
        "--now",
        "2026-11-23T00:00:00Z",
        "nightly",
    ]));
    assert!(text.contains("cpu-group/cpu-total"), "the derived total is ingested:\n{text}");
    let store = prescale_store::MetricStore::open(tmp.path().join("store")).unwrap();
    let (total, observed) = store.read_observed(&prescale_core::MetricId::new("cpu-group", "cpu-total")).unwrap();
    assert!((total.values()[100] - totals[100]).abs() < 1e-6, "{} vs {}", total.values()[100], totals[100]);
    // The total of a slot whose CPU was filled in is filled in too, not stored as measured.
    assert_eq!((observed[199], observed[200], observed[205], observed[206]), (true, false, false, true));
    assert!(total.values()[203].is_finite());
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let g = &plan["groups"][0];
    assert_eq!(g["forecast"]["metric"], "cpu-total");
    let top = g["scheduled_actions"].as_array().unwrap().iter().filter_map(|a| a["min_size"].as_u64()).max().unwrap();
    // 700 CPU-% at the peak needs 10 instances at 70 %; sizing on the 60 %-per-instance average
    // instead would have asked for one.
    assert!((10..=13).contains(&top), "peak floor {top}");
    // Bad configuration: the instances metric must be another metric of the group.
    let bad = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("instances_metric = \"instances\"", "instances_metric = \"cpu\"");
    std::fs::write(&cfg, bad).unwrap();
    let (code, _, err) = run(prescale().arg("--config").arg(&cfg).arg("plan"));
    assert_eq!(code, 1);
    assert!(err.contains("instances_metric \"cpu\" must be another"), "{err}");
}

/// `[store] retention_days`: each ingest keeps that much of a series before its newest slot and
/// says what it left out; a retention shorter than the history a night reads is refused.
#[test]
fn a_store_retention_keeps_its_days_and_one_shorter_than_the_fits_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z").unwrap().to_utc();
    let hourly: String = std::iter::once("ts,value\n".to_string())
        .chain((0..40 * 24).map(|i| format!("{},{}\n", (t0 + chrono::Duration::hours(i)).to_rfc3339(), 40 + i % 24)))
        .collect();
    std::fs::write(tmp.path().join("hourly.csv"), hourly).unwrap();
    let cfg = tmp.path().join("prescale.toml");
    let config = |days: i64| {
        format!(
            "[store]\ndir = \"store\"\nretention_days = {days}\n[ingest]\nsource = \"csv\"\nperiod_secs = 3600\n\
             [[groups]]\nname = \"web\"\nmin_size = 1\nmax_size = 10\nload_metric = \"requests\"\n\
             capacity_per_instance = 100.0\n[[groups.metrics]]\nname = \"requests\"\nfile = \"hourly.csv\"\n"
        )
    };
    std::fs::write(&cfg, config(30)).unwrap();
    let ingest = || run(prescale().arg("--config").arg(&cfg).args(["--now", "2026-11-10T00:00:00Z", "ingest"]));
    let (code, out, err) = ingest();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pruned: 239 slots older than [store] retention_days before their series' newest"), "{out}");
    let store = prescale_store::MetricStore::for_reading(tmp.path().join("store"));
    let s = store.read(&prescale_core::MetricId::new("web", "requests")).unwrap();
    // The newest slot is 959 h after the first: 30 days before it is 239 h after the first.
    assert_eq!((s.start(), s.len()), (t0 + chrono::Duration::hours(239), 30 * 24 + 1));
    // A second night over the same file: the file's old rows are left out again, nothing else.
    let (code, out, err) = ingest();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pruned: 239 slots"), "{out}");
    assert_eq!(store.read(&prescale_core::MetricId::new("web", "requests")).unwrap().len(), 30 * 24 + 1);
    // Shorter than the 28 days a fit reads: refused before anything is read.
    std::fs::write(&cfg, config(20)).unwrap();
    let (code, _, err) = ingest();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("[store] retention_days = 20 is shorter than the history a night reads"), "{err}");
}

#[test]
fn ingest_averages_dense_samples_over_their_periods_and_warns_of_sparse_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-16T00:00:00Z").unwrap().to_utc();
    // One-minute requests valued by their minute of the hour; hourly CPU.
    let minute: String = std::iter::once("ts,value\n".to_string())
        .chain((0..3 * 1440).map(|i| format!("{},{}\n", (t0 + chrono::Duration::minutes(i)).to_rfc3339(), i % 60)))
        .collect();
    let hourly: String = std::iter::once("ts,value\n".to_string())
        .chain((0..3 * 24).map(|i| format!("{},{}\n", (t0 + chrono::Duration::hours(i)).to_rfc3339(), 40 + i % 24)))
        .collect();
    std::fs::write(tmp.path().join("minute.csv"), minute).unwrap();
    std::fs::write(tmp.path().join("hourly.csv"), hourly).unwrap();
    let cfg = tmp.path().join("prescale.toml");
    std::fs::write(
        &cfg,
        r#"
[store]
dir = "store"
[ingest]
source = "csv"
period_secs = 300
[[groups]]
name = "web"
min_size = 1
max_size = 10
load_metric = "requests"
capacity_per_instance = 100.0
[[groups.metrics]]
name = "requests"
file = "minute.csv"
[[groups.metrics]]
name = "cpu"
file = "hourly.csv"
"#,
    )
    .unwrap();
    let (code, out, err) = run(prescale().arg("--config").arg(&cfg).args(["--now", "2026-11-19T00:05:00Z", "ingest"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("gathered: web/requests came denser than"), "{out}");
    assert!(
        err.contains("web/cpu: the samples are 3600 s apart and [ingest] period_secs is 300")
            && err.contains("set [ingest] period_secs = 3600"),
        "{err}"
    );
    assert!(!err.contains("web/requests:"), "no warning for the dense series: {err}");
    // The slot of 00:00 holds minutes 0–4 (mean 2), as CloudWatch's 5-minute datapoint does.
    let store = prescale_store::MetricStore::open(tmp.path().join("store")).unwrap();
    let s = store.read(&prescale_core::MetricId::new("web", "requests")).unwrap();
    assert_eq!((s.start(), s.step_secs()), (t0, 300));
    assert_eq!(&s.values()[..3], &[2.0, 7.0, 12.0]);
    drop(store);
    // A second reading of 00:10 that disagrees with the first (two series in one file?) is named.
    let mut text = std::fs::read_to_string(tmp.path().join("minute.csv")).unwrap();
    text.push_str(&format!("{},9999\n", (t0 + chrono::Duration::minutes(10)).to_rfc3339()));
    std::fs::write(tmp.path().join("minute.csv"), text).unwrap();
    let (code, out, err) = run(prescale().arg("--config").arg(&cfg).args(["--now", "2026-11-19T00:05:00Z", "ingest"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("slots disagree") && out.contains("(the first: web/requests at 2026-11-16 00:10:00 UTC)"),
        "{out}"
    );
}

/// Four days of 5-minute load with a daily cycle, as `ts,value` rows (timestamps by `stamp`).
fn four_days(stamp: impl Fn(i64) -> String, value: impl Fn(usize) -> String) -> String {
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-10-26T00:00:00Z").unwrap().timestamp();
    let mut text = String::from("ts,value\n");
    for i in 0..4 * 288 {
        text.push_str(&format!("{},{}\n", stamp(t0 + 300 * i as i64), value(i)));
    }
    text
}

fn daily_load(i: usize) -> f64 {
    10_000.0 + 5_000.0 * (std::f64::consts::TAU * (i % 288) as f64 / 288.0).sin() + (i % 7) as f64 * 100.0
}

fn csv_rows(out: &str) -> Vec<Vec<f64>> {
    out.lines().skip(1).map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect()).collect()
}

#[test]
fn rows_without_a_value_at_the_end_are_said_not_filled() {
    // The last three hours are NaN: the series ends at its last value, the forecast starts
    // after it, and the user is told that this is three hours before the file's last row.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("tail.csv");
    let rfc = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap().to_rfc3339();
    std::fs::write(
        &p,
        four_days(rfc, |i| if i >= 4 * 288 - 36 { "NaN".to_string() } else { daily_load(i).to_string() }),
    )
    .unwrap();
    let (code, out, err) =
        run(prescale().args(["forecast", "show", "--horizon", "1h", "--format", "csv", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().nth(1).unwrap().starts_with("2026-10-29T21:00:00"), "{out}");
    assert!(
        err.contains(
            "the 36 rows after its last value (2026-10-29T20:55:00Z) have no value (up to 2026-10-29T23:55:00Z): the \
             series ends there, and a forecast from it at the file's step starts at 2026-10-29T21:00:00Z"
        ),
        "{err}"
    );
    assert!(!err.contains("carried forward"), "nothing invented: {err}");
    // One such row, on stamps 4 minutes past the grid (nearer the next slot than their own):
    // said as well, by the file's own stamps.
    let rfc = |t: i64| chrono::DateTime::from_timestamp(t + 240, 0).unwrap().to_rfc3339();
    std::fs::write(&p, four_days(rfc, |i| if i == 4 * 288 - 1 { "NaN".into() } else { daily_load(i).to_string() }))
        .unwrap();
    let (code, out, err) =
        run(prescale().args(["forecast", "show", "--horizon", "1h", "--format", "csv", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().nth(1).unwrap().starts_with("2026-10-29T23:59:00"), "{out}");
    assert!(
        err.contains(
            "the row after its last value (2026-10-29T23:54:00Z) has no value (up to 2026-10-29T23:59:00Z): the \
             series ends there, and a forecast from it at the file's step starts at 2026-10-29T23:59:00Z"
        ),
        "{err}"
    );
    // A stamp given twice with values far apart is named as the file writes it, not as its slot.
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str(&format!("{},1e6\n", rfc(1_792_972_800 + 3000)));
    std::fs::write(&p, text).unwrap();
    let (code, _, err) =
        run(prescale().args(["forecast", "show", "--horizon", "1h", "--format", "csv", "--input"]).arg(&p));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(two series in one file? the first at 2026-10-26 00:54:00 UTC)"), "{err}");
}

#[test]
fn bad_inputs_get_a_clear_error_or_a_reported_repair() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let rfc = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap().to_rfc3339();
    let good = write("good.csv", four_days(rfc, |i| daily_load(i).to_string()));
    let show = |p: &Path, extra: &[&str]| {
        run(prescale()
            .args(["forecast", "show", "--horizon", "48h", "--format", "csv"])
            .args(extra)
            .arg("--input")
            .arg(p))
    };

    // Durations past what a clock can hold are refused, not a panic.
    for args in [
        &["forecast", "show", "--horizon", "9999999999999d"][..],
        &["backtest", "--horizon", "9999999999999d"],
        &["backtest", "--train", "9999999999999d"],
    ] {
        let (code, _, err) = run(prescale().args(args).arg("--input").arg(&good));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("longer than ten years") && !err.contains("panicked"), "{args:?}: {err}");
    }
    let (code, _, err) = run(prescale().args(["simulate", "--min-history-days", "4294967295", "--input"]).arg(&good));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--min-history-days") && !err.contains("panicked"), "{err}");

    // Epoch milliseconds are read as such (not as seconds 50,000 years ahead).
    let ms = write("ms.csv", four_days(|t| (t * 1000).to_string(), |i| daily_load(i).to_string()));
    let (code, out, err) = show(&ms, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().nth(1).unwrap().starts_with("2026-10-30T00:00:00Z"), "{out}");

    // A file with no number at all: said as such, with what to check.
    let none = write("none.csv", four_days(rfc, |i| if i % 2 == 0 { "nan".into() } else { String::new() }));
    let (code, _, err) = show(&none, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("none.csv: none of its 1,152 rows holds a number") && err.contains("hint: "), "{err}");

    // Readings under a minute apart are fitted on their 1-minute means, said.
    let secs = write(
        "secs.csv",
        (0..2 * 8640)
            .map(|i| format!("{},{}\n", rfc(1_793_318_400 + 10 * i), 100 + i % 7))
            .fold("ts,value\n".to_string(), |a, l| a + &l),
    );
    let (code, out, err) = show(&secs, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("fitted on 1-minute means of its 10 s steps"), "{err}");
    assert_eq!(csv_rows(&out).len(), 48 * 60);

    // A value near f64::MAX is a unit error, refused with its line.
    let huge =
        write("huge.csv", four_days(rfc, |i| if i == 500 { "1.7e308".into() } else { daily_load(i).to_string() }));
    let (code, _, err) = show(&huge, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("huge.csv:502") && err.contains("1e100"), "{err}");

    // A 1000× spike in the last slot is not forecast to come back the next two nights.
    let spike = write(
        "spike.csv",
        four_days(
            rfc,
            |i| if i == 4 * 288 - 1 { (daily_load(i) * 1000.0).to_string() } else { daily_load(i).to_string() },
        ),
    );
    let (code, out, err) = show(&spike, &[]);
    assert_eq!(code, 0, "{err}");
    let rows = csv_rows(&out);
    let worst = rows.iter().map(|r| r[4]).fold(0.0f64, f64::max);
    assert!(worst < 3.0 * 15_700.0, "a hi95 of {worst} after a one-slot spike: {out}");

    // A day-long gap is left missing on the grid, then filled by the forecast, each said.
    let gap = write(
        "gap.csv",
        four_days(rfc, |i| if (288..576).contains(&i) { String::new() } else { daily_load(i).to_string() })
            .lines()
            .filter(|l| !l.ends_with(','))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let (code, _, err) = show(&gap, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("288 slots missing") && err.contains("filled 288 missing slots"), "{err}");

    // Two weeks missing between two runs of four days: the days before the gap are not used.
    let restart = write(
        "restart.csv",
        four_days(rfc, |i| daily_load(i).to_string())
            + &four_days(|t| rfc(t + 18 * 86_400), |i| (3.0 * daily_load(i)).to_string()).replacen("ts,value\n", "", 1),
    );
    let (code, out, err) = show(&restart, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("breaks off for 14.0 days") && err.contains("only the 4.0 days after the gap"), "{err}");
    let low = csv_rows(&out).iter().map(|r| r[0]).fold(f64::INFINITY, f64::min);
    assert!(low > 2.0 * 5_000.0, "forecast from the days after the gap, at three times the load: {low}");

    // --now forecasts as of an instant inside the file: the rows after it are left out.
    let (code, out, err) = show(&good, &["--now", "2026-10-29T00:00:00Z"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().nth(1).unwrap().starts_with("2026-10-29T00:00:00Z"), "{out}");
    let (code, _, err) = show(&good, &["--now", "2026-10-20T00:00:00Z"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing was known then") && err.contains("2026-10-26T00:00:00Z"), "{err}");
    let (code, out, err) = show(&good, &["--now", "2026-11-20T00:00:00Z"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("after the file's last row") && out.lines().nth(1).unwrap().starts_with("2026-10-30T00:00:00Z")
    );

    // --now just after the last row is the nightly case: nothing to warn about.
    let (code, _, err) = show(&good, &["--now", "2026-10-30T00:00:00Z"]);
    assert!(code == 0 && !err.contains("after the file's last row"), "{err}");

    // Stamps that all lie two minutes past the grid keep their phase: no repair, and the
    // forecast's rows two minutes past too.
    let phase = write("phase.csv", four_days(|t| rfc(t + 120), |i| daily_load(i).to_string()));
    let (code, out, err) = show(&phase, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("snapped") && !err.contains("onto it"), "{err}");
    assert!(out.lines().nth(1).unwrap().starts_with("2026-10-30T00:02:00Z"), "{out}");
    // Elsewhere they are moved to the nearest slot, and the warning says which way.
    let late = write("late.csv", four_days(|t| rfc(t + 240), |i| daily_load(i).to_string()));
    let (code, _, err) = run(prescale()
        .args(["backtest", "--origins", "2", "--out"])
        .arg(tmp.path().join("bt"))
        .arg("--input")
        .arg(&late));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("stamps snapped (every one 60 s before a slot, moved forward onto it)"), "{err}");

    // Stamps up to 20 s off a 5-minute grid are snapped to it, and the user is told.
    let jitter = write("jitter.csv", four_days(|t| rfc(t + (t / 300 * 7919) % 41 - 20), |i| daily_load(i).to_string()));
    let (code, out, err) = show(&jitter, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("onto a 300 s grid") && err.contains("snapped"), "{err}");
    assert_eq!(csv_rows(&out).len(), 576);

    // Two rows: a median with honest (not zero-width) intervals, nested.
    let two = write("two.csv", "ts,value\n2026-10-26T00:00:00Z,8584\n2026-10-26T00:05:00Z,8870\n".into());
    let (code, out, err) = show(&two, &[]);
    assert_eq!(code, 0, "{err}");
    let r = &csv_rows(&out)[0];
    assert!(r[3] < r[1] && r[1] < r[0] && r[0] < r[2] && r[2] < r[4] && r[4] - r[3] > 286.0, "{out}");

    // Usage errors exit 1 (2 is for bugs), and say what is wrong.
    let (code, _, err) = run(prescale().args(["simulate", "--policies", "bogus", "--input"]).arg(&good));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("bogus") && err.contains("reactive"), "names the value and the valid ones: {err}");
    let (code, _, err) = run(prescale().args(["forecast", "show", "--horizon", "-1h", "--input"]).arg(&good));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("positive duration"), "{err}");
    let (code, _, err) = run(prescale().args(["forecast", "show", "--levels", "-5", "--input"]).arg(&good));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("interval level -5"), "{err}");

    // Settings a replay cannot honour are refused before any work.
    let (code, _, err) = run(prescale().args(["simulate", "--capacity", "1e-6", "--input"]).arg(&good));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("at most 100000 instances"), "{err}");
    let (code, _, err) = run(prescale()
        .args(["simulate", "--step-owns-scale-in", "true", "--step-scaling", "false", "--input"])
        .arg(&good));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("needs step scaling"), "{err}");
}

#[test]
fn floors_moved_a_little_to_the_safe_side_are_kept_in_place_by_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    ok(prescale().args(["--config", "demo", "nightly", "--execute", "--out"]).arg(&out));
    let path = out.join("plan.json");
    let plan: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let web = plan["groups"].as_array().unwrap().iter().position(|g| g["group"] == "web-prod").unwrap();
    let actions = plan["groups"][web]["scheduled_actions"].as_array().unwrap().clone();
    let at = |i: usize| chrono::DateTime::parse_from_rfc3339(actions[i]["start_time"].as_str().unwrap()).unwrap();
    let floor = |i: usize| actions[i]["min_size"].as_u64().unwrap();
    // A rise and a fall with room around them (an hour to the actions beside them).
    let roomy =
        |i: usize| at(i) - at(i - 1) >= chrono::Duration::hours(1) && at(i + 1) - at(i) >= chrono::Duration::hours(1);
    let rise = (1..actions.len() - 1).find(|&i| floor(i) > floor(i - 1) && roomy(i)).expect("a rise");
    let fall = (1..actions.len() - 1).find(|&i| floor(i) < floor(i - 1) && roomy(i)).expect("a fall");
    // Tonight's plan moves them by ten minutes: the rise later and the fall sooner, which the floors
    // in place cover (up sooner, down later), or the other way round, which they do not.
    let moved = |rise_by: i64, fall_by: i64| {
        let mut p = plan.clone();
        for (i, by) in [(rise, rise_by), (fall, fall_by)] {
            let t = at(i) + chrono::Duration::minutes(by);
            let a = &mut p["groups"][web]["scheduled_actions"][i];
            a["start_time"] = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into();
            a["name"] = format!("prescale-floor-{}", t.format("%Y%m%dT%H%MZ")).into();
        }
        std::fs::write(&path, serde_json::to_string_pretty(&p).unwrap()).unwrap();
        ok(prescale().args(["--config", "demo", "apply", "--group", "web-prod", "--out"]).arg(&out))
    };
    let text = moved(10, -10);
    assert!(
        text.contains("note: 2 planned floors not written: the group holds them already, or one up to 15 min")
            && text.contains("no changes"),
        "{text}"
    );
    let text = moved(-10, 10);
    assert!(
        !text.contains("planned floors not written") && text.matches("+ action prescale-floor-").count() == 2,
        "{text}"
    );
}

#[test]
fn apply_refuses_a_plan_file_that_prescale_plan_could_not_have_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    ok(prescale().args(["nightly", "--out"]).arg(&out));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let web = plan["groups"].as_array().unwrap().iter().position(|g| g["group"] == "web-prod").unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("stale", Box::new(|p| p["created_at"] = "2026-11-20T00:00:00Z".into()), "h before now"),
        ("unknown group", Box::new(move |p| p["groups"][web]["group"] = "legacy".into()), "is not in"),
        (
            "bounds of another group",
            Box::new(move |p| p["groups"][web]["bounds"] = serde_json::json!({"min": 0, "max": 6})),
            "the plan was made for min 0 and max 6",
        ),
        (
            "floor below min_size",
            Box::new(move |p| p["groups"][web]["scheduled_actions"][0]["min_size"] = 0.into()),
            "below the group's min_size 4",
        ),
        (
            "someone else's action",
            Box::new(move |p| p["groups"][web]["scheduled_actions"][0]["name"] = "team-batch".into()),
            "is not named prescale-",
        ),
        (
            "an alarm on another group",
            Box::new(move |p| {
                p["groups"][web]["alarms"][0]["dimensions"]["AutoScalingGroupName"] = "worker-dev".into();
            }),
            "watches group \"worker-dev\"",
        ),
        (
            "a target tracking's target",
            Box::new(move |p| p["groups"][web]["policies"][0]["target_value"] = 1e12.into()),
            "tracks ASGAverageCPUUtilization = 1000000000000, not as",
        ),
        (
            "a step out that removes",
            Box::new(move |p| p["groups"][web]["policies"][1]["steps"][0]["adjustment"] = (-50).into()),
            "policy \"prescale-step-out\" scales by PercentChangeInCapacity in 5 steps, not as",
        ),
        (
            "an alarm on another metric",
            Box::new(move |p| {
                p["groups"][web]["alarms"][0]["namespace"] = "Custom/Whatever".into();
                p["groups"][web]["alarms"][0]["treat_missing_data"] = "breaching".into();
            }),
            "watches Custom/Whatever CPUUtilization Average",
        ),
        (
            "a duplicated group",
            Box::new(move |p| {
                let g = p["groups"][web].clone();
                p["groups"].as_array_mut().unwrap().push(g);
            }),
            "twice",
        ),
    ];
    let before = std::fs::read_dir(&out).unwrap().count();
    for (what, edit, says) in cases {
        let mut p = plan.clone();
        edit(&mut p);
        let path = tmp.path().join("edited.json");
        std::fs::write(&path, serde_json::to_string(&p).unwrap()).unwrap();
        let (code, _, err) = run(prescale()
            .args(["--config", "demo", "apply", "--execute", "--out"])
            .arg(&out)
            .arg("--plan")
            .arg(&path));
        assert_eq!(code, 1, "{what}: {err}");
        assert!(err.contains(says) && err.contains("run `prescale plan` again"), "{what}: {err}");
    }
    // Nothing was applied: no stand-in state, no audit log.
    assert!(!out.join("demo-asg-state.json").exists() && !out.join("audit.jsonl").exists());
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), before);
    // The plan as written applies, and is what prescale wrote under its id.
    let edited_said = "is not what prescale wrote under its id";
    let (code, _, err) = run(prescale().args(["apply", "--out"]).arg(&out));
    assert!(code == 0 && !err.contains(edited_said), "{err}");
    // A floor raised by hand applies as edited, said; the copy kept as applied holds it.
    let mut p = plan.clone();
    let first = p["groups"][web]["scheduled_actions"][0]["min_size"].as_u64().unwrap() + 1;
    p["groups"][web]["scheduled_actions"][0]["min_size"] = first.into();
    let path = tmp.path().join("edited.json");
    std::fs::write(&path, serde_json::to_string(&p).unwrap()).unwrap();
    let (code, _, err) =
        run(prescale().args(["--config", "demo", "apply", "--execute", "--out"]).arg(&out).arg("--plan").arg(&path));
    assert!(code == 0 && err.contains(edited_said), "{err}");
    // Under a name of its own beside the id (the plan as written would keep `ID.json`).
    let id = plan["plan_id"].as_str().unwrap();
    let names: Vec<String> = std::fs::read_dir(out.join("applied"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() == 1 && names[0].starts_with(&format!("{id}-edited-")), "{names:?}");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("applied").join(&names[0])).unwrap()).unwrap();
    assert_eq!(kept["groups"][web]["scheduled_actions"][0]["min_size"], first);
}

#[test]
fn a_plan_that_raises_max_size_for_a_peak_is_applied_and_converges() {
    // web-prod's peak needs about 31 instances; with max_size 20 and max_breach = "raise", its
    // plan raises MaxSize for the peak and puts it back: apply's plan checks accept what the
    // planner writes, and a second run changes nothing.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = demo_config_text().replacen(
        "max_size = 60",
        "max_size = 20\nmax_breach = \"raise\"\nmax_breach_buffer = 20",
        1,
    );
    let cfg_path = tmp.path().join("prescale.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let out = tmp.path().join("out");
    let nightly = || {
        ok(prescale().arg("--config").arg(&cfg_path).arg("--out").arg(&out).args([
            "--now",
            "2026-11-23T00:00:00Z",
            "nightly",
            "--execute",
        ]))
    };
    let text = nightly();
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let web = plan["groups"].as_array().unwrap().iter().find(|g| g["group"] == "web-prod").unwrap();
    assert_eq!(web["raised_max"], 40, "{text}");
    let raised = web["scheduled_actions"].as_array().unwrap().iter().filter(|a| a["max_size"] == 40).count();
    assert!(raised > 0, "{web}");
    let text = nightly();
    assert_eq!(text.matches("no changes: the group already matches the plan").count(), 3, "{text}");
}

/// A peak under way that the plan still sees, its raise run (the group at the raised MaxSize,
/// the plan's first action what the group holds already): the put-back after it is written as
/// planned, not kept from cutting the group; once the event is removed, it is.
#[test]
fn a_raise_under_way_is_put_back_as_planned_and_kept_once_the_plan_no_longer_sees_its_peak() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = demo_config_text().replacen("[apply]", "[trust]\nmax_data_age_mins = 1200\n\n[apply]", 1).replacen(
        "capacity_per_instance = 2500.0",
        "capacity_per_instance = 2500.0\nmax_breach = \"raise\"\nmax_breach_buffer = 40",
        1,
    );
    let cfg_path = tmp.path().join("prescale.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let out = tmp.path().join("out");
    let at = |now: &str, args: &[&str]| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg_path).arg("--out").arg(&out).args(["--now", now]).args(args);
        c
    };
    ok(at("2026-11-23T00:00:00Z", &["event", "add", "--group", "web-prod", "--name", "sale"]).args([
        "--start",
        "2026-11-23T10:00:00Z",
        "--end",
        "2026-11-23T16:00:00Z",
        "--multiplier",
        "5",
    ]));
    ok(&mut at("2026-11-23T00:00:00Z", &["nightly", "--execute", "--group", "web-prod"]));
    let web = || -> serde_json::Value {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("demo-asg-state.json")).unwrap()).unwrap();
        state.as_array().unwrap().iter().find(|g| g["group"] == "web-prod").unwrap().clone()
    };
    // At 11:00 the stand-in has run the sale's raise: MinSize and MaxSize 100, 100 running.
    let (code, text, err) = run(&mut at("2026-11-23T11:00:00Z", &["nightly", "--execute", "--group", "web-prod"]));
    assert_eq!(code, 0, "{text}\n{err}");
    let g = web();
    assert_eq!((g["bounds"]["max"].as_u64(), g["desired"].as_u64()), (Some(100), Some(100)), "{g}");
    assert!(!err.contains("not set: the group runs"), "{err}");
    let first = &g["scheduled_actions"][0];
    assert_eq!(
        (first["start_time"].as_str(), first["max_size"].as_u64()),
        (Some("2026-11-23T16:00:00Z"), Some(60)),
        "{g}"
    );
    // The sale taken away during it: nothing sets a MaxSize under the 100 the group runs, said.
    ok(&mut at("2026-11-23T11:00:00Z", &["event", "remove", "--group", "web-prod", "--name", "sale"]));
    let (code, text, err) = run(&mut at("2026-11-23T11:00:00Z", &["nightly", "--execute", "--group", "web-prod"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(err.contains("prescale raised for a peak this plan no longer sees"), "{err}");
    let g = web();
    let cutting = g["scheduled_actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["max_size"].as_u64().is_some_and(|m| m < 100))
        .count();
    assert_eq!(cutting, 0, "{g}");
}

#[test]
fn a_group_maxsize_below_the_floors_is_said_on_stderr_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    ok(prescale().args(["--config", "demo", "nightly", "--execute", "--out"]).arg(&out));
    // Someone lowers web-prod's MaxSize by hand, under the floors prescale scheduled.
    let path = out.join("demo-asg-state.json");
    let mut state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for g in state.as_array_mut().unwrap() {
        if g["group"] == "web-prod" {
            g["bounds"]["max"] = serde_json::json!(10);
        }
    }
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    // The plan cannot work on it as written: every run says so and fails, the others applied.
    for _ in 0..2 {
        let (code, _, err) = run(prescale().args(["--config", "demo", "nightly", "--execute", "--out"]).arg(&out));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("web-prod: the group's MaxSize is 10, below floors of up to"), "{err}");
        assert!(err.contains("1 group cannot take its plan as written:\n  web-prod: the group's MaxSize"), "{err}");
    }
}

#[test]
fn a_load_on_local_office_hours_keeps_its_rise_across_daylight_saving_on_the_local_clock_in_plans_forecasts_and_backtests()
 {
    use chrono::{Duration, TimeZone, Timelike, Utc};
    let tmp = tempfile::tempdir().unwrap();
    // Five weeks of 5-minute load, 20,000 from 07:30 to 18:00 New York time and 2,000 otherwise;
    // New York's summer time begins on 2027-03-14, so the rise moves from 12:30 to 11:30 UTC.
    let zone: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let start = Utc.with_ymd_and_hms(2027, 2, 10, 0, 0, 0).unwrap();
    let now = Utc.with_ymd_and_hms(2027, 3, 17, 0, 0, 0).unwrap();
    let mut csv = String::from("ts,value\n");
    let mut t = start;
    let mut i = 0u64;
    while t < now {
        let local = t.with_timezone(&zone);
        let mins = local.hour() * 60 + local.minute();
        let base = if (450..1080).contains(&mins) { 20_000.0 } else { 2_000.0 };
        csv.push_str(&format!("{},{}\n", t.to_rfc3339(), base + ((i * 7919) % 200) as f64));
        t += Duration::minutes(5);
        i += 1;
    }
    std::fs::write(tmp.path().join("load.csv"), &csv).unwrap();
    // The last twelve days alone: a store younger than train_days.
    let cut = csv.find("\n2027-03-05T00:00:00+00:00,").unwrap();
    std::fs::write(tmp.path().join("short.csv"), format!("ts,value{}", &csv[cut..])).unwrap();
    let floor_at = |clock: &str, at: chrono::DateTime<Utc>| -> u64 {
        let (clock, file) = clock.split_once(' ').unwrap_or((clock, "load.csv"));
        let dir = tmp.path().join(format!("{clock}-{file}"));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("prescale.toml");
        std::fs::write(
            &cfg,
            format!(
                "[store]\ndir = \"store\"\n[ingest]\nsource = \"csv\"\nperiod_secs = 300\n[forecast]\nweekends = false\n\
                 [apply]\nsink = \"local\"\n[environments.prod]\nquantile = 0.9\ntarget_utilization = 0.7\n\
                 [[groups]]\nname = \"ny\"\nenvironment = \"prod\"\ntime_zone = \"America/New_York\"\n\
                 daily_clock = \"{clock}\"\nmin_size = 1\nmax_size = 100\nload_metric = \"requests\"\n\
                 capacity_per_instance = 1000.0\n[[groups.metrics]]\nname = \"requests\"\nfile = \"../{file}\"\n"
            ),
        )
        .unwrap();
        ok(prescale().arg("--config").arg(&cfg).arg("--out").arg(dir.join("out")).args([
            "--now",
            &now.to_rfc3339(),
            "nightly",
        ]));
        let plan: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("out/plan.json")).unwrap()).unwrap();
        plan["groups"][0]["scheduled_actions"]
            .as_array()
            .unwrap()
            .iter()
            .rfind(|a| a["start_time"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap() <= at)
            .and_then(|a| a["min_size"].as_u64())
            .unwrap_or(1)
    };
    // 11:50 UTC on the third day of summer time: the office is 20 minutes in.
    let at = Utc.with_ymd_and_hms(2027, 3, 17, 11, 50, 0).unwrap();
    let (utc, local) = (floor_at("utc", at), floor_at("local", at));
    assert!(local >= 25, "on the local clock the floor is up for the office: {local}");
    assert!(utc < local, "on UTC the rise is still learnt an hour later: {utc} against {local}");
    // By default (auto) the history's last week, three days of it in summer time, say the load
    // follows New York's clocks; the plan says how it chose.
    assert_eq!(floor_at("auto", at), local, "auto takes the local clock here");
    let decisions = std::fs::read_to_string(tmp.path().join("auto-load.csv/out/plan.json")).unwrap();
    assert!(decisions.contains("the forecast learnt the daily cycle on America/New_York's clock: fitted without"));
    // On UTC the plan says the change lies in the history the forecast learnt from: train_days
    // (28) of it, or the twelve days a younger store holds.
    let said = |dir: &str| std::fs::read_to_string(tmp.path().join(dir).join("out/plan.json")).unwrap();
    assert!(said("utc-load.csv").contains("the history the forecast learnt from (28 days) crosses a daylight-saving"));
    floor_at("utc short.csv", at);
    assert!(said("utc-short.csv").contains("the history the forecast learnt from (12 days) crosses a daylight-saving"));
    // The same file forecast and backtested ad hoc, in the zone and on its clock.
    let file = tmp.path().join("load.csv");
    let zone_args = ["--time-zone", "America/New_York", "--daily-clock", "local"];
    let mean_at = |extra: &[&str]| -> f64 {
        let csv = ok(prescale().args(["forecast", "show", "--input"]).arg(&file).args(["--format", "csv"]).args(extra));
        let row = csv.lines().find(|l| l.starts_with("2027-03-17T11:50:00Z,")).unwrap_or_else(|| panic!("{csv}"));
        row.split(',').nth(1).unwrap().parse().unwrap()
    };
    let (utc, local) = (mean_at(&[]), mean_at(&zone_args));
    assert!(local > 15_000.0 && utc < 5_000.0, "forecast show at 11:50 UTC: {utc} on UTC, {local} on the local clock");
    let auto = mean_at(&["--time-zone", "America/New_York"]);
    assert!(auto > 15_000.0, "forecast show in the zone, its clock by default (auto): {auto}");
    // The hour the clocks skipped is the clock's gap, not the data's: nothing to warn about.
    let (_, _, err) = run(prescale().args(["forecast", "show", "--input"]).arg(&file).args(zone_args));
    assert!(!err.contains("missing slots"), "{err}");
    let mase = |extra: &[&str]| -> (f64, String) {
        let json = ok(prescale()
            .arg("--out")
            .arg(tmp.path().join("bt"))
            .args(["backtest", "--models", "profile", "--origins", "2", "--format", "json", "--input"])
            .arg(&file)
            .args(extra));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let m = &v[0]["models"][0];
        (m["mase"].as_f64().unwrap(), m["fitted"][0].as_str().unwrap().to_string())
    };
    let ((utc, utc_id), (local, local_id)) = (mase(&[]), mase(&zone_args));
    assert!(local_id.starts_with("local:") && !utc_id.starts_with("local:"), "{utc_id} / {local_id}");
    assert!(local < 0.6 * utc, "backtest MASE across the change: {utc} on UTC, {local} on the local clock");
    let (code, _, err) =
        run(prescale().args(["forecast", "show", "--input"]).arg(&file).args(["--daily-clock", "local"]));
    assert!(code == 1 && err.contains("the following required arguments were not provided:\n  --time-zone"), "{err}");
    let (code, _, err) = run(prescale().args(["forecast", "show", "--input"]).arg(&file).args(["--time-zone", "EDT"]));
    assert!(code == 1 && err.contains("--time-zone \"EDT\" is not an IANA time zone name"), "{err}");
}

#[test]
fn zone_flags_are_refused_where_they_would_be_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["forecast", "show", "--group", "web-prod", "--time-zone", "Europe/Dublin"][..],
        &["backtest", "--group", "web-prod", "--time-zone", "Europe/Dublin"][..],
        &["simulate", "--group", "web-prod", "--time-zone", "Europe/Dublin"][..],
    ] {
        let (code, _, err) = run(prescale().args(args).arg("--out").arg(tmp.path()));
        assert!(
            code == 1 && err.contains("--time-zone, --daily-clock and --file-time-zone are for --input"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_file_in_local_wall_clock_time_is_read_in_its_zone_with_file_time_zone() {
    // Ten days of hourly load over Berlin's spring change, written once with UTC instants and once
    // in Berlin wall-clock time without offsets (02:00 on 28 March does not exist there).
    use chrono::{TimeZone, Utc};
    let tmp = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2027, 3, 22, 0, 0, 0).unwrap();
    let load = |h: i64| 500.0 + 300.0 * ((h % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + (h % 7) as f64;
    let (mut utc, mut local) = (String::from("ts,value\n"), String::from("ts,value\n"));
    for h in 0..240 {
        let t = start + chrono::Duration::hours(h);
        utc += &format!("{},{}\n", t.format("%Y-%m-%dT%H:%M:%SZ"), load(h));
        local += &format!("{},{}\n", t.with_timezone(&chrono_tz::Europe::Berlin).format("%Y-%m-%dT%H:%M:%S"), load(h));
    }
    let (a, b) = (tmp.path().join("utc.csv"), tmp.path().join("berlin.csv"));
    std::fs::write(&a, utc).unwrap();
    std::fs::write(&b, local).unwrap();
    let show = |file: &Path, extra: &[&str]| {
        ok(prescale().args(["forecast", "show", "--horizon", "6h", "--format", "csv", "--input"]).arg(file).args(extra))
    };
    let zone = ["--file-time-zone", "Europe/Berlin"];
    assert_eq!(show(&b, &zone), show(&a, &[]), "the same instants, the same forecast");
    // Read as UTC, the stamps are an hour or two late and the forecast starts there.
    assert_ne!(show(&b, &[]).lines().nth(1), show(&a, &[]).lines().nth(1));
    // backtest and simulate read it the same way.
    let bt = |file: &Path, extra: &[&str]| {
        ok(prescale()
            .arg("--out")
            .arg(tmp.path().join("bt"))
            .args(["backtest", "--models", "profile", "--origins", "2", "--format", "json", "--input"])
            .arg(file)
            .args(extra))
    };
    assert_eq!(bt(&b, &zone), bt(&a, &[]).replace("utc.csv", "berlin.csv"));
    let sim = |file: &Path, extra: &[&str]| {
        let json = ok(prescale()
            .args(["simulate", "--policies", "reactive,oracle", "--format", "json", "--input"])
            .arg(file)
            .args(extra));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        (v["trace"]["start"].clone(), v["policies"].clone())
    };
    assert_eq!(sim(&b, &zone), sim(&a, &[]));
    let (code, _, err) =
        run(prescale().args(["forecast", "show", "--input"]).arg(&b).args(["--file-time-zone", "CET+1"]));
    assert!(code == 1 && err.contains("--file-time-zone \"CET+1\" is not an IANA time zone name"), "{err}");
}

#[test]
fn nightly_quiet_prints_a_line_per_group_for_a_cron_mail() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let text = ok(prescale().args(["nightly", "--quiet", "--out"]).arg(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[0].starts_with("web-prod: 48 floors ") && lines[0].ends_with("changes to apply (dry run)"), "{text}");
    // The whole run in a line: the groups' changes added up.
    let per_group: usize = lines[..3]
        .iter()
        .map(|l| l.rsplit("; ").next().unwrap().split(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(
        lines[3],
        format!(
            "3 groups: 3 planned (3 with floors, 0 on their reactive policy alone); {per_group} changes to apply (dry run)"
        )
    );
    // The plan's id, as the audit log's lines carry it, and its file.
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(lines[4], format!("plan {}: {}", plan["plan_id"].as_str().unwrap(), out.join("plan.json").display()));
    assert_eq!(lines[5], "dry run: nothing was changed; rerun with --execute to apply");
    assert!(out.join("plan.json").exists() && out.join("dry-run-changes.json").exists());
    ok(prescale().args(["--config", "demo", "nightly", "-q", "--execute", "--out"]).arg(&out));
    let again = ok(prescale().args(["--config", "demo", "nightly", "-q", "--execute", "--out"]).arg(&out));
    assert_eq!(again.lines().filter(|l| l.ends_with("; no changes")).count(), 3, "{again}");
    // Groups left out of the plan have their line too (the reason is on stderr as well).
    let (code, text, err) =
        run(prescale().args(["--config", "demo", "nightly", "-q", "--now", "2026-11-23T06:00:00Z", "--out"]).arg(&out));
    assert_eq!(code, 1, "{err}");
    let held: Vec<&str> =
        text.lines().filter(|l| l.ends_with("not planned, its floors in place left as they are")).collect();
    assert_eq!(held.len(), 3, "{text}\n{err}");
    assert!(held[0].starts_with("web-prod: "), "{text}");
}

#[test]
fn a_stale_forecast_leaves_its_group_out_of_the_plan_with_its_floors_in_place() {
    // `forecast fit` stopped while ingest went on: a plan from the forecast's last hours (or from
    // none, once it ended) would take the floors in place down. Left out, the run exits 1.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("prescale.toml");
    let trust = "[trust]\nmax_data_age_mins = 100000\nmax_forecast_age_hours = 6\n";
    std::fs::write(&cfg, format!("{}\n{trust}", demo_config_text())).unwrap();
    let out = tmp.path().join("out");
    let at = |now: &str, args: &[&str]| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg).arg("--out").arg(&out).args(["--now", now]).args(args);
        c
    };
    ok(&mut at("2026-11-23T00:00:00Z", &["ingest", "--group", "web-prod"]));
    ok(&mut at("2026-11-23T00:00:00Z", &["forecast", "fit", "--group", "web-prod"]));
    ok(&mut at("2026-11-23T05:00:00Z", &["plan", "--group", "web-prod"]));
    for (now, says) in [
        ("2026-11-23T07:00:00Z", "more than [trust] max_forecast_age_hours = 6"),
        ("2026-11-22T12:00:00Z", "after now"),
    ] {
        let (code, _, err) = run(&mut at(now, &["plan", "--group", "web-prod"]));
        assert!(code == 1 && err.contains("web-prod: ") && err.contains(says), "{now}: {err}");
        assert!(
            err.contains("floors in place left as they are") && err.contains("run `prescale forecast fit`"),
            "{err}"
        );
    }
    // Ended: held too (it was planned on the reactive policy alone, every floor taken down).
    std::fs::write(&cfg, format!("{}\n[trust]\nmax_data_age_mins = 100000\n", demo_config_text())).unwrap();
    let (code, _, err) = run(&mut at("2026-11-25T06:00:00Z", &["plan", "--group", "web-prod"]));
    assert!(code == 1 && err.contains("it is stale") && err.contains("left as they are"), "{err}");
    let text = demo_config_text() + "\n[trust]\nmax_forecast_age_hours = 0\n";
    std::fs::write(&cfg, text).unwrap();
    let (code, _, err) = run(&mut at("2026-11-23T00:00:00Z", &["plan"]));
    assert!(code == 1 && err.contains("max_forecast_age_hours = 0 must be a number of hours above 0"), "{err}");
    // Today's forecast (fitted by the clock) is not replaced by a look at yesterday in the same
    // store; a run on the clock replaces a forecast fitted at a later --now.
    std::fs::write(&cfg, demo_config_text()).unwrap();
    let now = chrono::Utc::now();
    let fit = |at_: Option<chrono::DateTime<chrono::Utc>>| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg).arg("--out").arg(&out);
        if let Some(t) = at_ {
            c.args(["--now", &t.to_rfc3339()]);
        }
        run(c.args(["forecast", "fit", "--group", "web-prod"]))
    };
    fit(None);
    let (_, _, err) = fit(Some(now - chrono::Duration::hours(12)));
    assert!(err.contains("kept rather than replaced by one from an earlier time"), "{err}");
    fit(Some(now + chrono::Duration::hours(30)));
    let (_, _, err) = fit(None);
    assert!(!err.contains("kept rather than replaced"), "a run on the clock is refused: {err}");
}

#[test]
fn execute_with_now_off_the_clock_is_refused_before_anything_runs() {
    // A stray PRESCALE_NOW in cron would write yesterday's schedule to the groups.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("prescale.toml");
    // Groups on Auto Scaling (an endpoint nothing answers on: nothing may be asked of it).
    let text = demo_config_text().replace("sink = \"local\"", "sink = \"autoscaling\"");
    std::fs::write(&cfg, text + "\n[aws]\nregion = \"us-east-1\"\n").unwrap();
    let out = tmp.path().join("out");
    for args in [&["nightly", "--execute"][..], &["apply", "--execute"]] {
        let (code, _, err) = run(prescale()
            .arg("--config")
            .arg(&cfg)
            .arg("--out")
            .arg(&out)
            .env("PRESCALE_NOW", "2026-11-23T00:00:00Z")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .args(args));
        assert!(code == 1 && err.contains("behind the clock") && err.contains("--allow-clock-skew"), "{err}");
        assert!(!tmp.path().join("store").exists() && !out.exists(), "something ran: {err}");
    }
}

#[test]
fn the_local_stand_ins_target_tracking_holds_what_the_latest_load_needs() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("prescale.toml");
    std::fs::write(&cfg, demo_config_text()).unwrap();
    let out = tmp.path().join("out");
    let night = |now: &str| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg).arg("--out").arg(&out).args(["-v", "--now", now, "nightly", "--execute"]);
        c.arg("--allow-clock-skew");
        run(&mut c)
    };
    let state_path = out.join("demo-asg-state.json");
    let web = |state: &serde_json::Value| {
        state.as_array().unwrap().iter().find(|g| g["group"] == "web-prod").cloned().unwrap()
    };
    let (code, text, err) = night("2026-11-21T12:00:00Z");
    assert_eq!(code, 0, "{text}\n{err}");
    // The first night put the target tracking policy; by the next run it holds what the load
    // of that moment needs at the target (prod: 2,500 per instance at 70 %; no planning
    // headroom: target tracking has none), within the bounds the floors that ran left.
    let (code, text, err) = night("2026-11-21T18:00:00Z");
    assert_eq!(code, 0, "{text}\n{err}");
    let store = prescale_store::MetricStore::for_reading(tmp.path().join("store"));
    let load = store.read(&prescale_core::MetricId::new("web-prod", "requests")).unwrap();
    let at = "2026-11-21T18:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let load = load.iter().find(|(t, _)| *t == at).map(|(_, v)| v).unwrap();
    let need = (load / (2500.0 * 0.7)).ceil() as u64;
    assert!(err.contains("web-prod: the local stand-in's target tracking holds"), "{err}");
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    let g = web(&state);
    // Within the bounds the floors that ran by 18:00 left (this run writes actions, not bounds).
    let (min, max, desired) =
        (g["bounds"]["min"].as_u64().unwrap(), g["bounds"]["max"].as_u64().unwrap(), g["desired"].as_u64().unwrap());
    assert_eq!(desired, need.clamp(min, max), "load {load}: {g}");
    // With AlarmNotification suspended, target tracking does nothing: the desired capacity stays.
    let mut state = state;
    for g in state.as_array_mut().unwrap().iter_mut().filter(|g| g["group"] == "web-prod") {
        g["suspended"] = serde_json::json!(["AlarmNotification"]);
        g["desired"] = serde_json::json!(max);
    }
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let (_, text, err) = night("2026-11-21T19:00:00Z");
    assert!(!err.contains("web-prod: the local stand-in's target tracking holds"), "{text}\n{err}");
    // Forward in time, nothing to say; a run at an earlier --now than the last that changed the
    // stand-in reads its groups as that run left them: said, with the way to start again.
    assert!(!err.contains("was last changed by a run as of"), "{err}");
    // (The plan itself is refused: the store's forecasts were fitted at 19:00.)
    let (_, _, err) = run(prescale().arg("--config").arg(&cfg).arg("--out").arg(&out).args([
        "--now",
        "2026-11-21T18:30:00Z",
        "plan",
    ]));
    assert!(
        err.contains(&format!(
            "the local stand-in {} was last changed by a run as of 2026-11-21 19:00 UTC, after this run's \
             2026-11-21 18:30 UTC",
            state_path.display()
        )) && err.contains("move")
            && err.matches("was last changed by a run").count() == 1,
        "{err}"
    );
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    assert_eq!(web(&state)["desired"].as_u64(), Some(max));
    // Running again, with its scale-in disabled (the step policy owning it), target tracking only
    // scales out: the group comes down only as far as the step-in alarm takes it, to where the
    // load per instance reaches the alarm's threshold.
    // The policies and alarms as a plan with `owns_scale_in` writes them (the default plan has
    // no step policy in beside target tracking's scale-in).
    let owns = tmp.path().join("owns.toml");
    let owning =
        demo_config_text().replacen("warmup_secs = 300 }", "warmup_secs = 300, step = { owns_scale_in = true } }", 1);
    assert_ne!(owning, demo_config_text());
    std::fs::write(&owns, owning).unwrap();
    let owns_out = tmp.path().join("owns-out");
    ok(prescale().arg("--config").arg(&owns).arg("--out").arg(&owns_out).args([
        "--now",
        "2026-11-21T19:00:00Z",
        "plan",
        "--group",
        "web-prod",
    ]));
    let planned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(owns_out.join("plan.json")).unwrap()).unwrap();
    let mut state = state;
    for g in state.as_array_mut().unwrap().iter_mut().filter(|g| g["group"] == "web-prod") {
        g["suspended"] = serde_json::json!([]);
        g["policies"] = planned["groups"][0]["policies"].clone();
        g["alarms"] = planned["groups"][0]["alarms"].clone();
        assert!(g["policies"].as_array().unwrap().iter().any(|p| p["disable_scale_in"] == true), "{g}");
    }
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let g = web(&state);
    let target =
        g["policies"].as_array().unwrap().iter().find(|p| p["type"] == "target_tracking").unwrap()["target_value"]
            .as_f64()
            .unwrap();
    let alarm = g["alarms"].as_array().unwrap().iter().find(|a| a["name"] == "prescale-web-prod-step-in").unwrap();
    let share = alarm["threshold"].as_f64().unwrap() / target;
    let (_, text, err) = night("2026-11-21T20:00:00Z");
    let load = store.read(&prescale_core::MetricId::new("web-prod", "requests")).unwrap();
    let at = "2026-11-21T20:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let load = load.iter().find(|(t, _)| *t == at).map(|(_, v)| v).unwrap();
    let need = (load / (2500.0 * 0.7)).ceil() as u64;
    let stops = (load / (2500.0 * 0.7 * share)).floor() as u64;
    assert!(max > stops && stops > need, "the test wants the step policy to stop above the need: {max} {stops} {need}");
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    assert_eq!(web(&state)["desired"].as_u64(), Some(stops.clamp(min, max)), "{text}\n{err}");
}

#[test]
fn a_file_named_on_a_metric_read_from_cloudwatch_is_said_not_to_be_read() {
    // A metric block copied from a group fed from files into one read from CloudWatch, its
    // namespace and metric_name given: the file is not read, and said.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("prescale.toml");
    let text =
        demo_config_text().replacen("name = \"api-staging\"\n", "name = \"api-staging\"\nsource = \"cloudwatch\"\n", 1);
    let at = text.find("name = \"api-staging\"").unwrap();
    let metric = at + text[at..].find("[[groups.metrics]]\nname = \"requests\"\n").unwrap();
    let text = format!(
        "{}[[groups.metrics]]\nname = \"requests\"\nnamespace = \"AWS/ApplicationELB\"\nmetric_name = \"RequestCount\"\n{}",
        &text[..metric],
        &text[metric + "[[groups.metrics]]\nname = \"requests\"\n".len()..]
    );
    std::fs::write(&cfg, text).unwrap();
    let (code, out, err) =
        run(prescale().arg("--config").arg(&cfg).arg("--store").arg(tmp.path().join("store")).args(["event", "list"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains("group \"api-staging\" metric \"requests\": its `file`")
            && err.contains("api-staging-requests.csv is not read: its source is \"cloudwatch\", so the metric is read from CloudWatch (AWS/ApplicationELB RequestCount)")
            && err.contains("hint: to read the file, set the group's `source = \"csv\"`"),
        "{err}"
    );
}

#[test]
fn a_series_whose_source_changes_kind_goes_on_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("prescale.toml");
    let good = demo_config_text();
    std::fs::write(&cfg, &good).unwrap();
    let ingest = || run(prescale().arg("--config").arg(&cfg).args(["--now", "2026-11-23T00:00:00Z", "ingest"]));
    let (code, _, err) = ingest();
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("its stored history came from"), "{err}");
    // The export moves to Parquet (here the stored series itself, a `ts,value` file).
    let stored = tmp.path().join("store/metrics/v1/web-prod/requests.parquet");
    let export = tmp.path().join("web-prod.parquet");
    std::fs::copy(&stored, &export).unwrap();
    let demo_file = format!("{}/data/demo/web-prod-requests.csv", env!("CARGO_MANIFEST_DIR"));
    let moved = good.replacen(&demo_file, &export.display().to_string(), 1).replacen(
        "name = \"web-prod\"\n",
        "name = \"web-prod\"\nsource = \"parquet\"\n",
        1,
    );
    std::fs::write(&cfg, moved).unwrap();
    let (code, text, err) = ingest();
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        err.contains("web-prod/requests: its stored history came from csv, this run's samples from parquet"),
        "{err}"
    );
    assert_eq!(err.matches("its stored history came from").count(), 1, "only the series that moved: {err}");
}

#[test]
fn a_long_export_is_fitted_on_the_training_window_and_its_warnings_reach_the_json() {
    // Four weeks more at three times the level in front of the demo's four weeks: fitted on the
    // last 28 days, as `forecast fit` fits, the forecast is the same as the four weeks' alone
    // (the older weeks used to reach it through the weekends learnt on the whole file).
    let tmp = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/web-prod-requests.csv");
    let text = std::fs::read_to_string(&demo).unwrap();
    let rows: Vec<(chrono::DateTime<chrono::Utc>, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let (t, v) = l.split_once(',').unwrap();
            (t.parse().unwrap(), v.parse().unwrap())
        })
        .collect();
    let mut long = String::from("ts,value\n");
    for (t, v) in &rows {
        long.push_str(&format!("{},{}\n", (*t - chrono::Duration::days(28)).format("%Y-%m-%dT%H:%M:%SZ"), v * 3.0));
    }
    for (t, v) in &rows {
        long.push_str(&format!("{},{v}\n", t.format("%Y-%m-%dT%H:%M:%SZ")));
    }
    let file = tmp.path().join("long.csv");
    std::fs::write(&file, long).unwrap();
    let csv = |input: &Path| ok(prescale().args(["forecast", "show", "--format", "csv", "--input"]).arg(input));
    assert_eq!(csv(&file), csv(&demo));
    let json: serde_json::Value =
        serde_json::from_str(&ok(prescale().args(["forecast", "show", "--format", "json", "--input"]).arg(&file)))
            .unwrap();
    let repairs = json["input_repairs"].to_string();
    assert!(repairs.contains("fitted on its last 28 days") && repairs.contains("8064 slots before"), "{repairs}");
    // A tenth of the values below zero (a sign flipped on every tenth sample): fitted as they
    // are, and said on stderr and in the JSON's warnings.
    let flipped: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| match l.split_once(',') {
            Some((t, v)) if i > 0 && i % 10 == 0 => format!("{t},-{v}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    let neg = tmp.path().join("neg.csv");
    std::fs::write(&neg, flipped).unwrap();
    let (code, out, err) = run(prescale().args(["forecast", "show", "--format", "json", "--input"]).arg(&neg));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("values are below zero, more than one in twenty"), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(json["warnings"].to_string().contains("below zero, more than one in twenty"), "{json}");
    // `backtest --format json` carries each model's warnings too (of its fit at the latest origin).
    let short = tmp.path().join("short.csv");
    std::fs::write(&short, text.lines().take(1200).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let json: serde_json::Value = serde_json::from_str(&ok(prescale()
        .args(["backtest", "--models", "auto", "--format", "json", "--input"])
        .arg(&short)))
    .unwrap();
    let warnings = json[0]["models"][0]["warnings"].to_string();
    assert!(warnings.contains("less than two weeks") && warnings.contains("rough guess"), "{json}");
    // Parquet on standard input: the hint is one that can be followed.
    let parquet = tmp.path().join("long.parquet");
    ok(prescale().args(["simulate", "--policies", "reactive", "--input"]).arg(&demo).arg("--timeseries").arg(&parquet));
    let mut child = prescale()
        .args(["forecast", "show", "--input", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(&parquet).unwrap();
    // The tool stops at the first bytes: the rest of the pipe may be refused.
    let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), &bytes);
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(
        done.status.code() == Some(1) && err.contains("Parquet is not read from a pipe: write it to a file"),
        "{err}"
    );
}

#[test]
fn fit_metrics_plan_fits_only_the_load_the_plans_read() {
    let tmp = tempfile::tempdir().unwrap();
    // web-prod with a second metric beside its load.
    let text = demo_config_text().replacen(
        "file = \"",
        &format!(
            "file = \"{}/data/demo/api-staging-requests.csv\"\n\n[[groups.metrics]]\nname = \"requests\"\nfile = \"",
            env!("CARGO_MANIFEST_DIR")
        ),
        1,
    );
    let text = text.replacen("name = \"requests\"", "name = \"queue\"", 1);
    // Each with its own store (a configuration's store is beside it), at the demo files' end.
    let at = |dir: &Path| {
        let mut c = prescale();
        c.arg("--config").arg(dir.join("p.toml")).arg("--out").arg(dir).args(["--now", "2026-11-23T00:00:00Z"]);
        c
    };
    let run_with = |fit: &str| {
        let dir = tmp.path().join(fit);
        std::fs::create_dir_all(&dir).unwrap();
        let text = text.replacen("[forecast]", &format!("[forecast]\nfit_metrics = \"{fit}\""), 1);
        std::fs::write(dir.join("p.toml"), text).unwrap();
        ok(at(&dir).arg("ingest"));
        ok(at(&dir).args(["forecast", "fit", "--group", "web-prod"]));
        dir
    };
    let all = run_with("all");
    let table = ok(at(&all).args(["forecast", "show", "--group", "web-prod", "--metric", "queue", "--horizon", "1h"]));
    assert!(table.contains(" hi95 "), "{table}");
    // The load is fitted and planned from; the other metric is not fitted, and asking for it says why.
    let plan = run_with("plan");
    ok(at(&plan).args(["forecast", "show", "--group", "web-prod"]));
    let (code, _, err) = run(at(&plan).args(["forecast", "show", "--group", "web-prod", "--metric", "queue"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("fit_metrics = \"plan\"") && err.contains("fits only the load the plan reads (requests)"),
        "{err}"
    );
    let (code, out, err) = run(at(&plan).args(["plan", "--group", "web-prod"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("web-prod"), "{out}");
    // A forecast fitted before the switch to "plan" is shown as what it is: not refitted since.
    let switched = std::fs::read_to_string(all.join("p.toml")).unwrap().replace("\"all\"", "\"plan\"");
    std::fs::write(all.join("p.toml"), switched).unwrap();
    let (code, _, err) = run(at(&all).args(["forecast", "show", "--group", "web-prod", "--metric", "queue"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("web-prod/queue: a forecast fitted 2026-") && err.contains("not refitted since"), "{err}");
}

/// `OUT/applied/` keeps the newest 60 copies, and every copy of the last two weeks however many
/// (the events-lost check reads each group's last applied plan among them): a run that changes
/// something removes the oldest copies beyond 60 that are older than that.
#[test]
fn applied_plans_beyond_the_newest_sixty_are_pruned_but_not_those_of_the_last_two_weeks() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let nightly = |now: &str| {
        ok(prescale().args(["--config", "demo", "--out"]).arg(&out).args(["--now", now, "nightly", "--execute"]))
    };
    nightly("2026-11-23T00:00:00Z");
    let applied = out.join("applied");
    let month_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 86_400);
    let copy = |name: &str, old: bool| {
        let path = applied.join(name);
        std::fs::write(&path, "{}").unwrap();
        if old {
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(month_ago).unwrap();
        }
        path
    };
    // Sorted by name (their plan ids' times) these come first, but were written this week.
    let recent: Vec<_> = (0..10).map(|i| copy(&format!("20260901T0000Z-000000{i:02}.json"), false)).collect();
    let stale: Vec<_> = (0..60).map(|i| copy(&format!("20261001T0000Z-000000{i:02}.json"), true)).collect();
    let other = copy("notes.json", true);
    // A run an hour later changes the floors: it keeps its copy and prunes.
    nightly("2026-11-23T01:00:00Z");
    assert!(recent.iter().all(|p| p.exists()), "a copy of the last two weeks was removed");
    let left = stale.iter().filter(|p| p.exists()).count();
    assert!((50..60).contains(&left), "{left} of the 60 month-old copies left");
    assert!(stale[59].exists() && !stale[0].exists(), "the oldest go first");
    assert!(other.exists(), "a file of another name stays");
}

/// An operator's pause keeps every run off a group until it ends or a resume: `nightly` and an
/// `apply` of a plan made before it leave the group as it is (warned, exit 0); `apply --revert
/// --floors-only` takes prescale's floors down and keeps its policies; a resume plans it again.
#[test]
fn a_paused_group_is_left_as_it_is_by_every_run_until_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let demo = |args: &[&str]| {
        let mut c = prescale();
        c.arg("--out").arg(&out).args(["--config", "demo"]).args(args);
        c
    };
    let state = |group: &str| -> serde_json::Value {
        let all: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("demo-asg-state.json")).unwrap()).unwrap();
        all.as_array().unwrap().iter().find(|g| g["group"] == group).unwrap().clone()
    };
    let floors = |g: &serde_json::Value| {
        g["scheduled_actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["name"].as_str().unwrap().starts_with("prescale-"))
            .count()
    };
    ok(&mut demo(&["nightly", "--execute"]));
    let before = state("web-prod");
    assert!(floors(&before) > 0 && !before["policies"].as_array().unwrap().is_empty());
    let text = ok(&mut demo(&["pause", "--group", "web-prod", "--reason", "incident 42"]));
    assert!(text.contains("paused web-prod until 2026-11-24 00:00 UTC"), "{text}");
    assert!(text.contains(" apply --revert --floors-only --group web-prod --execute"), "{text}");
    assert!(
        ok(&mut demo(&["pause"]))
            .contains("web-prod  until 2026-11-24 00:00 UTC  since 2026-11-23 00:00 UTC  incident 42")
    );
    ok(&mut demo(&["apply", "--revert", "--floors-only", "--group", "web-prod", "--execute"]));
    let reverted = state("web-prod");
    assert_eq!(floors(&reverted), 0, "{reverted}");
    assert_eq!(reverted["policies"], before["policies"], "--floors-only keeps the policies");
    // The plan made before the pause, applied: web-prod is left out, said.
    let said = "web-prod: paused until 2026-11-24 00:00 UTC (since 2026-11-23 00:00 UTC, \"incident 42\"): not planned";
    let (code, text, err) = run(&mut demo(&["apply", "--execute"]));
    assert!(code == 0 && err.contains(said), "{text}\n{err}");
    assert_eq!(state("web-prod"), reverted);
    let (code, text, err) = run(&mut demo(&["nightly", "--execute"]));
    assert!(code == 0 && err.contains(said), "{text}\n{err}");
    assert_eq!(state("web-prod"), reverted);
    // Every group paused: nothing planned or changed, the plan file left, exit 0 (with --strict too).
    let plan_before = std::fs::read(out.join("plan.json")).unwrap();
    ok(&mut demo(&["pause", "--all", "--for", "2h"]));
    let (code, text, err) = run(&mut demo(&["nightly", "--execute", "--strict", "--quiet"]));
    assert!(code == 0 && text.contains("every group this run would plan is paused"), "{text}\n{err}");
    assert!(text.contains("api-staging: paused until 2026-11-23 02:00 UTC; not planned"), "{text}");
    assert_eq!(std::fs::read(out.join("plan.json")).unwrap(), plan_before);
    ok(&mut demo(&["resume", "--group", "api-staging", "--group", "worker-dev"]));
    // Resumed: planned and applied again.
    assert!(ok(&mut demo(&["resume", "--group", "web-prod"])).contains("resumed web-prod"));
    let (code, text, err) = run(&mut demo(&["nightly", "--execute"]));
    assert!(code == 0 && !err.contains("paused"), "{text}\n{err}");
    assert!(floors(&state("web-prod")) > 0);
}

/// A MinSize raised by hand above what prescale's floors last set (an incident's surge) is said,
/// with the floor that lowers it and what holds capacity up instead.
#[test]
fn a_min_size_raised_by_hand_is_said_before_a_floor_lowers_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let demo = |now: &str, args: &[&str]| {
        let mut c = prescale();
        c.arg("--out").arg(&out).args(["--config", "demo", "--now", now]).args(args);
        c
    };
    ok(&mut demo("2026-11-23T00:00:00Z", &["nightly", "--execute"]));
    // Six hours on: the stand-in runs the floors due by then, as Auto Scaling would.
    ok(&mut demo("2026-11-23T06:00:00Z", &["apply", "--execute", "--allow-clock-skew"]));
    let said = "web-prod: MinSize is 55, above what prescale's runs last set";
    let (_, _, err) = run(&mut demo("2026-11-23T06:00:00Z", &["apply"]));
    assert!(!err.contains("MinSize is"), "{err}");
    let path = out.join("demo-asg-state.json");
    let mut state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let web = state.as_array_mut().unwrap().iter_mut().find(|g| g["group"] == "web-prod").unwrap();
    web["bounds"]["min"] = 55.into();
    web["desired"] = 55.into();
    std::fs::write(&path, serde_json::to_string(&state).unwrap()).unwrap();
    let (code, text, err) = run(&mut demo("2026-11-23T06:00:00Z", &["apply"]));
    assert!(
        code == 0
            && err.contains(said)
            && err.contains("sets it to ")
            && err.contains("--floors-only --keep-bounds --group web-prod"),
        "{text}\n{err}"
    );
    assert!(!err.contains("api-staging: MinSize is"), "{err}");
}
