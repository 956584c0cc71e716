//! One error type for every handler, one wire shape: RFC 9457
//! `application/problem+json` with a stable `type`. A 5xx says nothing
//! about its cause; the cause is logged once, by the `log_errors` layer.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use turnout_domain::ValidationErrors;
use turnout_store::StoreError;
use utoipa::ToSchema;

/// Every problem `type` Turnout answers, in one place: the part after
/// `/problems/` and the title a client sees with it. The OpenAPI document
/// lists them all as the values of `Problem.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    Validation,
    BotSuspected,
    MalformedRequest,
    BadRequest,
    UnsupportedMediaType,
    PayloadTooLarge,
    UnsupportedFileType,
    Unauthorized,
    Forbidden,
    ForbiddenOrigin,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    SlotFull,
    SlotClosed,
    /// A write that met another one; retrying it is safe.
    Conflict,
    SlugTaken,
    SlotExists,
    CapacityBelowSeatsTaken,
    EmailTaken,
    WindowFull,
    AdvisorFull,
    RegistrationNotConfirmed,
    SlotNotStarted,
    SlotHasSeats,
    NoOffer,
    NotRetryable,
    RateLimited,
    Unavailable,
    Overloaded,
    Internal,
}

impl ProblemType {
    pub const ALL: [ProblemType; 31] = [
        ProblemType::Validation,
        ProblemType::BotSuspected,
        ProblemType::MalformedRequest,
        ProblemType::BadRequest,
        ProblemType::UnsupportedMediaType,
        ProblemType::PayloadTooLarge,
        ProblemType::UnsupportedFileType,
        ProblemType::Unauthorized,
        ProblemType::Forbidden,
        ProblemType::ForbiddenOrigin,
        ProblemType::NotFound,
        ProblemType::MethodNotAllowed,
        ProblemType::RequestTimeout,
        ProblemType::SlotFull,
        ProblemType::SlotClosed,
        ProblemType::Conflict,
        ProblemType::SlugTaken,
        ProblemType::SlotExists,
        ProblemType::CapacityBelowSeatsTaken,
        ProblemType::EmailTaken,
        ProblemType::WindowFull,
        ProblemType::AdvisorFull,
        ProblemType::RegistrationNotConfirmed,
        ProblemType::SlotNotStarted,
        ProblemType::SlotHasSeats,
        ProblemType::NoOffer,
        ProblemType::NotRetryable,
        ProblemType::RateLimited,
        ProblemType::Unavailable,
        ProblemType::Overloaded,
        ProblemType::Internal,
    ];

