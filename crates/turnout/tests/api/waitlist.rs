//! The waiting list of a full slot: a freed seat (a cancel, a move away,
//! more capacity, a declined or lapsed offer) is held for the first in line
//! and offered by email; claiming it makes the registration. The database
//! decides every step: raced, capacity is never exceeded and no seat is
//! offered twice.

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, in_days, json_body};

use crate::emails::emails;

async fn seats(app: &TestApp, webinar: &str, slot_id: i64) -> (i64, i64) {
    let body = json_body(app.admin_get(&format!("/api/v1/admin/webinars/{webinar}/slots")).await).await;
    let slot = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slot_id"] == slot_id)
        .expect("the slot is listed")
        .clone();
    (
        slot["seats_taken"].as_i64().unwrap(),
        slot["capacity"].as_i64().unwrap(),
    )
}

/// `email` joins the slot's waiting list with a lead of their own.
async fn join(app: &TestApp, webinar: &str, slot_id: i64, email: &str) -> reqwest::Response {
    let (lead_id, lead_token) = app.lead(webinar, email).await;
    app.post(
        "/api/v1/waitlist",
        &json!({"slot_id": slot_id, "lead_id": lead_id, "lead_token": lead_token}),
    )
    .await
}

async fn joined(app: &TestApp, webinar: &str, slot_id: i64, email: &str) -> Value {
    let response = join(app, webinar, slot_id, email).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{email}");
    json_body(response).await
}

async fn place(app: &TestApp, entry: &Value) -> Value {
    let request = app
        .client
        .get(app.url(&format!("/api/v1/waitlist/{}", entry["entry_id"].as_str().unwrap())));
    json_body(app.with_token(request, entry["token"].as_str().unwrap()).await).await
}

async fn act(app: &TestApp, entry: &Value, action: &str) -> reqwest::Response {
    let request = app.client.post(app.url(&format!(
        "/api/v1/waitlist/{}/{action}",
        entry["entry_id"].as_str().unwrap()
    )));
    app.with_token(request, entry["token"].as_str().unwrap()).await
}

async fn cancel(app: &TestApp, registration: &Value) -> StatusCode {
    let request = app.client.post(app.url(&format!(
        "/api/v1/registrations/{}/cancel",
        registration["registration_id"].as_str().unwrap()
    )));
    app.with_token(request, registration["manage_token"].as_str().unwrap())
        .await
        .status()
}

