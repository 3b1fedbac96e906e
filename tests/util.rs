//! Shared helpers for the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus directory (`../shared/corpus/dev`).
pub fn corpus() -> PathBuf {
    root().join("../shared/corpus/dev")
}

/// The wild corpus (`../shared/corpus/wild`): other projects' test mail,
/// not used to develop the detectors.
pub fn wild_corpus() -> PathBuf {
    root().join("../shared/corpus/wild")
}

/// The authored samples that are messages (`samples/**/*.eml` whose
/// expected output is records or "not a bounce", not a parse error): a
/// corpus every clone has.
pub fn sample_messages() -> Vec<PathBuf> {
    files_with_ext(&root().join("samples"), "eml")
        .into_iter()
        .filter(|p| {
            let expected = p.with_extension("expected.json");
            let text = std::fs::read_to_string(&expected)
                .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
            !text.contains("\"error\"")
        })
        .collect()
}

/// A command running the `rebound` binary.
pub fn rebound() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rebound"))
}

/// Runs `rebound` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    rebound().args(args).output().expect("rebound runs")
}

/// Runs `rebound CMD --db LEDGER ARGS...` (with `REBOUND_DB` unset).
pub fn run_on(db: &Path, cmd: &str, args: &[&str]) -> Output {
    rebound()
        .arg(cmd)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("REBOUND_DB")
        .output()
        .unwrap()
}

/// Like [`run_on`], asserting success; returns stdout.
pub fn ok_on(db: &Path, cmd: &str, args: &[&str]) -> String {
    let o = run_on(db, cmd, args);
    assert!(
        o.status.success(),
        "rebound {cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Every file under `dir` with extension `ext`, sorted.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A `rebound` running in the background (a watcher), its stderr
/// collected line by line; killed (SIGKILL) if still running when dropped.
pub struct Background {
    child: std::process::Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Background {
    /// Spawns `cmd` with stderr captured.
    pub fn spawn(cmd: &mut Command) -> Background {
        use std::io::BufRead;
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("rebound starts");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                eprintln!("[rebound] {line}");
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Background { child, stderr }
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until `cond` holds (checked every 20 ms), at most `limit`;
    /// returns how long it took, None on timeout.
    pub fn wait_until(
        limit: std::time::Duration,
        mut cond: impl FnMut() -> bool,
    ) -> Option<std::time::Duration> {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if cond() {
                return Some(start.elapsed());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// Waits until stderr contains `needle` (panics after `limit`).
    pub fn expect_stderr(&self, needle: &str, limit: std::time::Duration) {
        if Background::wait_until(limit, || self.stderr().contains(needle))
            .is_none()
        {
            panic!(
                "no {needle:?} on stderr after {limit:?}:\n{}",
                self.stderr()
            );
        }
    }

    /// Sends a signal (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{name}");
    }

    /// Waits for the exit (panics after `limit`): the exit code (None
    /// when killed by a signal) and everything printed on stderr.
    pub fn wait(
        mut self,
        limit: std::time::Duration,
    ) -> (Option<i32>, String) {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread take the last lines.
                std::thread::sleep(std::time::Duration::from_millis(100));
                return (status.code(), self.stderr());
            }
            if start.elapsed() > limit {
                panic!("still running after {limit:?}:\n{}", self.stderr());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
