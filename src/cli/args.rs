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
}
