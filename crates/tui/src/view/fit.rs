//! Lines that fit their room: a line is made of parts ranked by importance, and the least important
//! go first (hints before names), whole, so nothing is cut mid-word. A part that must stay (a queue
//! name) is shortened with an ellipsis only when everything else has gone.

use ratatui::text::{Line, Span};
use voucherdeck_core::domain::text::truncate;

/// The rank of a part that is never dropped (it may lose its tail to an ellipsis, last).
pub const KEEP: u8 = u8::MAX;

/// One part of a line: its spans and its rank (lower goes first).
pub struct Part {
    rank: u8,
    spans: Vec<Span<'static>>,
}

impl Part {
    pub fn new(rank: u8, spans: Vec<Span<'static>>) -> Self {
        Self { rank, spans }
    }

    pub fn one(rank: u8, span: Span<'static>) -> Self {
        Self::new(rank, vec![span])
    }

    pub fn into_spans(self) -> Vec<Span<'static>> {
        self.spans
    }

    fn width(&self) -> usize {
        self.spans.iter().map(Span::width).sum()
    }
}

/// The parts that fit in `room` columns, in their order: the lowest-ranked part (the rightmost of
/// equals) is dropped until the rest fits; if the parts that are kept still do not fit, the widest
/// of their spans loses its tail to an ellipsis, one column at a time.
pub fn fit(mut parts: Vec<Part>, room: usize) -> Line<'static> {
    while total(&parts) > room {
        let Some(drop) = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.rank != KEEP)
            .min_by_key(|(i, p)| (p.rank, usize::MAX - i))
            .map(|(i, _)| i)
        else {
            break;
        };
        parts.remove(drop);
    }
    let mut spans: Vec<Span<'static>> = parts.into_iter().flat_map(|p| p.spans).collect();
    let mut over = spans
        .iter()
        .map(Span::width)
        .sum::<usize>()
        .saturating_sub(room);
    while over > 0 {
        let Some(widest) = spans
            .iter_mut()
            .filter(|s| s.content.chars().count() > 2)
            .max_by_key(|s| s.width())
        else {
            break;
        };
        let n = widest.content.chars().count();
        let cut = over.min(n - 2);
        widest.content = truncate(&widest.content, n - cut).into();
        over -= cut;
    }
    Line::from(spans)
}

fn total(parts: &[Part]) -> usize {
    parts.iter().map(Part::width).sum()
}

/// The room a pane's title has: its width less the two corners.
pub fn title_room(width: u16) -> usize {
    usize::from(width.saturating_sub(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn parts() -> Vec<Part> {
        vec![
            Part::one(KEEP, Span::raw(" DLQ ")),
            Part::one(KEEP, Span::raw("vouchers-dlq ")),
            Part::one(1, Span::raw("(d browse) ")),
        ]
    }

    #[test]
    fn everything_stays_when_it_fits() {
        assert_eq!(text(&fit(parts(), 40)), " DLQ vouchers-dlq (d browse) ");
    }

    #[test]
    fn the_hint_goes_before_the_name() {
        assert_eq!(text(&fit(parts(), 20)), " DLQ vouchers-dlq ");
    }

    #[test]
    fn the_lowest_rank_goes_first_then_the_rightmost() {
        let line = fit(
            vec![
                Part::one(KEEP, Span::raw("a")),
                Part::one(2, Span::raw(" bb")),
                Part::one(1, Span::raw(" cc")),
                Part::one(2, Span::raw(" dd")),
            ],
            7,
        );
        assert_eq!(text(&line), "a bb dd");
        let line = fit(
            vec![
                Part::one(KEEP, Span::raw("a")),
                Part::one(2, Span::raw(" bb")),
                Part::one(2, Span::raw(" dd")),
            ],
            5,
        );
        assert_eq!(text(&line), "a bb");
    }

    #[test]
    fn a_name_loses_its_tail_only_as_a_last_resort() {
        let line = fit(parts(), 12);
        assert_eq!(text(&line), " DLQ vouche…");
        assert_eq!(line.width(), 12);
    }
}
