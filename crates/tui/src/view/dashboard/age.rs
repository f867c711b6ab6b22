//! Oldest-message age for the queue and the DLQ, against the warn and alarm thresholds.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, SparklineBar, Wrap};

use crate::app::App;
use crate::figures::{AgeView, age_series, age_view, severity};
use crate::focus::Pane;
use voucherdeck_core::domain::short_duration;

use super::super::fit::{KEEP, Part, fit, title_room};
use super::super::widgets::pane_block;

pub fn render_age(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let source =
        if app.view().feeds.age.history.is_empty() && app.view().feeds.age.last_error.is_none() {
            ""
        } else if app.view().feeds.age.exact {
            "exact"
        } else {
            "CloudWatch, 1-min"
        };
    let title = fit(
        vec![
            Part::one(KEEP, Span::styled(" Oldest message ", t.title)),
            Part::one(
                1,
                Span::styled(
                    if source.is_empty() {
                        String::new()
                    } else {
                        format!("({source}) ")
                    },
                    t.muted,
                ),
            ),
        ],
        title_room(area.width),
    );
    let block = pane_block(app, Pane::Age, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let per = ((inner.height.saturating_sub(1)) / 2).max(1);
    let [q_area, d_area, legend] =
        Layout::vertical([Length(per), Length(per), Fill(1)]).areas(inner);
    render_one(app, frame, q_area, false);
    render_one(app, frame, d_area, true);
    let (warn, alarm) = (
        short_duration(app.view().info.ages.warn()),
        short_duration(app.view().info.ages.alarm()),
    );
    let mut legend_text = format!(" warn ≥ {warn} · alarm ≥ {alarm}");
    if legend_text.chars().count() > usize::from(legend.width) {
        legend_text = format!(" warn {warn} · alarm {alarm}");
    }
    let legend_line = Line::from(Span::styled(legend_text, t.muted));
    frame.render_widget(Paragraph::new(legend_line), legend);
}

fn render_one(app: &App, frame: &mut Frame, area: Rect, dlq: bool) {
    let t = &app.view().theme;
    if area.height == 0 {
        return;
    }
    let name = if dlq { "dlq" } else { "queue" };
    let [first, rest] = Layout::vertical([Length(1), Fill(1)]).areas(area);
    let (value, note, style) = match age_view(app, dlq) {
        AgeView::Current { age, as_of } => {
            let note = match as_of {
                Some(t) if !app.view().feeds.age.exact => format!("as of {}", t.hm()),
                _ => String::new(),
            };
            (short_duration(age), note, t.severity(severity(app, age)))
        }
        AgeView::Stale {
            age,
            as_of,
            received,
        } => {
            let when = as_of.unwrap_or(received);
            (
                format!("({})", short_duration(age)),
                format!(
                    "stale: as of {}",
                    if app.view().feeds.age.exact {
                        when.hms()
                    } else {
                        when.hm()
                    }
                ),
                t.muted,
            )
        }
        AgeView::NoData(why) => {
            let line = Line::from(vec![
                Span::styled(format!(" {name:<6}"), t.label),
                Span::styled("no data", t.label.bold()),
            ]);
            frame.render_widget(Paragraph::new(line), first);
            let why = Line::from(Span::styled(format!(" {why}"), t.muted));
            frame.render_widget(Paragraph::new(why).wrap(Wrap { trim: false }), rest);
            return;
        }
    };
    let line = Line::from(vec![
        Span::styled(format!(" {name:<6}"), t.label),
        Span::styled(value, style.bold()),
        Span::raw(" "),
        Span::styled(note, t.muted),
    ]);
    frame.render_widget(Paragraph::new(line), first);
    if rest.height == 0 || rest.width < 3 {
        return;
    }
    let spark_area = Rect {
        x: rest.x + 1,
        width: rest.width - 2,
        height: rest.height.min(3),
        ..rest
    };
    let series = age_series(app, dlq, spark_area.width as usize);
    let bars: Vec<SparklineBar> = series
        .iter()
        .map(|v| match v {
            Some(secs) => SparklineBar::from(*secs)
                .style(Some(t.severity(severity(app, Duration::from_secs(*secs))))),
            None => SparklineBar::from(None::<u64>),
        })
        .collect();
    frame.render_widget(
        Sparkline::default()
            .data(bars)
            .absent_value_symbol("·")
            .absent_value_style(t.muted),
        spark_area,
    );
}
