use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, json_body};

struct Setup {
    app: TestApp,
    /// (consultation id, lead token) for Asha (first advisor) and Ravi (second).
    asha: (String, String),
    ravi: (String, String),
    first_token: String,
    second_token: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let first = app
        .advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 1)
        .await;
    let second = app
        .advisor("oliver@example.com", "Asia/Kolkata", ("00:00", "23:59"), 1)
        .await;
    let token = |id: i64| {
        let app = &app;
        async move {
            let response = app
                .admin_post(&format!("/api/v1/admin/advisors/{id}/tokens"), &json!({}))
                .await;
            json_body(response).await["token"].as_str().unwrap().to_owned()
        }
    };
    let (first_token, second_token) = (token(first).await, token(second).await);
    let listing = json_body(app.get("/api/v1/consultation-windows?tz=Asia/Kolkata").await).await;
    let window_id = listing["days"][1]["windows"][2]["window_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut consultations = Vec::new();
    for email in ["asha@example.com", "ravi@example.com"] {
        let (lead_id, lead_token) = app.lead(&webinar, email).await;
        let response = app
            .post(
                "/api/v1/consultations",
                &json!({"lead_id": lead_id, "lead_token": lead_token, "window_id": window_id}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let id = json_body(response).await["consultation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        consultations.push((id, lead_token));
    }
    let ravi = consultations.pop().unwrap();
    let asha = consultations.pop().unwrap();
    Setup {
        app,
        asha,
        ravi,
        first_token,
        second_token,
    }
}

async fn queue(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.with_token(
        app.client
            .get(app.url(&format!("/api/v1/advisor/consultations{query}"))),
        token,
    )
    .await
}

async fn report(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    let request = app
        .client
        .patch(app.url(&format!("/api/v1/advisor/consultations/{id}")))
        .json(&body);
    app.with_token(request, token).await
}

#[tokio::test]
async fn an_advisor_sees_and_changes_only_their_own_queue() {
    let s = setup().await;
    let mine = json_body(queue(&s.app, &s.first_token, "").await).await;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["consultation_id"], s.asha.0.as_str());
    assert_eq!(items[0]["visitor"]["email"], "asha@example.com");
    assert_eq!(items[0]["visitor"]["phone"], "+919876543210");
    assert_eq!(items[0]["window_label"], "Evenings, 6–9 PM");

    let theirs = report(&s.app, &s.second_token, &s.asha.0, json!({"status": "called"})).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let download = s
        .app
        .with_token(
            s.app
                .client
                .get(s.app.url(&format!("/api/v1/advisor/consultations/{}/resume", s.asha.0))),
            &s.second_token,
        )
        .await;
    assert_eq!(download.status(), StatusCode::NOT_FOUND);
    for token in ["", "not-a-token"] {
        let response = queue(&s.app, token, "").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(s.app.database.count("consultation_events").await, 0);
}

#[tokio::test]
async fn call_outcomes_are_recorded_with_an_append_only_history() {
    let s = setup().await;
    let first = report(&s.app, &s.first_token, &s.asha.0, json!({"status": "no_answer"})).await;
    assert_eq!(first.status(), StatusCode::OK);
    let second = report(
        &s.app,
        &s.first_token,
        &s.asha.0,
        json!({"status": "completed", "notes": "Interested in the ML track; send the syllabus."}),
    )
    .await;
    assert_eq!(json_body(second).await["status"], "completed");
    let notes_only = report(&s.app, &s.first_token, &s.asha.0, json!({"notes": "Syllabus sent."})).await;
    assert_eq!(json_body(notes_only).await["status"], "completed");
    assert_eq!(s.app.database.count("consultation_events").await, 3);

    let listed = json_body(queue(&s.app, &s.first_token, "?status=completed").await).await;
    assert_eq!(listed["items"][0]["notes"], "Syllabus sent.");
    let none = json_body(queue(&s.app, &s.first_token, "?status=assigned").await).await;
    assert_eq!(none["items"], json!([]));

    for body in [json!({"status": "assigned"}), json!({"status": "lost"}), json!({})] {
        let response = report(&s.app, &s.first_token, &s.asha.0, body.clone()).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let bad = queue(&s.app, &s.first_token, "?date=tomorrow").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.app.database.count("consultation_events").await, 3);
}

#[tokio::test]
async fn the_queue_filters_by_the_day_in_a_zone() {
    let s = setup().await;
    let all = json_body(queue(&s.app, &s.second_token, "").await).await;
    let item = &all["items"][0];
    assert_eq!(item["consultation_id"], s.ravi.0.as_str());
    let starts: jiff::Timestamp = item["starts_at"].as_str().unwrap().parse().unwrap();
    let day = starts.to_zoned(jiff::tz::TimeZone::get("Asia/Kolkata").unwrap()).date();
    let same_day = json_body(queue(&s.app, &s.second_token, &format!("?date={day}&tz=Asia/Kolkata")).await).await;
    assert_eq!(same_day["items"].as_array().unwrap().len(), 1);
    let next_day = day.tomorrow().unwrap();
    let other_day = json_body(queue(&s.app, &s.second_token, &format!("?date={next_day}&tz=Asia/Kolkata")).await).await;
    assert_eq!(other_day["items"], json!([]));
}

#[tokio::test]
async fn the_advisor_downloads_the_resume_with_its_type_and_a_safe_name() {
    let s = setup().await;
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(5_000, b' ');
    let uploaded = s
        .app
        .client
        .put(s.app.url(&format!("/api/v1/consultations/{}/resume", s.asha.0)))
        .query(&[("filename", "Asha \"CV\" 2026.pdf")])
        .bearer_auth(&s.asha.1)
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let listed = json_body(queue(&s.app, &s.first_token, "").await).await;
    assert_eq!(listed["items"][0]["resume"]["content_type"], "application/pdf");
    assert_eq!(listed["items"][0]["resume"]["review_status"], "pending");

    let download = s
        .app
        .with_token(
            s.app
                .client
                .get(s.app.url(&format!("/api/v1/advisor/consultations/{}/resume", s.asha.0))),
            &s.first_token,
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
    let disposition = download.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"Asha _CV_ 2026.pdf\""),
        "{disposition}"
    );
    assert_eq!(download.bytes().await.unwrap().as_ref(), pdf.as_slice());
}

#[tokio::test]
async fn admins_list_every_consultation_and_reassign_within_capacity() {
    let s = setup().await;
    let all = json_body(s.app.admin_get("/api/v1/admin/consultations").await).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let asha = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["consultation_id"] == s.asha.0.as_str())
        .unwrap()
        .clone();
    let first_id = asha["advisor"]["advisor_id"].as_i64().unwrap();
    let filtered = json_body(
        s.app
            .admin_get(&format!(
                "/api/v1/admin/consultations?advisor_id={first_id}&status=assigned"
            ))
            .await,
    )
    .await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);

    let path = format!("/api/v1/admin/consultations/{}/reassign", s.asha.0);
    let second_id = first_id + 1;
    let full = s.app.admin_post(&path, &json!({"advisor_id": second_id})).await;
    assert_eq!(
        full.status(),
        StatusCode::CONFLICT,
        "the second advisor's one call is Ravi's"
    );
    assert_eq!(json_body(full).await["type"], "/problems/advisor-full");

    let night_owl = s
        .app
        .advisor("owl@example.com", "America/New_York", ("01:00", "02:00"), 5)
        .await;
    let not_covering = s.app.admin_post(&path, &json!({"advisor_id": night_owl})).await;
    assert_eq!(not_covering.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = s.app.admin_post(&path, &json!({"advisor_id": 999_999})).await;
    assert_eq!(json_body(unknown).await["errors"][0]["field"], "advisor_id");
    let missing = s
        .app
        .admin_post(
            "/api/v1/admin/consultations/01a22693-0000-7000-8000-000000000000/reassign",
            &json!({"advisor_id": 1}),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let third = s
        .app
        .advisor("mira@example.com", "Asia/Kolkata", ("00:00", "23:59"), 2)
        .await;
    let moved = s.app.admin_post(&path, &json!({"advisor_id": third})).await;
    assert_eq!(moved.status(), StatusCode::OK);
    assert_eq!(s.app.database.count("consultation_events").await, 1);
    let theirs = json_body(queue(&s.app, &s.first_token, "").await).await;
    assert_eq!(theirs["items"], json!([]), "the first advisor's queue is empty again");

    // The first advisor's call was given back: a new visitor gets them.
    let listing = json_body(s.app.get("/api/v1/consultation-windows?tz=Asia/Kolkata").await).await;
    let window_id = listing["days"][1]["windows"][2]["window_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (lead_id, lead_token) = s.app.lead("ml-careers", "meera@example.com").await;
    let asked = s
        .app
        .post(
            "/api/v1/consultations",
            &json!({"lead_id": lead_id, "lead_token": lead_token, "window_id": window_id}),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::CREATED);
    let mine = json_body(queue(&s.app, &s.first_token, "").await).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_advisor_reviews_the_resume_with_comments() {
    let s = setup().await;
    let path = format!("/api/v1/advisor/consultations/{}/resume/reviews", s.asha.0);
    let post = |token: &str, body: Value| {
        let request = s.app.client.post(s.app.url(&path)).json(&body).bearer_auth(token);
        async move { request.send().await.unwrap() }
    };
    // No résumé yet: nothing to review.
    assert_eq!(
        post(&s.first_token, json!({"comment": "Hi"})).await.status(),
        StatusCode::NOT_FOUND
    );
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(1_000, b' ');
    let uploaded = s
        .app
        .client
        .put(s.app.url(&format!("/api/v1/consultations/{}/resume", s.asha.0)))
        .bearer_auth(&s.asha.1)
        .body(pdf)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);

    let started = post(&s.first_token, json!({"status": "in_review"})).await;
    assert_eq!(json_body(started).await["review_status"], "in_review");
    let commented = post(
        &s.first_token,
        json!({"comment": "Lead with the ML project; cut the summary.", "status": "reviewed"}),
    )
    .await;
    assert_eq!(commented.status(), StatusCode::OK);
    let reviews = json_body(commented).await;
    assert_eq!(reviews["review_status"], "reviewed");
    assert_eq!(
        reviews["comments"][0]["comment"],
        "Lead with the ML project; cut the summary."
    );

    let listed = json_body(
        s.app
            .with_token(s.app.client.get(s.app.url(&path)), &s.first_token)
            .await,
    )
    .await;
    assert_eq!(listed["comments"].as_array().unwrap().len(), 1);
    let queue = json_body(queue(&s.app, &s.first_token, "").await).await;
    assert_eq!(queue["items"][0]["resume"]["review_status"], "reviewed");

    assert_eq!(
        post(&s.second_token, json!({"comment": "Mine now"})).await.status(),
        StatusCode::NOT_FOUND
    );
    for body in [json!({}), json!({"status": "approved"}), json!({"comment": "  "})] {
        let response = post(&s.first_token, body.clone()).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    assert_eq!(s.app.database.count("resume_reviews").await, 1);
}
