//! API keys: who may gift through the HTTP API, as what role, within which limits. A key is shown
//! once; only a keyed hash of it is stored and it is compared in constant time.

use std::fmt;
use std::str::FromStr;

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

use super::time::Timestamp;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Gifts one voucher at a time and reads its own vouchers.
    Gifter,
    /// Also gifts in batches and reads any voucher.
    Operator,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Gifter => "gifter",
            Role::Operator => "operator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "gifter" => Ok(Role::Gifter),
            "operator" => Ok(Role::Operator),
            _ => Err("must be gifter or operator".into()),
        }
    }
}

/// A stored API key: everything but the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// Public identifier, part of the key (`vdk_<id>_<secret><checksum>`).
    pub id: String,
    /// The identity its gifts carry.
    pub sender: String,
    pub role: Role,
    /// Burst limit: gifts per minute.
    pub per_minute: u32,
    /// Gifts per UTC day, exact across every server.
    pub daily: u32,
    /// HMAC-SHA-256 of the key (hex).
    pub hash: String,
    pub created_at: Timestamp,
    pub created_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// A key as `keys create` prints it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub record: ApiKeyRecord,
    /// The full key: shown once, never stored.
    pub key: String,
}

/// What a new key allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub sender: String,
    pub role: Role,
    pub per_minute: u32,
    pub daily: u32,
}

const PREFIX: &str = "vdk_";
/// Random bytes of a key id (64 bits) and of its secret (256 bits).
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;
/// Hex digits of a key's checksum: CRC-32 (IEEE) of everything before it, so secret scanners and
/// the server can tell a key from a typo offline.
const CHECKSUM_DIGITS: usize = 8;

/// The checksum that ends a key whose text before it is `body`.
fn checksum(body: &str) -> String {
    format!("{:08x}", crc32fast::hash(body.as_bytes()))
}

/// Why a key could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot make a new API key: {0}")]
pub struct KeyGenError(String);

fn random_hex<const N: usize>() -> Result<String, KeyGenError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| KeyGenError(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// The keyed hash of a key (HMAC accepts a pepper of any length, so this is `None` never in
/// practice).
fn mac(pepper: &[u8], id: &str, secret: &str) -> Option<HmacSha256> {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(pepper).ok()?;
    m.update(id.as_bytes());
    m.update(b":");
    m.update(secret.as_bytes());
    Some(m)
}

/// A new key for `spec`: a random id and a 256-bit random secret; the record holds only the
/// keyed hash of the secret (keyed with `pepper`).
pub fn generate_key(
    spec: &KeySpec,
    pepper: &[u8],
    created_by: &str,
    now: Timestamp,
) -> Result<NewApiKey, KeyGenError> {
    let id = random_hex::<ID_BYTES>()?;
    let secret = random_hex::<SECRET_BYTES>()?;
    let hash = mac(pepper, &id, &secret)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .ok_or_else(|| KeyGenError("the key pepper is not usable".into()))?;
    let body = format!("{PREFIX}{id}_{secret}");
    Ok(NewApiKey {
        key: format!("{body}{}", checksum(&body)),
        record: ApiKeyRecord {
            id,
            sender: spec.sender.clone(),
            role: spec.role,
            per_minute: spec.per_minute,
            daily: spec.daily,
            hash,
            created_at: now,
            created_by: created_by.to_string(),
            revoked_at: None,
        },
    })
}

/// A presented key split into its id and secret; `None` when it is not shaped like a key or its
/// checksum is wrong. Keys made before checksums (`vdk_<id>_<secret>`) are still read.
pub fn split_key(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(PREFIX)?;
    let (id, tail) = rest.split_once('_')?;
    let hex_of = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let secret = match tail.len() {
        n if n == SECRET_BYTES * 2 => tail,
        n if n == SECRET_BYTES * 2 + CHECKSUM_DIGITS => {
            let (secret, sum) = tail.split_at(SECRET_BYTES * 2);
            let body = &presented[..presented.len() - CHECKSUM_DIGITS];
            (sum == checksum(body)).then_some(secret)?
        }
        _ => return None,
    };
    (hex_of(id, ID_BYTES * 2) && hex_of(secret, SECRET_BYTES * 2)).then_some((id, secret))
}

/// Whether `secret` is the key of `record` (constant-time comparison of the keyed hashes).
pub fn verify_key(record: &ApiKeyRecord, pepper: &[u8], secret: &str) -> bool {
    let Ok(expected) = hex::decode(&record.hash) else {
        return false;
    };
    mac(pepper, &record.id, secret).is_some_and(|m| m.verify_slice(&expected).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> KeySpec {
        KeySpec {
            sender: "acme".into(),
            role: Role::Gifter,
            per_minute: 60,
            daily: 100,
        }
    }

    #[test]
    fn a_key_verifies_only_itself() {
        let k = generate_key(&spec(), b"pepper", "local:me", Timestamp(0)).expect("key");
        let (id, secret) = split_key(&k.key).expect("shaped");
        assert_eq!(id, k.record.id);
        assert_eq!(secret.len(), 64, "256 bits");
        assert!(!k.record.hash.contains(secret), "only the hash is kept");
        assert!(verify_key(&k.record, b"pepper", secret));
        assert!(!verify_key(&k.record, b"other pepper", secret));
        let mut wrong = secret.to_string();
        wrong.replace_range(0..1, if secret.starts_with('0') { "1" } else { "0" });
        assert!(!verify_key(&k.record, b"pepper", &wrong));
        let other = generate_key(&spec(), b"pepper", "local:me", Timestamp(0)).expect("key");
        assert_ne!(other.record.id, k.record.id);
    }

    #[test]
    fn malformed_keys_are_not_split() {
        for bad in [
            "",
            "vdk_",
            "vdk_zz_yy",
            "sk_live_abc",
            "vdk_0011223344556677",
        ] {
            assert_eq!(split_key(bad), None, "{bad}");
        }
        assert_eq!("operator".parse(), Ok(Role::Operator));
    }

    #[test]
    fn the_checksum_catches_every_typo_offline_and_old_keys_still_split() {
        let k = generate_key(&spec(), b"pepper", "local:me", Timestamp(0)).expect("key");
        assert_eq!(k.key.len(), 4 + 16 + 1 + 64 + 8, "{}", k.key);
        let (id, secret) = split_key(&k.key).expect("shaped");
        // Every single-character change of the key is caught by the checksum (CRC-32 catches
        // every burst of up to 32 bits), before any lookup.
        for i in 4..k.key.len() {
            let mut typo = k.key.clone().into_bytes();
            typo[i] = if typo[i] == b'0' { b'1' } else { b'0' };
            let typo = String::from_utf8(typo).expect("ascii");
            if typo != k.key {
                assert_eq!(split_key(&typo), None, "{typo}");
            }
        }
        // A key made before checksums: the same id and secret, without the last 8 digits.
        let old = &k.key[..k.key.len() - 8];
        assert_eq!(split_key(old), Some((id, secret)));
        assert!("admin".parse::<Role>().is_err());
    }
}
