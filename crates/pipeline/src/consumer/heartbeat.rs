//! The heartbeat of a batch: extends its visibility while it is slow, so it is not delivered twice.
//! It is stopped and awaited before the backoff is set, so a late extension cannot undo the backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use voucherdeck_core::ports::{Queue, QueueRef, ReceivedMessage, SQS_BATCH_MAX, VisibilityChange};

/// A running heartbeat of one batch.
pub(super) struct Heartbeat {
    token: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts extending the visibility of `msgs` by `visibility` (the one they were received with)
    /// every half of it (not at all for visibilities under 2 s).
    pub(super) fn start<'a>(
        backend: Arc<dyn Queue>,
        queue: QueueRef,
        visibility: Duration,
        msgs: impl Iterator<Item = &'a ReceivedMessage>,
    ) -> Heartbeat {
        let token = CancellationToken::new();
        let changes: Vec<VisibilityChange> = msgs
            .enumerate()
            .map(|(i, m)| m.visibility_entry(i, visibility))
            .collect();
        if changes.is_empty() || visibility < Duration::from_secs(2) {
            return Heartbeat { token, task: None };
        }
        let t = token.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = t.cancelled() => return,
                    () = tokio::time::sleep(visibility / 2) => {}
                }
                tracing::info!(
                    count = changes.len(),
                    "batch is slow; extending its visibility"
                );
                for chunk in changes.chunks(SQS_BATCH_MAX) {
                    if let Err(e) = backend.change_visibility_batch(&queue, chunk).await {
                        tracing::warn!(error = %e, "heartbeat failed");
                    }
                }
            }
        });
        Heartbeat {
            token,
            task: Some(task),
        }
    }

    /// Stops it and waits, so a late extension cannot overwrite the backoff set after it.
    pub(super) async fn stop(self) {
        self.token.cancel();
        if let Some(t) = self.task {
            let _ = t.await;
        }
    }
}
