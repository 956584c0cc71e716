//! Which deliveries an event makes. Pure, so it runs inside the store's
//! routing transaction.
//!
//! - `registration.confirmed` and `.rescheduled`: an email with the
//!   invitation, and a reminder by email at each offset before the slot
//!   that is still ahead; with WhatsApp configured, the confirmation and
//!   each reminder on WhatsApp too (whose sender hands them to SMS for
//!   those who agreed only to SMS or are not on WhatsApp), otherwise each
//!   reminder by SMS when SMS is configured;
//! - `registration.cancelled`: an email cancelling the invitation;
//! - `registration.manage_link_requested` (someone tried to register an
//!   address that already holds a seat): the owner's manage link, by email
//!   to the address registered, never to the caller;
//! - `registration.attended` and `.no_show`: a follow-up by email, thanks
//!   and the replay, or the replay and another time;
//! - `consultation.assigned`: a confirmation to the visitor and a note to
//!   the advisor;
//! - every event: a webhook call to each endpoint that wants its type.

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use turnout_store::events::EventType;
use turnout_store::{Channel, DeliveryKind, EventRecord, NewDelivery, Router, WebhookEndpoint};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct FunnelRouter {
    /// How long before the slot each reminder goes out.
    pub reminders: Vec<SignedDuration>,
    /// Whether SMS reminders are sent at all (a provider is configured).
    pub sms: bool,
    /// Whether the WhatsApp Cloud API is configured: phone messages about a
    /// registration then start on WhatsApp.
    pub whatsapp: bool,
}

#[derive(Deserialize)]
struct Slot {
    starts_at: Timestamp,
}

fn delivery(channel: Channel, kind: DeliveryKind, recipient: &str, due_at: Timestamp) -> NewDelivery {
    NewDelivery {
        message_id: Uuid::now_v7(),
        channel,
        kind: kind.as_name().into_owned(),
        recipient: recipient.to_owned(),
        endpoint_id: None,
        due_at,
    }
}

impl FunnelRouter {
    fn messages(&self, event: &EventRecord) -> Vec<NewDelivery> {
        let now = event.created_at;
        let email = |kind: DeliveryKind, recipient: &str| delivery(Channel::Email, kind, recipient, now);
        let Some(event_type) = EventType::parse(&event.event_type) else {
            return Vec::new();
        };
        match event_type {
            EventType::RegistrationConfirmed | EventType::RegistrationRescheduled => {
                let kind = match event_type {
                    EventType::RegistrationConfirmed => DeliveryKind::Confirmation,
                    _ => DeliveryKind::Rescheduled,
                };
                let mut messages = vec![email(kind, "visitor")];
                // One phone message each, however many channels carry them.
                let phone = match (self.whatsapp, self.sms) {
                    (true, _) => Some(Channel::WhatsApp),
                    (false, true) => Some(Channel::Sms),
                    (false, false) => None,
                };
                if phone == Some(Channel::WhatsApp) {
                    messages.push(delivery(Channel::WhatsApp, kind, "visitor", now));
                }
                if let Ok(slot) = serde_json::from_str::<Slot>(&event.payload) {
                    for offset in &self.reminders {
                        let due = slot.starts_at - *offset;
                        if due <= now {
                            continue;
                        }
                        let kind = DeliveryKind::Reminder(*offset);
                        messages.push(delivery(Channel::Email, kind, "visitor", due));
                        if let Some(channel) = phone {
                            messages.push(delivery(channel, kind, "visitor", due));
                        }
                    }
                }
                messages
            }
            EventType::RegistrationCancelled => vec![email(DeliveryKind::Cancellation, "visitor")],
            EventType::RegistrationManageLinkRequested => vec![email(DeliveryKind::ManageLink, "visitor")],
            EventType::RegistrationAttended => vec![email(DeliveryKind::ThankYou, "visitor")],
            EventType::RegistrationNoShow => vec![email(DeliveryKind::MissedYou, "visitor")],
            EventType::WaitlistJoined => vec![email(DeliveryKind::WaitlistJoined, "visitor")],
            EventType::WaitlistOffered => {
                let mut messages = vec![email(DeliveryKind::WaitlistOffer, "visitor")];
                if self.sms {
                    messages.push(delivery(Channel::Sms, DeliveryKind::WaitlistOffer, "visitor", now));
                }
                messages
            }
            EventType::ConsultationAssigned => vec![
                email(DeliveryKind::Consultation, "visitor"),
                email(DeliveryKind::Assignment, "advisor"),
            ],
            // For webhooks only.
            EventType::WaitlistExpired
            | EventType::LeadCreated
            | EventType::ConsultationRequested
            | EventType::ConsultationUpdated
            | EventType::ResumeUploaded => Vec::new(),
        }
    }
}

