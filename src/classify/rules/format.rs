//! The rule-file format (`docs/rules.md`), one line at a time: the one
//! parser of the built-in files under `rules/` and of the operator's
//! `--rules` files. It checks the syntax, the ids and the reason names;
//! compiling the phrases is left to the caller ([`super`]).
//!
//! ```text
//! # a comment
//! [text:mailbox_full] mailbox_full        a rule: id, reason
//! mailbox (?:is )?full   e.g. 552 5.2.2 Mailbox full
//! e.g. 552 Mailbox is full                one more example
//! [gmail:rate] rate_limited status 4.2.1  only under this status
//! ```
//!
//! A provider file starts with its own lines (`provider`, `docs`, `hosts`,
//! `domains`, `signature`) before the first rule.

use crate::model::Reason;

/// What marks an example: a blank, `e.g.`, a blank.
const EXAMPLE: &str = "e.g.";

/// Reasons a phrase may not give: they are event types or states of the
/// pipeline, decided before or after the phrase rules.
const NOT_PHRASE_REASONS: &[Reason] = &[
    Reason::Undetermined,
    Reason::NoRecipient,
    Reason::Vacation,
    Reason::Unsubscribe,
    Reason::Complaint,
    Reason::Delivered,
];

/// A parsed rule file; every slice borrows the source.
#[derive(Debug, Default)]
pub(crate) struct RuleFile<'a> {
    /// The provider lines, in a provider file.
    pub provider: Option<Head<'a>>,
    /// The rules, in file order.
    pub rules: Vec<RuleSpec<'a>>,
}

/// The lines of a provider file before its first rule.
#[derive(Debug, Default)]
pub(crate) struct Head<'a> {
    /// Line of `provider NAME`.
    pub line: usize,
    /// Stable lower-case name (`gmail`).
    pub name: &'a str,
    /// Where its texts are documented.
    pub docs: Vec<&'a str>,
    /// Host-name suffixes of its MX and relay hosts.
    pub hosts: Vec<&'a str>,
    /// Recipient domains it hosts.
    pub domains: Vec<&'a str>,
    /// Phrases that identify its replies in a diagnostic.
    pub signature: Vec<Phrase<'a>>,
}

/// One rule as written.
#[derive(Debug)]
pub(crate) struct RuleSpec<'a> {
    /// Line of its `[id] reason` header.
    pub line: usize,
    /// Its id as written.
    pub id: &'a str,
    /// The reason it gives.
    pub reason: Reason,
    /// Enhanced status prefix it needs ("" for any).
    pub status: &'a str,
    /// Its phrases, in order.
    pub phrases: Vec<Phrase<'a>>,
    /// Examples of the rule as a whole (`e.g.` lines right after the
    /// header): a rule without phrases is shown by these.
    pub examples: Vec<&'a str>,
}

/// One phrase: a regex alternative of its rule, with the texts it must
/// match.
#[derive(Debug)]
pub(crate) struct Phrase<'a> {
    /// Its line.
    pub line: usize,
    /// The regex.
    pub text: &'a str,
    /// The example on its line.
    pub example: &'a str,
    /// Those of the `e.g.` lines below it.
    pub more: Vec<&'a str>,
}

impl<'a> Phrase<'a> {
    /// Every example: the one on its line, then the `e.g.` lines below.
    pub fn examples(&self) -> impl Iterator<Item = &'a str> + '_ {
        std::iter::once(self.example).chain(self.more.iter().copied())
    }
}

/// A line that is not valid, with its 1-based number.
#[derive(Debug, PartialEq)]
pub(crate) struct LineError {
    /// The line.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

fn error<T>(line: usize, message: String) -> Result<T, LineError> {
    Err(LineError { line, message })
}

/// Parses a rule file.
pub(crate) fn parse(src: &str) -> Result<RuleFile<'_>, LineError> {
    let mut file = RuleFile::default();
    for (i, raw) in src.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(example) = example_line(line) {
            add_example(&mut file, n, example)?;
        } else if let Some(header) = header(line, n)? {
            if let Some(other) = file.rules.iter().find(|r| r.id == header.id)
            {
                return error(
                    n,
                    format!(
                        "rule `{}` is already defined on line {}",
                        header.id, other.line
                    ),
                );
            }
            file.rules.push(header);
        } else if file.rules.is_empty()
            && let Some((key, value)) = provider_line(line)
        {
            provider_key(&mut file, n, key, value)?;
        } else {
            let phrase = phrase(line, n)?;
            match file.rules.last_mut() {
                Some(rule) => rule.phrases.push(phrase),
                None => {
                    return error(
                        n,
                        "a phrase before the first `[id] reason` line"
                            .to_string(),
                    );
                }
            }
        }
    }
    Ok(file)
}

