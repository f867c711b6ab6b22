//! The only module that calls the services. Each `Effect` runs as a spawned task; its result comes back
//! as a `Msg` on the loop's channel. Background feeds (monitor, worker) report the same way.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::domain::{Timestamp, redact};
use crate::pipeline::{
    ConsumerConfig, ConsumerEvent, ConsumerHandle, DlqMessage, GiftOptions, MonitorConfig,
    MonitorUpdate, Pipeline, RedriveHandle, RedriveMethod, RedriveRequest, RedriveStatus,
};

use super::msg::{ConsumerSample, Effect, Msg};

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

/// Runs effects and background feeds; owns the worker and the running redrive.
pub struct Effects {
    pipeline: Pipeline,
    tx: mpsc::Sender<Msg>,
    consumer: Option<Arc<ConsumerHandle>>,
    redrive: Option<RedriveHandle>,
    export_dir: PathBuf,
    /// Entries one read of the audit log asks for.
    audit_limit: usize,
    cancel: CancellationToken,
}

impl std::fmt::Debug for Effects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Effects")
            .field("export_dir", &self.export_dir)
            .finish_non_exhaustive()
    }
}

impl Effects {
    /// Starts the monitor and (unless disabled) the worker, each reporting into `tx`.
    pub fn start(pipeline: Pipeline, tx: mpsc::Sender<Msg>, cfg: EffectsConfig) -> Effects {
        let cancel = CancellationToken::new();
        spawn_monitor(&pipeline, &tx, cfg.monitor, cancel.clone());
        let consumer = if cfg.worker {
            let (ev_tx, ev_rx) = mpsc::channel(256);
            let consumer_cfg = ConsumerConfig {
                concurrency: cfg.worker_concurrency,
                start_paused: cfg.worker_paused,
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
        Effects {
            pipeline,
            tx,
            consumer,
            redrive: None,
            export_dir: cfg.export_dir,
            audit_limit: cfg.monitor.audit_limit,
            cancel,
        }
    }

    /// Runs one effect without waiting for it.
    pub fn run(&mut self, effect: Effect) {
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
            Effect::PeekDlq { limit } => self.answer(async move {
                Msg::DlqPeeked(p.peek_dlq(limit).await.map_err(|e| e.to_string()))
            }),
            Effect::DeleteDlq { ids } => self.answer(async move {
                let result = p.delete_dlq(&ids).await.map_err(|e| e.to_string());
                tracing::info!(requested = ids.len(), ?result, "DLQ delete");
                Msg::DlqDeleted { ids, result }
            }),
            Effect::StartRedrive(req) => self.start_redrive(req),
            Effect::CancelRedrive => {
                if let Some(h) = &self.redrive {
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
                    let result = export(&dir, &file_name, &entries)
                        .await
                        .map(|path| (path, entries.len()));
                    Msg::Exported(result.map_err(|e| e.to_string()))
                });
            }
            Effect::RefreshAudit => {
                let limit = self.audit_limit;
                self.answer(async move { Msg::Monitor(p.poll_audit(limit).await) });
            }
            Effect::PurgeDlq => self.answer(async move {
                let result = p.purge_dlq().await;
                tracing::warn!(?result, "DLQ purge");
                Msg::Purged(result.map_err(|e| e.to_string()))
            }),
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

    fn start_redrive(&mut self, req: RedriveRequest) {
        // The match text may quote a recipient: masked in the log.
        tracing::info!(request = %redact(&format!("{req:?}")), "redrive starting");
        let handle = self.pipeline.start_redrive(req);
        let mut progress = handle.progress.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
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
        self.redrive = Some(handle);
    }

    /// What stopping has to finish, in words (`None`: nothing).
    pub fn in_progress(&self) -> Option<String> {
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
        self.redrive.as_ref().is_some_and(|h| {
            let p = h.progress.borrow();
            p.method == RedriveMethod::Copy && !p.status.is_finished()
        })
    }

    /// Stops the feeds and the worker, and waits until the worker's batches in progress are
    /// finished. A copy redrive is cancelled and waited for (it releases what it holds); a native
    /// move task is left running on the service.
    pub async fn shutdown(&mut self) {
        self.cancel.cancel();
        let copying = self.copy_running();
        let redrive = self.redrive.take();
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
        tokio::join!(redrive_done, worker_done);
    }
}

impl Drop for Effects {
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

/// Writes one JSON object per line to a new file in `dir` (never overwriting: `-1`, `-2`… are added
/// to the name when it exists); returns the path written.
async fn export(
    dir: &std::path::Path,
    file_name: &str,
    entries: &[DlqMessage],
) -> std::io::Result<PathBuf> {
    let mut out = Vec::new();
    for e in entries {
        serde_json::to_writer(&mut out, e).map_err(std::io::Error::other)?;
        out.push(b'\n');
    }
    let (stem, ext) = file_name.rsplit_once('.').unwrap_or((file_name, "jsonl"));
    let mut attempt = 0u32;
    loop {
        let name = if attempt == 0 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{attempt}.{ext}")
        };
        let path = dir.join(name);
        match tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
        {
            Ok(mut file) => {
                file.write_all(&out).await?;
                file.flush().await?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 99 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
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
        Effect::PurgeDlq => "purge_dlq",
        Effect::RefreshAudit => "refresh_audit",
    }
}
