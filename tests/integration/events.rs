//! Events on the built-in demo: `event add/list/remove`, how they shape `plan`, `plan --what-if`,
//! and the errors of bad events. The demo runs at 2026-11-23 00:00 UTC with a 48 h horizon and a
//! 10 min lead time.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, Utc};

use crate::common::{demo_config_text, ok, prescale, run};

fn demo(out: &Path, args: &[&str]) -> Command {
    let mut c = prescale();
    c.arg("--out").arg(out).args(args);
    c
}

/// (start, MinSize) of a group's scheduled actions in OUT/plan.json.
fn floors(out: &Path, group: &str) -> Vec<(DateTime<Utc>, u64)> {
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let g = plan["groups"].as_array().unwrap().iter().find(|g| g["group"] == group).unwrap();
    g["scheduled_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["start_time"].as_str().unwrap().parse().unwrap(), a["min_size"].as_u64().unwrap()))
        .collect()
}

/// The floor in force at `t`.
fn floor_at(f: &[(DateTime<Utc>, u64)], t: DateTime<Utc>) -> u64 {
    f.iter().rfind(|(at, _)| *at <= t).map_or(f[0].1, |(_, m)| *m)
}

/// The demo's configuration with `extra` appended, in `dir`, and web-prod ingested and fitted at
/// the demo's now: (config, output folder, a command with both and that now).
fn fitted_web_prod(dir: &Path, extra: &str) -> (PathBuf, PathBuf, impl Fn(&[&str]) -> Command) {
    let cfg = dir.join("prescale.toml");
    std::fs::write(&cfg, format!("{}\n{extra}\n", demo_config_text())).unwrap();
    let out = dir.join("out");
    let (c, o) = (cfg.clone(), out.clone());
    let base = move |args: &[&str]| {
        let mut cmd = prescale();
        cmd.arg("--config").arg(&c).arg("--out").arg(&o).args(["--now", "2026-11-23T00:00:00Z"]).args(args);
        cmd
    };
    ok(&mut base(&["ingest", "--group", "web-prod"]));
    ok(&mut base(&["forecast", "fit", "--group", "web-prod"]));
    (cfg, out, base)
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn an_event_raises_the_floors_lead_time_ahead_and_goes_away_when_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    ok(&mut demo(&out, &["nightly"]));
    let before = floors(&out, "web-prod");

    // Black Friday at night, when the demo's load is low: ×3 from 03:00 to 05:00 UTC.
    let text = ok(&mut demo(
        &out,
        &[
            "event",
            "add",
            "--group",
            "web-prod",
            "--name",
            "Black Friday",
            "--start",
            "2026-11-24T04:00:00+01:00",
            "--end",
            "2026-11-24T05:00:00Z",
            "--multiplier",
            "3",
        ],
    ));
    assert!(text.contains("added event \"Black Friday\" (ev-") && text.contains("×3 from 2026-11-24 03:00"), "{text}");
    assert!(out.join("store/events/v1/events.json").exists());
    // One past, one beyond the horizon: stored, reported, not planned.
    ok(demo(&out, &["--now", "2026-11-20T00:00:00Z", "event", "add", "--group", "web-prod", "--name", "old sale"])
        .args(["--start", "2026-11-21T10:00:00Z", "--end", "2026-11-21T12:00:00Z", "--peak", "90000"]));
    ok(demo(&out, &["event", "add", "--group", "web-prod", "--name", "Cyber Monday"]).args([
        "--start",
        "2026-11-30T08:00:00Z",
        "--end",
        "2026-11-30T20:00:00Z",
        "--multiplier",
        "2",
    ]));
    // The nightly run's plan predates them: applying it is said to leave them out, for the group
    // they concern and not for another group applied alone.
    let (code, text, err) = run(&mut demo(&out, &["apply"]));
    assert!(code == 0 && err.contains("the stored events of web-prod changed after plan "), "{text}\n{err}");
    let (code, text, err) = run(&mut demo(&out, &["apply", "--group", "api-staging"]));
    assert!(code == 0 && !err.contains("stored events"), "{text}\n{err}");
    // An --execute of it is refused before it reads a group, unless --allow-events-changed.
    let (code, text, err) = run(&mut demo(&out, &["--config", "demo", "apply", "--execute"]));
    assert!(
        code == 1
            && err.contains("the stored events of web-prod changed after plan ")
            && err.contains("nothing was changed")
            && err.contains("--allow-events-changed applies this one as it is"),
        "{text}\n{err}"
    );
    assert!(!out.join("audit.jsonl").exists() && !out.join("applied").exists());
    let (code, text, err) = run(&mut demo(&out, &["--config", "demo", "apply", "--execute", "--allow-events-changed"]));
    assert!(code == 0 && err.contains("the stored events of web-prod changed after plan "), "{text}\n{err}");
    assert!(out.join("audit.jsonl").exists());

    // `forecast show --events` is the forecast the plan uses: tripled from 03:00 to 05:00, the
    // rest as the model's.
    let mean_at = |extra: &[&str], at: &str| -> f64 {
        let csv =
            ok(&mut demo(&out, &[&["forecast", "show", "--group", "web-prod", "--format", "csv"], extra].concat()));
        let row = csv.lines().find(|l| l.starts_with(at)).unwrap_or_else(|| panic!("no {at} in {csv}"));
        row.split(',').nth(1).unwrap().parse().unwrap()
    };
    for (at, factor) in [("2026-11-24T04:00:00Z", 3.0), ("2026-11-24T06:00:00Z", 1.0)] {
        let (model, shaped) = (mean_at(&[], at), mean_at(&["--events"], at));
        assert!((shaped - factor * model).abs() < 1e-6 * model, "{at}: {shaped} against {model} × {factor}");
    }
    // The JSON says which events shaped its rows (none without --events).
    let json = |extra: &[&str]| -> serde_json::Value {
        let text =
            ok(&mut demo(&out, &[&["forecast", "show", "--group", "web-prod", "--format", "json"], extra].concat()));
        serde_json::from_str(&text).unwrap()
    };
    let by = json(&["--events"])["shaped_by_events"].clone();
    assert!(by.as_array().is_some_and(|a| a.len() == 1 && a[0].as_str().unwrap().contains("Black Friday")), "{by}");
    assert_eq!(json(&[])["shaped_by_events"], serde_json::json!([]));

    let list = ok(&mut demo(&out, &["event", "list", "--group", "web-prod"]));
    for want in ["Black Friday", "planned", "old sale", "past: not planned", "Cyber Monday", "beyond the horizon"] {
        assert!(list.contains(want), "{want} missing:\n{list}");
    }
    // The same as JSON, for scripts: one object per event, its effect as the events file has it.
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&mut demo(&out, &["event", "list", "--json"]))).expect("event list --json");
    let events = doc.as_array().unwrap();
    assert_eq!(events.len(), 3, "{doc}");
    let bf = events.iter().find(|e| e["name"] == "Black Friday").unwrap();
    assert_eq!(
        (bf["effect"]["kind"].as_str(), bf["effect"]["factor"].as_f64()),
        (Some("multiplier"), Some(3.0)),
        "{bf}"
    );
    assert!(bf["id"].as_str().unwrap().starts_with("ev-") && bf["start"] == "2026-11-24T03:00:00Z", "{bf}");
    assert!(bf["status"].as_str().unwrap().starts_with("planned") && bf["state"] == "planned", "{bf}");
    let old = events.iter().find(|e| e["name"] == "old sale").unwrap();
    assert_eq!(old["state"], "past", "{old}");
    let cyber = events.iter().find(|e| e["name"] == "Cyber Monday").unwrap();
    assert!(cyber["status"].as_str().unwrap().starts_with("beyond the horizon"), "{cyber}");
    assert_eq!(cyber["state"], "beyond_horizon", "{cyber}");
    let id =
        list.lines().find(|l| l.contains("Black Friday")).unwrap().split_whitespace().find(|w| w.starts_with("ev-"));
    let id = id.unwrap().to_string();

    let text = ok(&mut demo(&out, &["plan", "--group", "web-prod"]));
    assert!(
        text.contains("event \"Black Friday\" (ev-") && text.contains("forecast ×3 from 2026-11-24 03:00"),
        "{text}"
    );
    assert!(text.contains("event \"old sale\"") && text.contains("ignored"), "{text}");
    assert!(text.contains("event \"Cyber Monday\"") && text.contains("not yet planned"), "{text}");
    // This plan holds them.
    let (code, text, err) = run(&mut demo(&out, &["apply"]));
    assert!(code == 0 && !err.contains("stored events"), "{text}\n{err}");
    let after = floors(&out, "web-prod");
    let lead = Duration::minutes(10);
    let start = t("2026-11-24T03:00:00Z");
    // In place lead time before the start, and higher than without the event all through it.
    let mut at = start - lead;
    while at < t("2026-11-24T05:00:00Z") {
        assert!(floor_at(&after, at) > floor_at(&before, at), "at {at}: {after:?}\nwithout: {before:?}");
        at += Duration::minutes(5);
    }
    // The action that raises it is at the lead time before the start (or earlier, if merged).
    let rise = after.iter().rfind(|(at, _)| *at <= start - lead).unwrap();
    assert!(rise.0 > start - lead - Duration::minutes(30), "{rise:?}\n{after:?}");
    assert!(rise.1 > floor_at(&before, rise.0), "{rise:?}\n{after:?}");
    // After the event it comes back down to what it was without.
    let later = t("2026-11-24T07:00:00Z");
    assert_eq!(floor_at(&after, later), floor_at(&before, later), "{after:?}\nwithout: {before:?}");
    assert!(after.iter().any(|(at, _)| *at >= t("2026-11-24T05:00:00Z") && *at <= later));

    // What if: the plan with and without, and nothing written.
    let plan_json = std::fs::read(out.join("plan.json")).unwrap();
    let events_json = std::fs::read(out.join("store/events/v1/events.json")).unwrap();
    let text = ok(&mut demo(&out, &["plan", "--what-if"]));
    let row = text.lines().find(|l| l.contains("web-prod")).unwrap();
    assert!(row.contains('+'), "extra instance-hours: {text}");
    // Three events stored, one of them shaping this horizon (one is past, one beyond it).
    assert!(row.contains("1 of 3"), "events counted as stored, not as applied: {text}");
    assert!(text.contains("only n shaped this forecast"), "{text}");
    assert!(text.contains("set [cost] instance_hour_price"), "{text}");
    let json = ok(&mut demo(&out, &["plan", "--what-if", "--json"]));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let web = doc.as_array().unwrap().iter().find(|g| g["group"] == "web-prod").unwrap();
    assert!(web["peak_floor_with"].as_u64() >= web["peak_floor_without"].as_u64());
    assert_eq!((web["events_applied"].as_u64(), web["events"].as_array().map(Vec::len)), (Some(1), Some(3)), "{web}");
    let extra = web["extra_instance_hours"].as_f64().unwrap();
    assert!(extra > 2.0 * 10.0 / 60.0, "at least a few instances for two hours: {web}");
    let staging = doc.as_array().unwrap().iter().find(|g| g["group"] == "api-staging").unwrap();
    assert_eq!(staging["extra_instance_hours"].as_f64(), Some(0.0), "no event, no extra: {staging}");
    // A trial event on another group: shown, costed, not stored.
    let trial = ["--start", "2026-11-23T20:00:00Z", "--end", "2026-11-23T23:00:00Z", "--peak", "20000"];
    let json =
        ok(demo(&out, &["plan", "--what-if", "--json", "--group", "api-staging", "--name", "launch"]).args(trial));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc[0]["group"], "api-staging");
    assert!(
        doc[0]["events"][0].as_str().unwrap().contains("launch")
            && doc[0]["events"][0].as_str().unwrap().contains("[trial]")
    );
    assert!(doc[0]["extra_instance_hours"].as_f64().unwrap() > 1.0, "{doc}");
    // Its peak needs more than api-staging's MaxSize 8: the event's own line says how many short.
    let text = ok(demo(&out, &["plan", "--what-if", "--group", "api-staging", "--name", "launch"]).args(trial));
    let line = text.lines().find(|l| l.contains("event \"launch\"")).unwrap_or_default();
    assert!(line.contains("floors up to 8 instances") && line.contains("short of what the group's MaxSize"), "{text}");
    // A trial beside a stored event: its extra is its own, against the plan the stored events
    // make (it was theirs and its own together). One that needs nothing more costs nothing.
    let tiny = ["--start", "2026-11-23T02:00:00Z", "--end", "2026-11-23T03:00:00Z", "--multiplier", "1.01"];
    let doc: serde_json::Value = serde_json::from_str(&ok(demo(
        &out,
        &["plan", "--what-if", "--json", "--group", "web-prod", "--name", "probe"],
    )
    .args(tiny)))
    .unwrap();
    assert_eq!(doc[0]["without"], "the stored events", "{doc}");
    assert_eq!(doc[0]["instance_hours_without"].as_f64(), web["instance_hours_with"].as_f64(), "{doc}");
    assert!(doc[0]["extra_instance_hours"].as_f64().unwrap().abs() < 0.5, "a 1 % hour at night: {doc}");
    let text = ok(demo(&out, &["plan", "--what-if", "--group", "web-prod", "--name", "probe"]).args(tiny));
    assert!(text.contains("peak floor as stored") && text.contains("the extra is the tried event's"), "{text}");
    assert_eq!(std::fs::read(out.join("plan.json")).unwrap(), plan_json, "--what-if wrote the plan");
    assert_eq!(
        std::fs::read(out.join("store/events/v1/events.json")).unwrap(),
        events_json,
        "--what-if stored the event"
    );

    // An event over before the plan was made changes nothing it planned: no warning.
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "old sale"]));
    let (code, text, err) = run(&mut demo(&out, &["apply"]));
    assert!(code == 0 && !err.contains("stored events"), "{text}\n{err}");
    // Remove by id and by name: the plan is the plan without events again.
    let text = ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", &id]));
    assert!(text.contains("removed event \"Black Friday\""), "{text}");
    assert!(text.contains("stay on the group until a plan without it is applied"), "{text}");
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "Cyber Monday"]));
    assert!(ok(&mut demo(&out, &["event", "list"])).contains("no events stored"));
    ok(&mut demo(&out, &["plan"]));
    assert_eq!(floors(&out, "web-prod"), before);

    // In the afternoon the forecast fitted at midnight ends 14 h before now + 48 h: an event
    // after its end is not planned yet, and `event add` and `event list` say so, as `plan` does.
    let afternoon = |args: &[&str]| {
        let mut c = demo(&out, &["--now", "2026-11-23T14:00:00Z"]);
        c.args(args);
        c
    };
    let text = ok(afternoon(&["event", "add", "--group", "web-prod", "--name", "late"]).args([
        "--start",
        "2026-11-25T00:30:00Z",
        "--end",
        "2026-11-25T02:00:00Z",
        "--multiplier",
        "2",
    ]));
    assert!(text.contains("(beyond the horizon: not yet planned)"), "{text}");
    let list = ok(&mut afternoon(&["event", "list"]));
    assert!(list.lines().any(|l| l.contains("late") && l.contains("beyond the horizon")), "{list}");
}

