//! The producer's idempotency keys and limits, on the embedded backend: a voucher reaches the queue
//! only after its limits were granted, a key resends only an admitted voucher, a reused key with
//! other content is refused, a claim retried after a lost answer is still a new gift, and no lost
//! or duplicated answer lets a key pass its daily cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;
use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::{GiftRequest, KeyUse, Timestamp, Voucher};
use voucherdeck_core::ports::{
    Accepted, AcceptedRow, BackendError, Claim, Persisted, Progress, Quota, Result, VoucherStore,
    WriteToken,
};
use voucherdeck_embedded::{Embedded, EmbeddedStore};
use voucherdeck_pipeline::{GiftError, GiftOptions, Pipeline, PipelineConfig};

/// The embedded store, with a slow quota counter and (optionally) every claim sent twice, as an
/// SDK retry does when the first answer was lost; claims whose answer is lost for good (written,
/// reported failed); counter changes delivered twice.
#[derive(Clone, Default)]
struct Wrapped {
    inner: EmbeddedStore,
    quota_delay: Duration,
    claim_twice: bool,
    lose_claims: Arc<AtomicBool>,
    counters_twice: bool,
}

#[async_trait]
impl VoucherStore for Wrapped {
    async fn ensure_tables(&self) -> Result<Vec<(String, bool)>> {
        self.inner.ensure_tables().await
    }
    async fn persist_vouchers(&self, vouchers: &[Voucher]) -> Result<Vec<Persisted>> {
        self.inner.persist_vouchers(vouchers).await
    }
    async fn get_voucher(&self, id: Uuid) -> Result<Option<Voucher>> {
        self.inner.get_voucher(id).await
    }
    async fn count_vouchers(&self) -> Result<u64> {
        self.inner.count_vouchers().await
    }
    async fn get_persisted(&self, id: Uuid) -> Result<Option<(Voucher, Option<Timestamp>)>> {
        self.inner.get_persisted(id).await
    }
    async fn claim_idempotency_key(&self, record_key: &str, used: &KeyUse) -> Result<Claim> {
        if self.claim_twice {
            // The first answer is lost on the way back; the SDK sends the same request again.
            let _lost = self.inner.claim_idempotency_key(record_key, used).await?;
        }
        let claim = self.inner.claim_idempotency_key(record_key, used).await;
        if self.lose_claims.load(Ordering::SeqCst) {
            return Err(BackendError::Timeout("the answer was lost".into()));
        }
        claim
    }
    async fn idempotency_key(&self, record_key: &str) -> Result<Option<KeyUse>> {
        self.inner.idempotency_key(record_key).await
    }
    async fn take_daily_quota(
        &self,
        subject: &str,
        day: &str,
        limit: u32,
        n: u32,
        token: WriteToken,
    ) -> Result<Quota> {
        tokio::time::sleep(self.quota_delay).await;
        if self.counters_twice {
            let _lost = self
                .inner
                .take_daily_quota(subject, day, limit, n, token)
                .await?;
        }
        self.inner
            .take_daily_quota(subject, day, limit, n, token)
            .await
    }
    async fn return_daily_quota(
        &self,
        subject: &str,
        day: &str,
        n: u32,
        token: WriteToken,
    ) -> Result<()> {
        if self.counters_twice {
            self.inner
                .return_daily_quota(subject, day, n, token)
                .await?;
        }
        self.inner.return_daily_quota(subject, day, n, token).await
    }
    async fn record_accepted(&self, accepted: &[Accepted]) -> Result<()> {
        self.inner.record_accepted(accepted).await
    }
    async fn accepted(&self, id: Uuid) -> Result<Option<AcceptedRow>> {
        self.inner.accepted(id).await
    }
    async fn record_progress(&self, voucher_id: Uuid, progress: &Progress) -> Result<()> {
        self.inner.record_progress(voucher_id, progress).await
    }
}

async fn pipeline(daily_cap: u32, quota_delay: Duration, claim_twice: bool) -> Pipeline {
    let e = Embedded::new(Names::default());
    let store = Wrapped {
        inner: e.store.clone(),
        quota_delay,
        claim_twice,
        ..Wrapped::default()
    };
    pipeline_on(&e, store, daily_cap).await
}

