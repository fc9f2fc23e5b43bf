//! The events file (`prescale.events/v1`): every planned event of every group, one JSON document.

use std::path::{Path, PathBuf};
use std::time::Duration;

use prescale_core::Event;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::atomic::{read_tagged_json, write_json_atomic};
use crate::lock::FileLock;

/// Format tag of the events file; readers refuse other versions.
pub const EVENTS_FORMAT: &str = "prescale.events/v1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsFile {
    format: String,
    events: Vec<Event>,
}

/// Format tag of the record of removed events (`STORE/events/v1/removed.json`).
pub const REMOVED_FORMAT: &str = "prescale.events-removed/v1";

/// How long a removal is recorded: longer than any plan's horizon and the events it holds to.
const REMOVED_KEPT_DAYS: i64 = 90;

/// An event taken out with [`EventStore::remove`], as `removed.json` records it: a plan made
/// with it that a later run finds in its store neither as an event nor as removed was made from
/// another store (moved or lost).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovedEvent {
    /// Its group.
    pub group: String,
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was removed.
    pub removed_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemovedFile {
    format: String,
    removed: Vec<RemovedEvent>,
}

/// The events of a store, in `STORE/events/v1/events.json`.
///
/// Every change rewrites the whole file atomically (temporary file, sync, rename), so a crash
/// mid-write leaves the previous file, and a leftover temporary file is never read. A file that
/// cannot be read is an error, never an empty list: a later write would otherwise drop every
/// stored event. [`EventStore::add`] and [`EventStore::remove`] read, modify and write the file
/// under an exclusive lock of the operating system on `events.json.lock` (as the metric store's
/// writers, [`crate::MetricStore::lock_for_writing`]), so two processes that change events at once never lose one: the second waits for the first, and a
/// process killed while it held the lock leaves nothing behind that stops the next.
#[derive(Debug, Clone)]
pub struct EventStore {
    path: PathBuf,
    lock_wait: Duration,
}

/// How long a change waits for another process's lock before it gives up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
impl EventStore {
    /// The events file of the store at `store_dir` (nothing is created until the first write).
    pub fn new(store_dir: &Path) -> Self {
        Self { path: store_dir.join("events").join("v1").join("events.json"), lock_wait: LOCK_WAIT }
    }

    /// The same store, waiting at most `wait` for another process's lock.
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The lock file beside the events file.
    pub fn lock_path(&self) -> PathBuf {
        self.path.with_extension("json.lock")
    }

    /// Takes the exclusive lock (the operating system's, see `lock.rs`), waiting up to the
    /// lock wait for another holder to finish.
    fn lock(&self) -> Result<FileLock, StoreError> {
        Ok(crate::lock::exclusive(&self.lock_path(), self.lock_wait)?)
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the record of removed events is, beside the events file.
    pub fn removed_path(&self) -> PathBuf {
        self.path.with_file_name("removed.json")
    }

    /// The events removed in the last 90 days ([`EventStore::remove`] records them); none when
    /// there is no record yet.
    ///
    /// # Errors
    /// As [`EventStore::load`], for the record's file.
    pub fn removed(&self) -> Result<Vec<RemovedEvent>, StoreError> {
        let path = self.removed_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(StoreError::Io { action: "cannot read", path, source }),
        };
        let file: RemovedFile =
            serde_json::from_str(&text).map_err(|source| StoreError::Json { path: path.clone(), source })?;
        if file.format != REMOVED_FORMAT {
            return Err(StoreError::Format { path, found: file.format, expected: REMOVED_FORMAT });
        }
        Ok(file.removed)
    }

    /// Adds `gone` to the record of removed events (under the events' lock), dropping what is
    /// older than 90 days.
    fn record_removal(&self, gone: &Event) -> Result<(), StoreError> {
        let now = chrono::Utc::now();
        let mut removed = self.removed()?;
        removed.retain(|r| now - r.removed_at < chrono::Duration::days(REMOVED_KEPT_DAYS));
        removed.push(RemovedEvent {
            group: gone.group().into(),
            id: gone.id().into(),
            name: gone.name().into(),
            removed_at: now,
        });
        let path = self.removed_path();
        let doc = RemovedFile { format: REMOVED_FORMAT.into(), removed };
        write_json_atomic(&path, &doc, |source| StoreError::Json { path: path.clone(), source })
    }

