//! A registrant's personal join link: the start time before the window,
//! the meeting inside it (recorded, for attendance), the replay after, and
//! nothing for a cancelled registration or a made-up link.

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, json_body};

const ZOOM: &str = "https://us02web.zoom.us/j/81234567890?pwd=webinar";

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn registered(app: &TestApp, webinar: &str, slot_id: i64, email: &str) -> Value {
    let response = app.register(webinar, slot_id, email).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_body(response).await
}

async fn open(link: &str) -> reqwest::Response {
    no_redirects().get(link).send().await.unwrap()
}

#[tokio::test]
async fn inside_the_window_the_link_records_the_opening_and_goes_to_the_meeting() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let patched = app
        .admin_patch(&format!("/api/v1/admin/webinars/{webinar}"), &json!({"join_url": ZOOM}))
        .await;
    assert_eq!(json_body(patched).await["join_url"], ZOOM);
    // Ten minutes from now: inside the default 15-minute window.
    let slot_id = app
        .slot_at(&webinar, Timestamp::now() + SignedDuration::from_mins(10), 10)
        .await;
    let registration = registered(&app, &webinar, slot_id, "asha@example.com").await;
    let link = registration["join_link"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&format!("{}/join/", app.address)), "{link}");

    for _ in 0..2 {
        let response = open(&link).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], ZOOM);
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("no-store")
        );
    }
    assert_eq!(app.database.count("registration_joins").await, 1);
    assert_eq!(
        app.database
            .scalar("SELECT CAST(joins AS TEXT) FROM registration_joins")
            .await,
        "2"
    );

    // A slot's own address wins over the webinar's.
    let own = "https://meet.google.com/abc-defg-hij";
    let response = app
        .admin_patch(&format!("/api/v1/admin/slots/{slot_id}"), &json!({"join_url": own}))
        .await;
    assert_eq!(json_body(response).await["join_url"], own);
    assert_eq!(open(&link).await.headers()["location"], own);
}

#[tokio::test]
async fn before_the_window_the_link_shows_when_it_starts_and_never_the_address() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.admin_patch(&format!("/api/v1/admin/webinars/{webinar}"), &json!({"join_url": ZOOM}))
        .await;
    let slot_id = app.slot(&webinar, 10).await;
    let registration = registered(&app, &webinar, slot_id, "asha@example.com").await;
    let response = open(registration["join_link"].as_str().unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Webinar ml-careers"), "{page}");
    assert!(
        page.contains(registration["label"].as_str().unwrap()),
        "the start in the visitor's zone"
    );
    assert!(page.contains("Google Calendar"));
    assert!(!page.contains("zoom.us"), "the meeting's address leaked into the page");
    assert_eq!(app.database.count("registration_joins").await, 0);

    // Nor does any public answer carry it.
    for path in [
        format!("/api/v1/webinars/{webinar}"),
        format!("/api/v1/webinars/{webinar}/slots?tz=Asia/Kolkata"),
        format!("/webinars/{webinar}"),
        "/api/v1/webinars".to_owned(),
    ] {
        let body = app.get(&path).await.text().await.unwrap();
        assert!(!body.contains("zoom.us"), "{path} shows the meeting's address");
    }
}

