//! How the consumer runs.

use std::time::Duration;

/// How the consumer runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// Receive loops running at once.
    pub concurrency: usize,
    /// Long-poll wait per receive.
    pub wait: Duration,
    /// Stop once the queue is empty (nothing visible, in flight or delayed).
    pub until_empty: bool,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Publish the consumer's metrics this often (`None`: never).
    pub publish_every: Option<Duration>,
    pub start_paused: bool,
}

/// Share of a retry wait added at most as jitter.
const JITTER: f64 = 0.25;

impl ConsumerConfig {
    /// The longest a message that failed retryably on its `receive_count`-th receive waits before
    /// it is received again (on a FIFO queue, how long it may hold its group back).
    pub fn retry_wait_max(&self, receive_count: u32) -> Duration {
        let d = doubling(receive_count, self.backoff_base, self.backoff_max);
        (d + d.mul_f64(JITTER)).min(self.backoff_max)
    }
}

/// The wait before a retryable failure is received again: doubling with each receive from `base`,
/// with up to a quarter more as jitter, at most `max`.
pub(super) fn backoff(receive_count: u32, base: Duration, max: Duration) -> Duration {
    let d = doubling(receive_count, base, max);
    (d + d.mul_f64(fastrand::f64() * JITTER)).min(max)
}

fn doubling(receive_count: u32, base: Duration, max: Duration) -> Duration {
    let exp = receive_count.saturating_sub(1).min(20);
    base.saturating_mul(1 << exp).min(max)
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            concurrency: 4,
            wait: Duration::from_secs(20),
            until_empty: false,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_mins(15),
            publish_every: Some(Duration::from_mins(1)),
            start_paused: false,
        }
    }
}
