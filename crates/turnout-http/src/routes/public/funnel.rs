//! Steps 1 and 2 of the funnel, and managing a registration afterwards.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use turnout_app::{Applicant, Registered};
use turnout_domain::calendar::Invite;
use turnout_domain::labels::local_label;
use turnout_domain::webinar::limits;
use turnout_domain::{
    Attribution, Consent, Country, Email, FieldError, NewLead, Person, Phone, RegistrationStatus, SecretToken, Slug,
    Text, TimeZone, ValidationErrors,
};
use turnout_store::{Consultation, LeadError, LeadKey, ManageKey, Registration, RegistrationError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::bots::{self, BotFields};
use crate::client::ClientIp;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, bearer_token};
use crate::links::{CalendarLinks, calendar_links};
use crate::{AppState, PrivacyPolicy};
use turnout_domain::calendar::EventText;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// Must be `true`: "by sharing your contact details you agree to our
    /// privacy policy".
    #[schema(schema_with = crate::openapi::params::funnel::agreed)]
    pub privacy_policy: bool,
    /// Reminders by SMS.
    #[serde(default)]
    pub sms: bool,
    /// The confirmation and reminders on WhatsApp, and by SMS instead when
    /// the number is not on WhatsApp. Offered where WhatsApp is configured
    /// (`whatsapp` in `GET /api/v1/form-token`).
    #[serde(default)]
    pub whatsapp: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributionRequest {
    #[schema(schema_with = crate::openapi::params::funnel::utm, required = false)]
    pub utm_source: Option<String>,
    #[schema(schema_with = crate::openapi::params::funnel::utm, required = false)]
    pub utm_medium: Option<String>,
    #[schema(schema_with = crate::openapi::params::funnel::utm, required = false)]
    pub utm_campaign: Option<String>,
    #[schema(schema_with = crate::openapi::params::funnel::utm, required = false)]
    pub utm_term: Option<String>,
    #[schema(schema_with = crate::openapi::params::funnel::utm, required = false)]
    pub utm_content: Option<String>,
    #[schema(schema_with = crate::openapi::params::funnel::url, required = false)]
    pub referrer: Option<String>,
    /// The page the widget was on.
    #[schema(schema_with = crate::openapi::params::funnel::url, required = false)]
    pub page: Option<String>,
}

/// Step 1: the visitor's details.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadRequest {
    /// The webinar's slug.
    #[schema(schema_with = crate::openapi::params::slug)]
    pub webinar: String,
    #[schema(schema_with = crate::openapi::params::funnel::name)]
    pub name: String,
    #[schema(schema_with = crate::openapi::params::email)]
    pub email: String,
    /// International (`+91 98765 43210`) or national form (`98765 43210`, with
    /// or without a leading 0), read in `country` or else in the country of
    /// `time_zone`.
    #[schema(schema_with = crate::openapi::params::funnel::phone)]
    pub phone: String,
    /// ISO 3166-1 alpha-2, used to read a national phone number.
    #[schema(schema_with = crate::openapi::params::funnel::country, required = false)]
    pub country: Option<String>,
    /// The visitor's IANA time zone.
    #[schema(schema_with = crate::openapi::params::time_zone)]
    pub time_zone: String,
    pub consent: ConsentRequest,
    pub attribution: Option<AttributionRequest>,
    /// From `GET /api/v1/form-token`, when the form was shown.
    pub form_token: Option<String>,
    /// The honeypot: a field people never see. Send it empty or not at all.
    pub website: Option<String>,
    /// The Turnstile or hCaptcha response, when a challenge is configured.
    pub captcha_token: Option<String>,
}

