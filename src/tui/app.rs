//! `App`: every piece of UI state, owned in one place. Only `update` changes it.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use crate::backend::{BackendInfo, BackendKind, Names};
use crate::domain::text::sanitize;
use crate::domain::{AgeThresholds, FailureRecord, Limits, Timestamp};
use crate::pipeline::{ConsumerSnapshot, DlqMessage, RedriveProgress, RedriveRequest};

use super::feeds::Feeds;
use super::focus::Pane;
use super::keymap::{KeyMap, Layer};
use super::modal::Modal;
use super::msg::ConsumerSample;
use super::theme::Theme;

/// Worker samples kept (one a second).
pub const CONSUMER_MAX_SAMPLES: usize = 120;
/// Persisted voucher ids remembered for a gift answer that arrives late.
pub const RECENTLY_PERSISTED_MAX: usize = 256;
/// How long a toast stays.
pub const TOAST_FOR: Duration = Duration::from_secs(6);
/// How long an error toast stays.
pub const ERROR_TOAST_FOR: Duration = Duration::from_secs(12);

/// What the dashboard is told about its surroundings; enough to build an `App` without services.
#[derive(Debug, Clone, PartialEq)]
pub struct AppInfo {
    pub backend: BackendInfo,
    pub names: Names,
    pub read_only: bool,
    pub limits: Limits,
    /// Whether this dashboard runs a worker (never in read-only mode).
    pub worker: bool,
    /// The demo traffic generator is on (embedded only).
    pub demo: bool,
    /// The log file, shown in help.
    pub log_path: Option<PathBuf>,
    /// Oldest-message age thresholds (warning, alarm).
    pub ages: AgeThresholds,
    /// Depth older than this is stale.
    pub stale_after: Duration,
    /// Most DLQ messages one peek lists.
    pub peek_limit: usize,
    /// The visibility timeout a peek uses on the DLQ.
    pub peek_visibility: Duration,
    /// The HTTP intake API running in this process, if any.
    pub intake: Option<IntakeInfo>,
}

/// The in-process intake API: where it listens, and the demo key made for it (embedded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeInfo {
    pub addr: String,
    pub demo_key: Option<String>,
}

impl IntakeInfo {
    /// A curl line gifting with the demo key, when there is one.
    pub fn curl(&self) -> Option<String> {
        self.demo_key.as_ref().map(|k| {
            format!(
                "curl -si -X POST http://{}/v1/vouchers -H 'Authorization: Bearer {k}' -H 'Content-Type: application/json' -d '{{\"recipient\":\"ada@example.com\",\"amount\":\"25.00\"}}'",
                self.addr
            )
        })
    }
}

impl AppInfo {
    /// Defaults for everything but the backend and the names.
    pub fn new(backend: BackendInfo, names: Names) -> AppInfo {
        AppInfo {
            backend,
            names,
            read_only: false,
            limits: Limits::default(),
            worker: true,
            demo: false,
            log_path: None,
            ages: AgeThresholds::default(),
            stale_after: Duration::from_secs(15),
            peek_limit: 100,
            peek_visibility: Duration::from_secs(5),
            intake: None,
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.backend.kind == BackendKind::Embedded
    }
}

/// The two screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Dashboard,
    DlqBrowser,
}

impl Screen {
    pub const fn layer(self) -> Layer {
        match self {
            Screen::Dashboard => Layer::Dashboard,
            Screen::DlqBrowser => Layer::DlqBrowser,
        }
    }
}

/// The depth chart's time window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    FiveMinutes,
    FifteenMinutes,
    OneHour,
}

impl Window {
    pub const fn duration(self) -> Duration {
        match self {
            Window::FiveMinutes => Duration::from_mins(5),
            Window::FifteenMinutes => Duration::from_mins(15),
            Window::OneHour => Duration::from_hours(1),
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Window::FiveMinutes => "5 min",
            Window::FifteenMinutes => "15 min",
            Window::OneHour => "1 h",
        }
    }

    #[must_use]
    pub const fn next(self) -> Window {
        match self {
            Window::FiveMinutes => Window::FifteenMinutes,
            Window::FifteenMinutes => Window::OneHour,
            Window::OneHour => Window::FiveMinutes,
        }
    }
}

/// This dashboard's worker.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsumerState {
    pub samples: VecDeque<ConsumerSample>,
}

impl ConsumerState {
    /// The worker's newest figures.
    pub fn latest(&self) -> Option<&ConsumerSnapshot> {
        self.samples.back().map(|s| &s.snapshot)
    }
}

