//! Integration tests: one binary, a module per area.

mod cli;
mod corpus;
mod hostile;
mod samples;
mod util;
