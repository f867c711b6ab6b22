//! FIFO queues end to end, on the embedded engine and on moto: provision makes both queues FIFO;
//! the engine keeps a group's order, holds a group back while one of its messages is in flight and
//! deduplicates for 5 minutes; gifts, dead letters, edited resends and redrives all carry a group
//! and a deduplication id, so every send path works on a FIFO pair.

#[path = "support/moto.rs"]
mod moto;
#[macro_use]
#[path = "support/backends.rs"]
mod backends;

use backends::{Env, Kind};

use std::collections::BTreeMap;
use std::time::Duration;

use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::GiftRequest;
use voucherdeck_core::ports::{OutgoingMessage, QueueRef, ReceiveRequest, ReceivedMessage};
use voucherdeck_pipeline::{
    ConsumerConfig, DlqFilter, GiftOptions, Pipeline, PipelineConfig, RedriveRequest, RedriveScope,
    RedriveStatus,
};

/// A pipeline on a FIFO queue pair (`….fifo`, `…-dlq.fifo`), provisioned.
async fn env(kind: Kind, prefix: &str) -> Env {
    let plain = moto::unique_names(prefix);
    let names = Names {
        queue: format!("{}.fifo", plain.queue),
        dlq: format!("{}.fifo", plain.dlq),
        ..plain
    };
    let config = PipelineConfig {
        per_minute: 1000,
        daily_cap: 1000,
        ..PipelineConfig::default()
    };
    backends::env(kind, names, config).await
}

fn message(id: usize, body: &str, group: &str, dedup: &str) -> OutgoingMessage {
    OutgoingMessage {
        id: id.to_string(),
        body: body.to_string(),
        attributes: BTreeMap::new(),
        delay: None,
        group: Some(group.to_string()),
        dedup: Some(dedup.to_string()),
    }
}

fn gift(i: usize) -> GiftRequest {
    GiftRequest {
        recipient: format!("user{i}@example.com"),
        amount: format!("{}.25", i + 1),
        currency: Some("EUR".into()),
        sender: format!("sender{}", i % 2),
        note: None,
        idempotency_key: None,
    }
}

async fn receive(e: &Env, q: &QueueRef, visibility: u64) -> Vec<ReceivedMessage> {
    let req = ReceiveRequest {
        max: 10,
        wait: Duration::ZERO,
        visibility: Some(Duration::from_secs(visibility)),
    };
    e.p.backend().queue.receive(q, req).await.expect("receive")
}

async fn drain(p: &Pipeline) {
    let cfg = ConsumerConfig {
        concurrency: 2,
        wait: Duration::from_secs(1),
        until_empty: true,
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(1),
        publish_every: None,
        start_paused: false,
    };
    let h = p.start_consumer(cfg, None).expect("start");
    tokio::time::timeout(Duration::from_secs(90), h.join())
        .await
        .expect("the consumer drains the queue in time");
}

async fn visible(p: &Pipeline, q: &QueueRef) -> u64 {
    p.backend().queue.stats(q).await.expect("stats").visible
}

/// Provision makes both queues FIFO (and says so again without differences); the DLQ's type
/// matches the queue's, as SQS requires of a redrive policy.
async fn provision_makes_both_queues_fifo(kind: Kind) {
    let e = env(kind, "fp").await;
    let queue = &e.p.backend().queue;
    for q in [e.p.queue().await.expect("q"), e.p.dlq().await.expect("dlq")] {
        let settings = queue.settings(&q).await.expect("settings");
        assert_eq!(settings.fifo, Some(true), "{} is FIFO", q.name);
    }
    let again = e.p.provision().await.expect("provision again");
    assert!(
        !again.has_unapplied_differences(),
        "a second provision finds nothing to change: {again:?}"
    );
}

/// A group comes in order and not while one of its messages is in flight; a deduplication id
/// sent again within the window is accepted and not queued twice; a message without a group is
/// refused.
async fn order_groups_and_deduplication(kind: Kind) {
    let e = env(kind, "fo").await;
    let q = e.p.queue().await.expect("q");
    let queue = &e.p.backend().queue;
    let batch = [
        message(0, "g1", "g", "d1"),
        message(1, "g1 again", "g", "d1"),
        message(2, "g2", "g", "d2"),
        message(3, "h1", "h", "d3"),
    ];
    let sent = queue.send_batch(&q, &batch).await.expect("send");
    assert!(sent.failed.is_empty(), "{:?}", sent.failed);
    assert_eq!(sent.succeeded.len(), 4, "a duplicate is accepted too");
    assert_eq!(visible(&e.p, &q).await, 3, "the duplicate is not queued");

    let first = receive(&e, &q, 30).await;
    let of_g: Vec<&str> = first
        .iter()
        .filter(|m| m.group.as_deref() == Some("g"))
        .map(|m| m.body.as_str())
        .collect();
    assert_eq!(of_g, ["g1", "g2"], "a group in order");
    assert!(first.iter().all(|m| m.group.is_some()));
    // More of group g, sent now, is held back while g1 and g2 are in flight.
    let more = queue
        .send_batch(&q, &[message(0, "g3", "g", "d4")])
        .await
        .expect("send");
    assert!(more.failed.is_empty());
    let second = receive(&e, &q, 30).await;
    assert!(
        second.iter().all(|m| m.group.as_deref() != Some("g")),
        "nothing of a group with a message in flight: {second:?}"
    );

    let ungrouped = OutgoingMessage {
        group: None,
        ..message(0, "x", "g", "d9")
    };
    let refused = queue.send_batch(&q, &[ungrouped]).await;
    let said = match refused {
        Err(e) => e.to_string(),
        Ok(r) => format!("{:?}", r.failed),
    };
    assert!(said.contains("MessageGroupId"), "{said}");
}

