-- The rebound ledger (SQLite). Embedded in the binary with include_str!
-- and applied by `Ledger::open` (src/ledger/mod.rs).
--
-- Versioning: the file is a list of migrations, each introduced by a line
-- `-- migration N` (N = 1, 2, ... in order). `PRAGMA user_version` holds the
-- last migration applied; on open every later migration runs, in one
-- transaction, and user_version is raised. Never edit a migration that has
-- shipped: append a new one.
--
-- Identity: every ledger carries `PRAGMA application_id` = 0x52424E44
-- ("RBND", src/ledger/identity.rs), a header field set by the transaction
-- that migrates it; another program's database is refused, not migrated.
--
-- Times are Unix seconds (UTC). Addresses are lower-cased.

-- migration 1

-- Every event ever recorded: bounces, delay warnings, complaints,
-- auto-replies, unsubscribe requests, delivery receipts (from mail or from
-- a sending platform's webhooks), and the manual `suppress` / `unsuppress`
-- audit events. Never updated except to link a bounce to its send.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    -- 128 bits of SHA-256 over (report key, recipient, type): the
    -- idempotency key. The report key is the report's Message-ID, else the
    -- SHA-256 of its bytes.
    event_key BLOB NOT NULL UNIQUE,
    -- The recipient, lower-cased; NULL when no recipient could be found
    -- (class 30) and no send ties the report to one.
    address TEXT,
    -- bounce, delay, complaint, auto_reply, unsubscribe, delivered,
    -- suppress, unsuppress.
    kind TEXT NOT NULL,
    category TEXT,
    class INTEGER,
    reason TEXT,
    action TEXT,
    status TEXT,
    reply_code TEXT,
    diagnostic TEXT,
    remote_mta TEXT,
    provider TEXT,
    campaign_id TEXT,
    feedback_type TEXT,
    detector TEXT,
    rule TEXT,
    -- Message-ID of the report, and of the message that bounced.
    message_id TEXT,
    original_message_id TEXT,
    -- When the bounced message was sent (from `import-sends`).
    sent_at INTEGER,
    -- When it happened (from the report), and when it was recorded.
    event_time INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    -- Where it came from: a path, `path#N`, `imap:...`, `webhook:FILE:LINE`,
    -- or `manual`.
    source TEXT,
    -- The operator's note of a manual event.
    note TEXT
);
CREATE INDEX events_by_address ON events (address, event_time, id);
CREATE INDEX events_by_time ON events (event_time);

-- The state of every address seen, folded from its events in event_time
-- order (src/ledger/state.rs); recomputed whenever an event arrives out of
-- order.
CREATE TABLE addresses (
    address TEXT PRIMARY KEY,
    domain TEXT NOT NULL,
    -- active, soft_bouncing, suppressed.
    state TEXT NOT NULL,
    -- hard_bounce, soft_escalated, complaint, unsubscribed, manual.
    suppression_reason TEXT,
    suppressed_at INTEGER,
    -- The event that suppressed the address.
    suppressed_by INTEGER,
    -- Soft bounces since the last delivery (or unsuppress), and the time of
    -- the first of them.
    soft_streak INTEGER NOT NULL DEFAULT 0,
    streak_start INTEGER,
    hard_count INTEGER NOT NULL DEFAULT 0,
    soft_count INTEGER NOT NULL DEFAULT 0,
    alert_count INTEGER NOT NULL DEFAULT 0,
    delay_count INTEGER NOT NULL DEFAULT 0,
    complaint_count INTEGER NOT NULL DEFAULT 0,
    unsubscribe_count INTEGER NOT NULL DEFAULT 0,
    auto_reply_count INTEGER NOT NULL DEFAULT 0,
    delivered_count INTEGER NOT NULL DEFAULT 0,
    first_event INTEGER NOT NULL,
    last_event INTEGER NOT NULL
) WITHOUT ROWID;
-- Only suppressed addresses are indexed (the export's order): the counters
-- of an address change with every event, its suppression rarely, so most
-- state writes touch the row alone.
CREATE INDEX suppressed_addresses ON addresses (suppressed_at, address)
    WHERE state = 'suppressed';

-- What was sent (`rebound import-sends`): the denominators of the rates and
-- the start of time-to-bounce.
CREATE TABLE sends (
    message_id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    campaign_id TEXT,
    sent_at INTEGER NOT NULL,
    -- Receiving provider of the recipient's domain, when known.
    provider TEXT
) WITHOUT ROWID;
CREATE INDEX sends_by_campaign ON sends (campaign_id, sent_at);

-- How far each IMAP mailbox has been swept; advanced in the same
-- transaction as the events it produced.
CREATE TABLE checkpoints (
    account TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account, mailbox)
) WITHOUT ROWID;

-- Ledger settings (the soft-bounce escalation policy).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- migration 2

