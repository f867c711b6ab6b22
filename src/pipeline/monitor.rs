//! The monitor: polls depth (queue and DLQ), oldest-message age, the failure log and the audit log
//! on their own schedules, marks every figure with its time, keeps going (stale, with backoff) when
//! the backend is unreachable, and reports by message.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::intake::IntakeSnapshot;
use super::services::Pipeline;
use crate::backend::BackendKind;
use crate::domain::{AuditEntry, FailureRecord, Timestamp};
use crate::ports::{AgeReading, BackendError, QueueStats};

/// What oldest-message ages say on an endpoint without CloudWatch (some AWS-compatible ones).
pub const NO_CLOUDWATCH: &str = "no data (the endpoint has no CloudWatch)";

/// Polling schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorConfig {
    pub depth_every: Duration,
    /// CloudWatch figures are minute-granular: polling faster only costs money.
    pub age_every: Duration,
    pub failures_every: Duration,
    pub failures_limit: usize,
    /// The operator audit log changes only when someone acts: polled rarely.
    pub audit_every: Duration,
    pub audit_limit: usize,
    /// Longest wait between attempts while the backend fails.
    pub max_backoff: Duration,
    /// How often to read the intake figures of the HTTP API running in this process; `None`
    /// when none runs.
    pub intake_every: Option<Duration>,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            depth_every: Duration::from_secs(5),
            age_every: Duration::from_mins(1),
            failures_every: Duration::from_secs(5),
            failures_limit: 200,
            audit_every: Duration::from_mins(1),
            audit_limit: 50,
            max_backoff: Duration::from_mins(1),
            intake_every: None,
        }
    }
}

/// What the monitor reports.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorUpdate {
    Depth {
        queue: QueueStats,
        dlq: QueueStats,
    },
    /// The depth poll failed; the next attempt is in `retry_in` (the backoff grows while it
    /// fails). `unreachable`: the endpoint did not answer (as opposed to answering with an error).
    DepthError {
        error: String,
        at: Timestamp,
        retry_in: Duration,
        unreachable: bool,
    },
    /// `exact`: measured by the embedded engine now; otherwise CloudWatch's latest minute.
    Age {
        queue: AgeReading,
        dlq: AgeReading,
        exact: bool,
        at: Timestamp,
    },
    AgeError {
        error: String,
        at: Timestamp,
    },
    Failures(Vec<FailureRecord>),
    FailuresError {
        error: String,
        at: Timestamp,
    },
    /// The in-process intake API's figures (totals since it started).
    Intake {
        snapshot: IntakeSnapshot,
        at: Timestamp,
    },
    /// The newest audited operator actions, newest first.
    Audit {
        entries: Vec<AuditEntry>,
        at: Timestamp,
    },
    AuditError {
        error: String,
        at: Timestamp,
    },
}

impl MonitorUpdate {
    /// The update with the time to its next attempt, for an error that says it.
    #[must_use]
    fn retrying_in(mut self, delay: Duration) -> MonitorUpdate {
        if let MonitorUpdate::DepthError { retry_in, .. } = &mut self {
            *retry_in = delay;
        }
        self
    }
}

/// What the poll loops ask, where they send their updates, and how far they back off while the
/// backend fails.
#[derive(Clone)]
struct Poller {
    pipeline: Pipeline,
    max_backoff: Duration,
    tx: mpsc::Sender<MonitorUpdate>,
    cancel: CancellationToken,
}

impl Poller {
    /// Polls on its own schedule: `every` after an update for which `ok` is true, doubling up to
    /// `max_backoff` after a failed one; stops when cancelled or when the receiver is gone.
    fn spawn<F, Fut>(
        &self,
        every: Duration,
        poll: F,
        ok: fn(&MonitorUpdate) -> bool,
    ) -> JoinHandle<()>
    where
        F: Fn(Pipeline) -> Fut + Send + 'static,
        Fut: Future<Output = MonitorUpdate> + Send,
    {
        let Poller {
            pipeline,
            max_backoff,
            tx,
            cancel,
        } = self.clone();
        tokio::spawn(async move {
            let mut delay = every;
            loop {
                let update = poll(pipeline.clone()).await;
                delay = next_delay(ok(&update), every, delay, max_backoff);
                if tx.send(update.retrying_in(delay)).await.is_err() || !pause(&cancel, delay).await
                {
                    return;
                }
            }
        })
    }
}

async fn pause(cancel: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        () = cancel.cancelled() => false,
        () = tokio::time::sleep(d) => true,
    }
}

