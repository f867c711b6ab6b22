//! Redrive: move DLQ messages back to their source queue or to another queue. All of them go by the
//! native message-move task where the backend has one; chosen ones (by id or body filter), or all of
//! them on an endpoint without the API, are copied then deleted: never deleted before the send
//! succeeded, at a bounded rate, with progress and cancel. Duplicates are possible; losses are not.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::Pipeline;
use super::dlq::attributes::{self as attr, without_diagnosis};
use super::dlq::walk::{PEEK_VISIBILITY, release};
use crate::domain::Timestamp;
use crate::ports::{
    BackendError, MoveTaskStatus, OutgoingMessage, QueueRef, Receipt, ReceiveRequest,
    ReceivedMessage, SQS_BATCH_MAX,
};

/// Default copy rate, messages per second.
pub const DEFAULT_RATE: u32 = 50;

/// Which DLQ messages to move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedriveScope {
    All,
    Ids(Vec<String>),
    /// Messages whose body contains this text.
    Match(String),
}

impl RedriveScope {
    fn includes(&self, m: &ReceivedMessage) -> bool {
        match self {
            RedriveScope::All => true,
            RedriveScope::Ids(ids) => ids.contains(&m.message_id),
            RedriveScope::Match(text) => m.body.contains(text.as_str()),
        }
    }
}

/// A redrive to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveRequest {
    pub scope: RedriveScope,
    /// A queue name; `None` sends each message back to the queue it came from.
    pub destination: Option<String>,
    /// Messages per second (1..=500).
    pub rate: Option<u32>,
}

/// How the messages are being moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedriveMethod {
    /// The service's own message-move task.
    Native,
    /// Receive, send to the destination, then delete from the DLQ.
    Copy,
}

/// Where a redrive stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum RedriveStatus {
    Starting,
    Running,
    Completed,
    Cancelled,
    Failed(String),
}

impl RedriveStatus {
    pub const fn is_finished(&self) -> bool {
        matches!(
            self,
            RedriveStatus::Completed | RedriveStatus::Cancelled | RedriveStatus::Failed(_)
        )
    }
}

/// Progress of a redrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedriveProgress {
    pub method: RedriveMethod,
    pub moved: u64,
    /// How many it set out to move, where known.
    pub total: Option<u64>,
    /// Messages that could not be moved (left in the DLQ).
    pub failed: u64,
    pub status: RedriveStatus,
}

impl fmt::Display for RedriveProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self
            .total
            .map_or_else(|| "?".to_string(), |t| t.to_string());
        write!(f, "moved {}/{total}", self.moved)?;
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
        }
        match &self.status {
            RedriveStatus::Failed(why) => write!(f, " — failed: {why}"),
            s => write!(f, " — {}", format!("{s:?}").to_lowercase()),
        }
    }
}

/// A running redrive.
#[derive(Debug)]
pub struct RedriveHandle {
    pub progress: watch::Receiver<RedriveProgress>,
    cancel: CancellationToken,
}

impl RedriveHandle {
    /// Asks the redrive to stop; moves already made stay.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits until the redrive has finished; returns the last progress.
    pub async fn wait(mut self) -> RedriveProgress {
        loop {
            if self.progress.borrow().status.is_finished() {
                return self.progress.borrow().clone();
            }
            if self.progress.changed().await.is_err() {
                return self.progress.borrow().clone();
            }
        }
    }
}

impl Pipeline {
    /// Starts a redrive in the background.
    pub fn start_redrive(&self, req: RedriveRequest) -> RedriveHandle {
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
        let cancel = CancellationToken::new();
        let this = self.clone();
        let token = cancel.clone();
        tokio::spawn(async move {
            let result = this.run_redrive(&req, &tx, &token).await;
            if let Err(e) = result {
                tx.send_modify(|p| p.status = RedriveStatus::Failed(e.to_string()));
            }
        });
        RedriveHandle {
            progress: rx,
            cancel,
        }
    }

