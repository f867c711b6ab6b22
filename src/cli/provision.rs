//! `voucherdeck provision [--update]`.

use super::args::ProvisionArgs;
use super::error::CliError;
use crate::pipeline::Pipeline;

pub async fn run(p: &Pipeline, args: &ProvisionArgs) -> Result<(), CliError> {
    let report = p.provision_with(args.update).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Failed(e.to_string()))?
        );
        return Ok(());
    }
    for i in &report.items {
        let state = match (i.created, i.updated) {
            (true, _) => "created",
            (false, true) => "updated",
            (false, false) => "exists ",
        };
        println!("{state}  {:<5}  {:<24}  {}", i.kind, i.name, i.detail);
        for d in &i.differences {
            let verb = if i.updated { "was" } else { "is" };
            println!(
                "         {:<5}  {:<24}  {} {verb} {}, this configuration says {}",
                "", "", d.setting, d.current, d.wanted
            );
        }
    }
    if report.has_unapplied_differences() {
        eprintln!(
            "note: existing queues differ from this configuration and were left as they are (every \
             machine shares them); run `voucherdeck provision --update` to apply it"
        );
    }
    Ok(())
}
