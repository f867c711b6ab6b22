//! What the DLQ browser's keys do: move and page through the whole DLQ, filter and select over every
//! message read, delete, export, edit and resend; read-only, move through the failure log's
//! dead-lettered records instead. Leaving it lets go of what it holds.

use voucherdeck_core::domain::{Timestamp, salvage};
use voucherdeck_pipeline::DlqMessage;

use super::app::{App, DLQ_PAGE, Level, Screen};
use super::cursor::move_cursor;
use super::keymap::Action;
use super::modal::{Confirm, GiftForm, Modal};
use super::msg::Effect;

pub(super) fn browser_action(app: &mut App, action: Action) -> Vec<Effect> {
    if app.view().info.read_only {
        return read_only_browser_action(app, action);
    }
    let d = &mut app.view_mut().dlq;
    match action {
        Action::Back if d.zoom => d.zoom = false,
        Action::Back | Action::NextScreen => return leave_browser(app),
        Action::Up | Action::Down | Action::Top | Action::Bottom => {
            let n = d.page_rows().len();
            let moved = move_cursor(&mut d.cursor, n, action);
            if moved {
                d.detail_scroll = 0;
            }
        }
        Action::ScrollDown => d.detail_scroll = d.detail_scroll.saturating_add(5),
        Action::ScrollUp => d.detail_scroll = d.detail_scroll.saturating_sub(5),
        Action::Details => d.zoom = !d.zoom,
        Action::Select => {
            if let Some(id) = d.current().map(|e| e.message_id.clone()) {
                if !d.selected.remove(&id) {
                    d.selected.insert(id);
                }
                let n = d.page_rows().len();
                move_cursor(&mut d.cursor, n, Action::Down);
            }
        }
        Action::SelectAll => {
            // Every loaded message that passes the filter, on every page.
            let ids: Vec<String> = d.rows().iter().map(|e| e.message_id.clone()).collect();
            if ids.iter().all(|id| d.selected.contains(id)) {
                d.selected.clear();
            } else {
                d.selected.extend(ids);
            }
        }
        Action::NextPage | Action::PrevPage => return turn_page(app, action),
        Action::LoadAll => return load_all(app),
        Action::Filter => d.editing = true,
        Action::Refresh if !d.loading => {
            d.loading = true;
            return vec![Effect::PeekDlq {
                limit: app.view().info.peek_limit,
            }];
        }
        Action::Delete => confirm_delete(app),
        Action::Export => return export(app),
        Action::Resend => return resend(app),
        _ => {}
    }
    Vec::new()
}

/// Back to the dashboard: what the browser held becomes visible again; the next visit reads anew.
pub(super) fn leave_browser(app: &mut App) -> Vec<Effect> {
    app.screen = Screen::Dashboard;
    if app.view_mut().dlq.loaded_at.take().is_some() {
        return vec![Effect::ReleaseDlq];
    }
    Vec::new()
}

