//! An in-process audit log (newest first, bounded) and the local caller's identity, with switches
//! that make writes fail or leave entries unprocessed, as DynamoDB can.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use uuid::Uuid;

use super::recent::RecentLog;
use voucherdeck_core::domain::{AuditEntry, Timestamp};
use voucherdeck_core::ports::{
    AuditLog, BackendError, Identity, RequestCounter, Result, local_caller,
};

/// What the next writes do wrong.
#[derive(Debug, Default)]
struct Faults {
    /// Writes that fail as a whole (`Unavailable`), from the next one on.
    fail: u32,
    /// The error every write fails with, if any.
    always: Option<BackendError>,
    /// Writes of several entries that keep only the first and hand the rest back unprocessed.
    unprocessed: u32,
}

/// The embedded audit log.
#[derive(Debug, Clone)]
pub struct EmbeddedAuditLog {
    log: RecentLog<AuditEntry>,
    faults: Arc<Mutex<Faults>>,
}

impl EmbeddedAuditLog {
    pub fn new(requests: RequestCounter, table: &str) -> Self {
        EmbeddedAuditLog {
            log: RecentLog::new(requests, table),
            faults: Arc::default(),
        }
    }

    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the next `n` writes fail as `Unavailable`.
    pub fn fail_next_writes(&self, n: u32) {
        self.faults().fail = n;
    }

    /// Makes every write fail with `error` (`None`: no more).
    pub fn fail_every_write(&self, error: Option<BackendError>) {
        self.faults().always = error;
    }

    /// Makes the next `n` writes of several entries keep only their first entry and hand the
    /// others back unprocessed (as DynamoDB's `UnprocessedItems`).
    pub fn leave_unprocessed(&self, n: u32) {
        self.faults().unprocessed = n;
    }
}

#[async_trait]
impl AuditLog for EmbeddedAuditLog {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        Ok(self.log.ensure())
    }

    async fn record(&self, entries: &[AuditEntry]) -> Result<Vec<Uuid>> {
        let keep = {
            let mut f = self.faults();
            if let Some(e) = &f.always {
                self.log.push(&[]);
                return Err(e.clone());
            }
            if f.fail > 0 {
                f.fail -= 1;
                self.log.push(&[]);
                return Err(BackendError::Unavailable(
                    "audit log is not answering (simulated outage)".into(),
                ));
            }
            if f.unprocessed > 0 && entries.len() > 1 {
                f.unprocessed -= 1;
                1
            } else {
                entries.len()
            }
        };
        self.log.push(&entries[..keep]);
        Ok(entries[keep..].iter().map(|e| e.id).collect())
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
