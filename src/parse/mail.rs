//! [`Mail`]: a parsed message as the detectors see it: the MIME structure,
//! the decoded subject and sender, the human-readable text, the
//! delivery-status and feedback-report fields and the returned original,
//! gathered in one walk over the parts.

use std::cell::OnceCell;

use mail_parser::{Message, MimeHeaders, PartType};

use super::dsn::{self, Dsn};
use super::fields::{Fields, unfold};
use super::html::html_to_text;
use super::returned::{self, Returned};
use super::text::{contains, lowercase, merge_blocks, normalise_text};
use crate::model::Row;

/// At most this much human-readable text is collected from a message:
/// report texts are short, and a huge body is not scanned past it.
pub const TEXT_LIMIT: usize = 512 * 1024;

/// A parsed message as detectors see it.
pub struct Mail<'x> {
    /// The MIME structure.
    pub msg: Message<'x>,
    /// Decoded Subject, or empty.
    pub subject: String,
    /// From address, lower-cased, or empty.
    pub from: String,
    /// Human-readable text of the message (text parts outside the returned
    /// copy, or HTML turned into text), LF line ends, at most
    /// [`TEXT_LIMIT`] bytes.
    pub text: String,
    /// The delivery-status fields, from a part or, failing that, from the
    /// text.
    pub dsn: Option<Dsn>,
    /// The feedback-report fields (RFC 5965).
    pub feedback: Option<Fields>,
    /// The returned original's headers.
    pub returned: Option<Returned>,
    /// Content type of the root part, lower-cased (`multipart/report`).
    pub content_type: String,
    /// `text` lower-cased, made on first use by [`Mail::lower`].
    lower: OnceCell<String>,
}

