use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, json_body};

async fn windows(app: &TestApp, zone: &str) -> Value {
    let response = app.get(&format!("/api/v1/consultation-windows?tz={zone}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    json_body(response).await
}

/// The first window of tomorrow (visitor's day) with the given key.
fn tomorrow(listing: &Value, key: &str) -> Value {
    let days = listing["days"].as_array().unwrap();
    let today = days[0]["date"].as_str().unwrap();
    days.iter()
        .filter(|day| day["date"].as_str().unwrap() > today)
        .flat_map(|day| day["windows"].as_array().unwrap())
        .find(|window| window["key"] == key)
        .cloned()
        .expect("the window is listed")
}

async fn ask(app: &TestApp, lead: &(String, String), window_id: &str) -> reqwest::Response {
    app.post(
        "/api/v1/consultations",
        &json!({"lead_id": lead.0, "lead_token": lead.1, "window_id": window_id}),
    )
    .await
}

#[tokio::test]
async fn windows_are_offered_in_the_visitors_zone_and_available_only_when_an_advisor_covers_them() {
    let app = TestApp::spawn().await;
    let listing = windows(&app, "Asia/Kathmandu").await;
    assert_eq!(listing["time_zone"], "Asia/Kathmandu");
    let days = listing["days"].as_array().unwrap();
    assert!(days.len() >= 7, "today (if any window is left) and seven days ahead");
    let mornings = tomorrow(&listing, "mornings");
    assert_eq!(mornings["label"], "Mornings, 8–10 AM");
    assert!(
        mornings["starts_at"].as_str().unwrap().ends_with(":15:00Z"),
        "8 AM at +5:45 is :15 UTC"
    );
    assert_eq!(mornings["available"], false, "no advisor yet");

    // A London advisor working 09:00–17:00 covers Kathmandu evenings
    // (18:00–21:00 is 12:15–15:15 UTC) but not its mornings.
    app.advisor("tom@example.com", "Europe/London", ("09:00", "17:00"), 3)
        .await;
    let listing = windows(&app, "Asia/Kathmandu").await;
    assert_eq!(tomorrow(&listing, "evenings")["available"], true);
    assert_eq!(tomorrow(&listing, "mornings")["available"], false);
    let bad = app.get("/api/v1/consultation-windows?tz=Nowhere/Special").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_body(bad).await["errors"][0]["field"], "tz");
}

#[tokio::test]
async fn asking_for_a_callback_assigns_an_advisor_and_asking_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 2)
        .await;
    let lead = app.lead(&webinar, "asha@example.com").await;
    let evenings = tomorrow(&windows(&app, "Asia/Kolkata").await, "evenings");
    let window_id = evenings["window_id"].as_str().unwrap();

    let response = ask(&app, &lead, window_id).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created = json_body(response).await;
    assert_eq!(created["status"], "assigned");
    assert_eq!(created["advisor"]["name"], "Priya Natarajan");
    assert_eq!(created["window"]["label"], "Evenings, 6–9 PM");
    assert_eq!(created["window"]["window_id"], window_id);
    assert_eq!(created["window"]["starts_at"], evenings["starts_at"]);
    assert_eq!(created["window"]["time_zone"], "Asia/Kolkata");

    let mornings = tomorrow(&windows(&app, "Asia/Kolkata").await, "mornings");
    let again = ask(&app, &lead, mornings["window_id"].as_str().unwrap()).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again = json_body(again).await;
    assert_eq!(again["consultation_id"], created["consultation_id"]);
    assert_eq!(again["window"]["label"], "Evenings, 6–9 PM");
    assert_eq!(app.database.count("consultations").await, 1);
}

#[tokio::test]
async fn a_hundred_requests_for_ten_calls_give_exactly_ten() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 7)
        .await;
    app.advisor("oliver@example.com", "Asia/Kolkata", ("00:00", "23:59"), 3)
        .await;
    let mut leads = Vec::new();
    for i in 0..100 {
        leads.push(app.lead(&webinar, &format!("visitor{i}@example.com")).await);
    }
    let listing = windows(&app, "Asia/Kolkata").await;
    let window_id = tomorrow(&listing, "afternoons")["window_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let requests = leads.iter().map(|lead| ask(&app, lead, &window_id));
    let mut created = 0;
    let mut full = 0;
    for response in join_all(requests).await {
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(json_body(response).await["type"], "/problems/window-full");
                full += 1;
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!((created, full), (10, 90));
    let advisors = json_body(app.admin_get("/api/v1/admin/advisors").await).await;
    assert_eq!(advisors["items"].as_array().unwrap().len(), 2);
    assert_eq!(app.database.count("consultations").await, 10);
    let window = tomorrow(&windows(&app, "Asia/Kolkata").await, "afternoons");
    assert_eq!(window["available"], false);
}

#[tokio::test]
async fn bad_requests_for_a_callback_name_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 2)
        .await;
    let lead = app.lead(&webinar, "asha@example.com").await;
    let window_id = tomorrow(&windows(&app, "Asia/Kolkata").await, "evenings")["window_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let date = window_id.split('/').next().unwrap();
    let cases = [
        (
            lead.0.clone(),
            "wrong-token".to_owned(),
            window_id.clone(),
            "lead_token",
        ),
        (lead.0.clone(), lead.1.clone(), format!("{date}/lunchtime"), "window_id"),
        (
            lead.0.clone(),
            lead.1.clone(),
            "2020-01-01/evenings".to_owned(),
            "window_id",
        ),
        (
            lead.0.clone(),
            lead.1.clone(),
            "2099-01-01/evenings".to_owned(),
            "window_id",
        ),
        (
            lead.0.clone(),
            lead.1.clone(),
            "tomorrow evening".to_owned(),
            "window_id",
        ),
    ];
    for (lead_id, token, window_id, field) in cases {
        let response = ask(&app, &(lead_id, token), &window_id).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{window_id}");
        assert_eq!(json_body(response).await["errors"][0]["field"], field, "{window_id}");
    }
    let response = app
        .post(
            "/api/v1/consultations",
            &json!({"lead_id": "not-a-uuid", "lead_token": "x", "window_id": window_id}),
        )
        .await;
    assert_eq!(json_body(response).await["errors"][0]["field"], "lead_id");
    assert_eq!(app.database.count("consultations").await, 0);
}

