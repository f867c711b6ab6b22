//! An in-process SQS: visibility timeouts, receive counts, redrive to a DLQ at maxReceiveCount, delays,
//! long polling that wakes on arrival, message-move tasks with a rate, and exact oldest-message age.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;
use uuid::Uuid;

use crate::domain::Timestamp;
use crate::ports::{
    BackendError, BatchFailure, BatchResult, MAX_WAIT, MoveTask, MoveTaskStatus, OutgoingMessage,
    Queue, QueueRef, QueueSpec, QueueStats, Receipt, ReceiveRequest, ReceivedMessage,
    RedrivePolicy, RequestCounter, Result, SQS_BATCH_MAX, VisibilityChange,
};

const ARN_PREFIX: &str = "arn:aws:sqs:embedded:000000000000:";
const MAX_VISIBILITY: Duration = Duration::from_hours(12);
const MAX_DELAY: Duration = Duration::from_mins(15);
const PURGE_INTERVAL: Duration = Duration::from_mins(1);
/// Move tasks without a rate move this many messages per second.
const DEFAULT_MOVE_RATE: u32 = 500;
/// Largest message body, bytes (SQS MaximumMessageSize since 2026).
const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug)]
struct Message {
    id: String,
    body: String,
    attributes: BTreeMap<String, String>,
    sent_at: Timestamp,
    /// When it entered this queue (age is measured from here; a move to the DLQ resets it).
    enqueued: Instant,
    visible_at: Instant,
    receive_count: u32,
    first_received_at: Option<Timestamp>,
    receipt: Option<String>,
    /// The queue it was dead-lettered from.
    dead_letter_source: Option<String>,
}

#[derive(Debug)]
struct QueueState {
    name: String,
    visibility: Duration,
    redrive: Option<RedrivePolicy>,
    messages: VecDeque<Message>,
    notify: Arc<Notify>,
    last_purge: Option<Instant>,
}

#[derive(Debug)]
struct TaskState {
    task: MoveTask,
    cancel: bool,
}

#[derive(Debug, Default)]
struct Engine {
    queues: HashMap<String, QueueState>,
    tasks: Vec<TaskState>,
}

fn arn(name: &str) -> String {
    format!("{ARN_PREFIX}{name}")
}

fn name_of_arn(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

fn qref(name: &str) -> QueueRef {
    QueueRef {
        name: name.to_string(),
        url: format!("embedded://queue/{name}"),
        arn: arn(name),
    }
}

fn not_found(name: &str) -> BackendError {
    BackendError::NotFound(format!(
        "queue {name} does not exist (run `voucherdeck provision`)"
    ))
}

impl Engine {
    fn queue(&mut self, name: &str) -> Result<&mut QueueState> {
        self.queues.get_mut(name).ok_or_else(|| not_found(name))
    }

    /// Moves messages received too often to the DLQ. Returns the DLQ's notifier when something moved.
    fn dead_letter_due(&mut self, name: &str, now: Instant) -> Option<Arc<Notify>> {
        let q = self.queues.get_mut(name)?;
        let policy = q.redrive.clone()?;
        let dlq_name = name_of_arn(&policy.dead_letter_arn).to_string();
        if dlq_name == name {
            return None;
        }
        let source_arn = arn(name);
        let mut moved = Vec::new();
        let mut i = 0;
        while i < q.messages.len() {
            let m = &q.messages[i];
            if m.visible_at <= now && m.receive_count >= policy.max_receive_count {
                moved.extend(q.messages.remove(i));
            } else {
                i += 1;
            }
        }
        if moved.is_empty() {
            return None;
        }
        let dlq = self.queues.get_mut(&dlq_name)?;
        for mut m in moved {
            m.enqueued = now;
            m.visible_at = now;
            m.receipt = None;
            m.dead_letter_source = Some(source_arn.clone());
            dlq.messages.push_back(m);
        }
        Some(dlq.notify.clone())
    }
}

/// The embedded queue service.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedQueues {
    engine: Arc<Mutex<Engine>>,
    requests: RequestCounter,
}

