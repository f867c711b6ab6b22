//! The on-call parts of the dashboard, driven by messages: the alarms pane and its detail, the
//! header that turns red with an alarm's name, the bell, the production skin; the DLQ browser
//! paging through a whole DLQ, its filter and selection over every message, export with progress,
//! edit and resend.

mod tui_fixture;

use std::collections::BTreeMap;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use tokio::sync::mpsc;
use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::{AlarmKind, GiftRequest};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{
    DlqFailure, DlqMessage, FailureAttributes, Feed, MonitorConfig, MonitorUpdate, Pipeline,
    PipelineConfig, PollError, ResendReceipt,
};
use voucherdeck_tui::effects::{Effects, EffectsConfig};
use voucherdeck_tui::overview::rows;
use voucherdeck_tui::run::app_info;
use voucherdeck_tui::{App, Effect, KeyMap, Modal, Msg, Screen, TuiOptions, render, update};

use tui_fixture::{
    alarm_report, aws_info, ch, code, dlq_entries, embedded_info, key_event, populate,
    render_to_string, send, stats, ts, voucher,
};

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
    assert!(app.view().feeds.alarms.firing().is_empty());
    assert_ne!(header_background(&app), Some(Color::Red));

    let fired = Msg::Monitor(MonitorUpdate::Alarms(alarm_report(
        "cloudwatch",
        &[AlarmKind::AgeAlarm, AlarmKind::DlqNotEmpty],
    )));
    assert_eq!(send(&mut app, fired), vec![Effect::Bell]);
    assert_eq!(header_background(&app), Some(Color::Red));
    let screen = render_to_string(&app, W, H);
    // The header names the queue, so the alarm's name goes without the queue's prefix when the
    // line is full.
    assert!(screen.contains("ALARM age-alarm +1"), "{screen}");
    assert!(
        screen.contains("queue vouchers · dlq vouchers-dlq"),
        "{screen}"
    );
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
    let latest = *app.view().feeds.depth.latest().expect("depth");
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

/// `n` DLQ messages from number `from`: every seventh names "poison-7" in its body.
fn many(from: usize, n: usize) -> Vec<DlqMessage> {
    (from..from + n)
        .map(|i| DlqMessage {
            message_id: format!("m-{i:05}"),
            body: if i % 7 == 0 {
                format!("{{\"batch\":\"poison-7\",\"n\":{i}}}")
            } else {
                format!("{{\"n\":{i}}}")
            },
            attributes: BTreeMap::new(),
            receive_count: 1,
            sent_at: Some(ts(-300)),
            failure: Some(DlqFailure::Attributes(FailureAttributes {
                kind: "schema".into(),
                reason: "message has no \"v\" version field".into(),
                worker: Some("host-42".into()),
                first_seen: None,
                source_queue: Some("vouchers".into()),
            })),
            body_dropped: false,
            group: None,
        })
        .collect()
}

/// A dashboard whose DLQ holds 250 messages, with its browser open on the first page.
fn browser_on_a_big_dlq() -> App {
    let mut app = App::new(aws_info());
    populate(&mut app, false, false);
    let latest = *app.view().feeds.depth.latest().expect("depth");
    let mut dlq = latest.dlq;
    dlq.visible = 250;
    send(
        &mut app,
        Msg::Monitor(MonitorUpdate::Depth {
            queue: latest.queue,
            dlq,
        }),
    );
    assert_eq!(
        send(&mut app, ch('d')),
        vec![Effect::PeekDlq { limit: 100 }]
    );
    send(&mut app, Msg::DlqPeeked(Ok(many(0, 100))));
    app
}

