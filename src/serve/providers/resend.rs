//! Resend's webhooks (<https://resend.com/docs/dashboard/webhooks/verify-webhooks-requests>),
//! signed by Svix (<https://docs.svix.com/receiving/verifying-payloads/how-manual>):
//! headers `svix-id`, `svix-timestamp` (Unix seconds) and
//! `svix-signature`, a space-separated list of `v1,<base64>` signatures;
//! each is the HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the
//! base64 part of the signing secret (`whsec_...`). The Standard Webhooks
//! names (`webhook-id`, `webhook-timestamp`, `webhook-signature`) are
//! read too.
//!
//! Payload (<https://resend.com/docs/dashboard/webhooks/event-types>):
//! `{"type", "created_at", "data": {"email_id", "to": [...],
//! "broadcast_id", "bounce": {"type", "subType", "message"}}}` with types
//! `email.bounced`, `email.delivery_delayed`, `email.delivered`,
//! `email.complained`; other types are ignored. Resend sends through
//! Amazon SES: the bounce type and subtype are SES's, read with the SES
//! table.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{
    Accepted, Provider, Refusal, Request, fresh, header, json, replay_key,
    scalar, text, time_of,
};
use crate::detect::amazonses::bounce_reason;
use crate::ledger::webhook::PlatformEvent;
use crate::model::{EventType, Row};
use crate::serve::ServeError;
use crate::serve::config::{ResendConfig, secret};

/// The Resend endpoint.
pub(crate) struct Resend {
    key: Vec<u8>,
    max_age: i64,
}

impl Resend {
    /// From `[serve.resend]`; `None` without a secret.
    pub(crate) fn new(
        c: &ResendConfig,
        max_age: i64,
    ) -> Result<Option<Resend>, ServeError> {
        let bad =
            |m: String| ServeError::Config(format!("[serve.resend] {m}"));
        let Some(s) = secret(
            "signing_secret",
            &c.signing_secret,
            &c.signing_secret_file,
        )
        .map_err(|e| bad(e.to_string()))?
        else {
            return Ok(None);
        };
        let b64 = s.0.strip_prefix("whsec_").unwrap_or(&s.0);
        let key =
            base64::engine::general_purpose::STANDARD.decode(b64).map_err(
                |_| bad("signing_secret is not whsec_ and base64".into()),
            )?;
        Ok(Some(Resend { key, max_age }))
    }
}

/// The first header of `names` present.
fn either<'a>(req: &'a Request<'_>, names: [&str; 2]) -> Option<&'a str> {
    names.into_iter().find_map(|n| header(req.headers, n))
}

impl Provider for Resend {
    fn name(&self) -> &'static str {
        "resend"
    }

    fn accept(&self, req: &Request<'_>) -> Result<Accepted, Refusal> {
        let (Some(id), Some(ts), Some(sigs)) = (
            either(req, ["svix-id", "webhook-id"]),
            either(req, ["svix-timestamp", "webhook-timestamp"]),
            either(req, ["svix-signature", "webhook-signature"]),
        ) else {
            return Err(Refusal::Missing(
                "no svix-id / svix-timestamp / svix-signature headers".into(),
            ));
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key)
            .map_err(|_| Refusal::Forged("unusable signing secret".into()))?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(req.body);
        let ok = sigs.split_whitespace().any(|s| {
            s.strip_prefix("v1,")
                .and_then(|b| {
                    base64::engine::general_purpose::STANDARD.decode(b).ok()
                })
                .is_some_and(|given| mac.clone().verify_slice(&given).is_ok())
        });
        if !ok {
            return Err(Refusal::Forged("no signature matches".into()));
        }
        let signed: i64 = ts.parse().map_err(|_| {
            Refusal::Forged("svix-timestamp is not Unix seconds".into())
        })?;
        fresh(signed, req.now, self.max_age)?;
        let mut out = Accepted {
            replay_key: Some(replay_key(format!("{id}.{ts}").as_bytes())),
            ..Accepted::default()
        };
        match events(&json(req.body)?, id).map_err(Refusal::Payload)? {
            Some(e) => out.events = e,
            None => out.ignored = 1,
        }
        Ok(out)
    }
}

/// The events of one payload (one per recipient); `None` for a type to
/// ignore.
fn events(v: &Value, id: &str) -> Result<Option<Vec<PlatformEvent>>, String> {
    let kind = match text(v, "type").ok_or("no \"type\"")? {
        "email.bounced" => EventType::Bounce,
        "email.delivery_delayed" => EventType::Delay,
        "email.delivered" => EventType::Delivered,
        "email.complained" => EventType::Complaint,
        _ => return Ok(None),
    };
    let data = v.get("data").ok_or("no \"data\"")?;
    let to: Vec<&str> = match data.get("to") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => vec![],
    };
    if to.is_empty() {
        return Err("no recipient in \"data.to\"".into());
    }
    let bounce = data.get("bounce").unwrap_or(&Value::Null);
    let hint = bounce_reason(
        text(bounce, "type").unwrap_or(""),
        text(bounce, "subType").unwrap_or(""),
    );
    let time =
        time_of(v, "created_at").or_else(|| time_of(data, "created_at"));
    Ok(Some(
        to.into_iter()
            .map(|rcpt| PlatformEvent {
                row: Row {
                    recipient: Some(rcpt.to_string()),
                    kind: Some(kind),
                    diagnostic: text(bounce, "message").map(str::to_string),
                    reason: hint,
                    ..Row::default()
                },
                time,
                campaign_id: scalar(data, "broadcast_id"),
                original_message_id: None,
                id: format!("resend\0{id}"),
            })
            .collect(),
    ))
}