#[test]
fn like_takes_a_past_window_of_the_stored_history() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    ok(&mut demo(&out, &["nightly"]));
    let before = floors(&out, "worker-dev");
    // The workers' quiet Tuesday afternoon gets the shape of last Tuesday's busy night.
    ok(demo(&out, &["event", "add", "--group", "worker-dev", "--name", "replay"]).args([
        "--start",
        "2026-11-24T14:00:00Z",
        "--end",
        "2026-11-24T16:00:00Z",
        "--like",
        "2026-11-17T00:30:00Z..2026-11-17T02:30:00Z",
    ]));
    let text = ok(&mut demo(&out, &["plan", "--group", "worker-dev"]));
    assert!(text.contains("forecast replaced by the history of 2026-11-17 00:30 to 2026-11-17 02:30 UTC"), "{text}");
    let after = floors(&out, "worker-dev");
    let at = t("2026-11-24T15:00:00Z");
    assert!(floor_at(&after, at) > floor_at(&before, at), "{after:?}\nwithout: {before:?}");
}

#[test]
fn an_event_without_an_offset_is_read_in_the_groups_time_zone() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("prescale.toml");
    let text =
        demo_config_text().replacen("name = \"web-prod\"", "name = \"web-prod\"\ntime_zone = \"Europe/Berlin\"", 1);
    std::fs::write(&cfg, text).unwrap();
    let base = |args: &[&str]| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg).arg("--out").arg(tmp.path().join("out"));
        c.args(["--now", "2026-11-23T00:00:00Z"]).args(args);
        c
    };
    // `event add` of web-prod: name, start, end, then the effect's flags.
    let add = |name: &str, start: &str, end: &str, fx: &[&str]| {
        let mut c = base(&["event", "add", "--group", "web-prod", "--name", name, "--start", start, "--end", end]);
        c.args(fx);
        run(&mut c)
    };
    ok(&mut base(&["ingest", "--group", "web-prod"]));
    // 07:00 to 09:00 in Berlin (UTC+1 in November) is 06:00 to 08:00 UTC.
    let (code, text, err) = add("launch", "2026-11-27T07:00", "2026-11-27 09:00", &["--multiplier", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("from 2026-11-27 06:00 to 2026-11-27 08:00 UTC"), "{text}");
    assert!(
        text.contains("in Europe/Berlin, the group's time_zone: from 2026-11-27 07:00 CET to 2026-11-27 09:00 CET")
    );
    // --like reads its window the same way; an offset without seconds is taken as given.
    let like = ["--like", "2026-11-20T11:00..2026-11-20T13:00"];
    let (code, text, err) = add("replay", "2026-11-24T06:00Z", "2026-11-24 09:00+01:00", &like);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("from 2026-11-24 06:00 to 2026-11-24 08:00 UTC"), "{text}");
    let events = std::fs::read_to_string(tmp.path().join("store/events/v1/events.json")).unwrap();
    assert!(events.contains("2026-11-20T10:00:00Z") && events.contains("2026-11-20T12:00:00Z"), "{events}");
    // Listed on the group's clock too, as they were given.
    let list = ok(&mut base(&["event", "list"]));
    let row = list.lines().find(|l| l.contains("launch")).unwrap_or_default();
    assert!(row.contains("2026-11-27 06:00") && row.contains("2026-11-27 07:00 CET to 2026-11-27 09:00 CET"), "{list}");
    // Refused, each with the reason: an event before the training window says how its times were read; 02:30 on
    // the last Sunday of March does not exist in Berlin; 02:30 in October happens twice.
    let double = ["happens twice", "00:30 UTC", "01:30 UTC"];
    for (start, end, want) in [
        ("2026-10-20T07:00", "2026-10-20T09:00", &["read in the group's time_zone, Europe/Berlin"][..]),
        ("2027-03-28T02:30", "2027-03-28T05:00:00Z", &["does not exist in Europe/Berlin"]),
        ("2027-10-31T02:30", "2027-10-31T05:00:00Z", &double),
    ] {
        let (code, _, err) = add("x", start, end, &["--multiplier", "2"]);
        assert_eq!(code, 1, "{start}: {err}");
        assert!(want.iter().all(|w| err.contains(w)), "{start}: {err}");
    }
}

