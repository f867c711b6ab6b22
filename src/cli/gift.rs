//! `voucherdeck gift`: one voucher from flags, or many from a JSON Lines file.

use std::io::Read;

use serde::Serialize;

use super::args::GiftArgs;
use super::error::CliError;
use crate::domain::GiftRequest;
use crate::pipeline::{GiftError, GiftOptions, Pipeline};

#[derive(Debug, Serialize)]
struct LineResult {
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    voucher_id: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    duplicate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The backend failed (as opposed to the gift being refused).
    #[serde(skip)]
    backend_failed: bool,
}

#[derive(Debug, Serialize)]
struct GiftSummary {
    sent: usize,
    refused: usize,
    failed: usize,
    results: Vec<LineResult>,
}

fn read_input(path: &std::path::Path) -> Result<String, CliError> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::Usage(format!("cannot read standard input: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))
}

pub async fn run(p: &Pipeline, args: GiftArgs) -> Result<(), CliError> {
    let opts = GiftOptions { bulk: args.bulk };
    let (line_nos, requests, mut results) = if let Some(path) = &args.file {
        parse_lines(&read_input(path)?)
    } else {
        let req = GiftRequest {
            recipient: args.recipient.clone().unwrap_or_default(),
            amount: args.amount.clone().unwrap_or_default(),
            currency: args.currency.clone(),
            sender: args.sender.clone().unwrap_or_default(),
            note: args.note.clone(),
            idempotency_key: args.idempotency_key.clone(),
        };
        (vec![1], vec![req], Vec::new())
    };
    let outcomes = p.gift_many(&requests, opts).await;
    let mut any_backend_error = None;
    let mut rate_limited = false;
    for (line, outcome) in line_nos.into_iter().zip(outcomes) {
        results.push(match outcome {
            Ok(r) => LineResult {
                line,
                voucher_id: Some(r.voucher_id.to_string()),
                duplicate: r.duplicate,
                error: None,
                backend_failed: false,
            },
            Err(e) => {
                rate_limited |= matches!(
                    e,
                    GiftError::RateLimited { .. } | GiftError::DailyCap { .. }
                );
                if let GiftError::Backend(b) = &e {
                    any_backend_error = Some(b.clone());
                }
                LineResult {
                    line,
                    voucher_id: None,
                    duplicate: false,
                    error: Some(e.to_string()),
                    backend_failed: !e.is_refusal(),
                }
            }
        });
    }
    results.sort_by_key(|r| r.line);
    let sent = results.iter().filter(|r| r.voucher_id.is_some()).count();
    let failed = results.iter().filter(|r| r.backend_failed).count();
    let summary = GiftSummary {
        sent,
        refused: results.len() - sent - failed,
        failed,
        results,
    };
    let single = args.file.is_none();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(|e| CliError::Failed(e.to_string()))?
        );
    } else {
        for r in &summary.results {
            match (&r.voucher_id, &r.error) {
                (Some(id), _) if single => {
                    let dup = if r.duplicate {
                        " (idempotency key seen before: same voucher)"
                    } else {
                        ""
                    };
                    println!("queued voucher {id}{dup}");
                }
                (None, Some(e)) => eprintln!("line {}: {e}", r.line),
                _ => {}
            }
        }
        if !single {
            println!(
                "sent {} of {}; {} refused, {} failed",
                summary.sent,
                summary.results.len(),
                summary.refused,
                summary.failed
            );
        }
        if rate_limited && !args.bulk {
            eprintln!("hint: an operator's bulk import can lift the per-sender limits with --bulk");
        }
    }
    if let Some(e) = any_backend_error {
        return Err(CliError::Backend(e));
    }
    if summary.refused > 0 {
        if single {
            let why = summary
                .results
                .first()
                .and_then(|r| r.error.clone())
                .unwrap_or_default();
            return Err(CliError::Usage(why));
        }
        return Err(CliError::Usage(format!(
            "{} gift(s) refused",
            summary.refused
        )));
    }
    Ok(())
}

/// Parses JSON Lines: returns (line numbers, requests) for parsable lines and results for the others.
fn parse_lines(text: &str) -> (Vec<usize>, Vec<GiftRequest>, Vec<LineResult>) {
    let mut nos = Vec::new();
    let mut reqs = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        match serde_json::from_str::<GiftRequest>(t) {
            Ok(r) => {
                nos.push(line_no);
                reqs.push(r);
            }
            Err(e) => bad.push(LineResult {
                line: line_no,
                voucher_id: None,
                duplicate: false,
                error: Some(format!("not a gift: {e}")),
                backend_failed: false,
            }),
        }
    }
    (nos, reqs, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_bad_ones_reported() {
        let (nos, reqs, bad) = parse_lines(
            "{\"recipient\":\"a@b.co\",\"amount\":1,\"sender\":\"s\"}\n\nnot json\n{\"x\":1}\n",
        );
        assert_eq!(nos, vec![1]);
        assert_eq!(reqs.len(), 1);
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![3, 4]);
    }
}
