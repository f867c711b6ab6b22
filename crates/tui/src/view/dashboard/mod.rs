//! The dashboard screen: where each pane goes, and which function draws it. A new pane is a
//! [`Pane`] variant, a place in [`layout`], and its render function here.

mod age;
mod alarms;
mod depth;
mod dlq;
mod failures;
mod heights;
mod intake;
mod worker;

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};

use heights::heights;
use ratatui::layout::{Layout, Rect};

use crate::app::App;
use crate::focus::Pane;

/// Draws every pane in its place.
pub fn render_dashboard(app: &App, frame: &mut Frame, area: Rect) {
    let no_failures = app.view().feeds.failures.records.is_empty();
    for (pane, area) in layout(area, app.intake_shown(), no_failures) {
        render_pane(app, pane, frame, area);
    }
}

fn render_pane(app: &App, pane: Pane, frame: &mut Frame, area: Rect) {
    match pane {
        Pane::Depth => depth::render_depth(app, frame, area),
        Pane::Age => age::render_age(app, frame, area),
        Pane::Dlq => dlq::render_dlq(app, frame, area),
        Pane::Alarms => alarms::render_alarms(app, frame, area),
        Pane::Worker => worker::render_worker(app, frame, area),
        Pane::Intake => intake::render_intake(app, frame, area),
        Pane::Failures => failures::render_failures(app, frame, area),
    }
}

/// Depth and age on top, DLQ, alarms and worker (and the intake API, when one runs here) below,
/// failures filling the rest.
fn layout(area: Rect, intake: bool, no_failures: bool) -> Vec<(Pane, Rect)> {
    let [row_a, row_b, row_c] = heights(area.height, no_failures);
    let [a, b, c] = Layout::vertical([Length(row_a), Length(row_b), Length(row_c)]).areas(area);
    let age_w = (a.width * 2 / 5).clamp(30, 46).min(a.width);
    let [depth, age] = Layout::horizontal([Fill(1), Length(age_w)]).areas(a);
    let mut panes = vec![(Pane::Depth, depth), (Pane::Age, age)];
    if intake {
        let [dlq, alarms, worker, api] =
            Layout::horizontal([Fill(3), Fill(3), Fill(4), Fill(4)]).areas(b);
        panes.extend([
            (Pane::Dlq, dlq),
            (Pane::Alarms, alarms),
            (Pane::Worker, worker),
            (Pane::Intake, api),
        ]);
    } else {
        // Narrow, the DLQ pane gives the alarms room for their longest name (dlq-not-empty).
        let widths = if b.width < 76 {
            [Length(20), Length(24), Fill(1)]
        } else if b.width < 90 {
            [Length(22), Length(25), Fill(1)]
        } else {
            [Fill(3), Fill(3), Fill(4)]
        };
        let [dlq, alarms, worker] = Layout::horizontal(widths).areas(b);
        panes.extend([
            (Pane::Dlq, dlq),
            (Pane::Alarms, alarms),
            (Pane::Worker, worker),
        ]);
    }
    panes.push((Pane::Failures, c));
    panes
}
