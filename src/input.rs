//! Inputs: .eml files, directories (recursively; Maildir `cur/` and `new/`),
//! mbox archives (detected by content and streamed message by message) and
//! stdin (`-`).
//!
//! [`Inputs`] is an iterator of [`InputMessage`]s; an unreadable path yields
//! an [`InputError`] and the iteration goes on with the next one.
//! [`for_each_parallel`] runs a function over the messages on every core
//! (on the calling thread alone for a handful) while handing the results
//! back in input order and in bounded memory.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::thread;

use crate::error::InputError;

/// One message read from an input.
#[derive(Debug, Clone)]
pub struct InputMessage {
    /// The file it came from (a path, or `-` for stdin); every message of
    /// an mbox carries the mbox's path. This is what [`crate::Record::file`]
    /// holds.
    pub source: String,
    /// The position of the message in an mbox holding several (from 1).
    pub index: Option<usize>,
    /// The raw bytes of the message.
    pub bytes: Vec<u8>,
}

impl InputMessage {
    /// A name for messages to people: the path, or `path#N` for the N-th
    /// message of an mbox.
    pub fn name(&self) -> String {
        match self.index {
            Some(n) => format!("{}#{n}", self.source),
            None => self.source.clone(),
        }
    }
}

enum Source {
    /// An error to report in turn.
    Failed(InputError),
    /// A path still to be looked at.
    Path(PathBuf),
    /// An open mbox being streamed; `next` is the message read ahead, so
    /// a one-message mbox is named by its path alone.
    Mbox { name: String, reader: MboxReader, n: usize, next: Option<Vec<u8>> },
}

/// Iterator over the messages of a list of inputs, in order.
pub struct Inputs {
    queue: VecDeque<Source>,
}

/// Opens inputs; nothing is read before iteration.
pub fn open<P: AsRef<Path>>(paths: &[P]) -> Inputs {
    Inputs {
        queue: paths
            .iter()
            .map(|p| Source::Path(p.as_ref().to_path_buf()))
            .collect(),
    }
}

/// True when `head` (the first bytes of a file) starts an mbox: a `From `
/// separator line followed by a header line.
pub fn looks_like_mbox(head: &[u8]) -> bool {
    if !head.starts_with(b"From ") {
        return false;
    }
    let Some(nl) = head.iter().position(|&b| b == b'\n' || b == b'\r') else {
        return false;
    };
    let rest = &head[nl..];
    let rest = &rest
        [rest.iter().take_while(|&&b| b == b'\r' || b == b'\n').count()..];
    let colon = rest.iter().position(|&b| b == b':');
    matches!(colon, Some(i) if i > 0
        && rest[..i].iter().all(|b| b.is_ascii_graphic()))
}

fn io_err(path: &Path, source: io::Error) -> InputError {
    InputError::Io { path: path.to_path_buf(), source }
}

impl Inputs {
    /// Opens a file or stdin: an mbox (by content, whatever the file's
    /// name: a saved `.eml` that starts with a `From ` line is an mbox of
    /// one or more messages) is streamed message by message; anything
    /// else is one message.
    fn open_stream(
        &mut self,
        name: String,
        mut reader: Box<dyn BufRead + Send>,
    ) -> Result<Option<InputMessage>, InputError> {
        let head = reader
            .fill_buf()
            .map_err(|e| io_err(Path::new(&name), e))?
            .to_vec();
        if looks_like_mbox(&head) && !head.contains(&b'\n') {
            // An mbox with bare-CR line ends (old Mac OS): turn CRs into
            // LFs while streaming it, so memory stays one message.
            reader =
                Box::new(BufReader::with_capacity(1 << 16, CrToLf(reader)));
        }
        if looks_like_mbox(&head) {
            let mut reader =
                MboxReader { inner: reader, line: Vec::new(), pending: None };
            let next = reader
                .next_message()
                .map_err(|e| io_err(Path::new(&name), e))?;
            self.queue.push_front(Source::Mbox { name, reader, n: 0, next });
            return Ok(None);
        }
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| io_err(Path::new(&name), e))?;
        Ok(Some(InputMessage { source: name, index: None, bytes }))
    }

    fn expand_dir(&mut self, dir: &Path) -> Result<(), InputError> {
        let maildir = dir.join("cur").is_dir() && dir.join("new").is_dir();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| io_err(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name =
                    p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                // Maildir's tmp/ holds half-written files; dot files are
                // editor or OS clutter (Maildir++ folders are `.Name` dirs).
                !(maildir && name == "tmp"
                    || name.starts_with('.') && !p.is_dir())
            })
            .collect();
        entries.sort();
        for p in entries.into_iter().rev() {
            self.queue.push_front(Source::Path(p));
        }
        Ok(())
    }
}

