//! The producer's per-process burst limits (`governor`), keyed by subject (a sender, or an API
//! key), one keyed limiter per rate. Idle subjects are forgotten, so memory stays bounded however
//! many senders come and go.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota as RateQuota, RateLimiter};

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Checks between two sweeps of idle subjects.
const SWEEP_EVERY: u64 = 1024;

/// Keyed burst limiters, one per rate (per minute).
#[derive(Default)]
pub(crate) struct SenderLimiter {
    by_rate: Mutex<HashMap<u32, Arc<Keyed>>>,
    checks: AtomicU64,
}

impl SenderLimiter {
    /// Takes one of `subject`'s `per_minute` burst: what is left of it, or `Err(wait)` when it is
    /// spent. `per_minute` 0 means no limit (`Ok(None)`).
    pub(crate) fn check(&self, subject: &str, per_minute: u32) -> Result<Option<u32>, Duration> {
        let Some(rate) = NonZeroU32::new(per_minute) else {
            return Ok(None);
        };
        let limiter = {
            let mut map = self.by_rate.lock().unwrap_or_else(PoisonError::into_inner);
            map.entry(per_minute)
                .or_insert_with(|| {
                    Arc::new(
                        RateLimiter::keyed(RateQuota::per_minute(rate))
                            .with_middleware::<StateInformationMiddleware>(),
                    )
                })
                .clone()
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.forget_idle();
        }
        limiter
            .check_key(&subject.to_string())
            .map(|snapshot| Some(snapshot.remaining_burst_capacity()))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets subjects whose burst is whole again (they are as if never seen).
    pub(crate) fn forget_idle(&self) {
        let map = self.by_rate.lock().unwrap_or_else(PoisonError::into_inner);
        for limiter in map.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Subjects remembered (for tests and diagnostics).
    pub(crate) fn len(&self) -> usize {
        let map = self.by_rate.lock().unwrap_or_else(PoisonError::into_inner);
        map.values().map(|l| l.len()).sum()
    }
}

impl fmt::Debug for SenderLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderLimiter")
            .field("subjects", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_limited_per_subject() {
        let l = SenderLimiter::default();
        assert!(l.check("a", 2).is_ok());
        assert!(l.check("a", 2).is_ok());
        assert!(l.check("a", 2).is_err());
        assert!(l.check("b", 2).is_ok(), "another subject has its own burst");
        assert!(l.check("c", 0).is_ok(), "0 is no limit");
    }

    /// Many senders passing through leave nothing behind once their bursts are whole again.
    #[test]
    fn idle_subjects_are_forgotten() {
        let l = SenderLimiter::default();
        // 6,000,000 a minute: a cell comes back every 10 µs.
        for i in 0..5000 {
            assert!(l.check(&format!("sender-{i}"), 6_000_000).is_ok());
        }
        std::thread::sleep(Duration::from_millis(20));
        for i in 0..SWEEP_EVERY {
            let _ = l.check(&format!("late-{i}"), 6_000_000);
        }
        assert!(
            l.len() < 2000,
            "idle senders are forgotten, {} remembered",
            l.len()
        );
    }
}
