//! The parse stage of the sweep pipeline, on its own thread: parses each
//! fetched batch on all cores, frees the fetched bytes, and hands the
//! reports on in UID order.

use std::sync::mpsc::{Receiver, SyncSender};

use super::fetch::Fetched;
use crate::input::for_each_parallel;
use crate::pipeline::{Parser, Report};

/// One fetched message, parsed.
pub(crate) struct Parsed {
    /// Its UID (IMAP) or message number (POP3).
    pub(crate) uid: u32,
    pub(crate) truncated: bool,
    pub(crate) result: Result<Report, crate::ParseError>,
}

/// One parsed batch, in UID order.
pub(crate) struct ParsedBatch {
    pub(crate) last_uid: u32,
    pub(crate) parsed: Vec<Parsed>,
}

/// Parses (id, bytes, cut at the size cap) on all cores, in id order.
pub(crate) fn parse_all<'b>(
    parser: &Parser,
    bodies: impl Iterator<Item = (u32, &'b [u8], bool)>,
) -> Vec<Parsed> {
    let mut parsed = Vec::new();
    for_each_parallel(
        bodies,
        |(uid, body, truncated)| Parsed {
            uid,
            truncated,
            result: parser.parse(body),
        },
        |p| parsed.push(p),
    );
    parsed.sort_by_key(|p| p.uid);
    parsed
}

/// Parse stage: parses each fetched batch on all cores, frees its bytes
/// and hands the reports on in UID order.
pub(crate) fn parse_stage(
    parser: &Parser,
    input: Receiver<Fetched>,
    out: SyncSender<ParsedBatch>,
) {
    for f in input {
        let bodies = f.fetches.iter().flat_map(|(truncated, fs)| {
            fs.iter().filter_map(|m| Some((m.uid?, m.body()?, *truncated)))
        });
        let parsed = parse_all(parser, bodies);
        drop(f.fetches);
        let batch = ParsedBatch { last_uid: f.last_uid, parsed };
        if out.send(batch).is_err() {
            return;
        }
    }
}
