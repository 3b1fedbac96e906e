//! Integration tests: one binary, a module per area.

mod cli;
#[path = "support/dns_server.rs"]
mod dns_server;
mod docs;
mod dovecot;
mod hostile;
mod imap;
mod ledger;
mod list;
mod logs;
mod mailboxes;
mod oauth2;
mod ops;
mod ops_report;
mod pop3;
mod preflight;
mod samples;
mod serve;
mod util;
mod watch;
