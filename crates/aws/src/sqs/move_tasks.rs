//! Native message-move tasks (redrive from a DLQ): start, list, cancel. Emulators such as moto lack
//! them: a bare server error becomes `Unsupported`.

use aws_sdk_sqs::types::ListMessageMoveTasksResultEntry;

use super::queue::SqsQueue;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::domain::limits::REDRIVE_RATE;
use voucherdeck_core::ports::{BackendError, MoveTask, MoveTaskStatus, QueueRef, Result};

impl SqsQueue {
    pub(super) async fn start_task(
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
    pub(super) async fn list_tasks(&self, dlq: &QueueRef) -> Result<Vec<MoveTask>> {
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
    pub(super) async fn cancel_task(&self, handle: &str) -> Result<u64> {
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
}

/// A listed task in domain terms.
fn move_task(t: &ListMessageMoveTasksResultEntry, dlq_arn: &str) -> MoveTask {
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
