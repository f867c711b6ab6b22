//! The voucher store port (DynamoDB): vouchers, idempotency keys, daily quotas and the index of
//! accepted vouchers.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::Result;
pub use crate::domain::Persisted;
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

/// Which process mutates a shared counter, and its how-manyth mutation. The counter remembers the
/// last `seq` it applied for each writer and refuses one at or below it, so a request the SDK
/// retried after a lost answer, or the network delivered twice, is applied once. A writer's
/// mutations of one counter are made one at a time, each with a larger `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteToken {
    pub writer: Uuid,
    pub seq: u64,
}

/// A voucher the producer queued: whose it is, for status reads before it is persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub voucher_id: Uuid,
    pub sender: String,
    pub at: Timestamp,
}

/// What the consumer last recorded of an accepted voucher it has not persisted (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The failure sent it to the DLQ; else it is retried.
    pub dead_lettered: bool,
    /// Why it failed (masked, as in the failure log).
    pub reason: String,
    pub at: Timestamp,
}

/// An accepted voucher's index row: whose it is, and what the consumer last recorded of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedRow {
    pub accepted: Accepted,
    pub progress: Option<Progress>,
}

/// The voucher store (DynamoDB).
#[async_trait]
pub trait VoucherStore: Send + Sync + 'static {
    /// Creates the voucher and quota tables if missing; returns (table, created) pairs.
    async fn ensure_tables(&self) -> Result<Vec<(String, bool)>>;
    /// Persists vouchers, each only if its id is absent: one outcome per voucher, in order. A
    /// voucher already stored is left as it is, whether the new one is identical (a redelivery) or
    /// not (a conflict, with the stored content's hash). Within one call, a later voucher under an
    /// id an earlier one created is compared with that one. The content hash is stored with each
    /// voucher. On DynamoDB: one consistent `BatchGetItem` per 100 ids, then `BatchWriteItem` of
    /// the absent ones, 25 per call, unprocessed items retried with backoff.
    async fn persist_vouchers(&self, vouchers: &[Voucher]) -> Result<Vec<Persisted>>;
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
    /// every process; never hands out more than `limit` in a day. Safe to retry: a `token`
    /// already applied answers what it was granted and changes nothing.
    async fn take_daily_quota(
        &self,
        subject: &str,
        day: &str,
        limit: u32,
        n: u32,
        token: WriteToken,
    ) -> Result<Quota>;
    /// Gives back `n` leased units that were not used; a `token` already applied changes nothing.
    async fn return_daily_quota(
        &self,
        subject: &str,
        day: &str,
        n: u32,
        token: WriteToken,
    ) -> Result<()>;
    /// Records accepted vouchers (batched: 25 per request on DynamoDB; kept for 14 days).
    async fn record_accepted(&self, accepted: &[Accepted]) -> Result<()>;
    /// An accepted voucher's row (one read): whose it is and its progress.
    async fn accepted(&self, id: Uuid) -> Result<Option<AcceptedRow>>;
    /// Records on an accepted voucher's row what became of a delivery that failed (one write, a
    /// no-op when there is no row, or when the row holds a newer record).
    async fn record_progress(&self, voucher_id: Uuid, progress: &Progress) -> Result<()>;
}
