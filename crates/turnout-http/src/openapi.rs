//! The OpenAPI 3.1 document, generated from the same router that serves the
//! API: a route cannot exist without its documentation.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::routes::{admin, advisor, ops, public};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Turnout",
        description = "The lead funnel of a career-coaching site: webinars, slots in the visitor's time zone, \
                       leads and registrations. Errors are RFC 9457 `application/problem+json` with a stable `type`.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerSchemes),
    tags(
        (name = "webinars", description = "The public catalogue"),
        (name = "funnel", description = "Leads, registrations, callback requests and managing them"),
        (name = "articles", description = "Published articles, and writing them (an editor or admin token)"),
        (name = "advisor", description = "A program advisor's own queue; needs an advisor token"),
        (name = "admin", description = "Organiser API; needs an admin token"),
        (name = "operations", description = "Health and readiness"),
        (name = "webhooks", description = "What Turnout POSTs to the webhook endpoints an admin registers"),
        (name = "hooks", description = "Callbacks from the messaging providers Turnout sends through, signed by them"),
    )
)]
struct ApiDoc;

struct BearerSchemes;

impl Modify for BearerSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("admin_token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("manage_token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("lead_token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("advisor_token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("editor_token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// Every documented route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .merge(public::router())
        .merge(advisor::router())
        .merge(admin::router())
}

/// Values of query parameters the server checks more narrowly than their
/// Rust type says, as component schemas (`#[param(value_type = …)]`), so
/// that a client generated from the document sends only what is accepted.
pub mod params {
    use std::borrow::Cow;

    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::{PartialSchema, ToSchema};

    fn one_of<S: Into<String>>(description: &str, values: impl IntoIterator<Item = S>) -> RefOr<Schema> {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
                .enum_values(Some(values))
                .build(),
        ))
    }

    macro_rules! value_schema {
        ($(#[$meta:meta])* $name:ident => $schema:expr) => {
            $(#[$meta])*
            pub struct $name;

            impl PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    $schema
                }
            }

            impl ToSchema for $name {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($name))
                }
            }
        };
    }

    value_schema!(
        /// A consultation's status.
        ConsultationStatusName => one_of(
            "A consultation's status",
            turnout_domain::ConsultationStatus::ALL.iter().map(|s| s.as_str())
        )
    );
    value_schema!(
        /// A registration's status.
        RegistrationStatusName => one_of(
            "A registration's status",
            turnout_domain::RegistrationStatus::ALL.iter().map(|s| s.as_str())
        )
    );
    value_schema!(
        /// Whether a registrant opened their join link inside the window.
        AttendanceName => one_of(
            "Whether a registrant opened their join link inside the window",
            ["joined", "not_joined"]
        )
    );
    value_schema!(
        /// A delivery's state in the ledger.
        DeliveryStatusName => one_of("A delivery's state in the ledger", turnout_store::DELIVERY_STATUSES)
    );
    value_schema!(
        /// How a delivery travels.
        ChannelName => one_of(
            "How a delivery travels",
            turnout_store::Channel::ALL.map(turnout_store::Channel::as_str)
        )
    );
    value_schema!(
        /// Every region name of the bundled tz database that Turnout accepts.
        TimeZoneName => one_of("An IANA time zone name, e.g. `Asia/Kolkata`", {
            let mut names: Vec<String> = jiff::tz::db()
                .available()
                .map(|name| name.as_str().to_owned())
                .filter(|name| turnout_domain::TimeZone::parse(name).is_ok())
                .collect();
            names.sort();
            names
        })
    );

    /// Characters a one-line text refuses: control characters and the
    /// bidirectional controls (see `turnout_domain::Text`).
    const NOT_IN_A_LINE: &str = "\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069";

    fn text(pattern: String, min: usize, max: usize) -> Schema {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(min))
                .max_length(Some(max))
                .pattern(Some(pattern))
                .build(),
        )
    }

    /// One line with something in it, at most `max` characters.
    fn line(max: usize) -> Schema {
        text(
            format!("^[^{NOT_IN_A_LINE}]*[^\\s{NOT_IN_A_LINE}][^{NOT_IN_A_LINE}]*$"),
            1,
            max,
        )
    }

    /// One line, perhaps empty.
    fn optional_line(max: usize) -> Schema {
        text(format!("^[^{NOT_IN_A_LINE}]*$"), 0, max)
    }

    /// What several lines may not hold: control characters but newlines
    /// and tabs, and the bidirectional controls.
    fn not_in_lines() -> String {
        NOT_IN_A_LINE.replace("\\u0000-\\u001F", "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F")
    }

    /// Several lines, perhaps empty: newlines and tabs are kept.
    fn optional_lines(max: usize) -> Schema {
        text(format!("^[^{}]*$", not_in_lines()), 0, max)
    }

    /// Several lines with something in them.
    fn lines(max: usize) -> Schema {
        let forbidden = not_in_lines();
        text(format!("^[^{forbidden}]*[^\\s{forbidden}][^{forbidden}]*$"), 1, max)
    }

    fn array_between(items: impl Into<RefOr<Schema>>, count: std::ops::RangeInclusive<usize>) -> Schema {
        Schema::Array(
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(items.into())
                .min_items(Some(*count.start()))
                .max_items(Some(*count.end()))
                .build(),
        )
    }

    fn array(items: impl Into<RefOr<Schema>>, max: usize) -> Schema {
        Schema::Array(
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(items.into())
                .max_items(Some(max))
                .build(),
        )
    }

    fn integer(range: std::ops::RangeInclusive<i64>) -> Schema {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(*range.start()))
                .maximum(Some(*range.end()))
                .build(),
        )
    }

    use turnout_domain::webinar::limits;

    /// 1 to 80 lowercase letters, digits and single hyphens.
    pub fn slug() -> Schema {
        text("^[a-z0-9]+(-[a-z0-9]+)*$".to_owned(), 1, turnout_domain::Slug::MAX_LEN)
    }

    pub fn webinar_title() -> Schema {
        line(limits::TITLE_CHARS)
    }

    pub fn webinar_summary() -> Schema {
        optional_lines(limits::SUMMARY_CHARS)
    }

    pub fn host_name() -> Schema {
        line(limits::NAME_CHARS)
    }

    pub fn host_title() -> Schema {
        optional_line(limits::TITLE_CHARS)
    }

    pub fn highlight() -> Schema {
        line(limits::HIGHLIGHT_CHARS)
    }

    pub fn highlights() -> Schema {
        Schema::Array(
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(RefOr::T(highlight()))
                .max_items(Some(limits::HIGHLIGHTS))
                .build(),
        )
    }

    pub fn hosts() -> Schema {
        Schema::Array(
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(utoipa::openapi::Ref::from_schema_name("HostRequest"))
                .max_items(Some(limits::HOSTS))
                .build(),
        )
    }

    pub fn webinar_status() -> RefOr<Schema> {
        one_of(
            "`draft`, `published` or `archived`",
            turnout_domain::WebinarStatus::ALL.iter().map(|s| s.as_str()),
        )
    }

    pub fn slot_status() -> RefOr<Schema> {
        one_of(
            "`open` or `closed`",
            turnout_domain::SlotStatus::ALL.iter().map(|s| s.as_str()),
        )
    }

    pub fn duration_minutes() -> Schema {
        integer(limits::DURATION_MINUTES)
    }

    pub fn capacity() -> Schema {
        integer(limits::CAPACITY)
    }

    /// `schema`, or null: an optional field may be sent as null. A plain
    /// object schema gets `null` among its types (what schemathesis reads
    /// best); anything else becomes `oneOf: [schema, null]`.
    pub fn nullable(schema: impl Into<RefOr<Schema>>) -> Schema {
        let schema = schema.into();
        if let RefOr::T(Schema::Object(mut object)) = schema {
            if let utoipa::openapi::schema::SchemaType::Type(own) = object.schema_type {
                object.schema_type = utoipa::openapi::schema::SchemaType::from_iter([own, Type::Null]);
                // An enum lists every value the field takes, null included.
                if let Some(values) = object.enum_values.as_mut() {
                    values.push(serde_json::Value::Null);
                }
                return Schema::Object(object);
            }
            return one_of_null(RefOr::T(Schema::Object(object)));
        }
        one_of_null(schema)
    }

    fn one_of_null(schema: RefOr<Schema>) -> Schema {
        Schema::OneOf(
            utoipa::openapi::schema::OneOfBuilder::new()
                .item(schema)
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .build(),
        )
    }

    macro_rules! nullable_versions {
        ($($nullable:ident => $schema:ident),+ $(,)?) => {
            $(
                pub fn $nullable() -> Schema {
                    nullable($schema())
                }
            )+
        };
    }

    nullable_versions!(
        nullable_webinar_title => webinar_title,
        nullable_webinar_summary => webinar_summary,
        nullable_time_zone => time_zone,
        nullable_duration_minutes => duration_minutes,
        nullable_hosts => hosts,
        nullable_highlights => highlights,
        nullable_webinar_status => webinar_status,
        nullable_slot_status => slot_status,
        nullable_capacity => capacity,
    );

    /// `HH:MM`, 24-hour (`turnout_domain::civil::parse_clock`).
    pub fn clock() -> Schema {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(turnout_domain::civil::CLOCK_PATTERN))
                .build(),
        )
    }

    /// `YYYY-MM-DD` (`turnout_domain::civil::parse_date`).
    pub fn date() -> Schema {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Date,
                )))
                .pattern(Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
                .build(),
        )
    }

    /// A weekday's English name, full or in three letters, any case.
    pub fn weekday() -> Schema {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(turnout_domain::consultation::weekday_pattern()))
                .build(),
        )
    }

    pub fn weekdays() -> Schema {
        Schema::Array(
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(RefOr::T(weekday()))
                .min_items(Some(1))
                .build(),
        )
    }

    pub fn recurrence_count() -> Schema {
        integer(1..=i64::try_from(turnout_domain::schedule::Recurrence::MAX_COUNT).unwrap_or(i64::MAX))
    }

    /// An email address (`turnout_domain::Email`): a domain with a dot.
    pub fn email() -> Schema {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Email,
                )))
                .pattern(Some("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"))
                .max_length(Some(turnout_domain::Email::MAX_LEN))
                .build(),
        )
    }

    /// An http(s) URL; whether its host is allowed is decided when it is
    /// resolved.
    pub fn webhook_url() -> Schema {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::Custom("uri".into())))
                .pattern(Some("^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\\s]+([/?#]\\S*)?$"))
                .build(),
        )
    }

    /// A meeting's or a recording's https address (`turnout_domain::MeetingUrl`).
    pub fn meeting_url() -> Schema {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::Custom("uri".into())))
                .pattern(Some("^\\s*[Hh][Tt][Tt][Pp][Ss]://[^/?#@\\s]+([/?#]\\S*)?\\s*$"))
                .max_length(Some(turnout_domain::MeetingUrl::MAX_LEN))
                .build(),
        )
    }

    pub fn nullable_meeting_url() -> Schema {
        nullable(meeting_url())
    }

    pub fn nullable_webhook_url() -> Schema {
        nullable(webhook_url())
    }

    pub fn webhook_description() -> Schema {
        optional_line(crate::routes::admin::webhooks::DESCRIPTION_CHARS)
    }

    pub fn nullable_webhook_description() -> Schema {
        nullable(webhook_description())
    }

    /// The visitor's details in step 1, inline in step 2 too.
    pub mod funnel {
        use turnout_domain::Attribution;
        use turnout_domain::webinar::limits;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{RefOr, Schema};

        use super::{line, nullable, optional_line};

        pub fn name() -> Schema {
            line(limits::NAME_CHARS)
        }

        /// Digits as people type them; whether the number exists is
        /// decided with the country's numbering plan.
        pub fn phone() -> Schema {
            Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(32))
                    .build(),
            )
        }

        /// ISO 3166-1 alpha-2, any case; empty for none.
        pub fn country() -> Schema {
            nullable(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^\\s*([A-Za-z]{2})?\\s*$"))
                    .build(),
            ))
        }

        /// `true`: the visitor agrees to the privacy policy.
        pub fn agreed() -> RefOr<Schema> {
            RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .enum_values(Some([true]))
                    .description(Some("Must be `true`"))
                    .build(),
            ))
        }

        pub fn utm() -> Schema {
            nullable(optional_line(Attribution::FIELD_CHARS))
        }

        pub fn url() -> Schema {
            nullable(optional_line(Attribution::URL_CHARS))
        }
    }

    /// The callback team: advisors and the windows visitors choose from.
    pub mod callbacks {
        use utoipa::openapi::{Ref, Schema};

        use super::{array_between, integer, line, slug};
        use turnout_domain::consultation::limits;

        pub fn advisor_name() -> Schema {
            line(limits::ADVISOR_NAME_CHARS)
        }

        pub fn availability() -> Schema {
            array_between(Ref::from_schema_name("RangeRequest"), limits::RANGES)
        }

        pub fn max_calls_per_window() -> Schema {
            integer(limits::CALLS_PER_WINDOW)
        }

        pub fn days_ahead() -> Schema {
            integer(limits::DAYS_AHEAD)
        }

        pub fn windows() -> Schema {
            array_between(Ref::from_schema_name("WindowDefinitionBody"), limits::WINDOWS)
        }

        pub fn window_key() -> Schema {
            slug()
        }

        pub fn window_name() -> Schema {
            line(limits::WINDOW_NAME_CHARS)
        }
    }

    /// Articles, as `turnout_domain::article` checks them.
    pub mod article {
        use turnout_domain::article::{ArticleStatus, ContributorRole, limits};
        use utoipa::openapi::{Ref, RefOr, Schema};

        use super::{array, line, lines, nullable, one_of, optional_lines};

        pub fn title() -> Schema {
            line(limits::TITLE_CHARS)
        }

        pub fn summary() -> Schema {
            optional_lines(limits::SUMMARY_CHARS)
        }

        pub fn body() -> Schema {
            lines(limits::BODY_CHARS)
        }

        pub fn contributors() -> Schema {
            array(Ref::from_schema_name("ContributorRequest"), limits::CONTRIBUTORS)
        }

        pub fn contributor_name() -> Schema {
            line(limits::NAME_CHARS)
        }

        pub fn contributor_role() -> RefOr<Schema> {
            one_of(
                "`author`, `guided_by` or `reviewed_by`",
                ContributorRole::ALL.iter().map(|role| role.as_str()),
            )
        }

        pub fn bio() -> Schema {
            optional_lines(limits::BIO_CHARS)
        }

        pub fn tags() -> Schema {
            array(super::slug(), limits::TAGS)
        }

        pub fn faq() -> Schema {
            array(Ref::from_schema_name("FaqRequest"), limits::FAQ_ENTRIES)
        }

        pub fn question() -> Schema {
            line(limits::QUESTION_CHARS)
        }

        pub fn answer() -> Schema {
            lines(limits::ANSWER_CHARS)
        }

        pub fn status() -> RefOr<Schema> {
            one_of(
                "`draft` or `published`",
                ArticleStatus::ALL.iter().map(|status| status.as_str()),
            )
        }

        pub fn nullable_webinar() -> Schema {
            nullable(super::slug())
        }

        macro_rules! nullable_versions {
            ($($nullable:ident => $schema:ident),+ $(,)?) => {
                $(
                    pub fn $nullable() -> Schema {
                        nullable($schema())
                    }
                )+
            };
        }

        nullable_versions!(
            nullable_title => title,
            nullable_summary => summary,
            nullable_body => body,
            nullable_contributors => contributors,
            nullable_tags => tags,
            nullable_faq => faq,
            nullable_status => status,
        );
    }

    /// Event types a webhook endpoint may subscribe to.
    pub fn subscribable_event_types() -> Schema {
        Schema::Array(
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(one_of(
                    "An event type a webhook endpoint may subscribe to",
                    turnout_store::events::EVENT_TYPES,
                ))
                .build(),
        )
    }

    pub fn nullable_subscribable_event_types() -> Schema {
        nullable(subscribable_event_types())
    }

    /// A token's label: one line, at most 120 characters, or null for the
    /// role's default.
    pub fn token_label() -> Schema {
        nullable(line(crate::routes::admin::tokens::LABEL_CHARS))
    }

    /// Every problem `type`, from `ProblemType`.
    pub fn problem_type() -> Schema {
        let uris: Vec<String> = crate::error::ProblemType::ALL.iter().map(|t| t.uri()).collect();
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "Stable identifier of the kind of problem, e.g. `/problems/slot-full`",
                ))
                .enum_values(Some(uris))
                .build(),
        )
    }

    /// A time zone field of a request body.
    pub fn time_zone() -> RefOr<Schema> {
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name(TimeZoneName::name()))
    }

    /// The components above, to add to the document.
    pub(super) fn components() -> [(Cow<'static, str>, RefOr<Schema>); 6] {
        [
            (ConsultationStatusName::name(), ConsultationStatusName::schema()),
            (RegistrationStatusName::name(), RegistrationStatusName::schema()),
            (AttendanceName::name(), AttendanceName::schema()),
            (DeliveryStatusName::name(), DeliveryStatusName::schema()),
            (ChannelName::name(), ChannelName::schema()),
            (TimeZoneName::name(), TimeZoneName::schema()),
        ]
    }
}

