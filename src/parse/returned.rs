//! The returned original message: a message/rfc822 or message/global part,
//! text/rfc822-headers, or a copy pasted inline after the error text.
//! Gives the original Message-ID, From, To, Subject, Date, Return-Path and
//! campaign id.

use std::sync::LazyLock;

use regex::Regex;

use super::fields::{
    Fields, address_in, addresses_in, clip, field_blocks_where,
};

/// Headers of the returned original message.
#[derive(Debug, Clone, Default)]
pub struct Returned {
    /// Its header fields but the trace fields ([`is_trace`]), names
    /// lower-cased, values unfolded.
    pub headers: Fields,
}

impl Returned {
    /// Builds from raw header fields.
    pub fn from_fields(headers: Fields) -> Option<Returned> {
        let useful =
            ["message-id", "to", "from", "subject", "date", "return-path"];
        headers
            .0
            .iter()
            .any(|(n, _)| useful.contains(&n.as_str()))
            .then_some(Returned { headers })
    }

    /// Parses a header section given as text (trace fields left out, see
    /// [`is_trace`]).
    pub fn from_text(text: &str) -> Option<Returned> {
        let head = memchr::memmem::find(text.as_bytes(), b"\n\n")
            .map_or(text, |i| &text[..i]);
        Returned::from_fields(
            field_blocks_where(head, |n| !is_trace(n)).into_iter().next()?,
        )
    }

    /// The original Message-ID, without angle brackets.
    pub fn message_id(&self) -> Option<String> {
        let v = clip(self.headers.get("message-id")?);
        let v = v.trim().trim_start_matches('<');
        let v = v.split('>').next().unwrap_or(v).trim();
        (!v.is_empty()).then(|| v.to_string())
    }

    /// The original recipients (To).
    pub fn to(&self) -> Vec<String> {
        self.headers.all("to").flat_map(addresses_in).collect()
    }

    /// The original sender address.
    pub fn from(&self) -> Option<String> {
        self.headers.get("from").map(clip).and_then(address_in)
    }

    /// The original subject, encoded-words (RFC 2047) decoded.
    pub fn subject(&self) -> Option<String> {
        let raw = clip(self.headers.get("subject")?);
        if !raw.contains("=?") {
            return Some(raw.to_string());
        }
        let head = format!("Subject: {raw}\n\n");
        let decoded = mail_parser::MessageParser::default()
            .parse_headers(head.as_bytes())
            .and_then(|m| m.subject().map(str::to_string));
        Some(decoded.unwrap_or_else(|| raw.to_string()))
    }

    /// The envelope sender of the original (Return-Path), for VERP.
    pub fn return_path(&self) -> Option<String> {
        self.headers.get("return-path").map(clip).and_then(address_in)
    }

    /// The first non-empty header of `names`, for the campaign id. A
    /// List-Id gives its identifier (`Name <id>` → `id`, RFC 2919).
    pub fn first_of(&self, names: &[String]) -> Option<String> {
        names.iter().find_map(|n| {
            let v = clip(self.headers.get(n)?.trim());
            let v = if n.eq_ignore_ascii_case("list-id") {
                v.rsplit_once('<')
                    .and_then(|(_, id)| id.split_once('>'))
                    .map_or(v, |(id, _)| id.trim())
            } else {
                v
            };
            (!v.is_empty()).then(|| v.to_string())
        })
    }
}

/// Trace and signature fields of a returned message (`Received`,
/// `DKIM-Signature`, `ARC-*`, `Authentication-Results`, ...): most of its
/// header section, and nothing rebound reads (nor a campaign id), so they
/// are not kept.
pub fn is_trace(name: &str) -> bool {
    const TRACE: &[&str] = &[
        "received",
        "x-received",
        "received-spf",
        "dkim-signature",
        "x-google-dkim-signature",
        "domainkey-signature",
        "authentication-results",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
    ];
    TRACE.iter().any(|t| name.eq_ignore_ascii_case(t))
}

/// The phrases that announce a returned copy in plain-text reports, at the
/// start of a line (after blanks and rule characters, see [`is_lead`]),
/// compared ignoring ASCII case. In order of preference at one position;
/// a phrase with optional words is listed with them first.
const MARKERS: &[&str] = &[
    "below this line is a copy of the message",
    "this is a copy of the original message",
    "this is a copy of the message",
    "the original message",
    "your original message",
    "original message",
    "copy of the returned message",
    "copy of returned message",
    "the returned message",
    "returned message",
    "undelivered message",
    "message headers follow",
    "headers of the original message",
    "original message headers",
    "returned mail",
    "content-type: message/rfc822",
    "content-type: text/rfc822-headers",
];

/// What may stand before a marker phrase on its line: blanks and the
/// characters of rules and quote marks (`---`, `>`, `***`, `===`).
fn is_lead(c: char) -> bool {
    c.is_whitespace() || matches!(c, '>' | '|' | '*' | '=' | '_' | '-')
}

