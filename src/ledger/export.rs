//! The suppression list, in rebound's own layouts and in the layouts that
//! sending platforms import.
//!
//! Every CSV is written with the `csv` crate (RFC 4180 quoting) and every
//! cell goes through [`spreadsheet_safe`], so a hostile diagnostic or
//! address cannot become a spreadsheet formula.
//!
//! Platform layouts (from each platform's import documentation):
//! - `ses`: Amazon SES account-level suppression list bulk import
//!   (SESv2 `CreateImportJob`, data format CSV): no header, one
//!   `email,reason` row per address, reason `BOUNCE` or `COMPLAINT`.
//!   Complaints and unsubscribes (recipient choices) export as
//!   `COMPLAINT`, every other reason as `BOUNCE`.
//! - `mailgun`: Mailgun bounces list CSV import: header
//!   `address,code,error,created_at`; `code` is the SMTP reply code of the
//!   suppressing event (550 when it had none), `error` its diagnostic (else
//!   the suppression reason), `created_at` an RFC 2822 date.
//! - `sparkpost`: SparkPost suppression list CSV upload: header
//!   `recipient,type,description`, `type` `transactional` or
//!   `non_transactional`. An address that cannot receive mail at all
//!   (`hard_bounce`, `soft_escalated`, `manual`) gets one row of each type;
//!   complaints and unsubscribes concern commercial mail and get
//!   `non_transactional` only. The description is at most 1024 characters.
//! - `postmark`: Postmark suppression import: header `email`.
//! - `sendgrid`: SendGrid suppression CSV upload (bounces / global
//!   unsubscribes): header `email,created`, `created` in Unix seconds.
//!
//! Own layouts: `csv` (header [`CSV_COLUMNS`]), `json` (an array of
//! [`Suppression`] objects) and `jsonl` (one object per line).
//!
//! Domain entries (`rebound suppress @example.com`): the own layouts list
//! each entry as a row of its own, `email` `*@example.com` (or
//! `*@*.example.com` when it takes the subdomains) and `domain`
//! `example.com`; the
//! platform layouts, which have no way to say "a whole domain", list
//! instead every address the ledger knows at a refused domain. A manual
//! suppression whose end (`until`) has come is no longer listed; a
//! forgotten address cannot be (nothing of it is left to write).

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

use foldhash::{HashMap, HashMapExt};

use super::check::Checker;
use super::domains::{DomainEntry, ENTRY_COLUMNS, entry_of};
use super::state::SuppressionReason;
use super::{Ledger, LedgerError};
use crate::time;

/// Makes a cell safe to open in a spreadsheet: a value starting with
/// `=`, `+`, `-`, `@`, tab or CR is prefixed with `'` (OWASP CSV injection).
/// Used by every CSV `rebound` writes.
pub fn spreadsheet_safe(v: &str) -> Cow<'_, str> {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}").into()
    } else {
        v.into()
    }
}

/// An export layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// rebound's CSV ([`CSV_COLUMNS`]).
    Csv,
    /// A JSON array of [`Suppression`].
    Json,
    /// One [`Suppression`] per line.
    Jsonl,
    /// Amazon SES suppression list import.
    Ses,
    /// Mailgun bounces import.
    Mailgun,
    /// SparkPost suppression list upload.
    Sparkpost,
    /// Postmark suppression import.
    Postmark,
    /// SendGrid suppression upload.
    Sendgrid,
}

/// The columns of the `csv` layout.
pub const CSV_COLUMNS: &[&str] = &[
    "email",
    "domain",
    "reason",
    "suppressed_at",
    "event",
    "class",
    "status",
    "reply_code",
    "diagnostic",
    "campaign_id",
    "provider",
    "hard_count",
    "soft_count",
    "complaint_count",
    "last_event_at",
    "note",
    "until",
];

/// Which suppressed addresses to export.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Suppressed at or after (Unix seconds).
    pub since: Option<i64>,
    /// With this suppression reason.
    pub reason: Option<SuppressionReason>,
    /// At this domain (lower-case).
    pub domain: Option<String>,
}

