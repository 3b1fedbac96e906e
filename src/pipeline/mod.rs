//! The pipeline: parse → detect → complete → classify, one message at a
//! time, into a [`Report`] of [`Record`]s.
//!
//! [`Parser::parse`] has `parse` read the message into a [`Mail`](crate::parse::Mail) view,
//! asks the detector registry ([`crate::detect`]) for per-recipient
//! [`Row`](crate::model::Row)s, completes each row from the rest of the
//! message (recipient recovery, codes from the diagnostic, event time,
//! campaign id: [`complete`]) and has [`crate::classify`] decide what it
//! means. It is the only module that knows all three stages; they know
//! only `model` and the layers below them.

mod complete;

use std::cell::OnceCell;
use std::collections::HashSet;

use regex::Regex;

use crate::classify;
use crate::detect;
use crate::error::ParseError;
use crate::model::{EventType, Record};
use crate::parse::fields::clean_address;
use crate::parse::{self, Reader};

/// Parser settings.
#[derive(Debug, Clone)]
pub struct ParseConfig {
    /// Headers of the returned message that carry a campaign id, in order
    /// of preference.
    pub campaign_headers: Vec<String>,
    /// Regex with named groups `user` and `domain` that recovers a
    /// recipient from a VERP address (the bounce's To, or the returned
    /// Return-Path).
    pub verp_pattern: String,
    /// Fill [`Record::explain`].
    pub explain: bool,
    /// The operator's own phrase rules (`--rules`, [`classify::Rules::load`]),
    /// tried before the built-in ones; none by default.
    pub rules: classify::Rules,
}

/// Default VERP pattern: `local+user=domain@host`.
pub const DEFAULT_VERP: &str =
    r"^[^+@=]+\+(?P<user>[^=@+]+)=(?P<domain>[^=@]+\.[^=@]+)@";

impl Default for ParseConfig {
    fn default() -> Self {
        ParseConfig {
            campaign_headers: [
                "X-Campaign-ID",
                "X-Mailgun-Campaign-Id",
                "X-Campaign",
                "List-Id",
            ]
            .map(String::from)
            .to_vec(),
            verp_pattern: DEFAULT_VERP.to_string(),
            explain: false,
            rules: classify::Rules::default(),
        }
    }
}

/// The result of parsing one message.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Message-ID of the message itself.
    pub message_id: Option<String>,
    /// Its decoded subject.
    pub subject: Option<String>,
    /// The detector that recognised it; `None` when it is not a report.
    pub detector: Option<&'static str>,
    /// One record per recipient; empty for ordinary mail.
    pub records: Vec<Record>,
    /// SHA-256 (hex) of the message's canonical form
    /// ([`parse::canonical`]: line ends, mbox quoting, leading and
    /// trailing blank lines normalised), computed only when the message
    /// has no Message-ID: it identifies the message then (see
    /// [`Report::identity`]), whatever copy of it was read.
    pub fingerprint: Option<String>,
    /// The fingerprints older ledgers (schema 6 and before) may hold for
    /// the same message, which hashed the bytes as read: of these bytes,
    /// and of the canonical form with CRLF line ends (the copy an IMAP
    /// sweep fetched); only those that differ from `fingerprint`.
    pub raw_fingerprints: Vec<String>,
    /// Its Date (Unix seconds), when valid. With its identity it places
    /// the report's records in the ledger: it depends on the message's
    /// bytes alone, unlike a record's event time, which the detectors
    /// read from wherever the format keeps it.
    pub date: Option<i64>,
}

impl Report {
    /// What identifies the message: its Message-ID, else its fingerprint
    /// (empty when it has neither).
    pub fn identity(&self) -> &str {
        self.message_id
            .as_deref()
            .or(self.fingerprint.as_deref())
            .unwrap_or("")
    }
}

/// A configured parser; build once, use for every message (all patterns
/// are compiled once).
pub struct Parser {
    cfg: ParseConfig,
    verp: Regex,
    reader: Reader,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(ParseConfig::default())
            .expect("the default VERP pattern compiles")
    }
}

impl Parser {
    /// Builds a parser; fails when the VERP pattern is not a valid regex.
    pub fn new(cfg: ParseConfig) -> Result<Parser, regex::Error> {
        let verp = Regex::new(&cfg.verp_pattern)?;
        Ok(Parser { cfg, verp, reader: Reader::default() })
    }

