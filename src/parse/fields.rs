//! Field blocks (RFC 822-style `Name: value` lines with folding) as found in
//! delivery-status and feedback-report parts, and the small extractors every
//! detector shares: enhanced status codes, SMTP reply codes, addresses.

use std::sync::LazyLock;

use regex::Regex;

/// One block of fields, names lower-cased, values unfolded and trimmed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of field `name` (case-insensitive), if non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n.eq_ignore_ascii_case(name) && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// All values of field `name`.
    pub fn all<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when the block has no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Splits `text` into blocks of fields separated by blank lines. Lines that
/// are neither a field nor a continuation are skipped, so a stray line does
/// not lose the rest of the block.
pub fn field_blocks(text: &str) -> Vec<Fields> {
    field_blocks_where(text, |_| true)
}

/// [`field_blocks`] keeping only the fields whose name `keep` accepts (as
/// written); the others, and their continuation lines, are skipped
/// without being copied.
pub fn field_blocks_where(
    text: &str,
    keep: impl Fn(&str) -> bool,
) -> Vec<Fields> {
    let mut blocks = Vec::new();
    let mut cur = Fields::default();
    // Whether the field the current continuation lines belong to is kept.
    let mut kept = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                blocks.push(std::mem::take(&mut cur));
            }
            kept = false;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.0.last_mut().filter(|_| kept) {
                if !v.is_empty() {
                    v.push(' ');
                }
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim_end();
            if !name.is_empty()
                && name.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
                })
            {
                kept = keep(name);
                if kept {
                    cur.0.push((
                        name.to_ascii_lowercase(),
                        value.trim().to_string(),
                    ));
                }
            }
        }
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    blocks
}

/// Strips the type prefix of a DSN value (`rfc822; a@b` → `a@b`,
/// `smtp; 550 ...` → `550 ...`, `dns; mx.example` → `mx.example`).
pub fn strip_type(value: &str) -> &str {
    match value.split_once(';') {
        Some((t, rest))
            if !t.is_empty()
                && t.len() <= 16
                && t.trim()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            rest.trim()
        }
        _ => value.trim(),
    }
}