/// One suppressed address and the event that suppressed it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Suppression {
    /// The address.
    pub email: String,
    /// Its domain.
    pub domain: String,
    /// hard_bounce, soft_escalated, complaint, unsubscribed, manual.
    pub reason: String,
    /// When it was suppressed (RFC 3339).
    pub suppressed_at: String,
    /// Kind of the suppressing event (bounce, complaint, ...).
    pub event: Option<String>,
    /// Its class code.
    pub class: Option<i64>,
    /// Its enhanced status code.
    pub status: Option<String>,
    /// Its SMTP reply code.
    pub reply_code: Option<String>,
    /// Its diagnostic.
    pub diagnostic: Option<String>,
    /// Its campaign.
    pub campaign_id: Option<String>,
    /// Its receiving provider.
    pub provider: Option<String>,
    /// Hard bounces of the address.
    pub hard_count: i64,
    /// Soft bounces of the address.
    pub soft_count: i64,
    /// Complaints about the address.
    pub complaint_count: i64,
    /// Time of the address's last event (RFC 3339).
    pub last_event_at: String,
    /// The operator's note (manual suppression).
    pub note: Option<String>,
    /// When a manual suppression ends (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(skip)]
    suppressed_ts: i64,
}

/// An export failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Writing the output failed.
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    /// Writing CSV failed.
    #[error("writing the export: {0}")]
    Csv(#[from] csv::Error),
    /// Writing JSON failed.
    #[error("writing the export: {0}")]
    Json(#[from] serde_json::Error),
}

impl Suppression {
    fn cells(&self) -> [Cow<'_, str>; 17] {
        let o = |v: &Option<String>| Cow::from(v.clone().unwrap_or_default());
        [
            self.email.as_str().into(),
            self.domain.as_str().into(),
            self.reason.as_str().into(),
            self.suppressed_at.as_str().into(),
            o(&self.event),
            self.class.map(|c| c.to_string()).unwrap_or_default().into(),
            o(&self.status),
            o(&self.reply_code),
            o(&self.diagnostic),
            o(&self.campaign_id),
            o(&self.provider),
            self.hard_count.to_string().into(),
            self.soft_count.to_string().into(),
            self.complaint_count.to_string().into(),
            self.last_event_at.as_str().into(),
            o(&self.note),
            o(&self.until),
        ]
    }

    /// The list's order: by suppression time, then address.
    fn order(&self) -> (i64, &str) {
        (self.suppressed_ts, &self.email)
    }

    fn is(&self, r: SuppressionReason) -> bool {
        self.reason == r.as_str()
    }

    /// What the suppression is about, in one line (SparkPost's
    /// description, Mailgun's error when there is no diagnostic).
    fn description(&self) -> String {
        let mut d = format!("rebound: {}", self.reason);
        for v in
            [&self.status, &self.diagnostic, &self.note].into_iter().flatten()
        {
            d.push(' ');
            d.push_str(v);
        }
        d.chars().take(1024).collect()
    }
}

/// Writes CSV rows, every cell spreadsheet-safe.
struct SafeCsv<W: Write>(csv::Writer<W>);

impl<W: Write> SafeCsv<W> {
    fn new(out: W, header: &[&str]) -> Result<Self, csv::Error> {
        let mut w = csv::Writer::from_writer(out);
        if !header.is_empty() {
            w.write_record(header)?;
        }
        Ok(SafeCsv(w))
    }

    fn row<'a>(
        &mut self,
        cells: impl IntoIterator<Item = Cow<'a, str>>,
    ) -> Result<(), csv::Error> {
        self.0.write_record(
            cells.into_iter().map(|c| spreadsheet_safe(&c).into_owned()),
        )
    }

    fn finish(self) -> Result<(), ExportError> {
        let mut out = self
            .0
            .into_inner()
            .map_err(|e| ExportError::Io(e.into_error()))?;
        out.flush()?;
        Ok(())
    }
}

