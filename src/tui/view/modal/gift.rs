//! The gift form: five fields, each validated as you type.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::text::{sanitize, truncate};

use crate::tui::app::App;
use crate::tui::keymap::Layer;
use crate::tui::modal::{GiftField, GiftForm};

use super::super::widgets::{centered, dim, hint_line, input_line, label, modal_block};

/// Label column width.
const LABEL_W: usize = 11;

pub fn render_gift_form(app: &App, form: &GiftForm, frame: &mut Frame, area: Rect) {
    let popup = centered(area, area.width.saturating_sub(4).min(100), 17);
    let inner = modal_block(frame, popup, "Gift a voucher", Color::Green);
    let input_w = (inner.width as usize).saturating_sub(LABEL_W + 4);
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                "To an email or a 0x wallet; at most {} {}.",
                app.info.limits.max_amount, "per voucher"
            ),
            dim(),
        )),
        Line::from(""),
    ];
    for (i, field) in GiftField::ALL.iter().enumerate() {
        let focused = i == form.focus;
        let name = field.label();
        let label_style = if focused {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            label()
        };
        let mark = match (form.touched[i], form.errors.contains_key(field)) {
            (true, true) => Span::styled(" ✗", Style::new().fg(Color::Red)),
            (true, false) => Span::styled(" ✓", Style::new().fg(Color::Green)),
            _ => Span::raw("  "),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<LABEL_W$}"), label_style),
            input_line(form.value(*field), focused, input_w),
            mark,
        ]));
        lines.push(match form.shown_error(i) {
            Some(e) => Line::from(vec![
                Span::raw(" ".repeat(LABEL_W)),
                Span::styled(
                    truncate(
                        &format!("{} {}", field.field().name(), sanitize(e)),
                        (inner.width as usize).saturating_sub(LABEL_W),
                    ),
                    Style::new().fg(Color::Red),
                ),
            ]),
            None if *field == GiftField::Note => Line::from(vec![
                Span::raw(" ".repeat(LABEL_W)),
                Span::styled("optional", dim()),
            ]),
            None if *field == GiftField::Currency => Line::from(vec![
                Span::raw(" ".repeat(LABEL_W)),
                Span::styled("ISO 4217, e.g. EUR; empty: USD", dim()),
            ]),
            None => Line::from(""),
        });
    }
    lines.push(Line::from(""));
    lines.push(if form.submitting {
        Line::from(Span::styled(
            format!("{} submitting…", app.spinner()),
            Style::new().fg(Color::Cyan),
        ))
    } else if let Some(e) = &form.form_error {
        Line::from(Span::styled(
            sanitize(e),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ))
    } else {
        Line::from("")
    });
    lines.push(hint_line(app, Layer::Form));
    frame.render_widget(Paragraph::new(lines), inner);
}
