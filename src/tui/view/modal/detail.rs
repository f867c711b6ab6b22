//! One failure record in full.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::FailureRecord;
use crate::domain::text::sanitize;

use crate::tui::app::App;
use crate::tui::keymap::{Action, Layer};

use super::super::widgets::{centered, dim, field_line, label, masked, modal_block};

pub fn render_failure_detail(app: &App, r: &FailureRecord, frame: &mut Frame, area: Rect) {
    let popup = centered(area, 90, 18);
    let inner = modal_block(frame, popup, "Failure", Color::Red);
    let permanence = if r.kind.is_permanent() {
        "permanent: sent to the DLQ at once"
    } else {
        "transient: retried with backoff"
    };
    let lines = vec![
        field_line("at", r.at.to_string()),
        field_line("kind", format!("{} ({permanence})", r.kind)),
        field_line(
            "voucher",
            r.voucher_id
                .map_or_else(|| "— (body did not decode)".to_string(), |v| v.to_string()),
        ),
        field_line("recipient", masked(r.recipient.as_deref())),
        field_line("queue", sanitize(&r.queue)),
        field_line("message id", sanitize(&r.message_id)),
        field_line("receive count", r.receive_count.to_string()),
        field_line(
            "dead-lettered",
            if r.dead_lettered {
                "yes".into()
            } else {
                "no".into()
            },
        ),
        field_line("worker", sanitize(&r.worker)),
        field_line("record id", r.record_id.to_string()),
        Line::from(""),
        Line::from(Span::styled("reason", label().add_modifier(Modifier::BOLD))),
        Line::from(Span::styled(
            sanitize(&r.reason),
            Style::new().fg(Color::White),
        )),
        Line::from(""),
        Line::from(Span::styled(
            format!("{} close", app.keymap.hint(Layer::Popup, Action::Close)),
            dim(),
        )),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
