//! RFC 3464 delivery status notifications (RFC 6522 multipart/report with a
//! message/delivery-status part) and RFC 6533 global DSNs, from any MTA
//! that no more specific detector claimed; also DSN fields that lost their
//! MIME part and stand in the text.
//!
//! Last resort (the generic reader) for plain-text reports no vendor
//! detector knows: a message from a mail system (mailer-daemon,
//! postmaster) with a non-delivery subject, or any message whose layers of
//! evidence make it a report (`scan::evidence`: sender, subject, headers,
//! failure text, returned original). Its text names the failed recipients
//! after a standard phrase ("Did not reach the following recipient(s):",
//! "could not be delivered to:", "Delivery of email to this address"), in
//! qmail's `<a@b>:` paragraphs under a provider's own opening, in a quoted
//! SMTP session or in X-Failed-Recipients. The codes and reason
//! then come from the text around them. When no phrase names anyone, one
//! row without a recipient stands for the report (the parser recovers the
//! recipient from the returned headers or a VERP address, or reports a
//! bounce without recipient): a report never silently gives nothing.
//!
//! Recipients are chosen by role: the report's own recipient (the
//! original's sender), the original's sender and return path, mail-system
//! mailboxes (the reporting postmaster), list managers' addresses and the
//! addresses a failed one was expanded from are never reported as failed.

use std::sync::LazyLock;

use regex::Regex;

use super::scan::evidence::{
    Evidence, bounce_subject, from_mail_system, from_null_sender,
    is_list_address, is_system_address,
};
use super::{Detector, qmail};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{addresses_in, clean_address};
use crate::parse::returned;

/// The standard DSN detector.
pub struct Rfc3464;

/// Phrases after which a plain-text report names the failed recipients.
static RECIPIENT_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:did not reach the following recipient(?:\(s\)|s)?|(?:delivery|message) to the following recipient(?:\(s\)|s)? (?:failed|was undeliverable)|following (?:recipient|address)(?:\(e?s\)|e?s)? (?:failed|could not be reached|had (?:permanent |transient )?(?:fatal |delivery )?errors|was undeliverable)|(?:to|for) the following (?:recipient|address)(?:\(e?s\)|e?s)?(?: (?:could not|couldn't|can ?not) be delivered| failed)?|delivery of (?:e-?mail|mail|your message|the message) to (?:this|the following) (?:address|recipient)(?:\(e?s\)|e?s)?|following recipients? did not receive (?:this|your|the) message|(?:was|were|could|can|has|have) ?(?:not|n't|n’t)(?: be| been)? delivered to(?: the following recipient(?:\(s\)|s)?)?|undeliverable to|failed to deliver to|failed addresses follow|delivery has failed to these recipients(?: or groups)?)\s*:?",
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

/// A recipient command in a quoted SMTP session (`--> RCPT To:<a@b>`,
/// `>>> RCPT TO:<a@b>`, `sent: RCPT TO:<a@b>`).
static RCPT_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\brcpt to:\s*<?([^<>\s]+@[^<>\s]+?)>?(?:\s|$)").unwrap()
});

/// The server's reply to it: a 4xx or 5xx after an arrow or a label
/// (`<-- 550 ...`, MDaemon; `<<< 550 ...`; `replied: 550 ...`).
static REFUSAL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:<--|<<<|\breplied:|\bsaid:|\bresponse:)\s*([45][0-9][0-9][ -].*)$")
        .unwrap()
});

/// The recipients a quoted SMTP session shows refused, each with the
/// server's reply: a recipient command followed, within three lines and
/// before the next one, by a 4xx or 5xx reply. Accepted recipients (a 2xx
/// reply) give nothing.
fn refused_in_session(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(addr) =
            RCPT_LINE.captures(line).and_then(|c| clean_address(&c[1]))
        else {
            continue;
        };
        let reply = lines[i + 1..]
            .iter()
            .take(3)
            .take_while(|l| !RCPT_LINE.is_match(l))
            .find_map(|l| REFUSAL_LINE.captures(l));
        if let Some(r) = reply {
            out.push((addr, r[1].trim().to_string()));
        }
    }
    out
}

/// The diagnostic of a report whose recipients the text does not name:
/// its first 400 characters, blanks collapsed.
fn opening(text: &str) -> String {
    let short: String = text.chars().take(400).collect();
    short.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The length of the first paragraph of `text`: the rest of the current
/// line, or, when that holds no word (blank, or the sentence's closing
/// `.`), the next lines up to a blank line (at most a few lines).
fn paragraph_end(text: &str) -> usize {
    let mut end = 0;
    let mut seen = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let blank = if i == 0 {
            !line.chars().any(char::is_alphanumeric)
        } else {
            line.trim().is_empty()
        };
        if blank && seen || i > 8 {
            break;
        }
        seen |= !blank;
        end += line.len();
    }
    end
}

/// Whether `text` holds no word but addresses (and punctuation).
fn only_addresses(text: &str) -> bool {
    !text
        .split_whitespace()
        .any(|w| !w.contains('@') && w.chars().any(char::is_alphanumeric))
}

