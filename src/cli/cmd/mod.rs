//! Subcommands, one file each, and the dispatcher.

pub mod explain;
pub mod export;
pub mod import_sends;
pub mod ingest;
pub mod parse;
pub mod preflight;
pub mod report;
pub mod scrub;
pub mod serve;
pub mod stats;
pub mod status;
pub mod sweep;
pub mod unsuppress;
pub mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use rebound::ledger::{Ledger, LedgerOptions};

use super::args::{Cli, Command};

/// Where the ledger is, for the commands that write it.
#[derive(Debug, Args, Clone)]
pub struct LedgerArgs {
    /// The ledger file (SQLite; created when missing).
    #[arg(long, env = "REBOUND_DB", default_value = "rebound.db")]
    pub db: PathBuf,
    /// How long to wait for another process holding the ledger, in
    /// milliseconds.
    #[arg(long, env = "REBOUND_BUSY_TIMEOUT", default_value_t = 5000)]
    pub busy_timeout: u64,
    /// Refuse to grow the ledger file beyond this many bytes.
    #[arg(long, env = "REBOUND_DB_MAX_SIZE")]
    pub db_max_size: Option<u64>,
}

impl LedgerArgs {
    /// Opens the ledger for writing (creating or migrating it).
    pub fn open(&self) -> anyhow::Result<Ledger> {
        open_ledger(&self.db, self.busy_timeout, self.db_max_size, false)
    }
}

/// Where the ledger is, for the commands that only read it (they never
/// create it).
#[derive(Debug, Args, Clone)]
pub struct LedgerReadArgs {
    /// The ledger file (SQLite; `rebound ingest` creates it).
    #[arg(long, env = "REBOUND_DB", default_value = "rebound.db")]
    pub db: PathBuf,
    /// How long to wait for another process holding the ledger, in
    /// milliseconds.
    #[arg(long, env = "REBOUND_BUSY_TIMEOUT", default_value_t = 5000)]
    pub busy_timeout: u64,
}

impl LedgerReadArgs {
    /// Opens an existing ledger for reading only.
    pub fn open(&self) -> anyhow::Result<Ledger> {
        open_ledger(&self.db, self.busy_timeout, None, true)
    }
}

fn open_ledger(
    db: &std::path::Path,
    busy_timeout: u64,
    max_size: Option<u64>,
    read_only: bool,
) -> anyhow::Result<Ledger> {
    let opts = LedgerOptions {
        busy_timeout: Duration::from_millis(busy_timeout),
        max_size,
        read_only,
        ..LedgerOptions::default()
    };
    Ok(Ledger::open_with(db, &opts)?)
}

/// Parses a time given as RFC 3339, `YYYY-MM-DD` or Unix seconds.
pub fn parse_time(s: &str) -> Result<i64, String> {
    rebound::time::parse_any(s).ok_or_else(|| {
        format!("{s:?} is not a time (RFC 3339, YYYY-MM-DD or Unix seconds)")
    })
}

/// Notes on stderr that `old` is an old spelling of `new` (it still
/// works).
pub fn deprecated(old: &str, new: &str) {
    eprintln!("rebound: note: {old} is deprecated; use {new}");
}

/// An error that carries its own exit code (3 connection, 4 locked, ...).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    /// The process exit code.
    pub code: u8,
    /// What went wrong.
    pub message: String,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Parse(a) => parse::run(a),
        Command::Sweep(a) => sweep::run(*a),
        Command::Watch(a) => watch::run(*a),
        Command::Ingest(a) => ingest::run(a),
        Command::ImportSends(a) => import_sends::run(a),
        Command::Export(a) => export::run(a),
        Command::Status(a) => status::run(a),
        Command::Unsuppress(a) => unsuppress::run(a),
        Command::Stats(a) => stats::run(a),
        Command::Report(a) => report::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Scrub(a) => scrub::run(*a),
        Command::Preflight(a) => preflight::run(a),
        Command::Serve(a) => serve::run(*a),
    }
}

/// The exit code for an error: the code of an [`Exit`] in its chain, else 2.
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|c| c.downcast_ref::<Exit>())
        .map(|e| e.code)
        .unwrap_or(2)
}

/// The ledger and the filter of `stats` and `report`.
#[derive(Debug, clap::Args)]
pub struct StatsFilterArgs {
    /// Only this campaign.
    #[arg(long)]
    pub campaign: Option<String>,
    /// Only events and sends at or after this time (RFC 3339, YYYY-MM-DD
    /// or Unix seconds).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<i64>,
    #[command(flatten)]
    pub ledger: LedgerReadArgs,
}

impl StatsFilterArgs {
    /// Opens the ledger read-only and computes the filtered statistics.
    pub fn stats(&self) -> anyhow::Result<rebound::ledger::stats::Stats> {
        let ledger = self.ledger.open()?;
        Ok(ledger.stats(&rebound::ledger::stats::Filter {
            campaign: self.campaign.clone(),
            since: self.since,
        })?)
    }
}
