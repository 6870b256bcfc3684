//! Saanjh's web layer: the JSON API under `/api/v1` (with its OpenAPI 3.1
//! document generated from the handlers), accounts and bearer tokens, and the
//! `service` functions that both the API and the binary's `demo` command use
//! to change anything, so that demo data goes through exactly the path a
//! real request does.
//!
//! Data flows one way: request → handler (parse, authenticate) → `service`
//! (load state, let the engine decide, append events) → response. Nothing
//! here decides who may do what on a scheme: the arrangement's rules do.

pub mod api;
pub mod auth;
pub mod budgeting;
pub mod clock;
pub mod diagnosis_api;
pub mod error;
pub mod ledger_api;
pub mod open311;
pub mod pages;
pub mod service;
pub mod trackers;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use saanjh_core::arrangement::Arrangement;
use saanjh_store::Store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ApiError;

type ArrangementCache = HashMap<(String, u32), Arc<Arrangement>>;

/// What every handler and service function works with. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Parsed arrangement versions, by `(id, version)`. Versions are never
    /// edited in place, so a cached version never goes stale.
    arrangements: Arc<Mutex<ArrangementCache>>,
    /// Failed logins per username, for rate limiting.
    pub(crate) login_failures: Arc<Mutex<HashMap<String, Vec<time::OffsetDateTime>>>>,
    /// Diagnosis trackers kept between requests (`trackers`).
    pub trackers: Arc<trackers::Trackers>,
    /// Online vote attempts per budgeting round and client (issue 7).
    pub votes: Arc<budgeting::VoteLimiter>,
}

impl AppState {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> AppState {
        AppState {
            store,
            clock,
            arrangements: Arc::default(),
            login_failures: Arc::default(),
            trackers: Arc::default(),
            votes: Arc::default(),
        }
    }

    /// A stored arrangement version, parsed once and cached.
    pub async fn arrangement(&self, id: &str, version: u32) -> Result<Arc<Arrangement>, ApiError> {
        let key = (id.to_string(), version);
        if let Some(a) = self.cache().get(&key) {
            return Ok(a.clone());
        }
        let source = self
            .store
            .arrangement_source(id, version as i64)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!("no arrangement `{id}` version {version} is stored"))
            })?;
        let arr = Arrangement::parse(&source).map_err(|d| {
            ApiError::internal(format!(
                "stored arrangement `{id}` v{version} no longer parses: {}",
                d.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        let arr = Arc::new(arr);
        self.cache().insert(key, arr.clone());
        Ok(arr)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, ArrangementCache> {
        self.arrangements.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The whole application: the JSON API under `/api/v1`.
pub fn router(state: AppState) -> axum::Router {
    api::router(state.clone()).merge(pages::router(state))
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot store the built-in arrangements: {0}")]
    Setup(ApiError),
}

/// Serve on `listen_addr` (e.g. `127.0.0.1:8080`), storing the built-in
/// arrangements first and sweeping overdue obligations every minute.
pub async fn serve(
    store: Store,
    listen_addr: &str,
    clock: Arc<dyn Clock>,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(listen_addr)
        .await
        .map_err(|e| ServeError::Bind(listen_addr.to_string(), e))?;
    serve_on(listener, AppState::new(store, clock)).await
}

/// Serve on a listener already bound (tests bind port 0 and read the port).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> Result<(), ServeError> {
    service::ensure_built_in_arrangements(&state)
        .await
        .map_err(ServeError::Setup)?;
    let sweeper = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            // A failed sweep is retried on the next tick; acts sweep too.
            let _ = service::sweep_due(&sweeper).await;
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}