/// The router and its document, with the problems every operation of a
/// kind can answer declared once (see [`declare_common_problems`]).
pub fn split() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (api, mut doc) = router().split_for_parts();
    declare_common_problems(&mut doc);
    (api, doc)
}

/// The document alone, as served at `/openapi.json`.
pub fn spec() -> utoipa::openapi::OpenApi {
    split().1
}

/// The webhook calls Turnout makes, one per event type an endpoint can
/// subscribe to: a POST of `{type, timestamp, event_id, data}` signed the
/// Standard Webhooks way, `data` being the event's payload struct.
fn declare_webhooks(doc: &mut utoipa::openapi::OpenApi) {
    use turnout_store::events::{EventType, payload_schemas};
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{Content, PathsBuilder, Ref, ResponseBuilder};

    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in payload_schemas() {
        components.schemas.insert(name, schema);
    }
    let mut webhooks = PathsBuilder::new();
    for event_type in EventType::ALL.into_iter().filter(|t| t.subscribable()) {
        let envelope = ObjectBuilder::new()
            .property(
                "type",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([event_type.as_str()])),
            )
            .required("type")
            .property(
                "timestamp",
                ObjectBuilder::new().schema_type(Type::String).format(Some(
                    utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime),
                )),
            )
            .required("timestamp")
            .property(
                "event_id",
                ObjectBuilder::new().schema_type(Type::String).format(Some(
                    utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid),
                )),
            )
            .required("event_id")
            .property("data", Ref::from_schema_name(event_type.payload_schema()))
            .required("data");
        let operation = OperationBuilder::new()
            .summary(Some(format!("`{}`, sent to subscribed endpoints", event_type.as_str())))
            .description(Some(
                "Signed with the endpoint's secret as Standard Webhooks do (`webhook-id`, \
                 `webhook-timestamp`, `webhook-signature`); any 2xx acknowledges it, anything else is retried \
                 with backoff.",
            ))
            .tag("webhooks")
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", Content::new(Some(envelope)))
                    .build(),
            ))
            .response("2XX", ResponseBuilder::new().description("Received").build())
            .build();
        webhooks = webhooks.path(event_type.as_str(), PathItem::new(HttpMethod::Post, operation));
    }
    doc.webhooks = Some(webhooks.build());
}

