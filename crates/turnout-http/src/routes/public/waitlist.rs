//! The waiting list of a full slot: a place taken with the lead of step 1,
//! opened with its own token (in the emails), left, and, when a seat frees
//! and is offered, claimed as a registration.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_app::Applicant;
use turnout_app::waitlist::Waiting;
use turnout_domain::SecretToken;
use turnout_store::{LeadKey, WaitlistEntry, WaitlistError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::funnel::{
    ClientMeta, RegisteredWebinar, RegistrationRequest, RegistrationView, applicant, lead_error, refuse_token_in_url,
};
use crate::AppState;
use crate::error::{ApiError, Problem, ProblemType};
use crate::extract::{ApiJson, bearer_token};

/// A place on a waiting list.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistView {
    pub entry_id: Uuid,
    /// `waiting`, `offered`, `claimed`, `expired` or `left`.
    #[schema(value_type = String)]
    pub status: &'static str,
    /// While waiting: 1 for the next in line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    pub slot_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    pub webinar: RegisteredWebinar,
    /// While a seat is offered: until when it is held.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub offer_expires_at: Option<Timestamp>,
    /// The registration a claimed offer became.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_id: Option<Uuid>,
    /// Opens this place (`Authorization: Bearer`); only in the answer that
    /// made it, and in its emails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The place's page, for people: its status, the offer, leaving.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

impl WaitlistView {
    fn new(state: &AppState, entry: &WaitlistEntry) -> Self {
        Self {
            entry_id: entry.id,
            status: entry.status.as_str(),
            position: entry.position,
            slot_id: entry.slot_id,
            starts_at: entry.starts_at,
            webinar: RegisteredWebinar {
                slug: entry.webinar.slug.as_str().to_owned(),
                title: entry.webinar.title.clone(),
            },
            offer_expires_at: state.turnout.offer_expires_at(entry),
            registration_id: entry.registration_id,
            token: None,
            page: None,
        }
    }
}

/// Nothing about an existing place is told to whoever asks.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlreadyWaiting {
    /// Always `already_waiting`.
    #[schema(example = "already_waiting")]
    pub status: &'static str,
    pub detail: &'static str,
}

fn waitlist_error(error: WaitlistError) -> ApiError {
    match error {
        WaitlistError::LeadNotFound => ApiError::field("lead_token", "No lead matches this lead_id and lead_token"),
        WaitlistError::SlotNotFound => ApiError::field("slot_id", "No such slot"),
        WaitlistError::SlotInOtherWebinar => ApiError::field("slot_id", "This slot belongs to another webinar"),
        WaitlistError::SlotClosed => ApiError::SlotClosed,
        WaitlistError::SlotHasSeats => ApiError::Conflict {
            kind: ProblemType::SlotHasSeats,
            detail: "This slot has seats left: register for it instead".into(),
        },
        WaitlistError::NotFound => ApiError::NotFound("waiting-list place"),
        WaitlistError::NoOffer => ApiError::Conflict {
            kind: ProblemType::NoOffer,
            detail: "No seat is offered to this place now: the offer was claimed, declined or has lapsed".into(),
        },
        WaitlistError::AlreadyRegistered => ApiError::Conflict {
            kind: ProblemType::NoOffer,
            detail: "This person already holds a seat in this webinar".into(),
        },
        WaitlistError::Store(error) => error.into(),
    }
}

