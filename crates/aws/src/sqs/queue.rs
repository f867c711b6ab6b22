//! The SQS adapter: its client and settings, and the [`Queue`] port. Each port method makes its
//! own calls; the other modules hold what several share (resolving queues) and the translations
//! between the SDK's types and the domain's (messages, move tasks, attributes).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use super::messages::{
    SendShape, batch_result, check_batch, delete_entry, received, secs_i32, send_entry,
    visibility_entry,
};
use super::move_tasks::move_task;
use super::policy::{settings_from, source_ref, spec_attributes};
use crate::call::Call;
use crate::config::Timeouts;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::domain::limits::{REDRIVE_RATE, is_fifo_name};
use voucherdeck_core::ports::{
    BackendError, BatchResult, MAX_WAIT, MoveTask, OutgoingMessage, Queue, QueueRef, QueueSettings,
    QueueSpec, QueueStats, Receipt, ReceiveRequest, ReceivedMessage, RequestCounter, Result,
    SQS_BATCH_MAX, VisibilityChange,
};

/// Makes one batch call of operation `$op` (`send_message_batch`…) to `queue`: checks the batch
/// size, builds an entry of each item with `$entry(call, item)`, sends, and reads the per-entry
/// answer (the SDK's builders and outputs differ per operation, only in type).
macro_rules! batch_call {
    ($self:ident, $op:literal, $queue:ident, $operation:ident, $items:ident, $entry:expr) => {{
        let call = $self.call($op, &$queue.name);
        check_batch(call, $items.len())?;
        let entries = $items
            .iter()
            .map(|item| $entry(call, item))
            .collect::<Result<Vec<_>>>()?;
        let request = $self
            .client
            .$operation()
            .queue_url(&$queue.url)
            .set_entries(Some(entries))
            .send();
        let out = call.send(request).await?;
        Ok(batch_result(
            out.successful().iter().map(|s| s.id.as_str()),
            out.failed(),
        ))
    }};
}

/// SQS behind the [`Queue`] port. Resolved queues are cached by name.
#[derive(Debug)]
pub struct SqsQueue {
    pub(super) client: Client,
    requests: RequestCounter,
    timeouts: Timeouts,
    pub(super) region: Option<String>,
    cache: Mutex<HashMap<String, QueueRef>>,
    /// The endpoint refused message groups on a standard queue: send without them.
    groups_refused: AtomicBool,
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

    fn cached(&self, name: &str) -> Option<QueueRef> {
        self.cache.lock().ok().and_then(|c| c.get(name).cloned())
    }

    fn remember(&self, queue: &QueueRef) {
        if let Ok(mut c) = self.cache.lock() {
            c.insert(queue.name.clone(), queue.clone());
        }
    }

    /// One `SendMessageBatch` of `messages`, with what of their ordering `shape` keeps. Kept
    /// apart from `send_batch`, which sends with it up to twice (with message groups, then
    /// without them).
    async fn send_raw(
        &self,
        queue: &QueueRef,
        messages: &[OutgoingMessage],
        shape: SendShape,
    ) -> Result<BatchResult> {
        batch_call!(
            self,
            "sqs:SendMessageBatch",
            queue,
            send_message_batch,
            messages,
            |call, m| send_entry(call, m, shape)
        )
    }
}

#[async_trait]
impl Queue for SqsQueue {
    /// Creates the queue with the spec's attributes if it is missing; an existing one is left as it
    /// is. Returns it and whether it was created.
    async fn ensure(&self, spec: &QueueSpec) -> Result<(QueueRef, bool)> {
        let mut created = false;
        let mut url = self.queue_url(&spec.name).await?;
        if url.is_none() {
            url = self.create(spec, &spec_attributes(spec)).await?;
            created = url.is_some();
            if url.is_none() {
                url = self.queue_url(&spec.name).await?;
            }
        }
        let url = url.ok_or_else(|| {
            BackendError::Other(format!("{}: the service returned no queue URL", spec.name))
        })?;
        let arn = self.arn_for(&spec.name, &url).await?;
        let queue = QueueRef {
            name: spec.name.clone(),
            url,
            arn,
        };
        self.remember(&queue);
        Ok((queue, created))
    }

