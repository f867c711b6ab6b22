//! The consumer at work on one queue: what its receive loops and batches work with, and the
//! state they share with its handle (control, figures, how it stopped).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::config::ConsumerConfig;
use super::report::{ConsumerEvent, ConsumerReport};
use super::stats::StatsRecorder;
use crate::services::Pipeline;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::QueueRef;

/// The consumer at work on one queue, shared by its receive loops.
pub(super) struct Worker {
    pub pipeline: Pipeline,
    pub queue: QueueRef,
    pub cfg: ConsumerConfig,
    pub shared: Arc<Shared>,
    pub events: Option<mpsc::Sender<ConsumerEvent>>,
    pub cancel: CancellationToken,
    /// Set once `until_empty` found the queue empty.
    pub drained: AtomicBool,
}

/// Pause and concurrency, as the handle sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Control {
    pub paused: bool,
    pub concurrency: usize,
}

/// State shared by the consumer's tasks and its handle.
#[derive(Debug)]
pub(super) struct Shared {
    pub stats: StatsRecorder,
    pub control: watch::Sender<Control>,
    pub stopped: AtomicBool,
    /// The endpoint has no CloudWatch: metrics are not published.
    pub no_metrics: AtomicBool,
    /// Why the consumer stopped by itself, if it did.
    pub fatal: Mutex<Option<String>>,
    /// Since when receiving fails, while it does (shared by the receive loops).
    pub outage: Mutex<Option<Timestamp>>,
}

impl Shared {
    pub(super) fn new(control: Control) -> Self {
        Shared {
            stats: StatsRecorder::default(),
            control: watch::Sender::new(control),
            stopped: AtomicBool::new(false),
            no_metrics: AtomicBool::new(false),
            fatal: Mutex::default(),
            outage: Mutex::default(),
        }
    }

    /// A receive failed: since when receives fail (this one, if the others worked).
    pub(super) fn receive_failed(&self) -> Timestamp {
        let now = Timestamp::now();
        self.outage
            .lock()
            .map_or(now, |mut o| *o.get_or_insert(now))
    }

    /// A receive worked: when the outage it ends began, if it ends one.
    pub(super) fn receive_ok(&self) -> Option<Timestamp> {
        self.outage.lock().ok().and_then(|mut o| o.take())
    }

    /// Records why the consumer stops by itself (the first reason wins).
    pub(super) fn fail(&self, why: String) {
        if let Ok(mut f) = self.fatal.lock() {
            f.get_or_insert(why);
        }
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    pub(super) fn report(&self) -> ConsumerReport {
        ConsumerReport {
            totals: self.stats.totals(),
            error: self.fatal.lock().ok().and_then(|f| f.clone()),
        }
    }
}
