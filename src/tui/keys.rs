//! Key routing, layer by layer: an open form, a confirm dialog, a popup, the filter line, then the
//! screen (see `actions`) and the global layer.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::{text::sanitize, validate};

use super::actions::{plural, screen_action};
use super::app::{App, Level, Modal, RedriveRun, Screen};
use super::figures::dlq_figures;
use super::forms::{
    Confirm, GIFT_FIELDS, GiftForm, Pending, RedriveField, RedriveForm, edit_text, is_text_key,
};
use super::keymap::{Action, Layer};
use super::msg::Effect;
use crate::pipeline::{RedriveRequest, RedriveScope};

pub(super) fn on_key(app: &mut App, key: &KeyEvent) -> Vec<Effect> {
    if let Some(modal) = app.modal.take() {
        let (next, effects) = match modal {
            Modal::Gift(form) => gift_key(app, form, key),
            Modal::Redrive(form) => redrive_key(app, form, key),
            Modal::Confirm(confirm) => confirm_key(app, confirm, key),
            Modal::Help { scroll } => popup_key(app, Modal::Help { scroll }, key),
            detail @ Modal::FailureDetail(_) => popup_key(app, detail, key),
        };
        app.modal = next;
        return effects;
    }
    if app.screen == Screen::Dashboard && app.failures.editing {
        filter_key(app, key);
        return Vec::new();
    }
    let action = app
        .keymap
        .action(app.screen.layer(), key)
        .or_else(|| app.keymap.action(Layer::Global, key));
    match action {
        Some(action) => screen_action(app, action),
        None => Vec::new(),
    }
}

/// Ctrl-combos bound to quit (Ctrl-C) work from inside every modal too.
fn is_hard_quit(app: &App, key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL)
        && app.keymap.action(Layer::Global, key) == Some(Action::Quit)
}

type ModalStep = (Option<Modal>, Vec<Effect>);

fn gift_key(app: &mut App, mut form: GiftForm, key: &KeyEvent) -> ModalStep {
    let limits = app.info.limits;
    if form.submitting {
        // Waiting for the service: only cancel (the answer still arrives, as a toast).
        return match app.keymap.action(Layer::Form, key) {
            Some(Action::Cancel) => (None, Vec::new()),
            _ if is_hard_quit(app, key) => {
                app.should_quit = true;
                (None, Vec::new())
            }
            _ => (Some(Modal::Gift(form)), Vec::new()),
        };
    }
    if is_text_key(key) {
        let field = form.focused();
        if edit_text(form.value_mut(field), key) {
            form.touch(form.focus);
            form.form_error = None;
            form.revalidate(&limits);
        }
        return (Some(Modal::Gift(form)), Vec::new());
    }
    match app.keymap.action(Layer::Form, key) {
        Some(Action::Cancel) => (None, Vec::new()),
        Some(Action::NextField) => {
            form.touch(form.focus);
            form.focus = (form.focus + 1) % GIFT_FIELDS.len();
            (Some(Modal::Gift(form)), Vec::new())
        }
        Some(Action::PrevField) => {
            form.touch(form.focus);
            form.focus = (form.focus + GIFT_FIELDS.len() - 1) % GIFT_FIELDS.len();
            (Some(Modal::Gift(form)), Vec::new())
        }
        Some(Action::ClearField) => {
            let field = form.focused();
            form.value_mut(field).clear();
            form.touch(form.focus);
            form.revalidate(&limits);
            (Some(Modal::Gift(form)), Vec::new())
        }
        Some(Action::Submit) => {
            form.touched = [true; 5];
            form.revalidate(&limits);
            let request = form.request();
            match validate(&request, &limits) {
                Ok(_) => {
                    form.submitting = true;
                    form.form_error = None;
                    (Some(Modal::Gift(form)), vec![Effect::Gift(request)])
                }
                Err(errors) => {
                    if let Some(i) = GIFT_FIELDS
                        .iter()
                        .position(|f| errors.for_field(*f).is_some())
                    {
                        form.focus = i;
                    }
                    (Some(Modal::Gift(form)), Vec::new())
                }
            }
        }
        _ if is_hard_quit(app, key) => {
            app.should_quit = true;
            (None, Vec::new())
        }
        _ => (Some(Modal::Gift(form)), Vec::new()),
    }
}

fn redrive_key(app: &mut App, mut form: RedriveForm, key: &KeyEvent) -> ModalStep {
    if is_text_key(key) {
        if form.focus == RedriveField::Scope {
            if key.code == KeyCode::Char(' ') {
                form.cycle_scope(true);
            }
        } else if let Some(text) = form.text_mut() {
            edit_text(text, key);
            let focus = form.focus;
            form.errors.remove(&focus);
        }
        return (Some(Modal::Redrive(form)), Vec::new());
    }
    match app.keymap.action(Layer::Form, key) {
        Some(Action::Cancel) => (None, Vec::new()),
        Some(Action::NextField) => {
            form.move_focus(true);
            (Some(Modal::Redrive(form)), Vec::new())
        }
        Some(Action::PrevField) => {
            form.move_focus(false);
            (Some(Modal::Redrive(form)), Vec::new())
        }
        Some(a @ (Action::OptionNext | Action::OptionPrev)) => {
            if form.focus == RedriveField::Scope {
                form.cycle_scope(a == Action::OptionNext);
            }
            (Some(Modal::Redrive(form)), Vec::new())
        }
        Some(Action::ClearField) => {
            if let Some(t) = form.text_mut() {
                t.clear();
            }
            (Some(Modal::Redrive(form)), Vec::new())
        }
        Some(Action::Submit) => match form.validate() {
            Some(plan) => {
                let confirm = redrive_confirm(app, plan, form);
                (Some(Modal::Confirm(confirm)), Vec::new())
            }
            None => (Some(Modal::Redrive(form)), Vec::new()),
        },
        _ if is_hard_quit(app, key) => {
            app.should_quit = true;
            (None, Vec::new())
        }
        _ => (Some(Modal::Redrive(form)), Vec::new()),
    }
}

