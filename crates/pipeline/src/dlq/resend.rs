//! Edit and resend: a dead-lettered message, corrected by a person, checked with the same rules as a
//! gift and sent as a new message to the queue it came from; the original is deleted only after the
//! send succeeded. The voucher keeps its id (and creation time) when the body had one, so the
//! consumer still stores it once.

use serde::Serialize;
use uuid::Uuid;

use super::attributes::without_diagnosis;
use super::resolver::Resolver;
use super::session::DlqSession;
use crate::ordering::edit_dedup;
use crate::producer::GiftError;
use voucherdeck_core::domain::limits::group_id_of;
use voucherdeck_core::domain::{
    AuditAction, AuditOutcome, GiftRequest, OperatorNote, Timestamp, Voucher, encode, salvage,
    validate,
};
use voucherdeck_core::ports::{BackendError, OutgoingMessage};

/// What a resend did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResendReceipt {
    /// The original message (gone from the DLQ when `original_deleted`).
    pub message_id: String,
    pub voucher_id: Uuid,
    /// Where the new message went.
    pub queue: String,
    /// False when the send succeeded but the delete did not: the original comes back to the DLQ
    /// after its hold (a duplicate to delete, never a loss).
    pub original_deleted: bool,
}

impl DlqSession {
    /// The gift a loaded message carries, for a person to correct (and its voucher id, kept);
    /// `None` when it is not loaded, or its body was not kept.
    pub fn salvage(&self, message_id: &str) -> Option<GiftRequest> {
        self.whole(message_id).map(|m| salvage(&m.body).gift)
    }

    /// Sends the corrected gift of a loaded message to its source queue as a new message, then
    /// deletes the original. Checked like a gift; refused read-only; audited.
    pub async fn resend(
        &mut self,
        message_id: &str,
        gift: &GiftRequest,
        note: Option<&OperatorNote>,
    ) -> Result<ResendReceipt, GiftError> {
        let p = self.pipeline.clone();
        let target = format!("{} {message_id}", p.backend().names.dlq);
        p.guard_noted(AuditAction::DlqResend, &target, note)
            .await
            .map_err(|_| GiftError::ReadOnly)?;
        let valid = match validate(gift, &p.config().limits) {
            Ok(v) => v,
            Err(errors) => {
                let entry = p
                    .audit_entry(AuditAction::DlqResend, &target, 0, AuditOutcome::Refused)
                    .await
                    .with_detail(errors.to_string())
                    .with_note(note);
                p.audit(entry).await;
                return Err(GiftError::Invalid(errors));
            }
        };
        let result = self.send_then_delete(message_id, valid).await;
        p.audit_result_noted(AuditAction::DlqResend, &target, note, &result, |r| {
            let kept = if r.original_deleted {
                ""
            } else {
                "; the original was not deleted"
            };
            (
                1,
                format!("voucher {} resent to {}{kept}", r.voucher_id, r.queue),
            )
        })
        .await;
        result.map_err(GiftError::Backend)
    }

    async fn send_then_delete(
        &mut self,
        message_id: &str,
        valid: voucherdeck_core::domain::ValidGift,
    ) -> Result<ResendReceipt, BackendError> {
        let original = self.whole(message_id).cloned().ok_or_else(|| {
            BackendError::NotFound(format!(
                "message {message_id} is not loaded from the DLQ with its body (load its page \
                 first; past the browser's body budget, `voucherdeck dlq resend {message_id}`)"
            ))
        })?;
        let found = salvage(&original.body);
        let voucher = Voucher::with_id(
            found.voucher_id.unwrap_or_else(Uuid::now_v7),
            valid,
            found.created_at.unwrap_or_else(Timestamp::now),
        );
        // The attribute naming the source is only trusted among the DLQ's sources.
        let dest = Resolver::new(&self.pipeline, &self.dlq, None)
            .destination(&original)
            .await?;
        let body = encode(&voucher);
        let dedup = edit_dedup(&original, &body);
        let sent = self
            .pipeline
            .backend()
            .queue
            .send_batch(
                &dest,
                &[OutgoingMessage {
                    id: "0".into(),
                    body,
                    attributes: without_diagnosis(&original.attributes),
                    delay: None,
                    // As the producer sends it: one sender's gifts share a group.
                    group: Some(group_id_of(&voucher.sender)),
                    dedup: Some(dedup),
                }],
            )
            .await?;
        if let Some(f) = sent.failed.first() {
            return Err(BackendError::Other(format!(
                "{}: the send was refused ({}: {}); the original stays in the DLQ",
                dest.name, f.code, f.message
            )));
        }
        let deleted = self
            .pipeline
            .backend()
            .queue
            .delete_batch(&self.dlq, &[original.receipt_entry(0)])
            .await
            .is_ok_and(|out| out.failed.is_empty());
        if deleted {
            self.forget(&[message_id.to_string()]);
        }
        Ok(ResendReceipt {
            message_id: message_id.to_string(),
            voucher_id: voucher.voucher_id,
            queue: dest.name,
            original_deleted: deleted,
        })
    }
}