/// A pipeline (a process) on `e`'s engine, through `store`.
async fn pipeline_on(e: &Embedded, store: Wrapped, daily_cap: u32) -> Pipeline {
    let mut backend = e.backend.clone();
    backend.store = Arc::new(store);
    let config = PipelineConfig {
        daily_cap,
        ..PipelineConfig::default()
    };
    let p = Pipeline::new(backend, config);
    p.prepare_embedded().await.expect("prepare");
    p
}

fn gift(key: Option<&str>, amount: &str) -> GiftRequest {
    GiftRequest {
        recipient: "ada@example.com".into(),
        amount: amount.into(),
        sender: "grace".into(),
        idempotency_key: key.map(Into::into),
        ..GiftRequest::default()
    }
}

async fn queued(p: &Pipeline) -> u64 {
    let q = p.queue().await.expect("queue");
    p.backend().queue.stats(&q).await.expect("stats").visible
}

/// At the cap, two concurrent gifts with one key: neither may reach the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_at_the_cap_are_both_refused() {
    let p = pipeline(1, Duration::from_millis(100), false).await;
    p.gift(&gift(None, "1.00"), GiftOptions::default())
        .await
        .expect("the one gift of the day");
    let req = gift(Some("k-1"), "2.00");
    let (a, b) = tokio::join!(p.gift(&req, GiftOptions::default()), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        p.gift(&req, GiftOptions::default()).await
    });
    assert!(matches!(a, Err(GiftError::DailyCap { .. })), "{a:?}");
    assert!(matches!(b, Err(GiftError::DailyCap { .. })), "{b:?}");
    assert_eq!(
        queued(&p).await,
        1,
        "only the gift within the cap is queued"
    );
}

/// At the cap, a keyed gift whose claim the SDK sent twice is refused, not resent unchecked.
#[tokio::test]
async fn a_retried_claim_does_not_skip_the_limits() {
    let p = pipeline(1, Duration::ZERO, true).await;
    p.gift(&gift(None, "1.00"), GiftOptions::default())
        .await
        .expect("the one gift of the day");
    let r = p
        .gift(&gift(Some("k-2"), "2.00"), GiftOptions::default())
        .await;
    assert!(matches!(r, Err(GiftError::DailyCap { .. })), "{r:?}");
    assert_eq!(queued(&p).await, 1);
}

/// A first gift whose claim the SDK sent twice is reported as the new gift it is.
#[tokio::test]
async fn a_retried_claim_is_a_new_gift() {
    let p = pipeline(10, Duration::ZERO, true).await;
    let r = p
        .gift(&gift(Some("k-3"), "2.00"), GiftOptions::default())
        .await
        .expect("gift");
    assert!(!r.duplicate, "a first gift is not a duplicate: {r:?}");
}

/// Giving back leased units at a stop, delivered twice (an SDK retry after a lost answer), gives
/// them back once: a key with a cap of 10 gifts 10 in a day across processes, not 13.
#[tokio::test]
async fn a_give_back_delivered_twice_is_applied_once() {
    let e = Embedded::new(Names::default());
    let store = Wrapped {
        inner: e.store.clone(),
        counters_twice: true,
        ..Wrapped::default()
    };
    let mut gifted = 0;
    for _ in 0..2 {
        // Four gifts lease blocks of 1, 2 and 4: three units go back at the stop.
        let p = pipeline_on(&e, store.clone(), 10).await;
        for i in 0..4 {
            if p.gift(&gift(None, &format!("{i}.50")), GiftOptions::default())
                .await
                .is_ok()
            {
                gifted += 1;
            }
        }
        p.finish_producing().await;
    }
    let last = pipeline_on(&e, store, 10).await;
    while last
        .gift(&gift(None, "1.00"), GiftOptions::default())
        .await
        .is_ok()
    {
        gifted += 1;
        assert!(gifted <= 10, "past the cap");
    }
    assert_eq!(gifted, 10, "exactly the cap");
    assert_eq!(queued(&last).await, 10);
}

