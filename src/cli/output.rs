//! Record writers: JSON lines, CSV and an aligned table for people; the
//! output flags of the commands that print one document. With
//! `--explain`, CSV and the table end with an `explain` column (JSON lines
//! carry the `explain` field).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;
use rebound::Record;
use rebound::ledger::export::spreadsheet_safe;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
    /// An aligned table for people.
    Table,
}

/// The format of a command that prints one document (`stats`, `status`,
/// `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    /// Text for people.
    Text,
    /// JSON.
    Json,
}

/// `--format text|json` (with `--json` its alias) and `-o/--output FILE`:
/// the output flags of `stats`, `status` and `explain`, spelt as `export`,
/// `report` and `scrub` spell theirs.
#[derive(Debug, clap::Args)]
pub struct DocArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
    /// The same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl DocArgs {
    /// True for JSON.
    pub fn json(&self) -> bool {
        self.json || self.format == DocFormat::Json
    }

    /// Where to write: the `--output` file (created) or stdout. Flush it
    /// at the end: a buffered write error shows only then.
    pub fn writer(&self) -> anyhow::Result<Box<dyn Write>> {
        Ok(match &self.output {
            Some(p) => {
                Box::new(BufWriter::new(File::create(p).with_context(
                    || format!("cannot write {}", p.display()),
                )?))
            }
            None => Box::new(BufWriter::new(std::io::stdout().lock())),
        })
    }
}

/// The CSV / table columns, in order.
pub const COLUMNS: &[&str] = &[
    "file",
    "message_id",
    "original_message_id",
    "recipient",
    "original_recipient",
    "type",
    "status",
    "reply_code",
    "diagnostic",
    "remote_mta",
    "reporting_mta",
    "class",
    "class_name",
    "category",
    "reason",
    "action",
    "retry_after_secs",
    "provider",
    "campaign_id",
    "event_time",
    "rule",
    "detector",
    "feedback_type",
    "will_retry_until",
];

const TABLE_COLUMNS: &[&str] = &[
    "recipient",
    "type",
    "status",
    "reply_code",
    "class",
    "reason",
    "action",
    "provider",
    "file",
];

fn field(r: &Record, name: &str) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    match name {
        "file" => o(&r.file),
        "message_id" => o(&r.message_id),
        "original_message_id" => o(&r.original_message_id),
        "recipient" => o(&r.recipient),
        "original_recipient" => o(&r.original_recipient),
        "type" => r.kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
        "status" => o(&r.status),
        "reply_code" => o(&r.reply_code),
        "diagnostic" => o(&r.diagnostic),
        "remote_mta" => o(&r.remote_mta),
        "reporting_mta" => o(&r.reporting_mta),
        "class" => r.class.map(|c| c.to_string()).unwrap_or_default(),
        "class_name" => o(&r.class_name),
        "category" => {
            r.category.map(|c| c.as_str().to_string()).unwrap_or_default()
        }
        "reason" => o(&r.reason),
        "action" => {
            r.action.map(|a| a.as_str().to_string()).unwrap_or_default()
        }
        "retry_after_secs" => {
            r.retry_after_secs.map(|s| s.to_string()).unwrap_or_default()
        }
        "provider" => o(&r.provider),
        "campaign_id" => o(&r.campaign_id),
        "event_time" => o(&r.event_time),
        "rule" => o(&r.rule),
        "detector" => o(&r.detector),
        "feedback_type" => o(&r.feedback_type),
        "will_retry_until" => o(&r.will_retry_until),
        "explain" => o(&r.explain),
        _ => String::new(),
    }
}

/// The column `--explain` adds at the end of CSV and the table.
const EXPLAIN: &str = "explain";

/// Writes records in one format.
pub struct Writer<W: Write> {
    format: Format,
    sink: Sink<W>,
    /// The CSV or table columns.
    columns: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

enum Sink<W: Write> {
    Plain(W),
    Csv(Box<csv::Writer<W>>),
}

impl<W: Write> Writer<W> {
    /// A writer, with the `explain` column when `explain`; CSV writes
    /// its header at once.
    pub fn new(
        format: Format,
        out: W,
        explain: bool,
    ) -> anyhow::Result<Writer<W>> {
        let mut columns = match format {
            Format::Table => TABLE_COLUMNS.to_vec(),
            _ => COLUMNS.to_vec(),
        };
        if explain {
            columns.push(EXPLAIN);
        }
        let sink = if format == Format::Csv {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&columns)?;
            Sink::Csv(Box::new(w))
        } else {
            Sink::Plain(out)
        };
        Ok(Writer { format, sink, columns, rows: Vec::new() })
    }

    /// Writes one record (tables are buffered until [`Writer::finish`]).
    pub fn write(&mut self, r: &Record) -> anyhow::Result<()> {
        match (&mut self.sink, self.format) {
            (Sink::Csv(w), _) => {
                w.write_record(
                    self.columns
                        .iter()
                        .map(|c| spreadsheet_safe(&field(r, c)).into_owned()),
                )?;
            }
            (Sink::Plain(_), Format::Table) => {
                self.rows
                    .push(self.columns.iter().map(|c| field(r, c)).collect());
            }
            (Sink::Plain(out), _) => {
                serde_json::to_writer(&mut *out, r)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    /// Flushes; prints the table.
    pub fn finish(self) -> anyhow::Result<()> {
        let mut out = match self.sink {
            Sink::Csv(w) => {
                w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))?
            }
            Sink::Plain(out) => out,
        };
        if self.format == Format::Table {
            // Cells are cut at 48 characters, but the explanation (last,
            // so nothing follows it to align) is written whole.
            let mut widths: Vec<usize> =
                self.columns.iter().map(|c| c.len()).collect();
            for row in &self.rows {
                for ((w, cell), name) in
                    widths.iter_mut().zip(row).zip(&self.columns)
                {
                    let cap = if *name == EXPLAIN { usize::MAX } else { 48 };
                    *w = (*w).max(cell.chars().count()).min(cap);
                }
            }
            let line = |cells: &[String]| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| {
                        let c: String = c.chars().take(*w).collect();
                        format!("{c:<w$}")
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            let head: Vec<String> =
                self.columns.iter().map(|c| c.to_uppercase()).collect();
            writeln!(out, "{}", line(&head))?;
            for row in &self.rows {
                writeln!(out, "{}", line(row))?;
            }
        }
        out.flush()?;
        Ok(())
    }
}
