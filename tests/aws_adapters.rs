//! The AWS adapters against a real moto server (real HTTP, real SDK; nothing mocked).

#[path = "support/moto.rs"]
mod moto;
#[path = "support/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;
use std::time::Duration;

use uuid::Uuid;
use voucherdeck_core::backend::{Backend, BackendKind};
use voucherdeck_core::domain::{
    Amount, AuditAction, AuditEntry, AuditOutcome, FailureKind, FailureRecord, KeyUse, Recipient,
    Timestamp, Voucher, idempotency_record_key,
};
use voucherdeck_core::ports::{
    Accepted, AcceptedRow, BackendError, Claim, ConsumerStats, IntakeStats, OutgoingMessage,
    Persisted, Progress, QueueRef, QueueSpec, Quota, Receipt, ReceiveRequest, RedrivePolicy,
    RequestCounter, VisibilityChange, WriteToken,
};

use moto::{MotoServer, aws_backend, aws_options, unique_names};
use proxy::{FaultProxy, Faults};

async fn setup(prefix: &str) -> (MotoServer, Backend) {
    let moto = MotoServer::start();
    let backend = aws_backend(&moto, unique_names(prefix)).await;
    (moto, backend)
}

fn spec(name: &str, redrive: Option<RedrivePolicy>) -> QueueSpec {
    QueueSpec {
        redrive,
        ..QueueSpec::new(name, Duration::from_secs(30))
    }
}

/// The main queue with a redrive policy to its DLQ after `max_receive_count` receives.
async fn queues(b: &Backend, max_receive_count: u32) -> (QueueRef, QueueRef) {
    let (dlq, _) = b
        .queue
        .ensure(&spec(&b.names.dlq, None))
        .await
        .expect("ensure dlq");
    let policy = RedrivePolicy {
        dead_letter_arn: dlq.arn.clone(),
        max_receive_count,
    };
    let (queue, _) = b
        .queue
        .ensure(&spec(&b.names.queue, Some(policy)))
        .await
        .expect("ensure queue");
    (queue, dlq)
}

fn message(id: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        id: id.to_string(),
        body: body.to_string(),
        attributes: BTreeMap::from([
            ("kind".to_string(), "voucher".to_string()),
            ("v".to_string(), "1".to_string()),
        ]),
        delay: None,
        group: None,
        dedup: None,
    }
}

fn receive(max: usize, wait_secs: u64) -> ReceiveRequest {
    ReceiveRequest {
        max,
        wait: Duration::from_secs(wait_secs),
        visibility: None,
    }
}

fn voucher(sender: &str, key: Option<&str>) -> Voucher {
    Voucher {
        voucher_id: Uuid::now_v7(),
        created_at: Timestamp::now(),
        recipient: Recipient::Email("ada@example.com".into()),
        amount: Amount::from_cents(2500),
        currency: "EUR".into(),
        sender: sender.to_string(),
        note: Some("thank you".into()),
        idempotency_key: key.map(ToString::to_string),
    }
}

fn failure(at: Timestamp, message_id: &str) -> FailureRecord {
    FailureRecord {
        record_id: Uuid::now_v7(),
        at,
        queue: "vouchers".into(),
        message_id: message_id.to_string(),
        voucher_id: Some(Uuid::now_v7()),
        recipient: Some("a***@example.com".into()),
        kind: FailureKind::Invalid,
        reason: "amount above maximum".into(),
        receive_count: 2,
        worker: "w-1".into(),
        dead_lettered: true,
        group: None,
    }
}

fn ops(b: &Backend, op: &str) -> u64 {
    b.requests.by_op().get(op).copied().unwrap_or(0)
}

#[tokio::test]
async fn connect_describes_the_endpoint() {
    let (moto, b) = setup("info").await;
    assert_eq!(b.info.kind, BackendKind::Aws);
    assert_eq!(b.info.region.as_deref(), Some("us-east-1"));
    assert_eq!(b.info.endpoint.as_deref(), Some(moto.endpoint().as_str()));
    assert_eq!(b.requests.total(), 0, "connect makes no request");
}

