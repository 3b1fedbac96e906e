//! Parse timing for the fuzz and scale commands (examples only; the test
//! suite makes no timed assertions).

use std::time::{Duration, Instant};

use rebound::Parser;

/// CPU time of the calling thread (Linux `/proc/thread-self/schedstat`,
/// nanoseconds on the CPU), so timings on a busy machine do not count the
/// time spent waiting for a core; `None` where unavailable.
fn thread_cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

/// The best of `reps` parse times of `raw`: thread CPU time where the
/// system gives it, else wall-clock time.
pub fn parse_time(parser: &Parser, raw: &[u8], reps: usize) -> Duration {
    (0..reps)
        .map(|_| {
            let (cpu, wall) = (thread_cpu_time(), Instant::now());
            let _ = std::hint::black_box(parser.parse(raw));
            match (cpu, thread_cpu_time()) {
                (Some(a), Some(b)) => b.saturating_sub(a),
                _ => wall.elapsed(),
            }
        })
        .min()
        .unwrap_or_default()
}
