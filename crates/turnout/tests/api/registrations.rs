use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, in_days, json_body};

async fn seats_left(app: &TestApp, slug: &str, slot_id: i64) -> i64 {
    let body = json_body(app.admin_get(&format!("/api/v1/admin/webinars/{slug}/slots")).await).await;
    let slot = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slot_id"] == slot_id)
        .expect("the slot is listed");
    slot["seats_left"].as_i64().unwrap()
}

#[tokio::test]
async fn registering_with_a_lead_takes_a_seat_and_hands_out_a_manage_token() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let (lead_id, lead_token) = app.lead(&webinar, "asha@example.com").await;

    let response = app
        .post(
            "/api/v1/registrations",
            &json!({"slot_id": slot_id, "lead_id": lead_id, "lead_token": lead_token}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_body(response).await;
    assert_eq!(body["status"], "confirmed");
    assert_eq!(body["slot"]["slot_id"], slot_id);
    assert_eq!(body["time_zone"], "Asia/Kolkata");
    assert_eq!(body["manage_token"].as_str().unwrap().len(), 43);
    assert!(
        body["label"]
            .as_str()
            .unwrap()
            .contains(body["time_label"].as_str().unwrap())
    );
    assert!(
        body["calendar"]["google"]
            .as_str()
            .unwrap()
            .starts_with("https://calendar.google.com/")
    );
    assert!(
        body["calendar"]["ics"]
            .as_str()
            .unwrap()
            .contains("/calendar.ics?token=")
    );
    assert_eq!(seats_left(&app, &webinar, slot_id).await, 9);
}

#[tokio::test]
async fn registering_inline_records_the_lead_too() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let response = app.register(&webinar, slot_id, "asha@example.com").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(app.database.count("leads").await, 1);
    assert_eq!(app.database.count("registrations").await, 1);
}

#[tokio::test]
async fn two_hundred_concurrent_registrations_for_fifty_seats_give_exactly_fifty() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 50).await;
    let attempts = (0..200).map(|i| {
        let app = &app;
        let webinar = &webinar;
        async move { app.register(webinar, slot_id, &format!("visitor{i}@example.com")).await }
    });
    let responses = join_all(attempts).await;
    let mut created = 0;
    let mut full = 0;
    for response in responses {
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(json_body(response).await["type"], "/problems/slot-full");
                full += 1;
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!((created, full), (50, 150));
    assert_eq!(seats_left(&app, &webinar, slot_id).await, 0);
    let confirmed = crate::outbox::events(&app, "?event_type=registration.confirmed&limit=1000").await;
    assert_eq!(confirmed.len(), 50, "one event per seat, none for a refusal");
    let leads = crate::outbox::events(&app, "?event_type=lead.created&limit=1000").await;
    assert_eq!(leads.len(), 200, "every visitor is a lead, seat or not");
    assert_eq!(app.database.count("registrations").await, 50);
    let listed = json_body(app.get(&format!("/api/v1/webinars/{webinar}/slots?tz=UTC")).await).await;
    assert_eq!(listed["days"][0]["slots"][0]["status"], "full");
    assert_eq!(listed["days"][0]["slots"][0]["seats_left"], 0);
}

#[tokio::test]
async fn the_same_person_registering_again_keeps_one_seat_and_learns_nothing_of_it() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let other_slot = app.slot_at(&webinar, in_days(4), 10).await;
    let first = app.register(&webinar, slot_id, "asha@example.com").await;
    assert_eq!(first.status(), StatusCode::CREATED);

    let again = app.register(&webinar, other_slot, "ASHA@example.com").await;
    assert_eq!(again.status(), StatusCode::OK);
    let again = json_body(again).await;
    assert_eq!(again["status"], "already_registered");
    assert_eq!(again["webinar"]["slug"], webinar.as_str());
    for revealing in [
        "registration_id",
        "manage_token",
        "slot",
        "label",
        "calendar",
        "time_zone",
    ] {
        assert!(
            again.get(revealing).is_none(),
            "a repeat reveals no {revealing}: {again}"
        );
    }
    assert_eq!(
        seats_left(&app, &webinar, slot_id).await,
        9,
        "the existing seat is kept"
    );
    assert_eq!(
        seats_left(&app, &webinar, other_slot).await,
        10,
        "and no second one taken"
    );
}

#[tokio::test]
async fn concurrent_repeats_by_one_person_hold_one_seat() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let attempts = (0..10).map(|_| app.register(&webinar, slot_id, "asha@example.com"));
    let responses = join_all(attempts).await;
    let mut created = 0;
    for response in responses {
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => assert_eq!(json_body(response).await["status"], "already_registered"),
            other => panic!("a repeat answered {other}"),
        }
    }
    assert_eq!(created, 1, "exactly one request took the seat");
    assert_eq!(seats_left(&app, &webinar, slot_id).await, 9);
}

