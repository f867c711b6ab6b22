//! An in-process audit log (newest first, bounded) and the local caller's identity.

use async_trait::async_trait;

use super::recent::RecentLog;
use crate::domain::{AuditEntry, Timestamp};
use crate::ports::{AuditLog, Identity, RequestCounter, Result};

/// The embedded audit log.
#[derive(Debug, Clone)]
pub struct EmbeddedAuditLog {
    log: RecentLog<AuditEntry>,
}

impl EmbeddedAuditLog {
    pub fn new(requests: RequestCounter, table: &str) -> Self {
        EmbeddedAuditLog {
            log: RecentLog::new(requests, table),
        }
    }
}

#[async_trait]
impl AuditLog for EmbeddedAuditLog {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        Ok(self.log.ensure())
    }

    async fn record(&self, entries: &[AuditEntry]) -> Result<()> {
        self.log.push(entries);
        Ok(())
    }

    async fn recent(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        Ok(self.log.newest(limit, |e| (e.at, e.id)))
    }

    async fn since(&self, from: Timestamp, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut out = self.log.newest(usize::MAX, |e| (e.at, e.id));
        out.retain(|e| e.at >= from);
        out.truncate(limit);
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
