//! Whole flows driven by keys through `update`: the effects asked for and the state left behind.

mod tui_fixture;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};

use voucherdeck_core::domain::{Field, FieldError, GiftRequest, OperatorNote, ValidationErrors};
use voucherdeck_pipeline::{
    DlqCount, DlqFilter, GiftError, GiftReceipt, RedriveMethod, RedriveProgress, RedriveRequest,
    RedriveScope, RedriveStatus,
};
use voucherdeck_tui::app::{FollowState, Level, Screen, Window};
use voucherdeck_tui::focus::Pane;
use voucherdeck_tui::modal::RedriveField;
use voucherdeck_tui::{App, Effect, KeyMap, Modal, Msg};

use tui_fixture::{
    aws_info, ch, code, consumer, dlq_entries, embedded_info, failure, key_event, populate,
    render_to_string, send, ts, type_text, voucher,
};

fn dashboard() -> App {
    let mut app = App::new(embedded_info());
    populate(&mut app, true, true);
    app
}

fn browser_with_entries(app: &mut App) {
    assert_eq!(send(app, ch('d')), vec![Effect::PeekDlq { limit: 100 }]);
    assert!(app.view().dlq.loading);
    assert!(send(app, Msg::DlqPeeked(Ok(dlq_entries()))).is_empty());
    assert!(!app.view().dlq.loading);
    assert_eq!(app.screen, Screen::DlqBrowser);
}

#[test]
fn gift_a_voucher_and_follow_it_to_persisted() {
    let mut app = dashboard();
    assert!(send(&mut app, ch('n')).is_empty());
    assert!(matches!(app.modal, Some(Modal::Gift(_))));
    type_text(&mut app, "ada@example.com");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "25.50");
    send(&mut app, code(KeyCode::Tab));
    send(
        &mut app,
        key_event(KeyCode::Char('u'), KeyModifiers::CONTROL),
    );
    type_text(&mut app, "EUR");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "grace");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "thanks! q quits nothing here");

    let effects = send(&mut app, code(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Gift(GiftRequest {
            recipient: "ada@example.com".into(),
            amount: "25.50".into(),
            currency: Some("EUR".into()),
            sender: "grace".into(),
            note: Some("thanks! q quits nothing here".into()),
            idempotency_key: None,
        })]
    );
    assert!(!app.should_quit, "q typed into a field does not quit");
    let Some(Modal::Gift(form)) = &app.modal else {
        panic!("form stays open while submitting")
    };
    assert!(form.submitting);
    // A second Enter while submitting sends nothing.
    assert!(send(&mut app, code(KeyCode::Enter)).is_empty());

    let id = voucher(42);
    send(
        &mut app,
        Msg::Gifted(Ok(GiftReceipt {
            voucher_id: id,
            duplicate: false,
            burst_left: None,
        })),
    );
    assert!(app.modal.is_none());
    assert_eq!(
        app.view().follow.as_ref().map(|f| &f.state),
        Some(&FollowState::Queued { duplicate: false })
    );
    assert!(render_to_string(&app, 120, 36).contains(&format!("voucher {id} queued")));

    // Another voucher's event changes nothing; ours moves the status line on.
    send(
        &mut app,
        Msg::Persisted {
            voucher_id: voucher(7),
            message_id: "m7".into(),
        },
    );
    assert!(matches!(
        app.view().follow.as_ref().map(|f| &f.state),
        Some(FollowState::Queued { .. })
    ));
    send(&mut app, Msg::Tick(ts(2)));
    send(
        &mut app,
        Msg::Persisted {
            voucher_id: id,
            message_id: "m42".into(),
        },
    );
    assert_eq!(
        app.view().follow.as_ref().map(|f| &f.state),
        Some(&FollowState::Persisted { at: ts(2) })
    );
    assert!(render_to_string(&app, 120, 36).contains("persisted ✓ after 2s"));
}

#[test]
fn worker_faster_than_the_gift_answer() {
    let mut app = dashboard();
    let id = voucher(9);
    send(
        &mut app,
        Msg::Persisted {
            voucher_id: id,
            message_id: "m9".into(),
        },
    );
    send(
        &mut app,
        Msg::Gifted(Ok(GiftReceipt {
            voucher_id: id,
            duplicate: false,
            burst_left: None,
        })),
    );
    assert!(matches!(
        app.view().follow.as_ref().map(|f| &f.state),
        Some(FollowState::Persisted { .. })
    ));
}

