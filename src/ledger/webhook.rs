//! Sending-platform webhook events (`rebound ingest --events FILE.jsonl`):
//! one JSON object per line with the fields `event, email, status, reason,
//! type, provider, campaign_id, timestamp, ip, domain`.
//!
//! Each event becomes a one-record [`Report`] recorded like a parsed
//! message: `event` gives the type (bounce/bounced/failed, deferred/delayed,
//! delivered, complaint/spamreport, unsubscribe, auto_reply; other events
//! such as opens and clicks are skipped), `status` an enhanced status code
//! or an SMTP reply code, `reason` the diagnostic text; the class, reason
//! and action come from the same classifier as for mail, so a webhook
//! bounce and a mailed NDR with the same text agree. `provider` and
//! `campaign_id` are kept as given; `timestamp` is Unix seconds or RFC 3339
//! (missing: the time it is recorded). `type`, `ip` and `domain` are read
//! but not kept: the category comes from the classifier and the domain
//! from the address.
//!
//! Idempotency: the report key is the SHA-256 of the event's identifying
//! fields (event, email, timestamp, status, reason, campaign_id), so a
//! replayed webhook records nothing new.
//!
//! The events of each sending platform's own webhook payload (read by
//! `rebound serve`) take the same road: a [`PlatformEvent`] (the row the
//! platform states, its time, campaign, send and identity) becomes a
//! one-record report classified like mail ([`PlatformEvent::into_report`]),
//! which is also what a line of the generic shape becomes;
//! [`reports_of_json`] reads a body of one event or an array of them.
//!
//! The same shape goes out: [`Ledger::webhook_events`] turns recorded
//! events into [`WebhookEvent`]s (what `--notify URL` posts), which this
//! module reads back unchanged.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Ledger, LedgerError, domain_of};
use crate::classify::{self, Rules};
use crate::model::Row;
use crate::model::{EventType, Record};
use crate::parse::fields;
use crate::pipeline::{Report, fingerprint};
use crate::time;

/// A webhook line that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// Not a JSON object of the expected shape.
    #[error("not a webhook event: {0}")]
    Json(#[from] serde_json::Error),
    /// No `email`.
    #[error("event without an email")]
    NoEmail,
    /// A timestamp that is neither Unix seconds nor RFC 3339.
    #[error("unreadable timestamp {0}")]
    Timestamp(String),
    /// The event at this place (from 1) of an array is unusable.
    #[error("event {0}: {1}")]
    At(usize, Box<WebhookError>),
}

#[derive(Debug, Deserialize)]
struct Event {
    event: String,
    email: Option<String>,
    status: Option<Value>,
    reason: Option<String>,
    provider: Option<String>,
    campaign_id: Option<Value>,
    timestamp: Option<Value>,
}

/// A JSON scalar as text (numbers without quotes).
fn scalar(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            Some(s.trim().to_string())
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The event type of a webhook `event` name; `None` for events that say
/// nothing about deliverability (open, click, processed, ...).
pub fn event_type(name: &str) -> Option<EventType> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "bounce" | "bounced" | "failed" | "hard_bounce" | "soft_bounce" => {
            EventType::Bounce
        }
        "deferred" | "delayed" | "delay" => EventType::Delay,
        "delivered" | "delivery" => EventType::Delivered,
        "complaint" | "complained" | "spamreport" | "spam_report" => {
            EventType::Complaint
        }
        "unsubscribe" | "unsubscribed" | "group_unsubscribe" => {
            EventType::Unsubscribe
        }
        "auto_reply" | "autoreply" => EventType::AutoReply,
        _ => return None,
    })
}

/// Reads one line; `Ok(None)` for an event to skip (or a blank line).
/// `local` holds the operators' own phrase rules (`--rules`), as for mail.
pub fn report_of(
    line: &str,
    local: &Rules,
) -> Result<Option<Report>, WebhookError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    event_of(
        serde_json::from_str(line)?,
        &mut classify::Memo::default(),
        local,
    )
}

