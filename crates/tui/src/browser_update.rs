//! What the DLQ browser's answers do to the app: more messages loaded, progress, an edited gift, a
//! resend, a dry-run count. Called by `update`; synchronous, no I/O.

use voucherdeck_core::domain::text::sanitize;
use voucherdeck_core::domain::{GiftRequest, validate};
use voucherdeck_pipeline::{DlqCount, DlqMessage, GiftError, ResendReceipt};

use super::app::{App, Level};
use super::keys::resend_confirm;
use super::modal::{GiftForm, Modal};
use super::msg::Effect;

/// More messages arrived (or why not).
pub(super) fn on_more(
    app: &mut App,
    at: usize,
    result: Result<Vec<DlqMessage>, String>,
    exhausted: bool,
) {
    let d = &mut app.pipelines[at].dlq;
    d.loading = false;
    d.progress = None;
    match result {
        Ok(more) => {
            d.append(more);
            d.exhausted = exhausted;
            d.error = None;
            d.clamp();
        }
        Err(e) => {
            let e = sanitize(&e);
            let text = format!("reading the DLQ failed: {e}");
            d.error = Some(e);
            d.clamp();
            app.toast(Level::Error, text);
        }
    }
}

/// The gift came back from the editor: checked like a gift; a valid one asks to confirm the resend,
/// an invalid one opens the form with its errors shown.
pub(super) fn on_edited(
    app: &mut App,
    at: usize,
    message_id: String,
    result: Result<GiftRequest, String>,
) -> Vec<Effect> {
    let gift = match result {
        Ok(gift) => gift,
        Err(e) => {
            app.toast(Level::Error, format!("edit failed: {}", sanitize(&e)));
            return Vec::new();
        }
    };
    let view = &app.pipelines[at];
    let limits = view.info.limits;
    if validate(&gift, &limits).is_err() {
        app.toast(
            Level::Warn,
            "the edited gift breaks a rule: fix it in the form",
        );
        app.modal = Some(Modal::Gift(GiftForm::resend(message_id, &gift, &limits)));
    } else {
        app.modal = Some(resend_confirm(view, &message_id, gift));
    }
    Vec::new()
}

/// The resend's answer.
pub(super) fn on_resent(
    app: &mut App,
    at: usize,
    message_id: &str,
    result: Result<ResendReceipt, GiftError>,
) {
    match result {
        Ok(r) => {
            if r.original_deleted {
                app.pipelines[at].dlq.remove(&[message_id.to_string()]);
            }
            let original = if r.original_deleted {
                "the original deleted"
            } else {
                "the original could NOT be deleted: it returns to the DLQ"
            };
            let level = if r.original_deleted {
                Level::Success
            } else {
                Level::Warn
            };
            app.toast(
                level,
                format!("resent voucher {} to {}; {original}", r.voucher_id, r.queue),
            );
        }
        Err(e) => app.toast(
            Level::Error,
            format!(
                "resend failed: {}; the original stays in the DLQ",
                sanitize(&e.to_string())
            ),
        ),
    }
}

/// The dry-run count of a filter redrive arrived: the confirm dialog says it and can be confirmed.
pub(super) fn on_counted(app: &mut App, result: Result<DlqCount, String>) {
    let Some(Modal::Confirm(confirm)) = app
        .modal
        .as_mut()
        .filter(|m| matches!(m, Modal::Confirm(c) if c.counting))
    else {
        return;
    };
    match result {
        Ok(c) => {
            let held;
            let partial = if c.complete {
                ""
            } else if c.held_back > 0 {
                held = format!(
                    "; {} more wait behind their message groups (FIFO)",
                    c.held_back
                );
                &held
            } else {
                ", the DLQ was not read to its end"
            };
            confirm.counted(format!(
                "Move {} of the {} messages in the DLQ (counted just now{partial})",
                c.matched, c.scanned
            ));
        }
        Err(e) => {
            app.modal = None;
            app.toast(Level::Error, format!("counting failed: {}", sanitize(&e)));
        }
    }
}
