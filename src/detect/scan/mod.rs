//! Text scanning shared by the detectors of plain-text reports (classic
//! MTAs such as qmail, Exim and Sendmail; large providers; gateways,
//! carriers and regional providers), one job per file:
//! - [`search`]: marker lines and phrase tables, compared
//!   case-insensitively, and which text of a message to search;
//! - [`section`]: the section between a format's markers, split into
//!   per-recipient blocks;
//! - [`smtp`]: multi-line SMTP replies, the command a text blames, session
//!   transcripts, `host H [ip]: reply` lines;
//! - [`rows`]: a block turned into a row, and text rows merged with the
//!   rows of the report's delivery-status part;
//! - [`sender`]: who sent the report and how its headers label it;
//! - [`evidence`]: the layers of evidence that a message is a report at
//!   all (sender, subject, headers, text, returned original).

pub(crate) mod evidence;
pub(crate) mod rows;
pub(crate) mod search;
pub(crate) mod section;
pub(crate) mod sender;
pub(crate) mod smtp;

pub(crate) use rows::*;
pub(crate) use search::*;
pub(crate) use section::*;
pub(crate) use sender::*;
pub(crate) use smtp::*;