/// Decodes RFC 3461 xtext (`+2B`) and RFC 6533 unitext (`\x{ABCD}`) escapes
/// of a DSN address.
pub fn decode_xtext(s: &str) -> String {
    if !s.contains('+') && !s.contains("\\x{") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '+'
            && rest.len() >= 3
            && rest.is_char_boundary(3)
            && let Ok(b) = u8::from_str_radix(&rest[1..3], 16)
        {
            out.push(b as char);
            rest = &rest[3..];
            continue;
        }
        if let Some(tail) = rest.strip_prefix("\\x{")
            && let Some(end) = tail.find('}')
            && let Some(ch) = u32::from_str_radix(&tail[..end], 16)
                .ok()
                .and_then(char::from_u32)
        {
            out.push(ch);
            rest = &tail[end + 1..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The first enhanced status code (RFC 3463, `5.1.1`) in `text`, not taken
/// from inside an IP address or version number: a class digit (2, 4 or 5)
/// not preceded by a digit or dot, then `.` and one to three digits twice,
/// not followed by another digit, nor by `.` and a digit (`5.1.1.2` and
/// `2.0.0.1` are addresses or versions). Read by hand rather than by an
/// expression: it runs over every diagnostic and report text.
pub fn status_in(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits = |from: usize| {
        b.get(from..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    let mut from = 0;
    while let Some(dot) = memchr::memchr(b'.', &b[from..]).map(|i| from + i) {
        from = dot + 1;
        let Some(class) = dot.checked_sub(1) else { continue };
        if !matches!(b[class], b'2' | b'4' | b'5')
            || class > 0
                && (b[class - 1].is_ascii_digit() || b[class - 1] == b'.')
        {
            continue;
        }
        let subject = digits(dot + 1);
        if !(1..=3).contains(&subject)
            || b.get(dot + 1 + subject) != Some(&b'.')
        {
            continue;
        }
        let detail_at = dot + 2 + subject;
        let detail = digits(detail_at);
        if !(1..=3).contains(&detail) {
            continue;
        }
        let end = detail_at + detail;
        if b.get(end) == Some(&b'.')
            && b.get(end + 1).is_some_and(u8::is_ascii_digit)
        {
            // An address or version; the regex this replaces went on
            // after the dot, where no status can start.
            from = end + 1;
            continue;
        }
        return Some(text[class..end].to_string());
    }
    None
}

/// The status a row should carry, given its own (`status`) and its
/// diagnostic: the diagnostic's code when the row has none, and when the
/// row's is a bare `X.0.0` (`Status: 5.0.0` with `550 5.1.0 Address
/// rejected`) a more specific code of the same class from the diagnostic.
pub fn status_with(
    status: Option<String>,
    diagnostic: &str,
) -> Option<String> {
    let quoted = status_in(diagnostic);
    match (status, quoted) {
        (Some(s), Some(q))
            if s.ends_with(".0.0")
                && !q.ends_with(".0.0")
                && s.as_bytes()[0] == q.as_bytes()[0] =>
        {
            Some(q)
        }
        (None, q) => q,
        (s, _) => s,
    }
}

static REPLY_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[\s(\[]*(?:(?:smtp|x-[a-z-]+|dns|x-unix);\s*)?(?:[^0-9a-z]{0,3})([245][0-5][0-9])(?:[ \-\t.:,\]]|$)")
        .unwrap()
});

static REPLY_ANY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:said|reply|response|replied|answered|returned|error|code|status|smtp)\s*(?:was|is|:|=)?\s*:?\s*[(\[<]?([245][0-5][0-9])(?:[ \-\t.:,\])>]|$)|(?:^|[^0-9.#])([245][0-5][0-9])[ \-]([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9]|$)",
    )
    .unwrap()
});

/// The SMTP reply code of a diagnostic text: a code that leads the text
/// (`550 5.1.1 ...`, `smtp; 550 ...`), follows words like `said:` or
/// `response:`, or stands before an enhanced status code.
pub fn reply_code_in(text: &str) -> Option<String> {
    if let Some(c) = REPLY_LEAD.captures(text) {
        return Some(c[1].to_string());
    }
    let c = REPLY_ANY.captures(text)?;
    c.get(1).or_else(|| c.get(2)).map(|m| m.as_str().to_string())
}

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-.\p{L}\p{N}]+@(?:\[[0-9.]+\]|[A-Za-z0-9\-\p{L}\p{N}]+(?:\.[A-Za-z0-9\-\p{L}\p{N}]+)+)"#)
        .unwrap()
});

/// Every e-mail address in `text`, in order, cleaned with [`clean_address`].
pub fn addresses_in(text: &str) -> Vec<String> {
    ADDRESS.find_iter(text).filter_map(|m| clean_address(m.as_str())).collect()
}

/// The first e-mail address in `text`.
pub fn address_in(text: &str) -> Option<String> {
    ADDRESS.find_iter(text).find_map(|m| clean_address(m.as_str()))
}

