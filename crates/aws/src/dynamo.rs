//! [`VoucherStore`] on DynamoDB: the voucher table, plus a quota table holding idempotency keys,
//! daily quota counters and the index of accepted vouchers (its keys and records: `quotas`).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, Select};
use uuid::Uuid;

use super::call::Call;
use super::errors::has_code;
use super::items::{Item, stored_hash, voucher_from_item, voucher_item, voucher_key};
use super::quotas::{
    CONDITION_FAILED, KEY_RETENTION, LEASE_TRIES, NEW_TOKEN, QUOTA_RETENTION, accepted_key,
    count_of, json_attr, quota_key, ttl, writer_attr,
};
use super::tables::{batch_get, batch_put, ensure_table};
use voucherdeck_core::domain::TableDef;
use voucherdeck_core::domain::{KeyUse, Timestamp, Voucher, decide_persist};
use voucherdeck_core::ports::{
    Accepted, AcceptedRow, BackendError, Claim, Persisted, Progress, Quota, RequestCounter, Result,
    VoucherStore, WriteToken,
};

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

    /// Adds `n` to the counter if it stays within `limit` and `token` is new to it; the new count,
    /// or `None` if the condition refused it (no room, or `token` applied before).
    async fn add_units(
        &self,
        subject: &str,
        day: &str,
        limit: u32,
        n: u32,
        token: WriteToken,
    ) -> Result<Option<u32>> {
        let update = self
            .client
            .update_item()
            .table_name(&self.quota_table)
            .key("pk", quota_key(subject, day))
            .update_expression("ADD used :n SET expires_at = :ttl, #w = :seq")
            .condition_expression(format!(
                "(attribute_not_exists(used) OR used <= :max_before) AND {NEW_TOKEN}"
            ))
            .expression_attribute_names("#w", writer_attr(token.writer))
            .expression_attribute_values(":seq", AttributeValue::N(token.seq.to_string()))
            .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
            .expression_attribute_values(":ttl", ttl(QUOTA_RETENTION))
            .expression_attribute_values(":max_before", AttributeValue::N((limit - n).to_string()))
            .return_values(ReturnValue::UpdatedNew)
            .send();
        let Some(out) = self
            .call("dynamodb:UpdateItem", &self.quota_table)
            .send_unless(update, |e| has_code(e, CONDITION_FAILED))
            .await?
        else {
            return Ok(None);
        };
        let used = out.attributes().and_then(|a| a.get("used"));
        Ok(Some(count_of(used, &self.quota_table)?.ok_or_else(
            || {
                BackendError::Other(format!(
                    "{}: UpdateItem returned no counter",
                    self.quota_table
                ))
            },
        )?))
    }

    /// A counter's units used and the last `seq` it applied for `writer` (0: none), read
    /// consistently.
    async fn counter(&self, subject: &str, day: &str, writer: Uuid) -> Result<(u32, u64)> {
        let AttributeValue::S(pk) = quota_key(subject, day) else {
            return Ok((0, 0));
        };
        let item = self.get_item(&self.quota_table, "pk", pk).await?;
        let get = |name: &str| item.as_ref().and_then(|i| i.get(name));
        let used = count_of(get("used"), &self.quota_table)?.unwrap_or(0);
        let last = match get(&writer_attr(writer)) {
            Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
            _ => 0,
        };
        Ok((used, last))
    }
}

#[async_trait]
impl VoucherStore for DynamoStore {
    async fn ensure_tables(&self) -> Result<Vec<(String, bool)>> {
        let mut out = Vec::with_capacity(2);
        for spec in [
            TableDef::vouchers(&self.table),
            TableDef::quotas(&self.quota_table),
        ] {
            let created = ensure_table(&self.client, &self.requests, &spec).await?;
            out.push((spec.name, created));
        }
        Ok(out)
    }

    /// Create-only-if-absent-or-identical: one consistent `BatchGetItem` reads the batch's ids, the
    /// absent vouchers are written with `BatchWriteItem`, and the present ones are compared by
    /// content hash. `BatchWriteItem` carries no conditions, so two different bodies under one
    /// fresh id, persisted by two workers at the same instant, can still race (last write wins);
    /// THOUGHTS.md says why this is accepted and how trusted senders close it.
    async fn persist_vouchers(&self, vouchers: &[Voucher]) -> Result<Vec<Persisted>> {
        if vouchers.is_empty() {
            return Ok(Vec::new());
        }
        let table = &self.table;
        let mut ids: Vec<String> = vouchers.iter().map(|v| v.voucher_id.to_string()).collect();
        ids.sort_unstable();
        ids.dedup();
        let found = batch_get(&self.client, &self.requests, table, "voucher_id", &ids).await?;
        let mut stored: HashMap<String, String> = HashMap::with_capacity(found.len());
        for item in &found {
            let id = voucher_key(item);
            let hash = stored_hash(item).map_err(|e| {
                BackendError::Other(format!("{table}: stored voucher {id} is unreadable: {e}"))
            })?;
            stored.insert(id, hash);
        }
        let (outcomes, to_write) =
            decide_persist(vouchers, |id| stored.get(&id.to_string()).cloned());
        if !to_write.is_empty() {
            let now = Timestamp::now();
            let items: Vec<Item> = to_write
                .iter()
                .map(|&i| voucher_item(&vouchers[i], now))
                .collect();
            batch_put(&self.client, &self.requests, table, items).await?;
        }
        Ok(outcomes)
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
        let request = self
            .client
            .scan()
            .table_name(&self.table)
            .select(Select::Count)
            .into_paginator()
            .send();
        let mut pages = self.call("dynamodb:Scan", &self.table).pages(request);
        let mut total: u64 = 0;
        while let Some(page) = pages.next().await? {
            total += u64::try_from(page.count()).unwrap_or(0);
        }
        Ok(total)
    }

