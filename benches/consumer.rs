//! Consumer benchmark on moto: voucherdeck's consumer against boto3 reference consumers
//! (`benches/reference/boto3_consumer.py`) draining the same backlog from the same moto in the same
//! run.
//!
//! - **CPU per voucher, whole process**: user + system time of the consumer's process from start to
//!   exit, divided by the vouchers it persisted: `voucherdeck worker --until-empty` against the boto3
//!   batch consumer, both read the same way from `/proc/PID/stat`.
//! - **CPU per voucher, draining only**: the same consumers' CPU while they drain the backlog (start
//!   up and the empty-queue check left out), which is the per-request cost.
//! - **Requests per voucher** until the backlog is persisted, beside boto3 per-message (2.1) and naive
//!   (3.0) consumers counted the same way (operations the consumer issued).
//! - **Throughput** and **moto's CPU share** while draining.
//!
//! `cargo bench --bench consumer` runs the full measurement (backlog 400; `VOUCHERDECK_BENCH_BACKLOG`
//! changes it); `cargo test` runs it as a quick check on a backlog of 20. Every backlog is preloaded by
//! voucherdeck's producer before anything is measured; moto is slow at depth (see SQS-FACTS.md),
//! which keeps the backlog small.

#[path = "../tests/support/moto.rs"]
mod moto;
#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::Deserialize;
use voucherdeck_aws::AwsOptions;
use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::GiftRequest;
use voucherdeck_core::ports::RequestCounter;
use voucherdeck_pipeline::{ConsumerConfig, Pipeline, PipelineConfig};

use moto::MotoServer;

/// One consumer's drain of the backlog.
struct Run {
    name: String,
    vouchers: u64,
    /// The consumer's CPU time while it drained the backlog.
    cpu: Duration,
    /// The consumer process's CPU time from start to exit, when it ran as a process of its own.
    process_cpu: Option<Duration>,
    wall: Duration,
    /// Requests until the backlog was persisted, by operation.
    requests: BTreeMap<String, u64>,
    /// Requests after that: the drain check (empty receives, queue counts) and the last publish.
    tail_requests: u64,
    /// moto's CPU time over the same wall time.
    moto_cpu: Duration,
}

impl Run {
    fn requests(&self) -> u64 {
        self.requests.values().sum()
    }

    fn per_voucher(&self, x: f64) -> f64 {
        x / self.vouchers.max(1) as f64
    }

    fn cpu_ms_per_voucher(&self) -> f64 {
        self.per_voucher(self.cpu.as_secs_f64() * 1000.0)
    }

    fn process_ms_per_voucher(&self) -> Option<f64> {
        self.process_cpu
            .map(|c| self.per_voucher(c.as_secs_f64() * 1000.0))
    }

    fn requests_per_voucher(&self) -> f64 {
        self.per_voucher(self.requests() as f64)
    }

    fn rate(&self) -> f64 {
        self.vouchers as f64 / self.wall.as_secs_f64()
    }

    fn moto_share(&self) -> f64 {
        self.moto_cpu.as_secs_f64() / self.wall.as_secs_f64()
    }

    fn print(&self) {
        let process = self
            .process_ms_per_voucher()
            .map_or_else(|| "—".to_string(), |ms| format!("{ms:.3}"));
        println!(
            "  {:<24} {:>5} {:>8.1} {:>9} {:>9.3} {:>9.3} {:>8.0}% {:>9.3}",
            self.name,
            self.vouchers,
            self.rate(),
            process,
            self.cpu_ms_per_voucher(),
            self.requests_per_voucher(),
            self.moto_share() * 100.0,
            self.per_voucher((self.requests() + self.tail_requests) as f64),
        );
        let ops: Vec<String> = self
            .requests
            .iter()
            .map(|(op, c)| format!("{op}={c}"))
            .collect();
        println!("  {:<24} {}", "", ops.join(" "));
    }
}

/// Fresh resource names as the command line derives them from `--queue` and `--table`.
fn names() -> Names {
    let base = moto::unique_names("bench").queue;
    Names {
        dlq: format!("{base}-dlq"),
        table: base.clone(),
        failure_table: format!("{base}-failures"),
        quota_table: format!("{base}-quotas"),
        audit_table: format!("{base}-audit"),
        key_table: format!("{base}-keys"),
        queue: base,
    }
}

