use reqwest::StatusCode;
use turnout_test_support::{TestApp, json_body};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(json_body(health).await["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(json_body(ready).await["status"], "ready");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let generated = app.get("/healthz").await;
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let echoed = app
        .client
        .get(app.url("/api/v1/webinars/nope"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.status(), StatusCode::NOT_FOUND);
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_registrations_by_outcome() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 1).await;
    app.register(&webinar, slot_id, "asha@example.com").await;
    app.register(&webinar, slot_id, "ravi@example.com").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("turnout_http_requests_total{method=\"POST\",route=\"/api/v1/registrations\",status=\"201\"}"),
        "{text}"
    );
    assert!(
        text.contains(
            "turnout_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/registrations\",le=\"0.025\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("turnout_registrations_total{outcome=\"created\"}"),
        "{text}"
    );
    assert!(
        text.contains("turnout_registrations_total{outcome=\"slot_full\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() {
    let app = TestApp::spawn().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let served: serde_json::Value = response.json().await.unwrap();
    let generated = serde_json::to_value(turnout_http::openapi::spec()).unwrap();
    assert_eq!(served, generated);
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = served["paths"].as_object().unwrap();
    for path in [
        "/api/v1/webinars",
        "/api/v1/webinars/{slug}/slots",
        "/api/v1/leads",
        "/api/v1/registrations",
        "/api/v1/registrations/{id}/calendar.ics",
        "/api/v1/admin/webinars/{slug}/slots",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    insta::assert_snapshot!("openapi", serde_json::to_string_pretty(&served).unwrap());
}

#[tokio::test]
async fn the_docs_page_works_without_the_internet() {
    let app = TestApp::spawn().await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "no asset comes from a CDN: {html}");
    let script = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.bytes().await.unwrap().len() > 100_000);
}

#[tokio::test]
async fn unknown_routes_and_malformed_path_ids_are_404_problems() {
    let app = TestApp::spawn().await;
    for response in [
        app.get("/api/v1/nothing-here").await,
        app.admin_patch("/api/v1/admin/slots/not-a-number", &serde_json::json!({"capacity": 3}))
            .await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        assert_eq!(json_body(response).await["type"], "/problems/not-found");
    }
}
