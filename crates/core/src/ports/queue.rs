//! The queue port (SQS): messages, batches, stats, redrive policies and move tasks.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use super::error::Result;
use crate::domain::Timestamp;
use crate::domain::limits::is_fifo_name;

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
    /// MessageRetentionPeriod (`None`: the service's default).
    pub retention: Option<Duration>,
    /// MaximumMessageSize in bytes (`None`: the service's default).
    pub max_message_size: Option<usize>,
    /// A FIFO queue (its name ends in `.fifo`): ordered per message group, deduplicated for 5
    /// minutes by deduplication id (or by content, for senders that give none), in high-throughput
    /// mode (deduplication and throughput limits per message group). Set at creation only.
    pub fifo: bool,
}

impl QueueSpec {
    /// A spec with the service's defaults for everything but the name and visibility timeout;
    /// FIFO when the name ends in `.fifo`.
    pub fn new(name: impl Into<String>, visibility_timeout: Duration) -> Self {
        let name = name.into();
        QueueSpec {
            fifo: is_fifo_name(&name),
            name,
            visibility_timeout,
            redrive: None,
            retention: None,
            max_message_size: None,
        }
    }

    /// What differs between this spec and a queue's current settings, setting by setting (an
    /// unknown current value differs; a spec that leaves a setting to the default does not).
    pub fn differences(&self, current: &QueueSettings) -> Vec<SettingDiff> {
        let secs =
            |d: Option<Duration>| d.map_or_else(|| "?".into(), |d| format!("{} s", d.as_secs()));
        let bytes = |b: Option<usize>| b.map_or_else(|| "?".into(), |b| format!("{b} bytes"));
        let policy = |p: Option<&RedrivePolicy>| {
            p.map_or_else(
                || "none".into(),
                |p| {
                    format!(
                        "to {} after {} receives",
                        p.dead_letter_arn, p.max_receive_count
                    )
                },
            )
        };
        let kind = |fifo: Option<bool>| match fifo {
            Some(true) => "FIFO".to_string(),
            Some(false) => "standard".to_string(),
            None => "?".to_string(),
        };
        let mut out = Vec::new();
        let mut differ = |setting: &'static str, current: String, wanted: String| {
            out.push(SettingDiff {
                setting,
                current,
                wanted,
            });
        };
        if current.fifo.is_some_and(|f| f != self.fifo) {
            differ(
                "FifoQueue",
                kind(current.fifo),
                format!(
                    "{} (set at creation only: recreate the queue)",
                    kind(Some(self.fifo))
                ),
            );
        }
        if current.visibility_timeout != Some(self.visibility_timeout) {
            differ(
                "VisibilityTimeout",
                secs(current.visibility_timeout),
                secs(Some(self.visibility_timeout)),
            );
        }
        if self.redrive != current.redrive {
            differ(
                "RedrivePolicy",
                policy(current.redrive.as_ref()),
                policy(self.redrive.as_ref()),
            );
        }
        if self.retention.is_some() && self.retention != current.retention {
            differ(
                "MessageRetentionPeriod",
                secs(current.retention),
                secs(self.retention),
            );
        }
        if self.max_message_size.is_some() && self.max_message_size != current.max_message_size {
            differ(
                "MaximumMessageSize",
                bytes(current.max_message_size),
                bytes(self.max_message_size),
            );
        }
        out
    }
}

/// A queue's settings as the service reports them (`None`: not reported).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueSettings {
    pub visibility_timeout: Option<Duration>,
    pub retention: Option<Duration>,
    pub max_message_size: Option<usize>,
    pub redrive: Option<RedrivePolicy>,
    /// Whether it is a FIFO queue.
    pub fifo: Option<bool>,
}

impl From<&QueueSpec> for QueueSettings {
    /// The settings a queue made from this spec has (what the spec leaves to the service unknown).
    fn from(spec: &QueueSpec) -> Self {
        QueueSettings {
            visibility_timeout: Some(spec.visibility_timeout),
            retention: spec.retention,
            max_message_size: spec.max_message_size,
            redrive: spec.redrive.clone(),
            fifo: Some(spec.fifo),
        }
    }
}

/// One setting of an existing queue that differs from what provision would set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingDiff {
    /// The SQS attribute name, e.g. `VisibilityTimeout`.
    pub setting: &'static str,
    pub current: String,
    pub wanted: String,
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
    /// backlog does not hold back the others; FIFO queues: delivered in order within a group,
    /// and required).
    pub group: Option<String>,
    /// The deduplication id on a FIFO queue: a send with the id of one sent in the last 5
    /// minutes is accepted and not queued again. Not sent to a standard queue.
    pub dedup: Option<String>,
}

impl OutgoingMessage {
    /// A message of only an entry id and a body: no attributes, delay, group or deduplication id.
    pub fn plain(id: impl Into<String>, body: impl Into<String>) -> Self {
        OutgoingMessage {
            id: id.into(),
            body: body.into(),
            attributes: BTreeMap::new(),
            delay: None,
            group: None,
            dedup: None,
        }
    }
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
    /// Who sent it (the `SenderId` system attribute SQS sets: an IAM user id, or
    /// `ROLEID:session` for a role); `None` where the service does not say.
    pub sender_id: Option<String>,
    /// Its message group (`MessageGroupId`), where it has one.
    pub group: Option<String>,
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

impl ReceiveRequest {
    /// Up to `max` messages, waiting up to `wait`, hidden for the queue's own visibility timeout.
    pub fn new(max: usize, wait: Duration) -> ReceiveRequest {
        ReceiveRequest {
            max,
            wait,
            visibility: None,
        }
    }
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
    /// Creates the queue with the spec's settings if it is missing; an existing queue is left as it
    /// is (see [`Queue::settings`] and [`Queue::update`]). Returns it and whether it was created.
    async fn ensure(&self, spec: &QueueSpec) -> Result<(QueueRef, bool)>;
    /// The queue's current settings.
    async fn settings(&self, queue: &QueueRef) -> Result<QueueSettings>;
    /// Brings an existing queue's settings to the spec (a spec without a redrive policy removes the
    /// queue's).
    async fn update(&self, queue: &QueueRef, spec: &QueueSpec) -> Result<()>;
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
    async fn redrive_policy(&self, queue: &QueueRef) -> Result<Option<RedrivePolicy>> {
        Ok(self.settings(queue).await?.redrive)
    }
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
