//! OWASP API2:2023, broken authentication: credentials can be listed (never
//! their secrets), expire, and be revoked at once; their last use is
//! recorded; an unknown, revoked or expired token opens nothing.

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::json;
use turnout_store::{ApiTokenRole, NewApiToken};
use turnout_test_support::{TestApp, json_body};

async fn admin_with(app: &TestApp, token: &str) -> StatusCode {
    app.with_token(app.client.get(app.url("/api/v1/admin/webinars")), token)
        .await
        .status()
}

#[tokio::test]
async fn tokens_are_issued_listed_without_secrets_and_revoked_at_once() {
    let app = TestApp::spawn().await;
    let issued = app
        .admin_post(
            "/api/v1/admin/tokens",
            &json!({"role": "admin", "label": "CRM sync", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    let issued = json_body(issued).await;
    let secret = issued["token"].as_str().unwrap().to_owned();
    let expires: Timestamp = issued["expires_at"].as_str().unwrap().parse().unwrap();
    let days = Timestamp::now().duration_until(expires).as_hours() / 24;
    assert!((29..=30).contains(&days), "expires in 30 days, not {days}");
    assert_eq!(admin_with(&app, &secret).await, StatusCode::OK);

    let listed = json_body(app.admin_get("/api/v1/admin/tokens").await).await;
    let text = listed.to_string();
    assert!(!text.contains(&secret), "a listing never shows a secret");
    let item = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["label"] == "CRM sync")
        .expect("the new token is listed")
        .clone();
    assert_eq!(item["role"], "admin");
    assert_eq!(item["active"], true);
    assert!(item["last_used_at"].is_string(), "its use was recorded: {item}");

    let id = item["token_id"].as_i64().unwrap();
    let revoked = app.admin_delete(&format!("/api/v1/admin/tokens/{id}")).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let revoked = json_body(revoked).await;
    assert_eq!(revoked["active"], false);
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(
        admin_with(&app, &secret).await,
        StatusCode::UNAUTHORIZED,
        "revoked means at once"
    );
    let again = app.admin_delete(&format!("/api/v1/admin/tokens/{id}")).await;
    assert_eq!(
        json_body(again).await["revoked_at"],
        revoked["revoked_at"],
        "revoking twice keeps the first time"
    );
    assert_eq!(
        app.admin_delete("/api/v1/admin/tokens/999999").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_expired_token_opens_nothing() {
    let app = TestApp::spawn().await;
    let long_ago = Timestamp::now() - SignedDuration::from_hours(24 * 40);
    let (new, secret) = NewApiToken::issue(ApiTokenRole::Admin, None, "old", 30, long_ago);
    app.store().create_api_token(&new, long_ago).await.unwrap();
    assert_eq!(admin_with(&app, secret.expose()).await, StatusCode::UNAUTHORIZED);
    let listed = json_body(app.admin_get("/api/v1/admin/tokens").await).await;
    assert_eq!(listed["items"][0]["active"], false);
    assert!(
        listed["items"][0]["last_used_at"].is_null(),
        "a refused token was not used"
    );
}

#[tokio::test]
async fn an_advisors_token_is_revocable_like_any_other() {
    let app = TestApp::spawn().await;
    let advisor = app
        .advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 5)
        .await;
    let issued = app
        .admin_post(
            "/api/v1/admin/tokens",
            &json!({"role": "advisor", "advisor_id": advisor, "expires_in_days": 0}),
        )
        .await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    let issued = json_body(issued).await;
    assert!(issued["expires_at"].is_null(), "0 days is until revoked");
    let secret = issued["token"].as_str().unwrap();
    let queue = || app.client.get(app.url("/api/v1/advisor/consultations"));
    assert_eq!(app.with_token(queue(), secret).await.status(), StatusCode::OK);
    let id = issued["token_id"].as_i64().unwrap();
    assert_eq!(
        app.admin_delete(&format!("/api/v1/admin/tokens/{id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.with_token(queue(), secret).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_bad_token_request_names_the_field() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({"role": "advisor"}), "advisor_id"),
        (json!({"role": "editor", "advisor_id": 1}), "advisor_id"),
        (json!({"role": "admin", "expires_in_days": 9999}), "expires_in_days"),
        (json!({"role": "admin", "label": "line\nbreak"}), "label"),
        (json!({"role": "root"}), "role"),
    ] {
        let response = app.admin_post("/api/v1/admin/tokens", &body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(json_body(response).await["errors"][0]["field"], field, "{body}");
    }
    let listed = json_body(app.admin_get("/api/v1/admin/tokens").await).await;
    assert!(
        listed["items"].as_array().unwrap().is_empty(),
        "no refused request made a token"
    );
}
