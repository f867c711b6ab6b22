//! A bounded in-process log, newest first: the embedded failure log and audit log.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use voucherdeck_core::ports::RequestCounter;

/// How many entries a log keeps before it forgets the oldest.
const CAPACITY: usize = 10_000;

/// One log "table": its entries, its name and whether it was created.
#[derive(Debug, Clone)]
pub(crate) struct RecentLog<T> {
    entries: Arc<Mutex<VecDeque<T>>>,
    requests: RequestCounter,
    table: String,
    created: Arc<AtomicBool>,
}

impl<T: Clone> RecentLog<T> {
    pub(crate) fn new(requests: RequestCounter, table: &str) -> Self {
        RecentLog {
            entries: Arc::default(),
            requests,
            table: table.to_string(),
            created: Arc::default(),
        }
    }

    /// "Creates" the table: returns (table, created now).
    pub(crate) fn ensure(&self) -> (String, bool) {
        self.requests.hit("dynamodb:CreateTable");
        let existed = self.created.swap(true, Ordering::Relaxed);
        (self.table.clone(), !existed)
    }

    pub(crate) fn push(&self, new: &[T]) {
        self.requests.hit("dynamodb:BatchWriteItem");
        let mut log = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for e in new {
            if log.len() == CAPACITY {
                log.pop_back();
            }
            log.push_front(e.clone());
        }
    }

    /// The newest `limit` entries, newest first by `key`.
    pub(crate) fn newest<K: Ord>(&self, limit: usize, key: impl Fn(&T) -> K) -> Vec<T> {
        self.requests.hit("dynamodb:Query");
        let log = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<T> = log.iter().take(limit).cloned().collect();
        out.sort_by_key(|e| std::cmp::Reverse(key(e)));
        out
    }
}
