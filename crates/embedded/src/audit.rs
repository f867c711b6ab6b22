//! An in-process audit log (newest first, bounded) and the local caller's identity.

use async_trait::async_trait;

use super::recent::RecentLog;
use voucherdeck_core::domain::{AuditEntry, Timestamp};
use voucherdeck_core::ports::{AuditLog, Identity, RequestCounter, Result, local_caller};

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

#[async_trait]
impl Identity for LocalIdentity {
    async fn caller(&self) -> Result<String> {
        Ok(local_caller())
    }
}
