//! Faults the pipeline must survive, as real processes on moto: workers killed at random moments,
//! a network that delays, fails, throttles and resets (the fault proxy), a backend that goes away
//! and comes back, and a producer whose sends fail. The promise checked on the final state every
//! time: every accepted voucher is stored exactly once, or is in the DLQ with its reason; a gift
//! reported failed is not stored unless resent.

#[path = "support/moto.rs"]
mod moto;
#[path = "support/procs.rs"]
mod procs;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/pty.rs"]
mod pty;
#[path = "support/rig.rs"]
mod rig;

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use procs::{eventually, finish, sigterm};
use proxy::{Fault, Faults};
use rig::{Rig, poison_bodies};
use uuid::Uuid;

/// Every valid voucher stored once and none besides; each poison body in the DLQ with its reason,
/// and nothing else there.
fn assert_promise_kept(rig: &Rig, vouchers: &[Uuid], poison: &[String]) {
    assert_eq!(rig.stored(vouchers), Vec::<Uuid>::new(), "vouchers lost");
    assert_eq!(
        rig.vouchers(),
        vouchers.len() as u64,
        "a voucher was stored twice or from nowhere"
    );
    let dlq = rig.dlq_messages();
    for body in poison {
        let copies: Vec<_> = dlq.iter().filter(|m| &m.body == body).collect();
        assert!(!copies.is_empty(), "poison {body:?} is not in the DLQ");
        for m in copies {
            assert!(
                m.attributes.contains_key("voucherdeck.error_kind")
                    && m.attributes.contains_key("voucherdeck.error_message"),
                "poison in the DLQ without its reason: {m:?}"
            );
        }
    }
    let strays: Vec<&str> = dlq
        .iter()
        .filter(|m| !poison.contains(&m.body))
        .map(|m| m.body.as_str())
        .collect();
    assert!(
        strays.is_empty(),
        "valid vouchers ended in the DLQ: {strays:?}"
    );
    let (q, _) = rig.stats();
    assert_eq!(q.visible + q.in_flight + q.delayed, 0, "{q:?}");
}

#[test]
fn workers_killed_at_random_moments_lose_nothing() {
    let rig = Rig::new("fk", Faults::none());
    let vouchers = rig.gift(120);
    let poison = poison_bodies("fk", 6);
    rig.poison(&poison);
    // Slow writes keep batches in progress, so kills land mid-batch.
    rig.proxy
        .delay("BatchWriteItem", Duration::from_millis(600));
    let endpoint = rig.proxy.endpoint();
    let mut workers: Vec<Child> = (0..3).map(|_| rig.env.spawn_worker(&endpoint)).collect();
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(rng.u64(200..900)));
        let victim = rng.usize(0..workers.len());
        let mut old = std::mem::replace(&mut workers[victim], rig.env.spawn_worker(&endpoint));
        old.kill().expect("SIGKILL a worker");
        let _ = old.wait();
    }
    // The last kill lands while a batch is being written, so some work is surely abandoned.
    let writes = rig.proxy.stats().requests_of("BatchWriteItem");
    eventually(Duration::from_secs(30), "a batch write in progress", || {
        rig.proxy.stats().requests_of("BatchWriteItem") > writes
    });
    for mut w in workers {
        w.kill().expect("SIGKILL a worker");
        let _ = w.wait();
    }
    let (q, _) = rig.stats();
    assert!(q.in_flight > 0, "no batch was cut short: {q:?}");
    rig.proxy.delay("BatchWriteItem", Duration::ZERO);
    rig.drain();
    assert_promise_kept(&rig, &vouchers, &poison);
}

/// `gift --json` per line: the voucher id of each line sent, and the lines that failed.
fn gift_results(out: &str) -> (BTreeMap<u64, String>, Vec<u64>) {
    let v: serde_json::Value =
        serde_json::from_str(out).unwrap_or_else(|e| panic!("gift --json ({e}): {out}"));
    let mut sent = BTreeMap::new();
    let mut failed = Vec::new();
    for r in v["results"].as_array().expect("results") {
        let line = r["line"].as_u64().expect("line");
        match r["voucher_id"].as_str() {
            Some(id) => {
                sent.insert(line, id.to_string());
            }
            None => failed.push(line),
        }
    }
    (sent, failed)
}

