//! MailFoundry, a spam-filtering mail gateway: "Message delivery has
//! failed", "Unable to deliver message to: <a@b>", "Delivery failed for
//! the following reason:" and the remote refusal ("mx.example[192.0.2.1]
//! responded with failure: 552 ...").

use super::Detector;
use super::scan;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The MailFoundry detector.
pub struct MailFoundry;

const TO: &str = "Unable to deliver message to:";
const REASON: &str = "Delivery failed for the following reason:";
const RESPONDED: &str = " responded with failure: ";

impl Detector for MailFoundry {
    fn id(&self) -> &'static str {
        "mailfoundry"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(TO) && mail.text_has(REASON)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let line = mail.text.lines().find(|l| l.starts_with(TO))?;
        let reason = scan::section(&mail.text, &[REASON], &[])?
            .split("\n\n")
            .next()?
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        let (remote, diagnostic) = match reason.split_once(RESPONDED) {
            Some((host, reply)) => {
                (host.split('[').next().map(String::from), reply.to_string())
            }
            None => (None, reason),
        };
        Some(vec![Row {
            recipient: address_in(line),
            diagnostic: Some(diagnostic),
            remote_mta: remote,
            action: Some("failed".into()),
            ..Row::default()
        }])
    }
}
