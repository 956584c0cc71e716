//! The organiser's API: webinars and their slots. Every route needs an
//! admin credential.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;

use serde::{Deserialize, Serialize};
use turnout_domain::consultation::parse_weekday;
use turnout_domain::schedule::Recurrence;
use turnout_domain::webinar::limits;
use turnout_domain::{Host, MeetingUrl, SlotStatus, Slug, Text, TimeZone, ValidationErrors, WebinarStatus};
use turnout_store::{
    LinkChanges, MeetingLinks, NewSlot, NewWebinar, Slot, SlotChanges, SlotError, Webinar, WebinarChanges, WebinarError,
};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Admin, ApiJson};
use crate::routes::public::webinars::HostView;
use crate::routes::{now, path_id, path_slug};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostRequest {
    #[schema(schema_with = crate::openapi::params::host_name)]
    pub name: String,
    #[schema(schema_with = crate::openapi::params::host_title)]
    pub title: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebinarRequest {
    #[schema(schema_with = crate::openapi::params::slug)]
    pub slug: String,
    #[schema(schema_with = crate::openapi::params::webinar_title)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::webinar_summary)]
    pub summary: String,
    /// The organiser's IANA zone; recurrences are in it.
    #[schema(schema_with = crate::openapi::params::time_zone)]
    pub time_zone: String,
    #[schema(schema_with = crate::openapi::params::duration_minutes)]
    pub duration_minutes: i64,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::hosts)]
    pub hosts: Vec<HostRequest>,
    /// "25,000+ professionals trained"
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::highlights)]
    pub highlights: Vec<String>,
    /// `draft` (the default), `published` or `archived`.
    #[schema(schema_with = crate::openapi::params::nullable_webinar_status, required = false)]
    pub status: Option<String>,
    /// Where the webinar is held (Zoom, Meet, Teams, YouTube Live …), for
    /// every slot without its own; `null` removes it. Registrants reach it
    /// only through their own join links; no public answer shows it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(schema_with = crate::openapi::params::nullable_meeting_url, required = false)]
    pub join_url: Option<Option<String>>,
    /// Where the recording is, once there is one; `null` removes it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(schema_with = crate::openapi::params::nullable_meeting_url, required = false)]
    pub replay_url: Option<Option<String>>,
}

/// A partial update: absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebinarRequest {
    #[schema(schema_with = crate::openapi::params::nullable_webinar_title, required = false)]
    pub title: Option<String>,
    #[schema(schema_with = crate::openapi::params::nullable_webinar_summary, required = false)]
    pub summary: Option<String>,
    #[schema(schema_with = crate::openapi::params::nullable_time_zone, required = false)]
    pub time_zone: Option<String>,
    #[schema(schema_with = crate::openapi::params::nullable_duration_minutes, required = false)]
    pub duration_minutes: Option<i64>,
    #[schema(schema_with = crate::openapi::params::nullable_hosts, required = false)]
    pub hosts: Option<Vec<HostRequest>>,
    #[schema(schema_with = crate::openapi::params::nullable_highlights, required = false)]
    pub highlights: Option<Vec<String>>,
    #[schema(schema_with = crate::openapi::params::nullable_webinar_status, required = false)]
    pub status: Option<String>,
    /// Where the webinar is held (Zoom, Meet, Teams, YouTube Live …), for
    /// every slot without its own; `null` removes it. Registrants reach it
    /// only through their own join links; no public answer shows it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(schema_with = crate::openapi::params::nullable_meeting_url, required = false)]
    pub join_url: Option<Option<String>>,
    /// Where the recording is, once there is one; `null` removes it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(schema_with = crate::openapi::params::nullable_meeting_url, required = false)]
    pub replay_url: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminWebinar {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub time_zone: String,
    pub duration_minutes: i64,
    pub hosts: Vec<HostView>,
    pub highlights: Vec<String>,
    #[schema(value_type = String, example = "published")]
    pub status: WebinarStatus,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub join_url: Option<String>,
    pub replay_url: Option<String>,
}

impl AdminWebinar {
    fn new(webinar: Webinar, links: MeetingLinks) -> Self {
        Self {
            slug: webinar.slug.to_string(),
            hosts: webinar.hosts.iter().map(HostView::from).collect(),
            title: webinar.title,
            summary: webinar.summary,
            time_zone: webinar.time_zone.to_string(),
            duration_minutes: webinar.duration_minutes,
            highlights: webinar.highlights,
            status: webinar.status,
            created_at: webinar.created_at,
            updated_at: webinar.updated_at,
            join_url: links.join_url,
            replay_url: links.replay_url,
        }
    }
}