    pub const fn slug(self) -> &'static str {
        match self {
            ProblemType::Validation => "validation",
            ProblemType::BotSuspected => "bot-suspected",
            ProblemType::MalformedRequest => "malformed-request",
            ProblemType::BadRequest => "bad-request",
            ProblemType::UnsupportedMediaType => "unsupported-media-type",
            ProblemType::PayloadTooLarge => "payload-too-large",
            ProblemType::UnsupportedFileType => "unsupported-file-type",
            ProblemType::Unauthorized => "unauthorized",
            ProblemType::Forbidden => "forbidden",
            ProblemType::ForbiddenOrigin => "forbidden-origin",
            ProblemType::NotFound => "not-found",
            ProblemType::MethodNotAllowed => "method-not-allowed",
            ProblemType::RequestTimeout => "request-timeout",
            ProblemType::SlotFull => "slot-full",
            ProblemType::SlotClosed => "slot-closed",
            ProblemType::Conflict => "conflict",
            ProblemType::SlugTaken => "slug-taken",
            ProblemType::SlotExists => "slot-exists",
            ProblemType::CapacityBelowSeatsTaken => "capacity-below-seats-taken",
            ProblemType::EmailTaken => "email-taken",
            ProblemType::WindowFull => "window-full",
            ProblemType::AdvisorFull => "advisor-full",
            ProblemType::RegistrationNotConfirmed => "registration-not-confirmed",
            ProblemType::SlotNotStarted => "slot-not-started",
            ProblemType::SlotHasSeats => "slot-has-seats",
            ProblemType::NoOffer => "no-offer",
            ProblemType::NotRetryable => "not-retryable",
            ProblemType::RateLimited => "rate-limited",
            ProblemType::Unavailable => "unavailable",
            ProblemType::Overloaded => "overloaded",
            ProblemType::Internal => "internal",
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            ProblemType::Validation => "The request has invalid fields",
            ProblemType::BotSuspected => "The form was not filled in the way a person fills it",
            ProblemType::MalformedRequest => "The request body is not valid JSON",
            ProblemType::BadRequest => "The request is malformed",
            ProblemType::UnsupportedMediaType => "This content type is not accepted here",
            ProblemType::PayloadTooLarge => "The request body is too large",
            ProblemType::UnsupportedFileType => "Upload a PDF or DOCX file",
            ProblemType::Unauthorized => "A valid credential is required",
            ProblemType::Forbidden => "This credential may not do this",
            ProblemType::ForbiddenOrigin => {
                "Pages on this site may not call the API; its origin must be listed in cors_origins"
            }
            ProblemType::NotFound => "Not found",
            ProblemType::MethodNotAllowed => "This method is not allowed here",
            ProblemType::RequestTimeout => "The request took too long",
            ProblemType::SlotFull => "This webinar slot is full",
            ProblemType::SlotClosed => "This webinar slot no longer takes registrations",
            ProblemType::Conflict
            | ProblemType::SlugTaken
            | ProblemType::SlotExists
            | ProblemType::CapacityBelowSeatsTaken
            | ProblemType::EmailTaken
            | ProblemType::WindowFull
            | ProblemType::AdvisorFull
            | ProblemType::RegistrationNotConfirmed
            | ProblemType::SlotNotStarted
            | ProblemType::SlotHasSeats
            | ProblemType::NoOffer
            | ProblemType::NotRetryable => "The request conflicts with the current state",
            ProblemType::RateLimited => "Too many requests; try again later",
            ProblemType::Unavailable => "The service is temporarily unavailable",
            ProblemType::Overloaded => "The service is busy; try again in a moment",
            ProblemType::Internal => "Something went wrong on our side",
        }
    }

    /// The `type` of a problem: `/problems/{slug}`.
    pub fn uri(self) -> String {
        format!("/problems/{}", self.slug())
    }

    /// A problem of this type with nothing more to say.
    pub fn problem(self, status: StatusCode, detail: Option<String>) -> Problem {
        Problem {
            kind: self.uri(),
            title: self.title().to_owned(),
            status: status.as_u16(),
            detail,
            errors: Vec::new(),
        }
    }
}