#[test]
fn bad_events_are_refused_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    ok(&mut demo(&out, &["ingest"]));
    let add = |extra: &[&str]| {
        let mut c = demo(&out, &["event", "add", "--group", "web-prod", "--name", "x"]);
        c.args(extra);
        run(&mut c)
    };
    let window = ["--start", "2026-11-24T10:00:00Z", "--end", "2026-11-24T12:00:00Z"];
    let with = |fx: &[&'static str]| -> Vec<&'static str> { [&window[..], fx].concat() };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--start", "2026-11-24T12:00:00Z", "--end", "2026-11-24T10:00:00Z", "--multiplier", "2"],
            "is not after its start",
        ),
        (with(&["--multiplier", "0"]), "multiplier 0 must be a number from 0.001 to 1000"),
        (with(&["--multiplier", "-2"]), "multiplier -2 must be a number from"),
        (with(&["--multiplier", "1e-300"]), "must be a number from 0.001"),
        (with(&["--peak", "0"]), "peak 0 must be a positive load"),
        (with(&[]), "say what the event does"),
        (
            vec!["--start", "tomorrow", "--end", "2026-11-24T12:00:00Z", "--peak", "5"],
            "--start \"tomorrow\" is not an RFC 3339 time",
        ),
        (
            vec!["--start", "2026-10-20T10:00:00Z", "--end", "2026-10-20T12:00:00Z", "--peak", "5"],
            "before the 28 days of history the fits read ([forecast] train_days, from 2026-10-26 00:00 UTC): \
             recording it would change nothing",
        ),
        (with(&["--like", "2026-11-23T10:00:00Z..2026-11-23T12:00:00Z"]), "after now"),
        (
            with(&["--like", "2026-10-01T10:00:00Z..2026-10-01T12:00:00Z"]),
            "not inside the stored history of web-prod/requests",
        ),
        (with(&["--like", "2026-11-16T10:00:00Z"]), "START..END"),
        (
            vec!["--start", "2026-11-24T10:00", "--end", "2026-11-24T12:00:00Z", "--peak", "5"],
            "has no offset and the group has no time_zone",
        ),
    ];
    // A name of an id's form would make `event remove` take another event for it.
    let mut named = demo(&out, &["event", "add", "--group", "web-prod", "--name", "EV-C1A3586C"]);
    let (code, _, err) = run(named.args(with(&["--multiplier", "2"])));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("has the form of an event id"), "{err}");
    for (args, want) in &cases {
        let (code, _, err) = add(args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected {want:?} in:\n{err}");
    }
    // clap refuses two effects at once.
    let (code, _, err) = add(&with(&["--multiplier", "2", "--peak", "5"]));
    assert_ne!(code, 0);
    assert!(err.contains("cannot be used with"), "{err}");
    let (code, _, err) =
        run(demo(&out, &["event", "add", "--group", "nope", "--name", "x"]).args(with(&["--peak", "5"])));
    assert_eq!(code, 1);
    assert!(err.contains("no group \"nope\"") && err.contains("known groups"), "{err}");
    // Nothing of the above was stored; a good one is, once.
    assert!(ok(&mut demo(&out, &["event", "list"])).contains("no events stored"));
    ok(demo(&out, &["event", "add", "--group", "web-prod", "--name", "x"]).args(with(&["--peak", "5"])));
    // An event that ended within the training window is recorded (last week's launch, added after
    // it), not planned: its hours are kept out of what the fits learn.
    let text = ok(demo(&out, &["event", "add", "--group", "web-prod", "--name", "last launch"]).args([
        "--start",
        "2026-11-20T10:00:00Z",
        "--end",
        "2026-11-20T12:00:00Z",
        "--multiplier",
        "3",
    ]));
    assert!(
        text.contains("(past: not planned; it keeps its hours out of what the forecasts learn")
            && text.contains("learns its hours of the load as the same hours a week before"),
        "{text}"
    );
    let (code, _, err) = run(&mut demo(&out, &["-v", "forecast", "fit", "--group", "web-prod"]));
    assert!(code == 0 && err.contains("web-prod/requests: 24 slots under its events so far"), "{err}");
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "last launch"]));
    // Ten past days of 28: over a quarter, which the fits leave as it is (said, not promised).
    let (code, text, err) = run(demo(&out, &["event", "add", "--group", "web-prod", "--name", "long"]).args([
        "--start",
        "2026-11-08T00:00:00Z",
        "--end",
        "2026-11-18T00:00:00Z",
        "--multiplier",
        "2",
    ]));
    assert!(code == 0 && err.contains("covers 10.0 of the 28.0 days") && err.contains("over a quarter"), "{err}");
    assert!(
        text.contains("(past: not planned; with the group's other events it covers over a quarter of the history")
            && text.contains("the fits leave the history as it is while the group's events cover over a quarter"),
        "{text}"
    );
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "long"]));
    let (code, _, err) = add(&with(&["--multiplier", "2"]));
    assert_eq!(code, 1);
    assert!(err.contains("already has an event \"x\"") && err.contains("event remove"), "{err}");
    // A start years away is stored (a planner may mean it) and questioned.
    let (code, _, err) = run(demo(&out, &["event", "add", "--group", "web-prod", "--name", "typo"]).args([
        "--start",
        "2036-11-24T10:00:00Z",
        "--end",
        "2036-11-24T12:00:00Z",
        "--multiplier",
        "2",
    ]));
    assert!(code == 0 && err.contains("days from now (2036-11-24): a typo in the year?"), "{err}");
    assert!(!err.contains("it lasts"), "{err}");
    // So is one that lasts a year, an end's year mistyped.
    let (code, _, err) = run(demo(&out, &["event", "add", "--group", "web-prod", "--name", "long"]).args([
        "--start",
        "2026-11-24T10:00:00Z",
        "--end",
        "2027-11-24T12:00:00Z",
        "--multiplier",
        "2",
    ]));
    assert!(code == 0 && err.contains("it lasts 365 days, to 2027-11-24: a typo in the end's year or month?"), "{err}");
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "long"]));
    // The same name retyped, other case and a space around it, is the same event.
    let (code, _, err) =
        run(demo(&out, &["event", "add", "--group", "web-prod", "--name", " X "]).args(with(&["--peak", "5"])));
    assert_eq!(code, 1);
    assert!(err.contains("already has an event \"x\""), "{err}");
    // A what-if of that name replaces the stored one, and says so; a peak no group could serve
    // (in other units) leaves the group out of the plan, and says why.
    ok(&mut demo(&out, &["forecast", "fit", "--group", "web-prod"]));
    // A surge the group's MaxSize cannot hold is said when it is added, from the stored forecast;
    // a modest one is not.
    // (In the afternoon: the stored --peak 5 "x" sets the top of the morning's window whatever
    // multiplies it.)
    let afternoon = |fx: &[&'static str]| -> Vec<&'static str> {
        [&["--start", "2026-11-24T14:00:00Z", "--end", "2026-11-24T16:00:00Z"][..], fx].concat()
    };
    let text = ok(demo(&out, &["event", "add", "--group", "web-prod", "--name", "surge"])
        .args(afternoon(&["--multiplier", "40"])));
    assert!(
        text.contains("instances at its P90 in its window (as `prescale plan` sizes floors, with its 10 % headroom)")
            && text.contains("more than the 60 the group's MaxSize"),
        "{text}"
    );
    // Multipliers over the same hours compound: ×40 with ×800 would need over 100,000 instances,
    // which every plan would refuse, so the second is refused with the first named.
    let (code, _, err) = run(demo(&out, &["event", "add", "--group", "web-prod", "--name", "surge again"])
        .args(afternoon(&["--multiplier", "800"])));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("with the group's other events over its hours (\"surge\" (ev-")
            && err.contains("no group holds that many, so every plan would leave web-prod out")
            && err.contains("multipliers multiply"),
        "{err}"
    );
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "surge"]));
    let text = ok(demo(&out, &["event", "add", "--group", "web-prod", "--name", "mild"])
        .args(afternoon(&["--multiplier", "1.1"])));
    assert!(!text.contains("MaxSize"), "{text}");
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "mild"]));
    // ×3 fits MaxSize at the point's full capacity but not at its P90 as the plan sizes floors:
    // said when it is added, as `plan` says it (it said nothing until `plan`).
    let text = ok(demo(&out, &["event", "add", "--group", "web-prod", "--name", "triple"])
        .args(afternoon(&["--multiplier", "3"])));
    assert!(text.contains("at its P90 in its window") && text.contains("MaxSize"), "{text}");
    let plan = ok(&mut demo(&out, &["plan", "--what-if", "--group", "web-prod"]));
    assert!(plan.contains("short of what the group's MaxSize"), "{plan}");
    // … and the list says it beside "planned", where a planner scans for what is covered.
    let list = ok(&mut demo(&out, &["event", "list", "--group", "web-prod"]));
    let triple = list.lines().find(|l| l.contains("triple")).unwrap_or_default();
    assert!(triple.contains("planned; ") && triple.contains("instances short of what MaxSize lets"), "{list}");
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "triple"]));
    // Weeks ahead, beyond the forecast: its --peak is checked at full capacity, as without one.
    let text = ok(demo(&out, &["event", "add", "--group", "web-prod", "--name", "far"]).args([
        "--start",
        "2026-12-01T10:00:00Z",
        "--end",
        "2026-12-01T12:00:00Z",
        "--peak",
        "200000",
    ]));
    assert!(text.contains("even at full capacity") && text.contains("MaxSize"), "{text}");
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "far"]));
    // A forecast older than [trust] max_forecast_age_hours: its events are not planned, as `plan`
    // leaves the group out, and the list says so.
    let list = ok(&mut demo(&out, &["--now", "2026-11-24T06:00:00Z", "event", "list", "--group", "web-prod"]));
    let x = list.lines().find(|l| l.contains("\"x\"") || l.contains(" x ")).unwrap_or_default();
    assert!(x.contains("forecast is stale"), "{list}");
    // A --peak in instances, not load, lowers the floors: said when it is added.
    let text = ok(demo(&out, &["event", "add", "--group", "web-prod", "--name", "low"]).args(with(&["--peak", "50"])));
    assert!(text.contains("the event lowers the floors during it") && text.contains("(not instances)"), "{text}");
    let list = ok(&mut demo(&out, &["event", "list", "--group", "web-prod"]));
    let low = list.lines().find(|l| l.contains(" low ")).unwrap_or_default();
    assert!(low.contains("planned; its --peak lowers the floors"), "{list}");
    // The nightly run warns of it, and with --strict exits 1 for it (and for the peak-5 event "x").
    let (code, _, err) = run(&mut demo(&out, &["nightly", "--quiet", "--strict"]));
    assert!(code == 1 && err.contains("--strict: 2 things in the plan need a person"), "{err}");
    assert!(err.contains("web-prod: event \"low\"") && err.contains("lowers the floors during it"), "{err}");
    ok(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "low"]));
    // A peak no group could serve is refused before it is stored, not found by the nightly run.
    let (code, _, err) =
        run(demo(&out, &["event", "add", "--group", "web-prod", "--name", "huge"]).args(with(&["--peak", "1e12"])));
    assert!(code == 1 && err.contains("no group holds that many") && err.contains("hint: give --peak in"), "{err}");
    assert!(!ok(&mut demo(&out, &["event", "list"])).contains("huge"), "the refused event was stored");
    let (code, _, err) =
        run(demo(&out, &["plan", "--what-if", "--group", "web-prod", "--name", "X"]).args(with(&["--peak", "1e12"])));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("replaces the stored \"x\""), "{err}");
    assert!(err.contains("an event's --peak in other units") && err.contains("check capacity_per_instance"), "{err}");
    let (code, _, err) = run(&mut demo(&out, &["event", "remove", "--group", "web-prod", "--name", "y"]));
    assert_eq!(code, 1);
    assert!(err.contains("no event \"y\" in group web-prod") && err.contains("\"x\" (ev-"), "{err}");
    // Event flags without --what-if, and a trial without one group.
    let (code, _, err) = run(&mut demo(&out, &["plan", "--multiplier", "2"]));
    assert_eq!(code, 1);
    assert!(err.contains("--what-if") && err.contains("event add"), "{err}");
    let (code, _, err) = run(demo(&out, &["plan", "--what-if"]).args(with(&["--multiplier", "2"])));
    assert_eq!(code, 1);
    assert!(err.contains("exactly one --group"), "{err}");
    // A broken events file stops planning with a message, and is not overwritten.
    let file = out.join("store/events/v1/events.json");
    std::fs::write(&file, "{ not json").unwrap();
    let (code, _, err) = run(&mut demo(&out, &["plan"]));
    assert_eq!(code, 1);
    assert!(err.contains("is not a valid events file") && err.contains("move it aside"), "{err}");
    let (code, _, _) = add(&with(&["--multiplier", "2"]));
    assert_eq!(code, 1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{ not json");
}

#[test]
fn what_if_prices_the_extra_instance_hours_with_a_cost_section() {
    let tmp = tempfile::tempdir().unwrap();
    let text = crate::common::demo_config_text();
    let (cfg, out, base) = fitted_web_prod(tmp.path(), "[cost]\ninstance_hour_price = 0.5\ncurrency = \"EUR\"");
    // Events live with the store, beside the configuration here.
    ok(base(&["event", "add", "--group", "web-prod", "--name", "sale", "--multiplier", "1.5"]).args([
        "--start",
        "2026-11-23T18:00:00Z",
        "--end",
        "2026-11-23T21:00:00Z",
    ]));
    assert!(tmp.path().join("store/events/v1/events.json").exists());
    let table = ok(&mut base(&["plan", "--what-if", "--group", "web-prod"]));
    assert!(table.contains("extra cost (EUR)") && !table.contains("set [cost]"), "{table}");
    let json = ok(&mut base(&["plan", "--what-if", "--json", "--group", "web-prod"]));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let (extra, cost) = (doc[0]["extra_instance_hours"].as_f64().unwrap(), doc[0]["extra_cost"].as_f64().unwrap());
    assert!(extra > 0.0 && (cost - extra * 0.5).abs() < 1e-9, "{doc}");
    assert!(!out.join("plan.json").exists(), "--what-if writes no plan");

    // A group's own price overrides [cost]'s; groups without one keep [cost]'s, or show none.
    let web = "name = \"web-prod\"\n";
    let own = text.replacen(web, &format!("{web}instance_hour_price = 2.0\n"), 1);
    std::fs::write(&cfg, format!("{own}\n[cost]\ninstance_hour_price = 0.5\ncurrency = \"EUR\"\n")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&ok(&mut base(&["plan", "--what-if", "--json"]))).unwrap();
    let row = |g: &str| doc.as_array().unwrap().iter().find(|r| r["group"] == g).unwrap().clone();
    assert_eq!(row("web-prod")["instance_hour_price"], 2.0);
    assert!((row("web-prod")["extra_cost"].as_f64().unwrap() - extra * 2.0).abs() < 1e-9, "{doc}");
    assert_eq!(row("api-staging")["instance_hour_price"], 0.5);
    std::fs::write(&cfg, &own).unwrap();
    let table = ok(&mut base(&["plan", "--what-if"]));
    assert!(table.contains("extra cost (USD)") && table.contains("the group has no instance_hour_price"), "{table}");
    let doc: serde_json::Value = serde_json::from_str(&ok(&mut base(&["plan", "--what-if", "--json"]))).unwrap();
    let dev = doc.as_array().unwrap().iter().find(|r| r["group"] == "worker-dev").unwrap();
    assert!(dev["extra_cost"].is_null() && dev["instance_hour_price"].is_null(), "{doc}");

    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, text.replacen(web, &format!("{web}instance_hour_price = -3.0\n"), 1)).unwrap();
    let (code, _, err) = run(prescale().arg("--config").arg(&bad).args(["plan", "--what-if"]));
    assert_eq!(code, 1);
    assert!(err.contains("group \"web-prod\": instance_hour_price = -3"), "{err}");
    std::fs::write(&bad, format!("{text}\n[cost]\ninstance_hour_price = -1.0\n")).unwrap();
    let (code, _, err) = run(prescale().arg("--config").arg(&bad).args(["plan", "--what-if"]));
    assert_eq!(code, 1);
    assert!(err.contains("[cost] instance_hour_price = -1"), "{err}");
}

