//! Reading one message: from raw bytes to a [`Mail`] view, and nothing
//! above it (detectors, classification and the pipeline that runs them
//! live in `detect`, `classify` and `pipeline`).
//!
//! [`prepare`] checks that the bytes are a message and normalises line
//! endings once, so nothing downstream branches on CRLF or bare CR;
//! [`Reader::read`] parses the MIME structure with `mail-parser` and builds
//! the [`Mail`] view. The submodules read what `mail-parser` does not:
//! RFC 3464/6533 delivery-status fields ([`dsn`]), field blocks and the
//! codes and addresses in texts ([`fields`]) and the returned original
//! ([`returned`]).

pub mod dsn;
pub mod fields;
pub mod returned;

mod html;
mod mail;
mod text;

use std::borrow::Cow;

use mail_parser::MessageParser;

use crate::error::ParseError;

pub use html::html_to_text;
pub use mail::{Mail, TEXT_LIMIT};
pub use text::{merge_blocks, normalise_bytes, normalise_text, part_text};

/// The MIME reader, configured once: build one and read every message
/// with it.
pub struct Reader {
    mime: MessageParser,
}

impl Default for Reader {
    fn default() -> Self {
        Reader { mime: mime_parser() }
    }
}

impl Reader {
    /// Parses bytes that [`prepare`] accepted into the detectors' view.
    pub fn read<'x>(&self, bytes: &'x [u8]) -> Result<Mail<'x>, ParseError> {
        let msg = self
            .mime
            .parse(bytes)
            .ok_or_else(|| ParseError::NotMail("no MIME structure".into()))?;
        if msg.headers().is_empty() {
            return Err(ParseError::NotMail(
                "no header section (the input does not start with `Name: value` lines)".into(),
            ));
        }
        Ok(Mail::build(msg))
    }
}

/// Checks that `raw` (without a postmark line, see [`strip_postmark`]) is
/// a message and gives its bytes with LF line ends and a final line end.
/// Blank lines and blanks before the first header field (a message pasted
/// into a file or a tool) are not part of the message and are dropped.
pub fn prepare(raw: &[u8]) -> Result<Cow<'_, [u8]>, ParseError> {
    let Some(start) = raw.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(ParseError::Empty);
    };
    let raw = &raw[start..];
    if !starts_with_header(raw) {
        return Err(ParseError::NotMail(
            "the first line is not a header field (`Name: value`)".into(),
        ));
    }
    let mut bytes = normalise_bytes(raw);
    if !bytes.ends_with(b"\n") {
        // mail-parser drops a last header field without a line end
        // (a message cut off inside its header section).
        bytes.to_mut().push(b'\n');
    }
    Ok(bytes)
}

/// The canonical form of a message that [`prepare`] accepted: the form
/// that identifies it whatever copy it was read from. [`prepare`] already
/// dropped the postmark line and leading blank lines and made the line
/// ends LF; here `>From ` quoting (any number of `>`, as mbox writers add
/// and mbox readers remove) is undone and the trailing blank lines are
/// dropped (one line end is kept), so an `.eml` file, the same message
/// fetched over IMAP (CRLF) and its copy read from an mbox agree.
pub fn canonical(prepared: &[u8]) -> Cow<'_, [u8]> {
    let end = prepared
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let quoted = |line: &[u8]| {
        line.iter()
            .position(|&b| b != b'>')
            .is_some_and(|i| i > 0 && line[i..].starts_with(b"From "))
    };
    let body = &prepared[..end];
    if prepared.len() == end + 1 && !body.split(|&b| b == b'\n').any(quoted) {
        return Cow::Borrowed(prepared);
    }
    let mut out = Vec::with_capacity(end + 1);
    for line in body.split(|&b| b == b'\n') {
        let skip = if quoted(line) {
            line.iter().take_while(|&&b| b == b'>').count()
        } else {
            0
        };
        out.extend_from_slice(&line[skip..]);
        out.push(b'\n');
    }
    Cow::Owned(out)
}

/// The MIME parser: the structure and the MIME headers as
/// `MessageParser::default()` reads them, plus the typed outer headers the
/// parser reads (Subject, From, Date, Message-ID). Every other header is
/// only delimited, not parsed (it is read raw, through [`Mail::header`] and
/// `headers_raw`, which use the field's offsets): the costly structured
/// parse of `Received` and address lists is skipped.
fn mime_parser() -> MessageParser {
    use mail_parser::HeaderName;
    MessageParser::new()
        .with_mime_headers()
        .header_text(HeaderName::Subject)
        .header_address(HeaderName::From)
        .header_date(HeaderName::Date)
        .header_id(HeaderName::MessageId)
        .default_header_ignore()
}

/// `raw` without a leading mbox postmark line (`From sender date`, RFC
/// 4155), which is not part of the message: some deliveries into a Maildir
/// keep it, and a message fetched over IMAP then starts with it. The same
/// message read from an mbox file comes without it, and the two give the
/// same report.
pub fn strip_postmark(raw: &[u8]) -> &[u8] {
    if !crate::input::looks_like_mbox(raw) {
        return raw;
    }
    let end = raw
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(raw.len());
    let rest = &raw[end..];
    rest.strip_prefix(b"\r\n")
        .or_else(|| rest.strip_prefix(b"\n"))
        .or_else(|| rest.strip_prefix(b"\r"))
        .unwrap_or(rest)
}

/// True when the first line of `raw` is a header field: a name of
/// printable ASCII without spaces, then a colon.
fn starts_with_header(line: &[u8]) -> bool {
    let end = line
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(line.len());
    let line = &line[..end];
    match line.iter().position(|&b| b == b':') {
        Some(i) if i > 0 => line[..i].iter().all(|&b| b.is_ascii_graphic()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_before_the_header_are_dropped() {
        let msg = b"From: a@example.org\nSubject: x\n\nbody\n";
        for lead in ["", "\n", " \r\n\t\n", "\n\n  "] {
            let raw = [lead.as_bytes(), msg].concat();
            let got = prepare(&raw).unwrap();
            assert_eq!(&got[..], msg, "{lead:?}");
            let mail = Reader::default().read(&got).unwrap();
            assert_eq!(mail.from, "a@example.org", "{lead:?}");
        }
        assert!(matches!(prepare(b" \n\r\n"), Err(ParseError::Empty)));
        assert!(matches!(prepare(b"\nnot mail"), Err(ParseError::NotMail(_))));
    }
}
