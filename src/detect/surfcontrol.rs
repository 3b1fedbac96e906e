//! SurfControl E-mail Filter (Websense) reports: "Your message could not be
//! sent. A transcript of the attempts to send the message follows.",
//! "Addressed To: <addr>", "Failed to send to identified host, <addr>:
//! [ip], 554 ...", "--- Message non-deliverable.", plus a delivery-status
//! part. Identified by its X-Mailer and `X-SEF-*` headers.

use std::sync::LazyLock;

use regex::Regex;

use super::Detector;
use super::scan::{
    address_blocks, has_header_prefixed, header_contains, merge_with_dsn,
    section,
};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{reply_code_in, status_in};

/// The SurfControl detector.
pub struct SurfControl;

/// The transcript's head and end, and the label before each recipient,
/// lower-case.
const TRANSCRIPT: &str = "a transcript of the attempts";
const END: &str = "--- message non-deliverable";
const LABEL: &str = "addressed to:";

/// `<addr>: [ip], reply` after "Failed to send to identified host,".
static HOST_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"@\S+:\s*\[([0-9a-fA-F.:]+)\],\s*(.+)$").unwrap()
});

impl Detector for SurfControl {
    fn id(&self) -> &'static str {
        "surfcontrol"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        header_contains(mail, "X-Mailer", &["surfcontrol"])
            || has_header_prefixed(mail, &["x-sef-"])
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        // X-SEF-* headers are stamped on all mail the filter passes: only
        // its transcript makes the message a SurfControl report.
        let transcript = section(&mail.text, &[TRANSCRIPT], &[END])?;
        let text: Vec<Row> = address_blocks(transcript, &[LABEL])
            .into_iter()
            .map(|b| {
                let hit = b.body.iter().find_map(|l| HOST_REPLY.captures(l));
                let said = hit.as_ref().map(|c| c[2].trim().to_string());
                Row {
                    recipient: Some(b.head.clone()),
                    remote_mta: hit.as_ref().map(|c| c[1].to_string()),
                    status: said.as_deref().and_then(status_in),
                    reply_code: said.as_deref().and_then(reply_code_in),
                    diagnostic: said.or_else(|| Some(b.body_text())),
                    ..Row::default()
                }
            })
            .collect();
        Some(merge_with_dsn(mail.dsn_rows(), text))
    }
}
