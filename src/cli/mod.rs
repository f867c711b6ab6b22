//! The command line: one binary, the dashboard and headless subcommands over the same services.

mod args;
mod audit;
mod config_file;
mod connect;
mod dashboard;
mod dlq;
mod dlq_export;
mod dlq_resend;
mod error;
mod failures;
mod gift;
mod keys;
mod lambda;
mod lines;
mod out;
mod parse;
mod pepper;
mod provision;
mod redrive;
mod report;
mod serve;
mod settings;
mod signals;
mod status;
mod template;
mod worker;
mod yaml;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

pub use args::Cli;
use args::{Command, DlqCommand, KeysCommand, LogFormat};
pub use connect::connect;
use connect::{finishing, unless_stopped};
pub use error::CliError;
pub use settings::{Settings, Target};

use voucherdeck_pipeline::Shutdown;

/// What a second signal says on its way out.
const FORCED: &str = "interrupted again: exiting at once; messages in progress return to their \
                      queue after their visibility timeout";

/// Runs the program; returns the process exit code.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches_from(arguments());
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let style = report::Style::for_run(&matches, cli.global.log_format == LogFormat::Json);
    report::install(style);
    let runtime = match runtime_for(cli.command.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            report::print(
                &CliError::Failed(format!("cannot start the async runtime: {e}")),
                style,
            );
            return ExitCode::from(1);
        }
    };
    let (result, forced) = runtime.block_on(async {
        // One listener for the whole run, before anything else starts.
        let shutdown = signals::listen();
        tokio::select! {
            r = run(cli, shutdown.clone()) => (r, false),
            () = shutdown.forced() => (Err(CliError::Interrupted(FORCED.into())), true),
        }
    });
    if forced {
        // Exit at once: tasks still running are abandoned, not awaited.
        runtime.shutdown_background();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::OutputClosed) => CliError::OutputClosed.exit_code(),
        Err(e) => {
            report::print(&e, style);
            e.exit_code()
        }
    }
}

/// The command line; a binary named `bootstrap` with no arguments (as AWS Lambda's custom
/// runtime starts it) runs as `voucherdeck lambda`.
fn arguments() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let named_bootstrap = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|n| n == "bootstrap");
    if named_bootstrap && args.len() == 1 {
        args.push("lambda".into());
    }
    args
}

/// The async runtime for a command. The worker waits on the network nearly all the time: one thread
/// drives every receive loop without handing tasks and wake-ups between threads (a tenth less CPU per
/// voucher and a third of the context switches, measured by `cargo bench --bench consumer`); more
/// throughput comes from more worker processes. Everything else gets a thread per core.
fn runtime_for(command: Option<&Command>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if matches!(command, Some(Command::Worker(_) | Command::Lambda)) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
}