#[tokio::test]
async fn a_freed_seat_is_held_for_the_first_in_line_who_claims_it() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(3), 1).await;
    let asha = json_body(app.register(&webinar, slot, "asha@example.com").await).await;

    let ravi = joined(&app, &webinar, slot, "ravi@example.com").await;
    assert_eq!(ravi["status"], "waiting");
    assert_eq!(ravi["position"], 1);
    let meera = joined(&app, &webinar, slot, "meera@example.com").await;
    assert_eq!(meera["position"], 2);
    let again = join(&app, &webinar, slot, "ravi@example.com").await;
    assert_eq!(again.status(), StatusCode::OK, "a repeat reveals nothing");
    let again = json_body(again).await;
    assert_eq!(again["status"], "already_waiting");
    assert!(
        again.get("position").is_none() && again.get("entry_id").is_none(),
        "{again}"
    );
    let other = app.slot_at(&webinar, in_days(4), 5).await;
    let not_full = join(&app, &webinar, other, "kiran@example.com").await;
    assert_eq!(not_full.status(), StatusCode::CONFLICT);
    assert_eq!(json_body(not_full).await["type"], "/problems/slot-has-seats");

    assert_eq!(cancel(&app, &asha).await, StatusCode::OK);
    let offered = place(&app, &ravi).await;
    assert_eq!(offered["status"], "offered", "{offered}");
    let expires: Timestamp = offered["offer_expires_at"].as_str().unwrap().parse().unwrap();
    let hold = expires.duration_since(Timestamp::now());
    assert!(
        hold > SignedDuration::from_hours(11) && hold <= SignedDuration::from_hours(12),
        "{hold:?}"
    );
    assert_eq!(seats(&app, &webinar, slot).await, (1, 1), "the seat is held, not freed");
    assert_eq!(
        app.register(&webinar, slot, "kiran@example.com").await.status(),
        StatusCode::CONFLICT,
        "nobody else takes a held seat"
    );
    assert_eq!(place(&app, &meera).await["position"], 1);

    app.worker().run_once(Timestamp::now()).await.unwrap();
    let sent = emails(&app);
    let offer = sent
        .iter()
        .find(|email| email.to == "ravi@example.com" && email.subject == "A seat is yours: Webinar ml-careers")
        .expect("the offer email");
    let link = offer
        .text
        .split_whitespace()
        .find(|word| word.contains("/waitlist/"))
        .unwrap();
    assert_eq!(link, ravi["page"].as_str().unwrap());
    let page = app.client.get(link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Claim my seat"), "{page}");
    assert!(
        sent.iter()
            .any(|email| email.to == "meera@example.com" && email.subject.starts_with("You're on the waiting list")),
    );

    let claimed = act(&app, &ravi, "claim").await;
    assert_eq!(claimed.status(), StatusCode::CREATED);
    let registration = json_body(claimed).await;
    assert_eq!(registration["status"], "confirmed");
    assert_eq!(registration["slot"]["slot_id"], slot);
    assert!(registration["manage_token"].is_string());
    assert_eq!(seats(&app, &webinar, slot).await, (1, 1));
    assert_eq!(place(&app, &ravi).await["status"], "claimed");
    let twice = act(&app, &ravi, "claim").await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    assert_eq!(json_body(twice).await["type"], "/problems/no-offer");
    let wrong = app
        .with_token(
            app.client.post(app.url(&format!(
                "/api/v1/waitlist/{}/claim",
                meera["entry_id"].as_str().unwrap()
            ))),
            ravi["token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        wrong.status(),
        StatusCode::NOT_FOUND,
        "a place opens only with its own token"
    );

    let listed = json_body(app.admin_get(&format!("/api/v1/admin/slots/{slot}/waitlist")).await).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{listed}");
    assert_eq!(items[0]["email"], "ravi@example.com");
    assert_eq!(items[0]["status"], "claimed");
    assert_eq!(items[0]["registration_id"], registration["registration_id"]);
    assert_eq!(items[1]["email"], "meera@example.com");
    assert_eq!(items[1]["status"], "waiting");
    assert_eq!(items[1]["position"], 1);
    assert_eq!(
        app.get(&format!("/api/v1/admin/slots/{slot}/waitlist")).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_offer_lapses_to_the_next_in_line_and_a_declined_seat_goes_back_when_nobody_waits() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(3), 1).await;
    let asha = json_body(app.register(&webinar, slot, "asha@example.com").await).await;
    let ravi = joined(&app, &webinar, slot, "ravi@example.com").await;
    let meera = joined(&app, &webinar, slot, "meera@example.com").await;
    assert_eq!(cancel(&app, &asha).await, StatusCode::OK);
    assert_eq!(place(&app, &ravi).await["status"], "offered");

    let worker = app.worker();
    worker.run_once(Timestamp::now()).await.unwrap();
    assert_eq!(
        place(&app, &meera).await["status"],
        "waiting",
        "not before the hold is over"
    );
    worker
        .run_once(Timestamp::now() + SignedDuration::from_hours(13))
        .await
        .unwrap();
    assert_eq!(place(&app, &ravi).await["status"], "expired");
    assert_eq!(place(&app, &meera).await["status"], "offered");
    let listed = json_body(app.admin_get(&format!("/api/v1/admin/slots/{slot}/waitlist")).await).await;
    assert_eq!(listed["items"][0]["status"], "expired");
    assert_eq!(listed["items"][1]["status"], "offered");
    assert!(listed["items"][1]["offer_expires_at"].is_string(), "{listed}");
    let late = act(&app, &ravi, "claim").await;
    assert_eq!(late.status(), StatusCode::CONFLICT, "a lapsed offer cannot be claimed");

    let declined = act(&app, &meera, "leave").await;
    assert_eq!(declined.status(), StatusCode::OK);
    assert_eq!(json_body(declined).await["status"], "left");
    assert_eq!(
        seats(&app, &webinar, slot).await,
        (0, 1),
        "nobody waits: the seat is free again"
    );
    assert_eq!(
        act(&app, &meera, "leave").await.status(),
        StatusCode::OK,
        "leaving twice changes nothing"
    );
    assert_eq!(seats(&app, &webinar, slot).await, (0, 1));
}

#[tokio::test]
async fn more_capacity_goes_to_the_waiting_list_and_less_than_the_holds_is_refused() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(3), 1).await;
    app.register(&webinar, slot, "asha@example.com").await;
    let ravi = joined(&app, &webinar, slot, "ravi@example.com").await;
    let meera = joined(&app, &webinar, slot, "meera@example.com").await;

    let raised = app
        .admin_patch(&format!("/api/v1/admin/slots/{slot}"), &json!({"capacity": 4}))
        .await;
    assert_eq!(raised.status(), StatusCode::OK);
    assert_eq!(place(&app, &ravi).await["status"], "offered");
    assert_eq!(place(&app, &meera).await["status"], "offered");
    assert_eq!(
        seats(&app, &webinar, slot).await,
        (3, 4),
        "one registration and two holds"
    );

    let lowered = app
        .admin_patch(&format!("/api/v1/admin/slots/{slot}"), &json!({"capacity": 2}))
        .await;
    assert_eq!(lowered.status(), StatusCode::CONFLICT, "holds count against capacity");
    assert_eq!(seats(&app, &webinar, slot).await, (3, 4));
}

