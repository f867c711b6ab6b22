//! `voucherdeck redrive`.

use super::out::outln;
use std::time::Duration;

use super::args::RedriveArgs;
use super::error::CliError;
use voucherdeck_pipeline::{
    DlqFilter, Pipeline, RedriveHandle, RedriveMethod, RedriveProgress, RedriveRequest,
    RedriveScope, RedriveStatus, Shutdown,
};

fn scope_of(args: &RedriveArgs) -> Result<RedriveScope, CliError> {
    Ok(if args.all {
        RedriveScope::All
    } else if args.kind.is_some() || args.reason.is_some() {
        let given = |v: &Option<String>| v.clone().filter(|t| !t.trim().is_empty());
        RedriveScope::Filter(DlqFilter {
            text: given(&args.match_text),
            kind: given(&args.kind),
            reason: given(&args.reason),
        })
    } else if let Some(text) = args.match_text.clone() {
        if text.is_empty() {
            return Err(CliError::Usage("--match needs some text".into()));
        }
        RedriveScope::Match(text)
    } else {
        RedriveScope::Ids(
            args.id
                .iter()
                .flat_map(|s| s.split([',', ' ']))
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        )
    })
}

/// `--dry-run`: counts what the redrive would move, over the whole DLQ.
async fn dry_run(p: &Pipeline, scope: &RedriveScope, json: bool) -> Result<(), CliError> {
    let filter = match scope {
        RedriveScope::All => DlqFilter::default(),
        RedriveScope::Match(text) => DlqFilter {
            text: Some(text.clone()),
            ..DlqFilter::default()
        },
        RedriveScope::Filter(f) => f.clone(),
        RedriveScope::Ids(_) => {
            return Err(CliError::Usage(
                "--dry-run counts by filter, not by id".into(),
            ));
        }
    };
    let count = p.count_dlq(&filter).await?;
    if json {
        let out = serde_json::json!({
            "dry_run": true,
            "filter": filter.describe(),
            "matched": count.matched,
            "scanned": count.scanned,
            "complete": count.complete,
            "held_back": count.held_back,
        });
        outln!("{out:#}")?;
    } else {
        let partial = if count.complete {
            String::new()
        } else if count.held_back > 0 {
            format!(
                " ({} more wait behind their message groups in this FIFO DLQ: SQS shows them once \
                 the earlier ones are moved or deleted)",
                count.held_back
            )
        } else {
            " (stopped before the end of the DLQ)".to_string()
        };
        outln!(
            "dry run: {} of {} messages in {} match ({}){partial}; nothing moved",
            count.matched,
            count.scanned,
            p.backend().names.dlq,
            filter.describe()
        )?;
        outln!("reading the DLQ raised each message's receive count by one")?;
    }
    Ok(())
}

pub async fn run(p: &Pipeline, args: RedriveArgs, shutdown: &Shutdown) -> Result<(), CliError> {
    let scope = scope_of(&args)?;
    if args.dry_run {
        let count = dry_run(p, &scope, args.json);
        return super::connect::finishing(shutdown, "releasing the DLQ messages read first", count)
            .await;
    }
    if args.to.as_deref() == Some(p.backend().names.dlq.as_str()) {
        return Err(CliError::Usage(format!(
            "--to {} is the DLQ itself; give its source queue or another queue",
            p.backend().names.dlq
        )));
    }
    let dest = args
        .to
        .clone()
        .unwrap_or_else(|| "each message's source queue".into());
    let mut handle = p.start_redrive(RedriveRequest {
        scope,
        destination: args.to.clone(),
        rate: args.rate,
        note: args.note.clone(),
    });
    if follow(&mut handle, &args, &dest, shutdown).await == Followed::LeftRunning {
        return Ok(());
    }
    // The closing audit entry is written after the last progress: exit only once it is.
    handle.settle().await;
    let last = handle.progress.borrow().clone();
    let failures = handle.failures.borrow().clone();
    if args.json {
        let mut out = serde_json::to_value(&last).map_err(|e| CliError::Failed(e.to_string()))?;
        if let Some(o) = out.as_object_mut() {
            o.insert("failures".into(), serde_json::json!(failures));
        }
        outln!("{out:#}")?;
    } else {
        outln!("redrive to {dest}: {last}")?;
        for f in &failures {
            outln!("  not moved: {} ({})", f.message_id, f.reason)?;
        }
    }
    outcome(&last, &args)
}

/// How following a redrive ended.
#[derive(Debug, PartialEq, Eq)]
enum Followed {
    Finished,
    /// `--no-wait` and the native task runs on in SQS.
    LeftRunning,
}

/// Prints progress as it changes until the redrive finishes. The first signal cancels it (a copy
/// releases what it holds, then ends); a second exits at once.
async fn follow(
    handle: &mut RedriveHandle,
    args: &RedriveArgs,
    dest: &str,
    shutdown: &Shutdown,
) -> Followed {
    let mut last_printed = String::new();
    let mut noted = false;
    let mut cancelling = false;
    loop {
        let progress = handle.progress.borrow().clone();
        let line = progress.to_string();
        if line != last_printed && !args.json && progress.status != RedriveStatus::Starting {
            eprintln!("redrive ({:?}) to {dest}: {line}", progress.method);
            last_printed = line;
        }
        if progress.status.is_finished() {
            break;
        }
        if args.no_wait && progress.status == RedriveStatus::Running {
            if progress.method == RedriveMethod::Native {
                // The task goes on in SQS whether or not anyone reads this.
                let _ = outln!(
                    "move task started; it goes on in SQS (the DLQ count in `voucherdeck status` falls as it moves)"
                );
                return Followed::LeftRunning;
            }
            if !noted {
                eprintln!(
                    "note: this endpoint has no native move task; copying in this process, so waiting"
                );
                noted = true;
            }
        }
        tokio::select! {
            () = shutdown.requested(), if !cancelling => {
                eprintln!("cancelling; messages already moved stay moved (a second Ctrl-C exits at once)");
                handle.cancel();
                cancelling = true;
            }
            r = handle.progress.changed() => if r.is_err() { break },
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    Followed::Finished
}

/// The exit status of a finished redrive: anything left behind is an error that says why.
fn outcome(last: &RedriveProgress, args: &RedriveArgs) -> Result<(), CliError> {
    match &last.status {
        RedriveStatus::Failed(why) => Err(CliError::Failed(format!("redrive failed: {why}"))),
        RedriveStatus::Cancelled => Err(CliError::Failed(format!(
            "redrive cancelled after moving {}; the rest stays in the DLQ",
            last.moved
        ))),
        _ if last.failed > 0 => Err(CliError::Failed(format!(
            "{} message(s) could not be moved and stay in the DLQ",
            last.failed
        ))),
        _ if last.total.is_some_and(|t| last.moved < t) && !args.all => {
            Err(CliError::Failed(format!(
                "{} of the {} chosen message(s) were not found in the DLQ (check the ids with `voucherdeck dlq list`)",
                last.total.unwrap_or(0) - last.moved,
                last.total.unwrap_or(0)
            )))
        }
        _ => Ok(()),
    }
}
