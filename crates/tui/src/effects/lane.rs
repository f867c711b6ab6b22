//! One pipeline's effects: its monitor, its worker, its redrive and its DLQ session. Each `Effect`
//! runs as a spawned task; its result comes back as a `Msg` on the lane's channel, as do the
//! background feeds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use voucherdeck_core::domain::{Timestamp, redact};
use voucherdeck_pipeline::{
    ConsumerConfig, ConsumerEvent, ConsumerHandle, GiftOptions, MonitorConfig, MonitorUpdate,
    Pipeline, RedriveHandle, RedriveMethod, RedriveRequest, RedriveStatus,
};

use super::super::msg::{ConsumerSample, Effect, Msg};
use super::dlq::{DlqWork, export};

/// The running redrive, once started (it starts after the browser lets go of the DLQ).
type RedriveSlot = Arc<std::sync::Mutex<Option<RedriveHandle>>>;

/// How often the worker's figures are sampled.
const CONSUMER_SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// What the effects runner needs to know.
#[derive(Debug, Clone)]
pub struct EffectsConfig {
    /// Run a worker in this process.
    pub worker: bool,
    /// Start it paused.
    pub worker_paused: bool,
    pub worker_concurrency: usize,
    pub monitor: MonitorConfig,
    /// Where exports are written.
    pub export_dir: PathBuf,
}

/// Runs one pipeline's effects and background feeds; owns its worker, its running redrive and its
/// DLQ session.
pub(super) struct Lane {
    pipeline: Pipeline,
    tx: mpsc::Sender<Msg>,
    consumer: Option<Arc<ConsumerHandle>>,
    redrive: RedriveSlot,
    dlq: DlqWork,
    export_dir: PathBuf,
    /// Entries one read of the audit log asks for.
    audit_limit: usize,
    cancel: CancellationToken,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane")
            .field("export_dir", &self.export_dir)
            .finish_non_exhaustive()
    }
}

impl Lane {
    /// Starts the monitor and (unless disabled) the worker, each reporting into `tx`.
    pub(super) fn start(pipeline: Pipeline, tx: mpsc::Sender<Msg>, cfg: EffectsConfig) -> Lane {
        let cancel = CancellationToken::new();
        spawn_monitor(&pipeline, &tx, cfg.monitor, cancel.clone());
        let consumer = if cfg.worker {
            let (ev_tx, ev_rx) = mpsc::channel(256);
            let consumer_cfg = ConsumerConfig {
                concurrency: cfg.worker_concurrency,
                start_paused: cfg.worker_paused,
                publish_every: Some(pipeline.metrics_cadence()),
                ..ConsumerConfig::default()
            };
            match pipeline.start_consumer(consumer_cfg, Some(ev_tx)) {
                Ok(handle) => {
                    let handle = Arc::new(handle);
                    spawn_consumer_feeds(handle.clone(), ev_rx, tx.clone(), cancel.clone());
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no worker in this dashboard");
                    None
                }
            }
        } else {
            None
        };
        Lane {
            dlq: DlqWork::new(cancel.clone()),
            pipeline,
            tx,
            consumer,
            redrive: RedriveSlot::default(),
            export_dir: cfg.export_dir,
            audit_limit: cfg.monitor.audit_limit,
            cancel,
        }
    }