#[tokio::test]
async fn an_existing_queue_is_left_as_it_is_until_updated() {
    let (_moto, b) = setup("update").await;
    let (queue, dlq) = queues(&b, 3).await;
    let policy = RedrivePolicy {
        dead_letter_arn: dlq.arn.clone(),
        max_receive_count: 3,
    };
    // `ensure` leaves an existing queue as it is; `update` applies a changed spec.
    let stricter = QueueSpec {
        retention: Some(Duration::from_hours(14 * 24)),
        max_message_size: Some(100_000),
        ..spec(
            &b.names.queue,
            Some(RedrivePolicy {
                dead_letter_arn: dlq.arn.clone(),
                max_receive_count: 5,
            }),
        )
    };
    let (_, created) = b.queue.ensure(&stricter).await.expect("ensure changed");
    assert!(!created);
    let current = b.queue.settings(&queue).await.expect("settings");
    assert_eq!(current.redrive, Some(policy));
    let diffs: Vec<&str> = stricter
        .differences(&current)
        .iter()
        .map(|d| d.setting)
        .collect();
    assert_eq!(
        diffs,
        [
            "RedrivePolicy",
            "MessageRetentionPeriod",
            "MaximumMessageSize"
        ]
    );
    b.queue.update(&queue, &stricter).await.expect("update");
    let updated = b.queue.settings(&queue).await.expect("settings");
    assert!(stricter.differences(&updated).is_empty(), "{updated:?}");
    assert_eq!(updated.retention, Some(Duration::from_hours(14 * 24)));
}

