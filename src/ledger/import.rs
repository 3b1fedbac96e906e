//! `rebound import-suppressions`: a suppression list exported by a
//! sending platform, or by `rebound export`, recorded in the ledger.
//!
//! Each address becomes a `suppress` event carrying the list's reason,
//! time and details (source `import:FILE:LINE`), so the import is audited
//! like a manual suppression; an address already suppressed is left as it
//! is. Layouts read (columns found by header name, case and `_` / space
//! ignored, any order; unknown columns skipped):
//! - `csv` (and `json` / `jsonl`): what `rebound export` writes
//!   ([`CSV_COLUMNS`](super::export::CSV_COLUMNS)); a row whose email is
//!   `*@example.com` (`*@*.example.com`) is a domain entry. Cells a
//!   spreadsheet would run (`'=...`, `'@...`) lose the quote `rebound`
//!   put before them.
//! - `ses`: Amazon SES suppression list (`email,reason`, no header; reason
//!   `BOUNCE` or `COMPLAINT`), as SES imports and exports it.
//! - `mailgun`: Mailgun bounces (`address,code,error,created_at`, RFC 2822
//!   dates); complaints and unsubscribes exports (`address,created_at`)
//!   read with `--reason`.
//! - `sendgrid`: SendGrid suppression exports (`email,created` in Unix
//!   seconds, and `reason`, `status` when present).
//! - `postmark`: Postmark suppressions (`email`, or `EmailAddress,
//!   SuppressionReason, Origin, CreatedAt`; reasons `HardBounce`,
//!   `SpamComplaint`, `ManualSuppression`).
//! - `sparkpost`: SparkPost suppression list (`recipient,type,description`
//!   and `source`, `created` when present): the rows of one recipient are
//!   one address; its reason comes from `source` ("Spam Complaint", "List
//!   Unsubscribe", "Bounce Rule", ...), else from a description `rebound`
//!   wrote (`rebound: REASON ...`), else from the types (non-transactional
//!   only: `unsubscribed`; otherwise `hard_bounce`).
//!
//! A row that cannot be read (no address, a bad time or reason) is named
//! with its line number and skipped; the rest is imported.

use std::io::Read;

use foldhash::{HashMap, HashMapExt};
use rusqlite::params;

use super::batch::Batch;
use super::domains::{DomainEntry, normalise_domain};
use super::export::{Format, Suppression};
use super::key::{Key, insert_keyed, key_day, key_of};
use super::state::{Fact, Kind, State, SuppressionReason};
use super::{Ledger, LedgerError, normalise_address};
use crate::time;

/// One suppression read from a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The line it starts on (1-based).
    pub line: usize,
    /// The address (normalised), or the domain entry.
    pub target: Target,
    /// Why.
    pub reason: SuppressionReason,
    /// When it was suppressed (Unix seconds), if the list says.
    pub at: Option<i64>,
    /// When it ends.
    pub until: Option<i64>,
    /// Class, enhanced status, reply code, diagnostic, campaign,
    /// provider and note of the suppressing event, when the list has them.
    pub class: Option<i64>,
    /// Enhanced status code.
    pub status: Option<String>,
    /// SMTP reply code.
    pub reply_code: Option<String>,
    /// Diagnostic text.
    pub diagnostic: Option<String>,
    /// Campaign.
    pub campaign_id: Option<String>,
    /// Receiving provider.
    pub provider: Option<String>,
    /// The operator's note.
    pub note: Option<String>,
}

/// What an entry suppresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One address.
    Address(String),
    /// Every address at a domain (and its subdomains).
    Domain {
        /// The domain.
        domain: String,
        /// With its subdomains.
        subdomains: bool,
    },
}

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// Its line (1-based).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A list read: its entries and the rows skipped.
#[derive(Debug, Clone, Default)]
pub struct List {
    /// The suppressions, in file order.
    pub entries: Vec<Entry>,
    /// The rows that could not be read.
    pub bad: Vec<BadRow>,
}

