//! Voucher recipients: an email address or an EVM wallet address (EIP-55 checked when mixed-case).

use std::fmt;

use serde::{Deserialize, Serialize};
use tiny_keccak::{Hasher, Keccak};

/// Where a voucher goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "address", rename_all = "snake_case")]
pub enum Recipient {
    Email(String),
    Wallet(String),
}

impl Recipient {
    /// The address as given (emails lower-cased in the domain part).
    pub fn as_str(&self) -> &str {
        match self {
            Recipient::Email(s) | Recipient::Wallet(s) => s,
        }
    }

    /// A form safe to show on a shared screen or to store in a failure log.
    pub fn masked(&self) -> String {
        mask(self.as_str())
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Masks an email (`a***@example.com`) or a wallet (`0x12ab…cdef`); anything else keeps 2 characters.
pub fn mask(raw: &str) -> String {
    let raw = raw.trim();
    if let Some((local, domain)) = raw.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    if raw.len() == 42 && raw.starts_with("0x") && raw.is_ascii() {
        return format!("{}…{}", &raw[..6], &raw[38..]);
    }
    let head: String = raw.chars().take(2).collect();
    if raw.chars().count() > 2 {
        format!("{head}***")
    } else {
        "***".to_string()
    }
}

/// `text` with every email address and wallet address in it masked (see [`mask`]), for logs: a
/// reason may quote a message body, and a log never carries a full recipient.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        let is_email = token
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
        let is_wallet = token.len() >= 42
            && (token.starts_with("0x") || token.starts_with("0X"))
            && token[2..].bytes().take(40).all(|b| b.is_ascii_hexdigit());
        if is_email || is_wallet {
            out.push_str(&mask(token));
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || "@.+-_%!#$&'*/=?^`{|}~".contains(c) {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

/// Why a recipient was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientError {
    Empty,
    BadEmail(&'static str),
    BadWallet(&'static str),
    Checksum,
}

impl fmt::Display for RecipientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecipientError::Empty => f.write_str("is required (an email address or a 0x wallet address)"),
            RecipientError::BadEmail(why) => write!(f, "is not a valid email address: {why}"),
            RecipientError::BadWallet(why) => write!(f, "is not a valid wallet address: {why}"),
            RecipientError::Checksum => f.write_str(
                "wallet address fails its EIP-55 checksum (mixed case must match; use all lower-case to skip the check)",
            ),
        }
    }
}

/// Parses and checks a recipient.
pub fn parse_recipient(raw: &str) -> Result<Recipient, RecipientError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(RecipientError::Empty);
    }
    if s.starts_with("0x") || s.starts_with("0X") {
        return parse_wallet(s).map(Recipient::Wallet);
    }
    parse_email(s).map(Recipient::Email)
}

fn parse_email(s: &str) -> Result<String, RecipientError> {
    if s.len() > 254 {
        return Err(RecipientError::BadEmail("longer than 254 characters"));
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err(RecipientError::BadEmail("missing '@'"));
    };
    if local.is_empty() || local.len() > 64 {
        return Err(RecipientError::BadEmail(
            "the part before '@' must be 1 to 64 characters",
        ));
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(RecipientError::BadEmail(
            "the part before '@' has a character not allowed there",
        ));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(RecipientError::BadEmail(
            "the domain needs a dot (example.com)",
        ));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(RecipientError::BadEmail("the domain is malformed"));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.len() < 2 || tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(RecipientError::BadEmail(
            "the top-level domain is malformed",
        ));
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

fn parse_wallet(s: &str) -> Result<String, RecipientError> {
    let hex = &s[2..];
    if !s.starts_with("0x") {
        return Err(RecipientError::BadWallet("must start with lower-case '0x'"));
    }
    if hex.len() != 40 {
        return Err(RecipientError::BadWallet(
            "must be 0x followed by 40 hex digits",
        ));
    }
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(RecipientError::BadWallet(
            "has a character that is not a hex digit",
        ));
    }
    let has_lower = hex.chars().any(|c| c.is_ascii_lowercase());
    let has_upper = hex.chars().any(|c| c.is_ascii_uppercase());
    if has_lower && has_upper && eip55(hex) != hex {
        return Err(RecipientError::Checksum);
    }
    Ok(s.to_string())
}

/// The EIP-55 checksummed form of 40 hex digits (without `0x`).
pub fn eip55(hex40: &str) -> String {
    let lower = hex40.to_ascii_lowercase();
    let mut hasher = Keccak::v256();
    hasher.update(lower.as_bytes());
    let mut hash = [0u8; 32];
    hasher.finalize(&mut hash);
    lower
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_reference_vectors() {
        // Test vectors from the EIP-55 specification.
        for addr in [
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "dbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "D1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert_eq!(eip55(addr), addr);
            assert!(parse_recipient(&format!("0x{addr}")).is_ok());
        }
    }

    #[test]
    fn wallet_with_bad_checksum_is_refused() {
        let bad = "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        assert_eq!(parse_recipient(bad), Err(RecipientError::Checksum));
        let lower = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
        assert!(parse_recipient(lower).is_ok());
    }

    #[test]
    fn emails() {
        assert!(parse_recipient("ada@example.com").is_ok());
        assert_eq!(
            parse_recipient("Ada@EXAMPLE.com").map(|r| r.to_string()),
            Ok("Ada@example.com".to_string())
        );
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@-x.com",
            "ada@example.c",
        ] {
            assert!(parse_recipient(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn redacting_masks_every_address_in_a_text() {
        let wallet = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
        let text =
            format!("invalid type: string \"ada.l@example.com\", to {wallet}; see bob@mail.test.");
        let r = redact(&text);
        assert!(
            !r.contains("ada.l@") && !r.contains("bob@") && !r.contains(wallet),
            "{r}"
        );
        assert!(
            r.contains("a***@example.com") && r.contains("0x5aae…eaed"),
            "{r}"
        );
        assert_eq!(
            redact("no address here: 42 @ noon"),
            "no address here: 42 @ noon"
        );
    }

    #[test]
    fn masking() {
        assert_eq!(mask("ada@example.com"), "a***@example.com");
        assert_eq!(
            mask("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
            "0x5aae…eaed"
        );
        assert_eq!(mask("xy"), "***");
    }
}
