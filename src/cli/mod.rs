//! The command line: one binary, the dashboard and headless subcommands over the same services.

mod args;
mod config_file;
mod dashboard;
mod dlq;
mod error;
mod gift;
mod lines;
mod provision;
mod redrive;
mod settings;
mod status;
mod worker;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;
use args::{Command, DlqCommand, LogFormat};
pub use error::CliError;
pub use settings::{Settings, Target};

use crate::backend::Names;
use crate::embedded::Embedded;
use crate::pipeline::Pipeline;

/// Runs the program; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match runtime_for(cli.command.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(h) = e.hint() {
                eprintln!("hint: {h}");
            }
            e.exit_code()
        }
    }
}

/// The async runtime for a command. The worker waits on the network nearly all the time: one thread
/// drives every receive loop without handing tasks and wake-ups between threads (a tenth less CPU per
/// voucher and a third of the context switches, measured by `cargo bench --bench consumer`); more
/// throughput comes from more worker processes. Everything else gets a thread per core.
fn runtime_for(command: Option<&Command>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if matches!(command, Some(Command::Worker(_))) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
}

/// Resolves once Ctrl-C or SIGTERM arrives.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Headless commands log to stderr: `VOUCHERDECK_LOG` filters (default `level`; the SDK's own
/// credential-chain chatter only from errors up), colours only on a terminal without `NO_COLOR`,
/// JSON lines with `--log-format json`.
fn init_stderr_logging(level: &str, format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = crate::tui::logging::log_filter(&format!(
        "{level},aws_config=error,aws_smithy_runtime=error"
    ));
    // The builder's own level (info by default) would cap the filter's: the filter decides.
    let builder = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .finish()
            .with(filter)
            .try_init(),
        LogFormat::Text => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            builder.with_ansi(colour).finish().with(filter).try_init()
        }
    };
}

/// A pipeline on the configured backend; the embedded one comes provisioned unless `provisioned` is
/// false (the `provision` command does it itself and reports what it made).
pub async fn connect(
    settings: &Settings,
    provisioned: bool,
) -> Result<(Pipeline, Option<Embedded>), CliError> {
    let names: Names = settings.names.clone();
    match &settings.target {
        Target::Embedded => {
            let embedded = Embedded::new(names);
            let pipeline = Pipeline::new(embedded.backend.clone(), settings.pipeline.clone());
            if provisioned {
                pipeline.prepare_embedded().await?;
            }
            Ok((pipeline, Some(embedded)))
        }
        Target::Aws(opts) => {
            let backend =
                crate::aws::connect(opts, names, crate::ports::RequestCounter::default()).await?;
            Ok((Pipeline::new(backend, settings.pipeline.clone()), None))
        }
    }
}

fn refuse_if_read_only(
    settings: &Settings,
    g: &args::GlobalArgs,
    what: &'static str,
) -> Result<(), CliError> {
    if !settings.read_only {
        Ok(())
    } else if settings.production && !g.read_only {
        Err(CliError::Production(what, settings.label().to_string()))
    } else {
        Err(CliError::ReadOnly(what))
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    if let Some(Command::Status(a)) = &cli.command
        && a.all
    {
        init_stderr_logging("warn", cli.global.log_format);
        return status::run_all(&cli.global, a).await;
    }
    let settings = Settings::resolve(&cli.global)?;
    let Some(command) = cli.command else {
        return dashboard::launch(settings, cli.dashboard).await;
    };
    let level = if matches!(command, Command::Worker(_)) {
        "info"
    } else {
        "warn"
    };
    init_stderr_logging(level, cli.global.log_format);
    let mutating = match &command {
        Command::Provision(_) => Some("provision"),
        Command::Gift(_) => Some("gift"),
        Command::Worker(_) => Some("worker"),
        Command::Redrive(_) => Some("redrive"),
        Command::Status(_) | Command::Dlq(_) => None,
    };
    if let Some(what) = mutating {
        refuse_if_read_only(&settings, &cli.global, what)?;
    }
    if settings.target == Target::Embedded {
        let note = "embedded backend (in-process): nothing persists after this command. \
                    Point at SQS with --endpoint-url, --region, --profile or --aws.";
        match cli.global.log_format {
            LogFormat::Text => eprintln!("note: {note}"),
            LogFormat::Json => tracing::warn!("{note}"),
        }
    }
    let provisioned = !matches!(command, Command::Provision(_));
    let (pipeline, _embedded) = connect(&settings, provisioned).await?;
    match command {
        Command::Provision(a) => provision::run(&pipeline, a.json).await,
        Command::Gift(a) => gift::run(&pipeline, a).await,
        Command::Worker(a) => worker::run(&pipeline, a).await,
        Command::Status(a) => status::run(&pipeline, &settings, &a).await,
        Command::Dlq(DlqCommand::List { json, limit }) => {
            dlq::list(&pipeline, json, usize::from(limit)).await
        }
        Command::Redrive(a) => redrive::run(&pipeline, a).await,
    }
}
