//! The outbox ledger for admins: every event the funnel produced, with
//! where its delivery stands.

use axum::Json;
use axum::extract::{Query, State};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_store::OutboxFilter;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::Admin;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `pending`, `sending`, `sent`, `failed` or `dead`.
    pub status: Option<String>,
    /// e.g. `registration.confirmed`.
    pub event_type: Option<String>,
    /// At most this many, oldest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxList {
    pub items: Vec<OutboxItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxItem {
    /// Stable across retries: the webhook-id and the email's Message-ID.
    pub message_id: Uuid,
    pub event_type: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub status: String,
    pub attempts: i64,
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
}

const STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "dead"];

/// The outbox ledger, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/outbox",
    tag = "admin",
    params(OutboxQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = OutboxList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_outbox(
    _: Admin,
    State(state): State<AppState>,
    Query(query): Query<OutboxQuery>,
) -> Result<Json<OutboxList>, ApiError> {
    if let Some(status) = query.status.as_deref()
        && !STATUSES.contains(&status)
    {
        return Err(ApiError::field(
            "status",
            format!("Must be one of: {}", STATUSES.join(", ")),
        ));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        return Err(ApiError::field("limit", "Must be between 1 and 1000"));
    }
    let filter = OutboxFilter {
        status: query.status,
        event_type: query.event_type,
        limit,
    };
    let items = state
        .store
        .list_outbox(&filter)
        .await?
        .into_iter()
        .map(|message| OutboxItem {
            message_id: message.message_id,
            event_type: message.event_type,
            payload: serde_json::from_str(&message.payload).unwrap_or(serde_json::Value::Null),
            status: message.status,
            attempts: message.attempts,
            next_attempt_at: message.next_attempt_at,
            last_error: message.last_error,
            created_at: message.created_at,
            sent_at: message.sent_at,
        })
        .collect();
    Ok(Json(OutboxList { items }))
}