#[test]
fn the_dlq_browser_pages_through_the_whole_dlq() {
    let mut app = browser_on_a_big_dlq();
    assert!(render_to_string(&app, W, H).contains("1–100 of ~250"));
    // The next page is read from SQS; the previous one is already here.
    assert_eq!(
        send(&mut app, ch(']')),
        vec![Effect::LoadDlq { more: Some(100) }]
    );
    send(
        &mut app,
        Msg::DlqMore {
            result: Ok(many(100, 100)),
            exhausted: false,
        },
    );
    assert_eq!(app.view().dlq.page, 1);
    assert_eq!(
        app.view().dlq.current().map(|m| m.message_id.as_str()),
        Some("m-00100")
    );
    insta::assert_snapshot!("dlq_browser_page_two", render_to_string(&app, W, H));
    assert!(send(&mut app, ch('[')).is_empty());
    assert_eq!(app.view().dlq.page, 0);
    assert!(
        send(&mut app, ch(']')).is_empty(),
        "page two is already read"
    );

    // A filter covers every message: the rest of the DLQ is read first.
    send(&mut app, ch('/'));
    for c in "poison-7".chars() {
        send(&mut app, ch(c));
    }
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::LoadDlq { more: None }]
    );
    send(&mut app, Msg::DlqProgress(230));
    assert!(render_to_string(&app, W, H).contains("reading 230 of ~250"));
    send(
        &mut app,
        Msg::DlqMore {
            result: Ok(many(200, 50)),
            exhausted: true,
        },
    );
    assert_eq!(app.view().dlq.rows().len(), 36, "every seventh of 250");
    // Select all takes every match, on every page; delete names them all.
    send(&mut app, ch('a'));
    assert_eq!(app.view().dlq.selected.len(), 36);
    send(&mut app, ch('x'));
    let Some(Modal::Confirm(c)) = &app.modal else {
        panic!("delete confirm")
    };
    assert!(c.lines[0].contains("Delete 36 messages"), "{:?}", c.lines);
    send(&mut app, code(KeyCode::Esc));
    // Leaving the browser lets go of what it holds.
    assert_eq!(send(&mut app, code(KeyCode::Esc)), vec![Effect::ReleaseDlq]);
}

#[test]
fn export_without_a_selection_reads_the_whole_dlq_with_progress() {
    let mut app = browser_on_a_big_dlq();
    let effects = send(&mut app, ch('e'));
    assert!(
        matches!(effects.as_slice(), [Effect::ExportDlqAll { file_name }] if file_name.starts_with("voucherdeck-dlq-")),
        "{effects:?}"
    );
    send(&mut app, Msg::DlqProgress(120));
    insta::assert_snapshot!("dlq_export_progress", render_to_string(&app, W, H));
    send(
        &mut app,
        Msg::DlqMore {
            result: Ok(many(100, 150)),
            exhausted: true,
        },
    );
    send(
        &mut app,
        Msg::Exported(Ok(("/tmp/voucherdeck-dlq.jsonl".into(), 250))),
    );
    assert!(render_to_string(&app, W, H).contains("1–100 of 250"));
    assert!(
        app.toast
            .as_ref()
            .is_some_and(|t| t.text.contains("exported 250"))
    );
}

fn gift(amount: &str) -> GiftRequest {
    GiftRequest {
        recipient: "eve@example.com".into(),
        amount: amount.into(),
        currency: Some("USD".into()),
        sender: "mallory".into(),
        ..GiftRequest::default()
    }
}

