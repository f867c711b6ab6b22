//! ISO 4217 currency codes: a gift names one of the active codes; lower case is accepted and
//! normalised (`eur` becomes `EUR`).

/// The active ISO 4217 codes for money (no fund, metal or testing codes), sorted.
pub const CODES: [&str; 155] = [
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD",
    "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
    "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN",
    "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD",
    "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES",
    "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL",
    "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN",
    "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK",
    "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT",
    "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VED", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// The currency when a gift names none.
pub const DEFAULT_CURRENCY: &str = "USD";

/// Why a currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("must be an ISO 4217 code: three letters such as USD or EUR")]
    Malformed,
    #[error("{0} is not an active ISO 4217 currency code")]
    Unknown(String),
}

/// Checks a currency code and returns it in capitals; surrounding spaces are ignored.
pub fn parse_currency(raw: &str) -> Result<&'static str, CurrencyError> {
    let code = raw.trim();
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(CurrencyError::Malformed);
    }
    let upper = code.to_ascii_uppercase();
    CODES
        .binary_search(&upper.as_str())
        .map(|i| CODES[i])
        .map_err(|_| CurrencyError::Unknown(upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_and_unique() {
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn known_codes_in_any_case() {
        assert_eq!(parse_currency("EUR"), Ok("EUR"));
        assert_eq!(parse_currency(" eur "), Ok("EUR"));
        assert_eq!(parse_currency("uSd"), Ok("USD"));
        assert_eq!(
            parse_currency("ABC"),
            Err(CurrencyError::Unknown("ABC".into()))
        );
        for bad in ["", "US", "EURO", "U$D", "ÉUR", "12A"] {
            assert_eq!(parse_currency(bad), Err(CurrencyError::Malformed), "{bad}");
        }
    }
}
