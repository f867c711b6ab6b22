//! The schemas of a gift's fields, built from the rules that validate them: the domain's constants
//! (lengths, the batch size, the currency codes, the configured largest amount) and its character
//! rule (`text::is_forbidden`, scanned over every character), so the document states exactly what
//! the server accepts and refuses.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::{PartialSchema, ToSchema};

use voucherdeck_core::domain::currency::CODES;
use voucherdeck_core::domain::gift::{IDEMPOTENCY_KEY_MAX_CHARS, NOTE_MAX_CHARS};
use voucherdeck_core::domain::limits::API_BATCH_MAX;
use voucherdeck_core::domain::text::is_forbidden;
use voucherdeck_core::domain::{Amount, Limits};

/// Longest email address `recipient::parse_recipient` accepts (the wallet form is 42).
pub(crate) const RECIPIENT_MAX_CHARS: usize = 254;
/// Longest part of an email address before its `@`.
pub(crate) const EMAIL_LOCAL_MAX: usize = 64;
/// Longest label of an email address's domain.
pub(crate) const EMAIL_LABEL_MAX: usize = 63;

/// The characters an email address's part before `@` may have (besides inner dots).
const LOCAL_CHARS: &str = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
}

/// `recipient`: an email address, or a wallet address (`0x` and 40 hex digits, one case; mixed
/// case must pass EIP-55, which no pattern can say).
pub(crate) fn recipient() -> Schema {
    let label = format!(
        "[A-Za-z0-9](?:[A-Za-z0-9-]{{0,{}}}[A-Za-z0-9])?",
        EMAIL_LABEL_MAX - 2
    );
    let tld = format!(
        "(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9-]{{0,{}}}[A-Za-z0-9]",
        EMAIL_LABEL_MAX - 2
    );
    let email = format!(
        "(?!0[xX])(?=[^@]{{1,{EMAIL_LOCAL_MAX}}}@){LOCAL_CHARS}+(?:\\.{LOCAL_CHARS}+)*@(?:{label}\\.)+{tld}"
    );
    let wallet = "0x(?:[0-9a-f]{40}|[0-9A-F]{40})";
    string()
        .min_length(Some(1))
        .max_length(Some(RECIPIENT_MAX_CHARS))
        .pattern(Some(format!("^(?:{email}|{wallet})$")))
        .description(Some(format!(
            "An email address (at most {RECIPIENT_MAX_CHARS} characters, {EMAIL_LOCAL_MAX} before \
             the `@`, a domain of dot-separated labels of at most {EMAIL_LABEL_MAX} letters, digits \
             or inner hyphens, a top-level label that is not all digits) or a wallet address: `0x` \
             and 40 hex digits, in one case, or mixed case passing its EIP-55 checksum. The server \
             trims surrounding spaces."
        )))
        .examples([json!("ada@example.com"), json!("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")])
        .into()
}

/// `amount`'s component (`#/components/schemas/Amount`): the server's own replaces it with
/// [`amount`] of its configured limits.
pub(crate) struct AmountSchema;

impl PartialSchema for AmountSchema {
    fn schema() -> RefOr<Schema> {
        amount(Limits::default()).into()
    }
}

impl ToSchema for AmountSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Amount")
    }
}

/// `amount`: greater than 0, at most `limits.max_amount`, at most 2 decimals, as a string of
/// digits or a JSON number (read as written, never through floating point, so no exponent).
pub(crate) fn amount(limits: Limits) -> Schema {
    let max = limits.max_amount;
    let text = string()
        .pattern(Some(format!("^(?:{})$", amount_pattern(max))))
        .description(Some(format!(
            "Decimal digits with at most 2 decimals, from 0.01 to {max}"
        )))
        .examples([json!("25.00")]);
    #[allow(clippy::cast_precision_loss)] // a configured amount, far below 2^53 cents
    let most = max.cents() as f64 / 100.0;
    let number = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Number))
        .exclusive_minimum(Some(0))
        .maximum(Some(most))
        .multiple_of(Some(0.01))
        .description(Some(format!(
            "A JSON number with at most 2 decimals and no exponent, up to {max}"
        )))
        .examples([json!(25.5)]);
    AnyOfBuilder::new()
        .item(text)
        .item(number)
        .description(Some(format!(
            "The amount, greater than 0 and at most {max} (this server's limit), with at most 2 \
             decimals: a string (\"25.00\") or a number (25.5), read exactly as written"
        )))
        .examples([json!("25.00")])
        .into()
}

/// A regular expression (no anchors) for the decimal texts of amounts from 0.01 to `max`, as
/// `Amount::from_str` reads them: leading zeros allowed, an optional `.` and 1 or 2 decimals,
/// the integer part optional when decimals follow.
pub(crate) fn amount_pattern(max: Amount) -> String {
    let whole = max.cents() / 100;
    let cents = max.cents() % 100;
    let mut alternatives = Vec::new();
    // Below the largest whole part (and above 0): any decimals.
    if whole >= 2 {
        alternatives.push(format!(
            "0*{}(?:\\.[0-9]{{1,2}})?",
            integers_upto(whole - 1)
        ));
    }
    if whole >= 1 {
        // The largest whole part itself: decimals up to the maximum's.
        alternatives.push(format!("0*{whole}{}", decimals_upto(cents, true)));
        // No whole part: any decimals but zero.
        alternatives.push(format!("0*\\.{}", decimal_digits(1, 99)));
    } else {
        alternatives.push(format!("0*\\.{}", decimal_digits(1, cents)));
    }
    alternatives.join("|")
}