/// Headless commands log to stderr: `VOUCHERDECK_LOG` filters (default `level`; the SDK's own
/// credential-chain chatter only from errors up), colours only on a terminal without `NO_COLOR`,
/// JSON lines with `--log-format json`.
fn init_stderr_logging(level: &str, format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = voucherdeck_tui::logging::log_filter(&format!(
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

/// What a command would change, named for the read-only refusal; `None` for one that only reads.
fn mutating(command: &Command) -> Option<&'static str> {
    match command {
        Command::Provision(_) => Some("provision"),
        Command::Gift(_) => Some("gift"),
        Command::Worker(_) => Some("worker"),
        Command::Lambda => Some("lambda"),
        Command::Redrive(a) if !a.dry_run => Some("redrive"),
        Command::Dlq(DlqCommand::Resend(_)) => Some("dlq resend"),
        Command::Keys(KeysCommand::Create(_)) => Some("keys create"),
        Command::Keys(KeysCommand::Revoke { .. }) => Some("keys revoke"),
        // A read-only server answers reads and refuses every write with 403.
        Command::Status(_)
        | Command::Dlq(_)
        | Command::Redrive(_)
        | Command::Serve(_)
        | Command::Keys(_)
        | Command::Audit(_)
        | Command::Failures(_) => None,
    }
}

/// The commands that hash API keys with the pepper (and so need a configured one on AWS).
fn keyed(command: &Command) -> Option<&'static str> {
    match command {
        Command::Serve(_) => Some("serve"),
        Command::Keys(KeysCommand::Create(_)) => Some("keys create"),
        _ => None,
    }
}

/// Says that nothing a headless command does on the embedded backend outlives it.
fn note_embedded(format: LogFormat) {
    let note = "embedded backend (in-process): nothing persists after this command. \
                Point at SQS with --endpoint-url, --region, --profile or --aws.";
    match format {
        LogFormat::Text => eprintln!("note: {note}"),
        LogFormat::Json => tracing::warn!("{note}"),
    }
}

/// Before a headless command connects: its log, the read-only and pepper checks, and who it is.
fn prepare(
    command: &Command,
    settings: &mut Settings,
    global: &args::GlobalArgs,
) -> Result<(), CliError> {
    let level = if matches!(
        command,
        Command::Worker(_) | Command::Lambda | Command::Serve(_)
    ) {
        "info"
    } else {
        "warn"
    };
    init_stderr_logging(level, global.log_format);
    if let Some(what) = mutating(command) {
        refuse_if_read_only(settings, global, what)?;
    }
    if settings.target == Target::Embedded {
        note_embedded(global.log_format);
    }
    if let Target::Aws(_) = settings.target
        && let Some(what) = keyed(command)
    {
        pepper::require(&settings.peppers, what)?;
    }
    if let (Command::Lambda, Some(id)) = (command, lambda::worker_id()) {
        settings.pipeline.worker_id = id;
    }
    Ok(())
}

async fn run(cli: Cli, shutdown: Shutdown) -> Result<(), CliError> {
    if let Some(Command::Status(a)) = &cli.command
        && a.all
    {
        init_stderr_logging("warn", cli.global.log_format);
        return unless_stopped(&shutdown, status::run_all(&cli.global, a)).await;
    }
    let mut settings = Settings::resolve(&cli.global)?;
    if let Some(Command::Provision(a)) = &cli.command
        && a.template.is_some()
    {
        // A template changes nothing and reaches nothing.
        return template::print(&settings, a);
    }
    let Some(command) = cli.command else {
        return Box::pin(dashboard::launch(
            &cli.global,
            settings,
            cli.dashboard,
            shutdown,
        ))
        .await;
    };
    prepare(&command, &mut settings, &cli.global)?;
    let provisioned = !matches!(command, Command::Provision(_));
    let (pipeline, _embedded) =
        unless_stopped(&shutdown, Box::pin(connect(&settings, provisioned))).await?;
    match command {
        // Idempotent, or reading only: a stop ends them at once.
        Command::Provision(a) => {
            unless_stopped(&shutdown, provision::run(&pipeline, &settings, &a)).await
        }
        Command::Status(a) => {
            unless_stopped(&shutdown, status::run(&pipeline, &settings, &a)).await
        }
        // A peek holds DLQ messages until it releases them.
        Command::Dlq(DlqCommand::List { json, limit }) => {
            let list = dlq::list(&pipeline, json, usize::from(limit));
            finishing(&shutdown, "releasing the peeked DLQ messages first", list).await
        }
        Command::Dlq(DlqCommand::Export(a)) => {
            let export = dlq_export::export(&pipeline, &a);
            finishing(&shutdown, "releasing the DLQ messages read first", export).await
        }
        Command::Dlq(DlqCommand::Resend(a)) => {
            let resend = dlq_resend::resend(&pipeline, &a);
            finishing(
                &shutdown,
                "finishing the resend and releasing the DLQ first",
                resend,
            )
            .await
        }
        Command::Gift(a) => gift::run(&pipeline, a, &shutdown).await,
        Command::Worker(a) => worker::run(&pipeline, a, &shutdown).await,
        Command::Lambda => lambda::run(&pipeline, &shutdown).await,
        Command::Redrive(a) => redrive::run(&pipeline, a, &shutdown).await,
        Command::Serve(a) => serve::run(&pipeline, a, &shutdown).await,
        Command::Keys(k) => unless_stopped(&shutdown, keys::run(&pipeline, k)).await,
        Command::Audit(a) => unless_stopped(&shutdown, audit::run(&pipeline, &a)).await,
        Command::Failures(a) => unless_stopped(&shutdown, failures::run(&pipeline, &a)).await,
    }
}
