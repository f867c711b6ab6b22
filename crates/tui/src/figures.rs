//! Figures derived from `App` state: rates, staleness, filtered rows. Pure functions of the state and
//! `app.now`, shared by `update` and the views.

use std::time::Duration;

use voucherdeck_core::domain::{AgeLevel, Timestamp};
use voucherdeck_core::ports::AgeReading;
use voucherdeck_pipeline::{DepthSample, RedriveStatus};

use super::app::App;
use super::feeds::{DepthState, total};
use super::msg::ConsumerSample;

/// The span rates are averaged over.
pub const RATE_SPAN: Duration = Duration::from_secs(10);

/// Whether the data on screen is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// No poll has answered yet.
    Connecting,
    /// The last poll answered this long ago.
    Live { age: Duration },
    /// The last good poll is too old (or there never was one and polls fail).
    Stale {
        since: Option<Duration>,
        error: Option<String>,
    },
}

pub fn connection(app: &App) -> Connection {
    connection_of(
        &app.view().feeds.depth,
        app.view().info.stale_after,
        app.now,
    )
}

/// Whether one pipeline's depth is current at `now`.
pub fn connection_of(depth: &DepthState, stale_after: Duration, now: Timestamp) -> Connection {
    let error = depth
        .last_error
        .as_ref()
        .filter(|(_, at)| depth.last_ok.is_none_or(|ok| *at >= ok));
    match depth.last_ok {
        None => match error {
            None => Connection::Connecting,
            Some((e, _)) => Connection::Stale {
                since: None,
                error: Some(e.clone()),
            },
        },
        Some(ok) => {
            let age = ok.until(now);
            if error.is_some() || age > stale_after {
                Connection::Stale {
                    since: Some(age),
                    error: error.map(|(e, _)| e.clone()),
                }
            } else {
                Connection::Live { age }
            }
        }
    }
}

/// The newest item and the oldest one within `RATE_SPAN` of it (or, when there is none, the one
/// just before the newest): the two ends a rate is taken over.
fn rate_pair<'a, T>(items: &[&'a T], at: fn(&T) -> Timestamp) -> Option<(&'a T, &'a T)> {
    let last = *items.last()?;
    let from = at(last).minus(RATE_SPAN);
    let first = items
        .iter()
        .find(|p| at(p) >= from && at(p) < at(last))
        .or_else(|| items.len().checked_sub(2).and_then(|i| items.get(i)))?;
    Some((*first, last))
}

fn per_second(delta: f64, span: Duration) -> Option<f64> {
    let secs = span.as_secs_f64();
    (secs > 0.0).then(|| delta / secs)
}

/// Rates beside the depth chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Net change of the queue's total, per second.
    pub net: Option<f64>,
    /// Messages this dashboard's worker took off the queue (persisted or dead-lettered), per second.
    pub processed: Option<f64>,
    /// Sends estimated as net change plus processed.
    pub sent: Option<f64>,
}

pub fn rates(app: &App) -> Rates {
    let points: Vec<&DepthSample> = app.view().feeds.depth.history.iter().collect();
    let net = rate_pair(&points, |p| p.at).and_then(|(a, b)| {
        per_second(
            total(&b.queue) as f64 - total(&a.queue) as f64,
            a.at.until(b.at),
        )
    });
    let processed = worker_rates(app).map(|w| w.removed);
    let sent = match (net, processed) {
        (Some(n), Some(p)) => Some((n + p).max(0.0)),
        (Some(n), None) => Some(n.max(0.0)),
        _ => None,
    };
    Rates {
        net,
        processed,
        sent,
    }
}

/// The worker's rates over the last `RATE_SPAN`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkerRates {
    pub persisted: f64,
    pub failed: f64,
    /// Persisted plus dead-lettered: messages gone from the queue.
    pub removed: f64,
}

pub fn worker_rates(app: &App) -> Option<WorkerRates> {
    let samples: Vec<&ConsumerSample> = app.view().consumer.samples.iter().collect();
    let (first, last) = rate_pair(&samples, |s| s.at)?;
    let span = first.at.until(last.at);
    let (first, last) = (&first.snapshot, &last.snapshot);
    let d = |a: u64, b: u64| b.saturating_sub(a) as f64;
    Some(WorkerRates {
        persisted: per_second(d(first.totals.persisted, last.totals.persisted), span)?,
        failed: per_second(d(first.totals.failed, last.totals.failed), span)?,
        removed: per_second(
            d(
                first.totals.persisted + first.totals.dead_lettered,
                last.totals.persisted + last.totals.dead_lettered,
            ),
            span,
        )?,
    })
}

/// The DLQ figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlqFigures {
    pub count: u64,
    /// Change since the dashboard's first poll.
    pub change: i64,
    pub arrivals: u64,
    /// Something arrived in the last minute.
    pub fresh: bool,
}

