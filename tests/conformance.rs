//! One behaviour suite, two backends: every test runs on the embedded engine and on moto (real HTTP,
//! real SDK). This is what keeps the embedded backend honest. Queues stay shallow (moto slows with
//! depth) and counts are asserted on final state (moto, like SQS, may deliver twice).

#[path = "support/moto.rs"]
mod moto;
#[macro_use]
#[path = "support/backends.rs"]
mod backends;

use backends::{Env, Kind};

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use voucherdeck_core::domain::limits::SOURCE_MESSAGE_SIZE;
use voucherdeck_core::domain::{FailureKind, GiftRequest, Recipient, Voucher, encode};
use voucherdeck_core::ports::{
    OutgoingMessage, QueueSpec, Receipt, ReceiveRequest, VisibilityChange,
};
use voucherdeck_pipeline::{
    ConsumerConfig, GiftError, GiftOptions, Pipeline, PipelineConfig, RedriveRequest, RedriveScope,
    RedriveStatus,
};

async fn env(kind: Kind, config: PipelineConfig) -> Env {
    backends::env(kind, moto::unique_names("c"), config).await
}

fn config() -> PipelineConfig {
    PipelineConfig {
        per_minute: 1000,
        daily_cap: 1000,
        ..PipelineConfig::default()
    }
}

fn gift(i: usize) -> GiftRequest {
    GiftRequest {
        recipient: format!("user{i}@example.com"),
        amount: format!("{}.50", i + 1),
        currency: Some("EUR".into()),
        sender: format!("sender{}", i % 3),
        note: None,
        idempotency_key: None,
    }
}

fn raw(id: usize, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        id: id.to_string(),
        body: body.to_string(),
        attributes: BTreeMap::new(),
        delay: None,
        group: None,
        dedup: None,
    }
}

fn drain_consumer() -> ConsumerConfig {
    ConsumerConfig {
        concurrency: 2,
        wait: Duration::from_secs(1),
        until_empty: true,
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(1),
        publish_every: None,
        start_paused: false,
    }
}

async fn run_until_empty(p: &Pipeline) {
    let h = p.start_consumer(drain_consumer(), None).expect("start");
    tokio::time::timeout(Duration::from_secs(90), h.join())
        .await
        .expect("consumer drains the queue in time");
}

async fn send_receive_delete_in_batches(kind: Kind) {
    let e = env(kind, config()).await;
    let q = e.p.queue().await.expect("queue");
    let queue = &e.p.backend().queue;
    let mut msgs: Vec<OutgoingMessage> = (0..10).map(|i| raw(i, &format!("body {i}"))).collect();
    msgs[0].attributes.insert("trace".into(), "abc".into());
    let out = queue.send_batch(&q, &msgs).await.expect("send");
    assert_eq!(out.succeeded.len(), 10);
    assert!(out.failed.is_empty());

    let mut got = Vec::new();
    for _ in 0..10 {
        let req = ReceiveRequest::new(10, Duration::from_secs(1));
        got.extend(queue.receive(&q, req).await.expect("receive"));
        if got.len() >= 10 {
            break;
        }
    }
    let bodies: HashSet<&str> = got.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies.len(), 10);
    assert!(
        got.iter()
            .all(|m| m.receive_count == 1 && m.sent_at.is_some())
    );
    let traced = got.iter().find(|m| m.body == "body 0").expect("body 0");
    assert_eq!(
        traced.attributes.get("trace").map(String::as_str),
        Some("abc")
    );

    let stats = queue.stats(&q).await.expect("stats");
    assert_eq!((stats.visible, stats.in_flight), (0, 10));
    let receipts: Vec<Receipt> = got
        .iter()
        .enumerate()
        .map(|(i, m)| Receipt {
            id: i.to_string(),
            handle: m.receipt.clone(),
        })
        .collect();
    let del = queue.delete_batch(&q, &receipts).await.expect("delete");
    assert_eq!(del.succeeded.len(), 10);
    let stats = queue.stats(&q).await.expect("stats");
    assert_eq!((stats.visible, stats.in_flight, stats.delayed), (0, 0, 0));
}