    async fn claim_idempotency_key(&self, record_key: &str, used: &KeyUse) -> Result<Claim> {
        let json = serde_json::to_string(used).map_err(|e| {
            BackendError::Invalid(format!(
                "voucher {} cannot be encoded: {e}",
                used.voucher.voucher_id
            ))
        })?;
        let put = self
            .client
            .put_item()
            .table_name(&self.quota_table)
            .item("pk", AttributeValue::S(record_key.to_string()))
            .item("json", AttributeValue::S(json))
            .item("expires_at", ttl(KEY_RETENTION))
            .condition_expression("attribute_not_exists(pk)")
            .send();
        let claimed = self
            .call("dynamodb:PutItem", &self.quota_table)
            .send_unless(put, |e| has_code(e, CONDITION_FAILED))
            .await?;
        if claimed.is_some() {
            return Ok(Claim::New);
        }
        let existing = self.idempotency_key(record_key).await?.ok_or_else(|| {
            BackendError::Conflict(format!(
                "{}: {record_key} was used but is gone (expired?)",
                self.quota_table
            ))
        })?;
        Ok(Claim::Existing(Box::new(existing)))
    }

    async fn idempotency_key(&self, record_key: &str) -> Result<Option<KeyUse>> {
        let item = self
            .get_item(&self.quota_table, "pk", record_key.to_string())
            .await?;
        item.map(|i| json_attr(&i, &self.quota_table, record_key))
            .transpose()
    }

    /// Leases `n` units, or what is left when fewer are: the counter never passes `limit`, and a
    /// retried request is granted once.
    async fn take_daily_quota(
        &self,
        subject: &str,
        day: &str,
        limit: u32,
        n: u32,
        token: WriteToken,
    ) -> Result<Quota> {
        let mut want = n.min(limit);
        for _ in 0..LEASE_TRIES {
            if want == 0 {
                break;
            }
            if let Some(used) = self.add_units(subject, day, limit, want, token).await? {
                return Ok(Quota::Granted {
                    granted: want,
                    used,
                });
            }
            let (used, last) = self.counter(subject, day, token.writer).await?;
            if last >= token.seq {
                // An attempt whose answer was lost was applied; its retry found the token.
                return Ok(Quota::Granted {
                    granted: want,
                    used,
                });
            }
            // Fewer than `want` are left: ask for those.
            want = limit.saturating_sub(used).min(want);
        }
        Ok(Quota::Exhausted { limit })
    }

    async fn return_daily_quota(
        &self,
        subject: &str,
        day: &str,
        n: u32,
        token: WriteToken,
    ) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let update = self
            .client
            .update_item()
            .table_name(&self.quota_table)
            .key("pk", quota_key(subject, day))
            .update_expression("ADD used :minus SET #w = :seq")
            .condition_expression(format!("used >= :n AND {NEW_TOKEN}"))
            .expression_attribute_names("#w", writer_attr(token.writer))
            .expression_attribute_values(":seq", AttributeValue::N(token.seq.to_string()))
            .expression_attribute_values(":minus", AttributeValue::N(format!("-{n}")))
            .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
            .send();
        // Refused: applied before (a retry after a lost answer), or a counter already lower
        // (expired, or another day) that holds nothing of ours.
        self.call("dynamodb:UpdateItem", &self.quota_table)
            .send_unless(update, |e| has_code(e, CONDITION_FAILED))
            .await?;
        Ok(())
    }

    async fn record_accepted(&self, accepted: &[Accepted]) -> Result<()> {
        let mut items = Vec::with_capacity(accepted.len());
        for a in accepted {
            let json = serde_json::to_string(a).map_err(|e| BackendError::Other(e.to_string()))?;
            items.push(Item::from([
                (
                    "pk".to_string(),
                    AttributeValue::S(accepted_key(a.voucher_id)),
                ),
                ("json".to_string(), AttributeValue::S(json)),
                ("expires_at".to_string(), ttl(KEY_RETENTION)),
            ]));
        }
        if items.is_empty() {
            return Ok(());
        }
        batch_put(&self.client, &self.requests, &self.quota_table, items).await
    }

    async fn accepted(&self, id: Uuid) -> Result<Option<AcceptedRow>> {
        let pk = accepted_key(id);
        let Some(item) = self.get_item(&self.quota_table, "pk", pk.clone()).await? else {
            return Ok(None);
        };
        let accepted = json_attr(&item, &self.quota_table, &pk)?;
        let progress = match item.get("progress") {
            Some(AttributeValue::S(raw)) => serde_json::from_str(raw).ok(),
            _ => None,
        };
        Ok(Some(AcceptedRow { accepted, progress }))
    }

    /// One `UpdateItem`: only onto an existing row (the index row is the owner's record), and only
    /// over an older record.
    async fn record_progress(&self, voucher_id: Uuid, progress: &Progress) -> Result<()> {
        let json =
            serde_json::to_string(progress).map_err(|e| BackendError::Other(e.to_string()))?;
        let update = self
            .client
            .update_item()
            .table_name(&self.quota_table)
            .key("pk", AttributeValue::S(accepted_key(voucher_id)))
            .update_expression("SET progress = :p, progress_at = :t")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(progress_at) OR progress_at <= :t)",
            )
            .expression_attribute_values(":p", AttributeValue::S(json))
            .expression_attribute_values(":t", AttributeValue::N(progress.at.millis().to_string()))
            .send();
        self.call("dynamodb:UpdateItem", &self.quota_table)
            .send_unless(update, |e| has_code(e, CONDITION_FAILED))
            .await?;
        Ok(())
    }
}
