//! The API out, behind the bearer token (401 without it):
//!
//! - `GET /v1/addresses/{email}`: what `rebound status --json` prints;
//! - `POST /v1/check`: up to 10,000 addresses (`{"addresses": [...]}` or
//!   a bare array), each mailable or suppressed (reason, since)
//!   ([`Ledger::check`](crate::ledger::Ledger::check));
//! - `GET /v1/suppressions?format=&since=&reason=&domain=`: the export of
//!   `rebound export`, streamed as it is read;
//! - `POST /v1/suppressions` (`{"email", "note"}`) and
//!   `DELETE /v1/suppressions/{email}?note=`: manual suppress and
//!   unsuppress, audit events with the note as the CLI records them;
//! - `GET /metrics`: the Prometheus metrics.
//!
//! `GET /healthz` (the process answers) and `GET /readyz` (the ledger can
//! be read and the writer runs; 503 while draining) need no token.
//! Errors are JSON `{"error": "..."}` saying what is wrong.

use std::io::Write;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Shared;
use super::auth::has_token;
use super::commit::CommitError;
use crate::ledger::export::{Filter, Format};
use crate::ledger::{Ledger, LedgerError, SuppressionReason};
use crate::time;

/// The most addresses one `/v1/check` takes.
pub(crate) const MAX_CHECK: usize = 10_000;

/// An error answer: a status and what is wrong.
#[derive(Debug)]
pub(crate) struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    message: String,
}

impl ApiError {
    /// An error with `status`.
    pub(crate) fn new(status: StatusCode, message: String) -> ApiError {
        ApiError { status, message }
    }

    /// A 500, logged.
    pub(crate) fn internal(message: String) -> ApiError {
        eprintln!("rebound: serve: {message}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    fn bad(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> ApiError {
        let status = match e {
            LedgerError::Locked { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        eprintln!("rebound: serve: {e}");
        ApiError::new(status, e.to_string())
    }
}

impl From<CommitError> for ApiError {
    fn from(e: CommitError) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
    }
}

/// Refuses a request without one of the API tokens.
pub(crate) fn authorize(s: &Shared, h: &HeaderMap) -> Result<(), ApiError> {
    match has_token(h, &s.tokens) {
        true => Ok(()),
        false => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a valid API token is needed (Authorization: Bearer TOKEN)".into(),
        )),
    }
}

/// Runs a query on a read-only connection, off the async workers.
async fn read<T: Send + 'static>(
    s: &Shared,
    f: impl FnOnce(&Ledger) -> Result<T, LedgerError> + Send + 'static,
) -> Result<T, ApiError> {
    let s = s.clone();
    tokio::task::spawn_blocking(move || {
        let l = s.readers.take()?;
        let out = f(&l);
        if out.is_ok() {
            s.readers.give(l);
        }
        out
    })
    .await
    .map_err(|e| ApiError::internal(format!("query: {e}")))?
    .map_err(ApiError::from)
}

/// `GET /v1/addresses/{email}`.
pub(crate) async fn address(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(email): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &headers)?;
    let r = read(&s, move |l| l.status(&email)).await?;
    Ok(Json(r.to_json()))
}

/// `POST /v1/check`.
pub(crate) async fn check(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &headers)?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the body is not JSON: {e}")))?;
    let list = match &v {
        Value::Array(a) => a,
        v => {
            v.get("addresses").and_then(Value::as_array).ok_or_else(|| {
                ApiError::bad(
                    "expected {\"addresses\": [...]} or an array of addresses"
                        .into(),
                )
            })?
        }
    };
    if list.len() > MAX_CHECK {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{} addresses: at most {MAX_CHECK} per request",
                list.len()
            ),
        ));
    }
    let addresses = list
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.as_str().map(str::to_string).ok_or_else(|| {
                ApiError::bad(format!("address {}: not a string", i + 1))
            })
        })
        .collect::<Result<Vec<String>, _>>()?;
    // Two halves on two connections at once: the lookups of a long list
    // share the cores.
    let half = addresses.len().div_ceil(2).max(1);
    let mut halves = addresses.chunks(half).map(<[String]>::to_vec);
    let (first, second) = (halves.next(), halves.next());
    let look = |list: Option<Vec<String>>| {
        let s = s.clone();
        async move {
            let list = list.unwrap_or_default();
            read(&s, move |l| {
                let refs: Vec<&str> =
                    list.iter().map(String::as_str).collect();
                l.check(&refs)
            })
            .await
        }
    };
    let (a, b) = tokio::join!(look(first), look(second));
    let mut results = a?;
    results.extend(b?);
    Ok(Json(json!({ "results": results })))
}

/// The query of `GET /v1/suppressions`.
#[derive(Debug, Deserialize)]
pub(crate) struct ExportQuery {
    format: Option<String>,
    since: Option<String>,
    reason: Option<String>,
    domain: Option<String>,
}

