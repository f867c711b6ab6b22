//! The native redrive: the service's own message-move task, followed until it finishes (by the
//! task's own figures, or by the DLQ's depth where the endpoint cannot list its tasks).

use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::request::{RedriveProgress, RedriveStatus};
use crate::services::Pipeline;
use voucherdeck_core::ports::{BackendError, MoveTaskStatus, QueueRef};

/// Follows a native move task until it finishes, cancelling it when asked; reports its progress.
pub(super) async fn follow(
    p: &Pipeline,
    dlq: &QueueRef,
    handle: &str,
    tx: &watch::Sender<RedriveProgress>,
    cancel: &CancellationToken,
) -> Result<(), BackendError> {
    tx.send_modify(|progress| progress.status = RedriveStatus::Running);
    let mut cancel_sent = false;
    let mut list_errors = 0;
    loop {
        tokio::select! {
            () = cancel.cancelled(), if !cancel_sent => {
                cancel_sent = true;
                if let Err(e) = p.backend().queue.cancel_move_task(handle).await {
                    tracing::warn!(error = %e, "cancel of the move task failed (it may have finished)");
                }
            }
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        let tasks = match p.backend().queue.list_move_tasks(dlq).await {
            Ok(t) => {
                list_errors = 0;
                t
            }
            Err(BackendError::Unsupported(why)) => {
                p.say_once(
                    "ListMessageMoveTasks",
                    &format!(
                        "this endpoint cannot list move tasks ({why}); the redrive's progress is read from the DLQ's depth"
                    ),
                );
                return follow_by_depth(p, dlq, handle, tx, cancel, cancel_sent).await;
            }
            // The task runs in the service whatever happens here: a passing error is retried.
            Err(e) if e.is_retryable() && list_errors < 10 => {
                list_errors += 1;
                tracing::warn!(error = %e, "could not read the move task's progress; retrying");
                continue;
            }
            Err(e) => return Err(e),
        };
        let Some(task) = tasks.into_iter().find(|t| t.handle == handle) else {
            return Err(BackendError::NotFound(
                "the move task is no longer listed".into(),
            ));
        };
        let status = match task.status {
            MoveTaskStatus::Running | MoveTaskStatus::Cancelling => RedriveStatus::Running,
            MoveTaskStatus::Completed => RedriveStatus::Completed,
            MoveTaskStatus::Cancelled => RedriveStatus::Cancelled,
            MoveTaskStatus::Failed => RedriveStatus::Failed(
                task.failure_reason
                    .clone()
                    .unwrap_or_else(|| "move task failed".into()),
            ),
        };
        let done = status.is_finished();
        tx.send_modify(|progress| {
            progress.moved = task.moved;
            progress.total = task.to_move;
            progress.status = status;
        });
        if done {
            return Ok(());
        }
    }
}

/// Follows a move task by the DLQ's depth: moved is how far the visible count fell since the
/// start; done when nothing is visible or in flight. Approximate (SQS counts are), but it ends.
async fn follow_by_depth(
    p: &Pipeline,
    dlq: &QueueRef,
    handle: &str,
    tx: &watch::Sender<RedriveProgress>,
    cancel: &CancellationToken,
    mut cancel_sent: bool,
) -> Result<(), BackendError> {
    let at_start = p.backend().queue.stats(dlq).await?.visible;
    tx.send_modify(|progress| progress.total = Some(at_start));
    loop {
        let s = p.backend().queue.stats(dlq).await?;
        let done = s.visible == 0 && s.in_flight == 0;
        let status = if done {
            RedriveStatus::Completed
        } else if cancel_sent {
            RedriveStatus::Cancelled
        } else {
            RedriveStatus::Running
        };
        let finished = status.is_finished();
        tx.send_modify(|progress| {
            progress.moved = at_start.saturating_sub(s.visible);
            progress.status = status;
        });
        if finished {
            return Ok(());
        }
        tokio::select! {
            () = cancel.cancelled(), if !cancel_sent => {
                cancel_sent = true;
                if let Err(e) = p.backend().queue.cancel_move_task(handle).await {
                    tracing::warn!(error = %e, "cancel of the move task failed; it may go on in the service");
                }
            }
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
