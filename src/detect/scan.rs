//! Shared scanning for plain-text reports (gateways, carriers, regional
//! providers): cutting the error section out of the text, splitting it into
//! one block per recipient, reading the SMTP details of a block (Exim-style
//! `SMTP error from remote mail server after RCPT TO:<..>: host H [ip]:
//! reply` lines and `>>> RCPT TO:` / `<<< 550 ...` transcripts), phrase
//! tables that name a reason, and merging text rows with the rows of a
//! delivery-status part the same report carries.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::Row;
use crate::classify::Reason;
use crate::parse::Mail;
use crate::parse::fields::{clean_address, reply_code_in, status_in, unfold};

/// The lines of `text` after the first line that contains one of `starts`
/// (case-insensitive), up to the first later line that starts with one of
/// `ends` (after leading blanks; case-insensitive). `None` when no start
/// line is found.
pub(crate) fn section<'a>(
    text: &'a str,
    starts: &[&str],
    ends: &[&str],
) -> Option<&'a str> {
    let mut offset = 0;
    let mut begin = None;
    for line in text.split_inclusive('\n') {
        let lower = line.to_lowercase();
        match begin {
            None if starts.iter().any(|s| lower.contains(s)) => {
                begin = Some(offset + line.len());
            }
            Some(b)
                if ends.iter().any(|e| lower.trim_start().starts_with(e)) =>
            {
                return Some(&text[b..offset]);
            }
            _ => {}
        }
        offset += line.len();
    }
    begin.map(|b| &text[b..])
}

/// One recipient of a plain-text report and the lines that follow it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Block {
    /// The recipient address.
    pub recipient: String,
    /// The non-blank lines after the address line (and the rest of the
    /// address line itself), trimmed.
    pub lines: Vec<String>,
}

impl Block {
    /// The block's lines joined with spaces.
    pub fn text(&self) -> String {
        unfold(&self.lines.join("\n"))
    }
}

static ADDRESS_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^["<]*([^\s"<>@()]+@[^\s"<>@()]+?)[">]*(?::\s*|\s+|$)(.*)$"#)
        .unwrap()
});

/// Splits `section` into recipient blocks. A line that starts with an
/// address (bare, quoted or in angle brackets, after one of `labels` such
/// as `Recipient:`) opens a block; the rest of that line and the lines up
/// to the next address line belong to it. A line that repeats the current
/// block's address is a wrapped continuation, not a new block.
pub(crate) fn address_blocks(section: &str, labels: &[&str]) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for line in section.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let bare = labels
            .iter()
            .find_map(|l| strip_prefix_ci(t, l))
            .map_or(t, str::trim_start);
        let opened = ADDRESS_LINE.captures(bare).and_then(|c| {
            let addr = clean_address(c.get(1)?.as_str())?;
            Some((addr, c.get(2).map_or("", |m| m.as_str()).trim()))
        });
        match (opened, blocks.last_mut()) {
            (Some((addr, _)), Some(cur))
                if cur.recipient.eq_ignore_ascii_case(&addr) =>
            {
                cur.lines.push(t.to_string());
            }
            (Some((addr, rest)), _) => blocks.push(Block {
                recipient: addr,
                lines: (!rest.is_empty())
                    .then(|| rest.to_string())
                    .into_iter()
                    .collect(),
            }),
            (None, Some(cur)) => cur.lines.push(t.to_string()),
            (None, None) => {}
        }
    }
    blocks
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// SMTP commands as reports name them, lower-case, sorted, with the
/// command they stand for. Sources: Exim's bounce texts ("after RCPT
/// TO:<..>", "after end of data"), SMTP transcripts (RFC 5321 verbs).
#[rustfmt::skip]
const COMMANDS: &[(&str, &str)] = &[
    ("data", "DATA"),
    ("ehlo", "EHLO"),
    ("end of data", "DATA"),
    ("helo", "HELO"),
    ("initial connection", "CONN"),
    ("mail", "MAIL"),
    ("mail from", "MAIL"),
    ("rcpt", "RCPT"),
    ("rcpt to", "RCPT"),
];

static AFTER_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\bafter|>>>)\s+(end of data|initial connection|rcpt to|mail from|rcpt|mail|data|helo|ehlo)\b")
        .unwrap()
});

