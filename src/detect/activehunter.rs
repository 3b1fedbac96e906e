//! Active!hunter, a Japanese mail filter gateway (by Transware): a
//! Sendmail-like notice with an `X-AHMAILID` header and a
//! `------=_Active!Hunter_...` boundary: "----- The following addresses
//! had permanent fatal errors -----", `>>> a@b <a@b>` lines, then "-----
//! Transcript of session follows -----" with the remote reply.

use super::Detector;
use super::scan;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The Active!hunter detector.
pub struct ActiveHunter;

const ADDRESSES: &str =
    "----- The following addresses had permanent fatal errors -----";
const TRANSCRIPT: &str = "----- Transcript of session follows -----";

impl Detector for ActiveHunter {
    fn id(&self) -> &'static str {
        "activehunter"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.has_header("X-AHMAILID")
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = &mail.text;
        let reply = scan::section(text, &[TRANSCRIPT], &[])
            .and_then(|s| s.lines().map(str::trim).find(|l| !l.is_empty()))
            .map(String::from);
        let rows = scan::section(text, &[ADDRESSES], &[TRANSCRIPT])?
            .lines()
            .filter_map(|l| l.trim().strip_prefix(">>> "))
            .filter_map(address_in)
            .map(|a| Row {
                recipient: Some(a),
                diagnostic: reply.clone(),
                action: Some("failed".into()),
                ..Row::default()
            })
            .collect();
        Some(rows)
    }
}
