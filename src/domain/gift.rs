//! Gift requests and their validation: one pure function that every front end and the consumer use.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::amount::{Amount, AmountError};
use super::recipient::{Recipient, parse_recipient};

/// Longest note, in characters.
pub const NOTE_MAX_CHARS: usize = 280;
/// Longest sender identity, in characters.
pub const SENDER_MAX_CHARS: usize = 128;
/// Longest client idempotency key, in characters.
pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 128;

/// A gift as a person typed it: every field still a string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GiftRequest {
    #[serde(default)]
    pub recipient: String,
    #[serde(default, deserialize_with = "string_or_number")]
    pub amount: String,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub sender: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "amount must be a string or a number, not {other}"
        ))),
    }
}

/// Limits that validation enforces; `max_amount` is configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_amount: Amount,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_amount: Amount::from_cents(1000 * 100),
        }
    }
}

/// A gift that passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidGift {
    pub recipient: Recipient,
    pub amount: Amount,
    pub currency: String,
    pub sender: String,
    pub note: Option<String>,
    pub idempotency_key: Option<String>,
}

/// The fields of a gift, for naming them in errors and forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Recipient,
    Amount,
    Currency,
    Sender,
    Note,
    IdempotencyKey,
}

impl Field {
    pub const fn name(self) -> &'static str {
        match self {
            Field::Recipient => "recipient",
            Field::Amount => "amount",
            Field::Currency => "currency",
            Field::Sender => "sender",
            Field::Note => "note",
            Field::IdempotencyKey => "idempotency_key",
        }
    }
}

/// One broken rule: the field and the rule in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: Field,
    pub rule: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field.name(), self.rule)
    }
}

/// Every rule a request broke (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn for_field(&self, field: Field) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Checks one field; forms call this as the user types.
pub fn validate_field(field: Field, req: &GiftRequest, limits: &Limits) -> Option<FieldError> {
    let err = |rule: String| Some(FieldError { field, rule });
    match field {
        Field::Recipient => parse_recipient(&req.recipient)
            .err()
            .and_then(|e| err(e.to_string())),
        Field::Amount => match req.amount.parse::<Amount>() {
            Err(e) => err(e.to_string()),
            Ok(a) if a > limits.max_amount => {
                err(AmountError::AboveMaximum(limits.max_amount).to_string())
            }
            Ok(_) => None,
        },
        Field::Currency => {
            let c = req.currency.as_deref().unwrap_or("USD").trim();
            if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
                None
            } else {
                err("must be an ISO 4217 code: three capital letters such as USD or EUR".into())
            }
        }
        Field::Sender => {
            let s = req.sender.trim();
            if s.is_empty() {
                err("is required (who is gifting)".into())
            } else if s.chars().count() > SENDER_MAX_CHARS {
                err(format!("may have at most {SENDER_MAX_CHARS} characters"))
            } else if has_control(s) {
                err("may not contain control characters".into())
            } else {
                None
            }
        }
        Field::Note => match req.note.as_deref() {
            Some(n) if n.chars().count() > NOTE_MAX_CHARS => err(format!(
                "may have at most {NOTE_MAX_CHARS} characters (has {})",
                n.chars().count()
            )),
            Some(n) if has_control(n) => {
                err("may not contain control characters (newlines, tabs, escapes)".into())
            }
            _ => None,
        },
        Field::IdempotencyKey => match req.idempotency_key.as_deref() {
            Some(k) if k.trim().is_empty() => err("may not be blank".into()),
            Some(k) if k.chars().count() > IDEMPOTENCY_KEY_MAX_CHARS => err(format!(
                "may have at most {IDEMPOTENCY_KEY_MAX_CHARS} characters"
            )),
            Some(k) if has_control(k) => err("may not contain control characters".into()),
            _ => None,
        },
    }
}

const FIELDS: [Field; 6] = [
    Field::Recipient,
    Field::Amount,
    Field::Currency,
    Field::Sender,
    Field::Note,
    Field::IdempotencyKey,
];

/// Validates a whole request; every rejection names the field and the rule.
pub fn validate(req: &GiftRequest, limits: &Limits) -> Result<ValidGift, ValidationErrors> {
    let errors: Vec<FieldError> = FIELDS
        .iter()
        .filter_map(|f| validate_field(*f, req, limits))
        .collect();
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }
    let (Ok(recipient), Ok(amount)) = (
        parse_recipient(&req.recipient),
        req.amount.parse::<Amount>(),
    ) else {
        return Err(ValidationErrors(vec![FieldError {
            field: Field::Recipient,
            rule: "is invalid".into(),
        }]));
    };
    Ok(ValidGift {
        recipient,
        amount,
        currency: req.currency.as_deref().unwrap_or("USD").trim().to_string(),
        sender: req.sender.trim().to_string(),
        note: req.note.clone().filter(|n| !n.is_empty()),
        idempotency_key: req.idempotency_key.clone(),
    })
}

impl From<&ValidGift> for GiftRequest {
    fn from(g: &ValidGift) -> Self {
        GiftRequest {
            recipient: g.recipient.to_string(),
            amount: g.amount.to_string(),
            currency: Some(g.currency.clone()),
            sender: g.sender.clone(),
            note: g.note.clone(),
            idempotency_key: g.idempotency_key.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_req() -> GiftRequest {
        GiftRequest {
            recipient: "ada@example.com".into(),
            amount: "25.00".into(),
            currency: Some("EUR".into()),
            sender: "grace".into(),
            note: Some("thanks!".into()),
            idempotency_key: None,
        }
    }

    #[test]
    fn valid_request_passes() {
        let g = validate(&ok_req(), &Limits::default()).expect("valid");
        assert_eq!(g.amount.cents(), 2500);
        assert_eq!(g.currency, "EUR");
    }

    #[test]
    fn every_rejection_names_field_and_rule() {
        let req = GiftRequest {
            recipient: "nope".into(),
            amount: "1000.01".into(),
            currency: Some("eur".into()),
            sender: String::new(),
            note: Some("bad\u{1b}[31m".into()),
            idempotency_key: None,
        };
        let errs = validate(&req, &Limits::default()).expect_err("invalid");
        let fields: Vec<Field> = errs.0.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                Field::Recipient,
                Field::Amount,
                Field::Currency,
                Field::Sender,
                Field::Note
            ]
        );
        assert!(errs.to_string().contains("amount must be at most 1000.00"));
    }

    #[test]
    fn json_amount_may_be_number() {
        let req: GiftRequest =
            serde_json::from_str(r#"{"recipient":"a@b.co","amount":12.5,"sender":"s"}"#)
                .expect("parses");
        assert_eq!(req.amount, "12.5");
        assert!(validate(&req, &Limits::default()).is_ok());
    }
}
