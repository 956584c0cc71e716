//! SMS reminders through any HTTP API: the URL, credentials and request
//! body come from configuration, the body being a MiniJinja template of
//! `to`, `from` and `text`. The default body is the form Twilio's Messages
//! API takes. Only people who agreed to SMS get one; each request carries
//! the delivery's message id as `Idempotency-Key` for providers that
//! honour it.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use minijinja::Environment;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use turnout_domain::Phone;
use turnout_domain::labels::local_label;
use turnout_domain::webinar::offer_expires_at;
use turnout_store::events::WaitlistChanged;
use turnout_store::{Channel, ClaimedDelivery, DeliveryKind, Store, WaitlistStatus};

use crate::message::{
    Links, RegistrationEvent, RegistrationMessage, live_registration, live_reminder, parse, reminder_context, zone,
};
use crate::templates::Templates;
use crate::{Attempt, Policy};

/// Twilio's Messages API form.
pub const TWILIO_BODY: &str = "To={{ to | urlencode }}&From={{ from | urlencode }}&Body={{ text | urlencode }}";
pub const FORM: &str = "application/x-www-form-urlencoded";

/// Where SMS may go unless configured otherwise: the countries of the demo's
/// audiences. Every other country is refused, so a script cannot send
/// Turnout's SMS to premium-rate numbers abroad (toll fraud).
pub const DEFAULT_COUNTRIES: &[&str] = &["IN", "US", "GB"];

#[derive(Clone)]
pub struct SmsSettings {
    /// Where to POST, e.g. Twilio's
    /// `https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json`.
    pub url: String,
    /// HTTP basic credentials (Twilio: the account SID and auth token).
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sending number or sender id.
    pub from: String,
    /// The request body, a template of `to`, `from` and `text`.
    pub body: String,
    pub content_type: String,
    pub timeout: Duration,
    /// ISO 3166 codes, upper case: the countries SMS may go to.
    pub countries: Vec<String>,
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from)
            .field("countries", &self.countries)
            .finish_non_exhaustive()
    }
}

/// Whether `channel` may carry a message to this number: its country is
/// among `countries` (the `{key}.countries` setting).
pub(crate) fn allowed_region(phone: &str, countries: &[String], channel: &str, key: &str) -> Result<(), Attempt> {
    let region = Phone::region_of(phone);
    if region
        .as_deref()
        .is_some_and(|region| countries.iter().any(|allowed| allowed == region))
    {
        return Ok(());
    }
    Err(Attempt::Skip(format!(
        "{channel} to {} is not allowed ({key}.countries)",
        region.as_deref().unwrap_or("an unknown country")
    )))
}

pub struct SmsSender {
    client: reqwest::Client,
    settings: SmsSettings,
    request: Environment<'static>,
    templates: Arc<Templates>,
    links: Links,
}

