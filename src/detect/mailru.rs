//! Mail.Ru (`mailer-daemon@corp.mail.ru`): an Exim report with a Russian
//! preface. Both the Russian list ("... не может быть доставлено одному или
//! нескольким получателям:") and the English one ("The following
//! address(es) failed:") name each recipient, then "SMTP error from remote
//! mail server after RCPT TO:<..>: host H [ip]: reply".

use super::Detector;
use super::scan::{
    address_blocks, block_row, from_daemon, from_domain_in, merge_with_dsn,
    section,
};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;

/// The Mail.Ru detector.
pub struct MailRu;

/// Lines that open a recipient list, lower-case, in the order they are
/// read: Exim's English list first (it always names full addresses), then
/// the Russian one ("to one or more recipients:").
#[rustfmt::skip]
const STARTS: &[&str] = &["address(es) failed:", "получателям:"];

/// Lines that close it: Russian "we recommend", the Exim copy banner.
#[rustfmt::skip]
const ENDS: &[&str] = &["***", "------ this is a copy", "рекомендуем"];

/// Exim's own verdicts, lower-case, sorted. Source: Exim's
/// `retry timeout exceeded` (spec, "Retry configuration").
#[rustfmt::skip]
const PHRASES: &[(&str, Reason)] = &[
    ("retry time not reached for any host", Reason::Expired),
    ("retry timeout exceeded", Reason::Expired),
];

impl Detector for MailRu {
    fn id(&self) -> &'static str {
        "mailru"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        from_daemon(&mail.from) && from_domain_in(&mail.from, &["mail.ru"])
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let blocks = STARTS
            .iter()
            .filter_map(|s| section(&mail.text, &[s], ENDS))
            .map(|list| address_blocks(list, &[]))
            .find(|b| !b.is_empty())?;
        let rows = blocks.iter().map(|b| block_row(b, PHRASES)).collect();
        Some(merge_with_dsn(mail.dsn_rows(), rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::is_sorted_table;

    #[test]
    fn tables_are_sorted() {
        assert!(is_sorted_table(PHRASES));
        assert!(STARTS.windows(2).all(|w| w[0] < w[1]));
        assert!(ENDS.windows(2).all(|w| w[0] < w[1]));
    }
}
