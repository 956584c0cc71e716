//! The program advisor's side: their queue of callbacks, recording what
//! happened on each call, and the visitor's résumé and its review.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};
use turnout_domain::labels::day_label;
use turnout_domain::{ConsultationStatus, Text, TimeZone, ValidationErrors};
use turnout_store::{ConsultationUpdate, NewReview, QueueFilter, QueueItem, ResumeReviews, StoreError};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{AdvisorId, ApiJson};
use crate::routes::now;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(queue))
        .routes(routes!(report_call))
        .routes(routes!(download_resume))
        .routes(routes!(review_resume, resume_reviews))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
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

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    pub items: Vec<QueueEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEntry {
    pub consultation_id: Uuid,
    #[schema(value_type = String, example = "assigned")]
    pub status: ConsultationStatus,
    /// "Mornings, 8–10 AM"
    pub window_label: String,
    /// The visitor's local day of the window, "Monday, 30th November".
    pub window_day_label: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: jiff::Timestamp,
    /// The visitor's zone.
    pub time_zone: String,
    pub advisor: AssignedAdvisor,
    pub visitor: Visitor,
    pub resume: Option<ResumeInfo>,
    /// The latest notes recorded on this consultation.
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignedAdvisor {
    pub advisor_id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Visitor {
    pub name: String,
    pub email: String,
    /// E.164
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResumeInfo {
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub review_status: String,
}

impl From<QueueItem> for QueueEntry {
    fn from(item: QueueItem) -> Self {
        let consultation = item.consultation;
        Self {
            consultation_id: consultation.id,
            status: consultation.status,
            window_day_label: day_label(consultation.window_date),
            window_label: consultation.window_label,
            starts_at: consultation.starts_at,
            ends_at: consultation.ends_at,
            time_zone: consultation.time_zone.to_string(),
            advisor: AssignedAdvisor {
                advisor_id: consultation.advisor_id,
                name: consultation.advisor_name,
            },
            visitor: Visitor {
                name: item.visitor_name,
                email: item.visitor_email,
                phone: item.visitor_phone,
            },
            resume: item.resume.map(|resume| ResumeInfo {
                file_name: resume.display_name,
                content_type: resume.content_type,
                size_bytes: resume.size_bytes,
                review_status: resume.review_status,
            }),
            notes: item.notes,
        }
    }
}

impl QueueQuery {
    pub fn filter(&self) -> Result<QueueFilter, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let status = self
            .status
            .as_deref()
            .and_then(|status| errors.field("status", ConsultationStatus::parse(status)));
        let zone = match self.tz.as_deref() {
            Some(tz) => errors.field("tz", TimeZone::parse(tz)),
            None => Some(TimeZone::utc()),
        };
        let date = self
            .date
            .as_deref()
            .and_then(|date| errors.field("date", turnout_domain::civil::parse_date(date)));
        let (from, to) = match (date, zone) {
            (Some(date), Some(zone)) => {
                let start = |day: Date| {
                    zone.zone()
                        .to_ambiguous_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
                        .compatible()
                        .ok()
                };
                (start(date), date.tomorrow().ok().and_then(start))
            }
            _ => (None, None),
        };
        errors.finish(|| QueueFilter {
            advisor_id: None,
            status,
            from,
            to,
        })
    }
}

/// The calling advisor's consultations, by window start.
#[utoipa::path(
    get,
    path = "/api/v1/advisor/consultations",
    tag = "advisor",
    params(QueueQuery),
    security(("advisor_token" = [])),
    responses(
        (status = 200, body = QueueView),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn queue(
    AdvisorId(advisor_id): AdvisorId,
    State(state): State<AppState>,
    Query(query): Query<QueueQuery>,
) -> Result<Json<QueueView>, ApiError> {
    let filter = QueueFilter {
        advisor_id: Some(advisor_id),
        ..query.filter()?
    };
    let items = state.store.consultation_queue(&filter).await?;
    Ok(Json(QueueView {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// What happened on a call.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallReport {
    /// `called`, `no_answer`, `completed` or `rescheduled`.
    pub status: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallRecorded {
    pub consultation_id: Uuid,
    #[schema(value_type = String, example = "completed")]
    pub status: ConsultationStatus,
}

/// Records a call's outcome and notes; every change is kept in the
/// consultation's history with who made it and when.
#[utoipa::path(
    patch,
    path = "/api/v1/advisor/consultations/{id}",
    tag = "advisor",
    params(("id" = Uuid, Path)),
    request_body = CallReport,
    security(("advisor_token" = [])),
    responses(
        (status = 200, body = CallRecorded),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn report_call(
    AdvisorId(advisor_id): AdvisorId,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(report): ApiJson<CallReport>,
) -> Result<Json<CallRecorded>, ApiError> {
    let consultation_id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("consultation"))?;
    let mut errors = ValidationErrors::new();
    let status = report.status.as_deref().and_then(|status| {
        let parsed = ConsultationStatus::parse(status).and_then(|status| match status {
            ConsultationStatus::Called
            | ConsultationStatus::NoAnswer
            | ConsultationStatus::Completed
            | ConsultationStatus::Rescheduled => Ok(status),
            _ => Err("Use called, no_answer, completed or rescheduled".to_owned()),
        });
        errors.field("status", parsed)
    });
    let notes = report
        .notes
        .as_deref()
        .and_then(|notes| errors.field("notes", Text::multiline_optional(notes, 5_000)))
        .map(Text::into_string);
    if report.status.is_none() && report.notes.is_none() {
        errors.field("status", Err::<(), _>("Give a status, notes or both"));
    }
    errors.finish(|| ())?;
    let update = ConsultationUpdate {
        consultation_id,
        advisor_id,
        status,
        notes,
        now: now(),
    };
    let status = state.turnout.report_call(&update).await.map_err(|error| match error {
        StoreError::NotFound => ApiError::NotFound("consultation"),
        error => error.into(),
    })?;
    Ok(Json(CallRecorded {
        consultation_id,
        status,
    }))
}

/// Downloads the visitor's résumé, with its stored type.
#[utoipa::path(
    get,
    path = "/api/v1/advisor/consultations/{id}/resume",
    tag = "advisor",
    params(("id" = Uuid, Path)),
    security(("advisor_token" = [])),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn download_resume(
    AdvisorId(advisor_id): AdvisorId,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("résumé");
    let consultation_id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let file = state
        .store
        .advisor_resume(advisor_id, consultation_id)
        .await?
        .ok_or_else(not_found)?;
    let object = state
        .uploads
        .get(&ObjectPath::from(file.object_key.as_str()))
        .await
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    let bytes = object
        .bytes()
        .await
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    // The name was sanitised at upload; quote it anyway and give a UTF-8 form.
    let ascii: String = file
        .display_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = serde_urlencoded::to_string([("", file.display_name.as_str())])
        .unwrap_or_default()
        .trim_start_matches('=')
        .replace('+', "%20");
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(content_type) = HeaderValue::from_str(&file.content_type) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    if let Ok(disposition) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub comment: Option<String>,
    /// `in_review` or `reviewed`.
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewsView {
    /// `pending`, `in_review` or `reviewed`.
    pub review_status: String,
    pub comments: Vec<ReviewView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub advisor_id: i64,
    pub advisor_name: String,
    pub comment: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl From<ResumeReviews> for ReviewsView {
    fn from(reviews: ResumeReviews) -> Self {
        Self {
            review_status: reviews.review_status,
            comments: reviews
                .comments
                .into_iter()
                .map(|c| ReviewView {
                    advisor_id: c.advisor_id,
                    advisor_name: c.advisor_name,
                    comment: c.comment,
                    created_at: c.created_at,
                })
                .collect(),
        }
    }
}

/// Comments on the visitor's résumé and moves its review along.
#[utoipa::path(
    post,
    path = "/api/v1/advisor/consultations/{id}/resume/reviews",
    tag = "advisor",
    params(("id" = Uuid, Path)),
    request_body = ReviewRequest,
    security(("advisor_token" = [])),
    responses(
        (status = 200, body = ReviewsView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn review_resume(
    AdvisorId(advisor_id): AdvisorId,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> Result<Json<ReviewsView>, ApiError> {
    let consultation_id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("résumé"))?;
    let mut errors = ValidationErrors::new();
    let comment = request
        .comment
        .as_deref()
        .and_then(|comment| errors.field("comment", Text::multiline_required(comment, 5_000)))
        .map(Text::into_string);
    let status = request.status.as_deref().and_then(|status| match status {
        "in_review" | "reviewed" => Some(status.to_owned()),
        _ => errors.field("status", Err::<String, _>("Use in_review or reviewed")),
    });
    if request.comment.is_none() && request.status.is_none() {
        errors.field("comment", Err::<(), _>("Give a comment, a status or both"));
    }
    errors.finish(|| ())?;
    let review = NewReview {
        consultation_id,
        advisor_id,
        comment,
        status,
        now: now(),
    };
    let reviews = state
        .turnout
        .review_resume(&review)
        .await?
        .ok_or(ApiError::NotFound("résumé"))?;
    Ok(Json(reviews.into()))
}

/// The résumé's review status and comments, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/advisor/consultations/{id}/resume/reviews",
    tag = "advisor",
    params(("id" = Uuid, Path)),
    security(("advisor_token" = [])),
    responses(
        (status = 200, body = ReviewsView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resume_reviews(
    AdvisorId(advisor_id): AdvisorId,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ReviewsView>, ApiError> {
    let consultation_id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("résumé"))?;
    let reviews = state
        .store
        .resume_reviews(advisor_id, consultation_id)
        .await?
        .ok_or(ApiError::NotFound("résumé"))?;
    Ok(Json(reviews.into()))
}