/// Gifts `count` keyed gifts through `endpoint`, resending the failed ones (same keys) until all
/// are sent; the voucher id of each gift.
fn gift_until_sent(rig: &Rig, endpoint: &str, count: usize) -> Vec<Uuid> {
    let mut ids: BTreeMap<u64, String> = BTreeMap::new();
    let mut todo: Vec<usize> = (0..count).collect();
    for attempt in 0..6 {
        if todo.is_empty() {
            break;
        }
        let lines = std::fs::read_to_string(procs::gift_file(
            rig.env.home.path(),
            "all.jsonl",
            (0, count),
            "faulty",
            true,
        ))
        .expect("read the gifts");
        let all: Vec<&str> = lines.lines().collect();
        let path = rig.env.path(&format!("attempt{attempt}.jsonl"));
        let chosen: Vec<&str> = todo.iter().map(|i| all[*i]).collect();
        std::fs::write(&path, chosen.join("\n")).expect("write the attempt");
        let child = rig.env.spawn_gift_file(endpoint, &path);
        let (_, out, err) = finish(child, Duration::from_mins(2), "producer");
        let (sent, failed) = gift_results(&out);
        assert!(sent.len() + failed.len() == todo.len(), "{err}");
        for (line, id) in sent {
            ids.insert(todo[(line - 1) as usize] as u64, id);
        }
        todo = failed.iter().map(|l| todo[(*l - 1) as usize]).collect();
    }
    assert!(todo.is_empty(), "gifts never sent: {todo:?}");
    ids.values()
        .map(|id| id.parse().expect("a voucher id"))
        .collect()
}

#[test]
fn producer_and_workers_keep_the_promise_through_a_faulty_network() {
    let rig = Rig::new(
        "fp",
        Faults {
            seed: 42,
            latency: Duration::from_millis(300),
            latency_p: 0.10,
            http_500_p: 0.03,
            http_503_p: 0.03,
            throttle_p: 0.04,
            reset_before_p: 0.03,
            reset_after_p: 0.04,
            duplicate_p: 0.0,
            only: Vec::new(),
        },
    );
    let poison = poison_bodies("fp", 5);
    rig.poison(&poison);
    // Whatever the dice say, a send that succeeded and whose answer was lost happens: the SDK
    // sends it again, and the voucher must still be stored once.
    rig.proxy
        .fail_next("SendMessageBatch", Fault::ResetAfter, 2);
    let endpoint = rig.proxy.endpoint();
    let workers: Vec<Child> = (0..3).map(|_| rig.env.spawn_worker(&endpoint)).collect();
    let vouchers = gift_until_sent(&rig, &endpoint, 60);
    // Let the workers see it all through the faults, then stop them and finish the rest.
    eventually(Duration::from_mins(2), "the queue worked off", || {
        let (q, _) = rig.stats();
        q.visible + q.in_flight + q.delayed == 0
    });
    for w in &workers {
        sigterm(w);
    }
    for w in workers {
        let (status, _, err) = finish(w, Duration::from_mins(1), "worker");
        assert!(status.success(), "{err}");
    }
    let stats = rig.proxy.stats();
    for kind in [
        "latency",
        "http_500",
        "http_503",
        "throttle",
        "reset_before",
        "reset_after",
    ] {
        assert!(stats.injected(kind) > 0, "no {kind} injected: {stats:?}");
    }
    assert!(
        stats.injected_on("reset_after", "SendMessageBatch") >= 1,
        "{stats:?}"
    );
    rig.drain();
    assert_promise_kept(&rig, &vouchers, &poison);
}

#[test]
fn a_gift_reported_failed_is_not_stored_unless_resent() {
    let rig = Rig::new("fg", Faults::none());
    let endpoint = rig.proxy.endpoint();
    // Every send fails before it reaches the queue.
    rig.proxy
        .fail_next("SendMessageBatch", Fault::Http(503), 10_000);
    let file = procs::gift_file(rig.env.home.path(), "g.jsonl", (0, 5), "fg", true);
    let child = rig.env.spawn_gift_file(&endpoint, &file);
    let (status, out, _) = finish(child, Duration::from_mins(2), "producer");
    assert!(!status.success());
    let (sent, failed) = gift_results(&out);
    assert!(sent.is_empty(), "{out}");
    assert_eq!(failed.len(), 5);
    rig.drain();
    assert_eq!(rig.vouchers(), 0, "a gift reported failed was stored");
    // Resent with the same keys (straight to moto, which takes them): each stored once.
    let vouchers = gift_until_sent(&rig, &rig.moto.endpoint(), 5);
    rig.drain();
    assert_promise_kept(&rig, &vouchers, &[]);
}

