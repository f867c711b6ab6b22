//! `voucherdeck provision --template cloudformation [--alarms] [--lambda] [--format json|yaml]`:
//! the stack as a template, printed; nothing is called. The IAM documents are `assets/iam/`'s own.

use serde_json::Value;

use super::args::{ProvisionArgs, TemplateFormat};
use super::error::CliError;
use super::out::outln;
use super::settings::Settings;
use super::yaml;
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{Pipeline, PolicyFile, TemplateOptions};

/// The policy documents of `assets/iam/`, by file stem.
const POLICIES: [(&str, &str); 7] = [
    ("watcher", include_str!("../../assets/iam/watcher.json")),
    ("worker", include_str!("../../assets/iam/worker.json")),
    ("operator", include_str!("../../assets/iam/operator.json")),
    ("intake", include_str!("../../assets/iam/intake.json")),
    ("provision", include_str!("../../assets/iam/provision.json")),
    (
        "queue-policy",
        include_str!("../../assets/iam/queue-policy.json"),
    ),
    (
        "dlq-policy",
        include_str!("../../assets/iam/dlq-policy.json"),
    ),
];

/// The template for these settings.
pub fn template(settings: &Settings, args: &ProvisionArgs) -> Result<Value, CliError> {
    let policies = POLICIES
        .iter()
        .map(|(stem, text)| {
            let document = serde_json::from_str(text)
                .map_err(|e| CliError::Failed(format!("assets/iam/{stem}.json: {e}")))?;
            Ok(PolicyFile {
                stem: (*stem).to_string(),
                document,
            })
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    let opts = TemplateOptions {
        alarms: args.alarms,
        lambda: args.lambda,
        policies,
        sns_topic: args
            .sns_topic
            .clone()
            .or_else(|| settings.sns_topic.clone()),
    };
    // The template needs the names and settings only: no backend is reached.
    let names = settings.names.clone();
    let pipeline = Pipeline::new(Embedded::new(names).backend, settings.pipeline.clone());
    Ok(pipeline.stack_template(&opts))
}

pub fn print(settings: &Settings, args: &ProvisionArgs) -> Result<(), CliError> {
    let t = template(settings, args)?;
    let text = match args.format {
        TemplateFormat::Json => {
            serde_json::to_string_pretty(&t).map_err(|e| CliError::Failed(e.to_string()))?
        }
        TemplateFormat::Yaml => yaml::to_yaml(&t),
    };
    outln!("{text}")?;
    Ok(())
}
