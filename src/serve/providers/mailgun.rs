//! Mailgun's webhooks (<https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#securing-webhooks>):
//! the body is JSON `{"signature": {"timestamp", "token", "signature"},
//! "event-data": {...}}`; `signature` is the hex HMAC-SHA256 of
//! `timestamp` followed by `token`, keyed with the account's HTTP webhook
//! signing key.
//!
//! Event data (<https://documentation.mailgun.com/docs/mailgun/user-manual/events/>):
//! `event` `failed` (`severity` `permanent`: a bounce; `temporary`: Mailgun
//! retries, a delay), `delivered`, `complained`, `unsubscribed`; others
//! (accepted, opened, clicked, ...) are ignored. `recipient`, `timestamp`
//! (seconds, with a fraction), `id` (its identity), `delivery-status`
//! (`code`, `message`, `description`, `mx-host`), `reason`
//! (`suppress-bounce`, `old`, ...), `message.headers.message-id`.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{
    Accepted, Provider, Refusal, Request, each_event, fresh, identity_of,
    json, message_id, replay_key, scalar, text, time_of,
};
use crate::ledger::webhook::PlatformEvent;
use crate::model::{EventType, Reason, Row};
use crate::serve::ServeError;
use crate::serve::config::{MailgunConfig, Secret, secret};

/// Mailgun's `reason` values that state a reason.
#[rustfmt::skip]
const REASONS: &[(&str, Reason)] = &[
    ("old", Reason::Expired),
    ("suppress-bounce", Reason::Suppressed),
    ("suppress-complaint", Reason::Suppressed),
    ("suppress-unsubscribe", Reason::Suppressed),
];

/// The Mailgun endpoint.
pub(crate) struct Mailgun {
    key: Secret,
    max_age: i64,
}

impl Mailgun {
    /// From `[serve.mailgun]`; `None` without a key.
    pub(crate) fn new(
        c: &MailgunConfig,
        max_age: i64,
    ) -> Result<Option<Mailgun>, ServeError> {
        let key = secret("signing_key", &c.signing_key, &c.signing_key_file)
            .map_err(|e| {
            ServeError::Config(format!("[serve.mailgun] {e}"))
        })?;
        Ok(key.map(|key| Mailgun { key, max_age }))
    }
}

impl Provider for Mailgun {
    fn name(&self) -> &'static str {
        "mailgun"
    }

    fn accept(&self, req: &Request<'_>) -> Result<Accepted, Refusal> {
        let body = json(req.body)?;
        let sig = body.get("signature").ok_or_else(|| {
            Refusal::Missing("no \"signature\" object".into())
        })?;
        let (Some(ts), Some(token), Some(hex)) = (
            scalar(sig, "timestamp"),
            text(sig, "token"),
            text(sig, "signature"),
        ) else {
            return Err(Refusal::Missing(
                "the signature needs timestamp, token and signature".into(),
            ));
        };
        let given = decode_hex(hex).ok_or_else(|| {
            Refusal::Forged("the signature is not hex".into())
        })?;
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.0.as_bytes())
            .map_err(|_| Refusal::Forged("unusable signing key".into()))?;
        mac.update(ts.as_bytes());
        mac.update(token.as_bytes());
        if mac.verify_slice(&given).is_err() {
            return Err(Refusal::Forged(
                "the signature does not match".into(),
            ));
        }
        let signed: i64 = ts.parse().map_err(|_| {
            Refusal::Forged(
                "the signature's timestamp is not Unix seconds".into(),
            )
        })?;
        fresh(signed, req.now, self.max_age)?;
        let data = body.get("event-data").ok_or_else(|| {
            Refusal::Payload("no \"event-data\" object".into())
        })?;
        let mut out = each_event(data, event)?;
        out.replay_key = Some(replay_key(format!("{ts}.{token}").as_bytes()));
        Ok(out)
    }
}

/// Hex text to bytes.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The event data.
fn event(v: &Value) -> Result<Option<Vec<PlatformEvent>>, String> {
    let name = text(v, "event").ok_or("no \"event\" in event-data")?;
    let kind = match name {
        "failed" if text(v, "severity") == Some("temporary") => {
            EventType::Delay
        }
        "failed" => EventType::Bounce,
        "delivered" => EventType::Delivered,
        "complained" => EventType::Complaint,
        "unsubscribed" => EventType::Unsubscribe,
        _ => return Ok(None),
    };
    let rcpt = text(v, "recipient").ok_or("no \"recipient\" in event-data")?;
    let status = v.get("delivery-status").unwrap_or(&Value::Null);
    let code = scalar(status, "code")
        .filter(|c| c.len() == 3 && c.starts_with(['2', '4', '5']));
    let diagnostic = [text(status, "message"), text(status, "description")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let hint = text(v, "reason")
        .and_then(|r| REASONS.iter().find(|(n, _)| *n == r).map(|(_, x)| *x));
    let headers = v.pointer("/message/headers").unwrap_or(&Value::Null);
    Ok(Some(vec![PlatformEvent {
        row: Row {
            recipient: Some(rcpt.to_string()),
            kind: Some(kind),
            reply_code: code,
            diagnostic: (!diagnostic.is_empty()).then_some(diagnostic),
            remote_mta: text(status, "mx-host").map(str::to_string),
            reason: hint,
            ..Row::default()
        },
        time: time_of(v, "timestamp"),
        campaign_id: v.pointer("/user-variables/campaign_id").and_then(|c| {
            match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        }),
        original_message_id: text(headers, "message-id").map(message_id),
        id: text(v, "id")
            .map_or_else(|| identity_of("mailgun", v), str::to_string),
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_hex_decodes() {
        assert!(REASONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0g"), None);
        assert_eq!(decode_hex("abc"), None);
    }
}
