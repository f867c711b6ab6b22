//! Logging for the TUI: `tracing` to a file (non-blocking) in the state directory. Nothing may go to
//! stdout or stderr while the terminal is in raw mode.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The log file's name inside the state directory.
pub const LOG_FILE: &str = "voucherdeck.log";

/// `$XDG_STATE_HOME/voucherdeck`, else `~/.local/state/voucherdeck`, else a temp directory.
pub fn state_dir() -> PathBuf {
    let from_env = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(xdg) = from_env("XDG_STATE_HOME") {
        return xdg.join("voucherdeck");
    }
    if let Some(home) = from_env("HOME") {
        return home.join(".local").join("state").join("voucherdeck");
    }
    std::env::temp_dir().join("voucherdeck")
}

/// Log lines queued for the file writer.
const LOG_QUEUE_LINES: usize = 16_384;

/// A running file logger: keep it alive until the end (dropping it flushes).
#[derive(Debug)]
pub struct FileLog {
    pub path: PathBuf,
    _guard: WorkerGuard,
}

/// Sends `tracing` to `dir/voucherdeck.log` (falling back to a temp directory when `dir` cannot be
/// created). `None` when no file can be opened or another subscriber is already installed.
pub fn init(dir: Option<&Path>) -> Option<FileLog> {
    let preferred = dir.map_or_else(state_dir, Path::to_path_buf);
    let dir = [preferred, std::env::temp_dir().join("voucherdeck")]
        .into_iter()
        .find(|d| std::fs::create_dir_all(d).is_ok() && writable(&d.join(LOG_FILE)))?;
    let appender = tracing_appender::rolling::never(&dir, LOG_FILE);
    // The default queue holds 128,000 lines, allocated and touched at once: 4 MiB resident for a
    // dashboard that logs a few lines a minute. As before, a burst beyond the queue drops lines
    // rather than stall the screen.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(appender);
    let installed = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(writer)
        .with_ansi(false)
        .finish()
        .with(log_filter("info"))
        .try_init();
    match installed {
        Ok(()) => Some(FileLog {
            path: dir.join(LOG_FILE),
            _guard: guard,
        }),
        Err(_) => None,
    }
}

/// What to log: `VOUCHERDECK_LOG` (`debug`, `info,aws_config=error`: a default level and levels by
/// target), else `default`. The same directives as `RUST_LOG` without span and field filters, read
/// without a regex engine.
pub fn log_filter(default: &str) -> Targets {
    std::env::var("VOUCHERDECK_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .or_else(|| default.parse().ok())
        .unwrap_or_default()
}

fn writable(path: &Path) -> bool {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .is_ok()
}
