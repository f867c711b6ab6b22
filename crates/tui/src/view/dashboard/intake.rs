//! The Intake pane: the HTTP API running in this process — accepted per second, refusals by
//! reason, 401 and 429 answers, p99 latency, audit entries lost, and where it listens (with the
//! demo key's curl line in help). With no API in this process: the servers' figures for the last minute, as they
//! published them (CloudWatch), while one of them published in the last hour.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::focus::Pane;
use voucherdeck_core::domain::short_duration;
use voucherdeck_core::ports::ServersIntake;
use voucherdeck_pipeline::IntakeSnapshot;

use super::super::fit::{KEEP, Part, fit, title_room};
use super::super::widgets::{fmt_rate, pane_block};

pub fn render_intake(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let place = app.view().info.intake.as_ref().map_or_else(
        || match app.view().feeds.intake.servers {
            Some((
                _,
                ServersIntake {
                    as_of: Some(at), ..
                },
            )) => {
                format!("servers · as of {} ", at.hm())
            }
            _ => "servers ".to_string(),
        },
        |i| format!("http://{} ", i.addr),
    );
    let title = fit(
        vec![
            Part::one(KEEP, Span::styled(" Intake ", t.title)),
            Part::one(1, Span::styled(place, t.muted)),
        ],
        title_room(area.width),
    );
    let block = pane_block(app, Pane::Intake, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.view().info.intake.is_none() {
        frame.render_widget(Paragraph::new(servers(app)), inner);
        return;
    }
    let Some((_, s)) = &app.view().feeds.intake.latest else {
        frame.render_widget(
            Paragraph::new(format!("{} waiting for the first reading…", app.spinner())),
            inner,
        );
        return;
    };
    frame.render_widget(Paragraph::new(figures(app, s)), inner);
}

/// Accepted per second, refusals, 401/429 and p99, and where the demo key is.
fn figures(app: &App, s: &IntakeSnapshot) -> Vec<Line<'static>> {
    let t = &app.view().theme;
    let rate = app
        .view()
        .feeds
        .intake
        .accepted_per_second()
        .map_or_else(|| "–".to_string(), fmt_rate);
    let p99 = s.p99.map_or_else(
        || "–".to_string(),
        |d| {
            if d.as_millis() >= 1000 {
                short_duration(d)
            } else {
                format!("{:.1} ms", d.as_secs_f64() * 1000.0)
            }
        },
    );
    let refused: u64 = s.refused.iter().map(|(_, n)| n).sum();
    let reasons = s
        .refused
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let help = Line::from(Span::styled(
        if app
            .view()
            .info
            .intake
            .as_ref()
            .is_some_and(|i| i.demo_key.is_some())
        {
            " ? help: the demo key, a curl line"
        } else {
            " keys: voucherdeck keys create --sender NAME"
        },
        t.muted,
    ));
    // Quiet at zero (last, where a short pane cuts it off); red and above the help when not.
    let lost = audit_lost(app, s.answers.audit_lost);
    let tail = if s.answers.audit_lost == 0 {
        [help, lost]
    } else {
        [lost, help]
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" accepted/s ", t.label),
            Span::styled(rate, t.ok.bold()),
            Span::styled(format!("  total {}", s.accepted), t.muted),
        ]),
        Line::from(vec![
            Span::styled(" refused ", t.label),
            Span::styled(
                refused.to_string(),
                if refused > 0 { t.warn } else { t.muted },
            ),
            Span::styled(format!("  {reasons}"), t.muted),
        ]),
        Line::from(vec![
            Span::styled(" 401 ", t.label),
            Span::styled(
                s.unauthorized.to_string(),
                if s.unauthorized > 0 { t.warn } else { t.muted },
            ),
            Span::styled("  429 ", t.label),
            Span::styled(
                s.answers.throttled.to_string(),
                if s.answers.throttled > 0 {
                    t.warn
                } else {
                    t.muted
                },
            ),
            Span::styled("  p99 ", t.label),
            Span::raw(p99),
        ]),
    ];
    lines.extend(tail);
    lines
}

/// Audit entries lost (could not be written to the audit log): muted at zero, red when not.
fn audit_lost(app: &App, n: u64) -> Line<'static> {
    let t = &app.view().theme;
    if n == 0 {
        return Line::from(Span::styled(" audit lost 0", t.muted));
    }
    Line::from(vec![
        Span::styled(" audit lost ", t.alarm),
        Span::styled(n.to_string(), t.alarm.bold()),
        Span::styled("  entries not in the audit log", t.alarm),
    ])
}

/// The servers' last minute as they published it: requests, 5xx and 429 with their shares, or
/// plainly that there is no data.
fn servers(app: &App) -> Vec<Line<'static>> {
    let t = &app.view().theme;
    let Some((_, read)) = app.view().feeds.intake.servers else {
        return vec![Line::from(format!(
            "{} waiting for the first reading…",
            app.spinner()
        ))];
    };
    let heading = Line::from(Span::styled(" last minute (CloudWatch)", t.muted));
    let Some(m) = read.last_minute else {
        return vec![
            heading,
            Line::from(Span::styled(" no data", t.label.bold())),
            Line::from(Span::styled(" no server published", t.muted)),
            Line::from(Span::styled(" in the last minute", t.muted)),
        ];
    };
    let share = |n: u64| {
        if m.requests == 0 {
            String::new()
        } else {
            format!(" ({:.1}%)", n as f64 * 100.0 / m.requests as f64)
        }
    };
    let bad = |n: u64| if n > 0 { t.warn } else { t.muted };
    vec![
        heading,
        Line::from(vec![
            Span::styled(" requests/min ", t.label),
            Span::styled(m.requests.to_string(), t.ok.bold()),
        ]),
        Line::from(vec![
            Span::styled(" 5xx ", t.label),
            Span::styled(m.server_errors.to_string(), bad(m.server_errors)),
            Span::styled(share(m.server_errors), t.muted),
            Span::styled("  429 ", t.label),
            Span::styled(m.throttled.to_string(), bad(m.throttled)),
            Span::styled(share(m.throttled), t.muted),
        ]),
        audit_lost(app, m.audit_lost),
    ]
}
