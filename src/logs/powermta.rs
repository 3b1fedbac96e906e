//! PowerMTA (<https://www.bird.com/en-us/powermta>) accounting files: CSV
//! whose header line (first field `type`) names the fields of the records
//! after it (PowerMTA User's Guide, "Accounting": `<acct-file>` with
//! `record-fields`). Record types: `d` delivery, `b` bounce, `rb` remote
//! (asynchronous) bounce, `t` / `tq` transient failure (a delay), `f`
//! feedback loop (a complaint); others (`r` receipt, ...) give nothing.
//!
//! Fields read: `timeLogged` (`YYYY-MM-DD HH:MM:SS±HHMM`), `timeQueued`,
//! `rcpt`, `orcpt`, `dsnStatus` (`5.1.1 (bad destination mailbox
//! address)`), `dsnDiag` (`smtp;550 5.1.1 ...`), `dsnMta` (`mx.example.org
//! (192.0.2.1)`), `bounceCat` (PowerMTA's own category: a hint the
//! classifier uses when codes and text say less; `message-expired` is an
//! expiry) and `header_Message-Id` when configured. A record before any
//! header line, or whose field count differs from the header's, cannot be
//! read.

use super::stamp::{self, Clock};
use super::{LineError, LineReader, LogEvent, LogFormat, address, command_in};
use crate::model::{EventType, Reason};
use crate::parse::fields;

/// The PowerMTA accounting format.
pub(crate) struct PowerMta;

impl LogFormat for PowerMta {
    fn id(&self) -> &'static str {
        "powermta"
    }

    fn detector(&self) -> &'static str {
        "log:powermta"
    }

    fn reader(&self) -> Box<dyn LineReader> {
        Box::new(Reader::default())
    }
}

#[derive(Default)]
struct Reader {
    header: Vec<String>,
}

/// PowerMTA's bounce categories and the reasons they state.
#[rustfmt::skip]
const CATEGORIES: &[(&str, Reason)] = &[
    ("bad-connection", Reason::NetworkError),
    ("bad-domain", Reason::HostUnknown),
    ("bad-mailbox", Reason::UserUnknown),
    ("content-related", Reason::ContentError),
    ("inactive-mailbox", Reason::Suspended),
    ("invalid-sender", Reason::SenderRejected),
    ("message-expired", Reason::Expired),
    ("no-answer-from-host", Reason::NetworkError),
    ("policy-related", Reason::Policy),
    ("quota-issues", Reason::MailboxFull),
    ("relaying-issues", Reason::RelayingDenied),
    ("routing-errors", Reason::NetworkError),
    ("spam-related", Reason::SpamContent),
    ("virus-related", Reason::Virus),
];

/// The fields of one CSV line.
fn split(line: &str) -> Result<Vec<String>, LineError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let rec = r
        .records()
        .next()
        .transpose()
        .map_err(|e| LineError::Record(format!("not a CSV record: {e}")))?
        .unwrap_or_default();
    Ok(rec.iter().map(str::to_string).collect())
}

impl LineReader for Reader {
    fn line(
        &mut self,
        line: &str,
        clock: &Clock,
        out: &mut Vec<LogEvent>,
    ) -> Result<(), LineError> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let values = split(line)?;
        if values.first().map(String::as_str) == Some("type") {
            self.header = values;
            return Ok(());
        }
        if self.header.is_empty() {
            return Err(LineError::Record(
                "a record before the header line".into(),
            ));
        }
        if values.len() != self.header.len() {
            return Err(LineError::Record(format!(
                "{} fields where the header names {}",
                values.len(),
                self.header.len()
            )));
        }
        let get = |name: &str| {
            self.header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .map(|i| values[i].trim())
                .filter(|v| !v.is_empty())
        };
        let kind = match get("type").unwrap_or("") {
            "d" => EventType::Delivered,
            "b" | "rb" => EventType::Bounce,
            "t" | "tq" => EventType::Delay,
            "f" => EventType::Complaint,
            _ => return Ok(()),
        };
        let time = get("timeLogged")
            .and_then(|t| stamp::datetime(t, clock))
            .map(|(t, _)| t)
            .ok_or_else(|| {
                LineError::Field("timeLogged is not a time".into())
            })?;
        let recipient = get("rcpt")
            .and_then(address)
            .ok_or_else(|| LineError::Field("a record without rcpt".into()))?;
        let diagnostic = get("dsnDiag").map(|d| {
            let d = d.strip_prefix("smtp;").unwrap_or(d);
            d.trim().to_string()
        });
        let reason = get("bounceCat").and_then(|c| {
            CATEGORIES.iter().find(|(n, _)| *n == c).map(|(_, r)| *r)
        });
        out.push(LogEvent {
            kind: Some(kind),
            recipient,
            original_recipient: get("orcpt")
                .map(|o| o.rsplit(';').next().unwrap_or(o))
                .and_then(address),
            time,
            message_id: get("header_Message-Id").and_then(address),
            arrival: get("timeQueued")
                .and_then(|t| stamp::datetime(t, clock))
                .map(|(t, _)| t),
            status: get("dsnStatus").and_then(fields::status_in),
            remote_mta: get("dsnMta")
                .map(|m| m.split(' ').next().unwrap_or(m).to_string()),
            command: diagnostic.as_deref().and_then(command_in),
            diagnostic,
            reason,
            feedback_type: get("feedback-type").map(str::to_string),
            identity: line.to_string(),
        });
        Ok(())
    }
}