#[test]
fn gift_follow_ends_in_failure() {
    let mut app = dashboard();
    app.view_mut().follow = None;
    send(&mut app, ch('n'));
    type_text(&mut app, "ada@example.com");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "5");
    send(&mut app, code(KeyCode::Tab));
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "grace");
    assert_eq!(send(&mut app, code(KeyCode::Enter)).len(), 1);
    let id = voucher(5);
    send(
        &mut app,
        Msg::Gifted(Ok(GiftReceipt {
            voucher_id: id,
            duplicate: false,
            burst_left: None,
        })),
    );
    let mut record = failure(
        5,
        1,
        voucherdeck_core::domain::FailureKind::Invalid,
        "voucher is invalid",
        true,
    );
    record.voucher_id = Some(id);
    send(&mut app, Msg::Failed(record));
    assert!(matches!(
        app.view().follow.as_ref().map(|f| &f.state),
        Some(FollowState::Failed {
            dead_lettered: true,
            ..
        })
    ));
    assert!(
        app.view()
            .feeds
            .failures
            .records
            .iter()
            .any(|r| r.voucher_id == Some(id)),
        "the failure joins the table"
    );
}

#[test]
fn gift_form_refuses_invalid_input_without_an_effect() {
    let mut app = dashboard();
    send(&mut app, ch('n'));
    type_text(&mut app, "not-an-email");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "1.234");
    let Some(Modal::Gift(form)) = &app.modal else {
        panic!("gift form")
    };
    assert!(
        form.shown_error(0).is_some(),
        "recipient error shows once left"
    );
    assert!(
        form.shown_error(1).is_some(),
        "amount error shows while typing"
    );
    assert_eq!(form.shown_error(3), None, "sender not reached yet");
    assert!(send(&mut app, code(KeyCode::Enter)).is_empty());
    let Some(Modal::Gift(form)) = &app.modal else {
        panic!("gift form")
    };
    assert_eq!(form.focus, 0, "focus jumps to the first invalid field");
    assert!(form.shown_error(3).is_some(), "submit reveals every error");
    send(&mut app, code(KeyCode::Esc));
    assert!(app.modal.is_none());
}

/// The form holds the API's rules: an amount with more decimals than money has, and a character
/// SQS would refuse (typed or pasted), are refused in the form, naming the character.
#[test]
fn gift_form_refuses_inexact_amounts_and_text_sqs_refuses() {
    let mut app = dashboard();
    send(&mut app, ch('n'));
    type_text(&mut app, "ada@example.com");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "19.999999999999999");
    send(&mut app, code(KeyCode::Tab));
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "grace");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "thanks\u{ffff}");
    assert!(send(&mut app, code(KeyCode::Enter)).is_empty());
    let Some(Modal::Gift(form)) = &app.modal else {
        panic!("gift form")
    };
    assert!(
        form.shown_error(1)
            .is_some_and(|e| e.contains("at most 2 decimals")),
        "{:?}",
        form.shown_error(1)
    );
    assert!(
        form.shown_error(4).is_some_and(|e| e.contains("U+FFFF")),
        "{:?}",
        form.shown_error(4)
    );
}

#[test]
fn service_refusal_comes_back_into_the_form() {
    let mut app = dashboard();
    send(&mut app, ch('n'));
    type_text(&mut app, "ada@example.com");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "5");
    send(&mut app, code(KeyCode::Tab));
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "grace");
    assert_eq!(send(&mut app, code(KeyCode::Enter)).len(), 1);
    send(
        &mut app,
        Msg::Gifted(Err(GiftError::Invalid(ValidationErrors(vec![
            FieldError {
                field: Field::Sender,
                rule: "is blocked".into(),
            },
        ])))),
    );
    let Some(Modal::Gift(form)) = &app.modal else {
        panic!("form stays open")
    };
    assert!(!form.submitting);
    assert_eq!(form.shown_error(3), Some("is blocked"));
    // An answer when nothing is pending (the user closed the form) becomes a toast.
    send(&mut app, code(KeyCode::Esc));
    send(
        &mut app,
        Msg::Gifted(Err(GiftError::RateLimited {
            sender: "grace".into(),
            per_minute: 30,
            retry_after: Duration::from_secs(12),
        })),
    );
    assert!(
        app.toast
            .as_ref()
            .is_some_and(|t| t.level == Level::Error && t.text.contains("rate limit"))
    );
}

