//! Webinars, their slots and the registrations in them: statuses and the
//! limits the rest of the code relies on.

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "Must be one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use string_enum;

string_enum! {
    /// Only published webinars are shown to visitors and take registrations.
    WebinarStatus { Draft => "draft", Published => "published", Archived => "archived" }
}

string_enum! {
    /// Whether a slot takes registrations. "Full" is not a status: it is
    /// derived from seats, so it can never disagree with them.
    SlotStatus { Open => "open", Closed => "closed" }
}

string_enum! {
    RegistrationStatus {
        Confirmed => "confirmed",
        Cancelled => "cancelled",
        Attended => "attended",
        NoShow => "no_show",
    }
}

impl RegistrationStatus {
    /// Whether a registration in this status may move to another slot: a
    /// confirmed one, and a no-show, who is offered another time to come
    /// back (the move makes them confirmed again). `sql::MOVE_REGISTRATION`
    /// says the same in its `WHERE`.
    pub fn may_move(self) -> bool {
        matches!(self, RegistrationStatus::Confirmed | RegistrationStatus::NoShow)
    }
}

/// A presenter of a webinar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    pub name: String,
    pub title: String,
}

/// Bounds on what an organiser may configure.
pub mod limits {
    pub const CAPACITY: std::ops::RangeInclusive<i64> = 1..=100_000;
    pub const DURATION_MINUTES: std::ops::RangeInclusive<i64> = 5..=600;
    pub const TITLE_CHARS: usize = 200;
    pub const SUMMARY_CHARS: usize = 2_000;
    pub const HOSTS: usize = 10;
    pub const HIGHLIGHTS: usize = 20;
    pub const HIGHLIGHT_CHARS: usize = 200;
    pub const NAME_CHARS: usize = 100;
}

/// The first seat count a slot can no longer accept.
pub fn seats_left(capacity: i64, seats_taken: i64) -> i64 {
    (capacity - seats_taken).max(0)
}

string_enum! {
    /// Where a callback request stands.
    ConsultationStatus {
        Requested => "requested",
        Assigned => "assigned",
        Called => "called",
        NoAnswer => "no_answer",
        Completed => "completed",
        Rescheduled => "rescheduled",
    }
}

/// When a seat offered from a waiting list at `offered_at` lapses: `hold`
/// later, never past the slot's start. The store's sweep and claim say the
/// same with the instant `now - hold`.
pub fn offer_expires_at(
    offered_at: jiff::Timestamp,
    starts_at: jiff::Timestamp,
    hold: jiff::SignedDuration,
) -> jiff::Timestamp {
    offered_at.checked_add(hold).unwrap_or(starts_at).min(starts_at)
}

/// When a registrant's join link leads into the session: from `opens_before`
/// the start until the slot ends. Attendance is judged by openings inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinWindow {
    pub opens_at: jiff::Timestamp,
    pub ends_at: jiff::Timestamp,
}

/// Where an instant falls against a [`JoinWindow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinPhase {
    Early,
    Open,
    Ended,
}

impl JoinWindow {
    pub fn new(starts_at: jiff::Timestamp, duration_minutes: i64, opens_before: jiff::SignedDuration) -> Self {
        let ends_at = starts_at
            .checked_add(jiff::SignedDuration::from_mins(duration_minutes))
            .unwrap_or(starts_at);
        let opens_at = starts_at.checked_sub(opens_before).unwrap_or(starts_at);
        Self { opens_at, ends_at }
    }

    pub fn phase(&self, now: jiff::Timestamp) -> JoinPhase {
        if now < self.opens_at {
            JoinPhase::Early
        } else if now < self.ends_at {
            JoinPhase::Open
        } else {
            JoinPhase::Ended
        }
    }
}

#[cfg(test)]
mod join_window_tests {
    use jiff::{SignedDuration, Timestamp};

    use super::*;

    #[test]
    fn a_join_window_opens_before_the_start_and_closes_at_the_end() {
        let start: Timestamp = "2026-12-04T12:00:00Z".parse().unwrap();
        let window = JoinWindow::new(start, 60, SignedDuration::from_mins(15));
        let at = |minutes: i64| start + SignedDuration::from_mins(minutes);
        assert_eq!(window.phase(at(-16)), JoinPhase::Early);
        assert_eq!(window.phase(at(-15)), JoinPhase::Open);
        assert_eq!(window.phase(at(59)), JoinPhase::Open);
        assert_eq!(window.phase(at(60)), JoinPhase::Ended);
    }
}
