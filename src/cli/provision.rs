//! `voucherdeck provision`.

use super::error::CliError;
use crate::pipeline::Pipeline;

pub async fn run(p: &Pipeline, json: bool) -> Result<(), CliError> {
    let report = p.provision().await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Failed(e.to_string()))?
        );
        return Ok(());
    }
    for i in &report.items {
        let state = if i.created { "created" } else { "exists " };
        println!("{state}  {:<5}  {:<24}  {}", i.kind, i.name, i.detail);
    }
    Ok(())
}
