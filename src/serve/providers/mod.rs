//! The sending platforms' webhooks: one file per platform, each a type
//! behind the [`Provider`] trait that authenticates a request the way the
//! platform documents and reads its native payload into
//! [`PlatformEvent`]s, which the ledger classifies like mail
//! ([`PlatformEvent::into_report`]).
//!
//! | endpoint | platform | authentication |
//! |---|---|---|
//! | `/webhooks/ses` | Amazon SES via SNS | SNS signature (v1 SHA1, v2 SHA256) with the certificate of `SigningCertURL` |
//! | `/webhooks/sendgrid` | SendGrid | ECDSA P-256 over timestamp + body |
//! | `/webhooks/mailgun` | Mailgun | HMAC-SHA256 of timestamp + token |
//! | `/webhooks/resend` | Resend | Svix: HMAC-SHA256 of id.timestamp.body |
//! | `/webhooks/postmark`, `/webhooks/sparkpost`, `/webhooks/mailjet`, `/webhooks/brevo` | | basic auth or a token header |
//!
//! Signed requests carry a time: older (or later) than the allowed age is
//! refused ([`fresh`]); each signature is also a replay key
//! (`serve::replay`). A provider whose section sets no key or credential
//! has no endpoint (404): nothing is taken unauthenticated.

mod brevo;
mod mailgun;
mod mailjet;
mod postmark;
mod resend;
mod sendgrid;
mod ses;
mod sparkpost;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ServeError;
use super::config::Settings;
use crate::ledger::webhook::PlatformEvent;
use crate::model::EventType;
use crate::time;

/// A request to a provider's endpoint.
pub(crate) struct Request<'a> {
    /// Its headers.
    pub headers: &'a HeaderMap,
    /// Its body, as received.
    pub body: &'a [u8],
    /// When it arrived (Unix seconds).
    pub now: i64,
}

/// What a provider took from an authenticated request.
#[derive(Debug, Default)]
pub(crate) struct Accepted {
    /// The events to record.
    pub events: Vec<PlatformEvent>,
    /// Events that say nothing about deliverability (opens, clicks, ...).
    pub ignored: usize,
    /// The replay key of a signed request ([`replay_key`]).
    pub replay_key: Option<[u8; 32]>,
    /// What was done besides (an SNS subscription confirmed).
    pub note: Option<&'static str>,
}

/// Why a request was refused.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// No signature or credentials (401).
    Missing(String),
    /// A signature or credentials that do not match (403).
    Forged(String),
    /// Signed too long ago, or in the future (403).
    Stale(String),
    /// Authentic, but not for us: a topic or certificate host not allowed
    /// (403).
    Forbidden(String),
    /// The body is not the platform's payload (400).
    Payload(String),
    /// Cannot be checked now (a certificate that cannot be fetched): the
    /// platform should send it again (503).
    Unavailable(String),
}

impl Refusal {
    /// The HTTP status answered.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Refusal::Missing(_) => StatusCode::UNAUTHORIZED,
            Refusal::Forged(_) | Refusal::Stale(_) | Refusal::Forbidden(_) => {
                StatusCode::FORBIDDEN
            }
            Refusal::Payload(_) => StatusCode::BAD_REQUEST,
            Refusal::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The metrics label.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Refusal::Missing(_) => "unauthenticated",
            Refusal::Forged(_) => "signature",
            Refusal::Stale(_) => "stale",
            Refusal::Forbidden(_) => "forbidden",
            Refusal::Payload(_) => "payload",
            Refusal::Unavailable(_) => "unavailable",
        }
    }

    /// What is wrong (never a secret).
    pub(crate) fn message(&self) -> &str {
        match self {
            Refusal::Missing(m)
            | Refusal::Forged(m)
            | Refusal::Stale(m)
            | Refusal::Forbidden(m)
            | Refusal::Payload(m)
            | Refusal::Unavailable(m) => m,
        }
    }
}

/// A sending platform's webhook.
pub(crate) trait Provider: Send + Sync {
    /// Its name: the endpoint is `/webhooks/{name}`.
    fn name(&self) -> &'static str;

