//! Messages into `update` and effects out of it: plain data only. Background tasks (see `effects`)
//! turn service results into these; nothing here calls a service.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crossterm::event::KeyEvent;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{FailureRecord, FieldError, GiftRequest, Timestamp};
use crate::ports::{AgeReading, QueueStats};

/// Everything that can happen to the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A key press (releases and repeats are dropped by the loop).
    Key(KeyEvent),
    /// The terminal was resized (only redraws).
    Resize,
    /// The clock: the only source of "now" for `update` and the views.
    Tick(Timestamp),
    /// Queue and DLQ depth from one poll.
    Depth {
        queue: QueueStats,
        dlq: QueueStats,
    },
    DepthError {
        error: String,
        at: Timestamp,
    },
    /// Oldest-message age. `exact`: the embedded engine's own figure; otherwise CloudWatch's minute.
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
    /// The newest failure records from the shared failure log, newest first.
    Failures(Vec<FailureRecord>),
    FailuresError {
        error: String,
        at: Timestamp,
    },
    /// This dashboard's worker, sampled.
    Consumer(ConsumerStats),
    /// The worker could not start (or is absent).
    ConsumerUnavailable(String),
    /// A voucher the worker persisted.
    Persisted {
        voucher_id: Uuid,
        message_id: String,
    },
    /// A failure the worker just recorded.
    Failed(FailureRecord),
    /// The answer to `Effect::Gift`.
    Gifted(Result<GiftOutcome, GiftFailure>),
    /// The answer to `Effect::PeekDlq`.
    DlqPeeked(Result<Vec<DlqEntry>, String>),
    /// The answer to `Effect::DeleteDlq`: how many were deleted, of which ids.
    DlqDeleted {
        ids: Vec<String>,
        result: Result<u64, String>,
    },
    /// The answer to `Effect::ExportDlq`: the file and the number of lines.
    Exported(Result<(PathBuf, usize), String>),
    /// The answer to `Effect::PurgeDlq`.
    Purged(Result<(), String>),
    /// Progress of the running redrive.
    Redrive(RedriveStatus),
}

/// What `update` asks the outside world to do. Each runs as a spawned task and answers with a `Msg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Gift(GiftRequest),
    PeekDlq {
        limit: usize,
    },
    DeleteDlq {
        ids: Vec<String>,
    },
    StartRedrive(RedrivePlan),
    CancelRedrive,
    SetWorkerPaused(bool),
    SetConcurrency(usize),
    /// Write these messages as JSON Lines to `file_name` in the export directory.
    ExportDlq {
        file_name: String,
        entries: Vec<DlqEntry>,
    },
    PurgeDlq,
}

/// The worker's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ConsumerStats {
    pub at: Timestamp,
    pub paused: bool,
    pub stopped: bool,
    pub concurrency: usize,
    pub in_flight: usize,
    pub persisted_total: u64,
    pub failed_total: u64,
    pub dead_lettered_total: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// An accepted gift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftOutcome {
    pub voucher_id: Uuid,
    /// The idempotency key was used before: this is the earlier voucher.
    pub duplicate: bool,
}

/// Why a gift was refused, in terms the form can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiftFailure {
    /// Field errors (the service validates again).
    Invalid(Vec<FieldError>),
    /// Rate limit or daily cap: the request's fault, try later.
    Refused(String),
    /// The backend failed.
    Backend(String),
}

impl std::fmt::Display for GiftFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GiftFailure::Invalid(errors) => {
                let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
                write!(f, "invalid gift: {}", parts.join("; "))
            }
            GiftFailure::Refused(s) => f.write_str(s),
            GiftFailure::Backend(s) => write!(f, "backend error: {s}"),
        }
    }
}

/// A peeked DLQ message, with its decoded failure attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DlqEntry {
    pub message_id: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
    pub receive_count: u32,
    pub sent_at: Option<Timestamp>,
    pub failure: Option<DlqFailureInfo>,
}

/// Why a DLQ message failed, as recorded in its attributes by the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DlqFailureInfo {
    pub kind: String,
    pub reason: String,
    pub worker: Option<String>,
    pub first_seen: Option<String>,
    pub source_queue: Option<String>,
}

/// Which DLQ messages a redrive moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedriveScope {
    All,
    Ids(Vec<String>),
    /// Messages whose body contains this text.
    Match(String),
}

/// A redrive to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePlan {
    pub scope: RedriveScope,
    /// `None`: back to each message's original source queue.
    pub destination: Option<String>,
    /// Messages per second; `None`: the backend's default.
    pub rate: Option<u32>,
}

/// How the redrive moves messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedriveMethodView {
    /// SQS's own message-move task.
    Native,
    /// Receive, send to the destination, then delete.
    Copy,
}

/// Where a redrive stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedrivePhase {
    Running,
    Completed,
    Cancelled,
    Failed(String),
}

/// One progress report of a redrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveStatus {
    pub method: RedriveMethodView,
    pub moved: u64,
    pub total: Option<u64>,
    pub failed: u64,
    pub phase: RedrivePhase,
}
