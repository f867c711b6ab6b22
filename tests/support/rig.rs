//! A pipeline on moto for end-to-end runs of real processes: provisioned resources with fresh
//! names, a fault proxy in front of moto for the processes, and direct access to moto (around the
//! proxy) to load the queue and to read the final state.
//!
//! Include it after `moto`, `proxy` and `procs`: `#[path = "support/rig.rs"] mod rig;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use uuid::Uuid;
use voucherdeck_core::domain::GiftRequest;
use voucherdeck_core::ports::{
    OutgoingMessage, QueueRef, QueueStats, ReceiveRequest, ReceivedMessage,
};
use voucherdeck_pipeline::{GiftOptions, Pipeline, PipelineConfig};

use crate::moto::{MotoServer, aws_backend, unique_names};
use crate::procs::Env;
use crate::proxy::{FaultProxy, Faults};

/// Visibility timeout of the rig's queues: short enough for a killed worker's messages to come back
/// quickly, long enough for a batch (the heartbeat extends it anyway).
pub const VISIBILITY_SECS: u64 = 6;
/// Receives before SQS dead-letters a message: room for several kills and injected faults.
pub const MAX_RECEIVES: u32 = 10;

/// The processes' config file.
pub fn config_toml() -> String {
    format!(
        "visibility_timeout_seconds = {VISIBILITY_SECS}\nmax_receive_count = {MAX_RECEIVES}\n\
         per_minute = 100000\ndaily_cap = 100000\n"
    )
}

pub struct Rig {
    pub rt: tokio::runtime::Runtime,
    pub moto: MotoServer,
    pub proxy: FaultProxy,
    pub env: Env,
    /// Straight to moto.
    pub pipeline: Pipeline,
}

impl Rig {
    pub fn new(prefix: &str, faults: Faults) -> Rig {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let moto = MotoServer::start();
        let mut names = unique_names(prefix);
        // The tables as the command line derives them from --table.
        names.failure_table = format!("{}-failures", names.table);
        names.quota_table = format!("{}-quotas", names.table);
        names.audit_table = format!("{}-audit", names.table);
        let pipeline = rt.block_on(async {
            let backend = aws_backend(&moto, names.clone()).await;
            let p = Pipeline::new(
                backend,
                PipelineConfig {
                    visibility_timeout: Duration::from_secs(VISIBILITY_SECS),
                    max_receive_count: MAX_RECEIVES,
                    ..PipelineConfig::default()
                },
            );
            p.provision().await.expect("provision on moto");
            p
        });
        let proxy = FaultProxy::start(moto.port(), faults);
        let env = Env::new(&proxy.endpoint(), names, &config_toml());
        Rig {
            rt,
            moto,
            proxy,
            env,
            pipeline,
        }
    }

    /// Queues `n` valid gifts straight to moto; their voucher ids.
    pub fn gift(&self, n: usize) -> Vec<Uuid> {
        let reqs: Vec<GiftRequest> = (0..n)
            .map(|i| GiftRequest {
                recipient: format!("user{i}@example.com"),
                amount: format!("{}.00", 1 + i % 50),
                sender: "rig".into(),
                ..GiftRequest::default()
            })
            .collect();
        self.rt.block_on(async {
            self.pipeline
                .gift_many(&reqs, GiftOptions::bulk())
                .await
                .into_iter()
                .map(|r| r.expect("gift").voucher_id)
                .collect()
        })
    }

    /// Queues poison messages (bodies the consumer must dead-letter) straight to moto.
    pub fn poison(&self, bodies: &[String]) {
        let q = self.rt.block_on(self.pipeline.queue()).expect("queue");
        self.send_raw(&q, bodies);
    }

    /// Sends messages straight to the DLQ (to redrive them).
    pub fn to_dlq(&self, bodies: &[String]) {
        let d = self.rt.block_on(self.pipeline.dlq()).expect("dlq");
        self.send_raw(&d, bodies);
    }

    /// Sends bodies to a queue in batches of 10, past the producer.
    fn send_raw(&self, queue: &QueueRef, bodies: &[String]) {
        self.rt.block_on(async {
            for chunk in bodies.chunks(10) {
                let entries: Vec<OutgoingMessage> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, b)| OutgoingMessage {
                        id: i.to_string(),
                        body: b.clone(),
                        attributes: BTreeMap::new(),
                        delay: None,
                        group: None,
                        dedup: None,
                    })
                    .collect();
                let out = self
                    .pipeline
                    .backend()
                    .queue
                    .send_batch(queue, &entries)
                    .await
                    .expect("send raw messages");
                assert!(out.failed.is_empty(), "{out:?}");
            }
        });
    }

    /// Queue and DLQ figures, from moto.
    pub fn stats(&self) -> (QueueStats, QueueStats) {
        self.rt
            .block_on(self.pipeline.depths())
            .expect("queue figures")
    }

    pub fn vouchers(&self) -> u64 {
        self.rt
            .block_on(self.pipeline.backend().store.count_vouchers())
            .expect("count vouchers")
    }

    /// Whether every one of these vouchers is stored.
    pub fn stored(&self, ids: &[Uuid]) -> Vec<Uuid> {
        self.rt.block_on(async {
            let mut missing = Vec::new();
            for id in ids {
                let got = self
                    .pipeline
                    .backend()
                    .store
                    .get_voucher(*id)
                    .await
                    .expect("get voucher");
                if got.is_none() {
                    missing.push(*id);
                }
            }
            missing
        })
    }

    /// Every message in the DLQ (received with a long visibility: read the DLQ once, at the end).
    pub fn dlq_messages(&self) -> Vec<ReceivedMessage> {
        self.rt.block_on(async {
            let d = self.pipeline.dlq().await.expect("dlq");
            let mut all: BTreeMap<String, ReceivedMessage> = BTreeMap::new();
            let mut empty = 0;
            while empty < 2 {
                let got = self
                    .pipeline
                    .backend()
                    .queue
                    .receive(
                        &d,
                        ReceiveRequest {
                            max: 10,
                            wait: Duration::from_millis(500),
                            visibility: Some(Duration::from_mins(2)),
                        },
                    )
                    .await
                    .expect("receive from the DLQ");
                if got.is_empty() {
                    empty += 1;
                }
                for m in got {
                    all.insert(m.message_id.clone(), m);
                }
            }
            all.into_values().collect()
        })
    }

    /// Runs `worker --until-empty` straight on moto until the queue is empty and nothing is in
    /// flight (messages a stopped process left hidden come back after the visibility timeout).
    pub fn drain(&self) {
        let moto = self.moto.endpoint();
        for _ in 0..6 {
            let child = self
                .env
                .command_at(&moto, &["worker", "--until-empty"])
                .spawn()
                .expect("spawn the draining worker");
            let (status, _, err) = crate::procs::finish(child, Duration::from_secs(90), "drain");
            assert!(status.success(), "draining worker failed: {err}");
            let (q, _) = self.stats();
            if q.visible + q.in_flight + q.delayed == 0 {
                return;
            }
            std::thread::sleep(Duration::from_secs(VISIBILITY_SECS));
        }
        panic!("the queue did not drain: {:?}", self.stats().0);
    }
}

/// `n` distinct poison bodies (not JSON), tagged so they can be told apart in the DLQ.
pub fn poison_bodies(tag: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("poison {tag} #{i}: not json"))
        .collect()
}