#[test]
fn select_two_dlq_messages_and_redrive_them() {
    let mut app = dashboard();
    browser_with_entries(&mut app);
    send(&mut app, code(KeyCode::Char(' ')));
    send(&mut app, code(KeyCode::Char(' ')));
    assert_eq!(
        app.view().dlq.selected_ids(),
        vec!["m-0001-aaaa".to_string(), "m-0002-bbbb".to_string()]
    );

    assert!(send(&mut app, ch('r')).is_empty());
    let Some(Modal::Redrive(form)) = &app.modal else {
        panic!("redrive form")
    };
    assert_eq!(form.selected.len(), 2);
    // Submitting the form asks for confirmation first: no effect yet.
    assert!(send(&mut app, code(KeyCode::Enter)).is_empty());
    let Some(Modal::Confirm(confirm)) = &app.modal else {
        panic!("confirm step")
    };
    let text = confirm.lines.join("\n");
    assert!(text.contains("2 selected messages"), "{text}");
    assert!(
        text.contains("their original source queue (vouchers)"),
        "{text}"
    );
    assert!(text.contains("10 msg/s"), "{text}");

    let effects = send(&mut app, ch('y'));
    let plan = RedriveRequest {
        scope: RedriveScope::Ids(vec!["m-0001-aaaa".into(), "m-0002-bbbb".into()]),
        destination: None,
        rate: Some(10),
        note: None,
    };
    assert_eq!(effects, vec![Effect::StartRedrive(plan)]);
    assert!(app.modal.is_none());
    assert!(app.redrive_running());

    let progress = |moved, status| RedriveProgress {
        method: RedriveMethod::Copy,
        moved,
        total: Some(2),
        failed: 0,
        status,
    };
    assert!(send(&mut app, Msg::Redrive(progress(1, RedriveStatus::Running))).is_empty());
    assert!(render_to_string(&app, 120, 36).contains("moved 1/2"));
    // When it finishes, the browser's list is peeked again.
    let effects = send(
        &mut app,
        Msg::Redrive(progress(2, RedriveStatus::Completed)),
    );
    assert_eq!(effects, vec![Effect::PeekDlq { limit: 100 }]);
    assert!(!app.redrive_running());
    assert_eq!(app.toast.as_ref().map(|t| t.level), Some(Level::Success));
}

#[test]
fn redrive_to_another_queue_with_a_body_filter() {
    let mut app = dashboard();
    send(&mut app, ch('r'));
    type_text(&mut app, "vouchers-replay");
    send(&mut app, code(KeyCode::Tab));
    send(&mut app, code(KeyCode::Right)); // all -> body filter (nothing selected)
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "future-version");
    // Past the failure kind and reason (left empty: any) to the rate, cleared: the default.
    for _ in 0..3 {
        send(&mut app, code(KeyCode::Tab));
    }
    send(
        &mut app,
        key_event(KeyCode::Char('u'), KeyModifiers::CONTROL),
    );
    // A filter is counted over the whole DLQ first (a dry run); it cannot be confirmed meanwhile.
    let filter = DlqFilter {
        text: Some("future-version".into()),
        ..DlqFilter::default()
    };
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::CountDlq(filter.clone())]
    );
    let Some(Modal::Confirm(confirm)) = &app.modal else {
        panic!("confirm step")
    };
    assert!(confirm.lines.join(" ").contains("to vouchers-replay"));
    assert!(
        send(&mut app, code(KeyCode::Enter)).is_empty(),
        "still counting"
    );
    // Esc on the confirm step returns to the form, as typed.
    send(&mut app, code(KeyCode::Esc));
    let Some(Modal::Redrive(form)) = &app.modal else {
        panic!("back to the form")
    };
    assert_eq!(form.destination, "vouchers-replay");
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::CountDlq(filter)]
    );
    let counted = DlqCount {
        matched: 3,
        scanned: 40,
        complete: true,
        held_back: 0,
    };
    send(&mut app, Msg::DlqCounted(Ok(counted)));
    let Some(Modal::Confirm(confirm)) = &app.modal else {
        panic!("confirm step")
    };
    assert!(
        confirm.lines[0].contains("Move 3 of the 40 messages"),
        "{:?}",
        confirm.lines
    );
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::StartRedrive(RedriveRequest {
            scope: RedriveScope::Match("future-version".into()),
            destination: Some("vouchers-replay".into()),
            rate: None,
            note: None,
        })]
    );
}

