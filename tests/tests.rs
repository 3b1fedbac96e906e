//! Integration tests: one binary, a module per area.

mod corpus;
mod samples;
mod util;
