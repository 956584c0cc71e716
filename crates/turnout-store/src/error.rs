use thiserror::Error;

/// What can go wrong in any storage call.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The database or the state of a row refused the change.
    #[error("conflict: {constraint}")]
    Conflict { constraint: Constraint },
    /// The database could not be reached or timed out; retrying may help.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// What refused a write. Callers match on it; the database's own wording
/// goes only into the text, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// Another row already holds this unique key.
    Unique(UniqueKey),
    /// A reference to a row that does not exist.
    ForeignKey(String),
    /// A value a CHECK constraint refuses.
    Check(String),
    /// The row changed between being read and being written.
    ChangedConcurrently(&'static str),
    /// A delivery in a state that does not allow the change (its status).
    DeliveryState(String),
}

/// The unique keys callers tell apart; the rest are `Other` with the
/// database's name for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UniqueKey {
    /// `registrations_one_seat_per_person`: a person's confirmed seat in a webinar.
    OneSeatPerPerson,
    /// `consultations.lead_id`: one callback per lead.
    ConsultationLead,
    Other(String),
}

impl UniqueKey {
    /// The key a database names in a unique violation: PostgreSQL gives the
    /// constraint's name, SQLite its columns ("UNIQUE constraint failed:
    /// consultations.lead_id"). The one place that reads either wording.
    pub fn from_database(name: &str) -> Self {
        let columns = name.strip_prefix("UNIQUE constraint failed: ").unwrap_or(name);
        match columns {
            "registrations_one_seat_per_person" | "registrations.person_id, registrations.webinar_id" => {
                UniqueKey::OneSeatPerPerson
            }
            "consultations_lead_id_key" | "consultations.lead_id" => UniqueKey::ConsultationLead,
            _ => UniqueKey::Other(name.to_owned()),
        }
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Constraint::Unique(UniqueKey::OneSeatPerPerson) => f.write_str("unique registrations_one_seat_per_person"),
            Constraint::Unique(UniqueKey::ConsultationLead) => f.write_str("unique consultations.lead_id"),
            Constraint::Unique(UniqueKey::Other(name)) => write!(f, "unique {name}"),
            Constraint::ForeignKey(name) => write!(f, "foreign key {name}"),
            Constraint::Check(name) => write!(f, "check {name}"),
            Constraint::ChangedConcurrently(what) => write!(f, "the {what} changed concurrently"),
            Constraint::DeliveryState(status) => write!(f, "delivery is {status}"),
        }
    }
}

impl StoreError {
    /// A unique violation of `key`.
    pub fn unique(key: UniqueKey) -> Self {
        StoreError::Conflict {
            constraint: Constraint::Unique(key),
        }
    }

    /// Whether this is a unique violation, the signal of a lost race.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Conflict {
                constraint: Constraint::Unique(_)
            }
        )
    }

    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Other(error.into())
    }
}

