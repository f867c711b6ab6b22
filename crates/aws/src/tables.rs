//! DynamoDB plumbing shared by the voucher store and the failure log: table creation, TTL,
//! `BatchWriteItem` in chunks of 25 and consistent `BatchGetItem` in chunks of 100, with retries of
//! unprocessed items.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, KeysAndAttributes,
    PutRequest, ScalarAttributeType, TableStatus, TimeToLiveSpecification, WriteRequest,
};

use super::call::Call;
use super::errors::has_code;
use super::items::Item;
use voucherdeck_core::domain::TableDef;
use voucherdeck_core::ports::{
    BackendError, DYNAMO_BATCH_GET_MAX, DYNAMO_BATCH_MAX, RequestCounter, Result,
};

/// Attempts of one chunk while DynamoDB leaves items unprocessed.
const BATCH_ATTEMPTS: u32 = 8;
/// First backoff between attempts; doubles up to [`BACKOFF_CAP`], with full jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(50);
const BACKOFF_CAP: Duration = Duration::from_secs(2);
/// How long to wait for a new table to become ACTIVE.
const ACTIVE_WAIT: Duration = Duration::from_mins(1);
const ACTIVE_POLL: Duration = Duration::from_millis(250);

/// Up to `limit` items of one partition `day` (key attribute `day`) of a day-partitioned log
/// table, newest first (descending sort key), following pages as needed.
pub(crate) async fn query_day(
    client: &Client,
    requests: &RequestCounter,
    table: &str,
    day: &str,
    from_sk: Option<&str>,
    limit: usize,
) -> Result<Vec<Item>> {
    let call = Call::new(requests, "dynamodb:Query", table);
    // Not the SDK's paginator: each page asks only for what is still wanted (`Limit` shrinks as
    // items arrive), where a paginator sends its first request again with only the start key
    // changed, reading items that would be thrown away.
    let mut out = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    while out.len() < limit {
        let page_size = i32::try_from(limit - out.len()).unwrap_or(i32::MAX);
        let request = client
            .query()
            .table_name(table)
            .expression_attribute_names("#d", "day")
            .expression_attribute_values(":d", AttributeValue::S(day.to_string()));
        let request = match from_sk {
            Some(from) => request
                .key_condition_expression("#d = :d AND #s >= :from")
                .expression_attribute_names("#s", "sk")
                .expression_attribute_values(":from", AttributeValue::S(from.to_string())),
            None => request.key_condition_expression("#d = :d"),
        };
        let request = request
            .scan_index_forward(false)
            .limit(page_size)
            .set_exclusive_start_key(start.take())
            .send();
        let page = call.send(request).await?;
        out.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => break,
        }
    }
    out.truncate(limit);
    Ok(out)
}

/// Puts `items` into `table` with `BatchWriteItem`, at most 25 per call, retrying unprocessed items
/// with exponential backoff and jitter. Items must have distinct keys (callers dedupe).
pub(crate) async fn batch_put(
    client: &Client,
    requests: &RequestCounter,
    table: &str,
    items: Vec<Item>,
) -> Result<()> {
    let call = Call::new(requests, "dynamodb:BatchWriteItem", table);
    let mut pending = put_requests(call, items)?;
    while !pending.is_empty() {
        let rest = pending.split_off(pending.len().min(DYNAMO_BATCH_MAX));
        let chunk = std::mem::replace(&mut pending, rest);
        write_chunk(client, call, chunk).await?;
    }
    Ok(())
}

/// Puts `items` into `table` with one `BatchWriteItem` per 25 and no retry of its own: returns the
/// items DynamoDB left unprocessed, for a caller that retries on its own schedule (the audit
/// writer, which bounds its retries in time). Items must have distinct keys.
pub(crate) async fn batch_put_once(
    client: &Client,
    requests: &RequestCounter,
    table: &str,
    items: Vec<Item>,
) -> Result<Vec<Item>> {
    let call = Call::new(requests, "dynamodb:BatchWriteItem", table);
    let mut unprocessed = Vec::new();
    for chunk in put_requests(call, items)?.chunks(DYNAMO_BATCH_MAX) {
        let request = client
            .batch_write_item()
            .request_items(table, chunk.to_vec())
            .send();
        let out = call.send(request).await?;
        let left = out.unprocessed_items().and_then(|u| u.get(table));
        unprocessed.extend(
            left.into_iter()
                .flatten()
                .filter_map(|w| w.put_request().map(|p| p.item().clone())),
        );
    }
    Ok(unprocessed)
}

