//! Where audit entries are written, so that none is lost quietly: the local file first (when one is
//! configured: every entry, written or not), then the audit log, retried with exponential backoff
//! and full jitter (a failed call, or the entries the log left unprocessed) for at most
//! [`AUDIT_RETRY_WINDOW`], or until the deadline a stopping server sets. Entries that still could
//! not be written are counted on the intake meter (`/metrics`, the dashboard, CloudWatch and its
//! alarm) and logged at error with their ids.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::intake::IntakeMeter;
use voucherdeck_core::domain::AuditEntry;
use voucherdeck_core::domain::limits::{AUDIT_FLUSH_DEADLINE, AUDIT_RETRY_WINDOW};
use voucherdeck_core::ports::AuditLog;

/// How long the sink retries and how long a flush may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuditTiming {
    /// How long one write is retried before its entries are lost.
    pub(crate) window: Duration,
    /// The first pause between attempts; it doubles up to `backoff_cap` (full jitter).
    pub(crate) backoff: Duration,
    pub(crate) backoff_cap: Duration,
    /// How long a flush lets writes retry before what is left is lost.
    pub(crate) flush: Duration,
}

impl Default for AuditTiming {
    fn default() -> Self {
        AuditTiming {
            window: AUDIT_RETRY_WINDOW,
            backoff: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(5),
            flush: AUDIT_FLUSH_DEADLINE,
        }
    }
}

/// Writes audit entries with retries; cheap to clone (shared).
#[derive(Clone)]
pub(crate) struct AuditSink {
    inner: Arc<Inner>,
}

struct Inner {
    log: Arc<dyn AuditLog>,
    file: Option<PathBuf>,
    meter: IntakeMeter,
    timing: AuditTiming,
    /// The latest instant a write may still try, while a flush runs (`None`: no deadline).
    deadline: watch::Sender<Option<Instant>>,
}

impl AuditSink {
    pub(crate) fn new(
        log: Arc<dyn AuditLog>,
        file: Option<PathBuf>,
        meter: IntakeMeter,
        timing: AuditTiming,
    ) -> AuditSink {
        AuditSink {
            inner: Arc::new(Inner {
                log,
                file,
                meter,
                timing,
                deadline: watch::Sender::new(None),
            }),
        }
    }

    /// Writes `entries` to the file (if any) and the audit log, retrying; never fails: entries
    /// that could not be written are counted and logged.
    pub(crate) async fn write(&self, entries: &[AuditEntry]) {
        if entries.is_empty() {
            return;
        }
        if let Some(path) = &self.inner.file
            && let Err(e) = append_lines(path, entries).await
        {
            tracing::error!(path = %path.display(), error = %e, "cannot write the audit file");
        }
        let (lost, why) = self.write_log(entries.to_vec()).await;
        if !lost.is_empty() {
            self.lose(&lost, &why);
        }
    }

    /// Runs `flush` (waiting for the writes in hand) while every write, retrying or still to
    /// come, stops trying at the flush deadline; what is left then is lost (counted, logged).
    pub(crate) async fn flush_within(&self, flush: impl Future<Output = ()>) {
        let at = Instant::now() + self.inner.timing.flush;
        self.inner.deadline.send_replace(Some(at));
        flush.await;
        self.inner.deadline.send_replace(None);
    }

