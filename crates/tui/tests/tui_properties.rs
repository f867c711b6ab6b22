//! Property test of the dashboard's state: thousands of random keys, resizes, clock ticks and
//! answers to its own effects (and late ones), on every kind of dashboard (embedded, AWS,
//! read-only). The screen draws without a panic at the current size (after every resize, and every
//! few steps), and after every step the state is consistent:
//! cursors within their lists, selections among the listed messages, the filter line only on the
//! dashboard, the modal owning the keys, and a read-only dashboard never asking for a change.

mod tui_fixture;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;

use voucherdeck_core::ports::BackendError;
use voucherdeck_pipeline::{
    DlqCount, GiftError, MonitorUpdate, RedriveMethod, RedriveProgress, RedriveStatus,
};
use voucherdeck_tui::{App, Effect, Layer, Msg, Screen, update};

use tui_fixture::{
    audit_entries, aws_info, dlq_entries, embedded_info, failures, populate, render_to_string, ts,
};

/// One thing that happens to the dashboard.
#[derive(Debug, Clone)]
enum Step {
    Key(KeyCode, KeyModifiers),
    Resize(u16, u16),
    Tick,
    /// A peek's answer arriving late (a peek from before, the DLQ changed meanwhile).
    Peeked(usize),
    /// The failure log polled again, with `n` of the fixture's records.
    Failures(usize),
}

fn key_code() -> impl Strategy<Value = KeyCode> {
    prop_oneof![
        // The keys the keymap binds, most often; Esc and Enter to leave and confirm modals.
        6 => proptest::sample::select(
            "qQ?AnrdwWtPcbgGjkxeaR+-=/ yYN][LE:".chars().collect::<Vec<_>>()
        )
        .prop_map(KeyCode::Char),
        2 => proptest::sample::select(vec![KeyCode::Esc, KeyCode::Enter]),
        // Anything typed, including text for the forms and filters.
        1 => any::<char>().prop_map(KeyCode::Char),
        2 => proptest::sample::select(vec![
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Backspace,
            KeyCode::Delete,
            KeyCode::F(1),
        ]),
    ]
}

fn modifiers() -> impl Strategy<Value = KeyModifiers> {
    prop_oneof![
        8 => Just(KeyModifiers::NONE),
        1 => Just(KeyModifiers::CONTROL),
        1 => Just(KeyModifiers::SHIFT),
        1 => Just(KeyModifiers::ALT),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => (key_code(), modifiers()).prop_map(|(c, m)| Step::Key(c, m)),
        2 => (1u16..200, 1u16..60).prop_map(|(w, h)| Step::Resize(w, h)),
        2 => Just(Step::Tick),
        1 => (0usize..4).prop_map(Step::Peeked),
        1 => (0usize..7).prop_map(Step::Failures),
    ]
}

/// The dashboard kinds: embedded with a worker, AWS without, AWS read-only.
fn start(kind: u8) -> App {
    let mut app = match kind {
        0 => App::new(embedded_info()),
        1 => App::new(aws_info()),
        _ => {
            let mut info = aws_info();
            info.read_only = true;
            App::new(info)
        }
    };
    populate(&mut app, kind == 0, kind == 0);
    app
}

/// What the services would answer to an effect, as the effects runner sends it back.
fn answer(effect: &Effect, n: usize) -> Option<Msg> {
    Some(match effect {
        Effect::PeekDlq { .. } if n.is_multiple_of(5) => {
            Msg::DlqPeeked(Err("unavailable: gone".into()))
        }
        // The DLQ changes between peeks: from empty to three messages.
        Effect::PeekDlq { .. } => {
            Msg::DlqPeeked(Ok(dlq_entries().into_iter().take(n % 4).collect()))
        }
        Effect::Gift(_) => Msg::Gifted(Err(GiftError::Backend(BackendError::Unavailable(
            "no answer".into(),
        )))),
        Effect::DeleteDlq { ids, .. } => Msg::DlqDeleted {
            ids: ids.clone(),
            result: Ok(ids.len() as u64),
        },
        Effect::StartRedrive(_) => Msg::Redrive(RedriveProgress {
            method: RedriveMethod::Copy,
            moved: 2,
            total: Some(3),
            failed: 1,
            status: RedriveStatus::Completed,
        }),
        Effect::PurgeDlq { .. } => Msg::Purged(Ok(())),
        Effect::ExportDlq { file_name, entries } => {
            Msg::Exported(Ok((file_name.into(), entries.len())))
        }
        Effect::RefreshAudit => Msg::Monitor(MonitorUpdate::Audit {
            entries: audit_entries(),
            at: ts(n as i64),
        }),
        // More pages, the rest of the DLQ, or the whole of it for an export.
        Effect::LoadDlq { .. } => Msg::DlqMore {
            result: Ok(dlq_entries().into_iter().skip(n % 3).collect()),
            exhausted: n.is_multiple_of(2),
        },
        Effect::ExportDlqAll { file_name } => Msg::Exported(Ok((file_name.into(), 3))),
        Effect::CountDlq(_) => Msg::DlqCounted(Ok(DlqCount {
            matched: 1,
            scanned: 3,
            complete: true,
            held_back: 0,
        })),
        Effect::EditDlq { message_id, gift } => Msg::Edited {
            message_id: message_id.clone(),
            result: Ok(gift.clone()),
        },
        Effect::ResendDlq { message_id, .. } => Msg::Resent {
            message_id: message_id.clone(),
            result: Err(GiftError::Backend(BackendError::Unavailable("gone".into()))),
        },
        Effect::CancelRedrive
        | Effect::SetWorkerPaused(_)
        | Effect::SetConcurrency(_)
        | Effect::ReleaseDlq
        | Effect::Bell
        | Effect::OnScreen(_)
        | Effect::On { .. } => {
            return None;
        }
    })
}

