//! `rebound report --html FILE`: the ledger's statistics as one
//! self-contained HTML page with charts (`rebound::report`); the ledger is
//! opened read-only.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use rebound::ledger::stats::Basis;

use super::StatsFilterArgs;
use crate::cli::text::count;

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
    std::fs::write(&a.html, &page)
        .with_context(|| format!("cannot write {}", a.html.display()))?;
    let rates = match s.basis {
        Basis::Sends => format!("rates of {}", count(s.totals.sent, "send")),
        Basis::Logs => {
            format!("rates of {}", count(s.totals.sent, "logged outcome"))
        }
        Basis::None => "counts only (no sends imported)".to_string(),
    };
    eprintln!(
        "rebound: wrote {} ({} bytes): {}, {}, {}, {}; {rates}",
        a.html.display(),
        page.len(),
        count(s.totals.hard + s.totals.soft, "bounce"),
        count(s.totals.complaints, "complaint"),
        count(s.campaigns.len(), "campaign"),
        count(s.weekly.len(), "week"),
    );
    Ok(ExitCode::SUCCESS)
}
