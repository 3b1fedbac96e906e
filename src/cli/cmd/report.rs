//! `rebound report --html FILE`: the ledger's statistics as one
//! self-contained HTML page with charts (`rebound::report`); the ledger is
//! opened read-only.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::StatsFilterArgs;

/// Arguments of `rebound report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the HTML page here.
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    #[command(flatten)]
    pub filter: StatsFilterArgs,
}

/// Runs `rebound report`.
pub fn run(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let s = a.filter.stats()?;
    let page =
        rebound::report::html(&s, &a.filter.ledger.db.display().to_string());
    std::fs::write(&a.html, page)
        .with_context(|| format!("cannot write {}", a.html.display()))?;
    Ok(ExitCode::SUCCESS)
}