    async fn run_redrive(
        &self,
        req: &RedriveRequest,
        tx: &watch::Sender<RedriveProgress>,
        cancel: &CancellationToken,
    ) -> Result<(), BackendError> {
        if let Some(r) = req.rate
            && (r == 0 || r > 500)
        {
            return Err(BackendError::Invalid(
                "rate must be 1 to 500 messages per second".into(),
            ));
        }
        let dlq = self.dlq().await?;
        let destination = match &req.destination {
            Some(name) if *name == dlq.name => {
                return Err(BackendError::Invalid(format!(
                    "{name} is the DLQ itself; choose its source queue or another queue"
                )));
            }
            Some(name) => Some(self.open_queue(name).await?),
            None => None,
        };
        if req.scope == RedriveScope::All {
            // Messages the consumer dead-lettered itself carry no SQS-recorded source, so the native
            // task is always given its destination: the one source queue, or copying when several.
            let native_to = match &destination {
                Some(d) => Some(d.clone()),
                None => match self
                    .backend()
                    .queue
                    .dead_letter_sources(&dlq)
                    .await?
                    .as_slice()
                {
                    [one] => Some(one.clone()),
                    _ => None,
                },
            };
            let started = match &native_to {
                Some(to) => {
                    self.backend()
                        .queue
                        .start_move_task(&dlq, Some(to), req.rate)
                        .await
                }
                None => Err(BackendError::Unsupported(
                    "several source queues; copying by message".into(),
                )),
            };
            match started {
                Ok(handle) => return self.follow_native(&dlq, &handle, tx, cancel).await,
                Err(BackendError::Unsupported(why)) => {
                    tracing::info!(%why, "no native message-move task here; copying instead");
                    tx.send_modify(|p| p.method = RedriveMethod::Copy);
                }
                Err(e) => return Err(e),
            }
        }
        self.copy_redrive(&dlq, req, destination, tx, cancel).await
    }