#[test]
fn event_adds_from_several_processes_at_once_are_all_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    // Six `prescale event add` processes started together: each reads, changes and writes the
    // events file under its lock, so none overwrites another's event.
    let children: Vec<_> = (0..6)
        .map(|k| {
            let name = format!("sale {k}");
            let start = format!("2026-11-24T{:02}:00:00Z", 8 + k);
            let end = format!("2026-11-24T{:02}:30:00Z", 8 + k);
            let args = ["event", "add", "--group", "web-prod", "--name", &name, "--multiplier", "1.2"];
            demo(&out, &args).args(["--start", &start, "--end", &end]).output_spawn()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let list = ok(&mut demo(&out, &["event", "list", "--group", "web-prod"]));
    for k in 0..6 {
        assert!(list.contains(&format!("sale {k}")), "sale {k} lost:\n{list}");
    }
    let events = out.join("store/events/v1/events.json");
    // The lock file stays (the operating system's lock is on it); no process holds it any more.
    let lock = std::fs::File::options().write(true).open(events.with_extension("json.lock")).unwrap();
    assert!(events.exists() && lock.try_lock().is_ok(), "every lock was released");
}

trait SpawnQuiet {
    fn output_spawn(&mut self) -> std::process::Child;
}

impl SpawnQuiet for Command {
    /// Starts the command with its output captured.
    fn output_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
    }
}

