//! The header: backend, where it points, queue names, read-only badge, connection state, clock.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{App, Screen};
use crate::figures::{Connection, connection};
use crate::keymap::{Action, Layer};
use crate::overview::rows;
use voucherdeck_core::backend::BackendKind;
use voucherdeck_core::domain::{outage_words, short_duration};

pub fn render_header(app: &App, frame: &mut Frame, area: Rect) {
    let [top, bottom] = Layout::vertical([Length(1), Length(1)]).areas(area);
    let overview = app.screen == Screen::Overview;
    // On the overview, any pipeline's alarm counts, named with its pipeline.
    let firing: Vec<String> = if overview {
        rows(app)
            .iter()
            .flat_map(|r| {
                let name = r.info.pipeline.clone().unwrap_or_else(|| "default".into());
                r.firing.iter().map(move |a| format!("{name}: {a}"))
            })
            .collect()
    } else {
        app.view()
            .feeds
            .alarms
            .firing()
            .into_iter()
            .map(String::from)
            .collect()
    };
    // Red while an alarm is in ALARM; a production pipeline has its own skin otherwise.
    let skin = match (firing.is_empty(), overview) {
        (false, _) => app.view().theme.header_alarm,
        (true, true) => Style::new(),
        (true, false) => app.view().theme.header,
    };
    frame.render_widget(Paragraph::new("").style(skin), top);
    let right = status_line(app);
    let right_w = (right.width() as u16).min(top.width);
    let [l, r] = Layout::horizontal([Fill(1), Length(right_w)]).areas(top);
    let left = if overview {
        overview_line(app, &firing)
    } else {
        where_line(app, &firing)
    };
    frame.render_widget(Paragraph::new(left).style(skin), l);
    frame.render_widget(Paragraph::new(right).style(skin), r);
    let second = if overview {
        Line::from(Span::styled(
            format!(
                " {} opens a pipeline's dashboard · {} comes back here · each pipeline polled \
                 within its own budget",
                app.keymap.hint(Layer::Overview, Action::Details),
                app.keymap.hint(Layer::Global, Action::Overview)
            ),
            app.view().theme.muted,
        ))
    } else {
        source_line(app)
    };
    frame.render_widget(Paragraph::new(second), bottom);
}

/// The overview's first line: how many pipelines, and the first alarm in ALARM.
fn overview_line(app: &App, firing: &[String]) -> Line<'static> {
    let t = &app.view().theme;
    let mut left = vec![Span::styled(" voucherdeck ", t.badge)];
    alarm_badge(t, firing, &mut left);
    left.push(Span::styled(
        format!(" {} pipelines", app.pipeline_count()),
        t.text.bold(),
    ));
    Line::from(left)
}

/// ` ALARM name +2 ` when something is in ALARM.
fn alarm_badge(t: &crate::theme::Theme, firing: &[String], out: &mut Vec<Span<'static>>) {
    if let Some(first) = firing.first() {
        let more = match firing.len() {
            1 => String::new(),
            n => format!(" +{}", n - 1),
        };
        out.push(Span::raw(" "));
        out.push(Span::styled(
            format!(" ALARM {first}{more} "),
            t.badge_alarm.reversed(),
        ));
    }
}

/// Badges (the alarm in ALARM, production, read-only), pipeline, backend, region, profile and the
/// queue names.
fn where_line(app: &App, firing: &[String]) -> Line<'static> {
    let (info, t) = (&app.view().info, &app.view().theme);
    let name = t.text.bold();
    // The badges come first so a narrow terminal never cuts them.
    let mut left = vec![Span::styled(" voucherdeck ", t.badge)];
    alarm_badge(t, firing, &mut left);
    if info.production {
        left.push(Span::raw(" "));
        left.push(Span::styled(" PRODUCTION ", t.badge_alarm));
    }
    if info.read_only {
        left.push(Span::raw(" "));
        left.push(Span::styled(" READ-ONLY ", t.badge_warn));
    }
    if let Some(p) = &info.pipeline {
        left.push(Span::raw(" "));
        left.push(Span::styled(p.clone(), name));
        left.push(Span::raw(" ·"));
    }
    left.push(Span::raw(" "));
    left.push(Span::styled(info.backend.kind.to_string(), name));
    if let Some(r) = &info.backend.region {
        left.push(Span::raw(format!(" {r}")));
    }
    if let Some(p) = &info.backend.profile {
        left.push(Span::styled(format!(" profile {p}"), t.label));
    }
    left.push(Span::styled(" · queue ", t.label));
    left.push(Span::styled(info.names.queue.clone(), name));
    left.push(Span::styled(" · dlq ", t.label));
    left.push(Span::styled(info.names.dlq.clone(), name));
    Line::from(left)
}

