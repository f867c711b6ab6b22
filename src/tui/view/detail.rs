//! One failure record in full.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::FailureRecord;
use crate::domain::text::sanitize;

use super::super::app::App;
use super::super::keymap::{Action, Layer};
use super::{centered, dim, label, modal_block};

pub fn render_failure_detail(app: &App, r: &FailureRecord, frame: &mut Frame, area: Rect) {
    let popup = centered(area, 90, 18);
    let inner = modal_block(frame, popup, "Failure", Color::Red);
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<14}"), label()),
            Span::raw(v),
        ])
    };
    let permanence = if r.kind.is_permanent() {
        "permanent: sent to the DLQ at once"
    } else {
        "transient: retried with backoff"
    };
    let lines = vec![
        kv("at", r.at.to_string()),
        kv("kind", format!("{} ({permanence})", r.kind)),
        kv(
            "voucher",
            r.voucher_id
                .map_or_else(|| "— (body did not decode)".to_string(), |v| v.to_string()),
        ),
        kv("recipient", super::failures::masked(r.recipient.as_deref())),
        kv("queue", sanitize(&r.queue)),
        kv("message id", sanitize(&r.message_id)),
        kv("receive count", r.receive_count.to_string()),
        kv(
            "dead-lettered",
            if r.dead_lettered {
                "yes".into()
            } else {
                "no".into()
            },
        ),
        kv("worker", sanitize(&r.worker)),
        kv("record id", r.record_id.to_string()),
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