/// The first marker: from the start of its line (with the lines before it
/// that hold only [`is_lead`] characters) to the end of the phrase.
fn marker(text: &str) -> Option<std::ops::Range<usize>> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches(is_lead);
        let phrase_at = at + line.len() - body.len();
        at += line.len();
        let Some(m) = MARKERS.iter().find(|m| {
            body.as_bytes()
                .get(..m.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(m.as_bytes()))
        }) else {
            continue;
        };
        // Back over the lead-only lines before it, to the first line start.
        let before = &text[..phrase_at];
        let lead = before.trim_end_matches(is_lead).len();
        let start = if lead == 0 {
            0
        } else {
            before[lead..].find('\n').map_or(phrase_at, |i| lead + i + 1)
        };
        return Some(start..phrase_at + m.len());
    }
    None
}

static HEADER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:return-path|received|message-id|from|to|subject|date|mime-version|x-[a-z0-9-]+|content-type|reply-to|sender|cc|list-id|delivered-to|dkim-signature|authentication-results):").unwrap()
});

/// Where a copy of the original message announced by a marker line starts
/// in a plain-text body (the start of the marker line), if anywhere: the
/// report's own text ends there.
pub fn inline_start(text: &str) -> Option<usize> {
    marker(text).map(|m| m.start)
}

/// Finds a copy of the original header section inside a plain-text body:
/// after a marker line such as "Below this line is a copy of the message",
/// the first run of header lines that names a Message-ID, From, To or
/// Subject.
pub fn find_inline(text: &str) -> Option<Returned> {
    let start = marker(text)?.end;
    let rest = &text[start..];
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let t = line.trim_start_matches([' ', '>']);
        if HEADER_LINE.is_match(t) {
            let r = Returned::from_text(&rest[offset..])?;
            return (r.headers.0.len() >= 2).then_some(r);
        }
        offset += line.len();
        if offset > 8192 {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_copy_after_marker() {
        let t = "error text\n\n--- Below this line is a copy of the message.\n\nReturn-Path: <a+b=c.example@d.example>\nMessage-ID: <x1@y>\nTo: \"B\" <b@c.example>\nSubject: hi\n\nbody\n";
        let r = find_inline(t).unwrap();
        assert_eq!(r.message_id().as_deref(), Some("x1@y"));
        assert_eq!(r.to(), vec!["b@c.example"]);
        assert_eq!(
            r.return_path().as_deref(),
            Some("a+b=c.example@d.example")
        );
        assert!(
            find_inline("no marker\nTo: x@y.example\nSubject: s\n").is_none()
        );
    }

    /// The line-by-line search gives what the anchored expression it
    /// replaced gave.
    #[test]
    fn marker_is_the_anchored_expression() {
        let anchored = Regex::new(r"(?im)^[\s>|*=_-]*(?:below this line is a copy of the message|this is a copy of the (?:original )?message|(?:the |your )?original message|(?:copy of )?(?:the )?returned message|undelivered message|message headers follow|headers of the original message|original message headers|returned mail|content-type: (?:message/rfc822|text/rfc822-headers))").unwrap();
        let texts = [
            "",
            "error\n--- Below this line is a copy of the message.\nTo: a@b\n",
            "error\n\n\n   ------ The original message -----\n",
            "xyz the original message\nnext\n> Original message headers:\n",
            "original message at the very start",
            "\n\u{a0}\u{3000}>> returned mail: see transcript\n",
            "text * original message\n",
            "line\n  _=|*- Undelivered Message follows\n",
            "a \n \n b original message\n==== Content-Type: message/rfc822\n",
            "ça original message\né\n   your original message",
            "No marker here at all.\nJust text.\n",
            "\r\n original message\r\n",
            "x\n  \n  copy of the Returned Message\n",
            "x\n> > this is a copy of the original message\n",
            "--\n-- copy of returned message headers of the original message\n",
            "  \n\n Message headers follow\n",
            "x\n\t\tCONTENT-TYPE: TEXT/RFC822-HEADERS\n",
        ];
        for t in texts {
            let want = anchored.find(t).map(|m| m.range());
            assert_eq!(marker(t), want, "{t:?}");
        }
    }

    #[test]
    fn trace_fields_are_left_out() {
        let r = Returned::from_text(
            "Received: from a.example\n  by b.example; Tue, 5 Mar 2024\nDKIM-Signature: v=1;\n\tb=abc\nX-Campaign: spring\n  sale\nMessage-ID: <m1@example.com>\n",
        )
        .unwrap();
        let names: Vec<&str> =
            r.headers.0.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-campaign", "message-id"]);
        assert_eq!(r.headers.get("x-campaign"), Some("spring sale"));
    }

    #[test]
    fn subject_is_decoded_and_list_id_gives_its_id() {
        let r = Returned::from_text(
            "Subject: =?iso-8859-1?Q?Nouveaut=E9s?=\nList-Id: Weekly <weekly.example.com>\n",
        )
        .unwrap();
        assert_eq!(r.subject().as_deref(), Some("Nouveautés"));
        assert_eq!(
            r.first_of(&["X-Campaign".into(), "List-Id".into()]).as_deref(),
            Some("weekly.example.com")
        );
    }
}
