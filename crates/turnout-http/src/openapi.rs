//! The OpenAPI 3.1 document, generated from the same router that serves the
//! API: a route cannot exist without its documentation.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::routes::{admin, advisor, articles, consultations, funnel, ops, outbox, tokens, webhooks, webinars};

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
        .routes(routes!(webinars::list_webinars))
        .routes(routes!(webinars::get_webinar))
        .routes(routes!(webinars::list_slots))
        .routes(routes!(crate::bots::form_token))
        .routes(routes!(funnel::create_lead))
        .routes(routes!(funnel::create_registration))
        .routes(routes!(funnel::get_registration))
        .routes(routes!(funnel::cancel_registration))
        .routes(routes!(funnel::reschedule_registration))
        .routes(routes!(funnel::registration_calendar))
        .routes(routes!(admin::create_webinar, admin::list_webinars))
        .routes(routes!(admin::update_webinar))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(admin::archive_webinar))
        .routes(routes!(admin::create_slots, admin::list_slots))
        .routes(routes!(admin::update_slot))
        .routes(routes!(admin::close_slot))
        .routes(routes!(consultations::list_windows))
        .routes(routes!(consultations::create_consultation))
        .routes(routes!(consultations::upload_resume))
        .routes(routes!(advisor::queue))
        .routes(routes!(advisor::report_call))
        .routes(routes!(advisor::download_resume))
        .routes(routes!(advisor::review_resume, advisor::resume_reviews))
        .routes(routes!(advisor::all_consultations))
        .routes(routes!(advisor::reassign))
        .routes(routes!(articles::list_articles))
        .routes(routes!(articles::get_article))
        .routes(routes!(articles::create_article, articles::list_all_articles))
        .routes(routes!(articles::get_editor_article, articles::update_article))
        .routes(routes!(articles::publish_article))
        .routes(routes!(articles::unpublish_article))
        .routes(routes!(outbox::list_events))
        .routes(routes!(outbox::list_outbox))
        .routes(routes!(outbox::retry_delivery))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(
            webhooks::get_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook
        ))
        .routes(routes!(webhooks::replay_webhook))
        .routes(routes!(consultations::create_advisor, consultations::list_advisors))
        .routes(routes!(consultations::create_advisor_token))
        .routes(routes!(
            consultations::get_window_settings,
            consultations::put_window_settings
        ))
}

/// The document alone, as served at `/openapi.json`.
pub fn spec() -> utoipa::openapi::OpenApi {
    router().split_for_parts().1
}