    /// Every stored event, ordered by group, start and name; none when there is no file yet.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the file exists but cannot be read, [`StoreError::Json`] when it is
    /// not an events file (or holds an invalid event), [`StoreError::Format`] for another version.
    pub fn load(&self) -> Result<Vec<Event>, StoreError> {
        let json = |source| StoreError::Json { path: self.path.clone(), source };
        let Some(file) = read_tagged_json::<EventsFile>(&self.path, EVENTS_FORMAT, json)? else {
            return Ok(Vec::new());
        };
        let mut events = file.events;
        let (mut names, mut ids) = (std::collections::HashSet::new(), std::collections::HashSet::new());
        for e in &events {
            let dup = |what: String| StoreError::EventTwiceInFile { path: self.path.clone(), what };
            if !names.insert((e.group(), e.name())) {
                return Err(dup(format!("named {:?} in group {}", e.name(), e.group())));
            }
            if !ids.insert((e.group(), e.id())) {
                return Err(dup(format!("with id {}", e.id())));
            }
        }
        sort(&mut events);
        Ok(events)
    }

    /// Replaces the stored events with `events`, atomically.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the file cannot be written.
    fn save(&self, events: &[Event]) -> Result<(), StoreError> {
        let mut events = events.to_vec();
        sort(&mut events);
        let doc = EventsFile { format: EVENTS_FORMAT.into(), events };
        write_json_atomic(&self.path, &doc, |source| StoreError::Json { path: self.path.clone(), source })
    }

    /// Adds an event, under the lock.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process holds the lock longer than the lock wait;
    /// [`StoreError::DuplicateEvent`] when the group already has an event of that name (or id);
    /// read and write errors as [`EventStore::load`], and [`StoreError::Io`] when the file cannot be written.
    pub fn add(&self, event: Event) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let mut events = self.load()?;
        if let Some(old) =
            events.iter().find(|e| e.group() == event.group() && (e.id() == event.id() || e.same_name(event.name())))
        {
            return Err(StoreError::DuplicateEvent {
                group: event.group().into(),
                name: old.name().into(),
                id: old.id().into(),
            });
        }
        events.push(event);
        self.save(&events)
    }

    /// Removes the group's event with this name or id and returns it, under the lock.
    ///
    /// # Errors
    /// [`StoreError::Locked`] as [`EventStore::add`]; [`StoreError::NoEvent`] when there is none; read errors as [`EventStore::load`],
    /// and [`StoreError::Io`] when the file cannot be written.
    pub fn remove(&self, group: &str, key: &str) -> Result<Event, StoreError> {
        let _lock = self.lock()?;
        let mut events = self.load()?;
        // An id first: a name stored before names of an id's form were refused may equal another's id.
        let mine = |f: &dyn Fn(&Event) -> bool| events.iter().position(|e| e.group() == group && f(e));
        let Some(i) = mine(&|e| e.id() == key).or_else(|| mine(&|e| e.matches(key))) else {
            let known: Vec<String> = events.iter().filter(|e| e.group() == group).map(Event::label).collect();
            return Err(StoreError::NoEvent { group: group.into(), key: key.into(), known: known.join(", ") });
        };
        let gone = events.remove(i);
        // Recorded first: a removal the record misses would read, to a later plan, as the
        // event lost with a store (its group held); an event left in the file by a failed write
        // is only removed again.
        self.record_removal(&gone)?;
        self.save(&events)?;
        Ok(gone)
    }
}

