//! Turnout's HTTP API. Handlers are thin: they extract and validate into
//! domain types, call the [`Store`], and map the result to JSON or a
//! problem. The OpenAPI document is generated from the same router.

mod application;
pub mod bots;
pub mod brand;
mod caching;
mod catalog;
pub mod client;
mod cors;
mod error;
mod extract;
mod hygiene;
pub mod limits;
mod links;
mod middleware;
pub mod openapi;
mod pages;
mod routes;
pub mod server;
pub mod telemetry;
pub mod uploads;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use object_store::ObjectStore;
use turnout_app::{Change, Changes, Turnout};
use turnout_delivery::AddressPolicy;
use turnout_domain::{LinkKey, TokenHash};
use turnout_store::Store;

pub use application::{Application, Parts};
pub use bots::{BotSettings, CaptchaSettings};
pub use brand::{Brand, Logo};
pub use client::TrustedProxies;
pub use cors::AllowedOrigins;
pub use error::{ApiError, Problem};
pub use limits::{LimitSettings, Limits};
pub use server::TransportLimits;

/// What the HTTP layer needs to know from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where visitors reach Turnout, for links in responses and invites.
    pub public_url: String,
    /// The hash of `TURNOUT_ADMIN_TOKEN`, accepted as an admin credential.
    pub admin_token: Option<TokenHash>,
    /// The privacy policy a visitor agrees to in step 1.
    pub privacy_policy: PrivacyPolicy,
    /// How long webinars and slot listings may be served from memory before
    /// the database is asked again (writes through this instance invalidate
    /// at once).
    pub slot_cache_ttl: Duration,
    /// How long before a slot starts its registrants' join links open it.
    pub join_opens_before: Duration,
    /// How long a seat offered from a waiting list is held (never past the
    /// slot's start).
    pub waitlist_offer_hold: jiff::SignedDuration,
    /// Registrations a webinar needs before its pages say how many.
    pub social_proof_min: u64,
    /// Which internal addresses webhook endpoints may use.
    pub webhook_policy: Arc<AddressPolicy>,
    /// Makes manage tokens; the worker holds the same key to put them in
    /// emails.
    pub link_key: LinkKey,
    /// Other sites whose pages may call the API (the embedded widget).
    pub cors_origins: AllowedOrigins,
    /// Abuse limits on public writes.
    pub limits: LimitSettings,
    /// Defences against scripts on the forms that record leads.
    pub bots: BotSettings,
    /// Proxies whose `X-Forwarded-For`/`Forwarded` name the client.
    pub trusted_proxies: TrustedProxies,
    /// Origins that may show Turnout's pages in a frame (none by default).
    pub frame_ancestors: Vec<String>,
    pub transport: TransportLimits,
    /// When set, `/metrics` answers only this bearer token.
    pub metrics_token: Option<TokenHash>,
    pub whatsapp: WhatsAppSide,
    /// The site's name, logo, colour and footer on the visitor's pages.
    pub brand: Brand,
}

/// WhatsApp as the HTTP side sees it.
#[derive(Debug, Clone, Default)]
pub struct WhatsAppSide {
    /// Whether step 1 offers the WhatsApp box: the Cloud API is configured.
    pub offered: bool,
    /// Whether SMS can carry a message WhatsApp could not.
    pub sms: bool,
    /// Verifies the status callback; it answers 404 without one.
    pub app_secret: Option<secrecy::SecretString>,
    /// Answers Meta's subscription check; it answers 404 without one.
    pub verify_token: Option<secrecy::SecretString>,
}

#[derive(Debug, Clone)]
pub struct PrivacyPolicy {
    pub version: String,
    pub sha256: String,
    /// The words agreed to, in Markdown, shown at `/privacy`.
    pub text: String,
}

impl PrivacyPolicy {
    /// A policy whose hash is of its own text.
    pub fn new(version: &str, text: &str) -> Self {
        Self {
            version: version.to_owned(),
            sha256: turnout_domain::token::sha256_hex(text.as_bytes()),
            text: text.to_owned(),
        }
    }
}

