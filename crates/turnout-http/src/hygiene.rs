//! Headers every response carries, and one wire shape for every rejection.
//!
//! - `X-Content-Type-Options: nosniff` and a `Referrer-Policy` everywhere;
//!   `Cache-Control: no-store` unless a handler chose caching (published
//!   pages and the catalogue do), so nothing with personal data or a token
//!   is kept by a shared cache;
//! - on HTML, a Content-Security-Policy (scripts and styles from this
//!   origin only) and framing refused unless `frame_ancestors` names the
//!   sites that may embed a page;
//! - HSTS when Turnout is served over https;
//! - a rejection the framework wrote as plain text (a bad query string, a
//!   wrong method) is rewritten as problem+json.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ProblemType;

/// What the headers depend on, from the settings.
#[derive(Debug, Clone)]
pub struct HeaderPolicy {
    content_security_policy: HeaderValue,
    docs_security_policy: HeaderValue,
    /// `X-Frame-Options: DENY`, when no other site may frame the pages.
    deny_frames: bool,
    hsts: bool,
}

impl HeaderPolicy {
    /// `frame_ancestors`: origins that may put Turnout's pages in a frame
    /// (none by default; the widget embeds as a script, not a frame).
    pub fn new(public_url: &str, frame_ancestors: &[String]) -> Self {
        let ancestors = match frame_ancestors {
            [] => "'none'".to_owned(),
            origins => origins.join(" "),
        };
        let policy = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors {ancestors}"
        );
        // The API explorer at /docs is a vendored Swagger UI whose page
        // starts it with an inline script.
        let docs = format!(
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors {ancestors}"
        );
        Self {
            content_security_policy: HeaderValue::from_str(&policy)
                .unwrap_or(HeaderValue::from_static("default-src 'self'")),
            docs_security_policy: HeaderValue::from_str(&docs)
                .unwrap_or(HeaderValue::from_static("default-src 'self'")),
            deny_frames: frame_ancestors.is_empty(),
            hsts: public_url.starts_with("https://"),
        }
    }
}

/// Bodies of framework rejections are short; a longer one is cut.
const MAX_REJECTION_BODY: usize = 4 * 1024;

pub async fn secure(State(policy): State<Arc<HeaderPolicy>>, request: Request, next: Next) -> Response {
    let docs = request.uri().path().starts_with("/docs");
    let response = next.run(request).await;
    let mut response = as_problem(response).await;
    let headers = response.headers_mut();
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if policy.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if is_html(headers) {
        let csp = if docs {
            &policy.docs_security_policy
        } else {
            &policy.content_security_policy
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        if policy.deny_frames {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
    }
    response
}

/// A compressed answer is another representation of the same resource, so
/// its validator cannot stay strong (RFC 9110 §8.8.1): `W/` is put in front.
/// `If-None-Match` compares weakly, so the same tag still gets a 304.
pub async fn weaken_encoded_etag(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if headers.contains_key(header::CONTENT_ENCODING)
        && let Some(etag) = headers.get(header::ETAG).and_then(|etag| etag.to_str().ok())
        && !etag.starts_with("W/")
        && let Ok(weak) = HeaderValue::from_str(&format!("W/{etag}"))
    {
        headers.insert(header::ETAG, weak);
    }
    response
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"))
}

/// An error answered in plain text (or with no body) by the framework
/// becomes problem+json; the text, which names what was wrong with the
/// request, becomes the detail. Pages' HTML errors and problems pass as
/// they are.
async fn as_problem(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_none_or(|value| value.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REJECTION_BODY).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&text).trim().to_owned();
    // A 5xx says nothing of its cause.
    let detail = (!detail.is_empty() && status.is_client_error()).then_some(detail);
    let problem = problem_type(status).problem(status, detail);
    let body = serde_json::to_vec(&problem).expect("problems always serialise");
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    Response::from_parts(parts, Body::from(body)).into_response()
}

fn problem_type(status: StatusCode) -> ProblemType {
    match status {
        StatusCode::BAD_REQUEST => ProblemType::BadRequest,
        StatusCode::METHOD_NOT_ALLOWED => ProblemType::MethodNotAllowed,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemType::UnsupportedMediaType,
        StatusCode::PAYLOAD_TOO_LARGE => ProblemType::PayloadTooLarge,
        StatusCode::REQUEST_TIMEOUT => ProblemType::RequestTimeout,
        StatusCode::UNPROCESSABLE_ENTITY => ProblemType::Validation,
        StatusCode::NOT_FOUND => ProblemType::NotFound,
        StatusCode::SERVICE_UNAVAILABLE => ProblemType::Unavailable,
        status if status.is_server_error() => ProblemType::Internal,
        _ => ProblemType::BadRequest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsts_only_over_https_and_frames_only_for_named_sites() {
        let plain = HeaderPolicy::new("http://127.0.0.1:8080", &[]);
        assert!(!plain.hsts && plain.deny_frames);
        let public = HeaderPolicy::new("https://turnout.example.com", &["https://academy.example.com".into()]);
        assert!(public.hsts);
        assert!(!public.deny_frames);
        let csp = public.content_security_policy.to_str().unwrap();
        assert!(csp.contains("frame-ancestors https://academy.example.com"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }
}
