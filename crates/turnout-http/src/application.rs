//! One Turnout process: the HTTP server on its listener and, when asked,
//! the outbox worker beside it, started and stopped together. `main` and
//! the test harness build it the same way, so what the tests drive is what
//! runs in production.

use std::net::SocketAddr;
use std::sync::Arc;

use object_store::ObjectStore;
use tokio::net::TcpListener;
use turnout_delivery::Worker;
use turnout_store::Store;

use crate::{AppState, Settings, app, server};

/// What an [`Application`] is made of; where each comes from is the
/// caller's business (configuration, or a test's fresh database).
pub struct Parts {
    pub store: Arc<dyn Store>,
    /// Where uploaded files (résumés) live: a local folder or a bucket.
    pub uploads: Arc<dyn ObjectStore>,
    pub settings: Settings,
    pub listener: TcpListener,
    /// The outbox worker to run inside this process, if any.
    pub worker: Option<Worker>,
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    worker: Option<Worker>,
}

impl Application {
    pub fn build(parts: Parts) -> Self {
        Self {
            state: AppState::new(parts.store, parts.uploads, parts.settings),
            listener: parts.listener,
            worker: parts.worker,
        }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The use cases and caches this application's handlers share.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, lets in-flight requests finish,
    /// then stops the worker after its current pass.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = self.worker.map(|worker| {
            let mut stopped = stopped.clone();
            tokio::spawn(worker.run(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }))
        });
        let transport = self.state.settings.transport.clone();
        let served = server::run(self.listener, app(self.state), &transport, shutdown).await;
        let _ = stop.send(true);
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        served
    }
}
