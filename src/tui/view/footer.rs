//! The footer: the keys that apply now, generated from the keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::app::App;
use super::super::keymap::{Action, KeyBinding, Layer};
use super::super::modal::Modal;
use super::{FILL, dim, key_style, split_cols};

/// Whether an action can do something now (so its hint is worth showing).
pub fn applies(app: &App, layer: Layer, action: Action) -> bool {
    if action.is_mutating() && app.info.read_only {
        return false;
    }
    match action {
        Action::CancelRedrive => app.redrive_running(),
        Action::WorkerToggle | Action::ConcurrencyUp | Action::ConcurrencyDown => {
            app.consumer.latest().is_some()
        }
        Action::Back if layer == Layer::Dashboard => {
            !app.failures.filter.is_empty() || app.failures.grouped
        }
        Action::OptionNext | Action::OptionPrev => matches!(app.modal, Some(Modal::Redrive(_))),
        Action::Up | Action::Down if layer == Layer::Popup => {
            matches!(app.modal, Some(Modal::Help { .. }))
        }
        Action::Confirm => match &app.modal {
            Some(Modal::Confirm(c)) => c.type_to_confirm.is_none() || c.typed_matches(),
            _ => true,
        },
        Action::Redrive if layer == Layer::DlqBrowser || layer == Layer::Dashboard => {
            !app.redrive_running()
        }
        _ => true,
    }
}

/// Pairs of actions shown as one hint (`j/k move`).
const PAIRS: [(Action, Action, &str); 4] = [
    (Action::Down, Action::Up, "move"),
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
            matches!(&app.modal, Some(Modal::Confirm(c)) if c.type_to_confirm.is_some())
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
        if matches!(
            action,
            Action::Top | Action::Bottom | Action::ScrollUp | Action::ScrollDown
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
            out.push((k, action.label().to_string()));
        }
    }
    out
}

/// The global hints (help, quit, next screen), shown at the right on the screens.
pub fn global_hints(app: &App) -> Vec<(String, String)> {
    app.keymap
        .bindings(Layer::Global)
        .filter_map(|(a, keys)| keys.first().map(|k| (k.to_string(), a.label().to_string())))
        .collect()
}

fn is_char(k: &KeyBinding) -> bool {
    matches!(k.code, crossterm::event::KeyCode::Char(_))
        && !k.mods.intersects(
            crossterm::event::KeyModifiers::CONTROL | crossterm::event::KeyModifiers::ALT,
        )
}

fn push_hints(spans: &mut Vec<Span<'static>>, hints: &[(String, String)], room: usize) -> usize {
    let mut width = 0usize;
    for (key, label) in hints {
        let w = key.chars().count() + label.chars().count() + 4;
        if width + w > room {
            break;
        }
        width += w;
        spans.push(Span::styled(format!(" {key} "), key_style()));
        spans.push(Span::raw(format!(" {label} ")));
    }
    width
}

pub fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let layer = app.active_layer();
    let mut left = Vec::new();
    if let Some(Modal::Confirm(c)) = &app.modal
        && let Some(expected) = &c.type_to_confirm
        && !c.typed_matches()
    {
        left.push(Span::styled(
            format!(" type {expected} to enable confirm "),
            dim(),
        ));
    }
    let mut right = Vec::new();
    let right_w = if matches!(layer, Layer::Dashboard | Layer::DlqBrowser) {
        push_hints(&mut right, &global_hints(app), area.width as usize / 2)
    } else {
        0
    };
    let [l, r] = split_cols(area, [FILL, right_w as u16]);
    push_hints(&mut left, &hints(app, layer), l.width as usize);
    frame.render_widget(Paragraph::new(Line::from(left)), l);
    frame.render_widget(Paragraph::new(Line::from(right)), r);
}
