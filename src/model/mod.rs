//! The shared vocabulary of every stage, and nothing else: the leaf of the
//! crate's layers (it imports nothing of the crate).
//!
//! - [`Record`] and its enums: what `rebound` outputs and records;
//! - [`Row`]: one recipient as a format detector read it;
//! - [`Reason`] and its [`Meaning`]: the fine reasons and, per reason, the
//!   class code, hard/soft category and recommended action of the policy
//!   (`docs/policy.md`).
//!
//! `parse` reads messages, `detect` turns them into rows, `classify` gives
//! rows a reason and `pipeline` runs the three; all of them speak these
//! types.

mod reason;
mod record;
mod row;

pub use reason::{Meaning, Reason, class_name};
pub use record::{Action, Category, EventType, Record};
pub use row::Row;
