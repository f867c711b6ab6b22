//! The native redrive: the service's own message-move task, followed until it finishes.

use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::request::{RedriveProgress, RedriveStatus};
use crate::pipeline::services::Pipeline;
use crate::ports::{BackendError, MoveTaskStatus, QueueRef};

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
