//! Embedded alarms: the same rules CloudWatch evaluates, evaluated in process over the engine's own
//! figures (queue and DLQ depth, oldest age, deletes, the consumer's and the intake's published
//! counts). Each read samples the queues, so the rules see the series a dashboard polls; the period
//! is short (10 s by default instead of CloudWatch's minute) so a demo's outage fires and clears
//! them within seconds.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::metrics::EmbeddedMetrics;
use super::queue::EmbeddedQueues;
use voucherdeck_core::domain::{AlarmState, AlarmStatus, Evaluation, PeriodFigures, Timestamp};
use voucherdeck_core::ports::{AlarmRecord, AlarmSpec, Alarms, RequestCounter, Result};

/// The embedded period: CloudWatch's minute, six times faster.
pub const EMBEDDED_ALARM_PERIOD: Duration = Duration::from_secs(10);
/// Samples kept per queue.
const SAMPLES_KEPT: usize = 20_000;

/// One look at a queue.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    visible: u64,
    age: Option<Duration>,
    /// Deleted so far (a counter).
    deleted: u64,
}

/// An alarm as the engine keeps it.
#[derive(Debug, Clone)]
struct Stored {
    spec: AlarmSpec,
    state: AlarmState,
    reason: String,
    since: Timestamp,
}

#[derive(Debug, Default)]
struct State {
    alarms: BTreeMap<String, Stored>,
    samples: HashMap<String, VecDeque<Sample>>,
}

/// The embedded alarms service.
#[derive(Debug, Clone)]
pub struct EmbeddedAlarms {
    state: Arc<Mutex<State>>,
    queues: EmbeddedQueues,
    metrics: EmbeddedMetrics,
    requests: RequestCounter,
    period: Duration,
}

impl EmbeddedAlarms {
    pub fn new(
        queues: EmbeddedQueues,
        metrics: EmbeddedMetrics,
        requests: RequestCounter,
        period: Duration,
    ) -> Self {
        EmbeddedAlarms {
            state: Arc::default(),
            queues,
            metrics,
            requests,
            period,
        }
    }

    /// Looks at every queue an alarm watches, now.
    fn sample(&self, state: &mut State, now: Instant) {
        let watched: Vec<String> = state
            .alarms
            .values()
            .flat_map(|a| [a.spec.queue.clone(), a.spec.dlq.clone()])
            .collect();
        for name in watched {
            let Some((stats, deleted)) = self.queues.figures(&name) else {
                continue;
            };
            let series = state.samples.entry(name).or_default();
            if series.back().is_some_and(|s| s.at == now) {
                continue;
            }
            series.push_back(Sample {
                at: now,
                visible: stats.visible,
                age: (stats.visible + stats.in_flight + stats.delayed > 0)
                    .then_some(stats.oldest_age)
                    .flatten(),
                deleted,
            });
            if series.len() > SAMPLES_KEPT {
                series.pop_front();
            }
        }
    }

    /// The figures of `[from, to)`.
    fn figures(
        &self,
        state: &State,
        spec: &AlarmSpec,
        from: Instant,
        to: Instant,
    ) -> PeriodFigures {
        let within = |name: &str| -> Vec<Sample> {
            state.samples.get(name).map_or_else(Vec::new, |s| {
                s.iter()
                    .filter(|x| x.at >= from && x.at < to)
                    .copied()
                    .collect()
            })
        };
        let queue = within(&spec.queue);
        let dlq = within(&spec.dlq);
        let max = |v: &[Sample], f: fn(&Sample) -> f64| v.iter().map(f).reduce(f64::max);
        // Deletes: the counter's rise from the last sample before the period to its last one.
        let before = state
            .samples
            .get(&spec.queue)
            .and_then(|s| s.iter().rev().find(|x| x.at < from).map(|x| x.deleted));
        let deleted = queue.last().map(|last| {
            last.deleted
                .saturating_sub(before.unwrap_or(queue[0].deleted)) as f64
        });
        let consumer = self.metrics.published_between(from, to);
        let intake = self.metrics.intake_published_between(from, to);
        PeriodFigures {
            queue_visible: max(&queue, |s| s.visible as f64),
            queue_age_secs: queue
                .iter()
                .filter_map(|s| s.age.map(|a| a.as_secs_f64()))
                .reduce(f64::max),
            dlq_visible: max(&dlq, |s| s.visible as f64),
            deleted,
            persisted: consumer.map(|c| c.persisted as f64),
            failed: consumer.map(|c| c.failed as f64),
            intake_requests: intake.map(|i| i.requests as f64),
            intake_5xx: intake.map(|i| i.server_errors as f64),
            intake_429: intake.map(|i| i.throttled as f64),
            audit_lost: intake.map(|i| i.audit_lost as f64),
        }
    }

    /// Evaluates one alarm at `now` over its last periods (oldest first), the newest period ending now.
    fn evaluate(&self, state: &State, spec: &AlarmSpec, now: Instant) -> Evaluation {
        let n = spec.rule.periods as usize;
        let window = |i: usize| {
            let to = now.checked_sub(self.period * i as u32).unwrap_or(now);
            let from = to.checked_sub(self.period).unwrap_or(to);
            self.figures(state, spec, from, to + Duration::from_nanos(1))
        };
        let figures: Vec<PeriodFigures> = (0..=n).rev().map(window).collect();
        let datapoints: Vec<Option<f64>> = figures
            .windows(2)
            .map(|pair| spec.rule.datapoint(&pair[1], Some(&pair[0])))
            .collect();
        spec.rule.evaluate(&datapoints)
    }
}

#[async_trait]
impl Alarms for EmbeddedAlarms {
    async fn describe(&self, names: &[String]) -> Result<Vec<AlarmRecord>> {
        self.requests.hit("cloudwatch:DescribeAlarms");
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.sample(&mut state, now);
        let mut out = Vec::new();
        for name in names {
            let Some(stored) = state.alarms.get(name) else {
                continue;
            };
            let eval = self.evaluate(&state, &stored.spec, now);
            let Some(stored) = state.alarms.get_mut(name) else {
                continue;
            };
            if eval.state != stored.state {
                stored.state = eval.state;
                stored.reason = eval.reason;
                stored.since = Timestamp::now();
            }
            out.push(AlarmRecord {
                status: AlarmStatus {
                    name: name.clone(),
                    kind: Some(stored.spec.rule.kind),
                    state: stored.state,
                    reason: stored.reason.clone(),
                    since: Some(stored.since),
                },
                config: stored.spec.config(),
            });
        }
        Ok(out)
    }

    async fn put(&self, spec: &AlarmSpec) -> Result<()> {
        self.requests.hit("cloudwatch:PutMetricAlarm");
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = state.alarms.remove(&spec.rule.name);
        let stored = match kept {
            Some(old) => Stored {
                spec: spec.clone(),
                ..old
            },
            None => Stored {
                spec: spec.clone(),
                state: AlarmState::InsufficientData,
                reason: "Unchecked: initial alarm creation".into(),
                since: Timestamp::now(),
            },
        };
        state.alarms.insert(spec.rule.name.clone(), stored);
        self.sample(&mut state, Instant::now());
        Ok(())
    }
}
