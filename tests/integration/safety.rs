//! Guardrails, the audit log and revert through the `prescale` binary, on the demo's data and
//! the local stand-in groups (the same commands against Auto Scaling are in `aws.rs`).

use std::path::{Path, PathBuf};

use crate::common::{assert_configs_refused, ok, prescale, run};

/// The demo configuration with absolute data paths and `extra` appended, in `dir`.
fn demo_config(dir: &Path, extra: &str) -> PathBuf {
    let text = crate::common::demo_config_text();
    let p = dir.join("prescale.toml");
    std::fs::write(&p, format!("{text}\n{extra}\n")).unwrap();
    p
}

/// A folder with the demo configuration (as it is) and its `out`: (folder, configuration, out).
fn demo_run() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, out) = (demo_config(tmp.path(), ""), tmp.path().join("out"));
    (tmp, cfg, out)
}

/// [`demo_run`] after a `nightly --execute`: prescale's floors, policies and alarms on every group.
fn demo_applied() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, cfg, out) = demo_run();
    ok(&mut cmd(&cfg, &out, &["nightly", "--execute"]));
    (tmp, cfg, out)
}

fn cmd(cfg: &Path, out: &Path, args: &[&str]) -> std::process::Command {
    let mut c = prescale();
    c.arg("--config").arg(cfg).arg("--out").arg(out).args(["--now", "2026-11-23T00:00:00Z"]).args(args);
    c
}