impl LeadRequest {
    /// The fields the bot checks read, taken before the rest is validated.
    fn bot_fields(&mut self) -> BotFields {
        BotFields {
            form_token: self.form_token.take(),
            website: self.website.take(),
            captcha_token: self.captcha_token.take(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeadCreated {
    pub lead_id: Uuid,
    /// Proves the lead in later steps; shown once.
    pub lead_token: String,
}

/// Who made the request, recorded with their consent: the client's address
/// as [`crate::client`] resolved it (behind trusted proxies, the forwarded
/// one).
pub struct ClientMeta {
    address: Option<ClientIp>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let address = parts.extensions.get::<ClientIp>().copied();
        let ip = address.map(|ClientIp(address)| address.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(512).collect());
        Ok(Self {
            address,
            ip,
            user_agent,
        })
    }
}

impl LeadRequest {
    fn validate(self, policy: &PrivacyPolicy, client: ClientMeta) -> Result<NewLead, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let webinar = match self.webinar.trim() {
            "" => errors.field("webinar", Err::<Slug, _>("Choose a webinar")),
            slug => errors.field("webinar", Slug::parse(slug)),
        };
        let name = match self.name.trim() {
            "" => errors.field("name", Err::<Text, _>("Enter your full name")),
            name => errors.field("name", Text::required(name, limits::NAME_CHARS)),
        };
        let email = errors.field("email", Email::parse(&self.email));
        let country = match self.country.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(code) => errors.field("country", Country::parse(code)).map(Some),
        };
        let zone = TimeZone::parse(&self.time_zone);
        // Without a country given, a national number is read as one of the
        // visitor's zone (Asia/Kolkata: India).
        let dialling = country
            .flatten()
            .or_else(|| zone.as_ref().ok().and_then(|zone| Country::of_zone(zone.name())));
        let phone = errors.field("phone", Phone::parse(&self.phone, dialling));
        let time_zone = errors.field("time_zone", zone);
        if !self.consent.privacy_policy {
            errors.push(FieldError::new(
                "consent.privacy_policy",
                "Agree to the privacy policy to continue",
            ));
        }
        let attribution = validate_attribution(self.attribution.unwrap_or_default(), &mut errors);
        match (webinar, name, email, country, phone, time_zone) {
            (Some(webinar), Some(name), Some(email), Some(country), Some(phone), Some(time_zone))
                if errors.is_empty() =>
            {
                Ok(NewLead {
                    webinar,
                    person: Person {
                        name,
                        email,
                        phone,
                        country,
                    },
                    time_zone,
                    consent: Consent {
                        policy_version: policy.version.clone(),
                        policy_sha256: policy.sha256.clone(),
                        sms: self.consent.sms,
                        whatsapp: self.consent.whatsapp,
                        ip: client.ip,
                        user_agent: client.user_agent,
                    },
                    attribution,
                })
            }
            _ => Err(errors),
        }
    }
}

fn validate_attribution(request: AttributionRequest, errors: &mut ValidationErrors) -> Attribution {
    let mut field = |name: &str, value: Option<String>, max: usize| {
        let value = value?;
        errors
            .field(&format!("attribution.{name}"), Text::optional(&value, max))
            .filter(|text| !text.as_str().is_empty())
    };
    Attribution {
        utm_source: field("utm_source", request.utm_source, Attribution::FIELD_CHARS),
        utm_medium: field("utm_medium", request.utm_medium, Attribution::FIELD_CHARS),
        utm_campaign: field("utm_campaign", request.utm_campaign, Attribution::FIELD_CHARS),
        utm_term: field("utm_term", request.utm_term, Attribution::FIELD_CHARS),
        utm_content: field("utm_content", request.utm_content, Attribution::FIELD_CHARS),
        referrer: field("referrer", request.referrer, Attribution::URL_CHARS),
        page: field("page", request.page, Attribution::URL_CHARS),
    }
}

/// Step 1: records the visitor as a lead, so one who drops out is not lost.
#[utoipa::path(
    post,
    path = "/api/v1/leads",
    tag = "funnel",
    request_body = LeadRequest,
    responses(
        (status = 201, body = LeadCreated),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_lead(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(mut request): ApiJson<LeadRequest>,
) -> Result<(StatusCode, Json<LeadCreated>), ApiError> {
    let bot_fields = request.bot_fields();
    let address = client.address;
    let lead = request.validate(&state.settings.privacy_policy, client)?;
    state.limits.signup(&lead.person.email.normalised())?;
    bots::check(&state, &bot_fields, &lead.person.email, address).await?;
    let recorded = state.turnout.record_lead(&lead).await.map_err(lead_error)?;
    Ok((
        StatusCode::CREATED,
        Json(LeadCreated {
            lead_id: recorded.lead_id,
            lead_token: recorded.lead_token.expose().to_owned(),
        }),
    ))
}

pub(crate) fn lead_error(error: LeadError) -> ApiError {
    match error {
        LeadError::WebinarNotFound => ApiError::field("webinar", "No published webinar has this slug"),
        LeadError::Store(error) => error.into(),
    }
}

/// Step 2: a slot plus either the lead from step 1 or the lead's fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    pub slot_id: i64,
    /// With `lead_token`: the lead recorded in step 1.
    pub lead_id: Option<Uuid>,
    pub lead_token: Option<String>,
    /// Without a lead: the fields of step 1, inline.
    pub webinar: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub time_zone: Option<String>,
    pub consent: Option<ConsentRequest>,
    pub attribution: Option<AttributionRequest>,
    /// With the fields inline: from `GET /api/v1/form-token`.
    pub form_token: Option<String>,
    /// With the fields inline: the honeypot, empty.
    pub website: Option<String>,
    /// With the fields inline: the challenge's response, when configured.
    pub captcha_token: Option<String>,
}

/// Either a lead from step 1 (`lead_id` and `lead_token`) or the lead's
/// fields inline, never both: two object shapes.
impl utoipa::PartialSchema for RegistrationRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
        use utoipa::openapi::{KnownFormat, Ref, RefOr, Schema, SchemaFormat};

