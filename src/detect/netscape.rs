//! Netscape Messaging Server (and iPlanet before it wrote RFC 3464
//! reports): a plain-text notice that opens "This Message was
//! undeliverable due to the following reason:", states the reason in one
//! or more paragraphs, lists the failed recipients one per line, each
//! alone and usually in angle brackets (`<a@b>`), sometimes after "The
//! following recipients did not receive this message:", and closes with
//! "Please reply to Postmaster@... if you feel this message to be in
//! error.".

use super::Detector;
use super::scan::{find_ci, strip_prefix_ci};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::clean_address;
use crate::parse::returned;

/// The Netscape detector.
pub struct Netscape;

/// The notice's opening line (compared ignoring ASCII case).
const OPENING: &str =
    "this message was undeliverable due to the following reason:";
/// The line before the recipient list in some notices.
const LIST: &str = "the following recipients did not receive this message";
/// The closing line.
const CLOSING: &str = "please reply to postmaster";

/// A line that is only an address, bare or in angle brackets.
fn lone_address(line: &str) -> Option<String> {
    let t = line.trim();
    let inner =
        t.strip_prefix('<').and_then(|x| x.strip_suffix('>')).unwrap_or(t);
    if inner.is_empty() || inner.contains(char::is_whitespace) {
        return None;
    }
    clean_address(inner).filter(|a| a.eq_ignore_ascii_case(inner))
}

impl Detector for Netscape {
    fn id(&self) -> &'static str {
        "netscape"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.lower_has(OPENING)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = &mail.text
            [..returned::inline_start(&mail.text).unwrap_or(mail.text.len())];
        let start = find_ci(text, OPENING)? + OPENING.len();
        let mut reason: Vec<&str> = Vec::new();
        let mut recipients: Vec<String> = Vec::new();
        for line in text[start..].lines().map(str::trim) {
            if strip_prefix_ci(line, CLOSING).is_some() {
                break;
            }
            if let Some(a) = lone_address(line) {
                if !recipients.iter().any(|r| r.eq_ignore_ascii_case(&a)) {
                    recipients.push(a);
                }
            } else if recipients.is_empty()
                && !line.is_empty()
                && strip_prefix_ci(line, LIST).is_none()
            {
                reason.push(line);
            }
        }
        let diagnostic = reason.join(" ");
        let rows = recipients
            .into_iter()
            .map(|a| Row {
                recipient: Some(a),
                action: Some("failed".into()),
                diagnostic: (!diagnostic.is_empty())
                    .then(|| diagnostic.clone()),
                ..Row::default()
            })
            .collect();
        Some(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::lone_address;

    #[test]
    fn only_a_line_holding_just_an_address_names_a_recipient() {
        assert_eq!(
            lone_address("  <a@example.org>").as_deref(),
            Some("a@example.org")
        );
        assert_eq!(
            lone_address("b@example.org ").as_deref(),
            Some("b@example.org")
        );
        assert_eq!(lone_address("Please write to a@example.org"), None);
        assert_eq!(lone_address("<a@example.org> is over quota"), None);
        assert_eq!(lone_address("<>"), None);
    }
}