#[test]
fn edit_and_resend_in_the_form_checks_it_like_a_gift() {
    let mut app = browser_on_a_big_dlq();
    app.view_mut().dlq.entries[0].body = r#"{"v":1,"recipient":{"kind":"email","address":"eve@example.com"},"amount":"99999.00","currency":"USD","sender":"mallory"}"#.into();
    assert!(send(&mut app, ch('E')).is_empty());
    let Some(Modal::Gift(form)) = &app.modal else {
        panic!("the form, with no editor set")
    };
    assert_eq!(form.amount, "99999.00");
    insta::assert_snapshot!("resend_form", render_to_string(&app, W, H));
    // Fix the amount (the form shows why the message was refused) and confirm.
    send(&mut app, code(KeyCode::Tab));
    send(
        &mut app,
        key_event(KeyCode::Char('u'), KeyModifiers::CONTROL),
    );
    for c in "25.00".chars() {
        send(&mut app, ch(c));
    }
    assert!(send(&mut app, code(KeyCode::Enter)).is_empty());
    let Some(Modal::Confirm(c)) = &app.modal else {
        panic!("confirm")
    };
    assert!(
        c.lines.join(" ").contains("then delete message m-00000"),
        "{:?}",
        c.lines
    );
    assert_eq!(
        send(&mut app, ch('y')),
        vec![Effect::ResendDlq {
            message_id: "m-00000".into(),
            gift: gift("25.00"),
            note: None,
        }]
    );
    let receipt = ResendReceipt {
        message_id: "m-00000".into(),
        voucher_id: uuid::Uuid::from_u128(7),
        queue: "vouchers".into(),
        original_deleted: true,
    };
    send(
        &mut app,
        Msg::Resent {
            message_id: "m-00000".into(),
            result: Ok(receipt),
        },
    );
    assert_eq!(app.view().dlq.entries.len(), 99);
    assert!(
        app.toast
            .as_ref()
            .is_some_and(|t| t.text.contains("original deleted"))
    );
}

#[test]
fn edit_and_resend_in_the_editor_comes_back_to_be_confirmed_or_fixed() {
    let mut info = aws_info();
    info.editor = true;
    let mut app = App::new(info);
    populate(&mut app, false, false);
    send(&mut app, ch('d'));
    send(&mut app, Msg::DlqPeeked(Ok(many(0, 3))));
    let effects = send(&mut app, ch('E'));
    assert!(
        matches!(effects.as_slice(), [Effect::EditDlq { message_id, .. }] if message_id == "m-00000"),
        "{effects:?}"
    );
    // Still invalid after editing: the form opens with the errors.
    let edited = |amount: &str| Msg::Edited {
        message_id: "m-00000".into(),
        result: Ok(gift(amount)),
    };
    send(&mut app, edited("0"));
    assert!(matches!(&app.modal, Some(Modal::Gift(f)) if f.resend.is_some()));
    send(&mut app, code(KeyCode::Esc));
    send(&mut app, edited("12.50"));
    assert!(matches!(&app.modal, Some(Modal::Confirm(_))));
}

/// Two pipelines: `staging` (embedded) and `prod` (AWS, production, read-only), on the overview.
fn two_pipelines() -> App {
    let mut staging = embedded_info();
    staging.pipeline = Some("staging".into());
    let mut prod = aws_info();
    prod.pipeline = Some("prod".into());
    prod.production = true;
    prod.read_only = true;
    let mut app = App::with_pipelines(vec![staging, prod], 0, KeyMap::defaults());
    populate(&mut app, true, true);
    // Every poll of prod arrives tagged with its index, while staging is the view kept on screen.
    let polls = [
        MonitorUpdate::Depth {
            queue: stats(40, 2, 0, ts(0)),
            dlq: stats(12, 0, 0, ts(0)),
        },
        MonitorUpdate::Alarms(alarm_report("cloudwatch", &[AlarmKind::DlqNotEmpty])),
    ];
    for poll in polls {
        let effects = send(
            &mut app,
            Msg::For {
                index: 1,
                msg: Box::new(Msg::Monitor(poll)),
            },
        );
        assert!(effects.is_empty(), "{effects:?}");
    }
    app
}

