//! The events of the funnel, as they are written to the outbox: one builder
//! per event, shared by both backends, so a payload cannot differ by
//! database.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use turnout_domain::{ConsultationStatus, NewLead};
use uuid::Uuid;

use crate::{Consultation, NewResume, Registration, WaitlistEntry};

/// Every kind of event the funnel writes. The outbox stores the name
/// (`as_str`); readers parse it back, so a kind added here is a compile
/// error wherever events are routed or sent until it is handled there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    LeadCreated,
    RegistrationConfirmed,
    RegistrationCancelled,
    RegistrationRescheduled,
    /// Someone asked for a seat that the address already holds: the owner
    /// gets their manage link by email. Internal: webhooks cannot subscribe.
    RegistrationManageLinkRequested,
    /// Settled after the slot: the registrant was there.
    RegistrationAttended,
    /// Settled after the slot: the registrant was not there.
    RegistrationNoShow,
    /// Someone took a place on a full slot's waiting list.
    WaitlistJoined,
    /// A freed seat is held for the first in line: they get a claim link.
    WaitlistOffered,
    /// An offer lapsed unclaimed; the seat went on.
    WaitlistExpired,
    ConsultationRequested,
    ConsultationAssigned,
    ConsultationUpdated,
    ResumeUploaded,
}

impl EventType {
    pub const ALL: [EventType; 14] = [
        EventType::LeadCreated,
        EventType::RegistrationConfirmed,
        EventType::RegistrationCancelled,
        EventType::RegistrationRescheduled,
        EventType::RegistrationManageLinkRequested,
        EventType::RegistrationAttended,
        EventType::RegistrationNoShow,
        EventType::WaitlistJoined,
        EventType::WaitlistOffered,
        EventType::WaitlistExpired,
        EventType::ConsultationRequested,
        EventType::ConsultationAssigned,
        EventType::ConsultationUpdated,
        EventType::ResumeUploaded,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::LeadCreated => "lead.created",
            EventType::RegistrationConfirmed => "registration.confirmed",
            EventType::RegistrationCancelled => "registration.cancelled",
            EventType::RegistrationRescheduled => "registration.rescheduled",
            EventType::RegistrationManageLinkRequested => "registration.manage_link_requested",
            EventType::RegistrationAttended => "registration.attended",
            EventType::RegistrationNoShow => "registration.no_show",
            EventType::WaitlistJoined => "waitlist.joined",
            EventType::WaitlistOffered => "waitlist.offered",
            EventType::WaitlistExpired => "waitlist.expired",
            EventType::ConsultationRequested => "consultation.requested",
            EventType::ConsultationAssigned => "consultation.assigned",
            EventType::ConsultationUpdated => "consultation.updated",
            EventType::ResumeUploaded => "resume.uploaded",
        }
    }

    /// The kind a stored name stands for; `None` for a name this build does
    /// not know.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The name of its payload's schema (one of this module's structs).
    pub const fn payload_schema(self) -> &'static str {
        match self {
            EventType::LeadCreated => "LeadCreated",
            EventType::RegistrationConfirmed
            | EventType::RegistrationCancelled
            | EventType::RegistrationRescheduled
            | EventType::RegistrationManageLinkRequested
            | EventType::RegistrationAttended
            | EventType::RegistrationNoShow => "RegistrationChanged",
            EventType::WaitlistJoined | EventType::WaitlistOffered | EventType::WaitlistExpired => "WaitlistChanged",
            EventType::ConsultationRequested | EventType::ConsultationAssigned => "ConsultationChanged",
            EventType::ConsultationUpdated => "ConsultationUpdated",
            EventType::ResumeUploaded => "ResumeUploaded",
        }
    }

    /// The event of a registration settled as `status`: attended, or (for
    /// `no_show`) not.
    pub fn attendance(status: turnout_domain::RegistrationStatus) -> Self {
        match status {
            turnout_domain::RegistrationStatus::NoShow => EventType::RegistrationNoShow,
            _ => EventType::RegistrationAttended,
        }
    }

    /// Whether webhook endpoints may subscribe to it.
    pub const fn subscribable(self) -> bool {
        !matches!(self, EventType::RegistrationManageLinkRequested)
    }
}

