//! Deterministic synthetic load series for tests and benches: daily and weekly cycles, a trend,
//! holidays, incidents, a level shift and noise, as operational metrics have them.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use prescale_core::{Series, SplitMix64 as Rng};

/// What to put into a synthetic series.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// Length in days.
    pub days: usize,
    /// Step in seconds.
    pub step_secs: i64,
    /// Base level.
    pub level: f64,
    /// Daily cycle amplitude as a share of the level.
    pub daily: f64,
    /// Weekend load as a share of a weekday's.
    pub weekend: f64,
    /// Relative growth per week.
    pub trend_per_week: f64,
    /// Multiplicative noise (standard deviation as a share).
    pub noise: f64,
    /// Days (from the start) that are holidays: loaded like a weekend day.
    pub holidays: Vec<usize>,
    /// Incidents: (start hour from the start, hours, factor).
    pub incidents: Vec<(usize, usize, f64)>,
    /// A permanent level change: (hour from the start, factor).
    pub level_shift: Option<(usize, f64)>,
    /// Seed of the noise.
    pub seed: u64,
}

impl Shape {
    /// A web-traffic-like shape with a few of everything, varied by `seed`.
    pub fn web(seed: u64, days: usize, step_secs: i64) -> Self {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03);
        let hours = days * 24;
        Self {
            days,
            step_secs,
            level: 500.0 + 5000.0 * r.uniform(),
            daily: 0.3 + 0.5 * r.uniform(),
            weekend: 0.4 + 0.5 * r.uniform(),
            trend_per_week: 0.06 * (r.uniform() - 0.3),
            noise: 0.03 + 0.08 * r.uniform(),
            holidays: vec![days / 3 + (r.uniform() * 3.0) as usize],
            incidents: (0..3)
                .map(|_| {
                    (
                        (r.uniform() * (hours - 72) as f64) as usize,
                        1 + (r.uniform() * 4.0) as usize,
                        0.2 + 3.0 * r.uniform(),
                    )
                })
                .collect(),
            level_shift: (r.uniform() < 0.5)
                .then(|| ((hours as f64 * (0.5 + 0.3 * r.uniform())) as usize, 0.7 + 0.6 * r.uniform())),
            seed,
        }
    }

    /// The series, starting on a Monday at midnight UTC.
    pub fn series(&self) -> Series {
        let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().unwrap_or_default();
        let n = self.days * 86_400 / self.step_secs.max(1) as usize;
        let mut r = Rng(self.seed ^ 0x5851_F42D_4C95_7F2D);
        let values = (0..n)
            .map(|i| {
                let t = start + Duration::seconds(i as i64 * self.step_secs);
                let hour_idx = i * self.step_secs as usize / 3600;
                let day_idx = hour_idx / 24;
                let hod = t.hour() as f64 + t.minute() as f64 / 60.0;
                let weekend = t.weekday().num_days_from_monday() >= 5 || self.holidays.contains(&day_idx);
                let cycle = 1.0 + self.daily * (std::f64::consts::TAU * (hod - 9.0) / 24.0).cos();
                let mut v = self.level * cycle * if weekend { self.weekend } else { 1.0 };
                v *= 1.0 + self.trend_per_week * i as f64 * self.step_secs as f64 / (7.0 * 86_400.0);
                if let Some((at, f)) = self.level_shift
                    && hour_idx >= at
                {
                    v *= f;
                }
                for &(at, len, f) in &self.incidents {
                    if hour_idx >= at && hour_idx < at + len {
                        v *= f;
                    }
                }
                (v * (1.0 + self.noise * r.normal())).max(0.0)
            })
            .collect();
        Series::new(start, self.step_secs, values).unwrap_or_else(|_| unreachable!("a valid step"))
    }
}
