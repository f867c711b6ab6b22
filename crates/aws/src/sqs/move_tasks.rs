//! Native message-move tasks (redrive from a DLQ) as SQS lists them, in domain terms. No calls.

use aws_sdk_sqs::types::ListMessageMoveTasksResultEntry;

use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::{MoveTask, MoveTaskStatus};

/// A listed task in domain terms.
pub(super) fn move_task(t: &ListMessageMoveTasksResultEntry, dlq_arn: &str) -> MoveTask {
    MoveTask {
        handle: t.task_handle().unwrap_or_default().to_string(),
        status: MoveTaskStatus::parse(t.status().unwrap_or_default()),
        source_arn: t.source_arn().unwrap_or(dlq_arn).to_string(),
        destination_arn: t.destination_arn().map(ToString::to_string),
        rate: t
            .max_number_of_messages_per_second()
            .and_then(|r| u32::try_from(r).ok()),
        moved: u64::try_from(t.approximate_number_of_messages_moved()).unwrap_or(0),
        to_move: t
            .approximate_number_of_messages_to_move()
            .and_then(|n| u64::try_from(n).ok()),
        started_at: Some(Timestamp(t.started_timestamp())).filter(|ts| ts.0 > 0),
        failure_reason: t.failure_reason().map(ToString::to_string),
    }
}
