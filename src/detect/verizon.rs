//! Verizon Wireless SMS/MMS gateways (`post_master@vtext.com`,
//! `vzwpix.com`): "Error: Invalid user address", "Error message below:" and
//! the remote reply, then "Message details:" with `RCPT TO: <addr>`: the
//! Apache James report, read by [`super::apachejames`].

use super::Detector;
use super::apachejames::{self, ApacheJames};
use super::scan::{from_daemon, from_domain_in, lookup, merge_with_dsn};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;

/// The Verizon detector.
pub struct Verizon;

/// The gateway's error headlines, lower-case, sorted. Source: Verizon
/// Wireless gateway reports.
#[rustfmt::skip]
const PHRASES: &[(&str, Reason)] = &[
    ("error: invalid user address", Reason::UserUnknown),
];

impl Detector for Verizon {
    fn id(&self) -> &'static str {
        "verizon"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        from_daemon(&mail.from)
            && from_domain_in(&mail.from, &["vtext.com", "vzwpix.com"])
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        // The gateways run Apache James: its report, with the gateway's
        // headline as the reason.
        let reason = lookup(&apachejames::body(mail), PHRASES);
        let rows = ApacheJames
            .decode(mail)?
            .into_iter()
            .map(|r| Row { reason, ..r })
            .collect();
        Some(merge_with_dsn(mail.dsn_rows(), rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::is_sorted_table;

    #[test]
    fn phrases_are_sorted() {
        assert!(is_sorted_table(PHRASES));
    }
}