impl Router for FunnelRouter {
    fn route(&self, event: &EventRecord, endpoints: &[WebhookEndpoint]) -> Vec<NewDelivery> {
        let webhooks = endpoints
            .iter()
            .filter(|endpoint| endpoint.wants(&event.event_type))
            .map(|endpoint| NewDelivery {
                endpoint_id: Some(endpoint.id),
                ..delivery(
                    Channel::Webhook,
                    DeliveryKind::Webhook,
                    &endpoint.id.to_string(),
                    event.created_at,
                )
            });
        let mut deliveries = self.messages(event);
        deliveries.extend(webhooks);
        deliveries
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(event_type: &str, starts_in: SignedDuration) -> EventRecord {
        let now: Timestamp = "2026-04-10T12:00:00Z".parse().unwrap();
        EventRecord {
            id: 1,
            event_id: Uuid::now_v7(),
            event_type: event_type.into(),
            payload: json!({"starts_at": (now + starts_in).to_string()}).to_string(),
            created_at: now,
            routed_at: None,
        }
    }

    fn router(sms: bool) -> FunnelRouter {
        FunnelRouter {
            reminders: vec![SignedDuration::from_hours(24), SignedDuration::from_hours(1)],
            sms,
            whatsapp: false,
        }
    }

    fn kinds(deliveries: &[NewDelivery]) -> Vec<(String, &'static str)> {
        deliveries
            .iter()
            .map(|d| (d.kind.clone(), d.channel.as_str()))
            .collect()
    }

    #[test]
    fn a_registration_gets_its_confirmation_and_the_reminders_still_ahead() {
        let far = event("registration.confirmed", SignedDuration::from_hours(72));
        let routed = router(true).route(&far, &[]);
        assert_eq!(
            kinds(&routed),
            [
                ("confirmation".into(), "email"),
                ("reminder-24h".into(), "email"),
                ("reminder-24h".into(), "sms"),
                ("reminder-1h".into(), "email"),
                ("reminder-1h".into(), "sms"),
            ]
        );
        assert_eq!(routed[1].due_at, far.created_at + SignedDuration::from_hours(48));

        let whatsapp = FunnelRouter {
            whatsapp: true,
            ..router(true)
        };
        assert_eq!(
            kinds(&whatsapp.route(&far, &[])),
            [
                ("confirmation".into(), "email"),
                ("confirmation".into(), "whatsapp"),
                ("reminder-24h".into(), "email"),
                ("reminder-24h".into(), "whatsapp"),
                ("reminder-1h".into(), "email"),
                ("reminder-1h".into(), "whatsapp"),
            ],
            "WhatsApp first; its sender hands a message to SMS when it must"
        );

        let soon = event("registration.rescheduled", SignedDuration::from_hours(3));
        assert_eq!(
            kinds(&router(false).route(&soon, &[])),
            [("rescheduled".into(), "email"), ("reminder-1h".into(), "email")],
            "a reminder whose time has passed is not made"
        );
    }

    #[test]
    fn delivery_kinds_read_back_from_their_names() {
        for offset in [
            SignedDuration::from_hours(24),
            SignedDuration::from_hours(1),
            SignedDuration::from_mins(90),
        ] {
            let kind = DeliveryKind::Reminder(offset);
            assert_eq!(DeliveryKind::parse(&kind.as_name()), Some(kind));
        }
        assert_eq!(
            DeliveryKind::Reminder(SignedDuration::from_mins(90)).as_name(),
            "reminder-90m"
        );
        for kind in [
            DeliveryKind::Confirmation,
            DeliveryKind::Rescheduled,
            DeliveryKind::Cancellation,
            DeliveryKind::ManageLink,
            DeliveryKind::Consultation,
            DeliveryKind::Assignment,
            DeliveryKind::Webhook,
        ] {
            assert_eq!(DeliveryKind::parse(&kind.as_name()), Some(kind));
            assert_eq!(kind.reminder_offset(), None);
        }
        assert_eq!(DeliveryKind::parse("reminder-x"), None);
        assert_eq!(DeliveryKind::parse("postcard"), None);
    }
}
