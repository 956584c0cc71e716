//! OWASP API1:2023, broken object level authorization: a manage token opens
//! its own registration and no other, a calendar link opens the invite and
//! cannot cancel, a lead token opens its own callback, an advisor sees only
//! their own queue. Anything missing or wrong answers 404, so existence is
//! not revealed either.

use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, json_body};

async fn two_registrations(app: &TestApp) -> (Value, Value) {
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let asha = json_body(app.register(&webinar, slot_id, "asha@example.com").await).await;
    let ravi = json_body(app.register(&webinar, slot_id, "ravi@example.com").await).await;
    (asha, ravi)
}

fn id(registration: &Value) -> &str {
    registration["registration_id"].as_str().unwrap()
}

fn token(registration: &Value) -> &str {
    registration["manage_token"].as_str().unwrap()
}

#[tokio::test]
async fn a_manage_token_opens_its_own_registration_and_no_other() {
    let app = TestApp::spawn().await;
    let (asha, ravi) = two_registrations(&app).await;
    for (path, method) in [
        (format!("/api/v1/registrations/{}", id(&ravi)), reqwest::Method::GET),
        (
            format!("/api/v1/registrations/{}/cancel", id(&ravi)),
            reqwest::Method::POST,
        ),
        (
            format!("/api/v1/registrations/{}/calendar.ics", id(&ravi)),
            reqwest::Method::GET,
        ),
    ] {
        let request = app.client.request(method, app.url(&path));
        let response = app.with_token(request, token(&asha)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let ravis = app
        .with_token(
            app.client.get(app.url(&format!("/api/v1/registrations/{}", id(&ravi)))),
            token(&ravi),
        )
        .await;
    assert_eq!(
        json_body(ravis).await["status"],
        "confirmed",
        "Ravi's seat is untouched"
    );
}

#[tokio::test]
async fn a_calendar_link_opens_the_invite_and_nothing_else() {
    let app = TestApp::spawn().await;
    let (asha, ravi) = two_registrations(&app).await;
    let ics = asha["calendar"]["ics"].as_str().unwrap().to_owned();
    assert!(
        !ics.contains(token(&asha)),
        "the link does not carry the manage token: {ics}"
    );
    let invite = app.client.get(&ics).send().await.unwrap();
    assert_eq!(invite.status(), StatusCode::OK);
    assert!(invite.text().await.unwrap().contains("BEGIN:VCALENDAR"));

    let calendar_token = ics.split("token=").nth(1).unwrap();
    for path in ["", "/cancel", "/reschedule"] {
        let url = app.url(&format!("/api/v1/registrations/{}{path}", id(&asha)));
        let request = match path {
            "" => app.client.get(url),
            _ => app.client.post(url).json(&json!({"slot_id": 1})),
        };
        let response = app.with_token(request, calendar_token).await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "the calendar token opens no {path:?}"
        );
    }
    let others = app
        .client
        .get(app.url(&format!(
            "/api/v1/registrations/{}/calendar.ics?token={calendar_token}",
            id(&ravi)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        others.status(),
        StatusCode::NOT_FOUND,
        "nor another registration's invite"
    );
    let manage_in_url = app
        .client
        .get(app.url(&format!(
            "/api/v1/registrations/{}/calendar.ics?token={}",
            id(&asha),
            token(&asha)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        manage_in_url.status(),
        StatusCode::NOT_FOUND,
        "a manage token is no calendar token"
    );
}

#[tokio::test]
async fn a_manage_token_in_the_url_of_a_change_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (asha, _) = two_registrations(&app).await;
    let cancel = app
        .client
        .post(app.url(&format!(
            "/api/v1/registrations/{}/cancel?token={}",
            id(&asha),
            token(&asha)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_body(cancel).await["errors"][0]["field"], "token");
    let opened = app
        .with_token(
            app.client.get(app.url(&format!("/api/v1/registrations/{}", id(&asha)))),
            token(&asha),
        )
        .await;
    assert_eq!(json_body(opened).await["status"], "confirmed");
}

#[tokio::test]
async fn a_lead_token_opens_only_its_own_callback() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 5)
        .await;
    let asha = app.callback(&webinar, "asha@example.com").await;
    let ravi = app.callback(&webinar, "ravi@example.com").await;
    let upload = app
        .client
        .put(app.url(&format!("/api/v1/consultations/{}/resume", ravi.0)))
        .header("content-type", "application/pdf")
        .body(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n".to_vec());
    let refused = app.with_token(upload, &asha.1).await;
    assert_eq!(
        refused.status(),
        StatusCode::NOT_FOUND,
        "Asha's token cannot put a file on Ravi's callback"
    );
    assert!(app.uploaded_files().await.is_empty());
}
