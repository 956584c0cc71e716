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
