//! `voucherdeck gift`: one voucher from flags, or many from a JSON Lines file.

use super::out::outln;
use std::io::{BufRead, BufReader};

use serde::Serialize;

use super::args::GiftArgs;
use super::error::CliError;
use super::lines::{LINE_MAX_BYTES, Line, Lines};
use voucherdeck_core::domain::GiftRequest;
use voucherdeck_pipeline::{GiftError, GiftOptions, GiftReceipt, Pipeline, Shutdown};

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
struct GiftSummary<'a> {
    sent: usize,
    refused: usize,
    failed: usize,
    /// A signal stopped the run: this line and those after it were not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped_at_line: Option<usize>,
    results: &'a [LineResult],
}

/// Gifts sent to the services at once from a file: bounded memory, and batches of 10 stay full.
const CHUNK: usize = 500;

/// What happened to each gift, and the totals.
struct Tally {
    /// Kept for `--json` and for a single gift's answer; text mode prints as it goes.
    keep: bool,
    results: Vec<LineResult>,
    sent: usize,
    refused: usize,
    failed: usize,
    rate_limited: bool,
    backend_error: Option<voucherdeck_core::ports::BackendError>,
    /// The first line not sent because a signal stopped the run.
    stopped_at_line: Option<usize>,
}

impl Tally {
    fn add(&mut self, r: LineResult) {
        match (&r.voucher_id, &r.error) {
            (Some(_), _) => self.sent += 1,
            (None, _) if r.backend_failed => self.failed += 1,
            (None, _) => self.refused += 1,
        }
        if !self.keep
            && let Some(e) = &r.error
        {
            eprintln!("line {}: {e}", r.line);
        }
        if self.keep {
            self.results.push(r);
        }
    }

    fn outcome(&mut self, line: usize, outcome: Result<GiftReceipt, GiftError>) {
        let r = match outcome {
            Ok(r) => LineResult {
                line,
                voucher_id: Some(r.voucher_id.to_string()),
                duplicate: r.duplicate,
                error: None,
                backend_failed: false,
            },
            Err(e) => {
                self.rate_limited |= matches!(
                    e,
                    GiftError::RateLimited { .. } | GiftError::DailyCap { .. }
                );
                if let Some(b) = e.backend_error() {
                    self.backend_error = Some(b.clone());
                }
                refusal(line, e.to_string(), !e.is_refusal())
            }
        };
        self.add(r);
    }

    fn total(&self) -> usize {
        self.sent + self.refused + self.failed
    }
}

fn refusal(line: usize, error: String, backend_failed: bool) -> LineResult {
    LineResult {
        line,
        voucher_id: None,
        duplicate: false,
        error: Some(error),
        backend_failed,
    }
}

/// Lines waiting to be sent, in order: a parsed gift or why the line is not one.
type Pending = Vec<(usize, Result<GiftRequest, String>)>;

/// Sends the parsed gifts of `pending` and records every line's outcome in line order.
async fn flush(p: &Pipeline, pending: &mut Pending, opts: GiftOptions, tally: &mut Tally) {
    let requests: Vec<GiftRequest> = pending
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().cloned())
        .collect();
    let mut outcomes = p.gift_many(&requests, opts).await.into_iter();
    for (line, parsed) in pending.drain(..) {
        match parsed {
            Ok(_) => {
                let outcome = outcomes.next().unwrap_or_else(|| {
                    Err(GiftError::Backend(
                        voucherdeck_core::ports::BackendError::Other("no result".into()),
                    ))
                });
                tally.outcome(line, outcome);
            }
            Err(why) => tally.add(refusal(line, why, false)),
        }
    }
}

fn open_input(path: &std::path::Path) -> Result<Box<dyn BufRead>, CliError> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    std::fs::File::open(path)
        .map(|f| Box::new(BufReader::new(f)) as Box<dyn BufRead>)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))
}

