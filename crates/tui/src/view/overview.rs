//! The overview: every configured pipeline as one row, most troubled first; Enter opens one.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, TableState};

use crate::app::App;
use crate::figures::Connection;
use crate::overview::{OverviewRow, rows};
use crate::theme::Theme;
use voucherdeck_core::backend::BackendKind;
use voucherdeck_core::domain::text::truncate;
use voucherdeck_core::domain::{AgeLevel, short_duration};

use super::widgets::{column_widths, data_table, pane};

const COLUMNS: [Constraint; 9] = [
    Length(18),
    Length(26),
    Length(14),
    Length(8),
    Length(9),
    Length(8),
    Length(6),
    Length(8),
    Fill(1),
];
/// Figures are right-aligned under their names.
const HEADER: [&str; 9] = [
    "pipeline",
    "where",
    "data",
    " visible",
    "in flight",
    "  oldest",
    "   dlq",
    "alarms",
    "in ALARM",
];

pub fn render_overview(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let rows = rows(app);
    let title = Line::from(vec![
        Span::styled(" All pipelines ", t.title),
        Span::styled(
            format!(
                "{} configured · most troubled first · Enter opens one ",
                rows.len()
            ),
            t.muted,
        ),
    ]);
    let block = pane(t, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [table_area, note] = Layout::vertical([Fill(1), Length(2)]).areas(inner);
    let widths = column_widths(table_area.width, COLUMNS);
    let table_rows: Vec<Row<'static>> = rows.iter().map(|r| row(t, r, &widths)).collect();
    let table = data_table(t, table_rows, COLUMNS, HEADER);
    let mut state = TableState::default().with_selected(Some(app.overview_cursor));
    frame.render_stateful_widget(table, table_area, &mut state);
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(Span::styled(
                " Polling each pipeline on AWS costs 24 SQS, 7 DynamoDB and 2 CloudWatch requests a \
                 minute",
                t.muted,
            )),
            Line::from(Span::styled(
                " One that does not answer is marked, retried with backoff, and never holds up the others",
                t.muted,
            )),
        ]),
        note,
    );
}

/// `embedded`, an endpoint, or `aws eu-west-1 (ops)`.
fn where_(r: &OverviewRow<'_>) -> String {
    let b = &r.info.backend;
    match (b.kind, &b.endpoint, &b.region) {
        (BackendKind::Embedded, ..) => "embedded".into(),
        (_, Some(e), _) => e.clone(),
        (_, None, region) => {
            let region = region.as_deref().unwrap_or("(default)");
            match &b.profile {
                Some(p) => format!("aws {region} ({p})"),
                None => format!("aws {region}"),
            }
        }
    }
}

fn data_cell(t: &Theme, r: &OverviewRow<'_>) -> (String, Style) {
    match &r.connection {
        Connection::Connecting => ("connecting".into(), t.info),
        Connection::Live { .. } => ("● live".into(), t.ok),
        _ if r.unreachable() => ("✗ unreachable".into(), t.alarm),
        Connection::Stale { since, .. } => (
            format!("stale {}", since.map_or_else(String::new, short_duration)),
            t.warn,
        ),
    }
}

/// The alarms in ALARM without the queue's name before them (`failure-rate`).
fn short_names<'a>(r: &OverviewRow<'a>) -> Vec<&'a str> {
    let prefix = format!("{}-", r.info.names.queue);
    r.firing
        .iter()
        .map(|a| a.strip_prefix(prefix.as_str()).unwrap_or(a))
        .collect()
}

fn num(v: Option<u64>) -> String {
    v.map_or_else(|| "—".into(), |n| n.to_string())
}

fn row(t: &Theme, r: &OverviewRow<'_>, widths: &[u16; 9]) -> Row<'static> {
    let name = r.info.pipeline.clone().unwrap_or_else(|| "default".into());
    let name = if r.info.production {
        format!("{name} PROD")
    } else {
        name
    };
    let (data, data_style) = data_cell(t, r);
    let oldest_style = t.severity(r.age_level());
    let alarms = match r.feeds.alarms.report.as_ref() {
        None => "—".to_string(),
        Some(a) if a.unavailable.is_some() => "n/a".into(),
        Some(a) if a.alarms.is_empty() => "none".into(),
        Some(_) if r.firing.is_empty() => "ok".into(),
        Some(_) => format!("{} ALARM", r.firing.len()),
    };
    let alarm_style = if r.firing.is_empty() { t.ok } else { t.alarm };
    let dlq_style = if r.dlq.is_some_and(|n| n > 0) {
        t.warn.bold()
    } else {
        t.text
    };
    let w = |i: usize| widths[i] as usize;
    let cells = vec![
        Cell::from(Span::styled(
            truncate(&name, w(0)),
            if r.info.production {
                t.accent.bold()
            } else {
                t.strong
            },
        )),
        Cell::from(truncate(&where_(r), w(1))),
        Cell::from(Span::styled(data, data_style)),
        Cell::from(format!("{:>8}", num(r.visible))),
        Cell::from(format!("{:>9}", num(r.in_flight))),
        Cell::from(Span::styled(
            format!("{:>8}", r.oldest.map_or_else(|| "—".into(), short_duration)),
            oldest_style,
        )),
        Cell::from(Span::styled(format!("{:>6}", num(r.dlq)), dlq_style)),
        Cell::from(Span::styled(alarms, alarm_style)),
        Cell::from(Span::styled(
            truncate(&short_names(r).join(", "), w(8)),
            t.alarm,
        )),
    ];
    let row = Row::new(cells);
    if r.unreachable() || r.age_level() == AgeLevel::Alarm {
        row.style(t.error)
    } else {
        row
    }
}
