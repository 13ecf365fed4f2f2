//! Half-month periods in a time zone, and their UTC bounds.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A half month: `2024-10-H1` (days 1–15) or `2024-10-H2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HalfMonth {
    pub year: i32,
    pub month: u32,
    pub half: u32,
}

impl HalfMonth {
    pub fn of(date: NaiveDate) -> Self {
        Self { year: date.year(), month: date.month(), half: if date.day() <= 15 { 1 } else { 2 } }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let raw = crate::assignments::model::parse_period(raw)?;
        let year = raw[0..4].parse().ok()?;
        let month = raw[5..7].parse().ok()?;
        let half = raw[9..10].parse().ok()?;
        Some(Self { year, month, half })
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, if self.half == 1 { 1 } else { 16 }).unwrap_or_default()
    }

    pub fn next(self) -> Self {
        match (self.half, self.month) {
            (1, _) => Self { half: 2, ..self },
            (_, 12) => Self { year: self.year + 1, month: 1, half: 1 },
            _ => Self { month: self.month + 1, half: 1, ..self },
        }
    }

    /// `[start, end)` in UTC for local midnights in `zone`.
    pub fn utc_bounds(self, zone: Tz) -> (NaiveDateTime, NaiveDateTime) {
        let at = |d: NaiveDate| {
            zone.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
                .earliest()
                .map(|t| t.naive_utc())
                .unwrap_or_else(|| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        };
        (at(self.first_day()), at(self.next().first_day()))
    }
}

impl std::fmt::Display for HalfMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-H{}", self.year, self.month, self.half)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_step_and_bound() {
        let p = HalfMonth::parse("2024-12-H2").unwrap();
        assert_eq!(p.to_string(), "2024-12-H2");
        assert_eq!(p.next().to_string(), "2025-01-H1");
        assert_eq!(HalfMonth::parse("2024-10-H1").unwrap().next().to_string(), "2024-10-H2");
        let (start, end) = HalfMonth::parse("2024-10-H1").unwrap().utc_bounds(chrono_tz::Asia::Shanghai);
        assert_eq!(start.to_string(), "2024-09-30 16:00:00");
        assert_eq!(end.to_string(), "2024-10-15 16:00:00");
        assert_eq!(HalfMonth::of("2024-10-16".parse().unwrap()).to_string(), "2024-10-H2");
    }
}
