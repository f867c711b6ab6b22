//! The dashboard entry: connect every configured pipeline, start demo traffic on the embedded ones,
//! hand over to the TUI (on the overview when the config names several and none was chosen).

use tokio_util::sync::CancellationToken;

use super::args::{DashboardArgs, GlobalArgs};
use super::error::CliError;
use super::settings::{Settings, Target};
use voucherdeck_api::{RunningServer, ServeConfig};
use voucherdeck_pipeline::{DemoConfig, MonitorConfig, Pipeline, Shutdown, spawn_demo};
use voucherdeck_tui::{self as tui, IntakeInfo, TuiOptions, WorkerMode};

/// Starts the intake API in this process; on the embedded backend (no other process can make a
/// key) with a demo key.
async fn start_intake(
    pipeline: &Pipeline,
    listen: std::net::SocketAddr,
    embedded: bool,
) -> Result<(RunningServer, IntakeInfo), CliError> {
    let config = ServeConfig {
        listen,
        trusted_proxies: Vec::new(),
        per_ip_per_minute: voucherdeck_core::domain::limits::PER_IP_PER_MINUTE,
        metrics_every: None,
        ..ServeConfig::default()
    };
    let server = RunningServer::start(pipeline.clone(), config)
        .await
        .map_err(|e| CliError::Failed(format!("cannot serve on {listen}: {e}")))?;
    let demo_key = if embedded && !pipeline.config().read_only {
        Some(pipeline.create_demo_key(None).await?.key)
    } else {
        None
    };
    let info = IntakeInfo {
        addr: server.addr().to_string(),
        demo_key,
    };
    Ok((server, info))
}

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

/// One pipeline, connected, with its demo traffic, its dashboard options and, when `serve` is
/// given, the intake API running in this process.
async fn watch(
    settings: &Settings,
    args: &DashboardArgs,
    serve: Option<std::net::SocketAddr>,
    cancel: &CancellationToken,
    shutdown: &Shutdown,
) -> Result<(Pipeline, TuiOptions, Option<RunningServer>), CliError> {
    if serve.is_some() && matches!(settings.target, Target::Aws(_)) {
        super::pepper::require(&settings.peppers, "--serve")?;
    }
    let (pipeline, embedded) =
        super::connect::unless_stopped(shutdown, Box::pin(super::connect::connect(settings, true)))
            .await?;
    let demo_on = embedded.is_some() && !args.no_demo && !settings.read_only;
    if let (Some(e), true) = (&embedded, demo_on) {
        spawn_demo(
            pipeline.clone(),
            e.store.outage_switch(),
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
    let server = match serve {
        Some(addr) => Some(start_intake(&pipeline, addr, embedded.is_some()).await?),
        None => None,
    };
    // The embedded engine is free to ask; AWS is polled within the budget.
    let monitor = MonitorConfig {
        // The intake figures are read in this process: free.
        intake_every: server.as_ref().map(|_| std::time::Duration::from_secs(1)),
        ..if on_aws {
            MonitorConfig::aws()
        } else {
            MonitorConfig::embedded()
        }
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
        intake: server.as_ref().map(|(_, info)| info.clone()),
        ..TuiOptions::default()
    };
    Ok((pipeline, opts, server.map(|(server, _)| server)))
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
    let mut servers = Vec::new();
    for (i, s) in all.iter().enumerate() {
        // The intake API serves the pipeline on screen first.
        let serve = args.serve.filter(|_| i == active);
        let (pipeline, opts, server) = watch(s, &args, serve, &cancel, &shutdown).await?;
        watched.push((pipeline, opts));
        servers.extend(server);
    }
    let result = tui::run_many(watched, active, overview).await;
    cancel.cancel();
    for server in servers {
        // In-flight gifts are answered and flushed before the process exits.
        if let Err(e) = server.stop().await {
            eprintln!("warning: the intake API did not stop cleanly: {e}");
        }
    }
    result.map_err(|e| CliError::Failed(format!("{e:#}")))
}
