//! Salvaging a dead-lettered message for edit-and-resend: what a person can correct (the gift, as
//! a `gift --file` line has it) and what stays (the voucher's id and creation time, so a resend of
//! the same voucher is still one voucher).

use serde_json::Value;
use uuid::Uuid;

use super::gift::GiftRequest;
use super::time::Timestamp;

/// What a dead-lettered body still says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Salvaged {
    /// The gift's fields as found (empty where the body had nothing usable).
    pub gift: GiftRequest,
    pub voucher_id: Option<Uuid>,
    pub created_at: Option<Timestamp>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whatever a body says about its voucher, best effort: a v1 message, an older or newer version, a
/// bare gift; nothing from a body that is not a JSON object.
pub fn salvage(body: &str) -> Salvaged {
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(body) else {
        return Salvaged::default();
    };
    // A recipient is `{"kind": "email", "address": "…"}` in a message, a plain string in a gift.
    let recipient = match obj.get("recipient") {
        Some(Value::Object(r)) => text(r.get("address")),
        other => text(other),
    };
    Salvaged {
        gift: GiftRequest {
            recipient: recipient.unwrap_or_default(),
            amount: text(obj.get("amount")).unwrap_or_default(),
            currency: text(obj.get("currency")),
            sender: text(obj.get("sender")).unwrap_or_default(),
            note: text(obj.get("note")),
            idempotency_key: text(obj.get("idempotency_key")),
        },
        voucher_id: text(obj.get("voucher_id")).and_then(|s| s.parse().ok()),
        created_at: text(obj.get("created_at")).and_then(|s| Timestamp::parse_rfc3339(&s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_gives_its_gift_and_its_identity() {
        let body = r#"{"v":1,"voucher_id":"0190b6d8-7f3a-7c1e-9d2b-3a4c5d6e7f80","created_at":"2026-01-01T00:00:00.000Z","recipient":{"kind":"email","address":"eve@example.com"},"amount":"99999.00","currency":"USD","sender":"mallory"}"#;
        let s = salvage(body);
        assert_eq!(s.gift.recipient, "eve@example.com");
        assert_eq!(s.gift.amount, "99999.00");
        assert_eq!(s.gift.currency.as_deref(), Some("USD"));
        assert_eq!(s.gift.note, None);
        assert_eq!(
            s.voucher_id.map(|v| v.to_string()).as_deref(),
            Some("0190b6d8-7f3a-7c1e-9d2b-3a4c5d6e7f80")
        );
        assert!(s.created_at.is_some());
    }

    #[test]
    fn anything_else_gives_what_it_can() {
        assert_eq!(salvage("not json at all"), Salvaged::default());
        assert_eq!(salvage("[1,2]"), Salvaged::default());
        let s = salvage(r#"{"v":2,"recipient":"ada@example.com","amount":12.5,"voucher_id":"x"}"#);
        assert_eq!(s.gift.recipient, "ada@example.com");
        assert_eq!(s.gift.amount, "12.5");
        assert_eq!(s.voucher_id, None);
    }
}
