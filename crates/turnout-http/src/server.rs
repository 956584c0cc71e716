//! The HTTP/1.1 server in front of the router, with the transport limits
//! `axum::serve` does not set: a header-read timeout that also ends idle
//! keep-alive connections (hyper needs a timer for it), a cap on open
//! connections (one more is answered 503 and closed, never queued), and a
//! graceful drain on shutdown. Requests in flight are capped by [`admit`],
//! a layer of the router that also resolves the client and spends its
//! write budget.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::client::{self, TrustedProxies};
use crate::error::ApiError;
use crate::limits::{self, Limits};

/// How much of the transport one instance gives away.
#[derive(Debug, Clone)]
pub struct TransportLimits {
    /// A request's headers must arrive within this; it also ends a
    /// keep-alive connection that stays idle this long.
    pub header_read_timeout: Duration,
    /// Open connections at once; one more is refused with 503.
    pub max_connections: usize,
    /// Requests being handled at once; one more is shed with 503.
    pub max_in_flight: usize,
}

impl Default for TransportLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4_096,
            max_in_flight: 512,
        }
    }
}

/// What an instance over its connection cap says before it closes.
static TOO_MANY_CONNECTIONS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let problem = crate::error::ProblemType::Overloaded.problem(axum::http::StatusCode::SERVICE_UNAVAILABLE, None);
    serde_json::to_string(&problem).expect("problems always serialise")
});

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting and lets open requests finish.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: &TransportLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or a connection reset before
                    // accept: wait a moment rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            metrics::counter!("turnout_connections_refused_total").increment(1);
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = tower::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request)
        });
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn refuse(mut stream: TcpStream) {
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-type: application/problem+json\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{}",
        TOO_MANY_CONNECTIONS.len(),
        *TOO_MANY_CONNECTIONS
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(answer.as_bytes())).await;
    let _ = stream.shutdown().await;
}

/// What admitting a request takes: room among the requests in flight, who
/// the client is, and, for a public write, one of their writes.
pub struct Gate {
    pub in_flight: Semaphore,
    pub proxies: TrustedProxies,
    pub limits: Arc<Limits>,
}

/// The one router layer that admits requests (one layer rather than three:
/// every layer costs each request a boxed future). Past the cap on
/// requests in flight a request is answered 503 with `Retry-After` at once
/// instead of waiting in a queue nobody bounds; a public write over its
/// client's budget is answered 429; the others carry their `RateLimit`.
pub async fn admit(State(gate): State<Arc<Gate>>, mut request: Request, next: Next) -> Response {
    let Ok(_permit) = gate.in_flight.try_acquire() else {
        metrics::counter!("turnout_requests_shed_total").increment(1);
        return ApiError::Overloaded.into_response();
    };
    let client = client::resolve(&gate.proxies, &mut request);
    let spent = match client.filter(|_| limits::is_public_write(&request)) {
        Some(client) => match gate.limits.write(client) {
            Ok(spent) => spent,
            Err(refused) => return refused.into_response(),
        },
        None => None,
    };
    let mut response = next.run(request).await;
    if let Some((policy, remaining)) = spent {
        limits::rate_limit_headers(response.headers_mut(), &policy, remaining);
    }
    response
}
