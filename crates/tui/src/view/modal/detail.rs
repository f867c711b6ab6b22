//! One failure record in full.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::App;
use crate::keymap::{Action, Layer};
use voucherdeck_core::domain::FailureRecord;
use voucherdeck_core::domain::text::sanitize;

use super::super::widgets::{centered, field_line, masked, modal_block};

pub fn render_failure_detail(app: &App, r: &FailureRecord, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let popup = centered(area, 90, 18);
    let inner = modal_block(t, frame, popup, "Failure", t.error);
    let permanence = if r.kind.is_permanent() {
        "permanent: sent to the DLQ at once"
    } else {
        "transient: retried with backoff"
    };
    let lines = vec![
        field_line(t, "at", r.at.to_string()),
        field_line(t, "kind", format!("{} ({permanence})", r.kind)),
        field_line(
            t,
            "voucher",
            r.voucher_id
                .map_or_else(|| "— (body did not decode)".to_string(), |v| v.to_string()),
        ),
        field_line(t, "recipient", masked(r.recipient.as_deref())),
        field_line(t, "queue", sanitize(&r.queue)),
        field_line(t, "message id", sanitize(&r.message_id)),
        field_line(t, "receive count", r.receive_count.to_string()),
        field_line(
            t,
            "dead-lettered",
            if r.dead_lettered {
                "yes".into()
            } else {
                "no".into()
            },
        ),
        field_line(t, "worker", sanitize(&r.worker)),
        field_line(t, "record id", r.record_id.to_string()),
        Line::from(""),
        Line::from(Span::styled("reason", t.label.bold())),
        Line::from(Span::styled(sanitize(&r.reason), t.text)),
        Line::from(""),
        Line::from(Span::styled(
            format!("{} close", app.keymap.hint(Layer::Popup, Action::Close)),
            t.muted,
        )),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