/// A change of join and replay addresses, each checked to be https.
fn link_changes(
    join_url: Option<Option<String>>,
    replay_url: Option<Option<String>>,
    errors: &mut ValidationErrors,
) -> LinkChanges {
    let mut check = |field: &str, value: Option<Option<String>>| {
        value.and_then(|value| match value {
            None => Some(None),
            Some(text) => errors
                .field(field, MeetingUrl::parse(&text))
                .map(|url| Some(url.into_string())),
        })
    };
    LinkChanges {
        join_url: check("join_url", join_url),
        replay_url: check("replay_url", replay_url),
    }
}

/// What the admin API shows of a webinar: it and its addresses.
async fn admin_webinar(state: &AppState, webinar: Webinar, links: &LinkChanges) -> Result<AdminWebinar, ApiError> {
    let links = if links.is_empty() {
        state
            .store
            .all_webinar_links()
            .await?
            .remove(&webinar.id)
            .unwrap_or_default()
    } else {
        state.turnout.set_webinar_links(webinar.id, links).await?
    };
    Ok(AdminWebinar::new(webinar, links))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminWebinarList {
    pub items: Vec<AdminWebinar>,
}

fn duration(minutes: i64) -> Result<i64, String> {
    if limits::DURATION_MINUTES.contains(&minutes) {
        Ok(minutes)
    } else {
        Err(format!(
            "Must be between {} and {} minutes",
            limits::DURATION_MINUTES.start(),
            limits::DURATION_MINUTES.end()
        ))
    }
}

fn hosts(requests: Vec<HostRequest>, errors: &mut ValidationErrors) -> Option<Vec<Host>> {
    if requests.len() > limits::HOSTS {
        errors.field("hosts", Err::<(), _>(format!("At most {} hosts", limits::HOSTS)));
        return None;
    }
    let mut hosts = Vec::with_capacity(requests.len());
    for (i, host) in requests.into_iter().enumerate() {
        let name = errors.field(
            &format!("hosts[{i}].name"),
            Text::required(&host.name, limits::NAME_CHARS),
        );
        let title = errors.field(
            &format!("hosts[{i}].title"),
            Text::optional(&host.title, limits::TITLE_CHARS),
        );
        if let (Some(name), Some(title)) = (name, title) {
            hosts.push(Host {
                name: name.into_string(),
                title: title.into_string(),
            });
        }
    }
    Some(hosts)
}

fn highlights(requests: Vec<String>, errors: &mut ValidationErrors) -> Option<Vec<String>> {
    if requests.len() > limits::HIGHLIGHTS {
        errors.field(
            "highlights",
            Err::<(), _>(format!("At most {} highlights", limits::HIGHLIGHTS)),
        );
        return None;
    }
    let mut highlights = Vec::with_capacity(requests.len());
    for (i, highlight) in requests.iter().enumerate() {
        if let Some(text) = errors.field(
            &format!("highlights[{i}]"),
            Text::required(highlight, limits::HIGHLIGHT_CHARS),
        ) {
            highlights.push(text.into_string());
        }
    }
    Some(highlights)
}

impl CreateWebinarRequest {
    fn validate(self) -> Result<(NewWebinar, LinkChanges), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let links = link_changes(self.join_url, self.replay_url, &mut errors);
        let slug = errors.field("slug", Slug::parse(&self.slug));
        let title = errors.field("title", Text::required(&self.title, limits::TITLE_CHARS));
        let summary = errors.field(
            "summary",
            Text::multiline_optional(&self.summary, limits::SUMMARY_CHARS),
        );
        let time_zone = errors.field("time_zone", TimeZone::parse(&self.time_zone));
        let duration_minutes = errors.field("duration_minutes", duration(self.duration_minutes));
        let hosts = hosts(self.hosts, &mut errors);
        let highlights = highlights(self.highlights, &mut errors);
        let status = match self.status.as_deref() {
            None => Some(WebinarStatus::Draft),
            Some(status) => errors.field("status", WebinarStatus::parse(status)),
        };
        match (
            slug,
            title,
            summary,
            time_zone,
            duration_minutes,
            hosts,
            highlights,
            status,
        ) {
            (
                Some(slug),
                Some(title),
                Some(summary),
                Some(time_zone),
                Some(duration_minutes),
                Some(hosts),
                Some(highlights),
                Some(status),
            ) if errors.is_empty() => Ok((
                NewWebinar {
                    slug,
                    title,
                    summary,
                    time_zone,
                    duration_minutes,
                    hosts,
                    highlights,
                    status,
                },
                links,
            )),
            _ => Err(errors),
        }
    }
}

