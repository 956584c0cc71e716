//! Running Turnout: advisors, callback windows, credentials, webhooks and
//! the delivery ledger.

use jiff::Timestamp;
use turnout_domain::SecretToken;
use turnout_store::{
    Advisor, AdvisorError, ApiToken, ApiTokenRole, Delivery, NewAdvisor, NewApiToken, StoreError, WebhookChanges,
    WebhookEndpoint, WindowSettings,
};
use uuid::Uuid;

use crate::{Turnout, now};

/// A webhook endpoint as an admin asks for it; Turnout makes its id and
/// signing secret.
pub struct NewWebhook {
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
}

impl Turnout {
    pub async fn create_advisor(&self, advisor: &NewAdvisor) -> Result<Advisor, AdvisorError> {
        self.store.create_advisor(advisor, now()).await
    }

    /// Replaces the callback windows offered to visitors; consultations
    /// already requested keep theirs.
    pub async fn set_window_settings(&self, settings: &WindowSettings) -> Result<(), StoreError> {
        self.store.set_window_settings(settings).await
    }

    /// A new credential living `days` (0: until revoked), and its secret,
    /// which exists only in this answer. An advisor's names an advisor who
    /// exists (`AdvisorError::NotFound` otherwise).
    pub async fn issue_token(
        &self,
        role: ApiTokenRole,
        advisor_id: Option<i64>,
        label: &str,
        days: i64,
    ) -> Result<(ApiToken, SecretToken), AdvisorError> {
        let now = now();
        let (new, secret) = NewApiToken::issue(role, advisor_id, label, days, now);
        let stored = self.store.create_api_token(&new, now).await?;
        Ok((stored, secret))
    }

    /// Revokes a credential on every instance at once; revoking again keeps
    /// the first time.
    pub async fn revoke_token(&self, id: i64) -> Result<ApiToken, StoreError> {
        self.store.revoke_api_token(id, now()).await
    }

    /// A new endpoint, enabled, with a new signing secret (shown once).
    pub async fn create_webhook(&self, webhook: NewWebhook) -> Result<WebhookEndpoint, StoreError> {
        let now = now();
        let endpoint = WebhookEndpoint {
            id: Uuid::now_v7(),
            url: webhook.url,
            description: webhook.description,
            event_types: webhook.event_types,
            secret: turnout_delivery::signing::generate_secret(),
            enabled: true,
            consecutive_failures: 0,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        self.store.create_webhook(&endpoint).await?;
        Ok(endpoint)
    }

    /// Changes an endpoint; enabling one that was disabled lets what it
    /// held back go out.
    pub async fn update_webhook(&self, id: Uuid, changes: &WebhookChanges) -> Result<WebhookEndpoint, StoreError> {
        self.store.update_webhook(id, changes, now()).await
    }

    /// Deletes an endpoint; what it has not received yet is skipped.
    pub async fn delete_webhook(&self, id: Uuid) -> Result<(), StoreError> {
        self.store.delete_webhook(id, now()).await
    }

    /// Sends an endpoint's failed and dead deliveries again (with `since`,
    /// every one created since then); how many.
    pub async fn replay_webhook(&self, id: Uuid, since: Option<Timestamp>) -> Result<u64, StoreError> {
        self.store.replay_webhook(id, since, now()).await
    }

    /// Sends a failed or dead delivery again.
    pub async fn retry_delivery(&self, message_id: Uuid) -> Result<Delivery, StoreError> {
        self.store.retry_delivery(message_id, now()).await
    }
}