    /// Writes to the log until every entry is written or the time is up; returns what is left
    /// and why.
    async fn write_log(&self, mut pending: Vec<AuditEntry>) -> (Vec<AuditEntry>, String) {
        let t = self.inner.timing;
        let give_up = Instant::now() + t.window;
        let mut deadline = self.inner.deadline.subscribe();
        let mut pause = t.backoff;
        let mut why = "no answer".to_string();
        let stopped = |deadline: &watch::Receiver<Option<Instant>>, why: String| {
            let by_flush = deadline.borrow().is_some_and(|d| d < give_up);
            let when = if by_flush {
                "the flush deadline passed"
            } else {
                "the retry window passed"
            };
            format!("{why}; {when}")
        };
        loop {
            let Some(answer) =
                until_deadline(&mut deadline, give_up, self.inner.log.record(&pending)).await
            else {
                return (pending, stopped(&deadline, why));
            };
            match answer {
                Ok(left) => {
                    pending.retain(|e| left.contains(&e.id));
                    if pending.is_empty() {
                        return (pending, why);
                    }
                    why = format!("{} entries left unprocessed", pending.len());
                }
                Err(e) if e.is_retryable() => why = e.to_string(),
                Err(e) => return (pending, e.to_string()),
            }
            let jittered = fastrand::u64(0..=millis(pause));
            let sleep = tokio::time::sleep(Duration::from_millis(jittered));
            if until_deadline(&mut deadline, give_up, sleep)
                .await
                .is_none()
            {
                return (pending, stopped(&deadline, why));
            }
            pause = (pause * 2).min(t.backoff_cap);
        }
    }

