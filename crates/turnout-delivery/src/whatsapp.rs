//! The confirmation and reminders on WhatsApp, through Meta's WhatsApp
//! Business Cloud API. Outside a conversation the visitor started, a
//! business may only send template messages that Meta approved beforehand,
//! so Turnout sends the configured templates' names with their body
//! parameters, in this order:
//!
//! - confirmation (and rescheduled, which may have a template of its own):
//!   `{{1}}` name, `{{2}}` webinar, `{{3}}` when, in the visitor's zone,
//!   `{{4}}` personal join link, `{{5}}` manage link;
//! - reminder (and the last one, which may have a template of its own):
//!   `{{1}}` name, `{{2}}` webinar, `{{3}}` how long until the start ("1
//!   hour"), `{{4}}` when, `{{5}}` personal join link.
//!
//! Only people who ticked the WhatsApp box get one. When the Cloud API says
//! the number cannot receive WhatsApp messages (error 131026, answered at
//! once or reported later to the status callback), the message is handed to
//! SMS: the WhatsApp consent says so. A visitor who agreed to SMS and not
//! to WhatsApp has their reminders handed to SMS straight away.
//!
//! Each request carries the delivery's message id as
//! `biz_opaque_callback_data`, which the Cloud API echoes in its status
//! callbacks; the Cloud API has no idempotency key, so a worker that dies
//! between sending and recording may send a message twice (as for SMS).

use std::time::Duration;

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use turnout_domain::labels::local_label;
use turnout_store::{Channel, ClaimedDelivery, DeliveryKind, Store};

use crate::message::{
    Links, RegistrationEvent, RegistrationMessage, live_registration, live_reminder, parse, starts_in, zone,
};
use crate::sms::allowed_region;
use crate::{Attempt, Policy};

/// The Cloud API's error code for a recipient who cannot receive WhatsApp
/// messages: not on WhatsApp, or on a client too old.
pub const NOT_ON_WHATSAPP: i64 = 131_026;

/// Where the Cloud API is unless configured otherwise.
pub const GRAPH_API: &str = "https://graph.facebook.com/v21.0";

/// The approved templates' names.
#[derive(Debug, Clone)]
pub struct WhatsAppTemplates {
    pub confirmation: String,
    /// For a new time; the confirmation's template when unset.
    pub rescheduled: Option<String>,
    pub reminder: String,
    /// The reminder closest to the start; the reminder's template when unset.
    pub last_reminder: Option<String>,
}

#[derive(Clone)]
pub struct WhatsAppSettings {
    /// The Graph API's base, e.g. `https://graph.facebook.com/v21.0`.
    pub api_url: String,
    /// The sending business number's id (not the number itself).
    pub phone_number_id: String,
    /// A system user's access token with `whatsapp_business_messaging`.
    pub access_token: SecretString,
    /// The templates' language code, e.g. `en` or `en_US`.
    pub language: String,
    pub templates: WhatsAppTemplates,
    pub timeout: Duration,
    /// ISO 3166 codes, upper case: the countries messages may go to.
    pub countries: Vec<String>,
}

impl std::fmt::Debug for WhatsAppSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppSettings")
            .field("api_url", &self.api_url)
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &"[redacted]")
            .field("language", &self.language)
            .field("templates", &self.templates)
            .field("countries", &self.countries)
            .finish_non_exhaustive()
    }
}

/// An error as the Graph API answers it.
#[derive(Debug, Deserialize)]
struct GraphError {
    error: GraphErrorBody,
}

#[derive(Debug, Deserialize)]
struct GraphErrorBody {
    code: i64,
    #[serde(default)]
    message: String,
}

pub struct WhatsAppSender {
    client: reqwest::Client,
    settings: WhatsAppSettings,
    links: Links,
}

/// One template message, ready to send.
struct TemplateMessage {
    to: String,
    template: String,
    parameters: Vec<String>,
}

