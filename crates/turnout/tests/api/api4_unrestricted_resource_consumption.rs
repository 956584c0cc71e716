//! OWASP API4:2023, unrestricted resource consumption: every public write
//! spends from budgets per client address and per email address, a
//! registration's changes are capped per day, and a refusal is a 429
//! problem with `Retry-After` that changes nothing. Forwarding headers are
//! believed only from trusted proxies.

use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_http::{LimitSettings, Settings, TrustedProxies};
use turnout_test_support::{TestApp, json_body, lead_body, limits};

async fn spawn(limits: LimitSettings, trusted: &[&str]) -> TestApp {
    let trusted: Vec<String> = trusted.iter().map(|entry| (*entry).to_owned()).collect();
    TestApp::spawn_with(Settings {
        limits,
        bots: turnout_http::BotSettings::off(),
        trusted_proxies: TrustedProxies::parse(&trusted).unwrap(),
        ..Settings::default()
    })
    .await
}

async fn post_from(app: &TestApp, path: &str, body: &Value, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).json(body);
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    request.send().await.expect("answered")
}

async fn assert_refused(response: reqwest::Response, policy: &str) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "Retry-After says when");
    assert!(
        response.headers()["ratelimit-policy"]
            .to_str()
            .unwrap()
            .starts_with(&format!("\"{policy}\";q=")),
    );
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem = json_body(response).await;
    assert_eq!(problem["type"], "/problems/rate-limited");
    assert!(problem["detail"].as_str().unwrap().contains(policy), "{problem}");
}

