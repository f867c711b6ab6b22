//! The `?` help: every binding of the current screen and the modal layers, from the keymap, plus notes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::App;
use crate::keymap::{Action, Layer};
use voucherdeck_core::domain::short_duration;

use super::super::hints::live_bindings;
use super::super::widgets::{centered, modal_block};

fn section(app: &App, layer: Layer, lines: &mut Vec<Line<'static>>) {
    let t = &app.view().theme;
    lines.push(Line::from(Span::styled(layer.title().to_string(), t.title)));
    for (action, keys) in live_bindings(app, layer) {
        let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
        let disabled = action.is_mutating() && app.view().info.read_only;
        let describe = match action {
            Action::DlqBrowser if app.view().info.read_only => {
                "Open the DLQ browser (read-only: counts, oldest age and the failure log's \
                 dead-lettered records; no peek)"
            }
            _ => action.describe(),
        };
        let mut spans = vec![
            Span::styled(format!("  {:<16}", keys.join(", ")), t.info),
            Span::styled(
                describe.to_string(),
                if disabled { t.muted } else { Style::new() },
            ),
        ];
        if disabled {
            spans.push(Span::styled("  (disabled: read-only)", t.warn));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(""));
}

/// The help's lines (also used by tests).
pub fn help_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.view().theme;
    let mut lines = Vec::new();
    let note = |s: String| Line::from(Span::raw(format!("  {s}")));
    lines.push(Line::from(Span::styled("Notes", t.title)));
    let log = app
        .view()
        .info
        .log_path
        .as_ref()
        .map_or_else(|| "(not logging)".to_string(), |p| p.display().to_string());
    lines.push(Line::from(vec![
        Span::raw("  Log file: "),
        Span::styled(log, t.strong),
    ]));
    lines.push(note(format!(
        "Peeking is a receive: it raises each message's receive count and hides the message for a \
         while. So voucherdeck peeks only the DLQ ({}), with a {} visibility timeout, and releases the \
         messages at once.",
        app.view().info.names.dlq,
        short_duration(app.view().info.peek_visibility)
    )));
    if app.view().info.read_only {
        lines.push(Line::from(Span::styled(
            "  READ-ONLY: gift, redrive, delete, purge, peeking and the worker are disabled. The DLQ \
             browser does not peek: it shows the DLQ's counts and oldest age and the failure log's \
             records of dead-lettered messages.",
            t.warn.bold(),
        )));
    }
    if let Some(intake) = &app.view().info.intake {
        lines.push(note(format!(
            "Intake API on http://{} (in this process).",
            intake.addr
        )));
        if let (Some(key), Some(curl)) = (&intake.demo_key, intake.curl()) {
            lines.push(note(format!("Demo key (sender demo, operator): {key}")));
            lines.push(note(format!("Try: {curl}")));
        }
    }
    lines.push(note(format!(
        "{}: the audit log, every operator's last actions (read when opened, and once a minute).",
        app.keymap.hint(Layer::Global, Action::AuditLog)
    )));
    if app.view().info.is_embedded() {
        lines.push(note(
            "Embedded backend: in-process demo data, not persisted; depth and ages are exact."
                .into(),
        ));
    } else {
        lines.push(note(
            "Depth: SQS queue attributes (approximate, may lag up to a minute). Oldest age: CloudWatch \
             ApproximateAgeOfOldestMessage, a 1-minute figure shown with the minute it describes; an idle \
             queue may have no datapoint."
                .into(),
        ));
    }
    lines.push(note(
        "sent/s is estimated from the change in depth plus what this dashboard's worker removed; other \
         workers' work is not counted."
            .into(),
    ));
    lines.push(note(
        "Keys: ~/.config/voucherdeck/keymap.toml (or --keymap) overlays the defaults below.".into(),
    ));
    lines.push(Line::from(""));
    section(app, app.screen.layer(), &mut lines);
    section(app, Layer::Global, &mut lines);
    for layer in [Layer::Form, Layer::Confirm, Layer::Input, Layer::Popup] {
        section(app, layer, &mut lines);
    }
    lines
}

pub fn render_help(app: &App, scroll: u16, frame: &mut Frame, area: Rect) {
    let popup = centered(
        area,
        area.width.saturating_sub(8).min(100),
        area.height.saturating_sub(4),
    );
    let inner = modal_block(
        &app.view().theme,
        frame,
        popup,
        "Help",
        app.view().theme.info,
    );
    let lines = help_lines(app);
    // Wrapped lines make the real height larger; this bound only keeps scrolling from running away.
    let max_scroll = (lines.len() as u16).saturating_sub(inner.height / 2);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll.min(max_scroll), 0)),
        inner,
    );
}