/// A pipeline on moto, as the `worker` command opens it (standard retries, default timeouts),
/// provisioned, with `n` vouchers waiting.
async fn backlog(server: &MotoServer, n: usize) -> Pipeline {
    let opts = AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(server.endpoint()),
        ..AwsOptions::default()
    };
    let backend = voucherdeck_aws::connect(&opts, names(), RequestCounter::default())
        .await
        .expect("connect to moto");
    let p = Pipeline::new(backend, PipelineConfig::default());
    p.provision().await.expect("provision");
    let gifts: Vec<GiftRequest> = (0..n)
        .map(|i| GiftRequest {
            recipient: format!("user{i}@example.com"),
            amount: "10.00".into(),
            sender: format!("bench{}", i % 50),
            note: Some("thanks for the help".into()),
            ..GiftRequest::default()
        })
        .collect();
    support::gift_bulk(&p, &gifts, 500).await;
    p
}

async fn stored(p: &Pipeline) -> u64 {
    p.backend().store.count_vouchers().await.expect("count")
}

fn moto_cpu(server: &MotoServer) -> Duration {
    support::cpu_of(server.pid()).unwrap_or_default()
}

/// voucherdeck's consumer in this process, with the `worker` command's settings: CPU while it
/// drains, and requests split at the moment the backlog is persisted.
async fn voucherdeck_drain(server: &MotoServer, n: usize) -> Run {
    let p = backlog(server, n).await;
    let counter = p.backend().requests.clone();
    let before = counter.by_op();
    let cfg = ConsumerConfig {
        until_empty: true,
        ..ConsumerConfig::default()
    };
    let name = format!("voucherdeck ({} loops)", cfg.concurrency);
    let (moto0, clock) = (moto_cpu(server), support::Stopwatch::start());
    let handle = p.start_consumer(cfg, None).expect("start the consumer");
    while handle.snapshot().totals.persisted < n as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (cpu, wall) = clock.read();
    let moto_cpu = moto_cpu(server).saturating_sub(moto0);
    let at_backlog = counter.total();
    let requests = counter
        .by_op()
        .into_iter()
        .map(|(op, c)| (op.to_string(), c - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, c)| *c > 0)
        .collect();
    let report = handle.join().await;
    assert_eq!(stored(&p).await, n as u64, "every voucher stored once");
    Run {
        name,
        vouchers: report.totals.persisted.min(n as u64),
        cpu,
        process_cpu: None,
        wall,
        requests,
        tail_requests: counter.total() - at_backlog,
        moto_cpu,
    }
}

/// Waits until `child` has exited and returns its CPU time, read while it is a zombie (its whole
/// life, every thread), then reaps it.
fn cpu_at_exit(child: &mut Child) -> Duration {
    let pid = child.id();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rfind(')').and_then(|i| stat.get(i + 2..i + 3));
        if state == Some("Z") || stat.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let cpu = support::cpu_of(pid).unwrap_or_default();
    let status = child.wait().expect("wait for the consumer");
    assert!(status.success(), "the consumer process failed: {status}");
    cpu
}

/// `voucherdeck worker --until-empty --json` as a process of its own: its CPU from start to exit.
fn voucherdeck_process(rt: &tokio::runtime::Runtime, server: &MotoServer, n: usize) -> Duration {
    let p = rt.block_on(backlog(server, n));
    let names = &p.backend().names;
    let state = std::env::temp_dir().join(format!("voucherdeck-bench-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_voucherdeck"))
        .args(["worker", "--until-empty", "--json"])
        .env("VOUCHERDECK_ENDPOINT_URL", server.endpoint())
        .env("VOUCHERDECK_QUEUE", &names.queue)
        .env("VOUCHERDECK_DLQ", &names.dlq)
        .env("VOUCHERDECK_TABLE", &names.table)
        .env("XDG_STATE_HOME", &state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start voucherdeck worker");
    let cpu = cpu_at_exit(&mut child);
    let mut out = String::new();
    let _ = child.stdout.take().map(|mut s| s.read_to_string(&mut out));
    let _ = std::fs::remove_dir_all(&state);
    assert_eq!(
        rt.block_on(stored(&p)),
        n as u64,
        "the worker stored every voucher"
    );
    cpu
}

/// The reference consumer's report (its last line of output).
#[derive(Deserialize)]
struct Reference {
    vouchers: u64,
    cpu_seconds: f64,
    wall_seconds: f64,
    requests: BTreeMap<String, u64>,
}

/// The Python next to the moto binary (the virtual environment that holds moto holds boto3).
fn python() -> PathBuf {
    let moto = std::env::var_os("VOUCHERDECK_MOTO").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"),
        PathBuf::from,
    );
    moto.with_file_name("python")
}

