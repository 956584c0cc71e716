//! Emails through the outbox: the confirmation with its invitation and
//! links, the invitation updated and withdrawn, reminders at their offsets
//! (driven by a test clock) that never go out stale or late, the callback
//! emails, and a real SMTP server receiving the confirmation.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::StatusCode;
use serde_json::{Value, json};
use turnout_delivery::{EmailTransport, WorkerSettings};
use turnout_test_support::{TestApp, in_days, json_body, lead_body};

use crate::cli::free_port;

/// The parts of an email a test looks at.
#[derive(Debug)]
pub(crate) struct Email {
    pub(crate) message_id: String,
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) html: String,
    /// The attached invitation and its `method` parameter.
    pub(crate) invite: Option<(String, String)>,
}

fn parse(raw: &[u8]) -> Email {
    let message = MessageParser::default().parse(raw).expect("an RFC 5322 message");
    let invite = message.attachments().find_map(|part| {
        let content_type = part.content_type()?;
        (content_type.ctype() == "text" && content_type.subtype() == Some("calendar")).then(|| {
            (
                String::from_utf8(part.contents().to_vec()).unwrap(),
                content_type.attribute("method").unwrap_or_default().to_owned(),
            )
        })
    });
    Email {
        message_id: message.message_id().unwrap_or_default().to_owned(),
        to: message
            .to()
            .and_then(|to| to.first())
            .and_then(|address| address.address())
            .unwrap_or_default()
            .to_owned(),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
        invite,
    }
}

pub(crate) fn emails(app: &TestApp) -> Vec<Email> {
    app.emails().iter().map(|raw| parse(raw)).collect()
}

/// One property of an iCalendar object, unfolded.
fn property(ics: &str, name: &str) -> Option<String> {
    ics.replace("\r\n ", "")
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")).map(str::to_owned))
}

fn no_reminders() -> WorkerSettings {
    WorkerSettings {
        reminders: Vec::new(),
        ..WorkerSettings::default()
    }
}

pub(crate) fn join_url_in(text: &str) -> String {
    text.split_whitespace()
        .find(|word| word.contains("/join/"))
        .expect("a join link")
        .to_owned()
}

pub(crate) fn manage_url_in(text: &str) -> String {
    text.split_whitespace()
        .find(|word| word.contains("/registrations/") && word.contains("token="))
        .expect("a manage link")
        .to_owned()
}

