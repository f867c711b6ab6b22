//! `read_only` is a property of the services, whatever the front end: a pipeline built read-only
//! refuses every call that changes something, changes nothing (not even receive counts), and audits
//! the refusals. A writable pipeline audits every mutation: who, what, on what, how many, outcome.

use std::collections::BTreeMap;
use std::time::Duration;

use voucherdeck_core::domain::{AuditAction, AuditEntry, AuditOutcome, GiftRequest, OperatorNote};
use voucherdeck_core::ports::{BackendError, OutgoingMessage, QueueStats};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{
    ConsumerConfig, GiftError, GiftOptions, Pipeline, PipelineConfig, RedriveRequest, RedriveScope,
    RedriveStatus,
};

fn gift(i: usize) -> GiftRequest {
    GiftRequest {
        recipient: format!("user{i}@example.com"),
        amount: "2.00".into(),
        sender: "ops".into(),
        ..GiftRequest::default()
    }
}

/// An embedded backend with 3 vouchers queued and 2 messages in the DLQ, and a read-only
/// pipeline over it.
async fn setup() -> (Embedded, Pipeline, Pipeline) {
    let e = Embedded::new(voucherdeck_core::backend::Names::default());
    let writable = Pipeline::new(e.backend.clone(), PipelineConfig::default());
    writable.provision().await.expect("provision");
    let reqs: Vec<GiftRequest> = (0..3).map(gift).collect();
    for r in writable.gift_many(&reqs, GiftOptions::bulk()).await {
        r.expect("gift");
    }
    let dlq = writable.dlq().await.expect("dlq");
    let poison: Vec<OutgoingMessage> = (0..2)
        .map(|i| OutgoingMessage {
            id: i.to_string(),
            body: format!("poison {i}"),
            attributes: BTreeMap::new(),
            delay: None,
            group: None,
            dedup: None,
        })
        .collect();
    e.backend
        .queue
        .send_batch(&dlq, &poison)
        .await
        .expect("send");
    let read_only = Pipeline::new(
        e.backend.clone(),
        PipelineConfig {
            read_only: true,
            ..PipelineConfig::default()
        },
    );
    (e, writable, read_only)
}

async fn depths(p: &Pipeline) -> (QueueStats, QueueStats) {
    p.depths().await.expect("depths")
}

fn counts(s: &QueueStats) -> (u64, u64, u64) {
    (s.visible, s.in_flight, s.delayed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_pipeline_refuses_every_mutation_and_changes_nothing() {
    let (_e, writable, ro) = setup().await;
    let (queue_before, dlq_before) = depths(&ro).await;

    assert_eq!(
        ro.gift(&gift(9), GiftOptions::default()).await,
        Err(GiftError::ReadOnly)
    );
    let many = ro
        .gift_many(&[gift(10), gift(11)], GiftOptions::bulk())
        .await;
    assert!(
        many.iter().all(|r| *r == Err(GiftError::ReadOnly)),
        "{many:?}"
    );
    assert!(matches!(
        ro.start_consumer(ConsumerConfig::default(), None),
        Err(BackendError::ReadOnly(_))
    ));
    let redrive = ro
        .start_redrive(RedriveRequest {
            scope: RedriveScope::All,
            destination: None,
            rate: None,
            note: None,
        })
        .wait()
        .await;
    assert!(
        matches!(&redrive.status, RedriveStatus::Failed(why) if why.contains("read-only")),
        "{redrive:?}"
    );
    assert_eq!(redrive.moved, 0);
    assert!(matches!(
        ro.peek_dlq(10).await,
        Err(BackendError::ReadOnly(_))
    ));
    assert!(matches!(
        ro.delete_dlq(&["x".to_string()], None).await,
        Err(BackendError::ReadOnly(_))
    ));
    let why = OperatorNote::parse("drill").expect("a note");
    assert!(matches!(
        ro.purge_dlq(why.as_ref()).await,
        Err(BackendError::ReadOnly(_))
    ));
    assert!(matches!(
        ro.provision().await,
        Err(BackendError::ReadOnly(_))
    ));

    // Reads still work, and nothing moved: same depths, and the DLQ messages were never received.
    let (queue_after, dlq_after) = depths(&ro).await;
    assert_eq!(counts(&queue_after), counts(&queue_before));
    assert_eq!(counts(&dlq_after), counts(&dlq_before));
    assert!(ro.status(5).await.is_ok());
    let peeked = writable.peek_dlq(10).await.expect("peek");
    assert_eq!(peeked.len(), 2);
    assert!(
        peeked.iter().all(|m| m.receive_count == 1),
        "the read-only pipeline raised receive counts: {peeked:?}"
    );

    // Every refusal is audited.
    let audit = ro.recent_audit(50).await.expect("audit");
    let refused: Vec<AuditAction> = audit
        .iter()
        .filter(|a| a.outcome == AuditOutcome::Refused)
        .map(|a| a.action)
        .collect();
    for action in [
        AuditAction::Gift,
        AuditAction::Redrive,
        AuditAction::DlqDelete,
        AuditAction::DlqPurge,
        AuditAction::Provision,
    ] {
        assert!(
            refused.contains(&action),
            "{action:?} not audited: {refused:?}"
        );
    }
    let kept = |a: &AuditEntry| a.action == AuditAction::DlqPurge && a.note == Some("drill".into());
    assert!(audit.iter().any(kept), "a refusal keeps its note");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_is_audited_with_who_what_how_many_and_outcome() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("audit").join("audit.jsonl");
    let e = Embedded::new(voucherdeck_core::backend::Names::default());
    let p = Pipeline::new(
        e.backend.clone(),
        PipelineConfig {
            audit_file: Some(file.clone()),
            ..PipelineConfig::default()
        },
    );
    p.provision().await.expect("provision");
    let results = p
        .gift_many(
            &[gift(1), gift(2), GiftRequest::default()],
            GiftOptions::bulk(),
        )
        .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
    let dlq = p.dlq().await.expect("dlq");
    let poison = OutgoingMessage {
        id: "0".into(),
        body: "poison".into(),
        attributes: BTreeMap::new(),
        delay: None,
        group: None,
        dedup: None,
    };
    e.backend
        .queue
        .send_batch(&dlq, &[poison])
        .await
        .expect("send");
    let id = p.peek_dlq(10).await.expect("peek")[0].message_id.clone();
    assert_eq!(p.delete_dlq(&[id], None).await.expect("delete"), 1);
    tokio::time::sleep(Duration::from_millis(10)).await;

    let audit = p.recent_audit(10).await.expect("audit");
    let actor = p.actor().await;
    assert!(actor.starts_with("local:"), "{actor}");
    let find = |action| {
        audit
            .iter()
            .find(|a| a.action == action)
            .unwrap_or_else(|| panic!("no {action:?} in {audit:?}"))
    };
    let gifted = find(AuditAction::Gift);
    assert_eq!(
        (gifted.count, gifted.outcome, gifted.actor.as_str()),
        (2, AuditOutcome::Ok, actor.as_str())
    );
    assert!(
        gifted
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("1 refused")),
        "{gifted:?}"
    );
    let deleted = find(AuditAction::DlqDelete);
    assert_eq!((deleted.count, deleted.outcome), (1, AuditOutcome::Ok));
    assert_eq!(find(AuditAction::Provision).outcome, AuditOutcome::Ok);

    // The same entries, one JSON object per line, in the local audit file.
    let text = std::fs::read_to_string(&file).expect("audit file");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), audit.len());
    assert!(
        lines
            .iter()
            .any(|l| l["action"] == "dlq_delete" && l["count"] == 1)
    );
}
