//! The dashboard entry: connect, start demo traffic on the embedded backend, hand over to the TUI.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::args::DashboardArgs;
use super::error::CliError;
use super::settings::{Settings, Target};
use crate::api::{RunningServer, ServeConfig};
use crate::pipeline::{DemoConfig, MonitorConfig, Shutdown, spawn_demo};
use crate::tui::{self, IntakeInfo, TuiOptions, WorkerMode};

/// Starts the intake API in this process; on the embedded backend (no other process can make a
/// key) with a demo key.
async fn start_intake(
    pipeline: &crate::pipeline::Pipeline,
    listen: std::net::SocketAddr,
    embedded: bool,
) -> Result<(RunningServer, IntakeInfo), CliError> {
    let config = ServeConfig {
        listen,
        trusted_proxies: Vec::new(),
        per_ip_per_minute: crate::domain::limits::PER_IP_PER_MINUTE,
    };
    let server = RunningServer::start(pipeline.clone(), config)
        .await
        .map_err(|e| CliError::Failed(format!("cannot serve on {listen}: {e}")))?;
    let demo_key = if embedded && !pipeline.config().read_only {
        Some(pipeline.create_demo_key().await?.key)
    } else {
        None
    };
    let info = IntakeInfo {
        addr: server.addr().to_string(),
        demo_key,
    };
    Ok((server, info))
}

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
    let server = match args.serve {
        Some(addr) => Some(start_intake(&pipeline, addr, embedded.is_some()).await?),
        None => None,
    };
    let monitor = MonitorConfig {
        // The embedded engine is free to ask; SQS is polled at the documented 5 s.
        depth_every: Duration::from_secs(if on_aws { 5 } else { 2 }),
        intake_every: server.as_ref().map(|_| Duration::from_secs(1)),
        ..MonitorConfig::default()
    };
    let opts = TuiOptions {
        read_only: settings.read_only,
        demo: demo_on,
        worker,
        keymap_file: args.keymap,
        ages: settings.ages,
        monitor,
        intake: server.as_ref().map(|(_, info)| info.clone()),
        shutdown,
        ..TuiOptions::default()
    };
    let result = tui::run(pipeline, opts).await;
    cancel.cancel();
    if let Some((server, _)) = server {
        // In-flight gifts are answered and flushed before the process exits.
        if let Err(e) = server.stop().await {
            eprintln!("warning: the intake API did not stop cleanly: {e}");
        }
    }
    result.map_err(|e| CliError::Failed(format!("{e:#}")))
}