    /// Parses one message. Ordinary mail gives a report with no records;
    /// an error means the bytes are not a message at all.
    pub fn parse(&self, raw: &[u8]) -> Result<Report, ParseError> {
        // The postmark line's date: when the message was delivered.
        let delivered = raw
            .len()
            .checked_sub(parse::strip_postmark(raw).len())
            .filter(|&n| n > 0)
            .and_then(|n| std::str::from_utf8(&raw[..n]).ok())
            .and_then(postmark_time);
        let raw = parse::strip_postmark(raw);
        let bytes = parse::prepare(raw)?;
        let mail = self.reader.read(&bytes)?;
        let message_id = mail.msg.message_id().map(str::to_string);
        let subject = (!mail.subject.is_empty()).then(|| mail.subject.clone());
        let (fingerprint, raw_fingerprints) = match message_id {
            Some(_) => (None, Vec::new()),
            None => fingerprints(raw, &bytes),
        };
        let date =
            mail.msg.date().filter(|d| d.is_valid()).map(|d| d.to_timestamp());
        let mut found = detect::run(&mail);
        // A notice wrapping a report nobody read: the wrapped report is
        // read and completed on its own (its returned original, not the
        // notice's, names the recipients).
        let inner =
            if found.is_none() { detect::wrapped_report(&mail) } else { None };
        if let Some(i) = &inner {
            found = detect::run(i);
        }
        let mail = inner.as_ref().unwrap_or(&mail);
        let Some((detector, rows)) = found else {
            return Ok(Report {
                message_id,
                subject,
                detector: None,
                records: vec![],
                fingerprint,
                raw_fingerprints,
                date,
            });
        };
        let mut memo = classify::Memo::default();
        // Rows without a recipient take the recipients named elsewhere,
        // found once per message. A second such row of the same type
        // would only repeat records that `dedupe` drops, so it is skipped:
        // thousands of such rows times thousands of recovered addresses
        // stay linear.
        let recovered = OnceCell::new();
        let recovered =
            || recovered.get_or_init(|| self.recover_recipients(mail));
        // The report's own time, for rows that give none: read once.
        let dated = OnceCell::new();
        let dated =
            || *dated.get_or_init(|| complete::report_time(mail, delivered));
        let mut fanned_out = HashSet::new();
        let records = rows
            .into_iter()
            .filter(|row| {
                row.recipient.is_some()
                    || recovered().is_empty()
                    || fanned_out.insert(row.kind)
            })
            .flat_map(|row| self.complete(mail, row, dated, recovered))
            .map(|(row, mut rec)| {
                rec.message_id = message_id.clone();
                rec.detector = Some(detector.to_string());
                classify::apply_with(
                    &row,
                    &mut rec,
                    &self.cfg.rules,
                    self.cfg.explain,
                    &mut memo,
                );
                rec
            })
            .collect();
        Ok(Report {
            message_id,
            subject,
            detector: Some(detector),
            records: dedupe(records),
            fingerprint,
            raw_fingerprints,
            date,
        })
    }

    /// The operator's phrase rules the parser classifies with.
    pub fn rules(&self) -> &classify::Rules {
        &self.cfg.rules
    }

    /// Recovers a recipient from a VERP address.
    pub fn verp_recipient(&self, addr: &str) -> Option<String> {
        let c = self.verp.captures(addr)?;
        clean_address(&format!(
            "{}@{}",
            c.name("user")?.as_str(),
            c.name("domain")?.as_str()
        ))
    }
}