/// Every event type webhook endpoints may subscribe to.
pub const EVENT_TYPES: [&str; 13] = [
    EventType::LeadCreated.as_str(),
    EventType::RegistrationConfirmed.as_str(),
    EventType::RegistrationCancelled.as_str(),
    EventType::RegistrationRescheduled.as_str(),
    EventType::RegistrationAttended.as_str(),
    EventType::RegistrationNoShow.as_str(),
    EventType::WaitlistJoined.as_str(),
    EventType::WaitlistOffered.as_str(),
    EventType::WaitlistExpired.as_str(),
    EventType::ConsultationRequested.as_str(),
    EventType::ConsultationAssigned.as_str(),
    EventType::ConsultationUpdated.as_str(),
    EventType::ResumeUploaded.as_str(),
];

/// Every payload's schema, for the OpenAPI document's webhooks.
pub fn payload_schemas() -> Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::Schema>)> {
    use utoipa::{PartialSchema, ToSchema};
    vec![
        (LeadCreated::name().into_owned(), LeadCreated::schema()),
        (RegistrationChanged::name().into_owned(), RegistrationChanged::schema()),
        (WaitlistChanged::name().into_owned(), WaitlistChanged::schema()),
        (ConsultationChanged::name().into_owned(), ConsultationChanged::schema()),
        (ConsultationUpdated::name().into_owned(), ConsultationUpdated::schema()),
        (ResumeUploaded::name().into_owned(), ResumeUploaded::schema()),
    ]
}

/// The manage-link event's name, for SQL and tests.
pub const MANAGE_LINK_REQUESTED: &str = EventType::RegistrationManageLinkRequested.as_str();

/// `lead.created`: step 1 of the funnel, with the contact details typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeadCreated {
    pub lead_id: Uuid,
    pub webinar: String,
    pub name: String,
    pub email: String,
    /// E.164.
    pub phone: String,
    pub time_zone: String,
    pub sms_consent: bool,
}

/// `registration.confirmed`, `.cancelled`, `.rescheduled`, `.attended`,
/// `.no_show` and the internal manage-link request: the registration as it
/// stood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegistrationChanged {
    pub registration_id: Uuid,
    pub status: String,
    /// Grows with every change, for calendar updates.
    pub sequence: i64,
    pub webinar: String,
    pub webinar_title: String,
    pub slot_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    pub duration_minutes: i64,
    /// The registrant's zone.
    pub time_zone: String,
    pub name: String,
    pub email: String,
}

/// `waitlist.joined`, `.offered` and `.expired`: the place as it stood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WaitlistChanged {
    pub entry_id: Uuid,
    pub status: String,
    pub webinar: String,
    pub webinar_title: String,
    pub slot_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    pub duration_minutes: i64,
    /// The person's zone.
    pub time_zone: String,
    pub name: String,
    pub email: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub offered_at: Option<Timestamp>,
}

/// `consultation.requested` and `consultation.assigned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsultationChanged {
    pub consultation_id: Uuid,
    pub lead_id: Uuid,
    pub advisor_id: i64,
    pub advisor_name: String,
    pub window_label: String,
    /// The visitor's local date of the window.
    #[schema(value_type = String, format = Date)]
    pub window_date: Date,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    pub time_zone: String,
    pub status: String,
}

/// `consultation.updated`: an advisor's or admin's outcome and notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsultationUpdated {
    pub consultation_id: Uuid,
    pub actor: String,
    pub status: String,
    pub notes: Option<String>,
}

/// `resume.uploaded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResumeUploaded {
    pub consultation_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// One event for the outbox. Each delivery made from it (an email, a
/// webhook call) gets its own message id when the event is routed.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub event_id: Uuid,
    pub event_type: EventType,
    pub payload: String,
}