#[test]
fn cancel_a_running_redrive() {
    let mut app = dashboard();
    send(&mut app, ch('r'));
    send(&mut app, code(KeyCode::Enter));
    let effects = send(&mut app, ch('y'));
    assert!(matches!(
        effects.as_slice(),
        [Effect::StartRedrive(RedriveRequest {
            scope: RedriveScope::All,
            ..
        })]
    ));
    // A second redrive cannot start while one runs.
    assert!(send(&mut app, ch('r')).is_empty());
    assert!(app.modal.is_none());

    assert_eq!(send(&mut app, ch('c')), vec![Effect::CancelRedrive]);
    assert!(
        app.view()
            .redrive
            .as_ref()
            .is_some_and(|r| r.cancel_requested)
    );
    assert!(send(&mut app, ch('c')).is_empty(), "cancel is asked once");
    send(
        &mut app,
        Msg::Redrive(RedriveProgress {
            method: RedriveMethod::Native,
            moved: 3,
            total: Some(7),
            failed: 0,
            status: RedriveStatus::Cancelled,
        }),
    );
    assert!(!app.redrive_running());
    assert_eq!(app.toast.as_ref().map(|t| t.level), Some(Level::Warn));
    assert!(
        app.toast
            .as_ref()
            .is_some_and(|t| t.text.contains("3 moved"))
    );
}

#[test]
fn a_starting_redrive_shows_as_running_and_says_so() {
    let mut app = dashboard();
    send(&mut app, ch('r'));
    send(&mut app, code(KeyCode::Enter));
    send(&mut app, ch('y'));
    assert!(render_to_string(&app, 120, 36).contains("starting…"));
    let toast_before = app.toast.clone();
    let starting = RedriveProgress {
        method: RedriveMethod::Native,
        moved: 0,
        total: None,
        failed: 0,
        status: RedriveStatus::Starting,
    };
    assert!(send(&mut app, Msg::Redrive(starting.clone())).is_empty());
    assert!(app.redrive_running(), "starting is not finished");
    assert_eq!(app.toast, toast_before, "no summary toast while starting");
    assert!(render_to_string(&app, 120, 36).contains("starting…"));
    let running = RedriveProgress {
        status: RedriveStatus::Running,
        ..starting
    };
    send(&mut app, Msg::Redrive(running));
    assert!(!render_to_string(&app, 120, 36).contains("starting…"));
}

#[test]
fn delete_selected_asks_first_naming_the_count() {
    let mut app = dashboard();
    browser_with_entries(&mut app);
    send(&mut app, code(KeyCode::Char(' ')));
    assert!(send(&mut app, ch('x')).is_empty());
    let Some(Modal::Confirm(confirm)) = &app.modal else {
        panic!("confirm")
    };
    assert!(confirm.lines[0].contains("Delete 1 message from vouchers-dlq"));
    assert!(send(&mut app, ch('n')).is_empty());
    assert!(app.modal.is_none());
    send(&mut app, ch('x'));
    let ids = vec!["m-0001-aaaa".to_string()];
    assert_eq!(
        send(&mut app, ch('y')),
        vec![Effect::DeleteDlq {
            ids: ids.clone(),
            note: None
        }]
    );
    send(&mut app, Msg::DlqDeleted { ids, result: Ok(1) });
    assert_eq!(app.view().dlq.entries.len(), 2);
    assert!(app.view().dlq.selected.is_empty());
}

#[test]
fn purge_needs_the_queue_name_typed() {
    let mut app = dashboard();
    send(&mut app, ch('P'));
    assert!(
        send(&mut app, code(KeyCode::Enter)).is_empty(),
        "nothing typed"
    );
    // "y" and "n" are typed into the name, not taken as confirm or cancel.
    type_text(&mut app, "yn");
    assert!(matches!(app.modal, Some(Modal::Confirm(_))));
    send(&mut app, code(KeyCode::Backspace));
    send(&mut app, code(KeyCode::Backspace));
    type_text(&mut app, "vouchers-dl");
    assert!(
        send(&mut app, code(KeyCode::Enter)).is_empty(),
        "not the whole name"
    );
    type_text(&mut app, "x");
    assert!(
        send(&mut app, code(KeyCode::Enter)).is_empty(),
        "a wrong name"
    );
    send(&mut app, code(KeyCode::Backspace));
    type_text(&mut app, "q");
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::PurgeDlq { note: None }]
    );
    assert!(app.modal.is_none());
}