    /// Runs one effect without waiting for it.
    pub(super) fn run(&mut self, effect: Effect) {
        tracing::debug!(effect = variant(&effect), "effect");
        let p = self.pipeline.clone();
        match effect {
            Effect::Gift(req) => self.answer(async move {
                let result = p.gift(&req, GiftOptions::default()).await;
                if let Err(e) = &result {
                    tracing::info!(error = %e, "gift refused");
                }
                Msg::Gifted(result)
            }),
            Effect::PeekDlq { limit } => self.dlq.peek(&p, &self.tx, limit),
            Effect::LoadDlq { more } => self.dlq.load(&self.tx, more),
            Effect::ReleaseDlq => {
                let dlq = self.dlq.clone();
                tokio::spawn(async move { dlq.release().await });
            }
            Effect::DeleteDlq { ids, note } => self.dlq.delete(&p, &self.tx, ids, note),
            Effect::ResendDlq {
                message_id,
                gift,
                note,
            } => self.dlq.resend(&self.tx, message_id, gift, note),
            Effect::CountDlq(filter) => self.dlq.count(&p, &self.tx, filter),
            Effect::ExportDlqAll { file_name } => {
                self.dlq
                    .export_all(&self.tx, self.export_dir.clone(), file_name);
            }
            Effect::StartRedrive(req) => self.start_redrive(req),
            Effect::CancelRedrive => {
                if let Some(h) = self.redrive.lock().ok().as_ref().and_then(|r| r.as_ref()) {
                    tracing::info!("redrive cancel requested");
                    h.cancel();
                }
            }
            Effect::SetWorkerPaused(paused) => {
                if let Some(c) = &self.consumer {
                    c.set_paused(paused);
                }
            }
            Effect::SetConcurrency(n) => {
                if let Some(c) = &self.consumer {
                    c.set_concurrency(n);
                }
            }
            Effect::ExportDlq { file_name, entries } => {
                let dir = self.export_dir.clone();
                self.answer(async move {
                    let result =
                        export(&dir, &file_name, &entries).map(|path| (path, entries.len()));
                    Msg::Exported(result.map_err(|e| e.to_string()))
                });
            }
            Effect::RefreshAudit => {
                let limit = self.audit_limit;
                self.answer(async move { Msg::Monitor(p.poll_audit(limit).await) });
            }
            Effect::PurgeDlq { note } => self.answer(async move {
                let result = p.purge_dlq(note.as_ref()).await;
                tracing::warn!(?result, "DLQ purge");
                Msg::Purged(result.map_err(|e| e.to_string()))
            }),
            // The dashboard-wide effects are the runner's; the run loop opens the editor itself (it
            // owns the terminal).
            Effect::Bell | Effect::OnScreen(_) | Effect::On { .. } | Effect::EditDlq { .. } => {}
        }
    }

    /// Runs `work` as a task and sends the message it ends with to the loop.
    fn answer(&self, work: impl Future<Output = Msg> + Send + 'static) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            // A closed channel means the dashboard is gone: nobody is left to tell.
            let _ = tx.send(work.await).await;
        });
    }

    /// Starts the redrive (chosen messages with the browser's receipts; the session is let go) and
    /// forwards its progress.
    fn start_redrive(&mut self, req: RedriveRequest) {
        // The match text may quote a recipient: masked in the log.
        tracing::info!(request = %redact(&format!("{req:?}")), "redrive starting");
        let (p, tx, dlq, slot) = (
            self.pipeline.clone(),
            self.tx.clone(),
            self.dlq.clone(),
            self.redrive.clone(),
        );
        tokio::spawn(async move {
            let handle = dlq.start_redrive(&p, req).await;
            let mut progress = handle.progress.clone();
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(handle);
            }
            loop {
                let p = progress.borrow_and_update().clone();
                let finished = p.status.is_finished();
                if tx.send(Msg::Redrive(p)).await.is_err() || finished {
                    return;
                }
                if progress.changed().await.is_err() {
                    // The redrive task ended without a final report.
                    let mut last = progress.borrow().clone();
                    if !last.status.is_finished() {
                        last.status =
                            RedriveStatus::Failed("the redrive task stopped unexpectedly".into());
                    }
                    let _ = tx.send(Msg::Redrive(last)).await;
                    return;
                }
            }
        });
    }

    /// What stopping has to finish, in words (`None`: nothing).
    pub(super) fn in_progress(&self) -> Option<String> {
        let batches = self.consumer.as_ref().map_or(0, |c| c.snapshot().in_flight);
        let copying = self.copy_running();
        match (batches, copying) {
            (0, false) => None,
            (0, true) => Some("ending the copy redrive, releasing what it holds".into()),
            (n, false) => Some(format!(
                "the worker is finishing {n} message(s) in progress"
            )),
            (n, true) => Some(format!(
                "the worker is finishing {n} message(s) in progress; ending the copy redrive"
            )),
        }
    }

    /// Whether a redrive that copies in this process is running.
    fn copy_running(&self) -> bool {
        let slot = self.redrive.lock();
        slot.ok()
            .as_ref()
            .and_then(|r| r.as_ref())
            .is_some_and(|h| {
                let p = h.progress.borrow();
                p.method == RedriveMethod::Copy && !p.status.is_finished()
            })
    }

    /// Stops the feeds and the worker, and waits until the worker's batches in progress are
    /// finished. A copy redrive is cancelled and waited for (it releases what it holds), and so is
    /// what the DLQ browser holds; a native move task is left running on the service.
    pub(super) async fn shutdown(&mut self) {
        self.cancel.cancel();
        let copying = self.copy_running();
        let redrive = self.redrive.lock().ok().and_then(|mut r| r.take());
        let consumer = self.consumer.take();
        if let Some(c) = &consumer {
            c.shutdown();
        }
        let redrive_done = async {
            if let (Some(h), true) = (redrive, copying) {
                h.cancel();
                let last = h.wait().await;
                tracing::info!(%last, "copy redrive ended at shutdown");
            }
        };
        let worker_done = async {
            if let Some(c) = &consumer {
                c.stopped().await;
                tracing::info!(snapshot = ?c.snapshot(), "worker stopped");
            }
        };
        tokio::join!(redrive_done, worker_done, self.dlq.release());
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn spawn_monitor(
    pipeline: &Pipeline,
    tx: &mpsc::Sender<Msg>,
    cfg: MonitorConfig,
    cancel: CancellationToken,
) {
    let (mon_tx, mon_rx) = mpsc::channel::<MonitorUpdate>(64);
    pipeline.spawn_monitor(cfg, mon_tx, cancel.clone());
    forward(mon_rx, tx.clone(), cancel, Msg::Monitor);
}

/// Sends what a feed reports to the loop as messages, until `cancel` fires or either side closes.
fn forward<T: Send + 'static>(
    mut feed: mpsc::Receiver<T>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
    to_msg: fn(T) -> Msg,
) {
    tokio::spawn(async move {
        loop {
            let item = tokio::select! {
                () = cancel.cancelled() => return,
                item = feed.recv() => item,
            };
            let Some(item) = item else { return };
            if tx.send(to_msg(item)).await.is_err() {
                return;
            }
        }
    });
}