async fn visibility_expiry_redelivers(kind: Kind) {
    let e = env(kind, config()).await;
    let q = e.p.queue().await.expect("queue");
    let queue = &e.p.backend().queue;
    queue
        .send_batch(&q, &[raw(0, "again")])
        .await
        .expect("send");
    let req = ReceiveRequest {
        max: 1,
        wait: Duration::from_secs(2),
        visibility: Some(Duration::from_secs(1)),
    };
    let first = queue.receive(&q, req).await.expect("receive");
    assert_eq!(first.len(), 1);
    let none = queue
        .receive(
            &q,
            ReceiveRequest {
                wait: Duration::ZERO,
                ..req
            },
        )
        .await
        .expect("receive");
    assert!(none.is_empty(), "hidden while its visibility lasts");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = queue
        .receive(
            &q,
            ReceiveRequest {
                wait: Duration::from_secs(2),
                ..req
            },
        )
        .await
        .expect("receive");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_eq!(second[0].receive_count, 2);
}

async fn delayed_and_in_flight_are_counted(kind: Kind) {
    let e = env(kind, config()).await;
    let q = e.p.queue().await.expect("queue");
    let queue = &e.p.backend().queue;
    let mut delayed = raw(0, "later");
    delayed.delay = Some(Duration::from_secs(30));
    queue
        .send_batch(&q, &[delayed, raw(1, "now")])
        .await
        .expect("send");
    let got = queue
        .receive(&q, ReceiveRequest::new(10, Duration::from_secs(1)))
        .await
        .expect("receive");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "now");
    let s = queue.stats(&q).await.expect("stats");
    assert_eq!((s.visible, s.in_flight, s.delayed), (0, 1, 1));
}

async fn moves_to_dlq_after_max_receive_count(kind: Kind) {
    let e = env(
        kind,
        PipelineConfig {
            max_receive_count: 2,
            ..config()
        },
    )
    .await;
    let (q, dlq) = (
        e.p.queue().await.expect("queue"),
        e.p.dlq().await.expect("dlq"),
    );
    let queue = &e.p.backend().queue;
    queue
        .send_batch(&q, &[raw(0, "doomed")])
        .await
        .expect("send");
    let req = ReceiveRequest {
        max: 1,
        wait: Duration::from_secs(1),
        visibility: Some(Duration::from_secs(30)),
    };
    for n in 1..=2 {
        let got = queue.receive(&q, req).await.expect("receive");
        assert_eq!(got.len(), 1, "receive {n}");
        let release = VisibilityChange {
            id: "0".into(),
            handle: got[0].receipt.clone(),
            timeout: Duration::ZERO,
        };
        queue
            .change_visibility_batch(&q, &[release])
            .await
            .expect("release");
    }
    // The third receive finds it over maxReceiveCount: it moves to the DLQ instead of being delivered.
    let got = queue
        .receive(
            &q,
            ReceiveRequest {
                wait: Duration::ZERO,
                ..req
            },
        )
        .await
        .expect("receive");
    assert!(got.is_empty());
    let d = queue.stats(&dlq).await.expect("dlq stats");
    assert_eq!(d.visible, 1);
    let sources = queue.dead_letter_sources(&dlq).await.expect("sources");
    assert_eq!(
        sources.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        vec![q.name.clone()]
    );
    let listed = e.p.peek_dlq(10).await.expect("peek");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].body, "doomed");
}

