//! `rebound stats`: hard, soft and complaint rates per campaign, soft
//! rate per provider, reason distribution, retry success, time to bounce
//! and the weekly trend, each rate rated against the thresholds of
//! `docs/policy.md`, "Metrics" (`rebound::ledger::stats`). `--format json`
//! (`--json`) prints the same as one object; `-o FILE` writes it there.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use rebound::ledger::stats::{Rates, Stats};

use super::StatsFilterArgs;
use crate::cli::output::DocArgs;

/// Arguments of `rebound stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub output: DocArgs,
    #[command(flatten)]
    pub filter: StatsFilterArgs,
}

/// Runs `rebound stats`.
pub fn run(a: StatsArgs) -> anyhow::Result<ExitCode> {
    let s = a.filter.stats()?;
    let mut out = a.output.writer()?;
    if a.output.json() {
        serde_json::to_writer_pretty(&mut out, &s)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &s)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn pct(r: Option<f64>) -> String {
    rebound::ledger::stats::percent(r, "-")
}

fn rated(r: Option<f64>, rating: Option<&str>) -> String {
    match rating {
        Some(x) => format!("{} {x}", pct(r)),
        None => pct(r),
    }
}

fn rates_line(
    out: &mut impl Write,
    name: &str,
    r: &Rates,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{name:<24} {:>9} {:>8} {:>8} {:>7} {:>8}  hard {:<18} soft {:<14} overall {:<14} complaints {}",
        r.sent,
        r.hard,
        r.soft,
        r.alerts,
        r.complaints,
        rated(r.hard_rate, r.hard_rating),
        rated(r.soft_rate, r.soft_rating),
        rated(r.bounce_rate, r.overall_rating),
        pct(r.complaint_rate),
    )
}

fn write_text(out: &mut impl Write, s: &Stats) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24} {:>9} {:>8} {:>8} {:>7} {:>8}  rates (rating)",
        "CAMPAIGN", "SENT", "HARD", "SOFT", "ALERTS", "COMPLNT"
    )?;
    for c in &s.campaigns {
        rates_line(out, c.campaign.as_deref().unwrap_or("(none)"), c)?;
    }
    rates_line(out, "TOTAL", &s.totals)?;
    if s.totals.sent == 0 {
        writeln!(
            out,
            "(no sends imported: rates need `rebound import-sends`)"
        )?;
    }
    writeln!(
        out,
        "delay warnings: {}, unsubscribes: {}",
        s.totals.delays, s.totals.unsubscribes
    )?;
    writeln!(out, "\nsoft bounces by provider:")?;
    for p in &s.providers {
        writeln!(
            out,
            "  {:<16} soft {:>8} of {:>8} bounces, sent {:>9}, soft rate {}",
            p.provider.as_deref().unwrap_or("(unknown)"),
            p.soft,
            p.bounces,
            p.sent,
            rated(p.soft_rate, p.soft_rating)
        )?;
    }
    writeln!(out, "\nreasons:")?;
    for r in &s.reasons {
        writeln!(
            out,
            "  {:<22} {:>8}  {:>6.2}%  {}",
            r.reason,
            r.count,
            r.share * 100.0,
            r.class_name.unwrap_or("")
        )?;
    }
    let r = &s.retry;
    writeln!(
        out,
        "\nretry: {} addresses soft-bounced, {} delivered later ({}), {} escalated to suppression",
        r.soft_bounced,
        r.recovered,
        pct(r.success_rate),
        r.escalated
    )?;
    let t = &s.time_to_bounce;
    writeln!(
        out,
        "time to bounce ({} bounces tied to a send): {} immediate (<1h), {} delayed",
        t.linked, t.immediate, t.delayed
    )?;
    for (b, n) in &t.buckets {
        writeln!(out, "  {b:<8} {n}")?;
    }
    writeln!(out, "\nweekly trend:")?;
    for w in &s.weekly {
        rates_line(out, &w.week, &w.rates)?;
    }
    Ok(())
}
