//! MX Logic (McAfee SaaS Email Protection) relays, `mxl_mta`: an
//! Exim-derived text, "The following address failed:" with `<addr>: reply`
//! lines, then "Included is a copy of the message header:". Identified by
//! its `X-MX-Bounce` / `X-MXL-NoteHash` headers, the mxlogic.net sender or
//! the `mxl_mta` Received stamp.

use super::Detector;
use super::scan::{
    address_blocks, block_row, from_domain_in, header_contains,
    merge_with_dsn, section,
};
use crate::model::Row;
use crate::parse::Mail;

/// The MX Logic detector.
pub struct MxLogic;

/// Lines that open the recipient list, lower-case.
const STARTS: &[&str] = &["address failed:", "addresses failed:"];
/// Lines that close it, lower-case.
const ENDS: &[&str] = &["included is a copy of the message"];

impl Detector for MxLogic {
    fn id(&self) -> &'static str {
        "mxlogic"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        from_domain_in(&mail.from, &["mxlogic.net"])
            || mail.has_header("X-MX-Bounce")
            || mail.has_header("X-MXL-NoteHash")
            || header_contains(mail, "Received", &["(mxl_mta-"])
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let list = section(&mail.text, STARTS, ENDS)?;
        let rows = address_blocks(list, &[])
            .iter()
            .map(|b| block_row(b, &[]))
            .collect();
        Some(merge_with_dsn(mail.dsn_rows(), rows))
    }
}
