//! OWASP API9:2023, improper inventory management: the published contract
//! is the whole surface. Every path in /openapi.json is served, and paths
//! outside it (other versions, guessed admin routes) answer the same 404
//! problem as any unknown address.

use reqwest::StatusCode;
use turnout_test_support::{ADMIN_TOKEN, TestApp, json_body};

const NO_ROUTE: &str = "No route matches this request";

#[tokio::test]
async fn every_documented_path_is_served_and_nothing_else_is() {
    let app = TestApp::spawn().await;
    let spec = json_body(app.get("/openapi.json").await).await;
    let paths = spec["paths"].as_object().expect("paths");
    assert!(paths.len() > 40, "the document lists the API ({} paths)", paths.len());
    for (path, operations) in paths {
        let concrete = path
            .split('/')
            .map(|segment| if segment.starts_with('{') { "1" } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        for method in operations.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let response = app
                .client
                .request(method.clone(), app.url(&concrete))
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await
                .unwrap();
            assert_ne!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            if response.status() == StatusCode::NOT_FOUND {
                let problem = json_body(response).await;
                assert_ne!(
                    problem["detail"], NO_ROUTE,
                    "{method} {path} is documented but not served"
                );
            }
        }
    }
    for undocumented in [
        "/api/v2/webinars",
        "/api/v0/leads",
        "/api/v1/admin/debug",
        "/api/v1/internal/settings",
    ] {
        let response = app
            .client
            .get(app.url(undocumented))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{undocumented}");
        assert_eq!(json_body(response).await["detail"], NO_ROUTE, "{undocumented}");
    }
}