/// Each item as a `PutRequest`.
fn put_requests(call: Call<'_>, items: Vec<Item>) -> Result<Vec<WriteRequest>> {
    items
        .into_iter()
        .map(|item| {
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| call.build_error(&e))?;
            Ok(WriteRequest::builder().put_request(put).build())
        })
        .collect()
}

async fn write_chunk(client: &Client, call: Call<'_>, mut chunk: Vec<WriteRequest>) -> Result<()> {
    let table = call.resource();
    debug_assert!(chunk.len() <= DYNAMO_BATCH_MAX);
    for attempt in 0..BATCH_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let request = client.batch_write_item().request_items(table, chunk).send();
        let out = call.send(request).await?;
        chunk = out
            .unprocessed_items()
            .and_then(|u| u.get(table))
            .cloned()
            .unwrap_or_default();
        if chunk.is_empty() {
            return Ok(());
        }
        tracing::debug!(
            table,
            unprocessed = chunk.len(),
            attempt,
            "BatchWriteItem left items unprocessed"
        );
    }
    Err(BackendError::Throttled(format!(
        "{table}: {} items still unprocessed after {BATCH_ATTEMPTS} BatchWriteItem attempts",
        chunk.len()
    )))
}

/// The items of `table` whose string hash key `key` has one of `values` (absent ones are simply
/// not returned), with consistent `BatchGetItem` reads of at most 100 keys, retrying unprocessed
/// keys with exponential backoff and jitter. Values must be distinct.
pub(crate) async fn batch_get(
    client: &Client,
    requests: &RequestCounter,
    table: &str,
    key: &str,
    values: &[String],
) -> Result<Vec<Item>> {
    let call = Call::new(requests, "dynamodb:BatchGetItem", table);
    let mut items = Vec::with_capacity(values.len());
    for chunk in values.chunks(DYNAMO_BATCH_GET_MAX) {
        let keys = chunk
            .iter()
            .map(|v| Item::from([(key.to_string(), AttributeValue::S(v.clone()))]))
            .collect();
        items.extend(get_chunk(client, call, keys).await?);
    }
    Ok(items)
}

async fn get_chunk(client: &Client, call: Call<'_>, mut keys: Vec<Item>) -> Result<Vec<Item>> {
    let table = call.resource();
    let mut items = Vec::with_capacity(keys.len());
    for attempt in 0..BATCH_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let wanted = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|e| call.build_error(&e))?;
        let request = client.batch_get_item().request_items(table, wanted).send();
        let out = call.send(request).await?;
        if let Some(found) = out.responses().and_then(|r| r.get(table)) {
            items.extend(found.iter().cloned());
        }
        keys = out
            .unprocessed_keys()
            .and_then(|u| u.get(table))
            .map(|k| k.keys().to_vec())
            .unwrap_or_default();
        if keys.is_empty() {
            return Ok(items);
        }
    }
    Err(BackendError::Throttled(format!(
        "{table}: {} keys still unprocessed after {BATCH_ATTEMPTS} BatchGetItem attempts",
        keys.len()
    )))
}

/// Full-jitter exponential backoff before retry `attempt` (1-based).
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1 << attempt.min(10))
        .min(BACKOFF_CAP);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(millis / 2..=millis))
}

/// Creates the table (on-demand billing) if missing, waits until it is ACTIVE and enables its TTL.
/// Returns whether it was created.
pub(crate) async fn ensure_table(
    client: &Client,
    requests: &RequestCounter,
    spec: &TableDef,
) -> Result<bool> {
    let (created, status) = match describe_status(client, requests, &spec.name).await? {
        Some(status) => (false, Some(status)),
        None => create_table(client, requests, spec).await?,
    };
    if status != Some(TableStatus::Active) {
        wait_active(client, requests, &spec.name).await?;
    }
    if let Some(attr) = spec.ttl {
        enable_ttl(client, requests, &spec.name, attr).await?;
    }
    Ok(created)
}

