//! `rebound status ADDRESS`: the address's state, why it is suppressed
//! (the event that did it), its counters and its full history in the order
//! things happened. `--format json` (`--json`) prints one JSON object;
//! `-o FILE` writes there. An argument that is
//! not in the ledger and is not an address is refused (exit 2).

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use rebound::ledger::history::{AddressReport, EventRow};
use rebound::time::format_rfc3339;

use super::{Exit, LedgerReadArgs};
use crate::cli::output::DocArgs;

/// Arguments of `rebound status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The address.
    pub address: String,
    #[command(flatten)]
    pub output: DocArgs,
    #[command(flatten)]
    pub ledger: LedgerReadArgs,
}

/// Runs `rebound status`.
pub fn run(a: StatusArgs) -> anyhow::Result<ExitCode> {
    let ledger = a.ledger.open()?;
    let r = ledger.status(&a.address)?;
    // Whatever the ledger recorded is shown; anything else must at least
    // be an address to be called mailable.
    if r.state.is_none()
        && let Err(e) = rebound::scrub::syntax::check(a.address.trim())
    {
        return Err(Exit {
            code: 2,
            message: format!("{:?} is not an email address ({e})", a.address),
        }
        .into());
    }
    let mut out = a.output.writer()?;
    if a.output.json() {
        serde_json::to_writer_pretty(&mut out, &r.to_json())?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &r)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn describe(e: &EventRow) -> String {
    let mut d = e.kind.clone();
    for v in [&e.status, &e.reply_code, &e.reason].into_iter().flatten() {
        d.push(' ');
        d.push_str(v);
    }
    if let Some(c) = e.class {
        d.push_str(&format!(" (class {c})"));
    }
    if let Some(x) = e.diagnostic.as_ref().or(e.note.as_ref()) {
        d.push_str(&format!(": {x:?}"));
    }
    if let Some(s) = &e.source {
        d.push_str(&format!(" [{s}]"));
    }
    d
}

fn write_text(out: &mut impl Write, r: &AddressReport) -> anyhow::Result<()> {
    let Some(s) = &r.state else {
        writeln!(out, "{}: not in the ledger (mailable)", r.address)?;
        return Ok(());
    };
    writeln!(out, "address: {}", r.address)?;
    match (s.reason, s.suppressed_at) {
        (Some(reason), Some(at)) => writeln!(
            out,
            "state: {} ({}) since {}",
            s.state.as_str(),
            reason.as_str(),
            format_rfc3339(at)
        )?,
        _ => writeln!(out, "state: {}", s.state.as_str())?,
    }
    if let Some(e) = r.suppressing_event() {
        writeln!(out, "why: {} at {}", describe(e), e.event_time)?;
    }
    let c = &s.counts;
    writeln!(
        out,
        "counts: hard {}, soft {} (streak {}), alert {}, delay {}, complaint {}, unsubscribe {}, auto-reply {}, delivered {}",
        c.hard,
        c.soft,
        s.soft_streak,
        c.alert,
        c.delay,
        c.complaint,
        c.unsubscribe,
        c.auto_reply,
        c.delivered
    )?;
    writeln!(out, "history ({} events, by event time):", r.history.len())?;
    for e in &r.history {
        let action = e.action.as_deref().unwrap_or("-");
        writeln!(out, "  {}  {action:<8}  {}", e.event_time, describe(e))?;
    }
    Ok(())
}