async fn consumer_persists_idempotently_and_dead_letters_poison(kind: Kind) {
    let e = env(kind, config()).await;
    let q = e.p.queue().await.expect("queue");
    let reqs: Vec<GiftRequest> = (0..12).map(gift).collect();
    let receipts: Vec<_> =
        e.p.gift_many(&reqs, GiftOptions::default())
            .await
            .into_iter()
            .map(|r| r.expect("gift"))
            .collect();
    let store = &e.p.backend().store;
    let first = store
        .get_voucher(receipts[0].voucher_id)
        .await
        .expect("get");
    assert!(
        first.is_none(),
        "nothing persisted before the consumer runs"
    );
    run_until_empty(&e.p).await;
    // A redelivered voucher (same id, same content) and two poison messages.
    let stored = store
        .get_voucher(receipts[0].voucher_id)
        .await
        .expect("get")
        .expect("persisted");
    let extra = [
        raw(0, &encode(&stored)),
        raw(1, "not json"),
        raw(2, r#"{"v":1,"hello":"world"}"#),
    ];
    e.p.backend()
        .queue
        .send_batch(&q, &extra)
        .await
        .expect("send extra");

    run_until_empty(&e.p).await;

    assert_eq!(store.count_vouchers().await.expect("count"), 12);
    let stored = store
        .get_voucher(receipts[3].voucher_id)
        .await
        .expect("get")
        .expect("persisted");
    assert_eq!(stored.amount.to_string(), "4.50");
    let dlq = e.p.dlq().await.expect("dlq");
    assert_eq!(
        e.p.backend()
            .queue
            .stats(&dlq)
            .await
            .expect("stats")
            .visible,
        2
    );
    let listed = e.p.peek_dlq(10).await.expect("peek");
    let mut kinds: Vec<String> = listed
        .iter()
        .map(|m| m.failure.as_ref().expect("reason").kind().to_string())
        .collect();
    kinds.sort();
    assert_eq!(kinds, vec!["not_json", "schema"]);
    assert!(
        listed
            .iter()
            .all(|m| m.failure.as_ref().is_some_and(|f| !f.reason().is_empty()))
    );
    let log = e.p.recent_failures(10).await.expect("failures");
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|r| r.dead_lettered && r.kind.is_permanent()));
}

/// A stored voucher is never overwritten: a message under its id with another recipient and
/// amount goes to the DLQ as a conflict naming both content hashes, the stored voucher unchanged;
/// the same content again is a redelivery that succeeds.
async fn a_stored_voucher_is_never_overwritten(kind: Kind) {
    let e = env(kind, config()).await;
    let q = e.p.queue().await.expect("queue");
    let receipt =
        e.p.gift(&gift(4), GiftOptions::default())
            .await
            .expect("gift");
    run_until_empty(&e.p).await;
    let store = &e.p.backend().store;
    let stored = store
        .get_voucher(receipt.voucher_id)
        .await
        .expect("get")
        .expect("persisted");
    let forged = Voucher {
        recipient: Recipient::Email("mallory@example.net".into()),
        amount: "999.00".parse().expect("amount"),
        ..stored.clone()
    };
    e.p.backend()
        .queue
        .send_batch(&q, &[raw(0, &encode(&forged)), raw(1, &encode(&stored))])
        .await
        .expect("send");
    run_until_empty(&e.p).await;

    let after = store.get_voucher(stored.voucher_id).await.expect("get");
    assert_eq!(
        after.as_ref(),
        Some(&stored),
        "the stored voucher is unchanged"
    );
    assert_eq!(store.count_vouchers().await.expect("count"), 1);
    let listed = e.p.peek_dlq(10).await.expect("peek");
    assert_eq!(listed.len(), 1, "only the forged message: {listed:?}");
    assert!(listed[0].body.contains("mallory@example.net"));
    let failure = listed[0].failure.as_ref().expect("reason");
    assert_eq!(failure.kind(), "conflict");
    assert!(
        failure.reason().contains(&stored.content_hash())
            && failure.reason().contains(&forged.content_hash()),
        "{}",
        failure.reason()
    );
    let log = e.p.recent_failures(10).await.expect("failures");
    let record = log.first().expect("one failure record");
    assert_eq!(
        (record.kind, record.dead_lettered, record.voucher_id),
        (FailureKind::Conflict, true, Some(stored.voucher_id))
    );
    assert_eq!(record.recipient.as_deref(), Some("m***@example.net"));
    assert_eq!(log.len(), 1, "the redelivery succeeded: {log:?}");
}

