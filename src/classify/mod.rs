//! Classification: from reply code, enhanced status, diagnostic text, event
//! type, remote MTA and recipient domain to a reason, class code, category
//! and recommended action, naming the rule that decided.
//!
//! The order (first hit wins):
//! 1. the event type (complaint, auto-reply, unsubscribe, receipt; the
//!    feedback types that are no complaint, `feedback.rs`);
//! 2. the operator's own phrase rules (`--rules`, [`Rules::load`]);
//! 3. the receiving provider's own texts ([`provider`]);
//! 4. the diagnostic's phrases ([`text`]): specific text beats a bare code;
//! 5. the reason the format itself states (detector hint);
//! 6. the enhanced status code ([`status`]);
//! 7. the failed SMTP command (a refused HELO/MAIL is the sender's side);
//! 8. the reply code class (5xx generic, 4xx soft);
//! 9. undetermined.
//!
//! The rules of 2 to 4 are data (`rules/`, format: `docs/rules.md`). The
//! SMTP command the reply answered then refines a phrase's or a code's
//! verdict (`refine.rs`): a "no such address" answer to MAIL FROM is about
//! the sender, one given only after DATA (the recipient was accepted at
//! RCPT) is a filter, and a refusal at connect or HELO is a block of the
//! sending host.
//!
//! Delay warnings keep the reason but their action is `ignore`: the message
//! is still queued. `record.rs` writes a decision into a record.

pub mod advice;
mod feedback;
pub mod provider;
mod record;
mod refine;
pub mod rules;
pub mod status;
pub mod text;

pub use crate::model::{Meaning, Reason, class_name};
pub use record::{Memo, apply, apply_with};
pub use rules::Rules;

use std::sync::LazyLock;

use regex::Regex;

use crate::model::{Action, EventType};
use crate::parse::fields;
use refine::{confirm, refine_by_command, verb};

/// What the classifier looks at.
#[derive(Debug, Clone, Default)]
pub struct Input<'a> {
    /// Event type (bounce when unknown).
    pub kind: Option<EventType>,
    /// Enhanced status code.
    pub status: Option<&'a str>,
    /// SMTP reply code.
    pub reply_code: Option<&'a str>,
    /// Diagnostic text.
    pub diagnostic: Option<&'a str>,
    /// Remote MTA host.
    pub remote_mta: Option<&'a str>,
    /// Recipient address.
    pub recipient: Option<&'a str>,
    /// Failed SMTP command.
    pub command: Option<&'a str>,
    /// Reason stated by the format.
    pub hint: Option<Reason>,
    /// Feedback-Type of a feedback report (RFC 5965), lower-case.
    pub feedback_type: Option<&'a str>,
}

/// The classifier's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Fine reason.
    pub reason: Reason,
    /// Class, category, action and retry delay.
    pub meaning: Meaning,
    /// The rule that decided (`text:user_unknown`, `status:5.1.1`, ...).
    pub rule: String,
    /// Receiving provider, when known.
    pub provider: Option<&'static str>,
}

impl Decision {
    /// One line saying why: the rule and what it looked at.
    pub fn explain(&self, input: &Input<'_>) -> String {
        let m = &self.meaning;
        format!(
            "rule {} gave reason {} (class {}, {}, action {}); looked at type={} status={} reply={} provider={} diagnostic={:?}",
            self.rule,
            self.reason.name(),
            m.class.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            m.category.as_str(),
            m.action.as_str(),
            input.kind.map(EventType::as_str).unwrap_or("bounce"),
            input.status.unwrap_or("-"),
            input.reply_code.unwrap_or("-"),
            self.provider.unwrap_or("-"),
            input.diagnostic.unwrap_or(""),
        )
    }
}

