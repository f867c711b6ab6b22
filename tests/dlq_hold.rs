//! An export that takes longer than a DLQ session's hold (10 minutes: a large DLQ, a slow endpoint)
//! still reads every message: the session extends its hold while it reads, so what it read first
//! does not come back and end the reading early. The embedded backend's clock is tokio's, paused
//! here: each receive takes a minute of it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use voucherdeck_core::backend::Names;
use voucherdeck_core::ports::{
    BatchResult, MoveTask, OutgoingMessage, Queue, QueueRef, QueueSettings, QueueSpec, QueueStats,
    Receipt, ReceiveRequest, ReceivedMessage, Result, VisibilityChange,
};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{DLQ_HOLD, Pipeline, PipelineConfig};

/// The embedded queues, where every receive takes a minute.
struct MinuteReceives(Arc<dyn Queue>);

#[async_trait]
impl Queue for MinuteReceives {
    async fn ensure(&self, spec: &QueueSpec) -> Result<(QueueRef, bool)> {
        self.0.ensure(spec).await
    }
    async fn settings(&self, queue: &QueueRef) -> Result<QueueSettings> {
        self.0.settings(queue).await
    }
    async fn update(&self, queue: &QueueRef, spec: &QueueSpec) -> Result<()> {
        self.0.update(queue, spec).await
    }
    async fn open(&self, name: &str) -> Result<QueueRef> {
        self.0.open(name).await
    }
    async fn send_batch(&self, queue: &QueueRef, m: &[OutgoingMessage]) -> Result<BatchResult> {
        self.0.send_batch(queue, m).await
    }
    async fn receive(&self, queue: &QueueRef, req: ReceiveRequest) -> Result<Vec<ReceivedMessage>> {
        tokio::time::advance(Duration::from_mins(1)).await;
        self.0.receive(queue, req).await
    }
    async fn delete_batch(&self, queue: &QueueRef, receipts: &[Receipt]) -> Result<BatchResult> {
        self.0.delete_batch(queue, receipts).await
    }
    async fn change_visibility_batch(
        &self,
        queue: &QueueRef,
        changes: &[VisibilityChange],
    ) -> Result<BatchResult> {
        self.0.change_visibility_batch(queue, changes).await
    }
    async fn stats(&self, queue: &QueueRef) -> Result<QueueStats> {
        self.0.stats(queue).await
    }
    async fn dead_letter_sources(&self, dlq: &QueueRef) -> Result<Vec<QueueRef>> {
        self.0.dead_letter_sources(dlq).await
    }
    async fn start_move_task(
        &self,
        dlq: &QueueRef,
        destination: Option<&QueueRef>,
        rate: Option<u32>,
    ) -> Result<String> {
        self.0.start_move_task(dlq, destination, rate).await
    }
    async fn list_move_tasks(&self, dlq: &QueueRef) -> Result<Vec<MoveTask>> {
        self.0.list_move_tasks(dlq).await
    }
    async fn cancel_move_task(&self, handle: &str) -> Result<u64> {
        self.0.cancel_move_task(handle).await
    }
    async fn purge(&self, queue: &QueueRef) -> Result<()> {
        self.0.purge(queue).await
    }
}

#[tokio::test(start_paused = true)]
async fn an_export_longer_than_the_hold_reads_every_message() {
    let mut backend = Embedded::new(Names::default()).backend;
    backend.queue = Arc::new(MinuteReceives(backend.queue.clone()));
    let p = Pipeline::new(backend, PipelineConfig::default());
    p.provision().await.expect("provision");
    let dlq = p.dlq().await.expect("dlq");
    let n = 250;
    for start in (0..n).step_by(10) {
        let batch: Vec<OutgoingMessage> = (start..start + 10)
            .map(|i| OutgoingMessage {
                id: (i - start).to_string(),
                body: format!("{{\"n\":{i}}}"),
                attributes: BTreeMap::new(),
                delay: None,
                group: None,
                dedup: None,
            })
            .collect();
        p.backend()
            .queue
            .send_batch(&dlq, &batch)
            .await
            .expect("send");
    }
    let began = tokio::time::Instant::now();
    let mut s = p
        .open_dlq_session()
        .await
        .expect("session")
        .with_body_budget(0);
    let mut out = Vec::new();
    let exported = s
        .export(&mut out, usize::MAX, &mut |_| {})
        .await
        .expect("export");
    assert_eq!((exported.written, exported.complete), (n, true));
    assert!(
        began.elapsed() > DLQ_HOLD * 2,
        "the reading outlasted the hold: {:?}",
        began.elapsed()
    );
    let text = String::from_utf8(out).expect("utf-8");
    let mut seen: Vec<u64> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            let body: serde_json::Value =
                serde_json::from_str(v["body"].as_str().expect("body")).expect("body json");
            body["n"].as_u64().expect("n")
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..n as u64).collect::<Vec<_>>(), "each message once");
    s.release().await;
}