impl UpdateWebinarRequest {
    fn validate(self) -> Result<(WebinarChanges, LinkChanges), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let links = link_changes(self.join_url, self.replay_url, &mut errors);
        let changes = WebinarChanges {
            title: self
                .title
                .and_then(|t| errors.field("title", Text::required(&t, limits::TITLE_CHARS))),
            summary: self
                .summary
                .and_then(|s| errors.field("summary", Text::multiline_optional(&s, limits::SUMMARY_CHARS))),
            time_zone: self
                .time_zone
                .and_then(|z| errors.field("time_zone", TimeZone::parse(&z))),
            duration_minutes: self
                .duration_minutes
                .and_then(|d| errors.field("duration_minutes", duration(d))),
            hosts: self.hosts.and_then(|h| hosts(h, &mut errors)),
            highlights: self.highlights.and_then(|h| highlights(h, &mut errors)),
            status: self
                .status
                .and_then(|s| errors.field("status", WebinarStatus::parse(&s))),
        };
        errors.finish(|| (changes, links))
    }
}

fn webinar_error(error: WebinarError) -> ApiError {
    match error {
        WebinarError::NotFound => ApiError::NotFound("webinar"),
        WebinarError::SlugTaken => ApiError::Conflict {
            kind: crate::error::ProblemType::SlugTaken,
            detail: "A webinar with this slug exists".into(),
        },
        WebinarError::Store(error) => error.into(),
    }
}

/// Creates a webinar (a draft unless `status` says otherwise).
#[utoipa::path(
    post,
    path = "/api/v1/admin/webinars",
    tag = "admin",
    request_body = CreateWebinarRequest,
    security(("admin_token" = [])),
    responses(
        (status = 201, body = AdminWebinar),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_webinar(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateWebinarRequest>,
) -> Result<(StatusCode, Json<AdminWebinar>), ApiError> {
    let (webinar, links) = request.validate()?;
    let created = state.turnout.create_webinar(&webinar).await.map_err(webinar_error)?;
    Ok((StatusCode::CREATED, Json(admin_webinar(&state, created, &links).await?)))
}

/// Every webinar, drafts and archived ones included.
#[utoipa::path(
    get,
    path = "/api/v1/admin/webinars",
    tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, body = AdminWebinarList),
    )
)]
pub async fn list_webinars(_: Admin, State(state): State<AppState>) -> Result<Json<AdminWebinarList>, ApiError> {
    let mut links = state.store.all_webinar_links().await?;
    let items = state
        .store
        .list_webinars()
        .await?
        .into_iter()
        .map(|webinar| {
            let own = links.remove(&webinar.id).unwrap_or_default();
            AdminWebinar::new(webinar, own)
        })
        .collect();
    Ok(Json(AdminWebinarList { items }))
}

/// Changes a webinar; absent fields stay as they are.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/webinars/{slug}",
    tag = "admin",
    params(("slug" = String, Path)),
    request_body = UpdateWebinarRequest,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = AdminWebinar),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_webinar(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(request): ApiJson<UpdateWebinarRequest>,
) -> Result<Json<AdminWebinar>, ApiError> {
    let slug = path_slug(&slug)?;
    let (changes, links) = request.validate()?;
    let updated = state
        .turnout
        .update_webinar(&slug, &changes)
        .await
        .map_err(webinar_error)?;
    Ok(Json(admin_webinar(&state, updated, &links).await?))
}

