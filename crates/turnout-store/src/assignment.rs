//! The rules of step 3 that do not depend on the database: which window a
//! visitor may ask for, and in what order advisors are tried for it. Each
//! backend runs them inside its own transaction.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use turnout_domain::TimeZone;
use turnout_domain::consultation::{WindowDefinition, covers};

use crate::{Advisor, ConsultationError, WindowLoad, WindowSettings};

/// A window on offer: its definition and its instants for this visitor.
#[derive(Debug, Clone)]
pub struct OfferedWindow {
    pub definition: WindowDefinition,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

/// The window `key` on the visitor's local `date`, if it is on offer now:
/// it exists, has not started, and starts within the days on offer.
pub fn offered_window(
    settings: &WindowSettings,
    key: &str,
    date: Date,
    zone: &TimeZone,
    now: Timestamp,
) -> Result<OfferedWindow, ConsultationError> {
    let definition = settings
        .windows
        .iter()
        .find(|window| window.key == key)
        .ok_or(ConsultationError::UnknownWindow)?;
    let (starts_at, ends_at) = definition.on(date, zone).ok_or(ConsultationError::WindowNotOffered)?;
    let horizon = now + SignedDuration::from_hours(24 * (settings.days_ahead + 1));
    if starts_at <= now || starts_at > horizon {
        return Err(ConsultationError::WindowNotOffered);
    }
    Ok(OfferedWindow {
        definition: definition.clone(),
        starts_at,
        ends_at,
    })
}

/// Advisors who cover the whole window and have room in it, in the order to
/// try them: least loaded first, then the one who has waited longest for a
/// call (round-robin among equals), then by id.
pub fn assignment_order<'a>(advisors: &'a [Advisor], loads: &[WindowLoad], window: &OfferedWindow) -> Vec<&'a Advisor> {
    let taken = |advisor: &Advisor| {
        loads
            .iter()
            .find(|load| load.advisor_id == advisor.id && load.window_start == window.starts_at)
            .map_or(0, |load| load.taken)
    };
    let mut candidates: Vec<(&Advisor, i64)> = advisors
        .iter()
        .filter(|advisor| {
            covers(
                &advisor.availability,
                &advisor.time_zone,
                window.starts_at,
                window.ends_at,
            )
        })
        .map(|advisor| (advisor, taken(advisor)))
        .filter(|(advisor, taken)| *taken < advisor.max_calls_per_window)
        .collect();
    candidates.sort_by_key(|(advisor, taken)| (*taken, advisor.last_assigned_at, advisor.id));
    candidates.into_iter().map(|(advisor, _)| advisor).collect()
}

/// Whether anyone can still take a call in the window.
pub fn has_room(advisors: &[Advisor], loads: &[WindowLoad], window: &OfferedWindow) -> bool {
    !assignment_order(advisors, loads, window).is_empty()
}

#[cfg(test)]
mod tests {
    use jiff::civil::{Weekday, date, time};
    use turnout_domain::consultation::{WeeklyRange, default_windows};

    use super::*;

    fn advisor(id: i64, zone: &str, max: i64, last: Option<&str>) -> Advisor {
        Advisor {
            id,
            name: format!("Advisor {id}"),
            email: format!("advisor{id}@example.com"),
            time_zone: TimeZone::parse(zone).unwrap(),
            availability: [Weekday::Monday, Weekday::Tuesday]
                .into_iter()
                .map(|weekday| WeeklyRange {
                    weekday,
                    starts: time(8, 0, 0, 0),
                    ends: time(22, 0, 0, 0),
                })
                .collect(),
            max_calls_per_window: max,
            last_assigned_at: last.map(|t| t.parse().unwrap()),
        }
    }

    fn settings() -> WindowSettings {
        WindowSettings {
            days_ahead: 7,
            windows: default_windows(),
        }
    }

    #[test]
    fn only_windows_on_offer_can_be_chosen() {
        let kolkata = TimeZone::parse("Asia/Kolkata").unwrap();
        let now: Timestamp = "2026-11-30T06:00:00Z".parse().unwrap(); // 11:30 in Kolkata
        let monday = date(2026, 11, 30);
        assert!(matches!(
            offered_window(&settings(), "lunchtime", monday, &kolkata, now),
            Err(ConsultationError::UnknownWindow)
        ));
        assert!(matches!(
            offered_window(&settings(), "mornings", monday, &kolkata, now),
            Err(ConsultationError::WindowNotOffered)
        ));
        assert!(offered_window(&settings(), "evenings", monday, &kolkata, now).is_ok());
        assert!(matches!(
            offered_window(&settings(), "evenings", date(2026, 12, 15), &kolkata, now),
            Err(ConsultationError::WindowNotOffered)
        ));
    }

    #[test]
    fn the_least_loaded_covering_advisor_comes_first_then_the_longest_waiting() {
        let kolkata = TimeZone::parse("Asia/Kolkata").unwrap();
        let now: Timestamp = "2026-11-29T06:00:00Z".parse().unwrap();
        let window = offered_window(&settings(), "evenings", date(2026, 11, 30), &kolkata, now).unwrap();
        let advisors = vec![
            advisor(1, "Asia/Kolkata", 2, Some("2026-11-28T10:00:00Z")),
            advisor(2, "Asia/Kolkata", 2, Some("2026-11-27T10:00:00Z")),
            advisor(3, "Asia/Kolkata", 1, None),
            // 18:00–21:00 in Kolkata is 07:30–10:30 in New York: not covered.
            advisor(4, "America/New_York", 5, None),
        ];
        let load = |advisor_id, taken| WindowLoad {
            advisor_id,
            window_start: window.starts_at,
            taken,
        };
        let order: Vec<i64> = assignment_order(&advisors, &[], &window).iter().map(|a| a.id).collect();
        assert_eq!(order, [3, 2, 1]);
        let order: Vec<i64> = assignment_order(&advisors, &[load(3, 1), load(2, 1)], &window)
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(order, [1, 2], "advisor 3 is full; 1 has fewer calls than 2");
        assert!(!has_room(&advisors, &[load(1, 2), load(2, 2), load(3, 1)], &window));
    }
}
