//! Operations endpoints: liveness, readiness and metrics.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Alive: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready: the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, body = Health),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    Ok(Json(Health { status: "ready" }))
}

/// Prometheus metrics in the text exposition format. The delivery backlog
/// is read from the database at each scrape, so every instance reports it
/// wherever the workers run; delivery outcomes are counted by the process
/// whose worker made them.
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Result<impl IntoResponse, ApiError> {
    if let Some(expected) = &state.settings.metrics_token {
        let presented = crate::extract::bearer_token(&headers).map(|token| token.hash());
        if presented.as_ref() != Some(expected) {
            return Err(ApiError::Unauthorized);
        }
    }
    let now = crate::routes::now();
    // Gauges of this database, written into this answer rather than into
    // the process-wide recorder, which every app in a process shares.
    let mut backlog_lines = String::new();
    if let Ok(backlog) = state.store.delivery_backlog(now).await {
        let waited = |since: Option<Timestamp>| since.map_or(0.0, |at| now.duration_since(at).as_secs_f64().max(0.0));
        for (name, help, value) in [
            (
                "turnout_deliveries_due",
                "Deliveries whose time has come and that are not sent yet",
                backlog.due as f64,
            ),
            (
                "turnout_deliveries_oldest_due_seconds",
                "How long the longest-waiting due delivery has been due",
                waited(backlog.oldest_due_at),
            ),
            (
                "turnout_outbox_unrouted_events",
                "Events no worker has routed yet",
                backlog.unrouted as f64,
            ),
            (
                "turnout_outbox_oldest_unrouted_seconds",
                "Age of the oldest event no worker has routed",
                waited(backlog.oldest_unrouted_at),
            ),
        ] {
            backlog_lines.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"));
        }
    }
    Ok(crate::telemetry::render_with(backlog_lines))
}

/// `/metrics` stays out of the OpenAPI document: it is for Prometheus.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}
