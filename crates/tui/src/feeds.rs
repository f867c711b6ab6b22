//! What the monitor feeds the dashboard: depth, oldest-message age, the alarms, the failure log and
//! the audit log, each with its history and its last error. [`Feeds::apply`] is the one place a poll
//! lands; it returns the [`News`] worth telling (an alarm firing or clearing, DLQ arrivals).
//!
//! A new polled pane adds its state here (a field of [`Feeds`] and an arm in `apply`), its poll in
//! the services' monitor, its [`Pane`](super::focus::Pane) and its render function.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use voucherdeck_core::domain::text::sanitize;
use voucherdeck_core::domain::{AlarmState, AuditEntry, FailureKind, FailureRecord, Timestamp};
use voucherdeck_core::ports::{AgeReading, QueueStats, ServersIntake};
use voucherdeck_pipeline::{
    AlarmReport, ConsumerConfig, DepthHistory, DepthSample, Feed, IntakeSnapshot, MonitorUpdate,
    PollError,
};

/// Age readings kept for the sparkline.
pub const AGE_MAX_SAMPLES: usize = 240;
/// Failure records kept.
pub const FAILURES_MAX: usize = 500;

/// Total messages in a queue: visible, in flight and delayed.
pub fn total(s: &QueueStats) -> u64 {
    s.visible + s.in_flight + s.delayed
}

/// Every polled figure the dashboard shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Feeds {
    pub depth: DepthState,
    pub age: AgeState,
    pub alarms: AlarmsState,
    pub failures: FailuresState,
    pub intake: IntakeState,
    pub audit: AuditState,
}

/// What a poll brought that is worth telling someone who is not looking (a toast, the bell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// An alarm went into ALARM.
    AlarmFired(String),
    /// An alarm left ALARM.
    AlarmCleared(String),
    /// Messages arrived in the DLQ.
    DlqArrivals(u64),
}

impl Feeds {
    /// Takes one poll's result (or why it failed); returns what is news.
    pub fn apply(&mut self, update: MonitorUpdate) -> Vec<News> {
        match update {
            MonitorUpdate::Depth { queue, dlq } => {
                let arrived = self.depth.push(DepthSample::new(queue, dlq));
                return (arrived > 0)
                    .then_some(News::DlqArrivals(arrived))
                    .into_iter()
                    .collect();
            }
            MonitorUpdate::Alarms(report) => return self.alarms.take(report),
            MonitorUpdate::Age {
                queue,
                dlq,
                servers,
                exact,
                at,
            } => {
                self.age.push(AgePoint { at, queue, dlq }, exact);
                self.intake.servers = Some((at, servers));
            }
            MonitorUpdate::Failures(records) => {
                self.failures.loaded = true;
                self.failures.last_error = None;
                self.failures.merge(records);
            }
            MonitorUpdate::Audit { entries, at } => self.audit.merge(entries, at),
            MonitorUpdate::Intake { snapshot, at } => self.intake.push(snapshot, at),
            MonitorUpdate::Failed(e) => self.failed(&e),
        }
        Vec::new()
    }

    /// A poll failed: its feed keeps its figures (now stale) and says why.
    fn failed(&mut self, e: &PollError) {
        let error = (sanitize(&e.message()), e.at);
        match e.feed {
            Feed::Depth => self.depth.failed(error, e.retry_in, e.unreachable()),
            Feed::Age => self.age.last_error = Some(error),
            Feed::Alarms => self.alarms.last_error = Some(error),
            Feed::Failures => self.failures.last_error = Some(error),
            Feed::Audit => self.audit.last_error = Some(error),
        }
    }
}

/// The alarms as last read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlarmsState {
    pub report: Option<AlarmReport>,
    pub last_error: Option<(String, Timestamp)>,
}

impl AlarmsState {
    /// Takes a new reading; the alarms that went into or out of ALARM since the previous one are
    /// news (the first reading is the starting point, not news).
    fn take(&mut self, report: AlarmReport) -> Vec<News> {
        self.last_error = None;
        let mut news = Vec::new();
        if let Some(before) = &self.report {
            let was = |name: &str| {
                before
                    .alarms
                    .iter()
                    .find(|a| a.name == name)
                    .map(|a| a.state)
            };
            for a in &report.alarms {
                match (was(&a.name), a.state) {
                    (Some(s), AlarmState::Alarm) if s != AlarmState::Alarm => {
                        news.push(News::AlarmFired(a.name.clone()));
                    }
                    (Some(AlarmState::Alarm), s) if s != AlarmState::Alarm => {
                        news.push(News::AlarmCleared(a.name.clone()));
                    }
                    _ => {}
                }
            }
        }
        self.report = Some(report);
        news
    }

