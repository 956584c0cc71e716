//! The `turnout` binary itself: migrate, admin tokens, serve with demo data,
//! and a clean exit on SIGTERM.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use turnout_test_support::{TestDatabase, json_body};

pub(crate) fn turnout(db: &TestDatabase, data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_turnout"));
    command
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        // These tests post forms at once; the form-token check has its own.
        .env("TURNOUT_LIMITS_MIN_FILL_MS", "0")
        .env_remove("TURNOUT_ADMIN_TOKEN")
        .arg("--data-dir")
        .arg(data_dir);
    command
}

pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub(crate) async fn wait_until_ready(base: &str, child: &mut Child) {
    for _ in 0..200 {
        if let Ok(response) = reqwest::get(format!("{base}/readyz")).await
            && response.status() == StatusCode::OK
        {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "turnout exited early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("turnout did not become ready");
}

#[tokio::test]
async fn the_binary_migrates_issues_tokens_serves_the_demo_and_stops_on_sigterm() {
    let db = TestDatabase::new().await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("nested").join("data");

    let migrated = turnout(&db, &data_dir).arg("migrate").status().unwrap();
    assert!(migrated.success());
    assert!(data_dir.is_dir(), "the data folder is created");

    let created = turnout(&db, &data_dir)
        .args(["admin", "token", "create", "--label", "test"])
        .output()
        .unwrap();
    assert!(created.status.success());
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 43);
    assert_eq!(db.count("api_tokens").await, 1);

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = turnout(&db, &data_dir)
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_ready(&base, &mut server).await;

    let webinars = json_body(reqwest::get(format!("{base}/api/v1/webinars")).await.unwrap()).await;
    assert_eq!(webinars["items"].as_array().unwrap().len(), 3);
    let articles = json_body(reqwest::get(format!("{base}/api/v1/articles")).await.unwrap()).await;
    assert_eq!(
        articles["items"][0]["slug"],
        "machine-learning-engineer-job-description"
    );
    let windows = reqwest::get(format!("{base}/api/v1/consultation-windows?tz=Asia/Kolkata"))
        .await
        .unwrap();
    let windows = json_body(windows).await;
    let available = windows["days"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|day| day["windows"].as_array().unwrap())
        .filter(|window| window["available"] == true)
        .count();
    assert!(available > 0, "the demo advisors cover some windows: {windows}");
    let client = reqwest::Client::new();
    let admin = client
        .get(format!("{base}/api/v1/admin/webinars"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), StatusCode::OK);

    let signalled = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "turnout exits 0 after SIGTERM, got {exit:?}");

    // Serving the demo again adds nothing: it loads once.
    let slots = db.count("slots").await;
    let mut again = turnout(&db, &data_dir)
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_ready(&base, &mut again).await;
    assert_eq!(db.count("slots").await, slots);
    assert_eq!(db.count("webinars").await, 3);
    assert_eq!(db.count("advisors").await, 2);
    Command::new("kill")
        .args(["-TERM", &again.id().to_string()])
        .status()
        .unwrap();
    assert!(
        tokio::task::spawn_blocking(move || again.wait())
            .await
            .unwrap()
            .unwrap()
            .success()
    );
}

async fn serve(db: &TestDatabase, data_dir: &std::path::Path, port: u16) -> Child {
    let mut child = turnout(db, data_dir)
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_ready(&format!("http://127.0.0.1:{port}"), &mut child).await;
    child
}

#[tokio::test]
async fn a_registration_answered_201_survives_a_crash_right_after() {
    let db = TestDatabase::new().await;
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&db, data.path(), port).await;
    let slots = json_body(
        reqwest::get(format!(
            "{base}/api/v1/webinars/system-design-for-senior-engineers/slots"
        ))
        .await
        .unwrap(),
    )
    .await;
    let slot_id = slots["days"][0]["slots"][0]["slot_id"].as_i64().unwrap();
    let mut body = turnout_test_support::lead_body("system-design-for-senior-engineers", "asha@example.com");
    body["slot_id"] = serde_json::json!(slot_id);
    let created = reqwest::Client::new()
        .post(format!("{base}/api/v1/registrations"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json_body(created).await;

    // SIGKILL: no shutdown, no flush, nothing but what was committed.
    server.kill().unwrap();
    server.wait().unwrap();

    let mut restarted = serve(&db, data.path(), port).await;
    let path = format!(
        "{base}/api/v1/registrations/{}",
        created["registration_id"].as_str().unwrap()
    );
    let found = reqwest::Client::new()
        .get(&path)
        .bearer_auth(created["manage_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), StatusCode::OK);
    assert_eq!(json_body(found).await["slot"]["slot_id"], slot_id);
    restarted.kill().unwrap();
    restarted.wait().unwrap();
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_before_exiting() {
    let db = TestDatabase::new().await;
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&db, data.path(), port).await;

    // A lead whose body arrives slowly is in flight when SIGTERM comes.
    let body = turnout_test_support::lead_body("system-design-for-senior-engineers", "asha@example.com").to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let (send, receive) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let request = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{base}/api/v1/leads"))
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(tokio_stream_from(receive)))
            .send(),
    );
    send.send(Ok(first.as_bytes().to_vec())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server.try_wait().unwrap().is_none(),
        "still draining the request in flight"
    );
    send.send(Ok(rest.as_bytes().to_vec())).await.unwrap();
    drop(send);
    let answered = request.await.unwrap().unwrap();
    assert_eq!(answered.status(), StatusCode::CREATED, "answered in full, not cut off");
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "exit 0 once drained, got {exit:?}");
}

/// A stream of the chunks sent on `receive`.
fn tokio_stream_from(
    mut receive: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::poll_fn(move |context| receive.poll_recv(context))
}

#[tokio::test]
async fn tokens_are_listed_and_revoked_from_the_command_line() {
    let db = TestDatabase::new().await;
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = turnout(&db, data.path()).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let secret = run(&[
        "admin",
        "token",
        "create",
        "--label",
        "nightly export",
        "--expires-in-days",
        "7",
    ]);
    let listed = run(&["admin", "token", "list"]);
    let row = listed
        .lines()
        .find(|line| line.contains("nightly export"))
        .expect("listed");
    assert!(!listed.contains(secret.trim()), "the list shows no secret");
    let id = row.split('\t').next().unwrap();
    let columns: Vec<&str> = row.split('\t').collect();
    assert_eq!(columns[1], "admin");
    assert_ne!(columns[5], "-", "it expires");
    assert_eq!(columns[6], "-", "not revoked yet");
    let revoked = run(&["admin", "token", "revoke", id]);
    assert!(revoked.contains("revoked token"));
    let listed = run(&["admin", "token", "list"]);
    let row = listed.lines().find(|line| line.contains("nightly export")).unwrap();
    assert_ne!(row.split('\t').nth(6).unwrap(), "-", "revoked now");
    let bad = turnout(&db, data.path())
        .args(["admin", "token", "create", "--role", "advisor"])
        .output()
        .unwrap();
    assert!(!bad.status.success(), "an advisor token names its advisor");
}
