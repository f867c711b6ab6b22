//! [`AuditLog`] on DynamoDB (one partition per UTC day, sorted by `{at}#{id}`, each entry kept as
//! JSON, expiring after a year) and [`Identity`] from STS.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::call::Call;
use super::items::{Item, epoch_secs};
use super::tables::{TableSpec, batch_put, dedupe_by_key, ensure_table, query_day};
use crate::domain::{AuditEntry, Timestamp};
use crate::ports::{AuditLog, BackendError, Identity, RequestCounter, Result};

/// How long audit entries are kept (DynamoDB TTL).
const RETENTION: Duration = Duration::from_hours(366 * 24);
/// How many days back `recent` looks.
const DAYS_BACK: u32 = 30;
const DAY: Duration = Duration::from_hours(24);

/// The audit table.
#[derive(Debug, Clone)]
pub struct DynamoAuditLog {
    client: aws_sdk_dynamodb::Client,
    requests: RequestCounter,
    table: String,
}

impl DynamoAuditLog {
    pub fn new(client: aws_sdk_dynamodb::Client, requests: RequestCounter, table: String) -> Self {
        DynamoAuditLog {
            client,
            requests,
            table,
        }
    }
}

fn entry_item(e: &AuditEntry) -> Result<Item> {
    let json = serde_json::to_string(e).map_err(|err| BackendError::Other(err.to_string()))?;
    Ok(Item::from([
        ("day".to_string(), AttributeValue::S(e.at.day())),
        (
            "sk".to_string(),
            AttributeValue::S(format!("{}#{}", e.at, e.id)),
        ),
        ("entry".to_string(), AttributeValue::S(json)),
        (
            "expires_at".to_string(),
            AttributeValue::N(epoch_secs(e.at.plus(RETENTION)).to_string()),
        ),
    ]))
}

fn entry_from_item(item: &Item) -> Option<AuditEntry> {
    match item.get("entry") {
        Some(AttributeValue::S(json)) => serde_json::from_str(json).ok(),
        _ => None,
    }
}

fn entry_key(item: &Item) -> String {
    match item.get("sk") {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    }
}

#[async_trait]
impl AuditLog for DynamoAuditLog {
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

    async fn record(&self, entries: &[AuditEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let items = entries.iter().map(entry_item).collect::<Result<Vec<_>>>()?;
        let items = dedupe_by_key(items, entry_key);
        batch_put(&self.client, &self.requests, &self.table, items).await
    }

    async fn recent(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let now = Timestamp::now();
        let mut out = Vec::new();
        for back in 0..=DAYS_BACK {
            if out.len() >= limit {
                break;
            }
            let day = now.minus(DAY * back).day();
            let items = query_day(
                &self.client,
                &self.requests,
                &self.table,
                &day,
                limit - out.len(),
            )
            .await?;
            out.extend(items.iter().filter_map(entry_from_item));
        }
        Ok(out)
    }
}

/// The caller's ARN from `sts:GetCallerIdentity`.
#[derive(Debug, Clone)]
pub struct StsIdentity {
    client: aws_sdk_sts::Client,
    requests: RequestCounter,
}

impl StsIdentity {
    pub fn new(client: aws_sdk_sts::Client, requests: RequestCounter) -> Self {
        StsIdentity { client, requests }
    }
}

#[async_trait]
impl Identity for StsIdentity {
    async fn caller(&self) -> Result<String> {
        let call = Call::new(&self.requests, "sts:GetCallerIdentity", "caller");
        let out = call.send(self.client.get_caller_identity().send()).await?;
        out.arn()
            .map(ToString::to_string)
            .ok_or_else(|| BackendError::Other("sts:GetCallerIdentity returned no ARN".into()))
    }
}