impl WhatsAppSender {
    pub fn new(settings: WhatsAppSettings, links: Links) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|error| error.to_string())?;
        Ok(Self {
            client,
            settings,
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
        let message = match self.compose(store, delivery, now, policy).await {
            Ok(message) => message,
            Err(attempt) => return attempt,
        };
        match policy.take(store, Channel::WhatsApp, &message.to, delivery, now).await {
            Ok(()) => self.send(delivery, &message).await,
            Err(attempt) => attempt,
        }
    }

    /// The template and its parameters, for a registration still as the
    /// event left it and a visitor who agreed to WhatsApp.
    async fn compose(
        &self,
        store: &dyn Store,
        delivery: &ClaimedDelivery,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<TemplateMessage, Attempt> {
        let kind = DeliveryKind::parse(&delivery.kind);
        let event: RegistrationEvent = parse(delivery)?;
        let zone = zone(&event.time_zone)?;
        let when = format!("{} ({})", local_label(event.starts_at, &zone).full, zone.name());
        let join_url = event.join_url(&self.links);
        let templates = &self.settings.templates;
        let (contact, template, parameters) = match kind {
            Some(kind @ (DeliveryKind::Confirmation | DeliveryKind::Rescheduled)) => {
                let contact = live_registration(store, &event).await?;
                let template = match kind {
                    DeliveryKind::Rescheduled => templates.rescheduled.as_ref().unwrap_or(&templates.confirmation),
                    _ => &templates.confirmation,
                };
                let parameters = vec![
                    event.name.clone(),
                    event.webinar_title.clone(),
                    when,
                    join_url,
                    event.manage_url(&self.links),
                ];
                (contact, template, parameters)
            }
            Some(DeliveryKind::Reminder(offset)) => {
                let contact = live_reminder(store, delivery, &event, now).await?;
                if !contact.person.whatsapp_consent && contact.person.sms_consent {
                    return Err(Attempt::HandOver(Channel::Sms, "no consent to WhatsApp".into()));
                }
                let template = match policy.is_last_reminder(offset) {
                    true => templates.last_reminder.as_ref().unwrap_or(&templates.reminder),
                    false => &templates.reminder,
                };
                let parameters = vec![
                    event.name.clone(),
                    event.webinar_title.clone(),
                    starts_in(offset, event.starts_at, now),
                    when,
                    join_url,
                ];
                (contact, template, parameters)
            }
            _ => return Err(Attempt::Skip("only confirmations and reminders go by WhatsApp".into())),
        };
        if !contact.person.whatsapp_consent {
            return Err(Attempt::Skip("no consent to WhatsApp".into()));
        }
        allowed_region(&contact.person.phone, &self.settings.countries, "WhatsApp", "whatsapp")?;
        Ok(TemplateMessage {
            to: contact.person.phone,
            template: template.clone(),
            parameters,
        })
    }

    /// The Cloud API's request body for one template message.
    fn request_body(&self, delivery: &ClaimedDelivery, message: &TemplateMessage) -> Value {
        let parameters: Vec<Value> = message
            .parameters
            .iter()
            .map(|text| json!({"type": "text", "text": text}))
            .collect();
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.to.trim_start_matches('+'),
            "type": "template",
            "template": {
                "name": message.template,
                "language": {"code": self.settings.language},
                "components": [{"type": "body", "parameters": parameters}],
            },
            "biz_opaque_callback_data": delivery.message_id.to_string(),
        })
    }

    async fn send(&self, delivery: &ClaimedDelivery, message: &TemplateMessage) -> Attempt {
        let url = format!(
            "{}/{}/messages",
            self.settings.api_url.trim_end_matches('/'),
            self.settings.phone_number_id
        );
        let response = self
            .client
            .post(url)
            .bearer_auth(self.settings.access_token.expose_secret())
            .json(&self.request_body(delivery, message))
            .send()
            .await;
        match response {
            Ok(response) if response.status().is_success() => Attempt::Sent,
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                match serde_json::from_str::<GraphError>(&text) {
                    Ok(GraphError { error }) if error.code == NOT_ON_WHATSAPP => {
                        Attempt::HandOver(Channel::Sms, "the number is not on WhatsApp".into())
                    }
                    Ok(GraphError { error }) => Attempt::Fail(format!(
                        "WhatsApp Cloud API answered {status}: error {} {}",
                        error.code,
                        error.message.chars().take(200).collect::<String>()
                    )),
                    Err(_) => Attempt::Fail(format!(
                        "WhatsApp Cloud API answered {status}: {}",
                        text.chars().take(200).collect::<String>()
                    )),
                }
            }
            Err(error) => Attempt::Fail(format!("WhatsApp Cloud API unreachable: {}", error.without_url())),
        }
    }
}

