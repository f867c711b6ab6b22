//! Ports: the small async traits the services use, in domain terms. Two backends implement them:
//! `aws` (the official SDK) and `embedded` (an in-process engine with the same semantics).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{FailureKind, FailureRecord, Timestamp, Voucher};

pub use crate::domain::limits::{DYNAMO_BATCH_MAX, MAX_WAIT, SQS_BATCH_MAX};

/// A backend failure, mapped at the adapter edge so services can decide retry versus DLQ.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("throttled: {0}")]
    Throttled(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("not supported by this backend: {0}")]
    Unsupported(String),
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("{0}")]
    Other(String),
}

impl BackendError {
    /// Whether trying again later can succeed.
    pub const fn is_retryable(&self) -> bool {
        matches!(
            self,
            BackendError::Throttled(_) | BackendError::Unavailable(_) | BackendError::Timeout(_)
        )
    }

    /// The failure kind a consumer records for this error.
    pub const fn failure_kind(&self) -> FailureKind {
        match self {
            BackendError::Throttled(_) => FailureKind::Throttled,
            BackendError::Unavailable(_) => FailureKind::Unavailable,
            BackendError::Timeout(_) => FailureKind::Timeout,
            _ => FailureKind::Backend,
        }
    }
}

pub type Result<T, E = BackendError> = std::result::Result<T, E>;

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

/// Whether a keyed gift is new or was gifted before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    New,
    /// The key was claimed before, by this voucher.
    Existing(Box<Voucher>),
}

/// The outcome of taking one unit of a daily quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    Granted { used: u32 },
    Exhausted { limit: u32 },
}

/// The voucher store (DynamoDB).
#[async_trait]
pub trait VoucherStore: Send + Sync + 'static {
    /// Creates the voucher and quota tables if missing; returns (table, created) pairs.
    async fn ensure_tables(&self) -> Result<Vec<(String, bool)>>;
    /// Persists vouchers, idempotently by `voucher_id` (a second put of the same voucher changes nothing).
    /// Chunks into batches of at most 25 and retries unprocessed items with backoff.
    async fn put_vouchers(&self, vouchers: &[Voucher]) -> Result<()>;
    async fn get_voucher(&self, id: Uuid) -> Result<Option<Voucher>>;
    /// How many vouchers the table holds.
    async fn count_vouchers(&self) -> Result<u64>;
    /// Claims `(sender, key)` for `voucher` with a conditional put; `Existing` if already claimed.
    async fn claim_idempotency_key(
        &self,
        sender: &str,
        key: &str,
        voucher: &Voucher,
    ) -> Result<Claim>;
    /// Releases a claim this caller made for `voucher_id` (the gift was refused after claiming).
    /// A claim by another voucher is left alone.
    async fn release_idempotency_key(
        &self,
        sender: &str,
        key: &str,
        voucher_id: Uuid,
    ) -> Result<()>;
    /// Takes one unit of `sender`'s quota for `day` (a conditional counter shared by every process).
    async fn take_daily_quota(&self, sender: &str, day: &str, limit: u32) -> Result<Quota>;
}

/// The shared failure log (DynamoDB table on AWS).
#[async_trait]
pub trait FailureLog: Send + Sync + 'static {
    /// Creates the failure table if missing; returns (table, created).
    async fn ensure_table(&self) -> Result<(String, bool)>;
    async fn record(&self, records: &[FailureRecord]) -> Result<()>;
    /// The newest `limit` records, newest first, from every worker.
    async fn recent(&self, limit: usize) -> Result<Vec<FailureRecord>>;
}

/// One oldest-message-age reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AgeReading {
    /// `None`: no data (CloudWatch has no datapoint, e.g. an idle queue).
    pub age: Option<Duration>,
    /// The time the figure describes (the datapoint's minute on CloudWatch).
    pub as_of: Option<Timestamp>,
}

/// What the consumer did, as counts: its totals since it started, or the change over an interval
/// (what it publishes). Every view of the consumer (dashboard, `worker` report, metrics) reads this.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConsumerStats {
    /// Messages received.
    pub received: u64,
    /// Vouchers persisted.
    pub persisted: u64,
    /// Failures recorded (permanent or retryable).
    pub failed: u64,
    /// Poison messages the consumer sent to the DLQ itself.
    pub dead_lettered: u64,
}

impl ConsumerStats {
    /// The change from `earlier` to these counts.
    #[must_use]
    pub fn since(&self, earlier: &ConsumerStats) -> ConsumerStats {
        ConsumerStats {
            received: self.received.saturating_sub(earlier.received),
            persisted: self.persisted.saturating_sub(earlier.persisted),
            failed: self.failed.saturating_sub(earlier.failed),
            dead_lettered: self.dead_lettered.saturating_sub(earlier.dead_lettered),
        }
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &ConsumerStats) {
        self.received += other.received;
        self.persisted += other.persisted;
        self.failed += other.failed;
        self.dead_lettered += other.dead_lettered;
    }

    /// Whether any outcome (persisted, failed, dead-lettered) is counted.
    pub fn has_outcomes(&self) -> bool {
        self.persisted > 0 || self.failed > 0 || self.dead_lettered > 0
    }
}

/// Metrics (CloudWatch on AWS).
#[async_trait]
pub trait Metrics: Send + Sync + 'static {
    /// Oldest-message age for each queue, in the same order, with one call.
    async fn oldest_age(&self, queues: &[QueueRef]) -> Result<Vec<AgeReading>>;
    /// Publishes the consumer's figures for one interval (batched): the change in its counts and the
    /// processing latencies measured, in milliseconds.
    async fn publish(&self, delta: &ConsumerStats, latencies_ms: &[f64]) -> Result<()>;
}

/// Counts backend requests by operation, for benchmarks and the dashboard.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    total: Arc<AtomicU64>,
    by_op: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

impl RequestCounter {
    pub fn hit(&self, op: &'static str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.by_op.lock() {
            *m.entry(op).or_default() += 1;
        }
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub fn by_op(&self) -> BTreeMap<&'static str, u64> {
        self.by_op.lock().map(|m| m.clone()).unwrap_or_default()
    }
}