/// What [`Ledger::import_suppressions`] recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Addresses and domains newly suppressed.
    pub imported: usize,
    /// Already suppressed (nothing recorded).
    pub already: usize,
}

/// An import failure (the file as a whole).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Reading the file failed.
    #[error("reading the list: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not what the format says.
    #[error("{0}")]
    Layout(String),
}

/// A reason as platforms write it (`HardBounce`, `BOUNCE`, `spam
/// complaint`, `Bounce Rule`, ...).
fn reason_of(s: &str) -> Option<SuppressionReason> {
    let k: String = s
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    use SuppressionReason::*;
    Some(match k.as_str() {
        "hardbounce" | "bounce" | "bounces" | "bounced" | "bouncerule"
        | "hardbounces" | "invalid" => HardBounce,
        "softescalated" => SoftEscalated,
        "complaint" | "complaints" | "spamcomplaint" | "spamreport"
        | "spamreports" | "spam" => Complaint,
        "unsubscribed" | "unsubscribe" | "unsubscribes"
        | "listunsubscribe" | "unsubscribelink" | "groupunsubscribe" => {
            Unsubscribed
        }
        "manual" | "manualsuppression" | "manuallyadded" | "compliance"
        | "customer" => Manual,
        _ => return None,
    })
}

/// A header name as compared: lower-case, without `_`, `-` and spaces.
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .collect::<String>()
        .to_lowercase()
}

/// A cell with the quote `rebound export` put before a spreadsheet
/// formula taken off.
fn unsafe_cell(v: &str) -> &str {
    match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
            rest
        }
        _ => v,
    }
}

/// A time as lists write it: Unix seconds, RFC 3339 or RFC 2822.
fn time_of(v: &str) -> Option<i64> {
    time::parse_any(v).or_else(|| time::parse_mail_date(v))
}

/// The columns of a layout: (field, the header names it goes by).
#[rustfmt::skip]
const NAMES: &[(&str, &[&str])] = &[
    ("email", &["email", "address", "recipient", "emailaddress"]),
    ("domain", &["domain"]),
    ("reason", &["reason", "suppressionreason"]),
    ("at", &["suppressedat", "createdat", "created", "timestamp"]),
    ("class", &["class"]),
    ("status", &["status"]),
    ("code", &["replycode", "code"]),
    ("diagnostic", &["diagnostic", "error", "description"]),
    ("campaign", &["campaignid"]),
    ("provider", &["provider"]),
    ("note", &["note"]),
    ("until", &["until"]),
    ("type", &["type"]),
    ("source", &["source", "origin"]),
];

impl List {
    /// Reads a list in `format`; `reason` is the reason of rows that do
    /// not say (default: the format's).
    pub fn read(
        format: Format,
        mut input: impl Read,
        reason: Option<SuppressionReason>,
    ) -> Result<List, ImportError> {
        let mut text = String::new();
        input.read_to_string(&mut text).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                ImportError::Layout("the list is not UTF-8 text".into())
            } else {
                ImportError::Io(e)
            }
        })?;
        let text = text.trim_start_matches('\u{feff}');
        match format {
            Format::Json | Format::Jsonl => Ok(read_json(format, text)),
            _ => read_csv(format, text, reason),
        }
    }
}

/// The entry of a row given as a [`Suppression`] (`rebound export`'s
/// fields).
fn entry_of(line: usize, s: Suppression) -> Result<Entry, String> {
    let reason = reason_of(&s.reason)
        .ok_or_else(|| format!("unknown reason {:?}", s.reason))?;
    let at = time_of(&s.suppressed_at)
        .ok_or_else(|| format!("{:?} is not a time", s.suppressed_at))?;
    let until = match s.until.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => {
            Some(time_of(u).ok_or_else(|| format!("{u:?} is not a time"))?)
        }
        None => None,
    };
    Ok(Entry {
        line,
        target: target_of(&s.email, Some(&s.domain))?,
        reason,
        at: Some(at),
        until,
        class: s.class,
        status: s.status,
        reply_code: s.reply_code,
        diagnostic: s.diagnostic,
        campaign_id: s.campaign_id,
        provider: s.provider,
        note: s.note,
    })
}