impl Settings {
    /// How long before the start a join link leads into the session.
    pub fn join_opens_before(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::try_from(self.join_opens_before).unwrap_or(jiff::SignedDuration::MAX)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            admin_token: None,
            privacy_policy: PrivacyPolicy::new("2026-11-01", "# Privacy policy\n\nTurnout default privacy policy.\n"),
            slot_cache_ttl: Duration::from_secs(1),
            join_opens_before: Duration::from_secs(15 * 60),
            waitlist_offer_hold: jiff::SignedDuration::from_hours(12),
            social_proof_min: 50,
            webhook_policy: Arc::new(AddressPolicy::default()),
            link_key: LinkKey::generate(),
            cors_origins: AllowedOrigins::default(),
            limits: LimitSettings::default(),
            bots: BotSettings::default(),
            trusted_proxies: TrustedProxies::default(),
            frame_ancestors: Vec::new(),
            transport: TransportLimits::default(),
            metrics_token: None,
            whatsapp: WhatsAppSide::default(),
            brand: Brand::default(),
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// Every write goes through a use case here.
    pub turnout: Turnout,
    /// For reads.
    pub store: Arc<dyn Store>,
    /// Where uploaded files (résumés) live: a local folder or a bucket.
    pub uploads: Arc<dyn ObjectStore>,
    pub settings: Arc<Settings>,
    pub(crate) catalog: Arc<catalog::Catalog>,
    pub(crate) pages: Arc<pages::Pages>,
    pub(crate) limits: Arc<Limits>,
    /// Résumé uploads being received at once.
    pub(crate) uploads_in_flight: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, uploads: Arc<dyn ObjectStore>, settings: Settings) -> Self {
        // Install the recorder before the first request records anything.
        telemetry::prometheus();
        let catalog = Arc::new(catalog::Catalog::new(settings.slot_cache_ttl));
        let pages = Arc::new(pages::Pages::new());
        let limits = Arc::new(Limits::in_memory(settings.limits.clone()));
        limits.spawn_sweeper(LIMIT_SWEEP);
        let caches = Arc::new(Caches {
            catalog: Arc::clone(&catalog),
            pages: Arc::clone(&pages),
        });
        let turnout = Turnout::new(
            Arc::clone(&store),
            Arc::clone(&uploads),
            settings.link_key.clone(),
            caches,
        )
        .with_offer_hold(settings.waitlist_offer_hold);
        Self {
            turnout,
            store,
            uploads,
            settings: Arc::new(settings),
            catalog,
            pages,
            limits,
            uploads_in_flight: Arc::new(tokio::sync::Semaphore::new(UPLOADS_IN_FLIGHT)),
        }
    }
}

/// This instance's caches, told of every change made through it.
struct Caches {
    catalog: Arc<catalog::Catalog>,
    pages: Arc<pages::Pages>,
}

impl Changes for Caches {
    fn changed(&self, change: &Change) {
        match change {
            Change::Slots { webinar_id } => self.catalog.invalidate_slots(*webinar_id),
            Change::Webinar { slug, .. } => {
                self.catalog.forget_webinar(slug);
                self.pages.forget_all();
            }
            Change::Article { slug } => self.pages.forget(&format!("/articles/{slug}")),
        }
    }
}

/// Largest JSON body accepted, but for article writes.
pub(crate) const MAX_JSON_BODY: usize = 64 * 1024;
/// An article's Markdown may be 200,000 characters; its writes take this.
pub(crate) const MAX_ARTICLE_BODY: usize = 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Résumés received at once per instance (each up to 4 MiB in memory).
const UPLOADS_IN_FLIGHT: usize = 16;
/// How often refilled rate-limit budgets are forgotten.
const LIMIT_SWEEP: Duration = Duration::from_secs(60);

/// The whole application: API, operations endpoints and docs.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = openapi::split();
    let origins = state.settings.cors_origins.clone();
    let api = api
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            origins.clone(),
            cors::refuse_other_origins,
        ))
        .layer(origins.layer());
    let docs = utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", openapi);
    let gate = Arc::new(server::Gate {
        in_flight: tokio::sync::Semaphore::new(state.settings.transport.max_in_flight),
        proxies: state.settings.trusted_proxies.clone(),
        limits: Arc::clone(&state.limits),
    });
    let headers = Arc::new(hygiene::HeaderPolicy::new(
        &state.settings.public_url,
        &state.settings.frame_ancestors,
    ));
    middleware::layered(
        Router::new()
            .merge(api)
            .merge(docs)
            .merge(routes::ops::router(state.clone()))
            .merge(pages::router(state))
            .fallback(routes::no_route)
            .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
            .layer(axum::middleware::from_fn_with_state(gate, server::admit)),
        REQUEST_TIMEOUT,
    )
    .layer(axum::middleware::from_fn_with_state(headers, hygiene::secure))
    // Outside the headers layer, which reads plain-text rejections' bodies.
    // The fastest level: a cached page is compressed again on every request.
    .layer(tower_http::compression::CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
    .layer(axum::middleware::map_response(hygiene::weaken_encoded_etag))
}
