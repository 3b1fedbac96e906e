//! `rebound forget ADDRESS... --note TEXT`: erasure on request. Each
//! address and everything that names it leave the ledger; only a keyed
//! hash and its suppression stay, so the address is still refused if it
//! comes back (`rebound::ledger::forget`, `docs/list.md`). The erasure is
//! a `forget` audit event with the note and no address.

use std::process::ExitCode;

use clap::Args;

use super::{Exit, LedgerArgs};

/// Arguments of `rebound forget`.
#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The addresses.
    #[arg(required = true)]
    pub addresses: Vec<String>,
    /// Why (kept in the audit event; must not name the addresses).
    #[arg(long, required = true)]
    pub note: String,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// Runs `rebound forget`.
pub fn run(a: ForgetArgs) -> anyhow::Result<ExitCode> {
    if a.note.trim().is_empty() {
        return Err(
            Exit { code: 2, message: "--note must say why".into() }.into()
        );
    }
    let mut ledger = a.ledger.open()?;
    let list: Vec<&str> = a.addresses.iter().map(String::as_str).collect();
    let s = ledger.forget(&list, a.note.trim())?;
    eprintln!(
        "rebound: {} addresses forgotten: {} events and {} other rows deleted, {} mentions redacted",
        s.addresses, s.events, s.rows, s.redacted
    );
    if !s.wal_truncated {
        eprintln!(
            "rebound: another process is reading the ledger: old copies of the erased pages stay in {}-wal until its next checkpoint",
            ledger.path().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