/// A poison body with control characters and one near the size limit, received together: one
/// `SendMessageBatch` cannot carry both (it holds 1 MiB in all), so both reach the DLQ only if the
/// consumer splits; each arrives on its first receive, body intact, with its reason.
async fn large_and_control_character_poison_both_reach_the_dlq(kind: Kind) {
    let e = env(kind, config()).await;
    let q = e.p.queue().await.expect("queue");
    let large = "x".repeat(SOURCE_MESSAGE_SIZE - 100);
    // Tab, CR and LF are the control characters SQS lets a body carry; ESC only as a JSON escape.
    let controls = format!("\t{{\"note\": \"\\u001b[2J\"\r\n{}", "y".repeat(100_000));
    for body in [&large, &controls] {
        let sent = e.p.backend().queue.send_batch(&q, &[raw(0, body)]).await;
        assert_eq!(sent.expect("send").succeeded.len(), 1);
    }
    run_until_empty(&e.p).await;
    let log = e.p.recent_failures(10).await.expect("failures");
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log.iter()
            .all(|r| r.dead_lettered && r.receive_count == 1 && r.kind == FailureKind::NotJson),
        "dead-lettered on the first receive: {log:?}"
    );
    let listed = e.p.peek_dlq(10).await.expect("peek");
    let mut lengths: Vec<usize> = listed.iter().map(|m| m.body.len()).collect();
    lengths.sort_unstable();
    assert_eq!(lengths, [controls.len(), large.len()], "bodies kept whole");
    assert!(listed.iter().any(|m| m.body == controls));
    for m in &listed {
        let f = m.failure.as_ref().expect("a reason");
        assert_eq!(f.kind(), "not_json");
        assert!(f.reason().contains("not JSON"), "{}", f.reason());
    }
}

async fn idempotency_key_yields_one_voucher(kind: Kind) {
    let e = env(kind, config()).await;
    let req = GiftRequest {
        idempotency_key: Some("order-42".into()),
        ..gift(1)
    };
    let a = e.p.gift(&req, GiftOptions::default()).await.expect("first");
    let b =
        e.p.gift(&req, GiftOptions::default())
            .await
            .expect("second");
    assert_eq!(a.voucher_id, b.voucher_id);
    assert!(!a.duplicate && b.duplicate);
    run_until_empty(&e.p).await;
    assert_eq!(
        e.p.backend().store.count_vouchers().await.expect("count"),
        1
    );
}