#[tokio::test]
async fn the_link_follows_a_reschedule_and_ends_with_a_cancel() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.admin_patch(&format!("/api/v1/admin/webinars/{webinar}"), &json!({"join_url": ZOOM}))
        .await;
    let later = app.slot(&webinar, 10).await;
    let soon = app
        .slot_at(&webinar, Timestamp::now() + SignedDuration::from_mins(5), 10)
        .await;
    let registration = registered(&app, &webinar, later, "asha@example.com").await;
    let link = registration["join_link"].as_str().unwrap().to_owned();
    assert_eq!(open(&link).await.status(), StatusCode::OK, "not open yet");

    let id = registration["registration_id"].as_str().unwrap();
    let token = registration["manage_token"].as_str().unwrap();
    let moved = app
        .client
        .post(app.url(&format!("/api/v1/registrations/{id}/reschedule")))
        .bearer_auth(token)
        .json(&json!({"slot_id": soon}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    assert_eq!(json_body(moved).await["join_link"], link.as_str(), "the same link");
    assert_eq!(open(&link).await.status(), StatusCode::FOUND, "open for the new slot");

    let cancelled = app
        .client
        .post(app.url(&format!("/api/v1/registrations/{id}/cancel")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    let response = open(&link).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(!response.text().await.unwrap().contains("zoom.us"));
}

#[tokio::test]
async fn after_the_slot_the_link_offers_the_replay_once_there_is_one() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.admin_patch(&format!("/api/v1/admin/webinars/{webinar}"), &json!({"join_url": ZOOM}))
        .await;
    let slot_id = app.slot(&webinar, 10).await;
    let registration = registered(&app, &webinar, slot_id, "asha@example.com").await;
    let link = registration["join_link"].as_str().unwrap().to_owned();
    // The slot, three days ahead, is moved to have ended an hour ago.
    app.database
        .shift_slot(slot_id, -(SignedDuration::from_hours(72 + 2)))
        .await;
    let page = open(&link).await.text().await.unwrap();
    assert!(page.contains("There is no recording to watch yet"), "{page}");
    assert!(!page.contains("zoom.us"));

    let replay = "https://www.youtube.com/watch?v=abcdefghijk";
    let response = app
        .admin_patch(
            &format!("/api/v1/admin/slots/{slot_id}"),
            &json!({"replay_url": replay}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = open(&link).await.text().await.unwrap();
    assert!(page.contains(replay), "{page}");
    assert_eq!(app.database.count("registration_joins").await, 0, "not an attendance");
}

#[tokio::test]
async fn a_made_up_or_altered_link_opens_nothing() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app
        .slot_at(&webinar, Timestamp::now() + SignedDuration::from_mins(5), 10)
        .await;
    let registration = registered(&app, &webinar, slot_id, "asha@example.com").await;
    let link = registration["join_link"].as_str().unwrap();
    let mut altered = link.to_owned();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let manage = format!(
        "{}/join/{}",
        app.address,
        registration["manage_token"].as_str().unwrap()
    );
    for attempt in [altered, manage, format!("{}/join/nothing", app.address)] {
        let response = open(&attempt).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{attempt}");
    }
    assert_eq!(app.database.count("registration_joins").await, 0);
}

#[tokio::test]
async fn meeting_addresses_are_https_and_admin_only() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let path = format!("/api/v1/admin/webinars/{webinar}");
    for (bad, field) in [
        (json!({"join_url": "http://zoom.us/j/1"}), "join_url"),
        (json!({"join_url": "javascript:alert(1)"}), "join_url"),
        (json!({"replay_url": "https://user:pw@example.com/r"}), "replay_url"),
    ] {
        let response = app.admin_patch(&path, &bad).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(json_body(response).await["errors"][0]["field"], field);
    }
    assert_eq!(app.database.count("webinar_links").await, 0, "nothing changed");
    let set = app.admin_patch(&path, &json!({"join_url": ZOOM})).await;
    assert_eq!(set.status(), StatusCode::OK);
    // Other changes leave it; null removes it.
    let renamed = json_body(app.admin_patch(&path, &json!({"title": "Renamed"})).await).await;
    assert_eq!(renamed["join_url"], ZOOM);
    let listed = json_body(app.admin_get("/api/v1/admin/webinars").await).await;
    assert_eq!(listed["items"][0]["join_url"], ZOOM);
    let removed = json_body(app.admin_patch(&path, &json!({"join_url": null})).await).await;
    assert_eq!(removed["join_url"], Value::Null);
    let anonymous = app
        .client
        .patch(app.url(&path))
        .json(&json!({"join_url": ZOOM}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_manage_page_offers_a_join_button_only_inside_the_window() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let soon = app
        .slot_at(&webinar, Timestamp::now() + SignedDuration::from_mins(10), 10)
        .await;
    let later = app
        .slot_at(&webinar, Timestamp::now() + SignedDuration::from_hours(30), 10)
        .await;
    for (slot_id, email, button) in [(soon, "asha@example.com", true), (later, "ravi@example.com", false)] {
        let registration = registered(&app, &webinar, slot_id, email).await;
        let page = app
            .client
            .get(app.url(&format!(
                "/registrations/{}?token={}",
                registration["registration_id"].as_str().unwrap(),
                registration["manage_token"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let join = registration["join_link"].as_str().unwrap();
        assert!(
            page.contains(&format!("href=\"{join}\"")),
            "the link is always there: {page}"
        );
        assert_eq!(
            page.contains(&format!("<a class=\"button\" href=\"{join}\">Join the webinar now</a>")),
            button,
            "{email}: {page}"
        );
    }
}