impl EmbeddedQueues {
    pub fn new(requests: RequestCounter) -> Self {
        EmbeddedQueues {
            engine: Arc::default(),
            requests,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Engine> {
        // A poisoned lock only means another task panicked mid-update; the data is still usable.
        self.engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Exact age of the oldest message (for the embedded `Metrics`).
    pub fn oldest_age(&self, name: &str) -> Option<Duration> {
        let engine = self.lock();
        let now = Instant::now();
        engine
            .queues
            .get(name)?
            .messages
            .iter()
            .map(|m| now.saturating_duration_since(m.enqueued))
            .max()
    }

    fn run_move_task(&self, handle: String, dlq: String, destination: Option<String>, rate: u32) {
        let this = self.clone();
        tokio::spawn(async move {
            let period = Duration::from_millis(100);
            let per_tick = f64::from(rate.max(1)) * period.as_secs_f64();
            let mut budget = 0.0_f64;
            let mut ticker = tokio::time::interval(period);
            loop {
                ticker.tick().await;
                budget += per_tick;
                let whole = budget.floor() as u64;
                budget -= whole as f64;
                if this.move_step(&handle, &dlq, destination.as_deref(), whole) {
                    break;
                }
            }
        });
    }

    /// Moves up to `n` messages for a task; returns true when the task has finished.
    fn move_step(&self, handle: &str, dlq: &str, destination: Option<&str>, n: u64) -> bool {
        let mut engine = self.lock();
        let now = Instant::now();
        let Some(idx) = engine.tasks.iter().position(|t| t.task.handle == handle) else {
            return true;
        };
        if engine.tasks[idx].cancel {
            engine.tasks[idx].task.status = MoveTaskStatus::Cancelled;
            return true;
        }
        let to_move = engine.tasks[idx].task.to_move.unwrap_or(0);
        let mut moved_now = 0;
        let mut failure = None;
        while moved_now < n && engine.tasks[idx].task.moved + moved_now < to_move {
            let Some(q) = engine.queues.get_mut(dlq) else {
                failure = Some(format!("queue {dlq} was deleted"));
                break;
            };
            let Some(pos) = q.messages.iter().position(|m| m.visible_at <= now) else {
                break;
            };
            let target = match destination {
                Some(d) => d.to_string(),
                None => {
                    if let Some(src) = q.messages[pos].dead_letter_source.as_deref() {
                        name_of_arn(src).to_string()
                    } else {
                        failure =
                            Some("a message has no known source queue; give a destination".into());
                        break;
                    }
                }
            };
            if !engine.queues.contains_key(&target) {
                failure = Some(format!("destination queue {target} does not exist"));
                break;
            }
            let Some(q) = engine.queues.get_mut(dlq) else {
                break;
            };
            let Some(m) = q.messages.remove(pos) else {
                break;
            };
            let fresh = Message {
                id: Uuid::new_v4().to_string(),
                body: m.body,
                attributes: m.attributes,
                sent_at: Timestamp::now(),
                enqueued: now,
                visible_at: now,
                receive_count: 0,
                first_received_at: None,
                receipt: None,
                dead_letter_source: None,
            };
            if let Some(t) = engine.queues.get_mut(&target) {
                t.messages.push_back(fresh);
                t.notify.notify_waiters();
            }
            moved_now += 1;
        }
        let task = &mut engine.tasks[idx].task;
        task.moved += moved_now;
        if let Some(reason) = failure {
            task.status = MoveTaskStatus::Failed;
            task.failure_reason = Some(reason);
            return true;
        }
        let dlq_empty = engine
            .queues
            .get(dlq)
            .is_none_or(|q| !q.messages.iter().any(|m| m.visible_at <= now));
        let task = &mut engine.tasks[idx].task;
        if task.moved >= to_move || (dlq_empty && moved_now == 0 && n > 0) {
            task.status = MoveTaskStatus::Completed;
            return true;
        }
        false
    }
}

#[async_trait]
impl Queue for EmbeddedQueues {
    async fn ensure(&self, spec: &QueueSpec) -> Result<(QueueRef, bool)> {
        self.requests.hit("sqs:CreateQueue");
        if spec.visibility_timeout > MAX_VISIBILITY {
            return Err(BackendError::Invalid(
                "visibility timeout must be at most 12 hours".into(),
            ));
        }
        let mut engine = self.lock();
        if let Some(p) = &spec.redrive
            && !engine.queues.contains_key(name_of_arn(&p.dead_letter_arn))
        {
            return Err(BackendError::Invalid(format!(
                "dead-letter target {} does not exist",
                p.dead_letter_arn
            )));
        }
        let created = !engine.queues.contains_key(&spec.name);
        let q = engine
            .queues
            .entry(spec.name.clone())
            .or_insert_with(|| QueueState {
                name: spec.name.clone(),
                visibility: spec.visibility_timeout,
                redrive: None,
                messages: VecDeque::new(),
                notify: Arc::new(Notify::new()),
                last_purge: None,
            });
        q.visibility = spec.visibility_timeout;
        q.redrive.clone_from(&spec.redrive);
        Ok((qref(&spec.name), created))
    }

    async fn open(&self, name: &str) -> Result<QueueRef> {
        self.requests.hit("sqs:GetQueueUrl");
        let engine = self.lock();
        engine
            .queues
            .get(name)
            .map(|q| qref(&q.name))
            .ok_or_else(|| not_found(name))
    }

    async fn send_batch(
        &self,
        queue: &QueueRef,
        messages: &[OutgoingMessage],
    ) -> Result<BatchResult> {
        self.requests.hit("sqs:SendMessageBatch");
        check_batch_len(messages.len())?;
        let mut engine = self.lock();
        let q = engine.queue(&queue.name)?;
        let now = Instant::now();
        let mut out = BatchResult::default();
        for m in messages {
            if m.body.is_empty() || m.body.len() > MAX_BODY {
                out.failed.push(BatchFailure {
                    id: m.id.clone(),
                    code: "InvalidParameterValue".into(),
                    message: format!("message body must be 1 to {MAX_BODY} bytes"),
                    sender_fault: true,
                });
                continue;
            }
            let delay = m.delay.unwrap_or_default().min(MAX_DELAY);
            q.messages.push_back(Message {
                id: Uuid::new_v4().to_string(),
                body: m.body.clone(),
                attributes: m.attributes.clone(),
                sent_at: Timestamp::now(),
                enqueued: now,
                visible_at: now + delay,
                receive_count: 0,
                first_received_at: None,
                receipt: None,
                dead_letter_source: None,
            });
            out.succeeded.push(m.id.clone());
        }
        q.notify.notify_waiters();
        Ok(out)
    }

    async fn receive(&self, queue: &QueueRef, req: ReceiveRequest) -> Result<Vec<ReceivedMessage>> {
        self.requests.hit("sqs:ReceiveMessage");
        if req.max == 0 || req.max > SQS_BATCH_MAX {
            return Err(BackendError::Invalid(
                "receive at most 1 to 10 messages".into(),
            ));
        }
        if req.wait > MAX_WAIT {
            return Err(BackendError::Invalid(
                "long-poll wait must be at most 20 seconds".into(),
            ));
        }
        let deadline = Instant::now() + req.wait;
        loop {
            let notify = self.lock().queue(&queue.name)?.notify.clone();
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (got, next_visible) = {
                let mut engine = self.lock();
                let now = Instant::now();
                if let Some(dlq_notify) = engine.dead_letter_due(&queue.name, now) {
                    dlq_notify.notify_waiters();
                }
                let q = engine.queue(&queue.name)?;
                let visibility = req.visibility.unwrap_or(q.visibility).min(MAX_VISIBILITY);
                let mut got = Vec::new();
                let mut next_visible: Option<Instant> = None;
                for m in &mut q.messages {
                    if m.visible_at > now {
                        next_visible =
                            Some(next_visible.map_or(m.visible_at, |n| n.min(m.visible_at)));
                        continue;
                    }
                    if got.len() == req.max {
                        break;
                    }
                    m.receive_count += 1;
                    let wall = Timestamp::now();
                    m.first_received_at.get_or_insert(wall);
                    let receipt = format!("{}#{}", m.id, Uuid::new_v4().simple());
                    m.receipt = Some(receipt.clone());
                    m.visible_at = now + visibility;
                    got.push(ReceivedMessage {
                        message_id: m.id.clone(),
                        receipt,
                        body: m.body.clone(),
                        attributes: m.attributes.clone(),
                        receive_count: m.receive_count,
                        sent_at: Some(m.sent_at),
                        first_received_at: m.first_received_at,
                    });
                }
                (got, next_visible)
            };
            let now = Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            let wake = next_visible.map_or(deadline, |n| n.min(deadline));
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    async fn delete_batch(&self, queue: &QueueRef, receipts: &[Receipt]) -> Result<BatchResult> {
        self.requests.hit("sqs:DeleteMessageBatch");
        check_batch_len(receipts.len())?;
        let mut engine = self.lock();
        let q = engine.queue(&queue.name)?;
        let mut out = BatchResult::default();
        for r in receipts {
            let Some((msg_id, _)) = r.handle.split_once('#') else {
                out.failed.push(invalid_receipt(&r.id));
                continue;
            };
            // Like SQS: only the newest receipt deletes; an earlier one "succeeds" without deleting
            // (the message was received again since), and a message already gone is a success.
            if let Some(pos) = q
                .messages
                .iter()
                .position(|m| m.id == msg_id && m.receipt.as_deref() == Some(r.handle.as_str()))
            {
                q.messages.remove(pos);
            }
            out.succeeded.push(r.id.clone());
        }
        Ok(out)
    }

    async fn change_visibility_batch(
        &self,
        queue: &QueueRef,
        changes: &[VisibilityChange],
    ) -> Result<BatchResult> {
        self.requests.hit("sqs:ChangeMessageVisibilityBatch");
        check_batch_len(changes.len())?;
        let mut engine = self.lock();
        let q = engine.queue(&queue.name)?;
        let now = Instant::now();
        let mut out = BatchResult::default();
        let mut wake = false;
        for c in changes {
            if c.timeout > MAX_VISIBILITY {
                out.failed.push(BatchFailure {
                    id: c.id.clone(),
                    code: "InvalidParameterValue".into(),
                    message: "visibility timeout must be at most 12 hours".into(),
                    sender_fault: true,
                });
                continue;
            }
            match q
                .messages
                .iter_mut()
                .find(|m| m.receipt.as_deref() == Some(c.handle.as_str()))
            {
                Some(m) if m.visible_at > now => {
                    m.visible_at = now + c.timeout;
                    wake |= c.timeout.is_zero();
                    out.succeeded.push(c.id.clone());
                }
                Some(_) => out.failed.push(BatchFailure {
                    id: c.id.clone(),
                    code: "MessageNotInflight".into(),
                    message: "the message is not in flight".into(),
                    sender_fault: true,
                }),
                None => out.failed.push(invalid_receipt(&c.id)),
            }
        }
        if wake {
            q.notify.notify_waiters();
        }
        Ok(out)
    }

    async fn stats(&self, queue: &QueueRef) -> Result<QueueStats> {
        self.requests.hit("sqs:GetQueueAttributes");
        // Reading attributes never moves messages (SQS moves them to the DLQ on a receive).
        let mut engine = self.lock();
        let now = Instant::now();
        let q = engine.queue(&queue.name)?;
        let mut s = QueueStats {
            visible: 0,
            in_flight: 0,
            delayed: 0,
            oldest_age: None,
            as_of: Timestamp::now(),
        };
        for m in &q.messages {
            if m.visible_at <= now {
                s.visible += 1;
            } else if m.receipt.is_some() {
                s.in_flight += 1;
            } else {
                s.delayed += 1;
            }
            let age = now.saturating_duration_since(m.enqueued);
            s.oldest_age = Some(s.oldest_age.map_or(age, |a| a.max(age)));
        }
        if q.messages.is_empty() {
            s.oldest_age = Some(Duration::ZERO);
        }
        Ok(s)
    }

    async fn redrive_policy(&self, queue: &QueueRef) -> Result<Option<RedrivePolicy>> {
        self.requests.hit("sqs:GetQueueAttributes");
        Ok(self.lock().queue(&queue.name)?.redrive.clone())
    }

    async fn dead_letter_sources(&self, dlq: &QueueRef) -> Result<Vec<QueueRef>> {
        self.requests.hit("sqs:ListDeadLetterSourceQueues");
        let engine = self.lock();
        if !engine.queues.contains_key(&dlq.name) {
            return Err(not_found(&dlq.name));
        }
        let mut out: Vec<QueueRef> = engine
            .queues
            .values()
            .filter(|q| {
                q.redrive
                    .as_ref()
                    .is_some_and(|p| p.dead_letter_arn == dlq.arn)
            })
            .map(|q| qref(&q.name))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn start_move_task(
        &self,
        dlq: &QueueRef,
        destination: Option<&QueueRef>,
        rate: Option<u32>,
    ) -> Result<String> {
        self.requests.hit("sqs:StartMessageMoveTask");
        if let Some(r) = rate
            && (r == 0 || r > 500)
        {
            return Err(BackendError::Invalid(
                "MaxNumberOfMessagesPerSecond must be 1 to 500".into(),
            ));
        }
        let handle = {
            let mut engine = self.lock();
            if engine
                .tasks
                .iter()
                .any(|t| t.task.source_arn == dlq.arn && !t.task.status.is_finished())
            {
                return Err(BackendError::Conflict(format!(
                    "a move task is already running for {}",
                    dlq.name
                )));
            }
            if let Some(d) = destination {
                if d.name == dlq.name {
                    return Err(BackendError::Invalid(
                        "the destination must differ from the source".into(),
                    ));
                }
                engine.queue(&d.name)?;
            }
            let is_dlq = engine.queues.values().any(|q| {
                q.redrive
                    .as_ref()
                    .is_some_and(|p| p.dead_letter_arn == dlq.arn)
            });
            if !is_dlq {
                return Err(BackendError::Invalid(format!(
                    "{} is not the dead-letter queue of any queue",
                    dlq.name
                )));
            }
            let q = engine.queue(&dlq.name)?;
            let to_move = q.messages.len() as u64;
            let handle = Uuid::new_v4().to_string();
            engine.tasks.push(TaskState {
                task: MoveTask {
                    handle: handle.clone(),
                    status: MoveTaskStatus::Running,
                    source_arn: dlq.arn.clone(),
                    destination_arn: destination.map(|d| d.arn.clone()),
                    rate,
                    moved: 0,
                    to_move: Some(to_move),
                    started_at: Some(Timestamp::now()),
                    failure_reason: None,
                },
                cancel: false,
            });
            handle
        };
        self.run_move_task(
            handle.clone(),
            dlq.name.clone(),
            destination.map(|d| d.name.clone()),
            rate.unwrap_or(DEFAULT_MOVE_RATE),
        );
        Ok(handle)
    }

    async fn list_move_tasks(&self, dlq: &QueueRef) -> Result<Vec<MoveTask>> {
        self.requests.hit("sqs:ListMessageMoveTasks");
        let engine = self.lock();
        Ok(engine
            .tasks
            .iter()
            .rev()
            .filter(|t| t.task.source_arn == dlq.arn)
            .take(10)
            .map(|t| t.task.clone())
            .collect())
    }

    async fn cancel_move_task(&self, handle: &str) -> Result<u64> {
        self.requests.hit("sqs:CancelMessageMoveTask");
        let mut engine = self.lock();
        let t = engine
            .tasks
            .iter_mut()
            .find(|t| t.task.handle == handle)
            .ok_or_else(|| BackendError::NotFound(format!("no move task {handle}")))?;
        if t.task.status != MoveTaskStatus::Running {
            return Err(BackendError::Invalid(
                "only a running task can be cancelled".into(),
            ));
        }
        t.cancel = true;
        t.task.status = MoveTaskStatus::Cancelling;
        Ok(t.task.moved)
    }

    async fn purge(&self, queue: &QueueRef) -> Result<()> {
        self.requests.hit("sqs:PurgeQueue");
        let mut engine = self.lock();
        let q = engine.queue(&queue.name)?;
        let now = Instant::now();
        if q.last_purge
            .is_some_and(|t| now.duration_since(t) < PURGE_INTERVAL)
        {
            return Err(BackendError::Conflict(
                "a queue can be purged only once every 60 seconds".into(),
            ));
        }
        q.last_purge = Some(now);
        q.messages.clear();
        Ok(())
    }
}

fn check_batch_len(n: usize) -> Result<()> {
    if n == 0 || n > SQS_BATCH_MAX {
        return Err(BackendError::Invalid(format!(
            "a batch holds 1 to {SQS_BATCH_MAX} entries, not {n}"
        )));
    }
    Ok(())
}

fn invalid_receipt(id: &str) -> BatchFailure {
    BatchFailure {
        id: id.to_string(),
        code: "ReceiptHandleIsInvalid".into(),
        message: "the receipt handle is not valid for this queue".into(),
        sender_fault: true,
    }
}
