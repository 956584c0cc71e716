//! Conditional GET for content that changes rarely: a strong `ETag` (a hash
//! of the body), `Cache-Control`, and `304 Not Modified` when the client's
//! `If-None-Match` already names the body.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use turnout_domain::token::sha256_hex;

/// How long shared caches and browsers may reuse published content before
/// revalidating, and how long they may serve it stale while they do.
pub const PUBLISHED: &str = "public, max-age=60, stale-while-revalidate=300";

/// A body with its strong validator, computed once: a cached page is
/// hashed when it is built, not on every request.
#[derive(Debug, Clone)]
pub struct Tagged {
    body: Bytes,
    etag: HeaderValue,
}

impl Tagged {
    pub fn new(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let etag = format!("\"{}\"", &sha256_hex(&body)[..32]);
        Self {
            body,
            etag: HeaderValue::from_str(&etag).expect("hex is a valid header"),
        }
    }
}

/// The body with its validators, or `304` when the client has it already.
pub fn conditional(
    request: &HeaderMap,
    content_type: &'static str,
    cache_control: &'static str,
    tagged: &Tagged,
) -> Response {
    let headers = [
        (header::ETAG, tagged.etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache_control)),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if matches_any(request, &tagged.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let mut response = (headers, Body::from(tagged.body.clone())).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks
/// for this header) or is `*`.
fn matches_any(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else { return false };
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(if_none_match: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(if_none_match).unwrap());
        headers
    }

    #[test]
    fn a_matching_validator_gets_not_modified_and_any_other_the_body() {
        let first = conditional(
            &HeaderMap::new(),
            "application/json",
            PUBLISHED,
            &Tagged::new(&b"{}"[..]),
        );
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(first.headers()[header::CACHE_CONTROL], PUBLISHED);

        let again = conditional(&request(&etag), "application/json", PUBLISHED, &Tagged::new(&b"{}"[..]));
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG], etag.as_str());
        let weak = conditional(
            &request(&format!("\"other\", W/{etag}")),
            "application/json",
            PUBLISHED,
            &Tagged::new(&b"{}"[..]),
        );
        assert_eq!(weak.status(), StatusCode::NOT_MODIFIED);
        let changed = conditional(
            &request(&etag),
            "application/json",
            PUBLISHED,
            &Tagged::new(&b"{\"a\":1}"[..]),
        );
        assert_eq!(changed.status(), StatusCode::OK);
    }
}
