//! The metrics port (CloudWatch): oldest-message ages, and the consumer's and the intake's own
//! figures.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use super::error::Result;
use super::queue::QueueRef;
use crate::domain::Timestamp;

pub use crate::domain::metric_names::{
    METRIC_DEAD_LETTERED, METRIC_FAILED, METRIC_LATENCY, METRIC_PERSISTED, METRICS_NAMESPACE,
    QUEUE_DIMENSION,
};

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

/// What the intake API answered, as counts: its totals since it started, or the change over an
/// interval (what it publishes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IntakeStats {
    /// Requests answered, whatever the status.
    pub requests: u64,
    /// Answers with a 5xx status (the server failed).
    pub server_errors: u64,
    /// Answers with status 429 (a limit refused the request).
    pub throttled: u64,
    /// Audit entries the server finally could not write to the audit log (after its retries).
    pub audit_lost: u64,
}

impl IntakeStats {
    /// The change from `earlier` to these counts.
    #[must_use]
    pub fn since(&self, earlier: &IntakeStats) -> IntakeStats {
        IntakeStats {
            requests: self.requests.saturating_sub(earlier.requests),
            server_errors: self.server_errors.saturating_sub(earlier.server_errors),
            throttled: self.throttled.saturating_sub(earlier.throttled),
            audit_lost: self.audit_lost.saturating_sub(earlier.audit_lost),
        }
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &IntakeStats) {
        self.requests += other.requests;
        self.server_errors += other.server_errors;
        self.throttled += other.throttled;
        self.audit_lost += other.audit_lost;
    }

    /// Whether nothing is counted (nothing to publish).
    pub fn is_empty(&self) -> bool {
        self.requests == 0 && self.audit_lost == 0
    }

    /// Counts one answer with this HTTP status.
    pub fn count(&mut self, status: u16) {
        self.requests += 1;
        self.server_errors += u64::from((500..600).contains(&status));
        self.throttled += u64::from(status == 429);
    }
}

/// What the intake servers published about the pipeline's queue, as the once-a-minute read finds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServersIntake {
    /// Every server's counts for the newest minute published, summed; `None` when no server
    /// published in the last minute.
    pub last_minute: Option<IntakeStats>,
    /// The minute `last_minute` describes.
    pub as_of: Option<Timestamp>,
    /// Whether any server published in the last hour (the dashboard shows the figures only then).
    pub active_last_hour: bool,
}

/// The once-a-minute read: oldest-message ages and the intake servers' figures, from one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinuteReading {
    /// One reading for each queue asked about, in the same order.
    pub ages: Vec<AgeReading>,
    pub servers: ServersIntake,
}

/// Metrics (CloudWatch on AWS).
#[async_trait]
pub trait Metrics: Send + Sync + 'static {
    /// Oldest-message age for each queue, in the same order, with one call.
    async fn oldest_age(&self, queues: &[QueueRef]) -> Result<Vec<AgeReading>>;
    /// Oldest-message age for each queue and the intake servers' figures for the pipeline's queue,
    /// with one call (the dashboard's once-a-minute read).
    async fn read_minute(&self, queues: &[QueueRef]) -> Result<MinuteReading>;
    /// Publishes the consumer's figures for one interval (batched): the change in its counts and the
    /// processing latencies measured, in milliseconds.
    async fn publish(&self, delta: &ConsumerStats, latencies_ms: &[f64]) -> Result<()>;
    /// Publishes the intake's figures for one interval (one call): the change in its counts.
    async fn publish_intake(&self, delta: &IntakeStats) -> Result<()>;
}
