//! SMS reminders through a Twilio-compatible HTTP API, only for people who
//! agreed to SMS, retried like every other delivery.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_delivery::{EmailTransport, WorkerSettings};
use turnout_test_support::{TestApp, in_days, json_body, lead_body};

#[derive(Debug, Clone)]
struct Request {
    authorization: String,
    content_type: String,
    idempotency_key: String,
    form: Vec<(String, String)>,
}

#[derive(Default)]
struct Provider {
    requests: Mutex<Vec<Request>>,
    failures_left: AtomicUsize,
}

async fn messages(State(provider): State<Arc<Provider>>, headers: HeaderMap, body: String) -> (AxumStatus, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    provider.requests.lock().unwrap().push(Request {
        authorization: header("authorization"),
        content_type: header("content-type"),
        idempotency_key: header("idempotency-key"),
        form: serde_urlencoded::from_str(&body).unwrap_or_default(),
    });
    let refuse = provider
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
        .is_ok();
    match refuse {
        true => (AxumStatus::SERVICE_UNAVAILABLE, r#"{"message":"try again"}"#.into()),
        false => (AxumStatus::CREATED, r#"{"sid":"SM1"}"#.into()),
    }
}

async fn provider() -> (String, Arc<Provider>) {
    let provider = Arc::new(Provider::default());
    let app = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/AC123/Messages.json",
            axum::routing::post(messages),
        )
        .with_state(Arc::clone(&provider));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        format!("http://{address}/2010-04-01/Accounts/AC123/Messages.json"),
        provider,
    )
}

fn field<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .form
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_default()
}

