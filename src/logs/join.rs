//! Joining the lines of one message by its queue id: Postfix, Exim and
//! Sendmail log the Message-ID, the sender and each recipient's outcome
//! on separate lines, often minutes or days apart, interleaved with other
//! messages. The joiner keeps, per queue id still in the queue, what the
//! earlier lines said: the Message-ID, the arrival time, whether it is a
//! bounce notification of the MTA itself, and the recipients deferred so
//! far (an expiry names none).
//!
//! Memory is bounded: at most [`JOIN_MAX`] queue ids are kept; past it
//! the oldest are dropped (their later lines still give events, without
//! the Message-ID). The state is saved with the read position
//! ([`Joiner::save`]) so that a run that resumes mid-file still knows the
//! messages that arrived before.

use std::collections::VecDeque;

use foldhash::HashMap;
use serde::{Deserialize, Serialize};

/// At most this many queue ids are remembered (a few hundred bytes
/// each).
pub(crate) const JOIN_MAX: usize = 100_000;

/// A recipient deferred and not yet delivered or bounced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Deferred {
    /// The recipient.
    pub recipient: String,
    /// The last deferral's enhanced status.
    pub status: Option<String>,
    /// The last deferral's text.
    pub diagnostic: Option<String>,
    /// The last host tried.
    pub remote_mta: Option<String>,
}

/// What the earlier lines of one queue id said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Queued {
    /// The Message-ID.
    pub message_id: Option<String>,
    /// When the MTA took the message in.
    pub arrival: Option<i64>,
    /// Its envelope sender is null: a bounce or delay notification the
    /// MTA wrote itself, whose deliveries are no sends.
    pub notification: bool,
    /// Recipients deferred so far.
    pub deferred: Vec<Deferred>,
}

impl Queued {
    /// Records a deferral of `d.recipient` (replacing an earlier one).
    pub(crate) fn defer(&mut self, d: Deferred) {
        self.settle(&d.recipient);
        self.deferred.push(d);
    }

    /// Forgets a recipient's deferral (it was delivered or bounced).
    pub(crate) fn settle(&mut self, recipient: &str) {
        self.deferred.retain(|d| d.recipient != recipient);
    }
}

/// The queue ids in the queue, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Joiner {
    map: HashMap<String, Queued>,
    order: VecDeque<String>,
}

impl Joiner {
    /// The state of `id`, created when new (dropping the oldest id when
    /// full).
    pub(crate) fn entry(&mut self, id: &str) -> &mut Queued {
        if !self.map.contains_key(id) {
            while self.map.len() >= JOIN_MAX {
                let Some(old) = self.order.pop_front() else { break };
                self.map.remove(&old);
            }
            if self.order.len() >= 2 * JOIN_MAX {
                // Ids removed since they were queued.
                let map = &self.map;
                self.order.retain(|q| map.contains_key(q));
            }
            self.order.push_back(id.to_string());
            self.map.insert(id.to_string(), Queued::default());
        }
        // Present: found or inserted just above.
        self.map.get_mut(id).expect("the queue id was just inserted")
    }

    /// The state of `id`, if known.
    pub(crate) fn get(&self, id: &str) -> Option<&Queued> {
        self.map.get(id)
    }

    /// Forgets `id` (it left the queue).
    pub(crate) fn remove(&mut self, id: &str) -> Option<Queued> {
        self.map.remove(id)
    }

    /// The state as bytes (JSON, oldest first).
    pub(crate) fn save(&self) -> Vec<u8> {
        let live: Vec<(&String, &Queued)> = self
            .order
            .iter()
            .filter_map(|q| self.map.get_key_value(q))
            .collect();
        serde_json::to_vec(&live).unwrap_or_default()
    }

    /// Restores a saved state; an unreadable one leaves the joiner empty.
    pub(crate) fn restore(&mut self, state: &[u8]) {
        *self = Joiner::default();
        let Ok(live) = serde_json::from_slice::<Vec<(String, Queued)>>(state)
        else {
            return;
        };
        for (id, q) in live {
            *self.entry(&id) = q;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_bounded_and_state_round_trips() {
        let mut j = Joiner::default();
        for i in 0..JOIN_MAX + 10 {
            j.entry(&format!("Q{i}")).arrival = Some(i as i64);
            if i % 2 == 0 {
                j.remove(&format!("Q{i}"));
            }
        }
        assert!(j.map.len() <= JOIN_MAX);
        assert!(j.order.len() <= 2 * JOIN_MAX + 1);
        let last = format!("Q{}", JOIN_MAX + 9);
        j.entry(&last).defer(Deferred {
            recipient: "a@example.org".into(),
            status: Some("4.2.2".into()),
            diagnostic: None,
            remote_mta: None,
        });
        let mut k = Joiner::default();
        k.restore(&j.save());
        assert_eq!(k.get(&last), j.get(&last));
        assert_eq!(k.map.len(), j.map.len());
        k.restore(b"not json");
        assert!(k.map.is_empty());
    }
}