    async fn follow_native(
        &self,
        dlq: &QueueRef,
        handle: &str,
        tx: &watch::Sender<RedriveProgress>,
        cancel: &CancellationToken,
    ) -> Result<(), BackendError> {
        tx.send_modify(|p| p.status = RedriveStatus::Running);
        let mut cancel_sent = false;
        let mut list_errors = 0;
        loop {
            tokio::select! {
                () = cancel.cancelled(), if !cancel_sent => {
                    cancel_sent = true;
                    if let Err(e) = self.backend().queue.cancel_move_task(handle).await {
                        tracing::warn!(error = %e, "cancel of the move task failed (it may have finished)");
                    }
                }
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            let tasks = match self.backend().queue.list_move_tasks(dlq).await {
                Ok(t) => {
                    list_errors = 0;
                    t
                }
                // The task runs in the service whatever happens here: a passing error is retried.
                Err(e) if e.is_retryable() && list_errors < 10 => {
                    list_errors += 1;
                    tracing::warn!(error = %e, "could not read the move task's progress; retrying");
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(task) = tasks.into_iter().find(|t| t.handle == handle) else {
                return Err(BackendError::NotFound(
                    "the move task is no longer listed".into(),
                ));
            };
            let status = match task.status {
                MoveTaskStatus::Running | MoveTaskStatus::Cancelling => RedriveStatus::Running,
                MoveTaskStatus::Completed => RedriveStatus::Completed,
                MoveTaskStatus::Cancelled => RedriveStatus::Cancelled,
                MoveTaskStatus::Failed => RedriveStatus::Failed(
                    task.failure_reason
                        .clone()
                        .unwrap_or_else(|| "move task failed".into()),
                ),
            };
            let done = status.is_finished();
            tx.send_modify(|p| {
                p.moved = task.moved;
                p.total = task.to_move;
                p.status = status;
            });
            if done {
                return Ok(());
            }
        }
    }

    async fn copy_redrive(
        &self,
        dlq: &QueueRef,
        req: &RedriveRequest,
        destination: Option<QueueRef>,
        tx: &watch::Sender<RedriveProgress>,
        cancel: &CancellationToken,
    ) -> Result<(), BackendError> {
        let total = match &req.scope {
            RedriveScope::Ids(ids) => Some(ids.iter().collect::<HashSet<_>>().len() as u64),
            RedriveScope::All => Some(self.backend().queue.stats(dlq).await?.visible),
            RedriveScope::Match(_) => None,
        };
        tx.send_modify(|p| {
            p.total = total;
            p.status = RedriveStatus::Running;
        });
        let cutoff = Timestamp::now();
        let rate = f64::from(req.rate.unwrap_or(DEFAULT_RATE));
        let started = Instant::now();
        let mut resolver = Resolver {
            pipeline: self,
            dlq,
            fixed: destination,
            cache: HashMap::new(),
            sources: None,
        };
        let mut seen: HashSet<String> = HashSet::new();
        // Out of scope (or not movable): hidden until the end, newest receipt kept per message.
        let mut held: HashMap<String, ReceivedMessage> = HashMap::new();
        let (mut moved, mut failed) = (0u64, 0u64);
        let mut empty_in_a_row = 0;
        let outcome = loop {
            if cancel.is_cancelled() {
                break RedriveStatus::Cancelled;
            }
            if total.is_some_and(|t| moved + failed >= t) && !matches!(req.scope, RedriveScope::All)
            {
                break RedriveStatus::Completed;
            }
            if empty_in_a_row >= 2 {
                break RedriveStatus::Completed;
            }
            // Stay within the rate: never ahead of `rate` messages per elapsed second.
            let ahead =
                Duration::from_secs_f64(moved as f64 / rate).saturating_sub(started.elapsed());
            if !ahead.is_zero() {
                tokio::select! {
                    () = cancel.cancelled() => continue,
                    () = tokio::time::sleep(ahead) => {}
                }
            }
            let max = (rate.ceil() as usize).clamp(1, SQS_BATCH_MAX);
            let wait = Duration::from_millis(if empty_in_a_row == 0 { 0 } else { 1000 });
            let got = self
                .backend()
                .queue
                .receive(
                    dlq,
                    ReceiveRequest {
                        max,
                        wait,
                        visibility: Some(PEEK_VISIBILITY),
                    },
                )
                .await;
            let got = match got {
                Ok(g) => g,
                Err(e) => {
                    release(self, dlq, &held.into_values().collect::<Vec<_>>()).await;
                    return Err(e);
                }
            };
            // Only messages not seen before count as progress: held ones that reappear (a long,
            // rate-limited run outlasts their visibility) must not keep the walk going forever.
            let fresh = got.iter().filter(|m| !seen.contains(&m.message_id)).count();
            empty_in_a_row = if fresh == 0 { empty_in_a_row + 1 } else { 0 };
            let mut batch: HashMap<QueueRef, Vec<ReceivedMessage>> = HashMap::new();
            for m in got {
                // Like the native task, move only what was in the DLQ when the redrive began:
                // a redriven message that fails again comes back as a new message, and moving it
                // again would loop for as long as a worker runs.
                let arrived_since = m.sent_at.is_some_and(|t| t > cutoff);
                if !seen.insert(m.message_id.clone()) || !req.scope.includes(&m) || arrived_since {
                    held.insert(m.message_id.clone(), m);
                    continue;
                }
                match resolver.destination(&m).await {
                    Ok(q) => batch.entry(q).or_default().push(m),
                    Err(e) => {
                        tracing::warn!(message_id = %m.message_id, error = %e, "cannot redrive message");
                        failed += 1;
                        held.insert(m.message_id.clone(), m);
                    }
                }
            }
            for (dest, msgs) in batch {
                let (ok, bad) = self.copy_batch(dlq, &dest, msgs).await;
                moved += ok;
                failed += bad.len() as u64;
                held.extend(bad.into_iter().map(|m| (m.message_id.clone(), m)));
            }
            tx.send_modify(|p| {
                p.moved = moved;
                p.failed = failed;
            });
        };
        release(self, dlq, &held.into_values().collect::<Vec<_>>()).await;
        tx.send_modify(|p| {
            p.moved = moved;
            p.failed = failed;
            p.status = outcome;
        });
        Ok(())
    }

    /// Sends to the destination, then deletes from the DLQ only what was sent. Returns how many moved
    /// and the messages that stay in the DLQ.
    async fn copy_batch(
        &self,
        dlq: &QueueRef,
        dest: &QueueRef,
        msgs: Vec<ReceivedMessage>,
    ) -> (u64, Vec<ReceivedMessage>) {
        let entries: Vec<OutgoingMessage> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| OutgoingMessage {
                id: i.to_string(),
                body: m.body.clone(),
                // The failure diagnosis belongs to the DLQ copy; a fresh attempt starts clean.
                attributes: without_diagnosis(&m.attributes),
                delay: None,
            })
            .collect();
        let sent: HashSet<usize> = match self.backend().queue.send_batch(dest, &entries).await {
            Ok(out) => out
                .succeeded
                .iter()
                .filter_map(|id| id.parse().ok())
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, queue = %dest.name, "redrive send failed; messages stay in the DLQ");
                HashSet::new()
            }
        };
        let (to_delete, stay): (Indexed, Indexed) = msgs
            .into_iter()
            .enumerate()
            .partition(|(i, _)| sent.contains(i));
        if !to_delete.is_empty() {
            let receipts: Vec<Receipt> =
                to_delete.iter().map(|(i, m)| m.receipt_entry(*i)).collect();
            if let Err(e) = self.backend().queue.delete_batch(dlq, &receipts).await {
                // Sent but not deleted: the copy exists; the DLQ copy comes back (a duplicate, not a loss).
                tracing::warn!(error = %e, "redriven messages not deleted from the DLQ");
            }
        }
        (
            to_delete.len() as u64,
            stay.into_iter().map(|(_, m)| m).collect(),
        )
    }
}

