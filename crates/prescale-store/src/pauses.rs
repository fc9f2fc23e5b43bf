//! The pauses file (`prescale.pauses/v1`): groups an operator told prescale to leave alone for a
//! while (`prescale pause`), one JSON document in `STORE/pauses/v1/pauses.json`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::atomic::{read_tagged_json, write_json_atomic};

/// Format tag of the pauses file; readers refuse other versions.
pub const PAUSES_FORMAT: &str = "prescale.pauses/v1";

/// One group paused: no plan is made or applied to it until `until` or a resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// The group.
    pub group: String,
    /// When it was paused.
    pub since: DateTime<Utc>,
    /// When the pause ends by itself.
    pub until: DateTime<Utc>,
    /// Why, as the operator said it (may be empty).
    #[serde(default)]
    pub reason: String,
}

impl Pause {
    /// Whether it holds at `now`: from its start to its end.
    pub fn holds_at(&self, now: DateTime<Utc>) -> bool {
        self.since <= now && now < self.until
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PausesFile {
    format: String,
    pauses: Vec<Pause>,
}

/// The pauses of a store. Every change rewrites the file atomically under the exclusive lock
/// `pauses.json.lock` (as the events file's, [`crate::EventStore`]); a file that cannot be read is
/// an error, never an empty list, so that a damaged file does not quietly end every pause.
#[derive(Debug, Clone)]
pub struct PauseStore {
    path: PathBuf,
}

impl PauseStore {
    /// The pauses file of the store at `store_dir` (nothing is created until the first pause).
    pub fn new(store_dir: &Path) -> Self {
        Self { path: store_dir.join("pauses").join("v1").join("pauses.json") }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every stored pause, ended ones included until the next change drops them, by group; none
    /// when there is no file.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the file exists but cannot be read, [`StoreError::Json`] when it is
    /// not a pauses file, [`StoreError::Format`] for another version.
    pub fn load(&self) -> Result<Vec<Pause>, StoreError> {
        let json = |source| StoreError::PausesJson { path: self.path.clone(), source };
        let file: Option<PausesFile> = read_tagged_json(&self.path, PAUSES_FORMAT, json)?;
        Ok(file.map(|f| f.pauses).unwrap_or_default())
    }

    /// The stored pauses that hold at `now` ([`Pause::holds_at`]).
    ///
    /// # Errors
    /// As [`PauseStore::load`].
    pub fn holding_at(&self, now: DateTime<Utc>) -> Result<Vec<Pause>, StoreError> {
        Ok(self.load()?.into_iter().filter(|p| p.holds_at(now)).collect())
    }

    /// Pauses each of `groups` from `since` to `until` (replacing a pause it has), and drops the
    /// pauses that ended before `ended_before` (the earlier of the run's instant and the clock,
    /// so that a run at a later `--now` does not drop a pause that still holds); returns what the
    /// file holds after.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process holds the lock for 10 seconds; read errors as
    /// [`PauseStore::load`], and [`StoreError::Io`] when the file cannot be written.
    pub fn pause(
        &self,
        groups: &[String],
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        reason: &str,
        ended_before: DateTime<Utc>,
    ) -> Result<Vec<Pause>, StoreError> {
        self.change(ended_before, |pauses| {
            pauses.retain(|p| !groups.contains(&p.group));
            pauses.extend(groups.iter().map(|g| Pause { group: g.clone(), since, until, reason: reason.into() }));
            true
        })
    }

    /// Ends the pauses of `groups` that hold at `now` (and drops those that ended before
    /// `ended_before`, as [`PauseStore::pause`]); returns the pauses ended. Nothing is written
    /// where nothing changes.
    ///
    /// # Errors
    /// As [`PauseStore::pause`].
    pub fn resume(
        &self,
        groups: &[String],
        now: DateTime<Utc>,
        ended_before: DateTime<Utc>,
    ) -> Result<Vec<Pause>, StoreError> {
        let mut ended = Vec::new();
        self.change(ended_before, |pauses| {
            let before = pauses.len();
            pauses.retain(|p| {
                let ends = groups.contains(&p.group) && p.holds_at(now);
                if ends {
                    ended.push(p.clone());
                }
                !ends
            });
            pauses.len() != before
        })?;
        Ok(ended)
    }

    /// Reads, changes (`f` says whether it changed anything) and writes the file under the lock,
    /// dropping the pauses ended before `ended_before`; nothing is written where nothing changed.
    fn change(
        &self,
        ended_before: DateTime<Utc>,
        f: impl FnOnce(&mut Vec<Pause>) -> bool,
    ) -> Result<Vec<Pause>, StoreError> {
        let lock = self.path.with_extension("json.lock");
        let _lock = crate::lock::exclusive(&lock, crate::events::LOCK_WAIT)?;
        let mut pauses = self.load()?;
        let before = pauses.len();
        pauses.retain(|p| p.until > ended_before);
        if !f(&mut pauses) && pauses.len() == before {
            return Ok(pauses);
        }
        pauses.sort_by(|a, b| a.group.cmp(&b.group));
        let doc = PausesFile { format: PAUSES_FORMAT.into(), pauses };
        write_json_atomic(&self.path, &doc, |source| StoreError::PausesJson { path: self.path.clone(), source })?;
        Ok(doc.pauses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + h * 3600, 0).unwrap()
    }

    #[test]
    fn a_pause_holds_from_its_start_until_its_end_or_a_resume_and_a_damaged_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = PauseStore::new(dir.path());
        let active = |group: &str, now| store.load().unwrap().into_iter().find(|p| p.group == group && p.holds_at(now));
        assert_eq!(active("web", t(0)), None);
        let groups = vec!["web".to_string(), "api".to_string()];
        store.pause(&groups, t(0), t(24), "incident 42", t(0)).unwrap();
        let p = active("web", t(23)).unwrap();
        assert_eq!((p.since, p.until, p.reason.as_str()), (t(0), t(24), "incident 42"));
        assert_eq!(active("web", t(24)), None, "ended by itself");
        assert_eq!(active("web", t(-1)), None, "not yet begun");
        // Paused again: replaced, not doubled; a resume ends one group's and says which.
        store.pause(&groups[..1], t(1), t(48), "", t(1)).unwrap();
        assert_eq!(store.load().unwrap().iter().filter(|p| p.group == "web").count(), 1);
        let ended = store.resume(&groups[..1], t(2), t(2)).unwrap();
        assert_eq!(ended.len(), 1);
        assert_eq!(active("web", t(2)), None);
        assert!(active("api", t(2)).is_some());
        // A resume of another group at a later instant drops only what ended before the earlier
        // of that instant and the clock's (here t(3)): api's pause, to t(24), stays.
        store.resume(&["db".to_string()], t(30), t(3)).unwrap();
        assert!(active("api", t(2)).is_some());
        store.resume(&[], t(30), t(30)).unwrap();
        assert!(store.load().unwrap().is_empty());
        std::fs::write(store.path(), "{ not json").unwrap();
        let e = store.load().unwrap_err().to_string();
        assert!(e.contains("is not a valid pauses file"), "{e}");
        assert!(store.pause(&groups, t(2), t(3), "", t(2)).is_err(), "a damaged file is not written over");
        assert_eq!(std::fs::read_to_string(store.path()).unwrap(), "{ not json");
    }
}
