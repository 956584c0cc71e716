//! OWASP API4:2023, unrestricted resource consumption: every public write
//! spends from budgets per client address and per email address, a
//! registration's changes are capped per day, and a refusal is a 429
//! problem with `Retry-After` that changes nothing. Forwarding headers are
//! believed only from trusted proxies.

use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_http::{LimitSettings, Settings, TrustedProxies};
use turnout_test_support::{TestApp, json_body, lead_body};

/// Only the limits a test names; every other one off.
fn limits(set: impl FnOnce(&mut LimitSettings)) -> LimitSettings {
    let mut limits = LimitSettings {
        enabled: true,
        writes_per_ip_per_minute: 0,
        signups_per_email_per_hour: 0,
        changes_per_registration_per_day: 0,
        uploads_per_ip_per_hour: 0,
    };
    set(&mut limits);
    limits
}

async fn spawn(limits: LimitSettings, trusted: &[&str]) -> TestApp {
    let trusted: Vec<String> = trusted.iter().map(|entry| (*entry).to_owned()).collect();
    TestApp::spawn_with(Settings {
        limits,
        trusted_proxies: TrustedProxies::parse(&trusted).unwrap(),
        ..Settings::default()
    })
    .await
}

async fn post_from(app: &TestApp, path: &str, body: &Value, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).json(body);
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    request.send().await.expect("answered")
}

async fn assert_refused(response: reqwest::Response, policy: &str) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "Retry-After says when");
    assert!(
        response.headers()["ratelimit-policy"]
            .to_str()
            .unwrap()
            .starts_with(&format!("\"{policy}\";q=")),
    );
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem = json_body(response).await;
    assert_eq!(problem["type"], "/problems/rate-limited");
    assert!(problem["detail"].as_str().unwrap().contains(policy), "{problem}");
}

