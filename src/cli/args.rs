//! Arguments: the top-level parser and the subcommand list. Each
//! subcommand's own arguments live beside its code in `cmd/`.

use clap::{Parser, Subcommand};

use super::cmd;

/// rebound: reads bounce mail and keeps the truth about which addresses
/// can still be mailed.
#[derive(Debug, Parser)]
#[command(name = "rebound", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse saved bounce mail (.eml files, directories, Maildirs, mbox
    /// archives, `-` for stdin) and print one record per recipient.
    Parse(cmd::parse::ParseArgs),
    /// Sweep IMAP bounce mailboxes into the ledger (for cron): fetch new
    /// mail, record it, move it; quarantine what is not a bounce.
    Sweep(Box<cmd::sweep::SweepArgs>),
    /// Watch the mailboxes and sweep each new message as it arrives (IMAP
    /// IDLE; polling without it and for POP3); the flags of `sweep`.
    Watch(Box<cmd::watch::WatchArgs>),
    /// Parse bounce mail (or read webhook events) and record the results
    /// in the ledger.
    Ingest(cmd::ingest::IngestArgs),
    /// Record what was sent (CSV: message_id,recipient,campaign_id,sent_at).
    ImportSends(cmd::import_sends::ImportSendsArgs),
    /// Record a suppression list a sending platform (or `rebound export`)
    /// wrote: ses, mailgun, sendgrid, postmark, sparkpost, csv, json.
    ImportSuppressions(cmd::import_suppressions::ImportSuppressionsArgs),
    /// Write the suppression list (own CSV/JSON or a sending platform's
    /// import layout).
    Export(cmd::export::ExportArgs),
    /// Show an address's state, why it is suppressed, and its history.
    Status(cmd::status::StatusArgs),
    /// Suppress an address, or every address at a domain (`@DOMAIN`), by
    /// hand, keeping an audit event.
    Suppress(cmd::suppress::SuppressArgs),
    /// Lift an address's (or a domain's) suppression, keeping an audit
    /// event.
    Unsuppress(cmd::unsuppress::UnsuppressArgs),
    /// Erase addresses on request: every trace goes, a keyed hash keeps
    /// them refused.
    Forget(cmd::forget::ForgetArgs),
    /// Delete old events, keeping every address's state and counters.
    Purge(cmd::purge::PurgeArgs),
    /// Bounce, complaint and retry statistics rated against health
    /// thresholds.
    Stats(cmd::stats::StatsArgs),
    /// Write the statistics as one self-contained HTML page with charts.
    Report(cmd::report::ReportArgs),
    /// Explain a pasted SMTP response or a bounce message: class, reason,
    /// action, the rule that decided, root cause and next steps.
    Explain(cmd::explain::ExplainArgs),
    /// Check a CSV list before sending: write the clean rows and the
    /// rejected ones (suppressed, invalid, role, duplicate, typo, no MX).
    Scrub(Box<cmd::scrub::ScrubArgs>),
    /// Check the sender's own DNS before a send: SPF, DKIM, DMARC and
    /// alignment, reverse DNS, block lists, Gmail/Yahoo bulk-sender rules.
    Preflight(cmd::preflight::PreflightArgs),
    /// Run the service: sending platforms' webhooks in, the suppression
    /// API and Prometheus metrics out (until SIGTERM).
    Serve(Box<cmd::serve::ServeArgs>),
}
