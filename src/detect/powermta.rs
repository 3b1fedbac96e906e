//! PowerMTA (<https://www.bird.com/en-us/powermta>), the sending MTA of
//! many ESPs: RFC 3464 reports ("Delivery report") whose delivery-status
//! part carries PowerMTA's own fields, `X-PowerMTA-VirtualMTA` and the
//! bounce category PowerMTA assigned (`X-PowerMTA-BounceCategory`), which
//! becomes the row's reason.

use super::Detector;
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;

/// The PowerMTA detector.
pub struct PowerMta;

/// PowerMTA's bounce categories that name a reason; from the PowerMTA
/// User's Guide ("bounce categories"). `bad-configuration` and `other`
/// leave the reason to the codes and text.
#[rustfmt::skip]
static CATEGORIES: &[(&str, Reason)] = &[
    ("bad-connection", Reason::NetworkError),
    ("bad-domain", Reason::HostUnknown),
    ("bad-mailbox", Reason::UserUnknown),
    ("content-related", Reason::ContentError),
    ("inactive-mailbox", Reason::Suspended),
    ("invalid-sender", Reason::SenderRejected),
    ("message-expired", Reason::Expired),
    ("no-answer-from-host", Reason::NetworkError),
    ("policy-related", Reason::Policy),
    ("protocol-errors", Reason::SyntaxError),
    ("quota-issues", Reason::MailboxFull),
    ("relaying-issues", Reason::RelayingDenied),
    ("routing-errors", Reason::NetworkError),
    ("spam-related", Reason::SpamContent),
    ("virus-related", Reason::Virus),
];

/// The field with the category.
const CATEGORY: &str = "x-powermta-bouncecategory";

impl Detector for PowerMta {
    fn id(&self) -> &'static str {
        "powermta"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.dsn.as_ref().is_some_and(|d| {
            std::iter::once(&d.message)
                .chain(&d.recipients)
                .any(|f| f.0.iter().any(|(n, _)| n.starts_with("x-powermta-")))
        })
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let dsn = mail.dsn.as_ref()?;
        let mut rows = dsn.rows();
        for (row, fields) in rows.iter_mut().zip(&dsn.recipients) {
            let category = fields.get(CATEGORY).unwrap_or("").to_lowercase();
            row.reason = CATEGORIES
                .iter()
                .find(|(c, _)| *c == category)
                .map(|(_, r)| *r);
        }
        Some(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        assert!(crate::detect::scan::is_sorted_table(CATEGORIES));
    }
}
