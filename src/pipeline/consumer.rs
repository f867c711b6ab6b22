//! The consumer: several long-poll loops receive batches of 10; each batch is decoded and validated
//! again, persisted with one idempotent batch write, and deleted with one batch delete. Poison goes to
//! the DLQ at once with its reason; retryable failures come back later with a growing backoff and,
//! after maxReceiveCount, SQS moves them to the DLQ itself.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Pipeline;
use crate::domain::limits::clamp_concurrency;
use crate::domain::{DecodeError, FailureKind, FailureRecord, Timestamp, Voucher, decode, mask};
use crate::ports::{
    ConsumerMetrics, OutgoingMessage, QueueRef, Receipt, ReceiveRequest, ReceivedMessage,
    SQS_BATCH_MAX, VisibilityChange,
};

/// Message attributes the consumer puts on a message it sends to the DLQ.
pub mod attr {
    /// Every attribute voucherdeck sets starts with this.
    pub const PREFIX: &str = "voucherdeck.";
    pub const ERROR_KIND: &str = "voucherdeck.error_kind";
    pub const ERROR_MESSAGE: &str = "voucherdeck.error_message";
    pub const WORKER: &str = "voucherdeck.worker";
    pub const FIRST_SEEN: &str = "voucherdeck.first_seen";
    pub const SOURCE_QUEUE: &str = "voucherdeck.source_queue";
    pub const RECEIVE_COUNT: &str = "voucherdeck.receive_count";
}

/// SQS allows at most 10 message attributes.
const MAX_ATTRIBUTES: usize = 10;
const DELETE_ATTEMPTS: u32 = 3;
const LATENCY_WINDOW: usize = 2048;

/// How the consumer runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// Receive loops running at once.
    pub concurrency: usize,
    /// Long-poll wait per receive.
    pub wait: Duration,
    /// Stop once the queue is empty (nothing visible, in flight or delayed).
    pub until_empty: bool,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Publish the consumer's metrics this often (`None`: never).
    pub publish_every: Option<Duration>,
    pub start_paused: bool,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            concurrency: 4,
            wait: Duration::from_secs(20),
            until_empty: false,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_mins(15),
            publish_every: Some(Duration::from_mins(1)),
            start_paused: false,
        }
    }
}

/// What the consumer did, for followers (the dashboard's status line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerEvent {
    Persisted {
        voucher_id: Uuid,
        message_id: String,
    },
    Failed(FailureRecord),
}

/// The consumer's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConsumerSnapshot {
    pub paused: bool,
    pub stopped: bool,
    pub concurrency: usize,
    /// Messages being processed now.
    pub in_flight: usize,
    pub received_total: u64,
    pub persisted_total: u64,
    pub failed_total: u64,
    pub dead_lettered_total: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// The totals when the consumer stops.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConsumerReport {
    pub received: u64,
    pub persisted: u64,
    pub failed: u64,
    pub dead_lettered: u64,
    /// Why the consumer stopped by itself, when it was not a clean finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Control {
    paused: bool,
    concurrency: usize,
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    persisted: AtomicU64,
    failed: AtomicU64,
    dead_lettered: AtomicU64,
    in_flight: AtomicUsize,
}

struct Shared {
    counters: Counters,
    latencies: Mutex<VecDeque<f64>>,
    unpublished: Mutex<ConsumerMetrics>,
    control: watch::Sender<Control>,
    stopped: std::sync::atomic::AtomicBool,
    fatal: Mutex<Option<String>>,
}

impl Shared {
    fn add_latency(&self, ms: f64, n: usize) {
        if let Ok(mut l) = self.latencies.lock() {
            for _ in 0..n {
                if l.len() == LATENCY_WINDOW {
                    l.pop_front();
                }
                l.push_back(ms);
            }
        }
        if let Ok(mut u) = self.unpublished.lock() {
            u.latencies_ms.extend(std::iter::repeat_n(ms, n));
        }
    }

    fn report(&self) -> ConsumerReport {
        let c = &self.counters;
        ConsumerReport {
            received: c.received.load(Ordering::Relaxed),
            persisted: c.persisted.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            dead_lettered: c.dead_lettered.load(Ordering::Relaxed),
            error: self.fatal.lock().ok().and_then(|f| f.clone()),
        }
    }
}

