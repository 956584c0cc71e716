use std::io::Write;

use reqwest::StatusCode;
use turnout_test_support::{TestApp, json_body};

/// A consultation and its lead's token, ready for an upload.
async fn consultation(app: &TestApp) -> (String, String) {
    let webinar = app.published_webinar("ml-careers", "Asia/Kolkata").await;
    app.advisor("nadia@example.com", "Asia/Kolkata", ("00:00", "23:59"), 5)
        .await;
    app.callback(&webinar, "asha@example.com").await
}

async fn upload(app: &TestApp, id: &str, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/consultations/{id}/resume")))
        .query(&[("filename", name)])
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(size, b' ');
    bytes
}

fn docx() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for name in ["[Content_Types].xml", "_rels/.rels", "word/document.xml"] {
        writer.start_file(name, options).unwrap();
        writer.write_all(b"<xml/>").unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_pdf_resume_is_stored_with_its_digest_and_a_safe_name() {
    let app = TestApp::spawn().await;
    let (id, token) = consultation(&app).await;
    let response = upload(&app, &id, &token, "../../etc/My CV.pdf", pdf(10_000)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_body(response).await;
    assert_eq!(body["file_name"], "My CV.pdf");
    assert_eq!(body["content_type"], "application/pdf");
    assert_eq!(body["size_bytes"], 10_000);
    assert_eq!(body["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(body["review_status"], "pending");
    assert_eq!(app.database.count("resumes").await, 1);
    let files = app.uploaded_files().await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].contains(&id) && files[0].ends_with(".pdf"), "{files:?}");
}

#[tokio::test]
async fn a_new_upload_replaces_the_old_one_and_its_file() {
    let app = TestApp::spawn().await;
    let (id, token) = consultation(&app).await;
    assert_eq!(
        upload(&app, &id, &token, "cv.pdf", pdf(2_000)).await.status(),
        StatusCode::CREATED
    );
    let replaced = upload(&app, &id, &token, "cv.docx", docx()).await;
    assert_eq!(replaced.status(), StatusCode::OK);
    let body = json_body(replaced).await;
    assert_eq!(
        body["content_type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert_eq!(app.database.count("resumes").await, 1);
    let files = app.uploaded_files().await;
    assert_eq!(files.len(), 1, "the old file is gone: {files:?}");
    assert!(files[0].ends_with(".docx"));
}

#[tokio::test]
async fn four_mebibytes_are_accepted_and_one_byte_more_is_413() {
    let app = TestApp::spawn().await;
    let (id, token) = consultation(&app).await;
    let limit = 4 * 1024 * 1024;
    let response = upload(&app, &id, &token, "cv.pdf", pdf(limit + 1)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json_body(response).await["type"], "/problems/payload-too-large");
    assert_eq!(app.database.count("resumes").await, 0);
    assert!(app.uploaded_files().await.is_empty());

    // Streamed without a length, the body is still cut off at the limit.
    let chunks = futures::stream::iter((0..5).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024 * 1024])));
    let response = app
        .client
        .put(app.url(&format!("/api/v1/consultations/{id}/resume")))
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(
        upload(&app, &id, &token, "cv.pdf", pdf(limit)).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn only_pdf_and_docx_by_content_are_accepted() {
    let app = TestApp::spawn().await;
    let (id, token) = consultation(&app).await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("photo.jpg", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"jpeg").unwrap();
    let plain_zip = zip.finish().unwrap().into_inner();
    for (name, bytes) in [("cv.pdf", png), ("cv.docx", plain_zip)] {
        let response = upload(&app, &id, &token, name, bytes).await;
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}");
        assert_eq!(json_body(response).await["type"], "/problems/unsupported-file-type");
    }
    assert_eq!(app.database.count("resumes").await, 0);
    assert!(app.uploaded_files().await.is_empty());
}

#[tokio::test]
async fn only_the_leads_token_may_upload() {
    let app = TestApp::spawn().await;
    let (id, _) = consultation(&app).await;
    let (_, other_token) = app.lead("ml-careers", "ravi@example.com").await;
    for token in [other_token.as_str(), "guessed"] {
        assert_eq!(
            upload(&app, &id, token, "cv.pdf", pdf(100)).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let response = app
        .client
        .put(app.url(&format!("/api/v1/consultations/{id}/resume")))
        .body(pdf(100))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let bogus = upload(&app, "not-a-uuid", "x", "cv.pdf", pdf(100)).await;
    assert_eq!(bogus.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.database.count("resumes").await, 0);
}