#[tokio::test]
async fn a_registration_is_confirmed_by_email_with_an_invitation_and_links() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let starts_at = in_days(3);
    let slot = app.slot_at(&webinar, starts_at, 10).await;
    let mut body = lead_body(&webinar, "asha@example.com");
    body["slot_id"] = json!(slot);
    body["time_zone"] = json!("America/New_York");
    let registered = json_body(app.post("/api/v1/registrations", &body).await).await;
    let id = registered["registration_id"].as_str().unwrap();

    app.worker_with(no_reminders())
        .run_once(Timestamp::now())
        .await
        .unwrap();
    let sent = app.ledger("?channel=email&status=sent").await;
    assert_eq!(sent.len(), 1);
    let email = emails(&app).pop().expect("one email");
    assert_eq!(
        email.message_id,
        format!("{}@example.com", sent[0]["message_id"].as_str().unwrap())
    );
    assert_eq!(email.to, "asha@example.com");
    assert_eq!(email.subject, "You're registered: Webinar ml-careers");
    let when =
        turnout_domain::labels::local_label(starts_at, &turnout_domain::TimeZone::parse("America/New_York").unwrap());
    assert!(
        email.text.contains(&when.full),
        "the visitor's own zone: {}",
        email.text
    );
    assert!(email.text.contains("(America/New_York)"));
    assert!(
        email
            .text
            .contains("https://calendar.google.com/calendar/render?action=TEMPLATE")
    );
    assert!(
        email
            .text
            .contains("https://outlook.live.com/calendar/0/deeplink/compose?")
    );
    let html = email.html.replace("&#x2f;", "/").replace("&amp;", "&");
    assert!(
        html.contains("<a href=\"https://calendar.google.com/calendar/render?action=TEMPLATE&"),
        "{html}"
    );
    assert!(
        html.contains(&format!("<a href=\"{}\"", manage_url_in(&email.text))),
        "{html}"
    );

    let manage = manage_url_in(&email.text);
    assert_eq!(
        manage.split("token=").nth(1).unwrap(),
        registered["manage_token"].as_str().unwrap(),
        "the email carries the token the API handed out"
    );
    let opened = app
        .client
        .get(manage.replace("/registrations/", "/api/v1/registrations/"))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::OK, "the link opens the registration");

    let (ics, method) = email.invite.expect("an invitation");
    assert_eq!(method, "REQUEST");
    assert_eq!(property(&ics, "METHOD").as_deref(), Some("REQUEST"));
    assert_eq!(property(&ics, "UID"), Some(format!("{id}@turnout")));
    assert_eq!(property(&ics, "SEQUENCE").as_deref(), Some("0"));
    assert_eq!(
        property(&ics, "DTSTART"),
        Some(starts_at.strftime("%Y%m%dT%H%M%SZ").to_string())
    );
    let unfolded = ics.replace("\r\n ", "");
    assert!(
        unfolded.contains("ORGANIZER;CN=\"Turnout Webinars\":mailto:webinars@example.com"),
        "{ics}"
    );
    assert!(unfolded.contains("ATTENDEE;CN=\"Asha Verma\""), "{ics}");

    let join = join_url_in(&email.text);
    assert_eq!(
        join,
        registered["join_link"].as_str().unwrap(),
        "the link the API handed out"
    );
    assert!(html.contains(&format!("<a href=\"{join}\"")), "a join button: {html}");
    assert_eq!(property(&ics, "LOCATION"), Some(join.clone()), "{ics}");
    assert_eq!(property(&ics, "URL"), Some(join.clone()), "{ics}");
    assert!(
        property(&ics, "DESCRIPTION").unwrap().contains(&join),
        "calendars that hide LOCATION still show it: {ics}"
    );
    let early = app.client.get(&join).send().await.unwrap();
    assert_eq!(
        early.status(),
        StatusCode::OK,
        "three days early, the link shows when it starts"
    );
}

#[tokio::test]
async fn a_reschedule_updates_the_invitation_and_a_cancellation_withdraws_it() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let first = app.slot_at(&webinar, in_days(3), 10).await;
    let later = in_days(5);
    let second = app.slot_at(&webinar, later, 10).await;
    let registered = json_body(app.register(&webinar, first, "asha@example.com").await).await;
    let id = registered["registration_id"].as_str().unwrap();
    let token = registered["manage_token"].as_str().unwrap();
    let moved = app
        .client
        .post(app.url(&format!("/api/v1/registrations/{id}/reschedule")))
        .json(&json!({"slot_id": second}));
    assert_eq!(app.with_token(moved, token).await.status(), StatusCode::OK);
    let cancel = app.client.post(app.url(&format!("/api/v1/registrations/{id}/cancel")));
    assert_eq!(app.with_token(cancel, token).await.status(), StatusCode::OK);

    app.worker_with(no_reminders())
        .run_once(Timestamp::now())
        .await
        .unwrap();
    let mut sent = emails(&app);
    sent.sort_by_key(|email| property(&email.invite.as_ref().unwrap().0, "SEQUENCE"));
    let subjects: Vec<&str> = sent.iter().map(|email| email.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "You're registered: Webinar ml-careers",
            "New time for Webinar ml-careers",
            "Cancelled: Webinar ml-careers",
        ]
    );
    let invites: Vec<(String, String)> = sent.into_iter().map(|email| email.invite.unwrap()).collect();
    let uid = format!("{id}@turnout");
    assert!(
        invites
            .iter()
            .all(|(ics, _)| property(ics, "UID").as_ref() == Some(&uid)),
        "one UID throughout"
    );
    let sequences: Vec<String> = invites
        .iter()
        .map(|(ics, _)| property(ics, "SEQUENCE").unwrap())
        .collect();
    assert_eq!(sequences, ["0", "1", "2"]);
    assert_eq!(
        property(&invites[1].0, "DTSTART"),
        Some(later.strftime("%Y%m%dT%H%M%SZ").to_string())
    );
    let join = registered["join_link"].as_str().unwrap();
    assert_eq!(
        property(&invites[1].0, "LOCATION").as_deref(),
        Some(join),
        "the link follows the move"
    );
    assert_eq!(
        property(&invites[2].0, "LOCATION"),
        None,
        "a withdrawn seat has nowhere to join"
    );
    assert!(!invites[2].0.contains("/join/"), "{}", invites[2].0);
    assert_eq!(invites[2].1, "CANCEL");
    assert_eq!(property(&invites[2].0, "METHOD").as_deref(), Some("CANCEL"));
    assert_eq!(property(&invites[2].0, "STATUS").as_deref(), Some("CANCELLED"));
}

