//! DLQ triage: peek (DLQ only; it raises receive counts) and delete chosen messages.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::attributes as attr;
use super::walk::{delete_messages, release, walk};
use crate::services::Pipeline;
use voucherdeck_core::domain::{AuditAction, FailureRecord, OperatorNote, Timestamp};
use voucherdeck_core::ports::{BackendError, ReceivedMessage, Result};

/// Most messages one peek gathers.
const PEEK_MAX: usize = 1000;

/// A message in the DLQ, with its failure reason where one is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DlqMessage {
    pub message_id: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
    pub receive_count: u32,
    pub sent_at: Option<Timestamp>,
    pub failure: Option<DlqFailure>,
    /// The body (and the message's own attributes) were not kept: the session holding it had
    /// read more than its body budget. Written to exports only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub body_dropped: bool,
    /// Its message group, where it has one (every message of a FIFO DLQ does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// Why a message is in the DLQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DlqFailure {
    /// The failure log's record of the attempt that sent this very message here (SQS moved it
    /// after retries): the newest truth; attributes may be left from an earlier failure.
    Logged(FailureRecord),
    /// What the consumer wrote on the message when it dead-lettered it.
    Attributes(FailureAttributes),
}

/// The failure attributes on a dead-lettered message, as written (by this or another version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureAttributes {
    pub kind: String,
    pub reason: String,
    pub worker: Option<String>,
    pub first_seen: Option<String>,
    pub source_queue: Option<String>,
}

impl DlqFailure {
    /// `not_json`, `schema`, `invalid`… (a kind another version wrote is shown as written).
    pub fn kind(&self) -> &str {
        match self {
            DlqFailure::Logged(r) => r.kind.as_str(),
            DlqFailure::Attributes(a) => &a.kind,
        }
    }

    /// The reason; for a logged failure, with the receives it took.
    pub fn reason(&self) -> String {
        match self {
            DlqFailure::Logged(r) => format!("{} (after {} receives)", r.reason, r.receive_count),
            DlqFailure::Attributes(a) => a.reason.clone(),
        }
    }

    /// The worker that failed it.
    pub fn worker(&self) -> Option<&str> {
        match self {
            DlqFailure::Logged(r) => Some(&r.worker),
            DlqFailure::Attributes(a) => a.worker.as_deref(),
        }
    }

    /// When the message first failed, where the attributes say.
    pub fn first_seen(&self) -> Option<&str> {
        match self {
            DlqFailure::Logged(_) => None,
            DlqFailure::Attributes(a) => a.first_seen.as_deref(),
        }
    }

    /// The queue it came from.
    pub fn source_queue(&self) -> Option<&str> {
        match self {
            DlqFailure::Logged(r) => Some(&r.queue),
            DlqFailure::Attributes(a) => a.source_queue.as_deref(),
        }
    }
}

/// One shape for both sources in `--json` and exports: `kind`, `reason`, `worker`, `first_seen`,
/// `source_queue`.
impl Serialize for DlqFailure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("DlqFailure", 5)?;
        out.serialize_field("kind", self.kind())?;
        out.serialize_field("reason", &self.reason())?;
        out.serialize_field("worker", &self.worker())?;
        out.serialize_field("first_seen", &self.first_seen())?;
        out.serialize_field("source_queue", &self.source_queue())?;
        out.end()
    }
}

