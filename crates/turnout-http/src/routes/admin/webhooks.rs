//! Webhook endpoints of CRMs, for admins: create (the signing secret is
//! shown once), list, change, re-enable, delete, and replay deliveries. An
//! endpoint's failures are in the ledger: `GET /api/v1/admin/outbox?endpoint_id=…`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_app::NewWebhook;
use turnout_domain::{Text, ValidationErrors};
use turnout_store::events::EVENT_TYPES;
use turnout_store::{StoreError, WebhookChanges, WebhookEndpoint};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Admin, ApiJson};

pub(crate) const DESCRIPTION_CHARS: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where to POST; http(s), and not an internal address unless
    /// allowlisted.
    #[schema(schema_with = crate::openapi::params::webhook_url)]
    pub url: String,
    /// Event types to receive; empty or absent for all.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::subscribable_event_types)]
    pub event_types: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::webhook_description)]
    pub description: String,
}

/// A partial update: absent fields stay as they are. `enabled: true`
/// re-enables a disabled endpoint and clears its failures.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[schema(schema_with = crate::openapi::params::nullable_webhook_url, required = false)]
    pub url: Option<String>,
    #[schema(schema_with = crate::openapi::params::nullable_subscribable_event_types, required = false)]
    pub event_types: Option<Vec<String>>,
    #[schema(schema_with = crate::openapi::params::nullable_webhook_description, required = false)]
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Also send again every delivery created since then, sent ones
    /// included; without it, only failed and dead ones.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// Deliveries due again, with their original message ids.
    pub replayed: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub consecutive_failures: i64,
    pub disabled_reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// The signing secret (`whsec_…`): only in the answer to creating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<WebhookEndpoint> for WebhookView {
    fn from(endpoint: WebhookEndpoint) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            event_types: endpoint.event_types,
            enabled: endpoint.enabled,
            consecutive_failures: endpoint.consecutive_failures,
            disabled_reason: endpoint.disabled_reason,
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
            secret: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

fn check_event_types(types: &[String]) -> Result<Vec<String>, String> {
    match types.iter().find(|wanted| !EVENT_TYPES.contains(&wanted.as_str())) {
        Some(unknown) => Err(format!(
            "Unknown event type {unknown:?}; known: {}",
            EVENT_TYPES.join(", ")
        )),
        None => {
            let mut types = types.to_vec();
            types.sort();
            types.dedup();
            Ok(types)
        }
    }
}

fn check_description(text: &str) -> Result<String, String> {
    Text::optional(text, DESCRIPTION_CHARS).map(Text::into_string)
}

fn path_webhook(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound("webhook endpoint"))
}

fn not_found(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => ApiError::NotFound("webhook endpoint"),
        other => other.into(),
    }
}

/// Registers a CRM's endpoint. The answer carries the signing secret, which
/// is never shown again.
#[utoipa::path(
    post,
    path = "/api/v1/admin/webhooks",
    tag = "admin",
    request_body = CreateWebhookRequest,
    security(("admin_token" = [])),
    responses(
        (status = 201, body = WebhookView),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_webhook(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let mut errors = ValidationErrors::new();
    let url = errors.field("url", state.settings.webhook_policy.check_url(&request.url).await);
    let event_types = errors.field("event_types", check_event_types(&request.event_types));
    let description = errors.field("description", check_description(&request.description));
    let (Some(url), Some(event_types), Some(description)) = (url, event_types, description) else {
        return Err(errors.into());
    };
    let webhook = NewWebhook {
        url: url.to_string(),
        description,
        event_types,
    };
    let endpoint = state.turnout.create_webhook(webhook).await?;
    let secret = endpoint.secret.clone();
    let mut view = WebhookView::from(endpoint);
    view.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// Every endpoint, with whether it is enabled and its run of failures.
#[utoipa::path(
    get,
    path = "/api/v1/admin/webhooks",
    tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, body = WebhookList),
    )
)]
pub async fn list_webhooks(_: Admin, State(state): State<AppState>) -> Result<Json<WebhookList>, ApiError> {
    let items = state
        .store
        .list_webhooks()
        .await?
        .into_iter()
        .map(WebhookView::from)
        .collect();
    Ok(Json(WebhookList { items }))
}

/// One endpoint.
#[utoipa::path(
    get,
    path = "/api/v1/admin/webhooks/{id}",
    tag = "admin",
    params(("id" = Uuid, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = WebhookView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_webhook(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let id = path_webhook(&id)?;
    let endpoint = state
        .store
        .find_webhook(id)
        .await?
        .ok_or(ApiError::NotFound("webhook endpoint"))?;
    Ok(Json(endpoint.into()))
}

/// Changes an endpoint; `enabled: true` re-enables one that was disabled
/// and the deliveries it held back go out.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/webhooks/{id}",
    tag = "admin",
    params(("id" = Uuid, Path)),
    request_body = UpdateWebhookRequest,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = WebhookView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_webhook(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateWebhookRequest>,
) -> Result<Json<WebhookView>, ApiError> {
    let id = path_webhook(&id)?;
    let mut errors = ValidationErrors::new();
    let mut changes = WebhookChanges {
        enabled: request.enabled,
        ..WebhookChanges::default()
    };
    if let Some(url) = &request.url {
        changes.url = errors
            .field("url", state.settings.webhook_policy.check_url(url).await)
            .map(|url| url.to_string());
    }
    if let Some(types) = &request.event_types {
        changes.event_types = errors.field("event_types", check_event_types(types));
    }
    if let Some(description) = &request.description {
        changes.description = errors.field("description", check_description(description));
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let updated = state.turnout.update_webhook(id, &changes).await.map_err(not_found)?;
    Ok(Json(updated.into()))
}

/// Deletes an endpoint; what it has not received yet is skipped.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/webhooks/{id}",
    tag = "admin",
    params(("id" = Uuid, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_webhook(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_webhook(&id)?;
    state.turnout.delete_webhook(id).await.map_err(not_found)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the endpoint's failed and dead deliveries again (and with `since`,
/// every one created since then), with their original `webhook-id`s.
#[utoipa::path(
    post,
    path = "/api/v1/admin/webhooks/{id}/replay",
    tag = "admin",
    params(("id" = Uuid, Path)),
    request_body = ReplayRequest,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = Replayed),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replay_webhook(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReplayRequest>,
) -> Result<Json<Replayed>, ApiError> {
    let id = path_webhook(&id)?;
    let replayed = state
        .turnout
        .replay_webhook(id, request.since)
        .await
        .map_err(not_found)?;
    Ok(Json(Replayed { replayed }))
}
