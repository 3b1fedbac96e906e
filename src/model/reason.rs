//! The fine reason vocabulary and, per reason, its class code, category and
//! recommended action (`docs/policy.md`: classification table,
//! suppression and retry).

use super::record::{Action, Category};

/// Why a recipient bounced. The wire name is [`Reason::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The mailbox does not exist.
    UserUnknown,
    /// The recipient has moved; the address is gone.
    HasMoved,
    /// The domain does not exist or has no mail host.
    HostUnknown,
    /// The domain accepts no mail (null MX, RFC 7505).
    NotAccept,
    /// The mailbox is disabled or suspended.
    Suspended,
    /// DNS or network failure on the way.
    NetworkError,
    /// The mailbox is full.
    MailboxFull,
    /// The receiving system is out of storage.
    SystemFull,
    /// The message is larger than the recipient accepts.
    MessageTooBig,
    /// A size or count limit of the recipient was exceeded.
    ExceedLimit,
    /// Delivery time expired in the queue.
    Expired,
    /// Refused by the sender's own platform (already suppressed).
    Suppressed,
    /// The sending IP is blocked.
    BlockedIp,
    /// The sender is on a block list (DNSBL / RBL).
    Blocklisted,
    /// Poor sender reputation or complaints.
    BadReputation,
    /// The sending IP has no or a mismatched reverse DNS.
    RequirePtr,
    /// SPF, DKIM or DMARC failed.
    AuthFailure,
    /// The envelope sender was refused.
    SenderRejected,
    /// Refused by the receiver's policy.
    Policy,
    /// A security or TLS requirement failed.
    SecurityError,
    /// STARTTLS was required and failed.
    FailedStarttls,
    /// The content was judged spam.
    SpamContent,
    /// The content broke a content rule.
    ContentError,
    /// A virus or forbidden attachment.
    Virus,
    /// The host refused to relay.
    RelayingDenied,
    /// Sending too fast.
    RateLimited,
    /// Too many connections.
    TooManyConnections,
    /// Greylisted: try later.
    Greylisted,
    /// A temporary failure with no more specific reason.
    Transient,
    /// Rejected by the recipient's filter.
    Filtered,
    /// The receiving program failed.
    MailerError,
    /// The receiving system failed.
    SystemError,
    /// An SMTP syntax or protocol error.
    SyntaxError,
    /// The message is not RFC compliant.
    NotCompliant,
    /// A permanent failure with no more specific reason.
    Failed,
    /// The report could not be understood.
    Undetermined,
    /// The report names no recipient.
    NoRecipient,
    /// Out-of-office or vacation reply.
    Vacation,
    /// Unsubscribe request.
    Unsubscribe,
    /// Spam complaint.
    Complaint,
    /// Delivered (success receipt).
    Delivered,
}

/// What a reason implies: class, category, action and retry delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meaning {
    /// Class code; `None` for complaints and receipts.
    pub class: Option<u16>,
    /// Hard or soft.
    pub category: Category,
    /// Recommended action.
    pub action: Action,
    /// Delay before a retry.
    pub retry_after_secs: Option<u64>,
}

const HOUR: u64 = 3600;