pub fn dlq_figures(app: &App) -> Option<DlqFigures> {
    let depth = &app.view().feeds.depth;
    let latest = depth.latest()?;
    let count = total(&latest.dlq);
    let baseline = depth.dlq_baseline.unwrap_or(count);
    Some(DlqFigures {
        count,
        change: count as i64 - baseline as i64,
        arrivals: depth.dlq_arrivals,
        fresh: depth
            .dlq_last_arrival
            .is_some_and(|t| t.until(app.now) <= Duration::from_mins(1)),
    })
}

/// DLQ arrivals per bucket of `bucket` over the last `buckets` buckets, oldest first.
pub fn dlq_inflow(app: &App, buckets: usize, bucket: Duration) -> Vec<u64> {
    let mut out = vec![0u64; buckets];
    if buckets == 0 || bucket.is_zero() {
        return out;
    }
    let now = app.now;
    let mut prev: Option<u64> = None;
    for p in app.view().feeds.depth.history.iter() {
        let count = total(&p.dlq);
        if let Some(before) = prev {
            let inc = count.saturating_sub(before);
            let ago = p.at.until(now).as_millis() / bucket.as_millis().max(1);
            if inc > 0 && (ago as usize) < buckets {
                out[buckets - 1 - ago as usize] += inc;
            }
        }
        prev = Some(count);
    }
    out
}

/// How to present an age figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgeView {
    /// A current figure (as of the given time for CloudWatch).
    Current {
        age: Duration,
        as_of: Option<Timestamp>,
    },
    /// A figure exists but it is too old to present as current.
    Stale {
        age: Duration,
        as_of: Option<Timestamp>,
        received: Timestamp,
    },
    /// No figure; the text says why.
    NoData(String),
}

/// Severity of an age against the configured thresholds.
pub fn severity(app: &App, age: Duration) -> AgeLevel {
    app.view().info.ages.level(age)
}

/// A CloudWatch minute older than this is stale (the metric normally lags one to three minutes).
pub const CLOUDWATCH_STALE: Duration = Duration::from_mins(6);

pub fn age_view(app: &App, dlq: bool) -> AgeView {
    let feed = &app.view().feeds.age;
    let Some(last) = feed.history.back() else {
        return match &feed.last_error {
            Some((e, _)) => AgeView::NoData(e.clone()),
            None => AgeView::NoData("waiting for the first reading".into()),
        };
    };
    let reading: AgeReading = if dlq { last.dlq } else { last.queue };
    let Some(age) = reading.age else {
        let why = if feed.exact {
            "the queue is empty".to_string()
        } else {
            "no CloudWatch datapoint (idle, or lagging)".to_string()
        };
        return AgeView::NoData(why);
    };
    let newer_error = feed
        .last_error
        .as_ref()
        .is_some_and(|(_, at)| *at > last.at);
    let stale = if feed.exact {
        last.at.until(app.now) > app.view().info.stale_after
    } else {
        reading.as_of.unwrap_or(last.at).until(app.now) > CLOUDWATCH_STALE
    };
    if newer_error || stale {
        return AgeView::Stale {
            age,
            as_of: reading.as_of,
            received: last.at,
        };
    }
    AgeView::Current {
        age,
        as_of: reading.as_of,
    }
}

/// Age history in whole seconds (absent readings as `None`), oldest first.
pub fn age_series(app: &App, dlq: bool, n: usize) -> Vec<Option<u64>> {
    let history = &app.view().feeds.age.history;
    let skip = history.len().saturating_sub(n);
    history
        .iter()
        .skip(skip)
        .map(|p| if dlq { p.dlq.age } else { p.queue.age }.map(|d| d.as_secs()))
        .collect()
}

/// Redrive progress for the gauge.
#[derive(Debug, Clone, PartialEq)]
pub struct RedriveFigures {
    pub moved: u64,
    pub total: Option<u64>,
    pub failed: u64,
    pub ratio: Option<f64>,
    pub eta: Option<Duration>,
    pub per_second: Option<f64>,
    pub status: RedriveStatus,
}

pub fn redrive_figures(app: &App) -> Option<RedriveFigures> {
    let run = app.view().redrive.as_ref()?;
    let (moved, total, failed, status) = match &run.status {
        Some(p) => (p.moved, p.total, p.failed, p.status.clone()),
        None => (0, None, 0, RedriveStatus::Starting),
    };
    let end = run.finished_at.unwrap_or(app.now);
    let elapsed = run.started_at.until(end);
    let per_second = per_second(moved as f64, elapsed).filter(|r| *r > 0.0);
    let ratio = total
        .filter(|t| *t > 0)
        .map(|t| (moved as f64 / t as f64).clamp(0.0, 1.0));
    let eta = match (total, per_second, run.is_running()) {
        (Some(t), Some(r), true) => {
            Some(Duration::from_secs_f64(t.saturating_sub(moved) as f64 / r))
        }
        _ => None,
    };
    Some(RedriveFigures {
        moved,
        total,
        failed,
        ratio,
        eta,
        per_second,
        status,
    })
}
