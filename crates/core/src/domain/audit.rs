//! The operator audit log: every action that changes something, as one record — who, when, what,
//! on what, how many, and how it ended.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::note::OperatorNote;
use super::time::Timestamp;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Gift,
    Redrive,
    DlqDelete,
    DlqPurge,
    DlqResend,
    Provision,
    KeyCreate,
    KeyRevoke,
}

impl AuditAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::Gift => "gift",
            AuditAction::Redrive => "redrive",
            AuditAction::DlqDelete => "dlq_delete",
            AuditAction::DlqPurge => "dlq_purge",
            AuditAction::DlqResend => "dlq_resend",
            AuditAction::Provision => "provision",
            AuditAction::KeyCreate => "key_create",
            AuditAction::KeyRevoke => "key_revoke",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Done (for a batch: at least partly; `detail` says what was not).
    Ok,
    /// Not allowed: read-only, a limit, a role, invalid input.
    Refused,
    /// Allowed, but the backend failed.
    Failed,
}

impl AuditOutcome {
    /// The outcome as it is stored and printed (`ok`, `refused`, `failed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Refused => "refused",
            AuditOutcome::Failed => "failed",
        }
    }
}

/// One audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: Timestamp,
    /// Who: an AWS caller ARN, `local:user@host`, or an API key (`key:ID sender`).
    pub actor: String,
    pub action: AuditAction,
    /// On what: a queue, a table, a voucher id.
    pub target: String,
    /// How many messages, vouchers or items.
    pub count: u64,
    pub outcome: AuditOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// Why, in the operator's words (a destructive action's `--note`), apart from the `detail`
    /// the action writes itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl AuditEntry {
    /// A new entry stamped now.
    pub fn new(
        actor: impl Into<String>,
        action: AuditAction,
        target: impl Into<String>,
        count: u64,
        outcome: AuditOutcome,
    ) -> AuditEntry {
        AuditEntry {
            id: Uuid::now_v7(),
            at: Timestamp::now(),
            actor: actor.into(),
            action,
            target: target.into(),
            count,
            outcome,
            detail: None,
            client_ip: None,
            note: None,
        }
    }

    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> AuditEntry {
        self.detail = Some(detail.into());
        self
    }

    /// The entry with the operator's note, if there is one.
    #[must_use]
    pub fn with_note(mut self, note: Option<&OperatorNote>) -> AuditEntry {
        self.note = note.map(|n| n.as_str().to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_serialise_as_one_json_object() {
        let e = AuditEntry::new(
            "local:ada@host",
            AuditAction::DlqPurge,
            "vouchers-dlq",
            3,
            AuditOutcome::Ok,
        );
        let v: serde_json::Value = serde_json::to_value(&e).expect("json");
        assert_eq!(v["action"], "dlq_purge");
        assert_eq!(v["outcome"], "ok");
        assert!(v.get("detail").is_none());
        let back: AuditEntry = serde_json::from_value(v).expect("back");
        assert_eq!(back, e);
    }
}
