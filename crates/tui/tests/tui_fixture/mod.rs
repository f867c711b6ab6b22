//! Shared fixtures for the TUI tests: an `App` fed with fixed-time messages, keys, and a renderer.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

use voucherdeck_core::backend::{BackendInfo, BackendKind, Names};
use voucherdeck_core::domain::{
    AlarmKind, AlarmState, AlarmStatus, AlarmThresholds, AuditAction, AuditEntry, AuditOutcome,
    FailureKind, FailureRecord, Timestamp, alarm_rules,
};
use voucherdeck_core::ports::{AgeReading, QueueStats, ServersIntake};
use voucherdeck_pipeline::{
    AlarmReport, ConsumerSnapshot, ConsumerStats, DlqFailure, DlqMessage, FailureAttributes,
    MonitorUpdate,
};
use voucherdeck_tui::msg::ConsumerSample;
use voucherdeck_tui::{App, AppInfo, Effect, Msg, render, update};

/// 2025-11-25T12:03:07Z.
pub const T0: i64 = 1_764_072_187_000;

pub fn ts(secs: i64) -> Timestamp {
    Timestamp(T0 + secs * 1000)
}

pub fn embedded_info() -> AppInfo {
    let mut info = AppInfo::new(
        BackendInfo {
            kind: BackendKind::Embedded,
            region: None,
            endpoint: None,
            profile: None,
        },
        Names::default(),
    );
    info.demo = true;
    info.log_path = Some("/home/user/.local/state/voucherdeck/voucherdeck.log".into());
    info.peek_visibility = Duration::from_secs(30);
    info
}

pub fn aws_info() -> AppInfo {
    let mut info = AppInfo::new(
        BackendInfo {
            kind: BackendKind::Aws,
            region: Some("eu-west-1".into()),
            endpoint: None,
            profile: Some("ops".into()),
        },
        Names::default(),
    );
    info.worker = false;
    info.log_path = Some("/home/user/.local/state/voucherdeck/voucherdeck.log".into());
    info.peek_visibility = Duration::from_secs(30);
    info
}

pub fn key_event(code: KeyCode, mods: KeyModifiers) -> Msg {
    Msg::Key(KeyEvent::new(code, mods))
}

pub fn ch(c: char) -> Msg {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    key_event(KeyCode::Char(c), mods)
}

pub fn code(c: KeyCode) -> Msg {
    key_event(c, KeyModifiers::NONE)
}

/// Sends one message; returns its effects.
pub fn send(app: &mut App, msg: Msg) -> Vec<Effect> {
    update(app, msg)
}

/// Types text, character by character; asserts no effects.
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let effects = update(app, key_event(KeyCode::Char(c), KeyModifiers::NONE));
        assert!(effects.is_empty(), "typing {c:?} produced {effects:?}");
    }
}

pub fn stats(visible: u64, in_flight: u64, delayed: u64, at: Timestamp) -> QueueStats {
    QueueStats {
        visible,
        in_flight,
        delayed,
        oldest_age: None,
        as_of: at,
    }
}

pub fn voucher(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_b6d8_7f3a_7c1e_9d2b_0000_0000_0000 + n)
}

pub fn failure(n: u128, secs: i64, kind: FailureKind, reason: &str, dead: bool) -> FailureRecord {
    FailureRecord {
        record_id: Uuid::from_u128(0xfeed_0000 + n),
        at: ts(secs),
        queue: "vouchers".into(),
        message_id: format!("msg-{n:04}"),
        voucher_id: if kind == FailureKind::NotJson {
            None
        } else {
            Some(voucher(n))
        },
        recipient: Some(format!("a***@example.com#{n}")),
        kind,
        reason: reason.into(),
        receive_count: if dead { 5 } else { 2 },
        worker: "host-42".into(),
        dead_lettered: dead,
        group: None,
    }
}

