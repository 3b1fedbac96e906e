//! The service's metrics in the Prometheus text format (`GET /metrics`,
//! written by `prometheus-client`):
//!
//! - `rebound_events_total{provider, type, result}`: events read from
//!   webhooks and messages, `result` `new`, `duplicate` or `ignored`
//!   (events that say nothing about deliverability: opens, clicks, ...);
//! - `rebound_webhook_requests_total{provider, code}`: webhook requests by
//!   HTTP status answered;
//! - `rebound_webhook_refused_total{provider, reason}`: refused webhook
//!   requests, `reason` `unauthenticated` (no signature or credentials),
//!   `signature` (a bad one), `stale`, `replay`, `forbidden` (a topic or
//!   certificate host not allowed), `payload`;
//! - `rebound_http_request_duration_seconds{route}`: latency of every
//!   request, by route;
//! - `rebound_commit_duration_seconds`, `rebound_commit_events`: each
//!   group commit's time and size; `rebound_commit_failures_total`;
//! - `rebound_ledger_addresses`, `rebound_ledger_suppressed_addresses`,
//!   `rebound_ledger_events`, `rebound_ledger_file_bytes`: the ledger's
//!   size, read when scraped.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::Shared;
use crate::ledger::stats::Size;

type Labels<const N: usize> = [(&'static str, String); N];

/// The latency buckets: 0.25 ms to about 8 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// Every metric, and the registry that writes them out.
pub(crate) struct Metrics {
    registry: Registry,
    events: Family<Labels<3>, Counter>,
    requests: Family<Labels<2>, Counter>,
    refused: Family<Labels<2>, Counter>,
    latency: Family<Labels<1>, Histogram>,
    commit_time: Histogram,
    commit_events: Histogram,
    commit_failures: Counter,
    addresses: Gauge,
    suppressed: Gauge,
    ledger_events: Gauge,
    file_bytes: Gauge,
}

impl Metrics {
    /// Registers every metric.
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("rebound");
        let m = Metrics {
            events: Family::default(),
            requests: Family::default(),
            refused: Family::default(),
            latency: Family::new_with_constructor(latency),
            commit_time: latency(),
            commit_events: Histogram::new(exponential_buckets(1.0, 2.0, 16)),
            commit_failures: Counter::default(),
            addresses: Gauge::default(),
            suppressed: Gauge::default(),
            ledger_events: Gauge::default(),
            file_bytes: Gauge::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "events",
            "Events read from webhooks and messages",
            m.events.clone(),
        );
        r.register(
            "webhook_requests",
            "Webhook requests by HTTP status answered",
            m.requests.clone(),
        );
        r.register(
            "webhook_refused",
            "Webhook requests refused, by reason",
            m.refused.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer a request",
            m.latency.clone(),
        );
        r.register(
            "commit_duration_seconds",
            "Time of one group commit",
            m.commit_time.clone(),
        );
        r.register(
            "commit_events",
            "Events in one group commit",
            m.commit_events.clone(),
        );
        r.register(
            "commit_failures",
            "Group commits the ledger refused",
            m.commit_failures.clone(),
        );
        r.register("ledger_addresses", "Addresses known", m.addresses.clone());
        r.register(
            "ledger_suppressed_addresses",
            "Addresses suppressed",
            m.suppressed.clone(),
        );
        r.register(
            "ledger_events",
            "Events recorded",
            m.ledger_events.clone(),
        );
        r.register(
            "ledger_file_bytes",
            "Size of the ledger file and its write-ahead log",
            m.file_bytes.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts an event read: `result` is `new`, `duplicate` or `ignored`.
    pub(crate) fn event(&self, provider: &str, kind: &str, result: &str) {
        self.events
            .get_or_create(&[
                ("provider", provider.to_string()),
                ("type", kind.to_string()),
                ("result", result.to_string()),
            ])
            .inc();
    }

    /// Counts events ignored by a provider's endpoint.
    pub(crate) fn ignored(&self, provider: &str, n: usize) {
        if n > 0 {
            self.events
                .get_or_create(&[
                    ("provider", provider.to_string()),
                    ("type", "other".to_string()),
                    ("result", "ignored".to_string()),
                ])
                .inc_by(n as u64);
        }
    }

    /// Counts a webhook request and the status answered.
    pub(crate) fn request(&self, provider: &str, code: u16) {
        self.requests
            .get_or_create(&[
                ("provider", provider.to_string()),
                ("code", code.to_string()),
            ])
            .inc();
    }

    /// Counts a refused webhook request.
    pub(crate) fn refused(&self, provider: &str, reason: &str) {
        self.refused
            .get_or_create(&[
                ("provider", provider.to_string()),
                ("reason", reason.to_string()),
            ])
            .inc();
    }

    /// Records a group commit.
    pub(crate) fn commit(&self, secs: f64, events: usize, ok: bool) {
        self.commit_time.observe(secs);
        self.commit_events.observe(events as f64);
        if !ok {
            self.commit_failures.inc();
        }
    }

    /// The text exposition, with the ledger's size as read now.
    pub(crate) fn render(
        &self,
        size: Option<Size>,
        file_bytes: u64,
    ) -> String {
        if let Some(s) = size {
            self.addresses.set(s.addresses);
            self.suppressed.set(s.suppressed);
            self.ledger_events.set(s.events);
        }
        self.file_bytes.set(file_bytes as i64);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Middleware timing every request by its route.
pub(crate) async fn track(
    State(s): State<Shared>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    s.metrics
        .latency
        .get_or_create(&[("route", route)])
        .observe(start.elapsed().as_secs_f64());
    resp
}