/// The DLQ browser.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DlqBrowserState {
    pub entries: Vec<DlqMessage>,
    pub cursor: usize,
    pub selected: BTreeSet<String>,
    pub loading: bool,
    pub loaded_at: Option<Timestamp>,
    pub error: Option<String>,
    pub detail_scroll: u16,
    /// The detail fills the screen.
    pub zoom: bool,
}

impl DlqBrowserState {
    pub fn current(&self) -> Option<&DlqMessage> {
        self.entries.get(self.cursor)
    }

    /// Selected ids in list order.
    pub fn selected_ids(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| self.selected.contains(&e.message_id))
            .map(|e| e.message_id.clone())
            .collect()
    }
}

/// A redrive started from this dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveRun {
    pub plan: RedriveRequest,
    /// Where it goes, in words.
    pub description: String,
    pub started_at: Timestamp,
    pub status: Option<RedriveProgress>,
    pub cancel_requested: bool,
    pub finished_at: Option<Timestamp>,
}

impl RedriveRun {
    pub fn is_running(&self) -> bool {
        self.finished_at.is_none()
    }
}

/// A voucher gifted from this dashboard, followed to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub voucher_id: Uuid,
    pub since: Timestamp,
    pub state: FollowState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowState {
    Queued {
        duplicate: bool,
    },
    Persisted {
        at: Timestamp,
    },
    Failed {
        reason: String,
        dead_lettered: bool,
        receive_count: u32,
    },
}

impl FollowState {
    /// Where a failure record leaves the voucher.
    pub fn failed(record: &FailureRecord) -> FollowState {
        FollowState::Failed {
            reason: sanitize(&record.reason),
            dead_lettered: record.dead_lettered,
            receive_count: record.receive_count,
        }
    }
}

/// Toast levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Success,
    Warn,
    Error,
}

/// A status-line message that fades.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub level: Level,
    pub text: String,
    pub at: Timestamp,
}

/// All UI state.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub info: AppInfo,
    pub keymap: KeyMap,
    /// The colours and styles the views use.
    pub theme: Theme,
    /// The last tick: the only "now" the views know.
    pub now: Timestamp,
    pub started_at: Option<Timestamp>,
    pub ticks: u64,
    pub screen: Screen,
    /// The dashboard pane that has the focus.
    pub focus: Pane,
    pub modal: Option<Modal>,
    pub should_quit: bool,
    pub window: Window,
    /// Depth, oldest age and failures, as polled.
    pub feeds: Feeds,
    pub consumer: ConsumerState,
    pub dlq: DlqBrowserState,
    pub redrive: Option<RedriveRun>,
    pub follow: Option<Follow>,
    /// Vouchers the worker persisted lately: the worker can be faster than the gift's own answer.
    pub recently_persisted: VecDeque<(Uuid, Timestamp)>,
    pub toast: Option<Toast>,
}

impl App {
    pub fn new(info: AppInfo) -> App {
        App::with_keymap(info, KeyMap::defaults())
    }

    pub fn with_keymap(mut info: AppInfo, keymap: KeyMap) -> App {
        if info.read_only {
            info.worker = false;
        }
        App {
            info,
            keymap,
            theme: Theme::default(),
            now: Timestamp(0),
            started_at: None,
            ticks: 0,
            screen: Screen::Dashboard,
            focus: Pane::default(),
            modal: None,
            should_quit: false,
            window: Window::FiveMinutes,
            feeds: Feeds::default(),
            consumer: ConsumerState::default(),
            dlq: DlqBrowserState::default(),
            redrive: None,
            follow: None,
            recently_persisted: VecDeque::new(),
            toast: None,
        }
    }

    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        self.toast = Some(Toast {
            level,
            text: text.into(),
            at: self.now,
        });
    }

    /// A spinner frame that advances with the ticks.
    pub fn spinner(&self) -> &'static str {
        const FRAMES: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];
        FRAMES[(self.ticks % FRAMES.len() as u64) as usize]
    }

    /// The layer that has the keys now: an open modal's (form, confirm dialog, popup), the filter
    /// line while it is edited, else the screen's.
    pub fn active_layer(&self) -> Layer {
        match &self.modal {
            Some(modal) => modal.layer(),
            None if self.screen == Screen::Dashboard && self.feeds.failures.editing => Layer::Input,
            None => self.screen.layer(),
        }
    }

    /// Whether a redrive is running now.
    pub fn redrive_running(&self) -> bool {
        self.redrive.as_ref().is_some_and(RedriveRun::is_running)
    }
}
