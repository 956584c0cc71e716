//! Webhooks to CRMs through the outbox: signed per the Standard Webhooks
//! specification (checked here by a verifier written from the spec, not by
//! Turnout's signing code), retried with the same id, held while their
//! endpoint is disabled, delivered at least once across a worker's crash
//! and exactly once by two workers sharing the load.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_delivery::{Backoff, WorkerSettings};
use turnout_test_support::{TestApp, json_body, lead_body};

use crate::cli::turnout;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    body: Value,
    verified: bool,
}

#[derive(Default)]
struct ReceiverState {
    secret: Mutex<Option<String>>,
    received: Mutex<Vec<Received>>,
    /// Requests still to refuse with a 500.
    failures_left: AtomicUsize,
    /// Never answer (a worker will be killed while it waits).
    hang: AtomicBool,
}

/// A CRM's endpoint on 127.0.0.1 that verifies every signature.
struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start() -> Self {
        let state = Arc::new(ReceiverState::default());
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{address}/hook"),
            state,
        }
    }

    fn trust(&self, secret: &str) {
        *self.state.secret.lock().unwrap() = Some(secret.to_owned());
    }

    fn fail_next(&self, count: usize) {
        self.state.failures_left.store(count, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }
}

async fn receive(State(state): State<Arc<ReceiverState>>, headers: HeaderMap, body: Bytes) -> (AxumStatus, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let secret = state.secret.lock().unwrap().clone().unwrap_or_default();
    let verified = verify(&secret, &id, &timestamp, &body, &signature);
    state.received.lock().unwrap().push(Received {
        id,
        timestamp: timestamp.parse().unwrap_or(0),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        verified,
    });
    if state.hang.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let refuse = state
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
        .is_ok();
    match refuse {
        true => (AxumStatus::INTERNAL_SERVER_ERROR, "CRM is down for maintenance".into()),
        false => (AxumStatus::OK, String::new()),
    }
}

/// The Standard Webhooks check, written from the specification: the key is
/// the base64 after `whsec_`; the signed content is `id.timestamp.body`;
/// the header holds space-separated `v1,<base64 HMAC-SHA256>` entries.
fn verify(secret: &str, id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let Some(encoded) = secret.strip_prefix("whsec_") else {
        return false;
    };
    let Ok(key) = STANDARD.decode(encoded) else {
        return false;
    };
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    let expected = STANDARD.encode(aws_lc_rs::hmac::sign(&key, &content).as_ref());
    header
        .split(' ')
        .any(|entry| entry.strip_prefix("v1,") == Some(expected.as_str()))
}

