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

use super::{Detector, Row, scan};
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

/// What introduces the remote server's reply.
const REMOTE_SAID: &str = "remote host said:";

impl Detector for Yahoo {
    fn id(&self) -> &'static str {
        "yahoo"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.subject.eq_ignore_ascii_case("failure notice")
            && (HEADERS.iter().any(|h| mail.has_header(h))
                || scan::lines(&mail.text)
                    .any(|(_, l)| scan::has_marker(l, STARTS)))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let body = scan::section(&mail.text, STARTS, ORIGINAL)?;
        Some(scan::angle_blocks(body).into_iter().map(row).collect())
    }
}

/// One `<address>:` block as a row.
fn row((recipient, text): (String, String)) -> Row {
    let reply = match text.to_ascii_lowercase().find(REMOTE_SAID) {
        Some(i) => text[i + REMOTE_SAID.len()..].trim().to_string(),
        None => text,
    };
    let mut row = Row {
        recipient: Some(recipient),
        action: Some("failed".into()),
        command: scan::marker_in(&reply, COMMANDS).map(|c| c.to_string()),
        diagnostic: (!reply.is_empty()).then_some(reply),
        ..Row::default()
    };
    scan::refine(&mut row);
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        scan::assert_table("COMMANDS", COMMANDS.iter().map(|(k, _)| *k));
    }

    #[test]
    fn blocks_become_rows() {
        let t = "Sorry, we were unable to deliver your message to the following address.\n\n<a@example.org>:\nRemote host said: 550 5.1.1 <a@example.org>... User Unknown [RCPT_TO]\n\n--- Below this line is a copy of the message.\n\nTo: a@example.org\n";
        let body = scan::section(t, STARTS, ORIGINAL).unwrap();
        let rows: Vec<Row> =
            scan::angle_blocks(body).into_iter().map(row).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].recipient.as_deref(), Some("a@example.org"));
        assert_eq!(rows[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(rows[0].reply_code.as_deref(), Some("550"));
        assert_eq!(rows[0].command.as_deref(), Some("RCPT"));
        assert_eq!(
            rows[0].diagnostic.as_deref(),
            Some("550 5.1.1 <a@example.org>... User Unknown [RCPT_TO]")
        );
    }
}
