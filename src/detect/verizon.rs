//! Verizon Wireless SMS/MMS gateways (`post_master@vtext.com`,
//! `vzwpix.com`): "Error: Invalid user address", "Error message below:" and
//! the remote reply, then "Message details:" with `RCPT TO: <addr>`.

use super::scan::{
    from_daemon, from_domain_in, lookup, merge_with_dsn, section, text_with,
};
use super::{Detector, Row};
use crate::classify::Reason;
use crate::parse::Mail;
use crate::parse::fields::{address_in, unfold};

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
        let text = text_with(mail, "error message below:");
        let said =
            section(&text, &["error message below:"], &["message details:"])
                .map(unfold)
                .filter(|s| !s.is_empty());
        let reason = lookup(&text, PHRASES);
        let rows = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("RCPT TO:"))
            .filter_map(address_in)
            .map(|r| Row {
                recipient: Some(r),
                diagnostic: said.clone(),
                reason,
                ..Row::default()
            })
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
