//! What the intake (the HTTP API) did, for `/metrics` (Prometheus text, through
//! `prometheus-client`), for the dashboard's Intake pane and for CloudWatch (`intake_publish`):
//! accepted gifts, refusals by reason and status, latency, the sizes of the coalesced SQS batches,
//! the requests in flight, the audit entries lost (every one this process could not write), and
//! the answers (all, 5xx, 429) and losses not yet published.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets, linear_buckets};
use prometheus_client::registry::Registry;
use serde::Serialize;

use crate::producer::error::GiftError;
use voucherdeck_core::ports::IntakeStats;

/// Latencies kept for the dashboard's p99.
const WINDOW: usize = 2048;

type Labels = Vec<(&'static str, String)>;

/// The intake's figures. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct IntakeMeter {
    accepted: Counter,
    refused: Family<Labels, Counter>,
    /// The same refusals, for the dashboard (a family's counters cannot be listed back).
    refusals: Arc<Mutex<BTreeMap<&'static str, u64>>>,
    responses: Family<Labels, Counter>,
    latency: Histogram,
    batch_size: Histogram,
    in_flight: Gauge,
    audit_lost: Counter,
    recent: Arc<Mutex<VecDeque<Duration>>>,
    tally: Arc<Mutex<Tally>>,
}

/// The answers counted, and how many of them were published.
#[derive(Debug, Default)]
struct Tally {
    total: IntakeStats,
    published: IntakeStats,
}

impl Default for IntakeMeter {
    fn default() -> Self {
        IntakeMeter {
            accepted: Counter::default(),
            refused: Family::default(),
            refusals: Arc::default(),
            responses: Family::default(),
            latency: Histogram::new(exponential_buckets(0.000_5, 2.0, 16)),
            batch_size: Histogram::new(linear_buckets(1.0, 1.0, 10)),
            in_flight: Gauge::default(),
            audit_lost: Counter::default(),
            recent: Arc::default(),
            tally: Arc::default(),
        }
    }
}

/// A reading of the intake for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IntakeSnapshot {
    pub accepted: u64,
    /// Refused gifts by reason (`invalid`, `rate_limited`, `daily_cap`, `key_reused`…), sorted.
    pub refused: Vec<(String, u64)>,
    /// Answers 401.
    pub unauthorized: u64,
    /// Every answer since the server started: all, 5xx, 429, and the audit entries this process
    /// lost (what it publishes, as totals).
    pub answers: IntakeStats,
    /// p99 of the last requests.
    pub p99: Option<Duration>,
    pub in_flight: i64,
}

