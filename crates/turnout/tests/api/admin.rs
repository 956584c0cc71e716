use reqwest::StatusCode;
use serde_json::json;
use turnout_store::{ApiTokenRole, NewApiToken};
use turnout_test_support::{TestApp, in_days, json_body};

#[tokio::test]
async fn admin_routes_need_an_admin_token() {
    let app = TestApp::spawn().await;
    let routes = [
        ("GET", "/api/v1/admin/webinars"),
        ("POST", "/api/v1/admin/webinars"),
        ("PATCH", "/api/v1/admin/webinars/x"),
        ("POST", "/api/v1/admin/webinars/x/archive"),
        ("POST", "/api/v1/admin/webinars/x/slots"),
        ("GET", "/api/v1/admin/webinars/x/slots"),
        ("PATCH", "/api/v1/admin/slots/1"),
        ("POST", "/api/v1/admin/slots/1/close"),
    ];
    for (method, path) in routes {
        for token in [None, Some("wrong")] {
            let mut request = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .json(&json!({}));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            assert_eq!(json_body(response).await["type"], "/problems/unauthorized");
        }
    }
}

#[tokio::test]
async fn a_stored_api_token_is_an_admin_credential() {
    let app = TestApp::spawn().await;
    let (new, token) = NewApiToken::issue(ApiTokenRole::Admin, None, "ci", 30, jiff::Timestamp::now());
    app.store()
        .create_api_token(&new, jiff::Timestamp::now())
        .await
        .unwrap();
    let response = app
        .client
        .get(app.url("/api/v1/admin/webinars"))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn creating_a_webinar_validates_every_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let response = app
        .admin_post(
            "/api/v1/admin/webinars",
            &json!({
                "slug": "Bad Slug",
                "title": "",
                "time_zone": "Nowhere/Special",
                "duration_minutes": 0,
                "hosts": [{"name": "", "title": "Host"}],
                "highlights": [""],
                "status": "live",
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = json_body(response).await;
    let named: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        named,
        [
            "slug",
            "title",
            "time_zone",
            "duration_minutes",
            "hosts[0].name",
            "highlights[0]",
            "status"
        ]
    );
    assert_eq!(app.database.count("webinars").await, 0);
}

#[tokio::test]
async fn a_taken_slug_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let response = app
        .admin_post(
            "/api/v1/admin/webinars",
            &json!({"slug": "ml-careers", "title": "Again", "time_zone": "UTC", "duration_minutes": 30}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(json_body(response).await["type"], "/problems/slug-taken");
}

#[tokio::test]
async fn update_changes_only_given_fields_and_archive_closes_registration() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let response = app
        .admin_patch(
            &format!("/api/v1/admin/webinars/{webinar}"),
            &json!({"title": "Uplevel your career with AI/ML/GenAI", "highlights": ["Live Q&A"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let updated = json_body(response).await;
    assert_eq!(updated["title"], "Uplevel your career with AI/ML/GenAI");
    assert_eq!(updated["highlights"], json!(["Live Q&A"]));
    assert_eq!(updated["summary"], "A test webinar");
    assert_eq!(updated["hosts"][0]["name"], "Asha Verma");

    let archived = app
        .admin_post(&format!("/api/v1/admin/webinars/{webinar}/archive"), &json!({}))
        .await;
    assert_eq!(json_body(archived).await["status"], "archived");
    assert_eq!(json_body(app.get("/api/v1/webinars").await).await["items"], json!([]));
    let response = app.register(&webinar, slot_id, "asha@example.com").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_body(response).await["errors"][0]["field"], "webinar");

    let missing = app
        .admin_patch("/api/v1/admin/webinars/nope", &json!({"title": "x"}))
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_recurrence_resolves_a_skipped_local_time_later_by_the_gap() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("night-owls", "America/New_York").await;
    let response = app
        .admin_post(
            &format!("/api/v1/admin/webinars/{webinar}/slots"),
            &json!({
                "capacity": 20,
                "recurrence": {"start_date": "2031-03-09", "local_time": "02:30",
                               "weekdays": ["sun"], "count": 2},
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let listing = json_body(app.admin_get(&format!("/api/v1/admin/webinars/{webinar}/slots")).await).await;
    let starts: Vec<&str> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    // 02:30 does not exist on 9 March 2031 in New York: it becomes 03:30 EDT.
    assert_eq!(starts, ["2031-03-09T07:30:00Z", "2031-03-16T06:30:00Z"]);
}

#[tokio::test]
async fn slot_requests_are_validated() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let path = format!("/api/v1/admin/webinars/{webinar}/slots");
    let cases = [
        (
            json!({"starts_at": "2020-01-01T00:00:00Z", "capacity": 10}),
            "starts_at",
        ),
        (json!({"starts_at": "tomorrow", "capacity": 10}), "starts_at"),
        (json!({"starts_at": in_days(2).to_string(), "capacity": 0}), "capacity"),
        (json!({"capacity": 10}), "starts_at"),
        (
            json!({"capacity": 10, "recurrence": {"start_date": "2031-02-30", "local_time": "18:00", "weekdays": ["mon"], "count": 1}}),
            "recurrence.start_date",
        ),
        (
            json!({"capacity": 10, "recurrence": {"start_date": "2031-02-03", "local_time": "25:00", "weekdays": ["mon"], "count": 1}}),
            "recurrence.local_time",
        ),
        (
            json!({"capacity": 10, "recurrence": {"start_date": "2031-02-03", "local_time": "18:00", "weekdays": ["someday"], "count": 1}}),
            "recurrence.weekdays[0]",
        ),
        (
            json!({"capacity": 10, "recurrence": {"start_date": "2031-02-03", "local_time": "18:00", "weekdays": ["mon"], "count": 0}}),
            "recurrence.count",
        ),
    ];
    for (body, field) in cases {
        let response = app.admin_post(&path, &body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(json_body(response).await["errors"][0]["field"], field, "{body}");
    }
    let starts_at = in_days(2).to_string();
    app.admin_post(&path, &json!({"starts_at": starts_at, "capacity": 10}))
        .await;
    let duplicate = app
        .admin_post(&path, &json!({"starts_at": starts_at, "capacity": 10}))
        .await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    assert_eq!(app.database.count("slots").await, 1);
}

#[tokio::test]
async fn capacity_never_goes_below_the_seats_taken() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 3).await;
    app.register(&webinar, slot_id, "asha@example.com").await;
    app.register(&webinar, slot_id, "ravi@example.com").await;
    let path = format!("/api/v1/admin/slots/{slot_id}");

    let response = app.admin_patch(&path, &json!({"capacity": 1})).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        json_body(response).await["type"],
        "/problems/capacity-below-seats-taken"
    );

    let response = app.admin_patch(&path, &json!({"capacity": 2})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let slot = json_body(response).await;
    assert_eq!(
        (slot["capacity"].as_i64(), slot["seats_left"].as_i64()),
        (Some(2), Some(0))
    );

    let response = app.admin_patch(&path, &json!({"status": "paused"})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app
        .admin_patch("/api/v1/admin/slots/999999", &json!({"capacity": 5}))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_changed_webinar_shows_on_its_page_at_once() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/webinars/launch").await.status(), StatusCode::NOT_FOUND);
    app.published_webinar("launch", "Europe/Berlin").await;
    assert_eq!(app.get("/webinars/launch").await.status(), StatusCode::OK);
    // The page is now kept in memory; the change must reach it anyway.
    let renamed = app
        .admin_patch("/api/v1/admin/webinars/launch", &json!({"title": "Launch, renamed"}))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let page = app.get("/webinars/launch").await.text().await.unwrap();
    assert!(page.contains("Launch, renamed"), "the page still shows the old title");
    assert_eq!(
        json_body(app.get("/api/v1/webinars/launch").await).await["title"],
        "Launch, renamed"
    );
}