/// A claim written but reported failed (its answer lost for good) keeps its unit: the retry with
/// the same key sends the recorded voucher and the cap still counts it, so the day ends at the
/// cap, not one past it.
#[tokio::test]
async fn a_claim_whose_answer_was_lost_still_counts_against_the_cap() {
    let e = Embedded::new(Names::default());
    let store = Wrapped {
        inner: e.store.clone(),
        ..Wrapped::default()
    };
    let lose = store.lose_claims.clone();
    let p = pipeline_on(&e, store, 2).await;
    lose.store(true, Ordering::SeqCst);
    let lost = p
        .gift(&gift(Some("k-lost"), "2.00"), GiftOptions::default())
        .await;
    assert!(matches!(lost, Err(GiftError::Backend(_))), "{lost:?}");
    lose.store(false, Ordering::SeqCst);
    let retry = p
        .gift(&gift(Some("k-lost"), "2.00"), GiftOptions::default())
        .await
        .expect("the retry sends the recorded voucher");
    assert!(retry.duplicate, "{retry:?}");
    p.gift(&gift(None, "3.00"), GiftOptions::default())
        .await
        .expect("the second gift of the day");
    let over = p.gift(&gift(None, "4.00"), GiftOptions::default()).await;
    assert!(matches!(over, Err(GiftError::DailyCap { .. })), "{over:?}");
    assert_eq!(queued(&p).await, 2, "the cap of 2");
}

/// The same key with other content is refused and queues nothing; with the same content it
/// answers the first voucher.
#[tokio::test]
async fn a_reused_key_with_other_content_is_refused() {
    let p = pipeline(10, Duration::ZERO, false).await;
    let first = p
        .gift(&gift(Some("k-4"), "2.00"), GiftOptions::default())
        .await
        .expect("first");
    let again = p
        .gift(&gift(Some("k-4"), "2.00"), GiftOptions::default())
        .await
        .expect("same content");
    assert_eq!(
        (again.voucher_id, again.duplicate),
        (first.voucher_id, true)
    );
    let other = p
        .gift(&gift(Some("k-4"), "3.00"), GiftOptions::default())
        .await;
    let Err(e) = other else {
        panic!("a reused key with another amount must be refused: {other:?}")
    };
    assert!(e.to_string().contains("idempotency key"), "{e}");
    assert_eq!(queued(&p).await, 2, "the first voucher and its resend");
}

/// Fair delivery: a quiet sender's voucher comes in the first receive, not after a noisy
/// sender's backlog (each sender is a message group).
#[tokio::test]
async fn a_quiet_sender_is_not_stuck_behind_a_noisy_backlog() {
    let p = pipeline(0, Duration::ZERO, false).await;
    let noisy: Vec<GiftRequest> = (0..300)
        .map(|i| GiftRequest {
            sender: "noisy".into(),
            ..gift(None, &format!("{}.00", i % 50 + 1))
        })
        .collect();
    let bulk = GiftOptions::bulk();
    for r in p.gift_many(&noisy, bulk).await {
        r.expect("noisy gift");
    }
    let quiet = p
        .gift(
            &GiftRequest {
                sender: "quiet".into(),
                ..gift(None, "5.00")
            },
            GiftOptions::default(),
        )
        .await
        .expect("quiet gift");
    let q = p.queue().await.expect("queue");
    let first = p
        .backend()
        .queue
        .receive(
            &q,
            voucherdeck_core::ports::ReceiveRequest::new(10, Duration::ZERO),
        )
        .await
        .expect("receive");
    assert_eq!(first.len(), 10);
    assert!(
        first
            .iter()
            .any(|m| m.body.contains(&quiet.voucher_id.to_string())),
        "the quiet sender's voucher is in the first batch"
    );
    assert!(
        first
            .iter()
            .all(|m| m.attributes.contains_key("voucherdeck.sender"))
    );
}

/// An index write that fails for a moment (the store throttled, a short outage) is retried: a
/// status read right after the answer finds the queued voucher instead of nothing.
#[tokio::test]
async fn an_index_write_that_fails_for_a_moment_is_retried() {
    let e = Embedded::new(Names::default());
    let store = Wrapped {
        inner: e.store.clone(),
        ..Wrapped::default()
    };
    let p = pipeline_on(&e, store, 0).await;
    e.store
        .simulate_outage(tokio::time::Instant::now() + Duration::from_millis(150));
    let r = p
        .gift(&gift(None, "7.00"), GiftOptions::default())
        .await
        .expect("queued: the queue answers");
    // Read once the store answers again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = p
        .voucher_status(r.voucher_id, None)
        .await
        .expect("read after the outage");
    assert!(
        status.is_some(),
        "the index row was written once the store answered again"
    );
}
