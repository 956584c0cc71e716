//! Turning an organiser's wall-clock intent into instants, and instants back
//! into a visitor's days.

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};

use crate::TimeZone;

/// "Every Tuesday and Thursday at 6 PM organiser time, 8 times from 1 March."
#[derive(Debug, Clone)]
pub struct Recurrence {
    pub start_date: Date,
    pub local_time: Time,
    pub weekdays: Vec<Weekday>,
    pub count: usize,
}

impl Recurrence {
    pub const MAX_COUNT: usize = 366;

    /// The start instants of the recurrence, in order.
    ///
    /// A wall-clock time can be missing or doubled on a daylight-saving day.
    /// Turnout resolves both the way RFC 5545 and most calendars do
    /// ("compatible" disambiguation): a time inside a spring-forward gap moves
    /// later by the length of the gap (02:30 becomes 03:30), and a time in a
    /// fall-back fold takes its first, earlier occurrence.
    pub fn instants(&self, zone: &TimeZone) -> Vec<Timestamp> {
        if self.weekdays.is_empty() {
            return Vec::new();
        }
        let mut instants = Vec::with_capacity(self.count);
        let mut day = self.start_date;
        while instants.len() < self.count {
            if self.weekdays.contains(&day.weekday()) {
                let local = day.to_datetime(self.local_time);
                let resolved = zone
                    .zone()
                    .to_ambiguous_timestamp(local)
                    .compatible()
                    .expect("a civil date-time in range resolves in every zone");
                instants.push(resolved);
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        instants
    }
}

/// Groups items, already sorted by instant, by the local day they fall on.
pub fn group_by_local_day<T>(items: impl IntoIterator<Item = (Timestamp, T)>, zone: &TimeZone) -> Vec<(Date, Vec<T>)> {
    let mut days: Vec<(Date, Vec<T>)> = Vec::new();
    for (instant, item) in items {
        let date = instant.to_zoned(zone.zone().clone()).date();
        match days.last_mut() {
            Some((last, group)) if *last == date => group.push(item),
            _ => days.push((date, vec![item])),
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name).unwrap()
    }

    fn utc(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_weekly_slot_keeps_its_wall_clock_across_a_dst_change() {
        // New York springs forward on 9 March 2025.
        let rec = Recurrence {
            start_date: date(2025, 3, 2),
            local_time: time(18, 0, 0, 0),
            weekdays: vec![Weekday::Sunday],
            count: 3,
        };
        let instants = rec.instants(&zone("America/New_York"));
        assert_eq!(
            instants,
            vec![
                utc("2025-03-02T23:00:00Z"),
                utc("2025-03-09T22:00:00Z"),
                utc("2025-03-16T22:00:00Z")
            ]
        );
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_moves_later_by_the_gap() {
        let rec = Recurrence {
            start_date: date(2025, 3, 9),
            local_time: time(2, 30, 0, 0),
            weekdays: vec![Weekday::Sunday],
            count: 1,
        };
        // 02:30 does not exist in New York that night; 03:30 EDT does.
        assert_eq!(
            rec.instants(&zone("America/New_York")),
            vec![utc("2025-03-09T07:30:00Z")]
        );
    }

    #[test]
    fn a_time_in_the_fall_back_fold_takes_the_first_occurrence() {
        let rec = Recurrence {
            start_date: date(2025, 10, 26),
            local_time: time(1, 30, 0, 0),
            weekdays: vec![Weekday::Sunday],
            count: 1,
        };
        // London: 01:30 happens at 00:30Z (BST) and again at 01:30Z (GMT).
        assert_eq!(rec.instants(&zone("Europe/London")), vec![utc("2025-10-26T00:30:00Z")]);
    }

    #[test]
    fn only_the_chosen_weekdays_count() {
        let rec = Recurrence {
            start_date: date(2025, 4, 14), // a Monday
            local_time: time(18, 0, 0, 0),
            weekdays: vec![Weekday::Tuesday, Weekday::Thursday],
            count: 4,
        };
        let days: Vec<Date> = rec
            .instants(&zone("Asia/Kolkata"))
            .into_iter()
            .map(|t| t.to_zoned(zone("Asia/Kolkata").zone().clone()).date())
            .collect();
        assert_eq!(
            days,
            vec![
                date(2025, 4, 15),
                date(2025, 4, 17),
                date(2025, 4, 22),
                date(2025, 4, 24)
            ]
        );
    }

    #[test]
    fn slots_group_by_the_visitors_local_day() {
        let items = [
            (utc("2025-04-17T23:00:00Z"), "a"),
            (utc("2025-04-18T03:00:00Z"), "b"),
            (utc("2025-04-18T20:00:00Z"), "c"),
        ];
        let kolkata = group_by_local_day(items, &zone("Asia/Kolkata"));
        assert_eq!(
            kolkata,
            vec![(date(2025, 4, 18), vec!["a", "b"]), (date(2025, 4, 19), vec!["c"])]
        );
        let new_york = group_by_local_day(items, &zone("America/New_York"));
        assert_eq!(
            new_york,
            vec![(date(2025, 4, 17), vec!["a", "b"]), (date(2025, 4, 18), vec!["c"])]
        );
    }
}
