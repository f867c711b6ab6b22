//! The API key port (a DynamoDB table `<table>-keys` on AWS).

use async_trait::async_trait;

use super::error::Result;
use crate::domain::{ApiKeyRecord, Timestamp};

/// Where API keys (their hashes) are kept for every server to read.
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Creates the key table if missing; returns (table, created).
    async fn ensure_table(&self) -> Result<(String, bool)>;
    /// Stores a new key; `Conflict` if its id is taken.
    async fn put_key(&self, key: &ApiKeyRecord) -> Result<()>;
    async fn get_key(&self, id: &str) -> Result<Option<ApiKeyRecord>>;
    /// Every key, revoked ones included.
    async fn list_keys(&self) -> Result<Vec<ApiKeyRecord>>;
    /// Marks a key revoked at `at` (kept for the record); `None` when there is no such key.
    async fn revoke_key(&self, id: &str, at: Timestamp) -> Result<Option<ApiKeyRecord>>;
}