/// A writer handing what is written to the response body in chunks.
struct Chunks {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Write for Chunks {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client went away",
            )
        })
    }
}

/// `GET /v1/suppressions`.
pub(crate) async fn export(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    authorize(&s, &headers)?;
    let name = q.format.as_deref().unwrap_or("csv");
    let format = Format::from_name(name).ok_or_else(|| {
        let all: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        ApiError::bad(format!("format {name:?}: one of {}", all.join(", ")))
    })?;
    let since = match q.since.as_deref() {
        None => None,
        Some(t) => Some(time::parse_any(t).ok_or_else(|| {
            ApiError::bad(format!(
                "since {t:?}: RFC 3339, YYYY-MM-DD or Unix seconds"
            ))
        })?),
    };
    let reason = match q.reason.as_deref() {
        None => None,
        Some(r) => Some(SuppressionReason::from_name(r).ok_or_else(|| {
            ApiError::bad(format!("reason {r:?} is not a suppression reason"))
        })?),
    };
    let filter = Filter { since, reason, domain: q.domain };
    let ledger = {
        let s = s.clone();
        tokio::task::spawn_blocking(move || s.readers.take())
            .await
            .map_err(|e| ApiError::internal(format!("export: {e}")))??
    };
    let (tx, mut rx) = mpsc::channel(8);
    let readers = s.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = Chunks { tx: tx.clone(), buf: Vec::new() };
        match ledger.export(&filter, format, &mut out) {
            Ok(_) => readers.readers.give(ledger),
            Err(e) => {
                eprintln!("rebound: serve: export cut short: {e}");
                let _ = tx
                    .blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let ctype = match format {
        Format::Json => "application/json",
        Format::Jsonl => "application/x-ndjson",
        _ => "text/csv; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, ctype)], Body::from_stream(stream))
        .into_response())
}

/// The body of `POST /v1/suppressions` (and, optionally, of the DELETE).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ManualBody {
    email: Option<String>,
    note: Option<String>,
}

/// The note of a manual change, required.
fn note_of(note: Option<String>) -> Result<String, ApiError> {
    note.map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad("a note must say why".into()))
}

/// An address given to a manual change.
fn address_of(email: &str) -> Result<String, ApiError> {
    let a = crate::ledger::normalise_address(email);
    match a.rsplit_once('@') {
        Some((l, d)) if !l.is_empty() && !d.is_empty() => Ok(a),
        _ => Err(ApiError::bad(format!("{email:?} is not an address"))),
    }
}

/// `POST /v1/suppressions`.
pub(crate) async fn suppress(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&s, &headers)?;
    let b: ManualBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad(format!("expected {{\"email\", \"note\"}}: {e}"))
    })?;
    let email = address_of(b.email.as_deref().unwrap_or(""))?;
    let note = note_of(b.note)?;
    let done = s.queue.manual(email.clone(), true, note).await?;
    Ok(match done {
        true => (
            StatusCode::CREATED,
            Json(json!({ "email": email, "suppressed": true })),
        )
            .into_response(),
        false => Json(json!({
            "email": email, "suppressed": false,
            "message": "already suppressed; nothing recorded",
        }))
        .into_response(),
    })
}

/// The query of `DELETE /v1/suppressions/{email}`.
#[derive(Debug, Deserialize)]
pub(crate) struct NoteQuery {
    note: Option<String>,
}

/// `DELETE /v1/suppressions/{email}`: the note in `?note=` or a JSON body.
pub(crate) async fn unsuppress(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(email): Path<String>,
    Query(q): Query<NoteQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &headers)?;
    let email = address_of(&email)?;
    let from_body = match body.is_empty() {
        true => ManualBody::default(),
        false => serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad(format!("expected {{\"note\"}}: {e}"))
        })?,
    };
    let note = note_of(q.note.or(from_body.note))?;
    match s.queue.manual(email.clone(), false, note).await? {
        true => Ok(Json(json!({ "email": email, "unsuppressed": true }))),
        false => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{email}: not suppressed; nothing recorded"),
        )),
    }
}

/// `GET /metrics`.
pub(crate) async fn metrics(
    State(s): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&s, &headers)?;
    let size = read(&s, |l| l.size()).await.ok();
    let mut wal = s.db.clone().into_os_string();
    wal.push("-wal");
    let bytes = [s.db.as_os_str(), wal.as_os_str()]
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    let text = s.metrics.render(size, bytes);
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// `GET /healthz`.
pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`.
pub(crate) async fn readyz(State(s): State<Shared>) -> Response {
    if s.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining".into(),
        )
        .into_response();
    }
    if !s.queue.is_running() {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the ledger writer has stopped".into(),
        )
        .into_response();
    }
    match read(&s, |_| Ok(())).await {
        Ok(()) => "ready\n".into_response(),
        Err(e) => e.into_response(),
    }
}
