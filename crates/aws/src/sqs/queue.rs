//! The SQS adapter: its client and settings, and the [`Queue`] port, each method carried out by the
//! module for its kind of work (resolving queues, messages, move tasks).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use async_trait::async_trait;
use aws_sdk_sqs::Client;

use crate::call::Call;
use crate::config::Timeouts;
use voucherdeck_core::ports::{
    BatchResult, MoveTask, OutgoingMessage, Queue, QueueRef, QueueSettings, QueueSpec, QueueStats,
    Receipt, ReceiveRequest, ReceivedMessage, RequestCounter, Result, VisibilityChange,
};

/// SQS behind the [`Queue`] port. Resolved queues are cached by name.
#[derive(Debug)]
pub struct SqsQueue {
    pub(super) client: Client,
    requests: RequestCounter,
    pub(super) timeouts: Timeouts,
    pub(super) region: Option<String>,
    cache: Mutex<HashMap<String, QueueRef>>,
    /// The endpoint refused message groups on a standard queue: send without them.
    pub(super) groups_refused: AtomicBool,
}

impl SqsQueue {
    pub fn new(
        client: Client,
        requests: RequestCounter,
        timeouts: Timeouts,
        region: Option<String>,
    ) -> Self {
        SqsQueue {
            client,
            requests,
            timeouts,
            region,
            cache: Mutex::new(HashMap::new()),
            groups_refused: AtomicBool::new(false),
        }
    }

    /// One SDK call of operation `op` about `resource`.
    pub(super) fn call<'a>(&'a self, op: &'static str, resource: &'a str) -> Call<'a> {
        Call::new(&self.requests, op, resource)
    }

    pub(super) fn cached(&self, name: &str) -> Option<QueueRef> {
        self.cache.lock().ok().and_then(|c| c.get(name).cloned())
    }

    pub(super) fn remember(&self, queue: &QueueRef) {
        if let Ok(mut c) = self.cache.lock() {
            c.insert(queue.name.clone(), queue.clone());
        }
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn ensure(&self, spec: &QueueSpec) -> Result<(QueueRef, bool)> {
        self.ensure_queue(spec).await
    }

    async fn open(&self, name: &str) -> Result<QueueRef> {
        self.open_queue(name).await
    }

    async fn send_batch(
        &self,
        queue: &QueueRef,
        messages: &[OutgoingMessage],
    ) -> Result<BatchResult> {
        self.send_messages(queue, messages).await
    }

    async fn receive(&self, queue: &QueueRef, req: ReceiveRequest) -> Result<Vec<ReceivedMessage>> {
        self.receive_messages(queue, req).await
    }

    async fn delete_batch(&self, queue: &QueueRef, receipts: &[Receipt]) -> Result<BatchResult> {
        self.delete_messages(queue, receipts).await
    }

    async fn change_visibility_batch(
        &self,
        queue: &QueueRef,
        changes: &[VisibilityChange],
    ) -> Result<BatchResult> {
        self.change_visibility(queue, changes).await
    }

    async fn stats(&self, queue: &QueueRef) -> Result<QueueStats> {
        self.queue_stats(queue).await
    }

    async fn settings(&self, queue: &QueueRef) -> Result<QueueSettings> {
        self.queue_settings(queue).await
    }

    async fn update(&self, queue: &QueueRef, spec: &QueueSpec) -> Result<()> {
        self.update_queue(queue, spec).await
    }

    async fn dead_letter_sources(&self, dlq: &QueueRef) -> Result<Vec<QueueRef>> {
        self.source_queues(dlq).await
    }

    async fn start_move_task(
        &self,
        dlq: &QueueRef,
        destination: Option<&QueueRef>,
        rate: Option<u32>,
    ) -> Result<String> {
        self.start_task(dlq, destination, rate).await
    }

    async fn list_move_tasks(&self, dlq: &QueueRef) -> Result<Vec<MoveTask>> {
        self.list_tasks(dlq).await
    }

    async fn cancel_move_task(&self, handle: &str) -> Result<u64> {
        self.cancel_task(handle).await
    }

    async fn purge(&self, queue: &QueueRef) -> Result<()> {
        self.purge_queue(queue).await
    }
}