async fn daily_cap_is_shared_and_refuses_with_a_time(kind: Kind) {
    let e = env(
        kind,
        PipelineConfig {
            daily_cap: 2,
            ..config()
        },
    )
    .await;
    for _ in 0..2 {
        e.p.gift(&gift(0), GiftOptions::default())
            .await
            .expect("within cap");
    }
    let refused =
        e.p.gift(&gift(0), GiftOptions::default())
            .await
            .expect_err("over cap");
    assert!(
        matches!(refused, GiftError::DailyCap { limit: 2, .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("try again after"));
    // Another sender is unaffected, and an operator's bulk import lifts the cap.
    e.p.gift(&gift(1), GiftOptions::default())
        .await
        .expect("other sender");
    e.p.gift(&gift(0), GiftOptions::bulk()).await.expect("bulk");
}

async fn poison_into_dlq(e: &Env, bodies: &[&str]) {
    let q = e.p.queue().await.expect("queue");
    let msgs: Vec<OutgoingMessage> = bodies.iter().enumerate().map(|(i, b)| raw(i, b)).collect();
    e.p.backend()
        .queue
        .send_batch(&q, &msgs)
        .await
        .expect("send");
    run_until_empty(&e.p).await;
    let dlq = e.p.dlq().await.expect("dlq");
    assert_eq!(
        e.p.backend()
            .queue
            .stats(&dlq)
            .await
            .expect("stats")
            .visible,
        bodies.len() as u64
    );
}

async fn redrive_all_back_to_source(kind: Kind) {
    let e = env(kind, config()).await;
    poison_into_dlq(&e, &["bad one", "bad two", "bad three"]).await;
    let h = e.p.start_redrive(RedriveRequest {
        scope: RedriveScope::All,
        destination: None,
        rate: Some(100),
        note: None,
    });
    let done = tokio::time::timeout(Duration::from_secs(30), h.wait())
        .await
        .expect("redrive finishes");
    assert_eq!(done.status, RedriveStatus::Completed, "{done}");
    assert_eq!(done.moved, 3);
    let (q, dlq) = (e.p.queue().await.expect("q"), e.p.dlq().await.expect("dlq"));
    assert_eq!(
        e.p.backend()
            .queue
            .stats(&dlq)
            .await
            .expect("stats")
            .visible,
        0
    );
    assert_eq!(
        e.p.backend().queue.stats(&q).await.expect("stats").visible,
        3
    );
}

async fn redrive_chosen_to_another_queue(kind: Kind) {
    let e = env(kind, config()).await;
    poison_into_dlq(&e, &["alpha junk", "beta junk", "gamma junk"]).await;
    let other_name = format!("{}-other", e.p.backend().names.queue);
    let spec = QueueSpec::new(other_name.clone(), Duration::from_secs(30));
    let (other, _) =
        e.p.backend()
            .queue
            .ensure(&spec)
            .await
            .expect("other queue");
    let listed = e.p.peek_dlq(10).await.expect("peek");
    let alpha = listed
        .iter()
        .find(|m| m.body == "alpha junk")
        .expect("alpha")
        .message_id
        .clone();

    let by_id = RedriveRequest {
        scope: RedriveScope::Ids(vec![alpha]),
        destination: Some(other_name.clone()),
        rate: None,
        note: None,
    };
    let done = e.p.start_redrive(by_id).wait().await;
    assert_eq!(
        (done.status.clone(), done.moved),
        (RedriveStatus::Completed, 1),
        "{done}"
    );
    let by_match = RedriveRequest {
        scope: RedriveScope::Match("gamma".into()),
        destination: Some(other_name),
        rate: None,
        note: None,
    };
    let done = e.p.start_redrive(by_match).wait().await;
    assert_eq!(
        (done.status.clone(), done.moved),
        (RedriveStatus::Completed, 1),
        "{done}"
    );

    let left: Vec<String> =
        e.p.peek_dlq(10)
            .await
            .expect("peek")
            .into_iter()
            .map(|m| m.body)
            .collect();
    assert_eq!(left, vec!["beta junk".to_string()]);
    assert_eq!(
        e.p.backend()
            .queue
            .stats(&other)
            .await
            .expect("stats")
            .visible,
        2
    );
}

/// A message's own `voucherdeck.source_queue` cannot steer a redrive: a DLQ message naming a queue
/// that is neither a source of the DLQ nor the configured queue stays in the DLQ.
async fn a_message_cannot_steer_a_redrive_to_another_queue(kind: Kind) {
    let e = env(kind, config()).await;
    let (victim, _) =
        e.p.backend()
            .queue
            .ensure(&QueueSpec::new(
                format!("{}-victim", e.p.backend().names.queue),
                Duration::from_secs(30),
            ))
            .await
            .expect("victim queue");
    let dlq = e.p.dlq().await.expect("dlq");
    let mut steer = raw(0, "steered junk");
    steer
        .attributes
        .insert("voucherdeck.source_queue".into(), victim.name.clone());
    let mut honest = raw(1, "honest junk");
    honest.attributes.insert(
        "voucherdeck.source_queue".into(),
        e.p.backend().names.queue.clone(),
    );
    let sent = e.p.backend().queue.send_batch(&dlq, &[steer, honest]).await;
    assert_eq!(sent.expect("send").succeeded.len(), 2);
    let done =
        e.p.start_redrive(RedriveRequest {
            scope: RedriveScope::Match("junk".into()),
            destination: None,
            rate: None,
            note: None,
        })
        .wait()
        .await;
    assert_eq!((done.moved, done.failed), (1, 1), "{done}");
    let q = e.p.queue().await.expect("queue");
    let queue = &e.p.backend().queue;
    let visible = queue.stats(&victim).await.expect("stats").visible;
    assert_eq!(visible, 0, "nothing reached the named queue");
    assert_eq!(queue.stats(&q).await.expect("stats").visible, 1);
    let left = e.p.peek_dlq(10).await.expect("peek");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].body, "steered junk");
}

