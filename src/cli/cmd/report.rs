//! `rebound report --html FILE`: the ledger's statistics as one
//! self-contained HTML page with charts (`rebound::report`); the ledger is
//! opened read-only.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rebound::ledger::stats::Filter;

use super::{LedgerArgs, parse_time};

/// Arguments of `rebound report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the HTML page here.
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// Only this campaign.
    #[arg(long)]
    pub campaign: Option<String>,
    /// Only events and sends at or after this time (RFC 3339, YYYY-MM-DD
    /// or Unix seconds).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<i64>,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// Runs `rebound report`.
pub fn run(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let ledger = a.ledger.open_read_only()?;
    let s = ledger.stats(&Filter { campaign: a.campaign, since: a.since })?;
    let page = rebound::report::html(&s, &a.ledger.db.display().to_string());
    std::fs::write(&a.html, page)
        .with_context(|| format!("cannot write {}", a.html.display()))?;
    Ok(ExitCode::SUCCESS)
}
