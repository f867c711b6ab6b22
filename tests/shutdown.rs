//! Stopping with work in hand, as real processes on moto: the worker, the dashboard (on a real
//! pseudo-terminal), a copy redrive and a gift file stop on SIGTERM/SIGINT (or `q`) by finishing or
//! releasing what they hold, so nothing comes back as a duplicate and nothing stays hidden; a
//! second signal exits at once.
//!
//! A batch is held "in progress" by the fault proxy, which delays the store's `BatchWriteItem`.

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

use std::time::Duration;

use procs::{eventually, finish, sigint, sigterm};
use proxy::Faults;
use rig::{Rig, poison_bodies};

/// How long the store's write is held while a signal arrives.
const HELD: Duration = Duration::from_secs(3);

/// A queue of valid vouchers and poison, and the proxy holding the store's writes.
fn loaded(prefix: &str) -> (Rig, Vec<uuid::Uuid>) {
    let rig = Rig::new(prefix, Faults::none());
    let ids = rig.gift(8);
    rig.poison(&poison_bodies(prefix, 2));
    rig.proxy.delay("BatchWriteItem", HELD);
    (rig, ids)
}

/// Waits until a batch is being written (so it is in progress when the signal comes).
fn batch_in_progress(rig: &Rig) {
    eventually(Duration::from_secs(30), "a batch write in progress", || {
        rig.proxy.stats().requests_of("BatchWriteItem") >= 1
    });
}

/// After a graceful stop: nothing of the source queue is left hidden (every message taken was
/// finished or released), and after draining, every voucher is stored and each poison message is
/// in the DLQ once.
fn assert_nothing_abandoned(rig: &Rig, ids: &[uuid::Uuid]) {
    let (q, _) = rig.stats();
    assert_eq!(
        q.in_flight, 0,
        "messages taken by the stopped process are still hidden: {q:?}"
    );
    rig.proxy.delay("BatchWriteItem", Duration::ZERO);
    rig.drain();
    assert_eq!(
        rig.stored(ids),
        Vec::<uuid::Uuid>::new(),
        "missing vouchers"
    );
    assert_eq!(rig.vouchers(), ids.len() as u64);
    let dlq = rig.dlq_messages();
    let mut bodies: Vec<&str> = dlq.iter().map(|m| m.body.as_str()).collect();
    bodies.sort_unstable();
    let before = bodies.len();
    bodies.dedup();
    assert_eq!(
        before,
        bodies.len(),
        "a poison message was dead-lettered twice: {bodies:?}"
    );
    assert_eq!(bodies.len(), 2, "{bodies:?}");
}

#[test]
fn sigterm_lets_the_worker_finish_its_batch() {
    let (rig, ids) = loaded("sdw");
    let child = rig.env.spawn_worker(&rig.env.endpoint);
    batch_in_progress(&rig);
    sigterm(&child);
    let (status, out, err) = finish(child, Duration::from_secs(40), "worker");
    assert!(status.success(), "{status}: {err}");
    assert!(err.contains("finishing batches in progress"), "{err}");
    assert!(out.contains("persisted"), "{out}");
    assert_nothing_abandoned(&rig, &ids);
}

#[test]
fn a_second_signal_exits_at_once() {
    let rig = Rig::new("sd2", Faults::none());
    rig.gift(3);
    rig.proxy.delay("BatchWriteItem", Duration::from_secs(25));
    let child = rig.env.spawn_worker(&rig.env.endpoint);
    batch_in_progress(&rig);
    sigint(&child);
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    sigint(&child);
    let (status, _, err) = finish(child, Duration::from_secs(10), "worker");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the second signal did not end the wait"
    );
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted again"), "{err}");
}

/// The dashboard on a pseudo-terminal, on moto through the proxy, its worker started with `w`.
fn dashboard_with_a_batch_in_progress(rig: &Rig) -> pty::Terminal {
    let cmd = rig.env.command(&["--no-demo"]);
    let term = pty::Terminal::spawn(cmd, 40, 140);
    term.wait_for(Duration::from_secs(30), "the dashboard", |s| {
        s.contains("voucherdeck") && s.contains("paused")
    });
    term.send(b"w");
    batch_in_progress(rig);
    term
}

#[test]
fn quitting_the_dashboard_finishes_its_workers_batches() {
    let (rig, ids) = loaded("sdq");
    let mut term = dashboard_with_a_batch_in_progress(&rig);
    term.send(b"q");
    let status = term.wait_exit(Duration::from_secs(40));
    assert!(status.success(), "{status}");
    let said = String::from_utf8_lossy(&term.output()).to_string();
    assert!(said.contains("finishing"), "{said}");
    assert!(term.is_cooked(), "the terminal was not restored");
    assert_nothing_abandoned(&rig, &ids);
}

#[test]
fn sigterm_to_the_dashboard_restores_the_terminal_and_finishes_the_batches() {
    let (rig, ids) = loaded("sdt");
    let mut term = dashboard_with_a_batch_in_progress(&rig);
    sigterm(&term.child);
    let status = term.wait_exit(Duration::from_secs(40));
    assert!(status.success(), "{status}");
    assert!(term.is_cooked(), "the terminal was not restored");
    assert_nothing_abandoned(&rig, &ids);
}

#[test]
fn sigterm_cancels_a_copy_redrive_and_releases_what_it_holds() {
    let rig = Rig::new("sdr", Faults::none());
    let bodies: Vec<String> = (0..30).map(|i| format!("redrive me #{i}")).collect();
    rig.to_dlq(&bodies);
    // One message a second: the redrive is still going when the signal comes.
    let child = rig
        .env
        .command(&["redrive", "--match", "redrive me", "--rate", "1"])
        .spawn()
        .expect("spawn the redrive");
    eventually(Duration::from_secs(30), "a message moved", || {
        rig.stats().0.visible >= 1
    });
    sigterm(&child);
    let (status, _, err) = finish(child, Duration::from_secs(40), "redrive");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("cancelled"), "{err}");
    let (q, d) = rig.stats();
    assert_eq!(
        d.in_flight, 0,
        "the redrive left DLQ messages hidden: {d:?}"
    );
    assert!(q.visible < 30, "the redrive was not cut short: {q:?}");
    assert_eq!(q.visible + d.visible, 30, "nothing lost: {q:?} {d:?}");
}

#[test]
fn sigint_stops_a_gift_file_between_chunks_and_says_what_was_not_sent() {
    let rig = Rig::new("sdg", Faults::none());
    let file = procs::gift_file(
        rig.env.home.path(),
        "gifts.jsonl",
        (0, 700),
        "bulk-op",
        false,
    );
    rig.proxy
        .delay("SendMessageBatch", Duration::from_millis(100));
    let child = rig.env.spawn_gift_file(&rig.env.endpoint, &file);
    eventually(Duration::from_mins(1), "sending started", || {
        rig.proxy.stats().requests_of("SendMessageBatch") >= 1
    });
    sigint(&child);
    let (status, out, err) = finish(child, Duration::from_mins(1), "gift");
    assert_eq!(status.code(), Some(130), "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).expect("JSON summary");
    let sent = summary["sent"].as_u64().expect("sent");
    let stopped_at = summary["stopped_at_line"]
        .as_u64()
        .expect("stopped_at_line");
    assert_eq!(sent + 1, stopped_at, "{summary}");
    assert!(sent < 700, "the signal came too late to test anything");
    // A gift reported sent is on the queue; none beyond.
    let (q, _) = rig.stats();
    assert_eq!(q.visible, sent, "{q:?}");
}
