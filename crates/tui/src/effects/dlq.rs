//! The DLQ browser's session and the work on it: the first page, more pages or every message (with
//! progress), deletes and resends with the session's receipts, a dry-run count, exports. One task at
//! a time works on the session (a mutex), and a keeper extends its hold while it lives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::io::Write;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use voucherdeck_core::domain::{GiftRequest, OperatorNote};
use voucherdeck_core::ports::BackendError;
use voucherdeck_pipeline::{
    DLQ_HOLD, DlqFilter, DlqMessage, DlqSession, GiftError, Pipeline, RedriveHandle, RedriveRequest,
};

use super::super::msg::Msg;

/// The browser's session, if one is open.
#[derive(Debug, Clone, Default)]
pub(super) struct DlqWork {
    session: Arc<Mutex<Option<DlqSession>>>,
}

/// Runs `work` as a task and sends the message it ends with.
fn answer(tx: &mpsc::Sender<Msg>, work: impl Future<Output = Msg> + Send + 'static) {
    let tx = tx.clone();
    tokio::spawn(async move {
        let _ = tx.send(work.await).await;
    });
}

/// Progress of a long load, to the dashboard (dropped when the channel is busy: the next one comes).
fn progress(
    tx: &mpsc::Sender<Msg>,
) -> impl FnMut(voucherdeck_pipeline::DlqProgress) + Send + use<> {
    let tx = tx.clone();
    move |p| {
        let _ = tx.try_send(Msg::DlqProgress(p.loaded));
    }
}

fn closed() -> String {
    "the DLQ browser's session is closed: refresh it".into()
}

