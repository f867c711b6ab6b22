//! What a batch writes beside its vouchers, whoever handed it over (a worker's receive, a Lambda
//! event source mapping): its poison to the DLQ with the diagnosis, its failures to the shared
//! log and to each voucher's own row, and a log line per failure.

use std::collections::HashSet;

use crate::dlq::letters::pack;
use crate::services::Pipeline;
use voucherdeck_core::domain::FailureRecord;
use voucherdeck_core::ports::{OutgoingMessage, Progress};

/// Sends dead letters to the DLQ with their diagnosis, each within the DLQ's size limit and in
/// as many calls as SQS's limits need; returns the entries the DLQ accepted.
pub(super) async fn send_to_dlq(
    pipeline: &Pipeline,
    letters: Vec<OutgoingMessage>,
) -> HashSet<usize> {
    let mut accepted = HashSet::new();
    if letters.is_empty() {
        return accepted;
    }
    let dlq = match pipeline.dlq().await {
        Ok(q) => q,
        Err(e) => {
            tracing::error!(error = %e, "cannot open the DLQ; poison messages stay for redelivery");
            return accepted;
        }
    };
    let (batches, too_large) = pack(letters, pipeline.dlq_message_size().await);
    for m in too_large {
        tracing::error!(entry = %m.id, bytes = m.body.len(),
            "message body too large for the DLQ; left for SQS to move after maxReceiveCount");
    }
    let queue = &pipeline.backend().queue;
    for batch in batches {
        let answers = match queue.send_batch(&dlq, &batch).await {
            Ok(answer) => vec![answer],
            // Refused as a whole (a limit this side did not foresee): one message per call,
            // so one cannot keep the others out.
            Err(e) if batch.len() > 1 && !e.is_retryable() => {
                tracing::warn!(error = %e, "DLQ batch refused; sending its messages one by one");
                let mut answers = Vec::new();
                for m in &batch {
                    match queue.send_batch(&dlq, std::slice::from_ref(m)).await {
                        Ok(a) => answers.push(a),
                        Err(e) => tracing::warn!(error = %e, entry = %m.id, "DLQ send failed"),
                    }
                }
                answers
            }
            Err(e) => {
                tracing::warn!(error = %e, "DLQ send failed; poison messages stay for redelivery");
                Vec::new()
            }
        };
        for answer in answers {
            for f in &answer.failed {
                tracing::warn!(code = %f.code, message = %f.message, "DLQ send failed for one message");
            }
            accepted.extend(
                answer
                    .succeeded
                    .iter()
                    .filter_map(|id| id.parse::<usize>().ok()),
            );
        }
    }
    accepted
}

/// Writes the failure records to the shared log, and marks each voucher's own row with what
/// became of it (for status reads).
pub(super) async fn record_failures(pipeline: &Pipeline, records: &[FailureRecord]) {
    if records.is_empty() {
        return;
    }
    if let Err(e) = pipeline.backend().failures.record(records).await {
        tracing::warn!(error = %e, "could not write failure records");
    }
    let store = &pipeline.backend().store;
    let marks = records.iter().filter_map(|r| {
        let progress = Progress {
            dead_lettered: r.dead_lettered,
            reason: r.reason.clone(),
            at: r.at,
        };
        r.voucher_id
            .map(|id| async move { (id, store.record_progress(id, &progress).await) })
    });
    for (id, result) in futures::future::join_all(marks).await {
        if let Err(e) = result {
            tracing::warn!(error = %e, voucher_id = %id, "could not record the voucher's progress");
        }
    }
}

/// One log line per failure. A log never carries a full recipient: the record's is masked, and
/// so is any address its reason quotes from the body.
pub(super) fn log_failures(records: &[FailureRecord]) {
    for r in records {
        let voucher_id = r.voucher_id.map_or_else(|| "-".into(), |v| v.to_string());
        tracing::warn!(%voucher_id, message_id = %r.message_id, kind = %r.kind,
            recipient = %r.recipient.as_deref().unwrap_or("-"), receive_count = r.receive_count,
            dead_lettered = r.dead_lettered, reason = %r.reason, "message failed");
    }
}
