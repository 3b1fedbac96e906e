//! Oracle Communications Messaging Server (formerly Sun Java System
//! Messaging Server, iPlanet, PMDF): "This report relates to a message you
//! sent with the following header fields:", then "Your message cannot be
//! delivered to the following recipients:" (or "... has been delayed
//! ..."), per recipient "Recipient address:", "Reason:", "Diagnostic
//! code:" and "Remote system:" lines, and an RFC 3464 part whose rows are
//! completed from them.

use super::Detector;
use super::scan::{self, Follow};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{address_in, strip_type};

/// The Messaging Server detector.
pub struct MessagingServer;

const INTRO: &str = "This report relates to a message you sent with the following header fields:";
const RECIPIENT: &str = "Recipient address:";

impl Detector for MessagingServer {
    fn id(&self) -> &'static str {
        "messagingserver"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(INTRO)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let is_head = |l: &str| l.trim_start().starts_with(RECIPIENT);
        let found = scan::blocks(&mail.text, is_head, Follow::Paragraph)
            .iter()
            .map(|b| {
                let field = |name: &str| {
                    b.body
                        .iter()
                        .find_map(|l| l.strip_prefix(name))
                        .map(str::trim)
                };
                let diagnostic = field("Diagnostic code:").map(strip_type);
                Row {
                    recipient: address_in(b.head),
                    diagnostic: diagnostic
                        .or(field("Reason:"))
                        .map(String::from),
                    remote_mta: field("Remote system:")
                        .map(strip_type)
                        .and_then(|r| r.split_whitespace().next())
                        .map(String::from),
                    ..Row::default()
                }
            })
            .collect();
        Some(scan::merge_with_dsn(mail.dsn_rows(), found))
    }
}