#[tokio::test]
async fn racing_cancels_claims_and_registrations_never_oversell_nor_offer_a_seat_twice() {
    const SEATS: usize = 100;
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(3), SEATS as i64).await;
    let mut holders = Vec::new();
    for i in 0..SEATS {
        let response = app.register(&webinar, slot, &format!("holder{i}@example.com")).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        holders.push(json_body(response).await);
    }
    let mut waiting = Vec::new();
    for i in 0..SEATS {
        waiting.push(joined(&app, &webinar, slot, &format!("waiting{i}@example.com")).await);
    }

    // Everything at once: every holder cancels, newcomers try to register,
    // and every waiting person tries to claim (most before any offer).
    let app = &app;
    let cancels = holders.iter().map(|holder| async move {
        assert_eq!(cancel(app, holder).await, StatusCode::OK);
    });
    let newcomers = (0..SEATS).map(|i| {
        let webinar = webinar.clone();
        async move {
            let status = app
                .register(&webinar, slot, &format!("newcomer{i}@example.com"))
                .await
                .status();
            assert!(
                status == StatusCode::CREATED || status == StatusCode::CONFLICT,
                "{status}"
            );
            status == StatusCode::CREATED
        }
    });
    let claims = waiting.iter().map(|entry| async move {
        let status = act(app, entry, "claim").await.status();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status}"
        );
    });
    let (_, registered, _) = futures::join!(
        futures::future::join_all(cancels),
        futures::future::join_all(newcomers),
        futures::future::join_all(claims),
    );
    let newcomers_in = registered.iter().filter(|in_| **in_).count();
    assert_eq!(newcomers_in, 0, "every freed seat was held for someone waiting");

    // The rest claim what they were offered.
    for entry in &waiting {
        if place(app, entry).await["status"] == "offered" {
            assert_eq!(act(app, entry, "claim").await.status(), StatusCode::CREATED);
        }
    }
    let confirmed: i64 = app
        .database
        .scalar(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM registrations WHERE slot_id = {slot} AND status = 'confirmed'"
        ))
        .await
        .parse()
        .unwrap();
    let offered: i64 = app
        .database
        .scalar("SELECT CAST(COUNT(*) AS TEXT) FROM waitlist_entries WHERE status = 'offered'")
        .await
        .parse()
        .unwrap();
    let (taken, capacity) = seats(app, &webinar, slot).await;
    assert_eq!(offered, 0);
    assert_eq!(confirmed, SEATS as i64, "each freed seat went to one person waiting");
    assert_eq!(taken, confirmed + offered, "no seat held twice, none lost");
    assert!(taken <= capacity);
    let claimed: i64 = app
        .database
        .scalar("SELECT CAST(COUNT(*) AS TEXT) FROM waitlist_entries WHERE status = 'claimed'")
        .await
        .parse()
        .unwrap();
    assert_eq!(claimed, SEATS as i64);
}

#[tokio::test]
async fn a_visitor_may_join_with_the_lead_inline_and_stays_a_lead_when_refused() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let full = app.slot_at(&webinar, in_days(3), 1).await;
    let open = app.slot_at(&webinar, in_days(4), 5).await;
    app.register(&webinar, full, "asha@example.com").await;
    let leads = app.database.count("leads").await;

    let mut body = turnout_test_support::lead_body(&webinar, "ravi@example.com");
    body["slot_id"] = json!(full);
    let joined = app.post("/api/v1/waitlist", &body).await;
    assert_eq!(joined.status(), StatusCode::CREATED);
    let joined = json_body(joined).await;
    assert_eq!(joined["position"], 1);
    assert_eq!(app.database.count("leads").await, leads + 1, "the lead is recorded");

    body["email"] = json!("meera@example.com");
    body["slot_id"] = json!(open);
    let refused = app.post("/api/v1/waitlist", &body).await;
    assert_eq!(
        refused.status(),
        StatusCode::CONFLICT,
        "seats are left: register instead"
    );
    assert_eq!(
        app.database.count("leads").await,
        leads + 2,
        "a visitor turned away is still a lead"
    );

    body["email"] = json!("not an address");
    body["slot_id"] = json!(full);
    let invalid = app.post("/api/v1/waitlist", &body).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_body(invalid).await["errors"][0]["field"], "email");
    assert_eq!(
        app.database.count("leads").await,
        leads + 2,
        "bad input changes nothing"
    );
}
