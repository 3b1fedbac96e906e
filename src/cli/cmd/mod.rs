//! Subcommands, one file each, and the dispatcher.

pub mod parse;
pub mod sweep;

use std::process::ExitCode;

use super::args::{Cli, Command};

/// An error that carries its own exit code (3 connection, 4 locked, ...).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    /// The process exit code.
    pub code: u8,
    /// What went wrong.
    pub message: String,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Parse(a) => parse::run(a),
        Command::Sweep(a) => sweep::run(*a),
    }
}

/// The exit code for an error: the code of an [`Exit`] in its chain, else 2.
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|c| c.downcast_ref::<Exit>())
        .map(|e| e.code)
        .unwrap_or(2)
}
