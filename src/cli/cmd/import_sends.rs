//! `rebound import-sends FILE.csv`: record what was sent, from a CSV with
//! the header `message_id,recipient,campaign_id,sent_at` (`sent_at` in
//! RFC 3339, `YYYY-MM-DD` or Unix seconds; `campaign_id` may be empty).
//! Rows are recorded in one transaction; importing a file again changes
//! nothing. Bounces already recorded are tied to their sends.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use rebound::ledger::sends::Send;
use serde::Deserialize;

use super::{LedgerArgs, parse_time};

/// Arguments of `rebound import-sends`.
#[derive(Debug, Args)]
pub struct ImportSendsArgs {
    /// The CSV file (`-` for stdin).
    pub file: PathBuf,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

#[derive(Debug, Deserialize)]
struct Row {
    message_id: String,
    recipient: String,
    campaign_id: Option<String>,
    sent_at: String,
}

/// Runs `rebound import-sends`.
pub fn run(a: ImportSendsArgs) -> anyhow::Result<ExitCode> {
    let name = a.file.display().to_string();
    let reader: Box<dyn std::io::Read> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&a.file)
                .with_context(|| format!("cannot read {name}"))?,
        )
    };
    let mut sends = Vec::new();
    let mut csv =
        csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    for (i, row) in csv.deserialize::<Row>().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("{name}: row {line}"))?;
        if row.message_id.is_empty() || row.recipient.is_empty() {
            bail!("{name}: row {line}: message_id and recipient are required");
        }
        let sent_at = parse_time(&row.sent_at)
            .map_err(|e| anyhow::anyhow!("{name}: row {line}: sent_at {e}"))?;
        sends.push(Send {
            message_id: row.message_id,
            recipient: row.recipient,
            campaign_id: row.campaign_id.filter(|c| !c.is_empty()),
            sent_at,
        });
    }
    let mut ledger = a.ledger.open()?;
    let s = ledger.import_sends(&sends)?;
    eprintln!(
        "rebound: {} sends read, {} new; {} recorded events tied to their send",
        s.sends, s.new, s.linked_events
    );
    Ok(ExitCode::SUCCESS)
}
