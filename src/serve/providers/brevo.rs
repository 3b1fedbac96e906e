//! Brevo's webhooks (<https://developers.brevo.com/docs/transactional-webhooks>
//! and <https://developers.brevo.com/docs/marketing-webhooks>): no
//! signature; Brevo sends basic auth credentials or a bearer token (the
//! webhook's `auth`), which the `[serve.brevo]` section names.
//!
//! One event object per request: `event` `hard_bounce`, `soft_bounce`,
//! `invalid_email`, `deferred`, `delivered`, `spam` (complaint),
//! `unsubscribed`; `email`, `ts_event` (Unix seconds; `ts_epoch` in
//! milliseconds, `date_event`), `message-id`, `reason`, `tag`, and
//! `camp_id` for campaigns. Others (request, opened, click, blocked,
//! error, ...) are ignored.

use serde_json::Value;

use super::{
    Accepted, Provider, Refusal, Request, each_event, json, message_id,
    scalar, text, time_of,
};
use crate::ledger::webhook::PlatformEvent;
use crate::model::{EventType, Reason, Row};
use crate::serve::auth::HeaderAuth;

/// The Brevo endpoint.
pub(crate) struct Brevo {
    /// Its credentials.
    pub auth: HeaderAuth,
}

impl Provider for Brevo {
    fn name(&self) -> &'static str {
        "brevo"
    }

    fn accept(&self, req: &Request<'_>) -> Result<Accepted, Refusal> {
        self.auth.check(req.headers)?;
        each_event(&json(req.body)?, event)
    }
}

/// One event object.
fn event(v: &Value) -> Result<Option<Vec<PlatformEvent>>, String> {
    let name = text(v, "event").ok_or("no \"event\"")?;
    let (kind, hint) = match name {
        // Brevo: "the email address doesn't exist or the domain is
        // invalid"; the reason text, when given, is weighed first.
        "hard_bounce" | "hardBounce" => {
            (EventType::Bounce, Some(Reason::UserUnknown))
        }
        "soft_bounce" | "softBounce" => {
            (EventType::Bounce, Some(Reason::Transient))
        }
        "invalid_email" => (EventType::Bounce, Some(Reason::SyntaxError)),
        "deferred" => (EventType::Delay, None),
        "delivered" => (EventType::Delivered, None),
        "spam" => (EventType::Complaint, None),
        "unsubscribed" | "unsubscribe" => (EventType::Unsubscribe, None),
        _ => return Ok(None),
    };
    let email = text(v, "email").ok_or("no \"email\"")?;
    let time = time_of(v, "ts_event")
        .or_else(|| time_of(v, "ts_epoch"))
        .or_else(|| time_of(v, "date_event"))
        .or_else(|| time_of(v, "ts"));
    let msg = text(v, "message-id");
    Ok(Some(vec![PlatformEvent {
        row: Row {
            recipient: Some(email.to_string()),
            kind: Some(kind),
            diagnostic: text(v, "reason").map(str::to_string),
            reason: hint,
            ..Row::default()
        },
        time,
        campaign_id: scalar(v, "camp_id").or_else(|| scalar(v, "tag")),
        original_message_id: msg.map(message_id),
        id: format!(
            "brevo\0{name}\0{email}\0{}\0{}",
            msg.unwrap_or(""),
            time.unwrap_or_default()
        ),
    }]))
}