/// Reads a JSON body holding one event object or an array of them (what
/// `rebound serve` takes at `/webhooks/bounce`): the reports of the events
/// to record, in order, and the number of events skipped (opens,
/// clicks, ...). An unusable event is an error naming its place in the
/// array (`event 3: ...`), and nothing of the body is kept.
pub fn reports_of_json(
    body: &[u8],
    local: &Rules,
) -> Result<(Vec<Report>, usize), WebhookError> {
    let value: Value = serde_json::from_slice(body)?;
    let events = match value {
        Value::Array(a) => a,
        v => vec![v],
    };
    let n = events.len();
    let many = n > 1;
    let mut out = Vec::with_capacity(events.len());
    let mut memo = classify::Memo::default();
    for (i, v) in events.into_iter().enumerate() {
        let e = serde_json::from_value(v)
            .map_err(WebhookError::Json)
            .and_then(|e| event_of(e, &mut memo, local))
            .map_err(|e| match many {
                true => WebhookError::At(i + 1, Box::new(e)),
                false => e,
            })?;
        out.extend(e);
    }
    let skipped = n - out.len();
    Ok((out, skipped))
}

/// The report of one event in the generic shape.
fn event_of(
    e: Event,
    memo: &mut classify::Memo,
    local: &Rules,
) -> Result<Option<Report>, WebhookError> {
    let Some(kind) = event_type(&e.event) else {
        return Ok(None);
    };
    let email = e
        .email
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::NoEmail)?;
    let stamp = scalar(&e.timestamp);
    let time = match &stamp {
        None => None,
        Some(s) => Some(
            s.parse::<f64>()
                .ok()
                .map(|f| f as i64)
                .or_else(|| time::parse_rfc3339(s))
                .ok_or_else(|| WebhookError::Timestamp(s.clone()))?,
        ),
    };
    let status = scalar(&e.status);
    let reason = e.reason.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let campaign = scalar(&e.campaign_id);
    let identity = [
        kind.as_str(),
        email,
        stamp.as_deref().unwrap_or(""),
        status.as_deref().unwrap_or(""),
        reason.unwrap_or(""),
        campaign.as_deref().unwrap_or(""),
    ]
    .join("\0");
    let mut report = PlatformEvent {
        row: Row {
            recipient: Some(email.to_string()),
            kind: Some(kind),
            status: status.clone(),
            diagnostic: reason.map(str::to_string),
            ..Row::default()
        },
        time,
        campaign_id: campaign,
        original_message_id: None,
        id: identity,
    }
    .into_report("webhook", memo, local);
    if let Some(p) = e.provider.filter(|p| !p.trim().is_empty()) {
        report.records[0].provider = Some(p.trim().to_ascii_lowercase());
    }
    Ok(Some(report))
}

/// One event of a sending platform as its payload states it, before
/// classification: what `rebound serve` reads from each platform's own
/// webhook payload, and what a line of the generic shape becomes.
#[derive(Debug, Clone, Default)]
pub struct PlatformEvent {
    /// The recipient, the event type, and what the platform says of the
    /// failure: `status` (an enhanced status code, an SMTP reply code or
    /// a text holding them), `reply_code`, `diagnostic` (the remote
    /// server's reply or the platform's description), `remote_mta`,
    /// `feedback_type`, and `reason` when the platform states its own
    /// category (a bounce type): the classifier weighs it after the
    /// diagnostic's phrases, as it does a detector's.
    pub row: Row,
    /// When it happened (Unix seconds).
    pub time: Option<i64>,
    /// The campaign.
    pub campaign_id: Option<String>,
    /// The Message-ID of the message sent, which ties the event to its
    /// send (`rebound import-sends`).
    pub original_message_id: Option<String>,
    /// What identifies the event at its platform (its event id, else its
    /// identifying fields): the same event delivered twice has the same
    /// id and is recorded once.
    pub id: String,
}

impl PlatformEvent {
    /// The event as a one-record report, classified by the same rules as
    /// mail; `detector` names where it came from. The events of one
    /// payload share `memo`: those with the same codes, text and domain
    /// are classified once. `local` holds the operators' own phrase rules.
    pub fn into_report(
        self,
        detector: &'static str,
        memo: &mut classify::Memo,
        local: &Rules,
    ) -> Report {
        let row = self.row;
        let joined: Vec<&str> =
            [row.status.as_deref(), row.diagnostic.as_deref()]
                .into_iter()
                .flatten()
                .collect();
        let joined = joined.join(" ");
        let mut rec = Record {
            recipient: row.recipient.clone(),
            kind: row.kind,
            status: fields::status_in(&joined),
            reply_code: row
                .reply_code
                .clone()
                .or_else(|| fields::reply_code_in(&joined)),
            diagnostic: row.diagnostic.clone(),
            remote_mta: row.remote_mta.clone(),
            feedback_type: row.feedback_type.clone(),
            campaign_id: self.campaign_id,
            original_message_id: self.original_message_id,
            event_time: self.time.map(time::format_rfc3339),
            detector: Some(detector.to_string()),
            ..Record::default()
        };
        classify::apply_with(&row, &mut rec, local, false, memo);
        Report {
            fingerprint: Some(format!(
                "{detector}:{}",
                fingerprint(self.id.as_bytes())
            )),
            detector: Some(detector),
            records: vec![rec],
            date: self.time,
            ..Report::default()
        }
    }
}

