//! Choosing DLQ messages by body text, failure kind and reason, and counting them over the whole DLQ
//! before acting (a dry run).

use serde::Serialize;

use super::browse::DlqMessage;
use super::session::{DlqProgress, DlqSession};
use crate::services::Pipeline;
use voucherdeck_core::ports::Result;

/// Which DLQ messages: every criterion given must hold (text is matched ignoring case).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DlqFilter {
    /// The body contains this.
    pub text: Option<String>,
    /// The failure kind is this (`not_json`, `schema`, `invalid`, `unavailable`…).
    pub kind: Option<String>,
    /// The failure reason contains this.
    pub reason: Option<String>,
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

impl DlqFilter {
    pub fn is_empty(&self) -> bool {
        self.text.is_none() && self.kind.is_none() && self.reason.is_none()
    }

    pub fn matches(&self, m: &DlqMessage) -> bool {
        let failure = m.failure.as_ref();
        self.text.as_deref().is_none_or(|t| contains(&m.body, t))
            && self
                .kind
                .as_deref()
                .is_none_or(|k| failure.is_some_and(|f| f.kind().eq_ignore_ascii_case(k.trim())))
            && self
                .reason
                .as_deref()
                .is_none_or(|r| failure.is_some_and(|f| contains(&f.reason(), r)))
    }

    /// `body contains "x", kind schema, reason contains "y"`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.text {
            parts.push(format!("body contains {t:?}"));
        }
        if let Some(k) = &self.kind {
            parts.push(format!("kind {k}"));
        }
        if let Some(r) = &self.reason {
            parts.push(format!("reason contains {r:?}"));
        }
        if parts.is_empty() {
            "every message".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A dry run's answer: how many of the messages read match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DlqCount {
    pub matched: u64,
    /// Messages read (the whole DLQ unless `complete` is false).
    pub scanned: u64,
    /// Every message was read (false when the session's cap stopped it, or messages were held
    /// back).
    pub complete: bool,
    /// On a FIFO DLQ, messages the read could not reach: later messages of the groups it held.
    pub held_back: u64,
}

impl Pipeline {
    /// Reads the whole DLQ and counts the messages `filter` takes, then releases them. Each message
    /// is looked at as it is read and its body let go: memory does not grow with the DLQ's bytes.
    /// Changes nothing but receive counts (refused read-only, like every peek).
    pub async fn count_dlq(&self, filter: &DlqFilter) -> Result<DlqCount> {
        let mut session = self.open_dlq_session().await?.with_body_budget(0);
        let count = session.count(filter, &mut |_| {}).await;
        session.release().await;
        count
    }
}

impl DlqSession {
    /// Reads the rest of the DLQ and counts the messages `filter` takes among every message loaded:
    /// new ones as they are read, the ones held before by what the session kept of them. A filter
    /// on body text reads again the messages whose bodies were not kept (their receive counts go
    /// up once more).
    pub async fn count(
        &mut self,
        filter: &DlqFilter,
        progress: &mut (dyn FnMut(DlqProgress) + Send),
    ) -> Result<DlqCount> {
        if filter.text.is_some() {
            self.reread_dropped().await;
        }
        let mut matched = 0u64;
        for held in &self.held {
            matched += u64::from(filter.matches(&self.message(held.clone())));
        }
        self.load_each(usize::MAX, progress, &mut |m| {
            matched += u64::from(filter.matches(m));
            true
        })
        .await?;
        Ok(DlqCount {
            matched,
            scanned: self.loaded() as u64,
            complete: self.complete(),
            held_back: self.held_back(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DlqFailure, FailureAttributes};

    fn msg(body: &str, kind: &str, reason: &str) -> DlqMessage {
        DlqMessage {
            message_id: "m".into(),
            body: body.into(),
            attributes: std::collections::BTreeMap::new(),
            receive_count: 1,
            sent_at: None,
            failure: Some(DlqFailure::Attributes(FailureAttributes {
                kind: kind.into(),
                reason: reason.into(),
                worker: None,
                first_seen: None,
                source_queue: None,
            })),
            body_dropped: false,
            group: None,
        }
    }

    #[test]
    fn every_given_criterion_must_hold() {
        let m = msg(
            r#"{"sender":"Mallory"}"#,
            "invalid",
            "amount must be at most 1000",
        );
        let f = |text: Option<&str>, kind: Option<&str>, reason: Option<&str>| DlqFilter {
            text: text.map(Into::into),
            kind: kind.map(Into::into),
            reason: reason.map(Into::into),
        };
        assert!(f(None, None, None).matches(&m));
        assert!(f(Some("mallory"), Some("INVALID"), Some("at most")).matches(&m));
        assert!(!f(Some("mallory"), Some("schema"), None).matches(&m));
        assert!(!f(None, None, Some("timeout")).matches(&m));
        let mut bare = m.clone();
        bare.failure = None;
        assert!(
            !f(None, Some("invalid"), None).matches(&bare),
            "no known kind"
        );
        assert_eq!(
            f(Some("x"), Some("schema"), None).describe(),
            "body contains \"x\", kind schema"
        );
    }
}