fn spawn_consumer_feeds(
    handle: Arc<ConsumerHandle>,
    events: mpsc::Receiver<ConsumerEvent>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    forward(events, tx.clone(), cancel.clone(), |ev| match ev {
        ConsumerEvent::Persisted {
            voucher_id,
            message_id,
        } => Msg::Persisted {
            voucher_id,
            message_id,
        },
        ConsumerEvent::Failed(record) => Msg::Failed(record),
    });
    tokio::spawn(async move {
        let mut every = tokio::time::interval(CONSUMER_SAMPLE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = every.tick() => {}
            }
            let sample = ConsumerSample {
                at: Timestamp::now(),
                snapshot: handle.snapshot(),
            };
            if tx.send(Msg::Consumer(sample)).await.is_err() {
                return;
            }
        }
    });
}

/// An effect's name for the log: never its contents (gifts and DLQ bodies hold recipients).
fn variant(effect: &Effect) -> &'static str {
    match effect {
        Effect::Gift(_) => "gift",
        Effect::PeekDlq { .. } => "peek_dlq",
        Effect::DeleteDlq { .. } => "delete_dlq",
        Effect::StartRedrive(_) => "start_redrive",
        Effect::CancelRedrive => "cancel_redrive",
        Effect::SetWorkerPaused(_) => "set_worker_paused",
        Effect::SetConcurrency(_) => "set_concurrency",
        Effect::ExportDlq { .. } => "export_dlq",
        Effect::PurgeDlq { .. } => "purge_dlq",
        Effect::RefreshAudit => "refresh_audit",
        Effect::LoadDlq { .. } => "load_dlq",
        Effect::ReleaseDlq => "release_dlq",
        Effect::ExportDlqAll { .. } => "export_dlq_all",
        Effect::EditDlq { .. } => "edit_dlq",
        Effect::ResendDlq { .. } => "resend_dlq",
        Effect::CountDlq(_) => "count_dlq",
        Effect::Bell => "bell",
        Effect::OnScreen(_) => "on_screen",
        Effect::On { .. } => "on",
    }
}
