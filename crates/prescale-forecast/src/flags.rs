//! Known special times, as features: holidays and planned events.
//!
//! A holiday is a whole local day (the caller turns a date and a time zone into its UTC span); an
//! event is a window from the event store (`prescale event add`). Both are known ahead, so a model
//! can use them for the future as well as learn their effect from the past. The models see them
//! through [`Flags::at`], at clock times from the history's [`crate::point::Calendar`].

/// Holidays and events as UTC spans `[start, end)` in seconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    holidays: Vec<(i64, i64)>,
    events: Vec<(i64, i64)>,
}

/// The flags of one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlagsAt {
    /// Inside a holiday.
    pub holiday: bool,
    /// Inside an event window.
    pub event: bool,
}

impl Flags {
    /// Flags from holiday and event spans (`[start, end)`, seconds since the epoch); empty or
    /// reversed spans are dropped, the rest sorted.
    pub fn new(holidays: Vec<(i64, i64)>, events: Vec<(i64, i64)>) -> Self {
        let tidy = |mut v: Vec<(i64, i64)>| {
            v.retain(|(a, b)| a < b);
            v.sort_unstable();
            v
        };
        Self { holidays: tidy(holidays), events: tidy(events) }
    }

    /// No holiday and no event.
    pub fn is_empty(&self) -> bool {
        self.holidays.is_empty() && self.events.is_empty()
    }

    /// The number of holidays and of events.
    pub fn counts(&self) -> (usize, usize) {
        (self.holidays.len(), self.events.len())
    }

    /// The holiday span `[start, end)` that holds `secs`, if any (the latest-starting, when several do).
    pub fn holiday_span(&self, secs: i64) -> Option<(i64, i64)> {
        span(&self.holidays, secs)
    }

    /// The same spans with each end moved by `to` (a history moved to another clock, such as a
    /// zone's standard time: [`crate::clock`]).
    pub fn moved(&self, to: impl Fn(i64) -> i64) -> Self {
        let m = |v: &[(i64, i64)]| v.iter().map(|&(a, b)| (to(a), to(b))).collect();
        Self::new(m(&self.holidays), m(&self.events))
    }

    /// The flags at `secs` (seconds since the epoch).
    pub fn at(&self, secs: i64) -> FlagsAt {
        FlagsAt { holiday: span(&self.holidays, secs).is_some(), event: span(&self.events, secs).is_some() }
    }
}

/// The span of the sorted `spans` that holds `t`, if any: the latest-starting one when several
/// overlap there.
fn span(spans: &[(i64, i64)], t: i64) -> Option<(i64, i64)> {
    // Spans may overlap, so every span starting at or before t is a candidate; they are few.
    let k = spans.partition_point(|(a, _)| *a <= t);
    spans[..k].iter().rev().find(|(_, b)| t < *b).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_half_open_and_may_overlap() {
        let f = Flags::new(vec![(100, 200)], vec![(50, 400), (150, 160), (10, 5)]);
        assert_eq!(f.counts(), (1, 2));
        assert_eq!(f.at(99), FlagsAt { holiday: false, event: true });
        assert_eq!(f.at(100), FlagsAt { holiday: true, event: true });
        assert!(f.at(199).holiday);
        assert!(!f.at(200).holiday);
        assert!(f.at(399).event);
        assert!(!f.at(400).event);
        assert_eq!(f.at(7), FlagsAt::default());
        assert!(Flags::default().is_empty());
        assert_eq!(f.holiday_span(150), Some((100, 200)));
        assert_eq!(f.holiday_span(200), None);
        let later = f.moved(|t| if t >= 150 { t + 3600 } else { t });
        assert_eq!(later.holiday_span(3_750), Some((100, 3_800)));
        assert!(later.at(399).event && later.at(3_999).event && !later.at(3_999).holiday && !later.at(4_000).event);
    }
}
