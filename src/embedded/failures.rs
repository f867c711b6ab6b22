//! An in-process failure log: newest first, bounded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::domain::FailureRecord;
use crate::ports::{FailureLog, RequestCounter, Result};

/// How many records the embedded log keeps.
pub const CAPACITY: usize = 10_000;

/// The embedded failure log.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedFailureLog {
    records: Arc<Mutex<VecDeque<FailureRecord>>>,
    requests: RequestCounter,
    table: String,
    created: Arc<std::sync::atomic::AtomicBool>,
}

impl EmbeddedFailureLog {
    pub fn new(requests: RequestCounter, table: &str) -> Self {
        EmbeddedFailureLog {
            records: Arc::default(),
            requests,
            table: table.to_string(),
            created: Arc::default(),
        }
    }
}

#[async_trait]
impl FailureLog for EmbeddedFailureLog {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        self.requests.hit("dynamodb:CreateTable");
        let existed = self
            .created
            .swap(true, std::sync::atomic::Ordering::Relaxed);
        Ok((self.table.clone(), !existed))
    }

    async fn record(&self, records: &[FailureRecord]) -> Result<()> {
        self.requests.hit("dynamodb:BatchWriteItem");
        let mut log = self
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for r in records {
            if log.len() == CAPACITY {
                log.pop_back();
            }
            log.push_front(r.clone());
        }
        Ok(())
    }

    async fn recent(&self, limit: usize) -> Result<Vec<FailureRecord>> {
        self.requests.hit("dynamodb:Query");
        let log = self
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out: Vec<FailureRecord> = log.iter().take(limit).cloned().collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.at));
        Ok(out)
    }
}
