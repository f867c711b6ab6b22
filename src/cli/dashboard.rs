//! The dashboard entry: connect every configured pipeline, start demo traffic on the embedded ones,
//! hand over to the TUI (on the overview when the config names several and none was chosen).

use tokio_util::sync::CancellationToken;

use super::args::{DashboardArgs, GlobalArgs};
use super::error::CliError;
use super::settings::{Settings, Target};
use crate::pipeline::{DemoConfig, MonitorConfig, Pipeline, Shutdown, spawn_demo};
use crate::tui::{self, TuiOptions, WorkerMode};

/// Every configured pipeline and which is on screen: the chosen one (flags apply to it), or the
/// first of the named ones when none was chosen.
fn pipelines(g: &GlobalArgs, chosen: Settings) -> Result<(Vec<Settings>, usize), CliError> {
    let mut all = Settings::resolve_all(g)?;
    if chosen.name.is_none() && all.iter().any(|s| s.name.is_some()) {
        return Ok((all, 0));
    }
    match all.iter().position(|s| s.name == chosen.name) {
        Some(i) => {
            all[i] = chosen;
            Ok((all, i))
        }
        None => Ok((vec![chosen], 0)),
    }
}

/// One pipeline, connected, with its demo traffic and its dashboard options.
async fn watch(
    settings: &Settings,
    args: &DashboardArgs,
    cancel: &CancellationToken,
    shutdown: &Shutdown,
) -> Result<(Pipeline, TuiOptions), CliError> {
    let (pipeline, embedded) =
        super::unless_stopped(shutdown, Box::pin(super::connect(settings, true))).await?;
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
        keymap_file: args.keymap.clone(),
        ages: settings.ages,
        monitor,
        bell: args.bell,
        pipeline: settings.name.clone(),
        production: settings.production,
        shutdown: shutdown.clone(),
        ..TuiOptions::default()
    };
    Ok((pipeline, opts))
}

pub async fn launch(
    g: &GlobalArgs,
    settings: Settings,
    args: DashboardArgs,
    shutdown: Shutdown,
) -> Result<(), CliError> {
    let overview = g.pipeline.is_none() && settings.name.is_none();
    let (all, active) = pipelines(g, settings)?;
    let overview = overview && all.len() > 1;
    let cancel = CancellationToken::new();
    let mut watched = Vec::with_capacity(all.len());
    for s in &all {
        watched.push(watch(s, &args, &cancel, &shutdown).await?);
    }
    let result = tui::run_many(watched, active, overview).await;
    cancel.cancel();
    result.map_err(|e| CliError::Failed(format!("{e:#}")))
}
