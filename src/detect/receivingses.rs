//! Amazon SES email receiving
//! (<https://docs.aws.amazon.com/ses/latest/dg/receiving-email.html>):
//! the reports SES sends when a domain that receives mail through SES
//! refuses a message (no such mailbox, a receipt rule's bounce action).
//! They are RFC 3464 reports sent by SES (`X-SES-Outgoing`) in the name
//! of the receiving domain, whose Reporting-MTA is SES's inbound server
//! (`inbound-smtp.<region>.amazonaws.com`).

use super::{Detector, scan};
use crate::model::Row;
use crate::parse::Mail;

/// The SES receiving detector.
pub struct ReceivingSes;

/// Reporting-MTA of SES's inbound servers.
const INBOUND: &[&str] = &["inbound-smtp."];

impl Detector for ReceivingSes {
    fn id(&self) -> &'static str {
        "receivingses"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.dsn.as_ref().is_some_and(|d| {
            d.message.get("reporting-mta").is_some_and(|m| {
                scan::has_marker(m, INBOUND) && m.contains("amazonaws.com")
            })
        })
    }

    /// SES's inbound server is the one that refused the message, so it
    /// stands as the remote MTA: the classifier then reads the text with
    /// SES's own rules (`rules/providers/amazonses.rules`).
    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let mut rows = mail.dsn_rows();
        for row in &mut rows {
            if row.remote_mta.is_none() {
                row.remote_mta.clone_from(&row.reporting_mta);
            }
        }
        Some(rows)
    }
}