static HOST_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bhost:?\s+([a-z0-9][a-z0-9.-]*\.[a-z0-9-]+|\[[0-9a-f.:]+\])(?:\s*\[[0-9a-f.:]+\])?\s*:?\s+(.*)$")
        .unwrap()
});

/// The SMTP details of a block of report text.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Smtp {
    /// The command after which the remote server refused (`RCPT`, ...).
    pub command: Option<String>,
    /// The remote host named in the text.
    pub host: Option<String>,
    /// What the remote server said: the text after `host H [ip]:`, or
    /// the `<<<` lines of a transcript.
    pub response: Option<String>,
}

/// Reads the command, remote host and remote response of `text` (one
/// recipient's lines).
pub(crate) fn smtp_details(lines: &[String]) -> Smtp {
    let joined = unfold(&lines.join("\n"));
    let command = AFTER_COMMAND.captures(&joined).and_then(|c| {
        let verb = c[1].to_ascii_lowercase();
        COMMANDS
            .binary_search_by(|(k, _)| k.cmp(&verb.as_str()))
            .ok()
            .map(|i| COMMANDS[i].1.to_string())
    });
    let transcript: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.trim().strip_prefix("<<<"))
        .map(str::trim)
        .collect();
    let host_reply = HOST_REPLY.captures(&joined);
    let host =
        host_reply.as_ref().map(|c| c[1].trim_matches(['[', ']']).to_string());
    let response = if !transcript.is_empty() {
        Some(transcript.join(" "))
    } else {
        host_reply.map(|c| c[2].trim().to_string()).filter(|r| !r.is_empty())
    };
    Smtp { command, host, response }
}

/// A row for a block: its text as diagnostic, and the command, remote
/// host, reply code and status read from it (codes only from what the
/// remote server said when the text quotes it).
pub(crate) fn block_row(block: &Block) -> Row {
    let smtp = smtp_details(&block.lines);
    let text = block.text();
    let said = smtp.response.as_deref().unwrap_or(&text);
    Row {
        recipient: Some(block.recipient.clone()),
        status: status_in(said),
        reply_code: reply_code_in(said),
        diagnostic: (!text.is_empty()).then_some(text),
        remote_mta: smtp.host,
        command: smtp.command,
        ..Row::default()
    }
}

/// The reason of the first phrase of `table` (lower-case) that `text`
/// contains (case-insensitive).
pub(crate) fn phrase_reason(
    text: &str,
    table: &[(&str, Reason)],
) -> Option<Reason> {
    let lower = text.to_lowercase();
    table.iter().find(|(p, _)| lower.contains(p)).map(|(_, r)| *r)
}

/// Merges rows read from a report's text with the rows of its
/// delivery-status part: the structured DSN fields win, the text fills
/// what the DSN leaves out (diagnostic, codes, command, reason), and
/// recipients only the text names are added.
pub(crate) fn merge_with_dsn(dsn: Vec<Row>, text: Vec<Row>) -> Vec<Row> {
    let same = |a: &Row, b: &Row| match (&a.recipient, &b.recipient) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    };
    let mut out: Vec<Row> = dsn
        .into_iter()
        .map(|mut d| {
            if let Some(t) = text.iter().find(|t| same(&d, t)) {
                d.status = d.status.or_else(|| t.status.clone());
                d.reply_code = d.reply_code.or_else(|| t.reply_code.clone());
                d.diagnostic = d.diagnostic.or_else(|| t.diagnostic.clone());
                d.remote_mta = d.remote_mta.or_else(|| t.remote_mta.clone());
                d.command = d.command.or_else(|| t.command.clone());
                d.reason = d.reason.or(t.reason);
            }
            d
        })
        .collect();
    for t in text {
        if !out.iter().any(|d| same(d, &t)) {
            out.push(t);
        }
    }
    out
}

