//! Articles: editors write, publish and unpublish them; readers get the
//! published ones from the Content API, a page at a time, with validators.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};
use turnout_store::{ApiTokenRole, NewApiToken};
use turnout_test_support::{TestApp, json_body};

async fn editor_token(app: &TestApp) -> String {
    let (new, token) = NewApiToken::issue(ApiTokenRole::Editor, None, "editor", 30, jiff::Timestamp::now());
    app.store()
        .create_api_token(&new, jiff::Timestamp::now())
        .await
        .unwrap();
    token.expose().to_owned()
}

fn article(slug: &str) -> Value {
    json!({
        "slug": slug,
        "title": "Data analyst: job description and salary",
        "summary": "What data analysts do and earn.",
        "body": "## What they do\n\n- Query data\n- Tell stories\n\n| Level | Pay |\n|---|---|\n| Entry | ₹6 LPA |\n\n\
                 <script>alert('x')</script>Plain words to read.",
        "contributors": [
            {"name": "Kavya Raman", "title": "Career Writer", "role": "author"},
            {"name": "Rohan Desai", "title": "Analytics Lead", "role": "reviewed_by", "bio": "Hires analysts."},
        ],
        "tags": ["data", "job-descriptions"],
        "faq": [{"question": "Is SQL enough?", "answer": "It is the start; add statistics."}],
    })
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn editors_write_publish_and_unpublish_and_readers_see_only_what_is_published() {
    let app = TestApp::spawn().await;
    let editor = editor_token(&app).await;
    let webinar = app.published_webinar("data-careers", "Asia/Kolkata").await;
    let mut draft = article("data-analyst-job-description");
    draft["webinar"] = json!(webinar);
    let created = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/articles",
        &editor,
        Some(&draft),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json_body(created).await;
    assert_eq!(created["status"], "draft");
    assert!(created["published_at"].is_null());
    assert_eq!(
        app.get("/api/v1/articles/data-analyst-job-description").await.status(),
        StatusCode::NOT_FOUND,
        "a draft is not public"
    );

    let path = "/api/v1/admin/articles/data-analyst-job-description";
    let published = json_body(send(&app, reqwest::Method::POST, &format!("{path}/publish"), &editor, None).await).await;
    assert_eq!(published["status"], "published");
    let first_published = published["published_at"].clone();
    assert!(first_published.is_string());

    let public = app.get("/api/v1/articles/data-analyst-job-description").await;
    assert_eq!(public.status(), StatusCode::OK);
    let public = json_body(public).await;
    let html = public["body_html"].as_str().unwrap();
    assert!(
        html.contains("<h2>What they do</h2>") && html.contains("<table>"),
        "{html}"
    );
    assert!(html.contains("<td>₹6 LPA</td>"));
    assert!(!html.contains("<script"), "sanitised: {html}");
    assert_eq!(public["reading_time"]["minutes"], 1);
    assert_eq!(public["reading_time"]["label"], "1 minute");
    assert_eq!(public["contributors"][0]["role_label"], "Written by");
    assert_eq!(public["contributors"][1]["role"], "reviewed_by");
    assert_eq!(public["contributors"][1]["role_label"], "Reviewed by");
    assert_eq!(public["faq"][0]["question"], "Is SQL enough?");
    assert_eq!(public["tags"], json!(["data", "job-descriptions"]));
    assert_eq!(public["webinar"]["slug"], webinar.as_str());
    assert!(public.get("body_markdown").is_none(), "readers get the HTML only");

    let edited = send(
        &app,
        reqwest::Method::PATCH,
        path,
        &editor,
        Some(&json!({"title": "Data analyst: the 2027 guide", "webinar": null, "body": "word ".repeat(600)})),
    )
    .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited = json_body(edited).await;
    assert_eq!(edited["title"], "Data analyst: the 2027 guide");
    assert!(edited["webinar"].is_null(), "null removes the call to action");
    assert_eq!(edited["reading_time"]["minutes"], 3, "600 words at 238 a minute");
    assert_eq!(
        edited["tags"],
        json!(["data", "job-descriptions"]),
        "absent fields stay"
    );

    let unpublished = send(&app, reqwest::Method::POST, &format!("{path}/unpublish"), &editor, None).await;
    assert_eq!(json_body(unpublished).await["status"], "draft");
    assert_eq!(
        app.get("/api/v1/articles/data-analyst-job-description").await.status(),
        StatusCode::NOT_FOUND
    );
    let again = json_body(send(&app, reqwest::Method::POST, &format!("{path}/publish"), &editor, None).await).await;
    assert_eq!(
        again["published_at"], first_published,
        "the first publication date stays"
    );

    let listed = json_body(send(&app, reqwest::Method::GET, "/api/v1/admin/articles", &editor, None).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let admin_only = send(&app, reqwest::Method::GET, "/api/v1/admin/webinars", &editor, None).await;
    assert_eq!(
        admin_only.status(),
        StatusCode::FORBIDDEN,
        "an editor is not an admin: a valid credential without the role"
    );
    assert_eq!(
        app.admin_post("/api/v1/admin/articles", &article("by-an-admin"))
            .await
            .status(),
        StatusCode::CREATED,
        "admins may write articles too"
    );
    let anonymous = app.post("/api/v1/admin/articles", &article("anonymous")).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_articles_name_their_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        ("slug", json!("Not A Slug")),
        ("title", json!("")),
        ("body", json!("   ")),
        ("status", json!("archived")),
        ("webinar", json!("Bad Slug")),
        ("tags[1]", json!(["data", "Has Spaces"])),
        (
            "contributors[0].role",
            json!([{"name": "A", "title": "B", "role": "editor"}]),
        ),
        ("faq[0].answer", json!([{"question": "Why?", "answer": ""}])),
    ];
    for (field, value) in cases {
        let mut body = article("bad-article");
        let key = field.split(['[', '.']).next().unwrap();
        body[key] = value;
        let response = app.admin_post("/api/v1/admin/articles", &body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let problem = json_body(response).await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let mut unknown = article("bad-article");
    unknown["webinar"] = json!("no-such-webinar");
    let response = app.admin_post("/api/v1/admin/articles", &unknown).await;
    assert_eq!(json_body(response).await["errors"][0]["field"], "webinar");
    let listed = json_body(app.admin_get("/api/v1/admin/articles").await).await;
    assert_eq!(listed["items"], json!([]), "nothing was written");

    assert_eq!(
        app.admin_post("/api/v1/admin/articles", &article("taken"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let twice = app.admin_post("/api/v1/admin/articles", &article("taken")).await;
    assert_eq!(json_body(twice).await["errors"][0]["field"], "slug");
    let missing = app
        .admin_patch("/api/v1/admin/articles/missing", &json!({"title": "x"}))
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_content_api_pages_by_cursor_filters_by_tag_and_revalidates() {
    let app = TestApp::spawn().await;
    for n in 0..5 {
        let mut body = article(&format!("guide-{n}"));
        body["status"] = json!("published");
        body["tags"] = match n % 2 {
            0 => json!(["even"]),
            _ => json!(["odd"]),
        };
        assert_eq!(
            app.admin_post("/api/v1/admin/articles", &body).await.status(),
            StatusCode::CREATED
        );
    }
    let mut draft = article("unfinished");
    draft["tags"] = json!(["even"]);
    app.admin_post("/api/v1/admin/articles", &draft).await;

    let mut slugs = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("?limit=2&cursor={cursor}"),
            None => "?limit=2".into(),
        };
        let page = json_body(app.get(&format!("/api/v1/articles{query}")).await).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        slugs.extend(items.iter().map(|item| item["slug"].as_str().unwrap().to_owned()));
        assert!(
            items.iter().all(|item| item.get("body_html").is_none()),
            "lists carry no bodies"
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        slugs,
        ["guide-4", "guide-3", "guide-2", "guide-1", "guide-0"],
        "newest first, once each"
    );

    let even = json_body(app.get("/api/v1/articles?tag=even").await).await;
    let even: Vec<&str> = even["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["slug"].as_str().unwrap())
        .collect();
    assert_eq!(even, ["guide-4", "guide-2", "guide-0"], "published ones with the tag");

    let first = app.get("/api/v1/articles/guide-1").await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(first.headers()[CACHE_CONTROL].to_str().unwrap().contains("max-age"));
    let revalidated = app
        .client
        .get(app.url("/api/v1/articles/guide-1"))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(revalidated.headers()[ETAG].to_str().unwrap(), etag);
    assert!(revalidated.bytes().await.unwrap().is_empty());

    app.admin_patch("/api/v1/admin/articles/guide-1", &json!({"summary": "Changed."}))
        .await;
    let changed = app
        .client
        .get(app.url("/api/v1/articles/guide-1"))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK, "a change makes a new validator");
    assert_ne!(changed.headers()[ETAG].to_str().unwrap(), etag);

    for bad in ["?limit=0", "?limit=101", "?cursor=not-a-cursor"] {
        let response = app.get(&format!("/api/v1/articles{bad}")).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn an_article_as_long_as_the_limit_can_be_written_and_one_longer_is_refused() {
    let app = TestApp::spawn().await;
    // 200,000 characters of Markdown, three bytes each: far over the 64 KiB
    // other JSON bodies may be.
    let paragraph = format!("{}\n\n", "₹".repeat(998));
    let mut long = article("the-long-read");
    long["body"] = json!(paragraph.repeat(200));
    let response = app.admin_post("/api/v1/admin/articles", &long).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let mut longer = article("too-long");
    longer["body"] = json!(format!("{}₹", paragraph.repeat(200)));
    let response = app.admin_post("/api/v1/admin/articles", &longer).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_body(response).await["errors"][0]["field"], "body");

    // Elsewhere the smaller limit holds.
    let mut huge_lead = serde_json::Map::new();
    huge_lead.insert("name".into(), json!("x".repeat(70 * 1024)));
    let response = app.post("/api/v1/leads", &Value::Object(huge_lead)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
