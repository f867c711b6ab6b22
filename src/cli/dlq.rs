//! `voucherdeck dlq list`: peeks the DLQ (a receive: it raises receive counts); read-only, it does
//! not touch the queue and lists what the failure log says was dead-lettered instead.

use super::out::outln;
use serde::Serialize;

use super::error::CliError;
use voucherdeck_core::domain::FailureRecord;
use voucherdeck_core::domain::text::{sanitize, truncate};
use voucherdeck_pipeline::Pipeline;

/// `dlq list --json` when read-only: the failure log's dead-lettered records, and why.
#[derive(Serialize)]
struct FromFailureLog<'a> {
    source: &'static str,
    note: &'static str,
    dead_lettered: &'a [FailureRecord],
}

const READ_ONLY_NOTE: &str = "read-only: the DLQ itself is not peeked (a peek raises receive counts); \
     these are the failure log's records of messages sent to the DLQ";

pub async fn list(p: &Pipeline, json: bool, limit: usize) -> Result<(), CliError> {
    if p.config().read_only {
        return list_from_failure_log(p, json, limit).await;
    }
    let msgs = p.peek_dlq(limit).await?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&msgs).map_err(|e| CliError::Failed(e.to_string()))?
        )?;
        return Ok(());
    }
    if msgs.is_empty() {
        outln!("the DLQ is empty")?;
        return Ok(());
    }
    outln!(
        "{:<36}  {:>3}  {:<11}  {:<40}  body",
        "message id",
        "rc",
        "kind",
        "reason"
    )?;
    for m in &msgs {
        let (kind, reason) = m
            .failure
            .as_ref()
            .map_or(("?", "unknown (no record)".to_string()), |f| {
                (f.kind(), f.reason())
            });
        outln!(
            "{:<36}  {:>3}  {:<11}  {:<40}  {}",
            m.message_id,
            m.receive_count,
            kind,
            truncate(&sanitize(&reason), 40),
            truncate(&sanitize(&m.body), 50)
        )?;
    }
    outln!(
        "{} message(s); listing is a receive, so their receive counts went up by one",
        msgs.len()
    )?;
    Ok(())
}

async fn list_from_failure_log(p: &Pipeline, json: bool, limit: usize) -> Result<(), CliError> {
    let records: Vec<FailureRecord> = p
        .recent_failures(limit.saturating_mul(4).max(100))
        .await?
        .into_iter()
        .filter(|r| r.dead_lettered)
        .take(limit)
        .collect();
    if json {
        let out = FromFailureLog {
            source: "failure_log",
            note: READ_ONLY_NOTE,
            dead_lettered: &records,
        };
        outln!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| CliError::Failed(e.to_string()))?
        )?;
        return Ok(());
    }
    eprintln!("note: {READ_ONLY_NOTE}");
    if records.is_empty() {
        outln!("no dead-lettered messages in the failure log")?;
        return Ok(());
    }
    outln!(
        "{:<20}  {:<36}  {:>3}  {:<11}  reason",
        "when (UTC)",
        "message id",
        "rc",
        "kind"
    )?;
    for r in &records {
        outln!(
            "{:<20}  {:<36}  {:>3}  {:<11}  {}",
            r.at.to_string().get(..19).unwrap_or_default(),
            r.message_id,
            r.receive_count,
            r.kind.as_str(),
            truncate(&sanitize(&r.reason), 60)
        )?;
    }
    Ok(())
}
