//! Integration tests: one binary, a module per area.

mod dovecot;
mod imap;
mod samples;
mod util;
