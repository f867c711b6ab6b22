//! Daily caps without a DynamoDB write per gift: a process leases units of a subject's daily
//! quota in blocks from the shared conditional counter and hands them out locally. The counter
//! never passes the cap, so the cap is exact across any number of processes. A block grows while
//! units go fast (up to `QUOTA_LEASE_MAX`) and shrinks when they go slowly. Units left at a clean
//! shutdown are given back; a process that dies holding some loses them for the day (an
//! under-gift of at most one block per subject, never an over-gift).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use uuid::Uuid;
use voucherdeck_core::domain::limits::QUOTA_LEASE_MAX;
use voucherdeck_core::ports::{Quota, Result, VoucherStore, WriteToken};

/// A block that lasted less than this makes the next one twice as large.
const FAST: Duration = Duration::from_secs(5);
/// How long a spent cap is believed without asking again (units given back by a server that
/// stopped become usable after this).
const EXHAUSTED_FOR: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Lease {
    day: String,
    remaining: u32,
    next_block: u32,
    taken_at: Option<Instant>,
    exhausted_at: Option<Instant>,
}

impl Lease {
    fn new(day: &str) -> Lease {
        Lease {
            day: day.to_string(),
            remaining: 0,
            next_block: 1,
            taken_at: None,
            exhausted_at: None,
        }
    }
}

/// The leases this process holds, by subject. Every change of a shared counter carries this
/// process's token, so a retried or duplicated request is applied once.
#[derive(Debug)]
pub(crate) struct QuotaLeases {
    leases: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Lease>>>>,
    writer: Uuid,
    seq: AtomicU64,
}

impl Default for QuotaLeases {
    fn default() -> Self {
        QuotaLeases {
            leases: Mutex::default(),
            writer: Uuid::new_v4(),
            seq: AtomicU64::new(0),
        }
    }
}

/// Whether a unit was had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Granted,
    Exhausted,
}

impl QuotaLeases {
    /// The token of a new mutation (taken while its lease is locked, so one counter sees this
    /// writer's tokens in order).
    fn token(&self) -> WriteToken {
        WriteToken {
            writer: self.writer,
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
        }
    }

    fn lease(&self, subject: &str, day: &str) -> Arc<tokio::sync::Mutex<Lease>> {
        let mut map = self.leases.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(subject.to_string())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Lease::new(day))))
            .clone()
    }

    /// Takes one unit of `subject`'s cap of `limit` for `day`, leasing a block when none is left.
    pub(crate) async fn take(
        &self,
        store: &dyn VoucherStore,
        subject: &str,
        day: &str,
        limit: u32,
    ) -> Result<Unit> {
        let lease = self.lease(subject, day);
        let mut lease = lease.lock().await;
        if lease.day != day {
            *lease = Lease::new(day);
        }
        if lease.remaining == 0 {
            let now = Instant::now();
            if lease
                .exhausted_at
                .is_some_and(|t| now.duration_since(t) < EXHAUSTED_FOR)
            {
                return Ok(Unit::Exhausted);
            }
            let fast = lease.taken_at.is_some_and(|t| now.duration_since(t) < FAST);
            let block = if fast {
                lease.next_block.saturating_mul(2)
            } else {
                lease.next_block / 2
            }
            .clamp(1, QUOTA_LEASE_MAX);
            match store
                .take_daily_quota(subject, day, limit, block, self.token())
                .await?
            {
                Quota::Granted { granted, .. } => {
                    lease.remaining = granted;
                    lease.next_block = block;
                    lease.taken_at = Some(now);
                }
                Quota::Exhausted { .. } => {
                    lease.exhausted_at = Some(now);
                    return Ok(Unit::Exhausted);
                }
            }
        }
        lease.remaining -= 1;
        Ok(Unit::Granted)
    }

    /// Gives back a unit taken for a gift that was not sent (a duplicate found after the take).
    pub(crate) async fn give_back(&self, subject: &str, day: &str) {
        let lease = self.lease(subject, day);
        let mut lease = lease.lock().await;
        if lease.day == day {
            lease.remaining += 1;
            lease.exhausted_at = None;
        }
    }

    /// Returns every unused unit to the shared counters (a clean shutdown).
    pub(crate) async fn return_all(&self, store: &dyn VoucherStore) {
        let leases: Vec<(String, Arc<tokio::sync::Mutex<Lease>>)> = {
            let map = self.leases.lock().unwrap_or_else(PoisonError::into_inner);
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        for (subject, lease) in leases {
            let mut lease = lease.lock().await;
            if lease.remaining == 0 {
                continue;
            }
            match store
                .return_daily_quota(&subject, &lease.day, lease.remaining, self.token())
                .await
            {
                Ok(()) => lease.remaining = 0,
                Err(e) => {
                    tracing::warn!(subject, error = %e, "could not give back leased quota");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::ports::RequestCounter;
    use voucherdeck_embedded::EmbeddedStore;

    #[tokio::test]
    async fn two_processes_never_pass_the_cap_and_give_back_what_they_keep() {
        let requests = RequestCounter::default();
        let store = EmbeddedStore::new(requests.clone(), "v", "q");
        let (a, b) = (QuotaLeases::default(), QuotaLeases::default());
        let mut granted = 0;
        for i in 0..100 {
            let leases = if i % 3 == 0 { &a } else { &b };
            if leases.take(&store, "k", "d", 40).await.expect("take") == Unit::Granted {
                granted += 1;
            }
        }
        assert_eq!(granted, 40, "exactly the cap");
        assert!(
            requests
                .by_op()
                .get("dynamodb:UpdateItem")
                .copied()
                .unwrap_or(0)
                < 20,
            "leased in blocks: {:?}",
            requests.by_op()
        );
        a.return_all(&store).await;
        b.return_all(&store).await;
        // Nothing was left unused at the cap; a fresh process may have none.
        let c = QuotaLeases::default();
        assert_eq!(
            c.take(&store, "k", "d", 40).await.expect("take"),
            Unit::Exhausted
        );
    }

    #[tokio::test]
    async fn unused_units_go_back_on_return() {
        let store = EmbeddedStore::new(RequestCounter::default(), "v", "q");
        let a = QuotaLeases::default();
        for _ in 0..3 {
            a.take(&store, "k", "d", 10).await.expect("take");
        }
        a.return_all(&store).await;
        let b = QuotaLeases::default();
        let mut n = 0;
        while b.take(&store, "k", "d", 10).await.expect("take") == Unit::Granted {
            n += 1;
        }
        assert_eq!(n, 7, "3 used, 7 left for another process");
    }
}
