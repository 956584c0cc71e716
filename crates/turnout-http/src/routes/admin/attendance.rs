//! Who attended, for staff: marking a slot's attendance by hand or from the
//! meeting platform's participants report, and the rates per slot and
//! webinar.

use std::collections::HashSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_app::attendance::{MAX_ATTENDEES, report_attendees};
use turnout_domain::{Email, RegistrationStatus, Slug, ValidationErrors};
use turnout_store::{AttendanceError, AttendanceMarked, AttendanceMarking, AttendanceSource, Attendee, SlotAttendance};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, Problem, ProblemType};
use crate::extract::{Admin, parse_json};
use crate::routes::path_id;

/// The largest participants report or marking accepted.
pub const MAX_ATTENDANCE_BODY: usize = 2 * 1024 * 1024;

/// Attendance for one slot. Each entry is a registration id or the email
/// address a registration of the slot was made with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceRequest {
    #[serde(default)]
    #[schema(max_items = 10000)]
    pub attended: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 10000)]
    pub no_show: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceResult {
    /// Registrations whose attendance changed, with their new status.
    pub changed: Vec<AttendanceChange>,
    /// Matched, and already so.
    pub unchanged: Vec<Uuid>,
    /// Entries that match no registration of the slot (or only a cancelled
    /// one), as given.
    pub unmatched: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceChange {
    pub registration_id: Uuid,
    #[schema(value_type = crate::openapi::params::RegistrationStatusName)]
    pub status: RegistrationStatus,
}

impl From<AttendanceMarked> for AttendanceResult {
    fn from(marked: AttendanceMarked) -> Self {
        Self {
            changed: marked
                .changed
                .into_iter()
                .map(|(registration_id, status)| AttendanceChange {
                    registration_id,
                    status,
                })
                .collect(),
            unchanged: marked.unchanged,
            unmatched: marked
                .unmatched
                .into_iter()
                .map(|attendee| match attendee {
                    Attendee::Registration(id) => id.to_string(),
                    Attendee::Email(email) => email,
                })
                .collect(),
        }
    }
}

/// One list of a marking, each entry checked.
fn attendees(field: &str, entries: &[String], errors: &mut ValidationErrors) -> Vec<Attendee> {
    if entries.len() > MAX_ATTENDEES {
        errors.field::<(), _>(field, Err(format!("At most {MAX_ATTENDEES} entries")));
        return Vec::new();
    }
    entries
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| {
            let entry = entry.trim();
            let attendee = match Uuid::parse_str(entry) {
                Ok(id) => Ok(Attendee::Registration(id)),
                Err(_) => Email::parse(entry)
                    .map(|email| Attendee::Email(email.normalised()))
                    .map_err(|_| "Must be a registration id or an email address"),
            };
            errors.field(&format!("{field}[{i}]"), attendee)
        })
        .collect()
}

fn marking(slot_id: i64, request: &AttendanceRequest) -> Result<AttendanceMarking, ApiError> {
    let mut errors = ValidationErrors::new();
    let attended = attendees("attended", &request.attended, &mut errors);
    let no_show = attendees("no_show", &request.no_show, &mut errors);
    let present: HashSet<&Attendee> = attended.iter().collect();
    for (i, attendee) in no_show.iter().enumerate() {
        if present.contains(attendee) {
            errors.field::<(), _>(&format!("no_show[{i}]"), Err("Also listed in attended"));
        }
    }
    Ok(errors.finish(|| AttendanceMarking {
        slot_id,
        attended,
        no_show,
        source: AttendanceSource::Admin,
    })?)
}

fn attendance_error(error: AttendanceError) -> ApiError {
    match error {
        AttendanceError::SlotNotFound => ApiError::NotFound("slot"),
        AttendanceError::NotStarted => ApiError::Conflict {
            kind: ProblemType::SlotNotStarted,
            detail: "Attendance is marked from the slot's start".into(),
        },
        AttendanceError::Store(error) => error.into(),
    }
}

