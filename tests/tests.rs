//! Integration tests: one binary, a module per area.

mod cli;
mod corpus;
mod gateways;
mod samples;
mod util;