impl Reason {
    /// Every reason, for table tests and documentation.
    pub const ALL: &'static [Reason] = &[
        Reason::UserUnknown,
        Reason::HasMoved,
        Reason::HostUnknown,
        Reason::NotAccept,
        Reason::Suspended,
        Reason::NetworkError,
        Reason::MailboxFull,
        Reason::SystemFull,
        Reason::MessageTooBig,
        Reason::ExceedLimit,
        Reason::Expired,
        Reason::Suppressed,
        Reason::BlockedIp,
        Reason::Blocklisted,
        Reason::BadReputation,
        Reason::RequirePtr,
        Reason::AuthFailure,
        Reason::SenderRejected,
        Reason::Policy,
        Reason::SecurityError,
        Reason::FailedStarttls,
        Reason::SpamContent,
        Reason::ContentError,
        Reason::Virus,
        Reason::RelayingDenied,
        Reason::RateLimited,
        Reason::TooManyConnections,
        Reason::Greylisted,
        Reason::Transient,
        Reason::Filtered,
        Reason::MailerError,
        Reason::SystemError,
        Reason::SyntaxError,
        Reason::NotCompliant,
        Reason::Failed,
        Reason::Undetermined,
        Reason::NoRecipient,
        Reason::Vacation,
        Reason::Unsubscribe,
        Reason::Complaint,
        Reason::Delivered,
    ];

    /// The wire name (`user_unknown`, ...).
    pub fn name(self) -> &'static str {
        use Reason::*;
        match self {
            UserUnknown => "user_unknown",
            HasMoved => "has_moved",
            HostUnknown => "host_unknown",
            NotAccept => "not_accept",
            Suspended => "suspended",
            NetworkError => "network_error",
            MailboxFull => "mailbox_full",
            SystemFull => "system_full",
            MessageTooBig => "message_too_big",
            ExceedLimit => "exceed_limit",
            Expired => "expired",
            Suppressed => "suppressed",
            BlockedIp => "blocked_ip",
            Blocklisted => "blocklisted",
            BadReputation => "bad_reputation",
            RequirePtr => "require_ptr",
            AuthFailure => "auth_failure",
            SenderRejected => "sender_rejected",
            Policy => "policy",
            SecurityError => "security_error",
            FailedStarttls => "failed_starttls",
            SpamContent => "spam_content",
            ContentError => "content_error",
            Virus => "virus",
            RelayingDenied => "relaying_denied",
            RateLimited => "rate_limited",
            TooManyConnections => "too_many_connections",
            Greylisted => "greylisted",
            Transient => "transient",
            Filtered => "filtered",
            MailerError => "mailer_error",
            SystemError => "system_error",
            SyntaxError => "syntax_error",
            NotCompliant => "not_compliant",
            Failed => "failed",
            Undetermined => "undetermined",
            NoRecipient => "no_recipient",
            Vacation => "vacation",
            Unsubscribe => "unsubscribe",
            Complaint => "complaint",
            Delivered => "delivered",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.name() == name)
    }

    /// Class, category and action of the reason (`docs/policy.md`,
    /// classification table).
    pub fn meaning(self) -> Meaning {
        use Reason::*;
        let (class, category, action, retry) = match self {
            UserUnknown | HasMoved | HostUnknown | NotAccept => {
                (Some(10), Category::Hard, Action::Suppress, None)
            }
            Transient => (Some(20), Category::Soft, Action::Retry, Some(HOUR)),
            NetworkError => {
                (Some(21), Category::Soft, Action::Retry, Some(HOUR))
            }
            MailboxFull | SystemFull => {
                (Some(22), Category::Soft, Action::Retry, Some(24 * HOUR))
            }
            MessageTooBig | ExceedLimit => {
                (Some(23), Category::Soft, Action::Retry, Some(HOUR))
            }
            Expired => (Some(24), Category::Soft, Action::Retry, Some(HOUR)),
            Suppressed => (Some(25), Category::Hard, Action::Suppress, None),
            NoRecipient => (Some(30), Category::Hard, Action::Ignore, None),
            Suspended | Filtered | MailerError | SystemError | SyntaxError
            | NotCompliant | Failed => {
                (Some(40), Category::Soft, Action::Retry, Some(HOUR))
            }
            RequirePtr | AuthFailure | SenderRejected | Policy
            | SecurityError | FailedStarttls => {
                (Some(50), Category::Hard, Action::Alert, None)
            }
            BlockedIp | Blocklisted | BadReputation => {
                (Some(51), Category::Hard, Action::Alert, None)
            }
            SpamContent | ContentError => {
                (Some(52), Category::Hard, Action::Alert, None)
            }
            Virus => (Some(53), Category::Hard, Action::Alert, None),
            RelayingDenied => (Some(54), Category::Hard, Action::Alert, None),
            Vacation => (Some(60), Category::Soft, Action::Ignore, None),
            RateLimited | TooManyConnections => {
                (Some(70), Category::Soft, Action::Retry, Some(4 * HOUR))
            }
            Greylisted => {
                (Some(70), Category::Soft, Action::Retry, Some(HOUR))
            }
            Unsubscribe => (Some(90), Category::Hard, Action::Suppress, None),
            Undetermined => {
                (Some(1), Category::Soft, Action::Retry, Some(HOUR))
            }
            Complaint => (None, Category::Hard, Action::Suppress, None),
            Delivered => (None, Category::Soft, Action::Ignore, None),
        };
        Meaning { class, category, action, retry_after_secs: retry }
    }
}

/// The public name of a class code (`docs/policy.md`, classification
/// table).
pub fn class_name(class: u16) -> &'static str {
    match class {
        1 => "Undetermined",
        10 => "Invalid Recipient",
        20 => "Soft Bounce",
        21 => "DNS Failure",
        22 => "Mailbox Full",
        23 => "Too Large",
        24 => "Timeout",
        25 => "Admin Failure",
        30 => "Generic Bounce: No RCPT",
        40 => "Generic Bounce",
        50 => "Mail Block",
        51 => "Spam Block",
        52 => "Spam Content",
        53 => "Prohibited Attachment",
        54 => "Relaying Denied",
        60 => "Auto-Reply",
        70 => "Transient Failure",
        90 => "Unsubscribe",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_a_unique_name_and_a_named_class() {
        let mut names = std::collections::HashSet::new();
        for r in Reason::ALL {
            assert!(names.insert(r.name()), "{r:?}");
            assert_eq!(Reason::from_name(r.name()), Some(*r));
            if let Some(c) = r.meaning().class {
                assert_ne!(class_name(c), "Unknown", "{r:?}");
            }
        }
    }

    #[test]
    fn only_recipient_problems_suppress_among_bounces() {
        for r in Reason::ALL {
            let m = r.meaning();
            if m.action == Action::Suppress {
                assert!(matches!(m.class, Some(10 | 25 | 90) | None), "{r:?}");
            }
            if m.action == Action::Alert {
                assert!(matches!(m.class, Some(50..=54)), "{r:?}");
            }
            if m.action == Action::Retry {
                assert!(m.retry_after_secs.is_some(), "{r:?}");
            }
        }
    }
}
