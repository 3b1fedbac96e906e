//! Replay protection for signed webhooks: what the signatures of the
//! requests accepted within the freshness window covered (the signed
//! time with the body, or the platform's message id and time) is
//! remembered, and a request signing the same again is refused. A request older than the
//! window is refused by its timestamp instead, so nothing older needs
//! remembering. Redeliveries by the provider are signed anew (a new
//! timestamp) and pass; the ledger's idempotency keys then record their
//! events once.

use std::collections::HashMap;
use std::sync::Mutex;

/// The signatures seen recently.
#[derive(Debug)]
pub(crate) struct Replay {
    seen: Mutex<HashMap<[u8; 32], i64>>,
    window: i64,
}

/// At most this many signatures are remembered; past it the expired ones
/// are dropped.
const MAX_SEEN: usize = 1 << 20;

impl Replay {
    /// Remembers signatures for `window` seconds.
    pub(crate) fn new(window: i64) -> Replay {
        Replay { seen: Mutex::new(HashMap::new()), window }
    }

    /// Takes a signature for a request being handled; false when it was
    /// taken before (a replay).
    pub(crate) fn claim(&self, key: [u8; 32], now: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= MAX_SEEN {
            seen.retain(|_, until| *until >= now);
        }
        match seen.get(&key) {
            Some(until) if *until >= now => false,
            _ => {
                seen.insert(key, now + self.window);
                true
            }
        }
    }

    /// Gives a signature back: its request was not recorded (the ledger
    /// failed), so its redelivery must pass.
    pub(crate) fn release(&self, key: &[u8; 32]) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_passes_once_within_the_window() {
        let r = Replay::new(300);
        assert!(r.claim([1; 32], 1000));
        assert!(!r.claim([1; 32], 1200));
        assert!(r.claim([1; 32], 1301));
        r.release(&[1; 32]);
        assert!(r.claim([1; 32], 1302));
    }
}