#[tokio::test]
async fn sms_reminders_go_only_to_people_who_agreed_and_are_retried_with_one_key() {
    let app = TestApp::spawn().await;
    let (url, provider) = provider().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let starts_at = in_days(3);
    let slot = app.slot_at(&webinar, starts_at, 10).await;
    let mut asha = lead_body(&webinar, "asha@example.com");
    asha["slot_id"] = json!(slot);
    let mut ravi = lead_body(&webinar, "ravi@example.com");
    ravi["slot_id"] = json!(slot);
    ravi["phone"] = json!("+91 91234 56789");
    ravi["consent"]["sms"] = json!(false);
    let mut join_links = Vec::new();
    for body in [&asha, &ravi] {
        let response = app.post("/api/v1/registrations", body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        join_links.push(json_body(response).await["join_link"].as_str().unwrap().to_owned());
    }

    let sms = turnout_test_support::sms_settings(url);
    let settings = WorkerSettings {
        reminders: vec![SignedDuration::from_hours(24)],
        ..WorkerSettings::default()
    };
    let worker = app.worker_sending(settings, &EmailTransport::Files(app.mail.path().to_owned()), Some(sms));
    worker.run_once(Timestamp::now()).await.unwrap();
    assert!(provider.requests.lock().unwrap().is_empty(), "nothing before its time");

    provider.failures_left.store(1, Ordering::SeqCst);
    let due = starts_at - SignedDuration::from_hours(24);
    worker.run_once(due).await.unwrap();
    let skipped: Vec<Value> = app.ledger("?channel=sms&status=skipped").await;
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["last_error"], "no consent to SMS");
    let failed = app.ledger("?channel=sms&status=failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["last_error"].as_str().unwrap().contains("503"), "{failed:?}");

    let retry_at: Timestamp = failed[0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
    worker.run_once(retry_at).await.unwrap();
    let sent = app.ledger("?channel=sms&status=sent").await;
    assert_eq!(sent.len(), 1);

    let requests = provider.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "one refused, one accepted; none for Ravi");
    let message_id = sent[0]["message_id"].as_str().unwrap();
    assert!(requests.iter().all(|r| r.idempotency_key == message_id));
    let request = &requests[1];
    let credentials = base64::engine::general_purpose::STANDARD.encode("AC123:auth-token");
    assert_eq!(request.authorization, format!("Basic {credentials}"));
    assert_eq!(request.content_type, "application/x-www-form-urlencoded");
    assert_eq!(field(request, "To"), "+919876543210");
    assert_eq!(field(request, "From"), "+15005550006");
    let body = field(request, "Body");
    // 24 hours is the only reminder here, so the last: it leads with the
    // personal join link.
    assert!(body.starts_with("Join Webinar ml-careers in 24 hours"), "{body}");
    let first_link = body.split_whitespace().find(|word| word.starts_with("http")).unwrap();
    assert_eq!(first_link, join_links[0], "Asha's own join link first: {body}");
    assert!(body.contains("(Asia/Kolkata)"), "{body}");
    assert!(body.contains("/registrations/") && body.contains("token="), "{body}");
}

#[tokio::test]
async fn sms_go_only_to_the_countries_allowed() {
    let app = TestApp::spawn().await;
    let (url, provider) = provider().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let starts_at = in_days(3);
    let slot = app.slot_at(&webinar, starts_at, 10).await;
    for (email, phone) in [
        ("asha@example.com", "+91 98765 43210"),
        ("tom@example.com", "+44 7400 123456"),
    ] {
        let mut body = lead_body(&webinar, email);
        body["slot_id"] = json!(slot);
        body["phone"] = json!(phone);
        assert_eq!(
            app.post("/api/v1/registrations", &body).await.status(),
            StatusCode::CREATED
        );
    }
    let settings = WorkerSettings {
        reminders: vec![SignedDuration::from_hours(24)],
        ..WorkerSettings::default()
    };
    let sms = turnout_test_support::sms_settings(url);
    assert_eq!(sms.countries, ["IN"]);
    let worker = app.worker_sending(settings, &EmailTransport::Files(app.mail.path().to_owned()), Some(sms));
    worker.run_once(Timestamp::now()).await.unwrap();
    worker
        .run_once(starts_at - SignedDuration::from_hours(24))
        .await
        .unwrap();

    let sent = provider.requests.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "only the Indian number got an SMS");
    assert_eq!(field(&sent[0], "To"), "+919876543210");
    let skipped = app.ledger("?channel=sms&status=skipped").await;
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["last_error"], "SMS to GB is not allowed (sms.countries)");
}

#[tokio::test]
async fn a_seat_offered_from_the_waiting_list_goes_by_sms_too_with_consent() {
    let app = TestApp::spawn().await;
    let (url, provider) = provider().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(3), 1).await;
    let asha = json_body(app.register(&webinar, slot, "asha@example.com").await).await;
    let (lead_id, lead_token) = app.lead(&webinar, "ravi@example.com").await;
    let joined = app
        .post(
            "/api/v1/waitlist",
            &json!({"slot_id": slot, "lead_id": lead_id, "lead_token": lead_token}),
        )
        .await;
    assert_eq!(joined.status(), StatusCode::CREATED);
    let place = json_body(joined).await;
    let cancel = app.client.post(app.url(&format!(
        "/api/v1/registrations/{}/cancel",
        asha["registration_id"].as_str().unwrap()
    )));
    assert_eq!(
        app.with_token(cancel, asha["manage_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let sms = turnout_test_support::sms_settings(url);
    let settings = WorkerSettings {
        reminders: Vec::new(),
        ..WorkerSettings::default()
    };
    let worker = app.worker_sending(settings, &EmailTransport::Files(app.mail.path().to_owned()), Some(sms));
    worker.run_once(Timestamp::now()).await.unwrap();
    let requests = provider.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "the offer, and nothing else");
    let body = field(&requests[0], "Body");
    assert!(body.starts_with("A seat for Webinar ml-careers"), "{body}");
    assert!(body.contains(place["page"].as_str().unwrap()), "{body}");
    assert_eq!(field(&requests[0], "To"), "+919876543210");
}
