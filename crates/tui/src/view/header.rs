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

use super::fit::{KEEP, Part, fit};
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
    let room = usize::from(top.width);
    let (left, right) = if overview {
        let right = status_line(app, 0);
        let right_w = right.width().min(room);
        (fit(overview_parts(app, &firing), room - right_w), right)
    } else {
        where_and_status(app, &firing, room)
    };
    let right_w = (right.width() as u16).min(top.width);
    let [l, r] = Layout::horizontal([Fill(1), Length(right_w)]).areas(top);
    frame.render_widget(Paragraph::new(left).style(skin), l);
    frame.render_widget(Paragraph::new(right).style(skin), r);
    let second = if overview {
        fit(
            vec![
                Part::one(
                    KEEP,
                    Span::styled(
                        format!(
                            " {} opens a pipeline's dashboard · {} comes back here",
                            app.keymap.hint(Layer::Overview, Action::Details),
                            app.keymap.hint(Layer::Global, Action::Overview)
                        ),
                        app.view().theme.muted,
                    ),
                ),
                Part::one(
                    1,
                    Span::styled(
                        " · each pipeline polled within its own budget",
                        app.view().theme.muted,
                    ),
                ),
            ],
            usize::from(bottom.width),
        )
    } else {
        fit(source_parts(app), usize::from(bottom.width))
    };
    frame.render_widget(Paragraph::new(second), bottom);
}

/// How far the dashboard's first line is shortened to fit: each level drops one more thing, the
/// least useful first. The badges and the queue names stay (with an ellipsis only past the last).
const SHORT_ALARM: u8 = 1; // the alarm's name without the queue's prefix (the header names the queue)
const SHORT_LIVE: u8 = 2; // live, without the age of the last poll
const NO_PROFILE: u8 = 3;
const NO_REGION: u8 = 4;
const NO_UTC: u8 = 5;
const NO_BACKEND: u8 = 6;
const NO_QUEUE_LABEL: u8 = 7;
const NO_APP_BADGE: u8 = 8;

/// The dashboard's first line in `room` columns, at the first level that fits.
fn where_and_status(app: &App, firing: &[String], room: usize) -> (Line<'static>, Line<'static>) {
    for level in 0..NO_APP_BADGE {
        let (left, right) = (where_line(app, firing, level), status_line(app, level));
        if left.width() + right.width() <= room {
            return (left, right);
        }
    }
    let right = status_line(app, NO_APP_BADGE);
    let right_w = right.width().min(room);
    let left = where_line(app, firing, NO_APP_BADGE);
    (
        fit(vec![Part::new(KEEP, left.spans)], room - right_w),
        right,
    )
}

/// The overview's first line: how many pipelines, and the first alarm in ALARM.
fn overview_parts(app: &App, firing: &[String]) -> Vec<Part> {
    let t = &app.view().theme;
    let mut left = vec![Part::one(KEEP, Span::styled(" voucherdeck ", t.badge))];
    alarm_badge(t, firing, None, &mut left);
    left.push(Part::one(
        KEEP,
        Span::styled(
            format!(" {} pipelines", app.pipeline_count()),
            t.text.bold(),
        ),
    ));
    left
}

/// ` ALARM name +2 ` when something is in ALARM; without `prefix` (the queue's name, which the
/// header already shows) when it is given.
fn alarm_badge(
    t: &crate::theme::Theme,
    firing: &[String],
    prefix: Option<&str>,
    out: &mut Vec<Part>,
) {
    if let Some(first) = firing.first() {
        let more = match firing.len() {
            1 => String::new(),
            n => format!(" +{}", n - 1),
        };
        let name = prefix.and_then(|p| first.strip_prefix(p)).unwrap_or(first);
        out.push(Part::new(
            KEEP,
            vec![
                Span::raw(" "),
                Span::styled(format!(" ALARM {name}{more} "), t.badge_alarm.reversed()),
            ],
        ));
    }
}

