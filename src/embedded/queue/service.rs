//! The embedded queue service: the engine behind one lock, and the [`Queue`] port, each method
//! counting its request like the SDK adapter does.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::engine::{
    Engine, MAX_VISIBILITY, QueueState, check_batch_len, name_of_arn, not_found, qref,
};
use crate::ports::{
    BackendError, BatchResult, MoveTask, OutgoingMessage, Queue, QueueRef, QueueSpec, QueueStats,
    Receipt, ReceiveRequest, ReceivedMessage, RedrivePolicy, RequestCounter, Result,
    VisibilityChange,
};

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

    /// Like [`EmbeddedQueues::with_queue`] for a batch call of `n` entries (1 to 10).
    fn with_batch<T>(
        &self,
        op: &'static str,
        queue: &QueueRef,
        n: usize,
        f: impl FnOnce(&mut QueueState) -> T,
    ) -> Result<T> {
        self.requests.hit(op);
        check_batch_len(n)?;
        Ok(f(self.lock().queue(&queue.name)?))
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
                may_be_due: 0,
            });
        q.visibility = spec.visibility_timeout;
        q.redrive.clone_from(&spec.redrive);
        // A new policy may make messages already received due: the next receive scans.
        q.may_be_due = usize::MAX;
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
        self.with_batch("sqs:SendMessageBatch", queue, messages.len(), |q| {
            q.send(messages)
        })
    }

    async fn receive(&self, queue: &QueueRef, req: ReceiveRequest) -> Result<Vec<ReceivedMessage>> {
        self.requests.hit("sqs:ReceiveMessage");
        self.receive_messages(queue, req).await
    }

    async fn delete_batch(&self, queue: &QueueRef, receipts: &[Receipt]) -> Result<BatchResult> {
        self.with_batch("sqs:DeleteMessageBatch", queue, receipts.len(), |q| {
            q.delete(receipts)
        })
    }

    async fn change_visibility_batch(
        &self,
        queue: &QueueRef,
        changes: &[VisibilityChange],
    ) -> Result<BatchResult> {
        self.with_batch(
            "sqs:ChangeMessageVisibilityBatch",
            queue,
            changes.len(),
            |q| q.change_visibility(changes),
        )
    }

    async fn stats(&self, queue: &QueueRef) -> Result<QueueStats> {
        self.with_queue("sqs:GetQueueAttributes", queue, |q| Ok(q.stats()))
    }

    async fn redrive_policy(&self, queue: &QueueRef) -> Result<Option<RedrivePolicy>> {
        self.with_queue("sqs:GetQueueAttributes", queue, |q| Ok(q.redrive.clone()))
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
        self.start_task(dlq, destination, rate)
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
