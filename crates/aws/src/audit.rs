//! [`AuditLog`] on DynamoDB (a day-partitioned log table, see `day_log`; each entry kept as JSON,
//! expiring after a year) and [`Identity`] from STS. Entries are only ever added: one entry is a
//! `PutItem` on `attribute_not_exists(sk)`, a batch a `BatchWriteItem` of fresh keys whose
//! unprocessed items are handed back for the caller to retry.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use super::call::Call;
use super::day_log::DayLog;
use super::items::{Item, epoch_secs};
use voucherdeck_core::domain::limits::AUDIT_READ_DAYS;
use voucherdeck_core::domain::{AuditEntry, Timestamp};
use voucherdeck_core::ports::{AuditLog, BackendError, Identity, RequestCounter, Result};

/// How long audit entries are kept (DynamoDB TTL).
const RETENTION: Duration = Duration::from_hours(366 * 24);

/// The audit table.
#[derive(Debug, Clone)]
pub struct DynamoAuditLog {
    log: DayLog,
}

impl DynamoAuditLog {
    pub fn new(client: aws_sdk_dynamodb::Client, requests: RequestCounter, table: String) -> Self {
        DynamoAuditLog {
            log: DayLog::new(client, requests, table, AUDIT_READ_DAYS),
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

/// The entry id an item's sort key (`{at}#{id}`) ends with.
fn entry_id(item: &Item) -> Option<Uuid> {
    match item.get("sk") {
        Some(AttributeValue::S(sk)) => sk.rsplit_once('#').and_then(|(_, id)| id.parse().ok()),
        _ => None,
    }
}

fn entry_from_item(item: &Item) -> Option<AuditEntry> {
    match item.get("entry") {
        Some(AttributeValue::S(json)) => serde_json::from_str(json).ok(),
        _ => None,
    }
}

#[async_trait]
impl AuditLog for DynamoAuditLog {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        self.log.ensure().await
    }

    async fn record(&self, entries: &[AuditEntry]) -> Result<Vec<Uuid>> {
        let mut items = entries.iter().map(entry_item).collect::<Result<Vec<_>>>()?;
        if items.len() == 1
            && let Some(item) = items.pop()
        {
            self.log.put_new(item).await?;
            return Ok(Vec::new());
        }
        let left = self.log.put_once(items).await?;
        Ok(left.iter().filter_map(entry_id).collect())
    }

    async fn recent(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let items = self.log.newest_since(None, limit).await?;
        Ok(items.iter().filter_map(entry_from_item).collect())
    }

    async fn since(&self, from: Timestamp, limit: usize) -> Result<Vec<AuditEntry>> {
        let items = self.log.newest_since(Some(from), limit).await?;
        Ok(items.iter().filter_map(entry_from_item).collect())
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
