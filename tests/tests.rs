//! Integration tests: one binary, a module per area.

mod cli;
mod docs;
mod dovecot;
mod hostile;
mod imap;
mod ledger;
mod ops;
mod ops_report;
mod samples;
mod util;
mod watch;
