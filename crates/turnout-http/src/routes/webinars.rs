//! The public catalogue: published webinars and their slots, labelled in
//! the visitor's time zone.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, State};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_domain::labels::{day_label, local_label};
use turnout_domain::schedule::group_by_local_day;
use turnout_domain::{Host, TimeZone, WebinarStatus};
use turnout_store::{Slot, Store, StoreError, Webinar};
use utoipa::{IntoParams, ToSchema};

use super::{now, path_slug};
use crate::AppState;
use crate::error::{ApiError, Problem};

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
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// The organiser's zone.
    pub time_zone: String,
    pub duration_minutes: i64,
    pub hosts: Vec<HostView>,
    pub highlights: Vec<String>,
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
        .map(|listing| {
            let detail = WebinarDetail::from(&listing.webinar);
            WebinarSummary {
                slug: detail.slug,
                title: detail.title,
                summary: detail.summary,
                time_zone: detail.time_zone,
                duration_minutes: detail.duration_minutes,
                hosts: detail.hosts,
                highlights: detail.highlights,
                registrations: listing.registrations,
                next_slot: listing.next_slot.map(|slot| NextSlot {
                    slot_id: slot.id,
                    starts_at: slot.starts_at,
                    seats_left: slot.seats_left(),
                }),
            }
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
    let webinar = published_webinar(state.store.as_ref(), &slug).await?;
    Ok(Json(WebinarDetail::from(&webinar)))
}

pub async fn published_webinar(store: &dyn Store, slug: &str) -> Result<Webinar, ApiError> {
    let slug = path_slug(slug)?;
    match store.find_webinar(&slug).await? {
        Some(webinar) if webinar.status == WebinarStatus::Published => Ok(webinar),
        _ => Err(ApiError::NotFound("webinar")),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// The visitor's IANA time zone, e.g. `Asia/Kolkata`; the organiser's
    /// when absent.
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
) -> Result<Json<SlotsByDay>, ApiError> {
    let zone = query
        .tz
        .as_deref()
        .map(TimeZone::parse)
        .transpose()
        .map_err(|message| ApiError::field("tz", message))?;
    let webinar = published_webinar(state.store.as_ref(), &slug).await?;
    let zone = zone.unwrap_or_else(|| webinar.time_zone.clone());
    let now = now();
    let slots = state.slots.upcoming(state.store.as_ref(), webinar.id, now).await?;
    let visible = slots
        .iter()
        .filter(|slot| slot.starts_at > now && slot.status == turnout_domain::SlotStatus::Open)
        .map(|slot| (slot.starts_at, slot));
    let days = group_by_local_day(visible, &zone)
        .into_iter()
        .map(|(date, slots)| SlotDay {
            date,
            label: day_label(date),
            slots: slots
                .into_iter()
                .map(|slot| {
                    let label = local_label(slot.starts_at, &zone);
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
    Ok(Json(SlotsByDay {
        time_zone: zone.to_string(),
        days,
    }))
}

/// Upcoming slots per webinar, kept in memory so that listing them costs
/// close to nothing. Every seat change made through this instance
/// invalidates its webinar at once; the TTL bounds how stale a listing can
/// be after a change made by another instance.
pub struct SlotCache {
    ttl: Duration,
    entries: RwLock<HashMap<i64, CacheEntry>>,
}

#[derive(Default)]
struct CacheEntry {
    /// Bumped by every invalidation, so that a load that raced with a write
    /// does not store what it read before the write.
    generation: u64,
    loaded: Option<(Instant, Arc<Vec<Slot>>)>,
}

impl SlotCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub async fn upcoming(
        &self,
        store: &dyn Store,
        webinar_id: i64,
        now: Timestamp,
    ) -> Result<Arc<Vec<Slot>>, StoreError> {
        let generation = {
            let entries = self.entries.read().expect("slot cache lock");
            let entry = entries.get(&webinar_id);
            if let Some((loaded, slots)) = entry.and_then(|e| e.loaded.as_ref())
                && loaded.elapsed() < self.ttl
            {
                return Ok(slots.clone());
            }
            entry.map_or(0, |e| e.generation)
        };
        let loaded = Instant::now();
        let slots = Arc::new(store.list_slots(webinar_id, now).await?);
        let mut entries = self.entries.write().expect("slot cache lock");
        let entry = entries.entry(webinar_id).or_default();
        if entry.generation == generation {
            entry.loaded = Some((loaded, slots.clone()));
        }
        Ok(slots)
    }

    /// Forgets a webinar's slots after a change to its seats or schedule.
    pub fn invalidate(&self, webinar_id: i64) {
        let mut entries = self.entries.write().expect("slot cache lock");
        let entry = entries.entry(webinar_id).or_default();
        entry.generation += 1;
        entry.loaded = None;
    }
}
