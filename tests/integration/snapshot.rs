//! Snapshots of what users read (insta): a forecast table, a load test's table and a refusal.
//! Any change to them fails here until reviewed: `INSTA_UPDATE=always bash tests/run.sh` writes
//! the new ones, `git diff tests/integration/snapshots/` shows what changed (or `cargo insta
//! review`, where cargo-insta is installed). The inputs are the built-in demo data and generated
//! load tests, with no wall clock in the output, so the snapshots hold on any machine.

use crate::common::{ok, prescale, run};

#[test]
fn forecast_table_of_the_demo_web_tier() {
    let out = ok(prescale().args([
        "forecast",
        "show",
        "--input",
        "data/demo/web-prod-requests.csv",
        "--horizon",
        "1h",
        "--levels",
        "80,95",
    ]));
    insta::assert_snapshot!(out);
}

#[test]
fn the_spike_load_test_table() {
    insta::assert_snapshot!(ok(prescale().args(["simulate", "--scenario", "spike"])));
}

#[test]
fn a_scale_in_threshold_at_or_above_the_target_is_refused_with_the_bound() {
    let (code, out, err) =
        run(prescale().args(["simulate", "--input", "data/demo/web-prod-requests.csv", "--step-in-below", "1.1"]));
    assert_eq!((code, out.as_str()), (1, ""));
    insta::assert_snapshot!(err);
}
