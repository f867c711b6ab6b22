//! The event loop and the terminal's lifecycle.
//!
//! `tokio::select!` over key presses, a bounded channel of messages from effects and background feeds,
//! a one-second tick and the run's stop request (SIGINT/SIGTERM); pending messages are drained, then
//! the screen is drawn once, only when something changed: at once for keys and answers, at the next
//! tick for background feeds.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;

use voucherdeck_core::domain::{AgeThresholds, Timestamp};
use voucherdeck_pipeline::{MonitorConfig, Pipeline, Shutdown};

use super::app::{App, AppInfo};
use super::effects::{Effects, EffectsConfig};
use super::keymap::KeyMap;
use super::msg::{Effect, Msg};
use super::terminal::{self, DashboardTerminal};
use super::{logging, update, view};

/// Capacity of the message channel from effects and feeds.
const CHANNEL: usize = 1024;
/// Most messages handled between two draws (keeps the screen fresh under a flood).
const DRAIN_MAX: usize = 512;

/// How the dashboard runs.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent options
pub struct TuiOptions {
    /// Disable every mutating action; no worker.
    pub read_only: bool,
    /// Demo traffic is running (embedded only): said in the header.
    pub demo: bool,
    /// The worker in this process (none in read-only mode).
    pub worker: WorkerMode,
    pub worker_concurrency: usize,
    /// A keymap file overlaying the defaults; `None`: `~/.config/voucherdeck/keymap.toml` if present.
    pub keymap_file: Option<PathBuf>,
    /// Oldest-message age thresholds.
    pub ages: AgeThresholds,
    pub monitor: MonitorConfig,
    /// Where DLQ exports go; `None`: the current directory.
    pub export_dir: Option<PathBuf>,
    /// Where the log goes; `None`: the state directory.
    pub log_dir: Option<PathBuf>,
    /// Ring the bell on alarm transitions and DLQ arrivals.
    pub bell: bool,
    /// The pipeline's name in the config file.
    pub pipeline: Option<String>,
    /// A production pipeline (its own header skin).
    pub production: bool,
    /// The HTTP intake API this process runs, if any.
    pub intake: Option<crate::app::IntakeInfo>,
    /// The run's stop request (SIGINT/SIGTERM): the first quits like `q`, finishing the worker's
    /// batches; the second stops waiting for them.
    pub shutdown: Shutdown,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            read_only: false,
            demo: false,
            worker: WorkerMode::Running,
            worker_concurrency: 4,
            keymap_file: None,
            ages: AgeThresholds::default(),
            monitor: MonitorConfig {
                depth_every: Duration::from_secs(2),
                ..MonitorConfig::default()
            },
            export_dir: None,
            log_dir: None,
            bell: false,
            pipeline: None,
            production: false,
            intake: None,
            shutdown: Shutdown::new(),
        }
    }
}

/// Whether the dashboard runs a worker, and how it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerMode {
    Off,
    Running,
    Paused,
}

/// `~/.config/voucherdeck/keymap.toml` (or under `$XDG_CONFIG_HOME`).
pub fn default_keymap_path() -> Option<PathBuf> {
    let from_env = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from_env("XDG_CONFIG_HOME")
        .or_else(|| from_env("HOME").map(|h| h.join(".config")))
        .map(|d| d.join("voucherdeck").join("keymap.toml"))
}

/// Restores the terminal on every way out (early returns and errors included).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// The dashboard's information, from the pipeline and the options.
pub fn app_info(pipeline: &Pipeline, opts: &TuiOptions, log_path: Option<PathBuf>) -> AppInfo {
    let backend = pipeline.backend();
    let mut info = AppInfo::new(backend.info.clone(), backend.names.clone());
    info.read_only = opts.read_only;
    info.limits = pipeline.config().limits;
    info.worker = opts.worker != WorkerMode::Off && !opts.read_only;
    info.demo = opts.demo;
    info.log_path = log_path;
    info.ages = opts.ages;
    info.stale_after = (opts.monitor.depth_every * 3).max(Duration::from_secs(10));
    info.peek_visibility = voucherdeck_pipeline::PEEK_VISIBILITY;
    info.bell = opts.bell;
    info.pipeline.clone_from(&opts.pipeline);
    info.production = opts.production;
    info.editor = crate::editor::editor_command().is_some();
    info.intake.clone_from(&opts.intake);
    info
}

