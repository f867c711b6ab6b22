//! The redrive form: destination, scope, body filter, rate.

use crate::domain::limits::REDRIVE_RATE;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::text::{sanitize, truncate};

use crate::tui::app::App;
use crate::tui::keymap::Layer;
use crate::tui::modal::{RedriveField, RedriveForm, ScopeChoice};

use super::super::widgets::{centered, dim, hint_line, input_line, label, modal_block};

const LABEL_W: usize = 15;

pub fn render_redrive_form(app: &App, form: &RedriveForm, frame: &mut Frame, area: Rect) {
    let popup = centered(area, area.width.saturating_sub(4).min(100), 18);
    let inner = modal_block(frame, popup, "Redrive the DLQ", Color::Magenta);
    let input_w = (inner.width as usize).saturating_sub(LABEL_W + 2);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<LABEL_W$}", "Source"), label()),
            Span::styled(
                form.source.clone(),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled("  (the DLQ)", dim()),
        ]),
        Line::from(""),
    ];
    for field in form.fields() {
        let focused = form.focus == field;
        let label_style = if focused {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            label()
        };
        let mut spans = vec![Span::styled(
            format!("{:<LABEL_W$}", field.label()),
            label_style,
        )];
        let help = match field {
            RedriveField::Destination => {
                spans.push(input_line(&form.destination, focused, input_w));
                if form.destination.trim().is_empty() {
                    format!(
                        "empty: back to the original source queue ({})",
                        app.info.names.queue
                    )
                } else {
                    "another queue, by name".to_string()
                }
            }
            RedriveField::Scope => {
                let text = match form.scope {
                    ScopeChoice::Selected => {
                        format!("◀ {} ({}) ▶", form.scope.label(), form.selected.len())
                    }
                    other => format!("◀ {} ▶", other.label()),
                };
                let style = if focused {
                    Style::new().fg(Color::White).bg(Color::Blue)
                } else {
                    Style::new().fg(Color::White)
                };
                spans.push(Span::styled(text, style));
                "←/→ or space to change".to_string()
            }
            RedriveField::Filter => {
                spans.push(input_line(&form.filter, focused, input_w));
                "text the message body must contain".to_string()
            }
            RedriveField::Rate => {
                spans.push(input_line(&form.rate, focused, input_w.min(10)));
                format!(
                    "messages per second, {} to {}; empty: backend default",
                    REDRIVE_RATE.start(),
                    REDRIVE_RATE.end()
                )
            }
        };
        lines.push(Line::from(spans));
        lines.push(match form.errors.get(&field) {
            Some(e) => Line::from(vec![
                Span::raw(" ".repeat(LABEL_W)),
                Span::styled(
                    truncate(&sanitize(e), (inner.width as usize).saturating_sub(LABEL_W)),
                    Style::new().fg(Color::Red),
                ),
            ]),
            None => Line::from(vec![
                Span::raw(" ".repeat(LABEL_W)),
                Span::styled(help, dim()),
            ]),
        });
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "You confirm the count and the destination on the next step.",
        dim(),
    )));
    lines.push(hint_line(app, Layer::Form));
    frame.render_widget(Paragraph::new(lines), inner);
}