/// The read-only browser: moves through the failure log's dead-lettered records; Enter shows one.
fn read_only_browser_action(app: &mut App, action: Action) -> Vec<Effect> {
    let records = app.view().feeds.failures.dead_lettered();
    let n = records.len();
    let current = records.get(app.view().dlq.cursor).map(|r| (*r).clone());
    match action {
        Action::Back => app.screen = Screen::Dashboard,
        Action::Up | Action::Down | Action::Top | Action::Bottom => {
            move_cursor(&mut app.view_mut().dlq.cursor, n, action);
        }
        Action::Details => {
            if let Some(r) = current {
                app.modal = Some(Modal::FailureDetail(Box::new(r)));
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The next page (read from the DLQ when not loaded yet) or the previous one (already read).
fn turn_page(app: &mut App, action: Action) -> Vec<Effect> {
    let d = &mut app.view_mut().dlq;
    if action == Action::PrevPage {
        d.page = d.page.saturating_sub(1);
        d.cursor = 0;
        return Vec::new();
    }
    if d.page + 1 < d.pages() {
        d.page += 1;
        d.cursor = 0;
        return Vec::new();
    }
    if d.exhausted || d.loading || !d.filter.trim().is_empty() {
        app.toast(Level::Info, "this is the last page");
        return Vec::new();
    }
    d.page += 1;
    d.cursor = 0;
    d.loading = true;
    vec![Effect::LoadDlq {
        more: Some(DLQ_PAGE),
    }]
}

/// Reads every message left, so the filter and the selection cover the whole DLQ.
fn load_all(app: &mut App) -> Vec<Effect> {
    let d = &mut app.view_mut().dlq;
    if d.exhausted || d.loading {
        return Vec::new();
    }
    d.loading = true;
    d.progress = Some(d.entries.len());
    vec![Effect::LoadDlq { more: None }]
}

/// Edit the message under the cursor: in the editor when one is set, else in the form.
fn resend(app: &mut App) -> Vec<Effect> {
    let Some(e) = app.view().dlq.current() else {
        app.toast(Level::Info, "no message under the cursor");
        return Vec::new();
    };
    if e.body_dropped {
        let text = format!(
            "the body of {} was not kept (past the browser's 32 MiB): `voucherdeck dlq resend {}` edits it",
            e.message_id, e.message_id
        );
        app.toast(Level::Warn, text);
        return Vec::new();
    }
    let (message_id, gift) = (e.message_id.clone(), salvage(&e.body).gift);
    if app.view().info.editor {
        return vec![Effect::EditDlq { message_id, gift }];
    }
    app.modal = Some(Modal::Gift(GiftForm::resend(
        message_id,
        &gift,
        &app.view().info.limits,
    )));
    Vec::new()
}

/// Asks to delete the selected messages, or the one under the cursor.
fn confirm_delete(app: &mut App) {
    let mut ids = app.view().dlq.selected_ids();
    if ids.is_empty() {
        ids.extend(app.view().dlq.current().map(|e| e.message_id.clone()));
    }
    if ids.is_empty() {
        app.toast(Level::Info, "nothing to delete");
        return;
    }
    app.modal = Some(Modal::Confirm(Confirm::delete(
        &app.view().info.names.dlq,
        ids,
    )));
}

/// Exports the selected messages, or the whole DLQ (read to its end, with progress, and what the
/// browser did not keep whole read again).
fn export(app: &mut App) -> Vec<Effect> {
    let d = &app.view().dlq;
    let file_name = export_file_name(app.now);
    if d.selected.is_empty() && (!d.exhausted || d.bodies_dropped() > 0) {
        if d.loading {
            app.toast(Level::Info, "the DLQ is being read: export when it is done");
            return Vec::new();
        }
        let d = &mut app.view_mut().dlq;
        d.loading = true;
        d.progress = Some(d.entries.len());
        app.toast(Level::Info, "reading the whole DLQ to export it…");
        return vec![Effect::ExportDlqAll { file_name }];
    }
    let entries: Vec<DlqMessage> = if d.selected.is_empty() {
        d.entries.clone()
    } else {
        d.entries
            .iter()
            .filter(|e| d.selected.contains(&e.message_id))
            .cloned()
            .collect()
    };
    if entries.is_empty() {
        app.toast(Level::Info, "nothing to export: the DLQ is empty");
        return Vec::new();
    }
    let dropped = entries.iter().filter(|e| e.body_dropped).count();
    if dropped > 0 {
        app.toast(
            Level::Warn,
            format!(
                "exporting {} messages, {dropped} without their body (not kept past 32 MiB; \
                 clear the selection and press e to export every message whole)",
                entries.len()
            ),
        );
    } else {
        app.toast(
            Level::Info,
            format!("exporting {} messages…", entries.len()),
        );
    }
    vec![Effect::ExportDlq { file_name, entries }]
}

/// `voucherdeck-dlq-20251125T120307Z.jsonl`.
pub fn export_file_name(now: Timestamp) -> String {
    let stamp: String = now
        .to_string()
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("voucherdeck-dlq-{stamp}Z.jsonl")
}