/// Reschedules or cancels a registration with its manage token.
async fn manage(app: &TestApp, registration: &Value, action: &str, body: Value) -> StatusCode {
    let id = registration["registration_id"].as_str().unwrap();
    let request = app
        .client
        .post(app.url(&format!("/api/v1/registrations/{id}/{action}")))
        .json(&body);
    app.with_token(request, registration["manage_token"].as_str().unwrap())
        .await
        .status()
}

#[tokio::test]
async fn reminders_go_out_at_their_offsets_and_never_stale_or_late() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let starts_at = in_days(3);
    let slot = app.slot_at(&webinar, starts_at, 10).await;
    let other_slot = app.slot_at(&webinar, in_days(6), 10).await;
    let worker = app.worker();

    // Asha keeps her seat; Ravi moves to another slot; Meera cancels.
    let asha = json_body(app.register(&webinar, slot, "asha@example.com").await).await;
    let ravi = json_body(app.register(&webinar, slot, "ravi@example.com").await).await;
    let meera = json_body(app.register(&webinar, slot, "meera@example.com").await).await;
    worker.run_once(Timestamp::now()).await.unwrap();
    assert_eq!(
        manage(&app, &ravi, "reschedule", json!({"slot_id": other_slot})).await,
        StatusCode::OK
    );
    assert_eq!(manage(&app, &meera, "cancel", json!({})).await, StatusCode::OK);
    worker.run_once(Timestamp::now()).await.unwrap();
    let confirmations = emails(&app).len();
    assert_eq!(confirmations, 5, "three confirmations, a new time and a cancellation");

    let day_before = starts_at - SignedDuration::from_hours(24);
    worker
        .run_once(day_before - SignedDuration::from_mins(1))
        .await
        .unwrap();
    assert_eq!(emails(&app).len(), confirmations, "not a minute early");
    worker.run_once(day_before).await.unwrap();
    let reminders: Vec<Email> = emails(&app)
        .into_iter()
        .filter(|e| e.subject.starts_with("Starting in"))
        .collect();
    assert_eq!(reminders.len(), 1, "only the registration that still holds the slot");
    assert_eq!(reminders[0].to, "asha@example.com");
    assert_eq!(reminders[0].subject, "Starting in 24 hours: Webinar ml-careers");
    assert!(reminders[0].invite.is_none());
    let skipped = app.ledger("?status=skipped").await;
    let mut reasons: Vec<&str> = skipped
        .iter()
        .map(|item| item["last_error"].as_str().unwrap())
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "the registration moved to another slot",
            "the registration was cancelled"
        ],
        "their 24-hour reminders for the old slot"
    );

    // The worker is down from before the 1-hour reminder until after the
    // webinar has started: that reminder is not sent late.
    worker.run_once(starts_at + SignedDuration::from_mins(5)).await.unwrap();
    let asha_id = asha["registration_id"].as_str().unwrap();
    let late: Vec<Value> = app
        .ledger("?status=skipped&limit=1000")
        .await
        .into_iter()
        .filter(|item| item["kind"] == "reminder-1h" && item["last_error"] == "too late: the webinar has started")
        .collect();
    assert!(!late.is_empty(), "{late:?}");
    assert!(
        emails(&app)
            .iter()
            .all(|e| e.subject != "Starting in 1 hour: Webinar ml-careers")
    );
    let asha_sms = app.ledger("?channel=sms").await;
    assert!(
        asha_sms.is_empty(),
        "no SMS provider is configured, so no SMS is routed: {asha_sms:?}"
    );
    assert!(!asha_id.is_empty());

    // Ravi's reminders follow his new slot.
    let new_day_before = in_days(6) - SignedDuration::from_hours(24);
    worker.run_once(new_day_before).await.unwrap();
    let to_ravi = emails(&app)
        .into_iter()
        .filter(|e| e.to == "ravi@example.com" && e.subject.starts_with("Starting in 24 hours"))
        .count();
    assert_eq!(to_ravi, 1);
}

