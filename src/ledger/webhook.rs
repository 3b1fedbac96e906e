//! Sending-platform webhook events (`rebound ingest --events FILE.jsonl`):
//! one JSON object per line with the fields `event, email, status, reason,
//! type, provider, campaign_id, timestamp, ip, domain`.
//!
//! Each event becomes a one-record [`Report`] recorded like a parsed
//! message: `event` gives the type (bounce/bounced/failed, deferred/delayed,
//! delivered, complaint/spamreport, unsubscribe, auto_reply; other events
//! such as opens and clicks are skipped), `status` an enhanced status code
//! or an SMTP reply code, `reason` the diagnostic text; the class, reason
//! and action come from the same classifier as for mail, so a webhook
//! bounce and a mailed NDR with the same text agree. `provider` and
//! `campaign_id` are kept as given; `timestamp` is Unix seconds or RFC 3339
//! (missing: the time it is recorded). `type`, `ip` and `domain` are read
//! but not kept: the category comes from the classifier and the domain
//! from the address.
//!
//! Idempotency: the report key is the SHA-256 of the event's identifying
//! fields (event, email, timestamp, status, reason, campaign_id), so a
//! replayed webhook records nothing new.

use serde::Deserialize;
use serde_json::Value;

use crate::classify;
use crate::detect::Row;
use crate::model::{EventType, Record};
use crate::parse::{Report, fields, fingerprint};
use crate::time;

/// A webhook line that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// Not a JSON object of the expected shape.
    #[error("not a webhook event: {0}")]
    Json(#[from] serde_json::Error),
    /// No `email`.
    #[error("event without an email")]
    NoEmail,
    /// A timestamp that is neither Unix seconds nor RFC 3339.
    #[error("unreadable timestamp {0}")]
    Timestamp(String),
}

#[derive(Debug, Deserialize)]
struct Event {
    event: String,
    email: Option<String>,
    status: Option<Value>,
    reason: Option<String>,
    provider: Option<String>,
    campaign_id: Option<Value>,
    timestamp: Option<Value>,
}

/// A JSON scalar as text (numbers without quotes).
fn scalar(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            Some(s.trim().to_string())
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The event type of a webhook `event` name; `None` for events that say
/// nothing about deliverability (open, click, processed, ...).
pub fn event_type(name: &str) -> Option<EventType> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "bounce" | "bounced" | "failed" | "hard_bounce" | "soft_bounce" => {
            EventType::Bounce
        }
        "deferred" | "delayed" | "delay" => EventType::Delay,
        "delivered" | "delivery" => EventType::Delivered,
        "complaint" | "complained" | "spamreport" | "spam_report" => {
            EventType::Complaint
        }
        "unsubscribe" | "unsubscribed" | "group_unsubscribe" => {
            EventType::Unsubscribe
        }
        "auto_reply" | "autoreply" => EventType::AutoReply,
        _ => return None,
    })
}

/// Reads one line; `Ok(None)` for an event to skip (or a blank line).
pub fn report_of(line: &str) -> Result<Option<Report>, WebhookError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let e: Event = serde_json::from_str(line)?;
    let Some(kind) = event_type(&e.event) else {
        return Ok(None);
    };
    let email = e
        .email
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::NoEmail)?;
    let stamp = scalar(&e.timestamp);
    let time = match &stamp {
        None => None,
        Some(s) => Some(
            s.parse::<f64>()
                .ok()
                .map(|f| f as i64)
                .or_else(|| time::parse_rfc3339(s))
                .ok_or_else(|| WebhookError::Timestamp(s.clone()))?,
        ),
    };
    let status = scalar(&e.status);
    let reason = e.reason.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let text = [status.as_deref(), reason].into_iter().flatten();
    let joined: Vec<&str> = text.collect();
    let joined = joined.join(" ");
    let campaign = scalar(&e.campaign_id);
    let mut rec = Record {
        recipient: Some(email.to_string()),
        kind: Some(kind),
        status: fields::status_in(&joined),
        reply_code: fields::reply_code_in(&joined),
        diagnostic: reason.map(str::to_string),
        campaign_id: campaign.clone(),
        event_time: time.map(time::format_rfc3339),
        detector: Some("webhook".to_string()),
        ..Record::default()
    };
    classify::apply(&Row::default(), &mut rec, false);
    if let Some(p) = e.provider.filter(|p| !p.trim().is_empty()) {
        rec.provider = Some(p.trim().to_ascii_lowercase());
    }
    let identity = [
        kind.as_str(),
        email,
        stamp.as_deref().unwrap_or(""),
        status.as_deref().unwrap_or(""),
        reason.unwrap_or(""),
        campaign.as_deref().unwrap_or(""),
    ]
    .join("\0");
    Ok(Some(Report {
        fingerprint: Some(format!(
            "webhook:{}",
            fingerprint(identity.as_bytes())
        )),
        detector: Some("webhook"),
        records: vec![rec],
        ..Report::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    #[test]
    fn a_bounce_event_is_classified_like_mail() {
        let r = report_of(
            r#"{"event":"bounce","email":"Jo@Example.com","status":"5.1.1","reason":"550 5.1.1 user unknown","type":"hard","timestamp":1706788800,"campaign_id":42}"#,
        )
        .unwrap()
        .unwrap();
        let rec = &r.records[0];
        assert_eq!(rec.action, Some(Action::Suppress));
        assert_eq!(rec.status.as_deref(), Some("5.1.1"));
        assert_eq!(rec.campaign_id.as_deref(), Some("42"));
        assert_eq!(rec.event_time.as_deref(), Some("2024-02-01T12:00:00Z"));
    }

    #[test]
    fn opens_are_skipped_and_garbage_is_an_error() {
        assert!(
            report_of(r#"{"event":"open","email":"a@b.c"}"#)
                .unwrap()
                .is_none()
        );
        assert!(report_of("{not json").is_err());
        assert!(report_of(r#"{"event":"bounce"}"#).is_err());
        assert!(
            report_of(r#"{"event":"bounce","email":"a@b.c","timestamp":"x"}"#)
                .is_err()
        );
    }
}
