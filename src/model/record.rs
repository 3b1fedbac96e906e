//! The records `rebound` produces: one [`Record`] per recipient of a bounce,
//! delay warning, complaint, auto-reply, unsubscribe request or receipt.
//!
//! The field names are the output contract documented in
//! `docs/output.md` (JSON lines, CSV and the ledger all use them).

use serde::{Deserialize, Serialize};

/// What kind of event a record describes.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A delivery failure (RFC 3464 `Action: failed` or an NDR).
    Bounce,
    /// A warning that delivery is delayed; the message is still queued.
    Delay,
    /// A spam complaint (RFC 5965 feedback report).
    Complaint,
    /// An automatic reply such as an out-of-office notice (RFC 3834).
    AutoReply,
    /// A request to be removed from the list.
    Unsubscribe,
    /// A success receipt (`delivered`, `relayed`, `expanded`).
    Delivered,
}

impl EventType {
    /// The wire name (`bounce`, `delay`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Bounce => "bounce",
            EventType::Delay => "delay",
            EventType::Complaint => "complaint",
            EventType::AutoReply => "auto_reply",
            EventType::Unsubscribe => "unsubscribe",
            EventType::Delivered => "delivered",
        }
    }

    /// The event type of an RFC 3464 `Action` value (lower-case):
    /// `delayed` is a delay warning, `delivered`, `relayed` and `expanded`
    /// are receipts, anything else (`failed`, none) a bounce.
    pub fn of_action(action: Option<&str>) -> EventType {
        match action {
            Some("delayed") => EventType::Delay,
            Some("delivered" | "relayed" | "expanded") => EventType::Delivered,
            _ => EventType::Bounce,
        }
    }

    /// Parses a wire name.
    pub fn from_name(s: &str) -> Option<EventType> {
        Some(match s {
            "bounce" => EventType::Bounce,
            "delay" => EventType::Delay,
            "complaint" => EventType::Complaint,
            "auto_reply" => EventType::AutoReply,
            "unsubscribe" => EventType::Unsubscribe,
            "delivered" => EventType::Delivered,
            _ => return None,
        })
    }
}

/// Hard (permanent) or soft (temporary) failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Permanent: the address or domain will not accept mail.
    Hard,
    /// Temporary: a later attempt may succeed.
    Soft,
}

impl Category {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Hard => "hard",
            Category::Soft => "soft",
        }
    }
}

/// The recommended action for the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Stop mailing the address.
    Suppress,
    /// Try again after `retry_after_secs`.
    Retry,
    /// The sender's own setup is at fault: tell its operators; the
    /// recipient stays mailable.
    Alert,
    /// Nothing to do (auto-replies, delay warnings, receipts).
    Ignore,
}

impl Action {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Suppress => "suppress",
            Action::Retry => "retry",
            Action::Alert => "alert",
            Action::Ignore => "ignore",
        }
    }
}

/// One recipient of one report, parsed and classified.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The input the message came from (the file's path, also for every
    /// message of an mbox; `-` for stdin, or `imap:account/mailbox/uid`).
    pub file: Option<String>,
    /// Message-ID of the report itself.
    pub message_id: Option<String>,
    /// Message-ID of the message that bounced (from the returned copy).
    pub original_message_id: Option<String>,
    /// The failed recipient (Final-Recipient, or recovered).
    pub recipient: Option<String>,
    /// Original-Recipient when the report gives one.
    pub original_recipient: Option<String>,
    /// Event type.
    #[serde(rename = "type")]
    pub kind: Option<EventType>,
    /// Enhanced status code (RFC 3463), e.g. `5.1.1`.
    pub status: Option<String>,
    /// SMTP reply code, e.g. `550`.
    pub reply_code: Option<String>,
    /// Diagnostic text as the remote or reporting MTA gave it.
    pub diagnostic: Option<String>,
    /// The remote MTA that refused the message.
    pub remote_mta: Option<String>,
    /// The MTA that wrote the report.
    pub reporting_mta: Option<String>,
    /// Class code (10 invalid recipient, 22 mailbox full, ...).
    pub class: Option<u16>,
    /// Name of the class code.
    pub class_name: Option<String>,
    /// hard or soft.
    pub category: Option<Category>,
    /// Fine reason (user_unknown, mailbox_full, ...).
    pub reason: Option<String>,
    /// Recommended action.
    pub action: Option<Action>,
    /// Delay before retrying, for `retry`.
    pub retry_after_secs: Option<u64>,
    /// Receiving provider (gmail, outlook, yahoo, ...).
    pub provider: Option<String>,
    /// Campaign id from the returned message's headers.
    pub campaign_id: Option<String>,
    /// When the event happened (RFC 3339).
    pub event_time: Option<String>,
    /// The classification rule that decided the record.
    pub rule: Option<String>,
    /// The format detector that produced the record.
    pub detector: Option<String>,
    /// ARF feedback type, for complaints.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub feedback_type: Option<String>,
    /// Subject of the returned message.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub original_subject: Option<String>,
    /// From of the returned message.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub original_from: Option<String>,
    /// Will-Retry-Until of a delay warning (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub will_retry_until: Option<String>,
    /// Why the record was classified so (with `--explain`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub explain: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_map_to_types() {
        let of = EventType::of_action;
        assert_eq!(of(Some("delayed")), EventType::Delay);
        assert_eq!(of(Some("relayed")), EventType::Delivered);
        assert_eq!(of(Some("failed")), EventType::Bounce);
        assert_eq!(of(None), EventType::Bounce);
    }
}