#[test]
fn the_nightly_summary_shows_the_peak_the_events_shaped() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let row = |text: &str| text.lines().find(|l| l.contains("│ web-prod ")).unwrap().to_string();
    let before = row(&ok(&mut demo(&out, &["nightly"])));
    assert!(!before.contains("(events)"), "{before}");
    // Twice the load over Tuesday's midday peak.
    ok(demo(&out, &["event", "add", "--group", "web-prod", "--name", "launch"]).args([
        "--start",
        "2026-11-24T12:00:00Z",
        "--end",
        "2026-11-24T16:00:00Z",
        "--multiplier",
        "2",
    ]));
    let text = ok(&mut demo(&out, &["nightly"]));
    let after = row(&text);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let web = plan["groups"].as_array().unwrap().iter().find(|g| g["group"] == "web-prod").unwrap();
    let peak = web["forecast"]["peak_point"].as_f64().unwrap();
    // The table's peak is the plan's (the details and plan.json), not the forecast before the event.
    let shown = format!("{} at", peak.round());
    assert!(after.contains("(events)") && after.replace(',', "").contains(&shown), "{shown}: {after}");
    // Its intervals are the shaped forecast's at that step (they were `-`): the 80 % interval's
    // top, the P90 there, between the peak and the plan's highest P90.
    let p90 = web["forecast"]["peak_quantile"].as_f64().unwrap();
    let rest = after.split("(events)").nth(1).unwrap();
    let top80: f64 =
        rest.split('–').nth(1).unwrap().split_whitespace().next().unwrap().replace(',', "").parse().unwrap();
    assert!(top80 >= peak - 1.0 && top80 <= p90 + 1.0, "{top80} not within {peak}–{p90}: {after}");
    // The stored forecast is the model's: showing it says the plan shapes it by the event.
    let (code, _, err) = run(&mut demo(&out, &["forecast", "show", "--group", "web-prod"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("note: this is the model's forecast") && err.contains("\"launch\""), "{err}");
    // The cron mail's line says an event moved the floors.
    let quiet = ok(&mut demo(&out, &["nightly", "--quiet"]));
    let line = quiet.lines().find(|l| l.starts_with("web-prod:")).unwrap_or_default();
    assert!(line.contains("1 event moving them"), "{quiet}");
    assert!(!quiet.lines().any(|l| l.starts_with("api-staging:") && l.contains("event")), "{quiet}");
}

#[test]
fn events_that_give_their_load_are_planned_without_a_forecast_to_trust() {
    let tmp = tempfile::tempdir().unwrap();
    // No forecast passes this trust: the group gets the reactive policy only, but its events.
    let (_, out, base) = fitted_web_prod(tmp.path(), "[trust]\nmax_backtest_mase = 0.01");
    let add = |name: &str, fx: &[&str]| {
        ok(base(&["event", "add", "--group", "web-prod", "--name", name])
            .args(["--start", "2026-11-24T10:00:00Z", "--end", "2026-11-24T14:00:00Z"])
            .args(fx));
    };
    add("peak", &["--peak", "90000"]);
    add("growth", &["--multiplier", "2"]);
    // event list says what the plan will: the multiplier has no trusted forecast to scale.
    let list = ok(&mut base(&["event", "list", "--group", "web-prod"]));
    let growth = list.lines().find(|l| l.contains("growth")).unwrap_or_default();
    assert!(growth.contains("not planned: a multiplier scales the forecast, and the group's is not trusted"), "{list}");
    let (code, text, err) = run(&mut base(&["plan", "--group", "web-prod"]));
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("floors for its events only"), "{text}");
    assert!(err.contains("event \"growth\"") && err.contains("not planned: a multiplier scales the forecast"), "{err}");
    // 90,000 per 5 min at 2,500 × 70 % per instance, with 10 % headroom: 57, ahead of the start.
    let f = floors(&out, "web-prod");
    assert_eq!(floor_at(&f, t("2026-11-24T09:55:00Z")), 57, "{f:?}");
    assert_eq!(floor_at(&f, t("2026-11-24T08:00:00Z")), 4, "{f:?}");
    assert_eq!(floor_at(&f, t("2026-11-24T14:30:00Z")), 4, "{f:?}");
    // The what-if prices the event against the group at its minimum all along, not against nothing.
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&mut base(&["plan", "--what-if", "--json", "--group", "web-prod"]))).unwrap();
    let (without, extra) =
        (doc[0]["instance_hours_without"].as_f64().unwrap(), doc[0]["extra_instance_hours"].as_f64().unwrap());
    assert!((without - 4.0 * 48.0).abs() < 1.0, "{doc}");
    assert!(extra > 0.0 && extra < 53.0 * 4.5, "{doc}");
    // The multiplier left out is named in the plan and counted in the what-if, not dropped unsaid.
    assert_eq!((doc[0]["events"].as_array().unwrap().len(), doc[0]["events_applied"].as_u64()), (2, Some(1)), "{doc}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let decisions = &plan["groups"][0]["decisions"];
    let named = decisions.as_array().unwrap().iter().filter_map(|d| d["what"].as_str());
    assert!(named.clone().any(|w| w.starts_with("event \"growth\"") && w.ends_with("not planned")), "{decisions}");
}

