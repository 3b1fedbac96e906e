//! Integration tests: one binary, a module per area.

mod cli;
mod corpus;
mod dovecot;
mod gateways;
mod hostile;
mod imap;
mod ledger;
mod ops_report;
mod samples;
mod util;
