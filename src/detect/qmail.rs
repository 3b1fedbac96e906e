//! qmail (<https://cr.yp.to/qmail.html>) and netqmail: qmail-send's plain
//! text bounce. "Hi. This is the qmail-send program at host.", the
//! permanent-error preamble, then one paragraph per recipient (`<a@b>:`
//! and the error lines written by qmail-remote or qmail-local), then "---
//! Below this line is a copy of the message." (or "--- Enclosed is a copy
//! of the message." with the MIME bounce patch). qmail sends no delay
//! warnings.

use super::Detector;
use super::scan::{self, Block, Follow, join_reply};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The qmail detector.
pub struct Qmail;

/// The opening of qmail-send's bounce (`qmail-send.c`).
const INTRO: &str = "This is the qmail-send program at ";

/// Lines that end the recipient paragraphs (`qmail-send.c`, and the
/// MIME bounce patch of netqmail distributions).
#[rustfmt::skip]
pub(crate) const ENDS: &[&str] = &[
    "--- Below this line is a copy of the message.",
    "--- Enclosed is a copy of the message.",
    "--- Original message follows.",
];

/// qmail-remote's messages about the SMTP dialogue, with the command each
/// one blames (`qmail-remote.c`: `Connected to %s but greeting failed.`,
/// `%s does not like recipient.`, ...). Lower-case, sorted.
#[rustfmt::skip]
const COMMANDS: &[(&str, &str)] = &[
    ("but greeting failed", "CONN"),
    ("but my name was rejected", "HELO"),
    ("but sender was rejected", "MAIL"),
    ("does not like recipient", "RCPT"),
    ("failed after i sent the message", "DATA"),
    ("failed on data command", "DATA"),
];

/// Lines qmail adds after the remote reply; they are not part of it.
#[rustfmt::skip]
const TRAILERS: &[&str] = &[
    "Giving up on ",
    "I'm not going to try again",
];

/// Starts the remote reply: "Remote host said:" (some derivatives write
/// "Remote host said[Response Message]:").
const SAID: &str = "Remote host said";

impl Detector for Qmail {
    fn id(&self) -> &'static str {
        "qmail"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(INTRO)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let section = scan::section(&mail.text, &[INTRO], ENDS)?;
        let reporting = mail
            .text
            .lines()
            .find_map(|l| l.split_once(INTRO))
            .map(|(_, h)| h.trim().trim_end_matches('.').to_string());
        let rows = recipient_rows(section, is_head)
            .into_iter()
            .map(|r| Row { reporting_mta: reporting.clone(), ..r })
            .collect();
        Some(rows)
    }
}

/// One row per recipient paragraph of a qmail-style bounce (a head line
/// `is_head` accepts, naming the address, then qmail-remote's lines);
/// shared with other MTAs that kept qmail's layout and wording.
pub(crate) fn recipient_rows(
    section: &str,
    is_head: impl Fn(&str) -> bool,
) -> Vec<Row> {
    scan::blocks(section, is_head, Follow::Paragraph)
        .iter()
        .filter_map(block_row)
        .collect()
}

/// qmail's head line: `<a@b>:`.
pub(crate) fn is_head(line: &str) -> bool {
    let l = line.trim_end();
    l.starts_with('<') && l.ends_with(">:") && address_in(l).is_some()
}

fn block_row(b: &Block<'_>) -> Option<Row> {
    let mut row = Row {
        recipient: Some(address_in(b.head)?),
        action: Some("failed".into()),
        ..Row::default()
    };
    if let Some(line) =
        b.body.iter().find(|l| scan::lookup(l, COMMANDS).is_some())
    {
        row.command = scan::lookup(line, COMMANDS).map(String::from);
        row.remote_mta = remote_host(line);
    }
    let said = b.body.iter().position(|l| l.starts_with(SAID));
    let diagnostic =
        match said {
            Some(i) => {
                let said = b.body[i];
                let reply_start = said.find(':').map_or(said.len(), |c| c + 1);
                let mut reply = vec![said[reply_start..].trim()];
                reply.extend(b.body[i + 1..].iter().take_while(|l| {
                    !TRAILERS.iter().any(|t| l.starts_with(t))
                }));
                join_reply(&reply)
            }
            None => b.body_text(),
        };
    row.diagnostic = Some(diagnostic);
    Some(row)
}

/// The host named before qmail-remote's phrase: "192.0.2.1 does not like
/// recipient.", "Connected to 192.0.2.1 but my name was rejected.".
fn remote_host(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let at = COMMANDS.iter().find_map(|(m, _)| lower.find(m))?;
    let before = line[..at].trim_end();
    let host = before.rsplit(' ').next()?;
    (!host.is_empty() && host.contains('.')).then(|| host.to_string())
}