/// What an `email` cell suppresses: an address, or (`*@example.com`,
/// `*@*.example.com`) a domain entry.
fn target_of(email: &str, domain: Option<&str>) -> Result<Target, String> {
    let email = email.trim();
    if let Some(d) = email.strip_prefix("*@") {
        let (d, subdomains) = match d.strip_prefix("*.") {
            Some(d) => (d, true),
            None => (d, false),
        };
        let domain = normalise_domain(d)
            .or_else(|| domain.and_then(normalise_domain))
            .ok_or_else(|| format!("{email:?} is not a domain entry"))?;
        return Ok(Target::Domain { domain, subdomains });
    }
    let a = normalise_address(email);
    match a.rsplit_once('@') {
        Some((l, d)) if !l.is_empty() && d.contains('.') => {
            Ok(Target::Address(a))
        }
        _ => Err(format!("{email:?} is not an address")),
    }
}

fn read_json(format: Format, text: &str) -> List {
    let mut list = List::default();
    let rows: Vec<(usize, Result<Suppression, String>)> =
        if format == Format::Json {
            match serde_json::from_str::<Vec<Suppression>>(text) {
                Ok(v) => v.into_iter().map(|s| (0, Ok(s))).collect(),
                Err(e) => vec![(e.line(), Err(e.to_string()))],
            }
        } else {
            text.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| {
                    (i + 1, serde_json::from_str(l).map_err(|e| e.to_string()))
                })
                .collect()
        };
    // A JSON array has one object a line after its opening line.
    for (i, (line, row)) in rows.into_iter().enumerate() {
        let line =
            if format == Format::Json && line == 0 { i + 2 } else { line };
        match row.and_then(|s| entry_of(line, s)) {
            Ok(e) => list.entries.push(e),
            Err(message) => list.bad.push(BadRow { line, message }),
        }
    }
    list
}

