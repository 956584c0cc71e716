//! Who attended: marked by an admin from the slot's start (by registration
//! id or address, or from a Zoom participants report), settled by the
//! worker after the slot from join-link openings, never overriding an
//! admin, each change an event; and the rates per slot and webinar.

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{ADMIN_TOKEN, TestApp, in_days, json_body};

/// Registers `email` in `slot`; the registration's JSON.
async fn registered(app: &TestApp, webinar: &str, slot: i64, email: &str) -> Value {
    let response = app.register(webinar, slot, email).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_body(response).await
}

fn id(registration: &Value) -> String {
    registration["registration_id"].as_str().unwrap().to_owned()
}

async fn mark(app: &TestApp, slot: i64, body: &Value) -> reqwest::Response {
    app.admin_post(&format!("/api/v1/admin/slots/{slot}/attendance"), body)
        .await
}

async fn upload(app: &TestApp, slot: i64, report: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/admin/slots/{slot}/attendance")))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(report.to_owned())
        .send()
        .await
        .unwrap()
}

/// Each registration's status, by email, as the admin list has it.
async fn statuses(app: &TestApp) -> Vec<(String, String)> {
    let listing = json_body(app.admin_get("/api/v1/admin/registrations").await).await;
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["email"].as_str().unwrap().to_owned(),
                item["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn events(app: &TestApp, event_type: &str) -> Vec<Value> {
    let body = json_body(
        app.admin_get(&format!("/api/v1/admin/events?event_type={event_type}"))
            .await,
    )
    .await;
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn attendance_is_marked_by_id_or_address_from_the_slot_start_and_once() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app
        .slot_at(&webinar, Timestamp::now() + SignedDuration::from_mins(30), 10)
        .await;
    let asha = registered(&app, &webinar, slot, "asha@example.com").await;
    registered(&app, &webinar, slot, "ravi@example.com").await;
    registered(&app, &webinar, slot, "meera@example.com").await;
    let kiran = registered(&app, &webinar, slot, "kiran@example.com").await;
    let cancel = app
        .client
        .post(app.url(&format!("/api/v1/registrations/{}/cancel", id(&kiran))));
    assert_eq!(
        app.with_token(cancel, kiran["manage_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let body = json!({
        "attended": [id(&asha), "RAVI@example.com"],
        "no_show": ["meera@example.com", "kiran@example.com", "nobody@example.com"],
    });
    let early = mark(&app, slot, &body).await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    assert_eq!(json_body(early).await["type"], "/problems/slot-not-started");
    assert!(
        events(&app, "registration.attended").await.is_empty(),
        "nothing changed"
    );

    app.database.shift_slot(slot, -SignedDuration::from_mins(40)).await;
    let marked = mark(&app, slot, &body).await;
    assert_eq!(marked.status(), StatusCode::OK);
    let marked = json_body(marked).await;
    assert_eq!(marked["changed"].as_array().unwrap().len(), 3, "{marked}");
    assert_eq!(marked["changed"][0]["registration_id"], asha["registration_id"]);
    assert_eq!(marked["changed"][0]["status"], "attended");
    assert_eq!(
        marked["unmatched"],
        json!(["kiran@example.com", "nobody@example.com"]),
        "a cancelled registration is not marked"
    );
    assert_eq!(
        statuses(&app).await,
        [
            ("asha@example.com".to_owned(), "attended".to_owned()),
            ("ravi@example.com".to_owned(), "attended".to_owned()),
            ("meera@example.com".to_owned(), "no_show".to_owned()),
            ("kiran@example.com".to_owned(), "cancelled".to_owned()),
        ]
    );

    let again = json_body(mark(&app, slot, &body).await).await;
    assert_eq!(again["changed"], json!([]), "marking twice changes nothing");
    assert_eq!(again["unchanged"].as_array().unwrap().len(), 3);
    let attended = events(&app, "registration.attended").await;
    assert_eq!(attended.len(), 2, "one event per change");
    assert_eq!(attended[0]["payload"]["status"], "attended");
    assert_eq!(events(&app, "registration.no_show").await.len(), 1);

    // An admin may correct a mark.
    let corrected = json_body(mark(&app, slot, &json!({"attended": ["meera@example.com"]})).await).await;
    assert_eq!(corrected["changed"][0]["status"], "attended");
    assert_eq!(events(&app, "registration.attended").await.len(), 3);
}

#[tokio::test]
async fn a_zoom_participants_report_marks_its_people_attended_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(1), 10).await;
    let asha = registered(&app, &webinar, slot, "asha@example.com").await;
    let ravi = registered(&app, &webinar, slot, "ravi@example.com").await;
    // Over well more than an hour and the grace period ago.
    app.database.shift_slot(slot, -SignedDuration::from_hours(24 + 3)).await;
    let report = "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\n\
        812 3456 7890,ML careers,12/01/2026 06:25:00 PM,12/01/2026 07:35:00 PM,host@example.com,70,3\n\
        \n\
        Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n\
        Asha Verma,Asha@Example.com,12/01/2026 06:28:10 PM,12/01/2026 07:01:00 PM,33,No\n\
        Asha Verma,asha@example.com,12/01/2026 07:05:00 PM,12/01/2026 07:30:00 PM,25,No\n\
        Guest Listener,,12/01/2026 06:30:00 PM,12/01/2026 06:40:00 PM,10,Yes\n\
        Walk In,walkin@example.com,12/01/2026 06:31:00 PM,12/01/2026 07:30:00 PM,59,Yes\n";

    let first = upload(&app, slot, report).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = json_body(first).await;
    assert_eq!(
        first["changed"],
        json!([{"registration_id": asha["registration_id"], "status": "attended"}])
    );
    assert_eq!(
        first["unmatched"],
        json!(["walkin@example.com"]),
        "the host is not a participant"
    );
    let second = json_body(upload(&app, slot, report).await).await;
    assert_eq!(second["changed"], json!([]));
    assert_eq!(second["unchanged"], json!([asha["registration_id"]]));
    assert_eq!(events(&app, "registration.attended").await.len(), 1);

    // Ravi is not in the report: after the grace period the worker judges
    // him from his join link, which he never opened.
    app.worker().run_once(Timestamp::now()).await.unwrap();
    let listing = statuses(&app).await;
    assert_eq!(listing[1], ("ravi@example.com".to_owned(), "no_show".to_owned()));
    assert_eq!(
        events(&app, "registration.no_show").await[0]["payload"]["registration_id"],
        ravi["registration_id"]
    );

    let not_a_report = upload(&app, slot, "Name,Joined\nAsha,yes\n").await;
    assert_eq!(not_a_report.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn after_the_grace_period_join_links_decide_but_never_over_an_admin() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    // Starting in ten minutes: the join window is open.
    let slot = app
        .slot_at(&webinar, Timestamp::now() + SignedDuration::from_mins(10), 10)
        .await;
    let asha = registered(&app, &webinar, slot, "asha@example.com").await;
    registered(&app, &webinar, slot, "ravi@example.com").await;
    registered(&app, &webinar, slot, "meera@example.com").await;
    let opened = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(asha["join_link"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(opened.status().is_success() || opened.status().is_redirection());

    // The webinar (an hour long) is over, but the grace period is not.
    app.database.shift_slot(slot, -SignedDuration::from_mins(10 + 70)).await;
    assert_eq!(
        mark(&app, slot, &json!({"attended": ["meera@example.com"]}))
            .await
            .status(),
        StatusCode::OK,
        "Meera was in the room, without her link"
    );
    let worker = app.worker();
    worker.run_once(Timestamp::now()).await.unwrap();
    assert_eq!(
        statuses(&app).await[1],
        ("ravi@example.com".to_owned(), "confirmed".to_owned()),
        "within the grace period nobody is judged"
    );

    let later = Timestamp::now() + SignedDuration::from_mins(30);
    worker.run_once(later).await.unwrap();
    assert_eq!(
        statuses(&app).await,
        [
            ("asha@example.com".to_owned(), "attended".to_owned()),
            ("ravi@example.com".to_owned(), "no_show".to_owned()),
            ("meera@example.com".to_owned(), "attended".to_owned()),
        ]
    );
    assert_eq!(
        events(&app, "registration.attended").await.len(),
        2,
        "Meera's once, Asha's once"
    );
    assert_eq!(events(&app, "registration.no_show").await.len(), 1);
    worker.run_once(later + SignedDuration::from_mins(5)).await.unwrap();
    assert_eq!(events(&app, "registration.attended").await.len(), 2, "settled once");
}

#[tokio::test]
async fn attendance_and_no_show_rates_per_slot_and_webinar() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let first = app.slot_at(&webinar, in_days(1), 10).await;
    let second = app.slot_at(&webinar, in_days(2), 10).await;
    for email in ["a@example.com", "b@example.com", "c@example.com", "d@example.com"] {
        registered(&app, &webinar, first, email).await;
    }
    registered(&app, &webinar, second, "e@example.com").await;
    app.database
        .shift_slot(first, -SignedDuration::from_hours(24 + 2))
        .await;
    let body = json!({"attended": ["a@example.com", "b@example.com", "c@example.com"], "no_show": ["d@example.com"]});
    assert_eq!(mark(&app, first, &body).await.status(), StatusCode::OK);

    let rates = json_body(
        app.admin_get(&format!("/api/v1/admin/webinars/{webinar}/attendance"))
            .await,
    )
    .await;
    assert_eq!(rates["webinar"], "ml-careers");
    assert_eq!(rates["totals"]["registered"], 5);
    assert_eq!(rates["totals"]["attended"], 3);
    assert_eq!(rates["totals"]["no_show"], 1);
    assert_eq!(rates["totals"]["unsettled"], 1);
    assert_eq!(rates["totals"]["attendance_rate"], 0.75);
    assert_eq!(rates["totals"]["no_show_rate"], 0.25);
    let slots = rates["slots"].as_array().unwrap();
    assert_eq!(slots[0]["slot_id"], first);
    assert_eq!(slots[0]["attendance_rate"], 0.75);
    assert_eq!(slots[1]["slot_id"], second);
    assert!(slots[1].get("attendance_rate").is_none(), "nobody settled yet: {rates}");
    assert_eq!(
        app.admin_get("/api/v1/admin/webinars/no-such-webinar/attendance")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_markings_are_refused_with_the_entry_named_and_change_nothing() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(1), 10).await;
    registered(&app, &webinar, slot, "asha@example.com").await;
    app.database.shift_slot(slot, -SignedDuration::from_hours(25)).await;

    let refused = mark(
        &app,
        slot,
        &json!({"attended": ["asha@example.com", "not an address"], "no_show": ["ASHA@example.com"]}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_body(refused).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["attended[1]", "no_show[0]"], "{body}");
    assert_eq!(statuses(&app).await[0].1, "confirmed");

    assert_eq!(
        mark(&app, 999_999, &json!({"attended": ["asha@example.com"]}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let text = app
        .client
        .post(app.url(&format!("/api/v1/admin/slots/{slot}/attendance")))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/plain")
        .body("asha@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let anonymous = app
        .post(
            &format!("/api/v1/admin/slots/{slot}/attendance"),
            &json!({"attended": []}),
        )
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
