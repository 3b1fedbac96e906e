//! Parsing: from raw bytes to a [`Report`] of classified [`Record`]s.
//!
//! [`Parser::parse`] normalises line endings, parses the MIME structure with
//! `mail-parser`, builds a [`Mail`] view (decoded subject, human-readable
//! text, delivery-status and feedback-report fields, the returned original),
//! asks the detector registry ([`crate::detect`]) for per-recipient rows,
//! completes each row (recipient recovery, codes from the diagnostic, event
//! time, campaign id) and classifies it ([`crate::classify`]).

pub mod dsn;
pub mod fields;
pub mod returned;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashSet;

use mail_parser::{
    Message, MessageParser, MessagePart, MimeHeaders, PartType,
};
use regex::Regex;

use crate::classify;
use crate::detect::{self, Row};
use crate::error::ParseError;
use crate::model::{EventType, Record};
use crate::time;
use dsn::Dsn;
use fields::{Fields, clean_address, field_blocks, unfold};
use returned::Returned;

/// At most this much human-readable text is collected from a message:
/// report texts are short, and a huge body is not scanned past it.
pub const TEXT_LIMIT: usize = 512 * 1024;

/// Parser settings.
#[derive(Debug, Clone)]
pub struct ParseConfig {
    /// Headers of the returned message that carry a campaign id, in order
    /// of preference.
    pub campaign_headers: Vec<String>,
    /// Regex with named groups `user` and `domain` that recovers a
    /// recipient from a VERP address (the bounce's To, or the returned
    /// Return-Path).
    pub verp_pattern: String,
    /// Fill [`Record::explain`].
    pub explain: bool,
}

/// Default VERP pattern: `local+user=domain@host`.
pub const DEFAULT_VERP: &str =
    r"^[^+@=]+\+(?P<user>[^=@+]+)=(?P<domain>[^=@]+\.[^=@]+)@";

impl Default for ParseConfig {
    fn default() -> Self {
        ParseConfig {
            campaign_headers: [
                "X-Campaign-ID",
                "X-Mailgun-Campaign-Id",
                "X-Campaign",
                "List-Id",
            ]
            .map(String::from)
            .to_vec(),
            verp_pattern: DEFAULT_VERP.to_string(),
            explain: false,
        }
    }
}

/// The result of parsing one message.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Message-ID of the message itself.
    pub message_id: Option<String>,
    /// Its decoded subject.
    pub subject: Option<String>,
    /// The detector that recognised it; `None` when it is not a report.
    pub detector: Option<&'static str>,
    /// One record per recipient; empty for ordinary mail.
    pub records: Vec<Record>,
    /// SHA-256 of the raw bytes (hex), computed only when the message has
    /// no Message-ID: it identifies the message then (see
    /// [`Report::identity`]).
    pub fingerprint: Option<String>,
    /// Its Date (Unix seconds), when valid. With its identity it places
    /// the report's records in the ledger: it depends on the message's
    /// bytes alone, unlike a record's event time, which the detectors
    /// read from wherever the format keeps it.
    pub date: Option<i64>,
}

impl Report {
    /// What identifies the message: its Message-ID, else its fingerprint
    /// (empty when it has neither).
    pub fn identity(&self) -> &str {
        self.message_id
            .as_deref()
            .or(self.fingerprint.as_deref())
            .unwrap_or("")
    }
}

