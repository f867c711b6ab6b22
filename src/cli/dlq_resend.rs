//! `voucherdeck dlq resend MESSAGE_ID [--file FILE]`: find the message in the DLQ, correct its gift
//! (in the editor, or from a file), check it like a gift, send it to its source queue as a new
//! message, and only then delete the original.

use super::out::outln;
use std::io::Read;

use super::args::ResendArgs;
use super::error::CliError;
use voucherdeck_core::domain::GiftRequest;
use voucherdeck_core::domain::text::sanitize;
use voucherdeck_pipeline::{DlqSession, GiftError, Pipeline};

/// Loads the DLQ page by page until the message is held; false when the DLQ ends first.
async fn find(session: &mut DlqSession, id: &str) -> Result<bool, CliError> {
    session.keep_body_of(id);
    loop {
        if session.salvage(id).is_some() {
            return Ok(true);
        }
        if session.exhausted() {
            return Ok(false);
        }
        session.load(100, &mut |_| {}).await?;
    }
}

/// The corrected gift: from the file, or edited from what the message carries.
fn corrected(args: &ResendArgs, found: &GiftRequest) -> Result<GiftRequest, CliError> {
    let text = match &args.file {
        Some(path) if path.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| CliError::Usage(format!("cannot read standard input: {e}")))?;
            s
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?,
        None => {
            let initial =
                serde_json::to_string_pretty(found).map_err(|e| CliError::Failed(e.to_string()))?;
            voucherdeck_tui::editor::edit(&format!("{initial}\n"), "json")
                .map_err(CliError::Failed)?
                .ok_or_else(|| {
                    CliError::Usage("no editor: set $VISUAL or $EDITOR, or give --file".into())
                })?
        }
    };
    serde_json::from_str(&text).map_err(|e| {
        CliError::Usage(format!(
            "not a gift: {e} (fields: recipient, amount, currency, sender, note)"
        ))
    })
}

pub async fn resend(p: &Pipeline, args: &ResendArgs) -> Result<(), CliError> {
    let mut session = p.open_dlq_session().await?;
    let outcome = async {
        if !find(&mut session, &args.message_id).await? {
            return Err(CliError::Usage(format!(
                "message {} is not in {} (or is hidden by someone else's receive)",
                sanitize(&args.message_id),
                p.backend().names.dlq
            )));
        }
        let found = session.salvage(&args.message_id).unwrap_or_default();
        let gift = corrected(args, &found)?;
        session
            .resend(&args.message_id, &gift, args.note.as_ref())
            .await
            .map_err(|e| match e {
                GiftError::Invalid(errors) => CliError::Usage(format!("invalid gift: {errors}")),
                GiftError::Backend(b) | GiftError::Unknown(b) => CliError::Backend(b),
                other => CliError::Failed(other.to_string()),
            })
    }
    .await;
    session.release().await;
    let receipt = outcome?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&receipt).map_err(|e| CliError::Failed(e.to_string()))?
        )?;
    } else {
        outln!(
            "resent voucher {} to {}; original {}",
            receipt.voucher_id,
            receipt.queue,
            if receipt.original_deleted {
                "deleted from the DLQ"
            } else {
                "NOT deleted (it returns to the DLQ: delete it there)"
            }
        )?;
    }
    Ok(())
}
