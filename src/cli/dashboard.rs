//! The dashboard entry: connect, start demo traffic on the embedded backend, hand over to the TUI.

use tokio_util::sync::CancellationToken;

use super::args::DashboardArgs;
use super::error::CliError;
use super::settings::{Settings, Target};
use crate::pipeline::{DemoConfig, MonitorConfig, spawn_demo};
use crate::tui::{self, TuiOptions, WorkerMode};

pub async fn launch(settings: Settings, args: DashboardArgs) -> Result<(), CliError> {
    let (pipeline, embedded) = super::connect(&settings, true).await?;
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
    // The embedded engine is free to ask; AWS is polled within the budget.
    let monitor = if on_aws {
        MonitorConfig::aws()
    } else {
        MonitorConfig::embedded()
    };
    let opts = TuiOptions {
        read_only: settings.read_only,
        demo: demo_on,
        worker,
        keymap_file: args.keymap,
        ages: settings.ages,
        monitor,
        bell: args.bell,
        pipeline: settings.name.clone(),
        production: settings.production,
        ..TuiOptions::default()
    };
    let result = tui::run(pipeline, opts).await;
    cancel.cancel();
    result.map_err(|e| CliError::Failed(format!("{e:#}")))
}
