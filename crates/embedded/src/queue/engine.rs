//! The engine's state: queues of messages with visibility, receive counts and redrive policies, and
//! message-move tasks. One lock guards it all; the service modules work on it.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use uuid::Uuid;

use super::fifo::Fifo;

use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::domain::limits::check_batch_entry_id;
use voucherdeck_core::ports::{
    BackendError, MoveTask, QueueRef, RedrivePolicy, Result, SQS_BATCH_MAX,
};

const ARN_PREFIX: &str = "arn:aws:sqs:embedded:000000000000:";
pub(super) const MAX_VISIBILITY: Duration = Duration::from_hours(12);
pub(super) const PURGE_INTERVAL: Duration = Duration::from_mins(1);
/// Move tasks without a rate move this many messages per second.
pub(super) const DEFAULT_MOVE_RATE: u32 = 500;
/// The SenderId of messages sent through the engine when no caller is named (an IAM-user-like
/// id, so `trusted_senders` can name it).
pub const DEFAULT_CALLER: &str = "AIDAEMBEDDEDLOCALUSER";

/// A message in a queue.
#[derive(Debug)]
pub(super) struct Message {
    pub(super) id: String,
    pub(super) body: String,
    pub(super) attributes: BTreeMap<String, String>,
    pub(super) sent_at: Timestamp,
    /// When it entered this queue (age is measured from here; a move to the DLQ resets it).
    pub(super) enqueued: Instant,
    pub(super) visible_at: Instant,
    pub(super) receive_count: u32,
    pub(super) first_received_at: Option<Timestamp>,
    pub(super) receipt: Option<String>,
    /// The queue it was dead-lettered from.
    pub(super) dead_letter_source: Option<String>,
    /// Its message group (fair delivery across groups).
    pub(super) group: Option<String>,
    /// Who sent it (SQS's `SenderId`).
    pub(super) sender_id: String,
}

/// A queue: its settings, its messages (oldest first) and the notifier long polls wait on.
#[derive(Debug)]
pub(super) struct QueueState {
    pub(super) name: String,
    pub(super) visibility: Duration,
    pub(super) redrive: Option<RedrivePolicy>,
    pub(super) retention: Duration,
    /// MaximumMessageSize: body and attributes, bytes.
    pub(super) max_message_size: usize,
    pub(super) messages: VecDeque<Message>,
    pub(super) notify: Arc<Notify>,
    pub(super) last_purge: Option<Instant>,
    /// How many messages may be due for the DLQ (received `maxReceiveCount` times or more): an
    /// upper bound that each scan makes exact, so a receive scans the queue only when one may be.
    pub(super) may_be_due: usize,
    /// Messages deleted since the queue was created (CloudWatch's NumberOfMessagesDeleted).
    pub(super) deleted: u64,
    /// A FIFO queue's deduplication window (`None`: a standard queue).
    pub(super) fifo: Option<Fifo>,
}

/// A message-move task and whether it was asked to stop.
#[derive(Debug)]
pub(super) struct TaskState {
    pub(super) task: MoveTask,
    pub(super) cancel: bool,
}

/// Every queue and move task.
#[derive(Debug, Default)]
pub(super) struct Engine {
    pub(super) queues: HashMap<String, QueueState>,
    pub(super) tasks: Vec<TaskState>,
}

impl Message {
    /// A message just sent (or moved) into a queue by `sender_id`, visible at `visible_at`.
    pub(super) fn fresh(
        body: String,
        attributes: BTreeMap<String, String>,
        sender_id: &str,
        now: Instant,
        visible_at: Instant,
    ) -> Self {
        Message {
            id: random_id().to_string(),
            body,
            attributes,
            sent_at: Timestamp::now(),
            enqueued: now,
            visible_at,
            receive_count: 0,
            first_received_at: None,
            receipt: None,
            dead_letter_source: None,
            group: None,
            sender_id: sender_id.to_string(),
        }
    }
}

/// A random id for a message or a receipt. In-process ids need to be unique, not
/// unpredictable: `fastrand` instead of a `getrandom` system call for each (a tenth of the
/// embedded pipeline's CPU).
pub(super) fn random_id() -> Uuid {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid()
}

pub(super) fn arn(name: &str) -> String {
    format!("{ARN_PREFIX}{name}")
}

pub(super) fn name_of_arn(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

pub(super) fn qref(name: &str) -> QueueRef {
    QueueRef {
        name: name.to_string(),
        url: format!("embedded://queue/{name}"),
        arn: arn(name),
    }
}

pub(super) fn not_found(name: &str) -> BackendError {
    BackendError::NotFound(format!(
        "queue {name} does not exist (run `voucherdeck provision`)"
    ))
}

impl Engine {
    pub(super) fn queue(&mut self, name: &str) -> Result<&mut QueueState> {
        self.queues.get_mut(name).ok_or_else(|| not_found(name))
    }

    /// Moves messages received too often to the DLQ. Returns the DLQ's notifier when something moved.
    pub(super) fn dead_letter_due(&mut self, name: &str, now: Instant) -> Option<Arc<Notify>> {
        let q = self.queues.get_mut(name)?;
        if q.may_be_due == 0 {
            return None;
        }
        let policy = q.redrive.clone()?;
        let dlq_name = name_of_arn(&policy.dead_letter_arn).to_string();
        if dlq_name == name {
            return None;
        }
        let source_arn = arn(name);
        let mut moved = Vec::new();
        let mut still_due = 0;
        let mut i = 0;
        while i < q.messages.len() {
            let m = &q.messages[i];
            if m.receive_count < policy.max_receive_count {
                i += 1;
            } else if m.visible_at <= now {
                moved.extend(q.messages.remove(i));
            } else {
                still_due += 1;
                i += 1;
            }
        }
        q.may_be_due = still_due;
        if moved.is_empty() {
            return None;
        }
        let dlq = self.queues.get_mut(&dlq_name)?;
        dlq.may_be_due = dlq.may_be_due.saturating_add(moved.len());
        for mut m in moved {
            m.enqueued = now;
            m.visible_at = now;
            m.receipt = None;
            m.dead_letter_source = Some(source_arn.clone());
            dlq.messages.push_back(m);
        }
        Some(dlq.notify.clone())
    }

    /// The queues whose redrive policy names this DLQ, by name.
    pub(super) fn sources_of(&self, dlq: &QueueRef) -> Vec<&QueueState> {
        let mut out: Vec<&QueueState> = self
            .queues
            .values()
            .filter(|q| {
                q.redrive
                    .as_ref()
                    .is_some_and(|p| p.dead_letter_arn == dlq.arn)
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// A batch holds 1 to 10 entries.
pub(super) fn check_batch_len(n: usize) -> Result<()> {
    if n == 0 || n > SQS_BATCH_MAX {
        return Err(BackendError::Invalid(format!(
            "a batch holds 1 to {SQS_BATCH_MAX} entries, not {n}"
        )));
    }
    Ok(())
}

/// Batch entry ids: each valid, all distinct (else SQS refuses the whole call).
pub(super) fn check_entries<'a>(ids: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = HashSet::new();
    for id in ids {
        check_batch_entry_id(id)
            .map_err(|rule| BackendError::Invalid(format!("InvalidBatchEntryId: {rule}")))?;
        if !seen.insert(id) {
            return Err(BackendError::Invalid(format!(
                "BatchEntryIdsNotDistinct: batch entry id {id:?} is used twice"
            )));
        }
    }
    Ok(())
}