type Indexed = Vec<(usize, ReceivedMessage)>;

/// Finds where a DLQ message goes back to.
struct Resolver<'a> {
    pipeline: &'a Pipeline,
    dlq: &'a QueueRef,
    fixed: Option<QueueRef>,
    cache: HashMap<String, QueueRef>,
    /// The DLQ's source queues, asked once per redrive (only if a message lacks its source).
    sources: Option<Vec<QueueRef>>,
}

impl Resolver<'_> {
    async fn destination(&mut self, m: &ReceivedMessage) -> Result<QueueRef, BackendError> {
        if let Some(q) = &self.fixed {
            return Ok(q.clone());
        }
        let name = if let Some(n) = m.attributes.get(attr::SOURCE_QUEUE) {
            n.clone()
        } else {
            if self.sources.is_none() {
                let listed = self
                    .pipeline
                    .backend()
                    .queue
                    .dead_letter_sources(self.dlq)
                    .await?;
                self.sources = Some(listed);
            }
            match self.sources.as_deref().unwrap_or_default() {
                [one] => one.name.clone(),
                [] => {
                    return Err(BackendError::Invalid(
                        "no queue names this DLQ; give a destination".into(),
                    ));
                }
                _ => {
                    return Err(BackendError::Invalid(
                        "several queues use this DLQ and the message does not say which; give a destination".into(),
                    ));
                }
            }
        };
        if let Some(q) = self.cache.get(&name) {
            return Ok(q.clone());
        }
        let q = self.pipeline.open_queue(&name).await?;
        self.cache.insert(name, q.clone());
        Ok(q)
    }
}
