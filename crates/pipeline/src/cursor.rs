//! Reading a day-partitioned log (failures, audit) within the polling budget: the last day the first
//! time (today's and yesterday's partitions, two queries on DynamoDB), then only what is newer than
//! the previous read, less an overlap for records written late (one query). Readers merge by id.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use voucherdeck_core::domain::Timestamp;

/// Records written this long before a read may still be missing from it (workers' clocks differ,
/// and they write in batches): each read after the first starts this much before the previous one.
const OVERLAP: Duration = Duration::from_mins(1);
/// How far back the first read looks.
const FIRST_READ: Duration = Duration::from_hours(24);

/// Where the next read of a log starts: nothing read yet, or a time.
#[derive(Debug, Clone, Default)]
pub(super) struct ReadCursor(Arc<Mutex<Option<Timestamp>>>);

impl ReadCursor {
    /// Where a read that starts at `now` begins.
    pub(super) fn from(&self, now: Timestamp) -> Timestamp {
        let last = *self.0.lock().unwrap_or_else(PoisonError::into_inner);
        last.unwrap_or_else(|| now.minus(FIRST_READ))
    }

    /// A read that started at `started` succeeded: the next begins a little before it.
    pub(super) fn advance(&self, started: Timestamp) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(started.minus(OVERLAP));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_first_then_since_the_last_read_less_the_overlap() {
        let c = ReadCursor::default();
        let now = Timestamp(100_000_000);
        assert_eq!(c.from(now), now.minus(FIRST_READ));
        c.advance(now);
        assert_eq!(
            c.from(now.plus(Duration::from_secs(10))),
            now.minus(OVERLAP)
        );
    }
}
