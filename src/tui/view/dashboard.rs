//! The dashboard screen: its panes and where they go.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Layout, Rect};

use crate::tui::app::App;

use super::age::render_age;
use super::consumer::render_consumer;
use super::depth::render_depth;
use super::dlq::render_dlq;
use super::failures::render_failures;

/// The dashboard's panes: depth and age on top, DLQ and worker below, failures filling the rest.
pub fn render_dashboard(app: &App, frame: &mut Frame, area: Rect) {
    let h = area.height;
    let row_b = 6.min(h);
    let row_a = (((h.saturating_sub(row_b)) * 55) / 100)
        .clamp(7, 16)
        .min(h.saturating_sub(row_b));
    let [a, b, c] = Layout::vertical([Length(row_a), Length(row_b), Fill(1)]).areas(area);
    let age_w = (a.width * 2 / 5).clamp(30, 46).min(a.width);
    let [depth_area, age_area] = Layout::horizontal([Fill(1), Length(age_w)]).areas(a);
    render_depth(app, frame, depth_area);
    render_age(app, frame, age_area);
    let [dlq_area, consumer_area] = Layout::horizontal([Length(b.width / 2), Fill(1)]).areas(b);
    render_dlq(app, frame, dlq_area);
    render_consumer(app, frame, consumer_area);
    render_failures(app, frame, c);
}
