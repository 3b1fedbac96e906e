//! Reading what SMTP said inside a report's text: multi-line replies
//! joined, the command a text blames, Sendmail-style session transcripts,
//! Exim-style `host H [ip]: reply` lines and host names written before an
//! IP address.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Row;
use crate::parse::fields::{
    address_in, clean_address, reply_code_in, status_in,
};

pub(super) static REPLY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
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

/// Stages Exim names by a phrase, not by a command word
/// (`transports/smtp.c`: "after end of data", "after initial connection").
#[rustfmt::skip]
const STAGES: &[(&str, &str)] = &[
    ("end of data", "DATA"),
    ("initial connection", "CONN"),
];

/// The SMTP command named at the start of `text` (a `>>> MAIL From:<...>`
/// transcript line, or what follows "after" in "after RCPT TO:<..>"),
/// normalised to `HELO`, `MAIL`, `RCPT`, `DATA` (`EHLO`, `LHLO` and `HELO`
/// give `HELO`; `BDAT` gives `DATA`), or `CONN` for the connection. A
/// leading "pipelined" is skipped.
pub(crate) fn command_word(text: &str) -> Option<String> {
    let lower = text.trim_start().to_ascii_lowercase();
    let lower = lower.strip_prefix("pipelined ").unwrap_or(&lower);
    if let Some((_, c)) = STAGES.iter().find(|(p, _)| lower.starts_with(p)) {
        return Some((*c).to_string());
    }
    let word: String =
        lower.chars().take_while(char::is_ascii_alphabetic).collect();
    let c = match word.as_str() {
        "ehlo" | "helo" | "lhlo" => "HELO",
        "mail" => "MAIL",
        "rcpt" => "RCPT",
        "data" | "bdat" => "DATA",
        _ => return None,
    };
    Some(c.to_string())
}

static AFTER_COMMAND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:\bafter|>>>)\s+").unwrap());

/// The first command a report's text blames: "... after RCPT TO:<..>",
/// "after end of data", or a `>>> MAIL FROM:` transcript line.
pub(crate) fn command_in(text: &str) -> Option<String> {
    AFTER_COMMAND.find_iter(text).find_map(|m| command_word(&text[m.end()..]))
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
        // The expressions are tried only on lines that can match: a
        // verdict starts with its reply code, the host line with "while"
        // (`w` has no other case-folded form).
        let verdict = line.starts_with(['2', '4', '5']);
        let talking =
            line.strip_prefix("... ").unwrap_or(line).starts_with(['w', 'W']);
        if let Some(c) = talking.then(|| TALKING.captures(line)).flatten() {
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
        } else if let Some(c) =
            verdict.then(|| HOST_LINE.captures(line)).flatten()
        {
            host_row.get_or_insert_with(|| Row {
                diagnostic: Some(c[2].to_string()),
                reply_code: Some(c[1].to_string()),
                ..Row::default()
            });
        } else if let Some(c) =
            verdict.then(|| RESULT_LINE.captures(line)).flatten()
        {
            let Some(addr) = clean_address(&c[2]) else { continue };
            let rest = c[3].trim();
            let about_addr = match &ex.rcpt {
                Some(r) => r.eq_ignore_ascii_case(&addr),
                None => true,
            };
            let remote = (!ex.reply.is_empty() && about_addr)
                .then(|| join_reply(&ex.reply));
            let inner = reply_code_in(rest)
                .filter(|_| rest.starts_with(|ch: char| ch.is_ascii_digit()));
            let (diagnostic, reply_code, status) = match (&remote, inner) {
                (_, Some(code)) => {
                    (rest.to_string(), Some(code), status_in(rest))
                }
                (Some(r), None) => (r.clone(), reply_code_in(r), status_in(r)),
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

/// Reads the command, remote host and remote response of one recipient's
/// lines.
pub(crate) fn smtp_details(lines: &[&str]) -> Smtp {
    let joined = lines.join(" ");
    let transcript: Vec<&str> =
        lines.iter().filter_map(|l| l.trim().strip_prefix("<<<")).collect();
    let host_reply = HOST_REPLY.captures(&joined);
    let host =
        host_reply.as_ref().map(|c| c[1].trim_matches(['[', ']']).to_string());
    let response = if !transcript.is_empty() {
        Some(join_reply(&transcript))
    } else {
        host_reply.map(|c| c[2].trim().to_string()).filter(|r| !r.is_empty())
    };
    Smtp { command: command_in(&joined), host, response }
}

static HOST_BEFORE_IP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)\.?\s*[(\[]\s*(?:ipv6:)?[0-9a-f.:]+\s*[)\]]")
        .unwrap()
});

/// The first host name written before a bracketed IP address
/// (`mx.example.org. [192.0.2.1]`, `mx.example.org (192.0.2.1)`).
pub(crate) fn host_before_ip(text: &str) -> Option<String> {
    HOST_BEFORE_IP
        .captures(text)
        .map(|c| c[1].trim_end_matches('.').to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::rows::block_row;
    use crate::detect::scan::search::is_sorted_table;
    use crate::detect::scan::section::address_blocks;

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
    fn stages_are_sorted() {
        assert!(is_sorted_table(STAGES));
    }

    #[test]
    fn commands_are_named_by_verb_or_stage() {
        assert_eq!(
            command_word("EHLO mx.example.org").as_deref(),
            Some("HELO")
        );
        assert_eq!(
            command_word("pipelined RCPT TO:<a@b>").as_deref(),
            Some("RCPT")
        );
        assert_eq!(command_word("end of data:").as_deref(), Some("DATA"));
        assert_eq!(command_word("mailbox full"), None);
        assert_eq!(
            command_in("refused after 3 tries, after MAIL FROM:<s@x>")
                .as_deref(),
            Some("MAIL")
        );
        assert_eq!(command_in(">>> DATA").as_deref(), Some("DATA"));
    }

    #[test]
    fn hosts_before_ip_addresses() {
        assert_eq!(
            host_before_ip("rejected by mx.example.org. [192.0.2.1]."),
            Some("mx.example.org".into())
        );
        assert_eq!(
            host_before_ip(
                "[(0) mx.example.net. [2001:db8::1]:25: socket error]"
            ),
            Some("mx.example.net".into())
        );
        assert_eq!(host_before_ip("no host here"), None);
    }

    #[test]
    fn transcripts_and_labels() {
        let t = "Recipient: <a@example.org>\n>>> MAIL FROM:<s@example.net>\n<<< 550 sender refused\n<a@example.org>\n";
        let blocks = address_blocks(t, &["recipient:"]);
        assert_eq!(blocks.len(), 1);
        let r = block_row(&blocks[0], &[]);
        assert_eq!(r.command.as_deref(), Some("MAIL"));
        assert_eq!(r.reply_code.as_deref(), Some("550"));
    }
}
