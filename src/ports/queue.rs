//! The queue port (SQS): messages, batches, stats, redrive policies and move tasks.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use super::Result;
use crate::domain::Timestamp;

/// A resolved queue: its name, URL and ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct QueueRef {
    pub name: String,
    pub url: String,
    pub arn: String,
}

/// What a queue should look like when provisioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub name: String,
    pub visibility_timeout: Duration,
    /// Messages received more than `max_receive_count` times move to this DLQ.
    pub redrive: Option<RedrivePolicy>,
}

/// A queue's redrive policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedrivePolicy {
    pub dead_letter_arn: String,
    pub max_receive_count: u32,
}

/// A message to send. `id` is the batch entry id (unique within one call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub id: String,
    pub body: String,
    /// String message attributes.
    pub attributes: BTreeMap<String, String>,
    pub delay: Option<Duration>,
    /// The message group (SQS fair queues: delivery is spread across groups, so one group's
    /// backlog does not hold back the others).
    pub group: Option<String>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    /// String message attributes.
    pub attributes: BTreeMap<String, String>,
    /// ApproximateReceiveCount, this delivery included.
    pub receive_count: u32,
    /// When the message was first sent (SentTimestamp).
    pub sent_at: Option<Timestamp>,
    /// When it was first received (ApproximateFirstReceiveTimestamp).
    pub first_received_at: Option<Timestamp>,
}

impl ReceivedMessage {
    /// The delete-batch entry for this message, as entry `id` of its batch.
    pub fn receipt_entry(&self, id: usize) -> Receipt {
        Receipt {
            id: id.to_string(),
            handle: self.receipt.clone(),
        }
    }

    /// The visibility-batch entry for this message, as entry `id` of its batch.
    pub fn visibility_entry(&self, id: usize, timeout: Duration) -> VisibilityChange {
        VisibilityChange {
            id: id.to_string(),
            handle: self.receipt.clone(),
            timeout,
        }
    }
}

/// How to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveRequest {
    /// 1..=10.
    pub max: usize,
    /// Long-poll wait, 0..=20 s.
    pub wait: Duration,
    /// Overrides the queue's visibility timeout for these messages.
    pub visibility: Option<Duration>,
}

/// One entry of a delete batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub id: String,
    pub handle: String,
}

/// One entry of a visibility batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibilityChange {
    pub id: String,
    pub handle: String,
    pub timeout: Duration,
}

/// The result of a batch call: which entry ids succeeded and which failed (a batch can half succeed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchResult {
    pub succeeded: Vec<String>,
    pub failed: Vec<BatchFailure>,
}

/// A failed batch entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFailure {
    pub id: String,
    pub code: String,
    pub message: String,
    /// The caller's fault (do not retry as is) rather than the service's.
    pub sender_fault: bool,
}

/// Depth of a queue at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
    /// Exact on the embedded backend; `None` where the queue API cannot tell (SQS: ask CloudWatch).
    pub oldest_age: Option<Duration>,
    pub as_of: Timestamp,
}

/// Status of a message-move (redrive) task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MoveTaskStatus {
    Running,
    Completed,
    Cancelling,
    Cancelled,
    Failed,
}

impl MoveTaskStatus {
    pub fn parse(s: &str) -> MoveTaskStatus {
        match s {
            "RUNNING" => MoveTaskStatus::Running,
            "COMPLETED" => MoveTaskStatus::Completed,
            "CANCELLING" => MoveTaskStatus::Cancelling,
            "CANCELLED" => MoveTaskStatus::Cancelled,
            _ => MoveTaskStatus::Failed,
        }
    }

    pub const fn is_finished(self) -> bool {
        matches!(
            self,
            MoveTaskStatus::Completed | MoveTaskStatus::Cancelled | MoveTaskStatus::Failed
        )
    }
}

/// A message-move task as the backend reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoveTask {
    pub handle: String,
    pub status: MoveTaskStatus,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub rate: Option<u32>,
    pub moved: u64,
    pub to_move: Option<u64>,
    pub started_at: Option<Timestamp>,
    pub failure_reason: Option<String>,
}

/// The queue service (SQS).
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Creates the queue if missing (or updates its attributes); returns it and whether it was created.
    async fn ensure(&self, spec: &QueueSpec) -> Result<(QueueRef, bool)>;
    /// Resolves an existing queue by name; `NotFound` when it does not exist.
    async fn open(&self, name: &str) -> Result<QueueRef>;
    /// Sends up to 10 messages in one call.
    async fn send_batch(
        &self,
        queue: &QueueRef,
        messages: &[OutgoingMessage],
    ) -> Result<BatchResult>;
    /// Receives up to `req.max` messages, waiting up to `req.wait` for the first one.
    async fn receive(&self, queue: &QueueRef, req: ReceiveRequest) -> Result<Vec<ReceivedMessage>>;
    /// Deletes up to 10 messages in one call.
    async fn delete_batch(&self, queue: &QueueRef, receipts: &[Receipt]) -> Result<BatchResult>;
    /// Changes the visibility of up to 10 messages in one call.
    async fn change_visibility_batch(
        &self,
        queue: &QueueRef,
        changes: &[VisibilityChange],
    ) -> Result<BatchResult>;
    /// Visible, in flight, delayed (and the oldest age where the backend knows it exactly).
    async fn stats(&self, queue: &QueueRef) -> Result<QueueStats>;
    /// The queue's redrive policy, if any.
    async fn redrive_policy(&self, queue: &QueueRef) -> Result<Option<RedrivePolicy>>;
    /// The queues whose redrive policy names this DLQ.
    async fn dead_letter_sources(&self, dlq: &QueueRef) -> Result<Vec<QueueRef>>;
    /// Starts a native message-move task from a DLQ (to its sources when `destination` is `None`).
    /// `Unsupported` where the endpoint has no such API.
    async fn start_move_task(
        &self,
        dlq: &QueueRef,
        destination: Option<&QueueRef>,
        rate: Option<u32>,
    ) -> Result<String>;
    /// The most recent move tasks of a DLQ, newest first.
    async fn list_move_tasks(&self, dlq: &QueueRef) -> Result<Vec<MoveTask>>;
    /// Cancels a running move task; returns how many messages it had moved.
    async fn cancel_move_task(&self, handle: &str) -> Result<u64>;
    /// Deletes every message of a queue (irreversible; at most once a minute on SQS).
    async fn purge(&self, queue: &QueueRef) -> Result<()>;
}
