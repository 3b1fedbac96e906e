//! SparkPost's event webhooks (<https://developers.sparkpost.com/api/webhooks/>):
//! no signature; SparkPost sends basic auth credentials (`auth_type`
//! `basic`) or custom headers, which the `[serve.sparkpost]` section
//! names.
//!
//! The body is a JSON array of `{"msys": {"<class>_event": {...}}}`
//! (<https://developers.sparkpost.com/api/events/>): `message_event` of
//! `type` `bounce` and `out_of_band` (bounces), `delay`, `delivery`,
//! `spam_complaint` (`fbtype`), and `unsubscribe_event` (`list_unsubscribe`,
//! `link_unsubscribe`). Each has `rcpt_to`, `timestamp` (Unix seconds as
//! text), `event_id` (its identity), `raw_reason`, `error_code`,
//! `bounce_class` and `campaign_id`. Other events, and the empty `msys`
//! SparkPost sends to test a new webhook, are ignored.

use serde_json::Value;

use super::{
    Accepted, Provider, Refusal, Request, each_event, identity_of, json,
    scalar, text, time_of,
};
use crate::ledger::webhook::PlatformEvent;
use crate::model::{EventType, Reason, Row};
use crate::serve::auth::HeaderAuth;

/// SparkPost's bounce classes
/// (<https://support.sparkpost.com/docs/deliverability/bounce-classification-codes>)
/// and the event type or reason each states.
#[rustfmt::skip]
const CLASSES: &[(&str, Option<EventType>, Option<Reason>)] = &[
    ("10", None, Some(Reason::UserUnknown)),
    ("100", Some(EventType::AutoReply), None),
    ("21", None, Some(Reason::NetworkError)),
    ("22", None, Some(Reason::MailboxFull)),
    ("23", None, Some(Reason::MessageTooBig)),
    ("24", None, Some(Reason::Expired)),
    ("25", None, Some(Reason::Suppressed)),
    ("50", None, Some(Reason::Blocklisted)),
    ("51", None, Some(Reason::Blocklisted)),
    ("52", None, Some(Reason::SpamContent)),
    ("53", None, Some(Reason::ContentError)),
    ("54", None, Some(Reason::RelayingDenied)),
    ("60", Some(EventType::AutoReply), None),
    ("70", None, Some(Reason::Transient)),
    ("90", Some(EventType::Unsubscribe), None),
];

/// The SparkPost endpoint.
pub(crate) struct SparkPost {
    /// Its credentials.
    pub auth: HeaderAuth,
}

impl Provider for SparkPost {
    fn name(&self) -> &'static str {
        "sparkpost"
    }

    fn accept(&self, req: &Request<'_>) -> Result<Accepted, Refusal> {
        self.auth.check(req.headers)?;
        each_event(&json(req.body)?, event)
    }
}

/// One `{"msys": ...}` item.
fn event(item: &Value) -> Result<Option<Vec<PlatformEvent>>, String> {
    let msys = item.get("msys").ok_or("no \"msys\"")?;
    let (v, kind) = if let Some(v) = msys.get("message_event") {
        let kind = match text(v, "type").unwrap_or("") {
            "bounce" | "out_of_band" => EventType::Bounce,
            "delay" => EventType::Delay,
            "delivery" => EventType::Delivered,
            "spam_complaint" => EventType::Complaint,
            _ => return Ok(None),
        };
        (v, kind)
    } else if let Some(v) = msys.get("unsubscribe_event") {
        (v, EventType::Unsubscribe)
    } else {
        return Ok(None);
    };
    let rcpt = text(v, "rcpt_to")
        .or(text(v, "raw_rcpt_to"))
        .ok_or("no \"rcpt_to\"")?;
    let class = scalar(v, "bounce_class");
    let found =
        class.as_deref().and_then(|c| CLASSES.iter().find(|(n, ..)| *n == c));
    let kind = match (kind, found) {
        (EventType::Bounce, Some((_, Some(k), _))) => *k,
        _ => kind,
    };
    Ok(Some(vec![PlatformEvent {
        row: Row {
            recipient: Some(rcpt.to_string()),
            kind: Some(kind),
            reply_code: scalar(v, "error_code"),
            diagnostic: text(v, "raw_reason")
                .or(text(v, "reason"))
                .map(str::to_string),
            feedback_type: text(v, "fbtype").map(str::to_string),
            reason: found.and_then(|(_, _, r)| *r),
            ..Row::default()
        },
        time: time_of(v, "timestamp"),
        campaign_id: scalar(v, "campaign_id"),
        original_message_id: None,
        id: text(v, "event_id")
            .map_or_else(|| identity_of("sparkpost", v), str::to_string),
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(CLASSES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
