//! Stopping a run that is writing to the groups. A nightly job is stopped by SIGTERM (a cron or
//! systemd timeout, a host going down), a person at a terminal by Ctrl-C (SIGINT) or a dropped
//! session (SIGHUP); killed in
//! the middle of a call, a run leaves changes whose outcome nobody heard (the next run marks them
//! `interrupted` and converges). While changes are written, the first such signal lets the call
//! in flight finish and its outcome reach the audit log, attempts nothing after it, prints what
//! was and was not done, and exits `128 + signal` (143, 130, 129). A second signal stops at once.
//! Outside the writing, a signal stops the run at once, as it would without this.
//!
//! The handler is installed by the first [`writing`], or by [`watch`] (`nightly`, from its start),
//! so other runs that never write keep the default.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The signal that asked the run to stop (0: none).
static ASKED: AtomicI32 = AtomicI32::new(0);
/// Whether changes are being written now.
static WRITING: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// While it lives, a SIGTERM, SIGINT or SIGHUP stops the run after the call in flight.
#[must_use = "the writing ends when the guard is dropped"]
pub struct Writing(());

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.store(false, Ordering::SeqCst);
    }
}

/// Watches for the signals from now on, so that a run stopped before its writes says so on stderr
/// (a cron job's mail gets a reason, not an empty exit 143); it still stops at once.
pub fn watch() {
    INSTALL.call_once(install);
}

/// Marks the start of a run's writes (installing the handler on first use).
pub fn writing() -> Writing {
    INSTALL.call_once(install);
    WRITING.store(true, Ordering::SeqCst);
    Writing(())
}

/// The signal that asked the run to stop, by name (`SIGTERM`, `SIGINT`, `SIGHUP`), if one did.
pub fn asked() -> Option<&'static str> {
    match ASKED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(name(s)),
    }
}

/// The exit code of a run stopped by a signal: `128 + signal`, as a shell reports one killed by it.
pub fn exit_code() -> Option<u8> {
    u8::try_from(128 + ASKED.load(Ordering::SeqCst)).ok().filter(|_| asked().is_some())
}

fn name(signal: i32) -> &'static str {
    match signal {
        SIGHUP => "SIGHUP",
        SIGINT => "SIGINT",
        _ => "SIGTERM",
    }
}

/// A thread of its own waits for the signals, on a small runtime (the writes' runtime runs only
/// inside their calls). Returns once the handlers are in place, so that the first write is
/// covered; if they cannot be installed, the run goes on with the default (said once).
fn install() {
    use tokio::signal::unix::{SignalKind, signal};
    let (ready, installed) = std::sync::mpsc::channel::<Result<(), String>>();
    let spawned = std::thread::Builder::new().name("prescale-signals".into()).spawn(move || {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready.send(Err(e.to_string()));
                return;
            }
        };
        rt.block_on(async move {
            let kinds =
                [(SIGTERM, SignalKind::terminate()), (SIGINT, SignalKind::interrupt()), (SIGHUP, SignalKind::hangup())];
            let mut watched = Vec::new();
            // A signal ignored on purpose stays so: `nohup` ignores SIGHUP, a shell's background
            // job SIGINT.
            let ignored = ignored_signals();
            for (number, kind) in kinds.into_iter().filter(|(number, _)| (ignored >> (number - 1)) & 1 == 0) {
                match signal(kind) {
                    Ok(s) => watched.push((number, s)),
                    Err(e) => {
                        let _ = ready.send(Err(e.to_string()));
                        return;
                    }
                }
            }
            let _ = ready.send(Ok(()));
            let mut waiting = Vec::new();
            for (number, mut s) in watched {
                waiting.push(tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        on_signal(number);
                    }
                }));
            }
            for w in waiting {
                let _ = w.await;
            }
        });
    });
    let outcome = match spawned {
        Ok(_) => installed.recv().unwrap_or_else(|_| Err("the signal thread ended".into())),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = outcome {
        tracing::warn!(
            "cannot watch for SIGTERM / SIGINT ({e}): a signal during the writes stops the run at once, and the next \
             --execute run marks the changes it left open as interrupted"
        );
    }
}

/// The signals the process was started with ignored, as a mask (bit `signal − 1`; `SigIgn` in
/// `/proc/self/status`, on Linux; elsewhere none is known to be).
fn ignored_signals() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("SigIgn:")).and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        })
        .unwrap_or(0)
}

fn on_signal(signal: i32) {
    let sig = name(signal);
    // A progress line may stand on the terminal: wiped, so that the message reads whole.
    crate::commands::Progress::wipe();
    // Written as the run's other messages are: a stderr that is gone (a pipe to a logger the
    // same stop ended) loses the message, never the run.
    let say = |text: &str| {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "prescale: {sig}: {text}");
    };
    let at_once = |why: &str| -> ! {
        say(why);
        std::process::exit(128 + signal);
    };
    if !WRITING.load(Ordering::SeqCst) {
        at_once("stopped (nothing was being written to the groups)");
    }
    if ASKED.swap(signal, Ordering::SeqCst) != 0 {
        at_once(
            "again: stopped at once, in the middle of a call; the next --execute run marks the changes left open in \
             the audit log as interrupted and reads what took effect from the groups",
        );
    }
    say("finishing the call in flight, then stopping: nothing after it is attempted (send it again to stop at \
         once)");
}
