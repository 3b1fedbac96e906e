//! Integration tests: one binary, a module per area.

mod corpus;
mod hostile;
mod samples;
mod util;