fn read_csv(
    format: Format,
    text: &str,
    reason: Option<SuppressionReason>,
) -> Result<List, ImportError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = r.records();
    // Column index of each field.
    let mut cols: HashMap<&str, usize> = HashMap::new();
    let first = records
        .next()
        .transpose()
        .map_err(|e| ImportError::Layout(format!("line 1: {e}")))?;
    let Some(first) = first else { return Ok(List::default()) };
    let header = format != Format::Ses
        || first.get(1).is_some_and(|c| reason_of(c).is_none());
    let mut pending = Vec::new();
    if header {
        for (i, name) in first.iter().enumerate() {
            let k = key(name);
            if let Some((field, _)) =
                NAMES.iter().find(|(_, names)| names.contains(&k.as_str()))
            {
                cols.entry(field).or_insert(i);
            }
        }
        if !cols.contains_key("email") {
            return Err(ImportError::Layout(format!(
                "line 1: no email column in the header ({:?}) for {}",
                first.iter().collect::<Vec<_>>().join(","),
                format.as_str()
            )));
        }
    } else {
        cols.insert("email", 0);
        cols.insert("reason", 1);
        pending.push(Ok(first));
    }
    let default = reason.unwrap_or(match format {
        Format::Csv => SuppressionReason::Manual,
        Format::Postmark => SuppressionReason::Manual,
        _ => SuppressionReason::HardBounce,
    });
    let mut list = List::default();
    // SparkPost: the rows of one recipient, merged (entry index, types).
    let mut spark: HashMap<String, (usize, bool, bool)> = HashMap::new();
    for rec in pending.into_iter().chain(records) {
        let line = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(0, |p| p.line() as usize);
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line() as usize);
                list.bad.push(BadRow { line, message: e.to_string() });
                continue;
            }
        };
        let line = rec.position().map_or(line, |p| p.line() as usize);
        let get = |f: &str| {
            cols.get(f)
                .and_then(|&i| rec.get(i))
                .map(|v| unsafe_cell(v.trim()))
                .filter(|v| !v.is_empty())
        };
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let row = || -> Result<Entry, String> {
            let email = get("email").ok_or("no address")?;
            let target = target_of(email, get("domain"))?;
            let time = |f: &str| -> Result<Option<i64>, String> {
                match get(f) {
                    Some(v) => time_of(v)
                        .map(Some)
                        .ok_or_else(|| format!("{v:?} is not a time")),
                    None => Ok(None),
                }
            };
            let mut e = Entry {
                line,
                target,
                reason: default,
                at: time("at")?,
                until: time("until")?,
                class: match get("class") {
                    Some(c) => Some(c.parse().map_err(|_| {
                        format!("class {c:?} is not a number")
                    })?),
                    None => None,
                },
                status: get("status").map(str::to_string),
                reply_code: get("code").map(str::to_string),
                diagnostic: get("diagnostic").map(str::to_string),
                campaign_id: get("campaign").map(str::to_string),
                provider: get("provider").map(str::to_string),
                note: get("note").map(str::to_string),
            };
            let named = get("reason").or(get("source"));
            if let Some(r) = named {
                // SendGrid's `reason` is the bounce's text, not a kind.
                match reason_of(r) {
                    Some(r) => e.reason = r,
                    None if format == Format::Sendgrid => {
                        e.diagnostic = Some(r.to_string())
                    }
                    None => return Err(format!("unknown reason {r:?}")),
                }
            }
            if format == Format::Sparkpost {
                // A description `rebound export` wrote names the reason.
                if let Some(d) = e.diagnostic.take() {
                    match d.strip_prefix("rebound: ").and_then(|rest| {
                        let (r, more) =
                            rest.split_once(' ').unwrap_or((rest, ""));
                        Some((reason_of(r)?, more))
                    }) {
                        Some((r, more)) => {
                            if named.is_none() {
                                e.reason = r;
                            }
                            e.diagnostic = Some(more.to_string())
                                .filter(|m| !m.is_empty());
                        }
                        None => e.diagnostic = Some(d),
                    }
                }
            }
            Ok(e)
        };
        match row() {
            Err(message) => list.bad.push(BadRow { line, message }),
            Ok(e) if format == Format::Sparkpost => {
                let Target::Address(a) = &e.target else {
                    list.entries.push(e);
                    continue;
                };
                let transactional = get("type") != Some("non_transactional");
                match spark.get_mut(a) {
                    Some((_, t, n)) => {
                        *t |= transactional;
                        *n |= !transactional;
                    }
                    None => {
                        spark.insert(
                            a.clone(),
                            (
                                list.entries.len(),
                                transactional,
                                !transactional,
                            ),
                        );
                        list.entries.push(e);
                    }
                }
            }
            Ok(e) => list.entries.push(e),
        }
    }
    // A recipient only non-transactional mail may not reach: a choice
    // (an unsubscribe), unless the list said otherwise.
    for (i, t, n) in spark.into_values() {
        let e = &mut list.entries[i];
        if n && !t && reason.is_none() && e.reason == default {
            e.reason = SuppressionReason::Unsubscribed;
        }
    }
    Ok(list)
}