async fn create_endpoint(app: &TestApp, receiver: &Receiver, event_types: &[&str]) -> String {
    let response = app
        .admin_post(
            "/api/v1/admin/webhooks",
            &json!({"url": receiver.url, "event_types": event_types, "description": "CRM"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created = json_body(response).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    receiver.trust(secret);
    created["id"].as_str().unwrap().to_owned()
}

fn at(text: &Value) -> Timestamp {
    text.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn webhooks_are_signed_per_the_standard_and_retried_with_the_same_id() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let endpoint = create_endpoint(&app, &receiver, &["registration.confirmed"]).await;
    let listed = json_body(app.admin_get("/api/v1/admin/webhooks").await).await;
    assert_eq!(listed["items"][0]["id"], endpoint.as_str());
    assert!(listed["items"][0].get("secret").is_none(), "the secret is shown once");

    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot(&webinar, 10).await;
    let registered = json_body(app.register(&webinar, slot, "asha@example.com").await).await;
    receiver.fail_next(2);

    let worker = app.worker_with(WorkerSettings {
        reminders: Vec::new(),
        ..WorkerSettings::default()
    });
    let start = Timestamp::now();
    let pass = worker.run_once(start).await.unwrap();
    assert_eq!(
        (pass.routed, pass.attempted),
        (2, 2),
        "the subscribed event's webhook, and the confirmation email"
    );
    let items = app.ledger("?channel=webhook").await;
    assert_eq!(items.len(), 1);
    let first = &items[0];
    assert_eq!(first["status"], "failed");
    assert_eq!(first["attempts"], 1);
    assert_eq!(first["channel"], "webhook");
    assert_eq!(first["endpoint_id"], endpoint.as_str());
    assert!(first["last_error"].as_str().unwrap().contains("500"), "{first}");
    let retry_at = at(&first["next_attempt_at"]);
    assert!(retry_at > start);
    assert_eq!(
        worker.run_once(start).await.unwrap().attempted,
        0,
        "not before the retry is due"
    );

    let mut clock = retry_at;
    for _ in 0..2 {
        assert_eq!(worker.run_once(clock).await.unwrap().attempted, 1);
        let item = app.ledger("?channel=webhook").await.remove(0);
        if item["status"] == "sent" {
            break;
        }
        clock = at(&item["next_attempt_at"]);
    }
    let item = app.ledger("?status=sent&channel=webhook").await.remove(0);
    assert_eq!(item["attempts"], 3);
    assert!(item["last_error"].is_null());

    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.verified), "{received:?}");
    assert!(received.iter().all(|r| r.id == item["message_id"].as_str().unwrap()));
    assert_eq!(received[0].timestamp, start.as_second());
    let body = &received[2].body;
    assert_eq!(body["type"], "registration.confirmed");
    assert_eq!(body["data"]["registration_id"], registered["registration_id"]);
    assert_eq!(body["data"]["email"], "asha@example.com");
}

#[tokio::test]
async fn a_failing_endpoint_is_disabled_and_catches_up_when_re_enabled_or_replayed() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let endpoint = create_endpoint(&app, &receiver, &[]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot(&webinar, 10).await;
    for email in ["asha@example.com", "ravi@example.com", "meera@example.com"] {
        assert_eq!(app.register(&webinar, slot, email).await.status(), StatusCode::CREATED);
    }
    receiver.fail_next(usize::MAX);
    let worker = app.worker_with(WorkerSettings {
        disable_after: 3,
        reminders: Vec::new(),
        ..WorkerSettings::default()
    });
    let start = Timestamp::now();
    assert_eq!(
        worker.run_once(start).await.unwrap().attempted,
        6 + 3,
        "six webhooks and three confirmation emails"
    );

    let path = format!("/api/v1/admin/webhooks/{endpoint}");
    let disabled = json_body(app.admin_get(&path).await).await;
    assert_eq!(disabled["enabled"], false, "{disabled}");
    assert_eq!(disabled["consecutive_failures"], 6);
    assert!(disabled["disabled_reason"].as_str().unwrap().contains("in a row"));
    let failures = app.ledger(&format!("?endpoint_id={endpoint}&status=failed")).await;
    assert_eq!(failures.len(), 6, "its failures are listed");
    let much_later = start + SignedDuration::from_hours(48);
    assert_eq!(
        worker.run_once(much_later).await.unwrap().attempted,
        0,
        "a disabled endpoint's deliveries wait"
    );

    receiver.fail_next(0);
    let enabled = json_body(app.admin_patch(&path, &json!({"enabled": true})).await).await;
    assert_eq!(
        (enabled["enabled"].clone(), enabled["consecutive_failures"].clone()),
        (json!(true), json!(0))
    );
    assert_eq!(worker.run_once(much_later).await.unwrap().attempted, 6);
    assert_eq!(app.ledger("?status=sent&channel=webhook").await.len(), 6);
    let first_ids: Vec<String> = receiver.received().iter().skip(6).map(|r| r.id.clone()).collect();

    let replayed = app
        .admin_post(
            &format!("{path}/replay"),
            &json!({"since": (start - SignedDuration::from_mins(5)).to_string()}),
        )
        .await;
    assert_eq!(json_body(replayed).await["replayed"], 6);
    assert_eq!(worker.run_once(much_later).await.unwrap().attempted, 6);
    let mut again: Vec<String> = receiver.received().iter().skip(12).map(|r| r.id.clone()).collect();
    let mut first_ids = first_ids;
    first_ids.sort();
    again.sort();
    assert_eq!(again, first_ids, "a replay keeps the webhook-ids");
    assert!(receiver.received().iter().all(|r| r.verified));
}

#[tokio::test]
async fn a_delivery_is_dead_after_its_last_attempt_until_an_admin_retries_it() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    create_endpoint(&app, &receiver, &["lead.created"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.lead(&webinar, "asha@example.com").await;
    receiver.fail_next(usize::MAX);
    let worker = app.worker_with(WorkerSettings {
        max_attempts: 2,
        backoff: Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(1),
        },
        ..WorkerSettings::default()
    });
    let start = Timestamp::now();
    worker.run_once(start).await.unwrap();
    worker.run_once(start + SignedDuration::from_secs(2)).await.unwrap();
    let dead = app.ledger("?status=dead").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["attempts"], 2);
    let id = dead[0]["message_id"].as_str().unwrap();
    assert_eq!(
        worker
            .run_once(start + SignedDuration::from_hours(1))
            .await
            .unwrap()
            .attempted,
        0,
        "dead stays dead"
    );

    receiver.fail_next(0);
    let retried = app
        .admin_post(&format!("/api/v1/admin/outbox/{id}/retry"), &json!({}))
        .await;
    assert_eq!(retried.status(), StatusCode::OK);
    let retried = json_body(retried).await;
    assert_eq!(
        (retried["status"].clone(), retried["attempts"].clone()),
        (json!("pending"), json!(0))
    );
    let again = app
        .admin_post(&format!("/api/v1/admin/outbox/{id}/retry"), &json!({}))
        .await;
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "a pending delivery is not retried"
    );
    assert_eq!(json_body(again).await["type"], "/problems/not-retryable");
    worker.run_once(Timestamp::now()).await.unwrap();
    assert_eq!(app.ledger("?status=sent").await[0]["message_id"], id);
    let unknown = app
        .admin_post(&format!("/api/v1/admin/outbox/{}/retry", uuid::Uuid::nil()), &json!({}))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn endpoints_are_validated_and_internal_addresses_refused() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({"url": "http://10.0.0.5/hook"}), "url"),
        (json!({"url": "http://169.254.169.254/latest/meta-data"}), "url"),
        (json!({"url": "http://[::1]:8080/hook"}), "url"),
        (json!({"url": "ftp://crm.example.com/hook"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": "http://127.0.0.1:9/hook", "event_types": ["lead.sold"]}),
            "event_types",
        ),
        (
            json!({"url": "http://127.0.0.1:9/hook", "description": "x".repeat(201)}),
            "description",
        ),
    ] {
        let response = app.admin_post("/api/v1/admin/webhooks", &body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let problem = json_body(response).await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let listed = json_body(app.admin_get("/api/v1/admin/webhooks").await).await;
    assert_eq!(listed["items"], json!([]), "bad input creates nothing");

    let receiver = Receiver::start().await;
    let endpoint = create_endpoint(&app, &receiver, &["lead.created"]).await;
    let path = format!("/api/v1/admin/webhooks/{endpoint}");
    let bad = app.admin_patch(&path, &json!({"url": "http://192.168.0.10/"})).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let changed = json_body(
        app.admin_patch(&path, &json!({"event_types": ["lead.created", "resume.uploaded"]}))
            .await,
    )
    .await;
    assert_eq!(changed["event_types"], json!(["lead.created", "resume.uploaded"]));
    assert_eq!(changed["url"], receiver.url.as_str(), "unchanged");
    let nowhere = format!("/api/v1/admin/webhooks/{}", uuid::Uuid::nil());
    assert_eq!(app.admin_get(&nowhere).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.admin_patch(&nowhere, &json!({"enabled": true})).await.status(),
        StatusCode::NOT_FOUND
    );

    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.lead(&webinar, "asha@example.com").await;
    app.store()
        .route_events(
            Arc::new(turnout_delivery::FunnelRouter {
                reminders: Vec::new(),
                sms: false,
                whatsapp: false,
            }),
            100,
            Timestamp::now(),
        )
        .await
        .unwrap();
    assert_eq!(app.admin_delete(&path).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.admin_delete(&path).await.status(), StatusCode::NOT_FOUND);
    let skipped = app.ledger("?status=skipped").await;
    assert_eq!(skipped.len(), 1, "a deleted endpoint's deliveries are not sent");
    assert_eq!(skipped[0]["last_error"], "endpoint deleted");
    let unauthenticated = app.get("/api/v1/admin/webhooks").await;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_worker_killed_mid_delivery_leaves_the_message_to_be_sent_again_with_its_id() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    create_endpoint(&app, &receiver, &["lead.created"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.lead(&webinar, "asha@example.com").await;
    receiver.state.hang.store(true, Ordering::SeqCst);

    let data = tempfile::tempdir().unwrap();
    let metrics_port = crate::cli::free_port();
    let worker = |metrics: bool| {
        let mut command = turnout(&app.database, data.path());
        command.arg("worker");
        if metrics {
            command.args(["--metrics-bind", &format!("127.0.0.1:{metrics_port}")]);
        }
        command
            .env("TURNOUT_WEBHOOKS_ALLOWED_NETWORKS", "127.0.0.1")
            .env("TURNOUT_WORKER_LEASE_MS", "4000")
            .env("TURNOUT_WORKER_POLL_MS", "100")
            .env("TURNOUT_WEBHOOKS_TIMEOUT_MS", "60000")
            .stdout(Stdio::null());
        command.spawn().unwrap()
    };
    let mut first = worker(false);
    wait_for(|| receiver.received().len() == 1, "the first worker's request").await;
    first.kill().unwrap();
    first.wait().unwrap();
    let sending = app.ledger("").await;
    assert_eq!(sending[0]["status"], "sending", "killed before it could record");

    receiver.state.hang.store(false, Ordering::SeqCst);
    let mut second = worker(true);
    wait_for(|| receiver.received().len() == 2, "the second worker's request").await;
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = app.ledger("?status=sent").await;
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The counter follows the ledger's write by a moment.
    let sent_series = "turnout_deliveries_total{channel=\"webhook\",outcome=\"sent\"}";
    let mut metrics = String::new();
    for _ in 0..40 {
        metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metric(&metrics, sent_series).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        metric(&metrics, sent_series),
        Some(1.0),
        "the worker process serves its own counters: {metrics}"
    );
    second.kill().unwrap();
    second.wait().unwrap();
    let received = receiver.received();
    assert_eq!(received[0].id, received[1].id, "the same webhook-id");
    assert!(received.iter().all(|r| r.verified));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["message_id"], received[0].id.as_str());
    assert_eq!(sent[0]["attempts"], 2);
}

async fn wait_for(done: impl Fn() -> bool, what: &str) {
    for _ in 0..400 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn two_workers_deliver_a_thousand_messages_exactly_once() {
    const MESSAGES: usize = 1_000;
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let receiver = Receiver::start().await;
    create_endpoint(&app, &receiver, &["lead.created"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let leads = futures::future::join_all((0..MESSAGES).map(|n| {
        let (app, webinar) = (&app, &webinar);
        async move {
            app.post("/api/v1/leads", &lead_body(webinar, &format!("visitor{n}@example.com")))
                .await
                .status()
        }
    }))
    .await;
    assert!(leads.iter().all(|status| *status == StatusCode::CREATED));

    let deliver = |worker: turnout_delivery::Worker| async move {
        let mut attempted = 0;
        let mut idle = 0;
        while idle < 3 {
            let pass = worker.run_once(Timestamp::now()).await.unwrap();
            attempted += pass.attempted;
            idle = if pass.attempted == 0 && pass.routed == 0 {
                idle + 1
            } else {
                0
            };
            if idle > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        attempted
    };
    let (one, two) = tokio::join!(deliver(app.worker()), deliver(other.worker()));
    assert_eq!(one + two, MESSAGES, "each delivery attempted once in all");
    assert!(one > 0 && two > 0, "both workers took a share: {one} and {two}");

    let received = receiver.received();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for request in &received {
        *counts.entry(request.id.as_str()).or_default() += 1;
    }
    assert_eq!(received.len(), MESSAGES);
    assert_eq!(counts.len(), MESSAGES);
    assert!(counts.values().all(|count| *count == 1));
    assert!(received.iter().all(|r| r.verified));
    assert_eq!(app.ledger("?status=sent&limit=1000").await.len(), MESSAGES);
}

/// A metric's value in Prometheus' text format, if it is there.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn delivery_outcomes_and_the_backlog_are_on_metrics() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    create_endpoint(&app, &receiver, &["lead.created"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.lead(&webinar, "asha@example.com").await;
    app.lead(&webinar, "ravi@example.com").await;

    let scrape = || async { app.get("/metrics").await.text().await.unwrap() };
    let before = scrape().await;
    assert_eq!(metric(&before, "turnout_outbox_unrouted_events"), Some(2.0), "{before}");
    assert!(metric(&before, "turnout_outbox_oldest_unrouted_seconds").is_some());

    // Counters are the process's, and tests running beside this one in it
    // count their deliveries too: here they can only be seen to move. The
    // exact count is checked where a worker has a process to itself (the
    // killed-worker test, through `turnout worker --metrics-bind`).
    let outcome = |name: &str| format!("turnout_deliveries_total{{channel=\"webhook\",outcome=\"{name}\"}}");
    let counted = |text: &str, name: &str| metric(text, &outcome(name)).unwrap_or(0.0);
    receiver.fail_next(1);
    let start = Timestamp::now();
    app.worker().run_once(start).await.unwrap();
    let after = scrape().await;
    assert!(counted(&after, "sent") > counted(&before, "sent"), "{after}");
    assert!(counted(&after, "failed") > counted(&before, "failed"), "{after}");
    assert_eq!(metric(&after, "turnout_outbox_unrouted_events"), Some(0.0));
    assert_eq!(
        metric(&after, "turnout_deliveries_due"),
        Some(0.0),
        "the failed one is not due before its retry"
    );
}

#[tokio::test]
async fn an_idle_worker_is_woken_by_a_new_event_rather_than_its_slow_poll() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    create_endpoint(&app, &receiver, &["lead.created"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let worker = app.worker_with(WorkerSettings {
        poll: Duration::from_secs(600),
        ..WorkerSettings::default()
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    // Let it finish its first pass and fall asleep on an empty outbox.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.lead(&webinar, "asha@example.com").await;
    wait_for(
        || receiver.received().len() == 1,
        "a delivery well before the ten-minute poll",
    )
    .await;
    let _ = stop.send(());
    running.await.unwrap();
}

#[tokio::test]
async fn a_late_worker_cannot_overwrite_a_newer_claim_even_after_an_admin_retry() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    create_endpoint(&app, &receiver, &["lead.created"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.lead(&webinar, "asha@example.com").await;
    let store = app.store();
    let router = Arc::new(turnout_delivery::FunnelRouter {
        reminders: Vec::new(),
        sms: false,
        whatsapp: false,
    });
    let start = Timestamp::now();
    store.route_events(router, 10, start).await.unwrap();
    let second = SignedDuration::from_secs(1);

    // Worker A claims and stalls past its lease; worker B claims and fails.
    let a = store
        .claim_deliveries(10, start, start + second)
        .await
        .unwrap()
        .remove(0);
    let later = start + 2 * second;
    let b = store
        .claim_deliveries(10, later, later + second)
        .await
        .unwrap()
        .remove(0);
    let failed = turnout_store::DeliveryOutcome::Failed {
        error: "HTTP 500".into(),
        retry_at: None,
    };
    assert_eq!(
        store.finish_deliveries(&[(b, failed)], 20, later).await.unwrap(),
        [true]
    );
    // An admin sends it again, and worker C claims it.
    let id = a.message_id;
    let retried = app
        .admin_post(&format!("/api/v1/admin/outbox/{id}/retry"), &json!({}))
        .await;
    assert_eq!(retried.status(), StatusCode::OK);
    let now = Timestamp::now() + 3 * second;
    let c = store.claim_deliveries(10, now, now + second).await.unwrap().remove(0);
    assert_eq!((c.attempt, a.attempt), (1, 1), "the attempt count starts again");

    let stale = store
        .finish_deliveries(&[(a, turnout_store::DeliveryOutcome::Sent)], 20, now)
        .await
        .unwrap();
    assert_eq!(stale, [false], "A's outcome is refused");
    let item = app.ledger("").await.remove(0);
    assert_eq!(item["status"], "sending", "C's claim stands");
    let current = store
        .finish_deliveries(&[(c, turnout_store::DeliveryOutcome::Sent)], 20, now)
        .await
        .unwrap();
    assert_eq!(current, [true]);
}
