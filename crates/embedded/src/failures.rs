//! An in-process failure log: newest first, bounded.

use async_trait::async_trait;

use super::recent::RecentLog;
use voucherdeck_core::domain::{FailureRecord, Timestamp};
use voucherdeck_core::ports::{FailureLog, RequestCounter, Result};

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

    async fn since(&self, from: Timestamp, limit: usize) -> Result<Vec<FailureRecord>> {
        let mut out = self.log.newest(usize::MAX, |r| r.at);
        out.retain(|r| r.at >= from);
        out.truncate(limit);
        Ok(out)
    }
}
