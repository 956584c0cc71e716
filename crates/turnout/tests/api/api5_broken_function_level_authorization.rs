//! OWASP API5:2023, broken function level authorization: each role reaches
//! only its own functions. No credential is 401; a valid credential
//! without the role is 403, never a hidden success.

use reqwest::StatusCode;
use serde_json::json;
use turnout_test_support::{ADMIN_TOKEN, TestApp, json_body};

async fn issue(app: &TestApp, body: serde_json::Value) -> String {
    let issued = app.admin_post("/api/v1/admin/tokens", &body).await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    json_body(issued).await["token"].as_str().unwrap().to_owned()
}

async fn status(app: &TestApp, path: &str, token: Option<&str>) -> StatusCode {
    let request = app.client.get(app.url(path));
    match token {
        Some(token) => app.with_token(request, token).await.status(),
        None => request.send().await.unwrap().status(),
    }
}

#[tokio::test]
async fn each_role_reaches_its_own_functions_and_is_refused_403_elsewhere() {
    let app = TestApp::spawn().await;
    let advisor = app
        .advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 5)
        .await;
    let editor = issue(&app, json!({"role": "editor"})).await;
    let advisor = issue(&app, json!({"role": "advisor", "advisor_id": advisor})).await;
    let admin_only = "/api/v1/admin/webinars";
    let editors = "/api/v1/admin/articles";
    let advisors = "/api/v1/advisor/consultations";

    for path in [admin_only, editors, advisors] {
        assert_eq!(status(&app, path, None).await, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            status(&app, path, Some("made-up")).await,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    assert_eq!(status(&app, admin_only, Some(ADMIN_TOKEN)).await, StatusCode::OK);
    assert_eq!(status(&app, editors, Some(ADMIN_TOKEN)).await, StatusCode::OK);
    assert_eq!(status(&app, advisors, Some(ADMIN_TOKEN)).await, StatusCode::FORBIDDEN);

    assert_eq!(status(&app, admin_only, Some(&editor)).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&app, editors, Some(&editor)).await, StatusCode::OK);
    assert_eq!(status(&app, advisors, Some(&editor)).await, StatusCode::FORBIDDEN);

    assert_eq!(status(&app, admin_only, Some(&advisor)).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&app, editors, Some(&advisor)).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&app, advisors, Some(&advisor)).await, StatusCode::OK);

    let forbidden = app
        .with_token(app.client.get(app.url("/api/v1/admin/tokens")), &editor)
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_body(forbidden).await["type"], "/problems/forbidden");
    let escalate = app
        .with_token(
            app.client
                .post(app.url("/api/v1/admin/tokens"))
                .json(&json!({"role": "admin"})),
            &editor,
        )
        .await;
    assert_eq!(
        escalate.status(),
        StatusCode::FORBIDDEN,
        "an editor cannot mint an admin token"
    );
}
