//! The shared failure log port.

use async_trait::async_trait;

use super::Result;
use crate::domain::FailureRecord;

/// The shared failure log (DynamoDB table on AWS).
#[async_trait]
pub trait FailureLog: Send + Sync + 'static {
    /// Creates the failure table if missing; returns (table, created).
    async fn ensure_table(&self) -> Result<(String, bool)>;
    async fn record(&self, records: &[FailureRecord]) -> Result<()>;
    /// The newest `limit` records, newest first, from every worker.
    async fn recent(&self, limit: usize) -> Result<Vec<FailureRecord>>;
}