/// True when the sender address is at one of `domains` or a subdomain.
pub(crate) fn from_domain_in(from: &str, domains: &[&str]) -> bool {
    let Some((_, host)) = from.rsplit_once('@') else {
        return false;
    };
    domains.iter().any(|d| {
        host.eq_ignore_ascii_case(d)
            || host
                .to_ascii_lowercase()
                .strip_suffix(d)
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// True when the sender is a mail system account (`mailer-daemon`,
/// `postmaster`, `post_master`), not a person: a person's mail from a
/// provider domain must never be read as that provider's report.
pub(crate) fn from_daemon(from: &str) -> bool {
    let local = from.split('@').next().unwrap_or("");
    ["mailer-daemon", "postmaster", "post_master"]
        .iter()
        .any(|d| local.eq_ignore_ascii_case(d))
}

/// True when some outer header `name` (any occurrence) contains `needle`
/// (case-insensitive; `needle` lower-case).
pub(crate) fn header_contains(
    mail: &Mail<'_>,
    name: &str,
    needle: &str,
) -> bool {
    mail.msg.headers_raw().any(|(n, v)| {
        n.eq_ignore_ascii_case(name) && v.to_lowercase().contains(needle)
    })
}

/// The text to scan: the message's human-readable text, or, when that
/// lacks `marker` (a part whose MIME header is broken, e.g. a boundary
/// parameter on an unfolded line), the raw body after the header section.
pub(crate) fn text_with<'a>(mail: &'a Mail<'_>, marker: &str) -> Cow<'a, str> {
    if mail.text.to_lowercase().contains(marker) {
        return Cow::Borrowed(&mail.text);
    }
    let raw = mail.msg.raw_message();
    let body = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(&raw[..0], |i| &raw[i + 2..]);
    Cow::Owned(String::from_utf8_lossy(body).into_owned())
}

/// True when the keys of a phrase table are lower-case, sorted and
/// unique (for the tables' unit tests).
#[cfg(test)]
pub(crate) fn is_sorted_table<T>(table: &[(&str, T)]) -> bool {
    table.windows(2).all(|w| w[0].0 < w[1].0)
        && table.iter().all(|(k, _)| k.to_lowercase() == *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_sorted() {
        assert!(is_sorted_table(COMMANDS));
    }

    #[test]
    fn sections_are_cut_between_markers() {
        let t = "intro\nThe following address failed:\n\n  a@example.org\n--- end\nmore\n";
        assert_eq!(
            section(t, &["address failed"], &["--- end"]),
            Some("\n  a@example.org\n")
        );
        assert_eq!(section(t, &["nothing"], &[]), None);
    }

    #[test]
    fn exim_style_blocks() {
        let t = "  a@example.org\n    SMTP error from remote mail server after RCPT TO:<a@example.org>:\n    host mx.example.org [192.0.2.1]: 550 5.1.1 <a@example.org>... unknown\n  \"b@example.org\":\n    retry timeout exceeded\n";
        let blocks = address_blocks(t, &[]);
        assert_eq!(blocks.len(), 2);
        let r = block_row(&blocks[0]);
        assert_eq!(r.recipient.as_deref(), Some("a@example.org"));
        assert_eq!(r.command.as_deref(), Some("RCPT"));
        assert_eq!(r.remote_mta.as_deref(), Some("mx.example.org"));
        assert_eq!(r.reply_code.as_deref(), Some("550"));
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
        let r = block_row(&blocks[1]);
        assert_eq!(r.recipient.as_deref(), Some("b@example.org"));
        assert_eq!(r.diagnostic.as_deref(), Some("retry timeout exceeded"));
        assert_eq!(r.reply_code, None);
    }

    #[test]
    fn transcripts_and_labels() {
        let t = "Recipient: <a@example.org>\n>>> MAIL FROM:<s@example.net>\n<<< 550 sender refused\n<a@example.org>\n";
        let blocks = address_blocks(t, &["recipient:"]);
        assert_eq!(blocks.len(), 1);
        let r = block_row(&blocks[0]);
        assert_eq!(r.command.as_deref(), Some("MAIL"));
        assert_eq!(r.reply_code.as_deref(), Some("550"));
    }

    #[test]
    fn dsn_fields_win_and_text_fills_gaps() {
        let dsn = vec![Row {
            recipient: Some("a@example.org".into()),
            status: Some("5.0.0".into()),
            ..Row::default()
        }];
        let text = vec![
            Row {
                recipient: Some("A@example.org".into()),
                status: Some("5.1.1".into()),
                command: Some("RCPT".into()),
                ..Row::default()
            },
            Row { recipient: Some("b@example.org".into()), ..Row::default() },
        ];
        let rows = merge_with_dsn(dsn, text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].status.as_deref(), Some("5.0.0"));
        assert_eq!(rows[0].command.as_deref(), Some("RCPT"));
    }
}
