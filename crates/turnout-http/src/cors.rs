//! Which other sites may call the API from a browser: the widget embedded
//! on a partner's page calls Turnout across origins. Origins listed in
//! configuration get CORS headers; any other origin is refused outright,
//! not merely left without headers, so a page elsewhere cannot even make a
//! simple request count. Requests from Turnout's own pages (the `Origin`
//! names the host they were sent to) and from outside a browser (no
//! `Origin`) pass.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;

/// The origins allowed besides Turnout's own, as `Origin` header values.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Arc<Vec<HeaderValue>>);

impl AllowedOrigins {
    /// Parses `https://partner.example.com`-style origins.
    pub fn new(origins: &[String]) -> Result<Self, String> {
        let parsed = origins
            .iter()
            .map(|origin| {
                let url = url::Url::parse(origin).map_err(|_| format!("{origin:?} is not an origin"))?;
                let serialised = url.origin().ascii_serialization();
                if serialised == "null" || url.path() != "/" || origin.trim_end_matches('/') != serialised {
                    return Err(format!("{origin:?} is not an origin such as https://www.example.com"));
                }
                HeaderValue::from_str(&serialised).map_err(|_| format!("{origin:?} is not an origin"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self(Arc::new(parsed)))
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }

    /// The same list with Turnout's own public origin added, so its pages
    /// pass behind a proxy that rewrites `Host`.
    pub fn with_own(&self, public_url: &str) -> Self {
        let own = url::Url::parse(public_url)
            .ok()
            .map(|url| url.origin().ascii_serialization())
            .and_then(|origin| HeaderValue::from_str(&origin).ok());
        let mut origins = self.0.as_ref().clone();
        origins.extend(own);
        Self(Arc::new(origins))
    }

    /// The CORS headers for listed origins, preflights included.
    pub fn layer(&self) -> CorsLayer {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(self.0.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::IF_NONE_MATCH])
            .expose_headers([header::ETAG])
            .max_age(Duration::from_secs(600))
    }
}

/// Refuses a request from a browser on a site that is neither Turnout's
/// own nor listed.
pub async fn refuse_other_origins(State(allowed): State<AllowedOrigins>, request: Request, next: Next) -> Response {
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && !allowed.allows(origin)
        && !same_host(origin, request.headers().get(header::HOST))
    {
        return ApiError::ForbiddenOrigin.into_response();
    }
    next.run(request).await
}

/// Whether `Origin` names the host the request was sent to.
fn same_host(origin: &HeaderValue, host: Option<&HeaderValue>) -> bool {
    let (Ok(origin), Some(Ok(host))) = (origin.to_str(), host.map(HeaderValue::to_str)) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_when_configured() {
        assert!(AllowedOrigins::new(&["https://partner.example.com".into()]).is_ok());
        assert!(AllowedOrigins::new(&["https://partner.example.com/".into()]).is_ok());
        assert!(AllowedOrigins::new(&["https://partner.example.com/page".into()]).is_err());
        assert!(AllowedOrigins::new(&["partner.example.com".into()]).is_err());
    }

    #[test]
    fn the_own_host_is_recognised() {
        let origin = HeaderValue::from_static("http://127.0.0.1:8080");
        assert!(same_host(&origin, Some(&HeaderValue::from_static("127.0.0.1:8080"))));
        assert!(!same_host(&origin, Some(&HeaderValue::from_static("127.0.0.1:9090"))));
        assert!(!same_host(&origin, None));
    }
}
