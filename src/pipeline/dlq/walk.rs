//! The walk through a queue that peeking, deleting chosen DLQ messages and copy redrives share:
//! receive with a short visibility until everything was seen, then release what was held.

use std::collections::HashMap;
use std::time::Duration;

use crate::pipeline::services::Pipeline;
use crate::ports::{
    QueueRef, ReceiveRequest, ReceivedMessage, Result, SQS_BATCH_MAX, VisibilityChange,
};

/// How long peeked messages stay hidden while a peek or walk runs (released at once after).
pub const PEEK_VISIBILITY: Duration = Duration::from_secs(30);
/// Longest a walk through a queue receives, so that held messages never reappear during it.
const WALK_BUDGET: Duration = Duration::from_secs(20);

/// Receives through a queue until it is empty, `limit` messages are gathered, or `WALK_BUDGET`
/// has passed (well inside the visibility timeout, so nothing held reappears mid-walk). Messages
/// for which `take` is true are returned in the second list, the others in the first; both stay
/// hidden: release them with `release`. A message delivered twice keeps its newest receipt.
pub(in crate::pipeline) async fn walk(
    p: &Pipeline,
    queue: &QueueRef,
    limit: usize,
    take: impl Fn(&ReceivedMessage) -> bool,
) -> Result<(Vec<ReceivedMessage>, Vec<ReceivedMessage>)> {
    let started = std::time::Instant::now();
    let mut seen: Vec<ReceivedMessage> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut empty_in_a_row = 0;
    while seen.len() < limit && empty_in_a_row < 2 && started.elapsed() < WALK_BUDGET {
        let req = ReceiveRequest {
            max: SQS_BATCH_MAX.min(limit - seen.len()),
            wait: Duration::from_millis(if empty_in_a_row == 0 { 0 } else { 1000 }),
            visibility: Some(PEEK_VISIBILITY),
        };
        let got = match p.backend().queue.receive(queue, req).await {
            Ok(g) => g,
            Err(e) => {
                release(p, queue, &seen).await;
                return Err(e);
            }
        };
        let mut fresh = 0;
        for m in got {
            if let Some(&i) = index.get(&m.message_id) {
                // Delivered again (at-least-once): only the newest receipt works.
                seen[i] = m;
            } else {
                index.insert(m.message_id.clone(), seen.len());
                seen.push(m);
                fresh += 1;
            }
        }
        empty_in_a_row = if fresh == 0 { empty_in_a_row + 1 } else { 0 };
    }
    Ok(seen.into_iter().partition(|m| !take(m)))
}

/// Makes held messages visible again at once.
pub(in crate::pipeline) async fn release(p: &Pipeline, queue: &QueueRef, msgs: &[ReceivedMessage]) {
    for chunk in msgs.chunks(SQS_BATCH_MAX) {
        let changes: Vec<VisibilityChange> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| m.visibility_entry(i, Duration::ZERO))
            .collect();
        if let Err(e) = p
            .backend()
            .queue
            .change_visibility_batch(queue, &changes)
            .await
        {
            tracing::warn!(error = %e, "could not release peeked messages; they return after 30 s");
        }
    }
}
