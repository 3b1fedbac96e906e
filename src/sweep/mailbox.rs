//! An IMAP account's sweep: its two sessions, its ledger, the server's
//! capabilities and target folders ([`Sweeper::open`]); and the sweep of
//! one mailbox: select it, find the messages to handle (those past the
//! checkpoint, and — when catching up after a start or a reconnection —
//! those recorded before but not yet moved or flagged, less the ordinary
//! mail a shared inbox keeps), then run the fetch, parse, commit and move
//! stages over them, joined by channels.

use std::net::TcpStream;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{channel, sync_channel};

use foldhash::{HashMap, HashMapExt};

use super::commit::Recorder;
use super::config::{AccountSettings, After, NonBounces};
use super::connect::{Connector, Session, with_login};
use super::error::{SweepError, imap_err, select_err};
use super::fetch::fetch_stage;
use super::folders::{self, Folders};
use super::mover::{Mover, move_stage};
use super::parse::parse_stage;
use super::{Observer, Options, SweepTotals, open_ledger};
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
    /// Searches, folders, moves and IDLE.
    pub(crate) session: Session,
    /// A handle on `session`'s connection, to cut it from another thread.
    pub(crate) interrupt: TcpStream,
    /// Fetches (none in a dry run: `session` fetches).
    pub(crate) reader: Option<Session>,
    pub(crate) ledger: Option<Ledger>,
    pub(crate) has_move: bool,
    pub(crate) has_uidplus: bool,
    pub(crate) has_idle: bool,
    /// The target folders as the server names them.
    pub(crate) folders: Folders,
    /// When set, a mailbox's sweep stops after the batch in hand (a
    /// watcher's shutdown).
    pub(crate) stop: Option<&'a AtomicBool>,
    /// A dry run records nothing: the highest UID it saw per mailbox, so
    /// that a watcher shows each message once.
    dry_seen: HashMap<String, u32>,
}

impl<'a> Sweeper<'a> {
    /// Opens the ledger, logs in twice (at once) to the connector's
    /// account, reads the capabilities and resolves and creates the
    /// target folders.
    pub(crate) fn open(
        connector: &Connector<'a>,
        opts: &'a Options,
        parser: &'a Parser,
        observer: &'a mut dyn Observer,
    ) -> Result<Self, SweepError> {
        let account = connector.account();
        let ledger = open_ledger(opts)?;
        // Fetches run on a second session, so that moves on the first one
        // overlap with them; a dry run moves nothing and needs only one.
        // Both log in at the same time.
        let ((mut session, interrupt), reader) =
            with_login(&account.secret, |credential| {
                std::thread::scope(|scope| {
                    let reader = (!opts.dry_run)
                        .then(|| scope.spawn(|| connector.open(credential)));
                    let session = connector.open_interruptible(credential);
                    let reader = reader.map(|r| {
                        r.join()
                            .unwrap_or_else(|p| std::panic::resume_unwind(p))
                    });
                    Ok((session?, reader.transpose()?))
                })
            })?;
        let caps = session
            .capabilities()
            .map_err(imap_err("asking for capabilities"))?;
        let (has_move, has_uidplus, has_idle) = (
            caps.has_str("MOVE"),
            caps.has_str("UIDPLUS"),
            caps.has_str("IDLE"),
        );
        drop(caps);
        let folders = folders::resolve(&mut session, account)?;
        for m in &account.mailboxes {
            if [&folders.processed, &folders.quarantine]
                .iter()
                .any(|f| f.eq_ignore_ascii_case(m))
            {
                return Err(SweepError::Config(format!(
                    "mailbox {m:?} is also the processed or quarantine folder"
                )));
            }
        }
        let mut s = Sweeper {
            account,
            opts,
            parser,
            observer,
            session,
            interrupt,
            reader,
            ledger,
            has_move,
            has_uidplus,
            has_idle,
            folders,
            stop: None,
            dry_seen: HashMap::new(),
        };
        if !opts.dry_run {
            if account.after == After::Move {
                s.ensure_folder(&s.folders.processed.clone())?;
            }
            if account.non_bounces == NonBounces::Quarantine {
                s.ensure_folder(&s.folders.quarantine.clone())?;
            }
        }
        Ok(s)
    }

