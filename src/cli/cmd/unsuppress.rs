//! `rebound unsuppress ADDRESS --note TEXT`: lift a suppression. The lift
//! is an `unsuppress` event in the address's history (with the note), so
//! the audit trail stays whole; a later bounce can suppress it again.
//! Exit 1 when the address is not suppressed (nothing is recorded).

use std::process::ExitCode;

use clap::Args;

use super::{Exit, LedgerArgs};

/// Arguments of `rebound unsuppress`.
#[derive(Debug, Args)]
pub struct UnsuppressArgs {
    /// The address.
    pub address: String,
    /// Why (kept in the audit event).
    #[arg(long, required = true)]
    pub note: String,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// Runs `rebound unsuppress`.
pub fn run(a: UnsuppressArgs) -> anyhow::Result<ExitCode> {
    if a.note.trim().is_empty() {
        return Err(
            Exit { code: 2, message: "--note must say why".into() }.into()
        );
    }
    let mut ledger = a.ledger.open()?;
    if ledger.unsuppress(&a.address, a.note.trim())? {
        println!("{}: unsuppressed (active)", a.address.trim().to_lowercase());
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Exit {
            code: 1,
            message: format!(
                "{}: not suppressed; nothing recorded",
                a.address.trim()
            ),
        }
        .into())
    }
}
