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
        r"(?i)(?:did not reach the following recipient(?:\(s\)|s)?|(?:delivery|message) to the following recipient(?:\(s\)|s)? (?:failed|was undeliverable)|following (?:recipient|address)(?:\(e?s\)|e?s)? (?:failed|could not be reached|had (?:permanent fatal )?errors|was undeliverable)|could not be delivered to(?: the following recipient(?:\(s\)|s)?)?|undeliverable to)\s*:?",
    )
    .unwrap()
});

/// A mail system's own mailbox.
fn from_mail_system(mail: &Mail<'_>) -> bool {
    let local = mail.from.split('@').next().unwrap_or("");
    ["mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"]
        .iter()
        .any(|d| local.eq_ignore_ascii_case(d))
}

/// Rows of a plain-text report: one per address named right after a
/// recipient phrase (on its line or the next lines up to a blank line);
/// the diagnostic is that paragraph.
fn text_rows(mail: &Mail<'_>) -> Vec<Row> {
    if !from_mail_system(mail) || !BOUNCE_SUBJECT.is_match(&mail.subject) {
        return Vec::new();
    }
    let own: Vec<String> = mail
        .header("To")
        .map(|t| addresses_in(&t))
        .unwrap_or_default()
        .into_iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let mut rows: Vec<Row> = Vec::new();
    for m in RECIPIENT_MARKER.find_iter(&mail.text) {
        let start = mail.text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        let rest = &mail.text[m.end()..];
        // The paragraph after the marker (the marker line's tail counts).
        let mut end = 0;
        for (i, line) in rest.split_inclusive('\n').enumerate() {
            if i > 0 && line.trim().is_empty() && end > 0 {
                break;
            }
            end += line.len();
            if i >= 6 {
                break;
            }
        }
        let para = &mail.text[start..m.end() + end];
        let diagnostic = para.split_whitespace().collect::<Vec<_>>().join(" ");
        for a in addresses_in(&rest[..end]) {
            let lower = a.to_ascii_lowercase();
            if own.contains(&lower)
                || rows.iter().any(|r| {
                    r.recipient.as_deref().map(str::to_ascii_lowercase)
                        == Some(lower.clone())
                })
            {
                continue;
            }
            rows.push(Row {
                recipient: Some(a),
                action: Some("failed".into()),
                diagnostic: Some(diagnostic.clone()),
                ..Row::default()
            });
        }
    }
    if rows.is_empty()
        && (mail.returned.is_some() || mail.content_type == "multipart/report")
    {
        // A report whose delivery-status part is lost or unreadable: the
        // recipient is recovered from the returned headers (or
        // X-Failed-Recipients, or VERP) when the row is completed.
        let text: String = mail.text.chars().take(400).collect();
        rows.push(Row {
            action: Some("failed".into()),
            diagnostic: Some(
                text.split_whitespace().collect::<Vec<_>>().join(" "),
            ),
            ..Row::default()
        });
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
