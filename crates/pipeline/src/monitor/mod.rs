//! The monitor: polls depth (queue and DLQ), oldest-message age, the alarms, the failure log and the
//! audit log on their own schedules, marks every figure with its time, keeps going (stale, with
//! backoff) when the backend is unreachable, and reports by message.
//!
//! The defaults keep one pipeline within its polling budget ([`MonitorConfig::per_minute`]): at most
//! 30 SQS, 12 DynamoDB and 2 CloudWatch requests a minute on AWS. The failure log is read for the
//! last day once, then only what is newer than the previous read (one query a poll); so is the
//! audit log (the audit view reads it whole when opened).

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

mod update;

pub use update::{Feed, MonitorUpdate, NO_CLOUDWATCH, PollError};

use super::cursor::ReadCursor;
use super::services::Pipeline;
use voucherdeck_core::backend::BackendKind;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::{AgeReading, QueueStats, ServersIntake};

/// Polling schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorConfig {
    pub depth_every: Duration,
    /// CloudWatch figures are minute-granular: polling faster only costs money.
    pub age_every: Duration,
    /// Alarm states change at CloudWatch's minute too.
    pub alarms_every: Duration,
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

impl MonitorConfig {
    /// The schedule for AWS: depth every 5 s (2 SQS requests), age and alarms once a minute (1
    /// CloudWatch request each), new failures every 10 s and new audit entries once a minute (1
    /// DynamoDB query each): 24 SQS, 2 CloudWatch and 7 DynamoDB requests a minute, within the
    /// budget in `domain::limits`.
    pub fn aws() -> MonitorConfig {
        MonitorConfig {
            depth_every: Duration::from_secs(5),
            failures_every: Duration::from_secs(10),
            ..MonitorConfig::default()
        }
    }

    /// The schedule for the embedded engine, which is free to ask: every 2 s.
    pub fn embedded() -> MonitorConfig {
        MonitorConfig {
            depth_every: Duration::from_secs(2),
            failures_every: Duration::from_secs(2),
            ..MonitorConfig::default()
        }
    }

    /// How many times a minute a poll that runs `every` runs.
    pub fn per_minute(every: Duration) -> f64 {
        60.0 / every.as_secs_f64().max(0.001)
    }
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            depth_every: Duration::from_secs(5),
            age_every: Duration::from_mins(1),
            alarms_every: Duration::from_mins(1),
            failures_every: Duration::from_secs(10),
            failures_limit: 200,
            audit_every: Duration::from_mins(1),
            audit_limit: 50,
            max_backoff: Duration::from_mins(1),
            intake_every: None,
        }
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

/// Reads the failure log from `cursor` on (see `cursor`); the dashboard merges by record id.
async fn poll_failures(p: &Pipeline, cursor: &ReadCursor, limit: usize) -> MonitorUpdate {
    let started = Timestamp::now();
    match p.failures_since(cursor.from(started), limit).await {
        Ok(list) => {
            cursor.advance(started);
            MonitorUpdate::Failures(list)
        }
        Err(e) => MonitorUpdate::failed(Feed::Failures, e),
    }
}

/// Reads the audit log from `cursor` on; the dashboard merges by entry id.
async fn poll_audit_since(p: &Pipeline, cursor: &ReadCursor, limit: usize) -> MonitorUpdate {
    let started = Timestamp::now();
    match p.audit_since(cursor.from(started), limit).await {
        Ok(entries) => {
            cursor.advance(started);
            MonitorUpdate::Audit {
                entries,
                at: Timestamp::now(),
            }
        }
        Err(e) => MonitorUpdate::failed(Feed::Audit, e),
    }
}

impl Poller {
    /// The once-a-minute metrics read (every `every`): the ages and the intake servers' figures.
    fn spawn_ages(&self, every: Duration, exact: bool) -> JoinHandle<()> {
        self.spawn(
            every,
            move |p| async move {
                match p.read_minute().await {
                    Ok(((queue, dlq), servers)) => MonitorUpdate::Age {
                        queue,
                        dlq,
                        servers,
                        exact,
                        at: Timestamp::now(),
                    },
                    Err(e) => MonitorUpdate::failed(Feed::Age, e),
                }
            },
            |u| matches!(u, MonitorUpdate::Age { .. }),
        )
    }

