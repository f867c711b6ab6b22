//! Where each DLQ message goes back to: a queue this DLQ serves, never one a message names for
//! itself. The `voucherdeck.source_queue` attribute is text anyone who can send to the DLQ can
//! write, so it only chooses among the DLQ's known source queues and the configured queue.

use std::collections::HashMap;

use super::attributes as attr;
use crate::services::Pipeline;
use voucherdeck_core::ports::{BackendError, QueueRef, ReceivedMessage};

/// Finds where a DLQ message goes back to.
pub(crate) struct Resolver<'a> {
    pipeline: &'a Pipeline,
    dlq: &'a QueueRef,
    fixed: Option<QueueRef>,
    cache: HashMap<String, QueueRef>,
    /// The DLQ's source queues as the service lists them, asked once per redrive.
    listed: Listed,
}

/// What the service said of the DLQ's source queues.
enum Listed {
    NotAsked,
    /// The endpoint cannot list them.
    Unknown,
    Names(Vec<String>),
}

impl<'a> Resolver<'a> {
    /// Sends everything to `fixed` when given; else each message back to its source.
    pub(crate) fn new(pipeline: &'a Pipeline, dlq: &'a QueueRef, fixed: Option<QueueRef>) -> Self {
        Resolver {
            pipeline,
            dlq,
            fixed,
            cache: HashMap::new(),
            listed: Listed::NotAsked,
        }
    }

    /// The queue this message goes to: the fixed destination; else the source queue it names, if
    /// that is one of the DLQ's source queues or the configured queue; else the DLQ's only source
    /// queue (the configured queue when the endpoint cannot list them).
    pub(crate) async fn destination(
        &mut self,
        m: &ReceivedMessage,
    ) -> Result<QueueRef, BackendError> {
        if let Some(q) = &self.fixed {
            return Ok(q.clone());
        }
        let configured = self.pipeline.backend().names.queue.clone();
        let listed = self.listed().await?;
        let name = match m.attributes.get(attr::SOURCE_QUEUE) {
            Some(n) if *n == configured || listed.is_some_and(|l| l.contains(n)) => n.clone(),
            Some(n) => {
                return Err(BackendError::Invalid(format!(
                    "the message names {n:?} as its source queue, which is neither a source of {} \
                     nor the configured queue {configured}; give a destination to redrive it",
                    self.dlq.name
                )));
            }
            None => match listed {
                Some([one]) => one.clone(),
                None | Some([]) => configured,
                Some(_) => {
                    return Err(BackendError::Invalid(
                        "several queues use this DLQ and the message does not say which; give a destination".into(),
                    ));
                }
            },
        };
        if let Some(q) = self.cache.get(&name) {
            return Ok(q.clone());
        }
        let q = self.pipeline.open_queue(&name).await?;
        self.cache.insert(name, q.clone());
        Ok(q)
    }

    /// The DLQ's source queues, asked once; `None` where the endpoint cannot list them.
    async fn listed(&mut self) -> Result<Option<&[String]>, BackendError> {
        if matches!(self.listed, Listed::NotAsked) {
            self.listed = match dead_letter_sources(self.pipeline, self.dlq).await? {
                Some(l) => Listed::Names(l.into_iter().map(|q| q.name).collect()),
                None => Listed::Unknown,
            };
        }
        Ok(match &self.listed {
            Listed::Names(names) => Some(names.as_slice()),
            Listed::NotAsked | Listed::Unknown => None,
        })
    }
}

/// The DLQ's source queues; `None` (said once) where the endpoint lacks the operation.
pub(crate) async fn dead_letter_sources(
    p: &Pipeline,
    dlq: &QueueRef,
) -> Result<Option<Vec<QueueRef>>, BackendError> {
    match p.backend().queue.dead_letter_sources(dlq).await {
        Ok(sources) => Ok(Some(sources)),
        Err(BackendError::Unsupported(why)) => {
            p.say_once(
                "ListDeadLetterSourceQueues",
                &format!(
                    "this endpoint cannot list a DLQ's source queues ({why}); redrive sends messages \
                     back to the configured queue {}",
                    p.backend().names.queue
                ),
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
