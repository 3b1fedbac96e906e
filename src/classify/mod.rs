//! Classification: from reply code, enhanced status, diagnostic text, event
//! type, remote MTA and recipient domain to a reason, class code, category
//! and recommended action, naming the rule that decided.
//!
//! The order (first hit wins):
//! 1. the event type (complaint, auto-reply, unsubscribe, receipt);
//! 2. the receiving provider's own texts ([`provider`]);
//! 3. the diagnostic's phrases ([`text`]): specific text beats a bare code;
//! 4. the reason the format itself states (detector hint);
//! 5. the enhanced status code ([`status`]);
//! 6. the failed SMTP command (a refused HELO/MAIL is the sender's side);
//! 7. the reply code class (5xx generic, 4xx soft);
//! 8. undetermined.
//!
//! The SMTP command the reply answered then refines a generic verdict
//! ([`refine_by_command`]): a "no such address" answer to MAIL FROM is about
//! the sender, one given only after DATA (the recipient was accepted at RCPT)
//! is a filter, and a refusal at connect or HELO is a block of the sending
//! host.
//!
//! Delay warnings keep the reason but their action is `ignore`: the message
//! is still queued.

pub mod advice;
pub mod provider;
pub mod rules;
pub mod status;
pub mod text;

pub use crate::model::{Meaning, Reason, class_name};

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Row;
use crate::model::{Action, EventType, Record};
use crate::parse::fields;

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

/// Feedback types (RFC 5965 section 7.3 registry; `auth-failure`: RFC
/// 6591) that are not the recipient's complaint. An authentication-failure
/// report (a DMARC/DKIM/SPF failure report, often sent to the same
/// mailbox) is about the sender's own setup, and a virus report about the
/// content: both alert the sender's operators and leave the recipient
/// mailable. Every other type (`abuse`, `fraud`, `other`, none) is a
/// complaint, and suppresses.
const FEEDBACK_TYPES: &[(&str, Reason, &str)] = &[
    ("auth-failure", Reason::AuthFailure, "feedback:auth_failure"),
    ("virus", Reason::Virus, "feedback:virus"),
];

