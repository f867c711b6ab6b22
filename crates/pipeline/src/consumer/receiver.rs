//! One receive loop: long-polls for batches while it is wanted (not paused, within the
//! concurrency, not shut down), backs off while receiving fails, and with `until_empty` decides
//! when the queue is drained.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::worker::Worker;
use voucherdeck_core::domain::limits::CONSUMER_BATCH_MAX;
use voucherdeck_core::domain::{Timestamp, outage_words, short_duration};
use voucherdeck_core::ports::{ReceiveRequest, ReceivedMessage, SQS_BATCH_MAX};

/// First wait after a failed receive; doubles up to [`RECEIVE_BACKOFF_MAX`].
const RECEIVE_BACKOFF: Duration = Duration::from_millis(500);
const RECEIVE_BACKOFF_MAX: Duration = Duration::from_secs(30);

impl Worker {
    /// Whether loop `i` should keep receiving.
    fn active(&self, i: usize) -> bool {
        let c = *self.shared.control.borrow();
        !self.cancel.is_cancelled() && !c.paused && i < c.concurrency
    }

    pub(super) async fn receive_loop(&self, i: usize) {
        let mut error_backoff = RECEIVE_BACKOFF;
        let wait = if self.cfg.until_empty {
            self.cfg.wait.min(Duration::from_secs(1))
        } else {
            self.cfg.wait
        };
        // Two empty receives in a row, each confirmed by the queue's counts, before calling it
        // drained (SQS counts are approximate and lag).
        let mut empty_confirmations = 0;
        while self.active(i) && !self.drained.load(Ordering::Relaxed) {
            // The visibility is asked for, not taken from the queue: the heartbeat extends by what
            // this receive asked, whatever the queue's own setting (another machine may have set it).
            let req = ReceiveRequest {
                max: SQS_BATCH_MAX,
                wait,
                visibility: Some(self.pipeline.config().visibility_timeout),
            };
            // Pause, a lower concurrency or shutdown end a long poll at once (a message SQS handed
            // out meanwhile returns after its visibility timeout).
            let mut control = self.shared.control.subscribe();
            let got = tokio::select! {
                // A receive that has answered wins: its messages are in hand and get finished.
                biased;
                r = self.pipeline.backend().queue.receive(&self.queue, req) => r,
                () = self.cancel.cancelled() => return,
                _ = control.wait_for(|c| c.paused || i >= c.concurrency) => return,
            };
            if got.is_ok()
                && let Some(since) = self.shared.receive_ok()
            {
                tracing::info!(
                    "receiving works again (it failed from {} for {})",
                    since.hms(),
                    short_duration(since.until(Timestamp::now()))
                );
            }
            match got {
                Ok(msgs) if msgs.is_empty() => {
                    error_backoff = RECEIVE_BACKOFF;
                    if self.cfg.until_empty && self.queue_is_empty().await {
                        empty_confirmations += 1;
                        if empty_confirmations >= 2 {
                            self.drained.store(true, Ordering::Relaxed);
                            return;
                        }
                    } else {
                        empty_confirmations = 0;
                    }
                }
                Ok(msgs) => {
                    error_backoff = RECEIVE_BACKOFF;
                    empty_confirmations = 0;
                    let msgs = self.fill(msgs, req).await;
                    self.process_batch(msgs).await;
                }
                // Draining a queue that cannot be read (gone, access denied) cannot succeed.
                Err(e) if self.cfg.until_empty && !e.is_retryable() => {
                    tracing::error!(error = %e, "receive failed; stopping");
                    self.shared.fail(e.to_string());
                    self.cancel.cancel();
                    return;
                }
                Err(e) => {
                    let since = self.shared.receive_failed();
                    // One line per wait, from the first loop only: the others wait alike.
                    if i == 0 {
                        let words = outage_words(e.is_unreachable(), since, error_backoff);
                        tracing::warn!(error = %e, "receive failed: {words}");
                    } else {
                        tracing::debug!(error = %e, loop_index = i, "receive failed");
                    }
                    tokio::select! {
                        () = self.cancel.cancelled() => return,
                        () = tokio::time::sleep(error_backoff) => {}
                    }
                    error_backoff = (error_backoff * 2).min(RECEIVE_BACKOFF_MAX);
                }
            }
        }
    }

    /// A full receive means a backlog: receive once more at once, so that up to 20 messages share
    /// one store read and one store write. A message delivered twice keeps its newest receipt.
    async fn fill(
        &self,
        mut msgs: Vec<ReceivedMessage>,
        req: ReceiveRequest,
    ) -> Vec<ReceivedMessage> {
        if msgs.len() < SQS_BATCH_MAX || self.cancel.is_cancelled() {
            return msgs;
        }
        let more = ReceiveRequest {
            max: CONSUMER_BATCH_MAX - msgs.len(),
            wait: Duration::ZERO,
            ..req
        };
        match self
            .pipeline
            .backend()
            .queue
            .receive(&self.queue, more)
            .await
        {
            Ok(got) => {
                for m in got {
                    match msgs.iter_mut().find(|x| x.message_id == m.message_id) {
                        Some(earlier) => *earlier = m,
                        None => msgs.push(m),
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "second receive failed; going on with the first"),
        }
        msgs
    }

    /// Nothing visible, in flight or delayed (false when the counts cannot be read).
    async fn queue_is_empty(&self) -> bool {
        match self.pipeline.backend().queue.stats(&self.queue).await {
            Ok(s) => s.visible == 0 && s.in_flight == 0 && s.delayed == 0,
            Err(_) => false,
        }
    }
}
