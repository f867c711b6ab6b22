//! Redrive from the DLQ browser: the chosen messages go with the receipts its session holds.

use super::handle::RedriveHandle;
use super::held::Chosen;
use super::request::{RedriveRequest, RedriveScope};
use crate::dlq::DlqSession;

impl DlqSession {
    /// Starts a redrive from the browser. Chosen messages (`RedriveScope::Ids`) are redriven with
    /// this session's receipts and leave it (the others stay held); the other scopes walk the whole
    /// DLQ, so the session releases what it holds first. So do chosen messages whose bodies the
    /// session did not keep (past its budget): the redrive reads them again itself. Refused
    /// read-only; audited.
    pub async fn start_redrive(&mut self, req: RedriveRequest) -> RedriveHandle {
        if let RedriveScope::Ids(ids) = &req.scope
            && self.all_whole(ids)
        {
            let chosen = Chosen {
                dlq: self.queue().clone(),
                messages: self.take_held(ids),
            };
            return self.pipeline().spawn_redrive(req, Some(chosen));
        }
        self.release().await;
        self.pipeline().start_redrive(req)
    }
}