fn next_delay(ok: bool, every: Duration, current: Duration, max: Duration) -> Duration {
    if ok {
        every
    } else {
        (current * 2).clamp(every, max.max(every))
    }
}

impl Pipeline {
    /// Starts polling; updates go to `tx` until `cancel` fires or the receiver is dropped.
    pub fn spawn_monitor(
        &self,
        cfg: MonitorConfig,
        tx: mpsc::Sender<MonitorUpdate>,
        cancel: CancellationToken,
    ) -> Vec<JoinHandle<()>> {
        let exact = self.backend().info.kind == BackendKind::Embedded;
        let age_every = if exact {
            cfg.depth_every
        } else {
            cfg.age_every
        };
        let poller = Poller {
            pipeline: self.clone(),
            max_backoff: cfg.max_backoff,
            tx,
            cancel,
        };
        let depth = poller.spawn(
            cfg.depth_every,
            move |p| async move {
                match p.depths().await {
                    Ok((queue, dlq)) => MonitorUpdate::Depth { queue, dlq },
                    Err(e) => MonitorUpdate::DepthError {
                        unreachable: e.is_unreachable(),
                        error: e.to_string(),
                        at: Timestamp::now(),
                        retry_in: Duration::ZERO,
                    },
                }
            },
            |u| matches!(u, MonitorUpdate::Depth { .. }),
        );
        let age = poller.spawn(
            age_every,
            move |p| async move {
                match p.ages().await {
                    Ok((queue, dlq)) => MonitorUpdate::Age {
                        queue,
                        dlq,
                        exact,
                        at: Timestamp::now(),
                    },
                    Err(e) => MonitorUpdate::AgeError {
                        error: match e {
                            BackendError::Unsupported(_) => NO_CLOUDWATCH.into(),
                            e => e.to_string(),
                        },
                        at: Timestamp::now(),
                    },
                }
            },
            |u| matches!(u, MonitorUpdate::Age { .. }),
        );
        let failures = poller.spawn(
            cfg.failures_every,
            move |p| async move {
                match p.recent_failures(cfg.failures_limit).await {
                    Ok(list) => MonitorUpdate::Failures(list),
                    Err(e) => MonitorUpdate::FailuresError {
                        error: e.to_string(),
                        at: Timestamp::now(),
                    },
                }
            },
            |u| matches!(u, MonitorUpdate::Failures(_)),
        );
        let audit = poller.spawn(
            cfg.audit_every,
            move |p| async move { p.poll_audit(cfg.audit_limit).await },
            |u| matches!(u, MonitorUpdate::Audit { .. }),
        );
        let mut tasks = vec![depth, age, failures, audit];
        if let Some(every) = cfg.intake_every {
            tasks.push(poller.spawn(
                every,
                |p| async move {
                    MonitorUpdate::Intake {
                        snapshot: p.intake().snapshot(),
                        at: Timestamp::now(),
                    }
                },
                |_| true,
            ));
        }
        tasks
    }

    /// The audit log's newest `limit` entries as a monitor update (also asked on demand).
    pub async fn poll_audit(&self, limit: usize) -> MonitorUpdate {
        match self.recent_audit(limit).await {
            Ok(entries) => MonitorUpdate::Audit {
                entries,
                at: Timestamp::now(),
            },
            Err(e) => MonitorUpdate::AuditError {
                error: e.to_string(),
                at: Timestamp::now(),
            },
        }
    }

    /// Depth of queue and DLQ: one call each.
    pub async fn depths(&self) -> crate::ports::Result<(QueueStats, QueueStats)> {
        let (q, d) = (self.queue().await?, self.dlq().await?);
        let queue = self.backend().queue.stats(&q);
        let dlq = self.backend().queue.stats(&d);
        let (queue, dlq) = tokio::join!(queue, dlq);
        Ok((queue?, dlq?))
    }

    /// Oldest-message age of queue and DLQ: one metrics call for both.
    pub async fn ages(&self) -> crate::ports::Result<(AgeReading, AgeReading)> {
        let (q, d) = (self.queue().await?, self.dlq().await?);
        let readings = self.backend().metrics.oldest_age(&[q, d]).await?;
        let none = AgeReading {
            age: None,
            as_of: None,
        };
        Ok((
            readings.first().copied().unwrap_or(none),
            readings.get(1).copied().unwrap_or(none),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_max() {
        let every = Duration::from_secs(5);
        let max = Duration::from_mins(1);
        assert_eq!(
            next_delay(false, every, every, max),
            Duration::from_secs(10)
        );
        assert_eq!(next_delay(false, every, Duration::from_secs(40), max), max);
        assert_eq!(next_delay(true, every, max, max), every);
    }
}