impl OutboxEvent {
    fn new(event_type: EventType, payload: &impl Serialize) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type,
            payload: serde_json::to_string(payload).expect("event payloads always serialise"),
        }
    }

    pub fn lead_created(lead_id: Uuid, lead: &NewLead) -> Self {
        let payload = LeadCreated {
            lead_id,
            webinar: lead.webinar.as_str().to_owned(),
            name: lead.person.name.as_str().to_owned(),
            email: lead.person.email.as_str().to_owned(),
            phone: lead.person.phone.as_e164().to_owned(),
            time_zone: lead.time_zone.name().to_owned(),
            sms_consent: lead.consent.sms,
        };
        Self::new(EventType::LeadCreated, &payload)
    }

    /// `registration.confirmed`, `.cancelled`, `.rescheduled` or the
    /// manage-link request.
    pub fn registration(event_type: EventType, registration: &Registration) -> Self {
        let payload = RegistrationChanged {
            registration_id: registration.id,
            status: registration.status.as_str().to_owned(),
            sequence: registration.sequence,
            webinar: registration.webinar.slug.as_str().to_owned(),
            webinar_title: registration.webinar.title.clone(),
            slot_id: registration.slot.id,
            starts_at: registration.slot.starts_at,
            duration_minutes: registration.webinar.duration_minutes,
            time_zone: registration.time_zone.name().to_owned(),
            name: registration.person_name.clone(),
            email: registration.person_email.as_str().to_owned(),
        };
        Self::new(event_type, &payload)
    }

    /// `waitlist.joined`, `.offered` or `.expired`.
    pub fn waitlist(event_type: EventType, entry: &WaitlistEntry) -> Self {
        let payload = WaitlistChanged {
            entry_id: entry.id,
            status: entry.status.as_str().to_owned(),
            webinar: entry.webinar.slug.as_str().to_owned(),
            webinar_title: entry.webinar.title.clone(),
            slot_id: entry.slot_id,
            starts_at: entry.starts_at,
            duration_minutes: entry.webinar.duration_minutes,
            time_zone: entry.time_zone.clone(),
            name: entry.name.clone(),
            email: entry.email.clone(),
            offered_at: entry.offered_at,
        };
        Self::new(event_type, &payload)
    }

    /// `consultation.requested` or `consultation.assigned`.
    pub fn consultation(event_type: EventType, consultation: &Consultation) -> Self {
        let payload = ConsultationChanged {
            consultation_id: consultation.id,
            lead_id: consultation.lead_id,
            advisor_id: consultation.advisor_id,
            advisor_name: consultation.advisor_name.clone(),
            window_label: consultation.window_label.clone(),
            window_date: consultation.window_date,
            starts_at: consultation.starts_at,
            ends_at: consultation.ends_at,
            time_zone: consultation.time_zone.name().to_owned(),
            status: consultation.status.as_str().to_owned(),
        };
        Self::new(event_type, &payload)
    }

    pub fn consultation_updated(
        consultation_id: Uuid,
        actor: &str,
        status: ConsultationStatus,
        notes: Option<&str>,
    ) -> Self {
        let payload = ConsultationUpdated {
            consultation_id,
            actor: actor.to_owned(),
            status: status.as_str().to_owned(),
            notes: notes.map(str::to_owned),
        };
        Self::new(EventType::ConsultationUpdated, &payload)
    }

    pub fn resume_uploaded(resume: &NewResume) -> Self {
        let payload = ResumeUploaded {
            consultation_id: resume.consultation_id,
            file_name: resume.display_name.clone(),
            content_type: resume.content_type.clone(),
            size_bytes: resume.size_bytes,
            sha256: resume.sha256.clone(),
        };
        Self::new(EventType::ResumeUploaded, &payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_reads_back_from_its_name_and_webhooks_see_all_but_internal_ones() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("registration.confirmd"), None);
        let subscribable: Vec<&str> = EventType::ALL
            .into_iter()
            .filter(|kind| kind.subscribable())
            .map(EventType::as_str)
            .collect();
        assert_eq!(subscribable, EVENT_TYPES);
    }
}
