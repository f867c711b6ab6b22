//! API keys: create, list and revoke them (read-only refuses the changes, every change is
//! audited), and tell who presents a key (a cached read, so a revoked key is refused by every
//! server within `KEY_CACHE_TTL`).

pub(crate) mod cache;

use std::fmt;

use super::services::Pipeline;
use cache::Cached;
use voucherdeck_core::domain::apikey::{generate_key, split_key, verify_key};
use voucherdeck_core::domain::{ApiKeyRecord, AuditAction, KeySpec, NewApiKey, Timestamp};
use voucherdeck_core::ports::{BackendError, Result};

/// Why a key was not accepted. Every variant is a 401 to the API: the words differ only in the
/// log and the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No key was presented.
    Missing,
    /// Not a key of this service (malformed, unknown id, wrong secret).
    Unknown,
    Revoked,
    Backend(BackendError),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Missing => f.write_str("no API key: send `Authorization: Bearer <key>`"),
            AuthError::Unknown => f.write_str("this API key is not valid"),
            AuthError::Revoked => f.write_str("this API key was revoked"),
            AuthError::Backend(e) => write!(f, "cannot check the API key: {e}"),
        }
    }
}

impl std::error::Error for AuthError {}

impl Pipeline {
    /// Creates a key; the key itself is in the answer only. Audited; refused read-only.
    pub async fn create_key(&self, spec: &KeySpec) -> Result<NewApiKey> {
        let target = self.backend().names.key_table.clone();
        self.guard(AuditAction::KeyCreate, &target).await?;
        let result = self.make_key(spec).await;
        self.audit_result(AuditAction::KeyCreate, &target, &result, |k| {
            (
                1,
                format!(
                    "key {} for {} ({}, {}/min, {}/day)",
                    k.record.id,
                    k.record.sender,
                    k.record.role,
                    k.record.per_minute,
                    k.record.daily
                ),
            )
        })
        .await;
        result
    }

    async fn make_key(&self, spec: &KeySpec) -> Result<NewApiKey> {
        let sender = spec.sender.trim();
        let field_error = voucherdeck_core::domain::validate_field(
            voucherdeck_core::domain::Field::Sender,
            &voucherdeck_core::domain::GiftRequest {
                sender: spec.sender.clone(),
                ..Default::default()
            },
            &self.config().limits,
        );
        if let Some(e) = field_error {
            return Err(BackendError::Invalid(e.to_string()));
        }
        let spec = KeySpec {
            sender: sender.to_string(),
            ..spec.clone()
        };
        let key = generate_key(
            &spec,
            self.config().key_pepper.as_bytes(),
            &self.actor().await,
            Timestamp::now(),
        )
        .map_err(|e| BackendError::Other(e.to_string()))?;
        self.backend().keys.put_key(&key.record).await?;
        Ok(key)
    }

    /// A key for trying the API on the embedded backend, where no other process can make one:
    /// sender `demo`, operator, with `limits` (gifts per minute, per day; `None`: 600 and
    /// 10,000).
    pub async fn create_demo_key(&self, limits: Option<(u32, u32)>) -> Result<NewApiKey> {
        let (per_minute, daily) = limits.unwrap_or((DEMO_PER_MINUTE, DEMO_DAILY));
        self.create_key(&KeySpec {
            sender: "demo".into(),
            role: voucherdeck_core::domain::Role::Operator,
            per_minute,
            daily,
        })
        .await
    }

    /// Every key, revoked ones included, oldest first.
    pub async fn list_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let mut keys = self.backend().keys.list_keys().await?;
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    /// Revokes a key: every server refuses it within `KEY_CACHE_TTL`. Audited; refused
    /// read-only. `NotFound` when there is no such key.
    pub async fn revoke_key(&self, id: &str) -> Result<ApiKeyRecord> {
        let target = self.backend().names.key_table.clone();
        self.guard(AuditAction::KeyRevoke, &target).await?;
        let result = self
            .backend()
            .keys
            .revoke_key(id, Timestamp::now())
            .await
            .and_then(|k| k.ok_or_else(|| BackendError::NotFound(format!("no API key {id}"))));
        self.audit_result(AuditAction::KeyRevoke, &target, &result, |k| {
            (1, format!("key {} of {}", k.id, k.sender))
        })
        .await;
        if let Ok(k) = &result {
            self.key_cache().put(id, Some(k.clone()));
        }
        result
    }

    /// The key behind a presented key string.
    pub async fn authenticate(&self, presented: &str) -> Result<ApiKeyRecord, AuthError> {
        let (id, secret) = split_key(presented.trim()).ok_or(AuthError::Unknown)?;
        let record = if let Some(cached) = self.key_cache().get(id) {
            match cached {
                Cached::Known(k) => k,
                Cached::Unknown => return Err(AuthError::Unknown),
            }
        } else {
            let read = self
                .backend()
                .keys
                .get_key(id)
                .await
                .map_err(AuthError::Backend)?;
            self.key_cache().put(id, read.clone());
            read.ok_or(AuthError::Unknown)?
        };
        let config = self.config();
        let peppers = std::iter::once(&config.key_pepper).chain(&config.key_pepper_previous);
        if !peppers
            .into_iter()
            .any(|p| verify_key(&record, p.as_bytes(), secret))
        {
            return Err(AuthError::Unknown);
        }
        if record.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        Ok(record)
    }
}

/// The demo key's gifts per minute and per day unless told otherwise.
pub const DEMO_PER_MINUTE: u32 = 600;
pub const DEMO_DAILY: u32 = 10_000;

/// A ready curl line gifting with `key` on the server at `addr`.
pub fn demo_curl(key: &NewApiKey, addr: std::net::SocketAddr) -> String {
    format!(
        "demo API key (sender demo, operator): {}\ntry: curl -si -X POST http://{addr}/v1/vouchers -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{{\"recipient\":\"ada@example.com\",\"amount\":\"25.00\"}}'",
        key.key, key.key
    )
}
