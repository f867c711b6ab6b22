//! The quota table of [`DynamoStore`]: idempotency keys (`idem#…`, see
//! `idempotency_record_key`), daily quota counters leased in blocks (`quota#<len>#<subject>#<day>`)
//! and the index of accepted vouchers (`acc#<id>`), each kept for a while by DynamoDB TTL.

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use uuid::Uuid;

use super::dynamo::DynamoStore;
use super::errors::has_code;
use super::items::{Item, epoch_secs};
use super::tables::batch_put;
use voucherdeck_core::domain::{KeyUse, Timestamp};
use voucherdeck_core::ports::{Accepted, BackendError, Claim, Quota, Result};

/// How long a daily quota counter lives (DynamoDB TTL on `expires_at`).
const QUOTA_RETENTION: Duration = Duration::from_hours(48);
/// How long idempotency keys and the accepted-voucher index are kept.
const KEY_RETENTION: Duration = Duration::from_hours(14 * 24);
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";
/// Tries of a lease that lost a race at the edge of the cap.
const LEASE_TRIES: u32 = 4;

fn quota_key(subject: &str, day: &str) -> AttributeValue {
    AttributeValue::S(format!("quota#{}#{subject}#{day}", subject.len()))
}

fn accepted_key(id: Uuid) -> String {
    format!("acc#{id}")
}

fn ttl(after: Duration) -> AttributeValue {
    AttributeValue::N(epoch_secs(Timestamp::now().plus(after)).to_string())
}

fn json_attr<T: serde::de::DeserializeOwned>(item: &Item, table: &str, pk: &str) -> Result<T> {
    let Some(AttributeValue::S(raw)) = item.get("json") else {
        return Err(BackendError::Other(format!(
            "{table}: {pk} holds no record"
        )));
    };
    serde_json::from_str(raw)
        .map_err(|e| BackendError::Other(format!("{table}: {pk} holds an unreadable record: {e}")))
}

impl DynamoStore {
    pub(super) async fn claim_key(&self, record_key: &str, used: &KeyUse) -> Result<Claim> {
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
        let existing = self.read_key(record_key).await?.ok_or_else(|| {
            BackendError::Conflict(format!(
                "{}: {record_key} was used but is gone (expired?)",
                self.quota_table
            ))
        })?;
        Ok(Claim::Existing(Box::new(existing)))
    }

    pub(super) async fn read_key(&self, record_key: &str) -> Result<Option<KeyUse>> {
        let item = self
            .get_item(&self.quota_table, "pk", record_key.to_string())
            .await?;
        item.map(|i| json_attr(&i, &self.quota_table, record_key))
            .transpose()
    }

    /// Leases `n` units, or what is left when fewer are: the counter never passes `limit`.
    pub(super) async fn lease_quota(
        &self,
        subject: &str,
        day: &str,
        limit: u32,
        n: u32,
    ) -> Result<Quota> {
        let mut want = n.min(limit);
        for _ in 0..LEASE_TRIES {
            if want == 0 {
                break;
            }
            if let Some(used) = self.add_units(subject, day, limit, want).await? {
                return Ok(Quota::Granted {
                    granted: want,
                    used,
                });
            }
            // Fewer than `want` are left: read how many, and ask for those.
            want = limit
                .saturating_sub(self.units_used(subject, day).await?)
                .min(want);
        }
        Ok(Quota::Exhausted { limit })
    }

    /// Adds `n` to the counter if it stays within `limit`; the new count, or `None` if it would not.
    async fn add_units(&self, subject: &str, day: &str, limit: u32, n: u32) -> Result<Option<u32>> {
        let update = self
            .client
            .update_item()
            .table_name(&self.quota_table)
            .key("pk", quota_key(subject, day))
            .update_expression("ADD used :n SET expires_at = :ttl")
            .condition_expression("attribute_not_exists(used) OR used <= :max_before")
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
        match out.attributes().and_then(|a| a.get("used")) {
            Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| {
                BackendError::Other(format!(
                    "{}: counter {v:?} is not a count",
                    self.quota_table
                ))
            }),
            _ => Err(BackendError::Other(format!(
                "{}: UpdateItem returned no counter",
                self.quota_table
            ))),
        }
    }

    async fn units_used(&self, subject: &str, day: &str) -> Result<u32> {
        let AttributeValue::S(pk) = quota_key(subject, day) else {
            return Ok(0);
        };
        let item = self.get_item(&self.quota_table, "pk", pk).await?;
        Ok(match item.as_ref().and_then(|i| i.get("used")) {
            Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
            _ => 0,
        })
    }

    pub(super) async fn give_back_quota(&self, subject: &str, day: &str, n: u32) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let update = self
            .client
            .update_item()
            .table_name(&self.quota_table)
            .key("pk", quota_key(subject, day))
            .update_expression("ADD used :minus")
            .condition_expression("used >= :n")
            .expression_attribute_values(":minus", AttributeValue::N(format!("-{n}")))
            .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
            .send();
        // A counter already lower (expired, or another day) has nothing of ours to take back.
        self.call("dynamodb:UpdateItem", &self.quota_table)
            .send_unless(update, |e| has_code(e, CONDITION_FAILED))
            .await?;
        Ok(())
    }

    pub(super) async fn put_accepted(&self, accepted: &[Accepted]) -> Result<()> {
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

    pub(super) async fn read_accepted(&self, id: Uuid) -> Result<Option<Accepted>> {
        let pk = accepted_key(id);
        let item = self.get_item(&self.quota_table, "pk", pk.clone()).await?;
        item.map(|i| json_attr(&i, &self.quota_table, &pk))
            .transpose()
    }
}
