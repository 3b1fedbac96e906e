//! The `rebound` binary: parses arguments, runs the command, maps the
//! result to an exit code. All work is in the library and `cli`.

mod cli;

/// mimalloc: measured faster than the system allocator for rebound's many
/// small allocations (parse bench: rebound parse+classify +5%).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
