//! Exclusive locks between prescale processes: the operating system's lock on a file (`flock` on
//! Unix), which a process holds for as long as it lives. A killed process releases its lock with
//! its life, so there is no stale lock to judge by age or pid (a pid is reused, pid 1 in every
//! container), and the lock file itself stays where it is: removing it would let two processes
//! lock two different files of the same name.

use std::fs::{File, OpenOptions};
use std::io::{Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::StoreError;

/// A held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct FileLock {
    file: File,
}

impl Drop for FileLock {
    /// Empties the file (best effort) before the lock goes with the file: a holder that ended is
    /// not left named as one (a killed one still is, until the next holder writes its own line).
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

/// Why [`exclusive`] returned without the lock.
#[derive(Debug)]
pub(crate) enum NotTaken {
    /// Another process held it for the whole wait; `holder` is what the lock file says about it
    /// (`pid 1234 since …`), or `holder unknown`.
    Held { path: PathBuf, holder: String },
    /// The lock file could not be created or locked.
    Io(StoreError),
}

impl From<NotTaken> for StoreError {
    /// A lock of a store's file not taken: [`StoreError::Locked`] naming its holder, or why the
    /// lock file could not be used.
    fn from(e: NotTaken) -> Self {
        match e {
            NotTaken::Held { path, holder } => StoreError::Locked { path, holder },
            NotTaken::Io(e) => e,
        }
    }
}

/// Takes the exclusive lock on `path` (created, with its directory, if absent), waiting up to
/// `wait` for another holder to let go. The holder then writes its pid and the time into the
/// file, for the message a waiting process prints (best effort). Waiting uses the wall clock: it is
/// about other processes, not about the data. A wait of more than a second is said (a warning).
pub(crate) fn exclusive(path: &Path, wait: Duration) -> Result<FileLock, NotTaken> {
    acquire(path, wait, true)
}

/// [`exclusive`], saying a wait of more than a second where `say_wait`.
pub(crate) fn acquire(path: &Path, wait: Duration, say_wait: bool) -> Result<FileLock, NotTaken> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|source| NotTaken::Io(StoreError::Io { action: "cannot create", path: dir.into(), source }))?;
    // Never through a link (one placed by another user would have its target written), and
    // readable by this user alone: any process that can open a lock file can hold it.
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt as _;
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|source| {
                let action = match source.raw_os_error() {
                    Some(libc::ELOOP) => "cannot open the lock: a link stands at its name, and is not followed:",
                    Some(libc::EACCES | libc::EPERM) if path.exists() => {
                        "cannot open the lock, which another user's run made (a lock is private to the user who \
                         made it: let one user run prescale on a store, or remove the lock when no run holds it):"
                    }
                    Some(libc::EROFS | libc::EACCES | libc::EPERM) => {
                        "cannot create the lock (a run that changes groups or the store needs to write there: \
                         give it a folder this user can write; `forecast show` and `backtest` read a store they \
                         cannot write)"
                    }
                    _ => "cannot create the lock",
                };
                NotTaken::Io(StoreError::Io { action, path: path.into(), source })
            })?
    };
    // One made by an older version, open to every user: its owner closes it to others (best
    // effort; a group that shares the store keeps its access).
    if let Ok(m) = file.metadata()
        && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o007 != 0
    {
        let mode = std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o770;
        let _ = file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    }
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    let mut said = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                // Said once a wait is more than a blink, so a run that sits still says on what.
                if say_wait && !said && started.elapsed() >= Duration::from_secs(1) {
                    said = true;
                    let holder = std::fs::read_to_string(path).unwrap_or_default().trim().to_string();
                    tracing::warn!(
                        "waiting up to {} s for another run to release {} ({})",
                        wait.as_secs(),
                        path.display(),
                        if holder.is_empty() { "holder unknown" } else { holder.as_str() }
                    );
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(path).unwrap_or_default().trim().to_string();
                let holder = if holder.is_empty() { "holder unknown".into() } else { holder };
                return Err(NotTaken::Held { path: path.into(), holder });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(NotTaken::Io(StoreError::Io { action: "cannot lock", path: path.into(), source }));
            }
        }
    }
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "pid {} since {since}", std::process::id()));
    Ok(FileLock { file })
}

/// Takes the exclusive lock on `path` for a run that changes something outside the store (the
/// groups, on `apply --execute`), waiting up to `wait` for another holder. It says nothing while
/// it waits: the caller says whom it waits for (the holder is in [`StoreError::Applying`] from a
/// try with no wait).
///
/// # Errors
/// [`StoreError::Applying`] when another process held it for the whole wait; I/O errors.
pub fn lock_run(path: &Path, wait: Duration) -> Result<FileLock, StoreError> {
    acquire(path, wait, false).map_err(|e| match e {
        NotTaken::Held { path, holder } => StoreError::Applying { path, holder },
        NotTaken::Io(e) => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_waits_then_is_told_who_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store/apply.lock");
        let held = lock_run(&path, Duration::ZERO).unwrap();
        let e = lock_run(&path, Duration::from_millis(30)).unwrap_err();
        assert!(matches!(e, StoreError::Applying { .. }), "{e}");
        assert!(e.to_string().contains(&format!("pid {}", std::process::id())), "{e}");
        drop(held);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "an ended holder is not named");
        lock_run(&path, Duration::ZERO).expect("released with its holder");
        // Readable by its user alone: any process that can open a lock can hold it.
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_link_at_the_lock_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let path = dir.path().join("apply.lock");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let e = lock_run(&path, Duration::ZERO).unwrap_err();
        assert!(e.to_string().contains("a link stands at its name, and is not followed"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        // A folder this user cannot write: said with what needs to write there.
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
        if std::fs::write(ro.join("probe"), "").is_err() {
            let e = lock_run(&ro.join("apply.lock"), Duration::ZERO).unwrap_err().to_string();
            assert!(e.contains("give it a folder this user can write"), "{e}");
        }
    }
}