pub fn failures() -> Vec<FailureRecord> {
    vec![
        failure(
            1,
            -100,
            FailureKind::NotJson,
            "body is not JSON: expected value at line 1 column 1",
            true,
        ),
        failure(
            2,
            -80,
            FailureKind::Unavailable,
            "unavailable: store outage (simulated)",
            false,
        ),
        failure(
            3,
            -60,
            FailureKind::Schema,
            "message version 2 is not supported (this build reads v1)",
            true,
        ),
        failure(
            4,
            -40,
            FailureKind::Unavailable,
            "unavailable: store outage (simulated)",
            false,
        ),
        failure(
            5,
            -20,
            FailureKind::Invalid,
            "voucher is invalid: amount must be at most 1000.00",
            true,
        ),
        failure(
            6,
            -5,
            FailureKind::Unavailable,
            "unavailable: store outage (simulated)",
            false,
        ),
    ]
}

pub fn dlq_entries() -> Vec<DlqMessage> {
    let mut attrs = BTreeMap::new();
    attrs.insert("voucherdeck.error_kind".to_string(), "schema".to_string());
    attrs.insert("voucherdeck.worker".to_string(), "host-42".to_string());
    vec![
        DlqMessage {
            message_id: "m-0001-aaaa".into(),
            body: "not json at all \u{1b}[31m red \u{7}".into(),
            attributes: BTreeMap::new(),
            receive_count: 1,
            sent_at: Some(ts(-300)),
            failure: Some(DlqFailure::Attributes(FailureAttributes {
                kind: "not_json".into(),
                reason: "body is not JSON: expected ident at line 1 column 2".into(),
                worker: Some("host-42".into()),
                first_seen: Some("2025-11-25T11:58:07.000Z".into()),
                source_queue: Some("vouchers".into()),
            })),
            body_dropped: false,
            group: None,
        },
        DlqMessage {
            message_id: "m-0002-bbbb".into(),
            body: r#"{"v":2,"voucher_id":"future-version"}"#.into(),
            attributes: attrs,
            receive_count: 2,
            sent_at: Some(ts(-200)),
            failure: Some(DlqFailure::Attributes(FailureAttributes {
                kind: "schema".into(),
                reason: "message version 2 is not supported (this build reads v1)".into(),
                worker: Some("host-42".into()),
                first_seen: None,
                source_queue: Some("vouchers".into()),
            })),
            body_dropped: false,
            group: None,
        },
        DlqMessage {
            message_id: "m-0003-cccc".into(),
            body: "{\"v\":1,\"note\":\"evil \\u001b[2J clear\"}".into(),
            attributes: BTreeMap::new(),
            receive_count: 6,
            sent_at: Some(ts(-100)),
            failure: None,
            body_dropped: false,
            group: None,
        },
    ]
}

/// Audited actions of three operators, newest first.
pub fn audit_entries() -> Vec<AuditEntry> {
    let entry =
        |n: u128, secs: i64, actor: &str, action, target: &str, count, outcome, detail: &str| {
            AuditEntry {
                id: Uuid::from_u128(0xa0d1_0000 + n),
                at: ts(secs),
                actor: actor.into(),
                action,
                target: target.into(),
                count,
                outcome,
                detail: Some(detail.into()),
                client_ip: None,
                note: None,
            }
        };
    vec![
        entry(
            1,
            -10,
            "arn:aws:sts::123456789012:assumed-role/ops/ada",
            AuditAction::Redrive,
            "vouchers-dlq",
            3,
            AuditOutcome::Ok,
            "3 chosen message(s) to their source queue: completed",
        ),
        entry(
            2,
            -40,
            "local:grace@laptop",
            AuditAction::DlqPurge,
            "vouchers-dlq",
            0,
            AuditOutcome::Refused,
            "read-only",
        ),
        entry(
            3,
            -75,
            "arn:aws:iam::123456789012:user/intake",
            AuditAction::Gift,
            "vouchers",
            25,
            AuditOutcome::Ok,
            "25 queued, 0 refused, 0 failed",
        ),
        entry(
            4,
            -90,
            "local:grace@laptop",
            AuditAction::DlqDelete,
            "vouchers-dlq",
            0,
            AuditOutcome::Failed,
            "unavailable: cannot reach the endpoint",
        ),
    ]
}

