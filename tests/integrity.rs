//! On the embedded engine: only trusted senders are served, the engine refuses what SQS refuses
//! (so tests catch it), and the heartbeat follows the visibility the consumer asked for.

#[path = "support/messages.rs"]
mod messages;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use messages::outgoing;
use voucherdeck_core::backend::{Backend, Names};
use voucherdeck_core::domain::limits::MESSAGE_SIZE_MAX;
use voucherdeck_core::domain::{FailureKind, GiftRequest, TrustedSenders};
use voucherdeck_core::ports::{BackendError, OutgoingMessage, QueueSpec};
use voucherdeck_embedded::{DEFAULT_CALLER, Embedded};
use voucherdeck_pipeline::{ConsumerConfig, GiftOptions, Pipeline, PipelineConfig};

fn gift(recipient: &str) -> GiftRequest {
    GiftRequest {
        recipient: recipient.into(),
        amount: "7.00".into(),
        sender: "ops".into(),
        ..GiftRequest::default()
    }
}

fn drain() -> ConsumerConfig {
    ConsumerConfig {
        concurrency: 2,
        wait: Duration::from_millis(200),
        until_empty: true,
        publish_every: None,
        ..ConsumerConfig::default()
    }
}

async fn provisioned(config: PipelineConfig) -> (Embedded, Pipeline) {
    let e = Embedded::new(Names::default());
    let p = Pipeline::new(e.backend.clone(), config);
    p.provision().await.expect("provision");
    (e, p)
}

async fn run(p: &Pipeline) {
    let h = p.start_consumer(drain(), None).expect("start");
    tokio::time::timeout(Duration::from_secs(30), h.join())
        .await
        .expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_trusted_senders_are_served() {
    let trusted = TrustedSenders::parse(&[DEFAULT_CALLER, "AROAINTAKE"]).expect("ids");
    let (e, p) = provisioned(PipelineConfig {
        trusted_senders: Some(trusted),
        ..PipelineConfig::default()
    })
    .await;
    // The same queues, used by other callers: an intake role (trusted whatever its session name)
    // and a stranger.
    let as_caller = |sender_id: &str| {
        let backend = Backend {
            queue: Arc::new(e.queues.acting_as(sender_id)),
            ..e.backend.clone()
        };
        Pipeline::new(backend, PipelineConfig::default())
    };
    p.gift(&gift("ada@example.com"), GiftOptions::default())
        .await
        .expect("gift");
    as_caller("AROAINTAKE:gift-api-3")
        .gift(&gift("grace@example.com"), GiftOptions::default())
        .await
        .expect("intake gift");
    as_caller("AROAMALLORY:AROAINTAKE")
        .gift(&gift("eve@example.com"), GiftOptions::default())
        .await
        .expect("forged gift");
    run(&p).await;

    assert_eq!(p.backend().store.count_vouchers().await.expect("count"), 2);
    let listed = p.peek_dlq(10).await.expect("peek");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].body.contains("eve@example.com"));
    let failure = listed[0].failure.as_ref().expect("reason");
    assert_eq!(failure.kind(), "untrusted_sender");
    assert!(
        failure
            .reason()
            .contains("AROAMALLORY is not in trusted_senders"),
        "{}",
        failure.reason()
    );
    let log = p.recent_failures(5).await.expect("log");
    assert_eq!(
        (log.len(), log[0].kind, log[0].dead_lettered),
        (1, FailureKind::UntrustedSender, true)
    );
}

#[tokio::test]
async fn the_embedded_engine_refuses_what_sqs_refuses() {
    let (e, p) = provisioned(PipelineConfig::default()).await;
    let q = p.queue().await.expect("queue");
    let queue = &e.backend.queue;
    let whole_call = |r: Result<_, BackendError>, code: &str| match r {
        Err(BackendError::Invalid(m)) => assert!(m.contains(code), "{m}"),
        other => panic!("expected {code}, got {other:?}"),
    };
    whole_call(
        queue.send_batch(&q, &[outgoing("a.b", "x")]).await,
        "InvalidBatchEntryId",
    );
    whole_call(
        queue
            .send_batch(&q, &[outgoing("1", "x"), outgoing("1", "y")])
            .await,
        "BatchEntryIdsNotDistinct",
    );
    let half = "h".repeat(MESSAGE_SIZE_MAX / 2 + 1);
    let mut big = vec![outgoing("1", &half), outgoing("2", &half)];
    for m in &mut big {
        m.attributes.insert("k".into(), "v".into());
    }
    whole_call(queue.send_batch(&q, &big).await, "BatchRequestTooLong");

    let attrs = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    };
    let mut entries = vec![
        OutgoingMessage {
            delay: Some(Duration::from_secs(901)),
            ..outgoing("delay", "x")
        },
        OutgoingMessage {
            attributes: attrs(&[("AWS.trace", "1")]),
            ..outgoing("name", "x")
        },
        OutgoingMessage {
            attributes: attrs(&[("k", "a\u{1b}b")]),
            ..outgoing("value", "x")
        },
        OutgoingMessage {
            attributes: attrs(&[("k", "")]),
            ..outgoing("empty", "x")
        },
        outgoing("body", "bell\u{7}"),
        outgoing("ok", "fine\t\r\n"),
    ];
    let eleven: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
    entries.push(OutgoingMessage {
        attributes: eleven.into_iter().collect(),
        ..outgoing("many", "x")
    });
    let out = queue
        .send_batch(&q, &entries)
        .await
        .expect("per-entry answers");
    assert_eq!(out.succeeded, ["ok"]);
    let failed: Vec<&str> = out.failed.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(failed, ["delay", "name", "value", "empty", "body", "many"]);
    assert!(out.failed.iter().all(|f| f.sender_fault));

    // The queue's own MaximumMessageSize counts the body and the attributes.
    let small = QueueSpec {
        max_message_size: Some(1024),
        ..QueueSpec::new("small", Duration::from_secs(30))
    };
    let (small, _) = queue.ensure(&small).await.expect("small queue");
    let fits = outgoing("fits", &"f".repeat(1024));
    let over = OutgoingMessage {
        attributes: attrs(&[("k", "v")]),
        ..outgoing("over", &"f".repeat(1020))
    };
    let out = queue.send_batch(&small, &[fits, over]).await.expect("send");
    assert_eq!(
        (out.succeeded.len(), out.failed[0].id.as_str()),
        (1, "over")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_follows_the_visibility_the_consumer_asked_for() {
    // Another machine set the queue's visibility to 2 s; this one's configuration says 30 s and its
    // store takes 5 s. Receiving with the queue's 2 s and extending every 15 s would hand the
    // message to a second loop while the first still works on it.
    let (e, p) = provisioned(PipelineConfig::default()).await;
    let q = p.queue().await.expect("queue");
    let queue = &p.backend().queue;
    let short = QueueSpec {
        redrive: queue.settings(&q).await.expect("settings").redrive,
        ..QueueSpec::new(&q.name, Duration::from_secs(2))
    };
    queue.update(&q, &short).await.expect("shorten");
    p.gift(&gift("ada@example.com"), GiftOptions::default())
        .await
        .expect("gift");
    e.store.simulate_slow_writes(Duration::from_secs(5));
    let h = p.start_consumer(drain(), None).expect("start");
    let report = tokio::time::timeout(Duration::from_secs(30), h.join())
        .await
        .expect("drains");
    assert_eq!(report.totals.received, 1, "received once: {report:?}");
    assert_eq!(report.totals.persisted, 1);
}
