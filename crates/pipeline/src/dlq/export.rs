//! Exporting the DLQ to JSON Lines as it is read: each message is written the moment its page
//! arrives and its body let go, so an export's memory does not grow with the DLQ's bytes.

use std::io::Write;

use serde::Serialize;

use super::session::{DlqProgress, DlqSession};
use voucherdeck_core::ports::{BackendError, Result};

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DlqExport {
    /// Lines written, one message each.
    pub written: usize,
    /// The DLQ was read to its end (false when `limit` or the session's cap stopped it, or
    /// messages were held back).
    pub complete: bool,
    /// On a FIFO DLQ, messages the read could not reach: later messages of the groups it held.
    pub held_back: u64,
}

impl DlqSession {
    /// Writes to `out`, one JSON object a line: first the messages the session already holds whole,
    /// then up to `limit` in all, each further message as it is read (kept, like any load, within
    /// the session's body budget: open it `with_body_budget(0)` to keep none). Messages held
    /// without their body are let go first and read again, whole (their receive counts go up once
    /// more). A write that fails stops the reading after that page, and the export with its error.
    pub async fn export(
        &mut self,
        out: &mut (dyn Write + Send),
        limit: usize,
        progress: &mut (dyn FnMut(DlqProgress) + Send),
    ) -> Result<DlqExport> {
        self.reread_dropped().await;
        let mut report = DlqExport {
            written: 0,
            complete: false,
            held_back: 0,
        };
        for held in self.held.iter().take(limit) {
            line(out, &self.message(held.clone()))?;
            report.written += 1;
        }
        let mut failed: Option<BackendError> = None;
        let more = limit.saturating_sub(report.written);
        self.load_each(more, progress, &mut |m| {
            if failed.is_some() {
                return false;
            }
            match line(out, m) {
                Ok(()) => report.written += 1,
                Err(e) => failed = Some(e),
            }
            failed.is_none()
        })
        .await?;
        if let Some(e) = failed {
            return Err(e);
        }
        out.flush().map_err(|e| written(&e))?;
        report.complete = self.complete();
        report.held_back = self.held_back();
        Ok(report)
    }
}

fn line(out: &mut (dyn Write + Send), m: &super::browse::DlqMessage) -> Result<()> {
    serde_json::to_writer(&mut *out, m).map_err(|e| written(&e.into()))?;
    out.write_all(b"\n").map_err(|e| written(&e))
}

fn written(e: &std::io::Error) -> BackendError {
    BackendError::Other(format!("writing the export failed: {e}"))
}
