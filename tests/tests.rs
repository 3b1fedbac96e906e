//! Integration tests: one binary, a module per area.

mod gateways;
mod samples;
mod util;
