//! Where a voucher is: queued, persisted, retrying or dead-lettered, and whose it is.

use serde::Serialize;
use uuid::Uuid;

use super::services::Pipeline;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::Result;

/// A voucher's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VoucherState {
    Queued,
    Persisted,
    Retrying,
    DeadLettered,
}

/// What is known of a voucher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoucherStatus {
    pub voucher_id: Uuid,
    /// Whose it is (only its sender and operators may read it).
    #[serde(skip)]
    pub sender: String,
    pub state: VoucherState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persisted_at: Option<Timestamp>,
}

impl Pipeline {
    /// A voucher's state, for `reader` (a sender: only their own vouchers; `None`: an operator,
    /// any voucher). At most two reads: the voucher's index row first (whose it is, and what the
    /// consumer last recorded of it: retrying or dead-lettered, with the reason), so another
    /// sender's voucher costs one read; then the voucher table (persisted). `None` when it was
    /// never accepted, or is not the reader's.
    pub async fn voucher_status(
        &self,
        id: Uuid,
        reader: Option<&str>,
    ) -> Result<Option<VoucherStatus>> {
        let store = &self.backend().store;
        let row = store.accepted(id).await?;
        let owned = |sender: &str| reader.is_none_or(|r| r == sender);
        if row.as_ref().is_some_and(|r| !owned(&r.accepted.sender)) {
            return Ok(None);
        }
        if let Some((voucher, at)) = store.get_persisted(id).await? {
            return Ok(owned(&voucher.sender).then_some(VoucherStatus {
                voucher_id: id,
                sender: voucher.sender,
                state: VoucherState::Persisted,
                reason: None,
                persisted_at: at,
            }));
        }
        let Some(row) = row else {
            return Ok(None);
        };
        let (state, reason) = match row.progress {
            Some(p) if p.dead_lettered => (VoucherState::DeadLettered, Some(p.reason)),
            Some(p) => (VoucherState::Retrying, Some(p.reason)),
            None => (VoucherState::Queued, None),
        };
        Ok(Some(VoucherStatus {
            voucher_id: id,
            sender: row.accepted.sender,
            state,
            reason,
            persisted_at: None,
        }))
    }
}
