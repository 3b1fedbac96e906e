//! McAfee Email Gateway / Email and Web Security appliances: "--- The
//! following addresses had delivery problems ---" with `<addr>   (reply)`
//! lines, plus a delivery-status part. Identified by the `X-NAI-Header`
//! stamp ("Modified by McAfee ...").

use super::Detector;
use super::scan::{address_blocks, block_row, merge_with_dsn, section};
use crate::model::Row;
use crate::parse::Mail;

/// The McAfee detector.
pub struct McAfee;

/// The line before the recipient list, lower-case.
const RECIPIENTS: &str = "the following addresses had delivery problems";

impl Detector for McAfee {
    fn id(&self) -> &'static str {
        "mcafee"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.header("X-NAI-Header")
            .is_some_and(|h| h.to_ascii_lowercase().contains("mcafee"))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        // The appliance stamps X-NAI-Header on all mail it passes: only its
        // own report text makes the message a McAfee report.
        let list = section(&mail.text, &[RECIPIENTS], &["---"])?;
        let text = address_blocks(list, &[])
            .into_iter()
            .map(|mut b| {
                for l in &mut b.body {
                    *l = l.trim_matches(['(', ')']);
                }
                block_row(&b, &[])
            })
            .collect();
        Some(merge_with_dsn(mail.dsn_rows(), text))
    }
}