/// `(?:\.d|\.dd)?` for decimals worth at most `cents` (hundredths); without the `?` when
/// `optional` is false.
fn decimals_upto(cents: u64, optional: bool) -> String {
    let q = if optional { "?" } else { "" };
    format!("(?:\\.{}){q}", decimal_digits(0, cents))
}

/// One or two decimal digits worth `lo` to `hi` hundredths (one digit `d` is worth `10 d`).
fn decimal_digits(lo: u64, hi: u64) -> String {
    let mut alts = Vec::new();
    let (one_lo, one_hi) = (lo.div_ceil(10), (hi / 10).min(9));
    if one_lo <= one_hi {
        alts.push(digit_class(one_lo, one_hi));
    }
    for tens in 0..=9 {
        let (a, b) = (lo.saturating_sub(tens * 10), hi.saturating_sub(tens * 10));
        if tens * 10 + 9 < lo || tens * 10 > hi {
            continue;
        }
        alts.push(format!("{tens}{}", digit_class(a.min(9), b.min(9))));
    }
    format!("(?:{})", alts.join("|"))
}

fn digit_class(lo: u64, hi: u64) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("[{lo}-{hi}]")
    }
}

/// The integers 1 to `n` (n ≥ 1) without leading zeros.
fn integers_upto(n: u64) -> String {
    let digits: Vec<u64> = n.to_string().bytes().map(|b| u64::from(b - b'0')).collect();
    let k = digits.len();
    let mut alts = Vec::new();
    if k >= 2 {
        alts.push(format!("[1-9][0-9]{{0,{}}}", k - 2));
    }
    // k digits: equal to n's first i digits, smaller at the next, anything after.
    for i in 0..k {
        let lo = u64::from(i == 0);
        if digits[i] > lo {
            let prefix: String = digits[..i].iter().map(u64::to_string).collect();
            let rest = k - i - 1;
            let tail = if rest == 0 {
                String::new()
            } else {
                format!("[0-9]{{{rest}}}")
            };
            alts.push(format!("{prefix}{}{tail}", digit_class(lo, digits[i] - 1)));
        }
    }
    alts.push(n.to_string());
    format!("(?:{})", alts.join("|"))
}

/// `currency`: an active ISO 4217 code, in any case; absent, `null` or empty for USD.
pub(crate) fn currency() -> Schema {
    let mut codes: Vec<serde_json::Value> = vec![json!(null), json!("")];
    codes.extend(CODES.iter().map(|c| json!(c)));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(codes))
        .description(Some(
            "An active ISO 4217 code (any case: `eur` is EUR; surrounding spaces are trimmed); \
             USD when absent, null or empty",
        ))
        .examples([json!("EUR")])
        .into()
}

/// `note`: at most [`NOTE_MAX_CHARS`] characters, none forbidden.
pub(crate) fn note() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(NOTE_MAX_CHARS))
        .pattern(Some(format!("^{}*$", text_class(false))))
        .description(Some(format!(
            "At most {NOTE_MAX_CHARS} characters once surrounding spaces are trimmed; no control \
             characters (newlines included), bidirectional controls or non-characters (emoji are \
             fine); a blank note is no note"
        )))
        .examples([json!("thanks!")])
        .into()
}

/// A batch item's `idempotency_key`: 1 to [`IDEMPOTENCY_KEY_MAX_CHARS`] characters, not blank,
/// none forbidden.
pub(crate) fn idempotency_key() -> Schema {
    let any = text_class(false);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .min_length(Some(1))
        .max_length(Some(IDEMPOTENCY_KEY_MAX_CHARS))
        .pattern(Some(format!("^{any}*{}{any}*$", text_class(true))))
        .description(Some(format!(
            "This gift's idempotency key, as the `Idempotency-Key` header of a single gift: 1 to \
             {IDEMPOTENCY_KEY_MAX_CHARS} characters, not blank, no control, bidirectional-control \
             or non-characters"
        )))
        .examples([json!("order-42")])
        .into()
}

/// The `Idempotency-Key` header: 1 to [`IDEMPOTENCY_KEY_MAX_CHARS`] visible ASCII characters
/// (spaces inside), as a header value can carry them.
pub(crate) fn idempotency_key_header() -> Schema {
    string()
        .min_length(Some(1))
        .max_length(Some(IDEMPOTENCY_KEY_MAX_CHARS))
        .pattern(Some("^[!-~](?:[ -~]*[!-~])?$".to_string()))
        .into()
}