/// Rows of a plain-text report: one per address named right after a
/// recipient phrase (on its line or the next lines up to a blank line);
/// the diagnostic is that paragraph. Only the report's own text counts,
/// not a copy of the original pasted after it.
fn text_rows(mail: &Mail<'_>) -> Vec<Row> {
    let text = &mail.text
        [..returned::inline_start(&mail.text).unwrap_or(mail.text.len())];
    let evidence = Evidence::of(mail, text);
    let named_report = from_mail_system(mail) && bounce_subject(&mail.subject);
    if !named_report && !evidence.is_report() {
        return Vec::new();
    }
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
        // The list the original was posted to.
        not_rcpt.extend(r.headers.all("list-post").flat_map(addresses_in));
    }
    let wanted = |a: &String| {
        !is_system_address(a)
            && !is_list_address(a)
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
        // reason in that paragraph too, or, when it holds nothing but
        // addresses, often in the one after it.
        let end = paragraph_end(rest);
        let named = ALIAS_NOTE.replace_all(&rest[..end], "");
        let diag_end = if only_addresses(&named) {
            end + paragraph_end(&rest[end..])
        } else {
            end
        };
        let para = &text[start..m.end() + diag_end];
        let diagnostic = para.split_whitespace().collect::<Vec<_>>().join(" ");
        for a in addresses_in(&named).into_iter().filter(wanted) {
            push(&mut rows, a, &diagnostic);
        }
    }
    if rows.is_empty() {
        // qmail's layout under a provider's own opening: one paragraph
        // per recipient, headed `<a@b>:`.
        rows = qmail::recipient_rows(text, qmail::is_head)
            .into_iter()
            .filter(|r| r.recipient.as_ref().is_some_and(wanted))
            .collect();
    }
    if rows.is_empty() {
        // No phrase names them: the SMTP session the report quotes
        // (MDaemon's "Session Transcript") shows who was refused.
        for (a, reply) in refused_in_session(text) {
            if wanted(&a) {
                push(&mut rows, a, &reply);
            }
        }
        for r in &mut rows {
            r.command = Some("RCPT".into());
        }
    }
    // Exim's header naming the failed recipients (also set by other
    // MTAs): with no phrase or session naming them, it does.
    let failed_header: Vec<String> = mail
        .header("X-Failed-Recipients")
        .map(|h| addresses_in(&h))
        .unwrap_or_default();
    if rows.is_empty() && !failed_header.is_empty() {
        let diagnostic = opening(text);
        for a in failed_header {
            push(&mut rows, a, &diagnostic);
        }
    }
    let is_report = mail.returned.is_some()
        || mail.content_type == "multipart/report"
        || evidence.is_report();
    if rows.is_empty() && is_report {
        // No phrase names the recipients, or the delivery-status part is
        // lost or unreadable, but the message is a report: it never gives
        // nothing. The recipients are the addresses the text names that
        // the original was sent to; failing that, any address it names;
        // failing that, a row without a recipient, which the parser
        // completes from the returned headers or a VERP address (or
        // reports as a bounce without recipient).
        let diagnostic = opening(text);
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
        mail.dsn.is_some() || from_mail_system(mail) || from_null_sender(mail)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        if mail.dsn.is_some() {
            return Some(mail.dsn_rows());
        }
        Some(text_rows(mail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_looked_for_after_a_list_of_bare_addresses_only() {
        assert!(only_addresses("\n  <a@example.org>,\n  b@example.org.\n"));
        assert!(!only_addresses("a@example.org because the mailbox is full"));
        // The rest of the marker's line is only the sentence's full stop.
        let rest = ".\n\n<a@example.org>:\n550 No such user\n\nnext\n";
        assert_eq!(
            &rest[..paragraph_end(rest)],
            ".\n\n<a@example.org>:\n550 No such user\n"
        );
    }

    #[test]
    fn recipient_phrases_end_where_the_addresses_start() {
        for (text, rest) in [
            ("Delivery of email to this address\n", ""),
            (
                "Your message to the following recipient could not be delivered:",
                "",
            ),
            ("The following address(es) failed:", ""),
        ] {
            let m = RECIPIENT_MARKER.find(text).expect(text);
            assert_eq!(&text[m.end()..], rest, "{text}");
        }
    }

    #[test]
    fn a_quoted_session_names_the_refused_recipients() {
        let text = "--- Session Transcript ---\n\
            10:00:01: --> RCPT To:<ok@example.org>\n\
            10:00:01: <-- 250 2.1.5 Ok\n\
            10:00:02: --> RCPT To:<gone@example.org>\n\
            10:00:02: <-- 550 5.1.1 <gone@example.org>: User unknown\n\
            >>> RCPT TO:<busy@example.net>\n\
            <<< 452 4.2.2 Mailbox full\n\
            sent: RCPT TO:<late@example.com>\n\
            sent: RCPT TO:<quiet@example.com>\n\
            replied: 554 5.7.1 Relay access denied\n";
        assert_eq!(
            refused_in_session(text),
            [
                (
                    "gone@example.org".to_string(),
                    "550 5.1.1 <gone@example.org>: User unknown".to_string()
                ),
                (
                    "busy@example.net".to_string(),
                    "452 4.2.2 Mailbox full".to_string()
                ),
                // The reply follows the second command, not the first.
                (
                    "quiet@example.com".to_string(),
                    "554 5.7.1 Relay access denied".to_string()
                ),
            ]
        );
        assert!(refused_in_session("RCPT To:<a@example.org>\n").is_empty());
    }
}
