//! `rebound report -o FILE`: the ledger's statistics as one self-contained
//! HTML page with charts (`rebound::report`); the ledger is opened
//! read-only. `--html FILE`, the old spelling of `-o`, still works with a
//! note on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::{StatsFilterArgs, deprecated};

/// Arguments of `rebound report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the page here.
    #[arg(short, long, value_name = "FILE", required_unless_present = "html")]
    pub output: Option<PathBuf>,
    /// The old spelling of --output (deprecated).
    #[arg(long, value_name = "FILE", conflicts_with = "output", hide = true)]
    pub html: Option<PathBuf>,
    /// Output format (one: a self-contained HTML page).
    #[arg(long, value_enum, default_value_t = PageFormat::Html)]
    pub format: PageFormat,
    #[command(flatten)]
    pub filter: StatsFilterArgs,
}

/// The formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PageFormat {
    /// One HTML page with inline CSS and SVG.
    Html,
}

/// Runs `rebound report`.
pub fn run(a: ReportArgs) -> anyhow::Result<ExitCode> {
    if a.html.is_some() {
        deprecated("--html FILE", "-o/--output FILE");
    }
    let Some(path) = a.output.as_ref().or(a.html.as_ref()) else {
        anyhow::bail!("no output file: give -o/--output FILE");
    };
    let s = a.filter.stats()?;
    let page =
        rebound::report::html(&s, &a.filter.ledger.db.display().to_string());
    std::fs::write(path, page)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(ExitCode::SUCCESS)
}
