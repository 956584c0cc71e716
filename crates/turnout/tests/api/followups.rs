//! After the slot: attendees are thanked with the replay, no-shows get the
//! replay and another time to come back (the manage page's reschedule);
//! the follow-ups wait for a replay address up to `replay_wait`, follow
//! corrections of attendance, and a cancelled registration gets neither.

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, in_days, json_body};

use crate::emails::{Email, emails, manage_url_in};

const REPLAY: &str = "https://www.youtube.com/watch?v=ml-careers-replay";

async fn registered(app: &TestApp, webinar: &str, slot: i64, email: &str) -> Value {
    let response = app.register(webinar, slot, email).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_body(response).await
}

/// A slot starting in ten minutes whose join window is open; `opened`
/// registrants open their links; then the slot is moved to have ended
/// longer ago than the grace period.
async fn a_slot_that_ended(app: &TestApp, webinar: &str, people: &[(&str, bool)]) -> (i64, Vec<Value>) {
    let slot = app
        .slot_at(webinar, Timestamp::now() + SignedDuration::from_mins(10), 10)
        .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut registrations = Vec::new();
    for (email, opened) in people {
        let registration = registered(app, webinar, slot, email).await;
        if *opened {
            let response = client
                .get(registration["join_link"].as_str().unwrap())
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success() || response.status().is_redirection());
        }
        registrations.push(registration);
    }
    app.database
        .shift_slot(slot, -SignedDuration::from_mins(10 + 60 + 31))
        .await;
    (slot, registrations)
}

fn follow_ups(app: &TestApp) -> Vec<Email> {
    emails(app)
        .into_iter()
        .filter(|email| email.subject.starts_with("Thank you") || email.subject.starts_with("Sorry"))
        .collect()
}

#[tokio::test]
async fn follow_ups_wait_for_the_replay_then_thank_attendees_and_offer_no_shows_another_time() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let next = app.slot_at(&webinar, in_days(4), 10).await;
    let (_, people) = a_slot_that_ended(
        &app,
        &webinar,
        &[
            ("asha@example.com", true),
            ("ravi@example.com", false),
            ("meera@example.com", false),
        ],
    )
    .await;
    let meera = &people[2];
    let cancel = app.client.post(app.url(&format!(
        "/api/v1/registrations/{}/cancel",
        meera["registration_id"].as_str().unwrap()
    )));
    assert_eq!(
        app.with_token(cancel, meera["manage_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let worker = app.worker();
    let now = Timestamp::now();
    worker.run_once(now).await.unwrap();
    assert!(follow_ups(&app).is_empty(), "no replay yet: the follow-ups wait");
    let waiting = app.ledger("?status=pending&limit=100").await;
    let mut kinds: Vec<&str> = waiting
        .iter()
        .filter(|item| item["last_error"] == "waiting for the replay")
        .map(|item| item["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["missed-you", "thank-you"],
        "none for Meera, who cancelled: {waiting:?}"
    );

    let patched = app
        .admin_patch(
            &format!("/api/v1/admin/webinars/{webinar}"),
            &json!({"replay_url": REPLAY}),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    worker.run_once(now + SignedDuration::from_mins(16)).await.unwrap();
    let sent = follow_ups(&app);
    assert_eq!(
        sent.len(),
        2,
        "{:?}",
        sent.iter().map(|e| &e.subject).collect::<Vec<_>>()
    );
    let thanks = sent.iter().find(|email| email.to == "asha@example.com").unwrap();
    assert_eq!(thanks.subject, "Thank you for joining Webinar ml-careers");
    assert!(thanks.text.contains(REPLAY), "{}", thanks.text);
    let missed = sent.iter().find(|email| email.to == "ravi@example.com").unwrap();
    assert_eq!(missed.subject, "Sorry we missed you at Webinar ml-careers");
    assert!(missed.text.contains(REPLAY), "{}", missed.text);
    let delivered = app.ledger("?status=sent&limit=100").await;
    assert!(
        delivered
            .iter()
            .filter(|item| item["kind"] == "thank-you" || item["kind"] == "missed-you")
            .all(|item| item["attempts"] == 1),
        "waiting is not an attempt: {delivered:?}"
    );

    // Ravi's link opens his registration with other times to choose from.
    let manage = manage_url_in(&missed.text);
    let page = app.client.get(&manage).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Sorry we missed you"), "{page}");
    assert!(
        page.contains(&format!("value=\"{next}\"")),
        "the next slot is offered: {page}"
    );
    let ravi = &people[1];
    let moved = app.client.post(app.url(&format!(
        "/api/v1/registrations/{}/reschedule",
        ravi["registration_id"].as_str().unwrap()
    )));
    let moved = app
        .with_token(
            moved.json(&json!({"slot_id": next})),
            ravi["manage_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved = json_body(moved).await;
    assert_eq!(moved["status"], "confirmed", "back in, for the new time");
    assert_eq!(moved["slot"]["slot_id"], next);
    worker.run_once(now + SignedDuration::from_mins(17)).await.unwrap();
    assert!(
        emails(&app)
            .iter()
            .any(|email| email.to == "ravi@example.com" && email.subject == "New time for Webinar ml-careers"),
        "the usual invitation update"
    );

    // An attendee cannot be moved.
    let asha = &people[0];
    let refused = app.client.post(app.url(&format!(
        "/api/v1/registrations/{}/reschedule",
        asha["registration_id"].as_str().unwrap()
    )));
    let refused = app
        .with_token(
            refused.json(&json!({"slot_id": next})),
            asha["manage_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn without_a_replay_the_follow_ups_go_after_the_wait_and_follow_corrections() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let (slot, _) = a_slot_that_ended(
        &app,
        &webinar,
        &[("asha@example.com", false), ("ravi@example.com", false)],
    )
    .await;
    let worker = app.worker();
    let now = Timestamp::now();
    worker.run_once(now).await.unwrap();
    assert!(follow_ups(&app).is_empty());

    // Asha was there after all, without her link: an admin corrects it
    // before the wait is over. Her "missed you" is dropped, her thanks sent.
    let corrected = app
        .admin_post(
            &format!("/api/v1/admin/slots/{slot}/attendance"),
            &json!({"attended": ["asha@example.com"]}),
        )
        .await;
    assert_eq!(corrected.status(), StatusCode::OK);
    worker.run_once(now + SignedDuration::from_hours(49)).await.unwrap();
    let mut sent: Vec<(String, String)> = follow_ups(&app)
        .into_iter()
        .map(|email| (email.to, email.subject))
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        [
            (
                "asha@example.com".to_owned(),
                "Thank you for joining Webinar ml-careers".to_owned()
            ),
            (
                "ravi@example.com".to_owned(),
                "Sorry we missed you at Webinar ml-careers".to_owned()
            ),
        ]
    );
    assert!(follow_ups(&app).iter().all(|email| !email.text.contains("recording")));
    let dropped = app.ledger("?status=skipped&limit=100").await;
    assert!(
        dropped
            .iter()
            .any(|item| item["kind"] == "missed-you"
                && item["last_error"] == "the registration's attendance changed since"),
        "{dropped:?}"
    );
}