    /// Authenticates the request and reads its events.
    fn accept(&self, req: &Request<'_>) -> Result<Accepted, Refusal>;

    /// Whether [`Provider::accept`] may wait on the network (a certificate
    /// to fetch): it is then always called off the async workers.
    fn may_block(&self) -> bool {
        false
    }
}

/// The providers configured, by name.
pub(crate) fn configured(
    s: &Settings,
) -> Result<HashMap<&'static str, Arc<dyn Provider>>, ServeError> {
    let c = &s.providers;
    let age = s.max_age.as_secs() as i64;
    let mut all: Vec<Arc<dyn Provider>> = Vec::new();
    if let Some(p) = &c.ses {
        all.push(Arc::new(ses::Ses::new(p, age)?));
    }
    if let Some(p) = &c.sendgrid
        && let Some(p) = sendgrid::SendGrid::new(p, age)?
    {
        all.push(Arc::new(p));
    }
    if let Some(p) = &c.mailgun
        && let Some(p) = mailgun::Mailgun::new(p, age)?
    {
        all.push(Arc::new(p));
    }
    if let Some(p) = &c.resend
        && let Some(p) = resend::Resend::new(p, age)?
    {
        all.push(Arc::new(p));
    }
    for (name, section) in [
        ("postmark", &c.postmark),
        ("sparkpost", &c.sparkpost),
        ("mailjet", &c.mailjet),
        ("brevo", &c.brevo),
    ] {
        let Some(section) = section else { continue };
        let Some(auth) = super::auth::HeaderAuth::new(name, section)? else {
            continue;
        };
        all.push(match name {
            "postmark" => Arc::new(postmark::Postmark { auth }),
            "sparkpost" => Arc::new(sparkpost::SparkPost { auth }),
            "mailjet" => Arc::new(mailjet::Mailjet { auth }),
            _ => Arc::new(brevo::Brevo { auth }),
        });
    }
    Ok(all.into_iter().map(|p| (p.name(), p)).collect())
}

/// Refuses a signed time more than `max_age` seconds from now.
pub(crate) fn fresh(
    signed: i64,
    now: i64,
    max_age: i64,
) -> Result<(), Refusal> {
    if (now - signed).abs() > max_age {
        return Err(Refusal::Stale(format!(
            "signed at {}, more than {max_age} s from now ({})",
            time::format_rfc3339(signed),
            time::format_rfc3339(now)
        )));
    }
    Ok(())
}

/// The replay key of a request: a digest of what its signature covers
/// (never of the signature alone, which some schemes let an attacker
/// rewrite into another valid one).
pub(crate) fn replay_key(signed: &[u8]) -> [u8; 32] {
    Sha256::digest(signed).into()
}

/// A header's value as text; `None` when missing or empty.
pub(crate) fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The body as JSON.
pub(crate) fn json(body: &[u8]) -> Result<Value, Refusal> {
    serde_json::from_slice(body)
        .map_err(|e| Refusal::Payload(format!("the body is not JSON: {e}")))
}

/// A non-empty string field.
pub(crate) fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// A scalar field as text (numbers written out).
pub(crate) fn scalar(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A time field: Unix seconds (number or text, fractions dropped),
/// milliseconds when past the year 5000, or RFC 3339 text.
pub(crate) fn time_of(v: &Value, key: &str) -> Option<i64> {
    let secs = |f: f64| {
        if f > 95_617_584_000.0 { f / 1000.0 } else { f }
    };
    match v.get(key)? {
        Value::Number(n) => n.as_f64().map(|f| secs(f) as i64),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .map(|f| secs(f) as i64)
            .or_else(|| time::parse_rfc3339(s)),
        _ => None,
    }
}

/// The events of a payload that is one object or an array of them, each
/// read by `read` (`Ok(None)`: an event to ignore); an unusable event is
/// an error naming its place.
pub(crate) fn each_event(
    payload: &Value,
    mut read: impl FnMut(&Value) -> Result<Option<Vec<PlatformEvent>>, String>,
) -> Result<Accepted, Refusal> {
    let list = match payload {
        Value::Array(a) => a.as_slice(),
        v => std::slice::from_ref(v),
    };
    let mut out = Accepted::default();
    for (i, v) in list.iter().enumerate() {
        match read(v) {
            Ok(Some(events)) => out.events.extend(events),
            Ok(None) => out.ignored += 1,
            Err(m) if list.len() > 1 => {
                return Err(Refusal::Payload(format!("event {}: {m}", i + 1)));
            }
            Err(m) => return Err(Refusal::Payload(m)),
        }
    }
    Ok(out)
}

/// The identity of an event without an id of its own: its platform and
/// the JSON of the event object (a redelivery repeats it byte for byte
/// once parsed).
pub(crate) fn identity_of(platform: &str, v: &Value) -> String {
    format!("{platform}\0{v}")
}

/// The Message-ID of the message sent, in angle brackets.
pub(crate) fn message_id(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

/// The event type of a platform's event name, for the names the generic
/// shape knows (`bounce`, `delivered`, `spamreport`, ...).
pub(crate) fn kind_of(name: &str) -> Option<EventType> {
    crate::ledger::webhook::event_type(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_seconds_milliseconds_and_rfc3339() {
        let v: Value = serde_json::json!({
            "s": 1706788800, "f": "1706788800.25", "ms": 1706788800000u64,
            "iso": "2024-02-01T12:00:00.237Z", "bad": "soon"
        });
        for k in ["s", "f", "ms", "iso"] {
            assert_eq!(time_of(&v, k), Some(1_706_788_800), "{k}");
        }
        assert_eq!(time_of(&v, "bad"), None);
    }

    #[test]
    fn old_and_future_signatures_are_stale() {
        assert!(fresh(1000, 1299, 300).is_ok());
        assert!(matches!(fresh(1000, 1301, 300), Err(Refusal::Stale(_))));
        assert!(matches!(fresh(1400, 1000, 300), Err(Refusal::Stale(_))));
    }
}
