//! Starting a redrive, following it, and the handle to cancel it or wait for it.

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::copy;
use super::held::{Chosen, copy_held, gather};
use super::native;
use super::request::{
    RedriveFailure, RedriveMethod, RedriveProgress, RedriveRequest, RedriveScope, RedriveStatus,
};
use crate::dlq::resolver::dead_letter_sources;
use crate::services::Pipeline;
use voucherdeck_core::domain::limits::check_redrive_rate;
use voucherdeck_core::domain::{AuditAction, AuditOutcome, redact};
use voucherdeck_core::ports::{BackendError, QueueRef};

/// A running redrive.
#[derive(Debug)]
pub struct RedriveHandle {
    pub progress: watch::Receiver<RedriveProgress>,
    /// Each chosen message not moved (it stays in the DLQ) and why; filled as the redrive ends.
    pub failures: watch::Receiver<Vec<RedriveFailure>>,
    cancel: CancellationToken,
    /// The redrive's task: it writes the closing audit entry after the last progress.
    task: Option<JoinHandle<()>>,
}

impl RedriveHandle {
    /// Asks the redrive to stop; moves already made stay.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits until the redrive has finished and its closing audit entry is written; returns the
    /// last progress.
    pub async fn wait(mut self) -> RedriveProgress {
        self.settle().await;
        self.progress.borrow().clone()
    }

    /// Waits until the redrive's task has ended: finished, and its closing audit entry written.
    /// A process that exits once the progress says finished would otherwise lose that entry.
    pub async fn settle(&mut self) {
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::warn!(error = %e, "the redrive task ended abnormally");
        }
    }
}

impl Pipeline {
    /// Starts a redrive in the background. Chosen messages (`RedriveScope::Ids`) are first found
    /// with a DLQ session (received once), then sent and deleted with its receipts; from the DLQ
    /// browser, [`crate::DlqSession::start_redrive`] uses the receipts it already holds.
    pub fn start_redrive(&self, req: RedriveRequest) -> RedriveHandle {
        self.spawn_redrive(req, None)
    }

    /// Starts a redrive in the background; `chosen`, when given, are the messages to move, already
    /// received (released if the redrive is refused).
    pub(super) fn spawn_redrive(
        &self,
        req: RedriveRequest,
        chosen: Option<Chosen>,
    ) -> RedriveHandle {
        let method = if req.scope == RedriveScope::All {
            RedriveMethod::Native
        } else {
            RedriveMethod::Copy
        };
        let (tx, rx) = watch::channel(RedriveProgress {
            method,
            moved: 0,
            total: None,
            failed: 0,
            status: RedriveStatus::Starting,
        });
        let (ftx, frx) = watch::channel(Vec::new());
        let cancel = CancellationToken::new();
        let this = self.clone();
        let token = cancel.clone();
        let task = tokio::spawn(async move {
            let target = this.backend().names.dlq.clone();
            let note = req.note.as_ref();
            let result = match this.guard_noted(AuditAction::Redrive, &target, note).await {
                Ok(()) => {
                    let started = this
                        .audit_entry(AuditAction::Redrive, &target, 0, AuditOutcome::Ok)
                        .await
                        .with_detail(format!("started: {}", describe(&req)))
                        .with_note(note);
                    this.audit(started).await;
                    run(&this, &req, chosen, (&tx, &ftx), &token).await
                }
                Err(e) => {
                    if let Some(c) = chosen {
                        c.release(&this).await;
                    }
                    Err(e)
                }
            };
            let refused = matches!(result, Err(BackendError::ReadOnly(_)));
            if let Err(e) = result {
                tx.send_modify(|progress| progress.status = RedriveStatus::Failed(e.to_string()));
            }
            if !refused {
                let last = tx.borrow().clone();
                let outcome = match last.status {
                    RedriveStatus::Failed(_) => AuditOutcome::Failed,
                    _ => AuditOutcome::Ok,
                };
                let finished = this
                    .audit_entry(AuditAction::Redrive, &target, last.moved, outcome)
                    .await
                    .with_detail(format!(
                        "{}: {last}{}",
                        describe(&req),
                        not_moved(&ftx.borrow())
                    ))
                    .with_note(note);
                this.audit(finished).await;
            }
        });
        RedriveHandle {
            progress: rx,
            failures: frx,
            cancel,
            task: Some(task),
        }
    }
}