impl Iterator for Inputs {
    type Item = Result<InputMessage, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.queue.pop_front()? {
                Source::Mbox { name, mut reader, n, next } => {
                    let Some(bytes) = next else { continue };
                    let after = reader.next_message();
                    let index = match (&after, n) {
                        (Ok(None), 0) => None,
                        _ => Some(n + 1),
                    };
                    let source = name.clone();
                    match after {
                        Ok(next) => {
                            self.queue.push_front(Source::Mbox {
                                name,
                                reader,
                                n: n + 1,
                                next,
                            });
                        }
                        Err(e) => {
                            let at = format!("{name}#{}", n + 2);
                            self.queue.push_front(Source::Failed(io_err(
                                Path::new(&at),
                                e,
                            )));
                        }
                    }
                    return Some(Ok(InputMessage { source, index, bytes }));
                }
                Source::Failed(e) => return Some(Err(e)),
                Source::Path(p) if p.as_os_str() == "-" => {
                    let reader: Box<dyn BufRead + Send> = Box::new(
                        BufReader::with_capacity(1 << 16, io::stdin()),
                    );
                    match self.open_stream("-".into(), reader) {
                        Ok(Some(m)) => return Some(Ok(m)),
                        Ok(None) => continue,
                        Err(e) => return Some(Err(e)),
                    }
                }
                Source::Path(p) => {
                    let meta = match std::fs::metadata(&p) {
                        Ok(m) => m,
                        Err(e) => return Some(Err(io_err(&p, e))),
                    };
                    if meta.is_dir() {
                        if let Err(e) = self.expand_dir(&p) {
                            return Some(Err(e));
                        }
                        continue;
                    }
                    let file = match File::open(&p) {
                        Ok(f) => f,
                        Err(e) => return Some(Err(io_err(&p, e))),
                    };
                    let reader: Box<dyn BufRead + Send> =
                        Box::new(BufReader::with_capacity(1 << 16, file));
                    match self.open_stream(p.display().to_string(), reader) {
                        Ok(Some(m)) => return Some(Ok(m)),
                        Ok(None) => continue,
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
        }
    }
}

/// A reader that turns every CR into LF (bare-CR mboxes).
struct CrToLf<R>(R);

impl<R: Read> Read for CrToLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        for b in &mut buf[..n] {
            if *b == b'\r' {
                *b = b'\n';
            }
        }
        Ok(n)
    }
}

/// Streams the messages of an mbox: a message starts at a `From ` line
/// that follows a blank line (or starts the file) and looks like an mbox
/// separator (`From sender date`); other `From ` lines are body text.
/// `>From ` quoting (mboxrd) is undone. Memory holds one message.
pub struct MboxReader {
    inner: Box<dyn BufRead + Send>,
    line: Vec<u8>,
    /// A separator line already read that starts the next message.
    pending: Option<()>,
}

/// True for an mbox separator line: `From ` then a sender, then something
/// with a time of day (`12:34`).
fn is_separator(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else { return false };
    let sender_end =
        rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    sender_end > 0
        && rest[sender_end..].windows(3).any(|w| {
            w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit()
        })
}

