use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// How an event changes a group's forecast during its window `[start, end)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
// Exhaustive on purpose: a new kind changes the events file format, and every match should say
// what it does with it.
pub enum EventEffect {
    /// The point forecast and every interval bound are multiplied by `factor` (> 0).
    Multiplier {
        /// The factor, e.g. 3.0.
        factor: f64,
    },
    /// The forecast is scaled so that its point peak within the window equals `peak` (> 0), in
    /// the load metric's units; the interval bounds are scaled by the same factor.
    Peak {
        /// The peak load, e.g. 150000 requests per step.
        peak: f64,
    },
    /// The forecast takes the shape of a past window `[from, to)` of the same group's stored
    /// history, aligned by the offset from each window's start (repeating when the event is
    /// longer than the window), at the load the history had then.
    Like {
        /// Start of the past window.
        from: DateTime<Utc>,
        /// End of the past window (exclusive).
        to: DateTime<Utc>,
    },
}

/// The largest event multiplier: an event a thousand times the forecast is a typo (and products
/// of larger ones overflow).
pub const MAX_MULTIPLIER: f64 = 1000.0;

/// Event peaks must stay below this load (as metric values stay below 1e100 elsewhere).
pub const MAX_PEAK: f64 = 1e100;

/// The longest event name, in characters (names are shown in tables, plans and logs).
pub const MAX_NAME_CHARS: usize = 200;

impl EventEffect {
    /// Short description for people: `×3`, `peak 150,000`, `like 2025-11-28 00:00..2025-11-29 00:00 UTC`.
    pub fn describe(&self) -> String {
        match self {
            EventEffect::Multiplier { factor } => format!("×{factor}"),
            // As given, but for magnitudes a decimal would spell out in hundreds of digits.
            EventEffect::Peak { peak } if !(1e-4..1e16).contains(peak) => format!("peak {peak:e}"),
            EventEffect::Peak { peak } => format!("peak {peak}"),
            EventEffect::Like { from, to } => {
                format!("like {}..{}", from.format("%Y-%m-%d %H:%M"), to.format("%Y-%m-%d %H:%M UTC"))
            }
        }
    }
}

/// A planned event of one group (a sale, a launch, a match): it shapes the forecast during
/// `[start, end)`, so the planner raises the floors ahead of it (by the lead time) and lowers
/// them after it.
///
/// Invariants, enforced by [`Event::new`] and on deserialization: `start < end`; a multiplier or
/// peak is finite and positive; a `like` window has `from < to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawEvent")]
pub struct Event {
    id: String,
    group: String,
    name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    effect: EventEffect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    id: String,
    group: String,
    name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    effect: EventEffect,
}

impl TryFrom<RawEvent> for Event {
    type Error = CoreError;
    /// A stored event is read with the checks of its time (a factor or peak only positive and
    /// finite), so that an event stored before the limits of [`Event::new`] still loads and can
    /// be removed.
    fn try_from(r: RawEvent) -> Result<Self, CoreError> {
        let mut e = Event::checked(r.group, r.name, r.start, r.end, r.effect, false)?;
        e.id = r.id;
        Ok(e)
    }
}

impl Event {
    /// An event; its id is derived from the group and the name (`ev-` and 8 hex digits), so it is
    /// stable and unique wherever names are unique per group.
    ///
    /// # Errors
    /// [`CoreError::BadEvent`] for an empty name or group, an end not after the start, a factor
    /// outside `1 / MAX_MULTIPLIER` to `MAX_MULTIPLIER` (0.001 to 1000), a peak that is not a positive
    /// number below `MAX_PEAK` (1e100), a name with control characters (a newline, a tab) or over
    /// `MAX_NAME_CHARS` (200), or an empty `like` window.
    pub fn new(
        group: impl Into<String>,
        name: impl Into<String>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        effect: EventEffect,
    ) -> Result<Self, CoreError> {
        let name: String = name.into();
        // A naming rule for new events only: one stored before it is still planned.
        if looks_like_id(&name) {
            return Err(CoreError::BadEvent {
                name: name.trim().to_string(),
                reason: format!(
                    "{:?} has the form of an event id (`ev-` and 8 hex digits), which `event remove` also takes: \
                     give the event a name people read",
                    name.trim()
                ),
            });
        }
        Self::checked(group, name, start, end, effect, true)
    }