/// A redrive request in words, for the audit log.
fn describe(req: &RedriveRequest) -> String {
    let scope = match &req.scope {
        RedriveScope::All => "all messages".to_string(),
        RedriveScope::Ids(ids) => format!("{} chosen message(s)", ids.len()),
        // The match text may quote a recipient: the audit log keeps it masked.
        RedriveScope::Match(text) => format!("messages containing {:?}", redact(text)),
        RedriveScope::Filter(f) => format!("messages where {}", redact(&f.describe())),
    };
    let to = req.destination.as_deref().unwrap_or("their source queue");
    format!("{scope} to {to}")
}

/// The messages not moved, for the audit log (the first ten by id).
fn not_moved(failures: &[RedriveFailure]) -> String {
    if failures.is_empty() {
        return String::new();
    }
    let ids: Vec<&str> = failures
        .iter()
        .take(10)
        .map(|f| f.message_id.as_str())
        .collect();
    let more = failures.len().saturating_sub(ids.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("; not moved: {}{more}", ids.join(", "))
}

/// Where progress and the messages not moved are reported.
type Reports<'a> = (
    &'a watch::Sender<RedriveProgress>,
    &'a watch::Sender<Vec<RedriveFailure>>,
);

/// Checks a redrive: its rate and destination; returns the DLQ and the destination.
async fn check(
    p: &Pipeline,
    req: &RedriveRequest,
) -> Result<(QueueRef, Option<QueueRef>), BackendError> {
    if let Some(r) = req.rate
        && let Err(rule) = check_redrive_rate(r)
    {
        return Err(BackendError::Invalid(format!("rate {rule}")));
    }
    let dlq = p.dlq().await?;
    let destination = match &req.destination {
        Some(name) if *name == dlq.name => {
            return Err(BackendError::Invalid(format!(
                "{name} is the DLQ itself; choose its source queue or another queue"
            )));
        }
        Some(name) => Some(p.open_queue(name).await?),
        None => None,
    };
    Ok((dlq, destination))
}

/// Runs a redrive: checks it; moves chosen messages with their receipts (found first when not
/// given); follows a native move task for `All` where the backend has one (always with an explicit
/// destination); else copies over the whole DLQ.
async fn run(
    p: &Pipeline,
    req: &RedriveRequest,
    chosen: Option<Chosen>,
    (tx, failures): Reports<'_>,
    cancel: &CancellationToken,
) -> Result<(), BackendError> {
    let (dlq, destination) = match check(p, req).await {
        Ok(checked) => checked,
        Err(e) => {
            if let Some(c) = chosen {
                c.release(p).await;
            }
            return Err(e);
        }
    };
    if let RedriveScope::Ids(ids) = &req.scope {
        let chosen = match chosen {
            Some(c) => c,
            None => gather(p, ids).await?,
        };
        copy_held(p, req, chosen, destination, tx, failures, cancel).await;
        return Ok(());
    }
    if let Some(c) = chosen {
        c.release(p).await;
    }
    if req.scope == RedriveScope::All {
        // Messages the consumer dead-lettered itself carry no SQS-recorded source, so the native
        // task is always given its destination: the one source queue (the configured queue where
        // the endpoint cannot list them); several sources, or none, are copied message by message.
        let native_to = match &destination {
            Some(d) => Some(d.clone()),
            None => match dead_letter_sources(p, &dlq).await?.as_deref() {
                Some([one]) => Some(one.clone()),
                None => Some(p.queue().await?),
                Some(_) => None,
            },
        };
        if let Some(to) = &native_to {
            match p
                .backend()
                .queue
                .start_move_task(&dlq, Some(to), req.rate)
                .await
            {
                Ok(handle) => return native::follow(p, &dlq, &handle, tx, cancel).await,
                Err(BackendError::Unsupported(why)) => {
                    p.say_once(
                        "StartMessageMoveTask",
                        &format!(
                            "no native message-move task here ({why}); redrive copies message by message"
                        ),
                    );
                }
                Err(e) => return Err(e),
            }
        }
        tx.send_modify(|progress| progress.method = RedriveMethod::Copy);
    }
    copy::copy(p, &dlq, req, destination, tx, failures, cancel).await
}