        use crate::openapi::params::{self, funnel};

        let null = || RefOr::T(Schema::Object(ObjectBuilder::new().schema_type(Type::Null).build()));
        let string = || ObjectBuilder::new().schema_type(Type::String).build();
        let optional_string = || RefOr::T(params::nullable(Schema::Object(string())));
        let inline: [(&str, RefOr<Schema>); 6] = [
            ("webinar", RefOr::T(params::slug())),
            ("name", RefOr::T(funnel::name())),
            ("email", RefOr::T(params::email())),
            ("phone", RefOr::T(funnel::phone())),
            ("time_zone", params::time_zone()),
            ("consent", RefOr::Ref(Ref::from_schema_name("ConsentRequest"))),
        ];
        let either = |known: bool| {
            let lead_id = Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .build(),
            );
            let mut object = ObjectBuilder::new()
                .property(
                    "slot_id",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
                )
                .required("slot_id")
                .property("country", funnel::country())
                .property(
                    "attribution",
                    params::nullable(RefOr::Ref(Ref::from_schema_name("AttributionRequest"))),
                )
                .property("form_token", optional_string())
                .property("website", optional_string())
                .property("captcha_token", optional_string())
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            if known {
                object = object
                    .property("lead_id", lead_id)
                    .required("lead_id")
                    .property("lead_token", string())
                    .required("lead_token");
                for (name, _) in &inline {
                    object = object.property(*name, null());
                }
            } else {
                object = object.property("lead_id", null()).property("lead_token", null());
                for (name, schema) in inline.clone() {
                    object = object.property(name, schema).required(name);
                }
            }
            object
        };
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(either(true))
                .item(either(false))
                .description(Some(
                    "A slot, and either the lead recorded in step 1 or the lead's fields inline",
                ))
                .build(),
        ))
    }
}

impl utoipa::ToSchema for RegistrationRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("RegistrationRequest")
    }
}

impl RegistrationRequest {
    fn has_inline_lead(&self) -> bool {
        self.webinar.is_some()
            || self.name.is_some()
            || self.email.is_some()
            || self.phone.is_some()
            || self.time_zone.is_some()
            || self.consent.is_some()
    }

