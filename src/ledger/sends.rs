//! What was sent (`rebound import-sends`): one row per message, keyed by
//! its Message-ID. Sends are the denominators of the per-campaign and
//! per-provider rates, and the start of time-to-bounce: a bounce whose
//! returned copy names the Message-ID of a send is tied to it (its campaign,
//! its send time, and its recipient when the report named none), whichever
//! of the two was recorded first.

use std::collections::HashMap;

use rusqlite::params;

use super::addresses::{FACT_COLUMNS, FACT_WIDTH, fact_of};
use super::batch::Batch;
use super::{Ledger, LedgerError, normalise_address};
use crate::classify::provider::{PROVIDERS, identify};

/// One sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Send {
    /// Its Message-ID (angle brackets optional).
    pub message_id: String,
    /// Its recipient.
    pub recipient: String,
    /// Its campaign.
    pub campaign_id: Option<String>,
    /// When it was sent (Unix seconds).
    pub sent_at: i64,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendSummary {
    /// Rows read.
    pub sends: usize,
    /// Rows new to the ledger (the others updated a known send).
    pub new: usize,
    /// Already recorded events now tied to a send.
    pub linked_events: usize,
}

/// A Message-ID without angle brackets and surrounding space.
pub fn normalise_message_id(m: &str) -> &str {
    m.trim().trim_start_matches('<').trim_end_matches('>').trim()
}

impl Ledger {
    /// Records sends (one transaction) and ties already recorded bounces to
    /// them. Importing the same rows again changes nothing.
    pub fn import_sends(
        &mut self,
        sends: &[Send],
    ) -> Result<SendSummary, LedgerError> {
        let policy = self.policy;
        self.write(|tx| {
            let mut sum = SendSummary::default();
            let mut by_id: HashMap<&str, (&Send, String)> = HashMap::new();
            for s in sends {
                sum.sends += 1;
                let id = normalise_message_id(&s.message_id);
                let recipient = normalise_address(&s.recipient);
                let provider = identify(None, None, Some(&recipient))
                    .and_then(|i| PROVIDERS.get(i))
                    .map(|p| p.name);
                let known: bool = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM sends
                         WHERE message_id = ?1)",
                    )?
                    .query_row([id], |r| r.get(0))?;
                tx.prepare_cached(
                    "INSERT INTO sends
                       (message_id, recipient, campaign_id, sent_at, provider)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (message_id) DO UPDATE SET
                       recipient = excluded.recipient,
                       campaign_id = excluded.campaign_id,
                       sent_at = excluded.sent_at,
                       provider = excluded.provider",
                )?
                .execute(params![
                    id,
                    recipient,
                    s.campaign_id,
                    s.sent_at,
                    provider
                ])?;
                sum.new += usize::from(!known);
                by_id.insert(id, (s, recipient));
            }
            // Tie recorded events to these sends: one pass over the events
            // (no index on original_message_id, which would cost every
            // ingest a random-order B-tree insert).
            let mut ties = Vec::new();
            {
                let mut st = tx.prepare(&format!(
                    "SELECT {FACT_COLUMNS}, original_message_id, sent_at,
                       address_id IS NULL
                     FROM events WHERE original_message_id IS NOT NULL"
                ))?;
                let mut rows = st.query([])?;
                while let Some(r) = rows.next()? {
                    let Some(m) = r.get_ref(FACT_WIDTH)?.as_str_or_null()?
                    else {
                        continue;
                    };
                    let Some((send, recipient)) =
                        by_id.get(normalise_message_id(m))
                    else {
                        continue;
                    };
                    if r.get::<_, Option<i64>>(FACT_WIDTH + 1)?
                        == Some(send.sent_at)
                    {
                        continue;
                    }
                    let orphan = r.get::<_, bool>(FACT_WIDTH + 2)?;
                    ties.push((fact_of(r)?, *send, recipient.clone(), orphan));
                }
            }
            let mut batch = Batch::new(tx, policy);
            for (fact, send, recipient, orphan) in ties {
                let Some(fact) = fact else { continue };
                // An orphan joins the chain of the send's recipient.
                let (address_id, prev) = if orphan {
                    let (id, prev) = batch.chain(&recipient)?;
                    (Some(id), prev)
                } else {
                    (None, None)
                };
                sum.linked_events += tx
                    .prepare_cached(
                        "UPDATE events SET sent_at = ?2,
                           campaign_id = coalesce(campaign_id, ?3),
                           address_id = coalesce(address_id, ?4),
                           prev_id = CASE WHEN address_id IS NULL
                             THEN ?5 ELSE prev_id END
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        fact.id,
                        send.sent_at,
                        send.campaign_id,
                        address_id,
                        prev,
                    ])?;
                // Bounces that named no recipient take the send's.
                if orphan {
                    batch.touch(&recipient, fact)?;
                }
            }
            batch.finish()?;
            Ok(sum)
        })
    }
}
