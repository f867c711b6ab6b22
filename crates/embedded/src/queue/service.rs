//! The embedded queue service: the engine behind one lock, and the [`Queue`] port, each method
//! counting its request like the SDK adapter does.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::engine::{
    DEFAULT_CALLER, DEFAULT_MOVE_RATE, Engine, MAX_VISIBILITY, QueueState, check_batch_len,
    check_entries, name_of_arn, not_found, qref,
};
use super::fifo::Fifo;
use voucherdeck_core::domain::limits::{
    MESSAGE_SIZE_DEFAULT, MESSAGE_SIZE_MAX, SOURCE_RETENTION, check_queue_pair, check_redrive_rate,
};
use voucherdeck_core::ports::{
    BackendError, BatchResult, MAX_WAIT, MoveTask, OutgoingMessage, Queue, QueueRef, QueueSettings,
    QueueSpec, QueueStats, Receipt, ReceiveRequest, ReceivedMessage, RequestCounter, Result,
    SQS_BATCH_MAX, VisibilityChange,
};

/// The embedded queue service, acting as one caller (the `SenderId` of what it sends).
#[derive(Debug, Clone)]
pub struct EmbeddedQueues {
    engine: Arc<Mutex<Engine>>,
    requests: RequestCounter,
    caller: Arc<str>,
}

impl Default for EmbeddedQueues {
    fn default() -> Self {
        EmbeddedQueues::new(RequestCounter::default())
    }
}

impl EmbeddedQueues {
    pub fn new(requests: RequestCounter) -> Self {
        EmbeddedQueues {
            engine: Arc::default(),
            requests,
            caller: DEFAULT_CALLER.into(),
        }
    }

    /// The same queues, used by another caller: what it sends carries `sender_id` as its
    /// `SenderId` (an IAM user id, or `ROLEID:session` for a role).
    #[must_use]
    pub fn acting_as(&self, sender_id: &str) -> EmbeddedQueues {
        EmbeddedQueues {
            caller: sender_id.into(),
            ..self.clone()
        }
    }

    /// Who this handle sends as.
    pub fn caller(&self) -> &str {
        &self.caller
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Engine> {
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

    /// What the embedded alarms read of a queue, without counting a request: its stats and the
    /// messages deleted from it so far. `None` when the queue does not exist.
    pub fn figures(&self, name: &str) -> Option<(QueueStats, u64)> {
        let engine = self.lock();
        let q = engine.queues.get(name)?;
        Some((q.stats(), q.deleted))
    }

    /// Counts a request of `op` and runs `f` on the named queue under the lock.
    fn with_queue<T>(
        &self,
        op: &'static str,
        queue: &QueueRef,
        f: impl FnOnce(&mut QueueState) -> Result<T>,
    ) -> Result<T> {
        self.requests.hit(op);
        f(self.lock().queue(&queue.name)?)
    }

    /// Like [`EmbeddedQueues::with_queue`] for a batch call: 1 to 10 entries with valid,
    /// distinct ids.
    fn with_batch<'a, T>(
        &self,
        op: &'static str,
        queue: &QueueRef,
        ids: impl ExactSizeIterator<Item = &'a str>,
        f: impl FnOnce(&mut QueueState) -> Result<T>,
    ) -> Result<T> {
        self.requests.hit(op);
        check_batch_len(ids.len())?;
        check_entries(ids)?;
        f(self.lock().queue(&queue.name)?)
    }
}

#[async_trait]
impl Queue for EmbeddedQueues {
    async fn ensure(&self, spec: &QueueSpec) -> Result<(QueueRef, bool)> {
        self.requests.hit("sqs:CreateQueue");
        let mut engine = self.lock();
        if engine.queues.contains_key(&spec.name) {
            return Ok((qref(&spec.name), false));
        }
        let mut q = QueueState {
            name: spec.name.clone(),
            visibility: Duration::ZERO,
            redrive: None,
            retention: SOURCE_RETENTION,
            max_message_size: MESSAGE_SIZE_DEFAULT,
            messages: VecDeque::new(),
            notify: Arc::new(Notify::new()),
            last_purge: None,
            deleted: 0,
            may_be_due: 0,
            fifo: spec.fifo.then(Fifo::default),
        };
        apply(&engine, &mut q, spec)?;
        engine.queues.insert(spec.name.clone(), q);
        Ok((qref(&spec.name), true))
    }

    async fn settings(&self, queue: &QueueRef) -> Result<QueueSettings> {
        self.with_queue("sqs:GetQueueAttributes", queue, |q| {
            Ok(QueueSettings {
                visibility_timeout: Some(q.visibility),
                retention: Some(q.retention),
                max_message_size: Some(q.max_message_size),
                redrive: q.redrive.clone(),
                fifo: Some(q.fifo.is_some()),
            })
        })
    }

