//! Conditional GET for content that changes rarely: a strong `ETag` (a hash
//! of the body), `Cache-Control`, and `304 Not Modified` when the client's
//! `If-None-Match` already names the body.

use std::sync::{Arc, OnceLock};

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
    /// For a body kept in memory: its compressed forms, each made the first
    /// time a client asks for it and then reused, so a cached page costs
    /// the compression once rather than on every request.
    encoded: Option<Arc<Encoded>>,
}

#[derive(Debug, Default)]
struct Encoded {
    br: OnceLock<Bytes>,
    gzip: OnceLock<Bytes>,
}

/// Bodies smaller than this are sent as they are.
const MIN_COMPRESSED: usize = 256;

impl Tagged {
    /// A body answered once (the compression layer deals with it).
    pub fn new(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let etag = format!("\"{}\"", &sha256_hex(&body)[..32]);
        Self {
            body,
            etag: HeaderValue::from_str(&etag).expect("hex is a valid header"),
            encoded: None,
        }
    }

    /// A body kept in memory and answered many times.
    pub fn kept(body: impl Into<Bytes>) -> Self {
        Self {
            encoded: Some(Arc::default()),
            ..Self::new(body)
        }
    }

    /// The body in `coding`, from the kept forms.
    fn encoded(&self, coding: Coding) -> Option<Bytes> {
        let encoded = self.encoded.as_ref().filter(|_| self.body.len() >= MIN_COMPRESSED)?;
        let body = &self.body;
        Some(match coding {
            Coding::Br => encoded.br.get_or_init(|| brotli(body)).clone(),
            Coding::Gzip => encoded.gzip.get_or_init(|| gzip(body)).clone(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Br,
    Gzip,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Gzip => "gzip",
        }
    }
}

/// The coding the client prefers among ours: brotli, then gzip; a coding
/// with `q=0` is refused.
fn preferred(request: &HeaderMap) -> Option<Coding> {
    let accepted: Vec<(String, bool)> = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default().to_ascii_lowercase();
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding, !refused)
        })
        .collect();
    let wants = |name: &str| accepted.iter().any(|(coding, ok)| *ok && coding == name);
    if wants("br") {
        Some(Coding::Br)
    } else if wants("gzip") {
        Some(Coding::Gzip)
    } else {
        None
    }
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 3);
    let params = ::brotli::enc::BrotliEncoderParams {
        quality: 9,
        ..Default::default()
    };
    let mut input = body;
    ::brotli::BrotliCompress(&mut input, &mut out, &params).expect("compressing into memory cannot fail");
    out.into()
}

fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::best());
    encoder.write_all(body).expect("compressing into memory cannot fail");
    encoder.finish().expect("compressing into memory cannot fail").into()
}

/// The body with its validators, or `304` when the client has it already.
pub fn conditional(
    request: &HeaderMap,
    content_type: &'static str,
    cache_control: &'static str,
    tagged: &Tagged,
) -> Response {
    let coding = preferred(request).and_then(|coding| tagged.encoded(coding).map(|body| (coding, body)));
    // A compressed body is another representation: its validator is weak.
    let etag = match &coding {
        Some(_) => HeaderValue::from_str(&format!("W/{}", tagged.etag.to_str().unwrap_or_default()))
            .unwrap_or_else(|_| tagged.etag.clone()),
        None => tagged.etag.clone(),
    };
    let headers = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache_control)),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if matches_any(request, &tagged.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let body = coding
        .as_ref()
        .map_or_else(|| tagged.body.clone(), |(_, body)| body.clone());
    let mut response = (headers, Body::from(body)).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some((coding, _)) = coding {
        response_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
    }
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
    fn a_kept_body_is_compressed_once_in_the_coding_the_client_prefers() {
        let page = Tagged::kept("<p>Machine learning engineer</p>".repeat(40));
        let asked = |accept: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
            conditional(&headers, "text/html", PUBLISHED, &page)
        };
        let br = asked("gzip, deflate, br");
        assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
        assert!(br.headers()[header::ETAG].to_str().unwrap().starts_with("W/\""));
        assert_eq!(asked("gzip, br;q=0").headers()[header::CONTENT_ENCODING], "gzip");
        assert!(asked("identity").headers().get(header::CONTENT_ENCODING).is_none());
        let first = page.encoded(Coding::Br).unwrap();
        assert_eq!(
            first.as_ptr(),
            page.clone().encoded(Coding::Br).unwrap().as_ptr(),
            "made once, shared by clones"
        );
        let mut decoded = Vec::new();
        ::brotli::BrotliDecompress(&mut &first[..], &mut decoded).unwrap();
        assert_eq!(decoded, page.body);
        let once = Tagged::new("<p>x</p>".repeat(100));
        assert!(
            once.encoded(Coding::Br).is_none(),
            "a body answered once is left to the layer"
        );
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