impl DlqMessage {
    pub(crate) fn from_received(m: ReceivedMessage, log: &[FailureRecord]) -> Self {
        let a = &m.attributes;
        // A log record under this very message id means SQS moved it here after retries: that is
        // the newest truth (attributes may be left from an earlier failure, before a redrive).
        let from_log = log
            .iter()
            .find(|r| r.message_id == m.message_id)
            .map(|r| DlqFailure::Logged(r.clone()));
        let from_attributes = a.get(attr::ERROR_KIND).map(|kind| {
            DlqFailure::Attributes(FailureAttributes {
                kind: kind.clone(),
                reason: a.get(attr::ERROR_MESSAGE).cloned().unwrap_or_default(),
                worker: a.get(attr::WORKER).cloned(),
                first_seen: a.get(attr::FIRST_SEEN).cloned(),
                source_queue: a.get(attr::SOURCE_QUEUE).cloned(),
            })
        });
        let failure = from_log.or(from_attributes);
        DlqMessage {
            group: m.group,
            message_id: m.message_id,
            body: m.body,
            attributes: m.attributes,
            receive_count: m.receive_count,
            sent_at: m.sent_at,
            failure,
            body_dropped: false,
        }
    }
}

impl Pipeline {
    /// Lists up to `limit` DLQ messages without removing them. Each peek is a receive (it raises the
    /// receive count), so it is done only on the DLQ, with a short visibility timeout, released at once.
    ///
    /// Refused read-only: raising receive counts changes the queue.
    pub async fn peek_dlq(&self, limit: usize) -> Result<Vec<DlqMessage>> {
        if self.config().read_only {
            return Err(BackendError::ReadOnly("peeking the DLQ"));
        }
        let dlq = self.dlq().await?;
        let walked = walk(self, &dlq, limit.min(PEEK_MAX), |_| true).await?;
        release(self, &dlq, walked.receipts()).await;
        let log = self.recent_failures(500).await.unwrap_or_default();
        let mut seen: Vec<DlqMessage> = walked
            .chosen
            .into_iter()
            .map(|m| DlqMessage::from_received(m, &log))
            .collect();
        seen.sort_by_key(|m| m.sent_at);
        Ok(seen)
    }

    /// Deletes the DLQ messages with these ids; returns how many were found and deleted. Audited,
    /// with the operator's note if there is one.
    pub async fn delete_dlq(&self, ids: &[String], note: Option<&OperatorNote>) -> Result<u64> {
        self.audited_delete(ids, note, self.delete_found(ids)).await
    }

    /// Runs `delete` (of the DLQ messages `ids`), unless read-only, and audits how it ended.
    pub(super) async fn audited_delete(
        &self,
        ids: &[String],
        note: Option<&OperatorNote>,
        delete: impl Future<Output = Result<u64>>,
    ) -> Result<u64> {
        let target = self.backend().names.dlq.clone();
        self.guard_noted(AuditAction::DlqDelete, &target, note)
            .await?;
        let result = delete.await;
        self.audit_result_noted(AuditAction::DlqDelete, &target, note, &result, |n| {
            (*n, format!("{n} of {} chosen deleted", ids.len()))
        })
        .await;
        result
    }

    /// Deletes every message of the DLQ (irreversible; SQS allows it once a minute). Audited, with
    /// the operator's note if there is one.
    pub async fn purge_dlq(&self, note: Option<&OperatorNote>) -> Result<()> {
        let target = self.backend().names.dlq.clone();
        self.guard_noted(AuditAction::DlqPurge, &target, note)
            .await?;
        let dlq = self.dlq().await?;
        let before = self.backend().queue.stats(&dlq).await.ok();
        let result = self.backend().queue.purge(&dlq).await;
        let count = before.map_or(0, |s| s.visible + s.in_flight + s.delayed);
        self.audit_result_noted(AuditAction::DlqPurge, &target, note, &result, |()| {
            (count, format!("about {count} messages"))
        })
        .await;
        result
    }

    async fn delete_found(&self, ids: &[String]) -> Result<u64> {
        let dlq = self.dlq().await?;
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let walked = walk(self, &dlq, PEEK_MAX, |m| {
            wanted.contains(m.message_id.as_str())
        })
        .await?;
        let deleted = delete_messages(self, &dlq, &walked.chosen).await;
        release(self, &dlq, walked.others.iter().map(|h| h.receipt.as_str())).await;
        deleted.map(|ids| ids.len() as u64)
    }
}