    fn checked(
        group: impl Into<String>,
        name: impl Into<String>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        effect: EventEffect,
        limits: bool,
    ) -> Result<Self, CoreError> {
        let (max_factor, max_peak) = if limits { (MAX_MULTIPLIER, MAX_PEAK) } else { (f64::MAX, f64::INFINITY) };
        let (group, mut name): (String, String) = (group.into(), name.into());
        // New names lose the spaces around them ("Email " is "Email"); stored ones are read as
        // they were written.
        if limits && name.trim() != name {
            name = name.trim().to_string();
        }
        let bad = |reason: String| Err(CoreError::BadEvent { name: name.clone(), reason });
        if name.trim().is_empty() {
            return bad("the name is empty: give the event a name, e.g. --name \"Black Friday\"".into());
        }
        if limits && name.chars().any(char::is_control) {
            return bad(
                "the name holds a control character (a newline, a tab, an escape): names are shown in tables, plans \
                 and logs, so give one line of printable text"
                    .into(),
            );
        }
        if limits && name.chars().count() > MAX_NAME_CHARS {
            return bad(format!(
                "the name has {} characters, more than {MAX_NAME_CHARS}: give a short name",
                name.chars().count()
            ));
        }
        if group.trim().is_empty() {
            return bad("the group is empty".into());
        }
        if end <= start {
            return bad(format!("its end {end} is not after its start {start}: the window is [start, end)"));
        }
        match effect {
            EventEffect::Multiplier { factor }
                if !(factor.is_finite() && factor > 0.0 && factor <= max_factor && factor >= 1.0 / max_factor) =>
            {
                return bad(format!(
                    "multiplier {factor} must be a number from {} to {MAX_MULTIPLIER} (3 triples the forecast, 0.5 \
                     halves it; for a load beyond that, give the peak itself)",
                    1.0 / MAX_MULTIPLIER
                ));
            }
            EventEffect::Peak { peak } if !(peak.is_finite() && peak > 0.0 && peak < max_peak) => {
                return bad(format!(
                    "peak {peak} must be a positive load in the group's load metric, below {MAX_PEAK:e}"
                ));
            }
            EventEffect::Like { from, to } if to <= from => {
                return bad(format!("the --like window ends at {to}, not after its start {from}"));
            }
            _ => {}
        }
        let id = event_id(&group, &name);
        Ok(Self { id, group, name, start, end, effect })
    }

    /// Stable id, `ev-` and 8 hex digits.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The Auto Scaling group it concerns.
    pub fn group(&self) -> &str {
        &self.group
    }
    /// Its name, unique within the group.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Start of the window (inclusive).
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }
    /// End of the window (exclusive).
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
    /// What it does to the forecast.
    pub fn effect(&self) -> &EventEffect {
        &self.effect
    }
    /// True when `key` is its name or its id.
    pub fn matches(&self, key: &str) -> bool {
        self.same_name(key) || self.id == key
    }
    /// Whether `name` names this event: the same but for case and the spaces around it, as
    /// people retype a name ("email" for "Email ").
    pub fn same_name(&self, name: &str) -> bool {
        self.name.trim().to_lowercase() == name.trim().to_lowercase()
    }
    /// Why the event lies outside the limits a new one is held to ([`Event::new`]), if it does: an
    /// event stored before them, or edited into the file by hand, is read (to be listed and
    /// removed) but not planned with.
    pub fn beyond_limits(&self) -> Option<String> {
        match Self::checked(&self.group, &self.name, self.start, self.end, self.effect.clone(), true) {
            Err(CoreError::BadEvent { reason, .. }) => Some(reason),
            _ => None,
        }
    }
    /// `"Black Friday" (ev-1a2b3c4d)`, for messages.
    pub fn label(&self) -> String {
        format!("{:?} ({})", self.name, self.id)
    }
}

