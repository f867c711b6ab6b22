//! No log line carries a full recipient: the consumer's failure logs say the voucher id, message
//! id, kind and masked recipient, and mask any address a reason quotes from a body. (Alone in its
//! test binary: a thread-local log subscriber sees every event only when no other test runs.)

#[path = "support/messages.rs"]
mod messages;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use messages::outgoing;
use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::{GiftRequest, Recipient, Voucher, encode};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{ConsumerConfig, GiftOptions, Pipeline, PipelineConfig};

async fn run(p: &Pipeline) {
    let cfg = ConsumerConfig {
        wait: Duration::from_millis(200),
        until_empty: true,
        publish_every: None,
        ..ConsumerConfig::default()
    };
    let h = p.start_consumer(cfg, None).expect("start");
    tokio::time::timeout(Duration::from_secs(30), h.join())
        .await
        .expect("drains");
}

/// A writer the test reads back: the log of one test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn failure_logs_never_carry_a_full_recipient() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let e = Embedded::new(Names::default());
    let p = Pipeline::new(e.backend.clone(), PipelineConfig::default());
    p.provision().await.expect("provision");
    let gift = GiftRequest {
        recipient: "ada.lovelace@example.com".into(),
        amount: "7.00".into(),
        sender: "ops".into(),
        ..GiftRequest::default()
    };
    let receipt = p.gift(&gift, GiftOptions::default()).await.expect("gift");
    run(&p).await;
    let stored = e
        .backend
        .store
        .get_voucher(receipt.voucher_id)
        .await
        .expect("get")
        .expect("stored");
    let forged = Voucher {
        recipient: Recipient::Email("mallory.x@example.net".into()),
        ..stored
    };
    let q = p.queue().await.expect("queue");
    // serde's error quotes the unknown variant: the reason would carry the address.
    let body_quoting = r#"{"v":1,"voucher_id":"0190b6d8-7f3a-7c1e-9d2b-3a4c5d6e7f80","created_at":"2026-01-01T00:00:00.000Z","recipient":{"kind":"mallory.x@example.net","address":"x"},"amount":"1.00","currency":"USD","sender":"s"}"#;
    let sent = [outgoing("0", &encode(&forged)), outgoing("1", body_quoting)];
    e.backend.queue.send_batch(&q, &sent).await.expect("send");
    run(&p).await;

    let log = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
    assert!(log.contains("message failed"), "{log}");
    assert!(
        log.contains("kind=conflict") && log.contains("m***@example.net"),
        "{log}"
    );
    assert!(
        log.contains(&format!("voucher_id={}", forged.voucher_id)),
        "{log}"
    );
    for full in ["mallory.x@example.net", "ada.lovelace@example.com"] {
        assert!(!log.contains(full), "a full recipient in the log: {log}");
    }
}