#[test]
fn export_selected_or_all() {
    let mut app = dashboard();
    browser_with_entries(&mut app);
    let effects = send(&mut app, ch('e'));
    let [Effect::ExportDlq { file_name, entries }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(file_name, "voucherdeck-dlq-20251125T120307Z.jsonl");
    assert_eq!(entries.len(), 3);
    send(&mut app, ch('j'));
    send(&mut app, code(KeyCode::Char(' ')));
    let effects = send(&mut app, ch('e'));
    let [Effect::ExportDlq { entries, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        entries
            .iter()
            .map(|e| e.message_id.as_str())
            .collect::<Vec<_>>(),
        ["m-0002-bbbb"]
    );
    send(
        &mut app,
        Msg::Exported(Ok(("/tmp/x/voucherdeck-dlq.jsonl".into(), 1))),
    );
    assert!(
        app.toast
            .as_ref()
            .is_some_and(|t| t.text.contains("/tmp/x/voucherdeck-dlq.jsonl"))
    );
}

#[test]
fn read_only_disables_every_mutation() {
    let mut info = aws_info();
    info.read_only = true;
    info.worker = true; // read-only wins
    let mut app = App::new(info);
    populate(&mut app, true, false);
    assert!(!app.view().info.worker);
    for c in ['n', 'r', 'w', '+', '-', 'P', 'c'] {
        assert!(send(&mut app, ch(c)).is_empty(), "{c}");
        assert!(app.modal.is_none(), "{c} opened {:?}", app.modal);
    }
    assert!(
        app.toast
            .as_ref()
            .is_some_and(|t| t.text.starts_with("read-only"))
    );
    // Looking is allowed, but not peeking (a peek raises receive counts): the browser opens on
    // the failure log's dead-lettered records, and asks nothing of the queue.
    assert!(
        send(&mut app, ch('d')).is_empty(),
        "read-only must not peek"
    );
    assert_eq!(app.screen, Screen::DlqBrowser);
    for c in ['x', 'r', 'P', 'R', ' ', 'a', 'e'] {
        assert!(send(&mut app, ch(c)).is_empty(), "{c}");
        assert!(app.modal.is_none(), "{c}");
    }
    send(&mut app, ch('R'));
    assert!(
        app.toast
            .as_ref()
            .is_some_and(|t| t.text.contains("raises receive counts")),
        "{:?}",
        app.toast
    );
    let screen = render_to_string(&app, 120, 36);
    assert!(screen.contains("READ-ONLY"));
    assert!(screen.contains("not peeked"), "{screen}");
    assert!(
        !screen.contains(" delete ")
            && !screen.contains(" refresh ")
            && !screen.contains(" export "),
        "the footer hides what read-only cannot do: {screen}"
    );
    // The dead-lettered records (three in the fixture), newest first; Enter shows one in full.
    send(&mut app, ch('G'));
    assert_eq!(app.view().dlq.cursor, 2);
    send(&mut app, code(KeyCode::Enter));
    match &app.modal {
        Some(Modal::FailureDetail(r)) => assert_eq!(r.message_id, "msg-0001"),
        other => panic!("expected the failure's detail, got {other:?}"),
    }
}

#[test]
fn worker_keys() {
    let mut app = dashboard();
    assert_eq!(send(&mut app, ch('w')), vec![Effect::SetWorkerPaused(true)]);
    assert_eq!(send(&mut app, ch('+')), vec![Effect::SetConcurrency(5)]);
    assert_eq!(send(&mut app, ch('-')), vec![Effect::SetConcurrency(4)]);
    send(&mut app, Msg::Consumer(consumer(ts(1), 400, 10, 4, true)));
    assert_eq!(
        send(&mut app, ch('w')),
        vec![Effect::SetWorkerPaused(false)]
    );
    // No worker: the keys explain instead.
    let mut bare = App::new(aws_info());
    assert!(send(&mut bare, ch('w')).is_empty());
    assert!(bare.toast.is_some());
}

#[test]
fn failures_filter_group_and_details() {
    let mut app = dashboard();
    send(&mut app, ch('/'));
    type_text(&mut app, "outage");
    assert!(!app.should_quit);
    send(&mut app, code(KeyCode::Enter));
    assert!(!app.view().feeds.failures.editing);
    assert_eq!(app.view().feeds.failures.filtered().len(), 3);
    send(&mut app, ch('G'));
    assert_eq!(app.view().feeds.failures.cursor, 2);
    send(&mut app, code(KeyCode::Enter));
    let Some(Modal::FailureDetail(r)) = &app.modal else {
        panic!("detail")
    };
    assert_eq!(r.message_id, "msg-0002");
    send(&mut app, code(KeyCode::Esc));
    send(&mut app, code(KeyCode::Esc)); // clears the filter
    assert!(app.view().feeds.failures.filter.is_empty());
    send(&mut app, ch('b'));
    let groups = app.view().feeds.failures.groups();
    assert_eq!(groups[0].count, 3);
    assert_eq!(groups.len(), 4);
}

#[test]
fn window_cycles_and_quit() {
    let mut app = dashboard();
    assert_eq!(app.window, Window::FiveMinutes);
    send(&mut app, ch('t'));
    assert_eq!(app.window, Window::FifteenMinutes);
    send(&mut app, ch('t'));
    send(&mut app, ch('t'));
    assert_eq!(app.window, Window::FiveMinutes);
    send(&mut app, ch('?'));
    send(&mut app, ch('q'));
    assert!(
        app.modal.is_none() && !app.should_quit,
        "q closes help first"
    );
    send(&mut app, ch('q'));
    assert!(app.should_quit);
    let mut app = dashboard();
    send(&mut app, ch('n'));
    send(
        &mut app,
        key_event(KeyCode::Char('c'), KeyModifiers::CONTROL),
    );
    assert!(app.should_quit, "ctrl-c quits from inside a form");
}

#[test]
fn user_keymap_changes_keys_and_hints() {
    let keymap = KeyMap::defaults()
        .overlay_str("[dashboard]\ngift = [\"ctrl-g\"]\n", "test")
        .expect("overlay");
    let mut app = App::with_keymap(embedded_info(), keymap);
    populate(&mut app, true, true);
    assert!(send(&mut app, ch('n')).is_empty());
    assert!(app.modal.is_none());
    send(
        &mut app,
        key_event(KeyCode::Char('g'), KeyModifiers::CONTROL),
    );
    assert!(matches!(app.modal, Some(Modal::Gift(_))));
    send(&mut app, code(KeyCode::Esc));
    assert!(render_to_string(&app, 120, 36).contains(" ctrl-g  gift "));
}

#[test]
fn errors_become_toasts_never_exits() {
    let mut app = dashboard();
    browser_with_entries(&mut app);
    send(&mut app, ch('R'));
    send(
        &mut app,
        Msg::DlqPeeked(Err("access denied: sqs:ReceiveMessage".into())),
    );
    assert!(!app.should_quit);
    assert_eq!(app.toast.as_ref().map(|t| t.level), Some(Level::Error));
    assert_eq!(app.view().dlq.entries.len(), 3, "the last good list stays");
    send(
        &mut app,
        Msg::DlqDeleted {
            ids: vec!["x".into()],
            result: Err("throttled".into()),
        },
    );
    send(&mut app, Msg::Purged(Err("purge in progress".into())));
    send(&mut app, Msg::Exported(Err("permission denied".into())));
    assert!(!app.should_quit);
    // Toasts fade with the clock.
    send(&mut app, Msg::Tick(ts(60)));
    assert!(app.toast.is_none());
}

#[test]
fn tab_moves_the_focus_between_dashboard_panes() {
    let mut app = dashboard();
    assert_eq!(
        app.view().focus,
        Pane::Failures,
        "the failures table has the focus first"
    );
    assert!(render_to_string(&app, 120, 36).contains("┏ Recent failures"));
    send(&mut app, ch('j'));
    assert_eq!(app.view().feeds.failures.cursor, 1);

    // Tab wraps to the first pane; the table no longer takes the moving keys.
    send(&mut app, code(KeyCode::Tab));
    assert_eq!(app.view().focus, Pane::Depth);
    send(&mut app, ch('j'));
    send(&mut app, code(KeyCode::Enter));
    assert_eq!(app.view().feeds.failures.cursor, 1);
    assert!(app.modal.is_none());
    send(&mut app, ch('/'));
    assert!(
        !app.view().feeds.failures.editing,
        "the filter belongs to the table"
    );
    // Dashboard-wide keys work from any pane.
    send(&mut app, ch('t'));
    assert_eq!(app.window, Window::FifteenMinutes);
    let screen = render_to_string(&app, 120, 36);
    assert!(
        screen.contains("┏ Queue depth"),
        "the focused pane is drawn as focused"
    );
    assert!(screen.contains("╭ Recent failures"));
    assert!(
        !screen.contains(" /  filter "),
        "the footer hints only what applies"
    );

    send(&mut app, key_event(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(app.view().focus, Pane::Failures);
    send(&mut app, ch('j'));
    assert_eq!(app.view().feeds.failures.cursor, 2);

    // Enter on the DLQ pane opens its browser.
    for _ in 0..3 {
        send(&mut app, code(KeyCode::Tab));
    }
    assert_eq!(app.view().focus, Pane::Dlq);
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::PeekDlq { limit: 100 }]
    );
    assert_eq!(app.screen, Screen::DlqBrowser);
}

#[test]
fn tab_is_next_screen_only_where_no_pane_takes_it() {
    let mut app = dashboard();
    let screen = render_to_string(&app, 120, 36);
    assert!(screen.contains(" tab  next pane "), "{screen}");
    assert!(!screen.contains("next screen"), "Tab focuses panes here");
    browser_with_entries(&mut app);
    assert!(render_to_string(&app, 120, 36).contains(" tab  next screen "));
    send(&mut app, code(KeyCode::Tab));
    assert_eq!(app.screen, Screen::Dashboard);
    assert_eq!(
        app.view().focus,
        Pane::Failures,
        "the focus stays where it was"
    );
}

#[test]
fn the_redrive_forms_note_goes_with_the_plan() {
    let mut app = dashboard();
    send(&mut app, ch('r'));
    // Destination, scope, rate, then the note.
    for _ in 0..3 {
        send(&mut app, code(KeyCode::Tab));
    }
    type_text(&mut app, "x".repeat(281).as_str());
    assert!(send(&mut app, code(KeyCode::Enter)).is_empty());
    let Some(Modal::Redrive(form)) = &app.modal else {
        panic!("the form stays open")
    };
    assert!(
        form.errors[&RedriveField::Note].contains("at most 280 characters (has 281)"),
        "{:?}",
        form.errors
    );
    send(
        &mut app,
        key_event(KeyCode::Char('u'), KeyModifiers::CONTROL),
    );
    type_text(&mut app, "  after the schema fix ");
    assert!(send(&mut app, code(KeyCode::Enter)).is_empty());
    let Some(Modal::Confirm(confirm)) = &app.modal else {
        panic!("confirm step")
    };
    assert!(
        confirm
            .lines
            .contains(&"Note: after the schema fix".to_string()),
        "{:?}",
        confirm.lines
    );
    let effects = send(&mut app, ch('y'));
    let [Effect::StartRedrive(plan)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        plan.note.as_ref().map(OperatorNote::as_str),
        Some("after the schema fix")
    );
}

#[test]
fn delete_and_purge_take_a_note_typed_after_tab() {
    let mut app = dashboard();
    browser_with_entries(&mut app);
    send(&mut app, code(KeyCode::Char(' ')));
    send(&mut app, ch('x'));
    send(&mut app, code(KeyCode::Tab));
    // In the note, "y" and "n" are typed, not taken as confirm or cancel.
    type_text(&mut app, "duplicate of m-2, yes");
    assert!(matches!(app.modal, Some(Modal::Confirm(_))));
    type_text(&mut app, "\u{202e}");
    assert!(send(&mut app, code(KeyCode::Enter)).is_empty());
    let Some(Modal::Confirm(confirm)) = &app.modal else {
        panic!("a bad note keeps the dialog open")
    };
    assert!(
        confirm
            .note_error
            .as_deref()
            .is_some_and(|e| e.contains("U+202E at character 22")),
        "{:?}",
        confirm.note_error
    );
    send(&mut app, code(KeyCode::Backspace));
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::DeleteDlq {
            ids: vec!["m-0001-aaaa".to_string()],
            note: OperatorNote::parse("duplicate of m-2, yes").expect("a note")
        }]
    );

    let mut app = dashboard();
    send(&mut app, ch('P'));
    type_text(&mut app, "vouchers-dlq");
    send(&mut app, code(KeyCode::Tab));
    type_text(&mut app, "poison from the 09:00 deploy");
    assert_eq!(
        send(&mut app, code(KeyCode::Enter)),
        vec![Effect::PurgeDlq {
            note: OperatorNote::parse("poison from the 09:00 deploy").expect("a note")
        }]
    );
}
