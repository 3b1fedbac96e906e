//! Sweeping one mailbox: select it, find the messages to handle (those
//! past the checkpoint, and those recorded before but not yet moved or
//! flagged), then run the fetch, parse, commit and move stages over them,
//! joined by channels.

use std::sync::mpsc::{channel, sync_channel};

use super::commit::Recorder;
use super::config::{AccountSettings, After};
use super::connect::Session;
use super::error::{SweepError, imap_err};
use super::fetch::fetch_stage;
use super::mover::{Mover, move_stage};
use super::parse::parse_stage;
use super::{Observer, Options, SweepTotals};
use crate::ledger::Ledger;
use crate::pipeline::Parser;

/// Batches that may wait between two pipeline stages.
const QUEUE: usize = 1;

/// One account's sweep in progress: its sessions, its ledger and the
/// server's capabilities.
pub(crate) struct Sweeper<'a> {
    pub(crate) account: &'a AccountSettings,
    pub(crate) opts: &'a Options,
    pub(crate) parser: &'a Parser,
    pub(crate) observer: &'a mut dyn Observer,
    /// Searches, folders and moves.
    pub(crate) session: Session,
    /// Fetches (none in a dry run: `session` fetches).
    pub(crate) reader: Option<Session>,
    pub(crate) ledger: Option<Ledger>,
    pub(crate) has_move: bool,
    pub(crate) has_uidplus: bool,
}

impl Sweeper<'_> {
    /// Creates `folder` unless it exists.
    pub(crate) fn ensure_folder(
        &mut self,
        folder: &str,
    ) -> Result<(), SweepError> {
        let found = self
            .session
            .list(None, Some(&quote(folder)))
            .map_err(imap_err(format!("looking for folder {folder}")))?;
        if found.is_empty() {
            self.session
                .create(folder)
                .map_err(imap_err(format!("creating folder {folder}")))?;
        }
        Ok(())
    }

    /// The UIDs matching a SEARCH `query`.
    fn search(&mut self, query: &str) -> Result<Vec<u32>, SweepError> {
        Ok(self
            .session
            .uid_search(query)
            .map_err(imap_err(format!("searching ({query})")))?
            .into_iter()
            .collect())
    }

    /// Sweeps one mailbox, handling at most `budget` messages.
    pub(crate) fn mailbox(
        &mut self,
        mailbox: &str,
        budget: Option<usize>,
    ) -> Result<SweepTotals, SweepError> {
        let account = &self.account.name;
        let selected = self
            .session
            .select(mailbox)
            .map_err(imap_err(format!("selecting {mailbox}")))?;
        let uidvalidity = selected.uid_validity.unwrap_or(0);
        let checkpoint = match &self.ledger {
            Some(l) => l.checkpoint(account, mailbox)?,
            None => None,
        };
        // A changed UIDVALIDITY voids the checkpoint: rescan everything.
        let last = checkpoint
            .filter(|c| c.uidvalidity == uidvalidity)
            .map_or(0, |c| c.last_uid);
        // `N:*` always matches the last message, even below N.
        let mut uids: Vec<u32> = self
            .search(&format!("UID {}:*", last as u64 + 1))?
            .into_iter()
            .filter(|&u| u > last)
            .collect();
        if last > 0 {
            // Recorded before, but not yet moved or flagged (a sweep
            // stopped between commit and move): fetch them again.
            let pending = match self.account.after {
                After::Flag => {
                    format!("UID 1:{last} {}", lacking(&self.account.flag))
                }
                After::Move | After::Delete => format!("UID 1:{last}"),
            };
            uids.extend(self.search(&pending)?);
        }
        uids.sort_unstable();
        uids.dedup();
        if let Some(b) = budget {
            uids.truncate(b);
        }
        self.observer.mailbox(account, mailbox, uids.len());
        if uids.is_empty() {
            return Ok(SweepTotals::default());
        }
        let Sweeper {
            account,
            opts,
            parser,
            observer,
            session,
            reader,
            ledger,
            has_move,
            has_uidplus,
        } = self;
        // The fetch session only reads; moves, flags and expunges happen
        // on `session`, and both must see the same UIDs.
        let (fetcher, mover) = match reader {
            Some(r) => {
                let examined = r
                    .examine(mailbox)
                    .map_err(imap_err(format!("examining {mailbox}")))?;
                if examined.uid_validity.unwrap_or(0) != uidvalidity {
                    return Err(SweepError::UidValidityChanged {
                        mailbox: mailbox.to_string(),
                    });
                }
                let mover = Mover {
                    session,
                    account,
                    mailbox,
                    has_move: *has_move,
                    has_uidplus: *has_uidplus,
                };
                (r, Some(mover))
            }
            None => (session, None),
        };
        let (cap, batch_size) = (account.max_message_size, opts.batch_size);
        let observer = &mut **observer;
        let ledger = ledger.as_mut().filter(|_| !opts.dry_run);
        std::thread::scope(|scope| {
            let (fetched_tx, fetched_rx) = sync_channel(QUEUE);
            let (parsed_tx, parsed_rx) = sync_channel(QUEUE);
            let uids = &uids;
            let fetch = scope.spawn(move || {
                fetch_stage(
                    fetcher, mailbox, uids, cap, batch_size, fetched_tx,
                )
            });
            let parser = &**parser;
            scope.spawn(move || parse_stage(parser, fetched_rx, parsed_tx));
            // UIDs only: this queue needs no bound beyond the mailbox's.
            let (moves_tx, moves_rx) = channel();
            let moving =
                mover.map(|m| scope.spawn(|| move_stage(m, moves_rx)));
            let mut recorder = Recorder {
                account,
                mailbox,
                uidvalidity,
                last,
                observer,
                ledger,
                moves: moving.is_some().then_some(moves_tx),
            };
            // Returning drops the receiver, which stops the fetch and
            // parse stages, and the sender, which lets the move stage
            // finish what was committed.
            let recorded = recorder.run(parsed_rx);
            drop(recorder);
            let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
                h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
            };
            let moved = moving.map_or(Ok(()), join);
            let fetched = join(fetch);
            moved?;
            let summary = recorded?;
            fetched?;
            Ok(summary)
        })
    }
}

/// Quotes an IMAP string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The SEARCH criterion for messages lacking `flag`.
fn lacking(flag: &str) -> String {
    match flag.to_ascii_lowercase().as_str() {
        "\\seen" => "UNSEEN".into(),
        "\\flagged" => "UNFLAGGED".into(),
        "\\answered" => "UNANSWERED".into(),
        "\\draft" => "UNDRAFT".into(),
        _ => format!("UNKEYWORD {flag}"),
    }
}

/// Drops the untagged responses (EXPUNGE, EXISTS, ...) a session queued,
/// which would otherwise pile up over a long sweep.
pub(crate) fn drain(session: &mut Session) {
    while session.unsolicited_responses.try_recv().is_ok() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unflagged_criteria() {
        assert_eq!(lacking("\\Seen"), "UNSEEN");
        assert_eq!(lacking("$Rebound"), "UNKEYWORD $Rebound");
    }
}