/// A configured parser; build once, use for every message (all patterns
/// are compiled once).
pub struct Parser {
    cfg: ParseConfig,
    verp: Regex,
    mime: MessageParser,
}

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

    /// The rows of the delivery-status part, if any.
    pub fn dsn_rows(&self) -> Vec<Row> {
        self.dsn.as_ref().map(Dsn::rows).unwrap_or_default()
    }

    fn build(msg: Message<'x>) -> Mail<'x> {
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

/// `text.to_lowercase()`, with the ASCII runs of a mostly ASCII text
/// lower-cased in bulk rather than char by char.
fn lowercase(text: &str) -> String {
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
fn contains(hay: &str, needle: &str) -> bool {
    let mut head = needle.len().min(32);
    while !needle.is_char_boundary(head) {
        head -= 1;
    }
    hay.contains(&needle[..head])
        && (head == needle.len() || hay.contains(needle))
}

fn mime_name(ctype: &str, subtype: Option<&str>) -> String {
    let mut s = ctype.to_ascii_lowercase();
    if let Some(st) = subtype {
        s.push('/');
        s.push_str(&st.to_ascii_lowercase());
    }
    s
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

/// A crude HTML-to-text conversion: tags dropped (block tags become line
/// breaks), common entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let Some(gt) = rest[lt..].find('>') else {
            rest = "";
            break;
        };
        let closing = rest[lt + 1..].starts_with('/');
        let tag = rest[lt + 1..lt + gt].trim_start_matches('/');
        let name = &tag[..tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len())];
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if ["br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"]
            .into_iter()
            .any(is)
        {
            out.push('\n');
        } else if is("td") {
            out.push(' ');
        }
        rest = &rest[lt + gt + 1..];
        if !closing && (is("style") || is("script")) {
            // Skip to the closing tag; an unclosed one hides the rest (as
            // in a browser), so the text is scanned once whatever the
            // number of tags.
            rest = find_close(rest, name).map_or("", |e| &rest[e..]);
        }
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Where the closing tag `</name` (any case) starts in `html`.
fn find_close(html: &str, name: &str) -> Option<usize> {
    let b = html.as_bytes();
    memchr::memmem::find_iter(b, b"</").find(|&i| {
        b.get(i + 2..i + 2 + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
    })
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(ParseConfig::default())
            .expect("the default VERP pattern compiles")
    }
}

impl Parser {
    /// Builds a parser; fails when the VERP pattern is not a valid regex.
    pub fn new(cfg: ParseConfig) -> Result<Parser, regex::Error> {
        let verp = Regex::new(&cfg.verp_pattern)?;
        Ok(Parser { cfg, verp, mime: mime_parser() })
    }

    /// Parses one message. Ordinary mail gives a report with no records;
    /// an error means the bytes are not a message at all.
    pub fn parse(&self, raw: &[u8]) -> Result<Report, ParseError> {
        let raw = strip_postmark(raw);
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ParseError::Empty);
        }
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
        let msg = self
            .mime
            .parse(&bytes[..])
            .ok_or_else(|| ParseError::NotMail("no MIME structure".into()))?;
        if msg.headers().is_empty() {
            return Err(ParseError::NotMail(
                "no header section (the input does not start with `Name: value` lines)".into(),
            ));
        }
        let mail = Mail::build(msg);
        let message_id = mail.msg.message_id().map(str::to_string);
        let subject = (!mail.subject.is_empty()).then(|| mail.subject.clone());
        let fingerprint = message_id.is_none().then(|| fingerprint(raw));
        let date =
            mail.msg.date().filter(|d| d.is_valid()).map(|d| d.to_timestamp());
        let Some((detector, rows)) = detect::run(&mail) else {
            return Ok(Report {
                message_id,
                subject,
                detector: None,
                records: vec![],
                fingerprint,
                date,
            });
        };
        let mut memo = classify::Memo::default();
        // Rows without a recipient take the recipients named elsewhere,
        // found once per message. A second such row of the same type
        // would only repeat records that `dedupe` drops, so it is skipped:
        // thousands of such rows times thousands of recovered addresses
        // stay linear.
        let recovered = OnceCell::new();
        let recovered =
            || recovered.get_or_init(|| self.recover_recipients(&mail));
        let mut fanned_out = HashSet::new();
        let records = rows
            .into_iter()
            .filter(|row| {
                row.recipient.is_some()
                    || recovered().is_empty()
                    || fanned_out.insert(row.kind)
            })
            .flat_map(|row| self.complete(&mail, row, recovered))
            .map(|(row, mut rec)| {
                rec.message_id = message_id.clone();
                rec.detector = Some(detector.to_string());
                classify::apply_with(
                    &row,
                    &mut rec,
                    self.cfg.explain,
                    &mut memo,
                );
                rec
            })
            .collect();
        Ok(Report {
            message_id,
            subject,
            detector: Some(detector),
            records: dedupe(records),
            fingerprint,
            date,
        })
    }

    /// Recovers a recipient from a VERP address.
    pub fn verp_recipient(&self, addr: &str) -> Option<String> {
        let c = self.verp.captures(addr)?;
        clean_address(&format!(
            "{}@{}",
            c.name("user")?.as_str(),
            c.name("domain")?.as_str()
        ))
    }

    /// Fills what the detector left out from the rest of the message and
    /// turns a row into a record (not yet classified). A row without a
    /// recipient takes the recipients named elsewhere (X-Failed-Recipients,
    /// the returned To, VERP); it yields several records when those name
    /// several.
    fn complete<'r>(
        &self,
        mail: &Mail<'_>,
        mut row: Row,
        recovered: impl FnOnce() -> &'r Vec<String>,
    ) -> Vec<(Row, Record)> {
        if let Some(d) = row.diagnostic.take() {
            // Most diagnostics are one short trimmed line already.
            let c = fields::clip(&d);
            let d = if c.len() != d.len()
                || c.contains(['\r', '\n'])
                || c.trim().len() != c.len()
            {
                unfold(c)
            } else {
                d
            };
            row.status = fields::status_with(row.status.take(), &d);
            if row.reply_code.is_none() {
                row.reply_code = fields::reply_code_in(&d);
            }
            row.diagnostic = Some(d);
        }
        let ret = mail.returned.as_ref();
        let time = [&row.last_attempt, &row.arrival_date]
            .into_iter()
            .flatten()
            .find_map(|d| time::parse_mail_date(d))
            .or_else(|| {
                mail.msg
                    .date()
                    .filter(|d| d.is_valid())
                    .map(|d| d.to_timestamp())
            });
        let base = Record {
            original_message_id: ret.and_then(Returned::message_id),
            campaign_id: ret
                .and_then(|r| r.first_of(&self.cfg.campaign_headers)),
            original_subject: ret.and_then(Returned::subject),
            original_from: ret.and_then(Returned::from),
            event_time: time.map(time::format_rfc3339),
            will_retry_until: row
                .will_retry_until
                .as_deref()
                .and_then(time::parse_mail_date)
                .map(time::format_rfc3339),
            ..Record::default()
        };
        let recipients = match &row.recipient {
            Some(r) => vec![r.clone()],
            None => recovered().clone(),
        };
        if recipients.is_empty() {
            return vec![(row.clone(), self.to_record(&row, None, base))];
        }
        recipients
            .into_iter()
            .map(|r| {
                let rec = self.to_record(&row, Some(r.clone()), base.clone());
                let mut row = row.clone();
                row.recipient = Some(r);
                (row, rec)
            })
            .collect()
    }

    fn recover_recipients(&self, mail: &Mail<'_>) -> Vec<String> {
        if let Some(h) = mail.header("X-Failed-Recipients") {
            let v = fields::addresses_in(&h);
            if !v.is_empty() {
                return v;
            }
        }
        if let Some(r) = &mail.returned {
            let to = r.to();
            if to.len() == 1 {
                return to;
            }
            if let Some(v) =
                r.return_path().and_then(|rp| self.verp_recipient(&rp))
            {
                return vec![v];
            }
        }
        ["To", "Delivered-To", "X-Original-To", "Envelope-To"]
            .iter()
            .filter_map(|h| mail.header(h))
            .flat_map(|v| fields::addresses_in(&v))
            .find_map(|a| self.verp_recipient(&a))
            .into_iter()
            .collect()
    }

    fn to_record(
        &self,
        row: &Row,
        recipient: Option<String>,
        base: Record,
    ) -> Record {
        Record {
            recipient,
            original_recipient: row.original_recipient.clone(),
            kind: row.kind,
            status: row.status.clone(),
            reply_code: row.reply_code.clone(),
            diagnostic: row.diagnostic.clone(),
            remote_mta: row.remote_mta.clone(),
            reporting_mta: row.reporting_mta.clone(),
            feedback_type: row.feedback_type.clone(),
            ..base
        }
    }
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
fn strip_postmark(raw: &[u8]) -> &[u8] {
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

/// True when the first non-blank line of `raw` is a header field: a name
/// of printable ASCII without spaces, then a colon.
fn starts_with_header(raw: &[u8]) -> bool {
    let start = raw.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    let line = &raw[start..];
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

/// SHA-256 of `raw`, hex.
pub fn fingerprint(raw: &[u8]) -> String {
    use sha2::Digest;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    sha2::Sha256::digest(raw)
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// Drops repeated records of the same recipient and type (a report that
/// names a recipient twice, e.g. in the text and in the DSN, counts once).
fn dedupe(records: Vec<Record>) -> Vec<Record> {
    let mut seen = HashSet::new();
    records
        .into_iter()
        .filter(|r| {
            let key = (
                r.recipient.as_deref().map(str::to_ascii_lowercase),
                r.kind.map(EventType::as_str),
            );
            r.recipient.is_none() || seen.insert(key)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_lower_hex_sha256() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn line_ends_are_normalised() {
        assert_eq!(&normalise_bytes(b"a\r\nb\rc\n")[..], b"a\nb\nc\n");
        assert!(matches!(normalise_bytes(b"a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn verp_recovers_the_recipient() {
        let p = Parser::default();
        assert_eq!(
            p.verp_recipient("bounces+jane.doe=example.org@mail.example.com")
                .as_deref(),
            Some("jane.doe@example.org")
        );
        assert_eq!(p.verp_recipient("bounces@mail.example.com"), None);
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

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text("<p>a&amp;b</p><style>x{}</style>c"),
            "\na&b\nc"
        );
    }

    /// Every sample cut at many points, and with bytes of its body
    /// damaged, parses to a result or an error, never a panic.
    #[test]
    fn damaged_samples_never_panic() {
        let p = Parser::default();
        let mut stack = vec![
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"),
        ];
        let mut n = 0;
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|x| x != "eml") {
                    continue;
                }
                let raw = std::fs::read(&path).unwrap();
                for cut in (0..raw.len()).step_by(13) {
                    let _ = p.parse(&raw[..cut]);
                }
                let mut bent = raw.clone();
                for i in (raw.len() / 3..raw.len()).step_by(17) {
                    bent[i] = [b'\r', b'=', 0xff, b'-', b'\n'][i % 5];
                }
                let _ = p.parse(&bent);
                n += 1;
            }
        }
        assert!(n >= 25, "only {n} samples");
    }

    #[test]
    fn a_leading_mbox_postmark_is_not_part_of_the_message() {
        let msg = "From: MAILER-DAEMON@mx.example.net\nTo: b@example.com\nSubject: Undelivered Mail Returned to Sender\nDate: Tue, 5 Mar 2024 10:15:01 +0000\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n\n--b--\n";
        let p = Parser::default();
        let plain = p.parse(msg.as_bytes()).unwrap();
        assert_eq!(plain.records.len(), 1);
        for postmark in [
            "From MAILER-DAEMON Tue Mar  5 10:15:02 2024\n",
            "From MAILER-DAEMON  Tue Mar  5 10:15:02 2024\r\n",
        ] {
            let r = p.parse(format!("{postmark}{msg}").as_bytes()).unwrap();
            assert_eq!(r.records.len(), 1, "{postmark:?}");
            assert_eq!(r.records[0].recipient, plain.records[0].recipient);
            // Without a Message-ID the fingerprint identifies it: the same.
            assert_eq!(r.fingerprint, plain.fingerprint);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let p = Parser::default();
        assert!(matches!(p.parse(b"   \n"), Err(ParseError::Empty)));
        assert!(p.parse(b"\x00\x01\x02 not mail at all").is_err());
    }
}
