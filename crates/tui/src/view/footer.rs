//! The footer: the keys that apply now, generated from the keymap.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::keymap::Layer;
use crate::modal::Modal;

use super::hints::{global_hints, hints};
use super::widgets::hint_spans;

pub fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let layer = app.active_layer();
    let mut left = Vec::new();
    if let Some(Modal::Confirm(c)) = &app.modal
        && let Some(expected) = &c.type_to_confirm
        && !c.typed_matches()
    {
        left.push(Span::styled(
            format!(" type {expected} to enable confirm "),
            t.muted,
        ));
    }
    let (right, right_w) = if matches!(
        layer,
        Layer::Overview | Layer::Dashboard | Layer::DlqBrowser
    ) {
        hint_spans(t, &global_hints(app), " ", area.width as usize / 2)
    } else {
        (Vec::new(), 0)
    };
    let [l, r] = Layout::horizontal([Fill(1), Length(right_w as u16)]).areas(area);
    left.extend(hint_spans(t, &hints(app, layer), " ", l.width as usize).0);
    frame.render_widget(Paragraph::new(Line::from(left)), l);
    frame.render_widget(Paragraph::new(Line::from(right)), r);
}
