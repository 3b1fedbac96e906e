//! Integration tests: one binary, a module per area.

mod cli;
mod corpus;
mod ledger;
mod samples;
mod util;
