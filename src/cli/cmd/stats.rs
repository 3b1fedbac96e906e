//! `rebound stats`: hard, soft and complaint rates per campaign, soft
//! rate per provider, reason distribution, retry success, time to bounce
//! and the weekly trend, each rate rated against the thresholds of
//! `docs/policy.md`, "Metrics" (`rebound::ledger::stats`). `--format json`
//! (`--json`) prints the same as one object; `-o FILE` writes it there.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use rebound::ledger::stats::{Basis, Rates, Stats};

use super::StatsFilterArgs;
use crate::cli::output::DocArgs;
use crate::cli::text::{Table, count};

/// Arguments of `rebound stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub output: DocArgs,
    /// Weeks of the weekly trend shown in the text, the latest ones
    /// (`--format json` holds every week).
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub weeks: usize,
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
        write_text(&mut out, &s, a.weeks)?;
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

/// The columns of a table of [`Rates`] after its first.
const RATES: [&str; 10] = [
    ">SENT",
    ">HARD",
    ">SOFT",
    ">ALERTS",
    ">COMPLAINTS",
    ">OUTSIDE",
    "HARD RATE",
    "SOFT RATE",
    "OVERALL RATE",
    ">COMPLAINT RATE",
];

fn rates_row(name: &str, r: &Rates) -> Vec<String> {
    vec![
        name.to_string(),
        r.sent.to_string(),
        r.hard.to_string(),
        r.soft.to_string(),
        r.alerts.to_string(),
        r.complaints.to_string(),
        r.outside.to_string(),
        rated(r.hard_rate, r.hard_rating),
        rated(r.soft_rate, r.soft_rating),
        rated(r.bounce_rate, r.overall_rating),
        pct(r.complaint_rate),
    ]
}

fn rates_table(first: &'static str) -> Table {
    let mut head = vec![first];
    head.extend(RATES);
    Table::new(&head)
}

/// What the rates divide, and what they leave out.
fn basis_note(out: &mut impl Write, s: &Stats) -> std::io::Result<()> {
    let t = &s.totals;
    match s.basis {
        Basis::None => writeln!(
            out,
            "Counts only: rates need sends (`rebound import-sends`)."
        )?,
        Basis::Logs => writeln!(
            out,
            "Rates: the share of the {} MTA logs recorded that bounced.",
            count(t.sent, "outcome")
        )?,
        Basis::Sends => writeln!(
            out,
            "Rates: the share of the {} that bounced or complained.",
            count(t.sent, "imported send")
        )?,
    }
    if t.outside > 0 {
        writeln!(
            out,
            "OUTSIDE: {} tied to no send, counted but in no rate.",
            count(t.outside, "bounce")
        )?;
    }
    Ok(())
}

fn write_text(
    out: &mut impl Write,
    s: &Stats,
    weeks: usize,
) -> std::io::Result<()> {
    writeln!(out, "Campaigns")?;
    let mut t = rates_table("CAMPAIGN");
    for c in &s.campaigns {
        t.row(rates_row(c.campaign.as_deref().unwrap_or("(none)"), c));
    }
    t.row(rates_row("TOTAL", &s.totals));
    t.write(out)?;
    basis_note(out, s)?;
    writeln!(
        out,
        "Not bounces: {}, {}.",
        count(s.totals.delays, "delay warning"),
        count(s.totals.unsubscribes, "unsubscribe request")
    )?;

    writeln!(out, "\nSoft bounces by provider")?;
    let mut t =
        Table::new(&["PROVIDER", ">SOFT", ">BOUNCES", ">SENT", "SOFT RATE"]);
    for p in &s.providers {
        t.row(vec![
            p.provider.as_deref().unwrap_or("(unknown)").to_string(),
            p.soft.to_string(),
            p.bounces.to_string(),
            p.sent.to_string(),
            rated(p.soft_rate, p.soft_rating),
        ]);
    }
    t.write(out)?;

    writeln!(out, "\nReasons")?;
    let mut t =
        Table::new(&["REASON", ">CLASS", "CLASS NAME", ">COUNT", ">SHARE"]);
    for r in &s.reasons {
        t.row(vec![
            r.reason.clone(),
            r.class.map_or_else(|| "-".into(), |c| c.to_string()),
            r.class_name.to_string(),
            r.count.to_string(),
            format!("{:.2}%", r.share * 100.0),
        ]);
    }
    t.write(out)?;

    let r = &s.retry;
    writeln!(
        out,
        "\nRetry: {} soft-bounced, {} delivered later ({}), {} escalated to suppression.",
        count(r.soft_bounced, "address"),
        r.recovered,
        pct(r.success_rate),
        r.escalated
    )?;
    let tb = &s.time_to_bounce;
    writeln!(
        out,
        "\nTime to bounce ({} tied to a send): {} immediate (< 1 h), {} delayed",
        count(tb.linked, "bounce"),
        tb.immediate,
        tb.delayed
    )?;
    if !tb.buckets.is_empty() {
        let mut t = Table::new(&["AFTER", ">BOUNCES"]);
        for (b, n) in &tb.buckets {
            t.row(vec![b.to_string(), n.to_string()]);
        }
        t.write(out)?;
    }

    let skip = s.weekly.len().saturating_sub(weeks);
    let shown = &s.weekly[skip..];
    write!(out, "\nWeekly trend")?;
    if skip > 0 {
        write!(
            out,
            " (the latest {} of {}; --weeks N for more)",
            count(shown.len() as i64, "week"),
            s.weekly.len()
        )?;
    }
    writeln!(out, "; counts by event week, rates of the sends of the week")?;
    let mut t = rates_table("WEEK");
    for w in shown {
        t.row(rates_row(&w.week, &w.rates));
    }
    t.write(out)?;
    if s.undated > 0 {
        writeln!(
            out,
            "{} of unknown time (no date could be read) in no week.",
            count(s.undated, "event")
        )?;
    }
    Ok(())
}