    fn lose(&self, lost: &[AuditEntry], why: &str) {
        self.inner.meter.audit_lost(lost.len() as u64);
        let ids: Vec<String> = lost.iter().map(|e| e.id.to_string()).collect();
        let file = self.inner.file.as_deref().map(Path::display);
        tracing::error!(
            count = lost.len(),
            ids = %ids.join(","),
            reason = why,
            file = ?file.map(|f| f.to_string()),
            "audit entries lost: the audit log could not be written (the audit file, when \
             configured, has them)"
        );
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Runs `work` until it is done (`Some`), or until `give_up` or the flush deadline passes,
/// whichever is first, the deadline read again whenever it is set (`None`). Nothing is started
/// once the time is up.
async fn until_deadline<F: Future>(
    deadline: &mut watch::Receiver<Option<Instant>>,
    give_up: Instant,
    work: F,
) -> Option<F::Output> {
    let mut work = std::pin::pin!(work);
    loop {
        let end = deadline
            .borrow_and_update()
            .map_or(give_up, |d| d.min(give_up));
        if Instant::now() >= end {
            return None;
        }
        tokio::select! {
            biased;
            out = &mut work => return Some(out),
            () = tokio::time::sleep_until(end) => return None,
            changed = deadline.changed() => {
                if changed.is_err() {
                    return tokio::time::timeout_at(end, work).await.ok();
                }
            }
        }
    }
}

/// Appends entries as JSON lines, creating the file (and its folder) if needed.
async fn append_lines(path: &Path, entries: &[AuditEntry]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut text = String::new();
    for e in entries {
        text.push_str(&serde_json::to_string(e).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    file.write_all(text.as_bytes()).await?;
    file.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PipelineConfig;
    use crate::services::Pipeline;
    use voucherdeck_core::backend::Names;
    use voucherdeck_core::domain::{AuditAction, AuditOutcome};
    use voucherdeck_core::ports::BackendError;
    use voucherdeck_embedded::Embedded;

    /// Short enough for a test; the shape (backoff doubling to a cap) is the real one.
    fn quick(window: Duration, flush: Duration) -> AuditTiming {
        AuditTiming {
            window,
            backoff: Duration::from_millis(5),
            backoff_cap: Duration::from_millis(40),
            flush,
        }
    }

    fn entries(n: u64) -> Vec<AuditEntry> {
        (0..n)
            .map(|i| AuditEntry::new("local:test", AuditAction::Gift, "q", i, AuditOutcome::Ok))
            .collect()
    }

    fn sink(e: &Embedded, file: Option<PathBuf>, timing: AuditTiming) -> (AuditSink, IntakeMeter) {
        let meter = IntakeMeter::default();
        let sink = AuditSink::new(e.backend.audit.clone(), file, meter.clone(), timing);
        (sink, meter)
    }

    async fn stored(e: &Embedded) -> Vec<AuditEntry> {
        e.backend.audit.recent(1000).await.expect("read")
    }

    fn writes(e: &Embedded) -> u64 {
        let ops = e.backend.requests.by_op();
        ops.get("dynamodb:BatchWriteItem").copied().unwrap_or(0)
    }

    #[tokio::test]
    async fn a_log_that_fails_its_first_writes_still_gets_every_entry() {
        let e = Embedded::new(Names::default());
        let (sink, meter) = sink(&e, None, quick(Duration::from_secs(10), Duration::ZERO));
        e.audit.fail_next_writes(3);
        let given = entries(5);
        sink.write(&given).await;
        let mut ids: Vec<_> = stored(&e).await.iter().map(|x| x.id).collect();
        let mut want: Vec<_> = given.iter().map(|x| x.id).collect();
        ids.sort();
        want.sort();
        assert_eq!(ids, want, "every entry, once");
        assert_eq!(writes(&e), 4, "three failed calls, then one that wrote");
        assert_eq!(meter.snapshot().answers.audit_lost, 0);
    }

    #[tokio::test]
    async fn unprocessed_entries_are_written_again_alone() {
        let e = Embedded::new(Names::default());
        let (sink, meter) = sink(&e, None, quick(Duration::from_secs(10), Duration::ZERO));
        e.audit.leave_unprocessed(2);
        sink.write(&entries(5)).await;
        assert_eq!(stored(&e).await.len(), 5, "each entry once");
        assert_eq!(writes(&e), 3, "5, then the 4 left, then the 3 left");
        assert_eq!(meter.snapshot().answers.audit_lost, 0);
    }

    #[tokio::test]
    async fn a_log_that_always_fails_loses_the_exact_count_and_the_file_keeps_them() {
        let e = Embedded::new(Names::default());
        let dir = std::env::temp_dir().join(format!("vd-audit-{}", uuid::Uuid::new_v4()));
        let file = dir.join("audit.jsonl");
        let timing = quick(Duration::from_millis(150), Duration::ZERO);
        let (sink, meter) = sink(&e, Some(file.clone()), timing);
        e.audit
            .fail_every_write(Some(BackendError::Unavailable("down".into())));
        sink.write(&entries(4)).await;
        sink.write(&entries(1)).await;
        assert!(writes(&e) > 2, "retried before giving up");
        assert_eq!(meter.snapshot().answers.audit_lost, 5);
        let kept = std::fs::read_to_string(&file).expect("audit file");
        assert_eq!(kept.lines().count(), 5);
        let _ = std::fs::remove_dir_all(dir);

        // A refusal no retry can change is given up at once.
        e.audit
            .fail_every_write(Some(BackendError::AccessDenied("no".into())));
        let before = writes(&e);
        sink.write(&entries(2)).await;
        assert_eq!(writes(&e) - before, 1);
        assert_eq!(meter.snapshot().answers.audit_lost, 7);
    }

    #[tokio::test]
    async fn a_shutdown_flush_waits_for_a_retrying_write_but_not_past_its_deadline() {
        let e = Embedded::new(Names::default());
        let timing = quick(Duration::from_mins(1), Duration::from_millis(400));
        let p = Pipeline::with_audit_timing(e.backend.clone(), PipelineConfig::default(), timing);

        // Failing a few times, then written: the flush waits for it.
        e.audit.fail_next_writes(4);
        p.audit_later(entries(3)).await;
        p.finish_producing().await;
        assert_eq!(stored(&e).await.len(), 3);
        assert_eq!(p.intake().snapshot().answers.audit_lost, 0);

        // Never written: the flush gives up at its deadline, not at the end of the retry window,
        // and counts what it could not write.
        e.audit
            .fail_every_write(Some(BackendError::Unavailable("down".into())));
        p.audit_later(entries(2)).await;
        let started = Instant::now();
        p.finish_producing().await;
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(30), "{took:?}");
        assert_eq!(p.intake().snapshot().answers.audit_lost, 2);

        // The deadline was the flush's only: later writes retry as before.
        e.audit.fail_every_write(None);
        e.audit.fail_next_writes(1);
        p.audit(entries(1).remove(0)).await;
        assert_eq!(stored(&e).await.len(), 4);
        assert_eq!(p.intake().snapshot().answers.audit_lost, 2);
    }
}
