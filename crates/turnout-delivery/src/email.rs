//! Emails: rendered from the templates with HTML and plain-text parts, an
//! RFC 5545 invitation attached where there is one, and sent over SMTP
//! (lettre, rustls) or, by default, written as `.eml` files into a folder so
//! a newcomer can open what Turnout sends. The delivery's message id is the
//! `Message-ID`, so a message sent twice after a crash is recognisably the
//! same message; a file is written under that id and simply replaced.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};
use turnout_domain::RegistrationStatus;
use turnout_domain::calendar::{Invite, Itip};
use turnout_domain::labels::{day_label, local_label};
use turnout_domain::webinar::offer_expires_at;
use turnout_store::events::{EventType, WaitlistChanged};
use turnout_store::{Channel, ClaimedDelivery, DeliveryKind, Store, WaitlistStatus};

use crate::message::{
    ConsultationEvent, Links, RegistrationEvent, RegistrationMessage, live_reminder, parse, reminder_context, zone,
};
use crate::templates::Templates;
use crate::{Attempt, Policy};

/// Where emails go.
#[derive(Debug, Clone)]
pub enum EmailTransport {
    /// `.eml` files in this folder.
    Files(PathBuf),
    /// An SMTP URL as lettre reads it: `smtp://user:pass@host:587?tls=required`
    /// for STARTTLS, `smtps://…:465` for TLS, `smtp://host:25` for neither.
    /// It holds the password, so it never prints.
    Smtp(secrecy::SecretString),
}

enum Transport {
    Files(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub struct Mailer {
    transport: Transport,
    templates: Arc<Templates>,
    links: Links,
    from: Mailbox,
}

/// One email before it is encoded.
struct Letter {
    to: Mailbox,
    template: &'static str,
    context: Value,
    invite: Option<(String, &'static str)>,
}

impl Mailer {
    pub fn new(
        transport: &EmailTransport,
        from: &str,
        templates: Arc<Templates>,
        links: Links,
    ) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|error| format!("the sender {from:?} is not an address: {error}"))?;
        let transport = match transport {
            EmailTransport::Files(dir) => {
                std::fs::create_dir_all(dir).map_err(|error| format!("creating {}: {error}", dir.display()))?;
                Transport::Files(dir.clone())
            }
            EmailTransport::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(secrecy::ExposeSecret::expose_secret(url))
                    .map_err(|error| format!("the SMTP URL is not usable: {error}"))?
                    .timeout(Some(Duration::from_secs(30)))
                    .build(),
            ),
        };
        Ok(Self {
            transport,
            templates,
            links,
            from,
        })
    }

    pub(crate) async fn deliver(
        &self,
        store: &dyn Store,
        delivery: &ClaimedDelivery,
        now: Timestamp,
        policy: &Policy,
    ) -> Attempt {
        let letter = match EventType::parse(&delivery.event.event_type) {
            Some(
                EventType::RegistrationConfirmed
                | EventType::RegistrationRescheduled
                | EventType::RegistrationCancelled
                | EventType::RegistrationManageLinkRequested
                | EventType::RegistrationAttended
                | EventType::RegistrationNoShow,
            ) => self.registration_letter(store, delivery, now, policy).await,
            Some(EventType::ConsultationAssigned) => self.consultation_letter(store, delivery).await,
            Some(EventType::WaitlistJoined | EventType::WaitlistOffered) => {
                self.waitlist_letter(store, delivery, policy).await
            }
            Some(
                EventType::LeadCreated
                | EventType::WaitlistExpired
                | EventType::ConsultationRequested
                | EventType::ConsultationUpdated
                | EventType::ResumeUploaded,
            )
            | None => Err(Attempt::Skip(format!(
                "no email is sent for {}",
                delivery.event.event_type
            ))),
        };
        let letter = match letter {
            Ok(letter) => letter,
            Err(attempt) => return attempt,
        };
        // Advisors are staff: their callback notes are not capped.
        if DeliveryKind::parse(&delivery.kind) != Some(DeliveryKind::Assignment) {
            let address = letter.to.email.to_string().to_lowercase();
            if let Err(attempt) = policy.take(store, Channel::Email, &address, delivery, now).await {
                return attempt;
            }
        }
        match self.encode(delivery, letter) {
            Ok(message) => self.send(delivery, message).await,
            Err(error) => Attempt::Fail(error),
        }
    }

