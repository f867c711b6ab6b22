//! What a redrive is asked to do, and how far it has got.

use std::fmt;

use serde::Serialize;

use crate::dlq::{DlqFilter, DlqMessage};
use voucherdeck_core::domain::{FailureRecord, OperatorNote};
use voucherdeck_core::ports::ReceivedMessage;

/// Which DLQ messages to move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedriveScope {
    All,
    Ids(Vec<String>),
    /// Messages whose body contains this text.
    Match(String),
    /// Messages by body text, failure kind and reason, over the whole DLQ.
    Filter(DlqFilter),
}

impl RedriveScope {
    /// Whether the scope takes this message; `log` tells why messages are in the DLQ (a filter by
    /// kind or reason needs it).
    pub(super) fn includes(&self, m: &ReceivedMessage, log: &[FailureRecord]) -> bool {
        match self {
            RedriveScope::All => true,
            RedriveScope::Ids(ids) => ids.contains(&m.message_id),
            RedriveScope::Match(text) => m.body.contains(text.as_str()),
            RedriveScope::Filter(f) => f.matches(&DlqMessage::from_received(m.clone(), log)),
        }
    }

    /// Whether `includes` needs the failure log.
    pub(super) fn needs_reasons(&self) -> bool {
        matches!(self, RedriveScope::Filter(f) if f.kind.is_some() || f.reason.is_some())
    }
}

/// A redrive to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveRequest {
    pub scope: RedriveScope,
    /// A queue name; `None` sends each message back to the queue it came from.
    pub destination: Option<String>,
    /// Messages per second (1..=500).
    pub rate: Option<u32>,
    /// Why, in the operator's words: kept in the redrive's audit entries.
    pub note: Option<OperatorNote>,
}

/// How the messages are being moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedriveMethod {
    /// The service's own message-move task.
    Native,
    /// Receive, send to the destination, then delete from the DLQ.
    Copy,
}

/// Where a redrive stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum RedriveStatus {
    Starting,
    Running,
    Completed,
    Cancelled,
    Failed(String),
}

impl RedriveStatus {
    pub const fn is_finished(&self) -> bool {
        matches!(
            self,
            RedriveStatus::Completed | RedriveStatus::Cancelled | RedriveStatus::Failed(_)
        )
    }
}

/// A chosen message a redrive did not move, and why (it stays in the DLQ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedriveFailure {
    pub message_id: String,
    pub reason: String,
}

/// Progress of a redrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedriveProgress {
    pub method: RedriveMethod,
    pub moved: u64,
    /// How many it set out to move, where known.
    pub total: Option<u64>,
    /// Messages that could not be moved (left in the DLQ).
    pub failed: u64,
    pub status: RedriveStatus,
}

impl fmt::Display for RedriveProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self
            .total
            .map_or_else(|| "?".to_string(), |t| t.to_string());
        write!(f, "moved {}/{total}", self.moved)?;
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
        }
        match &self.status {
            RedriveStatus::Failed(why) => write!(f, " — failed: {why}"),
            // What could not be moved is all that is left of the chosen ones: the walk ends only
            // once the DLQ has nothing visible it has not seen.
            RedriveStatus::Completed if self.failed > 0 => write!(
                f,
                " — completed; {} matching message(s) remain in the DLQ",
                self.failed
            ),
            s => write!(f, " — {}", format!("{s:?}").to_lowercase()),
        }
    }
}
