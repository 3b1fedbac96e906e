//! Text scanning shared by the detectors of plain-text reports (classic
//! MTAs such as qmail, Exim and Sendmail; large providers; gateways,
//! carriers and regional providers): finding marker lines, cutting out the
//! section between a format's markers, splitting it into per-recipient
//! blocks, joining multi-line SMTP replies, naming the SMTP command a text
//! blames, reading a Sendmail-style session transcript, Exim-style
//! `host H [ip]: reply` lines and host names written before an IP address,
//! phrase tables, and merging the rows read from the text with the rows of
//! the report's delivery-status part.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use regex::Regex;

use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{
    address_in, clean_address, reply_code_in, status_in,
};

/// The lines of `text` with the byte offset each starts at.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |offset, line| {
        let start = *offset;
        *offset += line.len();
        Some((start, line.trim_end_matches(['\n', '\r'])))
    })
}

/// True when `text` contains one of `markers`, compared case-insensitively
/// (without copying `text` for ASCII markers).
pub(crate) fn has_marker(text: &str, markers: &[&str]) -> bool {
    let mut lower = None;
    markers.iter().any(|m| {
        if m.is_ascii() {
            contains_ci(text, m)
        } else if text.is_ascii() {
            // A non-ASCII marker stays non-ASCII lower-cased.
            false
        } else {
            lower
                .get_or_insert_with(|| text.to_lowercase())
                .contains(&m.to_lowercase())
        }
    })
}

/// True when `text` contains the ASCII `needle`, ignoring ASCII case.
fn contains_ci(text: &str, needle: &str) -> bool {
    find_ci(text, needle).is_some()
}

/// Where the ASCII `needle` first occurs in `text`, ignoring ASCII case.
/// Candidates are found by the needle's rarest byte in ordinary text (a
/// memchr over its two cases), then the whole needle is compared there.
pub(crate) fn find_ci(text: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (text.as_bytes(), needle.as_bytes());
    if needle.is_empty() {
        return Some(0);
    }
    if hay.len() < needle.len() {
        return None;
    }
    let k = (0..needle.len())
        .min_by_key(|&i| commonness(needle[i]))
        .expect("the needle is not empty");
    let b = needle[k];
    let (lo, up) = (b.to_ascii_lowercase(), b.to_ascii_uppercase());
    // Byte k of every possible match lies in this window.
    let window = &hay[k..=hay.len() - needle.len() + k];
    memchr::memchr2_iter(lo, up, window)
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// How often each byte occurs in ordinary English mail text, as a rank
/// (higher is more common): spaces and the most frequent letters first
/// (either case), then the rest of the letters by frequency; digits,
/// punctuation and other bytes count as rare (0).
static COMMONNESS: [u8; 256] = {
    const BY_FREQUENCY: &[u8] = b" etaoinsrhldcumfpgwybvkxjqz";
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < BY_FREQUENCY.len() {
        let rank = (BY_FREQUENCY.len() - i) as u8;
        let c = BY_FREQUENCY[i];
        table[c as usize] = rank;
        table[c.to_ascii_uppercase() as usize] = rank;
        i += 1;
    }
    table
};

/// [`COMMONNESS`] of `b`.
fn commonness(b: u8) -> u8 {
    COMMONNESS[usize::from(b)]
}

/// The first line of `text` that contains one of `markers` (see
/// [`has_marker`]), as [`lines`] gives it. ASCII markers (which hold no
/// line break) are searched in the whole text at once: the line of the
/// earliest hit is the first line with a hit.
fn first_line_with<'t>(
    text: &'t str,
    markers: &[&str],
) -> Option<(usize, &'t str)> {
    if !markers.iter().all(|m| m.is_ascii() && !m.contains(['\n', '\r'])) {
        return lines(text).find(|(_, l)| has_marker(l, markers));
    }
    if text.is_empty() {
        return None;
    }
    let hit = markers.iter().filter_map(|m| find_ci(text, m)).min()?;
    let start = text[..hit].rfind('\n').map_or(0, |i| i + 1);
    let end = text[hit..].find('\n').map_or(text.len(), |i| hit + i);
    Some((start, text[start..end].trim_end_matches(['\n', '\r'])))
}

/// [`has_marker`] over the whole text of a message, searched in its
/// lower-cased view (made once per message).
pub(crate) fn text_has_marker(mail: &Mail<'_>, markers: &[&str]) -> bool {
    markers.iter().any(|m| {
        if m.chars().any(char::is_uppercase) {
            mail.lower_has(&m.to_lowercase())
        } else {
            mail.lower_has(m)
        }
    })
}

