//! Past its body budget a DLQ session keeps ids, receipts and the diagnosis, not bodies; what needs
//! a body reads it again (export, count by text) or says where to see it (resend), and the chosen
//! message of a resend or a redrive is kept whole whatever the budget.

use std::collections::BTreeMap;

use voucherdeck_core::backend::Names;
use voucherdeck_core::ports::OutgoingMessage;
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{DlqFilter, DlqMessage, Pipeline, PipelineConfig};

const BODY: usize = 10_000;

/// A pipeline whose DLQ holds `n` messages of about `BODY` bytes, each naming its number.
async fn dlq_of(n: usize) -> Pipeline {
    let p = Pipeline::new(
        Embedded::new(Names::default()).backend,
        PipelineConfig::default(),
    );
    p.provision().await.expect("provision");
    let dlq = p.dlq().await.expect("dlq");
    let batch: Vec<OutgoingMessage> = (0..n)
        .map(|i| OutgoingMessage {
            id: i.to_string(),
            body: format!(
                "{{\"recipient\":\"r{i}@example.com\",\"amount\":5,\"currency\":\"EUR\",\"sender\":\"acme\",\"note\":\"{}\"}}",
                "x".repeat(BODY)
            ),
            attributes: BTreeMap::from([
                ("voucherdeck.error_kind".to_string(), "invalid".to_string()),
                (
                    "voucherdeck.error_message".to_string(),
                    format!("message {i} is wrong"),
                ),
                ("own".to_string(), "y".repeat(BODY)),
            ]),
            delay: None,
            group: None,
            dedup: None,
        })
        .collect();
    for chunk in batch.chunks(10) {
        let sent = p
            .backend()
            .queue
            .send_batch(&dlq, chunk)
            .await
            .expect("send");
        assert!(sent.failed.is_empty(), "{:?}", sent.failed);
    }
    p
}

fn recipient(m: &DlqMessage) -> String {
    let v: serde_json::Value = serde_json::from_str(&m.body).expect("a whole body");
    v["recipient"].as_str().expect("recipient").to_string()
}

#[tokio::test]
async fn past_the_budget_bodies_are_let_go_and_the_diagnosis_kept() {
    let p = dlq_of(30).await;
    // Room for about five whole messages (body and attributes).
    let mut s = p
        .open_dlq_session()
        .await
        .expect("session")
        .with_body_budget(5 * 2 * BODY + 5 * 400);
    let loaded = s.load(usize::MAX, &mut |_| {}).await.expect("load");
    assert_eq!(loaded.len(), 30);
    let (whole, dropped): (Vec<&DlqMessage>, Vec<&DlqMessage>) =
        loaded.iter().partition(|m| !m.body_dropped);
    assert_eq!((whole.len(), dropped.len()), (5, 25));
    assert_eq!(s.bodies_dropped(), 25);
    for m in &dropped {
        assert!(m.body.is_empty());
        assert!(!m.attributes.contains_key("own"), "own attributes let go");
        let f = m.failure.as_ref().expect("the diagnosis is kept");
        assert_eq!(f.kind(), "invalid");
        assert!(f.reason().contains("is wrong"));
        assert!(
            s.salvage(&m.message_id).is_none(),
            "no gift to edit out of a body not kept"
        );
    }
    for m in &whole {
        assert!(s.salvage(&m.message_id).is_some());
    }

    // A filter by kind or reason counts from what was kept; one on the body reads those again.
    let by_reason = DlqFilter {
        reason: Some("message 2".into()),
        ..DlqFilter::default()
    };
    let counted = s.count(&by_reason, &mut |_| {}).await.expect("count");
    assert_eq!(
        (counted.matched, counted.scanned, counted.complete),
        (11, 30, true),
        "2, 20–29"
    );
    let by_text = DlqFilter {
        text: Some("r1".into()),
        ..DlqFilter::default()
    };
    let counted = s.count(&by_text, &mut |_| {}).await.expect("count");
    assert_eq!(
        (counted.matched, counted.scanned),
        (11, 30),
        "1, 10–19: every body searched"
    );

    // An export writes every message whole: those not kept are read again.
    let mut out = Vec::new();
    let exported = s
        .export(&mut out, usize::MAX, &mut |_| {})
        .await
        .expect("export");
    assert_eq!((exported.written, exported.complete), (30, true));
    let lines: Vec<DlqMessage> = String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            assert!(v.get("body_dropped").is_none(), "every line whole: {l:.80}");
            DlqMessage {
                message_id: v["message_id"].as_str().expect("id").into(),
                body: v["body"].as_str().expect("body").into(),
                attributes: BTreeMap::new(),
                receive_count: 0,
                sent_at: None,
                failure: None,
                body_dropped: false,
                group: None,
            }
        })
        .collect();
    let mut recipients: Vec<String> = lines.iter().map(recipient).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 30, "each message once, with its body");
    assert_eq!(s.loaded(), 30);
    s.release().await;
}

#[tokio::test]
async fn the_message_looked_for_is_kept_whole() {
    let p = dlq_of(12).await;
    let mut peek = p.open_dlq_session().await.expect("session");
    let ids: Vec<String> = peek
        .load(usize::MAX, &mut |_| {})
        .await
        .expect("load")
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    peek.release().await;
    let last = ids.last().expect("a message").clone();

    let mut s = p
        .open_dlq_session()
        .await
        .expect("session")
        .with_body_budget(0);
    s.keep_body_of(&last);
    let loaded = s.load(usize::MAX, &mut |_| {}).await.expect("load");
    assert_eq!(loaded.iter().filter(|m| m.body_dropped).count(), 11);
    let gift = s.salvage(&last).expect("kept whole");
    assert!(gift.recipient.starts_with('r'));
    s.release().await;
}

#[tokio::test]
async fn a_redrive_of_messages_whose_bodies_were_let_go_moves_them_whole() {
    use voucherdeck_core::ports::ReceiveRequest;
    use voucherdeck_pipeline::{RedriveRequest, RedriveScope, RedriveStatus};

    let p = dlq_of(6).await;
    let mut s = p
        .open_dlq_session()
        .await
        .expect("session")
        .with_body_budget(0);
    let loaded = s.load(usize::MAX, &mut |_| {}).await.expect("load");
    assert!(loaded.iter().all(|m| m.body_dropped));
    let chosen = vec![loaded[0].message_id.clone(), loaded[3].message_id.clone()];
    let mut handle = s
        .start_redrive(RedriveRequest {
            scope: RedriveScope::Ids(chosen),
            destination: None,
            rate: Some(500),
            note: None,
        })
        .await;
    handle.settle().await;
    let last = handle.progress.borrow().clone();
    assert_eq!(
        (&last.status, last.moved, last.failed),
        (&RedriveStatus::Completed, 2, 0),
        "{last:?}"
    );
    s.release().await;
    let queue = p.open_queue(&p.backend().names.queue).await.expect("queue");
    let moved = p
        .backend()
        .queue
        .receive(
            &queue,
            ReceiveRequest {
                max: 10,
                wait: std::time::Duration::from_millis(200),
                visibility: None,
            },
        )
        .await
        .expect("receive");
    assert_eq!(moved.len(), 2);
    for m in &moved {
        assert!(m.body.len() > BODY, "sent whole: {} bytes", m.body.len());
        assert_eq!(m.attributes.get("own").map(String::len), Some(BODY));
    }
}
