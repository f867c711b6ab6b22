//! Focus between the dashboard's panes. Tab and Shift-Tab move it; the focused pane is drawn as
//! focused and answers the pane-level keys (move, details, filter, grouping, back); every other
//! dashboard key works whatever has the focus.
//!
//! A new pane joins with a variant here (placed in focus order, and its keys in [`Pane::actions`]
//! if it has any), and a render function placed in `view/dashboard`.

use strum::VariantArray;

use super::keymap::Action;

/// The dashboard's panes, declared in focus order (reading order on the screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, VariantArray)]
pub enum Pane {
    Depth,
    Age,
    Dlq,
    Alarms,
    Worker,
    Intake,
    /// The default: the pane with rows to move through.
    #[default]
    Failures,
}

/// The keys that act on the failures table.
const TABLE_ACTIONS: &[Action] = &[
    Action::Filter,
    Action::GroupToggle,
    Action::Details,
    Action::Back,
    Action::Up,
    Action::Down,
    Action::Top,
    Action::Bottom,
];

impl Pane {
    /// Focus order: every pane in declaration order (derived, so a new pane cannot be left out).
    pub const ORDER: &'static [Pane] = Pane::VARIANTS;

    /// The pane-level actions this pane answers when focused.
    pub const fn actions(self) -> &'static [Action] {
        match self {
            Pane::Failures => TABLE_ACTIONS,
            // Details of the DLQ: its browser; of the alarms: each with its reason.
            Pane::Dlq | Pane::Alarms => &[Action::Details],
            Pane::Depth | Pane::Age | Pane::Worker | Pane::Intake => &[],
        }
    }

    pub fn answers(self, action: Action) -> bool {
        self.actions().contains(&action)
    }

    #[must_use]
    pub fn next(self) -> Pane {
        self.step(1)
    }

    #[must_use]
    pub fn prev(self) -> Pane {
        self.step(Pane::ORDER.len() - 1)
    }

    /// The next pane on screen (the Intake pane shows only while an API runs in this process).
    #[must_use]
    pub fn next_shown(self, intake: bool) -> Pane {
        let p = self.next();
        if p == Pane::Intake && !intake {
            p.next()
        } else {
            p
        }
    }

    #[must_use]
    pub fn prev_shown(self, intake: bool) -> Pane {
        let p = self.prev();
        if p == Pane::Intake && !intake {
            p.prev()
        } else {
            p
        }
    }

    fn step(self, by: usize) -> Pane {
        let n = Pane::ORDER.len();
        let at = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ORDER[(at + by) % n]
    }
}

/// Whether an action belongs to a pane (so only the focused pane answers it) rather than to the
/// whole dashboard.
pub fn is_pane_action(action: Action) -> bool {
    Pane::ORDER.iter().any(|p| p.answers(action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_cycles_through_every_pane_both_ways() {
        let mut p = Pane::default();
        let mut seen = Vec::new();
        for _ in 0..Pane::ORDER.len() {
            p = p.next();
            seen.push(p);
        }
        assert_eq!(
            seen,
            Pane::ORDER,
            "Tab from the default visits all in order"
        );
        assert_eq!(Pane::Depth.prev(), Pane::Failures);
        assert_eq!(Pane::Failures.next().prev(), Pane::Failures);
        assert_eq!(Pane::Worker.next_shown(false), Pane::Failures);
        assert_eq!(Pane::Worker.next_shown(true), Pane::Intake);
        assert_eq!(Pane::Failures.prev_shown(false), Pane::Worker);
    }

    #[test]
    fn pane_keys_belong_to_panes_and_the_rest_to_the_dashboard() {
        assert!(is_pane_action(Action::Down));
        assert!(is_pane_action(Action::Details));
        assert!(!is_pane_action(Action::Gift));
        assert!(!is_pane_action(Action::FocusNext));
        assert!(Pane::Dlq.answers(Action::Details));
        assert!(!Pane::Dlq.answers(Action::Down));
    }
}
