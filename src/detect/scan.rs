//! Text scanning shared by the detectors of plain-text bounce formats
//! (Postfix, qmail, Exim, Sendmail, ...): cutting out the section between
//! a format's markers, splitting it into per-recipient blocks (an address
//! line followed by its error lines), joining multi-line SMTP replies,
//! reading a Sendmail-style session transcript, and completing the rows of
//! a standard DSN part with what the text says.

use std::sync::LazyLock;

use regex::Regex;

use super::Row;
use crate::parse::fields::{self, address_in, clean_address};

/// The lines after the first line that contains one of `starts`, up to
/// (not including) the first later line that contains one of `ends`; the
/// rest of the text when no end marker follows. `None` when no start
/// marker is found.
pub(crate) fn section<'t>(
    text: &'t str,
    starts: &[&str],
    ends: &[&str],
) -> Option<&'t str> {
    let begin = lines_with_offsets(text)
        .find(|(_, l)| starts.iter().any(|m| l.contains(m)))
        .map(|(at, l)| (at + l.len() + 1).min(text.len()))?;
    let rest = &text[begin..];
    let end = lines_with_offsets(rest)
        .find(|(_, l)| ends.iter().any(|m| l.contains(m)))
        .map_or(rest.len(), |(at, _)| at);
    Some(&rest[..end])
}

fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split('\n').map(move |l| {
        let start = at;
        at += l.len() + 1;
        (start, l)
    })
}

/// Which lines after a block's head line belong to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Lines indented deeper than the head (Postfix, Exim).
    Indented,
    /// Every line up to the next blank line (qmail).
    Paragraph,
}

/// A recipient block: the line that names the address and the lines that
/// explain the failure (trimmed, blank lines dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block<'t> {
    /// The head line, trimmed.
    pub head: &'t str,
    /// The following lines, trimmed.
    pub body: Vec<&'t str>,
}

impl Block<'_> {
    /// The body lines joined with single spaces.
    pub fn body_text(&self) -> String {
        self.body.join(" ")
    }
}

/// Splits `section` into blocks, each starting at a line `is_head`
/// accepts; lines before the first head are ignored. A block ends at a
/// blank line or at the next head line, and with [`Follow::Indented`] also
/// at the first line not indented deeper than its head.
pub(crate) fn blocks<'t>(
    section: &'t str,
    is_head: impl Fn(&str) -> bool,
    follow: Follow,
) -> Vec<Block<'t>> {
    let mut out: Vec<Block<'t>> = Vec::new();
    let mut open: Option<usize> = None;
    for line in section.lines() {
        let depth = line.len() - line.trim_start().len();
        if line.trim().is_empty() {
            open = None;
        } else if is_head(line) {
            out.push(Block { head: line.trim(), body: Vec::new() });
            open = Some(depth);
        } else if let Some(head_depth) = open {
            if follow == Follow::Paragraph || depth > head_depth {
                if let Some(b) = out.last_mut() {
                    b.body.push(line.trim());
                }
            } else {
                open = None;
            }
        }
    }
    out
}

static REPLY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([245][0-9][0-9])[ -](?:([245]\.[0-9]{1,3}\.[0-9]{1,3}) )?")
        .unwrap()
});

/// Joins the lines of an SMTP reply into one line. Continuation lines of a
/// multi-line reply (`550-5.7.26 first`, `550 5.7.26 last`) lose the code
/// and status they repeat, so the text reads `550 5.7.26 first last`.
pub(crate) fn join_reply<S: AsRef<str>>(lines: &[S]) -> String {
    let mut out = String::new();
    let mut lead: Option<String> = None;
    for line in lines.iter().map(|l| l.as_ref().trim()) {
        if line.is_empty() {
            continue;
        }
        let mut piece = line;
        if let Some(c) = REPLY_PREFIX.captures(line) {
            let code = c[1].to_string();
            match &lead {
                Some(l) if *l == code => {
                    piece = line[c.get(0).map_or(0, |m| m.end())..].trim();
                }
                Some(_) => {}
                None => {
                    // The first line keeps its code, written as "550 ".
                    out.push_str(&code);
                    out.push(' ');
                    piece = line[4..].trim_start();
                    lead = Some(code);
                }
            }
        }
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(piece);
    }
    out
}

/// The value of the first `(marker, value)` row whose marker `text`
/// contains (compared lower-case; markers are lower-case).
pub(crate) fn lookup<'a>(
    text: &str,
    table: &[(&str, &'a str)],
) -> Option<&'a str> {
    let lower = text.to_ascii_lowercase();
    table.iter().find(|(m, _)| lower.contains(m)).map(|(_, v)| *v)
}

