//! [`VoucherStore`] on DynamoDB: the voucher table, plus a quota table holding idempotency keys,
//! daily quota counters and the index of accepted vouchers (see `quotas`).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use uuid::Uuid;

use super::call::Call;
use super::items::{Item, voucher_from_item};
use super::tables::{TableSpec, ensure_table};
use voucherdeck_core::domain::{KeyUse, Timestamp, Voucher};
use voucherdeck_core::ports::{
    Accepted, BackendError, Claim, Persisted, Quota, RequestCounter, Result, VoucherStore,
};

/// Vouchers, idempotency claims and quotas on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) requests: RequestCounter,
    table: String,
    pub(super) quota_table: String,
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
    pub(super) fn call<'a>(&'a self, op: &'static str, table: &'a str) -> Call<'a> {
        Call::new(&self.requests, op, table)
    }

    /// A consistent read of one item by its string hash key.
    pub(super) async fn get_item(
        &self,
        table: &str,
        key: &str,
        value: String,
    ) -> Result<Option<Item>> {
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
        Ok(self.get_persisted(id).await?.map(|(v, _)| v))
    }

    async fn get_persisted(&self, id: Uuid) -> Result<Option<(Voucher, Option<Timestamp>)>> {
        let Some(item) = self
            .get_item(&self.table, "voucher_id", id.to_string())
            .await?
        else {
            return Ok(None);
        };
        let voucher = voucher_from_item(&item).map_err(|e| {
            BackendError::Other(format!("{}: voucher {id} is unreadable: {e}", self.table))
        })?;
        let at = match item.get("persisted_at") {
            Some(AttributeValue::S(s)) => Timestamp::parse_rfc3339(s),
            _ => None,
        };
        Ok(Some((voucher, at)))
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

    async fn claim_idempotency_key(&self, record_key: &str, used: &KeyUse) -> Result<Claim> {
        self.claim_key(record_key, used).await
    }

    async fn idempotency_key(&self, record_key: &str) -> Result<Option<KeyUse>> {
        self.read_key(record_key).await
    }

    async fn take_daily_quota(
        &self,
        subject: &str,
        day: &str,
        limit: u32,
        n: u32,
    ) -> Result<Quota> {
        self.lease_quota(subject, day, limit, n).await
    }

    async fn return_daily_quota(&self, subject: &str, day: &str, n: u32) -> Result<()> {
        self.give_back_quota(subject, day, n).await
    }

    async fn record_accepted(&self, accepted: &[Accepted]) -> Result<()> {
        self.put_accepted(accepted).await
    }

    async fn accepted(&self, id: Uuid) -> Result<Option<Accepted>> {
        self.read_accepted(id).await
    }
}
