//! What the sweeps remember of the mailboxes they read, written in the
//! transaction of the batch it belongs to: the IMAP checkpoint
//! (UIDVALIDITY and last UID), the ordinary messages a shared inbox keeps
//! (`left_messages`, by UIDVALIDITY and UID), and every message seen in a
//! POP3 maildrop (`pop3_messages`, by UIDL). Schema: migrations 1 and 5 of
//! `schema.sql`.

use foldhash::{HashMap, HashMapExt};
use rusqlite::{Transaction, params};

use super::{Checkpoint, IngestItem, IngestSummary, Ledger, LedgerError};
use crate::time;

/// What a swept batch leaves behind in the ledger, beside its events.
#[derive(Debug, Clone, Copy)]
pub enum Swept<'a> {
    /// An IMAP batch.
    Imap {
        /// The checkpoint after the batch.
        checkpoint: &'a Checkpoint,
        /// UIDs of the ordinary messages left in the mailbox.
        left: &'a [u32],
    },
    /// A POP3 batch.
    Pop3 {
        /// The account.
        account: &'a str,
        /// UIDLs of the messages recorded.
        recorded: &'a [String],
        /// UIDLs of the messages left on the server unrecorded.
        left: &'a [String],
    },
}

/// What the ledger knows of a POP3 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop3State {
    /// Its reports are in the ledger.
    Recorded,
    /// It is not a bounce (or was kept): left on the server.
    Left,
}

impl Pop3State {
    fn as_str(self) -> &'static str {
        match self {
            Pop3State::Recorded => "recorded",
            Pop3State::Left => "left",
        }
    }
}

/// Writes (or advances) an IMAP checkpoint.
pub(crate) fn write_checkpoint(
    tx: &Transaction<'_>,
    cp: &Checkpoint,
    now: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO checkpoints
           (account, mailbox, uidvalidity, last_uid, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account, mailbox) DO UPDATE SET
           uidvalidity = excluded.uidvalidity,
           last_uid = excluded.last_uid,
           updated_at = excluded.updated_at",
        params![cp.account, cp.mailbox, cp.uidvalidity, cp.last_uid, now],
    )?;
    Ok(())
}

