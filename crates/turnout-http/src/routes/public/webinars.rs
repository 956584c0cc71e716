//! The public catalogue: published webinars and their slots, labelled in
//! the visitor's time zone.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_domain::labels::{day_label, local_label};
use turnout_domain::schedule::group_by_local_day;
use turnout_domain::{Host, TimeZone, WebinarStatus};
use turnout_store::{Slot, Webinar};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::routes::{now, path_slug};

#[derive(Debug, Serialize, ToSchema)]
pub struct HostView {
    pub name: String,
    pub title: String,
}

impl From<&Host> for HostView {
    fn from(host: &Host) -> Self {
        Self {
            name: host.name.clone(),
            title: host.title.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NextSlot {
    pub slot_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    pub seats_left: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebinarSummary {
    #[serde(flatten)]
    pub webinar: WebinarDetail,
    /// Confirmed registrations, shown as social proof.
    pub registrations: i64,
    /// The next slot with a seat left, if any.
    pub next_slot: Option<NextSlot>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebinarList {
    pub items: Vec<WebinarSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebinarDetail {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// The organiser's zone.
    pub time_zone: String,
    pub duration_minutes: i64,
    pub hosts: Vec<HostView>,
    pub highlights: Vec<String>,
}

impl From<&Webinar> for WebinarDetail {
    fn from(webinar: &Webinar) -> Self {
        Self {
            slug: webinar.slug.to_string(),
            title: webinar.title.clone(),
            summary: webinar.summary.clone(),
            time_zone: webinar.time_zone.to_string(),
            duration_minutes: webinar.duration_minutes,
            hosts: webinar.hosts.iter().map(HostView::from).collect(),
            highlights: webinar.highlights.clone(),
        }
    }
}

/// Published webinars, each with its next slot and registration count.
#[utoipa::path(
    get,
    path = "/api/v1/webinars",
    tag = "webinars",
    responses((status = 200, body = WebinarList))
)]
pub async fn list_webinars(State(state): State<AppState>) -> Result<Json<WebinarList>, ApiError> {
    let listings = state.store.list_published_webinars(now()).await?;
    let items = listings
        .into_iter()
        .map(|listing| WebinarSummary {
            webinar: WebinarDetail::from(&listing.webinar),
            registrations: listing.registrations,
            next_slot: listing.next_slot.map(|slot| NextSlot {
                slot_id: slot.id,
                starts_at: slot.starts_at,
                seats_left: slot.seats_left(),
            }),
        })
        .collect();
    Ok(Json(WebinarList { items }))
}

/// One published webinar with its hosts and highlights.
#[utoipa::path(
    get,
    path = "/api/v1/webinars/{slug}",
    tag = "webinars",
    params(("slug" = String, Path, description = "The webinar's slug")),
    responses(
        (status = 200, body = WebinarDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_webinar(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<WebinarDetail>, ApiError> {
    let webinar = published_webinar(&state, &slug).await?;
    Ok(Json(WebinarDetail::from(webinar.as_ref())))
}

/// A published webinar by slug, from the catalogue cache.
pub async fn published_webinar(state: &AppState, slug: &str) -> Result<Arc<Webinar>, ApiError> {
    let slug = path_slug(slug)?;
    match state.catalog.webinar(state.store.as_ref(), &slug).await? {
        Some(webinar) if webinar.status == WebinarStatus::Published => Ok(webinar),
        _ => Err(ApiError::NotFound("webinar")),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// The visitor's IANA time zone, e.g. `Asia/Kolkata`; the organiser's
    /// when absent.
    #[param(value_type = Option<crate::openapi::params::TimeZoneName>)]
    pub tz: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotsByDay {
    pub time_zone: String,
    pub days: Vec<SlotDay>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotDay {
    /// The local date, `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub date: jiff::civil::Date,
    /// "Friday, 18th April"
    pub label: String,
    pub slots: Vec<SlotView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    pub slot_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// "Friday, 18th April, 6 PM"
    pub label: String,
    /// "6 PM"
    pub time_label: String,
    pub seats_left: i64,
    pub status: SlotAvailability,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlotAvailability {
    Open,
    Full,
}

/// Upcoming slots grouped by the visitor's local day.
#[utoipa::path(
    get,
    path = "/api/v1/webinars/{slug}/slots",
    tag = "webinars",
    params(("slug" = String, Path, description = "The webinar's slug"), SlotsQuery),
    responses(
        (status = 200, body = SlotsByDay),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_slots(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<SlotsQuery>,
) -> Result<Response, ApiError> {
    let zone = crate::extract::zone_param(query.tz.as_deref())?;
    let webinar = published_webinar(&state, &slug).await?;
    let zone = zone.unwrap_or_else(|| webinar.time_zone.clone());
    let body = state
        .catalog
        .slots_body(state.store.as_ref(), webinar.id, &zone, now(), render_slots)
        .await?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response())
}

/// The slots listing as JSON bytes, and the instant until which it stays
/// true (when its first slot starts and drops off the list).
fn render_slots(slots: &[Slot], zone: &TimeZone, now: Timestamp) -> (Bytes, Option<Timestamp>) {
    let visible: Vec<&Slot> = slots
        .iter()
        .filter(|slot| slot.starts_at > now && slot.status == turnout_domain::SlotStatus::Open)
        .collect();
    let valid_until = visible.first().map(|slot| slot.starts_at);
    let days = group_by_local_day(visible.into_iter().map(|slot| (slot.starts_at, slot)), zone)
        .into_iter()
        .map(|(date, slots)| SlotDay {
            date,
            label: day_label(date),
            slots: slots
                .into_iter()
                .map(|slot| {
                    let label = local_label(slot.starts_at, zone);
                    SlotView {
                        slot_id: slot.id,
                        starts_at: slot.starts_at,
                        label: label.full,
                        time_label: label.time,
                        seats_left: slot.seats_left(),
                        status: if slot.seats_left() > 0 {
                            SlotAvailability::Open
                        } else {
                            SlotAvailability::Full
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let listing = SlotsByDay {
        time_zone: zone.to_string(),
        days,
    };
    let body = serde_json::to_vec(&listing).expect("a slot listing always serialises");
    (Bytes::from(body), valid_until)
}
