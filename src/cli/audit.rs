//! `voucherdeck audit [--since DURATION] [--limit N] [--json]`: the shared audit log, newest first,
//! read without the dashboard (triage, a compliance check, a script).

use std::fmt::Write as _;

use super::args::AuditArgs;
use super::error::CliError;
use super::out::outln;
use voucherdeck_core::domain::{AuditEntry, Timestamp};
use voucherdeck_pipeline::Pipeline;

pub async fn run(p: &Pipeline, a: &AuditArgs) -> Result<(), CliError> {
    let limit = a.limit as usize;
    let entries = match a.since {
        Some(since) => p.audit_since(Timestamp::now().minus(since), limit).await?,
        None => p.recent_audit(limit).await?,
    };
    if a.json {
        let text =
            serde_json::to_string_pretty(&entries).map_err(|e| CliError::Failed(e.to_string()))?;
        return outln!("{text}");
    }
    if entries.is_empty() {
        return outln!(
            "no audit entries{}",
            if a.since.is_some() {
                " in that time"
            } else {
                ""
            }
        );
    }
    for e in &entries {
        outln!("{}", line(e))?;
    }
    Ok(())
}

/// `2026-12-07T16:02:11.120Z  ok       gift          vouchers ×1  key:ab12 acme (203.0.113.9)  detail`
/// (then `  note: "…"` when the operator gave one)
fn line(e: &AuditEntry) -> String {
    let mut text = format!(
        "{}  {:<8} {:<13} {} ×{}  {}",
        e.at,
        e.outcome.as_str(),
        e.action.as_str(),
        e.target,
        e.count,
        e.actor
    );
    if let Some(ip) = &e.client_ip {
        text.push_str(" (");
        text.push_str(ip);
        text.push(')');
    }
    if let Some(detail) = &e.detail {
        text.push_str("  ");
        text.push_str(detail);
    }
    if let Some(note) = &e.note {
        // Quoted as Rust debug text: any character that is not plain shows escaped.
        let _ = write!(text, "  note: {note:?}");
    }
    text
}
