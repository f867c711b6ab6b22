//! The on-call parts of the dashboard, driven by messages: the alarms pane and its detail, the
//! header that turns red with an alarm's name, the bell, the production skin.

mod tui_fixture;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use voucherdeck::domain::AlarmKind;
use voucherdeck::pipeline::MonitorUpdate;
use voucherdeck::tui::{App, Effect, Msg, Screen, render};

use tui_fixture::{alarm_report, aws_info, code, embedded_info, populate, render_to_string, send};

const W: u16 = 120;
const H: u16 = 36;

/// The background colour of the header's first line, away from its badges.
fn header_background(app: &App) -> Option<Color> {
    let mut terminal = Terminal::new(TestBackend::new(W, H)).expect("terminal");
    terminal.draw(|f| render(app, f)).expect("draw");
    terminal.backend().buffer()[(W - 20, 0)].style().bg
}

#[test]
fn an_alarm_turns_the_header_red_with_its_name_and_rings_the_bell_when_asked() {
    let mut info = aws_info();
    info.bell = true;
    let mut app = App::new(info);
    populate(&mut app, false, false);
    assert!(app.feeds.alarms.firing().is_empty());
    assert_ne!(header_background(&app), Some(Color::Red));

    let fired = Msg::Monitor(MonitorUpdate::Alarms(alarm_report(
        "cloudwatch",
        &[AlarmKind::AgeAlarm, AlarmKind::DlqNotEmpty],
    )));
    assert_eq!(send(&mut app, fired), vec![Effect::Bell]);
    assert_eq!(header_background(&app), Some(Color::Red));
    let screen = render_to_string(&app, W, H);
    assert!(screen.contains("ALARM vouchers-age-alarm +1"), "{screen}");
    let toast = app.toast.as_ref().map(|t| t.text.clone());
    assert_eq!(toast.as_deref(), Some("ALARM: vouchers-dlq-not-empty"));

    // The same states again: no news, no bell. Cleared: news, bell, the header back to normal.
    let same = alarm_report("cloudwatch", &[AlarmKind::AgeAlarm, AlarmKind::DlqNotEmpty]);
    assert!(send(&mut app, Msg::Monitor(MonitorUpdate::Alarms(same))).is_empty());
    let cleared = alarm_report("cloudwatch", &[]);
    assert_eq!(
        send(&mut app, Msg::Monitor(MonitorUpdate::Alarms(cleared))),
        vec![Effect::Bell]
    );
    assert_ne!(header_background(&app), Some(Color::Red));
}

#[test]
fn no_bell_unless_asked_and_dlq_arrivals_ring_it() {
    let mut app = App::new(aws_info());
    populate(&mut app, false, false);
    let fired = alarm_report("cloudwatch", &[AlarmKind::FailureRate]);
    assert!(send(&mut app, Msg::Monitor(MonitorUpdate::Alarms(fired))).is_empty());

    let mut info = aws_info();
    info.bell = true;
    let mut app = App::new(info);
    populate(&mut app, false, false);
    let latest = *app.feeds.depth.latest().expect("depth");
    let more = |n| {
        let mut dlq = latest.dlq;
        dlq.visible += n;
        Msg::Monitor(MonitorUpdate::Depth {
            queue: latest.queue,
            dlq,
        })
    };
    assert_eq!(send(&mut app, more(2)), vec![Effect::Bell]);
    assert!(send(&mut app, more(2)).is_empty(), "no new arrival");
}

#[test]
fn alarms_pane_details_list_every_alarm_with_its_reason() {
    let mut app = App::new(embedded_info());
    populate(&mut app, true, true);
    // Focus the alarms pane (Tab from the failures table: depth, age, DLQ, alarms) and open it.
    for _ in 0..4 {
        send(&mut app, code(KeyCode::Tab));
    }
    send(&mut app, code(KeyCode::Enter));
    assert_eq!(app.screen, Screen::Dashboard);
    insta::assert_snapshot!("alarms_detail", render_to_string(&app, W, H));
    send(&mut app, code(KeyCode::Esc));
    assert!(app.modal.is_none());
}

#[test]
fn production_pipelines_wear_their_own_skin() {
    let mut info = aws_info();
    info.production = true;
    info.read_only = true;
    info.pipeline = Some("prod-eu".into());
    let mut app = App::new(info);
    populate(&mut app, false, false);
    assert_eq!(header_background(&app), Some(Color::Magenta));
    let screen = render_to_string(&app, W, H);
    let header: Vec<&str> = screen.lines().take(2).collect();
    insta::assert_snapshot!("production_header", header.join("\n"));
}
