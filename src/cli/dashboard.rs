//! The dashboard entry: connect, start demo traffic on the embedded backend, hand over to the TUI.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::args::DashboardArgs;
use super::error::CliError;
use super::settings::{Settings, Target};
use crate::pipeline::{DemoConfig, MonitorConfig, Shutdown, spawn_demo};
use crate::tui::{self, TuiOptions, WorkerMode};

pub async fn launch(
    settings: Settings,
    args: DashboardArgs,
    shutdown: Shutdown,
) -> Result<(), CliError> {
    let (pipeline, embedded) =
        super::unless_stopped(&shutdown, Box::pin(super::connect(&settings, true))).await?;
    let cancel = CancellationToken::new();
    let demo_on = embedded.is_some() && !args.no_demo && !settings.read_only;
    if let (Some(e), true) = (&embedded, demo_on) {
        spawn_demo(
            pipeline.clone(),
            e.store.clone(),
            DemoConfig::default(),
            cancel.clone(),
        );
    }
    let on_aws = matches!(settings.target, Target::Aws(_));
    let worker = match (args.no_worker, on_aws) {
        (true, _) => WorkerMode::Off,
        // On AWS the dashboard's worker starts paused: consuming a real queue is a choice (`w`).
        (false, true) => WorkerMode::Paused,
        (false, false) => WorkerMode::Running,
    };
    let monitor = MonitorConfig {
        // The embedded engine is free to ask; SQS is polled at the documented 5 s.
        depth_every: Duration::from_secs(if on_aws { 5 } else { 2 }),
        ..MonitorConfig::default()
    };
    let opts = TuiOptions {
        read_only: settings.read_only,
        demo: demo_on,
        worker,
        keymap_file: args.keymap,
        ages: settings.ages,
        monitor,
        shutdown,
        ..TuiOptions::default()
    };
    let result = tui::run(pipeline, opts).await;
    cancel.cancel();
    result.map_err(|e| CliError::Failed(format!("{e:#}")))
}
