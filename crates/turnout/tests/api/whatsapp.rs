//! The confirmation and reminders on WhatsApp through a fake Cloud API on
//! 127.0.0.1: template messages only to people who ticked the box, SMS
//! instead for a number not on WhatsApp (answered at once or reported to
//! the signed status callback), the same ledger, retries and daily caps.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_delivery::{EmailTransport, Worker, WorkerSettings};
use turnout_http::{Settings, WhatsAppSide};
use turnout_test_support::{TestApp, in_days, json_body, lead_body};

/// What the fake Cloud API and the fake SMS provider were sent.
#[derive(Default)]
struct Providers {
    /// (Authorization, phone number id, body) of each Cloud API request.
    whatsapp: Mutex<Vec<(String, String, Value)>>,
    /// The form of each SMS.
    sms: Mutex<Vec<Vec<(String, String)>>>,
    /// Numbers (digits only) the Cloud API says are not on WhatsApp.
    not_on_whatsapp: Mutex<HashSet<String>>,
    failures_left: AtomicUsize,
}

async fn cloud_api(
    State(providers): State<Arc<Providers>>,
    Path(phone_number_id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> (AxumStatus, String) {
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let to = body["to"].as_str().unwrap_or_default().to_owned();
    providers
        .whatsapp
        .lock()
        .unwrap()
        .push((authorization, phone_number_id, body));
    let refuse = providers
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
        .is_ok();
    if refuse {
        return (
            AxumStatus::SERVICE_UNAVAILABLE,
            r#"{"error":{"code":2,"message":"Service temporarily unavailable"}}"#.into(),
        );
    }
    if providers.not_on_whatsapp.lock().unwrap().contains(&to) {
        let error = json!({"error": {
            "message": "(#131026) Message undeliverable",
            "type": "OAuthException",
            "code": 131026,
            "fbtrace_id": "AbCdEf"
        }});
        return (AxumStatus::BAD_REQUEST, error.to_string());
    }
    let accepted = json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": "wamid.HBgLOTE5ODc2NTQzMjEwFQIAERgS"}]
    });
    (AxumStatus::OK, accepted.to_string())
}

async fn twilio(State(providers): State<Arc<Providers>>, body: String) -> (AxumStatus, String) {
    providers
        .sms
        .lock()
        .unwrap()
        .push(serde_urlencoded::from_str(&body).unwrap_or_default());
    (AxumStatus::CREATED, r#"{"sid":"SM1"}"#.into())
}

/// The fakes' base URL (Cloud API under `/v21.0`, Twilio's form under
/// `/sms`) and what they record.
async fn providers() -> (String, Arc<Providers>) {
    let providers = Arc::new(Providers::default());
    let app = axum::Router::new()
        .route("/v21.0/{phone_number_id}/messages", axum::routing::post(cloud_api))
        .route("/sms", axum::routing::post(twilio))
        .with_state(Arc::clone(&providers));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), providers)
}

fn worker(app: &TestApp, base: &str, settings: WorkerSettings, sms: bool) -> Worker {
    let transport = EmailTransport::Files(app.mail.path().to_owned());
    let sms = sms.then(|| turnout_test_support::sms_settings(format!("{base}/sms")));
    let whatsapp = turnout_test_support::whatsapp_settings(format!("{base}/v21.0"));
    app.worker_texting(settings, &transport, sms, Some(whatsapp))
}

fn reminders(hours: &[i64]) -> WorkerSettings {
    WorkerSettings {
        reminders: hours.iter().map(|h| SignedDuration::from_hours(*h)).collect(),
        ..WorkerSettings::default()
    }
}

