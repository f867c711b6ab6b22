//! Messages into `update` and effects out of it: plain data only. They carry the services' own data
//! types (DLQ messages, redrive requests and progress, worker snapshots); background tasks (see
//! `effects`) turn service results into these; nothing here calls a service.

use std::path::PathBuf;

use crossterm::event::KeyEvent;
use uuid::Uuid;

use voucherdeck_core::domain::{FailureRecord, GiftRequest, OperatorNote, Timestamp};
use voucherdeck_pipeline::{
    ConsumerSnapshot, DlqCount, DlqFilter, DlqMessage, GiftError, GiftReceipt, MonitorUpdate,
    RedriveProgress, RedriveRequest, ResendReceipt,
};

/// Everything that can happen to the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A key press (releases and repeats are dropped by the loop).
    Key(KeyEvent),
    /// The terminal was resized (only redraws).
    Resize,
    /// The clock: the only source of "now" for `update` and the views.
    Tick(Timestamp),
    /// What the monitor polled: depth, oldest-message age, failure log (or why it could not).
    Monitor(MonitorUpdate),
    /// This dashboard's worker, sampled.
    Consumer(ConsumerSample),
    /// A voucher the worker persisted.
    Persisted {
        voucher_id: Uuid,
        message_id: String,
    },
    /// A failure the worker just recorded.
    Failed(FailureRecord),
    /// The answer to `Effect::Gift`: the service's own receipt or refusal.
    Gifted(Result<GiftReceipt, GiftError>),
    /// The answer to `Effect::PeekDlq`: the first page of a new session.
    DlqPeeked(Result<Vec<DlqMessage>, String>),
    /// The answer to `Effect::LoadDlq`: more messages, and whether the DLQ has no more.
    DlqMore {
        result: Result<Vec<DlqMessage>, String>,
        exhausted: bool,
    },
    /// Messages loaded so far while a long load runs.
    DlqProgress(usize),
    /// The gift of a DLQ message as edited in the editor (or why it could not be).
    Edited {
        message_id: String,
        result: Result<GiftRequest, String>,
    },
    /// The answer to `Effect::ResendDlq`.
    Resent {
        message_id: String,
        result: Result<ResendReceipt, GiftError>,
    },
    /// The answer to `Effect::CountDlq`: how many messages a filter takes (a dry run).
    DlqCounted(Result<DlqCount, String>),
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
    Redrive(RedriveProgress),
    /// Any of the above, about pipeline `index` (applied to its view, on screen or not).
    For { index: usize, msg: Box<Msg> },
}

impl Msg {
    /// A feed the dashboard follows on its own (polls, worker samples and events, redrive
    /// progress): shown at the next tick, so a flood of them costs one frame a second. Keys and
    /// the answers to what the user asked for are shown at once.
    pub fn is_background(&self) -> bool {
        matches!(
            self,
            Msg::Monitor(_)
                | Msg::Consumer(_)
                | Msg::Persisted { .. }
                | Msg::Failed(_)
                | Msg::Redrive(_)
        )
    }
}

/// What `update` asks the outside world to do. Each runs as a spawned task and answers with a `Msg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Gift(GiftRequest),
    /// Open a new session over the DLQ (releasing the old one) and read its first `limit`.
    PeekDlq {
        limit: usize,
    },
    /// Read `more` further DLQ messages (`None`: every one left).
    LoadDlq {
        more: Option<usize>,
    },
    /// Make what the browser's session holds visible again.
    ReleaseDlq,
    /// Read the whole DLQ (with progress), then write it as JSON Lines to `file_name`.
    ExportDlqAll {
        file_name: String,
    },
    /// Open a DLQ message's gift in $VISUAL/$EDITOR (the terminal is handed over meanwhile).
    EditDlq {
        message_id: String,
        gift: GiftRequest,
    },
    /// Send the corrected gift to the message's source queue, then delete the original.
    ResendDlq {
        message_id: String,
        gift: GiftRequest,
        /// The operator's note for the audit log.
        note: Option<OperatorNote>,
    },
    /// Count the DLQ messages a filter takes (reads the whole DLQ, moves nothing).
    CountDlq(DlqFilter),
    DeleteDlq {
        ids: Vec<String>,
        /// The operator's note for the audit log.
        note: Option<OperatorNote>,
    },
    StartRedrive(RedriveRequest),
    CancelRedrive,
    SetWorkerPaused(bool),
    SetConcurrency(usize),
    /// Write these messages as JSON Lines to `file_name` in the export directory.
    ExportDlq {
        file_name: String,
        entries: Vec<DlqMessage>,
    },
    PurgeDlq {
        /// The operator's note for the audit log.
        note: Option<OperatorNote>,
    },
    /// Ring the terminal bell (`--bell`: an alarm fired or cleared, messages reached the DLQ).
    Bell,
    /// The pipeline at `index` is on screen now: effects that name none go to it.
    OnScreen(usize),
    /// An effect for pipeline `index` (one that is not on screen).
    On {
        index: usize,
        effect: Box<Effect>,
    },
    /// Read the audit log now (it is also polled, rarely); answers as a monitor update.
    RefreshAudit,
}

/// One sample of the worker's figures, stamped with the time it was taken (rates need it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsumerSample {
    pub at: Timestamp,
    pub snapshot: ConsumerSnapshot,
}
