//! The shared failure log port.

use async_trait::async_trait;

use super::error::Result;
use crate::domain::{FailureRecord, Timestamp};

/// The shared failure log (DynamoDB table on AWS).
#[async_trait]
pub trait FailureLog: Send + Sync + 'static {
    /// Creates the failure table if missing; returns (table, created).
    async fn ensure_table(&self) -> Result<(String, bool)>;
    async fn record(&self, records: &[FailureRecord]) -> Result<()>;
    /// The newest `limit` records, newest first, from every worker.
    async fn recent(&self, limit: usize) -> Result<Vec<FailureRecord>>;
    /// Up to `limit` records stamped at or after `from`, newest first: what a poll needs after the
    /// first one (on DynamoDB one query, two across midnight).
    async fn since(&self, from: Timestamp, limit: usize) -> Result<Vec<FailureRecord>>;
}