#[test]
fn the_overview_lists_every_pipeline_most_troubled_first_and_opens_one() {
    let mut app = two_pipelines();
    assert_eq!(app.screen, Screen::Overview);
    insta::assert_snapshot!("overview_two_pipelines", render_to_string(&app, W, 24));
    // prod has an alarm in ALARM and 12 DLQ messages: first. Enter opens it, in its own skin.
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::OnScreen(1)]
    );
    assert_eq!(app.screen, Screen::Dashboard);
    assert_eq!(app.view().info.pipeline.as_deref(), Some("prod"));
    assert!(
        app.view().info.read_only,
        "production: read-only unless --write"
    );
    assert_eq!(
        header_background(&app),
        Some(Color::Red),
        "its alarm is firing"
    );
    assert!(render_to_string(&app, W, H).contains("PRODUCTION"));
    // A mutation is refused there; a message for staging, now in the background, lands in its view.
    send(&mut app, ch('n'));
    assert!(app.modal.is_none());
    let effects = send(
        &mut app,
        Msg::For {
            index: 0,
            msg: Box::new(Msg::Monitor(MonitorUpdate::Alarms(alarm_report(
                "embedded",
                &[AlarmKind::FailureRate, AlarmKind::NoConsumer],
            )))),
        },
    );
    assert!(effects.is_empty());
    // Esc comes back; staging's news is on the overview.
    send(&mut app, code(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Overview);
    let screen = render_to_string(&app, W, 24);
    assert!(screen.contains("2 ALARM"), "{screen}");
    // The other way round: staging, now with two alarms, comes first and opens with its history.
    send(&mut app, ch('g'));
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::OnScreen(0)]
    );
    assert_eq!(app.view().info.pipeline.as_deref(), Some("staging"));
    assert!(app.view().feeds.depth.history.len() > 50);
}

#[test]
fn an_unreachable_pipeline_is_marked_and_put_first() {
    let mut app = two_pipelines();
    send(
        &mut app,
        Msg::For {
            index: 0,
            msg: Box::new(Msg::Monitor(MonitorUpdate::Failed(PollError {
                feed: Feed::Depth,
                error: voucherdeck_core::ports::BackendError::Unreachable(
                    "connection refused".into(),
                ),
                at: ts(1),
                retry_in: Duration::from_secs(10),
            }))),
        },
    );
    let screen = render_to_string(&app, W, 24);
    let first_row = screen
        .lines()
        .find(|l| l.contains("staging"))
        .unwrap_or_default();
    assert!(first_row.contains("unreachable"), "{screen}");
    let prod_at = screen.find("prod").unwrap_or(usize::MAX);
    let staging_at = screen.find("staging").unwrap_or(0);
    assert!(staging_at < prod_at, "unreachable first:\n{screen}");
}

