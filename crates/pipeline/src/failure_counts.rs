//! Failures by reason and by time: per UTC hour over the last 24 hours, or per UTC day over the
//! last 7 days, counted from the failure log (what every worker recorded).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::services::Pipeline;
use voucherdeck_core::domain::{FailureKind, FailureRecord, Timestamp};
use voucherdeck_core::ports::Result;

/// Most failure records read for one count; past it the counts say they are not complete.
pub const FAILURE_COUNT_READ_MAX: usize = 100_000;

/// How wide each count's period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Per {
    /// 24 UTC hours, the current one last.
    Hour,
    /// 7 UTC days, today last.
    Day,
}

impl Per {
    const fn width(self) -> Duration {
        match self {
            Per::Hour => Duration::from_hours(1),
            Per::Day => Duration::from_hours(24),
        }
    }

    const fn periods(self) -> usize {
        match self {
            Per::Hour => 24,
            Per::Day => 7,
        }
    }
}

/// The counts of one failure reason, one per period, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCounts {
    pub kind: FailureKind,
    pub reason: String,
    pub total: u64,
    pub counts: Vec<u64>,
}

/// Failures by reason and period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureCounts {
    pub per: Per,
    /// Where each period starts (UTC), oldest first; the last one is still going on.
    pub periods: Vec<Timestamp>,
    /// Largest total first, then by kind and reason.
    pub reasons: Vec<ReasonCounts>,
    /// False when more records than [`FAILURE_COUNT_READ_MAX`] were in the periods: the counts are
    /// of the newest ones.
    pub complete: bool,
}

impl FailureCounts {
    /// Counts `records` by (kind, reason) into the periods `per` ending with the one `now` is in.
    pub fn count(per: Per, now: Timestamp, records: &[FailureRecord], complete: bool) -> Self {
        let width = i64::try_from(per.width().as_millis()).unwrap_or(i64::MAX);
        let n = per.periods();
        let current = now.millis().div_euclid(width) * width;
        let first = current - width * (n as i64 - 1);
        let periods: Vec<Timestamp> = (0..n)
            .map(|i| Timestamp(first + width * i as i64))
            .collect();
        let mut by: BTreeMap<(FailureKind, &str), Vec<u64>> = BTreeMap::new();
        for r in records {
            let at = r.at.millis();
            if at < first || at >= current + width {
                continue;
            }
            let slot = usize::try_from((at - first) / width).unwrap_or(0);
            by.entry((r.kind, r.reason.as_str()))
                .or_insert_with(|| vec![0; n])[slot] += 1;
        }
        let mut reasons: Vec<ReasonCounts> = by
            .into_iter()
            .map(|((kind, reason), counts)| ReasonCounts {
                kind,
                reason: reason.to_string(),
                total: counts.iter().sum(),
                counts,
            })
            .collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.total));
        FailureCounts {
            per,
            periods,
            reasons,
            complete,
        }
    }
}

impl Pipeline {
    /// Failures by reason, per hour over the last 24 hours or per day over the last 7 days (UTC
    /// periods, the current one last), from the failure log.
    pub async fn failure_counts(&self, per: Per) -> Result<FailureCounts> {
        let now = Timestamp::now();
        let span = per.width() * u32::try_from(per.periods()).unwrap_or(1);
        let records = self
            .backend()
            .failures
            .since(now.minus(span), FAILURE_COUNT_READ_MAX)
            .await?;
        let complete = records.len() < FAILURE_COUNT_READ_MAX;
        Ok(FailureCounts::count(per, now, &records, complete))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: Timestamp, kind: FailureKind, reason: &str) -> FailureRecord {
        FailureRecord {
            record_id: uuid::Uuid::now_v7(),
            at,
            queue: "vouchers".into(),
            message_id: "m".into(),
            voucher_id: None,
            recipient: None,
            kind,
            reason: reason.into(),
            receive_count: 1,
            worker: "w".into(),
            dead_lettered: false,
            group: None,
        }
    }

    #[test]
    fn records_fall_into_utc_periods_the_current_one_last() {
        let hour = 3_600_000;
        // 2026-12-08T10:30Z
        let now = Timestamp(1_796_725_800_000);
        let records = [
            record(now, FailureKind::Invalid, "amount"),
            record(
                Timestamp(now.0 - hour / 2 + 1),
                FailureKind::Invalid,
                "amount",
            ),
            record(Timestamp(now.0 - hour), FailureKind::Invalid, "amount"),
            record(
                Timestamp(now.0 - 23 * hour),
                FailureKind::NotJson,
                "not json",
            ),
            // Before the first hour: left out.
            record(
                Timestamp(now.0 - 24 * hour),
                FailureKind::NotJson,
                "not json",
            ),
        ];
        let c = FailureCounts::count(Per::Hour, now, &records, true);
        assert_eq!(c.periods.len(), 24);
        assert_eq!(c.periods[23], Timestamp(now.0 - hour / 2), "10:00Z");
        assert_eq!(c.reasons.len(), 2);
        let amount = &c.reasons[0];
        assert_eq!((amount.reason.as_str(), amount.total), ("amount", 3));
        assert_eq!((amount.counts[23], amount.counts[22]), (2, 1));
        let not_json = &c.reasons[1];
        assert_eq!((not_json.total, not_json.counts[0]), (1, 1));

        let d = FailureCounts::count(Per::Day, now, &records, true);
        assert_eq!(d.periods.len(), 7);
        assert_eq!(d.reasons[0].counts[6], 3, "today");
        assert_eq!(
            d.reasons[1].total, 2,
            "both not-json failures are this week"
        );
    }
}