/// What a read-only dashboard may ask of the services (or of the terminal).
fn allowed_read_only(effect: &Effect) -> bool {
    matches!(
        effect,
        Effect::RefreshAudit
            | Effect::ExportDlq { .. }
            | Effect::Bell
            | Effect::ReleaseDlq
            | Effect::OnScreen(_)
    )
}

/// The state is consistent.
fn check(app: &App) -> Result<(), TestCaseError> {
    let d = &app.view().dlq;
    let listed = if app.view().info.read_only {
        app.view().feeds.failures.dead_lettered().len()
    } else {
        d.page_rows().len()
    };
    prop_assert!(
        d.cursor < listed.max(1),
        "DLQ cursor {} of {listed}",
        d.cursor
    );
    for id in &d.selected {
        prop_assert!(
            d.entries.iter().any(|e| &e.message_id == id),
            "selected {id} is not listed"
        );
    }
    let f = &app.view().feeds.failures;
    prop_assert!(
        f.cursor < f.row_count().max(1),
        "failures cursor {} of {}",
        f.cursor,
        f.row_count()
    );
    if f.editing {
        prop_assert_eq!(
            app.screen,
            Screen::Dashboard,
            "filter line off the dashboard"
        );
    }
    let browser_filter = d.editing && app.screen == Screen::DlqBrowser;
    match &app.modal {
        Some(m) => prop_assert_eq!(app.active_layer(), m.layer()),
        None if f.editing || browser_filter => {
            prop_assert_eq!(app.active_layer(), Layer::Input);
        }
        None => prop_assert_eq!(app.active_layer(), app.screen.layer()),
    }
    if app.view().info.read_only {
        prop_assert!(
            !app.view().info.worker,
            "a read-only dashboard runs no worker"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn random_keys_and_resizes_keep_the_dashboard_consistent(
        kind in 0u8..3,
        steps in proptest::collection::vec(step(), 1..220),
    ) {
        let mut app = start(kind);
        let (mut w, mut h) = (120u16, 36u16);
        let mut clock = 0i64;
        for (n, s) in steps.into_iter().enumerate() {
            // Drawing is the slow part: after every resize, and every third step otherwise.
            let draw = matches!(s, Step::Resize(..)) || n.is_multiple_of(3);
            let msg = match s {
                Step::Key(c, m) => Msg::Key(KeyEvent::new(c, m)),
                Step::Resize(nw, nh) => {
                    (w, h) = (nw, nh);
                    Msg::Resize
                }
                Step::Tick => {
                    clock += 1;
                    Msg::Tick(ts(clock))
                }
                Step::Peeked(k) => Msg::DlqPeeked(Ok(dlq_entries().into_iter().take(k).collect())),
                Step::Failures(k) => {
                    Msg::Monitor(MonitorUpdate::Failures(failures().into_iter().take(k).collect()))
                }
            };
            let mut pending = vec![msg];
            while let Some(msg) = pending.pop() {
                for effect in update(&mut app, msg) {
                    if app.view().info.read_only {
                        prop_assert!(allowed_read_only(&effect), "read-only asked for {effect:?}");
                    }
                    pending.extend(answer(&effect, n));
                }
            }
            check(&app)?;
            if draw {
                let _ = render_to_string(&app, w, h);
            }
        }
    }
}
