//! Idempotency keys: where a key is recorded (an unambiguous encoding of who and which key) and
//! what it was used for (a fingerprint of the gift), so a reused key with other content is told
//! apart from a retry.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::gift::ValidGift;
use super::voucher::Voucher;

/// The record of a used key: the voucher it admitted and the fingerprint of its gift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUse {
    pub voucher: Voucher,
    pub fingerprint: String,
}

/// The record key of `key` used by `sender`: `idem#<len>#<sender>#<key>`. The sender's length
/// comes first, so no sender and key can be read as another pair, whatever `#` they hold.
pub fn idempotency_record_key(sender: &str, key: &str) -> String {
    format!("idem#{}#{sender}#{key}", sender.len())
}

/// A fingerprint of what a gift asks for (recipient, amount, currency, note), sender included.
pub fn gift_fingerprint(gift: &ValidGift) -> String {
    let mut h = Sha256::new();
    for part in [
        gift.sender.as_str(),
        gift.recipient.as_str(),
        &gift.amount.to_string(),
        gift.currency.as_str(),
        gift.note.as_deref().unwrap_or(""),
    ] {
        // Length-prefixed, so no two gifts share a byte stream.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{GiftRequest, Limits, validate};

    #[test]
    fn record_keys_do_not_collide_across_senders() {
        assert_ne!(
            idempotency_record_key("a#b", "c"),
            idempotency_record_key("a", "b#c")
        );
        assert_eq!(idempotency_record_key("ops", "k"), "idem#3#ops#k");
    }

    #[test]
    fn fingerprints_tell_content_apart() {
        let g = |amount: &str, note: Option<&str>| {
            validate(
                &GiftRequest {
                    recipient: "ada@example.com".into(),
                    amount: amount.into(),
                    sender: "s".into(),
                    note: note.map(Into::into),
                    ..GiftRequest::default()
                },
                &Limits::default(),
            )
            .expect("valid")
        };
        assert_eq!(
            gift_fingerprint(&g("1", None)),
            gift_fingerprint(&g("1.00", None))
        );
        assert_ne!(
            gift_fingerprint(&g("1", None)),
            gift_fingerprint(&g("2", None))
        );
        assert_ne!(
            gift_fingerprint(&g("1", None)),
            gift_fingerprint(&g("1", Some("hi")))
        );
    }
}
