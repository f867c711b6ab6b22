//! A day-partitioned log table on DynamoDB, shared by the failure log and the audit log: partition
//! `day` (UTC), sort key `sk` (`{at}#{id}`, so a descending query gives the newest first), and a
//! TTL attribute `expires_at`.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::call::Call;
use super::errors::has_code;
use super::items::Item;
use super::tables::{batch_put, batch_put_once, dedupe_by_key, ensure_table, query_day};
use voucherdeck_core::domain::TableDef;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::{RequestCounter, Result};

const DAY: Duration = Duration::from_hours(24);

/// One log table.
#[derive(Debug, Clone)]
pub(crate) struct DayLog {
    client: Client,
    requests: RequestCounter,
    table: String,
    /// How many days before today `newest` looks.
    days_back: u32,
}

impl DayLog {
    pub(crate) fn new(
        client: Client,
        requests: RequestCounter,
        table: String,
        days_back: u32,
    ) -> Self {
        DayLog {
            client,
            requests,
            table,
            days_back,
        }
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table if missing; returns (table, created).
    pub(crate) async fn ensure(&self) -> Result<(String, bool)> {
        let spec = TableDef::day_log(&self.table, "");
        let created = ensure_table(&self.client, &self.requests, &spec).await?;
        Ok((self.table.clone(), created))
    }

    /// Puts items (each with `day` and `sk`), 25 per request.
    pub(crate) async fn put(&self, items: Vec<Item>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let items = dedupe_by_key(items, entry_key);
        batch_put(&self.client, &self.requests, &self.table, items).await
    }

    /// Puts one item only if no item has its key (`attribute_not_exists(sk)`): an item already
    /// there is kept as it is and the put counts as done (the same entry, written by an attempt
    /// whose answer was lost; keys are unique).
    pub(crate) async fn put_new(&self, item: Item) -> Result<()> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(sk)")
            .send();
        Call::new(&self.requests, "dynamodb:PutItem", &self.table)
            .send_unless(put, |e| has_code(e, "ConditionalCheckFailedException"))
            .await?;
        Ok(())
    }

    /// Puts items (each with `day` and `sk`), one `BatchWriteItem` per 25 without retrying:
    /// returns the items DynamoDB left unprocessed.
    pub(crate) async fn put_once(&self, items: Vec<Item>) -> Result<Vec<Item>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let items = dedupe_by_key(items, entry_key);
        batch_put_once(&self.client, &self.requests, &self.table, items).await
    }

    /// Up to `limit` items stamped at or after `from` (all when `None`), newest first: one query
    /// per day from today back to `from`'s day (at most `days_back` days back).
    pub(crate) async fn newest_since(
        &self,
        from: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<Item>> {
        let now = Timestamp::now();
        let from_sk = from.map(|t| t.to_string());
        let first_day = from.map(Timestamp::day);
        let mut out = Vec::new();
        for back in 0..=self.days_back {
            if out.len() >= limit {
                break;
            }
            let day = now.minus(DAY * back).day();
            let items = query_day(
                &self.client,
                &self.requests,
                &self.table,
                &day,
                from_sk.as_deref(),
                limit - out.len(),
            )
            .await?;
            out.extend(items);
            if first_day
                .as_deref()
                .is_some_and(|first| day.as_str() <= first)
            {
                break;
            }
        }
        Ok(out)
    }
}

/// The key of a log item: `day|sk`.
fn entry_key(item: &Item) -> String {
    match (item.get("day"), item.get("sk")) {
        (Some(AttributeValue::S(d)), Some(AttributeValue::S(s))) => format!("{d}|{s}"),
        _ => String::new(),
    }
}
