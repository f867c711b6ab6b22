//! Money amounts kept as integer minor units (cents): no floating point anywhere.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A positive amount with at most two decimals, stored as hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(u64);

impl Amount {
    pub const fn from_cents(cents: u64) -> Self {
        Amount(cents)
    }
    pub const fn cents(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    Empty,
    NotANumber,
    TooManyDecimals,
    NotPositive,
    AboveMaximum(Amount),
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Empty => f.write_str("is required"),
            AmountError::NotANumber => f.write_str("must be a decimal number such as 25 or 25.50"),
            AmountError::TooManyDecimals => f.write_str("may have at most 2 decimals"),
            AmountError::NotPositive => f.write_str("must be greater than 0"),
            AmountError::AboveMaximum(max) => write!(f, "must be at most {max}"),
        }
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        if s.starts_with('-') {
            return Err(AmountError::NotPositive);
        }
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(AmountError::NotANumber);
        }
        if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(AmountError::NotANumber);
        }
        if s.contains('.') && frac.is_empty() {
            return Err(AmountError::NotANumber);
        }
        if frac.len() > 2 {
            return Err(AmountError::TooManyDecimals);
        }
        let int_part: u64 = if int.is_empty() {
            0
        } else {
            int.parse()
                .map_err(|_| AmountError::AboveMaximum(Amount(u64::MAX)))?
        };
        let frac_part: u64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<u64>().map_err(|_| AmountError::NotANumber)? * 10,
            _ => frac.parse().map_err(|_| AmountError::NotANumber)?,
        };
        let cents = int_part
            .checked_mul(100)
            .and_then(|c| c.checked_add(frac_part))
            .ok_or(AmountError::AboveMaximum(Amount(u64::MAX)))?;
        if cents == 0 {
            return Err(AmountError::NotPositive);
        }
        Ok(Amount(cents))
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse()
            .map_err(|e: AmountError| serde::de::Error::custom(format!("amount {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!("25".parse::<Amount>().map(super::Amount::cents), Ok(2500));
        assert_eq!(
            "25.5".parse::<Amount>().map(|a| a.to_string()),
            Ok("25.50".into())
        );
        assert_eq!("0.01".parse::<Amount>().map(super::Amount::cents), Ok(1));
        assert_eq!(".5".parse::<Amount>().map(super::Amount::cents), Ok(50));
        assert_eq!("1.234".parse::<Amount>(), Err(AmountError::TooManyDecimals));
        assert_eq!("0".parse::<Amount>(), Err(AmountError::NotPositive));
        assert_eq!("-3".parse::<Amount>(), Err(AmountError::NotPositive));
        assert_eq!("1e3".parse::<Amount>(), Err(AmountError::NotANumber));
        assert_eq!("12.".parse::<Amount>(), Err(AmountError::NotANumber));
        assert_eq!("".parse::<Amount>(), Err(AmountError::Empty));
    }
}