#[tokio::test]
async fn advisors_are_validated_and_get_tokens_from_an_admin() {
    let app = TestApp::spawn().await;
    let response = app
        .admin_post(
            "/api/v1/admin/advisors",
            &json!({
                "name": "",
                "email": "nope",
                "time_zone": "Mars/Olympus",
                "availability": [{"weekday": "funday", "starts": "09:00", "ends": "08:00"}],
                "max_calls_per_window": 0,
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let named: Vec<String> = json_body(response).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        named,
        [
            "name",
            "email",
            "time_zone",
            "max_calls_per_window",
            "availability[0].weekday"
        ]
    );
    assert_eq!(app.database.count("advisors").await, 0);

    let id = app
        .advisor("nadia@example.com", "Asia/Kolkata", ("09:00", "17:00"), 2)
        .await;
    let duplicate = app
        .admin_post(
            "/api/v1/admin/advisors",
            &json!({"name": "N", "email": "nadia@example.com", "time_zone": "UTC",
                    "availability": [{"weekday": "mon", "starts": "09:00", "ends": "10:00"}],
                    "max_calls_per_window": 1}),
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);

    let token = app
        .admin_post(&format!("/api/v1/admin/advisors/{id}/tokens"), &json!({}))
        .await;
    assert_eq!(token.status(), StatusCode::CREATED);
    let token = json_body(token).await["token"].as_str().unwrap().to_owned();
    let hash = turnout_domain::SecretToken::from_presented(token).hash();
    let stored = app.store().find_api_token(&hash, jiff::Timestamp::now()).await.unwrap();
    assert_eq!(stored.and_then(|token| token.advisor_id), Some(id));
    let missing = app.admin_post("/api/v1/admin/advisors/999999/tokens", &json!({})).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let unauthorised = app.post("/api/v1/admin/advisors", &json!({})).await;
    assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn admins_choose_the_windows_on_offer() {
    let app = TestApp::spawn().await;
    let current = json_body(app.admin_get("/api/v1/admin/consultation-windows").await).await;
    assert_eq!(current["days_ahead"], 7);
    assert_eq!(current["windows"].as_array().unwrap().len(), 3);

    let bad = app
        .client
        .put(app.url("/api/v1/admin/consultation-windows"))
        .bearer_auth(turnout_test_support::ADMIN_TOKEN)
        .json(&json!({"days_ahead": 0, "windows": [
            {"key": "lunch", "name": "Lunchtime", "starts": "12:00", "ends": "11:00"},
            {"key": "lunch", "name": "Lunch again", "starts": "12:00", "ends": "13:00"},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let named: Vec<String> = json_body(bad).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(named, ["days_ahead", "windows[0].ends", "windows[1].key"]);

    let good = app
        .client
        .put(app.url("/api/v1/admin/consultation-windows"))
        .bearer_auth(turnout_test_support::ADMIN_TOKEN)
        .json(&json!({"days_ahead": 3, "windows": [
            {"key": "lunch", "name": "Lunchtime", "starts": "12:30", "ends": "14:00"},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    let listing = windows(&app, "Europe/London").await;
    let days = listing["days"].as_array().unwrap();
    assert!(days.len() <= 4);
    assert_eq!(days.last().unwrap()["windows"][0]["label"], "Lunchtime, 12:30–2 PM");
}

#[tokio::test]
async fn the_registration_summary_shows_the_callback_window_next_to_the_webinar() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    app.advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 2)
        .await;
    let lead = app.lead(&webinar, "asha@example.com").await;
    let registration = json_body(
        app.post(
            "/api/v1/registrations",
            &json!({"slot_id": slot_id, "lead_id": lead.0, "lead_token": lead.1}),
        )
        .await,
    )
    .await;
    let path = format!(
        "/api/v1/registrations/{}",
        registration["registration_id"].as_str().unwrap()
    );
    let token = registration["manage_token"].as_str().unwrap();
    let before = json_body(app.with_token(app.client.get(app.url(&path)), token).await).await;
    assert!(before.get("consultation").is_none());

    let mornings = tomorrow(&windows(&app, "Asia/Kolkata").await, "mornings");
    let asked = json_body(ask(&app, &lead, mornings["window_id"].as_str().unwrap()).await).await;
    let summary = json_body(app.with_token(app.client.get(app.url(&path)), token).await).await;
    assert_eq!(summary["consultation"]["consultation_id"], asked["consultation_id"]);
    assert_eq!(summary["consultation"]["label"], "Mornings, 8–10 AM");
    assert_eq!(summary["consultation"]["day_label"], asked["window"]["day_label"]);
    assert_eq!(summary["label"], registration["label"]);
}
