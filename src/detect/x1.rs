//! An unnamed MTA (sisimai's "X1"; it sends from "Mail Deliver System"
//! or "Mail Delivery System" <MAILER-DAEMON>): "The original message was
//! received at ...", "---The following addresses had delivery errors---"
//! and one `a@b [reason]` line per recipient.

use std::sync::LazyLock;

use regex::Regex;

use super::Detector;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::clean_address;

/// The X1 detector.
pub struct X1;

const MARKER: &str = "---The following addresses had delivery errors---";

static LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\S+@\S+) \[(.+)\]\s*$").unwrap());

impl Detector for X1 {
    fn id(&self) -> &'static str {
        "x1"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(MARKER)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let (_, list) = mail.text.split_once(MARKER)?;
        let rows = list
            .lines()
            .filter_map(|l| LINE.captures(l.trim()))
            .map(|c| Row {
                recipient: clean_address(&c[1]),
                diagnostic: Some(c[2].to_string()),
                action: Some("failed".into()),
                ..Row::default()
            })
            .collect();
        Some(rows)
    }
}
