//! The rate-limit headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers): every answer
//! names the policies that applied to its request in `RateLimit-Policy` (`"ip"`, and with a key
//! `"burst"`, `"daily"` and, for status reads, `"reads"`: quota `q` per window `w` seconds) and, in
//! `RateLimit`, the one closest to exhaustion among those whose remaining units the server knows
//! (`r` left, `t` seconds until they are whole again).
//!
//! The per-IP middleware puts an empty report in the request's extensions; the key extractor and
//! the handlers add what they learn; the middleware writes the headers on the way out.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use voucherdeck_core::domain::{ApiKeyRecord, Timestamp};
use voucherdeck_pipeline::{GiftError, GiftReceipt};

const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// One policy that applied to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) name: &'static str,
    pub(crate) quota: u32,
    pub(crate) window: Duration,
    /// Units left, when the server knows them here (a daily cap is leased in blocks: its exact
    /// remainder is known only when it is spent).
    pub(crate) remaining: Option<u32>,
    /// Until the units are whole again (or, spent, until the next is allowed).
    pub(crate) reset: Duration,
}

impl Policy {
    /// A per-minute policy whose `remaining` units of `quota` refill evenly over the minute.
    pub(crate) fn per_minute(name: &'static str, quota: u32, remaining: Option<u32>) -> Policy {
        let missing = remaining.map_or(0, |r| quota.saturating_sub(r));
        let reset = Duration::from_mins(1).mul_f64(f64::from(missing) / f64::from(quota.max(1)));
        Policy {
            name,
            quota,
            window: Duration::from_mins(1),
            remaining,
            reset,
        }
    }

    /// The policy spent: nothing left until `wait` has passed.
    #[must_use]
    pub(crate) fn spent(mut self, wait: Duration) -> Policy {
        self.remaining = Some(0);
        self.reset = wait;
        self
    }

    /// How much of the quota is left, 0 to 1.
    fn left(&self) -> Option<f64> {
        self.remaining
            .map(|r| f64::from(r) / f64::from(self.quota.max(1)))
    }
}

/// The policies of one request, shared between the layers that learn them.
#[derive(Debug, Clone, Default)]
pub(crate) struct RateReport(Arc<Mutex<Vec<Policy>>>);

impl RateReport {
    /// Records `policy`, replacing an earlier one of the same name.
    pub(crate) fn add(&self, policy: Policy) {
        let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|p| p.name != policy.name);
        all.push(policy);
    }

    /// Writes `RateLimit-Policy` and `RateLimit` (nothing when no policy applied).
    pub(crate) fn write(&self, headers: &mut HeaderMap) {
        let all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if all.is_empty() {
            return;
        }
        let policies: Vec<String> = all
            .iter()
            .map(|p| format!("\"{}\";q={};w={}", p.name, p.quota, p.window.as_secs()))
            .collect();
        if let Ok(v) = HeaderValue::from_str(&policies.join(", ")) {
            headers.insert(POLICY, v);
        }
        let nearest = all
            .iter()
            .filter_map(|p| p.left().map(|left| (left, p)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, p)| p);
        if let Some(p) = nearest {
            let value = format!(
                "\"{}\";r={};t={}",
                p.name,
                p.remaining.unwrap_or(0),
                p.reset.as_secs_f64().ceil()
            );
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(RATELIMIT, v);
            }
        }
    }
}

/// The key's gift policies after gifts that ended as `outcomes`: its burst (what is left after
/// the last of them, or spent) and its daily cap (its remainder is known only once spent).
pub(crate) fn report_gifts(
    report: Option<&RateReport>,
    key: &ApiKeyRecord,
    outcomes: &[&Result<GiftReceipt, GiftError>],
) {
    let Some(report) = report else { return };
    if key.per_minute > 0 {
        let left = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().and_then(|r| r.burst_left))
            .min();
        let mut burst = Policy::per_minute("burst", key.per_minute, left);
        for o in outcomes {
            if let Err(GiftError::RateLimited { retry_after, .. }) = o {
                burst = burst.spent(*retry_after);
            }
        }
        report.add(burst);
    }
    if key.daily > 0 {
        let mut daily = Policy {
            name: "daily",
            quota: key.daily,
            window: Duration::from_hours(24),
            remaining: None,
            reset: Duration::ZERO,
        };
        for o in outcomes {
            if let Err(GiftError::DailyCap { retry_at, .. }) = o {
                let wait = retry_at.millis() - Timestamp::now().millis();
                daily = daily.spent(Duration::from_millis(u64::try_from(wait).unwrap_or(0)));
            }
        }
        report.add(daily);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_policy_is_the_one_reported() {
        let report = RateReport::default();
        report.add(Policy::per_minute("ip", 1200, Some(1100)));
        report.add(Policy::per_minute("burst", 60, Some(30)));
        report.add(Policy {
            name: "daily",
            quota: 1000,
            window: Duration::from_hours(24),
            remaining: None,
            reset: Duration::ZERO,
        });
        let mut headers = HeaderMap::new();
        report.write(&mut headers);
        assert_eq!(
            headers[&POLICY],
            "\"ip\";q=1200;w=60, \"burst\";q=60;w=60, \"daily\";q=1000;w=86400"
        );
        assert_eq!(headers[&RATELIMIT], "\"burst\";r=30;t=30");
        report.add(Policy::per_minute("burst", 60, Some(30)).spent(Duration::from_millis(2500)));
        let mut headers = HeaderMap::new();
        report.write(&mut headers);
        assert_eq!(headers[&RATELIMIT], "\"burst\";r=0;t=3");
    }
}