    async fn registration_letter(
        &self,
        store: &dyn Store,
        delivery: &ClaimedDelivery,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<Letter, Attempt> {
        let event: RegistrationEvent = parse(delivery)?;
        let zone = zone(&event.time_zone)?;
        let context = event.context(&self.links, &zone);
        let to = mailbox(&event.name, &event.email)?;
        let unknown = || Attempt::Skip(format!("no registration email is a {}", delivery.kind));
        let (template, cancelled) = match DeliveryKind::parse(&delivery.kind).ok_or_else(unknown)? {
            DeliveryKind::Reminder(offset) => {
                live_reminder(store, delivery, &event, now).await?;
                let last = policy.is_last_reminder(offset);
                return Ok(Letter {
                    to,
                    template: "reminder",
                    context: reminder_context(&event, &self.links, &zone, offset, last, now),
                    invite: None,
                });
            }
            DeliveryKind::ManageLink => {
                return Ok(Letter {
                    to,
                    template: "manage-link",
                    context,
                    invite: None,
                });
            }
            kind @ (DeliveryKind::ThankYou | DeliveryKind::MissedYou) => {
                return follow_up(store, delivery, &event, kind, now, policy)
                    .await
                    .map(|(template, replay_url)| {
                        let mut context = context;
                        context["replay_url"] = json!(replay_url);
                        Letter {
                            to,
                            template,
                            context,
                            invite: None,
                        }
                    });
            }
            DeliveryKind::Confirmation => ("confirmation", false),
            DeliveryKind::Rescheduled => ("rescheduled", false),
            DeliveryKind::Cancellation => ("cancellation", true),
            DeliveryKind::Consultation
            | DeliveryKind::Assignment
            | DeliveryKind::WaitlistJoined
            | DeliveryKind::WaitlistOffer
            | DeliveryKind::Webhook => return Err(unknown()),
        };
        let uid = format!("{}@turnout", event.registration_id);
        let manage_url = event.manage_url(&self.links);
        let join_url = event.join_url(&self.links);
        // A cancelled seat's invite no longer says how to join.
        let description = if cancelled {
            format!(
                "Cancelled. Register again: {}",
                context["webinar_url"].as_str().unwrap_or_default()
            )
        } else {
            format!("Join: {join_url}\nManage your registration: {manage_url}")
        };
        let organizer = self.from.name.clone().unwrap_or_else(|| self.links.site_name.clone());
        let organizer_email = self.from.email.to_string();
        let invite = Invite {
            uid: &uid,
            sequence: u32::try_from(event.sequence).unwrap_or(u32::MAX),
            stamp: delivery.event.created_at,
            start: event.starts_at,
            end: event.ends_at(),
            summary: &event.webinar_title,
            description: &description,
            location: (!cancelled).then_some(join_url.as_str()),
            url: Some(if cancelled { &manage_url } else { &join_url }),
            cancelled,
            itip: Some(Itip {
                organizer_name: &organizer,
                organizer_email: &organizer_email,
                attendee_name: &event.name,
                attendee_email: &event.email,
            }),
        };
        Ok(Letter {
            to,
            template,
            context,
            invite: Some((invite.to_ics(), invite.method())),
        })
    }

    /// The place someone took on a waiting list, or the seat offered to
    /// them: only while it still stands as the event said.
    async fn waitlist_letter(
        &self,
        store: &dyn Store,
        delivery: &ClaimedDelivery,
        policy: &Policy,
    ) -> Result<Letter, Attempt> {
        let event: WaitlistChanged = parse(delivery)?;
        let entry = store
            .find_waitlist_entry(event.entry_id)
            .await
            .map_err(|error| Attempt::Fail(error.to_string()))?
            .ok_or_else(|| Attempt::Skip("the place no longer exists".into()))?;
        let zone = zone(&event.time_zone)?;
        let mut context = json!({
            "name": event.name,
            "webinar_title": event.webinar_title,
            "when": local_label(event.starts_at, &zone).full,
            "time_zone": zone.name(),
            "waitlist_url": self.links.link_key.waitlist_link(&self.links.public_url, event.entry_id),
            "webinar_url": format!("{}/webinars/{}", self.links.public_url, event.webinar),
            "position": entry.position,
            "site_name": self.links.site_name,
            "public_url": self.links.public_url,
        });
        let template = match DeliveryKind::parse(&delivery.kind) {
            Some(DeliveryKind::WaitlistJoined) if entry.status == WaitlistStatus::Waiting => "waitlist-joined",
            Some(DeliveryKind::WaitlistOffer)
                if entry.status == WaitlistStatus::Offered && entry.offered_at == event.offered_at =>
            {
                let offered_at = entry.offered_at.unwrap_or(delivery.event.created_at);
                let expires = offer_expires_at(offered_at, entry.starts_at, policy.offer_hold);
                context["expires"] = json!(local_label(expires, &zone).full);
                "waitlist-offer"
            }
            _ => return Err(Attempt::Skip("the place has changed since".into())),
        };
        Ok(Letter {
            to: mailbox(&event.name, &event.email)?,
            template,
            context,
            invite: None,
        })
    }

    async fn consultation_letter(&self, store: &dyn Store, delivery: &ClaimedDelivery) -> Result<Letter, Attempt> {
        let event: ConsultationEvent = parse(delivery)?;
        let contact = store
            .consultation_contact(event.consultation_id)
            .await
            .map_err(|error| Attempt::Fail(error.to_string()))?
            .ok_or_else(|| Attempt::Skip("the consultation no longer exists".into()))?;
        if contact.advisor_id != event.advisor_id || contact.starts_at != event.starts_at {
            return Err(Attempt::Skip("the consultation was reassigned or moved since".into()));
        }
        let site = json!({"site_name": self.links.site_name, "public_url": self.links.public_url});
        let unknown = || Attempt::Skip(format!("no consultation email is a {}", delivery.kind));
        let (to, template, mut context) = match DeliveryKind::parse(&delivery.kind).ok_or_else(unknown)? {
            DeliveryKind::Consultation => {
                let visitor = &contact.visitor;
                (
                    mailbox(&visitor.name, &visitor.email)?,
                    "consultation",
                    json!({
                        "name": visitor.name,
                        "phone": visitor.phone,
                        "advisor_name": event.advisor_name,
                        "day": day_label(event.window_date),
                        "window": event.window_label,
                        "time_zone": event.time_zone,
                    }),
                )
            }
            DeliveryKind::Assignment => {
                let zone = &contact.advisor_time_zone;
                let start = local_label(event.starts_at, zone);
                let end = local_label(event.ends_at, zone);
                (
                    mailbox(&contact.advisor_name, &contact.advisor_email)?,
                    "assignment",
                    json!({
                        "advisor_name": contact.advisor_name,
                        "visitor_name": contact.visitor.name,
                        "visitor_email": contact.visitor.email,
                        "visitor_phone": contact.visitor.phone,
                        "when": format!("{}, {} – {}", start.day, start.time, end.time),
                        "time_zone": zone.name(),
                    }),
                )
            }
            DeliveryKind::Confirmation
            | DeliveryKind::Rescheduled
            | DeliveryKind::Cancellation
            | DeliveryKind::ManageLink
            | DeliveryKind::Reminder(_)
            | DeliveryKind::ThankYou
            | DeliveryKind::MissedYou
            | DeliveryKind::WaitlistJoined
            | DeliveryKind::WaitlistOffer
            | DeliveryKind::Webhook => return Err(unknown()),
        };
        merge(&mut context, site);
        Ok(Letter {
            to,
            template,
            context,
            invite: None,
        })
    }

    fn encode(&self, delivery: &ClaimedDelivery, letter: Letter) -> Result<Message, String> {
        let text = self
            .templates
            .render_text(&format!("{}.txt", letter.template), &letter.context)?;
        let html = self
            .templates
            .render(&format!("{}.html", letter.template), &letter.context)?;
        let body = MultiPart::alternative_plain_html(text.body, html);
        let body = match letter.invite {
            None => body,
            Some((ics, method)) => {
                let calendar = ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                    .map_err(|error| error.to_string())?;
                MultiPart::mixed()
                    .multipart(body)
                    .singlepart(Attachment::new("invite.ics".into()).body(ics, calendar))
            }
        };
        Message::builder()
            .message_id(Some(format!("<{}@{}>", delivery.message_id, self.from.email.domain())))
            .from(self.from.clone())
            .to(letter.to)
            .subject(text.subject)
            .multipart(body)
            .map_err(|error| format!("the email cannot be built: {error}"))
    }

    async fn send(&self, delivery: &ClaimedDelivery, message: Message) -> Attempt {
        match &self.transport {
            Transport::Files(dir) => {
                let path = dir.join(format!("{}.eml", delivery.message_id));
                let partial = dir.join(format!(".{}.eml.partial", delivery.message_id));
                let written = async {
                    tokio::fs::write(&partial, message.formatted()).await?;
                    tokio::fs::rename(&partial, &path).await
                };
                match written.await {
                    Ok(()) => Attempt::Sent,
                    Err(error) => Attempt::Fail(format!("writing {}: {error}", path.display())),
                }
            }
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Attempt::Sent,
                Err(error) => Attempt::Fail(format!("SMTP: {error}")),
            },
        }
    }
}

