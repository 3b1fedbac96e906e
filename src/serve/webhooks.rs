//! The endpoints that take events in: each provider's webhook
//! (`POST /webhooks/{provider}`), the generic event shape of `rebound
//! ingest --events` (`POST /webhooks/bounce`, bearer token) and raw bounce
//! messages (`POST /v1/messages`, `Content-Type: message/rfc822`, bearer
//! token).
//!
//! A request is authenticated and read (on the blocking pool when its
//! body is big, its provider may fetch a certificate, or it is a message
//! to parse), its events are
//! handed to the writer (`commit.rs`), and it is answered once their
//! transaction is committed: 200 with what was recorded. Refusals are
//! counted by provider and reason; their messages never hold a secret.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use super::api::{ApiError, authorize};
use super::commit::CommitError;
use super::providers::{Refusal, Request};
use crate::ledger::webhook;
use crate::pipeline::Report;
use crate::time;

/// `POST /webhooks/{provider}`.
pub(crate) async fn provider(
    State(s): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(p) = s.providers.get(name.as_str()).cloned() else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no /webhooks/{name}: the provider is not configured"),
        )
        .into_response();
    };
    let name = p.name();
    let now = time::now();
    let inline = body.len() <= INLINE_MAX && !p.may_block();
    let state = s.clone();
    let accepted = off_workers(inline, move || {
        let a = p.accept(&Request { headers: &headers, body: &body, now })?;
        let mut memo = crate::classify::Memo::default();
        let reports: Vec<(String, Report)> = a
            .events
            .into_iter()
            .map(|mut e| {
                e.id = format!("{name}\0{}", e.id);
                let source = format!("serve:{name}");
                let rules = state.parser.rules();
                (source, e.into_report("webhook", &mut memo, rules))
            })
            .collect();
        Ok::<_, Refusal>((reports, a.ignored, a.replay_key, a.note))
    })
    .await;
    let resp = match accepted {
        Err(e) => ApiError::internal(format!("handling the request: {e}")),
        Ok(Err(r)) => {
            s.metrics.refused(name, r.reason());
            ApiError::new(r.status(), r.message().to_string())
        }
        Ok(Ok((reports, ignored, replay_key, note))) => 'done: {
            if let Some(k) = replay_key
                && !s.replay.claim(k, now)
            {
                s.metrics.refused(name, "replay");
                break 'done ApiError::new(
                    StatusCode::CONFLICT,
                    "a replay of a request already accepted".into(),
                );
            }
            match record(&s, name, reports, ignored).await {
                Ok(mut body) => {
                    if let Some(n) = note {
                        body["note"] = n.into();
                    }
                    return answer(&s, name, StatusCode::OK, Json(body));
                }
                Err(e) => {
                    if let Some(k) = &replay_key {
                        s.replay.release(k);
                    }
                    e
                }
            }
        }
    };
    answer(&s, name, resp.status, resp)
}

/// Bodies up to this size are read and classified on the async worker
/// that took the request (a few tens of microseconds); bigger ones, and
/// providers that may wait on the network, go to the blocking pool.
const INLINE_MAX: usize = 16 * 1024;

/// Runs `f` where it belongs: here when `inline`, else on the blocking
/// pool.
async fn off_workers<T: Send + 'static>(
    inline: bool,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    match inline {
        true => Ok(f()),
        false => tokio::task::spawn_blocking(f).await,
    }
}

/// Counts the answer to a webhook request.
fn answer(
    s: &Shared,
    provider: &str,
    status: StatusCode,
    r: impl IntoResponse,
) -> Response {
    s.metrics.request(provider, status.as_u16());
    r.into_response()
}

/// Hands reports to the writer and waits for their commit; the answer's
/// figures.
async fn record(
    s: &Shared,
    provider: &str,
    reports: Vec<(String, Report)>,
    ignored: usize,
) -> Result<serde_json::Value, ApiError> {
    s.metrics.ignored(provider, ignored);
    let kinds: Vec<Vec<&'static str>> = reports
        .iter()
        .map(|(_, r)| {
            r.records
                .iter()
                .map(|x| x.kind.map_or("bounce", |k| k.as_str()))
                .collect()
        })
        .collect();
    let sums = match reports.is_empty() {
        true => Vec::new(),
        false => s.queue.ingest(reports).await.map_err(|e| match e {
            CommitError::Closed => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            CommitError::Ledger(m) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the ledger could not record the events: {m}"),
            ),
        })?,
    };
    let (mut new, mut dup) = (0, 0);
    for (sum, kinds) in sums.iter().zip(&kinds) {
        new += sum.new_events;
        dup += sum.duplicates;
        // A report's new events come first in its records' order.
        for (i, k) in kinds.iter().enumerate() {
            let result = if i < sum.new_events { "new" } else { "duplicate" };
            s.metrics.event(provider, k, result);
        }
    }
    Ok(json!({
        "received": new + dup + ignored,
        "recorded": new,
        "duplicates": dup,
        "ignored": ignored,
    }))
}

/// `POST /webhooks/bounce`: events in the generic shape.
pub(crate) async fn generic(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const NAME: &str = "generic";
    if let Err(e) = authorize(&s, &headers) {
        s.metrics.refused(NAME, "unauthenticated");
        return answer(&s, NAME, e.status, e);
    }
    let inline = body.len() <= INLINE_MAX;
    let state = s.clone();
    let parsed = off_workers(inline, move || {
        webhook::reports_of_json(&body, state.parser.rules())
    })
    .await;
    let (reports, ignored) = match parsed {
        Ok(Ok(r)) => r,
        Err(e) => {
            let e = ApiError::internal(format!("reading the events: {e}"));
            return answer(&s, NAME, e.status, e);
        }
        Ok(Err(e)) => {
            s.metrics.refused(NAME, "payload");
            let e = ApiError::new(StatusCode::BAD_REQUEST, e.to_string());
            return answer(&s, NAME, e.status, e);
        }
    };
    let reports =
        reports.into_iter().map(|r| ("serve:bounce".to_string(), r)).collect();
    match record(&s, NAME, reports, ignored).await {
        Ok(b) => answer(&s, NAME, StatusCode::OK, Json(b)),
        Err(e) => answer(&s, NAME, e.status, e),
    }
}

/// `POST /v1/messages`: one raw bounce message (RFC 5322); answers with
/// its records.
pub(crate) async fn message(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&s, &headers)?;
    let ctype =
        headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = ctype.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("message/rfc822") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Type {ctype:?}: send the raw message as message/rfc822"
            ),
        ));
    }
    let parser = s.clone();
    let report =
        tokio::task::spawn_blocking(move || parser.parser.parse(&body))
            .await
            .map_err(|e| ApiError::internal(format!("parsing: {e}")))?
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("not a message: {e}"),
                )
            })?;
    let records = serde_json::to_value(&report.records)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut out = match report.records.is_empty() {
        true => record(&s, "message", Vec::new(), 0).await?,
        false => {
            let source = format!(
                "serve:message:{}",
                report.message_id.as_deref().unwrap_or("")
            );
            let detector = report.detector;
            let mut b =
                record(&s, "message", vec![(source, report)], 0).await?;
            b["detector"] = detector.into();
            b
        }
    };
    out["records"] = records;
    Ok(Json(out))
}
