//! Which keys apply now, as `(keys, label)` pairs for the footer and the modals' hint lines: generated
//! from the keymap, so they never lie.

use crossterm::event::{KeyCode, KeyModifiers};

use crate::app::{App, Screen};
use crate::focus::is_pane_action;
use crate::keymap::{Action, KeyBinding, Layer};
use crate::modal::Modal;

/// Whether an action can do something now (so its hint is worth showing).
pub fn applies(app: &App, layer: Layer, action: Action) -> bool {
    if action.is_mutating() && app.view().info.read_only {
        return false;
    }
    // On the dashboard, a pane's own keys act only in the focused pane.
    if layer == Layer::Dashboard && is_pane_action(action) && !app.view().focus.answers(action) {
        return false;
    }
    match action {
        Action::CancelRedrive => app.redrive_running(),
        // The overview has no second screen of its own.
        Action::NextScreen => app.screen != Screen::Overview,
        Action::WorkerToggle | Action::ConcurrencyUp | Action::ConcurrencyDown => {
            app.view().consumer.latest().is_some()
        }
        Action::Back if layer == Layer::Dashboard => {
            !app.view().feeds.failures.filter.is_empty() || app.view().feeds.failures.grouped
        }
        Action::OptionNext | Action::OptionPrev => matches!(app.modal, Some(Modal::Redrive(_))),
        Action::Up | Action::Down if layer == Layer::Popup => {
            matches!(
                app.modal,
                Some(Modal::Help { .. } | Modal::Alarms { .. } | Modal::Audit { .. })
            )
        }
        // Read-only, the DLQ browser lists failure records: nothing to select or export.
        Action::Select | Action::SelectAll | Action::Export if layer == Layer::DlqBrowser => {
            !app.view().info.read_only
        }
        Action::Confirm => match &app.modal {
            Some(Modal::Confirm(c)) => c.type_to_confirm.is_none() || c.typed_matches(),
            _ => true,
        },
        // In a confirm dialog, Tab moves to the note: a redrive's note is in its form.
        Action::NextField | Action::PrevField if layer == Layer::Confirm => {
            matches!(&app.modal, Some(Modal::Confirm(c)) if c.pending.takes_note())
        }
        Action::Redrive if layer == Layer::DlqBrowser || layer == Layer::Dashboard => {
            !app.redrive_running()
        }
        _ => true,
    }
}

/// Pairs of actions shown as one hint (`j/k move`).
const PAIRS: [(Action, Action, &str); 5] = [
    (Action::Down, Action::Up, "move"),
    (Action::NextPage, Action::PrevPage, "page"),
    (Action::NextField, Action::PrevField, "field"),
    (Action::OptionNext, Action::OptionPrev, "choice"),
    (Action::ConcurrencyUp, Action::ConcurrencyDown, "workers"),
];

/// The hints for one layer: `(keys, label)`, pairs folded into one entry, in keymap order.
pub fn hints(app: &App, layer: Layer) -> Vec<(String, String)> {
    let km = &app.keymap;
    // Where characters are typed into a field, only non-character keys act: hint those.
    let text_entry = match layer {
        Layer::Form | Layer::Input => true,
        Layer::Confirm => {
            matches!(&app.modal, Some(Modal::Confirm(c)) if c.takes_text())
        }
        _ => false,
    };
    let usable = |action: Action| -> Option<String> {
        km.bindings(layer)
            .find(|(a, _)| *a == action)
            .and_then(|(_, keys)| keys.iter().find(|k| !text_entry || !is_char(k)))
            .map(ToString::to_string)
    };
    let mut out = Vec::new();
    for (action, _) in km.bindings(layer) {
        // The help lists these; the footer keeps to the keys used most.
        if matches!(
            action,
            Action::Top
                | Action::Bottom
                | Action::ScrollUp
                | Action::ScrollDown
                | Action::FocusPrev
        ) || !applies(app, layer, action)
        {
            continue;
        }
        if let Some((a, b, label)) = PAIRS.iter().find(|(a, b, _)| *a == action || *b == action) {
            if action == *b && usable(*a).is_some() {
                continue; // shown with its partner
            }
            let label = if layer == Layer::Popup && *label == "move" {
                "scroll"
            } else {
                label
            };
            let keys = match (usable(*a), usable(*b)) {
                (Some(x), Some(y)) => format!("{x}/{y}"),
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => continue,
            };
            out.push((keys, (*label).to_string()));
            continue;
        }
        if let Some(k) = usable(action) {
            let label = if layer == Layer::Overview && action == Action::Details {
                "open"
            } else {
                action.label()
            };
            out.push((k, label.to_string()));
        }
    }
    out
}

/// The global hints (help, quit, next screen), shown at the right on the screens.
pub fn global_hints(app: &App) -> Vec<(String, String)> {
    live_bindings(app, Layer::Global)
        .into_iter()
        .filter(|(a, _)| applies(app, Layer::Global, *a))
        .filter_map(|(a, keys)| keys.first().map(|k| (k.to_string(), a.label().to_string())))
        .collect()
}

/// A layer's bindings as they work now: in the global layer, the keys the current screen binds to
/// something else are left out (on the dashboard, Tab moves the focus), and so is an action left
/// with no key.
pub fn live_bindings(app: &App, layer: Layer) -> Vec<(Action, Vec<KeyBinding>)> {
    let screen = app.screen.layer();
    app.keymap
        .bindings(layer)
        .filter_map(|(action, keys)| {
            let keys: Vec<KeyBinding> = keys
                .iter()
                .copied()
                .filter(|k| layer != Layer::Global || !app.keymap.binds(screen, k))
                .collect();
            (!keys.is_empty()).then_some((action, keys))
        })
        .collect()
}

fn is_char(k: &KeyBinding) -> bool {
    matches!(k.code, KeyCode::Char(_))
        && !k.mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}
