//! The consumer's running figures: [`ConsumerStats`] totals, messages in flight, and a window of
//! processing latencies. The snapshot, the final report and the published metrics all read them;
//! what is published is the change since the last publish.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use voucherdeck_core::ports::ConsumerStats;

/// How many recent latencies the percentiles are taken over.
const LATENCY_WINDOW: usize = 2048;

/// The figures of one running consumer, shared by its loops and its handle.
#[derive(Debug, Default)]
pub(super) struct StatsRecorder {
    recorded: Mutex<Recorded>,
    in_flight: AtomicUsize,
}

#[derive(Debug, Default)]
struct Recorded {
    totals: ConsumerStats,
    /// The totals at the last publish.
    published: ConsumerStats,
    /// The most recent latencies, in milliseconds.
    window: VecDeque<f64>,
    /// Latencies measured since the last publish.
    unpublished_latencies: Vec<f64>,
}

impl StatsRecorder {
    /// A batch of `n` messages arrived.
    pub(super) fn batch_started(&self, n: usize) {
        if let Ok(mut r) = self.recorded.lock() {
            r.totals.received += n as u64;
        }
        self.in_flight.fetch_add(n, Ordering::Relaxed);
    }

    /// A batch of `n` messages is done: what it adds to the counts, and how long it took.
    pub(super) fn batch_done(&self, n: usize, counts: &ConsumerStats, latency_ms: f64) {
        if let Ok(mut r) = self.recorded.lock() {
            r.totals.add(counts);
            for _ in 0..n {
                if r.window.len() == LATENCY_WINDOW {
                    r.window.pop_front();
                }
                r.window.push_back(latency_ms);
            }
            r.unpublished_latencies
                .extend(std::iter::repeat_n(latency_ms, n));
        }
        self.in_flight.fetch_sub(n, Ordering::Relaxed);
    }

    /// Counts since the consumer started.
    pub(super) fn totals(&self) -> ConsumerStats {
        self.recorded.lock().map(|r| r.totals).unwrap_or_default()
    }

    /// Messages being processed now.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The median and 99th percentile of the recent latencies.
    pub(super) fn percentiles(&self) -> (Option<f64>, Option<f64>) {
        self.recorded
            .lock()
            .map_or((None, None), |r| percentiles(&r.window))
    }

    /// What to publish: the change in the counts since the last publish, and the latencies
    /// measured meanwhile. Marks them published.
    pub(super) fn take_unpublished(&self) -> (ConsumerStats, Vec<f64>) {
        let Ok(mut r) = self.recorded.lock() else {
            return (ConsumerStats::default(), Vec::new());
        };
        let delta = r.totals.since(&r.published);
        r.published = r.totals;
        (delta, std::mem::take(&mut r.unpublished_latencies))
    }
}

fn percentiles(l: &VecDeque<f64>) -> (Option<f64>, Option<f64>) {
    if l.is_empty() {
        return (None, None);
    }
    let mut v: Vec<f64> = l.iter().copied().collect();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (Some(at(0.5)), Some(at(0.99)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_picks() {
        let l: VecDeque<f64> = (1..=100).map(f64::from).collect();
        let (p50, p99) = percentiles(&l);
        assert_eq!(p50, Some(51.0));
        assert_eq!(p99, Some(99.0));
    }

    #[test]
    fn unpublished_is_the_change_since_the_last_publish() {
        let s = StatsRecorder::default();
        s.batch_started(3);
        assert_eq!(s.in_flight(), 3);
        let done = ConsumerStats {
            persisted: 2,
            failed: 1,
            ..ConsumerStats::default()
        };
        s.batch_done(3, &done, 12.0);
        assert_eq!(s.in_flight(), 0);
        let (delta, latencies) = s.take_unpublished();
        assert_eq!((delta.received, delta.persisted, delta.failed), (3, 2, 1));
        assert_eq!(latencies, vec![12.0; 3]);
        let (delta, latencies) = s.take_unpublished();
        assert_eq!((delta, latencies.len()), (ConsumerStats::default(), 0));
        assert_eq!(s.totals().persisted, 2);
        assert_eq!(s.percentiles(), (Some(12.0), Some(12.0)));
    }
}