#[test]
fn an_event_edited_beyond_the_limits_is_listed_and_removable_but_not_planned() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, out, base) = fitted_web_prod(tmp.path(), "");
    ok(base(&["event", "add", "--group", "web-prod", "--name", "sale", "--multiplier", "3"]).args([
        "--start",
        "2026-11-24T10:00:00Z",
        "--end",
        "2026-11-24T14:00:00Z",
    ]));
    ok(&mut base(&["plan", "--group", "web-prod"]));
    let tripled = floor_at(&floors(&out, "web-prod"), t("2026-11-24T12:00:00Z"));
    // Edited by hand to a factor no event may have.
    let file = tmp.path().join("store/events/v1/events.json");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"factor\": 3.0"), "{text}");
    std::fs::write(&file, text.replace("\"factor\": 3.0", "\"factor\": 5000.0")).unwrap();
    let (code, _, err) = run(&mut base(&["plan", "--group", "web-prod"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not planned: multiplier 5000 must be a number from 0.001 to 1000"), "{err}");
    let left_out = floor_at(&floors(&out, "web-prod"), t("2026-11-24T12:00:00Z"));
    assert!(left_out < tripled, "planned without it: {left_out} against {tripled} tripled");
    let list = ok(&mut base(&["event", "list"]));
    assert!(list.contains("outside the limits"), "{list}");
    // `forecast show --events` says it is left out, as the plan does, not that there is none.
    let (code, _, err) = run(&mut base(&["forecast", "show", "--group", "web-prod", "--events"]));
    assert!(
        code == 0 && err.contains("\"sale\"") && err.contains("is not planned, nor shown: multiplier 5000"),
        "{err}"
    );
    assert!(!err.contains("no stored event"), "{err}");
    ok(&mut base(&["event", "remove", "--group", "web-prod", "--name", "sale"]));
    // An events file that cannot be read is never shown as no events.
    std::fs::write(&file, "{\"format\":\"prescale.events/v1\",\"events\":[").unwrap();
    let (code, _, err) = run(&mut base(&["forecast", "show", "--group", "web-prod", "--events"]));
    assert!(code == 1 && err.contains("--events: the group's events cannot be read"), "{err}");
    let (code, _, err) = run(&mut base(&["forecast", "show", "--group", "web-prod"]));
    assert!(code == 0 && err.contains("the stored events cannot be read"), "{err}");
}

#[test]
fn an_event_beyond_the_forecast_is_sized_from_the_history_as_an_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, _, base) = fitted_web_prod(tmp.path(), "");
    // A week out, past the 48 h forecast: ×3 the same hours of the latest week the history holds
    // (two weeks before: the history ends at now).
    let add = ok(base(&["event", "add", "--group", "web-prod", "--name", "launch", "--multiplier", "3"]).args([
        "--start",
        "2026-11-30T14:00:00Z",
        "--end",
        "2026-11-30T18:00:00Z",
    ]));
    assert!(add.contains("the same hours 2 weeks before") && add.contains("even at full capacity"), "{add}");
    let list = ok(&mut base(&["event", "list", "--group", "web-prod"]));
    assert!(
        list.contains(
            "beyond the horizon: not yet planned; about 7 instances short of what MaxSize lets the floors hold at \
             full capacity, 35 at the target (an estimate)"
        ),
        "{list}"
    );
    // ×2.3 fits in MaxSize at full capacity, not at the target: said as what the group runs then.
    ok(&mut base(&["event", "remove", "--group", "web-prod", "--name", "launch"]));
    let add = ok(base(&["event", "add", "--group", "web-prod", "--name", "launch", "--multiplier", "2.3"]).args([
        "--start",
        "2026-11-30T14:00:00Z",
        "--end",
        "2026-11-30T18:00:00Z",
    ]));
    assert!(add.contains("at the 70 % target") && add.contains("at MaxSize the group runs above its target"), "{add}");
    let list = ok(&mut base(&["event", "list", "--group", "web-prod"]));
    assert!(
        list.contains("beyond the horizon") && list.contains("beyond MaxSize at the target (an estimate)"),
        "{list}"
    );
    // A factor the group holds at its target says nothing.
    let add = ok(base(&["event", "add", "--group", "web-prod", "--name", "small", "--multiplier", "1.01"]).args([
        "--start",
        "2026-12-01T14:00:00Z",
        "--end",
        "2026-12-01T18:00:00Z",
    ]));
    assert!(!add.contains("MaxSize"), "{add}");
}