impl<'x> Mail<'x> {
    /// An outer header, unfolded and trimmed; empty values count as absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let v = unfold(self.header_raw(name)?);
        (!v.is_empty()).then_some(v)
    }

    /// The outer header fields whose name `keep` accepts, as
    /// `headers_raw` gives them (name, raw value; a field whose value is
    /// not UTF-8 is left out). Names are tested first, so only the kept
    /// fields' values are read.
    pub fn headers_where<'a>(
        &'a self,
        keep: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let raw = self.msg.raw_message();
        self.msg
            .headers()
            .iter()
            .filter(move |h| keep(h.name.as_str()))
            .filter_map(move |h| {
                let value =
                    raw.get(h.offset_start as usize..h.offset_end as usize)?;
                Some((h.name.as_str(), std::str::from_utf8(value).ok()?))
            })
    }

    /// True when the outer header exists (whatever its value).
    pub fn has_header(&self, name: &str) -> bool {
        self.header_raw(name).is_some()
    }

    /// `Message::header_raw`: the raw value of the last outer header named
    /// `name` (any case), if it is UTF-8; the names are compared as they
    /// are, without mapping `name` to a `HeaderName` on every call.
    fn header_raw(&self, name: &str) -> Option<&str> {
        let h = self
            .msg
            .headers()
            .iter()
            .rev()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))?;
        let raw = self.msg.raw_message();
        std::str::from_utf8(
            raw.get(h.offset_start as usize..h.offset_end as usize)?,
        )
        .ok()
    }

    /// The text lower-cased (Unicode), computed once on first use: the view
    /// for case-insensitive searches over the whole text.
    pub fn lower(&self) -> &str {
        self.lower.get_or_init(|| lowercase(&self.text))
    }

    /// True when the text contains `needle` (case-sensitive).
    pub fn text_has(&self, needle: &str) -> bool {
        contains(&self.text, needle)
    }

    /// True when the lower-cased text ([`Mail::lower`]) contains `needle`
    /// (which must be lower-case).
    pub fn lower_has(&self, needle: &str) -> bool {
        contains(self.lower(), needle)
    }

    /// The raw body after the outer header section (LF line ends).
    pub fn raw_body(&self) -> &[u8] {
        let raw = self.msg.raw_message();
        memchr::memmem::find(raw, b"\n\n").map_or(&raw[..0], |i| &raw[i + 2..])
    }

    /// The first message attached whole (a `message/rfc822` part), read
    /// as a message of its own: a report that a list manager or a
    /// forwarding system wrapped in its own notice.
    pub fn attached(&self) -> Option<Mail<'x>> {
        self.msg.parts.iter().find_map(|p| match &p.body {
            PartType::Message(m) => Some(Mail::build(m.clone())),
            _ => None,
        })
    }

    /// The rows of the delivery-status part, if any.
    pub fn dsn_rows(&self) -> Vec<Row> {
        self.dsn.as_ref().map(Dsn::rows).unwrap_or_default()
    }

    pub(crate) fn build(msg: Message<'x>) -> Mail<'x> {
        let subject = msg.subject().unwrap_or("").trim().to_string();
        let from = msg
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or("")
            .to_ascii_lowercase();
        let content_type = msg
            .root_part()
            .content_type()
            .map(|c| mime_name(c.ctype(), c.subtype()))
            .unwrap_or_default();
        let mut text = String::new();
        let mut html = String::new();
        let mut dsn_text: Option<String> = None;
        let mut feedback = None;
        let mut returned = None;
        for part in &msg.parts {
            let ct = part
                .content_type()
                .map(|c| mime_name(c.ctype(), c.subtype()))
                .unwrap_or_default();
            match &part.body {
                PartType::Text(t) if ct.ends_with("rfc822-headers") => {
                    if returned.is_none() {
                        returned = Returned::from_text(&normalise_text(t));
                    }
                }
                PartType::Text(t) if ct.contains("delivery-status") => {
                    dsn_text.get_or_insert_with(|| t.to_string());
                }
                PartType::Text(t) if ct.contains("feedback-report") => {
                    feedback.get_or_insert_with(|| merge_blocks(t));
                }
                PartType::Text(t) => push_limited(&mut text, t),
                PartType::Html(h) => push_limited(&mut html, h),
                PartType::Binary(b) | PartType::InlineBinary(b) => {
                    // Only report parts are read as text: attachments
                    // (images, archives) are never decoded.
                    let s = || String::from_utf8_lossy(b);
                    if ct.contains("delivery-status") {
                        dsn_text.get_or_insert_with(|| s().into_owned());
                    } else if ct.contains("feedback-report") {
                        feedback.get_or_insert_with(|| merge_blocks(&s()));
                    } else if ct.ends_with("rfc822-headers")
                        || ct.starts_with("message/")
                    {
                        // text/rfc822-headers, or a message/global (RFC
                        // 6532) that was not parsed as a nested message:
                        // read its header section.
                        if returned.is_none() {
                            returned =
                                Returned::from_text(&normalise_text(&s()));
                        }
                    } else if ct.is_empty() || ct.starts_with("multipart/") {
                        // A multipart without a usable boundary: its body
                        // is still the human-readable report.
                        push_limited(&mut text, &s());
                    }
                }
                PartType::Message(nested) => {
                    if returned.is_none() {
                        let fields = Fields(
                            nested
                                .headers_raw()
                                .filter(|(n, _)| !returned::is_trace(n))
                                .map(|(n, v)| {
                                    (n.to_ascii_lowercase(), unfold(v))
                                })
                                .collect(),
                        );
                        returned = Returned::from_fields(fields);
                    }
                }
                PartType::Multipart(_) => {}
            }
        }
        if text.trim().is_empty() && !html.is_empty() {
            text = html_to_text(&html);
        }
        if text.contains('\r') {
            text = normalise_text(&text).into_owned();
        }
        let dsn = dsn_text
            .as_deref()
            .map(normalise_text)
            .and_then(|t| dsn::parse(&t))
            .or_else(|| dsn::parse_inline(&text));
        let returned = returned.or_else(|| returned::find_inline(&text));
        Mail {
            msg,
            subject,
            from,
            text,
            dsn,
            feedback,
            returned,
            content_type,
            lower: OnceCell::new(),
        }
    }
}

fn mime_name(ctype: &str, subtype: Option<&str>) -> String {
    let mut s = ctype.to_ascii_lowercase();
    if let Some(st) = subtype {
        s.push('/');
        s.push_str(&st.to_ascii_lowercase());
    }
    s
}

fn push_limited(out: &mut String, text: &str) {
    if out.len() >= TEXT_LIMIT {
        return;
    }
    let mut end = text.len().min(TEXT_LIMIT - out.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&text[..end]);
}