/// Classifies one input; the operator's `local` rules
/// ([`Rules::default`] for none) decide before the built-in ones.
pub fn decide(input: &Input<'_>, local: &Rules) -> Decision {
    let kind = input.kind.unwrap_or(EventType::Bounce);
    let provider = provider::identify(
        input.remote_mta,
        input.diagnostic,
        input.recipient,
    );
    let provider_name = provider.map(provider::name);
    let fixed = match kind {
        EventType::Complaint => Some(feedback::meaning(input.feedback_type)),
        EventType::AutoReply => {
            Some((Reason::Vacation, "type:auto_reply".to_string()))
        }
        EventType::Unsubscribe => {
            Some((Reason::Unsubscribe, "type:unsubscribe".to_string()))
        }
        EventType::Delivered => {
            Some((Reason::Delivered, "type:delivered".to_string()))
        }
        EventType::Bounce | EventType::Delay => None,
    };
    // The type alone decides: the texts and codes need not be read.
    if let Some((reason, rule)) = fixed {
        return Decision {
            reason,
            meaning: reason.meaning(),
            rule,
            provider: provider_name,
        };
    }
    let (diag, quoted_status) = match quoted_reply(input.diagnostic) {
        Some(reply) => (reply, fields::status_in(reply)),
        None => (input.diagnostic.unwrap_or(""), None),
    };
    let embedded =
        quoted_status.or_else(|| specific_status(input.status, diag));
    let status = embedded.as_deref().or(input.status);
    let code_class = status
        .and_then(|s| s.chars().next())
        .or_else(|| input.reply_code.and_then(|r| r.chars().next()));
    // A phrase's verdict, refined by the command and the evidence.
    let phrase = |(r, id): (Reason, &str)| {
        let d = (soften(r, code_class), id.to_string());
        confirm(refine_by_command(d, input.command, status), input, status)
    };
    let (reason, rule) = local
        .lookup(status, diag)
        .map(|r| phrase((r.reason(), r.id())))
        .or_else(|| {
            provider.and_then(|p| provider::lookup(p, status, diag)).map(
                |(r, id)| (soften(r, code_class), format!("provider:{id}")),
            )
        })
        .or_else(|| text::lookup(diag).map(phrase))
        .or_else(|| {
            input.hint.map(|r| (soften(r, code_class), "detector".to_string()))
        })
        .or_else(|| {
            status
                .and_then(status::lookup)
                .map(|d| refine_by_command(d, input.command, status))
        })
        .or_else(|| command_rule(input.command, code_class))
        .or_else(|| reply_rule(input.reply_code, code_class))
        .unwrap_or_else(|| {
            if kind == EventType::Delay {
                (Reason::Expired, "type:delay".to_string())
            } else {
                (Reason::Undetermined, "fallback:undetermined".to_string())
            }
        });
    let mut meaning = reason.meaning();
    if kind == EventType::Delay {
        meaning.action = Action::Ignore;
        meaning.retry_after_secs = None;
    }
    Decision { reason, meaning, rule, provider: provider_name }
}

/// Amazon SES states its own reading of a failure (a status and its
/// description) and then quotes the remote server's reply:
/// `5.1.0 - Unknown address error 550-'5.7.1 <a@b>... Access denied'
/// (delivery attempts: 0)`. The quoted reply is what the receiver said:
/// its text and its own status decide, not SES's gloss.
static QUOTED_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[245]\.\d{1,3}\.\d{1,3} - [^']*?\b[245]\d\d[- ]'(.+)'(?:\s*\(delivery attempts: \d+\))?\s*$")
        .expect("quoted reply pattern compiles")
});

