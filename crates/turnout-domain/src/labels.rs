//! The words a visitor reads for an instant: "Friday, 18th April, 6 PM",
//! always in the visitor's own zone.

use jiff::Timestamp;
use jiff::civil::{Date, Time};

use crate::TimeZone;

/// An instant as it reads on the wall clock of one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalLabel {
    pub date: Date,
    /// "Friday, 18th April"
    pub day: String,
    /// "6 PM" or "6:30 PM"
    pub time: String,
    /// "Friday, 18th April, 6 PM"
    pub full: String,
}

pub fn local_label(instant: Timestamp, zone: &TimeZone) -> LocalLabel {
    let local = instant.to_zoned(zone.zone().clone());
    let day = day_label(local.date());
    let time = time_label(local.time());
    LocalLabel {
        date: local.date(),
        full: format!("{day}, {time}"),
        day,
        time,
    }
}

/// "Friday, 18th April"
pub fn day_label(date: Date) -> String {
    format!(
        "{}, {}{} {}",
        date.strftime("%A"),
        date.day(),
        ordinal_suffix(date.day()),
        date.strftime("%B")
    )
}

/// "6 PM", "6:30 PM", "12 PM" for noon and "12 AM" for midnight.
pub fn time_label(time: Time) -> String {
    let (hour, meridiem) = match time.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    match time.minute() {
        0 => format!("{hour} {meridiem}"),
        minute => format!("{hour}:{minute:02} {meridiem}"),
    }
}

fn ordinal_suffix(day: i8) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
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
    fn an_evening_slot_reads_like_the_widget() {
        let start: Timestamp = "2025-04-18T12:30:00Z".parse().unwrap();
        let label = local_label(start, &zone("Asia/Kolkata"));
        assert_eq!(label.full, "Friday, 18th April, 6 PM");
        assert_eq!(label.day, "Friday, 18th April");
        assert_eq!(label.time, "6 PM");
        assert_eq!(label.date, date(2025, 4, 18));
    }

    #[test]
    fn the_same_instant_falls_on_different_days_by_zone() {
        let start: Timestamp = "2025-04-18T02:00:00Z".parse().unwrap();
        assert_eq!(
            local_label(start, &zone("America/New_York")).full,
            "Thursday, 17th April, 10 PM"
        );
        assert_eq!(
            local_label(start, &zone("Asia/Kathmandu")).full,
            "Friday, 18th April, 7:45 AM"
        );
        assert_eq!(
            local_label(start, &zone("Europe/London")).full,
            "Friday, 18th April, 3 AM"
        );
    }

    #[test]
    fn ordinals_follow_english_usage() {
        let days = [
            (1, "1st"),
            (2, "2nd"),
            (3, "3rd"),
            (4, "4th"),
            (11, "11th"),
            (12, "12th"),
        ];
        for (day, expected) in
            days.into_iter()
                .chain([(13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (31, "31st")])
        {
            assert_eq!(format!("{day}{}", ordinal_suffix(day)), expected);
        }
    }

    #[test]
    fn noon_midnight_and_half_hours() {
        assert_eq!(time_label(time(0, 0, 0, 0)), "12 AM");
        assert_eq!(time_label(time(12, 0, 0, 0)), "12 PM");
        assert_eq!(time_label(time(18, 30, 0, 0)), "6:30 PM");
        assert_eq!(time_label(time(9, 5, 0, 0)), "9:05 AM");
    }
}
