//! Barracuda Spam & Virus Firewall / Email Security Gateway: "Your message
//! to: <addr> was blocked by our Spam & Virus Firewall", subject
//! "**Message you sent blocked by our bulk email filter**", plus a
//! delivery-status part. A block by the spam filter is stated by the
//! format itself.

use super::Detector;
use super::scan::{address_blocks, lookup, merge_with_dsn, text_lookup};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;

/// The Barracuda detector.
pub struct Barracuda;

/// The label before each recipient, lower-case.
const LABEL: &str = "your message to:";

/// What the gateway says it did, lower-case, sorted. Source: Barracuda
/// notification templates.
#[rustfmt::skip]
const PHRASES: &[(&str, Reason)] = &[
    ("blocked by our bulk email filter", Reason::SpamContent),
    ("blocked by our spam & virus firewall", Reason::SpamContent),
    ("blocked by our spam firewall", Reason::SpamContent),
];

impl Detector for Barracuda {
    fn id(&self) -> &'static str {
        "barracuda"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        // X-Barracuda-* headers are stamped on all mail the gateway passes;
        // only its notification wording identifies its own reports.
        lookup(&mail.subject, PHRASES).is_some()
            || text_lookup(mail, PHRASES).is_some()
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let said = format!("{}\n{}", mail.subject, mail.text);
        let reason = lookup(&said, PHRASES);
        let dsn = mail.dsn_rows();
        // The notice is the gateway's own wording, not a server reply: the
        // DSN's Diagnostic-Code, when there is one, stays the diagnostic.
        let text = address_blocks(&mail.text, &[LABEL])
            .into_iter()
            .map(|b| Row {
                recipient: Some(b.head.clone()),
                diagnostic: Some(b.body_text())
                    .filter(|d| dsn.is_empty() && !d.is_empty()),
                reason,
                ..Row::default()
            })
            .collect();
        let mut rows = merge_with_dsn(dsn, text);
        for r in &mut rows {
            r.reason = r.reason.or(reason);
        }
        Some(rows)
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