    /// The names of the alarms in ALARM, the one that fired last first.
    pub fn firing(&self) -> Vec<&str> {
        let mut firing: Vec<_> = self.report.iter().flat_map(AlarmReport::firing).collect();
        firing.sort_by_key(|a| std::cmp::Reverse(a.since));
        firing.into_iter().map(|a| a.name.as_str()).collect()
    }
}

/// Depth history and connection state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DepthState {
    /// The polls, in the services' own series.
    pub history: DepthHistory,
    pub last_ok: Option<Timestamp>,
    pub last_error: Option<(String, Timestamp)>,
    /// While polls fail: since when, when the next attempt is, and whether the endpoint did not
    /// answer at all.
    pub outage: Option<Outage>,
    /// The DLQ total at the first poll.
    pub dlq_baseline: Option<u64>,
    /// DLQ arrivals seen since the dashboard started (sum of increases).
    pub dlq_arrivals: u64,
    /// When the DLQ last grew.
    pub dlq_last_arrival: Option<Timestamp>,
}

impl DepthState {
    pub fn latest(&self) -> Option<&DepthSample> {
        self.history.latest()
    }

    /// A failed poll: starts or extends the outage.
    fn failed(&mut self, error: (String, Timestamp), retry_in: Duration, unreachable: bool) {
        let at = error.1;
        let since = self.outage.as_ref().map_or(at, |o| o.since);
        self.outage = Some(Outage {
            since,
            retry_at: at.plus(retry_in),
            unreachable,
        });
        self.last_error = Some(error);
    }

    /// Adds a poll; counts DLQ arrivals and returns how many this poll saw; ends an outage.
    pub fn push(&mut self, point: DepthSample) -> u64 {
        self.outage = None;
        let at = point.at;
        let dlq_total = total(&point.dlq);
        let mut arrived = 0;
        if let Some(prev) = self.latest() {
            let before = total(&prev.dlq);
            if dlq_total > before {
                arrived = dlq_total - before;
                self.dlq_arrivals += arrived;
                self.dlq_last_arrival = Some(at);
            }
        }
        self.dlq_baseline.get_or_insert(dlq_total);
        self.last_ok = Some(at);
        self.history.push(point);
        arrived
    }
}

/// Polls failing in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// The first failed poll.
    pub since: Timestamp,
    /// When the poller tries again.
    pub retry_at: Timestamp,
    /// The endpoint did not answer (rather than answering with an error).
    pub unreachable: bool,
}

/// One oldest-message-age reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgePoint {
    pub at: Timestamp,
    pub queue: AgeReading,
    pub dlq: AgeReading,
}

/// Oldest-message ages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgeState {
    pub history: VecDeque<AgePoint>,
    /// The embedded engine's exact figure (true) or CloudWatch's minute (false).
    pub exact: bool,
    pub last_error: Option<(String, Timestamp)>,
}

impl AgeState {
    fn push(&mut self, point: AgePoint, exact: bool) {
        self.exact = exact;
        self.history.push_back(point);
        while self.history.len() > AGE_MAX_SAMPLES {
            self.history.pop_front();
        }
    }
}

/// Recent failures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FailuresState {
    /// Newest first.
    pub records: Vec<FailureRecord>,
    pub cursor: usize,
    pub filter: String,
    /// The filter line has the keys.
    pub editing: bool,
    pub grouped: bool,
    pub loaded: bool,
    pub last_error: Option<(String, Timestamp)>,
}

/// The operator audit log, as last read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditState {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    pub loaded_at: Option<Timestamp>,
    pub last_error: Option<(String, Timestamp)>,
}

/// Audit entries kept for the view.
pub const AUDIT_MAX: usize = 200;

impl AuditState {
    /// Adds entries not seen yet (a poll reads only what is new; the view's own read, all), keeps
    /// the newest [`AUDIT_MAX`], newest first.
    fn merge(&mut self, entries: Vec<AuditEntry>, at: Timestamp) {
        for e in entries {
            if !self.entries.iter().any(|x| x.id == e.id) {
                self.entries.push(e);
            }
        }
        self.entries
            .sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
        self.entries.truncate(AUDIT_MAX);
        self.loaded_at = Some(at);
        self.last_error = None;
    }
}

/// Failures grouped by reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureGroup<'a> {
    pub reason: &'a str,
    pub kind: FailureKind,
    pub count: usize,
    pub last_at: Timestamp,
    pub newest: &'a FailureRecord,
}