impl Ledger {
    /// Records the entries of a list read from `file` (one transaction
    /// per 20,000 entries): each address not already suppressed gets a
    /// `suppress` event, each domain not already refused its entry.
    pub fn import_suppressions(
        &mut self,
        entries: &[Entry],
        file: &str,
    ) -> Result<ImportSummary, LedgerError> {
        let policy = self.policy;
        let now = time::now();
        let mut sum = ImportSummary::default();
        for chunk in entries.chunks(20_000) {
            let done = self.write(|tx| {
                let mut sum = ImportSummary::default();
                let mut batch = Batch::new(tx, policy);
                let mut domains = Vec::new();
                for e in chunk {
                    let at = e.at.unwrap_or(now);
                    let address = match &e.target {
                        Target::Address(a) => a,
                        Target::Domain { domain, subdomains } => {
                            domains.push(DomainEntry {
                                domain: domain.clone(),
                                subdomains: *subdomains,
                                reason: e.reason.as_str().to_string(),
                                suppressed_at: at,
                                until: e.until,
                                note: e.note.clone(),
                            });
                            continue;
                        }
                    };
                    let kind = Kind::Suppress(e.reason);
                    let mut state = batch.state(address)?;
                    if state.ended_by(now) {
                        state.state = State::Active;
                        state.suppressed_until = None;
                    }
                    if state.state == State::Suppressed {
                        sum.already += 1;
                        continue;
                    }
                    let nanos = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos());
                    let key = Key {
                        key: key_of(&[
                            "import",
                            address,
                            file,
                            &e.line.to_string(),
                            &nanos.to_string(),
                        ]),
                        day: key_day(Some(at)),
                        legacy: false,
                    };
                    let (address_id, prev) = batch.chain(address)?;
                    let source = format!("import:{file}:{}", e.line);
                    let id = insert_keyed(tx, &key, |slot| {
                        tx.prepare_cached(
                            "INSERT INTO events (event_key, address_id, kind,
                               reason, class, status, reply_code, diagnostic,
                               campaign_id, provider, event_time, recorded_at,
                               source, note, until, key_slot, key_day,
                               prev_id)
                             VALUES (?1, ?2, 'suppress', ?3, ?4,
                               ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                               ?15, ?16, ?17)
                             ON CONFLICT DO NOTHING",
                        )?
                        .execute(params![
                            &key.key[..],
                            address_id,
                            e.reason.as_str(),
                            e.class,
                            e.status,
                            e.reply_code,
                            e.diagnostic,
                            e.campaign_id,
                            e.provider,
                            at,
                            now,
                            source,
                            e.note,
                            e.until,
                            slot,
                            key.day,
                            prev,
                        ])
                    })?;
                    let Some(id) = id else { continue };
                    let fact = Fact {
                        id,
                        kind,
                        action: None,
                        time: at,
                        until: e.until,
                    };
                    batch.touch(address, fact)?;
                    sum.imported += 1;
                }
                batch.finish()?;
                Ok((sum, domains))
            })?;
            let (s, domains) = done;
            sum.imported += s.imported;
            sum.already += s.already;
            for d in &domains {
                if self.suppress_domain(d)? {
                    sum.imported += 1;
                } else {
                    sum.already += 1;
                }
            }
        }
        Ok(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_reasons_are_understood() {
        use SuppressionReason::*;
        for (s, r) in [
            ("HardBounce", HardBounce),
            ("BOUNCE", HardBounce),
            ("Spam Complaint", Complaint),
            ("List Unsubscribe", Unsubscribed),
            ("ManualSuppression", Manual),
            ("soft_escalated", SoftEscalated),
        ] {
            assert_eq!(reason_of(s), Some(r), "{s}");
        }
        assert_eq!(reason_of("whatever"), None);
    }

    #[test]
    fn bad_rows_are_named_and_the_rest_read() {
        let text = "email,created\n\
                    a@example.org,1700000000\n\
                    not-an-address,1700000000\n\
                    b@example.org,yesterday\n\
                    C@Example.org,\n";
        let l = List::read(Format::Sendgrid, text.as_bytes(), None).unwrap();
        let got: Vec<&Target> = l.entries.iter().map(|e| &e.target).collect();
        assert_eq!(
            got,
            [
                &Target::Address("a@example.org".into()),
                &Target::Address("c@example.org".into())
            ]
        );
        assert_eq!(
            l.bad.iter().map(|b| b.line).collect::<Vec<_>>(),
            [3, 4],
            "{:?}",
            l.bad
        );
        assert!(l.bad[1].message.contains("\"yesterday\" is not a time"));
    }
}