impl MboxReader {
    fn next_message(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut msg = Vec::new();
        let mut started = self.pending.take().is_some();
        let mut prev_blank = true;
        loop {
            self.line.clear();
            if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                return Ok((started || !msg.is_empty()).then_some(msg));
            }
            let line = &self.line;
            if prev_blank && is_separator(line) {
                if started && !msg.is_empty() {
                    // Drop the blank line that precedes the separator.
                    if msg.ends_with(b"\r\n\r\n") {
                        msg.truncate(msg.len() - 2);
                    } else if msg.ends_with(b"\n\n") {
                        msg.pop();
                    }
                    self.pending = Some(());
                    return Ok(Some(msg));
                }
                started = true;
                continue;
            }
            prev_blank = line.iter().all(|b| b.is_ascii_whitespace());
            let unquoted = line
                .iter()
                .position(|&b| b != b'>')
                .is_some_and(|i| i > 0 && line[i..].starts_with(b"From "));
            msg.extend_from_slice(if unquoted { &line[1..] } else { line });
        }
    }
}

/// How many messages are in flight at most in [`for_each_parallel`]
/// (read ahead, being worked on, or waiting for their turn to be handed
/// on); bounds memory to this many messages.
pub const BATCH: usize = 256;

/// Up to this many items, [`for_each_parallel`] does the work on the
/// calling thread: starting threads (each with its own allocator heap and
/// regex caches) costs more than a handful of messages.
pub const SEQUENTIAL: usize = 48;

