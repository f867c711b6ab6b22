//! The supervisor: opens the queue, keeps as many receive loops running as the control asks
//! (none while paused), publishes the figures on schedule, and on shutdown waits for the loops.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::ConsumerConfig;
use super::report::{ConsumerEvent, ConsumerReport};
use super::worker::Shared;
use super::worker::Worker;
use crate::services::Pipeline;
use voucherdeck_core::domain::outage_words;
use voucherdeck_core::ports::{BackendError, QueueRef};

/// Wait between attempts to open the queue.
const OPEN_RETRY: Duration = Duration::from_secs(5);

/// Runs the consumer until it is cancelled or, with `until_empty`, has drained the queue.
pub(super) async fn supervise(
    pipeline: Pipeline,
    cfg: ConsumerConfig,
    shared: Arc<Shared>,
    events: Option<mpsc::Sender<ConsumerEvent>>,
    cancel: CancellationToken,
) -> ConsumerReport {
    let Some(queue) = open_queue(&pipeline, &cfg, &shared, &cancel).await else {
        return shared.report();
    };
    let worker = Arc::new(Worker {
        pipeline: pipeline.clone(),
        queue,
        cfg: cfg.clone(),
        shared: shared.clone(),
        events,
        cancel: cancel.clone(),
        drained: false.into(),
    });
    let mut control = shared.control.subscribe();
    let mut loops: Vec<(usize, JoinHandle<()>)> = Vec::new();
    let mut last_publish = Instant::now();
    loop {
        loops.retain(|(_, h)| !h.is_finished());
        let ctl = *control.borrow_and_update();
        let drained = worker.drained.load(Ordering::Relaxed);
        if cfg.until_empty && drained && loops.is_empty() {
            break;
        }
        if !ctl.paused && !drained && !cancel.is_cancelled() {
            for i in 0..ctl.concurrency {
                if !loops.iter().any(|(j, _)| *j == i) {
                    let w = worker.clone();
                    loops.push((i, tokio::spawn(async move { w.receive_loop(i).await })));
                }
            }
        }
        if let Some(every) = cfg.publish_every
            && last_publish.elapsed() >= every
        {
            publish(&pipeline, &shared).await;
            last_publish = Instant::now();
        }
        // Asleep until something asks for a look: no wake-ups while the worker idles.
        let next_publish = cfg.publish_every.map(|every| last_publish + every);
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = control.changed() => {}
            () = any_ended(&mut loops) => {}
            () = sleep_until(next_publish) => {}
        }
    }
    cancel.cancel();
    for (_, h) in loops {
        let _ = h.await;
    }
    if cfg.publish_every.is_some() {
        publish(&pipeline, &shared).await;
    }
    shared.report()
}

/// Resolves when one of the receive loops has ended (never, when there is none).
async fn any_ended(loops: &mut [(usize, JoinHandle<()>)]) {
    if loops.is_empty() {
        std::future::pending::<()>().await;
    }
    let _ = futures::future::select_all(loops.iter_mut().map(|(_, h)| h)).await;
}

/// Resolves at `at` (never, when `None`).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Opens the queue, retrying while it cannot be; `None` when cancelled meanwhile, or when draining a
/// queue that cannot be opened at all (the reason is recorded).
async fn open_queue(
    pipeline: &Pipeline,
    cfg: &ConsumerConfig,
    shared: &Shared,
    cancel: &CancellationToken,
) -> Option<QueueRef> {
    loop {
        match pipeline.queue().await {
            Ok(q) => return Some(q),
            Err(e) if cfg.until_empty && !e.is_retryable() => {
                shared.fail(e.to_string());
                return None;
            }
            Err(e) => {
                let since = shared.receive_failed();
                let words = outage_words(e.is_unreachable(), since, OPEN_RETRY);
                tracing::warn!(error = %e, "cannot open the queue: {words}");
                tokio::select! {
                    () = cancel.cancelled() => return None,
                    () = tokio::time::sleep(OPEN_RETRY) => {}
                }
            }
        }
    }
}

/// Publishes what changed since the last publish, if anything did. An endpoint without CloudWatch
/// is said once, and nothing more is sent to it.
async fn publish(pipeline: &Pipeline, shared: &Shared) {
    let (delta, latencies) = shared.stats.take_unpublished();
    if !delta.has_outcomes() && latencies.is_empty() || shared.no_metrics.load(Ordering::Relaxed) {
        return;
    }
    match pipeline.backend().metrics.publish(&delta, &latencies).await {
        Ok(()) => {}
        Err(BackendError::Unsupported(why)) => {
            shared.no_metrics.store(true, Ordering::Relaxed);
            pipeline.say_once(
                "PutMetricData",
                &format!("this endpoint has no CloudWatch ({why}); the consumer's metrics are not published"),
            );
        }
        Err(e) => tracing::warn!(error = %e, "could not publish consumer metrics"),
    }
}