/// The SMTP command named at the start of a `>>> MAIL From:<...>` line or
/// an "after RCPT TO" phrase, normalised to `HELO`, `MAIL`, `RCPT`,
/// `DATA` (`EHLO`, `LHLO` and `HELO` give `HELO`; `BDAT` gives `DATA`).
pub(crate) fn command_word(text: &str) -> Option<String> {
    let word: String = text
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    let c = match word.as_str() {
        "EHLO" | "HELO" | "LHLO" => "HELO",
        "MAIL" => "MAIL",
        "RCPT" => "RCPT",
        "DATA" | "BDAT" => "DATA",
        _ => return None,
    };
    Some(c.to_string())
}

static RESULT_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([245][0-9][0-9])[ -](?:[245]\.[0-9]{1,3}\.[0-9]{1,3} )?\s*<?([^<>\s]+@[^<>\s]+?)>?\.\.\.\s*(.*)$")
        .unwrap()
});

static TALKING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:\.\.\. )?while talking to ([^\s:]+?)\.?:\s*$")
        .unwrap()
});

static HOST_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([245][0-9][0-9]) \S+ \([a-z0-9-]+\)\.\.\.\s*(.*)$").unwrap()
});

/// One SMTP exchange of a transcript: the host, the command sent, the
/// address it named and the reply lines.
#[derive(Default)]
struct Exchange {
    host: Option<String>,
    command: Option<String>,
    rcpt: Option<String>,
    reply: Vec<String>,
}

/// Reads a Sendmail-style session transcript (`... while talking to
/// host:`, `>>> RCPT To:<a@b>`, `<<< 550 5.1.1 ...`, then the MTA's own
/// verdict `550 5.1.1 <a@b>... User unknown`) into one row per address
/// verdict. The row carries the remote server's reply (diagnostic, reply
/// code and status) when the last exchange was about that address or was
/// not about a single address (DATA, MAIL); otherwise the verdict line's
/// own text and code. A verdict whose text starts with a reply code
/// (`554 <a@b>... 550 Host unknown`) takes that code. When no verdict
/// names an address, the first verdict about a host (`421 example.com
/// (smtp)... Deferred: ...`) gives one row without a recipient.
pub(crate) fn transcript(section: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut host_row: Option<Row> = None;
    let mut ex = Exchange::default();
    for line in section.lines().map(str::trim) {
        if let Some(c) = TALKING.captures(line) {
            ex = Exchange {
                host: Some(c[1].to_string()),
                ..Exchange::default()
            };
        } else if let Some(cmd) = line.strip_prefix(">>>") {
            ex.command = command_word(cmd);
            ex.rcpt = (ex.command.as_deref() == Some("RCPT"))
                .then(|| address_in(cmd))
                .flatten();
            ex.reply.clear();
        } else if let Some(reply) = line.strip_prefix("<<<") {
            ex.reply.push(reply.trim().to_string());
        } else if let Some(c) = HOST_LINE.captures(line) {
            host_row.get_or_insert_with(|| Row {
                diagnostic: Some(c[2].to_string()),
                reply_code: Some(c[1].to_string()),
                ..Row::default()
            });
        } else if let Some(c) = RESULT_LINE.captures(line) {
            let Some(addr) = clean_address(&c[2]) else { continue };
            let rest = c[3].trim();
            let about_addr = match &ex.rcpt {
                Some(r) => r.eq_ignore_ascii_case(&addr),
                None => true,
            };
            let remote = (!ex.reply.is_empty() && about_addr)
                .then(|| join_reply(&ex.reply));
            let inner = fields::reply_code_in(rest)
                .filter(|_| rest.starts_with(|ch: char| ch.is_ascii_digit()));
            let (diagnostic, reply_code, status) = match (&remote, inner) {
                (_, Some(code)) => {
                    (rest.to_string(), Some(code), fields::status_in(rest))
                }
                (Some(r), None) => {
                    (r.clone(), fields::reply_code_in(r), fields::status_in(r))
                }
                // The MTA's own verdict: its status is the reporting
                // MTA's mapping, left to the DSN part or the diagnostic.
                (None, None) => {
                    (rest.to_string(), Some(c[1].to_string()), None)
                }
            };
            rows.push(Row {
                recipient: Some(addr),
                diagnostic: Some(diagnostic),
                reply_code,
                status,
                remote_mta: ex.host.clone(),
                command: ex.command.clone().filter(|_| remote.is_some()),
                ..Row::default()
            });
        }
    }
    if rows.is_empty() {
        rows.extend(host_row);
    }
    rows
}