/// The first line of `text` that contains a phrase of `table` (see
/// [`lookup`]): its byte offset, the offset just after it, and the
/// phrase's value.
pub(crate) fn find_line<T: Copy>(
    text: &str,
    table: &[(&str, T)],
) -> Option<(usize, usize, T)> {
    lines(text).find_map(|(start, line)| {
        let end = (start + line.len() + 1).min(text.len());
        lookup(line, table).map(|v| (start, end, v))
    })
}

/// The lines after the first line that contains one of `starts`, up to
/// (not including) the first later line that contains one of `ends`; the
/// rest of the text when no end marker follows. Markers are compared
/// case-insensitively. `None` when no start marker is found.
pub(crate) fn section<'t>(
    text: &'t str,
    starts: &[&str],
    ends: &[&str],
) -> Option<&'t str> {
    let begin = first_line_with(text, starts)
        .map(|(at, l)| (at + l.len() + 1).min(text.len()))?;
    Some(until(&text[begin..], ends))
}

/// `text` up to (not including) the first line that contains one of
/// `ends` (case-insensitive), or all of it.
pub(crate) fn until<'t>(text: &'t str, ends: &[&str]) -> &'t str {
    let end = first_line_with(text, ends).map_or(text.len(), |(at, _)| at);
    &text[..end]
}

/// The words of `text` joined with single spaces (line breaks and runs of
/// blanks collapsed).
pub(crate) fn join(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Which lines after a block's head line belong to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Lines indented deeper than the head (Postfix, Exim).
    Indented,
    /// Every line up to the next blank line (qmail).
    Paragraph,
    /// Every non-blank line up to the next head line (gateway reports).
    NextHead,
}

/// A recipient block: what names the recipient (the head line, or the
/// address read from it) and the lines that explain the failure (trimmed,
/// blank lines dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block<'t, H = &'t str> {
    /// The head line, trimmed, or the address it names.
    pub head: H,
    /// The following lines, trimmed.
    pub body: Vec<&'t str>,
}

impl<H> Block<'_, H> {
    /// The body lines joined with single spaces.
    pub fn body_text(&self) -> String {
        self.body.join(" ")
    }
}

/// Splits `section` into blocks, each starting at a line `is_head`
/// accepts; lines before the first head are ignored. A block ends at the
/// next head line; with [`Follow::Indented`] and [`Follow::Paragraph`] also
/// at a blank line, and with [`Follow::Indented`] at the first line not
/// indented deeper than its head.
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
            if follow != Follow::NextHead {
                open = None;
            }
        } else if is_head(line) {
            out.push(Block { head: line.trim(), body: Vec::new() });
            open = Some(depth);
        } else if let Some(head_depth) = open {
            if follow != Follow::Indented || depth > head_depth {
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

static ADDRESS_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^["<]*([^\s"<>@()]+@[^\s"<>@()]+?)[">]*(?::\s*|\s+|$)(.*)$"#)
        .unwrap()
});

/// The address a line starts with (bare, quoted or in angle brackets,
/// after one of `labels` such as `Recipient:`) and the rest of the line.
fn address_head<'t>(
    line: &'t str,
    labels: &[&str],
) -> Option<(String, &'t str)> {
    let t = line.trim();
    let bare = labels
        .iter()
        .find_map(|l| strip_prefix_ci(t, l))
        .map_or(t, str::trim_start);
    let c = ADDRESS_LINE.captures(bare)?;
    let addr = clean_address(c.get(1)?.as_str())?;
    Some((addr, c.get(2).map_or("", |m| m.as_str()).trim()))
}

/// Splits `section` into recipient blocks headed by the address: a line
/// that starts with an address (see `address_head`) opens a block; the rest
/// of that line and the non-blank lines up to the next address line belong
/// to it. A line that repeats the current block's address is a wrapped
/// continuation, not a new block.
pub(crate) fn address_blocks<'t>(
    section: &'t str,
    labels: &[&str],
) -> Vec<Block<'t, String>> {
    let mut out: Vec<Block<'t, String>> = Vec::new();
    let heads = blocks(
        section,
        |l| address_head(l, labels).is_some(),
        Follow::NextHead,
    );
    for b in heads {
        let Some((addr, rest)) = address_head(b.head, labels) else {
            continue;
        };
        match out.last_mut() {
            Some(cur) if cur.head.eq_ignore_ascii_case(&addr) => {
                cur.body.push(b.head);
                cur.body.extend(b.body);
            }
            _ => {
                let mut body: Vec<&str> =
                    (!rest.is_empty()).then_some(rest).into_iter().collect();
                body.extend(b.body);
                out.push(Block { head: addr, body });
            }
        }
    }
    out
}

pub(crate) fn strip_prefix_ci<'a>(
    s: &'a str,
    prefix: &str,
) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
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