-- Integer address ids and a 64-bit index of the idempotency key. Three
-- B-trees take a write at random positions with every event: the key
-- index, the by-address index and the address rows. A batch commit copies
-- every page it dirtied to the WAL (and the checkpoint copies it again),
-- so the smaller their entries, the fewer pages a batch dirties: integer
-- ids make the by-address entries about 15 bytes instead of 45, and the
-- key index holds the first 8 bytes of the key (the full 128 bits stay in
-- the row and are compared on every hit of the prefix, so a prefix
-- collision never takes a new event for a duplicate). The tables are
-- rebuilt: their data (and event ids) are kept.

CREATE TABLE addresses_v2 (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL UNIQUE,
    domain TEXT NOT NULL,
    state TEXT NOT NULL,
    suppression_reason TEXT,
    suppressed_at INTEGER,
    suppressed_by INTEGER,
    soft_streak INTEGER NOT NULL DEFAULT 0,
    streak_start INTEGER,
    hard_count INTEGER NOT NULL DEFAULT 0,
    soft_count INTEGER NOT NULL DEFAULT 0,
    alert_count INTEGER NOT NULL DEFAULT 0,
    delay_count INTEGER NOT NULL DEFAULT 0,
    complaint_count INTEGER NOT NULL DEFAULT 0,
    unsubscribe_count INTEGER NOT NULL DEFAULT 0,
    auto_reply_count INTEGER NOT NULL DEFAULT 0,
    delivered_count INTEGER NOT NULL DEFAULT 0,
    first_event INTEGER NOT NULL,
    last_event INTEGER NOT NULL
);
INSERT INTO addresses_v2 (
    address, domain, state, suppression_reason, suppressed_at,
    suppressed_by, soft_streak, streak_start, hard_count, soft_count,
    alert_count, delay_count, complaint_count, unsubscribe_count,
    auto_reply_count, delivered_count, first_event, last_event)
SELECT address, domain, state, suppression_reason, suppressed_at,
    suppressed_by, soft_streak, streak_start, hard_count, soft_count,
    alert_count, delay_count, complaint_count, unsubscribe_count,
    auto_reply_count, delivered_count, first_event, last_event
FROM addresses ORDER BY address;
-- Every address of an event has its row; were one missing, it gets a
-- plain one spanning its events rather than its events losing their
-- address.
INSERT INTO addresses_v2 (address, domain, state, first_event, last_event)
SELECT address,
    CASE WHEN instr(address, '@') > 0
        THEN substr(address, instr(address, '@') + 1) ELSE '' END,
    'active', min(event_time), max(event_time)
FROM events
WHERE address IS NOT NULL
    AND address NOT IN (SELECT address FROM addresses)
GROUP BY address;
DROP TABLE addresses;
ALTER TABLE addresses_v2 RENAME TO addresses;
CREATE INDEX suppressed_addresses ON addresses (suppressed_at, address)
    WHERE state = 'suppressed';

CREATE TABLE events_v2 (
    id INTEGER PRIMARY KEY,
    -- The 128-bit idempotency key (see migration 1), indexed by its first
    -- 8 bytes (events_by_key).
    event_key BLOB NOT NULL,
    -- The recipient (addresses.id); NULL as in migration 1.
    address_id INTEGER REFERENCES addresses (id),
    kind TEXT NOT NULL,
    category TEXT,
    class INTEGER,
    reason TEXT,
    action TEXT,
    status TEXT,
    reply_code TEXT,
    diagnostic TEXT,
    remote_mta TEXT,
    provider TEXT,
    campaign_id TEXT,
    feedback_type TEXT,
    detector TEXT,
    rule TEXT,
    message_id TEXT,
    original_message_id TEXT,
    sent_at INTEGER,
    event_time INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    source TEXT,
    note TEXT
);
INSERT INTO events_v2 (
    id, event_key, address_id, kind, category, class, reason, action,
    status, reply_code, diagnostic, remote_mta, provider, campaign_id,
    feedback_type, detector, rule, message_id, original_message_id, sent_at,
    event_time, recorded_at, source, note)
SELECT e.id, e.event_key, a.id, e.kind, e.category, e.class, e.reason,
    e.action, e.status, e.reply_code, e.diagnostic, e.remote_mta,
    e.provider, e.campaign_id, e.feedback_type, e.detector, e.rule,
    e.message_id, e.original_message_id, e.sent_at, e.event_time,
    e.recorded_at, e.source, e.note
FROM events e LEFT JOIN addresses a ON a.address = e.address
ORDER BY e.id;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE INDEX events_by_key ON events (substr(event_key, 1, 8));
CREATE INDEX events_by_address ON events (address_id, event_time, id);
-- events_by_time is not rebuilt: no query reads it (stats scan every
-- event), and it cost every event one more index write.

-- migration 3

-- The key index becomes unique, so that inserting an event is its
-- duplicate check (one B-tree descent per event instead of two): it holds
-- the key's first 64 bits and a slot. An event takes slot 0; only when
-- another event holds the same 64 bits are their full keys compared, and
-- a different key (a prefix collision) takes the next free slot
-- (src/ledger/ingest.rs `insert_keyed`). Events already sharing a prefix
-- get slots 1, 2, ... in id order.
ALTER TABLE events ADD COLUMN key_slot INTEGER NOT NULL DEFAULT 0;
UPDATE events SET key_slot = (
    SELECT count(*) FROM events AS e
    WHERE substr(e.event_key, 1, 8) = substr(events.event_key, 1, 8)
        AND e.id < events.id)