/// The remote reply quoted in a reporting MTA's gloss (see
/// [`QUOTED_REPLY`]).
fn quoted_reply(diag: Option<&str>) -> Option<&str> {
    let d = diag?;
    if !d.contains(" - ") {
        return None;
    }
    QUOTED_REPLY.captures(d).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// A generic status (`5.0.0`, `4.0.0`: the reporting MTA's own summary)
/// gives way to a specific code of the same class quoted in the remote
/// reply (`550 #5.1.0 Address rejected`).
fn specific_status(status: Option<&str>, diag: &str) -> Option<String> {
    let s = status?;
    if !s.ends_with(".0.0") {
        return None;
    }
    fields::status_in(diag).filter(|e| e.get(..2) == s.get(..2) && e != s)
}

/// A permanent recipient verdict (user unknown, host unknown) drawn from
/// text never suppresses when the codes say the failure is temporary.
fn soften(r: Reason, code_class: Option<char>) -> Reason {
    if code_class == Some('4') && r.meaning().action == Action::Suppress {
        match r {
            Reason::HostUnknown | Reason::NotAccept => Reason::NetworkError,
            _ => Reason::Transient,
        }
    } else {
        r
    }
}

fn command_rule(
    command: Option<&str>,
    class: Option<char>,
) -> Option<(Reason, String)> {
    let c = verb(command)?;
    let r = match (c, class) {
        ("HELO" | "EHLO", _) | ("CONN", Some('5')) => Reason::BlockedIp,
        ("MAIL", _) => Reason::SenderRejected,
        ("CONN", _) => Reason::NetworkError,
        _ => return None,
    };
    Some((r, format!("command:{}", c.to_ascii_lowercase())))
}

fn reply_rule(
    reply: Option<&str>,
    class: Option<char>,
) -> Option<(Reason, String)> {
    match reply {
        Some("421") => Some((Reason::TooManyConnections, "reply:421".into())),
        Some("450" | "451") => {
            Some((Reason::Transient, format!("reply:{}", reply?)))
        }
        Some("452") => Some((Reason::SystemFull, "reply:452".into())),
        Some("552") => Some((Reason::ExceedLimit, "reply:552".into())),
        Some("553") => Some((Reason::UserUnknown, "reply:553".into())),
        _ => match class? {
            '5' => Some((Reason::Failed, "reply:5xx".into())),
            '4' => Some((Reason::Transient, "reply:4xx".into())),
            _ => None,
        },
    }
}

/// Classifies a pasted SMTP response (`550 5.7.26 ...`) with the
/// operator's `local` rules: codes are taken from the text.
pub fn decide_text(
    response: &str,
    local: &Rules,
) -> (Decision, Option<String>, Option<String>) {
    let status = fields::status_in(response);
    let reply = fields::reply_code_in(response);
    let recipient = fields::address_in(response);
    let d = decide(
        &Input {
            status: status.as_deref(),
            reply_code: reply.as_deref(),
            diagnostic: Some(response),
            recipient: recipient.as_deref(),
            ..Input::default()
        },
        local,
    );
    (d, status, reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide_for(status: &str, reply: &str, diag: &str) -> Decision {
        decide(
            &Input {
                status: Some(status),
                reply_code: Some(reply),
                diagnostic: Some(diag),
                recipient: Some("a@example.org"),
                ..Input::default()
            },
            &Rules::default(),
        )
    }

    #[test]
    fn text_beats_the_bare_code() {
        let d = decide_for("5.1.1", "550", "too many recipients");
        assert_eq!(d.reason, Reason::ExceedLimit);
        let d = decide_for("5.0.0", "550", "mailbox full");
        assert_eq!(d.meaning.class, Some(22));
    }

    #[test]
    fn sender_side_failures_alert() {
        let d = decide_for(
            "5.7.26",
            "550",
            "Unauthenticated email is not accepted due to DMARC policy",
        );
        assert_eq!(d.meaning.action, Action::Alert);
        let d = decide_for(
            "5.7.1",
            "554",
            "client host blocked using zen.spamhaus.org",
        );
        assert_eq!(
            (d.meaning.class, d.meaning.action),
            (Some(51), Action::Alert)
        );
    }

    #[test]
    fn transient_codes_never_suppress() {
        let d = decide_for("4.1.1", "450", "user unknown");
        assert_eq!(d.meaning.action, Action::Retry);
    }

    #[test]
    fn codes_alone_decide_when_text_is_silent() {
        let d = decide_for("5.1.1", "550", "nope");
        assert_eq!(
            (d.reason, d.rule.as_str()),
            (Reason::UserUnknown, "status:5.1.1")
        );
        let d = decide_for("", "550", "");
        assert_eq!(d.reason, Reason::Failed);
    }

    #[test]
    fn the_reply_quoted_by_amazon_ses_decides() {
        let d = decide_for(
            "5.1.0",
            "550",
            "5.1.0 - Unknown address error 550-'5.7.1 <a@example.org>... Access denied' (delivery attempts: 0)",
        );
        assert_eq!(
            (d.reason, d.meaning.action, d.rule.as_str()),
            (Reason::SecurityError, Action::Alert, "text:security")
        );
        let d = decide_for(
            "5.1.1",
            "550",
            "5.1.1 - Bad destination mailbox address 550-'5.1.1 <a@example.org>: Recipient address rejected: User unknown' (delivery attempts: 0)",
        );
        assert_eq!(d.meaning.action, Action::Suppress);
        assert_eq!(quoted_reply(Some("550 5.1.1 - see below")), None);
    }

    #[test]
    fn a_generic_status_gives_way_to_the_quoted_code() {
        let d = decide_for("5.0.0", "550", "550 #5.1.0 Address rejected.");
        assert_eq!(
            (d.reason, d.rule.as_str()),
            (Reason::UserUnknown, "status:5.1.0")
        );
    }

    #[test]
    fn delays_are_ignored() {
        let d = decide(
            &Input {
                kind: Some(EventType::Delay),
                recipient: Some("a@b.example"),
                ..Input::default()
            },
            &Rules::default(),
        );
        assert_eq!(d.meaning.action, Action::Ignore);
    }

    /// The operator's rules decide before the provider's and the built-in
    /// phrases, and are refined like them.
    #[test]
    fn local_rules_come_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("local.rules");
        std::fs::write(
            &path,
            "[held] filtered\nheld for review  e.g. 550 Held for review\n\
             [gone] user_unknown\nis gone  e.g. 550 a@example.org is gone\n",
        )
        .unwrap();
        let local = Rules::load(&[path]).unwrap();
        let text = "550 5.1.1 <a@gmail.com>: user unknown, held for review";
        let input = Input {
            status: Some("5.1.1"),
            diagnostic: Some(text),
            recipient: Some("a@gmail.com"),
            ..Input::default()
        };
        assert_eq!(
            decide(&input, &Rules::default()).rule,
            "text:user_unknown"
        );
        let d = decide(&input, &local);
        assert_eq!(
            (d.reason, d.rule.as_str()),
            (Reason::Filtered, "local:held")
        );
        let (d, ..) = decide_text("550 a@example.org is gone", &local);
        assert_eq!(d.rule, "local:gone+unconfirmed");
    }
}