/// `vouchers`: 1 to [`API_BATCH_MAX`] gifts.
pub(crate) fn batch_vouchers() -> Schema {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "BatchItem",
        )))
        .min_items(Some(1))
        .max_items(Some(API_BATCH_MAX))
        .description(Some(format!("1 to {API_BATCH_MAX} gifts")))
        .into()
}

/// `BatchItem` (`#/components/schemas/BatchItem`): what a batch's items must be for the batch
/// to be answered 207. Each is then checked as a gift: one valid as a `BatchGift` is gifted, any
/// other gets its own 422 result.
pub(crate) struct BatchItemSchema;

impl PartialSchema for BatchItemSchema {
    fn schema() -> RefOr<Schema> {
        let nullable =
            || ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]));
        let shape = ObjectBuilder::new()
            .property("recipient", string())
            .property(
                "amount",
                ObjectBuilder::new()
                    .schema_type(SchemaType::AnyValue)
                    .description(Some("Any JSON value")),
            )
            .property("currency", nullable())
            .property("note", nullable())
            .property("idempotency_key", nullable())
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ))
            .description(Some(
                "Any item of this shape (unknown fields are refused with the whole batch) that is \
                 not a valid gift",
            ));
        AnyOfBuilder::new()
            .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "BatchGift",
            )))
            .item(shape)
            .description(Some(
                "A gift of the batch: one valid as a `BatchGift` is gifted; any other item of this \
                 shape gets its own result, a 422 problem naming each field and rule",
            ))
            .into()
    }
}

impl ToSchema for BatchItemSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("BatchItem")
    }
}

/// A batch result's `index`: 0 to [`API_BATCH_MAX`] − 1.
pub(crate) fn batch_index() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .minimum(Some(0))
        .maximum(Some(API_BATCH_MAX - 1))
        .description(Some("The gift's place in the request, from 0"))
        .into()
}

/// A character class of what text may hold: every character `text::is_forbidden` lets through
/// (and, when `visible`, that is not white space), as `[^…]` of the ranges it refuses.
pub(crate) fn text_class(visible: bool) -> String {
    let refused = |c: char| is_forbidden(c) || (visible && c.is_whitespace());
    let mut class = String::from("[^");
    let mut start: Option<u32> = None;
    let push = |class: &mut String, from: u32, to: u32| {
        let _ = write!(class, "\\u{from:04X}");
        if to > from {
            let _ = write!(class, "-\\u{to:04X}");
        }
    };
    // Every refused character is in the Basic Multilingual Plane (outside the surrogates).
    for code in 0..=0xFFFF_u32 {
        let refuse = char::from_u32(code).is_some_and(refused);
        match (refuse, start) {
            (true, None) => start = Some(code),
            (false, Some(from)) => {
                push(&mut class, from, code - 1);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        push(&mut class, from, 0xFFFF);
    }
    class.push(']');
    class
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::domain::recipient::parse_recipient;

    #[test]
    fn the_recipient_limits_are_the_parsers() {
        let email =
            |local: usize, label: usize| format!("{}@{}.com", "a".repeat(local), "b".repeat(label));
        assert!(parse_recipient(&email(EMAIL_LOCAL_MAX, 10)).is_ok());
        assert!(parse_recipient(&email(EMAIL_LOCAL_MAX + 1, 10)).is_err());
        assert!(parse_recipient(&email(10, EMAIL_LABEL_MAX)).is_ok());
        assert!(parse_recipient(&email(10, EMAIL_LABEL_MAX + 1)).is_err());
        let long = |n: usize| {
            let mut domain = String::new();
            while domain.len() + 4 + 3 < n {
                domain.push_str("abc.");
            }
            let e = format!("a@{domain}com");
            format!("{}{e}", "a".repeat(n - e.len()))
        };
        assert_eq!(long(RECIPIENT_MAX_CHARS).len(), RECIPIENT_MAX_CHARS);
        assert!(parse_recipient(&long(RECIPIENT_MAX_CHARS)).is_ok());
        assert!(parse_recipient(&long(RECIPIENT_MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn the_amount_pattern_of_the_default_limit() {
        assert_eq!(
            amount_pattern(Limits::default().max_amount),
            "0*(?:[1-9][0-9]{0,1}|[1-8][0-9]{2}|9[0-8][0-9]{1}|99[0-8]|999)(?:\\.[0-9]{1,2})?\
             |0*1000(?:\\.(?:0|00))?\
             |0*\\.(?:[1-9]|0[1-9]|1[0-9]|2[0-9]|3[0-9]|4[0-9]|5[0-9]|6[0-9]|7[0-9]|8[0-9]|9[0-9])"
        );
    }

    #[test]
    fn text_classes_refuse_what_validation_refuses() {
        let class = text_class(false);
        assert!(
            class.starts_with("[^\\u0000-\\u001F\\u007F-\\u009F"),
            "{class}"
        );
        assert!(class.contains("\\u2028-\\u202E") && class.contains("\\uFFFE-\\uFFFF"));
        assert!(text_class(true).contains("\\u0020"));
    }
}