WHERE substr(event_key, 1, 8) IN (
    SELECT substr(event_key, 1, 8) FROM events
    GROUP BY substr(event_key, 1, 8) HAVING count(*) > 1);
DROP INDEX events_by_key;
CREATE UNIQUE INDEX events_by_key ON events (substr(event_key, 1, 8),
    key_slot);

-- migration 4

-- Keys by day, histories by chain: the two indexes that took a write at a
-- random position with every event are replaced by writes that land
-- together.
--
-- The idempotency key is indexed under the day of its report (the report's
-- own Date, or a webhook event's timestamp; 0 when it has none): reports
-- arrive roughly in the order they were written, so a batch's keys go into
-- the few pages of the last days instead of pages all over the index. The
-- day comes from the report's bytes, so the same report always has the
-- same day and a re-ingest finds its keys. Events recorded before keys had
-- days keep `key_day` NULL and their own index (events_by_key, now holding
-- those rows alone), which a new event's duplicate check also consults
-- while such rows exist.
ALTER TABLE events ADD COLUMN key_day INTEGER;
DROP INDEX events_by_key;
CREATE UNIQUE INDEX events_by_key ON events (substr(event_key, 1, 8),
    key_slot) WHERE key_day IS NULL;
CREATE UNIQUE INDEX events_by_day_key ON events (key_day,
    substr(event_key, 1, 8), key_slot) WHERE key_day IS NOT NULL;

-- An address's events are a chain: each event names the address's
-- previous event (`prev_id`, in the order recorded) and the address row
-- its last one (`last_id`). Recording an event writes both in rows that
-- are written anyway, where the by-address index took one more write at a
-- random position; reading a history (a late report's recompute, `rebound
-- status`) walks the chain and sorts it by event_time.
ALTER TABLE events ADD COLUMN prev_id INTEGER;
ALTER TABLE addresses ADD COLUMN last_id INTEGER;
UPDATE events SET prev_id = chain.prev
FROM (SELECT id, lag(id) OVER (PARTITION BY address_id ORDER BY id) AS prev
      FROM events WHERE address_id IS NOT NULL) AS chain
WHERE events.id = chain.id AND chain.prev IS NOT NULL;
UPDATE addresses SET last_id = (
    SELECT max(id) FROM events WHERE events.address_id = addresses.id);
DROP INDEX events_by_address;

-- migration 5

-- MTA logs (`rebound ingest --log`, src/logs/): how far each log file was
-- read, written in the same transaction as the events it gave, so that a
-- run killed half-way, or the next cron run, resumes where the last
-- commit stopped. A file is recognised by its device and inode and by a
-- hash of its first line (a copytruncate rotation keeps the inode but
-- not the first line); `state` holds what the reader knew of the
-- messages still queued (their Message-IDs, deferred recipients).
CREATE TABLE log_positions (
    path TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    device INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    -- Bytes and lines read (complete lines only).
    offset INTEGER NOT NULL,
    line INTEGER NOT NULL,
    first_line BLOB,
    state BLOB,
    updated_at INTEGER NOT NULL
);

-- The messages MTA logs name: Message-ID, (first) recipient and when the
-- MTA took the message in. A bounce message whose returned copy names
-- such a Message-ID is tied to that send like an imported one (sends),
-- and a bounce the log already recorded for the same recipient and
-- message is not recorded twice.
CREATE TABLE log_messages (
    message_id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    sent_at INTEGER NOT NULL
) WITHOUT ROWID;

-- migration 6

-- What the sweeps remember of mailboxes beyond the IMAP checkpoint, each
-- written in the same transaction as the events of its batch.
--
-- Ordinary mail left where it was in a shared IMAP inbox (`non_bounces =
-- "leave"` or `"flag"`), by UIDVALIDITY and UID, so that the next sweep
-- does not fetch it again. Rows of an older UIDVALIDITY are dropped when
-- the mailbox is renumbered, rows of messages gone from the mailbox when a
-- sweep no longer finds them.
CREATE TABLE left_messages (
    account TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    left_at INTEGER NOT NULL,
    PRIMARY KEY (account, mailbox, uidvalidity, uid)
) WITHOUT ROWID;

-- The POP3 checkpoint: every message seen in a POP3 maildrop, by its
-- UIDL (RFC 1939 §7), as `recorded` (a bounce in the ledger: deleted
-- with DELE unless kept; a recorded message still on the server is
-- deleted without being fetched again) or `left` (not a bounce, or kept).
-- Rows of messages gone from the maildrop are dropped.
CREATE TABLE pop3_messages (
    account TEXT NOT NULL,
    uidl TEXT NOT NULL,
    state TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (account, uidl)
) WITHOUT ROWID;
