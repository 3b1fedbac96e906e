//! Mailjet's event API (<https://dev.mailjet.com/email/guides/webhooks/>):
//! no signature; Mailjet sends the basic auth credentials written in the
//! endpoint URL (`https://user:pass@host/webhooks/mailjet`), which the
//! `[serve.mailjet]` section names (a token header works too).
//!
//! One event object per request, or an array of them when grouping is
//! on: `event` `bounce` (`hard_bounce`, `error_related_to`, `error`,
//! `comment`), `blocked` (Mailjet did not send; taken when the error is
//! about the recipient), `spam`, `unsub`, `sent` (accepted by the
//! receiving server: delivered, `smtp_reply`); opens and clicks are
//! ignored. Each has `email`, `time`, `Message_GUID`, `mj_campaign_id` and
//! `customcampaign`.

use serde_json::Value;

use super::{
    Accepted, Provider, Refusal, Request, each_event, json, scalar, text,
    time_of,
};
use crate::ledger::webhook::PlatformEvent;
use crate::model::{EventType, Reason, Row};
use crate::serve::auth::HeaderAuth;

/// Mailjet's error values (the page's "possible values for errors") and
/// the reasons they state.
#[rustfmt::skip]
const ERRORS: &[(&str, Reason)] = &[
    ("connection issue", Reason::NetworkError),
    ("content blocked", Reason::SpamContent),
    ("greylisted", Reason::Greylisted),
    ("invalid domain", Reason::HostUnknown),
    ("mailbox inactive", Reason::Suspended),
    ("no mail host", Reason::HostUnknown),
    ("policy issue", Reason::Policy),
    ("quota exceeded", Reason::MailboxFull),
    ("recipient blacklisted", Reason::Suppressed),
    ("relay/access denied", Reason::RelayingDenied),
    ("sender blocked", Reason::BadReputation),
    ("system issue", Reason::SystemError),
    ("user unknown", Reason::UserUnknown),
];

/// The Mailjet endpoint.
pub(crate) struct Mailjet {
    /// Its credentials.
    pub auth: HeaderAuth,
}

impl Provider for Mailjet {
    fn name(&self) -> &'static str {
        "mailjet"
    }

    fn accept(&self, req: &Request<'_>) -> Result<Accepted, Refusal> {
        self.auth.check(req.headers)?;
        each_event(&json(req.body)?, event)
    }
}

/// One event object.
fn event(v: &Value) -> Result<Option<Vec<PlatformEvent>>, String> {
    let name = text(v, "event").ok_or("no \"event\"")?;
    let about_recipient = text(v, "error_related_to") == Some("recipient");
    let kind = match name {
        "bounce" => EventType::Bounce,
        "blocked" if about_recipient => EventType::Bounce,
        "spam" => EventType::Complaint,
        "unsub" => EventType::Unsubscribe,
        "sent" => EventType::Delivered,
        _ => return Ok(None),
    };
    let email = text(v, "email").ok_or("no \"email\"")?;
    let error = text(v, "error").map(str::to_ascii_lowercase);
    let hint = error
        .as_deref()
        .and_then(|e| ERRORS.iter().find(|(n, _)| *n == e).map(|(_, r)| *r));
    let diagnostic: Vec<&str> =
        [text(v, "smtp_reply"), error.as_deref(), text(v, "comment")]
            .into_iter()
            .flatten()
            .collect();
    let guid = text(v, "Message_GUID").unwrap_or("");
    let time = time_of(v, "time");
    Ok(Some(vec![PlatformEvent {
        row: Row {
            recipient: Some(email.to_string()),
            kind: Some(kind),
            diagnostic: (!diagnostic.is_empty()).then(|| diagnostic.join(" ")),
            reason: hint,
            ..Row::default()
        },
        time,
        campaign_id: scalar(v, "customcampaign")
            .or_else(|| scalar(v, "mj_campaign_id").filter(|c| c != "0")),
        original_message_id: None,
        id: format!(
            "mailjet\0{name}\0{email}\0{guid}\0{}",
            time.unwrap_or_default()
        ),
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(ERRORS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