/// The example of an `e.g. TEXT` line.
fn example_line(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(EXAMPLE)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace))
        .then(|| rest.trim())
}

/// Adds the example of an `e.g.` line to the phrase above it, or to the
/// rule when no phrase is above it yet.
fn add_example<'a>(
    file: &mut RuleFile<'a>,
    n: usize,
    example: &'a str,
) -> Result<(), LineError> {
    if example.is_empty() {
        return error(n, "`e.g.` without an example".to_string());
    }
    let signature = file.provider.as_mut().map(|h| &mut h.signature);
    let target = match file.rules.last_mut() {
        Some(rule) => match rule.phrases.last_mut() {
            Some(p) => &mut p.more,
            None => &mut rule.examples,
        },
        None => match signature.and_then(|s| s.last_mut()) {
            Some(p) => &mut p.more,
            None => {
                return error(n, "an example of nothing".to_string());
            }
        },
    };
    target.push(example);
    Ok(())
}

/// Whether `id` is a valid rule id: lower-case ASCII letters, digits and
/// `_ . : -`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'_' | b'.' | b':' | b'-')
        })
}

/// A `[id] reason [status PREFIX]` header, or `None` when the line is no
/// header (a phrase may start with a class: `[?&]c=bl`).
fn header(line: &str, n: usize) -> Result<Option<RuleSpec<'_>>, LineError> {
    let Some((id, rest)) =
        line.strip_prefix('[').and_then(|l| l.split_once(']'))
    else {
        return Ok(None);
    };
    if !valid_id(id) || !rest.starts_with(char::is_whitespace) {
        return Ok(None);
    }
    let mut words = rest.split_whitespace();
    let name = words.next().unwrap_or_default();
    let reason = match Reason::from_name(name) {
        Some(r) if !NOT_PHRASE_REASONS.contains(&r) => r,
        Some(_) => {
            return error(
                n,
                format!("`{name}` is decided by the message, not a phrase"),
            );
        }
        None => {
            return error(
                n,
                format!(
                    "unknown reason `{name}` (one of: {})",
                    phrase_reasons()
                ),
            );
        }
    };
    let status = match (words.next(), words.next(), words.next()) {
        (None, ..) => "",
        (Some("status"), Some(s), None) if valid_status(s) => s,
        _ => {
            return error(
                n,
                "expected `[id] reason` or `[id] reason status 5.7.1`"
                    .to_string(),
            );
        }
    };
    Ok(Some(RuleSpec {
        line: n,
        id,
        reason,
        status,
        phrases: Vec::new(),
        examples: Vec::new(),
    }))
}

/// The reasons a phrase may give, for error messages.
fn phrase_reasons() -> String {
    let names: Vec<&str> = Reason::ALL
        .iter()
        .filter(|r| !NOT_PHRASE_REASONS.contains(r))
        .map(|r| r.name())
        .collect();
    names.join(", ")
}

/// Whether `s` is an enhanced status prefix: `5`, `4.`, `5.7.26`.
fn valid_status(s: &str) -> bool {
    s.starts_with(['2', '4', '5'])
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !s.contains("..")
}

/// The provider keys.
const KEYS: &[&str] = &["provider", "docs", "hosts", "domains", "signature"];

/// A `key value` line of a provider file's head.
fn provider_line(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(char::is_whitespace)?;
    KEYS.contains(&key).then(|| (key, value.trim()))
}

fn provider_key<'a>(
    file: &mut RuleFile<'a>,
    n: usize,
    key: &'a str,
    value: &'a str,
) -> Result<(), LineError> {
    if key == "provider" {
        if let Some(h) = &file.provider {
            return error(n, format!("a second `provider` (line {})", h.line));
        }
        if !valid_id(value) || value.contains(':') {
            return error(n, format!("invalid provider name `{value}`"));
        }
        file.provider = Some(Head { line: n, name: value, ..Head::default() });
        return Ok(());
    }
    let Some(head) = file.provider.as_mut() else {
        return error(n, format!("`{key}` before `provider NAME`"));
    };
    match key {
        "docs" => head.docs.push(value),
        "hosts" => head.hosts.extend(value.split_whitespace()),
        "domains" => head.domains.extend(value.split_whitespace()),
        _ => head.signature.push(phrase(value, n)?),
    }
    Ok(())
}

