//! `rebound import-sends FILE.csv`: record what was sent, from a CSV with
//! the header `message_id,recipient,campaign_id,sent_at` (`sent_at` in
//! RFC 3339, `YYYY-MM-DD` or Unix seconds; `campaign_id` may be empty or
//! missing). The good rows are recorded in one transaction and each bad
//! one is named with its line in the file (the physical line where the
//! row starts; the header is line 1), making the exit code 1; `--strict`
//! records nothing when any row is bad. Importing a file again changes
//! nothing. Bounces already recorded are tied to their sends.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rebound::ledger::sends::Send;

use super::{Exit, LedgerArgs, parse_time};

/// Arguments of `rebound import-sends`.
#[derive(Debug, Args)]
pub struct ImportSendsArgs {
    /// The CSV file (`-` for stdin).
    pub file: PathBuf,
    /// Record nothing when any row is bad (by default the good rows are
    /// recorded and the bad ones named).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// Where each column is in the header.
struct Columns {
    message_id: usize,
    recipient: usize,
    campaign_id: Option<usize>,
    sent_at: usize,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Result<Columns, String> {
        let find = |name: &str| header.iter().position(|h| h == name);
        let need = |name: &str| {
            find(name).ok_or_else(|| {
                format!(
                    "the header has no {name} column (want \
                     message_id,recipient,campaign_id,sent_at)"
                )
            })
        };
        Ok(Columns {
            message_id: need("message_id")?,
            recipient: need("recipient")?,
            campaign_id: find("campaign_id"),
            sent_at: need("sent_at")?,
        })
    }

    /// The send of one row, or what is wrong with it.
    fn send(&self, row: &csv::StringRecord) -> Result<Send, String> {
        let get = |i: usize| row.get(i).unwrap_or("");
        let (message_id, recipient) =
            (get(self.message_id), get(self.recipient));
        if message_id.is_empty() || recipient.is_empty() {
            return Err("message_id and recipient are required".into());
        }
        let sent_at = parse_time(get(self.sent_at))
            .map_err(|e| format!("sent_at {e}"))?;
        Ok(Send {
            message_id: message_id.to_string(),
            recipient: recipient.to_string(),
            campaign_id: self
                .campaign_id
                .map(get)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            sent_at,
        })
    }
}

/// What is wrong with a row the CSV reader refused, and its line.
fn refused(e: &csv::Error) -> Option<(u64, String)> {
    let line = e.position().map_or(0, |p| p.line());
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => Some((
            line,
            format!("{len} fields where the header has {expected_len}"),
        )),
        csv::ErrorKind::Utf8 { .. } => Some((line, "not UTF-8".into())),
        _ => None,
    }
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
    let mut csv =
        csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let header =
        csv.headers().with_context(|| format!("{name}: line 1"))?.clone();
    let columns = Columns::of(&header)
        .map_err(|e| Exit { code: 2, message: format!("{name}:1: {e}") })?;
    let (mut sends, mut bad) = (Vec::new(), 0u64);
    let mut row = csv::StringRecord::new();
    loop {
        let line = match csv.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => row.position().map_or(0, |p| p.line()),
            Err(e) => {
                let (line, what) = refused(&e)
                    .ok_or(e)
                    .with_context(|| format!("cannot read {name}"))?;
                bad += 1;
                eprintln!("rebound: {name}:{line}: {what}");
                continue;
            }
        };
        match columns.send(&row) {
            Ok(s) => sends.push(s),
            Err(what) => {
                bad += 1;
                eprintln!("rebound: {name}:{line}: {what}");
            }
        }
    }
    if bad > 0 && a.strict {
        return Err(Exit {
            code: 1,
            message: format!(
                "{name}: {bad} bad rows; nothing recorded (--strict)"
            ),
        }
        .into());
    }
    let s = if sends.is_empty() {
        Default::default()
    } else {
        a.ledger.open()?.import_sends(&sends)?
    };
    eprintln!(
        "rebound: {} sends read, {} new; {} recorded events tied to their send; {bad} bad rows skipped",
        s.sends, s.new, s.linked_events
    );
    Ok(if bad > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
