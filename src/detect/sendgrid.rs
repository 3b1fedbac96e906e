//! SendGrid (<https://sendgrid.com>): the RFC 3464 reports SendGrid
//! forwards to the sender's bounce address ("This is an automatically
//! generated message from SendGrid."), whose delivery-status part carries
//! `X-SendGrid-QueueID` and `X-SendGrid-Sender` and a Diagnostic-Code
//! without a type prefix.

use super::{Detector, scan};
use crate::model::Row;
use crate::parse::Mail;

/// The SendGrid detector.
pub struct SendGrid;

/// Opening of the human part.
const INTRO: &[&str] = &["automatically generated message from sendgrid"];

impl Detector for SendGrid {
    fn id(&self) -> &'static str {
        "sendgrid"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        let fields = mail.dsn.as_ref().is_some_and(|d| {
            d.message.0.iter().any(|(n, _)| n.starts_with("x-sendgrid-"))
        });
        fields
            || scan::lines(&mail.text)
                .take(20)
                .any(|(_, l)| scan::has_marker(l, INTRO))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        Some(mail.dsn_rows())
    }
}
