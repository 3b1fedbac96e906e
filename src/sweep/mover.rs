//! The move stage of the sweep pipeline, on its own thread and the main
//! session: once messages are committed to the ledger, moves, flags or
//! deletes the recorded ones as configured, moves the others into
//! quarantine (or flags them, in a shared inbox), gathering what was
//! committed meanwhile into few commands.

use std::sync::mpsc::Receiver;

use super::MOVE_MIN;
use super::commit::Committed;
use super::config::{AccountSettings, After};
use super::connect::Session;
use super::error::{SweepError, imap_err};
use super::folders::Folders;
use super::mailbox::drain;
use super::uidset::{MAX_SET_LEN, uid_sets};

/// Move stage: disposes of committed messages, each time of all that
/// were committed since its last command but at least [`MOVE_MIN`] (or
/// the rest, when the recorder has gone), until the recorder has gone.
pub(crate) fn move_stage(
    mut mover: Mover<'_>,
    input: Receiver<Committed>,
) -> Result<(), SweepError> {
    while let Ok(mut pending) = input.recv() {
        while pending.len() < MOVE_MIN {
            match input.recv() {
                Ok(more) => pending.extend(more),
                Err(_) => break,
            }
        }
        for more in input.try_iter() {
            pending.extend(more);
        }
        mover.flush(&pending)?;
    }
    Ok(())
}

/// Moves, flags or deletes committed messages on the main session.
pub(crate) struct Mover<'s> {
    pub(crate) session: &'s mut Session,
    pub(crate) account: &'s AccountSettings,
    pub(crate) folders: &'s Folders,
    pub(crate) mailbox: &'s str,
    pub(crate) has_move: bool,
    pub(crate) has_uidplus: bool,
}

impl Mover<'_> {
    /// Disposes of committed messages: recorded ones as configured, the
    /// others into quarantine; in commands of at most [`MAX_SET_LEN`]
    /// long UID sets.
    fn flush(&mut self, c: &Committed) -> Result<(), SweepError> {
        let account = self.account;
        for set in uid_sets(&c.done, MAX_SET_LEN) {
            self.dispose(&set)?;
        }
        for set in uid_sets(&c.quarantined, MAX_SET_LEN) {
            self.move_to(&set, &self.folders.quarantine)?;
        }
        for set in uid_sets(&c.flagged, MAX_SET_LEN) {
            self.store(&set, &account.non_bounce_flag).map_err(imap_err(
                format!("flagging ordinary mail in {}", self.mailbox),
            ))?;
        }
        drain(self.session);
        Ok(())
    }

    /// Moves, flags or deletes recorded messages (on Gmail, deleting is
    /// a move to the trash), or keeps them.
    fn dispose(&mut self, set: &str) -> Result<(), SweepError> {
        let account = self.account;
        let folders = self.folders;
        match (account.after, &folders.trash) {
            (After::Move, _) => self.move_to(set, &folders.processed),
            (After::Flag, _) => self.store(set, &account.flag).map_err(
                imap_err(format!("flagging messages in {}", self.mailbox)),
            ),
            (After::Delete, Some(trash)) => self.move_to(set, trash),
            (After::Delete, None) => self.expunge(set),
            (After::Keep, _) => Ok(()),
        }
    }

    /// Adds a flag. Not `Session::uid_store`: imap 2.4 fails to parse the
    /// untagged FLAGS / PERMANENTFLAGS a server sends when a keyword is
    /// first used; only the tagged status matters here.
    fn store(&mut self, set: &str, flag: &str) -> imap::error::Result<()> {
        self.session.run_command_and_check_ok(format!(
            "UID STORE {set} +FLAGS.SILENT ({flag})"
        ))
    }

    /// UID MOVE (RFC 6851), or COPY + \Deleted + expunge without it.
    fn move_to(&mut self, set: &str, folder: &str) -> Result<(), SweepError> {
        let context =
            format!("moving messages from {} to {folder}", self.mailbox);
        if self.has_move {
            return self
                .session
                .uid_mv(set, folder)
                .map_err(imap_err(context));
        }
        self.session.uid_copy(set, folder).map_err(imap_err(context))?;
        self.expunge(set)
    }

    /// Marks messages \Deleted and expunges them: only them with UIDPLUS
    /// (UID EXPUNGE, RFC 4315), else with a plain EXPUNGE.
    fn expunge(&mut self, set: &str) -> Result<(), SweepError> {
        let context = format!("deleting messages in {}", self.mailbox);
        self.store(set, "\\Deleted").map_err(imap_err(context.clone()))?;
        if self.has_uidplus {
            self.session.uid_expunge(set).map(drop)
        } else {
            self.session.expunge().map(drop)
        }
        .map_err(imap_err(context))
    }
}
