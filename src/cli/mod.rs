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
mod text;

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
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|e| {
                    e.kind() == std::io::ErrorKind::BrokenPipe
                })
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("rebound: {err:#}");
            ExitCode::from(cmd::exit_code_of(&err))
        }
    }
}