#[tokio::test]
async fn a_wrong_lead_token_takes_no_seat() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let (lead_id, _) = app.lead(&webinar, "asha@example.com").await;
    let response = app
        .post(
            "/api/v1/registrations",
            &json!({"slot_id": slot_id, "lead_id": lead_id, "lead_token": "guessed"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_body(response).await["errors"][0]["field"], "lead_token");
    assert_eq!(seats_left(&app, &webinar, slot_id).await, 10);
}

#[tokio::test]
async fn a_slot_of_another_webinar_or_no_slot_is_refused() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let other = app.published_webinar("interviews", "America/New_York").await;
    let other_slot = app.slot(&other, 10).await;
    let response = app.register(&webinar, other_slot, "asha@example.com").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_body(response).await["errors"][0]["field"], "slot_id");
    let response = app.register(&webinar, 999_999, "asha@example.com").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(seats_left(&app, &other, other_slot).await, 10);
    assert_eq!(app.database.count("registrations").await, 0);
}

#[tokio::test]
async fn a_closed_slot_takes_no_registrations() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let closed = app
        .admin_post(&format!("/api/v1/admin/slots/{slot_id}/close"), &json!({}))
        .await;
    assert_eq!(closed.status(), StatusCode::OK);
    let response = app.register(&webinar, slot_id, "asha@example.com").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(json_body(response).await["type"], "/problems/slot-closed");
}

