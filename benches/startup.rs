//! Whole-process cost of `rebound parse`: the fixed cost of a run (start,
//! rule automata, allocator, threads) and the sustained rate, against a
//! bare `mail-parser` parse of the same messages done by a tiny
//! whole-process program (this bench binary run again with `--bare`: it
//! reads the same paths, one thread, and parses each message).
//!
//! `cargo bench --bench startup [-- RUNS]` runs both programs as child
//! processes, alternating, `RUNS` times each (default 15; the mbox case
//! a fifth of that, at least 3), output to /dev/null, on: 1 dev-corpus
//! file, 30 files, the dev corpus (316 files, as a directory) and an mbox
//! of the dev corpus ×100 written into a temporary directory. For each
//! it prints the minimum and median wall time, the median CPU time (user
//! and system, from `wait4`), the median peak RSS, and rebound's ratios
//! to the bare parse. On a shared machine the minimum is the least
//! disturbed run. Reads `../shared/corpus/dev/emails`: without it the
//! bench says so and exits with status 1.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use mail_parser::MessageParser;
use mail_parser::mailbox::mbox::MessageIterator;

/// The binary's allocator (see `src/main.rs`), for the bare program too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How many copies of the corpus the mbox holds.
const COPIES: usize = 100;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--bare") {
        return bare(&args[1..]);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/dev/emails");
    if !dir.is_dir() {
        eprintln!(
            "startup bench: {} is missing: the bench needs the shared dev corpus",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    let runs: usize =
        args.iter().find_map(|a| a.parse().ok()).unwrap_or(15).max(1);
    let files = sorted_files(&dir);
    let tmp = tempfile::tempdir().expect("temporary directory");
    let mbox = tmp.path().join("dev-x100.mbox");
    let bytes = write_mbox(&files, &mbox).expect("mbox written");
    println!(
        "startup: {} (rebound) vs the bare mail-parser program, {runs} runs each ({} for the mbox), alternating",
        env!("CARGO_BIN_EXE_rebound"),
        (runs / 5).max(3)
    );
    println!(
        "{:<22} {:>7} | {:>9} {:>9} {:>9} {:>8} | {:>9} {:>9} {:>9} {:>8} | ratio wall / CPU / RSS",
        "input",
        "msgs",
        "rb min",
        "rb med",
        "rb CPU",
        "rb RSS",
        "bare min",
        "bare med",
        "bare CPU",
        "bare RSS",
    );
    let path_args = |ps: &[PathBuf]| -> Vec<String> {
        ps.iter().map(|p| p.display().to_string()).collect()
    };
    let cases: Vec<(String, usize, Vec<String>, usize)> = vec![
        ("1 file".into(), 1, path_args(&files[..1]), runs),
        (
            "30 files".into(),
            30,
            path_args(&files[..30.min(files.len())]),
            runs,
        ),
        (
            format!("dev corpus ({} files)", files.len()),
            files.len(),
            vec![dir.display().to_string()],
            runs,
        ),
        (
            format!("mbox ×{COPIES} ({:.0} MB)", bytes as f64 / 1e6),
            files.len() * COPIES,
            vec![mbox.display().to_string()],
            (runs / 5).max(3),
        ),
    ];
    let me = std::env::current_exe().expect("own path");
    for (name, msgs, paths, n) in cases {
        let mut rb = Vec::with_capacity(n);
        let mut bare = Vec::with_capacity(n);
        for _ in 0..n {
            let mut c = Command::new(env!("CARGO_BIN_EXE_rebound"));
            c.args(["parse", "--format", "jsonl"]).args(&paths);
            rb.push(measure(c));
            let mut c = Command::new(&me);
            c.arg("--bare").args(&paths);
            bare.push(measure(c));
        }
        let (r, b) = (Summary::of(&mut rb), Summary::of(&mut bare));
        println!(
            "{name:<22} {msgs:>7} | {} | {} | {:.2} / {:.2} / {:.2}",
            r.show(),
            b.show(),
            r.wall_min / b.wall_min,
            r.cpu / b.cpu,
            r.rss_mb / b.rss_mb,
        );
        if msgs >= 1000 {
            println!(
                "{:<22} {:>7} | rebound {:.0} msg/s (best run), bare {:.0} msg/s",
                "",
                "",
                msgs as f64 / r.wall_min,
                msgs as f64 / b.wall_min
            );
        }
    }
    ExitCode::SUCCESS
}

/// One run of a child process.
struct Run {
    wall: f64,
    cpu: f64,
    rss_mb: f64,
}

/// Runs `c` with its output to /dev/null and waits for it with `wait4`:
/// wall time, CPU time (user + system) and peak resident set size.
fn measure(mut c: Command) -> Run {
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    // Reaped by `wait4` below, which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = c.spawn().expect("child process starts");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (the `Child` is
    // not used again); `status` and `ru` are valid for writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4: {}", io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{c:?} failed: status {status:#x}"
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Run {
        wall,
        cpu: secs(ru.ru_utime) + secs(ru.ru_stime),
        rss_mb: ru.ru_maxrss as f64 / 1024.0,
    }
}

/// Minimum and median wall, median CPU and RSS of several runs.
struct Summary {
    wall_min: f64,
    wall_med: f64,
    cpu: f64,
    rss_mb: f64,
}

impl Summary {
    fn of(runs: &mut [Run]) -> Summary {
        let med = |runs: &mut [Run], key: fn(&Run) -> f64| {
            runs.sort_by(|a, b| key(a).total_cmp(&key(b)));
            key(&runs[runs.len() / 2])
        };
        Summary {
            wall_min: runs.iter().map(|r| r.wall).fold(f64::MAX, f64::min),
            wall_med: med(runs, |r| r.wall),
            cpu: med(runs, |r| r.cpu),
            rss_mb: med(runs, |r| r.rss_mb),
        }
    }

    fn show(&self) -> String {
        let ms = |s: f64| format!("{:.1} ms", s * 1e3);
        format!(
            "{:>9} {:>9} {:>9} {:>5.1} MB",
            ms(self.wall_min),
            ms(self.wall_med),
            ms(self.cpu),
            self.rss_mb
        )
    }
}

/// The regular files of `dir`, sorted.
fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Writes the files `COPIES` times as one mbox (a `From ` line before
/// each message, body lines starting with `From ` quoted); its size.
fn write_mbox(files: &[PathBuf], path: &Path) -> io::Result<u64> {
    let mut out = io::BufWriter::new(fs::File::create(path)?);
    let msgs: Vec<Vec<u8>> =
        files.iter().map(fs::read).collect::<io::Result<_>>()?;
    for _ in 0..COPIES {
        for m in &msgs {
            out.write_all(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n")?;
            for line in m.split_inclusive(|&b| b == b'\n') {
                if line.starts_with(b"From ") {
                    out.write_all(b">")?;
                }
                out.write_all(line)?;
            }
            if !m.ends_with(b"\n") {
                out.write_all(b"\n")?;
            }
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(fs::metadata(path)?.len())
}

/// The bare program: parses every message of `paths` (files, directories
/// of files, mbox files) with `mail-parser`, one thread, and prints how
/// many parsed.
fn bare(paths: &[String]) -> ExitCode {
    let parser = MessageParser::default();
    let mut parsed = 0usize;
    let mut one = |bytes: &[u8]| {
        parsed += usize::from(parser.parse(bytes).is_some());
    };
    for p in paths {
        let p = Path::new(p);
        if p.is_dir() {
            for f in sorted_files(p) {
                one(&fs::read(f).expect("readable file"));
            }
            continue;
        }
        let mut r = BufReader::new(fs::File::open(p).expect("readable file"));
        if r.fill_buf().expect("readable file").starts_with(b"From ") {
            for m in MessageIterator::new(r) {
                one(m.expect("mbox message").contents());
            }
        } else {
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes).expect("readable file");
            one(&bytes);
        }
    }
    println!("{parsed}");
    ExitCode::SUCCESS
}