/// A boto3 reference consumer (`mode`: batch, per-message, naive) draining a fresh backlog of `n`.
fn boto3(rt: &tokio::runtime::Runtime, server: &MotoServer, mode: &str, n: usize) -> Run {
    let p = rt.block_on(backlog(server, n));
    let names = &p.backend().names;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/reference/boto3_consumer.py");
    let mut child = Command::new(python())
        .arg(script)
        .args(["--endpoint", &server.endpoint(), "--queue", &names.queue])
        .args(["--table", &names.table, "--mode", mode])
        .args(["--expect", &n.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the boto3 consumer (is boto3 next to moto?)");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    // The first line says it is ready (imports and clients done); moto is measured from there.
    let ready = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(ready.contains("ready"), "unexpected first line: {ready}");
    let moto0 = moto_cpu(server);
    let last = lines.next().and_then(Result::ok).unwrap_or_default();
    let moto_cpu = moto_cpu(server).saturating_sub(moto0);
    let process_cpu = cpu_at_exit(&mut child);
    let r: Reference = serde_json::from_str(&last).expect("the boto3 consumer's report");
    assert_eq!(
        rt.block_on(stored(&p)),
        n as u64,
        "the {mode} reference stored every voucher"
    );
    Run {
        name: format!("boto3 {mode}"),
        vouchers: r.vouchers,
        cpu: Duration::from_secs_f64(r.cpu_seconds),
        process_cpu: Some(process_cpu),
        wall: Duration::from_secs_f64(r.wall_seconds),
        requests: r.requests,
        tail_requests: 0,
        moto_cpu,
    }
}

fn backlog_size(full: bool) -> usize {
    if !full {
        return 20;
    }
    std::env::var("VOUCHERDECK_BENCH_BACKLOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

fn print_runs(runs: &[&Run]) {
    println!(
        "  {:<24} {:>5} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "consumer", "n", "v/s", "CPU ms/v", "draining", "req/v", "moto CPU", "req/v+tail"
    );
    for r in runs {
        r.print();
    }
    println!();
}

fn print_figures(ours: &Run, reference: &Run, per_message: &Run, naive: &Run) {
    support::print_table_header();
    let (op, rp) = (
        ours.process_ms_per_voucher().unwrap_or(f64::NAN),
        reference.process_ms_per_voucher().unwrap_or(f64::NAN),
    );
    support::print_row(
        "consumer CPU per voucher, process (ms)",
        &format!("{op:.3}"),
        &format!("{rp:.3} boto3"),
        Some(op / rp),
        "ratio ≤ 0.10",
    );
    support::print_row(
        "consumer CPU per voucher, draining (ms)",
        &format!("{:.3}", ours.cpu_ms_per_voucher()),
        &format!("{:.3} boto3", reference.cpu_ms_per_voucher()),
        Some(ours.cpu_ms_per_voucher() / reference.cpu_ms_per_voucher()),
        "ratio ≤ 0.10",
    );
    for (name, r) in [("per-message", per_message), ("naive", naive)] {
        support::print_row(
            &format!("requests per voucher (vs {name})"),
            &format!("{:.3}", ours.requests_per_voucher()),
            &format!("{:.3} {name}", r.requests_per_voucher()),
            Some(ours.requests_per_voucher() / r.requests_per_voucher()),
            "≤ 0.30 a voucher",
        );
    }
    support::print_row(
        "throughput on moto (vouchers/s)",
        &format!("{:.1}", ours.rate()),
        &format!("{:.1} boto3", reference.rate()),
        Some(ours.rate() / reference.rate()),
        "moto the bottleneck",
    );
    support::print_row(
        "moto's CPU share while draining",
        &format!("{:.0}%", ours.moto_share() * 100.0),
        &format!("{:.0}% boto3", reference.moto_share() * 100.0),
        None,
        "> 95%",
    );
}

fn main() {
    let full = support::full_run();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let n = backlog_size(full);
    let server = MotoServer::start();
    if full {
        support::print_machine("consumer on moto");
        println!(
            "  backlog {n} vouchers (per-message and naive: {}); moto {}",
            n / 2,
            moto::MOTO_VERSION
        );
    }
    let mut ours = rt.block_on(voucherdeck_drain(&server, n));
    ours.process_cpu = Some(voucherdeck_process(&rt, &server, n));
    let reference = boto3(&rt, &server, "batch", n);
    if !full {
        return;
    }
    let per_message = boto3(&rt, &server, "per-message", n / 2);
    let naive = boto3(&rt, &server, "naive", n / 2);
    print_runs(&[&ours, &reference, &per_message, &naive]);
    print_figures(&ours, &reference, &per_message, &naive);
}
