//! Depth history: the queue's and the DLQ's depth over time, bounded by a time span and a sample
//! count. Kept in the services so every front end (dashboard, headless commands, a web page) reads the
//! same series.

use std::collections::VecDeque;
use std::time::Duration;

use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::QueueStats;

/// Depth of queue and DLQ at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthSample {
    pub at: Timestamp,
    pub queue: QueueStats,
    pub dlq: QueueStats,
}

impl DepthSample {
    /// A sample stamped with the time the queue's figures describe.
    pub fn new(queue: QueueStats, dlq: QueueStats) -> DepthSample {
        DepthSample {
            at: queue.as_of,
            queue,
            dlq,
        }
    }
}

/// A bounded time series of depth samples, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthHistory {
    samples: VecDeque<DepthSample>,
    span: Duration,
    max_samples: usize,
}

impl Default for DepthHistory {
    fn default() -> Self {
        DepthHistory::new(
            DepthHistory::DEFAULT_SPAN,
            DepthHistory::DEFAULT_MAX_SAMPLES,
        )
    }
}

impl DepthHistory {
    /// A little over an hour: the longest window a chart shows.
    pub const DEFAULT_SPAN: Duration = Duration::from_mins(65);
    /// The most samples kept, whatever the poll rate.
    pub const DEFAULT_MAX_SAMPLES: usize = 8_000;

    /// Keeps samples no older than `span` before the newest, and at most `max_samples` of them.
    pub fn new(span: Duration, max_samples: usize) -> Self {
        DepthHistory {
            samples: VecDeque::new(),
            span,
            max_samples,
        }
    }

    /// Adds a sample (one older than the newest is ignored) and forgets those past either bound.
    pub fn push(&mut self, s: DepthSample) {
        if self.samples.back().is_some_and(|last| s.at < last.at) {
            return;
        }
        self.samples.push_back(s);
        let cutoff = s.at.minus(self.span);
        while self.samples.front().is_some_and(|f| f.at < cutoff)
            || self.samples.len() > self.max_samples
        {
            self.samples.pop_front();
        }
    }

    pub fn latest(&self) -> Option<&DepthSample> {
        self.samples.back()
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Every sample kept, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &DepthSample> {
        self.samples.iter()
    }

    /// Samples within `window` of `now`, oldest first.
    pub fn window(&self, now: Timestamp, window: Duration) -> impl Iterator<Item = &DepthSample> {
        let cutoff = now.minus(window);
        self.samples.iter().filter(move |s| s.at >= cutoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ms: i64) -> DepthSample {
        let s = QueueStats {
            visible: 1,
            in_flight: 0,
            delayed: 0,
            oldest_age: None,
            as_of: Timestamp(ms),
        };
        DepthSample::new(s, s)
    }

    /// A history fed one sample a second, from 0 s to `n - 1` s.
    fn fed(span: Duration, max_samples: usize, n: i64) -> DepthHistory {
        let mut h = DepthHistory::new(span, max_samples);
        for i in 0..n {
            h.push(sample(i * 1000));
        }
        h
    }

    #[test]
    fn history_is_bounded_by_span() {
        let h = fed(Duration::from_secs(10), 1_000, 30);
        assert_eq!(h.len(), 11);
        assert_eq!(
            h.window(Timestamp(29_000), Duration::from_secs(5)).count(),
            6
        );
        assert_eq!(h.latest().map(|s| s.at), Some(Timestamp(29_000)));
    }

    #[test]
    fn history_is_bounded_by_count_and_ignores_older_samples() {
        let mut h = fed(Duration::from_hours(1), 5, 8);
        assert_eq!(h.len(), 5);
        assert_eq!(h.iter().next().map(|s| s.at), Some(Timestamp(3_000)));
        h.push(sample(1_000));
        assert_eq!(h.len(), 5);
        assert_eq!(h.latest().map(|s| s.at), Some(Timestamp(7_000)));
    }
}
