//! OpenSMTPD (<https://www.opensmtpd.org/>): "This is the MAILER-DAEMON,
//! please DO NOT REPLY to this e-mail.", then "An error has occurred while
//! attempting to deliver a message for the following list of recipients:"
//! (or "A message is delayed for more than ... for the following list of
//! recipients:"), one `a@b: error` line per recipient, and "Below is a
//! copy of the original message:" (`smtpd/bounce.c`). Releases since 6.4
//! add an RFC 3464 part; its rows are completed from the text.

use super::Detector;
use super::scan;
use crate::model::EventType;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::clean_address;

/// The OpenSMTPD detector.
pub struct OpenSmtpd;

/// The greeting of every OpenSMTPD report (`bounce.c`; "e-mail" before
/// 6.0, "email" after).
#[rustfmt::skip]
const GREETINGS: &[&str] = &[
    "This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.",
    "This is the MAILER-DAEMON, please DO NOT REPLY to this email.",
];
/// Lines that open the recipient list; the delayed one is a warning.
#[rustfmt::skip]
const STARTS: &[&str] = &[
    "An error has occurred while attempting to deliver a message",
    "A message is delayed for more than",
];
const DELAYED: &str = "A message is delayed for more than";
#[rustfmt::skip]
const ENDS: &[&str] = &[
    "Below is a copy of the original message:",
    "Please note that this is only a temporary failure report.",
];

impl Detector for OpenSmtpd {
    fn id(&self) -> &'static str {
        "opensmtpd"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        GREETINGS.iter().any(|g| mail.text_has(g))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let section = scan::section(&mail.text, STARTS, ENDS)?;
        let delayed = mail.text_has(DELAYED);
        let found = section
            .lines()
            .filter(|l| !l.starts_with([' ', '\t']))
            .filter_map(|l| {
                let (addr, error) = l.split_once(": ")?;
                Some(Row {
                    recipient: clean_address(addr),
                    diagnostic: Some(error.trim().to_string()),
                    action: Some(
                        if delayed { "delayed" } else { "failed" }.into(),
                    ),
                    kind: delayed.then_some(EventType::Delay),
                    ..Row::default()
                })
            })
            .filter(|r| r.recipient.is_some())
            .collect();
        Some(scan::merge_with_dsn(mail.dsn_rows(), found))
    }
}
