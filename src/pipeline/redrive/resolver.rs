//! Where each DLQ message goes back to.

use std::collections::HashMap;

use crate::pipeline::dlq::attributes as attr;
use crate::pipeline::services::Pipeline;
use crate::ports::{BackendError, QueueRef, ReceivedMessage};

/// Finds where a DLQ message goes back to.
pub(super) struct Resolver<'a> {
    pipeline: &'a Pipeline,
    dlq: &'a QueueRef,
    fixed: Option<QueueRef>,
    cache: HashMap<String, QueueRef>,
    /// The DLQ's source queues, asked once per redrive (only if a message lacks its source).
    sources: Option<Vec<QueueRef>>,
}

impl<'a> Resolver<'a> {
    /// Sends everything to `fixed` when given; else each message back to its source.
    pub(super) fn new(pipeline: &'a Pipeline, dlq: &'a QueueRef, fixed: Option<QueueRef>) -> Self {
        Resolver {
            pipeline,
            dlq,
            fixed,
            cache: HashMap::new(),
            sources: None,
        }
    }

    /// The queue this message goes to: the fixed destination, the source queue it names, or the
    /// DLQ's only source queue.
    pub(super) async fn destination(
        &mut self,
        m: &ReceivedMessage,
    ) -> Result<QueueRef, BackendError> {
        if let Some(q) = &self.fixed {
            return Ok(q.clone());
        }
        let name = if let Some(n) = m.attributes.get(attr::SOURCE_QUEUE) {
            n.clone()
        } else {
            if self.sources.is_none() {
                let listed = self
                    .pipeline
                    .backend()
                    .queue
                    .dead_letter_sources(self.dlq)
                    .await?;
                self.sources = Some(listed);
            }
            match self.sources.as_deref().unwrap_or_default() {
                [one] => one.name.clone(),
                [] => {
                    return Err(BackendError::Invalid(
                        "no queue names this DLQ; give a destination".into(),
                    ));
                }
                _ => {
                    return Err(BackendError::Invalid(
                        "several queues use this DLQ and the message does not say which; give a destination".into(),
                    ));
                }
            }
        };
        if let Some(q) = self.cache.get(&name) {
            return Ok(q.clone());
        }
        let q = self.pipeline.open_queue(&name).await?;
        self.cache.insert(name, q.clone());
        Ok(q)
    }
}
