//! `voucherdeck provision [--update] [--alarms [--sns-topic ARN]]`.

use super::args::ProvisionArgs;
use super::error::CliError;
use super::out::outln;
use super::settings::Settings;
use voucherdeck_core::ports::BackendError;
use voucherdeck_pipeline::{NO_CLOUDWATCH_ALARMS, Pipeline, ProvisionReport};

pub async fn run(p: &Pipeline, settings: &Settings, args: &ProvisionArgs) -> Result<(), CliError> {
    let mut report = p.provision_with(args.update).await?;
    let mut warning = None;
    if args.alarms {
        let topic = args.sns_topic.as_deref().or(settings.sns_topic.as_deref());
        match p.provision_alarms(topic).await {
            Ok(alarms) => report.items.extend(alarms.items),
            // Some endpoints have no CloudWatch: the rest is provisioned, and that is said.
            Err(BackendError::Unsupported(why)) => {
                warning = Some(format!("{NO_CLOUDWATCH_ALARMS} ({why})"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if args.json {
        return print_json(&report, warning.as_deref());
    }
    for i in &report.items {
        let state = match (i.created, i.updated) {
            (true, _) => "created",
            (false, true) => "updated",
            (false, false) if i.kind == "alarm" => "same   ",
            (false, false) => "exists ",
        };
        outln!("{state}  {:<5}  {:<28}  {}", i.kind, i.name, i.detail)?;
        for d in &i.differences {
            let verb = if i.updated { "was" } else { "is" };
            outln!(
                "         {:<5}  {:<28}  {} {verb} {}, this configuration says {}",
                "",
                "",
                d.setting,
                d.current,
                d.wanted
            )?;
        }
    }
    if report.has_unapplied_differences() {
        eprintln!(
            "note: existing queues differ from this configuration and were left as they are (every \
             machine shares them); run `voucherdeck provision --update` to apply it"
        );
    }
    if let Some(w) = &warning {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn print_json(report: &ProvisionReport, warning: Option<&str>) -> Result<(), CliError> {
    let mut value = serde_json::to_value(report).map_err(|e| CliError::Failed(e.to_string()))?;
    if let Some(w) = warning {
        value["warning"] = w.into();
    }
    outln!(
        "{}",
        serde_json::to_string_pretty(&value).map_err(|e| CliError::Failed(e.to_string()))?
    )?;
    Ok(())
}