impl IntakeMeter {
    /// Registers every figure under `voucherdeck_api_*`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "voucherdeck_api_gifts_accepted",
            "Gifts accepted (queued)",
            self.accepted.clone(),
        );
        registry.register(
            "voucherdeck_api_gifts_refused",
            "Gifts refused, by reason",
            self.refused.clone(),
        );
        registry.register(
            "voucherdeck_api_responses",
            "Responses, by status code",
            self.responses.clone(),
        );
        registry.register(
            "voucherdeck_api_request_duration_seconds",
            "Time to answer a request",
            self.latency.clone(),
        );
        registry.register(
            "voucherdeck_sqs_send_batch_size",
            "Messages per coalesced SendMessageBatch",
            self.batch_size.clone(),
        );
        registry.register(
            "voucherdeck_api_in_flight_requests",
            "Requests being answered",
            self.in_flight.clone(),
        );
        registry.register(
            "voucherdeck_audit_entries_lost",
            "Audit entries this process could not write to the audit log, after its retries",
            self.audit_lost.clone(),
        );
    }

    /// Audit entries that finally could not be written (counted for the whole process).
    pub(crate) fn audit_lost(&self, n: u64) {
        self.audit_lost.inc_by(n);
        self.tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
            .audit_lost += n;
    }

    pub fn accepted(&self) {
        self.accepted.inc();
    }

    /// A gift refused, counted by its reason (`invalid`, `rate_limited`, `daily_cap`…).
    pub fn refused(&self, error: &GiftError) {
        let reason = error.reason();
        self.refused
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
        *self
            .refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(reason)
            .or_default() += 1;
    }

    /// One answered request.
    pub fn answered(&self, status: u16, took: Duration) {
        self.responses
            .get_or_create(&vec![("status", status.to_string())])
            .inc();
        self.latency.observe(took.as_secs_f64());
        self.tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
            .count(status);
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() == WINDOW {
            recent.pop_front();
        }
        recent.push_back(took);
    }

    /// The answers since the last publish, now counted as published.
    pub(crate) fn take_unpublished(&self) -> IntakeStats {
        let mut tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        let delta = tally.total.since(&tally.published);
        tally.published = tally.total;
        delta
    }

    /// Gives back answers whose publish failed, so the next publish carries them.
    pub(crate) fn unpublished_again(&self, delta: &IntakeStats) {
        let mut tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        tally.published = tally.published.since(delta);
    }

    pub fn batch_sent(&self, size: usize) {
        self.batch_size.observe(size as f64);
    }

    /// A request started; the guard counts it until dropped.
    pub fn start(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    pub fn snapshot(&self) -> IntakeSnapshot {
        let status = |code: &str| {
            self.responses
                .get_or_create(&vec![("status", code.to_string())])
                .get()
        };
        let refused = self
            .refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(reason, n)| ((*reason).to_string(), *n))
            .collect();
        let mut recent: Vec<Duration> = self
            .recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .copied()
            .collect();
        recent.sort_unstable();
        let p99 = (!recent.is_empty()).then(|| recent[(recent.len() * 99).div_ceil(100) - 1]);
        IntakeSnapshot {
            accepted: self.accepted.get(),
            refused,
            unauthorized: status("401"),
            answers: self
                .tally
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .total,
            p99,
            in_flight: self.in_flight.get(),
        }
    }
}

/// Counts a request in flight until dropped.
#[derive(Debug)]
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_and_text() {
        let m = IntakeMeter::default();
        m.accepted();
        m.refused(&GiftError::DailyCap {
            sender: "ada".into(),
            limit: 1,
            retry_at: voucherdeck_core::domain::Timestamp(0),
        });
        m.answered(202, Duration::from_millis(3));
        m.answered(429, Duration::from_millis(1));
        m.batch_sent(7);
        let guard = m.start();
        let s = m.snapshot();
        assert_eq!((s.accepted, s.answers.throttled, s.in_flight), (1, 1, 1));
        assert_eq!(s.answers.requests, 2);
        assert_eq!(s.refused, vec![("daily_cap".to_string(), 1)]);
        assert_eq!(s.p99, Some(Duration::from_millis(3)));
        drop(guard);
        let mut registry = Registry::default();
        m.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
        assert!(
            text.contains("voucherdeck_api_gifts_accepted_total 1"),
            "{text}"
        );
        assert!(
            text.contains("voucherdeck_sqs_send_batch_size_count 1"),
            "{text}"
        );
        assert!(
            text.contains("voucherdeck_audit_entries_lost_total 0"),
            "{text}"
        );
    }

    #[test]
    fn answers_are_published_once_and_a_failed_publish_is_carried_over() {
        let m = IntakeMeter::default();
        for status in [202, 429, 429, 503, 500, 404] {
            m.answered(status, Duration::from_millis(1));
        }
        let first = m.take_unpublished();
        let want = IntakeStats {
            requests: 6,
            server_errors: 2,
            throttled: 2,
            audit_lost: 0,
        };
        assert_eq!(first, want);
        assert_eq!(m.take_unpublished(), IntakeStats::default());
        m.answered(200, Duration::from_millis(1));
        let second = m.take_unpublished();
        m.unpublished_again(&second);
        m.answered(429, Duration::from_millis(1));
        m.audit_lost(3);
        let carried = IntakeStats {
            requests: 2,
            server_errors: 0,
            throttled: 1,
            audit_lost: 3,
        };
        assert_eq!(m.take_unpublished(), carried);
        m.audit_lost(1);
        assert!(
            !m.take_unpublished().is_empty(),
            "a loss alone is published"
        );
    }
}
