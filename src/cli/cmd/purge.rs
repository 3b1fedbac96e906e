//! `rebound purge --older-than 2y`: deletes the events older than that,
//! keeping every address's state and counters, then gives the freed pages
//! back in small steps (`rebound::ledger::purge`, `docs/list.md`).
//! `--full-vacuum` rebuilds a ledger created before pages could be given
//! back.

use std::process::ExitCode;

use clap::Args;
use rebound::time::{format_duration, format_rfc3339, now, parse_duration};

use super::LedgerArgs;

/// Arguments of `rebound purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Delete events older than this (`2y`, `180d`, `26w`).
    #[arg(long, value_parser = parse_age, required_unless_present = "full_vacuum")]
    pub older_than: Option<i64>,
    /// Rebuild the file (`VACUUM`) with `auto_vacuum=INCREMENTAL`: once,
    /// for a ledger created before this version. Holds the ledger for the
    /// whole rebuild.
    #[arg(long)]
    pub full_vacuum: bool,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

fn parse_age(s: &str) -> Result<i64, String> {
    parse_duration(s).ok_or_else(|| {
        format!("{s:?} is not a duration (a number and y, w, d, h, m or s)")
    })
}

/// Runs `rebound purge`.
pub fn run(a: PurgeArgs) -> anyhow::Result<ExitCode> {
    let mut ledger = a.ledger.open()?;
    if let Some(age) = a.older_than {
        let cut = now() - age;
        let s = ledger.purge(cut)?;
        eprintln!(
            "rebound: {} events before {} ({}) deleted, {} addresses' history cut, {} pages given back",
            s.events,
            format_rfc3339(cut),
            format_duration(age),
            s.addresses,
            s.pages_freed
        );
        if !s.incremental && !a.full_vacuum {
            eprintln!(
                "rebound: this ledger was created before pages could be given back: the file keeps its size until `rebound purge --full-vacuum`"
            );
        }
    }
    if a.full_vacuum {
        ledger.full_vacuum()?;
        eprintln!("rebound: ledger rebuilt (auto_vacuum=INCREMENTAL)");
    }
    Ok(ExitCode::SUCCESS)
}