/// Where a plan sends messages, in words.
pub fn destination_words(app: &App, plan: &RedriveRequest) -> String {
    match &plan.destination {
        Some(d) => d.clone(),
        None => format!("their original source queue ({})", app.info.names.queue),
    }
}

fn redrive_confirm(app: &App, plan: RedriveRequest, form: RedriveForm) -> Confirm {
    let dlq = &app.info.names.dlq;
    let count = match &plan.scope {
        RedriveScope::All => match dlq_figures(app) {
            Some(f) => format!("all ~{} messages (approximate count)", f.count),
            None => "all messages (count not known yet)".to_string(),
        },
        RedriveScope::Ids(ids) => format!("{} selected message{}", ids.len(), plural(ids.len())),
        RedriveScope::Match(text) => {
            let peeked = app
                .dlq
                .entries
                .iter()
                .filter(|e| e.body.contains(text.as_str()))
                .count();
            format!(
                "every message whose body contains \"{}\" ({peeked} of the {} peeked match)",
                sanitize(text),
                app.dlq.entries.len()
            )
        }
    };
    let rate = plan.rate.map_or_else(
        || "the backend's default rate".to_string(),
        |r| format!("{r} msg/s"),
    );
    Confirm {
        title: "Redrive".into(),
        lines: vec![
            format!("Move {count}"),
            format!("from {dlq}"),
            format!("to {}", destination_words(app, &plan)),
            format!("at {rate}."),
            "Moved messages get new message ids and are processed again.".into(),
        ],
        pending: Pending::Redrive(plan),
        type_to_confirm: None,
        typed: String::new(),
        back: Some(Box::new(Modal::Redrive(form))),
    }
}

fn confirm_key(app: &mut App, mut confirm: Confirm, key: &KeyEvent) -> ModalStep {
    if confirm.type_to_confirm.is_some() && is_text_key(key) {
        edit_text(&mut confirm.typed, key);
        return (Some(Modal::Confirm(confirm)), Vec::new());
    }
    match app.keymap.action(Layer::Confirm, key) {
        Some(Action::Cancel) => (confirm.back.map(|b| *b), Vec::new()),
        Some(Action::Confirm) if confirm.typed_matches() => {
            (None, run_pending(app, confirm.pending))
        }
        _ if is_hard_quit(app, key) => {
            app.should_quit = true;
            (None, Vec::new())
        }
        _ => (Some(Modal::Confirm(confirm)), Vec::new()),
    }
}

fn run_pending(app: &mut App, pending: Pending) -> Vec<Effect> {
    match pending {
        Pending::Delete { ids } => {
            app.toast(
                Level::Info,
                format!("deleting {} message{}…", ids.len(), plural(ids.len())),
            );
            vec![Effect::DeleteDlq { ids }]
        }
        Pending::Redrive(plan) => {
            let description = destination_words(app, &plan);
            app.redrive = Some(RedriveRun {
                plan: plan.clone(),
                description,
                started_at: app.now,
                status: None,
                cancel_requested: false,
                finished_at: None,
            });
            app.toast(Level::Info, "redrive started");
            vec![Effect::StartRedrive(plan)]
        }
        Pending::Purge => {
            app.toast(Level::Info, format!("purging {}…", app.info.names.dlq));
            vec![Effect::PurgeDlq]
        }
    }
}

fn popup_key(app: &mut App, modal: Modal, key: &KeyEvent) -> ModalStep {
    match (app.keymap.action(Layer::Popup, key), modal) {
        (Some(Action::Close), _) => (None, Vec::new()),
        (Some(Action::Down), Modal::Help { scroll }) => (
            Some(Modal::Help {
                scroll: scroll.saturating_add(1),
            }),
            Vec::new(),
        ),
        (Some(Action::Up), Modal::Help { scroll }) => (
            Some(Modal::Help {
                scroll: scroll.saturating_sub(1),
            }),
            Vec::new(),
        ),
        (_, _) if is_hard_quit(app, key) => {
            app.should_quit = true;
            (None, Vec::new())
        }
        (_, m) => (Some(m), Vec::new()),
    }
}

fn filter_key(app: &mut App, key: &KeyEvent) {
    if is_text_key(key) {
        edit_text(&mut app.failures.filter, key);
        app.failures.cursor = 0;
        return;
    }
    match app.keymap.action(Layer::Input, key) {
        Some(Action::Submit) => app.failures.editing = false,
        Some(Action::Cancel) => {
            app.failures.editing = false;
            app.failures.filter.clear();
            app.failures.cursor = 0;
        }
        Some(Action::ClearField) => app.failures.filter.clear(),
        _ if is_hard_quit(app, key) => app.should_quit = true,
        _ => {}
    }
}