#[test]
fn a_message_for_a_pipeline_off_screen_changes_only_its_own_view() {
    let mut app = two_pipelines();
    app.pipelines[1].info.bell = true;
    let staging = app.pipelines[0].clone();
    let tagged = |index, msg| Msg::For {
        index,
        msg: Box::new(msg),
    };
    // prod's DLQ answer and worker event land in prod's view; staging, on screen, stays as it was.
    let effects = send(&mut app, tagged(1, Msg::DlqPeeked(Ok(dlq_entries()))));
    assert!(effects.is_empty(), "{effects:?}");
    let persisted = Msg::Persisted {
        voucher_id: voucher(7),
        message_id: "m-7".into(),
    };
    assert!(send(&mut app, tagged(1, persisted)).is_empty());
    assert_eq!(app.pipelines[1].dlq.entries, dlq_entries());
    assert_eq!(app.pipelines[1].recently_persisted.len(), 1);
    assert_eq!(app.pipelines[0], staging);
    assert_eq!(app.active, 0);
    // What it asks for goes to its own lane (a new alarm rings prod's bell); the status line says it.
    let alarms = alarm_report(
        "cloudwatch",
        &[AlarmKind::DlqNotEmpty, AlarmKind::FailureRate],
    );
    assert_eq!(
        send(
            &mut app,
            tagged(1, Msg::Monitor(MonitorUpdate::Alarms(alarms)))
        ),
        vec![Effect::On {
            index: 1,
            effect: Box::new(Effect::Bell),
        }]
    );
    assert!(
        app.toast
            .as_ref()
            .is_some_and(|t| t.text.starts_with("ALARM"))
    );
    assert_eq!(app.pipelines[0], staging);
    // A pipeline the dashboard does not watch: nothing happens.
    let before = app.clone();
    assert!(send(&mut app, tagged(7, Msg::DlqProgress(3))).is_empty());
    assert_eq!(app, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_embedded_pipelines_feed_one_overview() {
    let mut lanes = Vec::new();
    let mut infos = Vec::new();
    let dir = tempfile::tempdir().expect("tmp");
    for name in ["blue", "green"] {
        let names = Names {
            queue: format!("{name}-q"),
            dlq: format!("{name}-dlq"),
            ..Names::default()
        };
        let embedded = Embedded::new(names);
        let p = Pipeline::new(embedded.backend.clone(), PipelineConfig::default());
        p.prepare_embedded().await.expect("prepare");
        let opts = TuiOptions {
            pipeline: Some(name.into()),
            monitor: MonitorConfig {
                depth_every: Duration::from_millis(100),
                failures_every: Duration::from_millis(100),
                ..MonitorConfig::default()
            },
            ..TuiOptions::default()
        };
        infos.push(app_info(&p, &opts, None));
        let cfg = EffectsConfig {
            worker: false,
            worker_paused: true,
            worker_concurrency: 1,
            monitor: opts.monitor,
            export_dir: dir.path().to_path_buf(),
        };
        lanes.push((p, cfg));
    }
    let (tx, mut rx) = mpsc::channel(1024);
    let mut effects = Effects::start_many(lanes, &tx, 0);
    let mut app = App::with_pipelines(infos, 0, KeyMap::defaults());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while rows(&app)
        .iter()
        .any(|r| r.visible.is_none() || r.feeds.alarms.report.is_none())
    {
        let msg = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("both pipelines report within 10 s")
            .expect("channel open");
        for effect in update(&mut app, msg) {
            effects.run(effect);
        }
    }
    let screen = render_to_string(&app, W, 24);
    assert!(
        screen.contains("blue") && screen.contains("green"),
        "{screen}"
    );
    assert_eq!(rows(&app).iter().filter(|r| r.firing.is_empty()).count(), 2);
    effects.shutdown().await;
}

#[test]
fn a_message_whose_body_was_not_kept_says_so_and_where_to_see_it() {
    let mut app = browser_on_a_big_dlq();
    let dropped: Vec<DlqMessage> = many(100, 50)
        .into_iter()
        .map(|mut m| {
            m.body = String::new();
            m.body_dropped = true;
            m
        })
        .collect();
    send(
        &mut app,
        Msg::DlqMore {
            result: Ok(dropped),
            exhausted: true,
        },
    );
    assert!(send(&mut app, ch(']')).is_empty(), "page two is read");
    assert_eq!(
        app.view().dlq.current().map(|m| m.message_id.as_str()),
        Some("m-00100")
    );
    let screen = render_to_string(&app, W, H);
    assert!(screen.contains("(not kept"), "{screen}");
    // No gift to edit out of an empty body: the command that reads it again is named.
    assert!(send(&mut app, ch('E')).is_empty());
    assert!(app.modal.is_none());
    assert!(
        app.toast
            .as_ref()
            .is_some_and(|t| t.text.contains("voucherdeck dlq resend m-00100")),
        "{:?}",
        app.toast
    );
    // The filter says which messages it could only search by id, kind and reason.
    send(&mut app, ch('/'));
    for c in "poison-7".chars() {
        send(&mut app, ch(c));
    }
    assert!(send(&mut app, code(KeyCode::Enter)).is_empty());
    assert_eq!(
        app.view().dlq.rows().len(),
        15,
        "every seventh of the first 100"
    );
    let screen = render_to_string(&app, W, H);
    assert!(
        screen.contains("the bodies of 50 were not kept"),
        "{screen}"
    );
}
