//! SendGrid's signed Event Webhook
//! (<https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features>):
//! the body is a JSON array of events; `X-Twilio-Email-Event-Webhook-Signature`
//! holds a base64 ECDSA P-256 / SHA-256 signature (DER) over the
//! `X-Twilio-Email-Event-Webhook-Timestamp` header followed by the raw
//! body, made with the key pair whose public half ("verification key",
//! base64 DER) SendGrid shows.
//!
//! Events (<https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event>):
//! `bounce` (`type` `bounce` or `blocked`, `status`, `reason`,
//! `bounce_classification`), `deferred` (`response`), `delivered`
//! (`response`), `spamreport`, `unsubscribe`, `group_unsubscribe`; the
//! others (processed, dropped, open, click, ...) are ignored. Each has
//! `email`, `timestamp`, `sg_event_id` (its identity) and `smtp-id` (the
//! Message-ID sent).

use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::sign::Verifier;
use serde_json::Value;

use super::{
    Accepted, Provider, Refusal, Request, each_event, fresh, header,
    identity_of, json, kind_of, message_id, replay_key, scalar, text, time_of,
};
use crate::ledger::webhook::PlatformEvent;
use crate::model::{EventType, Reason, Row};
use crate::serve::ServeError;
use crate::serve::config::{SendGridConfig, secret};

const SIGNATURE: &str = "x-twilio-email-event-webhook-signature";
const TIMESTAMP: &str = "x-twilio-email-event-webhook-timestamp";

/// SendGrid's bounce classifications
/// (<https://www.twilio.com/docs/sendgrid/ui/analytics-and-reporting/bounce-and-block-classifications>)
/// and the reasons they state.
#[rustfmt::skip]
const CLASSIFICATIONS: &[(&str, Reason)] = &[
    ("content", Reason::SpamContent),
    ("frequency or volume too high", Reason::RateLimited),
    ("invalid address", Reason::UserUnknown),
    ("mailbox unavailable", Reason::Suspended),
    ("reputation", Reason::BadReputation),
    ("technical", Reason::SystemError),
];

/// The SendGrid endpoint.
pub(crate) struct SendGrid {
    key: PKey<Public>,
    max_age: i64,
}

impl SendGrid {
    /// From `[serve.sendgrid]`; `None` without a key.
    pub(crate) fn new(
        c: &SendGridConfig,
        max_age: i64,
    ) -> Result<Option<SendGrid>, ServeError> {
        let bad =
            |m: String| ServeError::Config(format!("[serve.sendgrid] {m}"));
        let Some(key) =
            secret("public_key", &c.public_key, &c.public_key_file)
                .map_err(|e| bad(e.to_string()))?
        else {
            return Ok(None);
        };
        let text = key.0.trim();
        let key = if text.starts_with("-----BEGIN") {
            PKey::public_key_from_pem(text.as_bytes())
        } else {
            let der = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| {
                bad(format!("public_key is not base64: {e}"))
            })?;
            PKey::public_key_from_der(&der)
        }
        .map_err(|e| bad(format!("public_key is not a public key: {e}")))?;
        if key.ec_key().is_err() {
            return Err(bad("public_key is not an ECDSA key".into()));
        }
        Ok(Some(SendGrid { key, max_age }))
    }
}

impl Provider for SendGrid {
    fn name(&self) -> &'static str {
        "sendgrid"
    }

    fn accept(&self, req: &Request<'_>) -> Result<Accepted, Refusal> {
        let (Some(sig), Some(ts)) =
            (header(req.headers, SIGNATURE), header(req.headers, TIMESTAMP))
        else {
            return Err(Refusal::Missing(format!(
                "no {SIGNATURE} / {TIMESTAMP} headers"
            )));
        };
        let der =
            base64::engine::general_purpose::STANDARD.decode(sig).map_err(
                |_| Refusal::Forged("the signature is not base64".into()),
            )?;
        let ok = Verifier::new(MessageDigest::sha256(), &self.key)
            .and_then(|mut v| {
                v.update(ts.as_bytes())?;
                v.update(req.body)?;
                v.verify(&der)
            })
            .unwrap_or(false);
        if !ok {
            return Err(Refusal::Forged(
                "the signature does not match".into(),
            ));
        }
        let signed: i64 = ts.parse().map_err(|_| {
            Refusal::Forged(format!("{TIMESTAMP} is not Unix seconds"))
        })?;
        fresh(signed, req.now, self.max_age)?;
        let mut out = each_event(&json(req.body)?, event)?;
        // What was signed, not the signature: an ECDSA signature can be
        // rewritten into another valid one.
        out.replay_key = Some(replay_key(&[ts.as_bytes(), req.body].concat()));
        Ok(out)
    }
}

/// One event object.
fn event(v: &Value) -> Result<Option<Vec<PlatformEvent>>, String> {
    let name = text(v, "event").ok_or("no \"event\"")?;
    let Some(kind) = kind_of(name) else { return Ok(None) };
    let email = text(v, "email").ok_or("no \"email\"")?;
    let diagnostic = match kind {
        EventType::Bounce => text(v, "reason"),
        _ => text(v, "response").or(text(v, "reason")),
    };
    let hint = text(v, "bounce_classification").and_then(|c| {
        let c = c.to_ascii_lowercase();
        CLASSIFICATIONS.iter().find(|(n, _)| *n == c).map(|(_, r)| *r)
    });
    Ok(Some(vec![PlatformEvent {
        row: Row {
            recipient: Some(email.to_string()),
            kind: Some(kind),
            status: scalar(v, "status"),
            diagnostic: diagnostic.map(str::to_string),
            reason: hint,
            ..Row::default()
        },
        time: time_of(v, "timestamp"),
        campaign_id: scalar(v, "marketing_campaign_id"),
        original_message_id: text(v, "smtp-id").map(message_id),
        id: text(v, "sg_event_id")
            .map_or_else(|| identity_of("sendgrid", v), str::to_string),
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(CLASSIFICATIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