    /// The failure log's and the audit log's polls, each with its read cursor.
    fn spawn_logs(&self, cfg: MonitorConfig) -> [JoinHandle<()>; 2] {
        let cursor = ReadCursor::default();
        let failures = self.spawn(
            cfg.failures_every,
            move |p| {
                let cursor = cursor.clone();
                async move { poll_failures(&p, &cursor, cfg.failures_limit).await }
            },
            |u| matches!(u, MonitorUpdate::Failures(_)),
        );
        let cursor = ReadCursor::default();
        let audit = self.spawn(
            cfg.audit_every,
            move |p| {
                let cursor = cursor.clone();
                async move { poll_audit_since(&p, &cursor, cfg.audit_limit).await }
            },
            |u| matches!(u, MonitorUpdate::Audit { .. }),
        );
        [failures, audit]
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
                    Err(e) => MonitorUpdate::failed(Feed::Depth, e),
                }
            },
            |u| matches!(u, MonitorUpdate::Depth { .. }),
        );
        let age = poller.spawn_ages(age_every, exact);
        let alarms = poller.spawn(
            if exact {
                cfg.depth_every
            } else {
                cfg.alarms_every
            },
            |p| async move {
                match p.alarms().await {
                    Ok(report) => MonitorUpdate::Alarms(report),
                    Err(e) => MonitorUpdate::failed(Feed::Alarms, e),
                }
            },
            |u| matches!(u, MonitorUpdate::Alarms(_)),
        );
        let [failures, audit] = poller.spawn_logs(cfg);
        let mut tasks = vec![depth, age, alarms, failures, audit];
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

    /// The audit log's newest `limit` entries as a monitor update (asked on demand: the audit view
    /// reads the whole log when opened; the poll reads only what is new).
    pub async fn poll_audit(&self, limit: usize) -> MonitorUpdate {
        match self.recent_audit(limit).await {
            Ok(entries) => MonitorUpdate::Audit {
                entries,
                at: Timestamp::now(),
            },
            Err(e) => MonitorUpdate::failed(Feed::Audit, e),
        }
    }

    /// Depth of queue and DLQ: one call each.
    pub async fn depths(&self) -> voucherdeck_core::ports::Result<(QueueStats, QueueStats)> {
        let (q, d) = (self.queue().await?, self.dlq().await?);
        let queue = self.backend().queue.stats(&q);
        let dlq = self.backend().queue.stats(&d);
        let (queue, dlq) = tokio::join!(queue, dlq);
        Ok((queue?, dlq?))
    }

    /// Oldest-message age of queue and DLQ: one metrics call for both.
    pub async fn ages(&self) -> voucherdeck_core::ports::Result<(AgeReading, AgeReading)> {
        let (q, d) = (self.queue().await?, self.dlq().await?);
        let readings = self.backend().metrics.oldest_age(&[q, d]).await?;
        Ok(pair(&readings))
    }

    /// The dashboard's once-a-minute read: the ages of queue and DLQ and what the intake servers
    /// published, with one metrics call.
    pub async fn read_minute(
        &self,
    ) -> voucherdeck_core::ports::Result<((AgeReading, AgeReading), ServersIntake)> {
        let (q, d) = (self.queue().await?, self.dlq().await?);
        let read = self.backend().metrics.read_minute(&[q, d]).await?;
        Ok((pair(&read.ages), read.servers))
    }
}

/// The first two readings (queue, DLQ); no data for a missing one.
fn pair(readings: &[AgeReading]) -> (AgeReading, AgeReading) {
    let none = AgeReading {
        age: None,
        as_of: None,
    };
    (
        readings.first().copied().unwrap_or(none),
        readings.get(1).copied().unwrap_or(none),
    )
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