#[test]
fn a_what_if_for_one_group_counts_the_other_groups_as_the_nightly_run_plans_them() {
    // max_fleet_size holds the whole fleet's floors: the nightly run plans every group, so a
    // what-if of one group's event must count the others as planned, not as they stand (their
    // MinSize, before any floor was applied), or it passes an event that fails the night.
    let tmp = tempfile::tempdir().unwrap();
    let (_, _, base) = fitted_web_prod(tmp.path(), "[guardrails]\nmax_fleet_size = 60");
    ok(&mut base(&["ingest"]));
    ok(&mut base(&["forecast", "fit"]));
    let what_if = |group: &[&str]| {
        let mut c = base(&["plan", "--what-if", "--multiplier", "1.8"]);
        c.args(["--start", "2026-11-24T10:00:00Z", "--end", "2026-11-24T14:00:00Z", "--name", "launch"]).args(group);
        run(&mut c)
    };
    let (code, _, err) = what_if(&["--group", "web-prod"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("max_fleet_size"), "{err}");
    // Quietly: the other groups' own warnings are not this what-if's.
    assert!(!err.contains("api-staging:") && !err.contains("worker-dev:"), "{err}");
}

#[test]
fn a_peak_that_lowers_the_floors_says_them_lowered_from_its_start_not_from_a_merge_before_it() {
    // A launch whose --peak lies below the forecast: the floors come down during it. Merging the
    // schedule to fit max_actions goes otherwise with it than without, an hour before: that is
    // not the event's lowering, and the what-if says the floors lowered from its start.
    let tmp = tempfile::tempdir().unwrap();
    let (_, _, base) = fitted_web_prod(tmp.path(), "");
    let text = ok(&mut base(&[
        "plan",
        "--what-if",
        "--group",
        "web-prod",
        "--name",
        "Launch",
        "--start",
        "2026-11-24T08:00:00Z",
        "--end",
        "2026-11-24T12:00:00Z",
        "--peak",
        "20000",
    ]));
    let line = text.lines().find(|l| l.contains("event \"Launch\"")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("floors down to") && line.contains(" from 2026-11-24 08:00 UTC (without it:"), "{line}");
}

#[test]
fn a_window_of_history_with_less_load_lowers_the_floors_said_and_failing_strict() {
    // A launch given the shape of a night (a window from the wrong day or zone): the floors come
    // down during it. Said on stderr as a --peak below the forecast is, and `nightly --strict`
    // fails on it, where it read "the floors during it stay as without it".
    let tmp = tempfile::tempdir().unwrap();
    let (_, out, base) = fitted_web_prod(tmp.path(), "");
    ok(&mut base(&["plan", "--group", "web-prod"]));
    let without = floors(&out, "web-prod");
    let mut add = base(&["event", "add", "--group", "web-prod", "--name", "Launch"]);
    ok(add
        .args(["--start", "2026-11-24T13:00:00Z", "--end", "2026-11-24T17:00:00Z"])
        .args(["--like", "2026-11-22T01:00:00Z..2026-11-22T05:00:00Z"]));
    let (code, text, err) = run(&mut base(&["plan", "--group", "web-prod"]));
    assert_eq!(code, 0, "{text}\n{err}");
    let with = floors(&out, "web-prod");
    let at = t("2026-11-24T15:00:00Z");
    assert!(floor_at(&with, at) < floor_at(&without, at), "{with:?}\nwithout: {without:?}");
    let warning = err.lines().find(|l| l.contains("event \"Launch\"")).unwrap_or_else(|| panic!("{err}"));
    assert!(
        warning.contains("floors down to") && warning.contains("the event lowers the floors during it"),
        "{warning}"
    );
    assert!(!text.contains("the floors during it stay as without it"), "{text}");
    let (code, _, err) = run(&mut base(&["nightly", "--group", "web-prod", "--strict", "--quiet"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--strict: 1 thing in the plan needs a person") && err.contains("Launch"), "{err}");
}

#[test]
fn an_event_under_a_higher_one_is_said_to_raise_the_floors_where_it_does() {
    // A keynote's peak sets the highest floor inside a launch's window; the launch still raises
    // the floors for its other hours, which the plan says (it read "stay as without it"), from
    // where its own rise begins, not from a floor merged otherwise hours before.
    let tmp = tempfile::tempdir().unwrap();
    let (_, out, base) = fitted_web_prod(tmp.path(), "");
    let add = |name: &str, start: &str, end: &str, effect: [&str; 2]| {
        let mut c = base(&["event", "add", "--group", "web-prod", "--name", name]);
        ok(c.args(["--start", start, "--end", end]).args(effect));
    };
    add("Keynote", "2026-11-24T14:00:00Z", "2026-11-24T15:00:00Z", ["--peak", "85000"]);
    ok(&mut base(&["plan", "--group", "web-prod"]));
    let keynote_alone = floors(&out, "web-prod");
    add("Launch", "2026-11-24T13:00:00Z", "2026-11-24T17:00:00Z", ["--multiplier", "1.5"]);
    let text = ok(&mut base(&["plan", "--group", "web-prod"]));
    let both = floors(&out, "web-prod");
    let at = t("2026-11-24T16:00:00Z");
    assert!(floor_at(&both, at) > floor_at(&keynote_alone, at), "{both:?}\nkeynote alone: {keynote_alone:?}");
    let line = text.lines().find(|l| l.contains("event \"Launch\"")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("floors up to") && !line.contains("stay as without it"), "{line}");
    // Its highest floor is the keynote's either way: "without it" is said at the instant it
    // raises them most, not as the highest floor.
    assert!(line.contains(", where it raises them most; at the highest "), "{line}");
    let from = t(&format!("{}:00Z", line.split(" instances from ").nth(1).unwrap()[..16].replace(' ', "T")));
    assert!(from >= t("2026-11-24T12:00:00Z") && from <= t("2026-11-24T13:00:00Z"), "{line}");
    // A --peak above the forecast but below what the launch makes of it lowers the floors: said
    // when it is added (against the forecast as the other events shape it), as `plan` says it.
    let csv = ok(&mut base(&["forecast", "show", "--group", "web-prod", "--format", "csv"]));
    let top = csv
        .lines()
        .filter(|l| l.starts_with("2026-11-24T16:"))
        .map(|l| l.split(',').nth(1).unwrap().parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    let peak = format!("{:.0}", top * 1.25);
    let mut c = base(&["event", "add", "--group", "web-prod", "--name", "Demo", "--peak", &peak]);
    let added = ok(c.args(["--start", "2026-11-24T16:00:00Z", "--end", "2026-11-24T17:00:00Z"]));
    assert!(added.contains("with the group's other events, already peaks at") && added.contains("lowers"), "{added}");
    let list = ok(&mut base(&["event", "list", "--group", "web-prod"]));
    let demo = list.lines().find(|l| l.contains("Demo")).unwrap_or_else(|| panic!("{list}"));
    assert!(demo.contains("its --peak lowers the floors"), "{demo}");
}

/// Runs at an instant of the demo's configuration written to `DIR/prescale.toml` (its load taken
/// as fresh for 20 hours), with `--out DIR/out`, and another store where given.
fn demo_runs_at(dir: &Path) -> impl Fn(&str, Option<&Path>, &[&str]) -> Command {
    let (cfg, out) = (dir.join("prescale.toml"), dir.join("out"));
    let text = demo_config_text().replacen("[apply]", "[trust]\nmax_data_age_mins = 1200\n\n[apply]", 1);
    std::fs::write(&cfg, text).unwrap();
    move |now: &str, store: Option<&Path>, args: &[&str]| {
        let mut c = prescale();
        c.arg("--config").arg(&cfg).arg("--out").arg(&out).args(["--now", now]);
        if let Some(s) = store {
            c.arg("--store").arg(s);
        }
        c.args(args);
        c
    }
}

/// A store moved or lost (a cron line without its `--store`, a folder wiped) starts anew with no
/// events: a plan from it would take the floors of the events the earlier runs planned down. Each
/// group whose last applied plan was made with events the store holds neither as events nor as
/// removed is left out, its floors in place, run after run, until the events are back (or over);
/// an event removed on purpose is recorded, and holds nothing.
#[test]
fn events_lost_with_their_store_leave_their_group_out_with_its_floors_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, at) = (tmp.path().join("out"), demo_runs_at(tmp.path()));
    let window = ["--start", "2026-11-24T10:00:00Z", "--end", "2026-11-24T14:00:00Z", "--multiplier", "3"];
    let add = |store: Option<&Path>, group: &str, name: &str| {
        ok(at("2026-11-23T00:00:00Z", store, &["event", "add", "--group", group, "--name", name]).args(window));
    };
    add(None, "web-prod", "sale");
    add(None, "api-staging", "promo");
    ok(&mut at("2026-11-23T00:00:00Z", None, &["nightly", "--execute"]));
    let actions = |group: &str| -> serde_json::Value {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("demo-asg-state.json")).unwrap()).unwrap();
        state.as_array().unwrap().iter().find(|g| g["group"] == group).unwrap()["scheduled_actions"].clone()
    };
    let (web, api) = (actions("web-prod"), actions("api-staging"));
    // Runs with another (new) store, an hour apart (worker-dev's floors move, so each run keeps a
    // plan without the held groups): said as the earlier runs' store not found, the two groups
    // with events left out every time, their floors in place.
    let b = tmp.path().join("new-store");
    for (i, now) in ["2026-11-23T00:00:00Z", "2026-11-23T01:00:00Z", "2026-11-23T02:00:00Z"].iter().enumerate() {
        let (code, text, err) = run(&mut at(now, Some(&b), &["nightly", "--execute"]));
        assert_eq!(code, 1, "{now}: {text}\n{err}");
        assert_eq!(
            err.contains("a new one is started there, but the runs writing to")
                && err.contains("its history beyond what the sources still hold, and its events, are not in this one"),
            i == 0,
            "{now}: {err}"
        );
        assert!(
            err.contains("web-prod: plan ")
                && err.contains("was made with event \"sale\" (ev-")
                && err.contains("holds neither as events nor as removed: the store the earlier runs used was moved")
                && err.contains("api-staging: plan ")
                && err.contains("hint: for events the store does not hold, give the store the earlier runs used"),
            "{now}: {err}"
        );
        assert!(!err.contains("worker-dev: plan "), "{now}: {err}");
        // (The stand-in runs the actions whose time has passed, and drops them, as Auto Scaling does.)
        let ahead = |a: &serde_json::Value| {
            a.as_array()
                .unwrap()
                .iter()
                .filter(|x| x["start_time"].as_str().unwrap() > *now)
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(ahead(&actions("web-prod")), ahead(&web), "{now}: web-prod's floors stay");
        assert_eq!(ahead(&actions("api-staging")), ahead(&api), "{now}: api-staging's floors stay");
    }
    // web-prod's event added to the new store again: web-prod is planned, api-staging still held.
    add(Some(&b), "web-prod", "sale");
    let (code, _, err) = run(&mut at("2026-11-23T02:00:00Z", Some(&b), &["nightly", "--execute"]));
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("web-prod: plan ") && err.contains("api-staging: plan "), "{err}");
    // api-staging's not wanted any more: added and removed, the removal is recorded, and holds nothing.
    add(Some(&b), "api-staging", "promo");
    ok(&mut at("2026-11-23T02:00:00Z", Some(&b), &["event", "remove", "--group", "api-staging", "--name", "promo"]));
    assert!(b.join("events/v1/removed.json").exists());
    let (code, text, err) = run(&mut at("2026-11-23T02:00:00Z", Some(&b), &["nightly", "--execute"]));
    assert_eq!(code, 0, "{text}\n{err}");
}

/// The events-lost check finds each group's last applied plan by the minute its plan was made, not
/// by its copy's file time: a restore of `OUT/applied/` that gives an older plan's copy the newest
/// time does not make that plan's events (removed since, the record of their removal lost with the
/// store) hold the group.
#[test]
fn a_restore_that_reorders_the_applied_copies_times_does_not_hold_a_group_for_an_older_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, out, at) = (tmp.path().join("prescale.toml"), tmp.path().join("out"), demo_runs_at(tmp.path()));
    let window = ["--start", "2026-11-24T10:00:00Z", "--end", "2026-11-24T14:00:00Z", "--multiplier", "3"];
    ok(at("2026-11-23T00:00:00Z", None, &["event", "add", "--group", "web-prod", "--name", "sale"]).args(window));
    ok(&mut at("2026-11-23T00:00:00Z", None, &["nightly", "--execute"]));
    ok(&mut at("2026-11-23T01:00:00Z", None, &["event", "remove", "--group", "web-prod", "--name", "sale"]));
    ok(&mut at("2026-11-23T01:00:00Z", None, &["nightly", "--execute"]));
    let mut copies: Vec<PathBuf> = std::fs::read_dir(out.join("applied")).unwrap().map(|e| e.unwrap().path()).collect();
    copies.sort();
    assert_eq!(copies.len(), 2, "{copies:?}");
    let named = |p: &Path| std::fs::read_to_string(p).unwrap().contains("\"sale\"");
    assert!(named(&copies[0]) && !named(&copies[1]), "the older plan has the event, the newer not");
    // The restore: the older plan's copy written last.
    let now = std::time::SystemTime::now();
    for (copy, ago) in copies.iter().zip([0, 3600]) {
        let t = now - std::time::Duration::from_secs(ago);
        std::fs::File::options().write(true).open(copy).unwrap().set_modified(t).unwrap();
    }
    // A new store, without the record of the removal: the last plan applied to web-prod named no
    // event, so nothing is held.
    let b = tmp.path().join("new-store");
    let (code, text, err) = run(&mut at("2026-11-23T02:00:00Z", Some(&b), &["nightly", "--execute"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(!err.contains("web-prod: plan ") && err.contains("a new one is started there"), "{err}");
    // Another configuration, of other groups, sharing the --out with a store of its own: its new
    // store is not said to be the earlier runs' lost one, as no plan applied here holds its groups.
    let other = tmp.path().join("other.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &other,
        ["web-prod", "api-staging", "worker-dev"]
            .iter()
            .fold(text, |t, g| t.replace(&format!("name = \"{g}\""), &format!("name = \"eu-{g}\""))),
    )
    .unwrap();
    let mut c = prescale();
    c.arg("--config").arg(&other).arg("--out").arg(&out).arg("--store").arg(tmp.path().join("other-store"));
    let (code, text, err) = run(c.args(["--now", "2026-11-23T02:00:00Z", "ingest"]));
    assert_eq!(code, 0, "{text}\n{err}");
    assert!(err.contains("note: no metric store was at") && !err.contains("but the runs writing to"), "{err}");
}