/// Runs `work` over every item of `items` and passes each result to
/// `sink` in the items' order. More than [`SEQUENTIAL`] items are worked
/// on by one thread per core while the calling thread reads the next
/// items and hands finished results on, so reading, working and writing
/// overlap. At most [`BATCH`] items are held at once, so memory stays
/// bounded whatever the number of items. A panic in `work` is raised
/// again on the calling thread.
pub fn for_each_parallel<T, R, I, W, S>(items: I, work: W, mut sink: S)
where
    I: Iterator<Item = T>,
    T: Send,
    R: Send,
    W: Fn(T) -> R + Sync,
    S: FnMut(R),
{
    let mut items = items.peekable();
    let head: Vec<T> = items.by_ref().take(SEQUENTIAL).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || items.peek().is_none() {
        head.into_iter().chain(items).for_each(|t| sink(work(t)));
        return;
    }
    let (job_tx, job_rx) = mpsc::sync_channel::<(usize, T)>(BATCH);
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, thread::Result<R>)>();
    thread::scope(|s| {
        for _ in 0..threads {
            let (job_rx, done_tx, work) = (&job_rx, done_tx.clone(), &work);
            s.spawn(move || {
                loop {
                    let job = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((i, t))) = job else { break };
                    let r = panic::catch_unwind(AssertUnwindSafe(|| work(t)));
                    if done_tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        // Results that came back before their turn, by position.
        let mut waiting: VecDeque<Option<R>> = VecDeque::new();
        let (mut sent, mut handed) = (0usize, 0usize);
        let mut take = |(i, r): (usize, thread::Result<R>),
                        handed: &mut usize| {
            let r = r.unwrap_or_else(|p| panic::resume_unwind(p));
            let k = i - *handed;
            if waiting.len() <= k {
                waiting.resize_with(k + 1, || None);
            }
            waiting[k] = Some(r);
            while let Some(Some(_)) = waiting.front() {
                if let Some(Some(r)) = waiting.pop_front() {
                    sink(r);
                }
                *handed += 1;
            }
        };
        for t in head.into_iter().chain(items) {
            while sent - handed >= BATCH {
                take(
                    done_rx.recv().expect("a worker is running"),
                    &mut handed,
                );
            }
            job_tx.send((sent, t)).expect("a worker is running");
            sent += 1;
            while let Ok(done) = done_rx.try_recv() {
                take(done, &mut handed);
            }
        }
        drop(job_tx);
        while handed < sent {
            take(done_rx.recv().expect("a worker is running"), &mut handed);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_detection_needs_a_header_after_the_from_line() {
        assert!(looks_like_mbox(
            b"From a@b Thu Jan  1 00:00:00 2024\nSubject: x\n"
        ));
        assert!(looks_like_mbox(
            b"From a@b Thu Jan  1 00:00:00 2024\r\nTo: x\r\n"
        ));
        assert!(!looks_like_mbox(b"From: a@b\nSubject: x\n"));
        assert!(!looks_like_mbox(
            b"From here on the text is prose\nand more\n"
        ));
    }

    fn split(mbox: &str) -> Vec<String> {
        let mut r = MboxReader {
            inner: Box::new(io::Cursor::new(mbox.as_bytes().to_vec())),
            line: Vec::new(),
            pending: None,
        };
        let mut out = Vec::new();
        while let Some(m) = r.next_message().unwrap() {
            out.push(String::from_utf8(m).unwrap());
        }
        out
    }

    #[test]
    fn mbox_splits_only_on_separator_lines() {
        let m = split(
            "From a@b Thu Jan  1 00:00:00 2024\nSubject: 1\n\nFrom here on\n>From quoted\n\nFrom b@c Fri Jan  2 00:00:00 2024\nSubject: 2\n\nbody\n",
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], "Subject: 1\n\nFrom here on\nFrom quoted\n");
        assert_eq!(m[1], "Subject: 2\n\nbody\n");
    }

    #[test]
    fn damaged_separators_stay_in_the_message() {
        let m = split(
            "From a@b Thu Jan  1 00:00:00 2024\nSubject: 1\n\nFrom nobody\nSubject: x\n",
        );
        assert_eq!(m.len(), 1);
        assert!(m[0].contains("From nobody"));
    }

    fn read_all(path: &Path) -> Vec<InputMessage> {
        open(&[path]).map(|m| m.unwrap()).collect()
    }

    #[test]
    fn a_saved_message_with_a_from_line_is_an_mbox_of_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("saved.eml");
        let text = "From MAILER-DAEMON Tue Jun 11 19:13:34 2024\nSubject: bounce\n\nbody\n";
        std::fs::write(&p, text).unwrap();
        let m = read_all(&p);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].bytes, b"Subject: bounce\n\nbody\n");
        assert_eq!(m[0].index, None);
    }

    #[test]
    fn a_bare_cr_mbox_is_split() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old-mac.mbox");
        let text = "From a@b Thu Jan  1 00:00:00 2024\rSubject: 1\r\rone\r\rFrom b@c Fri Jan  2 00:00:00 2024\rSubject: 2\r\rtwo\r";
        std::fs::write(&p, text).unwrap();
        let m = read_all(&p);
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].bytes, b"Subject: 2\n\ntwo\n");
        assert_eq!(m[1].index, Some(2));
    }

    #[test]
    fn parallel_results_keep_input_order() {
        for n in [0, 1, SEQUENTIAL as u32, SEQUENTIAL as u32 + 1, 1000] {
            let mut out = Vec::new();
            for_each_parallel(0..n, |x| x * 2, |r| out.push(r));
            assert_eq!(out, (0..n).map(|x| x * 2).collect::<Vec<_>>());
        }
    }

    /// Work that takes longer for earlier items still comes out in order,
    /// and no more than `BATCH` items are in flight at once.
    #[test]
    fn parallel_results_keep_order_under_uneven_work() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let started = AtomicUsize::new(0);
        let mut handed = 0;
        let mut out = Vec::new();
        for_each_parallel(
            0..2000usize,
            |x| {
                let in_flight = started.fetch_add(1, Ordering::SeqCst) + 1;
                if x % 7 == 0 {
                    thread::sleep(std::time::Duration::from_micros(200));
                }
                (x, in_flight)
            },
            |(x, in_flight)| {
                assert!(in_flight - handed <= BATCH, "{in_flight} started");
                handed += 1;
                out.push(x);
            },
        );
        assert_eq!(out, (0..2000).collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "item 500")]
    fn a_panic_in_the_work_is_raised_again() {
        for_each_parallel(
            0..1000u32,
            |x| assert!(x != 500, "item {x}"),
            |()| {},
        );
    }
}
