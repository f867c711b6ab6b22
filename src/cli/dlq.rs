//! `voucherdeck dlq list`.

use super::error::CliError;
use crate::domain::text::{sanitize, truncate};
use crate::pipeline::Pipeline;

pub async fn list(p: &Pipeline, json: bool, limit: usize) -> Result<(), CliError> {
    let msgs = p.peek_dlq(limit).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&msgs).map_err(|e| CliError::Failed(e.to_string()))?
        );
        return Ok(());
    }
    if msgs.is_empty() {
        println!("the DLQ is empty");
        return Ok(());
    }
    println!(
        "{:<36}  {:>3}  {:<11}  {:<40}  body",
        "message id", "rc", "kind", "reason"
    );
    for m in &msgs {
        let (kind, reason) = m
            .failure
            .as_ref()
            .map_or(("?", "unknown (no record)".to_string()), |f| {
                (f.kind.as_str(), f.reason.clone())
            });
        println!(
            "{:<36}  {:>3}  {:<11}  {:<40}  {}",
            m.message_id,
            m.receive_count,
            kind,
            truncate(&sanitize(&reason), 40),
            truncate(&sanitize(&m.body), 50)
        );
    }
    println!(
        "{} message(s); listing is a receive, so their receive counts went up by one",
        msgs.len()
    );
    Ok(())
}
