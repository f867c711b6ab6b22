//! An in-process API key table.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use voucherdeck_core::domain::{ApiKeyRecord, Timestamp};
use voucherdeck_core::ports::{BackendError, KeyStore, RequestCounter, Result};

/// The embedded key table.
#[derive(Debug, Clone)]
pub struct EmbeddedKeys {
    keys: Arc<Mutex<BTreeMap<String, ApiKeyRecord>>>,
    requests: RequestCounter,
    table: String,
    created: Arc<AtomicBool>,
}

impl EmbeddedKeys {
    pub fn new(requests: RequestCounter, table: &str) -> Self {
        EmbeddedKeys {
            keys: Arc::default(),
            requests,
            table: table.to_string(),
            created: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, ApiKeyRecord>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl KeyStore for EmbeddedKeys {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        self.requests.hit("dynamodb:CreateTable");
        let created = !self.created.swap(true, Ordering::Relaxed);
        Ok((self.table.clone(), created))
    }

    async fn put_key(&self, key: &ApiKeyRecord) -> Result<()> {
        self.requests.hit("dynamodb:PutItem");
        let mut keys = self.lock();
        if keys.contains_key(&key.id) {
            return Err(BackendError::Conflict(format!("key {} exists", key.id)));
        }
        keys.insert(key.id.clone(), key.clone());
        Ok(())
    }

    async fn get_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        self.requests.hit("dynamodb:GetItem");
        Ok(self.lock().get(id).cloned())
    }

    async fn list_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        self.requests.hit("dynamodb:Scan");
        Ok(self.lock().values().cloned().collect())
    }

    async fn revoke_key(&self, id: &str, at: Timestamp) -> Result<Option<ApiKeyRecord>> {
        self.requests.hit("dynamodb:UpdateItem");
        let mut keys = self.lock();
        Ok(keys.get_mut(id).map(|k| {
            k.revoked_at.get_or_insert(at);
            k.clone()
        }))
    }
}
