//! Reading a DLQ of large messages costs bounded memory, whatever the DLQ's size: an export and a
//! count keep no bodies, and a browser's session keeps at most its body budget of them. Measured as
//! this process's peak resident memory while the DLQ is read (`VmHWM` of `/proc/self/status`, reset
//! through `/proc/self/clear_refs` first), above what was resident before: the embedded backend's
//! own copy of the messages is in that baseline.

use std::collections::BTreeMap;

use voucherdeck_core::backend::Names;
use voucherdeck_core::ports::OutgoingMessage;
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{DLQ_BODY_BUDGET, DlqFilter, Pipeline, PipelineConfig};

/// A figure of `/proc/self/status`, in bytes.
fn status(field: &str) -> usize {
    let text = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kib: usize = line
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("a number of kB");
    kib * 1024
}

/// One measurement at a time (tests of this binary run on threads of one process).
static MEASURING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: usize = 1024 * 1024;
/// A body close to SQS's largest message (1 MiB with its attributes).
const BODY: usize = 1_000_000;
/// What an export or a count may hold above the baseline, whatever the DLQ's size: a receive of
/// ten 1 MB messages, the one being written, and the session's ids and receipts.
const STREAM_BOUND: usize = 24 * MIB;

/// A pipeline whose DLQ holds `n` messages of `BODY` bytes each.
async fn dlq_of(n: usize) -> Pipeline {
    let p = Pipeline::new(
        Embedded::new(Names::default()).backend,
        PipelineConfig::default(),
    );
    p.provision().await.expect("provision");
    let dlq = p.dlq().await.expect("dlq");
    for i in 0..n {
        let body = format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(BODY));
        let m = OutgoingMessage {
            id: "0".into(),
            body,
            attributes: BTreeMap::from([(
                "voucherdeck.error_kind".to_string(),
                "schema".to_string(),
            )]),
            delay: None,
            group: None,
            dedup: None,
        };
        let sent = p
            .backend()
            .queue
            .send_batch(&dlq, &[m])
            .await
            .expect("send");
        assert!(
            sent.failed.is_empty(),
            "the DLQ takes 1 MB: {:?}",
            sent.failed
        );
    }
    p
}

/// Resident bytes above the baseline at the peak of `work`.
async fn peak_above_baseline<T>(work: impl Future<Output = T>) -> (T, usize) {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak (Linux 4.0 and later)");
    let base = status("VmRSS:");
    let out = work.await;
    (out, status("VmHWM:").saturating_sub(base))
}

#[tokio::test(flavor = "current_thread")]
async fn an_export_and_a_count_keep_no_bodies_whatever_the_dlq_size() {
    let _one = MEASURING.lock().await;
    for n in [40, 120] {
        let p = dlq_of(n).await;
        let (written, peak) = peak_above_baseline(async {
            let mut s = p
                .open_dlq_session()
                .await
                .expect("session")
                .with_body_budget(0);
            let e = s
                .export(&mut std::io::sink(), usize::MAX, &mut |_| {})
                .await
                .expect("export");
            s.release().await;
            e
        })
        .await;
        assert_eq!((written.written, written.complete), (n, true));
        eprintln!(
            "export of {n} × 1 MB: peak {} MiB above the baseline",
            peak / MIB
        );
        assert!(
            peak < STREAM_BOUND,
            "export of {n} MB held {} MiB (bound {})",
            peak / MIB,
            STREAM_BOUND / MIB
        );

        let (count, peak) = peak_above_baseline(p.count_dlq(&DlqFilter {
            text: Some("\"n\":1".into()),
            ..DlqFilter::default()
        }))
        .await;
        let count = count.expect("count");
        assert_eq!(count.scanned, n as u64);
        assert!(count.matched >= 1, "the body text is searched: {count:?}");
        eprintln!(
            "count of {n} × 1 MB: peak {} MiB above the baseline",
            peak / MIB
        );
        assert!(
            peak < STREAM_BOUND,
            "count of {n} MB held {} MiB (bound {})",
            peak / MIB,
            STREAM_BOUND / MIB
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn reading_the_whole_dlq_in_a_session_keeps_at_most_its_body_budget() {
    let _one = MEASURING.lock().await;
    // The session keeps its budget of bodies and returns them to the browser, which keeps them
    // too: twice the budget, a receive and the ids and receipts of the rest.
    let bound = 2 * DLQ_BODY_BUDGET + STREAM_BOUND;
    for n in [60, 160] {
        let p = dlq_of(n).await;
        let ((loaded, dropped), peak) = peak_above_baseline(async {
            let mut s = p.open_dlq_session().await.expect("session");
            let loaded = s.load(usize::MAX, &mut |_| {}).await.expect("load");
            let dropped = loaded.iter().filter(|m| m.body_dropped).count();
            let out = (loaded.len(), dropped);
            drop(loaded);
            s.release().await;
            out
        })
        .await;
        assert_eq!(loaded, n);
        assert!(
            dropped >= n - DLQ_BODY_BUDGET / BODY,
            "{dropped} of {n} bodies let go"
        );
        eprintln!(
            "read-all of {n} × 1 MB: peak {} MiB above the baseline",
            peak / MIB
        );
        assert!(
            peak < bound,
            "a session over {n} MB held {} MiB (bound {})",
            peak / MIB,
            bound / MIB
        );
    }
}
