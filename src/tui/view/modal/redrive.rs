//! The redrive form: destination, scope, body filter, rate.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::limits::REDRIVE_RATE;
use crate::tui::app::App;
use crate::tui::keymap::Layer;
use crate::tui::modal::{RedriveField, RedriveForm, ScopeChoice};

use super::super::widgets::{
    centered, field_label, hint_line, input_line, modal_block, under_field,
};

const LABEL_W: usize = 15;

pub fn render_redrive_form(app: &App, form: &RedriveForm, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let popup = centered(area, area.width.saturating_sub(4).min(100), 18);
    let inner = modal_block(t, frame, popup, "Redrive the DLQ", t.accent);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<LABEL_W$}", "Source"), t.label),
            Span::styled(form.source.clone(), t.strong),
            Span::styled("  (the DLQ)", t.muted),
        ]),
        Line::from(""),
    ];
    for field in form.fields() {
        lines.extend(field_lines(app, form, field, inner.width as usize));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "You confirm the count and the destination on the next step.",
        t.muted,
    )));
    lines.push(hint_line(app, Layer::Form));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A field's two lines: label and value; then its error or a word of help.
fn field_lines(
    app: &App,
    form: &RedriveForm,
    field: RedriveField,
    width: usize,
) -> [Line<'static>; 2] {
    let t = &app.theme;
    let focused = form.focus == field;
    let input_w = width.saturating_sub(LABEL_W + 2);
    let (value, help) = match field {
        RedriveField::Destination => (
            input_line(t, &form.destination, focused, input_w),
            if form.destination.trim().is_empty() {
                format!(
                    "empty: back to the original source queue ({})",
                    app.info.names.queue
                )
            } else {
                "another queue, by name".to_string()
            },
        ),
        RedriveField::Scope => {
            let text = match form.scope {
                ScopeChoice::Selected => {
                    format!("◀ {} ({}) ▶", form.scope.label(), form.selected.len())
                }
                other => format!("◀ {} ▶", other.label()),
            };
            let style = if focused { t.input_focused } else { t.text };
            (
                Span::styled(text, style),
                "←/→ or space to change".to_string(),
            )
        }
        RedriveField::Filter => (
            input_line(t, &form.filter, focused, input_w),
            "text the message body must contain".to_string(),
        ),
        RedriveField::Rate => (
            input_line(t, &form.rate, focused, input_w.min(10)),
            format!(
                "messages per second, {} to {}; empty: backend default",
                REDRIVE_RATE.start(),
                REDRIVE_RATE.end()
            ),
        ),
    };
    let error = form.errors.get(&field).cloned();
    [
        Line::from(vec![field_label(t, field.label(), LABEL_W, focused), value]),
        under_field(t, LABEL_W, width, error, &help),
    ]
}
