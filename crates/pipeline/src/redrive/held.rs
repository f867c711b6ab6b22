//! Redriving chosen messages: the ones a DLQ session holds, with its receipts. No second receive
//! (it would raise each message's receive count again and could miss some): each is sent to its
//! destination, then deleted with the session's receipt; nothing is deleted before its copy was
//! accepted, and each message not moved is reported with why and made visible again.

use std::collections::HashSet;
use std::time::Instant;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::request::{
    RedriveFailure, RedriveProgress, RedriveRequest, RedriveScope, RedriveStatus,
};
use super::transfer::{copy_batch, pace};
use crate::dlq::resolver::Resolver;
use crate::dlq::walk::release;
use crate::services::Pipeline;
use voucherdeck_core::ports::{BackendError, QueueRef, ReceivedMessage, SQS_BATCH_MAX};

/// Default rate, messages per second (as a copy redrive).
const DEFAULT_RATE: u32 = 50;

/// Chosen messages and the receipts that hold them hidden in the DLQ.
#[derive(Debug)]
pub(super) struct Chosen {
    pub dlq: QueueRef,
    pub messages: Vec<ReceivedMessage>,
}

impl Chosen {
    /// Makes them visible again (what is not moved stays in the DLQ).
    pub(super) async fn release(self, p: &Pipeline) {
        release(
            p,
            &self.dlq,
            self.messages.iter().map(|m| m.receipt.as_str()),
        )
        .await;
    }
}

/// Finds the chosen messages with a session of its own (receiving the DLQ until all are held or
/// none is left) and releases the others.
pub(super) async fn gather(p: &Pipeline, ids: &[String]) -> Result<Chosen, BackendError> {
    // The chosen ones are kept whole; of the others, nothing past the budget.
    let mut session = p.open_dlq_session().await?.with_body_budget(0);
    for id in ids {
        session.keep_body_of(id);
    }
    let wanted: HashSet<&String> = ids.iter().collect();
    let mut found = 0;
    while found < wanted.len() && !session.exhausted() {
        let page = session.load(100, &mut |_| {}).await;
        match page {
            Ok(page) => {
                found += page
                    .iter()
                    .filter(|m| wanted.contains(&m.message_id))
                    .count();
            }
            Err(e) => {
                session.release().await;
                return Err(e);
            }
        }
    }
    let chosen = Chosen {
        dlq: session.queue().clone(),
        messages: session.take_held(ids),
    };
    session.release().await;
    Ok(chosen)
}

/// Sends each chosen message to its destination, then deletes it with its receipt; at a bounded
/// rate, with progress and cancel. Ids not held are reported as not found; what is not moved is
/// released.
pub(super) async fn copy_held(
    p: &Pipeline,
    req: &RedriveRequest,
    chosen: Chosen,
    destination: Option<QueueRef>,
    tx: &watch::Sender<RedriveProgress>,
    failures: &watch::Sender<Vec<RedriveFailure>>,
    cancel: &CancellationToken,
) {
    let ids: Vec<&String> = match &req.scope {
        RedriveScope::Ids(ids) => ids.iter().collect::<HashSet<_>>().into_iter().collect(),
        _ => Vec::new(),
    };
    let held: HashSet<&String> = chosen.messages.iter().map(|m| &m.message_id).collect();
    let mut failed: Vec<RedriveFailure> = ids
        .iter()
        .filter(|id| !held.contains(*id))
        .map(|id| RedriveFailure {
            message_id: (*id).clone(),
            reason: format!(
                "not found in {} (not loaded, or already gone)",
                chosen.dlq.name
            ),
        })
        .collect();
    let not_found = failed.len() as u64;
    tx.send_modify(|progress| {
        progress.total = Some(ids.len() as u64);
        progress.status = RedriveStatus::Running;
    });
    let Chosen { dlq, messages } = chosen;
    let mut resolver = Resolver::new(p, &dlq, destination);
    let run_id = Uuid::new_v4().simple().to_string();
    let rate = f64::from(req.rate.unwrap_or(DEFAULT_RATE));
    let (started, mut moved) = (Instant::now(), 0);
    let mut stay: Vec<ReceivedMessage> = Vec::new();
    let mut pending = messages.into_iter().peekable();
    let step = (rate.ceil() as usize).clamp(1, SQS_BATCH_MAX);
    let mut status = RedriveStatus::Completed;
    while pending.peek().is_some() {
        if cancel.is_cancelled() || !pace(moved, rate, started, cancel).await {
            status = RedriveStatus::Cancelled;
            break;
        }
        let mut by_dest: Vec<(QueueRef, Vec<ReceivedMessage>)> = Vec::new();
        for m in pending.by_ref().take(step) {
            match resolver.destination(&m).await {
                Ok(q) => match by_dest.iter_mut().find(|(d, _)| *d == q) {
                    Some((_, v)) => v.push(m),
                    None => by_dest.push((q, vec![m])),
                },
                Err(e) => {
                    failed.push(RedriveFailure {
                        message_id: m.message_id.clone(),
                        reason: e.to_string(),
                    });
                    stay.push(m);
                }
            }
        }
        for (dest, msgs) in by_dest {
            let (ok, bad) = copy_batch(p, &dlq, &dest, msgs, &run_id).await;
            moved += ok;
            for (m, reason) in bad {
                failed.push(RedriveFailure {
                    message_id: m.message_id.clone(),
                    reason,
                });
                stay.push(m);
            }
        }
        let failed_count = failed.len() as u64 - not_found;
        tx.send_modify(|progress| {
            progress.moved = moved;
            progress.failed = failed_count;
        });
    }
    stay.extend(pending);
    for f in &failed {
        tracing::warn!(message_id = %f.message_id, reason = %f.reason, "not redriven; it stays in the DLQ");
    }
    failures.send_replace(failed);
    release(p, &dlq, stay.iter().map(|m| m.receipt.as_str())).await;
    tx.send_modify(|progress| progress.status = status);
}