/// Badges (the alarm in ALARM, production, read-only), pipeline, backend, region, profile and the
/// queue names, shortened to `level`. The badges come first so a narrow terminal never cuts them.
fn where_line(app: &App, firing: &[String], level: u8) -> Line<'static> {
    let (info, t) = (&app.view().info, &app.view().theme);
    let name = t.text.bold();
    let prefix = format!("{}-", info.names.queue);
    let mut parts = Vec::new();
    if level < NO_APP_BADGE {
        parts.push(Part::one(KEEP, Span::styled(" voucherdeck ", t.badge)));
    }
    alarm_badge(
        t,
        firing,
        (level >= SHORT_ALARM).then_some(prefix.as_str()),
        &mut parts,
    );
    let mut left: Vec<Span<'static>> = parts.into_iter().flat_map(Part::into_spans).collect();
    if level >= NO_APP_BADGE && left.first().is_some_and(|s| s.content == " ") {
        left.remove(0);
    }
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
    if level < NO_BACKEND {
        left.push(Span::raw(" "));
        left.push(Span::styled(info.backend.kind.to_string(), name));
        if let Some(r) = info.backend.region.as_ref().filter(|_| level < NO_REGION) {
            left.push(Span::raw(format!(" {r}")));
        }
        if let Some(p) = info.backend.profile.as_ref().filter(|_| level < NO_PROFILE) {
            left.push(Span::styled(format!(" profile {p}"), t.label));
        }
        left.push(Span::styled(" ·", t.label));
    }
    if level < NO_QUEUE_LABEL {
        left.push(Span::styled(" queue", t.label));
    }
    left.push(Span::styled(format!(" {}", info.names.queue), name));
    left.push(Span::styled(" · dlq ", t.label));
    left.push(Span::styled(info.names.dlq.clone(), name));
    Line::from(left)
}

/// Live or stale, and the clock; shortened to `level` (no age while live, no "UTC").
fn status_line(app: &App, level: u8) -> Line<'static> {
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
        pipeline_connection(app, level >= SHORT_LIVE)
    };
    let clock = if app.ticks == 0 {
        "--:--:-- UTC".to_string()
    } else {
        format!("{} UTC", app.now.hms())
    };
    let clock = if level >= NO_UTC {
        clock.trim_end_matches(" UTC").to_string()
    } else {
        clock
    };
    Line::from(vec![
        Span::raw(" "),
        conn,
        Span::raw("  "),
        Span::styled(clock, t.strong),
        Span::raw(" "),
    ])
}

/// Live or stale, for the pipeline on screen; `short`, live says no age.
fn pipeline_connection(app: &App, short: bool) -> Span<'static> {
    let t = &app.view().theme;
    match connection(app) {
        Connection::Connecting => Span::styled(format!("{} connecting", app.spinner()), t.info),
        Connection::Live { .. } if short => Span::styled("● live", t.ok),
        Connection::Live { age } => {
            Span::styled(format!("● live ({} ago)", short_duration(age)), t.ok)
        }
        Connection::Stale {
            since: Some(age), ..
        } => Span::styled(format!("● STALE ({} old)", short_duration(age)), t.alarm),
        Connection::Stale { since: None, .. } => Span::styled("● NO DATA", t.alarm),
    }
}

/// What the data is and where the figures come from; why it is stale. Narrow, where the figures
/// come from goes first, then the demo traffic and the endpoint; the warnings stay.
fn source_parts(app: &App) -> Vec<Part> {
    let (info, t) = (&app.view().info, &app.view().theme);
    let mut items: Vec<(u8, Vec<Span<'static>>)> = Vec::new();
    if let Some(o) = &app.view().feeds.depth.outage {
        // Polls fail: since when, and when the next attempt is (it backs off while it fails).
        let words = outage_words(o.unreachable, o.since, app.now.until(o.retry_at));
        let mut spans = vec![Span::styled(words, t.error.bold())];
        if let Some((e, _)) = &app.view().feeds.depth.last_error {
            spans.push(Span::styled(format!(" · {e}"), t.error));
        }
        items.push((KEEP, spans));
    } else if let Connection::Stale { since, error } = connection(app) {
        let last = app.view().feeds.depth.last_ok.map_or_else(
            || "no poll has answered yet".to_string(),
            |at| format!("last good poll {}", at.hms()),
        );
        let mut spans = vec![Span::styled(last, t.error)];
        if let Some(e) = error {
            spans.push(Span::styled(format!(" · {e}"), t.error));
        } else if since.is_some() {
            spans.push(Span::styled(" · no answer since", t.error));
        }
        items.push((KEEP, spans));
    }
    match info.backend.kind {
        BackendKind::Embedded => {
            items.push((
                KEEP,
                vec![Span::styled(
                    "in-process demo data, not persisted",
                    t.warn.bold(),
                )],
            ));
            if info.demo {
                items.push((2, vec![Span::styled("demo traffic on", t.warn)]));
            }
            items.push((
                1,
                vec![Span::styled(
                    "depth and age: embedded engine (exact)",
                    t.muted,
                )],
            ));
        }
        BackendKind::Aws => {
            if let Some(e) = &info.backend.endpoint {
                items.push((
                    3,
                    vec![Span::styled("endpoint ", t.label), Span::raw(e.clone())],
                ));
            }
            items.push((
                1,
                vec![Span::styled(
                    "depth: SQS queue attributes · age: CloudWatch (1-min)",
                    t.muted,
                )],
            ));
        }
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, (rank, mut spans))| {
            let sep = if i == 0 { " " } else { " · " };
            spans.insert(0, Span::styled(sep, t.muted));
            Part::new(rank, spans)
        })
        .collect()
}
