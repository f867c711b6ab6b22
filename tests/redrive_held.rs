//! Redrive from the DLQ browser, on the embedded engine and on moto: a selective redrive moves what
//! the browser's session holds with its receipts (no second receive, so no receive count rises and
//! nothing is missed), and a copy redrive past its hold limit still moves every match.

#[path = "support/moto.rs"]
mod moto;
#[macro_use]
#[path = "support/backends.rs"]
mod backends;

use backends::{Env, Kind};

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use voucherdeck_core::backend::Backend;
use voucherdeck_core::ports::{OutgoingMessage, QueueRef, QueueSpec, ReceiveRequest};
use voucherdeck_pipeline::{Pipeline, PipelineConfig, RedriveRequest, RedriveScope, RedriveStatus};

async fn env(kind: Kind, prefix: &str, config: PipelineConfig) -> Env {
    backends::env(kind, moto::unique_names(prefix), config).await
}

/// Sends these bodies straight to `queue`, 10 a call.
async fn seed(backend: &Backend, queue: &QueueRef, bodies: &[String]) {
    for (n, chunk) in bodies.chunks(10).enumerate() {
        let batch: Vec<OutgoingMessage> = chunk
            .iter()
            .enumerate()
            .map(|(i, b)| OutgoingMessage {
                id: format!("{n}-{i}"),
                body: b.clone(),
                attributes: BTreeMap::default(),
                delay: None,
                group: None,
                dedup: None,
            })
            .collect();
        let out = backend.queue.send_batch(queue, &batch).await.expect("send");
        assert!(out.failed.is_empty(), "{:?}", out.failed);
    }
}

/// A further queue to redrive to.
async fn other_queue(p: &Pipeline) -> (String, QueueRef) {
    let name = format!("{}-other", p.backend().names.queue);
    let spec = QueueSpec::new(name.clone(), Duration::from_secs(30));
    let (q, _) = p.backend().queue.ensure(&spec).await.expect("other queue");
    (name, q)
}

/// Every body in `queue` (received and deleted).
async fn drain(backend: &Backend, queue: &QueueRef) -> BTreeSet<String> {
    let mut bodies = BTreeSet::new();
    let mut empty = 0;
    while empty < 2 {
        let got = backend
            .queue
            .receive(
                queue,
                ReceiveRequest {
                    max: 10,
                    wait: Duration::from_millis(if empty == 0 { 0 } else { 500 }),
                    visibility: Some(Duration::from_secs(30)),
                },
            )
            .await
            .expect("receive");
        if got.is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        let receipts: Vec<_> = got
            .iter()
            .enumerate()
            .map(|(i, m)| m.receipt_entry(i))
            .collect();
        backend
            .queue
            .delete_batch(queue, &receipts)
            .await
            .expect("delete");
        bodies.extend(got.into_iter().map(|m| m.body));
    }
    bodies
}

async fn a_selective_redrive_moves_what_the_browser_holds(kind: Kind) {
    let e = env(kind, "sel", PipelineConfig::default()).await;
    let dlq = e.p.dlq().await.expect("dlq");
    let (other_name, other) = other_queue(&e.p).await;
    let bodies: Vec<String> = (0..8).map(|i| format!("poison {i}")).collect();
    seed(e.p.backend(), &dlq, &bodies).await;

    let mut session = e.p.open_dlq_session().await.expect("session");
    while !session.exhausted() {
        session.load(100, &mut |_| {}).await.expect("load");
    }
    let browsed = session.messages();
    assert_eq!(browsed.len(), 8);
    assert!(
        browsed.iter().all(|m| m.receive_count == 1),
        "the browse received each message once: {:?}",
        browsed.iter().map(|m| m.receive_count).collect::<Vec<_>>()
    );
    let chosen_bodies: BTreeSet<String> = ["poison 1", "poison 4", "poison 6"]
        .map(String::from)
        .into();
    let chosen: Vec<String> = browsed
        .iter()
        .filter(|m| chosen_bodies.contains(&m.body))
        .map(|m| m.message_id.clone())
        .collect();

    let handle = session
        .start_redrive(RedriveRequest {
            scope: RedriveScope::Ids(chosen),
            destination: Some(other_name),
            rate: None,
            note: None,
        })
        .await;
    let done = tokio::time::timeout(Duration::from_mins(1), handle.wait())
        .await
        .expect("the redrive finishes");
    assert_eq!(done.status, RedriveStatus::Completed, "{done}");
    assert_eq!(
        (done.moved, done.failed, done.total),
        (3, 0, Some(3)),
        "{done}"
    );
    session.release().await;

    // The others were received once by the browse and once now: the redrive did not receive them.
    let left = e.p.peek_dlq(100).await.expect("peek");
    let left_counts: Vec<(String, u32)> = left
        .iter()
        .map(|m| (m.body.clone(), m.receive_count))
        .collect();
    assert_eq!(left.len(), 5, "{left_counts:?}");
    assert!(
        left.iter()
            .all(|m| m.receive_count == 2 && !chosen_bodies.contains(&m.body)),
        "only the browse and this peek received the others: {left_counts:?}"
    );
    assert_eq!(drain(e.p.backend(), &other).await, chosen_bodies);
}

/// More messages passed over than the walk keeps receipts for: every match is still moved.
async fn a_copy_redrive_past_its_hold_limit_moves_every_match(kind: Kind) {
    let config = PipelineConfig {
        redrive_hold_max: 20,
        ..PipelineConfig::default()
    };
    let e = env(kind, "hold", config).await;
    let dlq = e.p.dlq().await.expect("dlq");
    let (other_name, other) = other_queue(&e.p).await;
    // 30 to pass over, 60 to move, interleaved.
    let bodies: Vec<String> = (0..90)
        .map(|i| {
            if i % 3 == 0 {
                format!("keep {i}")
            } else {
                format!("match {i}")
            }
        })
        .collect();
    seed(e.p.backend(), &dlq, &bodies).await;

    let handle = e.p.start_redrive(RedriveRequest {
        scope: RedriveScope::Match("match".into()),
        destination: Some(other_name),
        rate: Some(500),
        note: None,
    });
    let done = tokio::time::timeout(Duration::from_mins(2), handle.wait())
        .await
        .expect("the redrive finishes");
    assert_eq!(done.status, RedriveStatus::Completed, "{done}");
    let moved = drain(e.p.backend(), &other).await;
    assert_eq!(
        (done.moved, done.failed, moved.len()),
        (60, 0, 60),
        "{done}; moved {moved:?}"
    );
    assert!(moved.iter().all(|b| b.starts_with("match ")), "{moved:?}");
    let left = e.p.backend().queue.stats(&dlq).await.expect("stats");
    assert_eq!(left.visible + left.in_flight, 30, "{left:?}");
}

on_both_backends!(
    a_selective_redrive_moves_what_the_browser_holds,
    a_copy_redrive_past_its_hold_limit_moves_every_match,
);