/// A recorded event in the webhook shape (`event, email, status, reason,
/// type, provider, campaign_id, timestamp, ip, domain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookEvent {
    /// The ledger row id (not part of the shape; not serialised).
    #[serde(skip)]
    pub id: i64,
    /// bounce, delay, delivered, complaint, unsubscribe, auto_reply.
    pub event: String,
    /// The address (lower-cased).
    pub email: Option<String>,
    /// The enhanced status code, else the SMTP reply code.
    pub status: Option<String>,
    /// The diagnostic text, else the fine reason.
    pub reason: Option<String>,
    /// hard or soft.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The receiving provider.
    pub provider: Option<String>,
    /// The campaign.
    pub campaign_id: Option<String>,
    /// When it happened (Unix seconds).
    pub timestamp: i64,
    /// The remote MTA's address, when it is an IP literal.
    pub ip: Option<String>,
    /// The domain of the address.
    pub domain: Option<String>,
}

/// An IP literal in a remote MTA name (`192.0.2.1`, `[2001:db8::1]`).
fn ip_of(remote_mta: &str) -> Option<String> {
    let s = remote_mta.trim().trim_start_matches('[').trim_end_matches(']');
    s.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

impl Ledger {
    /// The events with these row ids in the webhook shape, in the order of
    /// the ids (ids not found are left out).
    pub fn webhook_events(
        &self,
        ids: &[i64],
    ) -> Result<Vec<WebhookEvent>, LedgerError> {
        let load = || -> rusqlite::Result<Vec<WebhookEvent>> {
            let mut st = self.conn().prepare_cached(
                "SELECT e.id, e.kind, a.address, e.status, e.reply_code,
                   e.diagnostic, e.reason, e.category, e.provider,
                   e.campaign_id, e.event_time, e.remote_mta
                 FROM events e LEFT JOIN addresses a ON a.id = e.address_id
                 WHERE e.id = ?1",
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let mut rows = st.query([id])?;
                let Some(r) = rows.next()? else { continue };
                let email: Option<String> = r.get(2)?;
                let status: Option<String> = r.get(3)?;
                let diagnostic: Option<String> = r.get(5)?;
                let remote: Option<String> = r.get(11)?;
                out.push(WebhookEvent {
                    id: r.get(0)?,
                    event: r.get(1)?,
                    domain: email
                        .as_deref()
                        .map(domain_of)
                        .filter(|d| !d.is_empty())
                        .map(str::to_string),
                    email,
                    status: status.or(r.get(4)?),
                    reason: diagnostic.or(r.get(6)?),
                    kind: r.get(7)?,
                    provider: r.get(8)?,
                    campaign_id: r.get(9)?,
                    timestamp: r.get(10)?,
                    ip: remote.as_deref().and_then(ip_of),
                });
            }
            Ok(out)
        };
        load().map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    /// [`report_of`] with the built-in rules only.
    fn event(line: &str) -> Result<Option<Report>, WebhookError> {
        report_of(line, &Rules::default())
    }

    #[test]
    fn a_bounce_event_is_classified_like_mail() {
        let r = event(
            r#"{"event":"bounce","email":"Jo@Example.com","status":"5.1.1","reason":"550 5.1.1 user unknown","type":"hard","timestamp":1706788800,"campaign_id":42}"#,
        )
        .unwrap()
        .unwrap();
        let rec = &r.records[0];
        assert_eq!(rec.action, Some(Action::Suppress));
        assert_eq!(rec.status.as_deref(), Some("5.1.1"));
        assert_eq!(rec.campaign_id.as_deref(), Some("42"));
        assert_eq!(rec.event_time.as_deref(), Some("2024-02-01T12:00:00Z"));
    }

    #[test]
    fn opens_are_skipped_and_garbage_is_an_error() {
        assert!(
            event(r#"{"event":"open","email":"a@b.c"}"#).unwrap().is_none()
        );
        assert!(event("{not json").is_err());
        assert!(event(r#"{"event":"bounce"}"#).is_err());
        assert!(
            event(r#"{"event":"bounce","email":"a@b.c","timestamp":"x"}"#)
                .is_err()
        );
    }
}
