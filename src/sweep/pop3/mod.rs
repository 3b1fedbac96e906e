//! Sweeping a POP3 maildrop (`protocol = "pop3"`; many hosted bounce
//! mailboxes offer nothing else).
//!
//! POP3 has no folders, flags or UIDs that survive a session, so the
//! ledger's `pop3_messages` table is the checkpoint: every message seen,
//! by UIDL (RFC 1939 §7), as `recorded` or `left`. One session:
//!
//! 1. UIDL; forget the UIDLs no longer on the server; messages already
//!    recorded but still there (a sweep stopped before its QUIT) are
//!    deleted without being fetched again (`after = "delete"`).
//! 2. The messages never seen, in batches of bounded count and bytes
//!    (LIST sizes): RETR, parse on all cores, then record the reports and
//!    the batch's UIDLs in ONE ledger transaction, and only then DELE the
//!    recorded ones (`after = "keep"` leaves them).
//! 3. QUIT: the server deletes the marked messages only now. A session
//!    that dies before loses no deletion for good: step 1 repeats it.
//!
//! Messages that are not bounces are never deleted: they stay on the
//! server, remembered as `left`, and are not fetched again.

mod client;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use super::commit::{Sorted, crash_hook, sort_batch};
use super::config::{AccountSettings, After};
use super::connect::{Connector, with_login};
use super::fetch::cut;
use super::parse::parse_all;
use super::{Observer, Options, SweepError, SweepTotals, open_ledger};
use crate::ledger::{IngestItem, Pop3State, Swept};
use crate::pipeline::Parser;
use client::Pop3;

/// The name a POP3 maildrop has in progress reports.
const MAILDROP: &str = "INBOX";

/// One session over the maildrop of a POP3 account; with `stop` set
/// (a watcher's shutdown), it ends after the batch in hand.
pub(crate) fn sweep(
    account: &AccountSettings,
    opts: &Options,
    parser: &Parser,
    observer: &mut dyn Observer,
    stop: Option<&AtomicBool>,
) -> Result<SweepTotals, SweepError> {
    let mut ledger = open_ledger(opts)?;
    let connector = Connector::new(account)?;
    let mut pop = with_login(&account.secret, |credential| {
        let mut pop = Pop3::connect(&connector)?;
        pop.login(&account.user, credential)?;
        Ok(pop)
    })?;
    let listed = pop.uidl()?;
    let name = &account.name;
    let seen = match &ledger {
        Some(l) => l.pop3_seen(name)?,
        None => Default::default(),
    };
    let writes = !opts.dry_run;
    if let Some(l) = ledger.as_mut().filter(|_| writes) {
        let here: HashSet<&str> =
            listed.iter().map(|(_, u)| u.as_str()).collect();
        let gone: Vec<String> = seen
            .keys()
            .filter(|u| !here.contains(u.as_str()))
            .cloned()
            .collect();
        l.forget_pop3(name, &gone)?;
    }
    let delete = account.after == After::Delete && writes;
    if delete {
        for (n, uidl) in &listed {
            if seen.get(uidl) == Some(&Pop3State::Recorded) {
                pop.dele(*n)?;
            }
        }
    }
    let mut new: Vec<(u32, String)> =
        listed.into_iter().filter(|(_, u)| !seen.contains_key(u)).collect();
    if let Some(b) = opts.limit {
        new.truncate(b);
    }
    observer.mailbox(name, MAILDROP, new.len());
    let mut summary = SweepTotals::default();
    if new.is_empty() {
        pop.quit()?;
        return Ok(summary);
    }
    let uidl_of: std::collections::HashMap<u32, String> =
        new.iter().cloned().collect();
    let sizes: Vec<(u32, u32)> = pop
        .list()?
        .into_iter()
        .filter(|(n, _)| uidl_of.contains_key(n))
        .collect();
    let cap = account.max_message_size;
    for batch in cut(&sizes, cap, opts.batch_size) {
        let mut bodies = Vec::with_capacity(batch.len());
        for &(n, _) in batch {
            let (body, truncated) = pop.retr(n, cap)?;
            bodies.push((n, body, truncated));
        }
        let parsed = parse_all(
            parser,
            bodies.iter().map(|(n, b, t)| (*n, b.as_slice(), *t)),
        );
        drop(bodies);
        let Sorted { recorded, others, summary: mut s } = sort_batch(
            parsed,
            |n| format!("pop3:{name}/{}", uidl_of[&n]),
            true,
            observer,
        );
        if let Some(l) = ledger.as_mut().filter(|_| writes) {
            let items: Vec<IngestItem<'_>> = recorded
                .iter()
                .map(|(_, source, report)| IngestItem { source, report })
                .collect();
            let uidls = |ns: &mut dyn Iterator<Item = u32>| -> Vec<String> {
                ns.map(|n| uidl_of[&n].clone()).collect()
            };
            let done = uidls(&mut recorded.iter().map(|r| r.0));
            let left = uidls(&mut others.iter().copied());
            let (ingested, new_ids) = l.ingest_swept(
                &items,
                &Swept::Pop3 { account: name, recorded: &done, left: &left },
            )?;
            observer.committed(l, &new_ids);
            s.new_events = ingested.new_events;
            s.duplicates = ingested.duplicates;
            crash_hook();
            if delete {
                for (n, _, _) in &recorded {
                    pop.dele(*n)?;
                }
            }
        }
        summary += s;
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            break;
        }
    }
    pop.quit()?;
    Ok(summary)
}
