//! Line-scanning helpers shared by the detectors of plain-text reports:
//! finding marker lines from a table, cutting the section between two
//! markers, reading `<address>:` blocks, and refining a row's codes from
//! its diagnostic. Markers are lower-case and matched against lower-cased
//! lines, so tables stay readable and case does not matter.

use std::sync::LazyLock;

use regex::Regex;

use super::Row;
use crate::parse::Mail;
use crate::parse::fields::{self, clean_address};

/// True when an outer header called `name` (any of them, e.g. every
/// `Received`) contains one of `markers` (lower-case).
pub fn header_has(mail: &Mail<'_>, name: &str, markers: &[&str]) -> bool {
    mail.msg
        .headers_raw()
        .any(|(n, v)| n.eq_ignore_ascii_case(name) && has_marker(v, markers))
}

/// The lines of `text` with the byte offset each starts at.
pub fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |offset, line| {
        let start = *offset;
        *offset += line.len();
        Some((start, line.trim_end_matches(['\n', '\r'])))
    })
}

/// The first entry of `table` whose marker (lower-case) occurs in `line`.
pub fn marker_in<'t, T>(line: &str, table: &'t [(&str, T)]) -> Option<&'t T> {
    let lower = line.to_lowercase();
    table.iter().find(|(m, _)| lower.contains(m)).map(|(_, v)| v)
}

/// True when `line` contains one of `markers` (lower-case).
pub fn has_marker(line: &str, markers: &[&str]) -> bool {
    let lower = line.to_lowercase();
    markers.iter().any(|m| lower.contains(m))
}

/// The first line of `text` that contains an entry of `table`: its byte
/// offset, the offset just after it, and the entry's value.
pub fn find_line<'t, T>(
    text: &str,
    table: &'t [(&str, T)],
) -> Option<(usize, usize, &'t T)> {
    lines(text).find_map(|(start, line)| {
        let end = (start + line.len() + 1).min(text.len());
        marker_in(line, table).map(|v| (start, end, v))
    })
}

/// The text after the first line containing one of `starts`, up to (not
/// including) the first later line containing one of `ends`, or to the end.
pub fn section<'a>(
    text: &'a str,
    starts: &[&str],
    ends: &[&str],
) -> Option<&'a str> {
    let (_, from) = lines(text).find_map(|(start, line)| {
        has_marker(line, starts)
            .then(|| (start, (start + line.len() + 1).min(text.len())))
    })?;
    Some(until(&text[from..], ends))
}

/// `text` up to the first line containing one of `ends`.
pub fn until<'a>(text: &'a str, ends: &[&str]) -> &'a str {
    let end = lines(text)
        .find(|(_, line)| has_marker(line, ends))
        .map_or(text.len(), |(start, _)| start);
    &text[..end]
}

/// Joins the non-blank lines of `text` with single spaces.
pub fn join(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

static ANGLE_ADDRESS_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*<([^<>\s]+@[^<>\s]+)>:?\s*$").unwrap());

/// The `<address>:` blocks of a qmail-style report: each address line and
/// the text of the lines that follow it, up to the next address line or a
/// blank line after some text.
pub fn angle_blocks(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut open = false;
    for (_, line) in lines(text) {
        if let Some(c) = ANGLE_ADDRESS_LINE.captures(line)
            && let Some(a) = clean_address(&c[1])
        {
            out.push((a, String::new()));
            open = true;
            continue;
        }
        let Some((_, body)) = out.last_mut().filter(|_| open) else {
            continue;
        };
        if line.trim().is_empty() {
            open = body.is_empty();
            continue;
        }
        if !body.is_empty() {
            body.push(' ');
        }
        body.push_str(line.trim());
    }
    out
}

static HOST_BEFORE_IP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)\.?\s*[(\[]\s*(?:ipv6:)?[0-9a-f.:]+\s*[)\]]")
        .unwrap()
});

/// The first host name written before a bracketed IP address
/// (`mx.example.org. [192.0.2.1]`, `mx.example.org (192.0.2.1)`).
pub fn host_before_ip(text: &str) -> Option<String> {
    HOST_BEFORE_IP
        .captures(text)
        .map(|c| c[1].trim_end_matches('.').to_ascii_lowercase())
}

/// Fills a row's status and reply code from its diagnostic when they are
/// missing, and replaces a generic status (`5.0.0`, `4.0.0`) by a more
/// specific one of the same class that the diagnostic quotes.
pub fn refine(row: &mut Row) {
    let Some(diag) = row.diagnostic.as_deref() else {
        return;
    };
    let quoted = fields::status_in(diag);
    match (&row.status, quoted) {
        (None, q) => row.status = q,
        (Some(s), Some(q))
            if s.ends_with(".0.0")
                && !q.ends_with(".0.0")
                && s[..1] == q[..1] =>
        {
            row.status = Some(q);
        }
        _ => {}
    }
    if row.reply_code.is_none() {
        row.reply_code = fields::reply_code_in(diag);
    }
}

/// Asserts that a marker table is lower-case, sorted and without
/// duplicates (the convention of every `#[rustfmt::skip]` table).
#[cfg(test)]
pub fn assert_table<'a>(name: &str, keys: impl IntoIterator<Item = &'a str>) {
    let keys: Vec<&str> = keys.into_iter().collect();
    for k in &keys {
        assert_eq!(*k, k.to_lowercase(), "{name}: {k:?} is not lower-case");
    }
    for w in keys.windows(2) {
        assert!(w[0] < w[1], "{name}: {:?} must sort before {:?}", w[1], w[0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_lines() {
        let t = "Intro\nSTART here\na\nb\n--- end\nc\n";
        assert_eq!(section(t, &["start"], &["--- end"]), Some("a\nb\n"));
        assert_eq!(section(t, &["nothing"], &[]), None);
        assert_eq!(until("a\nb\n", &["x"]), "a\nb\n");
        let l: Vec<_> = lines("a\nbc\n").collect();
        assert_eq!(l, vec![(0, "a"), (2, "bc")]);
        assert_eq!(join(" a\n\n  b "), "a b");
    }

    #[test]
    fn angle_blocks_collect_the_error_text() {
        let t = "Sorry.\n\n<a@example.org>:\nRemote host said: 550 no\nsuch user\n\n<b@example.org>:\n452 full\n\n--- Below\n";
        assert_eq!(
            angle_blocks(t),
            vec![
                (
                    "a@example.org".into(),
                    "Remote host said: 550 no such user".into()
                ),
                ("b@example.org".into(), "452 full".into()),
            ]
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
    fn generic_status_is_refined() {
        let mut r = Row {
            status: Some("5.0.0".into()),
            diagnostic: Some("550 #5.1.0 Address rejected".into()),
            ..Row::default()
        };
        refine(&mut r);
        assert_eq!(r.status.as_deref(), Some("5.1.0"));
        assert_eq!(r.reply_code.as_deref(), Some("550"));
        let mut r = Row {
            status: Some("5.1.1".into()),
            diagnostic: Some("550 5.7.1 denied".into()),
            ..Row::default()
        };
        refine(&mut r);
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
    }
}
