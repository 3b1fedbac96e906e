//! The fetch stage of the sweep pipeline, on its own thread and its own
//! read-only session: reads the sizes of the messages to handle, cuts them
//! into batches of bounded count and bytes, and fetches each batch
//! (`BODY.PEEK[]`, so nothing is marked seen; a message over the size cap
//! only up to the cap).

use std::sync::mpsc::SyncSender;

use super::connect::Session;
use super::error::{SweepError, imap_err};
use super::mailbox::drain;
use super::uidset::uid_set;
use super::{BATCH_BYTES, SIZE_CHUNK};

/// One fetched batch: the fetch responses own the message bytes, which
/// the parse stage borrows and then drops.
pub(crate) struct Fetched {
    /// The highest UID of the batch (the checkpoint after it).
    pub(crate) last_uid: u32,
    /// (read only up to the size cap, responses).
    pub(crate) fetches:
        Vec<(bool, imap::types::ZeroCopy<Vec<imap::types::Fetch>>)>,
}

/// Cuts (UID, size) pairs into batches of at most `count` messages and
/// [`BATCH_BYTES`] bytes (sizes counted up to `cap`; a single message
/// over the byte limit is a batch of its own).
pub(crate) fn cut(
    sizes: &[(u32, u32)],
    cap: u32,
    count: usize,
) -> impl Iterator<Item = &[(u32, u32)]> {
    let count = count.max(1);
    let mut rest = sizes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut n = 0;
        while n < rest.len().min(count) {
            bytes += u64::from(rest[n].1.min(cap));
            if n > 0 && bytes > BATCH_BYTES {
                break;
            }
            n += 1;
        }
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        Some(batch)
    })
}

/// Fetch stage: reads the sizes of `uids`, then the batches, and hands
/// them on. Stops early (Ok) when the next stage has gone.
pub(crate) fn fetch_stage(
    session: &mut Session,
    mailbox: &str,
    uids: &[u32],
    cap: u32,
    batch_size: usize,
    out: SyncSender<Fetched>,
) -> Result<(), SweepError> {
    let context = || format!("fetching from {mailbox}");
    for chunk in uids.chunks(SIZE_CHUNK) {
        let sized = session
            .uid_fetch(uid_set(chunk), "(UID RFC822.SIZE)")
            .map_err(imap_err(format!("fetching sizes in {mailbox}")))?;
        let mut sizes: Vec<(u32, u32)> = sized
            .iter()
            .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0))))
            .collect();
        drop(sized);
        sizes.sort_unstable();
        for batch in cut(&sizes, cap, batch_size) {
            let whole: Vec<u32> =
                batch.iter().filter(|b| b.1 <= cap).map(|b| b.0).collect();
            let mut fetches = Vec::new();
            if !whole.is_empty() {
                fetches.push((
                    false,
                    session
                        .uid_fetch(uid_set(&whole), "(UID BODY.PEEK[])")
                        .map_err(imap_err(context()))?,
                ));
            }
            for &(uid, _) in batch.iter().filter(|b| b.1 > cap) {
                fetches.push((
                    true,
                    session
                        .uid_fetch(
                            uid.to_string(),
                            format!("(UID BODY.PEEK[]<0.{cap}>)"),
                        )
                        .map_err(imap_err(context()))?,
                ));
            }
            drain(session);
            let last_uid = batch.last().map_or(0, |b| b.0);
            if out.send(Fetched { last_uid, fetches }).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_and_bytes_and_keep_every_uid_once() {
        let sizes: Vec<(u32, u32)> = (1..=23).map(|u| (u, 100)).collect();
        let lens: Vec<usize> = cut(&sizes, 1000, 5).map(<[_]>::len).collect();
        assert_eq!(lens, [5, 5, 5, 5, 3]);
        let uids: Vec<u32> =
            cut(&sizes, 1000, 5).flatten().map(|s| s.0).collect();
        assert_eq!(uids, (1..=23).collect::<Vec<_>>());
        assert_eq!(cut(&sizes, 1000, 0).count(), 23, "0 counts as 1");
        // 6 MiB messages: two fit in 16 MiB, a third does not; sizes count
        // only up to the cap; one huge message is a batch of its own.
        let big = 6 * 1024 * 1024;
        let sizes = [(1, big), (2, big), (3, big), (4, u32::MAX), (5, 10)];
        let lens: Vec<usize> =
            cut(&sizes, u32::MAX, 500).map(<[_]>::len).collect();
        assert_eq!(lens, [2, 1, 1, 1]);
        let lens: Vec<usize> =
            cut(&sizes, 1024, 500).map(<[_]>::len).collect();
        assert_eq!(lens, [5]);
        assert_eq!(cut(&[], 1024, 500).count(), 0);
    }
}
