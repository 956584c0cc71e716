//! What emails and SMS say about an event: the event's payload read back,
//! the words and links built from it, and the check that keeps a reminder
//! from going out for a registration that was cancelled or moved since.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use turnout_domain::calendar::{EventText, google_link, outlook_link};
use turnout_domain::labels::local_label;
use turnout_domain::{LinkKey, RegistrationStatus, TimeZone};
use turnout_store::{ClaimedDelivery, DeliveryKind, RegistrationContact, Store};

use crate::Attempt;

/// A `registration.*` event's payload, as the store wrote it.
pub use turnout_store::events::RegistrationChanged as RegistrationEvent;

/// A `consultation.*` event's payload, as the store wrote it.
pub use turnout_store::events::ConsultationChanged as ConsultationEvent;

pub fn parse<T: serde::de::DeserializeOwned>(delivery: &ClaimedDelivery) -> Result<T, Attempt> {
    serde_json::from_str(&delivery.event.payload)
        .map_err(|error| Attempt::Skip(format!("the event's payload cannot be read: {error}")))
}

pub fn zone(name: &str) -> Result<TimeZone, Attempt> {
    TimeZone::parse(name).map_err(|error| Attempt::Skip(format!("unknown time zone: {error}")))
}

/// Where links in messages point.
#[derive(Debug, Clone)]
pub struct Links {
    pub public_url: String,
    pub site_name: String,
    pub link_key: LinkKey,
}

/// What messages say about a registration event.
pub trait RegistrationMessage {
    fn ends_at(&self) -> Timestamp;
    fn manage_url(&self, links: &Links) -> String;
    fn join_url(&self, links: &Links) -> String;
    /// Everything a registration's templates may use.
    fn context(&self, links: &Links, zone: &TimeZone) -> Value;
}

impl RegistrationMessage for RegistrationEvent {
    fn ends_at(&self) -> Timestamp {
        self.starts_at + SignedDuration::from_mins(self.duration_minutes)
    }

    fn manage_url(&self, links: &Links) -> String {
        links.link_key.manage_link(&links.public_url, self.registration_id)
    }

    fn join_url(&self, links: &Links) -> String {
        links.link_key.join_link(&links.public_url, self.registration_id)
    }

    fn context(&self, links: &Links, zone: &TimeZone) -> Value {
        let manage_url = self.manage_url(links);
        let join_url = self.join_url(links);
        let details = format!("Join: {join_url}\nManage your registration: {manage_url}");
        let text = EventText {
            title: &self.webinar_title,
            details: &details,
            start: self.starts_at,
            end: self.ends_at(),
        };
        json!({
            "name": self.name,
            "webinar_title": self.webinar_title,
            "when": local_label(self.starts_at, zone).full,
            "time_zone": zone.name(),
            "duration_minutes": self.duration_minutes,
            "manage_url": manage_url,
            "join_url": join_url,
            "webinar_url": format!("{}/webinars/{}", links.public_url, self.webinar),
            "google_url": google_link(&text),
            "outlook_url": outlook_link(&text),
            "site_name": links.site_name,
            "public_url": links.public_url,
        })
    }
}

/// A reminder's context: the registration's, with how long is left and
/// whether it is the last reminder, which leads with the join link.
pub fn reminder_context(
    event: &RegistrationEvent,
    links: &Links,
    zone: &TimeZone,
    offset: SignedDuration,
    last: bool,
    now: Timestamp,
) -> Value {
    let mut context = event.context(links, zone);
    context["starts_in"] = json!(starts_in(offset, event.starts_at, now));
    context["last_reminder"] = json!(last);
    context
}

/// Checks that a reminder is still wanted, and returns the registration as
/// it stands: not when it was cancelled or moved since (a later sequence),
/// and not late by more than its own offset (that is, after the start).
pub async fn live_reminder(
    store: &dyn Store,
    delivery: &ClaimedDelivery,
    event: &RegistrationEvent,
    now: Timestamp,
) -> Result<RegistrationContact, Attempt> {
    let offset = DeliveryKind::parse(&delivery.kind)
        .and_then(DeliveryKind::reminder_offset)
        .ok_or_else(|| Attempt::Skip("not a reminder".into()))?;
    let contact = live_registration(store, event).await?;
    let due = event.starts_at - offset;
    if now.duration_since(due) > offset {
        return Err(Attempt::Skip("too late: the webinar has started".into()));
    }
    Ok(contact)
}

/// The registration as it stands, while it is still the one the event
/// announced: not cancelled, not moved to another slot since (a later
/// sequence). A text message about an older state would mislead; an email's
/// invitation is superseded by the next one's sequence instead.
pub async fn live_registration(store: &dyn Store, event: &RegistrationEvent) -> Result<RegistrationContact, Attempt> {
    let contact = store
        .registration_contact(event.registration_id)
        .await
        .map_err(|error| Attempt::Fail(error.to_string()))?
        .ok_or_else(|| Attempt::Skip("the registration no longer exists".into()))?;
    if contact.status != RegistrationStatus::Confirmed {
        return Err(Attempt::Skip("the registration was cancelled".into()));
    }
    if contact.sequence != event.sequence || contact.starts_at != event.starts_at {
        return Err(Attempt::Skip("the registration moved to another slot".into()));
    }
    Ok(contact)
}

/// How long until the start, as a reminder says it: the offset when the
/// reminder is on time, less when it went out late; rounded to the nearest
/// minute, or hour for an offset in whole hours ("24 hours", "1 hour",
/// "30 minutes").
pub fn starts_in(offset: SignedDuration, starts_at: Timestamp, now: Timestamp) -> String {
    let left = now.duration_until(starts_at).clamp(SignedDuration::ZERO, offset);
    let mut minutes = ((left.as_secs() + 30) / 60).max(1);
    if offset.as_mins() % 60 == 0 && minutes >= 60 {
        minutes = (minutes + 30) / 60 * 60;
    }
    let (count, unit) = match minutes {
        m if m % 60 == 0 => (m / 60, "hour"),
        m => (m, "minute"),
    };
    match count {
        1 => format!("1 {unit}"),
        n => format!("{n} {unit}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reminder_says_how_long_is_left() {
        let start: Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let day = SignedDuration::from_hours(24);
        let hour = SignedDuration::from_hours(1);
        let at = |before: SignedDuration| start - before;
        assert_eq!(starts_in(day, start, at(day)), "24 hours");
        assert_eq!(
            starts_in(day, start, at(day - SignedDuration::from_secs(5))),
            "24 hours",
            "seconds late"
        );
        assert_eq!(
            starts_in(day, start, at(SignedDuration::from_hours(22))),
            "22 hours",
            "hours late"
        );
        assert_eq!(
            starts_in(hour, start, at(hour - SignedDuration::from_secs(5))),
            "1 hour"
        );
        assert_eq!(starts_in(hour, start, at(SignedDuration::from_mins(35))), "35 minutes");
        let ninety = SignedDuration::from_mins(90);
        assert_eq!(starts_in(ninety, start, at(ninety)), "90 minutes");
    }
}
