//! BIGLOBE (`postmaster@biglobe.ne.jp`) returned mail: "----- The
//! following addresses had delivery problems -----", the addresses, then
//! "----- Non-delivered information -----" and one sentence that names the
//! reason. No codes.

use super::Detector;
use super::scan::{
    address_blocks, from_daemon, from_domain_in, lookup, merge_with_dsn,
    section,
};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::unfold;

/// The BIGLOBE detector.
pub struct Biglobe;

/// Start of the recipient list.
const RECIPIENTS: &str = "the following addresses had delivery problems";
/// Start of the reason.
const INFORMATION: &str = "non-delivered information";

/// Reason sentences, lower-case, sorted. Source: BIGLOBE's reports.
#[rustfmt::skip]
const PHRASES: &[(&str, Reason)] = &[
    ("exceeded the local limit", Reason::MailboxFull),
    ("user unknown", Reason::UserUnknown),
];

impl Detector for Biglobe {
    fn id(&self) -> &'static str {
        "biglobe"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        from_daemon(&mail.from)
            && from_domain_in(&mail.from, &["biglobe.ne.jp"])
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let list = section(&mail.text, &[RECIPIENTS], &["-----"])?;
        let info = section(&mail.text, &[INFORMATION], &["-----"])
            .map(unfold)
            .filter(|i| !i.is_empty());
        let reason = info.as_deref().and_then(|i| lookup(i, PHRASES));
        let rows = address_blocks(list, &[])
            .into_iter()
            .map(|b| Row {
                recipient: Some(b.head),
                diagnostic: info.clone(),
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
