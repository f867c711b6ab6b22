//! [`VoucherStore`] on DynamoDB: the voucher table, plus a quota table holding idempotency claims
//! (`idem#{sender}#{key}`) and daily quota counters (`quota#{sender}#{day}`).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, Select};
use uuid::Uuid;

use super::call::Call;
use super::errors::has_code;
use super::items::{Item, epoch_secs, voucher_from_item};
use super::tables::{TableSpec, ensure_table};
use crate::domain::{Timestamp, Voucher};
use crate::ports::{BackendError, Claim, Persisted, Quota, RequestCounter, Result, VoucherStore};

/// How long a daily quota counter lives (DynamoDB TTL on `expires_at`).
const QUOTA_RETENTION: Duration = Duration::from_hours(48);
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

/// Vouchers, idempotency claims and quotas on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    requests: RequestCounter,
    table: String,
    quota_table: String,
}

impl DynamoStore {
    pub fn new(
        client: Client,
        requests: RequestCounter,
        table: String,
        quota_table: String,
    ) -> Self {
        DynamoStore {
            client,
            requests,
            table,
            quota_table,
        }
    }

    /// One SDK call of operation `op` about `table`.
    fn call<'a>(&'a self, op: &'static str, table: &'a str) -> Call<'a> {
        Call::new(&self.requests, op, table)
    }

    /// A consistent read of one item by its string hash key.
    async fn get_item(&self, table: &str, key: &str, value: String) -> Result<Option<Item>> {
        let request = self
            .client
            .get_item()
            .table_name(table)
            .key(key, AttributeValue::S(value))
            .consistent_read(true)
            .send();
        let out = self.call("dynamodb:GetItem", table).send(request).await?;
        Ok(out.item().cloned())
    }
}

#[async_trait]
impl VoucherStore for DynamoStore {
    async fn ensure_tables(&self) -> Result<Vec<(String, bool)>> {
        let vouchers = TableSpec {
            name: &self.table,
            hash: "voucher_id",
            range: None,
            ttl: None,
        };
        let quotas = TableSpec {
            name: &self.quota_table,
            hash: "pk",
            range: None,
            ttl: Some("expires_at"),
        };
        let mut out = Vec::with_capacity(2);
        for spec in [vouchers, quotas] {
            let created = ensure_table(&self.client, &self.requests, spec).await?;
            out.push((spec.name.to_string(), created));
        }
        Ok(out)
    }

    async fn persist_vouchers(&self, vouchers: &[Voucher]) -> Result<Vec<Persisted>> {
        super::vouchers::persist(&self.client, &self.requests, &self.table, vouchers).await
    }

    async fn get_voucher(&self, id: Uuid) -> Result<Option<Voucher>> {
        let Some(item) = self
            .get_item(&self.table, "voucher_id", id.to_string())
            .await?
        else {
            return Ok(None);
        };
        voucher_from_item(&item).map(Some).map_err(|e| {
            BackendError::Other(format!("{}: voucher {id} is unreadable: {e}", self.table))
        })
    }

    async fn count_vouchers(&self) -> Result<u64> {
        let call = self.call("dynamodb:Scan", &self.table);
        let mut total: u64 = 0;
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let request = self
                .client
                .scan()
                .table_name(&self.table)
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send();
            let out = call.send(request).await?;
            total += u64::try_from(out.count()).unwrap_or(0);
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(total),
            }
        }
    }

    async fn claim_idempotency_key(
        &self,
        sender: &str,
        key: &str,
        voucher: &Voucher,
    ) -> Result<Claim> {
        let pk = format!("idem#{sender}#{key}");
        let json = serde_json::to_string(voucher).map_err(|e| {
            BackendError::Invalid(format!(
                "voucher {} cannot be encoded: {e}",
                voucher.voucher_id
            ))
        })?;
        let put = self
            .client
            .put_item()
            .table_name(&self.quota_table)
            .item("pk", AttributeValue::S(pk.clone()))
            .item("voucher", AttributeValue::S(json))
            .item(
                "voucher_id",
                AttributeValue::S(voucher.voucher_id.to_string()),
            )
            .item(
                "claimed_at",
                AttributeValue::S(Timestamp::now().to_string()),
            )
            .condition_expression("attribute_not_exists(pk)")
            .send();
        let claimed = self
            .call("dynamodb:PutItem", &self.quota_table)
            .send_unless(put, |e| has_code(e, CONDITION_FAILED))
            .await?;
        if claimed.is_some() {
            return Ok(Claim::New);
        }
        let item = self
            .get_item(&self.quota_table, "pk", pk.clone())
            .await?
            .ok_or_else(|| {
                BackendError::Conflict(format!(
                    "{}: {pk} was claimed but is gone (expired?)",
                    self.quota_table
                ))
            })?;
        let Some(AttributeValue::S(raw)) = item.get("voucher") else {
            return Err(BackendError::Other(format!(
                "{}: {pk} holds no voucher",
                self.quota_table
            )));
        };
        let existing: Voucher = serde_json::from_str(raw).map_err(|e| {
            BackendError::Other(format!(
                "{}: {pk} holds an unreadable voucher: {e}",
                self.quota_table
            ))
        })?;
        Ok(Claim::Existing(Box::new(existing)))
    }

    async fn release_idempotency_key(
        &self,
        sender: &str,
        key: &str,
        voucher_id: Uuid,
    ) -> Result<()> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.quota_table)
            .key("pk", AttributeValue::S(format!("idem#{sender}#{key}")))
            .condition_expression("voucher_id = :v")
            .expression_attribute_values(":v", AttributeValue::S(voucher_id.to_string()))
            .send();
        // Claimed by another voucher, or already gone: nothing of ours to release.
        self.call("dynamodb:DeleteItem", &self.quota_table)
            .send_unless(delete, |e| has_code(e, CONDITION_FAILED))
            .await?;
        Ok(())
    }

    async fn take_daily_quota(&self, sender: &str, day: &str, limit: u32) -> Result<Quota> {
        if limit == 0 {
            return Ok(Quota::Exhausted { limit });
        }
        let expires_at = epoch_secs(Timestamp::now().plus(QUOTA_RETENTION));
        let update = self
            .client
            .update_item()
            .table_name(&self.quota_table)
            .key("pk", AttributeValue::S(format!("quota#{sender}#{day}")))
            .update_expression("ADD used :one SET expires_at = :ttl")
            .condition_expression("attribute_not_exists(used) OR used < :limit")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires_at.to_string()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .return_values(ReturnValue::UpdatedNew)
            .send();
        let Some(out) = self
            .call("dynamodb:UpdateItem", &self.quota_table)
            .send_unless(update, |e| has_code(e, CONDITION_FAILED))
            .await?
        else {
            return Ok(Quota::Exhausted { limit });
        };
        let used = match out.attributes().and_then(|a| a.get("used")) {
            Some(AttributeValue::N(n)) => n.parse().ok(),
            _ => None,
        };
        let used = used.ok_or_else(|| {
            BackendError::Other(format!(
                "{}: UpdateItem returned no counter",
                self.quota_table
            ))
        })?;
        Ok(Quota::Granted { used })
    }
}
