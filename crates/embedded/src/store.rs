//! An in-process voucher store with conditional puts and counters, and a switch that simulates an outage.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use tokio::time::Instant;
use uuid::Uuid;

use voucherdeck_core::domain::{KeyUse, Timestamp, Voucher, decide_persist};
use voucherdeck_core::ports::{
    Accepted, AcceptedRow, BackendError, Claim, DYNAMO_BATCH_GET_MAX, DYNAMO_BATCH_MAX, Persisted,
    Progress, Quota, RequestCounter, Result, VoucherStore, WriteToken,
};

/// A daily quota counter: units handed out, and per writer the last mutation applied (its `seq`
/// and the units it moved), as the DynamoDB counter's condition keeps them.
#[derive(Debug, Default)]
struct Counter {
    used: u32,
    applied: HashMap<Uuid, (u64, u32)>,
}

impl Counter {
    /// The units moved by `token` if it (or a later mutation of its writer) was applied before.
    fn applied_before(&self, token: WriteToken) -> Option<u32> {
        self.applied
            .get(&token.writer)
            .filter(|(seq, _)| *seq >= token.seq)
            .map(|(_, units)| *units)
    }
}

#[derive(Debug, Default)]
struct Tables {
    created: bool,
    /// Each voucher with its content hash and when it was persisted, as DynamoDB keeps them.
    vouchers: HashMap<Uuid, (Voucher, String, Timestamp)>,
    claims: HashMap<String, KeyUse>,
    quotas: HashMap<(String, String), Counter>,
    accepted: HashMap<Uuid, Accepted>,
    progress: HashMap<Uuid, Progress>,
}

/// The embedded voucher store.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedStore {
    tables: Arc<Mutex<Tables>>,
    outage_until: Arc<Mutex<Option<Instant>>>,
    /// Extra time every write takes (a slow store).
    write_delay: Arc<Mutex<std::time::Duration>>,
    requests: RequestCounter,
    /// (voucher table, quota table)
    tables_named: (String, String),
}

