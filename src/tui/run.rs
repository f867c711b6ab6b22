//! The event loop and the terminal's lifecycle.
//!
//! `tokio::select!` over key presses, a bounded channel of messages from effects and background feeds,
//! a one-second tick and Ctrl-C; pending messages are drained, then the screen is drawn once, only when
//! something changed: at once for keys and answers, at the next tick for background feeds.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;

use crate::domain::{AgeThresholds, Timestamp};
use crate::pipeline::{MonitorConfig, Pipeline};

use super::app::{App, AppInfo};
use super::effects::{Effects, EffectsConfig};
use super::keymap::KeyMap;
use super::msg::Msg;
use super::terminal::{self, DashboardTerminal};
use super::{logging, update, view};

/// Capacity of the message channel from effects and feeds.
const CHANNEL: usize = 1024;
/// Most messages handled between two draws (keeps the screen fresh under a flood).
const DRAIN_MAX: usize = 512;

/// How the dashboard runs.
#[derive(Debug, Clone)]
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
    info.peek_visibility = crate::pipeline::PEEK_VISIBILITY;
    info
}

/// Runs the dashboard until the user quits.
pub async fn run(pipeline: Pipeline, opts: TuiOptions) -> io::Result<()> {
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
    tracing::info!(backend = %pipeline.backend().info.describe(), read_only = opts.read_only, "dashboard starting");

    let mut app = App::with_keymap(app_info(&pipeline, &opts, log_path.clone()), keymap);
    let (tx, rx) = mpsc::channel(CHANNEL);
    let mut effects = Effects::start(
        pipeline,
        tx,
        EffectsConfig {
            worker: app.info.worker,
            worker_paused: opts.worker == WorkerMode::Paused,
            worker_concurrency: opts.worker_concurrency,
            monitor: opts.monitor,
            export_dir,
        },
    );

    let result = {
        // `try_init` installs a panic hook that restores the terminal; the guard covers the rest.
        let mut terminal = terminal::init().map_err(context("cannot set up the terminal"))?;
        let _guard = TerminalGuard;
        event_loop(&mut terminal, &mut app, &mut effects, rx).await
    };
    effects.shutdown();
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
) -> io::Result<()> {
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);

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
            _ = &mut ctrl_c => return Ok(()),
        };
        due |= !first.is_background();
        handle(app, effects, first);
        dirty = true;
        // Drain what is already pending, then draw once.
        for _ in 0..DRAIN_MAX {
            if let Ok(m) = rx.try_recv() {
                due |= !m.is_background();
                handle(app, effects, m);
            } else if let Some(Some(Ok(ev))) = events.next().now_or_never() {
                if let Some(m) = to_msg(&ev) {
                    due = true;
                    handle(app, effects, m);
                }
            } else {
                break;
            }
            if app.should_quit {
                break;
            }
        }
    }
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

fn handle(app: &mut App, effects: &mut Effects, msg: Msg) {
    for effect in update(app, msg) {
        effects.run(effect);
    }
}