/// Problems that answer whole groups of operations, declared once as
/// components and referenced from every operation they apply to (unless an
/// operation documents that status itself):
/// - 400 wherever a path, a query string or a body is parsed;
/// - 413 and 415 wherever a JSON body is expected;
/// - 401 and 403 wherever a credential is required;
/// - 429 on every public write, which the middleware limits per client;
/// - 503 everywhere: the server sheds load and the database can be away.
fn declare_common_problems(doc: &mut utoipa::openapi::OpenApi) {
    use axum::http::Method;
    use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

    const COMMON: [(&str, &str, &str); 7] = [
        ("400", "Malformed", "The path, query string or body could not be parsed"),
        (
            "413",
            "PayloadTooLarge",
            "The body is larger than the operation takes: 64 KiB of JSON (1 MiB for articles)",
        ),
        (
            "415",
            "UnsupportedMediaType",
            "The body is not sent as `application/json`",
        ),
        ("401", "Unauthorized", "No valid credential was sent"),
        ("403", "Forbidden", "The credential may not do this"),
        (
            "429",
            "RateLimited",
            "Over a rate limit; retry after `Retry-After` seconds",
        ),
        (
            "503",
            "Unavailable",
            "Overloaded, or the database is unreachable; retry after `Retry-After` seconds",
        ),
    ];
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in params::components() {
        components.schemas.insert(name.into_owned(), schema);
    }
    // Referenced only through `params` functions, so not collected by themselves.
    fn insert<T: utoipa::ToSchema>(schemas: &mut std::collections::BTreeMap<String, RefOr<utoipa::openapi::Schema>>) {
        schemas.insert(T::name().into_owned(), T::schema());
    }
    insert::<admin::webinars::HostRequest>(&mut components.schemas);
    insert::<admin::articles::ContributorRequest>(&mut components.schemas);
    insert::<admin::articles::FaqRequest>(&mut components.schemas);
    insert::<admin::callbacks::RangeRequest>(&mut components.schemas);
    insert::<admin::callbacks::WindowDefinitionBody>(&mut components.schemas);
    insert::<admin::webinars::RecurrenceRequest>(&mut components.schemas);
    for (_, name, description) in COMMON {
        let problem = Content::new(Some(Ref::from_schema_name("Problem")));
        let response = ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", problem)
            .build();
        components.responses.insert(name.to_owned(), RefOr::T(response));
    }
    declare_webhooks(doc);
    for (path, item) in &mut doc.paths.paths {
        let operations = [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let limited = crate::limits::is_public_write_to(&method, path);
            let parses =
                operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) || operation.request_body.is_some();
            let json_body = match &operation.request_body {
                Some(RefOr::T(body)) => body.content.contains_key("application/json"),
                _ => false,
            };
            // An empty requirement in the list makes the credential optional.
            let secured = operation.security.as_ref().is_some_and(|requirements| {
                !requirements.is_empty()
                    && requirements
                        .iter()
                        .all(|r| serde_json::to_value(r).is_ok_and(|v| v != serde_json::json!({})))
            });
            for (status, name, _) in COMMON {
                let applies = match status {
                    "400" => parses,
                    "413" | "415" => json_body,
                    "401" | "403" => secured,
                    "429" => limited,
                    _ => true,
                };
                if applies && !operation.responses.responses.contains_key(status) {
                    operation
                        .responses
                        .responses
                        .insert(status.to_owned(), RefOr::Ref(Ref::from_response_name(name)));
                }
            }
        }
    }
}