/// `nightly --execute --quiet` started, its output piped, for a test to act on while it runs.
fn nightly_in_background(cfg: &Path, out: &Path) -> std::process::Child {
    cmd(cfg, out, &["nightly", "--execute", "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (up to five minutes) until `path` exists: a run in the background got that far.
fn wait_for(path: &Path) {
    let started = std::time::Instant::now();
    while !path.exists() {
        assert!(started.elapsed() < std::time::Duration::from_secs(300), "{} never came", path.display());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_plan_that_breaks_a_guardrail_is_refused_unless_overridden_and_the_override_is_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // A plan made without guardrails: web-prod's floor rises by up to 5 at once, to 37.
    let free = demo_config(tmp.path(), "");
    ok(&mut cmd(&free, &out, &["nightly"]));
    let plan_before = std::fs::read_to_string(out.join("plan.json")).unwrap();

    let guarded = demo_config(tmp.path(), "[guardrails]\nmax_step_up = 3\n");
    let (code, text, err) = run(&mut cmd(&guarded, &out, &["apply", "--execute"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("breaks") && err.contains("nothing was applied"), "{err}");
    assert!(err.contains("group web-prod: action prescale-floor-") && err.contains("max_step_up = 3"), "{err}");
    assert!(err.contains("--allow-guardrail-breach"), "{err}");
    assert!(!out.join("demo-asg-state.json").exists() && !out.join("audit.jsonl").exists());
    // A dry run is refused the same way: it says what --execute would do.
    let (code, _, _) = run(&mut cmd(&guarded, &out, &["apply"]));
    assert_eq!(code, 1);

    // Overridden: applied, each change's audit line names the breaches it was allowed.
    let (code, text, err) = run(&mut cmd(&guarded, &out, &["apply", "--execute", "--allow-guardrail-breach"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(err.contains("guardrail overridden"), "{err}");
    let audit: Vec<serde_json::Value> = std::fs::read_to_string(out.join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!audit.is_empty());
    let plan: serde_json::Value = serde_json::from_str(&plan_before).unwrap();
    for e in &audit {
        assert_eq!(e["run"], "apply");
        assert_eq!(e["plan_id"], plan["plan_id"]);
        assert_eq!(e["op"], "create");
        assert!(e["before"].is_null() && e["after"]["name"].as_str().unwrap().starts_with("prescale-"), "{e}");
        assert!(e["guardrail_overrides"][0].as_str().unwrap().contains("max_step_up = 3"), "{e}");
    }

    // The planner keeps to the limit by itself: it ramps earlier, and apply accepts its plan.
    let text = ok(&mut cmd(&guarded, &out, &["plan", "--group", "web-prod"]));
    assert!(text.contains("ramped floor rises in steps of at most 3"), "{text}");
    let (code, text, err) = run(&mut cmd(&guarded, &out, &["apply", "--execute"]));
    assert_eq!(code, 0, "{text}\n{err}");
    // Its changes replace the earlier floors: before and after both recorded.
    let audit = std::fs::read_to_string(out.join("audit.jsonl")).unwrap();
    let replaced = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["op"] == "replace")
        .expect("a replaced floor");
    assert_ne!(replaced["before"]["min_size"], replaced["after"]["min_size"]);
    assert_eq!(replaced["before"]["name"], replaced["after"]["name"]);

    // A plan file edited past a group's ceiling (max_size 60) and the fleet limit is refused too.
    let edited = plan_before.replacen("\"min_size\": ", "\"min_size\": 9", 1);
    let edited_path = tmp.path().join("edited.json");
    std::fs::write(&edited_path, edited).unwrap();
    let fleet = demo_config(tmp.path(), "[guardrails]\nmax_fleet_size = 40\n");
    let (code, _, err) =
        run(&mut cmd(&fleet, &out, &["apply", "--plan", edited_path.to_str().unwrap(), "--group", "web-prod"]));
    assert_eq!(code, 1);
    assert!(err.contains("above its configured ceiling 60"), "{err}");
    assert!(err.contains("more than [guardrails] max_fleet_size = 40: web-prod 9"), "{err}");
    let (code, _, err) = run(&mut cmd(&fleet, &out, &["apply", "--group", "nope"]));
    assert_eq!(code, 1);
    assert!(err.contains("group \"nope\" is not in the plan"), "{err}");

    // The first floor to run is judged against what the group runs when apply reads it. A plan
    // made while web-prod ran 7 (worker-dev 3) opens at 7 (3); applied once they run 4 (0) again,
    // their MinSize and desired capacity in the stand-in, the jump is said, and written.
    let tight = demo_config(tmp.path(), "[guardrails]\nmax_step_up = 2\n");
    let state_path = out.join("demo-asg-state.json");
    // The stand-in's target tracking would hold what the load needs: without its policy the groups
    // run what is set here (each apply puts the policy back).
    let running = |web: u64, worker: u64| {
        let mut state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
        for g in state.as_array_mut().unwrap() {
            match g["group"].as_str() {
                Some("web-prod") => g["desired"] = web.into(),
                Some("worker-dev") => g["desired"] = worker.into(),
                _ => {}
            }
            g["policies"].as_array_mut().unwrap().retain(|p| p["type"] != "target_tracking");
        }
        std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    };
    running(7, 3);
    ok(&mut cmd(&tight, &out, &["plan"]));
    running(4, 0);
    let (code, text, err) = run(&mut cmd(&tight, &out, &["apply"]));
    assert_eq!(code, 0, "{text}\n{err}");
    let said = "guardrail max_step_up at the first floor: action prescale-floor-20261123T0001Z raises the floor from \
                the 4 instances the group runs now (MinSize 4, desired 4) to 7 (+3), more than [guardrails] \
                max_step_up = 2; written all the same";
    assert!(text.contains(said) && err.contains(&format!("web-prod: {said}")), "{text}\n{err}");
    assert!(text.contains("worker-dev") && text.contains("from the 0 instances"), "{text}");
    // Groups running closer to those first floors (web-prod 5 of 7, worker-dev 1 of 3) take them
    // in stride.
    running(5, 1);
    let (code, text, err) = run(&mut cmd(&tight, &out, &["apply"]));
    assert!(code == 0 && !text.contains("at the first floor"), "{text}\n{err}");
    // A plan made with the groups at 4 and 0 reads that and ramps its first floors up from there
    // (web-prod 4 → 6 → 7, worker-dev 0 → 2 → 3): nothing to say, and --strict passes.
    running(4, 0);
    let (code, text, err) = run(&mut cmd(&tight, &out, &["nightly", "--strict"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(!text.contains("at the first floor") && !err.contains("at the first floor"), "{text}\n{err}");
    assert!(text.contains("first floors ramped up from the 4 instances the group runs, by 2 a step"), "{text}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let opening = |g: &str| -> Vec<u64> {
        let p = plan["groups"].as_array().unwrap().iter().find(|p| p["group"] == g).unwrap();
        p["scheduled_actions"].as_array().unwrap().iter().take(2).map(|a| a["min_size"].as_u64().unwrap()).collect()
    };
    assert_eq!(opening("web-prod"), [6, 7], "{plan}");
    assert_eq!(opening("worker-dev"), [2, 3], "{plan}");
}

#[test]
fn the_fleet_limit_holds_when_groups_are_applied_one_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // The three demo groups plan 31 + 7 + 5 = 43 instances at their peaks.
    let fleet = demo_config(tmp.path(), "[guardrails]\nmax_fleet_size = 40\n");
    let (code, _, err) = run(&mut cmd(&fleet, &out, &["nightly", "--execute"]));
    assert_eq!(code, 1);
    assert!(err.contains("max_fleet_size = 40") && err.contains("fleet_breach = \"scale\" in [guardrails]"), "{err}");
    // One group a run: each run counts the others as they stand, so the last one is refused.
    let mut codes = Vec::new();
    let mut last = String::new();
    for g in ["web-prod", "api-staging", "worker-dev"] {
        let (code, _, err) = run(&mut cmd(&fleet, &out, &["nightly", "--execute", "--group", g]));
        codes.push(code);
        last = err;
    }
    assert_eq!(codes, [0, 0, 1], "{last}");
    assert!(last.contains("max_fleet_size = 40") && last.contains("web-prod (in place) 31"), "{last}");
    // The what-if says it too, before anyone stores an event that the nightly run would refuse,
    // also for one group, counting the others as they stand.
    for args in [&["plan", "--what-if"][..], &["plan", "--what-if", "--group", "worker-dev"]] {
        let (_, _, err) = run(&mut cmd(&fleet, &out, args));
        assert!(err.contains("note: guardrail") && err.contains("would refuse this plan"), "{args:?}: {err}");
    }
    // A peak an event makes is named as the cause.
    let roomy = demo_config(tmp.path(), "[guardrails]\nmax_fleet_size = 60\n");
    ok(cmd(&roomy, &out, &["event", "add", "--group", "web-prod", "--name", "launch", "--peak", "90000"]).args([
        "--start",
        "2026-11-23T10:00:00Z",
        "--end",
        "2026-11-23T12:00:00Z",
    ]));
    let (code, _, err) = run(&mut cmd(&roomy, &out, &["nightly"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("max_fleet_size = 60") && err.contains("(web-prod's peak falls in event \"launch\" (ev-"),
        "{err}"
    );
}

#[test]
fn with_fleet_breach_scale_the_floors_are_taken_down_to_fit_the_fleet() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // The demo groups' peaks add up to 43 (31 + 7 + 5): scaled to fit 40, applied, and said.
    let fleet = demo_config(tmp.path(), "[guardrails]\nmax_fleet_size = 40\nfleet_breach = \"scale\"\n");
    let (code, text, err) = run(&mut cmd(&fleet, &out, &["nightly", "--execute", "--quiet"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        err.contains("max_fleet_size: the run's floors peak above 40 instances")
            && err.contains("scaled by about ×0.9")
            && err.contains(": peaks web-prod 31 → 29, api-staging 7 → 6"),
        "{err}"
    );
    let web = text.lines().find(|l| l.starts_with("web-prod:")).unwrap_or_default();
    assert!(web.contains("floors scaled to fit max_fleet_size: peak 31 → "), "{text}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let peaks: u64 = plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let floors = g["scheduled_actions"].as_array().unwrap().iter().filter_map(|a| a["min_size"].as_u64());
            floors.max().unwrap_or(0).max(g["bounds"]["min"].as_u64().unwrap())
        })
        .sum();
    assert_eq!(peaks, 40, "the peaks fit the limit exactly");
    // The floors' own decision says them as written, and as planned.
    let web_plan = plan["groups"].as_array().unwrap().iter().find(|g| g["group"] == "web-prod").unwrap();
    let said: Vec<&str> = web_plan["decisions"].as_array().unwrap().iter().filter_map(|d| d["what"].as_str()).collect();
    assert!(
        said.iter().any(|w| w.contains("and 29 instances (after the fleet's scaling; planned: ")
            && w.ends_with("and 31 instances)")),
        "{said:?}"
    );
    // Converged: the next run changes nothing; asked for, the scaling does not fail --strict (the
    // cron job's line and stderr say it every night).
    let (code, text, err) = run(&mut cmd(&fleet, &out, &["nightly", "--execute", "--quiet", "--strict"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert_eq!(text.lines().filter(|l| l.ends_with("; no changes")).count(), 3, "{text}");
    assert!(err.contains("max_fleet_size: the run's floors peak above 40"), "{err}");
    // A group whose share rounds up to its whole peak keeps its floors, and is not said to be scaled.
    assert!(!text.lines().any(|l| l.starts_with("worker-dev:") && l.contains("scaled")), "{text}");
    // One group a run counts the others as they stand, and fits beside them.
    let (code, _, err) = run(&mut cmd(&fleet, &out, &["nightly", "--execute", "--group", "worker-dev"]));
    assert_eq!(code, 0, "{err}");
    // The what-if says the plan would scale rather than be refused.
    let (_, _, err) = run(&mut cmd(&fleet, &out, &["plan", "--what-if"]));
    assert!(err.contains("the plan takes the floors down to fit it") && !err.contains("would refuse"), "{err}");
    // An event's floors cut by the scaling are a person's plan cut: --strict says it.
    ok(cmd(&fleet, &out, &["event", "add", "--group", "web-prod", "--name", "sale", "--multiplier", "1.5"]).args([
        "--start",
        "2026-11-23T10:00:00Z",
        "--end",
        "2026-11-23T14:00:00Z",
    ]));
    // One beyond the horizon has no floors in this plan: nothing of it was cut.
    ok(cmd(&fleet, &out, &["event", "add", "--group", "web-prod", "--name", "later", "--multiplier", "1.5"]).args([
        "--start",
        "2026-11-29T10:00:00Z",
        "--end",
        "2026-11-29T14:00:00Z",
    ]));
    let (code, text, err) = run(&mut cmd(&fleet, &out, &["nightly", "--strict"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        err.contains("--strict: ")
            && err.contains("web-prod: event \"sale\"")
            && err.contains("its floors cut to fit [guardrails] max_fleet_size"),
        "{err}"
    );
    assert_eq!(err.matches("its floors cut to fit").count(), 1, "{err}");
    // A limit below the MinSizes: no scaling fits; said, and refused as without the option.
    let tiny = demo_config(tmp.path(), "[guardrails]\nmax_fleet_size = 3\nfleet_breach = \"scale\"\n");
    let (code, _, err) = run(&mut cmd(&tiny, &out, &["nightly"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no scaling of the floors fits it") && err.contains("nothing was applied"), "{err}");
    assert!(!err.contains("has the planner take the floors down"), "{err}");
    let (_, _, err) = run(&mut cmd(&tiny, &out, &["plan", "--what-if"]));
    assert!(err.contains("would refuse this plan") && !err.contains("takes the floors down"), "{err}");
}

#[test]
fn revert_on_the_local_groups_removes_prescales_objects_only() {
    let (tmp, cfg, out) = demo_applied();
    // The run's apply locks (the store's, the out folder's) are let go at its end, their files
    // emptied (they name a holder only while held).
    assert_eq!(std::fs::read_to_string(tmp.path().join("store/apply.lock")).unwrap(), "");
    assert_eq!(std::fs::read_to_string(out.join("apply.lock")).unwrap(), "");
    // A revert with another --out finds a new stand-in, holding nothing of prescale's: said, with
    // where the groups the applying run changed are.
    let other = tmp.path().join("other");
    let (code, text, err) = run(&mut cmd(&cfg, &other, &["apply", "--revert"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        err.contains(&format!(
            "the local stand-in {} is new, its groups as configured: the groups the store's last writing run changed \
             are in {}",
            other.join("demo-asg-state.json").display(),
            out.join("demo-asg-state.json").display()
        )) && err.contains(&format!("hint: --out {}", out.display())),
        "{err}"
    );
    // A run stopped mid-change (its last outcome line never written) is said by the next run,
    // once: the run after that finds the log whole.
    let audit = out.join("audit.jsonl");
    let text = std::fs::read_to_string(&audit).unwrap();
    // The last line, an outcome, cut in half (a crash while it was written).
    let cut = text.trim_end().rfind('\n').unwrap() + 1;
    assert!(!text[cut..].contains("\"attempting\""), "the last line is an outcome");
    std::fs::write(&audit, &text[..cut + 40]).unwrap();
    // A dry run says it, and leaves the marking to the next --execute.
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["apply"]));
    assert!(code == 0 && err.contains("1 change of an earlier run (as of 2026-11-23T00:00:00Z) had no outcome: that run stopped while making it"), "{err}");
    assert!(err.contains("the next --execute marks it `interrupted`"), "{err}");
    // Beside a run making its changes now (it holds the out folder's apply lock, whatever its
    // store), an open change is that run's: said so, not a crash.
    {
        let _held = prescale_store::lock_run(&out.join("apply.lock"), std::time::Duration::ZERO).unwrap();
        let (code, _, err) = run(&mut cmd(&cfg, &out, &["apply"]));
        assert!(
            code == 0
                && err.contains(&format!("another run (pid {} since", std::process::id()))
                && err.contains("is making changes now")
                && !err.contains("had no outcome"),
            "{err}"
        );
    }
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["apply", "--execute"]));
    assert!(
        code == 0 && err.contains("1 change of an earlier run (as of 2026-11-23T00:00:00Z) had no outcome"),
        "{err}"
    );
    assert!(err.contains("this run reads them again"), "{err}");
    let last: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&audit).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(last["outcome"], "interrupted", "{last}");
    let (_, _, err) = run(&mut cmd(&cfg, &out, &["apply", "--execute"]));
    assert!(!err.contains("had no outcome"), "said once: {err}");
    // Every line of the log but the one cut short reads.
    let text = std::fs::read_to_string(&audit).unwrap();
    let unread = text.lines().filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err()).count();
    assert_eq!(unread, 1, "{text}");
    // Somebody else's action in the stand-in state.
    let state_path = out.join("demo-asg-state.json");
    let mut state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    state[0]["scheduled_actions"].as_array_mut().unwrap().push(serde_json::json!(
        { "name": "team-batch", "start_time": "2026-11-23T05:00:00Z", "min_size": 3 }
    ));
    let group = state[0]["group"].as_str().unwrap().to_string();
    // A group taken out of the configuration with prescale's objects and a raised MinSize on it:
    // reverted by name, its bounds are left with a word (nothing says what to put back).
    let mut legacy = state[0].clone();
    legacy["group"] = "legacy-web".into();
    legacy["bounds"]["min"] = 6.into();
    let mut with_legacy = state.clone();
    with_legacy.as_array_mut().unwrap().push(legacy);
    std::fs::write(&state_path, serde_json::to_vec(&with_legacy).unwrap()).unwrap();
    let (code, text, err) = run(&mut cmd(&cfg, &out, &["apply", "--revert", "--group", "legacy-web"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(err.contains("legacy-web is not in") && text.contains("- action prescale-floor-"), "{text}\n{err}");
    assert!(text.contains("bounds 6–8 left") && text.contains("legacy-web has no min_size / max_size in"), "{text}");
    // The first floor has run (Auto Scaling set its MinSize and removed the one-time action): its
    // time has passed by the clock, though not by --now (00:00, a minute before it; a stray
    // PRESCALE_NOW behind the clock). The revert puts the configured MinSize back.
    let mut ran = state.clone();
    let actions = ran[0]["scheduled_actions"].as_array_mut().unwrap();
    let first = actions.iter().position(|a| a["name"].as_str().unwrap().starts_with("prescale-floor-")).unwrap();
    let min = actions.remove(first)["min_size"].as_u64().unwrap();
    let configured = state[0]["bounds"]["min"].as_u64().unwrap();
    assert!(min > configured, "the test wants a first floor above MinSize: {state}");
    ran[0]["bounds"]["min"] = min.into();
    // The stand-in holds one group more than when the floors were written (legacy-web, as a group
    // added to the configuration since would be): what the log says of the others still counts.
    ran.as_array_mut().unwrap().push(with_legacy[with_legacy.as_array().unwrap().len() - 1].clone());
    std::fs::write(&state_path, serde_json::to_vec(&ran).unwrap()).unwrap();
    let text = ok(&mut cmd(&cfg, &out, &["apply", "--revert", "--group", &group]));
    assert!(text.contains(&format!("~ bounds MinSize {configured} (was {min})")), "{text}");
    // The same group taken out of the configuration since: the plan last applied to it says
    // what it was configured with, and the revert puts that MinSize back as well.
    let without = tmp.path().join("without.toml");
    let text = crate::common::demo_config_text();
    let kept: Vec<&str> =
        text.split("\n[[groups]]\n").filter(|b| !b.starts_with(&format!("name = \"{group}\""))).collect();
    assert_eq!(kept.len(), 3, "the demo's three groups, one left out: {text}");
    std::fs::write(&without, kept.join("\n[[groups]]\n")).unwrap();
    let (code, text, err) = run(&mut cmd(&without, &out, &["apply", "--revert", "--group", &group]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        text.contains(&format!("~ bounds MinSize {configured} (was {min})"))
            && text.contains(&format!("{group} is not in"))
            && text.contains("as plan ")
            && text.contains(", the last applied to it, was configured"),
        "{text}\n{err}"
    );
    // An audit log that cannot be read: the dry run shows prescale's objects going, the raised
    // bound staying, said with why (its error stopped the dry run, which showed nothing). An
    // --execute, which appends to the log, stops before any change.
    let kept = out.join("audit.kept");
    std::fs::rename(&audit, &kept).unwrap();
    std::fs::create_dir(&audit).unwrap();
    let (code, text, err) = run(&mut cmd(&cfg, &out, &["apply", "--revert", "--group", &group]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(
        text.contains("- action prescale-floor-")
            && !text.contains("~ bounds MinSize")
            && text.contains(&format!("bounds {min}–"))
            && text.contains("left as they are: cannot read audit log")
            && text.contains("which tells whether prescale's actions set them"),
        "{text}"
    );
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["apply", "--revert", "--group", &group, "--execute"]));
    assert!(
        code == 1
            && err.contains("cannot open audit log")
            && err.contains("nothing was changed")
            && err.contains("writable for the user"),
        "{err}"
    );
    std::fs::remove_dir(&audit).unwrap();
    std::fs::rename(&kept, &audit).unwrap();
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();

    let text = ok(&mut cmd(&cfg, &out, &["apply", "--revert", "--group", &group]));
    assert!(text.contains("revert dry run against") && text.contains("- action prescale-floor-"), "{text}");
    assert!(!text.contains("team-batch"), "{text}");
    let text = ok(&mut cmd(&cfg, &out, &["apply", "--revert", "--execute"]));
    assert_eq!(text.matches("reverted on").count(), 3, "{text}");
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    for g in state.as_array().unwrap() {
        assert!(g["policies"].as_array().unwrap().is_empty());
        let names: Vec<&str> =
            g["scheduled_actions"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, if g["group"] == group.as_str() { vec!["team-batch"] } else { vec![] });
    }
    // A group left with no scaling policy of its own is told: nothing scales it now, and it stays
    // at what it runs.
    let above: Vec<u64> = state
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["desired"].as_u64() > g["bounds"]["min"].as_u64())
        .map(|g| g["desired"].as_u64().unwrap())
        .collect();
    assert!(!above.is_empty(), "the test wants a group above its MinSize: {state}");
    assert_eq!(text.matches("once prescale's policies are removed no policy scales this group").count(), 3, "{text}");
    for n in above {
        assert!(text.contains(&format!("it stays at the {n} instances it runs (desired capacity)")), "{text}");
    }
    let text = ok(&mut cmd(&cfg, &out, &["apply", "--revert"]));
    assert_eq!(text.matches("no changes: the group holds nothing of prescale's").count(), 3, "{text}");
    // --revert takes no plan.
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["apply", "--revert", "--plan", "x.json"]));
    assert_ne!(code, 0);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn bad_safety_settings_are_refused_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/prescale.toml")).unwrap();
    let web = "name = \"web-prod\"\n";
    let cases = [
        (format!("{demo}\n[guardrails]\nmax_step = 3\n"), "unknown field `max_step`"),
        (format!("{demo}\n[guardrails]\nmax_step_up = 0\n"), "max_step_up = 0"),
        (format!("{demo}\n[guardrails]\nmax_fleet_size = 0\n"), "max_fleet_size must be at least 1"),
        (format!("{demo}\n[guardrails]\nfleet_breach = \"scale\"\n"), "max_fleet_size, which is not set"),
        (demo.replacen("[apply]\n", "[apply]\nkeep_within_mins = 2000\n", 1), "give at most 1440"),
        (format!("{demo}\n[guardrails]\nmax_fleet_size = 9\nfleet_breach = \"shrink\"\n"), "unknown variant `shrink`"),
        (demo.replacen(web, &format!("{web}max_breach = \"raise\"\n"), 1), "needs max_breach_buffer"),
        (demo.replacen(web, &format!("{web}max_breach_buffer = 5\n"), 1), "only used with max_breach = \"raise\""),
        (demo.replacen(web, &format!("{web}max_breach = \"grow\"\n"), 1), "unknown variant `grow`"),
        (demo.replacen(web, &format!("{web}time_zone = \"Europe/Berln\"\n"), 1), "\"Europe/Berln\" is not an IANA"),
    ];
    assert_configs_refused(tmp.path(), &cases);
}

#[test]
fn a_damaged_metric_file_stops_only_its_own_series_and_is_never_written_over() {
    let (tmp, cfg, out) = demo_run();
    // Floors in place for every group.
    ok(&mut cmd(&cfg, &out, &["nightly", "--execute"]));
    let floors_of = |group: &str| -> serde_json::Value {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("demo-asg-state.json")).unwrap()).unwrap();
        state.as_array().unwrap().iter().find(|g| g["group"] == group).unwrap()["scheduled_actions"].clone()
    };
    let in_place = floors_of("web-prod");
    assert!(in_place.as_array().unwrap().len() > 2, "{in_place}");
    // The configuration's store is relative to its own folder.
    let store = tmp.path().join("store/metrics/v1");
    let damaged = store.join("web-prod/requests.parquet");
    // A crash or a disk fault cut the file short.
    let bytes = std::fs::read(&damaged).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();

    // ingest: the other series are stored, this one is named with what to do, and the run fails.
    let (code, text, err) = run(&mut cmd(&cfg, &out, &["ingest"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("web-prod/requests: not stored, its stored data is unchanged"), "{err}");
    assert!(err.contains("move it aside (`mv ") && err.contains("requests.parquet.damaged`)"), "{err}");
    assert!(err.contains("1 of 3 series could not be stored"), "{err}");
    // The table lists what was stored: the two others, not the damaged one.
    assert!(text.contains("api-staging/requests") && text.contains("worker-dev/jobs"), "{text}");
    assert!(!text.contains("web-prod/requests"), "{text}");
    assert_eq!(std::fs::read(&damaged).unwrap(), &bytes[..bytes.len() / 2], "the damaged file is left for a person");

    // nightly --execute: the other groups are planned and applied; this one is left out of the
    // plan, so the floors in place stay (a plan without its load would take them down), and the
    // run fails. `plan` alone says the same and fails too.
    let (code, text, err) = run(&mut cmd(&cfg, &out, &["nightly", "--execute"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        err.contains("1 series could not be stored (web-prod/requests, so no forecast either) (see the warnings"),
        "{err}"
    );
    assert!(err.contains("1 group not planned, its floors in place left as they are:\n  web-prod: "), "{err}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let planned: Vec<&str> = plan["groups"].as_array().unwrap().iter().map(|g| g["group"].as_str().unwrap()).collect();
    assert_eq!(planned, ["api-staging", "worker-dev"], "{plan}");
    assert_eq!(floors_of("web-prod"), in_place, "the floors in place are untouched");
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["plan"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("left as they are:\n  web-prod: "), "{err}");

    // Moved aside as the hint says, the next ingest rebuilds it and the run succeeds again.
    std::fs::rename(&damaged, damaged.with_extension("parquet.damaged")).unwrap();
    ok(&mut cmd(&cfg, &out, &["nightly"]));
    assert!(std::fs::metadata(&damaged).unwrap().len() > 0);
}

#[test]
fn stale_load_leaves_the_floors_in_place_and_fails_the_run() {
    let (tmp, cfg, out) = demo_applied();
    let state = || std::fs::read_to_string(out.join("demo-asg-state.json")).unwrap();
    let in_place = state();
    // The same store four hours on: the files end with the slot from 23:55, so every group's load
    // is past [trust] max_data_age_mins (180), as when ingest has stopped.
    let late = |args: &[&str]| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg).arg("--out").arg(&out).args(["--now", "2026-11-23T04:00:00Z"]).args(args);
        c
    };
    let (code, text, err) = run(&mut late(&["nightly", "--execute"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("3 groups not planned, their floors in place left as they are"), "{err}");
    assert!(
        err.contains("is ingest failing, or this machine's clock ahead?")
            && err.contains("find why its source stopped"),
        "{err}"
    );
    assert!(!err.contains("a damaged one, moved aside"), "{err}");
    assert_eq!(state(), in_place, "a plan from stale load would have taken the floors down");
    let (code, _, err) = run(&mut late(&["plan"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("left as they are:\n  web-prod: "), "{err}");
    // A plan alone ran no ingest: it does not say what an ingest found, it says to run one.
    assert!(err.contains("for stale load, run `prescale ingest`") && !err.contains("ingest read it"), "{err}");
    // The demo's load is files: the hint names recorded files' --now (a CloudWatch fleet's does not).
    assert!(err.contains("for recorded files (such as those of `prescale demo generate`)"), "{err}");

    // A load that is not in the store at all (a store moved or wiped): the same, with its remedy
    // (the forecasts fitted at midnight again, for a plan at midnight).
    ok(&mut cmd(&cfg, &out, &["forecast", "fit"]));
    let load = tmp.path().join("store/metrics/v1/web-prod/requests.parquet");
    std::fs::rename(&load, load.with_extension("parquet.away")).unwrap();
    let (code, text, err) = run(&mut cmd(&cfg, &out, &["plan"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("1 group not planned, its floors in place left as they are:\n  web-prod: its load"), "{err}");
    assert!(err.contains("is not in the store") && err.contains("run `prescale ingest`"), "{err}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert!(plan["groups"].as_array().unwrap().iter().all(|g| g["group"] != "web-prod"), "{plan}");
    // Events stored for the group are no sign that its load was not lost: a multiplier has nothing
    // to scale without it, and a peak's floors are its own hours'; the daily floors stay.
    for (name, effect) in [("launch", ["--multiplier", "3"]), ("sale", ["--peak", "150000"])] {
        let mut add = cmd(&cfg, &out, &["event", "add", "--group", "web-prod", "--name", name]);
        ok(add.args(["--start", "2026-11-24T14:00:00Z", "--end", "2026-11-24T18:00:00Z"]).args(effect));
        let (code, _, err) = run(&mut cmd(&cfg, &out, &["plan"]));
        assert_eq!(code, 1, "with {name}: {err}");
        assert!(err.contains("left as they are:\n  web-prod: its load"), "with {name}: {err}");
    }
    let floors = |text: &str| -> serde_json::Value {
        let groups: serde_json::Value = serde_json::from_str(text).unwrap();
        groups.as_array().unwrap().iter().find(|g| g["group"] == "web-prod").unwrap()["scheduled_actions"].clone()
    };
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["apply", "--execute"]));
    assert_eq!(code, 0, "the other groups' plan applies: {err}");
    assert_eq!(floors(&state()), floors(&in_place), "a plan without its load would have taken the floors down");
}

#[test]
fn a_run_that_cannot_write_its_audit_log_changes_nothing() {
    let (_tmp, cfg, out) = demo_run();
    ok(&mut cmd(&cfg, &out, &["nightly"]));
    // Something else sits where the log goes.
    std::fs::create_dir_all(out.join("audit.jsonl")).unwrap();
    let (code, text, err) = run(&mut cmd(&cfg, &out, &["apply", "--execute"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("cannot open audit log") && err.contains("nothing was changed"), "{err}");
    assert!(!out.join("demo-asg-state.json").exists(), "the groups were not touched");
}

#[test]
fn a_nightly_run_waiting_for_another_one_changing_the_groups_writes_its_plan_only_once_it_may_apply_it() {
    let (tmp, cfg, out) = demo_run();
    // Another run changing the groups holds the store's apply lock.
    let held = prescale_store::lock_run(&tmp.path().join("store/apply.lock"), std::time::Duration::ZERO).unwrap();
    let mut child = nightly_in_background(&cfg, &out);
    // Ingested and fitted (the last group's forecast stored), then waiting: its plan is not
    // written over the other run's, and nothing is kept as applied.
    wait_for(&tmp.path().join("store/forecasts/v1/worker-dev/jobs.parquet"));
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "it waits for the lock");
    assert!(!out.join("plan.json").exists(), "a waiting run wrote its plan");
    assert!(!out.join("applied").exists(), "a waiting run kept a plan as applied");
    // Released: it writes its plan, keeps it as applied and applies it.
    drop(held);
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let id = plan["plan_id"].as_str().unwrap();
    assert!(out.join("applied").join(format!("{id}.json")).exists());

    // A run on another store that writes to the same --out (its audit log, its stand-in) waits
    // for the out folder's lock as well.
    let held = prescale_store::lock_run(&out.join("apply.lock"), std::time::Duration::ZERO).unwrap();
    let other = tmp.path().join("other-store");
    let mut child = cmd(&cfg, &out, &["--store", other.to_str().unwrap(), "nightly", "--execute", "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&other.join("forecasts/v1/worker-dev/jobs.parquet"));
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "it waits for the out folder's lock");
    drop(held);
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{err}");
    // The wait is said, with who held the lock, and its end: a log shows why the run stood still.
    let waited = format!("waiting up to 2 min for the run changing the groups now (pid {}", std::process::id());
    assert!(err.contains(&waited) && err.contains("… it ended: this run goes on"), "{err}");
}

#[test]
fn floors_on_a_group_that_the_runs_logging_here_did_not_put_are_said() {
    let (_tmp, cfg, out) = demo_applied();
    let said = "of prescale's scheduled actions on it differ from what the runs logging to";
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["apply"]));
    assert!(code == 0 && !err.contains(said), "what this --out's runs put is theirs: {err}");
    // Another prescale (another store or host) wrote the same group: one floor changed, one added
    // (a name this log never saw is not judged: a floor from before a rotation would read alike).
    let state_path = out.join("demo-asg-state.json");
    let mut state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    let actions = state[0]["scheduled_actions"].as_array_mut().unwrap();
    let last = actions.len() - 1;
    actions[last]["min_size"] = (actions[last]["min_size"].as_u64().unwrap() + 1).into();
    actions.push(serde_json::json!(
        { "name": "prescale-floor-20261124T0301Z", "start_time": "2026-11-24T03:01:00Z", "min_size": 9 }
    ));
    let group = state[0]["group"].as_str().unwrap().to_string();
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["apply"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("{group}: 1 {said}")) && err.contains("another prescale writes this group"), "{err}");
    assert_eq!(err.matches(said).count(), 1, "the other groups are as put: {err}");
    // Applied from here, they are this log's again.
    ok(&mut cmd(&cfg, &out, &["apply", "--execute"]));
    let (_, _, err) = run(&mut cmd(&cfg, &out, &["apply"]));
    assert!(!err.contains(said), "{err}");
}

#[test]
fn a_capacity_per_instance_far_above_the_load_is_said_as_a_likely_unit_mistake() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // web-prod's capacity in requests per hour (×12) rather than per five minutes, and in
    // requests rather than kilo-requests (×1000) besides: 3e8 where 2500 was meant.
    let text =
        crate::common::demo_config_text().replacen("capacity_per_instance = 2500.0", "capacity_per_instance = 3e8", 1);
    let cfg = tmp.path().join("prescale.toml");
    std::fs::write(&cfg, text).unwrap();
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["nightly"]));
    assert_eq!(code, 0, "{err}");
    let said = "is capacity_per_instance in the load metric's units";
    assert!(err.contains("web-prod: its forecast peaks at") && err.contains(said), "{err}");
    assert_eq!(err.matches(said).count(), 1, "the other groups' capacities fit their loads: {err}");
}

#[test]
fn a_nightly_run_stopped_before_its_writes_says_so() {
    let (tmp, cfg, out) = demo_run();
    let child = nightly_in_background(&cfg, &out);
    // Ingesting or fitting (the store under way, no plan yet): a cron timeout.
    wait_for(&tmp.path().join("store/metrics/v1"));
    let killed = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(143), "{err}");
    assert!(err.contains("prescale: SIGTERM: stopped (nothing was being written to the groups)"), "{err}");
    assert!(!out.join("audit.jsonl").exists(), "nothing was applied");
}

#[test]
fn a_group_taken_out_of_the_configuration_with_prescales_objects_on_it_is_said_until_reverted() {
    let (_tmp, cfg, out) = demo_applied();
    // worker-dev (the last group) taken out of the configuration: no plan has it any more, so no
    // run takes its floors and policies down. Said, with the command that does.
    let text = std::fs::read_to_string(&cfg).unwrap();
    let cut = text.find("[[groups]]\nname = \"worker-dev\"").expect("worker-dev is a group of the demo");
    std::fs::write(&cfg, &text[..cut]).unwrap();
    let (code, _, err) = run(&mut cmd(&cfg, &out, &["nightly", "--execute"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("worker-dev: prescale's runs logging to") && err.contains("is no longer in"), "{err}");
    assert!(err.contains("prescale apply --revert --group worker-dev --execute"), "{err}");
    assert!(!err.contains("web-prod: prescale's runs"), "only the group taken out: {err}");
    // A revert of every group (no --group) covers it too.
    let (code, text, err) = run(&mut cmd(&cfg, &out, &["apply", "--revert"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("worker-dev is no longer in") && err.contains("reverting it too, by name"), "{err}");
    assert!(text.contains("worker-dev") && text.contains("web-prod"), "{text}");
    // Reverted as the hint says, it is not said again.
    ok(&mut cmd(&cfg, &out, &["apply", "--revert", "--group", "worker-dev", "--execute"]));
    let (_, _, err) = run(&mut cmd(&cfg, &out, &["apply"]));
    assert!(!err.contains("worker-dev: prescale's runs"), "{err}");
}

#[test]
fn a_load_below_zero_leaves_its_group_out_with_its_floors_in_place() {
    // An exporter that flipped the workers' load's sign: a plan from it would take their floors
    // down to MinSize. The group is left out, its floors stay, the others are planned, and the
    // run fails saying why and what to do.
    let (tmp, cfg, out) = demo_applied();
    let floors_of = |group: &str| -> serde_json::Value {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("demo-asg-state.json")).unwrap()).unwrap();
        state.as_array().unwrap().iter().find(|g| g["group"] == group).unwrap()["scheduled_actions"].clone()
    };
    let in_place = floors_of("worker-dev");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/worker-dev-jobs.csv");
    let csv = std::fs::read_to_string(&demo).unwrap();
    let flipped: String = csv
        .lines()
        .map(|l| match l.split_once(',') {
            Some((ts, v)) if v.parse::<f64>().is_ok() => format!("{ts},-{v}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    let negated = tmp.path().join("worker-dev-jobs.csv");
    std::fs::write(&negated, flipped).unwrap();
    let text =
        std::fs::read_to_string(&cfg).unwrap().replace(&demo.display().to_string(), &negated.display().to_string());
    let broken = tmp.path().join("broken.toml");
    std::fs::write(&broken, text).unwrap();
    let (code, text, err) = run(&mut cmd(&broken, &out, &["nightly", "--execute", "--quiet"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("1 group not planned, its floors in place left as they are:\n  worker-dev: "), "{err}");
    assert!(err.contains("values of its load over the last 28 days are below zero"), "{err}");
    assert!(err.contains("for load below zero, mend its source"), "{err}");
    assert_eq!(floors_of("worker-dev"), in_place, "the floors in place are untouched");
    assert!(text.contains("web-prod: ") && text.contains("api-staging: "), "{text}");
    assert!(
        text.contains("3 groups: 2 planned (2 with floors, 0 on their reactive policy alone), 1 left out"),
        "{text}"
    );
    // Without --quiet the left-out group has its line under the table, and the run's line follows.
    let (code, text, err) = run(&mut cmd(&broken, &out, &["nightly"]));
    assert_eq!(code, 1, "{text}\n{err}");
    let left =
        text.lines().position(|l| l.starts_with("worker-dev: ") && l.ends_with("its floors in place left as they are"));
    let whole = text.lines().position(|l| l.starts_with("3 groups: 2 planned"));
    assert!(left.is_some() && whole > left, "{text}");
}

#[test]
fn a_plan_older_than_one_applied_is_refused() {
    // Yesterday's plan, read by a run that then waited for tonight's (or named with --plan), would
    // put back floors for hours tonight's replaced: refused with --execute, said by a dry run.
    let (tmp, cfg, out) = demo_run();
    let at = |now: &str, args: &[&str]| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg).arg("--out").arg(&out).args(["--now", now]).args(args);
        c
    };
    ok(&mut at("2026-11-22T00:00:00Z", &["nightly", "--execute", "--quiet"]));
    let yesterday = tmp.path().join("yesterday.json");
    std::fs::copy(out.join("plan.json"), &yesterday).unwrap();
    ok(&mut at("2026-11-23T00:00:00Z", &["nightly", "--execute", "--quiet"]));
    let state = || std::fs::read_to_string(out.join("demo-asg-state.json")).unwrap();
    let tonight = state();
    let old = yesterday.to_str().unwrap();
    let (code, text, err) = run(&mut at("2026-11-23T00:00:00Z", &["apply", "--plan", old, "--execute"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("plan 20261122T0000Z-") && err.contains("is older than plan 20261123T0000Z-"), "{err}");
    assert_eq!(state(), tonight, "nothing applied");
    let (code, _, err) = run(&mut at("2026-11-23T00:00:00Z", &["apply", "--plan", old]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("is older than plan 20261123T0000Z-"), "{err}");
    // Tonight's run killed after its changes reached the groups leaves them `attempting` in the
    // log (the next run marks them interrupted): they may be on the groups, and the older plan
    // is refused all the same.
    let log = out.join("audit.jsonl");
    let logged = std::fs::read_to_string(&log).unwrap();
    let tonight_as = |outcome: &str| -> String {
        let lines: Vec<String> = logged
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                if v["plan_id"].as_str().is_some_and(|p| p.starts_with("20261123T0000Z")) && v["outcome"] == "applied" {
                    v["outcome"] = outcome.into();
                }
                v.to_string()
            })
            .collect();
        lines.join("\n") + "\n"
    };
    std::fs::write(&log, tonight_as("attempting")).unwrap();
    let (code, text, err) = run(&mut at("2026-11-23T00:00:00Z", &["apply", "--plan", old, "--execute"]));
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(err.contains("is older than plan 20261123T0000Z-") && err.contains("did not see through"), "{err}");
    assert_eq!(state(), tonight, "nothing applied");
    // Every change of tonight's refused by AWS (`attempting`, then `failed`): none reached the
    // groups, and going back to yesterday's plan by hand is not refused.
    std::fs::write(&log, tonight_as("failed")).unwrap();
    let (code, _, err) = run(&mut at("2026-11-23T00:00:00Z", &["apply", "--plan", old]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("is older than plan"), "{err}");
    std::fs::write(&log, &logged).unwrap();
    // After a revert, an older plan may go on again (the newer one's floors are gone).
    ok(&mut at("2026-11-23T00:00:00Z", &["apply", "--revert", "--execute"]));
    ok(&mut at("2026-11-23T00:00:00Z", &["apply", "--plan", old, "--execute"]));
}
