//! The overview: every configured pipeline as one row (depth, in flight, oldest age, DLQ count,
//! alarms, whether it answers), most troubled first. Pure: read from each pipeline's feeds.

use std::time::Duration;

use voucherdeck_core::domain::AgeLevel;

use super::app::{App, AppInfo};
use super::feeds::{Feeds, total};
use super::figures::{Connection, connection_of};

/// One pipeline on the overview.
#[derive(Debug, Clone)]
pub struct OverviewRow<'a> {
    /// Its place in the configuration (what opening it needs).
    pub index: usize,
    pub info: &'a AppInfo,
    pub feeds: &'a Feeds,
    pub connection: Connection,
    /// Alarms in ALARM, the one that fired last first.
    pub firing: Vec<&'a str>,
    pub visible: Option<u64>,
    pub in_flight: Option<u64>,
    pub dlq: Option<u64>,
    /// The queue's oldest message, when known.
    pub oldest: Option<Duration>,
}

impl OverviewRow<'_> {
    /// It cannot be read: its last poll failed, or none ever answered.
    pub fn unreachable(&self) -> bool {
        matches!(
            self.connection,
            Connection::Stale { error: Some(_), .. } | Connection::Stale { since: None, .. }
        )
    }

    pub fn age_level(&self) -> AgeLevel {
        self.oldest
            .map_or(AgeLevel::Ok, |age| self.info.ages.level(age))
    }

    /// Most troubled first: unreachable, alarms firing, a DLQ with messages, an old message.
    fn trouble(&self) -> (bool, usize, bool, AgeLevel, u64) {
        (
            self.unreachable(),
            self.firing.len(),
            self.dlq.is_some_and(|n| n > 0),
            self.age_level(),
            self.dlq.unwrap_or(0),
        )
    }
}

fn row<'a>(app: &App, index: usize, info: &'a AppInfo, feeds: &'a Feeds) -> OverviewRow<'a> {
    let latest = feeds.depth.latest();
    OverviewRow {
        index,
        info,
        feeds,
        connection: connection_of(&feeds.depth, info.stale_after, app.now),
        firing: feeds.alarms.firing(),
        visible: latest.map(|s| s.queue.visible),
        in_flight: latest.map(|s| s.queue.in_flight),
        dlq: latest.map(|s| total(&s.dlq)),
        oldest: feeds
            .age
            .history
            .back()
            .and_then(|p| p.queue.age)
            .or_else(|| latest.and_then(|s| s.queue.oldest_age)),
    }
}

/// Every pipeline, most troubled first (configuration order among equals).
pub fn rows(app: &App) -> Vec<OverviewRow<'_>> {
    let mut out: Vec<OverviewRow<'_>> = app
        .pipelines
        .iter()
        .enumerate()
        .map(|(i, view)| row(app, i, &view.info, &view.feeds))
        .collect();
    out.sort_by(|a, b| b.trouble().cmp(&a.trouble()).then(a.index.cmp(&b.index)));
    out
}
