//! `rebound ingest [--db PATH] INPUT...`: parse bounce mail like `parse`
//! and record the results in the ledger; `--events FILE.jsonl` records
//! sending-platform webhook events instead (or as well).
//!
//! `--notify URL` posts each newly recorded event after its batch is
//! committed (`crate::cli::notify`); notification failures never change
//! the ledger or the exit code.
//!
//! Reports are recorded in batches of `--batch` (one transaction each):
//! a run killed half-way keeps every batch it committed, and running it
//! again records only what is missing. Exit 0 when all went in, 1 when
//! some inputs could not be parsed or read, 2 on a ledger error.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rebound::Report;
use rebound::ledger::{IngestItem, IngestSummary, Ledger, Policy, webhook};

use super::LedgerArgs;
use super::parse::{Outcome, ParserArgs, parse_inputs};
use crate::cli::notify::{Notify, NotifyArgs};

/// Arguments of `rebound ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// .eml files, directories (recursive; Maildir cur/ and new/), mbox
    /// files, or `-` for stdin.
    #[arg(required_unless_present = "events")]
    pub paths: Vec<PathBuf>,
    /// Webhook events of a sending platform, one JSON object per line
    /// (event, email, status, reason, type, provider, campaign_id,
    /// timestamp, ip, domain).
    #[arg(long, value_name = "FILE.jsonl")]
    pub events: Vec<PathBuf>,
    /// Reports per transaction: each commit writes every ledger page its
    /// batch changed, so bigger batches record faster; they hold more in
    /// memory, and a killed run redoes at most one batch.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,
    /// Soft bounces in a row that suppress an address (stored in the
    /// ledger; changing it recomputes every address).
    #[arg(long)]
    pub soft_attempts: Option<u32>,
    /// The least hours between the first and the last of those soft
    /// bounces (stored in the ledger like --soft-attempts).
    #[arg(long)]
    pub soft_span_hours: Option<u32>,
    #[command(flatten)]
    pub ledger: LedgerArgs,
    #[command(flatten)]
    pub parser: ParserArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// Reports waiting for the next transaction.
struct Pending<'l> {
    ledger: &'l mut Ledger,
    reports: Vec<(String, Report)>,
    size: usize,
    total: IngestSummary,
    notify: Option<Notify>,
}

impl Pending<'_> {
    fn push(&mut self, source: String, report: Report) -> anyhow::Result<()> {
        self.reports.push((source, report));
        if self.reports.len() >= self.size {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        let items: Vec<IngestItem<'_>> = self
            .reports
            .iter()
            .map(|(source, report)| IngestItem { source, report })
            .collect();
        let (sum, new) = self.ledger.ingest_returning_new(&items, None)?;
        self.total.add(sum);
        if let Some(n) = &self.notify {
            n.forward(self.ledger, &new);
        }
        self.reports.clear();
        Ok(())
    }
}

/// Runs `rebound ingest`.
pub fn run(a: IngestArgs) -> anyhow::Result<ExitCode> {
    let parser = a.parser.build(false)?;
    let notify = a.notify.start(&a.ledger.db)?;
    let mut ledger = a.ledger.open()?;
    if a.soft_attempts.is_some() || a.soft_span_hours.is_some() {
        let p = ledger.policy();
        ledger.set_policy(Policy {
            soft_attempts: a.soft_attempts.unwrap_or(p.soft_attempts),
            soft_span_secs: a
                .soft_span_hours
                .map_or(p.soft_span_secs, |h| i64::from(h) * 3600),
        })?;
    }
    let mut pending = Pending {
        ledger: &mut ledger,
        reports: Vec::new(),
        size: a.batch as usize,
        total: IngestSummary::default(),
        notify,
    };
    let (mut messages, mut ignored, mut failed, mut unreadable) = (0, 0, 0, 0);
    if !a.paths.is_empty() {
        parse_inputs(&a.paths, &parser, |o| {
            match o {
                Outcome::Parsed(source, report) => {
                    messages += 1;
                    if report.records.is_empty() {
                        ignored += 1;
                    } else {
                        pending.push(source, report)?;
                    }
                }
                Outcome::Failed(m, e) => {
                    messages += 1;
                    failed += 1;
                    eprintln!("rebound: {}: cannot parse: {e}", m.name());
                }
                Outcome::Unreadable(e) => {
                    unreadable += 1;
                    eprintln!("rebound: cannot read {e}");
                }
            }
            Ok(())
        })?;
    }
    for path in &a.events {
        let file = File::open(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line
                .with_context(|| format!("cannot read {}", path.display()))?;
            let source = format!("webhook:{}:{}", path.display(), i + 1);
            messages += 1;
            match webhook::report_of(&line, parser.rules()) {
                Ok(Some(mut report)) => {
                    for r in &mut report.records {
                        r.file = Some(source.clone());
                    }
                    pending.push(source, report)?;
                }
                Ok(None) => ignored += 1,
                Err(e) => {
                    failed += 1;
                    eprintln!("rebound: {source}: {e}");
                }
            }
        }
    }
    pending.flush()?;
    let t = pending.total;
    let notify = pending.notify.take();
    eprintln!(
        "rebound: {messages} messages: {} reports recorded in {}: {} new events, {} already recorded; {ignored} not bounces, {failed} unparseable, {unreadable} unreadable inputs",
        t.reports,
        a.ledger.db.display(),
        t.new_events,
        t.duplicates
    );
    if let Some(n) = notify {
        n.finish();
    }
    Ok(if unreadable > 0 && messages == 0 {
        ExitCode::from(2)
    } else if failed > 0 || unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