/// Registers `email` with `phone` and the consents given; answers the
/// registration's JSON.
async fn register(
    app: &TestApp,
    webinar: &str,
    slot: i64,
    email: &str,
    phone: &str,
    sms: bool,
    whatsapp: bool,
) -> Value {
    let mut body = lead_body(webinar, email);
    body["slot_id"] = json!(slot);
    body["phone"] = json!(phone);
    body["consent"] = json!({"privacy_policy": true, "sms": sms, "whatsapp": whatsapp});
    let response = app.post("/api/v1/registrations", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_body(response).await
}

fn parameters(body: &Value) -> Vec<String> {
    body["template"]["components"][0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect()
}

fn sms_text(form: &[(String, String)]) -> String {
    form.iter()
        .find(|(key, _)| key == "Body")
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn confirmations_and_reminders_go_by_whatsapp_to_those_who_agreed_and_sms_for_the_rest() {
    let app = TestApp::spawn().await;
    let (base, providers) = providers().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let starts_at = in_days(3);
    let slot = app.slot_at(&webinar, starts_at, 10).await;
    let asha = register(&app, &webinar, slot, "asha@example.com", "+91 98765 43210", false, true).await;
    register(&app, &webinar, slot, "ravi@example.com", "+91 91234 56789", true, false).await;
    register(
        &app,
        &webinar,
        slot,
        "meera@example.com",
        "+91 99887 76655",
        false,
        false,
    )
    .await;
    let worker = worker(&app, &base, reminders(&[24, 1]), true);

    worker.run_once(Timestamp::now()).await.unwrap();
    let sent = providers.whatsapp.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "only Asha agreed to WhatsApp: {sent:?}");
    let (authorization, phone_number_id, body) = &sent[0];
    assert_eq!(authorization, "Bearer EAAG-test-token");
    assert_eq!(phone_number_id, "106540352242922");
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(body["to"], "919876543210");
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "webinar_confirmation");
    assert_eq!(body["template"]["language"]["code"], "en");
    let confirmation = parameters(body);
    assert_eq!(confirmation[0], "Asha Verma");
    assert_eq!(confirmation[1], "Webinar ml-careers");
    assert!(confirmation[2].ends_with("(Asia/Kolkata)"), "{confirmation:?}");
    assert_eq!(confirmation[3], asha["join_link"].as_str().unwrap());
    assert!(
        confirmation[4].contains(&format!("/registrations/{}", asha["registration_id"].as_str().unwrap())),
        "{confirmation:?}"
    );
    let ledger = app.ledger("?channel=whatsapp&status=sent").await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        body["biz_opaque_callback_data"], ledger[0]["message_id"],
        "the callback can find it"
    );
    let skipped = app.ledger("?channel=whatsapp&status=skipped").await;
    assert_eq!(skipped.len(), 2);
    assert!(
        skipped.iter().all(|d| d["last_error"] == "no consent to WhatsApp"),
        "{skipped:?}"
    );
    assert!(
        providers.sms.lock().unwrap().is_empty(),
        "SMS carries reminders, not confirmations"
    );

    // A day before: Asha on WhatsApp; Ravi, who agreed only to SMS, by SMS
    // in the next pass; Meera by neither.
    let day_before = starts_at - SignedDuration::from_hours(24);
    worker.run_once(day_before).await.unwrap();
    worker.run_once(day_before).await.unwrap();
    let sent = providers.whatsapp.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].2["template"]["name"], "webinar_reminder");
    assert_eq!(parameters(&sent[1].2)[2], "24 hours");
    let texts = providers.sms.lock().unwrap().clone();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains(&("To".into(), "+919123456789".into())), "{texts:?}");
    let handed = app.ledger("?channel=whatsapp&status=skipped").await;
    let reasons: Vec<&str> = handed
        .iter()
        .filter(|d| d["kind"] == "reminder-24h")
        .map(|d| d["last_error"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2);
    assert!(
        reasons.contains(&"no consent to WhatsApp: sent by sms instead"),
        "{reasons:?}"
    );
    assert!(reasons.contains(&"no consent to WhatsApp"), "{reasons:?}");

    // The last reminder has a template of its own, with the join link.
    worker
        .run_once(starts_at - SignedDuration::from_hours(1))
        .await
        .unwrap();
    let sent = providers.whatsapp.lock().unwrap().clone();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].2["template"]["name"], "webinar_starting");
    let last = parameters(&sent[2].2);
    assert_eq!(last[2], "1 hour");
    assert_eq!(last[4], asha["join_link"].as_str().unwrap());
}

