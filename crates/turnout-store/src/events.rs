//! The events of the funnel, as they are written to the outbox: one builder
//! per event, shared by both backends, so a payload cannot differ by
//! database.

use serde_json::{Value, json};
use turnout_domain::{ConsultationStatus, NewLead};
use uuid::Uuid;

use crate::{Consultation, NewResume, Registration};

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
    ConsultationRequested,
    ConsultationAssigned,
    ConsultationUpdated,
    ResumeUploaded,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        EventType::LeadCreated,
        EventType::RegistrationConfirmed,
        EventType::RegistrationCancelled,
        EventType::RegistrationRescheduled,
        EventType::RegistrationManageLinkRequested,
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

    /// Whether webhook endpoints may subscribe to it.
    pub const fn subscribable(self) -> bool {
        !matches!(self, EventType::RegistrationManageLinkRequested)
    }
}

/// Every event type webhook endpoints may subscribe to.
pub const EVENT_TYPES: [&str; 8] = [
    EventType::LeadCreated.as_str(),
    EventType::RegistrationConfirmed.as_str(),
    EventType::RegistrationCancelled.as_str(),
    EventType::RegistrationRescheduled.as_str(),
    EventType::ConsultationRequested.as_str(),
    EventType::ConsultationAssigned.as_str(),
    EventType::ConsultationUpdated.as_str(),
    EventType::ResumeUploaded.as_str(),
];

/// The manage-link event's name, for SQL and tests.
pub const MANAGE_LINK_REQUESTED: &str = EventType::RegistrationManageLinkRequested.as_str();

/// One event for the outbox. Each delivery made from it (an email, a
/// webhook call) gets its own message id when the event is routed.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub event_id: Uuid,
    pub event_type: EventType,
    pub payload: String,
}

impl OutboxEvent {
    fn new(event_type: EventType, payload: Value) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type,
            payload: payload.to_string(),
        }
    }

    pub fn lead_created(lead_id: Uuid, lead: &NewLead) -> Self {
        Self::new(
            EventType::LeadCreated,
            json!({
                "lead_id": lead_id,
                "webinar": lead.webinar.as_str(),
                "name": lead.person.name.as_str(),
                "email": lead.person.email.as_str(),
                "phone": lead.person.phone.as_e164(),
                "time_zone": lead.time_zone.name(),
                "sms_consent": lead.consent.sms,
            }),
        )
    }

    /// `registration.confirmed`, `.cancelled` or `.rescheduled`.
    pub fn registration(event_type: EventType, registration: &Registration) -> Self {
        Self::new(
            event_type,
            json!({
                "registration_id": registration.id,
                "status": registration.status.as_str(),
                "sequence": registration.sequence,
                "webinar": registration.webinar.slug.as_str(),
                "webinar_title": registration.webinar.title,
                "slot_id": registration.slot.id,
                "starts_at": registration.slot.starts_at.to_string(),
                "duration_minutes": registration.webinar.duration_minutes,
                "time_zone": registration.time_zone.name(),
                "name": registration.person_name,
                "email": registration.person_email.as_str(),
            }),
        )
    }

    /// `consultation.requested` or `consultation.assigned`.
    pub fn consultation(event_type: EventType, consultation: &Consultation) -> Self {
        Self::new(
            event_type,
            json!({
                "consultation_id": consultation.id,
                "lead_id": consultation.lead_id,
                "advisor_id": consultation.advisor_id,
                "advisor_name": consultation.advisor_name,
                "window_label": consultation.window_label,
                "window_date": consultation.window_date.to_string(),
                "starts_at": consultation.starts_at.to_string(),
                "ends_at": consultation.ends_at.to_string(),
                "time_zone": consultation.time_zone.name(),
                "status": consultation.status.as_str(),
            }),
        )
    }

    pub fn consultation_updated(
        consultation_id: Uuid,
        actor: &str,
        status: ConsultationStatus,
        notes: Option<&str>,
    ) -> Self {
        Self::new(
            EventType::ConsultationUpdated,
            json!({
                "consultation_id": consultation_id,
                "actor": actor,
                "status": status.as_str(),
                "notes": notes,
            }),
        )
    }

    pub fn resume_uploaded(resume: &NewResume) -> Self {
        Self::new(
            EventType::ResumeUploaded,
            json!({
                "consultation_id": resume.consultation_id,
                "file_name": resume.display_name,
                "content_type": resume.content_type,
                "size_bytes": resume.size_bytes,
                "sha256": resume.sha256,
            }),
        )
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
