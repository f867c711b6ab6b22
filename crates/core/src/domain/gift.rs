//! Gift requests and their validation: one pure function that every front end and the consumer use.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::amount::{Amount, AmountError};
use super::currency::{CurrencyError, DEFAULT_CURRENCY, parse_currency};
use super::recipient::{Recipient, parse_recipient};
use super::text::first_forbidden;

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
    let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
    amount_text(&raw).map_err(serde::de::Error::custom)
}

/// An amount's text exactly as the JSON wrote it: a string's contents, or a number's digits (never
/// through binary floating point, so `19.999999999999999` stays that and is refused for its
/// decimals); `null` is no amount. Any other JSON value is refused with the rule.
pub fn amount_text(raw: &serde_json::value::RawValue) -> Result<String, String> {
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(text).map_err(|e| e.to_string()),
        Some(b'-' | b'0'..=b'9') => Ok(text.to_string()),
        Some(b'n') => Ok(String::new()),
        _ => Err(format!("amount must be a string or a number, not {text}")),
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

/// The rule broken by a forbidden character (see `text::is_forbidden`), naming it and where it is.
fn forbidden_rule(s: &str) -> Option<String> {
    first_forbidden(s).map(|(at, c)| {
        format!(
            "may not contain control, bidirectional-control or non-characters (U+{:04X} at \
             character {})",
            u32::from(c),
            at + 1
        )
    })
}

/// The rule a note breaks, if any: at most [`NOTE_MAX_CHARS`] characters once trimmed, and no
/// control, bidirectional-control or non-characters anywhere (checked untrimmed). The rule of a
/// gift's note and of an operator's note on an audited action.
pub fn note_rule(note: &str) -> Option<String> {
    let chars = note.trim().chars().count();
    if chars > NOTE_MAX_CHARS {
        return Some(format!(
            "may have at most {NOTE_MAX_CHARS} characters (has {chars})"
        ));
    }
    forbidden_rule(note)
}

/// Checks one field; forms call this as the user types.
pub fn validate_field(field: Field, req: &GiftRequest, limits: &Limits) -> Option<FieldError> {
    let err = |rule: String| Some(FieldError { field, rule });
    match field {
        Field::Recipient => parse_recipient(&req.recipient)
            .err()
            .and_then(|e| err(e.to_string())),
        Field::Amount => match req.amount.parse::<Amount>() {
            // Too large to represent is above the maximum too: say the configured one.
            Err(AmountError::AboveMaximum(_)) => {
                err(AmountError::AboveMaximum(limits.max_amount).to_string())
            }
            Err(e) => err(e.to_string()),
            Ok(a) if a > limits.max_amount => {
                err(AmountError::AboveMaximum(limits.max_amount).to_string())
            }
            Ok(_) => None,
        },
        Field::Currency => currency_of(req).err().and_then(|e| err(e.to_string())),
        Field::Sender => {
            let s = req.sender.trim();
            if s.is_empty() {
                err("is required (who is gifting)".into())
            } else if s.chars().count() > SENDER_MAX_CHARS {
                err(format!("may have at most {SENDER_MAX_CHARS} characters"))
            } else {
                // Checked untrimmed: a control character is refused wherever it is.
                forbidden_rule(&req.sender).and_then(err)
            }
        }
        Field::Note => req.note.as_deref().and_then(note_rule).and_then(err),
        Field::IdempotencyKey => match req.idempotency_key.as_deref() {
            Some(k) if k.trim().is_empty() => err("may not be blank".into()),
            Some(k) if k.chars().count() > IDEMPOTENCY_KEY_MAX_CHARS => err(format!(
                "may have at most {IDEMPOTENCY_KEY_MAX_CHARS} characters"
            )),
            Some(k) => forbidden_rule(k).and_then(err),
            None => None,
        },
    }
}

/// The request's currency, [`DEFAULT_CURRENCY`] when it names none (empty counts as none).
fn currency_of(req: &GiftRequest) -> Result<&'static str, CurrencyError> {
    match req.currency.as_deref().map(str::trim) {
        None | Some("") => Ok(DEFAULT_CURRENCY),
        Some(c) => parse_currency(c),
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
    let (Ok(recipient), Ok(amount), Ok(currency)) = (
        parse_recipient(&req.recipient),
        req.amount.parse::<Amount>(),
        currency_of(req),
    ) else {
        return Err(ValidationErrors(vec![FieldError {
            field: Field::Recipient,
            rule: "is invalid".into(),
        }]));
    };
    Ok(ValidGift {
        recipient,
        amount,
        currency: currency.to_string(),
        sender: req.sender.trim().to_string(),
        note: req
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(ToString::to_string),
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
            currency: Some("EURO".into()),
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

    /// A valid request with one field set to `value`.
    fn with(field: Field, value: &str) -> GiftRequest {
        let mut req = ok_req();
        match field {
            Field::Recipient => req.recipient = value.into(),
            Field::Amount => req.amount = value.into(),
            Field::Currency => req.currency = Some(value.into()),
            Field::Sender => req.sender = value.into(),
            Field::Note => req.note = Some(value.into()),
            Field::IdempotencyKey => req.idempotency_key = Some(value.into()),
        }
        req
    }

    /// Each bad input is refused for exactly its field, with a rule a person can act on.
    #[test]
    fn bad_inputs_name_field_and_rule() {
        let long = "x".repeat(300);
        let long_email = format!("{long}@example.com");
        let cases: [(Field, &str, &str); 25] = [
            (Field::Recipient, "", "is required"),
            (Field::Recipient, "   ", "is required"),
            (Field::Recipient, &long_email, "longer than 254"),
            (Field::Recipient, "ada@@example.com", "not a valid email"),
            (
                Field::Recipient,
                "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                "EIP-55",
            ),
            (Field::Recipient, "0x1234", "40 hex digits"),
            (Field::Amount, "", "is required"),
            (Field::Amount, "0", "greater than 0"),
            (Field::Amount, "0.00", "greater than 0"),
            (Field::Amount, "-5", "greater than 0"),
            (Field::Amount, "1.005", "at most 2 decimals"),
            (Field::Amount, "99999999999999999999999", "at most 1000.00"),
            (Field::Amount, "NaN", "decimal number"),
            (Field::Amount, "Infinity", "decimal number"),
            (Field::Amount, "1e3", "decimal number"),
            (Field::Currency, "XYZ", "XYZ is not an active ISO 4217"),
            (Field::Currency, "EURO", "three letters"),
            (Field::Sender, " ", "is required"),
            (Field::Sender, &long, "at most 128"),
            (Field::Sender, "ev\u{202e}il", "U+202E at character 3"),
            (Field::Note, &long, "at most 280"),
            (Field::Note, "a\u{1b}[2J", "U+001B"),
            (Field::Note, "line\nbreak", "control"),
            (Field::Note, "\u{2066}hidden", "bidirectional"),
            (Field::IdempotencyKey, "  ", "blank"),
        ];
        for (field, value, rule) in cases {
            let errs = validate(&with(field, value), &Limits::default())
                .expect_err(&format!("{field:?} {value:?}"));
            let e = errs
                .for_field(field)
                .unwrap_or_else(|| panic!("{field:?} in {errs}"));
            assert!(
                e.rule.contains(rule),
                "{field:?}: {:?} should mention {rule:?}",
                e.rule
            );
            assert_eq!(errs.0.len(), 1, "only {field:?} is wrong: {errs}");
        }
    }

    #[test]
    fn lowercase_currency_and_emoji_are_fine() {
        let req = GiftRequest {
            currency: Some("eur".into()),
            note: Some("  merci 🎉👩‍👩‍👧 ❤️  ".into()),
            ..ok_req()
        };
        let g = validate(&req, &Limits::default()).expect("valid");
        assert_eq!(g.currency, "EUR");
        assert_eq!(g.note.as_deref(), Some("merci 🎉👩‍👩‍👧 ❤️"));
        let blank = GiftRequest {
            currency: Some(String::new()),
            note: Some("  ".into()),
            ..ok_req()
        };
        let g = validate(&blank, &Limits::default()).expect("valid");
        assert_eq!((g.currency.as_str(), g.note), ("USD", None));
    }

    #[test]
    fn json_amount_may_be_number() {
        let req: GiftRequest =
            serde_json::from_str(r#"{"recipient":"a@b.co","amount":12.5,"sender":"s"}"#)
                .expect("parses");
        assert_eq!(req.amount, "12.5");
        assert!(validate(&req, &Limits::default()).is_ok());
    }

    #[test]
    fn json_amounts_are_read_as_written() {
        let amount = |json: &str| {
            serde_json::from_str::<GiftRequest>(&format!(
                r#"{{"recipient":"a@b.co","amount":{json},"sender":"s"}}"#
            ))
            .map(|r| r.amount)
            .map_err(|e| e.to_string())
        };
        assert_eq!(
            amount("19.999999999999999"),
            Ok("19.999999999999999".into())
        );
        assert_eq!(amount("1e2"), Ok("1e2".into()));
        assert_eq!(amount(r#""7.50""#), Ok("7.50".into()));
        assert_eq!(amount("null"), Ok(String::new()));
        assert!(amount("true").is_err_and(|e| e.contains("string or a number")));
        let req = GiftRequest {
            amount: "19.999999999999999".into(),
            ..ok_req()
        };
        let errs = validate(&req, &Limits::default()).expect_err("refused");
        assert!(errs.to_string().contains("at most 2 decimals"), "{errs}");
    }
}
