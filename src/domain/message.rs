//! The queue message: versioned JSON. The consumer decodes and validates again; it never trusts the queue.

use std::fmt;

use serde::Serialize;

use super::gift::{GiftRequest, Limits, ValidationErrors, validate};
use super::voucher::Voucher;

/// The message schema version this build writes and reads.
pub const MESSAGE_VERSION: u64 = 1;

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    v: u64,
    #[serde(flatten)]
    voucher: &'a Voucher,
}

/// Encodes a voucher as a version-1 queue message body.
pub fn encode(voucher: &Voucher) -> String {
    serde_json::to_string(&EnvelopeOut {
        v: MESSAGE_VERSION,
        voucher,
    })
    .unwrap_or_else(|e| format!("{{\"v\":1,\"encode_error\":\"{e}\"}}"))
}

/// Why a body could not be turned into a voucher. All of these are permanent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    NotJson(String),
    UnsupportedVersion(Option<u64>),
    Schema(String),
    Invalid(ValidationErrors),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::NotJson(e) => write!(f, "body is not JSON: {e}"),
            DecodeError::UnsupportedVersion(Some(v)) => {
                write!(
                    f,
                    "message version {v} is not supported (this build reads v{MESSAGE_VERSION})"
                )
            }
            DecodeError::UnsupportedVersion(None) => {
                f.write_str("message has no \"v\" version field")
            }
            DecodeError::Schema(e) => write!(f, "body does not match the voucher schema: {e}"),
            DecodeError::Invalid(e) => write!(f, "voucher is invalid: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes and re-validates a message body.
pub fn decode(body: &str, limits: &Limits) -> Result<Voucher, DecodeError> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    let Some(obj) = value.as_object() else {
        return Err(DecodeError::Schema("expected a JSON object".into()));
    };
    match obj.get("v").and_then(serde_json::Value::as_u64) {
        Some(MESSAGE_VERSION) => {}
        other => return Err(DecodeError::UnsupportedVersion(other)),
    }
    let mut obj = obj.clone();
    obj.remove("v");
    let voucher: Voucher = serde_json::from_value(serde_json::Value::Object(obj))
        .map_err(|e| DecodeError::Schema(e.to_string()))?;
    let request = GiftRequest::from(&voucher.gift());
    let checked = validate(&request, limits).map_err(DecodeError::Invalid)?;
    // Stored as validated: trimmed, the domain lower-cased, the currency in capitals.
    Ok(Voucher::with_id(
        voucher.voucher_id,
        checked,
        voucher.created_at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Timestamp, validate};

    fn voucher() -> Voucher {
        let req = GiftRequest {
            recipient: "ada@example.com".into(),
            amount: "10".into(),
            sender: "grace".into(),
            ..GiftRequest::default()
        };
        Voucher::new(
            validate(&req, &Limits::default()).expect("valid"),
            Timestamp(1_700_000_000_000),
        )
    }

    #[test]
    fn round_trip() {
        let v = voucher();
        let body = encode(&v);
        assert!(body.starts_with("{\"v\":1,"));
        assert_eq!(decode(&body, &Limits::default()), Ok(v));
    }

    #[test]
    fn stores_fields_as_validated() {
        let original = voucher();
        let mut raw: serde_json::Value = serde_json::from_str(&encode(&original)).expect("json");
        raw["sender"] = serde_json::json!("  grace  ");
        raw["currency"] = serde_json::json!("eur");
        raw["note"] = serde_json::json!("  hi  ");
        raw["recipient"]["address"] = serde_json::json!(" Ada@EXAMPLE.com ");
        let v = decode(&raw.to_string(), &Limits::default()).expect("valid");
        assert_eq!(v.sender, "grace");
        assert_eq!(v.currency, "EUR");
        assert_eq!(v.note.as_deref(), Some("hi"));
        assert_eq!(v.recipient.as_str(), "Ada@example.com");
        assert_eq!(
            (v.voucher_id, v.created_at),
            (original.voucher_id, original.created_at)
        );
    }

    #[test]
    fn rejects_poison() {
        let l = Limits::default();
        assert!(matches!(
            decode("not json", &l),
            Err(DecodeError::NotJson(_))
        ));
        assert!(matches!(decode("[1]", &l), Err(DecodeError::Schema(_))));
        assert!(matches!(
            decode(r#"{"v":2}"#, &l),
            Err(DecodeError::UnsupportedVersion(Some(2)))
        ));
        let mut tampered: serde_json::Value =
            serde_json::from_str(&encode(&voucher())).expect("json");
        tampered["amount"] = serde_json::json!("5000.00");
        assert!(matches!(
            decode(&tampered.to_string(), &l),
            Err(DecodeError::Invalid(_))
        ));
    }
}
