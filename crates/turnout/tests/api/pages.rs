//! The pages visitors read: rendered on the server, cached with validators,
//! and the manage page that works from the link in the email.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, REFERRER_POLICY};
use serde_json::{Value, json};
use turnout_test_support::{TestApp, in_days, json_body};

/// Posts a page's form as a browser would, without following the answer's
/// redirect, so the test sees where it points.
async fn submit(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app.get(path).await;
    let status = response.status();
    if status != StatusCode::NOT_MODIFIED {
        assert!(
            response.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
    }
    (status, response.text().await.unwrap())
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("{start} in {html}")) + start.len();
    let to = html[from..].find(end).unwrap() + from;
    &html[from..to]
}

async fn demo_article(app: &TestApp, webinar: &str) {
    let body = json!({
        "slug": "ml-engineer-guide",
        "title": "Machine learning engineer: the guide",
        "summary": "Roles, skills & pay.",
        "body": "## Levels\n\n| Level | Years |\n|---|---|\n| Entry | 0–2 |\n\n- Python\n- SQL\n",
        "contributors": [
            {"name": "Kavya Raman", "title": "Career Writer", "role": "author"},
            {"name": "Meera Iyengar", "title": "Principal ML Engineer", "role": "guided_by"},
            {"name": "Rohan Desai", "title": "Engineering Manager", "role": "reviewed_by"},
        ],
        "tags": ["machine-learning"],
        "faq": [{"question": "Do I need a PhD?", "answer": "No. </script> is just text here."}],
        "webinar": webinar,
        "status": "published",
    });
    assert_eq!(
        app.admin_post("/api/v1/admin/articles", &body).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn how_many_registered_shows_only_from_the_threshold() {
    let app = TestApp::spawn_with(turnout_http::Settings {
        social_proof_min: 2,
        // Pages say at once what changed, without waiting out a cache.
        slot_cache_ttl: std::time::Duration::ZERO,
        ..turnout_test_support::unlimited()
    })
    .await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(2), 10).await;
    for (count, email) in [(1, "asha@example.com"), (2, "ravi@example.com")] {
        assert_eq!(app.register(&webinar, slot, email).await.status(), StatusCode::CREATED);
        let (_, home) = page(&app, "/").await;
        let (_, webinar_page) = page(&app, "/webinars/ml-careers").await;
        assert_eq!(home.contains("2 registered"), count == 2, "{home}");
        assert_eq!(
            webinar_page.contains("<strong>2</strong> registered"),
            count == 2,
            "{webinar_page}"
        );
        assert!(
            !webinar_page.contains("<strong>1</strong> registered"),
            "{webinar_page}"
        );
    }
}

#[tokio::test]
async fn the_home_and_webinar_pages_show_what_is_published() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(2), 10).await;
    assert_eq!(
        app.register(&webinar, slot, "asha@example.com").await.status(),
        StatusCode::CREATED
    );
    demo_article(&app, &webinar).await;

    let (status, home) = page(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.starts_with("<!doctype html>"));
    assert!(
        home.contains("<a href=\"/webinars/ml-careers\">Webinar ml-careers</a>"),
        "{home}"
    );
    assert!(
        !home.contains("registered"),
        "one registration is no social proof: {home}"
    );
    assert!(home.contains("(Asia/Kolkata)"), "{home}");
    assert!(home.contains("<a href=\"/articles/ml-engineer-guide\">"));
    assert_eq!(between(&home, "<link rel=\"canonical\" href=\"", "\""), app.url("/"));

    let (status, page_html) = page(&app, "/webinars/ml-careers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        between(&page_html, "<title>", "</title>"),
        "Webinar ml-careers · Turnout"
    );
    assert!(page_html.contains("<meta name=\"description\" content=\""));
    assert_eq!(
        between(&page_html, "<link rel=\"canonical\" href=\"", "\""),
        app.url("/webinars/ml-careers")
    );
    assert!(page_html.contains("data-turnout-widget data-webinar=\"ml-careers\""));
    assert!(page_html.contains("<script src=\"/static/widget.js\" defer></script>"));

    let (status, missing) = page(&app, "/webinars/no-such-webinar").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing.contains("<h1>Page not found</h1>"));
    let (status, privacy) = page(&app, "/privacy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(privacy.contains("<h1>Privacy policy</h1>"), "{privacy}");
    assert!(privacy.contains("Version 2026-11-01"));
    let script = app.get("/static/widget.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}

#[tokio::test]
async fn the_article_page_carries_its_content_json_ld_and_validators() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    demo_article(&app, &webinar).await;

    let response = app.get("/articles/ml-engineer-guide").await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(response.headers()[CACHE_CONTROL].to_str().unwrap().contains("max-age"));
    let html = response.text().await.unwrap();
    assert_eq!(
        between(&html, "<title>", "</title>"),
        "Machine learning engineer: the guide · Turnout"
    );
    assert_eq!(
        between(&html, "<meta name=\"description\" content=\"", "\""),
        "Roles, skills &amp; pay."
    );
    assert!(html.contains("1 minute read"));
    assert!(html.contains("<span class=\"role\">Written by</span> <strong>Kavya Raman</strong>, Career Writer"));
    assert!(html.contains("Written under the guidance of</span> <strong>Meera Iyengar</strong>"));
    assert!(html.contains("Reviewed by</span> <strong>Rohan Desai</strong>"));
    assert!(html.contains("<table>") && html.contains("<td>0–2</td>"), "{html}");
    assert!(html.contains("<summary>Do I need a PhD?</summary>"));
    assert!(
        html.contains("data-turnout-widget data-webinar=\"ml-careers\""),
        "the call to action"
    );

    let ld: Value = serde_json::from_str(between(&html, "<script type=\"application/ld+json\">", "</script>"))
        .expect("the JSON-LD parses");
    let article = &ld[0];
    assert_eq!(article["@type"], "Article");
    assert_eq!(article["headline"], "Machine learning engineer: the guide");
    assert_eq!(article["author"][0]["name"], "Kavya Raman");
    assert_eq!(article["contributor"][0]["name"], "Meera Iyengar");
    assert_eq!(article["reviewedBy"][0]["name"], "Rohan Desai");
    let faq = &ld[1];
    assert_eq!(faq["@type"], "FAQPage");
    assert_eq!(faq["mainEntity"][0]["name"], "Do I need a PhD?");
    assert_eq!(
        faq["mainEntity"][0]["acceptedAnswer"]["text"],
        "No. </script> is just text here."
    );

    let revalidated = app
        .client
        .get(app.url("/articles/ml-engineer-guide"))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

    app.admin_patch(
        "/api/v1/admin/articles/ml-engineer-guide",
        &json!({"title": "ML engineer: the 2027 guide"}),
    )
    .await;
    let (_, edited) = page(&app, "/articles/ml-engineer-guide").await;
    assert!(
        edited.contains("<h1>ML engineer: the 2027 guide</h1>"),
        "an edit shows at once"
    );
    app.admin_post("/api/v1/admin/articles/ml-engineer-guide/unpublish", &json!({}))
        .await;
    assert_eq!(page(&app, "/articles/ml-engineer-guide").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_manage_page_shows_reschedules_and_cancels_with_the_emailed_token() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let first = app.slot_at(&webinar, in_days(2), 10).await;
    let second = app.slot_at(&webinar, in_days(4), 10).await;
    let registered = json_body(app.register(&webinar, first, "asha@example.com").await).await;
    let id = registered["registration_id"].as_str().unwrap();
    let token = registered["manage_token"].as_str().unwrap();

    let path = format!("/registrations/{id}?token={token}");
    let response = app.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "private, no-store");
    assert_eq!(response.headers()[REFERRER_POLICY], "no-referrer");
    let html = response.text().await.unwrap();
    assert!(html.contains("<dd>Webinar ml-careers</dd>"));
    assert!(html.contains("<dd>Confirmed</dd>"));
    assert!(
        html.contains(&format!("<option value=\"{second}\">")),
        "the other slot is offered"
    );

    for wrong in [
        format!("/registrations/{id}"),
        format!("/registrations/{id}?token=wrong"),
    ] {
        assert_eq!(page(&app, &wrong).await.0, StatusCode::NOT_FOUND, "{wrong}");
    }

    let moved = submit(
        &app,
        &format!("/registrations/{id}/reschedule"),
        &[("token", token), ("slot_id", &second.to_string())],
    )
    .await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    let location = moved.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.ends_with("done=rescheduled"), "{location}");
    let html = app.get(&location).await.text().await.unwrap();
    assert!(html.contains("Your registration has moved."));
    assert!(
        html.contains(&format!("<option value=\"{first}\">")),
        "the old slot is offered back"
    );

    // A cancellation is confirmed first: the first tap only asks.
    let asked = submit(&app, &format!("/registrations/{id}/cancel"), &[("token", token)]).await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let location = asked.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.ends_with("confirm=cancel"), "{location}");
    let html = app.get(&location).await.text().await.unwrap();
    assert!(html.contains("Cancel your seat?"), "{html}");
    assert!(html.contains("Yes, cancel my registration"));
    let api = app
        .with_token(app.client.get(app.url(&format!("/api/v1/registrations/{id}"))), token)
        .await;
    assert_eq!(json_body(api).await["status"], "confirmed", "nothing changed yet");

    let cancelled = submit(
        &app,
        &format!("/registrations/{id}/cancel"),
        &[("token", token), ("confirmed", "yes")],
    )
    .await;
    assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
    let location = cancelled.headers()[LOCATION].to_str().unwrap().to_owned();
    let html = app.get(&location).await.text().await.unwrap();
    assert!(html.contains("Your registration is cancelled."));
    assert!(html.contains("<dd>Cancelled</dd>"));
    let api = app
        .with_token(app.client.get(app.url(&format!("/api/v1/registrations/{id}"))), token)
        .await;
    assert_eq!(json_body(api).await["status"], "cancelled");

    let forged = submit(&app, &format!("/registrations/{id}/cancel"), &[("token", "forged")]).await;
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listed_sites_may_call_the_api_from_a_browser_and_others_are_refused() {
    let settings = turnout_http::Settings {
        cors_origins: turnout_http::AllowedOrigins::new(&["https://partner.example.com".into()]).unwrap(),
        ..turnout_test_support::unlimited()
    };
    let app = TestApp::spawn_with(settings).await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let body = turnout_test_support::lead_body(&webinar, "asha@example.com");

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/leads"))
        .header("origin", "https://partner.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://partner.example.com"
    );
    let allowed = app
        .client
        .post(app.url("/api/v1/leads"))
        .header("origin", "https://partner.example.com")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::CREATED);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://partner.example.com"
    );

    let other = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/leads"))
        .header("origin", "https://elsewhere.example.net")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let refused = app
        .client
        .post(app.url("/api/v1/leads"))
        .header("origin", "https://elsewhere.example.net")
        .json(&turnout_test_support::lead_body(&webinar, "ravi@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_body(refused).await["type"], "/problems/forbidden-origin");
    let leads = json_body(app.admin_get("/api/v1/admin/events?event_type=lead.created").await).await;
    assert_eq!(
        leads["items"].as_array().unwrap().len(),
        1,
        "the refused request changed nothing"
    );

    let own = app
        .client
        .post(app.url("/api/v1/leads"))
        .header("origin", app.address.clone())
        .json(&turnout_test_support::lead_body(&webinar, "meera@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::CREATED, "Turnout's own pages");
}

#[tokio::test]
async fn pages_are_compressed_for_clients_that_accept_it_and_still_revalidate() {
    let app = TestApp::spawn().await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    demo_article(&app, &webinar).await;
    let path = app.url("/articles/ml-engineer-guide");
    let plain = app.client.get(&path).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let strong = plain.headers()["etag"].to_str().unwrap().to_owned();
    assert!(strong.starts_with('"'), "{strong}");
    let plain_length = plain.bytes().await.unwrap().len();

    for encoding in ["br", "gzip"] {
        let packed = app
            .client
            .get(&path)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(packed.status(), StatusCode::OK);
        assert_eq!(packed.headers()["content-encoding"], encoding);
        assert!(packed.headers()["vary"].to_str().unwrap().contains("accept-encoding"));
        let weak = packed.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(weak, format!("W/{strong}"), "another representation, a weak validator");
        let length = packed.bytes().await.unwrap().len();
        assert!(
            length * 2 < plain_length,
            "{encoding}: {length} bytes against {plain_length}"
        );
        let again = app
            .client
            .get(&path)
            .header("accept-encoding", encoding)
            .header("if-none-match", &weak)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{encoding}");
    }
}

/// A registration and a callback asked with the same lead, an advisor
/// covering it, and a second slot a day later: (registration, window,
/// the later slot's id and start).
async fn registration_with_callback(app: &TestApp) -> (Value, Value, i64, jiff::Timestamp) {
    app.advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 5)
        .await;
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    let slot = app.slot_at(&webinar, in_days(3), 10).await;
    let later = in_days(4);
    let other = app.slot_at(&webinar, later, 10).await;
    let (lead_id, lead_token) = app.lead(&webinar, "asha@example.com").await;
    let registered = app
        .post(
            "/api/v1/registrations",
            &json!({"slot_id": slot, "lead_id": lead_id, "lead_token": lead_token}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let registered = json_body(registered).await;
    let listing = json_body(app.get("/api/v1/consultation-windows?tz=Asia/Kolkata").await).await;
    let window = listing["days"][1]["windows"][0].clone();
    let asked = app
        .post(
            "/api/v1/consultations",
            &json!({"lead_id": lead_id, "lead_token": lead_token, "window_id": window["window_id"]}),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::CREATED);

    (registered, window, other, later)
}

#[tokio::test]
async fn the_manage_page_shows_the_callback_and_offers_other_times_by_day() {
    let app = TestApp::spawn().await;
    let (registered, window, other, later) = registration_with_callback(&app).await;
    let id = registered["registration_id"].as_str().unwrap();
    let token = registered["manage_token"].as_str().unwrap();
    let (status, html) = page(&app, &format!("/registrations/{id}?token={token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<dt>Call with a program advisor</dt>"), "{html}");
    assert!(
        html.contains(window["label"].as_str().unwrap()),
        "the window is named: {html}"
    );
    assert!(html.contains("(Asia/Kolkata), with "), "{html}");
    let zone = turnout_domain::TimeZone::parse("Asia/Kolkata").unwrap();
    let day = turnout_domain::labels::local_label(later, &zone);
    assert!(
        html.contains(&format!("<optgroup label=\"{}\">", day.day)),
        "other times by day: {html}"
    );
    assert!(
        html.contains(&format!("<option value=\"{other}\">{}</option>", day.time)),
        "{html}"
    );

    // Cancelling the seat asks whether the call goes too; unticked, it stays.
    let (_, asking) = page(&app, &format!("/registrations/{id}?token={token}&confirm=cancel")).await;
    assert!(asking.contains("name=\"cancel_call\" value=\"yes\""), "{asking}");
    assert!(asking.contains("Leave it unticked to keep the call."), "{asking}");

    let listed = |body: Value| body["items"].as_array().unwrap().len();
    assert_eq!(
        listed(json_body(app.admin_get("/api/v1/admin/consultations").await).await),
        1
    );
    let asked = submit(&app, &format!("/registrations/{id}/cancel-call"), &[("token", token)]).await;
    assert!(asked.headers()[LOCATION].to_str().unwrap().ends_with("confirm=call"));
    let (_, confirm) = page(&app, asked.headers()[LOCATION].to_str().unwrap()).await;
    assert!(confirm.contains("Cancel your call?"), "{confirm}");
    assert_eq!(
        listed(json_body(app.admin_get("/api/v1/admin/consultations").await).await),
        1,
        "not yet"
    );

    let forged = submit(
        &app,
        &format!("/registrations/{id}/cancel-call"),
        &[("token", "forged"), ("confirmed", "yes")],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    let done = submit(
        &app,
        &format!("/registrations/{id}/cancel-call"),
        &[("token", token), ("confirmed", "yes")],
    )
    .await;
    let location = done.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.ends_with("done=call_cancelled"), "{location}");
    let (_, html) = page(&app, &location).await;
    assert!(
        html.contains("Your call with a program advisor is cancelled."),
        "{html}"
    );
    assert!(!html.contains("<dt>Call with a program advisor</dt>"), "{html}");
    assert_eq!(
        listed(json_body(app.admin_get("/api/v1/admin/consultations").await).await),
        0,
        "off the advisors' queue"
    );
    let events = json_body(
        app.admin_get("/api/v1/admin/events?event_type=consultation.updated")
            .await,
    )
    .await;
    let last = events["items"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["payload"].to_string().contains("Cancelled by the visitor"),
        "{last}"
    );
    let registration = app
        .with_token(app.client.get(app.url(&format!("/api/v1/registrations/{id}"))), token)
        .await;
    assert_eq!(json_body(registration).await["status"], "confirmed", "the seat stays");
}

#[tokio::test]
async fn pages_carry_the_sites_own_name_logo_colour_and_footer() {
    let logo = turnout_http::Logo::from_bytes(b"\x89PNG\r\n\x1a\nlogo".to_vec()).unwrap();
    let app = TestApp::spawn_with(turnout_http::Settings {
        brand: turnout_http::Brand {
            site_name: "Career Academy".into(),
            logo: Some(logo),
            accent: Some("#0f766e".into()),
            support_email: Some("help@example.com".into()),
            terms_url: Some("/terms".into()),
            contact_url: Some("https://example.com/contact".into()),
        },
        ..turnout_test_support::unlimited()
    })
    .await;
    let (status, home) = page(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(between(&home, "<title>", "</title>"), "Career Academy");
    assert!(
        home.contains("<img src=\"/static/logo.png\" alt=\"\" height=\"32\"><span>Career Academy</span>"),
        "{home}"
    );
    assert!(
        home.contains("<link rel=\"stylesheet\" href=\"/static/brand.css\">"),
        "{home}"
    );
    for link in [
        "<a href=\"/privacy\">Privacy policy</a>",
        "<a href=\"/terms\">Terms</a>",
        "<a href=\"https://example.com/contact\">Contact</a>",
        "<a href=\"mailto:help@example.com\">help@example.com</a>",
    ] {
        assert!(home.contains(link), "{link} in {home}");
    }
    let css = app.get("/static/brand.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        css.text().await.unwrap(),
        ":root { --accent: #0f766e; --accent-ink: #fff; }\n"
    );
    let image = app.get("/static/logo.png").await;
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()[CONTENT_TYPE], "image/png");
    assert!(
        image.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(app.get("/static/logo.svg").await.status(), StatusCode::NOT_FOUND);

    let plain = TestApp::spawn().await;
    let (_, home) = page(&plain, "/").await;
    assert!(!home.contains("brand.css") && !home.contains("/static/logo."), "{home}");
    assert_eq!(plain.get("/static/brand.css").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cancelling_the_seat_may_cancel_the_call_too() {
    let app = TestApp::spawn().await;
    let (registered, _, _, _) = registration_with_callback(&app).await;
    let id = registered["registration_id"].as_str().unwrap();
    let token = registered["manage_token"].as_str().unwrap();
    let done = submit(
        &app,
        &format!("/registrations/{id}/cancel"),
        &[("token", token), ("confirmed", "yes"), ("cancel_call", "yes")],
    )
    .await;
    let location = done.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.ends_with("done=cancelled_both"), "{location}");
    let (_, html) = page(&app, &location).await;
    assert!(
        html.contains("Your registration and your call with a program advisor are cancelled."),
        "{html}"
    );
    let queue = json_body(app.admin_get("/api/v1/admin/consultations").await).await;
    assert!(queue["items"].as_array().unwrap().is_empty(), "{queue}");
}
