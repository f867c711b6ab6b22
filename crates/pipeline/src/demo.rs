//! Demo traffic for the embedded backend: a steady trickle of gifts, a small share of poison messages
//! (sent in bursts, as a misbehaving client does), and an occasional simulated store outage, so every
//! pane of the dashboard comes alive within seconds and the alarms fire and clear.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::producer::GiftOptions;
use super::services::Pipeline;
use voucherdeck_core::domain::GiftRequest;
use voucherdeck_core::ports::{OutgoingMessage, SQS_BATCH_MAX};

/// How much demo traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoConfig {
    pub gifts_per_second: f64,
    /// Share of messages that are poison (0..1).
    pub poison_share: f64,
    /// Poison is held back and sent together this often (a burst, not a trickle).
    pub poison_every: Duration,
    pub outage_every: Duration,
    pub outage_length: Duration,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            gifts_per_second: 3.0,
            poison_share: 0.04,
            poison_every: Duration::from_secs(45),
            outage_every: Duration::from_secs(75),
            outage_length: Duration::from_secs(8),
        }
    }
}

const NAMES: [&str; 8] = [
    "ada", "grace", "alan", "edsger", "barbara", "ken", "margaret", "linus",
];
const DOMAINS: [&str; 3] = ["example.com", "example.org", "mail.test"];
const POISON: [&str; 4] = [
    "not json at all",
    r#"{"v":2,"voucher_id":"future-version"}"#,
    r#"{"v":1,"voucher_id":"0190b6d8-7f3a-7c1e-9d2b-3a4c5d6e7f80","created_at":"2026-01-01T00:00:00.000Z","recipient":{"kind":"email","address":"eve@example.com"},"amount":"99999.00","currency":"USD","sender":"mallory"}"#,
    r#"{"v":1,"hello":"world"}"#,
];

fn random_gift() -> GiftRequest {
    let who = NAMES[fastrand::usize(..NAMES.len())];
    let recipient = if fastrand::u8(..10) == 0 {
        format!("0x{:032x}{:08x}", fastrand::u128(..), fastrand::u32(..))
    } else {
        format!(
            "{who}{}@{}",
            fastrand::u16(..1000),
            DOMAINS[fastrand::usize(..DOMAINS.len())]
        )
    };
    GiftRequest {
        recipient,
        amount: format!("{}.{:02}", fastrand::u32(1..200), fastrand::u32(0..100)),
        currency: Some(["USD", "EUR", "GBP"][fastrand::usize(..3)].into()),
        sender: format!("demo-{}", NAMES[fastrand::usize(..NAMES.len())]),
        note: Some("demo traffic".into()),
        idempotency_key: None,
    }
}

/// Starts demo traffic; it stops when `cancel` fires. `outage(until)` makes the store refuse writes
/// until `until` (the embedded store's switch: the demo runs only where the backend is chosen).
pub fn spawn_demo(
    pipeline: Pipeline,
    outage: impl Fn(tokio::time::Instant) + Send + 'static,
    cfg: DemoConfig,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let tick = Duration::from_millis(500);
        let per_tick = cfg.gifts_per_second * tick.as_secs_f64();
        let mut carry = 0.0;
        // The first outage comes early, so a newcomer soon sees retries and a backlog.
        let mut since_outage = cfg.outage_every.saturating_sub(Duration::from_secs(20));
        let mut since_poison = Duration::ZERO;
        let mut poison: Vec<OutgoingMessage> = Vec::new();
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(tick) => {}
            }
            since_outage += tick;
            since_poison += tick;
            if since_outage >= cfg.outage_every {
                since_outage = Duration::ZERO;
                outage(tokio::time::Instant::now() + cfg.outage_length);
                tracing::info!("demo: simulating a store outage");
            }
            carry += per_tick * (0.5 + fastrand::f64());
            let n = carry.floor() as usize;
            carry -= n as f64;
            let mut gifts = Vec::new();
            for _ in 0..n {
                if fastrand::f64() < cfg.poison_share {
                    poison.push(OutgoingMessage {
                        id: poison.len().to_string(),
                        body: POISON[fastrand::usize(..POISON.len())].to_string(),
                        attributes: BTreeMap::new(),
                        delay: None,
                        group: Some("demo".into()),
                        dedup: Some(Uuid::now_v7().to_string()),
                    });
                } else {
                    gifts.push(random_gift());
                }
            }
            for r in pipeline.gift_many(&gifts, GiftOptions::bulk()).await {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "demo gift failed");
                }
            }
            if since_poison >= cfg.poison_every || poison.len() >= SQS_BATCH_MAX {
                since_poison = Duration::ZERO;
                if !poison.is_empty()
                    && let Ok(q) = pipeline.queue().await
                {
                    let _ = pipeline.backend().queue.send_batch(&q, &poison).await;
                }
                poison.clear();
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::domain::{Limits, validate};

    #[test]
    fn random_gifts_are_valid() {
        for _ in 0..500 {
            let g = random_gift();
            assert!(validate(&g, &Limits::default()).is_ok(), "{g:?}");
        }
    }
}