/// Archives a webinar: it leaves the catalogue and takes no registrations.
#[utoipa::path(
    post,
    path = "/api/v1/admin/webinars/{slug}/archive",
    tag = "admin",
    params(("slug" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = AdminWebinar),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn archive_webinar(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<AdminWebinar>, ApiError> {
    let slug = path_slug(&slug)?;
    let archived = state.turnout.archive_webinar(&slug).await.map_err(webinar_error)?;
    Ok(Json(admin_webinar(&state, archived, &LinkChanges::default()).await?))
}

/// "Every Tuesday and Thursday at 18:00 organiser time, 8 times."
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurrenceRequest {
    /// The first local date considered, `YYYY-MM-DD`.
    #[schema(schema_with = crate::openapi::params::date)]
    pub start_date: String,
    /// Wall-clock time in the webinar's zone, `HH:MM`. A time that a
    /// daylight-saving change skips moves later by the gap (02:30 becomes
    /// 03:30); a time it repeats takes the first occurrence.
    #[schema(schema_with = crate::openapi::params::clock)]
    pub local_time: String,
    /// e.g. `["tuesday", "thursday"]`
    #[schema(schema_with = crate::openapi::params::weekdays)]
    pub weekdays: Vec<String>,
    /// How many slots to create, at most 366.
    #[schema(schema_with = crate::openapi::params::recurrence_count)]
    pub count: usize,
}

/// One slot at `starts_at`, or a recurrence of them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSlotsRequest {
    /// RFC 3339 with an offset, e.g. `2026-04-18T12:30:00Z`.
    pub starts_at: Option<String>,
    pub recurrence: Option<RecurrenceRequest>,
    pub capacity: i64,
}

/// Exactly one of `starts_at` and `recurrence`, which serde alone cannot
/// say: two object shapes, the other field absent or null in each.
impl utoipa::PartialSchema for CreateSlotsRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
        use utoipa::openapi::{KnownFormat, Ref, RefOr, Schema, SchemaFormat};

        let null = || ObjectBuilder::new().schema_type(Type::Null);
        let starts_at = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 with an offset, e.g. `2026-04-18T12:30:00Z`"));
        let shape = |first: (&str, RefOr<Schema>), other: &str| {
            ObjectBuilder::new()
                .property(first.0, first.1)
                .required(first.0)
                .property(other, null())
                .property("capacity", crate::openapi::params::capacity())
                .required("capacity")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(shape(
                    ("starts_at", RefOr::T(Schema::Object(starts_at.build()))),
                    "recurrence",
                ))
                .item(shape(
                    ("recurrence", RefOr::Ref(Ref::from_schema_name("RecurrenceRequest"))),
                    "starts_at",
                ))
                .description(Some("One slot at `starts_at`, or a recurrence of them"))
                .build(),
        ))
    }
}

impl utoipa::ToSchema for CreateSlotsRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("CreateSlotsRequest")
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SlotsCreated {
    One { slot_id: i64 },
    Many { slot_ids: Vec<i64> },
}

fn capacity(capacity: i64) -> Result<i64, String> {
    if limits::CAPACITY.contains(&capacity) {
        Ok(capacity)
    } else {
        Err(format!(
            "Must be between {} and {}",
            limits::CAPACITY.start(),
            limits::CAPACITY.end()
        ))
    }
}

impl RecurrenceRequest {
    fn validate(&self, errors: &mut ValidationErrors) -> Option<Recurrence> {
        let start_date = errors.field(
            "recurrence.start_date",
            turnout_domain::civil::parse_date(&self.start_date),
        );
        let local_time = errors.field(
            "recurrence.local_time",
            turnout_domain::civil::parse_clock(&self.local_time),
        );
        let mut weekdays = Vec::new();
        if self.weekdays.is_empty() {
            errors.field("recurrence.weekdays", Err::<(), _>("Choose at least one weekday"));
        }
        for (i, name) in self.weekdays.iter().enumerate() {
            if let Some(day) = errors.field(&format!("recurrence.weekdays[{i}]"), parse_weekday(name)) {
                weekdays.push(day);
            }
        }
        if !(1..=Recurrence::MAX_COUNT).contains(&self.count) {
            errors.field(
                "recurrence.count",
                Err::<(), _>(format!("Must be between 1 and {}", Recurrence::MAX_COUNT)),
            );
        }
        Some(Recurrence {
            start_date: start_date?,
            local_time: local_time?,
            weekdays,
            count: self.count,
        })
    }
}

