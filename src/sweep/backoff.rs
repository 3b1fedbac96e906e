//! How long to wait before trying again: capped exponential backoff with
//! jitter (half the delay fixed, half random, so that many sessions that
//! failed together do not come back together), never shorter than what a
//! throttling server suggested.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The first delay.
pub(crate) const BASE: Duration = Duration::from_secs(1);

/// The longest wait for a throttling server.
pub(crate) const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(5 * 60);

/// The delay before attempt `attempt + 1` (`attempt` failures so far, from
/// 1): BASE · 2^(attempt-1), at most `max`, its upper half random; at
/// least `suggested`, itself at most [`MAX_THROTTLE_WAIT`].
pub(crate) fn delay(
    attempt: u32,
    max: Duration,
    suggested: Option<Duration>,
) -> Duration {
    let exp = BASE.saturating_mul(1 << attempt.saturating_sub(1).min(20));
    let full = exp.min(max);
    let half = full / 2;
    let jitter = half.mul_f64(random_fraction());
    let floor = suggested.map_or(Duration::ZERO, |s| s.min(MAX_THROTTLE_WAIT));
    (half + jitter).max(floor)
}

/// A number in [0, 1) that differs from call to call (a randomly keyed
/// hash of nothing: std seeds every `RandomState` afresh).
fn random_fraction() -> f64 {
    let bits =
        std::collections::hash_map::RandomState::new().build_hasher().finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_are_capped_and_respect_the_suggestion() {
        let max = Duration::from_secs(300);
        for attempt in 1..40 {
            let d = delay(attempt, max, None);
            let full =
                BASE.saturating_mul(1 << (attempt - 1).min(20)).min(max);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
        let s = Duration::from_millis(201_317);
        assert!(delay(1, max, Some(s)) >= s);
        assert_eq!(
            delay(1, max, Some(Duration::from_secs(3600))),
            MAX_THROTTLE_WAIT
        );
        let spread: std::collections::HashSet<Duration> =
            (0..20).map(|_| delay(6, max, None)).collect();
        assert!(spread.len() > 1, "jitter varies the delay");
    }
}
