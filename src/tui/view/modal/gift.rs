//! The gift form: five fields, each validated as you type.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::text::sanitize;
use crate::tui::app::App;
use crate::tui::keymap::Layer;
use crate::tui::modal::{GiftField, GiftForm};

use super::super::widgets::{
    centered, field_label, hint_line, input_line, modal_block, under_field,
};

/// Label column width.
const LABEL_W: usize = 11;

pub fn render_gift_form(app: &App, form: &GiftForm, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let popup = centered(area, area.width.saturating_sub(4).min(100), 17);
    let inner = modal_block(t, frame, popup, "Gift a voucher", t.ok);
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                "To an email or a 0x wallet; at most {} {}.",
                app.info.limits.max_amount, "per voucher"
            ),
            t.muted,
        )),
        Line::from(""),
    ];
    for (i, field) in GiftField::ALL.into_iter().enumerate() {
        lines.extend(field_lines(app, form, i, field, inner.width as usize));
    }
    lines.push(Line::from(""));
    lines.push(if form.submitting {
        Line::from(Span::styled(
            format!("{} submitting…", app.spinner()),
            t.info,
        ))
    } else if let Some(e) = &form.form_error {
        Line::from(Span::styled(sanitize(e), t.alarm))
    } else {
        Line::from("")
    });
    lines.push(hint_line(app, Layer::Form));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A field's two lines: label, text and a ✓/✗ once reached; then its error or a word of help.
fn field_lines(
    app: &App,
    form: &GiftForm,
    i: usize,
    field: GiftField,
    width: usize,
) -> [Line<'static>; 2] {
    let t = &app.theme;
    let focused = i == form.focus;
    let mark = match (form.touched[i], form.errors.contains_key(&field)) {
        (true, true) => Span::styled(" ✗", t.error),
        (true, false) => Span::styled(" ✓", t.ok),
        _ => Span::raw("  "),
    };
    let input_w = width.saturating_sub(LABEL_W + 4);
    let error = form
        .shown_error(i)
        .map(|e| format!("{} {}", field.field().name(), sanitize(e)));
    let help = match field {
        GiftField::Note => "optional",
        GiftField::Currency => "ISO 4217, e.g. EUR; empty: USD",
        _ => "",
    };
    [
        Line::from(vec![
            field_label(t, field.label(), LABEL_W, focused),
            input_line(t, form.value(field), focused, input_w),
            mark,
        ]),
        under_field(t, LABEL_W, width, error, help),
    ]
}