/// A `PHRASE  e.g. EXAMPLE` line.
fn phrase(line: &str, n: usize) -> Result<Phrase<'_>, LineError> {
    let bytes = line.as_bytes();
    let split = (1..bytes.len()).find(|&at| {
        bytes[at..].starts_with(EXAMPLE.as_bytes())
            && bytes[at - 1].is_ascii_whitespace()
            && bytes
                .get(at + EXAMPLE.len())
                .is_none_or(u8::is_ascii_whitespace)
    });
    let Some(at) = split else {
        return error(
            n,
            format!(
                "`{line}` has no example: write `PHRASE  e.g. TEXT`, \
                 TEXT a diagnostic it matches"
            ),
        );
    };
    let (text, example) =
        (line[..at].trim(), line[at + EXAMPLE.len()..].trim());
    if example.is_empty() {
        return error(n, "`e.g.` without an example".to_string());
    }
    Ok(Phrase { line: n, text, example, more: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_rules() {
        let src = "# comment\n\n[text:full] mailbox_full\n\
            mailbox (?:is )?full   e.g. 552 Mailbox full\n\
            e.g. 552 mailbox is full\n\
            [?&]c=full\\b  e.g. see ?c=full\n\
            [x:y] rate_limited status 4.2.1\n\
            e.g. 452 4.2.1 slow down\n";
        let f = parse(src).unwrap();
        assert!(f.provider.is_none());
        assert_eq!(f.rules.len(), 2);
        let r = &f.rules[0];
        assert_eq!(
            (r.id, r.reason, r.status),
            ("text:full", Reason::MailboxFull, "")
        );
        assert_eq!(r.phrases.len(), 2);
        assert_eq!(r.phrases[0].text, "mailbox (?:is )?full");
        assert_eq!(
            r.phrases[0].examples().collect::<Vec<_>>(),
            ["552 Mailbox full", "552 mailbox is full"]
        );
        assert_eq!(r.phrases[1].text, "[?&]c=full\\b");
        let r = &f.rules[1];
        assert_eq!((r.status, r.phrases.len()), ("4.2.1", 0));
        assert_eq!(r.examples, ["452 4.2.1 slow down"]);
    }

    #[test]
    fn a_provider_file() {
        let src = "provider acme\ndocs https://acme.example/codes\n\
            hosts mx.acme.example acme.example\ndomains acme.example\n\
            signature \\bacme\\b  e.g. 550 rejected by ACME\n\
            e.g. 550 see acme.example\n\
            [acme:full] mailbox_full\nhosts full  e.g. all hosts full\n";
        let f = parse(src).unwrap();
        let h = f.provider.unwrap();
        assert_eq!(h.name, "acme");
        assert_eq!(h.hosts, ["mx.acme.example", "acme.example"]);
        assert_eq!(h.signature[0].examples().count(), 2);
        // After the first rule, `hosts ...` is a phrase.
        assert_eq!(f.rules[0].phrases[0].text, "hosts full");
    }

    #[test]
    fn bad_lines_are_named() {
        let line = |src: &str| parse(src).unwrap_err().line;
        let message = |src: &str| parse(src).unwrap_err().message;
        assert_eq!(line("[a] user_unknown\nuser unknown\n"), 2);
        assert!(
            message("[a] user_unknown\nuser unknown\n").contains("no example")
        );
        assert!(
            message("[a] usr_unknown\n")
                .contains("unknown reason `usr_unknown`")
        );
        assert!(message("[a] complaint\n").contains("not a phrase"));
        assert_eq!(line("\nfull  e.g. full\n"), 2);
        assert_eq!(line("[a] failed\n[a] failed\n"), 2);
        assert_eq!(line("[a] failed status x\n"), 1);
        assert_eq!(line("[a] failed\nfull e.g.\n"), 2);
        assert_eq!(line("e.g. nothing\n"), 1);
        assert_eq!(line("hosts a.example\n"), 1);
        assert_eq!(line("provider a\nprovider b\n"), 2);
    }
}
