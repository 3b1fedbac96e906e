//! Ipswitch IMail Server (its SMTP service identifies as `SMTP32`):
//! "Undeliverable Mail" with `X-Mailer: <SMTP32 v8.22>`, the error as
//! "reason: a@b" lines (or "undeliverable to a@b" followed by "Body of
//! message generated response:" and the remote reply), then "Original
//! message follows.".

use super::Detector;
use super::scan::{self, join_reply};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The IMail detector.
pub struct IMailServer;

const ORIGINAL: &str = "Original message follows.";
const UNDELIVERABLE: &str = "undeliverable to ";
const RESPONSE: &str = "Body of message generated response:";
/// IMail's own error lines that name their cause in its words only
/// (lower-case prefixes, sorted): "Delivery failed 20 attempts: a@b" is
/// its retry limit.
#[rustfmt::skip]
const MESSAGES: &[(&str, Reason)] = &[
    ("delivery failed ", Reason::Expired),
    ("user mailbox exceeds allowed size", Reason::MailboxFull),
];

impl Detector for IMailServer {
    fn id(&self) -> &'static str {
        "imailserver"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.header("X-Mailer").is_some_and(|x| x.starts_with("<SMTP32 v"))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let end = mail.text.find(ORIGINAL).unwrap_or(mail.text.len());
        let body = &mail.text[..end];
        let response = scan::section(body, &[RESPONSE], &[]).map(|s| {
            join_reply(
                &s.lines()
                    .filter(|l| !l.trim().is_empty())
                    .collect::<Vec<_>>(),
            )
        });
        let rows = body
            .lines()
            .map(str::trim)
            .filter_map(|l| {
                if let Some(rest) = l.strip_prefix(UNDELIVERABLE) {
                    return Some(Row {
                        recipient: address_in(rest),
                        diagnostic: response.clone(),
                        ..Row::default()
                    });
                }
                let (reason, addr) = l.rsplit_once(": ")?;
                let addr = address_in(addr).filter(|a| a == addr.trim())?;
                if !reason.contains(' ') {
                    // A header line ("To: a@b") of the quoted message.
                    return None;
                }
                let lower = reason.to_ascii_lowercase();
                Some(Row {
                    recipient: Some(addr),
                    diagnostic: Some(reason.to_string()),
                    reason: MESSAGES
                        .iter()
                        .find(|(m, _)| lower.starts_with(m))
                        .map(|(_, r)| *r),
                    ..Row::default()
                })
            })
            .map(|r| Row { action: Some("failed".into()), ..r })
            .collect();
        Some(rows)
    }
}
