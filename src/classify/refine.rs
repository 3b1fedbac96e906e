//! The SMTP command and the reply's own evidence refine a verdict drawn
//! from generic phrases or codes: the stage a refusal came at, and
//! whether anything confirms that a "user unknown" is about the
//! recipient's address.

use super::Input;
use super::text::NOT_IN_DIRECTORY;
use crate::model::Reason;

/// The SMTP verb of a failed command as detectors state it (`RCPT TO`,
/// `end of DATA`, `mail from:<...>`, `CONN`): upper-case, or `None`.
pub(super) fn verb(command: Option<&str>) -> Option<&'static str> {
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
pub(super) fn refine_by_command(
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
pub(super) fn confirm(
    (r, rule): (Reason, String),
    input: &Input<'_>,
    status: Option<&str>,
) -> (Reason, String) {
    if r != Reason::UserUnknown || rule == NOT_IN_DIRECTORY {
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
pub(super) fn echoes_recipient(
    diag: Option<&str>,
    recipient: Option<&str>,
) -> bool {
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

#[cfg(test)]
mod tests {
    use super::super::{Rules, decide, decide_text};
    use super::*;
    use crate::model::Action;

    /// A reply that names the RCPT TO command it answered confirms its
    /// "user unknown"; qmail's rcpthosts refusal is a relaying refusal.
    #[test]
    fn replies_naming_their_stage() {
        let d = |text: &str| decide_text(text, &Rules::default()).0;
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
    fn the_command_refines_generic_verdicts() {
        let at = |command: &str, status: &str, diag: &str| {
            decide(
                &Input {
                    status: Some(status),
                    reply_code: Some("550"),
                    diagnostic: Some(diag),
                    recipient: Some("a@example.org"),
                    command: Some(command),
                    ..Input::default()
                },
                &Rules::default(),
            )
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
                decide(
                    &Input {
                        status,
                        reply_code: Some("550"),
                        diagnostic: Some(diag),
                        recipient: Some("a@example.org"),
                        command,
                        ..Input::default()
                    },
                    &Rules::default(),
                )
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
}
