//! Where a voucher is: queued, persisted, retrying or dead-lettered, and whose it is.

use serde::Serialize;
use uuid::Uuid;

use super::services::Pipeline;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::Result;

/// Failure records looked through for a voucher not yet persisted.
const FAILURES_SCANNED: usize = 500;

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
    /// A voucher's state: persisted (the voucher table), retrying or dead-lettered (its newest
    /// failure record), or queued (accepted, not yet persisted); `None` when it was never accepted.
    pub async fn voucher_status(&self, id: Uuid) -> Result<Option<VoucherStatus>> {
        let store = &self.backend().store;
        if let Some((voucher, at)) = store.get_persisted(id).await? {
            return Ok(Some(VoucherStatus {
                voucher_id: id,
                sender: voucher.sender,
                state: VoucherState::Persisted,
                reason: None,
                persisted_at: at,
            }));
        }
        let Some(accepted) = store.accepted(id).await? else {
            return Ok(None);
        };
        let failures = self.recent_failures(FAILURES_SCANNED).await?;
        let newest = failures.iter().find(|f| f.voucher_id == Some(id));
        let (state, reason) = match newest {
            Some(f) if f.dead_lettered => (VoucherState::DeadLettered, Some(f.reason.clone())),
            Some(f) => (VoucherState::Retrying, Some(f.reason.clone())),
            None => (VoucherState::Queued, None),
        };
        Ok(Some(VoucherStatus {
            voucher_id: id,
            sender: accepted.sender,
            state,
            reason,
            persisted_at: None,
        }))
    }
}
