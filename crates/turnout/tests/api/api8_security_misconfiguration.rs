//! OWASP API8:2023, security misconfiguration: every answer carries the
//! headers a browser needs to protect the visitor, nothing with a token or
//! personal data is cacheable, every rejection (a bad query string, a wrong
//! method) is problem+json, no error names our schema, and `/metrics` can
//! be closed to anyone without its token.

use reqwest::StatusCode;
use serde_json::json;
use turnout_domain::TokenHash;
use turnout_http::Settings;
use turnout_test_support::{ADMIN_TOKEN, TestApp, json_body, lead_body};

#[tokio::test]
async fn pages_carry_a_content_security_policy_and_refuse_framing() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    for path in ["/", &format!("/webinars/{webinar}"), "/privacy"] {
        let page = app.get(path).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let headers = page.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "strict-origin-when-cross-origin");
        assert!(
            headers.get("strict-transport-security").is_none(),
            "no HSTS over plain http"
        );
    }
    let api = app.get("/api/v1/webinars").await;
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn sites_named_in_frame_ancestors_may_frame_the_pages() {
    let app = TestApp::spawn_with(Settings {
        frame_ancestors: vec!["https://academy.example.com".into()],
        ..turnout_test_support::unlimited()
    })
    .await;
    let page = app.get("/").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors https://academy.example.com"), "{csp}");
    assert!(page.headers().get("x-frame-options").is_none());
}

#[tokio::test]
async fn answers_with_a_token_or_personal_data_are_never_stored_by_caches() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let lead = app
        .post("/api/v1/leads", &lead_body(&webinar, "asha@example.com"))
        .await;
    assert_eq!(lead.headers()["cache-control"], "no-store");
    let registered = app.register(&webinar, slot_id, "ravi@example.com").await;
    assert_eq!(registered.headers()["cache-control"], "no-store");
    let registered = json_body(registered).await;
    let id = registered["registration_id"].as_str().unwrap();
    let token = registered["manage_token"].as_str().unwrap();
    let opened = app
        .with_token(app.client.get(app.url(&format!("/api/v1/registrations/{id}"))), token)
        .await;
    assert_eq!(opened.headers()["cache-control"], "no-store");
    let queue = app.admin_get("/api/v1/admin/consultations").await;
    assert_eq!(queue.headers()["cache-control"], "no-store");
    let manage = app.get(&format!("/registrations/{id}?token={token}")).await;
    assert!(manage.headers()["cache-control"].to_str().unwrap().contains("no-store"));
    let published = app.get("/").await;
    assert!(
        published.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public"),
        "published pages keep their own caching"
    );
}

#[tokio::test]
async fn every_rejection_is_problem_json() {
    let app = TestApp::spawn().await;
    let bad_query = app.admin_get("/api/v1/admin/outbox?limit=many").await;
    assert_eq!(bad_query.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad_query.headers()["content-type"], "application/problem+json");
    let problem = json_body(bad_query).await;
    assert_eq!(problem["type"], "/problems/bad-request");
    assert!(problem["detail"].as_str().unwrap().contains("limit"), "{problem}");

    let wrong_method = app.client.delete(app.url("/api/v1/webinars")).send().await.unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.headers()["content-type"], "application/problem+json");
    assert_eq!(json_body(wrong_method).await["type"], "/problems/method-not-allowed");

    let form = app
        .client
        .post(app.url("/registrations/00000000-0000-0000-0000-000000000000/cancel"))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert!(form.status().is_client_error());
    assert_eq!(form.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn a_conflict_never_names_a_constraint_or_table() {
    let app = TestApp::spawn().await;
    let body = json!({"slug": "ml-careers", "title": "One", "time_zone": "Asia/Kolkata",
        "duration_minutes": 60, "status": "published"});
    assert_eq!(
        app.admin_post("/api/v1/admin/webinars", &body).await.status(),
        StatusCode::CREATED
    );
    let again = app.admin_post("/api/v1/admin/webinars", &body).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let text = again.text().await.unwrap().to_lowercase();
    for internal in ["constraint", "unique", "webinars.slug", "sqlite", "violates", "key ("] {
        assert!(!text.contains(internal), "{internal:?} in {text}");
    }
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let app = TestApp::spawn_with(Settings {
        metrics_token: Some(TokenHash::of("scraper-secret")),
        ..turnout_test_support::unlimited()
    })
    .await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);
    let wrong = app.with_token(app.client.get(app.url("/metrics")), ADMIN_TOKEN).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let scraped = app
        .with_token(app.client.get(app.url("/metrics")), "scraper-secret")
        .await;
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(scraped.text().await.unwrap().contains("turnout_http_requests_total"));
}
