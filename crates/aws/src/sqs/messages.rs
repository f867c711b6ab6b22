//! Messages: send, receive, delete and change visibility in batches of up to 10, and purge.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry,
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};

use super::queue::SqsQueue;
use crate::call::Call;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::{
    BackendError, BatchFailure, BatchResult, MAX_WAIT, OutgoingMessage, QueueRef, Receipt,
    ReceiveRequest, ReceivedMessage, Result, SQS_BATCH_MAX, VisibilityChange,
};

/// Makes one batch call of operation `$op` (`send_message_batch`…) to `queue`: checks the batch
/// size, builds an entry of each item with `$entry(call, item)`, sends, and reads the per-entry
/// answer (the SDK's builders and outputs differ per operation, only in type).
macro_rules! batch_call {
    ($self:ident, $op:literal, $queue:ident, $operation:ident, $items:ident, $entry:ident) => {{
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

impl SqsQueue {
    /// Sends a batch with its message groups; an endpoint that refuses groups on a standard queue
    /// gets them no more (said once in the log), and the batch is sent again without them.
    pub(super) async fn send_messages(
        &self,
        queue: &QueueRef,
        messages: &[OutgoingMessage],
    ) -> Result<BatchResult> {
        let grouped = messages.iter().any(|m| m.group.is_some());
        if grouped && !self.groups_refused.load(Ordering::Relaxed) {
            match self.send_raw(queue, messages).await {
                Err(BackendError::Invalid(e)) if e.contains("MessageGroupId") => {
                    if !self.groups_refused.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, "this endpoint refuses message groups on a standard queue: sending without them (no fair delivery across senders)");
                    }
                }
                other => return other,
            }
        }
        if !grouped {
            return self.send_raw(queue, messages).await;
        }
        let plain: Vec<OutgoingMessage> = messages
            .iter()
            .map(|m| OutgoingMessage {
                group: None,
                ..m.clone()
            })
            .collect();
        self.send_raw(queue, &plain).await
    }

    async fn send_raw(
        &self,
        queue: &QueueRef,
        messages: &[OutgoingMessage],
    ) -> Result<BatchResult> {
        batch_call!(
            self,
            "sqs:SendMessageBatch",
            queue,
            send_message_batch,
            messages,
            send_entry
        )
    }

    pub(super) async fn receive_messages(
        &self,
        queue: &QueueRef,
        req: ReceiveRequest,
    ) -> Result<Vec<ReceivedMessage>> {
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

    pub(super) async fn delete_messages(
        &self,
        queue: &QueueRef,
        receipts: &[Receipt],
    ) -> Result<BatchResult> {
        batch_call!(
            self,
            "sqs:DeleteMessageBatch",
            queue,
            delete_message_batch,
            receipts,
            delete_entry
        )
    }

    pub(super) async fn change_visibility(
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

    pub(super) async fn purge_queue(&self, queue: &QueueRef) -> Result<()> {
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

/// One send-batch entry with its string attributes.
fn send_entry(call: Call<'_>, m: &OutgoingMessage) -> Result<SendMessageBatchRequestEntry> {
    let mut entry = SendMessageBatchRequestEntry::builder()
        .id(&m.id)
        .message_body(&m.body);
    if let Some(delay) = m.delay {
        entry = entry.delay_seconds(secs_i32(delay));
    }
    if let Some(group) = &m.group {
        entry = entry.message_group_id(group);
    }
    for (k, v) in &m.attributes {
        let value = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(v)
            .build()
            .map_err(|e| call.build_error(&e))?;
        entry = entry.message_attributes(k, value);
    }
    entry.build().map_err(|e| call.build_error(&e))
}

fn delete_entry(call: Call<'_>, r: &Receipt) -> Result<DeleteMessageBatchRequestEntry> {
    DeleteMessageBatchRequestEntry::builder()
        .id(&r.id)
        .receipt_handle(&r.handle)
        .build()
        .map_err(|e| call.build_error(&e))
}

fn visibility_entry(
    call: Call<'_>,
    c: &VisibilityChange,
) -> Result<ChangeMessageVisibilityBatchRequestEntry> {
    ChangeMessageVisibilityBatchRequestEntry::builder()
        .id(&c.id)
        .receipt_handle(&c.handle)
        .visibility_timeout(secs_i32(c.timeout))
        .build()
        .map_err(|e| call.build_error(&e))
}

/// A batch call takes 1 to 10 entries.
fn check_batch(call: Call<'_>, n: usize) -> Result<()> {
    if n == 0 || n > SQS_BATCH_MAX {
        return Err(BackendError::Invalid(format!(
            "{}: {} takes 1 to {SQS_BATCH_MAX} entries, got {n}",
            call.resource(),
            call.op()
        )));
    }
    Ok(())
}

fn secs_i32(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

fn batch_result<'a>(
    succeeded: impl Iterator<Item = &'a str>,
    failed: &[BatchResultErrorEntry],
) -> BatchResult {
    BatchResult {
        succeeded: succeeded.map(ToString::to_string).collect(),
        failed: failed
            .iter()
            .map(|f| BatchFailure {
                id: f.id().to_string(),
                code: f.code().to_string(),
                message: f.message().unwrap_or_default().to_string(),
                sender_fault: f.sender_fault(),
            })
            .collect(),
    }
}

/// A received SDK message in domain terms; messages without an id or receipt are skipped.
fn received(m: &Message) -> Option<ReceivedMessage> {
    let system = m.attributes();
    let sys = |k: MessageSystemAttributeName| system.and_then(|a| a.get(&k)).map(String::as_str);
    let millis = |k| {
        sys(k)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(Timestamp)
    };
    let attributes: BTreeMap<String, String> = m
        .message_attributes()
        .map(|attrs| {
            attrs
                .iter()
                .filter_map(|(k, v)| v.string_value().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Some(ReceivedMessage {
        message_id: m.message_id()?.to_string(),
        receipt: m.receipt_handle()?.to_string(),
        body: m.body().unwrap_or_default().to_string(),
        attributes,
        receive_count: sys(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1),
        sent_at: millis(MessageSystemAttributeName::SentTimestamp),
        first_received_at: millis(MessageSystemAttributeName::ApproximateFirstReceiveTimestamp),
        sender_id: sys(MessageSystemAttributeName::SenderId)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(ToString::to_string),
    })
}
