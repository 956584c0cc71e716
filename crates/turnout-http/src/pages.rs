//! The pages visitors read, rendered on the server from MiniJinja
//! templates: the webinars (`/`), a webinar with the registration widget,
//! an article with its JSON-LD and the widget, and the manage page opened
//! from the link in every email. Public pages are kept in memory for a
//! short while and served with an `ETag`, like the Content API; the manage
//! page carries a secret and is never cached.

use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};
use std::time::{Duration, Instant};

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use minijinja::Environment;
use serde::Deserialize;
use serde_json::{Value, json};
use turnout_domain::article::{ArticleStatus, ContributorRole, reading_time_label};
use turnout_domain::labels::local_label;
use turnout_domain::{RegistrationStatus, SecretToken, Slug, TimeZone};
use turnout_store::{Article, ArticleFilter, ManageKey, WebinarListing};
use uuid::Uuid;

use crate::AppState;
use crate::caching::{PUBLISHED, Tagged, conditional};
use crate::error::ApiError;
use crate::routes::now;
use crate::routes::public::{funnel, waitlist};
use turnout_app::Joining;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/pages/base.html")),
    ("home.html", include_str!("../templates/pages/home.html")),
    ("widget.html", include_str!("../templates/pages/widget.html")),
    ("webinar.html", include_str!("../templates/pages/webinar.html")),
    ("article.html", include_str!("../templates/pages/article.html")),
    ("manage.html", include_str!("../templates/pages/manage.html")),
    ("waitlist.html", include_str!("../templates/pages/waitlist.html")),
    ("join.html", include_str!("../templates/pages/join.html")),
    ("not_found.html", include_str!("../templates/pages/not_found.html")),
    ("privacy.html", include_str!("../templates/pages/privacy.html")),
];

const SITE_CSS: &str = include_str!("../static/site.css");
const WIDGET_JS: &str = include_str!("../static/widget.js");
const LOCAL_TIME_JS: &str = include_str!("../static/local-time.js");
const FAVICON: &str = include_str!("../static/favicon.svg");

const HTML: &str = "text/html; charset=utf-8";
/// Static assets change only with a new binary, whose ETag differs.
const ASSETS: &str = "public, max-age=3600";
/// How long an article page is kept in memory; edits through this
/// instance replace it at once.
pub(crate) const ARTICLE_TTL: Duration = Duration::from_secs(30);

pub struct Pages {
    env: Environment<'static>,
    cache: RwLock<HashMap<String, (Instant, Duration, Tagged)>>,
}

impl Pages {
    pub fn new() -> Self {
        let mut env = turnout_delivery::templates::environment();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).expect("page templates parse");
        }
        Self {
            env,
            cache: RwLock::default(),
        }
    }

    fn render(&self, name: &str, context: Value) -> Result<Vec<u8>, ApiError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(context))
            .map(String::into_bytes)
            .map_err(|error| ApiError::Internal(format!("page {name}: {error:#}").into()))
    }

    pub(crate) fn cached(&self, key: &str) -> Option<Tagged> {
        let cache = self.cache.read().expect("page cache lock");
        let (built, ttl, page) = cache.get(key)?;
        (built.elapsed() < *ttl).then(|| page.clone())
    }

    pub(crate) fn keep(&self, key: &str, ttl: Duration, page: Tagged) {
        self.cache
            .write()
            .expect("page cache lock")
            .insert(key.to_owned(), (Instant::now(), ttl, page));
    }

    /// Forgets a page, its Content API twin (`/api/v1` + path) and the
    /// home page, which lists it, after a change.
    pub fn forget(&self, path: &str) {
        let mut cache = self.cache.write().expect("page cache lock");
        cache.remove(path);
        cache.remove(&format!("/api/v1{path}"));
        cache.remove("/");
    }

    /// Forgets every page: a webinar shows on its own page, the home page
    /// and the articles that invite to it.
    pub fn forget_all(&self) {
        self.cache.write().expect("page cache lock").clear();
    }
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/webinars/{slug}", get(webinar_page))
        .route("/articles/{slug}", get(article_page))
        .route("/privacy", get(privacy_page))
        .route("/registrations/{id}", get(manage_page))
        .route("/registrations/{id}/cancel", post(cancel))
        .route("/registrations/{id}/reschedule", post(reschedule))
        .route("/registrations/{id}/cancel-call", post(cancel_call))
        .route("/join/{token}", get(join))
        .route("/waitlist/{id}", get(waitlist_page))
        .route("/waitlist/{id}/claim", post(claim_offer))
        .route("/waitlist/{id}/leave", post(leave_waitlist))
        .route("/static/site.css", get(site_css))
        .route("/static/widget.js", get(widget_js))
        .route("/static/local-time.js", get(local_time_js))
        .route("/static/favicon.svg", get(favicon))
        .route("/static/brand.css", get(brand_css))
        .route("/static/logo.{extension}", get(logo))
        // Browsers ask for it whatever the page says.
        .route("/favicon.ico", get(favicon))
        .with_state(state)
}

