//! What anyone on the internet may call: the catalogue, the funnel, the
//! callback and résumé steps, and published articles. Writes here are
//! limited per client address by the middleware; the ones that record a
//! lead also per email address and through the bot checks.

pub mod articles;
pub mod callbacks;
pub mod funnel;
pub mod hooks;
pub mod phones;
pub mod waitlist;
pub mod webinars;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webinars::list_webinars))
        .routes(routes!(webinars::get_webinar))
        .routes(routes!(webinars::list_slots))
        .routes(routes!(crate::bots::form_token))
        .routes(routes!(phones::phone_countries))
        .routes(routes!(funnel::create_lead))
        .routes(routes!(funnel::create_registration))
        .routes(routes!(funnel::get_registration))
        .routes(routes!(funnel::cancel_registration))
        .routes(routes!(funnel::reschedule_registration))
        .routes(routes!(funnel::registration_calendar))
        .routes(routes!(waitlist::join_waitlist))
        .routes(routes!(waitlist::get_waitlist_entry))
        .routes(routes!(waitlist::leave_waitlist))
        .routes(routes!(waitlist::claim_waitlist))
        .routes(routes!(callbacks::list_windows))
        .routes(routes!(callbacks::create_consultation))
        .routes(routes!(callbacks::upload_resume))
        .routes(routes!(articles::list_articles))
        .routes(routes!(articles::get_article))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(hooks::whatsapp_subscription, hooks::whatsapp_status))
                .layer(DefaultBodyLimit::max(hooks::MAX_CALLBACK_BODY)),
        )
}
