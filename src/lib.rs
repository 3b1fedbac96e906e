//! `rebound` reads bounce mail and keeps the truth about which addresses can
//! still be mailed.
//!
//! The pipeline, one module per stage:
//! - [`input`]: files, directories, Maildirs, mbox archives and stdin, read
//!   message by message;
//! - [`parse`]: MIME, RFC 3464/6533 DSN, RFC 5965 ARF, RFC 3834 auto-replies
//!   and the returned original message;
//! - [`detect`]: one detector per MTA family behind one trait and registry;
//! - [`classify`]: rules as data that turn a parsed row into a class, reason
//!   and recommended action, naming the rule that decided;
//! - [`ledger`]: the SQLite ledger of events and address states;
//! - [`sweep`]: unattended IMAP mailbox sweeps;
//! - [`notify`]: posting new events to an HTTP endpoint;
//! - [`report`]: the HTML report of the ledger's statistics.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod classify;
pub mod detect;
pub mod error;
pub mod input;
pub mod ledger;
pub mod model;
pub mod notify;
pub mod parse;
pub mod report;
pub mod sweep;
pub mod time;

pub use error::{InputError, ParseError};
pub use model::{Action, Category, EventType, Record};
pub use parse::{ParseConfig, Parser, Report};
