//! An in-process failure log: newest first, bounded.

use async_trait::async_trait;

use super::recent::RecentLog;
use crate::domain::FailureRecord;
use crate::ports::{FailureLog, RequestCounter, Result};

/// The embedded failure log.
#[derive(Debug, Clone)]
pub struct EmbeddedFailureLog {
    log: RecentLog<FailureRecord>,
}

impl EmbeddedFailureLog {
    pub fn new(requests: RequestCounter, table: &str) -> Self {
        EmbeddedFailureLog {
            log: RecentLog::new(requests, table),
        }
    }
}

#[async_trait]
impl FailureLog for EmbeddedFailureLog {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        Ok(self.log.ensure())
    }

    async fn record(&self, records: &[FailureRecord]) -> Result<()> {
        self.log.push(records);
        Ok(())
    }

    async fn recent(&self, limit: usize) -> Result<Vec<FailureRecord>> {
        Ok(self.log.newest(limit, |r| r.at))
    }
}
