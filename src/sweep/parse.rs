//! The parse stage of the sweep pipeline, on its own thread: parses each
//! fetched batch on all cores, frees the fetched bytes, and hands the
//! reports on in UID order.

use std::sync::mpsc::{Receiver, SyncSender};

use super::fetch::Fetched;
use crate::input::for_each_parallel;
use crate::pipeline::{Parser, Report};

/// One fetched message, parsed.
pub(crate) struct Parsed {
    pub(crate) uid: u32,
    pub(crate) truncated: bool,
    pub(crate) result: Result<Report, crate::ParseError>,
}

/// One parsed batch, in UID order.
pub(crate) struct ParsedBatch {
    pub(crate) last_uid: u32,
    pub(crate) parsed: Vec<Parsed>,
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
        drop(f.fetches);
        parsed.sort_by_key(|p| p.uid);
        let batch = ParsedBatch { last_uid: f.last_uid, parsed };
        if out.send(batch).is_err() {
            return;
        }
    }
}
