//! The alarms pane: each alarm's state and since when, those in ALARM first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::focus::Pane;
use crate::theme::Theme;
use voucherdeck_core::domain::text::truncate;
use voucherdeck_core::domain::{AlarmState, AlarmStatus};

use super::super::fit::{KEEP, Part, fit, title_room};
use super::super::widgets::{alarm_state_look, pane_block};

pub fn render_alarms(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let a = &app.view().feeds.alarms;
    let source = match a.report.as_ref().map(|r| r.source) {
        Some("embedded") => "in-process ",
        Some(_) => "CloudWatch ",
        None => "",
    };
    let title = fit(
        vec![
            Part::one(KEEP, Span::styled(" Alarms ", t.title)),
            Part::one(1, Span::styled(source, t.muted)),
        ],
        title_room(area.width),
    );
    let block = pane_block(app, Pane::Alarms, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines(app, inner)), inner);
}

/// `text`, muted, wrapped at words to `width` (a command in it is never cut mid-word).
fn note(t: &Theme, text: &str, width: u16) -> Vec<Line<'static>> {
    let room = usize::from(width).saturating_sub(1).max(1);
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= room => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
        .into_iter()
        .map(|l| Line::from(Span::styled(format!(" {l}"), t.muted)))
        .collect()
}

fn lines(app: &App, area: Rect) -> Vec<Line<'static>> {
    let t = &app.view().theme;
    let a = &app.view().feeds.alarms;
    let Some(report) = &a.report else {
        return match &a.last_error {
            Some((e, _)) => vec![Line::from(Span::styled(format!(" {e}"), t.error))],
            None => note(
                t,
                &format!("{} waiting for the first read…", app.spinner()),
                area.width,
            ),
        };
    };
    if let Some(why) = &report.unavailable {
        return note(t, why, area.width);
    }
    if report.alarms.is_empty() {
        return note(t, "none yet: voucherdeck provision --alarms", area.width);
    }
    let mut shown: Vec<&AlarmStatus> = report.alarms.iter().collect();
    shown.sort_by_key(|s| s.state != AlarmState::Alarm);
    let room = usize::from(area.height);
    let more = shown.len().saturating_sub(room);
    let rows = if more > 0 {
        room.saturating_sub(1)
    } else {
        room
    };
    let prefix = format!("{}-", app.view().info.names.queue);
    let mut out: Vec<Line<'static>> = shown
        .iter()
        .take(rows)
        .map(|s| alarm_line(t, s, &prefix, usize::from(area.width)))
        .collect();
    if more > 0 {
        out.push(Line::from(Span::styled(
            format!(" +{} more (enter)", shown.len() - rows),
            t.muted,
        )));
    }
    out
}

/// `● ALARM failure-rate      02:01:10`.
fn alarm_line(t: &Theme, s: &AlarmStatus, prefix: &str, width: usize) -> Line<'static> {
    let (mark, word, style) = alarm_state_look(t, s.state);
    let name = s.name.strip_prefix(prefix).unwrap_or(&s.name);
    // ` ● ALARM  ` takes 10 columns, ` 12:01:10` 9; a narrow pane drops the time.
    let since = s
        .since
        .filter(|_| width >= 34)
        .map_or_else(String::new, |at| format!(" {}", at.hms()));
    let name_w = width.saturating_sub(10 + since.len()).max(4);
    Line::from(vec![
        Span::styled(format!(" {mark} {word:<6} "), style),
        Span::styled(format!("{:<name_w$}", truncate(name, name_w)), t.text),
        Span::styled(since, t.muted),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_wraps_at_words_and_never_cuts_its_command() {
        let text = |lines: Vec<Line<'static>>| -> Vec<String> {
            lines.iter().map(ToString::to_string).collect()
        };
        let narrow = text(note(
            &Theme::default(),
            "none yet: voucherdeck provision --alarms",
            34,
        ));
        assert_eq!(narrow, [" none yet: voucherdeck provision", " --alarms"]);
        assert!(narrow.iter().all(|l| l.chars().count() <= 34), "{narrow:?}");
        let wide = text(note(
            &Theme::default(),
            "none yet: voucherdeck provision --alarms",
            60,
        ));
        assert_eq!(wide, [" none yet: voucherdeck provision --alarms"]);
    }
}