async fn registered(app: &TestApp, webinar: &str, slot_id: i64, email: &str) -> (String, String) {
    let body = json_body(app.register(webinar, slot_id, email).await).await;
    (
        body["registration_id"].as_str().unwrap().to_owned(),
        body["manage_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn only_the_manage_token_opens_a_registration() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let (id, token) = registered(&app, &webinar, slot_id, "asha@example.com").await;
    let (_, other_token) = registered(&app, &webinar, slot_id, "ravi@example.com").await;
    let path = format!("/api/v1/registrations/{id}");

    let opened = app.with_token(app.client.get(app.url(&path)), &token).await;
    assert_eq!(opened.status(), StatusCode::OK);
    assert_eq!(json_body(opened).await["registration_id"], id.as_str());

    for suffix in ["", "/calendar.ics"] {
        let url = app.url(&format!("{path}{suffix}"));
        assert_eq!(
            app.client.get(&url).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.with_token(app.client.get(&url), &other_token).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    for action in ["cancel", "reschedule"] {
        let url = app.url(&format!("{path}/{action}"));
        let request = app.client.post(&url).json(&json!({"slot_id": slot_id}));
        assert_eq!(
            app.with_token(request, &other_token).await.status(),
            StatusCode::NOT_FOUND
        );
        let request = app.client.post(&url).json(&json!({"slot_id": slot_id}));
        assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    let bogus = app.client.get(app.url("/api/v1/registrations/not-a-uuid"));
    assert_eq!(app.with_token(bogus, &token).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(seats_left(&app, &webinar, slot_id).await, 8);
}

#[tokio::test]
async fn cancel_frees_the_seat_once() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let (id, token) = registered(&app, &webinar, slot_id, "asha@example.com").await;
    let url = app.url(&format!("/api/v1/registrations/{id}/cancel"));
    for _ in 0..2 {
        let response = app.with_token(app.client.post(&url), &token).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(json_body(response).await["status"], "cancelled");
        assert_eq!(seats_left(&app, &webinar, slot_id).await, 10);
    }
    // Cancelled, the person may register again and takes a new seat.
    let again = app.register(&webinar, slot_id, "asha@example.com").await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(seats_left(&app, &webinar, slot_id).await, 9);
}

#[tokio::test]
async fn reschedule_moves_the_seat() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let from = app.slot(&webinar, 10).await;
    let to = app.slot_at(&webinar, in_days(5), 10).await;
    let (id, token) = registered(&app, &webinar, from, "asha@example.com").await;
    let request = app
        .client
        .post(app.url(&format!("/api/v1/registrations/{id}/reschedule")))
        .json(&json!({"slot_id": to}));
    let response = app.with_token(request, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(response).await["slot"]["slot_id"], to);
    assert_eq!(seats_left(&app, &webinar, from).await, 10);
    assert_eq!(seats_left(&app, &webinar, to).await, 9);
}

#[tokio::test]
async fn reschedule_to_a_full_slot_keeps_the_current_seat() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let from = app.slot(&webinar, 10).await;
    let full = app.slot_at(&webinar, in_days(5), 1).await;
    registered(&app, &webinar, full, "ravi@example.com").await;
    let (id, token) = registered(&app, &webinar, from, "asha@example.com").await;
    let request = app
        .client
        .post(app.url(&format!("/api/v1/registrations/{id}/reschedule")))
        .json(&json!({"slot_id": full}));
    let response = app.with_token(request, &token).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(json_body(response).await["type"], "/problems/slot-full");
    assert_eq!(seats_left(&app, &webinar, from).await, 9);
    assert_eq!(seats_left(&app, &webinar, full).await, 0);
    let current = app
        .with_token(app.client.get(app.url(&format!("/api/v1/registrations/{id}"))), &token)
        .await;
    assert_eq!(json_body(current).await["slot"]["slot_id"], from);
}

#[tokio::test]
async fn reschedule_never_holds_two_seats() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slots = [
        app.slot(&webinar, 5).await,
        app.slot_at(&webinar, in_days(4), 5).await,
        app.slot_at(&webinar, in_days(5), 5).await,
    ];
    let (id, token) = registered(&app, &webinar, slots[0], "asha@example.com").await;
    let url = app.url(&format!("/api/v1/registrations/{id}/reschedule"));
    let moves = (0..30).map(|i| {
        let request = app.client.post(&url).json(&json!({"slot_id": slots[i % 3]}));
        app.with_token(request, &token)
    });
    for response in join_all(moves).await {
        // A move that lost a race to another answers 409 and changes nothing.
        assert!(matches!(response.status(), StatusCode::OK | StatusCode::CONFLICT));
    }
    let mut held = 0;
    for slot in slots {
        held += 5 - seats_left(&app, &webinar, slot).await;
    }
    assert_eq!(held, 1);
    let current = app
        .with_token(app.client.get(app.url(&format!("/api/v1/registrations/{id}"))), &token)
        .await;
    let current: Value = json_body(current).await;
    let slot = current["slot"]["slot_id"].as_i64().unwrap();
    assert_eq!(seats_left(&app, &webinar, slot).await, 4);
}

#[tokio::test]
async fn the_calendar_invite_is_rfc_5545() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let starts_at: jiff::Timestamp = "2030-04-18T12:30:00Z".parse().unwrap();
    let slot_id = app.slot_at(&webinar, starts_at, 10).await;
    let body = json_body(app.register(&webinar, slot_id, "asha@example.com").await).await;
    assert_eq!(body["label"], "Thursday, 18th April, 6 PM");
    let ics_url = body["calendar"]["ics"].as_str().unwrap();
    let response = app.client.get(ics_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/calendar; charset=utf-8");
    let ics = response.text().await.unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.contains("\r\nDTSTART:20300418T123000Z\r\n"));
    assert!(ics.contains("\r\nDTEND:20300418T133000Z\r\n"));
    assert!(ics.contains(&format!(
        "\r\nUID:{}@turnout\r\n",
        body["registration_id"].as_str().unwrap()
    )));
    let unfolded = ics.replace("\r\n ", "");
    let join = body["join_link"].as_str().unwrap();
    assert!(unfolded.contains(&format!("\r\nLOCATION:{join}\r\n")), "{ics}");
    assert!(unfolded.contains(&format!("\r\nURL:{join}\r\n")), "{ics}");
    assert!(
        !unfolded.contains("token="),
        "a calendar entry is shared freely: no manage token in it: {ics}"
    );
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
}

#[tokio::test]
async fn a_visitor_turned_away_by_a_full_slot_is_still_a_lead_but_bad_input_records_nothing() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 1).await;
    app.register(&webinar, slot_id, "asha@example.com").await;

    let full = app.register(&webinar, slot_id, "ravi@example.com").await;
    assert_eq!(full.status(), StatusCode::CONFLICT);
    assert_eq!(app.database.count("leads").await, 2);

    let wrong_slot = app.register(&webinar, 424_242, "meera@example.com").await;
    assert_eq!(wrong_slot.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut unknown_webinar = turnout_test_support::lead_body("no-such-webinar", "meera@example.com");
    unknown_webinar["slot_id"] = json!(slot_id);
    let response = app.post("/api/v1/registrations", &unknown_webinar).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_body(response).await["errors"][0]["field"], "webinar");
    assert_eq!(app.database.count("leads").await, 2);
    assert_eq!(app.database.count("persons").await, 2);
}

#[tokio::test]
async fn two_instances_on_one_database_never_oversell() {
    let first = TestApp::spawn().await;
    let second = first.another_instance().await;
    let webinar = first.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = first.slot(&webinar, 30).await;
    let attempts = (0..100).map(|i| {
        let app = if i % 2 == 0 { &first } else { &second };
        let webinar = &webinar;
        async move {
            app.register(webinar, slot_id, &format!("visitor{i}@example.com"))
                .await
                .status()
        }
    });
    let statuses = join_all(attempts).await;
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let full = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, full), (30, 70), "{statuses:?}");
    assert_eq!(seats_left(&first, &webinar, slot_id).await, 0);
    assert_eq!(first.database.count("registrations").await, 30);
}
