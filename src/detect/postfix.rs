//! Postfix (<https://www.postfix.org/>): "Undelivered Mail Returned to
//! Sender" and "Delayed Mail (still being retried)". The text part ("This
//! is the mail system at host ..." or, before 2.3, "This is the Postfix
//! program at host ...") holds one paragraph per recipient: `<a@b>
//! (expanded from <c@d>): host mx.example[192.0.2.1] said: 550 ... (in
//! reply to RCPT TO command)`, continued on indented lines (`bounce(8)`
//! templates, `smtp_proto.c`) up to a blank line; relays and clients that
//! re-wrap the text lose the indent, so the paragraph, not the indent,
//! bounds a recipient's block. The RFC 3464 part, when present, gives the
//! rows; the text adds the failed command, the reply code and the remote
//! reply as Postfix quoted it. Old Postfix sent the text alone.

use std::sync::LazyLock;

use regex::Regex;

use super::scan::{self, Block, Follow, command_word};
use super::{Detector, Row};
use crate::model::EventType;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The Postfix detector.
pub struct Postfix;

/// The first lines of Postfix's notices (`bounce_template.c`).
#[rustfmt::skip]
const INTROS: &[&str] = &[
    "This is the Postfix program at host ",
    "This is the mail system at host ",
];
/// The delay warning's banner.
const WARNING: &str = "THIS IS A WARNING ONLY.";

static SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"host (\S+?)\[[^\]]*\] said: (.*?)(?: \(in reply to (.+?)(?: command)?\))?$")
        .unwrap()
});

static CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:said|to me|greeting): ([245][0-9][0-9])[ -]").unwrap()
});

impl Detector for Postfix {
    fn id(&self) -> &'static str {
        "postfix"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        INTROS.iter().any(|m| mail.text_has(m))
            || mail
                .dsn
                .as_ref()
                .is_some_and(|d| d.message.get("x-postfix-queue-id").is_some())
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let delayed = mail.text_has(WARNING);
        let found: Vec<Row> = scan::section(&mail.text, INTROS, &[])
            .map(|s| scan::blocks(s, is_head, Follow::Paragraph))
            .unwrap_or_default()
            .iter()
            .filter_map(|b| block_row(b, delayed))
            .collect();
        Some(scan::merge_with_dsn(mail.dsn_rows(), found))
    }
}

fn is_head(line: &str) -> bool {
    line.starts_with('<')
        && (line.contains(">:") || line.contains("> (expanded from"))
        && address_in(line).is_some()
}

fn block_row(b: &Block<'_>, delayed: bool) -> Option<Row> {
    // The head may wrap: "<a@b> (expanded from\n    <c@d>): text".
    let full = std::iter::once(b.head)
        .chain(b.body.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let split = ["): ", ">: "].iter().filter_map(|m| full.find(m)).min()?;
    let addr = &full[..split + 1];
    let text = full[split + 2..].trim().to_string();
    let mut row = Row {
        recipient: address_in(addr),
        action: Some(if delayed { "delayed" } else { "failed" }.into()),
        kind: delayed.then_some(EventType::Delay),
        reply_code: CODE.captures(&text).map(|c| c[1].to_string()),
        ..Row::default()
    };
    match SAID.captures(&text) {
        Some(c) => {
            row.remote_mta = Some(c[1].to_string());
            row.diagnostic = Some(c[2].to_string());
            row.command = c.get(3).and_then(|m| command_word(m.as_str()));
        }
        None => row.diagnostic = Some(text),
    }
    Some(row)
}