    fn into_inline_lead(self) -> LeadRequest {
        LeadRequest {
            webinar: self.webinar.unwrap_or_default(),
            name: self.name.unwrap_or_default(),
            email: self.email.unwrap_or_default(),
            phone: self.phone.unwrap_or_default(),
            country: self.country,
            time_zone: self.time_zone.unwrap_or_default(),
            consent: self.consent.unwrap_or_default(),
            attribution: self.attribution,
            form_token: self.form_token,
            website: self.website,
            captcha_token: self.captcha_token,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredWebinar {
    pub slug: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredSlot {
    pub slot_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationView {
    pub registration_id: Uuid,
    /// Only in the response that created the registration: the secret that
    /// opens it later. Turnout keeps only its hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_token: Option<String>,
    #[schema(value_type = String, example = "confirmed")]
    pub status: RegistrationStatus,
    pub webinar: RegisteredWebinar,
    pub slot: RegisteredSlot,
    /// The visitor's zone, which the labels are in.
    pub time_zone: String,
    /// "Friday, 18th April, 6 PM"
    pub label: String,
    /// "Friday, 18th April"
    pub day_label: String,
    /// "6 PM"
    pub time_label: String,
    pub calendar: CalendarLinks,
    /// The registrant's own link to the webinar: before it a page with the
    /// start time, from shortly before the start the meeting itself, after
    /// it the replay. It follows a reschedule and ends with a cancel.
    pub join_link: String,
    /// The callback the visitor asked for in step 3, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consultation: Option<CallbackSummary>,
}

/// The answer to a request for a seat that the address already holds. It
/// says nothing about that registration (whoever sent the request may not
/// own the address); the owner is sent their manage link by email.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlreadyRegistered {
    /// Always `already_registered`.
    #[schema(example = "already_registered")]
    pub status: &'static str,
    /// The webinar the request named.
    pub webinar: RegisteredWebinar,
    pub detail: &'static str,
}

impl AlreadyRegistered {
    const DETAIL: &'static str = "This email address is already registered for this webinar. \
        We are emailing it a link to see, move or cancel that registration.";

    fn new(registration: &Registration) -> Self {
        Self {
            status: "already_registered",
            webinar: RegisteredWebinar {
                slug: registration.webinar.slug.to_string(),
                title: registration.webinar.title.clone(),
            },
            detail: Self::DETAIL,
        }
    }
}

/// The callback window the visitor chose, labelled in their zone.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackSummary {
    pub consultation_id: Uuid,
    /// "Mornings, 8–10 AM"
    pub label: String,
    /// "Monday, 30th November", in the visitor's zone.
    pub day_label: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
}

impl From<&Consultation> for CallbackSummary {
    fn from(consultation: &Consultation) -> Self {
        Self {
            consultation_id: consultation.id,
            label: consultation.window_label.clone(),
            day_label: turnout_domain::labels::day_label(consultation.window_date),
            starts_at: consultation.starts_at,
            ends_at: consultation.ends_at,
        }
    }
}

/// A registration's personal join link.
pub(crate) fn join_url(settings: &crate::Settings, registration: Uuid) -> String {
    settings.link_key.join_link(&settings.public_url, registration)
}

/// The registration's invite for calendar apps: its URL carries the
/// calendar token, which opens the invite and nothing else.
pub(crate) fn calendar_url(settings: &crate::Settings, registration: Uuid) -> String {
    settings.link_key.calendar_link(&settings.public_url, registration)
}

impl RegistrationView {
    pub(crate) fn new(registration: &Registration, settings: &crate::Settings) -> Self {
        let label = local_label(registration.slot.starts_at, &registration.time_zone);
        let start = registration.slot.starts_at;
        let end = start + SignedDuration::from_mins(registration.webinar.duration_minutes);
        let ics = Some(calendar_url(settings, registration.id));
        let join_link = join_url(settings, registration.id);
        let details = format!("Your webinar slot: {}\nJoin: {join_link}", label.full);
        Self {
            registration_id: registration.id,
            manage_token: None,
            status: registration.status,
            webinar: RegisteredWebinar {
                slug: registration.webinar.slug.to_string(),
                title: registration.webinar.title.clone(),
            },
            slot: RegisteredSlot {
                slot_id: registration.slot.id,
                starts_at: start,
                ends_at: end,
            },
            time_zone: registration.time_zone.to_string(),
            calendar: calendar_links(
                ics,
                &EventText {
                    title: &registration.webinar.title,
                    details: &details,
                    start,
                    end,
                },
            ),
            label: label.full,
            day_label: label.day,
            time_label: label.time,
            join_link,
            consultation: None,
        }
    }
}

fn registration_error(error: RegistrationError) -> ApiError {
    match error {
        RegistrationError::LeadNotFound => ApiError::field("lead_token", "No lead matches this lead_id and lead_token"),
        RegistrationError::WebinarNotFound => ApiError::field("webinar", "No published webinar has this slug"),
        RegistrationError::SlotNotFound => ApiError::field("slot_id", "No such slot"),
        RegistrationError::SlotInOtherWebinar => ApiError::field("slot_id", "This slot belongs to another webinar"),
        RegistrationError::SlotClosed => ApiError::SlotClosed,
        RegistrationError::SlotFull => ApiError::SlotFull,
        RegistrationError::NotFound => ApiError::NotFound("registration"),
        RegistrationError::NotConfirmed(status) => ApiError::Conflict {
            kind: crate::error::ProblemType::RegistrationNotConfirmed,
            detail: format!("The registration is {status}"),
        },
        RegistrationError::Store(error) => error.into(),
    }
}

/// Step 2: takes a seat in the slot ("Webinar slot blocked").
///
/// A person who already holds a seat in this webinar is answered 200 with
/// nothing about that seat: the request may come from anyone who knows the
/// address. The address's owner is emailed their manage link instead.
#[utoipa::path(
    post,
    path = "/api/v1/registrations",
    tag = "funnel",
    request_body = RegistrationRequest,
    responses(
        (status = 201, description = "Seat taken", body = RegistrationView),
        (status = 200, description = "The address already holds a seat in this webinar; its owner is emailed the manage link", body = AlreadyRegistered),
        (status = 409, description = "The slot is full or closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_registration(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(request): ApiJson<RegistrationRequest>,
) -> Result<Response, ApiError> {
    let slot_id = request.slot_id;
    let applicant = applicant(&state, client, request).await?;
    let view = match state
        .turnout
        .register(slot_id, applicant)
        .await
        .map_err(registration_error)?
    {
        Registered::Created {
            registration,
            manage_token,
        } => {
            let mut view = RegistrationView::new(&registration, &state.settings);
            view.manage_token = Some(manage_token.expose().to_owned());
            view
        }
        Registered::Existing(registration) => {
            return Ok((StatusCode::OK, Json(AlreadyRegistered::new(&registration))).into_response());
        }
    };
    let status = StatusCode::CREATED;
    let location = format!("/api/v1/registrations/{}", view.registration_id);
    let mut response = (status, Json(view)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Who a seat (or a place on a waiting list) is asked for: the lead of
/// step 1 by id and token, or the lead's fields inline, checked like step 1
/// (the sign-up limit, the bot checks).
pub(crate) async fn applicant(
    state: &AppState,
    client: ClientMeta,
    request: RegistrationRequest,
) -> Result<Applicant, ApiError> {
    let applicant = match (request.lead_id, request.lead_token.as_deref()) {
        (Some(id), Some(token)) if !request.has_inline_lead() => Applicant::Lead(LeadKey {
            id,
            token: SecretToken::from_presented(token).hash(),
        }),
        (None, None) => {
            let mut inline = request.into_inline_lead();
            let bot_fields = inline.bot_fields();
            let address = client.address;
            let lead = inline.validate(&state.settings.privacy_policy, client)?;
            state.limits.signup(&lead.person.email.normalised())?;
            bots::check(state, &bot_fields, &lead.person.email, address).await?;
            Applicant::New(Box::new(lead))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "lead_id",
                "Give either lead_id and lead_token or the lead's fields, not both",
            ));
        }
        (None, Some(_)) => return Err(ApiError::field("lead_id", "Required with lead_token")),
        (Some(_), None) => return Err(ApiError::field("lead_token", "Required with lead_id")),
    };
    Ok(applicant)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The manage token, for links that cannot set a header (the manage
    /// link in emails). Never on a request that changes anything.
    pub token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// The registration's calendar token (in `calendar.ics` links), which
    /// opens the invite and nothing else.
    pub token: Option<String>,
}

/// The manage token from `Authorization: Bearer`, or for reads from
/// `?token=`. Anything missing or wrong answers 404, so a registration's
/// existence is not revealed to someone without its token.
fn manage_key(id: &str, headers: &HeaderMap, query: Option<TokenQuery>) -> Result<ManageKey, ApiError> {
    let not_found = || ApiError::NotFound("registration");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let token = bearer_token(headers)
        .or_else(|| query.and_then(|query| query.token).map(SecretToken::from_presented))
        .ok_or_else(not_found)?;
    Ok(ManageKey {
        id,
        token: token.hash(),
    })
}

/// The manage token of a request that changes a registration: only in the
/// `Authorization` header, never in a URL that logs, proxies and browser
/// histories keep.
fn changing_key(id: &str, headers: &HeaderMap, uri: &axum::http::Uri) -> Result<ManageKey, ApiError> {
    refuse_token_in_url(uri)?;
    manage_key(id, headers, None)
}

/// Refuses a token in the URL of a request that changes something: only
/// the `Authorization` header, never a URL that logs, proxies and browser
/// histories keep.
pub(crate) fn refuse_token_in_url(uri: &axum::http::Uri) -> Result<(), ApiError> {
    let in_url = uri.query().is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair == "token" || pair.starts_with("token="))
    });
    if in_url {
        return Err(ApiError::field(
            "token",
            "Send the token as Authorization: Bearer, not in the URL",
        ));
    }
    Ok(())
}

/// A registration, opened with its manage token: the webinar slot and, once
/// asked for, the callback window, both labelled in the visitor's zone.
#[utoipa::path(
    get,
    path = "/api/v1/registrations/{id}",
    tag = "funnel",
    params(("id" = Uuid, Path), TokenQuery),
    security(("manage_token" = [])),
    responses(
        (status = 200, body = RegistrationView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_registration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Json<RegistrationView>, ApiError> {
    let key = manage_key(&id, &headers, Some(query))?;
    let registration = state
        .store
        .find_registration(&key)
        .await?
        .ok_or(ApiError::NotFound("registration"))?;
    let consultation = state.store.consultation_of_registration(registration.id).await?;
    let mut view = RegistrationView::new(&registration, &state.settings);
    view.consultation = consultation.as_ref().map(CallbackSummary::from);
    Ok(Json(view))
}

/// Spends one of the registration's changes for the day, once its manage
/// token is known to open it: nobody without the token can use up the
/// owner's.
async fn spend_change(state: &AppState, key: &ManageKey) -> Result<(), ApiError> {
    if !state.limits.limits_changes() {
        return Ok(());
    }
    state
        .store
        .find_registration(key)
        .await?
        .ok_or(ApiError::NotFound("registration"))?;
    state.limits.change(key.id)
}

/// Cancels a registration: the one path the API and the manage page share.
pub(crate) async fn cancel(state: &AppState, key: &ManageKey) -> Result<Registration, ApiError> {
    spend_change(state, key).await?;
    state.turnout.cancel(key).await.map_err(registration_error)
}

/// Moves a registration to another slot: the one path the API and the
/// manage page share.
pub(crate) async fn reschedule(state: &AppState, key: &ManageKey, slot_id: i64) -> Result<Registration, ApiError> {
    spend_change(state, key).await?;
    state.turnout.reschedule(key, slot_id).await.map_err(registration_error)
}

/// Cancels the registration and frees its seat. Cancelling again is harmless.
#[utoipa::path(
    post,
    path = "/api/v1/registrations/{id}/cancel",
    tag = "funnel",
    params(("id" = Uuid, Path)),
    security(("manage_token" = [])),
    responses(
        (status = 200, body = RegistrationView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The manage token was sent in the URL", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The registration's changes for the day are used up", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_registration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Json<RegistrationView>, ApiError> {
    let key = changing_key(&id, &headers, &uri)?;
    let registration = cancel(&state, &key).await?;
    Ok(Json(RegistrationView::new(&registration, &state.settings)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    /// Another slot of the same webinar.
    pub slot_id: i64,
}

/// Moves the seat to another slot of the same webinar, atomically: when the
/// target is full the registration keeps its current seat.
#[utoipa::path(
    post,
    path = "/api/v1/registrations/{id}/reschedule",
    tag = "funnel",
    params(("id" = Uuid, Path)),
    request_body = RescheduleRequest,
    security(("manage_token" = [])),
    responses(
        (status = 200, body = RegistrationView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The registration's changes for the day are used up", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reschedule_registration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RescheduleRequest>,
) -> Result<Json<RegistrationView>, ApiError> {
    let key = changing_key(&id, &headers, &uri)?;
    let registration = reschedule(&state, &key, request.slot_id).await?;
    Ok(Json(RegistrationView::new(&registration, &state.settings)))
}

/// The registration as an RFC 5545 invite, opened with its calendar token
/// (`?token=`, as in the `calendar.ics` links Turnout hands out) or the
/// manage token as a bearer credential.
#[utoipa::path(
    get,
    path = "/api/v1/registrations/{id}/calendar.ics",
    tag = "funnel",
    params(("id" = Uuid, Path), CalendarQuery),
    security(("manage_token" = []), ()),
    responses(
        (status = 200, content_type = "text/calendar", body = String),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn registration_calendar(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<CalendarQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = match (query.token, Uuid::parse_str(&id)) {
        (Some(token), Ok(id)) if state.settings.link_key.is_calendar_token(id, &token) => ManageKey {
            id,
            token: state.settings.link_key.manage_token(id).hash(),
        },
        (Some(_), _) => return Err(ApiError::NotFound("registration")),
        (None, _) => manage_key(&id, &headers, None)?,
    };
    let registration = state
        .store
        .find_registration(&key)
        .await?
        .ok_or(ApiError::NotFound("registration"))?;
    let label = local_label(registration.slot.starts_at, &registration.time_zone);
    let uid = format!("{}@turnout", registration.id);
    // The manage page without its token: a calendar entry is shared far
    // more freely than the email that carries the token.
    let manage_url = format!("{}/registrations/{}", state.settings.public_url, registration.id);
    let join_link = join_url(&state.settings, registration.id);
    let description = format!(
        "Your webinar slot: {}.\nJoin: {join_link}\nManage your registration: {manage_url}",
        label.full
    );
    let ics = Invite {
        uid: &uid,
        sequence: u32::try_from(registration.sequence).unwrap_or(u32::MAX),
        stamp: registration.updated_at,
        start: registration.slot.starts_at,
        end: registration.slot.starts_at + SignedDuration::from_mins(registration.webinar.duration_minutes),
        summary: &registration.webinar.title,
        description: &description,
        location: Some(&join_link),
        url: Some(&join_link),
        cancelled: registration.status == RegistrationStatus::Cancelled,
        itip: None,
    }
    .to_ics();
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"webinar.ics\""),
        ],
        ics,
    )
        .into_response())
}