/// The assets, hashed once per process.
static SITE_CSS_TAGGED: LazyLock<Tagged> = LazyLock::new(|| Tagged::kept(SITE_CSS.as_bytes()));
static WIDGET_JS_TAGGED: LazyLock<Tagged> = LazyLock::new(|| Tagged::kept(WIDGET_JS.as_bytes()));
static LOCAL_TIME_JS_TAGGED: LazyLock<Tagged> = LazyLock::new(|| Tagged::kept(LOCAL_TIME_JS.as_bytes()));
static FAVICON_TAGGED: LazyLock<Tagged> = LazyLock::new(|| Tagged::kept(FAVICON.as_bytes()));

async fn site_css(headers: HeaderMap) -> Response {
    conditional(&headers, "text/css; charset=utf-8", ASSETS, &SITE_CSS_TAGGED)
}

async fn widget_js(headers: HeaderMap) -> Response {
    conditional(&headers, "text/javascript; charset=utf-8", ASSETS, &WIDGET_JS_TAGGED)
}

async fn local_time_js(headers: HeaderMap) -> Response {
    conditional(
        &headers,
        "text/javascript; charset=utf-8",
        ASSETS,
        &LOCAL_TIME_JS_TAGGED,
    )
}

/// The configured accent as CSS; 404 without one.
async fn brand_css(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(accent) = &state.settings.brand.accent else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tagged = Tagged::kept(crate::brand::stylesheet(accent));
    conditional(&headers, "text/css; charset=utf-8", ASSETS, &tagged)
}

/// The configured logo, under the extension its bytes say. An SVG may not
/// run anything, even opened on its own.
async fn logo(State(state): State<AppState>, Path(extension): Path<String>, headers: HeaderMap) -> Response {
    let Some(logo) = state
        .settings
        .brand
        .logo
        .as_ref()
        .filter(|logo| logo.extension == extension)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tagged = Tagged::kept(logo.bytes.clone());
    let mut response = conditional(&headers, logo.content_type, ASSETS, &tagged);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    response
}

async fn favicon(headers: HeaderMap) -> Response {
    conditional(&headers, "image/svg+xml", ASSETS, &FAVICON_TAGGED)
}

/// How many registered, when there are enough to encourage a visitor.
fn social_proof(settings: &crate::Settings, registrations: i64) -> Option<i64> {
    u64::try_from(registrations)
        .is_ok_and(|count| count >= settings.social_proof_min)
        .then_some(registrations)
}

/// What every page's layout needs.
fn layout(state: &AppState, path: &str, title: &str, description: &str) -> Value {
    let brand = &state.settings.brand;
    let site_name = brand.site_name.as_str();
    json!({
        "site_name": site_name,
        "brand": {
            "logo": brand.logo.as_ref().map(|logo| format!("/static/logo.{}", logo.extension)),
            "stylesheet": brand.accent.is_some(),
            "support_email": brand.support_email,
            "terms_url": brand.terms_url,
            "contact_url": brand.contact_url,
        },
        "public_url": state.settings.public_url,
        "canonical": format!("{}{path}", state.settings.public_url),
        "page_title": if title.is_empty() { site_name.to_owned() } else { format!("{title} · {site_name}") },
        "description": description,
    })
}

