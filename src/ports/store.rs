//! The voucher store port (DynamoDB): vouchers, idempotency keys, daily quotas and the index of
//! accepted vouchers.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Result;
use crate::domain::{KeyUse, Timestamp, Voucher};

/// Whether an idempotency key was free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    New,
    /// The key was recorded before (possibly by this very request, retried after a lost answer).
    Existing(Box<KeyUse>),
}

/// The outcome of leasing units of a daily quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// `granted` units (1 to the number asked) are now the caller's; `used` counts every unit
    /// handed out today, these included.
    Granted {
        granted: u32,
        used: u32,
    },
    Exhausted {
        limit: u32,
    },
}

/// A voucher the producer queued: whose it is, for status reads before it is persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub voucher_id: Uuid,
    pub sender: String,
    pub at: Timestamp,
}

/// The voucher store (DynamoDB).
#[async_trait]
pub trait VoucherStore: Send + Sync + 'static {
    /// Creates the voucher and quota tables if missing; returns (table, created) pairs.
    async fn ensure_tables(&self) -> Result<Vec<(String, bool)>>;
    /// Persists vouchers, idempotently by `voucher_id` (a second put of the same voucher changes nothing).
    /// Chunks into batches of at most 25 and retries unprocessed items with backoff.
    async fn put_vouchers(&self, vouchers: &[Voucher]) -> Result<()>;
    async fn get_voucher(&self, id: Uuid) -> Result<Option<Voucher>>;
    /// A persisted voucher and when it was persisted.
    async fn get_persisted(&self, id: Uuid) -> Result<Option<(Voucher, Option<Timestamp>)>>;
    /// How many vouchers the table holds.
    async fn count_vouchers(&self) -> Result<u64>;
    /// Records that idempotency key `record_key` (see `idempotency_record_key`) admitted
    /// `used.voucher`, with a conditional put; `Existing` with the earlier record if it was taken.
    async fn claim_idempotency_key(&self, record_key: &str, used: &KeyUse) -> Result<Claim>;
    /// The record of an idempotency key, if it was used.
    async fn idempotency_key(&self, record_key: &str) -> Result<Option<KeyUse>>;
    /// Leases up to `n` units of `subject`'s quota for `day` from a conditional counter shared by
    /// every process; never hands out more than `limit` in a day.
    async fn take_daily_quota(&self, subject: &str, day: &str, limit: u32, n: u32)
    -> Result<Quota>;
    /// Gives back `n` leased units that were not used.
    async fn return_daily_quota(&self, subject: &str, day: &str, n: u32) -> Result<()>;
    /// Records accepted vouchers (batched: 25 per request on DynamoDB; kept for 14 days).
    async fn record_accepted(&self, accepted: &[Accepted]) -> Result<()>;
    async fn accepted(&self, id: Uuid) -> Result<Option<Accepted>>;
}
