//! OWASP API6:2023, unrestricted access to sensitive business flows: the
//! flows that make Turnout send messages cannot be turned on a third party.
//! Whatever the API is asked, one recipient gets at most the daily cap of
//! emails and SMS, and SMS go only to the countries allowed.

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::json;
use turnout_delivery::WorkerSettings;
use turnout_test_support::{TestApp, json_body};

use crate::emails::emails;

#[tokio::test]
async fn register_cancel_repeat_cannot_flood_an_inbox_past_the_daily_cap() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 50).await;
    let worker = app.worker_with(WorkerSettings {
        reminders: Vec::new(),
        messages_per_recipient_per_day: 3,
        ..WorkerSettings::default()
    });
    for _ in 0..4 {
        let registered = json_body(app.register(&webinar, slot_id, "victim@example.com").await).await;
        let id = registered["registration_id"].as_str().unwrap();
        let cancel = app.client.post(app.url(&format!("/api/v1/registrations/{id}/cancel")));
        let token = registered["manage_token"].as_str().unwrap();
        assert_eq!(app.with_token(cancel, token).await.status(), StatusCode::OK);
    }
    let other = app.register(&webinar, slot_id, "ravi@example.com").await;
    assert_eq!(other.status(), StatusCode::CREATED);
    worker.run_once(Timestamp::now()).await.unwrap();

    let sent = emails(&app);
    let to_victim = sent.iter().filter(|email| email.to == "victim@example.com").count();
    assert_eq!(to_victim, 3, "8 messages were asked for, the cap lets 3 through");
    assert_eq!(sent.iter().filter(|email| email.to == "ravi@example.com").count(), 1);
    let skipped = app.ledger("?status=skipped").await;
    assert_eq!(skipped.len(), 5);
    for delivery in &skipped {
        let reason = delivery["last_error"].as_str().unwrap();
        assert!(reason.contains("daily cap of 3"), "{reason}");
    }
}

#[tokio::test]
async fn a_retried_message_is_not_counted_twice() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot_id = app.slot(&webinar, 50).await;
    let registered = app.register(&webinar, slot_id, "asha@example.com").await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let settings = WorkerSettings {
        reminders: Vec::new(),
        messages_per_recipient_per_day: 1,
        ..WorkerSettings::default()
    };
    let blocked = app.mail.path().join("blocked");
    let broken = app.worker_using(
        settings.clone(),
        &turnout_delivery::EmailTransport::Files(blocked.clone()),
    );
    std::fs::remove_dir(&blocked).unwrap();
    std::fs::write(&blocked, b"a file where the mail folder should be").unwrap();
    broken.run_once(Timestamp::now()).await.unwrap();
    let failed = app.ledger("?status=failed").await;
    assert_eq!(failed.len(), 1, "the first attempt failed and counted");
    let message_id = failed[0]["message_id"].as_str().unwrap();
    let retried = app
        .admin_post(&format!("/api/v1/admin/outbox/{message_id}/retry"), &json!({}))
        .await;
    assert_eq!(retried.status(), StatusCode::OK);
    app.worker_with(settings).run_once(Timestamp::now()).await.unwrap();
    let sent = app.ledger("?status=sent").await;
    assert_eq!(
        sent.len(),
        1,
        "the retry went out under the cap: {:?}",
        app.ledger("").await
    );
}

mod bots {
    //! Scripts filling the lead form: a honeypot, a minimum fill time, no
    //! throwaway addresses, and a challenge verified with its provider.

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use reqwest::StatusCode;
    use serde_json::{Value, json};
    use turnout_http::{BotSettings, CaptchaSettings, Settings};
    use turnout_test_support::{TestApp, json_body, lead_body};

    /// Limits on, but only the bot checks a test names.
    async fn spawn(bots: BotSettings) -> TestApp {
        TestApp::spawn_with(Settings {
            limits: turnout_test_support::limits(|_| {}),
            bots,
            ..Settings::default()
        })
        .await
    }