impl Ledger {
    /// Records a swept batch's reports and what it leaves behind, in ONE
    /// transaction; returns the figures and the ids of the new events.
    pub fn ingest_swept(
        &mut self,
        items: &[IngestItem<'_>],
        swept: &Swept<'_>,
    ) -> Result<(IngestSummary, Vec<i64>), LedgerError> {
        let now = time::now();
        let (each, new) = self.ingest_with(items, now, |tx| match *swept {
            Swept::Imap { checkpoint: cp, left } => {
                write_checkpoint(tx, cp, now)?;
                // A renumbered mailbox voids what was left under the
                // old numbers.
                tx.execute(
                    "DELETE FROM left_messages WHERE account = ?1
                       AND mailbox = ?2 AND uidvalidity != ?3",
                    params![cp.account, cp.mailbox, cp.uidvalidity],
                )?;
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO left_messages
                       (account, mailbox, uidvalidity, uid, left_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for uid in left {
                    insert.execute(params![
                        cp.account,
                        cp.mailbox,
                        cp.uidvalidity,
                        uid,
                        now
                    ])?;
                }
                Ok(())
            }
            Swept::Pop3 { account, recorded, left } => {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO pop3_messages (account, uidl, state, seen_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (account, uidl) DO UPDATE SET
                       state = excluded.state, seen_at = excluded.seen_at",
                )?;
                for (uidls, state) in
                    [(recorded, Pop3State::Recorded), (left, Pop3State::Left)]
                {
                    for uidl in uidls {
                        insert.execute(params![
                            account,
                            uidl,
                            state.as_str(),
                            now
                        ])?;
                    }
                }
                Ok(())
            }
        })?;
        Ok((IngestSummary::total(each), new))
    }

    /// The UIDs of the ordinary messages left in an IMAP mailbox under
    /// this UIDVALIDITY, sorted.
    pub fn left_uids(
        &self,
        account: &str,
        mailbox: &str,
        uidvalidity: u32,
    ) -> Result<Vec<u32>, LedgerError> {
        let run = || -> rusqlite::Result<Vec<u32>> {
            self.conn()
                .prepare_cached(
                    "SELECT uid FROM left_messages WHERE account = ?1
                       AND mailbox = ?2 AND uidvalidity = ?3 ORDER BY uid",
                )?
                .query_map(params![account, mailbox, uidvalidity], |r| {
                    r.get(0)
                })?
                .collect()
        };
        run().map_err(|e| self.error(e))
    }

    /// Forgets left messages that are no longer in the mailbox.
    pub fn forget_left(
        &mut self,
        account: &str,
        mailbox: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<(), LedgerError> {
        if uids.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut delete = tx.prepare_cached(
                "DELETE FROM left_messages WHERE account = ?1
                   AND mailbox = ?2 AND uidvalidity = ?3 AND uid = ?4",
            )?;
            for uid in uids {
                delete.execute(params![account, mailbox, uidvalidity, uid])?;
            }
            Ok(())
        })
    }

    /// Every POP3 message of `account` the ledger knows, by UIDL.
    pub fn pop3_seen(
        &self,
        account: &str,
    ) -> Result<HashMap<String, Pop3State>, LedgerError> {
        let run = || -> rusqlite::Result<HashMap<String, Pop3State>> {
            let mut out = HashMap::new();
            let mut stmt = self.conn().prepare_cached(
                "SELECT uidl, state FROM pop3_messages WHERE account = ?1",
            )?;
            let mut rows = stmt.query([account])?;
            while let Some(r) = rows.next()? {
                let state = match r.get_ref(1)?.as_str()? {
                    "recorded" => Pop3State::Recorded,
                    _ => Pop3State::Left,
                };
                out.insert(r.get(0)?, state);
            }
            Ok(out)
        };
        run().map_err(|e| self.error(e))
    }

    /// Forgets POP3 messages that are no longer in the maildrop.
    pub fn forget_pop3(
        &mut self,
        account: &str,
        uidls: &[String],
    ) -> Result<(), LedgerError> {
        if uidls.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut delete = tx.prepare_cached(
                "DELETE FROM pop3_messages WHERE account = ?1 AND uidl = ?2",
            )?;
            for uidl in uidls {
                delete.execute(params![account, uidl])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::tests::soft_report;

    #[test]
    fn left_messages_commit_with_their_batch_and_die_with_their_uidvalidity() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let cp = |v, last| Checkpoint {
            account: "a".into(),
            mailbox: "INBOX".into(),
            uidvalidity: v,
            last_uid: last,
        };
        let r = soft_report("x@example.org", 1, 0);
        let items = [IngestItem { source: "s", report: &r }];
        let c = cp(7, 9);
        l.ingest_swept(&items, &Swept::Imap { checkpoint: &c, left: &[3, 5] })
            .unwrap();
        assert_eq!(l.left_uids("a", "INBOX", 7).unwrap(), [3, 5]);
        assert_eq!(l.checkpoint("a", "INBOX").unwrap(), Some(c));
        l.forget_left("a", "INBOX", 7, &[3]).unwrap();
        assert_eq!(l.left_uids("a", "INBOX", 7).unwrap(), [5]);
        let c = cp(8, 1);
        l.ingest_swept(&[], &Swept::Imap { checkpoint: &c, left: &[1] })
            .unwrap();
        assert_eq!(l.left_uids("a", "INBOX", 7).unwrap(), Vec::<u32>::new());
        assert_eq!(l.left_uids("a", "INBOX", 8).unwrap(), [1]);
    }

    #[test]
    fn pop3_uidls_are_remembered_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let swept = Swept::Pop3 {
            account: "p",
            recorded: &["u1".into()],
            left: &["u2".into()],
        };
        l.ingest_swept(&[], &swept).unwrap();
        let seen = l.pop3_seen("p").unwrap();
        assert_eq!(seen.get("u1"), Some(&Pop3State::Recorded));
        assert_eq!(seen.get("u2"), Some(&Pop3State::Left));
        assert!(l.pop3_seen("other").unwrap().is_empty());
        l.forget_pop3("p", &["u1".into()]).unwrap();
        assert_eq!(l.pop3_seen("p").unwrap().len(), 1);
    }
}
