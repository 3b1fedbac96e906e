//! Postfix (<https://www.postfix.org/>): the `postfix/*` lines of a
//! syslog file, of the journal, or of Postfix's own `maillog_file`
//! (`postlogd`, Postfix ≥ 3.4), joined by queue id. Multi-instance names
//! (`postfix-out/smtp`) and service names (`postfix/submission/smtpd`)
//! are read the same way.
//!
//! - `cleanup`: `QID: message-id=<...>`;
//! - `qmgr`: `QID: from=<sender>, size=..., nrcpt=... (queue active)`
//!   (the arrival; a null sender marks Postfix's own notifications,
//!   whose deliveries are no sends), `QID: from=<sender>,
//!   status=expired, returned to sender` (every recipient still deferred
//!   bounces, reason `expired`), `QID: removed`;
//! - a delivery agent (`smtp`, `lmtp`, `local`, `virtual`, `error`,
//!   `pipe`, or `qmgr` for `delivery temporarily suspended`): `QID:
//!   to=<rcpt>, orig_to=<...>, relay=host[ip]:port, delay=..., dsn=X.Y.Z,
//!   status=sent|deferred|bounced|expired (text)`, where the text is the
//!   remote reply (`host H[ip] said: 550 ... (in reply to RCPT TO
//!   command)`) or Postfix's own (`connect to ...: Connection timed
//!   out`). `SOFTBOUNCE` (with `soft_bounce = yes`) is a deferral.
//!
//! Field names are those of Postfix's `smtp(8)`/`qmgr(8)` logging
//! (`src/global/log_adhoc.c`: `to=`, `orig_to=`, `relay=`, `delay=`,
//! `delays=`, `dsn=`, `status=`).

use super::join::{Deferred, Joiner};
use super::stamp::{self, Clock};
use super::{LineError, LineReader, LogEvent, LogFormat, address, command_in};
use crate::model::{EventType, Reason};

/// The Postfix log format.
pub(crate) struct Postfix;

impl LogFormat for Postfix {
    fn id(&self) -> &'static str {
        "postfix"
    }

    fn detector(&self) -> &'static str {
        "log:postfix"
    }

    fn reader(&self) -> Box<dyn LineReader> {
        Box::new(Reader::default())
    }
}

#[derive(Default)]
struct Reader {
    joiner: Joiner,
}

/// The daemon of a Postfix syslog tag (`postfix/smtp` → `smtp`,
/// `postfix-out/smtp` → `smtp`); `None` for other programs.
fn daemon(tag: &str) -> Option<&str> {
    let (first, _) = tag.split_once('/')?;
    first.starts_with("postfix").then(|| tag.rsplit('/').next()).flatten()
}

/// `QID: rest`: a queue id (short hex or long base-52 form) and what
/// follows it.
fn queue_id(message: &str) -> Option<(&str, &str)> {
    let (id, rest) = message.split_once(": ")?;
    (id.len() >= 5
        && id != "NOQUEUE"
        && id.bytes().all(|b| b.is_ascii_alphanumeric()))
    .then_some((id, rest))
}

/// The value of `key=` in `fields` (`, `-separated `key=value` pairs).
fn field<'a>(fields: &'a str, key: &str) -> Option<&'a str> {
    fields
        .split(", ")
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
}

/// The host of `relay=mx.example.org[192.0.2.1]:25` (`None` for `none`).
fn relay_host(relay: &str) -> Option<String> {
    let host = relay.split_once('[').map_or(relay, |(h, _)| h);
    (!host.is_empty() && host != "none").then(|| host.to_string())
}

/// A status text: the remote reply after `host H[ip] said: ` (with the
/// host) and without the trailing `(in reply to ... command)`, else the
/// text as Postfix wrote it.
fn reply(text: &str) -> (String, Option<String>) {
    let Some((before, said)) = text.split_once(" said: ") else {
        return (text.to_string(), None);
    };
    let host = before
        .strip_prefix("host ")
        .map(|h| h.split_once('[').map_or(h, |(h, _)| h).to_string());
    let said = match said.rfind(" (in reply to ") {
        Some(i) if said.ends_with(')') => &said[..i],
        _ => said,
    };
    (said.to_string(), host)
}

