//! Courier MTA (<https://www.courier-mta.org/>): "This is a delivery
//! status notification from host, running the Courier mail server",
//! "Your message to the following recipients cannot be delivered:" (or,
//! for a delay, "... has not been delivered yet"), one `<a@b>:` paragraph
//! per recipient with the remote host and the SMTP dialogue (`>>> RCPT
//! TO:<a@b>`, `<<< 550 ...`), and an RFC 3464 part whose rows are
//! completed from the text (`courier/module.esmtp`, `courierd` DSN
//! templates).

use super::Detector;
use super::qmail::is_head;
use super::scan::{self, Follow, command_word, join_reply};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The Courier detector.
pub struct Courier;

const INTRO: &str = "running the Courier mail server";
/// Lines that open the recipient paragraphs.
#[rustfmt::skip]
const STARTS: &[&str] = &[
    "Your message to the following recipients cannot be delivered:",
    "has not been delivered yet",
];

impl Detector for Courier {
    fn id(&self) -> &'static str {
        "courier"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(INTRO)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let section =
            scan::section(&mail.text, STARTS, &["-----"]).unwrap_or("");
        let found = scan::blocks(section, is_head, Follow::Paragraph)
            .iter()
            .map(|b| {
                let mut row =
                    Row { recipient: address_in(b.head), ..Row::default() };
                let mut reply = Vec::new();
                for line in &b.body {
                    if let Some(cmd) = line.strip_prefix(">>>") {
                        row.command = command_word(cmd);
                    } else if let Some(r) = line.strip_prefix("<<<") {
                        reply.push(r.trim());
                    } else if line.ends_with("]:") {
                        row.remote_mta =
                            line.split_whitespace().next().map(String::from);
                    } else {
                        reply.push(line);
                    }
                }
                row.diagnostic = Some(join_reply(&reply));
                row
            })
            .collect();
        Some(scan::merge_with_dsn(mail.dsn_rows(), found))
    }
}
