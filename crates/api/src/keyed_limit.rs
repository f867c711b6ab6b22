//! Keyed per-minute limits: per client IP, before authentication (floods cost a lookup, not a key
//! read), and per API key for reads. Idle keys are forgotten.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Checks between two sweeps of idle addresses.
const SWEEP_EVERY: u64 = 4096;

/// What the limit says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// Denied: how long until the next request is allowed.
    pub(crate) retry_after: Option<Duration>,
}

/// Requests per minute per key `K` (an IP address, an API key id).
pub(crate) struct KeyedLimiter<K: Hash + Eq + Clone> {
    limiter: Option<Keyed<K>>,
    per_minute: u32,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    pub(crate) fn new(per_minute: u32) -> Self {
        KeyedLimiter {
            limiter: NonZeroU32::new(per_minute).map(|n| {
                RateLimiter::keyed(Quota::per_minute(n))
                    .with_middleware::<StateInformationMiddleware>()
            }),
            per_minute,
            checks: AtomicU64::new(0),
        }
    }

    /// `None` when there is no limit.
    pub(crate) fn check(&self, key: &K) -> Option<Verdict> {
        let limiter = self.limiter.as_ref()?;
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        Some(match limiter.check_key(key) {
            Ok(snapshot) => Verdict {
                limit: self.per_minute,
                remaining: snapshot.remaining_burst_capacity(),
                retry_after: None,
            },
            Err(not_until) => Verdict {
                limit: self.per_minute,
                remaining: 0,
                retry_after: Some(not_until.wait_time_from(DefaultClock::default().now())),
            },
        })
    }
}
