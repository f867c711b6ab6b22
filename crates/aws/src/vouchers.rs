//! Persisting vouchers on DynamoDB, create-only-if-absent-or-identical: one consistent
//! `BatchGetItem` reads the batch's ids, the absent vouchers are written with `BatchWriteItem`,
//! and the present ones are compared by content hash. `BatchWriteItem` carries no conditions, so
//! two different bodies under one fresh id, persisted by two workers at the same instant, can still
//! race (last write wins); THOUGHTS.md says why this is accepted and how trusted senders close it.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{Item, stored_hash, voucher_item};
use super::tables::{batch_get, batch_put};
use voucherdeck_core::domain::{Timestamp, Voucher, decide_persist};
use voucherdeck_core::ports::{BackendError, Persisted, RequestCounter, Result};

/// Persists `vouchers` into `table` (key `voucher_id`); one outcome per voucher, in order.
pub(crate) async fn persist(
    client: &Client,
    requests: &RequestCounter,
    table: &str,
    vouchers: &[Voucher],
) -> Result<Vec<Persisted>> {
    if vouchers.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<String> = vouchers.iter().map(|v| v.voucher_id.to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    let found = batch_get(client, requests, table, "voucher_id", &ids).await?;
    let mut stored: HashMap<String, String> = HashMap::with_capacity(found.len());
    for item in &found {
        let id = key_of(item);
        let hash = stored_hash(item).map_err(|e| {
            BackendError::Other(format!("{table}: stored voucher {id} is unreadable: {e}"))
        })?;
        stored.insert(id, hash);
    }
    let (outcomes, to_write) = decide_persist(vouchers, |id| stored.get(&id.to_string()).cloned());
    if !to_write.is_empty() {
        let now = Timestamp::now();
        let items: Vec<Item> = to_write
            .iter()
            .map(|&i| voucher_item(&vouchers[i], now))
            .collect();
        batch_put(client, requests, table, items).await?;
    }
    Ok(outcomes)
}

fn key_of(item: &Item) -> String {
    match item.get("voucher_id") {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    }
}
