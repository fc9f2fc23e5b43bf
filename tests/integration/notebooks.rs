//! The notebooks in `notebooks/` run headless (`jupyter nbconvert --execute`) on what prescale
//! writes, and their tables recompute the CLI's figures: each notebook's check cell compares them
//! with the `--format json` of the same run. `tests/run.sh` installs Jupyter and the notebooks'
//! packages (`notebooks/requirements.txt`) and exports `PRESCALE_TEST_JUPYTER`.

use crate::common::{from_test_command, ok, prescale};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Executes `notebooks/NAME.ipynb` with `env` into `dir`; (success, the executed notebook or the
/// error output).
fn execute(jupyter: &Path, name: &str, env: &[(&str, &Path)], dir: &Path) -> (bool, String) {
    let out = dir.join(format!("{name}-executed.ipynb"));
    let mut cmd = Command::new(jupyter);
    cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks"))
        .args(["nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=300", "--output"])
        .arg(&out)
        .arg(format!("{name}.ipynb"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Jupyter's own settings and kernels from the venv only: a user's kernel named python3 (another
    // Python, without these packages) would otherwise run the notebook.
    cmd.env("JUPYTER_CONFIG_DIR", dir.join("jupyter-config"))
        .env("JUPYTER_DATA_DIR", dir.join("jupyter-data"))
        .env("JUPYTER_PLATFORM_DIRS", "1")
        .env_remove("JUPYTER_PATH")
        // Nor a user's IPython startup files or matplotlib settings.
        .env("IPYTHONDIR", dir.join("ipython"))
        .env("MPLCONFIGDIR", dir.join("matplotlib"));
    let o = cmd.output().expect("cannot run jupyter");
    if !o.status.success() {
        return (false, String::from_utf8_lossy(&o.stderr).into_owned());
    }
    (true, std::fs::read_to_string(&out).unwrap())
}

/// Sets the first `"key": NUMBER` of `json` to `value`: a figure the notebook must then disagree with.
fn tamper(json: &str, key: &str, value: &str) -> String {
    let at = json.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("no {key} in the JSON")) + key.len() + 3;
    let end = at + json[at..].find([',', '\n', '}']).unwrap();
    format!("{}{value}{}", &json[..at], &json[end..])
}

#[test]
fn the_notebooks_run_headless_and_recompute_the_clis_figures() {
    let Some(jupyter) = from_test_command("PRESCALE_TEST_JUPYTER").map(PathBuf::from) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let trace = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/web-prod-requests.csv");

    // A trace's replay and a load test: the simulate notebook's table against the CLI's JSON.
    let (sim, sim_json) = (dir.join("sim.parquet"), dir.join("sim.json"));
    let json = ok(prescale()
        .arg("simulate")
        .arg("--input")
        .arg(&trace)
        .arg("--timeseries")
        .arg(&sim)
        .args(["--format", "json"]));
    std::fs::write(&sim_json, &json).unwrap();
    let (spike, spike_json) = (dir.join("spike.parquet"), dir.join("spike.json"));
    let spike_text =
        ok(prescale().args(["simulate", "--scenario", "spike", "--timeseries"]).arg(&spike).args(["--format", "json"]));
    std::fs::write(&spike_json, &spike_text).unwrap();
    for (file, json, says) in
        [(&sim, &sim_json, "7 policies × 7 columns"), (&spike, &spike_json, "7 policies × 8 columns")]
    {
        let (done, text) =
            execute(&jupyter, "simulate", &[("PRESCALE_SIMULATION", file), ("PRESCALE_SIMULATION_JSON", json)], dir);
        assert!(done, "simulate.ipynb failed on {}:\n{text}", file.display());
        // The check cell's output (its source says the words, not the file and the counts).
        let said = format!("the table equals the CLI's {}: {says}", json.display());
        assert!(text.contains(&said), "{said}:\n{text}");
    }

    // A backtest: the backtest notebook's scores against the CLI's JSON.
    let (bt, bt_json) = (dir.join("bt.parquet"), dir.join("bt.json"));
    let json =
        ok(prescale().arg("backtest").arg("--input").arg(&trace).arg("--output").arg(&bt).args(["--format", "json"]));
    std::fs::write(&bt_json, &json).unwrap();
    let (done, text) =
        execute(&jupyter, "backtest", &[("PRESCALE_BACKTEST", &bt), ("PRESCALE_BACKTEST_JSON", &bt_json)], dir);
    assert!(done, "backtest.ipynb failed:\n{text}");
    let said = format!("the scores equal the CLI's {}: 5 series and models, 20 figures", bt_json.display());
    assert!(text.contains(&said), "{said}:\n{text}");

    // The checks can fail: one figure changed in each JSON stops its notebook, naming it.
    std::fs::write(&sim_json, tamper(&std::fs::read_to_string(&sim_json).unwrap(), "instance_hours", "1.5")).unwrap();
    let (done, text) =
        execute(&jupyter, "simulate", &[("PRESCALE_SIMULATION", &sim), ("PRESCALE_SIMULATION_JSON", &sim_json)], dir);
    assert!(!done && text.contains("instance-h: here"), "{text}");
    std::fs::write(&bt_json, tamper(&std::fs::read_to_string(&bt_json).unwrap(), "wape", "0.5")).unwrap();
    let (done, text) =
        execute(&jupyter, "backtest", &[("PRESCALE_BACKTEST", &bt), ("PRESCALE_BACKTEST_JSON", &bt_json)], dir);
    assert!(!done && text.contains("WAPE: here"), "{text}");
}