/// A running consumer: control it, read its figures, stop it.
pub struct ConsumerHandle {
    shared: Arc<Shared>,
    cancel: CancellationToken,
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
        let control = *self.shared.control.borrow();
        let report = self.shared.report();
        let (p50_ms, p99_ms) = self
            .shared
            .latencies
            .lock()
            .map_or((None, None), |l| percentiles(&l));
        ConsumerSnapshot {
            paused: control.paused,
            stopped: self.shared.stopped.load(Ordering::Relaxed),
            concurrency: control.concurrency,
            in_flight: self.shared.counters.in_flight.load(Ordering::Relaxed),
            received_total: report.received,
            persisted_total: report.persisted,
            failed_total: report.failed,
            dead_lettered_total: report.dead_lettered,
            p50_ms,
            p99_ms,
        }
    }

    /// Stops receiving; batches in progress finish.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Waits for the consumer to stop (after `shutdown`, or by itself with `until_empty`).
    pub async fn join(self) -> ConsumerReport {
        match self.join.await {
            Ok(r) => r,
            Err(_) => self.shared.report(),
        }
    }
}

fn percentiles(l: &VecDeque<f64>) -> (Option<f64>, Option<f64>) {
    if l.is_empty() {
        return (None, None);
    }
    let mut v: Vec<f64> = l.iter().copied().collect();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (Some(at(0.5)), Some(at(0.99)))
}

/// The wait before a retryable failure is received again: doubling with each receive, with jitter.
pub fn backoff(receive_count: u32, base: Duration, max: Duration) -> Duration {
    let exp = receive_count.saturating_sub(1).min(20);
    let d = base.saturating_mul(1 << exp).min(max);
    let jitter = d.mul_f64(fastrand::f64() * 0.25);
    (d + jitter).min(max)
}

struct Worker {
    pipeline: Pipeline,
    queue: QueueRef,
    cfg: ConsumerConfig,
    shared: Arc<Shared>,
    events: Option<mpsc::Sender<ConsumerEvent>>,
    cancel: CancellationToken,
    drained: std::sync::atomic::AtomicBool,
}

impl Pipeline {
    /// Starts the consumer in the background.
    pub fn start_consumer(
        &self,
        cfg: ConsumerConfig,
        events: Option<mpsc::Sender<ConsumerEvent>>,
    ) -> ConsumerHandle {
        let (control, _) = watch::channel(Control {
            paused: cfg.start_paused,
            concurrency: clamp_concurrency(cfg.concurrency),
        });
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            latencies: Mutex::default(),
            unpublished: Mutex::default(),
            control,
            stopped: false.into(),
            fatal: Mutex::default(),
        });
        let cancel = CancellationToken::new();
        let pipeline = self.clone();
        let sh = shared.clone();
        let token = cancel.clone();
        let join = tokio::spawn(async move {
            let report = supervise(pipeline, cfg, sh.clone(), events, token).await;
            sh.stopped.store(true, Ordering::Relaxed);
            report
        });
        ConsumerHandle {
            shared,
            cancel,
            join,
        }
    }
}