    async fn update(&self, queue: &QueueRef, spec: &QueueSpec) -> Result<()> {
        self.requests.hit("sqs:SetQueueAttributes");
        let mut engine = self.lock();
        let mut q = engine
            .queues
            .remove(&queue.name)
            .ok_or_else(|| not_found(&queue.name))?;
        let applied = apply(&engine, &mut q, spec);
        engine.queues.insert(queue.name.clone(), q);
        applied
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
        let ids = messages.iter().map(|m| m.id.as_str());
        self.with_batch("sqs:SendMessageBatch", queue, ids, |q| {
            q.send(messages, &self.caller)
        })
    }

    /// Receives up to `req.max` messages, waiting up to `req.wait` for the first one: a long poll
    /// wakes on arrival or when a message becomes visible.
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
                engine.queue(&queue.name)?.take_visible(req, now)
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
        let ids = receipts.iter().map(|r| r.id.as_str());
        self.with_batch("sqs:DeleteMessageBatch", queue, ids, |q| {
            Ok(q.delete(receipts))
        })
    }

    async fn change_visibility_batch(
        &self,
        queue: &QueueRef,
        changes: &[VisibilityChange],
    ) -> Result<BatchResult> {
        let ids = changes.iter().map(|c| c.id.as_str());
        self.with_batch("sqs:ChangeMessageVisibilityBatch", queue, ids, |q| {
            Ok(q.change_visibility(changes))
        })
    }

    async fn stats(&self, queue: &QueueRef) -> Result<QueueStats> {
        self.with_queue("sqs:GetQueueAttributes", queue, |q| Ok(q.stats()))
    }

    async fn dead_letter_sources(&self, dlq: &QueueRef) -> Result<Vec<QueueRef>> {
        self.requests.hit("sqs:ListDeadLetterSourceQueues");
        let engine = self.lock();
        if !engine.queues.contains_key(&dlq.name) {
            return Err(not_found(&dlq.name));
        }
        Ok(engine
            .sources_of(dlq)
            .into_iter()
            .map(|q| qref(&q.name))
            .collect())
    }

    async fn start_move_task(
        &self,
        dlq: &QueueRef,
        destination: Option<&QueueRef>,
        rate: Option<u32>,
    ) -> Result<String> {
        self.requests.hit("sqs:StartMessageMoveTask");
        if let Some(r) = rate
            && let Err(rule) = check_redrive_rate(r)
        {
            return Err(BackendError::Invalid(format!(
                "MaxNumberOfMessagesPerSecond {rule}"
            )));
        }
        let handle = self.lock().register_task(dlq, destination, rate)?;
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
        Ok(self.lock().list_tasks(dlq))
    }

    async fn cancel_move_task(&self, handle: &str) -> Result<u64> {
        self.requests.hit("sqs:CancelMessageMoveTask");
        self.lock().cancel_task(handle)
    }

    async fn purge(&self, queue: &QueueRef) -> Result<()> {
        self.with_queue("sqs:PurgeQueue", queue, QueueState::purge)
    }
}

/// Sets a spec's settings on a queue, checked like SQS checks them (the DLQ must exist).
fn apply(engine: &Engine, q: &mut QueueState, spec: &QueueSpec) -> Result<()> {
    if spec.visibility_timeout > MAX_VISIBILITY {
        return Err(BackendError::Invalid(
            "visibility timeout must be at most 12 hours".into(),
        ));
    }
    if let Some(size) = spec.max_message_size
        && !(1024..=MESSAGE_SIZE_MAX).contains(&size)
    {
        return Err(BackendError::Invalid(format!(
            "MaximumMessageSize must be 1024 to {MESSAGE_SIZE_MAX} bytes"
        )));
    }
    if let Some(p) = &spec.redrive
        && !engine.queues.contains_key(name_of_arn(&p.dead_letter_arn))
        && name_of_arn(&p.dead_letter_arn) != q.name
    {
        return Err(BackendError::Invalid(format!(
            "dead-letter target {} does not exist",
            p.dead_letter_arn
        )));
    }
    if let Some(p) = &spec.redrive {
        check_queue_pair(&q.name, name_of_arn(&p.dead_letter_arn))
            .map_err(|why| BackendError::Invalid(format!("RedrivePolicy: {why}")))?;
    }
    q.visibility = spec.visibility_timeout;
    q.redrive.clone_from(&spec.redrive);
    // A new policy may make messages already received due: the next receive scans.
    q.may_be_due = usize::MAX;
    if let Some(r) = spec.retention {
        q.retention = r;
    }
    if let Some(size) = spec.max_message_size {
        q.max_message_size = size;
    }
    Ok(())
}
