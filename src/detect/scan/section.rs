//! Cutting a report's text: the section between a format's markers, and
//! that section split into per-recipient blocks (by head lines,
//! indentation, paragraphs or leading addresses).

use std::sync::LazyLock;

use regex::Regex;

use super::search::{first_line_with, strip_prefix_ci};
use crate::parse::fields::clean_address;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::rows::block_row;
    use crate::detect::scan::search::{find_line, join, lines};

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
}