/// Runs the dashboard over one pipeline until the user quits.
pub async fn run(pipeline: Pipeline, opts: TuiOptions) -> io::Result<()> {
    run_many(vec![(pipeline, opts)], 0, false).await
}

/// Runs the dashboard over several pipelines, `active` on screen (the overview first when
/// `overview` is true), until the user quits. The keymap, logs, exports and bell follow the first
/// pipeline's options.
pub async fn run_many(
    pipelines: Vec<(Pipeline, TuiOptions)>,
    active: usize,
    overview: bool,
) -> io::Result<()> {
    let Some((_, opts)) = pipelines.first() else {
        return Err(io::Error::other("no pipeline to watch"));
    };
    let opts = opts.clone();
    // Everything that can fail for configuration reasons fails before the terminal changes.
    let keymap = match &opts.keymap_file {
        Some(path) => KeyMap::load(Some(path), true),
        None => KeyMap::load(default_keymap_path().as_deref(), false),
    }
    .map_err(io::Error::other)?;
    let log = logging::init(opts.log_dir.as_deref());
    let log_path = log.as_ref().map(|l| l.path.clone());
    let export_dir = match &opts.export_dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().map_err(context(
            "cannot read the current directory (for DLQ exports)",
        ))?,
    };
    tracing::info!(pipelines = pipelines.len(), "dashboard starting");
    let mut infos = Vec::new();
    let mut lanes = Vec::new();
    for (pipeline, opts) in pipelines {
        tracing::info!(backend = %pipeline.backend().info.describe(), pipeline = ?opts.pipeline, read_only = opts.read_only, "watching");
        let info = app_info(&pipeline, &opts, log_path.clone());
        let cfg = EffectsConfig {
            worker: info.worker,
            worker_paused: opts.worker == WorkerMode::Paused,
            worker_concurrency: opts.worker_concurrency,
            monitor: opts.monitor,
            export_dir: export_dir.clone(),
        };
        infos.push(info);
        lanes.push((pipeline, cfg));
    }
    let mut app = App::with_pipelines(infos, active, keymap);
    if !overview {
        app.open_pipeline(app.active);
    }
    let (tx, rx) = mpsc::channel(CHANNEL);
    let mut effects = Effects::start_many(lanes, &tx, app.active);

    let result = {
        // `try_init` installs a panic hook that restores the terminal; the guard covers the rest.
        let mut terminal = terminal::init().map_err(context("cannot set up the terminal"))?;
        let _guard = TerminalGuard;
        event_loop(&mut terminal, &mut app, &mut effects, rx, &opts.shutdown).await
    };
    // The terminal is back: say what is being finished, then finish it. Quitting counts as the
    // first stop request, so the next Ctrl-C (a signal again) stops waiting.
    if !opts.shutdown.is_requested() {
        opts.shutdown.request();
    }
    if let Some(note) = effects.in_progress() {
        eprintln!("voucherdeck: stopping: {note} (a second Ctrl-C exits at once)");
    }
    tokio::select! {
        () = effects.shutdown() => {}
        () = opts.shutdown.forced() => tracing::warn!("stopped without waiting for work in progress"),
    }
    tracing::info!(?result, "dashboard stopped");
    drop(log);
    if let Some(p) = &log_path {
        eprintln!("voucherdeck: log written to {}", p.display());
    }
    result
}