impl Ledger {
    /// Calls `f` with every suppressed address matching `filter`, oldest
    /// suppression first (ties by address). Domain entries are given as
    /// rows of their own, or with `expand` as the addresses the ledger
    /// knows at their domains (see the module doc).
    pub fn suppressions(
        &self,
        filter: &Filter,
        expand: bool,
        mut f: impl FnMut(Suppression) -> Result<(), ExportError>,
    ) -> Result<usize, ExportError> {
        let now = time::now();
        // Few: an operator's entries, or the addresses at their domains.
        let mut extra = self
            .domain_rows(filter, expand, now)
            .map_err(|e| self.error(e))?
            .into_iter()
            .peekable();
        let mut st = self
            .conn()
            .prepare(
                "SELECT a.address, a.domain, a.suppression_reason,
                   a.suppressed_at, e.kind, e.class, e.status, e.reply_code,
                   e.diagnostic, e.campaign_id, e.provider, a.hard_count,
                   a.soft_count, a.complaint_count, a.last_event, e.note,
                   a.suppressed_until
                 FROM addresses a LEFT JOIN events e ON e.id = a.suppressed_by
                 WHERE a.state = 'suppressed'
                   AND (?1 IS NULL OR a.suppressed_at >= ?1)
                   AND (?2 IS NULL OR a.suppression_reason = ?2)
                   AND (?3 IS NULL OR a.domain = ?3)
                   AND (a.suppressed_until IS NULL OR a.suppressed_until > ?4)
                 ORDER BY a.suppressed_at, a.address",
            )
            .map_err(|e| self.error(e))?;
        let rows = st
            .query_map(
                rusqlite::params![
                    filter.since,
                    filter.reason.map(|r| r.as_str()),
                    filter.domain.as_deref().map(str::to_lowercase),
                    now,
                ],
                |r| {
                    let at: i64 = r.get(3)?;
                    Ok(Suppression {
                        email: r.get(0)?,
                        domain: r.get(1)?,
                        reason: r.get(2)?,
                        suppressed_at: time::format_rfc3339(at),
                        event: r.get(4)?,
                        class: r.get(5)?,
                        status: r.get(6)?,
                        reply_code: r.get(7)?,
                        diagnostic: r.get(8)?,
                        campaign_id: r.get(9)?,
                        provider: r.get(10)?,
                        hard_count: r.get(11)?,
                        soft_count: r.get(12)?,
                        complaint_count: r.get(13)?,
                        last_event_at: time::format_rfc3339(r.get(14)?),
                        note: r.get(15)?,
                        until: r
                            .get::<_, Option<i64>>(16)?
                            .map(time::format_rfc3339),
                        suppressed_ts: at,
                    })
                },
            )
            .map_err(|e| self.error(e))?;
        let mut n = 0;
        for s in rows {
            let s = s.map_err(|e| self.error(e))?;
            while let Some(x) = extra.next_if(|x| x.order() < s.order()) {
                f(x)?;
                n += 1;
            }
            f(s)?;
            n += 1;
        }
        for x in extra {
            f(x)?;
            n += 1;
        }
        Ok(n)
    }

    /// The rows domain entries add to the list, sorted: the entries
    /// themselves, or (`expand`) the addresses the ledger knows at their
    /// domains that are not suppressed on their own.
    fn domain_rows(
        &self,
        filter: &Filter,
        expand: bool,
        now: i64,
    ) -> rusqlite::Result<Vec<Suppression>> {
        let entries: Vec<DomainEntry> = self
            .conn()
            .prepare(&format!(
                "SELECT {ENTRY_COLUMNS} FROM suppressed_domains
                 ORDER BY domain"
            ))?
            .query_map([], entry_of)?
            .filter(|e| e.as_ref().map_or(true, |e| e.in_force(now)))
            .collect::<rusqlite::Result<_>>()?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = |reason: &str, at: i64, domain: &str| {
            filter.since.is_none_or(|s| at >= s)
                && filter.reason.is_none_or(|r| r.as_str() == reason)
                && filter
                    .domain
                    .as_deref()
                    .is_none_or(|d| d.eq_ignore_ascii_case(domain))
        };
        let row =
            |email: String, domain: String, e: &DomainEntry| Suppression {
                email,
                domain,
                reason: e.reason.clone(),
                suppressed_at: time::format_rfc3339(e.suppressed_at),
                event: Some("suppress_domain".into()),
                class: None,
                status: None,
                reply_code: None,
                diagnostic: None,
                campaign_id: None,
                provider: None,
                hard_count: 0,
                soft_count: 0,
                complaint_count: 0,
                last_event_at: time::format_rfc3339(e.suppressed_at),
                note: e.note.clone(),
                until: e.until.map(time::format_rfc3339),
                suppressed_ts: e.suppressed_at,
            };
        let mut out = Vec::new();
        if !expand {
            for e in &entries {
                if wanted(&e.reason, e.suppressed_at, &e.domain) {
                    out.push(row(
                        format!("*@{}", e.pattern()),
                        e.domain.clone(),
                        e,
                    ));
                }
            }
        } else {
            let checker = Checker::new(self.conn(), now)?;
            let mut by_domain: HashMap<String, Option<DomainEntry>> =
                HashMap::new();
            let mut st = self.conn().prepare(
                "SELECT address, domain, hard_count, soft_count,
                   complaint_count, last_event
                 FROM addresses
                 WHERE state != 'suppressed' OR suppressed_until <= ?1",
            )?;
            let mut rows = st.query([now])?;
            while let Some(r) = rows.next()? {
                let domain: String = r.get(1)?;
                let entry = match by_domain.get(&domain) {
                    Some(e) => e.clone(),
                    None => {
                        let e = checker.domain_entry(&domain)?;
                        by_domain.insert(domain.clone(), e.clone());
                        e
                    }
                };
                let Some(e) = entry else { continue };
                if !wanted(&e.reason, e.suppressed_at, &domain) {
                    continue;
                }
                let mut s = row(r.get(0)?, domain, &e);
                s.hard_count = r.get(2)?;
                s.soft_count = r.get(3)?;
                s.complaint_count = r.get(4)?;
                s.last_event_at = time::format_rfc3339(r.get(5)?);
                out.push(s);
            }
        }
        out.sort_by(|a, b| a.order().cmp(&b.order()));
        Ok(out)
    }

