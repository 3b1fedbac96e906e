//! Trend Micro InterScan Messaging Security Suite / InterScan VirusWall
//! notifications: "Message from InterScan Messaging Security Suite",
//! "Unable to deliver message to <addr> (and other recipients in the same
//! domain). Please check if address is correct." Identified by the
//! InterScan sender name, MIME boundary or banner.

use super::Detector;
use super::scan::{address_blocks, header_contains, lookup};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;

/// The Trend Micro InterScan detector.
pub struct TrendMicro;

/// The label before each recipient, lower-case.
const LABEL: &str = "unable to deliver message to";

/// InterScan's sentences, lower-case, sorted. Source: InterScan MSS
/// notification templates.
#[rustfmt::skip]
const PHRASES: &[(&str, Reason)] = &[
    ("please check if address is correct", Reason::UserUnknown),
];

impl Detector for TrendMicro {
    fn id(&self) -> &'static str {
        "trendmicro"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        header_contains(mail, "From", &["interscan"])
            || header_contains(mail, "Content-Type", &["interscan_"])
            || mail.text_has("Message from InterScan")
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        Some(
            address_blocks(&mail.text, &[LABEL])
                .into_iter()
                .map(|mut b| {
                    // Drop the banner rules of asterisks.
                    b.body.retain(|l| !l.chars().all(|c| c == '*'));
                    let text = b.body_text();
                    Row {
                        reason: lookup(&text, PHRASES),
                        diagnostic: (!text.is_empty()).then_some(text),
                        recipient: Some(b.head),
                        ..Row::default()
                    }
                })
                .collect(),
        )
    }
}