#[test]
fn the_backend_gone_and_back_is_said_and_survived() {
    let rig = Rig::new("fb", Faults::none());
    let endpoint = rig.proxy.endpoint();
    let worker = rig.env.spawn_worker(&endpoint);
    let mut term = pty::Terminal::spawn(rig.env.command(&["--no-demo"]), 40, 150);
    term.wait_for(Duration::from_secs(30), "live data", |s| {
        s.contains("● live")
    });
    rig.proxy.set_down(true);
    term.wait_for(Duration::from_secs(40), "the outage in the header", |s| {
        s.contains("unreachable since") && s.contains("retrying in")
    });
    // No busy loop: a few attempts a second at most between the two processes.
    let before = rig.proxy.stats().refused_while_down;
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(6));
    let attempts = rig.proxy.stats().refused_while_down - before;
    let per_second = attempts as f64 / window.elapsed().as_secs_f64();
    eprintln!("while down: {attempts} connection attempts in 6 s ({per_second:.1}/s)");
    assert!(per_second < 15.0, "{attempts} attempts in 6 s while down");
    rig.proxy.set_down(false);
    let vouchers = rig.gift(5);
    eventually(
        Duration::from_secs(90),
        "the worker persisting again",
        || rig.vouchers() == 5,
    );
    term.wait_for(Duration::from_mins(1), "live again", |s| {
        s.contains("● live") && !s.contains("unreachable since")
    });
    term.send(b"q");
    assert!(term.wait_exit(Duration::from_secs(30)).success());
    sigterm(&worker);
    let (status, _, err) = finish(worker, Duration::from_secs(30), "worker");
    assert!(status.success(), "{err}");
    assert!(
        err.contains("unreachable since") && err.contains("retrying in"),
        "{err}"
    );
    assert!(err.contains("receiving works again"), "{err}");
    assert_promise_kept(&rig, &vouchers, &[]);
}

/// The audit log on moto through the proxy: writes that fail (503, throttling) are retried until
/// every entry is in, and a single entry whose answer was lost after moto wrote it is not written
/// twice (its conditional put finds it there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_writes_that_fail_on_the_network_are_retried_and_never_doubled() {
    use voucherdeck_core::domain::{AuditAction, AuditEntry, AuditOutcome};
    use voucherdeck_pipeline::{Pipeline, PipelineConfig};

    let server = moto::MotoServer::start();
    let names = moto::unique_names("fa");
    let direct = moto::aws_backend(&server, names.clone()).await;
    Pipeline::new(direct.clone(), PipelineConfig::default())
        .provision()
        .await
        .expect("provision");
    let proxy = proxy::FaultProxy::start(server.port(), Faults::none());
    let mut options = moto::aws_options(&server);
    options.endpoint_url = Some(proxy.endpoint());
    let requests = voucherdeck_core::ports::RequestCounter::default();
    let backend = voucherdeck_aws::connect(&options, names, requests)
        .await
        .expect("connect through the proxy");
    let p = Pipeline::new(backend, PipelineConfig::default());

    let entry = |i| AuditEntry::new("local:test", AuditAction::Gift, "q", i, AuditOutcome::Ok);
    let batch: Vec<AuditEntry> = (0..5).map(entry).collect();
    proxy.fail_next("BatchWriteItem", Fault::Http(503), 2);
    proxy.fail_next("BatchWriteItem", Fault::Throttle, 1);
    p.audit_many(&batch).await;
    proxy.fail_next("PutItem", Fault::ResetAfter, 1);
    p.audit(entry(9)).await;

    let stats = proxy.stats();
    assert_eq!(stats.injected_on("http_503", "BatchWriteItem"), 2);
    assert_eq!(stats.injected_on("throttle", "BatchWriteItem"), 1);
    assert_eq!(stats.injected_on("reset_after", "PutItem"), 1);
    assert_eq!(
        stats.requests_of("PutItem"),
        2,
        "the lost answer, then its retry"
    );
    let mut stored = direct.audit.recent(100).await.expect("read");
    stored.retain(|e| e.actor == "local:test");
    let mut counts: Vec<u64> = stored.iter().map(|e| e.count).collect();
    counts.sort_unstable();
    assert_eq!(counts, [0, 1, 2, 3, 4, 9], "every entry, once");
    assert_eq!(p.intake().snapshot().answers.audit_lost, 0);
}