    /// Logs both sessions out (errors do not matter any more).
    pub(crate) fn logout(mut self) {
        if let Some(r) = &mut self.reader {
            let _ = r.logout();
        }
        let _ = self.session.logout();
    }

    /// Creates `folder` unless it exists.
    pub(crate) fn ensure_folder(
        &mut self,
        folder: &str,
    ) -> Result<(), SweepError> {
        let exists = |s: &mut Session| -> Result<bool, SweepError> {
            Ok(!s
                .list(None, Some(&quote(folder)))
                .map_err(imap_err(format!("looking for folder {folder}")))?
                .is_empty())
        };
        if exists(&mut self.session)? {
            return Ok(());
        }
        match self.session.create(folder) {
            Ok(()) => Ok(()),
            // Another session (a watcher's other mailbox) made it first.
            Err(_) if exists(&mut self.session)? => Ok(()),
            Err(e) => Err(imap_err(format!("creating folder {folder}"))(e)),
        }
    }

    /// Drops from `pending` (sorted) the ordinary messages a shared inbox
    /// keeps, and forgets those of them no longer in the mailbox (only a
    /// search of every message below the checkpoint shows that).
    fn skip_left(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        pending: &mut Vec<u32>,
    ) -> Result<(), SweepError> {
        let Some(ledger) = &mut self.ledger else { return Ok(()) };
        let account = &self.account.name;
        let left = ledger.left_uids(account, mailbox, uidvalidity)?;
        if left.is_empty() {
            return Ok(());
        }
        let gone: Vec<u32> = left
            .iter()
            .copied()
            .filter(|u| pending.binary_search(u).is_err())
            .collect();
        pending.retain(|u| left.binary_search(u).is_err());
        if self.account.after != After::Flag && !self.opts.dry_run {
            ledger.forget_left(account, mailbox, uidvalidity, &gone)?;
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

    /// Sweeps one mailbox, handling at most `budget` messages. With
    /// `catch_up`, also the messages recorded before but not yet moved or
    /// flagged (a sweep stopped between commit and move); a watcher asks
    /// for them only when it (re)connects, since its own moves complete.
    pub(crate) fn mailbox(
        &mut self,
        mailbox: &str,
        budget: Option<usize>,
        catch_up: bool,
    ) -> Result<SweepTotals, SweepError> {
        let account = &self.account.name;
        let selected =
            self.session.select(mailbox).map_err(select_err(mailbox))?;
        let uidvalidity = selected.uid_validity.unwrap_or(0);
        let checkpoint = match &self.ledger {
            Some(l) => l.checkpoint(account, mailbox)?,
            None => None,
        };
        // A changed UIDVALIDITY voids the checkpoint: rescan everything.
        let last = checkpoint
            .filter(|c| c.uidvalidity == uidvalidity)
            .map_or(0, |c| c.last_uid);
        let last = last.max(self.dry_seen.get(mailbox).copied().unwrap_or(0));
        // `N:*` always matches the last message, even below N.
        let mut uids: Vec<u32> = self
            .search(&format!("UID {}:*", last as u64 + 1))?
            .into_iter()
            .filter(|&u| u > last)
            .collect();
        if last > 0 && catch_up && self.account.after != After::Keep {
            // Recorded before, but not yet moved or flagged (a sweep
            // stopped between commit and move): fetch them again.
            let pending = match self.account.after {
                After::Flag => {
                    format!("UID 1:{last} {}", lacking(&self.account.flag))
                }
                _ => format!("UID 1:{last}"),
            };
            let mut pending = self.search(&pending)?;
            pending.sort_unstable();
            self.skip_left(mailbox, uidvalidity, &mut pending)?;
            uids.extend(pending);
        }
        uids.sort_unstable();
        uids.dedup();
        if let Some(b) = budget {
            uids.truncate(b);
        }
        if let (true, Some(&top)) = (self.opts.dry_run, uids.last()) {
            self.dry_seen.insert(mailbox.to_string(), top);
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
            folders,
            stop,
            ..
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
                    folders,
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
                stop: *stop,
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
