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
