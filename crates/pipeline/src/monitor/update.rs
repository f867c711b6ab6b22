//! What the monitor reports: one update per poll, a figure with its time, or why the poll failed.

use std::time::Duration;

use crate::alarms::AlarmReport;
use crate::intake::IntakeSnapshot;
use voucherdeck_core::domain::{AuditEntry, FailureRecord, Timestamp};
use voucherdeck_core::ports::{AgeReading, BackendError, QueueStats, ServersIntake};

/// What oldest-message ages say on an endpoint without CloudWatch (some AWS-compatible ones).
pub const NO_CLOUDWATCH: &str = "no data (the endpoint has no CloudWatch)";

/// What the monitor reports.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorUpdate {
    Depth {
        queue: QueueStats,
        dlq: QueueStats,
    },
    /// `exact`: measured by the embedded engine now; otherwise CloudWatch's latest minute.
    /// `servers`: what the intake servers published, read with the ages.
    Age {
        queue: AgeReading,
        dlq: AgeReading,
        servers: ServersIntake,
        exact: bool,
        at: Timestamp,
    },
    /// The pipeline's alarms (or why there are none).
    Alarms(AlarmReport),
    /// Failure records: the newest at first, then those newer than the previous read.
    Failures(Vec<FailureRecord>),
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
    /// A poll failed.
    Failed(PollError),
}

/// Which poll an update answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Depth,
    Age,
    Alarms,
    Failures,
    Audit,
}

/// Why a poll failed, and when it is tried again.
#[derive(Debug, Clone, PartialEq)]
pub struct PollError {
    pub feed: Feed,
    pub error: BackendError,
    pub at: Timestamp,
    /// The time to the next attempt (the backoff grows while the poll fails).
    pub retry_in: Duration,
}

impl PollError {
    /// `feed`'s poll failed with `error` just now.
    pub fn now(feed: Feed, error: BackendError) -> PollError {
        PollError {
            feed,
            error,
            at: Timestamp::now(),
            retry_in: Duration::ZERO,
        }
    }

    /// What to show: the error, or for ages on an endpoint without CloudWatch, that there is no
    /// data there.
    pub fn message(&self) -> String {
        match (self.feed, &self.error) {
            (Feed::Age, BackendError::Unsupported(_)) => NO_CLOUDWATCH.into(),
            (_, e) => e.to_string(),
        }
    }

    /// The endpoint did not answer (as opposed to answering with an error).
    pub fn unreachable(&self) -> bool {
        self.error.is_unreachable()
    }
}

impl MonitorUpdate {
    /// `feed`'s poll failed with `error` just now.
    pub fn failed(feed: Feed, error: BackendError) -> MonitorUpdate {
        MonitorUpdate::Failed(PollError::now(feed, error))
    }

    /// The update with the time to its next attempt, for a failure.
    #[must_use]
    pub(super) fn retrying_in(mut self, delay: Duration) -> MonitorUpdate {
        if let MonitorUpdate::Failed(e) = &mut self {
            e.retry_in = delay;
        }
        self
    }
}
