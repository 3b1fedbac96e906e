//! `rebound suppress ADDRESS|@DOMAIN --note TEXT [--reason R] [--until
//! TIME] [--subdomains]`: a manual suppression, kept as an audit event
//! with the note. `@example.com` refuses every address at that domain
//! (and at its subdomains with `--subdomains`), seen or not; `--until`
//! gives the suppression an end, after which the address (or domain) is
//! mailable again. Exit 1 when it is already suppressed (nothing is
//! recorded).

use std::process::ExitCode;

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use rebound::ledger::SuppressionReason;
use rebound::ledger::domains::{DomainEntry, normalise_domain};
use rebound::time::{format_rfc3339, now};

use super::{Exit, LedgerArgs, parse_time};

/// Arguments of `rebound suppress`.
#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// The address, or `@DOMAIN` for every address at a domain.
    pub address: String,
    /// Why (kept in the audit event).
    #[arg(long, required = true)]
    pub note: String,
    /// The suppression reason recorded.
    #[arg(long, default_value = "manual", value_parser = PossibleValuesParser::new(SuppressionReason::ALL.map(SuppressionReason::as_str)).try_map(|s| SuppressionReason::from_name(&s).ok_or("unknown reason")))]
    pub reason: SuppressionReason,
    /// Mailable again from this time on (RFC 3339, YYYY-MM-DD or Unix
    /// seconds).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<i64>,
    /// With `@DOMAIN`: its subdomains too.
    #[arg(long)]
    pub subdomains: bool,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

fn usage(message: String) -> anyhow::Error {
    Exit { code: 2, message }.into()
}

/// Runs `rebound suppress`.
pub fn run(a: SuppressArgs) -> anyhow::Result<ExitCode> {
    let note = a.note.trim();
    if note.is_empty() {
        return Err(usage("--note must say why".into()));
    }
    if let Some(until) = a.until.filter(|&u| u <= now()) {
        return Err(usage(format!(
            "--until {} has already come",
            format_rfc3339(until)
        )));
    }
    let target = a.address.trim();
    let mut ledger = a.ledger.open()?;
    let until = a
        .until
        .map_or(String::new(), |u| format!(" until {}", format_rfc3339(u)));
    let done = if target.starts_with('@') {
        let domain = normalise_domain(target).ok_or_else(|| {
            usage(format!("{target:?} is not @ and a domain"))
        })?;
        let entry = DomainEntry {
            domain,
            subdomains: a.subdomains,
            reason: a.reason.as_str().to_string(),
            suppressed_at: now(),
            until: a.until,
            note: Some(note.to_string()),
        };
        let done = ledger.suppress_domain(&entry)?;
        if done {
            println!(
                "@{}: every address suppressed ({}){until}",
                entry.pattern(),
                a.reason.as_str()
            );
        }
        done
    } else {
        if a.subdomains {
            return Err(usage("--subdomains goes with @DOMAIN".into()));
        }
        if !target.contains('@') {
            return Err(usage(format!(
                "{target:?} is neither an address nor @DOMAIN"
            )));
        }
        let done = ledger.suppress_with(target, note, a.reason, a.until)?;
        if done {
            println!(
                "{}: suppressed ({}){until}",
                target.to_lowercase(),
                a.reason.as_str()
            );
        }
        done
    };
    if done {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Exit {
            code: 1,
            message: format!("{target}: already suppressed; nothing recorded"),
        }
        .into())
    }
}
