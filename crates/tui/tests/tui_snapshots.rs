//! Snapshots of every screen on a fixed-size `TestBackend`, driven by messages with fixed timestamps.

mod tui_fixture;

use crossterm::event::{KeyCode, KeyModifiers};
use voucherdeck_core::ports::{BackendError, IntakeStats};
use voucherdeck_pipeline::{
    Feed, MonitorUpdate, PollError, RedriveMethod, RedriveProgress, RedriveStatus,
};
use voucherdeck_tui::{App, Effect, Msg};

use tui_fixture::{
    audit_entries, aws_info, ch, code, dlq_entries, embedded_info, failure, key_event, populate,
    populate_history, render_to_string, send, ts, type_text,
};
use voucherdeck_core::domain::{FailureKind, FailureRecord};

const W: u16 = 120;
const H: u16 = 36;

fn dashboard() -> App {
    let mut app = App::new(embedded_info());
    populate(&mut app, true, true);
    app
}

#[test]
fn dashboard_embedded() {
    let app = dashboard();
    insta::assert_snapshot!(render_to_string(&app, W, H));
}

#[test]
fn dashboard_aws_read_only_with_stale_data() {
    let mut info = aws_info();
    info.read_only = true;
    let mut app = App::new(info);
    populate(&mut app, false, false);
    // The depth poll starts failing and the clock runs on: the header must say stale, with the age,
    // since when the endpoint is unreachable and when the next attempt is.
    for (at, wait) in [(20, 10), (30, 20)] {
        send(
            &mut app,
            Msg::Monitor(MonitorUpdate::Failed(PollError {
                feed: Feed::Depth,
                error: BackendError::Unreachable("connection refused".into()),
                at: ts(at),
                retry_in: std::time::Duration::from_secs(wait),
            })),
        );
    }
    send(&mut app, Msg::Tick(ts(40)));
    // A mutating key says why it does nothing.
    send(&mut app, ch('n'));
    insta::assert_snapshot!(render_to_string(&app, W, H));
}

#[test]
fn dashboard_before_any_data() {
    let mut app = App::new(aws_info());
    send(&mut app, Msg::Tick(ts(0)));
    insta::assert_snapshot!(render_to_string(&app, W, H));
}

#[test]
fn dashboard_failures_grouped_and_filtered() {
    let mut app = dashboard();
    send(&mut app, ch('b'));
    insta::assert_snapshot!("failures_grouped", render_to_string(&app, W, H));
    send(&mut app, ch('b'));
    send(&mut app, ch('/'));
    type_text(&mut app, "outage");
    insta::assert_snapshot!("failures_filtering", render_to_string(&app, W, H));
}

