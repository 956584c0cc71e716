//! Who registered, for staff: the registrations a filter selects, a page
//! at a time as JSON, or all of them as CSV streamed a page at a time, so
//! an export of any size keeps the server's memory flat.

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_app::exports::{RegistrantCriteria, csv_header, csv_rows};
use turnout_domain::RegistrationStatus;
use turnout_store::{Registrant, RegistrantFilter};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::Admin;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistrantQuery {
    /// One webinar's registrations, by slug.
    #[param(schema_with = crate::openapi::params::slug)]
    pub webinar: Option<String>,
    /// One slot's registrations.
    #[param(minimum = 1)]
    pub slot_id: Option<i64>,
    /// `confirmed`, `cancelled`, `attended` or `no_show`.
    #[param(value_type = Option<crate::openapi::params::RegistrationStatusName>)]
    pub status: Option<String>,
    /// `joined`: opened their join link inside the window; `not_joined`:
    /// did not (yet).
    #[param(value_type = Option<crate::openapi::params::AttendanceName>)]
    pub attendance: Option<String>,
    /// Registered at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_from: Option<String>,
    /// Registered before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_before: Option<String>,
    /// The `utm_source` the registrant arrived with.
    pub utm_source: Option<String>,
    /// From a previous page's `next_cursor`.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<String>,
    /// Registrations per page (default 100, at most 500; a CSV export has
    /// no pages).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

impl RegistrantQuery {
    fn filter(self) -> Result<RegistrantFilter, ApiError> {
        let criteria = RegistrantCriteria {
            webinar: self.webinar,
            slot_id: self.slot_id,
            status: self.status,
            attendance: self.attendance,
            created_from: self.created_from,
            created_before: self.created_before,
            utm_source: self.utm_source,
            cursor: self.cursor,
            limit: self.limit,
        };
        Ok(criteria.filter()?)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrantList {
    pub items: Vec<RegistrantItem>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One registration, with its person, where they came from, and whether
/// they opened their join link; the columns of the CSV export.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrantItem {
    pub registration_id: Uuid,
    #[schema(value_type = crate::openapi::params::RegistrationStatusName)]
    pub status: RegistrationStatus,
    /// The webinar's slug.
    pub webinar: String,
    pub webinar_title: String,
    pub slot_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    pub name: String,
    pub email: String,
    /// E.164.
    pub phone: String,
    pub country: Option<String>,
    /// The zone the registrant chose.
    pub time_zone: String,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub registered_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<Timestamp>,
    /// Openings of the join link inside the join window.
    pub joins: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_joined_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_joined_at: Option<Timestamp>,
}

impl From<Registrant> for RegistrantItem {
    fn from(r: Registrant) -> Self {
        Self {
            registration_id: r.registration_id,
            status: r.status,
            webinar: r.webinar_slug.as_str().to_owned(),
            webinar_title: r.webinar_title,
            slot_id: r.slot_id,
            starts_at: r.starts_at,
            name: r.name,
            email: r.email,
            phone: r.phone,
            country: r.country,
            time_zone: r.time_zone,
            utm_source: r.utm_source,
            utm_medium: r.utm_medium,
            utm_campaign: r.utm_campaign,
            registered_at: r.created_at,
            cancelled_at: r.cancelled_at,
            joins: r.joins,
            first_joined_at: r.first_joined_at,
            last_joined_at: r.last_joined_at,
        }
    }
}

/// Whether the caller asked for CSV rather than JSON.
fn wants_csv(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|media| media.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .collect::<Vec<_>>();
    accept.iter().any(|media| media == "text/csv") && !accept.iter().any(|media| media == "application/json")
}

/// Registrations, oldest first, filtered; as JSON pages or, with
/// `Accept: text/csv`, every matching row as CSV.
#[utoipa::path(
    get,
    path = "/api/v1/admin/registrations",
    tag = "admin",
    params(RegistrantQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of registrations, or with `Accept: text/csv` all of them", content(
            (RegistrantList = "application/json"),
            (String = "text/csv"),
        )),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_registrants(
    _: Admin,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<RegistrantQuery>,
) -> Result<Response, ApiError> {
    let filter = query.filter()?;
    if wants_csv(&headers) {
        return Ok(csv_export(&state, filter));
    }
    let limit = filter.limit;
    let mut page = state
        .store
        .list_registrants(&RegistrantFilter {
            limit: limit + 1,
            ..filter
        })
        .await?;
    let more = page.len() as i64 > limit;
    page.truncate(limit as usize);
    let next_cursor = more
        .then(|| page.last().map(|last| last.registration_id.to_string()))
        .flatten();
    let items = page.into_iter().map(RegistrantItem::from).collect();
    Ok(Json(RegistrantList { items, next_cursor }).into_response())
}

/// Every registration the filter selects, as CSV, streamed.
#[utoipa::path(
    get,
    path = "/api/v1/admin/registrations.csv",
    tag = "admin",
    params(RegistrantQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Every matching registration, one CSV row each", body = String, content_type = "text/csv"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn export_registrants(
    _: Admin,
    State(state): State<AppState>,
    Query(query): Query<RegistrantQuery>,
) -> Result<Response, ApiError> {
    Ok(csv_export(&state, query.filter()?))
}

fn csv_export(state: &AppState, filter: RegistrantFilter) -> Response {
    let header = futures::stream::once(async { Ok(csv_header()) });
    let rows = state.turnout.registrant_pages(filter).map(|page| {
        page.map(|page| csv_rows(&page)).map_err(|error| {
            // The status line has gone out: all that is left is to cut the
            // body short, which the client sees as an incomplete download.
            tracing::error!(%error, "the registrant export stopped");
            std::io::Error::other(error.to_string())
        })
    });
    let mut response = Body::from_stream(header.chain(rows)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"registrations.csv\""),
    );
    response
}
