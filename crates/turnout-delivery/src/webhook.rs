//! Webhook calls to CRMs: a JSON body `{type, timestamp, data}` posted with
//! the Standard Webhooks headers. The message id is the delivery's, so a
//! receiver sees the same `webhook-id` on every retry and can drop repeats.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};
use turnout_store::{ClaimedDelivery, WebhookEndpoint};

use crate::address::{AddressPolicy, GuardedResolver};
use crate::signing::sign;

/// How much of a refusing receiver's answer the ledger keeps.
const ERROR_BODY_CHARS: usize = 200;

#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl WebhookSender {
    pub fn new(policy: Arc<AddressPolicy>, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the endpoint's name itself, past the guard.
            .no_proxy()
            .user_agent(concat!("Turnout-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                policy: Arc::clone(&policy),
            }))
            .build()?;
        Ok(Self { client, policy })
    }

    /// Posts one delivery; `Err` carries what the ledger records.
    pub async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        delivery: &ClaimedDelivery,
        now: Timestamp,
    ) -> Result<(), String> {
        let url = reqwest::Url::parse(&endpoint.url).map_err(|error| format!("bad URL: {error}"))?;
        // Literal addresses never reach the resolver: check them here.
        if let Some(ip) = url
            .host_str()
            .and_then(|host| host.trim_matches(['[', ']']).parse().ok())
            && !self.policy.permits(ip)
        {
            return Err(format!("{ip} is an internal address and not allowlisted"));
        }
        let body = body(delivery)?;
        let id = delivery.message_id.to_string();
        let timestamp = now.as_second();
        let signature = sign(&endpoint.secret, &id, timestamp, body.as_bytes())?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|error| format!("request failed: {}", describe(&error.without_url())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let excerpt: String = text.chars().take(ERROR_BODY_CHARS).collect();
        Err(format!("HTTP {status}: {excerpt}").trim_end_matches(": ").to_owned())
    }
}

fn body(delivery: &ClaimedDelivery) -> Result<String, String> {
    let data: Value = serde_json::from_str(&delivery.event.payload).map_err(|error| error.to_string())?;
    Ok(json!({
        "type": delivery.event.event_type,
        "timestamp": delivery.event.created_at.to_string(),
        "event_id": delivery.event.event_id,
        "data": data,
    })
    .to_string())
}

/// reqwest's error with its causes, which say what actually went wrong.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
