use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{TestApp, in_days, json_body};

pub async fn events(app: &TestApp, query: &str) -> Vec<Value> {
    let response = app.admin_get(&format!("/api/v1/admin/events{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    json_body(response).await["items"].as_array().unwrap().clone()
}

fn types(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|item| item["event_type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_change_of_the_funnel_leaves_its_event_in_the_outbox() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let first = app.slot(&webinar, 10).await;
    let second = app.slot_at(&webinar, in_days(5), 10).await;
    let advisor = app
        .advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 3)
        .await;
    let token = json_body(
        app.admin_post(&format!("/api/v1/admin/advisors/{advisor}/tokens"), &json!({}))
            .await,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        events(&app, "").await.is_empty(),
        "setting up produces no funnel events"
    );

    let (lead_id, lead_token) = app.lead(&webinar, "asha@example.com").await;
    let registration = json_body(
        app.post(
            "/api/v1/registrations",
            &json!({"slot_id": first, "lead_id": lead_id, "lead_token": lead_token}),
        )
        .await,
    )
    .await;
    let id = registration["registration_id"].as_str().unwrap();
    let manage = registration["manage_token"].as_str().unwrap();
    let reschedule = app
        .client
        .post(app.url(&format!("/api/v1/registrations/{id}/reschedule")))
        .json(&json!({"slot_id": second}));
    assert_eq!(app.with_token(reschedule, manage).await.status(), StatusCode::OK);

    let windows = json_body(app.get("/api/v1/consultation-windows?tz=Asia/Kolkata").await).await;
    let window_id = windows["days"][1]["windows"][0]["window_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let consultation = json_body(
        app.post(
            "/api/v1/consultations",
            &json!({"lead_id": lead_id, "lead_token": lead_token, "window_id": window_id}),
        )
        .await,
    )
    .await;
    let consultation_id = consultation["consultation_id"].as_str().unwrap();
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(1_000, b' ');
    let uploaded = app
        .client
        .put(app.url(&format!("/api/v1/consultations/{consultation_id}/resume")))
        .bearer_auth(&lead_token)
        .body(pdf)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let called = app
        .client
        .patch(app.url(&format!("/api/v1/advisor/consultations/{consultation_id}")))
        .bearer_auth(&token)
        .json(&json!({"status": "completed", "notes": "Sent the syllabus"}))
        .send()
        .await
        .unwrap();
    assert_eq!(called.status(), StatusCode::OK);
    for _ in 0..2 {
        let cancel = app.client.post(app.url(&format!("/api/v1/registrations/{id}/cancel")));
        assert_eq!(app.with_token(cancel, manage).await.status(), StatusCode::OK);
    }

    let items = events(&app, "").await;
    assert_eq!(
        types(&items),
        [
            "lead.created",
            "registration.confirmed",
            "registration.rescheduled",
            "consultation.requested",
            "consultation.assigned",
            "resume.uploaded",
            "consultation.updated",
            "registration.cancelled",
        ]
    );
    assert!(
        items.iter().all(|item| item["routed_at"].is_null()),
        "no worker runs in this test"
    );
    let mut ids: Vec<&str> = items.iter().map(|item| item["event_id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), items.len(), "every event has its own id");
    let confirmed = &items[1]["payload"];
    assert_eq!(confirmed["registration_id"], id);
    assert_eq!(confirmed["email"], "asha@example.com");
    assert_eq!(confirmed["slot_id"], first);
    assert_eq!(items[2]["payload"]["slot_id"], second);
    assert_eq!(items[6]["payload"]["status"], "completed");
    assert_eq!(items[6]["payload"]["actor"], format!("advisor:{advisor}"));

    let filtered = events(&app, "?event_type=registration.cancelled").await;
    assert_eq!(filtered.len(), 1);
    let bad = app.admin_get("/api/v1/admin/events?limit=0").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_turned_away_visitor_is_still_a_lead_event_and_bad_input_writes_none() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 1).await;
    assert_eq!(
        app.register(&webinar, slot_id, "asha@example.com").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.register(&webinar, slot_id, "ravi@example.com").await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.register(&webinar, 424_242, "meera@example.com").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        types(&events(&app, "").await),
        ["lead.created", "registration.confirmed", "lead.created"]
    );
}