/// Whether `name` has the form of an event id: `ev-` and 8 hex digits, any case.
fn looks_like_id(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    n.len() == 11 && n.starts_with("ev-") && n[3..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// FNV-1a over `group NUL name`: stable across platforms and Rust versions.
fn event_id(group: &str, name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in group.bytes().chain([0u8]).chain(name.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("ev-{:08x}", h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_effect_reads_as_given_but_for_magnitudes_a_decimal_spells_out() {
        assert_eq!(EventEffect::Peak { peak: 90000.0 }.describe(), "peak 90000");
        assert_eq!(EventEffect::Peak { peak: 0.5 }.describe(), "peak 0.5");
        assert_eq!(EventEffect::Peak { peak: 1e-300 }.describe(), "peak 1e-300");
        assert_eq!(EventEffect::Peak { peak: 2.5e20 }.describe(), "peak 2.5e20");
        assert_eq!(EventEffect::Multiplier { factor: 1.5 }.describe(), "×1.5");
    }

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, h, 0, 0).unwrap()
    }

    #[test]
    fn events_are_validated_on_construction_and_from_json() {
        let e = Event::new("web", "Black Friday", t(6), t(20), EventEffect::Multiplier { factor: 3.0 }).unwrap();
        assert!(e.id().starts_with("ev-") && e.id().len() == 11);
        assert!(e.matches("Black Friday") && e.matches(e.id()) && e.matches(" black friday") && !e.matches("Black"));
        let same = Event::new("web", "Black Friday", t(1), t(2), EventEffect::Peak { peak: 1.0 }).unwrap();
        assert_eq!(e.id(), same.id(), "the id depends on group and name only");
        let other = Event::new("api", "Black Friday", t(6), t(20), EventEffect::Peak { peak: 1.0 }).unwrap();
        assert_ne!(e.id(), other.id());

        let err = |r: Result<Event, CoreError>| r.unwrap_err().to_string();
        assert!(err(Event::new("web", "x", t(6), t(6), EventEffect::Multiplier { factor: 2.0 })).contains("not after"));
        assert!(
            err(Event::new("web", "x", t(6), t(7), EventEffect::Multiplier { factor: 0.0 })).contains("multiplier 0")
        );
        assert!(err(Event::new("web", "x", t(6), t(7), EventEffect::Multiplier { factor: f64::NAN })).contains("NaN"));
        assert!(err(Event::new("web", "x", t(6), t(7), EventEffect::Multiplier { factor: 1e308 })).contains("to 1000"));
        assert!(
            err(Event::new("web", "x", t(6), t(7), EventEffect::Multiplier { factor: 1e-300 })).contains("from 0.001")
        );
        assert!(err(Event::new("web", "x", t(6), t(7), EventEffect::Peak { peak: 1e308 })).contains("below 1e100"));
        assert!(err(Event::new("web", "x", t(6), t(7), EventEffect::Peak { peak: -5.0 })).contains("peak -5"));
        assert!(err(Event::new("web", "x", t(6), t(7), EventEffect::Like { from: t(3), to: t(2) })).contains("--like"));
        assert!(err(Event::new("web", " ", t(6), t(7), EventEffect::Peak { peak: 5.0 })).contains("name is empty"));
        let peak = EventEffect::Peak { peak: 5.0 };
        assert!(err(Event::new("web", "Launch\n\u{1b}[2J", t(6), t(7), peak.clone())).contains("control character"));
        assert!(err(Event::new("web", "x".repeat(201), t(6), t(7), peak.clone())).contains("201 characters"));
        assert!(Event::new("web", "Lancement d'été — ☀", t(6), t(7), peak).is_ok(), "printable Unicode is welcome");

        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains(r#""effect":{"kind":"multiplier","factor":3.0}"#), "{json}");
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        let broken = json.replace("\"factor\":3.0", "\"factor\":-1.0");
        assert!(serde_json::from_str::<Event>(&broken).is_err(), "a hand-edited file cannot smuggle in nonsense");
        // An event stored before the multiplier's limit still loads (and so can be removed).
        let old = json.replace("\"factor\":3.0", "\"factor\":5000.0");
        assert!(serde_json::from_str::<Event>(&old).is_ok());
        // ... but is beyond the limits a plan holds events to; a name of an id's form is a rule
        // for new events only, and one stored before it stays within them.
        assert!(serde_json::from_str::<Event>(&old).unwrap().beyond_limits().unwrap().contains("to 1000"));
        assert!(
            err(Event::new("web", "ev-20261127", t(6), t(7), EventEffect::Peak { peak: 5.0 })).contains("an event id")
        );
        let id_like = json.replace("\"Black Friday\"", "\"ev-20261127\"");
        assert_eq!(serde_json::from_str::<Event>(&id_like).unwrap().beyond_limits(), None);
        let tabbed = json.replace("Black Friday", "Black\\tFriday");
        assert!(serde_json::from_str::<Event>(&tabbed).is_ok(), "a stored name with a tab still loads");
    }
}
