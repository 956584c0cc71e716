//! The outbox for admins: the events the funnel produced, and the ledger of
//! deliveries made from them (emails, SMS, webhook calls) with where each
//! stands, and a way to send a failed or dead one again.

use axum::Json;
use axum::extract::{Path, Query, State};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_store::{Channel, DELIVERY_STATUSES, Delivery, DeliveryFilter, EventFilter, StoreError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::Admin;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// e.g. `registration.confirmed`.
    pub event_type: Option<String>,
    /// At most this many, oldest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub items: Vec<EventItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventItem {
    pub event_id: Uuid,
    pub event_type: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When a worker turned it into deliveries.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub routed_at: Option<Timestamp>,
}

fn limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        return Err(ApiError::field("limit", "Must be between 1 and 1000"));
    }
    Ok(limit)
}

fn payload(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

/// Outbox events, oldest first: every change of the funnel, written in the
/// transaction of the change.
#[utoipa::path(
    get,
    path = "/api/v1/admin/events",
    tag = "admin",
    params(EventQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = EventList),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_events(
    _: Admin,
    State(state): State<AppState>,
    Query(query): Query<EventQuery>,
) -> Result<Json<EventList>, ApiError> {
    let filter = EventFilter {
        event_type: query.event_type,
        limit: limit(query.limit)?,
    };
    let items = state
        .store
        .list_events(&filter)
        .await?
        .into_iter()
        .map(|event| EventItem {
            event_id: event.event_id,
            event_type: event.event_type,
            payload: payload(&event.payload),
            created_at: event.created_at,
            routed_at: event.routed_at,
        })
        .collect();
    Ok(Json(EventList { items }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// `pending`, `sending`, `sent`, `failed`, `dead` or `skipped`.
    #[param(value_type = Option<crate::openapi::params::DeliveryStatusName>)]
    pub status: Option<String>,
    /// `email`, `sms` or `webhook`.
    #[param(value_type = Option<crate::openapi::params::ChannelName>)]
    pub channel: Option<String>,
    /// The type of the event the delivery was made for.
    pub event_type: Option<String>,
    /// One webhook endpoint's deliveries.
    pub endpoint_id: Option<Uuid>,
    /// At most this many, oldest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ledger {
    pub items: Vec<DeliveryItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryItem {
    /// Stable across retries: the webhook-id, the email's Message-ID.
    pub message_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// `email`, `sms` or `webhook`.
    pub channel: String,
    /// Which message: `webhook`, `confirmation`, `reminder-24h`…
    pub kind: String,
    /// `visitor`, `advisor`, or the endpoint's id.
    pub recipient: String,
    pub endpoint_id: Option<Uuid>,
    pub status: String,
    pub attempts: i64,
    /// When it is due; while `sending`, when the worker's claim runs out.
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
}

impl From<Delivery> for DeliveryItem {
    fn from(delivery: Delivery) -> Self {
        Self {
            message_id: delivery.message_id,
            event_id: delivery.event_id,
            event_type: delivery.event_type,
            channel: delivery.channel.as_str().to_owned(),
            kind: delivery.kind,
            recipient: delivery.recipient,
            endpoint_id: delivery.endpoint_id,
            status: delivery.status,
            attempts: delivery.attempts,
            next_attempt_at: delivery.next_attempt_at,
            last_error: delivery.last_error,
            created_at: delivery.created_at,
            sent_at: delivery.sent_at,
        }
    }
}

/// The delivery ledger, oldest first: every email, SMS and webhook call,
/// until it is sent or declared dead.
#[utoipa::path(
    get,
    path = "/api/v1/admin/outbox",
    tag = "admin",
    params(LedgerQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = Ledger),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_outbox(
    _: Admin,
    State(state): State<AppState>,
    Query(query): Query<LedgerQuery>,
) -> Result<Json<Ledger>, ApiError> {
    if let Some(status) = query.status.as_deref()
        && !DELIVERY_STATUSES.contains(&status)
    {
        return Err(ApiError::field(
            "status",
            format!("Must be one of: {}", DELIVERY_STATUSES.join(", ")),
        ));
    }
    let channel = query
        .channel
        .as_deref()
        .map(Channel::parse)
        .transpose()
        .map_err(|_| ApiError::field("channel", "Must be one of: email, sms, webhook"))?;
    let filter = DeliveryFilter {
        status: query.status,
        channel,
        event_type: query.event_type,
        endpoint_id: query.endpoint_id,
        limit: limit(query.limit)?,
    };
    let items = state
        .store
        .list_deliveries(&filter)
        .await?
        .into_iter()
        .map(DeliveryItem::from)
        .collect();
    Ok(Json(Ledger { items }))
}

/// Sends a failed or dead delivery again, now, with a fresh count of
/// attempts and the same message id.
#[utoipa::path(
    post,
    path = "/api/v1/admin/outbox/{message_id}/retry",
    tag = "admin",
    params(("message_id" = Uuid, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = DeliveryItem),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only failed and dead deliveries are retried", body = Problem,
         content_type = "application/problem+json"),
    )
)]
pub async fn retry_delivery(
    _: Admin,
    State(state): State<AppState>,
    Path(message_id): Path<String>,
) -> Result<Json<DeliveryItem>, ApiError> {
    let message_id = Uuid::parse_str(&message_id).map_err(|_| ApiError::NotFound("delivery"))?;
    match state.turnout.retry_delivery(message_id).await {
        Ok(delivery) => Ok(Json(delivery.into())),
        Err(StoreError::NotFound) => Err(ApiError::NotFound("delivery")),
        Err(StoreError::Conflict {
            constraint: turnout_store::Constraint::DeliveryState(status),
        }) => Err(ApiError::Conflict {
            kind: crate::error::ProblemType::NotRetryable,
            detail: format!("Only failed and dead deliveries are retried; this delivery is {status}"),
        }),
        Err(error) => Err(error.into()),
    }
}
