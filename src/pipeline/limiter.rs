//! The producer's per-process burst limit, keyed by sender (`governor`).

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota as RateQuota, RateLimiter};

/// The per-process burst limiter, keyed by sender.
pub(super) struct SenderLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    per_minute: u32,
}

impl SenderLimiter {
    pub(super) fn new(per_minute: u32) -> Self {
        let limiter =
            NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(RateQuota::per_minute(n)));
        SenderLimiter {
            limiter,
            per_minute,
        }
    }

    /// Takes one gift of `sender`'s burst; `Err(wait)` when the burst is spent.
    pub(super) fn check(&self, sender: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&sender.to_string())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Gifts per sender per minute (0: no limit).
    pub(super) fn per_minute(&self) -> u32 {
        self.per_minute
    }
}

impl fmt::Debug for SenderLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderLimiter")
            .field("per_minute", &self.per_minute)
            .finish_non_exhaustive()
    }
}
