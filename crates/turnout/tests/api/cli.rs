//! The `turnout` binary itself: migrate, admin tokens, serve with demo data,
//! and a clean exit on SIGTERM.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use turnout_test_support::{TestDatabase, json_body};

fn turnout(db: &TestDatabase, data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_turnout"));
    command
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .env_remove("TURNOUT_ADMIN_TOKEN")
        .arg("--data-dir")
        .arg(data_dir);
    command
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn wait_until_ready(base: &str, child: &mut Child) {
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