async fn event_loop(
    terminal: &mut DashboardTerminal,
    app: &mut App,
    effects: &mut Effects,
    mut rx: mpsc::Receiver<Msg>,
    shutdown: &Shutdown,
) -> io::Result<()> {
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    // Something changed since the last frame, and whether it should show now rather than at the
    // next tick (background feeds wait for it: at most one frame a second for them).
    let (mut dirty, mut due) = (true, true);
    loop {
        if dirty && due {
            terminal
                .draw(|f| view::render(app, f))
                .map_err(context("drawing the screen"))?;
            (dirty, due) = (false, false);
        }
        if app.should_quit {
            return Ok(());
        }
        let first = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => match to_msg(&ev) {
                    Some(m) => m,
                    None => continue,
                },
                Some(Err(e)) => {
                    tracing::warn!("terminal event error: {e}");
                    continue;
                }
                None => return Ok(()),
            },
            Some(m) = rx.recv() => m,
            _ = tick.tick() => Msg::Tick(Timestamp::now()),
            () = shutdown.requested() => return Ok(()),
        };
        due |= !first.is_background();
        let mut edits = handle(app, effects, first);
        dirty = true;
        // Drain what is already pending, then draw once.
        for _ in 0..DRAIN_MAX {
            if let Ok(m) = rx.try_recv() {
                due |= !m.is_background();
                edits.extend(handle(app, effects, m));
            } else if let Some(Some(Ok(ev))) = events.next().now_or_never() {
                if let Some(m) = to_msg(&ev) {
                    due = true;
                    edits.extend(handle(app, effects, m));
                }
            } else {
                break;
            }
            if app.should_quit {
                break;
            }
        }
        for edit in edits {
            // The editor has the terminal (and the keyboard) until it exits.
            drop(events);
            let edited = edit_in_editor(terminal, edit)?;
            events = EventStream::new();
            handle(app, effects, edited);
        }
    }
}

/// Hands the terminal to $VISUAL/$EDITOR with the gift of a DLQ message as JSON, takes it back,
/// and says what came back.
fn edit_in_editor(terminal: &mut DashboardTerminal, edit: Effect) -> io::Result<Msg> {
    let Effect::EditDlq { message_id, gift } = edit else {
        return Ok(Msg::Resize);
    };
    ratatui::restore();
    let initial = serde_json::to_string_pretty(&gift).unwrap_or_default();
    let edited = crate::editor::edit(&format!("{initial}\n"), "json");
    *terminal =
        terminal::init().map_err(context("cannot take the terminal back from the editor"))?;
    terminal
        .clear()
        .map_err(context("redrawing after the editor"))?;
    let result = match edited {
        Ok(Some(text)) => serde_json::from_str::<voucherdeck_core::domain::GiftRequest>(&text)
            .map_err(|e| {
                format!("not a gift: {e} (fields: recipient, amount, currency, sender, note)")
            }),
        Ok(None) => Err("no editor: set $VISUAL or $EDITOR".into()),
        Err(e) => Err(e),
    };
    Ok(Msg::Edited { message_id, result })
}

/// An I/O error with what was being done.
fn context(doing: &'static str) -> impl FnOnce(io::Error) -> io::Error {
    move |e| io::Error::new(e.kind(), format!("{doing}: {e}"))
}

/// Key presses (not releases or repeats) and resizes; everything else is ignored.
fn to_msg(ev: &Event) -> Option<Msg> {
    match *ev {
        Event::Key(k) if k.kind == KeyEventKind::Press => Some(Msg::Key(k)),
        Event::Resize(..) => Some(Msg::Resize),
        _ => None,
    }
}

/// Applies a message and runs its effects; returns those that need the terminal (the editor).
fn handle(app: &mut App, effects: &mut Effects, msg: Msg) -> Vec<Effect> {
    let mut edits = Vec::new();
    for effect in update(app, msg) {
        if matches!(effect, Effect::EditDlq { .. }) {
            edits.push(effect);
        } else {
            effects.run(effect);
        }
    }
    edits
}