#[tokio::test]
async fn the_last_reminder_leads_with_the_join_link() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let starts_at = in_days(3);
    let slot = app.slot_at(&webinar, starts_at, 10).await;
    let registered = json_body(app.register(&webinar, slot, "asha@example.com").await).await;
    let join = registered["join_link"].as_str().unwrap();
    let worker = app.worker();
    worker.run_once(Timestamp::now()).await.unwrap();
    worker
        .run_once(starts_at - SignedDuration::from_hours(24))
        .await
        .unwrap();
    worker
        .run_once(starts_at - SignedDuration::from_hours(1))
        .await
        .unwrap();
    let reminder = |subject: &str| {
        emails(&app)
            .into_iter()
            .find(|email| email.subject == subject)
            .unwrap_or_else(|| panic!("a reminder {subject:?}"))
    };

    let day = reminder("Starting in 24 hours: Webinar ml-careers");
    assert_eq!(join_url_in(&day.text), join, "every reminder carries the link");
    assert!(
        day.text.find("A reminder").unwrap() < day.text.find(join).unwrap(),
        "the day before, the reminder leads with the time: {}",
        day.text
    );

    let hour = reminder("Starting in 1 hour: Webinar ml-careers");
    let first_link = hour
        .text
        .split_whitespace()
        .find(|word| word.starts_with("http"))
        .unwrap();
    assert_eq!(
        first_link, join,
        "the last reminder leads with the join link: {}",
        hour.text
    );
    let html = hour.html.replace("&amp;", "&");
    let first_href = html.split("href=\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(first_href, join, "{html}");
}

/// Asha's lead, and a callback in the first window of tomorrow in her zone:
/// the window and the consultation's id.
async fn book_callback(app: &TestApp, webinar: &str) -> (Value, String) {
    let (lead_id, lead_token) = app.lead(webinar, "asha@example.com").await;
    let windows = json_body(app.get("/api/v1/consultation-windows?tz=Asia/Kolkata").await).await;
    let window = windows["days"][1]["windows"][0].clone();
    let booked = app
        .post(
            "/api/v1/consultations",
            &json!({"lead_id": lead_id, "lead_token": lead_token, "window_id": window["window_id"]}),
        )
        .await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    let id = json_body(booked).await["consultation_id"].as_str().unwrap().to_owned();
    (window, id)
}

#[tokio::test]
async fn a_callback_is_confirmed_to_the_visitor_and_announced_to_the_advisor() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.advisor("nadia@example.com", "Europe/London", ("00:00", "23:59"), 3)
        .await;
    let (window, _) = book_callback(&app, &webinar).await;
    app.worker().run_once(Timestamp::now()).await.unwrap();

    let sent = emails(&app);
    assert_eq!(sent.len(), 2);
    let visitor = sent
        .iter()
        .find(|e| e.to == "asha@example.com")
        .expect("the visitor's email");
    let advisor = sent
        .iter()
        .find(|e| e.to == "nadia@example.com")
        .expect("the advisor's email");
    assert!(
        visitor.subject.starts_with("Your callback with "),
        "{}",
        visitor.subject
    );
    assert!(
        visitor.text.contains(window["label"].as_str().unwrap()),
        "{}",
        visitor.text
    );
    assert!(visitor.text.contains("(Asia/Kolkata)"));
    assert!(visitor.text.contains("+919876543210"));
    assert!(
        advisor.subject.starts_with("New callback: Asha Verma"),
        "{}",
        advisor.subject
    );
    assert!(
        advisor.text.contains("(Europe/London)"),
        "in the advisor's zone: {}",
        advisor.text
    );
    assert!(advisor.text.contains("asha@example.com"));
}

