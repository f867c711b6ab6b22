//! The metrics port (CloudWatch): oldest-message ages and the consumer's own figures.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use super::{QueueRef, Result};
use crate::domain::Timestamp;

/// One oldest-message-age reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AgeReading {
    /// `None`: no data (CloudWatch has no datapoint, e.g. an idle queue).
    pub age: Option<Duration>,
    /// The time the figure describes (the datapoint's minute on CloudWatch).
    pub as_of: Option<Timestamp>,
}

/// What the consumer did, as counts: its totals since it started, or the change over an interval
/// (what it publishes). Every view of the consumer (dashboard, `worker` report, metrics) reads this.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConsumerStats {
    /// Messages received.
    pub received: u64,
    /// Vouchers persisted.
    pub persisted: u64,
    /// Failures recorded (permanent or retryable).
    pub failed: u64,
    /// Poison messages the consumer sent to the DLQ itself.
    pub dead_lettered: u64,
}

impl ConsumerStats {
    /// The change from `earlier` to these counts.
    #[must_use]
    pub fn since(&self, earlier: &ConsumerStats) -> ConsumerStats {
        ConsumerStats {
            received: self.received.saturating_sub(earlier.received),
            persisted: self.persisted.saturating_sub(earlier.persisted),
            failed: self.failed.saturating_sub(earlier.failed),
            dead_lettered: self.dead_lettered.saturating_sub(earlier.dead_lettered),
        }
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &ConsumerStats) {
        self.received += other.received;
        self.persisted += other.persisted;
        self.failed += other.failed;
        self.dead_lettered += other.dead_lettered;
    }

    /// Whether any outcome (persisted, failed, dead-lettered) is counted.
    pub fn has_outcomes(&self) -> bool {
        self.persisted > 0 || self.failed > 0 || self.dead_lettered > 0
    }
}

/// Metrics (CloudWatch on AWS).
#[async_trait]
pub trait Metrics: Send + Sync + 'static {
    /// Oldest-message age for each queue, in the same order, with one call.
    async fn oldest_age(&self, queues: &[QueueRef]) -> Result<Vec<AgeReading>>;
    /// Publishes the consumer's figures for one interval (batched): the change in its counts and the
    /// processing latencies measured, in milliseconds.
    async fn publish(&self, delta: &ConsumerStats, latencies_ms: &[f64]) -> Result<()>;
}
