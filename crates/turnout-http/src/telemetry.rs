//! The Prometheus recorder. Installed once per process, so that several apps
//! in one test binary share it.

use std::future::Future;
use std::sync::OnceLock;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets in seconds, fine-grained where our targets are (< 25 ms).
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

pub fn prometheus() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (e.g. by a test); ours
        // still renders what it is given.
        let _ = metrics::set_global_recorder(recorder);
        drain_histograms(handle.clone());
        handle
    })
}

/// How often histogram samples are folded into their buckets.
const UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// Histogram samples wait in memory until upkeep folds them into buckets;
/// a scrape runs it too, but a process nobody scrapes would grow by every
/// request it answers. One thread per process owns that upkeep, whatever
/// runtimes come and go (tests start many).
fn drain_histograms(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP);
                handle.run_upkeep();
            }
        });
    if let Err(error) = started {
        tracing::warn!(%error, "metrics upkeep did not start; histograms drain only when scraped");
    }
}

/// The process's metrics in Prometheus' text format.
pub(crate) fn render() -> impl IntoResponse {
    render_with(String::new())
}

/// The process's metrics followed by `extra`, lines in the same format.
pub(crate) fn render_with(extra: String) -> impl IntoResponse {
    let prometheus = prometheus();
    prometheus.run_upkeep();
    let mut text = prometheus.render();
    text.push_str(&extra);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
}

/// Serves `/metrics` alone, for a process that runs no API (`turnout
/// worker`), until `shutdown` resolves.
pub async fn serve_metrics(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new().route("/metrics", get(|| async { render() }));
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