/// A problem as the client sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `/problems/slot-full`.
    #[serde(rename = "type")]
    #[schema(schema_with = crate::openapi::params::problem_type)]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For validation problems: every bad field with its message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field's path in the request, e.g. `consent.privacy_policy` or `tz`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Validation(ValidationErrors),
    /// The submission looks scripted (a filled honeypot, a form sent too
    /// fast, a failed challenge); the fields say which check.
    #[error("{0}")]
    BotSuspected(ValidationErrors),
    #[error("malformed request: {0}")]
    MalformedBody(String),
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("not a PDF or DOCX file")]
    UnsupportedFileType,
    #[error("missing or invalid credential")]
    Unauthorized,
    /// A valid credential without the role the route needs.
    #[error("the credential lacks the role")]
    Forbidden,
    /// A browser on a site that may not call the API.
    #[error("this site may not call the API")]
    ForbiddenOrigin,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the slot is full")]
    SlotFull,
    #[error("the slot no longer takes registrations")]
    SlotClosed,
    /// A conflict with the current state, under its own problem type.
    #[error("{detail}")]
    Conflict { kind: ProblemType, detail: String },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// More work than this instance takes at once; try again shortly.
    #[error("overloaded")]
    Overloaded,
    /// Over one of the abuse limits; nothing was changed.
    #[error("rate limited by {policy}")]
    RateLimited {
        policy: &'static str,
        /// The policy as `RateLimit-Policy` names it.
        policy_header: String,
        retry_after: std::time::Duration,
    },
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(ValidationErrors::single(field, message))
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BotSuspected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MalformedBody(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType | ApiError::UnsupportedFileType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::ForbiddenOrigin | ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::SlotFull | ApiError::SlotClosed | ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unavailable(_) | ApiError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable `type`, and with it the title.
    fn problem_type(&self) -> ProblemType {
        match self {
            ApiError::Validation(_) => ProblemType::Validation,
            ApiError::BotSuspected(_) => ProblemType::BotSuspected,
            ApiError::MalformedBody(_) => ProblemType::MalformedRequest,
            ApiError::UnsupportedMediaType => ProblemType::UnsupportedMediaType,
            ApiError::PayloadTooLarge => ProblemType::PayloadTooLarge,
            ApiError::UnsupportedFileType => ProblemType::UnsupportedFileType,
            ApiError::Unauthorized => ProblemType::Unauthorized,
            ApiError::Forbidden => ProblemType::Forbidden,
            ApiError::ForbiddenOrigin => ProblemType::ForbiddenOrigin,
            ApiError::NotFound(_) => ProblemType::NotFound,
            ApiError::SlotFull => ProblemType::SlotFull,
            ApiError::SlotClosed => ProblemType::SlotClosed,
            ApiError::Conflict { kind, .. } => *kind,
            ApiError::Unavailable(_) => ProblemType::Unavailable,
            ApiError::RateLimited { .. } => ProblemType::RateLimited,
            ApiError::Overloaded => ProblemType::Overloaded,
            ApiError::Internal(_) => ProblemType::Internal,
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            ApiError::MalformedBody(detail) | ApiError::Conflict { detail, .. } => Some(detail.clone()),
            ApiError::NotFound(what) => Some(format!("No {what} matches this request")),
            ApiError::UnsupportedMediaType => Some("Send JSON with Content-Type: application/json".into()),
            ApiError::RateLimited {
                policy, retry_after, ..
            } => Some(format!(
                "The {policy} limit is reached; try again in {} seconds",
                retry_seconds(*retry_after)
            )),
            _ => None,
        };
        let errors = match self {
            ApiError::Validation(errors) | ApiError::BotSuspected(errors) => errors
                .errors()
                .iter()
                .map(|e| ProblemField {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Problem {
            errors,
            ..self.problem_type().problem(status, detail)
        }
    }
}

/// Whole seconds to wait, never zero (a client told 0 retries at once).
fn retry_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Carried in the response's extensions so the logging layer can report a
/// server-side error once, inside the request's span.
#[derive(Clone)]
pub struct ErrorReport(pub Arc<String>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status = self.status();
        let body = serde_json::to_vec(&problem).expect("problems always serialise");
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, ApiError::Unauthorized) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self, ApiError::Overloaded) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let ApiError::RateLimited {
            policy,
            policy_header,
            retry_after,
        } = &self
        {
            let seconds = retry_seconds(*retry_after);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            if let Ok(value) = HeaderValue::from_str(policy_header) {
                headers.insert("ratelimit-policy", value);
            }
            if let Ok(value) = HeaderValue::from_str(&format!("\"{policy}\";r=0;t={seconds}")) {
                headers.insert("ratelimit", value);
            }
        }
        // Shedding load is working as intended, and logging every shed
        // request would add to the load.
        if status.is_server_error() && !matches!(self, ApiError::Overloaded) {
            response
                .extensions_mut()
                .insert(ErrorReport(Arc::new(self.to_string())));
        }
        response
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound("record"),
            StoreError::Conflict { constraint } => {
                // The constraint names our schema: the log has it, the client does not.
                tracing::warn!(%constraint, "a write conflicted with another");
                ApiError::Conflict {
                    kind: ProblemType::Conflict,
                    detail: "The record changed while this request ran; retry it".into(),
                }
            }
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Other(cause) => ApiError::Internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_type_has_its_own_slug_and_a_title() {
        let mut slugs: Vec<&str> = ProblemType::ALL.iter().map(|t| t.slug()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
        assert!(ProblemType::ALL.iter().all(|t| !t.title().is_empty()));
        assert_eq!(ApiError::SlotFull.problem().kind, "/problems/slot-full");
    }
}