async fn supervise(
    pipeline: Pipeline,
    cfg: ConsumerConfig,
    shared: Arc<Shared>,
    events: Option<mpsc::Sender<ConsumerEvent>>,
    cancel: CancellationToken,
) -> ConsumerReport {
    let queue = loop {
        match pipeline.queue().await {
            Ok(q) => break q,
            Err(e) if cfg.until_empty && !e.is_retryable() => {
                if let Ok(mut f) = shared.fatal.lock() {
                    *f = Some(e.to_string());
                }
                return shared.report();
            }
            Err(e) => {
                tracing::warn!(error = %e, "consumer cannot open the queue; retrying");
                tokio::select! {
                    () = cancel.cancelled() => return shared.report(),
                    () = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
            }
        }
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
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = control.changed() => {}
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
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

async fn publish(pipeline: &Pipeline, shared: &Shared) {
    let m = shared
        .unpublished
        .lock()
        .map(|mut u| std::mem::take(&mut *u))
        .unwrap_or_default();
    if m.persisted == 0 && m.failed == 0 && m.dead_lettered == 0 && m.latencies_ms.is_empty() {
        return;
    }
    if let Err(e) = pipeline.backend().metrics.publish(&m).await {
        tracing::warn!(error = %e, "could not publish consumer metrics");
    }
}

/// One message that could not be processed.
struct Failure {
    msg: ReceivedMessage,
    kind: FailureKind,
    reason: String,
    voucher: Option<(Uuid, String)>,
}

impl Worker {
    fn active(&self, i: usize) -> bool {
        let c = *self.shared.control.borrow();
        !self.cancel.is_cancelled() && !c.paused && i < c.concurrency
    }

    async fn receive_loop(&self, i: usize) {
        let mut error_backoff = Duration::from_millis(500);
        let wait = if self.cfg.until_empty {
            self.cfg.wait.min(Duration::from_secs(1))
        } else {
            self.cfg.wait
        };
        // Two empty receives in a row, each confirmed by the queue's counts, before calling it
        // drained (SQS counts are approximate and lag).
        let mut empty_confirmations = 0;
        while self.active(i) && !self.drained.load(Ordering::Relaxed) {
            let req = ReceiveRequest {
                max: SQS_BATCH_MAX,
                wait,
                visibility: None,
            };
            // Pause, a lower concurrency or shutdown end a long poll at once (a message SQS handed
            // out meanwhile returns after its visibility timeout).
            let mut control = self.shared.control.subscribe();
            let got = tokio::select! {
                () = self.cancel.cancelled() => return,
                _ = control.wait_for(|c| c.paused || i >= c.concurrency) => return,
                r = self.pipeline.backend().queue.receive(&self.queue, req) => r,
            };
            match got {
                Ok(msgs) if msgs.is_empty() => {
                    error_backoff = Duration::from_millis(500);
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
                    error_backoff = Duration::from_millis(500);
                    empty_confirmations = 0;
                    self.process_batch(msgs).await;
                }
                // Draining a queue that cannot be read (gone, access denied) cannot succeed.
                Err(e) if self.cfg.until_empty && !e.is_retryable() => {
                    tracing::error!(error = %e, "receive failed; stopping");
                    if let Ok(mut f) = self.shared.fatal.lock() {
                        f.get_or_insert_with(|| e.to_string());
                    }
                    self.cancel.cancel();
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "receive failed; backing off");
                    tokio::select! {
                        () = self.cancel.cancelled() => return,
                        () = tokio::time::sleep(error_backoff) => {}
                    }
                    error_backoff = (error_backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    async fn queue_is_empty(&self) -> bool {
        match self.pipeline.backend().queue.stats(&self.queue).await {
            Ok(s) => s.visible == 0 && s.in_flight == 0 && s.delayed == 0,
            Err(_) => false,
        }
    }

    async fn process_batch(&self, msgs: Vec<ReceivedMessage>) {
        let started = Instant::now();
        let n = msgs.len();
        let c = &self.shared.counters;
        c.received.fetch_add(n as u64, Ordering::Relaxed);
        c.in_flight.fetch_add(n, Ordering::Relaxed);

        let limits = self.pipeline.config().limits;
        let mut valid: Vec<(ReceivedMessage, Voucher)> = Vec::new();
        let mut permanent: Vec<Failure> = Vec::new();
        for m in msgs {
            match decode(&m.body, &limits) {
                Ok(v) => valid.push((m, v)),
                Err(e) => {
                    let voucher = peek_identity(&m.body);
                    permanent.push(Failure {
                        kind: decode_kind(&e),
                        reason: e.to_string(),
                        voucher,
                        msg: m,
                    });
                }
            }
        }

        let heartbeat = self.spawn_heartbeat(
            valid
                .iter()
                .map(|(m, _)| m)
                .chain(permanent.iter().map(|f| &f.msg)),
        );
        let vouchers: Vec<Voucher> = valid.iter().map(|(_, v)| v.clone()).collect();
        let persisted = if vouchers.is_empty() {
            Ok(())
        } else {
            self.pipeline.backend().store.put_vouchers(&vouchers).await
        };
        let dead_lettered = self.send_to_dlq(&permanent).await;
        heartbeat.stop().await;

        let mut to_delete: Vec<&ReceivedMessage> = Vec::new();
        let mut retry: Vec<Failure> = Vec::new();
        match &persisted {
            Ok(()) => to_delete.extend(valid.iter().map(|(m, _)| m)),
            Err(e) => {
                for (m, v) in &valid {
                    retry.push(Failure {
                        msg: m.clone(),
                        kind: e.failure_kind(),
                        reason: e.to_string(),
                        voucher: Some((v.voucher_id, v.recipient.masked())),
                    });
                }
            }
        }
        to_delete.extend(
            permanent
                .iter()
                .filter(|f| dead_lettered.contains(&f.msg.message_id))
                .map(|f| &f.msg),
        );
        self.delete(&to_delete).await;
        self.back_off(&retry).await;

        // Failure records: every failure, permanent or not.
        let now = Timestamp::now();
        let max_rc = self.pipeline.config().max_receive_count;
        let mut records = Vec::new();
        for f in &permanent {
            let dl = dead_lettered.contains(&f.msg.message_id);
            records.push(self.record(f, now, dl));
        }
        for f in &retry {
            records.push(self.record(f, now, f.msg.receive_count >= max_rc));
        }
        if !records.is_empty() {
            if let Err(e) = self.pipeline.backend().failures.record(&records).await {
                tracing::warn!(error = %e, "could not write failure records");
            }
            for r in &records {
                tracing::warn!(message_id = %r.message_id, kind = %r.kind, receive_count = r.receive_count,
                    dead_lettered = r.dead_lettered, reason = %r.reason, "message failed");
            }
        }

        // Figures and events.
        let persisted_n = if persisted.is_ok() { valid.len() } else { 0 };
        c.persisted.fetch_add(persisted_n as u64, Ordering::Relaxed);
        c.failed.fetch_add(records.len() as u64, Ordering::Relaxed);
        c.dead_lettered
            .fetch_add(dead_lettered.len() as u64, Ordering::Relaxed);
        if let Ok(mut u) = self.shared.unpublished.lock() {
            u.persisted += persisted_n as u64;
            u.failed += records.len() as u64;
            u.dead_lettered += dead_lettered.len() as u64;
        }
        self.shared
            .add_latency(started.elapsed().as_secs_f64() * 1000.0, n);
        c.in_flight.fetch_sub(n, Ordering::Relaxed);
        if let Some(tx) = &self.events {
            if persisted.is_ok() {
                for (m, v) in &valid {
                    let _ = tx.try_send(ConsumerEvent::Persisted {
                        voucher_id: v.voucher_id,
                        message_id: m.message_id.clone(),
                    });
                }
            }
            for r in records {
                let _ = tx.try_send(ConsumerEvent::Failed(r));
            }
        }
    }

    fn record(&self, f: &Failure, now: Timestamp, dead_lettered: bool) -> FailureRecord {
        FailureRecord {
            record_id: Uuid::now_v7(),
            at: now,
            queue: self.queue.name.clone(),
            message_id: f.msg.message_id.clone(),
            voucher_id: f.voucher.as_ref().map(|(id, _)| *id),
            recipient: f.voucher.as_ref().map(|(_, r)| r.clone()),
            kind: f.kind,
            reason: f.reason.clone(),
            receive_count: f.msg.receive_count,
            worker: self.pipeline.config().worker_id.clone(),
            dead_lettered,
        }
    }

    /// Sends poison to the DLQ with its reason; returns the message ids that made it.
    async fn send_to_dlq(&self, permanent: &[Failure]) -> HashSet<String> {
        let mut done = HashSet::new();
        if permanent.is_empty() {
            return done;
        }
        let dlq = match self.pipeline.dlq().await {
            Ok(q) => q,
            Err(e) => {
                tracing::error!(error = %e, "cannot open the DLQ; poison messages stay for redelivery");
                return done;
            }
        };
        let worker = &self.pipeline.config().worker_id;
        let entries: Vec<OutgoingMessage> = permanent
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut attributes = BTreeMap::from([
                    (attr::ERROR_KIND.to_string(), f.kind.to_string()),
                    (
                        attr::ERROR_MESSAGE.to_string(),
                        crate::domain::text::truncate(&f.reason, 1000),
                    ),
                    (attr::WORKER.to_string(), worker.clone()),
                    (
                        attr::FIRST_SEEN.to_string(),
                        f.msg
                            .first_received_at
                            .unwrap_or_else(Timestamp::now)
                            .to_string(),
                    ),
                    (attr::SOURCE_QUEUE.to_string(), self.queue.name.clone()),
                    (
                        attr::RECEIVE_COUNT.to_string(),
                        f.msg.receive_count.to_string(),
                    ),
                ]);
                for (k, v) in &f.msg.attributes {
                    if attributes.len() >= MAX_ATTRIBUTES {
                        break;
                    }
                    attributes.entry(k.clone()).or_insert_with(|| v.clone());
                }
                OutgoingMessage {
                    id: i.to_string(),
                    body: f.msg.body.clone(),
                    attributes,
                    delay: None,
                }
            })
            .collect();
        match self
            .pipeline
            .backend()
            .queue
            .send_batch(&dlq, &entries)
            .await
        {
            Ok(outcome) => {
                for id in outcome.succeeded {
                    if let Some(f) = id.parse::<usize>().ok().and_then(|i| permanent.get(i)) {
                        done.insert(f.msg.message_id.clone());
                    }
                }
                for f in outcome.failed {
                    tracing::warn!(code = %f.code, message = %f.message, "DLQ send failed for one message");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "DLQ send failed; poison messages stay for redelivery");
            }
        }
        done
    }

    /// Deletes in batches, retrying entries that failed.
    async fn delete(&self, msgs: &[&ReceivedMessage]) {
        if msgs.is_empty() {
            return;
        }
        let mut pending: Vec<Receipt> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| m.receipt_entry(i))
            .collect();
        for attempt in 1..=DELETE_ATTEMPTS {
            match self
                .pipeline
                .backend()
                .queue
                .delete_batch(&self.queue, &pending)
                .await
            {
                Ok(out) => {
                    let failed: HashSet<String> = out
                        .failed
                        .iter()
                        .filter(|f| !f.sender_fault)
                        .map(|f| f.id.clone())
                        .collect();
                    for f in out.failed.iter().filter(|f| f.sender_fault) {
                        tracing::warn!(code = %f.code, message = %f.message, "delete refused; the message will be redelivered and found done");
                    }
                    pending.retain(|r| failed.contains(&r.id));
                }
                Err(e) => tracing::warn!(error = %e, attempt, "delete failed"),
            }
            if pending.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        }
        // Not deleted: the message comes back after its visibility timeout and is found already done.
        tracing::warn!(
            count = pending.len(),
            "messages not deleted; they will be redelivered"
        );
    }

    /// Leaves retryable failures for redelivery after a backoff that grows with the receive count.
    async fn back_off(&self, retry: &[Failure]) {
        if retry.is_empty() {
            return;
        }
        let changes: Vec<VisibilityChange> = retry
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let wait = backoff(
                    f.msg.receive_count,
                    self.cfg.backoff_base,
                    self.cfg.backoff_max,
                );
                f.msg.visibility_entry(i, wait)
            })
            .collect();
        if let Err(e) = self
            .pipeline
            .backend()
            .queue
            .change_visibility_batch(&self.queue, &changes)
            .await
        {
            tracing::warn!(error = %e, "could not set backoff; messages return after the visibility timeout");
        }
    }

    /// Extends visibility while a batch is slow, so it is not delivered twice.
    fn spawn_heartbeat<'a>(&self, msgs: impl Iterator<Item = &'a ReceivedMessage>) -> Heartbeat {
        let token = CancellationToken::new();
        let visibility = self.pipeline.config().visibility_timeout;
        let changes: Vec<VisibilityChange> = msgs
            .enumerate()
            .map(|(i, m)| m.visibility_entry(i, visibility))
            .collect();
        if changes.is_empty() || visibility < Duration::from_secs(2) {
            return Heartbeat { token, task: None };
        }
        let queue = self.queue.clone();
        let backend = self.pipeline.backend().queue.clone();
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
                if let Err(e) = backend.change_visibility_batch(&queue, &changes).await {
                    tracing::warn!(error = %e, "heartbeat failed");
                }
            }
        });
        Heartbeat {
            token,
            task: Some(task),
        }
    }
}