impl SmsSender {
    pub fn new(settings: SmsSettings, templates: Arc<Templates>, links: Links) -> Result<Self, String> {
        let mut request = Environment::new();
        request.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        request
            .add_template_owned("request", settings.body.clone())
            .map_err(|error| format!("the SMS body template: {error}"))?;
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|error| error.to_string())?;
        Ok(Self {
            client,
            settings,
            request,
            templates,
            links,
        })
    }

    pub(crate) async fn deliver(
        &self,
        store: &dyn Store,
        delivery: &ClaimedDelivery,
        now: Timestamp,
        policy: &Policy,
    ) -> Attempt {
        let (to, text) = match self.compose(store, delivery, now, policy).await {
            Ok(message) => message,
            Err(attempt) => return attempt,
        };
        match policy.take(store, Channel::Sms, &to, delivery, now).await {
            Ok(()) => self.send(delivery, &to, &text).await,
            Err(attempt) => attempt,
        }
    }

    /// The number and the text of a message that is still wanted.
    async fn compose(
        &self,
        store: &dyn Store,
        delivery: &ClaimedDelivery,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<(String, String), Attempt> {
        match DeliveryKind::parse(&delivery.kind) {
            Some(DeliveryKind::Reminder(offset)) => self.reminder(store, delivery, offset, now, policy).await,
            Some(DeliveryKind::WaitlistOffer) => self.offer(store, delivery, policy).await,
            // Only handed over from WhatsApp, for a number not on it.
            Some(kind @ (DeliveryKind::Confirmation | DeliveryKind::Rescheduled)) => {
                self.confirmation(store, delivery, kind).await
            }
            _ => Err(Attempt::Skip("only reminders and waiting-list offers go by SMS".into())),
        }
    }

    /// Whether SMS may go to this number (`sms.countries`).
    fn allowed(&self, phone: &str) -> Result<(), Attempt> {
        allowed_region(phone, &self.settings.countries, "SMS", "sms")
    }

    /// A confirmation or new time, for someone whose WhatsApp message could
    /// not be delivered.
    async fn confirmation(
        &self,
        store: &dyn Store,
        delivery: &ClaimedDelivery,
        kind: DeliveryKind,
    ) -> Result<(String, String), Attempt> {
        let event: RegistrationEvent = parse(delivery)?;
        let contact = live_registration(store, &event).await?;
        if !contact.person.may_text() {
            return Err(Attempt::Skip("no consent to SMS".into()));
        }
        self.allowed(&contact.person.phone)?;
        let mut context = event.context(&self.links, &zone(&event.time_zone)?);
        context["rescheduled"] = json!(kind == DeliveryKind::Rescheduled);
        let text = self
            .templates
            .render("sms-confirmation.txt", &context)
            .map_err(Attempt::Fail)?;
        Ok((contact.person.phone, text.trim_end().to_owned()))
    }

    /// A seat held for the first in line, while it still is.
    async fn offer(
        &self,
        store: &dyn Store,
        delivery: &ClaimedDelivery,
        policy: &Policy,
    ) -> Result<(String, String), Attempt> {
        let event: WaitlistChanged = parse(delivery)?;
        let entry = store
            .find_waitlist_entry(event.entry_id)
            .await
            .map_err(|error| Attempt::Fail(error.to_string()))?
            .ok_or_else(|| Attempt::Skip("the place no longer exists".into()))?;
        if entry.status != WaitlistStatus::Offered || entry.offered_at != event.offered_at {
            return Err(Attempt::Skip("the place has changed since".into()));
        }
        if !entry.sms_consent {
            return Err(Attempt::Skip("no consent to SMS".into()));
        }
        self.allowed(&entry.phone)?;
        let zone = zone(&entry.time_zone)?;
        let offered_at = entry.offered_at.unwrap_or(delivery.event.created_at);
        let expires = offer_expires_at(offered_at, entry.starts_at, policy.offer_hold);
        let context = json!({
            "webinar_title": entry.webinar.title,
            "when": local_label(entry.starts_at, &zone).full,
            "expires": local_label(expires, &zone).full,
            "waitlist_url": self.links.link_key.waitlist_link(&self.links.public_url, entry.id),
            "site_name": self.links.site_name,
        });
        let text = self
            .templates
            .render("sms-waitlist-offer.txt", &context)
            .map_err(Attempt::Fail)?;
        Ok((entry.phone, text.trim_end().to_owned()))
    }

    /// A reminder that is still wanted.
    async fn reminder(
        &self,
        store: &dyn Store,
        delivery: &ClaimedDelivery,
        offset: SignedDuration,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<(String, String), Attempt> {
        let event: RegistrationEvent = parse(delivery)?;
        let contact = live_reminder(store, delivery, &event, now).await?;
        if !contact.person.may_text() {
            return Err(Attempt::Skip("no consent to SMS".into()));
        }
        self.allowed(&contact.person.phone)?;
        let last = policy.is_last_reminder(offset);
        let context = reminder_context(&event, &self.links, &zone(&event.time_zone)?, offset, last, now);
        let text = self
            .templates
            .render("sms-reminder.txt", &context)
            .map_err(Attempt::Fail)?;
        Ok((contact.person.phone, text.trim_end().to_owned()))
    }

    /// The provider's request body for one message.
    fn request_body(&self, to: &str, text: &str) -> Result<String, String> {
        self.request
            .get_template("request")
            .and_then(|template| template.render(json!({"to": to, "from": self.settings.from, "text": text})))
            .map_err(|error| format!("the SMS body template: {error}"))
    }

    async fn send(&self, delivery: &ClaimedDelivery, to: &str, text: &str) -> Attempt {
        let body = match self.request_body(to, text) {
            Ok(body) => body,
            Err(error) => return Attempt::Fail(error),
        };
        let mut request = self
            .client
            .post(&self.settings.url)
            .header("content-type", &self.settings.content_type)
            .header("idempotency-key", delivery.message_id.to_string())
            .body(body);
        if let Some(username) = &self.settings.username {
            request = request.basic_auth(
                username,
                self.settings.password.as_ref().map(ExposeSecret::expose_secret),
            );
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Attempt::Sent,
            Ok(response) => {
                let status = response.status();
                let text: String = response.text().await.unwrap_or_default().chars().take(200).collect();
                Attempt::Fail(format!("SMS provider answered {status}: {text}"))
            }
            // Without the URL: some providers put their key in it.
            Err(error) => Attempt::Fail(format!("SMS provider unreachable: {}", error.without_url())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Links {
        Links {
            public_url: "https://example.com".into(),
            site_name: "Turnout".into(),
            link_key: turnout_domain::LinkKey::generate(),
        }
    }

    fn sender(body: &str, content_type: &str) -> SmsSender {
        SmsSender::new(
            SmsSettings {
                url: "https://sms.example.com/messages".into(),
                username: None,
                password: None,
                from: "+15005550006".into(),
                body: body.into(),
                content_type: content_type.into(),
                timeout: Duration::from_secs(1),
                countries: vec!["IN".into()],
            },
            Arc::new(Templates::new(None)),
            links(),
        )
        .unwrap()
    }

    #[test]
    fn the_default_body_is_twilios_form_and_others_are_templates() {
        let text = "AI & you starts in 1 hour: \"Friday\"";
        let twilio = sender(TWILIO_BODY, FORM).request_body("+919876543210", text).unwrap();
        let fields: Vec<(String, String)> = serde_urlencoded::from_str(&twilio).unwrap();
        assert_eq!(
            fields,
            [
                ("To".into(), "+919876543210".into()),
                ("From".into(), "+15005550006".into()),
                ("Body".into(), text.into()),
            ]
        );
        let json = sender(
            r#"{"to": {{ to|tojson }}, "text": {{ text|tojson }}}"#,
            "application/json",
        )
        .request_body("+919876543210", text)
        .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, json!({"to": "+919876543210", "text": text}));
        let broken = SmsSettings {
            body: "{{ to".into(),
            ..sender(TWILIO_BODY, FORM).settings
        };
        assert!(SmsSender::new(broken, Arc::new(Templates::new(None)), links()).is_err());
    }
}
