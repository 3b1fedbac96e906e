//! `rebound` reads bounce mail and keeps the truth about which addresses can
//! still be mailed.
//!
//! The layers, each importing only those before it:
//! - [`model`]: the types every stage shares (records, detector rows,
//!   reasons and their meaning); imports nothing of the crate;
//! - [`input`]: files, directories, Maildirs, mbox archives and stdin, read
//!   message by message;
//! - [`parse`]: MIME, RFC 3464/6533 DSN fields and the returned original
//!   message;
//! - [`detect`]: one detector per MTA family behind one trait and registry;
//! - [`classify`]: rules as data that turn a parsed row into a class, reason
//!   and recommended action, naming the rule that decided;
//! - [`pipeline`]: runs parse → detect → classify into records;
//! - [`ledger`]: the SQLite ledger of events and address states;
//! - [`sweep`]: unattended IMAP mailbox sweeps;
//! - [`logs`]: MTA logs (Postfix, Exim, PowerMTA, KumoMTA, Sendmail) read
//!   into the ledger, followed across rotation;
//! - [`notify`]: posting new events to an HTTP endpoint;
//! - [`report`]: the HTML report of the ledger's statistics;
//! - [`scrub`]: the pre-send list check (syntax, duplicates, suppressions,
//!   role accounts, typo'd domains, MX);
//! - [`preflight`]: the pre-send check of the sender's own DNS (SPF, DKIM,
//!   DMARC, reverse DNS, block lists), on the [`dns`] client it shares with
//!   `scrub`;
//! - [`serve`]: the long-running service (webhooks in, the suppression API
//!   and metrics out).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod classify;
pub mod detect;
pub mod dns;
pub mod error;
pub mod input;
pub mod ledger;
pub mod logs;
pub mod model;
pub mod notify;
pub mod parse;
pub mod pipeline;
pub mod preflight;
pub mod report;
pub mod scrub;
pub mod serve;
pub mod sweep;
pub mod time;

pub use error::{InputError, ParseError, RulesError};
pub use model::{Action, Category, EventType, Record};
pub use pipeline::{ParseConfig, Parser, Report};
