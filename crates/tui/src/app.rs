//! `App`: every piece of UI state, owned in one place. Only `update` changes it.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use voucherdeck_core::backend::{BackendInfo, BackendKind, Names};
use voucherdeck_core::domain::text::sanitize;
use voucherdeck_core::domain::{AgeThresholds, FailureRecord, Limits, Timestamp};
use voucherdeck_pipeline::{ConsumerSnapshot, RedriveProgress, RedriveRequest};

pub use super::browser::{DLQ_PAGE, DlqBrowserState};
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
#[allow(clippy::struct_excessive_bools)] // independent facts about the surroundings
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
    /// Ring the terminal bell when an alarm fires or clears and when messages reach the DLQ.
    pub bell: bool,
    /// The pipeline's name in the config file (`None`: the unnamed default).
    pub pipeline: Option<String>,
    /// A production pipeline: its own header skin.
    pub production: bool,
    /// $VISUAL or $EDITOR is set: edit-and-resend opens it (else the form).
    pub editor: bool,
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
            bell: false,
            pipeline: None,
            production: false,
            editor: false,
            intake: None,
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.backend.kind == BackendKind::Embedded
    }
}

/// The screens: every pipeline, one pipeline's dashboard, its DLQ browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Overview,
    Dashboard,
    DlqBrowser,
}

impl Screen {
    pub const fn layer(self) -> Layer {
        match self {
            Screen::Overview => Layer::Overview,
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

/// All UI state: what belongs to the whole dashboard here, what belongs to one pipeline in its
/// [`PipelineView`].
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub keymap: KeyMap,
    /// The last tick: the only "now" the views know.
    pub now: Timestamp,
    pub started_at: Option<Timestamp>,
    pub ticks: u64,
    pub screen: Screen,
    pub modal: Option<Modal>,
    pub should_quit: bool,
    pub window: Window,
    pub toast: Option<Toast>,
    /// Every watched pipeline's view, in configuration order; never empty.
    pub pipelines: Vec<PipelineView>,
    /// The index in `pipelines` of the pipeline on screen (always a valid one).
    pub active: usize,
    /// The row under the cursor on the overview.
    pub overview_cursor: usize,
}

/// One pipeline's part of the state: what it is, what its feeds said, and what was done on it.
/// Each pipeline keeps its own, on screen or not, so a message about it lands in its view.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineView {
    pub info: AppInfo,
    /// The colours and styles the views use.
    pub theme: Theme,
    /// The dashboard pane that has the focus.
    pub focus: Pane,
    /// Depth, oldest age and failures, as polled.
    pub feeds: Feeds,
    pub consumer: ConsumerState,
    pub dlq: DlqBrowserState,
    pub redrive: Option<RedriveRun>,
    pub follow: Option<Follow>,
    /// Vouchers the worker persisted lately: the worker can be faster than the gift's own answer.
    pub recently_persisted: VecDeque<(Uuid, Timestamp)>,
}

impl PipelineView {
    /// A pipeline not looked at yet (read-only: it runs no worker).
    pub fn new(mut info: AppInfo) -> PipelineView {
        if info.read_only {
            info.worker = false;
        }
        PipelineView {
            theme: Theme::for_pipeline(info.production),
            info,
            focus: Pane::default(),
            feeds: Feeds::default(),
            consumer: ConsumerState::default(),
            dlq: DlqBrowserState::default(),
            redrive: None,
            follow: None,
            recently_persisted: VecDeque::new(),
        }
    }

    /// Whether the Intake pane is on screen: while an API runs in this process, or while servers
    /// elsewhere published their figures in the last hour.
    pub fn intake_shown(&self) -> bool {
        self.info.intake.is_some() || self.feeds.intake.servers_active()
    }

    /// Whether a redrive is running now.
    pub fn redrive_running(&self) -> bool {
        self.redrive.as_ref().is_some_and(RedriveRun::is_running)
    }
}

impl App {
    pub fn new(info: AppInfo) -> App {
        App::with_keymap(info, KeyMap::defaults())
    }

    /// A dashboard over one pipeline, opening on its dashboard.
    pub fn with_keymap(info: AppInfo, keymap: KeyMap) -> App {
        App::watching(vec![PipelineView::new(info)], 0, keymap)
    }

    /// A dashboard over several pipelines (`active` on screen), opening on the overview. With no
    /// pipeline at all it watches an unnamed embedded one.
    pub fn with_pipelines(infos: Vec<AppInfo>, active: usize, keymap: KeyMap) -> App {
        let mut views: Vec<PipelineView> = infos.into_iter().map(PipelineView::new).collect();
        if views.is_empty() {
            let info = AppInfo::new(BackendInfo::embedded(), Names::default());
            views.push(PipelineView::new(info));
        }
        let active = active.min(views.len() - 1);
        let mut app = App::watching(views, active, keymap);
        app.screen = Screen::Overview;
        app
    }

    /// A dashboard over `pipelines` (not empty), `active` on screen, opening on its dashboard.
    fn watching(pipelines: Vec<PipelineView>, active: usize, keymap: KeyMap) -> App {
        App {
            keymap,
            now: Timestamp(0),
            started_at: None,
            ticks: 0,
            screen: Screen::Dashboard,
            modal: None,
            should_quit: false,
            window: Window::FiveMinutes,
            toast: None,
            pipelines,
            active,
            overview_cursor: 0,
        }
    }

    /// The view of the pipeline on screen.
    pub fn view(&self) -> &PipelineView {
        &self.pipelines[self.active]
    }

    /// The view of the pipeline on screen, to change it.
    pub fn view_mut(&mut self) -> &mut PipelineView {
        &mut self.pipelines[self.active]
    }

    /// How many pipelines the dashboard watches.
    pub fn pipeline_count(&self) -> usize {
        self.pipelines.len()
    }

    /// Puts pipeline `index` on screen (its dashboard); the one on screen keeps its view as it was.
    pub fn open_pipeline(&mut self, index: usize) {
        if index < self.pipelines.len() {
            self.active = index;
        }
        self.screen = Screen::Dashboard;
    }

    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        self.toast = Some(Toast {
            level,
            text: text.into(),
            at: self.now,
        });
    }

    /// Whether the Intake pane of the pipeline on screen is shown (see
    /// [`PipelineView::intake_shown`]).
    pub fn intake_shown(&self) -> bool {
        self.view().intake_shown()
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
            None if self.screen == Screen::Dashboard && self.view().feeds.failures.editing => {
                Layer::Input
            }
            None if self.screen == Screen::DlqBrowser && self.view().dlq.editing => Layer::Input,
            None => self.screen.layer(),
        }
    }

    /// Whether a redrive is running now on the pipeline on screen.
    pub fn redrive_running(&self) -> bool {
        self.view().redrive_running()
    }
}
