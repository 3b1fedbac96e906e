//! An unnamed MTA family that kept qmail's wording (sisimai calls it
//! "X2"): "Message from example.jp.", "Unable to deliver message to the
//! following address(es).", qmail-style `<a@b>:` paragraphs and "---
//! Original message follows."; and a later variant of the same software
//! that writes "This Delivery Status Notification is sent from MTA...",
//! one "Delivery failed: a@b" paragraph per recipient with qmail-remote's
//! lines ("... failed after I sent the message.", "Remote host
//! said[Response Message]: ...") and a "STEP:" line.

use super::Detector;
use super::qmail::{self, ENDS};
use super::scan;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The X2 detector.
pub struct X2;

/// Lines that open the recipient paragraphs, one per variant.
#[rustfmt::skip]
const STARTS: &[&str] = &[
    "This Delivery Status Notification is sent from MTA",
    "Unable to deliver message to the following address(es).",
];

/// The head line of the newer variant.
const FAILED: &str = "Delivery failed: ";

impl Detector for X2 {
    fn id(&self) -> &'static str {
        "x2"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        STARTS.iter().any(|m| mail.text_has(m))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let section = scan::section(&mail.text, STARTS, ENDS)?;
        let rows = qmail::recipient_rows(section, |l| {
            qmail::is_head(l)
                || l.starts_with(FAILED) && address_in(l).is_some()
        });
        Some(
            rows.into_iter()
                .map(|mut r| {
                    // The newer variant's "STEP: DATA SEND" line is not
                    // part of the remote reply.
                    if let Some(d) = &mut r.diagnostic
                        && let Some(at) = d.find(" STEP: ")
                    {
                        d.truncate(at);
                    }
                    r
                })
                .collect(),
        )
    }
}