/// Marks who attended a slot, from its start on: a JSON body of
/// registration ids or addresses (`attended`, `no_show`), or the meeting
/// platform's participants report as `text/csv` (Zoom's "Participants"
/// export, GoTo's attendee report), whose people are marked attended.
/// Idempotent; answers what changed and what matched nothing. Marked
/// registrations are never judged again from their join links.
#[utoipa::path(
    post,
    path = "/api/v1/admin/slots/{slot_id}/attendance",
    tag = "admin",
    params(("slot_id" = i64, Path)),
    request_body(content(
        (AttendanceRequest = "application/json"),
        (String = "text/csv"),
    )),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = AttendanceResult),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn mark_attendance(
    _: Admin,
    State(state): State<AppState>,
    Path(slot_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AttendanceResult>, ApiError> {
    let slot_id = path_id(&slot_id, "slot")?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let marking = match media.as_str() {
        "text/csv" => AttendanceMarking {
            slot_id,
            attended: report_attendees(&body)
                .map_err(|error| ApiError::field("", format!("Not a participants report: {error}")))?
                .iter()
                .map(|email| Attendee::Email(email.normalised()))
                .collect(),
            no_show: Vec::new(),
            source: AttendanceSource::Report,
        },
        "application/json" => marking(slot_id, &parse_json::<AttendanceRequest>(&body)?)?,
        _ => return Err(ApiError::UnsupportedMediaType),
    };
    let marked = state
        .turnout
        .mark_attendance(&marking)
        .await
        .map_err(attendance_error)?;
    Ok(Json(marked.into()))
}

/// A slot's or a webinar's registrations by attendance.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceRates {
    /// Registrations not cancelled.
    pub registered: i64,
    pub attended: i64,
    pub no_show: i64,
    /// Not yet marked or settled.
    pub unsettled: i64,
    pub cancelled: i64,
    /// Attended over settled (attended + no-show); absent until one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attendance_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_show_rate: Option<f64>,
}

impl AttendanceRates {
    fn new(confirmed: i64, attended: i64, no_show: i64, cancelled: i64) -> Self {
        let settled = attended + no_show;
        let rate = |part: i64| (settled > 0).then(|| part as f64 / settled as f64);
        Self {
            registered: confirmed + settled,
            attended,
            no_show,
            unsettled: confirmed,
            cancelled,
            attendance_rate: rate(attended),
            no_show_rate: rate(no_show),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotAttendanceView {
    pub slot_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[serde(flatten)]
    pub rates: AttendanceRates,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebinarAttendance {
    pub webinar: String,
    /// Every slot together.
    pub totals: AttendanceRates,
    pub slots: Vec<SlotAttendanceView>,
}

/// Attendance and no-show rates of a webinar, per slot and in total.
#[utoipa::path(
    get,
    path = "/api/v1/admin/webinars/{slug}/attendance",
    tag = "admin",
    params(("slug" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = WebinarAttendance),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn webinar_attendance(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<WebinarAttendance>, ApiError> {
    let slug = Slug::parse(&slug).map_err(|_| ApiError::NotFound("webinar"))?;
    let webinar = state
        .store
        .find_webinar(&slug)
        .await?
        .ok_or(ApiError::NotFound("webinar"))?;
    let slots = state.store.attendance_counts(webinar.id).await?;
    let sum = |count: fn(&SlotAttendance) -> i64| slots.iter().map(count).sum::<i64>();
    let totals = AttendanceRates::new(
        sum(|s| s.confirmed),
        sum(|s| s.attended),
        sum(|s| s.no_show),
        sum(|s| s.cancelled),
    );
    let slots = slots
        .into_iter()
        .map(|s| SlotAttendanceView {
            slot_id: s.slot_id,
            starts_at: s.starts_at,
            rates: AttendanceRates::new(s.confirmed, s.attended, s.no_show, s.cancelled),
        })
        .collect();
    Ok(Json(WebinarAttendance {
        webinar: slug.as_str().to_owned(),
        totals,
        slots,
    }))
}
