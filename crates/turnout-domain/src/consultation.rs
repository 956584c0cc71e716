//! Callback windows and advisors' availability. A window is a local-time
//! range in the visitor's zone ("Mornings, 8–10 AM" on a chosen day); an
//! advisor works weekly ranges in their own zone. Whether an advisor covers
//! a window is decided on instants, never by comparing wall clocks across
//! zones.

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};

use crate::TimeZone;
use crate::labels::time_label;

/// A named window offered every day, in the visitor's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowDefinition {
    /// Stable key used in window ids, e.g. `mornings`.
    pub key: String,
    /// "Mornings"
    pub name: String,
    pub starts: Time,
    pub ends: Time,
}

impl WindowDefinition {
    /// "Mornings, 8–10 AM"
    pub fn label(&self) -> String {
        format!("{}, {}", self.name, range_label(self.starts, self.ends))
    }

    /// The window on `date` in `zone`, as instants. A start or end inside a
    /// daylight-saving gap moves later by the gap, as everywhere else.
    pub fn on(&self, date: Date, zone: &TimeZone) -> Option<(Timestamp, Timestamp)> {
        let resolve = |time: Time| {
            zone.zone()
                .to_ambiguous_timestamp(date.to_datetime(time))
                .compatible()
                .ok()
        };
        let (start, end) = (resolve(self.starts)?, resolve(self.ends)?);
        (start < end).then_some((start, end))
    }
}

/// The windows Turnout offers until an admin changes them.
pub fn default_windows() -> Vec<WindowDefinition> {
    let window = |key: &str, name: &str, starts: i8, ends: i8| WindowDefinition {
        key: key.into(),
        name: name.into(),
        starts: Time::constant(starts, 0, 0, 0),
        ends: Time::constant(ends, 0, 0, 0),
    };
    vec![
        window("mornings", "Mornings", 8, 10),
        window("afternoons", "Afternoons", 13, 16),
        window("evenings", "Evenings", 18, 21),
    ]
}

/// "8–10 AM", "1–4 PM", "11 AM–1 PM", "8:30–10 AM".
pub fn range_label(starts: Time, ends: Time) -> String {
    let (start, end) = (time_label(starts), time_label(ends));
    let meridiem = |label: &str| label.rsplit(' ').next().map(str::to_owned);
    match (meridiem(&start), meridiem(&end)) {
        (Some(a), Some(b)) if a == b => {
            let bare = start.trim_end_matches(&format!(" {a}")).to_owned();
            format!("{bare}–{end}")
        }
        _ => format!("{start}–{end}"),
    }
}

/// One weekly range an advisor works, in their own zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyRange {
    pub weekday: Weekday,
    pub starts: Time,
    pub ends: Time,
}

/// Whether the advisor's weekly ranges cover the whole of `[start, end)`.
pub fn covers(ranges: &[WeeklyRange], zone: &TimeZone, start: Timestamp, end: Timestamp) -> bool {
    let local_start = start.to_zoned(zone.zone().clone());
    // A range never crosses the advisor's midnight, so the window must sit
    // inside one of the ranges of the local day it starts on.
    let day = local_start.date();
    ranges
        .iter()
        .filter(|range| range.weekday == day.weekday())
        .any(|range| {
            let resolve = |time: Time| {
                zone.zone()
                    .to_ambiguous_timestamp(day.to_datetime(time))
                    .compatible()
                    .ok()
            };
            matches!((resolve(range.starts), resolve(range.ends)), (Some(from), Some(to)) if from <= start && end <= to)
        })
}

/// What an admin may set for the callback team.
pub mod limits {
    use std::ops::RangeInclusive;

    pub const ADVISOR_NAME_CHARS: usize = 100;
    /// Weekly ranges of one advisor's hours.
    pub const RANGES: RangeInclusive<usize> = 1..=50;
    pub const CALLS_PER_WINDOW: RangeInclusive<i64> = 1..=1_000;
    /// How many days ahead windows are offered.
    pub const DAYS_AHEAD: RangeInclusive<i64> = 1..=60;
    /// Windows offered each day.
    pub const WINDOWS: RangeInclusive<usize> = 1..=10;
    pub const WINDOW_NAME_CHARS: usize = 60;
}

/// Parses "tuesday", "tue" (any case) into a weekday.
pub fn parse_weekday(name: &str) -> Result<Weekday, String> {
    let name = name.trim().to_ascii_lowercase();
    let days = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];
    days.iter()
        .find(|(full, _)| name == *full || (name.len() == 3 && full.starts_with(name.as_str())))
        .map(|(_, day)| *day)
        .ok_or_else(|| "Use a weekday name such as tuesday".into())
}

