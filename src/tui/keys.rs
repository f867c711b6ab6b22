//! Key routing: the active layer (see [`App::active_layer`]) gets the key first: an open modal, the
//! filter line, or the screen with the global layer below it (see `actions`).

use crossterm::event::{KeyEvent, KeyModifiers};

use crate::pipeline::RedriveRequest;

use super::actions::screen_action;
use super::app::{App, Level, RedriveRun};
use super::feeds::FailuresState;
use super::figures::dlq_figures;
use super::keymap::{Action, Layer};
use super::modal::{Confirm, Modal, Outcome, Pending, redrive_scope_words};
use super::msg::Effect;
use super::text::{edit_text, is_text_key, plural};

pub(super) fn on_key(app: &mut App, key: &KeyEvent) -> Vec<Effect> {
    let layer = app.active_layer();
    let action = app.keymap.action(layer, key);
    let outcome = match layer {
        Layer::Form | Layer::Confirm | Layer::Popup => {
            let limits = app.info.limits;
            match app.modal.as_mut() {
                Some(modal) => modal.on_key(key, action, &limits),
                None => Outcome::Unused,
            }
        }
        Layer::Input => filter_key(&mut app.feeds.failures, key, action),
        Layer::Global | Layer::Dashboard | Layer::DlqBrowser => {
            return match action.or_else(|| app.keymap.action(Layer::Global, key)) {
                Some(action) => screen_action(app, action),
                None => Vec::new(),
            };
        }
    };
    carry_out(app, outcome, key)
}

/// Does what a modal's (or the filter line's) key asked of the rest of the app.
fn carry_out(app: &mut App, outcome: Outcome, key: &KeyEvent) -> Vec<Effect> {
    match outcome {
        Outcome::Stay => {}
        Outcome::Unused => {
            // Ctrl-combos bound to quit (Ctrl-C) work from inside every modal too.
            if key.modifiers.contains(KeyModifiers::CONTROL)
                && app.keymap.action(Layer::Global, key) == Some(Action::Quit)
            {
                app.should_quit = true;
                app.modal = None;
            }
        }
        Outcome::Close => app.modal = None,
        Outcome::Gift(request) => return vec![Effect::Gift(request)],
        Outcome::ConfirmRedrive(plan) => {
            if let Some(Modal::Redrive(form)) = app.modal.take() {
                let confirm = Confirm::redrive(
                    plan.clone(),
                    &redrive_what(app, &plan),
                    &app.info.names.dlq,
                    &destination_words(app, &plan),
                    form,
                );
                app.modal = Some(Modal::Confirm(confirm));
            }
        }
        Outcome::Back => {
            let back = match app.modal.as_mut() {
                Some(Modal::Confirm(confirm)) => confirm.back.take(),
                _ => None,
            };
            app.modal = back.map(|form| Modal::Redrive(*form));
        }
        Outcome::Run(pending) => {
            app.modal = None;
            return run_pending(app, pending);
        }
    }
    Vec::new()
}

/// Where a plan sends messages, in words.
pub fn destination_words(app: &App, plan: &RedriveRequest) -> String {
    match &plan.destination {
        Some(d) => d.clone(),
        None => format!("their original source queue ({})", app.info.names.queue),
    }
}

/// What a plan moves, in words, with the counts the dashboard has.
fn redrive_what(app: &App, plan: &RedriveRequest) -> String {
    let bodies: Vec<&str> = app.dlq.entries.iter().map(|e| e.body.as_str()).collect();
    redrive_scope_words(plan, dlq_figures(app).map(|f| f.count), &bodies)
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

/// The failures filter line: typing narrows the list at once.
fn filter_key(f: &mut FailuresState, key: &KeyEvent, action: Option<Action>) -> Outcome {
    if is_text_key(key) {
        edit_text(&mut f.filter, key);
        f.cursor = 0;
        return Outcome::Stay;
    }
    match action {
        Some(Action::Submit) => f.editing = false,
        Some(Action::Cancel) => {
            f.editing = false;
            f.filter.clear();
            f.cursor = 0;
        }
        Some(Action::ClearField) => f.filter.clear(),
        _ => return Outcome::Unused,
    }
    Outcome::Stay
}
