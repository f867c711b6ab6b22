//! The audit service: who this pipeline acts as, recording audited actions (a local JSON Lines file
//! and the shared audit log), reading them back, and the read-only guard every mutation passes.

use tokio::io::AsyncWriteExt;

use super::services::Pipeline;
use voucherdeck_core::domain::{AuditAction, AuditEntry, AuditOutcome, Timestamp};
use voucherdeck_core::ports::{AuditLog, BackendError, Result};

impl Pipeline {
    /// Refuses `action` when the pipeline is read-only; the refusal is audited too.
    pub(crate) async fn guard(&self, action: AuditAction, target: &str) -> Result<()> {
        if !self.config().read_only {
            return Ok(());
        }
        let entry = AuditEntry::new(self.actor().await, action, target, 0, AuditOutcome::Refused)
            .with_detail("read-only");
        self.audit(entry).await;
        Err(BackendError::ReadOnly(action.as_str()))
    }

    /// Who this pipeline acts as: the caller's ARN on AWS, `local:user@host` on the embedded
    /// backend; asked once. When it cannot be told, says so (the action is still audited).
    pub async fn actor(&self) -> String {
        self.actor_cell()
            .get_or_init(|| async {
                match self.backend().identity.caller().await {
                    Ok(who) => who,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot tell who the caller is");
                        format!("unknown ({})", voucherdeck_core::ports::local_caller())
                    }
                }
            })
            .await
            .clone()
    }

    /// An audit entry for `action` by this pipeline's actor.
    pub(crate) async fn audit_entry(
        &self,
        action: AuditAction,
        target: &str,
        count: u64,
        outcome: AuditOutcome,
    ) -> AuditEntry {
        AuditEntry::new(self.actor().await, action, target, count, outcome)
    }

    /// Audits how `action` ended: on success `ok` tells how many and what happened; an error is a
    /// failure with its message.
    pub(crate) async fn audit_result<T>(
        &self,
        action: AuditAction,
        target: &str,
        result: &Result<T>,
        ok: impl FnOnce(&T) -> (u64, String),
    ) {
        let entry = match result {
            Ok(value) => {
                let (count, detail) = ok(value);
                self.audit_entry(action, target, count, AuditOutcome::Ok)
                    .await
                    .with_detail(detail)
            }
            Err(e) => self
                .audit_entry(action, target, 0, AuditOutcome::Failed)
                .await
                .with_detail(e.to_string()),
        };
        self.audit(entry).await;
    }

    /// Records audited actions. Writing the audit never fails the action it describes: a failure
    /// is logged as an error instead.
    pub async fn audit_many(&self, entries: &[AuditEntry]) {
        record_entries(
            self.config().audit_file.as_deref(),
            self.backend().audit.as_ref(),
            entries,
        )
        .await;
    }

    /// Records one audited action (see [`Pipeline::audit_many`]).
    pub async fn audit(&self, entry: AuditEntry) {
        self.audit_many(std::slice::from_ref(&entry)).await;
    }

    /// Audited actions stamped at or after `from`, newest first.
    pub async fn audit_since(&self, from: Timestamp, limit: usize) -> Result<Vec<AuditEntry>> {
        self.backend().audit.since(from, limit).await
    }

    /// The newest audited actions of every operator, newest first.
    pub async fn recent_audit(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.backend().audit.recent(limit).await
    }
}

/// Records entries in the local file (if any) and the audit log; failures are logged, not returned.
pub(crate) async fn record_entries(
    file: Option<&std::path::Path>,
    log: &dyn AuditLog,
    entries: &[AuditEntry],
) {
    if entries.is_empty() {
        return;
    }
    if let Some(path) = file
        && let Err(e) = append_lines(path, entries).await
    {
        tracing::error!(path = %path.display(), error = %e, "cannot write the audit file");
    }
    if let Err(e) = log.record(entries).await {
        tracing::error!(error = %e, count = entries.len(), "cannot write the audit log");
    }
}

/// Appends entries as JSON lines, creating the file (and its folder) if needed.
async fn append_lines(path: &std::path::Path, entries: &[AuditEntry]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut text = String::new();
    for e in entries {
        text.push_str(&serde_json::to_string(e).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    file.write_all(text.as_bytes()).await?;
    file.flush().await
}
