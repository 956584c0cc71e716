//! Step 3 of the funnel: the callback windows on offer in the visitor's
//! zone, asking for a callback, and the résumé that goes with it.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use turnout_app::{ResumeError, UploadedResume};
use turnout_domain::labels::day_label;
use turnout_domain::resume::MAX_RESUME_BYTES;
use turnout_domain::{ConsultationStatus, SecretToken, Slug, TimeZone};
use turnout_store::assignment::{OfferedWindow, has_room};
use turnout_store::{Consultation, ConsultationError, ConsultationOutcome, LeadKey};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::client::ClientIp;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, bearer_token};
use crate::routes::now;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowsQuery {
    /// The visitor's IANA time zone, e.g. `Asia/Kolkata`.
    #[param(value_type = crate::openapi::params::TimeZoneName)]
    pub tz: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowsByDay {
    pub time_zone: String,
    pub days: Vec<WindowDay>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowDay {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// "Monday, 30th November"
    pub label: String,
    pub windows: Vec<WindowView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowView {
    /// What to send back in `POST /api/v1/consultations`: `date/key`.
    pub window_id: String,
    pub key: String,
    /// "Mornings, 8–10 AM"
    pub label: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    /// Whether an advisor covering the whole window still has room in it.
    pub available: bool,
}

/// The callback windows of the coming days in the visitor's zone, with
/// whether an advisor can still take the call.
#[utoipa::path(
    get,
    path = "/api/v1/consultation-windows",
    tag = "funnel",
    params(WindowsQuery),
    responses(
        (status = 200, body = WindowsByDay),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_windows(
    State(state): State<AppState>,
    Query(query): Query<WindowsQuery>,
) -> Result<Json<WindowsByDay>, ApiError> {
    let zone = TimeZone::parse(&query.tz).map_err(|message| ApiError::field("tz", message))?;
    let now = now();
    let settings = state.store.window_settings().await?;
    let advisors = state.store.list_advisors().await?;
    let horizon = now + SignedDuration::from_hours(24 * (settings.days_ahead + 2));
    let loads = state.store.window_loads(now, horizon).await?;
    let today = now.to_zoned(zone.zone().clone()).date();
    let mut days = Vec::new();
    for offset in 0..=settings.days_ahead {
        let Ok(date) = today.checked_add(jiff::Span::new().days(offset)) else {
            break;
        };
        let windows: Vec<WindowView> = settings
            .windows
            .iter()
            .filter_map(|definition| {
                let window =
                    turnout_store::assignment::offered_window(&settings, &definition.key, date, &zone, now).ok()?;
                Some(window_view(date, &window, has_room(&advisors, &loads, &window)))
            })
            .collect();
        if !windows.is_empty() {
            days.push(WindowDay {
                date,
                label: day_label(date),
                windows,
            });
        }
    }
    Ok(Json(WindowsByDay {
        time_zone: zone.to_string(),
        days,
    }))
}

fn window_view(date: Date, window: &OfferedWindow, available: bool) -> WindowView {
    WindowView {
        window_id: format!("{date}/{}", window.definition.key),
        key: window.definition.key.clone(),
        label: window.definition.label(),
        starts_at: window.starts_at,
        ends_at: window.ends_at,
        available,
    }
}

/// Step 3: a callback in one of the windows listed for the visitor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationRequest {
    pub lead_id: Uuid,
    pub lead_token: String,
    /// A `window_id` from `GET /api/v1/consultation-windows`, e.g.
    /// `2026-12-01/mornings`.
    pub window_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsultationView {
    pub consultation_id: Uuid,
    #[schema(value_type = String, example = "assigned")]
    pub status: ConsultationStatus,
    pub window: ChosenWindow,
    /// The program advisor who will call.
    pub advisor: AdvisorName,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChosenWindow {
    pub window_id: String,
    /// "Mornings, 8–10 AM"
    pub label: String,
    /// "Monday, 30th November", in the visitor's zone.
    pub day_label: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    pub time_zone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorName {
    pub name: String,
}

impl From<&Consultation> for ConsultationView {
    fn from(consultation: &Consultation) -> Self {
        Self {
            consultation_id: consultation.id,
            status: consultation.status,
            window: ChosenWindow {
                window_id: format!("{}/{}", consultation.window_date, consultation.window_key),
                label: consultation.window_label.clone(),
                day_label: day_label(consultation.window_date),
                starts_at: consultation.starts_at,
                ends_at: consultation.ends_at,
                time_zone: consultation.time_zone.to_string(),
            },
            advisor: AdvisorName {
                name: consultation.advisor_name.clone(),
            },
        }
    }
}

/// A window id: the visitor's local date and the window's key.
fn parse_window_id(id: &str) -> Result<(Date, String), String> {
    let invalid = || "Use a window_id from GET /api/v1/consultation-windows, e.g. 2026-12-01/mornings".to_owned();
    let (date, key) = id.split_once('/').ok_or_else(invalid)?;
    let date: Date = date.parse().map_err(|_| invalid())?;
    let key = Slug::parse(key).map_err(|_| invalid())?;
    Ok((date, key.as_str().to_owned()))
}

/// Asks for a callback and assigns a program advisor at once. The same lead
/// asking again gets its consultation back with 200.
#[utoipa::path(
    post,
    path = "/api/v1/consultations",
    tag = "funnel",
    request_body = ConsultationRequest,
    responses(
        (status = 201, body = ConsultationView),
        (status = 200, description = "The lead's existing consultation", body = ConsultationView),
        (status = 409, description = "Every advisor covering the window is busy", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_consultation(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ConsultationRequest>,
) -> Result<Response, ApiError> {
    let (date, window_key) = parse_window_id(&request.window_id).map_err(|m| ApiError::field("window_id", m))?;
    let lead = LeadKey {
        id: request.lead_id,
        token: SecretToken::from_presented(request.lead_token).hash(),
    };
    let outcome = state
        .turnout
        .request_callback(lead, date, window_key)
        .await
        .map_err(|error| match error {
            ConsultationError::LeadNotFound => {
                ApiError::field("lead_token", "No lead matches this lead_id and lead_token")
            }
            ConsultationError::UnknownWindow => ApiError::field("window_id", "No callback window has this key"),
            ConsultationError::WindowNotOffered => {
                ApiError::field("window_id", "This window has started or is not offered yet")
            }
            ConsultationError::WindowFull => ApiError::Conflict {
                kind: crate::error::ProblemType::WindowFull,
                detail: "Every advisor is busy in this window; choose another".into(),
            },
            ConsultationError::Store(error) => error.into(),
        })?;
    let (status, consultation) = match outcome {
        ConsultationOutcome::Created(consultation) => (StatusCode::CREATED, consultation),
        ConsultationOutcome::Existing(consultation) => (StatusCode::OK, consultation),
    };
    Ok((status, Json(ConsultationView::from(&consultation))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name on the visitor's machine; kept only as a label.
    pub filename: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResumeView {
    pub consultation_id: Uuid,
    /// A safe label derived from the name the file was sent with.
    pub file_name: String,
    /// What the bytes are, whatever the file was called.
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// `pending` until an advisor reviews it.
    pub review_status: String,
}

/// The file name from `?filename=` or a `Content-Disposition` header.
fn client_file_name(query: UploadQuery, headers: &HeaderMap) -> Option<String> {
    query.filename.or_else(|| {
        let disposition = headers.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
        let (_, name) = disposition.split_once("filename=")?;
        Some(name.split(';').next()?.trim().trim_matches('"').to_owned())
    })
}

/// Step 3's optional résumé: a PDF or DOCX of at most 4 MiB, sent as the
/// request body with the lead's token. The body is read as it streams and
/// refused at the first byte over the limit; the type is decided from the
/// bytes. A new upload replaces the previous one and deletes its file.
#[utoipa::path(
    put,
    path = "/api/v1/consultations/{id}/resume",
    tag = "funnel",
    params(("id" = Uuid, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The PDF or DOCX, at most 4 MiB"),
    security(("lead_token" = [])),
    responses(
        (status = 201, body = ResumeView),
        (status = 200, description = "Replaced the previous résumé", body = ResumeView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many uploads at once; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload_resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    client: Option<axum::Extension<ClientIp>>,
    body: Body,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("consultation");
    let consultation_id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let token = bearer_token(&headers).ok_or_else(not_found)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_RESUME_BYTES) {
        return Err(ApiError::PayloadTooLarge);
    }
    state
        .store
        .consultation_for_lead(consultation_id, &token.hash())
        .await?
        .ok_or_else(not_found)?;
    state.limits.upload(client.map(|axum::Extension(client)| client))?;
    // Each upload holds up to 4 MiB in memory: only so many at once.
    let _slot = state
        .uploads_in_flight
        .try_acquire()
        .map_err(|_| ApiError::Overloaded)?;
    let bytes = axum::body::to_bytes(body, MAX_RESUME_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let upload = UploadedResume {
        consultation_id,
        bytes,
        client_name: client_file_name(query, &headers),
    };
    let stored = state.turnout.store_resume(upload).await.map_err(|error| match error {
        ResumeError::UnsupportedType => ApiError::UnsupportedFileType,
        ResumeError::Files(error) => ApiError::Internal(error),
        ResumeError::Store(error) => error.into(),
    })?;
    let status = if stored.replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let resume = stored.resume;
    let view = ResumeView {
        consultation_id,
        file_name: resume.display_name,
        content_type: resume.content_type,
        size_bytes: resume.size_bytes,
        sha256: resume.sha256,
        review_status: "pending".into(),
    };
    Ok((status, Json(view)).into_response())
}
