//! The events of the funnel, as they are written to the outbox: one builder
//! per event, shared by both backends, so a payload cannot differ by
//! database.

use serde_json::{Value, json};
use turnout_domain::{ConsultationStatus, NewLead};
use uuid::Uuid;

use crate::{Consultation, NewResume, Registration};

/// Every event type the funnel writes; webhook endpoints subscribe to these.
pub const EVENT_TYPES: [&str; 8] = [
    "lead.created",
    "registration.confirmed",
    "registration.cancelled",
    "registration.rescheduled",
    "consultation.requested",
    "consultation.assigned",
    "consultation.updated",
    "resume.uploaded",
];

/// Someone asked for a seat that the address already holds: the owner gets
/// their manage link by email. Internal: webhooks cannot subscribe to it.
pub const MANAGE_LINK_REQUESTED: &str = "registration.manage_link_requested";

/// One event for the outbox. Each delivery made from it (an email, a
/// webhook call) gets its own message id when the event is routed.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub event_id: Uuid,
    pub event_type: &'static str,
    pub payload: String,
}

impl OutboxEvent {
    fn new(event_type: &'static str, payload: Value) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type,
            payload: payload.to_string(),
        }
    }

    pub fn lead_created(lead_id: Uuid, lead: &NewLead) -> Self {
        Self::new(
            "lead.created",
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
    pub fn registration(event_type: &'static str, registration: &Registration) -> Self {
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
    pub fn consultation(event_type: &'static str, consultation: &Consultation) -> Self {
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
            "consultation.updated",
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
            "resume.uploaded",
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
