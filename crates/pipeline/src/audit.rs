//! The audit service: who this pipeline acts as, recording audited actions (a local JSON Lines file
//! and the shared audit log), reading them back, and the read-only guard every mutation passes.

use super::services::Pipeline;
use voucherdeck_core::domain::{AuditAction, AuditEntry, AuditOutcome, OperatorNote, Timestamp};
use voucherdeck_core::ports::{BackendError, Result};

impl Pipeline {
    /// Refuses `action` when the pipeline is read-only; the refusal is audited too.
    pub(crate) async fn guard(&self, action: AuditAction, target: &str) -> Result<()> {
        self.guard_noted(action, target, None).await
    }

    /// [`Pipeline::guard`] of an action the operator gave a note; a refusal keeps the note.
    pub(crate) async fn guard_noted(
        &self,
        action: AuditAction,
        target: &str,
        note: Option<&OperatorNote>,
    ) -> Result<()> {
        if !self.config().read_only {
            return Ok(());
        }
        let entry = AuditEntry::new(self.actor().await, action, target, 0, AuditOutcome::Refused)
            .with_detail("read-only")
            .with_note(note);
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
        self.audit_result_noted(action, target, None, result, ok)
            .await;
    }

    /// [`Pipeline::audit_result`] of an action the operator gave a note.
    pub(crate) async fn audit_result_noted<T>(
        &self,
        action: AuditAction,
        target: &str,
        note: Option<&OperatorNote>,
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
        self.audit(entry.with_note(note)).await;
    }

    /// Records audited actions in the audit file (if any) and the audit log, retrying a failed
    /// write for a while (see `audit_sink`). Writing the audit never fails the action it
    /// describes: entries that finally could not be written are counted lost and logged.
    pub async fn audit_many(&self, entries: &[AuditEntry]) {
        self.audit_sink().write(entries).await;
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