/// A failed message the Cloud API reported to the status callback: which
/// delivery it was (the `biz_opaque_callback_data` sent with it), and
/// whether the number is not on WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedStatus {
    pub message_id: uuid::Uuid,
    pub not_on_whatsapp: bool,
}

/// The failures in one status callback (`entry[].changes[].value.statuses[]`
/// with `status = "failed"`); everything else in it is ignored.
pub fn failed_statuses(payload: &Value) -> Vec<FailedStatus> {
    let empty = Vec::new();
    let list = |value: &Value, key: &str| value.get(key).and_then(Value::as_array).unwrap_or(&empty).clone();
    list(payload, "entry")
        .iter()
        .flat_map(|entry| list(entry, "changes"))
        .filter_map(|change| change.get("value").cloned())
        .flat_map(|value| list(&value, "statuses"))
        .filter(|status| status.get("status").and_then(Value::as_str) == Some("failed"))
        .filter_map(|status| {
            let message_id = status
                .get("biz_opaque_callback_data")
                .and_then(Value::as_str)?
                .parse()
                .ok()?;
            let not_on_whatsapp = list(&status, "errors")
                .iter()
                .any(|error| error.get("code").and_then(Value::as_i64) == Some(NOT_ON_WHATSAPP));
            Some(FailedStatus {
                message_id,
                not_on_whatsapp,
            })
        })
        .collect()
}

/// Whether `header` (`X-Hub-Signature-256: sha256=<hex>`) is the HMAC-SHA256
/// of `body` under the Meta app's secret, compared in constant time.
pub fn signature_matches(app_secret: &str, body: &[u8], header: &str) -> bool {
    use hmac::{Hmac, Mac};
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(signature) = decode_hex(hex) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_is_taken_only_with_the_apps_signature() {
        use hmac::{Hmac, Mac};
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"app-secret").unwrap();
        mac.update(body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert!(signature_matches("app-secret", body, &format!("sha256={hex}")));
        assert!(!signature_matches("other-secret", body, &format!("sha256={hex}")));
        assert!(!signature_matches("app-secret", b"{}", &format!("sha256={hex}")));
        assert!(!signature_matches("app-secret", body, &hex), "the prefix is required");
        assert!(!signature_matches("app-secret", body, "sha256=zz"));
        assert!(!signature_matches("app-secret", body, "sha256=é1"));
    }

    #[test]
    fn failed_statuses_are_read_from_a_callback_and_the_rest_ignored() {
        let id = uuid::Uuid::now_v7();
        let payload = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "statuses": [
                    {"id": "wamid.1", "status": "delivered", "biz_opaque_callback_data": id.to_string()},
                    {"id": "wamid.2", "status": "failed", "biz_opaque_callback_data": id.to_string(),
                     "errors": [{"code": 131026, "title": "Message undeliverable"}]},
                    {"id": "wamid.3", "status": "failed", "biz_opaque_callback_data": "not ours"},
                    {"id": "wamid.4", "status": "failed", "biz_opaque_callback_data": id.to_string(),
                     "errors": [{"code": 131049}]}
                ]
            }}]}]
        });
        assert_eq!(
            failed_statuses(&payload),
            [
                FailedStatus {
                    message_id: id,
                    not_on_whatsapp: true
                },
                FailedStatus {
                    message_id: id,
                    not_on_whatsapp: false
                },
            ]
        );
        assert!(failed_statuses(&json!({"entry": "nonsense"})).is_empty());
    }
}
