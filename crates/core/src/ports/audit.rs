//! The audit log port (a DynamoDB table on AWS) and who the caller is.

use async_trait::async_trait;
use uuid::Uuid;

use super::error::Result;
use crate::domain::{AuditEntry, Timestamp};

/// Where audited actions are kept for every operator to read.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Creates the audit table if missing; returns (table, created).
    async fn ensure_table(&self) -> Result<(String, bool)>;
    /// Adds entries, never replacing one (batched: 25 per request on DynamoDB; a single entry is a
    /// conditional put, and one already there counts as written). Returns the ids of the entries
    /// the store left unwritten (DynamoDB's unprocessed items), for the caller to retry; an error
    /// means no entry is known to be written.
    async fn record(&self, entries: &[AuditEntry]) -> Result<Vec<Uuid>>;
    /// The newest `limit` entries, newest first.
    async fn recent(&self, limit: usize) -> Result<Vec<AuditEntry>>;
    /// Up to `limit` entries stamped at or after `from`, newest first (a poll's read: on DynamoDB
    /// one query, two across midnight).
    async fn since(&self, from: Timestamp, limit: usize) -> Result<Vec<AuditEntry>>;
}

/// Who this process acts as.
#[async_trait]
pub trait Identity: Send + Sync + 'static {
    /// The caller's identity: an ARN on AWS (`sts:GetCallerIdentity`), `local:user@host` otherwise.
    async fn caller(&self) -> Result<String>;
}

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
