use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, json_body, lead_body};

fn fields(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_owned(),
                        e["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_valid_lead_answers_201_with_its_id_and_token() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let response = app
        .post("/api/v1/leads", &lead_body(&webinar, "asha@example.com"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_body(response).await;
    assert!(uuid::Uuid::parse_str(body["lead_id"].as_str().unwrap()).is_ok());
    assert_eq!(body["lead_token"].as_str().unwrap().len(), 43);
    assert_eq!(app.database.count("leads").await, 1);
    assert_eq!(app.database.count("consents").await, 1);
}

#[tokio::test]
async fn a_person_is_deduplicated_by_normalised_email() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.lead(&webinar, "Asha@Example.com").await;
    app.lead(&webinar, "asha@example.COM").await;
    assert_eq!(app.database.count("persons").await, 1);
    assert_eq!(app.database.count("leads").await, 2);
}

#[tokio::test]
async fn without_a_country_a_national_number_is_read_in_the_visitors_zone() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    for (i, phone) in ["9876543210", "09876543210", "98765-43210"].into_iter().enumerate() {
        let mut body = lead_body(&webinar, &format!("n{i}@example.com"));
        body["phone"] = json!(phone);
        let response = app.post("/api/v1/leads", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{phone}");
    }
    let mut london = lead_body(&webinar, "tom@example.com");
    london["time_zone"] = json!("Europe/London");
    london["phone"] = json!("9876543210");
    let refused = json_body(app.post("/api/v1/leads", &london).await).await;
    assert_eq!(
        fields(&refused),
        vec![(
            "phone".to_owned(),
            "Enter a 10-digit mobile number, or start with +".to_owned()
        )],
        "read as a British number, which this is not"
    );
    london["phone"] = json!("+91 98765 43210");
    assert_eq!(app.post("/api/v1/leads", &london).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_phone_field_lists_countries_and_guesses_the_visitors() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/phone-countries?tz=Asia/Kolkata").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=86400");
    let body = json_body(response).await;
    assert_eq!(body["default"], "IN");
    let countries = body["countries"].as_array().unwrap();
    assert!(countries.len() > 200, "{}", countries.len());
    let india = countries.iter().find(|c| c["code"] == "IN").unwrap();
    assert_eq!(india["calling_code"], 91);
    assert!(india["example"].as_str().unwrap().starts_with('0'), "{india}");
    let none = json_body(app.get("/api/v1/phone-countries").await).await;
    assert_eq!(none["default"], Value::Null);
    let bad = app.get("/api/v1/phone-countries?tz=Mars/Olympus").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&json_body(bad).await)[0].0, "tz");
}

#[tokio::test]
async fn national_phone_numbers_are_read_with_the_country() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    for (i, (country, phone)) in [("IN", "098765 43210"), ("AU", "0412 345 678"), ("US", "(201) 555-0123")]
        .into_iter()
        .enumerate()
    {
        let mut body = lead_body(&webinar, &format!("p{i}@example.com"));
        body["country"] = json!(country);
        body["phone"] = json!(phone);
        let response = app.post("/api/v1/leads", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{country} {phone}");
    }
}

#[tokio::test]
async fn an_invalid_phone_gets_the_widgets_message_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let mut body = lead_body(&webinar, "asha@example.com");
    body["phone"] = json!("12345");
    let response = app.post("/api/v1/leads", &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem = json_body(response).await;
    assert_eq!(problem["type"], "/problems/validation");
    assert_eq!(
        fields(&problem),
        vec![(
            "phone".to_owned(),
            "Enter a 10-digit mobile number, or start with +".to_owned()
        )]
    );
    assert_eq!(app.database.count("persons").await, 0);
    assert_eq!(app.database.count("leads").await, 0);
}

#[tokio::test]
async fn every_bad_field_is_named_at_once() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let body = json!({
        "webinar": webinar,
        "name": "  ",
        "email": "not-an-email",
        "phone": "12345",
        "country": "XX",
        "time_zone": "Mars/Olympus",
        "consent": {"privacy_policy": false},
        "attribution": {"utm_source": "x".repeat(201)},
    });
    let response = app.post("/api/v1/leads", &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let named: Vec<String> = fields(&json_body(response).await).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        named,
        [
            "name",
            "email",
            "country",
            "phone",
            "time_zone",
            "consent.privacy_policy",
            "attribution.utm_source"
        ]
    );
    assert_eq!(app.database.count("leads").await, 0);
}

#[tokio::test]
async fn unknown_and_mistyped_fields_are_named() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let mut body = lead_body(&webinar, "asha@example.com");
    body["favourite_colour"] = json!("teal");
    let problem = json_body(app.post("/api/v1/leads", &body).await).await;
    assert_eq!(problem["status"], 422);
    assert_eq!(fields(&problem)[0].0, "favourite_colour");

    let mut body = lead_body(&webinar, "asha@example.com");
    body["consent"]["privacy_policy"] = json!("yes");
    let problem = json_body(app.post("/api/v1/leads", &body).await).await;
    assert_eq!(fields(&problem)[0].0, "consent.privacy_policy");

    let mut body = lead_body(&webinar, "asha@example.com");
    body.as_object_mut().unwrap().remove("email");
    let problem = json_body(app.post("/api/v1/leads", &body).await).await;
    assert_eq!(fields(&problem)[0].0, "email");
    assert_eq!(app.database.count("leads").await, 0);
}

#[tokio::test]
async fn a_lead_for_a_webinar_that_is_not_published_is_refused() {
    let app = TestApp::spawn().await;
    let response = app
        .post("/api/v1/leads", &lead_body("no-such-webinar", "asha@example.com"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&json_body(response).await)[0].0, "webinar");
}

#[tokio::test]
async fn malformed_oversized_and_non_json_bodies_are_4xx() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/api/v1/leads"))
        .header("content-type", "application/json")
        .body("{\"webinar\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(response).await["type"], "/problems/malformed-request");

    let response = app
        .client
        .post(app.url("/api/v1/leads"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let mut body = lead_body("ml-careers", "asha@example.com");
    body["name"] = json!("x".repeat(70 * 1024));
    let response = app.post("/api/v1/leads", &body).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json_body(response).await["type"], "/problems/payload-too-large");
}
