//! `rebound scrub LIST.csv`: the pre-send check. Streams the CSV row by
//! row, writes the rows that may be mailed (every original column kept) to
//! the clean file and the others to the rejects file with the reason and a
//! detail (the suppression reason, the syntax error, "did you mean ...").
//! The checks are the library's [`rebound::scrub`]; the ledger is opened
//! read-only and skipped, with a note, when its file does not exist.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rebound::scrub::mx::{MxChecker, MxOptions};
use rebound::scrub::{ROLE_ACCOUNTS, Scrubber};

use super::{LedgerReadArgs, deprecated};

/// Arguments of `rebound scrub`.
#[derive(Debug, Args)]
pub struct ScrubArgs {
    /// The list to check (CSV with a header row).
    pub list: PathBuf,
    /// The column holding the address (header name, any case).
    #[arg(long, default_value = "email")]
    pub column: String,
    /// Where to write the clean list (default: LIST.clean.csv).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The old spelling of --output (deprecated).
    #[arg(long, value_name = "FILE", conflicts_with = "output", hide = true)]
    pub out: Option<PathBuf>,
    /// Output format (one: CSV, the list's own columns).
    #[arg(long, value_enum, default_value_t = ListFormat::Csv)]
    pub format: ListFormat,
    /// Where to write the rejected rows (default: LIST.rejects.csv).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Role-account local parts to reject, comma-separated (replaces the
    /// built-in list; empty to reject none).
    #[arg(long, value_delimiter = ',')]
    pub role_accounts: Option<Vec<String>>,
    /// A file of role-account local parts, one per line (`#` comments).
    #[arg(long, conflicts_with = "role_accounts")]
    pub role_accounts_file: Option<PathBuf>,
    /// Reject domains that take no mail (MX, else A/AAAA; null MX).
    #[arg(long)]
    pub check_mx: bool,
    /// DNS server for --check-mx (IP:PORT; default: the system's).
    #[arg(long, requires = "check_mx")]
    pub dns_server: Option<SocketAddr>,
    /// Per-query DNS timeout in seconds for --check-mx.
    #[arg(long, default_value_t = 3)]
    pub dns_timeout: u64,
    #[command(flatten)]
    pub ledger: LedgerReadArgs,
}

/// The formats of `scrub`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// CSV with the list's header and columns.
    Csv,
}

fn beside(list: &Path, suffix: &str) -> PathBuf {
    let stem = list.file_stem().unwrap_or_default().to_string_lossy();
    list.with_file_name(format!("{stem}.{suffix}.csv"))
}

fn roles(a: &ScrubArgs) -> anyhow::Result<Vec<String>> {
    if let Some(p) = &a.role_accounts_file {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("reading {}", p.display()))?;
        return Ok(text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
            .filter(|l| !l.is_empty())
            .collect());
    }
    Ok(match &a.role_accounts {
        Some(r) => r
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None => ROLE_ACCOUNTS.iter().map(|s| s.to_string()).collect(),
    })
}

fn progress(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {per_sec} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Runs `rebound scrub`.
pub fn run(a: ScrubArgs) -> anyhow::Result<ExitCode> {
    let input = File::open(&a.list)
        .with_context(|| format!("opening {}", a.list.display()))?;
    let total = input.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::new(input));
    let headers = reader.byte_headers()?.clone();
    let Some(col) = headers.iter().position(|h| {
        String::from_utf8_lossy(h).trim().eq_ignore_ascii_case(&a.column)
    }) else {
        let names: Vec<_> =
            headers.iter().map(|h| String::from_utf8_lossy(h)).collect();
        bail!(
            "{}: no column {:?} (columns: {}); use --column",
            a.list.display(),
            a.column,
            names.join(", ")
        );
    };
    let ledger = if a.ledger.db.exists() {
        Some(a.ledger.open()?)
    } else {
        eprintln!(
            "note: no ledger at {}; suppressions not checked",
            a.ledger.db.display()
        );
        None
    };
    let mut mx = if a.check_mx {
        Some(MxChecker::new(&MxOptions {
            server: a.dns_server,
            timeout: Duration::from_secs(a.dns_timeout.max(1)),
            ..MxOptions::default()
        })?)
    } else {
        None
    };
    if a.out.is_some() {
        deprecated("--out FILE", "-o/--output FILE");
    }
    let out_path = a
        .output
        .clone()
        .or_else(|| a.out.clone())
        .unwrap_or_else(|| beside(&a.list, "clean"));
    let rej_path =
        a.rejects.clone().unwrap_or_else(|| beside(&a.list, "rejects"));
    let create = |p: &Path| -> anyhow::Result<csv::Writer<BufWriter<File>>> {
        let f = File::create(p)
            .with_context(|| format!("creating {}", p.display()))?;
        Ok(csv::Writer::from_writer(BufWriter::new(f)))
    };
    let mut clean = create(&out_path)?;
    let mut rejects = create(&rej_path)?;
    clean.write_byte_record(&headers)?;
    let mut rej_headers = headers.clone();
    rej_headers.push_field(b"reject_reason");
    rej_headers.push_field(b"reject_detail");
    rejects.write_byte_record(&rej_headers)?;

    let mut scrubber = Scrubber::new(roles(&a)?, ledger.as_ref(), mx.as_mut());
    let bar = progress(total);
    let (mut rows, mut kept) = (0u64, 0u64);
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record)? {
        rows += 1;
        let email = String::from_utf8_lossy(record.get(col).unwrap_or(b""))
            .into_owned();
        match scrubber.check(&email)? {
            None => {
                kept += 1;
                clean.write_byte_record(&record)?;
            }
            Some(r) => {
                *counts.entry(r.name()).or_default() += 1;
                let mut row = record.clone();
                row.push_field(r.name().as_bytes());
                row.push_field(r.detail().as_bytes());
                rejects.write_byte_record(&row)?;
            }
        }
        if rows.is_multiple_of(1024) {
            bar.set_position(reader.position().byte());
        }
    }
    bar.finish_and_clear();
    drop(scrubber);
    let unresolved = mx.as_ref().map_or(0, MxChecker::unresolved);
    clean.flush()?;
    rejects.flush()?;
    let detail: Vec<String> =
        counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    eprintln!(
        "{rows} rows: {kept} clean -> {}, {} rejected -> {}{}",
        out_path.display(),
        rows - kept,
        rej_path.display(),
        if detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", detail.join(", "))
        }
    );
    if unresolved > 0 {
        eprintln!(
            "note: {unresolved} domains could not be resolved (timeout or \
             server failure); their rows were kept"
        );
    }
    Ok(ExitCode::SUCCESS)
}
