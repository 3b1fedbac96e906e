//! Command-line front end (binary only; keeps clap and anyhow out of the
//! library). One file per subcommand under `cmd/`.
//!
//! Exit codes: 0 all done; 1 done, but some inputs could not be parsed
//! (or, for `sweep`, were quarantined; for `preflight`, a check failed);
//! 2 usage, configuration or I/O error; 3 connection/TLS/authentication
//! failure; 4 another sweep holds the lock.

mod args;
mod cmd;
mod notify;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

use args::Cli;

/// Runs the program.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if err.chain().any(is_broken_pipe) {
                return ExitCode::SUCCESS;
            }
            eprintln!("rebound: {err:#}");
            ExitCode::from(cmd::exit_code_of(&err))
        }
    }
}

/// True when `e` is a write to a closed pipe (`rebound parse ... | head`):
/// the reader has all it wanted, so the command ends quietly. The JSON and
/// CSV writers wrap the I/O error without exposing it as a source.
fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    if let Some(e) = e.downcast_ref::<std::io::Error>() {
        return e.kind() == BrokenPipe;
    }
    if let Some(e) = e.downcast_ref::<serde_json::Error>() {
        return e.io_error_kind() == Some(BrokenPipe);
    }
    e.downcast_ref::<csv::Error>().is_some_and(|e| {
        matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe)
    })
}
