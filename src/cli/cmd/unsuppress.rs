//! `rebound unsuppress ADDRESS|@DOMAIN --note TEXT`: lift a suppression.
//! The lift is an `unsuppress` event in the address's history (with the
//! note), so the audit trail stays whole; a later bounce can suppress it
//! again. `@example.com` lifts the domain entry (an `unsuppress_domain`
//! audit event). Exit 1 when there is nothing to lift (nothing is
//! recorded).

use std::process::ExitCode;

use clap::Args;

use rebound::ledger::domains::normalise_domain;

use super::{Exit, LedgerArgs};

/// Arguments of `rebound unsuppress`.
#[derive(Debug, Args)]
pub struct UnsuppressArgs {
    /// The address, or `@DOMAIN` for a domain entry.
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
    let target = a.address.trim();
    let lifted = match target.strip_prefix('@') {
        Some(_) => {
            let domain = normalise_domain(target).ok_or_else(|| Exit {
                code: 2,
                message: format!("{target:?} is not @ and a domain"),
            })?;
            ledger.unsuppress_domain(&domain, a.note.trim())?
        }
        None => ledger.unsuppress(target, a.note.trim())?,
    };
    if lifted {
        println!("{}: unsuppressed (active)", target.to_lowercase());
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
