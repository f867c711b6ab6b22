//! The voucher store port (DynamoDB): vouchers, idempotency claims and daily quotas.

use async_trait::async_trait;
use uuid::Uuid;

use super::Result;
pub use crate::domain::Persisted;
use crate::domain::Voucher;

/// Whether a keyed gift is new or was gifted before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    New,
    /// The key was claimed before, by this voucher.
    Existing(Box<Voucher>),
}

/// The outcome of taking one unit of a daily quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    Granted { used: u32 },
    Exhausted { limit: u32 },
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
    /// How many vouchers the table holds.
    async fn count_vouchers(&self) -> Result<u64>;
    /// Claims `(sender, key)` for `voucher` with a conditional put; `Existing` if already claimed.
    async fn claim_idempotency_key(
        &self,
        sender: &str,
        key: &str,
        voucher: &Voucher,
    ) -> Result<Claim>;
    /// Releases a claim this caller made for `voucher_id` (the gift was refused after claiming).
    /// A claim by another voucher is left alone.
    async fn release_idempotency_key(
        &self,
        sender: &str,
        key: &str,
        voucher_id: Uuid,
    ) -> Result<()>;
    /// Takes one unit of `sender`'s quota for `day` (a conditional counter shared by every process).
    async fn take_daily_quota(&self, sender: &str, day: &str, limit: u32) -> Result<Quota>;
}
