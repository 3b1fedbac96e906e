//! An unnamed MTA (sisimai's "X3"; it sends as "Mail Delivery System"):
//! a text part framed by lines of `=`, "This is an automatically generated
//! Delivery Status Notification.", "Delivery to the following recipients
//! failed permanently:" (or "... was aborted after 5.0 hour(s):", with
//! its own spelling "Delevery" in some versions), `* a@b` lines, and
//! "Technical details:" with lines such as `SMTP:RCPT host 192.0.2.8: 553
//! ...` or `Routing: Could not find a gateway for a@b`. Some versions add
//! an RFC 3464 part; its rows are completed from the text.

use std::sync::LazyLock;

use regex::Regex;

use super::Detector;
use super::scan::{self, command_word};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The X3 detector.
pub struct X3;

const INTRO: &str =
    "This is an automatically generated Delivery Status Notification.";
const DETAILS: &str = "Technical details:";
/// The recipient list opens with one of these (lower-case).
#[rustfmt::skip]
const LISTS: &[&str] = &[
    "to the following recipients failed permanently:",
    "to the following recipients was aborted after",
];
/// Delivery stopped when the queue time ran out.
const ABORTED: &str = "was aborted after";

static SMTP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^SMTP:([A-Za-z]+) host (\S+?):? (.*)$").unwrap()
});

impl Detector for X3 {
    fn id(&self) -> &'static str {
        "x3"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(INTRO) && LISTS.iter().any(|m| mail.lower_has(m))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = &mail.text;
        let aborted = text.contains(ABORTED);
        let details: Vec<&str> = scan::section(text, &[DETAILS], &["====="])
            .map(|s| {
                s.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
            })
            .unwrap_or_default();
        let list =
            scan::section(text, &["to the following recipients"], &[DETAILS])?;
        let recipients: Vec<String> = list
            .lines()
            .filter_map(|l| l.trim().strip_prefix("* "))
            .filter_map(address_in)
            .collect();
        let found = recipients
            .iter()
            .map(|addr| {
                let detail = details
                    .iter()
                    .find(|d| d.contains(addr.as_str()))
                    .or(details.first());
                let mut row = Row {
                    recipient: Some(addr.clone()),
                    action: Some("failed".into()),
                    reason: aborted.then_some(Reason::Expired),
                    ..Row::default()
                };
                if let Some(d) = detail {
                    match SMTP.captures(d) {
                        Some(c) => {
                            row.command = command_word(&c[1]);
                            row.remote_mta = Some(c[2].to_string());
                            row.diagnostic = Some(c[3].to_string());
                        }
                        None => row.diagnostic = Some(d.to_string()),
                    }
                }
                row
            })
            .collect();
        Some(scan::merge_with_dsn(mail.dsn_rows(), found))
    }
}