impl CreateSlotsRequest {
    /// The instants to create, or every reason why not.
    fn validate(&self, zone: &TimeZone, now: Timestamp) -> Result<(Vec<NewSlot>, bool), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let capacity = errors.field("capacity", capacity(self.capacity));
        let (instants, single) = match (&self.starts_at, &self.recurrence) {
            (Some(starts_at), None) => {
                let instant = errors.field(
                    "starts_at",
                    starts_at
                        .parse::<Timestamp>()
                        .map_err(|_| "Use RFC 3339 with an offset, e.g. 2026-04-18T12:30:00Z"),
                );
                (instant.into_iter().collect(), true)
            }
            (None, Some(recurrence)) => {
                let instants = recurrence
                    .validate(&mut errors)
                    .filter(|_| errors.is_empty())
                    .map(|r| r.instants(zone))
                    .unwrap_or_default();
                (instants, false)
            }
            _ => {
                errors.field("starts_at", Err::<(), _>("Give either starts_at or recurrence"));
                (Vec::new(), true)
            }
        };
        if instants.iter().any(|instant| *instant <= now) {
            let field = if single { "starts_at" } else { "recurrence.start_date" };
            errors.field(field, Err::<(), _>("Slots must start in the future"));
        }
        let slots = instants
            .into_iter()
            .map(|starts_at| NewSlot {
                starts_at,
                capacity: capacity.unwrap_or_default(),
            })
            .collect();
        errors.finish(|| (slots, single))
    }
}

fn slot_error(error: SlotError) -> ApiError {
    match error {
        SlotError::WebinarNotFound => ApiError::NotFound("webinar"),
        SlotError::NotFound => ApiError::NotFound("slot"),
        SlotError::Duplicate => ApiError::Conflict {
            kind: crate::error::ProblemType::SlotExists,
            detail: "This webinar already has a slot at that instant".into(),
        },
        SlotError::CapacityBelowSeatsTaken { capacity, seats_taken } => ApiError::Conflict {
            kind: crate::error::ProblemType::CapacityBelowSeatsTaken,
            detail: format!("Capacity {capacity} is below the {seats_taken} seats already taken"),
        },
        SlotError::Store(error) => error.into(),
    }
}

