//! KumoMTA (<https://kumomta.com/>): its JSON log records, one object a
//! line (KumoMTA reference, "Log Record"). `type` gives the event:
//! `Delivery` delivered, `Bounce`, `AdminBounce` and `OOB` (an
//! out-of-band bounce KumoMTA parsed) a bounce, `TransientFailure` a
//! delay, `Expiration` an expiry, `Feedback` a complaint (with
//! `feedback_report.feedback_type`); `Reception` and others give nothing.
//!
//! Fields read: `recipient`, `timestamp` (Unix seconds or RFC 3339),
//! `created` (the arrival), `response` (`code`, `enhanced_code` {`class`,
//! `subject`, `detail`}, `content`, `command`), `peer_address.name`,
//! `bounce_classification` (KumoMTA's own category, a hint) and
//! `headers` (`Message-ID` when the log is configured to keep it).

use serde_json::Value;

use super::stamp::Clock;
use super::{LineError, LineReader, LogEvent, LogFormat, address, command_in};
use crate::model::{EventType, Reason};
use crate::time;

/// The KumoMTA log format.
pub(crate) struct KumoMta;

impl LogFormat for KumoMta {
    fn id(&self) -> &'static str {
        "kumomta"
    }

    fn detector(&self) -> &'static str {
        "log:kumomta"
    }

    fn reader(&self) -> Box<dyn LineReader> {
        Box::new(Reader)
    }
}

struct Reader;

/// KumoMTA's bounce classifications and the reasons they state.
#[rustfmt::skip]
const CLASSES: &[(&str, Reason)] = &[
    ("AuthenticationFailed", Reason::AuthFailure),
    ("BadConnection", Reason::NetworkError),
    ("BadDomain", Reason::HostUnknown),
    ("ContentRelated", Reason::ContentError),
    ("InactiveMailbox", Reason::Suspended),
    ("InvalidRecipient", Reason::UserUnknown),
    ("InvalidSender", Reason::SenderRejected),
    ("MessageExpired", Reason::Expired),
    ("NoAnswerFromHost", Reason::NetworkError),
    ("PolicyRelated", Reason::Policy),
    ("QuotaIssues", Reason::MailboxFull),
    ("RelayingIssues", Reason::RelayingDenied),
    ("RoutingErrors", Reason::NetworkError),
    ("SpamBlock", Reason::Blocklisted),
    ("SpamContent", Reason::SpamContent),
    ("VirusRelated", Reason::Virus),
];

/// A time as Unix seconds (number) or RFC 3339 (string).
fn time_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().map(|f| f as i64),
        Value::String(s) => time::parse_rfc3339(s),
        _ => None,
    }
}

impl LineReader for Reader {
    fn line(
        &mut self,
        line: &str,
        _clock: &Clock,
        out: &mut Vec<LogEvent>,
    ) -> Result<(), LineError> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            LineError::Record(format!("not a JSON record: {e}"))
        })?;
        let kind = match v["type"].as_str().unwrap_or("") {
            "Delivery" => EventType::Delivered,
            "Bounce" | "AdminBounce" | "OOB" | "Expiration" => {
                EventType::Bounce
            }
            "TransientFailure" => EventType::Delay,
            "Feedback" => EventType::Complaint,
            _ => return Ok(()),
        };
        let recipient =
            v["recipient"].as_str().and_then(address).ok_or_else(|| {
                LineError::Field("a record without recipient".into())
            })?;
        let time = time_of(&v["timestamp"]).ok_or_else(|| {
            LineError::Field("a record without timestamp".into())
        })?;
        // A feedback record's response is KumoMTA's own, not a reply.
        let r = if kind == EventType::Complaint {
            &Value::Null
        } else {
            &v["response"]
        };
        let e = &r["enhanced_code"];
        let status = match (
            e["class"].as_u64(),
            e["subject"].as_u64(),
            e["detail"].as_u64(),
        ) {
            (Some(c), Some(s), Some(d)) => Some(format!("{c}.{s}.{d}")),
            _ => None,
        };
        let content = r["content"].as_str().unwrap_or("").trim();
        let code = r["code"].as_u64();
        let diagnostic = (!content.is_empty() || code.is_some()).then(|| {
            [
                code.map(|c| c.to_string()),
                status.clone(),
                Some(content.to_string()),
            ]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
        });
        let headers = v["headers"].as_object();
        let message_id = headers.and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("message-id"))
                .and_then(|(_, m)| m.as_str())
                .and_then(address)
        });
        let expired = v["type"] == "Expiration";
        let reason = if expired {
            Some(Reason::Expired)
        } else {
            v["bounce_classification"].as_str().and_then(|c| {
                CLASSES.iter().find(|(n, _)| *n == c).map(|(_, r)| *r)
            })
        };
        out.push(LogEvent {
            kind: Some(kind),
            recipient,
            time,
            message_id,
            arrival: time_of(&v["created"]),
            status,
            remote_mta: v["peer_address"]["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .map(|n| n.trim_end_matches('.').to_string()),
            command: r["command"].as_str().and_then(command_in),
            diagnostic,
            reason,
            feedback_type: v["feedback_report"]["feedback_type"]
                .as_str()
                .map(str::to_string),
            identity: line.to_string(),
            ..LogEvent::default()
        });
        Ok(())
    }
}
