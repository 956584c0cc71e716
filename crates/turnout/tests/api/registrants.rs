//! Who registered, for staff: the admin list with its filters and cursor
//! pages, the same rows as CSV (by `Accept` or by a `.csv` path), streamed
//! so an export of any size keeps the server's memory flat.

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_test_support::{ADMIN_TOKEN, TestApp, in_days, json_body, lead_body};

/// Registers `email` in `slot` arriving from `utm_source`.
async fn register(app: &TestApp, webinar: &str, slot: i64, email: &str, utm_source: &str) -> Value {
    let mut body = lead_body(webinar, email);
    body["slot_id"] = json!(slot);
    body["attribution"]["utm_source"] = json!(utm_source);
    let response = app.post("/api/v1/registrations", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_body(response).await
}

/// The emails of a listing, in order.
async fn emails(app: &TestApp, query: &str) -> Vec<String> {
    let response = app.admin_get(&format!("/api/v1/admin/registrations{query}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let body = json_body(response).await;
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn registrants_are_listed_by_webinar_slot_status_attendance_time_and_source() {
    let app = TestApp::spawn().await;
    let ml = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let data = app.published_webinar("data-careers", "Asia/Kolkata").await;
    let soon = app
        .slot_at(&ml, Timestamp::now() + SignedDuration::from_mins(10), 10)
        .await;
    let later = app.slot_at(&ml, in_days(3), 10).await;
    let other = app.slot_at(&data, in_days(3), 10).await;

    let asha = register(&app, &ml, soon, "asha@example.com", "newsletter").await;
    let ravi = register(&app, &ml, later, "ravi@example.com", "linkedin").await;
    let before_meera = Timestamp::now();
    let meera = register(&app, &ml, later, "meera@example.com", "newsletter").await;
    register(&app, &data, other, "kiran@example.com", "newsletter").await;

    // Asha opens her join link inside the window; Meera cancels.
    let opened = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(asha["join_link"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(opened.status().is_success() || opened.status().is_redirection());
    let cancel = app.client.post(app.url(&format!(
        "/api/v1/registrations/{}/cancel",
        meera["registration_id"].as_str().unwrap()
    )));
    assert_eq!(
        app.with_token(cancel, meera["manage_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let all = [
        "asha@example.com",
        "ravi@example.com",
        "meera@example.com",
        "kiran@example.com",
    ];
    assert_eq!(emails(&app, "").await, all, "oldest first");
    assert_eq!(emails(&app, "?webinar=data-careers").await, ["kiran@example.com"]);
    assert_eq!(
        emails(&app, &format!("?slot_id={later}")).await,
        ["ravi@example.com", "meera@example.com"]
    );
    assert_eq!(
        emails(&app, "?webinar=ml-careers&status=confirmed").await,
        ["asha@example.com", "ravi@example.com"]
    );
    assert_eq!(emails(&app, "?status=cancelled").await, ["meera@example.com"]);
    assert_eq!(emails(&app, "?attendance=joined").await, ["asha@example.com"]);
    assert_eq!(emails(&app, "?attendance=not_joined").await.len(), 3);
    assert_eq!(
        emails(&app, "?utm_source=newsletter&webinar=ml-careers").await,
        ["asha@example.com", "meera@example.com"]
    );
    let from = before_meera.to_string();
    assert_eq!(
        emails(&app, &format!("?created_from={from}")).await,
        ["meera@example.com", "kiran@example.com"]
    );
    assert_eq!(
        emails(&app, &format!("?created_before={from}")).await,
        ["asha@example.com", "ravi@example.com"]
    );

    let listing = json_body(app.admin_get("/api/v1/admin/registrations?attendance=joined").await).await;
    let row = &listing["items"][0];
    assert_eq!(row["registration_id"], asha["registration_id"]);
    assert_eq!(row["webinar"], "ml-careers");
    assert_eq!(row["slot_id"], soon);
    assert_eq!(row["name"], "Asha Verma");
    assert_eq!(row["phone"], "+919876543210");
    assert_eq!(row["utm_source"], "newsletter");
    assert_eq!(row["joins"], 1);
    assert!(row["first_joined_at"].is_string(), "{row}");
    assert!(
        row.get("manage_token").is_none() && !row.to_string().contains("token"),
        "{row}"
    );
    let ravi_row = json_body(app.admin_get("/api/v1/admin/registrations?utm_source=linkedin").await).await;
    assert_eq!(ravi_row["items"][0]["registration_id"], ravi["registration_id"]);
    assert_eq!(ravi_row["items"][0]["joins"], 0);
    assert!(ravi_row["items"][0]["first_joined_at"].is_null());
}

#[tokio::test]
async fn cursor_pages_cover_every_registrant_once() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot(&webinar, 20).await;
    let mut expected = Vec::new();
    for i in 0..7 {
        let email = format!("person{i}@example.com");
        register(&app, &webinar, slot, &email, "newsletter").await;
        expected.push(email);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("?limit=3&cursor={cursor}"),
            None => "?limit=3".to_owned(),
        };
        let page = json_body(app.admin_get(&format!("/api/v1/admin/registrations{query}")).await).await;
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|item| item["email"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn bad_filters_are_refused_with_every_field_named() {
    let app = TestApp::spawn().await;
    let response = app
        .admin_get(
            "/api/v1/admin/registrations?webinar=Not%20A%20Slug&status=maybe&attendance=sometimes\
             &created_from=yesterday&created_before=2026-13-01&cursor=abc&limit=0&slot_id=0",
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_body(response).await;
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "attendance",
            "created_before",
            "created_from",
            "cursor",
            "limit",
            "slot_id",
            "status",
            "webinar"
        ],
        "{body}"
    );
    let csv = app.admin_get("/api/v1/admin/registrations.csv?status=maybe").await;
    assert_eq!(csv.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn only_an_admin_sees_who_registered() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/admin/registrations", "/api/v1/admin/registrations.csv"] {
        let anonymous = app.get(path).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        let wrong = app
            .client
            .get(app.url(path))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn the_same_rows_come_as_csv_by_accept_header_or_csv_path() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot(&webinar, 10).await;
    let asha = register(&app, &webinar, slot, "asha@example.com", "newsletter").await;
    let mut formula = lead_body(&webinar, "ravi@example.com");
    formula["slot_id"] = json!(slot);
    formula["name"] = json!("=HYPERLINK(\"https://evil.example.com\",\"Ravi\")");
    formula["attribution"]["utm_source"] = json!("linkedin");
    assert_eq!(
        app.post("/api/v1/registrations", &formula).await.status(),
        StatusCode::CREATED
    );

    let by_accept = app
        .client
        .get(app.url("/api/v1/admin/registrations?webinar=ml-careers"))
        .bearer_auth(ADMIN_TOKEN)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(by_accept.status(), StatusCode::OK);
    assert_eq!(by_accept.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        by_accept.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("registrations.csv")
    );
    let by_accept = by_accept.text().await.unwrap();
    let by_path = app
        .admin_get("/api/v1/admin/registrations.csv?webinar=ml-careers")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(by_accept, by_path);

    let mut reader = csv::Reader::from_reader(by_path.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "registration_id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    assert_eq!(
        &rows[0][column("registration_id")],
        asha["registration_id"].as_str().unwrap()
    );
    assert_eq!(&rows[0][column("email")], "asha@example.com");
    assert_eq!(&rows[0][column("phone")], "+919876543210");
    assert_eq!(&rows[0][column("status")], "confirmed");
    assert_eq!(
        &rows[1][column("name")],
        "'=HYPERLINK(\"https://evil.example.com\",\"Ravi\")",
        "a spreadsheet shows the text, it does not run it"
    );
    let only_linkedin = app
        .admin_get("/api/v1/admin/registrations.csv?utm_source=linkedin")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(only_linkedin.lines().count(), 2, "the header and Ravi: {only_linkedin}");
}

/// A process's resident memory, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Stops the server when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn an_export_of_100000_registrations_streams_in_flat_memory() {
    const REGISTRATIONS: usize = 100_000;
    const TOKEN: &str = "an-export-test-admin-token-of-forty-chars";
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot(&webinar, 10).await;
    app.database.seed_registrations(slot, REGISTRATIONS as i64).await;

    // The server alone in its own process, so that its memory is measured
    // and not that of the tests running beside this one.
    let data = tempfile::tempdir().unwrap();
    let port = crate::cli::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Server(
        crate::cli::turnout(&app.database, data.path())
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("TURNOUT_ADMIN_TOKEN", TOKEN)
            .env("TURNOUT_WORKER_IN_SERVE", "false")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    crate::cli::wait_until_ready(&base, &mut server.0).await;
    let pid = server.0.id();
    let client = reqwest::Client::new();
    let export = || {
        client
            .get(format!("{base}/api/v1/admin/registrations.csv"))
            .bearer_auth(TOKEN)
            .send()
    };

    // A short export first warms the path (pools, caches, allocator).
    let warm = client
        .get(format!("{base}/api/v1/admin/registrations.csv?utm_source=newsletter"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), StatusCode::OK);
    warm.bytes().await.unwrap();
    let baseline = resident_kib(pid);
    let response = export().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let (mut bytes, mut lines, mut peak) = (0usize, 0usize, baseline);
    let mut last_line = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("the export streams to its end");
        bytes += chunk.len();
        lines += chunk.iter().filter(|byte| **byte == b'\n').count();
        if let Some(end) = chunk.iter().rposition(|byte| *byte == b'\n') {
            last_line = chunk[..end].to_vec();
        }
        peak = peak.max(resident_kib(pid));
    }
    assert_eq!(lines, REGISTRATIONS + 1, "a header and every registration");
    assert!(
        String::from_utf8_lossy(&last_line).contains(&format!("bulk{REGISTRATIONS}@example.com")),
        "the last row is the last registration: {}",
        String::from_utf8_lossy(&last_line)
    );
    let grown_mib = (peak.saturating_sub(baseline)) as f64 / 1024.0;
    let exported_mib = bytes as f64 / 1024.0 / 1024.0;
    // Holding the export (or its rows) would grow the server by more than
    // the export's size; streaming a page at a time holds about 1,000 rows.
    assert!(exported_mib > 15.0, "{exported_mib:.1} MiB exported");
    assert!(
        grown_mib < 8.0,
        "the server grew {grown_mib:.1} MiB while streaming {exported_mib:.1} MiB"
    );
}

#[tokio::test]
async fn the_command_line_exports_the_same_csv_to_stdout() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot(&webinar, 10).await;
    for (email, source) in [
        ("asha@example.com", "newsletter"),
        ("ravi@example.com", "linkedin"),
        ("meera@example.com", "newsletter"),
    ] {
        register(&app, &webinar, slot, email, source).await;
    }
    let data = tempfile::tempdir().unwrap();
    let exported = crate::cli::turnout(&app.database, data.path())
        .args([
            "export",
            "registrations",
            "--webinar",
            "ml-careers",
            "--utm-source",
            "newsletter",
        ])
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let csv = String::from_utf8(exported.stdout).unwrap();
    let over_http = app
        .admin_get("/api/v1/admin/registrations.csv?webinar=ml-careers&utm_source=newsletter")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv, over_http,
        "stdout holds the CSV and nothing else, logs go to stderr"
    );
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.contains("asha@example.com") && csv.contains("meera@example.com"));

    let refused = crate::cli::turnout(&app.database, data.path())
        .args(["export", "registrations", "--status", "maybe", "--created-from", "soon"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--status") && stderr.contains("--created-from"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());
}
