//! Starting the consumer, and the handle that controls it, reads its figures and stops it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::ConsumerConfig;
use super::report::{ConsumerEvent, ConsumerReport, ConsumerSnapshot};
use super::supervisor::supervise;
use super::worker::{Control, Shared};
use crate::services::Pipeline;
use voucherdeck_core::domain::limits::clamp_concurrency;
use voucherdeck_core::ports::BackendError;

/// Reads a running consumer's figures; cheap to clone.
#[derive(Clone)]
pub struct ConsumerWatch {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ConsumerWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerWatch").finish_non_exhaustive()
    }
}

impl ConsumerWatch {
    pub fn snapshot(&self) -> ConsumerSnapshot {
        let control = *self.shared.control.borrow();
        let (p50_ms, p99_ms) = self.shared.stats.percentiles();
        ConsumerSnapshot {
            paused: control.paused,
            stopped: self.shared.is_stopped(),
            concurrency: control.concurrency,
            in_flight: self.shared.stats.in_flight(),
            totals: self.shared.stats.totals(),
            p50_ms,
            p99_ms,
            receive_failing_since: self.shared.outage.lock().ok().and_then(|o| *o),
        }
    }
}

/// A running consumer: control it, read its figures, stop it.
pub struct ConsumerHandle {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    /// Cancelled once the consumer has stopped (its batches finished).
    done: CancellationToken,
    join: JoinHandle<ConsumerReport>,
}

impl std::fmt::Debug for ConsumerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerHandle")
            .field("snapshot", &self.snapshot())
            .finish_non_exhaustive()
    }
}

impl ConsumerHandle {
    pub fn set_paused(&self, paused: bool) {
        self.shared.control.send_modify(|c| c.paused = paused);
    }

    /// Sets the number of receive loops (1..=64).
    pub fn set_concurrency(&self, n: usize) {
        self.shared
            .control
            .send_modify(|c| c.concurrency = clamp_concurrency(n));
    }

    pub fn snapshot(&self) -> ConsumerSnapshot {
        self.watch().snapshot()
    }

    /// A cheap handle that reads the consumer's figures (for a health or metrics endpoint).
    pub fn watch(&self) -> ConsumerWatch {
        ConsumerWatch {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops receiving; batches in progress finish.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Resolves once the consumer has stopped and its batches are finished (after `shutdown`, or by
    /// itself with `until_empty`); unlike `join`, it needs no ownership.
    pub async fn stopped(&self) {
        self.done.cancelled().await;
    }

    /// Waits for the consumer to stop (after `shutdown`, or by itself with `until_empty`).
    pub async fn join(self) -> ConsumerReport {
        match self.join.await {
            Ok(r) => r,
            Err(_) => self.shared.report(),
        }
    }
}

impl Pipeline {
    /// Starts the consumer in the background. Refused read-only: consuming deletes messages.
    pub fn start_consumer(
        &self,
        cfg: ConsumerConfig,
        events: Option<mpsc::Sender<ConsumerEvent>>,
    ) -> Result<ConsumerHandle, BackendError> {
        if self.config().read_only {
            return Err(BackendError::ReadOnly("consuming"));
        }
        let shared = Arc::new(Shared::new(Control {
            paused: cfg.start_paused,
            concurrency: clamp_concurrency(cfg.concurrency),
        }));
        let cancel = CancellationToken::new();
        let pipeline = self.clone();
        let sh = shared.clone();
        let token = cancel.clone();
        let done = CancellationToken::new();
        let finished = done.clone();
        let join = tokio::spawn(async move {
            let report = supervise(pipeline, cfg, sh.clone(), events, token).await;
            sh.stopped.store(true, Ordering::Relaxed);
            finished.cancel();
            report
        });
        Ok(ConsumerHandle {
            shared,
            cancel,
            done,
            join,
        })
    }
}