/// Gifts are stored; poison reaches the FIFO DLQ with its reason; an edited resend and a redrive
/// of twelve messages of one group (more than one receive holds) go back to the FIFO queue.
async fn every_send_path_works_on_a_fifo_pair(kind: Kind) {
    let e = env(kind, "fe").await;
    let (q, dlq) = (e.p.queue().await.expect("q"), e.p.dlq().await.expect("dlq"));
    let reqs: Vec<GiftRequest> = (0..4).map(gift).collect();
    for r in e.p.gift_many(&reqs, GiftOptions::default()).await {
        r.expect("a gift is accepted on a FIFO queue");
    }
    let poison: Vec<OutgoingMessage> = (0..12)
        .map(|i| message(i % 10, &format!("junk {i}"), "by-hand", &format!("p{i}")))
        .collect();
    for chunk in poison.chunks(10) {
        let out =
            e.p.backend()
                .queue
                .send_batch(&q, chunk)
                .await
                .expect("send");
        assert!(out.failed.is_empty(), "{:?}", out.failed);
    }
    drain(&e.p).await;
    let store = &e.p.backend().store;
    assert_eq!(store.count_vouchers().await.expect("count"), 4);
    assert_eq!(
        visible(&e.p, &dlq).await,
        12,
        "every poison message dead-lettered"
    );
    let peeked = e.p.peek_dlq(1).await.expect("peek");
    let reason = peeked[0].failure.as_ref().expect("a reason");
    assert_eq!(
        peeked[0].group.as_deref(),
        Some("by-hand"),
        "the browser names the group"
    );
    assert_eq!(reason.kind().to_string(), "not_json");
    let log = e.p.recent_failures(20).await.expect("failure log");
    assert!(
        !log.is_empty() && log.iter().all(|r| r.group.as_deref() == Some("by-hand")),
        "each failure names its message group: {log:?}"
    );

    // An edited resend of one of them.
    let mut session = e.p.open_dlq_session().await.expect("session");
    let loaded = session.load(1, &mut |_| {}).await.expect("load");
    let id = loaded[0].message_id.clone();
    session
        .resend(&id, &gift(9), None)
        .await
        .expect("the edited gift is resent to the FIFO queue");
    session.release().await;
    drain(&e.p).await;
    assert_eq!(store.count_vouchers().await.expect("count"), 5);

    // The rest back to the queue (a copy on moto, whose move tasks fail; native on the engine).
    let done = e.p.start_redrive(RedriveRequest {
        scope: RedriveScope::All,
        destination: None,
        rate: Some(100),
        note: None,
    });
    let done = tokio::time::timeout(Duration::from_mins(1), done.wait())
        .await
        .expect("the redrive finishes");
    assert_eq!(done.status, RedriveStatus::Completed, "{done}");
    assert_eq!(done.moved, 11, "{done}");
    assert_eq!(visible(&e.p, &dlq).await, 0);
    let back = receive(&e, &q, 30).await;
    assert!(!back.is_empty() && back.iter().all(|m| m.group.as_deref() == Some("by-hand")));
}

/// A read of a FIFO DLQ sees at most 10 messages of a group while it holds them (SQS delivers
/// none of a group with one in flight): a count says how many it could not reach, and is not
/// complete.
async fn a_count_of_a_fifo_dlq_says_what_waits_behind_its_groups(kind: Kind) {
    let e = env(kind, "fc").await;
    let dlq = e.p.dlq().await.expect("dlq");
    let letters: Vec<OutgoingMessage> = (0..15)
        .map(|i| message(i % 10, &format!("junk {i}"), "one-group", &format!("l{i}")))
        .collect();
    for chunk in letters.chunks(10) {
        let out =
            e.p.backend()
                .queue
                .send_batch(&dlq, chunk)
                .await
                .expect("send");
        assert!(out.failed.is_empty(), "{:?}", out.failed);
    }
    let count = e.p.count_dlq(&DlqFilter::default()).await.expect("count");
    assert_eq!((count.scanned, count.held_back), (10, 5), "{count:?}");
    assert!(!count.complete);
}

on_both_backends!(
    provision_makes_both_queues_fifo,
    order_groups_and_deduplication,
    every_send_path_works_on_a_fifo_pair,
    a_count_of_a_fifo_dlq_says_what_waits_behind_its_groups,
);
