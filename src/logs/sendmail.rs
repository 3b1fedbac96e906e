//! Sendmail (<https://www.proofpoint.com/us/products/email-protection/open-source-email-solution>):
//! the `sendmail` / `sm-mta` lines of a syslog file, joined by queue id
//! (Sendmail Installation and Operation Guide, "Log Level": the `from=`
//! and `to=` lines).
//!
//! - `QID: from=<sender>, size=..., nrcpts=..., msgid=<...>, ...`: the
//!   Message-ID and arrival; a `<>` sender marks Sendmail's own DSNs;
//! - `QID: to=<a>,<b>, delay=..., mailer=..., relay=host. [ip],
//!   dsn=X.Y.Z, stat=...` (one line may name several recipients):
//!   `stat=Sent (...)` delivered, `stat=Deferred: ...` a delay (with
//!   `dsn=4.4.7`, the queue timeout, an expiry), `stat=queued` nothing,
//!   any other `stat=` (`User unknown`, `Service unavailable`, ...) a
//!   bounce.

use super::join::Joiner;
use super::stamp::{self, Clock};
use super::{LineError, LineReader, LogEvent, LogFormat, address, command_in};
use crate::model::{EventType, Reason};

/// The Sendmail log format.
pub(crate) struct Sendmail;

impl LogFormat for Sendmail {
    fn id(&self) -> &'static str {
        "sendmail"
    }

    fn detector(&self) -> &'static str {
        "log:sendmail"
    }

    fn reader(&self) -> Box<dyn LineReader> {
        Box::new(Reader::default())
    }
}

#[derive(Default)]
struct Reader {
    joiner: Joiner,
}

/// The value of `key=` among `, `-separated fields.
fn field<'a>(fields: &'a str, key: &str) -> Option<&'a str> {
    fields
        .split(", ")
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
}

impl LineReader for Reader {
    fn line(
        &mut self,
        line: &str,
        clock: &Clock,
        out: &mut Vec<LogEvent>,
    ) -> Result<(), LineError> {
        let h = stamp::header(line, clock)?;
        if !matches!(h.tag, "sendmail" | "sm-mta" | "sm-msp-queue") {
            return Ok(());
        }
        let Some((id, rest)) = h.message.split_once(": ") else {
            return Ok(());
        };
        if !id.bytes().all(|b| b.is_ascii_alphanumeric()) || id.len() < 8 {
            return Ok(());
        }
        if rest.starts_with("from=") {
            let q = self.joiner.entry(id);
            q.arrival.get_or_insert(h.time);
            q.notification = field(rest, "from").and_then(address).is_none();
            q.message_id = field(rest, "msgid").and_then(address);
            return Ok(());
        }
        if !rest.starts_with("to=") {
            return Ok(());
        }
        let (fields, stat) = rest
            .split_once(", stat=")
            .ok_or_else(|| LineError::Field("to= without stat=".into()))?;
        let status = field(fields, "dsn").map(str::to_string);
        let (kind, text) = if stat.starts_with("Sent") {
            (EventType::Delivered, stat)
        } else if let Some(t) = stat.strip_prefix("Deferred") {
            (EventType::Delay, t.trim_start_matches(':').trim())
        } else if stat.eq_ignore_ascii_case("queued") {
            return Ok(());
        } else {
            (EventType::Bounce, stat)
        };
        // The queue timeout (dsn=4.4.7) ends the deferrals.
        let expired = status.as_deref() == Some("4.4.7");
        let kind = if expired { EventType::Bounce } else { kind };
        let q = self.joiner.entry(id);
        if q.notification {
            return Ok(());
        }
        let (message_id, arrival) = (q.message_id.clone(), q.arrival);
        let recipients: Vec<String> = field(fields, "to")
            .unwrap_or("")
            .split(',')
            .filter_map(address)
            .collect();
        if recipients.is_empty() {
            return Err(LineError::Field("to= without an address".into()));
        }
        let relay = field(fields, "relay").map(|r| {
            r.split_once(" [").map_or(r, |(h, _)| h).trim_end_matches('.')
        });
        for recipient in recipients {
            out.push(LogEvent {
                kind: Some(kind),
                recipient,
                time: h.time,
                message_id: message_id.clone(),
                arrival,
                status: status.clone(),
                diagnostic: (!text.is_empty()).then(|| text.to_string()),
                remote_mta: relay
                    .filter(|r| !r.is_empty() && !r.starts_with('['))
                    .map(str::to_string),
                command: command_in(text),
                reason: expired.then_some(Reason::Expired),
                identity: line.to_string(),
                ..LogEvent::default()
            });
        }
        Ok(())
    }

    fn save(&self) -> Vec<u8> {
        self.joiner.save()
    }

    fn restore(&mut self, state: &[u8]) {
        self.joiner.restore(state);
    }
}
