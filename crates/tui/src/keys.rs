//! Key routing: the active layer (see [`App::active_layer`]) gets the key first: an open modal, the
//! filter line, or the screen with the global layer below it (see `actions`).

use crossterm::event::{KeyEvent, KeyModifiers};

use voucherdeck_core::domain::GiftRequest;
use voucherdeck_pipeline::RedriveRequest;

use super::actions::screen_action;
use super::app::{App, Level, PipelineView, RedriveRun, Screen};
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
            let limits = app.view().info.limits;
            match app.modal.as_mut() {
                Some(modal) => modal.on_key(key, action, &limits),
                None => Outcome::Unused,
            }
        }
        Layer::Input if app.screen == Screen::DlqBrowser => {
            let d = &mut app.view_mut().dlq;
            let outcome = filter_key(&mut d.filter, &mut d.editing, key, action);
            d.page = 0;
            d.cursor = 0;
            // A filter covers every message: read the rest of the DLQ once it is set.
            if !d.editing && !d.filter.trim().is_empty() && !d.exhausted && !d.loading {
                d.loading = true;
                d.progress = Some(d.entries.len());
                return vec![Effect::LoadDlq { more: None }];
            }
            outcome
        }
        Layer::Input => {
            let f = &mut app.view_mut().feeds.failures;
            let outcome = filter_key(&mut f.filter, &mut f.editing, key, action);
            f.cursor = 0;
            outcome
        }
        Layer::Global | Layer::Overview | Layer::Dashboard | Layer::DlqBrowser => {
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
        Outcome::Resend { message_id, gift } => {
            app.modal = Some(resend_confirm(app.view(), &message_id, gift));
        }
        Outcome::ConfirmRedrive(plan) => {
            if let Some(Modal::Redrive(form)) = app.modal.take() {
                let mut confirm = Confirm::redrive(
                    plan.clone(),
                    &redrive_what(app, &plan),
                    &app.view().info.names.dlq,
                    &destination_words(app, &plan),
                    form,
                );
                // A filter is counted over the whole DLQ before it can be confirmed.
                let count = Confirm::filter_of(&plan);
                confirm.counting = count.is_some();
                app.modal = Some(Modal::Confirm(confirm));
                return count.map(Effect::CountDlq).into_iter().collect();
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

/// The dialog asking to confirm resending an edited message of `view`'s DLQ, naming where it goes.
pub(super) fn resend_confirm(view: &PipelineView, message_id: &str, gift: GiftRequest) -> Modal {
    let source = view
        .dlq
        .entries
        .iter()
        .find(|e| e.message_id == message_id)
        .and_then(|e| e.failure.as_ref()?.source_queue().map(str::to_string))
        .unwrap_or_else(|| view.info.names.queue.clone());
    Modal::Confirm(Confirm::resend(
        &view.info.names.dlq,
        &source,
        message_id,
        gift,
    ))
}

/// Where a plan sends messages, in words.
pub fn destination_words(app: &App, plan: &RedriveRequest) -> String {
    match &plan.destination {
        Some(d) => d.clone(),
        None => format!(
            "their original source queue ({})",
            app.view().info.names.queue
        ),
    }
}

/// What a plan moves, in words, with the counts the dashboard has.
fn redrive_what(app: &App, plan: &RedriveRequest) -> String {
    redrive_scope_words(plan, dlq_figures(app).map(|f| f.count))
}

fn run_pending(app: &mut App, pending: Pending) -> Vec<Effect> {
    match pending {
        Pending::Delete { ids, note } => {
            app.toast(
                Level::Info,
                format!("deleting {} message{}…", ids.len(), plural(ids.len())),
            );
            vec![Effect::DeleteDlq { ids, note }]
        }
        Pending::Redrive(plan) => {
            let description = destination_words(app, &plan);
            app.view_mut().redrive = Some(RedriveRun {
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
        Pending::Purge { note } => {
            app.toast(
                Level::Info,
                format!("purging {}…", app.view().info.names.dlq),
            );
            vec![Effect::PurgeDlq { note }]
        }
        Pending::Resend {
            message_id,
            gift,
            note,
        } => {
            app.toast(Level::Info, "resending…");
            vec![Effect::ResendDlq {
                message_id,
                gift,
                note,
            }]
        }
    }
}

/// A filter line: typing narrows the list at once; Enter keeps the filter, Esc drops it.
fn filter_key(
    filter: &mut String,
    editing: &mut bool,
    key: &KeyEvent,
    action: Option<Action>,
) -> Outcome {
    if is_text_key(key) {
        edit_text(filter, key);
        return Outcome::Stay;
    }
    match action {
        Some(Action::Submit) => *editing = false,
        Some(Action::Cancel) => {
            *editing = false;
            filter.clear();
        }
        Some(Action::ClearField) => filter.clear(),
        _ => return Outcome::Unused,
    }
    Outcome::Stay
}
