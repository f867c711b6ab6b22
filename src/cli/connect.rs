//! Reaching the configured backend, and running work around a stop request: what every command
//! and the dashboard share.

use std::future::Future;

use voucherdeck_core::backend::Names;
use voucherdeck_core::ports::RequestCounter;
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{Pipeline, Shutdown};

use super::error::CliError;
use super::settings::{Settings, Target};

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
            let backend = voucherdeck_aws::connect(opts, names, RequestCounter::default()).await?;
            Ok((Pipeline::new(backend, settings.pipeline.clone()), None))
        }
    }
}

/// Runs `work` unless a stop is asked for first: for work that holds nothing a stop could lose.
pub(super) async fn unless_stopped<T>(
    shutdown: &Shutdown,
    work: impl Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    tokio::select! {
        r = work => r,
        () = shutdown.requested() => Err(CliError::Interrupted("interrupted".into())),
    }
}

/// Runs `work` to its end even when a stop is asked for (it holds something it must finish or
/// release), and says so on the first signal. A second signal exits at once.
pub(super) async fn finishing<T>(
    shutdown: &Shutdown,
    note: &str,
    work: impl Future<Output = T>,
) -> T {
    tokio::pin!(work);
    tokio::select! {
        r = &mut work => return r,
        () = shutdown.requested() => {
            eprintln!("stopping: {note} (a second Ctrl-C exits at once)");
        }
    }
    work.await
}
