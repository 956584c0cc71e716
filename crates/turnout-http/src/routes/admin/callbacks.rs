//! The callback team, for admins: advisors and their hours, the windows
//! offered to visitors, every consultation, and handing one to another advisor.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::civil::Time;
use serde::{Deserialize, Serialize};
use turnout_domain::consultation::{WeeklyRange, WindowDefinition, limits, parse_weekday, weekday_name};
use turnout_domain::{Email, Slug, Text, TimeZone, ValidationErrors};
use turnout_store::{Advisor, AdvisorError, NewAdvisor, QueueFilter, ReassignError, Reassignment, WindowSettings};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Admin, ApiJson};
use crate::routes::advisor::{QueueQuery, QueueView};
use crate::routes::public::callbacks::ConsultationView;
use crate::routes::{now, path_id};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeRequest {
    /// e.g. `monday`
    #[schema(schema_with = crate::openapi::params::weekday)]
    pub weekday: String,
    /// `HH:MM` in the advisor's zone; `ends` after `starts`.
    #[schema(schema_with = crate::openapi::params::clock)]
    pub starts: String,
    #[schema(schema_with = crate::openapi::params::clock)]
    pub ends: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAdvisorRequest {
    #[schema(schema_with = crate::openapi::params::callbacks::advisor_name)]
    pub name: String,
    #[schema(schema_with = crate::openapi::params::email)]
    pub email: String,
    /// The advisor's own IANA zone; availability is in it.
    #[schema(schema_with = crate::openapi::params::time_zone)]
    pub time_zone: String,
    #[schema(schema_with = crate::openapi::params::callbacks::availability)]
    pub availability: Vec<RangeRequest>,
    /// The most calls the advisor takes in one window.
    #[schema(schema_with = crate::openapi::params::callbacks::max_calls_per_window)]
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
    errors.field(field, turnout_domain::civil::parse_clock(text))
}

impl CreateAdvisorRequest {
    fn validate(self) -> Result<NewAdvisor, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = errors.field("name", Text::required(&self.name, limits::ADVISOR_NAME_CHARS));
        let email = errors.field("email", Email::parse(&self.email));
        let time_zone = errors.field("time_zone", TimeZone::parse(&self.time_zone));
        if !limits::CALLS_PER_WINDOW.contains(&self.max_calls_per_window) {
            errors.field("max_calls_per_window", Err::<(), _>("Must be between 1 and 1000"));
        }
        if !limits::RANGES.contains(&self.availability.len()) {
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
        (status = 201, body = crate::routes::admin::tokens::IssuedToken),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_advisor_token(
    _: Admin,
    State(state): State<AppState>,
    Path(advisor_id): Path<String>,
) -> Result<(StatusCode, Json<crate::routes::admin::tokens::IssuedToken>), ApiError> {
    let advisor_id = path_id(&advisor_id, "advisor")?;
    crate::routes::admin::tokens::issue(
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
    #[schema(schema_with = crate::openapi::params::callbacks::window_key)]
    pub key: String,
    /// "Mornings"
    #[schema(schema_with = crate::openapi::params::callbacks::window_name)]
    pub name: String,
    /// `HH:MM` in the visitor's zone; `ends` after `starts`.
    #[schema(schema_with = crate::openapi::params::clock)]
    pub starts: String,
    #[schema(schema_with = crate::openapi::params::clock)]
    pub ends: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowSettingsBody {
    /// How many days ahead windows are offered.
    #[schema(schema_with = crate::openapi::params::callbacks::days_ahead)]
    pub days_ahead: i64,
    /// Keys unique.
    #[schema(schema_with = crate::openapi::params::callbacks::windows)]
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
        if !limits::DAYS_AHEAD.contains(&self.days_ahead) {
            errors.field("days_ahead", Err::<(), _>("Must be between 1 and 60"));
        }
        if !limits::WINDOWS.contains(&self.windows.len()) {
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
            let name = errors.field(
                &format!("windows[{i}].name"),
                Text::required(&window.name, limits::WINDOW_NAME_CHARS),
            );
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
pub struct AdminQueueQuery {
    /// Only this advisor's consultations.
    pub advisor_id: Option<i64>,
    /// Only consultations with this status.
    #[param(value_type = Option<crate::openapi::params::ConsultationStatusName>)]
    pub status: Option<String>,
    /// Only windows starting on this day (`YYYY-MM-DD`) in `tz`.
    #[param(format = Date)]
    pub date: Option<String>,
    /// The zone `date` is read in; UTC when absent.
    #[param(value_type = Option<crate::openapi::params::TimeZoneName>)]
    pub tz: Option<String>,
}

/// Every consultation, filtered by advisor, status and day, by window start.
#[utoipa::path(
    get,
    path = "/api/v1/admin/consultations",
    tag = "admin",
    params(AdminQueueQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = QueueView),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn all_consultations(
    _: Admin,
    State(state): State<AppState>,
    Query(query): Query<AdminQueueQuery>,
) -> Result<Json<QueueView>, ApiError> {
    let queue = QueueQuery {
        status: query.status,
        date: query.date,
        tz: query.tz,
    };
    let filter = QueueFilter {
        advisor_id: query.advisor_id,
        ..queue.filter()?
    };
    let items = state.store.consultation_queue(&filter).await?;
    Ok(Json(QueueView {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignRequest {
    pub advisor_id: i64,
}

/// Moves a consultation to another advisor who works the whole window and
/// has room in it; the first advisor's call is given back.
#[utoipa::path(
    post,
    path = "/api/v1/admin/consultations/{id}/reassign",
    tag = "admin",
    params(("id" = Uuid, Path)),
    request_body = ReassignRequest,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = ConsultationView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reassign(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReassignRequest>,
) -> Result<Json<ConsultationView>, ApiError> {
    let consultation_id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("consultation"))?;
    let change = Reassignment {
        consultation_id,
        advisor_id: request.advisor_id,
        now: now(),
    };
    let moved = state.turnout.reassign(&change).await.map_err(|error| match error {
        ReassignError::NotFound => ApiError::NotFound("consultation"),
        ReassignError::AdvisorNotFound => ApiError::field("advisor_id", "No such advisor"),
        ReassignError::NotCovering => ApiError::field("advisor_id", "This advisor does not work the whole window"),
        ReassignError::AdvisorFull => ApiError::Conflict {
            kind: crate::error::ProblemType::AdvisorFull,
            detail: "This advisor has no room left in the window".into(),
        },
        ReassignError::Store(error) => error.into(),
    })?;
    Ok(Json(ConsultationView::from(&moved)))
}
