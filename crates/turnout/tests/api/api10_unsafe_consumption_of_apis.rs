//! OWASP API10:2023, unsafe consumption of APIs: what third parties answer
//! Turnout (an SMS provider, a challenge provider) is bounded and never
//! trusted further than it must be. A huge error body is cut before it
//! reaches the ledger; a provider's garbage is an outage, not a pass.

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::json;
use turnout_delivery::{EmailTransport, WorkerSettings};
use turnout_http::{BotSettings, CaptchaSettings, Settings};
use turnout_test_support::{TestApp, in_days, lead_body};

async fn answering(status: StatusCode, body: &'static str) -> String {
    let app = axum::Router::new().fallback(move || async move { (status, body) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn a_providers_huge_error_is_cut_before_it_is_kept() {
    let app = TestApp::spawn().await;
    let huge: &'static str = "x".repeat(1 << 20).leak();
    let url = answering(StatusCode::INTERNAL_SERVER_ERROR, huge).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(3), 10).await;
    let mut body = lead_body(&webinar, "asha@example.com");
    body["slot_id"] = json!(slot);
    assert_eq!(
        app.post("/api/v1/registrations", &body).await.status(),
        StatusCode::CREATED
    );
    let sms = turnout_test_support::sms_settings(url);
    let settings = WorkerSettings {
        reminders: vec![SignedDuration::from_hours(24)],
        ..WorkerSettings::default()
    };
    let worker = app.worker_sending(settings, &EmailTransport::Files(app.mail.path().to_owned()), Some(sms));
    let due = in_days(3) - SignedDuration::from_hours(24) + SignedDuration::from_mins(1);
    worker.run_once(Timestamp::now()).await.unwrap();
    worker.run_once(due).await.unwrap();
    let failed = app.ledger("?channel=sms&status=failed").await;
    assert_eq!(failed.len(), 1, "{:?}", app.ledger("").await);
    let error = failed[0]["last_error"].as_str().unwrap();
    assert!(error.contains("500"), "{error}");
    assert!(
        error.len() < 400,
        "a provider's body is cut to a few hundred characters, not {}",
        error.len()
    );
}

#[tokio::test]
async fn a_challenge_providers_garbage_is_an_outage_and_changes_nothing() {
    for (status, body) in [
        (StatusCode::OK, "<html>not json</html>"),
        (StatusCode::OK, "{\"success\": \"yes\"}"),
        (StatusCode::BAD_GATEWAY, "{\"success\": true}"),
    ] {
        let verify_url = answering(status, body).await;
        let app = TestApp::spawn_with(Settings {
            limits: turnout_test_support::limits(|_| {}),
            bots: BotSettings {
                captcha: Some(CaptchaSettings {
                    verify_url,
                    secret: "provider-secret".into(),
                    site_key: "site".into(),
                }),
                ..BotSettings::off()
            },
            ..turnout_test_support::unlimited()
        })
        .await;
        let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
        let mut lead = lead_body(&webinar, "asha@example.com");
        lead["captcha_token"] = json!("pass");
        let answer = app.post("/api/v1/leads", &lead).await;
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE, "{status} {body}");
        assert_eq!(app.database.count("leads").await, 0, "{status} {body}");
    }
}
