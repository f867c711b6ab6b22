//! The queue message: versioned JSON. The consumer decodes and validates again; it never trusts the queue.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

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
///
/// The body is read twice, straight into what is needed, without an intermediate JSON tree: once for
/// the envelope's version (every other field skipped), once into the voucher (the version field
/// ignored).
pub fn decode(body: &str, limits: &Limits) -> Result<Voucher, DecodeError> {
    let envelope: Envelope = serde_json::from_str(body).map_err(|_| not_an_object(body))?;
    if envelope.version != Some(MESSAGE_VERSION) {
        return Err(DecodeError::UnsupportedVersion(envelope.version));
    }
    let voucher: Voucher =
        serde_json::from_str(body).map_err(|e| DecodeError::Schema(e.to_string()))?;
    let request = GiftRequest::from(&voucher.gift());
    let checked = validate(&request, limits).map_err(DecodeError::Invalid)?;
    // Stored as validated: trimmed, the domain lower-cased, the currency in capitals.
    Ok(Voucher::with_id(
        voucher.voucher_id,
        checked,
        voucher.created_at,
    ))
}

/// Why a body is not an envelope: not JSON at all, or JSON that is not an object.
fn not_an_object(body: &str) -> DecodeError {
    match serde_json::from_str::<IgnoredAny>(body) {
        Err(e) => DecodeError::NotJson(e.to_string()),
        Ok(_) => DecodeError::Schema("expected a JSON object".into()),
    }
}

/// A message's envelope: only its version (`v` as an unsigned integer; anything else is `None`).
struct Envelope {
    version: Option<u64>,
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
        let mut version = None;
        while let Some(is_version) = map.next_key_seed(IsVersionKey)? {
            if is_version {
                version = map.next_value::<serde_json::Value>()?.as_u64();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Envelope { version })
    }
}

/// Reads a key and says whether it is `v`, without keeping it.
struct IsVersionKey;

impl<'de> DeserializeSeed<'de> for IsVersionKey {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for IsVersionKey {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == "v")
    }
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
        assert!(matches!(decode("[2", &l), Err(DecodeError::NotJson(_))));
        assert!(matches!(
            decode(r#"{"v":1} trailing"#, &l),
            Err(DecodeError::NotJson(_))
        ));
        assert_eq!(
            decode(r#"{"v":"1"}"#, &l),
            Err(DecodeError::UnsupportedVersion(None))
        );
        assert_eq!(
            decode(r#"{"x":[{"v":1}]}"#, &l),
            Err(DecodeError::UnsupportedVersion(None))
        );
        // An escaped key is the same key.
        assert!(matches!(
            decode(r#"{"\u0076":1}"#, &l),
            Err(DecodeError::Schema(_))
        ));
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