/// The table's status, `None` if it does not exist.
async fn describe_status(
    client: &Client,
    requests: &RequestCounter,
    table: &str,
) -> Result<Option<TableStatus>> {
    let out = Call::new(requests, "dynamodb:DescribeTable", table)
        .send_unless(client.describe_table().table_name(table).send(), |e| {
            has_code(e, "ResourceNotFoundException")
        })
        .await?;
    Ok(out.map(|o| {
        o.table()
            .and_then(|t| t.table_status())
            .cloned()
            .unwrap_or(TableStatus::Active)
    }))
}

/// Creates the table; returns whether this call created it and the status it reported.
async fn create_table(
    client: &Client,
    requests: &RequestCounter,
    spec: &TableDef,
) -> Result<(bool, Option<TableStatus>)> {
    let call = Call::new(requests, "dynamodb:CreateTable", &spec.name);
    let mut keys = vec![(spec.hash, KeyType::Hash)];
    if let Some(range) = spec.range {
        keys.push((range, KeyType::Range));
    }
    let mut request = client
        .create_table()
        .table_name(&spec.name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attr, key_type) in keys {
        let def = AttributeDefinition::builder()
            .attribute_name(attr)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| call.build_error(&e))?;
        let key = KeySchemaElement::builder()
            .attribute_name(attr)
            .key_type(key_type)
            .build()
            .map_err(|e| call.build_error(&e))?;
        request = request.attribute_definitions(def).key_schema(key);
    }
    // Created meanwhile by another process: `None`.
    let created = call
        .send_unless(request.send(), |e| has_code(e, "ResourceInUseException"))
        .await?;
    Ok(match created {
        Some(out) => (
            true,
            out.table_description()
                .and_then(|t| t.table_status())
                .cloned(),
        ),
        None => (false, None),
    })
}

async fn wait_active(client: &Client, requests: &RequestCounter, table: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + ACTIVE_WAIT;
    loop {
        match describe_status(client, requests, table).await? {
            Some(TableStatus::Active) => return Ok(()),
            Some(_) | None if tokio::time::Instant::now() >= deadline => {
                return Err(BackendError::Timeout(format!(
                    "{table}: not ACTIVE after {} s",
                    ACTIVE_WAIT.as_secs()
                )));
            }
            _ => tokio::time::sleep(ACTIVE_POLL).await,
        }
    }
}

/// Enables TTL on `attr`; "already enabled" is success.
async fn enable_ttl(
    client: &Client,
    requests: &RequestCounter,
    table: &str,
    attr: &str,
) -> Result<()> {
    let call = Call::new(requests, "dynamodb:UpdateTimeToLive", table);
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(attr)
        .build()
        .map_err(|e| call.build_error(&e))?;
    let request = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send();
    call.send_unless(request, |e| {
        let message = aws_sdk_dynamodb::error::ProvideErrorMetadata::message(e)
            .unwrap_or_default()
            .to_ascii_lowercase();
        message.contains("already enabled") || message.contains("multiple times")
    })
    .await?;
    Ok(())
}

/// Keeps the last item for each key (a `BatchWriteItem` refuses duplicate keys in one call).
pub(crate) fn dedupe_by_key(items: Vec<Item>, key: impl Fn(&Item) -> String) -> Vec<Item> {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(items.len());
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    for item in items {
        let k = key(&item);
        if let Some(&i) = index.get(&k) {
            out[i] = item;
        } else {
            index.insert(k, out.len());
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            assert!(d <= BACKOFF_CAP, "{d:?}");
            assert!(d >= BACKOFF_BASE, "{d:?}");
        }
    }

    #[test]
    fn dedupe_keeps_last() {
        use aws_sdk_dynamodb::types::AttributeValue;
        let item = |k: &str, v: &str| {
            Item::from([
                ("k".to_string(), AttributeValue::S(k.into())),
                ("v".to_string(), AttributeValue::S(v.into())),
            ])
        };
        let key = |i: &Item| match i.get("k") {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => String::new(),
        };
        let out = dedupe_by_key(vec![item("a", "1"), item("b", "2"), item("a", "3")], key);
        assert_eq!(out, vec![item("a", "3"), item("b", "2")]);
    }
}