/// How often a follow-up waiting for its replay looks again.
const REPLAY_CHECK: SignedDuration = SignedDuration::from_mins(15);

/// A follow-up's template and the replay it carries, when it is still
/// wanted: the registration is still attended (or a no-show) as the event
/// said, and its slot's replay is set, or has been waited for long enough
/// (`replay_wait` after the attendance was settled).
async fn follow_up(
    store: &dyn Store,
    delivery: &ClaimedDelivery,
    event: &RegistrationEvent,
    kind: DeliveryKind,
    now: Timestamp,
    policy: &Policy,
) -> Result<(&'static str, Option<String>), Attempt> {
    let (template, wanted) = match kind {
        DeliveryKind::ThankYou => ("thank-you", RegistrationStatus::Attended),
        _ => ("missed-you", RegistrationStatus::NoShow),
    };
    let target = store
        .join_target(event.registration_id)
        .await
        .map_err(|error| Attempt::Fail(error.to_string()))?
        .ok_or_else(|| Attempt::Skip("the registration no longer exists".into()))?;
    if target.registration.status != wanted || target.registration.slot.id != event.slot_id {
        return Err(Attempt::Skip("the registration's attendance changed since".into()));
    }
    let replay = target.links.replay_url;
    let deadline = delivery.event.created_at.checked_add(policy.replay_wait).unwrap_or(now);
    if replay.is_none() && now < deadline {
        let next = now.checked_add(REPLAY_CHECK).unwrap_or(deadline).min(deadline);
        return Err(Attempt::Defer(next, "waiting for the replay".into()));
    }
    Ok((template, replay))
}

fn mailbox(name: &str, email: &str) -> Result<Mailbox, Attempt> {
    let address = email
        .parse()
        .map_err(|error| Attempt::Skip(format!("{email:?} cannot be mailed: {error}")))?;
    Ok(Mailbox::new(Some(name.to_owned()), address))
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}