/// What [`parse_weekday`] accepts, as a JSON Schema (ECMA-262) pattern:
/// a full or three-letter English name in any case, with white space around.
pub fn weekday_pattern() -> String {
    let any_case = |text: &str| -> String {
        text.chars()
            .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c))
            .collect()
    };
    let names: Vec<String> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|name| format!("{}({})?", any_case(&name[..3]), any_case(&name[3..])))
    .collect();
    format!("^\\s*({})\\s*$", names.join("|"))
}

/// The lowercase English name of a weekday, as stored.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name).unwrap()
    }

    #[test]
    fn default_windows_read_like_the_widget() {
        let labels: Vec<String> = default_windows().iter().map(WindowDefinition::label).collect();
        assert_eq!(labels, ["Mornings, 8–10 AM", "Afternoons, 1–4 PM", "Evenings, 6–9 PM"]);
        assert_eq!(range_label(time(11, 0, 0, 0), time(13, 0, 0, 0)), "11 AM–1 PM");
        assert_eq!(range_label(time(8, 30, 0, 0), time(10, 0, 0, 0)), "8:30–10 AM");
    }

    #[test]
    fn a_window_is_resolved_in_the_visitors_zone() {
        let mornings = &default_windows()[0];
        let (start, end) = mornings.on(date(2026, 12, 1), &zone("Asia/Kathmandu")).unwrap();
        assert_eq!(start, "2026-12-01T02:15:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(end, "2026-12-01T04:15:00Z".parse::<Timestamp>().unwrap());
    }

    #[test]
    fn a_window_keeps_its_wall_clock_across_the_visitors_dst_change() {
        let ny = zone("America/New_York");
        let mornings = &default_windows()[0];
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        // New York springs forward on Sunday 9 March 2031.
        assert_eq!(
            mornings.on(date(2031, 3, 8), &ny),
            Some((at("2031-03-08T13:00:00Z"), at("2031-03-08T15:00:00Z")))
        );
        assert_eq!(
            mornings.on(date(2031, 3, 9), &ny),
            Some((at("2031-03-09T12:00:00Z"), at("2031-03-09T14:00:00Z")))
        );
        // A window starting inside the gap starts when the gap ends.
        let night = WindowDefinition {
            key: "night".into(),
            name: "Night".into(),
            starts: time(2, 0, 0, 0),
            ends: time(4, 0, 0, 0),
        };
        assert_eq!(
            night.on(date(2031, 3, 9), &ny),
            Some((at("2031-03-09T07:00:00Z"), at("2031-03-09T08:00:00Z")))
        );
    }

    #[test]
    fn coverage_compares_instants_across_zones() {
        // A London advisor working Monday 09:00–17:00 covers a Kolkata
        // visitor's Monday "Evenings, 6–9 PM" (12:30–15:30 UTC in winter).
        let london = vec![WeeklyRange {
            weekday: Weekday::Monday,
            starts: time(9, 0, 0, 0),
            ends: time(17, 0, 0, 0),
        }];
        let evenings = &default_windows()[2];
        let (start, end) = evenings.on(date(2026, 11, 30), &zone("Asia/Kolkata")).unwrap();
        assert!(covers(&london, &zone("Europe/London"), start, end));
        // Their mornings (02:30–04:30 UTC) are the middle of the London night.
        let (start, end) = default_windows()[0]
            .on(date(2026, 11, 30), &zone("Asia/Kolkata"))
            .unwrap();
        assert!(!covers(&london, &zone("Europe/London"), start, end));
    }

    #[test]
    fn coverage_follows_the_advisors_daylight_saving() {
        // A New York advisor works Sunday 09:00–12:00 local. On the day New
        // York springs forward (9 March 2031) that is 13:00–16:00 UTC; a week
        // earlier 14:00–17:00 UTC.
        let ny = vec![WeeklyRange {
            weekday: Weekday::Sunday,
            starts: time(9, 0, 0, 0),
            ends: time(12, 0, 0, 0),
        }];
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let zone = zone("America/New_York");
        assert!(covers(
            &ny,
            &zone,
            at("2031-03-09T13:00:00Z"),
            at("2031-03-09T15:00:00Z")
        ));
        assert!(!covers(
            &ny,
            &zone,
            at("2031-03-02T13:00:00Z"),
            at("2031-03-02T15:00:00Z")
        ));
        assert!(covers(
            &ny,
            &zone,
            at("2031-03-02T14:00:00Z"),
            at("2031-03-02T16:00:00Z")
        ));
        // Partly outside the range is not covered.
        assert!(!covers(
            &ny,
            &zone,
            at("2031-03-09T15:00:00Z"),
            at("2031-03-09T17:00:00Z")
        ));
    }

    #[test]
    fn weekdays_parse_in_full_or_short() {
        assert_eq!(parse_weekday("Tue"), Ok(Weekday::Tuesday));
        assert_eq!(parse_weekday("sunday"), Ok(Weekday::Sunday));
        assert!(parse_weekday("someday").is_err());
        assert_eq!(weekday_name(Weekday::Friday), "friday");
    }
}