    async fn refused(response: reqwest::Response, kind: &str, field: &str) {
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem = json_body(response).await;
        assert_eq!(problem["type"], format!("/problems/{kind}"), "{problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }

    async fn form_token(app: &TestApp) -> String {
        let issued = json_body(app.get("/api/v1/form-token").await).await;
        issued["form_token"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn a_filled_honeypot_is_refused_and_records_nothing() {
        let app = spawn(BotSettings::off()).await;
        let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
        let mut body = lead_body(&webinar, "asha@example.com");
        body["website"] = json!("https://spam.example.com");
        refused(app.post("/api/v1/leads", &body).await, "bot-suspected", "website").await;
        body["website"] = json!("");
        assert_eq!(app.post("/api/v1/leads", &body).await.status(), StatusCode::CREATED);
        assert_eq!(app.database.count("leads").await, 1);
    }

    #[tokio::test]
    async fn a_form_sent_without_a_token_or_too_fast_is_refused() {
        let app = spawn(BotSettings {
            min_fill: Duration::from_millis(400),
            ..BotSettings::off()
        })
        .await;
        let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
        let slot_id = app.slot(&webinar, 10).await;
        let body = lead_body(&webinar, "asha@example.com");
        refused(app.post("/api/v1/leads", &body).await, "bot-suspected", "form_token").await;

        let issued = json_body(app.get("/api/v1/form-token").await).await;
        assert_eq!(issued["min_fill_ms"], 400);
        let token = issued["form_token"].as_str().unwrap().to_owned();
        let with = |token: &str| {
            let mut body = body.clone();
            body["form_token"] = json!(token);
            body
        };
        refused(
            app.post("/api/v1/leads", &with(&token)).await,
            "bot-suspected",
            "form_token",
        )
        .await;
        let (issued_at, _) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{}",
            issued_at.parse::<i64>().unwrap() - 60_000,
            token.split_once('.').unwrap().1
        );
        tokio::time::sleep(Duration::from_millis(450)).await;
        refused(
            app.post("/api/v1/leads", &with(&forged)).await,
            "bot-suspected",
            "form_token",
        )
        .await;
        refused(
            app.post("/api/v1/leads", &with("made-up")).await,
            "bot-suspected",
            "form_token",
        )
        .await;
        assert_eq!(app.database.count("leads").await, 0, "no refused form was recorded");

        assert_eq!(
            app.post("/api/v1/leads", &with(&token)).await.status(),
            StatusCode::CREATED
        );
        let mut inline = with(&form_token(&app).await);
        inline["slot_id"] = json!(slot_id);
        inline["email"] = json!("ravi@example.com");
        refused(
            app.post("/api/v1/registrations", &inline).await,
            "bot-suspected",
            "form_token",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(
            app.post("/api/v1/registrations", &inline).await.status(),
            StatusCode::CREATED
        );
    }

    #[tokio::test]
    async fn a_throwaway_address_is_refused() {
        let app = spawn(BotSettings {
            refuse_disposable: true,
            ..BotSettings::off()
        })
        .await;
        let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
        let throwaway = lead_body(&webinar, "someone@mailinator.com");
        refused(app.post("/api/v1/leads", &throwaway).await, "validation", "email").await;
        let permanent = lead_body(&webinar, "asha@example.com");
        assert_eq!(
            app.post("/api/v1/leads", &permanent).await.status(),
            StatusCode::CREATED
        );
    }

    /// A challenge provider on 127.0.0.1: passes the response `pass`.
    async fn provider() -> (String, Arc<Mutex<Vec<Value>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route(
                "/siteverify",
                axum::routing::post(
                    |axum::extract::State(seen): axum::extract::State<Arc<Mutex<Vec<Value>>>>,
                     axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| async move {
                        let success = form.get("secret").map(String::as_str) == Some("provider-secret")
                            && form.get("response").map(String::as_str) == Some("pass");
                        seen.lock().unwrap().push(json!(form));
                        axum::Json(json!({"success": success}))
                    },
                ),
            )
            .with_state(Arc::clone(&seen));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/siteverify", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, seen)
    }

    #[tokio::test]
    async fn a_challenge_is_verified_with_its_provider_and_an_outage_changes_nothing() {
        let (verify_url, seen) = provider().await;
        let captcha = |verify_url: String| BotSettings {
            captcha: Some(CaptchaSettings {
                verify_url,
                secret: "provider-secret".into(),
                site_key: "site-key".into(),
            }),
            ..BotSettings::off()
        };
        let app = spawn(captcha(verify_url)).await;
        let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
        let issued = json_body(app.get("/api/v1/form-token").await).await;
        assert_eq!(issued["captcha_site_key"], "site-key");
        let mut body = lead_body(&webinar, "asha@example.com");
        refused(app.post("/api/v1/leads", &body).await, "bot-suspected", "captcha_token").await;
        body["captcha_token"] = json!("fail");
        refused(app.post("/api/v1/leads", &body).await, "bot-suspected", "captcha_token").await;
        body["captcha_token"] = json!("pass");
        assert_eq!(app.post("/api/v1/leads", &body).await.status(), StatusCode::CREATED);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "the provider was asked for each token given");
        assert_eq!(seen[1]["remoteip"], "127.0.0.1", "with the client's address");

        let unused = crate::cli::free_port();
        let down = spawn(captcha(format!("http://127.0.0.1:{unused}/siteverify"))).await;
        let webinar = down.published_webinar("ml-careers", "Asia/Kolkata").await;
        let mut body = lead_body(&webinar, "asha@example.com");
        body["captcha_token"] = json!("pass");
        let answer = down.post("/api/v1/leads", &body).await;
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.database.count("leads").await, 0);
    }
}
