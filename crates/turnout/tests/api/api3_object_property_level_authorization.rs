//! OWASP API3:2023, broken object property level authorization: nobody
//! changes another person's details, and a request reveals no property of a
//! record its caller does not own. What an unauthenticated request submits
//! belongs to the lead it creates; a repeat registration learns nothing of
//! the seat the address already holds, whose owner is emailed instead.

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, json_body, lead_body};
use uuid::Uuid;

use crate::emails::{emails, manage_url_in};

/// Asha's own details, as she gave them.
fn asha(webinar: &str) -> Value {
    lead_body(webinar, "asha@example.com")
}

/// Someone else typing Asha's address with their own name and phone.
fn impostor(webinar: &str) -> Value {
    let mut body = lead_body(webinar, "Asha@Example.com");
    body["name"] = json!("Mallory Impostor");
    body["phone"] = json!("+44 7911 123456");
    body
}

async fn register(app: &TestApp, mut body: Value, slot_id: i64) -> reqwest::Response {
    body["slot_id"] = json!(slot_id);
    app.post("/api/v1/registrations", &body).await
}

#[tokio::test]
async fn a_stranger_submitting_someones_email_changes_none_of_their_details() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let registered = json_body(register(&app, asha(&webinar), slot_id).await).await;
    let id: Uuid = registered["registration_id"].as_str().unwrap().parse().unwrap();

    let lead = app.post("/api/v1/leads", &impostor(&webinar)).await;
    assert_eq!(
        lead.status(),
        StatusCode::CREATED,
        "the stranger's own lead is recorded"
    );
    let repeat = register(&app, impostor(&webinar), slot_id).await;
    assert_eq!(repeat.status(), StatusCode::OK);

    let contact = app
        .store()
        .registration_contact(id)
        .await
        .unwrap()
        .expect("Asha's registration");
    assert_eq!(contact.person.name, "Asha Verma", "reminders still greet Asha");
    assert_eq!(contact.person.phone, "+919876543210", "and SMS still go to her phone");
    assert_eq!(contact.person.email, "asha@example.com");

    app.worker().run_once(Timestamp::now()).await.unwrap();
    let sent = emails(&app);
    assert!(!sent.is_empty());
    for email in &sent {
        assert_eq!(email.to, "asha@example.com");
        assert!(
            !email.text.contains("Mallory"),
            "no email uses the stranger's name: {}",
            email.text
        );
    }
}

#[tokio::test]
async fn an_advisor_calls_the_phone_given_with_the_callback() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 5)
        .await;
    app.callback(&webinar, "asha@example.com").await;

    let overwritten = app.post("/api/v1/leads", &impostor(&webinar)).await;
    assert_eq!(overwritten.status(), StatusCode::CREATED);

    let queue = json_body(app.admin_get("/api/v1/admin/consultations").await).await;
    let items = queue["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    let visitor = &items[0]["visitor"];
    assert_eq!(visitor["name"], "Asha Verma", "{queue}");
    assert_eq!(visitor["phone"], "+919876543210", "{queue}");
}

#[tokio::test]
async fn a_repeat_registration_reveals_nothing_and_emails_the_owner_their_link() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let other_slot = app.slot_at(&webinar, turnout_test_support::in_days(5), 10).await;
    let registered = json_body(register(&app, asha(&webinar), slot_id).await).await;
    let worker = app.worker();
    worker.run_once(Timestamp::now()).await.unwrap();
    let before = emails(&app).len();

    let repeat = register(&app, impostor(&webinar), other_slot).await;
    assert_eq!(repeat.status(), StatusCode::OK);
    let body = json_body(repeat).await;
    let text = body.to_string();
    assert_eq!(body["status"], "already_registered");
    for secret in [
        registered["registration_id"].as_str().unwrap(),
        registered["manage_token"].as_str().unwrap(),
        registered["label"].as_str().unwrap(),
        "Asha",
        "98765",
    ] {
        assert!(!text.contains(secret), "the answer reveals {secret:?}: {text}");
    }

    worker.run_once(Timestamp::now()).await.unwrap();
    let sent = emails(&app);
    assert_eq!(sent.len(), before + 1, "one email for the repeat");
    let link = sent
        .iter()
        .find(|email| email.subject.starts_with("Your registration for"))
        .expect("the manage-link email");
    assert_eq!(
        link.to, "asha@example.com",
        "the link goes to the address, not the caller"
    );
    assert!(link.text.contains("Hello Asha Verma"), "{}", link.text);
    let manage = manage_url_in(&link.text);
    assert!(manage.contains(registered["registration_id"].as_str().unwrap()));
    assert!(manage.ends_with(registered["manage_token"].as_str().unwrap()));
}

#[tokio::test]
async fn webhooks_never_receive_the_internal_manage_link_event() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let created = app
        .admin_post("/api/v1/admin/webhooks", &json!({"url": "http://127.0.0.1:9/hook"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    register(&app, asha(&webinar), slot_id).await;
    register(&app, asha(&webinar), slot_id).await;
    app.worker().run_once(Timestamp::now()).await.unwrap();
    let calls = app.ledger("?channel=webhook").await;
    assert!(!calls.is_empty());
    for call in &calls {
        assert_ne!(call["event_type"], "registration.manage_link_requested", "{call}");
    }
}
