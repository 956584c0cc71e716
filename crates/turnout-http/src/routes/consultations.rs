//! Step 3 of the funnel: the callback windows on offer in the visitor's
//! zone and asking for a callback; and the admin side: advisors and the
//! windows offered.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use turnout_app::{ResumeError, UploadedResume};
use turnout_domain::consultation::{WeeklyRange, WindowDefinition, parse_weekday, weekday_name};
use turnout_domain::labels::day_label;
use turnout_domain::resume::MAX_RESUME_BYTES;
use turnout_domain::{ConsultationStatus, Email, SecretToken, Slug, Text, TimeZone, ValidationErrors};
use turnout_store::assignment::{OfferedWindow, has_room};
use turnout_store::{
    Advisor, AdvisorError, Consultation, ConsultationError, ConsultationOutcome, LeadKey, NewAdvisor, WindowSettings,
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{now, path_id};
use crate::AppState;
use crate::client::ClientIp;
use crate::error::{ApiError, Problem};
use crate::extract::{Admin, ApiJson, bearer_token};

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
        (status = 429, description = "Over a rate limit; see Retry-After", body = Problem, content_type = "application/problem+json"),
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeRequest {
    /// e.g. `monday`
    pub weekday: String,
    /// `HH:MM` in the advisor's zone.
    pub starts: String,
    pub ends: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAdvisorRequest {
    pub name: String,
    pub email: String,
    /// The advisor's own IANA zone; availability is in it.
    pub time_zone: String,
    pub availability: Vec<RangeRequest>,
    /// The most calls the advisor takes in one window.
    pub max_calls_per_window: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RangeView {
    pub weekday: String,
    pub starts: String,
    pub ends: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorView {
    pub advisor_id: i64,
    pub name: String,
    pub email: String,
    pub time_zone: String,
    pub availability: Vec<RangeView>,
    pub max_calls_per_window: i64,
}

impl From<Advisor> for AdvisorView {
    fn from(advisor: Advisor) -> Self {
        Self {
            advisor_id: advisor.id,
            availability: advisor
                .availability
                .iter()
                .map(|range| RangeView {
                    weekday: weekday_name(range.weekday).to_owned(),
                    starts: range.starts.strftime("%H:%M").to_string(),
                    ends: range.ends.strftime("%H:%M").to_string(),
                })
                .collect(),
            name: advisor.name,
            email: advisor.email,
            time_zone: advisor.time_zone.to_string(),
            max_calls_per_window: advisor.max_calls_per_window,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorList {
    pub items: Vec<AdvisorView>,
}

fn local_time(field: &str, text: &str, errors: &mut ValidationErrors) -> Option<Time> {
    errors.field(field, text.parse::<Time>().map_err(|_| "Use HH:MM, 24-hour"))
}

impl CreateAdvisorRequest {
    fn validate(self) -> Result<NewAdvisor, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = errors.field("name", Text::required(&self.name, 100));
        let email = errors.field("email", Email::parse(&self.email));
        let time_zone = errors.field("time_zone", TimeZone::parse(&self.time_zone));
        if !(1..=1_000).contains(&self.max_calls_per_window) {
            errors.field("max_calls_per_window", Err::<(), _>("Must be between 1 and 1000"));
        }
        if self.availability.is_empty() || self.availability.len() > 50 {
            errors.field("availability", Err::<(), _>("Give between 1 and 50 weekly ranges"));
        }
        let mut availability = Vec::with_capacity(self.availability.len());
        for (i, range) in self.availability.iter().enumerate() {
            let weekday = errors.field(&format!("availability[{i}].weekday"), parse_weekday(&range.weekday));
            let starts = local_time(&format!("availability[{i}].starts"), &range.starts, &mut errors);
            let ends = local_time(&format!("availability[{i}].ends"), &range.ends, &mut errors);
            if let (Some(weekday), Some(starts), Some(ends)) = (weekday, starts, ends) {
                if starts < ends {
                    availability.push(WeeklyRange { weekday, starts, ends });
                } else {
                    errors.field(&format!("availability[{i}].ends"), Err::<(), _>("Must be after starts"));
                }
            }
        }
        match (name, email, time_zone) {
            (Some(name), Some(email), Some(time_zone)) if errors.is_empty() => Ok(NewAdvisor {
                name,
                email,
                time_zone,
                availability,
                max_calls_per_window: self.max_calls_per_window,
            }),
            _ => Err(errors),
        }
    }
}

/// Adds a program advisor with their weekly availability.
#[utoipa::path(
    post,
    path = "/api/v1/admin/advisors",
    tag = "admin",
    request_body = CreateAdvisorRequest,
    security(("admin_token" = [])),
    responses(
        (status = 201, body = AdvisorView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_advisor(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateAdvisorRequest>,
) -> Result<(StatusCode, Json<AdvisorView>), ApiError> {
    let advisor = request.validate()?;
    let created = state.turnout.create_advisor(&advisor).await.map_err(advisor_error)?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

fn advisor_error(error: AdvisorError) -> ApiError {
    match error {
        AdvisorError::NotFound => ApiError::NotFound("advisor"),
        AdvisorError::EmailTaken => ApiError::Conflict {
            kind: crate::error::ProblemType::EmailTaken,
            detail: "An advisor with this email exists".into(),
        },
        AdvisorError::Store(error) => error.into(),
    }
}

/// Every advisor with their availability.
#[utoipa::path(
    get,
    path = "/api/v1/admin/advisors",
    tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, body = AdvisorList),
    )
)]
pub async fn list_advisors(_: Admin, State(state): State<AppState>) -> Result<Json<AdvisorList>, ApiError> {
    let items = state.store.list_advisors().await?.into_iter().map(Into::into).collect();
    Ok(Json(AdvisorList { items }))
}

/// Issues an API token for an advisor (90 days); only its hash is kept.
/// The same as `POST /api/v1/admin/tokens` with `role: advisor`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/advisors/{advisor_id}/tokens",
    tag = "admin",
    params(("advisor_id" = i64, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 201, body = crate::routes::tokens::IssuedToken),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_advisor_token(
    _: Admin,
    State(state): State<AppState>,
    Path(advisor_id): Path<String>,
) -> Result<(StatusCode, Json<crate::routes::tokens::IssuedToken>), ApiError> {
    let advisor_id = path_id(&advisor_id, "advisor")?;
    crate::routes::tokens::issue(
        &state,
        turnout_store::ApiTokenRole::Advisor,
        Some(advisor_id),
        "advisor token",
        turnout_store::NewApiToken::DEFAULT_DAYS,
    )
    .await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowDefinitionBody {
    /// Stable key used in window ids, e.g. `mornings`.
    pub key: String,
    /// "Mornings"
    pub name: String,
    /// `HH:MM` in the visitor's zone.
    pub starts: String,
    pub ends: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowSettingsBody {
    /// How many days ahead windows are offered.
    pub days_ahead: i64,
    pub windows: Vec<WindowDefinitionBody>,
}

impl From<WindowSettings> for WindowSettingsBody {
    fn from(settings: WindowSettings) -> Self {
        Self {
            days_ahead: settings.days_ahead,
            windows: settings
                .windows
                .into_iter()
                .map(|window| WindowDefinitionBody {
                    starts: window.starts.strftime("%H:%M").to_string(),
                    ends: window.ends.strftime("%H:%M").to_string(),
                    key: window.key,
                    name: window.name,
                })
                .collect(),
        }
    }
}

impl WindowSettingsBody {
    fn validate(self) -> Result<WindowSettings, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if !(1..=60).contains(&self.days_ahead) {
            errors.field("days_ahead", Err::<(), _>("Must be between 1 and 60"));
        }
        if self.windows.is_empty() || self.windows.len() > 10 {
            errors.field("windows", Err::<(), _>("Give between 1 and 10 windows"));
        }
        let mut windows: Vec<WindowDefinition> = Vec::new();
        for (i, window) in self.windows.iter().enumerate() {
            let key = errors.field(&format!("windows[{i}].key"), Slug::parse(&window.key));
            if key
                .as_ref()
                .is_some_and(|key| windows.iter().any(|w| w.key == key.as_str()))
            {
                errors.field(&format!("windows[{i}].key"), Err::<(), _>("Keys must be unique"));
            }
            let name = errors.field(&format!("windows[{i}].name"), Text::required(&window.name, 60));
            let starts = local_time(&format!("windows[{i}].starts"), &window.starts, &mut errors);
            let ends = local_time(&format!("windows[{i}].ends"), &window.ends, &mut errors);
            if let (Some(key), Some(name), Some(starts), Some(ends)) = (key, name, starts, ends) {
                if starts >= ends {
                    errors.field(&format!("windows[{i}].ends"), Err::<(), _>("Must be after starts"));
                }
                windows.push(WindowDefinition {
                    key: key.as_str().to_owned(),
                    name: name.into_string(),
                    starts,
                    ends,
                });
            }
        }
        let days_ahead = self.days_ahead;
        errors.finish(|| WindowSettings { days_ahead, windows })
    }
}

/// The callback windows offered to visitors.
#[utoipa::path(
    get,
    path = "/api/v1/admin/consultation-windows",
    tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, body = WindowSettingsBody),
    )
)]
pub async fn get_window_settings(
    _: Admin,
    State(state): State<AppState>,
) -> Result<Json<WindowSettingsBody>, ApiError> {
    Ok(Json(state.store.window_settings().await?.into()))
}

/// Replaces the callback windows offered to visitors. Consultations already
/// requested keep their windows.
#[utoipa::path(
    put,
    path = "/api/v1/admin/consultation-windows",
    tag = "admin",
    request_body = WindowSettingsBody,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = WindowSettingsBody),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_window_settings(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<WindowSettingsBody>,
) -> Result<Json<WindowSettingsBody>, ApiError> {
    let settings = body.validate()?;
    state.turnout.set_window_settings(&settings).await?;
    Ok(Json(settings.into()))
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
        (status = 429, description = "Over a rate limit; see Retry-After", body = Problem, content_type = "application/problem+json"),
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