#[tokio::test]
async fn a_number_not_on_whatsapp_gets_its_messages_by_sms_and_failures_are_retried() {
    let app = TestApp::spawn().await;
    let (base, providers) = providers().await;
    providers.not_on_whatsapp.lock().unwrap().insert("919876543210".into());
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let starts_at = in_days(3);
    let slot = app.slot_at(&webinar, starts_at, 10).await;
    let asha = register(&app, &webinar, slot, "asha@example.com", "+91 98765 43210", false, true).await;
    let worker = worker(&app, &base, reminders(&[24]), true);

    let now = Timestamp::now();
    worker.run_once(now).await.unwrap();
    let handed = app.ledger("?channel=whatsapp&status=skipped").await;
    assert_eq!(handed.len(), 1);
    assert_eq!(
        handed[0]["last_error"],
        "the number is not on WhatsApp: sent by sms instead"
    );
    worker.run_once(now).await.unwrap();
    let texts = providers.sms.lock().unwrap().clone();
    assert_eq!(texts.len(), 1, "the WhatsApp consent covers the SMS instead");
    let text = sms_text(&texts[0]);
    assert!(text.starts_with("You're registered for Webinar ml-careers"), "{text}");
    assert!(text.contains(asha["join_link"].as_str().unwrap()), "{text}");
    let by_sms = app.ledger("?channel=sms&status=sent").await;
    assert_eq!(by_sms.len(), 1);
    assert_eq!(by_sms[0]["kind"], "confirmation");

    // The Cloud API fails once: retried like any delivery, then handed over.
    providers.failures_left.store(1, Ordering::SeqCst);
    let due = starts_at - SignedDuration::from_hours(24);
    worker.run_once(due).await.unwrap();
    let failed = app.ledger("?channel=whatsapp&status=failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["last_error"].as_str().unwrap().contains("503"), "{failed:?}");
    let retry_at: Timestamp = failed[0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
    worker.run_once(retry_at).await.unwrap();
    worker.run_once(retry_at).await.unwrap();
    let texts = providers.sms.lock().unwrap().clone();
    assert_eq!(texts.len(), 2);
    assert!(sms_text(&texts[1]).contains("in 24 hours"), "{texts:?}");
    assert_eq!(
        providers.whatsapp.lock().unwrap().len(),
        3,
        "confirmation, refused reminder, its retry"
    );

    // Without an SMS provider the message is skipped, saying why.
    let lone = TestApp::spawn().await;
    let webinar = lone.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = lone.slot_at(&webinar, starts_at, 10).await;
    register(
        &lone,
        &webinar,
        slot,
        "asha@example.com",
        "+91 98765 43210",
        false,
        true,
    )
    .await;
    self::worker(&lone, &base, reminders(&[24]), false)
        .run_once(Timestamp::now())
        .await
        .unwrap();
    let skipped = lone.ledger("?channel=whatsapp&status=skipped").await;
    assert_eq!(
        skipped[0]["last_error"],
        "the number is not on WhatsApp, and no sms provider is configured"
    );
    assert!(lone.ledger("?channel=sms").await.is_empty());
}

#[tokio::test]
async fn whatsapp_messages_count_against_the_recipients_daily_cap() {
    let app = TestApp::spawn().await;
    let (base, providers) = providers().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    // Within the day, so the confirmation and the reminder share one.
    let starts_at = Timestamp::now() + SignedDuration::from_hours(3);
    let slot = app.slot_at(&webinar, starts_at, 10).await;
    register(&app, &webinar, slot, "asha@example.com", "+91 98765 43210", false, true).await;
    let settings = WorkerSettings {
        messages_per_recipient_per_day: 1,
        ..reminders(&[2])
    };
    let worker = worker(&app, &base, settings, true);
    // One pass when the reminder is due: the confirmation is due too, and
    // both fall on one UTC day whatever the hour the test runs.
    worker
        .run_once(starts_at - SignedDuration::from_hours(2))
        .await
        .unwrap();
    assert_eq!(providers.whatsapp.lock().unwrap().len(), 1);
    let capped = app.ledger("?channel=whatsapp&status=skipped").await;
    assert_eq!(capped.len(), 1, "{capped:?}");
    assert!(
        capped[0]["last_error"].as_str().unwrap().contains("daily cap"),
        "{capped:?}"
    );
}

fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[tokio::test]
async fn a_failure_reported_to_the_signed_status_callback_goes_by_sms_once() {
    let app = TestApp::spawn_with(Settings {
        whatsapp: WhatsAppSide {
            offered: true,
            sms: true,
            app_secret: Some("app-secret".into()),
            verify_token: Some("verify-me".into()),
        },
        ..turnout_test_support::unlimited()
    })
    .await;
    let (base, providers) = providers().await;
    let form = json_body(app.get("/api/v1/form-token").await).await;
    assert_eq!(form["whatsapp"], true, "step 1 offers the box");

    let subscribe = "/api/v1/hooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=";
    let answer = app.get(&format!("{subscribe}verify-me")).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.text().await.unwrap(), "1158201444");
    assert_eq!(
        app.get(&format!("{subscribe}guess")).await.status(),
        StatusCode::FORBIDDEN
    );

    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(3), 10).await;
    register(&app, &webinar, slot, "asha@example.com", "+91 98765 43210", false, true).await;
    let worker = worker(&app, &base, reminders(&[24]), true);
    let now = Timestamp::now();
    worker.run_once(now).await.unwrap();
    let sent = app.ledger("?channel=whatsapp&status=sent").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(providers.whatsapp.lock().unwrap().len(), 1);

    let callback = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [{
                "id": "wamid.HBgLOTE5ODc2NTQzMjEwFQIAERgS",
                "status": "failed",
                "timestamp": "1733150000",
                "recipient_id": "919876543210",
                "biz_opaque_callback_data": sent[0]["message_id"],
                "errors": [{"code": 131026, "title": "Message undeliverable"}]
            }]
        }}]}]
    })
    .to_string();
    let post = |signature: Option<String>| {
        let mut request = app
            .client
            .post(app.url("/api/v1/hooks/whatsapp"))
            .header("content-type", "application/json")
            .body(callback.clone());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        request.send()
    };
    assert_eq!(post(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let forged = signature("not-the-secret", callback.as_bytes());
    assert_eq!(post(Some(forged)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert!(app.ledger("?channel=sms").await.is_empty(), "nothing changed");

    let signed = signature("app-secret", callback.as_bytes());
    let taken = post(Some(signed.clone())).await.unwrap();
    assert_eq!(taken.status(), StatusCode::OK);
    assert_eq!(json_body(taken).await, json!({"handed_to_sms": 1}));
    let again = post(Some(signed)).await.unwrap();
    assert_eq!(
        json_body(again).await,
        json!({"handed_to_sms": 0}),
        "Meta retries callbacks"
    );
    let undelivered = app.ledger("?channel=whatsapp&status=skipped").await;
    assert_eq!(
        undelivered[0]["last_error"],
        "reported not on WhatsApp: sent by sms instead"
    );

    worker.run_once(Timestamp::now()).await.unwrap();
    let texts = providers.sms.lock().unwrap().clone();
    assert_eq!(texts.len(), 1);
    assert!(sms_text(&texts[0]).starts_with("You're registered for"), "{texts:?}");
}

#[tokio::test]
async fn the_callback_does_not_exist_where_whatsapp_is_not_configured() {
    let app = TestApp::spawn().await;
    let form = json_body(app.get("/api/v1/form-token").await).await;
    assert_eq!(form["whatsapp"], false);
    let subscribe = "/api/v1/hooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x";
    assert_eq!(app.get(subscribe).await.status(), StatusCode::NOT_FOUND);
    let posted = app.post("/api/v1/hooks/whatsapp", &json!({"entry": []})).await;
    assert_eq!(posted.status(), StatusCode::NOT_FOUND);
}
