//! `rebound ingest [--db PATH] INPUT...`: parse bounce mail like `parse`
//! and record the results in the ledger; `--events FILE.jsonl` records
//! sending-platform webhook events instead (or as well); `--log FORMAT
//! PATH...` reads MTA logs (`rebound::logs`), resuming where the last run
//! stopped, and with `--follow` keeps following the last one.
//!
//! `--notify URL` posts each newly recorded event after its batch is
//! committed (`crate::cli::notify`); notification failures never change
//! the ledger or the exit code.
//!
//! Inputs that hold no message at all (an empty directory) are a warning
//! and create no ledger.
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
use rebound::classify::Rules;
use rebound::ledger::{IngestItem, IngestSummary, Ledger, Policy, webhook};
use rebound::logs::follow::{LogIngest, Options};
use rebound::logs::{self, LogFormat};

use super::LedgerArgs;
use super::parse::{ParsedInput, ParserArgs, parse_inputs};
use crate::cli::notify::{Notify, NotifyArgs};

/// Arguments of `rebound ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// .eml files, directories (recursive; Maildir cur/ and new/), mbox
    /// files, or `-` for stdin; with --log, log files (`.gz` too) or `-`.
    #[arg(required_unless_present = "events")]
    pub paths: Vec<PathBuf>,
    /// The PATHs are MTA logs of this format: postfix, exim, powermta
    /// (accounting CSV), kumomta (JSON records) or sendmail.
    #[arg(long, value_name = "FORMAT", value_parser = log_format, conflicts_with = "events")]
    pub log: Option<&'static dyn LogFormat>,
    /// With --log: keep reading the last PATH as it grows, across
    /// rotation (rename or copytruncate), until killed.
    #[arg(long, requires = "log")]
    pub follow: bool,
    /// With --log: the zone of timestamps written without one (syslog's
    /// `Dec  6 00:12:36`, Exim's local times), as +HH:MM or -HH:MM.
    #[arg(long, requires = "log", value_name = "+HH:MM", default_value = "+00:00", value_parser = utc_offset)]
    pub log_timezone: i64,
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

/// Reports waiting for the next transaction, and the ledger, opened when
/// the first report is recorded (inputs that hold no message create no
/// ledger).
struct Pending<'a> {
    args: &'a IngestArgs,
    ledger: Option<Ledger>,
    reports: Vec<(String, Report)>,
    size: usize,
    total: IngestSummary,
    notify: Option<Notify>,
}

impl Pending<'_> {
    /// The ledger, opened (and given the policy of `--soft-attempts` and
    /// `--soft-span-hours`) on first use.
    fn ledger(&mut self) -> anyhow::Result<&mut Ledger> {
        let ledger = match self.ledger.take() {
            Some(l) => l,
            None => open(self.args)?,
        };
        Ok(self.ledger.insert(ledger))
    }

    fn push(&mut self, source: String, report: Report) -> anyhow::Result<()> {
        self.reports.push((source, report));
        if self.reports.len() >= self.size {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.reports.is_empty() {
            return Ok(());
        }
        let reports = std::mem::take(&mut self.reports);
        let items: Vec<IngestItem<'_>> = reports
            .iter()
            .map(|(source, report)| IngestItem { source, report })
            .collect();
        let (sum, new) = self.ledger()?.ingest_returning_new(&items, None)?;
        if let (Some(n), Some(l)) = (&self.notify, &self.ledger) {
            n.forward(l, &new);
        }
        self.total.add(sum);
        Ok(())
    }
}

/// Opens the ledger for writing with the policy the flags set.
fn open(a: &IngestArgs) -> anyhow::Result<Ledger> {
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
    Ok(ledger)
}

/// Runs `rebound ingest`.
pub fn run(a: IngestArgs) -> anyhow::Result<ExitCode> {
    let parser = a.parser.build(false)?;
    let notify = a.notify.start(&a.ledger.db)?;
    if let Some(format) = a.log {
        let ledger = open(&a)?;
        return run_log(&a, format, ledger, notify, parser.rules().clone());
    }
    let mut pending = Pending {
        args: &a,
        ledger: None,
        reports: Vec::new(),
        size: a.batch as usize,
        total: IngestSummary::default(),
        notify,
    };
    if a.soft_attempts.is_some() || a.soft_span_hours.is_some() {
        // A policy change is recorded (and applied) whatever is read.
        pending.ledger()?;
    }
    let (mut messages, mut ignored, mut failed, mut unreadable) = (0, 0, 0, 0);
    if !a.paths.is_empty() {
        parse_inputs(&a.paths, &parser, |o| {
            match o {
                ParsedInput::Parsed(source, report) => {
                    messages += 1;
                    if report.records.is_empty() {
                        ignored += 1;
                    } else {
                        pending.push(source, report)?;
                    }
                }
                ParsedInput::Failed(m, e) => {
                    messages += 1;
                    failed += 1;
                    eprintln!("rebound: {}: cannot parse: {e}", m.name());
                }
                ParsedInput::Unreadable(e) => {
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
    if messages == 0 && unreadable == 0 {
        eprintln!(
            "rebound: warning: the inputs hold no message (an empty \
             directory?); nothing recorded{}",
            if pending.ledger.is_none() { ", no ledger created" } else { "" }
        );
        if let Some(n) = pending.notify.take() {
            n.finish();
        }
        return Ok(ExitCode::SUCCESS);
    }
    if messages > 0 {
        pending.ledger()?;
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

/// A log format named on the command line.
fn log_format(name: &str) -> Result<&'static dyn LogFormat, String> {
    logs::format(name).ok_or_else(|| {
        let names: Vec<&str> = logs::FORMATS.iter().map(|f| f.id()).collect();
        format!("{name:?} is not a log format ({})", names.join(", "))
    })
}

/// `+HH:MM` / `-HH:MM` (or `Z`) as seconds east of UTC.
fn utc_offset(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a UTC offset (+HH:MM or -HH:MM)");
    if s.eq_ignore_ascii_case("z") {
        return Ok(0);
    }
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i64, i64) =
        (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 14 || m > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// `rebound ingest --log FORMAT PATH...`: exit 0 when every line was
/// read, 1 when some could not be (each is named with its line number;
/// the rest is recorded), 2 on a fatal error.
fn run_log(
    a: &IngestArgs,
    format: &'static dyn LogFormat,
    mut ledger: Ledger,
    notify: Option<Notify>,
    rules: Rules,
) -> anyhow::Result<ExitCode> {
    let opts = Options {
        batch: a.batch as usize,
        follow: a.follow,
        utc_offset: a.log_timezone,
        rules,
        ..Options::default()
    };
    let mut ingest = LogIngest::new(&mut ledger, format, opts)
        .on_error(|at, e| {
            eprintln!("rebound: {at}: cannot read the line: {e}")
        })
        .on_commit(|l, new| {
            if let Some(n) = &notify {
                n.forward(l, new);
            }
        });
    let done = ingest.read_files(&a.paths);
    let t = ingest.totals();
    drop(ingest);
    eprintln!(
        "rebound: {} log lines ({format}): {} events recorded in {}: {} new events, {} already recorded; {} unreadable lines",
        t.lines,
        t.events,
        a.ledger.db.display(),
        t.ledger.new_events,
        t.ledger.duplicates,
        t.unreadable,
        format = format.id(),
    );
    if let Some(n) = notify {
        n.finish();
    }
    done?;
    Ok(if t.unreadable > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