/// Python's aiosmtpd, a real SMTP server, storing what it receives in a
/// Maildir.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    async fn start() -> Self {
        let importable = |python: &str| {
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        };
        if !importable("python3") {
            let installed = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "--user", "aiosmtpd"])
                .status()
                .expect("python3 and pip, to install the aiosmtpd test server");
            assert!(
                installed.success() && importable("python3"),
                "aiosmtpd could not be installed"
            );
        }
        let maildir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir.path().join("inbox"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Self { child, port, maildir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start");
    }

    fn received(&self) -> Vec<Vec<u8>> {
        let new = self.maildir.path().join("inbox").join("new");
        match std::fs::read_dir(new) {
            Ok(entries) => entries
                .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_real_smtp_server_receives_the_confirmation_and_its_invitation() {
    let server = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let starts_at = in_days(3);
    let slot = app.slot_at(&webinar, starts_at, 10).await;
    let registered = json_body(app.register(&webinar, slot, "asha@example.com").await).await;
    let id = registered["registration_id"].as_str().unwrap();

    let smtp = EmailTransport::Smtp(format!("smtp://127.0.0.1:{}", server.port).into());
    app.worker_using(no_reminders(), &smtp)
        .run_once(Timestamp::now())
        .await
        .unwrap();
    let sent = app.ledger("?channel=email").await;
    assert_eq!(sent[0]["status"], "sent", "{sent:?}");
    let received = server.received();
    assert_eq!(received.len(), 1);
    let email = parse(&received[0]);
    assert_eq!(email.to, "asha@example.com");
    assert_eq!(
        email.message_id,
        format!("{}@example.com", sent[0]["message_id"].as_str().unwrap())
    );
    let (ics, method) = email.invite.expect("the invitation");
    assert_eq!(method, "REQUEST");
    assert_eq!(property(&ics, "UID"), Some(format!("{id}@turnout")));
    assert_eq!(
        property(&ics, "DTSTART"),
        Some(starts_at.strftime("%Y%m%dT%H%M%SZ").to_string())
    );
    assert!(app.emails().is_empty(), "nothing went to files");
}

#[tokio::test]
async fn a_reassigned_callback_is_announced_again_and_the_old_emails_are_not_sent() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.advisor("nadia@example.com", "Europe/London", ("00:00", "23:59"), 3)
        .await;
    let (_, id) = book_callback(&app, &webinar).await;
    let second = app
        .advisor("omar@example.com", "Europe/London", ("00:00", "23:59"), 3)
        .await;
    let moved = app
        .admin_post(
            &format!("/api/v1/admin/consultations/{id}/reassign"),
            &json!({"advisor_id": second}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);

    app.worker().run_once(Timestamp::now()).await.unwrap();
    let sent = emails(&app);
    let to: Vec<&str> = sent.iter().map(|email| email.to.as_str()).collect();
    assert_eq!(to.iter().filter(|to| **to == "asha@example.com").count(), 1, "{to:?}");
    assert!(to.contains(&"omar@example.com"), "the new advisor hears of it: {to:?}");
    assert!(
        !to.contains(&"nadia@example.com"),
        "the old assignment is not announced"
    );
    let skipped = app.ledger("?status=skipped").await;
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped
            .iter()
            .all(|item| item["last_error"] == "the consultation was reassigned or moved since")
    );
}
