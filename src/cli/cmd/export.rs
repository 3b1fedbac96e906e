//! `rebound export`: the suppression list, in rebound's CSV / JSON / JSON
//! lines or in the import layout of a sending platform (ses, mailgun,
//! sparkpost, postmark, sendgrid; documented in `rebound::ledger::export`
//! and `docs/ledger.md`). `--since`, `--reason` and `--domain` narrow the list.

use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use clap::builder::PossibleValuesParser;
use clap::builder::TypedValueParser;
use rebound::ledger::SuppressionReason;
use rebound::ledger::export::{Filter, Format};

use super::{LedgerReadArgs, parse_time};

/// Arguments of `rebound export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The layout.
    #[arg(long, default_value = "csv", value_parser = PossibleValuesParser::new(Format::ALL.map(Format::as_str)).try_map(|s| Format::from_name(&s).ok_or("unknown format")))]
    pub format: Format,
    /// Only addresses suppressed at or after this time (RFC 3339,
    /// YYYY-MM-DD or Unix seconds).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<i64>,
    /// Only this suppression reason.
    #[arg(long, value_parser = PossibleValuesParser::new(SuppressionReason::ALL.map(SuppressionReason::as_str)).try_map(|s| SuppressionReason::from_name(&s).ok_or("unknown reason")))]
    pub reason: Option<SuppressionReason>,
    /// Only addresses at this domain.
    #[arg(long)]
    pub domain: Option<String>,
    /// Write here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub ledger: LedgerReadArgs,
}

/// Runs `rebound export`.
pub fn run(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let ledger = a.ledger.open()?;
    let filter = Filter { since: a.since, reason: a.reason, domain: a.domain };
    let n = match &a.output {
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("cannot write {}", p.display()))?;
            ledger.export(&filter, a.format, BufWriter::new(f))?
        }
        None => ledger.export(
            &filter,
            a.format,
            BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
        )?,
    };
    eprintln!(
        "rebound: {n} suppressed addresses exported ({})",
        a.format.as_str()
    );
    Ok(ExitCode::SUCCESS)
}
