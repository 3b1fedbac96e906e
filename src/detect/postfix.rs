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

use super::Detector;
use super::scan::{self, Block, Follow, command_word};
use crate::model::EventType;
use crate::model::Row;
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
        // The match ends with the three digits and one separator.
        reply_code: CODE.find(&text).and_then(|m| {
            m.as_str().get(m.len() - 4..m.len() - 1).map(str::to_string)
        }),
        ..Row::default()
    };
    match said(&text) {
        Some((host, reply, command)) => {
            row.remote_mta = Some(host.to_string());
            row.diagnostic = Some(reply.to_string());
            row.command = command.and_then(command_word);
        }
        None => row.diagnostic = Some(text),
    }
    Some(row)
}

/// Reads `host H[ip] said: REPLY (in reply to CMD command)` (the
/// `(in reply to ...)` tail optional, ` command` optional in it): the host,
/// the reply and the command text. The first `host ` that starts such a
/// clause counts; the host is the shortest non-blank run before a `[`
/// whose first `]` is followed by ` said: `, and the clause runs to the
/// end of `text`, on one line.
fn said(text: &str) -> Option<(&str, &str, Option<&str>)> {
    const SAID: &str = "] said: ";
    const REPLY_TO: &str = " (in reply to ";
    text.match_indices("host ").find_map(|(at, _)| {
        let run = &text[at + "host ".len()..];
        let run_end = run.find(char::is_whitespace).unwrap_or(run.len());
        let (host, rest) = run[..run_end]
            .match_indices('[')
            .filter(|&(i, _)| i > 0)
            .find_map(|(i, _)| {
                let close = i + run[i..].find(']')?;
                let rest = run[close..].strip_prefix(SAID)?;
                Some((&run[..i], rest))
            })?;
        if rest.contains('\n') {
            return None;
        }
        let tail = rest.find(REPLY_TO).and_then(|k| {
            let inner = rest[k + REPLY_TO.len()..].strip_suffix(')')?;
            (!inner.is_empty()).then_some((k, inner))
        });
        Some(match tail {
            Some((k, inner)) => {
                let command = inner
                    .strip_suffix(" command")
                    .filter(|c| !c.is_empty())
                    .unwrap_or(inner);
                (host, &rest[..k], Some(command))
            }
            None => (host, rest, None),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The regular expression `said` stands for, as the reference.
    fn said_by_regex(text: &str) -> Option<(String, String, Option<String>)> {
        let re = Regex::new(
            r"host (\S+?)\[[^\]]*\] said: (.*?)(?: \(in reply to (.+?)(?: command)?\))?$",
        )
        .unwrap();
        let c = re.captures(text)?;
        Some((
            c[1].to_string(),
            c[2].to_string(),
            c.get(3).map(|m| m.as_str().to_string()),
        ))
    }

    #[test]
    fn said_reads_like_the_regex() {
        for t in [
            "host mx.example.org[192.0.2.1] said: 550 5.1.1 unknown (in reply to RCPT TO command)",
            "host mx.example.org[192.0.2.1] said: 452 full (in reply to end of DATA command)",
            "host mx.example.org[192.0.2.1] said: 554 no (in reply to MAIL FROM)",
            "host mx.example.org[192.0.2.1] said: 554 no",
            "host mx.example.org[192.0.2.1] said: 554 no (in reply to )",
            "host mx.example.org[192.0.2.1] said: 554 no (in reply to  command)",
            "host mx.example.org[192.0.2.1] said: a (in reply to b) (in reply to c)",
            "the ghost a[b[c] said: 550 x",
            "host a[x]y[z] said: 550 y",
            "host a [x] said: 550 none; host b[y] said: 421 second",
            "host [x] said: 550 empty host",
            "host a[x] said: 550 broken\nline",
            "no clause here",
        ] {
            let ours = said(t)
                .map(|(h, r, c)| (h.into(), r.into(), c.map(str::to_string)));
            assert_eq!(ours, said_by_regex(t), "{t}");
        }
    }
}
