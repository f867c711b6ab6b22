//! [`FailureLog`] on DynamoDB: a day-partitioned log table (see `day_log`), newest first; records
//! expire after 14 days (TTL).

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use super::day_log::DayLog;
use super::items::{failure_from_item, failure_item};
use voucherdeck_core::domain::{FailureRecord, Timestamp};
use voucherdeck_core::ports::{FailureLog, RequestCounter, Result};

/// How many days back `recent` looks (today plus this many earlier days).
const DAYS_BACK: u32 = 7;

/// The shared failure log table.
#[derive(Debug, Clone)]
pub struct DynamoFailureLog {
    log: DayLog,
}

impl DynamoFailureLog {
    pub fn new(client: Client, requests: RequestCounter, table: String) -> Self {
        DynamoFailureLog {
            log: DayLog::new(client, requests, table, DAYS_BACK),
        }
    }
}

#[async_trait]
impl FailureLog for DynamoFailureLog {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        self.log.ensure().await
    }

    async fn record(&self, records: &[FailureRecord]) -> Result<()> {
        self.log
            .put(records.iter().map(failure_item).collect())
            .await
    }

    async fn recent(&self, limit: usize) -> Result<Vec<FailureRecord>> {
        self.read(None, limit).await
    }

    async fn since(&self, from: Timestamp, limit: usize) -> Result<Vec<FailureRecord>> {
        self.read(Some(from), limit).await
    }
}

impl DynamoFailureLog {
    /// What `recent` and `since` both read: the newest records, from `from` on when given, with the
    /// unreadable ones skipped (and said in the log).
    async fn read(&self, from: Option<Timestamp>, limit: usize) -> Result<Vec<FailureRecord>> {
        let items = self.log.newest_since(from, limit).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                failure_from_item(item)
                    .inspect_err(|e| {
                        tracing::warn!(table = %self.log.table(), error = %e, "skipping an unreadable failure record");
                    })
                    .ok()
            })
            .collect())
    }
}
