//! OWASP API7:2023, server side request forgery: the only URLs Turnout
//! fetches on someone's say-so are webhook endpoints, and those are held to
//! public addresses when saved and at every connection (see `webhooks`).
//! Here: an endpoint cannot bounce a delivery elsewhere with a redirect,
//! and an admin cannot point one at the machine's internal services.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::json;
use turnout_test_support::{TestApp, json_body, lead_body};

/// A server on 127.0.0.1 counting the requests it gets, answering `answer`.
async fn server(answer: axum::routing::MethodRouter<Arc<AtomicUsize>>) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route("/hook", answer).with_state(Arc::clone(&hits));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

#[tokio::test]
async fn a_redirect_from_an_endpoint_is_not_followed() {
    let app = TestApp::spawn().await;
    let (inner, inner_hits) = server(axum::routing::post(
        |axum::extract::State(hits): axum::extract::State<Arc<AtomicUsize>>| async move {
            hits.fetch_add(1, Ordering::SeqCst);
            "ok"
        },
    ))
    .await;
    let target = inner.clone();
    let (outer, outer_hits) = server(axum::routing::post(
        move |axum::extract::State(hits): axum::extract::State<Arc<AtomicUsize>>| {
            let target = target.clone();
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                (StatusCode::TEMPORARY_REDIRECT, [("location", target)])
            }
        },
    ))
    .await;
    let created = app
        .admin_post(
            "/api/v1/admin/webhooks",
            &json!({"url": outer, "event_types": ["lead.created"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let lead = app
        .post("/api/v1/leads", &lead_body(&webinar, "asha@example.com"))
        .await;
    assert_eq!(lead.status(), StatusCode::CREATED);
    app.worker().run_once(Timestamp::now()).await.unwrap();

    assert_eq!(outer_hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        inner_hits.load(Ordering::SeqCst),
        0,
        "the redirect's target was never asked"
    );
    let failed = app.ledger("?channel=webhook&status=failed").await;
    assert_eq!(
        failed.len(),
        1,
        "a redirect is a failed delivery: {:?}",
        app.ledger("").await
    );
    assert!(
        failed[0]["last_error"].as_str().unwrap().contains("307"),
        "{}",
        failed[0]
    );
}

#[tokio::test]
async fn an_endpoint_cannot_name_the_machines_own_services() {
    let app = TestApp::spawn().await;
    for url in [
        "http://169.254.169.254/latest/meta-data/iam",
        "http://[fd00::1]/hook",
        "http://100.64.0.1/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://0.0.0.0:5432/",
    ] {
        let response = app.admin_post("/api/v1/admin/webhooks", &json!({"url": url})).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(json_body(response).await["errors"][0]["field"], "url", "{url}");
    }
    let listed = json_body(app.admin_get("/api/v1/admin/webhooks").await).await;
    assert_eq!(listed["items"], json!([]));
}
