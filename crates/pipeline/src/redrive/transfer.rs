//! Moving received DLQ messages: send each to its destination, then delete from the DLQ only what
//! the send accepted, with its receipt; and pacing at a bounded rate. What stays in the DLQ is
//! returned with why.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::dlq::attributes::{REDRIVE_RUN, without_diagnosis};
use crate::dlq::letters::pack;
use crate::ordering::{copy_dedup, group_again};
use crate::services::Pipeline;
use voucherdeck_core::domain::limits::{MESSAGE_ATTRIBUTES_MAX, MESSAGE_SIZE_MAX};
use voucherdeck_core::ports::{OutgoingMessage, QueueRef, Receipt, ReceivedMessage, SQS_BATCH_MAX};

/// A message that stays in the DLQ, and why.
pub(super) type Stay = (ReceivedMessage, String);

/// Waits until moving one more keeps within `rate` messages per second since `started`. False when
/// cancelled while waiting.
pub(super) async fn pace(
    moved: u64,
    rate: f64,
    started: Instant,
    cancel: &CancellationToken,
) -> bool {
    let ahead = Duration::from_secs_f64(moved as f64 / rate).saturating_sub(started.elapsed());
    if ahead.is_zero() {
        return true;
    }
    tokio::select! {
        () = cancel.cancelled() => false,
        () = tokio::time::sleep(ahead) => true,
    }
}

/// Sends to the destination, then deletes from the DLQ only what was sent. Returns how many moved
/// (sent and deleted) and the messages that stay in the DLQ, with why: not sent, or sent but not
/// deleted (the destination then has a copy, and moving it again would make a duplicate, not a
/// loss).
pub(super) async fn copy_batch(
    p: &Pipeline,
    dlq: &QueueRef,
    dest: &QueueRef,
    msgs: Vec<ReceivedMessage>,
    run_id: &str,
) -> (u64, Vec<Stay>) {
    let entries: Vec<OutgoingMessage> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| {
            // The failure diagnosis belongs to the DLQ copy; a fresh attempt starts clean.
            let mut attributes = without_diagnosis(&m.attributes);
            if attributes.len() < MESSAGE_ATTRIBUTES_MAX {
                attributes.insert(REDRIVE_RUN.to_string(), run_id.to_string());
            }
            OutgoingMessage {
                id: i.to_string(),
                body: m.body.clone(),
                attributes,
                delay: None,
                group: Some(group_again(m)),
                dedup: Some(copy_dedup(m)),
            }
        })
        .collect();
    let (batches, too_large) = pack(entries, MESSAGE_SIZE_MAX);
    let mut why: HashMap<usize, String> = HashMap::new();
    for m in &too_large {
        tracing::warn!(entry = %m.id, queue = %dest.name, "message too large to redrive; it stays in the DLQ");
        if let Ok(i) = m.id.parse::<usize>() {
            why.insert(i, format!("too large to send to {}", dest.name));
        }
    }
    let mut sent: HashSet<usize> = HashSet::new();
    for entries in batches {
        match p.backend().queue.send_batch(dest, &entries).await {
            Ok(out) => {
                sent.extend(
                    out.succeeded
                        .iter()
                        .filter_map(|id| id.parse::<usize>().ok()),
                );
                for f in &out.failed {
                    if let Ok(i) = f.id.parse::<usize>() {
                        why.insert(
                            i,
                            format!("{} refused the send ({}: {})", dest.name, f.code, f.message),
                        );
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, queue = %dest.name, "redrive send failed; messages stay in the DLQ");
                for o in &entries {
                    if let Ok(i) = o.id.parse::<usize>() {
                        why.insert(i, format!("the send to {} failed: {e}", dest.name));
                    }
                }
            }
        }
    }
    let receipts: Vec<Receipt> = msgs
        .iter()
        .enumerate()
        .filter(|(i, _)| sent.contains(i))
        .map(|(i, m)| m.receipt_entry(i))
        .collect();
    let deleted = delete_sent(p, dlq, &receipts, &mut why).await;
    let moved = deleted.len() as u64;
    let stay = msgs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !deleted.contains(i))
        .map(|(i, m)| {
            let reason = why
                .remove(&i)
                .unwrap_or_else(|| format!("{} did not confirm the send", dest.name));
            (m, reason)
        })
        .collect();
    (moved, stay)
}

/// Deletes sent messages from the DLQ; returns the entries deleted, and says in `why` why others
/// were not. A message sent but not deleted stays in the DLQ and is not counted as moved.
async fn delete_sent(
    p: &Pipeline,
    dlq: &QueueRef,
    receipts: &[Receipt],
    why: &mut HashMap<usize, String>,
) -> HashSet<usize> {
    const KEPT: &str = "copied, but not deleted from the DLQ (moving it again makes a duplicate)";
    let mut deleted = HashSet::new();
    for chunk in receipts.chunks(SQS_BATCH_MAX) {
        match p.backend().queue.delete_batch(dlq, chunk).await {
            Ok(out) => {
                for f in &out.failed {
                    tracing::warn!(entry = %f.id, code = %f.code, "redriven message copied but not deleted from the DLQ; it stays there (moving it again makes a duplicate)");
                    if let Ok(i) = f.id.parse::<usize>() {
                        why.insert(i, format!("{KEPT}: {}", f.code));
                    }
                }
                deleted.extend(
                    out.succeeded
                        .iter()
                        .filter_map(|id| id.parse::<usize>().ok()),
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "redriven messages copied but not deleted from the DLQ; they stay there");
                for r in chunk {
                    if let Ok(i) = r.id.parse::<usize>() {
                        why.insert(i, format!("{KEPT}: {e}"));
                    }
                }
            }
        }
    }
    deleted
}