impl DlqWork {
    /// A keeper that extends the session's hold until `cancel` fires.
    pub(super) fn new(cancel: CancellationToken) -> DlqWork {
        let work = DlqWork::default();
        let session = work.session.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(DLQ_HOLD / 4) => {}
                }
                if let Some(s) = session.lock().await.as_mut() {
                    s.keep_alive().await;
                }
            }
        });
        work
    }

    /// A new session (the old one released) and its first `limit` messages.
    pub(super) fn peek(&self, p: &Pipeline, tx: &mpsc::Sender<Msg>, limit: usize) {
        let (p, slot) = (p.clone(), self.session.clone());
        answer(tx, async move {
            let mut slot = slot.lock().await;
            if let Some(mut old) = slot.take() {
                old.release().await;
            }
            let result = async {
                let mut s = p.open_dlq_session().await?;
                let first = s.load(limit, &mut |_| {}).await;
                *slot = Some(s);
                first
            }
            .await;
            Msg::DlqPeeked(result.map_err(|e| e.to_string()))
        });
    }

    /// `more` further messages (`None`: all), with progress.
    pub(super) fn load(&self, tx: &mpsc::Sender<Msg>, more: Option<usize>) {
        let (slot, mut report) = (self.session.clone(), progress(tx));
        answer(tx, async move {
            let mut slot = slot.lock().await;
            let Some(s) = slot.as_mut() else {
                return Msg::DlqMore {
                    result: Err(closed()),
                    exhausted: false,
                };
            };
            let result = s.load(more.unwrap_or(usize::MAX), &mut report).await;
            Msg::DlqMore {
                result: result.map_err(|e| e.to_string()),
                exhausted: s.exhausted(),
            }
        });
    }

    /// Starts a redrive and lets the session go: chosen messages are redriven with its receipts
    /// (not received again), the rest is released (the other scopes read the whole DLQ).
    pub(super) async fn start_redrive(&self, p: &Pipeline, req: RedriveRequest) -> RedriveHandle {
        let taken = self.session.lock().await.take();
        match taken {
            Some(mut s) => {
                let handle = s.start_redrive(req).await;
                s.release().await;
                handle
            }
            None => p.start_redrive(req),
        }
    }

    /// Makes what the session holds visible again (then `then` runs, e.g. a redrive).
    pub(super) async fn release(&self) {
        if let Some(mut s) = self.session.lock().await.take() {
            s.release().await;
        }
    }

    /// Deletes with the session's receipts (any page); without a session, walks the DLQ.
    pub(super) fn delete(
        &self,
        p: &Pipeline,
        tx: &mpsc::Sender<Msg>,
        ids: Vec<String>,
        note: Option<OperatorNote>,
    ) {
        let (p, slot) = (p.clone(), self.session.clone());
        answer(tx, async move {
            let mut slot = slot.lock().await;
            let result = match slot.as_mut() {
                Some(s) => s.delete(&ids, note.as_ref()).await,
                None => p.delete_dlq(&ids, note.as_ref()).await,
            };
            tracing::info!(requested = ids.len(), ?result, "DLQ delete");
            Msg::DlqDeleted {
                ids,
                result: result.map_err(|e| e.to_string()),
            }
        });
    }

    pub(super) fn resend(
        &self,
        tx: &mpsc::Sender<Msg>,
        message_id: String,
        gift: GiftRequest,
        note: Option<OperatorNote>,
    ) {
        let slot = self.session.clone();
        answer(tx, async move {
            let mut slot = slot.lock().await;
            let result = match slot.as_mut() {
                Some(s) => s.resend(&message_id, &gift, note.as_ref()).await,
                None => Err(GiftError::Backend(BackendError::Invalid(closed()))),
            };
            tracing::info!(%message_id, ok = result.is_ok(), "DLQ resend");
            Msg::Resent { message_id, result }
        });
    }

    /// Counts a filter over the whole DLQ: in the browser's session (loading the rest, so the list
    /// shows it), or in a session of its own. Each message is looked at as it is read.
    pub(super) fn count(&self, p: &Pipeline, tx: &mpsc::Sender<Msg>, filter: DlqFilter) {
        let (p, slot, out, mut report) =
            (p.clone(), self.session.clone(), tx.clone(), progress(tx));
        answer(tx, async move {
            let mut slot = slot.lock().await;
            let Some(s) = slot.as_mut() else {
                return Msg::DlqCounted(p.count_dlq(&filter).await.map_err(|e| e.to_string()));
            };
            // What is read again comes back as new: counted from here, it reaches the list.
            if filter.text.is_some() {
                s.reread_dropped().await;
            }
            let start = s.loaded();
            let count = s.count(&filter, &mut report).await;
            let _ = out
                .send(Msg::DlqMore {
                    result: Ok(s.messages_from(start)),
                    exhausted: s.exhausted(),
                })
                .await;
            Msg::DlqCounted(count.map_err(|e| e.to_string()))
        });
    }

    /// Writes every message to a new file `file_name` in `dir`: the ones loaded, then the rest as it
    /// is read (with progress), never collected.
    pub(super) fn export_all(&self, tx: &mpsc::Sender<Msg>, dir: PathBuf, file_name: String) {
        let (slot, out, mut report) = (self.session.clone(), tx.clone(), progress(tx));
        answer(tx, async move {
            let mut slot = slot.lock().await;
            let Some(s) = slot.as_mut() else {
                return Msg::Exported(Err(closed()));
            };
            let (path, file) = match create(&dir, &file_name) {
                Ok(created) => created,
                Err(e) => return Msg::Exported(Err(e.to_string())),
            };
            s.reread_dropped().await;
            let start = s.loaded();
            let mut writer = std::io::BufWriter::new(file);
            let exported = s.export(&mut writer, usize::MAX, &mut report).await;
            drop(writer);
            let _ = out
                .send(Msg::DlqMore {
                    result: Ok(s.messages_from(start)),
                    exhausted: s.exhausted(),
                })
                .await;
            Msg::Exported(
                exported
                    .map(|e| (path, e.written))
                    .map_err(|e| e.to_string()),
            )
        });
    }
}

/// Writes one JSON object per line to a new file in `dir` (see [`create`]); returns the path
/// written.
pub(super) fn export(
    dir: &Path,
    file_name: &str,
    entries: &[DlqMessage],
) -> std::io::Result<PathBuf> {
    let (path, file) = create(dir, file_name)?;
    let mut out = std::io::BufWriter::new(file);
    for e in entries {
        serde_json::to_writer(&mut out, e).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(path)
}

/// A new file `file_name` in `dir`, never overwriting: `-1`, `-2`… are added to the name when it
/// exists.
fn create(dir: &Path, file_name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    let (stem, ext) = file_name.rsplit_once('.').unwrap_or((file_name, "jsonl"));
    let mut attempt = 0u32;
    loop {
        let name = if attempt == 0 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{attempt}.{ext}")
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 99 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}
