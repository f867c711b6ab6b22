//! Counting backend requests by operation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Counts backend requests by operation, for benchmarks and the dashboard.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    total: Arc<AtomicU64>,
    by_op: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

impl RequestCounter {
    pub fn hit(&self, op: &'static str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.by_op.lock() {
            *m.entry(op).or_default() += 1;
        }
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub fn by_op(&self) -> BTreeMap<&'static str, u64> {
        self.by_op.lock().map(|m| m.clone()).unwrap_or_default()
    }
}
