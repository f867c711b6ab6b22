//! The consumer's figures as its readers see them: a snapshot while it runs (the dashboard samples
//! it), the report when it stops (`worker` prints it). Both carry the same [`ConsumerStats`].

use serde::Serialize;

use voucherdeck_core::ports::ConsumerStats;

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
