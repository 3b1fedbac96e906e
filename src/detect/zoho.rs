//! Zoho Mail (<https://www.zoho.com/mail/>): the reports of
//! `mailer-daemon@mail.zoho.com`. A failure names each recipient on one
//! line with the remote reply and status as `ERROR_CODE` values:
//!
//! ```text
//! user@example.org Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <user@example.org>... User Unknown
//! ```
//!
//! A delay warning ("THIS IS A WARNING MESSAGE ONLY.") lists bracketed
//! entries after "The following addresses had fatal errors":
//!
//! ```text
//! [Status: Error, Address: <user@example.org>, ResponseCode 421, , Host not reachable.]
//! ```
//!
//! The returned message's headers follow inline.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detector, scan};
use crate::model::EventType;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{clean_address, status_in};

/// The Zoho Mail detector.
pub struct Zoho;

/// Marks of a delay warning; from Zoho's "Mail Delivery Status
/// Notification (Delay)".
const DELAY: &[&str] =
    &["message will be retried for", "this is a warning message only"];

static FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(\S+@\S+)\s+(.*?ERROR_CODE\s*:\s*(\d{3})?.*)$")
        .unwrap()
});

static WARNING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[Status:\s*\w+,\s*Address:\s*<([^>]+)>,\s*ResponseCode\s*(\d{3})?\s*,\s*(.*?)\]")
        .unwrap()
});

impl Detector for Zoho {
    fn id(&self) -> &'static str {
        "zoho"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.has_header("X-ZohoMail")
            || mail.from.ends_with("@mail.zoho.com")
            || mail.header("X-Mailer").is_some_and(|m| m == "Zoho Mail")
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let delay = scan::text_has_marker(mail, DELAY);
        let base = Row {
            action: Some(if delay { "delayed" } else { "failed" }.into()),
            kind: Some(if delay {
                EventType::Delay
            } else {
                EventType::Bounce
            }),
            ..Row::default()
        };
        let failures = FAILURE.captures_iter(&mail.text).map(|c| {
            (c.get(1), c.get(3), c.get(2).map_or("", |m| m.as_str()))
        });
        let warnings = WARNING.captures_iter(&mail.text).map(|c| {
            let diag = c.get(0).map_or("", |m| m.as_str());
            (c.get(1), c.get(2), diag.trim_matches(['[', ']']))
        });
        let rows: Vec<Row> = failures
            .chain(warnings)
            .filter_map(|(addr, code, diag)| {
                Some(Row {
                    recipient: Some(clean_address(addr?.as_str())?),
                    reply_code: code.map(|m| m.as_str().to_string()),
                    status: status_in(diag),
                    diagnostic: Some(diag.to_string()),
                    ..base.clone()
                })
            })
            .collect();
        Some(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_line() {
        let c = FAILURE
            .captures("a@example.org Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <a@example.org>... User Unknown")
            .unwrap();
        assert_eq!(&c[1], "a@example.org");
        assert_eq!(&c[3], "550");
        assert_eq!(status_in(&c[2]).as_deref(), Some("5.1.1"));
    }

    #[test]
    fn warning_entry() {
        let c = WARNING
            .captures("[Status: Error, Address: <b@example.net>, ResponseCode 421, , Host not reachable.]")
            .unwrap();
        assert_eq!(&c[1], "b@example.net");
        assert_eq!(&c[2], "421");
        assert_eq!(&c[3], ", Host not reachable.");
    }
}
