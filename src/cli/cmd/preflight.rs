//! `rebound preflight --from-domain D [--ip IP]... [--dkim-selector S]...`:
//! the check of the sender's own DNS before a big send (SPF, DKIM, DMARC,
//! reverse DNS, block lists, the Gmail/Yahoo bulk-sender rules). The checks
//! are the library's [`rebound::preflight`]; this file reads the arguments
//! and writes one line per check (with its evidence and next step) or one
//! JSON object. Exit 0 when nothing fails, 1 when a check fails, 2 on a
//! usage error.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use rebound::dns::DnsOptions;
use rebound::preflight::report::{Report, Status};
use rebound::preflight::{self, Options};
use serde_json::json;

/// Output format of `preflight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PreflightFormat {
    /// One line per check, with evidence and next step, for people.
    Table,
    /// One JSON object, for scripts.
    Json,
}

/// Arguments of `rebound preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The From (header) domain of the mail.
    #[arg(long)]
    pub from_domain: String,
    /// A sending IP address (repeat for each).
    #[arg(long = "ip")]
    pub ips: Vec<IpAddr>,
    /// A DKIM selector of the From domain, or SELECTOR:DOMAIN for another
    /// signing domain (repeat for each).
    #[arg(long = "dkim-selector")]
    pub selectors: Vec<String>,
    /// The envelope (Return-Path) domain, or a whole Return-Path address;
    /// default: the From domain.
    #[arg(long)]
    pub envelope_domain: Option<String>,
    /// The HELO name the sending host uses (SPF's %{h}); default: the
    /// envelope domain.
    #[arg(long)]
    pub helo: Option<String>,
    /// A block list to query instead of the defaults: ZONE, ip:ZONE or
    /// domain:ZONE (repeat for each).
    #[arg(long = "dnsbl-zone")]
    pub zones: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PreflightFormat::Table)]
    pub format: PreflightFormat,
    /// DNS server to ask (IP:PORT; default: the system's).
    #[arg(long)]
    pub dns_server: Option<SocketAddr>,
    /// Per-query DNS timeout in seconds.
    #[arg(long, default_value_t = 3)]
    pub dns_timeout: u64,
    /// Attempts per DNS query.
    #[arg(long, default_value_t = 2)]
    pub dns_attempts: usize,
}

/// Runs `rebound preflight`.
pub fn run(a: PreflightArgs) -> anyhow::Result<ExitCode> {
    let opts = Options {
        from_domain: a.from_domain.clone(),
        envelope: a.envelope_domain.clone(),
        helo: a.helo.clone(),
        ips: a.ips.clone(),
        selectors: a.selectors.clone(),
        zones: a.zones.clone(),
        dns: DnsOptions {
            server: a.dns_server,
            timeout: Duration::from_secs(a.dns_timeout.max(1)),
            attempts: a.dns_attempts.max(1),
        },
    };
    let report = preflight::run(&opts)?;
    let mut out = std::io::stdout().lock();
    match a.format {
        PreflightFormat::Json => {
            serde_json::to_writer(&mut out, &to_json(&a, &report))?;
            writeln!(out)?;
        }
        PreflightFormat::Table => write_table(&mut out, &report)?,
    }
    out.flush()?;
    Ok(if report.failed() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

const STATUSES: [Status; 4] =
    [Status::Pass, Status::Warn, Status::Fail, Status::CannotCheck];

fn to_json(a: &PreflightArgs, r: &Report) -> serde_json::Value {
    let summary: serde_json::Map<String, serde_json::Value> = STATUSES
        .iter()
        .map(|s| {
            let key = serde_json::to_value(s).unwrap_or_default();
            (key.as_str().unwrap_or_default().to_string(), r.count(*s).into())
        })
        .collect();
    let advice: Vec<serde_json::Value> = r
        .advice()
        .iter()
        .map(|a| {
            json!({
                "reason": a.reason.name(),
                "root_cause": a.root_cause,
                "next_steps": a.next_steps,
            })
        })
        .collect();
    json!({
        "from_domain": a.from_domain,
        "failed": r.failed(),
        "summary": summary,
        "checks": r.checks,
        "advice": advice,
    })
}

/// Answers longer than this are cut in the table (DKIM keys).
const ANSWER_WIDTH: usize = 110;

fn write_table(out: &mut impl Write, r: &Report) -> anyhow::Result<()> {
    let width = r.checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
    for c in &r.checks {
        writeln!(
            out,
            "{:<12}  {:<width$}  {}: {}",
            c.status.label(),
            c.check,
            c.subject,
            c.detail
        )?;
        for e in &c.evidence {
            let mut answer: String =
                e.answer.chars().take(ANSWER_WIDTH).collect();
            if answer.len() < e.answer.len() {
                answer.push_str("...");
            }
            writeln!(out, "{:14}{} = {answer}", "", e.query)?;
        }
        if let Some(step) = &c.next_step {
            writeln!(out, "{:14}next: {step}", "")?;
        }
    }
    let counts: Vec<String> = STATUSES
        .iter()
        .map(|s| format!("{} {}", r.count(*s), s.label().to_lowercase()))
        .collect();
    writeln!(out, "\n{} checks: {}", r.checks.len(), counts.join(", "))?;
    for a in r.advice() {
        writeln!(
            out,
            "\n{} (as `rebound explain` advises):",
            a.reason.name()
        )?;
        writeln!(out, "  root cause: {}", a.root_cause)?;
        for (i, s) in a.next_steps.iter().enumerate() {
            writeln!(out, "  {}. {s}", i + 1)?;
        }
    }
    Ok(())
}