/// The value of the first `(phrase, value)` row whose phrase `text`
/// contains (compared lower-case; phrases are lower-case).
pub(crate) fn lookup<T: Copy>(text: &str, table: &[(&str, T)]) -> Option<T> {
    table
        .iter()
        .find(|(m, _)| has_marker(text, std::slice::from_ref(m)))
        .map(|(_, v)| *v)
}

/// [`lookup`] over the whole text of a message, in its lower-cased view.
pub(crate) fn text_lookup<T: Copy>(
    mail: &Mail<'_>,
    table: &[(&str, T)],
) -> Option<T> {
    table.iter().find(|(m, _)| mail.lower_has(m)).map(|(_, v)| *v)
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

/// A row for an address block: its text as diagnostic, the reason of the
/// first of `phrases` it contains, and the command, remote host, reply
/// code and status read from it (codes only from what the remote server
/// said when the text quotes it).
pub(crate) fn block_row(
    block: &Block<'_, String>,
    phrases: &[(&str, Reason)],
) -> Row {
    let smtp = smtp_details(&block.body);
    let text = block.body_text();
    let said = smtp.response.as_deref().unwrap_or(&text);
    Row {
        recipient: Some(block.head.clone()),
        status: status_in(said),
        reply_code: reply_code_in(said),
        reason: lookup(&text, phrases),
        diagnostic: (!text.is_empty()).then_some(text),
        remote_mta: smtp.host,
        command: smtp.command,
        ..Row::default()
    }
}

/// Merges the rows read from a report's text into the rows of its
/// delivery-status part. A text row matches a DSN row about the same
/// recipient (case-insensitive; a single text row matches a single DSN
/// row). The DSN row takes from it a missing recipient, command, remote
/// MTA, reply code or reason, a fuller diagnostic, and the status the
/// remote server itself gave (it beats the reporting MTA's mapping). A status leading
/// the diagnostic (`552 5.2.2 ...`, the remote server's own) beats the
/// DSN's. Text rows that match no DSN row are added; with no DSN rows the
/// text rows are the result.
pub(crate) fn merge_with_dsn(dsn: Vec<Row>, text: Vec<Row>) -> Vec<Row> {
    if dsn.is_empty() {
        return text;
    }
    let single = dsn.len() == 1 && text.len() == 1;
    let mut used = vec![false; text.len()];
    let mut out: Vec<Row> = dsn
        .into_iter()
        .map(|mut row| {
            let same = |f: &Row| {
                single
                    || matches!((&row.recipient, &f.recipient),
                        (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
            };
            if let Some(i) = text.iter().position(same) {
                used[i] = true;
                let f = text[i].clone();
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
            }
            row
        })
        .collect();
    out.extend(text.into_iter().zip(used).filter(|(_, u)| !u).map(|(t, _)| t));
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

/// True when the message has an outer header whose name starts with one
/// of `prefixes` (ASCII, lower-case; compared ignoring case).
pub(crate) fn has_header_prefixed(mail: &Mail<'_>, prefixes: &[&str]) -> bool {
    mail.headers_where(|n| {
        prefixes.iter().any(|p| strip_prefix_ci(n, p).is_some())
    })
    .next()
    .is_some()
}

/// True when some outer header `name` (any occurrence, e.g. every
/// `Received`) contains one of `needles` (case-insensitive).
pub(crate) fn header_contains(
    mail: &Mail<'_>,
    name: &str,
    needles: &[&str],
) -> bool {
    mail.headers_where(|n| n.eq_ignore_ascii_case(name))
        .any(|(_, v)| has_marker(v, needles))
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

/// The text to scan: the message's human-readable text, or, when that
/// lacks `marker` (a part whose MIME header is broken, e.g. a boundary
/// parameter on an unfolded line), the raw body after the header section.
pub(crate) fn text_with<'a>(mail: &'a Mail<'_>, marker: &str) -> Cow<'a, str> {
    if mail.lower_has(marker) {
        return Cow::Borrowed(&mail.text);
    }
    String::from_utf8_lossy(mail.raw_body())
}

/// True when the text [`text_with`] gives for `marker` contains all of
/// `needles` (case-sensitive, searchers set up once by the caller),
/// without copying the raw body. The lower-cased text is consulted only
/// when the text and the raw body disagree (most messages contain the
/// needles in neither).
pub(crate) fn text_with_has(
    mail: &Mail<'_>,
    marker: &str,
    needles: &[Finder<'_>],
) -> bool {
    let all_in = |hay: &[u8]| needles.iter().all(|n| n.find(hay).is_some());
    let in_text = all_in(mail.text.as_bytes());
    let in_raw = all_in(mail.raw_body());
    if in_text == in_raw {
        return in_text;
    }
    if mail.lower_has(marker) { in_text } else { in_raw }
}

/// True when the keys of a phrase table are lower-case, sorted and
/// unique (for the tables' unit tests).
#[cfg(test)]
pub(crate) fn is_sorted_table<T>(table: &[(&str, T)]) -> bool {
    is_sorted_keys(table.iter().map(|(k, _)| *k))
}

/// True when `keys` (a marker list, or a table's keys) are lower-case,
/// sorted and unique.
#[cfg(test)]
pub(crate) fn is_sorted_keys<'a>(
    keys: impl IntoIterator<Item = &'a str>,
) -> bool {
    let keys: Vec<&str> = keys.into_iter().collect();
    keys.windows(2).all(|w| w[0] < w[1])
        && keys.iter().all(|k| k.to_lowercase() == *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole-text search finds the line the line-by-line one found.
    #[test]
    fn first_line_with_is_the_line_by_line_search() {
        let texts = [
            "",
            "one\ntwo Marker here\nthree marker\n",
            "no\r\nMARKER x\r\n",
            "a\nb\nlast line has the marker",
            "marker at the start\n",
            "ümlaut line\n  --- Original Message ---\nx",
            "none of them\n",
        ];
        let sets: [&[&str]; 4] = [
            &["marker"],
            &["original message", "marker"],
            &["zzz", "x"],
            &[""],
        ];
        for t in texts {
            for m in sets {
                let by_line = lines(t).find(|(_, l)| has_marker(l, m));
                assert_eq!(first_line_with(t, m), by_line, "{t:?} {m:?}");
            }
        }
    }

    /// The rare-byte search finds what a plain left-to-right search
    /// finds: every needle over an alphabet mixing cases, rare and common
    /// letters, digits and a non-ASCII char, in every text of that
    /// alphabet up to 6 chars and in longer texts with repeats.
    #[test]
    fn find_ci_is_the_plain_search() {
        let naive = |t: &str, n: &str| {
            let (t, n) = (t.as_bytes(), n.as_bytes());
            if t.len() < n.len() {
                return None;
            }
            (0..=t.len() - n.len())
                .find(|&i| t[i..i + n.len()].eq_ignore_ascii_case(n))
        };
        let alphabet = ['e', 'Z', 'z', ' ', '1', 'é'];
        let mut texts = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..6 {
            last = last
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(last.iter().cloned());
        }
        texts.push("eeeZeeeZzzEz ez 1z".repeat(5));
        let needles =
            ["", "e", "z", "Ez", "ze ", "e1", "ZZE", " z1e", "eZz e", "1"];
        for t in &texts {
            for n in needles {
                assert_eq!(find_ci(t, n), naive(t, n), "{t:?} {n:?}");
            }
        }
    }

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
        let rows = merge_with_dsn(dsn, found);
        assert_eq!(rows[0].command.as_deref(), Some("RCPT"));
        assert_eq!(rows[0].status.as_deref(), Some("5.7.1"));
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
    fn lines_until_and_join() {
        let l: Vec<_> = lines("a\nbc\r\n").collect();
        assert_eq!(l, vec![(0, "a"), (2, "bc")]);
        assert_eq!(until("a\nb\n--- End\n", &["--- end"]), "a\nb\n");
        assert_eq!(until("a\nb\n", &["x"]), "a\nb\n");
        assert_eq!(join(" a\n\n  b "), "a b");
        assert_eq!(
            find_line("x\nGave UP on it\n", &[("gave up", 7)]),
            Some((2, 16, 7))
        );
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
    fn section_markers_ignore_case() {
        let t = "intro\nThe following address failed:\n\n  a@example.org\n--- END\nmore\n";
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
        let r = block_row(&blocks[0], &[]);
        assert_eq!(r.recipient.as_deref(), Some("a@example.org"));
        assert_eq!(r.command.as_deref(), Some("RCPT"));
        assert_eq!(r.remote_mta.as_deref(), Some("mx.example.org"));
        assert_eq!(r.reply_code.as_deref(), Some("550"));
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
        let r = block_row(&blocks[1], &[]);
        assert_eq!(r.recipient.as_deref(), Some("b@example.org"));
        assert_eq!(r.diagnostic.as_deref(), Some("retry timeout exceeded"));
        assert_eq!(r.reply_code, None);
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

    #[test]
    fn text_fills_gaps_and_adds_recipients() {
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
        assert_eq!(rows[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(rows[0].command.as_deref(), Some("RCPT"));
        assert_eq!(rows[1].recipient.as_deref(), Some("b@example.org"));
    }
}
