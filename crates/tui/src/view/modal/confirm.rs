//! Confirm dialogs; irreversible actions ask for the queue name to be typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use voucherdeck_core::domain::text::sanitize;

use crate::app::App;
use crate::keymap::Layer;
use crate::modal::{Confirm, Pending};

use super::super::widgets::{centered, hint_line, input_line, modal_block};

pub fn render_confirm(app: &App, c: &Confirm, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let style = match c.pending {
        Pending::Redrive(_) => t.accent,
        Pending::Resend { .. } => t.warn,
        Pending::Delete { .. } | Pending::Purge { .. } => t.error,
    };
    let height = c.lines.len() as u16
        + if c.type_to_confirm.is_some() { 8 } else { 5 }
        + if c.pending.takes_note() { 3 } else { 0 };
    let popup = centered(area, 76, height);
    let inner = modal_block(t, frame, popup, &c.title, style);
    let mut lines: Vec<Line> = c
        .lines
        .iter()
        .map(|l| Line::from(Span::styled(sanitize(l), t.text)))
        .collect();
    lines.push(Line::from(""));
    if c.counting {
        lines.push(Line::from(Span::styled(
            format!(
                "{} counting: reading every DLQ message once (one receive per 10)…",
                app.spinner()
            ),
            t.info,
        )));
    }
    if let Some(expected) = &c.type_to_confirm {
        lines.push(Line::from(vec![
            Span::raw("Type "),
            Span::styled(expected.clone(), t.warn.bold()),
            Span::raw(" to confirm:"),
        ]));
        lines.push(Line::from(input_line(
            t,
            &c.typed,
            !c.note_focused,
            (inner.width as usize).saturating_sub(2).min(60),
        )));
        lines.push(Line::from(""));
    }
    if c.pending.takes_note() {
        lines.extend(note_lines(app, c, inner.width));
    }
    lines.push(hint_line(app, Layer::Confirm));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The note box: its label (Tab to type, or the rule a note broke), then the note.
fn note_lines(app: &App, c: &Confirm, width: u16) -> [Line<'static>; 3] {
    let t = &app.view().theme;
    let label = match &c.note_error {
        Some(rule) => Span::styled(rule.clone(), t.error),
        None if c.note_focused => Span::styled("Note for the audit log (optional):", t.text),
        None => Span::styled("Tab: add a note for the audit log (optional)", t.muted),
    };
    [
        Line::from(label),
        Line::from(input_line(
            t,
            &c.note,
            c.note_focused,
            (width as usize).saturating_sub(2).min(72),
        )),
        Line::from(""),
    ]
}