/// SHA-256 of `raw`, hex.
pub fn fingerprint(raw: &[u8]) -> String {
    use sha2::Digest;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    sha2::Sha256::digest(raw)
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// The fingerprint of a message ([`Report::fingerprint`]) and those older
/// ledgers may hold for it ([`Report::raw_fingerprints`]); `raw` as read
/// (without a postmark line), `prepared` as [`parse::prepare`] gave it.
fn fingerprints(raw: &[u8], prepared: &[u8]) -> (Option<String>, Vec<String>) {
    let canonical = parse::canonical(prepared);
    let own = fingerprint(&canonical);
    let mut crlf = Vec::with_capacity(canonical.len() + canonical.len() / 32);
    for &b in canonical.iter() {
        if b == b'\n' {
            crlf.push(b'\r');
        }
        crlf.push(b);
    }
    let mut raw_keys = vec![fingerprint(raw), fingerprint(&crlf)];
    raw_keys.dedup();
    raw_keys.retain(|k| *k != own);
    (Some(own), raw_keys)
}

/// The date of an mbox postmark line (`From sender Thu Apr  9 09:00:00
/// 2003`, RFC 4155: asctime, UTC).
fn postmark_time(line: &str) -> Option<i64> {
    let rest = line.trim().strip_prefix("From ")?.trim_start();
    let (_, date) = rest.split_once(char::is_whitespace)?;
    crate::time::parse_loose_date(date)
}

/// Drops repeated records of the same recipient and type (a report that
/// names a recipient twice, e.g. in the text and in the DSN, counts once).
fn dedupe(records: Vec<Record>) -> Vec<Record> {
    let mut seen = HashSet::new();
    records
        .into_iter()
        .filter(|r| {
            let key = (
                r.recipient.as_deref().map(str::to_ascii_lowercase),
                r.kind.map(EventType::as_str),
            );
            r.recipient.is_none() || seen.insert(key)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_lower_hex_sha256() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn verp_recovers_the_recipient() {
        let p = Parser::default();
        assert_eq!(
            p.verp_recipient("bounces+jane.doe=example.org@mail.example.com")
                .as_deref(),
            Some("jane.doe@example.org")
        );
        assert_eq!(p.verp_recipient("bounces@mail.example.com"), None);
    }

    /// Every sample cut at many points, and with bytes of its body
    /// damaged, parses to a result or an error, never a panic.
    #[test]
    fn damaged_samples_never_panic() {
        let p = Parser::default();
        let mut stack = vec![
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"),
        ];
        let mut n = 0;
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|x| x != "eml") {
                    continue;
                }
                let raw = std::fs::read(&path).unwrap();
                for cut in (0..raw.len()).step_by(13) {
                    let _ = p.parse(&raw[..cut]);
                }
                let mut bent = raw.clone();
                for i in (raw.len() / 3..raw.len()).step_by(17) {
                    bent[i] = [b'\r', b'=', 0xff, b'-', b'\n'][i % 5];
                }
                let _ = p.parse(&bent);
                n += 1;
            }
        }
        assert!(n >= 25, "only {n} samples");
    }

    #[test]
    fn a_leading_mbox_postmark_is_not_part_of_the_message() {
        let msg = "From: MAILER-DAEMON@mx.example.net\nTo: b@example.com\nSubject: Undelivered Mail Returned to Sender\nDate: Tue, 5 Mar 2024 10:15:01 +0000\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n\n--b--\n";
        let p = Parser::default();
        let plain = p.parse(msg.as_bytes()).unwrap();
        assert_eq!(plain.records.len(), 1);
        for postmark in [
            "From MAILER-DAEMON Tue Mar  5 10:15:02 2024\n",
            "From MAILER-DAEMON  Tue Mar  5 10:15:02 2024\r\n",
        ] {
            let r = p.parse(format!("{postmark}{msg}").as_bytes()).unwrap();
            assert_eq!(r.records.len(), 1, "{postmark:?}");
            assert_eq!(r.records[0].recipient, plain.records[0].recipient);
            // Without a Message-ID the fingerprint identifies it: the same.
            assert_eq!(r.fingerprint, plain.fingerprint);
        }
    }

    /// A report without Message-ID has one fingerprint whatever copy of
    /// it is read: LF, CRLF, bare CR, after a postmark line, with
    /// `>From ` quoting, with blank lines around it; the older ledgers'
    /// keys of a copy are those of its bytes and of the CRLF copy.
    #[test]
    fn copies_of_a_report_have_one_fingerprint() {
        let lf = "From: MAILER-DAEMON@mx.example.net\nSubject: failure\nDate: Tue, 5 Mar 2024 10:15:01 +0000\nContent-Type: text/plain\n\nFrom the mail system: <gone@example.org>: 550 5.1.1 user unknown\n";
        let p = Parser::default();
        let own = p.parse(lf.as_bytes()).unwrap();
        assert!(own.fingerprint.is_some());
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(own.raw_fingerprints, [fingerprint(crlf.as_bytes())]);
        let copies = [
            crlf.clone(),
            lf.replace('\n', "\r"),
            format!("From MAILER-DAEMON Tue Mar  5 10:15:02 2024\n{lf}"),
            lf.replace("\nFrom the", "\n>From the"),
            lf.replace("\nFrom the", "\n>>From the"),
            format!("\n\n{lf}\n\n"),
        ];
        for copy in &copies {
            let r = p.parse(copy.as_bytes()).unwrap();
            assert_eq!(r.fingerprint, own.fingerprint, "{copy:?}");
            assert!(
                r.raw_fingerprints.contains(&fingerprint(crlf.as_bytes())),
                "{copy:?}"
            );
        }
    }

    /// Issue 19, point 5: without a readable Date, the postmark line's
    /// date times the report, before its Received fields.
    #[test]
    fn the_postmark_dates_a_report_without_a_readable_date() {
        let msg = "From: MAILER-DAEMON@mx.example.net\nReceived: from a by b; Tue, 5 Mar 2024 10:00:00 +0000\nDate: garbled\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n\n--b--\n";
        let p = Parser::default();
        let at = |m: &str| {
            p.parse(m.as_bytes()).unwrap().records[0].event_time.clone()
        };
        assert_eq!(at(msg).as_deref(), Some("2024-03-05T10:00:00Z"));
        let marked =
            format!("From MAILER-DAEMON Tue Mar  5 09:00:00 2024\n{msg}");
        assert_eq!(at(&marked).as_deref(), Some("2024-03-05T09:00:00Z"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let p = Parser::default();
        assert!(matches!(p.parse(b"   \n"), Err(ParseError::Empty)));
        assert!(p.parse(b"\x00\x01\x02 not mail at all").is_err());
    }
}
