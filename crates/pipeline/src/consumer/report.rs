//! What the consumer tells its readers: each voucher's outcome as it goes (the dashboard's status
//! line), a snapshot of its figures while it runs (the dashboard samples it) and the report when it
//! stops (`worker` prints it). The last two carry the same [`ConsumerStats`].

use serde::Serialize;
use uuid::Uuid;

use voucherdeck_core::domain::{FailureRecord, Timestamp};
use voucherdeck_core::ports::ConsumerStats;

/// What the consumer did, for followers (the dashboard's status line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerEvent {
    Persisted {
        voucher_id: Uuid,
        message_id: String,
    },
    Failed(FailureRecord),
}

/// The consumer's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConsumerSnapshot {
    pub paused: bool,
    pub stopped: bool,
    pub concurrency: usize,
    /// Messages being processed now.
    pub in_flight: usize,
    /// Counts since the consumer started.
    pub totals: ConsumerStats,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Since when every receive fails, while they do (`None`: the last receive worked).
    pub receive_failing_since: Option<Timestamp>,
}

/// The totals when the consumer stops.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConsumerReport {
    #[serde(flatten)]
    pub totals: ConsumerStats,
    /// Why the consumer stopped by itself, when it was not a clean finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
