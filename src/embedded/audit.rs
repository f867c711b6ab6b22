//! An in-process audit log (newest first, bounded) and the local caller's identity.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use crate::domain::AuditEntry;
use crate::ports::{AuditLog, Identity, RequestCounter, Result};

/// How many entries the embedded log keeps.
const CAPACITY: usize = 10_000;

/// The embedded audit log.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedAuditLog {
    entries: Arc<Mutex<VecDeque<AuditEntry>>>,
    requests: RequestCounter,
    table: String,
    created: Arc<AtomicBool>,
}

impl EmbeddedAuditLog {
    pub fn new(requests: RequestCounter, table: &str) -> Self {
        EmbeddedAuditLog {
            entries: Arc::default(),
            requests,
            table: table.to_string(),
            created: Arc::default(),
        }
    }
}

#[async_trait]
impl AuditLog for EmbeddedAuditLog {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        self.requests.hit("dynamodb:CreateTable");
        let existed = self.created.swap(true, Ordering::Relaxed);
        Ok((self.table.clone(), !existed))
    }

    async fn record(&self, entries: &[AuditEntry]) -> Result<()> {
        self.requests.hit("dynamodb:BatchWriteItem");
        let mut log = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for e in entries {
            if log.len() == CAPACITY {
                log.pop_back();
            }
            log.push_front(e.clone());
        }
        Ok(())
    }

    async fn recent(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.requests.hit("dynamodb:Query");
        let log = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<AuditEntry> = log.iter().take(limit).cloned().collect();
        out.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
        Ok(out)
    }
}

/// The local user: `local:user@host`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalIdentity;

/// `local:user@host` from the environment (`USER`/`USERNAME`, `HOSTNAME` or `/etc/hostname`).
pub fn local_caller() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "unknown".into());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("local:{user}@{host}")
}

#[async_trait]
impl Identity for LocalIdentity {
    async fn caller(&self) -> Result<String> {
        Ok(local_caller())
    }
}
