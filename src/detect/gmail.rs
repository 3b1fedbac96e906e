//! Gmail (<https://mail.google.com>): the reports of
//! `mailer-daemon@googlemail.com`. Since about 2016 they are RFC 3464
//! multipart/report messages whose human text is localised ("** Address
//! not found **"); before that they were plain text:
//!
//! ```text
//! Delivery to the following recipient failed permanently:
//!
//!      user@example.org
//!
//! Technical details of permanent failure:
//! Google tried to deliver your message, but it was rejected by the server
//! for the recipient domain example.org by mx.example.org. [192.0.2.1].
//!
//! The error that the other server returned was:
//! 550 5.1.1 <user@example.org>... User Unknown
//!
//! ----- Original message -----
//! ```
//!
//! Delay warnings say "has been delayed" and "Technical details of
//! temporary failure". The DSN's Status is often the generic `5.0.0` while
//! the quoted reply names the precise code, which is preferred.

use super::{Detector, scan};
use crate::model::EventType;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{addresses_in, reply_code_in, status_in};

/// The Gmail detector.
pub struct Gmail;

/// Sender addresses of Gmail's reports.
const SENDERS: &[&str] =
    &["mailer-daemon@gmail.com", "mailer-daemon@googlemail.com"];

/// Opening lines of the plain-text report and what they announce; from
/// Gmail reports of 2009–2016.
#[rustfmt::skip]
static STARTS: &[(&str, EventType)] = &[
    ("delivery to the following recipient failed permanently", EventType::Bounce),
    ("delivery to the following recipient has been delayed", EventType::Delay),
    ("delivery to the following recipients failed permanently", EventType::Bounce),
    ("delivery to the following recipients have been delayed", EventType::Delay),
];

/// Where the technical details start.
const DETAILS: &[&str] = &["technical details of"];

/// Where the returned message starts.
const ORIGINAL: &[&str] =
    &["----- message header follows -----", "----- original message -----"];

/// What precedes the remote server's reply inside the details.
const REMOTE_SAID: &str = "the error that the other server returned was:";

impl Detector for Gmail {
    fn id(&self) -> &'static str {
        "gmail"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        SENDERS.contains(&mail.from.as_str())
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        if mail.dsn.is_some() {
            return Some(mail.dsn_rows());
        }
        decode_text(&mail.text)
    }
}

/// Reads the plain-text report.
fn decode_text(text: &str) -> Option<Vec<Row>> {
    let (_, after, kind) = scan::find_line(text, STARTS)?;
    let rest = scan::until(&text[after..], ORIGINAL);
    let (head, details) = match scan::section(rest, DETAILS, &[]) {
        Some(d) => (scan::until(rest, DETAILS), d),
        None => (rest, ""),
    };
    let details = scan::join(details);
    let lower = details.to_ascii_lowercase();
    let reply = lower
        .find(REMOTE_SAID)
        .map(|i| details[i + REMOTE_SAID.len()..].trim().to_string());
    let diagnostic = reply
        .clone()
        .or_else(|| (!details.is_empty()).then(|| details.clone()));
    let row = Row {
        action: Some(
            if kind == EventType::Delay { "delayed" } else { "failed" }.into(),
        ),
        kind: Some(kind),
        status: reply.as_deref().and_then(status_in),
        reply_code: reply.as_deref().and_then(reply_code_in),
        remote_mta: scan::host_before_ip(&details),
        diagnostic,
        ..Row::default()
    };
    let rows: Vec<Row> = addresses_in(head)
        .into_iter()
        .map(|a| Row { recipient: Some(a), ..row.clone() })
        .collect();
    Some(if rows.is_empty() { vec![row] } else { rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        assert!(scan::is_sorted_table(STARTS));
    }

    #[test]
    fn plain_text_report() {
        let t = "Delivery to the following recipient failed permanently:\n\n     a@example.org\n\nTechnical details of permanent failure:\nGoogle tried to deliver your message, but it was rejected by the server for the recipient domain example.org by mx.example.org. [192.0.2.1].\n\nThe error that the other server returned was:\n550 550 5.7.1 Access denied (state 13).\n\n----- Original message -----\n\nTo: a@example.org\n";
        let rows = decode_text(t).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.recipient.as_deref(), Some("a@example.org"));
        assert_eq!(r.status.as_deref(), Some("5.7.1"));
        assert_eq!(r.reply_code.as_deref(), Some("550"));
        assert_eq!(r.remote_mta.as_deref(), Some("mx.example.org"));
        assert_eq!(
            r.diagnostic.as_deref(),
            Some("550 550 5.7.1 Access denied (state 13).")
        );
    }

    #[test]
    fn delay_warning() {
        let t = "THIS IS A WARNING MESSAGE ONLY.\n\nDelivery to the following recipient has been delayed:\n\n     b@example.net\n\nMessage will be retried for 2 more day(s)\n\nTechnical details of temporary failure:\nThe recipient server did not accept our requests to connect.\n[(0) example.net. [192.0.2.9]:25: socket error]\n";
        let rows = decode_text(t).unwrap();
        assert_eq!(rows[0].kind, Some(EventType::Delay));
        assert_eq!(rows[0].recipient.as_deref(), Some("b@example.net"));
        assert_eq!(rows[0].status, None);
        assert_eq!(rows[0].remote_mta.as_deref(), Some("example.net"));
    }
}
