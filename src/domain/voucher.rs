//! Vouchers: a validated gift with its identity and creation time.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::amount::Amount;
use super::gift::ValidGift;
use super::recipient::Recipient;
use super::time::Timestamp;

/// A voucher, as queued and as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    pub voucher_id: Uuid,
    pub created_at: Timestamp,
    pub recipient: Recipient,
    pub amount: Amount,
    pub currency: String,
    pub sender: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

impl Voucher {
    /// A new voucher with a fresh UUID v7.
    pub fn new(gift: ValidGift, now: Timestamp) -> Self {
        Voucher::with_id(Uuid::now_v7(), gift, now)
    }

    /// The voucher `voucher_id` for a gift.
    pub fn with_id(voucher_id: Uuid, gift: ValidGift, created_at: Timestamp) -> Self {
        Voucher {
            voucher_id,
            created_at,
            recipient: gift.recipient,
            amount: gift.amount,
            currency: gift.currency,
            sender: gift.sender,
            note: gift.note,
            idempotency_key: gift.idempotency_key,
        }
    }

    /// The gift part of the voucher.
    pub fn gift(&self) -> ValidGift {
        ValidGift {
            recipient: self.recipient.clone(),
            amount: self.amount,
            currency: self.currency.clone(),
            sender: self.sender.clone(),
            note: self.note.clone(),
            idempotency_key: self.idempotency_key.clone(),
        }
    }
}