#[derive(Debug, Error)]
pub enum WebinarError {
    #[error("no webinar has that slug")]
    NotFound,
    #[error("a webinar with that slug exists")]
    SlugTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum ArticleError {
    #[error("no article has that slug")]
    NotFound,
    #[error("an article with that slug exists")]
    SlugTaken,
    #[error("no webinar has that slug")]
    UnknownWebinar,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum SlotError {
    #[error("no webinar has that slug")]
    WebinarNotFound,
    #[error("no such slot")]
    NotFound,
    #[error("a slot of this webinar already starts at that instant")]
    Duplicate,
    #[error("capacity {capacity} is below the {seats_taken} seats taken")]
    CapacityBelowSeatsTaken { capacity: i64, seats_taken: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum LeadError {
    #[error("no published webinar has that slug")]
    WebinarNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum RegistrationError {
    /// The lead does not exist or its token does not match.
    #[error("no lead matches that id and token")]
    LeadNotFound,
    /// An inline lead names a webinar that is not published.
    #[error("no published webinar has that slug")]
    WebinarNotFound,
    #[error("no such slot")]
    SlotNotFound,
    #[error("the slot belongs to another webinar")]
    SlotInOtherWebinar,
    /// Closed by an organiser, already started, or its webinar unpublished.
    #[error("the slot no longer takes registrations")]
    SlotClosed,
    #[error("the slot is full")]
    SlotFull,
    /// No registration matches that id and manage token.
    #[error("no such registration")]
    NotFound,
    /// Only a confirmed registration can be rescheduled.
    #[error("the registration is {0}")]
    NotConfirmed(turnout_domain::RegistrationStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistrationError {
    /// Whether a new lead sent with the seat request stays recorded: a
    /// visitor turned away by a full or closed slot is still a lead. Every
    /// other refusal (bad input) changes nothing. PostgreSQL's
    /// `turnout_register_set` says the same in SQL; the conformance table
    /// holds both to it.
    pub fn keeps_lead(&self) -> bool {
        matches!(self, Self::SlotFull | Self::SlotClosed)
    }
}

#[derive(Debug, Error)]
pub enum AdvisorError {
    #[error("no such advisor")]
    NotFound,
    #[error("an advisor with that email exists")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum ConsultationError {
    /// The lead does not exist or its token does not match.
    #[error("no lead matches that id and token")]
    LeadNotFound,
    /// No window has that key.
    #[error("no callback window has that key")]
    UnknownWindow,
    /// The window has started or is beyond the days on offer.
    #[error("the window is not on offer")]
    WindowNotOffered,
    /// Every advisor covering the window is at capacity.
    #[error("the window is full")]
    WindowFull,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum ReassignError {
    #[error("no such consultation")]
    NotFound,
    #[error("no such advisor")]
    AdvisorNotFound,
    /// The advisor's weekly hours do not cover the whole window.
    #[error("the advisor does not work during the window")]
    NotCovering,
    #[error("the advisor has no room in the window")]
    AdvisorFull,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_name_the_keys_callers_tell_apart() {
        for name in [
            "registrations_one_seat_per_person",
            "UNIQUE constraint failed: registrations.person_id, registrations.webinar_id",
        ] {
            assert_eq!(UniqueKey::from_database(name), UniqueKey::OneSeatPerPerson, "{name}");
        }
        for name in [
            "consultations_lead_id_key",
            "UNIQUE constraint failed: consultations.lead_id",
        ] {
            assert_eq!(UniqueKey::from_database(name), UniqueKey::ConsultationLead, "{name}");
        }
        assert_eq!(
            UniqueKey::from_database("UNIQUE constraint failed: webinars.slug"),
            UniqueKey::Other("UNIQUE constraint failed: webinars.slug".into())
        );
        assert!(StoreError::unique(UniqueKey::ConsultationLead).is_unique_violation());
    }
}

#[derive(Debug, Error)]
pub enum AttendanceError {
    #[error("no such slot")]
    SlotNotFound,
    /// Attendance is marked from the slot's start on.
    #[error("the slot has not started")]
    NotStarted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum WaitlistError {
    /// The lead does not exist or its token does not match.
    #[error("no lead matches that id and token")]
    LeadNotFound,
    #[error("no such slot")]
    SlotNotFound,
    #[error("the slot belongs to another webinar")]
    SlotInOtherWebinar,
    /// Closed, started, or its webinar unpublished.
    #[error("the slot no longer takes registrations")]
    SlotClosed,
    /// A seat is free: register instead.
    #[error("the slot has seats left")]
    SlotHasSeats,
    #[error("no such place on a waiting list")]
    NotFound,
    /// Only an offer can be claimed, and only before it lapses.
    #[error("there is no offer to claim")]
    NoOffer,
    /// The person holds a seat for this webinar already.
    #[error("already registered for this webinar")]
    AlreadyRegistered,
    #[error(transparent)]
    Store(#[from] StoreError),
}
