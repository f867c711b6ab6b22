//! [`FailureLog`] on DynamoDB: one partition per UTC day (`day`), sorted by `{at}#{record_id}` (`sk`),
//! so the newest records come first from a descending query; records expire after 14 days (TTL).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{Item, failure_from_item, failure_item};
use super::tables::{TableSpec, batch_put, dedupe_by_key, ensure_table, query_day};
use crate::domain::{FailureRecord, Timestamp};
use crate::ports::{FailureLog, RequestCounter, Result};

/// How many days back `recent` looks (today plus this many earlier days).
const DAYS_BACK: u32 = 7;
const DAY: Duration = Duration::from_hours(24);

/// The shared failure log table.
#[derive(Debug, Clone)]
pub struct DynamoFailureLog {
    client: Client,
    requests: RequestCounter,
    table: String,
}

impl DynamoFailureLog {
    pub fn new(client: Client, requests: RequestCounter, table: String) -> Self {
        DynamoFailureLog {
            client,
            requests,
            table,
        }
    }

    /// Up to `limit` records of one day, newest first.
    async fn day(&self, day: &str, limit: usize) -> Result<Vec<FailureRecord>> {
        let items = query_day(&self.client, &self.requests, &self.table, day, limit).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                failure_from_item(item)
                    .inspect_err(|e| {
                        tracing::warn!(table = %self.table, error = %e, "skipping an unreadable failure record");
                    })
                    .ok()
            })
            .collect())
    }
}

fn record_key(item: &Item) -> String {
    match (item.get("day"), item.get("sk")) {
        (Some(AttributeValue::S(d)), Some(AttributeValue::S(s))) => format!("{d}|{s}"),
        _ => String::new(),
    }
}

#[async_trait]
impl FailureLog for DynamoFailureLog {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        let spec = TableSpec {
            name: &self.table,
            hash: "day",
            range: Some("sk"),
            ttl: Some("expires_at"),
        };
        let created = ensure_table(&self.client, &self.requests, spec).await?;
        Ok((self.table.clone(), created))
    }

    async fn record(&self, records: &[FailureRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let items = dedupe_by_key(records.iter().map(failure_item).collect(), record_key);
        batch_put(&self.client, &self.requests, &self.table, items).await
    }

    async fn recent(&self, limit: usize) -> Result<Vec<FailureRecord>> {
        let now = Timestamp::now();
        let mut out = Vec::new();
        for back in 0..=DAYS_BACK {
            if out.len() >= limit {
                break;
            }
            let day = now.minus(DAY * back).day();
            let mut records = self.day(&day, limit - out.len()).await?;
            out.append(&mut records);
        }
        Ok(out)
    }
}
