//! The header: backend, where it points, queue names, read-only badge, connection state, clock.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::backend::BackendKind;
use crate::domain::short_duration;

use super::widgets::{dim, label};
use crate::tui::app::App;
use crate::tui::figures::{Connection, connection};

fn bold() -> Style {
    Style::new().fg(Color::White).add_modifier(Modifier::BOLD)
}

pub fn render_header(app: &App, frame: &mut Frame, area: Rect) {
    let [top, bottom] = Layout::vertical([Length(1), Length(1)]).areas(area);
    let info = &app.info;
    let badge = |text: &'static str, bg: Color| {
        Span::styled(
            text,
            Style::new()
                .fg(Color::Black)
                .bg(bg)
                .add_modifier(Modifier::BOLD),
        )
    };
    // The READ-ONLY badge comes first so a narrow terminal never cuts it.
    let mut left = vec![badge(" voucherdeck ", Color::Cyan)];
    if info.read_only {
        left.push(Span::raw(" "));
        left.push(badge(" READ-ONLY ", Color::Yellow));
    }
    left.push(Span::raw(" "));
    left.push(Span::styled(info.backend.kind.to_string(), bold()));
    if let Some(r) = &info.backend.region {
        left.push(Span::raw(format!(" {r}")));
    }
    if let Some(p) = &info.backend.profile {
        left.push(Span::styled(format!(" profile {p}"), label()));
    }
    left.push(Span::styled(" · queue ", label()));
    left.push(Span::styled(info.names.queue.clone(), bold()));
    left.push(Span::styled(" · dlq ", label()));
    left.push(Span::styled(info.names.dlq.clone(), bold()));

    let red = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let conn = match connection(app) {
        Connection::Connecting => Span::styled(
            format!("{} connecting", app.spinner()),
            Style::new().fg(Color::Cyan),
        ),
        Connection::Live { age } => Span::styled(
            format!("● live ({} ago)", short_duration(age)),
            Style::new().fg(Color::Green),
        ),
        Connection::Stale {
            since: Some(age), ..
        } => Span::styled(format!("● STALE ({} old)", short_duration(age)), red),
        Connection::Stale { since: None, .. } => Span::styled("● NO DATA", red),
    };
    let clock = if app.ticks == 0 {
        "--:--:-- UTC".to_string()
    } else {
        format!("{} UTC", app.now.hms())
    };
    let right = Line::from(vec![
        Span::raw(" "),
        conn,
        Span::raw("  "),
        Span::styled(clock, Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(" "),
    ]);
    let right_w = (right.width() as u16).min(top.width);
    let [l, r] = Layout::horizontal([Fill(1), Length(right_w)]).areas(top);
    frame.render_widget(Paragraph::new(Line::from(left)), l);
    frame.render_widget(Paragraph::new(right), r);

    // Second line: what the data is and where the figures come from; why it is stale.
    let mut second = vec![Span::raw(" ")];
    if let Connection::Stale { since, error } = connection(app) {
        let last = app.depth.last_ok.map_or_else(
            || "no poll has answered yet".to_string(),
            |t| format!("last good poll {}", t.hms()),
        );
        second.push(Span::styled(last, Style::new().fg(Color::Red)));
        if let Some(e) = error {
            second.push(Span::styled(format!(" · {e}"), Style::new().fg(Color::Red)));
        } else if since.is_some() {
            second.push(Span::styled(
                " · no answer since",
                Style::new().fg(Color::Red),
            ));
        }
        second.push(Span::styled(" · ", dim()));
    }
    match info.backend.kind {
        BackendKind::Embedded => {
            second.push(Span::styled(
                "in-process demo data, not persisted",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ));
            if info.demo {
                second.push(Span::styled(
                    " · demo traffic on",
                    Style::new().fg(Color::Yellow),
                ));
            }
            second.push(Span::styled(
                " · depth and age: embedded engine (exact)",
                dim(),
            ));
        }
        BackendKind::Aws => {
            if let Some(e) = &info.backend.endpoint {
                second.push(Span::styled("endpoint ", label()));
                second.push(Span::raw(e.clone()));
                second.push(Span::styled(" · ", dim()));
            }
            second.push(Span::styled(
                "depth: SQS queue attributes · age: CloudWatch (1-min)",
                dim(),
            ));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(second)), bottom);
}