#[tokio::test]
async fn ensure_open_and_not_found() {
    let (moto, b) = setup("ensure").await;
    let (dlq, created) = b
        .queue
        .ensure(&spec(&b.names.dlq, None))
        .await
        .expect("ensure dlq");
    assert!(created);
    assert_eq!(dlq.name, b.names.dlq);
    assert!(
        dlq.arn.ends_with(&format!(":{}", b.names.dlq)),
        "{}",
        dlq.arn
    );

    let policy = RedrivePolicy {
        dead_letter_arn: dlq.arn.clone(),
        max_receive_count: 3,
    };
    let (queue, created) = b
        .queue
        .ensure(&spec(&b.names.queue, Some(policy.clone())))
        .await
        .expect("ensure");
    assert!(created);
    let (again, created) = b
        .queue
        .ensure(&spec(&b.names.queue, Some(policy.clone())))
        .await
        .expect("ensure again");
    assert!(!created);
    assert_eq!(again, queue);
    assert_eq!(
        b.queue.redrive_policy(&queue).await.expect("policy"),
        Some(policy.clone())
    );
    assert_eq!(
        b.queue.redrive_policy(&dlq).await.expect("dlq policy"),
        None
    );

    // `open` resolves once, then answers from its cache.
    let fresh = aws_backend(&moto, b.names.clone()).await;
    let opened = fresh.queue.open(&b.names.queue).await.expect("open");
    assert_eq!(opened, queue);
    let before = fresh.requests.total();
    assert_eq!(
        before,
        1,
        "open is one request: {:?}",
        fresh.requests.by_op()
    );
    assert_eq!(
        fresh.queue.open(&b.names.queue).await.expect("open again"),
        queue
    );
    assert_eq!(fresh.requests.total(), before);

    match b.queue.open("no-such-queue").await {
        Err(BackendError::NotFound(m)) => assert!(m.contains("voucherdeck provision"), "{m}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn send_receive_delete_with_attributes() {
    let (_moto, b) = setup("sqs").await;
    let (queue, _) = queues(&b, 5).await;
    let batch: Vec<_> = (0..3)
        .map(|i| message(&format!("m{i}"), &format!("body {i}")))
        .collect();
    let sent = b.queue.send_batch(&queue, &batch).await.expect("send");
    assert_eq!(sent.succeeded.len(), 3);
    assert!(sent.failed.is_empty());
    assert_eq!(ops(&b, "sqs:SendMessageBatch"), 1);

    let mut got = Vec::new();
    for _ in 0..5 {
        got.extend(
            b.queue
                .receive(&queue, receive(10, 1))
                .await
                .expect("receive"),
        );
        if got.len() == 3 {
            break;
        }
    }
    assert_eq!(got.len(), 3);
    let mut bodies: Vec<_> = got.iter().map(|m| m.body.clone()).collect();
    bodies.sort();
    assert_eq!(bodies, ["body 0", "body 1", "body 2"]);
    for m in &got {
        assert_eq!(
            m.attributes.get("kind").map(String::as_str),
            Some("voucher")
        );
        assert_eq!(m.attributes.get("v").map(String::as_str), Some("1"));
        assert_eq!(m.receive_count, 1);
        assert!(m.sent_at.is_some());
        assert!(m.first_received_at.is_some());
    }

    let receipts: Vec<_> = got
        .iter()
        .enumerate()
        .map(|(i, m)| Receipt {
            id: format!("r{i}"),
            handle: m.receipt.clone(),
        })
        .collect();
    let deleted = b
        .queue
        .delete_batch(&queue, &receipts)
        .await
        .expect("delete");
    assert_eq!(deleted.succeeded.len(), 3, "{deleted:?}");
    assert!(deleted.failed.is_empty());
    let stats = b.queue.stats(&queue).await.expect("stats");
    assert_eq!((stats.visible, stats.in_flight, stats.delayed), (0, 0, 0));
    assert_eq!(stats.oldest_age, None);

    // More than 10 entries is refused before any request; duplicate entry ids by SQS.
    let eleven: Vec<_> = (0..11).map(|i| message(&format!("m{i}"), "x")).collect();
    assert!(matches!(
        b.queue.send_batch(&queue, &eleven).await,
        Err(BackendError::Invalid(_))
    ));
    let dup = [message("same", "a"), message("same", "b")];
    assert!(matches!(
        b.queue.send_batch(&queue, &dup).await,
        Err(BackendError::Invalid(_))
    ));
}

#[tokio::test]
async fn change_visibility_and_stats() {
    let (_moto, b) = setup("vis").await;
    let (queue, _) = queues(&b, 5).await;
    let mut delayed = message("late", "later");
    delayed.delay = Some(Duration::from_mins(1));
    let batch = [
        message("a", "a"),
        message("b", "b"),
        message("c", "c"),
        delayed,
    ];
    assert_eq!(
        b.queue
            .send_batch(&queue, &batch)
            .await
            .expect("send")
            .succeeded
            .len(),
        4
    );

    let req = ReceiveRequest {
        max: 1,
        wait: Duration::from_secs(1),
        visibility: Some(Duration::from_mins(1)),
    };
    let got = b.queue.receive(&queue, req).await.expect("receive");
    assert_eq!(got.len(), 1);
    let stats = b.queue.stats(&queue).await.expect("stats");
    assert_eq!((stats.visible, stats.in_flight, stats.delayed), (2, 1, 1));

    let change = VisibilityChange {
        id: "v0".into(),
        handle: got[0].receipt.clone(),
        timeout: Duration::ZERO,
    };
    let out = b
        .queue
        .change_visibility_batch(&queue, &[change])
        .await
        .expect("change visibility");
    assert_eq!(out.succeeded, ["v0"]);
    let stats = b.queue.stats(&queue).await.expect("stats");
    assert_eq!((stats.visible, stats.in_flight), (3, 0));

    // The released message comes back with its receive count raised.
    let mut seen = None;
    for _ in 0..5 {
        for m in b
            .queue
            .receive(&queue, receive(10, 1))
            .await
            .expect("receive")
        {
            if m.message_id == got[0].message_id {
                seen = Some(m);
            }
        }
        if seen.is_some() {
            break;
        }
    }
    assert_eq!(seen.expect("released message comes back").receive_count, 2);

    b.queue.purge(&queue).await.expect("purge");
    let stats = b.queue.stats(&queue).await.expect("stats");
    assert_eq!(stats.visible + stats.in_flight, 0);
}

#[tokio::test]
async fn redrive_policy_moves_to_the_dlq_and_sources_are_listed() {
    let (_moto, b) = setup("redrive").await;
    let (queue, dlq) = queues(&b, 1).await;
    b.queue
        .send_batch(&queue, &[message("p", "poison")])
        .await
        .expect("send");

    // Receive and release until the message passes maxReceiveCount; moto moves it on the next receive.
    let fast = ReceiveRequest {
        max: 10,
        wait: Duration::from_secs(1),
        visibility: Some(Duration::ZERO),
    };
    let mut in_dlq = Vec::new();
    for _ in 0..6 {
        let _ = b.queue.receive(&queue, fast).await.expect("receive source");
        in_dlq = b
            .queue
            .receive(&dlq, receive(10, 0))
            .await
            .expect("receive dlq");
        if !in_dlq.is_empty() {
            break;
        }
    }
    assert_eq!(in_dlq.len(), 1, "the message reached the DLQ");
    assert_eq!(in_dlq[0].body, "poison");
    assert_eq!(
        in_dlq[0].attributes.get("kind").map(String::as_str),
        Some("voucher")
    );

    let sources = b.queue.dead_letter_sources(&dlq).await.expect("sources");
    assert_eq!(sources, vec![queue.clone()]);
}

#[tokio::test]
async fn move_tasks_are_unsupported_on_moto() {
    let (_moto, b) = setup("move").await;
    let (queue, dlq) = queues(&b, 3).await;
    let started = b.queue.start_move_task(&dlq, Some(&queue), Some(10)).await;
    assert!(
        matches!(started, Err(BackendError::Unsupported(_))),
        "{started:?}"
    );
    let listed = b.queue.list_move_tasks(&dlq).await;
    assert!(
        matches!(listed, Err(BackendError::Unsupported(_))),
        "{listed:?}"
    );
    let cancelled = b.queue.cancel_move_task("no-such-task").await;
    assert!(
        matches!(cancelled, Err(BackendError::Unsupported(_))),
        "{cancelled:?}"
    );
}

#[tokio::test]
async fn vouchers_are_chunked_idempotent_and_read_back() {
    let (_moto, b) = setup("store").await;
    let created = b.store.ensure_tables().await.expect("ensure tables");
    assert_eq!(
        created,
        vec![
            (b.names.table.clone(), true),
            (b.names.quota_table.clone(), true)
        ]
    );
    let again = b.store.ensure_tables().await.expect("ensure tables again");
    assert_eq!(
        again,
        vec![
            (b.names.table.clone(), false),
            (b.names.quota_table.clone(), false)
        ]
    );

    let vouchers: Vec<_> = (0..30).map(|_| voucher("ops", None)).collect();
    let (writes, reads) = (
        ops(&b, "dynamodb:BatchWriteItem"),
        ops(&b, "dynamodb:BatchGetItem"),
    );
    let created = b.store.persist_vouchers(&vouchers).await.expect("persist");
    assert_eq!(created, vec![Persisted::Created; 30]);
    assert_eq!(
        (
            ops(&b, "dynamodb:BatchWriteItem") - writes,
            ops(&b, "dynamodb:BatchGetItem") - reads
        ),
        (2, 1),
        "30 items are one read of 30 keys and two writes (25 + 5)"
    );
    assert_eq!(b.store.count_vouchers().await.expect("count"), 30);

    // The same vouchers again (and a duplicate inside one call) change nothing and write nothing;
    // another content under a known id is a conflict that names the stored hash.
    let writes = ops(&b, "dynamodb:BatchWriteItem");
    let mut twice = vouchers[..5].to_vec();
    twice.push(vouchers[0].clone());
    let forged = Voucher {
        recipient: Recipient::Email("eve@example.com".into()),
        ..vouchers[1].clone()
    };
    twice.push(forged);
    let again = b
        .store
        .persist_vouchers(&twice)
        .await
        .expect("persist again");
    assert_eq!(again[..6], vec![Persisted::Identical; 6]);
    assert_eq!(
        again[6],
        Persisted::Conflict {
            stored_hash: vouchers[1].content_hash()
        }
    );
    assert_eq!(
        ops(&b, "dynamodb:BatchWriteItem"),
        writes,
        "nothing written"
    );
    assert_eq!(b.store.count_vouchers().await.expect("count"), 30);

    let v = &vouchers[7];
    assert_eq!(
        b.store
            .get_voucher(v.voucher_id)
            .await
            .expect("get")
            .as_ref(),
        Some(v)
    );
    assert_eq!(
        b.store
            .get_voucher(Uuid::now_v7())
            .await
            .expect("get missing"),
        None
    );
}

#[tokio::test]
async fn missing_table_is_not_found() {
    let (_moto, b) = setup("missing").await;
    match b.store.count_vouchers().await {
        Err(BackendError::NotFound(m)) => assert!(m.contains("voucherdeck provision"), "{m}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

fn key_use(v: &Voucher, fingerprint: &str) -> KeyUse {
    KeyUse {
        voucher: v.clone(),
        fingerprint: fingerprint.into(),
    }
}

#[tokio::test]
async fn idempotency_claims_and_daily_quota() {
    let (_moto, b) = setup("quota").await;
    b.store.ensure_tables().await.expect("ensure tables");

    let ops = idempotency_record_key("ops", "order-42");
    let first = key_use(&voucher("ops", Some("order-42")), "f1");
    assert_eq!(
        b.store
            .claim_idempotency_key(&ops, &first)
            .await
            .expect("claim"),
        Claim::New
    );
    let second = key_use(&voucher("ops", Some("order-42")), "f2");
    match b
        .store
        .claim_idempotency_key(&ops, &second)
        .await
        .expect("claim again")
    {
        Claim::Existing(v) => assert_eq!(*v, first),
        Claim::New => panic!("the key was claimed already"),
    }
    assert_eq!(
        b.store.idempotency_key(&ops).await.expect("read"),
        Some(first)
    );
    // Keys are per sender, and no sender and key read as another pair (`#` in both).
    for (sender, key) in [("hr", "order-42"), ("a#b", "c"), ("a", "b#c")] {
        assert_eq!(
            b.store
                .claim_idempotency_key(&idempotency_record_key(sender, key), &second)
                .await
                .expect("other sender"),
            Claim::New,
            "{sender} {key}"
        );
    }
}

#[tokio::test]
async fn daily_quota_leases() {
    let (_moto, b) = setup("lease").await;
    b.store.ensure_tables().await.expect("ensure tables");
    let day = Timestamp::now().day();
    let writer = Uuid::new_v4();
    let seq = std::sync::atomic::AtomicU64::new(0);
    let token = || WriteToken {
        writer,
        seq: seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
    };
    let take = |subject: &'static str, day: String, n: u32| {
        let store = b.store.clone();
        let token = token();
        async move {
            store
                .take_daily_quota(subject, &day, 5, n, token)
                .await
                .expect("quota")
        }
    };
    assert_eq!(
        take("ops", day.clone(), 2).await,
        Quota::Granted {
            granted: 2,
            used: 2
        }
    );
    assert_eq!(
        take("ops", day.clone(), 2).await,
        Quota::Granted {
            granted: 2,
            used: 4
        }
    );
    // Only one is left: a lease of 4 gets that one.
    assert_eq!(
        take("ops", day.clone(), 4).await,
        Quota::Granted {
            granted: 1,
            used: 5
        }
    );
    assert_eq!(
        take("ops", day.clone(), 1).await,
        Quota::Exhausted { limit: 5 }
    );
    let back = token();
    b.store
        .return_daily_quota("ops", &day, 2, back)
        .await
        .expect("give back");
    b.store
        .return_daily_quota("ops", &day, 2, back)
        .await
        .expect("the same give-back again changes nothing");
    assert_eq!(
        take("ops", day.clone(), 4).await,
        Quota::Granted {
            granted: 2,
            used: 5
        }
    );
    assert_eq!(
        take("hr", day.clone(), 1).await,
        Quota::Granted {
            granted: 1,
            used: 1
        }
    );
    assert_eq!(
        take("ops", "2000-01-01".into(), 1).await,
        Quota::Granted {
            granted: 1,
            used: 1
        }
    );
}

/// Leases and give-backs through a network that loses answers (the SDK retries) and delivers
/// requests twice: the counter ends at exactly what this writer was told it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_counters_hold_through_lost_and_duplicated_answers() {
    let moto = MotoServer::start();
    let names = unique_names("leasefault");
    let direct = aws_backend(&moto, names.clone()).await;
    direct.store.ensure_tables().await.expect("ensure tables");
    let proxy = FaultProxy::start(
        moto.port(),
        Faults {
            seed: 18,
            reset_after_p: 0.25,
            duplicate_p: 0.25,
            only: vec!["UpdateItem"],
            ..Faults::none()
        },
    );
    let mut options = aws_options(&moto);
    options.endpoint_url = Some(proxy.endpoint());
    options.max_attempts = Some(5);
    let faulty = voucherdeck_aws::connect(&options, names, RequestCounter::default())
        .await
        .expect("connect through the proxy");
    let day = Timestamp::now().day();
    let writer = Uuid::new_v4();
    let (mut held, mut unknown) = (0_u32, 0_u32);
    for seq in 1..=60_u64 {
        let token = WriteToken { writer, seq };
        if seq % 3 == 0 {
            match faulty.store.return_daily_quota("k", &day, 2, token).await {
                Ok(()) => held -= 2,
                Err(e) => panic!("a give-back failed for good: {e}"),
            }
        } else {
            match faulty
                .store
                .take_daily_quota("k", &day, 1_000, 3, token)
                .await
            {
                Ok(Quota::Granted { granted, .. }) => held += granted,
                Ok(Quota::Exhausted { .. }) => panic!("far from the cap"),
                Err(_) => unknown += 3,
            }
        }
    }
    let stats = proxy.stats();
    assert!(
        stats.injected("reset_after") > 5 && stats.injected("duplicate") > 5,
        "faults were injected: {stats:?}"
    );
    let probe = WriteToken {
        writer: Uuid::new_v4(),
        seq: 1,
    };
    let Quota::Granted { used, .. } = direct
        .store
        .take_daily_quota("k", &day, 1_000, 1, probe)
        .await
        .expect("read the counter")
    else {
        panic!("far from the cap")
    };
    let counted = used - 1;
    assert!(
        counted >= held && counted <= held + unknown,
        "the counter holds {counted}, this writer was told it holds {held} ({unknown} unknown)"
    );
    assert!(
        unknown <= 6,
        "the SDK's retries recover lost answers: {unknown} units unknown"
    );
}

#[tokio::test]
async fn accepted_index_rows_and_progress() {
    let (_moto, b) = setup("accepted").await;
    b.store.ensure_tables().await.expect("tables");
    let accepted: Vec<Accepted> = (0..30)
        .map(|i| Accepted {
            voucher_id: Uuid::now_v7(),
            sender: format!("s{i}"),
            at: Timestamp::now(),
        })
        .collect();
    b.store.record_accepted(&accepted).await.expect("index");
    let row = |id| {
        let store = b.store.clone();
        async move { store.accepted(id).await.expect("read") }
    };
    let id = accepted[29].voucher_id;
    assert_eq!(
        row(id).await,
        Some(AcceptedRow {
            accepted: accepted[29].clone(),
            progress: None
        })
    );
    assert_eq!(row(Uuid::now_v7()).await, None);

    // The consumer's progress lands on the row; an older record never replaces a newer one, and
    // a voucher without a row gets none.
    let at = Timestamp::now();
    let progress = |dead_lettered, reason: &str, at| Progress {
        dead_lettered,
        reason: reason.into(),
        at,
    };
    let dead = progress(true, "bad recipient", at);
    b.store.record_progress(id, &dead).await.expect("progress");
    let stale = progress(false, "older", Timestamp(at.millis() - 1000));
    b.store.record_progress(id, &stale).await.expect("stale");
    assert_eq!(row(id).await.and_then(|r| r.progress), Some(dead));
    let stray = Uuid::now_v7();
    b.store
        .record_progress(stray, &stale)
        .await
        .expect("no row");
    assert_eq!(row(stray).await, None);
}

#[tokio::test]
async fn failure_log_is_newest_first_across_days() {
    let (_moto, b) = setup("failures").await;
    assert_eq!(
        b.failures.ensure_table().await.expect("ensure"),
        (b.names.failure_table.clone(), true)
    );
    assert!(!b.failures.ensure_table().await.expect("ensure again").1);

    let now = Timestamp::now();
    let records = vec![
        failure(now.minus(Duration::from_secs(30)), "older"),
        failure(now.minus(Duration::from_hours(26)), "yesterday"),
        failure(now.minus(Duration::from_secs(10)), "newest"),
    ];
    b.failures.record(&records).await.expect("record");
    let many: Vec<_> = (0..27)
        .map(|i| failure(now.minus(Duration::from_secs(3600 * 24 * 3 + i)), "old"))
        .collect();
    let before = ops(&b, "dynamodb:BatchWriteItem");
    b.failures.record(&many).await.expect("record many");
    assert_eq!(ops(&b, "dynamodb:BatchWriteItem") - before, 2);

    let recent = b.failures.recent(3).await.expect("recent");
    let ids: Vec<_> = recent.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, ["newest", "older", "yesterday"]);
    assert_eq!(recent[0], records[2]);

    let all = b.failures.recent(100).await.expect("recent all");
    assert_eq!(all.len(), 30);
    assert!(all.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
}

#[tokio::test]
async fn audit_log_and_caller_identity() {
    let (_moto, b) = setup("audit").await;
    assert_eq!(
        b.audit.ensure_table().await.expect("ensure"),
        (b.names.audit_table.clone(), true)
    );
    let who = b.identity.caller().await.expect("caller");
    assert!(who.starts_with("arn:aws:"), "{who}");
    let mut older = AuditEntry::new(&who, AuditAction::Redrive, "dlq", 4, AuditOutcome::Ok);
    older.at = older.at.minus(Duration::from_hours(25));
    let mut newer = AuditEntry::new(&who, AuditAction::DlqPurge, "dlq", 2, AuditOutcome::Failed)
        .with_detail("purge once a minute");
    newer.at = newer.at.plus(Duration::from_secs(1));
    let many: Vec<AuditEntry> = (0..30)
        .map(|i| AuditEntry::new(&who, AuditAction::Gift, "q", i, AuditOutcome::Ok))
        .collect();
    let before = ops(&b, "dynamodb:BatchWriteItem");
    b.audit.record(&many).await.expect("record many");
    assert_eq!(
        ops(&b, "dynamodb:BatchWriteItem") - before,
        2,
        "25 per request"
    );
    b.audit
        .record(&[older.clone(), newer.clone()])
        .await
        .expect("record");
    let recent = b.audit.recent(100).await.expect("recent");
    assert_eq!(recent.len(), 32);
    assert_eq!(recent[0], newer);
    assert_eq!(recent.last(), Some(&older), "across days, newest first");

    // One entry is a conditional put: written again (a retry after a lost answer, or anyone
    // reusing its key) it counts as written and the entry stays as it was.
    let puts = ops(&b, "dynamodb:PutItem");
    let mut forged = newer.clone();
    forged.detail = Some("rewritten".into());
    let left = b.audit.record(&[forged]).await.expect("record again");
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(ops(&b, "dynamodb:PutItem") - puts, 1, "one PutItem");
    let recent = b.audit.recent(100).await.expect("recent");
    assert_eq!(recent.len(), 32, "no second entry");
    assert_eq!(recent[0], newer, "never overwritten");
}

#[tokio::test]
async fn cloudwatch_publish_and_oldest_age() {
    let (_moto, b) = setup("cw").await;
    let (queue, dlq) = queues(&b, 3).await;

    b.metrics
        .publish(&ConsumerStats::default(), &[])
        .await
        .expect("publish nothing");
    assert_eq!(
        ops(&b, "cloudwatch:PutMetricData"),
        0,
        "nothing to publish, no call"
    );
    let m = ConsumerStats {
        received: 14,
        persisted: 12,
        failed: 1,
        dead_lettered: 1,
    };
    b.metrics
        .publish(&m, &[12.5, 40.0, 7.25])
        .await
        .expect("publish");
    assert_eq!(ops(&b, "cloudwatch:PutMetricData"), 1);

    let readings = b
        .metrics
        .oldest_age(&[queue, dlq])
        .await
        .expect("oldest age");
    assert_eq!(readings.len(), 2);
    assert_eq!(ops(&b, "cloudwatch:GetMetricData"), 1);
    for r in readings {
        // moto publishes no AWS/SQS metrics by itself: no data is the expected answer.
        assert_eq!(r.age.is_some(), r.as_of.is_some());
    }
    assert!(
        b.metrics
            .oldest_age(&[])
            .await
            .expect("no queues")
            .is_empty()
    );
}

/// The minute (Unix seconds / 60) of now.
fn minute_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60)
}

#[tokio::test]
async fn the_minute_read_finds_what_the_intake_servers_published_in_one_call() {
    let moto = MotoServer::start();
    let b = aws_backend(&moto, unique_names("cwin")).await;
    let (queue, dlq) = queues(&b, 3).await;
    let quiet = b.metrics.read_minute(&[queue.clone(), dlq.clone()]).await;
    let quiet = quiet.expect("read before any server published");
    assert_eq!(quiet.ages.len(), 2);
    assert_eq!(
        quiet.servers,
        voucherdeck_core::ports::ServersIntake::default()
    );

    // Two servers of this pipeline publish; one of another pipeline (another queue) too.
    let other = aws_backend(&moto, unique_names("cwother")).await;
    let figures = |requests, server_errors, throttled| IntakeStats {
        requests,
        server_errors,
        throttled,
        audit_lost: 0,
    };
    other
        .metrics
        .publish_intake(&figures(1000, 500, 500))
        .await
        .expect("other pipeline");
    let minute = minute_now();
    for f in [figures(40, 2, 9), figures(10, 0, 1)] {
        b.metrics.publish_intake(&f).await.expect("publish");
    }
    let same_minute = minute_now() == minute;

    let before = ops(&b, "cloudwatch:GetMetricData");
    let read = b
        .metrics
        .read_minute(&[queue, dlq])
        .await
        .expect("minute read");
    assert_eq!(ops(&b, "cloudwatch:GetMetricData") - before, 1, "one call");
    assert_eq!(read.ages.len(), 2);
    let expected = if same_minute {
        figures(50, 2, 10)
    } else {
        figures(10, 0, 1)
    };
    assert_eq!(read.servers.last_minute, Some(expected), "{read:?}");
    assert!(read.servers.active_last_hour);
    let as_of = read.servers.as_of.expect("the minute it describes");
    assert!(
        Timestamp::now().millis() - as_of.millis() < 120_000,
        "{as_of:?}"
    );
}

#[tokio::test]
async fn an_endpoint_that_does_not_answer_is_unreachable() {
    let moto = MotoServer::start();
    let opts = moto::aws_options(&moto);
    drop(moto);
    let b = voucherdeck_aws::connect(
        &opts,
        unique_names("gone"),
        voucherdeck_core::ports::RequestCounter::default(),
    )
    .await
    .expect("connect makes no request");
    let err = b
        .queue
        .open("vouchers")
        .await
        .expect_err("nothing listens there");
    assert!(matches!(err, BackendError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable() && err.is_unreachable());
}

#[tokio::test]
async fn long_polls_outlast_the_attempt_timeout() {
    let moto = MotoServer::start();
    let mut opts = moto::aws_options(&moto);
    opts.attempt_timeout = Some(Duration::from_secs(1));
    opts.operation_timeout = Some(Duration::from_secs(2));
    let names = unique_names("poll");
    let b = voucherdeck_aws::connect(
        &opts,
        names.clone(),
        voucherdeck_core::ports::RequestCounter::default(),
    )
    .await
    .expect("connect");
    let (queue, _) = b
        .queue
        .ensure(&spec(&names.queue, None))
        .await
        .expect("ensure");
    let started = std::time::Instant::now();
    let got = b
        .queue
        .receive(&queue, receive(10, 3))
        .await
        .expect("a 3 s long poll is not a timeout");
    assert!(got.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "moto held the poll: {:?}",
        started.elapsed()
    );
}