    /// Writes the suppression list in `format`; returns the number of
    /// addresses written.
    pub fn export(
        &self,
        filter: &Filter,
        format: Format,
        mut out: impl Write,
    ) -> Result<usize, ExportError> {
        match format {
            Format::Json | Format::Jsonl => {
                let json = format == Format::Json;
                if json {
                    out.write_all(b"[")?;
                }
                let mut first = true;
                let n = self.suppressions(filter, false, |s| {
                    if json {
                        out.write_all(if first { b"\n" } else { b",\n" })?;
                    }
                    first = false;
                    serde_json::to_writer(&mut out, &s)?;
                    if !json {
                        out.write_all(b"\n")?;
                    }
                    Ok(())
                })?;
                if json {
                    out.write_all(b"\n]\n")?;
                }
                out.flush()?;
                Ok(n)
            }
            _ => self.export_csv(filter, format, out),
        }
    }

    fn export_csv(
        &self,
        filter: &Filter,
        format: Format,
        out: impl Write,
    ) -> Result<usize, ExportError> {
        let header: &[&str] = match format {
            Format::Ses => &[],
            Format::Mailgun => &["address", "code", "error", "created_at"],
            Format::Sparkpost => &["recipient", "type", "description"],
            Format::Postmark => &["email"],
            Format::Sendgrid => &["email", "created"],
            _ => CSV_COLUMNS,
        };
        let mut w = SafeCsv::new(out, header)?;
        let own = format == Format::Csv;
        let n = self.suppressions(filter, !own, |s| {
            let email = Cow::from(s.email.as_str());
            match format {
                Format::Ses => {
                    let reason = if s.is(SuppressionReason::Complaint)
                        || s.is(SuppressionReason::Unsubscribed)
                    {
                        "COMPLAINT"
                    } else {
                        "BOUNCE"
                    };
                    w.row([email, reason.into()])?;
                }
                Format::Mailgun => {
                    let code = s
                        .reply_code
                        .clone()
                        .unwrap_or_else(|| "550".to_string());
                    let error = s
                        .diagnostic
                        .clone()
                        .unwrap_or_else(|| s.description());
                    w.row([
                        email,
                        code.into(),
                        error.into(),
                        time::format_rfc2822(s.suppressed_ts).into(),
                    ])?;
                }
                Format::Sparkpost => {
                    let both = !(s.is(SuppressionReason::Complaint)
                        || s.is(SuppressionReason::Unsubscribed));
                    let d = s.description();
                    if both {
                        w.row([
                            email.clone(),
                            "transactional".into(),
                            d.as_str().into(),
                        ])?;
                    }
                    w.row([
                        email,
                        "non_transactional".into(),
                        d.as_str().into(),
                    ])?;
                }
                Format::Postmark => w.row([email])?,
                Format::Sendgrid => {
                    w.row([email, s.suppressed_ts.to_string().into()])?
                }
                _ => w.row(s.cells())?,
            }
            Ok(())
        })?;
        w.finish()?;
        Ok(n)
    }
}

impl Format {
    /// Every format, in documentation order.
    pub const ALL: [Format; 8] = [
        Format::Csv,
        Format::Json,
        Format::Jsonl,
        Format::Ses,
        Format::Mailgun,
        Format::Sparkpost,
        Format::Postmark,
        Format::Sendgrid,
    ];

    /// Parses a name.
    pub fn from_name(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Ses => "ses",
            Format::Mailgun => "mailgun",
            Format::Sparkpost => "sparkpost",
            Format::Postmark => "postmark",
            Format::Sendgrid => "sendgrid",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("a@example.com"), "a@example.com");
    }
}