#[tokio::test]
async fn public_writes_per_client_address_are_limited_and_a_refusal_changes_nothing() {
    let app = spawn(limits(|l| l.writes_per_ip_per_minute = 3), &[]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    for (i, remaining) in [2, 1, 0].into_iter().enumerate() {
        let response = app
            .post("/api/v1/leads", &lead_body(&webinar, &format!("v{i}@example.com")))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["ratelimit-policy"], "\"writes-per-ip\";q=3;w=60");
        let state = response.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(
            state.starts_with(&format!("\"writes-per-ip\";r={remaining};t=")),
            "{state}"
        );
    }
    let refused = app.post("/api/v1/leads", &lead_body(&webinar, "v4@example.com")).await;
    assert_refused(refused, "writes-per-ip").await;
    assert_eq!(
        app.database.count("leads").await,
        3,
        "the refused lead was not recorded"
    );

    let read = app.get("/api/v1/webinars").await;
    assert_eq!(
        read.status(),
        StatusCode::OK,
        "reads are not spent from the write budget"
    );
    let admin = app
        .admin_post(
            "/api/v1/admin/webinars/ml-careers/slots",
            &json!({"starts_at": turnout_test_support::in_days(3).to_string(), "capacity": 5}),
        )
        .await;
    assert_eq!(
        admin.status(),
        StatusCode::CREATED,
        "admin writes are authenticated, not limited"
    );
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let trusting = spawn(limits(|l| l.writes_per_ip_per_minute = 2), &["127.0.0.1"]).await;
    let webinar = trusting.published_webinar("ml-careers", "Asia/Kolkata").await;
    let lead = |n: u32| lead_body(&webinar, &format!("t{n}@example.com"));
    for n in 0..2 {
        let response = post_from(&trusting, "/api/v1/leads", &lead(n), Some("203.0.113.1")).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_refused(
        post_from(&trusting, "/api/v1/leads", &lead(2), Some("203.0.113.1")).await,
        "writes-per-ip",
    )
    .await;
    let other = post_from(&trusting, "/api/v1/leads", &lead(3), Some("203.0.113.2")).await;
    assert_eq!(other.status(), StatusCode::CREATED, "another client has its own budget");
    let spoofed = post_from(&trusting, "/api/v1/leads", &lead(4), Some("203.0.113.2, 203.0.113.1")).await;
    assert_refused(spoofed, "writes-per-ip").await;

    let untrusting = spawn(limits(|l| l.writes_per_ip_per_minute = 2), &[]).await;
    let webinar = untrusting.published_webinar("ml-careers", "Asia/Kolkata").await;
    for n in 0..2 {
        let response = post_from(
            &untrusting,
            "/api/v1/leads",
            &lead_body(&webinar, &format!("u{n}@example.com")),
            Some(&format!("198.51.100.{n}")),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let rotated = post_from(
        &untrusting,
        "/api/v1/leads",
        &lead_body(&webinar, "u9@example.com"),
        Some("198.51.100.9"),
    )
    .await;
    assert_refused(rotated, "writes-per-ip").await;
}

#[tokio::test]
async fn one_email_address_is_limited_whichever_client_sends_it() {
    let app = spawn(limits(|l| l.signups_per_email_per_hour = 2), &["127.0.0.1"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let victim = lead_body(&webinar, "victim@example.com");
    let first = post_from(&app, "/api/v1/leads", &victim, Some("203.0.113.1")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let mut inline = lead_body(&webinar, "VICTIM@example.com");
    inline["slot_id"] = json!(slot_id);
    let second = post_from(&app, "/api/v1/registrations", &inline, Some("203.0.113.2")).await;
    assert_eq!(second.status(), StatusCode::CREATED);
    let third = post_from(&app, "/api/v1/leads", &victim, Some("203.0.113.3")).await;
    assert_refused(third, "signups-per-email").await;
    let fourth = post_from(&app, "/api/v1/registrations", &inline, Some("203.0.113.4")).await;
    assert_refused(fourth, "signups-per-email").await;
    assert_eq!(app.database.count("leads").await, 2);

    let someone_else = post_from(&app, "/api/v1/leads", &lead_body(&webinar, "ravi@example.com"), None).await;
    assert_eq!(someone_else.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_registrations_changes_are_capped_per_day_and_strangers_cannot_spend_them() {
    let app = spawn(limits(|l| l.changes_per_registration_per_day = 2), &[]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let first = app.slot(&webinar, 10).await;
    let second = app.slot_at(&webinar, turnout_test_support::in_days(5), 10).await;
    let registered = json_body(app.register(&webinar, first, "asha@example.com").await).await;
    let id = registered["registration_id"].as_str().unwrap();
    let token: &'static str = registered["manage_token"].as_str().unwrap().to_owned().leak();
    let reschedule = |slot_id: i64, token: &'static str| {
        let request = app
            .client
            .post(app.url(&format!("/api/v1/registrations/{id}/reschedule")))
            .json(&json!({"slot_id": slot_id}));
        app.with_token(request, token)
    };
    for _ in 0..5 {
        assert_eq!(
            reschedule(second, "not-the-token").await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(reschedule(second, token).await.status(), StatusCode::OK);
    assert_eq!(reschedule(first, token).await.status(), StatusCode::OK);
    assert_refused(reschedule(second, token).await, "changes-per-registration").await;
    let cancel = app.client.post(app.url(&format!("/api/v1/registrations/{id}/cancel")));
    assert_refused(app.with_token(cancel, token).await, "changes-per-registration").await;

    let still = app
        .with_token(app.client.get(app.url(&format!("/api/v1/registrations/{id}"))), token)
        .await;
    let still = json_body(still).await;
    assert_eq!(still["status"], "confirmed", "the refused cancel changed nothing");
    assert_eq!(still["slot"]["slot_id"], first);
}

#[tokio::test]
async fn the_consent_records_the_client_behind_a_trusted_proxy() {
    let app = spawn(LimitSettings::off(), &["127.0.0.1"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let response = post_from(
        &app,
        "/api/v1/leads",
        &lead_body(&webinar, "asha@example.com"),
        Some("203.0.113.77"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(app.database.scalar("SELECT ip FROM consents").await, "203.0.113.77");
}