fn sort(events: &mut [Event]) {
    events.sort_by(|a, b| (a.group(), a.start(), a.name()).cmp(&(b.group(), b.start(), b.name())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use prescale_core::EventEffect;

    fn ev(group: &str, name: &str, day: u32) -> Event {
        let t = Utc.with_ymd_and_hms(2026, 11, day, 6, 0, 0).unwrap();
        Event::new(group, name, t, t + chrono::Duration::hours(14), EventEffect::Multiplier { factor: 3.0 }).unwrap()
    }

    #[test]
    fn a_removed_event_is_recorded_and_the_record_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::new(dir.path());
        assert!(store.removed().unwrap().is_empty(), "no record yet: nothing removed");
        let sale = ev("web", "sale", 27);
        store.add(sale.clone()).unwrap();
        store.add(ev("api", "promo", 27)).unwrap();
        store.remove("web", "sale").unwrap();
        let removed = store.removed().unwrap();
        assert_eq!(removed.iter().map(|r| (r.group.as_str(), r.id.as_str())).collect::<Vec<_>>(), [("web", sale.id())]);
        assert_eq!(store.load().unwrap().len(), 1);
        // A record of another version (or another file) is refused, not taken as empty.
        std::fs::write(store.removed_path(), "{\"format\": \"prescale.events-removed/v9\", \"removed\": []}").unwrap();
        assert!(store.removed().unwrap_err().to_string().contains("v9"));
    }

    #[test]
    fn events_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::new(dir.path());
        assert!(store.load().unwrap().is_empty(), "no file yet: no events");
        store.add(ev("web", "Black Friday", 27)).unwrap();
        store.add(ev("web", "Cyber Monday", 30)).unwrap();
        let like = Event::new(
            "api",
            "launch",
            Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 1, 18, 0, 0).unwrap(),
            EventEffect::Like {
                from: Utc.with_ymd_and_hms(2026, 11, 3, 9, 0, 0).unwrap(),
                to: Utc.with_ymd_and_hms(2026, 11, 3, 18, 0, 0).unwrap(),
            },
        )
        .unwrap();
        store.add(like.clone()).unwrap();
        assert!(dir.path().join("events/v1/events.json").exists());
        let all = store.load().unwrap();
        assert_eq!(all.iter().map(Event::name).collect::<Vec<_>>(), ["launch", "Black Friday", "Cyber Monday"]);
        assert_eq!(all[0], like);
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"format\": \"prescale.events/v1\""), "{text}");

        let dup = store.add(ev("web", "Black Friday", 28)).unwrap_err().to_string();
        assert!(dup.contains("already has an event \"Black Friday\""), "{dup}");
        // A retyped name, other case and spaces around it, is the same event.
        let dup = store.add(ev("web", "black friday ", 28)).unwrap_err().to_string();
        assert!(dup.contains("already has an event \"Black Friday\""), "{dup}");
        assert_eq!(ev("web", " Email ", 28).name(), "Email");
        // The same name in another group is another event.
        store.add(ev("api", "Black Friday", 27)).unwrap();

        let id = all[1].id().to_string();
        assert_eq!(store.remove("web", &id).unwrap().name(), "Black Friday");
        assert_eq!(store.remove("web", "cyber monday").unwrap().name(), "Cyber Monday");
        let missing = store.remove("web", "Cyber Monday").unwrap_err().to_string();
        assert!(missing.contains("no event \"Cyber Monday\" in group web"), "{missing}");
        assert_eq!(store.load().unwrap().len(), 2);
    }

    #[test]
    fn a_hand_edited_file_naming_an_event_twice_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::new(dir.path());
        store.add(ev("web", "sale", 27)).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut twice = file.clone();
        let e = twice["events"][0].clone();
        twice["events"].as_array_mut().unwrap().push(e);
        std::fs::write(store.path(), serde_json::to_string(&twice).unwrap()).unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("two events named \"sale\" in group web"), "{err}");
        assert!(store.add(ev("web", "other", 28)).is_err(), "nothing is written over it");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(store.path()).unwrap()).unwrap(),
            twice
        );
    }

    #[test]
    fn a_crash_mid_write_leaves_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::new(dir.path());
        store.add(ev("web", "Black Friday", 27)).unwrap();
        let before = std::fs::read(store.path()).unwrap();
        // What a crash between create and rename leaves: half a temporary file beside the real
        // one, under this process's name and another's.
        let events_dir = store.path().parent().unwrap();
        for pid in [std::process::id(), 1] {
            let p = events_dir.join(format!(".events.json.tmp-{pid}"));
            std::fs::write(&p, b"{\"format\": \"prescale.ev").unwrap();
            let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
            std::fs::File::options().write(true).open(&p).unwrap().set_modified(hour_ago).unwrap();
        }
        assert_eq!(store.load().unwrap().len(), 1, "the temporary files are never read");
        assert_eq!(std::fs::read(store.path()).unwrap(), before);
        // The next write replaces our own leftover and succeeds.
        store.add(ev("web", "Cyber Monday", 30)).unwrap();
        assert_eq!(store.load().unwrap().len(), 2);
        assert!(!events_dir.join(format!(".events.json.tmp-{}", std::process::id())).exists());
    }

    #[test]
    fn concurrent_adds_and_removes_lose_no_event() {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::new(dir.path());
        store.add(ev("web", "keep", 20)).unwrap();
        store.add(ev("web", "drop", 21)).unwrap();
        // Eight writers at once, each adding three events; one also removes an event.
        std::thread::scope(|s| {
            for t in 0..8 {
                let store = store.clone();
                s.spawn(move || {
                    for k in 0..3 {
                        store.add(ev(&format!("g{t}"), &format!("e{k}"), 22 + k)).unwrap();
                    }
                    if t == 3 {
                        store.remove("web", "drop").unwrap();
                    }
                });
            }
        });
        let all = store.load().unwrap();
        assert_eq!(all.len(), 1 + 8 * 3, "{all:?}");
        assert!(all.iter().any(|e| e.name() == "keep") && !all.iter().any(|e| e.name() == "drop"));
        assert!(crate::lock::exclusive(&store.lock_path(), Duration::ZERO).is_ok(), "the lock is released");
    }

    #[test]
    fn a_held_lock_is_a_clear_error_and_one_left_behind_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::new(dir.path()).with_lock_wait(Duration::from_millis(20));
        store.add(ev("web", "Black Friday", 27)).unwrap();
        let before = std::fs::read(store.path()).unwrap();
        // Another process's lock (the lock is per open file, so a second open stands for one).
        let held = crate::lock::exclusive(&store.lock_path(), Duration::ZERO).unwrap();
        let e = store.add(ev("web", "Cyber Monday", 30)).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, StoreError::Locked { .. }), "{msg}");
        assert!(msg.contains(&format!("events.json.lock (pid {} since ", std::process::id())), "{msg}");
        assert!(msg.contains("released when that process ends"), "{msg}");
        assert!(store.remove("web", "Black Friday").is_err());
        assert_eq!(std::fs::read(store.path()).unwrap(), before, "nothing changed under someone else's lock");
        drop(held);
        // A lock file left by a process that was killed, however old and whatever it says, holds
        // nothing: the operating system released the lock with that process.
        std::fs::write(store.lock_path(), "pid 4242 since 2026-11-23T00:00:00Z\n").unwrap();
        let old = std::fs::File::options().write(true).open(store.lock_path()).unwrap();
        old.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600)).unwrap();
        store.add(ev("web", "Cyber Monday", 30)).unwrap();
        assert_eq!(store.load().unwrap().len(), 2);
    }

    #[test]
    fn a_broken_or_foreign_file_is_an_error_not_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::new(dir.path());
        std::fs::create_dir_all(store.path().parent().unwrap()).unwrap();
        std::fs::write(store.path(), "{\"format\": \"prescale.events/v1\", \"events\": [").unwrap();
        let e = store.load().unwrap_err().to_string();
        assert!(e.contains("events.json is not a valid events file"), "{e}");
        assert!(store.add(ev("web", "x", 27)).is_err(), "a write never replaces a file it could not read");
        std::fs::write(store.path(), "{\"format\": \"prescale.events/v9\", \"events\": []}").unwrap();
        let e = store.load().unwrap_err().to_string();
        assert!(e.contains("prescale.events/v9") && e.contains("prescale.events/v1"), "{e}");
    }
}