/// What a feedback report of type `feedback_type` means.
fn feedback_meaning(feedback_type: Option<&str>) -> (Reason, String) {
    FEEDBACK_TYPES
        .iter()
        .find(|f| feedback_type.is_some_and(|t| t.eq_ignore_ascii_case(f.0)))
        .map_or((Reason::Complaint, "type:complaint".to_string()), |f| {
            (f.1, f.2.to_string())
        })
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

/// Classifies one input.
pub fn decide(input: &Input<'_>) -> Decision {
    let kind = input.kind.unwrap_or(EventType::Bounce);
    let (diag, quoted_status) = match quoted_reply(input.diagnostic) {
        Some(reply) => (reply, fields::status_in(reply)),
        None => (input.diagnostic.unwrap_or(""), None),
    };
    let provider = provider::identify(
        input.remote_mta,
        input.diagnostic,
        input.recipient,
    );
    let provider_name = provider.map(provider::name);
    let fixed = match kind {
        EventType::Complaint => Some(feedback_meaning(input.feedback_type)),
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
    let embedded =
        quoted_status.or_else(|| specific_status(input.status, diag));
    let status = embedded.as_deref().or(input.status);
    let code_class = status
        .and_then(|s| s.chars().next())
        .or_else(|| input.reply_code.and_then(|r| r.chars().next()));
    let (reason, rule) = fixed
        .or_else(|| {
            provider.and_then(|p| provider::lookup(p, status, diag)).map(
                |(r, id)| (soften(r, code_class), format!("provider:{id}")),
            )
        })
        .or_else(|| {
            text::lookup(diag)
                .map(|(r, id)| (soften(r, code_class), id.to_string()))
                .map(|d| refine_by_command(d, input.command, status))
                .map(|d| confirm(d, input, status))
        })
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

/// The SMTP verb of a failed command as detectors state it (`RCPT TO`,
/// `end of DATA`, `mail from:<...>`, `CONN`): upper-case, or `None`.
fn verb(command: Option<&str>) -> Option<&'static str> {
    let c = command?.to_ascii_uppercase();
    ["CONN", "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT"].into_iter().find(
        |v| c.split(|ch: char| !ch.is_ascii_alphabetic()).any(|w| w == *v),
    )
}

/// Refines a verdict drawn from generic phrases or codes with the command
/// the reply answered:
/// - to MAIL FROM, "no such user / domain" is about the envelope sender;
/// - after DATA the recipient had already been accepted at RCPT TO, so a
///   late "user unknown" is the receiver's filter, not proof that the
///   address is gone (retry; repeated failures escalate), unless the reply
///   itself carries an address status (X.1.x);
/// - at connect or HELO nothing about the message was known yet: a refusal
///   there, whatever it says, blocks the sending host.
///
/// A "user unknown" text under a policy status (X.7.x) is not taken as
/// proof that the address is gone either.
fn refine_by_command(
    (r, rule): (Reason, String),
    command: Option<&str>,
    status: Option<&str>,
) -> (Reason, String) {
    use Reason::*;
    let subject = status.and_then(|s| s.get(1..3));
    let at = verb(command);
    let refined = match (at, r) {
        (Some("MAIL"), UserUnknown | HostUnknown | HasMoved | NotAccept) => {
            SenderRejected
        }
        (Some("DATA" | "BDAT"), UserUnknown) if subject != Some(".1") => {
            Filtered
        }
        (
            Some("CONN" | "HELO" | "EHLO"),
            UserUnknown | HostUnknown | HasMoved | NotAccept | Policy
            | SecurityError | Failed | SenderRejected,
        ) => BlockedIp,
        // A policy status (X.7.x) with a "user unknown" text: the two
        // disagree, so the address is not proven gone.
        (_, UserUnknown) if subject == Some(".7") => {
            return (Filtered, format!("{rule}+policy_status"));
        }
        _ => return (r, rule),
    };
    let at = at.unwrap_or_default().to_ascii_lowercase();
    (refined, format!("{rule}+{at}"))
}

/// A "user unknown" phrase is taken as proof that the address is gone only
/// when something confirms that the receiver looked the recipient up:
/// - an address status (X.1.x);
/// - the refusal answered RCPT TO (the row's command, or a reply that
///   names the command: `550 RCPT TO:<a@b> User unknown`, `(in reply to
///   RCPT TO command)`), or the reply names the recipient first
///   the way RCPT replies do (`550 <a@b>... User unknown`, `<a@b>: ...`);
/// - the format's own verdict (detector hint) or a directory lookup
///   (`text:not_in_directory`).
///
/// Without that (no or a generic status, no command, a bare "User
/// unknown", or a mailbox status X.2.x saying the mailbox exists) the
/// phrase may come from a filter that refused the message after it was
/// accepted: `filtered`, retried, and escalated by the soft-bounce policy
/// if it keeps failing, so a dead address is still caught without
/// dropping a live one on one ambiguous reply.
fn confirm(
    (r, rule): (Reason, String),
    input: &Input<'_>,
    status: Option<&str>,
) -> (Reason, String) {
    if r != Reason::UserUnknown || rule == text::NOT_IN_DIRECTORY {
        return (r, rule);
    }
    let subject = status.and_then(|s| s.get(1..3));
    let confirmed = subject == Some(".1")
        || verb(input.command) == Some("RCPT")
        || names_rcpt_command(input.diagnostic)
        || input.hint == Some(Reason::UserUnknown)
        || (subject != Some(".2")
            && echoes_recipient(input.diagnostic, input.recipient));
    if confirmed {
        (r, rule)
    } else {
        (Reason::Filtered, format!("{rule}+unconfirmed"))
    }
}

/// Whether a reply names the RCPT TO command it answered.
fn names_rcpt_command(diag: Option<&str>) -> bool {
    diag.is_some_and(|d| {
        d.as_bytes().windows(7).any(|w| w.eq_ignore_ascii_case(b"rcpt to"))
    })
}

/// Whether a reply starts (after its codes) with the recipient's address,
/// as RCPT TO replies do: `550 5.1.1 <a@b>... User unknown`,
/// `550 <a@b>: Recipient address rejected`, `550 a@b... No such user`.
fn echoes_recipient(diag: Option<&str>, recipient: Option<&str>) -> bool {
    let (Some(diag), Some(rcpt)) = (diag, recipient) else {
        return false;
    };
    let (d, r) = (diag.as_bytes(), rcpt.as_bytes());
    // Where the reply's leading codes and punctuation end; the address
    // may start anywhere up to there (it can begin with a digit or `-`).
    let codes = d
        .iter()
        .position(|b| {
            !(b.is_ascii_digit()
                || matches!(b, b' ' | b'.' | b'-' | b':' | b'#' | b'<'))
        })
        .unwrap_or(d.len());
    (0..=codes).any(|at| {
        d.get(at..at + r.len()).is_some_and(|w| w.eq_ignore_ascii_case(r)) && {
            let after = diag.get(at + r.len()..).unwrap_or("");
            let after = after.trim_start_matches('>');
            after.starts_with("...") || after.starts_with([':', ','])
        }
    })
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

/// Classifies a row and writes the verdict into its record.
pub fn apply(row: &Row, rec: &mut Record, explain: bool) {
    apply_with(row, rec, explain, &mut Memo::default());
}

/// What a decision depends on: the classifier's input, with the recipient
/// reduced to its domain and whether the reply names it first.
type MemoKey = (Option<EventType>, [Option<String>; 7], Option<Reason>, bool);

/// The decisions already made for one message: recipients that share
/// codes, text, command, remote host and domain are classified once.
#[derive(Default)]
pub struct Memo(Vec<(MemoKey, Decision)>);

impl Memo {
    fn key(input: &Input<'_>) -> MemoKey {
        let domain = input.recipient.and_then(|r| r.rsplit_once('@'));
        let own = |v: Option<&str>| v.map(str::to_string);
        (
            input.kind,
            [
                own(input.status),
                own(input.reply_code),
                own(input.diagnostic),
                own(input.remote_mta),
                own(input.command),
                domain.map(|(_, d)| d.to_ascii_lowercase()),
                own(input.feedback_type),
            ],
            input.hint,
            echoes_recipient(input.diagnostic, input.recipient),
        )
    }
}

/// [`apply`], reusing a decision of `memo` made for the same input.
pub fn apply_with(
    row: &Row,
    rec: &mut Record,
    explain: bool,
    memo: &mut Memo,
) {
    let input = Input {
        kind: rec.kind,
        status: rec.status.as_deref(),
        reply_code: rec.reply_code.as_deref(),
        diagnostic: rec.diagnostic.as_deref(),
        remote_mta: rec.remote_mta.as_deref(),
        recipient: rec.recipient.as_deref(),
        command: row.command.as_deref(),
        hint: row.reason,
        feedback_type: rec.feedback_type.as_deref(),
    };
    let key = Memo::key(&input);
    let mut d = match memo.0.iter().find(|(k, _)| *k == key) {
        Some((_, d)) => d.clone(),
        None => {
            let d = decide(&input);
            memo.0.push((key, d.clone()));
            d
        }
    };
    // Without an address there is nothing to suppress or retry: a bounce
    // becomes class 30, a complaint or unsubscribe request is kept (it is
    // counted) but its action is `ignore`.
    if rec.recipient.is_none() {
        match input.kind {
            Some(EventType::Bounce) => {
                d.rule = format!("{}+no_recipient", d.rule);
                d.reason = Reason::NoRecipient;
                d.meaning = Reason::NoRecipient.meaning();
            }
            _ if d.meaning.action == Action::Suppress => {
                d.rule = format!("{}+no_recipient", d.rule);
                d.meaning.action = Action::Ignore;
            }
            _ => {}
        }
    }
    if explain {
        rec.explain = Some(d.explain(&input));
    }
    rec.class = d.meaning.class;
    rec.class_name = d.meaning.class.map(|c| class_name(c).to_string());
    rec.category = Some(d.meaning.category);
    rec.reason = Some(d.reason.name().to_string());
    rec.action = Some(d.meaning.action);
    rec.retry_after_secs = d.meaning.retry_after_secs;
    rec.provider = d.provider.map(str::to_string);
    rec.rule = Some(d.rule);
}

/// Classifies a pasted SMTP response (`550 5.7.26 ...`): codes are taken
/// from the text.
pub fn decide_text(
    response: &str,
) -> (Decision, Option<String>, Option<String>) {
    let status = fields::status_in(response);
    let reply = fields::reply_code_in(response);
    let recipient = fields::address_in(response);
    let d = decide(&Input {
        status: status.as_deref(),
        reply_code: reply.as_deref(),
        diagnostic: Some(response),
        recipient: recipient.as_deref(),
        ..Input::default()
    });
    (d, status, reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply that names the RCPT TO command it answered confirms its
    /// "user unknown"; qmail's rcpthosts refusal is a relaying refusal.
    #[test]
    fn replies_naming_their_stage() {
        let d = |text: &str| decide_text(text).0;
        let got = d("550 RCPT TO:<x@example.org> User unknown");
        assert_eq!(
            (got.reason, got.meaning.action),
            (Reason::UserUnknown, Action::Suppress)
        );
        let got = d("550 User unknown");
        assert_eq!(got.reason, Reason::Filtered);
        let got = d(
            "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
        );
        assert_eq!(
            (got.reason, got.rule.as_str()),
            (Reason::RelayingDenied, "text:relaying")
        );
    }

    #[test]
    fn feedback_types_that_are_no_complaint_alert() {
        let d = |t: Option<&str>| {
            decide(&Input {
                kind: Some(EventType::Complaint),
                recipient: Some("a@example.org"),
                feedback_type: t,
                ..Input::default()
            })
        };
        for (t, reason, action, rule) in [
            (
                Some("auth-failure"),
                Reason::AuthFailure,
                Action::Alert,
                "feedback:auth_failure",
            ),
            (Some("Virus"), Reason::Virus, Action::Alert, "feedback:virus"),
            (
                Some("abuse"),
                Reason::Complaint,
                Action::Suppress,
                "type:complaint",
            ),
            (
                Some("fraud"),
                Reason::Complaint,
                Action::Suppress,
                "type:complaint",
            ),
            (None, Reason::Complaint, Action::Suppress, "type:complaint"),
        ] {
            let got = d(t);
            assert_eq!(
                (got.reason, got.meaning.action, got.rule.as_str()),
                (reason, action, rule),
                "{t:?}"
            );
        }
    }

    fn decide_for(status: &str, reply: &str, diag: &str) -> Decision {
        decide(&Input {
            status: Some(status),
            reply_code: Some(reply),
            diagnostic: Some(diag),
            recipient: Some("a@example.org"),
            ..Input::default()
        })
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
    fn the_command_refines_generic_verdicts() {
        let at = |command: &str, status: &str, diag: &str| {
            decide(&Input {
                status: Some(status),
                reply_code: Some("550"),
                diagnostic: Some(diag),
                recipient: Some("a@example.org"),
                command: Some(command),
                ..Input::default()
            })
        };
        let d = at(
            "MAIL FROM",
            "5.1.0",
            "550 5.1.0 sender.example does not exist",
        );
        assert_eq!(d.reason, Reason::SenderRejected);
        let d = at("end of DATA", "5.0.0", "550 Unknown user a@example.org");
        assert_eq!(
            (d.reason, d.rule.as_str()),
            (Reason::Filtered, "text:user_unknown+data")
        );
        // An address status after DATA still says the address is gone.
        let d =
            at("DATA", "5.1.1", "550 5.1.1 <a@example.org>... User unknown");
        assert_eq!(d.meaning.action, Action::Suppress);
        let d = at("HELO", "5.0.0", "501 5.0.0 Invalid domain name");
        assert_eq!(d.reason, Reason::BlockedIp);
        let d = at(
            "RCPT",
            "5.7.1",
            "550 5.7.1 <a@example.org>: Recipient address rejected: User unknown",
        );
        assert_eq!(d.reason, Reason::Filtered);
        let d = at(
            "RCPT",
            "5.1.1",
            "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown",
        );
        assert_eq!(d.reason, Reason::UserUnknown);
    }

    #[test]
    fn an_unconfirmed_user_unknown_is_retried() {
        let with =
            |status: Option<&str>, command: Option<&str>, diag: &str| {
                decide(&Input {
                    status,
                    reply_code: Some("550"),
                    diagnostic: Some(diag),
                    recipient: Some("a@example.org"),
                    command,
                    ..Input::default()
                })
                .reason
            };
        use Reason::{Filtered, UserUnknown};
        // Nothing confirms a bare phrase.
        assert_eq!(with(None, None, "User unknown"), Filtered);
        assert_eq!(
            with(Some("5.0.0"), None, "550 unknown user <a@example.org>"),
            Filtered
        );
        // An address status, the RCPT stage, the address echoed first as
        // RCPT replies do, or a directory lookup confirm it.
        assert_eq!(with(Some("5.1.1"), None, "User unknown"), UserUnknown);
        assert_eq!(with(None, Some("RCPT TO"), "User unknown"), UserUnknown);
        assert_eq!(
            with(None, None, "550 <a@example.org>... User unknown"),
            UserUnknown
        );
        assert_eq!(
            with(None, None, "550 a@example.org: no such user"),
            UserUnknown
        );
        assert_eq!(
            with(None, None, "User a not listed in Domino Directory"),
            UserUnknown
        );
        // A mailbox status (X.2.1: the mailbox exists but is disabled)
        // outweighs the echo.
        assert_eq!(
            with(
                Some("5.2.1"),
                None,
                "550 5.2.1 <a@example.org>... User Unknown"
            ),
            Filtered
        );
    }

    #[test]
    fn an_echoed_address_may_start_like_a_code() {
        let echoes = |d: &str| echoes_recipient(Some(d), Some("12-3@x.org"));
        assert!(echoes("550 12-3@X.org... User unknown"));
        assert!(echoes("550 5.1.1 <12-3@x.org>: no such user"));
        assert!(!echoes("550 unknown user <12-3@x.org>"));
        assert!(!echoes("550 12-3@x.org is unknown"));
    }

    #[test]
    fn a_complaint_without_an_address_suppresses_nothing() {
        let row = Row::default();
        let mut rec =
            Record { kind: Some(EventType::Complaint), ..Record::default() };
        apply(&row, &mut rec, false);
        assert_eq!(rec.action, Some(Action::Ignore));
        assert_eq!(rec.reason.as_deref(), Some("complaint"));
        rec.recipient = Some("a@example.org".into());
        apply(&row, &mut rec, false);
        assert_eq!(rec.action, Some(Action::Suppress));
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
    fn delays_are_ignored_and_no_recipient_is_class_30() {
        let d = decide(&Input {
            kind: Some(EventType::Delay),
            recipient: Some("a@b.example"),
            ..Input::default()
        });
        assert_eq!(d.meaning.action, Action::Ignore);
        let mut rec = Record {
            kind: Some(EventType::Bounce),
            status: Some("5.1.1".into()),
            ..Record::default()
        };
        apply(&Row::default(), &mut rec, false);
        assert_eq!(
            (rec.class, rec.rule.as_deref()),
            (Some(30), Some("status:5.1.1+no_recipient"))
        );
    }
}