fn merge(mut base: Value, more: Value) -> Value {
    if let (Some(base), Value::Object(more)) = (base.as_object_mut(), more) {
        base.extend(more);
    }
    base
}

/// A public page from memory, or built and kept for `ttl`.
async fn public_page<F>(state: &AppState, headers: &HeaderMap, key: &str, ttl: Duration, build: F) -> Response
where
    F: AsyncFnOnce() -> Result<Option<Vec<u8>>, ApiError>,
{
    if let Some(page) = state.pages.cached(key) {
        return conditional(headers, HTML, PUBLISHED, &page);
    }
    match build().await {
        Ok(Some(body)) => {
            let page = Tagged::kept(body);
            state.pages.keep(key, ttl, page.clone());
            conditional(headers, HTML, PUBLISHED, &page)
        }
        Ok(None) => not_found(state, key, "Nothing is published at this address."),
        Err(error) => error.into_response(),
    }
}

fn not_found(state: &AppState, path: &str, message: &str) -> Response {
    let context = merge(
        layout(state, path, "Page not found", message),
        json!({"message": message}),
    );
    match state.pages.render("not_found.html", context) {
        Ok(body) => (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, HTML)], body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn next_slot(listing: &WebinarListing) -> Value {
    listing.next_slot.as_ref().map_or(Value::Null, |slot| {
        json!({
            "starts_at": machine_time(slot.starts_at),
            "label": local_label(slot.starts_at, &listing.webinar.time_zone).full,
        })
    })
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ttl = state.settings.slot_cache_ttl;
    public_page(&state, &headers, "/", ttl, async || {
        let listings = state.store.list_published_webinars(now()).await?;
        let filter = ArticleFilter {
            tag: None,
            after: None,
            limit: 10,
        };
        let articles = state.store.list_published_articles(&filter).await?;
        let context = json!({
            "webinars": listings.iter().map(|listing| json!({
                "slug": listing.webinar.slug.as_str(),
                "title": listing.webinar.title,
                "summary": listing.webinar.summary,
                "time_zone": listing.webinar.time_zone.name(),
                "registrations": social_proof(&state.settings, listing.registrations),
                "next_slot": next_slot(listing),
            })).collect::<Vec<_>>(),
            "articles": articles.iter().map(|article| json!({
                "slug": article.slug.as_str(),
                "title": article.title,
                "reading_time": reading_time_label(article.reading_minutes),
            })).collect::<Vec<_>>(),
        });
        let description =
            "Free live webinars on careers in tech, in your own time zone, and a callback from a program advisor.";
        let page = merge(layout(&state, "/", "", description), context);
        state.pages.render("home.html", page).map(Some)
    })
    .await
}

async fn webinar_page(State(state): State<AppState>, Path(slug): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/webinars/{slug}");
    let ttl = state.settings.slot_cache_ttl;
    public_page(&state, &headers, &path, ttl, async || {
        let Ok(slug) = Slug::parse(&slug) else { return Ok(None) };
        let listings = state.store.list_published_webinars(now()).await?;
        let Some(listing) = listings.into_iter().find(|listing| listing.webinar.slug == slug) else {
            return Ok(None);
        };
        let webinar = &listing.webinar;
        let context = json!({
            "webinar": {
                "slug": webinar.slug.as_str(),
                "title": webinar.title,
                "summary": webinar.summary,
                "duration_minutes": webinar.duration_minutes,
                "hosts": webinar.hosts,
                "highlights": webinar.highlights,
            },
            "registrations": social_proof(&state.settings, listing.registrations),
        });
        let page = merge(layout(&state, &path, &webinar.title, &webinar.summary), context);
        state.pages.render("webinar.html", page).map(Some)
    })
    .await
}

/// A `datetime` attribute's value: RFC 3339 in UTC, whole seconds (HTML
/// allows at most three digits of a fraction).
fn machine_time(instant: Timestamp) -> String {
    instant.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// "29 November 2026"
fn date_label(instant: Timestamp, zone: &jiff::tz::TimeZone) -> String {
    instant.to_zoned(zone.clone()).strftime("%-d %B %Y").to_string()
}

/// schema.org descriptions of the article and its questions.
fn json_ld(state: &AppState, article: &Article) -> Value {
    let people = |role: ContributorRole| -> Vec<Value> {
        article
            .contributors
            .iter()
            .filter(|c| c.role == role)
            .map(|c| json!({"@type": "Person", "name": c.name, "jobTitle": c.title}))
            .collect()
    };
    let url = format!("{}/articles/{}", state.settings.public_url, article.slug);
    let mut graph = vec![json!({
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title,
        "description": article.summary,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": article.published_at.map(|at| at.to_string()),
        "dateModified": article.updated_at.to_string(),
        "wordCount": article.word_count,
        "timeRequired": format!("PT{}M", article.reading_minutes),
        "keywords": article.tags.join(", "),
        "author": people(ContributorRole::Author),
        "contributor": people(ContributorRole::GuidedBy),
        "reviewedBy": people(ContributorRole::ReviewedBy),
    })];
    if !article.faq.is_empty() {
        graph.push(json!({
            "@context": "https://schema.org",
            "@type": "FAQPage",
            "mainEntity": article.faq.iter().map(|entry| json!({
                "@type": "Question",
                "name": entry.question,
                "acceptedAnswer": {"@type": "Answer", "text": entry.answer},
            })).collect::<Vec<_>>(),
        }));
    }
    Value::Array(graph)
}

async fn article_page(State(state): State<AppState>, Path(slug): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/articles/{slug}");
    public_page(&state, &headers, &path, ARTICLE_TTL, async || {
        let Ok(slug) = Slug::parse(&slug) else { return Ok(None) };
        let Some(article) = state.store.find_article(&slug).await? else {
            return Ok(None);
        };
        if article.status != ArticleStatus::Published {
            return Ok(None);
        }
        // The widget only for a webinar that still takes registrations,
        // beside the text with its hosts, highlights and next session.
        let webinar = match &article.webinar {
            Some((slug, _)) => state
                .store
                .list_published_webinars(now())
                .await?
                .into_iter()
                .find(|listing| listing.webinar.slug == *slug),
            None => None,
        };
        let utc = jiff::tz::TimeZone::UTC;
        let context = json!({
            "article": {
                "title": article.title,
                "summary": article.summary,
                "body_html": article.body_html,
                "reading_time": reading_time_label(article.reading_minutes),
                "published_at": article.published_at.map(machine_time),
                "published_label": article.published_at.map(|at| date_label(at, &utc)),
                "updated_at": machine_time(article.updated_at),
                "updated_label": date_label(article.updated_at, &utc),
                "contributors": article.contributors.iter().map(|c| json!({
                    "name": c.name, "title": c.title, "role_label": c.role.label(),
                })).collect::<Vec<_>>(),
                "faq": article.faq,
            },
            "webinar": webinar.as_ref().map(|listing| json!({
                "slug": listing.webinar.slug.as_str(),
                "title": listing.webinar.title,
                "duration_minutes": listing.webinar.duration_minutes,
                "hosts": listing.webinar.hosts,
                "highlights": listing.webinar.highlights,
                "time_zone": listing.webinar.time_zone.name(),
                "next_slot": next_slot(listing),
            })),
            "json_ld": json_ld(&state, &article),
        });
        let page = merge(layout(&state, &path, &article.title, &article.summary), context);
        state.pages.render("article.html", page).map(Some)
    })
    .await
}

/// The privacy policy every consent refers to, by version.
async fn privacy_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let policy = &state.settings.privacy_policy;
    let context = json!({
        "body_html": turnout_domain::article::render(&policy.text).html,
        "version": policy.version,
    });
    let description = "How Turnout uses the contact details you share when you register.";
    let page = merge(layout(&state, "/privacy", "Privacy policy", description), context);
    match state.pages.render("privacy.html", page) {
        Ok(body) => conditional(&headers, HTML, PUBLISHED, &Tagged::new(body)),
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct ManageQuery {
    token: Option<String>,
    done: Option<String>,
    error: Option<String>,
    /// `cancel`: the page asks to confirm the cancellation.
    confirm: Option<String>,
}

/// The manage page carries the token: no caching, no referrer, no index.
/// A registrant's personal join link: the start time before the join
/// window, the meeting itself inside it (the opening recorded), the replay
/// after the slot. Never cached; the meeting's address is never put in a
/// page, only in the redirect to it.
async fn join(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let path = "/join";
    let missing = "This link does not open a webinar. Use the join link from your confirmation email.";
    let Some(registration_id) = state.settings.link_key.join_registration(&token) else {
        return not_found(&state, path, missing);
    };
    let opens_before = state.settings.join_opens_before();
    let joining = match state.turnout.open_join_link(registration_id, opens_before).await {
        Ok(Some(joining)) => joining,
        Ok(None) => return not_found(&state, path, missing),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let (target, status, context) = match joining {
        Joining::Live { target } => match target.links.join_url.as_deref() {
            Some(url) => {
                let mut response = StatusCode::FOUND.into_response();
                let headers = response.headers_mut();
                if let Ok(location) = HeaderValue::from_str(url) {
                    headers.insert(header::LOCATION, location);
                }
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
                headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
                return response;
            }
            None => (target, StatusCode::OK, json!({"state": "waiting", "refresh": 30})),
        },
        Joining::Early { target, opens_at } => {
            let registration = &target.registration;
            let zone = &registration.time_zone;
            let start = registration.slot.starts_at;
            let end = start + jiff::SignedDuration::from_mins(registration.webinar.duration_minutes);
            let details = format!("Join: {}", funnel::join_url(&state.settings, registration.id));
            let calendar = crate::links::calendar_links(
                Some(funnel::calendar_url(&state.settings, registration.id)),
                &turnout_domain::calendar::EventText {
                    title: &registration.webinar.title,
                    details: &details,
                    start,
                    end,
                },
            );
            // Someone who opens the link early is sent on when it opens.
            let until_open = now().duration_until(opens_at).as_secs().max(1);
            let context = json!({
                "state": "early",
                "starts_at": machine_time(start),
                "when": local_label(start, zone).full,
                "time_zone": zone.name(),
                "opens_label": local_label(opens_at, zone).time,
                "opens_minutes": opens_before.as_mins(),
                "calendar": calendar,
                "refresh": (until_open <= 3_600).then_some(until_open),
            });
            (target, StatusCode::OK, context)
        }
        Joining::Ended { target } => {
            let registration = &target.registration;
            let end =
                registration.slot.starts_at + jiff::SignedDuration::from_mins(registration.webinar.duration_minutes);
            let context = json!({
                "state": "ended",
                "ended_at": machine_time(end),
                "ended_label": local_label(end, &registration.time_zone).full,
                "replay_url": target.links.replay_url,
            });
            (target, StatusCode::OK, context)
        }
        Joining::Cancelled { target } => (target, StatusCode::GONE, json!({"state": "cancelled"})),
    };
    let registration = &target.registration;
    let context = merge(
        context,
        json!({
            "webinar_title": registration.webinar.title,
            "webinar_slug": registration.webinar.slug.as_str(),
        }),
    );
    let description = "Your link to the webinar you registered for.";
    let page = merge(layout(&state, path, &registration.webinar.title, description), context);
    match state.pages.render("join.html", page) {
        Ok(body) => {
            let mut response = private_html(body);
            *response.status_mut() = status;
            response
        }
        Err(error) => error.into_response(),
    }
}

fn private_html(body: Vec<u8>) -> Response {
    let mut response = ([(header::CONTENT_TYPE, HTML)], body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn manage_key(id: &str, token: Option<&str>) -> Option<ManageKey> {
    Some(ManageKey {
        id: Uuid::parse_str(id).ok()?,
        token: SecretToken::from_presented(token?).hash(),
    })
}

async fn manage_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ManageQuery>,
) -> Response {
    let path = format!("/registrations/{id}");
    let missing = "This link does not open a registration. Use the link from your confirmation email.";
    let Some(key) = manage_key(&id, query.token.as_deref()) else {
        return not_found(&state, &path, missing);
    };
    let registration = match state.store.find_registration(&key).await {
        Ok(Some(registration)) => registration,
        Ok(None) => return not_found(&state, &path, missing),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let zone = &registration.time_zone;
    // Other times by the visitor's day, then the time, as the widget does.
    let days = if registration.status.may_move() {
        match state.store.list_slots(registration.webinar.id, now()).await {
            Ok(slots) => {
                let mut days: Vec<Value> = Vec::new();
                let others = slots
                    .into_iter()
                    .filter(|slot| slot.id != registration.slot.id && slot.status == turnout_domain::SlotStatus::Open);
                for slot in others {
                    let label = local_label(slot.starts_at, zone);
                    let time = json!({"id": slot.id, "time": label.time, "full": slot.seats_left() == 0});
                    match days.last_mut() {
                        Some(day) if day["day"] == label.day => day["slots"].as_array_mut().expect("a list").push(time),
                        _ => days.push(json!({"day": label.day, "slots": [time]})),
                    }
                }
                days
            }
            Err(error) => return ApiError::from(error).into_response(),
        }
    } else {
        Vec::new()
    };
    let consultation = match state.store.consultation_of_registration(registration.id).await {
        Ok(consultation) => consultation.map(|call| {
            json!({
                "day": local_label(call.starts_at, &call.time_zone).day,
                "window": call.window_label,
                "time_zone": call.time_zone.name(),
                "advisor": call.advisor_name,
            })
        }),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let token = query.token.unwrap_or_default();
    let notice = match query.done.as_deref() {
        Some("cancelled") => Some("Your registration is cancelled. A confirmation is on its way by email."),
        Some("cancelled_both") => Some(
            "Your registration and your call with a program advisor are cancelled. A confirmation is on its way by email.",
        ),
        Some("call_cancelled") => Some("Your call with a program advisor is cancelled."),
        Some("rescheduled") => Some("Your registration has moved. The updated invitation is on its way by email."),
        Some("claimed") => Some("The seat is yours. Your invitation is on its way by email."),
        _ => None,
    };
    let error = match query.error.as_deref() {
        Some("full") => Some("That time has just filled up; your seat is unchanged."),
        Some("closed") => Some("That time no longer takes registrations; your seat is unchanged."),
        Some("limited") => Some("This registration has been changed too often today; please try again tomorrow."),
        Some(_) => Some("That did not work; your registration is unchanged."),
        None => None,
    };
    let status_label = match registration.status {
        RegistrationStatus::Confirmed => "Confirmed",
        RegistrationStatus::Cancelled => "Cancelled",
        RegistrationStatus::Attended => "Attended",
        RegistrationStatus::NoShow => "Missed",
    };
    let window = turnout_domain::JoinWindow::new(
        registration.slot.starts_at,
        registration.webinar.duration_minutes,
        state.settings.join_opens_before(),
    );
    let joinable = window.phase(now()) == turnout_domain::JoinPhase::Open;
    let context = json!({
        "registration": {
            "id": registration.id,
            "webinar_title": registration.webinar.title,
            "webinar_slug": registration.webinar.slug.as_str(),
            "starts_at": machine_time(registration.slot.starts_at),
            "when": local_label(registration.slot.starts_at, zone).full,
            "time_zone": zone.name(),
            "status_label": status_label,
            "confirmed": registration.status == RegistrationStatus::Confirmed,
            "missed": registration.status == RegistrationStatus::NoShow,
            "calendar_url": funnel::calendar_url(&state.settings, registration.id),
            "join_url": funnel::join_url(&state.settings, registration.id),
            "joinable": joinable,
        },
        "days": days,
        "consultation": consultation,
        "confirm_cancel": query.confirm.as_deref() == Some("cancel")
            && registration.status == RegistrationStatus::Confirmed,
        "confirm_call": query.confirm.as_deref() == Some("call"),
        "token": token,
        "notice": notice,
        "error": error,
    });
    let description = "See, reschedule or cancel your webinar registration.";
    let page = merge(layout(&state, &path, "Your registration", description), context);
    match state.pages.render("manage.html", page) {
        Ok(body) => private_html(body),
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct ManageForm {
    token: String,
    slot_id: Option<i64>,
    /// `yes` once the visitor confirmed a cancellation.
    confirmed: Option<String>,
    /// `yes`: the call with an advisor goes too.
    cancel_call: Option<String>,
}

/// Back to the manage page, saying how it went.
fn back(id: &str, token: &str, outcome: &str) -> Response {
    let query = serde_urlencoded::to_string([("token", token)]).expect("strings always encode");
    Redirect::to(&format!("/registrations/{id}?{query}&{outcome}")).into_response()
}

async fn cancel(State(state): State<AppState>, Path(id): Path<String>, Form(form): Form<ManageForm>) -> Response {
    let Some(key) = manage_key(&id, Some(&form.token)) else {
        return not_found(&state, &format!("/registrations/{id}"), "No such registration.");
    };
    // A cancellation is asked twice: a stray tap changes nothing.
    if form.confirmed.as_deref() != Some("yes") {
        return match state.store.find_registration(&key).await {
            Ok(Some(_)) => back(&id, &form.token, "confirm=cancel"),
            Ok(None) => not_found(&state, &format!("/registrations/{id}"), "No such registration."),
            Err(error) => ApiError::from(error).into_response(),
        };
    }
    let outcome = funnel::cancel(&state, &key).await;
    let outcome = match (outcome, form.cancel_call.as_deref()) {
        (Ok(_), Some("yes")) => match state.turnout.cancel_callback(&key).await {
            Ok(_) => Ok("done=cancelled_both"),
            Err(error) => Err(ApiError::from(error)),
        },
        (outcome, _) => outcome.map(|_| "done=cancelled"),
    };
    after_change(&state, &id, &form.token, outcome)
}

/// The call with an advisor, cancelled on its own once confirmed.
async fn cancel_call(State(state): State<AppState>, Path(id): Path<String>, Form(form): Form<ManageForm>) -> Response {
    let Some(key) = manage_key(&id, Some(&form.token)) else {
        return not_found(&state, &format!("/registrations/{id}"), "No such registration.");
    };
    if form.confirmed.as_deref() != Some("yes") {
        return match state.store.find_registration(&key).await {
            Ok(Some(_)) => back(&id, &form.token, "confirm=call"),
            Ok(None) => not_found(&state, &format!("/registrations/{id}"), "No such registration."),
            Err(error) => ApiError::from(error).into_response(),
        };
    }
    match state.store.find_registration(&key).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(&state, &format!("/registrations/{id}"), "No such registration."),
        Err(error) => return ApiError::from(error).into_response(),
    }
    let outcome = state
        .turnout
        .cancel_callback(&key)
        .await
        .map(|_| "done=call_cancelled")
        .map_err(ApiError::from);
    after_change(&state, &id, &form.token, outcome)
}

async fn reschedule(State(state): State<AppState>, Path(id): Path<String>, Form(form): Form<ManageForm>) -> Response {
    let Some(key) = manage_key(&id, Some(&form.token)) else {
        return not_found(&state, &format!("/registrations/{id}"), "No such registration.");
    };
    let Some(slot_id) = form.slot_id else {
        return back(&id, &form.token, "error=failed");
    };
    let outcome = funnel::reschedule(&state, &key, slot_id).await;
    after_change(&state, &id, &form.token, outcome.map(|_| "done=rescheduled"))
}

/// Back to the manage page with what happened; a server-side failure is
/// logged here, since the visitor only sees the page.
fn after_change(state: &AppState, id: &str, token: &str, outcome: Result<&str, ApiError>) -> Response {
    let outcome = match outcome {
        Ok(done) => done,
        Err(ApiError::NotFound(_)) => {
            return not_found(state, &format!("/registrations/{id}"), "No such registration.");
        }
        Err(ApiError::SlotFull) => "error=full",
        Err(ApiError::SlotClosed) => "error=closed",
        Err(ApiError::RateLimited { .. }) => "error=limited",
        Err(error) => {
            tracing::error!(%error, "a change from the manage page failed");
            "error=failed"
        }
    };
    back(id, token, outcome)
}

#[derive(Debug, Deserialize)]
struct WaitlistQuery {
    token: Option<String>,
    done: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WaitlistForm {
    token: String,
}

/// The place `id` when `token` opens it.
fn waitlist_place(state: &AppState, id: &str, token: Option<&str>) -> Option<Uuid> {
    let id = Uuid::parse_str(id).ok()?;
    state.settings.link_key.is_waitlist_token(id, token?).then_some(id)
}

const NO_PLACE: &str = "This link does not open a place on a waiting list. Use the link from your email.";

/// A place on a waiting list for its person: where they stand, the seat
/// offered with until when it is held, claiming it, leaving the list.
async fn waitlist_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<WaitlistQuery>,
) -> Response {
    let path = format!("/waitlist/{id}");
    let Some(entry_id) = waitlist_place(&state, &id, query.token.as_deref()) else {
        return not_found(&state, &path, NO_PLACE);
    };
    let entry = match state.store.find_waitlist_entry(entry_id).await {
        Ok(Some(entry)) => entry,
        Ok(None) => return not_found(&state, &path, NO_PLACE),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let zone = TimeZone::parse(&entry.time_zone).unwrap_or_else(|_| TimeZone::utc());
    let expires = state
        .turnout
        .offer_expires_at(&entry)
        .map(|at| local_label(at, &zone).full);
    let notice = match query.done.as_deref() {
        Some("left") => Some("You have left the waiting list."),
        _ => None,
    };
    let error = match query.error.as_deref() {
        Some("lapsed") => Some("That offer is no longer open: it was claimed, declined or has lapsed."),
        Some(_) => Some("That did not work; your place is unchanged."),
        None => None,
    };
    let context = json!({
        "entry": {
            "id": entry.id,
            "webinar_title": entry.webinar.title,
            "webinar_slug": entry.webinar.slug.as_str(),
            "starts_at": machine_time(entry.starts_at),
            "when": local_label(entry.starts_at, &zone).full,
            "time_zone": zone.name(),
            "status": entry.status.as_str(),
            "position": entry.position,
            "expires": expires,
        },
        "token": query.token.unwrap_or_default(),
        "notice": notice,
        "error": error,
    });
    let description = "Your place on a webinar's waiting list.";
    let page = merge(
        layout(&state, &path, "Your place on the waiting list", description),
        context,
    );
    match state.pages.render("waitlist.html", page) {
        Ok(body) => private_html(body),
        Err(error) => error.into_response(),
    }
}

fn back_to_place(id: &str, token: &str, outcome: &str) -> Response {
    let query = serde_urlencoded::to_string([("token", token)]).expect("strings always encode");
    Redirect::to(&format!("/waitlist/{id}?{query}&{outcome}")).into_response()
}

async fn claim_offer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<WaitlistForm>,
) -> Response {
    let Some(entry_id) = waitlist_place(&state, &id, Some(&form.token)) else {
        return not_found(&state, &format!("/waitlist/{id}"), NO_PLACE);
    };
    match waitlist::claim(&state, entry_id).await {
        Ok((registration, manage_token)) => {
            let query = serde_urlencoded::to_string([("token", manage_token.expose())]).expect("strings always encode");
            Redirect::to(&format!("/registrations/{}?{query}&done=claimed", registration.id)).into_response()
        }
        Err(ApiError::Conflict { .. } | ApiError::SlotClosed) => back_to_place(&id, &form.token, "error=lapsed"),
        Err(error) => {
            tracing::error!(%error, "claiming an offer from its page failed");
            back_to_place(&id, &form.token, "error=failed")
        }
    }
}

async fn leave_waitlist(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<WaitlistForm>,
) -> Response {
    let Some(entry_id) = waitlist_place(&state, &id, Some(&form.token)) else {
        return not_found(&state, &format!("/waitlist/{id}"), NO_PLACE);
    };
    match waitlist::leave(&state, entry_id).await {
        Ok(_) => back_to_place(&id, &form.token, "done=left"),
        Err(error) => {
            tracing::error!(%error, "leaving a waiting list from its page failed");
            back_to_place(&id, &form.token, "error=failed")
        }
    }
}
