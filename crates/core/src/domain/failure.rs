//! Failure records: what went wrong with a message, kept in a log every dashboard and worker can read.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::time::Timestamp;

/// What kind of failure, and whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The body is not JSON.
    NotJson,
    /// JSON, but not a voucher message of a version we read.
    Schema,
    /// A voucher that breaks a validation rule.
    Invalid,
    /// A voucher whose id is already stored with other content (the stored one is kept).
    Conflict,
    /// A message from a sender not in `trusted_senders`.
    UntrustedSender,
    /// The backend asked us to slow down.
    Throttled,
    /// The store or queue could not be reached.
    Unavailable,
    /// A call took too long.
    Timeout,
    /// Anything else the backend reported.
    Backend,
}

impl FailureKind {
    /// A permanent failure goes to the DLQ at once; others are retried.
    pub const fn is_permanent(self) -> bool {
        matches!(
            self,
            FailureKind::NotJson
                | FailureKind::Schema
                | FailureKind::Invalid
                | FailureKind::Conflict
                | FailureKind::UntrustedSender
        )
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            FailureKind::NotJson => "not_json",
            FailureKind::Schema => "schema",
            FailureKind::Invalid => "invalid",
            FailureKind::Conflict => "conflict",
            FailureKind::UntrustedSender => "untrusted_sender",
            FailureKind::Throttled => "throttled",
            FailureKind::Unavailable => "unavailable",
            FailureKind::Timeout => "timeout",
            FailureKind::Backend => "backend",
        }
    }

    pub fn parse(s: &str) -> Option<FailureKind> {
        [
            FailureKind::NotJson,
            FailureKind::Schema,
            FailureKind::Invalid,
            FailureKind::Conflict,
            FailureKind::UntrustedSender,
            FailureKind::Throttled,
            FailureKind::Unavailable,
            FailureKind::Timeout,
            FailureKind::Backend,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failure of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub record_id: Uuid,
    pub at: Timestamp,
    pub queue: String,
    pub message_id: String,
    pub voucher_id: Option<Uuid>,
    /// Masked: never the full address.
    pub recipient: Option<String>,
    pub kind: FailureKind,
    pub reason: String,
    pub receive_count: u32,
    pub worker: String,
    /// Whether this failure sent the message to the DLQ.
    pub dead_lettered: bool,
    /// The message's group, where it has one (on a FIFO queue a retrying message holds its
    /// group back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}
