//! Integration tests: one binary, a module per area.

mod ledger;
mod samples;
mod util;