/// Provision keeps dead letters longest and leaves an existing queue's shared settings alone
/// unless asked; status warns while the DLQ does not keep messages longer than the queue.
async fn provision_reports_differences_and_updates_only_when_asked(kind: Kind) {
    let e = env(kind, config()).await;
    let queues = &e.p.backend().queue;
    let (q, dlq) = (e.p.queue().await.expect("q"), e.p.dlq().await.expect("dlq"));
    let retention = |s: voucherdeck_core::ports::QueueSettings| s.retention.map(|d| d.as_secs());
    assert_eq!(
        retention(queues.settings(&dlq).await.expect("dlq")),
        Some(1_209_600)
    );
    assert_eq!(
        retention(queues.settings(&q).await.expect("q")),
        Some(345_600)
    );
    let again = e.p.provision().await.expect("provision again");
    assert!(
        again
            .items
            .iter()
            .all(|i| !i.created && i.differences.is_empty()),
        "{again:?}"
    );
    assert!(e.p.status(0).await.expect("status").warnings.is_empty());

    // The DLQ's retention shortened by hand, and another machine with another visibility timeout.
    let short = QueueSpec {
        retention: Some(Duration::from_hours(4 * 24)),
        ..QueueSpec::new(dlq.name.clone(), Duration::from_secs(30))
    };
    queues.update(&dlq, &short).await.expect("shorten");
    let warnings = e.p.status(0).await.expect("status").warnings;
    assert!(
        warnings.iter().any(|w| w.contains("keeps messages 4 days")),
        "{warnings:?}"
    );
    let other = Pipeline::new(
        e.p.backend().clone(),
        PipelineConfig {
            visibility_timeout: Duration::from_mins(2),
            ..config()
        },
    );
    let report = other.provision().await.expect("provision from elsewhere");
    let diffs: Vec<(&str, &str)> = report
        .items
        .iter()
        .flat_map(|i| i.differences.iter().map(move |d| (i.kind, d.setting)))
        .collect();
    assert_eq!(
        diffs,
        [
            ("dlq", "VisibilityTimeout"),
            ("dlq", "MessageRetentionPeriod"),
            ("queue", "VisibilityTimeout")
        ]
    );
    assert!(report.has_unapplied_differences());
    let visibility = queues.settings(&q).await.expect("q").visibility_timeout;
    assert_eq!(visibility, Some(Duration::from_secs(30)), "left as it was");

    let updated = e.p.provision_with(true).await.expect("update");
    assert!(updated.items[0].updated && !updated.has_unapplied_differences());
    assert_eq!(
        retention(queues.settings(&dlq).await.expect("dlq")),
        Some(1_209_600)
    );
    assert!(e.p.status(0).await.expect("status").warnings.is_empty());
}

