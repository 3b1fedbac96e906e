//! Yahoo! Mail (<https://mail.yahoo.com>, also AOL Mail on the same
//! platform and Yahoo! JAPAN): the "Failure Notice" of `MAILER-DAEMON`,
//! a plain-text report in the shape of qmail's:
//!
//! ```text
//! Sorry, we were unable to deliver your message to the following address.
//!
//! <user@example.org>:
//! Remote host said: 550 5.1.1 <user@example.org>... User Unknown [RCPT_TO]
//!
//! --- Below this line is a copy of the message.
//! ```
//!
//! The bracketed tag at the end of the remote reply names the SMTP command
//! it answered.

use super::{Detector, qmail, scan};
use crate::model::Row;
use crate::parse::Mail;

/// The Yahoo detector.
pub struct Yahoo;

/// Headers only Yahoo's mail platform writes.
const HEADERS: &[&str] = &["X-YMailISG", "X-YMail-OSG"];

/// Opening of the report; from Yahoo Failure Notices (2014–2018).
const STARTS: &[&str] =
    &["sorry, we were unable to deliver your message to the following"];

/// Where the returned message starts.
const ORIGINAL: &[&str] = &["--- below this line is a copy of the message"];

/// Command tags that end a remote reply, and the SMTP command they name;
/// from Yahoo Failure Notices.
#[rustfmt::skip]
static COMMANDS: &[(&str, &str)] = &[
    ("[data]", "DATA"),
    ("[mail_from]", "MAIL"),
    ("[rcpt_to]", "RCPT"),
];

impl Detector for Yahoo {
    fn id(&self) -> &'static str {
        "yahoo"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.subject.eq_ignore_ascii_case("failure notice")
            && (HEADERS.iter().any(|h| mail.has_header(h))
                || scan::text_has_marker(mail, STARTS))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let body = scan::section(&mail.text, STARTS, ORIGINAL)?;
        Some(rows(body))
    }
}

/// One row per `<address>:` paragraph, read as qmail's; the command tag
/// ending the remote reply names the command.
fn rows(body: &str) -> Vec<Row> {
    let mut rows = qmail::recipient_rows(body, qmail::is_head);
    for row in &mut rows {
        row.command = row
            .diagnostic
            .as_deref()
            .and_then(|d| scan::lookup(d, COMMANDS))
            .map(str::to_string)
            .or(row.command.take());
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        assert!(scan::is_sorted_table(COMMANDS));
    }

    #[test]
    fn blocks_become_rows() {
        let t = "Sorry, we were unable to deliver your message to the following address.\n\n<a@example.org>:\nRemote host said: 550 5.1.1 <a@example.org>... User Unknown [RCPT_TO]\n\n--- Below this line is a copy of the message.\n\nTo: a@example.org\n";
        let body = scan::section(t, STARTS, ORIGINAL).unwrap();
        let rows = rows(body);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].recipient.as_deref(), Some("a@example.org"));
        assert_eq!(rows[0].command.as_deref(), Some("RCPT"));
        assert_eq!(
            rows[0].diagnostic.as_deref(),
            Some("550 5.1.1 <a@example.org>... User Unknown [RCPT_TO]")
        );
    }
}
