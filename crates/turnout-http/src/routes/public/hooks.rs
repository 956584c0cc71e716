//! Callbacks from the providers Turnout sends through. Each is
//! authenticated by the provider's signature rather than a client
//! address, so the per-address write limit does not apply to them, and
//! each answers 404 while its provider is not configured.
//!
//! WhatsApp's status callback reports messages the Cloud API accepted and
//! could not deliver; one to a number not on WhatsApp goes by SMS instead.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use turnout_delivery::whatsapp::{failed_statuses, signature_matches};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, Problem};

/// The largest status callback taken: Meta batches at most a few hundred
/// small statuses in one.
pub const MAX_CALLBACK_BODY: usize = 256 * 1024;

/// Meta's subscription check.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Subscription {
    /// `subscribe`.
    #[serde(rename = "hub.mode")]
    #[param(rename = "hub.mode")]
    pub mode: Option<String>,
    /// The `whatsapp.verify_token` configured here and in the Meta app.
    #[serde(rename = "hub.verify_token")]
    #[param(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    /// Answered back as the body.
    #[serde(rename = "hub.challenge")]
    #[param(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

/// Confirms the WhatsApp status callback to Meta: answers the challenge
/// when the verify token is the configured one.
#[utoipa::path(
    get,
    path = "/api/v1/hooks/whatsapp",
    tag = "hooks",
    params(Subscription),
    responses(
        (status = 200, description = "The challenge", body = String, content_type = "text/plain"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "WhatsApp is not configured", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn whatsapp_subscription(
    State(state): State<AppState>,
    Query(subscription): Query<Subscription>,
) -> Result<Response, ApiError> {
    let expected = state
        .settings
        .whatsapp
        .verify_token
        .as_ref()
        .ok_or(ApiError::NotFound("callback"))?;
    let presented = subscription.verify_token.unwrap_or_default();
    let matches = turnout_domain::token::TokenHash::of(&presented)
        == turnout_domain::token::TokenHash::of(expected.expose_secret());
    match (subscription.mode.as_deref(), matches, subscription.challenge) {
        (Some("subscribe"), true, Some(challenge)) => Ok(challenge.into_response()),
        _ => Err(ApiError::Forbidden),
    }
}

/// What was done with a status callback.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackTaken {
    /// Messages that go by SMS instead.
    pub handed_to_sms: usize,
}

/// WhatsApp message statuses, signed by the Meta app
/// (`X-Hub-Signature-256`). Failures to numbers not on WhatsApp go by SMS
/// instead; everything else in a callback is ignored.
#[utoipa::path(
    post,
    path = "/api/v1/hooks/whatsapp",
    tag = "hooks",
    request_body(content = Object, content_type = "application/json"),
    params(("X-Hub-Signature-256" = Option<String>, Header, description = "`sha256=` and the HMAC-SHA256 of the body under the app secret")),
    responses(
        (status = 200, body = CallbackTaken),
        (status = 401, description = "Not signed with the app secret", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "WhatsApp is not configured", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn whatsapp_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<CallbackTaken>, ApiError> {
    let whatsapp = &state.settings.whatsapp;
    let secret = whatsapp.app_secret.as_ref().ok_or(ApiError::NotFound("callback"))?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !signature_matches(secret.expose_secret(), &body, signature) {
        return Err(ApiError::Unauthorized);
    }
    let payload: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|error| ApiError::field("", format!("Not a JSON status callback: {error}")))?;
    let handed_to_sms = state
        .turnout
        .whatsapp_undelivered(&failed_statuses(&payload), whatsapp.sms)
        .await?;
    Ok(axum::Json(CallbackTaken { handed_to_sms }))
}
