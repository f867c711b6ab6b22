//! The `GetMetricData` queries the dashboard's once-a-minute read asks (the oldest-message ages,
//! the intake servers' sums) and what their datapoints say.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::MetricDataQuery;

use super::alarms::{NAMESPACE, QUEUE_DIMENSION, metric, stat_query};
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::{AgeReading, IntakeStats, ServersIntake};

/// Each query's datapoints (time, value), by query id.
pub(super) type Points = HashMap<String, Vec<(DateTime, f64)>>;

/// The intake's metrics read back, each with its query id.
pub(super) const INTAKE_METRICS: [(&str, &str); 4] = [
    ("requests", "IntakeRequests"),
    ("errors5xx", "Intake5xx"),
    ("throttled", "Intake429"),
    ("auditlost", "AuditEntriesLost"),
];

/// Unix seconds `d` before `now`.
pub(super) fn secs_before(now: SystemTime, d: Duration) -> i64 {
    DateTime::from(now.checked_sub(d).unwrap_or(now)).secs()
}

/// A minute's sum of one of the intake's metrics for the pipeline's queue.
pub(super) fn sum_query(id: &str, name: &str, queue: &str) -> MetricDataQuery {
    stat_query(
        id,
        metric(NAMESPACE, name, QUEUE_DIMENSION, queue),
        "Sum",
        true,
    )
}

/// The servers' figures from the intake queries' datapoints: the newest minute with requests (if it
/// began at or after `fresh_since`, Unix seconds), and whether any minute had them.
pub(super) fn servers_intake(
    points: &HashMap<String, Vec<(DateTime, f64)>>,
    fresh_since: i64,
) -> ServersIntake {
    let series = |id: &str| points.get(id).map_or(&[][..], Vec::as_slice);
    let published: Vec<&(DateTime, f64)> = series("requests")
        .iter()
        .filter(|(_, v)| *v > 0.0)
        .collect();
    let Some(newest) = published.iter().map(|(ts, _)| ts.secs()).max() else {
        return ServersIntake::default();
    };
    let at = |id: &str| -> u64 {
        let sum: f64 = series(id)
            .iter()
            .filter(|(ts, _)| ts.secs() == newest)
            .map(|(_, v)| *v)
            .sum();
        // Counts: whole, non-negative.
        if sum.is_finite() && sum > 0.0 {
            sum.round() as u64
        } else {
            0
        }
    };
    let fresh = newest >= fresh_since;
    ServersIntake {
        last_minute: fresh.then(|| IntakeStats {
            requests: at("requests"),
            server_errors: at("errors5xx"),
            throttled: at("throttled"),
            audit_lost: at("auditlost"),
        }),
        as_of: fresh.then_some(Timestamp(newest * 1000)),
        active_last_hour: true,
    }
}

pub(super) fn age_query(i: usize, queue: &str) -> MetricDataQuery {
    let age = metric(
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "QueueName",
        queue,
    );
    stat_query(&format!("q{i}"), age, "Maximum", true)
}

pub(super) fn reading(point: Option<(DateTime, f64)>) -> AgeReading {
    match point {
        Some((ts, secs)) if secs.is_finite() => AgeReading {
            age: Some(Duration::from_secs_f64(secs.max(0.0))),
            as_of: Some(
                ts.to_millis()
                    .map_or_else(|_| Timestamp(ts.secs() * 1000), Timestamp),
            ),
        },
        _ => AgeReading {
            age: None,
            as_of: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_take_the_datapoint() {
        assert_eq!(
            reading(None),
            AgeReading {
                age: None,
                as_of: None
            }
        );
        let r = reading(Some((DateTime::from_secs(1_764_072_180), 42.0)));
        assert_eq!(r.age, Some(Duration::from_secs(42)));
        assert_eq!(r.as_of, Some(Timestamp(1_764_072_180_000)));
    }

    fn points(series: &[(&str, &[(i64, f64)])]) -> Points {
        series
            .iter()
            .map(|(id, p)| {
                let p = p
                    .iter()
                    .map(|(t, v)| (DateTime::from_secs(*t), *v))
                    .collect();
                ((*id).to_string(), p)
            })
            .collect()
    }

    #[test]
    fn the_servers_last_minute_is_their_newest_minute_while_fresh() {
        let p = points(&[
            ("requests", &[(600, 30.0), (660, 50.0)]),
            ("errors5xx", &[(600, 1.0), (660, 2.0)]),
            ("throttled", &[(660, 10.0)]),
            ("auditlost", &[(600, 4.0)]),
        ]);
        let fresh = servers_intake(&p, 600);
        assert_eq!(
            fresh.last_minute,
            Some(IntakeStats {
                requests: 50,
                server_errors: 2,
                throttled: 10,
                audit_lost: 0
            })
        );
        assert_eq!(fresh.as_of, Some(Timestamp(660_000)));
        assert!(fresh.active_last_hour);
        let old = servers_intake(&p, 720);
        assert_eq!((old.last_minute, old.as_of), (None, None));
        assert!(old.active_last_hour, "published within the window read");
        assert_eq!(servers_intake(&Points::new(), 0), ServersIntake::default());
    }
}
