//! The voucher store port (DynamoDB): vouchers, idempotency claims and daily quotas.

use async_trait::async_trait;
use uuid::Uuid;

use super::Result;
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
    /// Persists vouchers, idempotently by `voucher_id` (a second put of the same voucher changes nothing).
    /// Chunks into batches of at most 25 and retries unprocessed items with backoff.
    async fn put_vouchers(&self, vouchers: &[Voucher]) -> Result<()>;
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