impl Reader {
    /// A `to=` line: one recipient's outcome.
    fn status(
        &mut self,
        id: &str,
        rest: &str,
        time: i64,
        line: &str,
        out: &mut Vec<LogEvent>,
    ) -> Result<(), LineError> {
        let (fields, status) = rest
            .split_once(", status=")
            .ok_or_else(|| LineError::Field("to= without status=".into()))?;
        let recipient =
            field(fields, "to").and_then(address).ok_or_else(|| {
                LineError::Field("to= without an address".into())
            })?;
        let (word, text) = match status.split_once(' ') {
            Some((w, t)) => (w, Some(t.trim())),
            None => (status, None),
        };
        let text = text
            .map(|t| t.strip_prefix('(').unwrap_or(t))
            .map(|t| t.strip_suffix(')').unwrap_or(t));
        let kind = match word.to_ascii_lowercase().as_str() {
            "sent" => EventType::Delivered,
            "deferred" | "softbounce" => EventType::Delay,
            "bounced" | "expired" => EventType::Bounce,
            // deliverable / undeliverable: address verification probes.
            _ => return Ok(()),
        };
        let (diagnostic, said_host) = match text {
            Some(t) => {
                let (d, h) = reply(t);
                (Some(d), h)
            }
            None => (None, None),
        };
        let remote_mta =
            field(fields, "relay").and_then(relay_host).or(said_host);
        let status = field(fields, "dsn").map(str::to_string);
        let q = self.joiner.entry(id);
        match kind {
            EventType::Delay => q.defer(Deferred {
                recipient: recipient.clone(),
                status: status.clone(),
                diagnostic: diagnostic.clone(),
                remote_mta: remote_mta.clone(),
            }),
            _ => q.settle(&recipient),
        }
        if q.notification {
            return Ok(());
        }
        out.push(LogEvent {
            kind: Some(kind),
            original_recipient: field(fields, "orig_to").and_then(address),
            time,
            message_id: q.message_id.clone(),
            arrival: q.arrival,
            status,
            command: text.and_then(command_in),
            diagnostic,
            remote_mta,
            reason: (word.eq_ignore_ascii_case("expired"))
                .then_some(Reason::Expired),
            identity: line.to_string(),
            recipient,
            ..LogEvent::default()
        });
        Ok(())
    }

    /// `from=<sender>, status=expired, returned to sender`: every
    /// recipient still deferred bounces as expired.
    fn expired(
        &mut self,
        id: &str,
        time: i64,
        line: &str,
        out: &mut Vec<LogEvent>,
    ) {
        let Some(q) = self.joiner.get(id) else { return };
        if q.notification {
            return;
        }
        for d in &q.deferred {
            out.push(LogEvent {
                kind: Some(EventType::Bounce),
                recipient: d.recipient.clone(),
                time,
                message_id: q.message_id.clone(),
                arrival: q.arrival,
                status: d.status.clone(),
                diagnostic: d.diagnostic.clone(),
                remote_mta: d.remote_mta.clone(),
                reason: Some(Reason::Expired),
                identity: line.to_string(),
                ..LogEvent::default()
            });
        }
        self.joiner.entry(id).deferred.clear();
    }
}

