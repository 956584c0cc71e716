use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, json_body};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// (date, day label, [time labels]) of a slots listing.
fn days(listing: &Value) -> Vec<(String, String, Vec<String>)> {
    listing["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|day| {
            (
                day["date"].as_str().unwrap().to_owned(),
                day["label"].as_str().unwrap().to_owned(),
                day["slots"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["time_label"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn published_webinars_list_with_next_slot_and_registration_count() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let later = app.slot_at(&webinar, at("2031-01-10T12:30:00Z"), 5).await;
    let sooner = app.slot_at(&webinar, at("2031-01-09T12:30:00Z"), 1).await;
    app.register(&webinar, later, "asha@example.com").await;
    app.register(&webinar, sooner, "ravi@example.com").await;

    let listing = json_body(app.get("/api/v1/webinars").await).await;
    let item = &listing["items"][0];
    assert_eq!(item["slug"], "ml-careers");
    assert_eq!(item["hosts"][0]["name"], "Asha Verma");
    assert_eq!(item["highlights"][0], "25,000+ professionals trained");
    assert_eq!(item["registrations"], 2);
    // The sooner slot is full, so the next bookable one is the later slot.
    assert_eq!(item["next_slot"]["slot_id"], later);
    assert_eq!(item["next_slot"]["seats_left"], 4);
}

#[tokio::test]
async fn a_draft_webinar_is_neither_listed_nor_shown() {
    let app = TestApp::spawn().await;
    let response = app
        .admin_post(
            "/api/v1/admin/webinars",
            &json!({"slug": "secret", "title": "Draft", "time_zone": "UTC", "duration_minutes": 30}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(json_body(app.get("/api/v1/webinars").await).await["items"], json!([]));
    for path in ["/api/v1/webinars/secret", "/api/v1/webinars/secret/slots"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(json_body(response).await["type"], "/problems/not-found");
    }
    let detail = app.get("/api/v1/webinars/NOT%20A%20SLUG").await;
    assert_eq!(detail.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn slots_group_by_the_visitors_local_day_in_every_zone() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    // 6 PM and 11:50 PM in Kolkata on Friday 18 April 2031; the second is
    // already Saturday in Kathmandu (+5:45).
    app.slot_at(&webinar, at("2031-04-18T12:30:00Z"), 50).await;
    app.slot_at(&webinar, at("2031-04-18T18:20:00Z"), 50).await;

    let expect = [
        (
            "Asia/Kolkata",
            vec![("2031-04-18", "Friday, 18th April", vec!["6 PM", "11:50 PM"])],
        ),
        (
            "America/New_York",
            vec![("2031-04-18", "Friday, 18th April", vec!["8:30 AM", "2:20 PM"])],
        ),
        (
            "Asia/Kathmandu",
            vec![
                ("2031-04-18", "Friday, 18th April", vec!["6:15 PM"]),
                ("2031-04-19", "Saturday, 19th April", vec!["12:05 AM"]),
            ],
        ),
        (
            "Europe/London",
            vec![("2031-04-18", "Friday, 18th April", vec!["1:30 PM", "7:20 PM"])],
        ),
    ];
    for (zone, expected) in expect {
        let listing = json_body(app.get(&format!("/api/v1/webinars/{webinar}/slots?tz={zone}")).await).await;
        assert_eq!(listing["time_zone"], zone);
        let expected: Vec<(String, String, Vec<String>)> = expected
            .into_iter()
            .map(|(d, l, t)| (d.into(), l.into(), t.into_iter().map(String::from).collect()))
            .collect();
        assert_eq!(days(&listing), expected, "in {zone}");
    }
    let listing = json_body(
        app.get(&format!("/api/v1/webinars/{webinar}/slots?tz=Asia/Kolkata"))
            .await,
    )
    .await;
    let slot = &listing["days"][0]["slots"][0];
    assert_eq!(slot["label"], "Friday, 18th April, 6 PM");
    assert_eq!(slot["starts_at"], "2031-04-18T12:30:00Z");
    assert_eq!(slot["status"], "open");
    assert_eq!(slot["seats_left"], 50);
}

#[tokio::test]
async fn slots_either_side_of_a_dst_change_keep_the_organisers_wall_clock() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("interviews", "America/New_York").await;
    // New York springs forward on Sunday 9 March 2031; London on 30 March.
    let created = app
        .admin_post(
            &format!("/api/v1/admin/webinars/{webinar}/slots"),
            &json!({
                "capacity": 40,
                "recurrence": {"start_date": "2031-03-07", "local_time": "18:00",
                               "weekdays": ["friday", "monday"], "count": 2},
            }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(json_body(created).await["slot_ids"].as_array().unwrap().len(), 2);

    let organiser = json_body(
        app.get(&format!("/api/v1/webinars/{webinar}/slots?tz=America/New_York"))
            .await,
    )
    .await;
    assert_eq!(
        days(&organiser),
        vec![
            ("2031-03-07".into(), "Friday, 7th March".into(), vec!["6 PM".into()]),
            ("2031-03-10".into(), "Monday, 10th March".into(), vec!["6 PM".into()]),
        ]
    );
    let starts: Vec<&str> = organiser["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["slots"][0]["starts_at"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["2031-03-07T23:00:00Z", "2031-03-10T22:00:00Z"]);

    // In London, which has not changed yet, the gap between the two is an hour shorter.
    let london = json_body(
        app.get(&format!("/api/v1/webinars/{webinar}/slots?tz=Europe/London"))
            .await,
    )
    .await;
    assert_eq!(
        days(&london),
        vec![
            ("2031-03-07".into(), "Friday, 7th March".into(), vec!["11 PM".into()]),
            ("2031-03-10".into(), "Monday, 10th March".into(), vec!["10 PM".into()]),
        ]
    );
}

#[tokio::test]
async fn an_unknown_time_zone_is_named_in_the_problem() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let response = app
        .get(&format!("/api/v1/webinars/{webinar}/slots?tz=Mars/Olympus"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_body(response).await["errors"][0]["field"], "tz");
}

#[tokio::test]
async fn without_tz_slots_are_labelled_in_the_organisers_zone() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.slot_at(&webinar, at("2031-04-18T12:30:00Z"), 50).await;
    let listing = json_body(app.get(&format!("/api/v1/webinars/{webinar}/slots")).await).await;
    assert_eq!(listing["time_zone"], "Asia/Kolkata");
    assert_eq!(listing["days"][0]["slots"][0]["time_label"], "6 PM");
}

#[tokio::test]
async fn the_slot_listing_follows_seat_changes_at_once() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 2).await;
    let path = format!("/api/v1/webinars/{webinar}/slots?tz=UTC");
    let seats = |listing: Value| listing["days"][0]["slots"][0]["seats_left"].as_i64().unwrap();
    assert_eq!(seats(json_body(app.get(&path).await).await), 2);
    app.register(&webinar, slot_id, "asha@example.com").await;
    assert_eq!(seats(json_body(app.get(&path).await).await), 1);
    let patched = app
        .admin_patch(&format!("/api/v1/admin/slots/{slot_id}"), &json!({"capacity": 5}))
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    assert_eq!(seats(json_body(app.get(&path).await).await), 4);
}