async fn delete_chosen_dlq_messages(kind: Kind) {
    let e = env(kind, config()).await;
    poison_into_dlq(&e, &["keep me", "drop me"]).await;
    let listed = e.p.peek_dlq(10).await.expect("peek");
    let drop_id = listed
        .iter()
        .find(|m| m.body == "drop me")
        .expect("drop")
        .message_id
        .clone();
    assert_eq!(e.p.delete_dlq(&[drop_id], None).await.expect("delete"), 1);
    let left: Vec<String> =
        e.p.peek_dlq(10)
            .await
            .expect("peek")
            .into_iter()
            .map(|m| m.body)
            .collect();
    assert_eq!(left, vec!["keep me".to_string()]);
}

async fn status_reports_depth_and_failures(kind: Kind) {
    let e = env(kind, config()).await;
    poison_into_dlq(&e, &["junk"]).await;
    e.p.gift(&gift(5), GiftOptions::default())
        .await
        .expect("gift");
    let s = e.p.status(10).await.expect("status");
    assert_eq!(s.queue.visible, Some(1));
    assert_eq!(s.dlq.visible, Some(1));
    assert_eq!(s.recent_failures.len(), 1);
    let json = serde_json::to_value(&s).expect("json");
    for key in ["visible", "in_flight", "delayed", "oldest_age_seconds"] {
        assert!(
            json["queue"].get(key).is_some() && json["dlq"].get(key).is_some(),
            "{key}"
        );
    }
}

async fn redrive_refuses_the_dlq_as_destination_and_stops_on_unknown_ids(kind: Kind) {
    let e = env(kind, config()).await;
    poison_into_dlq(&e, &["only one"]).await;
    let dlq_name = e.p.backend().names.dlq.clone();
    let to_itself = RedriveRequest {
        scope: RedriveScope::Match("only".into()),
        destination: Some(dlq_name),
        rate: None,
        note: None,
    };
    let done = e.p.start_redrive(to_itself).wait().await;
    assert!(
        matches!(&done.status, RedriveStatus::Failed(why) if why.contains("the DLQ itself")),
        "{done}"
    );
    let unknown = RedriveRequest {
        scope: RedriveScope::Ids(vec!["no-such-id".into()]),
        destination: None,
        rate: None,
        note: None,
    };
    let done = tokio::time::timeout(Duration::from_secs(30), e.p.start_redrive(unknown).wait())
        .await
        .expect("a missing id does not keep the walk going");
    assert_eq!(
        (done.moved, done.status.clone()),
        (0, RedriveStatus::Completed)
    );
    let listed = e.p.peek_dlq(10).await.expect("peek");
    assert_eq!(listed.len(), 1, "nothing moved, nothing lost");
}

async fn only_the_newest_receipt_deletes(kind: Kind) {
    let e = env(kind, config()).await;
    let q = e.p.queue().await.expect("queue");
    let queue = &e.p.backend().queue;
    queue
        .send_batch(&q, &[raw(0, "twice")])
        .await
        .expect("send");
    let req = ReceiveRequest {
        max: 1,
        wait: Duration::from_secs(1),
        visibility: Some(Duration::from_secs(1)),
    };
    let first = queue.receive(&q, req).await.expect("receive");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = queue
        .receive(
            &q,
            ReceiveRequest {
                visibility: Some(Duration::from_secs(30)),
                ..req
            },
        )
        .await
        .expect("receive");
    assert_eq!(second.len(), 1);
    let stale = Receipt {
        id: "0".into(),
        handle: first[0].receipt.clone(),
    };
    let out = queue.delete_batch(&q, &[stale]).await.expect("delete");
    // SQS: the stale delete succeeds "but the message might not be deleted" (moto deletes it, the
    // embedded engine does not): callers must not rely on either.
    assert_eq!(out.succeeded.len(), 1, "a stale receipt is accepted");
    let newest = Receipt {
        id: "0".into(),
        handle: second[0].receipt.clone(),
    };
    queue.delete_batch(&q, &[newest]).await.expect("delete");
    let s = queue.stats(&q).await.expect("stats");
    assert_eq!(
        (s.visible, s.in_flight),
        (0, 0),
        "the newest receipt deletes"
    );
}