/// Normalises an address as found in a report: strips a DSN type prefix,
/// angle brackets, quotes and trailing punctuation; `None` when what is
/// left is not an address.
pub fn clean_address(raw: &str) -> Option<String> {
    let s = strip_type(raw.trim());
    let s = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    // A quoted local part (`"a..b"@example.org`, RFC 5321) keeps its
    // quotes; only the text around the address is trimmed.
    let quoted = s.find("\"@").and_then(|end| {
        let start = s[..end].find('"')?;
        (start < end).then_some(start)
    });
    let s = match quoted {
        Some(start) => s[start..].trim_end_matches(|c: char| {
            c.is_whitespace()
                || matches!(c, '>' | ',' | ';' | ':' | ')' | ']' | '.')
        }),
        None => s,
    };
    let s = s.trim_matches(|c: char| {
        quoted.is_none()
            && (c.is_whitespace()
                || matches!(
                    c,
                    '<' | '>'
                        | '"'
                        | '\''
                        | ','
                        | ';'
                        | ':'
                        | '('
                        | ')'
                        | '['
                        | ']'
                        | '.'
                ))
    });
    let s = s.strip_prefix("mailto:").unwrap_or(s);
    let (local, domain) = s.rsplit_once('@')?;
    if local.is_empty()
        || domain.is_empty()
        || !domain.contains('.') && !domain.starts_with('[')
    {
        return None;
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    // Text that runs on after an ASCII top-level domain without a space
    // ("a@example.jp您好") is not part of the address.
    let tld_start = s.rfind('.').map_or(s.len(), |i| i + 1);
    let s = match s[tld_start..].find(|c: char| !c.is_ascii()) {
        Some(i) if i > 0 => &s[..tld_start + i],
        _ => s,
    };
    Some(decode_xtext(s))
}

/// The longest value copied into a row or record (twice the RFC 5322 line
/// limit). Per-message values (Reporting-MTA, Arrival-Date, the original
/// Subject, ...) are copied into every record of a report, so a hostile
/// megabyte-long field times thousands of recipients would otherwise need
/// gigabytes.
pub const VALUE_LIMIT: usize = 2 * 998;

/// `value` cut to at most [`VALUE_LIMIT`] bytes, at a character boundary.
pub fn clip(value: &str) -> &str {
    let mut end = value.len().min(VALUE_LIMIT);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// Unfolds and trims a header or field value.
pub fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, part) in value.split(['\r', '\n']).enumerate() {
        let t = part.trim();
        if t.is_empty() {
            continue;
        }
        if i > 0 && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written reader gives what the expression it replaced gave,
    /// on tricky cases and on every string of a small alphabet.
    #[test]
    fn status_in_is_the_expression_it_replaced() {
        let re = Regex::new(
            r"(?:^|[^0-9.])([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9]|$)",
        )
        .unwrap();
        let old = |text: &str| {
            for c in re.captures_iter(text) {
                let m = c.get(1)?;
                let after = &text[m.end()..];
                if after.starts_with('.')
                    && after[1..].starts_with(|c: char| c.is_ascii_digit())
                {
                    continue;
                }
                return Some(m.as_str().to_string());
            }
            None
        };
        let mut cases: Vec<String> = [
            "550 5.1.1 User unknown",
            "5.1.1",
            "x5.1.1",
            "15.1.1",
            ".5.1.1",
            "5.1.1.2 then 4.4.1",
            "5.1.1.2.4.4.1 5.7.1",
            "5.1.1234 5.2.2",
            "5.1234.1 4.2.2.",
            "#5.1.0 Address rejected",
            "é5.1.1é",
            "2.0.0.1 4.7.0",
            "5.1.",
            "4.4.7.",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let alphabet = ['5', '4', '1', '.', ' ', '7'];
        for n in 0..6u32.pow(7) {
            let (mut k, mut s) = (n, String::new());
            for _ in 0..7 {
                s.push(alphabet[(k % 6) as usize]);
                k /= 6;
            }
            cases.push(s);
        }
        for t in &cases {
            assert_eq!(status_in(t), old(t), "{t:?}");
        }
    }

    /// Reading the original text case-insensitively gives what reading a
    /// lower-cased copy gave.
    #[test]
    fn reply_code_in_needs_no_lowercase_copy() {
        let lead = Regex::new(r"^[\s(\[]*(?:(?:smtp|x-[a-z-]+|dns|x-unix);\s*)?(?:[^0-9a-z]{0,3})([245][0-5][0-9])(?:[ \-\t.:,\]]|$)").unwrap();
        let old = |text: &str| {
            let lower = text.to_ascii_lowercase();
            if let Some(c) = lead.captures(&lower) {
                return Some(c[1].to_string());
            }
            let c = REPLY_ANY.captures(&lower)?;
            c.get(1).or_else(|| c.get(2)).map(|m| m.as_str().to_string())
        };
        for t in [
            "550 5.1.1 User unknown",
            "SMTP; 550 5.1.1 <a@b>: Recipient address rejected",
            "X-Postfix; 450 try later",
            "X-Unix; 550 mailbox",
            "Ab550 x",
            "ÄÖ 550 x",
            "(550) no",
            "[554] no",
            "Remote server replied: 550 5.1.1 no",
            "Host said: 452 4.2.2 full",
            "Error: 421 busy",
            "Status: 554 5.7.1",
            "#550 5.1.0 Address rejected",
            "no code here",
            "5.1.1 only",
            "550",
            "R550 x",
        ] {
            assert_eq!(reply_code_in(t), old(t), "{t:?}");
        }
    }

    #[test]
    fn blocks_unfold_and_split_on_blank_lines() {
        let b = field_blocks(
            "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@b.example\nDiagnostic-Code: smtp; 550 no\n  such user\n\nFinal-Recipient: rfc822; c@d.example\n",
        );
        assert_eq!(b.len(), 3);
        assert_eq!(
            b[1].get("diagnostic-code"),
            Some("smtp; 550 no such user")
        );
        assert_eq!(b[2].get("Final-Recipient"), Some("rfc822; c@d.example"));
    }

    #[test]
    fn a_generic_status_yields_to_the_diagnostic() {
        let s = |st: Option<&str>, d| status_with(st.map(String::from), d);
        assert_eq!(
            s(Some("5.0.0"), "550 #5.1.0 Address rejected").as_deref(),
            Some("5.1.0")
        );
        assert_eq!(
            s(Some("5.0.0"), "550 4.2.2 odd").as_deref(),
            Some("5.0.0")
        );
        assert_eq!(s(Some("5.1.1"), "550 5.7.1 no").as_deref(), Some("5.1.1"));
        assert_eq!(s(None, "452 4.2.2 full").as_deref(), Some("4.2.2"));
    }

    #[test]
    fn status_codes_are_not_taken_from_ip_addresses() {
        assert_eq!(
            status_in("from 192.0.2.5 said 550 5.1.1 no"),
            Some("5.1.1".into())
        );
        assert_eq!(status_in("host 10.2.0.1.5 down"), None);
        assert_eq!(status_in("#5.7.1."), Some("5.7.1".into()));
        assert_eq!(status_in("status 4.2.10"), Some("4.2.10".into()));
    }

    #[test]
    fn reply_codes() {
        assert_eq!(
            reply_code_in("smtp; 550 5.1.1 unknown"),
            Some("550".into())
        );
        assert_eq!(
            reply_code_in("host said: 452 too many"),
            Some("452".into())
        );
        assert_eq!(
            reply_code_in("blah 554-5.7.1 blocked"),
            Some("554".into())
        );
        assert_eq!(reply_code_in("port 587 refused"), None);
    }

    #[test]
    fn long_values_are_clipped_at_a_char_boundary() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(VALUE_LIMIT);
        assert_eq!(clip(&long).len(), VALUE_LIMIT);
        let odd = format!("a{long}");
        assert_eq!(clip(&odd).len(), VALUE_LIMIT - 1);
    }

    #[test]
    fn quoted_local_parts_keep_their_quotes() {
        assert_eq!(
            clean_address("<\"a..b.\"@example.org>:").as_deref(),
            Some("\"a..b.\"@example.org")
        );
        assert_eq!(
            clean_address("rfc822; \"x y\"@example.org"),
            None,
            "an address with a space is not taken from free text"
        );
    }

    #[test]
    fn addresses_are_cleaned() {
        assert_eq!(
            clean_address("rfc822; <A@Example.org>"),
            Some("A@Example.org".into())
        );
        assert_eq!(
            clean_address("\"x@y.example\","),
            Some("x@y.example".into())
        );
        assert_eq!(clean_address("nobody"), None);
        assert_eq!(
            clean_address("a@example.jp您好"),
            Some("a@example.jp".into())
        );
        assert_eq!(
            clean_address("a@例え.テスト"),
            Some("a@例え.テスト".into())
        );
        assert_eq!(decode_xtext("a+2Bb@x.example"), "a+b@x.example");
        assert_eq!(decode_xtext("\\x{4E2D}@x.example"), "中@x.example");
        assert_eq!(
            addresses_in("to <a@b.example>, c@d.example."),
            vec!["a@b.example", "c@d.example"]
        );
    }
}
