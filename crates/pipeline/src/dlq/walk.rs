//! The walk through a queue that peeking, deleting chosen DLQ messages and copy redrives share:
//! receive with a short visibility until everything was seen, then release what was held.

use std::collections::HashMap;
use std::time::Duration;

use crate::services::Pipeline;
use voucherdeck_core::ports::{
    QueueRef, Receipt, ReceiveRequest, ReceivedMessage, Result, SQS_BATCH_MAX, VisibilityChange,
};

/// How long peeked messages stay hidden while a peek or walk runs (released at once after).
pub const PEEK_VISIBILITY: Duration = Duration::from_secs(30);
/// Longest a walk through a queue receives, so that held messages never reappear during it.
const WALK_BUDGET: Duration = Duration::from_secs(20);

/// Most bytes of message bodies one walk keeps (a DLQ of large messages cannot fill memory).
const WALK_BODY_BUDGET: usize = 32 * 1024 * 1024;

/// A message a walk holds hidden but did not keep: what releasing it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    pub message_id: String,
    pub receipt: String,
}

/// What a walk found: the messages it was asked to take (whole), and the others (their receipts
/// only). Both stay hidden until released.
#[derive(Debug, Default)]
pub(crate) struct Walked {
    pub chosen: Vec<ReceivedMessage>,
    pub others: Vec<Held>,
    /// Where each message id is kept: (chosen, index).
    index: HashMap<String, (bool, usize)>,
}

impl Walked {
    /// Every receipt the walk holds.
    pub(crate) fn receipts(&self) -> impl Iterator<Item = &str> {
        self.chosen
            .iter()
            .map(|m| m.receipt.as_str())
            .chain(self.others.iter().map(|h| h.receipt.as_str()))
    }

    /// Keeps a message received (again): the newest receipt wins. Returns whether it is new.
    fn keep(&mut self, m: ReceivedMessage, take: bool) -> bool {
        match self.index.get(&m.message_id) {
            Some(&(true, i)) => self.chosen[i] = m,
            Some(&(false, i)) => self.others[i].receipt = m.receipt,
            None if take => {
                self.index
                    .insert(m.message_id.clone(), (true, self.chosen.len()));
                self.chosen.push(m);
                return true;
            }
            None => {
                self.index
                    .insert(m.message_id.clone(), (false, self.others.len()));
                self.others.push(Held {
                    message_id: m.message_id,
                    receipt: m.receipt,
                });
                return true;
            }
        }
        false
    }

    fn len(&self) -> usize {
        self.chosen.len() + self.others.len()
    }
}

/// Receives through a queue until it is empty, `limit` messages are gathered, 32 MiB of bodies are
/// kept, or `WALK_BUDGET` has passed (well inside the visibility timeout, so nothing held reappears
/// mid-walk). Messages for which `take` is true are kept whole, the others as receipts; all stay
/// hidden: release them with `release`. A message delivered twice keeps its newest receipt.
pub(crate) async fn walk(
    p: &Pipeline,
    queue: &QueueRef,
    limit: usize,
    take: impl Fn(&ReceivedMessage) -> bool,
) -> Result<Walked> {
    let started = std::time::Instant::now();
    let mut walked = Walked::default();
    let mut body_bytes = 0;
    let mut empty_in_a_row = 0;
    while walked.len() < limit
        && empty_in_a_row < 2
        && body_bytes < WALK_BODY_BUDGET
        && started.elapsed() < WALK_BUDGET
    {
        let req = ReceiveRequest {
            max: SQS_BATCH_MAX.min(limit - walked.len()),
            wait: Duration::from_millis(if empty_in_a_row == 0 { 0 } else { 1000 }),
            visibility: Some(PEEK_VISIBILITY),
        };
        let got = match p.backend().queue.receive(queue, req).await {
            Ok(g) => g,
            Err(e) => {
                release(p, queue, walked.receipts()).await;
                return Err(e);
            }
        };
        let mut fresh = 0;
        for m in got {
            let chosen = take(&m);
            let size = m.body.len();
            if walked.keep(m, chosen) {
                fresh += 1;
                if chosen {
                    body_bytes += size;
                }
            }
        }
        empty_in_a_row = if fresh == 0 { empty_in_a_row + 1 } else { 0 };
    }
    Ok(walked)
}

/// Makes held messages visible again at once.
pub(crate) async fn release<'a>(
    p: &Pipeline,
    queue: &QueueRef,
    receipts: impl IntoIterator<Item = &'a str>,
) {
    let receipts: Vec<&str> = receipts.into_iter().collect();
    for chunk in receipts.chunks(SQS_BATCH_MAX) {
        let changes: Vec<VisibilityChange> = chunk
            .iter()
            .enumerate()
            .map(|(i, handle)| VisibilityChange {
                id: i.to_string(),
                handle: (*handle).to_string(),
                timeout: Duration::ZERO,
            })
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

/// Deletes these received messages with their receipts, 10 a call; returns the ids deleted (an
/// error stops it).
pub(crate) async fn delete_messages(
    p: &Pipeline,
    queue: &QueueRef,
    msgs: &[ReceivedMessage],
) -> Result<Vec<String>> {
    let mut deleted = Vec::new();
    for chunk in msgs.chunks(SQS_BATCH_MAX) {
        let receipts: Vec<Receipt> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| m.receipt_entry(i))
            .collect();
        let out = p.backend().queue.delete_batch(queue, &receipts).await?;
        deleted.extend(
            out.succeeded
                .iter()
                .filter_map(|i| i.parse::<usize>().ok())
                .filter_map(|i| chunk.get(i).map(|m| m.message_id.clone())),
        );
    }
    Ok(deleted)
}
