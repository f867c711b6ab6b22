//! Vouchers: a validated gift with its identity and creation time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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

    /// SHA-256 of the voucher's canonical form, as 64 lowercase hex digits: two vouchers have the
    /// same hash exactly when every field is the same (id, creation time, recipient, amount,
    /// currency, sender, note, idempotency key). The store keeps it with the voucher, so a second
    /// message under a known id is told apart as a redelivery (same hash) or a conflict.
    pub fn content_hash(&self) -> String {
        let (kind, address) = match &self.recipient {
            Recipient::Email(a) => ("email", a),
            Recipient::Wallet(a) => ("wallet", a),
        };
        // A JSON array in a fixed order: unambiguous (strings are quoted and escaped) and stable.
        let canonical = serde_json::json!([
            "voucherdeck.voucher.v1",
            self.voucher_id.to_string(),
            self.created_at.millis(),
            kind,
            address,
            self.amount.cents(),
            self.currency,
            self.sender,
            self.note,
            self.idempotency_key,
        ]);
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        digest.iter().fold(String::with_capacity(64), |mut hex, b| {
            use std::fmt::Write;
            let _ = write!(hex, "{b:02x}");
            hex
        })
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

/// What persisting one voucher did. Persisting is create-only-if-absent-or-identical: a voucher
/// once stored is never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persisted {
    /// Stored now.
    Created,
    /// Already stored with the same content (a redelivery): nothing changed.
    Identical,
    /// Already stored with other content: nothing changed. `stored_hash` is the stored voucher's
    /// [content hash](Voucher::content_hash).
    Conflict { stored_hash: String },
}

/// The persisting rule, for every store: for each voucher in order, `Identical` or `Conflict` when
/// `stored` knows a content hash under its id, else `Created`, and a later voucher under an id an
/// earlier one creates is compared with that one. Returns the outcomes and the indexes of the
/// vouchers to write (each id once).
pub fn decide_persist(
    vouchers: &[Voucher],
    stored: impl Fn(&Uuid) -> Option<String>,
) -> (Vec<Persisted>, Vec<usize>) {
    let mut created: HashMap<Uuid, String> = HashMap::new();
    let mut outcomes = Vec::with_capacity(vouchers.len());
    let mut to_write = Vec::new();
    for (i, v) in vouchers.iter().enumerate() {
        let hash = v.content_hash();
        let known = created
            .get(&v.voucher_id)
            .cloned()
            .or_else(|| stored(&v.voucher_id));
        outcomes.push(match known {
            Some(h) if h == hash => Persisted::Identical,
            Some(stored_hash) => Persisted::Conflict { stored_hash },
            None => {
                created.insert(v.voucher_id, hash);
                to_write.push(i);
                Persisted::Created
            }
        });
    }
    (outcomes, to_write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voucher() -> Voucher {
        Voucher {
            voucher_id: Uuid::from_u128(0x0190_b6d8_7f3a_7c1e_9d2b_3a4c_5d6e_7f80),
            created_at: Timestamp(1_764_072_187_123),
            recipient: Recipient::Email("ada@example.com".into()),
            amount: Amount::from_cents(2500),
            currency: "EUR".into(),
            sender: "grace".into(),
            note: None,
            idempotency_key: None,
        }
    }

    #[test]
    fn content_hash_is_stable_and_covers_every_field() {
        let v = voucher();
        let h = v.content_hash();
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(h, v.clone().content_hash(), "same content, same hash");
        let changed: Vec<Voucher> = vec![
            Voucher {
                recipient: Recipient::Email("eve@example.com".into()),
                ..v.clone()
            },
            Voucher {
                recipient: Recipient::Wallet("ada@example.com".into()),
                ..v.clone()
            },
            Voucher {
                amount: Amount::from_cents(2501),
                ..v.clone()
            },
            Voucher {
                currency: "USD".into(),
                ..v.clone()
            },
            Voucher {
                sender: "mallory".into(),
                ..v.clone()
            },
            Voucher {
                note: Some(String::new()),
                ..v.clone()
            },
            Voucher {
                idempotency_key: Some("k".into()),
                ..v.clone()
            },
            Voucher {
                created_at: Timestamp(1),
                ..v.clone()
            },
            Voucher {
                voucher_id: Uuid::nil(),
                ..v.clone()
            },
        ];
        for c in changed {
            assert_ne!(c.content_hash(), h, "{c:?}");
        }
        // Field boundaries cannot be shifted: "ab" + "c" is not "a" + "bc".
        let a = Voucher {
            sender: "ab".into(),
            note: Some("c".into()),
            ..v.clone()
        };
        let b = Voucher {
            sender: "a".into(),
            note: Some("bc".into()),
            ..v
        };
        assert_ne!(a.content_hash(), b.content_hash());
    }

    #[test]
    fn persisting_creates_only_what_is_absent() {
        let stored = voucher();
        let fresh = Voucher {
            voucher_id: Uuid::from_u128(7),
            ..voucher()
        };
        let forged = Voucher {
            amount: Amount::from_cents(99_999),
            ..voucher()
        };
        let fresh_forged = Voucher {
            sender: "mallory".into(),
            ..fresh.clone()
        };
        let known = stored.content_hash();
        let lookup = |id: &Uuid| (*id == stored.voucher_id).then(|| known.clone());
        let (out, write) = decide_persist(
            &[
                stored.clone(),
                fresh.clone(),
                forged,
                fresh.clone(),
                fresh_forged,
            ],
            lookup,
        );
        assert_eq!(
            out,
            [
                Persisted::Identical,
                Persisted::Created,
                Persisted::Conflict { stored_hash: known },
                Persisted::Identical,
                Persisted::Conflict {
                    stored_hash: fresh.content_hash()
                },
            ]
        );
        assert_eq!(write, [1], "each id written once, the first content wins");
    }
}
