//! The `rebound` binary: parses arguments, runs the command, maps the
//! result to an exit code. All work is in the library and `cli`.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
