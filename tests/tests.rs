//! Integration tests: one binary, a module per area.

mod cli;
mod docs;
mod dovecot;
mod hostile;
mod imap;
mod ledger;
mod mailboxes;
mod oauth2;
mod ops;
mod ops_report;
mod pop3;
mod samples;
mod util;
mod watch;
