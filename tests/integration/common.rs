use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `prescale` binary built for these tests.
pub fn prescale() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_prescale"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    // Tests pin their own inputs; nothing from the developer's environment leaks in.
    for v in ["PRESCALE_CONFIG", "PRESCALE_STORE", "PRESCALE_OUT", "PRESCALE_NOW", "PRESCALE_LOG"] {
        c.env_remove(v);
    }
    c
}

/// Runs the binary and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = cmd.output().expect("cannot run prescale");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Runs and insists on success.
pub fn ok(cmd: &mut Command) -> String {
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "prescale failed\nstdout:\n{out}\nstderr:\n{err}");
    out
}

/// A variable `tests/run.sh` exports for the tests that need what it starts or installs (the
/// moto server, Jupyter), or `None`: a skip said on stderr, but a failure under `CI=true`.
pub fn from_test_command(var: &str) -> Option<String> {
    let Ok(v) = std::env::var(var) else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but no {var}: run the tests with tests/run.sh");
        eprintln!("skipping: {var} is not set (run the tests with tests/run.sh)");
        return None;
    };
    Some(v)
}

/// The shared real data (`PRESCALE_SHARED_DATA`, default `../shared/data`), if present.
/// Under `CI=true` its absence is a failure, not a skip.
pub fn shared_data() -> Option<PathBuf> {
    let p = std::env::var_os("PRESCALE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if p.join("nab").is_dir() {
        return Some(p);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but the shared data is not at {}", p.display());
    eprintln!("skipping: no shared data at {} (set PRESCALE_SHARED_DATA)", p.display());
    None
}

/// For each (configuration text, expected message): `prescale plan` with it exits 1 and says so.
pub fn assert_configs_refused(dir: &Path, cases: &[(String, &str)]) {
    for (text, want) in cases {
        let p = dir.join("bad.toml");
        std::fs::write(&p, text).unwrap();
        let (code, _, err) = run(prescale().arg("--config").arg(&p).arg("plan"));
        assert_eq!(code, 1, "{want}: {err}");
        assert!(err.contains(want), "expected {want:?} in:\n{err}");
    }
}

/// The demo configuration (`data/demo/prescale.toml`) with its data files' paths made absolute,
/// so that a copy of it works from any folder.
pub fn demo_config_text() -> String {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");
    std::fs::read_to_string(demo.join("prescale.toml"))
        .unwrap()
        .replace("file = \"", &format!("file = \"{}/", demo.display()))
}
