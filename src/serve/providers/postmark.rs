//! Postmark's webhooks (<https://postmarkapp.com/developer/webhooks/webhooks-overview>):
//! no signature; Postmark sends the basic auth credentials written in the
//! webhook URL (`https://user:pass@host/webhooks/postmark`) or custom
//! headers, either of which the `[serve.postmark]` section names.
//!
//! One JSON object per request, told apart by `RecordType`
//! (<https://postmarkapp.com/developer/webhooks/bounce-webhook> and the
//! pages beside it): `Bounce` (`Type`, `Email`, `BouncedAt`, `Details`,
//! `Description`, `ID`, `Tag`), `SpamComplaint` (same fields), `Delivery`
//! (`Recipient`, `DeliveredAt`, `Details`, `MessageID`) and
//! `SubscriptionChange` (`Recipient`, `SuppressSending`,
//! `SuppressionReason`, `ChangedAt`: a `ManualSuppression` is the
//! recipient's unsubscribe). Opens and clicks are ignored.

use serde_json::Value;

use super::{
    Accepted, Provider, Refusal, Request, each_event, identity_of, json,
    scalar, text, time_of,
};
use crate::ledger::webhook::PlatformEvent;
use crate::model::{EventType, Reason, Row};
use crate::serve::auth::HeaderAuth;

/// Postmark's bounce types
/// (<https://postmarkapp.com/developer/api/bounce-api#bounce-types>): the
/// event type each becomes and the reason it states. Types not listed
/// (Subscribe, OpenRelayTest, SMTPApiError, InboundError,
/// TemplateRenderingFailed, Unconfirmed) say nothing about the recipient
/// and are ignored.
#[rustfmt::skip]
const TYPES: &[(&str, EventType, Option<Reason>)] = &[
    ("addresschange", EventType::Bounce, Some(Reason::HasMoved)),
    ("autoresponder", EventType::AutoReply, None),
    ("bademailaddress", EventType::Bounce, Some(Reason::SyntaxError)),
    ("blocked", EventType::Bounce, Some(Reason::Blocklisted)),
    ("challengeverification", EventType::AutoReply, None),
    ("dmarcpolicy", EventType::Bounce, Some(Reason::AuthFailure)),
    ("dnserror", EventType::Bounce, Some(Reason::NetworkError)),
    ("hardbounce", EventType::Bounce, Some(Reason::UserUnknown)),
    ("manuallydeactivated", EventType::Bounce, Some(Reason::Suppressed)),
    ("softbounce", EventType::Bounce, Some(Reason::Transient)),
    ("spamcomplaint", EventType::Complaint, None),
    ("spamnotification", EventType::Bounce, Some(Reason::SpamContent)),
    ("transient", EventType::Delay, None),
    ("unknown", EventType::Bounce, None),
    ("unsubscribe", EventType::Unsubscribe, None),
    ("virusnotification", EventType::Bounce, Some(Reason::Virus)),
];

/// The Postmark endpoint.
pub(crate) struct Postmark {
    /// Its credentials.
    pub auth: HeaderAuth,
}

impl Provider for Postmark {
    fn name(&self) -> &'static str {
        "postmark"
    }

    fn accept(&self, req: &Request<'_>) -> Result<Accepted, Refusal> {
        self.auth.check(req.headers)?;
        each_event(&json(req.body)?, event)
    }
}

/// One record.
fn event(v: &Value) -> Result<Option<Vec<PlatformEvent>>, String> {
    let record = text(v, "RecordType").ok_or("no \"RecordType\"")?;
    let (kind, hint, rcpt, time, diagnostic) = match record {
        "Bounce" | "SpamComplaint" => {
            let t = text(v, "Type").unwrap_or(record).to_ascii_lowercase();
            let Some((_, kind, hint)) = TYPES.iter().find(|(n, ..)| *n == t)
            else {
                return Ok(None);
            };
            let details = [text(v, "Details"), text(v, "Description")];
            (*kind, *hint, "Email", time_of(v, "BouncedAt"), details)
        }
        "Delivery" => (
            EventType::Delivered,
            None,
            "Recipient",
            time_of(v, "DeliveredAt"),
            [text(v, "Details"), None],
        ),
        "SubscriptionChange"
            if v.get("SuppressSending") == Some(&Value::Bool(true))
                && text(v, "SuppressionReason")
                    == Some("ManualSuppression") =>
        {
            (
                EventType::Unsubscribe,
                None,
                "Recipient",
                time_of(v, "ChangedAt"),
                [None, None],
            )
        }
        _ => return Ok(None),
    };
    let email = text(v, rcpt).ok_or_else(|| format!("no \"{rcpt}\""))?;
    let diagnostic: Vec<&str> = diagnostic.into_iter().flatten().collect();
    Ok(Some(vec![PlatformEvent {
        row: Row {
            recipient: Some(email.to_string()),
            kind: Some(kind),
            diagnostic: (!diagnostic.is_empty()).then(|| diagnostic.join(" ")),
            reason: hint,
            ..Row::default()
        },
        time,
        campaign_id: scalar(v, "Tag"),
        original_message_id: None,
        id: match scalar(v, "ID") {
            Some(id) => format!("postmark\0{record}\0{id}"),
            None => identity_of("postmark", v),
        },
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(TYPES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
