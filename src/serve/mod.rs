//! `rebound serve`: the long-running service. Sending platforms' webhooks
//! come in (each platform's native payload, authenticated the platform's
//! way), raw bounces come in over HTTP, and the suppression API and the
//! Prometheus metrics go out, on the same ledger and the same classifier
//! as the CLI.
//!
//! One job per file: `config` (the `[serve]` section and its variables),
//! `auth` (API tokens, basic auth), `providers/` (one file per platform
//! behind the `Provider` trait), `replay` (signatures seen), `webhooks`
//! (the endpoints taking events), `api` (the endpoints answering), `commit`
//! (the writer: group commit, answer after commit), `readers` (read-only
//! connections), `metrics`.
//!
//! Under load and faults: bodies are size-limited, every request has a
//! time limit, at most `max_concurrency` requests are handled at once (the
//! others wait), the writer's queue is bounded. SIGTERM (or Ctrl-C) stops
//! taking connections, lets the requests under way finish, commits what
//! the writer holds, and returns.

pub(crate) mod api;
pub(crate) mod auth;
mod commit;
pub mod config;
mod error;
mod metrics;
pub(crate) mod providers;
mod readers;
mod replay;
mod webhooks;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use config::{ServeConfig, Settings};
pub use error::ServeError;

use crate::ledger::{Ledger, LedgerOptions};
use crate::pipeline::Parser;
use config::Secret;
use providers::Provider;

/// What every request shares.
pub(crate) struct AppState {
    tokens: Vec<Secret>,
    providers: HashMap<&'static str, Arc<dyn Provider>>,
    queue: commit::Queue,
    readers: readers::Readers,
    metrics: Arc<metrics::Metrics>,
    replay: replay::Replay,
    parser: Parser,
    draining: AtomicBool,
    db: PathBuf,
}

/// The shared state, as handlers get it.
pub(crate) type Shared = Arc<AppState>;

/// Runs the service on the ledger at `db` until SIGTERM or Ctrl-C;
/// `ready` is called with the address listened on once requests are
/// taken. Returns when every request under way is answered and every
/// event taken is committed.
pub fn run(
    settings: Settings,
    db: &Path,
    ledger: &LedgerOptions,
    parser: Parser,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let providers = providers::configured(&settings)?;
    // The writer makes every commit durable: an acknowledged event
    // survives a power cut too.
    let writer = Ledger::open_with(
        db,
        &LedgerOptions { read_only: false, durable: true, ..ledger.clone() },
    )?;
    let metrics = Arc::new(metrics::Metrics::new());
    let (queue, thread) =
        commit::start(writer, settings.commit_delay, metrics.clone())?;
    let state = Arc::new(AppState {
        tokens: settings.api_tokens.clone(),
        providers,
        queue,
        readers: readers::Readers::new(db.to_path_buf(), ledger),
        metrics,
        replay: replay::Replay::new(settings.max_age.as_secs() as i64),
        parser,
        draining: AtomicBool::new(false),
        db: db.to_path_buf(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("rebound-serve")
        .enable_all()
        .build()?;
    let served = rt.block_on(serve(state.clone(), &settings, ready));
    drop(state);
    drop(rt);
    // Every queue is gone: the writer commits what it holds and ends.
    let _ = thread.join();
    served
}

/// The routes and their limits.
fn router(state: Shared, s: &Settings) -> Router {
    Router::new()
        .route("/webhooks/bounce", post(webhooks::generic))
        .route("/webhooks/{provider}", post(webhooks::provider))
        .route(
            "/v1/messages",
            post(webhooks::message)
                .layer(DefaultBodyLimit::max(s.max_message_bytes)),
        )
        .route("/v1/addresses/{email}", get(api::address))
        .route("/v1/check", post(api::check))
        .route("/v1/suppressions", get(api::export).post(api::suppress))
        .route("/v1/suppressions/{email}", delete(api::unsuppress))
        .route("/metrics", get(api::metrics))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .layer(DefaultBodyLimit::max(s.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            s.request_timeout,
        ))
        .layer(GlobalConcurrencyLimitLayer::new(s.max_concurrency))
        .with_state(state)
}

async fn serve(
    state: Shared,
    s: &Settings,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(s.listen)
        .await
        .map_err(|reason| ServeError::Bind { addr: s.listen, reason })?;
    let addr = listener.local_addr()?;
    let app = router(state.clone(), s);
    ready(addr);
    axum::serve(listener, app).with_graceful_shutdown(stopped(state)).await?;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C, marking the service as draining.
async fn stopped(state: Shared) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
    state.draining.store(true, Ordering::Relaxed);
    eprintln!("rebound: serve: stopping: finishing the requests under way");
}