impl EmbeddedStore {
    pub fn new(requests: RequestCounter, table: &str, quota_table: &str) -> Self {
        EmbeddedStore {
            requests,
            tables_named: (table.to_string(), quota_table.to_string()),
            ..Self::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes every call fail as `Unavailable` until `until`.
    pub fn simulate_outage(&self, until: Instant) {
        *self
            .outage_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(until);
    }

    /// The outage switch demo traffic is given: `simulate_outage` on a handle to this store.
    pub fn outage_switch(&self) -> impl Fn(Instant) + Send + 'static {
        let store = self.clone();
        move |until| store.simulate_outage(until)
    }

    /// Makes every voucher write take `delay` longer (a slow store).
    pub fn simulate_slow_writes(&self, delay: std::time::Duration) {
        *self
            .write_delay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = delay;
    }

    fn check(&self) -> Result<()> {
        let guard = self
            .outage_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match *guard {
            Some(until) if Instant::now() < until => Err(BackendError::Unavailable(
                "voucher store is not answering (simulated outage)".into(),
            )),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl VoucherStore for EmbeddedStore {
    async fn ensure_tables(&self) -> Result<Vec<(String, bool)>> {
        self.requests.hit("dynamodb:CreateTable");
        let mut t = self.lock();
        let created = !t.created;
        t.created = true;
        Ok(vec![
            (self.tables_named.0.clone(), created),
            (self.tables_named.1.clone(), created),
        ])
    }

    /// Atomic here (one lock), so even two workers racing on one fresh id cannot overwrite each
    /// other; requests are counted as on DynamoDB (reads per 100 ids, writes per 25 created).
    async fn persist_vouchers(&self, vouchers: &[Voucher]) -> Result<Vec<Persisted>> {
        if vouchers.is_empty() {
            return Ok(Vec::new());
        }
        for _ in vouchers.chunks(DYNAMO_BATCH_GET_MAX) {
            self.requests.hit("dynamodb:BatchGetItem");
        }
        self.check()?;
        let delay = *self
            .write_delay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.check()?;
        let mut t = self.lock();
        let now = Timestamp::now();
        let (outcomes, to_write) =
            decide_persist(vouchers, |id| t.vouchers.get(id).map(|(_, h, _)| h.clone()));
        for _ in to_write.chunks(DYNAMO_BATCH_MAX) {
            self.requests.hit("dynamodb:BatchWriteItem");
        }
        for i in to_write {
            let v = &vouchers[i];
            t.vouchers
                .insert(v.voucher_id, (v.clone(), v.content_hash(), now));
        }
        Ok(outcomes)
    }

    async fn get_voucher(&self, id: Uuid) -> Result<Option<Voucher>> {
        self.requests.hit("dynamodb:GetItem");
        self.check()?;
        Ok(self.lock().vouchers.get(&id).map(|(v, _, _)| v.clone()))
    }

    async fn get_persisted(&self, id: Uuid) -> Result<Option<(Voucher, Option<Timestamp>)>> {
        self.requests.hit("dynamodb:GetItem");
        self.check()?;
        Ok(self
            .lock()
            .vouchers
            .get(&id)
            .map(|(v, _, at)| (v.clone(), Some(*at))))
    }

    async fn count_vouchers(&self) -> Result<u64> {
        self.requests.hit("dynamodb:Scan");
        self.check()?;
        Ok(self.lock().vouchers.len() as u64)
    }

    async fn claim_idempotency_key(&self, record_key: &str, used: &KeyUse) -> Result<Claim> {
        self.requests.hit("dynamodb:PutItem");
        self.check()?;
        let mut t = self.lock();
        if let Some(existing) = t.claims.get(record_key) {
            return Ok(Claim::Existing(Box::new(existing.clone())));
        }
        t.claims.insert(record_key.to_string(), used.clone());
        Ok(Claim::New)
    }

    async fn idempotency_key(&self, record_key: &str) -> Result<Option<KeyUse>> {
        self.requests.hit("dynamodb:GetItem");
        self.check()?;
        Ok(self.lock().claims.get(record_key).cloned())
    }

    async fn take_daily_quota(
        &self,
        subject: &str,
        day: &str,
        limit: u32,
        n: u32,
        token: WriteToken,
    ) -> Result<Quota> {
        self.requests.hit("dynamodb:UpdateItem");
        self.check()?;
        let mut t = self.lock();
        let counter = t
            .quotas
            .entry((subject.to_string(), day.to_string()))
            .or_default();
        if let Some(granted) = counter.applied_before(token) {
            return Ok(Quota::Granted {
                granted,
                used: counter.used,
            });
        }
        let granted = n.min(limit.saturating_sub(counter.used));
        if granted == 0 {
            return Ok(Quota::Exhausted { limit });
        }
        counter.used += granted;
        counter.applied.insert(token.writer, (token.seq, granted));
        Ok(Quota::Granted {
            granted,
            used: counter.used,
        })
    }

    async fn return_daily_quota(
        &self,
        subject: &str,
        day: &str,
        n: u32,
        token: WriteToken,
    ) -> Result<()> {
        self.requests.hit("dynamodb:UpdateItem");
        self.check()?;
        let mut t = self.lock();
        if let Some(counter) = t.quotas.get_mut(&(subject.to_string(), day.to_string()))
            && counter.used >= n
            && counter.applied_before(token).is_none()
        {
            counter.used -= n;
            counter.applied.insert(token.writer, (token.seq, n));
        }
        Ok(())
    }

    async fn record_accepted(&self, accepted: &[Accepted]) -> Result<()> {
        for chunk in accepted.chunks(DYNAMO_BATCH_MAX) {
            self.requests.hit("dynamodb:BatchWriteItem");
            self.check()?;
            let mut t = self.lock();
            for a in chunk {
                t.accepted.insert(a.voucher_id, a.clone());
            }
        }
        Ok(())
    }

    async fn accepted(&self, id: Uuid) -> Result<Option<AcceptedRow>> {
        self.requests.hit("dynamodb:GetItem");
        self.check()?;
        let t = self.lock();
        Ok(t.accepted.get(&id).map(|accepted| AcceptedRow {
            accepted: accepted.clone(),
            progress: t.progress.get(&id).cloned(),
        }))
    }

    async fn record_progress(&self, voucher_id: Uuid, progress: &Progress) -> Result<()> {
        self.requests.hit("dynamodb:UpdateItem");
        self.check()?;
        let mut t = self.lock();
        if !t.accepted.contains_key(&voucher_id) {
            return Ok(());
        }
        let older = t
            .progress
            .get(&voucher_id)
            .is_none_or(|p| p.at <= progress.at);
        if older {
            t.progress.insert(voucher_id, progress.clone());
        }
        Ok(())
    }
}
