//! Messages in SDK terms: the entries of send, delete and change-visibility batches (up to 10 a
//! call), their per-entry answers, and received messages in domain terms. No calls.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry,
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};

use crate::call::Call;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::{
    BackendError, BatchFailure, BatchResult, OutgoingMessage, Receipt, ReceivedMessage, Result,
    SQS_BATCH_MAX, VisibilityChange,
};

/// What of a message's ordering a send carries: a FIFO queue takes its group and deduplication
/// id; a standard queue its group (fair delivery) where the endpoint accepts groups, and never a
/// deduplication id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SendShape {
    groups: bool,
    dedup: bool,
}

impl SendShape {
    pub(super) const FIFO: SendShape = SendShape {
        groups: true,
        dedup: true,
    };
    pub(super) const GROUPED: SendShape = SendShape {
        groups: true,
        dedup: false,
    };
    pub(super) const PLAIN: SendShape = SendShape {
        groups: false,
        dedup: false,
    };
}

/// One send-batch entry with its string attributes, and its ordering as `shape` keeps it.
pub(super) fn send_entry(
    call: Call<'_>,
    m: &OutgoingMessage,
    shape: SendShape,
) -> Result<SendMessageBatchRequestEntry> {
    let mut entry = SendMessageBatchRequestEntry::builder()
        .id(&m.id)
        .message_body(&m.body);
    if let Some(delay) = m.delay {
        entry = entry.delay_seconds(secs_i32(delay));
    }
    if let Some(group) = m.group.as_ref().filter(|_| shape.groups) {
        entry = entry.message_group_id(group);
    }
    if let Some(dedup) = m.dedup.as_ref().filter(|_| shape.dedup) {
        entry = entry.message_deduplication_id(dedup);
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

pub(super) fn delete_entry(call: Call<'_>, r: &Receipt) -> Result<DeleteMessageBatchRequestEntry> {
    DeleteMessageBatchRequestEntry::builder()
        .id(&r.id)
        .receipt_handle(&r.handle)
        .build()
        .map_err(|e| call.build_error(&e))
}

pub(super) fn visibility_entry(
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
pub(super) fn check_batch(call: Call<'_>, n: usize) -> Result<()> {
    if n == 0 || n > SQS_BATCH_MAX {
        return Err(BackendError::Invalid(format!(
            "{}: {} takes 1 to {SQS_BATCH_MAX} entries, got {n}",
            call.resource(),
            call.op()
        )));
    }
    Ok(())
}

pub(super) fn secs_i32(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

pub(super) fn batch_result<'a>(
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
pub(super) fn received(m: &Message) -> Option<ReceivedMessage> {
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
        group: sys(MessageSystemAttributeName::MessageGroupId)
            .filter(|s| !s.is_empty())
            .map(ToString::to_string),
    })
}
