//! RFC 3464 delivery status notifications (RFC 6522 multipart/report with a
//! message/delivery-status part) and RFC 6533 global DSNs, from any MTA
//! that no more specific detector claimed; also DSN fields that lost their
//! MIME part and stand in the text.
//!
//! Last resort for plain-text reports no vendor detector knows: a message
//! from a mail system (mailer-daemon, postmaster) with a non-delivery
//! subject whose text names the failed recipients after a standard phrase
//! ("Did not reach the following recipient(s):", "could not be delivered
//! to:"). The codes and reason then come from the text around them. When
//! no phrase names anyone but the original came back (or the message is a
//! multipart/report whose delivery-status part is unreadable), one row
//! without a recipient stands for it (the parser recovers the recipient
//! from the returned headers or a VERP address).

use std::sync::LazyLock;

use regex::Regex;

use super::{Detector, Row};
use crate::parse::Mail;
use crate::parse::fields::addresses_in;
use crate::parse::returned;

/// The standard DSN detector.
pub struct Rfc3464;

/// Subjects of non-delivery reports (RFC 3464 does not fix one; these are
/// the common defaults of MTAs and gateways).
static BOUNCE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:undeliver(?:able|ed)|returned mail|delivery (?:status notification|failure|has failed|notification)|mail delivery (?:failed|failure|system)|non[- ]?delivery|failure notice|undelivered mail|message (?:not delivered|delivery failure)|could not send message)",
    )
    .unwrap()
});

/// Phrases after which a plain-text report names the failed recipients.
static RECIPIENT_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:did not reach the following recipient(?:\(s\)|s)?|(?:delivery|message) to the following recipient(?:\(s\)|s)? (?:failed|was undeliverable)|following (?:recipient|address)(?:\(e?s\)|e?s)? (?:failed|could not be reached|had (?:permanent |transient )?(?:fatal |delivery )?errors|was undeliverable)|(?:to|for) the following (?:recipient|address)(?:\(e?s\)|e?s)?|could not be delivered to(?: the following recipient(?:\(s\)|s)?)?|undeliverable to)\s*:?",
    )
    .unwrap()
});

/// Notes that name the address a failed one was expanded from (Exim's
/// "(ultimately generated from x)", Sendmail's "(expanded from: x)"):
/// that address did not fail itself.
static ALIAS_NOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\(\s*(?:ultimately )?(?:generated|expanded) from:?[^)]*\)",
    )
    .unwrap()
});

/// Mail from a mail system's own mailbox.
fn from_mail_system(mail: &Mail<'_>) -> bool {
    is_system_address(&mail.from)
}

/// The length of the first paragraph of `text`: the rest of the current
/// line, or, when that is blank, the next lines up to a blank line (at
/// most a few lines).
fn paragraph_end(text: &str) -> usize {
    let mut end = 0;
    let mut seen = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let blank = line.trim().is_empty();
        if blank && seen || i > 8 {
            break;
        }
        seen |= !blank;
        end += line.len();
    }
    end
}

/// True for the mailbox of a mail system rather than a person.
fn is_system_address(addr: &str) -> bool {
    let local = addr.split('@').next().unwrap_or("");
    ["mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"]
        .iter()
        .any(|d| local.eq_ignore_ascii_case(d))
}

/// Rows of a plain-text report: one per address named right after a
/// recipient phrase (on its line or the next lines up to a blank line);
/// the diagnostic is that paragraph. Only the report's own text counts,
/// not a copy of the original pasted after it.
fn text_rows(mail: &Mail<'_>) -> Vec<Row> {
    if !from_mail_system(mail) || !BOUNCE_SUBJECT.is_match(&mail.subject) {
        return Vec::new();
    }
    let text = &mail.text
        [..returned::inline_start(&mail.text).unwrap_or(mail.text.len())];
    // Addresses that are not the failed recipient: the report's own
    // recipient (the sender of the original) and the original's sender.
    let mut not_rcpt: Vec<String> = ["To", "From"]
        .iter()
        .filter_map(|h| mail.header(h))
        .flat_map(|v| addresses_in(&v))
        .collect();
    if let Some(r) = &mail.returned {
        not_rcpt.extend(r.from());
        not_rcpt.extend(r.return_path());
    }
    let wanted = |a: &String| {
        !is_system_address(a)
            && !not_rcpt.iter().any(|n| n.eq_ignore_ascii_case(a))
    };
    let mut rows: Vec<Row> = Vec::new();
    let push = |rows: &mut Vec<Row>, a: String, diagnostic: &str| {
        if !rows.iter().any(|r| {
            r.recipient.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(&a))
        }) {
            rows.push(Row {
                recipient: Some(a),
                action: Some("failed".into()),
                diagnostic: Some(diagnostic.to_string()),
                ..Row::default()
            });
        }
    };
    for m in RECIPIENT_MARKER.find_iter(text) {
        let start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        let rest = &text[m.end()..];
        // The recipients stand in the paragraph after the marker; the
        // reason often in the one after that.
        let end = paragraph_end(rest);
        let diag_end = end + paragraph_end(&rest[end..]);
        let para = &text[start..m.end() + diag_end];
        let diagnostic = para.split_whitespace().collect::<Vec<_>>().join(" ");
        let named = ALIAS_NOTE.replace_all(&rest[..end], "");
        for a in addresses_in(&named).into_iter().filter(wanted) {
            push(&mut rows, a, &diagnostic);
        }
    }
    let is_report =
        mail.returned.is_some() || mail.content_type == "multipart/report";
    if rows.is_empty() && is_report {
        // No phrase names the recipients, or the delivery-status part is
        // lost or unreadable. The recipients are the addresses the text
        // names that the original was sent to; failing that, any address
        // it names; failing that, a row without a recipient, which the
        // parser completes from the returned headers or a VERP address.
        let short: String = text.chars().take(400).collect();
        let diagnostic =
            short.split_whitespace().collect::<Vec<_>>().join(" ");
        let named: Vec<String> =
            addresses_in(text).into_iter().filter(wanted).collect();
        let sent_to: Vec<String> =
            mail.returned.as_ref().map(|r| r.to()).unwrap_or_default();
        let both: Vec<String> = named
            .iter()
            .filter(|a| sent_to.iter().any(|t| t.eq_ignore_ascii_case(a)))
            .cloned()
            .collect();
        for a in if both.is_empty() { named } else { both } {
            push(&mut rows, a, &diagnostic);
        }
        if rows.is_empty() {
            rows.push(Row {
                action: Some("failed".into()),
                diagnostic: Some(diagnostic),
                ..Row::default()
            });
        }
    }
    rows
}

impl Detector for Rfc3464 {
    fn id(&self) -> &'static str {
        "rfc3464"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.dsn.is_some() || from_mail_system(mail)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        if mail.dsn.is_some() {
            return Some(mail.dsn_rows());
        }
        Some(text_rows(mail))
    }
}
