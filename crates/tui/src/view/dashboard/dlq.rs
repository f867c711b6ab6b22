//! The DLQ pane: count, change since the dashboard started, new arrivals, inflow.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use crate::app::App;
use crate::figures::{Connection, DlqFigures, connection, dlq_figures, dlq_inflow};
use crate::focus::Pane;
use crate::keymap::{Action, Layer};

use super::super::fit::{KEEP, Part, fit, title_room};
use super::super::widgets::pane_block;

/// One inflow bar covers this long.
const BUCKET: Duration = Duration::from_secs(10);

pub fn render_dlq(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let key = app.keymap.hint(Layer::Dashboard, Action::DlqBrowser);
    let title = fit(
        vec![
            Part::one(KEEP, Span::styled(" DLQ ", t.title)),
            Part::one(
                KEEP,
                Span::styled(format!("{} ", app.view().info.names.dlq), t.muted),
            ),
            Part::one(1, Span::styled(format!("({key} browse) "), t.muted)),
        ],
        title_room(area.width),
    );
    let block = pane_block(app, Pane::Dlq, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(f) = dlq_figures(app) else {
        frame.render_widget(
            Paragraph::new(format!("{} waiting for the first poll…", app.spinner())),
            inner,
        );
        return;
    };
    let [l1, l2, spark_label, spark] =
        Layout::vertical([Length(1), Length(1), Length(1), Fill(1)]).areas(inner);
    let [first, second] = figure_lines(app, &f);
    let room = usize::from(inner.width);
    frame.render_widget(Paragraph::new(fit(first, room)), l1);
    frame.render_widget(Paragraph::new(fit(second, room)), l2);
    if spark.width > 2 && spark.height > 0 {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(" inflow per 10 s:", t.muted))),
            spark_label,
        );
        let spark = Rect {
            x: spark.x + 1,
            width: spark.width - 2,
            ..spark
        };
        let data = dlq_inflow(app, spark.width as usize, BUCKET);
        frame.render_widget(Sparkline::default().data(&data).style(t.error), spark);
    }
}

/// The count with its change since the dashboard started; the arrivals, flagged when fresh. Narrow,
/// the times go first, then the change; the counts stay.
fn figure_lines(app: &App, f: &DlqFigures) -> [Vec<Part>; 2] {
    let t = &app.view().theme;
    let stale = matches!(connection(app), Connection::Stale { .. });
    let count_style = if stale {
        t.muted
    } else if f.count > 0 {
        t.alarm
    } else {
        t.ok.bold()
    };
    let change_style = match f.change {
        c if c > 0 => t.badge_alarm,
        c if c < 0 => t.ok,
        _ => t.muted,
    };
    let mut first = vec![
        Part::new(
            KEEP,
            vec![
                Span::styled(" messages ", t.label),
                Span::styled(f.count.to_string(), count_style),
            ],
        ),
        Part::new(
            2,
            vec![
                Span::raw("  "),
                Span::styled(format!("{:+}", f.change), change_style),
            ],
        ),
    ];
    if let Some(s) = app.started_at {
        first.push(Part::one(
            1,
            Span::styled(format!(" since {}", s.hms()), t.muted),
        ));
    }
    if stale {
        first.push(Part::one(KEEP, Span::styled(" (stale)", t.error)));
    }
    let mut second = vec![Part::one(
        KEEP,
        Span::styled(format!(" arrivals {}", f.arrivals), t.label),
    )];
    if f.fresh {
        second.push(Part::new(
            3,
            vec![Span::raw(" "), Span::styled(" NEW ", t.badge_warn)],
        ));
        if let Some(at) = app.view().feeds.depth.dlq_last_arrival {
            second.push(Part::one(
                1,
                Span::styled(format!(" last at {}", at.hms()), t.warn),
            ));
        }
    }
    [first, second]
}
