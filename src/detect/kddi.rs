//! KDDI au one net / DION (`@*.dion.ne.jp`, `@auone-net.jp`) returned
//! mail: "Your mail sent on: <date> Could not be delivered to: <addr> As
//! their mailbox is full." The report has no codes; its sentence names the
//! reason.

use super::Detector;
use super::scan::{
    address_blocks, block_row, from_domain_in, header_contains, merge_with_dsn,
};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;

/// The KDDI detector.
pub struct Kddi;

/// The label before each recipient.
const LABEL: &str = "could not be delivered to:";

/// Reason sentences after the recipient, lower-case, sorted. Source: the
/// reports of KDDI's mail system (au one net / DION).
#[rustfmt::skip]
const PHRASES: &[(&str, Reason)] = &[
    ("as their mailbox is full", Reason::MailboxFull),
    ("the user(s) account is disabled", Reason::Suspended),
    ("the user(s) account is temporarily over quota", Reason::MailboxFull),
];

impl Detector for Kddi {
    fn id(&self) -> &'static str {
        "kddi"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        let kddi = from_domain_in(&mail.from, &["dion.ne.jp", "auone-net.jp"])
            || header_contains(mail, "Reply-To", &["auone-net.jp"]);
        kddi && mail.lower_has(LABEL)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let blocks = address_blocks(&mail.text, &[LABEL]);
        let rows: Vec<Row> =
            blocks.iter().map(|b| block_row(b, PHRASES)).collect();
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