pub fn consumer(
    at: Timestamp,
    persisted: u64,
    failed: u64,
    dead: u64,
    paused: bool,
) -> ConsumerSample {
    ConsumerSample {
        at,
        snapshot: ConsumerSnapshot {
            paused,
            stopped: false,
            concurrency: 4,
            in_flight: 3,
            totals: ConsumerStats {
                received: persisted + failed,
                persisted,
                failed,
                dead_lettered: dead,
            },
            p50_ms: Some(12.0),
            p99_ms: Some(48.4),
            receive_failing_since: None,
        },
    }
}

/// Two minutes of history, ending at `ts(0)`: depth every 2 s, ages every 2 s, the failure log, the
/// worker every second.
pub fn populate(app: &mut App, with_worker: bool, exact_age: bool) {
    populate_history(app, with_worker, exact_age);
    send(app, Msg::Monitor(MonitorUpdate::Failures(failures())));
}

/// [`populate`] without the failure log.
pub fn populate_history(app: &mut App, with_worker: bool, exact_age: bool) {
    send(app, Msg::Tick(ts(-120)));
    for i in 0..=60i64 {
        let secs = -120 + i * 2;
        let at = ts(secs);
        let wave = ((i % 20) as u64) * 3;
        let dlq = 3 + (i as u64) / 15;
        send(
            app,
            Msg::Monitor(MonitorUpdate::Depth {
                queue: stats(20 + wave, 4 + (i as u64 % 4), 1, at),
                dlq: stats(dlq, 0, 0, at),
            }),
        );
        let age = |s: u64| AgeReading {
            age: Some(Duration::from_secs(s)),
            as_of: Some(if exact_age {
                at
            } else {
                ts(secs - secs.rem_euclid(60) - 60)
            }),
        };
        send(
            app,
            Msg::Monitor(MonitorUpdate::Age {
                queue: age(5 + (i as u64 % 30)),
                dlq: age(90 + i as u64 * 2),
                servers: ServersIntake::default(),
                exact: exact_age,
                at,
            }),
        );
        if with_worker {
            send(
                app,
                Msg::Consumer(consumer(
                    ts(secs - 1),
                    (i as u64) * 5,
                    i as u64 / 6,
                    i as u64 / 15,
                    false,
                )),
            );
            send(
                app,
                Msg::Consumer(consumer(
                    at,
                    (i as u64) * 5 + 2,
                    i as u64 / 6,
                    i as u64 / 15,
                    false,
                )),
            );
        }
        send(app, Msg::Tick(at));
    }
    let firing: &[AlarmKind] = if with_worker {
        &[AlarmKind::FailureRate]
    } else {
        &[]
    };
    let source = if exact_age { "embedded" } else { "cloudwatch" };
    send(
        app,
        Msg::Monitor(MonitorUpdate::Alarms(alarm_report(source, firing))),
    );
}

/// Every default alarm of `vouchers`, those of `firing` in ALARM since 30 s before `ts(0)`.
pub fn alarm_report(source: &'static str, firing: &[AlarmKind]) -> AlarmReport {
    let alarms = alarm_rules("vouchers", &AlarmThresholds::default())
        .into_iter()
        .map(|r| {
            let fired = firing.contains(&r.kind);
            AlarmStatus {
                name: r.name,
                kind: Some(r.kind),
                state: if fired {
                    AlarmState::Alarm
                } else {
                    AlarmState::Ok
                },
                reason: if fired {
                    "2 of the last 2 datapoints [35.0, 22.5] were above the threshold (10); 2 fire it"
                        .into()
                } else {
                    "0 of the last 1 datapoints [0.0] reached the threshold (60); 1 fires it".into()
                },
                since: Some(ts(if fired { -30 } else { -600 })),
            }
        })
        .collect();
    AlarmReport {
        source,
        alarms,
        missing: Vec::new(),
        outdated: Vec::new(),
        unavailable: None,
    }
}

pub fn render_to_string(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|f| render(app, f)).expect("draw");
    terminal.backend().to_string()
}
