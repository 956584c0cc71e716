//! OWASP API6:2023, unrestricted access to sensitive business flows: the
//! flows that make Turnout send messages cannot be turned on a third party.
//! Whatever the API is asked, one recipient gets at most the daily cap of
//! emails and SMS, and SMS go only to the countries allowed.

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::json;
use turnout_delivery::WorkerSettings;
use turnout_test_support::{TestApp, json_body};

use crate::emails::emails;

#[tokio::test]
async fn register_cancel_repeat_cannot_flood_an_inbox_past_the_daily_cap() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 50).await;
    let worker = app.worker_with(WorkerSettings {
        reminders: Vec::new(),
        messages_per_recipient_per_day: 3,
        ..WorkerSettings::default()
    });
    for _ in 0..4 {
        let registered = json_body(app.register(&webinar, slot_id, "victim@example.com").await).await;
        let id = registered["registration_id"].as_str().unwrap();
        let cancel = app.client.post(app.url(&format!("/api/v1/registrations/{id}/cancel")));
        let token = registered["manage_token"].as_str().unwrap();
        assert_eq!(app.with_token(cancel, token).await.status(), StatusCode::OK);
    }
    let other = app.register(&webinar, slot_id, "ravi@example.com").await;
    assert_eq!(other.status(), StatusCode::CREATED);
    worker.run_once(Timestamp::now()).await.unwrap();

    let sent = emails(&app);
    let to_victim = sent.iter().filter(|email| email.to == "victim@example.com").count();
    assert_eq!(to_victim, 3, "8 messages were asked for, the cap lets 3 through");
    assert_eq!(sent.iter().filter(|email| email.to == "ravi@example.com").count(), 1);
    let skipped = app.ledger("?status=skipped").await;
    assert_eq!(skipped.len(), 5);
    for delivery in &skipped {
        let reason = delivery["last_error"].as_str().unwrap();
        assert!(reason.contains("daily cap of 3"), "{reason}");
    }
}

#[tokio::test]
async fn a_retried_message_is_not_counted_twice() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 50).await;
    let registered = app.register(&webinar, slot_id, "asha@example.com").await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let settings = WorkerSettings {
        reminders: Vec::new(),
        messages_per_recipient_per_day: 1,
        ..WorkerSettings::default()
    };
    let blocked = app.mail.path().join("blocked");
    let broken = app.worker_using(
        settings.clone(),
        &turnout_delivery::EmailTransport::Files(blocked.clone()),
    );
    std::fs::remove_dir(&blocked).unwrap();
    std::fs::write(&blocked, b"a file where the mail folder should be").unwrap();
    broken.run_once(Timestamp::now()).await.unwrap();
    let failed = app.ledger("?status=failed").await;
    assert_eq!(failed.len(), 1, "the first attempt failed and counted");
    let message_id = failed[0]["message_id"].as_str().unwrap();
    let retried = app
        .admin_post(&format!("/api/v1/admin/outbox/{message_id}/retry"), &json!({}))
        .await;
    assert_eq!(retried.status(), StatusCode::OK);
    app.worker_with(settings).run_once(Timestamp::now()).await.unwrap();
    let sent = app.ledger("?status=sent").await;
    assert_eq!(
        sent.len(),
        1,
        "the retry went out under the cap: {:?}",
        app.ledger("").await
    );
}
