//! Dashboard render cost with criterion on ratatui's `TestBackend`: a full 200×60 dashboard frame
//! holding an hour of history (depth every 2 s, age, worker samples, the failure log), and the DLQ
//! browser listing 1,000 messages. Target: each under 1 ms. It also prints the resident memory of
//! this process once it holds that hour (target for the dashboard: at most 20 MiB).
//!
//! `cargo bench -p voucherdeck-tui --bench render`; `cargo test` runs each once as a check.

#[path = "../tests/tui_fixture/mod.rs"]
mod fixture;
#[path = "../../../benches/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use fixture::{T0, failure, stats, ts};
use voucherdeck_core::domain::{FailureKind, Timestamp};
use voucherdeck_core::ports::{AgeReading, ServersIntake};
use voucherdeck_pipeline::{ConsumerSnapshot, ConsumerStats, DlqMessage, MonitorUpdate};
use voucherdeck_tui::msg::ConsumerSample;
use voucherdeck_tui::{App, Msg, render, update};

/// Seconds of history fed to the dashboard.
const HOUR: i64 = 3600;

fn send(app: &mut App, msg: Msg) {
    let _ = update(app, msg);
}

/// The failure log's newest 200 records at second `s`: one new record every 5 s.
fn failure_poll(s: i64) -> Vec<voucherdeck_core::domain::FailureRecord> {
    let newest = s / 5;
    ((newest - 199).max(0)..=newest)
        .rev()
        .map(|n| {
            let kind = [
                FailureKind::Unavailable,
                FailureKind::NotJson,
                FailureKind::Invalid,
            ][(n % 3) as usize];
            let mut r = failure(
                n as u128,
                n * 5 - HOUR,
                kind,
                "unavailable: voucher store is not answering (simulated outage)",
                n % 3 != 0,
            );
            r.at = ts(n * 5 - HOUR);
            r
        })
        .collect()
}

/// A dashboard that has run for an hour: every poll and sample it would have had, at their times.
fn dashboard_after_an_hour() -> App {
    let mut app = App::new(fixture::embedded_info());
    for s in 0..=HOUR {
        let at = ts(s - HOUR);
        let wave = ((s as f64 / 60.0).sin() * 40.0 + 40.0) as u64;
        if s % 2 == 0 {
            let (queue, dlq) = (
                stats(wave, s as u64 % 7, 0, at),
                stats(s as u64 / 300, 0, 0, at),
            );
            send(&mut app, Msg::Monitor(MonitorUpdate::Depth { queue, dlq }));
            let age = |secs| AgeReading {
                age: Some(Duration::from_secs(secs)),
                as_of: Some(at),
            };
            send(
                &mut app,
                Msg::Monitor(MonitorUpdate::Age {
                    queue: age(wave / 4),
                    dlq: age(s as u64 % 600),
                    servers: ServersIntake::default(),
                    exact: true,
                    at,
                }),
            );
        }
        if s % 5 == 0 {
            send(
                &mut app,
                Msg::Monitor(MonitorUpdate::Failures(failure_poll(s))),
            );
        }
        let snapshot = ConsumerSnapshot {
            paused: false,
            stopped: false,
            concurrency: 4,
            in_flight: (s % 5) as usize,
            totals: ConsumerStats {
                received: s as u64 * 4,
                persisted: s as u64 * 3,
                failed: s as u64 / 5,
                dead_lettered: s as u64 / 15,
            },
            p50_ms: Some(0.1),
            p99_ms: Some(0.4),
            receive_failing_since: None,
        };
        send(&mut app, Msg::Consumer(ConsumerSample { at, snapshot }));
        send(&mut app, Msg::Tick(at));
    }
    // The chart's longest window: the whole hour on screen.
    send(&mut app, fixture::ch('t'));
    send(&mut app, fixture::ch('t'));
    app
}

/// The DLQ browser open on `n` messages.
fn dlq_browser(n: usize) -> App {
    let mut app = dashboard_after_an_hour();
    send(&mut app, fixture::ch('d'));
    let template = fixture::dlq_entries();
    let entries: Vec<DlqMessage> = (0..n)
        .map(|i| {
            let mut m = template[i % template.len()].clone();
            m.message_id = format!("m-{i:05}-{}", i * 7919 % 10_000);
            m
        })
        .collect();
    send(&mut app, Msg::DlqPeeked(Ok(entries)));
    send(&mut app, Msg::Tick(Timestamp(T0)));
    app
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(200, 60)).expect("test terminal")
}

fn frame(c: &mut Criterion, name: &str, app: &App) {
    let mut term = terminal();
    c.bench_function(name, |b| {
        b.iter(|| {
            term.draw(|f| render(black_box(app), f)).expect("draw");
        });
    });
}

fn main() {
    let full = support::full_run();
    let before = support::resident_mib();
    let app = dashboard_after_an_hour();
    let mut term = terminal();
    term.draw(|f| render(&app, f)).expect("draw");
    let after = support::resident_mib();
    let browser = dlq_browser(1_000);
    if full {
        support::print_machine("dashboard render (criterion, TestBackend 200×60)");
        println!(
            "  resident: {before:.1} MiB before, {after:.1} MiB holding an hour of history, drawn \
             (+{:.1} MiB for the hour: {} depth samples, {} failures kept)",
            after - before,
            app.view().feeds.depth.history.len(),
            app.view().feeds.failures.records.len(),
        );
    }
    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(if full { 5 } else { 1 }));
    frame(&mut c, "dashboard frame 200x60, one hour of history", &app);
    frame(&mut c, "DLQ browser 200x60, 1000 messages", &browser);
    c.final_summary();
}
