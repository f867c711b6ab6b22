//! Every alarm in full: state, since when, why, and what the rule is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::App;
use crate::keymap::{Action, Layer};
use voucherdeck_core::domain::text::sanitize;

use super::super::widgets::{alarm_state_look, centered, modal_block};

pub fn render_alarms_detail(app: &App, scroll: u16, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let popup = centered(area, 100, 30);
    let inner = modal_block(t, frame, popup, "Alarms", t.info);
    let mut lines = Vec::new();
    match &app.view().feeds.alarms.report {
        None => lines.push(Line::from("not read yet")),
        Some(r) => {
            let how = if r.source == "embedded" {
                "evaluated in process by the embedded engine over 10-second periods, \
                 read every few seconds"
            } else {
                "evaluated by CloudWatch each minute, read once a minute (DescribeAlarms)"
            };
            lines.push(Line::from(Span::styled(how, t.muted)));
            if let Some(why) = &r.unavailable {
                lines.push(Line::from(Span::styled(why.clone(), t.warn)));
            }
            for a in &r.alarms {
                let (mark, word, style) = alarm_state_look(t, a.state);
                lines.push(Line::from(""));
                lines.push(Line::from(vec![
                    Span::styled(format!("{mark} {word} "), style),
                    Span::styled(sanitize(&a.name), t.strong),
                    Span::styled(
                        a.since
                            .map_or_else(String::new, |s| format!("  since {} UTC", s.hms())),
                        t.muted,
                    ),
                ]));
                lines.push(Line::from(Span::styled(
                    format!("  {}", sanitize(&a.reason)),
                    t.text,
                )));
            }
            for (what, names) in [
                ("missing", &r.missing),
                ("differ from the settings", &r.outdated),
            ] {
                if !names.is_empty() {
                    lines.push(Line::from(""));
                    lines.push(Line::from(Span::styled(
                        format!(
                            "{what}: {} (voucherdeck provision --alarms)",
                            names.join(", ")
                        ),
                        t.warn,
                    )));
                }
            }
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        format!("{} close", app.keymap.hint(Layer::Popup, Action::Close)),
        t.muted,
    )));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        inner,
    );
}
