//! The keys and records of the voucher store's quota table (`DynamoStore`): idempotency keys
//! (`idem#…`, see `idempotency_record_key`), daily quota counters leased in blocks
//! (`quota#<len>#<subject>#<day>`, with each writer's last applied mutation as `w_<writer>`) and the index of accepted vouchers (`acc#<id>`), each kept for a
//! while by DynamoDB TTL.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use super::items::{Item, epoch_secs};
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::domain::limits::IDEMPOTENCY_KEY_RETENTION;
use voucherdeck_core::ports::{BackendError, Result};

/// How long a daily quota counter lives (DynamoDB TTL on `expires_at`).
pub(super) const QUOTA_RETENTION: Duration = Duration::from_hours(48);
/// How long idempotency keys and the accepted-voucher index are kept.
pub(super) const KEY_RETENTION: Duration = IDEMPOTENCY_KEY_RETENTION;
pub(super) const CONDITION_FAILED: &str = "ConditionalCheckFailedException";
/// Tries of a lease that lost a race at the edge of the cap.
pub(super) const LEASE_TRIES: u32 = 4;

/// The key of a daily quota counter.
pub(super) fn quota_key(subject: &str, day: &str) -> AttributeValue {
    AttributeValue::S(format!("quota#{}#{subject}#{day}", subject.len()))
}

/// The condition that `#w` (the writer's last applied `seq`, see `writer_attr`) is below `:seq`.
pub(super) const NEW_TOKEN: &str = "(attribute_not_exists(#w) OR #w < :seq)";

/// The counter attribute holding `writer`'s last applied mutation.
pub(super) fn writer_attr(writer: Uuid) -> String {
    format!("w_{}", writer.simple())
}

/// A counter attribute's value; `None` when absent.
pub(super) fn count_of(value: Option<&AttributeValue>, table: &str) -> Result<Option<u32>> {
    match value {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse()
            .map(Some)
            .map_err(|_| BackendError::Other(format!("{table}: counter {v:?} is not a count"))),
        Some(_) => Err(BackendError::Other(format!(
            "{table}: the counter is not a number"
        ))),
    }
}

/// The key of an accepted voucher's record.
pub(super) fn accepted_key(id: Uuid) -> String {
    format!("acc#{id}")
}

/// The TTL attribute of an item kept for `after` from now.
pub(super) fn ttl(after: Duration) -> AttributeValue {
    AttributeValue::N(epoch_secs(Timestamp::now().plus(after)).to_string())
}

/// The record an item holds as JSON (`json`); `pk` names it in errors.
pub(super) fn json_attr<T: serde::de::DeserializeOwned>(
    item: &Item,
    table: &str,
    pk: &str,
) -> Result<T> {
    let Some(AttributeValue::S(raw)) = item.get("json") else {
        return Err(BackendError::Other(format!(
            "{table}: {pk} holds no record"
        )));
    };
    serde_json::from_str(raw)
        .map_err(|e| BackendError::Other(format!("{table}: {pk} holds an unreadable record: {e}")))
}
