//! Text helpers every reader of a message shares: line-end normalisation,
//! Unicode lower-casing and substring tests tuned for report texts, and the
//! text and field blocks of a report part.

use std::borrow::Cow;

use mail_parser::{MessagePart, PartType};

use super::fields::{Fields, field_blocks};

/// `text.to_lowercase()`, with the ASCII runs of a mostly ASCII text
/// lower-cased in bulk rather than char by char.
pub(crate) fn lowercase(text: &str) -> String {
    // Only a capital sigma lower-cases by context (final ς): leave such
    // texts to std.
    if text.contains('Σ') {
        return text.to_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let ascii =
            rest.bytes().position(|b| !b.is_ascii()).unwrap_or(rest.len());
        let (run, tail) = rest.split_at(ascii);
        let start = out.len();
        out.push_str(run);
        out[start..].make_ascii_lowercase();
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_lowercase());
        }
        rest = chars.as_str();
    }
    out
}

/// `hay.contains(needle)` without the per-call set-up of a long needle's
/// search: std searches needles of up to 32 bytes with SIMD and no set-up,
/// so a long needle's head is looked for first, and the whole needle only
/// when its head occurs (markers are mostly absent).
pub(crate) fn contains(hay: &str, needle: &str) -> bool {
    let mut head = needle.len().min(32);
    while !needle.is_char_boundary(head) {
        head -= 1;
    }
    hay.contains(&needle[..head])
        && (head == needle.len() || hay.contains(needle))
}

/// The fields of every block of `text` as one list (a feedback-report or
/// disposition-notification part: blocks carry no meaning there).
pub fn merge_blocks(text: &str) -> Fields {
    Fields(
        field_blocks(&normalise_text(text))
            .into_iter()
            .flat_map(|b| b.0)
            .collect(),
    )
}

/// The text of a report part: a text part as decoded, any other leaf part's
/// bytes read as UTF-8 (invalid sequences replaced); `None` for a multipart
/// or a nested message.
pub fn part_text<'a>(part: &'a MessagePart<'_>) -> Option<Cow<'a, str>> {
    match &part.body {
        PartType::Text(t) | PartType::Html(t) => {
            Some(Cow::Borrowed(t.as_ref()))
        }
        PartType::Binary(b) | PartType::InlineBinary(b) => {
            Some(String::from_utf8_lossy(b))
        }
        PartType::Message(_) | PartType::Multipart(_) => None,
    }
}

/// Turns CRLF and bare CR into LF.
pub fn normalise_text(s: &str) -> Cow<'_, str> {
    if !s.contains('\r') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Turns CRLF and bare CR line ends of raw bytes into LF.
pub fn normalise_bytes(raw: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\r', raw).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = memchr::memchr(b'\r', rest) {
        out.extend_from_slice(&rest[..i]);
        out.push(b'\n');
        let skip = if rest.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
        rest = &rest[i + skip..];
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_are_normalised() {
        assert_eq!(&normalise_bytes(b"a\r\nb\rc\n")[..], b"a\nb\nc\n");
        assert!(matches!(normalise_bytes(b"a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn lowercase_is_std_lowercase() {
        for t in [
            "",
            "ABC def",
            "Grüße AUS KÖLN, İSTANBUL and \u{212A}ELVIN",
            "ΟΔΟΣ ΣΟΦΙΑ",
            "ПОЛЬЗОВАТЕЛЬ Не Найден: USER@EXAMPLE.ORG",
            "メールボックス FULL",
        ] {
            assert_eq!(lowercase(t), t.to_lowercase(), "{t}");
        }
    }
}
