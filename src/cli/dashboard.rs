//! The dashboard entry: connect, start demo traffic on the embedded backend, hand over to the TUI.

use tokio_util::sync::CancellationToken;

use super::args::DashboardArgs;
use super::error::CliError;
use super::settings::Settings;
use crate::pipeline::demo;

pub async fn launch(settings: Settings, args: DashboardArgs) -> Result<(), CliError> {
    let (pipeline, embedded) = super::connect(&settings, true).await?;
    let cancel = CancellationToken::new();
    let demo_on = embedded.is_some() && !args.no_demo;
    if let (Some(e), true) = (&embedded, demo_on) {
        demo::spawn(
            pipeline.clone(),
            e.store.clone(),
            demo::DemoConfig::default(),
            cancel.clone(),
        );
    }
    let _ = (&pipeline, demo_on);
    cancel.cancel();
    Err(CliError::Failed("the dashboard is not wired yet".into()))
}