/// A running heartbeat of one batch.
struct Heartbeat {
    token: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Stops it and waits, so a late extension cannot overwrite the backoff set after it.
    async fn stop(self) {
        self.token.cancel();
        if let Some(t) = self.task {
            let _ = t.await;
        }
    }
}

fn decode_kind(e: &DecodeError) -> FailureKind {
    match e {
        DecodeError::NotJson(_) => FailureKind::NotJson,
        DecodeError::UnsupportedVersion(_) | DecodeError::Schema(_) => FailureKind::Schema,
        DecodeError::Invalid(_) => FailureKind::Invalid,
    }
}

/// Best-effort voucher id and masked recipient from a body that failed to decode.
fn peek_identity(body: &str) -> Option<(Uuid, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let id = v.get("voucher_id")?.as_str()?.parse().ok()?;
    let recipient = v
        .get("recipient")
        .and_then(|r| r.get("address").or(Some(r)))
        .and_then(serde_json::Value::as_str)
        .map(mask)
        .unwrap_or_default();
    Some((id, recipient))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let base = Duration::from_secs(2);
        let max = Duration::from_mins(1);
        assert!(backoff(1, base, max) >= Duration::from_secs(2));
        assert!(backoff(1, base, max) <= Duration::from_millis(2500));
        assert!(backoff(3, base, max) >= Duration::from_secs(8));
        assert_eq!(backoff(30, base, max), max);
    }

    #[test]
    fn percentile_picks() {
        let l: VecDeque<f64> = (1..=100).map(f64::from).collect();
        let (p50, p99) = percentiles(&l);
        assert_eq!(p50, Some(51.0));
        assert_eq!(p99, Some(99.0));
    }
}
