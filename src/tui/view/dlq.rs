//! The DLQ pane: count, change since the dashboard started, new arrivals, inflow.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::widgets::{dim, label, pane, title_style};
use crate::tui::app::App;
use crate::tui::figures::{Connection, connection, dlq_figures, dlq_inflow};
use crate::tui::keymap::{Action, Layer};

/// One inflow bar covers this long.
const BUCKET: Duration = Duration::from_secs(10);

pub fn render_dlq(app: &App, frame: &mut Frame, area: Rect) {
    let key = app.keymap.hint(Layer::Dashboard, Action::DlqBrowser);
    let title = Line::from(vec![
        Span::styled(" DLQ ", title_style()),
        Span::styled(format!("{} ({key} browse) ", app.info.names.dlq), dim()),
    ]);
    let block = pane(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(f) = dlq_figures(app) else {
        frame.render_widget(
            Paragraph::new(format!("{} waiting for the first poll…", app.spinner())),
            inner,
        );
        return;
    };
    let stale = matches!(connection(app), Connection::Stale { .. });
    let count_style = if stale {
        dim()
    } else if f.count > 0 {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)
    };
    let since = app
        .started_at
        .map_or_else(String::new, |t| format!(" since {}", t.hms()));
    let change_style = match f.change {
        c if c > 0 => Style::new()
            .fg(Color::Black)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
        c if c < 0 => Style::new().fg(Color::Green),
        _ => dim(),
    };
    let mut first = vec![
        Span::styled(" messages ", label()),
        Span::styled(f.count.to_string(), count_style),
        Span::raw("  "),
        Span::styled(format!("{:+}", f.change), change_style),
        Span::styled(since, dim()),
    ];
    if stale {
        first.push(Span::styled(" (stale)", Style::new().fg(Color::Red)));
    }
    let mut second = vec![Span::styled(format!(" arrivals {}", f.arrivals), label())];
    if f.fresh {
        second.push(Span::raw(" "));
        second.push(Span::styled(
            " NEW ",
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        ));
        if let Some(t) = app.depth.dlq_last_arrival {
            second.push(Span::styled(
                format!(" last at {}", t.hms()),
                Style::new().fg(Color::Yellow),
            ));
        }
    }
    let [l1, l2, spark_label, spark] =
        Layout::vertical([Length(1), Length(1), Length(1), Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(Line::from(first)), l1);
    frame.render_widget(Paragraph::new(Line::from(second)), l2);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(" inflow per 10 s:", dim()))),
        spark_label,
    );
    if spark.width > 2 && spark.height > 0 {
        let spark = Rect {
            x: spark.x + 1,
            width: spark.width - 2,
            ..spark
        };
        let data = dlq_inflow(app, spark.width as usize, BUCKET);
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .style(Style::new().fg(Color::Red)),
            spark,
        );
    }
}