/// Live or stale, and the clock.
fn status_line(app: &App) -> Line<'static> {
    let t = &app.view().theme;
    let conn = if app.screen == Screen::Overview {
        let all = rows(app);
        let down = all.iter().filter(|r| r.unreachable()).count();
        if down == 0 {
            Span::styled(format!("● {} answering", all.len()), t.ok)
        } else {
            Span::styled(format!("● {down} of {} unreachable", all.len()), t.alarm)
        }
    } else {
        pipeline_connection(app)
    };
    let clock = if app.ticks == 0 {
        "--:--:-- UTC".to_string()
    } else {
        format!("{} UTC", app.now.hms())
    };
    Line::from(vec![
        Span::raw(" "),
        conn,
        Span::raw("  "),
        Span::styled(clock, t.strong),
        Span::raw(" "),
    ])
}

/// Live or stale, for the pipeline on screen.
fn pipeline_connection(app: &App) -> Span<'static> {
    let t = &app.view().theme;
    match connection(app) {
        Connection::Connecting => Span::styled(format!("{} connecting", app.spinner()), t.info),
        Connection::Live { age } => {
            Span::styled(format!("● live ({} ago)", short_duration(age)), t.ok)
        }
        Connection::Stale {
            since: Some(age), ..
        } => Span::styled(format!("● STALE ({} old)", short_duration(age)), t.alarm),
        Connection::Stale { since: None, .. } => Span::styled("● NO DATA", t.alarm),
    }
}

/// What the data is and where the figures come from; why it is stale.
fn source_line(app: &App) -> Line<'static> {
    let (info, t) = (&app.view().info, &app.view().theme);
    let mut second = vec![Span::raw(" ")];
    if let Some(o) = &app.view().feeds.depth.outage {
        // Polls fail: since when, and when the next attempt is (it backs off while it fails).
        let words = outage_words(o.unreachable, o.since, app.now.until(o.retry_at));
        second.push(Span::styled(words, t.error.bold()));
        if let Some((e, _)) = &app.view().feeds.depth.last_error {
            second.push(Span::styled(format!(" · {e}"), t.error));
        }
        second.push(Span::styled(" · ", t.muted));
    } else if let Connection::Stale { since, error } = connection(app) {
        let last = app.view().feeds.depth.last_ok.map_or_else(
            || "no poll has answered yet".to_string(),
            |at| format!("last good poll {}", at.hms()),
        );
        second.push(Span::styled(last, t.error));
        if let Some(e) = error {
            second.push(Span::styled(format!(" · {e}"), t.error));
        } else if since.is_some() {
            second.push(Span::styled(" · no answer since", t.error));
        }
        second.push(Span::styled(" · ", t.muted));
    }
    match info.backend.kind {
        BackendKind::Embedded => {
            second.push(Span::styled(
                "in-process demo data, not persisted",
                t.warn.bold(),
            ));
            if info.demo {
                second.push(Span::styled(" · demo traffic on", t.warn));
            }
            second.push(Span::styled(
                " · depth and age: embedded engine (exact)",
                t.muted,
            ));
        }
        BackendKind::Aws => {
            if let Some(e) = &info.backend.endpoint {
                second.push(Span::styled("endpoint ", t.label));
                second.push(Span::raw(e.clone()));
                second.push(Span::styled(" · ", t.muted));
            }
            second.push(Span::styled(
                "depth: SQS queue attributes · age: CloudWatch (1-min)",
                t.muted,
            ));
        }
    }
    Line::from(second)
}