/// On a FIFO queue the failures pane says which message groups a retrying message holds back;
/// a group whose newest failure went to the DLQ is not held.
#[test]
fn dashboard_fifo_groups_held_by_retries() {
    let mut info = embedded_info();
    info.names.queue = "orders.fifo".into();
    info.names.dlq = "orders-dlq.fifo".into();
    let mut app = App::new(info);
    populate_history(&mut app, true, true);
    let grouped = |n, secs, kind, reason: &str, dead, group: &str| FailureRecord {
        group: Some(group.into()),
        ..failure(n, secs, kind, reason, dead)
    };
    let records = vec![
        grouped(
            1,
            -3,
            FailureKind::Throttled,
            "slow down",
            false,
            "acme-payments",
        ),
        grouped(
            2,
            -2,
            FailureKind::Unavailable,
            "store unreachable",
            false,
            "ops",
        ),
        grouped(
            3,
            -1,
            FailureKind::NotJson,
            "body is not JSON",
            true,
            "batch-import",
        ),
    ];
    send(&mut app, Msg::Monitor(MonitorUpdate::Failures(records)));
    let screen = render_to_string(&app, W, H);
    assert!(
        screen.contains("held by a retry: group ops and 1 more"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn failure_detail() {
    let mut app = dashboard();
    send(&mut app, ch('j'));
    send(&mut app, code(KeyCode::Enter));
    insta::assert_snapshot!(render_to_string(&app, W, H));
}

#[test]
fn gift_form_with_validation_errors() {
    let mut app = dashboard();
    send(&mut app, ch('n'));
    type_text(&mut app, "ada@example");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "12.345");
    send(&mut app, code(KeyCode::Tab));
    send(
        &mut app,
        key_event(KeyCode::Char('u'), KeyModifiers::CONTROL),
    );
    type_text(&mut app, "euro");
    send(&mut app, code(KeyCode::Tab));
    insta::assert_snapshot!("gift_form_typing", render_to_string(&app, W, H));
    // Submitting marks every field, the empty sender included.
    send(&mut app, code(KeyCode::Enter));
    insta::assert_snapshot!("gift_form_submitted", render_to_string(&app, W, H));
}

#[test]
fn redrive_form_errors_then_confirm() {
    let mut app = dashboard();
    send(&mut app, ch('r'));
    type_text(&mut app, "bad name!");
    send(&mut app, code(KeyCode::Tab));
    send(&mut app, code(KeyCode::Right));
    send(&mut app, code(KeyCode::Tab));
    send(&mut app, code(KeyCode::Tab));
    send(
        &mut app,
        key_event(KeyCode::Char('u'), KeyModifiers::CONTROL),
    );
    type_text(&mut app, "9000");
    send(&mut app, code(KeyCode::Enter));
    insta::assert_snapshot!("redrive_form_errors", render_to_string(&app, W, H));
    // Fix them: original source queue, all messages, 25 msg/s.
    send(
        &mut app,
        key_event(KeyCode::Char('u'), KeyModifiers::CONTROL),
    );
    send(&mut app, code(KeyCode::Tab));
    send(&mut app, code(KeyCode::Left));
    send(&mut app, code(KeyCode::Tab));
    send(
        &mut app,
        key_event(KeyCode::Char('u'), KeyModifiers::CONTROL),
    );
    type_text(&mut app, "25");
    send(&mut app, code(KeyCode::Enter));
    insta::assert_snapshot!("redrive_confirm", render_to_string(&app, W, H));
}

#[test]
fn redrive_running_progress() {
    let mut app = dashboard();
    send(&mut app, ch('r'));
    send(&mut app, code(KeyCode::Enter));
    send(&mut app, ch('y'));
    send(&mut app, Msg::Tick(ts(10)));
    send(
        &mut app,
        Msg::Redrive(RedriveProgress {
            method: RedriveMethod::Native,
            moved: 40,
            total: Some(120),
            failed: 0,
            status: RedriveStatus::Running,
        }),
    );
    insta::assert_snapshot!(render_to_string(&app, W, H));
}

/// A message of a FIFO DLQ names its group in the detail (where its retries and order belong).
#[test]
fn a_fifo_dlq_message_names_its_group() {
    let mut app = dashboard();
    send(&mut app, ch('d'));
    let mut entries = dlq_entries();
    entries[0].group = Some("acme-payments".into());
    send(&mut app, Msg::DlqPeeked(Ok(entries)));
    let screen = render_to_string(&app, W, H);
    assert!(
        screen
            .lines()
            .any(|l| l.contains("group") && l.contains("acme-payments")),
        "{screen}"
    );
}

#[test]
fn dlq_browser_with_selection() {
    let mut app = dashboard();
    send(&mut app, ch('d'));
    send(&mut app, Msg::DlqPeeked(Ok(dlq_entries())));
    send(&mut app, code(KeyCode::Char(' ')));
    insta::assert_snapshot!("dlq_browser_list", render_to_string(&app, W, H));
    // The first body carries raw escape sequences: they are shown defused.
    send(&mut app, ch('k'));
    send(&mut app, code(KeyCode::Enter));
    let zoomed = render_to_string(&app, W, H);
    assert!(!zoomed.contains('\u{1b}'), "escape reached the screen");
    insta::assert_snapshot!("dlq_browser_zoomed_detail", zoomed);
}

#[test]
fn dlq_browser_loading_and_delete_confirm() {
    let mut app = dashboard();
    send(&mut app, ch('d'));
    insta::assert_snapshot!("dlq_browser_loading", render_to_string(&app, W, H));
    send(&mut app, Msg::DlqPeeked(Ok(dlq_entries())));
    send(&mut app, code(KeyCode::Char(' ')));
    send(&mut app, code(KeyCode::Char(' ')));
    send(&mut app, ch('x'));
    insta::assert_snapshot!("dlq_delete_confirm", render_to_string(&app, W, H));
}

#[test]
fn purge_asks_for_the_queue_name() {
    let mut app = dashboard();
    send(&mut app, ch('P'));
    type_text(&mut app, "vouchers-d");
    insta::assert_snapshot!(render_to_string(&app, W, H));
}

#[test]
fn help_screen() {
    let mut app = dashboard();
    send(&mut app, ch('?'));
    insta::assert_snapshot!(render_to_string(&app, W, H));
}

#[test]
fn help_in_read_only_mode() {
    let mut info = aws_info();
    info.read_only = true;
    let mut app = App::new(info);
    send(&mut app, Msg::Tick(ts(0)));
    send(&mut app, ch('?'));
    insta::assert_snapshot!(render_to_string(&app, W, H));
}

#[test]
fn read_only_dlq_browser_lists_the_failure_log_and_does_not_peek() {
    let mut info = aws_info();
    info.read_only = true;
    let mut app = App::new(info);
    populate(&mut app, false, false);
    assert!(send(&mut app, ch('d')).is_empty(), "no peek");
    send(&mut app, ch('j'));
    insta::assert_snapshot!(render_to_string(&app, W, H));
}

#[test]
fn audit_log() {
    let mut app = dashboard();
    assert_eq!(send(&mut app, ch('A')), vec![Effect::RefreshAudit]);
    insta::assert_snapshot!("audit_log_loading", render_to_string(&app, W, H));
    send(
        &mut app,
        Msg::Monitor(MonitorUpdate::Audit {
            entries: audit_entries(),
            at: ts(-3),
        }),
    );
    insta::assert_snapshot!("audit_log", render_to_string(&app, W, H));
}

#[test]
fn terminal_too_small() {
    let app = dashboard();
    insta::assert_snapshot!(render_to_string(&app, 40, 12));
}

#[test]
fn smallest_usable_size() {
    let app = dashboard();
    insta::assert_snapshot!(render_to_string(&app, 70, 22));
}

#[test]
fn classic_80x24() {
    let app = dashboard();
    insta::assert_snapshot!(render_to_string(&app, 80, 24));
}

/// The dashboard with two minutes of history and a failure log that has nothing in it.
fn dashboard_without_failures() -> App {
    let mut app = App::new(embedded_info());
    populate_history(&mut app, true, true);
    send(&mut app, Msg::Monitor(MonitorUpdate::Failures(Vec::new())));
    app
}

#[test]
fn classic_80x24_without_failures() {
    let app = dashboard_without_failures();
    insta::assert_snapshot!(render_to_string(&app, 80, 24));
}

#[test]
fn half_a_laptop_100x30() {
    let app = dashboard();
    insta::assert_snapshot!(render_to_string(&app, 100, 30));
}

#[test]
fn half_a_laptop_100x30_without_failures() {
    let app = dashboard_without_failures();
    insta::assert_snapshot!(render_to_string(&app, 100, 30));
}

/// The lines inside the pane whose top border carries `title`: from below its top border to above
/// its bottom border, in the columns where the title starts.
fn pane_rows(screen: &[String], title: &str) -> usize {
    let top = screen
        .iter()
        .position(|l| l.contains(title))
        .unwrap_or_else(|| panic!("no pane titled {title:?}:\n{}", screen.join("\n")));
    let (line, title): (Vec<char>, Vec<char>) =
        (screen[top].chars().collect(), title.chars().collect());
    let col = line
        .windows(title.len())
        .position(|w| w == title.as_slice())
        .expect("title column");
    screen[top + 1..]
        .iter()
        .take_while(|l| !matches!(l.chars().nth(col), Some('╰' | '┗')))
        .count()
}

#[test]
fn at_80x24_the_depth_chart_keeps_its_rows_and_every_title_reads_whole() {
    for app in [dashboard(), dashboard_without_failures()] {
        let text = render_to_string(&app, 80, 24);
        let screen: Vec<String> = text
            .lines()
            .map(|l| l.trim_matches('"').to_string())
            .collect();
        let depth = pane_rows(&screen, "╭ Queue depth vouchers ");
        assert!(depth >= 7, "the depth pane has {depth} rows:\n{text}");
        // The chart is drawn, with its time axis, beside the figures.
        assert!(text.contains("now"), "no chart:\n{text}");
        assert!(text.contains("outstanding"), "{text}");
        for title in [
            "╭ Queue depth vouchers ",
            "╭ Oldest message ",
            "╭ DLQ vouchers-dlq ",
            "╭ Alarms ",
            "╭ Worker ",
            "┏ Recent failures ",
        ] {
            assert!(text.contains(title), "{title:?} is cut:\n{text}");
        }
        // The header names the queue and the DLQ whole.
        assert!(
            screen[0].contains(" vouchers ") && screen[0].contains(" vouchers-dlq "),
            "{}",
            screen[0]
        );
    }
    // No failure: the table is one line, and the chart has the room.
    let text = render_to_string(&dashboard_without_failures(), 80, 24);
    let screen: Vec<String> = text
        .lines()
        .map(|l| l.trim_matches('"').to_string())
        .collect();
    assert_eq!(pane_rows(&screen, "┏ Recent failures "), 1, "{text}");
    assert!(text.contains("no failures recorded"), "{text}");
    assert!(pane_rows(&screen, "╭ Queue depth vouchers ") >= 9, "{text}");
}

/// Every screen and modal at many sizes, tiny ones included: nothing panics.
#[test]
fn no_size_panics() {
    let mut states: Vec<App> = Vec::new();
    let base = dashboard();
    states.push(base.clone());
    let mut s = base.clone();
    send(&mut s, ch('n'));
    type_text(&mut s, "x");
    states.push(s);
    let mut s = base.clone();
    send(&mut s, ch('r'));
    states.push(s.clone());
    send(&mut s, code(KeyCode::Enter));
    states.push(s.clone());
    send(&mut s, ch('y'));
    states.push(s);
    let mut s = base.clone();
    send(&mut s, ch('d'));
    send(&mut s, Msg::DlqPeeked(Ok(dlq_entries())));
    states.push(s.clone());
    send(&mut s, code(KeyCode::Enter));
    states.push(s);
    let mut s = base.clone();
    send(&mut s, ch('?'));
    states.push(s);
    let mut s = base.clone();
    send(&mut s, ch('A'));
    send(
        &mut s,
        Msg::Monitor(MonitorUpdate::Audit {
            entries: audit_entries(),
            at: ts(0),
        }),
    );
    states.push(s);
    let mut s = App::new(aws_info());
    s.view_mut().info.read_only = true;
    populate(&mut s, false, false);
    send(&mut s, ch('d'));
    states.push(s);
    let mut s = base;
    send(&mut s, ch('P'));
    states.push(s);
    states.push(App::new(aws_info()));
    for app in &states {
        for w in (1..=130).step_by(13).chain([40, 69, 70, 71, 80, 120]) {
            for h in (1..=45).step_by(6).chain([12, 21, 22, 23, 24, 36]) {
                let _ = render_to_string(app, w, h);
            }
        }
    }
}

#[test]
fn dashboard_with_the_intake_api_in_process() {
    use voucherdeck_pipeline::IntakeSnapshot;
    let mut info = embedded_info();
    info.intake = Some(voucherdeck_tui::IntakeInfo {
        addr: "127.0.0.1:8080".into(),
        demo_key: Some(format!("vdk_{}_{}", "0".repeat(16), "1".repeat(64))),
    });
    let mut app = App::new(info);
    populate(&mut app, true, true);
    for (secs, accepted) in [(10, 100), (11, 142)] {
        send(
            &mut app,
            Msg::Monitor(MonitorUpdate::Intake {
                snapshot: IntakeSnapshot {
                    accepted,
                    refused: vec![("daily_cap".into(), 3), ("invalid".into(), 2)],
                    unauthorized: 4,
                    answers: IntakeStats {
                        requests: 160,
                        server_errors: 0,
                        throttled: 3,
                        audit_lost: 0,
                    },
                    p99: Some(std::time::Duration::from_micros(8_400)),
                    in_flight: 1,
                },
                at: ts(secs),
            }),
        );
    }
    insta::assert_snapshot!(render_to_string(&app, W, H));
    send(&mut app, ch('?'));
    insta::assert_snapshot!("help_with_the_demo_key", render_to_string(&app, W, H));
}

/// The style of the first cell of `text` on screen, and the screen, drawn at `W`×`H`.
fn style_of(app: &App, text: &str) -> (Option<ratatui::style::Style>, String) {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(W, H)).expect("test terminal");
    terminal
        .draw(|f| voucherdeck_tui::render(app, f))
        .expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let screen = terminal.backend().to_string();
    for y in 0..H {
        let row: String = (0..W).map(|x| buffer[(x, y)].symbol()).collect();
        if let Some(at) = row.find(text) {
            let x = row[..at].chars().count() as u16;
            return (Some(buffer[(x, y)].style()), screen);
        }
    }
    (None, screen)
}

#[test]
fn lost_audit_entries_show_red_in_the_intake_pane_and_quiet_at_zero() {
    use voucherdeck_pipeline::IntakeSnapshot;
    let mut info = embedded_info();
    info.intake = Some(voucherdeck_tui::IntakeInfo {
        addr: "127.0.0.1:8080".into(),
        demo_key: None,
    });
    let mut app = App::new(info);
    populate(&mut app, true, true);
    let reading = |audit_lost| {
        Msg::Monitor(MonitorUpdate::Intake {
            snapshot: IntakeSnapshot {
                accepted: 10,
                answers: IntakeStats {
                    requests: 10,
                    audit_lost,
                    ..IntakeStats::default()
                },
                ..IntakeSnapshot::default()
            },
            at: ts(10),
        })
    };
    send(&mut app, reading(0));
    let (quiet, screen) = style_of(&app, "audit lost");
    assert!(quiet.is_none(), "at zero, below the help line: {screen}");
    send(&mut app, reading(7));
    let (red, screen) = style_of(&app, "audit lost 7");
    let alarm = app.view().theme.alarm;
    assert_eq!(red.and_then(|s| s.fg), alarm.fg, "{screen}");
    assert!(screen.contains("audit lost 7"), "{screen}");

    // With no server here, the servers' published minute says the same.
    let app = dashboard_reading_servers(voucherdeck_core::ports::ServersIntake {
        last_minute: Some(IntakeStats {
            requests: 5,
            audit_lost: 2,
            ..IntakeStats::default()
        }),
        as_of: Some(ts(0)),
        active_last_hour: true,
    });
    let (red, screen) = style_of(&app, "audit lost 2");
    assert_eq!(
        red.and_then(|s| s.fg),
        app.view().theme.alarm.fg,
        "{screen}"
    );
}

/// The once-a-minute read at `secs`: no ages, and `servers`.
fn read_servers(app: &mut App, servers: voucherdeck_core::ports::ServersIntake, secs: i64) {
    let none = voucherdeck_core::ports::AgeReading {
        age: None,
        as_of: None,
    };
    send(
        app,
        Msg::Monitor(MonitorUpdate::Age {
            queue: none,
            dlq: none,
            servers,
            exact: false,
            at: ts(secs),
        }),
    );
}

/// An AWS dashboard with no API in this process, after a once-a-minute read that found `servers`.
fn dashboard_reading_servers(servers: voucherdeck_core::ports::ServersIntake) -> App {
    let mut app = App::new(aws_info());
    populate(&mut app, true, false);
    read_servers(&mut app, servers, 60);
    app
}

#[test]
fn dashboard_with_the_servers_figures_from_cloudwatch() {
    use voucherdeck_core::ports::{IntakeStats, ServersIntake};
    let app = dashboard_reading_servers(ServersIntake {
        last_minute: Some(IntakeStats {
            requests: 1_250,
            server_errors: 3,
            throttled: 40,
            audit_lost: 0,
        }),
        as_of: Some(ts(0)),
        active_last_hour: true,
    });
    let screen = render_to_string(&app, W, H);
    assert!(screen.contains("requests/min 1250"), "{screen}");
    assert!(screen.contains("5xx 3 (0.2%)"), "{screen}");
    assert!(screen.contains("429 40 (3.2%)"), "{screen}");
    insta::assert_snapshot!(screen);
    insta::assert_snapshot!(
        "dashboard_with_the_servers_figures_at_160_columns",
        render_to_string(&app, 160, 48)
    );
}

#[test]
fn dashboard_says_when_no_server_published_in_the_last_minute() {
    use voucherdeck_core::ports::ServersIntake;
    let app = dashboard_reading_servers(ServersIntake {
        last_minute: None,
        as_of: None,
        active_last_hour: true,
    });
    let screen = render_to_string(&app, W, H);
    assert!(screen.contains("no data"), "{screen}");
    assert!(screen.contains("no server published"), "{screen}");
    assert!(screen.contains("in the last minute"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_intake_pane_hides_while_no_server_published_in_the_last_hour() {
    use voucherdeck_core::ports::ServersIntake;
    let mut app = dashboard_reading_servers(ServersIntake {
        active_last_hour: true,
        ..ServersIntake::default()
    });
    while app.view().focus != voucherdeck_tui::focus::Pane::Intake {
        send(&mut app, code(KeyCode::Tab));
    }
    // An hour later no server has published: the pane goes, and the focus with it.
    read_servers(&mut app, ServersIntake::default(), 3_700);
    let screen = render_to_string(&app, W, H);
    assert!(!screen.contains(" Intake "), "{screen}");
    assert_eq!(app.view().focus, voucherdeck_tui::focus::Pane::Failures);
}
