//! Staff routes under `/api/v1/admin`: every one needs an admin credential,
//! except the articles, which an editor's also opens.

pub mod articles;
pub mod attendance;
pub mod callbacks;
pub mod outbox;
pub mod registrants;
pub mod tokens;
pub mod webhooks;
pub mod webinars;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webinars::create_webinar, webinars::list_webinars))
        .routes(routes!(webinars::update_webinar))
        .routes(routes!(webinars::archive_webinar))
        .routes(routes!(webinars::create_slots, webinars::list_slots))
        .routes(routes!(webinars::update_slot))
        .routes(routes!(webinars::close_slot))
        .routes(routes!(webinars::slot_waitlist))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(callbacks::all_consultations))
        .routes(routes!(callbacks::reassign))
        .routes(routes!(callbacks::create_advisor, callbacks::list_advisors))
        .routes(routes!(callbacks::create_advisor_token))
        .routes(routes!(callbacks::get_window_settings, callbacks::put_window_settings))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(articles::create_article, articles::list_all_articles))
                .routes(routes!(articles::get_editor_article, articles::update_article))
                .routes(routes!(articles::publish_article))
                .routes(routes!(articles::unpublish_article))
                .layer(DefaultBodyLimit::max(crate::MAX_ARTICLE_BODY)),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(attendance::mark_attendance))
                .layer(DefaultBodyLimit::max(attendance::MAX_ATTENDANCE_BODY)),
        )
        .routes(routes!(attendance::webinar_attendance))
        .routes(routes!(registrants::list_registrants))
        .routes(routes!(registrants::export_registrants))
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
}
