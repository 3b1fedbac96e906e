//! Sendmail 8 (<https://www.proofpoint.com/us/products/email-protection/open-source-email-solution>):
//! "Returned mail: see transcript for details" and "Warning: could not
//! send message for past 4 hours". The text part lists the addresses
//! ("----- The following addresses had permanent fatal errors -----",
//! `<a@b>` and an indented "(reason: ...)") and the session transcript
//! ("----- Transcript of session follows -----": `... while talking to
//! host:`, `>>> RCPT To:<a@b>`, `<<< 550 ...`, `550 5.1.1 <a@b>... User
//! unknown`); an RFC 3464 part follows. The DSN rows are completed from
//! the transcript: the remote server's own reply, status and the failed
//! command.

use super::Detector;
use super::scan::{self, Follow};
use crate::model::EventType;
use crate::model::Row;
use crate::parse::fields::{self, address_in};
use crate::parse::{Mail, dsn};

/// The Sendmail detector.
pub struct Sendmail;

/// Section lines of sendmail's error body (`savemail.c` `errbody()`).
#[rustfmt::skip]
const ADDRESSES: &[&str] = &[
    "----- The following addresses had permanent fatal errors -----",
    "----- The following addresses had transient non-fatal errors -----",
];
const TRANSIENT: &str = "transient non-fatal errors";
const TRANSCRIPT: &str = "----- Transcript of session follows -----";
/// Lines that end the transcript: the returned message's section or the
/// DSN fields when the report lost its MIME structure.
#[rustfmt::skip]
const ENDS: &[&str] = &[
    "----- Message body suppressed -----",
    "----- Message header follows -----",
    "----- Original message follows -----",
    "----- Unsent message follows -----",
    "Reporting-MTA: ",
];

impl Detector for Sendmail {
    fn id(&self) -> &'static str {
        "sendmail"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(TRANSCRIPT) || ADDRESSES.iter().any(|m| mail.text_has(m))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        // A bounce forwarded by a person arrives quoted ("> "): read it
        // unquoted, DSN fields included.
        let unquoted;
        let (text, dsn_rows) = if is_quoted(&mail.text) {
            unquoted = unquote(&mail.text);
            let rows = dsn::parse_inline(&unquoted).map(|d| d.rows());
            (unquoted.as_str(), rows.unwrap_or_default())
        } else {
            (mail.text.as_str(), mail.dsn_rows())
        };
        let session = scan::section(text, &[TRANSCRIPT], ENDS);
        let mut found = session.map(scan::transcript).unwrap_or_default();
        let transient = text.contains(TRANSIENT);
        let listed = scan::section(text, ADDRESSES, &[TRANSCRIPT])
            .map(|s| {
                scan::blocks(
                    s,
                    |l| !l.starts_with([' ', '\t']),
                    Follow::Indented,
                )
            })
            .unwrap_or_default();
        for b in &listed {
            let Some(addr) = address_in(b.head) else { continue };
            let reason = b.body.iter().find_map(|l| {
                l.strip_prefix("(reason: ").map(|r| r.trim_end_matches(')'))
            });
            match found.iter_mut().find(|r| {
                r.recipient
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&addr))
            }) {
                Some(r) => {
                    r.reply_code = r
                        .reply_code
                        .take()
                        .or_else(|| reason.and_then(fields::reply_code_in));
                }
                None => {
                    // The session refused the whole message (a reply to
                    // DATA, then sendmail's own "554 5.0.0 Service
                    // unavailable"): the exchange that gave the listed
                    // reason adds the command and the full reply.
                    let (command, reply) = reason
                        .zip(session)
                        .and_then(|(r, s)| exchange_for(s, r))
                        .unzip();
                    found.push(Row {
                        recipient: Some(addr),
                        diagnostic: reply.or(reason.map(String::from)),
                        command: command.flatten(),
                        ..Row::default()
                    })
                }
            }
        }
        let mut rows = scan::merge_with_dsn(dsn_rows, found);
        for r in &mut rows {
            if r.action.is_none() {
                r.action =
                    Some(if transient { "delayed" } else { "failed" }.into());
                r.kind = transient.then_some(EventType::Delay);
            }
        }
        Some(rows)
    }
}

/// The command and the joined reply of the transcript exchange whose
/// reply starts with `reply` (sendmail lists only a reply's first line as
/// the reason).
fn exchange_for(
    session: &str,
    reply: &str,
) -> Option<(Option<String>, String)> {
    let mut command = None;
    let mut lines: Vec<&str> = Vec::new();
    for line in session.lines().map(str::trim).chain([""]) {
        if let Some(c) = line.strip_prefix(">>>") {
            command = scan::command_word(c);
            lines.clear();
        } else if let Some(r) = line.strip_prefix("<<<") {
            lines.push(r.trim());
        } else if lines.first().is_some_and(|f| *f == reply.trim()) {
            return Some((command, scan::join_reply(&lines)));
        } else {
            lines.clear();
        }
    }
    None
}

/// True when sendmail's transcript line stands in a quoted block.
fn is_quoted(text: &str) -> bool {
    text.lines().any(|l| l.starts_with('>') && l.contains(TRANSCRIPT))
}

/// Strips one level of "> " quoting from every line.
fn unquote(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.strip_prefix('>').unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_reason_finds_its_exchange() {
        let session = "... while talking to mx.example.net.:\n>>> DATA\n<<< 550-Unknown user a@example.net\n<<< 550 See the postmaster\n554 5.0.0 Service unavailable\n";
        let (command, reply) =
            exchange_for(session, "550-Unknown user a@example.net").unwrap();
        assert_eq!(command.as_deref(), Some("DATA"));
        assert_eq!(reply, "550 Unknown user a@example.net See the postmaster");
        assert_eq!(exchange_for(session, "550 User unknown"), None);
    }
}
