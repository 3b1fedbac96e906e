//! Exim 4 (<https://www.exim.org/>): the main log (`mainlog`), one line
//! per event, `DATE TIME [ZONE] [[PID]] ID FLAG ADDRESS ...` (Exim
//! specification, chapter "Log files"; message ids in the classic
//! `1rKxyz-0001Ab-C3` and the 4.97 `1rKxyz-00000001Ab-C3AB` shape).
//!
//! - `<=` arrival: `id=` is the Message-ID, a `<>` sender marks Exim's
//!   own bounce and delay notifications (their deliveries are no sends);
//! - `=>` delivery, `->` another address of the same delivery:
//!   delivered (`H=host [ip]`, `C="250 ..."`);
//! - `**` failed: a bounce, with the text after `: ` (`SMTP error from
//!   remote mail server after RCPT TO:<a@b>: 550 5.1.1 ...`: the reply
//!   and the command it answered); `retry timeout exceeded` is an expiry;
//! - `==` deferred: a delay, with the same texts;
//! - `Completed`: the message left the queue.
//!
//! `*>` (delivery suppressed by `-N`) and every other line give nothing.

use super::join::Joiner;
use super::stamp::{self, Clock};
use super::{LineError, LineReader, LogEvent, LogFormat, address, command_in};
use crate::model::{EventType, Reason};
use crate::parse::fields;

/// The Exim main log format.
pub(crate) struct Exim;

impl LogFormat for Exim {
    fn id(&self) -> &'static str {
        "exim"
    }

    fn detector(&self) -> &'static str {
        "log:exim"
    }

    fn reader(&self) -> Box<dyn LineReader> {
        Box::new(Reader::default())
    }
}

#[derive(Default)]
struct Reader {
    joiner: Joiner,
}

/// Whether `id` has the shape of an Exim message id (three
/// alphanumeric parts joined by `-`).
fn message_id_shape(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 6
        && parts.iter().all(|p| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The value of ` KEY=` in the fields of a line (up to the next space;
/// a quoted value up to its closing quote).
fn field<'a>(rest: &'a str, key: &str) -> Option<&'a str> {
    let at = rest.find(&format!(" {key}="))? + key.len() + 2;
    let v = &rest[at..];
    if let Some(q) = v.strip_prefix('"') {
        return q.find('"').map(|end| &q[..end]);
    }
    Some(v.split(' ').next().unwrap_or(v))
}

/// The reply and command of an Exim error text: `SMTP error from remote
/// mail server after RCPT TO:<a@b>: 550 5.1.1 User unknown` gives the
/// reply `550 5.1.1 User unknown` and the command `RCPT TO`.
fn reply(text: &str) -> (String, Option<String>) {
    const MARK: &str = "SMTP error from remote mail server after ";
    let Some(at) = text.find(MARK) else {
        return (text.to_string(), command_in(text));
    };
    let after = &text[at + MARK.len()..];
    // The command may itself hold ": " (`RCPT TO:<a@b>`): the reply
    // starts at the first ": " followed by a reply code.
    let split = after.match_indices(": ").find(|(i, _)| {
        after[i + 2..].bytes().next().is_some_and(|b| b.is_ascii_digit())
    });
    match split {
        Some((i, _)) => (after[i + 2..].to_string(), command_in(&after[..i])),
        None => (after.to_string(), command_in(after)),
    }
}

impl LineReader for Reader {
    fn line(
        &mut self,
        line: &str,
        clock: &Clock,
        out: &mut Vec<LogEvent>,
    ) -> Result<(), LineError> {
        let (time, used) =
            stamp::datetime(line, clock).ok_or(LineError::Timestamp)?;
        let mut rest = line[used..].trim_start();
        if rest.starts_with('[') {
            // [pid] with log_selector +pid.
            rest = rest.split_once("] ").map_or("", |(_, r)| r);
        }
        let Some((id, rest)) = rest.split_once(' ') else {
            return Ok(());
        };
        if !message_id_shape(id) {
            return Ok(());
        }
        if rest.starts_with("Completed") {
            self.joiner.remove(id);
            return Ok(());
        }
        let Some((flag, rest)) = rest.split_once(' ') else {
            return Ok(());
        };
        let kind = match flag {
            "<=" => {
                let sender = rest.split(' ').next().unwrap_or("");
                let q = self.joiner.entry(id);
                q.arrival.get_or_insert(time);
                q.notification = address(sender).is_none();
                q.message_id = field(rest, "id").and_then(address);
                return Ok(());
            }
            "=>" | "->" => EventType::Delivered,
            "**" => EventType::Bounce,
            "==" => EventType::Delay,
            _ => return Ok(()),
        };
        let mut words = rest.split(' ');
        let recipient = words.next().and_then(address).ok_or_else(|| {
            LineError::Field(format!("{flag} without an address"))
        })?;
        let original_recipient = words
            .next()
            .filter(|w| w.starts_with('<') && w.ends_with('>'))
            .and_then(address);
        let q = self.joiner.entry(id);
        if q.notification {
            return Ok(());
        }
        let (message_id, arrival) = (q.message_id.clone(), q.arrival);
        // The text of a failure or deferral follows the first ": ".
        let text = match kind {
            EventType::Delivered => field(rest, "C").map(str::to_string),
            _ => rest.split_once(": ").map(|(_, t)| t.to_string()),
        };
        let (diagnostic, command) = match text.as_deref().map(reply) {
            Some((d, c)) => (Some(d), c),
            None => (None, None),
        };
        let expired = kind == EventType::Bounce
            && text
                .as_deref()
                .is_some_and(|t| t.contains("retry timeout exceeded"));
        out.push(LogEvent {
            kind: Some(kind),
            recipient,
            original_recipient,
            time,
            message_id,
            arrival,
            status: diagnostic.as_deref().and_then(fields::status_in),
            remote_mta: field(rest, "H").map(str::to_string),
            command,
            diagnostic,
            reason: expired.then_some(Reason::Expired),
            identity: line.to_string(),
            ..LogEvent::default()
        });
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

    #[test]
    fn replies_and_commands_of_exim_texts() {
        let (d, c) = reply(
            "SMTP error from remote mail server after RCPT TO:<b@example.org>: 550 5.1.1 User unknown",
        );
        assert_eq!(d, "550 5.1.1 User unknown");
        assert_eq!(c.as_deref(), Some("RCPT TO"));
        assert!(message_id_shape("1rKxyz-0001Ab-C3"));
        assert!(message_id_shape("1rKxyz-00000001Ab-C3AB"));
        assert!(!message_id_shape("SMTP"));
    }
}