/// Adds one slot, or a recurrence of slots, to a webinar.
#[utoipa::path(
    post,
    path = "/api/v1/admin/webinars/{slug}/slots",
    tag = "admin",
    params(("slug" = String, Path)),
    request_body = CreateSlotsRequest,
    security(("admin_token" = [])),
    responses(
        (status = 201, body = SlotsCreated),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_slots(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(request): ApiJson<CreateSlotsRequest>,
) -> Result<(StatusCode, Json<SlotsCreated>), ApiError> {
    let slug = path_slug(&slug)?;
    let webinar = state
        .store
        .find_webinar(&slug)
        .await?
        .ok_or(ApiError::NotFound("webinar"))?;
    let now = now();
    let (slots, single) = request.validate(&webinar.time_zone, now)?;
    let ids = state.turnout.create_slots(&webinar, &slots).await.map_err(slot_error)?;
    let created = match (single, ids.as_slice()) {
        (true, [slot_id]) => SlotsCreated::One { slot_id: *slot_id },
        _ => SlotsCreated::Many { slot_ids: ids },
    };
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminSlot {
    pub slot_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    pub capacity: i64,
    pub seats_taken: i64,
    pub seats_left: i64,
    #[schema(value_type = String, example = "open")]
    pub status: SlotStatus,
    /// The slot's own addresses, which override the webinar's.
    pub join_url: Option<String>,
    pub replay_url: Option<String>,
}

impl AdminSlot {
    fn new(slot: Slot, links: MeetingLinks) -> Self {
        Self {
            slot_id: slot.id,
            starts_at: slot.starts_at,
            capacity: slot.capacity,
            seats_taken: slot.seats_taken,
            seats_left: slot.seats_left(),
            status: slot.status,
            join_url: links.join_url,
            replay_url: links.replay_url,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminSlotList {
    pub items: Vec<AdminSlot>,
}

/// Every slot of a webinar, past ones included, with seats taken.
#[utoipa::path(
    get,
    path = "/api/v1/admin/webinars/{slug}/slots",
    tag = "admin",
    params(("slug" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = AdminSlotList),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_slots(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<AdminSlotList>, ApiError> {
    let slug = path_slug(&slug)?;
    let webinar = state
        .store
        .find_webinar(&slug)
        .await?
        .ok_or(ApiError::NotFound("webinar"))?;
    let slots = state.store.list_slots(webinar.id, Timestamp::UNIX_EPOCH).await?;
    let mut links = state.store.slot_links(webinar.id).await?;
    let items = slots
        .into_iter()
        .map(|slot| {
            let own = links.remove(&slot.id).unwrap_or_default();
            AdminSlot::new(slot, own)
        })
        .collect();
    Ok(Json(AdminSlotList { items }))
}

/// Changes a slot's capacity (never below the seats taken) or status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSlotRequest {
    #[schema(schema_with = crate::openapi::params::nullable_capacity, required = false)]
    pub capacity: Option<i64>,
    /// `open` or `closed`.
    #[schema(schema_with = crate::openapi::params::nullable_slot_status, required = false)]
    pub status: Option<String>,
    /// This slot's own meeting address, overriding the webinar's; `null`
    /// falls back to the webinar's.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(schema_with = crate::openapi::params::nullable_meeting_url, required = false)]
    pub join_url: Option<Option<String>>,
    /// This slot's recording; `null` falls back to the webinar's.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(schema_with = crate::openapi::params::nullable_meeting_url, required = false)]
    pub replay_url: Option<Option<String>>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/admin/slots/{slot_id}",
    tag = "admin",
    params(("slot_id" = i64, Path)),
    request_body = UpdateSlotRequest,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = AdminSlot),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_slot(
    _: Admin,
    State(state): State<AppState>,
    Path(slot_id): Path<String>,
    ApiJson(request): ApiJson<UpdateSlotRequest>,
) -> Result<Json<AdminSlot>, ApiError> {
    let mut errors = ValidationErrors::new();
    let changes = SlotChanges {
        capacity: request.capacity.and_then(|c| errors.field("capacity", capacity(c))),
        status: request
            .status
            .and_then(|s| errors.field("status", SlotStatus::parse(&s))),
    };
    let links = link_changes(request.join_url, request.replay_url, &mut errors);
    errors.finish(|| ())?;
    change_slot(&state, &slot_id, changes, links).await
}

/// Closes a slot: it stays listed for admins but takes no registrations.
#[utoipa::path(
    post,
    path = "/api/v1/admin/slots/{slot_id}/close",
    tag = "admin",
    params(("slot_id" = i64, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = AdminSlot),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn close_slot(
    _: Admin,
    State(state): State<AppState>,
    Path(slot_id): Path<String>,
) -> Result<Json<AdminSlot>, ApiError> {
    let changes = SlotChanges {
        capacity: None,
        status: Some(SlotStatus::Closed),
    };
    change_slot(&state, &slot_id, changes, LinkChanges::default()).await
}

async fn change_slot(
    state: &AppState,
    slot_id: &str,
    changes: SlotChanges,
    links: LinkChanges,
) -> Result<Json<AdminSlot>, ApiError> {
    let slot_id = path_id(slot_id, "slot")?;
    let slot = state.turnout.update_slot(slot_id, &changes).await.map_err(slot_error)?;
    let links = if links.is_empty() {
        state
            .store
            .slot_links(slot.webinar_id)
            .await?
            .remove(&slot.id)
            .unwrap_or_default()
    } else {
        state.turnout.set_slot_links(slot.id, &links).await?
    };
    Ok(Json(AdminSlot::new(slot, links)))
}

/// One place on a slot's waiting list, for staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminWaitlistEntry {
    pub entry_id: uuid::Uuid,
    /// `waiting`, `offered`, `claimed`, `expired` or `left`.
    #[schema(value_type = String)]
    pub status: &'static str,
    /// While waiting: 1 for the next in line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    pub name: String,
    pub email: String,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub offered_at: Option<Timestamp>,
    /// While a seat is offered: until when it is held.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub offer_expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_id: Option<uuid::Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminWaitlist {
    pub items: Vec<AdminWaitlistEntry>,
}

/// A slot's waiting list, in order: who waits, who holds an offer and
/// until when, who claimed, lapsed or left.
#[utoipa::path(
    get,
    path = "/api/v1/admin/slots/{slot_id}/waitlist",
    tag = "admin",
    params(("slot_id" = i64, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = AdminWaitlist),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn slot_waitlist(
    _: Admin,
    State(state): State<AppState>,
    Path(slot_id): Path<String>,
) -> Result<Json<AdminWaitlist>, ApiError> {
    let slot_id = path_id(&slot_id, "slot")?;
    state
        .store
        .find_slot(slot_id)
        .await?
        .ok_or(ApiError::NotFound("slot"))?;
    let items = state
        .store
        .list_waitlist(slot_id)
        .await?
        .into_iter()
        .map(|entry| AdminWaitlistEntry {
            entry_id: entry.id,
            status: entry.status.as_str(),
            position: entry.position,
            offer_expires_at: state.turnout.offer_expires_at(&entry),
            name: entry.name,
            email: entry.email,
            joined_at: entry.created_at,
            offered_at: entry.offered_at,
            registration_id: entry.registration_id,
        })
        .collect();
    Ok(Json(AdminWaitlist { items }))
}