/// Reads the file line by line and gifts in chunks. A signal stops it between chunks: the chunk
/// being sent finishes, the lines after it are not sent (and said so).
async fn gift_file(
    p: &Pipeline,
    path: &std::path::Path,
    opts: GiftOptions,
    tally: &mut Tally,
    shutdown: &Shutdown,
) -> Result<(), CliError> {
    let mut pending: Pending = Vec::with_capacity(CHUNK);
    for item in Lines::new(open_input(path)?) {
        let (n, line) =
            item.map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
        if shutdown.is_requested() {
            tally.stopped_at_line = Some(pending.first().map_or(n, |(first, _)| *first));
            return Ok(());
        }
        pending.push((
            n,
            match line {
                Line::Text(t) => {
                    serde_json::from_str::<GiftRequest>(&t).map_err(|e| format!("not a gift: {e}"))
                }
                Line::TooLong => Err(format!("longer than {LINE_MAX_BYTES} bytes; not a gift")),
                Line::NotUtf8 => Err("not UTF-8 text; not a gift".to_string()),
            },
        ));
        if pending.len() == CHUNK {
            flush(p, &mut pending, opts.clone(), tally).await;
        }
    }
    flush(p, &mut pending, opts.clone(), tally).await;
    if tally.total() == 0 {
        return Err(CliError::Usage(format!(
            "{} has no gifts: expected one JSON object per line",
            path.display()
        )));
    }
    Ok(())
}

pub async fn run(p: &Pipeline, args: GiftArgs, shutdown: &Shutdown) -> Result<(), CliError> {
    let opts = GiftOptions {
        bulk: args.bulk,
        ..GiftOptions::default()
    };
    let single = args.file.is_none();
    let mut tally = Tally {
        keep: args.json || single,
        results: Vec::new(),
        sent: 0,
        refused: 0,
        failed: 0,
        rate_limited: false,
        backend_error: None,
        stopped_at_line: None,
    };
    if let Some(path) = &args.file {
        gift_file(p, path, opts, &mut tally, shutdown).await?;
    } else {
        let req = GiftRequest {
            recipient: args.recipient.clone().unwrap_or_default(),
            amount: args.amount.clone().unwrap_or_default(),
            currency: args.currency.clone(),
            sender: args.sender.clone().unwrap_or_default(),
            note: args.note.clone(),
            idempotency_key: args.idempotency_key.clone(),
        };
        let send = p.gift(&req, opts);
        let outcome =
            super::connect::finishing(shutdown, "finishing the send in progress", send).await;
        tally.outcome(1, outcome);
    }
    // Daily-quota units leased and not used go back to the shared counter.
    p.finish_producing().await;
    report(&args, &tally)?;
    if let Some(line) = tally.stopped_at_line {
        return Err(CliError::Interrupted(format!(
            "stopped by a signal: {} gift(s) sent; line {line} and the lines after it were not sent",
            tally.sent
        )));
    }
    if let Some(e) = tally.backend_error {
        return Err(CliError::Backend(e));
    }
    if tally.refused > 0 {
        if single {
            let why = tally
                .results
                .first()
                .and_then(|r| r.error.clone())
                .unwrap_or_default();
            return Err(CliError::Usage(why));
        }
        return Err(CliError::Usage(format!(
            "{} gift(s) refused",
            tally.refused
        )));
    }
    Ok(())
}

fn report(args: &GiftArgs, tally: &Tally) -> Result<(), CliError> {
    let single = args.file.is_none();
    if args.json {
        let summary = GiftSummary {
            sent: tally.sent,
            refused: tally.refused,
            failed: tally.failed,
            stopped_at_line: tally.stopped_at_line,
            results: &tally.results,
        };
        outln!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(|e| CliError::Failed(e.to_string()))?
        )?;
        return Ok(());
    }
    if single {
        // A refused or failed single gift is the command's error, said once by the caller.
        if let Some(LineResult {
            voucher_id: Some(id),
            duplicate,
            ..
        }) = tally.results.first()
        {
            let dup = if *duplicate {
                " (idempotency key seen before: same voucher)"
            } else {
                ""
            };
            outln!("queued voucher {id}{dup}")?;
        }
    } else {
        outln!(
            "sent {} of {}; {} refused, {} failed",
            tally.sent,
            tally.total(),
            tally.refused,
            tally.failed
        )?;
    }
    if tally.rate_limited && !args.bulk {
        eprintln!("hint: an operator's bulk import can lift the per-sender limits with --bulk");
    }
    Ok(())
}
