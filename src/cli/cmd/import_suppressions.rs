//! `rebound import-suppressions --format F FILE`: a suppression list that
//! a sending platform (ses, mailgun, sendgrid, postmark, sparkpost) or
//! `rebound export` (csv, json, jsonl) wrote, recorded in the ledger
//! (layouts in `rebound::ledger::import` and `docs/list.md`). Rows that
//! cannot be read are named with their line number and skipped; exit 1
//! when there were any.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use rebound::ledger::SuppressionReason;
use rebound::ledger::export::Format;
use rebound::ledger::import::List;

use super::{Exit, LedgerArgs};

/// Arguments of `rebound import-suppressions`.
#[derive(Debug, Args)]
pub struct ImportSuppressionsArgs {
    /// The list's layout.
    #[arg(long, value_parser = PossibleValuesParser::new(Format::ALL.map(Format::as_str)).try_map(|s| Format::from_name(&s).ok_or("unknown format")))]
    pub format: Format,
    /// The reason of rows that do not give one (default: hard_bounce;
    /// manual for csv and postmark).
    #[arg(long, value_parser = PossibleValuesParser::new(SuppressionReason::ALL.map(SuppressionReason::as_str)).try_map(|s| SuppressionReason::from_name(&s).ok_or("unknown reason")))]
    pub reason: Option<SuppressionReason>,
    /// The list (`-` for stdin).
    pub file: PathBuf,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// Runs `rebound import-suppressions`.
pub fn run(a: ImportSuppressionsArgs) -> anyhow::Result<ExitCode> {
    let name = a.file.display().to_string();
    let list = if name == "-" {
        List::read(a.format, std::io::stdin().lock(), a.reason)
    } else {
        let f = std::fs::File::open(&a.file)
            .with_context(|| format!("cannot read {name}"))?;
        List::read(a.format, std::io::BufReader::new(f), a.reason)
    }
    .with_context(|| name.clone())?;
    let mut ledger = a.ledger.open()?;
    let sum = ledger.import_suppressions(&list.entries, &name)?;
    for b in &list.bad {
        eprintln!("{name}:{}: {}", b.line, b.message);
    }
    eprintln!(
        "rebound: {} rows read: {} suppressed, {} already suppressed, {} bad",
        list.entries.len() + list.bad.len(),
        sum.imported,
        sum.already,
        list.bad.len()
    );
    if list.bad.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Exit {
            code: 1,
            message: format!(
                "{name}: {} bad rows skipped (the rest imported)",
                list.bad.len()
            ),
        }
        .into())
    }
}