async fn a_retried_key_is_resent_even_at_the_cap(kind: Kind) {
    let e = env(
        kind,
        PipelineConfig {
            daily_cap: 1,
            ..config()
        },
    )
    .await;
    let keyed = |k: &str| GiftRequest {
        idempotency_key: Some(k.into()),
        ..gift(0)
    };
    let first =
        e.p.gift(&keyed("a"), GiftOptions::default())
            .await
            .expect("first");
    let again =
        e.p.gift(&keyed("a"), GiftOptions::default())
            .await
            .expect("a retry is not refused");
    assert_eq!(
        (again.voucher_id, again.duplicate),
        (first.voucher_id, true)
    );
    for _ in 0..2 {
        let refused =
            e.p.gift(&keyed("b"), GiftOptions::default())
                .await
                .expect_err("over the cap");
        assert!(matches!(refused, GiftError::DailyCap { .. }), "{refused}");
    }
}

async fn redrive_while_a_worker_runs_moves_each_message_once(kind: Kind) {
    let e = env(kind, config()).await;
    poison_into_dlq(&e, &["poison a", "poison b", "poison c"]).await;
    let worker =
        e.p.start_consumer(
            ConsumerConfig {
                until_empty: false,
                ..drain_consumer()
            },
            None,
        )
        .expect("start");
    let all = RedriveRequest {
        scope: RedriveScope::All,
        destination: None,
        rate: Some(50),
        note: None,
    };
    let done = tokio::time::timeout(Duration::from_mins(1), e.p.start_redrive(all).wait())
        .await
        .expect("the redrive ends although its messages keep coming back");
    worker.shutdown();
    worker.join().await;
    assert_eq!(
        (done.status.clone(), done.moved),
        (RedriveStatus::Completed, 3),
        "{done}"
    );
}

async fn a_cancelled_redrive_stops_and_keeps_the_rest(kind: Kind) {
    let e = env(kind, config()).await;
    poison_into_dlq(&e, &["one", "two", "three", "four", "five", "six"]).await;
    let slow = RedriveRequest {
        scope: RedriveScope::All,
        destination: None,
        rate: Some(1),
        note: None,
    };
    let h = e.p.start_redrive(slow);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.cancel();
    let done = tokio::time::timeout(Duration::from_secs(30), h.wait())
        .await
        .expect("a cancelled redrive ends");
    assert_eq!(done.status, RedriveStatus::Cancelled, "{done}");
    assert!(done.moved < 6, "{done}");
    let (q, dlq) = (e.p.queue().await.expect("q"), e.p.dlq().await.expect("dlq"));
    let left = e.p.backend().queue.stats(&dlq).await.expect("stats");
    let back = e.p.backend().queue.stats(&q).await.expect("stats");
    assert_eq!(
        left.visible + left.in_flight + back.visible,
        6,
        "nothing lost, nothing doubled"
    );
    assert_eq!(back.visible, done.moved);
}

on_both_backends!(
    send_receive_delete_in_batches,
    visibility_expiry_redelivers,
    delayed_and_in_flight_are_counted,
    moves_to_dlq_after_max_receive_count,
    consumer_persists_idempotently_and_dead_letters_poison,
    a_stored_voucher_is_never_overwritten,
    large_and_control_character_poison_both_reach_the_dlq,
    a_message_cannot_steer_a_redrive_to_another_queue,
    provision_reports_differences_and_updates_only_when_asked,
    idempotency_key_yields_one_voucher,
    daily_cap_is_shared_and_refuses_with_a_time,
    redrive_all_back_to_source,
    redrive_chosen_to_another_queue,
    delete_chosen_dlq_messages,
    status_reports_depth_and_failures,
    redrive_refuses_the_dlq_as_destination_and_stops_on_unknown_ids,
    only_the_newest_receipt_deletes,
    a_retried_key_is_resent_even_at_the_cap,
    redrive_while_a_worker_runs_moves_each_message_once,
    a_cancelled_redrive_stops_and_keeps_the_rest,
);
