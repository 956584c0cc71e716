//! When to try a failed delivery again: exponential backoff with full
//! jitter, so that deliveries failing together do not retry together.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The ceiling of the first retry's delay; it doubles per attempt.
    pub base: Duration,
    /// The ceiling no delay exceeds.
    pub cap: Duration,
}

impl Backoff {
    /// A delay after `attempt` (1 for the first) failed: uniform in
    /// `[ceiling / 2, ceiling]`, where the ceiling is `base · 2^(attempt-1)`
    /// up to `cap`. Half the ceiling is kept as a floor so a retry never
    /// comes back at once.
    pub fn delay(&self, attempt: i64) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(u32::MAX).min(30);
        let ceiling = self.base.saturating_mul(1 << doublings).min(self.cap);
        let half = ceiling / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_their_jitter_and_stop_at_the_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(30),
            cap: Duration::from_secs(3_600),
        };
        for attempt in 1..=12 {
            let ceiling = Duration::from_secs(30 * (1 << (attempt - 1))).min(backoff.cap);
            for _ in 0..50 {
                let delay = backoff.delay(attempt);
                assert!(delay >= ceiling / 2 && delay <= ceiling, "attempt {attempt}: {delay:?}");
            }
        }
        let spread: std::collections::HashSet<_> = (0..20).map(|_| backoff.delay(3)).collect();
        assert!(spread.len() > 1, "jitter spreads retries");
        assert!(backoff.delay(i64::MAX) <= backoff.cap);
    }
}