/// Takes a place on a full slot's waiting list, for the lead of step 1
/// (`lead_id` and `lead_token`) or the lead's fields inline, as a seat is
/// asked for. When a seat frees, the first in line is offered it by email
/// (held for `waitlist_offer_hours`, never past the start) with a link to
/// claim it. An inline lead stays recorded whatever the answer.
///
/// A person already waiting (or registered) is answered 200 with nothing
/// about their place.
#[utoipa::path(
    post,
    path = "/api/v1/waitlist",
    tag = "funnel",
    request_body = RegistrationRequest,
    responses(
        (status = 201, description = "A place at the end of the line", body = WaitlistView),
        (status = 200, description = "Already waiting or registered; nothing changed", body = AlreadyWaiting),
        (status = 409, description = "The slot has seats left, or no longer takes registrations", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn join_waitlist(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(request): ApiJson<RegistrationRequest>,
) -> Result<Response, ApiError> {
    let slot_id = request.slot_id;
    let lead = match applicant(&state, client, request).await? {
        Applicant::Lead(key) => key,
        Applicant::New(lead) => {
            let recorded = state.turnout.record_lead(&lead).await.map_err(lead_error)?;
            LeadKey {
                id: recorded.lead_id,
                token: recorded.lead_token.hash(),
            }
        }
    };
    let waiting = state
        .turnout
        .join_waitlist(slot_id, lead)
        .await
        .map_err(waitlist_error)?;
    Ok(match waiting {
        Waiting::Joined { entry, token } => {
            let mut view = WaitlistView::new(&state, &entry);
            view.page = Some(
                state
                    .settings
                    .link_key
                    .waitlist_link(&state.settings.public_url, entry.id),
            );
            view.token = Some(token.expose().to_owned());
            (StatusCode::CREATED, Json(view)).into_response()
        }
        Waiting::Already => Json(AlreadyWaiting {
            status: "already_waiting",
            detail: "This address is already on this slot's waiting list or registered for the webinar; \
                     nothing changed.",
        })
        .into_response(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitlistTokenQuery {
    /// The place's token, for links that cannot set a header. Never on a
    /// request that changes anything.
    pub token: Option<String>,
}

/// The place `id` opened by its token (header, or for reads the query);
/// anything missing or wrong is 404, revealing nothing.
fn opened(state: &AppState, id: &str, headers: &HeaderMap, query: Option<String>) -> Result<Uuid, ApiError> {
    let not_found = || ApiError::NotFound("waiting-list place");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let token = bearer_token(headers)
        .map(|token| token.expose().to_owned())
        .or(query)
        .ok_or_else(not_found)?;
    if !state.settings.link_key.is_waitlist_token(id, &token) {
        return Err(not_found());
    }
    Ok(id)
}

/// A place on a waiting list: where it stands, and the offer it holds.
#[utoipa::path(
    get,
    path = "/api/v1/waitlist/{id}",
    tag = "funnel",
    params(("id" = Uuid, Path), WaitlistTokenQuery),
    security(("manage_token" = [])),
    responses(
        (status = 200, body = WaitlistView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_waitlist_entry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<WaitlistTokenQuery>,
    headers: HeaderMap,
) -> Result<Json<WaitlistView>, ApiError> {
    let id = opened(&state, &id, &headers, query.token)?;
    let entry = state
        .store
        .find_waitlist_entry(id)
        .await?
        .ok_or(ApiError::NotFound("waiting-list place"))?;
    Ok(Json(WaitlistView::new(&state, &entry)))
}

/// Leaves the waiting list, or declines the seat offered: it goes to the
/// next in line. Leaving twice changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/waitlist/{id}/leave",
    tag = "funnel",
    params(("id" = Uuid, Path)),
    security(("manage_token" = [])),
    responses(
        (status = 200, body = WaitlistView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn leave_waitlist(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<WaitlistView>, ApiError> {
    refuse_token_in_url(&uri)?;
    let id = opened(&state, &id, &headers, None)?;
    let entry = leave(&state, id).await?;
    Ok(Json(WaitlistView::new(&state, &entry)))
}

/// Claims the seat offered to this place: a confirmed registration, with
/// its manage token, and the usual confirmation email.
#[utoipa::path(
    post,
    path = "/api/v1/waitlist/{id}/claim",
    tag = "funnel",
    params(("id" = Uuid, Path)),
    security(("manage_token" = [])),
    responses(
        (status = 201, description = "The offer is a registration now", body = RegistrationView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No offer to claim", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn claim_waitlist(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<RegistrationView>), ApiError> {
    refuse_token_in_url(&uri)?;
    let id = opened(&state, &id, &headers, None)?;
    let (registration, manage_token) = claim(&state, id).await?;
    let mut view = RegistrationView::new(&registration, &state.settings);
    view.manage_token = Some(manage_token.expose().to_owned());
    Ok((StatusCode::CREATED, Json(view)))
}

/// Leaving, for the API and the page alike.
pub(crate) async fn leave(state: &AppState, id: Uuid) -> Result<WaitlistEntry, ApiError> {
    state.turnout.leave_waitlist(id).await.map_err(waitlist_error)
}

/// Claiming, for the API and the page alike.
pub(crate) async fn claim(state: &AppState, id: Uuid) -> Result<(turnout_store::Registration, SecretToken), ApiError> {
    state.turnout.claim_waitlist(id).await.map_err(waitlist_error)
}