impl LineReader for Reader {
    fn line(
        &mut self,
        line: &str,
        clock: &Clock,
        out: &mut Vec<LogEvent>,
    ) -> Result<(), LineError> {
        let h = stamp::header(line, clock)?;
        if daemon(h.tag).is_none() {
            return Ok(());
        }
        let Some((id, rest)) = queue_id(h.message) else {
            return Ok(());
        };
        if let Some(v) = rest.strip_prefix("message-id=") {
            self.joiner.entry(id).message_id = address(v);
        } else if let Some(v) = rest.strip_prefix("from=") {
            if rest.contains(", status=expired") {
                self.expired(id, h.time, line, out);
            } else {
                let sender = v.split_once(", ").map_or(v, |(s, _)| s);
                let q = self.joiner.entry(id);
                q.arrival.get_or_insert(h.time);
                q.notification = address(sender).is_none();
            }
        } else if rest.starts_with("to=") {
            self.status(id, rest, h.time, line, out)?;
        } else if rest == "removed" {
            self.joiner.remove(id);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Rules;
    use crate::logs::{LogFormat, report_of};
    use crate::model::Action;

    fn read(lines: &str) -> Vec<LogEvent> {
        let clock = Clock { reference: 1_796_000_000, utc_offset: 0 };
        let mut r = Postfix.reader();
        let mut out = Vec::new();
        for l in lines.lines() {
            r.line(l, &clock, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn joins_message_id_and_reads_the_reply() {
        let ev = read(
            "Dec 06 00:12:51 mta postfix/cleanup[2]: B61A598C289: message-id=<m1@example.com>
Dec 06 00:12:51 mta postfix/qmgr[3]: B61A598C289: from=<s@example.com>, size=240, nrcpt=2 (queue active)
Dec 06 00:12:52 mta postfix-out/smtp[4]: B61A598C289: to=<u@example.org>, orig_to=<alias@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.1] said: 550 5.1.1 <u@example.org>: unknown user (in reply to RCPT TO command))
Dec 06 00:12:52 mta postfix/smtp[4]: B61A598C289: to=<ok@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4XYZ)
Dec 06 00:12:52 mta postfix/qmgr[3]: B61A598C289: removed",
        );
        assert_eq!(ev.len(), 2);
        let b = &ev[0];
        assert_eq!(b.kind, Some(EventType::Bounce));
        assert_eq!(b.recipient, "u@example.org");
        assert_eq!(b.original_recipient.as_deref(), Some("alias@example.org"));
        assert_eq!(b.message_id.as_deref(), Some("m1@example.com"));
        assert_eq!(b.command.as_deref(), Some("RCPT TO"));
        assert_eq!(b.remote_mta.as_deref(), Some("mx.example.org"));
        assert_eq!(
            b.diagnostic.as_deref(),
            Some("550 5.1.1 <u@example.org>: unknown user")
        );
        let rec = report_of(b.clone(), "log:postfix", &Rules::default())
            .records
            .remove(0);
        assert_eq!(rec.action, Some(Action::Suppress));
        assert_eq!(ev[1].kind, Some(EventType::Delivered));
        assert_eq!(ev[1].arrival, ev[0].arrival);
    }

    #[test]
    fn expiry_bounces_the_deferred_recipients_only() {
        let ev = read(
            "Dec 06 00:12:51 mta postfix/qmgr[3]: AAAAA1: from=<s@example.com>, size=240, nrcpt=2 (queue active)
Dec 06 00:12:51 mta postfix/smtp[4]: AAAAA1: to=<slow@example.org>, relay=none, delay=11, delays=11/0.01/0/0, dsn=4.4.1, status=deferred (connect to mx[192.0.2.1]:25: Connection refused)
Dec 06 00:12:52 mta postfix/smtp[4]: AAAAA1: to=<ok@example.org>, relay=mx[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Dec 06 00:12:56 mta postfix/qmgr[3]: AAAAA1: from=<s@example.com>, status=expired, returned to sender
Dec 06 00:12:56 mta postfix/qmgr[3]: BBBBB2: from=<>, size=2156, nrcpt=1 (queue active)
Dec 06 00:12:56 mta postfix/smtp[4]: BBBBB2: to=<s@example.com>, relay=none, delay=0.01, delays=0/0/0/0, dsn=4.4.1, status=deferred (connect to mx[192.0.2.1]:25: Connection refused)
Dec 06 00:12:56 mta postfix/postscreen[5]: CONNECT from [192.0.2.9]:4711 to [192.0.2.2]:25",
        );
        let kinds: Vec<_> = ev
            .iter()
            .map(|e| (e.kind.unwrap(), e.recipient.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (EventType::Delay, "slow@example.org"),
                (EventType::Delivered, "ok@example.org"),
                (EventType::Bounce, "slow@example.org"),
            ]
        );
        let rec = report_of(ev[2].clone(), "log:postfix", &Rules::default())
            .records
            .remove(0);
        assert_eq!(rec.reason.as_deref(), Some("expired"));
        assert_eq!(rec.status.as_deref(), Some("4.4.1"));
    }

    #[test]
    fn a_status_line_without_recipient_is_an_error() {
        let clock = Clock { reference: 1_796_000_000, utc_offset: 0 };
        let mut r = Postfix.reader();
        let mut out = Vec::new();
        let bad = "Dec 06 00:12:52 mta postfix/smtp[4]: AAAAA1: to=<>, relay=none, status=sent (ok)";
        assert!(r.line(bad, &clock, &mut out).is_err());
        let bad = "Dec 06 00:12:52 mta postfix/smtp[4]: AAAAA1: to=<a@b>, relay=none";
        assert!(r.line(bad, &clock, &mut out).is_err());
        assert!(r.line("\u{0}\u{1}garbage", &clock, &mut out).is_err());
        assert!(out.is_empty());
    }
}
