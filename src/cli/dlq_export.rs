//! `voucherdeck dlq export (--all | --limit N) FILE`: every DLQ message (body, attributes, failure
//! reason) to JSON Lines, with a progress bar on a terminal; the messages stay in the DLQ.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::ExportArgs;
use super::error::CliError;
use voucherdeck_pipeline::{DlqProgress, Pipeline};

fn bar(approx_total: Option<u64>) -> ProgressBar {
    let bar = match approx_total {
        Some(n) if n > 0 => ProgressBar::new(n),
        _ => ProgressBar::new_spinner(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} reading the DLQ {bar:30} {pos}/~{len} messages ({per_sec}, {elapsed})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

pub async fn export(p: &Pipeline, args: &ExportArgs) -> Result<(), CliError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.file)
        .map_err(|e| {
            CliError::Usage(format!(
                "cannot create {}: {e} (the file must not exist yet)",
                args.file.display()
            ))
        })?;
    // Written as read, never collected: memory stays flat whatever the DLQ's size.
    let mut session = p.open_dlq_session().await?.with_body_budget(0);
    let bar = bar(session.approx_total());
    let limit = args.limit.map_or(usize::MAX, |n| n as usize);
    let mut out = std::io::BufWriter::new(&mut file);
    let exported = session
        .export(&mut out, limit, &mut |progress: DlqProgress| {
            if let Some(total) = progress.approx_total {
                bar.set_length(total.max(progress.loaded as u64));
            }
            bar.set_position(progress.loaded as u64);
        })
        .await;
    drop(out);
    bar.finish_and_clear();
    // Whatever happened, what was read becomes visible again at once.
    session.release().await;
    let exported = exported?;
    let (n, complete) = (exported.written, exported.complete || args.limit.is_some());
    eprintln!(
        "exported {n} message(s) from {} to {}{}; they stay in the DLQ (receive counts +1)",
        p.backend().names.dlq,
        args.file.display(),
        if complete {
            String::new()
        } else if exported.held_back > 0 {
            format!(
                " — {} more wait behind their message groups in this FIFO DLQ (SQS shows them \
                 once the earlier ones are moved or deleted)",
                exported.held_back
            )
        } else {
            " — stopped at the session cap before the end of the DLQ".to_string()
        }
    );
    Ok(())
}