/// Completes the rows of a DSN part with rows read from the report's text
/// about the same recipients (matched case-insensitively; a single row
/// matches a single text row). The text supplies the failed command, a
/// missing reply code or remote MTA, a fuller diagnostic, and the status
/// the remote server itself gave (it beats the reporting MTA's mapping).
/// A status leading the diagnostic (`552 5.2.2 ...`, the remote server's
/// own) beats the DSN's; a DSN status that only says `X.0.0` gives way to
/// a more specific code elsewhere in the diagnostic. With no DSN rows the text rows are the result.
pub(crate) fn enrich(dsn: Vec<Row>, found: Vec<Row>) -> Vec<Row> {
    if dsn.is_empty() {
        return found;
    }
    let single = dsn.len() == 1 && found.len() == 1;
    dsn.into_iter()
        .map(|mut row| {
            let same = |f: &&Row| {
                single
                    || matches!((&row.recipient, &f.recipient),
                        (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
            };
            if let Some(f) = found.iter().find(same) {
                let f = f.clone();
                row.recipient = row.recipient.or(f.recipient);
                row.command = row.command.or(f.command);
                row.remote_mta = row.remote_mta.or(f.remote_mta);
                let fuller = match (&row.diagnostic, &f.diagnostic) {
                    (None, Some(_)) => true,
                    (Some(d), Some(t)) => t.len() > d.len(),
                    _ => false,
                };
                if fuller {
                    row.diagnostic = f.diagnostic;
                }
                row.reply_code = row.reply_code.or(f.reply_code);
                row.status = f.status.or(row.status);
                row.reason = row.reason.or(f.reason);
            }
            if let Some(d) = &row.diagnostic
                && let Some(lead) = REPLY_PREFIX.captures(d.trim_start())
                && let Some(remote) = lead.get(2)
            {
                // "552 5.2.2 ...": the remote server's own status.
                row.status = Some(remote.as_str().to_string());
            } else if let (Some(s), Some(d)) = (&row.status, &row.diagnostic)
                && s.ends_with(".0.0")
                && let Some(better) = fields::status_in(d)
                && better[..1] == s[..1]
            {
                row.status = Some(better);
            }
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_cut_between_markers() {
        let t = "head\n--- start ---\nA\nB\n--- end ---\nC\n";
        assert_eq!(section(t, &["start"], &["end"]), Some("A\nB\n"));
        assert_eq!(
            section(t, &["start"], &["nothing"]),
            Some("A\nB\n--- end ---\nC\n")
        );
        assert_eq!(section(t, &["absent"], &["end"]), None);
    }

    #[test]
    fn blocks_follow_indentation_or_paragraphs() {
        let t = "<a@x.example>: first\n    second\nnot mine\n<b@x.example>: third\n";
        let b = blocks(t, |l| l.starts_with('<'), Follow::Indented);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].body, vec!["second"]);
        assert!(b[1].body.is_empty());
        let t = "<a@x.example>:\nline one\nline two\n\nafter\n";
        let b = blocks(t, |l| l.starts_with('<'), Follow::Paragraph);
        assert_eq!(b[0].body_text(), "line one line two");
    }

    #[test]
    fn multi_line_replies_are_joined() {
        assert_eq!(
            join_reply(&[
                "550-5.7.26 Unauthenticated",
                "550-5.7.26 mail",
                "550 5.7.26 rejected"
            ]),
            "550 5.7.26 Unauthenticated mail rejected"
        );
        assert_eq!(
            join_reply(&["550 No such", "user here"]),
            "550 No such user here"
        );
    }

    #[test]
    fn transcripts_give_the_remote_reply() {
        let t = "... while talking to mx.example.org.:\n>>> RCPT To:<a@example.org>\n<<< 550 5.7.1 Blocked\n550 5.1.1 <a@example.org>... User unknown\n554 <b@example.net>... 550 Host unknown\n";
        let rows = transcript(t);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].status.as_deref(), Some("5.7.1"));
        assert_eq!(rows[0].command.as_deref(), Some("RCPT"));
        assert_eq!(rows[0].remote_mta.as_deref(), Some("mx.example.org"));
        assert_eq!(rows[1].reply_code.as_deref(), Some("550"));
        assert_eq!(rows[1].diagnostic.as_deref(), Some("550 Host unknown"));
    }

    #[test]
    fn dsn_rows_take_the_texts_details() {
        let dsn = vec![Row {
            recipient: Some("a@example.org".into()),
            status: Some("5.0.0".into()),
            diagnostic: Some("550 5.7.1 no".into()),
            ..Row::default()
        }];
        let found = vec![Row {
            recipient: Some("A@example.org".into()),
            command: Some("RCPT".into()),
            ..Row::default()
        }];
        let rows = enrich(dsn, found);
        assert_eq!(rows[0].command.as_deref(), Some("RCPT"));
        assert_eq!(rows[0].status.as_deref(), Some("5.7.1"));
    }
}