#[tokio::test]
async fn public_writes_per_client_address_are_limited_and_a_refusal_changes_nothing() {
    let app = spawn(limits(|l| l.writes_per_ip_per_minute = 3), &[]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    for (i, remaining) in [2, 1, 0].into_iter().enumerate() {
        let response = app
            .post("/api/v1/leads", &lead_body(&webinar, &format!("v{i}@example.com")))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["ratelimit-policy"], "\"writes-per-ip\";q=3;w=60");
        let state = response.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(
            state.starts_with(&format!("\"writes-per-ip\";r={remaining};t=")),
            "{state}"
        );
    }
    let refused = app.post("/api/v1/leads", &lead_body(&webinar, "v4@example.com")).await;
    assert_refused(refused, "writes-per-ip").await;
    assert_eq!(
        app.database.count("leads").await,
        3,
        "the refused lead was not recorded"
    );

    let read = app.get("/api/v1/webinars").await;
    assert_eq!(
        read.status(),
        StatusCode::OK,
        "reads are not spent from the write budget"
    );
    let admin = app
        .admin_post(
            "/api/v1/admin/webinars/ml-careers/slots",
            &json!({"starts_at": turnout_test_support::in_days(3).to_string(), "capacity": 5}),
        )
        .await;
    assert_eq!(
        admin.status(),
        StatusCode::CREATED,
        "admin writes are authenticated, not limited"
    );
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let trusting = spawn(limits(|l| l.writes_per_ip_per_minute = 2), &["127.0.0.1"]).await;
    let webinar = trusting.published_webinar("ml-careers", "Asia/Kolkata").await;
    let lead = |n: u32| lead_body(&webinar, &format!("t{n}@example.com"));
    for n in 0..2 {
        let response = post_from(&trusting, "/api/v1/leads", &lead(n), Some("203.0.113.1")).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_refused(
        post_from(&trusting, "/api/v1/leads", &lead(2), Some("203.0.113.1")).await,
        "writes-per-ip",
    )
    .await;
    let other = post_from(&trusting, "/api/v1/leads", &lead(3), Some("203.0.113.2")).await;
    assert_eq!(other.status(), StatusCode::CREATED, "another client has its own budget");
    let spoofed = post_from(&trusting, "/api/v1/leads", &lead(4), Some("203.0.113.2, 203.0.113.1")).await;
    assert_refused(spoofed, "writes-per-ip").await;

    let untrusting = spawn(limits(|l| l.writes_per_ip_per_minute = 2), &[]).await;
    let webinar = untrusting.published_webinar("ml-careers", "Asia/Kolkata").await;
    for n in 0..2 {
        let response = post_from(
            &untrusting,
            "/api/v1/leads",
            &lead_body(&webinar, &format!("u{n}@example.com")),
            Some(&format!("198.51.100.{n}")),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let rotated = post_from(
        &untrusting,
        "/api/v1/leads",
        &lead_body(&webinar, "u9@example.com"),
        Some("198.51.100.9"),
    )
    .await;
    assert_refused(rotated, "writes-per-ip").await;
}

#[tokio::test]
async fn one_email_address_is_limited_whichever_client_sends_it() {
    let app = spawn(limits(|l| l.signups_per_email_per_hour = 2), &["127.0.0.1"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 10).await;
    let victim = lead_body(&webinar, "victim@example.com");
    let first = post_from(&app, "/api/v1/leads", &victim, Some("203.0.113.1")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let mut inline = lead_body(&webinar, "VICTIM@example.com");
    inline["slot_id"] = json!(slot_id);
    let second = post_from(&app, "/api/v1/registrations", &inline, Some("203.0.113.2")).await;
    assert_eq!(second.status(), StatusCode::CREATED);
    let third = post_from(&app, "/api/v1/leads", &victim, Some("203.0.113.3")).await;
    assert_refused(third, "signups-per-email").await;
    let fourth = post_from(&app, "/api/v1/registrations", &inline, Some("203.0.113.4")).await;
    assert_refused(fourth, "signups-per-email").await;
    assert_eq!(app.database.count("leads").await, 2);

    let someone_else = post_from(&app, "/api/v1/leads", &lead_body(&webinar, "ravi@example.com"), None).await;
    assert_eq!(someone_else.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_registrations_changes_are_capped_per_day_and_strangers_cannot_spend_them() {
    let app = spawn(limits(|l| l.changes_per_registration_per_day = 2), &[]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let first = app.slot(&webinar, 10).await;
    let second = app.slot_at(&webinar, turnout_test_support::in_days(5), 10).await;
    let registered = json_body(app.register(&webinar, first, "asha@example.com").await).await;
    let id = registered["registration_id"].as_str().unwrap();
    let token: &'static str = registered["manage_token"].as_str().unwrap().to_owned().leak();
    let reschedule = |slot_id: i64, token: &'static str| {
        let request = app
            .client
            .post(app.url(&format!("/api/v1/registrations/{id}/reschedule")))
            .json(&json!({"slot_id": slot_id}));
        app.with_token(request, token)
    };
    for _ in 0..5 {
        assert_eq!(
            reschedule(second, "not-the-token").await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(reschedule(second, token).await.status(), StatusCode::OK);
    assert_eq!(reschedule(first, token).await.status(), StatusCode::OK);
    assert_refused(reschedule(second, token).await, "changes-per-registration").await;
    let cancel = app.client.post(app.url(&format!("/api/v1/registrations/{id}/cancel")));
    assert_refused(app.with_token(cancel, token).await, "changes-per-registration").await;

    let still = app
        .with_token(app.client.get(app.url(&format!("/api/v1/registrations/{id}"))), token)
        .await;
    let still = json_body(still).await;
    assert_eq!(still["status"], "confirmed", "the refused cancel changed nothing");
    assert_eq!(still["slot"]["slot_id"], first);
}

#[tokio::test]
async fn the_consent_records_the_client_behind_a_trusted_proxy() {
    let app = spawn(LimitSettings::off(), &["127.0.0.1"]).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let response = post_from(
        &app,
        "/api/v1/leads",
        &lead_body(&webinar, "asha@example.com"),
        Some("203.0.113.77"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(app.database.scalar("SELECT ip FROM consents").await, "203.0.113.77");
}

/// Reads from `stream` until the server closes it or `within` passes;
/// true when it closed.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_client_trickling_headers_is_cut_off_while_others_are_served() {
    use std::time::{Duration, Instant};
    use tokio::io::AsyncWriteExt;

    let db = turnout_test_support::TestDatabase::new().await;
    let data = tempfile::tempdir().unwrap();
    let port = crate::cli::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = crate::cli::turnout(&db, data.path())
        .env("TURNOUT_HTTP_HEADER_READ_TIMEOUT_MS", "1000")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    crate::cli::wait_until_ready(&base, &mut server).await;

    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    // The trickle would last 8 s; the server must cut it off near 1 s.
    let trickle = tokio::spawn(async move {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if slow.write_all(b"x-slow: 1\r\n").await.is_err() {
                break;
            }
        }
        slow
    });
    for _ in 0..5 {
        let healthy = reqwest::get(format!("{base}/healthz")).await.unwrap();
        assert_eq!(healthy.status(), StatusCode::OK, "others are served meanwhile");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut slow = trickle.await.unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(3)).await,
        "the trickling client is disconnected"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "cut off near the timeout, not at the end of the trickle"
    );

    let mut idle = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(4)).await,
        "an idle keep-alive connection is closed too"
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::test]
async fn past_the_cap_requests_and_connections_are_shed_with_503() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn_with(Settings {
        limits: LimitSettings::off(),
        transport: turnout_http::TransportLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 3,
            max_in_flight: 1,
        },
        ..Settings::default()
    })
    .await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    // A lead whose body never finishes holds the one request slot.
    let mut holder = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    holder
        .write_all(
            b"POST /api/v1/leads HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let client = reqwest::Client::new();
    // Once the holder's request is in (a moment on a loaded machine), the
    // next is shed.
    let mut shed = client.get(app.url("/api/v1/webinars")).send().await.unwrap();
    for _ in 0..100 {
        if shed.status() == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        shed = client.get(app.url("/api/v1/webinars")).send().await.unwrap();
    }
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.headers()["retry-after"], "1");
    assert_eq!(json_body(shed).await["type"], "/problems/overloaded");
    drop(client);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // With the holder and two more open, a fourth connection is refused
    // at once rather than queued.
    let _second = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let _third = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut refused = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), refused.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    drop(holder);
}