impl FailuresState {
    /// Adds records not seen yet, keeps the newest [`FAILURES_MAX`], newest first.
    pub fn merge(&mut self, records: Vec<FailureRecord>) {
        for r in records {
            if !self.records.iter().any(|x| x.record_id == r.record_id) {
                self.records.push(r);
            }
        }
        self.records.sort_by_key(|r| std::cmp::Reverse(r.at));
        self.records.truncate(FAILURES_MAX);
        self.cursor = self.cursor.min(self.row_count().saturating_sub(1));
    }

    /// The failures that pass the filter, newest first.
    pub fn filtered(&self) -> Vec<&FailureRecord> {
        let needle = self.filter.trim().to_lowercase();
        self.records
            .iter()
            .filter(|r| {
                needle.is_empty()
                    || [
                        r.reason.to_lowercase(),
                        r.kind.as_str().to_string(),
                        r.voucher_id.map(|v| v.to_string()).unwrap_or_default(),
                        r.recipient.clone().unwrap_or_default().to_lowercase(),
                        r.message_id.to_lowercase(),
                        r.worker.to_lowercase(),
                    ]
                    .iter()
                    .any(|h| h.contains(&needle))
            })
            .collect()
    }

    /// Groups by (kind, reason), largest first, then most recent.
    pub fn groups(&self) -> Vec<FailureGroup<'_>> {
        let mut map: BTreeMap<(FailureKind, &str), FailureGroup<'_>> = BTreeMap::new();
        for r in self.filtered() {
            map.entry((r.kind, r.reason.as_str()))
                .and_modify(|g| {
                    g.count += 1;
                    if r.at > g.last_at {
                        g.last_at = r.at;
                        g.newest = r;
                    }
                })
                .or_insert(FailureGroup {
                    reason: &r.reason,
                    kind: r.kind,
                    count: 1,
                    last_at: r.at,
                    newest: r,
                });
        }
        let mut groups: Vec<FailureGroup<'_>> = map.into_values().collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then(b.last_at.cmp(&a.last_at)));
        groups
    }

    /// On a FIFO queue, the message groups a retrying message holds back (none of a group is
    /// delivered while one of its messages waits for its retry): each group whose newest failure
    /// is a retryable one, not sent to the DLQ, still within its longest retry wait at `now`.
    /// Newest first, one record a group.
    pub fn held_groups(&self, now: Timestamp) -> Vec<&FailureRecord> {
        let retry = ConsumerConfig::default();
        let mut seen = std::collections::HashSet::new();
        self.records
            .iter()
            .filter(|r| r.group.as_deref().is_some_and(|g| seen.insert(g)))
            .filter(|r| {
                !r.kind.is_permanent()
                    && !r.dead_lettered
                    && r.at.plus(retry.retry_wait_max(r.receive_count)) > now
            })
            .collect()
    }

    /// The records of messages sent to the DLQ, newest first: what a read-only DLQ browser lists
    /// instead of peeking.
    pub fn dead_lettered(&self) -> Vec<&FailureRecord> {
        self.records.iter().filter(|r| r.dead_lettered).collect()
    }

    /// Rows in the table as it is shown (grouped or not).
    pub fn row_count(&self) -> usize {
        if self.grouped {
            self.groups().len()
        } else {
            self.filtered().len()
        }
    }

    /// The record behind the cursor (the newest of a group when grouped).
    pub fn at_cursor(&self) -> Option<FailureRecord> {
        if self.grouped {
            self.groups().get(self.cursor).map(|g| g.newest.clone())
        } else {
            self.filtered().get(self.cursor).map(|r| (*r).clone())
        }
    }
}

/// The in-process intake API's readings: the newest, and the one before for rates.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntakeState {
    pub latest: Option<(Timestamp, IntakeSnapshot)>,
    pub previous: Option<(Timestamp, IntakeSnapshot)>,
    /// What the servers published (CloudWatch on AWS), as last read.
    pub servers: Option<(Timestamp, ServersIntake)>,
}

impl IntakeState {
    fn push(&mut self, snapshot: IntakeSnapshot, at: Timestamp) {
        self.previous = self.latest.take();
        self.latest = Some((at, snapshot));
    }

    /// Whether any server published its figures in the last hour.
    pub fn servers_active(&self) -> bool {
        self.servers.is_some_and(|(_, s)| s.active_last_hour)
    }

    /// Accepted gifts per second between the last two readings.
    pub fn accepted_per_second(&self) -> Option<f64> {
        let ((t1, s1), (t0, s0)) = (self.latest.as_ref()?, self.previous.as_ref()?);
        let secs = (t1.millis() - t0.millis()) as f64 / 1000.0;
        (secs > 0.0).then(|| s1.accepted.saturating_sub(s0.accepted) as f64 / secs)
    }
}