    /// Resolves an existing queue by name (cached).
    async fn open(&self, name: &str) -> Result<QueueRef> {
        if let Some(q) = self.cached(name) {
            return Ok(q);
        }
        let url = self.queue_url(name).await?.ok_or_else(|| {
            BackendError::NotFound(format!(
                "queue {name} does not exist; run `voucherdeck provision` to create the queues and tables"
            ))
        })?;
        let arn = self.arn_for(name, &url).await?;
        let queue = QueueRef {
            name: name.to_string(),
            url,
            arn,
        };
        self.remember(&queue);
        Ok(queue)
    }

    /// Sends a batch. A FIFO queue gets every message's group and deduplication id; a standard
    /// queue gets the groups (fair delivery) without deduplication ids, and an endpoint that
    /// refuses groups on a standard queue gets them no more (said once in the log): the batch is
    /// sent again without them.
    async fn send_batch(
        &self,
        queue: &QueueRef,
        messages: &[OutgoingMessage],
    ) -> Result<BatchResult> {
        if is_fifo_name(&queue.name) {
            return self.send_raw(queue, messages, SendShape::FIFO).await;
        }
        let grouped = messages.iter().any(|m| m.group.is_some());
        if grouped && !self.groups_refused.load(Ordering::Relaxed) {
            match self.send_raw(queue, messages, SendShape::GROUPED).await {
                Err(BackendError::Invalid(e)) if e.contains("MessageGroupId") => {
                    if !self.groups_refused.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, "this endpoint refuses message groups on a standard queue: sending without them (no fair delivery across senders)");
                    }
                }
                other => return other,
            }
        }
        self.send_raw(queue, messages, SendShape::PLAIN).await
    }

    async fn receive(&self, queue: &QueueRef, req: ReceiveRequest) -> Result<Vec<ReceivedMessage>> {
        let max = req.max.clamp(1, SQS_BATCH_MAX);
        let wait = req.wait.min(MAX_WAIT);
        let mut request = self
            .client
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(secs_i32(wait))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All");
        if let Some(v) = req.visibility {
            request = request.visibility_timeout(secs_i32(v));
        }
        let sent = async {
            if wait.is_zero() {
                request.send().await
            } else {
                // The server holds a long poll for up to `wait`: give this call that much more time.
                let timeouts = self.timeouts.extended_by(wait + Duration::from_secs(1));
                request
                    .customize()
                    .config_override(
                        aws_sdk_sqs::config::Builder::default().timeout_config(timeouts),
                    )
                    .send()
                    .await
            }
        };
        let out = self
            .call("sqs:ReceiveMessage", &queue.name)
            .send(sent)
            .await?;
        Ok(out.messages().iter().filter_map(received).collect())
    }

    async fn delete_batch(&self, queue: &QueueRef, receipts: &[Receipt]) -> Result<BatchResult> {
        batch_call!(
            self,
            "sqs:DeleteMessageBatch",
            queue,
            delete_message_batch,
            receipts,
            delete_entry
        )
    }

    async fn change_visibility_batch(
        &self,
        queue: &QueueRef,
        changes: &[VisibilityChange],
    ) -> Result<BatchResult> {
        batch_call!(
            self,
            "sqs:ChangeMessageVisibilityBatch",
            queue,
            change_message_visibility_batch,
            changes,
            visibility_entry
        )
    }

    /// Visible, in flight and delayed, from the queue's approximate counts.
    async fn stats(&self, queue: &QueueRef) -> Result<QueueStats> {
        let attrs = self.attributes(&queue.name, &queue.url).await?;
        let count = |k: QueueAttributeName| {
            attrs
                .get(&k)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(QueueStats {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
            oldest_age: None,
            as_of: Timestamp::now(),
        })
    }

    /// The queue's settings, from one `GetQueueAttributes` call.
    async fn settings(&self, queue: &QueueRef) -> Result<QueueSettings> {
        let attrs = self.attributes(&queue.name, &queue.url).await?;
        Ok(settings_from(&attrs))
    }

    /// Sets every attribute the spec names; removes a redrive policy the spec does not have.
    async fn update(&self, queue: &QueueRef, spec: &QueueSpec) -> Result<()> {
        let mut changes = spec_attributes(spec);
        // Set at creation only: SetQueueAttributes refuses it.
        changes.remove(&QueueAttributeName::FifoQueue);
        if spec.redrive.is_none() {
            changes.insert(QueueAttributeName::RedrivePolicy, String::new());
        }
        let request = self
            .client
            .set_queue_attributes()
            .queue_url(&queue.url)
            .set_attributes(Some(changes))
            .send();
        self.call("sqs:SetQueueAttributes", &queue.name)
            .send(request)
            .await?;
        Ok(())
    }

    /// The queues whose redrive policy names this DLQ, every page of them.
    async fn dead_letter_sources(&self, dlq: &QueueRef) -> Result<Vec<QueueRef>> {
        let request = self
            .client
            .list_dead_letter_source_queues()
            .queue_url(&dlq.url)
            .max_results(1000)
            .into_paginator()
            .send();
        // Optional: some SQS-compatible endpoints lack it (`Unsupported`; redrive falls back).
        let mut pages = self
            .call("sqs:ListDeadLetterSourceQueues", &dlq.name)
            .pages_maybe_unsupported(request);
        let mut sources = Vec::new();
        while let Some(page) = pages.next().await? {
            let urls = page.queue_urls().iter();
            sources.extend(urls.map(|url| source_ref(dlq, url.clone())));
        }
        for q in &sources {
            self.remember(q);
        }
        Ok(sources)
    }

    async fn start_move_task(
        &self,
        dlq: &QueueRef,
        destination: Option<&QueueRef>,
        rate: Option<u32>,
    ) -> Result<String> {
        let request = self
            .client
            .start_message_move_task()
            .source_arn(&dlq.arn)
            .set_destination_arn(destination.map(|d| d.arn.clone()))
            .set_max_number_of_messages_per_second(rate.map(|r| r.min(*REDRIVE_RATE.end()) as i32))
            .send();
        let out = self
            .call("sqs:StartMessageMoveTask", &dlq.name)
            .send_maybe_unsupported(request)
            .await?;
        out.task_handle().map(ToString::to_string).ok_or_else(|| {
            BackendError::Other(format!(
                "{}: StartMessageMoveTask returned no task handle",
                dlq.name
            ))
        })
    }

    /// The DLQ's most recent tasks, newest first.
    async fn list_move_tasks(&self, dlq: &QueueRef) -> Result<Vec<MoveTask>> {
        let request = self
            .client
            .list_message_move_tasks()
            .source_arn(&dlq.arn)
            .max_results(10)
            .send();
        let out = self
            .call("sqs:ListMessageMoveTasks", &dlq.name)
            .send_maybe_unsupported(request)
            .await?;
        let mut tasks: Vec<MoveTask> = out
            .results()
            .iter()
            .map(|t| move_task(t, &dlq.arn))
            .collect();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.started_at));
        Ok(tasks)
    }

    /// Cancels a running task; returns how many messages it had moved.
    async fn cancel_move_task(&self, handle: &str) -> Result<u64> {
        let request = self
            .client
            .cancel_message_move_task()
            .task_handle(handle)
            .send();
        let out = self
            .call("sqs:CancelMessageMoveTask", "move task")
            .send_maybe_unsupported(request)
            .await?;
        Ok(u64::try_from(out.approximate_number_of_messages_moved()).unwrap_or(0))
    }

    async fn purge(&self, queue: &QueueRef) -> Result<()> {
        let request = self.client.purge_queue().queue_url(&queue.url).send();
        self.call("sqs:PurgeQueue", &queue.name)
            .send(request)
            .await
            .map_err(|e| match e {
                BackendError::Conflict(m) => BackendError::Conflict(format!(
                    "{m} (SQS allows one purge per queue every 60 s)"
                )),
                other => other,
            })?;
        Ok(())
    }
}
